"""The year-end assessment's rubric as data (三.4): the model, its arithmetic, its file."""

from __future__ import annotations

import math
import pickle
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dualduty
from dualduty.errors import DualdutyError, InvalidFile, Problem
from dualduty.model.rules import DEFAULT_ASSESSMENT_CATEGORIES, AssessmentCategory
from dualduty.records import Grade
from dualduty.reference import clause_text
from dualduty.scoring import GradeBand
from dualduty.scoring.rubric import (
    DEFAULT_BANDS,
    INCIDENT_GRADES,
    Assessee,
    Award,
    Category,
    InvalidRubric,
    Item,
    Measure,
    Mode,
    PartError,
    Rubric,
    VetoKind,
    VetoRule,
    default_rubric,
    dump_rubric,
    dumps_rubric,
    load_rubric,
    loads_rubric,
    round_points,
    rubric_from_data,
    rubric_to_data,
)

DOCS = Path(__file__).parent.parent / "docs" / "reference" / "rubric.md"
SECTION, MEMBER = Assessee.SECTION, Assessee.MEMBER


def item(**changes: Any) -> Item:
    """A valid deduct item, changed as asked."""
    fields: dict[str, Any] = {
        "id": "reports",
        "category": "system_implementation",
        "name": "季度书面报告",
        "name_en": "quarterly reports",
        "clause": "三.2",
        "measure": "reports_not_on_time",
        "mode": "deduct",
        "max_points": 8,
        "per": 2,
    }
    fields.update(changes)
    return Item(**fields)


def small_rubric(**changes: Any) -> Rubric:
    """Two categories, a ratio, a deduct and a bonus item: 60 + 40 = 100."""
    fields: dict[str, Any] = {
        "id": "small",
        "name": "小细则",
        "categories": [
            Category("system_implementation", "制度落实", "system implementation"),
            Category("package_incidents", "分包学校事故发生", "incidents", max_points=40),
        ],
        "items": [
            item(id="visits", measure="visits_done_ratio", mode="ratio", max_points=60, per=None),
            item(id="incidents", category="package_incidents", measure="incidents", max_points=40,
                 per=10),
            item(id="ad_hoc", measure="unannounced_visits", mode="bonus", max_points=3, per=1),
        ],
        "award": Award("优秀", top=1),
    }  # fmt: skip
    fields.update(changes)
    return Rubric(**fields)


# -- the default rubric ----------------------------------------------------------------------


def test_the_default_rubric_has_the_plans_three_categories_worth_100() -> None:
    rubric = default_rubric()
    assert [(c.id, c.name, c.name_en) for c in rubric.categories] == [
        (c.id, c.name, c.name_en) for c in DEFAULT_ASSESSMENT_CATEGORIES
    ]
    assert rubric.check_categories(dualduty.Rules().assessment_categories) == ()
    assert rubric.total == 100
    assert rubric.max_points(SECTION) == 100
    by_category = {
        c.id: sum(i.max_points for i in rubric.items if i.category == c.id and i.base)
        for c in rubric.categories
    }
    assert by_category == {
        "system_implementation": 50,
        "hazard_remediation": 30,
        "package_incidents": 20,
    }
    assert by_category == {c.id: c.max_points for c in rubric.categories}
    assert rubric.bonus_cap == 5
    assert [i.id for i in rubric.items if not i.base] == ["hazards_closed_bonus"]


def test_every_default_part_carries_its_clause_and_quotes_the_plan() -> None:
    rubric = default_rubric()
    parts: list[Category | Item | VetoRule | Award] = [
        *rubric.categories,
        *rubric.items,
        *rubric.vetoes,
        rubric.award,
    ]
    for part in parts:
        text = clause_text(part.clause)  # a clause of the plan, or KeyError
        fragments = re.split("……|；", part.basis)
        assert part.basis, part
        for fragment in fragments:
            assert fragment in text, (part.clause, fragment)
    # an item cites the clause of what it measures
    assert all(i.clause == i.measure.clause for i in rubric.items)
    assert {i.clause for i in rubric.items} == {
        "三.2", "三.3", "三.4", "二(一).3", "二(三).1", "二(三).2", "二(三).4"
    }  # fmt: skip


