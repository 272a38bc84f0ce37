"""Coverage analysis time against organisation size; goals from issue 4.

Goals: the reference organisation with 300 schools < 0.2 s; 30,000 schools < 5 s. The
practical limit shown beside it is building the OrgGraph alone (indexing the
organisation once), which the analysis cannot avoid.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from orgs import make_organisation
from timing import median_seconds

import dualduty
from dualduty.coverage import analyse

GOALS = {300: 0.2, 30_000: 5.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 3_000, 30_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{'schools':>8} {'graph s':>8} {'coverage s':>10} {'gaps':>5} {'errors':>6} {'goal':>12}"
    )
    for n in args.sizes:
        org = make_organisation(n)
        graph_s = median_seconds(partial(dualduty.OrgGraph, org), args.repeat)
        cover_s = median_seconds(partial(analyse, org), args.repeat)
        report = analyse(org)
        goal = GOALS.get(n)
        verdict = "" if goal is None else f"< {goal} s {'met' if cover_s < goal else 'MISSED'}"
        print(
            f"{n:>8} {graph_s:>8.3f} {cover_s:>10.3f} {len(report.gaps):>5} "
            f"{len(report.errors):>6} {verdict:>12}"
        )


if __name__ == "__main__":
    main()
