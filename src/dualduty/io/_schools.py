"""A district's school list as a spreadsheet: CSV (UTF-8 with a BOM) or Excel (.xlsx).

Districts keep their list of schools (学校名单) in Excel. This module reads one into
:class:`~dualduty.model.School` objects and writes one back as a template, one row per
school under Chinese headers (``SCHOOL_COLUMNS``; the English field names are
accepted as headers too), and puts the schools into an organisation
(:func:`with_schools`).

Reading is all or nothing: every row is checked, every problem is reported with its row
(as a spreadsheet counts it, the header being row 1) and column, and a file with any bad
row gives no schools. The cells take the Chinese labels (``小学``, ``民办``, ``高``) or
the English values (``primary``, ``private``, ``high``).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, Literal, TypeVar

import attrs

from dualduty.errors import DualdutyError, InvalidFile, InvalidOrganisation, Problem
from dualduty.model import Organisation, School
from dualduty.model._checks import is_id
from dualduty.model.enums import Facility, Ownership, RiskLevel, SchoolLevel

from ._schedule._common import write_file
from ._schedule._convert import _cell_int, _cell_str, split_ids

__all__ = [
    "SCHOOL_COLUMNS",
    "InvalidSchoolsFile",
    "SchoolChanges",
    "read_schools",
    "school_changes",
    "schools_to_csv",
    "schools_to_xlsx",
    "with_schools",
    "write_schools",
]

_E = TypeVar("_E", bound=Enum)

#: The columns of a school list, in order, and the :class:`~dualduty.model.School` field
#: each holds (the field name is accepted as a header too).
SCHOOL_COLUMNS: Mapping[str, str] = {
    "学校编号": "id",
    "学校名称": "name",
    "学段": "level",
    "办学性质": "ownership",
    "学生数": "students",
    "乡镇": "township",
    "风险等级": "risk",
    "设施": "facilities",
}
_REQUIRED = ("学校编号", "学校名称", "学段")
_HEADERS: dict[str, str] = {
    **{column: column for column in SCHOOL_COLUMNS},
    **{field: column for column, field in SCHOOL_COLUMNS.items()},
}
#: The sheet of an Excel workbook.
SHEET = "学校"

# The label written for each value; other labels read (then the English values).
_LEVELS: dict[SchoolLevel, tuple[str, ...]] = {
    SchoolLevel.KINDERGARTEN: ("幼儿园",),
    SchoolLevel.PRIMARY: ("小学",),
    SchoolLevel.JUNIOR: ("初级中学", "初中"),
    SchoolLevel.SENIOR: ("普通高中", "高中", "高级中学"),
    SchoolLevel.NINE_YEAR: ("九年一贯制学校", "九年一贯制"),
    SchoolLevel.VOCATIONAL: ("中等职业学校", "中职", "职业学校"),
    SchoolLevel.SPECIAL: ("特殊教育学校", "特教"),
    SchoolLevel.ADULT: ("成人学校",),
    SchoolLevel.TRAINING: ("培训机构", "社会培训机构"),
}
_OWNERSHIPS: dict[Ownership, tuple[str, ...]] = {
    Ownership.PUBLIC: ("公办",),
    Ownership.PRIVATE: ("民办",),
}
_RISKS: dict[RiskLevel, tuple[str, ...]] = {
    RiskLevel.LOW: ("低", "低风险"),
    RiskLevel.MEDIUM: ("中", "中风险"),
    RiskLevel.HIGH: ("高", "高风险"),
}
_FACILITIES: dict[Facility, tuple[str, ...]] = {
    Facility.CANTEEN: ("食堂",),
    Facility.BOARDING: ("寄宿",),
    Facility.SCHOOL_BUS: ("校车",),
    Facility.LAB_CHEMICALS: ("实验室危险化学品", "危险化学品"),
    Facility.CONSTRUCTION: ("在建工程",),
    Facility.SWIMMING_POOL: ("游泳池",),
    Facility.NEAR_WATER: ("临水",),
}


def _choices(labels: Mapping[_E, tuple[str, ...]]) -> dict[str, _E]:
    found: dict[str, _E] = {}
    for value, names in labels.items():
        found.update(dict.fromkeys(names, value))
        found[str(value.value)] = value
    return found


_LEVEL_OF = _choices(_LEVELS)
_OWNERSHIP_OF = _choices(_OWNERSHIPS)
_RISK_OF = _choices(_RISKS)
_FACILITY_OF = _choices(_FACILITIES)


class InvalidSchoolsFile(InvalidFile):
    """A school list (CSV or Excel) that cannot be read; no school of it is returned.

    The message names the file and, for each problem, where it is: ``row 3, column 学段``
    (rows counted as a spreadsheet shows them, the header being row 1).

    :ivar problems: every problem found, in the order of the file.
    :ivar source: the file name.
    """


# Raised by public functions of dualduty.io: shown under the name users import it by.
InvalidSchoolsFile.__module__ = "dualduty.io"


# -- writing -----------------------------------------------------------------------------


def _row(school: School) -> list[Any]:
    facilities = sorted(school.facilities, key=list(Facility).index)
    return [
        school.id,
        school.name,
        _LEVELS[school.level][0],
        _OWNERSHIPS[school.ownership][0],
        school.students,
        school.township or "",
        _RISKS[school.risk][0],
        "、".join(_FACILITIES[f][0] for f in facilities),
    ]


def schools_to_csv(schools: Iterable[School]) -> str:
    """The schools as CSV text: a header row (``SCHOOL_COLUMNS``), one row per school.

    Levels, ownership, risk and facilities are written as their Chinese labels, the
    facilities separated by ``、``; lines end with CRLF. :func:`write_schools` writes
    this text after a byte order mark, so that Excel opens it as UTF-8.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SCHOOL_COLUMNS)
    writer.writerows(_row(s) for s in schools)
    return out.getvalue()


