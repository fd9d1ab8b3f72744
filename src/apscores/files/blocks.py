"""The one block reader: bytes in, whole lines out, a block at a time, for every reader.

The typed TXT reader, the CSV reader, the download check and the columnar path all read a
byte stream through :func:`blocks`, so they see the same lines, numbered the same way.

The line rule, decided once per file:

- LF ends a line, and a CR just before it belongs to the ending (CRLF); LF and CRLF may
  mix. A line ending in ``\\r\\r\\n`` keeps one CR as data, which every reader refuses.
- A file whose first :data:`DECIDE` bytes (or the whole file, if shorter) hold a CR and
  no LF is CR-only (an old Mac export): there a CR ends each line. The choice is made
  once, from those bytes, never from the first line alone, and is the same whatever the
  block size of the reader.
- Anywhere else a lone CR is data: a control byte, which the readers refuse naming the
  line and field (TXT) or the cell (CSV).
- A UTF-8 byte-order mark at the start of the file is dropped (line 1 stays line 1).
- The DOS end-of-file mark (Ctrl-Z, ``0x1A``) as the last byte of the file is dropped,
  whether a line ending comes before it or not.
- The last line may lack its ending.
- A line longer than :data:`MAX_LINE` bytes is never held: it is reported as a
  :class:`LongLine` (its number, length and first bytes) while the reader reads past it,
  so memory stays within a few blocks and time linear in the file, whatever the input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs

__all__ = [
    "BLOCK",
    "BOM",
    "CONTROL",
    "DECIDE",
    "MAX_LINE",
    "Block",
    "LongHead",
    "LongLine",
    "Piece",
    "blocks",
    "decide_ending",
]

#: Bytes read at a time by default.
BLOCK = 1 << 20
#: Bytes the line-ending rule looks at (the first ones of the file).
DECIDE = 1 << 16
#: The longest line kept (a TXT record is 952 bytes, a CSV row a few kilobytes).
MAX_LINE = 1 << 18
#: How much of a :class:`LongLine` is kept, for the error message.
HEAD = 1024
BOM = b"\xef\xbb\xbf"
_CTRL_Z = b"\x1a"
#: Bytes no score file holds inside a record or a cell: C0 controls (tab and line breaks
#: too), DEL, and the C1 range (``0x80``-``0x9F``), which Latin-1 text never means.
CONTROL = bytes([*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)])


#: Every byte but the control bytes: deleting them leaves a block's control bytes.
_NOT_CONTROL = bytes(sorted(set(range(256)) - set(CONTROL)))


@attrs.frozen
class Block:
    """Whole lines of the file: ``data`` holds ``lines`` lines, each with its ending
    (only the file's last line may lack one), the first of them line ``first``;
    ``controls`` is every control byte of ``data`` in order, its line endings included
    (one C-level pass gives the line count and tells a clean block at once)."""

    data: bytes
    first: int
    lines: int
    ending: bytes
    controls: bytes

    @classmethod
    def of(cls, data: bytes, first: int, ending: bytes) -> Block:
        """The block of ``data``, which starts at line ``first``."""
        controls = data.translate(None, _NOT_CONTROL)
        lines = controls.count(ending)
        return cls(data, first, lines + (data[-1:] != ending), ending, controls)

    def contents(self) -> list[bytes]:
        """Each line without its ending (and, with LF, without one CR before it)."""
        parts = self.data.split(self.ending)
        if parts[-1] == b"":
            parts.pop()
        if self.ending == b"\n":
            return [part[:-1] if part[-1:] == b"\r" else part for part in parts]
        return parts

    def with_endings(self) -> list[bytes]:
        """Each line with its ending, as the ``csv`` module wants them."""
        if self.ending == b"\n":
            return self.data.splitlines(keepends=True) if b"\r" not in self.data else _lf(self.data)
        parts = self.data.split(b"\r")
        last = parts.pop()
        lines = [part + b"\r" for part in parts]
        if last:
            lines.append(last)
        return lines


def _lf(data: bytes) -> list[bytes]:
    """Lines split at LF only (a lone CR stays inside its line)."""
    parts = data.split(b"\n")
    last = parts.pop()
    lines = [part + b"\n" for part in parts]
    if last:
        lines.append(last)
    return lines


@attrs.frozen
class LongLine:
    """A line longer than :data:`MAX_LINE`: never held, only reported."""

    line: int
    length: int
    head: bytes


Piece = Block | LongLine


class LongHead(bytes):
    """The first bytes of a :class:`LongLine`, standing for the line where a line is
    looked at (the format check), and knowing the line's ``length``."""

    length: int

    @classmethod
    def of(cls, line: LongLine) -> LongHead:
        head = cls(line.head)
        head.length = line.length
        return head


def decide_ending(head: bytes) -> bytes:
    """The file's line ending from its first bytes: CR when they hold a CR and no LF."""
    window = head[:DECIDE]
    return b"\r" if b"\n" not in window and b"\r" in window else b"\n"


def _fill(read: Callable[[int], bytes], size: int) -> bytes:
    """Up to ``size`` bytes: short only at the end of the stream."""
    data = read(size)
    if len(data) >= size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def blocks(
    read: Callable[[int], bytes], size: int = BLOCK, max_line: int = MAX_LINE
) -> Iterator[Piece]:
    """The stream's lines in blocks of about ``size`` bytes, by the rule of this module.

    Once the first line shows a length, blocks are read as a whole number of such lines,
    so a file of equal lines is never copied to carry a cut line over.
    """
    head = _fill(read, DECIDE).removeprefix(BOM)
    if not head:
        return
    ending = decide_ending(head)
    first_end = head.find(ending)
    stride = first_end + 1 if 0 <= first_end < size else 0
    step = stride * max(1, size // stride) if stride else size
    taken = 0

    def take(wanted: int) -> bytes:
        """``wanted`` bytes (fewer at the end): what is left of the head first."""
        nonlocal taken
        if taken >= len(head):
            return _fill(read, wanted)
        part = head[taken : taken + wanted]
        taken += len(part)
        return part + _fill(read, wanted - len(part)) if len(part) < wanted else part

    data = take(step)
    number = 1
    pending = b""  # the start of a line cut by the end of a read (at most max_line + 1)
    skipping = -1  # the length so far of a long line being read past; -1 when none
    kept = b""  # the first bytes of that line
    cr_before = False  # whether the bytes before ``data`` ended with a CR
    while True:
        following = take(_next_size(step, stride, len(pending)))
        if not following:
            data = data.removesuffix(_CTRL_Z)
        tail = data[-1:]
        cut = data.rfind(ending) + 1
        if cut:
            end = cut - 1 if cut == 1 else data.find(ending)
            crlf = ending == b"\n" and (data[end - 1 : end] == b"\r" if end else cr_before)
            if skipping >= 0 or len(pending) + end - crlf > max_line:
                if skipping < 0:
                    kept, skipping = (pending + data[:HEAD])[:HEAD], len(pending)
                yield LongLine(number, skipping + end - crlf, kept)
                number += 1
                skipping, pending = -1, b""
                data, cut = data[end + 1 :], cut - end - 1
        if skipping >= 0:
            skipping += len(data)
        elif cut == 0:
            if len(pending) + len(data) > max_line + 1:  # + 1: a CR of a CRLF to come
                kept, skipping = (pending + data[:HEAD])[:HEAD], len(pending) + len(data)
                pending = b""
            else:
                pending += data
        else:
            whole = pending + data[:cut] if pending or cut < len(data) else data
            block = Block.of(whole, number, ending)
            yield block
            number += block.lines
            pending = data[cut:]
            if len(pending) > max_line + 1:
                kept, skipping, pending = pending[:HEAD], len(pending), b""
        if not following:
            break
        cr_before = tail == b"\r" if tail else cr_before
        data = following
    # The last line, without its ending; with LF endings a final lone CR is its ending.
    final_cr = ending == b"\n" and (tail == b"\r" if tail else cr_before)
    if skipping >= 0:
        yield LongLine(number, skipping - final_cr, kept)
    elif pending:
        if len(pending) - final_cr > max_line:
            yield LongLine(number, len(pending) - final_cr, pending[:HEAD])
        else:
            yield Block.of(pending, number, ending)


def _next_size(step: int, stride: int, pending: int) -> int:
    """Read to the end of a cut line first, so later reads start at a line again."""
    return stride - pending if stride and 0 < pending < stride else step
