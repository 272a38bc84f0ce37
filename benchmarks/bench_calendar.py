"""Working-day look-ups: dualduty's calendar against ``chinese_calendar.is_workday``.

The issue measured ``chinese_calendar.is_workday`` at about 18 µs a call; the schedule
asks about every day of every quarter, so dualduty's :class:`~dualduty.calendars.WorkCalendar`
answers from tables built once. Both are timed in the same run, over every day of a
year (``--year``, 2026), best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

import chinese_calendar
import pendulum

sys.path.insert(0, str(Path(__file__).parent))

from orgs import make_organisation

from dualduty.calendars import calendar_for


def per_call(check: Callable[[dt.date], object], days: list[dt.date], repeat: int) -> float:
    """Seconds per call of *check*, the best of *repeat* runs over *days*."""
    number = 20
    best = min(timeit.repeat(lambda: [check(d) for d in days], number=number, repeat=repeat))
    return best / number / len(days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    first = dt.date(args.year, 1, 1)
    days = [first + dt.timedelta(days=i) for i in range(365)]
    cal = calendar_for(make_organisation(0), args.year)
    rows = [
        ("chinese_calendar.is_workday", per_call(chinese_calendar.is_workday, days, args.repeat)),
        ("WorkCalendar.is_working_day", per_call(cal.is_working_day, days, args.repeat)),
        (
            "  (pendulum dates)",
            per_call(cal.is_working_day, [pendulum.date(d.year, d.month, d.day) for d in days], 5),
        ),
        ("WorkCalendar.is_inspection_day", per_call(cal.is_inspection_day, days, args.repeat)),
    ]
    reference = rows[0][1]
    for name, seconds in rows:
        print(f"{name:<32} {seconds * 1e6:8.3f} µs a call  {reference / seconds:7.0f}x")


if __name__ == "__main__":
    main()
