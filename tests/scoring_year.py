"""A hand-built year for the assessment's tests: three sections, every figure counted by hand.

The reference organisation with three schools. The general office (办公室) holds the
package of school s0002 (eight dedicated inspections in 2026, two a quarter); its head is
p010 and its staff p011 and p012. 政教科 (moral-education) holds s0003: head p013, staff
p014 and p015. 法规安全科 (regulation-safety) holds s0001 and seats the leading group's
office (head p007, staff p008), which convenes the coordination meetings. What the year
holds, and so what the figures are (:data:`EXPECTED`, :data:`EXPECTED_MORAL`,
:data:`EXPECTED_SAFETY`), is written out here by hand.

The general office:

- inspections: six done in their quarter, Q4's second after the year's end (late), Q2's
  second never (missed); an ad hoc unannounced one (暗访) on 15 May;
- topic studies: 2, 2, 1, 2 a quarter: one short;
- quarterly reports: Q1 and Q3 on time, Q2 late (on time with ``q2_report_late=False``,
  not at all with ``q2_report=False``), Q4 missing;
- coordination meetings: its head at Q1's and Q2's, nobody of it at Q3's (Q4's was not
  held);
- hazards at s0002: a general one closed in 19 days (on time), a general one closed
  in 45 (late), a major one found on 1 November without a plan (overdue at the end);
- an incident at s0002 with one death, responsibility found, its final report never made
  (漏报);
- the head signed the pledge; p010 and p011 were trained, p012 was not; no note of
  annual targets;
- an activity on 20 October without a safety plan.

政教科 (moral-education):

- inspections: seven done in their quarter, Q4's second on 3 January 2027 (late);
- topic studies: two every quarter; reports: all four on time; at all three coordination
  meetings;
- hazards at s0003: two general ones, both closed within their 30 days;
- an incident at s0003 without casualties, reported at once and finally within the month,
  no responsibility found;
- the head signed the pledge; p013 and p014 trained, p015 not; a note (topic
  ``annual_targets``) puts safety in its annual targets.

法规安全科 (regulation-safety): nothing but its head at the three coordination meetings;
as the office's seat it is one coordination meeting (Q4) and the summary meeting short.
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
MORAL, MORAL_SCHOOL = "moral-education", "s0003"
MORAL_HEAD, MORAL_STAFF, MORAL_STAFF_2 = "p013", "p014", "p015"
SAFETY = "regulation-safety"
OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"
#: The assessment is made as of this time (after the year, before Q4's report is in).
NOW = dt.datetime(2027, 1, 10, 9, 0, tzinfo=ZONE)


def at(year: int, month: int, day: int, hour: int = 16) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=ZONE)


def visit(quarter: int, n: int, unit: str = UNIT, school: str = SCHOOL) -> str:
    return f"v.2026q{quarter}.{unit}.{school}.{n}"


def build(store: Store, *, q2_report_late: bool = True, q2_report: bool = True) -> Recorder:
    """Append the year to *store*; return the recorder that did.

    :param q2_report_late: the general office's Q2 report comes in late (on 3 July); else
        on time (30 June).
    :param q2_report: the general office submits its Q2 report at all.
    """
    r = Recorder(store, ORG, schedule=SCHEDULE)
    _general_office(r, q2_report_late=q2_report_late, q2_report=q2_report)
    _coordination(r)
    _moral_education(r)
    return r


def _inspect(
    r: Recorder, unit: str, school: str, actor: str, done_on: dict[str, dt.date | None]
) -> None:
    visits = {v.id: v for v in SCHEDULE.visits}
    for visit_id, day in done_on.items():
        v = visits[visit_id]
        when = day or v.date
        r.inspections.record(
            school, actor=actor, holder=unit, date=when, visit=visit_id,
            at=dt.datetime.combine(when, dt.time(17), ZONE),
        )  # fmt: skip


def _topic_studies(
    r: Recorder, unit: str, head: str, people: list[str], held: tuple[int, ...]
) -> None:
    for quarter, count in zip((1, 2, 3, 4), held, strict=True):
        meetings = [m for m in SCHEDULE.meetings if m.unit == unit and m.quarter == quarter]
        for m in meetings[:count]:
            r.meetings.held(
                "topic_study", unit, m.date, "研究学校安全", actor=head, attendees=people,
                scheduled=m.id, at=dt.datetime.combine(m.date, dt.time(18), ZONE),
            )  # fmt: skip


def _hazards_closed(
    r: Recorder,
    school: str,
    spans: list[tuple[dt.datetime, dt.datetime]],
    *,
    staff: str,
    head: str,
    checker: str,
) -> None:
    """General hazards found and closed (found, closed), rectified by *head*'s plan."""
    for found, closed in spans:
        hid = r.hazards.find(school, "general", "消防通道堆放杂物", actor=staff, at=found).id
        r.hazards.register(hid, actor=OFFICE_STAFF, at=found + dt.timedelta(hours=1))
        r.hazards.plan(
            hid, actor=head, measures=["清理"], responsible=head,
            time_limit=(closed - dt.timedelta(days=3)).date(), at=found + dt.timedelta(days=1),
        )  # fmt: skip
        r.hazards.claim(hid, actor=staff, at=closed - dt.timedelta(days=2))
        r.hazards.reinspect(hid, actor=checker, accepted=True, at=closed - dt.timedelta(days=1))
        r.hazards.close(hid, actor=OFFICE_HEAD, at=closed)


