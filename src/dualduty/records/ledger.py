"""Ledgers (台账): the hazard ledger and the inspection ledger as spreadsheets, both ways.

Districts keep their hazard ledger (隐患台账) and inspection ledger (督查台账) in Excel.
This module writes them from the record and reads them back into it: CSV (UTF-8 with a
byte order mark) or Excel (``.xlsx``, the ``excel`` extra), one row per hazard or per
inspection (三.2: 督导检查, 重大隐患), under Chinese headers.

- Rows are keyed by ids (隐患编号, 检查编号), never by names: names are filled in for
  people and ignored on reading. Times are written in the organisation's time zone to
  the second, with their offset, so a round trip loses nothing: export, import into an
  empty store and export again gives the same file.
- A row becomes the records that reproduce it, with the times and the people of its
  cells as each record's ``at`` and actor, checked against the organisation (schools,
  people, posts) and the hazard loop (:func:`~dualduty.records.hazards.step`).
- A row whose id the store already holds must agree with it: the same records (it is
  *unchanged*), more of them (the rest are appended: *extended*), or fewer (the store
  has moved on: *behind*, nothing to add). A row that contradicts the store is a bad row.
- An import is all or nothing: every row is checked first, every problem is reported
  with its row (as a spreadsheet counts it, the header being row 1) and column, and a
  file with any bad row imports nothing. A good file is appended in one transaction,
  followed by a :class:`LedgerImported` record naming who imported it.

The layouts are in the "Ledgers" section of :doc:`/reference/file-format`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs

from dualduty.errors import DualdutyError, InvalidFile, Problem
from dualduty.model._checks import check_ids, check_text, is_id

from .base import Record, person, record_kind
from .hazards import (
    _MISSED_ZH,
    HAZARD_KINDS,
    HazardClosed,
    HazardEscalated,
    HazardFound,
    HazardRegistered,
    HazardRules,
    HazardState,
    HazardStatus,
    RectificationClaimed,
    RectificationPlanned,
    Reinspected,
    Severity,
    hazard,
    step,
)
from .inspections import KIND as _INSPECTION_KIND
from .inspections import inspection_subjects
from .kinds import Finding, InspectionRecorded
from .service import Desk, InvalidTransition

if TYPE_CHECKING:
    from dualduty.model.org import Organisation
    from dualduty.storage.store import Store

    from .service import Writing

__all__ = [
    "HAZARD_LEDGER_COLUMNS",
    "INSPECTION_LEDGER_COLUMNS",
    "LEDGER_KINDS",
    "InvalidLedger",
    "Ledger",
    "LedgerImport",
    "LedgerImported",
    "export_hazard_ledger",
    "export_inspection_ledger",
    "export_ledger",
    "import_hazard_ledger",
    "import_inspection_ledger",
    "import_ledger",
]

_T = TypeVar("_T")


class Ledger(StrEnum):
    """Which ledger (台账)."""

    HAZARDS = "hazards"
    """隐患台账: one row per hazard."""
    INSPECTIONS = "inspections"
    """督查台账: one row per inspection."""


# -- columns ----------------------------------------------------------------------------

#: The columns of the hazard ledger (隐患台账), in order.
HAZARD_LEDGER_COLUMNS: tuple[str, ...] = (
    "隐患编号",
    "学校编号",
    "学校名称",
    "隐患等级",
    "隐患描述",
    "发现时间",
    "发现人",
    "发现人姓名",
    "所属检查",
    "即时上报",
    "登记时间",
    "登记人",
    "登记人姓名",
    "挂牌督办",
    "整改措施",
    "临时防范措施",
    "整改责任人",
    "整改责任人姓名",
    "整改时限",
    "整改资金(元)",
    "方案时间",
    "方案人",
    "方案人姓名",
    "整改与复查记录",
    "督办记录",
    "销号时间",
    "销号人",
    "销号人姓名",
    "销号说明",
    "当前状态",
    "逾期",
    "已错过的期限",
    "核算时间",
)

#: The columns of the inspection ledger (督查台账), in order.
INSPECTION_LEDGER_COLUMNS: tuple[str, ...] = (
    "检查编号",
    "检查日期",
    "学校编号",
    "学校名称",
    "包保责任方",
    "包保责任方名称",
    "计划督查编号",
    "方式",
    "检查人员",
    "检查人员姓名",
    "发现问题",
    "小结",
    "记录时间",
    "记录人",
    "记录人姓名",
)

#: Columns written for people and ignored on reading: names, and what is computed at
#: export time (当前状态 is checked against the row when filled, the others ignored).
_HAZARD_DISPLAY = frozenset(
    {c for c in HAZARD_LEDGER_COLUMNS if c.endswith(("名称", "姓名"))}
    | {"逾期", "已错过的期限", "核算时间"}
)
_HAZARD_DATA = tuple(
    c for c in HAZARD_LEDGER_COLUMNS if c not in _HAZARD_DISPLAY and c != "当前状态"
)
_INSPECTION_DISPLAY = frozenset(
    c for c in INSPECTION_LEDGER_COLUMNS if c.endswith(("名称", "姓名"))
)
_INSPECTION_DATA = tuple(c for c in INSPECTION_LEDGER_COLUMNS if c not in _INSPECTION_DISPLAY)

_SHEETS = {Ledger.HAZARDS: "隐患台账", Ledger.INSPECTIONS: "督查台账"}
#: Cells holding several lines (wrapped in Excel).
_MULTILINE = frozenset(
    {
        "隐患描述",
        "整改措施",
        "临时防范措施",
        "整改与复查记录",
        "督办记录",
        "销号说明",
        "发现问题",
        "小结",
    }
)
_WIDTHS = {
    "隐患描述": 30,
    "整改措施": 28,
    "临时防范措施": 24,
    "整改与复查记录": 48,
    "督办记录": 44,
    "发现问题": 40,
    "小结": 30,
    "学校名称": 22,
    "包保责任方名称": 18,
    "已错过的期限": 22,
}
_TIME_WIDTH = 26  # "2026-09-01 09:00:00+08:00"

_SEVERITY_LABELS: dict[Severity, str] = {Severity.GENERAL: "一般", Severity.MAJOR: "重大"}
_SEVERITIES: dict[str, Severity] = {
    **{label: s for s, label in _SEVERITY_LABELS.items()},
    **{f"{label}隐患": s for s, label in _SEVERITY_LABELS.items()},
    **{s.value: s for s in Severity},
}
_STATUS_LABELS: dict[HazardStatus, str] = {
    HazardStatus.FOUND: "已发现",
    HazardStatus.REGISTERED: "已登记",
    HazardStatus.RECTIFYING: "整改中",
    HazardStatus.RECTIFIED: "待复查",
    HazardStatus.ACCEPTED: "待销号",
    HazardStatus.CLOSED: "已销号",
}
_STATUSES: dict[str, HazardStatus] = {
    **{label: s for s, label in _STATUS_LABELS.items()},
    **{s.value: s for s in HazardStatus},
}
_YES_NO: dict[bool, str] = {True: "是", False: "否"}
_BOOLS: dict[str, bool] = {"是": True, "否": False}
_ANNOUNCED: dict[bool, str] = {True: "明查", False: "暗访"}
_MANNERS: dict[str, bool] = {label: value for value, label in _ANNOUNCED.items()}

#: What each hazard record kind is called in messages.
_KIND_LABELS = {
    "hazard-found": "发现",
    "hazard-registered": "登记",
    "hazard-planned": "整改方案",
    "hazard-claimed": "整改完成",
    "hazard-reinspected": "复查",
    "hazard-closed": "销号",
    "hazard-escalated": "督办",
    "inspection": "检查",
}

# The defaults of the texts a history line may leave out.
_CLAIM_TEXT = str(attrs.fields(RectificationClaimed).text.default)
_ESCALATION_REASON = str(attrs.fields(HazardEscalated).reason.default)

# The actions of the lines of 整改与复查记录 and 督办记录.
_CLAIMED, _ACCEPTED, _REJECTED, _REVISED, _ESCALATED = (
    "整改完成",
    "复查合格",
    "复查不合格",
    "修订整改方案",
    "督办",
)
_MEASURE, _SAFEGUARD = "整改措施", "临时防范措施"
_NOTE_LABEL = "备注"  # a finding that opened no hazard


# -- the error and the summary ----------------------------------------------------------


class InvalidLedger(InvalidFile):
    """A ledger file that cannot be imported; nothing of it was written.

    The message names the file and, for each problem, where it is: ``row 7, column
    隐患等级`` (rows counted as a spreadsheet shows them, the header being row 1), and
    for a cell of several lines ``row 7, column 整改与复查记录, line 2``.

    :ivar problems: every problem found, in the order of the file.
    :ivar source: the file name.
    """


def _ids(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):  # one id would otherwise become its characters
        return (value,)
    return tuple(value)


def _count(_inst: object, a: attrs.Attribute[Any], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{a.name}: expected a whole number >= 0, got {value!r}")


@record_kind("ledger-imported")
@attrs.frozen
class LedgerImported:
    """A ledger (台账) imported from a file; the record's actor imported it (the office).

    The records an import appends carry the people and times of the ledger's cells;
    this record, appended last in the same transaction, says who brought them in, from
    which file and when. The ``records`` entries just before it are the import's.

    :param ledger: which ledger.
    :param source: the file's name (without its directory).
    :param rows: how many data rows the file held.
    :param records: how many records the import appended before this one.
    :param added: the ids of the hazards or inspections new to the store.
    :param extended: the ids of the hazards whose history it continued.
    """

    ledger: Ledger = attrs.field(converter=Ledger)
    source: str = attrs.field(validator=check_text)
    rows: int = attrs.field(validator=_count)
    records: int = attrs.field(validator=_count)
    added: tuple[str, ...] = attrs.field(default=(), converter=_ids, validator=check_ids)
    extended: tuple[str, ...] = attrs.field(default=(), converter=_ids, validator=check_ids)

    @classmethod
    def examples(cls) -> Sequence[LedgerImported]:
        """Instances the conformance kit round-trips."""
        return (
            cls(Ledger.HAZARDS, "隐患台账.xlsx", 3, 9, ("hz-00001", "hz-00002"), ("hz-00003",)),
            cls("inspections", "督查台账.csv", 1, 1, ("in-00001",)),
        )


#: The record kinds this module registers.
LEDGER_KINDS: tuple[type[Any], ...] = (LedgerImported,)


@attrs.frozen
class LedgerImport:
    """What an import did (the ids in each tuple in the order of the file).

    :ivar ledger: which ledger was imported.
    :ivar source: the file.
    :ivar rows: the data rows read (empty rows are skipped).
    :ivar added: ids new to the store: all their records were appended.
    :ivar extended: ids whose stored history the row continues: the rest was appended.
    :ivar unchanged: ids whose row says what the store holds: nothing appended.
    :ivar behind: ids whose stored history goes further than the row (the store moved on
        after the ledger was exported): nothing of theirs appended. An id may be both
        extended and behind: a row adding a re-inspection while the store holds an
        escalation the row does not.
    :ivar records: the records appended, the :class:`LedgerImported` record not counted
        (it is appended whenever this is not 0).
    :ivar ignored_columns: columns of the file that are no ledger column, ignored.
    """

    ledger: Ledger
    source: str
    rows: int
    added: tuple[str, ...] = ()
    extended: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    behind: tuple[str, ...] = ()
    records: int = 0
    ignored_columns: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = [f"{len(self.added)} added"]
        if self.ledger is Ledger.HAZARDS:
            parts.append(f"{len(self.extended)} extended")
        parts.append(f"{len(self.unchanged)} unchanged")
        if self.behind:
            parts.append(f"{len(self.behind)} behind the store")
        rows = f"{self.rows} row{'' if self.rows == 1 else 's'}"
        records = f"{self.records} record{'' if self.records == 1 else 's'}"
        text = f"{self.source}: {rows}: {', '.join(parts)}; {records}"
        if self.ignored_columns:
            text += f" (ignored columns: {', '.join(self.ignored_columns)})"
        return text


# -- cells ----------------------------------------------------------------------------


def _fmt_time(at: dt.datetime, zone: dt.tzinfo) -> str:
    """``2026-09-01 09:00:00+08:00``: to the second (and its fraction, if it has one)."""
    return at.astimezone(zone).isoformat(sep=" ")


_TIME = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r"(Z|[+-]\d{2}:?\d{2}(?::?\d{2})?)?)?"
)


def _offset(text: str) -> dt.tzinfo:
    if text == "Z":
        return dt.UTC
    digits = text[1:].replace(":", "")
    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
    if len(digits) > 4:
        delta += dt.timedelta(seconds=int(digits[4:6]))
    return dt.timezone(-delta if text[0] == "-" else delta)


def _time_of(m: re.Match[str], zone: dt.tzinfo) -> dt.datetime:
    """The time a match of :data:`_TIME` denotes (no offset: the organisation's zone)."""
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    micro = int(fraction.ljust(6, "0")) if fraction else 0
    naive = dt.datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro
    )
    tz = _offset(offset) if offset else zone
    return naive.replace(tzinfo=tz).astimezone(zone)


