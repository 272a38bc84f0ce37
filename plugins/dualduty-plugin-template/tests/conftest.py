"""Test set-up of the plugin.

dualduty's pytest plugin (installed with dualduty) provides the fixtures these tests
use: ``dualduty_plugin`` registers a plugin with the process-wide plugin manager for
one test, ``dualduty_hooks`` is a fresh manager holding only dualduty's built-in plugin.
"""

from __future__ import annotations

import os

# tests never auto-load installed plugins: each test registers what it needs, and the
# entry-point test starts a fresh interpreter with the variable set as it wants
os.environ.setdefault("DUALDUTY_LOAD_PLUGINS", "")
