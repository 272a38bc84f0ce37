"""Inspections of packaged schools: visits carried out, findings opening hazards, refusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest

import dualduty
from dualduty.calendars import calendar_for
from dualduty.errors import DualdutyError
from dualduty.model.schedule import Visit
from dualduty.planning import plan_schedule
from dualduty.records import (
    Desk,
    Entry,
    HazardFound,
    HazardRules,
    Hazards,
    HazardStatus,
    InvalidTransition,
    PermissionDenied,
    Severity,
    hazard,
    school,
)
from dualduty.records.inspections import Inspections, done_visits, inspection
from dualduty.records.kinds import Finding
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
ORG = dualduty.reference_organisation(schools=3)
SCHEDULE = plan_schedule(ORG, calendar_for(ORG, [2026]), 2026)

# In the reference organisation s0002 is packaged to the general office (section head
# p010, staff p011/p012 holding its staff posts) and to deputy-1 (p002). The leading
# group's office sits in 法规安全科 (head p007, staff p008).
SCHOOL = "s0002"
SECTION, DEPUTY_POST = "general-office", "deputy-1"
SECTION_HEAD, SECTION_STAFF, SECTION_STAFF_2 = "p010", "p011", "p012"
DEPUTY = "p002"
OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"
OUTSIDER = "p014"  # 德育科 staff: another section's school


def visit_of(holder: str, *, announced: bool) -> Visit:
    """The first scheduled 2026 visit of s0002 by *holder* with that announced flag."""
    return next(
        v
        for v in SCHEDULE.visits
        if v.school == SCHOOL and v.holder == holder and v.announced is announced
    )


def evening(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 18, 0, tzinfo=ZONE)


DAY = dt.date(2026, 9, 15)
AT = evening(DAY)


@pytest.fixture
def inspections(store: Store) -> Inspections:
    return Inspections(store, ORG, schedule=SCHEDULE)


def snapshot(store: Store) -> tuple[int, int]:
    return len(store), len(store.outbox(state=None))


class TestScheduledVisits:
    def test_section_visit_carried_out(self, inspections: Inspections, store: Store) -> None:
        visit = visit_of(SECTION, announced=False)
        done = inspections.record(
            SCHOOL,
            actor=SECTION_STAFF,
            holder=SECTION,
            date=visit.date,
            visit=visit.id,
            findings=["值班记录完整"],
            at=evening(visit.date),
        )
        # Announced is the scheduled visit's own flag; the inspector is the actor.
        assert (done.visit, done.announced, done.inspectors) == (visit.id, False, (SECTION_STAFF,))
        assert not done.ad_hoc
        assert done.findings == (Finding("值班记录完整"),)
        assert inspections.get(done.inspection) == done
        assert inspections.of_school(SCHOOL) == [done]
        assert done_visits(store) == {visit.id: done}
        assert done_visits(store, year=2025) == {}
        (entry,) = store.read()
        assert entry.record.subjects == (
            inspection(done.inspection),
            school(SCHOOL),
            "unit:" + SECTION,
            f"visit:{visit.id}",
        )
        assert entry.record.actor == SECTION_STAFF

    def test_deputy_visit_carried_out(self, inspections: Inspections, store: Store) -> None:
        visit = visit_of(DEPUTY_POST, announced=True)
        done = inspections.record(
            SCHOOL,
            actor=DEPUTY,
            holder=DEPUTY_POST,
            date=visit.date,
            visit=visit.id,
            inspectors=[DEPUTY, SECTION_HEAD],
            at=evening(visit.date),
        )
        assert (done.announced, done.inspectors) == (True, (DEPUTY, SECTION_HEAD))
        (entry,) = store.read(subject=f"post:{DEPUTY_POST}")
        assert entry.record.subjects == (
            inspection(done.inspection),
            school(SCHOOL),
            "unit:" + SECTION,
            f"post:{DEPUTY_POST}",
            f"visit:{visit.id}",
        )

    def test_every_scheduled_visit_once(self, inspections: Inspections, store: Store) -> None:
        """All of s0002's 2026 visits, each recorded by someone answering for its package."""
        by = {SECTION: SECTION_HEAD, DEPUTY_POST: DEPUTY}
        visits = [v for v in SCHEDULE.visits if v.school == SCHOOL]
        recorded = [
            inspections.record(
                SCHOOL,
                actor=by[v.holder],
                holder=v.holder,
                date=v.date,
                visit=v.id,
                at=evening(v.date),
            )
            for v in visits
        ]
        assert [r.announced for r in recorded] == [v.announced for v in visits]
        assert done_visits(store, year=2026) == {
            v.id: r for v, r in zip(visits, recorded, strict=True)
        }
        for quarter in (1, 2, 3, 4):
            in_quarter = inspections.all(year=2026, quarter=quarter)
            assert [r.visit for r in in_quarter] == [v.id for v in visits if v.quarter == quarter]
        assert inspections.all() == recorded
        assert len({r.inspection for r in recorded}) == len(recorded)

    def test_announced_may_differ_from_the_plan(self, inspections: Inspections) -> None:
        visit = visit_of(SECTION, announced=True)
        done = inspections.record(
            SCHOOL,
            actor=SECTION_HEAD,
            holder=SECTION,
            date=visit.date,
            visit=visit.id,
            announced=False,
            at=evening(visit.date),
        )
        assert not done.announced


