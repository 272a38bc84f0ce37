"""Schedule generation (issue 5): time and memory against organisation size, and a national run.

Goals: a year for the reference organisation with 300 schools (about 4,800 visits plus
meetings and deadlines) < 1 s end to end; a 20,000-school organisation (about 320,000
visits) < 20 s with peak memory < 1 GB; a national-scale year — 510,000 schools as 1,700
districts of 300 — streamed district by district to files (one JSON file a district, in
the shape of ``dualduty schedule --format json``) in < 2 minutes on a 2-core machine, with
memory that does not grow with the number of districts. Visits per second
are compared with a bare loop that builds as many attrs objects in the same run (the
practical limit of an object-per-visit design).

Organisations are the seeded reference bureau (``orgs.make_organisation``: 6 leading-group
posts, 23 sections of 2 staff). Above 300 schools its holders package more schools than two
visits an inspector a day can cover (at 20,000 schools each leading-group post packages
3,333), so the larger organisations allow as many visits an inspector a day as their
packages need (``visits_per_inspector_per_day``, shown in the table); everything else is
the reference plan's rules. Each size runs in a fresh process, so that its peak resident
memory (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).parent))

if TYPE_CHECKING:
    from dualduty import Organisation
    from dualduty.calendars import WorkCalendar
    from dualduty.model import Schedule

YEAR = 2026
REFERENCE_GOAL = 1.0
LARGE = 20_000
LARGE_GOAL = 20.0
MEMORY_GOAL_MB = 1024.0
NATIONAL_GOAL = 120.0
SIZES = (300, 2_000, LARGE)


def rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory in MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(who).ru_maxrss / 1024


def calendar_2026() -> WorkCalendar:
    """2026 with its statutory holidays, from the data dualduty ships."""
    from orgs import make_organisation

    from dualduty.calendars import calendar_for

    return calendar_for(make_organisation(0), YEAR)


def with_capacity(org: Organisation, cal: WorkCalendar) -> Organisation:
    """*org* allowing as many visits an inspector a day as its packages need
    (:func:`dualduty.planning.visits_per_day_needed`)."""
    import attrs

    from dualduty.planning import visits_per_day_needed

    need = visits_per_day_needed(org, cal, YEAR)
    if need <= org.rules.visits_per_inspector_per_day:
        return org
    return attrs.evolve(org, rules=attrs.evolve(org.rules, visits_per_inspector_per_day=need))


def _rate(cls: Any, count: int) -> float:
    """Objects of *cls* a second a bare loop builds with a visit's values, *count* of them
    kept in a list (ids made beforehand); the best of three runs."""
    day = dt.date(YEAR, 3, 3)
    team = ("regulation-safety.staff-1",)
    ids = [f"v.2026q1.regulation-safety.s{i:05d}.1" for i in range(count)]
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        kept = [cls(i, "s0001", "regulation-safety", day, 1, team, False, None) for i in ids]
        best = min(best, time.perf_counter() - start)
        del kept
    return count / best


def bare_rate(count: int) -> float:
    """Objects a second a bare loop builds: a frozen attrs class with a visit's eight
    fields and no validators (the practical limit of an object-per-visit design)."""
    import attrs

    @attrs.frozen
    class Bare:
        id: str
        school: str
        holder: str
        date: dt.date
        quarter: int
        inspectors: tuple[str, ...]
        announced: bool = True
        joint: str | None = None

    return _rate(Bare, count)


def validated_rate(count: int) -> float:
    """Visits a second the model's validated constructor (``Visit(...)``) builds."""
    from dualduty.model import Visit

    return _rate(Visit, count)


# -- one size, in its own process ----------------------------------------------------------


