"""``dualduty card``, ``dualduty pledge-doc`` and ``dualduty pack``: documents to print.

``dualduty card --org FILE [--db URL] (--person P | --unit U | --all) --year Y
[--format md|html|docx] [-o PATH]`` writes duty cards (一岗双责责任清单);
``dualduty pledge-doc --org FILE [--db URL] (--section S | --all) --year Y [--rubric FILE]
[--format md|html|docx] [-o PATH]`` drafts responsibility pledges (责任状);
``dualduty pack --db URL --org FILE --year Y --quarter Q [--format md|html|docx]
[-o PATH]`` drafts the quarterly coordination meeting pack (调度会材料, 三.3).

One document goes to standard output as Markdown or HTML unless ``-o`` names a file; a
Word document always goes to a file (``-o``, else a name of its own in the current
directory). ``--unit`` and ``--all`` write one file per person (or section) into the
directory ``-o`` names (default: the current one). The format follows ``--format``, else
the suffix of ``-o`` (``.docx``, ``.html``), else Markdown. Every file is written whole
or not at all; each one written is named on standard error.

With ``--db`` the documents are made of the organisation with the changes the store
records (``dualduty org …``): the posts as held on ``--now``'s date within the year, the
year's packages and in-charge edges with their dates, and the schedule planned from it
(:func:`~dualduty.reports.cards.year_organisation`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from .model import Organisation, Schedule
    from .reports.cards import DutyCard

__all__ = [
    "add_card_parser",
    "add_pack_parser",
    "add_pledge_doc_parser",
    "run_card",
    "run_pack",
    "run_pledge_doc",
]

EXIT_OK = 0
_SUFFIX = {"md": "md", "html": "html", "docx": "docx"}


def _output_options(parser: argparse.ArgumentParser, many: str | None = None) -> None:
    parser.add_argument(
        "--format",
        choices=["md", "html", "docx"],
        help="md (Markdown), html (for a word processor) or docx (Word); default: from "
        "the suffix of -o, else md",
    )
    text = "the file to write (default: standard output; a .docx gets a name of its own)"
    if many is not None:
        text += f"; with {many}: the directory to write into (default: the current one)"
    parser.add_argument("-o", "--output", metavar="PATH", help=text)


def add_card_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``card`` sub-command to *sub*."""
    from ._cli_args import aware_time, schedule_options, year

    parser: argparse.ArgumentParser = sub.add_parser(
        "card",
        help="duty cards (一岗双责责任清单): a person's duties, sections, schools, visits",
        description="Write a person's duty card for a year: their posts, each business "
        "duty beside the safety duty that comes with it, the sections they are in charge "
        "of, their packaged schools, the year's visits and meetings, and (with --db) the "
        "open hazards they answer for. With --db the posts are those held on --now's date "
        "within the year, with the organisation changes the store records. Exit 0, or 2 on "
        "an unknown person or unit or a bad file.",
    )
    parser.add_argument("--org", required=True, metavar="FILE", help="the district file")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="the store: its organisation changes, and the open hazards each person answers for",
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", metavar="PERSON", help="one person's card (person id)")
    who.add_argument("--unit", metavar="UNIT", help="the cards of everyone holding a post of UNIT")
    who.add_argument("--all", action="store_true", help="the cards of everyone holding a post")
    parser.add_argument("--year", type=year, required=True, help="the year")
    schedule_options(parser)
    parser.add_argument(
        "--now",
        type=aware_time,
        metavar="TIME",
        help="read the record as of this time, ISO 8601 with an offset (default: now)",
    )
    _output_options(parser, "--unit or --all")
    return parser