def _general_office(r: Recorder, *, q2_report_late: bool, q2_report: bool) -> None:
    _inspect(
        r, UNIT, SCHOOL, STAFF,
        {
            visit(1, 1): None,
            visit(1, 2): None,
            visit(2, 1): None,
            visit(3, 1): None,
            visit(3, 2): None,
            visit(4, 1): None,
            visit(4, 2): dt.date(2027, 1, 5),  # after its quarter: late
        },
    )  # fmt: skip
    r.inspections.record(
        SCHOOL, actor=STAFF, holder=UNIT, date=dt.date(2026, 5, 15), announced=False,
        at=at(2026, 5, 15, 17),
    )  # fmt: skip  # ad hoc, unannounced (暗访)
    _topic_studies(r, UNIT, HEAD, [HEAD, STAFF, STAFF_2], (2, 2, 1, 2))
    q2 = at(2026, 7, 3) if q2_report_late else at(2026, 6, 30)
    for quarter, when in ((1, at(2026, 3, 30)), (2, q2), (3, at(2026, 9, 29))):
        if quarter == 2 and not q2_report:
            continue
        r.reports.submit(
            UNIT, 2026, quarter, actor=HEAD, title=f"第{quarter}季度报告", text="报告", at=when
        )
    # Hazards: closed on time, closed late, and a major one left without a plan.
    _hazards_closed(
        r, SCHOOL, [(at(2026, 5, 1), at(2026, 5, 20)), (at(2026, 8, 1), at(2026, 9, 15))],
        staff=STAFF, head=HEAD, checker=STAFF_2,
    )  # fmt: skip
    major = r.hazards.find(SCHOOL, "major", "教学楼外墙开裂", actor=STAFF, at=at(2026, 11, 1))
    r.hazards.register(major.id, actor=OFFICE_STAFF, at=at(2026, 11, 1, 17))
    # An incident with a death, responsibility found; the final report never made.
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


def _coordination(r: Recorder) -> None:
    """Q1-Q3's coordination meetings, convened by the office; Q4's not held."""
    attendees = {
        1: [OFFICE_HEAD, HEAD, MORAL_HEAD],
        2: [OFFICE_HEAD, HEAD, MORAL_HEAD],
        3: [OFFICE_HEAD, MORAL_STAFF],  # nobody of the general office
    }
    for m in SCHEDULE.meetings:
        if m.kind.value == "coordination" and m.quarter in attendees:
            r.meetings.held(
                "coordination", m.unit, m.date, "安全稳定工作调度", actor=OFFICE_HEAD,
                attendees=attendees[m.quarter], scheduled=m.id,
                at=dt.datetime.combine(m.date, dt.time(18), ZONE),
            )  # fmt: skip


