"""The ``memory:`` backend: rows in a list, for tests and notebooks; gone with the process."""

from __future__ import annotations

import bisect
import contextlib
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence

from .base import GENESIS, MessageRow, Query, Row, StoreError, index_differs, index_stray

__all__ = ["MemoryBackend"]


class _MemoryWriter:
    def __init__(self, backend: MemoryBackend) -> None:
        self.backend = backend
        self.rows: list[Row] = []
        self.messages: list[MessageRow] = []

    def head(self) -> tuple[int, str]:
        rows = self.backend.rows
        return (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS)

    def insert(self, rows: Sequence[Row], messages: Sequence[MessageRow]) -> None:
        self.rows.extend(rows)
        self.messages.extend(messages)


class MemoryBackend:
    """Rows in memory. Writers in threads of one process are serialised by a lock."""

    def __init__(self, url: str = "memory:") -> None:
        self.url = url
        self.rows: list[Row] = []
        self.by_subject: dict[str, list[int]] = defaultdict(list)
        self.outbox: list[MessageRow] = []
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
            next_id = len(self.outbox) + 1
            for i, m in enumerate(writer.messages):
                self.outbox.append(m._replace(id=next_id + i))

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

    def update_message(
        self, message_id: int, *, state: str, attempts: int, next_ts: int, detail: str
    ) -> None:
        self._check_not_writing()
        with self._lock:
            i = message_id - 1
            if not 0 <= i < len(self.outbox):
                raise KeyError(f"no outbox message {message_id}")
            self.outbox[i] = self.outbox[i]._replace(
                state=state, attempts=attempts, next_ts=next_ts, detail=detail
            )

    def close(self) -> None:
        self.closed = True
