"""Layout field names <-> records, both ways, shared by the TXT and CSV readers and writers.

Both file formats are reduced to the same thing: a mapping from the layout's field names
(``apscores.layout``) to text. :func:`build_report` turns such a mapping into a
:class:`~apscores.models.ScoreReport`, checking every value and raising a precise
:class:`~apscores.errors.ParseError` (line, field, raw text); :func:`report_values` is its
inverse for the writers. The TXT reader has its own fast path and falls back to
:func:`build_report` only to explain a bad line, so both must agree (a test checks it).

Decisions that are ours, not College Board's (see ``file-layout.md`` §1.6, §4.6):

- Exam blocks end at the first block whose exam code is blank; later blocks are ignored.
- Award pairs with a blank type are skipped; a type without a year is an error.
- Previous-school pairs are skipped only when both year and code are blank.
- The college code ``00####`` becomes the 4-digit DI code; any other shape is kept as is
  (stripped), so nothing is lost and the writer can put it back.
- ``lenient`` (CSV) also accepts what spreadsheets do to values: digit codes that lost
  their leading zeros (padded back), four-digit years, and dates as ``MDDYY``,
  ``M/D/YYYY`` or ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeAlias, TypeVar

import attrs

from apscores.errors import ParseError, UnwritableRecordError
from apscores.layout import EXAM_BLOCK_COUNT
from apscores.models import (
    Address,
    Award,
    ExamScore,
    Organization,
    PreviousSchool,
    ScoreReport,
    Student,
)
from apscores.years import ascii_digits, expand_year, format_mmddyy, parse_mmddyy, shorten_year

__all__ = [
    "AWARD_SLOTS",
    "GRADES",
    "PREVIOUS_SCHOOL_SLOTS",
    "TRAILER_DATES",
    "YEARS",
    "Assembler",
    "Trailer",
    "build_awards",
    "build_college",
    "build_exam",
    "build_high_school",
    "build_previous",
    "build_report",
    "build_trailer",
    "college_code_to_di",
    "fast_constructor",
    "fill",
    "make_address",
    "make_assembler",
    "make_report",
    "make_student",
    "pad_codes",
    "parse_date",
    "parse_year",
    "report_values",
]

AWARD_SLOTS = 6
PREVIOUS_SCHOOL_SLOTS = 2

#: Every two-digit year text and its four-digit year (the pivot rule lives in years.py).
YEARS: dict[str, int] = {f"{yy:02d}": expand_year(yy) for yy in range(100)}
#: Exam grade text (one column) -> score.
#: Released, updated and report dates, then service type, service code, order key.
Trailer: TypeAlias = tuple[dt.date | None, dt.date | None, dt.date | None, str, str, str]

#: The trailer's three dates, in file order.
TRAILER_DATES = (
    "date_grades_released_to_college",
    "date_of_last_student_update",
    "date_of_this_report",
)
GRADES: dict[str, int | None] = {" ": None, "": None, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}

#: Digit codes a spreadsheet may have shortened, and the width to pad them back to.
_PAD_WIDTHS: dict[str, int] = {
    "previous_ai_code_1": 6,
    "previous_ai_code_2": 6,
    "hs_ai_code": 6,
    **{f"award_type_{n}": 2 for n in range(1, AWARD_SLOTS + 1)},
    **{
        f"{name}_{block:02d}": 2
        for block in range(1, EXAM_BLOCK_COUNT + 1)
        for name in ("exam_code", "irregularity_code_1", "irregularity_code_2")
    },
}


def college_code_to_di(text: str, *, lenient: bool = False) -> str:
    """``001234`` -> ``1234``; other shapes are kept (stripped). ``lenient`` pads ``234``."""
    code = text.strip()
    if ascii_digits(code):
        if len(code) == 6 and code.startswith("00"):
            return code[2:]
        if lenient and len(code) < 4:
            return code.zfill(4)
    return code


def pad_codes(values: dict[str, str]) -> None:
    """Put back leading zeros that spreadsheets drop from digit codes (``7`` -> ``07``)."""
    for name, value in values.items():
        width = _PAD_WIDTHS.get(name)
        if width and value and len(value) < width and ascii_digits(value):
            values[name] = value.zfill(width)


def parse_year(name: str, text: str, line: int | None, lenient: bool) -> int | None:
    """A YY year (blank -> None); ``lenient`` also takes ``YYYY`` and a lone digit."""
    if not text.strip():
        return None
    found = YEARS.get(text)
    if found is not None:
        return found
    if lenient and ascii_digits(text):
        if len(text) == 4:
            return int(text)
        if len(text) == 1:
            return YEARS[text.zfill(2)]
    raise ParseError("not a two-digit year", line=line, field=name, raw=text)


_SLASHED = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{2}|[0-9]{4})")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(name: str, text: str, line: int | None, lenient: bool) -> dt.date | None:
    """A MMDDYY date (blank -> None); ``lenient`` also takes MDDYY, M/D/Y and ISO dates.

    Digits are ASCII only, and every shape is matched whole, so nothing a spreadsheet did
    not plausibly write (``²``, ``1_0``, a 20-digit year) is read as a date.
    """
    raw = text.strip()
    if not raw:
        return None
    try:
        if lenient:
            slashed = _SLASHED.fullmatch(raw)
            if slashed:
                month, day, year = slashed.groups()
                full = int(year) if len(year) == 4 else expand_year(int(year))
                return dt.date(full, int(month), int(day))
            if _ISO.fullmatch(raw):
                return dt.date.fromisoformat(raw)
            if len(raw) == 5 and ascii_digits(raw):
                raw = raw.zfill(6)
            if "/" in raw or "-" in raw:
                raise ValueError("expected MMDDYY, M/D/YYYY or YYYY-MM-DD")
        return parse_mmddyy(raw if lenient else text)
    except (ValueError, OverflowError) as exc:
        reason = f"not a valid MMDDYY date ({exc})"
        raise ParseError(reason, line=line, field=name, raw=text) from None


def _score(name: str, text: str, line: int | None) -> int | None:
    if text in GRADES:
        return GRADES[text]
    raise ParseError("an exam grade must be 1-5 or blank", line=line, field=name, raw=text)


def _address(values: Mapping[str, str], prefix: str, *, country: str = "") -> Address:
    get = values.get
    return Address(
        street_1=get(f"{prefix}street_address_1", ""),
        street_2=get(f"{prefix}street_address_2", ""),
        street_3=get(f"{prefix}street_address_3", ""),
        state=get(f"{prefix}state", ""),
        zip_code=get(f"{prefix}zip_code", ""),
        country_code=country,
    )


def build_exam(values: Mapping[str, str], block: int, line: int | None, lenient: bool) -> ExamScore:
    """Exam block ``block`` (1-based); the caller has checked its code is not blank."""
    get = values.get
    suffix = f"_{block:02d}"
    year_field = "admin_year" + suffix
    year = parse_year(year_field, get(year_field, ""), line, lenient)
    if year is None:
        raise ParseError(
            "the admin year is blank but the exam code is not", line=line, field=year_field, raw=""
        )
    codes = (get("irregularity_code_1" + suffix, ""), get("irregularity_code_2" + suffix, ""))
    return ExamScore(
        code=get("exam_code" + suffix, ""),
        admin_year=year,
        score=_score("exam_grade" + suffix, get("exam_grade" + suffix, ""), line),
        irregularity_codes=tuple(code for code in codes if code),
        suppression_flag=get("exam_suppression_flag" + suffix, ""),
        class_section=get("class_section_code" + suffix, ""),
    )


def build_previous(
    values: Mapping[str, str], line: int | None, lenient: bool
) -> tuple[PreviousSchool, ...]:
    """Previous high schools; a pair is skipped only when year and code are both blank."""
    get = values.get
    previous: list[PreviousSchool] = []
    for n in range(1, PREVIOUS_SCHOOL_SLOTS + 1):
        year_text, code = get(f"previous_ai_year_{n}", ""), get(f"previous_ai_code_{n}", "")
        if year_text.strip() or code.strip():
            year = parse_year(f"previous_ai_year_{n}", year_text, line, lenient)
            previous.append(PreviousSchool(year=year, code=code))
    return tuple(previous)


def build_awards(values: Mapping[str, str], line: int | None, lenient: bool) -> tuple[Award, ...]:
    """Awards, most recent first; pairs with a blank type are skipped."""
    get = values.get
    awards: list[Award] = []
    for n in range(1, AWARD_SLOTS + 1):
        award_type = get(f"award_type_{n}", "")
        if not award_type.strip():
            continue
        year_field = f"award_year_{n}"
        year = parse_year(year_field, get(year_field, ""), line, lenient)
        if year is None:
            raise ParseError("an award type without a year", line=line, field=year_field, raw="")
        awards.append(Award(code=award_type, year=year))
    return tuple(awards)


def build_high_school(values: Mapping[str, str]) -> Organization:
    """The high school (AI) block; text only, never fails."""
    get = values.get
    return Organization(
        code=get("hs_ai_code", ""),
        name=get("hs_institution_name", ""),
        contact_name=get("hs_contact_name", ""),
        address=_address(values, "hs_"),
    )


def build_college(values: Mapping[str, str], lenient: bool) -> tuple[str, Organization]:
    """The DI code and the college block (whose ``code`` is the DI code too)."""
    get = values.get
    di_code = college_code_to_di(get("college_code", ""), lenient=lenient)
    college = Organization(
        code=di_code,
        name=get("college_institution_name", ""),
        contact_name=get("college_contact_name", ""),
        address=_address(values, "college_"),
    )
    return di_code, college


def build_trailer(values: Mapping[str, str], line: int | None, lenient: bool) -> Trailer:
    """The three trailer dates and the three service fields, in file order."""
    get = values.get
    return (
        parse_date(TRAILER_DATES[0], get(TRAILER_DATES[0], ""), line, lenient),
        parse_date(TRAILER_DATES[1], get(TRAILER_DATES[1], ""), line, lenient),
        parse_date(TRAILER_DATES[2], get(TRAILER_DATES[2], ""), line, lenient),
        get("service_type", ""),
        get("service_code", ""),
        get("order_institution_key", ""),
    )


def build_report(values: Mapping[str, str], *, line: int | None, lenient: bool) -> ScoreReport:
    """Check and convert one record's field texts (trailing blanks already stripped)."""
    get = values.get
    ap_id = get("ap_id", "")
    if not ap_id.strip():
        raise ParseError("the AP ID is blank", line=line, field="ap_id", raw=ap_id)
    exams: list[ExamScore] = []
    for block in range(1, EXAM_BLOCK_COUNT + 1):
        if not get(f"exam_code_{block:02d}", "").strip():
            break  # the first blank block ends the exams (file-layout.md §1.3)
        exams.append(build_exam(values, block, line, lenient))
    di_code, college = build_college(values, lenient)
    released, updated, reported, service_type, service_code, order_key = build_trailer(
        values, line, lenient
    )
    student = Student(
        last_name=get("last_name", ""),
        first_name=get("first_name", ""),
        middle_initial=get("middle_initial", ""),
        date_of_birth=parse_date("birth_date", get("birth_date", ""), line, lenient),
        gender=get("gender", ""),
        address=_address(values, "", country=get("country_code", "")),
        education_level=get("education_level", ""),
        expected_college_entrance=get("expected_college_entrance", ""),
        ethnic_group=get("ethnic_group", ""),
        student_search=get("student_search", ""),
        best_language=get("best_language", ""),
        applying_sophomore_standing=get("apply_sophomore_standing", ""),
        race_ethnicity_response=get("race_ethnicity_student_response", ""),
        derived_aggregate_race_ethnicity=get("derived_aggregate_race_ethnicity", ""),
    )
    return ScoreReport(
        ap_id=ap_id,
        student=student,
        di_code=di_code,
        college=college,
        high_school=build_high_school(values),
        exams=tuple(exams),
        awards=build_awards(values, line, lenient),
        previous_schools=build_previous(values, line, lenient),
        date_released=released,
        date_updated=updated,
        report_date=reported,
        service_type=service_type,
        service_code=service_code,
        order_institution_key=order_key,
    )


