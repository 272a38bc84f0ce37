"""Private cattrs converters for schedule items, one per file format.

``json`` structures JSON data strictly (dates as ``YYYY-MM-DD`` text, ``announced`` as
``true``/``false``, inspectors as a list). ``csv`` and ``xlsx`` structure the cells of a
row: text as a spreadsheet holds it (``"3"`` for a quarter, ``"2026/3/10"`` for a date,
``"明查"``/``"暗访"``, inspectors separated by ``、``), and for Excel also numbers and
date cells. Errors go through :func:`cattrs.transform_error` (via
:func:`~dualduty.io._converters.problems_from`) so that each names the field it is about.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import cache
from typing import Any, Literal, get_args, get_origin

import attrs
import cattrs
import pendulum

from dualduty.io._converters import (
    _structure_collection,
    _structure_date,
    _structure_str,
    _structure_table,
)

from ._common import ANNOUNCED_LABELS

__all__ = ["Format", "converter", "split_ids"]

Format = Literal["json", "csv", "xlsx"]

_ANNOUNCED = {label: value for value, label in ANNOUNCED_LABELS.items()}
_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_WHOLE = re.compile(r"-?[0-9]+")
#: Inspectors in one cell: separated by 、 (as written), commas, semicolons or spaces.
_ID_SEPARATORS = re.compile(r"[\s、,，;；]+")


def split_ids(cell: str) -> tuple[str, ...]:
    """The ids in one cell, in order (``"a、b"``, ``"a, b"``, ``"a;b"`` …)."""
    return tuple(part for part in _ID_SEPARATORS.split(cell) if part)


# -- JSON ------------------------------------------------------------------------------


def _json_int(value: Any, type_: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {type(value).__name__} {value!r}")
    return value


def _json_bool(value: Any, _type: type) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {type(value).__name__} {value!r}")
    return value


# -- cells of a CSV file or an Excel sheet ---------------------------------------------


def _cell_str(value: Any, type_: type) -> Any:
    if type_ is not str:
        return type_(value)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):  # an id Excel took for a number
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raise ValueError(f"expected text, got {value!r}")


def _cell_int(value: Any, type_: type) -> Any:
    if type_ is not int:
        return type_(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value)
    raise ValueError(f"{value!r} is not a whole number")


def _cell_date(value: Any, _type: type) -> dt.date:
    if isinstance(value, dt.datetime):  # an Excel date cell
        if value.tzinfo is None and value.time() == dt.time():
            return pendulum.date(value.year, value.month, value.day)
        raise ValueError(f"{value.isoformat(sep=' ')!r} is not a date (it has a time of day)")
    if isinstance(value, dt.date):
        return pendulum.date(value.year, value.month, value.day)
    if isinstance(value, str):
        m = _DATE.fullmatch(value.strip())
        if m is None:
            raise ValueError(f"{value!r} is not a date (write YYYY-MM-DD)")
        try:
            return pendulum.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise ValueError(f"{value!r} is not a date") from None
    raise ValueError(f"{value!r} is not a date (write YYYY-MM-DD)")


def _cell_announced(value: Any, _type: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip() in _ANNOUNCED:
        return _ANNOUNCED[value.strip()]
    raise ValueError(f"{value!r} is not 明查 or 暗访")


def _is_id_tuple(t: Any) -> bool:
    return get_origin(t) is tuple and get_args(t) == (str, ...)


def _cell_ids(value: Any, _type: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return split_ids(value)
    raise ValueError(f"expected ids separated by 、, got {value!r}")


@cache
def converter(fmt: Format) -> cattrs.Converter:
    """The converter that structures schedule items read from *fmt*."""
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook_factory(attrs.has, _structure_table)
    hooks: dict[type, Callable[[Any, Any], Any]]
    if fmt == "json":
        conv.register_structure_hook_factory(_is_id_tuple, _structure_collection)
        hooks = {dt.date: _structure_date, str: _structure_str, int: _json_int, bool: _json_bool}
    else:
        conv.register_structure_hook_func(_is_id_tuple, _cell_ids)
        hooks = {dt.date: _cell_date, str: _cell_str, int: _cell_int, bool: _cell_announced}
    # Class hooks: cattrs consults them before predicate hooks; bool is registered on its
    # own so that it does not fall to the hook for int (its base class).
    for type_, hook in hooks.items():
        conv.register_structure_hook(type_, hook)
    return conv