def schools_to_xlsx(schools: Iterable[School]) -> bytes:
    """The schools as an Excel workbook (.xlsx), in memory: the sheet ``学校``.

    The columns of :func:`schools_to_csv`, under a bold, frozen header row with
    filters; 学生数 as numbers, everything else as text.

    :raises dualduty.DualdutyError: when openpyxl is not installed (the ``excel`` extra),
        or a name holds what an Excel cell cannot (a control character).
    """
    from ._schedule._table import _NOT_IN_EXCEL, _need_openpyxl

    _need_openpyxl("writing")
    from openpyxl import Workbook
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    rows = [_row(s) for s in schools]
    for row in rows:
        for value in row:
            if isinstance(value, str) and _NOT_IN_EXCEL.search(value):
                raise DualdutyError(
                    f"school {row[0]}: {value!r} cannot be written to Excel (a control "
                    "character); write a .csv file"
                )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    ws.freeze_panes = "A2"
    widths = {"学校编号": 12, "学校名称": 28, "学段": 16, "乡镇": 14, "设施": 30}
    for i, column in enumerate(SCHOOL_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(column, 10)
    bold = Font(bold=True)

    def header(value: str) -> Cell:
        cell = WriteOnlyCell(ws, value=value)
        cell.font = bold
        return cell

    def text(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if not value:
            return None
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # text, never a formula, and an id of digits stays text
        return cell

    ws.append([header(c) for c in SCHOOL_COLUMNS])
    for row in rows:
        ws.append([text(v) for v in row])
    ws.auto_filter.ref = f"A1:{get_column_letter(len(SCHOOL_COLUMNS))}{len(rows) + 1}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write_schools(schools: Iterable[School], path: str | os.PathLike[str]) -> None:
    """Write the schools to *path* atomically, as CSV or Excel by its suffix.

    A ``.csv`` file is UTF-8 with a byte order mark (:func:`schools_to_csv`); an
    ``.xlsx`` file needs the ``excel`` extra (:func:`schools_to_xlsx`).

    :raises dualduty.DualdutyError: when the suffix is neither, openpyxl is missing, or
        the file cannot be written.
    """
    if _format_of(path) == "csv":
        data = schools_to_csv(schools).encode("utf-8-sig")
    else:
        data = schools_to_xlsx(schools)
    write_file(path, data)


# -- reading -----------------------------------------------------------------------------


def _format_of(path: str | os.PathLike[str]) -> Literal["csv", "xlsx"]:
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".xlsx"):
        return "csv" if suffix == ".csv" else "xlsx"
    shown = repr(suffix) if suffix else "none"
    raise DualdutyError(
        f"{os.fspath(path)}: a school list is a .csv or .xlsx file (the suffix is {shown})"
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _csv_rows(raw: bytes, source: str) -> list[Sequence[Any]]:
    from ._text import csv_rows

    rows = csv_rows(raw)
    if isinstance(rows, Problem):
        raise InvalidSchoolsFile([rows], source)
    return list(rows)


def _xlsx_rows(raw: bytes, source: str) -> list[Sequence[Any]]:
    from ._schedule._table import _need_openpyxl

    _need_openpyxl("reading")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors share no base class
        problem = Problem("", f"not an Excel workbook (.xlsx): {exc}")
        raise InvalidSchoolsFile([problem], source) from None
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        return list(ws.iter_rows(values_only=True))
    finally:
        wb.close()


class _Row:
    """The cells of one data row being read, and the problems found in it."""

    def __init__(self, n: int, cells: Mapping[str, Any], problems: list[Problem]) -> None:
        self.n = n
        self.cells = cells
        self.problems = problems
        self.ok = True

    def fail(self, column: str, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(f"row {self.n}, column {column}", message))

    def text(self, column: str) -> str | None:
        value = self.cells.get(column)
        if _blank(value):
            return None
        try:
            return str(_cell_str(value, str)).strip()
        except ValueError as exc:
            self.fail(column, str(exc))
            return None

    def required(self, column: str) -> str | None:
        if _blank(self.cells.get(column)):
            self.fail(column, "empty: a value is required")
            return None
        return self.text(column)

    def choice(self, column: str, choices: Mapping[str, _E], what: str) -> _E | None:
        found = self.text(column)
        if found is None:
            return None
        if found in choices:
            return choices[found]
        self.fail(column, f"{found!r} is not {what} ({_listed(choices)})")
        return None


def _listed(choices: Mapping[str, Enum]) -> str:
    """The labels written for each value, then the English values: ``小学、…; primary, …``."""
    firsts: dict[Enum, str] = {}
    for label, value in choices.items():
        firsts.setdefault(value, label)
    values = ", ".join(str(v.value) for v in firsts)
    return f"{'、'.join(firsts.values())}; or {values}"


def _read_row(row: _Row) -> School | None:
    data: dict[str, Any] = {}
    sid = row.required("学校编号")
    if sid is not None:
        if is_id(sid):
            data["id"] = sid
        else:
            row.fail(
                "学校编号",
                f"{sid!r} is not an id (lower-case ASCII letters, digits, '_', '-', '.'; "
                "1-64 characters)",
            )
    name = row.required("学校名称")
    if name is not None:
        data["name"] = name
    level = row.choice("学段", _LEVEL_OF, "a school level")
    if level is not None:
        data["level"] = level
    elif _blank(row.cells.get("学段")):
        row.fail("学段", "empty: a value is required")
    ownership = row.choice("办学性质", _OWNERSHIP_OF, "an ownership")
    if ownership is not None:
        data["ownership"] = ownership
    risk = row.choice("风险等级", _RISK_OF, "a risk level")
    if risk is not None:
        data["risk"] = risk
    township = row.text("乡镇")
    if township is not None:
        data["township"] = township
    students = row.cells.get("学生数")
    if not _blank(students):
        try:
            number = int(_cell_int(students, int))
        except ValueError:
            row.fail("学生数", f"{students!r} is not a whole number")
        else:
            if number < 0:
                row.fail("学生数", f"{number} is not a number of students (0 or more)")
            else:
                data["students"] = number
    facilities = row.text("设施")
    if facilities is not None:
        found = []
        for part in split_ids(facilities):
            if part in _FACILITY_OF:
                found.append(_FACILITY_OF[part])
            else:
                row.fail("设施", f"{part!r} is not a facility ({_listed(_FACILITY_OF)})")
        data["facilities"] = found
    if not row.ok:
        return None
    try:
        return School(**data)
    except (TypeError, ValueError) as exc:  # what the model checks beyond the cells
        field, _, message = str(exc).partition(": ")
        columns = {f: c for c, f in SCHOOL_COLUMNS.items()}
        row.fail(columns.get(field, field), message or str(exc))
        return None


def _read(path: str | os.PathLike[str]) -> tuple[tuple[School, ...], tuple[str, ...]]:
    """The schools of the file and the columns it holds that are no school column."""
    source = os.fspath(path)
    fmt = _format_of(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        problem = Problem("", f"cannot read the file: {exc.strerror or exc}")
        raise InvalidSchoolsFile([problem], source) from None
    rows = _csv_rows(raw, source) if fmt == "csv" else _xlsx_rows(raw, source)
    if not rows:
        raise InvalidSchoolsFile([Problem("", "the file is empty: no header row")], source)
    where: dict[str, int] = {}
    problems: list[Problem] = []
    ignored: list[str] = []
    for i, cell in enumerate(rows[0]):
        name = str(cell).strip() if cell is not None else ""
        column = _HEADERS.get(name)
        if column is None:
            if name:
                ignored.append(name)
        elif column in where:
            problems.append(Problem("row 1", f"the column {column} appears twice"))
        else:
            where[column] = i
    missing = [c for c in _REQUIRED if c not in where]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        problems.append(Problem("row 1", f"missing column{plural} {', '.join(missing)}"))
    if problems:
        raise InvalidSchoolsFile(problems, source)
    schools: list[School] = []
    first: dict[str, int] = {}
    for n, values in enumerate(rows[1:], start=2):
        cells = {c: values[i] if i < len(values) else None for c, i in where.items()}
        if all(_blank(v) for v in cells.values()):
            continue  # an empty row (Excel keeps some after deleted ones)
        row = _Row(n, cells, problems)
        school = _read_row(row)
        if school is None:
            continue
        seen = first.setdefault(school.id, n)
        if seen != n:
            row.fail("学校编号", f"{school.id} is also in row {seen}")
            continue
        schools.append(school)
    if problems:
        raise InvalidSchoolsFile(problems, source)
    return tuple(schools), tuple(ignored)


def read_schools(path: str | os.PathLike[str]) -> tuple[School, ...]:
    """Read a school list from a ``.csv`` or ``.xlsx`` file, in the order of its rows.

    The header row names the columns, in any order, in Chinese (``SCHOOL_COLUMNS``)
    or by the :class:`~dualduty.model.School` field names (``id``, ``level`` …).
    学校编号, 学校名称 and 学段 are required; an empty cell of the others takes the
    model's default (公办, 0 students, 中 risk, no facilities). Other columns (an
    address, a telephone number) are ignored. A CSV file is read as UTF-8 (with or
    without a byte order mark), else as GB18030; of a workbook, the sheet ``学校`` (or
    the first sheet) is read. Empty rows are skipped.

    :raises InvalidSchoolsFile: listing every problem with its row and column (a bad
        cell, a missing value, an id in two rows); no school is returned.
    :raises dualduty.DualdutyError: when the suffix is neither ``.csv`` nor ``.xlsx``,
        or openpyxl (the ``excel`` extra) is missing for an Excel file.
    """
    return _read(path)[0]


# -- into an organisation --------------------------------------------------------------------


@attrs.frozen
class SchoolChanges:
    """What changed between two organisations' schools (the ids in file order).

    :ivar added: schools new to the organisation.
    :ivar updated: schools whose fields changed, with the names of those fields.
    :ivar unchanged: schools that stayed as they were.
    :ivar removed: schools no longer there.
    """

    added: tuple[str, ...] = ()
    updated: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def __str__(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated"]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        parts.append(f"{len(self.unchanged)} unchanged")
        return ", ".join(parts)


def school_changes(before: Organisation, after: Organisation) -> SchoolChanges:
    """What :func:`with_schools` changed: added, updated, unchanged and removed schools."""
    old = {s.id: s for s in before.schools}
    new_ids = {s.id for s in after.schools}
    added, updated, unchanged = [], [], []
    for school in after.schools:
        was = old.get(school.id)
        if was is None:
            added.append(school.id)
        elif was == school:
            unchanged.append(school.id)
        else:
            fields = tuple(
                a.name
                for a in attrs.fields(School)
                if getattr(was, a.name) != getattr(school, a.name)
            )
            updated.append((school.id, fields))
    removed = tuple(s.id for s in before.schools if s.id not in new_ids)
    return SchoolChanges(tuple(added), tuple(updated), tuple(unchanged), removed)


def with_schools(
    org: Organisation, schools: Iterable[School], *, replace: bool = False
) -> Organisation:
    """The organisation with *schools* put in, checked again as a whole.

    By default a school whose id the organisation has replaces it where it is (an
    update) and the others are added after the existing schools, in their order. With
    ``replace=True`` the organisation's schools are exactly *schools*: a school left out
    is removed — unless a package still names it, which is refused with the package
    named (re-plan or edit the packages first; a school does not disappear silently).

    :raises dualduty.InvalidOrganisation: listing every problem of the new organisation
        (a removed school a package names, an id in *schools* twice, an id a place also
        has); the organisation given is unchanged.
    """
    given = tuple(schools)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, school in enumerate(given):
        first = seen.setdefault(school.id, i)
        if first != i:
            problems.append(
                Problem(f"schools[{i}]", f"school {school.id!r} is given twice (first at {first})")
            )
    if problems:
        raise InvalidOrganisation(problems)
    if replace:
        merged = given
        names = {s.id: s.name for s in org.schools}
        naming: dict[str, list[tuple[str, str]]] = {}  # school -> (path, package id)
        for i, package in enumerate(org.packages):
            for k, sid in enumerate(package.schools):
                if sid not in seen:
                    naming.setdefault(sid, []).append((f"packages[{i}].schools[{k}]", package.id))
        for sid, where in naming.items():
            packages = ", ".join(repr(package) for _, package in where)
            plural = "s" if len(where) > 1 else ""
            problems.append(
                Problem(
                    where[0][0],
                    f"school {sid!r} ({names.get(sid, sid)}) is not in the new list, but "
                    f"package{plural} {packages} still name{'' if plural else 's'} it: take it "
                    "out of the packages or re-plan them first",
                )
            )
        if problems:
            raise InvalidOrganisation(problems)
    else:
        by_id = {s.id: s for s in given}
        merged = tuple(by_id.pop(s.id, s) for s in org.schools) + tuple(
            s for s in given if s.id in by_id
        )
    result = attrs.evolve(org, schools=merged)
    result.check()
    return result
