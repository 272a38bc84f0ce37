"""What a storage backend implements, and the rows it stores.

A backend stores sealed rows and hands them back; it knows nothing of record types,
JSON or hashes. The :class:`~dualduty.storage.Store` in front of every backend seals
records into rows (canonical JSON, SHA-256 chain), decodes rows into typed entries and
verifies the chain, so every backend — built in or from a plugin — has the same chain
semantics.
"""

from __future__ import annotations

import contextlib
from collections import Counter
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

    A backend that keeps an index of entries by subject (what reads by ``subject`` use)
    may also implement one optional method, which :meth:`Store.verify()
    <dualduty.storage.Store.verify>` calls when it is there (the SQLite backend has it):

    .. py:method:: check_index(last: int) -> tuple[int, str] | None

       Compare the index with the entries' own subjects (:attr:`Row.subjects`, which
       ``verify`` checks against each entry's content): the ``seq`` of the first entry up
       to *last* whose index rows differ from its subjects, with the reason, or ``None``
       when they agree. Index rows for an entry the store does not hold also count, at
       their ``seq``, even past *last*. Read the entries and the index in one snapshot,
       so that a writer appending meanwhile causes no false alarm.

       Without it, ``verify`` checks the chain and the indexed columns of each row, but
       cannot tell whether reads by subject find the right entries.
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


def index_differs(seq: int, subjects: Sequence[str], indexed: Sequence[str]) -> str | None:
    """Why entry *seq*'s rows in a subject index (*indexed*) differ from its *subjects*.

    ``None`` when they name the same subjects, in any order. For backends implementing
    ``check_index``, so that every backend gives the same reason.
    """
    want, got = Counter(subjects), Counter(indexed)
    if want == got:
        return None
    parts = []
    for what, names in (("missing", want - got), ("extra", got - want)):
        if names:
            shown = (s if isinstance(s, str) and s and s.isprintable() else repr(s) for s in names)
            parts.append(f"{what} {', '.join(shown)}")
    return (
        f"entry {seq}: its subject index differs from its content "
        f"(index altered: {'; '.join(parts)})"
    )


def index_stray(seq: object, before: int) -> tuple[int, str]:
    """Where to report index rows for an entry *seq* the store does not hold, and why.

    At *seq* itself when it is a position (a whole number from 1); otherwise at *before*,
    the position of the entry the walk had reached.
    """
    if isinstance(seq, int) and seq >= 1:
        return seq, (
            f"entry {seq}: the subject index has rows for it, but the store holds no "
            "such entry (index altered)"
        )
    return (
        before,
        f"the subject index has rows for an entry {seq!r}, which cannot be (index altered)",
    )