def one_size(schools: int) -> dict[str, Any]:
    """Import, build, plan and check one organisation; the figures as JSON-able data."""
    start = time.perf_counter()
    from orgs import make_organisation

    from dualduty.planning import check_schedule, plan_schedule

    imported = time.perf_counter()
    org = make_organisation(schools)
    built = time.perf_counter()
    cal = calendar_2026()
    org = with_capacity(org, cal)
    calendared = time.perf_counter()
    schedule = plan_schedule(org, cal, YEAR)
    planned = time.perf_counter()
    violations = check_schedule(schedule, org, cal)
    checked = time.perf_counter()
    visits = len(schedule.visits)
    return {
        "schools": schools,
        "visits": visits,
        "meetings": len(schedule.meetings),
        "deadlines": len(schedule.deadlines),
        "per_day": org.rules.visits_per_inspector_per_day,
        "import_s": imported - start,
        "org_s": built - imported,
        "calendar_s": calendared - built,
        "plan_s": planned - calendared,
        "check_s": checked - planned,
        "end_to_end_s": checked - start,
        "violations": len(violations),
        "rss_mb": rss_mb(),
        "bare_per_s": bare_rate(visits),
        "validated_per_s": validated_rate(min(visits, 200_000)),
    }


def sizes(args: argparse.Namespace) -> None:
    print(
        f"{'schools':>7} {'visits':>8} {'/day':>4} {'org s':>6} {'plan s':>7} {'check s':>7} "
        f"{'e2e s':>6} {'visits/s':>9} {'bare/s':>9} {'ratio':>5} {'valid./s':>8} "
        f"{'RSS MB':>7}  goal"
    )
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.splitlines()[-1])
        rate = r["visits"] / r["plan_s"]
        if n == 300:
            ok = r["end_to_end_s"] < REFERENCE_GOAL
            goal = f"end to end < {REFERENCE_GOAL:g} s {'met' if ok else 'MISSED'}"
        elif n == LARGE:
            ok = r["plan_s"] < LARGE_GOAL and r["rss_mb"] < MEMORY_GOAL_MB
            goal = f"< {LARGE_GOAL:g} s, < 1 GB {'met' if ok else 'MISSED'}"
        else:
            goal = ""
        if r["violations"]:
            goal += f"  ({r['violations']} VIOLATIONS)"
        print(
            f"{n:>7} {r['visits']:>8,} {r['per_day']:>4} {r['org_s']:>6.2f} {r['plan_s']:>7.3f} "
            f"{r['check_s']:>7.3f} {r['end_to_end_s']:>6.2f} {rate:>9,.0f} "
            f"{r['bare_per_s']:>9,.0f} {rate / r['bare_per_s']:>5.0%} "
            f"{r['validated_per_s']:>8,.0f} {r['rss_mb']:>7.0f}  {goal}"
        )
    print(
        "  e2e: importing dualduty, building the organisation and the calendar, planning and "
        "checking, in a fresh process;\n  bare/s: a frozen attrs class with a visit's fields "
        "built in a loop, as many as the visits, in the same process;\n  valid./s: the "
        "model's validated Visit constructor in a loop (the generator sets the fields of "
        "the visits it builds directly)"
    )


# -- the national run ---------------------------------------------------------------------

_CAL: WorkCalendar | None = None


def _worker_init() -> None:
    global _CAL  # noqa: PLW0603 -- one calendar per worker process, built once
    _CAL = calendar_2026()


def _document(schedule: Schedule) -> dict[str, Any]:
    """The schedule as ``dualduty schedule --format json`` shapes it (dates ISO)."""
    iso: dict[dt.date, str] = {}

    def day(d: dt.date) -> str:
        got = iso.get(d)
        if got is None:
            got = iso[d] = d.isoformat()
        return got

    return {
        "visits": [
            {
                "id": v.id,
                "school": v.school,
                "holder": v.holder,
                "date": day(v.date),
                "inspectors": v.inspectors,
                "announced": v.announced,
                "joint": v.joint,
            }
            for v in schedule.visits
        ],
        "meetings": [
            {"id": m.id, "kind": m.kind.value, "unit": m.unit, "date": day(m.date)}
            for m in schedule.meetings
        ],
        "deadlines": [
            {"id": d.id, "kind": d.kind.value, "unit": d.unit, "due": day(d.due)}
            for d in schedule.deadlines
        ],
        "violations": [],
    }


def _district(task: tuple[int, int, str]) -> tuple[int, int, int, float]:
    """Plan district *seed*'s year and write it as one JSON file; (visits, items, bytes, RSS)."""
    import orjson
    from orgs import make_organisation

    from dualduty.planning import plan_schedule

    seed, schools, folder = task
    assert _CAL is not None
    org = make_organisation(schools, seed)
    schedule = plan_schedule(org, _CAL, YEAR, seed=seed)
    data = orjson.dumps(_document(schedule))
    Path(folder, f"district-{seed:04d}.json").write_bytes(data)
    items = len(schedule.visits) + len(schedule.meetings) + len(schedule.deadlines)
    return len(schedule.visits), items, len(data), rss_mb()


