"""A year of records through the services, and the compliance view over it (issue 6).

For each organisation size (``--sizes``; default the reference organisation as shipped,
120 schools, then 300 and 3,000 schools) a seeded generator plays a year of a bureau's
work against the year's schedule (``plan_schedule``), in date order, into a fresh SQLite
store:

- dedicated inspections (``Inspections.record``) for most scheduled visits: most on the
  planned day, some moved within the quarter, some after it (late), some never (missed);
  ad hoc inspections beside them;
- the hazards those inspections find, through their closed loop with the ``Hazards``
  service (found, registered, planned, claimed, re-inspected — now and then sent back —
  and closed); a few are left open, some closed after their deadline;
- topic studies, coordination meetings and the summary meeting (``Meetings.held``), most as
  scheduled, a few not held;
- the sections' quarterly reports with the ``Reports`` service, most on time, some late,
  a few missing.

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
import contextlib
import datetime as dt
import heapq
import itertools
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from orgs import make_organisation
from timing import median_seconds, sig, verdict

from dualduty.calendars import calendar_for
from dualduty.graph import OrgGraph
from dualduty.model import MeetingKind, Organisation, Schedule, Visit
from dualduty.model.enums import SECTION_KINDS
from dualduty.planning import plan_schedule
from dualduty.records import Hazards, Inspections, Meetings, Recorder, Reports, Severity
from dualduty.records.compliance import Compliance, compliance
from dualduty.records.hazards import HAZARD_KINDS
from dualduty.storage import Store, open_store

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

FINDINGS = (
    "消防通道堆放杂物",
    "灭火器过期未更换",
    "食堂留样记录不全",
    "宿舍私拉电线",
    "实验室危化品台账不清",
    "围墙局部开裂",
    "监控探头损坏",
    "校车安全带缺失",
    "楼梯扶手松动",
    "应急照明失效",
)
MAJOR_FINDINGS = ("教学楼外墙瓷砖空鼓脱落", "配电房线路老化存在火灾隐患", "校舍屋面渗漏危及结构")
TOPICS = (
    "研究本季度学校安全稳定工作",
    "部署分包学校专项督查",
    "研究校园食品安全",
    "研究防溺水工作",
)


# -- the generator ---------------------------------------------------------------------------


class Year:
    """A seeded year of one organisation's work, played through the services into a store.

    :param org: the organisation.
    :param schedule: its schedule for :data:`YEAR`.
    :param seed: the seed; two runs with the same seed append the same records.
    """

    def __init__(self, org: Organisation, schedule: Schedule, seed: int = 0) -> None:
        self.org = org
        self.schedule = schedule
        self.rng = random.Random(seed)
        self.zone = zoneinfo.ZoneInfo(org.timezone)
        self.graph = OrgGraph(org)
        self.year_end = dt.datetime(YEAR + 1, 1, 1, tzinfo=self.zone)
        self._heap: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self._n = itertools.count()
        self.commands = 0
        self.transactions = 0
        self.day_ends: list[int] = []
        """The ``seq`` after each transaction (to replay the same transactions)."""

    # people --------------------------------------------------------------------------------

    def person(self, post_id: str) -> str:
        """The holder of a post."""
        holder = self.graph.post(post_id).holder
        assert holder is not None, post_id
        return holder

    def section_people(self, school_id: str) -> tuple[str, list[str]]:
        """The head and the staff of the school's first section."""
        unit = self.graph.sections_for(school_id)[0]
        head = self.graph.head_of(unit.id)
        assert head is not None
        assert head.holder is not None
        staff = [p.holder for p in unit.posts if p.holder is not None and p.id != head.id]
        return head.holder, staff or [head.holder]

    # scheduling events ---------------------------------------------------------------------

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)

    def later(self, when: dt.datetime, days: int, hour: int) -> dt.datetime:
        day = (when + dt.timedelta(days=days)).date()
        return self.at(day, hour, self.rng.randrange(60))

    def push(self, when: dt.datetime, action: Callable[[], None]) -> None:
        if when < self.year_end:
            heapq.heappush(self._heap, (when, next(self._n), action))

    def plan_events(self, recorder: Recorder) -> None:
        """Put the year's first events on the heap (follow-ups are pushed as they happen)."""
        rng = self.rng
        inspections, meetings, reports = recorder.inspections, recorder.meetings, recorder.reports
        for visit in self.schedule.visits:
            r = rng.random()
            if r < 0.06:
                continue  # missed
            day = visit.date
            if r < 0.09:  # moved within its quarter, or after it (late)
                day = day + dt.timedelta(days=rng.randrange(3, 25))
            when = self.at(day, 9 + rng.randrange(8), rng.randrange(60))
            self.push(when, self.inspection(inspections, visit, when))
        for school in self.org.schools:  # ad hoc inspections: about one a school in two years
            if rng.random() < 0.5:
                packages = self.graph.packages_of(school.id)
                package = rng.choice(packages)
                day = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365))
                when = self.at(day, 14, rng.randrange(60))
                doers = package.staff or (package.holder,)
                adhoc = Visit(
                    "adhoc",
                    school.id,
                    package.holder,
                    day,
                    (day.month - 1) // 3 + 1,
                    doers,
                    announced=rng.random() < 0.5,
                )
                self.push(when, self.inspection(inspections, adhoc, when, ad_hoc=True))
        for meeting in self.schedule.meetings:
            if rng.random() < 0.05 and meeting.kind is MeetingKind.TOPIC_STUDY:
                continue  # not held
            when = self.at(meeting.date, 15, rng.randrange(60))
            self.push(when, self.meeting(meetings, meeting.id, meeting.kind, meeting.unit, when))
        self.plan_duties(meetings)
        for deadline in self.schedule.deadlines:
            r = rng.random()
            if r < 0.04:
                continue  # missing
            shift = -rng.randrange(0, 4) if r < 0.88 else rng.randrange(1, 15)
            when = self.at(deadline.due + dt.timedelta(days=shift), 16, rng.randrange(60))
            self.push(when, self.report(reports, deadline.unit, deadline.quarter or 1, when))

    def plan_duties(self, meetings: Meetings) -> None:
        """The year's pledges (95% signed in January or February), each section's annual
        targets (90% with school safety, set in January) and one safety training per
        section in spring (90% held; each person takes part with a chance of 90%)."""
        rng = self.rng
        leader = self.graph.leader()
        assert leader is not None
        for post in meetings.unsigned(YEAR):
            if rng.random() < 0.95 and post.id != leader.id and post.holder is not None:
                day = dt.date(YEAR, 1 + rng.randrange(2), 1 + rng.randrange(28))
                when = self.at(day, 10, rng.randrange(60))
                self.push(when, self.pledge(meetings, post.id, leader.id, post.holder, when))
        for unit in self.org.units:
            if unit.kind not in SECTION_KINDS:
                continue
            people = sorted({p.holder for p in unit.posts if p.holder is not None})
            if not people:
                continue
            if rng.random() < 0.9:
                when = self.at(dt.date(YEAR, 1, 10 + rng.randrange(20)), 11, rng.randrange(60))
                self.push(when, self.targets(meetings, unit.id, people[0], when))
            if rng.random() < 0.9:
                day = dt.date(YEAR, 3 + rng.randrange(3), 1 + rng.randrange(28))
                came = [p for p in people if rng.random() < 0.9] or people[:1]
                when = self.at(day, 14, rng.randrange(60))
                self.push(when, self.training(meetings, unit.id, people[0], came, when))

    # the commands ----------------------------------------------------------------------------

    def pledge(
        self, meetings: Meetings, post: str, counterpart: str, holder: str, when: dt.datetime
    ) -> Callable[[], None]:
        def run() -> None:
            meetings.sign(YEAR, post, counterpart, actor=holder, date=when.date(), at=when)
            self.commands += 1

        return run

    def targets(
        self, meetings: Meetings, unit: str, actor: str, when: dt.datetime
    ) -> Callable[[], None]:
        def run() -> None:
            safety = ["分包学校安全稳定工作与业务工作同部署、同检查、同考核、同奖惩"]
            meetings.set_targets(unit, YEAR, actor=actor, safety=safety, date=when.date(), at=when)
            self.commands += 1

        return run

    def training(
        self, meetings: Meetings, unit: str, actor: str, people: list[str], when: dt.datetime
    ) -> Callable[[], None]:
        def run() -> None:
            meetings.train(
                unit, when.date(), "学习校园安全法规", actor=actor, hours=2, trainees=people,
                at=when,
            )  # fmt: skip
            self.commands += 1

        return run

    def inspection(
        self,
        inspections: Inspections,
        visit: Visit,
        when: dt.datetime,
        *,
        ad_hoc: bool = False,
    ) -> Callable[[], None]:
        def run() -> None:
            rng = self.rng
            inspectors = tuple(dict.fromkeys(self.person(p) for p in visit.inspectors))
            findings: list[tuple[str, Severity | None]] = []
            r = rng.random()
            major = r < 0.006
            if r < 0.19:
                text = rng.choice(MAJOR_FINDINGS if major else FINDINGS)
                findings.append((text, Severity.MAJOR if major else Severity.GENERAL))
            elif r < 0.45:
                findings.append(("安全台账齐全，值班记录完整", None))
            done = inspections.record(
                visit.school,
                actor=inspectors[0],
                holder=visit.holder,
                date=when.date(),
                inspectors=inspectors,
                visit=None if ad_hoc else visit.id,
                announced=visit.announced,
                findings=findings,
                summary="分包学校专门督查" if not ad_hoc else "随机督查",
                at=when,
            )
            for finding in done.findings:
                if finding.hazard is not None:
                    self.hazard_loop(inspections.hazards, finding.hazard, visit.school, major, when)
            self.commands += 1

        return run

    def hazard_loop(
        self, hazards: Hazards, hazard_id: str, school: str, major: bool, found: dt.datetime
    ) -> None:
        rng = self.rng
        head, staff = self.section_people(school)
        office = sorted(hazards.office_members())
        office_heads = sorted(hazards.desk.office_heads())
        registrar = next(p for p in office if p not in office_heads)

        def cmd(fn: Callable[..., Any], **kw: Any) -> Callable[[], None]:
            def run() -> None:
                fn(hazard_id, **kw)
                self.commands += 1

            return run

        registered = self.later(found, 1, 9)
        self.push(registered, cmd(hazards.register, actor=registrar, at=registered))
        planned = self.later(registered, 2, 10)
        limit = (found + dt.timedelta(days=60 if major else 20)).date()
        measures = ["限期整改", "专人负责"]
        safeguards = ["设置警戒区", "加强巡查"] if major else []
        self.push(
            planned,
            cmd(
                hazards.plan,
                actor=head,
                measures=measures,
                responsible=head,
                time_limit=limit,
                safeguards=safeguards,
                at=planned,
            ),
        )
        r = rng.random()
        if r < 0.05:
            return  # left open
        base = rng.randrange(30, 80) if major else rng.randrange(5, 25)
        if r < 0.15:
            base += rng.randrange(20, 50)  # closed after its deadline
        claimer = rng.choice(staff)
        reinspector = next(p for p in reversed(office) if p not in (claimer, *office_heads))
        claimed = self.later(planned, base, 11)
        self.push(claimed, cmd(hazards.claim, actor=claimer, at=claimed))
        checked = self.later(claimed, 2, 10)
        if rng.random() < 0.05:  # sent back once
            self.push(
                checked,
                cmd(
                    hazards.reinspect,
                    actor=reinspector,
                    accepted=False,
                    notes="整改不到位",
                    at=checked,
                ),
            )
            claimed = self.later(checked, 7, 11)
            self.push(claimed, cmd(hazards.claim, actor=claimer, at=claimed))
            checked = self.later(claimed, 2, 10)
        self.push(checked, cmd(hazards.reinspect, actor=reinspector, accepted=True, at=checked))
        closed = self.later(checked, 1, 15)
        self.push(closed, cmd(hazards.close, actor=office_heads[0], notes="复查合格", at=closed))

    def meeting(
        self,
        meetings: Meetings,
        scheduled: str,
        kind: MeetingKind,
        unit: str,
        when: dt.datetime,
    ) -> Callable[[], None]:
        def run() -> None:
            desk = meetings.desk
            if kind is MeetingKind.TOPIC_STUDY:
                attendees = sorted(desk.unit_members(unit))
            else:
                attendees = sorted(desk.office_members())
            meetings.held(
                kind,
                unit,
                when.date(),
                self.rng.choice(TOPICS),
                actor=attendees[0],
                attendees=attendees,
                scheduled=scheduled,
                at=when,
            )
            self.commands += 1

        return run

    def report(
        self, reports: Reports, unit: str, quarter: int, when: dt.datetime
    ) -> Callable[[], None]:
        def run() -> None:
            head = self.graph.head_of(unit)
            assert head is not None
            assert head.holder is not None
            name = self.graph.unit(unit).name
            title = f"{name}{YEAR}年第{quarter}季度学校安全工作报告"
            reports.submit(
                unit,
                YEAR,
                quarter,
                actor=head.holder,
                title=title,
                text=f"# {title}\n\n本季度分包学校督查情况良好。",
                at=when,
            )
            self.commands += 1

        return run

    # playing the year ------------------------------------------------------------------------

    def play(self, store: Store, per_transaction: int = 1_000) -> None:
        """Append the year to *store*: one transaction per day, or per *per_transaction*
        commands."""
        recorder = Recorder(store, self.org, schedule=self.schedule)
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
                    stack.enter_context(desk.batch())
                    day, in_tx = when.date(), 0
                action()
                in_tx += 1
        self._committed(store)

    def _committed(self, store: Store) -> None:
        seq = store.head()[0]
        if seq and (not self.day_ends or self.day_ends[-1] != seq):
            self.day_ends.append(seq)
            self.transactions += 1


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


def print_table(table: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[col]) for row in table) for col in range(len(table[0]) - 1)]
    for n, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:-1], widths[1:], strict=True)
        ]
        print("  ".join([*cells, row[-1]]))
        if n == 0:
            print("-" * (sum(widths) + 2 * len(widths) + 24))


@contextlib.contextmanager
def workdir(base: Path | None, keep: bool) -> Iterator[Path]:
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-records-", dir=base))
    try:
        yield folder
    finally:
        if keep:
            print(f"files kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


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
    with workdir(args.dir, args.keep) as folder:
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
