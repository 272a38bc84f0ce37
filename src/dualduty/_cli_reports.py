"""``dualduty report quarter`` and ``dualduty compliance``: what the record adds up to.

``dualduty report quarter --db URL --org FILE --unit SECTION --quarter 2026Q3
[--schedule FILE] [--holidays FILE]… [--now TIME] [-o FILE] [--format markdown|html|json]
[--submit --actor PERSON]`` drafts a section's written quarterly report (三.2);
``dualduty compliance --db URL --org FILE --year Y [--schedule FILE] [--now TIME]
[--format text|json]`` prints what was due and what was done, per section.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from .model import Organisation, Schedule

__all__ = ["add_compliance_parser", "add_report_parser", "run_compliance", "run_report"]

EXIT_OK = 0


def _common() -> argparse.ArgumentParser:
    import argparse

    from ._cli_args import aware_time, schedule_options

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", required=True, metavar="URL", help="the store: sqlite:///path.db")
    common.add_argument("--org", required=True, metavar="FILE", help="the district file")
    schedule_options(common)
    common.add_argument(
        "--now",
        type=aware_time,
        metavar="TIME",
        help="as of this time, ISO 8601 with an offset (default: now); later records are left out",
    )
    return common


def add_report_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``report`` sub-command (``quarter``) to *sub*."""

    parser: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="a section's written quarterly report (书面报告, 三.2), or the year report (HTML)",
        description="Draft a section's written report for a quarter from the record: "
        "inspections done against due, hazards found, rectified, open and overdue, meetings, "
        "incidents and activities. With --submit, hand it to the office as a record.",
    )
    kinds = parser.add_subparsers(dest="report_kind", metavar="KIND", required=True)
    quarter = kinds.add_parser(
        "quarter",
        parents=[_common()],
        help="a section's quarterly report",
        description="Draft a section's written quarterly report (Markdown, or an HTML "
        "document a word processor opens).",
    )
    quarter.add_argument("--unit", required=True, metavar="SECTION", help="the section's id")
    quarter.add_argument("--quarter", required=True, metavar="YYYYQN", help="say 2026Q3")
    quarter.add_argument(
        "-o", "--output", metavar="FILE", help="write it here (.md or .html) instead of printing"
    )
    quarter.add_argument(
        "--format",
        choices=["markdown", "html", "json"],
        help="markdown (default; html when FILE ends in .html), html, or json (the figures)",
    )
    quarter.add_argument(
        "--submit", action="store_true", help="submit the draft to the office as a record"
    )
    quarter.add_argument("--actor", metavar="PERSON", help="who submits (with --submit)")
    quarter.add_argument(
        "--revision", action="store_true", help="with --submit: a revision of the one submitted"
    )
    from ._cli_report_html import add_year_parser

    add_year_parser(kinds)
    return parser


def add_compliance_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``compliance`` sub-command to *sub*."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "compliance",
        parents=[_common()],
        help="what was due and what was done, per section (制度落实)",
        description="From the year's schedule and the record: per section, the dedicated "
        "inspections due, done, late, missed; topic studies; quarterly reports; hazards "
        "found, closed, open and overdue (clauses 三.2, 三.3, 二(三).1).",
    )
    from ._cli_args import year

    parser.add_argument("--year", type=year, required=True, help="the year")
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    return parser


def _schedule(ns: argparse.Namespace, org: Organisation, year: int) -> Schedule:
    from ._cli_schedule import _read
    from .calendars import calendar_for
    from .planning import plan_schedule

    if ns.schedule:
        return _read(ns.schedule, year, None)
    calendar = calendar_for(org, year, holidays=ns.holidays, base_dir=Path(ns.org).parent)
    return plan_schedule(org, calendar, year)


def run_report(ns: argparse.Namespace) -> int:
    """Run ``dualduty report quarter`` (or ``year``) from parsed arguments; return the exit code."""
    if ns.report_kind == "year":
        from ._cli_report_html import run_year

        return run_year(ns)
    from .errors import DualdutyError
    from .io import load
    from .io._schedule._common import write_file
    from .records import Reports
    from .reports import draft_quarterly, parse_quarter
    from .storage import open_store

    year, quarter = parse_quarter(ns.quarter)
    if ns.submit and not ns.actor:
        raise DualdutyError("--submit needs --actor: who submits the report")
    org = load(ns.org)
    schedule = _schedule(ns, org, year)
    fmt = ns.format or ("html" if ns.output and ns.output.endswith(".html") else "markdown")
    with open_store(ns.db, readonly=not ns.submit) as store:
        draft = draft_quarterly(store, org, ns.unit, year, quarter, schedule=schedule, now=ns.now)
        submitted = None
        if ns.submit:
            submitted = draft.submit(
                Reports(store, org), actor=ns.actor, revision=ns.revision, at=ns.now
            )
    if fmt == "json":
        text = json.dumps(
            {
                "unit": draft.unit,
                "year": year,
                "quarter": quarter,
                "title": draft.title,
                "figures": draft.figures(),
                "submitted": None if submitted is None else submitted.id,
            },
            ensure_ascii=False,
            indent=2,
        )
    else:
        text = draft.html() if fmt == "html" else draft.markdown()
    if ns.output:
        write_file(ns.output, text.encode("utf-8"))
        print(f"{ns.output}: {draft.title}", file=sys.stderr)
    else:
        print(text)
    if submitted is not None:
        print(f"submitted as {submitted.id}", file=sys.stderr)
    return EXIT_OK


def run_compliance(ns: argparse.Namespace) -> int:
    """Run ``dualduty compliance`` from parsed arguments; return the exit code."""
    from .io import load
    from .records.compliance import compliance
    from .storage import open_store

    org = load(ns.org)
    schedule = _schedule(ns, org, ns.year)
    with open_store(ns.db, readonly=True) as store:
        view = compliance(store, org, schedule, now=ns.now)
    rows: list[dict[str, Any]] = []
    for row in view.sections:
        if row.quarter is not None:
            continue
        reports: dict[str, int] = {}
        for outcome in row.reports:
            reports[outcome.status.value] = reports.get(outcome.status.value, 0) + 1
        rows.append(
            {
                "section": row.section,
                "name": row.name,
                "visits": row.visits.counts(),
                "hazards": row.hazards.counts(),
                "topic_studies": {
                    "required": row.topic_studies.required,
                    "held": len(row.topic_studies.held),
                    "status": row.topic_studies.status.value,
                },
                "reports": reports,
            }
        )
    if ns.format == "json":
        report = {"year": view.year, "now": view.now.isoformat(), "sections": rows}
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"compliance {view.year} as of {view.now.isoformat(timespec='minutes')} — {org.name}")
    for r in rows:
        v, h = r["visits"], r["hazards"]
        print(
            f"  {r['section']:<20} visits {v.get('done', 0)}/{v.get('due', 0)} done, "
            f"{v.get('late', 0)} late, {v.get('missed', 0)} missed; topic studies "
            f"{r['topic_studies']['held']}/{r['topic_studies']['required']}; hazards "
            f"{h.get('found', 0)} found, {h.get('open', 0)} open, {h.get('overdue', 0)} overdue; "
            f"reports {', '.join(f'{k} {n}' for k, n in sorted(r['reports'].items())) or '-'}"
        )
    return EXIT_OK
