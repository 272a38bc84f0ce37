"""The ``dualduty`` command.

Commands import what they need when they run, so that ``dualduty --version`` starts
about as fast as Python itself. Bad input is printed as a list of problems (no
traceback) and the command exits 2.
"""

from __future__ import annotations

import os
import sys

from ._version import __version__

TYPE_CHECKING = False  # not from typing: keep `dualduty --version` free of imports
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

    from .model import Organisation

__all__ = ["main", "run"]

EXIT_OK = 0
EXIT_GAPS = 1
EXIT_BROKEN_PIPE = 141  # as if killed by SIGPIPE (128 + 13), like other Unix tools
EXIT_TAMPERED = 1
EXIT_INVALID = 2


def _parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="dualduty",
        description="School-safety responsibility under 一岗双责 (one post, dual duty).",
    )
    parser.add_argument("-V", "--version", action="version", version=f"dualduty {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ref = sub.add_parser(
        "reference",
        help="write the reference organisation (the plan's bureau with a synthetic roster)",
        description="Write the reference organisation built from the plan, with a "
        "deterministic synthetic roster of schools, people and packages.",
    )
    ref.add_argument("--schools", type=_non_negative, default=120, help="number of schools (120)")
    ref.add_argument("--seed", type=int, default=0, help="seed of the synthetic roster (0)")
    ref.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    ref.add_argument(
        "--format",
        choices=["toml", "json", "yaml"],
        help="file format (default: from the suffix of FILE, else toml)",
    )

    check = sub.add_parser(
        "check",
        help="load and validate a district file and summarise it",
        description="Load and validate a district file, then analyse its responsibility "
        "coverage; with --db or --date, the coverage of the organisation in force on the "
        "date (the file with the store's organisation changes) and the vacancies of its "
        "year up to the date. Exit 0 when valid without error-level gaps, 1 when valid with "
        "one, 2 on invalid input with every problem listed.",
    )
    check.add_argument("file", metavar="FILE", help="a .toml, .json, .yaml or .yml district file")
    check.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    from ._cli_coverage import add_check_options

    add_check_options(check)

    plugins = sub.add_parser(
        "plugins",
        help="list the plugins, their versions and the hooks they implement",
        description="List every registered plugin (the built-in one first), its version and "
        "the hooks it implements, after DUALDUTY_LOAD_PLUGINS and DUALDUTY_DISABLED_PLUGINS.",
    )
    plugins.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )

    verify = sub.add_parser(
        "verify",
        help="check that a store's records are intact (walk the hash chain)",
        description="Open a store read-only and walk its hash chain. Exit 0 when every "
        "entry matches, 1 when one does not (tampering or damage), 2 when the store "
        "cannot be opened.",
    )
    verify.add_argument(
        "--db", required=True, metavar="URL", help="the store: sqlite:///path.db, memory:, …"
    )
    verify.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    from ._cli_assess import add_assess_parser
    from ._cli_demo import add_demo_parser
    from ._cli_documents import add_card_parser, add_pack_parser, add_pledge_doc_parser
    from ._cli_handover import add_handover_parser
    from ._cli_notify import add_notify_parser
    from ._cli_records import add_ledger_parser, add_record_parser
    from ._cli_reports import add_compliance_parser, add_report_parser
    from ._cli_schedule import add_schedule_parser
    from ._cli_schools import add_schools_parser
    from ._cli_timeline import add_org_parser, add_who_parser
    from .planning._cli import add_packages_parser

    add_packages_parser(sub)
    add_schedule_parser(sub)
    add_record_parser(sub)
    add_ledger_parser(sub)
    add_report_parser(sub)
    add_compliance_parser(sub)
    add_assess_parser(sub)
    add_demo_parser(sub)
    add_card_parser(sub)
    add_pledge_doc_parser(sub)
    add_pack_parser(sub)
    add_notify_parser(sub)
    add_schools_parser(sub)
    add_who_parser(sub)
    add_org_parser(sub)
    add_handover_parser(sub)
    return parser


def _non_negative(text: str) -> int:
    import argparse

    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):  # the fast path: no argparse, no model
        print(f"dualduty {__version__}")
        return EXIT_OK
    from ._cli_report_html import year_report_argv

    ns = _parser().parse_args(year_report_argv(args))
    from ._cli_assess import run_assess
    from ._cli_demo import run_demo_command
    from ._cli_documents import run_card, run_pack, run_pledge_doc
    from ._cli_handover import run_handover
    from ._cli_notify import run_notify
    from ._cli_records import run_ledger, run_record
    from ._cli_reports import run_compliance, run_report
    from ._cli_schedule import run_schedule
    from ._cli_schools import run_schools
    from ._cli_timeline import run_org, run_who
    from .errors import DualdutyError
    from .planning._cli import run_packages

    commands = {
        "packages": run_packages,
        "schedule": run_schedule,
        "record": run_record,
        "ledger": run_ledger,
        "report": run_report,
        "compliance": run_compliance,
        "assess": run_assess,
        "demo": run_demo_command,
        "card": run_card,
        "pledge-doc": run_pledge_doc,
        "pack": run_pack,
        "notify": run_notify,
        "schools": run_schools,
        "who": run_who,
        "org": run_org,
        "handover": run_handover,
        "reference": _reference,
        "check": _check,
        "plugins": _plugins,
        "verify": _verify,
    }
    try:
        return commands[ns.command](ns)
    except DualdutyError as exc:
        print(f"dualduty: {exc}", file=sys.stderr)
        return EXIT_INVALID


