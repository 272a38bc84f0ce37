"""Test set-up: tests never auto-load installed plugins; each registers what it needs."""

from __future__ import annotations

import os

os.environ.setdefault("DUALDUTY_LOAD_PLUGINS", "")
