"""The package planner (dualduty.planning): properties, the reference organisation, the CLI."""

from __future__ import annotations

import io
import itertools
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dualduty
from dualduty import Organisation, Ownership, SchoolLevel
from dualduty.coverage import GapKind, analyse
from dualduty.planning import (
    BALANCE_GOAL,
    DEFAULT_AFFINITIES,
    LEADING_GROUP,
    SECTIONS,
    AffinityCosts,
    Assignment,
    AssignmentProblem,
    FlowProblem,
    FlowSolution,
    Holder,
    InfeasiblePlan,
    Item,
    NetworkXSolver,
    PackageSolver,
    PlanningError,
    default_weight,
    package_problems,
    plan_packages,
    solve_assignment,
    solve_many,
)
from dualduty.planning._assign import _Planner
from dualduty.planning._cli import add_packages_parser, packages_command, run_packages
from strategies import organisations

T = TypeVar("T")

# -- abstract problems ---------------------------------------------------------------------------


@st.composite
def problems(draw: st.DrawFn, most_items: int = 7, most_holders: int = 4) -> AssignmentProblem:
    """Small problems, with shares, hard limits, townships, owners, last year, pins, exclusions.

    Small enough that every assignment can be enumerated to check the planner's verdict.
    """
    m = draw(st.integers(1, most_holders))
    holders = [
        Holder(
            f"h{j}",
            draw(st.sampled_from([0.5, 1.0, 2.0, 3.0])),
            draw(st.none() | st.integers(0, 40)),
        )
        for j in range(m)
    ]
    hids = [h.id for h in holders]
    n = draw(st.integers(0, most_items))
    items = [
        Item(
            f"s{i}",
            draw(st.integers(1, 20)),
            draw(st.none() | st.sampled_from(["东城", "西城", "河口"])),
            draw(st.frozensets(st.sampled_from(hids), max_size=2)),
            draw(st.none() | st.sampled_from([*hids, "gone"])),
        )
        for i in range(n)
    ]
    pairs = st.tuples(st.sampled_from([it.id for it in items]), st.sampled_from(hids))
    pins = draw(st.lists(pairs, max_size=2)) if items else []
    exclusions = draw(st.lists(pairs, max_size=4)) if items else []
    return AssignmentProblem(items, holders, pins, exclusions, name="test")


def allowed(problem: AssignmentProblem, item: Item) -> list[str]:
    pinned = {h for s, h in problem.pins if s == item.id}
    banned = {h for s, h in problem.exclusions if s == item.id}
    if len(pinned) > 1:
        return []
    return [h.id for h in problem.holders if h.id not in banned and (not pinned or h.id in pinned)]


def feasible(problem: AssignmentProblem) -> bool:
    """Whether any assignment meets the pins, exclusions and hard limits (by enumeration)."""
    limits = {h.id: h.limit for h in problem.holders}
    choices = [allowed(problem, it) for it in problem.items]
    for combo in itertools.product(*choices):
        load: Counter[str] = Counter()
        for item, holder in zip(problem.items, combo, strict=True):
            load[holder] += item.weight
        if all(b is None or load[h] <= b for h, b in limits.items()):
            return True
    return False


def check_plan(problem: AssignmentProblem, result: Assignment) -> None:
    """Every item once, pins kept, exclusions respected, no hard limit exceeded."""
    assert set(result.holder_of) == {it.id for it in problem.items}
    holders = {h.id: h for h in problem.holders}
    assert set(result.loads) == set(holders)
    assert set(result.holder_of.values()) <= set(holders)
    for school, pinned in problem.pins:
        assert result.holder_of[school] == pinned
    for school, excluded in problem.exclusions:
        assert result.holder_of[school] != excluded
    weights = {it.id: it.weight for it in problem.items}
    for hid, holder in holders.items():
        load = sum(weights[s] for s, h in result.holder_of.items() if h == hid)
        assert result.loads[hid] == load
        assert holder.limit is None or load <= holder.limit
    assert result.quality.max_load_over_lower_bound >= 1.0 - 1e-9