# --- fast construction, for the readers' hot loops ---------------------------------------

_T = TypeVar("_T")


def fast_constructor(cls: type[_T]) -> Callable[..., _T]:
    """A function taking every field of attrs class ``cls`` positionally, in field order.

    attrs' own ``__init__`` of a frozen class sets each field through a bound
    ``object.__setattr__``; calling the slot descriptors directly builds the same instance
    in about 60 % of the time, which matters when a reader builds three records per line.
    Used only when nothing else runs in ``__init__`` (no validators, converters, defaults
    factories we would skip, hooks or hash cache); otherwise this falls back to ``cls``
    itself called with keywords, so it is always correct (a test compares both).
    """
    fields = attrs.fields(cls)  # type: ignore[arg-type]
    names = tuple(f.name for f in fields)
    slots = cls.__dict__
    plain = (
        attrs.has(cls)
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and set(getattr(cls, "__slots__", ())) <= {*names, "__weakref__"}  # no hash cache
        and all(
            f.init and f.validator is None and f.converter is None and f.on_setattr is None
            for f in fields
        )
        and all(isinstance(slots.get(name), types.MemberDescriptorType) for name in names)
    )
    if not plain:

        def by_keyword(*values: Any) -> _T:
            return cls(**dict(zip(names, values, strict=True)))

        return by_keyword
    params = ", ".join(f"v{n}" for n in range(len(names)))
    body = "".join(f"    set{n}(self, v{n})\n" for n in range(len(names)))
    source = f"def make({params}):\n    self = new(cls)\n{body}    return self\n"
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    scope.update({f"set{n}": slots[name].__set__ for n, name in enumerate(names)})
    exec(source, scope)  # noqa: S102 - source built above from the class's own field count
    made: Callable[..., _T] = scope["make"]
    return made


