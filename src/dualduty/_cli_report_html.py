"""``dualduty report year``: the year report as one self-contained HTML file.

``dualduty report year --db URL --org FILE --year Y --html FILE [--schedule FILE]
[--holidays FILE]… [--now TIME] [--rubric FILE]`` writes the report
(:func:`dualduty.reports.html.year_report_html`) for the leading group. The same command
may be given without its kind, as ``dualduty report --db URL --org FILE --year Y --html
FILE``: :func:`year_report_argv` puts ``year`` in.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

__all__ = ["add_year_parser", "run_year", "year_report_argv"]

EXIT_OK = 0
#: ``dualduty report -h`` still asks for the help of ``report`` itself.
_HELP = ("-h", "--help")


def year_report_argv(args: Sequence[str]) -> list[str]:
    """*args* with ``year`` put after ``report`` when no kind follows it, so that
    ``dualduty report --year 2026 --html r.html …`` means ``dualduty report year …``.

    >>> year_report_argv(["report", "--year", "2026", "--html", "r.html"])
    ['report', 'year', '--year', '2026', '--html', 'r.html']
    >>> year_report_argv(["report", "quarter", "--unit", "planning"])
    ['report', 'quarter', '--unit', 'planning']
    """
    out = list(args)
    if len(out) > 1 and out[0] == "report" and out[1].startswith("-") and out[1] not in _HELP:
        out.insert(1, "year")
    return out


def add_year_parser(kinds: Any) -> argparse.ArgumentParser:
    """Add the ``year`` kind to the sub-parsers of ``dualduty report`` (*kinds*)."""
    from ._cli_args import year
    from ._cli_reports import _common

    parser: argparse.ArgumentParser = kinds.add_parser(
        "year",
        parents=[_common()],
        help="the year report for the leading group, as one HTML file",
        description="Write the year report as one self-contained HTML file (inline "
        "styles and charts, no script, nothing fetched): the organisation and its "
        "responsibility graph, responsibility coverage, package balance, the year's "
        "calendar of visits and meetings, the hazard funnel and the overdue hazards, the "
        "compliance of every section by quarter, and the year-end ranking with each "
        "section's items. Exit 0, or 2 on bad input.",
    )
    parser.add_argument("--year", type=year, required=True, help="the year reported on")
    parser.add_argument(
        "--html", required=True, metavar="FILE", help="write the report to this file"
    )
    parser.add_argument(
        "--rubric", metavar="FILE", help="a rubric file (.toml, .json, .yaml; default: the plan's)"
    )
    return parser


def run_year(ns: argparse.Namespace) -> int:
    """Run ``dualduty report year`` from parsed arguments; return the exit code."""
    from ._cli_schedule import _read
    from .calendars import CalendarError, calendar_for
    from .io import load
    from .planning import plan_schedule
    from .reports.html import write_year_report
    from .scoring import load_rubric
    from .storage import open_store

    rubric = load_rubric(ns.rubric) if ns.rubric else None
    org = load(ns.org)
    try:
        calendar = calendar_for(org, [ns.year], holidays=ns.holidays, base_dir=Path(ns.org).parent)
    except CalendarError:
        if not ns.schedule:
            raise
        calendar = None  # the schedule is given: the calendar shows weekends only
    if ns.schedule:
        schedule = _read(ns.schedule, ns.year, None)
    else:
        assert calendar is not None
        schedule = plan_schedule(org, calendar, ns.year)
    with open_store(ns.db, readonly=True) as store:
        write_year_report(
            ns.html,
            store,
            org,
            ns.year,
            now=ns.now,
            schedule=schedule,
            rubric=rubric,
            calendar=calendar,
        )
    print(f"{ns.html}: the {ns.year} year report of {org.name}", file=sys.stderr)
    return EXIT_OK
