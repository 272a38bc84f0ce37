"""``dualduty check FILE --db URL --date D``: coverage of the organisation in force on a date.

With ``--db`` or ``--date``, ``dualduty check`` lays the organisation changes recorded in
the store (posts filled and vacated, 分管 reshuffled, packages moved; see
:class:`~dualduty.records.Timeline`) over the district file, analyses the coverage of the
organisation in force on the date (:func:`~dualduty.coverage.analyse`), and lists the
vacancies of the date's year up to the date (:func:`~dualduty.records.vacancies`): each
post left vacant, from when until when, the schools and hazard domains it uncovers, and
the records that vacated and filled it. Without ``--date`` the date is today in the
organisation's time zone; without ``--db`` the file alone (its dated packages and
in-charge edges, its vacant posts). Exit 0 without an error-level gap, 1 with one, 2 on
invalid input (the file, or the organisation the records make of it on the date).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import argparse

    from .coverage import CoverageReport
    from .model import Organisation
    from .records.vacancies import Vacancy

__all__ = ["add_check_options", "check_as_of"]

EXIT_OK = 0
EXIT_GAPS = 1
EXIT_INVALID = 2


def add_check_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--db`` and ``--date`` to the ``check`` sub-command's *parser*."""
    from ._cli_args import iso_date

    parser.add_argument(
        "--db",
        metavar="URL",
        help="a store whose organisation changes are laid over the file "
        "(sqlite:///path.db, …); the coverage is then of the organisation in force on --date",
    )
    parser.add_argument(
        "--date",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="analyse the organisation in force on this date and list the vacancies of its "
        "year up to it (default with --db: today)",
    )


def wanted(ns: argparse.Namespace) -> bool:
    """Whether the ``check`` command asks for a date (``--db`` or ``--date`` given)."""
    return getattr(ns, "db", None) is not None or getattr(ns, "date", None) is not None


def check_as_of(ns: argparse.Namespace, org: Organisation) -> int:
    """Run ``dualduty check FILE [--db URL] [--date D]`` for the district file's valid
    organisation *org*; print the report and return the exit code."""
    import zoneinfo

    from .coverage import analyse
    from .records.timeline import Timeline
    from .records.vacancies import vacancies

    day: dt.date = ns.date or dt.datetime.now(zoneinfo.ZoneInfo(org.timezone)).date()
    source, url = ns.file, None
    if ns.db is not None:
        from .storage import open_store

        with open_store(ns.db, readonly=True) as store:
            line = Timeline.from_store(org, store)
            url = store.url
            source = f"{ns.file} with the changes recorded in {url}"
    else:
        line = Timeline(org)
    dated = line.as_of(day)
    problems = dated.problems()
    if problems:
        from .errors import InvalidOrganisation

        error = InvalidOrganisation(problems, f"{source}, in force on {day.isoformat()}")
        if ns.format == "json":
            report: dict[str, Any] = {
                "valid": False,
                "date": day.isoformat(),
                "counts": None,
                "problems": [{"path": p.path, "message": p.message} for p in problems],
                "gaps": [],
                "vacancies": [],
            }
            print(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            print(str(error), file=sys.stderr)
        return EXIT_INVALID
    result = _Result(
        ns.file,
        url,
        dated,
        day,
        len(line.changes),
        analyse(dated, on=day),
        vacancies(line, dt.date(day.year, 1, 1), day),
    )
    if ns.format == "json":
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        result.print()
    return EXIT_OK if result.coverage.ok else EXIT_GAPS


@attrs.frozen
class _Result:
    """What ``dualduty check`` reports for a date."""

    file: str
    url: str | None
    org: Organisation
    day: dt.date
    changes: int
    coverage: CoverageReport
    found: tuple[Vacancy, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": True,
            "date": self.day.isoformat(),
            "changes": self.changes,
            "counts": _counts(self.org),
            "problems": [],
            "gaps": [gap.to_json() for gap in self.coverage.gaps],
            "vacancies": [v.to_json() for v in self.found],
        }

    def print(self) -> None:
        org, day, found = self.org, self.day, self.found
        numbers = _counts(org)
        print(f"{self.file}: valid — {org.name} ({org.id}, {org.kind.value})")
        if self.url is None:
            print(f"  in force on {day.isoformat()}, as the file has it (no store)")
        else:
            print(
                f"  in force on {day.isoformat()}, with the {self.changes} organisation "
                f"change(s) recorded in {self.url}"
            )
        vacant = sum(1 for v in found if v.covers(day))
        rows = [
            ("units", f"{numbers['units']} (sections and centres: {numbers['sections']})"),
            ("posts", f"{numbers['posts']} ({vacant} vacant)"),
            ("people", str(numbers["people"])),
            ("schools", str(numbers["schools"])),
            ("packages", f"{numbers['packages']} in force"),
        ]
        for label, value in rows:
            print(f"  {label:<9} {value}")
        coverage = self.coverage
        errors, warnings = len(coverage.errors), len(coverage.warnings)
        print(f"coverage on {day.isoformat()}: {errors} error(s), {warnings} warning(s)")
        for gap in coverage.gaps:
            print(f"  {gap.severity.value:<7} [{gap.clause}] {gap.subject}: {gap.message}")
        print(f"vacancies in {day.year} up to {day.isoformat()}: {len(found)}")
        names = {p.id: p.name for p in org.people}
        for v in found:
            start = "the file" if v.start is None else v.start.isoformat()
            end = "still vacant" if v.end is None else v.end.isoformat()
            made = "district file" if v.seq is None else f"record {v.seq}"
            if v.previous is not None:
                made += f", left by {names.get(v.previous, v.previous)} ({v.previous})"
            if v.filled_by is not None:
                made += f", filled by record {v.filled_by}"
            print(f"  {v.post} {v.title} ({v.unit}): {start} – {end} ({made})")
            if v.uncovers:
                schools, domains = _listed(v.schools, "school"), _listed(v.domains, "domain")
                print(f"    uncovers {schools}; {domains}")
            else:
                print("    uncovers nothing: another holder completes every chain through it")


def _counts(org: Organisation) -> dict[str, int]:
    from .cli import _counts  # the counts ``dualduty check`` reports, the same either way

    return _counts(org)


def _listed(items: tuple[str, ...], what: str, shown: int = 10) -> str:
    """``3 schools: s0001, s0002, s0003`` (the first *shown*, then how many more)."""
    if not items:
        return f"no {what}"
    head = ", ".join(items[:shown])
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return f"{len(items)} {what}{'s' if len(items) != 1 else ''}: {head}{more}"
