"""Meetings held against the schedule, responsibility pledges and staff training."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import dualduty
from dualduty.calendars import calendar_for
from dualduty.errors import DualdutyError
from dualduty.model.enums import Role
from dualduty.model.schedule import Meeting, MeetingKind, Schedule
from dualduty.planning import plan_schedule
from dualduty.records import RECORD_KINDS, InvalidTransition, PermissionDenied, Record, unit
from dualduty.records.kinds import MeetingHeld
from dualduty.records.meetings import KINDS, Meetings, PledgeSigned, TrainingHeld
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=ZONE)
ORG = dualduty.reference_organisation(schools=3)

SECTION = "general-office"  # head p010, staff p011/p012
HEAD, STAFF, STAFF_2 = "p010", "p011", "p012"
OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"
LEADER, DEPUTY = "p001", "p002"
OUTSIDER, OUTSIDER_HEAD = "p014", "p013"  # 德育科


@pytest.fixture(scope="module")
def schedule() -> Schedule:
    return plan_schedule(ORG, calendar_for(ORG, [2026]), 2026)


@pytest.fixture
def meetings(store: Store, schedule: Schedule) -> Meetings:
    return Meetings(store, ORG, schedule=schedule)


def snapshot(store: Store) -> tuple[int, int]:
    return len(store), len(store.outbox(state=None))


def planned(schedule: Schedule, kind: MeetingKind, unit_id: str, quarter: int | None) -> Meeting:
    return next(
        m for m in schedule.meetings if (m.kind, m.unit, m.quarter) == (kind, unit_id, quarter)
    )


def test_kinds_registered_and_round_trip(store: Store) -> None:
    for cls in KINDS:
        assert RECORD_KINDS[cls.__record_kind__] is cls
    assert RECORD_KINDS["meeting-held"] is MeetingHeld  # reused, not redefined
    records = [Record.of(e, actor=HEAD, at=T0) for cls in KINDS for e in cls.examples()]
    store.append(*records)
    assert [e.record for e in store.read()] == records


class TestMeetings:
    def test_topic_study_against_the_schedule(
        self, meetings: Meetings, store: Store, schedule: Schedule
    ) -> None:
        plan = planned(schedule, MeetingKind.TOPIC_STUDY, SECTION, 3)
        held = meetings.held(
            "topic_study",
            SECTION,
            plan.date,
            "研究秋季开学安全",
            actor=STAFF,
            attendees=[HEAD, STAFF, STAFF_2, STAFF],
            scheduled=plan.id,
            minutes="明确分工",
            at=T0,
        )
        assert held.attendees == (HEAD, STAFF, STAFF_2)
        assert held.scheduled == plan.id
        (entry,) = store.read()
        assert entry.record.subjects == (
            f"meeting:{held.meeting}",
            f"meeting:{plan.id}",
            unit(SECTION),
            f"person:{HEAD}",
            f"person:{STAFF}",
            f"person:{STAFF_2}",
        )
        # Carried out once: a second meeting cannot claim it, even on another day.
        n = snapshot(store)
        with pytest.raises(InvalidTransition, match=f"{plan.id!r} was already held"):
            meetings.held(
                "topic_study",
                SECTION,
                plan.date + dt.timedelta(days=1),
                "再次研究",
                actor=HEAD,
                attendees=[HEAD],
                scheduled=plan.id,
                at=T0,
            )
        assert snapshot(store) == n

    def test_the_schedule_must_match(
        self, meetings: Meetings, store: Store, schedule: Schedule
    ) -> None:
        other = planned(schedule, MeetingKind.TOPIC_STUDY, "moral-education", 3)
        own = planned(schedule, MeetingKind.TOPIC_STUDY, SECTION, 3)
        coordination = planned(schedule, MeetingKind.COORDINATION, "safety-office", 3)
        cases = [
            (other.id, "topic_study", own.date, "a topic_study meeting of moral-education"),
            (coordination.id, "topic_study", own.date, "a coordination meeting of safety-office"),
            (own.id, "topic_study", dt.date(2026, 10, 9), "falls in 2026 Q3"),
            ("m.2026q3.topic.nowhere.1", "topic_study", own.date, "no meeting .* in the 2026"),
        ]
        for scheduled, kind, date, message in cases:
            with pytest.raises(InvalidTransition, match=message):
                meetings.held(
                    kind,
                    SECTION,
                    date,
                    "专题研究",
                    actor=HEAD,
                    attendees=[HEAD],
                    scheduled=scheduled,
                    at=T0,
                )
        assert snapshot(store) == (0, 0)

    def test_without_a_schedule_a_scheduled_id_is_carried_out_once(self, store: Store) -> None:
        meetings = Meetings(store, ORG)
        args = ("topic_study", SECTION, dt.date(2026, 9, 2), "专题研究")
        meetings.held(*args, actor=HEAD, attendees=[HEAD], scheduled="m.x.1", at=T0)
        with pytest.raises(InvalidTransition, match="already held"):
            meetings.held(*args, actor=HEAD, attendees=[HEAD], scheduled="m.x.1", at=T0)
        assert len(store) == 1

    def test_coordination_and_summary(self, meetings: Meetings, schedule: Schedule) -> None:
        coordination = planned(schedule, MeetingKind.COORDINATION, "safety-office", 3)
        summary = planned(schedule, MeetingKind.SUMMARY, "leading-group", None)
        held = meetings.held(
            MeetingKind.COORDINATION,
            "safety-office",
            coordination.date,
            "三季度调度会",
            actor=OFFICE_STAFF,
            attendees=[OFFICE_HEAD, HEAD, OUTSIDER_HEAD, DEPUTY],
            scheduled=coordination.id,
            at=T0,
        )
        assert held.kind is MeetingKind.COORDINATION
        meetings.held(
            "summary",
            "leading-group",
            summary.date,
            "年度总结表彰",
            actor=DEPUTY,
            attendees=[LEADER, DEPUTY],
            scheduled=summary.id,
            at=T0,
        )
        assert len(meetings.all(kind="summary")) == 1

    def test_who_may_record(self, meetings: Meetings, store: Store) -> None:
        day = dt.date(2026, 9, 8)
        with pytest.raises(PermissionDenied, match=f"{OUTSIDER} .*record meetings of {SECTION}"):
            meetings.held("topic_study", SECTION, day, "x", actor=OUTSIDER, attendees=[OUTSIDER])
        with pytest.raises(PermissionDenied, match="record meetings of safety-office"):
            meetings.held("coordination", "safety-office", day, "x", actor=HEAD, attendees=[HEAD])
        with pytest.raises(InvalidTransition, match="held by the leading group or its office"):
            meetings.held("coordination", SECTION, day, "x", actor=HEAD, attendees=[HEAD])
        with pytest.raises(InvalidTransition, match="no person 'p999'"):
            meetings.held("topic_study", SECTION, day, "x", actor=HEAD, attendees=["p999"])
        with pytest.raises(InvalidTransition, match="at least one person"):
            meetings.held("topic_study", SECTION, day, "x", actor=HEAD, attendees=[])
        with pytest.raises(DualdutyError, match="no unit 'nowhere'"):
            meetings.held("topic_study", "nowhere", day, "x", actor=HEAD, attendees=[HEAD])
        assert snapshot(store) == (0, 0)

    def test_readers_filter(self, meetings: Meetings) -> None:
        def hold(unit_id: str, date: dt.date, actor: str) -> str:
            return meetings.held(
                "topic_study", unit_id, date, "专题研究", actor=actor, attendees=[actor], at=T0
            ).meeting

        a = hold(SECTION, dt.date(2026, 2, 3), HEAD)
        b = hold(SECTION, dt.date(2026, 8, 3), STAFF)
        c = hold("moral-education", dt.date(2026, 8, 4), OUTSIDER)
        d = hold(SECTION, dt.date(2027, 1, 4), HEAD)

        def ids(**kw: object) -> list[str]:
            return [m.meeting for m in meetings.all(**kw)]  # type: ignore[arg-type]  # the filters

        assert ids() == [a, b, c, d]
        assert ids(year=2026) == [a, b, c]
        assert ids(year=2026, quarter=3) == [b, c]
        assert ids(unit=SECTION) == [a, b, d]
        assert ids(unit=SECTION, quarter=1) == [a, d]
        assert ids(kind="coordination") == []


class TestPledges:
    def test_once_per_person_post_and_year(self, meetings: Meetings, store: Store) -> None:
        pledge = meetings.sign(
            2026, "general-office.head", "director", actor=HEAD, date=dt.date(2026, 2, 10), at=T0
        )
        assert pledge == PledgeSigned(
            2026, HEAD, "general-office.head", "director", dt.date(2026, 2, 10)
        )
        (entry,) = store.read(subject=f"person:{HEAD}")
        assert "post:director" in entry.record.subjects
        assert unit(SECTION) in entry.record.subjects
        n = snapshot(store)
        with pytest.raises(InvalidTransition, match="already signed the 2026 pledge"):
            meetings.sign(2026, "general-office.head", "deputy-3", actor=HEAD, at=T0)
        assert snapshot(store) == n
        # Next year's is another pledge; it may be signed late in the year before.
        meetings.sign(
            2027, "general-office.head", "director", actor=HEAD, date=dt.date(2026, 12, 28)
        )
        assert [p.person for p in meetings.pledges(2026)] == [HEAD]
        assert [p.year for p in meetings.pledges(2027)] == [2027]

    def test_the_signer_signs_for_themselves(self, meetings: Meetings, store: Store) -> None:
        with pytest.raises(PermissionDenied, match=f"{STAFF} .*its holder does"):
            meetings.sign(2026, "general-office.head", "director", actor=STAFF, at=T0)
        with pytest.raises(InvalidTransition, match="with themselves"):
            meetings.sign(2026, "director", "director", actor=LEADER, at=T0)
        with pytest.raises(InvalidTransition, match="cannot be signed on 2024-12-01"):
            meetings.sign(
                2026, "deputy-1", "director", actor=DEPUTY, date=dt.date(2024, 12, 1), at=T0
            )
        assert snapshot(store) == (0, 0)

    def test_unsigned(self, meetings: Meetings) -> None:
        meetings.sign(2026, "deputy-1", "director", actor=DEPUTY, at=T0)
        unsigned = meetings.unsigned(2026)
        ids = {p.id for p in unsigned}
        assert "deputy-1" not in ids
        assert {"deputy-2", "general-office.head"} <= ids
        assert {p.role for p in unsigned} == {Role.DEPUTY, Role.MEMBER, Role.SECTION_HEAD}
        assert [p.id for p in meetings.unsigned(2026, roles=["leader"])] == ["director"]


class TestTraining:
    def test_train_and_read_back(self, meetings: Meetings, store: Store) -> None:
        held = meetings.train(
            SECTION,
            dt.date(2026, 3, 18),
            "学习安全管理办法",
            actor=HEAD,
            hours=2.5,
            trainees=[HEAD, STAFF],
            at=T0,
        )
        assert held == TrainingHeld(
            held.training, SECTION, dt.date(2026, 3, 18), "学习安全管理办法", 2.5, (HEAD, STAFF)
        )
        # The office trains any unit's staff.
        meetings.train(
            "moral-education",
            dt.date(2026, 4, 2),
            "消防安全知识",
            actor=OFFICE_STAFF,
            hours=2,
            trainees=[OUTSIDER, STAFF],
            at=T0,
        )
        assert meetings.trained(STAFF, 2026)
        assert meetings.training_hours(STAFF, 2026) == 4.5
        assert not meetings.trained(STAFF_2, 2026)
        assert not meetings.trained(STAFF, 2027)
        assert [t.unit for t in meetings.trainings(2026)] == [SECTION, "moral-education"]
        assert meetings.trainings(unit=SECTION) == [held]
        assert meetings.trainings(2027) == []

    def test_refusals_write_nothing(self, meetings: Meetings, store: Store) -> None:
        day = dt.date(2026, 3, 18)
        with pytest.raises(PermissionDenied, match="record trainings of general-office"):
            meetings.train(SECTION, day, "x", actor=OUTSIDER, hours=1, trainees=[STAFF])
        with pytest.raises(InvalidTransition, match="at least one person"):
            meetings.train(SECTION, day, "x", actor=HEAD, hours=1, trainees=[])
        with pytest.raises(ValueError, match="hours"):
            meetings.train(SECTION, day, "x", actor=HEAD, hours=0, trainees=[STAFF])
        assert snapshot(store) == (0, 0)
        meetings.train(SECTION, day, "x", actor=HEAD, hours=1, trainees=[STAFF], training_id="t1")
        with pytest.raises(InvalidTransition, match="training 't1' already exists"):
            meetings.train(
                SECTION, day, "y", actor=HEAD, hours=1, trainees=[STAFF], training_id="t1"
            )
        assert len(store) == 1

    def test_ids_are_unique_in_a_batch(self, meetings: Meetings, store: Store) -> None:
        day = dt.date(2026, 3, 18)
        with meetings.desk.batch():
            first = meetings.train(SECTION, day, "x", actor=HEAD, hours=1, trainees=[STAFF])
            second = meetings.train(
                SECTION, day, "y", actor=HEAD, hours=1, trainees=[STAFF], training_id="tr-00002"
            )
            third = meetings.train(SECTION, day, "z", actor=HEAD, hours=1, trainees=[STAFF])
        assert len({first.training, second.training, third.training}) == 3
        assert len(store) == 3


def test_round_trip_on_sqlite(tmp_path: Path, schedule: Schedule) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    plan = planned(schedule, MeetingKind.TOPIC_STUDY, SECTION, 1)
    with open_store(url) as store:
        meetings = Meetings(store, ORG, schedule=schedule)
        held = meetings.held(
            "topic_study",
            SECTION,
            plan.date,
            "专题研究",
            actor=HEAD,
            attendees=[HEAD, STAFF],
            scheduled=plan.id,
            at=T0,
        )
        pledge = meetings.sign(2026, "general-office.head", "director", actor=HEAD, at=T0)
        training = meetings.train(
            SECTION, plan.date, "安全培训", actor=HEAD, hours=1.5, trainees=[STAFF], at=T0
        )
    with open_store(url) as store:
        meetings = Meetings(store, ORG, schedule=schedule)
        assert meetings.all() == [held]
        assert meetings.pledges(2026) == [pledge]
        assert meetings.trainings() == [training]
        with pytest.raises(InvalidTransition, match="already held"):
            meetings.held(
                "topic_study",
                SECTION,
                plan.date,
                "x",
                actor=HEAD,
                attendees=[HEAD],
                scheduled=plan.id,
            )
        verification = store.verify()
        assert verification.ok
        assert verification.checked == 3
