"""Append-only, tamper-evident storage of records, with an outbox for notifications.

Open a store with :func:`open_store`; backends come from storage plugins
(``memory:`` and ``sqlite:///path`` are built in).
"""

from __future__ import annotations

from .base import GENESIS, MessageRow, Query, Row, StoreBackend, StoreError, Writer
from .store import (
    AppendObserverError,
    OutboxItem,
    OutboxMessage,
    Store,
    Transaction,
    Verification,
)

__all__ = [
    "GENESIS",
    "AppendObserverError",
    "MessageRow",
    "OutboxItem",
    "OutboxMessage",
    "Query",
    "Row",
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
            f"no storage plugin opens {scheme!r} URLs ({_safe(url)}); built in: memory:, "
            "sqlite:///path; see `dualduty plugins` for what is installed"
        )

    def notify(entries: object) -> None:
        h.record_appended(backend.url, entries)  # type: ignore[arg-type]

    return Store(backend, timezone=timezone, observers=[notify])


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
