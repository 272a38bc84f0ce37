"""The year-end assessment engine (三.4) on the hand-built year of tests/scoring_year.py.

Every number asserted here is worked out by hand in the comments beside it, from the year
as scoring_year.py describes it and the default rubric (dualduty/scoring/default_rubric.toml):
visits ratio 15; topic studies deduct 10, 2 each; quarterly reports deduct 8, 2 per unit
(late 1, missing 2); coordination deduct 4, 1 each; pledge deduct 4, 4; training deduct
3, 1 each; annual targets deduct 3, 3; activities deduct 3, 1 each; hazards rectified ratio
20 (a late one 0.5); major hazards reported deduct 10, 5 each; hazards closed bonus 0.2
each (major 5), at most 2; incidents deduct 20, 5 per weighted incident (general 1, × 2
for responsibility). Bands 优秀 90, 良好 80, 合格 60, 不合格; the award: a fifth of the
sections assessed (at least one), graded 优秀, never vetoed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import attrs
import pytest

from dualduty.plugins import Hooks, hookimpl, make_plugin_manager
from dualduty.scoring import (
    AssessmentDraft,
    GradeBand,
    ScoreItem,
    ScoringContext,
    ScoringRule,
    Veto,
)
from dualduty.scoring.engine import (
    Assessment,
    AssessmentError,
    YearAssessment,
    assess,
    explain,
)
from dualduty.scoring.rubric import Award, VetoRule, default_rubric
from dualduty.storage import open_store
from dualduty.storage.store import Store
from scoring_year import MORAL, NOW, ORG, SAFETY, SCHEDULE, UNIT, build

THREE = [UNIT, MORAL, SAFETY]


def plugins(*objects: object) -> Hooks:
    """The built-in plugin and *objects*, no installed plugins."""
    pm = make_plugin_manager(entry_points=False)
    for n, plugin in enumerate(objects):
        pm.register(plugin, name=f"test-plugin-{n}")
    return Hooks(pm)


def run(store: Store, hooks: Hooks | None = None, **kw: object) -> YearAssessment:
    options: dict[str, object] = {"units": THREE, **kw}
    return assess(store, ORG, 2026, schedule=SCHEDULE, now=NOW, hooks=hooks or plugins(), **options)  # type: ignore[arg-type]


def points(a: Assessment) -> dict[str, float]:
    return {i.rule: i.points for i in a.items}


# -- the year by hand ---------------------------------------------------------------------

#: The general office (办公室), item by item.
OFFICE_POINTS = {
    "visits": 11.25,  # 15 × 6/8 (Q2's second missed, Q4's second late: late counts 0)
    "topic_studies": 8.0,  # 10 − 2 × 1 short (Q3: one of two)
    "quarterly_reports": 2.0,  # 8 − 2 × (1 late × 1 + 1 missing × 2) = 8 − 6
    "coordination": 3.0,  # 4 − 1 × 1 (nobody of it at Q3's)
    "pledge": 4.0,  # the head signed
    "staff_training": 2.0,  # 3 − 1 × 1 (p012)
    "annual_targets": 0.0,  # 3 − 3 × 1: no note of its annual targets
    "activities": 2.0,  # 3 − 1 × 1: the sports day had no safety plan
    "hazards_rectified": 10.0,  # 20 × (1 on time + 0.5 × 1 late) / (2 closed + 1 overdue)
    "major_hazard_reports": 10.0,  # the major hazard was registered within the hour
    "hazards_closed_bonus": 0.4,  # 0.2 × 2 general hazards closed
    "incidents": 10.0,  # 20 − 5 × (1 general × 2 for responsibility)
}
# 11.25 + 8 + 2 + 3 + 4 + 2 + 0 + 2 = 32.25; + 10 + 10 = 52.25; + 10 = 62.25 base
OFFICE_TOTAL = 62.65  # 62.25 + 0.4 bonus (under the cap of 5)

#: 政教科 (moral-education).
MORAL_POINTS = {
    "visits": 13.13,  # 15 × 7/8 = 13.125, rounded half up
    "topic_studies": 10.0,  # two a quarter
    "quarterly_reports": 8.0,  # all on time
    "coordination": 4.0,  # at all three
    "pledge": 4.0,
    "staff_training": 2.0,  # 3 − 1 (p015)
    "annual_targets": 3.0,  # the note
    "activities": 3.0,  # none hosted
    "hazards_rectified": 20.0,  # 20 × 2/2
    "major_hazard_reports": 10.0,
    "hazards_closed_bonus": 0.4,  # 0.2 × 2
    "incidents": 15.0,  # 20 − 5 × 1 general, no responsibility
}
# 13.13 + 10 + 8 + 4 + 4 + 2 + 3 + 3 = 47.13; + 20 + 10 = 77.13; + 15 = 92.13 base
MORAL_TOTAL = 92.53  # + 0.4

#: 法规安全科 (regulation-safety): only at the coordination meetings.
SAFETY_POINTS = {
    "visits": 0.0,  # 15 × 0/8
    "topic_studies": 0.0,  # 10 − 2 × 8, not below 0
    "quarterly_reports": 0.0,  # 8 − 2 × (4 missing × 2), not below 0
    "coordination": 4.0,  # its head at all three
    "pledge": 0.0,  # 4 − 4 × 1: p007 signed none
    "staff_training": 0.0,  # 3 − 1 × 3
    "annual_targets": 0.0,
    "activities": 3.0,
    "hazards_rectified": 20.0,  # nothing due: the ratio is 1
    "major_hazard_reports": 10.0,
    "hazards_closed_bonus": 0.0,
    "incidents": 20.0,
}
SAFETY_TOTAL = 57.0  # 0 + 0 + 0 + 4 + 0 + 0 + 0 + 3 + 20 + 10 + 0 + 20


def test_each_item_the_total_the_grade_the_ranking_and_the_award_by_hand(store: Store) -> None:
    build(store)
    result = run(store)
    office, moral, safety = (result.assessment(u) for u in THREE)
    assert points(office) == OFFICE_POINTS
    assert points(moral) == MORAL_POINTS
    assert points(safety) == SAFETY_POINTS
    assert [a.total for a in (office, moral, safety)] == [OFFICE_TOTAL, MORAL_TOTAL, SAFETY_TOTAL]
    # 92.53 >= 90: 优秀; 62.65 would be 合格 but is vetoed: 不合格; 57 < 60: 不合格
    assert [a.grade for a in (office, moral, safety)] == ["不合格", "优秀", "不合格"]
    # by total: 92.53, 62.65, 57
    assert [(a.unit, a.rank) for a in result.ranking] == [(MORAL, 1), (UNIT, 2), (SAFETY, 3)]
    # a fifth of 3 sections is 0.6: one place, at least; 政教科 is 优秀 and not vetoed
    assert result.places == 1
    assert result.excellent == (MORAL,)
    assert [a.excellent for a in result.ranking] == [True, False, False]
    assert [a.eligible for a in result.ranking] == [True, False, False]
    assert result.members == ()


def test_a_responsibility_incident_with_a_death_vetoes_the_general_office(store: Store) -> None:
    build(store)
    rubric = default_rubric()
    result = run(store)
    office = result.assessment(UNIT)
    (veto,) = office.vetoes
    assert office.vetoed
    assert veto.rule == "responsibility_death"
    (incident,) = office.item("incidents").evidence
    assert veto.evidence == (incident,)
    assert veto.seqs == office.item("incidents").seqs
    assert "死亡1人" in veto.reason
    assert "1 death" in veto.reason_en
    # the veto leaves the total and lowers the grade to the lowest band, as the rubric says
    assert rubric.grade_of(office.total).name == "合格"
    assert office.grade == rubric.grade_of(office.total, ["responsibility_death"]).name == "不合格"
    # never awarded: not even with three places open to every grade
    lenient = attrs.evolve(rubric, award=Award("不合格", top=3))
    assert run(store, rubric=lenient).excellent == (MORAL, SAFETY)


def test_one_late_report_fewer_raises_the_total_by_exactly_the_late_deduction(
    store: Store, tmp_path: Path
) -> None:
    build(store)
    with open_store(f"sqlite:///{tmp_path / 'on-time.db'}") as on_time:
        build(on_time, q2_report_late=False)
        with open_store(f"sqlite:///{tmp_path / 'none.db'}") as none:
            build(none, q2_report=False)
            before = run(store).assessment(UNIT)
            after = run(on_time).assessment(UNIT)
            without = run(none).assessment(UNIT)
    item = default_rubric().item("quarterly_reports")
    assert item.per is not None
    late_deduction = item.per * item.parameters["late"]  # 2 × 1
    assert late_deduction == 2
    assert after.total - before.total == pytest.approx(late_deduction)  # 62.65 → 64.65
    assert after.total == 64.65
    changed = {r for r, p in points(after).items() if p != points(before)[r]}
    assert changed == {"quarterly_reports"}
    assert after.item("quarterly_reports").points == 4.0  # 8 − 2 × (1 missing × 2)
    # not submitted at all, it is missing: 2 × (2 − 1) more than late
    missing_more = item.per * (item.parameters["missing"] - item.parameters["late"])
    assert before.total - without.total == pytest.approx(missing_more)
    assert without.item("quarterly_reports").points == 0.0  # 8 − 2 × (2 missing × 2)


def test_every_item_says_why_with_its_evidence(store: Store) -> None:
    build(store)
    office = run(store).assessment(UNIT)
    visits = office.item("visits")
    assert visits.clause == "三.2"
    assert visits.max_points == 15
    assert visits.value == 0.75
    assert len(visits.evidence) == 8  # 6 done, then the late and the missed one
    assert visits.evidence[-2:] == (f"v.2026q4.{UNIT}.s0002.2", f"v.2026q2.{UNIT}.s0002.2")
    assert len(visits.seqs) == 7  # the inspections' records
    assert (
        visits.reason == "分包学校专门督查：应督查8次，按期6次，逾期1次，未督查1次；15×0.75=11.25分"
    )
    assert visits.reason_en.endswith("; 15 × 0.75 = 11.25")
    reports = office.item("quarterly_reports")
    assert reports.reason.endswith("扣2×3=6分，得2分")
    assert reports.reason_en.endswith("8 − 2 × 3 = 2")
    late, missing = reports.evidence  # the Q2 report, late; Q4's deadline, missed
    assert late.startswith("rp-")
    assert missing == f"d.2026q4.report.{UNIT}"
    assert len(reports.seqs) == 1  # the late report's record
    training = office.item("staff_training")
    assert training.evidence == ("p012",)
    for item in office.items:
        assert "\n" not in item.reason
        assert "\n" not in item.reason_en
        assert not item.plugin
    safety = run(store).assessment(SAFETY)
    assert safety.item("topic_studies").reason.endswith("扣完为止，得0分")
    assert "not below 0: 0" in safety.item("topic_studies").reason_en
    text = explain(office, english=True)
    assert text.splitlines()[0] == f"{UNIT} 办公室: 62.65 (不合格), vetoed"
    assert len(text.splitlines()) == 1 + len(office.items) + len(office.vetoes)


def test_the_json_shape(store: Store) -> None:
    build(store)
    data = run(store).to_json()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert {"year", "ranking", "excellent"} <= set(data)
    assert data["year"] == 2026
    assert data["excellent"] == [MORAL]
    first = data["ranking"][0]
    assert {"unit", "score", "grade", "veto", "rank", "items"} <= set(first)
    assert (first["unit"], first["score"], first["grade"], first["veto"], first["rank"]) == (
        MORAL,
        MORAL_TOTAL,
        "优秀",
        False,
        1,
    )
    item = first["items"][0]
    assert {"rule", "clause", "points", "max_points", "evidence", "reason"} <= set(item)
    assert (item["rule"], item["clause"], item["points"], item["max_points"]) == (
        "visits",
        "三.2",
        13.13,
        15.0,
    )
    office = data["ranking"][1]
    assert office["veto"] is True
    assert office["vetoes"][0]["rule"] == "responsibility_death"


def test_the_members_are_assessed_on_their_packages_with_the_same_machinery(
    store: Store,
) -> None:
    build(store)
    result = run(store, members=True)
    assert [m.unit for m in result.members] == ["director", "deputy-1", "deputy-2"]
    deputy = result.assessment("deputy-1")  # s0002, with the general office
    assert deputy.assessee == "member"
    assert deputy.rank is None
    assert not deputy.eligible
    assert deputy.unit not in {a.unit for a in result.ranking}
    assert points(deputy) == {
        "visits": 0.0,  # nobody inspected s0002 for deputy-1: 15 × 0/8
        "pledge": 0.0,  # p002 signed none
        "hazards_rectified": 10.0,  # the office's hazards: 20 × 1.5/3
        "major_hazard_reports": 10.0,
        "hazards_closed_bonus": 0.4,
        "incidents": 10.0,
    }
    # base 0 + 0 + 10 + 10 + 10 = 30 of the member items' 15 + 4 + 20 + 10 + 20 = 69,
    # scaled to 100: 30 × 100 / 69 = 43.478… → 43.48; + 0.4 bonus
    assert deputy.total == 43.88
    assert deputy.vetoed  # the same responsibility incident with a death
    assert deputy.grade == "不合格"
    assert result.excellent == (MORAL,)  # members win nothing


# -- local rules through the hooks -----------------------------------------------------------


@attrs.frozen
class UnannouncedBonus:
    """A district's rule: 1 point for each ad hoc unannounced inspection (不定期暗访)."""

    id: str = "district.unannounced"

    def score(self, context: ScoringContext) -> Iterable[ScoreItem | Veto]:
        seqs = [
            e.seq
            for e in context.store.read(kind="inspection")
            if e.record.data.holder == context.unit
            and e.record.data.visit is None
            and not e.record.data.announced
            and e.record.data.date.year == context.year
        ]
        if seqs:
            yield ScoreItem(
                self.id,
                "system_implementation",
                len(seqs),
                f"不定期暗访{len(seqs)}次，每次加1分",
                tuple(seqs),
                clause="三.2",
            )