def _parse_time(value: Any, zone: dt.tzinfo) -> dt.datetime:
    if isinstance(value, dt.datetime):  # an Excel date cell: a wall-clock time
        moment: dt.datetime = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return moment.astimezone(zone)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=zone)
    if isinstance(value, str):
        m = _TIME.fullmatch(value.strip())
        if m is not None:
            try:
                return _time_of(m, zone)
            except ValueError:
                raise ValueError(f"{value!r} is not a date and time") from None
    raise ValueError(f"{value!r} is not a date and time (write YYYY-MM-DD HH:MM:SS+08:00)")


def _escape(text: str) -> str:
    """One line of a cell of several lines: ``\\`` as ``\\\\``, line breaks as ``\\n``, ``\\r``."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


_ESCAPED = re.compile(r"\\([\\nr])")
_UNESCAPE = {"\\": "\\", "n": "\n", "r": "\r"}


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: _UNESCAPE[m[1]], text)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _natural(id_: str) -> tuple[Any, ...]:
    """Sort key: ``hz-2`` before ``hz-10``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", id_))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Row:
    """The cells of one data row being read, and the problems found in it."""

    def __init__(self, n: int, cells: Mapping[str, Any], zone: dt.tzinfo, org: _Org) -> None:
        self.n = n
        self.cells = cells
        self.zone = zone
        self.org = org
        self.problems: list[Problem] = []

    def path(self, column: str, line: int | None = None) -> str:
        where = f"row {self.n}, column {column}"
        return where if line is None else f"{where}, line {line}"

    def fail(self, column: str, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.path(column, line), message))

    def given(self, column: str) -> bool:
        return not _blank(self.cells.get(column))

    def _cell(self, column: str, required: bool) -> Any:
        value = self.cells.get(column)
        if _blank(value):
            if required:
                self.fail(column, "empty: a value is required")
            return None
        return value

    def _convert(self, column: str, value: Any, convert: Callable[[Any], _T]) -> _T | None:
        try:
            return convert(value)
        except (ValueError, TypeError) as exc:
            self.fail(column, str(exc))
            return None

    def text(self, column: str, *, required: bool = False) -> str | None:
        """The cell as written, blanks kept (a number Excel made of digits as text)."""
        value = self.cells.get(column)
        if value is None or value == "" or (required and _blank(value)):
            self._cell(column, required)  # notes the problem if required
            return None
        return self._convert(column, value, _text_cell)

    def ident(self, column: str, *, required: bool = False) -> str | None:
        value = self._cell(column, required)
        return None if value is None else self._convert(column, value, _id_cell)

    def person(self, column: str, *, required: bool = False) -> str | None:
        found = self.ident(column, required=required)
        if found is not None and found not in self.org.people:
            self.fail(column, f"no person {found!r} in the organisation")
            return None
        return found

    def time(self, column: str, *, required: bool = False) -> dt.datetime | None:
        value = self._cell(column, required)
        if value is None:
            return None
        return self._convert(column, value, lambda v: _parse_time(v, self.zone))

    def date(self, column: str, *, required: bool = False) -> dt.date | None:
        value = self._cell(column, required)
        return None if value is None else self._convert(column, value, _date_cell)

    def whole(self, column: str) -> int | None:
        value = self._cell(column, False)
        return None if value is None else self._convert(column, value, _whole_cell)

    def choice(
        self, column: str, choices: Mapping[str, _T], expected: str, *, required: bool = False
    ) -> _T | None:
        """One of *choices*, by its label."""
        value = self._cell(column, required)
        if value is None:
            return None
        if isinstance(value, str) and value.strip() in choices:
            return choices[value.strip()]
        self.fail(column, f"expected {expected}, got {value!r}")
        return None

    def yes_no(self, column: str) -> bool | None:
        """是 or 否 (or an Excel TRUE/FALSE cell)."""
        value = self.cells.get(column)
        if isinstance(value, bool):
            return value
        return self.choice(column, _BOOLS, "是 or 否")

    def lines(self, column: str) -> list[tuple[int, str]]:
        """The non-blank lines of a cell of several lines, numbered from 1."""
        value = self.cells.get(column)
        if _blank(value):
            return []
        text = self._convert(column, value, _text_cell)
        if text is None:
            return []
        return [(i, line) for i, line in enumerate(_LINE_BREAK.split(text), 1) if line.strip()]


