"""Building frozen records fast: the readers' one trick, kept in one small, tested place.

attrs' ``__init__`` of a frozen slotted class stores each field through
``object.__setattr__`` (about 100 ns a field); a reader that builds three records per line
spends more time there than on the file. :func:`twin` makes a subclass with the same
slots that allows plain attribute stores; a reader fills an instance of it with ordinary
``obj.field = value`` statements (about 20 ns each) and then gives it the real class::

    record = new(Twin)             # object.__new__
    record.code = "07"; ...        # every field, in any order
    record.__class__ = ExamScore   # now frozen: equal, hashable, evolvable like any other

CPython allows the ``__class__`` assignment because the twin adds no slots; it keeps the
fast attribute path only when the twin restores both ``__setattr__`` and ``__delattr__``.
:func:`twin` refuses a class whose ``__init__`` would do more than store the values
(validators, converters, hooks, a cached hash), so the trick can never skip a rule; a
reader must set every field (the tests compare each record with the plain constructor's).
"""

from __future__ import annotations

import types
from typing import Any

import attrs

__all__ = ["twin"]


def twin(cls: type[Any]) -> type[Any]:
    """A mutable stand-in for the frozen attrs class ``cls`` (see the module docstring)."""
    fields = attrs.fields(cls)
    names = {f.name for f in fields}
    slots = set(getattr(cls, "__slots__", ()))
    plain = (
        attrs.has(cls)
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and slots <= {*names, "__weakref__"}  # no cached hash slot
        and all(
            f.init and f.validator is None and f.converter is None and f.on_setattr is None
            for f in fields
        )
        and all(isinstance(cls.__dict__.get(name), types.MemberDescriptorType) for name in names)
    )
    if not plain:
        raise TypeError(f"{cls.__qualname__} does more in __init__ than store its fields")
    namespace = {
        "__slots__": (),
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
        "__doc__": f"Mutable twin of {cls.__qualname__}, for building it (never kept).",
    }
    return type(f"_{cls.__name__}Twin", (cls,), namespace)
