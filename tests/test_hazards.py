"""The hazard loop: records, the pure state machine, and the service's permissions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import dualduty
from dualduty.errors import DualdutyError
from dualduty.records import (
    RECORD_KINDS,
    HazardFound,
    HazardRegistered,
    HazardRules,
    Hazards,
    HazardState,
    HazardStatus,
    InvalidTransition,
    PermissionDenied,
    Record,
    Reinspected,
    Severity,
    escalation_chain,
    school,
    unit,
)
from dualduty.records.hazards import HAZARD_KINDS, step
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=ZONE)
ORG = dualduty.reference_organisation(schools=3)

# In the reference organisation s0002 is packaged to the general office (section head
# p010, staff p011/p012; deputy-3 (p004) is in charge of it) and to deputy-1 (p002).
# The leading group's office sits in 法规安全科: its head p007 and staff p008/p009.
SCHOOL = "s0002"
SECTION_HEAD, SECTION_STAFF, SECTION_STAFF_2 = "p010", "p011", "p012"
OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"
DEPUTY_IN_CHARGE, LEADER = "p004", "p001"
OUTSIDER = "p014"  # 德育科 staff: another section's school


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture
def hazards(store: Store) -> Hazards:
    return Hazards(store, ORG)


def snapshot(store: Store) -> tuple[int, int]:
    return len(store), len(store.outbox(state=None))


class TestKinds:
    def test_registered_on_import(self) -> None:
        for cls in HAZARD_KINDS:
            assert RECORD_KINDS[cls.__record_kind__] is cls

    def test_examples_round_trip(self, store: Store) -> None:
        records = [
            Record.of(example, actor="p007", at=T0, subjects=[school("s0001")])
            for cls in HAZARD_KINDS
            for example in cls.examples()
        ]
        store.append(*records)
        assert [e.record for e in store.read()] == records

    def test_severity_is_checked(self) -> None:
        with pytest.raises(ValueError, match="'grave'"):
            HazardFound("hz-1", "s0001", "grave", "x")

    def test_errors_are_dualduty_errors(self) -> None:
        assert issubclass(PermissionDenied, DualdutyError)
        assert issubclass(InvalidTransition, DualdutyError)


class TestChain:
    def test_section_head_deputy_leader(self) -> None:
        chain = escalation_chain(dualduty.OrgGraph(ORG), SCHOOL)
        assert [p.holder for p in chain] == [SECTION_HEAD, DEPUTY_IN_CHARGE, LEADER]


class TestDeadlines:
    def found(self, severity: Severity, rules: HazardRules | None = None) -> HazardState:
        data = HazardFound("hz-1", SCHOOL, severity, "楼梯扶手松动")
        return step(None, Record.of(data, actor=SECTION_STAFF, at=T0), rules)

    def test_general_closed_within_30_days(self) -> None:
        state = self.found(Severity.GENERAL)
        assert state.close_by == T0 + days(30)
        assert state.plan_by is None
        assert not state.overdue(T0 + days(30))
        assert state.missed(T0 + days(31)) == ("close",)

    def test_major_plan_within_20_close_within_90(self) -> None:
        state = self.found(Severity.MAJOR)
        assert state.plan_by == T0 + days(20)
        assert state.missed(T0 + days(21)) == ("plan",)
        assert state.missed(T0 + days(91)) == ("plan", "close")

    def test_rules_are_overridable(self) -> None:
        state = self.found(Severity.GENERAL, HazardRules(general_close_days=7))
        assert state.overdue(T0 + days(8))

    def test_closed_is_never_overdue(self) -> None:
        state = attrs.evolve(self.found(Severity.GENERAL), status=HazardStatus.CLOSED)
        assert not state.overdue(T0 + days(365))


def test_major_hazard_walk_to_closure_on_sqlite(tmp_path: Path) -> None:
    """Issue 6 acceptance, hazard slice: finding → rejection → escalations → closure."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    with open_store(url) as store:
        hz = Hazards(store, ORG)

        def new_messages(before: int) -> list[tuple[str, bool, str]]:
            items = store.outbox(state=None)[before:]
            return [(i.message.recipient, i.message.urgent, i.message.title) for i in items]

        # Found by the section's staff: reported at once, same transaction, to the office's
        # head, the deputy in charge and the leader (the default route, 三.2).
        state = hz.find(SCHOOL, "major", "教学楼外墙瓷砖大面积空鼓", actor=SECTION_STAFF, at=T0)
        assert state.status is HazardStatus.FOUND
        assert len(store) == 1
        items = store.outbox()
        assert [(i.message.recipient, i.message.urgent, i.cause) for i in items] == [
            (OFFICE_HEAD, True, 1),
            (DEPUTY_IN_CHARGE, True, 1),
            (LEADER, True, 1),
        ]
        assert "重大隐患" in items[0].message.title

        state = hz.register(state.id, actor=OFFICE_STAFF, at=T0 + dt.timedelta(hours=1))
        assert state.status is HazardStatus.REGISTERED
        assert state.listed

        # No plan after 20 days: overdue, escalated to the deputy in charge.
        n = len(store.outbox(state=None))
        (esc,) = hz.escalate_overdue(T0 + days(21), actor=OFFICE_HEAD)
        assert esc.escalation_level == 1
        assert new_messages(n) == [
            (
                DEPUTY_IN_CHARGE,
                True,
                f"隐患督办 {state.id}：{ORG.schools[1].name}（逾期：未按期制定整改方案）",
            )
        ]
        # Again the same day: nothing more (at most once per escalate_every_days).
        assert hz.escalate_overdue(T0 + days(22), actor=OFFICE_HEAD) == []

        state = hz.plan(
            state.id,
            actor=SECTION_HEAD,
            measures=["拆除空鼓瓷砖", "外墙重新施工"],
            responsible=SECTION_HEAD,
            time_limit=(T0 + days(60)).date(),
            funds_yuan=120_000,
            safeguards=["设置警戒区", "学生绕行"],
            at=T0 + days(23),
        )
        assert state.status is HazardStatus.RECTIFYING
        state = hz.claim(state.id, actor=SECTION_STAFF, at=T0 + days(40))
        assert state.status is HazardStatus.RECTIFIED

        # The claimer may not verify their own work: refused, nothing written.
        before = snapshot(store)
        with pytest.raises(PermissionDenied, match="separation of duties"):
            hz.reinspect(state.id, actor=SECTION_STAFF, accepted=True, at=T0 + days(41))
        assert snapshot(store) == before

        state = hz.reinspect(
            state.id, actor=SECTION_STAFF_2, accepted=False, notes="仍有空鼓", at=T0 + days(42)
        )
        assert state.status is HazardStatus.RECTIFYING
        assert state.rejections == 1

        # Still open after 90 days: escalated again, to the leader.
        n = len(store.outbox(state=None))
        (esc,) = hz.escalate_overdue(T0 + days(91), actor=OFFICE_HEAD)
        assert esc.escalation_level == 2
        (msg,) = new_messages(n)
        assert msg[:2] == (LEADER, True)
        assert "未按期销号" in msg[2]
        # The top of the chain: no further level.
        assert hz.escalate_overdue(T0 + days(120), actor=OFFICE_HEAD) == []

        state = hz.claim(state.id, actor=SECTION_STAFF, at=T0 + days(95))
        state = hz.reinspect(state.id, actor=OFFICE_STAFF, accepted=True, at=T0 + days(96))
        assert state.status is HazardStatus.ACCEPTED

        # Only the office closes a major hazard.
        before = snapshot(store)
        with pytest.raises(PermissionDenied, match="the office does"):
            hz.close(state.id, actor=SECTION_HEAD, at=T0 + days(97))
        assert snapshot(store) == before
        state = hz.close(state.id, actor=OFFICE_HEAD, notes="复查合格，销号", at=T0 + days(97))
        assert state.status is HazardStatus.CLOSED
        assert not state.overdue(T0 + days(200))

        kinds = [e.record.kind for e in store.read(subject=school(SCHOOL))]
        assert kinds == [
            "hazard-found",
            "hazard-registered",
            "hazard-escalated",
            "hazard-planned",
            "hazard-claimed",
            "hazard-reinspected",
            "hazard-escalated",
            "hazard-claimed",
            "hazard-reinspected",
            "hazard-closed",
        ]
        assert len(list(store.read(subject=unit("general-office")))) == len(kinds)
        # Three messages for the finding, one per escalation; each caused by its record.
        causes = [(i.cause, i.message.recipient) for i in store.outbox(state=None)]
        assert causes == [
            (1, OFFICE_HEAD),
            (1, DEPUTY_IN_CHARGE),
            (1, LEADER),
            (3, DEPUTY_IN_CHARGE),
            (7, LEADER),
        ]
        assert hz.state(state.id) == state
        verification = store.verify()
        assert verification.ok
        assert verification.checked == len(kinds)