def _text_cell(value: Any) -> str:
    from dualduty.io._schedule._convert import _cell_str

    return str(_cell_str(value, str))


def _id_cell(value: Any) -> str:
    text = _text_cell(value).strip()
    if not is_id(text):
        raise ValueError(f"{text!r} is not an id (lower-case ASCII letters, digits, '_', '-', '.')")
    return text


def _date_cell(value: Any) -> dt.date:
    from dualduty.io._schedule._convert import _cell_date

    day = _cell_date(value, dt.date)
    return dt.date(day.year, day.month, day.day)


def _split_ids(text: str) -> tuple[str, ...]:
    from dualduty.io._schedule._convert import split_ids

    return split_ids(text)


def _whole_cell(value: Any) -> int:
    from dualduty.io._schedule._convert import _cell_int

    number = int(_cell_int(value, int))
    if number < 0:
        raise ValueError(f"expected a whole number >= 0, got {value!r}")
    return number


class _Org:
    """What a ledger checks ids against, and the names it writes."""

    def __init__(self, org: Organisation) -> None:
        from dualduty.io._schedule._common import Names

        self.names = Names(org)
        self.people = {p.id: p.name for p in org.people}
        self.schools = frozenset(s.id for s in org.schools)
        self.posts = frozenset(p.id for u in org.units for p in u.posts)
        self.units = frozenset(u.id for u in org.units)

    def person_names(self, ids: Iterable[str]) -> str:
        return "、".join(self.people.get(i, i) for i in ids)


# -- records made from a row --------------------------------------------------------------


@attrs.frozen
class _Made:
    """A record a row makes, and where in the row each of its fields comes from."""

    record: Record
    place: str
    """The path of the record as a whole (its time column, or its line)."""
    columns: Mapping[str, str] = attrs.field(factory=dict)
    """Field (``actor``, ``at`` or a data field) -> path; missing: :attr:`place`."""

    def path(self, field: str) -> str:
        return self.columns.get(field, self.place)


def _show(value: Any, zone: dt.tzinfo) -> str:
    if isinstance(value, dt.datetime):
        return _fmt_time(value, zone)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return _YES_NO[value]
    if isinstance(value, Severity):
        return _SEVERITY_LABELS[value]
    if isinstance(value, Enum):
        return str(value.value)
    if value is None:
        return "nothing"
    if isinstance(value, tuple):
        items = [_finding_line(v) if isinstance(v, Finding) else str(v) for v in value]
        return repr("; ".join(items)) if items else "nothing"
    return repr(value)


def _differences(stored: Record, made: _Made, zone: dt.tzinfo) -> list[tuple[str, str]]:
    """Where *made* disagrees with the stored record at its place: (path, message)."""
    mine = made.record
    if stored.kind != mine.kind:
        return [
            (
                made.place,
                f"contradicts the store, which holds a {_KIND_LABELS[stored.kind]} "
                f"({stored.kind}) here, not a {_KIND_LABELS[mine.kind]} ({mine.kind})",
            )
        ]
    pairs = [("actor", stored.actor, mine.actor), ("at", stored.at, mine.at)]
    pairs.extend(
        (f.name, getattr(stored.data, f.name), getattr(mine.data, f.name))
        for f in attrs.fields(type(stored.data))
    )
    out = []
    for name, theirs, ours in pairs:
        if theirs != ours:
            message = (
                f"contradicts the store, which holds {_show(theirs, zone)}, not {_show(ours, zone)}"
            )
            out.append((made.path(name), message))
    return out


# -- the hazard ledger: writing ---------------------------------------------------------


def _hazard_records(store: Store) -> dict[str, list[Record]]:
    """Each hazard's records in the order appended (the hazard kinds, by their index)."""
    by_id: dict[str, list[tuple[int, Record]]] = {}
    for kind in HAZARD_KINDS:
        for entry in store.read(kind=kind.__record_kind__):
            by_id.setdefault(entry.record.data.hazard, []).append((entry.seq, entry.record))
    return {hid: [r for _, r in sorted(pairs, key=lambda p: p[0])] for hid, pairs in by_id.items()}


def _tracks(records: Iterable[Record]) -> tuple[list[Record], list[Record]]:
    """A hazard's records as its loop (found … closed) and its escalations."""
    main: list[Record] = []
    escalations: list[Record] = []
    for record in records:
        (escalations if isinstance(record.data, HazardEscalated) else main).append(record)
    return main, escalations


def _event_line(record: Record, zone: dt.tzinfo) -> list[str]:
    """A line of 整改与复查记录 (a revised plan: and its indented measures)."""
    data = record.data
    head = f"{_fmt_time(record.at, zone)} {record.actor}"
    if isinstance(data, RectificationClaimed):
        text = "" if data.text == _CLAIM_TEXT else f"：{_escape(data.text)}"
        return [f"{head} {_CLAIMED}{text}"]
    if isinstance(data, Reinspected):
        notes = f"：{_escape(data.notes)}" if data.notes else ""
        return [f"{head} {_ACCEPTED if data.accepted else _REJECTED}{notes}"]
    assert isinstance(data, RectificationPlanned)
    lines = [
        f"{head} {_REVISED} 责任人 {data.responsible} 时限 {data.time_limit.isoformat()} "
        f"资金 {data.funds_yuan}"
    ]
    lines.extend(f"  {_MEASURE}：{_escape(m)}" for m in data.measures)
    lines.extend(f"  {_SAFEGUARD}：{_escape(s)}" for s in data.safeguards)
    return lines


def _escalation_line(record: Record, zone: dt.tzinfo) -> str:
    data = record.data
    reason = "" if data.reason == _ESCALATION_REASON else f"：{_escape(data.reason)}"
    return (
        f"{_fmt_time(record.at, zone)} {record.actor} {_ESCALATED} 第{data.level}级 {data.post}"
        f"{reason}"
    )


