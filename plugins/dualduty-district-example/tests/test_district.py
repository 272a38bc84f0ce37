"""The district's weights, bonus and veto, each checked by hand on the demo year.

The demo year (:mod:`dualduty_district_example.demo`): both sections score full marks on
every default item but the dedicated inspections. By hand, with the default rubric:

- the general office: 8 of 8 inspections, 15 × 8/8 = 15: total 100, 优秀;
- 政教科: 6 of 8, 15 × 6/8 = 11.25: total 100 − 3.75 = 96.25, 优秀.

The district's changes, one at a time:

- the bonus: the general office made 2 unannounced ad hoc inspections: +1 × 2 = 2 (at
  most 3): 102; 政教科 made none: no item;
- the veto: 政教科's major hazard of 20 December is open at the year's end: vetoed,
  graded 不合格 (the lowest band), not eligible; its total is unchanged;
- the weights (inspections 20, rectification 15): the general office 20 × 8/8 + 15 × 1
  = 35, as before (15 + 20): 100; 政教科 20 × 6/8 = 15 and 15: 100 − 5 = 95.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import dualduty_district_example as plugin
import pytest
from dualduty_district_example import OpenMajorHazardVeto, UnannouncedVisitBonus, district_rubric
from dualduty_district_example.demo import MORAL, NOW, ORG, SCHEDULE, UNIT, record_demo_year

from dualduty.plugins import Hooks, make_plugin_manager
from dualduty.scoring import (
    Rubric,
    ScoreItem,
    ScoringContext,
    YearAssessment,
    assess,
    default_rubric,
)
from dualduty.storage import Store, open_store


def hooks(*plugins: object) -> Hooks:
    """dualduty's built-in plugin and *plugins*; nothing installed is loaded."""
    pm = make_plugin_manager(entry_points=False)
    for p in plugins:
        pm.register(p)
    return Hooks(pm)


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    with open_store("memory:") as store:
        record_demo_year(store)
        yield store


def run(store: Store, *, rules: bool, rubric: Rubric | None = None) -> YearAssessment:
    return assess(
        store, ORG, 2026, schedule=SCHEDULE, now=NOW, units=[UNIT, MORAL], rubric=rubric,
        hooks=hooks(plugin) if rules else hooks(),
    )  # fmt: skip


def summary(year: YearAssessment) -> list[tuple[str, float, str, bool, bool]]:
    return [(a.unit, a.total, a.grade, a.vetoed, a.excellent) for a in year.ranking]


def test_the_default_by_hand(store: Store) -> None:
    year = run(store, rules=False)
    assert year.assessment(MORAL).item("visits").points == 11.25
    assert summary(year) == [
        (UNIT, 100.0, "优秀", False, True),
        (MORAL, 96.25, "优秀", False, False),
    ]


def test_the_bonus_for_unannounced_visits(store: Store) -> None:
    year = run(store, rules=True)
    office = year.assessment(UNIT)
    bonus = office.item("district_example.unannounced_visits")
    assert (bonus.points, bonus.category, bonus.clause, bonus.plugin) == (
        2.0,
        "system_implementation",
        "三.2",
        True,
    )
    (unannounced,) = [i for i in office.items if i.rule == bonus.rule]
    assert len(unannounced.seqs) == 2
    for seq in unannounced.seqs:
        data = store.get(seq).record.data
        assert (data.holder, data.visit, data.announced) == (UNIT, None, False)
    assert office.total == 100 + 2
    assert "暗访2次" in bonus.reason
    # 政教科 made none: no item at all
    assert [i.rule for i in year.assessment(MORAL).items if i.plugin] == []


def test_the_bonus_is_capped() -> None:
    rule = UnannouncedVisitBonus(per_visit=2.0, most=3.0)
    with open_store("memory:") as store:
        record_demo_year(store)
        (item,) = rule.score(ScoringContext(ORG, UNIT, 2026, store))
        assert isinstance(item, ScoreItem)
        assert item.points == 3.0  # 2 × 2 = 4, at most 3
        assert list(rule.score(ScoringContext(ORG, UNIT, 2025, store))) == []


