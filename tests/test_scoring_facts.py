"""The figures the assessment measures from, on a year counted by hand (tests/scoring_year.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from dualduty.records.compliance import compliance
from dualduty.scoring.facts import FIGURES, MEMBER_FIGURES, UnitFacts, unit_facts, year_facts
from dualduty.scoring.rubric import Assessee, Measure
from dualduty.storage.store import Store
from scoring_year import (
    EXPECTED,
    EXPECTED_MORAL,
    EXPECTED_SAFETY,
    MORAL,
    NOW,
    ORG,
    SAFETY,
    SCHEDULE,
    UNIT,
    ZONE,
    build,
)


def facts_of(store: Store, now: dt.datetime = NOW) -> dict[str, UnitFacts]:
    return unit_facts(compliance(store, ORG, SCHEDULE, now=now), store, ORG)


@pytest.mark.parametrize(
    ("unit", "expected"),
    [(UNIT, EXPECTED), (MORAL, EXPECTED_MORAL), (SAFETY, EXPECTED_SAFETY)],
)
def test_each_section_s_year_as_counted_by_hand(
    store: Store, unit: str, expected: dict[str, float]
) -> None:
    build(store)
    facts = facts_of(store)[unit]
    assert set(facts.measures) == set(FIGURES)
    assert set(expected) == set(FIGURES)
    got = {name: m.value for name, m in facts.measures.items()}
    assert got == pytest.approx(expected)


def test_every_measure_is_a_figure_taken_with_its_defaults(store: Store) -> None:
    build(store)
    facts = facts_of(store)[UNIT]
    for m in Measure:
        assert facts.measure(m) == facts[m.value], m


def test_the_evidence_of_the_general_office_s_figures(store: Store) -> None:
    build(store)
    facts = facts_of(store)[UNIT]
    (incident,) = facts.incidents
    assert (incident.responsible, incident.deaths, incident.concealed) == (True, 1, False)
    assert incident.reported_late  # its final report was never made
    assert incident.occurred_on == dt.date(2026, 6, 10)
    assert incident.seqs == facts["incidents"].seqs
    late = facts["visits_late"]
    assert late.ids == (f"v.2026q4.{UNIT}.s0002.2",)
    assert len(late.seqs) == 1
    ratio = facts["visits_done_ratio"]
    assert len(ratio.ids) == 6
    # what fell short: the late one and the missed one
    assert ratio.shortfall == (f"v.2026q4.{UNIT}.s0002.2", f"v.2026q2.{UNIT}.s0002.2")
    assert ratio.evidence == ratio.ids + ratio.shortfall
    assert facts["staff_untrained"].ids == ("p012",)
    assert facts["reports_missing"].ids == (f"d.2026q4.report.{UNIT}",)
    assert "6 of 8 dedicated inspections" in ratio.detail
    assert "按期6次" in ratio.detail_zh


def test_a_coordination_meeting_missed_is_the_one_nobody_of_the_section_attended(
    store: Store,
) -> None:
    build(store)
    facts = facts_of(store)
    absent = facts[UNIT]["coordination_absent"]
    held = facts[UNIT]["coordination_held"]
    assert absent.ids == held.ids[2:]  # Q3's, the third held
    assert facts[MORAL]["coordination_absent"].ids == ()


def test_the_annual_targets_record_is_cited(store: Store) -> None:
    build(store)
    facts = facts_of(store)
    (seq,) = facts[MORAL]["annual_targets_missing"].seqs
    assert store.get(seq).record.kind == "targets-set"
    assert facts[MORAL]["annual_targets_missing"].value == 0
    assert facts[UNIT]["annual_targets_missing"].seqs == ()


def _targets(store: Store, unit: str, year: int, at: dt.datetime, *safety: str) -> int:
    from dualduty.records import Record, TargetsSet

    data = TargetsSet(unit, year, at.date(), safety)
    (entry,) = store.append(Record.of(data, actor="p010", at=at, subjects=[f"unit:{unit}"]))
    return entry.seq


def test_targets_of_another_year_or_unit_or_after_now_do_not_count(store: Store) -> None:
    build(store)
    _targets(store, UNIT, 2027, dt.datetime(2026, 12, 1, tzinfo=ZONE), "安全纳入年度目标")
    _targets(store, MORAL, 2026, dt.datetime(2026, 3, 1, tzinfo=ZONE), "安全纳入年度目标")
    assert facts_of(store)[UNIT]["annual_targets_missing"].value == 1
    # recorded after the assessment's now (NOW is in January 2027)
    _targets(store, UNIT, 2026, dt.datetime(2027, 6, 1, tzinfo=ZONE), "安全纳入年度目标")
    assert facts_of(store)[UNIT]["annual_targets_missing"].value == 1


def test_the_latest_targets_count_and_safety_must_be_among_them(store: Store) -> None:
    build(store)
    seq = _targets(store, UNIT, 2026, dt.datetime(2026, 3, 1, tzinfo=ZONE), "校舍安全")
    assert facts_of(store)[UNIT]["annual_targets_missing"].seqs == (seq,)
    _targets(store, UNIT, 2026, dt.datetime(2026, 4, 1, tzinfo=ZONE))  # replaced: no safety
    assert facts_of(store)[UNIT]["annual_targets_missing"].value == 1


def test_measures_with_an_item_s_parameters(store: Store) -> None:
    build(store)
    facts = facts_of(store)
    office = facts[UNIT]
    # 1 late × 1 + 1 missing × 2
    assert office.measure("reports_not_on_time", {"late": 1, "missing": 2}).value == 3
    # (6 done + 0.5 × 1 late) / 8 due
    assert office.measure("visits_done_ratio", {"late_weight": 0.5}).value == pytest.approx(6.5 / 8)
    # (1 on time + 0.5 × 1 closed late) / (2 closed + 1 overdue)
    assert office.measure("hazards_closed_on_time_ratio", {"late_weight": 0.5}).value == 0.5
    # 3 found, the major one counting 5: 2 + 5
    assert office.measure("hazards_found", {"major_weight": 5}).value == 7
    # one general incident (1) found a responsibility incident (× 3)
    assert office.measure("incidents", {"responsible": 3}).value == 3
    assert office.measure("incidents", {"general": 2, "responsible": 1}).value == 2
    # (1 on time + 1 × 0 late) / 2: a late report counting nothing, then counting fully
    assert office.measure("reports_on_time_ratio").value == 0.5
    assert office.measure("reports_on_time_ratio", {"late_weight": 1}).value == 0.75
    # nothing was due: the ratio's `empty`
    assert facts[SAFETY].measure("hazards_closed_on_time_ratio", {"empty": 0}).value == 0
    assert facts[SAFETY].measure("hazards_closed_on_time_ratio").value == 1
    # 政教科: one incident without responsibility found counts its grade's weight only
    assert facts[MORAL].measure("incidents", {"general": 1, "responsible": 2}).value == 1


def test_the_members_on_their_packages(store: Store) -> None:
    build(store)
    view = compliance(store, ORG, SCHEDULE, now=NOW)
    found = year_facts(view, store, ORG, members=True)
    assert list(found.members) == ["director", "deputy-1", "deputy-2"]  # the group's order
    deputy = found.members["deputy-1"]  # s0002, with the general office
    assert deputy.assessee is Assessee.MEMBER
    assert set(deputy.measures) == set(MEMBER_FIGURES)
    assert deputy.name.startswith("副局长")
    # nobody inspected s0002 for deputy-1; its hazards and incident are the office's
    assert deputy["visits_missed"].value == 8
    assert deputy["visits_done_ratio"].value == 0
    for name in ("hazards_closed_on_time_ratio", "incidents", "responsibility_deaths"):
        assert deputy[name].value == found.sections[UNIT][name].value
    assert deputy["pledge_unsigned"].value == 1  # p002 signed none
    assert found.members["director"]["pledge_unsigned"].value == 0  # the leader signs none
    assert found.members["deputy-2"]["incidents"].value == 1  # 政教科's at s0003
    with pytest.raises(KeyError, match="topic_studies_short"):
        deputy.measure("topic_studies_short")
    assert year_facts(view, store, ORG).members == {}


def test_figures_as_of_mid_year(store: Store) -> None:
    build(store)
    office = facts_of(store, dt.datetime(2026, 7, 2, 9, tzinfo=ZONE))[UNIT]
    got = {name: office[name].value for name in (
        "visits_pending", "visits_done", "visits_missed", "visits_done_ratio",
        "topic_studies_required", "topic_studies_held", "topic_studies_short",
        "reports_due", "reports_on_time", "reports_missing", "coordination_held",
        "incidents", "incidents_reported_late", "hazards_closed", "staff_untrained",
        "activity_findings",
    )}  # fmt: skip
    assert got == {
        "visits_pending": 4,  # Q3 and Q4's
        "visits_done": 3,  # Q1's two, Q2's first
        "visits_missed": 1,  # Q2's second
        "visits_done_ratio": 3 / 4,
        "topic_studies_required": 4,  # Q1 and Q2 are over
        "topic_studies_held": 4,
        "topic_studies_short": 0,
        "reports_due": 2,
        "reports_on_time": 1,
        "reports_missing": 1,  # Q2's comes in on 3 July
        "coordination_held": 2,
        "incidents": 2,  # responsibility found on 1 July
        "incidents_reported_late": 0,  # the final report is due by 10 July
        "hazards_closed": 1,
        "staff_untrained": 1,
        "activity_findings": 0,  # the activity is in October
    }


def test_every_section_has_figures_and_untouched_ones_are_clean(store: Store) -> None:
    build(store)
    view = compliance(store, ORG, SCHEDULE, now=NOW)
    facts = unit_facts(view, store, ORG)
    assert set(facts) == {row.section for row in view.sections if row.quarter is None}
    other = facts["finance"]
    assert other["incidents"].value == 0
    assert other["hazards_found"].value == 0
    assert other["visits_due"].value == 0
    assert other["visits_done_ratio"].value == 1  # nothing due
    assert other["coordination_absent"].value == 3
    assert unit_facts(view, store, ORG, units=[UNIT]).keys() == {UNIT}
