"""``dualduty demo``: the main job, end to end, on the reference organisation.

``dualduty demo [--db URL] [--year Y] [--schools N] [--seed S] [--no-reorganise] [--out DIR]``
builds the
reference organisation, checks coverage, plans packages and the year's schedule,
simulates the year, delivers its notifications to the console channel, assesses and
publishes the year and writes the year report (:func:`dualduty.demo.run_demo`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

__all__ = ["add_demo_parser", "run_demo_command"]

EXIT_OK = 0


def add_demo_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``demo`` sub-command to *sub*."""
    from ._cli_args import year

    parser: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="the whole system on the reference bureau: plan, simulate a year, assess, report",
        description="Build the reference organisation, check its coverage, plan packages and "
        "the year's schedule, simulate the year's work through the API, deliver its "
        "notifications to the console channel, assess and publish the year, print the ranking "
        "and the excellent sections, and write the year report. Everything goes into --out.",
    )
    parser.add_argument(
        "--out", metavar="DIR", default="dualduty-demo", help="where to write (dualduty-demo)"
    )
    parser.add_argument(
        "--db", metavar="URL", help="an empty store to fill (default: DIR/dualduty.db, afresh)"
    )
    parser.add_argument("--year", type=year, default=2026, help="the year simulated (2026)")
    parser.add_argument(
        "--schools", type=_positive, metavar="N", help="how many schools (default: 120)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the seed (0)")
    parser.add_argument(
        "--no-reorganise",
        dest="reorganise",
        action="store_false",
        help="no mid-year changes of responsibility (by default a package moves to another "
        "section and a section head's post is handed over on 30 June)",
    )
    return parser


def _positive(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 school, got {value}")
    return value


def run_demo_command(ns: argparse.Namespace) -> int:
    """Run ``dualduty demo`` from parsed arguments; return the exit code."""
    from .demo import run_demo

    def say(line: str) -> None:
        print(line, flush=True)

    run_demo(
        ns.out,
        db=ns.db,
        year=ns.year,
        schools=ns.schools,
        seed=ns.seed,
        reorganise=ns.reorganise,
        say=say,
        progress=sys.stderr.isatty(),
    )
    return EXIT_OK
