"""Reading rosters: column names, maps, dates, encodings, XLSX, and one-line errors."""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import importlib
import pickle
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apscores.errors import ConfigurationError, ParseError, RosterError
from apscores.matching import RosterEntry, load_roster_map, read_roster
from apscores.matching._roster import parse_date

HEADER = "Student ID,Last Name,first-name,BIRTH_DATE,Sex,ZIP,AP ID,HS Code\n"


def write(tmp_path: Path, text: str, name: str = "roster.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_recognised_columns_any_case_spaces_or_hyphens(tmp_path: Path) -> None:
    text = "SIS ID,Last Name,first-name,BIRTH_DATE,Sex,ZIP,AP ID,HS Code\n"
    text += "S1,Müller,Jürgen,3/15/2007,Male,7030,A1;B2,310000\n"
    roster = read_roster(write(tmp_path, text))
    assert roster.entries == (
        RosterEntry("S1", "Müller", "Jürgen", "", dt.date(2007, 3, 15), "M", "07030", "310000"),
    )
    assert roster.ap_ids == {"A1": frozenset({"S1"}), "B2": frozenset({"S1"})}
    assert roster.entries[0].line == 2
    assert repr(roster).endswith(": 1 row(s)>")


def test_a_roster_map_names_other_headers(tmp_path: Path) -> None:
    roster_map = write(tmp_path, '[columns]\nsis_id = "Banner ID"\nbirth_date = "DOB"\n', "m.toml")
    columns = load_roster_map(roster_map)
    text = "Banner ID,Last Name,First Name,DOB\nB00001,Smith,John,2007-03-15\n"
    roster = read_roster(write(tmp_path, text), columns=columns)
    assert roster.sis_ids == {"B00001"}
    assert roster.entries[0].birth_date == dt.date(2007, 3, 15)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[columns]\nstudent = 'X'\n", "columns.student"),
        ("[columns]\nsis_id = ''\n", "columns.sis_id"),
        ("[other]\n", "other"),
        ("columns = 3\n", "columns"),
    ],
)
def test_a_bad_roster_map_names_the_key(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(RosterError) as caught:
        load_roster_map(write(tmp_path, text, "m.toml"))
    assert caught.value.field == field
    assert "m.toml" in str(caught.value)


def test_a_roster_map_that_is_not_toml(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="not TOML"):
        load_roster_map(write(tmp_path, "[columns\n", "m.toml"))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2007-03-15", dt.date(2007, 3, 15)),
        ("2007-3-5", dt.date(2007, 3, 5)),
        ("2007-03-15T00:00:00", dt.date(2007, 3, 15)),
        ("3/15/2007", dt.date(2007, 3, 15)),
        ("03/15/2007 12:00 AM", dt.date(2007, 3, 15)),
        ("39156", dt.date(2007, 3, 15)),
        ("39156.0", dt.date(2007, 3, 15)),
        (dt.date(2007, 3, 15), dt.date(2007, 3, 15)),
        ("  ", None),
    ],
)
def test_dates_iso_us_and_excel(cell: str | dt.date, expected: dt.date | None) -> None:
    assert parse_date(cell) == expected


@pytest.mark.parametrize("cell", ["15/03/2007", "2007-02-30", "March 15", "3/15/07"])
def test_a_bad_date_names_file_line_and_column_never_the_value(tmp_path: Path, cell: str) -> None:
    text = "sis_id,last_name,first_name,birth_date\nS1,A,B,2007-01-01\nS2,Smith,John," + cell
    with pytest.raises(RosterError) as caught:
        read_roster(write(tmp_path, text + "\n"))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'roster.csv'}: line 3, field 'birth_date': ")
    assert cell not in message
    assert (caught.value.line, caught.value.field) == (3, "birth_date")


def test_no_sis_id_column(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match=r"line 1, field 'sis_id': no sis_id column"):
        read_roster(write(tmp_path, "id,last_name\n1,Smith\n"))


def test_a_row_without_a_sis_id(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match=r"line 3, field 'sis_id': no SIS ID"):
        read_roster(write(tmp_path, "sis_id,last_name\nS1,A\n,Smith\n"))


def test_one_sis_id_with_two_birth_dates(tmp_path: Path) -> None:
    text = "sis_id,last_name,birth_date\nS1,A,2007-01-01\nS2,B,\nS1,A,2007-01-02\n"
    with pytest.raises(RosterError, match=r"line 4, field 'birth_date': SIS ID S1 has another"):
        read_roster(write(tmp_path, text))


def test_several_rows_of_one_student_share_the_birth_date(tmp_path: Path) -> None:
    text = "sis_id,last_name,first_name,birth_date,ap_id\nS1,Smith,Ann,2007-01-01,A1\n"
    text += "S1,Smith-Jones,Ann,,B1\n"
    roster = read_roster(write(tmp_path, text))
    assert [e.birth_date for e in roster.entries] == [dt.date(2007, 1, 1)] * 2
    assert set(roster.ap_ids) == {"A1", "B1"}


@pytest.mark.parametrize("text", ["", "sis_id,last_name\n", "sis_id,last_name\n,\n \n"])
def test_an_empty_roster(tmp_path: Path, text: str) -> None:
    with pytest.raises(RosterError, match="no student rows"):
        read_roster(write(tmp_path, text))


