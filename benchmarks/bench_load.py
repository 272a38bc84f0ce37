"""Load and validate district files of growing size; compare with parsing alone.

The practical limit for loading a file is reading and parsing it: ``tomllib`` (or
``json``) on the same bytes. The table shows both, and the full load (parse, structure
into the typed model, validate every cross-reference) against the 3 s goal.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from orgs import SIZES, write_organisation  # noqa: E402 -- after the path set-up above

import dualduty  # noqa: E402 -- after the path set-up above

GOAL_SECONDS = 3.0


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--formats", nargs="+", default=["toml", "json"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"{'schools':>8} {'format':>6} {'size MB':>8} {'parse s':>8} {'load s':>8} "
          f"{'load/parse':>10} {'goal':>6}")
    for n in args.sizes:
        for fmt in args.formats:
            path = write_organisation(n, fmt)
            raw = path.read_bytes()
            parse: Callable[[], object]
            if fmt == "toml":
                parse = lambda: tomllib.loads(raw.decode())  # noqa: E731 -- a one-line timing body
            else:
                parse = lambda: json.loads(raw)  # noqa: E731 -- a one-line timing body
            parse_s = best_of(parse, args.repeat)
            load_s = best_of(lambda: dualduty.load(path), args.repeat)
            org = dualduty.load(path)
            assert len(org.schools) == n
            verdict = "ok" if load_s < GOAL_SECONDS else "SLOW"
            print(f"{n:>8} {fmt:>6} {len(raw) / 1e6:>8.2f} {parse_s:>8.3f} {load_s:>8.3f} "
                  f"{load_s / parse_s:>10.2f} {verdict:>6}")


if __name__ == "__main__":
    main()
