"""What the columnar path reads where, for one TXT layout: the plan of a :class:`Layout`.

Every offset the columnar engine uses comes from here, and every field is found through
the record attribute it fills (``student.last_name``, ``exams[0].code``,
``awards[2].year``), never by its name or a fixed column: a layout whose fields moved,
widened, or gained a field the long table does not show is read the same way. A plan is
built once per layout (:func:`plan_for`) and checked as it is built; a layout the engine
cannot read (exam blocks not evenly spaced, a date that is not ``MMDDYY``...) is a
``ValueError`` naming the layout.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import NamedTuple

import attrs

from apscores.files.layout import LAYOUTS, Field, FieldKind, Layout, check_layout, chosen
from apscores.tables._schema import DATE_COLUMNS, STUDENT_COLUMNS

__all__ = ["DEFAULT", "EXAM_ATTRIBUTES", "Plan", "Spread", "plan_for"]

#: The exam attributes the long table shows, with the width the engine reads them at (a
#: two-byte code or year is one ``uint16``, a grade or class section one byte).
EXAM_ATTRIBUTES = {
    "admin_year": 2,
    "code": 2,
    "score": 1,
    "irregularity_codes[0]": 2,
    "irregularity_codes[1]": 2,
    "class_section": 1,
}
_EXAM = re.compile(r"exams\[(\d+)\]\.(.+)")
_INDEXED = re.compile(r"(previous_schools|awards)\[(\d+)\]\.(year|code)")
#: Kinds of the per-student columns, and how the engine reads each.
_TEXT_KINDS = (FieldKind.TEXT, FieldKind.CODE, FieldKind.DIGITS)


class Spread(NamedTuple):
    """One exam field in every exam block: 0-based start in block 1, the distance between
    blocks, its width, and the number of blocks."""

    start: int
    step: int
    width: int
    blocks: int


@attrs.frozen
class Plan:
    """Where the columnar engine finds each value of one layout's records.

    Attributes:
        layout: The layout.
        length: Columns of a whole record.
        min_length: The shortest line that is still a record (trailing blanks trimmed).
        shorter: ``(line length, columns kept)`` for the lines of an older layout read
            as this one (a 910-column line under the 950 layout keeps columns 1-900).
        ap_id: The AP ID field (a line whose AP ID is blank must be blank).
        required: The fields every record carries: blank in a line, the typed reader
            decides (it names the field).
        texts: Long column and field, for the per-student columns read as text.
        dates: Long column and field, for the ``MMDDYY`` dates.
        di: The college code, read as a DI code.
        previous_years: The previous schools' two-digit years (checked, not shown).
        awards: Each award's (type, year) fields (checked, not shown).
        exams: Each exam attribute of :data:`EXAM_ATTRIBUTES` across the exam blocks.
    """

    layout: Layout
    length: int
    min_length: int
    shorter: dict[int, int]
    ap_id: Field
    required: tuple[Field, ...]
    texts: tuple[tuple[str, Field], ...]
    dates: tuple[tuple[str, Field], ...]
    di: Field
    previous_years: tuple[Field, ...]
    awards: tuple[tuple[Field, Field], ...]
    exams: dict[str, Spread]

    def plausible(self, line: bytes | str) -> bool:
        """Whether a line's length fits the framing rule of this layout (whole, trimmed,
        or an older layout's): the first-line check of the typed reader."""
        size = len(line.rstrip(b"\r\n") if isinstance(line, bytes) else line.rstrip("\r\n"))
        return self.min_length <= size <= self.length


def _unreadable(layout: Layout, why: str) -> ValueError:
    return ValueError(f"layout {layout.name} cannot be read by the columnar path: {why}")


def _shorter(layout: Layout) -> dict[int, int]:
    """The known layouts with shorter records whose fields agree with ``layout``'s at
    least to the end of its last required field: their lines read as ``layout``'s, with
    what follows the shared columns blank (only 910 under 950 today)."""
    found: dict[int, int] = {}
    for other in LAYOUTS.values():
        if other.length >= layout.length:
            continue
        pairs = zip(layout.fields, other.fields, strict=False)
        shared = next((mine.start - 1 for mine, theirs in pairs if mine != theirs), other.length)
        if shared >= layout.min_length:
            found[other.length] = shared
    return found


