"""Issue 11's acceptance, through the assessment: a package moved mid-year, and each event
charged to whoever answered for the school on its day (三.1, 三.4).

The reference organisation with three schools. The general office (办公室: head p010,
staff p011/p012) holds the package of s0002 (``pkg-general-office``); 政教科
(moral-education: head p013, staff p014/p015) holds s0003. On 20 June the director (p001)
records that from 30 June ``pkg-general-office`` is held by 政教科 with its staff. An
incident with a death happens at s0002 on 10 May and another on 10 August, responsibility
found for both; a hazard is found there on 1 May and another on 5 August. Every record is
made on its day, by a recorder whose clock says that day (the organisation in force then
decides who may act).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import dualduty
from dualduty.calendars import calendar_for
from dualduty.cli import main
from dualduty.planning import plan_schedule
from dualduty.plugins import Hooks, make_plugin_manager
from dualduty.records import (
    PackageChanged,
    PermissionDenied,
    Recorder,
    in_time,
)
from dualduty.records.compliance import compliance
from dualduty.scoring.engine import YearAssessment, assess
from dualduty.scoring.publish import publish
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
ORG = dualduty.reference_organisation(schools=3)
SCHOOL, OFFICE, MORAL = "s0002", "general-office", "moral-education"
LEADER, OFFICE_HEAD = "p001", "p007"
GO_STAFF, MORAL_STAFF = "p011", "p014"
MOVED_ON = dt.date(2026, 6, 30)
MOVE = PackageChanged(
    "pkg-general-office",
    MORAL,
    MOVED_ON,
    schools=(SCHOOL,),
    staff=("moral-education.staff-1", "moral-education.staff-2"),
    reason="分包调整",
)
NOW = dt.datetime(2027, 1, 10, 9, tzinfo=ZONE)


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=ZONE)


def on(when: dt.datetime, store: Store) -> Recorder:
    """A recorder on the day of *when* (its clock says *when*)."""
    return Recorder(store, ORG, clock=lambda: when)


def incident(store: Store, when: dt.datetime, reporter: str, head_post: str) -> str:
    """An accident with a death at s0002, reported at once; responsibility found ten days on."""
    r = on(when, store)
    state = r.incidents.record(
        SCHOOL, "accident", "学生坠楼", occurred=when, deaths=1, actor=reporter, at=when
    )
    r.incidents.report(state.id, "initial", text="初报", actor=reporter, at=when)
    later = when + dt.timedelta(days=10)
    on(later, store).incidents.determine(
        state.id, responsible=True, actor=OFFICE_HEAD, posts=[head_post], at=later
    )
    return state.id


def hazard(store: Store, when: dt.datetime, finder: str) -> str:
    return on(when, store).hazards.find(SCHOOL, "general", "消防通道堆放杂物", actor=finder).id


def move(store: Store) -> None:
    when = at(6, 20)
    on(when, store).org_changes.record(MOVE, actor=LEADER)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    url = f"sqlite:///{tmp_path / 'year.db'}"
    with open_store(url) as store:
        yield store, url


@pytest.fixture
def year(db: tuple[Store, str]) -> tuple[Store, dict[str, str]]:
    """The year as the module describes it: {name: id} of its incidents and hazards."""
    store, _ = db
    ids = {
        "hazard_may": hazard(store, at(5, 1), GO_STAFF),
        "incident_may": incident(store, at(5, 10), GO_STAFF, f"{OFFICE}.head"),
    }
    move(store)
    ids["hazard_august"] = hazard(store, at(8, 5), MORAL_STAFF)
    ids["incident_august"] = incident(store, at(8, 10), MORAL_STAFF, f"{MORAL}.head")
    return store, ids


def hooks() -> Hooks:
    return Hooks(make_plugin_manager(entry_points=False))


def assessed(store: Store) -> YearAssessment:
    return assess(store, ORG, 2026, now=NOW, units=[OFFICE, MORAL], hooks=hooks())


def test_the_section_that_held_the_package_on_the_day_records_there(
    year: tuple[Store, dict[str, str]],
) -> None:
    store, _ = year
    # the general office could not record an event at s0002 after the move, nor 政教科 before
    with pytest.raises(PermissionDenied, match="p011"):
        on(at(8, 12), store).hazards.find(SCHOOL, "general", "灭火器过期", actor=GO_STAFF)
    with pytest.raises(PermissionDenied, match="p014"):
        on(at(6, 29), store).hazards.find(SCHOOL, "general", "灭火器过期", actor=MORAL_STAFF)


def test_the_assessment_charges_each_incident_to_the_section_in_force_that_day(
    year: tuple[Store, dict[str, str]],
) -> None:
    store, ids = year
    result = assessed(store)
    office, moral = result.assessment(OFFICE), result.assessment(MORAL)
    # the incidents item: each section's own incident, and only that
    assert office.item("incidents").evidence == (ids["incident_may"],)
    assert moral.item("incidents").evidence == (ids["incident_august"],)
    # one responsibility incident each: 20 − 5 × (1 general × 2)
    assert office.item("incidents").points == moral.item("incidents").points == 10.0
    # the veto (a responsibility incident with a death) falls on each for its own incident
    ((office_veto,), (moral_veto,)) = office.vetoes, moral.vetoes
    assert (office_veto.rule, office_veto.evidence) == (
        "responsibility_death",
        (ids["incident_may"],),
    )
    assert (moral_veto.rule, moral_veto.evidence) == (
        "responsibility_death",
        (ids["incident_august"],),
    )
    assert office.vetoed
    assert moral.vetoed
    # deputy-1 holds s0002's leading-group package all year: both incidents are its
    members = assess(store, ORG, 2026, now=NOW, units=[OFFICE], members=True, hooks=hooks())
    deputy = members.assessment("deputy-1")
    assert set(deputy.item("incidents").evidence) == {ids["incident_may"], ids["incident_august"]}


def test_without_the_move_the_general_office_would_answer_for_both(
    db: tuple[Store, str],
) -> None:
    # the same events, the package left where the district file puts it: the general office
    # records both and is charged with both; 政教科 with neither
    store, _ = db
    first = incident(store, at(5, 10), GO_STAFF, f"{OFFICE}.head")
    second = incident(store, at(8, 10), GO_STAFF, f"{OFFICE}.head")
    result = assessed(store)
    assert result.assessment(OFFICE).item("incidents").evidence == (first, second)
    assert result.assessment(MORAL).item("incidents").evidence == ()
    assert not result.assessment(MORAL).vetoed


def test_hazards_are_attributed_to_the_holders_of_their_day(
    year: tuple[Store, dict[str, str]],
) -> None:
    store, ids = year
    view = compliance(store, ORG, None, now=NOW, year=2026)
    holders = {h.hazard: h.holders for h in view.hazards}
    assert set(holders[ids["hazard_may"]]) == {"deputy-1", OFFICE}
    assert set(holders[ids["hazard_august"]]) == {"deputy-1", MORAL}
    # the holders' rows list them the same way
    found = {
        row.holder: row.hazards.found
        for row in view.holders
        if row.quarter is None and row.holder in (OFFICE, MORAL)
    }
    assert found == {OFFICE: (ids["hazard_may"],), MORAL: (ids["hazard_august"],)}


def test_the_schedule_of_the_dated_organisation_follows_the_package(
    year: tuple[Store, dict[str, str]],
) -> None:
    store, _ = year
    dated = in_time(ORG, store)
    schedule = plan_schedule(dated, calendar_for(dated, [2026]), 2026)
    quarters: dict[str, list[int]] = {}
    for v in schedule.visits:
        if v.school == SCHOOL and v.holder in (OFFICE, MORAL):
            quarters.setdefault(v.holder, []).append(v.quarter)
    assert sorted(quarters[OFFICE]) == [1, 1, 2, 2]
    assert sorted(quarters[MORAL]) == [3, 3, 4, 4]
    moral_visits = [v for v in schedule.visits if v.school == SCHOOL and v.holder == MORAL]
    assert all(v.date >= MOVED_ON for v in moral_visits)
    assert {i for v in moral_visits for i in v.inspectors} <= set(MOVE.staff)
    office_visits = [v for v in schedule.visits if v.school == SCHOOL and v.holder == OFFICE]
    assert all(v.date < MOVED_ON for v in office_visits)
    # 政教科's own school is unchanged: two visits a quarter all year
    own = sorted(v.quarter for v in schedule.visits if v.school == "s0003" and v.holder == MORAL)
    assert own == [1, 1, 2, 2, 3, 3, 4, 4]


def test_a_recorded_change_changes_the_published_basis(db: tuple[Store, str]) -> None:
    store, _ = db
    incident(store, at(5, 10), GO_STAFF, f"{OFFICE}.head")
    first = publish(store, assessed(store), actor=OFFICE_HEAD, at=NOW)
    same = publish(store, assessed(store), actor=OFFICE_HEAD, at=NOW)
    assert same.seq == first.seq  # nothing moved: nothing appended
    move(store)
    second = publish(store, assessed(store), actor=OFFICE_HEAD, at=NOW)
    assert second.seq > first.seq
    assert second.data.supersedes == first.seq
    assert second.data.organisation != first.data.organisation
    assert second.data.rubric_text == first.data.rubric_text


def test_dualduty_assess_reads_the_change_from_the_store(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    db: tuple[Store, str],
    year: tuple[Store, dict[str, str]],
) -> None:
    _, url = db
    _, ids = year
    org = tmp_path / "bureau.toml"
    dualduty.dump(ORG, org)
    capsys.readouterr()
    args = ["assess", "--db", url, "--org", str(org), "--year", "2026"]
    assert main([*args, "--now", NOW.isoformat(), "--format", "json"]) == 0
    ranking = {r["unit"]: r for r in json.loads(capsys.readouterr().out)["ranking"]}

    def evidence(unit: str) -> list[str]:
        (item,) = [i for i in ranking[unit]["items"] if i["rule"] == "incidents"]
        return list(item["evidence"])

    assert evidence(OFFICE) == [ids["incident_may"]]
    assert evidence(MORAL) == [ids["incident_august"]]
    assert ranking[OFFICE]["veto"] is True
    assert ranking[MORAL]["veto"] is True
    assert evidence("regulation-safety") == []
