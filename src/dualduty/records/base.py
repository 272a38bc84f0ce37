"""The record envelope: who did what, when, about which schools, units and people.

A :class:`Record` is what a caller appends; the store seals it into an :class:`Entry`
with its position in the chain and the hash that links it to the entry before. The
``data`` of a record is a typed attrs object of a registered record kind
(:func:`record_kind`); later features (inspections, hazards, meetings, …) register theirs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar

import attrs

from dualduty.model._checks import ID_PATTERN, check_id, check_text

__all__ = [
    "RECORD_KINDS",
    "Entry",
    "Note",
    "Record",
    "RecordData",
    "kind_of",
    "person",
    "place",
    "record_kind",
    "school",
    "unit",
]

#: Subject prefixes: a subject names what a record concerns, as ``"<type>:<id>"``. The
#: organisation's things (and a scheduled visit), then the things the record itself
#: follows through their lives (a hazard, an inspection, an incident, an activity, a
#: meeting, an accountability case, a written report), so that reading one of them back
#: is an indexed lookup.
SUBJECT_TYPES = (
    "school",
    "place",
    "unit",
    "person",
    "post",
    "package",
    "visit",
    "hazard",
    "inspection",
    "incident",
    "activity",
    "meeting",
    "case",
    "report",
    "assessment",
)


def school(id_: str) -> str:
    """The subject string of a school (``"school:s0001"``)."""
    return f"school:{id_}"


def place(id_: str) -> str:
    """The subject string of a place inside a school."""
    return f"place:{id_}"


def unit(id_: str) -> str:
    """The subject string of a unit (``"unit:planning"``)."""
    return f"unit:{id_}"


def person(id_: str) -> str:
    """The subject string of a person."""
    return f"person:{id_}"


class RecordData(Protocol):
    """What the ``data`` of a record is: an attrs instance of a registered kind."""

    __record_kind__: ClassVar[str]
    __attrs_attrs__: ClassVar[Any]


#: Registered record kinds: kind name -> attrs class.
RECORD_KINDS: dict[str, type[Any]] = {}

_T = TypeVar("_T")


def record_kind(name: str) -> Callable[[type[_T]], type[_T]]:
    """Class decorator: register an attrs class as the data of records of kind *name*.

    The class should also offer ``examples()``, a classmethod returning a few instances,
    which the conformance kit round-trips through every store.
    """

    def register(cls: type[_T]) -> type[_T]:
        if not attrs.has(cls):  # checked first: the registry holds attrs classes only
            raise TypeError(f"{cls.__name__} is not an attrs class")
        existing = RECORD_KINDS.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"record kind {name!r} is already {existing.__qualname__}")
        cls.__record_kind__ = name  # type: ignore[attr-defined]  # set on the class itself
        RECORD_KINDS[name] = cls
        return cls  # type: ignore[return-value]  # attrs.has() narrowed it; it is still _T

    return register


def kind_of(data: object) -> str:
    """The registered kind of a record's data."""
    kind = getattr(type(data), "__record_kind__", None)
    if kind is None or RECORD_KINDS.get(kind) is not type(data):
        raise TypeError(f"{type(data).__qualname__} is not a registered record kind")
    return str(kind)


def _check_kind(_inst: object, _a: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or value not in RECORD_KINDS:
        known = ", ".join(sorted(RECORD_KINDS))
        raise ValueError(f"kind: {value!r} is not a registered record kind (known: {known})")


def _check_data(inst: Record, _a: attrs.Attribute[Any], value: object) -> None:
    # A record whose data is not of its kind's class could be written but never read back.
    cls = RECORD_KINDS[inst.kind]
    if type(value) is not cls:
        raise ValueError(
            f"data: a record of kind {inst.kind!r} holds a {cls.__qualname__}, "
            f"not a {type(value).__qualname__}"
        )


_SUBJECT = re.compile(f"(?:{'|'.join(SUBJECT_TYPES)}):{ID_PATTERN}")


def _check_subjects(_inst: object, _a: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    match = _SUBJECT.fullmatch
    for subject in value:
        if not isinstance(subject, str) or match(subject) is None:
            raise ValueError(
                f"subjects: {subject!r} is not '<type>:<id>' with a type among {SUBJECT_TYPES} "
                "and an id of lower-case ASCII letters, digits, '_', '-', '.'"
            )


def _check_aware(_inst: object, _a: attrs.Attribute[Any], value: dt.datetime) -> None:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValueError(f"at: {value!r} must be a date and time with a time zone")


def _subjects(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):  # a lone subject would otherwise become its characters
        raise TypeError(f"subjects: expected a list of subjects, got the text {value!r}")
    return tuple(dict.fromkeys(value))  # unique, first order kept


@attrs.frozen
class Record:
    """Something that happened, as it will be appended to the store.

    :param kind: the registered kind of ``data`` (see :func:`record_kind`); ``data`` must
        be an instance of exactly the class registered under it.
    :param actor: id of the person who did it or recorded it (who).
    :param at: when, a time-zone-aware date and time (stored in the organisation's zone).
    :param data: the typed content (what).
    :param subjects: what it concerns, as ``"school:<id>"``, ``"unit:<id>"``, … strings;
        the store indexes them so records can be read back by subject.
    """

    kind: str = attrs.field(validator=_check_kind)
    actor: str = attrs.field(validator=check_id)
    at: dt.datetime = attrs.field(validator=_check_aware)
    data: Any = attrs.field(validator=_check_data)
    subjects: tuple[str, ...] = attrs.field(
        default=(), converter=_subjects, validator=_check_subjects
    )

    @classmethod
    def of(
        cls,
        data: object,
        *,
        actor: str,
        at: dt.datetime | None = None,
        subjects: Iterable[str] = (),
    ) -> Record:
        """A record of *data*, its kind taken from the data's class; *at* defaults to now."""
        if at is None:
            import pendulum

            at = pendulum.now("Asia/Shanghai")
        return cls(kind_of(data), actor, at, data, tuple(subjects))


@attrs.frozen
class Entry:
    """A record as sealed in the store: its position and the hash chaining it to the one before."""

    seq: int
    """Position in the chain, from 1; also the record's id within its store."""
    record: Record
    prev: str
    """Hash of the entry before (64 zeros for the first)."""
    hash: str
    """SHA-256 (hex) of this entry's canonical JSON, which includes ``prev``."""


@record_kind("note")
@attrs.frozen
class Note:
    """A remark put on the record (备注): free text about its subjects."""

    text: str = attrs.field(validator=check_text)
    topic: str | None = None

    @classmethod
    def examples(cls) -> Sequence[Note]:
        """Instances the conformance kit round-trips."""
        return (cls("消防通道堵塞，已当场整改"), cls("季度调度会纪要", topic="meeting"))
