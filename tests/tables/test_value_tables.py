"""The byte and numpy tables of the fast paths agree with the value rules they are derived
from (issue 23): every grade byte, every two-byte year, on the three paths."""

from __future__ import annotations

import numpy as np

from apscores.errors import ParseError
from apscores.files._values import parse_score, parse_year
from apscores.tables import _arrays


def _reference_grade(byte: int) -> int:
    """What the reference reading makes of a grade byte: score, 0 for none, -1 refused."""
    try:
        score = parse_score("exam_grade_01", chr(byte).rstrip(" "), 1)
    except ParseError:
        return -1
    return score or 0


def _reference_year(pair: bytes) -> int:
    try:
        year = parse_year("admin_year_01", pair.decode("latin-1"), 1, False)
    except ParseError:
        return -1
    return year or 0


def test_grade_tables_agree_with_parse_score_for_every_byte() -> None:
    for byte in range(256):
        expected = _reference_grade(byte)
        assert _arrays.GRADES[byte] == expected, byte


def test_year_tables_agree_with_parse_year_for_every_pair() -> None:
    pairs = np.arange(1 << 16)
    for key in pairs[:: 1 if __debug__ else 7]:
        pair = bytes([key & 0xFF, key >> 8])  # little-endian: first byte low
        expected = _reference_year(pair)
        digits = _arrays.TWO_DIGITS[key]
        table = int(_arrays.YEARS[digits]) if digits >= 0 else -1
        if expected == 0:  # blank: the columnar path tells it apart with BLANK_PAIR
            assert _arrays.BLANK_PAIR[key] or pair.strip() == b"", pair
            continue
        assert table == expected, pair
