"""Accountability cases (立案、调查、处理): the course of a case and who may act on it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import dualduty
from dualduty.records import RECORD_KINDS, Hazards, InvalidTransition, PermissionDenied, Record
from dualduty.records.accountability import (
    KINDS,
    Accountability,
    CaseClosed,
    CaseDecided,
    CaseInvestigated,
    CaseOpened,
    CaseState,
    CaseStatus,
    Decision,
    Outcome,
    step,
)
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=ZONE)
ORG = dualduty.reference_organisation(schools=3)

OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"  # 法规安全科: the leading group's office
LEADER, DEPUTY = "p001", "p004"
SECTION_HEAD, SECTION_STAFF = "p010", "p011"  # 办公室
OUTSIDER = "p014"


def hours(n: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=n)


@pytest.fixture
def cases(store: Store) -> Accountability:
    return Accountability(store, ORG)


def snapshot(store: Store) -> tuple[int, int]:
    return len(store), len(store.outbox(state=None))


def test_kinds_registered_and_round_trip(store: Store) -> None:
    for cls in KINDS:
        assert RECORD_KINDS[cls.__record_kind__] is cls
    records = [Record.of(e, actor=OFFICE_HEAD, at=T0) for cls in KINDS for e in cls.examples()]
    store.append(*records)
    assert [e.record for e in store.read()] == records


def test_outcomes() -> None:
    assert [o.zh for o in Outcome] == [
        "不予追责",
        "批评教育",
        "通报批评",
        "诫勉",
        "组织处理",
        "党纪政务处分",
        "移送司法机关",
    ]
    assert [o for o in Outcome if not o.accountable] == [Outcome.NO_FAULT]
    with pytest.raises(ValueError, match="'fired'"):
        Decision(SECTION_STAFF, "fired")


def test_case_lifecycle(cases: Accountability, store: Store) -> None:
    state = cases.open(
        [SECTION_HEAD, SECTION_STAFF], "分包学校重大隐患逾期未整改", actor=OFFICE_HEAD, at=T0
    )
    assert (state.status, state.persons, state.opened_by) == (
        CaseStatus.OPENED,
        (SECTION_HEAD, SECTION_STAFF),
        OFFICE_HEAD,
    )
    state = cases.investigate(state.id, "整改方案未按期落实", actor=OFFICE_STAFF, at=hours(1))
    state = cases.investigate(state.id, "科室负责人未督促", actor=DEPUTY, at=hours(2))
    assert state.status is CaseStatus.INVESTIGATING
    assert state.findings == ("整改方案未按期落实", "科室负责人未督促")
    assert state.investigators == (OFFICE_STAFF, DEPUTY)
    state = cases.decide(
        state.id,
        {SECTION_STAFF: "criticism", SECTION_HEAD: Outcome.CIRCULATED_CRITICISM},
        actor=LEADER,
        summary="科室负责人负主要责任",
        at=hours(3),
    )
    assert state.status is CaseStatus.DECIDED
    assert [d.person for d in state.decisions] == [SECTION_HEAD, SECTION_STAFF]
    assert state.outcome_of(SECTION_HEAD) is Outcome.CIRCULATED_CRITICISM
    assert state.outcome_of(OUTSIDER) is None
    state = cases.close(state.id, actor=OFFICE_HEAD, notes="已执行", at=hours(4))
    assert not state.open
    assert cases.state(state.id) == state
    for person_id in (SECTION_HEAD, SECTION_STAFF):
        kinds = [e.record.kind for e in store.read(subject=f"person:{person_id}")]
        assert kinds == [
            "case-opened",
            "case-investigated",
            "case-investigated",
            "case-decided",
            "case-closed",
        ]
    assert [s.id for s in cases.all(person=SECTION_STAFF)] == [state.id]
    assert cases.all(person=OUTSIDER) == []
    assert [s.id for s in cases.all(year=2026)] == [state.id]
    assert cases.all(year=2025) == []


class TestTransitions:
    def test_invalid_transitions_write_nothing(self, cases: Accountability, store: Store) -> None:
        cid = cases.open([SECTION_STAFF], "违规", actor=OFFICE_HEAD, at=T0).id
        n = snapshot(store)
        with pytest.raises(InvalidTransition, match="is opened: cannot apply 'case-decided'"):
            cases.decide(cid, {SECTION_STAFF: "criticism"}, actor=OFFICE_HEAD, at=T0)
        with pytest.raises(InvalidTransition, match="is opened: cannot apply 'case-closed'"):
            cases.close(cid, actor=OFFICE_HEAD, at=T0)
        with pytest.raises(InvalidTransition, match="no case 'cs-99999'"):
            cases.investigate("cs-99999", "x", actor=OFFICE_HEAD, at=T0)
        with pytest.raises(InvalidTransition, match="already exists"):
            cases.open([SECTION_STAFF], "x", actor=OFFICE_HEAD, case_id=cid, at=T0)
        assert snapshot(store) == n
        cases.investigate(cid, "属实", actor=OFFICE_HEAD, at=T0)
        n = snapshot(store)
        with pytest.raises(InvalidTransition, match=f"no outcome for {SECTION_STAFF}"):
            cases.decide(cid, {}, actor=OFFICE_HEAD, at=T0)
        with pytest.raises(InvalidTransition, match=f"{OUTSIDER} not in the case"):
            cases.decide(
                cid, {SECTION_STAFF: "criticism", OUTSIDER: "criticism"}, actor=LEADER, at=T0
            )
        with pytest.raises(InvalidTransition, match="one outcome per person"):
            cases.decide(
                cid,
                [Decision(SECTION_STAFF, "criticism"), Decision(SECTION_STAFF, "no_fault")],
                actor=LEADER,
                at=T0,
            )
        assert snapshot(store) == n
        cases.decide(cid, [Decision(SECTION_STAFF, "no_fault", "情节轻微")], actor=LEADER, at=T0)
        with pytest.raises(InvalidTransition, match="is decided: cannot apply 'case-investigated'"):
            cases.investigate(cid, "补充", actor=OFFICE_HEAD, at=T0)
        cases.close(cid, actor=LEADER, at=T0)
        with pytest.raises(InvalidTransition, match="is closed"):
            cases.close(cid, actor=LEADER, at=T0)

    def test_the_pure_fold(self) -> None:
        def rec(data: object) -> Record:
            return Record.of(data, actor=OFFICE_HEAD, at=T0)

        opened = rec(CaseOpened("cs-1", [SECTION_STAFF], "违规"))
        state = CaseState.fold(
            [
                opened,
                rec(CaseInvestigated("cs-1", "属实")),
                rec(CaseDecided("cs-1", [Decision(SECTION_STAFF, "admonishment")])),
                rec(CaseClosed("cs-1")),
            ]
        )
        assert state is not None
        assert state.status is CaseStatus.CLOSED
        assert CaseState.fold([]) is None
        with pytest.raises(InvalidTransition, match="already open"):
            CaseState.fold([opened, opened])
        with pytest.raises(InvalidTransition, match="no case 'cs-1'"):
            step(None, rec(CaseClosed("cs-1")))
        with pytest.raises(InvalidTransition, match="'cs-2' applied to 'cs-1'"):
            step(step(None, opened), rec(CaseInvestigated("cs-2", "x")))


class TestPermissions:
    def test_only_the_office_or_the_leading_group(
        self, cases: Accountability, store: Store
    ) -> None:
        for actor in (SECTION_HEAD, OUTSIDER):
            with pytest.raises(PermissionDenied, match="the office or the leading group does"):
                cases.open([SECTION_STAFF], "违规", actor=actor, at=T0)
        assert snapshot(store) == (0, 0)
        cid = cases.open([SECTION_STAFF], "违规", actor=DEPUTY, at=T0).id
        n = snapshot(store)
        with pytest.raises(PermissionDenied):
            cases.investigate(cid, "x", actor=SECTION_HEAD, at=T0)
        assert snapshot(store) == n

    def test_no_one_acts_on_their_own_case(self, cases: Accountability, store: Store) -> None:
        with pytest.raises(PermissionDenied, match=f"{OFFICE_STAFF} is a person of the case"):
            cases.open([OFFICE_STAFF], "违规", actor=OFFICE_STAFF, at=T0)
        cid = cases.open([OFFICE_STAFF, DEPUTY], "违规", actor=OFFICE_HEAD, at=T0).id
        n = snapshot(store)
        for actor in (OFFICE_STAFF, DEPUTY):
            with pytest.raises(PermissionDenied, match="is a person of the case"):
                cases.investigate(cid, "无问题", actor=actor, at=T0)
        assert snapshot(store) == n
        cases.investigate(cid, "属实", actor=LEADER, at=T0)
        with pytest.raises(PermissionDenied, match=f"may not decide case {cid}"):
            cases.decide(cid, {OFFICE_STAFF: "no_fault", DEPUTY: "no_fault"}, actor=DEPUTY)
        assert snapshot(store) == (n[0] + 1, n[1])

    def test_persons_and_sources_must_exist(self, cases: Accountability, store: Store) -> None:
        with pytest.raises(InvalidTransition, match="no person 'p999'"):
            cases.open(["p999"], "违规", actor=OFFICE_HEAD, at=T0)
        with pytest.raises(InvalidTransition, match="no hazard 'hz-00001' in the record"):
            cases.open([SECTION_STAFF], "违规", actor=OFFICE_HEAD, hazard="hz-00001", at=T0)
        with pytest.raises(InvalidTransition, match="at least one person"):
            cases.open([], "违规", actor=OFFICE_HEAD, at=T0)
        assert snapshot(store) == (0, 0)


def test_a_case_from_a_hazard_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with open_store(url) as store:
        hazards = Hazards(store, ORG)
        hz = hazards.find("s0002", "major", "围墙倾斜", actor=SECTION_STAFF, at=T0)
        cases = Accountability(store, ORG)
        state = cases.open(
            [SECTION_HEAD], "重大隐患未及时整改", actor=OFFICE_HEAD, hazard=hz.id, at=hours(1)
        )
        cases.investigate(state.id, "属实", actor=OFFICE_STAFF, at=hours(2))
        cases.decide(state.id, {SECTION_HEAD: "admonishment"}, actor=LEADER, at=hours(3))
        state = cases.close(state.id, actor=OFFICE_HEAD, at=hours(4))
        # The case does not enter the hazard's own records: the hazard still folds.
        assert hazards.state(hz.id).status.value == "found"
    with open_store(url) as store:
        cases = Accountability(store, ORG)
        assert cases.state(state.id) == state
        assert state.hazard == hz.id
        verification = store.verify()
        assert verification.ok
        assert verification.checked == 5
