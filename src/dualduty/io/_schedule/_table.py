"""A schedule as a table with Chinese headers: CSV (UTF-8 with a BOM) and Excel (.xlsx).

One row per visit, meeting or deadline; the 类型 column says which. The columns are in
:data:`COLUMNS`; the ``…名称`` columns hold display names from an organisation, are left
empty without one, and are ignored on reading. Reading is all or nothing: every row is
checked, every problem is reported with its row and column, and no schedule is returned
unless the whole file is good.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from dualduty.errors import DualdutyError, Problem
from dualduty.io._converters import problems_from
from dualduty.model import Organisation
from dualduty.model.schedule import (
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingKind,
    Schedule,
    Visit,
)

from ._common import (
    ANNOUNCED_LABELS,
    DEADLINE_LABELS,
    MEETING_LABELS,
    VISIT_LABEL,
    InvalidScheduleFile,
    Names,
    infer_year,
    write_file,
)
from ._convert import Format, converter

__all__ = [
    "COLUMNS",
    "read_schedule_csv",
    "read_schedule_xlsx",
    "schedule_from_csv",
    "schedule_from_xlsx",
    "schedule_to_csv",
    "schedule_to_xlsx",
    "write_schedule_csv",
    "write_schedule_xlsx",
]

#: The columns of a CSV file or an Excel sheet, in order.
COLUMNS: tuple[str, ...] = (
    "编号",
    "类型",
    "日期",
    "季度",
    "学校",
    "学校名称",
    "包保人",
    "包保人名称",
    "督查人员",
    "督查人员名称",
    "明查/暗访",
    "联合",
    "联合名称",
    "单位",
    "单位名称",
    "标题",
    "报送",
    "报送名称",
)
#: The keyword each column is filled by in :func:`_rows`.
_KEYS: dict[str, str] = dict(
    zip(
        COLUMNS,
        (
            "id",
            "kind",
            "date",
            "quarter",
            "school",
            "school_name",
            "holder",
            "holder_name",
            "inspectors",
            "inspector_names",
            "announced",
            "joint",
            "joint_name",
            "unit",
            "unit_name",
            "title",
            "to",
            "to_name",
        ),
        strict=True,
    )
)
#: Display-only columns: written from the organisation, ignored on reading.
_DISPLAY = frozenset(c for c in COLUMNS if c.endswith("名称"))
_DATA = tuple(c for c in COLUMNS if c not in _DISPLAY)
#: The sheet of an Excel workbook.
SHEET = "日程"

_Kind = tuple[type, str | None]  # the class and its kind value
_KINDS: dict[str, _Kind] = {
    VISIT_LABEL: (Visit, None),
    **{label: (Meeting, kind.value) for kind, label in MEETING_LABELS.items()},
    **{label: (Deadline, kind.value) for kind, label in DEADLINE_LABELS.items()},
}
# The English values are read too (``visit``, ``topic_study``, ``quarter_report`` …).
_KINDS_EN: dict[str, _Kind] = {
    "visit": (Visit, None),
    **{kind.value: (Meeting, kind.value) for kind in MeetingKind},
    **{kind.value: (Deadline, kind.value) for kind in DeadlineKind},
}
#: The data columns each kind of row fills: column -> field.
_FIELDS: dict[type, dict[str, str]] = {
    Visit: {
        "编号": "id",
        "日期": "date",
        "季度": "quarter",
        "学校": "school",
        "包保人": "holder",
        "督查人员": "inspectors",
        "明查/暗访": "announced",
        "联合": "joint",
    },
    Meeting: {"编号": "id", "日期": "date", "季度": "quarter", "单位": "unit", "标题": "title"},
    Deadline: {"编号": "id", "日期": "due", "季度": "quarter", "单位": "unit", "报送": "to"},
}
#: Cells kept exactly as written (every other cell is stripped of surrounding blanks).
_VERBATIM = frozenset({"标题"})
_FIELD = re.compile(r"[a-z_]+")


# -- rows --------------------------------------------------------------------------------


def _rows(schedule: Schedule, names: Names, day: Callable[[Any], Any]) -> Iterable[list[Any]]:
    """The data rows; *day* renders a date (text for CSV, a date cell for Excel)."""

    def row(**cells: Any) -> list[Any]:  # cells by column, in the order of COLUMNS
        return [cells.get(_KEYS[column], "") for column in COLUMNS]

    for v in schedule.visits:
        yield row(
            id=v.id,
            kind=VISIT_LABEL,
            date=day(v.date),
            quarter=v.quarter,
            school=v.school,
            school_name=names.school(v.school) if names.schools else "",
            holder=v.holder,
            holder_name=names.holder(v.holder) if names.posts or names.units else "",
            inspectors="、".join(v.inspectors),
            inspector_names=names.posts_of(v.inspectors) if names.posts else "",
            announced=ANNOUNCED_LABELS[v.announced],
            joint=v.joint or "",
            joint_name=names.holder(v.joint) if v.joint and (names.posts or names.units) else "",
        )
    for m in schedule.meetings:
        yield row(
            id=m.id,
            kind=MEETING_LABELS[m.kind],
            date=day(m.date),
            quarter="" if m.quarter is None else m.quarter,
            unit=m.unit,
            unit_name=names.unit(m.unit) if names.units else "",
            title=m.title or "",
        )
    for d in schedule.deadlines:
        yield row(
            id=d.id,
            kind=DEADLINE_LABELS[d.kind],
            date=day(d.due),
            quarter="" if d.quarter is None else d.quarter,
            unit=d.unit,
            unit_name=names.unit(d.unit) if names.units else "",
            to=d.to or "",
            to_name=names.unit(d.to) if d.to and names.units else "",
        )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_rows(
    rows: Iterable[Sequence[Any]],
    fmt: Format,
    source: str,
    year: int | None,
    quarter: int | None,
) -> Schedule:
    """Structure the rows of a table (the first is the header) into a schedule."""
    it = iter(rows)
    header = next(it, None)
    if header is None:
        raise InvalidScheduleFile([Problem("", "the file is empty: no header row")], source)
    where: dict[str, int] = {}
    problems: list[Problem] = []
    for i, cell in enumerate(header):
        name = str(cell).strip() if cell is not None else ""
        if name in where:
            problems.append(Problem("row 1", f"the column {name} appears twice"))
        elif name:
            where[name] = i
    missing = [c for c in _DATA if c not in where]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        problems.append(Problem("row 1", f"missing column{plural} {', '.join(missing)}"))
    if problems:
        raise InvalidScheduleFile(problems, source)

    conv = converter(fmt)
    found: dict[type, list[Any]] = {Visit: [], Meeting: [], Deadline: []}
    for n, row in enumerate(it, start=2):
        cells = {c: (row[i] if i < len(row) else None) for c, i in where.items() if c in _DATA}
        if all(_blank(v) for v in cells.values()):
            continue  # an empty row (Excel keeps some after deleted ones)
        item = _read_row(n, cells, conv, problems)
        if item is not None:
            found[type(item)].append(item)
    if problems:
        raise InvalidScheduleFile(problems, source)
    visits, meetings, deadlines = found[Visit], found[Meeting], found[Deadline]
    if year is None:
        year = infer_year(visits, meetings, deadlines, source)
    return Schedule(year, quarter, visits, meetings, deadlines)


def _read_row(n: int, cells: dict[str, Any], conv: Any, problems: list[Problem]) -> Any:
    """One row as a visit, meeting or deadline (``None`` after recording its problems)."""
    kind_cell = cells["类型"]
    label = "" if _blank(kind_cell) else str(kind_cell).strip()
    found = _KINDS.get(label) or _KINDS_EN.get(label)
    if found is None:
        choices = "、".join(_KINDS)
        message = (
            "empty: a value is required" if not label else f"{label!r} is not one of: {choices}"
        )
        problems.append(Problem(f"row {n}, 类型", message))
        return None
    cls, kind = found
    fields = _FIELDS[cls]
    before = len(problems)
    data: dict[str, Any] = {} if kind is None else {"kind": kind}
    for column, value in cells.items():
        if column == "类型":
            continue
        if column not in fields:
            if not _blank(value):
                problems.append(Problem(f"row {n}, {column}", f"must be empty in a {label} row"))
            continue
        if _blank(value):
            continue
        keep = column in _VERBATIM or not isinstance(value, str)
        data[fields[column]] = value if keep else value.strip()
    if cls is Visit:
        data.setdefault("inspectors", "")
        if "announced" not in data:  # no default: a secret visit must not become public
            message = "empty: write 明查 (announced) or 暗访 (unannounced)"
            problems.append(Problem(f"row {n}, 明查/暗访", message))
            data["announced"] = False  # to check the rest of the row
    try:
        item = conv.structure(data, cls)
    except Exception as exc:
        columns = {field: column for column, field in fields.items()}
        for p in problems_from(exc):
            m = _FIELD.match(p.path)
            column = columns.get(m[0], "") if m else ""
            message = p.message
            if message == "required field missing":
                message = "empty: a value is required"
            problems.append(Problem(f"row {n}, {column}" if column else f"row {n}", message))
        return None
    return None if len(problems) > before else item


# -- CSV ---------------------------------------------------------------------------------


def schedule_to_csv(schedule: Schedule, org: Organisation | None = None) -> str:
    """The schedule as CSV text: a header row (:data:`COLUMNS`), then one row per item.

    Dates are written ``YYYY-MM-DD``, inspectors separated by ``、``, lines end with CRLF.
    This is the text :func:`write_schedule_csv` writes after a byte order mark.

    :param org: the organisation whose names fill the ``…名称`` columns (left empty
        without one).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_rows(schedule, Names(org), _iso))
    return out.getvalue()


