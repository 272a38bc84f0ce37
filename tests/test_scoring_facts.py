"""The figures the assessment measures from, on a year counted by hand."""

from __future__ import annotations

import pytest

from dualduty.records.compliance import compliance
from dualduty.scoring.facts import FIGURES, unit_facts
from dualduty.storage.store import Store
from scoring_year import EXPECTED, NOW, ORG, SCHEDULE, UNIT, build


def test_the_general_office_s_year_as_counted_by_hand(store: Store) -> None:
    build(store)
    facts = unit_facts(compliance(store, ORG, SCHEDULE, now=NOW), store, ORG)[UNIT]
    assert set(facts.measures) == set(FIGURES)
    got = {name: m.value for name, m in facts.measures.items()}
    assert got == pytest.approx(EXPECTED)
    (incident,) = facts.incidents
    assert (incident.responsible, incident.deaths, incident.concealed) == (True, 1, False)
    assert incident.seqs  # its records, as evidence
    late = facts["visits_late"]
    assert late.ids == (f"v.2026q4.{UNIT}.s0002.2",)
    assert len(late.seqs) == 1


def test_every_section_has_figures_and_untouched_ones_are_clean(store: Store) -> None:
    build(store)
    view = compliance(store, ORG, SCHEDULE, now=NOW)
    facts = unit_facts(view, store, ORG)
    assert set(facts) == {row.section for row in view.sections if row.quarter is None}
    other = facts["moral-education"]
    assert other["incidents"].value == 0
    assert other["hazards_found"].value == 0
    assert unit_facts(view, store, ORG, units=[UNIT]).keys() == {UNIT}
