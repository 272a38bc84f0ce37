"""The installed plugin registers through its entry point, in a fresh interpreter.

These tests need the plugin installed (``pip install -e .``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata

import dualduty_district_example as plugin

NAME = "district_example"


def run(code: str, load: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALDUTY_")}
    if load is not None:
        env["DUALDUTY_LOAD_PLUGINS"] = load
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )


def test_the_distribution_declares_the_entry_point() -> None:
    dist = metadata.distribution("dualduty-district-example")
    (entry_point,) = [ep for ep in dist.entry_points if ep.group == "dualduty"]
    assert (entry_point.name, entry_point.value) == (NAME, "dualduty_district_example")
    assert entry_point.load() is plugin
    assert dist.version == plugin.__version__


# The default hooks (dualduty.plugins.hooks) assess the demo year: the plugin's weights
# and rules take part only when it is loaded.
ASSESS = """
import json
from dualduty.scoring import assess
from dualduty.storage import open_store
from dualduty_district_example import demo
with open_store("memory:") as store:
    demo.record_demo_year(store)
    year = assess(store, demo.ORG, 2026, schedule=demo.SCHEDULE, now=demo.NOW,
                  units=[demo.UNIT, demo.MORAL])
print(json.dumps([[a.unit, a.total, a.grade, [v.rule for v in a.vetoes]] for a in year.ranking]))
"""


def test_loaded_by_name_its_rules_take_part() -> None:
    done = run(ASSESS, load=NAME)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        ["general-office", 102.0, "优秀", []],
        ["moral-education", 95.0, "不合格", ["district_example.major_hazard_open"]],
    ]


def test_not_named_nothing_of_it_takes_part() -> None:
    done = run(ASSESS, load="")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        ["general-office", 100.0, "优秀", []],
        ["moral-education", 96.25, "优秀", []],
    ]


def test_listed_by_dualduty_plugins() -> None:
    done = run(
        "import sys; sys.argv = ['dualduty', 'plugins', '--format', 'json']; "
        "from dualduty.cli import run; run()",
        load=NAME,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {
        "name": NAME,
        "version": plugin.__version__,
        "hooks": ["dualduty_register_scoring_rules", "dualduty_rubric"],
    } in rows
