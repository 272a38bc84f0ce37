"""Package planning time and quality against problem size; goals from issue 4.

Goals (built-in networkx solver): 300 schools x 30 holders < 0.5 s; 3,000 x 60 < 5 s; a
national run of 510,000 schools as 1,700 districts of 300 (x 30 holders) < 5 minutes on
2 cores. The OR-Tools plugin (``plugins/dualduty-ortools``) runs the same instances as the
reference (under 30 s nationally), and both must reach the same count-balanced optimum.
Quality goals: max load / lower bound <= 1.03 for the reference organisation and in the
median over the districts, <= 1.10 in the worst; affinity cost within 3% of the weighted
flow's optimum before rounding in every district. The national run prints the median and
the worst of each figure with a verdict against its goal, and lists the districts
furthest over the flow's optimum (``--show``) with their absolute costs.

Districts are seeded: the schools of ``dualduty.reference_organisation(schools, seed)``
(a realistic mix of levels, sizes and risks over twelve townships), weighed by
``default_weight``, spread over holders shaped like sections (1-3 staff each; one owns
private schools, kindergartens and training institutions, one vocational and adult
schools).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from orgs import make_organisation

from dualduty.planning import (
    Assignment,
    AssignmentProblem,
    Holder,
    Item,
    NetworkXSolver,
    PackageSolver,
    default_weight,
    plan_packages,
    solve_assignment,
    solve_many,
)

GOALS = {(300, 30): 0.5, (3_000, 60): 5.0}
NATIONAL_GOAL = 300.0
ORTOOLS_NATIONAL_GOAL = 30.0
#: Max load / lower bound: in the median over the districts, and in the worst.
BALANCE_MEDIAN_GOAL = 1.03
BALANCE_WORST_GOAL = 1.10
#: Weighted affinity cost over the weighted flow's optimum before rounding, less 1, in
#: every district.
AFFINITY_GOAL = 0.03
#: Which holder owns which kind of school, as in the reference plan.
OWNERS = {
    "private": "h00",
    "kindergarten": "h00",
    "training": "h00",
    "vocational": "h01",
    "adult": "h01",
}


def make_district(schools: int, holders: int, seed: int) -> AssignmentProblem:
    """A seeded district: reference schools spread over section-like holders."""
    rng = random.Random(f"district:{seed}")
    org = make_organisation(schools, seed)
    hs = [Holder(f"h{j:02d}", rng.choice([1, 2, 2, 2, 3])) for j in range(holders)]
    items = [
        Item(
            s.id,
            default_weight(s),
            s.township,
            {OWNERS[k] for k in (s.level.value, s.ownership.value) if k in OWNERS},
        )
        for s in org.schools
    ]
    return AssignmentProblem(items, hs, name=f"district-{seed}")


def ortools_solver() -> PackageSolver | None:
    """The OR-Tools plugin's solver, from the installed plugin or the source tree."""
    if importlib.util.find_spec("ortools") is None:
        return None
    try:
        module = importlib.import_module("dualduty_ortools")
    except ImportError:
        plugin = Path(__file__).parent.parent / "plugins" / "dualduty-ortools" / "src"
        sys.path.insert(0, str(plugin))
        try:
            module = importlib.import_module("dualduty_ortools")
        except ImportError:
            return None
    solver: PackageSolver = module.OrToolsSolver()
    return solver


def timed(fn: Callable[[], Assignment], repeat: int) -> tuple[float, Assignment]:
    times: list[float] = []
    result: Assignment | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def gap(result: Assignment) -> float:
    """Weighted affinity cost over the weighted flow's optimum before rounding, less 1."""
    q = result.quality
    return q.weighted_affinity_cost / max(1, q.flow_optimum) - 1


def quality_line(results: Sequence[Assignment]) -> str:
    """Balance and affinity over the districts, each checked against its goal."""
    ratios = [r.quality.max_load_over_lower_bound for r in results]
    gaps = [gap(r) for r in results]
    within = sum(g <= AFFINITY_GOAL for g in gaps)
    middle, worst = statistics.median(ratios), max(ratios)
    balance_met = middle <= BALANCE_MEDIAN_GOAL and worst <= BALANCE_WORST_GOAL
    return (
        f"balance median {middle:.4f} worst {worst:.4f} "
        f"(goal <= {BALANCE_MEDIAN_GOAL:.2f} / <= {BALANCE_WORST_GOAL:.2f} "
        f"{'met' if balance_met else 'MISSED'}); "
        f"affinity over the flow optimum median {statistics.median(gaps):+.2%} "
        f"worst {max(gaps):+.2%} (goal <= {AFFINITY_GOAL:.0%} "
        f"{'met' if within == len(gaps) else 'MISSED'}: {within}/{len(gaps)} within)"
    )


