"""The ``memory:`` backend: rows in a list, for tests and notebooks; gone with the process."""

from __future__ import annotations

import bisect
import contextlib
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence

from .base import (
    CLAIMED,
    DEAD,
    DELIVERED,
    GENESIS,
    PENDING,
    STATES,
    AttemptRow,
    MessageRow,
    Query,
    Row,
    Settlement,
    StoreError,
    index_differs,
    index_stray,
)

__all__ = ["MemoryBackend"]


class _MemoryWriter:
    def __init__(self, backend: MemoryBackend) -> None:
        self.backend = backend
        self.rows: list[Row] = []
        self.messages: list[MessageRow] = []
        self.readdressed: dict[int, tuple[str, bytes]] = {}

    def head(self) -> tuple[int, str]:
        rows = self.backend.rows
        return (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS)

    def insert(self, rows: Sequence[Row], messages: Sequence[MessageRow]) -> None:
        self.rows.extend(rows)
        self.messages.extend(messages)

    def readdress(self, changes: Sequence[tuple[int, str, bytes]]) -> list[bool]:
        # The backend's lock is held until the transaction ends, so no claim can come
        # between this answer and the commit, which applies the changes.
        outbox = self.backend.outbox
        done = []
        for id_, recipient, body in changes:
            ok = 1 <= id_ <= len(outbox) and _readdressable(outbox[id_ - 1])
            if ok:
                self.readdressed[id_] = (recipient, body)
            done.append(ok)
        return done


def _readdressable(m: MessageRow) -> bool:
    return m.state == PENDING and m.digest is None


