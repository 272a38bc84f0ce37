"""The simulated year (dualduty.simulate): deterministic, through the services, every kind;
and the demo's reorganised year, whose changes of responsibility the successors act on."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter

import attrs
import pytest

import dualduty
from dualduty.calendars import calendar_for
from dualduty.planning import plan_schedule
from dualduty.records import Entry, PackageChanged, PersonJoined, PostAssigned
from dualduty.records.timeline import CHANGE_KINDS
from dualduty.simulate import reorganisation, reorganised, simulate_year
from dualduty.storage import open_store

ORG = dualduty.reference_organisation(schools=40)
SCHEDULE = plan_schedule(ORG, calendar_for(ORG, [2026]), 2026)


def play(seed: int) -> list[tuple[str, str, str, str]]:
    with open_store("memory:") as store:
        simulation = simulate_year(store, ORG, SCHEDULE, seed=seed)
        assert store.verify().ok
        assert simulation.commands <= len(store)
        return [
            (e.record.kind, e.record.actor, e.record.at.isoformat(), e.hash) for e in store.read()
        ]


def test_the_same_seed_gives_the_same_records_and_another_seed_others() -> None:
    first = play(3)
    assert play(3) == first
    assert play(4) != first


@pytest.mark.parametrize(
    "kind",
    [
        "inspection", "hazard-found", "hazard-closed", "incident-recorded",
        "incident-determined", "activity-registered", "activity-supervised", "meeting-held",
        "report-submitted", "pledge-signed", "targets-set", "training-held",
    ],
)  # fmt: skip
def test_the_year_has_every_kind_of_work(kind: str) -> None:
    kinds = Counter(k for k, *_ in play(3))
    assert kinds[kind] > 0


def test_a_year_has_visits_done_late_and_missed() -> None:
    from dualduty.records.compliance import VisitStatus, compliance

    end = dt.datetime(2027, 1, 10, tzinfo=zoneinfo.ZoneInfo(ORG.timezone))
    with open_store("memory:") as store:
        simulate_year(store, ORG, SCHEDULE, seed=3)
        view = compliance(store, ORG, SCHEDULE, now=end)
    statuses = Counter(v.status for v in view.visits)
    assert statuses[VisitStatus.DONE] > statuses[VisitStatus.MISSED] > 0
    assert statuses[VisitStatus.LATE] > 0


# -- the reorganised year (the demo's): a package moved and a post handed over on 30 June --

REORGANISED = plan_schedule(reorganised(ORG, 2026), calendar_for(ORG, [2026]), 2026)


def _changes() -> tuple[PackageChanged, PersonJoined, PostAssigned]:
    moved, joined, handed = reorganisation(ORG, 2026)
    assert isinstance(moved, PackageChanged)
    assert isinstance(joined, PersonJoined)
    assert isinstance(handed, PostAssigned)
    return moved, joined, handed


MOVED, JOINED, HANDED = _changes()
JUNE_30 = dt.date(2026, 6, 30)


def play_reorganised(seed: int) -> list[Entry]:
    with open_store("memory:") as store:
        simulation = simulate_year(store, ORG, REORGANISED, seed=seed, reorganise=True)
        assert store.verify().ok
        assert simulation.changes == 2
        return list(store.read())


def test_the_reorganisation_moves_a_package_and_hands_a_head_post_over() -> None:
    assert (MOVED.package, MOVED.holder) == ("pkg-general-office", "moral-education")
    assert MOVED.schools == next(p for p in ORG.packages if p.id == MOVED.package).schools
    assert HANDED.post == "basic-education.head"
    assert HANDED.holder == JOINED.person
    assert JOINED.person not in {p.id for p in ORG.people}
    assert {MOVED.effective, JOINED.effective, HANDED.effective} == {JUNE_30}
    # fewer than two sections holding packages: nothing to move
    one = attrs.evolve(ORG, packages=[p for p in ORG.packages if p.holder == "general-office"])
    assert reorganisation(one, 2026) == ()


def test_a_reorganised_year_is_deterministic_and_records_its_changes() -> None:
    entries = play_reorganised(3)
    assert [(e.record.kind, e.hash) for e in play_reorganised(3)] == [
        (e.record.kind, e.hash) for e in entries
    ]
    changes = [e for e in entries if e.record.kind in CHANGE_KINDS]
    assert [e.record.data for e in changes] == [MOVED, JOINED, HANDED]
    leader = dualduty.OrgGraph(ORG).leader()
    assert leader is not None
    assert {e.record.actor for e in changes} == {leader.holder}
    assert {e.record.at.date() for e in changes} == {JUNE_30}
    # without reorganise, the year records none
    assert not [k for k, *_ in play(3) if k in CHANGE_KINDS]


def test_after_the_reorganisation_the_successors_act() -> None:
    entries = play_reorganised(3)
    start = dualduty.OrgGraph(ORG)
    moved = set(MOVED.schools)
    giver = {p.holder for p in start.unit("general-office").posts}
    taker = {p.holder for p in start.unit("moral-education").posts}
    inspections = [
        (e.record.at.date(), e.record.data)
        for e in entries
        if e.record.kind == "inspection" and e.record.data.school in moved
    ]
    section = [
        (day, i.holder) for day, i in inspections if i.holder in (MOVED.holder, "general-office")
    ]
    assert {h for day, h in section if day < JUNE_30} == {"general-office"}
    assert {h for day, h in section if day > JUNE_30} == {"moral-education"}
    # nobody of the general office records at its former school after the move; 政教科 does
    after = [
        e
        for e in entries
        if e.record.at.date() > JUNE_30 and any(f"school:{s}" in e.record.subjects for s in moved)
    ]
    assert after
    assert not {e.record.actor for e in after} & giver
    assert {e.record.actor for e in after} & taker
    # the newcomer heads the section from the day: its reports and the pledge are theirs
    before = start.post(HANDED.post).holder
    unit = start.unit_of(HANDED.post).id
    reports = [
        e for e in entries if e.record.kind == "report-submitted" and e.record.data.unit == unit
    ]
    assert {e.record.actor for e in reports if e.record.at.date() > JUNE_30} == {HANDED.holder}
    assert HANDED.holder in {e.record.actor for e in entries if e.record.kind == "pledge-signed"}
    assert not [e for e in entries if e.record.actor == before and e.record.at.date() > JUNE_30]


def test_the_assessment_of_a_reorganised_year_reads_the_changes() -> None:
    from dualduty.plugins import Hooks, make_plugin_manager
    from dualduty.records import in_time
    from dualduty.scoring.engine import assess

    end = dt.datetime(2027, 1, 10, tzinfo=zoneinfo.ZoneInfo(ORG.timezone))
    with open_store("memory:") as store:
        simulate_year(store, ORG, REORGANISED, seed=3, reorganise=True)
        dated = in_time(ORG, store, dt.date(2026, 12, 31))
        result = assess(
            store, ORG, 2026, now=end, hooks=Hooks(make_plugin_manager(entry_points=False))
        )
    assert result.basis is not None
    assert result.basis.org == dated
    assert dualduty.OrgGraph(dated).post(HANDED.post).holder == HANDED.holder
    # the schedule planned from the dated organisation is the one the year was played to
    assert plan_schedule(dated, calendar_for(dated, [2026]), 2026) == REORGANISED
