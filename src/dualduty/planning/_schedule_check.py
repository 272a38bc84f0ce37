"""The schedule validator behind :func:`dualduty.planning.check_schedule` (private).

One pass over the visits, meetings and deadlines, then one per quarter over what the
rules ask for. Days are judged once each (a schedule has at most 366 of them), so the
cost is linear in the size of the schedule.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from operator import attrgetter

from dualduty.calendars import WorkCalendar
from dualduty.model import (
    DeadlineKind,
    MeetingKind,
    Organisation,
    Rules,
    Schedule,
    Violation,
    Visit,
)
from dualduty.model.schedule import quarter_of

from ._schedule_facts import OrgFacts, QuarterDays, term_only

__all__ = ["check"]

_CLAUSE = {
    MeetingKind.TOPIC_STUDY: "二(三).1",
    MeetingKind.COORDINATION: "三.3",
    MeetingKind.SUMMARY: "二(一).3",
}
_VISIT = "三.2"
#: Deadline kinds that are a section's quarter report.
_REPORTS = frozenset({DeadlineKind.QUARTER_REPORT})
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class _Days:
    """Judges days once each: working, statutory holiday, blackout, term."""

    def __init__(self, calendar: WorkCalendar, only_terms: bool) -> None:
        self.calendar = calendar
        self.only_terms = only_terms
        self._work: dict[dt.date, tuple[str, str] | None] = {}
        self._inspect: dict[dt.date, tuple[str, str] | None] = {}

    def work_fault(self, day: dt.date) -> tuple[str, str] | None:
        """``(kind, why)`` when *day* is not a working day."""
        if day in self._work:
            return self._work[day]
        fault: tuple[str, str] | None = None
        if not self.calendar.is_working_day(day):
            hy = self.calendar.holiday_year(day.year)
            if day in hy.days_off:
                name = dict(hy.names).get(day)
                named = f" ({name})" if name else ""
                fault = ("holiday", f"{day.isoformat()} is a statutory holiday{named}")
            else:
                fault = (
                    "weekend",
                    f"{day.isoformat()} is a {_WEEKDAYS[day.weekday()]}, not a make-up "
                    "working day (调休)",
                )
        self._work[day] = fault
        return fault

    def inspect_fault(self, day: dt.date) -> tuple[str, str] | None:
        """``(kind, why)`` when *day* cannot take a dedicated inspection."""
        if day in self._inspect:
            return self._inspect[day]
        fault = self.work_fault(day)
        if fault is None:
            blackout = self.calendar.blackout_of(day)
            if blackout is not None:
                fault = (
                    "blackout",
                    f"{day.isoformat()} is in the blackout {blackout.name} "
                    f"({blackout.start.isoformat()} to {blackout.end.isoformat()})",
                )
            elif self.only_terms:
                term = self.calendar.term_of(day)
                if term is None or term.vacation:
                    where = f"in {term.name}" if term is not None else "in no term"
                    fault = (
                        "out_of_term",
                        f"{day.isoformat()} is {where}, and inspections are term-time only",
                    )
        self._inspect[day] = fault
        return fault


def check(
    schedule: Schedule, org: Organisation, calendar: WorkCalendar, rules: Rules
) -> list[Violation]:
    """See :func:`dualduty.planning.check_schedule`."""
    checker = _Checker(schedule, org, calendar, rules)
    checker.visits()
    checker.meetings()
    checker.deadlines()
    return checker.out


class _Checker:
    """The state of one check: the facts, the days judged so far, what was found."""

    def __init__(
        self, schedule: Schedule, org: Organisation, calendar: WorkCalendar, rules: Rules
    ) -> None:
        self.schedule = schedule
        self.rules = rules
        self.facts = OrgFacts(org)
        only_terms = term_only(calendar, rules)
        self.days = _Days(calendar, only_terms)
        self.year = schedule.year
        quarters = (schedule.quarter,) if schedule.quarter else (1, 2, 3, 4)
        self.qds = {q: QuarterDays(calendar, self.year, q, only_terms) for q in quarters}
        self.scope = f"{self.year} Q{schedule.quarter}" if schedule.quarter else str(self.year)
        self.out: list[Violation] = []
        self.seen: set[str] = set()

    def add(self, kind: str, subject: str, clause: str, message: str) -> None:
        self.out.append(Violation(kind, subject, clause, message))

    def in_scope(self, day: dt.date) -> bool:
        return day.year == self.year and quarter_of(day) in self.qds

    def unique(self, item_id: str, clause: str) -> None:
        if item_id in self.seen:
            self.add("duplicate_id", item_id, clause, f"{item_id} is used by more than one item")
        self.seen.add(item_id)

    def visits(self) -> None:
        facts, rules, days, qds = self.facts, self.rules, self.days, self.qds
        add, unique, in_scope, scope = self.add, self.unique, self.in_scope, self.scope
        visits = self.schedule.visits
        # (holder, school) -> the spans its packages hold it, or None when one always does
        spans: dict[tuple[str, str], list[tuple[dt.date | None, dt.date | None]] | None] = {}
        for package in facts.org.packages:
            always = package.start is None and package.end is None
            for school in package.schools:
                key = (package.holder, school)
                known = spans.get(key, [])
                if always or known is None:
                    spans[key] = None
                else:
                    known.append((package.start, package.end))
                    spans[key] = known
        # One pass in (holder, school, date) order, keeping counts rather than lists: a
        # large schedule's check allocates little that the garbage collector must walk.
        ordered = sorted(visits, key=attrgetter("holder", "school", "date", "id"))
        load: Counter[tuple[str, int]] = Counter()
        made: Counter[tuple[int, str, str]] = Counter()
        totals: dict[tuple[int, str], list[int]] = {}
        present = (
            {(v.holder, v.school, v.date.toordinal()) for v in ordered}
            if any(v.joint is not None for v in ordered)
            else set()
        )
        cap = rules.visits_per_inspector_per_day
        gap = rules.min_days_between_visits
        last: Visit | None = None
        for v in ordered:
            unique(v.id, _VISIT)
            if not in_scope(v.date):
                add(
                    "wrong_quarter",
                    v.id,
                    _VISIT,
                    f"{v.id} on {v.date.isoformat()} is outside {scope}",
                )
                continue
            q = quarter_of(v.date)
            day = v.date.toordinal()
            if v.quarter != q:
                add(
                    "wrong_quarter",
                    v.id,
                    _VISIT,
                    f"{v.id} on {v.date.isoformat()} falls in Q{q} but counts for Q{v.quarter}",
                )
            fault = days.inspect_fault(v.date)
            if fault is not None:
                add(fault[0], v.id, _VISIT, f"visit {v.id} to {v.school}: {fault[1]}")
            known_holder = facts.holder_kind(v.holder) is not None
            if v.school not in facts.schools:
                add("unknown_school", v.id, "三.1", f"{v.id}: {v.school} is not a school here")
            if not known_holder:
                add(
                    "unknown_holder",
                    v.id,
                    "三.1",
                    f"{v.id}: {v.holder} is neither a post nor a unit",
                )
            if v.school in facts.schools and known_holder:
                held = spans.get((v.holder, v.school), ())
                if held is not None and not any(
                    (s is None or s <= v.date) and (e is None or v.date <= e) for s, e in held
                ):
                    add(
                        "not_packaged",
                        v.id,
                        "三.1",
                        f"{v.id}: no package of {v.holder} holds {v.school} "
                        f"on {v.date.isoformat()}",
                    )
                made[q, v.holder, v.school] += 1
                if (
                    last is not None
                    and last.holder == v.holder
                    and last.school == v.school
                    and quarter_of(last.date) == q
                ):
                    apart = day - last.date.toordinal()
                    if apart < gap:
                        add(
                            "too_close",
                            v.id,
                            _VISIT,
                            f"{v.id} on {v.date.isoformat()} is {apart} days after {last.id}; "
                            f"the rules ask for at least {gap}",
                        )
                last = v
                t = totals.get((q, v.holder))
                if t is None:
                    t = totals[q, v.holder] = [0, 0, 0]
                t[0] += 1
                t[1] += not v.announced
                t[2] += v.joint is not None
            if not v.inspectors:
                add("no_inspector", v.id, _VISIT, f"{v.id} names nobody to make the visit")
            for post in v.inspectors:
                if known_holder and not facts.may_inspect(v.holder, post):
                    add(
                        "inspector_not_staff",
                        v.id,
                        _VISIT,
                        f"{v.id}: {post} is not of the staff of {v.holder}",
                    )
                load[post, day] += 1
            if v.joint is not None:
                if not rules.joint_visits:
                    add(
                        "joint_not_allowed",
                        v.id,
                        _VISIT,
                        f"{v.id} is joint with {v.joint}, but the rules do not allow joint visits",
                    )
                elif (v.joint, v.school, day) not in present:
                    add(
                        "joint_unmatched",
                        v.id,
                        _VISIT,
                        f"{v.id} is joint with {v.joint}, which does not visit {v.school} "
                        f"on {v.date.isoformat()}",
                    )
        over = {key: n for key, n in load.items() if n > cap}
        if over:
            booked: dict[tuple[str, int], list[str]] = defaultdict(list)
            for v in sorted(visits, key=attrgetter("id")):
                for post in v.inspectors:
                    if (post, v.date.toordinal()) in over:
                        booked[post, v.date.toordinal()].append(v.id)
            for (post, day), n in sorted(over.items()):
                add(
                    "inspector_overbooked",
                    post,
                    _VISIT,
                    f"{post} has {n} visits on {dt.date.fromordinal(day).isoformat()}, at most "
                    f"{cap} a day: " + ", ".join(booked[post, day]),
                )
        share = rules.unannounced_share
        per = rules.inspections_per_school_per_quarter
        for q, qd in qds.items():
            for holder, pairs in facts.pairs(qd, per, strict=False).items():
                for pair in pairs:
                    got = made[q, holder, pair.school]
                    if got < pair.due:
                        add(
                            "missing_visit",
                            pair.package,
                            _VISIT,
                            f"package {pair.package}: {holder} makes {got} visit"
                            f"{'' if got == 1 else 's'} to {pair.school} in {qd.label()}, the "
                            f"rules ask for {pair.due}",
                        )
            for (tq, holder), (n, unannounced, joint) in sorted(totals.items()):
                if tq == q and abs(unannounced - share * n) > 1 + joint:
                    add(
                        "unannounced_share",
                        holder,
                        _VISIT,
                        f"{holder} makes {unannounced} of {n} visits unannounced in {qd.label()}; "
                        f"the rules ask for a share of {share:g} (about {share * n:.0f})",
                    )

    def meetings(self) -> None:
        facts, rules, days, qds = self.facts, self.rules, self.days, self.qds
        add, unique, in_scope, scope = self.add, self.unique, self.in_scope, self.scope
        schedule = self.schedule
        topics: Counter[tuple[int, str]] = Counter()
        coordination: Counter[int] = Counter()
        summaries = 0
        for m in sorted(schedule.meetings, key=lambda m: (m.date, m.id)):
            clause = _CLAUSE[m.kind]
            unique(m.id, clause)
            if m.unit not in facts.units:
                add("unknown_unit", m.id, clause, f"meeting {m.id}: {m.unit} is not a unit here")
            if m.date.year != schedule.year or (
                m.kind is not MeetingKind.SUMMARY and not in_scope(m.date)
            ):
                add(
                    "wrong_quarter",
                    m.id,
                    clause,
                    f"{m.id} on {m.date.isoformat()} is outside {scope}",
                )
                continue
            q = quarter_of(m.date)
            if m.quarter is not None and m.quarter != q:
                add(
                    "wrong_quarter",
                    m.id,
                    clause,
                    f"{m.id} on {m.date.isoformat()} falls in Q{q} but counts for Q{m.quarter}",
                )
            fault = days.work_fault(m.date)
            if fault is not None:
                add(fault[0], m.id, clause, f"meeting {m.id}: {fault[1]}")
            if m.kind is MeetingKind.TOPIC_STUDY:
                topics[q, m.unit] += 1
            elif m.kind is MeetingKind.COORDINATION:
                coordination[q] += 1
            else:
                summaries += 1
        k = rules.topic_studies_per_quarter
        c = rules.coordination_meetings_per_quarter
        host = facts.coordination_host() or "coordination"
        for q, qd in qds.items():
            for unit in facts.sections:
                got = topics[q, unit.id]
                if got < k:
                    add(
                        "missing_topic_study",
                        unit.id,
                        "二(三).1",
                        f"{unit.id} ({unit.name}) studies school safety {got} time"
                        f"{'' if got == 1 else 's'} in {qd.label()}, the rules ask for {k}",
                    )
            if coordination[q] < c:
                add(
                    "missing_coordination",
                    host,
                    "三.3",
                    f"{coordination[q]} coordination meeting{'' if coordination[q] == 1 else 's'} "
                    f"in {qd.label()}, the rules ask for {c}",
                )
        m_needed = rules.summary_meetings_per_year
        if 4 in qds and summaries < m_needed:
            add(
                "missing_summary",
                facts.summary_host() or "summary",
                "二(一).3",
                f"{summaries} summary and commendation meeting{'' if summaries == 1 else 's'} in "
                f"{schedule.year}, the rules ask for {m_needed}",
            )

    def deadlines(self) -> None:
        facts, rules, days, qds = self.facts, self.rules, self.days, self.qds
        add, unique, scope = self.add, self.unique, self.scope
        schedule = self.schedule
        from .schedule import report_due

        reports: dict[tuple[int, str], list[str]] = defaultdict(list)
        to = facts.report_recipient()
        for d in sorted(schedule.deadlines, key=lambda d: (d.due, d.id)):
            unique(d.id, _VISIT)
            if d.unit not in facts.units:
                add("unknown_unit", d.id, _VISIT, f"deadline {d.id}: {d.unit} is not a unit here")
            q = d.quarter if d.quarter is not None else quarter_of(d.due)
            # a deadline counts for its quarter; due after it, it is late (below), not lost
            early = d.due < qds[q].start if q in qds else False
            if q not in qds or early or (d.due.year != schedule.year and d.quarter is None):
                add(
                    "wrong_quarter",
                    d.id,
                    _VISIT,
                    f"{d.id} due {d.due.isoformat()} (Q{q}) is outside {scope} or before its "
                    "quarter",
                )
                continue
            fault = days.work_fault(d.due) if d.due.year == schedule.year else None
            if fault is not None:
                add(fault[0], d.id, _VISIT, f"deadline {d.id}: {fault[1]}")
            if d.kind not in _REPORTS:
                continue
            reports[q, d.unit].append(d.id)
            expected = report_due(qds[q], rules)
            if d.due > expected:
                add(
                    "report_late",
                    d.id,
                    _VISIT,
                    f"{d.id}: due {d.due.isoformat()}, after {expected.isoformat()}, the day the "
                    "rules set",
                )
            if to is not None and d.to != to:
                add(
                    "report_recipient",
                    d.id,
                    _VISIT,
                    f"{d.id}: the quarter report goes to {d.to or 'nobody'}, not to {to}",
                )
        for q, qd in qds.items():
            for unit in facts.sections:
                if not reports.get((q, unit.id)):
                    add(
                        "missing_report",
                        unit.id,
                        _VISIT,
                        f"{unit.id} ({unit.name}) has no quarter report deadline in {qd.label()}",
                    )