def _hazard_row(
    records: Sequence[Record], state: HazardState, names: _Org, zone: dt.tzinfo, as_of: dt.datetime
) -> dict[str, Any]:
    main, escalations = _tracks(records)
    found = main[0].data
    who = names.people.get
    row: dict[str, Any] = {
        "隐患编号": found.hazard,
        "学校编号": found.school,
        "学校名称": names.names.school(found.school),
        "隐患等级": _SEVERITY_LABELS[found.severity],
        "隐患描述": found.description,
        "发现时间": _fmt_time(main[0].at, zone),
        "发现人": main[0].actor,
        "发现人姓名": who(main[0].actor, ""),
        "所属检查": found.inspection or "",
        "即时上报": _YES_NO[found.reported],
    }
    rest = main[1:]
    if rest and isinstance(rest[0].data, HazardRegistered):
        reg, rest = rest[0], rest[1:]
        row.update(
            {
                "登记时间": _fmt_time(reg.at, zone),
                "登记人": reg.actor,
                "登记人姓名": who(reg.actor, ""),
                "挂牌督办": _YES_NO[reg.data.listed],
            }
        )
    if rest and isinstance(rest[0].data, RectificationPlanned):
        planned, rest = rest[0], rest[1:]
        plan = planned.data
        row.update(
            {
                "整改措施": "\n".join(_escape(m) for m in plan.measures),
                "临时防范措施": "\n".join(_escape(s) for s in plan.safeguards),
                "整改责任人": plan.responsible,
                "整改责任人姓名": who(plan.responsible, ""),
                "整改时限": plan.time_limit,
                "整改资金(元)": plan.funds_yuan,
                "方案时间": _fmt_time(planned.at, zone),
                "方案人": planned.actor,
                "方案人姓名": who(planned.actor, ""),
            }
        )
    if rest and isinstance(rest[-1].data, HazardClosed):
        closed, rest = rest[-1], rest[:-1]
        row.update(
            {
                "销号时间": _fmt_time(closed.at, zone),
                "销号人": closed.actor,
                "销号人姓名": who(closed.actor, ""),
                "销号说明": closed.data.notes,
            }
        )
    row["整改与复查记录"] = "\n".join(line for r in rest for line in _event_line(r, zone))
    row["督办记录"] = "\n".join(_escalation_line(r, zone) for r in escalations)
    missed = state.missed(as_of)
    row.update(
        {
            "当前状态": _STATUS_LABELS[state.status],
            "逾期": _YES_NO[state.overdue(as_of)],
            "已错过的期限": "、".join(_MISSED_ZH[m] for m in missed),
            "核算时间": _fmt_time(as_of, zone),
        }
    )
    return row


def export_hazard_ledger(
    store: Store,
    org: Organisation,
    path: str | os.PathLike[str],
    *,
    as_of: dt.datetime | None = None,
    rules: HazardRules | None = None,
) -> int:
    """Write the hazard ledger (隐患台账) of the store: one row per hazard, by id.

    The format follows the suffix of *path*: ``.csv`` (UTF-8 with a byte order mark) or
    ``.xlsx`` (needs the ``excel`` extra). The file is written atomically: complete, or
    left as it was. The columns are :data:`HAZARD_LEDGER_COLUMNS`; 逾期 and 已错过的期限 are
    computed as of *as_of* (now by default), written in 核算时间, and ignored on import.

    :param rules: the deadlines the computed columns use (by default the organisation's,
        :meth:`HazardRules.of <dualduty.records.HazardRules.of>`).
    :returns: how many hazards were written.
    :raises ValueError: if *as_of* has no time zone.
    :raises dualduty.DualdutyError: for a suffix other than ``.csv`` and ``.xlsx``, when
        openpyxl is missing, when a text cannot go into an Excel cell, or when the file
        cannot be written.
    """
    fmt = _format_of(path)
    zone = _zone(org)
    rules = rules or HazardRules.of(org.rules)
    as_of = dt.datetime.now(zone) if as_of is None else as_of
    if as_of.utcoffset() is None:
        raise ValueError(f"as_of: {as_of!r} must be a date and time with a time zone")
    names = _Org(org)
    rows = []
    grouped = _hazard_records(store)
    for hid in sorted(grouped, key=_natural):
        records = grouped[hid]
        state = HazardState.fold(records, rules)
        assert state is not None  # every group holds at least one record
        rows.append(_hazard_row(records, state, names, zone, as_of))
    _write_table(
        path,
        fmt,
        ledger=Ledger.HAZARDS,
        columns=HAZARD_LEDGER_COLUMNS,
        rows=rows,
        display=_HAZARD_DISPLAY,
    )
    return len(rows)


# -- the hazard ledger: reading -----------------------------------------------------------


@attrs.define
class _HazardRow:
    """A hazard row read: its records as its loop and its escalations."""

    n: int
    id: str
    main: list[_Made]
    escalations: list[_Made]


def _together(row: _Row, columns: Sequence[str], also: Sequence[str] = ()) -> bool:
    """Whether a group of cells is filled (any of *columns* or *also*); then all of
    *columns* must be."""
    given = next((c for c in (*columns, *also) if row.given(c)), None)
    if given is None:
        return False
    for column in columns:
        if not row.given(column):
            row.fail(column, f"empty: required when {given} is filled")
    return True


_PLAN_COLUMNS = ("整改责任人", "整改时限", "方案时间", "方案人")
_PLAN_OPTIONAL = (_MEASURE, _SAFEGUARD, "整改资金(元)")


def _read_hazard_row(row: _Row, desk: Desk) -> _HazardRow | None:
    """The records a row of the hazard ledger makes (``None`` after noting its problems)."""
    hid = row.ident("隐患编号", required=True)
    school_id = row.ident("学校编号", required=True)
    if school_id is not None and school_id not in row.org.schools:
        row.fail("学校编号", f"no school {school_id!r} in the organisation")
    severity = row.choice("隐患等级", _SEVERITIES, "一般 or 重大", required=True)
    description = row.text("隐患描述", required=True)
    found_at = row.time("发现时间", required=True)
    finder = row.person("发现人", required=True)
    inspection = row.ident("所属检查")
    reported = row.yes_no("即时上报")

    registered = _together(row, ("登记时间", "登记人"))
    reg_at, registrar = row.time("登记时间"), row.person("登记人")
    listed = row.yes_no("挂牌督办")
    if listed and not registered:
        row.fail("挂牌督办", "must be empty or 否 when the hazard is not registered (no 登记时间)")

    planned = _together(row, _PLAN_COLUMNS, _PLAN_OPTIONAL)
    measures = tuple(_unescape(line) for _, line in row.lines(_MEASURE))
    safeguards = tuple(_unescape(line) for _, line in row.lines(_SAFEGUARD))
    responsible, time_limit = row.person("整改责任人"), row.date("整改时限")
    funds = row.whole("整改资金(元)")
    plan_at, planner = row.time("方案时间"), row.person("方案人")

    closed = _together(row, ("销号时间", "销号人"), ("销号说明",))
    close_at, closer = row.time("销号时间"), row.person("销号人")
    close_notes = row.text("销号说明") or ""
    status = row.choice("当前状态", _STATUSES, " or ".join(_STATUS_LABELS.values()))

    key = hid or "unknown"  # the lines are read (for their problems) even without an id
    subjects = [hazard(key), *desk.school_subjects(school_id or "")] if not row.problems else []
    events = _read_events(row, key, subjects)
    escalations = _read_escalations(row, key, subjects)
    if row.problems:
        return None
    # Without problems, every required cell (and every cell of a filled group) is there.
    assert hid is not None
    assert school_id is not None
    assert severity is not None
    assert description is not None

    def make(data: object, who: str | None, when: dt.datetime | None, /, **columns: str) -> _Made:
        """The record of *data*; *columns*: field -> column, ``actor`` and ``at`` included."""
        assert who is not None
        assert when is not None
        record = Record.of(data, actor=who, at=when, subjects=subjects)
        paths = {k: row.path(c) for k, c in columns.items()}
        return _Made(record, paths["at"], paths)

    found = HazardFound(hid, school_id, severity, description, inspection, bool(reported))
    main = [
        make(
            found,
            finder,
            found_at,
            actor="发现人",
            at="发现时间",
            school="学校编号",
            severity="隐患等级",
            description="隐患描述",
            inspection="所属检查",
            reported="即时上报",
        )
    ]
    if registered:
        data: object = HazardRegistered(hid, bool(listed))
        columns = {"actor": "登记人", "at": "登记时间", "listed": "挂牌督办"}
        main.append(make(data, registrar, reg_at, **columns))
    if planned:
        assert responsible is not None
        assert time_limit is not None
        data = RectificationPlanned(hid, measures, responsible, time_limit, funds or 0, safeguards)
        columns = {
            "actor": "方案人",
            "at": "方案时间",
            "measures": _MEASURE,
            "safeguards": _SAFEGUARD,
            "responsible": "整改责任人",
            "time_limit": "整改时限",
            "funds_yuan": "整改资金(元)",
        }
        main.append(make(data, planner, plan_at, **columns))
    main.extend(events)
    if closed:
        columns = {"actor": "销号人", "at": "销号时间", "notes": "销号说明"}
        main.append(make(HazardClosed(hid, close_notes), closer, close_at, **columns))
    _check_times(row, main, escalations)
    state = _fold(row, _merge(main, escalations))
    if state is not None and status is not None and status is not state.status:
        row.fail(
            "当前状态",
            f"{_STATUS_LABELS[status]} does not fit the row, whose records make the hazard "
            f"{_STATUS_LABELS[state.status]}",
        )
    return None if row.problems else _HazardRow(row.n, hid, main, escalations)


