"""Every hook of dualduty, in one place. This module is the reference for plugin authors.

A plugin is a module or object with functions named like the hooks below, decorated
with :data:`dualduty.plugins.hookimpl`, and registered through the ``dualduty``
entry-point group::

    # pyproject.toml of your plugin
    [project.entry-points.dualduty]
    my_district = "my_district_plugin"

Built-in behaviour (the ``memory:`` and ``sqlite:///`` stores, the console channel) is
registered through these same hooks, so a plugin can replace any of it. Hooks that
collect things take a ``register`` callback, so that their arguments can grow without
breaking plugins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs
import pluggy

if TYPE_CHECKING:
    from .calendars import HolidayProvider, TermProvider
    from .model import Organisation
    from .model.notify import Route
    from .notify import Channel, ChannelType
    from .planning import PackageSolver
    from .records.base import Entry
    from .scoring import (
        AssessmentDraft,
        GradeBand,
        ScoreItem,
        ScoringContext,
        ScoringRule,
        Veto,
    )
    from .scoring.rubric import Rubric
    from .storage.base import StoreBackend

__all__ = [
    "AppendedContext",
    "StoreRequest",
    "dualduty_adjust_assessment",
    "dualduty_grade_bands",
    "dualduty_notification_routes",
    "dualduty_open_store",
    "dualduty_record_appended",
    "dualduty_register_calendars",
    "dualduty_register_channel_types",
    "dualduty_register_channels",
    "dualduty_register_package_solvers",
    "dualduty_register_record_kinds",
    "dualduty_register_scoring_rules",
    "dualduty_rubric",
    "hookspec",
]

#: Marks the functions below as hook specifications of the ``dualduty`` project.
hookspec = pluggy.HookspecMarker("dualduty")


@attrs.frozen
class StoreRequest:
    """What :func:`dualduty_open_store` is asked to open.

    :param url: the store URL as the user gave it.
    :param readonly: open without writing (``dualduty verify`` does); fail if it does not exist.
    """

    url: str
    readonly: bool = False


@attrs.frozen
class AppendedContext:
    """What :func:`dualduty_record_appended` is told after a transaction commits.

    :param store_url: the URL of the store written to (no password).
    :param entries: the entries the transaction appended, in order.
    """

    store_url: str
    entries: Sequence[Entry]


# -- storage ------------------------------------------------------------------------------


@hookspec(firstresult=True)
def dualduty_open_store(request: StoreRequest) -> StoreBackend | None:
    """Open a storage backend for ``request.url``, or return ``None`` if the URL is not yours.

    The first non-``None`` result wins (``firstresult``). Raise
    :class:`dualduty.storage.StoreError` with a clear message (never a password) when the
    URL is yours but cannot be opened. Built in: ``memory:`` and ``sqlite:///path``.

    :param request: the URL and whether to open read-only.
    :returns: a :class:`dualduty.storage.StoreBackend`, or ``None``.

    .. versionadded:: 0.1
    """


# -- events -------------------------------------------------------------------------------


@hookspec
def dualduty_record_appended(context: AppendedContext) -> None:
    """Observe the records of a transaction, called once after it commits.

    Every implementation is called (not ``firstresult``), in the thread that committed
    the transaction. Use it to forward records elsewhere (a provincial system, a log).
    The records are already durable when this runs: an exception here is reported to
    the caller as :class:`dualduty.storage.AppendObserverError`, which says they were
    committed. For delivery that must not be lost, write to the outbox in the
    transaction instead. A store tells the plugins that implement this hook when it is
    opened (:func:`dualduty.storage.open_store`); register yours before opening.

    :param context: the store's URL and the appended entries.

    .. versionadded:: 0.1
    """


@hookspec
def dualduty_register_record_kinds(register: Callable[[type], None]) -> None:
    """Register attrs classes as record kinds (see :func:`dualduty.records.record_kind`).

    Call ``register(cls)`` for each class already decorated with ``@record_kind(name)``;
    this makes sure the module defining them is imported whenever plugins are loaded.
    Every implementation is called (not ``firstresult``). Give kinds a prefix of your
    own (``my_district.drill``): a name registered twice for different classes is an error.
    Built in: ``note``.

    :param register: call it with each record class.

    .. versionadded:: 0.1
    """


# -- notification channels ---------------------------------------------------------------------


@hookspec
def dualduty_register_channels(register: Callable[[Channel], None]) -> None:
    """Register notification channels by name.

    Call ``register(channel)`` for each :class:`dualduty.notify.Channel` you provide.
    Every implementation is called (not ``firstresult``). A channel registered later
    under the same name replaces the earlier one, and the built-in plugin registers
    last-called (``trylast``), so a plugin's channel replaces a built-in one of the same
    name. Built in: ``console`` (writes to the ``dualduty.notify.console`` logger).

    :param register: call it with each channel.

    .. versionadded:: 0.1
    """


@hookspec
def dualduty_register_channel_types(register: Callable[[ChannelType], None]) -> None:
    """Register channel types: factories of channels from the settings of a district file.

    Call ``register(channel_type)`` for each :class:`dualduty.notify.ChannelType` you
    provide. A district file's ``[notify.channels.<name>]`` table with ``type = "<type>"``
    is made into a channel by the type of that name. Every implementation is called (not
    ``firstresult``); a type registered later under the same name replaces the earlier
    one, and the built-in plugin registers last-called (``trylast``), so a plugin's type
    replaces a built-in one of the same name. Built in: ``console``, ``email`` and
    ``webhook`` (:doc:`/reference/channels`).

    :param register: call it with each channel type.

    .. versionadded:: 0.1
    """


@hookspec
def dualduty_notification_routes(org: Organisation) -> Sequence[Route] | None:
    """Routes to add to those in force for *org*'s notifications.

    Return :class:`dualduty.model.notify.Route` objects, or ``None``. Every
    implementation is called (not ``firstresult``); all their routes are added, in the
    order the plugins answer, after the plan's defaults and the district file's
    ``[notify]`` routes: they add, they replace nothing. A plugin's own event kinds have a
    dot in their name (``mydistrict.drill``). The channels a route names must exist at
    delivery.

    :param org: the organisation whose events are routed.
    :returns: the routes to add, or ``None``.

    .. versionadded:: 0.1
    """


# -- scoring ------------------------------------------------------------------------------


@hookspec(firstresult=True)
def dualduty_rubric(org: Organisation, year: int) -> Rubric | None:
    """The rubric to assess *org*'s *year* by, or ``None`` to leave it to the next plugin.

    Asked when no rubric is given (no ``--rubric`` on ``dualduty assess``, no ``rubric=``
    to :func:`dualduty.scoring.assess`), so that installing a district's plugin alone
    changes its weights. The first non-``None`` result wins (``firstresult``); with none,
    the plan's default rubric (:func:`dualduty.scoring.default_rubric`) is used. Derive
    yours from it with ``attrs.evolve`` or load it from a file shipped with the plugin
    (:func:`dualduty.scoring.load_rubric`).

    :param org: the organisation assessed.
    :param year: the year assessed.
    :returns: a :class:`dualduty.scoring.Rubric`, or ``None``.

    .. versionadded:: 0.1
    """


@hookspec
def dualduty_register_scoring_rules(register: Callable[[ScoringRule], None]) -> None:
    """Contribute rules to the year-end assessment (年终考核).

    Call ``register(rule)`` for each :class:`dualduty.scoring.ScoringRule`. A rule yields
    :class:`~dualduty.scoring.ScoreItem`\\ s (points with evidence and an explanation)
    and :class:`~dualduty.scoring.Veto`\\ es (一票否决). Every implementation is called
    (not ``firstresult``); the rules of all plugins are applied.

    :param register: call it with each rule.

    .. versionadded:: 0.1
    """


@hookspec
def dualduty_adjust_assessment(draft: AssessmentDraft) -> Sequence[ScoreItem | Veto] | None:
    """Add items or vetoes to a unit's assessment once every rule has scored it.

    Return extra items (a local bonus, a deduction, a veto) or ``None``. Every
    implementation is called (not ``firstresult``) and sees the same draft; their
    results are all added. Items cannot be removed: a local rule that disagrees adds a
    correcting item with its reason, so the assessment stays explainable.

    :param draft: the assessment so far: ``draft.context`` (the unit, year,
        organisation and store being assessed) and ``draft.items`` (what the rules
        produced). It may gain fields in later versions.
    :returns: the items and vetoes to add, or ``None`` for none.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def dualduty_grade_bands(context: ScoringContext) -> Sequence[GradeBand] | None:
    """Replace the grade bands (defaults 优秀 >= 90, 良好 >= 80, 合格 >= 60, 不合格 below).

    The first non-``None`` result wins (``firstresult``).

    :param context: the assessment the bands are for.
    :returns: the bands, highest first, or ``None`` to keep the rubric's. They must
        include the award's minimum grade (the engine refuses them otherwise).

    .. versionadded:: 0.1
    """