make_address = fast_constructor(Address)
make_student = fast_constructor(Student)
make_report = fast_constructor(ScoreReport)


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
    address, student, report = make_address, make_student, make_report

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
        return report(
            ap_id,
            student(
                last,
                first,
                middle,
                born,
                gender,
                address(street_1, street_2, street_3, state, zip_code, country),
                *codes,
                *race,
            ),
            di_code,
            college,
            high_school,
            exams,
            awards,
            previous,
            released,
            updated,
            reported,
            *service,
        )

    return assemble


#: What a cache holds when a key is absent (``None`` is a valid cached value: a blank date).
MISSING: Any = object()


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


# --- writing -------------------------------------------------------------------------


def _refuse(report: ScoreReport, what: str) -> UnwritableRecordError:
    return UnwritableRecordError(f"cannot write the report for AP ID {report.ap_id!r}: {what}")


def _yy(report: ScoreReport, name: str, year: int | None) -> str:
    if year is None:
        return ""
    try:
        return f"{shorten_year(year):02d}"
    except ValueError as exc:
        raise _refuse(report, f"{name}: {exc}") from None


def _mmddyy(report: ScoreReport, name: str, value: dt.date | None) -> str:
    if value is None:
        return ""
    try:
        return format_mmddyy(value)
    except ValueError as exc:
        raise _refuse(report, f"{name}: {exc}") from None


