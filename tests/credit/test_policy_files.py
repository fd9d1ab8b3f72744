"""Policy and student-system map files that are not what they should be: one clear error.

Excel on Windows saves cp1252, "Unicode Text" is UTF-16, a PDF is given by mistake, a TOML
file is nested 100,000 deep or holds a list where text belongs: each is a PolicyError (or a
MapError) naming the file, never a UnicodeDecodeError, a RecursionError or Python text.
"""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apscores import CreditPolicy
from apscores.cli import main
from apscores.cli.exitcodes import ExitCode
from apscores.errors import MapError, ParseError, PolicyError
from apscores.export import load_map
from apscores.files import write_txt
from apscores.sandbox import fake_reports

CSV_POLICY = "exam_code,min_score,course,credit_hours,note\n07,4,HIST 101 Café,3,\n"
TOML_POLICY = '[[rule]]\nexam_code = "07"\nmin_score = 4\ncourse = "HIST 101"\ncredit_hours = 3\n'
MAP = '[columns]\nap_id = "ap_id"\nexam_code = "exam_code"\n'
DEEP = "a = " + "[" * 100_000 + "]" * 100_000 + "\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "line", "reason"),
    [
        ("p.csv", CSV_POLICY.encode("cp1252"), 2, "probably Windows-1252 (cp1252"),
        ("p.csv", CSV_POLICY.encode("latin-1"), 2, "probably Windows-1252 (cp1252"),
        ("p.csv", CSV_POLICY.encode("utf-16"), 1, "is UTF-16 text"),
        ("p.toml", TOML_POLICY.encode("utf-16"), 1, "is UTF-16 text"),
        ("p.csv", b"%PDF-1.7\n%\xb5\xb5\xb5\xb5\n", 1, "is a PDF document, not a credit policy"),
    ],
)
def test_a_policy_that_is_not_utf8_text_is_a_policy_error_naming_the_file(
    tmp_path: Path, name: str, data: bytes, line: int, reason: str
) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(PolicyError) as info:
        CreditPolicy.from_file(path)
    error = info.value
    assert (error.file, error.line) == (str(path), line)
    assert reason in error.reason
    assert str(error).startswith(f"{path}: line {line}: the policy ")
    assert error.__cause__ is None  # no UnicodeDecodeError chained behind it


def test_a_utf8_bom_is_accepted_in_toml_as_in_csv(tmp_path: Path) -> None:
    plain = CreditPolicy.from_file(write(tmp_path, "a.toml", TOML_POLICY.encode()))
    marked = CreditPolicy.from_file(
        write(tmp_path, "b.toml", codecs.BOM_UTF8 + TOML_POLICY.encode())
    )
    assert marked.rules == plain.rules
    from_csv = CreditPolicy.from_file(
        write(tmp_path, "c.csv", codecs.BOM_UTF8 + CSV_POLICY.encode())
    )
    assert [rule.course for rule in from_csv.rules] == ["HIST 101 Café"]


