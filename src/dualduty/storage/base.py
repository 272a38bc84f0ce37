"""What a storage backend implements, and the rows it stores.

A backend stores sealed rows and hands them back; it knows nothing of record types,
JSON or hashes. The :class:`~dualduty.storage.Store` in front of every backend seals
records into rows (canonical JSON, SHA-256 chain), decodes rows into typed entries and
verifies the chain, so every backend — built in or from a plugin — has the same chain
semantics.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

import attrs

from dualduty.errors import DualdutyError

__all__ = [
    "GENESIS",
    "MessageRow",
    "Query",
    "Row",
    "StoreBackend",
    "StoreError",
    "Writer",
]

#: The ``prev`` hash of the first entry.
GENESIS = "0" * 64


class StoreError(DualdutyError):
    """A store cannot be opened, read or written (bad URL, missing directory, read-only, …)."""


class Row(NamedTuple):
    """One sealed record as a backend stores it."""

    seq: int
    """Position in the chain, from 1, without gaps."""
    kind: str
    actor: str
    ts: int
    """``at`` as microseconds since the Unix epoch (for period queries)."""
    subjects: tuple[str, ...]
    body: bytes
    """The canonical JSON of the entry (what the hash covers)."""
    hash: str


class MessageRow(NamedTuple):
    """One notification in the outbox, as a backend stores it."""

    id: int
    """Assigned by the backend when inserted (0 before)."""
    seq: int
    """The entry that caused it (0 if none)."""
    channel: str
    recipient: str
    body: bytes
    """The message as JSON."""
    state: str
    """``pending``, ``delivered`` or ``failed``."""
    attempts: int
    next_ts: int
    """When it may next be tried, in microseconds since the epoch."""
    created_ts: int
    detail: str
    """What the last attempt said (provider code, error)."""


@attrs.frozen
class Query:
    """Which rows to read. Every condition given must hold; rows come in ``seq`` order."""

    kind: str | None = None
    subject: str | None = None
    since_ts: int | None = None
    """Inclusive lower bound on ``ts``."""
    until_ts: int | None = None
    """Exclusive upper bound on ``ts``."""
    after_seq: int = 0
    limit: int | None = None


@runtime_checkable
class Writer(Protocol):
    """The open write transaction a backend hands out from :meth:`StoreBackend.writing`."""

    def head(self) -> tuple[int, str]:
        """The last ``seq`` and ``hash`` in the store, read under the write lock.

        ``(0, GENESIS)`` for an empty store.
        """

    def insert(self, rows: Sequence[Row], messages: Sequence[MessageRow]) -> None:
        """Add sealed rows and their outbox messages to the transaction."""


@runtime_checkable
class StoreBackend(Protocol):
    """A place that keeps sealed rows. Implement this to add a storage plugin.

    Return an instance from the :func:`~dualduty.hookspecs.dualduty_open_store` hook.
    """

    url: str
    """The URL the backend was opened with, safe to print (no password)."""

    def writing(self) -> contextlib.AbstractContextManager[Writer]:
        """A write transaction: committed durably when the block ends, rolled back on error.

        Writers from several processes must be serialised: :meth:`Writer.head` must
        return the true last row, and no other writer may append until this one ends.
        """

    def select(self, query: Query) -> Iterable[Row]:
        """Rows matching *query*, in ``seq`` order."""

    def count(self) -> int:
        """How many rows the store holds."""

    def messages(self, state: str | None = None, limit: int | None = None) -> list[MessageRow]:
        """Outbox messages (all, or in one state), oldest first."""

    def update_message(
        self, message_id: int, *, state: str, attempts: int, next_ts: int, detail: str
    ) -> None:
        """Record the outcome of a delivery attempt."""

    def close(self) -> None:
        """Release connections and files."""