class District:
    """A district plugin: a rule, an adjustment (a bonus and a veto) and its own bands."""

    def __init__(self) -> None:
        self.drafts: dict[str, tuple[ScoreItem | Veto, ...]] = {}

    @hookimpl
    def dualduty_register_scoring_rules(self, register: Callable[[ScoringRule], None]) -> None:
        register(UnannouncedBonus())

    @hookimpl
    def dualduty_adjust_assessment(self, draft: AssessmentDraft) -> Sequence[ScoreItem | Veto]:
        self.drafts[draft.context.unit] = draft.items
        items = {i.rule: i for i in draft.items if isinstance(i, ScoreItem)}
        out: list[ScoreItem | Veto] = []
        if items["incidents"].points == 20:
            out.append(
                ScoreItem(
                    "district.no_incident", "package_incidents", 2, "全年分包学校无事故，加2分"
                )
            )
        if items["quarterly_reports"].points == 0:
            out.append(Veto("district.reports", "季度书面报告均未按时报送，一票否决"))
        return out

    @hookimpl
    def dualduty_grade_bands(self, context: ScoringContext) -> Sequence[GradeBand]:
        return [
            GradeBand("优秀", 95),
            GradeBand("良好", 85),
            GradeBand("合格", 60),
            GradeBand("不合格", 0),
        ]


