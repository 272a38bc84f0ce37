"""Load a district file, validate it and list its responsibility gaps (一岗双责).

Usage::

    python examples/load_and_check.py [OUT_DIR] [DISTRICT_FILE]

Without DISTRICT_FILE the reference organisation (20 schools) is written to
``OUT_DIR/bureau.toml`` first, so the script runs anywhere; give your own file (TOML,
JSON or YAML) to check it instead. ``dualduty.load`` refuses an invalid file with every
problem and where it is; :func:`dualduty.coverage.analyse` then lists the gaps: lines of
business without a safety duty, schools without a package, broken chains, … each with
the clause of the plan it rests on. Exits 0 without error-level gaps, 1 with some, 2 for
an invalid file — like ``dualduty check``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import dualduty
from dualduty.coverage import analyse


def check(path: Path) -> int:
    """Print what the file holds and its gaps; the exit status."""
    try:
        org = dualduty.load(path)
    except dualduty.DualdutyError as err:
        print(f"{path}: invalid\n{err}")
        return 2
    print(f"{path.name}: valid — {org.name} ({org.id})")
    print(f"  units {len(org.units)}, schools {len(org.schools)}, packages {len(org.packages)}")
    report = analyse(org)
    print(f"coverage: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    for gap in report.gaps:
        print(f"  [{gap.severity.value}] {gap.kind.value} ({gap.clause}): {gap.message}")
    return 1 if report.errors else 0


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="dualduty-"))
    out.mkdir(parents=True, exist_ok=True)
    if len(argv) > 1:
        path = Path(argv[1])
    else:
        path = out / "bureau.toml"
        dualduty.dump(dualduty.reference_organisation(schools=20), path)
        print(f"wrote the reference organisation to {path}")
    return check(path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