def check_explanation(problem: AssignmentProblem, error: InfeasiblePlan) -> None:
    """The explanation names schools and holders of the problem, and its numbers are true."""
    assert error.explanation
    assert str(error).startswith("test: no plan fits")
    items = {it.id: it for it in problem.items}
    limits = {h.id: h.limit for h in problem.holders}
    for line in error.explanation:
        assert line.strip()
    for short in error.short:
        assert short.schools
        assert set(short.schools) <= set(items)
        assert set(short.holders) <= set(limits)
        assert short.weight == sum(items[s].weight for s in short.schools)
        # the schools may go nowhere but the holders named
        for school in short.schools:
            assert set(allowed(problem, items[school])) <= set(short.holders)
        if short.kind == "cut":
            assert short.capacity == sum(limits[h] or 0 for h in short.holders)
            assert all(limits[h] is not None for h in short.holders)
            assert short.weight > short.capacity
        else:
            assert short.kind == "packing"
            assert short.reasons[0] == "proved by exhaustive search"
        explained = short.explain()
        assert all(s in explained for s in short.schools)
        assert all(h in explained for h in short.holders)
        assert str(short.weight) in explained


def attempt(
    problem: AssignmentProblem, seed: int
) -> tuple[Assignment | None, InfeasiblePlan | None]:
    """The plan, or the error saying why there is none."""
    try:
        return solve_assignment(problem, seed=seed), None
    except InfeasiblePlan as error:
        return None, error


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, 3))
def test_every_school_once_pins_kept_limits_held_or_the_failure_explained(
    problem: AssignmentProblem, seed: int
) -> None:
    result, error = attempt(problem, seed)
    if error is not None:
        assert not feasible(problem)  # never a false alarm
        check_explanation(problem, error)
    else:
        assert result is not None
        assert feasible(problem)
        check_plan(problem, result)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(most_items=40, most_holders=16), st.integers(0, 3))
def test_larger_problems_hold_the_same_promises(problem: AssignmentProblem, seed: int) -> None:
    result, error = attempt(problem, seed)
    if error is not None:
        assert error.explanation
        for short in error.short:
            assert short.schools
            if short.kind == "cut":
                assert short.weight > short.capacity
    else:
        assert result is not None
        check_plan(problem, result)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(most_items=20, most_holders=14), st.randoms(use_true_random=False))
def test_input_order_does_not_matter(problem: AssignmentProblem, rng: random.Random) -> None:
    def shuffled(values: tuple[T, ...]) -> list[T]:
        out = list(values)
        rng.shuffle(out)
        return out

    mixed = attrs.evolve(
        problem,
        items=shuffled(problem.items),
        holders=shuffled(problem.holders),
        pins=shuffled(problem.pins),
        exclusions=shuffled(problem.exclusions),
    )
    first, error = attempt(problem, 1)
    second, again = attempt(mixed, 1)
    if error is not None:
        assert again is not None
        assert again.explanation == error.explanation
        return
    assert second == first
    assert second is not None
    assert list(second.holder_of) == sorted(second.holder_of)