def test_a_plugin_s_rule_adjustment_and_bands_take_part(store: Store) -> None:
    build(store)
    district = District()
    result = run(store, hooks=plugins(district))
    office, moral, safety = (result.assessment(u) for u in THREE)
    # the rule: the general office's ad hoc unannounced inspection, 1 point
    bonus = office.item("district.unannounced")
    assert (bonus.points, bonus.max_points, bonus.value, bonus.plugin) == (1.0, 0.0, None, True)
    assert bonus.category == "system_implementation"
    assert bonus.clause == "三.2"
    assert len(bonus.seqs) == 1
    assert bonus.reason == bonus.reason_en == "不定期暗访1次，每次加1分"
    assert office.total == OFFICE_TOTAL + 1  # 63.65
    # the adjustment: 法规安全科 had no incident (+2) and no report in time (a veto)
    assert safety.item("district.no_incident").points == 2
    assert safety.total == SAFETY_TOTAL + 2  # 59
    assert [v.rule for v in safety.vetoes] == ["district.reports"]
    assert safety.vetoes[0].plugin
    # 政教科: nothing added, but the district's bands put 92.53 below 95: 良好
    assert moral.total == MORAL_TOTAL
    assert points(moral) == MORAL_POINTS
    assert (moral.grade, moral.eligible) == ("良好", False)
    assert result.excellent == ()  # nobody 优秀 under the district's bands
    assert [a.unit for a in result.ranking] == [MORAL, UNIT, SAFETY]  # 92.53, 63.65, 59
    # the adjustment saw the rubric's items, the rubric's vetoes and the rule's items
    seen = district.drafts[UNIT]
    rules = [i.rule for i in seen]
    assert rules[:12] == list(OFFICE_POINTS)
    assert "responsibility_death" in rules
    assert rules[-1] == "district.unannounced"


