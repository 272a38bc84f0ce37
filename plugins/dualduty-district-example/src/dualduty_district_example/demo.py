"""A small year of records on which the district's rules are easy to check by hand.

The reference organisation with three schools, assessed for 2026 as of :data:`NOW` (10
January 2027). Two sections do everything the default rubric asks — every topic study
(专题研究), every quarterly report on time, the pledge signed (责任状), every member
trained, safety in their annual targets — and differ in three things only:

- the general office (办公室, holds school s0002) carried out all eight dedicated
  inspections of s0002 in their quarter and two unannounced ad hoc ones (暗访), in May and
  in October;
- 政教科 (moral-education, holds s0003) carried out six of its eight (Q2's second and
  Q3's second never), and on 20 December found a major hazard (重大安全隐患) at s0003,
  reported it to the office within the hour, and had not closed it by the year's end.

No coordination meeting is held, so nobody misses one; no incident occurs.
"""

from __future__ import annotations

import datetime as dt

import dualduty
from dualduty.calendars import calendar_for
from dualduty.model import Organisation, Schedule
from dualduty.planning import plan_schedule
from dualduty.records import Recorder
from dualduty.storage import Store

__all__ = ["MORAL", "NOW", "ORG", "SCHEDULE", "UNIT", "YEAR", "record_demo_year"]

ZONE = dt.timezone(dt.timedelta(hours=8))
YEAR = 2026
#: The reference organisation with three schools.
ORG: Organisation = dualduty.reference_organisation(schools=3)
#: Its planned schedule for 2026.
SCHEDULE: Schedule = plan_schedule(ORG, calendar_for(ORG, [YEAR]), YEAR)
#: The general office (办公室) and 政教科 (moral-education).
UNIT, MORAL = "general-office", "moral-education"
#: When the year is assessed.
NOW = dt.datetime(2027, 1, 10, 9, 0, tzinfo=ZONE)

_PEOPLE = {UNIT: ("p010", "p011", "p012"), MORAL: ("p013", "p014", "p015")}
_SCHOOL = {UNIT: "s0002", MORAL: "s0003"}
_OFFICE_STAFF = "p008"


def _at(month: int, day: int, hour: int = 16) -> dt.datetime:
    return dt.datetime(YEAR, month, day, hour, 0, tzinfo=ZONE)


def _dutiful(r: Recorder, unit: str, missed_visits: tuple[str, ...]) -> None:
    """Everything the default rubric asks of *unit*, but the dedicated inspections it missed."""
    head, *staff = _PEOPLE[unit]
    people = [head, *staff]
    for v in SCHEDULE.visits:
        if v.holder == unit and v.id not in missed_visits:
            r.inspections.record(
                v.school,
                actor=staff[0],
                holder=unit,
                date=v.date,
                visit=v.id,
                at=dt.datetime.combine(v.date, dt.time(17), ZONE),
            )
    for m in SCHEDULE.meetings:
        if m.unit == unit and m.kind.value == "topic_study":
            r.meetings.held(
                "topic_study",
                unit,
                m.date,
                "研究学校安全稳定工作",
                actor=head,
                attendees=people,
                scheduled=m.id,
                at=dt.datetime.combine(m.date, dt.time(18), ZONE),
            )
    for quarter, month in ((1, 3), (2, 6), (3, 9), (4, 12)):
        r.reports.submit(
            unit,
            YEAR,
            quarter,
            actor=head,
            title=f"第{quarter}季度分包学校督查情况报告",
            text="督查情况",
            at=_at(month, 25),
        )
    leader = dualduty.OrgGraph(ORG).leader()
    assert leader is not None
    r.meetings.sign(YEAR, f"{unit}.head", leader.id, actor=head, at=_at(1, 5))
    r.meetings.train(
        unit,
        dt.date(YEAR, 4, 1),
        "学校安全法规学习",
        actor=head,
        hours=2,
        trainees=people,
        at=_at(4, 1),
    )
    r.meetings.set_targets(
        unit,
        2026,
        actor=head,
        at=_at(2, 20),
        safety=["安全稳定工作纳入科室年度工作目标，同部署、同检查、同考核、同奖惩"],
    )


def record_demo_year(store: Store) -> Recorder:
    """Append the demo year to *store*; return the recorder that did."""
    r = Recorder(store, ORG, schedule=SCHEDULE)
    _dutiful(r, UNIT, missed_visits=())
    for month, day in ((5, 15), (10, 22)):
        r.inspections.record(
            _SCHOOL[UNIT],
            actor=_PEOPLE[UNIT][1],
            holder=UNIT,
            date=dt.date(YEAR, month, day),
            announced=False,
            at=_at(month, day, 17),
        )
    missed = (
        f"v.{YEAR}q2.{MORAL}.{_SCHOOL[MORAL]}.2",
        f"v.{YEAR}q3.{MORAL}.{_SCHOOL[MORAL]}.2",
    )
    _dutiful(r, MORAL, missed_visits=missed)
    major = r.hazards.find(
        _SCHOOL[MORAL], "major", "教学楼外墙开裂", actor=_PEOPLE[MORAL][1], at=_at(12, 20, 10)
    )
    r.hazards.register(major.id, actor=_OFFICE_STAFF, at=_at(12, 20, 10) + dt.timedelta(minutes=30))
    return r