# -- calendars ----------------------------------------------------------------------------


@hookspec
def dualduty_register_calendars(
    register: Callable[[HolidayProvider | TermProvider], None],
) -> None:
    """Register working-day providers: statutory holidays (调休 included) and school terms.

    Call ``register(provider)`` with a :class:`dualduty.calendars.HolidayProvider` or a
    :class:`dualduty.calendars.TermProvider`. Every implementation is called (not
    ``firstresult``). Providers are asked the most recently registered plugin's first;
    the first that knows a year answers for it. Built in: China's statutory holidays
    2004–2026 (:class:`dualduty.calendars.BuiltinHolidays`), registered ``trylast`` so a
    plugin's data for a year replaces the shipped one.

    :param register: call it with each provider.

    .. versionadded:: 0.1
    """


# -- package planning ---------------------------------------------------------------------


@hookspec
def dualduty_register_package_solvers(register: Callable[[PackageSolver], None]) -> None:
    """Register min-cost-flow solvers for the package planner (分包学校, clause 三.1).

    Call ``register(solver)`` for each :class:`dualduty.planning.PackageSolver` you
    provide; its ``name`` is how users pick it
    (``plan_packages(org, solver="ortools")``, ``dualduty packages --solver ortools``).
    Every implementation is called (not ``firstresult``). A solver registered later under
    the same name replaces the earlier one, and the built-in plugin registers last-called
    (``trylast``), so a plugin's solver replaces a built-in one of the same name. Built
    in: ``networkx`` (network simplex). A solver must be exact on integers,
    deterministic and picklable (the planner may solve in worker processes).

    :param register: call it with each solver.

    .. versionadded:: 0.1
    """
