"""The dualduty pytest plugin: fixtures for testing plugins and code that uses dualduty.

Installed with dualduty, it is loaded by pytest automatically (entry point ``pytest11``
named ``dualduty``). It provides two fixtures:

``dualduty_plugin``
    registers a plugin with the process-wide plugin manager
    (:func:`dualduty.plugins.plugin_manager`) for the duration of one test, so that
    :func:`dualduty.storage.open_store`, the notification channels and the scoring see it; it is
    unregistered when the test ends, whatever its outcome::

        from dualduty.plugins import hookimpl

        class Forwarder:
            def __init__(self):
                self.seen = []

            @hookimpl
            def dualduty_record_appended(self, context):
                self.seen.extend(context.entries)

        def test_forwarded(dualduty_plugin):
            forwarder = Forwarder()
            dualduty_plugin(forwarder)  # before opening: a store tells the plugins
            with open_store("memory:") as store:  # registered when it was opened
                store.append(record)
            assert forwarder.seen

``dualduty_hooks``
    a fresh :class:`dualduty.plugins.Hooks` over a new plugin manager holding only the
    built-in plugin (no installed plugins), for tests that want no global state; register
    plugins with ``dualduty_hooks.pm.register(plugin)`` and pass it where a ``hooks``
    argument is taken (``open_store(url, hooks=dualduty_hooks)``).

The storage conformance kit is a base class, not a fixture: see
:class:`dualduty.testing.StoreConformance`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import pytest

if TYPE_CHECKING:
    from dualduty.plugins import Hooks

__all__ = ["PluginRegistrar", "dualduty_hooks", "dualduty_plugin"]


class PluginRegistrar(Protocol):
    """The ``dualduty_plugin`` fixture: call it to register a plugin for one test."""

    def __call__(self, plugin: object, name: str | None = None) -> str:
        """Register *plugin* (a module or object with hook implementations).

        :param name: the name to register it under (default: pluggy's canonical name).
        :returns: the name it was registered under.
        :raises ValueError: if the plugin or the name is already registered, or the
            name is blocked (``DUALDUTY_DISABLED_PLUGINS``).
        """


@pytest.fixture
def dualduty_plugin() -> Iterator[PluginRegistrar]:
    """Register plugins with the process-wide plugin manager for one test.

    ``dualduty_plugin(plugin, name=None)`` registers *plugin* and returns its name;
    every plugin registered this way is unregistered after the test, latest first.
    """
    from dualduty.plugins import plugin_manager

    pm = plugin_manager()
    registered: list[object] = []

    def register(plugin: object, name: str | None = None) -> str:
        used = pm.register(plugin, name=name)
        if used is None:
            raise ValueError(f"plugin {name!r} is blocked (DUALDUTY_DISABLED_PLUGINS)")
        registered.append(plugin)
        return used

    try:
        yield register
    finally:
        for plugin in reversed(registered):
            if pm.is_registered(plugin):
                pm.unregister(plugin)


@pytest.fixture
def dualduty_hooks() -> Hooks:
    """A fresh :class:`~dualduty.plugins.Hooks` over a plugin manager of its own.

    It holds the built-in plugin only (installed plugins are not loaded), so a test can
    register what it needs on ``dualduty_hooks.pm`` without touching global state.
    """
    from dualduty.plugins import Hooks, make_plugin_manager

    return Hooks(make_plugin_manager(entry_points=False))
