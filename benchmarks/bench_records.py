"""A year of records through the services, and the compliance view over it (issue 6).

For each organisation size (``--sizes``; default the reference organisation as shipped,
120 schools, then 300 and 3,000 schools) dualduty's seeded simulation of a year
(``dualduty.simulate``, the demo's year) plays a bureau's work against the year's
schedule (``plan_schedule``), in date order, into a fresh SQLite store:

- dedicated inspections (``Inspections.record``) for most scheduled visits: most on the
  planned day, some moved within the quarter, some after it (late), some never (missed);
  ad hoc inspections beside them;
- the hazards those inspections find, through their closed loop with the ``Hazards``
  service (found, registered, planned, claimed, re-inspected — now and then sent back —
  and closed); a few are left open, some closed after their deadline;
- topic studies, coordination meetings and the summary meeting (``Meetings.held``), most as
  scheduled, a few not held;
- the sections' quarterly reports with the ``Reports`` service, most on time, some late,
  a few missing;
- incidents with their reports, activities with their safety plans, the year's pledges,
  annual targets and staff training.

Commands go through one ``Desk``: one transaction per day, or per 1,000 commands.
Every command goes through the services of one ``Recorder`` (``Inspections``, ``Hazards``,
``Meetings``, ``Reports``), which check who may act and read what they need inside the
transaction, as they do for their users. The
organisation is the seeded reference bureau (``orgs.make_organisation``), allowing as
many visits an inspector a day as its packages need (its six leading-group members
package 500 schools each at 3,000).

Three measures, each beside a practical reference measured in the same run:

(a) appending the year: the generator's commands (choosing them is timed too, a few
    hundredths of a second). Reference:
    ``Store.extend`` of the same records, in the same transactions, into a fresh store.
    Goal (3,000 schools, about 100,000 records): < 30 s.
(b) the compliance view over it (``compliance(store, org, schedule)``), median of
    ``--repeat``. References: ``Store.read`` of the same record kinds into typed entries,
    and plain ``sqlite3`` fetching the same rows. Goal (3,000 schools): < 2 s.
(c) the compliance view of the reference organisation (120 schools). Goal: < 0.2 s.

Building the schedule and the organisation is not timed. The files go to a temporary
directory (or ``--dir``), removed unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sqlite3
import sys
import time
import zoneinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from orgs import make_organisation
from timing import median_seconds, print_table, sig, verdict, workdir

from dualduty.calendars import calendar_for
from dualduty.model import Organisation, Schedule
from dualduty.planning import plan_schedule
from dualduty.records.compliance import Compliance, compliance
from dualduty.records.hazards import HAZARD_KINDS
from dualduty.simulate import YearSimulation
from dualduty.storage import open_store

YEAR = 2026
#: The reference organisation as dualduty ships it (``dualduty.reference_organisation()``,
#: ``dualduty reference``): 120 schools.
REFERENCE_SCHOOLS = 120
#: A larger bureau between the two, reported without a goal.
MIDDLE = 300
GOAL_APPEND_SECONDS = 30.0
GOAL_VIEW_SECONDS = 2.0
GOAL_REFERENCE_SECONDS = 0.2
#: The largest size of the run is the one the 30 s and 2 s goals are for.
BIG = 3_000

# The year itself is dualduty's own simulation (the demo's year): dualduty.simulate.
Year = YearSimulation


# -- the measures -------------------------------------------------------------------------------


def organisation(schools: int) -> tuple[Organisation, Schedule]:
    """The seeded bureau of *schools* schools, with as many visits an inspector a day as its
    packages need (``bench_schedule.with_capacity``), and its schedule for :data:`YEAR`
    (not timed)."""
    from bench_schedule import with_capacity

    org = make_organisation(schools, 0)
    cal = calendar_for(org, [YEAR])
    org = with_capacity(org, cal)
    return org, plan_schedule(org, cal, YEAR)


def appending(folder: Path, org: Organisation, schedule: Schedule) -> tuple[float, float, Year]:
    """(seconds through the services, seconds for Store.extend of the same records, year)."""
    path = folder / f"year-{len(org.schools)}.db"
    year = Year(org, schedule, seed=len(org.schools))
    with open_store(f"sqlite:///{path}") as store:
        start = time.perf_counter()
        year.play(store)
        t_services = time.perf_counter() - start
        records = [e.record for e in store.read()]
    # the same records, in the same transactions, through Store.extend
    with open_store(f"sqlite:///{folder / f'extend-{len(org.schools)}.db'}") as plain:
        cuts = [0, *year.day_ends]
        start = time.perf_counter()
        for a, b in itertools.pairwise(cuts):
            plain.extend(records[a:b])
        t_extend = time.perf_counter() - start
        assert len(plain) == len(records)
    return t_services, t_extend, year


def viewing(
    folder: Path, org: Organisation, schedule: Schedule, repeat: int
) -> tuple[float, float, float, int, dict[str, int]]:
    """(compliance s, Store.read s, plain sqlite3 s, rows read, a few figures)."""
    path = folder / f"year-{len(org.schools)}.db"
    zone = zoneinfo.ZoneInfo(org.timezone)
    now = dt.datetime(YEAR + 1, 1, 1, tzinfo=zone)
    kinds = (
        "inspection",
        "meeting-held",
        "report-submitted",
        *(k.__record_kind__ for k in HAZARD_KINDS),
    )
    with open_store(f"sqlite:///{path}", readonly=True) as store:
        figures = summary(compliance(store, org, schedule, now=now))
        # timed without a view kept from before: a process computes the view it needs
        t_view = median_seconds(lambda: compliance(store, org, schedule, now=now), repeat)

        def typed() -> int:
            return sum(1 for k in kinds for _ in store.read(kind=k, until=now))

        rows = typed()
        t_read = median_seconds(typed, repeat)
    until_ts = int(now.timestamp() * 1_000_000)
    marks = ",".join("?" * len(kinds))
    sql = f"SELECT seq, body FROM records WHERE kind IN ({marks}) AND ts < ? ORDER BY seq"
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert len(raw.execute(sql, (*kinds, until_ts)).fetchall()) == rows
        t_raw = median_seconds(lambda: raw.execute(sql, (*kinds, until_ts)).fetchall(), repeat)
    finally:
        raw.close()
    return t_view, t_read, t_raw, rows, figures


def summary(view: Compliance) -> dict[str, int]:
    """A few of the year's figures, to show the generated year is realistic."""
    year = [r for r in view.sections if r.quarter is None]
    return {
        "visits due": len(view.visits),
        "done": sum(len(r.visits.done) for r in view.holders if r.quarter is None),
        "late": sum(len(r.visits.late) for r in view.holders if r.quarter is None),
        "missed": sum(len(r.visits.missed) for r in view.holders if r.quarter is None),
        "ad hoc": len(view.ad_hoc),
        "hazards": len(view.hazards),
        "open at year end": sum(1 for h in view.hazards if h.open),
        "reports late": sum(1 for r in view.reports if r.status == "late"),
        "reports missing": sum(1 for r in view.reports if r.status == "missing"),
        "topic-study quotas short": sum(1 for r in year if r.topic_studies.status == "short"),
    }