_EVENT_KEYS = {"责任人": "responsible", "时限": "time_limit", "资金": "funds_yuan"}


def _split_event(
    row: _Row, column: str, number: int, line: str
) -> tuple[dt.datetime, str, str, list[str], str | None] | None:
    """``<time> <person> <action> [args]…[：<text>]``, or ``None`` after a problem."""
    stripped = line.lstrip()
    m = _TIME.match(stripped)
    rest = stripped[m.end() :] if m is not None else ""
    if m is None or not rest[:1].isspace():
        row.fail(column, f"expected '<time> <person id> <action>…', got {line!r}", number)
        return None
    head, colon, text = rest.partition("：")
    words = head.split()
    if len(words) < 2:
        row.fail(column, f"expected '<time> <person id> <action>…', got {line!r}", number)
        return None
    try:
        at = _time_of(m, row.zone)
    except ValueError:
        row.fail(column, f"{m[0]!r} is not a date and time", number)
        return None
    actor = words[0]
    if actor not in row.org.people:
        row.fail(column, f"no person {actor!r} in the organisation", number)
        return None
    return at, actor, words[1], words[2:], _unescape(text) if colon else None


def _read_events(row: _Row, hid: str, subjects: Sequence[str]) -> list[_Made]:
    """The lines of 整改与复查记录: claims, re-inspections, revised plans."""
    column = "整改与复查记录"
    out: list[_Made] = []
    revision: dict[str, Any] | None = None  # the revised plan being read

    def finish() -> None:
        nonlocal revision
        fields, revision = revision, None
        if not fields:
            return
        number, actor, at = fields.pop("_line"), fields.pop("_actor"), fields.pop("_at")
        try:
            data = RectificationPlanned(hid, **fields)
        except (ValueError, TypeError) as exc:
            row.fail(column, str(exc), number)
            return
        record = Record.of(data, actor=actor, at=at, subjects=subjects)
        out.append(_Made(record, row.path(column, number)))

    for number, line in row.lines(column):
        key, sep, value = line.lstrip().partition("：")
        if sep and key in (_MEASURE, _SAFEGUARD):
            if revision is None:
                row.fail(column, f"a {key} line belongs under a {_REVISED} line", number)
                continue
            if not revision:  # under a 修订整改方案 line already reported
                continue
            field = "measures" if key == _MEASURE else "safeguards"
            revision[field] = (*revision[field], _unescape(value))
            continue
        finish()
        event = _split_event(row, column, number, line)
        if event is None:
            continue
        at, actor, action, args, text = event
        path = row.path(column, number)
        data: object
        if action == _REVISED:
            revision = _revision(row, column, number, args, text)  # {}: not readable
            if revision:
                revision.update(_line=number, _actor=actor, _at=at)
            continue
        if args:
            row.fail(column, f"unexpected {' '.join(args)!r} after {action}", number)
            continue
        if action == _CLAIMED:
            if text is not None and not text.strip():
                row.fail(column, f"empty text after {_CLAIMED}：", number)
                continue
            data = RectificationClaimed(hid, _CLAIM_TEXT if text is None else text)
        elif action in (_ACCEPTED, _REJECTED):
            data = Reinspected(hid, action == _ACCEPTED, text or "")
        else:
            expected = "、".join((_CLAIMED, _ACCEPTED, _REJECTED, _REVISED))
            row.fail(column, f"unknown action {action!r} (expected one of {expected})", number)
            continue
        out.append(_Made(Record.of(data, actor=actor, at=at, subjects=subjects), path))
    finish()
    return out


def _revision(
    row: _Row, column: str, number: int, args: list[str], text: str | None
) -> dict[str, Any]:
    """The fields on a 修订整改方案 line: ``责任人 <id> 时限 <date> 资金 <yuan>``."""
    if text is not None or len(args) % 2:
        row.fail(
            column, f"expected '{_REVISED} 责任人 <person id> 时限 <date> 资金 <yuan>'", number
        )
        return {}
    fields: dict[str, Any] = {"measures": (), "safeguards": (), "funds_yuan": 0}
    for key, value in zip(args[::2], args[1::2], strict=True):
        name = _EVENT_KEYS.get(key)
        try:
            if name == "responsible":
                if value not in row.org.people:
                    raise ValueError(f"no person {value!r} in the organisation")
                fields[name] = value
            elif name == "time_limit":
                fields[name] = _date_cell(value)
            elif name == "funds_yuan":
                fields[name] = _whole_cell(value)
            else:
                raise ValueError(f"unknown {key!r} (expected 责任人, 时限, 资金)")
        except ValueError as exc:
            row.fail(column, str(exc), number)
            return {}
    missing = [k for k, name in _EVENT_KEYS.items() if name not in fields]
    if missing:
        row.fail(column, f"{_REVISED} needs {' and '.join(missing)}", number)
        return {}
    return fields


_RANK = re.compile(r"第(\d+)级")


def _read_escalations(row: _Row, hid: str, subjects: Sequence[str] = ()) -> list[_Made]:
    """The lines of 督办记录: ``<time> <person> 督办 第<n>级 <post>[：<reason>]``."""
    column = "督办记录"
    out = []
    for number, line in row.lines(column):
        event = _split_event(row, column, number, line)
        if event is None:
            continue
        at, actor, action, args, text = event
        rank = _RANK.fullmatch(args[0]) if len(args) == 2 and action == _ESCALATED else None
        if rank is None:
            row.fail(
                column, f"expected '<time> <person id> {_ESCALATED} 第<n>级 <post id>'", number
            )
            continue
        post = args[1]
        if post not in row.org.posts:
            row.fail(column, f"no post {post!r} in the organisation", number)
            continue
        data = HazardEscalated(
            hid, post, int(rank[1]), _ESCALATION_REASON if text is None else text
        )
        record = Record.of(data, actor=actor, at=at, subjects=subjects)
        out.append(_Made(record, row.path(column, number)))
    return out


