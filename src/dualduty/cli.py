"""The ``dualduty`` command.

Commands import what they need when they run, so that ``dualduty --version`` starts
about as fast as Python itself. Bad input is printed as a list of problems (no
traceback) and the command exits 2.
"""

from __future__ import annotations

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
        description="Load and validate a district file. Exit 0 when valid, 2 on invalid "
        "input with every problem listed.",
    )
    check.add_argument("file", metavar="FILE", help="a .toml, .json, .yaml or .yml district file")
    check.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
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
    ns = _parser().parse_args(args)
    from .errors import DualdutyError

    try:
        if ns.command == "reference":
            return _reference(ns)
        return _check(ns)
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
    numbers = _counts(org)
    if ns.format == "json":
        report = {"valid": True, "counts": numbers, "problems": [], "gaps": []}
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return EXIT_OK
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
    return EXIT_OK


def run() -> None:  # pragma: no cover - the console script
    """Entry point of the ``dualduty`` console script."""
    sys.exit(main())
