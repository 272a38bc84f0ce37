"""Working-day calendars: statutory holidays, school terms, blackout days.

China's statutory holidays move every year and come with make-up working days (调休),
so dualduty never guesses them: a year is known only when a provider (built-in data, a
holiday file, a plugin) supplies it, and a year nobody supplies is a
:class:`MissingHolidays` error that says how to supply it. :class:`WorkCalendar` answers
which days are working days and which of them may take a dedicated inspection (三.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from .errors import DualdutyError
from .model._checks import check_text

__all__ = [
    "Blackout",
    "CalendarError",
    "HolidayProvider",
    "HolidayYear",
    "MissingHolidays",
    "Term",
    "TermProvider",
    "WorkCalendar",
    "quarter_bounds",
]


class CalendarError(DualdutyError):
    """A calendar cannot answer: its data is missing or malformed."""


class MissingHolidays(CalendarError):
    """No provider knows the statutory holidays of a year.

    :ivar year: the year asked for.
    """

    def __init__(self, year: int, known: Iterable[int] = ()) -> None:
        self.year = year
        years = sorted(set(known))
        have = f" (holiday data is loaded for {_span(years)})" if years else ""
        super().__init__(
            f"no statutory holiday data for {year}{have}; dualduty does not guess "
            "holidays and make-up working days (调休). Supply them with a holiday file "
            f'(`--holidays FILE`, or `holidays = ["holidays-{year}.toml"]` in the district '
            "file; the format is in the file-format reference) or a plugin implementing "
            "dualduty_register_calendars"
        )


def _span(years: Sequence[int]) -> str:
    if len(years) > 2 and years[-1] - years[0] == len(years) - 1:
        return f"{years[0]}–{years[-1]}"
    return ", ".join(map(str, years))


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """The first and last day of *quarter* (1–4) of *year*.

    >>> quarter_bounds(2026, 3)
    (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))
    """
    if not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1 to 4, got {quarter}")
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end - dt.timedelta(days=1)


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


@attrs.frozen
class Blackout:
    """Days no dedicated inspection may fall on: exam weeks, large events, ….

    :param name: what it is (``中考``, ``运动会``).
    :param start: the first day.
    :param end: the last day (inclusive; the same as *start* for one day).
    """

    name: str = attrs.field(validator=check_text)
    start: dt.date
    end: dt.date

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"blackout {self.name!r} ends before it starts")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


def _holiday_map(
    value: Mapping[int, HolidayYear] | Iterable[HolidayYear],
) -> dict[int, HolidayYear]:
    years = list(value.values()) if isinstance(value, Mapping) else list(value)
    out: dict[int, HolidayYear] = {}
    for year in years:
        if year.year in out:
            raise ValueError(f"holidays of {year.year} given twice")
        out[year.year] = year
    return out


@attrs.frozen
class WorkCalendar:
    """Working days, term time and blackout days, for scheduling (三.2, 三.3).

    A working day is a weekday that is not a statutory day off, or a weekend day that is
    a make-up working day (调休上班). An *inspection day* is a working day outside every
    blackout and, when *term_time_only*, inside a term that is not a vacation.

    >>> import datetime as dt
    >>> cal = WorkCalendar([HolidayYear(2026, [dt.date(2026, 10, 1)], [dt.date(2026, 10, 10)])])
    >>> cal.is_working_day(dt.date(2026, 10, 1)), cal.is_working_day(dt.date(2026, 10, 10))
    (False, True)
    >>> cal.is_working_day(dt.date(2027, 1, 4))
    Traceback (most recent call last):
      ...
    dualduty.calendars.MissingHolidays: no statutory holiday data for 2027 ...

    :param holidays: the statutory holidays, one :class:`HolidayYear` per year.
    :param terms: school terms and vacations.
    :param blackouts: days no dedicated inspection may fall on.
    :param term_time_only: dedicated inspections only in term time.
    :param zone: the time zone dates are in (``Asia/Shanghai``).
    """

    holidays: dict[int, HolidayYear] = attrs.field(converter=_holiday_map)
    terms: tuple[Term, ...] = attrs.field(default=(), converter=tuple)
    blackouts: tuple[Blackout, ...] = attrs.field(default=(), converter=tuple)
    term_time_only: bool = False
    zone: str = "Asia/Shanghai"

    def holiday_year(self, year: int) -> HolidayYear:
        """The holidays of *year*; :class:`MissingHolidays` if none were supplied."""
        try:
            return self.holidays[year]
        except KeyError:
            raise MissingHolidays(year, self.holidays) from None

    def is_working_day(self, day: dt.date) -> bool:
        """Whether *day* is a working day (statutory holidays and 调休 applied)."""
        hy = self.holiday_year(day.year)
        if day in hy.workdays:
            return True
        return day.weekday() < 5 and day not in hy.days_off

    def blackout_of(self, day: dt.date) -> Blackout | None:
        """The first blackout *day* falls in, or ``None``."""
        return next((b for b in self.blackouts if day in b), None)

    def term_of(self, day: dt.date) -> Term | None:
        """The term or vacation *day* falls in (terms before vacations), or ``None``."""
        hits = [t for t in self.terms if t.start <= day <= t.end]
        return min(hits, key=lambda t: t.vacation) if hits else None

    def is_inspection_day(self, day: dt.date) -> bool:
        """Whether a dedicated inspection may fall on *day*."""
        if not self.is_working_day(day) or self.blackout_of(day) is not None:
            return False
        if self.term_time_only:
            term = self.term_of(day)
            return term is not None and not term.vacation
        return True

    def working_days(self, start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
        """The working days from *start* to *end*, both included, in order."""
        return tuple(d for d in _days(start, end) if self.is_working_day(d))

    def inspection_days(self, start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
        """The inspection days from *start* to *end*, both included, in order."""
        return tuple(d for d in _days(start, end) if self.is_inspection_day(d))

    def last_working_day(self, start: dt.date, end: dt.date) -> dt.date:
        """The last working day from *start* to *end*.

        :raises CalendarError: when there is none.
        """
        for day in reversed(_days(start, end)):
            if self.is_working_day(day):
                return day
        raise CalendarError(f"no working day from {start.isoformat()} to {end.isoformat()}")


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