def _put_address(out: dict[str, str], prefix: str, address: Address) -> None:
    out[f"{prefix}street_address_1"] = address.street_1
    out[f"{prefix}street_address_2"] = address.street_2
    out[f"{prefix}street_address_3"] = address.street_3
    out[f"{prefix}state"] = address.state
    out[f"{prefix}zip_code"] = address.zip_code


def report_values(report: ScoreReport) -> dict[str, str]:
    """The inverse of :func:`build_report`: field name -> text (not padded).

    Raises :class:`~apscores.errors.UnwritableRecordError` for anything the layout cannot hold
    (too many exams or awards, a year outside the pivot, a grade outside 1-5, a blank exam
    code that would end the exams early...), so written files always read back equal.
    """
    if not report.ap_id.strip():
        raise _refuse(report, "the AP ID is blank")
    student = report.student
    out: dict[str, str] = {
        "ap_id": report.ap_id,
        "last_name": student.last_name,
        "first_name": student.first_name,
        "middle_initial": student.middle_initial,
        "country_code": student.address.country_code,
        "gender": student.gender,
        "birth_date": _mmddyy(report, "date_of_birth", student.date_of_birth),
        "education_level": student.education_level,
        "expected_college_entrance": student.expected_college_entrance,
        "ethnic_group": student.ethnic_group,
        "student_search": student.student_search,
        "best_language": student.best_language,
        "apply_sophomore_standing": student.applying_sophomore_standing,
        "race_ethnicity_student_response": student.race_ethnicity_response,
        "derived_aggregate_race_ethnicity": student.derived_aggregate_race_ethnicity,
        "date_grades_released_to_college": _mmddyy(report, "date_released", report.date_released),
        "date_of_last_student_update": _mmddyy(report, "date_updated", report.date_updated),
        "date_of_this_report": _mmddyy(report, "report_date", report.report_date),
        "service_type": report.service_type,
        "service_code": report.service_code,
        "order_institution_key": report.order_institution_key,
    }
    _put_address(out, "", student.address)

    if len(report.previous_schools) > PREVIOUS_SCHOOL_SLOTS:
        raise _refuse(report, f"more than {PREVIOUS_SCHOOL_SLOTS} previous schools")
    for n, previous in enumerate(report.previous_schools, 1):
        out[f"previous_ai_year_{n}"] = _yy(report, "previous school year", previous.year)
        out[f"previous_ai_code_{n}"] = previous.code

    if len(report.awards) > AWARD_SLOTS:
        raise _refuse(report, f"more than {AWARD_SLOTS} awards")
    for n, award in enumerate(report.awards, 1):
        if not award.code.strip():
            raise _refuse(report, f"award {n} has a blank code")
        out[f"award_type_{n}"] = award.code
        out[f"award_year_{n}"] = _yy(report, "award year", award.year)

    school = report.high_school
    if school.address.country_code:
        raise _refuse(report, "the layout has no high-school country code")
    out["hs_ai_code"] = school.code
    out["hs_contact_name"] = school.contact_name
    out["hs_institution_name"] = school.name
    _put_address(out, "hs_", school.address)

    college = report.college
    di_code = report.di_code or college.code
    if college.code not in ("", di_code):
        raise _refuse(report, f"college.code {college.code!r} differs from di_code {di_code!r}")
    if college.address.country_code:
        raise _refuse(report, "the layout has no college country code")
    out["college_code"] = f"00{di_code}" if len(di_code) == 4 and di_code.isdigit() else di_code
    out["college_contact_name"] = college.contact_name
    out["college_institution_name"] = college.name
    _put_address(out, "college_", college.address)

    if len(report.exams) > EXAM_BLOCK_COUNT:
        raise _refuse(report, f"more than {EXAM_BLOCK_COUNT} exams")
    for block, exam in enumerate(report.exams, 1):
        suffix = f"_{block:02d}"
        if not exam.code.strip():
            raise _refuse(report, f"exam {block} has a blank code (it would end the exams)")
        if exam.score is not None and exam.score not in range(1, 6):
            raise _refuse(report, f"exam {exam.code} has score {exam.score}, not 1-5")
        codes = exam.irregularity_codes
        if len(codes) > 2 or not all(code.strip() for code in codes):
            raise _refuse(report, f"exam {exam.code} needs 0-2 non-blank irregularity codes")
        out["admin_year" + suffix] = _yy(report, "admin year", exam.admin_year)
        out["exam_code" + suffix] = exam.code
        out["exam_grade" + suffix] = "" if exam.score is None else str(exam.score)
        out["irregularity_code_1" + suffix] = codes[0] if codes else ""
        out["irregularity_code_2" + suffix] = codes[1] if len(codes) > 1 else ""
        out["exam_suppression_flag" + suffix] = exam.suppression_flag
        out["class_section_code" + suffix] = exam.class_section
    return out
