"""Seeded generator of organisations at several sizes, for the benchmarks."""

from __future__ import annotations

from pathlib import Path

import dualduty
from dualduty.io import dump

DATA = Path(__file__).parent / "_data"
SIZES = (1_000, 10_000, 30_000)


def make_organisation(schools: int, seed: int = 0) -> dualduty.Organisation:
    """The reference bureau with *schools* synthetic schools (deterministic for *seed*)."""
    return dualduty.reference_organisation(schools=schools, seed=seed)


def write_organisation(schools: int, fmt: str = "toml", seed: int = 0) -> Path:
    """Write (once) and return the path of a district file of *schools* schools."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"org-{schools}-{seed}.{fmt}"
    if not path.exists():
        dump(make_organisation(schools, seed), path)
    return path
