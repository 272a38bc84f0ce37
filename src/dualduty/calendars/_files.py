"""Holiday files: the statutory holidays of one or more years, in TOML, JSON or YAML.

The same format holds the data dualduty ships and the years users supply. A file is read
whole and checked whole: every problem is reported at once, with its path in the file
(``years[0].holidays[2].days_off[3]``), in one :class:`InvalidHolidays`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Any, cast

import attrs

from dualduty.errors import DualdutyError, Problem
from dualduty.io._converters import Format, converter, problems_from
from dualduty.io._text import read_utf8
from dualduty.model._checks import check_text
from dualduty.model.validate import DATE_MAX, DATE_MIN

from . import HOLIDAY_FORMAT_VERSION, HolidayYear, InvalidHolidays

__all__ = ["load", "loads"]

_SUFFIXES: dict[str, Format] = {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _dates(value: Any) -> tuple[dt.date, ...]:
    return tuple(value)


@attrs.frozen
class _Holiday:
    """``[[years.holidays]]``: one holiday with its days off and make-up working days."""

    name: str = attrs.field(validator=check_text)
    days_off: tuple[dt.date, ...] = attrs.field(default=(), converter=_dates)
    workdays: tuple[dt.date, ...] = attrs.field(default=(), converter=_dates)


@attrs.frozen
class _Year:
    """``[[years]]`` without its holidays: the year and where its data comes from."""

    year: int
    source: str | None = attrs.field(default=None, validator=attrs.validators.optional(check_text))


def _parse(text: str, fmt: Format) -> Any:
    from dualduty.io.files import _parse as parse

    return parse(text, fmt)


def load(path: str | os.PathLike[str]) -> tuple[HolidayYear, ...]:
    """Read a holiday file; the format from the suffix."""
    source = os.fspath(path)
    suffix = Path(path).suffix.lower()
    fmt = _SUFFIXES.get(suffix)
    if fmt is None:
        raise InvalidHolidays(
            [
                Problem(
                    "",
                    f"cannot tell the format from the suffix {suffix!r}; "
                    "use .toml, .json, .yaml or .yml",
                )
            ],
            source,
        )
    text = read_utf8(path, f"the holiday file {str(Path(path).resolve())!r}")
    if isinstance(text, Problem):
        raise InvalidHolidays([text], source)
    return loads(text, fmt, source=source)


def loads(text: str, fmt: str = "toml", *, source: str = "<string>") -> tuple[HolidayYear, ...]:
    """Read the text of a holiday file."""
    if fmt not in ("toml", "json", "yaml"):
        raise ValueError(f"fmt must be 'toml', 'json' or 'yaml', not {fmt!r}")
    try:
        data = _parse(text, cast(Format, fmt))
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InvalidHolidays([Problem("", f"not valid {fmt.upper()}: {exc}")], source) from None
    except Exception as exc:  # YAML's errors share no base class with the others
        if isinstance(exc, DualdutyError):  # PyYAML is not installed
            raise
        raise InvalidHolidays([Problem("", f"not valid {fmt.upper()}: {exc}")], source) from None
    return from_data(data, cast(Format, fmt), source=source)


def from_data(data: Any, fmt: Format, *, source: str) -> tuple[HolidayYear, ...]:
    """Check parsed file data and build its years.

    Each year is read on its own, so that one broken year does not hide the problems of
    the others; the years that were read are then checked for their dates.
    """
    if not isinstance(data, dict):
        raise InvalidHolidays(
            [Problem("", f"expected a table of keys at the top, got {type(data).__name__}")],
            source,
        )
    conv = converter(fmt)
    problems: list[Problem] = []
    for key, value in data.items():
        if key == "format":
            if value != HOLIDAY_FORMAT_VERSION or isinstance(value, bool):
                problems.append(
                    Problem(
                        "format",
                        f"holiday file format {value!r} is not supported; this dualduty "
                        f"reads format {HOLIDAY_FORMAT_VERSION}",
                    )
                )
        elif key != "years":
            problems.append(Problem(key, f"unknown key {key!r}"))
    raw_years = data.get("years")
    first_year: dict[int, int] = {}
    years: list[tuple[_Year, list[_Holiday]]] = []
    if raw_years is None:
        problems.append(Problem("years", "required field missing"))
    elif not isinstance(raw_years, list):
        problems.append(Problem("years", f"expected a list, got {type(raw_years).__name__}"))
    elif not raw_years:
        problems.append(Problem("years", "lists no years"))
    else:
        for i, raw in enumerate(raw_years):
            found = _read_year(conv, i, raw, first_year, problems)
            if found is not None:
                years.append(found)
    if problems:
        raise InvalidHolidays(sorted(problems, key=_position), source)
    return tuple(_year(entry, holidays, source) for entry, holidays in years)


def _read_year(
    conv: Any, i: int, raw: Any, first_year: dict[int, int], problems: list[Problem]
) -> tuple[_Year, list[_Holiday]] | None:
    """One ``[[years]]`` item, each holiday read on its own, then its dates checked."""
    at = f"years[{i}]"
    if not isinstance(raw, dict):
        problems.append(Problem(at, f"expected a table of keys, got {type(raw).__name__}"))
        return None
    entry: _Year | None = None
    try:
        entry = conv.structure({k: v for k, v in raw.items() if k != "holidays"}, _Year)
    except Exception as exc:
        problems.extend(problems_from(exc, at))
    else:
        problems.extend(_check_year(i, entry, first_year))
    raw_holidays = raw.get("holidays")
    holidays: list[tuple[int, _Holiday]] = []
    if raw_holidays is None:
        problems.append(Problem(f"{at}.holidays", "required field missing"))
    elif not isinstance(raw_holidays, list):
        problems.append(
            Problem(f"{at}.holidays", f"expected a list, got {type(raw_holidays).__name__}")
        )
    elif not raw_holidays:
        problems.append(Problem(f"{at}.holidays", "lists no holidays"))
    else:
        for j, item in enumerate(raw_holidays):
            try:
                holidays.append((j, conv.structure(item, _Holiday)))
            except Exception as exc:
                problems.extend(problems_from(exc, f"{at}.holidays[{j}]"))
    if entry is None:
        return None
    problems.extend(_check_days(i, entry.year, holidays))
    return entry, [h for _, h in holidays]


def _position(problem: Problem) -> tuple[int, ...]:
    """Document order: top-level keys first, then by year and holiday (a stable sort
    keeps the order the problems of one holiday were found in)."""
    if not problem.path.startswith("years["):
        return (-1,)
    return tuple(int(n) for n in re.findall(r"\[(\d+)\]", problem.path)[:2])


def _check_year(i: int, entry: _Year, first_year: dict[int, int]) -> list[Problem]:
    out: list[Problem] = []
    at = f"years[{i}]"
    if not DATE_MIN.year <= entry.year <= DATE_MAX.year:
        out.append(
            Problem(
                f"{at}.year",
                f"{entry.year} is out of range ({DATE_MIN.year} to {DATE_MAX.year})",
            )
        )
    if entry.year in first_year:
        out.append(
            Problem(
                f"{at}.year",
                f"{entry.year} is given twice (first at years[{first_year[entry.year]}])",
            )
        )
    else:
        first_year[entry.year] = i
    return out


def _check_days(i: int, year: int, holidays: list[tuple[int, _Holiday]]) -> list[Problem]:
    out: list[Problem] = []
    at = f"years[{i}]"
    seen: dict[dt.date, tuple[str, str]] = {}  # day -> (path, key) where first listed
    for j, holiday in holidays:
        here = f"{at}.holidays[{j}]"
        if not holiday.days_off and not holiday.workdays:
            out.append(Problem(here, f"{holiday.name!r} lists no days off and no working days"))
        for key, days in (("days_off", holiday.days_off), ("workdays", holiday.workdays)):
            for k, day in enumerate(days):
                path = f"{here}.{key}[{k}]"
                iso = day.isoformat()
                if day.year != year:
                    out.append(Problem(path, f"{iso} is not in {year}"))
                    continue
                if key == "workdays" and day.weekday() < 5:
                    out.append(
                        Problem(
                            path,
                            f"{iso} is a {_WEEKDAYS[day.weekday()]}, a working day anyway; "
                            "a make-up working day (调休上班) is a Saturday or Sunday",
                        )
                    )
                first = seen.get(day)
                if first is None:
                    seen[day] = (path, key)
                elif first[1] == key:
                    out.append(Problem(path, f"{iso} is listed twice (first at {first[0]})"))
                else:
                    out.append(
                        Problem(
                            path,
                            f"{iso} is both a day off and a working day (also at {first[0]})",
                        )
                    )
    return out


def _year(entry: _Year, holidays: list[_Holiday], source: str) -> HolidayYear:
    names = [(day, h.name) for h in holidays for day in (*h.days_off, *h.workdays)]
    return HolidayYear(
        entry.year,
        days_off=[day for h in holidays for day in h.days_off],
        workdays=[day for h in holidays for day in h.workdays],
        names=names,
        source=f"{entry.source} ({source})" if entry.source else source,
    )