def test_the_default_vetoes_bands_and_award() -> None:
    rubric = default_rubric()
    assert [v.kind for v in rubric.vetoes] == [
        VetoKind.RESPONSIBILITY_DEATH,
        VetoKind.CONCEALED_INCIDENT,
    ]
    assert rubric.bands == DEFAULT_BANDS
    assert [(b.name, b.minimum) for b in rubric.bands] == [
        ("优秀", 90), ("良好", 80), ("合格", 60), ("不合格", 0)
    ]  # fmt: skip
    assert (rubric.award.share, rubric.award.top, rubric.award.minimum_grade) == (0.2, None, "优秀")


def test_a_member_is_assessed_on_the_items_that_can_measure_them() -> None:
    rubric = default_rubric()
    assert [i.id for i in rubric.items_for(MEMBER)] == [
        "visits",
        "pledge",
        "hazards_rectified",
        "major_hazard_reports",
        "hazards_closed_bonus",
        "incidents",
    ]
    assert rubric.max_points(MEMBER) == 15 + 4 + 20 + 10 + 20
    assert [v.id for v in rubric.vetoes_for(MEMBER)] == [v.id for v in rubric.vetoes]
    assert all(MEMBER in i.measure.assessees for i in rubric.items_for(MEMBER))


def test_the_default_is_read_once() -> None:
    assert default_rubric() is default_rubric()


def test_incident_grades_are_the_records_grades() -> None:
    assert tuple(g.value for g in Grade) == INCIDENT_GRADES
    assert set(INCIDENT_GRADES) < set(Measure.INCIDENTS.params)


# -- the vocabulary ---------------------------------------------------------------------------


def test_every_measure_is_described() -> None:
    for measure in Measure:
        assert measure.assessees, measure
        assert clause_text(measure.clause), measure
        for name, param in measure.params.items():
            assert param.name == name
            assert param.minimum <= param.default
            assert param.maximum is None or param.default <= param.maximum
        if measure.ratio:
            assert "empty" in measure.params, measure
    assert Measure.TOPIC_STUDIES_SHORT.assessees == {SECTION}
    assert Measure.INCIDENTS.defaults["responsible"] == 2


def test_the_reference_page_documents_every_measure_kind_and_default_item() -> None:
    page = DOCS.read_text(encoding="utf-8")
    for name in [*Measure, *VetoKind, *Mode, *Assessee]:
        assert f"`{name.value}`" in page, name
    rubric = default_rubric()
    for part_id in [*(i.id for i in rubric.items), *(v.id for v in rubric.vetoes)]:
        assert f"`{part_id}`" in page, part_id
    for field in ("per", "floor", "params", "applies_to", "bonus_cap", "demote_to", "share"):
        assert f"`{field}`" in page, field


# -- the arithmetic, by hand --------------------------------------------------------------------


def test_ratio_points_are_the_share_of_the_maximum() -> None:
    visits = item(measure="visits_done_ratio", mode="ratio", max_points=15, per=None)
    assert visits.points(1) == 15
    assert visits.points(0) == 0
    assert visits.points(7 / 8) == 13.13  # 13.125, rounded half up
    assert visits.points(2 / 3) == 10


def test_deduct_points_fall_by_per_down_to_the_floor() -> None:
    studies = item(measure="topic_studies_short", max_points=10, per=3, floor=2)
    assert studies.points(0) == 10
    assert studies.points(1) == 7
    assert studies.points(2) == 4
    assert studies.points(3) == 2  # 10 − 9 = 1, floored at 2
    assert studies.points(100) == 2
    weighted = item(max_points=8, per=2)  # reports: a late one 1, a missing one 2
    assert weighted.points(1 + 2) == 2
    assert weighted.points(0.5) == 7


