"""The CSV reader's record assembly: cached parts in, one ScoreReport out.

A row's own cells (the student's names and address) are new for every row; the other
parts (dates, awards, previous schools, codes, race, schools, service fields) repeat
between rows, so they are looked up by their raw cells in bounded caches and built only
when missing, by the part builders, which check every value. Records are built with the
twins of :mod:`apscores.files._construct`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeAlias, cast

from apscores.files._construct import twin
from apscores.files._values import MISSING
from apscores.models import Address, ExamScore, ScoreReport, Student

__all__ = ["HEAD_FIELDS", "Assembler", "fill", "make_assembler"]

_ADDRESS, _STUDENT, _REPORT = twin(Address), twin(Student), twin(ScoreReport)

#: The student's own fields, unique to each line, in the order :func:`make_assembler` takes.
HEAD_FIELDS = (
    "ap_id",
    "last_name",
    "first_name",
    "middle_initial",
    "street_address_1",
    "street_address_2",
    "street_address_3",
    "state",
    "zip_code",
    "country_code",
    "gender",
)


#: What turns one line's texts into a report: ``assemble(head, exams, keys, line)``.
Assembler: TypeAlias = Callable[
    [Sequence[str], tuple[ExamScore, ...], Sequence[Hashable], int | None], ScoreReport
]


def make_assembler(
    caches: Sequence[dict[Any, Any]],
    builders: Sequence[Callable[[Any, int | None], Any]],
    limit: int,
) -> Assembler:
    """The hot end of both readers (TXT and CSV): put one record together.

    The returned ``assemble(head, exams, keys, line)`` takes the student's own texts in
    :data:`HEAD_FIELDS` order and the raw texts of the ten cached parts (the order of
    :func:`fill`), looked up in ``caches`` and built by ``builders`` only when missing.
    The caches are bound once, in the closure, and each is indexed directly; only a line
    with a part not seen before goes through :func:`fill`, which checks and builds it.
    """
    (
        c_released,
        c_updated,
        c_reported,
        c_born,
        c_awards,
        c_previous,
        c_codes,
        c_race,
        c_schools,
        c_service,
    ) = caches
    new = object.__new__
    address_twin, student_twin, report_twin = _ADDRESS, _STUDENT, _REPORT

    def assemble(
        head: Sequence[str],
        exams: tuple[ExamScore, ...],
        keys: Sequence[Hashable],
        line: int | None,
    ) -> ScoreReport:
        (
            ap_id,
            last,
            first,
            middle,
            street_1,
            street_2,
            street_3,
            state,
            zip_code,
            country,
            gender,
        ) = head
        (
            k_released,
            k_updated,
            k_reported,
            k_born,
            k_awards,
            k_previous,
            k_codes,
            k_race,
            k_schools,
            k_service,
        ) = keys
        try:
            released = c_released[k_released]
            updated = c_updated[k_updated]
            reported = c_reported[k_reported]
            born = c_born[k_born]
            awards = c_awards[k_awards]
            previous = c_previous[k_previous]
            codes = c_codes[k_codes]
            race = c_race[k_race]
            high_school, di_code, college = c_schools[k_schools]
            service = c_service[k_service]
        except KeyError:
            (released, updated, reported, born, awards, previous, codes, race, schools, service) = (
                fill(keys, caches, builders, line, limit)
            )
            high_school, di_code, college = schools
        home = new(address_twin)
        home.street_1, home.street_2, home.street_3 = street_1, street_2, street_3
        home.state, home.zip_code, home.country_code = state, zip_code, country
        home.__class__ = Address
        person = new(student_twin)
        person.last_name, person.first_name, person.middle_initial = last, first, middle
        person.date_of_birth, person.gender, person.address = born, gender, home
        (
            person.education_level,
            person.expected_college_entrance,
            person.ethnic_group,
            person.student_search,
            person.best_language,
            person.applying_sophomore_standing,
        ) = codes
        person.race_ethnicity_response, person.derived_aggregate_race_ethnicity = race
        person.__class__ = Student
        made = new(report_twin)
        made.ap_id, made.student, made.di_code = ap_id, person, di_code
        made.college, made.high_school, made.exams = college, high_school, exams
        made.awards, made.previous_schools = awards, previous
        made.date_released, made.date_updated, made.report_date = released, updated, reported
        made.service_type, made.service_code, made.order_institution_key = service
        made.__class__ = ScoreReport
        return cast(ScoreReport, made)

    return assemble


def fill(
    keys: Sequence[Hashable],
    caches: Sequence[dict[Any, Any]],
    builders: Sequence[Callable[[Any, int | None], Any]],
    line: int | None,
    limit: int,
) -> list[Any]:
    """The readers' slow path: look each key up, building (and caching) what is missing.

    ``builders[i](keys[i], line)`` checks the raw text and raises a precise ParseError;
    errors are never cached. A full cache is emptied before it grows past ``limit``.
    The order of ``keys`` is the order :func:`build_report` checks fields in, so a line
    with two bad fields reports the same one either way.
    """
    values: list[Any] = []
    for key, cache, build in zip(keys, caches, builders, strict=True):
        value = cache.get(key, MISSING)
        if value is MISSING:
            value = build(key, line)
            if len(cache) >= limit:
                cache.clear()
            cache[key] = value
        values.append(value)
    return values
