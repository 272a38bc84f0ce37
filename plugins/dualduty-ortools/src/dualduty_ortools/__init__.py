"""OR-Tools' min-cost flow as a dualduty package solver.

:class:`OrToolsSolver` implements :class:`dualduty.planning.PackageSolver` with
``ortools.graph.python.min_cost_flow.SimpleMinCostFlow``: exact on integers,
deterministic, and about a hundred times faster than the built-in networkx solver on
large problems. Pass it to the planner::

    from dualduty.planning import plan_packages
    from dualduty_ortools import OrToolsSolver

    plan = plan_packages(org, solver=OrToolsSolver())

The distribution also registers itself in the ``dualduty`` entry-point group (name
``ortools``) and registers the solver through the
``dualduty_register_package_solvers`` hook under the name ``"ortools"``, so that it
can be picked by name: ``plan_packages(org, solver="ortools")`` or
``dualduty packages FILE --solver ortools``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import attrs

from dualduty.planning import FlowProblem, FlowSolution, PackageSolver, PlanningError
from dualduty.plugins import hookimpl

__all__ = ["NAME", "OrToolsSolver", "dualduty_register_package_solvers"]

__version__ = "0.1.0"

#: The solver's name, in reports and for the hook.
NAME: Final = "ortools"


@attrs.frozen
class OrToolsSolver:
    """A :class:`~dualduty.planning.PackageSolver` backed by OR-Tools' ``SimpleMinCostFlow``.

    Holders' lower bounds become node demands and their windows arc capacities to one
    sink; each source's arcs are capped at its supply.
    """

    @property
    def name(self) -> str:
        """``"ortools"``."""
        return NAME

    def solve(self, problem: FlowProblem) -> FlowSolution | None:
        """An optimal flow for *problem*, or ``None`` when no flow meets every window.

        :raises dualduty.planning.PlanningError: when OR-Tools fails for another reason
            (costs or capacities out of its range).
        """
        import numpy as np
        from ortools.graph.python import min_cost_flow

        try:
            n, m = len(problem.supplies), len(problem.lower)
            sink = n + m
            k = len(problem.arc_source)
            flow = min_cost_flow.SimpleMinCostFlow()
            tails = np.fromiter(
                (*problem.arc_source, *range(n, n + m)), dtype=np.int32, count=k + m
            )
            heads = np.fromiter(
                (*(n + j for j in problem.arc_holder), *([sink] * m)), dtype=np.int32, count=k + m
            )
            capacities = np.fromiter(
                (
                    *(problem.supplies[i] for i in problem.arc_source),
                    *(hi - lo for lo, hi in zip(problem.lower, problem.upper, strict=True)),
                ),
                dtype=np.int64,
                count=k + m,
            )
            costs = np.fromiter((*problem.arc_cost, *([0] * m)), dtype=np.int64, count=k + m)
            arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
            supplies = np.fromiter(
                (
                    *problem.supplies,
                    *(-lo for lo in problem.lower),
                    -(problem.total - sum(problem.lower)),
                ),
                dtype=np.int64,
                count=n + m + 1,
            )
            flow.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int32), supplies)
        except OverflowError as exc:  # a number beyond 64 bits
            raise PlanningError(f"OR-Tools min-cost flow failed: {exc}") from exc
        status = flow.solve()
        if status == flow.OPTIMAL:
            flows = flow.flows(arcs[:k])
            return FlowSolution(tuple(int(f) for f in flows), int(flow.optimal_cost()))
        if status in (flow.INFEASIBLE, flow.UNBALANCED):
            return None
        raise PlanningError(f"OR-Tools min-cost flow failed with status {status!r}")


@hookimpl
def dualduty_register_package_solvers(register: Callable[[PackageSolver], None]) -> None:
    """Register :class:`OrToolsSolver` under the name ``"ortools"``."""
    register(OrToolsSolver())
