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
    "CLAIMED",
    "DEAD",
    "DELIVERED",
    "GENESIS",
    "OUTCOMES",
    "PENDING",
    "STATES",
    "AttemptRow",
    "MessageRow",
    "Query",
    "Row",
    "Settlement",
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


#: The states of an outbox message (see :class:`MessageRow`).
PENDING, CLAIMED, DELIVERED, DEAD = "pending", "claimed", "delivered", "dead"
#: Every outbox state, in the order a message passes through them.
STATES: tuple[str, ...] = (PENDING, CLAIMED, DELIVERED, DEAD)
#: What an attempt (or a claim handed back) comes to (see :class:`Settlement`).
OUTCOMES: tuple[str, ...] = ("delivered", "retry", "dead", "release")


class MessageRow(NamedTuple):
    """One notification in the outbox, as a backend stores it.

    The fields after ``detail`` were added with the dispatcher (schema version 3 of the
    SQLite store); they have defaults, so code that builds rows with the first ten keeps
    working.
    """

    id: int
    """Assigned by the backend when inserted (0 before)."""
    seq: int
    """The entry that caused it (0 if none)."""
    channel: str
    recipient: str
    body: bytes
    """The message as JSON."""
    state: str
    """``pending`` (waiting for its time), ``claimed`` (a dispatcher holds it),
    ``delivered`` or ``dead`` (given up: the dead-letter state)."""
    attempts: int
    """Delivery attempts since it was queued (or last re-queued from ``dead``)."""
    next_ts: int
    """When it may next be tried, in microseconds since the epoch: the retry schedule."""
    created_ts: int
    detail: str
    """What the last attempt said (the provider's message, an error)."""
    key: str | None = None
    """The idempotency key: the outbox holds at most one message per key, in any state."""
    urgent: bool = False
    """Claimed before every message that is not."""
    claimed_until: int = 0
    """While ``claimed``: when the claim (a lease) runs out, in microseconds since the
    epoch; a claim that ran out may be claimed again. It also tells one claim from the
    next, so it is the claim's token. ``0`` when not claimed."""
    provider_code: str | None = None
    """The provider's code of the last attempt (an HTTP status, ``errcode``, SMTP reply)."""
    delivered_ts: int | None = None
    """When it was delivered."""
    digest: int | None = None
    """The id of the digest message that carries it, when it was merged into one; a digest
    message names itself. A message held by its digest is ``claimed`` with no lease, and
    becomes ``delivered`` or ``dead`` with its digest."""


class Settlement(NamedTuple):
    """What became of one claimed message (:meth:`StoreBackend.settle`)."""

    id: int
    """The message."""
    claim: int
    """The ``claimed_until`` it was claimed with (the claim's token)."""
    outcome: str
    """``delivered``; ``retry`` (pending again at ``next_ts``); ``dead``; or ``release``:
    handed back untried, pending again at ``next_ts`` (a rate limit, a lease running
    short). Only the first three are attempts: they count and are logged."""
    ts: int
    """When the attempt was made (microseconds since the epoch)."""
    next_ts: int = 0
    """For ``retry`` and ``release``: when it may be tried again."""
    attempt: int = 0
    """The attempt's number (the claimed row's ``attempts`` + 1); 0 for ``release``."""
    provider_code: str | None = None
    detail: str = ""
    duration_us: int = 0
    """How long the attempt took, in microseconds."""


