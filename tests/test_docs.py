"""Every example in the documentation runs, against the sandbox.

Conventions for ``docs/**/*.md``:

- ```` ```python ```` blocks of one page run in order, in one namespace, in a fresh
  temporary working directory, with no ``APSCORES_*`` variables and a null keyring. The
  files of ``docs/examples/`` (e.g. ``credit-policy.csv``) are copied into that directory,
  as if the reader had downloaded them.
- ```` ```pycon ```` blocks (``>>>`` prompts and expected output) run as doctests in the
  same namespace, so their output is checked too.
- ```` ```console ```` blocks: each ``$ apscores ...`` (or ``$ python -m apscores ...``)
  line runs through :func:`apscores.cli.main` (``*`` patterns expanded as a shell would)
  and must exit 0, unless the next lines are ``$ echo $?`` and the expected code. Other
  ``$`` commands (pip, curl...) are not run. Output shown after a command is not compared.
- Anything that must not run uses another fence: ```` ```python title="..." ```` for real
  account examples (a sandbox twin runs next to it), ```` ```shell ```` for commands that
  need an account, a server or the network, ```` ```text ```` for output. A block right
  after ``<!-- skip: reason -->`` is not run either; keep those rare.

Modules under ``src/apscores`` whose docstrings hold ``>>>`` examples run as doctests too,
since CI runs plain ``pytest`` over ``tests/`` only.
"""

from __future__ import annotations

import doctest
import glob
import importlib
import inspect
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import attrs
import pytest

import apscores

DOCS = Path(__file__).resolve().parent.parent / "docs"
#: Facts the code relies on, copied with their sources (service replies, file layouts): no
#: runnable examples, and wire samples shown as they are, however wide.
REFERENCE = DOCS / "reference"
SRC = Path(apscores.__file__).resolve().parent

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_SKIP = re.compile(r"^\s*<!--\s*skip:\s*\S.*-->\s*$")
_DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@attrs.frozen
class Block:
    """One fenced code block of a page: its info string, first content line and text."""

    page: str
    info: str
    line: int
    text: str
    skipped: bool

    @property
    def lang(self) -> str:
        """The fence language; ``python title="x"`` is not ``python``, so it does not run."""
        return self.info.strip()


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, dedented (blocks may sit in admonitions)."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"]
        previous = next((ln for ln in reversed(lines[:index]) if ln.strip()), "")
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            stripped = lines[end].strip()
            if stripped.startswith(fence) and stripped.strip(fence[0]) == "":
                break
            raw = lines[end]
            body.append(raw[len(indent) :] if raw.startswith(indent) else raw.lstrip())
            end += 1
        found.append(
            Block(
                page=path.relative_to(DOCS).as_posix() if path.is_relative_to(DOCS) else path.name,
                info=info,
                line=index + 2,
                text="\n".join(body) + "\n",
                skipped=bool(_SKIP.match(previous)),
            )
        )
        index = end + 1
    return found


def pages() -> list[Path]:
    """Every Markdown page of the site (the changelog is only a snippet include)."""
    return sorted(DOCS.rglob("*.md"))


def _commands(block: Block) -> Iterator[tuple[int, list[str], list[str]]]:
    """``(line, argv, output lines)`` for each ``$`` command of a console block."""
    current: tuple[int, list[str]] | None = None
    output: list[str] = []
    pending = ""
    start = 0
    for offset, raw in enumerate(block.text.splitlines()):
        if pending:
            pending += " " + raw.strip()
        elif raw.startswith("$ "):
            if current is not None:
                yield current[0], current[1], output
            current, output = None, []
            pending, start = raw[2:].strip(), offset
        else:
            output.append(raw)
            continue
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        current, pending = (block.line + start, shlex.split(pending)), ""
    if current is not None:
        yield current[0], current[1], output


def _run_cli(argv: list[str]) -> int:
    from apscores.cli import main

    try:
        return main(argv)
    except SystemExit as exc:  # argparse's --help and usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)


def _expand(args: list[str]) -> list[str]:
    """Expand ``*`` patterns as a shell would (file names carry timestamps)."""
    expanded: list[str] = []
    for arg in args:
        matches = sorted(glob.glob(arg)) if "*" in arg else []
        expanded.extend(matches or [arg])
    return expanded


def _run_console(block: Block, capsys: pytest.CaptureFixture[str]) -> None:
    last: tuple[int, list[str], int] | None = None
    for line, argv, output in _commands(block):
        where = f"{block.page}:{line}"
        if argv == ["echo", "$?"]:
            assert last is not None, f"{where}: `echo $?` with no command before it"
            expected = int(output[0].strip())
            assert last[2] == expected, (
                f"{where}: `{shlex.join(last[1])}` exited {last[2]}, the docs say {expected}"
            )
            last = None
            continue
        if last is not None:
            _expect_success(*last, capsys)
        if argv[:1] == ["apscores"]:
            last = (line, argv, _run_cli(_expand(argv[1:])))
        elif argv[:3] == ["python", "-m", "apscores"]:
            last = (line, argv, _run_cli(_expand(argv[3:])))
        else:
            last = None  # pip, curl, crontab...: shown to the reader, not run here
    if last is not None:
        _expect_success(*last, capsys)


