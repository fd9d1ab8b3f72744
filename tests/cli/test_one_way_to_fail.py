"""One way to fail, for every command: each failure has one exit code (the README's table is
the contract) and one message, ``apscores: <what>: <why>``, naming the path or option the
user gave, on one line, without a traceback or a temporary file's name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from apscores.cli import main
from apscores.cli.exitcodes import ExitCode
from apscores.files import write_txt
from apscores.sandbox import fake_reports

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
POLICY = EXAMPLES / "credit-policy.csv"
MAP = EXAMPLES / "generic-map.toml"
ROSTER = EXAMPLES / "roster.csv"
ROSTER_MAP = EXAMPLES / "roster-map.toml"

#: Each command, given its input file(s) and its output path.
COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "read": lambda score, out: ["read", str(score)],
    "check": lambda score, out: ["check", str(score)],
    "convert": lambda score, out: ["convert", str(score), "-o", str(out)],
    "merge": lambda score, out: ["merge", str(score), "-o", str(out)],
    "credit": lambda score, out: ["credit", str(score), "--policy", str(POLICY), "-o", str(out)],
    "export": lambda score, out: ["export", str(score), "--map", str(MAP), "-o", str(out)],
    "match": lambda score, out: [
        "match",
        str(score),
        "--roster",
        str(ROSTER),
        "--roster-map",
        str(ROSTER_MAP),
        "-o",
        str(out),
    ],
}
#: Commands that write an output file.
WRITERS = ("convert", "merge", "credit", "export", "match")


@pytest.fixture
def score(tmp_path: Path) -> Path:
    path = tmp_path / "scores.txt"
    write_txt(fake_reports(5, seed=3), path)
    return path


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert ".part-" not in err  # never a temporary name the user did not type
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("apscores: "), err
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_input_file_is_exit_2_naming_it(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.txt"
    code = main(COMMANDS[command](missing, tmp_path / "out.csv"))
    if command == "check":  # a verdict per file, on stdout
        assert code == ExitCode.USAGE
        assert capsys.readouterr().out == f"{missing}: INVALID: no such file\n"
        return
    assert code == ExitCode.USAGE
    assert one_line(capsys) == f"apscores: {missing}: no such file"


@pytest.mark.parametrize("command", ["read", "convert", "merge", "credit", "export", "match"])
def test_a_folder_given_as_a_file_is_exit_2(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(COMMANDS[command](tmp_path, tmp_path / "out.csv")) == ExitCode.USAGE
    assert one_line(capsys) == f"apscores: {tmp_path}: is a folder, not a file"


@pytest.mark.parametrize(
    ("command", "option", "argument"),
    [
        ("credit", "--policy", POLICY),
        ("export", "--map", MAP),
        ("match", "--roster", ROSTER),
        ("match", "--roster-map", ROSTER_MAP),
    ],
)
def test_a_missing_option_file_names_the_option(
    command: str,
    option: str,
    argument: Path,
    score: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = COMMANDS[command](score, tmp_path / "out.csv")
    argv[argv.index(str(argument))] = str(tmp_path / "gone")
    assert main(argv) == ExitCode.USAGE
    assert one_line(capsys) == f"apscores: {option} {tmp_path / 'gone'}: no such file"


@pytest.mark.parametrize("command", WRITERS)
def test_an_output_that_cannot_be_written_is_exit_7_naming_it(
    command: str, score: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    out = blocker / "out.csv"  # its folder is a file: no user, root included, can write it
    assert main(COMMANDS[command](score, out)) == ExitCode.STORAGE
    line = one_line(capsys)
    written = blocker / ".apscores-crosswalk.sqlite3" if command == "match" else out
    assert line.startswith(f"apscores: {written}: "), line  # match writes its crosswalk first
    assert not out.exists()


@pytest.mark.parametrize("command", ["read", "convert", "merge", "credit", "export", "match"])
def test_a_damaged_score_file_is_exit_2_naming_file_and_line(
    command: str, score: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = score.read_bytes().splitlines(keepends=True)
    score.write_bytes(lines[0] + lines[1][:500] + b"\n" + b"".join(lines[2:]))
    assert main(COMMANDS[command](score, tmp_path / "out.csv")) == ExitCode.USAGE
    line = one_line(capsys)
    assert line.startswith(f"apscores: {score}: line 2")


def test_failures_are_json_lines_with_json_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.txt"
    assert main(["read", "--log-format", "json", str(missing)]) == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["level"] == "error"
    assert record["message"] == f"{missing}: no such file"


def test_fetch_into_a_folder_that_cannot_be_made_is_exit_7(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    dest = blocker / "scores"
    assert main(["fetch", "--sandbox", "--di", "1234", "--dest", str(dest)]) == ExitCode.STORAGE
    assert one_line(capsys) == f"apscores: {dest}: cannot create --dest (Not a directory)"


def test_a_bad_di_code_names_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", "--sandbox", "--di", "12", "--dest", "unused"]) == ExitCode.USAGE
    assert one_line(capsys) == "apscores: --di 12: a DI code is 4 digits, like 1234"


@pytest.mark.parametrize(
    ("command", "header"),
    [
        (
            "credit",
            "exam_code;exam_name;min_score;admin_year_from;admin_year_to;course;credit_hours",
        ),
        ("match", "Banner ID;Last Name;First Name;Birth Date"),
    ],
)
def test_a_semicolon_csv_is_named_as_one(
    command: str, header: str, score: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel saves "CSV" with semicolons where the decimal mark is a comma."""
    table = tmp_path / "excel.csv"
    table.write_text(header + "\n" + ";".join("x" for _ in header.split(";")) + "\n")
    argv = COMMANDS[command](score, tmp_path / "out.csv")
    argv[argv.index(str(POLICY if command == "credit" else ROSTER))] = str(table)
    if command == "match":
        del argv[argv.index("--roster-map") : argv.index("--roster-map") + 2]
    assert main(argv) == ExitCode.USAGE
    line = one_line(capsys)
    assert line.startswith(f"apscores: {table}: line 1: the header is separated by semicolons")
    assert "save it as comma-separated CSV" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["merge", "{missing}", "-o", "{out}"],
        ["credit", "{missing}", "--policy", "{missing}", "-o", "{out}"],
        ["export", "{missing}", "--map", "{missing}", "-o", "{out}"],
        ["match", "{missing}", "--roster", "{missing}", "-o", "{out}"],
        ["ledger", "--dest", "{missing}"],
    ],
    ids=lambda argv: argv[0],
)
def test_every_command_takes_the_logging_options(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cron line is written the same way whatever it runs: -q, -v and --log-format."""
    names = {"missing": str(tmp_path / "nope"), "out": str(tmp_path / "out.csv")}
    filled = [part.format(**names) for part in argv]
    assert main([*filled, "-q", "--log-format", "json"]) == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["level"] == "error"
    assert names["missing"] in record["message"]
    assert main([*filled, "-v"]) == ExitCode.USAGE
    assert capsys.readouterr().err.startswith("apscores: ")


def test_sandbox_serve_takes_the_logging_options() -> None:
    from apscores.cli import build_parser

    args = build_parser("sandbox").parse_args(["sandbox", "serve", "-q", "--log-format", "json"])
    assert (args.quiet, args.verbose, args.log_format) == (True, False, "json")