class TestAdHoc:
    def test_ad_hoc_is_announced_by_default(self, inspections: Inspections) -> None:
        done = inspections.record(
            SCHOOL, actor=SECTION_STAFF_2, holder=SECTION, date=DAY, summary="开学检查", at=AT
        )
        assert done.ad_hoc
        assert done.announced
        assert done.summary == "开学检查"
        assert done.date == DAY

    def test_unannounced(self, inspections: Inspections, store: Store) -> None:
        done = inspections.record(
            SCHOOL, actor=DEPUTY, holder=DEPUTY_POST, date=DAY, announced=False, at=AT
        )
        assert (done.ad_hoc, done.announced) == (True, False)
        assert done_visits(store) == {}
        assert inspections.get(done.inspection).announced is False

    def test_the_office_may_record(self, inspections: Inspections) -> None:
        done = inspections.record(
            SCHOOL,
            actor=OFFICE_STAFF,
            holder=SECTION,
            date=DAY,
            inspectors=[OFFICE_STAFF, SECTION_STAFF],
            findings=[("食堂留样记录完整", None)],
            at=AT,
        )
        assert done.inspectors == (OFFICE_STAFF, SECTION_STAFF)

    def test_at_defaults_to_the_desk_clock(self, store: Store) -> None:
        desk = Desk(store, ORG, clock=lambda: AT)
        done = Inspections(store, ORG, desk=desk).record(
            SCHOOL, actor=SECTION_STAFF, holder=SECTION, date=DAY
        )
        (entry,) = store.read(subject=inspection(done.inspection))
        assert entry.record.at == AT

    def test_given_id_and_quarter_filter(self, inspections: Inspections) -> None:
        first = inspections.record(
            SCHOOL, actor=SECTION_STAFF, holder=SECTION, date=DAY, inspection_id="in-a", at=AT
        )
        spring = dt.date(2026, 4, 1)
        second = inspections.record(
            SCHOOL, actor=SECTION_STAFF, holder=SECTION, date=spring, at=evening(spring)
        )
        assert first.inspection == "in-a"
        assert inspections.all(year=2026, quarter=3) == [first]
        assert inspections.all(quarter=2) == [second]
        assert inspections.all(year=2027) == []
        assert inspections.all() == [first, second]
        with pytest.raises(ValueError, match="quarter"):
            inspections.all(quarter=5)


