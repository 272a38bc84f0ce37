"""``dualduty schools``: bring a district's school list in from a spreadsheet, or write it out.

``dualduty schools import FILE --into DISTRICT_FILE [--replace] [--dry-run]`` reads a
school list (.csv or .xlsx, :func:`~dualduty.io.read_schools`), puts it into the
district file (:func:`~dualduty.io.with_schools`) and writes the file back atomically,
printing what was added, updated and removed. ``dualduty schools export DISTRICT_FILE
-o FILE`` writes the district file's schools as a .csv or .xlsx template. Exit 0, or 2
with every problem listed (nothing written) on a bad list or district file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

__all__ = ["add_schools_parser", "run_schools"]

EXIT_OK = 0


def add_schools_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``schools`` sub-command to *sub* (what ``add_subparsers`` returned)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "schools",
        help="import the school list from a spreadsheet (CSV, Excel), or export it",
        description="Import a district's school list (学校名单) from a .csv or .xlsx file into "
        "its district file, or export the district file's schools as a template. Exit 0, or "
        "2 with every problem listed (row and column) and nothing written.",
    )
    actions = parser.add_subparsers(dest="schools_action", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="put the schools of a .csv or .xlsx file into a district file",
        description="Read the school list FILE (all or nothing: every bad row is listed by "
        "row and column) and put its schools into the district file: a school whose id the "
        "file has is updated, the others are added; with --replace the list becomes the "
        "district's schools. The district file is checked again as a whole and written "
        "atomically.",
    )
    imp.add_argument("file", metavar="FILE", help="the school list: a .csv or .xlsx file")
    imp.add_argument(
        "--into",
        required=True,
        metavar="DISTRICT_FILE",
        help="the district file to put the schools into (.toml, .json, .yaml, .yml)",
    )
    imp.add_argument(
        "--replace",
        action="store_true",
        help="the list is every school of the district: schools not in it are removed "
        "(refused while a package names one)",
    )
    imp.add_argument(
        "--dry-run",
        action="store_true",
        help="check and print what would change, write nothing",
    )
    exp = actions.add_parser(
        "export",
        help="write a district file's schools as a .csv or .xlsx template",
        description="Write the schools of DISTRICT_FILE as a school list (CSV UTF-8 with a "
        "BOM, or Excel with the excel extra, by the suffix of -o), the template to fill in "
        "and import.",
    )
    exp.add_argument("district", metavar="DISTRICT_FILE", help="a district file")
    exp.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the .csv or .xlsx file to write"
    )
    return parser


def run_schools(ns: argparse.Namespace) -> int:
    """Run ``dualduty schools`` from parsed arguments; return the exit code."""
    if ns.schools_action == "export":
        return _export(ns)
    return _import(ns)


def _export(ns: argparse.Namespace) -> int:
    from .io import load
    from .io._schools import write_schools

    org = load(ns.district)
    write_schools(org.schools, ns.output)
    n = len(org.schools)
    print(f"{ns.output}: {n} school{'' if n == 1 else 's'} of {org.name} ({ns.district})")
    return EXIT_OK


def _import(ns: argparse.Namespace) -> int:
    from .errors import InvalidOrganisation
    from .io import dump, load
    from .io._schools import _read, school_changes, with_schools

    schools, ignored = _read(ns.file)  # the list first: its problems need no district file
    org = load(ns.into)
    try:
        merged = with_schools(org, schools, replace=ns.replace)
    except InvalidOrganisation as exc:
        raise InvalidOrganisation(exc.problems, ns.into) from None
    changes = school_changes(org, merged)
    names = {s.id: s.name for s in (*org.schools, *merged.schools)}
    written = bool(changes) and not ns.dry_run
    if written:
        dump(merged, ns.into)
    print(f"{ns.file} → {ns.into}: {changes}")
    if ignored:
        print(f"  ignored columns: {', '.join(ignored)}")
    for sid in changes.added:
        print(f"  added    {sid} {names[sid]}")
    for sid, fields in changes.updated:
        print(f"  updated  {sid} {names[sid]}: {', '.join(fields)}")
    for sid in changes.removed:
        print(f"  removed  {sid} {names[sid]}")
    if ns.dry_run:
        print(f"dry run: {ns.into} not written")
    elif not written:
        print(f"nothing to change: {ns.into} left as it was")
    return EXIT_OK