def add_pledge_doc_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``pledge-doc`` sub-command to *sub*."""
    from ._cli_args import aware_time, year

    parser: argparse.ArgumentParser = sub.add_parser(
        "pledge-doc",
        help="draft a section's responsibility pledge (责任状) for a year, to sign",
        description="Draft a section's responsibility pledge from the organisation, its "
        "rules and the rubric: its duties, its targets, the assessment items and vetoes "
        "that will apply, and signature lines for the section head and the leader in "
        "charge. Record the signing with `dualduty record pledge`. Exit 0, or 2 on an "
        "unknown section or a bad file.",
    )
    parser.add_argument("--org", required=True, metavar="FILE", help="the district file")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="the store: draft from the organisation with the changes it records",
    )
    parser.add_argument(
        "--now",
        type=aware_time,
        metavar="TIME",
        help="with --db: the signatories as they hold their posts on this time's date "
        "within the year, ISO 8601 with an offset (default: now)",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--section", metavar="SECTION", help="the section's id")
    which.add_argument("--all", action="store_true", help="every section's pledge")
    parser.add_argument("--year", type=year, required=True, help="the year it covers")
    parser.add_argument(
        "--rubric",
        metavar="FILE",
        help="the rubric the year is assessed by (default: a plugin's, else the plan's)",
    )
    parser.add_argument(
        "--schedule",
        metavar="FILE",
        help="the year's schedule: the inspections and report due days come from it "
        "(default: from the packages and the rules)",
    )
    _output_options(parser, "--all")
    return parser


def add_pack_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``pack`` sub-command to *sub*."""
    from ._cli_args import quarter, year
    from ._cli_reports import _common

    parser: argparse.ArgumentParser = sub.add_parser(
        "pack",
        parents=[_common()],
        help="the quarterly coordination meeting pack (调度会材料, 三.3)",
        description="Draft the papers of a quarter's coordination meeting from the record: "
        "compliance per section, hazards found, closed and overdue, incidents, late "
        "reports, coverage gaps, changes of responsibility, and a proposed agenda. Exit 0, "
        "or 2 on a bad file or store.",
    )
    parser.add_argument("--year", type=year, required=True, help="the year")
    parser.add_argument("--quarter", type=quarter, required=True, help="the quarter, 1 to 4")
    _output_options(parser)
    return parser


# -- running ---------------------------------------------------------------------------------


def _format(ns: argparse.Namespace) -> str:
    if ns.format:
        return str(ns.format)
    suffix = Path(ns.output).suffix.lower() if ns.output else ""
    if suffix == ".docx":
        return "docx"
    if suffix in (".html", ".htm"):
        return "html"
    return "md"


def _plan(ns: argparse.Namespace, org: Organisation, year: int) -> Schedule:
    from ._cli_reports import _schedule

    return _schedule(ns, org, year)


def _emit(text: str | bytes, output: str | None, default_name: str, title: str) -> None:
    """Write one document: to *output*, else bytes to *default_name* and text to stdout."""
    from .io._schedule._common import write_file

    if output is None and isinstance(text, str):
        sys.stdout.write(text)
        return
    path = output or default_name
    write_file(path, text if isinstance(text, bytes) else text.encode("utf-8"))
    print(f"{path}: {title}", file=sys.stderr)


