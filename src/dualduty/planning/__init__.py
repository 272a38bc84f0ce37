"""Planning: balanced school packages (分包学校, clause 三.1).

:func:`plan_packages` gives every school of an organisation exactly one leading-group
holder and one section holder, balanced by load, with the most affinity (the section
that owns the school's type, the same township, last year's holder) and explains the
plan. Underneath, :func:`solve_assignment` solves any :class:`AssignmentProblem` by a
weighted min-cost flow with a load window, rounding and a bottleneck repair; the
min-cost flow itself is solved by a :class:`PackageSolver` (networkx built in, OR-Tools
as the ``dualduty-ortools`` plugin).

Importing this package does not import networkx: the built-in solver imports it when it
first solves a problem.
"""

from __future__ import annotations

from ._assign import (
    BALANCE_GOAL,
    DENSE_BELOW,
    REPAIR_TOLERANCE,
    AffinityCosts,
    Assignment,
    AssignmentProblem,
    AssignmentQuality,
    Holder,
    InfeasiblePlan,
    Item,
    PlanningError,
    ShortSet,
    solve_assignment,
    solve_many,
)
from ._flow import FlowProblem, FlowSolution, NetworkXSolver, PackageSolver
from .packages import (
    DEFAULT_AFFINITIES,
    LEADER_SHARE,
    LEADING_GROUP,
    SECTIONS,
    PackagePlan,
    PlanQuality,
    default_weight,
    package_problems,
    package_solver,
    plan_packages,
)

__all__ = [
    "BALANCE_GOAL",
    "DEFAULT_AFFINITIES",
    "DENSE_BELOW",
    "LEADER_SHARE",
    "LEADING_GROUP",
    "REPAIR_TOLERANCE",
    "SECTIONS",
    "AffinityCosts",
    "Assignment",
    "AssignmentProblem",
    "AssignmentQuality",
    "FlowProblem",
    "FlowSolution",
    "Holder",
    "InfeasiblePlan",
    "Item",
    "NetworkXSolver",
    "PackagePlan",
    "PackageSolver",
    "PlanQuality",
    "PlanningError",
    "ShortSet",
    "default_weight",
    "package_problems",
    "package_solver",
    "plan_packages",
    "solve_assignment",
    "solve_many",
]
