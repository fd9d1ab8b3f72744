"""Very large download files, made on the fly, for testing how an integration copes with them.

``SandboxService(renderer=bulk_renderer(2**30))`` serves every file as about 1 GiB of valid
records: the download's own reports (the first ``distinct``) are rendered once by the TXT
(950-column) or CSV writer, and then repeated until the file reaches the size. The first
round keeps the real AP IDs; every later record gets a new one of the same width, ``Q`` and
digits (the synthetic reports never start with ``Q``), unique up to 10 million records of
8-character IDs. The body is a :class:`StreamedBody` of exact, known size, so
``Content-Length`` is sent, and it is made in 64 KiB chunks while the client reads: neither
the sandbox nor the transport ever holds the file.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterator, Sequence

import attrs

from apscores.models import ScoreReport
from apscores.sandbox._values import StreamedBody

__all__ = ["BulkRenderer", "bulk_renderer"]

CHUNK = 64 * 1024
ID_PREFIX = b"Q"


@attrs.frozen
class _Template:
    """One round of rendered records and where each record's AP ID sits in it."""

    header: bytes
    block: bytes  # every record once, in order
    ends: tuple[int, ...]  # offset just past record i in block
    id_spots: tuple[tuple[int, int], ...]  # (offset, width) of record i's AP ID; width 0: keep


def _template(reports: Sequence[ScoreReport], rendered: bytes) -> _Template:
    lines = rendered.splitlines(keepends=True)
    count = len(reports)
    if count == 0 or len(lines) < count:
        raise ValueError("a bulk file needs at least one report, one record a line")
    header = b"".join(lines[: len(lines) - count])
    records = lines[len(lines) - count :]
    ends = tuple(itertools.accumulate(len(line) for line in records))
    spots = []
    for start, line, report in zip((0, *ends[:-1]), records, reports, strict=True):
        ap_id = report.ap_id.encode("latin-1", "replace")
        where = line.find(ap_id) if len(ap_id) >= 2 else -1
        spots.append((start + where, len(ap_id)) if where >= 0 else (0, 0))
    return _Template(header, b"".join(records), ends, tuple(spots))


def _new_id(number: int, width: int) -> bytes:
    digits = width - len(ID_PREFIX)
    return ID_PREFIX + b"%0*d" % (digits, number % 10**digits)


@attrs.frozen
class BulkRenderer:
    """A sandbox renderer whose files are ``size`` bytes (rounded down to whole records).

    ``render`` turns reports into file bytes (the sandbox's own writers by default); it is
    called once per download, on the first ``distinct`` of the download's reports (so the
    round held in memory stays small, whatever is queued), to make the round that repeats.
    A file always holds at least one record, even when that is over ``size``.
    """

    size: int
    distinct: int = 1000
    render: Callable[[Sequence[ScoreReport], str], bytes] | None = attrs.field(
        default=None, repr=False
    )

    def __attrs_post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"size must be >= 1 byte, got {self.size}")
        if self.distinct < 1:
            raise ValueError(f"distinct must be >= 1, got {self.distinct}")

    def __call__(self, reports: Sequence[ScoreReport], file_format: str) -> StreamedBody:
        reports = reports[: self.distinct]
        if self.render is None:
            from apscores.sandbox._values import render_reports

            rendered = render_reports(reports, file_format)
        else:
            rendered = self.render(reports, file_format)
        template = _template(reports, rendered)
        count = _record_count(template, self.size)
        total = len(template.header) + _length(template, count)
        return StreamedBody(lambda: _chunks(template, count), size=total)


def bulk_renderer(size: int) -> BulkRenderer:
    """A renderer for ``SandboxService(renderer=...)`` whose every file is ~``size`` bytes.

    The download's reports are written once and repeated, later rounds with fresh
    ``Q...`` AP IDs, to exactly the largest number of whole records that fits in ``size``;
    the body streams in 64 KiB chunks with a ``Content-Length``.
    """
    return BulkRenderer(size)


def _length(template: _Template, count: int) -> int:
    """Bytes taken by the first ``count`` records (rounds repeat)."""
    rounds, rest = divmod(count, len(template.ends))
    return rounds * len(template.block) + (template.ends[rest - 1] if rest else 0)


def _record_count(template: _Template, size: int) -> int:
    room = size - len(template.header)
    rounds, rest = divmod(max(room, 0), len(template.block))
    count = rounds * len(template.ends) + bisect.bisect_right(template.ends, rest)
    return max(count, 1)


def _chunks(template: _Template, count: int) -> Iterator[bytes]:
    """The header, then ``count`` records in ~64 KiB chunks, AP IDs rewritten past round 1."""
    if template.header:
        yield template.header
    per_round = len(template.ends)
    per_chunk = per_round * max(1, CHUNK // len(template.block))
    # One buffer, reused: from the second chunk on, every AP ID in it is rewritten anyway.
    buffer = bytearray(template.block * (per_chunk // per_round))
    view = memoryview(buffer)
    spots = template.id_spots
    done = 0
    while done < count:
        take = min(count - done, per_chunk)
        for index in range(max(done, per_round), done + take):
            local_round, position = divmod(index - done, per_round)
            offset, width = spots[position]
            if width:
                start = local_round * len(template.block) + offset
                buffer[start : start + width] = _new_id(index, width)
        yield bytes(view[: _length(template, take)])
        done += take