def test_a_toml_policy_nested_100k_deep_is_a_policy_error(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.toml", DEEP.encode())
    with pytest.raises(PolicyError, match="not valid TOML: arrays or tables are nested too deeply"):
        CreditPolicy.from_file(path)


@pytest.mark.parametrize(
    ("line", "key", "why"),
    [
        ('course = ["BIO 101", "x"]', "course", "course must be text, not a list"),
        ("note = {a=1}", "note", "note must be text, not a table"),
        ("course = 1.5", "course", "course must be text, not a decimal number"),
        ("credit_hours = [3]", "credit_hours", "credit_hours must be a number, not a list"),
        ("min_score = true", "min_score", "min_score must be a number, not true or false"),
        ("note = 2024-05-15", "note", "note must be text, not a TOML date"),
    ],
)
def test_toml_values_that_are_not_text_or_numbers_are_refused_by_file_line_and_key(
    tmp_path: Path, line: str, key: str, why: str
) -> None:
    kept = [ln for ln in TOML_POLICY.splitlines() if not ln.startswith(f"{key} ")]
    text = "\n".join([*kept, line]) + "\n"
    path = write(tmp_path, "p.toml", text.encode())
    with pytest.raises(PolicyError) as info:
        CreditPolicy.from_file(path)
    assert (info.value.file, info.value.line, info.value.field) == (str(path), len(kept) + 1, key)
    assert info.value.reason == f"[[rule]] number 1: {why}"
    assert info.value.raw == line


def test_a_bad_value_in_an_inline_rule_is_named_by_its_key(tmp_path: Path) -> None:
    text = 'rule = [{exam_code = "07", min_score = 4, course = ["x"], credit_hours = 3}]\n'
    with pytest.raises(PolicyError) as info:
        CreditPolicy.from_file(write(tmp_path, "p.toml", text.encode()))
    assert (info.value.line, info.value.field, info.value.raw) == (None, "course", "course")
    assert info.value.reason == "[[rule]] number 1: course must be text, not a list"


def test_an_integer_course_or_exam_code_is_still_text(tmp_path: Path) -> None:
    text = TOML_POLICY.replace('"07"', "7").replace('"HIST 101"', "101")
    (rule,) = CreditPolicy.from_file(write(tmp_path, "p.toml", text.encode())).rules
    assert (rule.exam_code, rule.course) == ("07", "101")


@pytest.mark.parametrize("suffix", [".csv", ".toml"])
@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=200))
def test_any_bytes_as_a_policy_load_or_raise_a_parse_error(suffix: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"policy{suffix}"
        path.write_bytes(data)
        try:
            CreditPolicy.from_file(path)
        except ParseError as error:  # PolicyError or MissingColumnsError, naming the file
            message = str(error)
        else:
            message = ""
    assert message == "" or message.startswith(str(path))


# -- the student-system map -------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (MAP.replace("ap_id", "ap_id_é", 1).encode("cp1252"), "the map is not UTF-8 text"),
        (MAP.encode("utf-16"), "the map is UTF-16 text"),
        (b"%PDF-1.4\n", "the map is a PDF document, not a student-system map"),
        (DEEP.encode(), "not valid TOML: arrays or tables are nested too deeply"),
    ],
)
def test_a_map_that_cannot_be_read_is_a_map_error_naming_the_file(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    path = write(tmp_path, "map.toml", data)
    with pytest.raises(MapError) as info:
        load_map(path)
    assert info.value.file == str(path)
    assert reason in info.value.reason


def test_a_map_with_a_bom_loads_like_one_without(tmp_path: Path) -> None:
    plain = load_map(write(tmp_path, "a.toml", MAP.encode()))
    assert load_map(write(tmp_path, "b.toml", codecs.BOM_UTF8 + MAP.encode())) == plain


@pytest.mark.parametrize("value", ["[1, 2]", "{ a = 1 }", "true"])
def test_fixed_text_of_a_map_column_is_text(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, "map.toml", (MAP + f"source = {{ text = {value} }}\n").encode())
    with pytest.raises(MapError, match="unknown value for column 'source'") as info:
        load_map(path)
    assert info.value.line == 4


# -- the command line -------------------------------------------------------------------


@pytest.fixture
def scores(tmp_path: Path) -> Path:
    path = tmp_path / "scores.txt"
    write_txt(fake_reports(3), path)
    return path


@pytest.mark.parametrize("command", ["credit", "export"])
def test_the_command_line_says_one_line_and_exits_2(
    tmp_path: Path, scores: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    option = "--policy" if command == "credit" else "--map"
    given_file = write(tmp_path, "given.toml", TOML_POLICY.encode("cp1252").replace(b"1", b"\x92"))
    out = tmp_path / "out.csv"
    code = main([command, str(scores), option, str(given_file), "-o", str(out)])
    assert code == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith(f"apscores: {given_file}: line ")
    assert "cp1252" in captured.err
    assert "Traceback" not in captured.err
    assert not out.exists()