def worst_districts(results: Sequence[Assignment], show: int) -> list[str]:
    """The *show* districts furthest over the flow optimum, with their absolute figures."""
    ranked = sorted(results, key=lambda r: (-gap(r), r.name))
    lines = []
    for r in ranked[:show]:
        q = r.quality
        mark = "" if gap(r) <= AFFINITY_GOAL else "  OVER THE GOAL"
        lines.append(
            f"    {r.name:<14} affinity {q.weighted_affinity_cost:>5} / flow optimum "
            f"{q.flow_optimum:>5} = {gap(r):+.2%}; max load / lower bound "
            f"{q.max_load_over_lower_bound:.4f}; {q.rounded} rounded, {q.moves} moves{mark}"
        )
    return lines


def sizes(args: argparse.Namespace, ortools: PackageSolver | None) -> None:
    builtin = NetworkXSolver()
    print(
        f"{'schools':>8} {'holders':>7} {'networkx s':>10} {'ortools s':>9} {'ratio':>6} "
        f"{'max/LB':>7} {'vs flow':>7} {'aff.cost':>8} {'count opt':>9} {'same opt':>8} "
        f"{'goal':>14}"
    )
    for n, m in ((300, 30), (3_000, 60)):
        problem = make_district(n, m, 0)
        solve_assignment(problem)  # warm up: imports
        nx_s, mine = timed(partial(solve_assignment, problem, solver=builtin), args.repeat)
        if ortools is not None:
            or_s, ref = timed(partial(solve_assignment, problem, solver=ortools), args.repeat)
            same = "yes" if ref.quality.affinity_optimum == mine.quality.affinity_optimum else "NO"
            shown = f"{or_s:>9.3f} {nx_s / or_s:>6.1f}"
        else:
            same, shown = "--", f"{'--':>9} {'--':>6}"
        goal = GOALS[(n, m)]
        verdict = f"< {goal} s {'met' if nx_s < goal else 'MISSED'}"
        q = mine.quality
        print(
            f"{n:>8} {m:>7} {nx_s:>10.3f} {shown} {q.max_load_over_lower_bound:>7.4f} "
            f"{gap(mine):>+7.2%} {q.affinity_cost:>8} {q.affinity_optimum:>9} {same:>8} "
            f"{verdict:>14}"
        )


def reference(args: argparse.Namespace) -> None:
    org = make_organisation(300)
    plan_packages(org)  # warm up
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        plan = plan_packages(org)
        times.append(time.perf_counter() - start)
    q = plan.quality
    print(
        f"reference organisation, 300 schools (6 leading-group posts, 23 sections): "
        f"{statistics.median(times):.3f} s; max load / lower bound "
        f"{q.max_load_over_lower_bound:.4f} "
        f"(goal <= 1.03 {'met' if q.max_load_over_lower_bound <= 1.03 else 'MISSED'}); affinity "
        f"cost {q.affinity_cost}, count-balanced optimum {q.affinity_optimum}"
    )


def national(args: argparse.Namespace, ortools: PackageSolver | None) -> None:
    count = args.national_districts
    start = time.perf_counter()
    problems = [make_district(300, 30, seed) for seed in range(count)]
    made = time.perf_counter() - start
    print(
        f"\nnational: {count} districts x 300 schools x 30 holders = {300 * count:,} schools "
        f"(generated in {made:.1f} s, not timed); {args.workers} worker processes"
    )
    runs: list[tuple[str, float, list[Assignment]]] = []
    for solver in (NetworkXSolver(), ortools):
        if solver is None:
            print("  ortools: the OR-Tools plugin is not importable; skipped")
            continue
        start = time.perf_counter()
        results = solve_many(problems, solver=solver, workers=args.workers)
        took = time.perf_counter() - start
        runs.append((solver.name, took, results))
        goal = NATIONAL_GOAL if solver.name == "networkx" else ORTOOLS_NATIONAL_GOAL
        verdict = "met" if took < goal else "MISSED"
        print(
            f"  {solver.name:<8} {took:>7.1f} s (goal < {goal:.0f} s {verdict}); "
            + quality_line(results)
        )
        if args.show:
            print(f"  {solver.name}: the {args.show} districts furthest over the flow optimum:")
            print("\n".join(worst_districts(results, args.show)))
    if len(runs) == 2:
        (_a, nx_s, nx_res), (_b, or_s, or_res) = runs
        same = sum(
            a.quality.affinity_optimum == b.quality.affinity_optimum
            for a, b in zip(nx_res, or_res, strict=True)
        )
        print(
            f"  time ratio networkx / ortools {nx_s / or_s:.1f}; same count-balanced optimum "
            f"in {same}/{count} districts"
        )
        if count < 1700:
            print(f"  extrapolated to 1,700 districts: networkx {nx_s * 1700 / count:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--national-districts",
        type=int,
        default=1700,
        help="districts of 300 schools in the national run (1700; 0 skips it)",
    )
    parser.add_argument("--workers", type=int, default=2, help="processes (2)")
    parser.add_argument(
        "--show",
        type=int,
        default=3,
        help="districts furthest over the flow optimum to list, per solver (3)",
    )
    args = parser.parse_args()
    ortools = ortools_solver()
    sizes(args, ortools)
    reference(args)
    if args.national_districts:
        national(args, ortools)


if __name__ == "__main__":
    main()
