"""Activities (谁主办谁负责, 二(三).2): approval, safety plan, supervision and findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import dualduty
from dualduty.records import RECORD_KINDS, InvalidTransition, PermissionDenied, Record, school
from dualduty.records.activities import (
    KINDS,
    Activities,
    ActivityGap,
    ActivityRegistered,
    ActivityRules,
    ActivityState,
    Approver,
    SafetyPlanFiled,
    step,
)
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
ORG = dualduty.reference_organisation(schools=3)

# The general office (办公室) hosts: head p010, staff p011/p012; deputy-3 (p004) is in
# charge of it; p001 leads; the office of the leading group is p007 (head), p008, p009.
HOST = "general-office"
HEAD, STAFF, STAFF_2 = "p010", "p011", "p012"
DEPUTY_IN_CHARGE, OTHER_DEPUTY, LEADER = "p004", "p002", "p001"
OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"
OUTSIDER = "p014"  # 德育科 staff

DAY = dt.date(2026, 10, 20)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


def before(n: int) -> dt.datetime:
    return at(DAY - dt.timedelta(days=n))


AFTER = DAY + dt.timedelta(days=1)


@pytest.fixture
def activities(store: Store) -> Activities:
    return Activities(store, ORG)


def snapshot(store: Store) -> tuple[int, int]:
    return len(store), len(store.outbox(state=None))


def register(
    acts: Activities,
    participants: int = 300,
    *,
    school: str | None = None,
    activity_id: str | None = None,
) -> str:
    state = acts.register(
        HOST,
        "秋季研学活动",
        DAY,
        participants,
        actor=STAFF,
        school=school,
        activity_id=activity_id,
        at=before(20),
    )
    return state.id


def gaps(acts: Activities, activity_id: str, today: dt.date) -> list[ActivityGap]:
    return [f.gap for f in acts.state(activity_id).findings(today)]


class TestKinds:
    def test_registered_on_import(self) -> None:
        for cls in KINDS:
            assert RECORD_KINDS[cls.__record_kind__] is cls

    def test_examples_round_trip(self, store: Store) -> None:
        records = [
            Record.of(example, actor=OFFICE_HEAD, at=before(1), subjects=[school("s0001")])
            for cls in KINDS
            for example in cls.examples()
        ]
        store.append(*records)
        assert [e.record for e in store.read()] == records

    def test_participants_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="participants"):
            ActivityRegistered("ac-1", HOST, "x", DAY, 0)

    def test_rules_need_a_level(self) -> None:
        with pytest.raises(ValueError, match="approvers"):
            ActivityRules(approvers=())
        assert ActivityRules(large_scale_approvers="leader").large_scale_approvers == {
            Approver.LEADER
        }


class TestSafetyPlanFindings:
    """Issue 6 acceptance: an activity without a safety plan is flagged."""

    def test_without_a_plan_it_is_flagged_from_its_date(self, activities: Activities) -> None:
        aid = register(activities)
        assert gaps(activities, aid, DAY - dt.timedelta(days=1)) == []
        assert gaps(activities, aid, DAY) == [ActivityGap.NO_SAFETY_PLAN]
        (finding,) = activities.findings(AFTER)
        assert (finding.activity, finding.host, finding.clause) == (aid, HOST, "二(三).2")
        assert "no safety plan" in finding.message

    def test_an_approved_plan_is_not_flagged(self, activities: Activities) -> None:
        aid = register(activities)
        activities.file_plan(aid, "研学安全预案", actor=STAFF, measures=["分组带队"], at=before(10))
        state = activities.approve_plan(aid, actor=HEAD, at=before(5))
        assert state.plan_approved_by == HEAD
        assert state.plan_approved_on == DAY - dt.timedelta(days=5)
        assert activities.findings(AFTER) == []

    def test_a_filed_but_unapproved_plan_is_still_flagged(self, activities: Activities) -> None:
        aid = register(activities)
        activities.file_plan(aid, "研学安全预案", actor=STAFF, at=before(10))
        (finding,) = activities.findings(AFTER)
        assert finding.gap is ActivityGap.NO_SAFETY_PLAN
        assert "is not approved" in finding.message

    def test_a_plan_approved_after_the_date_is_still_flagged(self, activities: Activities) -> None:
        aid = register(activities)
        activities.file_plan(aid, "研学安全预案", actor=STAFF, at=before(10))
        activities.approve_plan(aid, actor=HEAD, at=at(AFTER))
        (finding,) = activities.findings(AFTER + dt.timedelta(days=1))
        assert "after the activity" in finding.message

    def test_approval_on_the_day_counts_in_the_local_zone(self, activities: Activities) -> None:
        aid = register(activities)
        activities.file_plan(aid, "研学安全预案", actor=STAFF, at=before(10))
        # 2026-10-20 07:30 in Beijing is still the 19th in UTC: the organisation's day counts.
        utc = dt.datetime(2026, 10, 19, 23, 30, tzinfo=dt.UTC)
        assert activities.approve_plan(aid, actor=HEAD, at=utc).plan_approved_on == DAY
        assert activities.findings(AFTER) == []

    def test_a_revised_plan_needs_approval_again(self, activities: Activities) -> None:
        aid = register(activities)
        activities.file_plan(aid, "研学安全预案", actor=STAFF, at=before(10))
        activities.approve_plan(aid, actor=HEAD, at=before(9))
        state = activities.file_plan(aid, "研学安全预案（修订）", actor=STAFF_2, at=before(3))
        assert not state.plan_approved
        assert gaps(activities, aid, AFTER) == [ActivityGap.NO_SAFETY_PLAN]
        # Once it took place on an approved plan, the plan stands.
        activities.approve_plan(aid, actor=DEPUTY_IN_CHARGE, at=before(2))
        with pytest.raises(InvalidTransition, match="can no longer be revised"):
            activities.file_plan(aid, "事后补充", actor=STAFF, at=at(AFTER))

    def test_a_cancelled_activity_has_no_findings(
        self, activities: Activities, store: Store
    ) -> None:
        aid = register(activities, participants=3000)
        state = activities.cancel(aid, "天气原因取消", actor=HEAD, at=before(2))
        assert state.cancelled
        assert activities.findings(AFTER) == []
        n = snapshot(store)
        with pytest.raises(InvalidTransition, match="cancelled"):
            activities.file_plan(aid, "预案", actor=STAFF, emergency_plan=True, at=before(1))
        assert snapshot(store) == n

    def test_today_must_be_a_date(self, activities: Activities) -> None:
        aid = register(activities)
        with pytest.raises(TypeError, match="expected a date"):
            activities.state(aid).findings(at(DAY))  # a date and time, not a date


class TestLargeScale:
    def test_threshold(self, activities: Activities) -> None:
        assert not activities.state(register(activities, participants=999)).large_scale
        assert activities.state(register(activities, participants=1000)).large_scale

    def test_needs_approval_by_the_leader_or_the_deputy_in_charge(
        self, activities: Activities, store: Store
    ) -> None:
        aid = register(activities, participants=1500)
        assert set(gaps(activities, aid, DAY)) == {
            ActivityGap.NO_SAFETY_PLAN,
            ActivityGap.NOT_APPROVED,
        }
        n = snapshot(store)
        # The host's head approves small activities, not large-scale ones; nor does a
        # deputy in charge of other sections.
        for actor in (HEAD, OTHER_DEPUTY, OFFICE_HEAD):
            with pytest.raises(PermissionDenied, match="large-scale event of 1500"):
                activities.approve(aid, actor=actor, at=before(5))
        assert snapshot(store) == n
        assert activities.approve(aid, actor=DEPUTY_IN_CHARGE, at=before(5)).approved
        with pytest.raises(InvalidTransition, match="already approved"):
            activities.approve(aid, actor=LEADER, at=before(4))
        other = register(activities, participants=1500)
        assert activities.approve(other, actor=LEADER, at=before(5)).approved_by == LEADER

    def test_small_activities_are_approved_by_the_host_head(self, activities: Activities) -> None:
        aid = register(activities)
        with pytest.raises(PermissionDenied):
            activities.approve(aid, actor=LEADER, at=before(5))
        assert activities.approve(aid, actor=HEAD, at=before(5)).approved_on == DAY - dt.timedelta(
            days=5
        )
        # A small activity needs no approval nor supervision to be in order.
        assert gaps(activities, aid, AFTER) == [ActivityGap.NO_SAFETY_PLAN]

    def test_nobody_supervised_is_flagged_after_the_date(self, activities: Activities) -> None:
        aid = register(activities, participants=2400)
        activities.approve(aid, actor=LEADER, at=before(10))
        activities.file_plan(aid, "运动会安全方案", actor=STAFF, emergency_plan=True, at=before(9))
        activities.approve_plan(aid, actor=DEPUTY_IN_CHARGE, at=before(8))
        assert gaps(activities, aid, DAY) == []
        assert gaps(activities, aid, AFTER) == [ActivityGap.NOT_SUPERVISED]
        state = activities.supervise(
            aid, actor=OFFICE_STAFF, supervisors=[OFFICE_STAFF, HEAD], notes="秩序良好", at=at(DAY)
        )
        assert state.supervisors == (OFFICE_STAFF, HEAD)
        assert activities.findings(AFTER) == []

    def test_large_scale_plan_needs_an_emergency_plan(
        self, activities: Activities, store: Store
    ) -> None:
        aid = register(activities, participants=1200)
        n = snapshot(store)
        with pytest.raises(InvalidTransition, match="emergency plan"):
            activities.file_plan(aid, "运动会安全方案", actor=STAFF, at=before(9))
        assert snapshot(store) == n
        loose = Activities(store, ORG, ActivityRules(large_scale_emergency_plan=False))
        assert loose.file_plan(aid, "运动会安全方案", actor=STAFF, at=before(9)).plan is not None

    def test_rules_are_configurable(self, store: Store) -> None:
        rules = ActivityRules(large_scale_participants=500, large_scale_approvers={"leader"})
        acts = Activities(store, ORG, rules)
        aid = register(acts, participants=600)
        assert acts.state(aid).large_scale
        with pytest.raises(PermissionDenied):
            acts.approve(aid, actor=DEPUTY_IN_CHARGE, at=before(5))
        assert acts.approve(aid, actor=LEADER, at=before(5)).approved


class TestPermissions:
    def test_separation_of_duties(self, activities: Activities, store: Store) -> None:
        aid = register(activities)
        activities.file_plan(aid, "研学安全预案", actor=HEAD, at=before(10))
        n = snapshot(store)
        with pytest.raises(PermissionDenied, match="separation of duties"):
            activities.approve_plan(aid, actor=HEAD, at=before(9))
        assert snapshot(store) == n
        assert activities.approve_plan(aid, actor=DEPUTY_IN_CHARGE, at=before(9)).plan_approved

    def test_only_the_host_registers_and_files(self, activities: Activities, store: Store) -> None:
        with pytest.raises(PermissionDenied, match=f"{OUTSIDER} .*register activities"):
            activities.register(HOST, "研学", DAY, 100, actor=OUTSIDER, at=before(20))
        with pytest.raises(PermissionDenied, match="no person 'nobody'"):
            activities.register(HOST, "研学", DAY, 100, actor="nobody", at=before(20))
        assert snapshot(store) == (0, 0)
        aid = register(activities)
        n = snapshot(store)
        with pytest.raises(PermissionDenied, match="its host general-office does"):
            activities.file_plan(aid, "预案", actor=OFFICE_STAFF, at=before(10))
        with pytest.raises(InvalidTransition, match="no safety plan to approve"):
            activities.approve_plan(aid, actor=HEAD, at=before(9))
        with pytest.raises(InvalidTransition, match="no activity 'ac-99999'"):
            activities.approve("ac-99999", actor=HEAD, at=before(9))
        with pytest.raises(InvalidTransition, match="already exists"):
            register(activities, activity_id=aid)
        assert snapshot(store) == n

    def test_supervision(self, activities: Activities, store: Store) -> None:
        aid = register(activities, participants=1000)
        n = snapshot(store)
        with pytest.raises(PermissionDenied):
            activities.supervise(aid, actor=STAFF, at=at(DAY))
        with pytest.raises(InvalidTransition, match="cannot be supervised on"):
            activities.supervise(aid, actor=HEAD, at=before(1))
        with pytest.raises(InvalidTransition, match="no person 'p999'"):
            activities.supervise(aid, actor=HEAD, supervisors=["p999"], at=at(DAY))
        assert snapshot(store) == n
        for actor in (HEAD, DEPUTY_IN_CHARGE, OFFICE_HEAD):
            activities.supervise(aid, actor=actor, at=at(DAY))
        state = activities.state(aid)
        assert state.supervisors == (HEAD, DEPUTY_IN_CHARGE, OFFICE_HEAD)
        with pytest.raises(InvalidTransition, match="took place"):
            activities.cancel(aid, "改期", actor=HEAD, at=at(AFTER))

    def test_subjects_and_school(self, activities: Activities, store: Store) -> None:
        aid = register(activities, school="s0002")
        (entry,) = store.read(subject="school:s0002")
        assert entry.record.subjects[:3] == (f"activity:{aid}", f"unit:{HOST}", "school:s0002")
        assert activities.state(aid).school == "s0002"
        with pytest.raises(dualduty.errors.DualdutyError, match="no school 's9999'"):
            activities.register(HOST, "研学", DAY, 100, actor=STAFF, school="s9999")


def test_all_by_year_and_the_pure_fold(activities: Activities, store: Store) -> None:
    first = register(activities)
    later = activities.register(HOST, "新年联欢", dt.date(2027, 1, 5), 80, actor=STAFF, at=at(DAY))
    assert [s.id for s in activities.all()] == [first, later.id]
    assert [s.id for s in activities.all(year=2027)] == [later.id]
    records = [e.record for e in store.read(subject=f"activity:{first}")]
    assert ActivityState.fold(records, zone="Asia/Shanghai") == activities.state(first)
    with pytest.raises(InvalidTransition, match="no activity"):
        step(None, Record.of(SafetyPlanFiled(first, "x"), actor=STAFF, at=at(DAY)))


def test_walk_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with open_store(url) as store:
        acts = Activities(store, ORG)
        aid = register(acts, participants=2000, school="s0002")
        acts.approve(aid, actor=DEPUTY_IN_CHARGE, at=before(10))
        acts.file_plan(aid, "安全方案", actor=STAFF, emergency_plan=True, at=before(9))
        acts.approve_plan(aid, actor=LEADER, at=before(8))
        acts.supervise(aid, actor=HEAD, at=at(DAY, 15))
        state = acts.state(aid)
        bad = register(acts)
    with open_store(url) as store:
        acts = Activities(store, ORG)
        assert acts.state(aid) == state
        assert [(f.activity, f.gap) for f in acts.findings(AFTER)] == [
            (bad, ActivityGap.NO_SAFETY_PLAN)
        ]
        verification = store.verify()
        assert verification.ok
        assert verification.checked == 6