def _check_times(row: _Row, main: Sequence[_Made], escalations: Sequence[_Made]) -> None:
    """The loop's times never go back; escalations fall between finding and closing."""
    for before, after in itertools.pairwise(main):
        if after.record.at < before.record.at:
            row.problems.append(
                Problem(
                    after.path("at"),
                    f"{_fmt_time(after.record.at, row.zone)} is before "
                    f"{_fmt_time(before.record.at, row.zone)} "
                    f"(the {_KIND_LABELS[before.record.kind]} before it)",
                )
            )
    found = main[0].record.at
    closed = main[-1].record.at if isinstance(main[-1].record.data, HazardClosed) else None
    previous = found
    for made in escalations:
        at = made.record.at
        if at < previous:
            what = "the finding" if previous == found else "the escalation before it"
            message = f"{_fmt_time(at, row.zone)} is before {what}"
        elif closed is not None and at > closed:
            message = f"{_fmt_time(at, row.zone)} is after the closing (销号时间)"
        else:
            previous = at
            continue
        row.problems.append(Problem(made.place, message))


def _merge(main: Sequence[_Made], escalations: Sequence[_Made]) -> list[_Made]:
    """The records in the order to append: the finding first, the closing last, the rest
    by time (the loop's before an escalation at a tie).

    Within the loop and within the escalations the order is kept; an escalation never
    comes before the finding or after the closing (the loop allows neither).
    """
    finding = [m for m in main[:1] if isinstance(m.record.data, HazardFound)]
    closing = [m for m in main[len(finding) :][-1:] if isinstance(m.record.data, HazardClosed)]
    middle = main[len(finding) : len(main) - len(closing)]
    keyed = [(m.record.at, 0, i, m) for i, m in enumerate(middle)]
    keyed += [(m.record.at, 1, i, m) for i, m in enumerate(escalations)]
    keyed.sort(key=lambda k: k[:3])
    return finding + [k[3] for k in keyed] + closing


def _fold(row: _Row, made: Sequence[_Made], state: HazardState | None = None) -> HazardState | None:
    """Apply *made* after *state*; a record that does not fit is the row's problem."""
    for m in made:
        try:
            state = step(state, m.record)
        except InvalidTransition as exc:
            row.problems.append(Problem(m.place, f"does not fit the hazard's loop: {exc}"))
            return None
    return state


def _relate(
    stored: Sequence[Record], made: Sequence[_Made], zone: dt.tzinfo
) -> tuple[int, list[tuple[str, str]]]:
    """How a row's track relates to the stored one: (stored minus row length, problems).

    Negative: the row goes further; positive: the store does; problems: where they
    differ, record by record up to the first of another kind (after it, nothing lines up).
    """
    problems: list[tuple[str, str]] = []
    for theirs, ours in zip(stored, made, strict=False):
        problems.extend(_differences(theirs, ours, zone))
        if theirs.kind != ours.record.kind:
            break
    return len(stored) - len(made), problems


def import_hazard_ledger(
    store: Store,
    org: Organisation,
    path: str | os.PathLike[str],
    *,
    actor: str,
    at: dt.datetime | None = None,
    desk: Desk | None = None,
) -> LedgerImport:
    """Import a hazard ledger (隐患台账) written as :func:`export_hazard_ledger` writes it.

    Each row makes the records of its hazard: the finding (发现), the registration
    (登记), the plan (整改方案), every line of 整改与复查记录, the escalations (督办记录)
    and the closing (销号), with their times and people. They must follow the hazard
    loop, name schools and people of *org*, and keep time in order. A hazard the store
    already holds must agree with it; what the row adds is appended. All is appended in
    one transaction, with a :class:`LedgerImported` record by *actor* at *at* (now by
    default); a file that changes nothing writes nothing.

    The service's rules of who may do what apply to commands, not to the history a
    ledger reports: the records carry the people the ledger names.

    :param actor: who imports: a person of the leading group's office.
    :param desk: share the desk of a :class:`~dualduty.records.Recorder` (and an open
        :meth:`~dualduty.records.Desk.batch`): a refused import then undoes the batch.
    :raises dualduty.records.PermissionDenied: unless *actor* acts for the office.
    :raises InvalidLedger: when the file cannot be read or any row is bad: every
        problem, with its row and column; nothing is written.
    """
    desk = desk if desk is not None else Desk(store, org)
    desk.require(actor, desk.office_members(), "import ledgers (the office does)")
    table = _Table.read(path, Ledger.HAZARDS)
    names = _Org(org)
    zone = _zone(org)
    read: list[_HazardRow] = []
    for row in table.rows((*_HAZARD_DATA, "当前状态"), zone, names):
        parsed = _read_hazard_row(row, desk)
        table.claim(row, "隐患编号")
        table.problems.extend(row.problems)
        if parsed is not None and not row.problems:
            read.append(parsed)

    summary: dict[str, list[str]] = {"added": [], "extended": [], "unchanged": [], "behind": []}
    appended: list[_Made] = []
    with desk.writing() as w:
        for parsed in read:  # rows without problems so far
            row = table.row(parsed.n)
            stored = [r for r in w.read(hazard(parsed.id)) if type(r.data) in HAZARD_KINDS]
            new = _hazard_news(row, parsed, stored, zone, summary)
            if new:
                _fold(row, new, HazardState.fold(stored))
            table.problems.extend(row.problems)
            appended.extend(new)
        table.check()
        return _finish(w, table, actor=actor, at=desk.now(at), appended=appended, summary=summary)


def _hazard_news(
    row: _Row,
    parsed: _HazardRow,
    stored: Sequence[Record],
    zone: dt.tzinfo,
    summary: dict[str, list[str]],
) -> list[_Made]:
    """What a row adds to the stored history (noted in *summary*), or its problems."""
    if not stored:
        summary["added"].append(parsed.id)
        return _merge(parsed.main, parsed.escalations)
    stored_main, stored_escalations = _tracks(stored)
    main_gap, main_problems = _relate(stored_main, parsed.main, zone)
    esc_gap, esc_problems = _relate(stored_escalations, parsed.escalations, zone)
    for place, message in main_problems + esc_problems:
        row.problems.append(Problem(place, message))
    if row.problems:
        return []
    new_main = parsed.main[len(stored_main) :] if main_gap < 0 else []
    new_escalations = parsed.escalations[len(stored_escalations) :] if esc_gap < 0 else []
    if new_main or new_escalations:
        summary["extended"].append(parsed.id)
    if main_gap > 0 or esc_gap > 0:
        summary["behind"].append(parsed.id)
    if not (new_main or new_escalations or main_gap > 0 or esc_gap > 0):
        summary["unchanged"].append(parsed.id)
    return _merge(new_main, new_escalations)


# -- the inspection ledger ------------------------------------------------------------------


_FINDING = re.compile(r"[【\[](一般|重大|备注)(?:\s+([^\s】\]]+))?\s*[】\]]")
_FINDING_SEVERITIES: dict[str, Severity | None] = {_NOTE_LABEL: None}
_FINDING_SEVERITIES.update((label, s) for s, label in _SEVERITY_LABELS.items())


def _finding_line(finding: Finding) -> str:
    """``【重大 hz-00003】教学楼外墙瓷砖脱落``; a remark without a hazard: its text alone."""
    text = _escape(finding.text)
    if finding.severity is None and finding.hazard is None and not _FINDING.match(text):
        return text
    hazard_id = f" {finding.hazard}" if finding.hazard is not None else ""
    severity = finding.severity
    label = _NOTE_LABEL if severity is None else _SEVERITY_LABELS[severity]
    return f"【{label}{hazard_id}】{text}"


def _read_finding(row: _Row, number: int, line: str) -> Finding | None:
    m = _FINDING.match(line)
    severity, hazard_id, text = None, None, line
    if m is not None:
        severity, hazard_id, text = _FINDING_SEVERITIES[m[1]], m[2], line[m.end() :]
    try:
        return Finding(_unescape(text), severity, hazard_id)
    except ValueError as exc:
        row.fail("发现问题", str(exc), number)
        return None


