"""Append-only, tamper-evident storage of records, with an outbox for notifications.

Open a store with :func:`open_store`; backends come from storage plugins
(``memory:`` and ``sqlite:///path`` are built in).
"""

from __future__ import annotations

from typing import Any

from .base import (
    GENESIS,
    STATES,
    AttemptRow,
    MessageRow,
    Query,
    Row,
    Settlement,
    StoreBackend,
    StoreError,
    Writer,
)
from .store import (
    AppendObserverError,
    OutboxAttempt,
    OutboxItem,
    OutboxMessage,
    Store,
    Transaction,
    Verification,
)

__all__ = [
    "GENESIS",
    "STATES",
    "AppendObserverError",
    "AttemptRow",
    "MessageRow",
    "OutboxAttempt",
    "OutboxItem",
    "OutboxMessage",
    "Query",
    "Row",
    "Settlement",
    "Store",
    "StoreBackend",
    "StoreError",
    "Transaction",
    "Verification",
    "Writer",
    "open_store",
]


def open_store(
    url: str,
    *,
    readonly: bool = False,
    timezone: str = "Asia/Shanghai",
    hooks: object = None,
) -> Store:
    """Open the store at *url* through the storage plugins.

    The store tells the event plugins (:func:`~dualduty.hookspecs.dualduty_record_appended`)
    about every transaction it commits: the plugins registered when it was opened. A
    plugin registered later is not told by stores already open; open the store after
    registering it. When no plugin implements that hook, committing costs nothing more.

    :param url: ``memory:``, ``sqlite:///relative.db``, ``sqlite:////absolute.db``, or a
        URL a plugin understands (``postgresql://…``).
    :param readonly: open without writing; the store must exist.
    :param timezone: the zone entries' times are written in.
    :param hooks: a :class:`dualduty.plugins.Hooks` to use instead of the process-wide one.
    :raises StoreError: when no plugin knows the URL or the store cannot be opened.
    """
    from dualduty.plugins import Hooks
    from dualduty.plugins import hooks as default_hooks

    h = hooks if isinstance(hooks, Hooks) else default_hooks()
    h.record_kinds()  # make sure every plugin's record kinds are imported
    backend = h.open_store(url, readonly=readonly)
    if backend is None:
        if ":" not in url:  # a bare path: the commonest slip
            raise StoreError(
                f"not a store URL: {_safe(url)!r}; for a SQLite file write "
                f"sqlite:///{url} (relative) or sqlite:////absolute/path.db"
            )
        scheme = url.split(":", 1)[0]
        raise StoreError(
            f"no storage plugin opens {scheme!r} URLs ({_safe(url)}); {_builtin_stores(h.pm)}; "
            "see `dualduty plugins` for what is installed"
        )
    if not h.pm.hook.dualduty_record_appended.get_hookimpls():
        return Store(backend, timezone=timezone)

    def notify(entries: object) -> None:
        h.record_appended(backend.url, entries)  # type: ignore[arg-type]

    return Store(backend, timezone=timezone, observers=[notify])


def _builtin_stores(pm: Any) -> str:
    """What the built-in plugin offers, or why it offers nothing here."""
    import os

    from dualduty.plugins import BUILTIN

    stores = "memory:, sqlite:///path"
    if pm.has_plugin(BUILTIN):
        return f"built in: {stores}"
    if not pm.is_blocked(BUILTIN):
        return f"the built-in plugin ({stores}) is not registered with this plugin manager"
    variable = "DUALDUTY_DISABLED_PLUGINS"
    names = [name.strip() for name in os.environ.get(variable, "").split(",") if name.strip()]
    by = f"by {variable}={','.join(names)}" if BUILTIN in names else "in this plugin manager"
    return f"the built-in plugin {BUILTIN!r} ({stores}) is disabled {by}"


def _safe(url: str) -> str:
    """*url* without a password."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "an unparsable URL"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
