"""Routing a year of notifications (issue 8): the records' events and the daily reminders.

For each organisation size (``--sizes``; default the reference organisation as shipped,
120 schools, and 3,000 schools) the seeded year of ``bench_records.py`` is played through
the services into a fresh SQLite store (not timed). While it plays:

- every event a service routes (a major hazard found, an escalation, a quarterly report
  submitted) goes through a router that adds up the time it spends
  (``Router.route``, the default routes of the plan through ``console``);
- each morning at 07:00, before that day's records, the reminders are asked what is due
  (``Reminders.take``: rectifications due within 3 days, overdue hazards — weekly, the
  default, or every ``--overdue-every`` days —, the next working day's visits and meetings,
  quarter reports due within 5 working days), as a watcher process running all year
  would: each call reads the records appended since the one before, folds the hazards they
  change, works out what is due and routes what it has not handed out before (a visit due
  on Monday is due all weekend: routed once). Its router adds up its time too. The
  messages are written to the outbox (timed apart: storage, not routing).

Then the record events collected during the year are routed again with a fresh
``Router`` (timed alone: routing without the services around it).

Measures, beside a practical reference measured in the same run, ``Store.read`` of the
whole year into typed entries (what any process that looks at the year pays to read it
once):

(a) routing the year's events: the record events inside the services and the reminder
    events of the 365 runs. Goal (3,000 schools): < 5 s.
(b) the 365 reminder runs in full: reading the year's records day by day, folding its
    hazards, working out what is due, and routing it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import heapq
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).parent))

from bench_records import BIG, REFERENCE_SCHOOLS, YEAR, Year, organisation
from timing import median_seconds, print_table, sig, verdict, workdir

from dualduty.calendars import calendar_for
from dualduty.model import NotifySettings, Organisation, Route, Schedule
from dualduty.notify.reminders import Reminders
from dualduty.notify.routing import Event, Router
from dualduty.records import Desk, Recorder
from dualduty.storage import Store, open_store
from dualduty.storage.store import OutboxMessage

GOAL_SECONDS = 5.0


class TimedRouter(Router):
    """A router that adds up the time it spends and keeps the events it routed."""

    seconds = 0.0
    messages = 0

    def __init__(self, org: Organisation) -> None:
        super().__init__(org)
        self.events: list[Event] = []

    def route(
        self, event: Event, *, channel: str | None = None, routes: Sequence[Route] | None = None
    ) -> list[OutboxMessage]:
        start = time.perf_counter()
        out = super().route(event, channel=channel, routes=routes)
        self.seconds += time.perf_counter() - start
        self.messages += len(out)
        self.events.append(event)
        return out


class RoutedYear(Year):
    """``bench_records.Year`` with the services routing through a timed router and the
    reminders asked each morning."""

    def __init__(
        self, org: Organisation, schedule: Schedule, seed: int = 0, overdue_every: int = 0
    ) -> None:
        super().__init__(org, schedule, seed)
        self.router = TimedRouter(org)
        if overdue_every:  # overdue hazards reminded every so many days (default: weekly)
            settings = NotifySettings(routes=[Route("hazard-overdue", every_days=overdue_every)])
            org = attrs.evolve(org, notify=settings)
        self.reminder_router = TimedRouter(org)
        self.remind_seconds = 0.0
        self.write_seconds = 0.0
        self.reminders_queued = 0
        self._reminders: Reminders | None = None
        self._reminded = dt.date(YEAR, 1, 1) - dt.timedelta(days=1)

    def remind_until(self, store: Store, last: dt.date) -> None:
        """Ask the reminders each morning from the day after the last asked to *last*."""
        if self._reminders is None:
            calendar = calendar_for(self.org, [YEAR])
            self._reminders = Reminders(
                store, self.org, self.schedule, calendar=calendar, router=self.reminder_router
            )
        day = self._reminded + dt.timedelta(days=1)
        while day <= last:
            now = self.at(day, 7)
            start = time.perf_counter()
            messages = self._reminders.take(now)
            self.remind_seconds += time.perf_counter() - start
            start = time.perf_counter()
            with store.transaction() as tx:
                for message in messages:
                    tx.enqueue(message)
            self.write_seconds += time.perf_counter() - start
            self.reminders_queued += len(messages)
            day += dt.timedelta(days=1)
        self._reminded = last

    def play(
        self,
        store: Store,
        per_transaction: int = 1_000,
        progress: Callable[[dt.date], None] | None = None,
    ) -> None:
        """As ``Year.play``, with the reminders asked before each day's first record (and
        without progress reports)."""
        recorder = Recorder(store, self.org, schedule=self.schedule)
        recorder.desk = Desk(store, self.org, router=self.router)
        self.plan_events(recorder)
        desk = recorder.desk
        day: dt.date | None = None
        in_tx = 0
        with contextlib.ExitStack() as stack:
            while self._heap:
                when, _, action = heapq.heappop(self._heap)
                if when.date() != day or in_tx >= per_transaction:
                    stack.close()  # commits the batch before
                    self._committed(store)
                    self.remind_until(store, when.date())
                    stack.enter_context(desk.batch())
                    day, in_tx = when.date(), 0
                action()
                in_tx += 1
        self._committed(store)
        self.remind_until(store, dt.date(YEAR, 12, 31))


def run(folder: Path, schools: int, repeat: int, overdue_every: int) -> dict[str, float]:
    org, schedule = organisation(schools)
    print(f"{schools:,} schools: {len(schedule.visits):,} visits scheduled; playing the year …")
    path = folder / f"routing-{schools}.db"
    year = RoutedYear(org, schedule, seed=schools, overdue_every=overdue_every)
    with open_store(f"sqlite:///{path}") as store:
        start = time.perf_counter()
        year.play(store)
        t_play = time.perf_counter() - start
        outbox = len(store.outbox(state=None))
    events = year.router.events
    fresh = Router(org)

    def again() -> int:
        return sum(len(fresh.route(e)) for e in events)

    assert again() == year.router.messages
    assert outbox == year.router.messages + year.reminders_queued
    t_again = median_seconds(again, repeat)
    with open_store(f"sqlite:///{path}", readonly=True) as store:
        records = len(store)
        t_read = median_seconds(lambda: sum(1 for _ in store.read()), repeat)
    return {
        "records": records,
        "play": t_play,
        "record events": len(events),
        "record messages": year.router.messages,
        "record routing": year.router.seconds,
        "routing again": t_again,
        "reminders queued": year.reminders_queued,
        "reminders": year.remind_seconds,
        "reminder routing": year.reminder_router.seconds,
        "outbox writes": year.write_seconds,
        "read": t_read,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[REFERENCE_SCHOOLS, BIG], help="schools"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed re-runs, median of")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where the files go (default: a temporary one)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database files")
    parser.add_argument(
        "--overdue-every",
        type=int,
        default=0,
        help="remind overdue hazards every N days (default: the route's, weekly)",
    )
    args = parser.parse_args()

    began = time.perf_counter()
    table: list[tuple[str, ...]] = [("measure", "dualduty", "reference", "ratio", "goal")]
    notes = []
    with workdir(args.dir, args.keep, "bench-routing-") as folder:
        for schools in args.sizes:
            f = run(folder, schools, args.repeat, args.overdue_every)
            routing = f["record routing"] + f["reminder routing"]
            big = schools == max(args.sizes) and schools >= BIG
            read = f"Store.read of {f['records']:,.0f} records"
            rows = [
                (
                    f"(a) {schools:,} schools: routing the year's events (s) vs {read}",
                    sig(routing),
                    sig(f["read"]),
                    f"{routing / f['read']:.1f}x",
                    f"< {GOAL_SECONDS:.0f} s: {verdict(routing < GOAL_SECONDS)}" if big else "",
                ),
                (
                    f"    record events in the services: {f['record events']:,.0f} events, "
                    f"{f['record messages']:,.0f} messages",
                    sig(f["record routing"]),
                    "",
                    "",
                    "",
                ),
                ("    the same events routed again, alone", sig(f["routing again"]), "", "", ""),
                (
                    f"    reminder events: {f['reminders queued']:,.0f} messages",
                    sig(f["reminder routing"]),
                    "",
                    "",
                    "",
                ),
                (
                    f"(b) {schools:,} schools: 365 reminder runs in full (s) vs {read}",
                    sig(f["reminders"]),
                    sig(f["read"]),
                    f"{f['reminders'] / f['read']:.1f}x",
                    "",
                ),
            ]
            table.extend(rows)
            notes.append(
                f"{schools:,} schools: writing the reminders to the outbox, one transaction "
                f"a day, took {sig(f['outbox writes'])} s (storage, not routing)"
            )
            notes.append(
                f"{schools:,} schools: playing the year through the services took "
                f"{sig(f['play'])} s in all (not a measure of routing)"
            )
    print(f"\nSQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
    print_table(table)
    print("ratio: dualduty's time over the reference's.")
    print(
        "(b): each run reads the day's new records, folds the hazards they change, works out "
        "what is due and routes what it has not handed out before."
    )
    every = f"{args.overdue_every} days" if args.overdue_every else "7 days (the default)"
    print(f"Overdue hazards reminded every {every}.")
    for note in notes:
        print(note)
    print(f"whole run {sig(time.perf_counter() - began)} s")


if __name__ == "__main__":
    main()