def test_the_extra_veto(store: Store) -> None:
    year = run(store, rules=True)
    moral = year.assessment(MORAL)
    (veto,) = moral.vetoes
    assert (veto.rule, veto.plugin) == ("district_example.major_hazard_open", True)
    (seq,) = veto.seqs
    assert store.get(seq).record.data.school == "s0003"
    assert "教学楼外墙开裂" in veto.reason
    # the total stands (the district's weights: 95), the grade drops to the lowest band
    assert (moral.total, moral.grade, moral.vetoed, moral.eligible) == (
        95.0,
        "不合格",
        True,
        False,
    )
    assert year.assessment(UNIT).vetoes == ()


def test_the_veto_passes_over_a_hazard_closed_in_the_year() -> None:
    def day(d: int) -> dt.datetime:
        return NOW.replace(year=2026, month=12, day=d)

    with open_store("memory:") as store:
        r = record_demo_year(store)
        (hazard,) = r.hazards.all()
        context = ScoringContext(ORG, MORAL, 2026, store)
        r.hazards.plan(
            hazard.id, actor="p013", measures=["加固外墙"], responsible="p013",
            time_limit=dt.date(2026, 12, 28), safeguards=["设置警戒区"], at=day(21),
        )  # fmt: skip
        r.hazards.claim(hazard.id, actor="p014", at=day(27))
        r.hazards.reinspect(hazard.id, actor="p015", accepted=True, at=day(28))
        assert len(list(OpenMajorHazardVeto().score(context))) == 1  # accepted, not closed
        r.hazards.close(hazard.id, actor="p007", at=day(30))
        assert list(OpenMajorHazardVeto().score(context)) == []


def test_the_weights(store: Store) -> None:
    rubric = district_rubric()
    assert rubric.id == "district_example"
    assert (rubric.item("visits").max_points, rubric.item("hazards_rectified").max_points) == (
        20.0,
        15.0,
    )
    assert rubric.max_points() == default_rubric().max_points() == 100.0
    assert rubric.category("system_implementation").max_points == 55.0
    assert rubric.category("hazard_remediation").max_points == 25.0
    year = run(store, rules=False, rubric=rubric)
    assert year.assessment(MORAL).item("visits").points == 20 * 6 / 8
    assert summary(year) == [
        (UNIT, 100.0, "优秀", False, True),
        (MORAL, 95.0, "优秀", False, False),
    ]


def test_the_plugin_alone_gives_its_weights_and_a_named_rubric_still_wins(store: Store) -> None:
    from dualduty.scoring import rubric_for

    assert rubric_for(ORG, 2026, hooks=hooks(plugin)) == district_rubric()
    assert rubric_for(ORG, 2026, hooks=hooks()) == default_rubric()
    named = run(store, rules=True, rubric=default_rubric())
    assert named.rubric == default_rubric().id
    assert named.assessment(MORAL).item("visits").points == 11.25


def test_default_against_the_plugin_on_the_same_records(store: Store) -> None:
    default = run(store, rules=False)
    district = run(store, rules=True)  # the plugin's rubric: none is named
    assert district.rubric == "district_example"
    assert summary(district) == [
        (UNIT, 102.0, "优秀", False, True),
        (MORAL, 95.0, "不合格", True, False),
    ]
    changed = {
        a.unit: round(a.total - default.assessment(a.unit).total, 2) for a in district.ranking
    }
    assert changed == {UNIT: 2.0, MORAL: -1.25}
    # the default's items are all there, with the same ids, before the plugin's
    for a in district.ranking:
        rubric_rules = [i.rule for i in a.items if not i.plugin]
        assert rubric_rules == [i.rule for i in default.assessment(a.unit).items]
