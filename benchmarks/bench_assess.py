"""The year-end assessment of every section over a year of records (issue 7).

For each organisation size (``--sizes``; default the reference organisation as shipped,
120 schools, and 3,000 schools) the seeded year of ``bench_records.py`` is played into a
fresh SQLite store through the services (not timed), then timed:

- ``assess(store, org, year)``: every section scored by the default rubric, ranked, and
  the award given (the median of ``--repeat`` runs, each from scratch: a process
  assesses once);
- beside it, the practical limit: the compliance view alone
  (``compliance(store, org, schedule)``), which the assessment needs and which reads
  every record the assessment scores.

Goals (issue 7): the reference organisation's year < 1 s; a 3,000-school organisation's
year (about 100,000 records) < 10 s.

Run from the repository root::

    .venv/bin/python benchmarks/bench_assess.py
    .venv/bin/python benchmarks/bench_assess.py --sizes 120 --repeat 9
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import zoneinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_records import YEAR, Year, organisation
from timing import median_seconds, workdir

from dualduty.plugins import Hooks, make_plugin_manager
from dualduty.records.compliance import compliance
from dualduty.scoring.engine import assess
from dualduty.storage import open_store

REFERENCE_SCHOOLS = 120
BIG = 3_000
GOALS = {REFERENCE_SCHOOLS: 1.0, BIG: 10.0}


def measure(folder: Path, schools: int, repeat: int) -> tuple[str, ...]:
    """One row of the table: the year of *schools* schools played, then assessed."""
    org, schedule = organisation(schools)
    now = dt.datetime(YEAR + 1, 1, 10, tzinfo=zoneinfo.ZoneInfo(org.timezone))
    path = folder / f"assess-{schools}.db"
    print(f"{schools:,} schools: playing the year …", flush=True)
    with open_store(f"sqlite:///{path}") as store:
        Year(org, schedule, seed=schools).play(store)
        records = len(store)
    print(f"{schools:,} schools: assessing …", flush=True)
    # dualduty's own rules only: plugins installed in the environment (the example
    # district's, say) are not loaded, so that the figure is the engine's.
    hooks = Hooks(make_plugin_manager(entry_points=False))
    with open_store(f"sqlite:///{path}", readonly=True) as store:
        result = assess(store, org, YEAR, schedule=schedule, now=now, hooks=hooks)
        t_assess = median_seconds(
            lambda: assess(store, org, YEAR, schedule=schedule, now=now, hooks=hooks), repeat
        )
        t_view = median_seconds(lambda: compliance(store, org, schedule, now=now), repeat)
    goal = GOALS.get(schools)
    verdict = "" if goal is None else f"< {goal:g} s: {'met' if t_assess < goal else 'NOT met'}"
    return (
        f"{schools:,} schools, {records:,} records, {len(result.ranking)} sections",
        f"{t_assess:.3f}",
        f"{t_view:.3f}",
        f"{t_assess / t_view:.1f}x",
        verdict,
        ", ".join(result.excellent) or "-",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[REFERENCE_SCHOOLS, BIG], help="schools"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs to take the median of (3)")
    parser.add_argument("--dir", type=Path, help="where the store files go (a temporary dir)")
    parser.add_argument("--keep", action="store_true", help="keep the store files")
    args = parser.parse_args()
    began = time.perf_counter()
    with workdir(args.dir, args.keep, "bench-assess-") as folder:
        rows = [measure(folder, schools, args.repeat) for schools in args.sizes]
    print()
    head = ("measure", "assess (s)", "compliance view (s)", "ratio", "goal", "excellent")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    for n, row in enumerate((head, *rows)):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    print("ratio: the assessment's time over the compliance view's (which it includes).")
    print(f"whole run {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