def _inspection_row(record: Record, names: _Org, zone: dt.tzinfo) -> dict[str, Any]:
    data: InspectionRecorded = record.data
    return {
        "检查编号": data.inspection,
        "检查日期": data.date,
        "学校编号": data.school,
        "学校名称": names.names.school(data.school),
        "包保责任方": data.holder,
        "包保责任方名称": names.names.holder(data.holder),
        "计划督查编号": data.visit or "",
        "方式": _ANNOUNCED[data.announced],
        "检查人员": "、".join(data.inspectors),
        "检查人员姓名": names.person_names(data.inspectors),
        "发现问题": "\n".join(_finding_line(f) for f in data.findings),
        "小结": data.summary,
        "记录时间": _fmt_time(record.at, zone),
        "记录人": record.actor,
        "记录人姓名": names.people.get(record.actor, ""),
    }


def _inspections(store: Store) -> list[Record]:
    records = [e.record for e in store.read(kind=_INSPECTION_KIND)]
    return sorted(records, key=lambda r: _natural(r.data.inspection))  # stable: seq at a tie


def export_inspection_ledger(store: Store, org: Organisation, path: str | os.PathLike[str]) -> int:
    """Write the inspection ledger (督查台账) of the store: one row per inspection, by id.

    As :func:`export_hazard_ledger`: the format from the suffix (``.csv``, ``.xlsx``),
    written atomically. The columns are :data:`INSPECTION_LEDGER_COLUMNS`.

    :returns: how many inspections were written.
    :raises dualduty.DualdutyError: as :func:`export_hazard_ledger`.
    """
    fmt = _format_of(path)
    zone = _zone(org)
    names = _Org(org)
    rows = [_inspection_row(r, names, zone) for r in _inspections(store)]
    _write_table(
        path,
        fmt,
        ledger=Ledger.INSPECTIONS,
        columns=INSPECTION_LEDGER_COLUMNS,
        rows=rows,
        display=_INSPECTION_DISPLAY,
    )
    return len(rows)


_INSPECTION_COLUMNS = {
    "inspection": "检查编号",
    "school": "学校编号",
    "holder": "包保责任方",
    "date": "检查日期",
    "inspectors": "检查人员",
    "visit": "计划督查编号",
    "announced": "方式",
    "findings": "发现问题",
    "summary": "小结",
    "actor": "记录人",
    "at": "记录时间",
}


def _read_inspection_row(row: _Row, desk: Desk) -> _Made | None:
    iid = row.ident("检查编号", required=True)
    day = row.date("检查日期", required=True)
    school_id = row.ident("学校编号", required=True)
    if school_id is not None and school_id not in row.org.schools:
        row.fail("学校编号", f"no school {school_id!r} in the organisation")
    holder = row.ident("包保责任方", required=True)
    if holder is not None and holder not in row.org.posts | row.org.units:
        row.fail("包保责任方", f"no post or unit {holder!r} in the organisation")
    visit = row.ident("计划督查编号")
    announced = row.choice("方式", _MANNERS, "明查 or 暗访", required=True)
    inspectors = _split_ids(row.text("检查人员", required=True) or "")
    for pid in inspectors:
        if pid not in row.org.people:
            row.fail("检查人员", f"no person {pid!r} in the organisation")
    findings = [_read_finding(row, n, line) for n, line in row.lines("发现问题")]
    summary = row.text("小结") or ""
    at = row.time("记录时间", required=True)
    recorder = row.person("记录人", required=True)
    if day is not None and at is not None and day > at.date():
        row.fail("检查日期", f"{day.isoformat()} is after the inspection was recorded (记录时间)")
    if row.problems:
        return None
    assert iid is not None
    assert day is not None
    assert school_id is not None
    assert holder is not None
    assert announced is not None
    assert at is not None
    assert recorder is not None
    data = InspectionRecorded(
        iid,
        school_id,
        holder,
        day,
        tuple(inspectors),
        visit,
        announced,
        tuple(f for f in findings if f is not None),
        summary,
    )
    # As the Inspections service writes them.
    record = Record.of(data, actor=recorder, at=at, subjects=inspection_subjects(desk, data))
    columns = {field: row.path(column) for field, column in _INSPECTION_COLUMNS.items()}
    return _Made(record, row.path("检查编号"), columns)


def import_inspection_ledger(
    store: Store,
    org: Organisation,
    path: str | os.PathLike[str],
    *,
    actor: str,
    at: dt.datetime | None = None,
    desk: Desk | None = None,
) -> LedgerImport:
    """Import an inspection ledger (督查台账) written as :func:`export_inspection_ledger` writes it.

    Each row makes one :class:`~dualduty.records.InspectionRecorded` record, by the
    person in 记录人 at 记录时间, with the subjects the
    :class:`~dualduty.records.Inspections` service gives it. Its school, package holder
    (a post or a unit), inspectors (at least one) and recorder must be of *org*, and it
    cannot be recorded before its day. An inspection the store already holds must be
    recorded the same (unchanged), or the row is bad. As :func:`import_hazard_ledger`:
    all or nothing, in one transaction, with a :class:`LedgerImported` record.

    Not checked, since a ledger reports history: that the holder still holds a package
    of the school, that a visit is in this year's schedule. A finding's hazard is not
    looked up either: import the hazard ledger before or after.

    :raises dualduty.records.PermissionDenied: unless *actor* acts for the office.
    :raises InvalidLedger: when the file cannot be read or any row is bad.
    """
    desk = desk if desk is not None else Desk(store, org)
    desk.require(actor, desk.office_members(), "import ledgers (the office does)")
    table = _Table.read(path, Ledger.INSPECTIONS)
    names = _Org(org)
    zone = _zone(org)
    read: list[_Made] = []
    for row in table.rows(_INSPECTION_DATA, zone, names):
        made = _read_inspection_row(row, desk)
        table.claim(row, "检查编号")
        table.problems.extend(row.problems)
        if made is not None and not row.problems:
            read.append(made)

    summary: dict[str, list[str]] = {"added": [], "extended": [], "unchanged": [], "behind": []}
    appended: list[_Made] = []
    with desk.writing() as w:
        stored: dict[str, list[Record]] = {}
        for record in _inspections(w.store):
            stored.setdefault(record.data.inspection, []).append(record)
        for record in w.tx.records:
            if isinstance(record.data, InspectionRecorded):
                stored.setdefault(record.data.inspection, []).append(record)
        for made in read:
            iid = made.record.data.inspection
            held = stored.get(iid, [])
            if not held:
                summary["added"].append(iid)
                appended.append(made)
                continue
            found = [_differences(r, made, zone) for r in held]
            if any(not d for d in found):
                summary["unchanged"].append(iid)
                continue
            for place, message in found[0]:
                table.problems.append(Problem(place, message))
        table.check()
        return _finish(w, table, actor=actor, at=desk.now(at), appended=appended, summary=summary)


# -- both ledgers ----------------------------------------------------------------------------


def export_ledger(
    ledger: Ledger | str,
    store: Store,
    org: Organisation,
    path: str | os.PathLike[str],
    *,
    as_of: dt.datetime | None = None,
    rules: HazardRules | None = None,
) -> int:
    """Write *ledger* (``"hazards"`` or ``"inspections"``); see :func:`export_hazard_ledger`.

    *as_of* and *rules* concern the hazard ledger only.

    :returns: how many rows were written.
    """
    if Ledger(ledger) is Ledger.HAZARDS:
        return export_hazard_ledger(store, org, path, as_of=as_of, rules=rules)
    return export_inspection_ledger(store, org, path)


def import_ledger(
    ledger: Ledger | str,
    store: Store,
    org: Organisation,
    path: str | os.PathLike[str],
    *,
    actor: str,
    at: dt.datetime | None = None,
    desk: Desk | None = None,
) -> LedgerImport:
    """Import *ledger* (``"hazards"`` or ``"inspections"``); see :func:`import_hazard_ledger`."""
    if Ledger(ledger) is Ledger.HAZARDS:
        return import_hazard_ledger(store, org, path, actor=actor, at=at, desk=desk)
    return import_inspection_ledger(store, org, path, actor=actor, at=at, desk=desk)


