"""The ``with`` shape shared by the objects that hold something to close."""

from __future__ import annotations

import abc
from types import TracebackType

from typing_extensions import Self

__all__ = ["Closing"]


class Closing(abc.ABC):
    """``with obj:`` gives ``obj`` and calls ``obj.close()`` on the way out, error or not."""

    __slots__ = ()

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the object holds."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
