"""A hand-built year of the general office (办公室) for the assessment's tests.

The reference organisation with three schools: the general office holds the package of
school s0002 (eight dedicated inspections in 2026, two a quarter), its head is p010 and
its staff p011 and p012; the leading group's office sits in 法规安全科 (p007, p008).
What the year holds, and so what its figures are (:data:`EXPECTED`), is written out
here by hand:

- inspections: six done in their quarter, Q4's second after the year's end (late), Q2's
  second never (missed); three of the done ones unannounced (q1.1, q3.1, q4.1);
- topic studies: 2, 2, 1, 2 a quarter: one short;
- quarterly reports: Q1 and Q3 on time, Q2 late, Q4 missing;
- hazards at s0002: a general one closed in 19 days (on time), a general one closed
  in 45 (late), a major one found on 1 November without a plan (overdue at the end);
- an incident at s0002 with one death, responsibility found;
- the head signed the pledge; p010 and p011 were trained, p012 was not;
- an activity on 20 October without a safety plan.
"""

from __future__ import annotations

import datetime as dt

import dualduty
from dualduty.calendars import calendar_for
from dualduty.model import Schedule
from dualduty.planning import plan_schedule
from dualduty.records import Recorder
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
ORG = dualduty.reference_organisation(schools=3)
SCHEDULE: Schedule = plan_schedule(ORG, calendar_for(ORG, [2026]), 2026)
UNIT, SCHOOL = "general-office", "s0002"
HEAD, STAFF, STAFF_2 = "p010", "p011", "p012"
OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"
#: The assessment is made as of this time (after the year, before Q4's report is in).
NOW = dt.datetime(2027, 1, 10, 9, 0, tzinfo=ZONE)


def at(year: int, month: int, day: int, hour: int = 16) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=ZONE)


def visit(quarter: int, n: int) -> str:
    return f"v.2026q{quarter}.{UNIT}.{SCHOOL}.{n}"


def build(store: Store) -> Recorder:
    """Append the year to *store*; return the recorder that did."""
    r = Recorder(store, ORG, schedule=SCHEDULE)
    visits = {v.id: v for v in SCHEDULE.visits}
    done_on = {
        visit(1, 1): None,
        visit(1, 2): None,
        visit(2, 1): None,
        visit(3, 1): None,
        visit(3, 2): None,
        visit(4, 1): None,
        visit(4, 2): dt.date(2027, 1, 5),  # after its quarter: late
    }
    for visit_id, day in done_on.items():
        v = visits[visit_id]
        when = day or v.date
        r.inspections.record(
            SCHOOL, actor=STAFF, holder=UNIT, date=when, visit=visit_id,
            at=dt.datetime.combine(when, dt.time(17), ZONE),
        )  # fmt: skip
    for quarter, held in ((1, 2), (2, 2), (3, 1), (4, 2)):
        meetings = [m for m in SCHEDULE.meetings if m.unit == UNIT and m.quarter == quarter]
        for m in meetings[:held]:
            r.meetings.held(
                "topic_study", UNIT, m.date, "研究学校安全", actor=HEAD,
                attendees=[HEAD, STAFF, STAFF_2], scheduled=m.id,
                at=dt.datetime.combine(m.date, dt.time(18), ZONE),
            )  # fmt: skip
    for quarter, when in ((1, at(2026, 3, 30)), (2, at(2026, 7, 3)), (3, at(2026, 9, 29))):
        r.reports.submit(
            UNIT, 2026, quarter, actor=HEAD, title=f"第{quarter}季度报告", text="报告", at=when
        )
    # Hazards: closed on time, closed late, and a major one left without a plan.
    for found, closed in ((at(2026, 5, 1), at(2026, 5, 20)), (at(2026, 8, 1), at(2026, 9, 15))):
        hid = r.hazards.find(SCHOOL, "general", "消防通道堆放杂物", actor=STAFF, at=found).id
        r.hazards.register(hid, actor=OFFICE_STAFF, at=found + dt.timedelta(hours=1))
        r.hazards.plan(
            hid, actor=HEAD, measures=["清理"], responsible=HEAD,
            time_limit=(closed - dt.timedelta(days=3)).date(), at=found + dt.timedelta(days=1),
        )  # fmt: skip
        r.hazards.claim(hid, actor=STAFF, at=closed - dt.timedelta(days=2))
        r.hazards.reinspect(hid, actor=STAFF_2, accepted=True, at=closed - dt.timedelta(days=1))
        r.hazards.close(hid, actor=OFFICE_HEAD, at=closed)
    major = r.hazards.find(SCHOOL, "major", "教学楼外墙开裂", actor=STAFF, at=at(2026, 11, 1))
    r.hazards.register(major.id, actor=OFFICE_STAFF, at=at(2026, 11, 1, 17))
    # An incident with a death, responsibility found.
    incident = r.incidents.record(
        SCHOOL, "accident", "学生坠楼", occurred=at(2026, 6, 10, 10), deaths=1,
        actor=STAFF, at=at(2026, 6, 10, 10),
    )  # fmt: skip
    r.incidents.report(incident.id, "initial", text="初报", actor=STAFF, at=at(2026, 6, 10, 10))
    r.incidents.determine(
        incident.id, responsible=True, actor=OFFICE_HEAD, posts=[f"{UNIT}.head"],
        at=at(2026, 7, 1),
    )  # fmt: skip
    leader = dualduty.OrgGraph(ORG).leader()
    assert leader is not None
    r.meetings.sign(2026, f"{UNIT}.head", leader.id, actor=HEAD, at=at(2026, 1, 5))
    r.meetings.train(
        UNIT, dt.date(2026, 4, 1), "安全法规学习", actor=HEAD, hours=2, trainees=[HEAD, STAFF],
        at=at(2026, 4, 1),
    )  # fmt: skip
    r.activities.register(
        UNIT, "秋季教职工运动会", dt.date(2026, 10, 20), 300, actor=STAFF, at=at(2026, 10, 1)
    )
    return r


#: The general office's figures for 2026 as of :data:`NOW`, counted by hand above.
EXPECTED: dict[str, float] = {
    "visits_due": 8,
    "visits_done": 6,
    "visits_late": 1,
    "visits_missed": 1,
    "visits_done_ratio": 0.75,
    "unannounced_visits": 3,
    "ad_hoc_visits": 0,
    "topic_studies_short": 1,
    "reports_due": 4,
    "reports_on_time": 2,
    "reports_late": 1,
    "reports_missing": 1,
    "reports_on_time_ratio": 0.5,
    "hazards_found": 3,
    "hazards_closed_on_time": 1,
    "hazards_closed_on_time_ratio": 1 / 3,
    "hazards_overdue": 1,
    "major_hazards_reported_late": 0,
    "incidents": 1,
    "responsibility_incidents": 1,
    "responsibility_deaths": 1,
    "concealed_incidents": 0,
    "pledge_unsigned": 0,
    "staff_untrained": 1,
    "activity_findings": 1,
}