class TestWho:
    def test_the_office_may_record_a_hazard_at_any_school(self, hazards: Hazards) -> None:
        state = hazards.find(SCHOOL, "general", "配电箱未上锁", actor=OFFICE_STAFF, at=T0)
        assert state.found_by == OFFICE_STAFF

    def test_state_names_the_inspection_that_found_it(self, hazards: Hazards) -> None:
        state = hazards.find(SCHOOL, "general", "x", actor=SECTION_STAFF, inspection="in-7", at=T0)
        assert hazards.state(state.id).inspection == "in-7"

    def test_a_major_hazard_recorded_late_has_missed_its_report(self) -> None:
        data = HazardFound("hz-1", SCHOOL, Severity.MAJOR, "围墙倾斜", reported=False)
        state = step(None, Record.of(data, actor=SECTION_STAFF, at=T0))
        assert state.report_by == T0 + dt.timedelta(hours=1)
        assert state.missed(T0 + dt.timedelta(minutes=30)) == ()
        assert state.missed(T0 + dt.timedelta(hours=2)) == ("report",)
        registered = Record.of(
            HazardRegistered("hz-1", listed=True), actor=OFFICE_STAFF, at=T0 + days(1)
        )
        late = step(state, registered)
        assert late.reported_late
        assert late.missed(T0 + days(1)) == ("report",)