def _moral_education(r: Recorder) -> None:
    _inspect(
        r, MORAL, MORAL_SCHOOL, MORAL_STAFF,
        {
            **{visit(q, n, MORAL, MORAL_SCHOOL): None for q in (1, 2, 3, 4) for n in (1, 2)},
            visit(4, 2, MORAL, MORAL_SCHOOL): dt.date(2027, 1, 3),  # late
        },
    )  # fmt: skip
    people = [MORAL_HEAD, MORAL_STAFF, MORAL_STAFF_2]
    _topic_studies(r, MORAL, MORAL_HEAD, people, (2, 2, 2, 2))
    for quarter, when in (
        (1, at(2026, 3, 31)),
        (2, at(2026, 6, 30)),
        (3, at(2026, 9, 30)),
        (4, at(2026, 12, 31)),
    ):
        r.reports.submit(
            MORAL, 2026, quarter, actor=MORAL_HEAD, title=f"第{quarter}季度报告", text="报告",
            at=when,
        )  # fmt: skip
    _hazards_closed(
        r, MORAL_SCHOOL, [(at(2026, 3, 2), at(2026, 3, 20)), (at(2026, 10, 8), at(2026, 10, 30))],
        staff=MORAL_STAFF, head=MORAL_HEAD, checker=MORAL_STAFF_2,
    )  # fmt: skip
    incident = r.incidents.record(
        MORAL_SCHOOL, "accident", "学生体育课扭伤", occurred=at(2026, 9, 15, 10),
        actor=MORAL_STAFF, at=at(2026, 9, 15, 10),
    )  # fmt: skip
    r.incidents.report(
        incident.id, "initial", text="初报", actor=MORAL_STAFF, at=at(2026, 9, 15, 10)
    )
    r.incidents.report(incident.id, "final", text="终报", actor=MORAL_STAFF, at=at(2026, 9, 30))
    r.incidents.determine(incident.id, responsible=False, actor=OFFICE_HEAD, at=at(2026, 10, 9))
    leader = dualduty.OrgGraph(ORG).leader()
    assert leader is not None
    r.meetings.sign(2026, f"{MORAL}.head", leader.id, actor=MORAL_HEAD, at=at(2026, 1, 6))
    r.meetings.train(
        MORAL, dt.date(2026, 4, 2), "安全法规学习", actor=MORAL_HEAD, hours=2,
        trainees=[MORAL_HEAD, MORAL_STAFF], at=at(2026, 4, 2),
    )  # fmt: skip
    r.meetings.set_targets(
        MORAL, 2026, actor=MORAL_HEAD, at=at(2026, 2, 20),
        safety=["分包学校安全稳定工作与业务工作同部署、同检查、同考核、同奖惩"],
    )  # fmt: skip


#: The general office's figures for 2026 as of :data:`NOW`, counted by hand above.
EXPECTED: dict[str, float] = {
    "visits_due": 8,
    "visits_pending": 0,
    "visits_done": 6,
    "visits_late": 1,
    "visits_missed": 1,
    "visits_done_ratio": 6 / 8,  # (6 + 0 × 1 late) / (6 + 1 + 1)
    "ad_hoc_visits": 1,
    "unannounced_visits": 1,  # of the ad hoc ones (the scheduled q1.1, q3.1, q4.1 are not)
    "topic_studies_required": 8,
    "topic_studies_held": 7,  # 2 + 2 + 1 + 2
    "topic_studies_ratio": 7 / 8,
    "topic_studies_short": 1,
    "coordination_held": 3,
    "coordination_absent": 1,  # Q3's
    "coordination_short": 0,  # not the office's seat
    "summary_short": 0,
    "reports_due": 4,
    "reports_on_time": 2,
    "reports_late": 1,
    "reports_missing": 1,
    "reports_on_time_ratio": 0.5,
    "reports_not_on_time": 2,  # 1 late × 1 + 1 missing × 1 (the measure's defaults)
    "hazards_found": 3,
    "major_hazards_found": 1,
    "hazards_closed": 2,
    "major_hazards_closed": 0,
    "hazards_closed_on_time": 1,
    "hazards_closed_late": 1,
    "hazards_overdue": 1,
    "major_hazards_overdue": 1,
    "hazards_closed_on_time_ratio": 1 / 3,  # 1 on time of 2 closed + 1 overdue
    "major_hazards_reported_late": 0,
    "incidents": 2,  # one general (weight 1), a responsibility incident (× 2)
    "incidents_occurred": 1,
    "responsibility_incidents": 1,
    "responsibility_deaths": 1,
    "concealed_incidents": 0,
    "incidents_reported_late": 1,  # its final report omitted (漏报)
    "pledge_unsigned": 0,
    "staff_untrained": 1,
    "annual_targets_missing": 1,
    "activity_findings": 1,
}

