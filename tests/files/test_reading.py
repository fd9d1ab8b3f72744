"""``apscores.files._detect.read``: format sniffing, sources, the Reader object."""

from __future__ import annotations

import io
from pathlib import Path

import attrs
import pytest

from _golden import ANA, ANA_REPORT, BEN, BEN_REPORT, K12_HEADER, k12_csv, txt_line
from apscores.errors import ConfigurationError, EmptyFileError, ParseError
from apscores.files._detect import Reader, read, sniff

TXT = txt_line(ANA) + txt_line(BEN)
CSV = k12_csv([ANA, BEN]).encode("utf-8")


@pytest.mark.parametrize(("data", "fmt"), [(TXT, "txt"), (CSV, "csv")])
def test_read_sniffs_the_format(data: bytes, fmt: str) -> None:
    with read(io.BytesIO(b"\n\n" + data)) as reader:
        assert isinstance(reader, Reader)
        assert reader.format == fmt
        assert list(reader) == [ANA_REPORT, BEN_REPORT]


def test_sniff_rules() -> None:
    assert sniff(None) == "txt"
    assert sniff(b'\xef\xbb\xbf"AP ID","Last Name"') == "csv"
    assert sniff("ap_id\tlast_name") == "csv"
    assert sniff("AP ID only") == "txt"
    assert sniff(b"Name,Mu\xf1oz") == "txt"
    assert sniff(txt_line(ANA)) == "txt"


def test_read_paths_str_lines_and_text_files(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_bytes(CSV)
    with read(path) as reader:
        assert list(reader) == [ANA_REPORT, BEN_REPORT]
    assert list(read(k12_csv([BEN], header=K12_HEADER).splitlines())) == [BEN_REPORT]
    assert list(read(io.StringIO(TXT.decode("latin-1")))) == [ANA_REPORT, BEN_REPORT]
    assert list(read(TXT)) == [ANA_REPORT, BEN_REPORT]
    with pytest.raises(EmptyFileError):
        read(b"")


def test_reader_closes_the_file_it_opened(tmp_path: Path) -> None:
    path = tmp_path / "scores.txt"
    path.write_bytes(TXT)
    reader = read(path)
    assert next(reader) == ANA_REPORT
    reader.close()
    reader.close()  # twice is fine
    with pytest.raises(StopIteration):
        next(reader)


def test_collect_mode_through_read() -> None:
    bad = txt_line({**BEN, "exam_code_01": "07", "admin_year_01": "ab"})
    reader = read(io.BytesIO(TXT + bad), errors="collect")
    assert list(reader) == [ANA_REPORT, BEN_REPORT]
    (error,) = reader.errors
    assert isinstance(error, ParseError)
    assert (error.line, error.field, error.raw) == (3, "admin_year_01", "ab")
    assert "line 3" in str(error)
    assert "'admin_year_01'" in str(error)
    assert "'ab'" in str(error)


def test_read_rejects_a_bad_mode_and_surfaces_source_errors() -> None:
    with pytest.raises(ConfigurationError):
        read(TXT, errors="skip")  # type: ignore[arg-type]

    def broken() -> list[bytes]:
        raise OSError("disk gone")

    class Lines:
        def __iter__(self) -> Lines:
            return self

        def __next__(self) -> bytes:
            broken()
            return b""

    with pytest.raises(OSError, match="disk gone"):
        read(Lines())


def test_twins_build_what_the_classes_build() -> None:
    from apscores.files._speed.twin import twin
    from apscores.models import Address

    made = object.__new__(twin(Address))
    made.street_1, made.street_2, made.street_3 = "1 Main St", "", ""
    made.state, made.zip_code, made.country_code = "IL", "62701", "USA"
    made.__class__ = Address
    plain = Address("1 Main St", "", "", "IL", "62701", "USA")
    assert type(made) is Address
    assert made == plain
    assert hash(made) == hash(plain)
    assert attrs.evolve(made, state="WI") == attrs.evolve(plain, state="WI")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.state = "WI"  # type: ignore[misc]


def test_twin_refuses_a_class_whose_init_does_more() -> None:
    from apscores.files._speed.twin import twin

    @attrs.frozen
    class Checked:
        year: int = attrs.field(validator=attrs.validators.instance_of(int))

    @attrs.frozen(slots=False)
    class Plain:
        name: str

    @attrs.frozen(cache_hash=True)
    class Cached:
        name: str

    for cls in (Checked, Plain, Cached):
        with pytest.raises(TypeError, match="does more in __init__"):
            twin(cls)