def _reference(ns: argparse.Namespace) -> int:
    from .io import dump, dumps
    from .reference import reference_organisation

    org = reference_organisation(schools=ns.schools, seed=ns.seed)
    if ns.output:
        dump(org, ns.output, ns.format)
    else:
        sys.stdout.write(dumps(org, ns.format or "toml"))
    return EXIT_OK


def _counts(org: Organisation) -> dict[str, int]:
    """The counts ``dualduty check`` reports."""
    from .model import SECTION_KINDS

    sections = [u for u in org.units if u.kind in SECTION_KINDS]
    return {
        "units": len(org.units),
        "sections": len(sections),
        "posts": sum(len(u.posts) for u in org.units),
        "people": len(org.people),
        "duties": sum(len(u.duties) for u in org.units) + len(org.common_duties),
        "section_duties": sum(len(u.duties) for u in sections),
        "schools": len(org.schools),
        "packages": len(org.packages),
    }


def _check(ns: argparse.Namespace) -> int:
    import json

    from .errors import InvalidOrganisation
    from .io import load

    try:
        org = load(ns.file)
    except InvalidOrganisation as exc:
        if ns.format == "json":
            report: dict[str, Any] = {
                "valid": False,
                "counts": None,
                "problems": [{"path": p.path, "message": p.message} for p in exc.problems],
                "gaps": [],
            }
            print(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    from ._cli_coverage import check_as_of, wanted

    if wanted(ns):
        return check_as_of(ns, org)
    from .coverage import analyse

    numbers = _counts(org)
    coverage = analyse(org)
    status = EXIT_OK if coverage.ok else EXIT_GAPS
    if ns.format == "json":
        report = {
            "valid": True,
            "counts": numbers,
            "problems": [],
            "gaps": [gap.to_json() for gap in coverage.gaps],
        }
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return status
    by_kind: dict[str, int] = {}
    for _unit, duty in org.all_duties():
        by_kind[duty.kind.value] = by_kind.get(duty.kind.value, 0) + 1
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())) or "none"
    print(f"{ns.file}: valid — {org.name} ({org.id}, {org.kind.value})")
    rows = [
        ("units", f"{numbers['units']} (sections and centres: {numbers['sections']})"),
        ("posts", str(numbers["posts"])),
        ("people", str(numbers["people"])),
        ("duties", f"{numbers['duties']} ({kinds}; section duties {numbers['section_duties']})"),
        ("schools", str(numbers["schools"])),
        ("places", str(len(org.places))),
        ("packages", str(numbers["packages"])),
    ]
    for label, value in rows:
        print(f"  {label:<9} {value}")
    errors, warnings = len(coverage.errors), len(coverage.warnings)
    print(f"coverage: {errors} error(s), {warnings} warning(s)")
    for gap in coverage.gaps:
        print(f"  {gap.severity.value:<7} [{gap.clause}] {gap.subject}: {gap.message}")
    return status


def _plugins(ns: argparse.Namespace) -> int:
    import json

    from .plugins import hooks, requested_but_missing

    h = hooks()
    found = h.plugins()
    for name in requested_but_missing(h.pm):
        print(
            f"dualduty: warning: DUALDUTY_LOAD_PLUGINS names {name!r}, but no installed "
            "plugin has that entry-point name",
            file=sys.stderr,
        )
    if ns.format == "json":
        rows = [{"name": p.name, "version": p.version, "hooks": list(p.hooks)} for p in found]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    for plugin in found:
        print(f"{plugin.name} {plugin.version or '(version unknown)'}")
        for hook in plugin.hooks or ("(no hooks)",):
            print(f"  {hook}")
    disabled = [name for name, plugin in h.pm.list_name_plugin() if plugin is None]
    if disabled:
        print(f"disabled by DUALDUTY_DISABLED_PLUGINS: {', '.join(sorted(disabled))}")
    return EXIT_OK


def _verify(ns: argparse.Namespace) -> int:
    import json

    from .errors import DualdutyError
    from .storage import open_store

    with open_store(ns.db, readonly=True) as store:
        report: dict[str, Any] = {"url": store.url}
        try:
            result = store.verify()
        except DualdutyError:
            raise
        except Exception as exc:
            # Fail closed: the store opened but its content could not be walked (a damaged
            # file, a value of the wrong type written behind dualduty's back).
            report.update(
                intact=False,
                checked=None,
                total=None,
                head=None,
                first_bad=None,
                reason=f"the store cannot be read to its end: {type(exc).__name__}: {exc}",
            )
        else:
            report.update(
                intact=result.ok,
                checked=result.checked,
                total=result.total,
                head=result.head,
                first_bad=result.first_bad,
                reason=result.reason,
            )
    if ns.format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2))
    elif report["intact"]:
        print(f"{report['url']} is intact: {report['checked']} entries checked")
        print(f"  head  {report['head']}")
    elif report["first_bad"] is None:
        print(f"{report['url']} is NOT INTACT: {report['reason']}")
    else:
        print(
            f"{report['url']} is NOT INTACT: entry {report['first_bad']} of {report['total']} "
            "does not match"
        )
        print(f"  why   {report['reason']}")
        good = f"entries 1 to {report['checked']}" if report["checked"] else "none"
        print(f"  good  {good} (head {report['head']})")
    return EXIT_OK if report["intact"] else EXIT_TAMPERED


def run() -> None:
    """Entry point of the ``dualduty`` console script."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``dualduty check … | head``)
        # Python flushes stdout again at exit; point it at devnull so that cannot fail
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = EXIT_BROKEN_PIPE
    sys.exit(status)
