"""What a schedule is planned and checked against: the days of a quarter, who owes visits.

Private to :mod:`dualduty.planning.schedule`. The generator and the validator share these
facts, so that they agree on what a quarter asks for: which days take a dedicated
inspection, which (holder, school) pairs owe visits and how many, who may make them.

The calendar is asked for a quarter's working and inspection days once, never per visit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping

from dualduty.calendars import WorkCalendar, quarter_bounds
from dualduty.model import (
    SECTION_KINDS,
    Organisation,
    Post,
    Role,
    Rules,
    Unit,
    UnitKind,
)

from ._assign import PlanningError

__all__ = [
    "ID_MAX",
    "OrgFacts",
    "Pair",
    "QuarterDays",
    "ScheduleError",
    "digest",
    "due_count",
    "key32",
    "short_id",
]

#: The longest id the model accepts.
ID_MAX = 64


class ScheduleError(PlanningError):
    """A schedule cannot be planned from this input: a package names an unknown holder or
    school, inspections must fall in term time but the calendar knows no terms, a quarter
    has fewer working days than the meetings it needs. Too few days or inspectors for the
    visits is the subclass :class:`~dualduty.planning.ScheduleInfeasible`."""


def key32(*parts: object) -> int:
    """A stable 32-bit key of *parts* (the same in every process and Python run)."""
    return zlib.crc32(":".join(map(str, parts)).encode())


def digest(parts: tuple[str, ...]) -> str:
    """16 hex digits: a stable hash of *parts*, to stand for them in an id."""
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).hexdigest()


def short_id(prefix: str, middle: tuple[str, ...], suffix: str = "") -> str:
    """``prefix.middle….suffix``, or, when that is longer than an id may be,
    ``prefix.<16 hex digits>.suffix`` with a stable hash of *middle* in its place."""
    tail = f".{suffix}" if suffix else ""
    full = ".".join((prefix, *middle)) + tail
    if len(full) <= ID_MAX:
        return full
    return f"{prefix}.{digest(middle)}{tail}"


class QuarterDays:
    """The days of one quarter that take a dedicated inspection, and its working days.

    ``days`` are the inspection days in order and ``ords`` their ordinals (for bisection);
    ``work`` the working days (meetings and deadlines fall on those).
    """

    __slots__ = ("days", "end", "ords", "quarter", "start", "work", "year")

    def __init__(self, calendar: WorkCalendar, year: int, quarter: int, term_only: bool) -> None:
        self.year = year
        self.quarter = quarter
        self.start, self.end = quarter_bounds(year, quarter)
        days = calendar.inspection_days(self.start, self.end)
        if term_only and not calendar.term_time_only:
            days = tuple(d for d in days if _in_term(calendar, d))
        self.days = days
        self.ords = [d.toordinal() for d in days]
        self.work = calendar.working_days(self.start, self.end)

    @property
    def length(self) -> int:
        """Calendar days in the quarter."""
        return (self.end - self.start).days + 1

    def span(self, start: dt.date, end: dt.date) -> tuple[int, int]:
        """The inspection days from *start* to *end* as an index range ``[a, b)``."""
        return (
            bisect_left(self.ords, start.toordinal()),
            bisect_right(self.ords, end.toordinal()),
        )

    def label(self) -> str:
        """``2026 Q3``."""
        return f"{self.year} Q{self.quarter}"


def _in_term(calendar: WorkCalendar, day: dt.date) -> bool:
    term = calendar.term_of(day)
    return term is not None and not term.vacation


def term_only(calendar: WorkCalendar, rules: Rules) -> bool:
    """Whether dedicated inspections must fall in term time (the calendar's or the rules' say)."""
    return calendar.term_time_only or rules.inspections_in_term_only


def due_count(per_quarter: int, start: dt.date, end: dt.date, qd: QuarterDays) -> int:
    """Visits a package in force from *start* to *end* (within the quarter) owes in it.

    The rule's number for a package in force the whole quarter; otherwise that number in
    proportion to the calendar days it is in force, rounded half up (a package handed over
    mid-quarter leaves one of two visits to each holder).
    """
    days = (end - start).days + 1
    if days >= qd.length:
        return per_quarter
    return (2 * per_quarter * days + qd.length) // (2 * qd.length)


class Pair:
    """A (holder, school) pair owing visits in one quarter.

    ``start``/``end`` is the span its packages are in force in the quarter, ``a``/``b`` the
    inspection days of that span as an index range, ``due`` the visits owed,
    ``candidates`` the posts who may make them (the preferred one first), ``package`` the
    id of the package it comes from (the first by id).
    """

    __slots__ = (
        "a",
        "b",
        "candidates",
        "due",
        "end",
        "holder",
        "key",
        "package",
        "school",
        "start",
    )

    def __init__(
        self, holder: str, school: str, package: str, span: tuple[dt.date, dt.date]
    ) -> None:
        self.holder = holder
        self.school = school
        self.package = package
        self.start, self.end = span
        self.candidates: tuple[str, ...] = ()
        self.due = 0
        self.a = 0
        self.b = 0
        #: the pair's staggering key (see :meth:`OrgFacts.stagger`)
        self.key = 0


class _Held:
    """A school one holder's packages hold at some time of the year: those packages as
    ``(id, start, end, staff)``, by id; ``always`` when one package holds it all along."""

    __slots__ = ("always", "candidates", "key", "packages", "school")

    def __init__(self, school: str) -> None:
        self.school = school
        self.key = 0
        self.packages: list[tuple[str, dt.date | None, dt.date | None, tuple[str, ...]]] = []
        self.always = False
        #: the candidates when it is held all along, preferred first
        self.candidates: tuple[str, ...] = ()


class OrgFacts:
    """Look-ups over an organisation that planning and checking a schedule need."""

    def __init__(self, org: Organisation) -> None:
        self.org = org
        self.units: dict[str, Unit] = {u.id: u for u in org.units}
        self.posts: dict[str, tuple[Unit, Post]] = {p.id: (u, p) for u, p in org.iter_posts()}
        self.schools: set[str] = {s.id for s in org.schools}
        kinds: dict[UnitKind, list[Unit]] = {}
        for unit in sorted(org.units, key=lambda u: u.id):
            kinds.setdefault(unit.kind, []).append(unit)
        self.leading_group: Unit | None = next(iter(kinds.get(UnitKind.LEADING_GROUP, ())), None)
        self.office: Unit | None = next(iter(kinds.get(UnitKind.OFFICE, ())), None)
        #: Units that study school safety and report each quarter (二(三).1, 三.2).
        self.sections: tuple[Unit, ...] = tuple(
            u for u in sorted(org.units, key=lambda u: u.id) if u.kind in SECTION_KINDS
        )
        self._staff: dict[str, tuple[str, ...]] = {}
        self._tables: dict[bool, dict[str, list[_Held]]] = {}
        self._preferred: dict[str, dict[str, str]] = {}

    # -- who holds, who visits -----------------------------------------------------

    def holder_kind(self, holder: str) -> str | None:
        """``"post"`` for a post, ``"unit"`` for a unit, ``None`` when unknown."""
        if holder in self.posts:
            return "post"
        if holder in self.units:
            return "unit"
        return None

    def unit_staff(self, unit_id: str) -> tuple[str, ...]:
        """Who visits for a unit whose package names no staff: its staff posts (held ones
        when any is held), else its head, else any of its posts."""
        found = self._staff.get(unit_id)
        if found is None:
            unit = self.units[unit_id]
            staff = [p for p in unit.posts if p.role is Role.STAFF]
            held = [p for p in staff if p.holder is not None]
            chosen = [p.id for p in (held or staff)]
            if not chosen and unit.head_post:
                chosen = [unit.head_post]
            if not chosen:
                chosen = [p.id for p in unit.posts]
            found = self._staff[unit_id] = tuple(chosen)
        return found

    def may_inspect(self, holder: str, post: str) -> bool:
        """Whether *post* is of *holder*'s staff: the post itself, or a post of the unit."""
        if holder in self.units:
            owner = self.posts.get(post)
            return owner is not None and owner[0].id == holder
        return post == holder

    def report_recipient(self) -> str | None:
        """Where quarter reports go: the leading group's office, else the leading group."""
        unit = self.office or self.leading_group
        return unit.id if unit else None

    def coordination_host(self) -> str | None:
        """Who holds the coordination meeting (三.3): the office, else the leading group."""
        return self.report_recipient()

    def summary_host(self) -> str | None:
        """Who holds the summary meeting (二(一).3): the leading group, else its office."""
        unit = self.leading_group or self.office
        return unit.id if unit else None

    # -- packages in force -----------------------------------------------------------

    def _table(self, strict: bool) -> dict[str, list[_Held]]:
        """Holder → the schools its packages hold at some time, in id order (once)."""
        found = self._tables.get(strict)
        if found is not None:
            return found
        table: dict[str, dict[str, _Held]] = {}
        for package in sorted(self.org.packages, key=lambda p: p.id):
            if not package.schools:
                continue
            kind = self.holder_kind(package.holder)
            if kind is None:
                if strict:
                    raise ScheduleError(
                        f"package {package.id}: holder {package.holder!r} is neither a post nor "
                        "a unit of the organisation"
                    )
                continue
            staff = tuple(package.staff) if kind == "unit" else ()
            entry = (package.id, package.start, package.end, staff)
            held = table.setdefault(package.holder, {})
            for school in package.schools:
                if school not in self.schools:
                    if strict:
                        raise ScheduleError(
                            f"package {package.id}: {school!r} is not a school of the organisation"
                        )
                    continue
                h = held.get(school)
                if h is None:
                    h = held[school] = _Held(school)
                if not h.packages or h.packages[-1][0] != package.id:
                    h.packages.append(entry)
        out: dict[str, list[_Held]] = {}
        for holder in sorted(table):
            helds = [table[holder][school] for school in sorted(table[holder])]
            for h in helds:
                h.always = len(h.packages) == 1 and h.packages[0][1:3] == (None, None)
                h.candidates = self._candidates(holder, h.packages)
            out[holder] = helds
        self._tables[strict] = out
        return out

    def _candidates(
        self,
        holder: str,
        packages: Iterable[tuple[str, dt.date | None, dt.date | None, tuple[str, ...]]],
    ) -> tuple[str, ...]:
        if holder in self.posts:
            return (holder,)
        staff = tuple(dict.fromkeys(p for entry in packages for p in entry[3]))
        return staff or self.unit_staff(holder)

    def prefer(self, preferred: Mapping[str, str], weights: Mapping[str, int]) -> None:
        """Order each unit holder's candidates, the preferred inspector of each school first:
        a section's schools spread over its staff by weight, heaviest first to the least
        loaded, as the package planner does, unless *preferred* names the post."""
        for holder, helds in self._table(True).items():
            if holder in self.units:
                self._preferred[holder] = _spread(helds, preferred, weights)
                for h in helds:
                    h.candidates = _first(h.candidates, self._preferred[holder].get(h.school))

    def stagger(self, seed: int) -> None:
        """Give each (holder, school) its staggering key: a stable hash of *seed*, the holder
        and the school, the same every quarter."""
        for holder, helds in self._table(True).items():
            for h in helds:
                h.key = key32(seed, holder, h.school)

    def pairs(
        self, qd: QuarterDays, per_quarter: int, *, strict: bool = True
    ) -> dict[str, list[Pair]]:
        """Holder → its pairs owing visits in the quarter, schools in id order.

        A pair's candidates list the preferred inspector first (see :meth:`prefer`). With
        *strict*, an unknown holder or school is a :class:`ScheduleError`; otherwise it is
        skipped (the validator reports it).
        """
        qs, qe = qd.start, qd.end
        whole = (qs, qe)
        ndays = len(qd.days)
        out: dict[str, list[Pair]] = {}
        for holder, helds in self._table(strict).items():
            prefs = self._preferred.get(holder, {})
            found: list[Pair] = []
            for h in helds:
                if h.always:
                    pair = Pair(holder, h.school, h.packages[0][0], whole)
                    pair.candidates = h.candidates
                    pair.due = per_quarter
                    pair.b = ndays
                    pair.key = h.key
                    pair.key = h.key
                    found.append(pair)
                    continue
                live = [
                    e
                    for e in h.packages
                    if (e[1] is None or e[1] <= qe) and (e[2] is None or e[2] >= qs)
                ]
                if not live:
                    continue
                start = min(qs if e[1] is None else max(qs, e[1]) for e in live)
                end = max(qe if e[2] is None else min(qe, e[2]) for e in live)
                pair = Pair(holder, h.school, live[0][0], (start, end))
                pair.candidates = _first(self._candidates(holder, live), prefs.get(h.school))
                pair.due = due_count(per_quarter, start, end, qd)
                pair.a, pair.b = qd.span(start, end)
                pair.key = h.key
                pair.key = h.key
                found.append(pair)
            if found:
                out[holder] = found
        return out


def _first(candidates: tuple[str, ...], wanted: str | None) -> tuple[str, ...]:
    """*candidates* with *wanted* first, if it is one of them."""
    if wanted is None or wanted not in candidates or candidates[0] == wanted:
        return candidates
    return (wanted, *(c for c in candidates if c != wanted))


def _spread(
    helds: Iterable[_Held], preferred: Mapping[str, str], weights: Mapping[str, int]
) -> dict[str, str]:
    """School → the post that visits it: *preferred* where it names a candidate, else the
    least loaded candidate (by weight, ties by id), heaviest school first."""
    load: dict[str, int] = {}
    out: dict[str, str] = {}
    for h in sorted(helds, key=lambda h: (-weights.get(h.school, 1), h.school)):
        if not h.candidates:
            continue
        wanted = preferred.get(h.school)
        if wanted not in h.candidates:
            wanted = min(h.candidates, key=lambda p: (load.get(p, 0), p))
        load[wanted] = load.get(wanted, 0) + weights.get(h.school, 1)
        out[h.school] = wanted
    return out
