"""The ``dualduty packages`` command (wired into :mod:`dualduty.cli`).

``dualduty packages FILE [--previous FILE] [-o OUT] [--format text|json] [--seed N]
[--solver NAME]``
plans the school packages of FILE (:func:`~dualduty.planning.plan_packages`), writes
the organisation with its new packages to OUT when given, and prints the quality of the
plan and its explanation. Exit 0 with a plan; exit 2 when a file is invalid or no plan
fits (the explanation names the schools and holders involved; nothing is written).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import argparse

    from .packages import PackagePlan

__all__ = ["add_packages_parser", "packages_command", "run_packages"]

EXIT_OK = 0
EXIT_INVALID = 2


def add_packages_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``packages`` sub-command to *sub* (what ``add_subparsers`` returned)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "packages",
        help="plan balanced school packages (分包学校) for a district file",
        description="Give every school one leading-group holder and one section holder, "
        "balanced by load, with the most affinity and the fewest changes from the previous "
        "plan. Print the quality of the plan and why it looks the way it does; write the "
        "organisation with its new packages with -o. Exit 0 with a plan, 2 on an invalid "
        "file or when no plan meets the pins and capacities (the explanation names the "
        "schools and holders involved).",
    )
    parser.add_argument("file", metavar="FILE", help="a .toml, .json, .yaml or .yml district file")
    parser.add_argument(
        "--previous",
        metavar="FILE",
        help="last year's district file: its packages are kept where balance allows",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write the organisation with the new packages here (format from the suffix)",
    )
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the planner (0)")
    parser.add_argument(
        "--solver",
        default="networkx",
        help="the min-cost-flow solver, by the name a plugin registers (networkx, built in; "
        "ortools with the dualduty-ortools plugin)",
    )
    return parser


def run_packages(ns: argparse.Namespace) -> int:
    """Run ``dualduty packages`` from parsed arguments; return the exit code."""
    return packages_command(
        ns.file,
        previous=ns.previous,
        output=ns.output,
        fmt=ns.format,
        seed=ns.seed,
        solver=ns.solver,
    )


def packages_command(
    file: str,
    *,
    previous: str | None = None,
    output: str | None = None,
    fmt: str = "text",
    seed: int = 0,
    solver: str = "networkx",
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Plan the packages of *file*; print the result to *stdout*, errors to *stderr*.

    Errors of any file (invalid, unreadable) are printed as ``dualduty: …`` on *stderr*
    with exit code 2. An infeasible plan prints its explanation (text: on *stderr*;
    JSON: ``{"quality": null, "explanation": […], "error": "infeasible"}`` on *stdout*)
    and exits 2. Nothing is written unless a plan was made.
    """
    from dualduty.errors import DualdutyError
    from dualduty.io import dump, load

    from ._assign import InfeasiblePlan
    from .packages import plan_packages

    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        org = load(file)
        before = load(previous) if previous else None
        plan = plan_packages(org, previous=before, seed=seed, solver=solver)
        if output:
            dump(plan.organisation, output)  # atomic: all of it or nothing
    except InfeasiblePlan as exc:
        if fmt == "json":
            report = {"quality": None, "explanation": list(exc.explanation), "error": "infeasible"}
            print(json.dumps(report, ensure_ascii=False, indent=2), file=out)
        else:
            print(f"dualduty: {file}: {exc}", file=err)
        return EXIT_INVALID
    except DualdutyError as exc:
        print(f"dualduty: {exc}", file=err)
        return EXIT_INVALID
    if fmt == "json":
        print(
            json.dumps({**plan.to_json(), "output": output}, ensure_ascii=False, indent=2),
            file=out,
        )
    else:
        _text(file, output, plan, out)
    return EXIT_OK


def _text(file: str, output: str | None, plan: PackagePlan, out: TextIO) -> None:
    q = plan.quality
    lead, sect = plan.leading_group, plan.sections
    schools = len(lead.holder_of)
    print(
        f"{file}: packages planned for {schools} schools "
        f"({len(lead.loads)} leading-group posts, {len(sect.loads)} sections)",
        file=out,
    )
    kept = "-- (no previous plan)" if q.kept_share is None else f"{q.kept_share:.1%}"
    rows = [
        ("max load / lower bound", f"{q.max_load_over_lower_bound:.3f}"),
        ("affinity cost", f"{q.affinity_cost} (count-balanced optimum {q.affinity_optimum})"),
        ("kept last year's holder", kept),
        ("written to", output or "-- (not written: pass -o OUT)"),
    ]
    for label, value in rows:
        print(f"  {label:<24} {value}", file=out)
    print("explanation:", file=out)
    for line in plan.explanation:
        print(f"  - {line}", file=out)
