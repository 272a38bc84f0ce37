"""Working-day calendars: statutory holidays, school terms, blackout days.

China's statutory holidays (法定节假日) move every year and come with make-up working
days (调休上班), so dualduty never guesses them: a year is known only when a source
supplies it, and a year no source supplies is a :class:`MissingHolidays` error that says
how to supply it. The sources, first to last (the first that knows a year answers):

1. holiday files passed to :func:`calendar_for` (``dualduty schedule --holidays FILE``);
2. the organisation's own holiday files (``holidays = [...]`` in the district file);
3. providers that plugins register through
   :func:`~dualduty.hookspecs.dualduty_register_calendars`, the most recently
   registered plugin's first;
4. the data dualduty ships (:class:`BuiltinHolidays`: 2004–2026), registered by the
   built-in plugin last of all.

:class:`WorkCalendar` answers which days are working days and which of them may take a
dedicated inspection (三.2); :func:`calendar_for` builds one for an organisation.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from dualduty.errors import DualdutyError, Problem
from dualduty.model.org import Blackout, Term

if TYPE_CHECKING:
    from dualduty.model import Organisation
    from dualduty.plugins import Hooks

__all__ = [
    "HOLIDAY_FORMAT_VERSION",
    "Blackout",
    "BuiltinHolidays",
    "CalendarError",
    "HolidayProvider",
    "HolidayYear",
    "InvalidHolidays",
    "MissingHolidays",
    "StaticHolidays",
    "Term",
    "TermProvider",
    "WorkCalendar",
    "calendar_for",
    "load_holidays",
    "loads_holidays",
    "quarter_bounds",
]

#: The version of the holiday file format this dualduty reads (the top-level ``format`` key).
HOLIDAY_FORMAT_VERSION = 1


class CalendarError(DualdutyError):
    """A calendar cannot answer: its data is missing or malformed."""


class MissingHolidays(CalendarError):
    """No source knows the statutory holidays of a year.

    :ivar year: the year asked for.
    :ivar known: the years that are known, in order.
    """

    def __init__(self, year: int, known: Iterable[int] = ()) -> None:
        self.year = year
        self.known = tuple(sorted(set(known)))
        have = f" (holiday data is loaded for {_span(self.known)})" if self.known else ""
        super().__init__(
            f"no statutory holiday data for {year}{have}; dualduty does not guess "
            "holidays and make-up working days (调休). Supply them with a holiday file "
            f'(`--holidays FILE`, or `holidays = ["holidays-{year}.toml"]` in the district '
            'file; the format is under "Holiday files" in the file-format reference) or a '
            "plugin implementing dualduty_register_calendars"
        )


class InvalidHolidays(CalendarError):
    """A holiday file breaks one or more rules of its format.

    :ivar problems: every problem found, in document order.
    :ivar source: the file name.
    """

    problems: tuple[Problem, ...]
    source: str

    def __init__(self, problems: Iterable[Problem], source: str) -> None:
        self.problems = tuple(problems)
        self.source = source
        n = len(self.problems)
        head = f"{source}: {n} problem{'s' if n != 1 else ''} found"
        super().__init__("\n".join([head, *(f"  {source}: {p}" for p in self.problems)]))


def _span(years: Sequence[int]) -> str:
    """Sorted years, runs of three or more written as a range: ``2004–2026, 2028``."""
    runs: list[list[int]] = []
    for year in years:
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(
        f"{run[0]}–{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)) for run in runs
    )


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """The first and last day of *quarter* (1–4) of *year*.

    >>> from dualduty.calendars import quarter_bounds
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


def _names(value: Iterable[tuple[dt.date, str]]) -> tuple[tuple[dt.date, str], ...]:
    return tuple(sorted(value))


