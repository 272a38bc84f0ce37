"""Timing, printing and scratch-directory helpers shared by the benchmarks."""

from __future__ import annotations

import contextlib
import math
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    """The median wall time of *repeat* calls of *fn*, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sig(x: float) -> str:
    """*x* to 3 significant digits, without an exponent (12,300; 45.6; 0.0123)."""
    if x == 0 or not math.isfinite(x):
        return str(x)
    digits = 3 - 1 - math.floor(math.log10(abs(x)))
    value = round(x, digits)
    if digits <= 0:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def verdict(ok: bool) -> str:
    """How a goal fared."""
    return "met" if ok else "NOT met"


def print_table(table: list[tuple[str, ...]]) -> None:
    """Print rows of text: the first column left-aligned, the last as it is, the others
    right-aligned; a rule under the header row."""
    widths = [max(len(row[col]) for row in table) for col in range(len(table[0]) - 1)]
    for n, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:-1], widths[1:], strict=True)
        ]
        print("  ".join([*cells, row[-1]]))
        if n == 0:
            print("-" * (sum(widths) + 2 * len(widths) + 24))


@contextlib.contextmanager
def workdir(base: Path | None, keep: bool, prefix: str = "bench-") -> Iterator[Path]:
    """A fresh directory (in *base*, or the system's temporary one), removed afterwards
    unless *keep*."""
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        yield folder
    finally:
        if keep:
            print(f"files kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
