"""The built-in plugin: dualduty's own stores and channels, registered through the hooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .hookspecs import StoreRequest
from .notify import Channel, ChannelType
from .notify.channels import ConsoleChannel
from .plugins import hookimpl
from .records.accountability import KINDS as CASE_KINDS
from .records.activities import KINDS as ACTIVITY_KINDS
from .records.base import Note
from .records.hazards import HAZARD_KINDS
from .records.incidents import KINDS as INCIDENT_KINDS
from .records.kinds import KINDS
from .records.ledger import LEDGER_KINDS
from .records.meetings import KINDS as MEETING_KINDS
from .scoring.publish import KINDS as ASSESSMENT_KINDS
from .storage.base import StoreBackend

if TYPE_CHECKING:
    from .calendars import HolidayProvider, TermProvider
    from .planning import PackageSolver

#: The record kinds the built-in plugin registers, in order.
RECORD_KINDS: tuple[type, ...] = (
    Note,
    *HAZARD_KINDS,
    *KINDS,
    *INCIDENT_KINDS,
    *ACTIVITY_KINDS,
    *MEETING_KINDS,
    *CASE_KINDS,
    *LEDGER_KINDS,
    *ASSESSMENT_KINDS,
)


@hookimpl(trylast=True)
def dualduty_open_store(request: StoreRequest) -> StoreBackend | None:
    """``memory:`` and ``sqlite:///path``."""
    if request.url == "memory:":
        from .storage.memory import MemoryBackend

        return MemoryBackend()
    if request.url.startswith("sqlite:"):
        from .storage.sqlite import SqliteBackend

        return SqliteBackend(request.url, readonly=request.readonly)
    return None


@hookimpl
def dualduty_register_record_kinds(register: Callable[[type], None]) -> None:
    """The record kinds dualduty defines."""
    for kind in RECORD_KINDS:
        register(kind)


@hookimpl(trylast=True)
def dualduty_register_channels(register: Callable[[Channel], None]) -> None:
    """The ``console`` channel."""
    register(ConsoleChannel())


@hookimpl(trylast=True)
def dualduty_register_channel_types(register: Callable[[ChannelType], None]) -> None:
    """The ``console``, ``email`` and ``webhook`` channel types (imported when asked for)."""
    from .notify.channels import builtin_channel_types

    for channel_type in builtin_channel_types():
        register(channel_type)


@hookimpl(trylast=True)
def dualduty_register_package_solvers(register: Callable[[PackageSolver], None]) -> None:
    """The ``networkx`` solver (network simplex)."""
    from .planning._flow import NetworkXSolver

    register(NetworkXSolver())


@hookimpl(trylast=True)
def dualduty_register_calendars(
    register: Callable[[HolidayProvider | TermProvider], None],
) -> None:
    """The statutory holidays dualduty ships (2004–2026), asked after every plugin's."""
    from .calendars import BuiltinHolidays

    register(BuiltinHolidays())
