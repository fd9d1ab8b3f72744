"""The same content reads the same given as bytes or as lines (bytes or text, as a
text-mode file gives them): the same records and the same errors (line, field, message),
in both error modes, on damaged files with LF or CRLF endings and a DOS end-of-file mark.
A seeded small version of the review's differential fuzz, which found the Ctrl-Z case."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _damaged import damaged_files
from apscores.errors import APScoresError
from apscores.files import read_txt


def _read(source: Any, mode: str) -> tuple[str, Any]:
    try:
        with read_txt(source, errors=mode) as reader:  # type: ignore[arg-type]
            records = list(reader)
        return "ok", (records, [(e.line, e.field, str(e)) for e in reader.errors])
    except APScoresError as error:
        return type(error).__name__, (getattr(error, "line", None), str(error))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    damaged_files(),
    st.sampled_from([b"", b"\x1a"]),
    st.booleans(),
    st.sampled_from(["raise", "collect"]),
)
def test_bytes_and_lines_read_alike(data: bytes, mark: bytes, bom: bool, mode: str) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + data + mark
    if b"\r" in data.replace(b"\r\n", b""):
        return  # CR-only or a CR inside a line: lines given as items cannot say so
    lines = data.splitlines(keepends=True)
    texts = [line.decode("latin-1") for line in lines]
    if bom:
        texts[0] = "\ufeff" + texts[0].removeprefix("\xef\xbb\xbf")
    expected = _read(data, mode)
    assert _read(lines, mode) == expected
    assert _read(texts, mode) == expected
