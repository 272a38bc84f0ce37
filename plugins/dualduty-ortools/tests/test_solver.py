"""OrToolsSolver: the PackageSolver protocol, the same optima as networkx, plans that hold."""

from __future__ import annotations

import pytest
from dualduty_ortools import NAME, OrToolsSolver, dualduty_register_package_solvers
from hypothesis import given, settings
from hypothesis import strategies as st

import dualduty
from dualduty.coverage import analyse
from dualduty.planning import (
    AssignmentProblem,
    FlowProblem,
    Holder,
    InfeasiblePlan,
    Item,
    NetworkXSolver,
    PackageSolver,
    PlanningError,
    plan_packages,
    solve_assignment,
)


def test_is_a_package_solver() -> None:
    solver = OrToolsSolver()
    assert isinstance(solver, PackageSolver)
    assert solver.name == NAME == "ortools"


def test_solves_a_small_problem_exactly() -> None:
    # two sources, two holders; holder 1 must take at least 1 unit
    problem = FlowProblem(
        supplies=[3, 2],
        lower=[0, 1],
        upper=[4, 4],
        arc_source=[0, 0, 1],
        arc_holder=[0, 1, 1],
        arc_cost=[1, 5, 0],
    )
    solution = OrToolsSolver().solve(problem)
    assert solution is not None
    assert solution.flows == (3, 0, 2)
    assert solution.cost == 3


def test_infeasible_windows_give_none() -> None:
    problem = FlowProblem([3, 2], [0, 0], [1, 1], [0, 0, 1], [0, 1, 1], [1, 5, 0])
    assert OrToolsSolver().solve(problem) is None


@st.composite
def flow_problems(draw: st.DrawFn) -> FlowProblem:
    n = draw(st.integers(1, 8))
    m = draw(st.integers(1, 5))
    supplies = draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))
    arcs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, m - 1), st.integers(0, 9)),
            min_size=1,
            max_size=n * m,
            unique_by=lambda a: (a[0], a[1]),
        )
    )
    windows = [
        draw(st.tuples(st.integers(0, 10), st.integers(0, 40)).map(lambda t: (t[0], t[0] + t[1])))
        for _ in range(m)
    ]
    return FlowProblem(
        supplies,
        [w[0] for w in windows],
        [w[1] for w in windows],
        [a[0] for a in arcs],
        [a[1] for a in arcs],
        [a[2] for a in arcs],
    )


@settings(max_examples=150, deadline=None)
@given(flow_problems())
def test_same_optimum_as_networkx(problem: FlowProblem) -> None:
    mine = OrToolsSolver().solve(problem)
    theirs = NetworkXSolver().solve(problem)
    assert (mine is None) == (theirs is None)
    if mine is None:
        return
    assert theirs is not None
    assert mine.cost == theirs.cost
    # the flow is a solution: every source sends its supply, every holder in its window
    sent = [0] * len(problem.supplies)
    got = [0] * len(problem.lower)
    for i, j, f in zip(problem.arc_source, problem.arc_holder, mine.flows, strict=True):
        assert f >= 0
        sent[i] += f
        got[j] += f
    assert sent == list(problem.supplies)
    assert all(lo <= g <= hi for lo, g, hi in zip(problem.lower, got, problem.upper, strict=True))
    assert mine.cost == sum(c * f for c, f in zip(problem.arc_cost, mine.flows, strict=True))


def test_plans_the_reference_organisation_like_the_built_in_solver() -> None:
    org = dualduty.reference_organisation(schools=300)
    mine = plan_packages(org, solver=OrToolsSolver())
    theirs = plan_packages(org)
    assert analyse(mine.organisation).ok
    assert mine.sections.quality.solver == "ortools"
    # the count-balanced optimum is one number whichever exact solver finds it
    assert mine.quality.affinity_optimum == theirs.quality.affinity_optimum
    assert mine.quality.max_load_over_lower_bound <= 1.03
    # and the plan is deterministic
    assert plan_packages(org, solver=OrToolsSolver()).organisation == mine.organisation


def test_infeasible_plans_are_explained_the_same_way() -> None:
    problem = AssignmentProblem(
        [Item("a", 5), Item("b", 5)],
        [Holder("x", limit=4), Holder("y", limit=20)],
        pins=[("a", "x")],
    )
    with pytest.raises(InfeasiblePlan) as caught:
        solve_assignment(problem, solver=OrToolsSolver())
    assert caught.value.explanation == (
        "school a of total weight 5 can only go to x, whose capacity is 4 < 5 (pinned: a→x)",
    )


@pytest.mark.parametrize("huge", [2**61, 2**64])
def test_a_failure_other_than_infeasibility_is_an_error(huge: int) -> None:
    """Costs times flows beyond 64 bits: OR-Tools refuses, and says so as a dualduty error."""
    problem = FlowProblem([huge, huge], [0], [2 * huge], [0, 1], [0, 0], [huge, huge])
    with pytest.raises(PlanningError, match="OR-Tools min-cost flow failed"):
        OrToolsSolver().solve(problem)


def test_the_hook_registers_the_solver_under_its_name() -> None:
    found: list[PackageSolver] = []
    dualduty_register_package_solvers(found.append)
    assert found == [OrToolsSolver()]
    assert found[0].name == NAME == "ortools"
