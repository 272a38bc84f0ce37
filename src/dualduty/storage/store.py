"""The Store: typed, append-only, tamper-evident records over any backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs
import orjson

from dualduty.errors import DualdutyError
from dualduty.model._checks import check_text
from dualduty.records.base import Entry, Record

from ._codec import Codec, check_chain, new_message_row, to_ts
from .base import (
    DEAD,
    GENESIS,
    STATES,
    AttemptRow,
    MessageRow,
    Query,
    Row,
    Settlement,
    StoreBackend,
    StoreError,
)

__all__ = [
    "AppendObserverError",
    "OutboxAttempt",
    "OutboxItem",
    "OutboxMessage",
    "Store",
    "Transaction",
    "Verification",
]


@attrs.frozen
class OutboxMessage:
    """A rendered notification waiting in the outbox for its channel to deliver it.

    :param channel: the channel's name (``console``, ``email``, ``webhook``, …).
    :param recipient: who it goes to, in the channel's terms (a person id, an address).
    :param title: a short subject line.
    :param text: the plain-text body.
    :param markdown: an optional Markdown body for channels that render it.
    :param urgent: deliver before anything else (a major hazard: 立即上报).
    :param key: the idempotency key (event, rule, recipient, channel, period): the outbox
        holds one message per key, so the same notification is never queued twice.
    """

    channel: str = attrs.field(validator=check_text)
    recipient: str = attrs.field(validator=check_text)
    title: str = attrs.field(validator=check_text)
    text: str
    markdown: str | None = None
    urgent: bool = False
    key: str | None = None


@attrs.frozen
class OutboxItem:
    """An outbox message as stored, with its delivery state."""

    id: int
    cause: int
    """The ``seq`` of the entry whose transaction wrote it (0 if none)."""
    message: OutboxMessage
    state: str
    """``pending``, ``claimed``, ``delivered`` or ``dead`` (see :doc:`/reference/outbox`)."""
    attempts: int
    next_attempt: dt.datetime
    """When it may be tried (again): the retry schedule."""
    created: dt.datetime
    detail: str
    """What the last attempt said."""
    provider_code: str | None = None
    """The provider's code of the last attempt."""
    claimed_until: dt.datetime | None = None
    """While ``claimed``: when the claim runs out (``None`` for a message held by its
    digest, and when not claimed)."""
    delivered: dt.datetime | None = None
    """When it was delivered."""
    digest: int | None = None
    """The id of the digest message carrying it (a digest names itself)."""

    @property
    def is_digest(self) -> bool:
        """Whether this is a digest message, carrying others."""
        return self.digest == self.id

    @property
    def claim(self) -> int:
        """The token of the claim that holds it, for :attr:`Settlement.claim
        <dualduty.storage.Settlement.claim>`: :attr:`claimed_until` in microseconds since
        the epoch (0 when not claimed)."""
        return 0 if self.claimed_until is None else to_ts(self.claimed_until)


@attrs.frozen
class OutboxAttempt:
    """One delivery attempt, from the attempts log (:meth:`Store.attempts`)."""

    message: int
    """The outbox message's id."""
    n: int
    """Its attempt number, from 1 (again from 1 after it was re-queued from ``dead``)."""
    at: dt.datetime
    outcome: str
    """``delivered``, ``retry`` or ``dead``."""
    provider_code: str | None
    detail: str
    duration: float
    """Seconds the attempt took."""


@attrs.frozen
class Verification:
    """The result of walking the chain (:meth:`Store.verify`)."""

    checked: int
    """How many entries were found good, from the first."""
    total: int
    first_bad: int | None
    """The ``seq`` of the first entry that does not match, or ``None``."""
    reason: str | None
    head: str
    """The hash of the last good entry: publish it elsewhere to detect a cut-off tail."""

    @property
    def ok(self) -> bool:
        """Whether every entry matched."""
        return self.first_bad is None


class AppendObserverError(DualdutyError):
    """An observer of appended records failed. The records themselves were committed.

    Every observer is called even when one fails; :attr:`errors` holds each failure and
    the exception is chained (``__cause__``) to the first.
    """

    def __init__(
        self,
        entries: Sequence[Entry],
        cause: BaseException,
        errors: Sequence[BaseException] = (),
    ) -> None:
        self.entries = tuple(entries)
        self.errors = tuple(errors) or (cause,)
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(
            f"{len(self.entries)} record(s) were committed, but an observer failed: "
            f"{type(cause).__name__}: {cause}{more}"
        )