def test_bonus_points_grow_by_per_up_to_the_cap() -> None:
    bonus = item(measure="unannounced_visits", mode="bonus", max_points=2, per=0.3)
    assert bonus.points(0) == 0
    assert bonus.points(3) == 0.9
    assert bonus.points(6) == 1.8
    assert bonus.points(7) == 2  # 2.1, capped


@pytest.mark.parametrize(
    ("mode", "measure", "value"),
    [
        ("ratio", "visits_done_ratio", 1.01),
        ("ratio", "visits_done_ratio", -0.1),
        ("deduct", "visits_missed", -1),
        ("bonus", "ad_hoc_visits", math.nan),
        ("deduct", "visits_missed", True),
    ],
)
def test_points_refuse_a_value_out_of_range(mode: str, measure: str, value: float) -> None:
    per = None if mode == "ratio" else 1
    with pytest.raises(ValueError, match=r"^reports: "):
        item(mode=mode, measure=measure, per=per).points(value)


def test_round_points_rounds_the_decimal_half_up() -> None:
    assert round_points(2.675) == 2.68  # the float is 2.67499999…; the decimal is rounded
    assert round_points(13.125) == 13.13
    assert round_points(0.1 + 0.2) == 0.3
    assert round_points(-1.005) == -1.01


def test_a_sections_total_adds_the_base_and_the_capped_bonus() -> None:
    rubric = default_rubric()
    points = {i.id: i.max_points for i in rubric.items_for(SECTION)}
    points.update(visits=13.13, topic_studies=6, quarterly_reports=4, hazards_closed_bonus=1.5)
    # base: 100 − (15 − 13.13) − (10 − 6) − (8 − 4) = 90.13; bonus 1.5 (cap 5)
    assert rubric.total_of(points) == 91.63
    capped = attrs.evolve(rubric, bonus_cap=1)
    assert capped.total_of(points) == 91.13


def test_a_members_base_is_scaled_to_the_total() -> None:
    rubric = default_rubric()
    points = {i.id: i.max_points for i in rubric.items_for(MEMBER)}
    assert rubric.total_of(points, MEMBER) == 100 + 2  # full base, full bonus
    points.update(visits=0, hazards_closed_bonus=0)  # 69 − 15 = 54 of 69
    assert rubric.total_of(points, "member") == round_points(54 * 100 / 69) == 78.26


def test_a_total_needs_the_points_of_exactly_the_assessees_items() -> None:
    rubric = default_rubric()
    points = {i.id: 0.0 for i in rubric.items_for(MEMBER)}
    with pytest.raises(ValueError, match="missing activities, annual_targets"):
        rubric.total_of(points, SECTION)
    with pytest.raises(ValueError, match="not items assessing a member: topic_studies"):
        rubric.total_of({**points, "topic_studies": 10}, MEMBER)
    sections_only = small_rubric(items=[item(id="r", max_points=100)], categories=[
        Category("system_implementation", "制度落实", "system implementation")])  # fmt: skip
    with pytest.raises(ValueError, match="no base item assessing a member"):
        sections_only.total_of({}, MEMBER)


def test_a_grade_is_the_highest_band_reached_and_a_veto_lowers_it() -> None:
    rubric = default_rubric()
    assert [rubric.grade_of(t).name for t in (102, 90, 89.99, 80, 60, 59.99, 0, -3)] == [
        "优秀", "优秀", "良好", "良好", "合格", "不合格", "不合格", "不合格"
    ]  # fmt: skip
    assert rubric.grade_of(97, ["concealed_incident"]).name == "不合格"
    assert rubric.grade_of(97, ["a_plugins_veto"]).name == "不合格"
    softer = attrs.evolve(rubric, vetoes=[attrs.evolve(rubric.vetoes[1], demote_to="合格")])
    assert softer.grade_of(97, ["concealed_incident"]).name == "合格"
    assert softer.grade_of(65, ["concealed_incident"]).name == "合格"
    assert softer.grade_of(50, ["concealed_incident"]).name == "不合格"  # never raised


