"""The installed plugin registers through its entry point and loads in dualduty.

These tests need the plugin installed (``pip install -e .``): they start a fresh
interpreter, as a user's command would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import dualduty_ortools as plugin


def test_the_distribution_declares_the_entry_point() -> None:
    dist = metadata.distribution("dualduty-ortools")  # fails if not installed
    (entry_point,) = [ep for ep in dist.entry_points if ep.group == "dualduty"]
    assert (entry_point.name, entry_point.value) == ("ortools", "dualduty_ortools")
    assert entry_point.load() is plugin
    assert dist.version == plugin.__version__


def test_loads_in_the_plugin_manager() -> None:
    """The optional hook does not stop a dualduty that does not know it yet."""
    code = """
import sys
from dualduty.plugins import plugin_manager
pm = plugin_manager()
print(pm.has_plugin("ortools"), "dualduty_ortools" in sys.modules)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALDUTY_")}
    env["DUALDUTY_LOAD_PLUGINS"] = "ortools"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_picked_by_name_once_installed(tmp_path: Path) -> None:
    """``dualduty packages --solver ortools`` in a fresh interpreter, entry points on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALDUTY_")}
    bureau = tmp_path / "bureau.toml"
    made = subprocess.run(
        [sys.executable, "-m", "dualduty", "reference", "--schools", "60", "-o", str(bureau)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    args = ["packages", str(bureau), "--solver", "ortools", "--format", "json"]
    done = subprocess.run(
        [sys.executable, "-m", "dualduty", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {p["solver"] for p in report["problems"].values()} == {"ortools"}