class TestFindingsOpenHazards:
    def test_general_and_major_in_one_transaction(
        self, inspections: Inspections, store: Store
    ) -> None:
        commits: list[Sequence[Entry]] = []
        store.observe(commits.append)
        done = inspections.record(
            SCHOOL,
            actor=SECTION_STAFF,
            holder=SECTION,
            date=DAY,
            findings=[
                ("消防通道堆放杂物", "general"),
                Finding("教学楼外墙瓷砖空鼓", Severity.MAJOR),
                "值班记录完整",
            ],
            at=AT,
        )
        general, major, remark = done.findings
        assert (remark.severity, remark.hazard) == (None, None)
        assert general.hazard is not None
        assert major.hazard is not None
        assert general.hazard != major.hazard

        # One commit holds both hazards and the inspection; the outbox grew with it.
        (entries,) = commits
        assert [e.record.kind for e in entries] == ["hazard-found", "hazard-found", "inspection"]
        assert snapshot(store) == (3, 3)  # the major hazard: office head, deputy, leader
        message = store.outbox()[0]
        assert (message.message.recipient, message.message.urgent) == (OFFICE_HEAD, True)
        assert {m.cause for m in store.outbox()} == {entries[1].seq}

        hz = inspections.hazards
        for finding, severity in ((general, Severity.GENERAL), (major, Severity.MAJOR)):
            assert finding.hazard is not None
            state = hz.state(finding.hazard)
            assert (state.status, state.severity, state.description) == (
                HazardStatus.FOUND,
                severity,
                finding.text,
            )
            assert (state.found_by, state.found_at) == (SECTION_STAFF, AT)
            (found,) = store.read(subject=hazard(finding.hazard))
            assert isinstance(found.record.data, HazardFound)
            assert found.record.data.inspection == done.inspection
        # The found hazards go on round their loop.
        assert hz.register(major.hazard, actor=OFFICE_STAFF, at=AT).listed

    def test_rules_reach_the_hazards(self, store: Store) -> None:
        ins = Inspections(store, ORG, HazardRules(general_close_days=7))
        done = ins.record(
            SCHOOL,
            actor=SECTION_STAFF,
            holder=SECTION,
            date=DAY,
            findings=[("灭火器过期", Severity.GENERAL)],
            at=AT,
        )
        hazard_id = done.findings[0].hazard
        assert hazard_id is not None
        assert ins.hazards.state(hazard_id).close_by == AT + dt.timedelta(days=7)

    def test_a_given_hazard_service_shares_the_desk(self, store: Store) -> None:
        hazards = Hazards(store, ORG)
        ins = Inspections(store, ORG, hazards=hazards)
        assert ins.desk is hazards.desk
        assert ins.hazards is hazards
        with pytest.raises(ValueError, match="share"):
            Inspections(store, ORG, desk=Desk(store, ORG), hazards=hazards)


