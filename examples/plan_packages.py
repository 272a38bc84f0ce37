"""Plan the school packages (分包学校, clause 三.1) and show how balanced they are.

Usage::

    python examples/plan_packages.py [OUT_DIR]

Takes the reference organisation with 40 schools, lets
:func:`dualduty.planning.plan_packages` share the schools among the leading-group
members and the sections (weighted by each school's size and risk), prints each holder's
load against the lower bound and why the plan looks the way it does, and writes the planned
organisation to ``OUT_DIR/planned.toml``.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

import dualduty
from dualduty.planning import plan_packages


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="dualduty-"))
    out.mkdir(parents=True, exist_ok=True)
    org = dualduty.reference_organisation(schools=40)
    plan = plan_packages(org, seed=0)
    planned = plan.organisation
    print(f"packages: {len(planned.packages)} for {len(planned.schools)} schools")
    print(f"max load: {plan.quality.max_load_over_lower_bound:.3f} × the lower bound")
    schools = Counter({p.holder: len(p.schools) for p in planned.packages})
    for holder, count in schools.most_common(5):
        print(f"  {holder:<24} {count} schools")
    for sentence in plan.explanation[:3]:
        print(f"why: {sentence}")
    path = out / "planned.toml"
    dualduty.dump(planned, path)
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
