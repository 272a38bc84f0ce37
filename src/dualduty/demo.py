"""``dualduty demo``: the whole system on the reference organisation, in one command.

:func:`run_demo` does a bureau's year from end to end, through the public API only:

1. builds the reference organisation (:func:`dualduty.reference_organisation`) with the
   schools asked for and writes it as ``organisation.toml``;
2. checks its responsibility coverage (一岗双责, :func:`dualduty.coverage.analyse`);
3. plans the school packages (分包学校, :func:`dualduty.planning.plan_packages`);
4. plans the year's schedule (:func:`dualduty.planning.plan_schedule`) and writes it as
   ``schedule.csv`` and ``schedule.ics``; the schedule follows the mid-year
   reorganisation (:func:`dualduty.simulate.reorganised`), so the moved package's visits
   fall to the section holding it on their day;
5. simulates the year's work into the store (:func:`dualduty.simulate.simulate_year`):
   inspections, hazards and their rectification, incidents, activities, meetings,
   quarterly reports, pledges, targets and training, and the changes of responsibility
   (责任变更) of 30 June (:func:`dualduty.simulate.reorganisation`: a package moved to
   another section, a section head's post handed to a newcomer), which the assessment
   reads to charge each event to whoever answered for it that day;
6. delivers the notifications the year queued through the ``console`` channel
   (:class:`dualduty.notify.dispatch.Dispatcher`) into ``notifications.log``;
7. assesses the year (:func:`dualduty.scoring.assess`), publishes the assessment as the
   office and prints the ranking and the excellent sections (优秀科室);
8. writes the year report, ``report.html`` (:func:`dualduty.reports.html.write_year_report`).

Everything goes into one directory; the store is ``dualduty.db`` there (SQLite) unless a
store URL is given. The same seed gives the same records, ranking and report.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from dualduty.errors import DualdutyError

if TYPE_CHECKING:
    from dualduty.model import Organisation
    from dualduty.scoring import YearAssessment

__all__ = ["DemoResult", "run_demo"]

#: The file names the demo writes into its directory.
FILES = {
    "db": "dualduty.db",
    "organisation": "organisation.toml",
    "csv": "schedule.csv",
    "ics": "schedule.ics",
    "log": "notifications.log",
    "report": "report.html",
}


@attrs.frozen
class DemoResult:
    """What the demo did.

    :param out: the directory it wrote into.
    :param db: the store's URL.
    :param schools: how many schools.
    :param records: how many records the year left in the store.
    :param gaps: coverage gaps found (errors, warnings).
    :param visits: dedicated inspections scheduled.
    :param notifications: notifications delivered (queued, delivered, dead).
    :param assessment: the year's assessment.
    :param publication: the ``seq`` of its publication.
    :param seconds: how long each step took, by step.
    :param changes: the changes of responsibility recorded (责任变更: a package moved, a
        post handed over).
    """

    out: Path
    db: str
    schools: int
    records: int
    gaps: tuple[int, int]
    visits: int
    notifications: tuple[int, int, int]
    assessment: YearAssessment
    publication: int
    seconds: dict[str, float]
    changes: int = 0


class _Steps:
    """Prints each step as it goes; shows a progress bar (rich) on the long ones."""

    def __init__(self, say: Callable[[str], None], progress: bool) -> None:
        self.say = say
        self.progress = progress
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, name: str, what: str) -> Iterator[None]:
        began = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - began
        self.say(f"{what} ({self.seconds[name]:.1f} s)")

    @contextlib.contextmanager
    def bar(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        """A progress bar to *total*; yields a function that sets how far it got."""
        if not self.progress:
            yield lambda _n: None
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n: bar.update(task, completed=n)


def run_demo(
    out: str | os.PathLike[str],
    *,
    db: str | None = None,
    year: int = 2026,
    schools: int | None = None,
    seed: int = 0,
    say: Callable[[str], None] = print,
    progress: bool = False,
    reorganise: bool = True,
) -> DemoResult:
    """Run the demo into the directory *out* (created if missing; the demo's own files in
    it are replaced).

    :param db: the store's URL (default: ``sqlite:///<out>/dualduty.db``, made afresh). A
        store given by URL must be empty.
    :param year: the year simulated (dualduty ships holidays for 2004–2026).
    :param schools: how many schools (default: the reference organisation's 120).
    :param seed: the seed of the organisation's roster and of the simulated year.
    :param say: where to print what happens.
    :param progress: show progress bars (rich) on the long steps.
    :param reorganise: record the mid-year changes of responsibility
        (:func:`dualduty.simulate.reorganisation`) and plan the schedule with them.
    :raises dualduty.DualdutyError: if the store is not empty, or a step fails.
    """
    import dualduty
    from dualduty.calendars import calendar_for
    from dualduty.coverage import analyse
    from dualduty.io import dump, schedule_to_ics, write_schedule_csv
    from dualduty.io._schedule._common import write_file
    from dualduty.planning import plan_packages, plan_schedule, visits_per_day_needed
    from dualduty.simulate import reorganised, simulate_year
    from dualduty.storage import open_store

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    steps = _Steps(say, progress)
    zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    stamp = dt.datetime(year + 1, 1, 10, 9, tzinfo=zone)  # the year-end assessment's day

    with steps.step("organisation", "organisation: the reference bureau"):
        kwargs: dict[str, Any] = {"seed": seed}
        if schools is not None:
            kwargs["schools"] = schools
        org = dualduty.reference_organisation(**kwargs)
    with steps.step("coverage", "coverage (一岗双责) checked"):
        report = analyse(org)
    say(
        f"  {len(org.units)} units, {len(org.schools)} schools; coverage: "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    )
    with steps.step("packages", "packages (分包学校) planned"):
        plan = plan_packages(org, seed=seed)
        org = plan.organisation
    say(f"  balance: max load {plan.quality.max_load_over_lower_bound:.3f} × the lower bound")
    with steps.step("schedule", f"schedule {year} planned"):
        calendar = calendar_for(org, [year])

        def dated() -> Organisation:  # the organisation the year's schedule is planned from
            return reorganised(org, year) if reorganise else org

        need = visits_per_day_needed(dated(), calendar, year)
        if need > org.rules.visits_per_inspector_per_day:
            say(f"  allowing {need} visits an inspector a day (the packages need it)")
            org = attrs.evolve(
                org, rules=attrs.evolve(org.rules, visits_per_inspector_per_day=need)
            )
        dump(org, folder / FILES["organisation"])
        schedule = plan_schedule(dated(), calendar, year)
        write_schedule_csv(schedule, folder / FILES["csv"], org)
        ics = schedule_to_ics(
            schedule, org, stamp=stamp, people=False, units=False, everything=True
        )
        write_file(folder / FILES["ics"], ics["schedule.ics"])
    say(
        f"  {len(schedule.visits)} dedicated inspections, {len(schedule.meetings)} meetings, "
        f"{len(schedule.deadlines)} report deadlines"
    )

    url, fresh = _store_url(folder, db)
    try:
        with open_store(url) as store:
            if len(store):
                raise DualdutyError(f"the demo needs an empty store; {url} holds {len(store)}")
            with steps.step("year", f"year {year} simulated"):
                days = 366 if year % 4 == 0 else 365
                with steps.bar(f"simulating {year}", days) as advance:
                    simulation = simulate_year(
                        store,
                        org,
                        schedule,
                        seed=seed,
                        progress=lambda day: advance(day.timetuple().tm_yday),
                        reorganise=reorganise,
                    )
            records = len(store)
            n = simulation.changes
            changed = f", {n} changes of responsibility (责任变更 {n} 项)" if n else ""
            say(f"  {records:,} records from {simulation.commands:,} commands{changed}")
            with steps.step("notify", "notifications delivered (console channel)"):
                sent = _dispatch(store, folder / FILES["log"])
            say(f"  {sent[1]:,} of {sent[0]:,} delivered, {sent[2]} dead → {FILES['log']}")
            with steps.step("assess", "year-end assessment (年终考核) made and published"):
                from dualduty.plugins import Hooks, make_plugin_manager
                from dualduty.scoring import assess
                from dualduty.scoring.publish import publish

                hooks = Hooks(make_plugin_manager(entry_points=False))
                result = assess(store, org, year, schedule=schedule, now=stamp, hooks=hooks)
                heads = sorted(dualduty.OrgGraph(org).office_heads())
                if not heads:
                    raise DualdutyError("the reference bureau's office has nobody to publish")
                published = publish(store, result, actor=heads[0], at=stamp)
            _ranking(result, say)
            with steps.step("report", f"year report written → {FILES['report']}"):
                from dualduty.reports.html import write_year_report

                write_year_report(
                    folder / FILES["report"], store, org, year, now=stamp, schedule=schedule,
                    hooks=hooks,
                )  # fmt: skip
        if fresh is not None:
            os.replace(fresh, folder / FILES["db"])
            url = f"sqlite:///{folder / FILES['db']}"
    finally:
        if fresh is not None:
            with contextlib.suppress(FileNotFoundError):
                fresh.unlink()
    say(f"written to {folder}: {', '.join(n for k, n in FILES.items() if k != 'db' or fresh)}")
    return DemoResult(
        out=folder,
        db=url,
        schools=len(org.schools),
        records=records,
        gaps=(len(report.errors), len(report.warnings)),
        visits=len(schedule.visits),
        notifications=sent,
        assessment=result,
        publication=published.seq,
        seconds=steps.seconds,
        changes=simulation.changes,
    )


def _store_url(folder: Path, db: str | None) -> tuple[str, Path | None]:
    """The store to fill, and the file to move into place when it is the demo's own."""
    if db is not None:
        return db, None
    fresh = folder / f".{FILES['db']}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        fresh.unlink()
    return f"sqlite:///{fresh}", fresh


def _dispatch(store: Any, log: Path) -> tuple[int, int, int]:
    """Deliver every queued notification through the console channel into *log*:
    (queued, delivered, dead)."""
    from dualduty.notify.channels import CONSOLE_LOGGER
    from dualduty.notify.dispatch import Dispatcher
    from dualduty.plugins import Hooks, make_plugin_manager

    channels = Hooks(make_plugin_manager(entry_points=False)).channels()
    logger = logging.getLogger(CONSOLE_LOGGER)
    handler = logging.FileHandler(log, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    queued = len(store.outbox(state=None))
    delivered = dead = 0
    try:
        dispatcher = Dispatcher(store, channels, batch=1_000)
        while True:
            done = dispatcher.run_once()
            if not done.claimed:
                break
            delivered += done.delivered
            dead += done.dead
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.propagate = saved[0]
        logger.setLevel(saved[1])
    return queued, delivered, dead


def _ranking(result: YearAssessment, say: Callable[[str], None]) -> None:
    say(f"  ranking {result.year} ({result.rubric}):")
    for a in result.ranking:
        mark = "  ★ 优秀科室" if a.excellent else ("  一票否决" if a.vetoed else "")
        say(f"  {a.rank:>4}  {a.total:6.2f}  {a.grade:<3}  {a.name}{mark}")
    names = {a.unit: a.name for a in result.ranking}
    say(f"  excellent sections (优秀科室): {'、'.join(names[u] for u in result.excellent) or '-'}")
