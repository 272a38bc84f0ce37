"""The organisation in force on a date, with a year of recorded changes (issue 11).

For each organisation size (``--sizes``; default the reference bureau with 300 and
3,000 schools) a seeded generator makes ``--changes`` (1,000) organisation changes
spread over 2026, in date order, each valid on its day (the generator follows the
organisation it is changing):

- people join (``PersonJoined``) and are given posts (``PostAssigned``);
- posts fall vacant and are filled again, some on the same day by a newcomer
  (``PostAssigned`` with and without a holder; the leader's post is never vacated);
- section packages move to another section, with that section's staff
  (``PackageChanged``), and schools move between two sections' packages (two
  ``PackageChanged`` the same day);
- 分管 reshuffles: a section passes from one leading-group post to another (two
  ``InChargeChanged`` the same day).

It times, against a :class:`~dualduty.records.Timeline` built from the changes directly:

- ``Timeline.as_of(day)`` for ``--dates`` (200) random days of the year: the median and
  the slowest; goal **< 50 ms each** with 1,000 changes;
- ``Timeline.dated()`` (every version of every package and in-charge edge, dated) and
  :func:`~dualduty.records.vacancies` over the year (each vacant period, what it
  uncovers day by day);

and against a SQLite store holding the same changes:

- recording them through ``Recorder(store, org).org_changes`` (``OrgChanges.record``:
  each change checked against the organisation on its day, appended in its own
  transaction): changes a second;
- ``Timeline.from_store`` (reading and decoding the changes) on a store just opened, and
  again (a store object remembers what was read of it and reads only what was appended
  since), and :func:`~dualduty.records.in_time` on a store just opened (what the
  compliance view and the assessment pay).

References measured in the same run: building an ``OrgGraph`` of the organisation (what
any question about it costs first), ``attrs.evolve(org, as_of=day)`` (the cheapest new
organisation), and loading and validating the district file (``dualduty.load``).

Run from the repository root::

    DUALDUTY_LOAD_PLUGINS= .venv/bin/python benchmarks/bench_timeline.py
    DUALDUTY_LOAD_PLUGINS= .venv/bin/python benchmarks/bench_timeline.py --sizes 300 --changes 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import attrs
from orgs import make_organisation
from timing import median_seconds, print_table, sig, verdict, workdir

import dualduty
from dualduty.model import SECTION_KINDS, Organisation, Role, UnitKind
from dualduty.records import Recorder, Timeline, in_time, vacancies
from dualduty.records.base import Record
from dualduty.records.timeline import (
    Change,
    ChangeData,
    InChargeChanged,
    PackageChanged,
    PersonJoined,
    PostAssigned,
)
from dualduty.storage import open_store

YEAR = 2026
GOAL_CHANGES = 1_000
GOAL_AS_OF_SECONDS = 0.050
ZONE = dt.timezone(dt.timedelta(hours=8))
RECORDED_AT = dt.datetime(YEAR, 1, 1, 9, tzinfo=ZONE)


class _World:
    """The organisation as the generator has changed it so far (what it needs to keep
    every change valid)."""

    def __init__(self, org: Organisation) -> None:
        self.holders = {p.id: p.holder for _, p in org.iter_posts()}
        self.leader = next(
            p.id
            for u, p in org.iter_posts()
            if u.kind is UnitKind.LEADING_GROUP and p.role is Role.LEADER
        )
        self.people = {p.id for p in org.people}
        self.sections = [u.id for u in org.units if u.kind in SECTION_KINDS]
        self.staff = {
            u.id: [p.id for p in u.posts if p.role is Role.STAFF]
            for u in org.units
            if u.kind in SECTION_KINDS
        }
        self.packages = {
            p.id: (p.holder, p.schools, p.staff) for p in org.packages if p.holder in self.staff
        }
        self.in_charge = {e.post: list(e.units) for e in org.in_charge}
        self.joined = 0

    def free(self) -> list[str]:
        """People who hold no post."""
        held = {h for h in self.holders.values() if h is not None}
        return sorted(self.people - held)


def generate(org: Organisation, n: int, seed: int = 0) -> list[Change]:
    """*n* seeded organisation changes over the year, each valid on its day, in date order."""
    rng = random.Random(seed)
    world = _World(org)
    first = dt.date(YEAR, 1, 2)
    days = sorted(first + dt.timedelta(days=rng.randrange(363)) for _ in range(n))
    out: list[ChangeData] = []
    for day in days:
        if len(out) >= n:
            break
        out.extend(_step(rng, world, day))
    return [Change(seq, "p001", RECORDED_AT, data) for seq, data in enumerate(out[:n], 1)]


def _step(rng: random.Random, world: _World, day: dt.date) -> list[ChangeData]:
    roll = rng.random()
    if roll < 0.15:  # someone joins
        world.joined += 1
        person = f"x{world.joined:04d}"
        world.people.add(person)
        return [PersonJoined(person, f"新同志{world.joined}", day, reason="调入")]
    if roll < 0.40:  # a post falls vacant
        held = sorted(p for p, h in world.holders.items() if h is not None and p != world.leader)
        post = rng.choice(held)
        world.holders[post] = None
        return [PostAssigned(post, None, day, reason="调离")]
    if roll < 0.65:  # a vacant post is filled, by a newcomer when no one is free
        vacant = sorted(p for p, h in world.holders.items() if h is None)
        if not vacant:
            return _step(rng, world, day)
        post = rng.choice(vacant)
        out: list[ChangeData] = []
        free = world.free()
        if free:
            person = rng.choice(free)
        else:
            world.joined += 1
            person = f"x{world.joined:04d}"
            world.people.add(person)
            out.append(PersonJoined(person, f"新同志{world.joined}", day, reason="调入"))
        world.holders[post] = person
        out.append(PostAssigned(post, person, day, reason="任命"))
        return out
    if roll < 0.80:  # a section's package moves to another section
        package = rng.choice(sorted(world.packages))
        holder, schools, _ = world.packages[package]
        to = rng.choice([s for s in world.sections if s != holder and world.staff[s]])
        staff = tuple(world.staff[to])
        world.packages[package] = (to, schools, staff)
        return [PackageChanged(package, to, day, schools=schools, staff=staff, reason="分包调整")]
    if roll < 0.90:  # a school moves between two sections' packages
        a, b = rng.sample(sorted(world.packages), 2)
        (ha, sa, ta), (hb, sb, tb) = world.packages[a], world.packages[b]
        if len(sa) < 2:
            return _step(rng, world, day)
        school = rng.choice(sa)
        sa = tuple(s for s in sa if s != school)
        sb = (*sb, school)
        world.packages[a], world.packages[b] = (ha, sa, ta), (hb, sb, tb)
        return [
            PackageChanged(a, ha, day, schools=sa, staff=ta, reason="分包调整"),
            PackageChanged(b, hb, day, schools=sb, staff=tb, reason="分包调整"),
        ]
    # 分管 reshuffled: a section passes from one leading-group post to another
    giver = rng.choice(sorted(p for p, units in world.in_charge.items() if units))
    taker = rng.choice(sorted(p for p in world.in_charge if p != giver))
    unit = rng.choice(world.in_charge[giver])
    world.in_charge[giver] = [u for u in world.in_charge[giver] if u != unit]
    world.in_charge[taker] = [*world.in_charge[taker], unit]
    return [
        InChargeChanged(giver, tuple(world.in_charge[giver]), day, reason="分工调整"),
        InChargeChanged(taker, tuple(world.in_charge[taker]), day, reason="分工调整"),
    ]


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of *fn* takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def as_of_seconds(line: Timeline, days: list[dt.date]) -> list[float]:
    """Seconds ``line.as_of(day)`` takes, for each day."""
    out = []
    for day in days:
        start = time.perf_counter()
        line.as_of(day)
        out.append(time.perf_counter() - start)
    return out


def measure(schools: int, args: argparse.Namespace) -> list[tuple[str, ...]]:
    """The rows of one organisation size."""
    repeat = args.repeat
    org = make_organisation(schools)
    changes = generate(org, args.changes)
    rng = random.Random(1)
    days = [dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365)) for _ in range(args.dates)]
    last = dt.date(YEAR, 12, 31)
    # the first question to a new timeline folds every change up to its day
    first = min(timed(lambda: Timeline(org, changes).as_of(last)) for _ in range(repeat))
    line = Timeline(org, changes)
    # every change was valid on its day: the organisation in force is valid on each
    for day in [*days[:10], last]:
        problems = line.as_of(day).problems()
        assert not problems, (day, problems[:3])
    as_of = as_of_seconds(line, days)
    graph = median_seconds(lambda: dualduty.OrgGraph(org), repeat)
    evolve = median_seconds(lambda: attrs.evolve(org, as_of=last), repeat)
    dated = median_seconds(line.dated, repeat)
    year = (dt.date(YEAR, 1, 1), last)
    found = vacancies(line, *year)
    vacancy_s = median_seconds(lambda: vacancies(line, *year), max(1, repeat // 3))
    label = f"{schools:,} schools, {len(changes):,} changes"
    median_as_of, worst = statistics.median(as_of), max([*as_of, first])
    goal = ""
    if len(changes) >= GOAL_CHANGES:
        goal = f"< 50 ms: {verdict(worst < GOAL_AS_OF_SECONDS)}"
    rows: list[tuple[str, ...]] = [
        (f"{label}: as_of, median of {len(days)} days", sig(median_as_of * 1e3), goal),
        (f"{label}: as_of, slowest of {len(days)} days", sig(max(as_of) * 1e3), goal),
        (f"{label}: as_of 31 Dec, first on a new Timeline", sig(first * 1e3), goal),
        (f"{label}: dated()", sig(dated * 1e3), ""),
        (f"{label}: vacancies over the year ({len(found)} periods)", sig(vacancy_s * 1e3), ""),
        (f"{schools:,} schools: reference OrgGraph(org)", sig(graph * 1e3), ""),
        (f"{schools:,} schools: reference attrs.evolve(org, as_of=day)", sig(evolve * 1e3), ""),
    ]
    with workdir(args.dir, keep=False, prefix="bench-timeline-") as folder:
        path = folder / "bureau.toml"
        dualduty.dump(org, path)
        load = median_seconds(lambda: dualduty.load(path), repeat)
        rows.append(
            (f"{schools:,} schools: reference load + validate the file", sig(load * 1e3), "")
        )
        url = f"sqlite:///{folder / 'records.db'}"
        with open_store(url) as store:
            if args.record:
                recorder = Recorder(store, org, clock=lambda: RECORDED_AT)
                start = time.perf_counter()
                for change in changes:
                    recorder.org_changes.record(change.data, actor=change.actor, at=change.at)
                took = time.perf_counter() - start
                rate = f"{len(changes) / took:,.0f} changes/s"
                rows.append((f"{label}: recorded through OrgChanges ({rate})", sig(took * 1e3), ""))
            else:
                store.extend(Record.of(c.data, actor=c.actor, at=c.at) for c in changes)
        cold, again, dated_in = [], [], []
        for _ in range(repeat):
            with open_store(url, readonly=True) as store:  # what it read is not known yet
                cold.append(timed(lambda: Timeline.from_store(org, store)))
                again.append(timed(lambda: Timeline.from_store(org, store)))
                stored = Timeline.from_store(org, store)
                assert [c.data for c in stored.changes] == [c.data for c in line.changes]
            with open_store(url, readonly=True) as store:
                dated_in.append(timed(lambda: in_time(org, store)))
        read = statistics.median(cold)
        rows.append((f"{label}: Timeline.from_store, store just opened", sig(read * 1e3), ""))
        reread = statistics.median(again)
        rows.append((f"{label}: Timeline.from_store again", sig(reread * 1e3), ""))
        in_time_s = statistics.median(dated_in)
        rows.append((f"{label}: in_time(org, store), store just opened", sig(in_time_s * 1e3), ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 3_000], help="schools")
    parser.add_argument("--changes", type=int, default=GOAL_CHANGES, help="changes (1,000)")
    parser.add_argument("--dates", type=int, default=200, help="random days for as_of (200)")
    parser.add_argument("--repeat", type=int, default=5, help="runs to take the median of (5)")
    parser.add_argument(
        "--no-record",
        dest="record",
        action="store_false",
        help="store the changes with Store.extend instead of recording each through "
        "OrgChanges (which checks each; slow)",
    )
    parser.add_argument("--dir", type=Path, help="where the store and file go (a temp dir)")
    args = parser.parse_args()
    began = time.perf_counter()
    rows: list[tuple[str, ...]] = [("measure", "ms", "goal")]
    for schools in args.sizes:
        print(f"{schools:,} schools …", flush=True)
        rows.extend(measure(schools, args))
    print()
    print_table(rows)
    print(f"whole run {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