class MemoryBackend:
    """Rows in memory. Writers in threads of one process are serialised by a lock."""

    def __init__(self, url: str = "memory:") -> None:
        self.url = url
        self.rows: list[Row] = []
        self.by_subject: dict[str, list[int]] = defaultdict(list)
        self.outbox: list[MessageRow] = []
        """The outbox; a message's ``id`` is its position in it, from 1."""
        self.keys: dict[str, int] = {}
        """The outbox's idempotency keys, each with its message's ``id``."""
        self.attempt_log: list[AttemptRow] = []
        self._lock = threading.Lock()
        self._writer_thread: int | None = None
        self.closed = False

    def _check_not_writing(self) -> None:
        if self._writer_thread == threading.get_ident():  # the lock would wait for ever
            raise StoreError(
                f"store {self.url}: a transaction is already open in this thread "
                "(transactions do not nest)"
            )

    @contextlib.contextmanager
    def writing(self) -> Iterator[_MemoryWriter]:
        self._check_not_writing()
        with self._lock:
            self._writer_thread = threading.get_ident()
            try:
                writer = _MemoryWriter(self)
                yield writer  # an exception here leaves nothing behind
            finally:
                self._writer_thread = None
            for row in writer.rows:
                self.rows.append(row)
                for subject in row.subjects:
                    self.by_subject[subject].append(row.seq)
            for id_, (recipient, body) in writer.readdressed.items():
                old = self.outbox[id_ - 1]
                self.outbox[id_ - 1] = old._replace(recipient=recipient, body=body)
            self._add(writer.messages)

    def _add(self, messages: Sequence[MessageRow]) -> list[int | None]:
        """Append *messages* but those whose key is taken (the lock is held)."""
        ids: list[int | None] = []
        for m in messages:
            if m.key is not None and m.key in self.keys:
                ids.append(None)
                continue
            new = len(self.outbox) + 1
            self.outbox.append(m._replace(id=new))
            if m.key is not None:
                self.keys[m.key] = new
            ids.append(new)
        return ids

    @contextlib.contextmanager
    def _outbox_lock(self) -> Iterator[None]:
        self._check_not_writing()
        with self._lock:
            yield

    def select(self, query: Query) -> Iterator[Row]:
        rows = self.rows
        if query.subject is not None:
            seqs = self.by_subject.get(query.subject, [])
            start = bisect.bisect_right(seqs, query.after_seq)
            candidates: Iterator[Row] = (rows[s - 1] for s in seqs[start:])
        else:
            candidates = iter(rows[max(query.after_seq, 0) :])
        n = 0
        for row in candidates:
            if query.limit is not None and n >= query.limit:
                return
            if query.kind is not None and row.kind != query.kind:
                continue
            if query.since_ts is not None and row.ts < query.since_ts:
                continue
            if query.until_ts is not None and row.ts >= query.until_ts:
                continue
            n += 1
            yield row

    def count(self) -> int:
        return len(self.rows)

    def check_index(self, last: int) -> tuple[int, str] | None:
        """The first entry up to *last* whose entries in :attr:`by_subject` differ from it."""
        # No lock (verify may run inside a transaction): a commit adds a row before its
        # index entries, so every index entry copied first has its row in the copy after.
        index = [(subject, list(seqs)) for subject, seqs in dict(self.by_subject).items()]
        rows = list(self.rows)
        by_seq: dict[int, list[str]] = defaultdict(list)
        for subject, seqs in index:
            for seq in seqs:
                by_seq[seq].append(subject)
        for row in rows[: max(last, 0)]:
            found = index_differs(row.seq, row.subjects, by_seq.pop(row.seq, ()))
            if found is not None:
                return row.seq, found
        held = {row.seq for row in rows}
        strays = sorted(seq for seq in by_seq if seq not in held)
        return index_stray(strays[0], max(last, 0) + 1) if strays else None

    def messages(self, state: str | None = None, limit: int | None = None) -> list[MessageRow]:
        found = [m for m in self.outbox if state is None or m.state == state]
        return found if limit is None else found[:limit]

    def outbox_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for m in list(self.outbox):
            counts[m.state] = counts.get(m.state, 0) + 1
        return counts

    def enqueue(self, messages: Sequence[MessageRow]) -> list[int | None]:
        with self._outbox_lock():
            return self._add(messages)

    def claim(self, now_ts: int, until_ts: int, limit: int) -> list[MessageRow]:
        with self._outbox_lock():
            due = [
                m
                for m in self.outbox
                if (m.state == PENDING and m.next_ts <= now_ts)
                or (
                    m.state == CLAIMED
                    and m.claimed_until <= now_ts
                    and (m.digest is None or m.digest == m.id)
                )
            ]
            due.sort(key=lambda m: (not m.urgent, m.next_ts, m.id))
            claimed = []
            for m in due[: max(limit, 0)]:
                taken = m._replace(state=CLAIMED, claimed_until=until_ts)
                self.outbox[m.id - 1] = taken
                claimed.append(taken)
            return claimed

    def _row(self, message_id: int) -> MessageRow | None:
        return self.outbox[message_id - 1] if 0 < message_id <= len(self.outbox) else None

    def settle(self, settlements: Sequence[Settlement]) -> list[bool]:
        with self._outbox_lock():
            done = []
            for s in settlements:
                if s.outcome != "release":
                    self.attempt_log.append(
                        AttemptRow(
                            s.id, s.attempt, s.ts, s.outcome, s.provider_code, s.detail,
                            s.duration_us,
                        )
                    )  # fmt: skip
                done.append(self._settle(s))
            return done

    def _settle(self, s: Settlement) -> bool:
        m = self._row(s.id)
        if m is None:
            return False
        held = m.state == CLAIMED and m.claimed_until == s.claim
        if s.outcome == "delivered":
            if m.state == DELIVERED:
                return False
            m = m._replace(
                state=DELIVERED,
                attempts=m.attempts + 1,
                delivered_ts=s.ts,
                provider_code=s.provider_code,
                detail=s.detail,
                claimed_until=0,
            )
        elif not held:
            return False
        elif s.outcome == "release":
            m = m._replace(state=PENDING, next_ts=s.next_ts, claimed_until=0)
        elif s.outcome in ("retry", "dead"):
            m = m._replace(
                state=PENDING if s.outcome == "retry" else DEAD,
                attempts=m.attempts + 1,
                next_ts=s.next_ts if s.outcome == "retry" else m.next_ts,
                provider_code=s.provider_code,
                detail=s.detail,
                claimed_until=0,
            )
        else:
            raise ValueError(f"unknown outcome {s.outcome!r}")
        self.outbox[m.id - 1] = m
        if m.digest == m.id and m.state in (DELIVERED, DEAD):
            self._carried(m)
        return True

    def _carried(self, digest: MessageRow) -> None:
        """Settle the messages *digest* carries as it was settled."""
        for i, m in enumerate(self.outbox):
            if m.digest != digest.id or m.id == digest.id:
                continue
            if digest.state == DELIVERED:
                self.outbox[i] = m._replace(
                    state=DELIVERED,
                    delivered_ts=digest.delivered_ts,
                    provider_code=digest.provider_code,
                    detail=f"delivered in digest {digest.id}",
                )
            else:
                self.outbox[i] = m._replace(
                    state=DEAD,
                    provider_code=digest.provider_code,
                    detail=f"carried by digest {digest.id}, which is dead: {digest.detail}",
                )

    def merge(self, ids: Sequence[int], claim: int, digest: MessageRow) -> int | None:
        with self._outbox_lock():
            rows = [self._row(i) for i in ids]
            if not rows or any(
                m is None or m.state != CLAIMED or m.claimed_until != claim or m.digest is not None
                for m in rows
            ):
                return None
            if digest.key is not None and digest.key in self.keys:
                return None
            new = len(self.outbox) + 1
            self.outbox.append(
                digest._replace(id=new, state=CLAIMED, claimed_until=claim, digest=new)
            )
            if digest.key is not None:
                self.keys[digest.key] = new
            for m in rows:
                assert m is not None
                self.outbox[m.id - 1] = m._replace(digest=new, claimed_until=0)
            return new

    def requeue_dead(self, now_ts: int, ids: Sequence[int] | None = None) -> int:
        with self._outbox_lock():
            wanted = None if ids is None else set(ids)
            targets: set[int] = set()
            for m in self.outbox:
                if m.state != DEAD or (wanted is not None and m.id not in wanted):
                    continue
                targets.add(m.digest if m.digest is not None else m.id)
            changed = 0
            for i in sorted(targets):
                m = self.outbox[i - 1]
                if m.state != DEAD:
                    continue
                self.outbox[i - 1] = m._replace(
                    state=PENDING, next_ts=now_ts, attempts=0, claimed_until=0
                )
                changed += 1
                if m.digest != m.id:
                    continue
                for j, c in enumerate(self.outbox):
                    if c.digest == m.id and c.id != m.id and c.state == DEAD:
                        self.outbox[j] = c._replace(state=CLAIMED, claimed_until=0)
                        changed += 1
            return changed

    def attempts(
        self,
        message: int | None = None,
        *,
        channel: str | None = None,
        since_ts: int | None = None,
    ) -> list[AttemptRow]:
        return [
            a
            for a in list(self.attempt_log)
            if (message is None or a.message == message)
            and (since_ts is None or a.ts >= since_ts)
            and (channel is None or self.outbox[a.message - 1].channel == channel)
        ]

    def update_message(
        self, message_id: int, *, state: str, attempts: int, next_ts: int, detail: str
    ) -> None:
        with self._outbox_lock():
            i = message_id - 1
            if not 0 <= i < len(self.outbox):
                raise KeyError(f"no outbox message {message_id}")
            self.outbox[i] = self.outbox[i]._replace(
                state=state,
                attempts=attempts,
                next_ts=next_ts,
                detail=detail,
                claimed_until=0,
            )

    def close(self) -> None:
        self.closed = True