def _spread(layout: Layout, attribute: str, fields: dict[int, Field], width: int) -> Spread:
    """The exam attribute's fields as one evenly spaced spread, or a ValueError."""
    if sorted(fields) != list(range(len(fields))):
        raise _unreadable(layout, f"the exam blocks holding {attribute!r} are not numbered 0..n")
    ordered = [fields[index] for index in range(len(fields))]
    if any(field.width != width for field in ordered):
        raise _unreadable(layout, f"the exam field {attribute!r} is not {width} columns wide")
    steps = {later.start - earlier.start for earlier, later in itertools.pairwise(ordered)}
    if len(steps) > 1:
        raise _unreadable(layout, f"the exam blocks are not evenly spaced ({attribute!r})")
    return Spread(ordered[0].start - 1, steps.pop() if steps else 0, width, len(ordered))


def _exams(layout: Layout) -> dict[str, Spread]:
    by_attribute: dict[str, dict[int, Field]] = {name: {} for name in EXAM_ATTRIBUTES}
    for field in layout.fields:
        found = _EXAM.fullmatch(field.attribute)
        if found and found[2] in by_attribute:
            by_attribute[found[2]][int(found[1])] = field
    spreads = {
        attribute: _spread(layout, attribute, by_attribute[attribute], width)
        for attribute, width in EXAM_ATTRIBUTES.items()
    }
    counts = {(spread.blocks, spread.step) for spread in spreads.values()}
    if len(counts) > 1 or not spreads["code"].blocks:
        raise _unreadable(layout, "every exam block must hold each exam field of the table")
    return spreads


def _indexed(layout: Layout, owner: str, part: str) -> dict[int, Field]:
    """``previous_schools[i].year``... by index."""
    found = {}
    for field in layout.fields:
        match = _INDEXED.fullmatch(field.attribute)
        if match and (match[1], match[3]) == (owner, part):
            found[int(match[2])] = field
    return found


def _column_fields(layout: Layout) -> dict[str, Field]:
    """Each per-student and date column's field, found through the attribute it shows."""
    try:
        return {
            column: layout.by_attribute(attribute)
            for column, (_, attribute) in {**STUDENT_COLUMNS, **DATE_COLUMNS}.items()
        }
    except KeyError as error:
        raise _unreadable(layout, str(error.args[0])) from None


def _build(layout: Layout) -> Plan:
    columns = _column_fields(layout)
    texts, dates, di = [], [], None
    for column, field in columns.items():
        if field.kind in _TEXT_KINDS:
            texts.append((column, field))
        elif field.kind is FieldKind.DATE and field.width == 6:
            dates.append((column, field))
        elif field.kind is FieldKind.DI and field.width == 6:
            di = field
        else:
            raise _unreadable(
                layout, f"field {field.name!r} ({field.kind.value}, {field.width} columns)"
            )
    if di is None:
        raise _unreadable(layout, "the DI code is not read from a college code (kind di)")
    years = _indexed(layout, "previous_schools", "year")
    award_types = _indexed(layout, "awards", "code")
    award_years = _indexed(layout, "awards", "year")
    pairs = (*years.values(), *award_types.values(), *award_years.values())
    if set(award_types) != set(award_years) or any(field.width != 2 for field in pairs):
        raise _unreadable(layout, "previous schools' years and awards are pairs of 2 columns")
    awards = tuple((award_types[index], award_years[index]) for index in sorted(award_types))
    return Plan(
        layout=layout,
        length=layout.length,
        min_length=layout.min_length,
        shorter=_shorter(layout),
        ap_id=columns["ap_id"],
        required=tuple(field for field in layout.fields if field.required),
        texts=tuple(texts),
        dates=tuple(dates),
        di=di,
        previous_years=tuple(years[index] for index in sorted(years)),
        awards=awards,
        exams=_exams(layout),
    )


@functools.lru_cache(maxsize=8)
def plan_for(layout: Layout | None = None) -> Plan:
    """The checked plan of ``layout`` (None: the 950-column layout, whose plan also reads
    910-column lines); built once per layout. Raises ``ValueError`` naming the layout when
    it is not a valid layout or the columnar path cannot read it."""
    layout = chosen(layout)
    check_layout(layout)
    return _build(layout)


#: The plan of the 950-column layout (built at import: a layout change that breaks the
#: columnar path shows at once).
DEFAULT = plan_for(None)