def test_without_the_plugin_nothing_of_it_remains(store: Store) -> None:
    build(store)
    run(store, hooks=plugins(District()))
    assert run(store).assessment(UNIT).total == OFFICE_TOTAL


class BadRule:
    id = "bad.rule"

    def score(self, context: ScoringContext) -> Iterable[object]:
        yield "ten points"


class Registers:
    def __init__(self, rule: object) -> None:
        self.rule = rule

    @hookimpl
    def dualduty_register_scoring_rules(self, register: Callable[[object], None]) -> None:
        register(self.rule)


class Bands:
    def __init__(self, bands: object) -> None:
        self.bands = bands

    @hookimpl
    def dualduty_grade_bands(self, context: ScoringContext) -> object:
        return self.bands


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (Registers(BadRule()), "scoring rule 'bad.rule' gave 'ten points'"),
        (Bands([GradeBand("A", 90), GradeBand("B", 0)]), "minimum grade '优秀' is not among"),
        (Bands([GradeBand("优秀", 60), GradeBand("合格", 90)]), "from the highest down"),
        (Bands([]), "expected a list of GradeBand"),
    ],
)
def test_a_plugin_output_that_does_not_fit_is_refused(
    store: Store, plugin: object, message: str
) -> None:
    build(store)
    with pytest.raises(AssessmentError, match=message):
        run(store, hooks=plugins(plugin))


