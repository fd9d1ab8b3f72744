"""Faults as data: the one parser behind ``serve --fault``/``--faults`` and
``POST /_sandbox/faults``, and the shape ``GET /_sandbox/faults`` lists them in.

A fault spec is a JSON object naming a ``kind`` (the :class:`~apscores.sandbox.Faults`
method of the same name, whose signature says which options it takes) and its options,
e.g. ``{"kind": "fail", "endpoint": "generate", "status": 504, "times": 2}``. On the
command line the same spec reads ``fail=generate,status=504,times=2``: the kind, then
its first option without a name (the endpoint; for ``expire_url`` and ``fail_record``
the times, for ``cut_at_record`` the records, for ``expire_token_after`` the calls),
then ``name=value`` pairs. Text values are read as JSON where they can be (``504``,
``1.5``, ``true``, ``null``) and as plain text otherwise.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from apscores.sandbox._faults import KINDS, Faults, check_seconds, endpoint_name

__all__ = ["FaultChange", "FaultSpec", "load_fault_specs", "parse_fault_specs"]

Check = Callable[[str, Any], Any]


def _integer(name: str, value: Any, low: int, *, none: bool = False) -> Any:
    if value is None and none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        also = " or null" if none else ""
        raise ValueError(f"{name} must be an integer >= {low}{also}, got {value!r}")
    return value


def _endpoint(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an endpoint name, got {value!r}")
    return endpoint_name(value)


def _status(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 200 <= value <= 599:
        raise ValueError(f"{name} must be an HTTP status from 200 to 599, got {value!r}")
    return value


def _times(name: str, value: Any) -> int | None:
    result: int | None = _integer(name, value, 1, none=True)
    return result


def _times_records(name: str, value: Any) -> int:
    result: int = _integer(name, value, 1)
    return result


def _count(name: str, value: Any) -> int:
    result: int = _integer(name, value, 0)
    return result


def _calls(name: str, value: Any) -> int | None:
    result: int | None = _integer(name, value, 0, none=True)
    return result


def _seconds(name: str, value: Any) -> float:
    return check_seconds(name, value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {value!r}")
    return value


# One check per option name, whichever kind takes it; which kinds take which options, which
# are required and which one the command line may give without its name all come from the
# signatures of the arming methods (KINDS). An option whose default is None also takes null.
_CHECKS: dict[str, Check] = {
    "endpoint": _endpoint,
    "status": _status,
    "times": _times,
    "message": _text,
    "retry_after": _count,
    "processed": _flag,
    "after_bytes": _count,
    "records": _times_records,
    "seconds": _seconds,
    "calls": _calls,
}

_ALIASES = {"expired_url": "expire_url"}


@functools.cache
def _parameters(kind: str) -> dict[str, inspect.Parameter]:
    """The options of ``kind``: its method's parameters after ``self``, in order."""
    parameters = list(inspect.signature(KINDS[kind]).parameters.values())[1:]
    return {parameter.name: parameter for parameter in parameters}


def _check(kind: str, name: str, value: Any) -> Any:
    if value is None and _parameters(kind)[name].default is None:
        return None
    return _CHECKS[name](name, value)


