"""A schedule as JSON: what ``dualduty schedule --format json`` prints, and reading it back."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from dualduty.errors import Problem
from dualduty.io._converters import problems_from
from dualduty.io._text import read_utf8
from dualduty.model.schedule import Deadline, Meeting, Schedule, Violation, Visit, quarter_of

from ._common import InvalidScheduleFile, infer_year, write_file
from ._convert import converter

__all__ = [
    "read_schedule_json",
    "schedule_from_json",
    "schedule_to_json",
    "write_schedule_json",
]

_LISTS: dict[str, type] = {
    "visits": Visit,
    "meetings": Meeting,
    "deadlines": Deadline,
    "violations": Violation,
}
_KEYS = ("year", "quarter", *_LISTS)


def schedule_to_json(
    schedule: Schedule, violations: Iterable[Violation] | None = None
) -> dict[str, Any]:
    """The schedule as JSON data (dicts, lists, text, numbers), dates as ``YYYY-MM-DD``.

    The shape, keys in this order (:doc:`/reference/file-format` lists every key)::

        {"year": 2026, "quarter": null,
         "visits": [{"id", "school", "holder", "date", "inspectors", "announced",
                     "joint", "quarter"}],
         "meetings": [{"id", "kind", "unit", "date", "quarter", "title"}],
         "deadlines": [{"id", "kind", "unit", "due", "quarter", "to"}],
         "violations": [{"kind", "subject", "clause", "message"}]}

    Every key is always present (``null`` when unset), so the data reads back into an
    equal schedule with :func:`schedule_from_json`.

    :param violations: what a validator found, listed under ``violations`` (empty when
        ``None``).
    """
    return {
        "year": schedule.year,
        "quarter": schedule.quarter,
        "visits": [
            {
                "id": v.id,
                "school": v.school,
                "holder": v.holder,
                "date": v.date.isoformat(),
                "inspectors": list(v.inspectors),
                "announced": v.announced,
                "joint": v.joint,
                "quarter": v.quarter,
            }
            for v in schedule.visits
        ],
        "meetings": [
            {
                "id": m.id,
                "kind": m.kind.value,
                "unit": m.unit,
                "date": m.date.isoformat(),
                "quarter": m.quarter,
                "title": m.title,
            }
            for m in schedule.meetings
        ],
        "deadlines": [
            {
                "id": d.id,
                "kind": d.kind.value,
                "unit": d.unit,
                "due": d.due.isoformat(),
                "quarter": d.quarter,
                "to": d.to,
            }
            for d in schedule.deadlines
        ],
        "violations": [
            {"kind": x.kind, "subject": x.subject, "clause": x.clause, "message": x.message}
            for x in violations or ()
        ],
    }


def _visit_quarter(item: Any) -> Any:
    """A visit without ``quarter`` counts for the quarter of its date (when it has one)."""
    if not isinstance(item, Mapping) or "quarter" in item or not isinstance(item.get("date"), str):
        return item
    try:
        day = dt.date.fromisoformat(item["date"])
    except ValueError:
        return item  # the converter reports the date
    return {**item, "quarter": quarter_of(day)}


def _int_or_none(data: Mapping[str, Any], key: str, problems: list[Problem]) -> int | None:
    value = data.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    problems.append(Problem(key, f"expected a whole number, got {type(value).__name__} {value!r}"))
    return None


def schedule_from_json(
    data: Any,
    *,
    source: str = "<data>",
    year: int | None = None,
    quarter: int | None = None,
) -> Schedule:
    """Read a schedule from JSON data, as :func:`schedule_to_json` writes it.

    All or nothing: every item is checked and every problem is reported at once, with
    its path (``visits[3].date: expected a date as YYYY-MM-DD, got '2026-02-30'``).
    Keys other than those :func:`schedule_to_json` writes are refused. A visit without
    ``quarter`` counts for the quarter of its date; a meeting or a deadline without it
    has none; ``title``, ``to`` and ``joint`` may be left out; ``violations`` is checked
    and not returned.

    :param source: the name used in error messages.
    :param year: the year when the data has no ``year``; when neither says, the year of
        the earliest date.
    :param quarter: the quarter when the data has no ``quarter`` key.
    :raises InvalidScheduleFile: listing every problem with its path.
    """
    if not isinstance(data, Mapping):
        raise InvalidScheduleFile(
            [Problem("", f"expected an object of keys at the top, got {type(data).__name__}")],
            source,
        )
    conv = converter("json")
    problems = [Problem(key, f"unknown key {key!r}") for key in data if key not in _KEYS]
    found: dict[str, list[Any]] = {}
    for key, item_type in _LISTS.items():
        raw = data.get(key, [])
        if not isinstance(raw, list):
            problems.append(Problem(key, f"expected a list, got {type(raw).__name__}"))
            continue
        items = found.setdefault(key, [])
        for i, item in enumerate(raw):
            try:
                items.append(
                    conv.structure(_visit_quarter(item) if item_type is Visit else item, item_type)
                )
            except Exception as exc:
                problems.extend(problems_from(exc, f"{key}[{i}]"))
    the_year = _int_or_none(data, "year", problems)
    the_quarter = _int_or_none(data, "quarter", problems) if "quarter" in data else quarter
    if problems:
        raise InvalidScheduleFile(problems, source)
    visits, meetings, deadlines = found["visits"], found["meetings"], found["deadlines"]
    if the_year is None:
        the_year = year if year is not None else infer_year(visits, meetings, deadlines, source)
    return Schedule(the_year, the_quarter, visits, meetings, deadlines)


def write_schedule_json(
    schedule: Schedule,
    path: str | os.PathLike[str],
    violations: Iterable[Violation] | None = None,
) -> None:
    """Write :func:`schedule_to_json` to *path* (UTF-8, indented), atomically.

    :raises dualduty.DualdutyError: when the file cannot be written.
    """
    text = json.dumps(schedule_to_json(schedule, violations), ensure_ascii=False, indent=2)
    write_file(path, (text + "\n").encode("utf-8"))


def read_schedule_json(
    path: str | os.PathLike[str], *, year: int | None = None, quarter: int | None = None
) -> Schedule:
    """Read a schedule from a JSON file (see :func:`schedule_from_json`).

    :raises InvalidScheduleFile: when the file cannot be read, is not JSON, or holds a
        problem; every problem is listed with its path.
    """
    source = os.fspath(path)
    text = read_utf8(path)
    if isinstance(text, Problem):
        raise InvalidScheduleFile([text], source)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidScheduleFile([Problem("", f"not valid JSON: {exc}")], source) from None
    return schedule_from_json(data, source=source, year=year, quarter=quarter)