class TestRefusals:
    def refused(
        self,
        inspections: Inspections,
        store: Store,
        error: type[DualdutyError],
        match: str,
        **kwargs: object,
    ) -> None:
        args: dict[str, object] = {
            "actor": SECTION_STAFF,
            "holder": SECTION,
            "date": DAY,
            "findings": [("外墙瓷砖空鼓", "major")],
            "at": AT,
        }
        args.update(kwargs)
        before = snapshot(store)
        with pytest.raises(error, match=match):
            inspections.record(SCHOOL, **args)  # type: ignore[arg-type]  # test arguments
        assert snapshot(store) == before

    def test_wrong_person(self, inspections: Inspections, store: Store) -> None:
        self.refused(
            inspections, store, PermissionDenied, f"{OUTSIDER} .*school {SCHOOL}", actor=OUTSIDER
        )
        # The deputy holds the school's other package, not the section's.
        self.refused(inspections, store, PermissionDenied, f"for {SECTION}", actor=DEPUTY)
        self.refused(inspections, store, PermissionDenied, "no person 'nobody'", actor="nobody")

    def test_holder_without_a_package_of_the_school(
        self, inspections: Inspections, store: Store
    ) -> None:
        self.refused(
            inspections,
            store,
            InvalidTransition,
            "'moral-education' holds no package of school s0002",
            holder="moral-education",
            actor="p013",
        )
        self.refused(
            inspections, store, InvalidTransition, "'deputy-2' holds no package", holder="deputy-2"
        )

    def test_unknown_school(self, inspections: Inspections, store: Store) -> None:
        with pytest.raises(DualdutyError, match="no school 's9999'"):
            inspections.record("s9999", actor=SECTION_STAFF, holder=SECTION, date=DAY, at=AT)
        assert snapshot(store) == (0, 0)

    def test_unknown_or_mismatched_visit(self, inspections: Inspections, store: Store) -> None:
        self.refused(
            inspections, store, InvalidTransition, "not in the schedule", visit="v.2026q1.nowhere.1"
        )
        deputy_visit = visit_of(DEPUTY_POST, announced=True)
        self.refused(
            inspections,
            store,
            InvalidTransition,
            f"is {DEPUTY_POST}'s visit",
            visit=deputy_visit.id,
        )

    def test_visit_carried_out_twice(self, inspections: Inspections, store: Store) -> None:
        visit = visit_of(SECTION, announced=True)
        first = inspections.record(
            SCHOOL,
            actor=SECTION_STAFF,
            holder=SECTION,
            date=visit.date,
            visit=visit.id,
            at=evening(visit.date),
        )
        self.refused(
            inspections,
            store,
            InvalidTransition,
            f"already carried out by inspection '{first.inspection}'",
            visit=visit.id,
        )

    def test_visit_carried_out_twice_without_a_schedule(self, store: Store) -> None:
        ins = Inspections(store, ORG)
        done = ins.record(
            SCHOOL, actor=SECTION_STAFF, holder=SECTION, date=DAY, visit="v.local.1", at=AT
        )
        assert (done.visit, done.announced) == ("v.local.1", True)
        self.refused(ins, store, InvalidTransition, "already carried out", visit="v.local.1")

    def test_unknown_or_missing_inspector(self, inspections: Inspections, store: Store) -> None:
        self.refused(
            inspections,
            store,
            InvalidTransition,
            "no person 'p999'",
            inspectors=[SECTION_STAFF, "p999"],
        )
        self.refused(inspections, store, InvalidTransition, "at least one inspector", inspectors=[])

    def test_inspection_dated_after_recording(self, inspections: Inspections, store: Store) -> None:
        self.refused(
            inspections,
            store,
            InvalidTransition,
            "cannot be recorded before that day",
            date=DAY + dt.timedelta(days=1),
        )

    def test_taken_id(self, inspections: Inspections, store: Store) -> None:
        inspections.record(
            SCHOOL, actor=SECTION_STAFF, holder=SECTION, date=DAY, inspection_id="in-x", at=AT
        )
        self.refused(inspections, store, InvalidTransition, "already exists", inspection_id="in-x")

    def test_bad_findings(self, inspections: Inspections, store: Store) -> None:
        before = snapshot(store)
        with pytest.raises(ValueError, match="'grave'"):
            inspections.record(
                SCHOOL,
                actor=SECTION_STAFF,
                holder=SECTION,
                date=DAY,
                findings=[("外墙空鼓", "major"), ("x", "grave")],
                at=AT,
            )
        with pytest.raises(TypeError, match="findings"):
            inspections.record(
                SCHOOL,
                actor=SECTION_STAFF,
                holder=SECTION,
                date=DAY,
                findings=[42],  # type: ignore[list-item]  # the wrong type on purpose
                at=AT,
            )
        assert snapshot(store) == before
        self.refused(
            inspections,
            store,
            InvalidTransition,
            "already names hazard",
            findings=[Finding("外墙空鼓", "major", "hz-1")],
        )

    def test_refusal_inside_a_batch_leaves_nothing(
        self, inspections: Inspections, store: Store
    ) -> None:
        visit = visit_of(SECTION, announced=True)
        with inspections.desk.batch():
            done = inspections.record(
                SCHOOL,
                actor=SECTION_STAFF,
                holder=SECTION,
                date=visit.date,
                visit=visit.id,
                findings=[("楼梯扶手松动", "general")],
                at=evening(visit.date),
            )
            # Refused against this batch's own, not yet committed, inspection.
            with pytest.raises(InvalidTransition, match="already carried out"):
                inspections.record(
                    SCHOOL,
                    actor=SECTION_HEAD,
                    holder=SECTION,
                    date=visit.date,
                    visit=visit.id,
                    findings=[("外墙空鼓", "major")],
                    at=evening(visit.date),
                )
        assert snapshot(store) == (2, 0)
        assert inspections.all() == [done]