@attrs.frozen
class HolidayYear:
    """One year of statutory holidays: extra days off and make-up working days.

    >>> import datetime as dt
    >>> from dualduty.calendars import HolidayYear
    >>> year = HolidayYear(2026, [dt.date(2026, 10, 1)], names=[(dt.date(2026, 10, 1), "国庆节")])
    >>> year.name_of(dt.date(2026, 10, 1))
    '国庆节'

    :param year: the year.
    :param days_off: dates that are holidays (法定节假日 and the days joined to them).
    :param workdays: weekend dates that are working days (调休上班).
    :param names: ``(date, name)`` pairs naming the holiday each day off or make-up
        working day belongs to (``春节``, …), kept in date order.
    :param source: where the data comes from, for error messages and audits.
    """

    year: int
    days_off: frozenset[dt.date] = attrs.field(converter=_dates)
    workdays: frozenset[dt.date] = attrs.field(converter=_dates, factory=frozenset)
    names: tuple[tuple[dt.date, str], ...] = attrs.field(default=(), converter=_names)
    source: str = "unknown"

    def __attrs_post_init__(self) -> None:
        for day in self.days_off | self.workdays:
            if day.year != self.year:
                raise ValueError(f"{day.isoformat()} is not in {self.year}")
        both = self.days_off & self.workdays
        if both:
            first = min(both).isoformat()
            raise ValueError(f"{first} is both a day off and a working day")

    def name_of(self, day: dt.date) -> str | None:
        """The name of the holiday *day* is a day off or a make-up working day for."""
        return next((name for d, name in self.names if d == day), None)


@runtime_checkable
class HolidayProvider(Protocol):
    """Supplies statutory holidays, one year at a time.

    A provider may also have a ``years()`` method returning the years it knows; the
    :class:`MissingHolidays` error of a year nobody knows then lists them.
    """

    name: str

    def holidays(self, year: int) -> HolidayYear | None:
        """The holidays of *year*, or ``None`` if this provider has no data for it."""


@runtime_checkable
class TermProvider(Protocol):
    """Supplies school terms and vacations."""

    name: str

    def terms(self, year: int) -> Sequence[Term] | None:
        """The terms and vacations touching *year*, or ``None`` if unknown to this provider."""


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


def _terms(value: Iterable[Term]) -> tuple[Term, ...]:
    return tuple(value)


def _blackouts(value: Iterable[Blackout]) -> tuple[Blackout, ...]:
    return tuple(value)


# -- providers -------------------------------------------------------------------------


class StaticHolidays:
    """A :class:`HolidayProvider` holding given years, such as those of a holiday file.

    >>> from dualduty.calendars import StaticHolidays, load_holidays
    >>> provider = StaticHolidays(load_holidays(DOCS_DIR / "how-to" / "holidays-2027.toml"))
    >>> provider.years(), provider.holidays(2028)
    ((2027,), None)

    :param years: the years, each at most once.
    :param name: the provider's name, for messages.
    :raises CalendarError: when a year is given twice.
    """

    def __init__(self, years: Iterable[HolidayYear], name: str = "static") -> None:
        self.name = name
        self._years: dict[int, HolidayYear] = {}
        for year in years:
            first = self._years.get(year.year)
            if first is not None:
                raise CalendarError(
                    f"the holidays of {year.year} are given twice, in {first.source} and in "
                    f"{year.source}; give each year once"
                )
            self._years[year.year] = year

    def holidays(self, year: int) -> HolidayYear | None:
        """The holidays of *year*, or ``None``."""
        return self._years.get(year)

    def years(self) -> tuple[int, ...]:
        """The years this provider knows, in order."""
        return tuple(sorted(self._years))

    def __repr__(self) -> str:
        return f"StaticHolidays({_span(self.years()) or 'no years'}, name={self.name!r})"


_DATA = "data"


@cache
def _shipped_years() -> tuple[int, ...]:
    from importlib.resources import files

    found = []
    for entry in files(__name__).joinpath(_DATA).iterdir():
        stem, _, suffix = entry.name.partition(".")
        if suffix == "toml" and stem.startswith("holidays-") and stem[9:].isdigit():
            found.append(int(stem[9:]))
    return tuple(sorted(found))


@cache
def _shipped(year: int) -> HolidayYear | None:
    if year not in _shipped_years():
        return None
    from importlib.resources import files

    name = f"holidays-{year}.toml"
    text = files(__name__).joinpath(_DATA, name).read_text(encoding="utf-8")
    (found,) = loads_holidays(text, source=f"dualduty's built-in {name}")
    return found