def district(n: int, m: int, seed: int) -> AssignmentProblem:
    """A random district: townships, shares 1-3, a fifth of the schools with a type owner."""
    rng = random.Random(seed)
    towns = [f"t{k}" for k in range(max(3, n // 25))]
    holders = [Holder(f"h{j:02d}", rng.choice([1, 2, 2, 3])) for j in range(m)]
    items = [
        Item(
            f"s{i:04d}",
            rng.randint(4, 30),
            rng.choice(towns),
            {"h00"} if rng.random() < 0.2 else (),
        )
        for i in range(n)
    ]
    return AssignmentProblem(items, holders, name="district")


def test_deterministic_for_a_seed() -> None:
    problem = district(300, 30, 7)
    first = solve_assignment(problem, seed=3)
    assert solve_assignment(problem, seed=3) == first
    other = solve_assignment(problem, seed=4)
    check_plan(problem, other)
    assert other.quality.affinity_optimum == first.quality.affinity_optimum


def test_a_district_is_balanced_and_near_the_flow_optimum() -> None:
    for seed in range(5):
        problem = district(300, 30, seed)
        q = solve_assignment(problem, seed=seed).quality
        assert q.max_load_over_lower_bound <= 1.10
        assert q.weighted_affinity_cost <= 1.03 * q.flow_optimum
        assert q.window == 0.0
        assert q.kept_share is None


@pytest.mark.parametrize(("n", "m", "seed"), [(120, 15, 232), (300, 30, 335)])
def test_ejection_chains_bring_districts_near_the_flow_optimum(n: int, m: int, seed: int) -> None:
    """Regression: these districts ended 5.1% and 3.6% over the flow's optimum (517 against
    492, 1338 against 1292). Rounding had dealt split schools to dearer holders (the first)
    and the repair had paid affinity for balance (the second: 1296 after rounding, 1395
    after the repair), and no single move or swap under the peak could undo it. The
    polish's ejection chains can: a school moves to a cheaper, full holder, which gives
    schools away until it fits (now 488 and 1286, below the flow's optimum)."""
    problem = district(n, m, seed)
    result = solve_assignment(problem, seed=0)
    check_plan(problem, result)
    q = result.quality
    assert q.weighted_affinity_cost <= 1.03 * q.flow_optimum
    assert q.max_load_over_lower_bound <= BALANCE_GOAL
    assert solve_assignment(problem, seed=0) == result


def test_lower_bound_is_the_even_share_or_the_heaviest_school() -> None:
    even = AssignmentProblem([Item(f"s{i}", 3) for i in range(10)], [Holder("a"), Holder("b")])
    assert solve_assignment(even).quality.lower_bound == 15.0
    heavy = AssignmentProblem(
        [Item("big", 40), *(Item(f"s{i}", 1) for i in range(10))], [Holder("a"), Holder("b")]
    )
    result = solve_assignment(heavy)
    assert result.quality.lower_bound == 40.0
    assert result.quality.max_load_over_lower_bound == 1.0
    assert result.items_of(result.holder_of["big"]) == ("big",)


def test_shares_weigh_the_load() -> None:
    problem = AssignmentProblem(
        [Item(f"s{i:02d}", 2) for i in range(30)], [Holder("leader", 0.5), Holder("deputy", 1.0)]
    )
    result = solve_assignment(problem)
    assert result.loads == {"deputy": 40, "leader": 20}
    assert result.quality.max_load_over_lower_bound == 1.0


def test_owners_township_and_last_year_are_affinities() -> None:
    items = [
        Item("kg1", 5, "东城", {"private"}),
        Item("kg2", 5, "西城", {"private"}),
        Item("p1", 5, "东城", (), "west"),
        Item("p2", 5, "东城"),
        Item("p3", 5, "西城"),
        Item("p4", 5, "西城"),
    ]
    problem = AssignmentProblem(items, [Holder("private"), Holder("east"), Holder("west")])
    result = solve_assignment(problem)
    assert result.holder_of["kg1"] == result.holder_of["kg2"] == "private"
    assert result.holder_of["p1"] == "west"  # last year's holder, though the township differs
    assert result.quality.kept_share == 1.0
    assert result.quality.affinity_cost <= result.quality.affinity_optimum + 1


def test_a_pin_beats_every_affinity() -> None:
    items = [Item("kg", 5, None, {"private"}, "private"), Item("p", 5)]
    problem = AssignmentProblem(items, [Holder("private"), Holder("other")], pins={"kg": "other"})
    result = solve_assignment(problem)
    assert result.holder_of == {"kg": "other", "p": "private"}
    assert "packages: school kg moves from private to other (pinned)" in result.notes


# -- infeasible inputs ------------------------------------------------------------------------


def test_pins_over_capacity_name_the_schools_and_the_holder() -> None:
    problem = AssignmentProblem(
        [Item("a", 5), Item("b", 7), Item("c", 1)],
        [Holder("x", limit=10), Holder("y")],
        pins=[("a", "x"), ("b", "x")],
        name="sections",
    )
    with pytest.raises(InfeasiblePlan) as caught:
        solve_assignment(problem)
    assert caught.value.explanation == (
        "schools a, b of total weight 12 can only go to x, whose capacity is 10 < 12 "
        "(pinned: a→x, b→x)",
    )
    assert str(caught.value).startswith("sections: no plan fits\n  schools a, b")
    (short,) = caught.value.short
    assert (short.schools, short.holders, short.weight, short.capacity) == (
        ("a", "b"),
        ("x",),
        12,
        10,
    )


def test_a_school_no_holder_may_take_is_named() -> None:
    problem = AssignmentProblem(
        [Item("a", 5), Item("b", 2)],
        [Holder("x"), Holder("y")],
        exclusions=[("a", "x"), ("a", "y")],
    )
    with pytest.raises(InfeasiblePlan) as caught:
        solve_assignment(problem)
    assert caught.value.explanation == (
        "school a (total weight 5) can go to no holder (excluded from every holder: a)",
    )


def test_no_holders_at_all() -> None:
    with pytest.raises(InfeasiblePlan, match="can go to no holder"):
        solve_assignment(AssignmentProblem([Item("a")], []))


def test_a_shortage_among_several_holders_is_found_by_the_min_cut() -> None:
    items = [Item(f"s{i}", 4) for i in range(6)]
    problem = AssignmentProblem(
        items,
        [Holder("x", limit=5), Holder("y", limit=6), Holder("z")],
        exclusions=[(f"s{i}", "z") for i in range(3)],
    )
    with pytest.raises(InfeasiblePlan) as caught:
        solve_assignment(problem)
    (short,) = caught.value.short
    assert short.schools == ("s0", "s1", "s2")
    assert short.holders == ("x", "y")
    assert (short.weight, short.capacity) == (12, 11)
    assert short.reasons == ("excluded from the other holders: s0, s1, s2",)


def test_schools_that_only_fit_when_split() -> None:
    problem = AssignmentProblem(
        [Item("a", 3), Item("b", 3), Item("c", 3)], [Holder("x", limit=5), Holder("y", limit=5)]
    )
    with pytest.raises(InfeasiblePlan) as caught:
        solve_assignment(problem)
    (short,) = caught.value.short
    assert short.kind == "packing"
    assert caught.value.explanation == (
        "schools a, b, c of total weight 9 can only go to x, y, whose capacity is 10, but no "
        "way to place them whole fits those capacities (proved by exhaustive search)",
    )


def test_a_tight_packing_is_found() -> None:
    problem = AssignmentProblem(
        [Item("a", 4), Item("b", 3), Item("c", 3), Item("d", 2)],
        [Holder("x", limit=6), Holder("y", limit=6)],
    )
    result = solve_assignment(problem)
    assert result.loads == {"x": 6, "y": 6}


def test_contradictory_pins_are_explained() -> None:
    problem = AssignmentProblem(
        [Item("a")], [Holder("x"), Holder("y")], pins=[("a", "x"), ("a", "y")]
    )
    with pytest.raises(InfeasiblePlan, match="school a is pinned to both x and y"):
        solve_assignment(problem)
    problem = AssignmentProblem(
        [Item("a")], [Holder("x")], pins=[("a", "x")], exclusions=[("a", "x")]
    )
    with pytest.raises(InfeasiblePlan, match="school a is pinned to x and excluded from it"):
        solve_assignment(problem)


def test_unknown_and_duplicate_ids_are_errors() -> None:
    with pytest.raises(PlanningError, match="pin names unknown school 'zz'"):
        solve_assignment(AssignmentProblem([Item("a")], [Holder("x")], pins=[("zz", "x")]))
    with pytest.raises(PlanningError, match="exclusion names unknown holder 'q'"):
        solve_assignment(AssignmentProblem([Item("a")], [Holder("x")], exclusions=[("a", "q")]))
    with pytest.raises(PlanningError, match="duplicate item ids: a"):
        solve_assignment(AssignmentProblem([Item("a"), Item("a")], [Holder("x")]))
    with pytest.raises(ValueError, match="weight"):
        Item("a", 0)
    with pytest.raises(ValueError, match="share"):
        Holder("x", 0)
    with pytest.raises(ValueError, match="balance_goal"):
        solve_assignment(AssignmentProblem([Item("a")], [Holder("x")]), balance_goal=0.9)


def test_swaps_skip_schools_packed_off_their_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: under hard limits, packing may put a school on an allowed holder outside
    its sparse candidate row (13 holders: rows are sparse); a later swap of the repair read
    the school's cost there from the row and raised KeyError."""
    holders = [Holder(f"h{j:02d}") for j in range(13)]
    holders[1] = Holder("h01", 2, limit=47)
    holders[10] = Holder("h10", 2, limit=11)
    holders[12] = Holder("h12", 2, limit=58)
    weights = [16, 12, 11, 8, 17, 8, 12, 10, 2, 20, 5, 17, 12, 8, 15, 19]
    towns = {1: "c", 2: "d", 8: "d", 12: "c", 14: "a"}
    last_year = {9: "h12", 15: "h11"}
    items = [
        Item(f"s{k:02d}", w, towns.get(k), (), last_year.get(k)) for k, w in enumerate(weights)
    ]
    problem = AssignmentProblem(items, holders, name="test")
    off_row: list[str] = []
    pack = _Planner.pack

    def watched(planner: _Planner) -> None:
        pack(planner)
        off_row.extend(
            planner.items[i].id for i, j in enumerate(planner.holder_of) if j not in planner.cand[i]
        )

    monkeypatch.setattr(_Planner, "pack", watched)
    result = solve_assignment(problem)
    assert off_row  # the case: packing left schools off their candidates
    check_plan(problem, result)
    assert result.loads["h01"] <= 47
    assert result.loads["h12"] <= 58


# -- solvers ----------------------------------------------------------------------------------


@attrs.define
class CountingSolver:
    """A plug-in solver: networkx underneath, counting the problems it is given."""

    calls: int = 0

    @property
    def name(self) -> str:
        return "counting"

    def solve(self, problem: FlowProblem) -> FlowSolution | None:
        self.calls += 1
        return NetworkXSolver().solve(problem)


def test_a_solver_is_plugged_in_by_parameter() -> None:
    solver = CountingSolver()
    assert isinstance(solver, PackageSolver)
    org = dualduty.reference_organisation(schools=40)
    plan = plan_packages(org, solver=solver)
    assert solver.calls >= 4  # two flows per problem at least
    assert plan.sections.quality.solver == "counting"
    assert plan.organisation == plan_packages(org).organisation


def test_the_built_in_solver_solves_exactly() -> None:
    problem = FlowProblem([3, 2], [0, 1], [4, 4], [0, 0, 1], [0, 1, 1], [1, 5, 0])
    assert NetworkXSolver().solve(problem) == FlowSolution((3, 0, 2), 3)
    assert NetworkXSolver().solve(FlowProblem([3], [0], [2], [0], [0], [0])) is None
    with pytest.raises(ValueError, match="lower <= upper"):
        FlowProblem([1], [2], [1], [0], [0], [0])
    with pytest.raises(ValueError, match="names a source or holder"):
        FlowProblem([1], [0], [1], [1], [0], [0])


def test_importing_the_planner_does_not_import_networkx() -> None:
    code = (
        "import sys, dualduty, dualduty.planning; "
        "from dualduty.planning import plan_packages; print('networkx' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_solving_in_parallel_gives_the_same_plans() -> None:
    problems_ = [district(120, 12, seed) for seed in range(3)]
    assert solve_many(problems_, workers=2) == solve_many(problems_, workers=1)


# -- the organisation ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference() -> Organisation:
    return dualduty.reference_organisation(schools=300)


@pytest.fixture(scope="module")
def planned(reference: Organisation) -> dualduty.planning.PackagePlan:
    return plan_packages(reference)


def test_the_reference_organisation_replanned_has_no_error_gap(
    planned: dualduty.planning.PackagePlan,
) -> None:
    org = planned.organisation
    assert org.problems() == []
    report = analyse(org)
    assert report.errors == ()
    # packaging gaps of 三.1: none at all
    for kind in (GapKind.NO_LEADER_PACKAGE, GapKind.NO_SECTION_PACKAGE, GapKind.PACKAGED_TWICE):
        assert report.of_kind(kind) == ()
    assert planned.quality.max_load_over_lower_bound <= 1.03
    assert planned.leading_group.quality.max_load_over_lower_bound <= 1.03
    assert planned.sections.quality.max_load_over_lower_bound <= 1.03


def test_one_package_per_holder_with_the_sections_staff(
    reference: Organisation, planned: dualduty.planning.PackagePlan
) -> None:
    org = planned.organisation
    holders = [p.holder for p in org.packages]
    assert len(holders) == len(set(holders)) == 6 + 23
    units = {u.id: u for u in org.units}
    for package in org.packages:
        if package.holder in units:
            assert package.id == f"pkg-{package.holder}"
            staff = [p.id for p in units[package.holder].posts if p.role is dualduty.Role.STAFF]
            assert package.staff == tuple(staff)
        else:
            assert package.id == f"pkg-lg-{package.holder}"
            assert package.staff == ()
        assert list(package.schools) == sorted(package.schools)
    # every school's visits fall to one staff post of its section, spread evenly by weight
    weights = {s.id: default_weight(s) for s in reference.schools}
    assert set(planned.inspectors) == set(weights)
    for package in org.packages:
        if package.holder in units:
            load = Counter(dict.fromkeys(package.staff, 0))
            for school in package.schools:
                load[planned.inspectors[school]] += weights[school]
            assert max(load.values()) - min(load.values()) <= max(weights.values())


def test_the_leader_carries_less(planned: dualduty.planning.PackagePlan) -> None:
    loads = planned.leading_group.loads
    deputies = [loads[p] for p in ("deputy-1", "deputy-2", "deputy-3")]
    assert loads["director"] < min(deputies)
    assert loads["director"] == pytest.approx(min(deputies) / 2, rel=0.1)


def test_replanning_a_plan_with_itself_keeps_every_school(
    planned: dualduty.planning.PackagePlan,
) -> None:
    """Guaranteed: a plan within the balance goal, replanned with itself as the previous
    plan and nothing changed, keeps every holder (keeping costs more than any other
    affinity saves, and nothing forces a move)."""
    org = planned.organisation
    again = plan_packages(org, previous=org)
    assert again.quality.kept_share == 1.0
    assert again.organisation == org
    assert again.leading_group.quality.kept_share == again.sections.quality.kept_share == 1.0


def test_replanning_the_reference_roster_keeps_most_schools(reference: Organisation) -> None:
    """The roster's packages balance counts, not weight: schools move only down to the goal."""
    plan = plan_packages(reference, previous=reference)
    assert plan.quality.kept_share is not None
    assert 0.8 <= plan.quality.kept_share < 1.0
    assert plan.quality.max_load_over_lower_bound <= BALANCE_GOAL
    moved = [line for line in plan.explanation if " moves from " in line]
    assert moved
    assert all("(balance: " in line for line in moved)


def test_private_kindergartens_go_to_private_education_when_capacity_allows(
    reference: Organisation,
) -> None:
    org = reference
    owned = [
        s
        for s in org.schools
        if s.ownership is Ownership.PRIVATE
        or s.level in (SchoolLevel.KINDERGARTEN, SchoolLevel.TRAINING)
    ]
    private_kg = [
        s.id
        for s in owned
        if s.level is SchoolLevel.KINDERGARTEN and s.ownership is Ownership.PRIVATE
    ]
    assert private_kg
    # enough staff in 民教科 for every school it owns (the others have 2 each)
    plan = plan_packages(org, shares={"private-education": 40})
    holder = plan.sections.holder_of
    assert all(holder[s] == "private-education" for s in private_kg)
    assert all(holder[s.id] == "private-education" for s in owned)
    note = f"sections: private-education owns the type of {len(owned)} schools and packages"
    assert f"{note} {len(owned)} of them" in plan.explanation
    # without the capacity, 民教科 takes its share and the note says why the rest went elsewhere
    plain = plan_packages(org)
    got = sum(plain.sections.holder_of[s.id] == "private-education" for s in owned)
    assert 0 < got < len(owned)
    note = next(n for n in plain.explanation if n.startswith("sections: private-education owns"))
    assert f"packages {got} of them" in note
    assert "is at its share of the whole" in note


def test_vocational_schools_go_to_the_vocational_section() -> None:
    org = dualduty.reference_organisation(schools=200)
    plan = plan_packages(org)
    vocational = [s.id for s in org.schools if s.level is SchoolLevel.VOCATIONAL]
    assert vocational
    assert any(plan.sections.holder_of[s] == "vocational-adult" for s in vocational)


def test_the_affinity_table_is_data() -> None:
    assert DEFAULT_AFFINITIES["kindergarten"] == "private-education"
    assert DEFAULT_AFFINITIES["vocational"] == "vocational-adult"
    org = dualduty.reference_organisation(schools=60)
    _lead, sections = package_problems(org, affinities={"special": "moral-education"})
    owners = {it.id: it.owners for it in sections.items}
    levels = {s.id: s.level for s in org.schools}
    for school, found in owners.items():
        assert found == ({"moral-education"} if levels[school] is SchoolLevel.SPECIAL else set())
    notes: list[str] = []
    package_problems(org, affinities={"private": "no-such-section"}, notes=notes)
    assert notes == [
        "sections: affinity of private with 'no-such-section' ignored: no such section holds "
        "packages here"
    ]


def test_default_weight_grows_with_students_level_and_risk() -> None:
    school = dualduty.School("s1", "城关镇第一小学", SchoolLevel.PRIMARY, students=1200)
    assert default_weight(school) == 11
    assert default_weight(attrs.evolve(school, students=2400)) > default_weight(school)
    assert default_weight(attrs.evolve(school, level=SchoolLevel.SPECIAL)) > default_weight(school)
    assert default_weight(attrs.evolve(school, risk=dualduty.RiskLevel.HIGH)) > default_weight(
        school
    )
    assert default_weight(attrs.evolve(school, students=0, risk=dualduty.RiskLevel.LOW)) == 4


def test_pins_and_exclusions_on_the_organisation(reference: Organisation) -> None:
    plan = plan_packages(
        reference,
        pins=[("s0001", "director"), ("s0001", "audit"), ("s0002", "private-education")],
        exclusions=[("s0003", "deputy-1"), ("s0003", "deputy-2")],
    )
    assert plan.leading_group.holder_of["s0001"] == "director"
    assert plan.sections.holder_of["s0001"] == "audit"
    assert plan.sections.holder_of["s0002"] == "private-education"
    assert plan.leading_group.holder_of["s0003"] not in ("deputy-1", "deputy-2")
    with pytest.raises(PlanningError, match="'nobody' is neither a leading-group post"):
        plan_packages(reference, pins=[("s0001", "nobody")])


def test_pins_over_a_hard_limit_on_the_organisation(reference: Organisation) -> None:
    schools = [s.id for s in reference.schools[:5]]
    weight = sum(default_weight(s) for s in reference.schools[:5])
    with pytest.raises(InfeasiblePlan) as caught:
        plan_packages(reference, pins=[(s, "audit") for s in schools], limits={"audit": weight - 1})
    (line,) = caught.value.explanation
    assert line.startswith(f"schools {', '.join(schools)} of total weight {weight} can only go")
    assert f"audit, whose capacity is {weight - 1} < {weight}" in line


def test_hard_limits_hold_on_the_organisation(reference: Organisation) -> None:
    plan = plan_packages(reference, limits={"director": 100, "audit": 60})
    assert plan.leading_group.loads["director"] <= 100
    assert plan.sections.loads["audit"] <= 60
    assert analyse(plan.organisation).ok


def test_vacant_posts_get_no_schools(reference: Organisation) -> None:
    units = [
        attrs.evolve(
            u,
            posts=[attrs.evolve(p, holder=None) if p.id == "deputy-2" else p for p in u.posts],
        )
        for u in reference.units
    ]
    org = attrs.evolve(reference, units=units)
    plan = plan_packages(org)
    assert "deputy-2" not in plan.leading_group.loads
    assert "leading group: 副局长 (deputy-2) is vacant and gets no schools" in plan.explanation


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(organisations())
def test_any_organisation_is_planned_or_explained(org: Organisation) -> None:
    try:
        plan = plan_packages(org)
    except InfeasiblePlan as exc:
        error: InfeasiblePlan | None = exc
    else:
        error = None
    if error is not None:
        assert org.schools
        assert error.explanation
        assert all(short.schools for short in error.short)
        return
    new = plan.organisation
    assert new.problems() == []
    report = analyse(new)
    if org.schools:
        assert report.of_kind(GapKind.NO_LEADER_PACKAGE) == ()
        assert report.of_kind(GapKind.NO_SECTION_PACKAGE) == ()
    for problem in (plan.leading_group, plan.sections):
        assert set(problem.holder_of) == {s.id for s in org.schools}


def test_the_plan_as_json(planned: dualduty.planning.PackagePlan) -> None:
    data = planned.to_json()
    assert set(data) == {"quality", "problems", "explanation"}
    assert set(data["quality"]) == {
        "max_load_over_lower_bound",
        "affinity_cost",
        "affinity_optimum",
        "kept_share",
    }
    assert data["quality"]["kept_share"] is None
    assert set(data["problems"]) == {LEADING_GROUP, SECTIONS}
    assert data["explanation"] == list(planned.explanation)
    json.dumps(data)


def test_costs_are_configurable(reference: Organisation) -> None:
    free = plan_packages(reference, costs=AffinityCosts(township=0, owner=0, keep=0))
    assert free.quality.affinity_cost == free.quality.affinity_optimum == 0


# -- the command ------------------------------------------------------------------------------


@pytest.fixture
def district_file(tmp_path: Path, reference: Organisation) -> Path:
    path = tmp_path / "district.toml"
    dualduty.dump(reference, path)
    return path


def run(*args: str, **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = packages_command(*args, stdout=out, stderr=err, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def test_command_text(district_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "planned.json"
    code, out, err = run(str(district_file), output=str(target))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert (
        lines[0]
        == f"{district_file}: packages planned for 300 schools (6 leading-group posts, 23 sections)"
    )
    assert lines[1].startswith("  max load / lower bound   1.0")
    assert lines[3] == "  kept last year's holder  -- (no previous plan)"
    assert lines[4] == f"  written to               {target}"
    assert "explanation:" in lines
    written = dualduty.load(target)
    assert analyse(written).errors == ()


def test_command_json_with_previous(district_file: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.toml"
    assert run(str(district_file), output=str(first))[0] == 0
    code, out, _err = run(str(first), previous=str(first), fmt="json")
    assert code == 0
    data = json.loads(out)
    assert data["quality"]["kept_share"] == 1.0
    assert data["output"] is None
    assert isinstance(data["explanation"], list)


def test_command_infeasible_exits_2_with_the_explanation(tmp_path: Path) -> None:
    """Nobody in post in any section: no section can take the schools."""
    org = dualduty.reference_organisation(schools=10)
    sections = (dualduty.UnitKind.SECTION, dualduty.UnitKind.CENTRE)
    units = [
        attrs.evolve(u, posts=[attrs.evolve(p, holder=None) for p in u.posts])
        if u.kind in sections
        else u
        for u in org.units
    ]
    path = tmp_path / "vacant.toml"
    dualduty.dump(attrs.evolve(org, units=units), path)
    target = tmp_path / "out.toml"
    code, out, err = run(str(path), output=str(target))
    assert (code, out) == (2, "")
    assert err.startswith(f"dualduty: {path}: sections: no plan fits\n  schools s0001, s0002")
    assert "can go to no holder (there are no holders)" in err
    assert not target.exists()
    code, out, err = run(str(path), fmt="json")
    assert code == 2
    data = json.loads(out)
    assert data["quality"] is None
    assert data["error"] == "infeasible"
    assert data["explanation"][0].startswith("schools s0001, s0002")


def test_command_on_a_bad_file(tmp_path: Path) -> None:
    code, out, err = run(str(tmp_path / "missing.toml"))
    assert (code, out) == (2, "")
    assert err.startswith("dualduty: ")


def test_command_parser(district_file: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="dualduty")
    sub = parser.add_subparsers(dest="command")
    add_packages_parser(sub)
    ns = parser.parse_args(["packages", str(district_file), "--format", "json", "--seed", "2"])
    assert (ns.file, ns.previous, ns.output, ns.format, ns.seed) == (
        str(district_file),
        None,
        None,
        "json",
        2,
    )
    out = io.StringIO()
    old, sys.stdout = sys.stdout, out
    try:
        assert run_packages(ns) == 0
    finally:
        sys.stdout = old
    assert json.loads(out.getvalue())["quality"]["kept_share"] is None


def test_the_same_plan_in_any_process() -> None:
    """No dependence on string hashing (PYTHONHASHSEED) or anything else of the process."""
    code = (
        "import json, dualduty\n"
        "from dualduty.planning import plan_packages\n"
        "org = dualduty.reference_organisation(schools=150, seed=3)\n"
        "plan = plan_packages(org, seed=5)\n"
        "print(json.dumps([plan.leading_group.holder_of, plan.sections.holder_of,"
        " plan.to_json()], ensure_ascii=False))\n"
    )
    outputs = set()
    for hash_seed in ("1", "2", "3"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": hash_seed, "PATH": ""},
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
