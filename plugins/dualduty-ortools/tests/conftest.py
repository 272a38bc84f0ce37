"""Test set-up of the plugin: tests never auto-load installed plugins."""

from __future__ import annotations

import os

# each test registers what it needs; the entry-point tests start a fresh interpreter
# with the variable set as they want
os.environ.setdefault("DUALDUTY_LOAD_PLUGINS", "")
