"""The byte and numpy tables of the fast paths agree with the value rules they are derived
from (issue 23): every grade byte, every two-byte year of clean bytes, on the three paths."""

from __future__ import annotations

import numpy as np

from apscores.errors import ParseError
from apscores.files._values import parse_score, parse_year
from apscores.files.blocks import CONTROL
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


def test_year_rules_agree_with_parse_year_for_every_clean_pair() -> None:
    clean = bytes(sorted(set(range(256)) - set(CONTROL)))  # numpy sees no control byte
    pairs = np.array([[first, second] for first in clean for second in clean], dtype=np.uint8)
    number, found = _arrays.digits(pairs)
    blank = _arrays.blank(pairs)
    for pair, value, digits, empty in zip(pairs, number, found, blank, strict=True):
        expected = _reference_year(pair.tobytes())
        table = int(_arrays.YEARS[value]) if digits else -1
        if expected == 0:  # blank: the columnar path tells it apart with blank()
            assert empty, pair
            continue
        assert table == expected, pair
