"""The drill record kind and the drill scoring rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

import dualduty
import dualduty_plugin_template as plugin
from dualduty.plugins import Hooks
from dualduty.records import RECORD_KINDS, Note, Record, school, unit
from dualduty.scoring import ScoreItem, ScoringContext, ScoringRule
from dualduty.storage import Store, open_store
from dualduty.testing import PluginRegistrar
from dualduty_plugin_template import DRILL_KIND, DrillRule, SafetyDrill, Scenario, drill_record

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
SECTION = "regulation-safety"


def at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 10, 0, tzinfo=SHANGHAI)


def test_the_plugin_registers_its_kind_and_rule(dualduty_hooks: Hooks) -> None:
    dualduty_hooks.pm.register(plugin, name="district_template")
    assert SafetyDrill in dualduty_hooks.record_kinds()
    assert RECORD_KINDS[DRILL_KIND] is SafetyDrill
    (rule,) = dualduty_hooks.scoring_rules()
    assert isinstance(rule, DrillRule)
    assert isinstance(rule, ScoringRule)
    assert [p.name for p in dualduty_hooks.plugins()] == ["dualduty.builtin", "district_template"]


def test_drill_validation() -> None:
    with pytest.raises(ValueError, match="participants: expected a whole number >= 1, got 0"):
        SafetyDrill(Scenario.FIRE, 0, 120)
    with pytest.raises(ValueError, match="evacuation_seconds"):
        SafetyDrill(Scenario.FLOOD, 10, True)
    record = drill_record(
        SafetyDrill.examples()[0],
        school_id="s0001",
        unit_id=SECTION,
        actor="zhao",
        at=at(2025, 3, 1),
    )
    assert record.kind == DRILL_KIND
    assert record.subjects == (school("s0001"), unit(SECTION))


@pytest.fixture(params=["memory", "sqlite"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, dualduty_plugin: PluginRegistrar
) -> Iterator[Store]:
    """A fresh store of each built-in kind, with the plugin registered."""
    dualduty_plugin(plugin)
    url = "memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'records.db'}"
    with open_store(url) as store:
        yield store


@pytest.mark.parametrize("drill", SafetyDrill.examples())
def test_drills_round_trip_through_every_store(store: Store, drill: SafetyDrill) -> None:
    record = drill_record(
        drill, school_id="s0001", unit_id=SECTION, actor="zhao", at=at(2025, 3, 1)
    )
    (entry,) = store.append(record)
    assert store.get(entry.seq).record == record
    (read,) = store.read(kind=DRILL_KIND, subject=school("s0001"))
    assert read.record.data == drill
    assert isinstance(read.record.data.scenario, Scenario)
    assert store.verify().ok


@pytest.fixture(scope="module")
def org() -> dualduty.Organisation:
    return dualduty.reference_organisation(schools=3)


def drills(store: Store, unit_id: str, *days: dt.datetime) -> list[int]:
    drill = SafetyDrill(Scenario.EARTHQUAKE, 300, 140)
    records = [
        drill_record(drill, school_id="s0001", unit_id=unit_id, actor="zhao", at=d) for d in days
    ]
    return [e.seq for e in store.append(*records)]


def test_rule_credits_drills_of_the_year_with_evidence(
    store: Store, org: dualduty.Organisation
) -> None:
    drills(store, SECTION, at(2024, 12, 31))  # the year before
    seqs = drills(store, SECTION, *(at(2025, month, 10) for month in (3, 5, 9, 11, 12)))
    drills(store, "basic-education", at(2025, 4, 1))  # another unit's
    note = Note("季度调度会", topic="meeting")  # another kind, which the rule must not count
    store.append(Record.of(note, actor="zhao", at=at(2025, 6, 1), subjects=[unit(SECTION)]))

    (item,) = DrillRule().score(ScoringContext(org, SECTION, 2025, store))
    assert item == ScoreItem(
        "district_template.drills",
        "system_implementation",
        4.0,
        "4 emergency drill(s) organised in 2025 (5 held, 4 count)",
        evidence=tuple(seqs[:4]),
    )
    (item,) = DrillRule(points_per_drill=0.5, most=10).score(
        ScoringContext(org, SECTION, 2025, store)
    )
    assert isinstance(item, ScoreItem)
    assert (item.points, item.evidence) == (2.5, tuple(seqs))


def test_rule_deducts_when_a_unit_held_none(store: Store, org: dualduty.Organisation) -> None:
    drills(store, SECTION, at(2025, 3, 10))
    (item,) = DrillRule().score(ScoringContext(org, "basic-education", 2025, store))
    assert isinstance(item, ScoreItem)
    assert item.points == -2.0
    assert item.evidence == ()
    assert item.explanation == "no emergency drill recorded for basic-education in 2025"


def test_rule_without_a_store_scores_nothing(org: dualduty.Organisation) -> None:
    assert list(DrillRule().score(ScoringContext(org, SECTION, 2025))) == []
