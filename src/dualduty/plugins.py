"""The plugin manager: entry points, environment switches, and the typed hook wrapper.

Plugins are found through the ``dualduty`` entry-point group. Two environment
variables control which load:

``DUALDUTY_LOAD_PLUGINS``
    a comma-separated list of entry-point names to load; when set (even empty), no
    other entry point is loaded. Unset: every installed plugin loads.
``DUALDUTY_DISABLED_PLUGINS``
    a comma-separated list of plugin names never to load or run, built-in ones
    included (``dualduty.builtin``). It wins over ``DUALDUTY_LOAD_PLUGINS``.

A plugin that cannot be imported, or that implements a hook dualduty does not know
(a misspelt name), stops the manager with a :class:`PluginError` naming it, rather
than being skipped in silence. Core code calls hooks only through :class:`Hooks`,
which types every call.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from .errors import DualdutyError

if TYPE_CHECKING:
    from .calendars import HolidayProvider, TermProvider
    from .model import Organisation
    from .model.notify import Route
    from .notify import Channel, ChannelType
    from .planning import PackageSolver
    from .records.base import Entry
    from .scoring import GradeBand, ScoreItem, ScoringContext, ScoringRule, Veto
    from .scoring.rubric import Rubric
    from .storage.base import StoreBackend

__all__ = [
    "BUILTIN",
    "ENTRY_POINT_GROUP",
    "Hooks",
    "PluginError",
    "PluginInfo",
    "hookimpl",
    "hooks",
    "make_plugin_manager",
    "plugin_manager",
    "requested_but_missing",
]

PROJECT = "dualduty"
#: The entry-point group plugins register under.
ENTRY_POINT_GROUP = "dualduty"
#: The name the built-in plugin is registered under.
BUILTIN = "dualduty.builtin"

#: Marks a plugin's function as the implementation of a hook.
hookimpl = pluggy.HookimplMarker(PROJECT)


class PluginError(DualdutyError):
    """A plugin cannot be loaded: its module fails to import, or a hook it implements is
    unknown or has parameters its specification does not have."""


def _names(variable: str) -> list[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return list(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))


def _installed() -> dict[str, str]:
    """Entry points of the ``dualduty`` group: name -> ``module:object``."""
    from importlib import metadata

    return {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def make_plugin_manager(*, entry_points: bool = True) -> pluggy.PluginManager:
    """A new plugin manager with the built-in plugin and (optionally) the installed ones.

    Honours ``DUALDUTY_LOAD_PLUGINS`` and ``DUALDUTY_DISABLED_PLUGINS``.

    :param entry_points: load plugins from the ``dualduty`` entry-point group.
    :raises PluginError: when a plugin cannot be imported or implements an unknown hook.
    """
    from . import _builtin, hookspecs

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in _names("DUALDUTY_DISABLED_PLUGINS") or ():
        pm.set_blocked(name)
    pm.register(_builtin, name=BUILTIN)
    if entry_points:
        installed = _installed()
        wanted = _names("DUALDUTY_LOAD_PLUGINS")
        for name in installed if wanted is None else wanted:
            if name not in installed or pm.has_plugin(name) or pm.is_blocked(name):
                continue
            hint = f"(disable it with DUALDUTY_DISABLED_PLUGINS={name})"
            try:
                pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name)
            except pluggy.PluginValidationError as exc:
                raise PluginError(f"plugin {name!r} ({installed[name]}): {exc} {hint}") from exc
            except Exception as exc:
                raise PluginError(
                    f"plugin {name!r} ({installed[name]}) cannot be loaded: "
                    f"{type(exc).__name__}: {exc} {hint}"
                ) from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(
            f"plugin {name!r} implements a hook dualduty does not know: {exc} (check the "
            "spelling against the hook reference, or mark it @hookimpl(optionalhook=True); "
            f"disable the plugin with DUALDUTY_DISABLED_PLUGINS={name})"
        ) from exc
    return pm


def requested_but_missing(pm: pluggy.PluginManager) -> list[str]:
    """Names in ``DUALDUTY_LOAD_PLUGINS`` that *pm* neither loaded nor blocked.

    A misspelt name loads nothing; ``dualduty plugins`` warns about these.
    """
    return [
        name
        for name in _names("DUALDUTY_LOAD_PLUGINS") or ()
        if not pm.has_plugin(name) and not pm.is_blocked(name)
    ]


@cache
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, made on first use."""
    return make_plugin_manager()


def hooks() -> Hooks:
    """The typed hook wrapper around :func:`plugin_manager`."""
    return Hooks(plugin_manager())


