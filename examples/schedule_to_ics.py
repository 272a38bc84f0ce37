"""Plan a year's schedule and write it as iCalendar (.ics) files.

Usage::

    python examples/schedule_to_ics.py [OUT_DIR] [YEAR]

Plans the reference organisation's (15 schools) dedicated inspections (two per packaged
school a quarter, 三.2), topic studies (二(三).1), coordination meetings (三.3) and
quarter-report deadlines on the working days of YEAR (default 2026; Chinese statutory
holidays included), then writes one calendar per person and per unit plus
``schedule.ics`` with everything into ``OUT_DIR/ics`` — files calendar applications
import and update in place (every event has a stable UID).
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import zoneinfo
from pathlib import Path

import dualduty
from dualduty.calendars import calendar_for
from dualduty.io import schedule_to_ics, write_schedule_ics
from dualduty.planning import plan_schedule


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="dualduty-"))
    out.mkdir(parents=True, exist_ok=True)
    year = int(argv[1]) if len(argv) > 1 else 2026
    org = dualduty.reference_organisation(schools=15)
    schedule = plan_schedule(org, calendar_for(org, [year]), year)
    print(
        f"schedule {year}: {len(schedule.visits)} visits, {len(schedule.meetings)} meetings, "
        f"{len(schedule.deadlines)} deadlines"
    )
    # The stamp (DTSTAMP) is fixed so that the same schedule gives the same files.
    stamp = dt.datetime(year, 1, 1, 8, tzinfo=zoneinfo.ZoneInfo(org.timezone))
    folder = out / "ics"
    written = write_schedule_ics(schedule, org, folder, stamp=stamp)
    everything = schedule_to_ics(schedule, org, stamp=stamp, people=False, units=False,
                                 everything=True)  # fmt: skip
    (folder / "schedule.ics").write_bytes(everything["schedule.ics"])
    print(f"wrote {len(written) + 1} calendars to {folder}")
    text = (folder / "unit-planning.ics").read_text(encoding="utf-8")
    print(f"unit-planning.ics: {text.count('BEGIN:VEVENT')} events")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
