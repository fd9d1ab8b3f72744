"""The category columns' dictionaries of the columnar path, shared by every block (and
file) of a table, and the caches that resolve each distinct raw value once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from apscores.files._speed.cache import Cache, Clock
from apscores.files._unknown import Unknown
from apscores.tables._arrays import arrow, strings

__all__ = ["Dictionaries", "Dictionary", "Part"]

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