class AttemptRow(NamedTuple):
    """One delivery attempt in the attempts log."""

    message: int
    """The outbox message's id."""
    n: int
    """Its attempt number, from 1 (again from 1 after it was re-queued from ``dead``)."""
    ts: int
    """When it was made, in microseconds since the epoch."""
    outcome: str
    """``delivered``, ``retry`` or ``dead``."""
    provider_code: str | None
    detail: str
    duration_us: int


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
    """The open write transaction a backend hands out from :meth:`StoreBackend.writing`.

    A writer may also implement one optional method, which :meth:`Transaction.readdress()
    <dualduty.storage.Transaction.readdress>` calls (a handover moves a person's pending
    notifications to their successor with it; the built-in backends have it):

    .. py:method:: readdress(changes: Sequence[tuple[int, str, bytes]]) -> list[bool]

       For each ``(message id, recipient, body)``: set that outbox message's ``recipient``
       and ``body`` if it is ``pending`` and carried by no digest, in this transaction
       (committed or rolled back with it). Returns, for each change, whether it applied
       (``False``: no such message, or no longer pending — claimed, delivered, dead). The
       answer is final: a dispatcher cannot claim the message before the transaction ends.

       .. versionadded:: 0.1
    """

    def head(self) -> tuple[int, str]:
        """The last ``seq`` and ``hash`` in the store, read under the write lock.

        ``(0, GENESIS)`` for an empty store.
        """

    def insert(self, rows: Sequence[Row], messages: Sequence[MessageRow]) -> None:
        """Add sealed rows and their outbox messages to the transaction.

        A message whose ``key`` the outbox already holds (in any state), or that an
        earlier message of the transaction has, is left out: the outbox holds at most
        one message per key.
        """


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

    # -- the outbox -------------------------------------------------------------------
    #
    # Every method below that writes runs in a transaction of its own (like `writing`,
    # it refuses to run while this connection has a transaction open) and is all or
    # nothing. Times are microseconds since the epoch, from the caller's clock.

    def messages(self, state: str | None = None, limit: int | None = None) -> list[MessageRow]:
        """Outbox messages (all, or in one state), by ``id``."""

    def outbox_counts(self) -> dict[str, int]:
        """How many messages are in each state: every one of :data:`STATES`, 0 if none."""

    def enqueue(self, messages: Sequence[MessageRow]) -> list[int | None]:
        """Add *messages* to the outbox (outside any record's transaction).

        A message whose ``key`` the outbox already holds, in any state (or that an
        earlier message of *messages* has), is not added. Like :meth:`Writer.insert`,
        which does the same inside a record's transaction.

        :returns: for each message, its new ``id``, or ``None`` if it was not added.
        """

    def claim(self, now_ts: int, until_ts: int, limit: int) -> list[MessageRow]:
        """Claim up to *limit* due messages for one dispatcher, atomically.

        Due: ``pending`` with ``next_ts <= now_ts``, or ``claimed`` with a lease that ran
        out (``claimed_until <= now_ts``; not one held by its digest). Taken urgent
        first, then by ``next_ts``, then by ``id``; each becomes ``claimed`` with
        ``claimed_until = until_ts`` and is returned so. Two dispatchers, in any
        processes, never both claim a message while its claim holds.
        """

    def settle(self, settlements: Sequence[Settlement]) -> list[bool]:
        """Record what became of claimed messages, all in one transaction.

        For each :class:`Settlement`: ``delivered`` makes the message ``delivered``
        (``attempts`` + 1, ``delivered_ts``, ``provider_code``, ``detail``) unless it
        already is, whoever holds it now: the provider took it. ``retry`` makes it
        ``pending`` again at ``next_ts``, ``dead`` makes it ``dead`` (both ``attempts``
        + 1, with the code and detail), and ``release`` makes it ``pending`` at
        ``next_ts`` untouched otherwise — these three only while the claim still holds
        (``claimed`` with ``claimed_until == claim``). Every ``delivered``, ``retry``
        and ``dead`` is appended to the attempts log, applied or not.

        When the message is a digest (its ``digest`` is its own ``id``), ``delivered``
        and ``dead`` apply to the messages it carries too (their ``attempts`` unchanged,
        their ``detail`` naming the digest).

        :returns: for each settlement, whether it changed the message.
        """

    def merge(self, ids: Sequence[int], claim: int, digest: MessageRow) -> int | None:
        """Carry the claimed messages *ids* in one new *digest* message, atomically.

        Only when every one of them is held by this claim (``claimed`` with
        ``claimed_until == claim``) and is carried by no digest yet: then *digest* is
        inserted ``claimed`` under the same claim, its ``digest`` set to its own id, and
        each message's ``digest`` to that id (they stay ``claimed``, held by the digest,
        with ``claimed_until`` 0).

        :returns: the digest's id, or ``None`` (nothing changed) if one was not held.
        """

    def requeue_dead(self, now_ts: int, ids: Sequence[int] | None = None) -> int:
        """Make ``dead`` messages (all, or those of *ids*) ``pending`` again, due at
        *now_ts* with ``attempts`` 0. A dead message carried by a digest is re-queued with
        its digest: the digest becomes ``pending``, the messages it carries ``claimed``
        (held by it) again.

        :returns: how many messages changed state.
        """

    def attempts(
        self,
        message: int | None = None,
        *,
        channel: str | None = None,
        since_ts: int | None = None,
    ) -> list[AttemptRow]:
        """The attempts log (of one message, of one channel's messages, from a time on),
        in the order the attempts were logged."""

    def update_message(
        self, message_id: int, *, state: str, attempts: int, next_ts: int, detail: str
    ) -> None:
        """Set a message's state, attempts, next try and detail (for
        :meth:`Store.mark() <dualduty.storage.Store.mark>`; a dispatcher uses
        :meth:`claim` and :meth:`settle`).

        :raises KeyError: if there is no such message.
        """

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