class TestRefusals:
    def test_wrong_section_cannot_find(self, hazards: Hazards, store: Store) -> None:
        with pytest.raises(PermissionDenied, match=f"{OUTSIDER} .*school {SCHOOL}"):
            hazards.find(SCHOOL, "general", "电线裸露", actor=OUTSIDER, at=T0)
        assert snapshot(store) == (0, 0)

    def test_wrong_section_cannot_act_on_a_hazard(self, hazards: Hazards, store: Store) -> None:
        hid = hazards.find(SCHOOL, "general", "电线裸露", actor=SECTION_STAFF, at=T0).id
        hazards.register(hid, actor=OFFICE_STAFF, at=T0)
        before = snapshot(store)
        with pytest.raises(PermissionDenied):
            hazards.plan(
                hid,
                actor=OUTSIDER,
                measures=["更换线路"],
                responsible=OUTSIDER,
                time_limit=T0.date(),
                at=T0,
            )
        with pytest.raises(PermissionDenied, match="the office does"):
            hazards.register(hid, actor=SECTION_HEAD, at=T0)
        with pytest.raises(PermissionDenied):
            hazards.escalate_overdue(T0 + days(60), actor=SECTION_HEAD)
        assert snapshot(store) == before

    def test_unknown_person_is_refused(self, hazards: Hazards, store: Store) -> None:
        with pytest.raises(PermissionDenied, match="no person 'nobody'"):
            hazards.find(SCHOOL, "general", "电线裸露", actor="nobody", at=T0)
        assert snapshot(store) == (0, 0)

    def test_package_holding_deputy_may_find(self, hazards: Hazards) -> None:
        assert hazards.find(SCHOOL, "general", "电线裸露", actor="p002", at=T0).found_by == "p002"

    def test_invalid_transition_writes_nothing(self, hazards: Hazards, store: Store) -> None:
        hid = hazards.find(SCHOOL, "general", "电线裸露", actor=SECTION_STAFF, at=T0).id
        before = snapshot(store)
        with pytest.raises(InvalidTransition, match="is found: cannot apply 'hazard-claimed'"):
            hazards.claim(hid, actor=SECTION_STAFF, at=T0)
        with pytest.raises(InvalidTransition, match="no hazard 'hz-99999'"):
            hazards.register("hz-99999", actor=OFFICE_STAFF, at=T0)
        with pytest.raises(InvalidTransition, match="already exists"):
            hazards.find(SCHOOL, "general", "x", actor=SECTION_STAFF, hazard_id=hid, at=T0)
        assert snapshot(store) == before

    def test_major_plan_needs_safeguards(self, hazards: Hazards, store: Store) -> None:
        hid = hazards.find(SCHOOL, "major", "围墙倾斜", actor=SECTION_STAFF, at=T0).id
        hazards.register(hid, actor=OFFICE_STAFF, at=T0)
        before = snapshot(store)
        with pytest.raises(InvalidTransition, match="interim safeguards"):
            hazards.plan(
                hid,
                actor=SECTION_HEAD,
                measures=["加固"],
                responsible=SECTION_HEAD,
                time_limit=T0.date(),
                at=T0,
            )
        assert snapshot(store) == before

    def test_section_head_closes_a_general_hazard(self, hazards: Hazards) -> None:
        hid = hazards.find(SCHOOL, "general", "灭火器过期", actor=SECTION_STAFF, at=T0).id
        hazards.register(hid, actor=OFFICE_STAFF, at=T0)
        hazards.plan(
            hid,
            actor=SECTION_HEAD,
            measures=["更换"],
            responsible=SECTION_STAFF,
            time_limit=T0.date(),
            at=T0,
        )
        hazards.claim(hid, actor=SECTION_STAFF, at=T0)
        hazards.reinspect(hid, actor=SECTION_HEAD, accepted=True, at=T0)
        assert hazards.close(hid, actor=SECTION_HEAD, at=T0).status is HazardStatus.CLOSED