def test_a_row_wider_than_the_header(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="line 2: 3 cells, the header has 2"):
        read_roster(write(tmp_path, "sis_id,last_name\nS1,A,extra\n"))


def test_a_short_row_has_blanks(tmp_path: Path) -> None:
    roster = read_roster(write(tmp_path, "sis_id,last_name,first_name\nS1,Smith\n"))
    assert roster.entries[0].first_name == ""


def test_non_utf8_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "sis_id,last_name\nS1,Smith\nS2,Müller\n", encoding="cp1252")
    with pytest.raises(RosterError) as caught:
        read_roster(path)
    message = str(caught.value)
    assert "line 3: byte 0xfc at character 5 is not UTF-8" in message
    assert "--encoding cp1252" in message
    assert read_roster(path, encoding="cp1252").entries[1].last_name == "Müller"


def test_a_wrong_explicit_encoding_has_no_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "sis_id,last_name\nS1,Müller\n", encoding="cp1252")
    with pytest.raises(RosterError) as caught:
        read_roster(path, encoding="utf-8")
    assert "--encoding" not in str(caught.value)


def test_an_unknown_encoding(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown encoding"):
        read_roster(write(tmp_path, "sis_id\nS1\n"), encoding="klingon")


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_byte_order_marks_are_detected(tmp_path: Path, bom: bytes, codec: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(bom + "sis_id,last_name\nS1,Ørsted\n".encode(codec))
    assert read_roster(path).entries[0].last_name == "Ørsted"


def test_xlsx_rosters_keep_dates_and_numbers(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["SIS ID", "Last Name", "First Name", "Birth Date", "ZIP"])
    sheet.append([1001, "Müller", "Jürgen", dt.datetime(2007, 3, 15), 7030])
    sheet.append([None, None, None, None, None])
    sheet.append([1002.0, "Smith", "Ann", 39156, "07030-1234"])
    path = tmp_path / "roster.xlsx"
    workbook.save(path)
    roster = read_roster(path)
    assert [(e.sis_id, e.birth_date, e.zip, e.line) for e in roster.entries] == [
        ("1001", dt.date(2007, 3, 15), "07030", 2),
        ("1002", dt.date(2007, 3, 15), "07030", 4),
    ]


def test_xlsx_bad_date_names_the_row(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.active.append(["sis_id", "last_name", "birth_date"])
    workbook.active.append(["S1", "Smith", "someday"])
    workbook.save(tmp_path / "r.xlsx")
    with pytest.raises(RosterError, match=r"r.xlsx: line 2, field 'birth_date'"):
        read_roster(tmp_path / "r.xlsx")


def test_a_damaged_xlsx(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RosterError, match="not a readable XLSX workbook"):
        read_roster(path)


def test_an_old_excel_workbook(tmp_path: Path) -> None:
    path = tmp_path / "r.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0 old")
    with pytest.raises(RosterError, match="Excel 97-2003"):
        read_roster(path)


def test_xlsx_without_openpyxl_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.import_module

    def fake(name: str, package: str | None = None) -> ModuleType:
        if name == "openpyxl":
            raise ImportError("no openpyxl")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", fake)
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(
        ConfigurationError,
        match=r"reading an XLSX roster needs openpyxl; install it with: pip install xlsxwriter",
    ):
        read_roster(path)


def test_mappings_may_differ_from_row_to_row() -> None:
    roster = read_roster(
        [{"SIS ID": "S1", "Last": "x"}, {"sis_id": "S2", "AP ID": "A2", "birth_date": None}]
    )
    assert roster.sis_ids == {"S1", "S2"}
    assert roster.ap_ids == {"A2": frozenset({"S2"})}


def test_a_mapping_without_sis_id_names_its_row() -> None:
    with pytest.raises(RosterError, match=r"^line 3, field 'sis_id'"):
        read_roster([{"sis_id": "S1", "last_name": "A"}, {"id": "S2"}])


def test_roster_errors_pickle_and_are_parse_errors() -> None:
    error = RosterError("bad", line=3, field="birth_date", raw="", file="r.csv")
    assert isinstance(error, ParseError)
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (type(again), str(again)) == (RosterError, "r.csv: line 3, field 'birth_date': bad")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            # no NUL: the csv writer of Python 3.10 cannot write it (the reader meets it
            # in test_any_bytes_are_a_roster_or_one_error)
            st.text(
                alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
                max_size=12,
            ),
            min_size=1,
            max_size=5,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_csv_is_a_roster_or_one_roster_error(rows: list[list[str]]) -> None:
    import csv
    import io
    import tempfile

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sis_id", "last_name", "first_name", "birth_date", "ap_id"])
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.csv"
        path.write_text(out.getvalue(), encoding="utf-8")
        problem: RosterError | None = None
        try:
            roster = read_roster(path)
        except RosterError as error:
            problem = error
        if problem is not None:
            assert str(problem).startswith(str(path))
        else:
            assert all(entry.sis_id for entry in roster.entries)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_a_roster_or_one_error(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.csv"
        path.write_bytes(b"sis_id,last_name,birth_date\n" + data)
        with contextlib.suppress(RosterError, ConfigurationError):
            read_roster(path)
