"""attrs validators shared by the model classes (no I/O)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import attrs

ID_PATTERN = r"[a-z0-9](?:[a-z0-9_.-]{0,62}[a-z0-9])?"
_ID = re.compile(ID_PATTERN)


def is_id(value: object) -> bool:
    """Whether *value* is a valid dualduty id (an ASCII slug)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def check_id(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """attrs validator: *value* is an ASCII slug id."""
    if not is_id(value):
        raise ValueError(
            f"{attribute.name}: {value!r} is not a valid id "
            "(lower-case ASCII letters, digits, '_', '-', '.'; 1-64 characters)"
        )


def check_ids(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """attrs validator: a tuple or frozenset of ids."""
    for item in value:  # type: ignore[attr-defined]  # validated iterable
        if not is_id(item):
            raise ValueError(f"{attribute.name}: {item!r} is not a valid id")


def check_text(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """attrs validator: a non-blank string."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name}: must be non-empty text")


def check_optional(
    check: Callable[[object, attrs.Attribute[Any], object], None],
) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Wrap *check* so that ``None`` passes."""

    def _check(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            check(inst, attribute, value)

    return _check


def check_non_negative(_inst: object, attribute: attrs.Attribute[Any], value: int) -> None:
    """attrs validator: an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{attribute.name}: expected a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{attribute.name}: must be >= 0, got {value}")


def check_date(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """attrs validator: a calendar date (not a date and time)."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValueError(f"{attribute.name}: expected a date, got {value!r}")