def _finish(
    w: Writing,
    table: _Table,
    *,
    actor: str,
    at: dt.datetime,
    appended: Sequence[_Made],
    summary: Mapping[str, list[str]],
) -> LedgerImport:
    """Append what the import adds, then its :class:`LedgerImported` record."""
    for made in appended:
        w.append(made.record)
    if appended:
        done = LedgerImported(
            table.ledger,
            Path(table.source).name,
            table.count,
            len(appended),
            tuple(summary["added"]),
            tuple(summary["extended"]),
        )
        w.append(Record.of(done, actor=actor, at=at, subjects=[person(actor)]))
    return LedgerImport(
        table.ledger,
        table.source,
        table.count,
        tuple(summary["added"]),
        tuple(summary["extended"]),
        tuple(summary["unchanged"]),
        tuple(summary["behind"]),
        len(appended),
        table.ignored,
    )


def _zone(org: Organisation) -> dt.tzinfo:
    import zoneinfo

    return zoneinfo.ZoneInfo(org.timezone)


# -- files ----------------------------------------------------------------------------------

_Format = Literal["csv", "xlsx"]


def _format_of(path: str | os.PathLike[str]) -> _Format:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    shown = suffix or "a file without a suffix"
    raise DualdutyError(f"{os.fspath(path)}: a ledger is a .csv or .xlsx file, not {shown}")


def _write_table(
    path: str | os.PathLike[str],
    fmt: _Format,
    *,
    ledger: Ledger,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    display: frozenset[str],
) -> None:
    from dualduty.io._schedule._common import write_file

    if fmt == "csv":
        data = _csv_bytes(columns, rows)
    else:
        data = _xlsx_bytes(_SHEETS[ledger], columns, rows, display)
    write_file(path, data)


def _csv_bytes(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> bytes:
    import csv
    import io

    def cell(value: Any) -> str:
        if isinstance(value, dt.date):
            return value.isoformat()
        return "" if value is None else str(value)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([cell(row.get(c)) for c in columns] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def _xlsx_bytes(
    sheet: str,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    display: frozenset[str],
) -> bytes:
    import io

    from dualduty.io._schedule._table import (
        _EXCEL_MAX,
        _NOT_IN_EXCEL,
        _need_openpyxl,
        _plain_date,
    )

    _need_openpyxl("writing")
    from openpyxl import Workbook
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    def checked(row: Mapping[str, Any], column: str) -> Any:
        value = row.get(column)
        if not isinstance(value, str):
            return value
        if column in display:
            return _NOT_IN_EXCEL.sub("", value)  # names and computed text, not read back
        if _NOT_IN_EXCEL.search(value) or len(value) > _EXCEL_MAX:
            raise DualdutyError(
                f"{columns[0]} {row[columns[0]]}, column {column}: cannot be written to Excel "
                f"(a control character, or more than {_EXCEL_MAX} characters): {value!r}; "
                "write a .csv ledger"
            )
        return value

    # Every cell is checked before the workbook is started (a refused one leaves nothing).
    values = [[checked(row, c) for c in columns] for row in rows]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.freeze_panes = "A2"
    for i, column in enumerate(columns, start=1):
        width = _WIDTHS.get(column, _TIME_WIDTH if column.endswith("时间") else 12)
        ws.column_dimensions[get_column_letter(i)].width = width
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def header(value: str) -> Cell:
        cell = WriteOnlyCell(ws, value=value)
        cell.font = bold
        return cell

    def cell(value: Any, column: str) -> Any:
        if isinstance(value, dt.date):
            day = WriteOnlyCell(ws, value=_plain_date(value))
            day.number_format = "yyyy-mm-dd"
            return day
        if not isinstance(value, str):
            return value
        if not value:
            return None
        if value.startswith("=") or column in _MULTILINE:
            text = WriteOnlyCell(ws, value=value)
            text.data_type = "s"  # text, never a formula
            if column in _MULTILINE:
                text.alignment = wrap
            return text
        return value

    ws.append([header(c) for c in columns])
    for row_values in values:
        ws.append([cell(v, c) for v, c in zip(row_values, columns, strict=True)])
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class _Table:
    """A ledger file read: its header and data rows; the problems found so far."""

    def __init__(self, ledger: Ledger, source: str, rows: list[Sequence[Any]]) -> None:
        self.ledger = ledger
        self.source = source
        self._rows = rows
        self.problems: list[Problem] = []
        self.count = 0
        self.ignored: tuple[str, ...] = ()
        self._read: dict[int, _Row] = {}
        self._ids: dict[str, int] = {}

    @classmethod
    def read(cls, path: str | os.PathLike[str], ledger: Ledger) -> _Table:
        source = os.fspath(path)
        fmt = _format_of(path)
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            problem = Problem("", f"cannot read the file: {exc.strerror or exc}")
            raise InvalidLedger([problem], source) from None
        rows = _csv_rows(raw, source) if fmt == "csv" else _xlsx_rows(raw, source, ledger)
        return cls(ledger, source, rows)

    def rows(self, data: Sequence[str], zone: dt.tzinfo, org: _Org) -> Iterator[_Row]:
        """The data rows, after checking the header (empty rows skipped)."""
        if not self._rows:
            raise InvalidLedger([Problem("", "the file is empty: no header row")], self.source)
        where: dict[str, int] = {}
        problems = []
        known = (
            HAZARD_LEDGER_COLUMNS if self.ledger is Ledger.HAZARDS else INSPECTION_LEDGER_COLUMNS
        )
        ignored = []
        for i, cell in enumerate(self._rows[0]):
            name = str(cell).strip() if cell is not None else ""
            if name in where:
                problems.append(Problem("row 1", f"the column {name} appears twice"))
            elif name:
                where[name] = i
                if name not in known:
                    ignored.append(name)
        missing = [c for c in data if c not in where and c != "当前状态"]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            problems.append(Problem("row 1", f"missing column{plural} {', '.join(missing)}"))
        if problems:
            raise InvalidLedger(problems, self.source)
        self.ignored = tuple(ignored)
        for n, values in enumerate(self._rows[1:], start=2):
            cells = {c: values[where[c]] for c in data if c in where and where[c] < len(values)}
            if all(_blank(v) for v in cells.values()):
                continue
            self.count += 1
            row = _Row(n, cells, zone, org)
            self._read[n] = row
            yield row

    def row(self, n: int) -> _Row:
        return self._read[n]

    def claim(self, row: _Row, column: str) -> None:
        """Each id once in a file (a row whose id cell is bad has its problem already)."""
        value = row.cells.get(column)
        id_ = value.strip() if isinstance(value, str) else None
        if id_ is None or not is_id(id_):
            return
        first = self._ids.setdefault(id_, row.n)
        if first != row.n:
            row.fail(column, f"{id_} is also in row {first}")

    def check(self) -> None:
        """Raise every problem found, in the order of the file."""
        if self.problems:
            order = {p: i for i, p in enumerate(self.problems)}
            ranked = sorted(self.problems, key=lambda p: (_row_of(p), order[p]))
            raise InvalidLedger(ranked, self.source)


def _row_of(problem: Problem) -> int:
    m = re.match(r"row (\d+)", problem.path)
    return int(m[1]) if m else 0


def _csv_rows(raw: bytes, source: str) -> list[Sequence[Any]]:
    from dualduty.io._text import csv_rows

    rows = csv_rows(raw)
    if isinstance(rows, Problem):
        raise InvalidLedger([rows], source)
    return list(rows)


def _xlsx_rows(raw: bytes, source: str, ledger: Ledger) -> list[Sequence[Any]]:
    import io

    from dualduty.io._schedule._table import _need_openpyxl

    _need_openpyxl("reading")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors share no base class
        problem = Problem("", f"not an Excel workbook (.xlsx): {exc}")
        raise InvalidLedger([problem], source) from None
    try:
        sheet = _SHEETS[ledger]
        ws = wb[sheet] if sheet in wb.sheetnames else wb.worksheets[0]
        return list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
