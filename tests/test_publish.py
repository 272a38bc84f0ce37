"""Publishing the year-end assessment as a record, and re-assessing it (issue 7, item 4).

On the hand-built year of tests/scoring_year.py: a publication is a frozen, hash-chained
record that reads back as the same result; publishing again unchanged appends nothing; a
Q2 report filed late, a changed weight and a plugin's bonus each show up as what changed
and why, and the later publication supersedes the earlier one instead of overwriting it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs
import pytest

from dualduty.plugins import Hooks, hookimpl, make_plugin_manager
from dualduty.records import PermissionDenied
from dualduty.scoring import ScoreItem, ScoringContext, ScoringRule, Veto
from dualduty.scoring.engine import YearAssessment, assess
from dualduty.scoring.publish import Changes, compare, publications, publish
from dualduty.scoring.rubric import default_rubric
from dualduty.storage.store import Store
from scoring_year import HEAD, NOW, OFFICE_HEAD, ORG, SCHEDULE, STAFF, UNIT, at, build

LATER = NOW + dt.timedelta(days=5)


def hooks(*plugins: object) -> Hooks:
    pm = make_plugin_manager(entry_points=False)
    for n, plugin in enumerate(plugins):
        pm.register(plugin, name=f"local-{n}")
    return Hooks(pm)


def run(store: Store, h: Hooks | None = None, **kw: object) -> YearAssessment:
    return assess(store, ORG, 2026, schedule=SCHEDULE, now=NOW, hooks=h or hooks(), **kw)  # type: ignore[arg-type]


def test_a_publication_is_a_chained_record_that_reads_back_as_the_result(store: Store) -> None:
    build(store)
    result = run(store)
    before = len(store)
    pub = publish(store, result, actor=OFFICE_HEAD, at=LATER)
    assert len(store) == before + 1
    assert pub.seq == before + 1
    entry = store.get(pub.seq)
    assert entry.record.kind == "assessment-published"
    assert entry.record.subjects == ("assessment:2026",)
    assert pub.result == result
    assert pub.result.head == before  # it saw every record there was
    assert pub.data.supersedes == 0
    assert pub.changes is None
    assert pub.rubric() == default_rubric()
    assert store.verify().ok
    assert publications(store, 2026) == [pub]
    assert publications(store, 2025) == []


def test_publishing_the_same_again_appends_nothing(store: Store) -> None:
    build(store)
    first = publish(store, run(store), actor=OFFICE_HEAD, at=LATER)
    size = len(store)
    again = publish(store, run(store), actor=OFFICE_HEAD, at=LATER)
    assert again == first
    assert len(store) == size


def test_only_the_leading_group_or_its_office_publishes(store: Store) -> None:
    build(store)
    size = len(store)
    with pytest.raises(PermissionDenied, match="publish the 2026 assessment"):
        publish(store, run(store), actor=STAFF, at=LATER)
    assert len(store) == size


def test_a_late_report_shows_as_a_late_record_and_supersedes(store: Store) -> None:
    r = build(store, q2_report=False)
    first = publish(store, run(store), actor=OFFICE_HEAD, at=LATER)
    # The Q2 report, written in July, is entered only now: dated before the first's now.
    filed = r.reports.submit(
        UNIT, 2026, 2, actor=HEAD, title="第2季度报告", text="报告", at=at(2026, 7, 3)
    )
    assert filed is not None
    (report_seq,) = [e.seq for e in store.read(kind="report-submitted", after=first.seq)]
    second_result = run(store)
    changes = compare(first, second_result, store)
    unit = changes.unit(UNIT)
    (item,) = unit.items
    # 8 − 2 × (Q2 missing × 2 + Q4 missing × 2) = 0 → 8 − 2 × (Q2 late × 1 + Q4 missing × 2)
    # = 2, because of the late record
    assert (item.rule, item.before, item.after, item.delta) == ("quarterly_reports", 0.0, 2.0, 2.0)
    assert item.causes == ("late_record",)
    assert item.late == (report_seq,) == changes.late
    assert unit.score_after == pytest.approx(unit.score_before + 2)  # type: ignore[operator]
    assert [u.unit for u in changes.units] == [UNIT]  # nobody else moved
    assert not changes.rules_changed
    assert not changes.organisation
    assert not changes.schedule
    assert "补录" in item.reason()
    assert "late_record" not in item.reason()
    assert "filed late: #" in item.reason(english=True)

    second = publish(store, second_result, actor=OFFICE_HEAD, at=LATER + dt.timedelta(days=1))
    assert second.seq > first.seq
    assert second.data.supersedes == first.seq
    assert second.changes == changes
    # nothing overwritten: both are in the record, in order
    assert [p.seq for p in publications(store, 2026)] == [first.seq, second.seq]
    assert publications(store, 2026)[0].result == first.result
    assert store.verify().ok


def test_a_changed_weight_is_a_rule_change(store: Store) -> None:
    build(store)
    first = publish(store, run(store), actor=OFFICE_HEAD, at=LATER)
    rubric = default_rubric()
    heavier = attrs.evolve(rubric.item("quarterly_reports"), per=3.0)
    changed = attrs.evolve(
        rubric, items=tuple(heavier if i.id == heavier.id else i for i in rubric.items)
    )
    changes = compare(first, run(store, rubric=changed), store)
    assert changes.rules_changed == ("quarterly_reports",)
    moved = [i for u in changes.units for i in u.items]
    assert moved
    assert all(i.rule == "quarterly_reports" for i in moved)
    assert all(i.causes == ("rule_changed",) for i in moved)
    assert not changes.late


@attrs.frozen
class Bonus:
    id: str = "local.bonus"

    def score(self, context: ScoringContext) -> Iterable[ScoreItem | Veto]:
        assert context.now == NOW
        assert context.assessee == "section"
        if context.unit == UNIT:
            yield ScoreItem(self.id, "system_implementation", 1.5, "local bonus")


class BonusPlugin:
    @hookimpl
    def dualduty_register_scoring_rules(self, register: object) -> None:
        rule: ScoringRule = Bonus()
        register(rule)  # type: ignore[operator]


def test_a_plugin_joining_is_named_and_its_item_is_a_plugin_change(store: Store) -> None:
    build(store)
    first = publish(store, run(store), actor=OFFICE_HEAD, at=LATER)
    changes = compare(first, run(store, hooks(BonusPlugin())), store)
    assert changes.plugins_added == ("local-0",)
    assert changes.plugins_removed == ()
    (unit,) = changes.units
    (item,) = unit.items
    assert (unit.unit, item.rule, item.before, item.after) == (UNIT, "local.bonus", None, 1.5)
    assert item.causes == ("plugin",)


def test_changes_round_trip_through_json(store: Store) -> None:
    r = build(store, q2_report=False)
    first = publish(store, run(store), actor=OFFICE_HEAD, at=LATER)
    r.reports.submit(UNIT, 2026, 2, actor=HEAD, title="第2季度报告", text="报告", at=at(2026, 7, 3))
    changes = compare(first, run(store), store)
    assert Changes.from_json(changes.to_json()) == changes
    assert not changes.empty
    assert any("quarterly_reports" in line for line in changes.lines())


def test_a_result_read_back_cannot_be_published_again(store: Store) -> None:
    build(store)
    pub = publish(store, run(store), actor=OFFICE_HEAD, at=LATER)
    with pytest.raises(ValueError, match="no basis"):
        publish(store, pub.result, actor=OFFICE_HEAD)


def test_publications_of_every_year_are_listed_without_a_year(store: Store) -> None:
    build(store)
    publish(store, run(store), actor=OFFICE_HEAD, at=LATER)
    (pub,) = publications(store)
    assert pub.actor == OFFICE_HEAD
    assert pub.data.year == 2026


def test_a_late_record_that_costs_nothing_is_still_named(store: Store) -> None:
    """A report filed on time is not cited (it costs nothing), yet entering it late moves
    the item: the unseen records about the unit explain the change."""
    r = build(store)
    first = publish(store, run(store), actor=OFFICE_HEAD, at=LATER)
    r.reports.submit(
        UNIT, 2026, 4, actor=HEAD, title="第4季度报告", text="报告", at=at(2026, 12, 30)
    )
    (seq,) = [e.seq for e in store.read(kind="report-submitted", after=first.seq)]
    result = run(store)
    assert seq not in result.assessment(UNIT).item("quarterly_reports").seqs
    (item,) = compare(first, result, store).unit(UNIT).items
    assert (item.rule, item.causes, item.late, item.added) == (
        "quarterly_reports",
        ("late_record",),
        (seq,),
        (),
    )
