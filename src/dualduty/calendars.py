"""Working-day calendars: the types calendar plugins provide.

China's statutory holidays move every year and come with make-up working days (调休),
so dualduty never guesses them: a year is known only when a provider supplies it.
The built-in data, school terms and the working-day arithmetic come later; this module
fixes what the calendar hooks exchange.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import attrs

from .model._checks import check_text

__all__ = ["HolidayProvider", "HolidayYear", "Term", "TermProvider"]


def _dates(value: Iterable[dt.date]) -> frozenset[dt.date]:
    return frozenset(value)


@attrs.frozen
class HolidayYear:
    """One year of statutory holidays: extra days off and make-up working days.

    :param year: the year.
    :param days_off: dates that are holidays (法定节假日 and the days joined to them).
    :param workdays: weekend dates that are working days (调休上班).
    :param names: ``(date, name)`` pairs naming the holidays (``春节``, …).
    :param source: where the data comes from, for error messages and audits.
    """

    year: int
    days_off: frozenset[dt.date] = attrs.field(converter=_dates)
    workdays: frozenset[dt.date] = attrs.field(converter=_dates, factory=frozenset)
    names: tuple[tuple[dt.date, str], ...] = ()
    source: str = "unknown"

    def __attrs_post_init__(self) -> None:
        for day in self.days_off | self.workdays:
            if day.year != self.year:
                raise ValueError(f"{day.isoformat()} is not in {self.year}")
        both = self.days_off & self.workdays
        if both:
            first = min(both).isoformat()
            raise ValueError(f"{first} is both a day off and a working day")


@attrs.frozen
class Term:
    """A school term (学期) or a vacation (寒假, 暑假)."""

    name: str = attrs.field(validator=check_text)
    start: dt.date
    end: dt.date
    vacation: bool = False


@runtime_checkable
class HolidayProvider(Protocol):
    """Supplies statutory holidays, one year at a time."""

    name: str

    def holidays(self, year: int) -> HolidayYear | None:
        """The holidays of *year*, or ``None`` if this provider has no data for it."""


@runtime_checkable
class TermProvider(Protocol):
    """Supplies school terms and vacations."""

    name: str

    def terms(self, year: int) -> Sequence[Term] | None:
        """The terms and vacations touching *year*, or ``None`` if unknown to this provider."""
