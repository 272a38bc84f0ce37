"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable


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
