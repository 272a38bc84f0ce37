"""Schedule exports against the practical limit of writing the same bytes, in one run.

A year of the reference bureau with ``--schools`` schools (300: every school packaged to
a leader and to a section, two dedicated visits each a quarter, 4,800 visits) plus the
sections' topic studies, the coordination and summary meetings and the quarter-report
deadlines, built by hand (the generator is not timed, nor needed). Measured, best of
``--repeat`` runs:

- CSV: ``schedule_to_csv`` (text, with the organisation's names) and
  ``write_schedule_csv`` (the file, atomically, fsync'd), against the ``csv`` module
  writing the *same* rows (the cells dualduty wrote, read back) to memory and to a file;
- iCalendar: ``schedule_to_ics`` (one calendar per person and per unit; also with one
  per school) and ``write_schedule_ics`` (staged in a temporary directory, fsync'd,
  moved into place), against writing the same bytes to the same number of files; and,
  once, building the same events with the ``icalendar`` package, the way most code
  would (``Event.add`` and ``to_ical``), for scale;
- JSON (``schedule_to_json`` + ``json.dumps``) and Excel (``schedule_to_xlsx``), for
  reference.

Goal (issue 5): exporting the ~4,800 visits to CSV and to iCalendar well under a second.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pendulum

sys.path.insert(0, str(Path(__file__).parent))

from orgs import make_organisation

from dualduty.io import (
    schedule_to_csv,
    schedule_to_ics,
    schedule_to_json,
    schedule_to_xlsx,
    write_schedule_csv,
    write_schedule_ics,
)
from dualduty.model import (
    SECTION_KINDS,
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingKind,
    Organisation,
    Schedule,
    Visit,
)

YEAR = 2026
GOAL_SECONDS = 1.0
STAMP = pendulum.datetime(2026, 1, 5, 9, 0, tz="Asia/Shanghai")


def weekdays(quarter: int) -> list[dt.date]:
    """The weekdays of a quarter of YEAR (holidays do not matter for the timing)."""
    day = dt.date(YEAR, 3 * quarter - 2, 1)
    end = dt.date(YEAR + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    days: list[dt.date] = []
    while day < end:
        if day.weekday() < 5:
            days.append(pendulum.date(day.year, day.month, day.day))
        day += dt.timedelta(days=1)
    return days


def make_schedule(org: Organisation) -> Schedule:
    """A year for *org*: two visits per package, school and quarter; meetings; deadlines."""
    visits: list[Visit] = []
    meetings: list[Meeting] = []
    deadlines: list[Deadline] = []
    sections = [u for u in org.units if u.kind in SECTION_KINDS]
    group = next(u.id for u in org.units if u.kind.value == "leading_group")
    office = next((u.id for u in org.units if u.kind.value == "office"), None)
    for q in range(1, 5):
        days = weekdays(q)
        for p in org.packages:
            staff = p.staff or (p.holder,)
            for i, school in enumerate(p.schools):
                for rank in (1, 2):
                    n = len(visits)
                    k = (i * 7 + rank * 29) % (len(days) // 2)
                    visits.append(
                        Visit(
                            f"v-{YEAR}q{q}-{p.holder}-{school}-{rank}",
                            school,
                            p.holder,
                            days[k + (rank - 1) * (len(days) // 2)],
                            q,
                            staff[n % len(staff) :] + staff[: n % len(staff)],
                            announced=n % 4 != 0,  # a quarter of the visits unannounced
                        )
                    )
        for u in sections:
            for rank in (1, 2):
                meetings.append(
                    Meeting(
                        f"m-{YEAR}q{q}-{u.id}-{rank}",
                        MeetingKind.TOPIC_STUDY,
                        u.id,
                        days[rank * 20],
                        q,
                    )
                )
            deadlines.append(
                Deadline(
                    f"d-{YEAR}q{q}-{u.id}", DeadlineKind.QUARTER_REPORT, u.id, days[-1], q, office
                )
            )
        meetings.append(
            Meeting(f"m-{YEAR}q{q}-coordination", MeetingKind.COORDINATION, group, days[30], q)
        )
    meetings.append(Meeting(f"m-{YEAR}-summary", MeetingKind.SUMMARY, group, weekdays(4)[-3]))
    items: Any = (visits, meetings, deadlines)  # Schedule's tuple converters are untyped
    return Schedule(YEAR, None, *items)


def best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


_dirs = iter(range(10**9))


def plain_writer(work: Path, files: dict[str, bytes], *, sync: bool) -> Callable[[], None]:
    """Write *files* into a fresh directory under *work*, one after another."""

    def write() -> None:
        directory = work / f"plain-{next(_dirs)}"
        directory.mkdir()
        for name, data in files.items():
            with (directory / name).open("wb") as fh:
                fh.write(data)
                if sync:
                    fh.flush()
                    os.fsync(fh.fileno())

    return write


def with_icalendar(schedule: Schedule, org: Organisation) -> float:
    """Seconds to build and serialize one event per item with the icalendar package."""
    import icalendar

    names = {s.id: s.name for s in org.schools}
    start = time.perf_counter()
    for v in schedule.visits:
        event = icalendar.Event()
        event.add("uid", f"visit-{v.id}@{org.id}.dualduty")
        event.add("dtstamp", STAMP)
        event.add("dtstart", v.date)
        event.add("dtend", v.date + dt.timedelta(days=1))
        event.add("summary", f"专门督查：{names[v.school]}（{v.holder}）")
        event.add("description", f"学校：{names[v.school]}\n督查人员：{'、'.join(v.inspectors)}")
        event.add("location", names[v.school])
        if not v.announced:
            event.add("class", "PRIVATE")
        event.to_ical()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (a temp dir)")
    args = parser.parse_args()

    org = make_organisation(args.schools)
    schedule = make_schedule(org)
    n = len(schedule.visits)
    print(
        f"{args.schools} schools: {n:,} visits, {len(schedule.meetings)} meetings, "
        f"{len(schedule.deadlines)} deadlines; {len(org.people)} people, "
        f"{len(org.units)} units; best of {args.repeat}"
    )
    work = Path(tempfile.mkdtemp(prefix="bench-export-", dir=args.dir))
    try:
        rows = list(csv.reader(io.StringIO(schedule_to_csv(schedule, org), newline="")))
        ics = schedule_to_ics(schedule, org, stamp=STAMP)
        ics_all = schedule_to_ics(schedule, org, stamp=STAMP, schools=True)
        counter = iter(range(10**9))

        def csv_module() -> str:
            out = io.StringIO()
            csv.writer(out, lineterminator="\r\n").writerows(rows)
            return out.getvalue()

        def csv_module_file() -> None:
            path = work / f"plain-{next(counter)}.csv"
            with path.open("w", encoding="utf-8-sig", newline="") as fh:
                csv.writer(fh, lineterminator="\r\n").writerows(rows)
                fh.flush()
                os.fsync(fh.fileno())

        def ics_to_dir(*, schools: bool = False) -> Callable[[], object]:
            return lambda: write_schedule_ics(
                schedule, org, work / f"ics-{next(counter)}", stamp=STAMP, schools=schools
            )

        r = args.repeat
        measures: list[tuple[str, float, list[tuple[str, float]]]] = [
            (
                "CSV text (schedule_to_csv)",
                best(r, lambda: schedule_to_csv(schedule, org)),
                [("csv module, same rows, to memory", best(r, csv_module))],
            ),
            (
                "CSV file (write_schedule_csv)",
                best(r, lambda: write_schedule_csv(schedule, work / "schedule.csv", org)),
                [("csv module, same rows, file fsync'd", best(r, csv_module_file))],
            ),
            (
                f"ICS in memory, {len(ics)} calendars",
                best(r, lambda: schedule_to_ics(schedule, org, stamp=STAMP)),
                [],
            ),
            (
                f"ICS files, {len(ics)} calendars",
                best(r, ics_to_dir()),
                [
                    ("same bytes, plain writes", best(r, plain_writer(work, ics, sync=False))),
                    ("same bytes, each fsync'd", best(r, plain_writer(work, ics, sync=True))),
                ],
            ),
            (
                f"ICS files, {len(ics_all)} calendars (+ schools)",
                best(r, ics_to_dir(schools=True)),
                [
                    ("same bytes, plain writes", best(r, plain_writer(work, ics_all, sync=False))),
                    ("same bytes, each fsync'd", best(r, plain_writer(work, ics_all, sync=True))),
                ],
            ),
            (
                "JSON (schedule_to_json + json.dumps)",
                best(r, lambda: json.dumps(schedule_to_json(schedule), ensure_ascii=False)),
                [],
            ),
            (
                "Excel (schedule_to_xlsx), once",
                best(1, partial(schedule_to_xlsx, schedule, org)),
                [],
            ),
        ]
        by_hand = with_icalendar(schedule, org)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"| {'measure':<44} | {'seconds':>8} | {'visits/s':>10} | {'x limit':>7} |")
    print(f"|{'-' * 46}|{'-' * 9}:|{'-' * 11}:|{'-' * 8}:|")
    for name, seconds, limits in measures:
        print(f"| {name:<44} | {seconds:8.3f} | {n / seconds:10,.0f} | {'':>7} |")
        for what, limit in limits:
            label = f"  limit: {what}"
            print(f"| {label:<44} | {limit:8.3f} | {n / limit:10,.0f} | {seconds / limit:7.1f} |")
    print(
        f"\nthe icalendar package, one Event per visit (add + to_ical), once: {by_hand:.3f} s "
        f"({n / by_hand:,.0f} visits/s)"
    )
    goal_csv, goal_ics = measures[1][1], measures[3][1]
    verdict = "met" if max(goal_csv, goal_ics) < GOAL_SECONDS else "NOT met"
    print(
        f"goal: {n:,} visits to CSV ({goal_csv:.3f} s) and to iCalendar files "
        f"({goal_ics:.3f} s) each < {GOAL_SECONDS:.0f} s: {verdict}"
    )
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
