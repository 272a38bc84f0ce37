"""Argument types the ``dualduty`` sub-commands share (argparse ``type=`` callables), and
the options several of them take alike (:func:`schedule_options`).

Each type raises :class:`argparse.ArgumentTypeError`, which argparse prints with the option's
name before exiting 2.
"""

from __future__ import annotations

import argparse
import datetime as dt

__all__ = ["aware_time", "iso_date", "quarter", "schedule_options", "year"]


def quarter(text: str) -> int:
    """A quarter, 1 to 4."""
    value = int(text)
    if not 1 <= value <= 4:
        raise argparse.ArgumentTypeError(f"must be 1 to 4, got {value}")
    return value


def year(text: str) -> int:
    """A year, 1970 to 2099."""
    value = int(text)
    if not 1970 <= value <= 2099:
        raise argparse.ArgumentTypeError(f"must be 1970 to 2099, got {value}")
    return value


def aware_time(text: str) -> dt.datetime:
    """An ISO 8601 date and time with a time zone offset."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone offset: {text!r} (say +08:00)")
    return value


def iso_date(text: str) -> dt.date:
    """A date as ``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date as YYYY-MM-DD: {text!r}") from None


def schedule_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--schedule FILE`` and ``--holidays FILE`` (repeatable) to *parser*: the year's
    schedule, else planned from the district file with these holiday files."""
    parser.add_argument(
        "--schedule",
        metavar="FILE",
        help="the year's schedule (.csv, .xlsx or .json; default: planned from the file)",
    )
    parser.add_argument(
        "--holidays",
        metavar="FILE",
        action="append",
        default=[],
        help="a holiday file, to plan the schedule of a year dualduty ships none for",
    )