def _iso(day: Any) -> str:
    return str(day.isoformat())


def write_schedule_csv(
    schedule: Schedule, path: str | os.PathLike[str], org: Organisation | None = None
) -> None:
    """Write the schedule as a CSV file: UTF-8 with a byte order mark, atomically.

    The byte order mark (``EF BB BF``) is what makes Excel open the file as UTF-8:
    without it, Excel on a Chinese Windows reads the file as GBK and shows the Chinese
    text garbled. Python reads it back with the ``utf-8-sig`` codec (as
    :func:`read_schedule_csv` does).

    :raises dualduty.DualdutyError: when the file cannot be written.
    """
    write_file(path, schedule_to_csv(schedule, org).encode("utf-8-sig"))


def schedule_from_csv(
    text: str,
    *,
    source: str = "<string>",
    year: int | None = None,
    quarter: int | None = None,
) -> Schedule:
    """Read a schedule from CSV text as :func:`schedule_to_csv` writes it.

    The header row names the columns, in any order; the data columns of :data:`COLUMNS`
    must all be there, others are ignored. Cells may be written as Excel saves them
    after editing: dates also as ``2026/3/10``, inspectors also separated by commas,
    semicolons or spaces, the type also in English (``visit``, ``topic_study`` …).
    Empty rows are skipped.

    :param source: the name used in error messages.
    :param year: the schedule's year; by default the year of the earliest date.
    :param quarter: the schedule's quarter (``None``: the whole year).
    :raises InvalidScheduleFile: listing every problem with its row and column.
    """
    text = text.removeprefix("\ufeff")
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records.extend(reader)
    except csv.Error as exc:
        raise InvalidScheduleFile(
            [Problem(f"row {len(records) + 1}", f"not valid CSV: {exc}")], source
        ) from None
    return _read_rows(records, "csv", source, year, quarter)