class BuiltinHolidays:
    """The statutory holidays and make-up working days dualduty ships: 2004 to 2026.

    One holiday file per year (the format users write, see "Holiday files" in the
    file-format reference), read on first use and kept. The built-in plugin registers
    it last, so holidays from any other source win.

    >>> import datetime as dt
    >>> from dualduty.calendars import BuiltinHolidays
    >>> BuiltinHolidays().holidays(2026).name_of(dt.date(2026, 10, 1))
    '国庆节'
    >>> BuiltinHolidays().holidays(2027) is None
    True
    """

    name = "dualduty"

    def holidays(self, year: int) -> HolidayYear | None:
        """The shipped holidays of *year*, or ``None`` if dualduty does not ship it."""
        return _shipped(year)

    def years(self) -> tuple[int, ...]:
        """The years dualduty ships, in order."""
        return _shipped_years()

    def __repr__(self) -> str:
        return "BuiltinHolidays()"


# -- holiday files ----------------------------------------------------------------------


def load_holidays(path: str | os.PathLike[str]) -> tuple[HolidayYear, ...]:
    """Read a holiday file: the statutory holidays of one or more years.

    The format is TOML, JSON or YAML by the suffix (``.toml``, ``.json``,
    ``.yaml``/``.yml``); "Holiday files" in the file-format reference describes it.

    >>> from dualduty.calendars import load_holidays
    >>> [year.year for year in load_holidays(DOCS_DIR / "how-to" / "holidays-2027.toml")]
    [2027]

    :raises InvalidHolidays: listing every problem with its path in the file.
    """
    from ._files import load

    return load(path)


def loads_holidays(
    text: str, fmt: str = "toml", *, source: str = "<string>"
) -> tuple[HolidayYear, ...]:
    """Read the text of a holiday file (:func:`load_holidays`).

    :param fmt: ``"toml"``, ``"json"`` or ``"yaml"``.
    :param source: the name used in error messages and as each :class:`HolidayYear`'s ``source``.
    :raises InvalidHolidays: listing every problem with its path in the file.
    """
    from ._files import loads

    return loads(text, fmt, source=source)


# -- the calendar ----------------------------------------------------------------------


