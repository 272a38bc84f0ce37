"""Load and validate district files of growing size; compare with parsing alone.

The practical limit for loading a file is parsing it: dualduty reads TOML with rtoml
and JSON with the standard library, so those parse times on the same bytes are the
floor. ``tomllib`` (the standard library's TOML parser) is shown as the reference a
plain implementation would start from. The full load parses, structures the data into
the typed model and validates every cross-reference; the goal is < 3 s at 30,000 schools.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from functools import partial
from pathlib import Path

import rtoml

sys.path.insert(0, str(Path(__file__).parent))

from orgs import SIZES, write_organisation
from timing import median_seconds

import dualduty

GOAL_SECONDS = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--formats", nargs="+", default=["toml", "json"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(
        f"{'schools':>8} {'format':>6} {'MB':>6} {'parse s':>8} {'tomllib s':>9} "
        f"{'load s':>7} {'load/parse':>10} {'goal 3 s':>8}"
    )
    for n in args.sizes:
        for fmt in args.formats:
            path = write_organisation(n, fmt)
            raw = path.read_bytes()
            text = raw.decode()
            if fmt == "toml":
                parse_s = median_seconds(partial(rtoml.loads, text), args.repeat)
                std = f"{median_seconds(partial(tomllib.loads, text), args.repeat):>9.3f}"
            else:
                parse_s = median_seconds(partial(json.loads, raw), args.repeat)
                std = f"{'':>9}"
            load_s = median_seconds(partial(dualduty.load, path), args.repeat)
            org = dualduty.load(path)
            assert len(org.schools) == n
            verdict = "met" if load_s < GOAL_SECONDS else "MISSED"
            print(
                f"{n:>8} {fmt:>6} {len(raw) / 1e6:>6.2f} {parse_s:>8.3f} {std} "
                f"{load_s:>7.3f} {load_s / parse_s:>10.2f} {verdict:>8}"
            )


if __name__ == "__main__":
    main()