def _expect_success(
    line: int, argv: list[str], code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    if code != 0:
        captured = capsys.readouterr()
        pytest.fail(
            f"line {line}: `{shlex.join(argv)}` exited {code}\n"
            f"stdout:\n{captured.out}\nstderr:\n{captured.err}"
        )


def _run_python(block: Block, namespace: dict[str, object]) -> None:
    # Pad so that tracebacks point at the Markdown line.
    source = "\n" * (block.line - 1) + block.text
    exec(compile(source, str(DOCS / block.page), "exec"), namespace)  # noqa: S102


def _run_pycon(block: Block, namespace: dict[str, object]) -> None:
    test = doctest.DocTestParser().get_doctest(
        block.text, namespace, f"{block.page}:{block.line}", str(DOCS / block.page), block.line
    )
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=_DOCTEST_FLAGS)
    result = runner.run(test, out=out.write, clear_globs=False)
    namespace.update(test.globs)  # DocTest works on a copy; later blocks see its names
    assert result.failed == 0, out.getvalue()


@pytest.fixture
def docs_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean working directory and environment, like a reader's fresh terminal."""
    for name in list(os.environ):
        if name.startswith("APSCORES_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    for example in (DOCS / "examples").glob("*"):
        if example.is_file():
            shutil.copy(example, tmp_path / example.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page", pages(), ids=lambda path: path.name)
def test_page_examples_run(page: Path, docs_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for block in blocks(page):
        if block.skipped:
            continue
        if block.lang == "python":
            _run_python(block, namespace)
        elif block.lang == "pycon":
            _run_pycon(block, namespace)
        elif block.lang == "console":
            _run_console(block, capsys)


def test_blocks_that_do_not_run_still_compile() -> None:
    """A ``python title="..."`` example (real account, user code) must at least parse."""
    for page in pages():
        for block in blocks(page):
            if block.lang.startswith("python") and (block.lang != "python" or block.skipped):
                source = "\n" * (block.line - 1) + block.text
                compile(source, str(page), "exec")  # raises SyntaxError with the line


def test_skips_are_rare_and_explained() -> None:
    skipped = [f"{b.page}:{b.line}" for page in pages() for b in blocks(page) if b.skipped]
    assert len(skipped) <= 5, f"too many skipped examples: {skipped}"


def test_every_guide_has_runnable_examples() -> None:
    runnable = {"python", "pycon", "console"}
    without = [
        page.name
        for page in pages()
        if page.name not in {"api.md", "architecture.md", "changelog.md"}
        and page.parent != REFERENCE
        and not any(b.lang in runnable and not b.skipped for b in blocks(page))
    ]
    assert without == []


def test_block_extractor_handles_indent_titles_and_skips(tmp_path: Path) -> None:
    page = tmp_path / "sample.md"
    page.write_text(
        "Intro\n\n"
        "```python\nx = 1\n```\n\n"
        '```python title="real account"\nx = 2\n```\n\n'
        "!!! note\n\n    ```pycon\n    >>> x\n    1\n    ```\n\n"
        "<!-- skip: needs a server -->\n\n```console\n$ apscores sandbox serve\n```\n",
        encoding="utf-8",
    )
    found = blocks(page)
    assert [(b.lang, b.skipped) for b in found] == [
        ("python", False),
        ('python title="real account"', False),
        ("pycon", False),
        ("console", True),
    ]
    assert found[2].text == ">>> x\n1\n"
    assert found[0].line == 4


def test_console_commands_parse_continuations_and_exit_codes() -> None:
    block = Block(
        page="x.md",
        info="console",
        line=10,
        text="$ apscores fetch --sandbox \\\n    --dest out\nsaved 1 file\n$ echo $?\n0\n",
        skipped=False,
    )
    assert list(_commands(block)) == [
        (10, ["apscores", "fetch", "--sandbox", "--dest", "out"], ["saved 1 file"]),
        (13, ["echo", "$?"], ["0"]),
    ]


def _doctest_modules() -> list[str]:
    names = []
    for path in sorted(SRC.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(SRC.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


class _PublishedFinder(doctest.DocTestFinder):
    """Also finds the examples of a private module's names that its package publishes
    (their ``__module__`` says the package: see ``apscores._public.publish``)."""

    def _from_module(self, module: ModuleType, object: object) -> bool:
        home = getattr(object, "__module__", None)
        if (
            (inspect.isfunction(object) or inspect.isclass(object))
            and isinstance(home, str)
            and module.__name__.startswith(f"{home}._")
        ):
            functions = [object] if inspect.isfunction(object) else list(vars(object).values())
            return any(
                inspect.isfunction(f) and f.__code__.co_filename == module.__file__
                for f in functions
            )
        return bool(super()._from_module(module, object))  # type: ignore[misc]


@pytest.mark.parametrize("module_name", _doctest_modules())
def test_docstring_examples(module_name: str, docs_env: Path) -> None:
    module = importlib.import_module(module_name)
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=_DOCTEST_FLAGS)
    tests = _PublishedFinder().find(module, module_name)
    for test in tests:
        runner.run(test, out=out.write)
    assert runner.failures == 0, out.getvalue()
    assert runner.tries > 0


# -- what published pages may show -----------------------------------------------------

#: The widest line a fenced code block may hold (the code style's line length).
MAX_CODE_WIDTH = 88
#: The one page about the code's own layout, for contributors: it names private modules.
CONTRIBUTOR_PAGES = {"architecture.md"}
_PRIVATE = re.compile(
    r"(?<![\w/])(?:[A-Za-z]\w*\.)+_[a-z]\w*"  # apscores.service._guesses, x._records.Records
    r"|(?<![\w/.])_[a-z]\w*\.py\b"  # _guesses.py
)
_GUESS_LABEL = re.compile(r"\(G\d+\)|^\|\s*G\d+\s*\|", re.MULTILINE)


def test_code_blocks_fit_the_line_length() -> None:
    # The example files shown as they are (a registrar's spreadsheet row is as wide as it is).
    files = {p.read_text(encoding="utf-8").rstrip("\n") for p in (DOCS / "examples").glob("*")}
    wide = [
        f"{block.page}:{block.line + offset} is {len(line)} characters"
        for page in pages()
        if page.parent != REFERENCE
        for block in blocks(page)
        if block.text.rstrip("\n") not in files
        for offset, line in enumerate(block.text.splitlines())
        if len(line) > MAX_CODE_WIDTH
    ]
    assert wide == [], f"code lines wider than {MAX_CODE_WIDTH} characters: {wide}"


def test_published_pages_name_no_private_module_or_guess_label() -> None:
    found = []
    texts = [(p.name, p.read_text(encoding="utf-8")) for p in pages()]
    texts.append(("CHANGELOG.md", (DOCS.parent / "CHANGELOG.md").read_text(encoding="utf-8")))
    for name, text in texts:
        if name in CONTRIBUTOR_PAGES:
            continue
        found += [f"{name}: {m.group(0)}" for m in _PRIVATE.finditer(text)]
        found += [f"{name}: {m.group(0).strip()}" for m in _GUESS_LABEL.finditer(text)]
    assert found == []


def test_the_checker_finds_private_names_and_labels() -> None:
    text = "see `apscores.service._guesses` (G8), _atomic.py and GET /_sandbox/state\n| G3 | x |"
    assert [m.group(0) for m in _PRIVATE.finditer(text)] == [
        "apscores.service._guesses",
        "_atomic.py",
    ]
    assert [m.group(0).strip() for m in _GUESS_LABEL.finditer(text)] == ["(G8)", "| G3 |"]


def test_command_line_page_lists_every_exit_code_as_the_help_does() -> None:
    from apscores.cli import EPILOG
    from apscores.cli.exitcodes import ExitCode

    text = (DOCS / "command-line.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ([A-Z_]+) \|", text, flags=re.MULTILINE)
    assert rows == [(str(int(code)), code.name) for code in ExitCode]
    in_help = [int(n) for n in re.findall(r"(?:^|[\s,])(\d+) [a-z]", EPILOG.split("\n\n")[0])]
    assert in_help == [int(code) for code in ExitCode]


def test_the_hook_variables_are_documented_where_the_hook_is() -> None:
    from apscores.jobs import HOOK_VARIABLES

    for page in ("security.md", "command-line.md"):
        text = (DOCS / page).read_text(encoding="utf-8")
        listed = re.findall(r"^\| `(APSCORES_\w+)` \|", text, flags=re.MULTILINE)
        assert listed == list(HOOK_VARIABLES), page


# -- the docs gate ----------------------------------------------------------------------


def _ci_docs_command(site: Path) -> tuple[list[str], dict[str, str]]:
    """The ``mkdocs build`` line of ``.ci/run``, as argv and extra environment.

    Taken from the script itself, so a flag added there (``--quiet`` hides strict mode's
    warnings, and the build then passes) is a flag this test runs with.
    """
    script = (DOCS.parent / ".ci" / "run").read_text(encoding="utf-8")
    (line,) = [ln for ln in script.splitlines() if re.search(r"\bmkdocs build\b", ln)]
    env: dict[str, str] = {}
    argv: list[str] = []
    for word in shlex.split(line):
        if not argv and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", word):
            name, _, value = word.partition("=")
            env[name] = value
        elif word == "mkdocs" and not argv:
            argv += [sys.executable, "-m", "mkdocs"]
        else:
            argv.append(word.replace("$work/site", str(site)))
    return argv, env


def _copy_of_the_site_sources(tmp_path: Path) -> Path:
    """The files ``mkdocs build`` reads (config, pages, sources, snippets), in a temp copy."""
    root = DOCS.parent
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy2(root / "mkdocs.yml", copy / "mkdocs.yml")
    shutil.copytree(DOCS, copy / "docs")
    for name in ("CHANGELOG.md", "README.md", "LICENSE"):
        shutil.copy2(root / name, copy / name)
    (copy / "src").symlink_to(SRC.parent, target_is_directory=True)
    return copy


@pytest.mark.slow
def test_the_ci_docs_gate_fails_on_a_broken_cross_reference(tmp_path: Path) -> None:
    copy = _copy_of_the_site_sources(tmp_path)
    argv, extra_env = _ci_docs_command(tmp_path / "site")
    assert "--strict" in argv
    env = {**os.environ, **extra_env}

    page = copy / "docs" / "credit-and-merge.md"
    text = page.read_text(encoding="utf-8")
    broken = text.replace("[apscores.errors.PolicyError]", "[apscores.errors.NoSuchError]", 1)
    assert broken != text
    page.write_text(broken, encoding="utf-8")

    done = subprocess.run(argv, cwd=copy, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "apscores.errors.NoSuchError" in done.stdout + done.stderr


# -- what the code cites ----------------------------------------------------------------

_CITATION = re.compile(r"docs/reference/(?P<file>[\w.-]+)(?:``)?(?:\s+(?P<section>§[\d.]+))?")
_OUTSIDE = re.compile(r"shared/reference|\.\./shared|(?<![\w/])(?:web-service|file-layout)\.md")


def _sections(page: Path) -> set[str]:
    """The numbered sections of a reference page, as ``§1``, ``§1.6``..."""
    text = page.read_text(encoding="utf-8")
    return {f"§{n}" for n in re.findall(r"^#{2,3} (\d+(?:\.\d+)?)[.\s]", text, re.MULTILINE)}


def _citations(text: str) -> list[tuple[str, str | None]]:
    return [(m["file"], m["section"]) for m in _CITATION.finditer(text)]


def test_the_code_cites_pages_and_sections_that_exist_in_the_repository() -> None:
    cited = 0
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        # Every outside document the code names is named by its place in the repository.
        bare = [m.group(0) for m in _OUTSIDE.finditer(_CITATION.sub("", text))]
        assert bare == [], f"{path.name} cites {bare} outside docs/reference/"
        for file, section in _citations(text):
            assert (REFERENCE / file).is_file(), f"{path.name} cites a missing {file}"
            if section is not None:
                assert section in _sections(REFERENCE / file), f"{path.name}: {file} {section}"
            cited += 1
    assert cited >= 10


def test_the_citation_checker_sees_sections_and_outside_names() -> None:
    text = "see ``docs/reference/web-service.md`` §12 row 4 and docs/reference/x.csv"
    assert _citations(text) == [("web-service.md", "§12"), ("x.csv", None)]
    assert _OUTSIDE.findall("as web-service.md says; ../shared/reference") == [
        "web-service.md",
        "../shared",
    ]
    assert {"§1", "§1.6", "§12"} <= _sections(REFERENCE / "file-layout.md") | _sections(
        REFERENCE / "web-service.md"
    )


def test_the_readme_lists_every_exit_code() -> None:
    from apscores.cli.exitcodes import ExitCode

    text = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    table = text.split("| exit code | meaning |", 1)[1].split("\n\n", 1)[0]
    codes = [int(n) for n in re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)]
    assert sorted(codes) == sorted(int(code) for code in ExitCode)


def test_example_files_shown_in_pages_are_the_files_themselves() -> None:
    """Pages show the example files inline (GitHub shows no include), and say them as the
    files are: a code block that follows a link to ``examples/NAME`` is that file."""
    shown = 0
    for page in DOCS.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"\(examples/([\w.-]+)\)[^`]*?\n```\w+\n(.*?)\n```", text, re.S):
            name, body = match.groups()
            assert body == (DOCS / "examples" / name).read_text(encoding="utf-8").rstrip("\n"), (
                f"{page.name} shows examples/{name} differently from the file"
            )
            shown += 1
    assert shown >= 3