# -- ranking, vetoes, award ----------------------------------------------------------------


@attrs.frozen
class Nudge:
    """Points that tie or split sections whose years are alike."""

    id: str = "test.nudge"

    def score(self, context: ScoringContext) -> Iterable[ScoreItem | Veto]:
        if context.unit == "sports":
            yield ScoreItem(self.id, "system_implementation", 1, "加1分")
        if context.unit == "audit":
            yield ScoreItem(self.id, "hazard_remediation", 1, "加1分")
        if context.unit == "admissions":
            yield Veto(self.id, "否决")


def test_the_tie_break(store: Store) -> None:
    build(store)
    result = run(store, hooks=plugins(Registers(Nudge())), units=None)
    order = [a.unit for a in result.ranking]
    assert len(order) == len({u.id for u in ORG.units if u.kind.value in {"section", "centre"}})
    assert [a.rank for a in result.ranking] == list(range(1, len(order) + 1))
    # A section with nothing to do (no package): 15 (no visit due) + 0 + 0 + 1 (absent
    # from 3 coordination meetings) + 0 + 0 + 0 + 3 + 20 (no hazard due) + 10 + 20 = 69.
    plain = [a for a in result.ranking if a.unit not in {*THREE, "sports", "audit"}]
    assert {a.total for a in plain} == {69.0}
    # sports and audit both 70; sports has the point in 制度落实, the first category
    assert result.ranking[1].unit == "sports"
    assert result.ranking[2].unit == "audit"
    assert result.assessment("sports").total == result.assessment("audit").total == 70
    # the 69s by unit id, the vetoed one (admissions) after them all
    sixty_nine = [a.unit for a in result.ranking if a.total == 69]
    assert sixty_nine[-1] == "admissions"
    assert sixty_nine[:-1] == sorted(sixty_nine[:-1])
    assert order[0] == MORAL
    assert order[-2:] == [UNIT, SAFETY]  # 62.65, 57
    # 23 sections × 0.2 = 4.6: four places; only 政教科 is 优秀
    assert result.places == 4
    assert result.excellent == (MORAL,)