class Transaction:
    """A unit of work: records and outbox messages committed together or not at all.

    Get one from :meth:`Store.transaction`. Entries get their ``seq`` and hash when
    appended, but exist in the store only once the block ends without an exception.
    """

    def __init__(self, store: Store, head: tuple[int, str], writer: Any = None) -> None:
        self._store = store
        self._writer = writer
        self._open = True
        self.start = head
        self._seq, self._prev = head
        self.rows: list[Row] = []
        self.records: list[Record] = []
        self.messages: list[MessageRow] = []

    def _check_open(self) -> None:
        if not self._open:  # what is added now would silently never be written
            raise StoreError(
                f"store {self._store.url}: the transaction has ended; "
                "open a new one to append or enqueue"
            )

    def append(self, record: Record) -> Entry:
        """Seal *record* as the next entry of this transaction."""
        self._check_open()
        if not isinstance(record, Record):
            raise TypeError(f"expected a Record, got {type(record).__qualname__}")
        prev = self._prev
        row = self._store.codec.seal(record, self._seq + 1, prev)
        self._seq, self._prev = row.seq, row.hash
        self.rows.append(row)
        self.records.append(record)
        return Entry(row.seq, record, prev, row.hash)

    def extend(self, records: Iterable[Record]) -> None:
        """Seal many records (faster than :meth:`append` one by one: no entries are built)."""
        self._check_open()
        seal = self._store.codec.seal
        seq, prev = self._seq, self._prev
        rows = self.rows
        for record in records:
            if not isinstance(record, Record):
                raise TypeError(f"expected a Record, got {type(record).__qualname__}")
            seq += 1
            row = seal(record, seq, prev)
            prev = row.hash
            rows.append(row)
            self.records.append(record)
        self._seq, self._prev = seq, prev

    def enqueue(
        self,
        message: OutboxMessage,
        *,
        cause: Entry | None = None,
        due: dt.datetime | None = None,
    ) -> None:
        """Put a notification in the outbox, in the same transaction as its cause.

        A message whose ``key`` the outbox already holds, in any state,
        is left out when the transaction commits (so is a second one with the same key in
        this transaction): the same notification is never queued twice.

        :param cause: the entry that caused it (default: the last appended, if any).
        :param due: when it may first be delivered (default: at once).
        """
        self._check_open()
        self.messages.append(self._store._message_row(message, cause, due, self))

    def readdress(self, item: OutboxItem, message: OutboxMessage) -> bool:
        """Send a pending outbox message to someone else instead, in this transaction.

        *message* replaces the item's message (its new recipient, and a text that may
        name them); it keeps its id, key, cause and place in the queue. Only a message
        still ``pending`` and carried by no digest changes: one a dispatcher has claimed,
        delivered or given up stays as it is. The answer is final when the transaction
        commits (no dispatcher can claim the message meanwhile).

        :returns: whether the message was changed.
        :raises ~dualduty.storage.StoreError: if the backend cannot re-address messages
            (its writer has no ``readdress``: see :class:`~dualduty.storage.base.Writer`).

        .. versionadded:: 0.1
        """
        self._check_open()
        message = _check_message(message)
        readdress = getattr(self._writer, "readdress", None)
        if readdress is None:
            raise StoreError(
                f"store {self._store.url}: this backend cannot re-address outbox messages"
            )
        body = self._store.codec.message_body(message)
        (done,) = readdress([(item.id, message.recipient, body)])
        return bool(done)


def _check_message(message: object) -> OutboxMessage:
    if not isinstance(message, OutboxMessage):
        raise TypeError(f"expected an OutboxMessage, got {type(message).__qualname__}")
    return message