def test_the_award_goes_to_unvetoed_units_of_the_minimum_grade() -> None:
    rubric = default_rubric()
    assert rubric.eligible("优秀", vetoed=False)
    assert rubric.eligible(rubric.band("优秀"), vetoed=False)
    assert not rubric.eligible("优秀", vetoed=True)
    assert not rubric.eligible("良好", vetoed=False)
    lower = attrs.evolve(rubric, award=attrs.evolve(rubric.award, minimum_grade="良好"))
    assert lower.eligible("良好", vetoed=False)
    assert not lower.eligible("合格", vetoed=False)
    with pytest.raises(KeyError, match="no grade band 'A'"):
        rubric.eligible("A", vetoed=False)


@pytest.mark.parametrize(
    ("award", "assessed", "places"),
    [
        (Award("优秀", share=0.2), 23, 4),
        (Award("优秀", share=0.2), 10, 2),  # 0.2 × 10 is 2, not 1.999…
        (Award("优秀", share=0.3), 10, 3),
        (Award("优秀", share=0.2), 3, 1),  # at least one
        (Award("优秀", share=0.2), 0, 0),
        (Award("优秀", top=3), 23, 3),
        (Award("优秀", top=3), 2, 2),
    ],
)
def test_award_places(award: Award, assessed: int, places: int) -> None:
    assert award.places(assessed) == places


def test_a_measure_veto_is_reached_at_its_threshold() -> None:
    veto = VetoRule(
        "reports", "季度报告缺报两次", "two reports missing", "三.2", "measure",
        measure="reports_missing", at_least=2,
    )  # fmt: skip
    assert not veto.reached(1)
    assert veto.reached(2)
    assert veto.assessees == {SECTION}
    with pytest.raises(ValueError, match="takes no measured value"):
        default_rubric().vetoes[0].reached(1)


@st.composite
def items_and_values(draw: st.DrawFn) -> tuple[Item, float, float]:
    mode = draw(st.sampled_from(Mode))
    maximum = draw(st.floats(0, 100, allow_nan=False))
    if mode is Mode.RATIO:
        built = item(measure="visits_done_ratio", mode=mode, max_points=maximum, per=None)
        values = st.floats(0, 1)
    else:
        floor = draw(st.floats(0, maximum)) if mode is Mode.DEDUCT else 0.0
        per = draw(st.floats(0.01, 50))
        built = item(measure="visits_missed", mode=mode, max_points=maximum, per=per, floor=floor)
        values = st.floats(0, 1000)
    low, high = sorted((draw(values), draw(values)))
    return built, low, high


@given(items_and_values())
def test_points_stay_between_the_floor_and_the_maximum(case: tuple[Item, float, float]) -> None:
    built, low, high = case
    for value in (low, high):
        points = built.points(value)
        assert round_points(built.floor) <= points <= round_points(built.max_points)
    if built.mode is Mode.DEDUCT:
        assert built.points(low) >= built.points(high)
        assert built.points(0) == round_points(built.max_points)
    else:
        assert built.points(low) <= built.points(high)
        assert built.points(0) == 0


# -- building in Python --------------------------------------------------------------------------


