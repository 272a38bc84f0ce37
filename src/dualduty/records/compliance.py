"""What was due and what was done (制度落实): the compliance view of a year's records.

:func:`compliance` sets a year's :class:`~dualduty.model.Schedule` and the organisation's
:class:`~dualduty.Rules` beside the record and answers, per package holder, school,
section and quarter:

- **dedicated inspections** (专门督查, 三.2): every scheduled
  :class:`~dualduty.model.Visit` is *done* when an
  :class:`~dualduty.records.kinds.InspectionRecorded` names it and was made within the
  visit's quarter, *late* when it was made after the quarter ended, *missed* when none
  names it and the quarter has ended, *pending* otherwise. The plan's duty is per
  quarter (每季度对所包学校进行两次专门督查), so a visit moved within its quarter is done,
  not late; :attr:`VisitOutcome.days_after_plan` still shows how far it slipped.
  Inspections naming no visit of the schedule are *ad hoc* (明查暗访 beyond the plan),
  counted apart for their holder, school and quarter;
- **topic studies** (专题研究, 二(三).1): each section holds
  ``rules.topic_studies_per_quarter`` a quarter, counted from its
  :class:`~dualduty.records.kinds.MeetingHeld` records of kind ``topic_study`` dated in
  the quarter; the **coordination meetings** (调度会, 三.3) and the **summary meeting**
  (总结表彰会, 二(一).3) likewise, held by the leading group, its office or the office's
  seat;
- **quarterly reports** (书面报告, 三.2): each ``quarter_report``
  :class:`~dualduty.model.Deadline` against the unit's
  :class:`~dualduty.records.kinds.ReportSubmitted` for that year and quarter — on time
  when the first submission's time (in the organisation's zone) falls on or before the
  due day, late after it, missing when none came and the day has passed;
- **hazards** (隐患排查治理): every hazard is attributed to the holders of its school's
  packages in force on the day it was found (so to the school's sections and to the
  leading-group members packaging it); per period, the hazards found and closed in it,
  and those open and overdue at its end (or at *now*, if that is earlier).

Every figure is a tuple of the ids that make it up (visit, inspection, meeting, report
and hazard ids), with the ``seq`` of the records that evidence it, so that the year-end
assessment (年终考核, 三.4) can cite them.

The view writes nothing and reads each record kind it needs once, through the store's
kind index. It reads the stored data of each entry (the canonical JSON the chain hashes)
rather than typed entries, and folds hazards with the hazard loop's own rules
(:func:`~dualduty.records.hazards.step`, :meth:`~dualduty.records.HazardState.missed`),
which keeps the view of a year of a 3,000-school organisation (about 100,000 records)
within a couple of seconds (``benchmarks/bench_records.py``).
"""

from __future__ import annotations

import datetime as dt
import gc
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import orjson

from dualduty.calendars import quarter_bounds
from dualduty.errors import DualdutyError
from dualduty.model.enums import SECTION_KINDS, UnitKind
from dualduty.model.schedule import DeadlineKind, MeetingKind, quarter_of

from .hazards import (
    HAZARD_KINDS,
    HazardClosed,
    HazardEscalated,
    HazardFound,
    HazardRegistered,
    HazardRules,
    HazardState,
    HazardStatus,
    RectificationClaimed,
    RectificationPlanned,
    RectificationReassigned,
    Reinspected,
    Severity,
)
from .kinds import InspectionRecorded, MeetingHeld, ReportSubmitted

if TYPE_CHECKING:
    from dualduty.model.org import Organisation, Package
    from dualduty.model.schedule import Schedule
    from dualduty.storage.base import Row
    from dualduty.storage.store import Store

__all__ = [
    "Compliance",
    "ComplianceError",
    "HazardOutcome",
    "HazardTally",
    "HolderRow",
    "InspectionRef",
    "MeetingTally",
    "QuotaStatus",
    "ReportOutcome",
    "ReportStatus",
    "SchoolRow",
    "SectionRow",
    "VisitOutcome",
    "VisitStatus",
    "VisitTally",
    "compliance",
    "quarter_of",
]

QUARTERS = (1, 2, 3, 4)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_US = dt.timedelta(microseconds=1)
_EPOCH_DATE = dt.date(1970, 1, 1)
_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
_MIXED = 1 << 62  # an hour in which the zone's offset changes


class ComplianceError(DualdutyError):
    """The compliance view cannot be computed from what it was given."""


class VisitStatus(StrEnum):
    """What became of a scheduled visit."""

    DONE = "done"
    """Carried out within its quarter (按期完成)."""
    LATE = "late"
    """Carried out after its quarter ended (逾期完成)."""
    MISSED = "missed"
    """Not carried out, and its quarter has ended (未完成)."""
    PENDING = "pending"
    """Not carried out yet; its quarter has not ended (待完成)."""


class QuotaStatus(StrEnum):
    """Whether a period's required number of meetings was held."""

    MET = "met"
    """At least as many were held as required (达标)."""
    SHORT = "short"
    """The period ended with fewer held than required (未达标)."""
    PENDING = "pending"
    """Fewer held than required so far; the period has not ended (进行中)."""


class ReportStatus(StrEnum):
    """Whether a quarterly report came in by its deadline."""

    ON_TIME = "on_time"
    """Submitted on or before the due day (按时报送)."""
    LATE = "late"
    """Submitted after the due day (逾期报送)."""
    MISSING = "missing"
    """Not submitted, and the due day has passed (未报送)."""
    PENDING = "pending"
    """Not submitted yet; the due day has not passed (未到期)."""


def _first(row: tuple[int, Any, Any, Any, Any]) -> int:
    return row[0]


def _first_seq(rows: list[tuple[int, Any, Any, Any, Any]]) -> int:
    return rows[0][0]


def _kind(cls: type) -> str:
    """The record kind a class is registered as."""
    return str(cls.__dict__["__record_kind__"])


def _default(cls: type, name: str) -> Any:
    """The default of a field of an attrs class (what the store leaves out of its JSON)."""
    default = attrs.fields_dict(cls)[name].default
    if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        raise TypeError(f"{cls.__name__}.{name} has no plain default")
    return default


def _ts(at: dt.datetime) -> int:
    """Microseconds since the epoch, as the store indexes an entry's time."""
    return (at - _EPOCH) // _ONE_US


# -- periods ------------------------------------------------------------------------------


# -- rows ---------------------------------------------------------------------------------