def _kind(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a fault needs a kind, one of {', '.join(KINDS)}; got {value!r}")
    kind = value.strip().lower().replace("-", "_")
    kind = _ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {value!r}; use one of {', '.join(KINDS)}")
    return kind


def _text_value(text: str) -> Any:
    if text.strip().lower() in ("none", "null"):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


@attrs.frozen
class FaultSpec:
    """One fault as data, checked; :meth:`arm` sets it on a :class:`Faults`."""

    kind: str
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_dict(cls, data: Any) -> FaultSpec:
        """Check a JSON object such as ``{"kind": "fail", "endpoint": "generate"}``."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a fault is a JSON object with a kind, got {data!r}")
        kind = _kind(data.get("kind"))
        parameters = _parameters(kind)
        unknown = sorted(set(data) - set(parameters) - {"kind"})
        if unknown:
            raise ValueError(
                f"fault {kind}: unknown option(s) {', '.join(unknown)}; "
                f"it takes {', '.join(parameters)}"
            )
        missing = [
            name
            for name, parameter in parameters.items()
            if parameter.default is inspect.Parameter.empty and name not in data
        ]
        if missing:
            raise ValueError(f"fault {kind}: missing option(s) {', '.join(missing)}")
        given = [name for name in parameters if name in data]
        options = tuple((name, _check(kind, name, data[name])) for name in given)
        return cls(kind, options)

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Read the command-line form, ``KIND[=VALUE][,NAME=VALUE...]``.

        >>> FaultSpec.parse("fail=generate,status=504,times=2").to_dict()
        {'kind': 'fail', 'endpoint': 'generate', 'status': 504, 'times': 2}
        """
        cut = min((at for at in (text.find("="), text.find(",")) if at >= 0), default=len(text))
        kind, rest = _kind(text[:cut]), text[cut + 1 :]
        positional = next(iter(_parameters(kind)))
        data: dict[str, Any] = {"kind": kind}
        for index, item in enumerate(part for part in rest.split(",") if part.strip()):
            name, equals, value = item.partition("=")
            if not equals:
                if index:
                    raise ValueError(f"fault {kind}: {item!r} needs a name (name=value)")
                name, value = positional, item
            data[name.strip()] = _text_value(value.strip())
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON (``from_dict(spec.to_dict()) == spec``)."""
        return {"kind": self.kind, **dict(self.options)}

    def to_text(self) -> str:
        """The command-line form (``FaultSpec.parse(spec.to_text()) == spec``)."""
        positional = next(iter(_parameters(self.kind)))
        items = []
        for index, (name, value) in enumerate(self.options):
            shown = value if isinstance(value, str) and _text_value(value) == value else None
            text = shown if shown is not None else json.dumps(value)
            items.append(text if index == 0 and name == positional else f"{name}={text}")
        return f"{self.kind}={','.join(items)}" if items else self.kind

    def arm(self, faults: Faults) -> None:
        """Arm the fault on ``faults``."""
        getattr(faults, self.kind)(**dict(self.options))


def parse_fault_specs(data: Any) -> list[FaultSpec]:
    """One spec, a list of them, or a listing (``{"armed": [...]}``), as decoded JSON."""
    if isinstance(data, Mapping) and set(data) == {"armed"}:
        data = data["armed"]
    items = data if isinstance(data, list) else [data]
    return [FaultSpec.from_dict(item) for item in items]


def load_fault_specs(path: Path) -> list[FaultSpec]:
    """The specs in a JSON file (one object or a list); ValueError if unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    except RecursionError:
        raise ValueError(f"{path} is not valid JSON: nested too deeply") from None
    return parse_fault_specs(data)


@attrs.frozen
class FaultChange:
    """A change to the armed faults: clear them first or not, then add some."""

    clear: bool = False
    add: tuple[FaultSpec, ...] = ()

    @classmethod
    def from_dict(cls, data: Any) -> FaultChange:
        """Check ``{"add": [...]}``, ``{"set": [...]}`` (clear, then add), ``{"clear": true}``
        (``clear`` and ``add`` go together too) or a listing, ``{"armed": [...]}`` as
        ``GET /_sandbox/faults`` answers it (the same as ``set``).
        """
        if not isinstance(data, Mapping):
            raise ValueError(
                'send a JSON object: {"add": [...]}, {"set": [...]}, {"clear": true} '
                'or a listing {"armed": [...]}'
            )
        unknown = sorted(set(data) - {"add", "set", "clear", "armed"})
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown)}; use add, set, clear or armed")
        if "armed" in data:
            if len(data) > 1:
                raise ValueError("armed (a listing) means clear, then add: send it alone")
            data = {"set": data["armed"]}
        if "set" in data and ("add" in data or "clear" in data):
            raise ValueError("set means clear, then add: send set alone")
        clear = data.get("clear", False)
        if not isinstance(clear, bool):
            raise ValueError(f"clear must be true or false, got {clear!r}")
        if "set" in data:
            return cls(True, tuple(parse_fault_specs(data["set"])))
        return cls(clear, tuple(parse_fault_specs(data.get("add", []))))

    def apply(self, faults: Faults) -> None:
        """Carry the change out (every spec was checked already, so it cannot half-apply)."""
        if self.clear:
            faults.clear()
        for spec in self.add:
            spec.arm(faults)