class Store:
    """Append-only, tamper-evident records in a backend; open one with :func:`dualduty.open_store`.

    Every entry is the canonical JSON of a :class:`~dualduty.records.Record` with its
    position and the hash of the entry before, so :meth:`verify` detects any change.
    Use it as a context manager to close it.
    """

    def __init__(
        self,
        backend: StoreBackend,
        *,
        timezone: str = "Asia/Shanghai",
        observers: Sequence[Callable[[Sequence[Entry]], None]] = (),
    ) -> None:
        self.backend = backend
        self.codec = Codec(timezone)
        self._observers = list(observers)
        self._closed = False

    @property
    def url(self) -> str:
        """The URL the store was opened with (no password)."""
        return self.backend.url

    def __repr__(self) -> str:
        return f"<Store {self.url}>"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the backend (again: nothing happens). A closed store refuses every use."""
        if not self._closed:
            self._closed = True
            self.backend.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.url} is closed")

    # -- writing ---------------------------------------------------------------------

    def transaction(self) -> _TransactionContext:
        """A transaction: ``with store.transaction() as tx: tx.append(record)``."""
        self._check_open()
        return _TransactionContext(self)

    def append(self, *records: Record) -> list[Entry]:
        """Append records in one transaction; return their entries."""
        with self.transaction() as tx:
            return [tx.append(r) for r in records]

    def extend(self, records: Iterable[Record]) -> int:
        """Append many records in one transaction, fast; return how many."""
        with self.transaction() as tx:
            tx.extend(records)
            return len(tx.rows)

    def observe(self, observer: Callable[[Sequence[Entry]], None]) -> None:
        """Call *observer* with the entries of every transaction after it commits."""
        self._observers.append(observer)

    def _committed(self, tx: Transaction) -> None:
        if not self._observers or not tx.rows:
            return
        prevs = [tx.start[1], *(row.hash for row in tx.rows[:-1])]
        entries = [
            Entry(row.seq, record, prev, row.hash)
            for row, record, prev in zip(tx.rows, tx.records, prevs, strict=True)
        ]
        errors: list[Exception] = []
        for observer in self._observers:  # one failing observer must not starve the others
            try:
                observer(entries)
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise AppendObserverError(entries, errors[0], errors) from errors[0]

    # -- reading ---------------------------------------------------------------------

    def get(self, seq: int) -> Entry:
        """The entry at *seq*.

        :raises KeyError: if there is none.
        """
        self._check_open()
        rows = list(self.backend.select(Query(after_seq=seq - 1, limit=1)))
        if not rows or rows[0].seq != seq:
            raise KeyError(f"no entry {seq} in {self.url}")
        return self.codec.entry(rows[0])

    def read(
        self,
        *,
        kind: str | None = None,
        subject: str | None = None,
        since: dt.datetime | dt.date | None = None,
        until: dt.datetime | dt.date | None = None,
        after: int = 0,
        limit: int | None = None,
    ) -> Iterator[Entry]:
        """Entries in order, filtered by kind, subject and period ``[since, until)``.

        Dates are taken as midnight in the store's time zone. *after* skips entries up
        to that ``seq``; *limit* caps how many entries (after filtering) are returned.
        """
        self._check_open()
        if after < 0:
            raise ValueError(f"after must be a seq >= 0, got {after}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        query = Query(
            kind=kind,
            subject=subject,
            since_ts=None if since is None else to_ts(self._instant(since)),
            until_ts=None if until is None else to_ts(self._instant(until)),
            after_seq=after,
            limit=limit,
        )
        entry = self.codec.entry
        for row in self.backend.select(query):
            yield entry(row)

    def _instant(self, value: dt.datetime | dt.date) -> dt.datetime:
        if isinstance(value, dt.datetime):
            if value.utcoffset() is None:
                raise ValueError(f"{value!r} has no time zone")
            return value
        return dt.datetime(value.year, value.month, value.day, tzinfo=self.codec.zone)

    def __len__(self) -> int:
        self._check_open()
        return self.backend.count()

    def head(self) -> tuple[int, str]:
        """The last ``seq`` and its hash (``(0, GENESIS)`` when empty)."""
        self._check_open()
        rows = self.backend.count()
        if rows == 0:
            return 0, GENESIS
        (row,) = self.backend.select(Query(after_seq=rows - 1, limit=1))
        return row.seq, row.hash

    def verify(self) -> Verification:
        """Walk the whole chain and report the first entry that does not match.

        Each entry must hash to its stored hash, name the hash of the entry before and
        its own position, and have in the columns the backend indexes (kind, actor,
        time, subjects) what its content says. When the backend can check its index of
        entries by subject (the optional ``check_index`` of
        :class:`~dualduty.storage.StoreBackend`; the SQLite backend can), each entry's
        rows in it must name exactly its subjects too, and no rows may name an entry
        the store does not hold. ``checked`` and ``head`` then describe the entries
        before the first bad one, whichever check found it.

        The entries the store holds when the walk starts are checked; entries another
        writer appends meanwhile are left to the next walk.
        """
        self._check_open()
        backend = self.backend
        total = backend.count()
        checked, reason = check_chain(backend.select(Query(limit=total)))
        first_bad = None if reason is None else checked + 1
        if reason is None and checked != total:
            first_bad, reason = checked + 1, f"{total - checked} entries out of sequence"
        check_index = getattr(backend, "check_index", None)
        if check_index is not None:
            found: tuple[int, str] | None = check_index(checked)
            if found is not None and (first_bad is None or found[0] < first_bad):
                first_bad, reason = found
                checked = min(checked, first_bad - 1)
        head = GENESIS
        if checked:
            (row,) = backend.select(Query(after_seq=checked - 1, limit=1))
            head = row.hash
        return Verification(checked, total, first_bad, reason, head)

    # -- the outbox ------------------------------------------------------------------
    #
    # The dispatcher (dualduty.notify.dispatch) drives these; see docs/reference/outbox.md.

    def _message_row(
        self,
        message: object,
        cause: Entry | None,
        due: dt.datetime | None,
        tx: Transaction | None = None,
    ) -> MessageRow:
        message = _check_message(message)
        now = to_ts(dt.datetime.now(dt.UTC))
        body = self.codec.message_body(message)
        seq = 0
        if cause is not None:
            seq = cause.seq
        elif tx is not None and tx.rows:
            seq = tx._seq
        return new_message_row(
            seq,
            message.channel,
            message.recipient,
            body,
            now,
            key=message.key,
            urgent=message.urgent,
            due_ts=None if due is None else to_ts(due),
        )

    def enqueue(self, *messages: OutboxMessage, due: dt.datetime | None = None) -> int:
        """Put notifications in the outbox, outside any record's transaction (all or none).

        A message whose ``key`` the outbox already holds, in any state
        (or that an earlier one of *messages* has), is not queued again.

        :param due: when they may first be delivered (default: at once).
        :returns: how many were newly queued.
        """
        self._check_open()
        rows = [self._message_row(m, None, due) for m in messages]
        if not rows:
            return 0
        return sum(1 for i in self.backend.enqueue(rows) if i is not None)

    def outbox(self, state: str | None = "pending", limit: int | None = None) -> list[OutboxItem]:
        """Outbox messages, oldest first (``state=None`` for all).

        :param state: ``pending``, ``claimed``, ``delivered`` or ``dead`` (``failed``, its
            name before the dispatcher, is taken as ``dead``).
        """
        self._check_open()
        rows = self.backend.messages(_state(state) if state is not None else None, limit)
        return [self._item(m) for m in rows]

    def outbox_counts(self) -> dict[str, int]:
        """How many messages are in each state (every state, 0 if none)."""
        self._check_open()
        return self.backend.outbox_counts()

    def _item(self, m: MessageRow) -> OutboxItem:
        zone = self.codec.zone
        doc = orjson.loads(m.body)
        message = OutboxMessage(
            doc["channel"],
            doc["recipient"],
            doc["title"],
            doc["text"],
            doc.get("markdown"),
            bool(doc.get("urgent", False)),
            doc.get("key"),
        )
        return OutboxItem(
            m.id,
            m.seq,
            message,
            m.state,
            m.attempts,
            _from_ts(m.next_ts, zone),
            _from_ts(m.created_ts, zone),
            m.detail,
            m.provider_code,
            _from_ts(m.claimed_until, zone) if m.claimed_until else None,
            None if m.delivered_ts is None else _from_ts(m.delivered_ts, zone),
            m.digest,
        )

    def claim(
        self, limit: int, *, lease: float, now: dt.datetime | None = None
    ) -> list[OutboxItem]:
        """Claim up to *limit* due messages for *lease* seconds (urgent first, then by
        when they are due, then by id); another claim sees them only once the lease ran
        out. Settle each with :meth:`settle`.

        :param now: the time (default: the clock's).
        """
        self._check_open()
        if lease <= 0:
            raise ValueError(f"lease must be > 0 seconds, got {lease}")
        now_ts = to_ts(now if now is not None else dt.datetime.now(dt.UTC))
        until = now_ts + max(1, round(lease * 1_000_000))
        return [self._item(m) for m in self.backend.claim(now_ts, until, limit)]

    def settle(self, settlements: Sequence[Settlement]) -> list[bool]:
        """Record what became of claimed messages, in one transaction (see
        :meth:`StoreBackend.settle() <dualduty.storage.StoreBackend.settle>`).

        :returns: for each, whether it changed the message (``False``: the claim had run
            out and another dispatcher holds or settled the message).
        """
        self._check_open()
        for s in settlements:
            if s.outcome not in ("delivered", "retry", "dead", "release"):
                raise ValueError(f"unknown outcome {s.outcome!r}")
        return self.backend.settle(settlements) if settlements else []

    def merge(self, items: Sequence[OutboxItem], message: OutboxMessage) -> OutboxItem | None:
        """Carry the claimed *items* (one claim's) in one new digest *message*.

        The digest is claimed under the same claim; the items stay ``claimed``, held by
        it, and become ``delivered`` or ``dead`` when it does.

        :returns: the digest, or ``None`` (nothing changed) if an item is no longer held.
        """
        self._check_open()
        if not items:
            raise ValueError("merge needs at least one item")
        claims = {i.claimed_until for i in items}
        if len(claims) != 1 or None in claims:
            return None
        (until,) = claims
        assert until is not None
        claim = to_ts(until)
        row = self._message_row(message, None, None)
        new = self.backend.merge([i.id for i in items], claim, row)
        if new is None:
            return None
        return self._item(row._replace(id=new, state="claimed", claimed_until=claim, digest=new))

    def requeue_dead(
        self, ids: Sequence[int] | None = None, *, now: dt.datetime | None = None
    ) -> int:
        """Make ``dead`` messages (all, or those of *ids*) ``pending`` again, due *now*,
        with a fresh count of attempts (``dualduty notify --retry-dead``).

        :returns: how many messages changed state.
        """
        self._check_open()
        now_ts = to_ts(now if now is not None else dt.datetime.now(dt.UTC))
        return self.backend.requeue_dead(now_ts, ids)

    def attempts(
        self,
        item: int | None = None,
        *,
        channel: str | None = None,
        since: dt.datetime | None = None,
    ) -> list[OutboxAttempt]:
        """The attempts log: of one message (by id), of one channel's messages, from a
        time on; in the order the attempts were made."""
        self._check_open()
        zone = self.codec.zone
        rows: list[AttemptRow] = self.backend.attempts(
            item, channel=channel, since_ts=None if since is None else to_ts(since)
        )
        return [
            OutboxAttempt(
                a.message,
                a.n,
                _from_ts(a.ts, zone),
                a.outcome,
                a.provider_code,
                a.detail,
                a.duration_us / 1_000_000,
            )
            for a in rows
        ]

    def mark(
        self,
        item: OutboxItem,
        *,
        state: str,
        detail: str = "",
        retry_at: dt.datetime | None = None,
    ) -> None:
        """Record a delivery attempt's outcome for an outbox item, by hand.

        For code that delivers messages itself; the dispatcher uses :meth:`claim` and
        :meth:`settle`, which also keep the attempts log.

        :param state: ``pending`` (to try again at *retry_at*), ``delivered`` or ``dead``
            (``failed`` is taken as ``dead``).
        """
        self._check_open()
        state = _state(state)
        if state not in ("pending", "delivered", DEAD):
            raise ValueError(f"unknown outbox state {state!r}")
        next_ts = to_ts(retry_at) if retry_at is not None else to_ts(item.next_attempt)
        self.backend.update_message(
            item.id, state=state, attempts=item.attempts + 1, next_ts=next_ts, detail=detail
        )


def _state(state: str) -> str:
    """An outbox state by its name (``failed``: ``dead``)."""
    if state == "failed":
        return DEAD
    if state not in STATES:
        raise ValueError(f"unknown outbox state {state!r}")
    return state


def _from_ts(ts: int, zone: Any) -> dt.datetime:
    return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ts)).astimezone(zone)


class _TransactionContext:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._cm: Any = None
        self.tx: Transaction | None = None

    def __enter__(self) -> Transaction:
        self._cm = self.store.backend.writing()
        writer = self._cm.__enter__()
        self._writer = writer
        try:
            self.tx = Transaction(self.store, writer.head(), writer)
        except BaseException:
            self._cm.__exit__(None, None, None)
            raise
        return self.tx

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        tx = self.tx
        assert tx is not None
        tx._open = False
        if exc_type is None:
            try:
                self._writer.insert(tx.rows, tx.messages)
            except BaseException as err:
                self._cm.__exit__(type(err), err, err.__traceback__)
                raise
        self._cm.__exit__(exc_type, exc, tb)  # commits, or rolls back and lets exc go on
        if exc_type is None:
            self.store._committed(tx)
