"""``dualduty handover``: hand a person's posts and open work to a successor (交接).

Runs :func:`dualduty.records.handover` in one transaction and prints the handover list
(交接清单) of everything that moved and what stayed, with why. ``--dry-run`` prints the
list without writing anything.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

__all__ = ["add_handover_parser", "run_handover"]

EXIT_OK = 0


def add_handover_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``handover`` sub-command to *sub*."""
    from ._cli_args import aware_time, iso_date, schedule_options

    parser: argparse.ArgumentParser = sub.add_parser(
        "handover",
        help="hand a person's posts and open work to a successor (交接)",
        description="Hand PERSON's posts (all, or --posts) to a successor from --date, with "
        "the open hazards whose rectification they answer for and their pending "
        "notifications, in one transaction; print the handover list (交接清单). Exit 0 when "
        "recorded, 2 when refused or the input is bad (nothing is written).",
    )
    parser.add_argument("--db", required=True, metavar="URL", help="the store: sqlite:///path.db")
    parser.add_argument("--org", required=True, metavar="FILE", help="the district file")
    parser.add_argument(
        "--from", dest="predecessor", required=True, metavar="PERSON", help="who hands over"
    )
    parser.add_argument(
        "--to", dest="successor", required=True, metavar="PERSON", help="who takes over"
    )
    parser.add_argument(
        "--date",
        type=iso_date,
        required=True,
        metavar="DATE",
        help="the first day the successor holds the posts (today or earlier)",
    )
    parser.add_argument(
        "--posts",
        metavar="POST,…",
        help="only these of the predecessor's posts (comma-separated; default: all)",
    )
    parser.add_argument(
        "--name",
        metavar="NAME",
        help="the successor's name, when they are new (recorded as joining that day)",
    )
    parser.add_argument(
        "--actor", required=True, metavar="PERSON", help="who records it (the office, a leader)"
    )
    parser.add_argument("--reason", default="交接", help="why (default: 交接)")
    parser.add_argument(
        "--at", type=aware_time, metavar="TIME", help="when recorded, ISO 8601 with an offset"
    )
    schedule_options(parser)  # for the upcoming visits of the posts
    parser.add_argument(
        "--dry-run", action="store_true", help="print the list without writing anything"
    )
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    return parser


def run_handover(ns: argparse.Namespace) -> int:
    """Run ``dualduty handover`` from parsed arguments; return the exit code."""
    from ._cli_reports import _schedule
    from .io import load
    from .records import Recorder, handover, in_time
    from .storage import open_store

    org = load(ns.org)
    posts = None
    if ns.posts is not None:
        posts = [p.strip() for p in ns.posts.split(",") if p.strip()]
    with open_store(ns.db) as store:
        recorder = Recorder(store, org, clock=None if ns.at is None else (lambda: ns.at))
        schedule = _schedule(ns, in_time(org, store, ns.date), ns.date.year)
        result = handover(
            recorder,
            ns.predecessor,
            ns.successor,
            ns.date,
            actor=ns.actor,
            posts=posts,
            successor_name=ns.name,
            schedule=schedule,
            reason=ns.reason,
            at=ns.at,
            dry_run=ns.dry_run,
        )
    if ns.format == "json":
        doc = result.to_dict()
        doc["dry_run"] = ns.dry_run
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        if ns.dry_run:
            print("（预览：未写入）")
        sys.stdout.write(result.to_text())
    return EXIT_OK