def test_round_trip_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    visit = visit_of(DEPUTY_POST, announced=False)
    with open_store(url) as store:
        done = Inspections(store, ORG, schedule=SCHEDULE).record(
            SCHOOL,
            actor=DEPUTY,
            holder=DEPUTY_POST,
            date=visit.date,
            visit=visit.id,
            inspectors=[DEPUTY, SECTION_STAFF],
            findings=[("围墙倾斜", "major"), ("消防栓缺水", "general"), "门卫登记规范"],
            summary="季度专门督查（暗访）",
            at=evening(visit.date),
        )
    with open_store(url) as store:
        again = Inspections(store, ORG)
        assert again.get(done.inspection) == done
        assert again.of_school(SCHOOL) == [done]
        assert done_visits(store, year=visit.date.year) == {visit.id: done}
        assert [h.id for h in again.hazards.all()] == [f.hazard for f in done.findings[:2]]
        verification = store.verify()
        assert verification.ok
        assert verification.checked == len(store) == 3
        with pytest.raises(InvalidTransition, match="no inspection 'in-none'"):
            again.get("in-none")


class TestBatchWithHazards:
    """One desk: a batch of inspection and hazard commands is one transaction."""

    def test_all_committed_together(self, store: Store) -> None:
        ins = Inspections(store, ORG, schedule=SCHEDULE)
        commits: list[Sequence[Entry]] = []
        store.observe(commits.append)
        with ins.desk.batch():
            done = ins.record(
                SCHOOL,
                actor=SECTION_STAFF,
                holder=SECTION,
                date=DAY,
                findings=[("外墙空鼓", "major")],
                at=AT,
            )
            hazard_id = done.findings[0].hazard
            assert hazard_id is not None
            ins.hazards.register(hazard_id, actor=OFFICE_STAFF, at=AT)
            assert snapshot(store) == (0, 0)  # nothing is committed inside the batch
        (entries,) = commits
        assert [e.record.kind for e in entries] == [
            "hazard-found",
            "inspection",
            "hazard-registered",
        ]
        assert snapshot(store) == (3, 3)
        assert ins.hazards.state(hazard_id).status is HazardStatus.REGISTERED

    def test_none_committed_when_one_fails(self, store: Store) -> None:
        ins = Inspections(store, ORG, schedule=SCHEDULE)

        def inspect_register_claim() -> None:
            with ins.desk.batch():
                done = ins.record(
                    SCHOOL,
                    actor=SECTION_STAFF,
                    holder=SECTION,
                    date=DAY,
                    findings=[("外墙空鼓", "major")],
                    at=AT,
                )
                hazard_id = done.findings[0].hazard
                assert hazard_id is not None
                ins.hazards.register(hazard_id, actor=OFFICE_STAFF, at=AT)
                ins.hazards.claim(hazard_id, actor=SECTION_STAFF, at=AT)  # not planned yet

        with pytest.raises(InvalidTransition, match="is registered: cannot apply"):
            inspect_register_claim()
        assert snapshot(store) == (0, 0)
        assert ins.all() == []
        assert list(store.read(kind="hazard-found")) == []