# -- printing ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[REFERENCE_SCHOOLS, MIDDLE, BIG], help="schools"
    )
    parser.add_argument("--repeat", type=int, default=5, help="compliance views, median of")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where the files go (default: a temporary one)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database files")
    args = parser.parse_args()

    began = time.perf_counter()
    table: list[tuple[str, ...]] = [("measure", "dualduty", "reference", "ratio", "goal")]
    notes = []
    with workdir(args.dir, args.keep, "bench-records-") as folder:
        for schools in args.sizes:
            org, schedule = organisation(schools)
            print(f"{schools:,} schools: {len(schedule.visits):,} visits scheduled; appending …")
            t_services, t_extend, year = appending(folder, org, schedule)
            print(f"{schools:,} schools: the compliance view …")
            t_view, t_read, t_raw, rows, figures = viewing(folder, org, schedule, args.repeat)
            records = year.day_ends[-1]
            big = schools == max(args.sizes) and schools >= BIG
            table.append(
                (
                    f"(a) {schools:,} schools: append {records:,} records, "
                    f"{year.transactions} tx (s) vs Store.extend",
                    sig(t_services),
                    sig(t_extend),
                    f"{t_services / t_extend:.1f}x",
                    f"< {GOAL_APPEND_SECONDS:.0f} s: {verdict(t_services < GOAL_APPEND_SECONDS)}"
                    if big
                    else f"({sig(records / t_services)} records/s)",
                )
            )
            if schools == REFERENCE_SCHOOLS:
                goal = f"< {GOAL_REFERENCE_SECONDS} s: {verdict(t_view < GOAL_REFERENCE_SECONDS)}"
            elif big:
                goal = f"< {GOAL_VIEW_SECONDS:.0f} s: {verdict(t_view < GOAL_VIEW_SECONDS)}"
            else:
                goal = ""
            label = "(c)" if schools == REFERENCE_SCHOOLS else "(b)"
            table.append(
                (
                    f"{label} {schools:,} schools: compliance view (s) vs Store.read of "
                    f"{rows:,} records",
                    sig(t_view),
                    sig(t_read),
                    f"{t_view / t_read:.1f}x",
                    goal,
                )
            )
            table.append(
                (
                    f"    {schools:,} schools: the same rows with plain sqlite3 (s)",
                    "",
                    sig(t_raw),
                    f"{t_view / t_raw:.1f}x",
                    "",
                )
            )
            notes.append(
                f"{schools:,} schools: {year.commands:,} commands; "
                + ", ".join(f"{k} {v:,}" for k, v in figures.items())
            )
    print(f"\nSQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
    print_table(table)
    print("ratio: dualduty's time over the reference's.")
    for note in notes:
        print(note)
    print(f"whole run {sig(time.perf_counter() - began)} s")


if __name__ == "__main__":
    main()