#: 政教科's figures for 2026 as of :data:`NOW`, counted by hand above.
EXPECTED_MORAL: dict[str, float] = {
    "visits_due": 8,
    "visits_pending": 0,
    "visits_done": 7,
    "visits_late": 1,
    "visits_missed": 0,
    "visits_done_ratio": 7 / 8,
    "ad_hoc_visits": 0,
    "unannounced_visits": 0,
    "topic_studies_required": 8,
    "topic_studies_held": 8,
    "topic_studies_ratio": 1,
    "topic_studies_short": 0,
    "coordination_held": 3,
    "coordination_absent": 0,
    "coordination_short": 0,
    "summary_short": 0,
    "reports_due": 4,
    "reports_on_time": 4,
    "reports_late": 0,
    "reports_missing": 0,
    "reports_on_time_ratio": 1,
    "reports_not_on_time": 0,
    "hazards_found": 2,
    "major_hazards_found": 0,
    "hazards_closed": 2,
    "major_hazards_closed": 0,
    "hazards_closed_on_time": 2,
    "hazards_closed_late": 0,
    "hazards_overdue": 0,
    "major_hazards_overdue": 0,
    "hazards_closed_on_time_ratio": 1,
    "major_hazards_reported_late": 0,
    "incidents": 1,  # one general, no responsibility found
    "incidents_occurred": 1,
    "responsibility_incidents": 0,
    "responsibility_deaths": 0,
    "concealed_incidents": 0,
    "incidents_reported_late": 0,
    "pledge_unsigned": 0,
    "staff_untrained": 1,  # p015
    "annual_targets_missing": 0,
    "activity_findings": 0,
}

#: 法规安全科's figures: nothing done but the coordination meetings attended.
EXPECTED_SAFETY: dict[str, float] = {
    "visits_due": 8,
    "visits_pending": 0,
    "visits_done": 0,
    "visits_late": 0,
    "visits_missed": 8,
    "visits_done_ratio": 0,
    "ad_hoc_visits": 0,
    "unannounced_visits": 0,
    "topic_studies_required": 8,
    "topic_studies_held": 0,
    "topic_studies_ratio": 0,
    "topic_studies_short": 8,
    "coordination_held": 3,
    "coordination_absent": 0,  # its head, p007, at all three
    "coordination_short": 1,  # Q4's, which it convenes as the office's seat
    "summary_short": 1,
    "reports_due": 4,
    "reports_on_time": 0,
    "reports_late": 0,
    "reports_missing": 4,
    "reports_on_time_ratio": 0,
    "reports_not_on_time": 4,
    "hazards_found": 0,
    "major_hazards_found": 0,
    "hazards_closed": 0,
    "major_hazards_closed": 0,
    "hazards_closed_on_time": 0,
    "hazards_closed_late": 0,
    "hazards_overdue": 0,
    "major_hazards_overdue": 0,
    "hazards_closed_on_time_ratio": 1,  # nothing was due: the ratio's `empty`
    "major_hazards_reported_late": 0,
    "incidents": 0,
    "incidents_occurred": 0,
    "responsibility_incidents": 0,
    "responsibility_deaths": 0,
    "concealed_incidents": 0,
    "incidents_reported_late": 0,
    "pledge_unsigned": 1,  # p007 signed none
    "staff_untrained": 3,
    "annual_targets_missing": 1,
    "activity_findings": 0,
}
