"""A local scoring rule as a plugin: a bonus for unannounced inspections (暗访).

Usage::

    python examples/custom_scoring_plugin.py [OUT_DIR]

Districts add their own rules to the year-end assessment (年终考核, clause 三.4) through
the ``dualduty_register_scoring_rules`` hook. This script defines such a plugin — 0.2
points for every unannounced inspection (明查暗访, 三.2) a section's staff made that year,
at most 1 point — registers it on a plugin manager (as an installed plugin would be
through its ``dualduty`` entry point), simulates a year of the reference organisation
(15 schools) into a SQLite store in OUT_DIR, assesses it and prints the ranking's top
and the plugin's item of each of those sections, with its reason and evidence.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

import dualduty
from dualduty.calendars import calendar_for
from dualduty.planning import plan_schedule
from dualduty.plugins import Hooks, hookimpl, make_plugin_manager
from dualduty.scoring import ScoreItem, ScoringContext, ScoringRule, Veto, assess
from dualduty.simulate import simulate_year
from dualduty.storage import open_store

RULE = "local.unannounced_bonus"


@attrs.frozen
class UnannouncedBonus:
    """0.2 points per unannounced inspection held for the section's packages (≤ 1)."""

    id: str = RULE
    per_visit: float = 0.2
    cap: float = 1.0

    def score(self, context: ScoringContext) -> Iterator[ScoreItem | Veto]:
        seqs = []
        for entry in context.store.read(kind="inspection"):
            data = entry.record.data
            in_year = data.date.year == context.year
            before = context.now is None or entry.record.at < context.now
            if in_year and before and data.holder == context.unit and not data.announced:
                seqs.append(entry.seq)
        if seqs:
            points = min(self.cap, self.per_visit * len(seqs))
            yield ScoreItem(
                self.id,
                "system_implementation",
                points,
                f"暗访{len(seqs)}次，每次加{self.per_visit}分，最多{self.cap}分：加{points:.1f}分",
                evidence=tuple(seqs),
                clause="三.2",
            )


class LocalRules:
    """The plugin: an object whose methods implement dualduty's hooks."""

    @hookimpl
    def dualduty_register_scoring_rules(self, register: Callable[[ScoringRule], None]) -> None:
        register(UnannouncedBonus())


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="dualduty-"))
    out.mkdir(parents=True, exist_ok=True)
    # dualduty's built-ins and this plugin only: installed plugins are not loaded.
    manager = make_plugin_manager(entry_points=False)
    manager.register(LocalRules(), name="local-rules")
    hooks = Hooks(manager)

    org = dualduty.reference_organisation(schools=15)
    schedule = plan_schedule(org, calendar_for(org, [2026]), 2026)
    db = out / "year.db"
    db.unlink(missing_ok=True)
    with open_store(f"sqlite:///{db}") as store:
        simulate_year(store, org, schedule, seed=0)
        now = dt.datetime(2027, 1, 10, 9, tzinfo=zoneinfo.ZoneInfo(org.timezone))
        result = assess(store, org, 2026, schedule=schedule, now=now, hooks=hooks)
    print(f"assessed {len(result.ranking)} sections; store: {db}")
    for a in result.ranking[:5]:
        print(f"{a.rank:>3} {a.total:6.2f} {a.grade} {a.name}")
        for item in a.items:
            if item.rule == RULE:
                print(f"      {item.rule}: +{item.points:.1f} ({item.reason}; seq {item.seqs})")
    bonus = sum(1 for a in result.ranking for i in a.items if i.rule == RULE)
    print(f"sections with the plugin's bonus: {bonus}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