@attrs.frozen
class VisitOutcome:
    """A scheduled visit and the inspection that carried it out, if any."""

    visit: str
    """The :class:`~dualduty.model.Visit` id."""
    school: str
    holder: str
    quarter: int
    planned: dt.date
    """The day the schedule planned it for."""
    announced: bool
    status: VisitStatus
    inspection: str | None = None
    """The inspection that carried it out (the earliest, if several name it)."""
    done_on: dt.date | None = None
    seq: int | None = None
    """The ``seq`` of that inspection's record."""
    repeats: tuple[str, ...] = ()
    """Other inspections naming the same visit (not counted again)."""

    @property
    def days_after_plan(self) -> int | None:
        """Days after the planned day it was carried out (0 when on or before it)."""
        if self.done_on is None:
            return None
        return max(0, (self.done_on - self.planned).days)


@attrs.frozen
class InspectionRef:
    """An ad hoc inspection: one that carries out no visit of the schedule."""

    inspection: str
    school: str
    holder: str
    date: dt.date
    quarter: int
    announced: bool
    seq: int
    visit: str | None = None
    """The visit id it named, when that visit is not in the schedule (or is another
    school's)."""


@attrs.frozen
class HazardOutcome:
    """A hazard as the record tells it at *now*, with its attribution and its quarters."""

    hazard: str
    school: str
    severity: Severity
    description: str
    found_on: dt.date
    closed_on: dt.date | None
    status: HazardStatus
    """Where it is in its loop at *now*."""
    holders: tuple[str, ...]
    """The package holders of its school on the day it was found (post and unit ids)."""
    missed: tuple[str, ...]
    """The deadlines it has missed at *now* (:meth:`~dualduty.records.HazardState.missed`)."""
    open_at: tuple[int, ...]
    """The quarters at whose end (or at *now*, if earlier) it was open."""
    overdue_at: tuple[int, ...]
    """The quarters at whose end (or at *now*, if earlier) it was overdue."""
    found_seq: int
    closed_seq: int | None
    seqs: tuple[int, ...]
    """Every record of it, in order."""

    @property
    def major(self) -> bool:
        """Whether it is a major hazard (重大隐患)."""
        return self.severity is Severity.MAJOR

    @property
    def open(self) -> bool:
        """Whether it is open at *now*."""
        return self.closed_on is None


@attrs.frozen
class VisitTally:
    """Scheduled visits of a period and what became of them; ad hoc inspections beside.

    It holds the outcomes themselves; the figures (tuples of ids) are read from them.
    """

    outcomes: tuple[VisitOutcome, ...] = ()
    """Every visit scheduled in the period, with what became of it."""
    extras: tuple[InspectionRef, ...] = ()
    """The ad hoc inspections of the period."""

    @property
    def due(self) -> tuple[str, ...]:
        """Every visit scheduled in the period (visit ids); done, late, missed and pending
        partition it."""
        return tuple([v.visit for v in self.outcomes])

    @property
    def done(self) -> tuple[str, ...]:
        """The visits carried out within their quarter."""
        return self._having(VisitStatus.DONE)

    @property
    def late(self) -> tuple[str, ...]:
        """The visits carried out after their quarter ended."""
        return self._having(VisitStatus.LATE)

    @property
    def missed(self) -> tuple[str, ...]:
        """The visits not carried out, their quarter over."""
        return self._having(VisitStatus.MISSED)

    @property
    def pending(self) -> tuple[str, ...]:
        """The visits not carried out yet, their quarter not over."""
        return self._having(VisitStatus.PENDING)

    def _having(self, status: VisitStatus) -> tuple[str, ...]:
        return tuple([v.visit for v in self.outcomes if v.status is status])

    @property
    def inspections(self) -> tuple[str, ...]:
        """The inspections that carried out the done and late visits."""
        return tuple([v.inspection for v in self.outcomes if v.inspection is not None])

    @property
    def ad_hoc(self) -> tuple[str, ...]:
        """The ad hoc inspections (inspection ids)."""
        return tuple([i.inspection for i in self.extras])

    @property
    def seqs(self) -> tuple[int, ...]:
        """The ``seq`` of every inspection record counted, in order."""
        seqs = [v.seq for v in self.outcomes if v.seq is not None]
        seqs.extend([i.seq for i in self.extras])
        return tuple(sorted(seqs))

    @property
    def carried_out(self) -> int:
        """Visits carried out, in time or late."""
        return sum(1 for v in self.outcomes if v.inspection is not None)

    def counts(self) -> dict[str, int]:
        """The figures: ``due``, ``done``, ``late``, ``missed``, ``pending``, ``ad_hoc``."""
        out = dict.fromkeys(("due", *(s.value for s in VisitStatus), "ad_hoc"), 0)
        out["due"] = len(self.outcomes)
        for v in self.outcomes:
            out[v.status.value] += 1
        out["ad_hoc"] = len(self.extras)
        return out


@attrs.frozen
class HazardTally:
    """Hazards of a period: found and closed in it, open and overdue at its end."""

    found: tuple[str, ...] = ()
    major: tuple[str, ...] = ()
    """The major ones among the hazards found."""
    closed: tuple[str, ...] = ()
    """Closed (销号) in the period, whenever found."""
    open: tuple[str, ...] = ()
    """Open at the period's end (or at *now*, if earlier)."""
    overdue: tuple[str, ...] = ()
    """Open and overdue at the period's end (or at *now*, if earlier)."""
    seqs: tuple[int, ...] = ()
    """The ``seq`` of the finding record of every hazard listed and of the closing
    record of every hazard closed, in order."""

    def counts(self) -> dict[str, int]:
        """The figures: ``found``, ``major``, ``closed``, ``open``, ``overdue``."""
        return {
            "found": len(self.found),
            "major": len(self.major),
            "closed": len(self.closed),
            "open": len(self.open),
            "overdue": len(self.overdue),
        }


@attrs.frozen
class MeetingTally:
    """Meetings of one kind a unit had to hold in a period, and those it held."""

    kind: MeetingKind
    unit: str | None
    """The unit that owes them; ``None`` for the organisation's own meetings
    (coordination and summary), held by the leading group, its office or its seat."""
    quarter: int | None
    """The quarter; ``None`` for the year."""
    required: int
    scheduled: tuple[str, ...]
    """The ids of the schedule's meetings of the period."""
    held: tuple[str, ...]
    """The ids of the meetings held (:class:`~dualduty.records.kinds.MeetingHeld`)."""
    seqs: tuple[int, ...]
    status: QuotaStatus