def _folder(output: str | None) -> Path:
    from .errors import DualdutyError

    folder = Path(output or ".")
    if folder.exists() and not folder.is_dir():
        raise DualdutyError(f"-o {output}: not a directory (one file is written per document)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DualdutyError(f"-o {output}: cannot create the directory: {exc.strerror}") from None
    return folder


def run_card(ns: argparse.Namespace) -> int:
    """Run ``dualduty card`` from parsed arguments; return the exit code."""
    from contextlib import nullcontext

    from .io import load
    from .io._schedule._common import write_file
    from .reports.cards import (
        card_docx,
        card_html,
        card_markdown,
        duty_card,
        duty_cards,
        year_organisation,
    )
    from .storage import open_store

    org = load(ns.org)
    fmt = _format(ns)
    opened = open_store(ns.db, readonly=True) if ns.db else nullcontext(None)
    cards: tuple[DutyCard, ...]
    with opened as store:
        # with a store: its changes laid over the file's organisation, the schedule planned
        # from that (a package moved mid-year gives its later visits to its new holder)
        org = year_organisation(org, store, ns.year, now=ns.now)
        schedule = _plan(ns, org, ns.year)
        if ns.person:
            cards = (
                duty_card(org, ns.person, ns.year, schedule=schedule, store=store, now=ns.now),
            )
        else:
            cards = duty_cards(
                org, ns.year, unit=ns.unit, schedule=schedule, store=store, now=ns.now
            )

    def render(card: Any) -> str | bytes:
        if fmt == "docx":
            return card_docx(card)
        return card_html(card) if fmt == "html" else card_markdown(card)

    if ns.person:
        card = cards[0]
        name = f"card-{card.person.id}-{ns.year}.{_SUFFIX[fmt]}"
        _emit(render(card), ns.output, name, card.title)
        return EXIT_OK
    folder = _folder(ns.output)
    for card in cards:
        data = render(card)
        path = folder / f"card-{card.person.id}-{ns.year}.{_SUFFIX[fmt]}"
        write_file(path, data if isinstance(data, bytes) else data.encode("utf-8"))
        print(f"{path}: {card.title}", file=sys.stderr)
    print(f"{len(cards)} duty card(s) written to {folder}", file=sys.stderr)
    return EXIT_OK


def run_pledge_doc(ns: argparse.Namespace) -> int:
    """Run ``dualduty pledge-doc`` from parsed arguments; return the exit code."""
    from contextlib import nullcontext

    from ._cli_schedule import _read
    from .io import load
    from .io._schedule._common import write_file
    from .model import SECTION_KINDS
    from .reports.cards import year_organisation
    from .reports.pledges import pledge_document, pledge_docx, pledge_html, pledge_markdown
    from .scoring import load_rubric
    from .storage import open_store

    org = load(ns.org)
    rubric = load_rubric(ns.rubric) if ns.rubric else None
    schedule = _read(ns.schedule, ns.year, None) if ns.schedule else None
    if rubric is None:
        from .scoring.engine import rubric_for

        rubric = rubric_for(org, ns.year)
    fmt = _format(ns)
    sections = [ns.section] if ns.section else [u.id for u in org.units if u.kind in SECTION_KINDS]
    with open_store(ns.db, readonly=True) if ns.db else nullcontext(None) as store:
        org = year_organisation(org, store, ns.year, now=ns.now)
        pledges = [
            pledge_document(org, s, ns.year, rubric=rubric, schedule=schedule) for s in sections
        ]

    def render(pledge: Any) -> str | bytes:
        if fmt == "docx":
            return pledge_docx(pledge)
        return pledge_html(pledge) if fmt == "html" else pledge_markdown(pledge)

    if ns.section:
        pledge = pledges[0]
        name = f"pledge-{pledge.section.id}-{ns.year}.{_SUFFIX[fmt]}"
        _emit(render(pledge), ns.output, name, pledge.title)
        return EXIT_OK
    folder = _folder(ns.output)
    for pledge in pledges:
        data = render(pledge)
        path = folder / f"pledge-{pledge.section.id}-{ns.year}.{_SUFFIX[fmt]}"
        write_file(path, data if isinstance(data, bytes) else data.encode("utf-8"))
        print(f"{path}: {pledge.title}", file=sys.stderr)
    print(f"{len(pledges)} pledge(s) written to {folder}", file=sys.stderr)
    return EXIT_OK


def run_pack(ns: argparse.Namespace) -> int:
    """Run ``dualduty pack`` from parsed arguments; return the exit code."""
    from .io import load
    from .records import in_time
    from .reports.pack import meeting_pack, pack_docx, pack_html, pack_markdown
    from .storage import open_store

    org = load(ns.org)
    fmt = _format(ns)
    with open_store(ns.db, readonly=True) as store:
        # the schedule of the organisation with the store's changes: a package moved
        # mid-year gives its later visits to its new holder
        schedule = _plan(ns, in_time(org, store), ns.year)
        pack = meeting_pack(store, org, ns.year, ns.quarter, schedule=schedule, now=ns.now)
    if fmt == "docx":
        data: str | bytes = pack_docx(pack)
    else:
        data = pack_html(pack) if fmt == "html" else pack_markdown(pack)
    _emit(data, ns.output, f"pack-{ns.year}q{ns.quarter}.{_SUFFIX[fmt]}", pack.title)
    return EXIT_OK
