"""Test kits for dualduty plugins: run them in your own test suite.

- :class:`StoreConformance`: the conformance tests every storage backend must pass;
  subclass it and provide a ``store_url`` fixture (see its documentation).
- The pytest plugin :mod:`dualduty.testing.plugin`, loaded automatically by pytest
  when dualduty is installed, provides the ``dualduty_plugin`` fixture (register a
  plugin for one test) and ``dualduty_hooks`` (fresh hooks without installed plugins).
"""

from __future__ import annotations

from .plugin import PluginRegistrar
from .storage import PROBE_KIND, Probe, StoreConformance

__all__ = ["PROBE_KIND", "PluginRegistrar", "Probe", "StoreConformance"]