@attrs.frozen
class ReportOutcome:
    """A quarterly report's deadline and the submission that met it, if any."""

    unit: str
    quarter: int
    deadline: str
    """The :class:`~dualduty.model.Deadline` id."""
    due: dt.date
    status: ReportStatus
    report: str | None = None
    """The first submission's report id."""
    submitted_on: dt.date | None = None
    """The day of the first submission, in the organisation's zone."""
    seq: int | None = None
    revisions: tuple[str, ...] = ()
    """Later submissions (revisions) of the same report, by id."""
    revision_seqs: tuple[int, ...] = ()
    to: str | None = None
    """The unit it goes to (the deadline's; the leading group's office)."""


@attrs.frozen
class SchoolRow:
    """One package holder's work at one school in one quarter."""

    holder: str
    school: str
    quarter: int
    visits: VisitTally
    hazards: HazardTally


@attrs.frozen
class HolderRow:
    """A package holder's visits and hazards in a quarter, or in the year."""

    holder: str
    """A leading-group post id or a unit id."""
    kind: str
    """``post`` (a leading-group member) or ``unit`` (a section)."""
    name: str
    """The post's title or the unit's name."""
    quarter: int | None
    """``None`` for the year."""
    visits: VisitTally
    hazards: HazardTally


@attrs.frozen
class SectionRow:
    """A section's compliance in a quarter, or in the year (``quarter`` ``None``)."""

    section: str
    name: str
    quarter: int | None
    visits: VisitTally
    """The dedicated inspections of the schools packaged to it."""
    hazards: HazardTally
    """The hazards of its packaged schools."""
    topic_studies: MeetingTally
    reports: tuple[ReportOutcome, ...]
    """Its quarterly reports due in the period."""


@attrs.frozen
class Compliance:
    """The compliance view of one year (:func:`compliance`)."""

    year: int
    now: dt.datetime
    """The time the view is computed as of: records after it are left out."""
    quarters: tuple[int, ...]
    """The quarters the schedule covers."""
    visits: tuple[VisitOutcome, ...]
    ad_hoc: tuple[InspectionRef, ...]
    hazards: tuple[HazardOutcome, ...]
    """Every hazard found before *now* that was open in, or found in, the year."""
    reports: tuple[ReportOutcome, ...]
    schools: tuple[SchoolRow, ...]
    """Per holder, school and quarter, where anything was due or happened."""
    holders: tuple[HolderRow, ...]
    """Per package holder: each quarter, then the year."""
    sections: tuple[SectionRow, ...]
    """Per section-like unit: each quarter, then the year."""
    coordination: tuple[MeetingTally, ...]
    """The coordination meetings (调度会, 三.3), per quarter."""
    summary: MeetingTally
    """The annual summary meeting (总结表彰会, 二(一).3)."""

    def section(self, unit_id: str, quarter: int | None = None) -> SectionRow:
        """A section's row for a quarter, or for the year.

        :raises ComplianceError: if the unit is no section of the organisation.
        """
        for row in self.sections:
            if row.section == unit_id and row.quarter == quarter:
                return row
        raise ComplianceError(
            f"no section {unit_id!r} with a row for "
            f"{'the year' if quarter is None else f'quarter {quarter}'} in this view"
        )

    def holder(self, holder_id: str, quarter: int | None = None) -> HolderRow:
        """A package holder's row for a quarter, or for the year.

        :raises ComplianceError: if the holder holds no package and had nothing due.
        """
        for row in self.holders:
            if row.holder == holder_id and row.quarter == quarter:
                return row
        raise ComplianceError(f"no package holder {holder_id!r} in this view")

    def school_rows(
        self,
        *,
        holder: str | None = None,
        school: str | None = None,
        quarter: int | None = None,
    ) -> list[SchoolRow]:
        """The per-school rows matching every condition given."""
        return [
            r
            for r in self.schools
            if (holder is None or r.holder == holder)
            and (school is None or r.school == school)
            and (quarter is None or r.quarter == quarter)
        ]

    def hazard(self, hazard_id: str) -> HazardOutcome:
        """One hazard's outcome.

        :raises ComplianceError: if the view does not include it.
        """
        for h in self.hazards:
            if h.hazard == hazard_id:
                return h
        raise ComplianceError(f"no hazard {hazard_id!r} in this view")


# -- accumulators -------------------------------------------------------------------------


def _visit_tally(visits: Sequence[VisitOutcome], ad_hoc: Sequence[InspectionRef]) -> VisitTally:
    """The tally of some visits' outcomes and some ad hoc inspections."""
    if not visits and not ad_hoc:
        return _EMPTY_VISITS
    return VisitTally(tuple(visits), tuple(ad_hoc))


#: Where a hazard counts in a period: (found in it, closed in it, open at its end,
#: overdue at its end).
_Flags = tuple[bool, bool, bool, bool]


def _hazard_tally(items: Sequence[tuple[HazardOutcome, _Flags]]) -> HazardTally:
    """The tally of some hazards, each with where it counts in the period."""
    found = [h for h, f in items if f[0]]
    closed = [h for h, f in items if f[1]]
    open_ = [h for h, f in items if f[2]]
    seqs = {h.found_seq for h in found}
    seqs.update([h.found_seq for h in open_])
    seqs.update([h.closed_seq for h in closed if h.closed_seq is not None])
    major = Severity.MAJOR
    return HazardTally(
        tuple([h.hazard for h in found]),
        tuple([h.hazard for h in found if h.severity is major]),
        tuple([h.hazard for h in closed]),
        tuple([h.hazard for h in open_]),
        tuple([h.hazard for h, f in items if f[3]]),
        tuple(sorted(seqs)),
    )


_EMPTY_VISITS = VisitTally()
_EMPTY_HAZARDS = HazardTally()


_T = TypeVar("_T")


def _gather(
    groups: dict[tuple[str, str, int], list[_T]],
) -> dict[tuple[str, int | None], list[_T]]:
    """Per-school groups gathered per holder and quarter, and per holder (quarter None)."""
    out: dict[tuple[str, int | None], list[_T]] = defaultdict(list)
    for (holder, _, quarter), items in groups.items():
        out[(holder, quarter)].extend(items)
        out[(holder, None)].extend(items)
    return out


def _plain_date(day: dt.date) -> dt.date:
    """*day* as a standard-library date (schedules hold pendulum dates)."""
    return day if type(day) is dt.date else dt.date(day.year, day.month, day.day)


