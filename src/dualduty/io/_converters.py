"""Private cattrs converters, one per file format, and the error translation they share.

The model classes are plain attrs classes; these converters turn them into the
primitive data of a file and back. Structuring errors go through
:func:`cattrs.transform_error` so that each one carries the path inside the document.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Literal, get_args, get_origin

import attrs
import cattrs
import pendulum
from cattrs.cols import list_structure_factory
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from dualduty.errors import Problem

Format = Literal["toml", "json", "yaml"]

__all__ = ["Format", "converter", "problems_from"]


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _structure_date(value: Any, _type: type) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"expected a date, got a date and time {value.isoformat()}")
    if isinstance(value, dt.date):
        return pendulum.date(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            if not _ISO_DATE.fullmatch(value):  # fromisoformat also takes 20240901, 2024-W36-1
                raise ValueError(value)
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None
        return pendulum.date(parsed.year, parsed.month, parsed.day)
    raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")


def _structure_str(value: Any, type_: type) -> Any:
    # cattrs' default calls str() on anything; a number where text belongs is a mistake.
    if type_ is not str:  # a str enum: its own constructor says what is wrong
        return type_(value)
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__} {value!r}")
    return value


def _structure_int(value: Any, type_: type) -> Any:
    if type_ is not int:  # an int enum (or bool): its own constructor says what is wrong
        return type_(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {type(value).__name__} {value!r}")
    return value


def _structure_bool(value: Any, _type: type) -> bool:
    # Without this hook the int hook would call bool() on anything: "no" would be true.
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {type(value).__name__} {value!r}")
    return value


def _is_set(t: Any) -> bool:
    return get_origin(t) in (frozenset, set) or t in (frozenset, set)


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _is_collection(t: Any) -> bool:
    return get_origin(t) in (tuple, frozenset)


def _structure_collection(t: Any, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    # cattrs iterates whatever it is given, so ``schools = "s1"`` would become
    # ("s", "1"); a collection must be written as a list.
    item = get_args(t)[0]
    as_list = list_structure_factory(list[item], conv)  # type: ignore[valid-type]
    make = get_origin(t)

    def structure(value: Any, _type: Any) -> Any:
        if not isinstance(value, list | tuple | set | frozenset):
            raise ValueError(f"expected a list, got {type(value).__name__} {value!r}")
        return make(as_list(value, list[item]))  # type: ignore[valid-type]

    return structure


def _structure_table(t: Any, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    # Without this check, text or a number where a table belongs fails deep inside
    # cattrs ("'str' object has no attribute 'keys'").
    inner = conv.gen_structure_attrs_fromdict(t)

    def structure(value: Any, type_: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a table of keys, got {type(value).__name__} {value!r}")
        return inner(value, type_)

    return structure


@cache
def converter(fmt: Format) -> cattrs.Converter:
    """The converter for one file format (``toml``, ``json`` or ``yaml``)."""
    conv = cattrs.Converter(forbid_extra_keys=True, omit_if_default=True, detailed_validation=True)
    conv.register_structure_hook(dt.date, _structure_date)
    # Class hooks: cattrs consults them before any predicate hook, so a predicate hook
    # for ``t is str`` would never run. They also catch str and int subclasses (enums),
    # which the hooks hand to the subclass's own constructor.
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook_factory(_is_collection, _structure_collection)
    conv.register_structure_hook_factory(attrs.has, _structure_table)
    if fmt == "json":
        conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    else:  # TOML and YAML hold dates natively; write plain dates, not pendulum's subclass
        conv.register_unstructure_hook(dt.date, lambda d: dt.date(d.year, d.month, d.day))

    # Enums are written as their plain values. cattrs' hook for str also catches str
    # enums and passes them through as they are, which PyYAML's safe dumper cannot
    # represent; a hook on StrEnum comes first in their MRO.
    conv.register_unstructure_hook(enum.StrEnum, _enum_value)
    conv.register_unstructure_hook(enum.Enum, _enum_value)

    def unstructure_set(value: frozenset[Any]) -> list[Any]:
        # Sets are written sorted so that a file is the same every time it is written.
        return sorted(conv.unstructure(v) for v in value)

    conv.register_unstructure_hook_func(_is_set, unstructure_set)
    _register_notify(conv)
    return conv


def _register_notify(conv: cattrs.Converter) -> None:
    """The ``[notify]`` table: channels, contacts and templates keyed by name in a file."""
    from dualduty.model.notify import NotifySettings

    from ._notify import structure_notify, unstructure_notify

    def structure(value: Any, _type: Any) -> NotifySettings:
        loaded = structure_notify(value, conv)
        if loaded.settings is None or loaded.problems:  # from_data reports each with its path
            raise ValueError("; ".join(str(p) for p in loaded.problems))
        return loaded.settings

    conv.register_structure_hook(NotifySettings, structure)
    conv.register_unstructure_hook(NotifySettings, lambda s: unstructure_notify(s, conv))


_FIELD_MESSAGE = re.compile(r"^'?(?P<field>[a-z_]+)'?(?::\s*| (?=must ))(?P<message>.*)$", re.S)


_EXTRA = "unknown key "
_KEY_SEP = "\x1f"
_ENUM_VALUE = re.compile(r"^(.*) is not a valid \w+$", re.S)


def _format_exception(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, ForbiddenExtraKeysError):
        # one problem per key, each pointing at the key (split again in problems_from)
        return _EXTRA + _KEY_SEP.join(sorted(exc.extra_fields))
    if isinstance(exc, ValueError) and isinstance(type_, type) and issubclass(type_, enum.Enum):
        # Python's message names the class ("not a valid SchoolLevel"); a file's author
        # needs the values the file may hold instead.
        value = _ENUM_VALUE.sub(r"\1", str(exc))
        choices = ", ".join(repr(m.value) for m in type_)
        return f"{value} is not one of: {choices}"
    if isinstance(exc, ValueError | TypeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def problems_from(exc: BaseException, prefix: str = "") -> list[Problem]:
    """Turn a cattrs structuring error into problems with paths under *prefix*."""
    out: list[Problem] = []
    if isinstance(exc, ClassValidationError | IterableValidationError):
        lines = cattrs.transform_error(exc, path="$", format_exception=_format_exception)
    else:
        lines = [f"{_format_exception(exc, None)} @ $"]
    for line in lines:
        message, _, where = line.rpartition(" @ ")
        path = where.removeprefix("$").lstrip(".")
        if message.startswith(_EXTRA):
            for key in message.removeprefix(_EXTRA).split(_KEY_SEP):
                out.append(Problem(_join(prefix, _join(path, key)), f"unknown key {key!r}"))
            continue
        # attrs validators run in __init__, so cattrs reports them against the class;
        # their messages name the field ("students: must be >= 0"), which belongs in the path.
        m = _FIELD_MESSAGE.match(message)
        if m and not message.startswith(("unknown key", "required field")):
            path = f"{path}.{m['field']}" if path else m["field"]
            message = m["message"]
        out.append(Problem(_join(prefix, path), message))
    return out


def _join(head: str, tail: str) -> str:
    """Join two parts of a path: ``units[0]`` + ``posts[1]``, ``units`` + ``[0]``."""
    if not head or not tail:
        return head or tail
    return f"{head}{'' if tail.startswith('[') else '.'}{tail}"