def national(districts: int, args: argparse.Namespace) -> dict[str, float]:
    folder = tempfile.mkdtemp(prefix="dualduty-schedule-", dir=args.dir)
    tasks = [(seed, args.district_schools, folder) for seed in range(districts)]
    context = multiprocessing.get_context("spawn")
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    visits = items = size = 0
    worker_rss = 0.0
    with context.Pool(args.workers, initializer=_worker_init) as pool:
        for v, n, b, rss in pool.imap_unordered(_district, tasks, chunksize=4):
            visits += v
            items += n
            size += b
            worker_rss = max(worker_rss, rss)
        pool.close()
        pool.join()  # the workers' CPU time is counted once they have exited
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)
    files = len(os.listdir(folder))
    if args.keep:
        print(f"  files kept in {folder}")
    else:
        shutil.rmtree(folder)
    return {
        "districts": districts,
        "files": files,
        "visits": visits,
        "items": items,
        "bytes": size,
        "seconds": took,
        "cpu": cpu,
        "load": os.getloadavg()[0],
        "worker_rss": worker_rss,
        "parent_rss": rss_mb(),
    }


def nationally(args: argparse.Namespace) -> None:
    schools = args.district_schools
    print(
        f"\nnational: districts of {schools} schools (reference bureaus, seeded by district), "
        f"one year each, written as JSON, one file a district; {args.workers} worker processes"
    )
    print(
        f"{'districts':>9} {'schools':>9} {'visits':>10} {'items':>10} {'MB written':>10} "
        f"{'seconds':>8} {'CPU s':>7} {'load':>5} {'visits/s':>9} {'worker RSS':>10} "
        f"{'parent RSS':>10}"
    )
    results = []
    for count in dict.fromkeys((min(100, args.districts), args.districts)):
        r = national(count, args)
        results.append(r)
        print(
            f"{count:>9,} {count * schools:>9,} {r['visits']:>10,.0f} {r['items']:>10,.0f} "
            f"{r['bytes'] / 1e6:>10,.0f} {r['seconds']:>8.1f} {r['cpu']:>7.1f} {r['load']:>5.1f} "
            f"{r['visits'] / r['seconds']:>9,.0f} {r['worker_rss']:>9.0f}M {r['parent_rss']:>9.0f}M"
        )
    last = results[-1]
    rate = last["visits"] / last["seconds"]
    bare = bare_rate(int(min(last["visits"], 2_000_000)))
    if args.districts >= 1_700:
        ok = last["seconds"] < NATIONAL_GOAL
        alone = last["cpu"] / args.workers
        print(
            f"  goal: < {NATIONAL_GOAL:g} s for 1,700 districts: {'met' if ok else 'MISSED'} "
            f"({last['seconds']:.0f} s; the workers used {last['cpu']:.0f} CPU seconds, "
            f"{alone:.0f} s each: the time on {args.workers} cores nothing else uses)"
        )
    print(
        "  CPU s: user and system time of the workers; load: the 1-minute load average at the "
        "end (above the worker count, other processes were competing for the cores)"
    )
    if len(results) == 2:
        grew = results[1]["worker_rss"] / results[0]["worker_rss"] - 1
        print(
            f"  memory: peak worker RSS {results[0]['worker_rss']:.0f} MB at "
            f"{results[0]['districts']:.0f} districts, {results[1]['worker_rss']:.0f} MB at "
            f"{results[1]['districts']:.0f} ({grew:+.1%})"
        )
    print(
        f"  {rate:,.0f} visits a second over {args.workers} processes (planning, building "
        f"the organisations, writing), against {bare:,.0f} bare attrs objects a second in "
        "one process"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--districts", type=int, default=1_700, help="0: no national run")
    parser.add_argument("--district-schools", type=int, default=300)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--dir", default=None, help="where the national files go (a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the national files")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_size(args.one)))
        return
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    if args.sizes:
        sizes(args)
    if args.districts:
        nationally(args)


if __name__ == "__main__":
    main()
