"""Start-up cost: ``dualduty --version`` and ``import dualduty`` against ``python -c pass``.

The goal is ``dualduty --version`` under 2.5x a bare interpreter start, and an
``import dualduty`` that loads neither networkx nor the model.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_RATIO = 2.5


def median_seconds(cmd: list[str], runs: int) -> float:
    for _ in range(3):  # warm the page cache and the .pyc files
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    exe = shutil.which("dualduty", path=str(Path(sys.executable).parent))
    if exe is None:
        sys.exit("the dualduty command is not installed next to this Python")
    base = median_seconds([sys.executable, "-c", "pass"], args.runs)
    rows = [
        ("python -c pass", base),
        (
            "python -c 'import dualduty'",
            median_seconds([sys.executable, "-c", "import dualduty"], args.runs),
        ),
        ("dualduty --version", median_seconds([exe, "--version"], args.runs)),
    ]
    for name, seconds in rows:
        print(f"{name:<30} {seconds * 1000:7.1f} ms  {seconds / base:5.2f}x")
    ratio = rows[-1][1] / base
    print(
        f"goal: dualduty --version < {GOAL_RATIO}x python -c pass: "
        f"{'met' if ratio < GOAL_RATIO else 'NOT met'} ({ratio:.2f}x)"
    )
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, dualduty; print(sorted(m for m in ('networkx', 'cattrs', 'attrs', "
            "'pendulum', 'dualduty.model') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"heavy modules loaded by 'import dualduty': {heavy}")


if __name__ == "__main__":
    main()
