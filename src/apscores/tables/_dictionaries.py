"""The category columns' dictionaries of the columnar path, shared by every block (and
file) of a table, and the caches that resolve each distinct raw value once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from apscores import catalog
from apscores.files._speed.cache import Cache, Clock
from apscores.files._unknown import Unknown
from apscores.tables._arrays import Array, arrow, irregularities, keys, strings, unkey
from apscores.tables._plan import Plan

__all__ = ["Dictionaries", "Dictionary", "Part", "fresh_codes"]

Part = dict[str, Any]  # column -> pa.Array, or int32 dictionary indices for categories


class Dictionary:
    """One dictionary for a category column across all blocks, in first-appearance order
    (what ``pyarrow.Table.from_pydict`` builds on the reference path)."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def index(self, value: str) -> int:
        """The value's index, adding it at the end if new."""
        index = self._index.get(value)
        if index is None:
            index = self._index[value] = len(self.values)
            self.values.append(value)
        return index

    def indices(self, values: Iterable[str]) -> npt.NDArray[np.int32]:
        """Each value's index, adding new values at the end in the order given."""
        return np.array([self.index(value) for value in values], dtype=np.int32)


class _Everything(set[tuple[str, str]]):
    """The codes a quiet pass has "warned about": all of them."""

    def __contains__(self, item: object) -> bool:
        return True


class Dictionaries:
    """The category columns' dictionaries, shared by every block (and file) of a table."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet  # a second pass over files read before: warn about nothing
        self.names, self.statuses = Dictionary(), Dictionary()
        self.clock = Clock()  # lines read, for the caches' limits
        self.exams = Cache(self.clock)  # exam key -> (name index, code)
        self.marks = Cache(self.clock)  # (codes, grade) -> (status index, codes)
        self.unknown = Unknown()  # the file's unknown codes warned about (each once)
        self.fresh = False  # the block just read holds an unknown code not warned about
        self.known = Cache(self.clock)  # (kind, raw key) whose codes the catalog all knows

    def read_file(self, name: str | None, unknown: Unknown | None = None) -> None:
        """A file's read begins: its unknown codes are warned about anew, naming it
        (``unknown``: the CSV reader's own, which its rows' reference reading warns with)."""
        self.unknown = Unknown(name) if unknown is None else unknown
        if self.quiet:
            self.unknown.told = _Everything()

    def batch(self, part: Part, schema: Any) -> Any:
        """A block's record batch, its categories over the dictionaries as they are now
        (the final ones, or a prefix of them while streaming: the same values)."""
        dictionaries = {
            "exam_name": strings(self.names.values),
            "status": strings(self.statuses.values),
        }
        arrays = []
        for field in schema:
            values = part[field.name]
            if field.name in dictionaries:
                indices = arrow(values, pa.int32())
                values = pa.DictionaryArray.from_arrays(indices, dictionaries[field.name])
            arrays.append(values)
        return pa.RecordBatch.from_arrays(arrays, schema=schema)


def fresh_codes(
    matrix: Array, plan: Plan, codes: Array, marks: Array, dictionaries: Dictionaries
) -> bool:
    """Whether the block holds an exam, irregularity or award code the catalog does not
    know and the file's read has not warned about. Each distinct raw key is looked at once
    per block, and not again once the catalog is found to know all its codes."""
    known = dictionaries.known
    kinds = [keys(matrix[:, kind.slice]) for kind, _ in plan.awards]
    looked: dict[str, list[str]] = {}
    for kind, values, codes_of in (
        ("exam", keys(codes), lambda key: (unkey(key, 2),)),
        ("irregularity", marks, irregularities),
        ("award", np.concatenate(kinds) if kinds else None, lambda key: (unkey(key, 2),)),
    ):
        for key in () if values is None else _unique(values):
            if (kind, key) not in known:
                found = [code for code in codes_of(key) if code]
                if all(map(_KNOWN[kind], found)):
                    known.keep((kind, key), True)
                looked.setdefault(kind, []).extend(found)
    return dictionaries.unknown.fresh(
        looked.get("exam", ()), looked.get("irregularity", ()), looked.get("award", ())
    )


#: Kind of code -> whether the catalog knows a code of that kind.
_KNOWN = {
    "exam": catalog.is_known_exam,
    "irregularity": catalog.is_known_irregularity,
    "award": catalog.is_known_award,
}


def _unique(values: Array) -> list[int]:
    """The distinct int64 keys (hashed: no sort)."""
    found: list[int] = pc.unique(arrow(values, pa.int64())).to_pylist()
    return found