@attrs.frozen
class PluginInfo:
    """One registered plugin, as ``dualduty plugins`` lists it."""

    name: str
    version: str | None
    hooks: tuple[str, ...]


class Hooks:
    """Every hook call core code makes, typed. Wraps one plugin manager."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._hook: Any = pm.hook

    def open_store(self, url: str, *, readonly: bool = False) -> StoreBackend | None:
        """Ask the storage plugins for a backend for *url*."""
        from .hookspecs import StoreRequest

        result: StoreBackend | None = self._hook.dualduty_open_store(
            request=StoreRequest(url, readonly)
        )
        return result

    def record_appended(self, store_url: str, entries: Sequence[Entry]) -> None:
        """Tell the event plugins about committed entries."""
        from .hookspecs import AppendedContext

        self._hook.dualduty_record_appended(context=AppendedContext(store_url, tuple(entries)))

    def record_kinds(self) -> list[type]:
        """The record classes the plugins register."""
        found: list[type] = []
        self._hook.dualduty_register_record_kinds(register=found.append)
        return found

    def channels(self) -> dict[str, Channel]:
        """Notification channels by name (later registrations replace earlier ones)."""
        found: list[Channel] = []
        self._hook.dualduty_register_channels(register=found.append)
        # pluggy calls the most recently registered plugins first: reverse so they win
        return {c.name: c for c in reversed(found)}

    def channel_types(self) -> dict[str, ChannelType]:
        """Channel types by name (later registrations replace earlier ones)."""
        found: list[ChannelType] = []
        self._hook.dualduty_register_channel_types(register=found.append)
        # pluggy calls the most recently registered plugins first: reverse so they win
        return {t.name: t for t in reversed(found)}

    def notification_routes(self, org: Organisation) -> list[Route]:
        """The routes plugins add for *org*'s notifications, in the order they answer."""
        found: list[Route] = []
        for answer in self._hook.dualduty_notification_routes(org=org):
            found.extend(answer or ())
        return found

    def rubric(self, org: Organisation, year: int) -> Rubric | None:
        """The rubric of the first plugin that gives one for *org*'s *year*."""
        found: Rubric | None = self._hook.dualduty_rubric(org=org, year=year)
        return found

    def scoring_rules(self) -> list[ScoringRule]:
        """Scoring rules from every plugin."""
        found: list[ScoringRule] = []
        self._hook.dualduty_register_scoring_rules(register=found.append)
        return found

    def adjust_assessment(
        self, context: ScoringContext, items: Sequence[ScoreItem | Veto]
    ) -> list[ScoreItem | Veto]:
        """Extra items and vetoes from every plugin."""
        from .scoring import AssessmentDraft

        extra: list[ScoreItem | Veto] = []
        draft = AssessmentDraft(context, tuple(items))
        for result in self._hook.dualduty_adjust_assessment(draft=draft):
            extra.extend(result)
        return extra

    def grade_bands(self, context: ScoringContext) -> Sequence[GradeBand] | None:
        """Grade bands from the first plugin that sets them."""
        bands: Sequence[GradeBand] | None = self._hook.dualduty_grade_bands(context=context)
        return bands

    def calendars(self) -> list[HolidayProvider | TermProvider]:
        """Calendar providers, the most recently registered plugin's first."""
        found: list[HolidayProvider | TermProvider] = []
        self._hook.dualduty_register_calendars(register=found.append)
        return found

    def package_solvers(self) -> dict[str, PackageSolver]:
        """Package solvers by name (later registrations replace earlier ones)."""
        found: list[PackageSolver] = []
        self._hook.dualduty_register_package_solvers(register=found.append)
        # pluggy calls the most recently registered plugins first: reverse so they win
        return {s.name: s for s in reversed(found)}

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin with its version and the hooks it implements.

        The built-in plugin comes first, then the others by name. The version is the
        distribution's, for plugins loaded from an entry point.
        """
        from importlib import metadata

        from ._version import __version__

        dists = {id(plugin): dist for plugin, dist in self.pm.list_plugin_distinfo()}
        out = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:  # blocked
                continue
            callers = self.pm.get_hookcallers(plugin) or ()
            # optional hooks this dualduty has no specification for are never called
            hooks = tuple(sorted(h.name for h in callers if h.has_spec()))
            dist: Any = dists.get(id(plugin))
            if dist is not None:
                version: str | None = dist.version
            elif name == BUILTIN:
                version = __version__
            else:
                try:
                    version = metadata.version(name)
                except (metadata.PackageNotFoundError, ValueError):
                    version = None
            out.append(PluginInfo(name, version, hooks))
        return sorted(out, key=lambda p: (p.name != BUILTIN, p.name))
