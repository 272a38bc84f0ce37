"""Planning: balanced school packages (分包学校, clause 三.1) and the schedule (三.2, 三.3).

:func:`plan_packages` gives every school of an organisation exactly one leading-group
holder and one section holder, balanced by load, with the most affinity (the section
that owns the school's type, the same township, last year's holder) and explains the
plan. Underneath, :func:`solve_assignment` solves any :class:`AssignmentProblem` by a
weighted min-cost flow with a load window, rounding and a bottleneck repair; the
min-cost flow itself is solved by a :class:`PackageSolver` (networkx built in, OR-Tools
as the ``dualduty-ortools`` plugin).

:func:`plan_schedule` plans a year's (or a quarter's) dedicated inspections, topic-study
sessions, coordination and summary meetings and quarter-report deadlines from the
organisation, its packages and rules and a working-day calendar; :func:`check_schedule`
lists every way any schedule breaks the rules or the calendar.

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
from .schedule import (
    COORDINATION_AT,
    SUMMARY_WORKING_DAYS_BEFORE_YEAR_END,
    ScheduleError,
    ScheduleInfeasible,
    Shortfall,
    check_schedule,
    plan_schedule,
    visits_per_day_needed,
)

__all__ = [
    "BALANCE_GOAL",
    "COORDINATION_AT",
    "DEFAULT_AFFINITIES",
    "DENSE_BELOW",
    "LEADER_SHARE",
    "LEADING_GROUP",
    "REPAIR_TOLERANCE",
    "SECTIONS",
    "SUMMARY_WORKING_DAYS_BEFORE_YEAR_END",
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
    "ScheduleError",
    "ScheduleInfeasible",
    "ShortSet",
    "Shortfall",
    "check_schedule",
    "default_weight",
    "package_problems",
    "package_solver",
    "plan_packages",
    "plan_schedule",
    "solve_assignment",
    "solve_many",
    "visits_per_day_needed",
]