def read_schedule_csv(
    path: str | os.PathLike[str], *, year: int | None = None, quarter: int | None = None
) -> Schedule:
    """Read a schedule from a CSV file (see :func:`schedule_from_csv`).

    The file is read as UTF-8 (with or without a byte order mark); a file that is not
    UTF-8 is read as GB18030, the encoding Excel on a Chinese Windows saves "CSV" in.

    :raises InvalidScheduleFile: when the file cannot be read or holds a problem.
    """
    source = os.fspath(path)
    from dualduty.io._text import decode_csv

    text = decode_csv(_read_bytes(path, source))
    if isinstance(text, Problem):
        raise InvalidScheduleFile([text], source)
    return schedule_from_csv(text, source=source, year=year, quarter=quarter)


def _read_bytes(path: str | os.PathLike[str], source: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidScheduleFile(
            [Problem("", f"cannot read the file: {exc.strerror or exc}")], source
        ) from None


# -- Excel -------------------------------------------------------------------------------

#: Characters an Excel cell cannot hold (XML 1.0 forbids most control characters; a
#: carriage return would come back as a line feed).
_NOT_IN_EXCEL = re.compile(r"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]")
_EXCEL_MAX = 32_767  # characters in one cell
_WIDTHS = {"编号": 24, "日期": 12, "学校名称": 22, "包保人名称": 16, "督查人员": 28}


def _need_openpyxl(doing: str) -> None:
    try:
        import openpyxl  # noqa: F401 -- is it installed?
    except ImportError:
        raise DualdutyError(
            f"{doing} Excel files needs openpyxl, which is not installed: "
            "pip install 'dualduty[excel]'"
        ) from None


def schedule_to_xlsx(schedule: Schedule, org: Organisation | None = None) -> bytes:
    """The schedule as an Excel workbook (.xlsx), in memory.

    One sheet, ``日程``, with the columns of the CSV file (:data:`COLUMNS`): a bold,
    frozen header row with filters, dates as date cells (``yyyy-mm-dd``), quarters as
    numbers, everything else as text (a title starting with ``=`` stays text).

    :raises dualduty.DualdutyError: when openpyxl is not installed (the ``excel`` extra),
        or a meeting's title holds what an Excel cell cannot (a control character, more
        than 32,767 characters).
    """
    _need_openpyxl("writing")
    from openpyxl import Workbook
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for m in schedule.meetings:
        if m.title is not None and (_NOT_IN_EXCEL.search(m.title) or len(m.title) > _EXCEL_MAX):
            raise DualdutyError(
                f"meeting {m.id!r}: its title cannot be written to Excel (a control "
                f"character, or more than {_EXCEL_MAX} characters): {m.title!r}"
            )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    ws.freeze_panes = "A2"
    for i, column in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _WIDTHS.get(column, 10)
    bold = Font(bold=True)

    def header(value: str) -> Cell:
        cell = WriteOnlyCell(ws, value=value)
        cell.font = bold
        return cell

    def day(value: Any) -> Cell:
        cell = WriteOnlyCell(ws, value=_plain_date(value))
        cell.number_format = "yyyy-mm-dd"
        return cell

    def text(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = _NOT_IN_EXCEL.sub("", value)  # only display names may hold such characters
        if value.startswith("="):  # text, not a formula
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"
            return cell
        return value or None

    ws.append([header(c) for c in COLUMNS])
    n = 1
    for row in _rows(schedule, Names(org), day):
        ws.append([text(v) for v in row])
        n += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{n}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _plain_date(day: Any) -> dt.datetime:
    # A date cell holds a day number: midnight of the day is the same cell as the day.
    return dt.datetime(day.year, day.month, day.day)


def write_schedule_xlsx(
    schedule: Schedule, path: str | os.PathLike[str], org: Organisation | None = None
) -> None:
    """Write the schedule as an Excel workbook (see :func:`schedule_to_xlsx`), atomically.

    :raises dualduty.DualdutyError: when openpyxl is not installed (``pip install
        'dualduty[excel]'``), or the file cannot be written.
    """
    write_file(path, schedule_to_xlsx(schedule, org))


def schedule_from_xlsx(
    data: bytes,
    *,
    source: str = "<bytes>",
    year: int | None = None,
    quarter: int | None = None,
) -> Schedule:
    """Read a schedule from the bytes of an Excel workbook as :func:`schedule_to_xlsx` writes it.

    The sheet ``日程`` is read (or the first sheet, when there is none of that name), as
    :func:`schedule_from_csv` reads a CSV file: the same columns, the same rules. Date
    cells and text dates are both read; a formula is read as the value Excel last
    computed.

    :raises dualduty.DualdutyError: when openpyxl is not installed.
    :raises InvalidScheduleFile: when the data is not a workbook or holds a problem.
    """
    _need_openpyxl("reading")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors share no base class
        raise InvalidScheduleFile(
            [Problem("", f"not an Excel workbook (.xlsx): {exc}")], source
        ) from None
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    return _read_rows(rows, "xlsx", source, year, quarter)


def read_schedule_xlsx(
    path: str | os.PathLike[str], *, year: int | None = None, quarter: int | None = None
) -> Schedule:
    """Read a schedule from an Excel file (see :func:`schedule_from_xlsx`).

    :raises dualduty.DualdutyError: when openpyxl is not installed.
    :raises InvalidScheduleFile: when the file cannot be read or holds a problem.
    """
    source = os.fspath(path)
    return schedule_from_xlsx(_read_bytes(path, source), source=source, year=year, quarter=quarter)
