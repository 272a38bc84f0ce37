"""Validators and converters the record kinds share (attrs field helpers; no I/O)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import attrs

from dualduty.model._checks import check_id, check_text


def opt_id(inst: object, a: attrs.Attribute[Any], value: str | None) -> None:
    """An id, or ``None``."""
    if value is not None:
        check_id(inst, a, value)


def opt_text(inst: object, a: attrs.Attribute[Any], value: str | None) -> None:
    """A text, or ``None``."""
    if value is not None:
        check_text(inst, a, value)


def texts(inst: object, a: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    """Every item a text."""
    for text in value:
        check_text(inst, a, text)


def strings(value: Iterable[str]) -> tuple[str, ...]:
    """A tuple of strings; one string is one item (not its characters)."""
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def positive(_inst: object, a: attrs.Attribute[Any], value: int) -> None:
    """A whole number >= 1 (not a bool)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{a.name}: expected a whole number >= 1, got {value!r}")


def non_negative(_inst: object, a: attrs.Attribute[Any], value: int) -> None:
    """A whole number >= 0 (not a bool)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{a.name}: expected a whole number >= 0, got {value!r}")


def date_only(_inst: object, a: attrs.Attribute[Any], value: object) -> None:
    """A date, not a date and time."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValueError(f"{a.name}: expected a date, got {value!r}")
