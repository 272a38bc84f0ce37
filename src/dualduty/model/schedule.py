"""A year's (or a quarter's) schedule: visits, meetings and deadlines (clauses 二(三), 三.2, 三.3).

Plain values, no I/O: :mod:`dualduty.planning` generates and validates schedules, and
:mod:`dualduty.io` exports them (iCalendar, CSV, Excel, JSON). Dates are
:class:`datetime.date`\\ s (what dualduty builds are pendulum dates, which are dates);
every item has a stable ``id`` so that a re-export updates calendar entries instead of
duplicating them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum

import attrs

from ._checks import check_id, check_ids, check_text

__all__ = [
    "Deadline",
    "DeadlineKind",
    "Meeting",
    "MeetingKind",
    "Schedule",
    "Violation",
    "Visit",
    "quarter_of",
]


def _ids(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("expected a list of ids, got a string")
    return tuple(value)


def _quarter(_inst: object, _a: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= 4:
        raise ValueError(f"quarter must be 1 to 4, got {value}")


def quarter_of(day: dt.date) -> int:
    """The quarter (1-4) of a day.

    >>> import datetime as dt
    >>> from dualduty.model.schedule import quarter_of
    >>> quarter_of(dt.date(2026, 9, 30)), quarter_of(dt.date(2026, 10, 1))
    (3, 4)
    """
    return (day.month - 1) // 3 + 1


@attrs.frozen
class Visit:
    """A dedicated inspection (专门督查) of a packaged school by one package holder (三.2).

    :param id: stable across runs for the same package, quarter and rank.
    :param school: the school's id.
    :param holder: the package holder: a leading-group post id or a section's unit id.
    :param date: the day of the visit.
    :param quarter: the quarter (1–4) the visit counts for.
    :param inspectors: the posts who go: the leading-group post itself, or staff posts of
        the section (the package's ``staff``).
    :param announced: ``False`` for an unannounced visit (暗访), which is left out of
        every school-facing export.
    :param joint: the id of the other holder visiting the school with this one on the
        same day (leader and section together), or ``None``.
    """

    id: str = attrs.field(validator=check_id)
    school: str = attrs.field(validator=check_id)
    holder: str = attrs.field(validator=check_id)
    date: dt.date
    quarter: int = attrs.field(validator=_quarter)
    inspectors: tuple[str, ...] = attrs.field(converter=_ids, validator=check_ids)
    announced: bool = True
    joint: str | None = None


class MeetingKind(StrEnum):
    """What a meeting is for."""

    TOPIC_STUDY = "topic_study"
    """专题研究: a section studies school safety (二(三).1: at least twice a quarter)."""
    COORDINATION = "coordination"
    """调度会: the quarterly coordination meeting of all sections (三.3)."""
    SUMMARY = "summary"
    """总结表彰会: the annual summary and commendation meeting (二(一).3)."""


@attrs.frozen
class Meeting:
    """A meeting on the schedule.

    :param unit: the unit holding it: the section for a topic study; the leading group
        (or its office) for the coordination and summary meetings.
    """

    id: str = attrs.field(validator=check_id)
    kind: MeetingKind = attrs.field(converter=MeetingKind)
    unit: str = attrs.field(validator=check_id)
    date: dt.date
    quarter: int | None = None
    title: str | None = attrs.field(default=None, validator=attrs.validators.optional(check_text))


class DeadlineKind(StrEnum):
    """What falls due."""

    QUARTER_REPORT = "quarter_report"
    """各科室每季度末…书面报…办公室: a section's written report to the office (三.2)."""


@attrs.frozen
class Deadline:
    """Something a unit must hand in by a day.

    :param unit: the unit that owes it.
    :param due: the last day it is on time.
    :param to: the unit it goes to (the leading group's office for quarter reports).
    """

    id: str = attrs.field(validator=check_id)
    kind: DeadlineKind = attrs.field(converter=DeadlineKind)
    unit: str = attrs.field(validator=check_id)
    due: dt.date
    quarter: int | None = None
    to: str | None = None


def _visits(value: Iterable[Visit]) -> tuple[Visit, ...]:
    return tuple(value)


def _meetings(value: Iterable[Meeting]) -> tuple[Meeting, ...]:
    return tuple(value)


def _deadlines(value: Iterable[Deadline]) -> tuple[Deadline, ...]:
    return tuple(value)


@attrs.frozen
class Schedule:
    """Everything scheduled for a year, or one quarter of it.

    :param year: the year.
    :param quarter: the quarter, or ``None`` for the whole year.
    """

    year: int
    quarter: int | None = None
    # typed converters: with ``converter=tuple`` mypy rejects a list of visits
    visits: tuple[Visit, ...] = attrs.field(default=(), converter=_visits)
    meetings: tuple[Meeting, ...] = attrs.field(default=(), converter=_meetings)
    deadlines: tuple[Deadline, ...] = attrs.field(default=(), converter=_deadlines)


@attrs.frozen
class Violation:
    """One way a schedule breaks the rules or the calendar.

    :param kind: a short name (``weekend``, ``holiday``, ``blackout``, ``missing_visit``,
        ``too_close``, ``inspector_overbooked``, …).
    :param subject: the id of the visit, meeting, deadline or package concerned.
    :param clause: the clause of the plan (or rule) broken.
    :param message: why, in words.
    """

    kind: str = attrs.field(validator=check_text)
    subject: str = attrs.field(validator=check_text)
    clause: str = attrs.field(validator=check_text)
    message: str = attrs.field(validator=check_text)
