"""The compliance view: due against done per holder, school, section and quarter (三.2-三.4)."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dualduty
from dualduty.calendars import calendar_for
from dualduty.errors import DualdutyError
from dualduty.model import MeetingKind, Schedule
from dualduty.planning import plan_schedule
from dualduty.records import (
    Hazards,
    HazardStatus,
    InvalidTransition,
    PermissionDenied,
    Record,
    fold_hazards,
)
from dualduty.records.compliance import (
    Compliance,
    ComplianceError,
    QuotaStatus,
    ReportStatus,
    VisitStatus,
    _data_of,
    compliance,
    quarter_of,
)
from dualduty.records.kinds import Finding, InspectionRecorded, MeetingHeld
from dualduty.records.submissions import Reports
from dualduty.storage import open_store
from dualduty.storage.base import Query, StoreError
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
ORG = dualduty.reference_organisation(schools=3)
SCHEDULE = plan_schedule(ORG, calendar_for(ORG, [2026]), 2026)

# In the reference organisation s0002 is packaged to the general office (head p010, staff
# p011/p012) and to deputy-1 (p002); s0003 to moral-education and deputy-2; s0001 to
# regulation-safety and the director. The leading group's office sits in 法规安全科
# (head p007, staff p008/p009).
SECTION = "general-office"
SCHOOL = "s0002"
HEAD, STAFF, STAFF_2 = "p010", "p011", "p012"
OFFICE_HEAD, OFFICE_STAFF, OFFICE_STAFF_2 = "p007", "p008", "p009"


def at(day: dt.date, hour: int = 16) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


def d(month: int, day: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, day)


def visits_of(holder: str, quarter: int, school: str = SCHOOL) -> list[str]:
    return [
        v.id
        for v in SCHEDULE.visits
        if v.holder == holder and v.quarter == quarter and v.school == school
    ]


def planned(visit_id: str) -> dt.date:
    (visit,) = (v for v in SCHEDULE.visits if v.id == visit_id)
    return visit.date


_n = iter(range(1, 10_000))


def inspect(
    store: Store,
    school_id: str,
    holder: str,
    day: dt.date,
    *,
    visit: str | None = None,
    recorded: dt.datetime | None = None,
    actor: str = STAFF,
    inspection: str | None = None,
) -> tuple[str, int]:
    """Append an inspection record; its id and seq."""
    inspection = inspection or f"in-{next(_n):05d}"
    data = InspectionRecorded(
        inspection,
        school_id,
        holder,
        day,
        (actor,),
        visit=visit,
        findings=(Finding("值班记录完整"),),
    )
    subjects = [f"inspection:{inspection}", f"school:{school_id}", f"unit:{holder}"]
    (entry,) = store.append(Record.of(data, actor=actor, at=recorded or at(day), subjects=subjects))
    return inspection, entry.seq


def meeting(
    store: Store,
    kind: MeetingKind | str,
    unit_id: str,
    day: dt.date,
    topic: str = "专题研究",
    *,
    meeting_id: str | None = None,
) -> tuple[str, int]:
    meeting_id = meeting_id or f"mt-{next(_n):05d}"
    data = MeetingHeld(meeting_id, kind, unit_id, day, topic)
    subjects = [f"meeting:{meeting_id}", f"unit:{unit_id}"]
    (entry,) = store.append(Record.of(data, actor=HEAD, at=at(day, 10), subjects=subjects))
    return meeting_id, entry.seq


class TestVisits:
    def test_done_late_missed_pending(self, store: Store) -> None:
        q1a, q1b = visits_of(SECTION, 1)
        q2a, q2b = visits_of(SECTION, 2)
        q3a, q3b = visits_of(SECTION, 3)
        i1, s1 = inspect(store, SCHOOL, SECTION, planned(q1a), visit=q1a)
        # moved within its quarter: done, but it slipped
        i2, s2 = inspect(store, SCHOOL, SECTION, d(3, 30), visit=q1b)
        # a second-quarter visit carried out in July: late
        i3, s3 = inspect(store, SCHOOL, SECTION, d(7, 2), visit=q2a)
        view = compliance(store, ORG, SCHEDULE, now=at(d(8, 15)))

        q1 = view.section(SECTION, 1).visits
        assert (q1.due, q1.done, q1.inspections, q1.seqs) == (
            (q1a, q1b),
            (q1a, q1b),
            (i1, i2),
            (s1, s2),
        )
        q2 = view.section(SECTION, 2).visits
        assert (q2.done, q2.late, q2.missed) == ((), (q2a,), (q2b,))
        q3 = view.section(SECTION, 3).visits
        assert (q3.due, q3.pending) == ((q3a, q3b), (q3a, q3b))
        assert view.section(SECTION, 3).visits.counts() == {
            "due": 2,
            "done": 0,
            "late": 0,
            "missed": 0,
            "pending": 2,
            "ad_hoc": 0,
        }
        outcomes = {v.visit: v for v in view.visits}
        assert outcomes[q1b].days_after_plan == (d(3, 30) - planned(q1b)).days > 0
        assert outcomes[q1a].days_after_plan == 0
        assert (outcomes[q2a].status, outcomes[q2a].done_on, outcomes[q2a].seq) == (
            VisitStatus.LATE,
            d(7, 2),
            s3,
        )
        assert outcomes[q2b].inspection is None
        year = view.section(SECTION).visits
        assert year.counts() == {
            "due": 8,
            "done": 2,
            "late": 1,
            "missed": 1,
            "pending": 4,
            "ad_hoc": 0,
        }
        assert year.inspections == (i1, i2, i3)
        assert year.carried_out == 3

    def test_per_holder_and_school(self, store: Store) -> None:
        (q1, _) = visits_of("deputy-1", 1)
        inspect(store, SCHOOL, "deputy-1", planned(q1), visit=q1, actor="p002")
        view = compliance(store, ORG, SCHEDULE, now=at(d(4, 1)))
        row = view.holder("deputy-1", 1)
        assert (row.kind, row.visits.done, len(row.visits.missed)) == ("post", (q1,), 1)
        (school_row,) = view.school_rows(holder="deputy-1", quarter=1)
        assert school_row.school == SCHOOL
        assert school_row.visits == row.visits
        # the section holding the same school is counted apart
        assert view.section(SECTION, 1).visits.done == ()
        assert view.holder(SECTION, 1).kind == "unit"
        assert {r.holder for r in view.holders} == {p.holder for p in ORG.packages}

    def test_a_visit_counts_once(self, store: Store) -> None:
        (q1, _) = visits_of(SECTION, 1)
        first, _ = inspect(store, SCHOOL, SECTION, planned(q1), visit=q1)
        again, _ = inspect(store, SCHOOL, SECTION, planned(q1) + dt.timedelta(days=3), visit=q1)
        view = compliance(store, ORG, SCHEDULE, now=at(d(4, 1)))
        (outcome,) = (v for v in view.visits if v.visit == q1)
        assert (outcome.inspection, outcome.repeats) == (first, (again,))
        assert view.section(SECTION, 1).visits.inspections == (first,)

    def test_ad_hoc_and_misnamed_inspections_are_extra(self, store: Store) -> None:
        (q1, _) = visits_of(SECTION, 1)
        adhoc, s1 = inspect(store, SCHOOL, SECTION, d(2, 2))
        # names a visit of another school: carries out nothing, counted as ad hoc
        wrong, s2 = inspect(store, "s0003", SECTION, d(2, 3), visit=q1)
        unknown, s3 = inspect(store, SCHOOL, SECTION, d(5, 3), visit="v.2025q2.general-office.x")
        view = compliance(store, ORG, SCHEDULE, now=at(d(7, 1)))
        assert [(i.inspection, i.quarter, i.visit) for i in view.ad_hoc] == [
            (adhoc, 1, None),
            (wrong, 1, q1),
            (unknown, 2, "v.2025q2.general-office.x"),
        ]
        q1_row = view.section(SECTION, 1).visits
        assert (q1_row.ad_hoc, q1_row.seqs, q1_row.done) == ((adhoc, wrong), (s1, s2), ())
        assert len(q1_row.missed) == 2
        (other,) = view.school_rows(holder=SECTION, school="s0003", quarter=1)
        assert (other.visits.due, other.visits.ad_hoc) == ((), (wrong,))
        assert view.section(SECTION).visits.ad_hoc == (adhoc, wrong, unknown)
        assert s3 in view.section(SECTION).visits.seqs

    def test_records_from_now_on_are_left_out(self, store: Store) -> None:
        (q1, _) = visits_of(SECTION, 1)
        # carried out on its day, but entered on 2 April
        inspect(store, SCHOOL, SECTION, planned(q1), visit=q1, recorded=at(d(4, 2)))
        before = compliance(store, ORG, SCHEDULE, now=at(d(4, 1)))
        after = compliance(store, ORG, SCHEDULE, now=at(d(4, 3)))
        assert q1 in before.section(SECTION, 1).visits.missed
        assert q1 in after.section(SECTION, 1).visits.done  # its own day decides

    def test_quarter_schedule(self, store: Store) -> None:
        q3 = Schedule(
            2026,
            3,
            visits=[v for v in SCHEDULE.visits if v.quarter == 3],
            meetings=[m for m in SCHEDULE.meetings if m.quarter == 3],
            deadlines=[x for x in SCHEDULE.deadlines if x.quarter == 3],
        )
        view = compliance(store, ORG, q3, now=at(d(10, 9)))
        assert view.quarters == (3,)
        assert {v.quarter for v in view.visits} == {3}
        assert {r.quarter for r in view.sections} == {3, None}
        assert view.section(SECTION).visits == view.section(SECTION, 3).visits
        with pytest.raises(ComplianceError, match="quarter 1"):
            view.section(SECTION, 1)


class TestMeetings:
    def test_topic_studies_per_quarter(self, store: Store) -> None:
        first, s1 = meeting(store, "topic_study", SECTION, d(1, 20))
        second, s2 = meeting(store, "topic_study", SECTION, d(3, 3))
        third, _ = meeting(store, "topic_study", SECTION, d(5, 3))
        meeting(store, "topic_study", "moral-education", d(5, 4))  # another section's
        meeting(store, "coordination", SECTION, d(5, 5))  # another kind
        view = compliance(store, ORG, SCHEDULE, now=at(d(8, 1)))
        q1 = view.section(SECTION, 1).topic_studies
        assert (q1.required, q1.held, q1.seqs, q1.status) == (
            2,
            (first, second),
            (s1, s2),
            QuotaStatus.MET,
        )
        assert q1.scheduled == tuple(
            m.id
            for m in SCHEDULE.meetings
            if m.kind is MeetingKind.TOPIC_STUDY and m.unit == SECTION and m.quarter == 1
        )
        q2 = view.section(SECTION, 2).topic_studies
        assert (q2.held, q2.status) == ((third,), QuotaStatus.SHORT)
        assert view.section(SECTION, 3).topic_studies.status is QuotaStatus.PENDING
        year = view.section(SECTION).topic_studies
        assert (year.required, year.held, year.status) == (
            8,
            (first, second, third),
            QuotaStatus.SHORT,
        )

    def test_the_quota_is_the_rules(self, store: Store) -> None:
        org = attrs.evolve(ORG, rules=attrs.evolve(ORG.rules, topic_studies_per_quarter=3))
        for day in (d(1, 5), d(2, 5)):
            meeting(store, "topic_study", SECTION, day)
        view = compliance(store, org, SCHEDULE, now=at(d(4, 1)))
        q1 = view.section(SECTION, 1).topic_studies
        assert (q1.required, len(q1.held), q1.status) == (3, 2, QuotaStatus.SHORT)

    def test_coordination_and_summary(self, store: Store) -> None:
        held, seq = meeting(store, "coordination", "safety-office", d(3, 11), "一季度调度会")
        meeting(store, "coordination", SECTION, d(6, 11))  # a section's own: not the plan's
        summary, _ = meeting(store, "summary", "leading-group", d(12, 24), "年度总结表彰会")
        view = compliance(store, ORG, SCHEDULE, now=at(d(12, 31)))
        q1, q2, _, q4 = view.coordination
        assert (q1.held, q1.seqs, q1.status, q1.unit) == ((held,), (seq,), QuotaStatus.MET, None)
        assert (q2.held, q2.status) == ((), QuotaStatus.SHORT)
        assert q4.status is QuotaStatus.PENDING  # 31 December: the quarter has not ended
        assert q1.scheduled == ("m.2026q1.coordination.1",)
        assert (view.summary.held, view.summary.status) == ((summary,), QuotaStatus.MET)
        later = compliance(store, ORG, SCHEDULE, now=at(d(1, 5, 2027)))
        assert later.coordination[3].status is QuotaStatus.SHORT


class TestReports:
    def submit(
        self, reports: Reports, quarter: int, when: dt.datetime, *, revision: bool = False
    ) -> int:
        return reports.submit(
            SECTION,
            2026,
            quarter,
            actor=HEAD,
            title=f"办公室2026年第{quarter}季度学校安全工作报告",
            text="# 报告\n\n正文",
            at=when,
            revision=revision,
        ).seq

    def test_on_time_late_missing_pending(self, store: Store) -> None:
        reports = Reports(store, ORG)
        s1 = self.submit(reports, 1, dt.datetime(2026, 3, 31, 23, 30, tzinfo=ZONE))
        # 16:30 UTC on 31 March is half past midnight on 1 April in Shanghai: late
        s2 = self.submit(reports, 2, dt.datetime(2026, 6, 30, 16, 30, tzinfo=dt.UTC))
        revised = self.submit(reports, 1, at(d(4, 20)), revision=True)
        view = compliance(store, ORG, SCHEDULE, now=at(d(10, 9)))
        r1, r2, r3, r4 = view.section(SECTION).reports
        assert (r1.status, r1.seq, r1.submitted_on, r1.revision_seqs) == (
            ReportStatus.ON_TIME,
            s1,
            d(3, 31),
            (revised,),
        )
        assert (r1.deadline, r1.due, r1.to) == (
            "d.2026q1.report.general-office",
            d(3, 31),
            "safety-office",
        )
        assert (r2.status, r2.seq, r2.submitted_on) == (ReportStatus.LATE, s2, d(7, 1))
        assert (r3.status, r3.report) == (ReportStatus.MISSING, None)
        assert r4.status is ReportStatus.PENDING
        assert view.section(SECTION, 2).reports == (r2,)
        others = [r for r in view.reports if r.unit != SECTION and r.quarter == 1]
        assert others
        assert {r.status for r in others} == {ReportStatus.MISSING}


class TestHazards:
    def loop(self, hazards: Hazards, school_id: str, found: dt.datetime, close: bool) -> str:
        finder = STAFF if school_id == SCHOOL else "p014"  # p014: 政教科, s0003's section
        hid = hazards.find(school_id, "general", "消防通道堆放杂物", actor=finder, at=found).id
        hazards.register(hid, actor=OFFICE_STAFF, at=found + dt.timedelta(days=1))
        head = HEAD if school_id == SCHOOL else "p013"
        hazards.plan(
            hid,
            actor=OFFICE_STAFF,
            measures=["清理杂物"],
            responsible=head,
            time_limit=(found + dt.timedelta(days=25)).date(),
            at=found + dt.timedelta(days=2),
        )
        if close:
            hazards.claim(hid, actor=OFFICE_STAFF, at=found + dt.timedelta(days=40))
            hazards.reinspect(
                hid, actor=OFFICE_STAFF_2, accepted=True, at=found + dt.timedelta(days=41)
            )
            hazards.close(hid, actor=OFFICE_HEAD, at=found + dt.timedelta(days=42))
        return hid

    def test_found_closed_open_overdue_per_quarter(self, store: Store) -> None:
        hazards = Hazards(store, ORG)
        # found 20 March, closed 1 May (late: a general hazard is closed within 30 days),
        # but not overdue yet at Q1's end
        early = self.loop(hazards, SCHOOL, at(d(3, 20), 9), close=True)
        # found 25 March: open at Q1's end; still open, and overdue, at Q2's end (now)
        late = self.loop(hazards, SCHOOL, at(d(3, 25), 9), close=False)
        # another school's
        other = self.loop(hazards, "s0003", at(d(2, 1), 9), close=False)
        view = compliance(store, ORG, SCHEDULE, now=at(d(5, 10)))

        q1 = view.section(SECTION, 1).hazards
        assert (q1.found, q1.closed, q1.open, q1.overdue) == ((early, late), (), (early, late), ())
        q2 = view.section(SECTION, 2).hazards
        assert (q2.found, q2.closed, q2.open, q2.overdue) == ((), (early,), (late,), (late,))
        assert view.section(SECTION, 3).hazards.counts() == dict.fromkeys(
            ("found", "major", "closed", "open", "overdue"), 0
        )
        year = view.section(SECTION).hazards
        assert (year.found, year.closed, year.open, year.overdue) == (
            (early, late),
            (early,),
            (late,),
            (late,),
        )
        # the school's leading-group holder answers for them too; the other section not
        assert view.holder("deputy-1").hazards == year
        assert view.section("moral-education", 1).hazards.found == (other,)
        assert other not in view.section(SECTION).hazards.found
        (row,) = view.school_rows(holder=SECTION, school=SCHOOL, quarter=2)
        assert row.hazards == q2
        outcome = view.hazard(early)
        assert (outcome.found_on, outcome.closed_on, outcome.status) == (
            d(3, 20),
            d(5, 1),
            HazardStatus.CLOSED,
        )
        assert (outcome.open_at, outcome.overdue_at, outcome.holders) == (
            (1,),
            (),
            ("deputy-1", SECTION),
        )
        assert view.hazard(late).missed == ("time-limit", "close")
        # the evidence: the finding and closing records
        found_seq = next(
            e.seq for e in store.read(kind="hazard-found") if e.record.data.hazard == early
        )
        closed_seq = next(e.seq for e in store.read(kind="hazard-closed"))
        assert closed_seq in q2.seqs
        assert found_seq in q1.seqs
        assert outcome.seqs == tuple(e.seq for e in store.read(subject=f"hazard:{early}"))

    def test_agrees_with_the_hazard_fold(self, store: Store) -> None:
        hazards = Hazards(store, ORG)
        for i, month in enumerate((1, 2, 4, 6, 8)):
            self.loop(hazards, SCHOOL, at(d(month, 10), 9), close=i % 2 == 0)
        hazards.escalate_overdue(at(d(9, 1)), actor=OFFICE_HEAD)
        now = at(d(9, 15))
        view = compliance(store, ORG, SCHEDULE, now=now)
        rules = hazards.rules
        for quarter in (1, 2, 3):
            end = min(dt.datetime(2026 + quarter // 4, (3 * quarter) % 12 + 1, 1, tzinfo=ZONE), now)
            folded = fold_hazards(store, rules, until=end)
            assert {h.id for h in folded if h.open} == {
                h.hazard for h in view.hazards if quarter in h.open_at
            }
            assert {h.id for h in folded if h.overdue(end)} == {
                h.hazard for h in view.hazards if quarter in h.overdue_at
            }
        final = {h.id: h for h in fold_hazards(store, rules, until=now)}
        for h in view.hazards:
            assert (h.status, h.missed) == (final[h.hazard].status, final[h.hazard].missed(now))

    def test_a_backdated_record_counts_by_its_time(self, store: Store) -> None:
        hazards = Hazards(store, ORG)
        hid = hazards.find(SCHOOL, "general", "电线裸露", actor=STAFF, at=at(d(3, 1), 9)).id
        hazards.register(hid, actor=OFFICE_STAFF, at=at(d(3, 2), 9))
        hazards.plan(
            hid,
            actor=HEAD,
            measures=["更换线路"],
            responsible=HEAD,
            time_limit=d(3, 20),
            at=at(d(4, 10), 9),
        )
        hazards.claim(hid, actor=STAFF, at=at(d(4, 12), 9))
        hazards.reinspect(hid, actor=STAFF_2, accepted=True, at=at(d(4, 13), 9))
        # closing entered later, but dated in March
        hazards.close(hid, actor=HEAD, at=at(d(3, 30), 9))
        view = compliance(store, ORG, SCHEDULE, now=at(d(5, 1)))
        outcome = view.hazard(hid)
        # At Q1's end only the finding, the registration and the (backdated) closing are
        # behind: the closing does not fit a registered hazard, so it was still open.
        assert (outcome.open_at, outcome.status, outcome.closed_on) == (
            (1,),
            HazardStatus.CLOSED,
            d(3, 30),
        )
        assert view.section(SECTION, 1).hazards.closed == (hid,)

    def test_a_package_not_in_force_does_not_answer(self, store: Store) -> None:
        packages = tuple(
            attrs.evolve(p, start=d(7, 1)) if p.holder == "deputy-1" else p for p in ORG.packages
        )
        org = attrs.evolve(ORG, packages=packages)
        hid = Hazards(store, org).find(SCHOOL, "general", "x", actor=STAFF, at=at(d(2, 1))).id
        view = compliance(store, org, SCHEDULE, now=at(d(3, 1)))
        assert view.hazard(hid).holders == (SECTION,)
        assert view.holder("deputy-1", 1).hazards.found == ()

    def test_hazards_of_other_years(self, store: Store) -> None:
        hazards = Hazards(store, ORG)
        closed_before = self.loop(hazards, SCHOOL, at(d(6, 1, 2025)), close=True)
        carried = self.loop(hazards, SCHOOL, at(d(12, 1, 2025)), close=False)
        view = compliance(store, ORG, SCHEDULE, now=at(d(2, 1)))
        assert [h.hazard for h in view.hazards] == [carried]
        q1 = view.section(SECTION, 1).hazards
        assert (q1.found, q1.open, q1.overdue) == ((), (carried,), (carried,))
        assert closed_before not in view.section(SECTION).hazards.closed


_COMMANDS = ("register", "plan", "claim", "accept", "reject", "close", "escalate", "reassign")
#: The loop's next step after each command (claimed: accepted or sent back).
_NEXT = {
    "find": ("register",),
    "register": ("plan",),
    "plan": ("claim",),
    "claim": ("accept", "reject"),
    "reject": ("claim", "plan"),
    "accept": ("close",),
}


@st.composite
def hazard_histories(draw: st.DrawFn) -> list[tuple[int, str, int]]:
    """Commands on up to three hazards: (hazard, command, day of 2026), days rising per
    hazard, hazards interleaved. Mostly the loop's next step, now and then any command
    (which the service may refuse) or an escalation round."""
    out = []
    for n in range(draw(st.integers(1, 3))):
        day = draw(st.integers(1, 200))
        out.append((n, "find", day))
        last = "find"
        for _ in range(draw(st.integers(0, 9))):
            day += draw(st.integers(0, 40))
            natural = _NEXT.get(last, ())
            if natural and draw(st.integers(0, 3)) > 0:
                command = draw(st.sampled_from(natural))
            else:
                command = draw(st.sampled_from(_COMMANDS))
            out.append((n, command, day))
            if command != "escalate":
                last = command
    return sorted(out, key=lambda c: (c[2], c[0]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hazard_histories(), st.booleans())
def test_the_view_folds_hazards_as_the_hazard_loop_does(
    history: list[tuple[int, str, int]], major: bool
) -> None:
    """At every quarter's end and at now, the view's open, overdue, status and missed
    deadlines are those of :func:`fold_hazards` cut at that time."""
    with open_store("memory:") as store:
        hazards = Hazards(store, ORG)
        ids: dict[int, str] = {}
        for n, command, day in history:
            when = at(dt.date(2026, 1, 1) + dt.timedelta(days=day), 9 + n)
            try:
                if command == "find":
                    severity = "major" if major else "general"
                    ids[n] = hazards.find(SCHOOL, severity, "隐患", actor=STAFF, at=when).id
                elif command == "register":
                    hazards.register(ids[n], actor=OFFICE_STAFF, at=when)
                elif command == "plan":
                    hazards.plan(
                        ids[n],
                        actor=HEAD,
                        measures=["整改"],
                        responsible=HEAD,
                        time_limit=(when + dt.timedelta(days=15)).date(),
                        safeguards=["警戒"],
                        at=when,
                    )
                elif command == "claim":
                    hazards.claim(ids[n], actor=STAFF, at=when)
                elif command in ("accept", "reject"):
                    hazards.reinspect(
                        ids[n], actor=OFFICE_STAFF, accepted=command == "accept", at=when
                    )
                elif command == "close":
                    hazards.close(ids[n], actor=OFFICE_HEAD, at=when)
                elif command == "reassign":
                    hazards.reassign(ids[n], STAFF, actor=OFFICE_HEAD, at=when)
                else:
                    hazards.escalate_overdue(when, actor=OFFICE_HEAD)
            except (InvalidTransition, PermissionDenied):
                pass
        now = at(d(12, 31), 23)
        view = compliance(store, ORG, SCHEDULE, now=now)
        for quarter in (1, 2, 3, 4):
            end = min(dt.datetime(2026 + quarter // 4, (3 * quarter) % 12 + 1, 1, tzinfo=ZONE), now)
            folded = fold_hazards(store, hazards.rules, until=end)
            assert sorted(h.id for h in folded if h.open) == sorted(
                h.hazard for h in view.hazards if quarter in h.open_at
            )
            assert sorted(h.id for h in folded if h.overdue(end)) == sorted(
                h.hazard for h in view.hazards if quarter in h.overdue_at
            )
        final = {h.id: h for h in fold_hazards(store, hazards.rules, until=now)}
        assert sorted(final) == sorted(h.hazard for h in view.hazards)
        for h in view.hazards:
            state = final[h.hazard]
            assert (h.status, h.missed, h.severity) == (
                state.status,
                state.missed(now),
                state.severity,
            )


class TestView:
    def test_sqlite_and_memory_agree(self, tmp_path: Path) -> None:
        views: list[Compliance] = []
        for url in ("memory:", f"sqlite:///{tmp_path / 'r.db'}"):
            with open_store(url) as store:
                (q1, _) = visits_of(SECTION, 1)
                inspect(store, SCHOOL, SECTION, planned(q1), visit=q1, inspection="in-1")
                meeting(store, "topic_study", SECTION, d(2, 2), meeting_id="mt-1")
                Hazards(store, ORG).find(SCHOOL, "major", "外墙空鼓", actor=STAFF, at=at(d(2, 3)))
                views.append(compliance(store, ORG, SCHEDULE, now=at(d(4, 2))))
        memory, sqlite = views
        assert memory == sqlite
        assert memory.section(SECTION, 1).hazards.major == ("hz-00003",)

    def test_planned_when_no_schedule_given(self, store: Store) -> None:
        now = at(d(4, 2))
        assert compliance(store, ORG, year=2026, now=now) == compliance(
            store, ORG, SCHEDULE, now=now
        )

    def test_errors(self, store: Store) -> None:
        with pytest.raises(ComplianceError, match="schedule is for 2026, not 2025"):
            compliance(store, ORG, SCHEDULE, year=2025)
        with pytest.raises(ComplianceError, match="time zone"):
            compliance(store, ORG, SCHEDULE, now=dt.datetime(2026, 4, 1))
        with pytest.raises(ComplianceError, match="give the year's schedule"):
            compliance(store, ORG)
        view = compliance(store, ORG, SCHEDULE, now=at(d(4, 2)))
        with pytest.raises(ComplianceError, match="no section 'leading-group'"):
            view.section("leading-group", 1)
        with pytest.raises(ComplianceError, match="no package holder 'nobody'"):
            view.holder("nobody")
        with pytest.raises(ComplianceError, match="no hazard 'hz-1'"):
            view.hazard("hz-1")
        assert issubclass(ComplianceError, DualdutyError)
        store.close()
        with pytest.raises(StoreError, match="is closed"):
            compliance(store, ORG, SCHEDULE, now=at(d(4, 2)))

    def test_every_section_has_a_row_per_quarter_and_the_year(self, store: Store) -> None:
        view = compliance(store, ORG, SCHEDULE, now=at(d(4, 2)))
        sections = [u.id for u in dualduty.OrgGraph(ORG).sections()]
        assert [(r.section, r.quarter) for r in view.sections] == [
            (s, q) for s in sections for q in (1, 2, 3, 4, None)
        ]
        # with nothing recorded: every visit due in Q1 missed, the rest pending
        due_q1 = [v for v in SCHEDULE.visits if v.quarter == 1]
        assert sum(len(r.visits.missed) for r in view.holders if r.quarter == 1) == len(due_q1)
        assert view.now == at(d(4, 2))

    def test_the_collector_is_left_as_it_was(self, store: Store) -> None:
        assert gc.isenabled()
        compliance(store, ORG, SCHEDULE, now=at(d(4, 2)))
        assert gc.isenabled()
        gc.disable()
        try:
            compliance(store, ORG, SCHEDULE, now=at(d(4, 2)))
            assert not gc.isenabled()
        finally:
            gc.enable()

    def test_reads_the_stored_data_as_the_store_does(self, store: Store) -> None:
        """The view parses the data of each entry out of its canonical JSON: for every
        kind it reads it gives what the store decodes (nested ``kind`` keys included)."""
        (q1, _) = visits_of(SECTION, 1)
        inspect(store, SCHOOL, SECTION, planned(q1), visit=q1)
        meeting(store, "topic_study", SECTION, d(2, 2), topic='含"引号"与,"kind":"符号')
        Reports(store, ORG).submit(
            SECTION, 2026, 1, actor=HEAD, title="标题", text='正文,"kind":"x"', at=at(d(3, 31))
        )
        for row in store.backend.select(Query()):
            assert _data_of(row.body) == orjson.loads(row.body)["data"]
        assert _data_of(b'{"kind":"x","data":{"a":1}}') == {"a": 1}  # not canonical: parsed whole
        assert _data_of(b"not json") is None


def test_quarter_of() -> None:
    assert [quarter_of(d(m, 1)) for m in range(1, 13)] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