# -- any sequence of commands ------------------------------------------------------------

#: The transitions the loop allows, as (state before, command) -> state after.
ALLOWED = {
    (None, "find"): HazardStatus.FOUND,
    (HazardStatus.FOUND, "register"): HazardStatus.REGISTERED,
    (HazardStatus.REGISTERED, "plan"): HazardStatus.RECTIFYING,
    (HazardStatus.RECTIFYING, "plan"): HazardStatus.RECTIFYING,
    (HazardStatus.RECTIFYING, "claim"): HazardStatus.RECTIFIED,
    (HazardStatus.RECTIFIED, "accept"): HazardStatus.ACCEPTED,
    (HazardStatus.RECTIFIED, "reject"): HazardStatus.RECTIFYING,
    (HazardStatus.ACCEPTED, "close"): HazardStatus.CLOSED,
}
COMMANDS = ["find", "register", "plan", "claim", "accept", "reject", "close", "escalate"]
PEOPLE = [SECTION_HEAD, SECTION_STAFF, SECTION_STAFF_2, OFFICE_HEAD, OFFICE_STAFF, OUTSIDER]


def run(hz: Hazards, command: str, actor: str, at: dt.datetime) -> None:
    hid = "hz-00001"
    if command == "find":
        hz.find(SCHOOL, "major", "围墙倾斜", actor=actor, hazard_id=hid, at=at)
    elif command == "register":
        hz.register(hid, actor=actor, at=at)
    elif command == "plan":
        hz.plan(
            hid,
            actor=actor,
            measures=["加固"],
            responsible=SECTION_HEAD,
            time_limit=at.date(),
            safeguards=["警戒"],
            at=at,
        )
    elif command == "claim":
        hz.claim(hid, actor=actor, at=at)
    elif command in ("accept", "reject"):
        hz.reinspect(hid, actor=actor, accepted=command == "accept", at=at)
    elif command == "close":
        hz.close(hid, actor=actor, at=at)
    else:
        hz.escalate_overdue(at, actor=actor)