@attrs.frozen
class WorkCalendar:
    """Working days, term time and blackout days, for scheduling (三.2, 三.3).

    A working day is a weekday that is not a statutory day off, or a weekend day that is
    a make-up working day (调休上班). An *inspection day* is a working day outside every
    blackout and, when *term_time_only*, inside a term that is not a vacation.

    Both are worked out once, for every day of every year the calendar holds, so a
    question is a dictionary look-up. Days are returned as pendulum dates. A date and
    time is taken on its day in *zone*.

    >>> import datetime as dt
    >>> from dualduty.calendars import HolidayYear, WorkCalendar
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
    terms: tuple[Term, ...] = attrs.field(default=(), converter=_terms)
    blackouts: tuple[Blackout, ...] = attrs.field(default=(), converter=_blackouts)
    term_time_only: bool = False
    zone: str = "Asia/Shanghai"
    # Worked out once: day -> working day?, day -> inspection day?, and per year the
    # working and inspection days in order.
    _work: dict[dt.date, bool] = attrs.field(init=False, repr=False, eq=False)
    _inspect: dict[dt.date, bool] = attrs.field(init=False, repr=False, eq=False)
    _work_days: dict[int, tuple[dt.date, ...]] = attrs.field(init=False, repr=False, eq=False)
    _inspect_days: dict[int, tuple[dt.date, ...]] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        import pendulum

        work: dict[dt.date, bool] = {}
        inspect: dict[dt.date, bool] = {}
        work_days: dict[int, tuple[dt.date, ...]] = {}
        inspect_days: dict[int, tuple[dt.date, ...]] = {}
        for year, hy in sorted(self.holidays.items()):
            working: list[dt.date] = []
            inspecting: list[dt.date] = []
            first = dt.date(year, 1, 1).toordinal()
            for ordinal in range(first, dt.date(year, 12, 31).toordinal() + 1):
                plain = dt.date.fromordinal(ordinal)
                day = pendulum.Date(plain.year, plain.month, plain.day)
                is_work = day in hy.workdays or (day.weekday() < 5 and day not in hy.days_off)
                is_inspect = is_work and self._may_inspect(day)
                work[day] = is_work
                inspect[day] = is_inspect
                if is_work:
                    working.append(day)
                if is_inspect:
                    inspecting.append(day)
            work_days[year] = tuple(working)
            inspect_days[year] = tuple(inspecting)
        object.__setattr__(self, "_work", work)
        object.__setattr__(self, "_inspect", inspect)
        object.__setattr__(self, "_work_days", work_days)
        object.__setattr__(self, "_inspect_days", inspect_days)

    def _may_inspect(self, day: dt.date) -> bool:
        if self.blackout_of(day) is not None:
            return False
        if self.term_time_only:
            term = self.term_of(day)
            return term is not None and not term.vacation
        return True

    def _day(self, day: dt.date) -> dt.date:
        """*day* as a key of the tables, or :class:`MissingHolidays`."""
        if isinstance(day, dt.datetime):
            if day.tzinfo is not None:
                from zoneinfo import ZoneInfo

                day = day.astimezone(ZoneInfo(self.zone))
            day = day.date()
        elif not isinstance(day, dt.date):
            raise TypeError(f"expected a date, got {type(day).__name__} {day!r}")
        if day not in self._work:
            self.holiday_year(day.year)  # raises MissingHolidays
        return day

    @property
    def years(self) -> tuple[int, ...]:
        """The years whose holidays the calendar holds, in order."""
        return tuple(sorted(self.holidays))

    def holiday_year(self, year: int) -> HolidayYear:
        """The holidays of *year*; :class:`MissingHolidays` if none were supplied."""
        try:
            return self.holidays[year]
        except KeyError:
            raise MissingHolidays(year, self.holidays) from None

    def holiday_name(self, day: dt.date) -> str | None:
        """The holiday *day* is a day off or a make-up working day for, or ``None``.

        >>> import datetime as dt
        >>> from dualduty.calendars import BuiltinHolidays, WorkCalendar
        >>> cal = WorkCalendar([BuiltinHolidays().holidays(2026)])
        >>> cal.holiday_name(dt.date(2026, 10, 10)), cal.holiday_name(dt.date(2026, 10, 12))
        ('国庆节', None)
        """
        day = self._day(day)
        return self.holidays[day.year].name_of(day)

    def is_working_day(self, day: dt.date) -> bool:
        """Whether *day* is a working day (statutory holidays and 调休 applied)."""
        try:
            return self._work[day]
        except KeyError:
            return self._work[self._day(day)]

    def is_inspection_day(self, day: dt.date) -> bool:
        """Whether a dedicated inspection may fall on *day*."""
        try:
            return self._inspect[day]
        except KeyError:
            return self._inspect[self._day(day)]

    def blackout_of(self, day: dt.date) -> Blackout | None:
        """The first blackout *day* falls in, or ``None``."""
        return next((b for b in self.blackouts if day in b), None)

    def term_of(self, day: dt.date) -> Term | None:
        """The term or vacation *day* falls in (terms before vacations), or ``None``."""
        hits = [t for t in self.terms if t.start <= day <= t.end]
        return min(hits, key=lambda t: t.vacation) if hits else None

    def _between(
        self, table: dict[int, tuple[dt.date, ...]], start: dt.date, end: dt.date
    ) -> tuple[dt.date, ...]:
        start, end = _plain(start), _plain(end)
        if end < start:
            return ()
        out: list[dt.date] = []
        for year in range(start.year, end.year + 1):
            days = table.get(year)
            if days is None:
                raise MissingHolidays(year, self.holidays)
            out.extend(days[bisect.bisect_left(days, start) : bisect.bisect_right(days, end)])
        return tuple(out)

    def working_days(self, start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
        """The working days from *start* to *end*, both included, in order."""
        return self._between(self._work_days, start, end)

    def inspection_days(self, start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
        """The inspection days from *start* to *end*, both included, in order."""
        return self._between(self._inspect_days, start, end)

    def last_working_day(self, start: dt.date, end: dt.date) -> dt.date:
        """The last working day from *start* to *end*.

        :raises CalendarError: when there is none.
        """
        days = self.working_days(start, end)
        if not days:
            raise CalendarError(f"no working day from {start.isoformat()} to {end.isoformat()}")
        return days[-1]


def _plain(day: dt.date) -> dt.date:
    return day.date() if isinstance(day, dt.datetime) else day


# -- building a calendar for an organisation -------------------------------------------


def _years(years: int | Iterable[int]) -> list[int]:
    return [years] if isinstance(years, int) else sorted(set(years))


def _files_provider(
    items: Iterable[str | os.PathLike[str] | HolidayYear], base: Path | None, name: str
) -> StaticHolidays:
    found: list[HolidayYear] = []
    for item in items:
        if isinstance(item, HolidayYear):
            found.append(item)
            continue
        path = Path(item)
        if base is not None and not path.is_absolute():
            path = base / path
        found.extend(load_holidays(path))
    return StaticHolidays(found, name=name)


def calendar_for(
    org: Organisation,
    years: int | Iterable[int],
    *,
    holidays: Iterable[str | os.PathLike[str] | HolidayYear] = (),
    hooks: Hooks | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> WorkCalendar:
    """The working-day calendar of *org* for *years*.

    Statutory holidays come from the first source that knows a year:

    1. *holidays*: holiday files (or :class:`HolidayYear` objects) given here;
    2. the organisation's holiday files (:attr:`Organisation.holidays
       <dualduty.Organisation.holidays>`), relative to *base_dir*;
    3. the :class:`HolidayProvider`\\ s plugins register, the most recently registered
       plugin's first;
    4. the data dualduty ships (:class:`BuiltinHolidays`, 2004–2026).

    Within one source a year may be given once. Terms are the organisation's; for a year
    none of them touches, the first :class:`TermProvider` that knows the year supplies
    them. Blackouts, the term-time rule
    (:attr:`Rules.inspections_in_term_only <dualduty.Rules.inspections_in_term_only>`)
    and the time zone are the organisation's.

    >>> import datetime as dt
    >>> import dualduty
    >>> from dualduty.calendars import calendar_for
    >>> cal = calendar_for(dualduty.reference_organisation(schools=1), 2026)
    >>> cal.is_working_day(dt.date(2026, 10, 1)), cal.is_working_day(dt.date(2026, 10, 10))
    (False, True)

    :param years: the year, or years, the calendar is for.
    :param holidays: holiday files (paths) or years, ahead of every other source.
    :param hooks: the plugins to ask (default: the installed plugins,
        :func:`dualduty.plugins.hooks`).
    :param base_dir: the directory the organisation's holiday files are relative to: the
        directory of its district file (default: the current directory).
    :raises MissingHolidays: for a year no source knows; it says how to supply it.
    :raises InvalidHolidays: for a holiday file that cannot be read or breaks its format.
    :raises CalendarError: when a source gives a year twice, a provider answers with
        another year's data, or dedicated inspections must fall in term time and no term
        touches a year.
    """
    if hooks is None:
        from dualduty.plugins import hooks as _hooks

        hooks = _hooks()
    wanted = _years(years)
    base = Path(base_dir) if base_dir is not None else None
    explicit = _files_provider(holidays, None, "holiday files given")
    own = _files_provider(org.holidays, base, f"holiday files of {org.id!r}")
    providers = hooks.calendars()
    holiday_providers: list[HolidayProvider] = [
        explicit,
        own,
        *(p for p in providers if isinstance(p, HolidayProvider)),
    ]
    found: list[HolidayYear] = []
    for year in wanted:
        for provider in holiday_providers:
            answer = provider.holidays(year)
            if answer is None:
                continue
            if not isinstance(answer, HolidayYear) or answer.year != year:
                got = answer.year if isinstance(answer, HolidayYear) else type(answer).__name__
                raise CalendarError(
                    f"calendar provider {provider.name!r} answered the holidays of {year} "
                    f"with {got}"
                )
            found.append(answer)
            break
        else:
            known: set[int] = set()
            for provider in holiday_providers:
                listed = getattr(provider, "years", None)
                if callable(listed):
                    known.update(listed())
            raise MissingHolidays(year, known)

    terms: list[Term] = list(org.terms)
    term_providers = [p for p in providers if isinstance(p, TermProvider)]
    for year in wanted:
        if any(t.start.year <= year <= t.end.year for t in org.terms):
            continue
        for term_provider in term_providers:
            supplied = term_provider.terms(year)
            if supplied is not None:
                terms.extend(t for t in supplied if t not in terms)
                break
    term_time_only = org.rules.inspections_in_term_only
    if term_time_only:
        for year in wanted:
            if not any(t.start.year <= year <= t.end.year and not t.vacation for t in terms):
                raise CalendarError(
                    "dedicated inspections must fall in term time "
                    f"(rules.inspections_in_term_only) but no school term (学期) of {year} is "
                    "known: "
                    "list the terms under [[terms]] in the district file, or install a plugin "
                    "that provides them"
                )
    return WorkCalendar(
        found,
        terms=terms,
        blackouts=org.blackouts,
        term_time_only=term_time_only,
        zone=org.timezone,
    )