def test_a_part_lists_all_its_problems() -> None:
    with pytest.raises(PartError, match=r"^Item: ") as caught:
        item(mode="ratio", max_points=-5, floor=3, params={"late": "x", "lat": 1})
    assert isinstance(caught.value, ValueError)  # as attrs classes raise
    problems = caught.value.problems
    assert [str(p) for p in problems] == [
        "max_points: expected a number >= 0, got -5",
        "mode: 'ratio' takes a ratio measure; 'reports_not_on_time' is a count "
        "(use 'deduct' or 'bonus')",
        "per: a ratio item takes no per (it gives max_points × ratio)",
        "floor: only a deduct item has a floor, not a ratio one",
        "params.late: expected a number >= 0, got 'x'",
        "params.lat: unknown parameter 'lat' of measure 'reports_not_on_time' "
        "(it takes: 'late', 'missing')",
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"per": None}, "per: required for a deduct item: the points per unit counted"),
        ({"per": 0}, "per: expected a number > 0, got 0"),
        ({"floor": 9}, "floor: 9 is above max_points 8"),
        ({"measure": "visits"}, "measure: 'visits' is not one of: 'visits_done_ratio', "),
        ({"mode": "ratio", "per": None, "measure": "hazards_closed_on_time_ratio",
          "params": {"late_weight": 1.5}},
         "params.late_weight: expected a number >= 0 and <= 1, got 1.5"),
        ({"applies_to": ["member"]},
         "applies_to: 'reports_not_on_time' cannot assess a member (only: section)"),
        ({"applies_to": []}, "applies_to: must name at least one of: 'section', 'member'"),
        ({"applies_to": "section"}, "applies_to: expected a list, got 'section'"),
        ({"id": "Reports"}, "id: 'Reports' is not a valid id"),
        ({"clause": " "}, "clause: must be non-empty text"),
        ({"max_points": True}, "max_points: expected a number >= 0, got True"),
    ],
)  # fmt: skip
def test_an_item_problem(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(PartError, match=r"^Item: ") as caught:
        item(**changes)
    assert str(caught.value).removeprefix("Item: ").startswith(expected)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "incident_grade"}, ["grade: required for a veto of kind 'incident_grade'"]),
        ({"kind": "incident_grade", "grade": "big"},
         ["grade: 'big' is not one of: 'general', 'larger', 'major', 'extraordinary'"]),
        ({"kind": "measure", "measure": "visits_done_ratio", "params": {"empty": 2}},
         ["at_least: required for a veto of kind 'measure'",
          "params.empty: expected a number >= 0 and <= 1, got 2"]),
        ({"kind": "concealed_incident", "at_least": 1, "responsible_only": True},
         ["responsible_only: a veto of kind 'concealed_incident' takes no responsible_only",
          "at_least: a veto of kind 'concealed_incident' takes no at_least"]),
        ({"kind": "fatal", "applies_to": ["boss"]},
         ["kind: 'fatal' is not one of: 'responsibility_death', 'concealed_incident', "
          "'fatal_incident', 'incident_grade', 'measure'",
          "applies_to: 'boss' is not one of: 'section', 'member'"]),
        ({"kind": "measure", "measure": "staff_untrained", "at_least": 1,
          "applies_to": ["member"]},
         ["applies_to: this veto cannot assess a member (only: section)"]),
    ],
)  # fmt: skip
def test_a_veto_problem(fields: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(PartError, match=r"^VetoRule: ") as caught:
        VetoRule("v", "否决", "veto", "三.4", **fields)
    assert [str(p) for p in caught.value.problems] == expected


def test_a_veto_of_each_kind_builds() -> None:
    vetoes = [
        VetoRule("a", "甲", "a", "三.4", "responsibility_death"),
        VetoRule("b", "乙", "b", "三.4", "fatal_incident", applies_to=["section"]),
        VetoRule("c", "丙", "c", "三.4", "incident_grade", grade="larger", responsible_only=True),
        VetoRule("d", "丁", "d", "三.2", "measure", measure="hazards_overdue", at_least=3,
                 params={"major_weight": 3}),
    ]  # fmt: skip
    assert [v.assessees for v in vetoes] == [
        {SECTION, MEMBER}, {SECTION}, {SECTION, MEMBER}, {SECTION, MEMBER}
    ]  # fmt: skip
    assert vetoes[3].parameters == {"major_weight": 3}
    assert vetoes[0].parameters == {}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, [": give top (how many win) or share (what share of sections win)"]),
        ({"top": 2, "share": 0.5}, ["share: give top or share, not both"]),
        ({"top": 0}, ["top: expected a whole number >= 1, got 0"]),
        ({"share": 1.5}, ["share: expected a number > 0 and <= 1, got 1.5"]),
        ({"top": 2.5}, ["top: expected a whole number >= 1, got 2.5"]),
    ],
)
def test_an_award_problem(fields: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(PartError, match=r"^Award: ") as caught:
        Award("优秀", **fields)
    found = [f"{p.path}: {p.message}" for p in caught.value.problems]
    assert found == expected


def test_a_rubric_checks_its_parts_together() -> None:
    rubric = small_rubric()
    assert rubric.max_points() == 100
    with pytest.raises(InvalidRubric) as caught:
        small_rubric(
            total=90,
            categories=[
                *rubric.categories,
                Category("package_incidents", "重复", "again"),
                Category("hazard_remediation", "隐患排查治理", "hazards"),
            ],
            items=[*rubric.items, item(id="visits", category="nowhere", max_points=1)],
            bands=[GradeBand("A", 80), GradeBand("A", 70), GradeBand("C", 10)],
            vetoes=[VetoRule("x", "否决", "veto", "三.4", "concealed_incident", demote_to="B")],
            award=Award("B", top=1),
        )
    assert isinstance(caught.value, InvalidFile)
    assert caught.value.source == "rubric 'small'"
    assert [str(p) for p in caught.value.problems] == [
        "categories[2].id: 'package_incidents' is given twice (first at categories[1])",
        "categories[3]: no item is in category 'hazard_remediation'",
        "items: the max_points of the base (ratio and deduct) items assessing a section add up "
        "to 101, not the total 90",
        "items[3].id: 'visits' is given twice (first at items[0])",
        "items[3].category: no category 'nowhere' in the rubric (categories: "
        "'hazard_remediation', 'package_incidents', 'system_implementation')",
        "vetoes[0].demote_to: no grade band 'B' (bands: A, C)",
        "bands[1].name: 'A' is given twice (first at bands[0])",
        "bands[2].minimum: the lowest band must start at 0 (it takes every total below the "
        "others), not 10",
        "award.minimum_grade: no grade band 'B' (bands: A, C)",
    ]


def test_bands_must_descend_strictly() -> None:
    with pytest.raises(InvalidRubric) as caught:
        small_rubric(
            bands=[GradeBand("A", 80), GradeBand("B", 80), GradeBand("C", 0)],
            award=Award("A", top=1),
        )
    assert [str(p) for p in caught.value.problems] == [
        "bands[1].minimum: 80 is not below 80 of bands[0] (A); list the bands from the highest down"
    ]


def test_a_category_maximum_is_checked_against_its_items() -> None:
    categories = list(small_rubric().categories)
    categories[1] = attrs.evolve(categories[1], max_points=30)
    with pytest.raises(InvalidRubric) as caught:
        small_rubric(categories=categories)
    assert [str(p) for p in caught.value.problems] == [
        "categories[1].max_points: 30, but the max_points of its base items assessing a "
        "section add up to 40"
    ]


def test_changing_the_bands_is_checked() -> None:
    rubric = default_rubric()
    letters = attrs.evolve(
        rubric,
        bands=[GradeBand("A", 85), GradeBand("B", 70), GradeBand("C", 0)],
        award=attrs.evolve(rubric.award, minimum_grade="A"),
    )
    assert letters.grade_of(85).name == "A"
    with pytest.raises(InvalidRubric, match="bands: at least one grade band is needed"):
        attrs.evolve(rubric, bands=[])
    with pytest.raises(InvalidRubric, match=r"bands\[0\]: expected a GradeBand, got \('A', 90\)"):
        attrs.evolve(rubric, bands=[("A", 90)])


def test_lookups_name_what_is_missing() -> None:
    rubric = default_rubric()
    assert rubric.item("visits").measure is Measure.VISITS_DONE_RATIO
    assert rubric.category("package_incidents").max_points == 20
    assert rubric.veto("concealed_incident").kind is VetoKind.CONCEALED_INCIDENT
    assert rubric.band("合格").minimum == 60
    for lookup in (rubric.item, rubric.category, rubric.veto, rubric.band):
        with pytest.raises(KeyError, match=r"no .* 'nothing'"):
            lookup("nothing")


def test_categories_are_compared_with_the_rules() -> None:
    theirs = (
        *DEFAULT_ASSESSMENT_CATEGORIES[:2],
        AssessmentCategory("activities", "大型活动", "large activities"),
    )
    assert default_rubric().check_categories(theirs) == (
        Problem(
            "categories[2].id", "'package_incidents' is not an assessment category of the rules"
        ),
        Problem("categories", "the rules' assessment category 'activities' is not in the rubric"),
    )


def test_a_rubric_is_a_hashable_picklable_value() -> None:
    rubric = default_rubric()
    copy = pickle.loads(pickle.dumps(rubric))
    assert copy == rubric
    assert hash(copy) == hash(rubric)
    assert rubric.item("incidents").parameters == {
        "general": 1, "larger": 2, "major": 4, "extraordinary": 4, "responsible": 2
    }  # fmt: skip
    assert rubric.item("visits").parameters == {"empty": 1, "late_weight": 0}
    assert rubric.item("hazards_rectified").parameters == {"empty": 1, "late_weight": 0.5}


# -- files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["toml", "json", "yaml"])
def test_the_default_round_trips(fmt: Any) -> None:
    rubric = default_rubric()
    assert loads_rubric(dumps_rubric(rubric, fmt), fmt) == rubric


def test_a_rubric_with_every_field_round_trips(tmp_path: Path) -> None:
    rubric = small_rubric(
        name_en="small",
        description="测试",
        total=100,
        bonus_cap=2.5,
        items=[
            *small_rubric().items[:2],
            item(id="ad_hoc", measure="hazards_found", mode="bonus", max_points=3, per=0.5,
                 params={"major_weight": 2}, applies_to=["member"], basis="及时发现问题"),
        ],
        vetoes=[
            VetoRule("d", "丁", "d", "三.2", "measure", measure="hazards_overdue", at_least=3,
                     params={"major_weight": 3}, demote_to="合格", applies_to=["section"]),
            VetoRule("c", "丙", "c", "三.4", "incident_grade", grade="major",
                     responsible_only=True),
        ],
        award=Award("良好", share=0.25, name="先进科室", name_en="advanced section", basis="x"),
    )  # fmt: skip
    path = tmp_path / "rubric.toml"
    dump_rubric(rubric, path)
    assert load_rubric(path) == rubric
    text = path.read_text(encoding="utf-8")
    assert "max_points = 60\n" in text  # whole numbers as such
    assert "total = 100\n" in text  # always written, so that a copy shows it
    dump_rubric(rubric, tmp_path / "rubric.json")
    assert load_rubric(tmp_path / "rubric.json") == rubric


def test_the_file_is_written_in_the_formats_order() -> None:
    data = rubric_to_data(default_rubric())
    assert list(data) == [
        "format", "id", "name", "name_en", "description", "total", "bonus_cap",
        "categories", "items", "vetoes", "bands", "award",
    ]  # fmt: skip
    assert list(data["categories"][0])[:4] == ["id", "name", "name_en", "clause"]
    assert data["award"]["clause"] == "三.4"


def test_a_bad_rubric_file_lists_every_problem_with_its_path(data_dir: Path) -> None:
    path = data_dir / "rubric-mistakes.toml"
    with pytest.raises(InvalidRubric) as caught:
        load_rubric(path)
    error = caught.value
    assert isinstance(error, InvalidFile)
    assert isinstance(error, DualdutyError)
    assert error.source == str(path)
    assert [str(p) for p in error.problems] == [
        "bonus_cap: expected a number >= 0, got -1",
        "items[1].max_points: expected a number >= 0, got -5",
        "items[1].params.missed: unknown parameter 'missed' of measure 'reports_not_on_time' "
        "(it takes: 'late', 'missing')",
        "items[1].category: no category 'system_implemantation' in the rubric (categories: "
        "'package_incidents', 'system_implementation')",
        "items[2].mode: 'ratio' takes a ratio measure; 'incidents' is a count "
        "(use 'deduct' or 'bonus')",
        "items[2].floor: only a deduct item has a floor, not a ratio one",
        "vetoes[0].demote_to: no grade band '较差' (bands: 优秀, 合格, 不合格)",
        "bands[1].minimum: 95 is not below 90 of bands[0] (优秀); list the bands from the "
        "highest down",
        "award.winners: unknown key 'winners'",
    ]
    # every line marked as a mistake in the file is reported
    marked = path.read_text(encoding="utf-8").count("# mistake")
    assert marked == len(error.problems)
    message = str(error)
    assert message.startswith(f"{path}: 9 problems found\n")
    assert f"  {path}: items[1].max_points: expected a number >= 0, got -5" in message


def test_keys_a_rubric_file_must_and_may_have() -> None:
    with pytest.raises(InvalidRubric) as caught:
        rubric_from_data(
            {
                "format": 2,
                "title": "x",
                "categories": {"id": "a"},
                "items": [{"id": "x", "name": "x", "mode": "ratio"}, "y"],
            },
            source="d.json",
        )
    assert [str(p) for p in caught.value.problems] == [
        "format: rubric format 2 is not supported; this dualduty reads format 1",
        "id: required field missing",
        "name: required field missing",
        "categories: expected a list, got dict {'id': 'a'}",
        "items[0].category: required field missing",
        "items[0].name_en: required field missing",
        "items[0].clause: required field missing",
        "items[0].measure: required field missing",
        "items[0].max_points: required field missing",
        "items[1]: expected a table of keys, got str 'y'",
        "award: required field missing",
        "title: unknown key 'title'",
    ]


def test_the_bands_default_when_a_file_gives_none() -> None:
    data = rubric_to_data(small_rubric())
    del data["bands"]
    assert rubric_from_data(data).bands == DEFAULT_BANDS


def test_reading_a_file_that_is_not_a_rubric(tmp_path: Path) -> None:
    with pytest.raises(InvalidRubric, match=r"^<string>: not valid TOML: "):
        loads_rubric("id = ")
    with pytest.raises(InvalidRubric, match=r"^<string>: expected a table of keys at the top"):
        loads_rubric("[1, 2]", "json")
    with pytest.raises(InvalidRubric, match=r"cannot tell the format from the suffix '\.txt'"):
        load_rubric(tmp_path / "rubric.txt")
    with pytest.raises(InvalidRubric, match=r"cannot read the rubric file"):
        load_rubric(tmp_path / "missing.toml")
    (tmp_path / "gbk.toml").write_bytes('name = "细则"'.encode("gbk"))
    with pytest.raises(InvalidRubric, match="not UTF-8 text"):
        load_rubric(tmp_path / "gbk.toml")
    with pytest.raises(DualdutyError, match=r"cannot tell the format from the suffix '\.txt'"):
        dump_rubric(default_rubric(), tmp_path / "rubric.txt")
    assert not (tmp_path / "rubric.txt").exists()


def test_a_rubric_in_python_imports_no_records() -> None:
    code = (
        "import sys\n"
        "from dualduty.scoring.rubric import Award\n"
        "Award('优秀', top=1).places(3)\n"
        "print(sorted(m for m in ('cattrs', 'dualduty.records', 'dualduty.io') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