OFFICE_ONLY = {"register", "close", "escalate"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(0, 40))
def test_any_sequence_follows_the_loop(data: st.DataObject, length: int) -> None:
    """Random commands, mostly ones that fit (so runs get round the loop), by anyone."""
    with open_store("memory:") as store:
        hz = Hazards(store, ORG)
        at = T0
        for _ in range(length):
            states = hz.all()
            status = states[0].status if states else None
            fitting = [c for (s, c) in ALLOWED if s is status] + ["escalate"]
            command = data.draw(st.sampled_from(fitting) | st.sampled_from(COMMANDS))
            likely = [OFFICE_HEAD, OFFICE_STAFF] if command in OFFICE_ONLY else PEOPLE[:-1]
            actor = data.draw(st.sampled_from(likely) | st.sampled_from(PEOPLE))
            at += days(data.draw(st.integers(0, 40)))
            before = snapshot(store)
            try:
                run(hz, command, actor, at)
            except (PermissionDenied, InvalidTransition):
                assert snapshot(store) == before  # a refused command writes nothing
                continue
            after = hz.all()
            if command == "escalate":
                assert [s.status for s in after] == [status] * len(after)
                continue
            assert (status, command) in ALLOWED
            assert after[0].status is ALLOWED[status, command]
            assert len(store) == before[0] + 1
        # The folded state is what the pure fold of the stored records says.
        states = hz.all()
        records = [e.record for e in store.read()]
        event(f"ended {states[0].status.value if states else 'empty'}")
        if states:
            assert HazardState.fold(records, hz.rules) == states[0]
            assert states[0].escalation_level <= 2
            if states[0].status is HazardStatus.CLOSED:
                assert records[-1].actor in hz.office_members()
            for record in records:
                if isinstance(record.data, Reinspected):
                    assert record.actor != _claimer_before(records, record)
        else:
            assert records == []


def _claimer_before(records: list[Record], target: Record) -> str | None:
    claimer = None
    for record in records:
        if record is target:
            return claimer
        if record.kind == "hazard-claimed":
            claimer = record.actor
    return claimer


class TestWhatTheServiceRemembers:
    """The service folds only what came after its own last record of a hazard."""

    def test_sees_what_another_writer_appended(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'r.db'}"
        with open_store(url) as mine, open_store(url) as theirs:
            hz = Hazards(mine, ORG)
            other = Hazards(theirs, ORG)
            hid = hz.find(SCHOOL, "general", "楼梯扶手松动", actor=SECTION_STAFF, at=T0).id
            other.register(hid, actor=OFFICE_STAFF, at=T0 + days(1))
            # Registered by the other writer: registering again is refused here too.
            with pytest.raises(InvalidTransition, match="is registered"):
                hz.register(hid, actor=OFFICE_STAFF, at=T0 + days(2))
            state = hz.plan(
                hid, actor=SECTION_HEAD, measures=["加固"], responsible=SECTION_HEAD,
                time_limit=(T0 + days(10)).date(), at=T0 + days(2),
            )  # fmt: skip
            assert state.status is HazardStatus.RECTIFYING

    def test_forgets_what_a_rolled_back_batch_appended(self, store: Store) -> None:
        hz = Hazards(store, ORG)

        class Stop(Exception):
            pass

        def found_registered_then_stopped() -> None:
            with hz.desk.batch():
                hz.find(SCHOOL, "general", "x", actor=SECTION_STAFF, at=T0, hazard_id=hid)
                hz.register(hid, actor=OFFICE_STAFF, at=T0)
                raise Stop

        hid = "hz-1"
        with pytest.raises(Stop):
            found_registered_then_stopped()
        assert len(store) == 0
        with pytest.raises(InvalidTransition, match="no hazard"):
            hz.register(hid, actor=OFFICE_STAFF, at=T0)
        # The same id, found anew, starts from scratch.
        again = hz.find(SCHOOL, "general", "y", actor=SECTION_STAFF, at=T0, hazard_id=hid)
        assert hz.register(again.id, actor=OFFICE_STAFF, at=T0).description == "y"