def _in_force(package: Package, on: dt.date) -> bool:
    return (package.start is None or package.start <= on) and (
        package.end is None or on <= package.end
    )


# -- the view -----------------------------------------------------------------------------


def compliance(
    store: Store,
    org: Organisation,
    schedule: Schedule | None = None,
    *,
    now: dt.datetime | None = None,
    year: int | None = None,
    hazard_rules: HazardRules | None = None,
) -> Compliance:
    """The compliance view of a year: what was due, what was done, per holder, school,
    section and quarter (三.2, 三.3, 二(三).1, 三.4).

    :param store: the record.
    :param org: the organisation (its packages attribute hazards; its rules give the
        number of meetings due).
    :param schedule: the year's schedule, as planned
        (:func:`~dualduty.planning.plan_schedule`) or loaded from a file; a schedule of
        one quarter gives that quarter only. When ``None``, the year's schedule is planned
        with the organisation's calendar (the same schedule the planner gives every time).
    :param now: the time the view is computed as of (default: now, in the organisation's
        zone); records from it on are left out, and quarters and deadlines after it are
        pending.
    :param year: the year; must agree with the schedule's (required without one).
    :param hazard_rules: the hazard deadlines (default: from the organisation's rules).
    :raises ComplianceError: if the year and the schedule disagree, *now* has no zone, or
        an entry's data cannot be read.
    :raises ~dualduty.storage.StoreError: if the store is closed.
    """
    if store.closed:
        from dualduty.storage.base import StoreError

        raise StoreError(f"store {store.url} is closed")
    zone = zoneinfo.ZoneInfo(org.timezone)
    if now is None:
        now = dt.datetime.now(zone)
    elif now.utcoffset() is None:
        raise ComplianceError(f"now: {now!r} must be a date and time with a time zone")
    from .timeline import in_time

    last_day = dt.date((schedule.year if schedule is not None else year or now.year), 12, 31)
    org = in_time(org, store, min(now.astimezone(zone).date(), last_day))
    if schedule is None:
        if year is None:
            raise ComplianceError("give the year's schedule, or the year to plan it for")
        from dualduty.calendars import calendar_for
        from dualduty.planning import plan_schedule

        schedule = plan_schedule(org, calendar_for(org, [year]), year)
    elif year is not None and year != schedule.year:
        raise ComplianceError(f"the schedule is for {schedule.year}, not {year}")
    view = _View(store, org, schedule, now, zone, hazard_rules=hazard_rules)
    # The view allocates a few hundred thousand objects and no reference cycles: the
    # cyclic garbage collector, left on, would walk them all again and again for nothing
    # (a fifth of the time of a 3,000-school year). Reference counting still frees them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return view.build()
    finally:
        if collecting:
            gc.enable()


