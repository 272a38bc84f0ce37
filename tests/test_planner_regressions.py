"""Inputs that once broke the planner, kept so they never break it again."""

from __future__ import annotations

from dualduty.planning import AssignmentProblem, Holder, Item, solve_assignment


def test_packing_off_the_candidates_then_polishing() -> None:
    """Found by hypothesis: packing under hard limits moved a school to a holder outside
    its sparse candidates, and a later swap looked up its cost there (``KeyError``)."""
    problem = AssignmentProblem(
        items=(
            Item("s0", weight=12),
            Item("s1", weight=14),
            Item("s2", weight=14),
            Item("s3", weight=1, owners=frozenset({"h2"})),
        ),
        holders=(
            Holder("h0", share=2.0, limit=25),
            Holder("h1", share=0.5, limit=0),
            Holder("h2", share=0.5, limit=None),
            Holder("h3", share=2.0, limit=15),
        ),
        name="test",
    )
    result = solve_assignment(problem, seed=0)
    assert sorted(result.holder_of) == ["s0", "s1", "s2", "s3"]
    limits = {h.id: h.limit for h in problem.holders}
    weights = {i.id: i.weight for i in problem.items}
    for holder, limit in limits.items():
        load = sum(weights[s] for s, h in result.holder_of.items() if h == holder)
        assert load == result.loads[holder]
        if limit is not None:
            assert load <= limit
