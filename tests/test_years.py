"""The one century rule for two-digit years, and MMDDYY dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apscores.years import PIVOT, expand_year, format_mmddyy, parse_mmddyy, shorten_year


def test_pivot() -> None:
    assert PIVOT == 50
    assert expand_year(0) == 2000
    assert expand_year(19) == 2019
    assert expand_year(49) == 2049
    assert expand_year(50) == 1950
    assert expand_year(98) == 1998


@pytest.mark.parametrize("bad", [-1, 100])
def test_expand_year_refuses_non_two_digit(bad: int) -> None:
    with pytest.raises(ValueError, match="0-99"):
        expand_year(bad)


@given(st.integers(1950, 2049))
def test_shorten_inverts_expand(year: int) -> None:
    assert expand_year(shorten_year(year)) == year


@pytest.mark.parametrize("year", [1949, 2050, 1800])
def test_shorten_refuses_years_outside_the_rule(year: int) -> None:
    with pytest.raises(ValueError, match="pivot"):
        shorten_year(year)


def test_parse_mmddyy() -> None:
    assert parse_mmddyy("031506") == dt.date(2006, 3, 15)
    assert parse_mmddyy("123198") == dt.date(1998, 12, 31)
    for bad in ("31506", "0315066", "03x506", "      "):
        with pytest.raises(ValueError, match="six digits"):
            parse_mmddyy(bad)
    with pytest.raises(ValueError, match="month"):
        parse_mmddyy("133106")


@given(st.dates(dt.date(1950, 1, 1), dt.date(2049, 12, 31)))
def test_format_and_parse_round_trip(day: dt.date) -> None:
    assert parse_mmddyy(format_mmddyy(day)) == day
