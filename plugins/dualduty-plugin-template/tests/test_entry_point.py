"""The installed plugin registers through its entry point and shows in ``dualduty plugins``.

These tests need the plugin installed (``pip install -e .``): they start a fresh
interpreter, as a user's command would, and read what dualduty loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from typing import Any

import dualduty_plugin_template as plugin

NAME = "district_template"
HOOKS = [
    "dualduty_register_channels",
    "dualduty_register_record_kinds",
    "dualduty_register_scoring_rules",
]


def listed(load: str | None, disabled: str | None = None) -> list[dict[str, Any]]:
    """``dualduty plugins --format json`` with the variables set (``None``: unset)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALDUTY_")}
    if load is not None:
        env["DUALDUTY_LOAD_PLUGINS"] = load
    if disabled is not None:
        env["DUALDUTY_DISABLED_PLUGINS"] = disabled
    done = subprocess.run(
        [sys.executable, "-m", "dualduty", "plugins", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def test_the_distribution_declares_the_entry_point() -> None:
    dist = metadata.distribution("dualduty-plugin-template")  # fails if not installed
    (entry_point,) = [ep for ep in dist.entry_points if ep.group == "dualduty"]
    assert (entry_point.name, entry_point.value) == (NAME, "dualduty_plugin_template")
    assert entry_point.load() is plugin
    assert dist.version == plugin.__version__


def test_listed_when_named() -> None:
    rows = listed(load=NAME)
    assert [row["name"] for row in rows] == ["dualduty.builtin", NAME]
    assert rows[1] == {"name": NAME, "version": plugin.__version__, "hooks": HOOKS}


def test_listed_when_every_plugin_loads() -> None:
    assert {"name": NAME, "version": plugin.__version__, "hooks": HOOKS} in listed(load=None)


def test_not_listed_when_not_named_or_disabled() -> None:
    assert NAME not in [row["name"] for row in listed(load="")]
    assert NAME not in [row["name"] for row in listed(load=None, disabled=NAME)]
    assert NAME not in [row["name"] for row in listed(load=NAME, disabled=NAME)]


def test_the_loaded_plugin_works_in_a_fresh_interpreter(tmp_path: Any) -> None:
    """Loaded by its entry point alone, its record kind and channel are usable."""
    code = f"""
import sys
from dualduty.plugins import hooks
from dualduty.records import RECORD_KINDS
from dualduty.storage import open_store, OutboxMessage
h = hooks()
print("dualduty_plugin_template" in sys.modules)  # imported by its entry point
Drill = RECORD_KINDS["district_template.drill"]
drill = Drill.examples()[0]
with open_store({f"sqlite:///{tmp_path / 'records.db'}"!r}) as store:
    store.append(sys.modules["dualduty_plugin_template"].drill_record(
        drill, school_id="s1", unit_id="safety", actor="zhao"))
    print(next(store.read(kind="district_template.drill")).record.data == drill)
channel = h.channels()["district_template.jsonl"]
print(channel.deliver(OutboxMessage(channel.name, "zhao", "t", "x")).delivered)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALDUTY_")}
    env["DUALDUTY_LOAD_PLUGINS"] = NAME
    env["DUALDUTY_TEMPLATE_OUTBOX_FILE"] = str(tmp_path / "outbox.jsonl")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]
    assert (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").count("\n") == 1
