"""Package solvers come from plugins, by name: the built-in networkx one and any other."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

import dualduty
from dualduty.planning import (
    FlowProblem,
    FlowSolution,
    NetworkXSolver,
    PackageSolver,
    PlanningError,
    package_solver,
    plan_packages,
)
from dualduty.planning._cli import packages_command
from dualduty.plugins import Hooks, hookimpl
from dualduty.testing import PluginRegistrar


@attrs.define
class CountingSolver:
    """networkx underneath, under another name, counting the problems it solves."""

    label: str = "counting"
    solved: int = 0

    @property
    def name(self) -> str:
        return self.label

    def solve(self, problem: FlowProblem) -> FlowSolution | None:
        self.solved += 1
        return NetworkXSolver().solve(problem)


class SolverPlugin:
    def __init__(self, solver: PackageSolver) -> None:
        self.solver = solver

    @hookimpl
    def dualduty_register_package_solvers(self, register: Callable[[PackageSolver], None]) -> None:
        register(self.solver)


def test_networkx_is_built_in(dualduty_hooks: Hooks) -> None:
    assert dualduty_hooks.package_solvers() == {"networkx": NetworkXSolver()}


def test_a_plugin_solver_is_picked_by_name(dualduty_plugin: PluginRegistrar) -> None:
    solver = CountingSolver()
    dualduty_plugin(SolverPlugin(solver), name="counting-solver")
    assert package_solver("counting") is solver
    org = dualduty.reference_organisation(schools=40)
    plan = plan_packages(org, solver="counting")
    assert solver.solved >= 2  # both problems went through it
    assert {plan.leading_group.quality.solver, plan.sections.quality.solver} == {"counting"}
    same = plan_packages(org)  # the same optimum and rounding as the built-in solver
    assert plan.organisation.packages == same.organisation.packages


def test_a_plugin_replaces_a_built_in_solver_of_the_same_name(
    dualduty_plugin: PluginRegistrar,
) -> None:
    mine = CountingSolver(label="networkx")
    dualduty_plugin(SolverPlugin(mine), name="my-networkx")
    assert package_solver("networkx") is mine


def test_an_unknown_name_lists_the_registered_ones() -> None:
    with pytest.raises(PlanningError) as caught:
        plan_packages(dualduty.reference_organisation(schools=5), solver="cplex")
    assert str(caught.value).startswith("no package solver named 'cplex' (registered: networkx)")


def test_the_command_takes_a_solver_name(tmp_path: Path, dualduty_plugin: PluginRegistrar) -> None:
    path = tmp_path / "bureau.toml"
    dualduty.dump(dualduty.reference_organisation(schools=30), path)
    solver = CountingSolver()
    dualduty_plugin(SolverPlugin(solver), name="counting-solver")
    out, err = io.StringIO(), io.StringIO()
    code = packages_command(str(path), fmt="json", solver="counting", stdout=out, stderr=err)
    assert (code, err.getvalue()) == (0, "")
    report = json.loads(out.getvalue())
    assert {p["solver"] for p in report["problems"].values()} == {"counting"}
    out, err = io.StringIO(), io.StringIO()
    assert packages_command(str(path), solver="cplex", stdout=out, stderr=err) == 2
    assert out.getvalue() == ""
    assert "no package solver named 'cplex'" in err.getvalue()
