"""Time-driven reminders: what is due soon or overdue, routed like any other event.

Each day (run it as often as you like: every message has an idempotency key, so the
outbox holds each reminder once):

- ``rectification-due``: a hazard being rectified whose plan's time limit is within the
  route's lead time (3 days) → the person the plan names responsible;
- ``hazard-overdue``: an open hazard past a deadline of its loop (plan, time limit,
  closing) → the responsible person (before a plan: the head of the school's section) and
  every level of the escalation chain the office has escalated it to; again every week
  while it stays overdue (as often as it may climb the chain,
  :attr:`HazardRules.escalate_every_days <dualduty.records.HazardRules.escalate_every_days>`;
  the route's ``every_days`` if it sets one);
- ``visit-due``: a scheduled dedicated inspection not yet carried out, due the next
  working day → its inspectors;
- ``report-due``: a section's quarter report not yet submitted, due within 5 working days
  → the section's head;
- ``meeting-due``: a scheduled meeting not yet held, due the next working day → its
  attendees.

**When.** A reminder of something due on day *D* with a lead of *n* goes from the day
*n* days before *D* (*n* working days of the work calendar when the route counts working
days) up to the day before *D*; its key's period is *D*, so it is queued once however many
days of that window the reminders run. "The working day before" a Monday visit is the
Friday before (the last working day before a holiday, the make-up working day of a 调休
weekend), so nobody is reminded on a Sunday of Monday's visit or missed over a long
weekend. An overdue reminder's period is the first day of each *n*-day stretch since the
deadline it missed (*n* = 7 by default; 1 makes it daily), so it comes at most once a day.
Days the calendar has no holiday data for count as working days from Monday to Friday.

:class:`Reminders` reads the store incrementally: each call reads only the records
appended since the last one, so a long-running process (``dualduty notify --watch``)
asks it every few minutes at little cost; :func:`remind` and :func:`enqueue_reminders`
do it once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Sequence, Set
from typing import TYPE_CHECKING, TypeVar

from dualduty.model.enums import UnitKind
from dualduty.model.schedule import DeadlineKind, MeetingKind
from dualduty.records.hazards import (
    HAZARD_KINDS,
    HazardRules,
    HazardState,
    HazardStatus,
    escalation_chain,
    step,
)
from dualduty.records.kinds import ReportSubmitted
from dualduty.records.service import InvalidTransition
from dualduty.storage.base import Query

from .routing import Event, Router, zh_date

if TYPE_CHECKING:
    from dualduty.calendars import WorkCalendar
    from dualduty.model.notify import NotifySettings, Route
    from dualduty.model.org import Organisation
    from dualduty.model.schedule import Deadline, Meeting, Schedule, Visit
    from dualduty.storage.store import OutboxMessage, Store

__all__ = ["Reminders", "enqueue_reminders", "remind"]

_T = TypeVar("_T")
#: What identifies a reminder made once: its kind, subject, route and period.
_Mark = tuple[str, str, str, str]
_IN_WORK = (HazardStatus.REGISTERED, HazardStatus.RECTIFYING)


def _plain(day: dt.date | dt.datetime) -> dt.date:
    """A plain date (date arithmetic on pendulum's dates is slow)."""
    if isinstance(day, dt.datetime):
        day = day.date()
    return dt.date(day.year, day.month, day.day)


class _Watch:
    """An open hazard as the reminders watch it, worked out once per change of its state."""

    __slots__ = (
        "checked",
        "data",
        "deadlines",
        "earliest",
        "first",
        "instants",
        "limit",
        "limit_iso",
        "missed",
        "parties",
        "recheck",
        "state",
    )

    def __init__(
        self,
        state: HazardState,
        *,
        limit: dt.date | None,
        instants: dict[str, dt.datetime],
        deadlines: dict[str, dt.date],
        data: dict[str, object],
        parties: dict[str, tuple[str, ...]],
    ) -> None:
        self.state = state
        self.data = data
        """The template fields every reminder of it has."""
        self.parties = parties
        """Its ``responsible`` person and the ``escalation`` levels it reached."""
        self.limit = limit
        """The time limit of a rectification in work (due reminders), else ``None``."""
        self.limit_iso = "" if limit is None else limit.isoformat()
        self.instants = instants
        """Each deadline it may miss, and an instant no later than the one it is missed
        at."""
        self.earliest = min(instants.values())
        """No deadline is missed before this instant."""
        self.deadlines = deadlines
        """Each deadline it may miss, as a local date."""
        # The deadlines missed when last asked (at *checked*), the earliest of their dates,
        # and when they may change next: asked again only then (they only grow with time).
        self.checked: dt.datetime | None = None
        self.missed: list[str] = []
        self.first: dt.date | None = None
        self.recheck: dt.datetime | None = None

    def missed_at(self, now: dt.datetime) -> list[str]:
        """The deadlines missed at *now* (a late report, a fact of the past, left out)."""
        checked, recheck = self.checked, self.recheck
        if checked is None or now < checked or recheck is None or now >= recheck:
            missed = [m for m in self.state.missed(now) if m != "report"]
            later = [t for m, t in self.instants.items() if m not in missed]
            self.checked, self.missed = now, missed
            self.first = min(self.deadlines[m] for m in missed) if missed else None
            self.recheck = min(later) if later else None
            if self.recheck is None:
                self.recheck = dt.datetime.max.replace(tzinfo=dt.UTC)
        return self.missed


_HAZARD_KINDS = frozenset(k.__record_kind__ for k in HAZARD_KINDS)
_MISSED_ZH = {"plan": "未按期制定整改方案", "time-limit": "超过整改时限", "close": "未按期销号"}
_MEETING_ZH = {
    MeetingKind.TOPIC_STUDY: "安全工作专题研究会",
    MeetingKind.COORDINATION: "学校安全稳定工作调度会",
    MeetingKind.SUMMARY: "学校安全稳定工作总结表彰会",
}
_MEETING_CLAUSE = {
    MeetingKind.TOPIC_STUDY: "二(三).1",
    MeetingKind.COORDINATION: "三.3",
    MeetingKind.SUMMARY: "二(一).3",
}


class Reminders:
    """The reminders of an organisation's schedule and record, kept up to date.

    :param store: the record (hazards, inspections, meetings held, reports submitted).
    :param org: the organisation.
    :param schedule: its schedule (visits, meetings, quarter-report deadlines).
    :param calendar: the work calendar for working-day lead times (default:
        :func:`dualduty.calendars.calendar_for` the schedule's year and the years beside
        it that have holiday data).
    :param settings: the ``[notify]`` settings (default: ``org.notify``).
    :param router: route through this router (default: one of *org* and *settings*).
    :param hazard_rules: the hazard loop's deadlines (default: from ``org.rules``).
    """

    def __init__(
        self,
        store: Store,
        org: Organisation,
        schedule: Schedule,
        *,
        calendar: WorkCalendar | None = None,
        settings: NotifySettings | None = None,
        router: Router | None = None,
        hazard_rules: HazardRules | None = None,
    ) -> None:
        self.store = store
        self.org = org
        self.schedule = schedule
        self.router = router if router is not None else Router(org, settings)
        self.graph = self.router.graph
        self.zone = zoneinfo.ZoneInfo(org.timezone)
        self.rules = hazard_rules or HazardRules.of(org.rules)
        self.calendar = calendar if calendar is not None else _calendar(org, schedule.year)
        self._working: dict[dt.date, bool] = {}
        self._seq = 0
        self._hazards: dict[str, _Watch] = {}
        self._queued: set[_Mark] = set()
        self._starts: dict[tuple[dt.date, int, bool], dt.date] = {}
        self._names: dict[str, str] = {}
        self._done_visits: set[str] = set()
        self._done_meetings: set[str] = set()
        self._done_reports: set[tuple[str, int, int]] = set()
        self._chains: dict[str, tuple[tuple[str, ...], str | None]] = {}
        # by route: the day -> the scheduled items whose reminder window holds that day
        self._visits = self._index("visit-due", schedule.visits, lambda v: v.date)
        self._meetings = self._index("meeting-due", schedule.meetings, lambda m: m.date)
        reports = [d for d in schedule.deadlines if d.kind is DeadlineKind.QUARTER_REPORT]
        self._deadlines = self._index("report-due", reports, lambda d: d.due)

    # -- the calendar ------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """Whether *day* is a working day (Monday to Friday where the calendar has no data)."""
        found = self._working.get(day)
        if found is None:
            from dualduty.calendars import MissingHolidays

            try:
                found = self.calendar.is_working_day(day)
            except MissingHolidays:
                found = day.weekday() < 5
            self._working[day] = found
        return found

    def window_start(self, due: dt.date, lead: int, working_days: bool) -> dt.date:
        """The first day a reminder of something due on *due* goes, *lead* (working) days
        before it."""
        due = _plain(due)
        if not working_days:
            return due - dt.timedelta(days=lead)
        day, found = due, 0
        while found < lead:
            day -= dt.timedelta(days=1)
            if self.is_working_day(day):
                found += 1
        return day

    def _index(
        self, kind: str, items: Iterable[_T], due_of: Callable[[_T], dt.date]
    ) -> list[tuple[Route, dict[dt.date, list[tuple[_T, str]]]]]:
        """For each route of *kind*: the day -> the items (with their period, the day
        they are due) whose reminder window holds that day."""
        out = []
        dated = [(item, _plain(due_of(item))) for item in items]
        one = dt.timedelta(days=1)
        for r in self.router.routes_for(kind):
            by_day: dict[dt.date, list[tuple[_T, str]]] = {}
            lead = r.lead_days or 1
            for item, due in dated:
                period = due.isoformat()
                day = self._start(due, lead, bool(r.working_days))
                while day < due:
                    by_day.setdefault(day, []).append((item, period))
                    day += one
            out.append((r, by_day))
        return out

    # -- the record ----------------------------------------------------------------------------

    def refresh(self) -> int:
        """Read the records appended since the last call; return how many were read."""
        store = self.store
        entry = store.codec.entry
        n = 0
        for row in store.backend.select(Query(after_seq=self._seq)):
            n += 1
            self._seq = row.seq
            kind = row.kind
            if kind in _HAZARD_KINDS:
                record = entry(row).record
                hazard_id = record.data.hazard
                known = self._hazards.get(hazard_id)
                try:
                    state = step(None if known is None else known.state, record, self.rules)
                except InvalidTransition:  # a record the loop does not allow: left out
                    continue
                if state.open:
                    self._hazards[hazard_id] = self._watch(state)
                else:
                    self._hazards.pop(hazard_id, None)
            elif kind == "inspection":
                self._done_visits.update(s[6:] for s in row.subjects if s.startswith("visit:"))
            elif kind == "meeting-held":
                self._done_meetings.update(s[8:] for s in row.subjects if s.startswith("meeting:"))
            elif kind == "report-submitted":
                data = entry(row).record.data
                if isinstance(data, ReportSubmitted):
                    self._done_reports.add((data.unit, data.year, data.quarter))
        return n

    def _watch(self, state: HazardState) -> _Watch:
        """What the reminders need of an open hazard, worked out once per change."""
        zone = self.zone
        close = state.close_by
        deadlines: dict[str, dt.date] = {"close": _plain(close.astimezone(zone))}
        instants = {"close": close}
        limit = None
        if state.plan is None and state.plan_by is not None:
            deadlines["plan"] = _plain(state.plan_by.astimezone(zone))
            instants["plan"] = state.plan_by
        if state.plan is not None:
            deadlines["time-limit"] = _plain(state.plan.time_limit)
            if state.status in _IN_WORK:
                limit = deadlines["time-limit"]
                # missed once the local day after it begins; a day earlier is safe anywhere
                instants["time-limit"] = dt.datetime.combine(limit, dt.time(), zone)
        holders = self._chain(state.school)[0]
        escalated = tuple(h for h in holders[1 : state.escalation_level + 1] if h)
        parties = {"responsible": self._responsible(state), "escalation": escalated}
        return _Watch(
            state,
            limit=limit,
            instants=instants,
            deadlines=deadlines,
            data=self._hazard_data(state),
            parties=parties,
        )

    @property
    def open_hazards(self) -> list[HazardState]:
        """The open hazards as the record read so far says they are."""
        return [w.state for w in self._hazards.values()]

    # -- what is due ---------------------------------------------------------------------------

    def due(self, now: dt.datetime) -> list[tuple[Event, Route]]:
        """Every reminder due at *now* (after reading the new records), each with the
        route that sends it."""
        return [(e, r) for e, r, _ in self._due(now, frozenset())]

    def _due(self, now: dt.datetime, skip: Set[_Mark]) -> list[tuple[Event, Route, _Mark]]:
        """The reminders due at *now*, but those *skip* holds, with their marks."""
        self.refresh()
        today = now.astimezone(self.zone).date()
        out = self._hazard_reminders(now, today, skip)
        for r, visits in self._visits:
            for visit, period in visits.get(today, ()):
                mark = ("visit-due", visit.id, r.rule, period)
                if visit.id not in self._done_visits and mark not in skip:
                    out.append((self._visit_event(visit, now), r, mark))
        for r, deadlines in self._deadlines:
            for deadline, period in deadlines.get(today, ()):
                mark = ("report-due", deadline.id, r.rule, period)
                done = (deadline.unit, self.schedule.year, deadline.quarter or 0)
                if done not in self._done_reports and mark not in skip:
                    out.append((self._report_event(deadline, now, today), r, mark))
        for r, meetings in self._meetings:
            for meeting, period in meetings.get(today, ()):
                mark = ("meeting-due", meeting.id, r.rule, period)
                if meeting.id not in self._done_meetings and mark not in skip:
                    out.append((self._meeting_event(meeting, now), r, mark))
        return out

    def events(self, now: dt.datetime) -> list[Event]:
        """The reminders due at *now*, as events."""
        return [e for e, _ in self.due(now)]

    def messages(self, now: dt.datetime) -> list[OutboxMessage]:
        """The outbox messages of every reminder due at *now*."""
        route = self.router.route
        return [m for e, r in self.due(now) for m in route(e, routes=(r,))]

    def pending(self, now: dt.datetime) -> list[OutboxMessage]:
        """The outbox messages of the reminders due at *now* that this object has not
        handed out yet (with :meth:`enqueue` or :meth:`take`)."""
        return self._pending(now)[0]

    def _pending(self, now: dt.datetime) -> tuple[list[OutboxMessage], set[_Mark]]:
        route = self.router.route
        found = self._due(now, self._queued)
        return [m for e, r, _ in found for m in route(e, routes=(r,))], {k for *_, k in found}

    def take(self, now: dt.datetime) -> list[OutboxMessage]:
        """The outbox messages of the reminders due at *now* that this object has not
        handed out before, remembered as handed out (for a caller that queues them its
        own way; :meth:`enqueue` queues them in the store)."""
        messages, marks = self._pending(now)
        self._queued.update(marks)
        return messages

    def enqueue(self, now: dt.datetime) -> int:
        """Queue the reminders due at *now* in the outbox; return how many were new.

        A reminder this object queued before is not routed again (a watcher asking every
        ten minutes does little work); one already in the outbox under the same key — from
        another process, say — is not queued again.
        """
        messages, marks = self._pending(now)
        queued = _enqueue(self.store, messages)
        self._queued.update(marks)
        return queued

    # -- hazards -----------------------------------------------------------------------------

    def _chain(self, school: str) -> tuple[tuple[str, ...], str | None]:
        """The holders of the school's escalation chain by level, and its first level's."""
        found = self._chains.get(school)
        if found is None:
            posts = escalation_chain(self.graph, school)
            holders = tuple(p.holder or "" for p in posts)
            found = self._chains[school] = (holders, holders[0] if holders else None)
        return found

    def _start(self, due: dt.date, lead: int, working_days: bool) -> dt.date:
        key = (due, lead, working_days)
        found = self._starts.get(key)
        if found is None:
            found = self._starts[key] = self.window_start(due, lead, working_days)
        return found

    def _hazard_reminders(
        self, now: dt.datetime, today: dt.date, skip: Set[_Mark]
    ) -> list[tuple[Event, Route, _Mark]]:
        due_routes = self.router.routes_for("rectification-due")
        late_routes = self.router.routes_for("hazard-overdue")
        out: list[tuple[Event, Route, _Mark]] = []
        for w in self._hazards.values():
            state, limit = w.state, w.limit
            if limit is not None:
                for r in due_routes:
                    start = self._start(limit, r.lead_days or 3, bool(r.working_days))
                    mark = ("rectification-due", state.id, r.rule, w.limit_iso)
                    if start <= today < limit and mark not in skip:
                        out.append((self._due_event(w, now, today, limit), r, mark))
            if not late_routes or now <= w.earliest:
                continue
            missed = w.missed_at(now)
            first = w.first
            if first is None:
                continue
            over = max((today - first).days, 0)
            for r in late_routes:
                every = r.every_days or self.rules.escalate_every_days
                period = (first + dt.timedelta(days=over - over % every)).isoformat()
                mark = ("hazard-overdue", state.id, r.rule, period)
                if mark not in skip:
                    event = self._overdue_event(
                        w, now, missed=missed, first=first, over=over, period=period
                    )
                    out.append((event, r, mark))
        return out

    def _hazard_data(self, state: HazardState) -> dict[str, object]:
        first = self._chain(state.school)[1]
        responsible = state.plan.responsible if state.plan is not None else first
        return {
            "hazard": state.id,
            "school": state.school,
            "school_name": self.graph.school(state.school).name,
            "level": "重大" if state.major else "一般",
            "description": state.description,
            "responsible_name": self.router.name(responsible) if responsible else "（未明确）",
        }

    def _responsible(self, state: HazardState) -> tuple[str, ...]:
        if state.plan is not None:
            return (state.plan.responsible,)
        first = self._chain(state.school)[1]
        return (first,) if first else ()

    def _due_event(self, w: _Watch, now: dt.datetime, today: dt.date, limit: dt.date) -> Event:
        data = dict(w.data)
        data.update(time_limit=zh_date(limit), days_left=(limit - today).days)
        return Event(
            "rectification-due",
            w.state.id,
            now,
            school=w.state.school,
            period=limit.isoformat(),
            urgent=False,
            data=data,
            parties=w.parties,
        )

    def _overdue_event(
        self,
        w: _Watch,
        now: dt.datetime,
        *,
        missed: list[str],
        first: dt.date,
        over: int,
        period: str,
    ) -> Event:
        data = dict(w.data)
        data.update(
            missed="逾期：" + "、".join(_MISSED_ZH[m] for m in missed),
            deadline=zh_date(first),
            days_over=over,
        )
        return Event(
            "hazard-overdue",
            w.state.id,
            now,
            school=w.state.school,
            period=period,
            urgent=w.state.major,
            data=data,
            parties=w.parties,
        )

    # -- the schedule ------------------------------------------------------------------------

    def _holders(self, posts: Iterable[str]) -> tuple[str, ...]:
        out: dict[str, None] = {}
        for post_id in posts:
            try:
                holder = self.graph.post(post_id).holder
            except KeyError:
                continue
            if holder is not None:
                out[holder] = None
        return tuple(out)

    def _holder_name(self, holder: str) -> str:
        """A package holder's name: a unit's, or a post's title."""
        found = self._names.get(holder)
        if found is None:
            try:
                found = self.graph.unit(holder).name
            except KeyError:
                try:
                    found = self.graph.post(holder).title
                except KeyError:
                    found = holder
            self._names[holder] = found
        return found

    def _visit_event(self, visit: Visit, now: dt.datetime) -> Event:
        inspectors = self._holders(visit.inspectors)
        return Event(
            "visit-due",
            visit.id,
            now,
            school=visit.school,
            period=visit.date.isoformat(),
            data={
                "visit": visit.id,
                "school": visit.school,
                "school_name": self.graph.school(visit.school).name,
                "date": zh_date(visit.date),
                "holder_name": self._holder_name(visit.holder),
                "manner": "明查" if visit.announced else "暗访",
                "quarter": visit.quarter,
                "inspectors": "、".join(self.router.name(p) for p in inspectors) or "（未指定）",
            },
            parties={"inspectors": inspectors},
        )

    def _report_event(self, deadline: Deadline, now: dt.datetime, today: dt.date) -> Event:
        left = 0
        day = today
        while day < deadline.due:
            day += dt.timedelta(days=1)
            left += self.is_working_day(day)
        return Event(
            "report-due",
            deadline.id,
            now,
            unit=deadline.unit,
            period=deadline.due.isoformat(),
            data={
                "deadline": deadline.id,
                "unit": deadline.unit,
                "unit_name": self.graph.unit(deadline.unit).name,
                "year": self.schedule.year,
                "quarter": deadline.quarter or "",
                "due": zh_date(deadline.due),
                "working_days_left": left,
            },
        )

    def _attendees(self, meeting: Meeting) -> tuple[str, ...]:
        graph = self.graph
        unit = graph.unit(meeting.unit)
        if meeting.kind is MeetingKind.TOPIC_STUDY and unit.kind not in (
            UnitKind.LEADING_GROUP,
            UnitKind.OFFICE,
        ):
            return tuple(dict.fromkeys(p.holder for p in unit.posts if p.holder is not None))
        roles = self.router.roles
        people = dict.fromkeys(roles.leading_group())
        people.update(dict.fromkeys(roles.office_members()))
        people.update(dict.fromkeys(roles.of("section-heads")))
        return tuple(people)

    def _meeting_event(self, meeting: Meeting, now: dt.datetime) -> Event:
        label = _MEETING_ZH.get(meeting.kind, "会议")
        return Event(
            "meeting-due",
            meeting.id,
            now,
            unit=meeting.unit,
            period=meeting.date.isoformat(),
            data={
                "meeting": meeting.id,
                "meeting_kind": label,
                "title": meeting.title or label,
                "unit": meeting.unit,
                "unit_name": self.graph.unit(meeting.unit).name,
                "date": zh_date(meeting.date),
                "clause": _MEETING_CLAUSE.get(meeting.kind, "三.3"),
            },
            parties={"attendees": self._attendees(meeting)},
        )


def _calendar(org: Organisation, year: int) -> WorkCalendar:
    """The work calendar of *year* and the years beside it that have holiday data."""
    from dualduty.calendars import MissingHolidays, calendar_for

    years = []
    for y in (year - 1, year, year + 1):
        try:
            calendar_for(org, [y])
        except MissingHolidays:
            continue
        years.append(y)
    return calendar_for(org, years or [year])


def _enqueue(store: Store, messages: Sequence[OutboxMessage]) -> int:
    """Queue *messages* without a record; those whose key the outbox holds are left out."""
    return store.enqueue(*messages) if messages else 0


def remind(
    store: Store,
    org: Organisation,
    schedule: Schedule,
    *,
    now: dt.datetime,
    calendar: WorkCalendar | None = None,
    settings: NotifySettings | None = None,
) -> list[OutboxMessage]:
    """The outbox messages of every reminder due at *now* (see the module's text)."""
    return Reminders(store, org, schedule, calendar=calendar, settings=settings).messages(now)


def enqueue_reminders(
    store: Store,
    org: Organisation,
    schedule: Schedule,
    *,
    now: dt.datetime,
    calendar: WorkCalendar | None = None,
    settings: NotifySettings | None = None,
) -> int:
    """Queue every reminder due at *now* in the outbox; return how many were new."""
    return _enqueue(store, remind(store, org, schedule, now=now, calendar=calendar,
                                  settings=settings))  # fmt: skip
