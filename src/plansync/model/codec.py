"""Plans as JSON-ready data and back, for the render cache: plain lists in field order (no code runs
on loading, unlike a pickle), dates and times as ISO text. Built from the dataclasses' own fields, so a
field added to a plan type needs nothing here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from collections.abc import Callable
from typing import Any

from plansync.model.plan import Plan

Decoder = Callable[[Any], Any]


def encode(value: Any) -> Any:
    """Dataclasses as lists of their fields, tuples as lists, dates and times as ISO text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [encode(getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dt.date | dt.time):  # (a datetime is a date too)
        return value.isoformat()
    return value


def decode_plan(data: Any) -> Plan:
    """The plan `encode` gave; ValueError or TypeError when the data is not one."""
    plan: Plan = _decoder(Plan)(data)
    return plan


@functools.cache
def _decoder(kind: Any) -> Decoder:  # `Any`: a type, a union, a generic alias or a Literal
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        inner = _decoder(options[0]) if len(options) == 1 else _any
        return lambda v: None if v is None else inner(v)
    if origin is tuple:
        item = _decoder(typing.get_args(kind)[0])
        return lambda v: tuple(item(x) for x in _list(v))
    if origin is typing.Literal:
        return _any
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        names = [f.name for f in dataclasses.fields(kind)]
        parts = [_decoder(hints[n]) for n in names]
        build = typing.cast(Callable[..., Any], kind)
        return lambda v: build(*(d(x) for d, x in zip(parts, _list(v), strict=True)))
    if kind is dt.date:
        return _of(str, dt.date.fromisoformat)
    if kind is dt.time:
        return _of(str, dt.time.fromisoformat)
    if kind in (str, int, bool, float):
        return _of(kind, lambda v: v)
    raise TypeError(f"no decoder for {kind!r}")


def _any(value: Any) -> Any:
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, not {type(value).__name__}")
    return value


def _of(kind: type, then: Callable[[Any], Any]) -> Decoder:
    def check(value: Any) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"expected {kind.__name__}, not {type(value).__name__}")
        return then(value)

    return check