def test_the_award_top_n_passes_over_the_vetoed_and_those_below_the_minimum_grade(
    store: Store,
) -> None:
    build(store)
    rubric = default_rubric()
    by_grade = attrs.evolve(rubric, award=Award("合格", top=3))
    # 政教科 优秀; the general office vetoed; 法规安全科 不合格
    assert run(store, rubric=by_grade).excellent == (MORAL,)
    assert (
        run(store, rubric=attrs.evolve(rubric, award=Award("优秀", top=1)), units=[UNIT]).excellent
        == ()
    )


def test_vetoes_of_other_kinds_and_a_demotion(store: Store) -> None:
    build(store)
    rubric = default_rubric()
    extra = (
        VetoRule(
            "two_reports_missing", "季度书面报告缺报两份以上", "two quarterly reports missing",
            "三.2", "measure", measure="reports_missing", at_least=2,
        ),
        VetoRule(
            "any_incident", "分包学校发生安全事故", "an incident at a packaged school", "三.4",
            "incident_grade", grade="general", demote_to="良好",
        ),
        VetoRule(
            "responsible_incident", "分包学校发生责任事故", "a responsibility incident", "三.4",
            "incident_grade", grade="general", responsible_only=True,
        ),
    )  # fmt: skip
    result = run(store, rubric=attrs.evolve(rubric, vetoes=rubric.vetoes + extra))
    office, moral, safety = (result.assessment(u) for u in THREE)
    assert [v.rule for v in office.vetoes] == [
        "responsibility_death",
        "any_incident",
        "responsible_incident",
    ]  # 1 report missing: not two
    # 政教科's incident (no responsibility) vetoes by any_incident, which demotes to 良好
    assert [v.rule for v in moral.vetoes] == ["any_incident"]
    assert (moral.total, moral.grade, moral.eligible) == (MORAL_TOTAL, "良好", False)
    # 法规安全科: four reports missing
    assert [v.rule for v in safety.vetoes] == ["two_reports_missing"]
    assert "4" in safety.vetoes[0].reason
    assert safety.grade == "不合格"
    assert result.excellent == ()


def test_only_sections_are_assessed(store: Store) -> None:
    build(store)
    with pytest.raises(AssessmentError, match="'leading-group', 'nowhere'"):
        run(store, units=["leading-group", UNIT, "nowhere"])


def test_the_assessment_is_deterministic(store: Store, tmp_path: Path) -> None:
    build(store)
    first, second = run(store, members=True), run(store, members=True)
    assert first == second
    assert first.to_json() == second.to_json()
    with open_store(f"sqlite:///{tmp_path / 'r.db'}") as sqlite:
        build(sqlite)
        assert run(sqlite, members=True).to_json() == first.to_json()
    with pytest.raises(KeyError):
        first.assessment("finance")  # not among the units assessed
