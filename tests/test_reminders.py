"""Reminders: what is due soon or overdue, on the right days of the work calendar, once.

The reference organisation's 2026 schedule: s0002 is packaged to the general office
(head p010, staff p011 — its inspector) and to deputy-1 (p002); deputy-3 (p004) is in
charge of the general office; the office's head is p007. 2026 dates used: Monday
7 September (visits), Friday 25 September (中秋节, a day off), Sunday 20 September (a
make-up working day, 调休), 1-7 October (国庆节).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

import dualduty
from dualduty.calendars import calendar_for
from dualduty.notify.reminders import Reminders, enqueue_reminders, remind
from dualduty.planning import plan_schedule
from dualduty.records import Recorder
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
ORG = dualduty.reference_organisation(schools=3)
CALENDAR = calendar_for(ORG, [2026])
SCHEDULE = plan_schedule(ORG, CALENDAR, 2026)
SCHOOL = "s0002"
SECTION_HEAD, STAFF, STAFF_2 = "p010", "p011", "p012"
OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"
DEPUTY_IN_CHARGE, DEPUTY_1, LEADER = "p004", "p002", "p001"
MONDAY_VISITS = ("v.2026q3.deputy-1.s0002.2", "v.2026q3.general-office.s0002.2")


def morning(month: int, day: int, hour: int = 8) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=ZONE)


def reminders(store: Store) -> Reminders:
    return Reminders(store, ORG, SCHEDULE, calendar=CALENDAR)


def sent(r: Reminders, now: dt.datetime, kind: str, subject: str | None = None) -> list[str]:
    """``recipient@key-period`` of the messages of one kind (and subject) due at *now*."""
    return [
        f"{m.recipient}@{m.key.rsplit(':', 1)[1] if m.key else ''}"
        for m in r.messages(now)
        if m.key is not None
        and m.key.startswith(f"{kind}:")
        and (subject is None or m.key.split(":")[1] == subject)
    ]


@pytest.fixture
def recorder(store: Store) -> Recorder:
    return Recorder(store, ORG, schedule=SCHEDULE)


def planned_hazard(recorder: Recorder, limit: dt.date, severity: str = "general") -> str:
    found = recorder.hazards.find(
        SCHOOL, severity, "消防通道堆放杂物", actor=STAFF, at=morning(9, 1, 9)
    )
    recorder.hazards.register(found.id, actor=OFFICE_STAFF, at=morning(9, 1, 10))
    recorder.hazards.plan(
        found.id, actor=SECTION_HEAD, measures=["清理通道"], responsible=SECTION_HEAD,
        time_limit=limit, safeguards=["设置警示"], at=morning(9, 1, 11),
    )  # fmt: skip
    return found.id


# -- hazards ----------------------------------------------------------------------------------


def test_a_rectification_is_reminded_from_three_days_before_its_time_limit(
    recorder: Recorder, store: Store
) -> None:
    hz = planned_hazard(recorder, dt.date(2026, 9, 10))
    r = reminders(store)
    assert sent(r, morning(9, 6), "rectification-due") == []
    for day in (7, 8, 9):  # one key for the three days: queued once
        assert sent(r, morning(9, day), "rectification-due") == [f"{SECTION_HEAD}@2026-09-10"]
    assert sent(r, morning(9, 10), "rectification-due") == []  # the day itself: not overdue yet
    (message,) = [m for m in r.messages(morning(9, 8)) if m.key and "rectification" in m.key]
    assert message.title == f"整改到期提醒 {hz}：南关街道第一初级中学"
    assert "2026年9月10日" in message.text
    assert "还有2天" in message.text
    # claimed done: nothing more to remind of
    recorder.hazards.claim(hz, actor=STAFF, at=morning(9, 8, 12))
    assert sent(r, morning(9, 9), "rectification-due") == []


def test_an_overdue_hazard_is_reminded_weekly_then_up_the_escalation_chain(
    recorder: Recorder, store: Store
) -> None:
    hz = planned_hazard(recorder, dt.date(2026, 9, 10), "major")
    r = reminders(store)
    assert sent(r, morning(9, 10), "hazard-overdue") == []
    # missed from the 11th; one reminder a week (the key's period: each week's first day)
    for day in range(11, 17):
        assert sent(r, morning(9, day), "hazard-overdue") == [f"{SECTION_HEAD}@2026-09-10"]
    assert sent(r, morning(9, 17), "hazard-overdue") == [f"{SECTION_HEAD}@2026-09-17"]
    (message,) = [m for m in r.messages(morning(9, 12)) if m.key and "overdue" in m.key]
    assert message.urgent  # a major hazard
    assert "逾期：超过整改时限" in message.title
    assert "已逾期2天" in message.text
    # the office escalates it to the deputy in charge: the reminders now reach them too
    (esc,) = recorder.hazards.escalate_overdue(morning(9, 12, 9), actor=OFFICE_HEAD)
    assert esc.escalation_level == 1
    assert sent(r, morning(9, 13), "hazard-overdue", hz) == [
        f"{SECTION_HEAD}@2026-09-10",
        f"{DEPUTY_IN_CHARGE}@2026-09-10",
    ]


def test_an_overdue_hazard_without_a_plan_reminds_the_section_head(
    recorder: Recorder, store: Store
) -> None:
    recorder.hazards.find(SCHOOL, "general", "配电箱未上锁", actor=STAFF, at=morning(9, 1, 9))
    r = reminders(store)
    assert sent(r, morning(10, 1), "hazard-overdue") == []  # closing due within 30 days
    assert sent(r, morning(10, 2), "hazard-overdue") == [f"{SECTION_HEAD}@2026-10-01"]


def test_every_days_sets_how_often_overdue_reminders_come(store: Store) -> None:
    import attrs

    from dualduty.model import NotifySettings, Route

    daily = NotifySettings(routes=[Route("hazard-overdue", every_days=1)])
    org = attrs.evolve(ORG, notify=daily)
    Recorder(store, org).hazards.find(SCHOOL, "general", "x", actor=STAFF, at=morning(9, 1, 9))
    r = Reminders(store, org, SCHEDULE, calendar=CALENDAR)
    periods = [sent(r, morning(10, d), "hazard-overdue")[0] for d in range(2, 5)]
    assert periods == ["p010@2026-10-02", "p010@2026-10-03", "p010@2026-10-04"]
    weekly = Reminders(store, ORG, SCHEDULE, calendar=CALENDAR)  # the default
    periods = [sent(weekly, morning(10, d), "hazard-overdue")[0] for d in range(2, 17)]
    assert sorted(set(periods)) == ["p010@2026-10-01", "p010@2026-10-08", "p010@2026-10-15"]


# -- the schedule ------------------------------------------------------------------------------


def test_a_monday_visit_is_reminded_the_working_day_before(store: Store) -> None:
    r = reminders(store)
    visits = {v.id: v for v in SCHEDULE.visits}
    assert all(visits[v].date == dt.date(2026, 9, 7) for v in MONDAY_VISITS)
    assert sent(r, morning(9, 3), "visit-due", MONDAY_VISITS[1]) == []  # Thursday
    for day in (4, 5, 6):  # Friday, and the weekend with the same key: queued once
        assert sent(r, morning(9, day), "visit-due", MONDAY_VISITS[1]) == [f"{STAFF}@2026-09-07"]
        assert sent(r, morning(9, day), "visit-due", MONDAY_VISITS[0]) == [f"{DEPUTY_1}@2026-09-07"]
    assert sent(r, morning(9, 7), "visit-due", MONDAY_VISITS[1]) == []  # the day itself
    (message,) = [m for m in r.messages(morning(9, 4)) if m.key and MONDAY_VISITS[1] in m.key]
    assert message.title == "督查提醒：2026年9月7日 南关街道第一初级中学"
    assert "督查人员：汪建军" in message.text


def test_a_visit_carried_out_early_is_not_reminded(recorder: Recorder, store: Store) -> None:
    r = reminders(store)
    assert sent(r, morning(9, 4), "visit-due", MONDAY_VISITS[1])
    recorder.inspections.record(
        SCHOOL, actor=STAFF, holder="general-office", date=dt.date(2026, 9, 4),
        visit=MONDAY_VISITS[1], inspectors=[STAFF], at=morning(9, 4, 15),
    )  # fmt: skip
    assert sent(r, morning(9, 5), "visit-due", MONDAY_VISITS[1]) == []
    assert sent(r, morning(9, 5), "visit-due", MONDAY_VISITS[0])  # deputy-1's still due


def test_holidays_and_make_up_days_move_the_day_before(store: Store) -> None:
    r = reminders(store)
    # a meeting on Sunday 20 September, a make-up working day: reminded from Friday 18th
    sunday = "m.2026q3.topic.equipment-station.2"
    got = {d: bool(sent(r, morning(9, d), "meeting-due", sunday)) for d in (17, 18, 19, 20)}
    assert got == {17: False, 18: True, 19: True, 20: False}
    # a meeting on Thursday 8 October, after 国庆节: reminded from 30 September
    after = "m.2026q4.topic.general-office.1"
    assert not sent(r, morning(9, 29), "meeting-due", after)
    assert sent(r, morning(9, 30), "meeting-due", after) == [
        f"{p}@2026-10-08" for p in (SECTION_HEAD, STAFF, STAFF_2)
    ]
    assert sent(r, morning(10, 7), "meeting-due", after)


def test_a_quarter_report_is_reminded_five_working_days_before(
    recorder: Recorder, store: Store
) -> None:
    r = reminders(store)
    deadline = "d.2026q3.report.general-office"  # due Wednesday 30 September
    # five working days before: 22, 23, 24, 28, 29 (25 is 中秋节, 26-27 a weekend)
    assert sent(r, morning(9, 21), "report-due", deadline) == []
    assert sent(r, morning(9, 22), "report-due", deadline) == [f"{SECTION_HEAD}@2026-09-30"]
    (message,) = [m for m in r.messages(morning(9, 22)) if m.key and deadline in m.key]
    assert "还有5个工作日" in message.text
    assert message.title == "季度报告提醒：办公室2026年第3季度"
    recorder.reports.submit(
        "general-office", 2026, 3, actor=SECTION_HEAD, title="第三季度报告", text="正文",
        at=morning(9, 23, 9),
    )  # fmt: skip
    assert sent(r, morning(9, 24), "report-due", deadline) == []


def test_a_coordination_meeting_reminds_every_attendee_until_held(
    recorder: Recorder, store: Store
) -> None:
    r = reminders(store)
    meeting = "m.2026q3.coordination.1"  # Tuesday 8 September
    people = [p.split("@")[0] for p in sent(r, morning(9, 7), "meeting-due", meeting)]
    assert people[:6] == [LEADER, DEPUTY_1, "p003", DEPUTY_IN_CHARGE, "p005", "p006"]
    assert {OFFICE_HEAD, OFFICE_STAFF, SECTION_HEAD} <= set(people)
    assert STAFF not in people  # sections are there through their heads
    recorder.meetings.held(
        "coordination", "safety-office", dt.date(2026, 9, 7), "调度会", actor=LEADER,
        attendees=[LEADER, OFFICE_HEAD], scheduled=meeting, at=morning(9, 7, 10),
    )  # fmt: skip
    assert sent(r, morning(9, 7, 11), "meeting-due", meeting) == []


# -- once, and incrementally ------------------------------------------------------------------


def test_every_ten_minutes_queues_each_reminder_once_on_sqlite(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'r.db'}") as store:
        planned_hazard(Recorder(store, ORG, schedule=SCHEDULE), dt.date(2026, 9, 10))
        before = len(store.outbox(state=None))
        r = reminders(store)
        start = morning(9, 4, 0)
        made: Counter[str] = Counter()
        queued = 0
        for step in range(4 * 24 * 6):  # Friday to Monday, every ten minutes
            now = start + dt.timedelta(minutes=10 * step)
            made.update(m.key for m in r.messages(now) if m.key)
            queued += r.enqueue(now)
        keys = [i.message.key for i in store.outbox(state=None)[before:]]
        assert queued == len(keys) == len(set(keys)) == len(made)
        assert set(keys) == set(made)
        assert max(made.values()) >= 3 * 24 * 6  # the Monday visits were due all weekend
        # the same again from a fresh process: nothing new
        again = enqueue_reminders(store, ORG, SCHEDULE, now=morning(9, 6), calendar=CALENDAR)
        assert again == 0


def test_a_watcher_routes_each_reminder_once(store: Store) -> None:
    r = reminders(store)
    friday = morning(9, 4)
    due = r.messages(friday)
    assert r.pending(friday) == due
    assert r.enqueue(friday) == len(due) > 0
    assert r.pending(friday) == []
    assert r.pending(morning(9, 5)) == []  # the weekend's reminders were queued on Friday
    assert r.messages(morning(9, 5))  # though they are still due
    fresh = reminders(store)  # another process: works them out again; the keys hold
    assert fresh.enqueue(morning(9, 5)) == 0
    assert fresh.pending(morning(9, 5)) == []
    other = reminders(store)  # take hands them out once, for a caller queueing them itself
    assert [m.key for m in other.take(morning(9, 5))] == [m.key for m in r.messages(morning(9, 5))]
    assert other.take(morning(9, 5)) == []


def test_keys_are_stable_and_unique(store: Store) -> None:
    first = remind(store, ORG, SCHEDULE, now=morning(9, 7), calendar=CALENDAR)
    second = remind(store, ORG, SCHEDULE, now=morning(9, 7, 18), calendar=CALENDAR)
    assert first == second
    keys = [m.key for m in first]
    assert len(keys) == len(set(keys)) > 20


def test_records_appended_later_are_read_incrementally(recorder: Recorder, store: Store) -> None:
    r = reminders(store)
    assert r.refresh() == 0
    planned_hazard(recorder, dt.date(2026, 9, 10))
    assert r.refresh() == 3
    assert [h.status.value for h in r.open_hazards] == ["rectifying"]
    assert r.refresh() == 0


def test_years_without_holiday_data_count_weekdays(store: Store) -> None:
    r = Reminders(store, ORG, SCHEDULE)  # the calendar made for 2025-2026 (2027 unknown)
    assert r.is_working_day(dt.date(2026, 10, 1)) is False  # 国庆节, known
    assert r.is_working_day(dt.date(2027, 1, 4)) is True  # a Monday
    assert r.is_working_day(dt.date(2027, 1, 2)) is False  # a Saturday