class _View:
    """One computation of :func:`compliance` (the state it needs while building)."""

    def __init__(
        self,
        store: Store,
        org: Organisation,
        schedule: Schedule,
        now: dt.datetime,
        zone: zoneinfo.ZoneInfo,
        *,
        hazard_rules: HazardRules | None,
    ) -> None:
        from dualduty.graph import OrgGraph

        self.store = store
        self.org = org
        self.schedule = schedule
        self.year = year = schedule.year
        self.now = now.astimezone(zone)
        self.now_ts = _ts(self.now)
        self._offsets: dict[int, int] = {}
        self._holders: dict[str, tuple[str, ...]] = {}
        self.zone = zone
        self.today = self.now.date()
        self.rules = org.rules
        self.hazard_rules = hazard_rules or HazardRules.of(org.rules)
        self.graph = OrgGraph(org)
        self.quarters: tuple[int, ...] = (
            QUARTERS if schedule.quarter is None else (schedule.quarter,)
        )
        self.bounds = {q: quarter_bounds(year, q) for q in QUARTERS}
        self.year_start = dt.datetime(year, 1, 1, tzinfo=zone)
        # the end of each quarter as an instant (midnight starting the next day), capped
        # at now; None for a quarter that has not started by now
        self.ends: dict[int, dt.datetime | None] = {}
        for q in QUARTERS:
            first, last = self.bounds[q]
            start = dt.datetime(first.year, first.month, first.day, tzinfo=zone)
            nxt = last + dt.timedelta(days=1)
            end = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
            self.ends[q] = None if start > self.now else min(end, self.now)
        self.sections = {u.id: u for u in self.graph.sections()}
        self.org_units = self._org_level_units()

    def _org_level_units(self) -> frozenset[str]:
        """The units holding the organisation's own meetings: leading group, office, seat."""
        out = set()
        for u in self.org.units:
            if u.kind is UnitKind.LEADING_GROUP:
                out.add(u.id)
            elif u.kind is UnitKind.OFFICE:
                out.add(u.id)
                if u.seated_in is not None:
                    out.add(u.seated_in)
        return frozenset(out)

    def ended(self, quarter: int) -> bool:
        """Whether the quarter's last day is before today."""
        return self.today > self.bounds[quarter][1]

    def rows(self, kind: str, *, since: dt.datetime | None = None) -> Iterable[Row]:
        """The stored rows of the entries of *kind* before *now* (from *since*), in order."""
        from dualduty.storage.base import Query

        query = Query(
            kind=kind,
            since_ts=None if since is None else _ts(since),
            until_ts=self.now_ts,
        )
        return self.store.backend.select(query)

    def scan(
        self, kind: str, *, since: dt.datetime | None = None
    ) -> Iterator[tuple[int, int, str, dict[str, Any]]]:
        """``(seq, ts, actor, data)`` of the entries of *kind* before *now* (from *since*).

        *data* is the record's data as the store keeps it (its JSON object: keys left out
        hold their field's default), read without building typed entries.
        """
        for row in self.rows(kind, since=since):
            data = _data_of(row.body)
            if type(data) is not dict:
                raise ComplianceError(
                    f"entry {row.seq} ({kind}) holds no record data; run `dualduty verify`"
                )
            yield row.seq, row.ts, row.actor, data

    def at(self, ts: int) -> dt.datetime:
        """An entry's time (microseconds since the epoch) in the organisation's zone."""
        return (_EPOCH + dt.timedelta(microseconds=ts)).astimezone(self.zone)

    def local_date(self, ts: int) -> dt.date:
        """The day of an entry's time in the organisation's zone.

        The zone's offset is looked up once per hour of time (when it is the same at both
        ends of the hour, as it is in all but the hours the clocks change), not per entry.
        """
        hour = ts // _HOUR_US
        offset = self._offsets.get(hour)
        if offset is None:
            start = self.at(hour * _HOUR_US).utcoffset()
            end = self.at((hour + 1) * _HOUR_US - 1).utcoffset()
            offset = self._offsets[hour] = (
                start // _ONE_US if start is not None and start == end else _MIXED
            )
        if offset == _MIXED:
            return self.at(ts).date()
        return _EPOCH_DATE + dt.timedelta(days=(ts + offset) // _DAY_US)

    # -- build -----------------------------------------------------------------------------

    def build(self) -> Compliance:
        visits, ad_hoc = self.visits()
        hazards = self.hazards()
        reports = self.reports()
        meetings = self.meetings()
        schools, holders = self.holder_rows(visits, ad_hoc, hazards)
        sections = self.section_rows(holders, meetings, reports)
        coordination = tuple(
            self.tally(MeetingKind.COORDINATION, None, q, meetings) for q in self.quarters
        )
        summary = self.tally(MeetingKind.SUMMARY, None, None, meetings)
        return Compliance(
            year=self.year,
            now=self.now,
            quarters=self.quarters,
            visits=visits,
            ad_hoc=ad_hoc,
            hazards=hazards,
            reports=reports,
            schools=schools,
            holders=tuple(holders[k] for k in sorted(holders, key=self._holder_order)),
            sections=sections,
            coordination=coordination,
            summary=summary,
        )

    # -- visits ----------------------------------------------------------------------------

    def visits(self) -> tuple[tuple[VisitOutcome, ...], tuple[InspectionRef, ...]]:
        quarters = set(self.quarters)
        visit_school: dict[str | None, str] = {v.id: v.school for v in self.schedule.visits}
        # visit id -> [(ISO date, seq, inspection id)]; ISO dates compare as text
        found: dict[str | None, list[tuple[str, int, str]]] = defaultdict(list)
        ad_hoc: list[InspectionRef] = []
        year = str(self.year)
        default_announced = _ANNOUNCED
        kind = _kind(InspectionRecorded)
        for row in self.rows(kind, since=self.year_start):
            seq = row.seq
            try:
                data = _data_of(row.body)  # not a JSON object: TypeError below
                inspection = data["inspection"]
                school = data["school"]
                day = data["date"]
                visit_id = data.get("visit")
                if visit_school.get(visit_id) == school:  # (no visit has the school None)
                    found[visit_id].append((day, seq, inspection))
                    continue
                q = (int(day[5:7]) - 1) // 3 + 1
                if day[:4] != year or q not in quarters:
                    continue
                ad_hoc.append(
                    InspectionRef(
                        inspection,
                        school,
                        data["holder"],
                        dt.date.fromisoformat(day),
                        q,
                        data.get("announced", default_announced),
                        seq,
                        visit_id,
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ComplianceError(f"entry {seq} (inspection): unreadable: {exc!r}") from None
        ends = {q: self.bounds[q][1].isoformat() for q in QUARTERS}
        today = self.today
        last_days = {q: self.bounds[q][1] for q in QUARTERS}
        out = []
        dates: dict[dt.date, dt.date] = {}
        for v in self.schedule.visits:  # in the schedule's order (by date, as planned)
            if v.quarter not in quarters:
                continue
            planned = dates.get(v.date)
            if planned is None:
                planned = dates[v.date] = _plain_date(v.date)
            done = found.get(v.id)
            if done:
                if len(done) > 1:
                    done.sort()
                day, seq, inspection = done[0]
                status = VisitStatus.DONE if day <= ends[v.quarter] else VisitStatus.LATE
                out.append(
                    VisitOutcome(
                        v.id,
                        v.school,
                        v.holder,
                        v.quarter,
                        planned,
                        v.announced,
                        status,
                        inspection,
                        dt.date.fromisoformat(day),
                        seq,
                        tuple([i for _, _, i in done[1:]]) if len(done) > 1 else (),
                    )
                )
            else:
                missed = today > last_days[v.quarter]
                status = VisitStatus.MISSED if missed else VisitStatus.PENDING
                out.append(
                    VisitOutcome(v.id, v.school, v.holder, v.quarter, planned, v.announced, status)
                )
        ad_hoc.sort(key=lambda i: (i.date, i.seq))
        return tuple(out), tuple(ad_hoc)

    # -- hazards ---------------------------------------------------------------------------

    def hazards(self) -> tuple[HazardOutcome, ...]:
        """Every hazard's outcome, folded from the hazard records in one pass.

        The fold is :func:`~dualduty.records.hazards.step`'s, done on the stored data
        (records that do not fit the loop are passed over, as there); the deadlines are
        :class:`~dualduty.records.HazardState`'s own, asked of a state built at each
        quarter's end for the hazards open then.
        """
        by_id: dict[str, list[tuple[int, int, str, str, dict[str, Any]]]] = defaultdict(list)
        for cls in HAZARD_KINDS:
            kind = _kind(cls)
            for row in self.rows(kind):
                data = _data_of(row.body)
                hazard_id = data.get("hazard") if type(data) is dict else None
                if type(hazard_id) is not str:
                    raise ComplianceError(f"entry {row.seq} ({kind}) names no hazard")
                by_id[hazard_id].append((row.seq, row.ts, kind, row.actor, data))
        packages: dict[str, list[Package]] = defaultdict(list)
        for package in self.org.packages:
            for target in package.targets:
                packages[target].append(package)
        ends = [(q, end, _ts(end)) for q in self.quarters if (end := self.ends[q]) is not None]
        for rows in by_id.values():
            rows.sort(key=_first)
        out = []
        for rows in sorted(by_id.values(), key=_first_seq):
            try:
                outcome = self.hazard(rows, ends, packages)
            except (KeyError, TypeError, ValueError) as exc:
                raise ComplianceError(
                    f"hazard {rows[0][4].get('hazard')!r} (entries "
                    f"{', '.join(str(r[0]) for r in rows)}): unreadable: {exc!r}"
                ) from None
            if outcome is not None:
                out.append(outcome)
        return tuple(out)

    def hazard(
        self,
        rows: list[tuple[int, int, str, str, dict[str, Any]]],
        ends: list[tuple[int, dt.datetime, int]],
        packages: dict[str, list[Package]],
    ) -> HazardOutcome | None:
        open_at: list[int] = []
        overdue_at: list[int] = []
        stamps = [r[1] for r in rows]
        if stamps == sorted(stamps):
            # one pass, taking the state at each quarter's end on the way
            h: _Hazard | None = None
            i, n = 0, len(rows)
            for q, end, end_ts in ends:
                while i < n and rows[i][1] < end_ts:
                    h = _apply(h, rows[i])
                    i += 1
                self.snapshot(h, q, end, open_at, overdue_at)
            while i < n:
                h = _apply(h, rows[i])
                i += 1
        else:  # a record was given an earlier time than one before it: fold each cut
            for q, end, end_ts in ends:
                cut: _Hazard | None = None
                for row in rows:
                    if row[1] < end_ts:
                        cut = _apply(cut, row)
                self.snapshot(cut, q, end, open_at, overdue_at)
            h = None
            for row in rows:
                h = _apply(h, row)
        if h is None:
            return None
        found_on = self.local_date(h.found_ts)
        closed_on = None if h.closed_ts is None else self.local_date(h.closed_ts)
        # a hazard of another year counts only when it was open in this one, or closed in it
        if found_on.year > self.year or (
            found_on.year < self.year
            and not open_at
            and not (closed_on is not None and closed_on.year == self.year)
        ):
            return None
        # a closed general hazard has missed nothing (HazardState.missed): no state needed
        closed_general = h.status is HazardStatus.CLOSED and h.severity is Severity.GENERAL
        missed = () if closed_general else self.state(h).missed(self.now)
        holders = self.holders_of(h.school, found_on, packages)
        return HazardOutcome(
            hazard=h.id,
            school=h.school,
            severity=h.severity,
            description=h.description,
            found_on=found_on,
            closed_on=closed_on,
            status=h.status,
            holders=holders,
            missed=missed,
            open_at=tuple(open_at),
            overdue_at=tuple(overdue_at),
            found_seq=h.found_seq,
            closed_seq=h.closed_seq,
            seqs=tuple([r[0] for r in rows]),
        )

    def holders_of(
        self, school: str, on: dt.date, packages: dict[str, list[Package]]
    ) -> tuple[str, ...]:
        """The holders of the school's packages in force on a day."""
        found = self._holders.get(school)
        if found is None:
            held = packages.get(school, ())
            if any(p.start is not None or p.end is not None for p in held):
                return tuple(dict.fromkeys(p.holder for p in held if _in_force(p, on)))
            found = self._holders[school] = tuple(dict.fromkeys(p.holder for p in held))
        return found

    def snapshot(
        self,
        h: _Hazard | None,
        quarter: int,
        end: dt.datetime,
        open_at: list[int],
        overdue_at: list[int],
    ) -> None:
        if h is not None and h.status is not HazardStatus.CLOSED:
            open_at.append(quarter)
            if self.state(h).overdue(end):
                overdue_at.append(quarter)

    def state(self, h: _Hazard) -> HazardState:
        """The :class:`~dualduty.records.HazardState` the fold has reached."""
        at = self.at
        plan = h.plan
        if plan is None and h.plan_data is not None:
            p = h.plan_data
            plan = h.plan = RectificationPlanned(
                h.id,
                tuple(p["measures"]),
                p["responsible"],
                dt.date.fromisoformat(p["time_limit"]),
                p.get("funds_yuan", 0),
                tuple(p.get("safeguards", ())),
            )
        return HazardState(
            id=h.id,
            school=h.school,
            severity=h.severity,
            description=h.description,
            status=h.status,
            found_at=at(h.found_ts),
            found_by=h.found_by,
            rules=self.hazard_rules,
            listed=h.listed,
            reported_at=None if h.reported_ts is None else at(h.reported_ts),
            plan=plan,
            planned_at=None if h.planned_ts is None else at(h.planned_ts),
            claimed_by=h.claimed_by,
            rejections=h.rejections,
            escalation_level=h.escalation_level,
            escalated_at=None if h.escalated_ts is None else at(h.escalated_ts),
            closed_at=None if h.closed_ts is None else at(h.closed_ts),
        )

    # -- meetings and reports --------------------------------------------------------------

    def meetings(self) -> dict[tuple[str, str, int], list[tuple[str, int]]]:
        """Meetings held in the year: (kind, unit, quarter) -> [(meeting id, seq)]."""
        out: dict[tuple[str, str, int], list[tuple[str, int]]] = defaultdict(list)
        year = self.year
        for seq, _, _, data in self.scan(_kind(MeetingHeld), since=self.year_start):
            try:
                day = dt.date.fromisoformat(data["date"])
                if day.year == year:
                    key = (data["kind"], data["unit"], quarter_of(day))
                    out[key].append((data["meeting"], seq))
            except (KeyError, TypeError, ValueError) as exc:
                raise ComplianceError(f"entry {seq} (meeting-held): unreadable: {exc!r}") from None
        return out

    def tally(
        self,
        kind: MeetingKind,
        unit: str | None,
        quarter: int | None,
        meetings: dict[tuple[str, str, int], list[tuple[str, int]]],
    ) -> MeetingTally:
        """The meetings of *kind* due from *unit* (``None``: the organisation) in a period.

        A quarter must hold its quota; the year, every quarter's quota (so two studies
        in one quarter do not make up for none in another). The summary meeting is due
        once a year.
        """
        units = sorted(self.org_units) if unit is None else [unit]
        quarters = self.quarters if quarter is None else (quarter,)
        by_quarter = {
            q: sorted(
                (pair for u in units for pair in meetings.get((kind.value, u, q), ())),
                key=lambda p: p[1],
            )
            for q in quarters
        }
        held = sorted((p for ps in by_quarter.values() for p in ps), key=lambda p: p[1])
        rules = self.rules
        if kind is MeetingKind.SUMMARY:
            required = rules.summary_meetings_per_year
            periods = [(held, required, self.today > dt.date(self.year, 12, 31))]
        else:
            per = (
                rules.topic_studies_per_quarter
                if kind is MeetingKind.TOPIC_STUDY
                else rules.coordination_meetings_per_quarter
            )
            required = per * len(quarters)
            periods = [(by_quarter[q], per, self.ended(q)) for q in quarters]
        if all(len(got) >= need for got, need, _ in periods):
            status = QuotaStatus.MET
        elif any(len(got) < need and ended for got, need, ended in periods):
            status = QuotaStatus.SHORT
        else:
            status = QuotaStatus.PENDING
        scheduled = tuple(
            m.id
            for m in self.schedule.meetings
            if m.kind is kind
            and (unit is None or m.unit == unit)
            and (quarter is None or m.quarter == quarter)
        )
        return MeetingTally(
            kind,
            unit,
            quarter,
            required,
            scheduled,
            tuple(m for m, _ in held),
            tuple(s for _, s in held),
            status,
        )

    def reports(self) -> tuple[ReportOutcome, ...]:
        subs: dict[tuple[str, int], list[tuple[int, dt.date, str]]] = defaultdict(list)
        for seq, ts, _actor, data in self.scan(_kind(ReportSubmitted)):
            try:
                if data["year"] == self.year:
                    day = self.local_date(ts)
                    subs[(data["unit"], data["quarter"])].append((seq, day, data["report"]))
            except (KeyError, TypeError) as exc:
                raise ComplianceError(
                    f"entry {seq} (report-submitted): unreadable: {exc!r}"
                ) from None
        quarters = set(self.quarters)
        out = []
        deadlines = sorted(
            (
                d
                for d in self.schedule.deadlines
                if d.kind is DeadlineKind.QUARTER_REPORT and d.quarter in quarters
            ),
            key=lambda d: (d.quarter or 0, d.due, d.unit),
        )
        for d in deadlines:
            quarter = d.quarter or quarter_of(d.due)
            got = sorted(subs.get((d.unit, quarter), ()))
            if got:
                seq, day, report = got[0]
                status = ReportStatus.ON_TIME if day <= d.due else ReportStatus.LATE
                out.append(
                    ReportOutcome(
                        d.unit,
                        quarter,
                        d.id,
                        _plain_date(d.due),
                        status,
                        report,
                        day,
                        seq,
                        tuple(r for _, _, r in got[1:]),
                        tuple(s for s, _, _ in got[1:]),
                        d.to,
                    )
                )
            else:
                status = ReportStatus.MISSING if self.today > d.due else ReportStatus.PENDING
                out.append(
                    ReportOutcome(d.unit, quarter, d.id, _plain_date(d.due), status, to=d.to)
                )
        return tuple(out)

    # -- rows ------------------------------------------------------------------------------

    def _holder_order(self, key: tuple[str, int | None]) -> tuple[int, str, int]:
        holder, quarter = key
        kind = 0 if self._holder_kind(holder) == "post" else 1
        return (kind, holder, 5 if quarter is None else quarter)

    def _holder_kind(self, holder: str) -> str:
        try:
            self.graph.post(holder)
        except KeyError:
            return "unit"
        return "post"

    def _holder_name(self, holder: str) -> str:
        try:
            return self.graph.post(holder).title
        except KeyError:
            pass
        try:
            return self.graph.unit(holder).name
        except KeyError:
            return holder

    def holder_rows(
        self,
        visits: Sequence[VisitOutcome],
        ad_hoc: Sequence[InspectionRef],
        hazards: Sequence[HazardOutcome],
    ) -> tuple[tuple[SchoolRow, ...], dict[tuple[str, int | None], HolderRow]]:
        # grouped by holder, school and quarter; a holder's quarter and year gather its
        # schools' groups (in the order their first visit falls)
        school_v: dict[tuple[str, str, int], list[VisitOutcome]] = defaultdict(list)
        for v in visits:
            school_v[(v.holder, v.school, v.quarter)].append(v)
        school_a: dict[tuple[str, str, int], list[InspectionRef]] = defaultdict(list)
        for i in ad_hoc:
            school_a[(i.holder, i.school, i.quarter)].append(i)
        holder_v = _gather(school_v)
        holder_a = _gather(school_a)
        # hazards: (school, quarter or None for the year) -> [(hazard, flags)]
        per_school: dict[tuple[str, int | None], list[tuple[HazardOutcome, _Flags]]] = defaultdict(
            list
        )
        started = [q for q in self.quarters if self.ends[q] is not None]
        year_end = max(started) if started else 0  # 0: no quarter has started by now
        for h in hazards:
            for q, flags in self._hazard_periods(h, year_end):
                per_school[(h.school, q)].append((h, flags))
        holder_items: dict[tuple[str, int | None], list[tuple[HazardOutcome, _Flags]]] = (
            defaultdict(list)
        )
        school_h: dict[tuple[str, str, int], HazardTally] = {}
        for (school, q), items in per_school.items():
            shared: HazardTally | None = None
            for holder in dict.fromkeys(x for h, _ in items for x in h.holders):
                mine = [item for item in items if holder in item[0].holders]
                holder_items[(holder, q)].extend(mine)
                if q is None:
                    continue
                if len(mine) == len(items):  # the usual case: the school's holders share it
                    if shared is None:
                        shared = _hazard_tally(items)
                    school_h[(holder, school, q)] = shared
                else:
                    school_h[(holder, school, q)] = _hazard_tally(mine)
        holder_h = {key: _hazard_tally(items) for key, items in holder_items.items()}
        holders: set[str] = {p.holder for p in self.org.packages}
        holders.update(k[0] for k in holder_v)
        holders.update(k[0] for k in holder_a)
        holders.update(k[0] for k in holder_h)
        rows: dict[tuple[str, int | None], HolderRow] = {}
        for holder in holders:
            kind, name = self._holder_kind(holder), self._holder_name(holder)
            for q in (*self.quarters, None):
                key = (holder, q)
                rows[key] = HolderRow(
                    holder,
                    kind,
                    name,
                    q,
                    _visit_tally(holder_v.get(key, ()), holder_a.get(key, ())),
                    holder_h.get(key, _EMPTY_HAZARDS),
                )
        keys = sorted(
            set(school_v) | set(school_a) | set(school_h), key=lambda k: (k[2], k[0], k[1])
        )
        schools = []
        for sk in keys:
            schools.append(
                SchoolRow(
                    sk[0],
                    sk[1],
                    sk[2],
                    _visit_tally(school_v.get(sk, ()), school_a.get(sk, ())),
                    school_h.get(sk, _EMPTY_HAZARDS),
                )
            )
        return tuple(schools), rows

    def _hazard_periods(
        self, h: HazardOutcome, last_quarter: int
    ) -> list[tuple[int | None, tuple[bool, bool, bool, bool]]]:
        """Where a hazard counts: (quarter or None, (found, closed, open, overdue))."""
        out: list[tuple[int | None, tuple[bool, bool, bool, bool]]] = []
        year = self.year
        quarters = self.quarters
        found_q = quarter_of(h.found_on) if h.found_on.year == year else None
        closed_q = (
            quarter_of(h.closed_on)
            if h.closed_on is not None and h.closed_on.year == year
            else None
        )
        for q in quarters:
            flags = (found_q == q, closed_q == q, q in h.open_at, q in h.overdue_at)
            if any(flags):
                out.append((q, flags))
        year_flags = (
            found_q in quarters,
            closed_q in quarters,
            last_quarter in h.open_at,
            last_quarter in h.overdue_at,
        )
        if any(year_flags):
            out.append((None, year_flags))
        return out

    def section_rows(
        self,
        holders: dict[tuple[str, int | None], HolderRow],
        meetings: dict[tuple[str, str, int], list[tuple[str, int]]],
        reports: Sequence[ReportOutcome],
    ) -> tuple[SectionRow, ...]:
        by_unit: dict[str, list[ReportOutcome]] = defaultdict(list)
        for r in reports:
            by_unit[r.unit].append(r)
        out = []
        for unit in self.sections.values():
            if unit.kind not in SECTION_KINDS:  # pragma: no cover - graph.sections()
                continue
            for q in (*self.quarters, None):
                row = holders.get((unit.id, q))
                out.append(
                    SectionRow(
                        unit.id,
                        unit.name,
                        q,
                        row.visits if row is not None else _EMPTY_VISITS,
                        row.hazards if row is not None else _EMPTY_HAZARDS,
                        self.tally(MeetingKind.TOPIC_STUDY, unit.id, q, meetings),
                        tuple(r for r in by_unit.get(unit.id, ()) if q is None or r.quarter == q),
                    )
                )
        return tuple(out)


def _data_of(body: bytes) -> Any:
    """The ``data`` of an entry's canonical JSON (``None`` if it has none).

    The canonical JSON (:mod:`dualduty.storage`) sorts its keys and has no white space:
    ``{"actor":…,"at":…,"data":{…},"kind":"…","prev":…,"seq":…,"subjects":[…]}``.
    Neither the actor (an id) nor the time can hold ``"data":``, and no value after the
    data can hold ``,"kind":"``, so the data lies between the first of the one and the
    last of the other; parsing only it is about twice as fast as parsing the entry.
    """
    start = body.find(b'"data":')
    end = body.rfind(b',"kind":"')
    if 0 < start < end:
        try:
            return orjson.loads(body[start + 7 : end])
        except orjson.JSONDecodeError:
            pass  # not laid out as expected: parse it whole
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return doc.get("data") if type(doc) is dict else None


class _Hazard:
    """A hazard as the fold has it so far: what :class:`HazardState` needs, in entry terms."""

    __slots__ = (
        "claimed_by",
        "closed_seq",
        "closed_ts",
        "description",
        "escalated_ts",
        "escalation_level",
        "found_by",
        "found_seq",
        "found_ts",
        "id",
        "listed",
        "plan",
        "plan_data",
        "planned_ts",
        "rejections",
        "reported_ts",
        "school",
        "severity",
        "status",
    )

    def __init__(self, seq: int, ts: int, actor: str, data: dict[str, Any]) -> None:
        self.id: str = data["hazard"]
        self.school: str = data["school"]
        self.severity = Severity(data["severity"])
        self.description: str = data["description"]
        self.status = HazardStatus.FOUND
        self.found_ts = ts
        self.found_by = actor
        self.found_seq = seq
        reported = data.get("reported", _REPORTED)
        self.reported_ts: int | None = ts if reported else None
        self.listed = False
        self.plan: RectificationPlanned | None = None
        self.plan_data: dict[str, Any] | None = None
        self.planned_ts: int | None = None
        self.claimed_by: str | None = None
        self.rejections = 0
        self.escalation_level = 0
        self.escalated_ts: int | None = None
        self.closed_ts: int | None = None
        self.closed_seq: int | None = None


_FOUND = _kind(HazardFound)
_REGISTERED = _kind(HazardRegistered)
_PLANNED = _kind(RectificationPlanned)
_CLAIMED = _kind(RectificationClaimed)
_REINSPECTED = _kind(Reinspected)
_CLOSED = _kind(HazardClosed)
_ESCALATED = _kind(HazardEscalated)
_REASSIGNED = _kind(RectificationReassigned)
_AT_WORK = (HazardStatus.REGISTERED, HazardStatus.RECTIFYING)
_PLANNED_STATUSES = (HazardStatus.RECTIFYING, HazardStatus.RECTIFIED)
# what the store leaves out of an entry's JSON holds the field's default
_ANNOUNCED = _default(InspectionRecorded, "announced")
_REPORTED = _default(HazardFound, "reported")
_LISTED = _default(HazardRegistered, "listed")


def _apply(h: _Hazard | None, row: tuple[int, int, str, str, dict[str, Any]]) -> _Hazard | None:
    """*h* after one of its entries, as :func:`~dualduty.records.hazards.step` has it; an
    entry that does not fit the loop changes nothing (updates *h* in place)."""
    seq, ts, kind, actor, data = row
    if kind == _FOUND:
        return _Hazard(seq, ts, actor, data) if h is None else h
    if h is None:
        return None
    status = h.status
    if kind == _REGISTERED:
        if status is HazardStatus.FOUND:
            h.status = HazardStatus.REGISTERED
            h.listed = bool(data.get("listed", _LISTED))
            if h.reported_ts is None:
                h.reported_ts = ts
    elif kind == _PLANNED:
        if status in _AT_WORK and not (
            h.severity is Severity.MAJOR
            and (not data.get("measures") or not data.get("safeguards"))
        ):
            h.status = HazardStatus.RECTIFYING
            h.plan, h.plan_data, h.planned_ts = None, data, ts
    elif kind == _CLAIMED:
        if status is HazardStatus.RECTIFYING:
            h.status = HazardStatus.RECTIFIED
            h.claimed_by = actor
    elif kind == _REINSPECTED:
        if status is HazardStatus.RECTIFIED:
            if data["accepted"]:
                h.status = HazardStatus.ACCEPTED
            else:
                h.status = HazardStatus.RECTIFYING
                h.rejections += 1
    elif kind == _CLOSED:
        if status is HazardStatus.ACCEPTED:
            h.status = HazardStatus.CLOSED
            h.closed_ts, h.closed_seq = ts, seq
    elif kind == _REASSIGNED:
        if status in _PLANNED_STATUSES and h.plan_data is not None:
            h.plan, h.plan_data = None, {**h.plan_data, "responsible": data["responsible"]}
    elif (
        kind == _ESCALATED
        and status is not HazardStatus.CLOSED
        and data["level"] == h.escalation_level + 1
    ):
        h.escalation_level = data["level"]
        h.escalated_ts = ts
    return h
