"""The ``dualduty schedule`` command: plan (or check) a year's visits, meetings and deadlines.

``dualduty schedule FILE --year Y [--quarter Q] [--holidays FILE]… [--seed N]
[--ics DIR] [--csv FILE] [--xlsx FILE] [--check SCHEDULE] [--format text|json]``
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from .model import Organisation, Schedule, Violation

__all__ = ["add_schedule_parser", "run_schedule"]

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_INVALID = 2


def add_schedule_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``schedule`` sub-command to *sub* (what ``add_subparsers`` returned)."""
    from ._cli_args import aware_time, quarter, year

    parser: argparse.ArgumentParser = sub.add_parser(
        "schedule",
        help="plan the year's inspections, meetings and report deadlines (clause 三)",
        description="Plan the dedicated inspections of every packaged school, the sections' "
        "topic studies, the coordination and summary meetings and the quarter-report "
        "deadlines of a year (or a quarter) on working days, check the plan against the "
        "rules and the calendar, and export it. With --check, check a schedule file "
        "(CSV, Excel or JSON, edited by hand or imported) instead of planning one. Exit 0 "
        "with no violation, 1 when the checked schedule breaks a rule, 2 on invalid input, "
        "a year without holiday data, or a plan that cannot fit.",
    )
    parser.add_argument("file", metavar="FILE", help="a .toml, .json, .yaml or .yml district file")
    parser.add_argument("--year", type=year, required=True, help="the year to plan")
    parser.add_argument("--quarter", type=quarter, help="only this quarter (1-4)")
    parser.add_argument(
        "--holidays",
        metavar="FILE",
        action="append",
        default=[],
        help="a holiday file for a year dualduty ships no data for (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the planner (0)")
    parser.add_argument("--ics", metavar="DIR", help="write iCalendar files (one per person, unit)")
    parser.add_argument("--csv", metavar="FILE", help="write the schedule as CSV (Chinese headers)")
    parser.add_argument("--xlsx", metavar="FILE", help="write the schedule as Excel (excel extra)")
    parser.add_argument(
        "--stamp",
        type=aware_time,
        help="DTSTAMP of the iCalendar events, ISO 8601 with an offset (default: now); "
        "the same stamp gives byte-identical files",
    )
    parser.add_argument(
        "--check",
        metavar="SCHEDULE",
        help="check this schedule file (.csv, .xlsx or .json) instead of planning one",
    )
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    return parser


def run_schedule(ns: argparse.Namespace) -> int:
    """Run ``dualduty schedule`` from parsed arguments; return the exit code.

    Errors (an invalid file, a year without holiday data, a plan that cannot fit) are
    :class:`~dualduty.DualdutyError`\\ s, printed by :func:`dualduty.cli.main` with exit
    code 2. Nothing is written unless the schedule was made (or read) and checked.
    """
    from .calendars import calendar_for
    from .io import load
    from .planning import check_schedule, plan_schedule

    org = load(ns.file)
    calendar = calendar_for(org, ns.year, holidays=ns.holidays, base_dir=Path(ns.file).parent)
    if ns.check:
        schedule = _read(ns.check, ns.year, ns.quarter)
    else:
        schedule = plan_schedule(org, calendar, ns.year, quarter=ns.quarter, seed=ns.seed)
    violations = check_schedule(schedule, org, calendar)
    written = _export(ns, schedule, org)
    if ns.format == "json":
        from .io import schedule_to_json

        report = schedule_to_json(schedule, violations)
        if written:
            report["written"] = written
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _text(ns, org, schedule, violations, written)
    return EXIT_VIOLATIONS if violations else EXIT_OK


def _read(path: str, year: int, quarter: int | None) -> Schedule:
    from .errors import DualdutyError
    from .io import read_schedule_csv, read_schedule_json, read_schedule_xlsx

    suffix = Path(path).suffix.lower()
    readers = {".csv": read_schedule_csv, ".xlsx": read_schedule_xlsx, ".json": read_schedule_json}
    if suffix not in readers:
        raise DualdutyError(
            f"{path}: cannot tell the format from {suffix!r}: use .csv, .xlsx or .json"
        )
    return readers[suffix](path, year=year, quarter=quarter)


def _export(ns: argparse.Namespace, schedule: Schedule, org: Organisation) -> list[str]:
    from .io import write_schedule_csv, write_schedule_ics, write_schedule_xlsx

    written: list[str] = []
    if ns.csv:
        write_schedule_csv(schedule, ns.csv, org)
        written.append(ns.csv)
    if ns.xlsx:
        write_schedule_xlsx(schedule, ns.xlsx, org)
        written.append(ns.xlsx)
    if ns.ics:
        stamp = ns.stamp or dt.datetime.now(dt.UTC).replace(microsecond=0)
        names = write_schedule_ics(schedule, org, ns.ics, stamp=stamp)
        written.extend(str(Path(ns.ics) / name) for name in names)
    return written


def _text(
    ns: argparse.Namespace,
    org: Organisation,
    schedule: Schedule,
    violations: list[Violation],
    written: list[str],
) -> None:
    out = sys.stdout
    span = f"{schedule.year}" + (f" Q{schedule.quarter}" if schedule.quarter else "")
    what = f"checked {ns.check}" if ns.check else "planned"
    print(f"{ns.file}: schedule {span} {what} — {org.name}", file=out)
    unannounced = sum(not v.announced for v in schedule.visits)
    joint = sum(v.joint is not None for v in schedule.visits)
    meetings = Counter(m.kind.value for m in schedule.meetings)
    rows = [
        (
            "visits",
            f"{len(schedule.visits)} ({len(schedule.visits) - unannounced} announced, "
            f"{unannounced} unannounced; {joint} joint)",
        ),
        (
            "meetings",
            f"{len(schedule.meetings)} ("
            + ", ".join(f"{kind} {n}" for kind, n in sorted(meetings.items()))
            + ")",
        ),
        ("deadlines", str(len(schedule.deadlines))),
    ]
    for label, value in rows:
        print(f"  {label:<10} {value}", file=out)
    print(f"violations: {len(violations)}", file=out)
    for v in violations:
        print(f"  [{v.clause}] {v.kind} {v.subject}: {v.message}", file=out)
    if written:
        print(f"written: {len(written)} file(s)", file=out)
        for path in written[:5]:
            print(f"  {path}", file=out)
        if len(written) > 5:
            print(f"  … and {len(written) - 5} more", file=out)
