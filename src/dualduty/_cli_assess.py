"""``dualduty assess``: the year-end assessment of every section (年终考核, clause 三.4).

``dualduty assess --db URL --org FILE --year Y [--rubric FILE] [--schedule FILE]
[--holidays FILE]… [--now TIME] [--members] [--explain UNIT] [--format text|json]
[--xlsx FILE] [--publish --actor PERSON]`` prints the ranking, the grades, the vetoes
and the excellent-section award; with ``--explain UNIT`` every item of that unit with
its evidence. When the year was published before, it also shows what changed since the
latest publication and why; ``--publish`` appends the assessment to the store as a
record (nothing when it is unchanged).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from .scoring.engine import Assessment

__all__ = ["add_assess_parser", "run_assess"]

EXIT_OK = 0


def add_assess_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``assess`` sub-command to *sub*."""
    from ._cli_args import year
    from ._cli_reports import _common

    parser: argparse.ArgumentParser = sub.add_parser(
        "assess",
        parents=[_common()],
        help="the year-end assessment: scores, grades, vetoes, ranking, award (三.4)",
        description="Assess every section for a year by a rubric (default: the plan's): "
        "each item's points from the compliance view and the records, deductions, bonuses, "
        "vetoes (一票否决), the total and grade, the ranking and the excellent-section award. "
        "Exit 0, or 2 on a bad rubric or district file (every problem with its path).",
    )
    parser.add_argument("--year", type=year, required=True, help="the year assessed")
    parser.add_argument(
        "--rubric", metavar="FILE", help="a rubric file (.toml, .json, .yaml; default: the plan's)"
    )
    parser.add_argument(
        "--members",
        action="store_true",
        help="also assess the leading group's members on their packages",
    )
    parser.add_argument(
        "--explain", metavar="UNIT", help="every item of this unit with its evidence"
    )
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    parser.add_argument(
        "--xlsx", metavar="FILE", help="also write the ranking, items and vetoes as Excel"
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="publish the assessment as a record (needs --actor); a re-assessment names "
        "the publication it supersedes and what changed",
    )
    parser.add_argument(
        "--actor", metavar="PERSON", help="who publishes (of the leading group or its office)"
    )
    return parser


def run_assess(ns: argparse.Namespace) -> int:
    """Run ``dualduty assess`` from parsed arguments; return the exit code."""
    from ._cli_reports import _schedule
    from .errors import DualdutyError
    from .io import load
    from .scoring import load_rubric
    from .scoring.engine import assess
    from .scoring.export import write_assessment_xlsx
    from .scoring.publish import compare, publications, publish
    from .storage import open_store

    if ns.publish and not ns.actor:
        raise DualdutyError("--publish needs --actor PERSON: who publishes the assessment")
    rubric = load_rubric(ns.rubric) if ns.rubric else None
    org = load(ns.org)
    schedule = _schedule(ns, org, ns.year)
    with open_store(ns.db, readonly=not ns.publish) as store:
        result = assess(
            store,
            org,
            ns.year,
            rubric=rubric,
            schedule=schedule,
            now=ns.now,
            members=ns.members,
        )
        earlier = publications(store, ns.year)
        changes = compare(earlier[-1], result, store) if earlier else None
        published = publish(store, result, actor=ns.actor) if ns.publish else None
    if ns.xlsx:
        write_assessment_xlsx(result, ns.xlsx)
    explained = None
    if ns.explain:
        try:
            explained = result.assessment(ns.explain)
        except KeyError:
            raise DualdutyError(f"--explain: no assessed unit {ns.explain!r}") from None
    if ns.format == "json":
        report = result.to_json()
        if explained is not None:
            report["ranking"] = [r for r in report["ranking"] if r["unit"] == ns.explain] or [
                r for r in report.get("members", []) if r["unit"] == ns.explain
            ]
        if earlier:
            report["published"] = earlier[-1].seq
            report["changes"] = None if changes is None else changes.to_json()
        if published is not None:
            report["publication"] = published.seq
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return EXIT_OK
    out = sys.stdout
    if explained is not None:
        _explain(explained, out)
    else:
        when = f"{result.now:%Y-%m-%d %H:%M}"
        print(f"assessment {result.year} ({result.rubric}) as of {when}", file=out)
        _table(result.ranking, out)
        if result.members:
            print("leading-group members:", file=out)
            _table(result.members, out)
        print(f"excellent: {', '.join(result.excellent) or '-'}", file=out)
    if changes is not None:
        for line in changes.lines(english=True):
            print(line, file=out)
    if published is not None:
        if earlier and published.seq == earlier[-1].seq:
            print(f"unchanged since publication #{published.seq}: not published again", file=out)
        else:
            print(f"published as record #{published.seq}", file=out)
    return EXIT_OK


def _table(rows: tuple[Assessment, ...], out: Any) -> None:
    for a in rows:
        rank = "-" if a.rank is None else str(a.rank)
        veto = "  VETO: " + "; ".join(v.reason for v in a.vetoes) if a.vetoed else ""
        print(f"  {rank:>3}  {a.total:6.2f}  {a.grade:<4} {a.unit}  {a.name}{veto}", file=out)


def _explain(a: Assessment, out: Any) -> None:
    print(
        f"{a.unit} {a.name}: {a.total:.2f} {a.grade}" + (" (vetoed)" if a.vetoed else ""), file=out
    )
    for item in a.items:
        evidence = ", ".join(item.evidence[:8]) + (" …" if len(item.evidence) > 8 else "")
        clause = item.clause or "-"
        points = f"{item.points:g} / {item.max_points:g}"
        shown = f"  ({evidence})" if evidence else ""
        print(f"  [{clause}] {item.rule}: {points} — {item.reason}{shown}", file=out)
    for veto in a.vetoes:
        print(f"  VETO {veto.rule}: {veto.reason}", file=out)
