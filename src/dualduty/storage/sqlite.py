"""The ``sqlite:///path`` backend: one file, WAL, durable commits, serialised writers.

URLs follow SQLAlchemy's convention: ``sqlite:///records.db`` is relative to the working
directory, ``sqlite:////var/lib/dualduty/records.db`` (four slashes) is absolute.
The schema is versioned (``PRAGMA user_version``) and migrated forward when the file is
opened for writing; a read-only open reads any older version as it is. A file from a
newer dualduty is refused rather than guessed at.

A read-only open (``dualduty verify``) leaves no file behind. SQLite reads a database in
write-ahead-log mode through two files beside it, ``-wal`` and ``-shm``, and creates
them if they are missing; the last connection to close removes them. So:

- when ``-wal`` exists (a writer has the store open, or was cut off), the store is read
  through it like any reader does, and those files stay for their owner;
- when it does not (nobody has the store open) and this process may write the file and
  its directory, the connection is opened for writing but set ``query_only``: it takes
  part in SQLite's locking like any reader, so a writer that starts meanwhile is safe,
  and being the last to close it removes the files it created;
- otherwise (a store one may only read: an archived copy, another account's file) the
  file is opened ``immutable``, which creates nothing and takes no locks. All committed
  entries are in the file then. A writer that started meanwhile could change the file
  under the reader only by a checkpoint, which changes its size or modification time:
  each read checks them when it ends, and fails rather than answer from a file that
  changed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from .base import (
    CLAIMED,
    DEAD,
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

__all__ = ["OLDEST_READABLE", "SCHEMA_VERSION", "SqliteBackend", "path_of"]

#: 'DDTY': marks a SQLite file as a dualduty store.
APPLICATION_ID = 0x44445459

# SQLite's primary result codes
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26

_SEP = "\x1f"  # joins subjects in the records table (ids never contain it)

_V3_COLUMNS = """
    ALTER TABLE outbox ADD COLUMN key TEXT;
    ALTER TABLE outbox ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN provider_code TEXT;
    ALTER TABLE outbox ADD COLUMN delivered_ts INTEGER;
    ALTER TABLE outbox ADD COLUMN digest INTEGER
    """

_V3_TABLES = """
    DROP INDEX outbox_state;
    CREATE INDEX outbox_due ON outbox (urgent DESC, next_ts, id) WHERE state = 'pending';
    CREATE INDEX outbox_lease ON outbox (claimed_until) WHERE state = 'claimed';
    CREATE INDEX outbox_dead ON outbox (id) WHERE state = 'dead';
    CREATE UNIQUE INDEX outbox_key ON outbox (key);
    CREATE INDEX outbox_digest ON outbox (digest) WHERE digest IS NOT NULL;
    CREATE TABLE attempts (
        message       INTEGER NOT NULL,
        n             INTEGER NOT NULL,
        ts            INTEGER NOT NULL,
        outcome       TEXT    NOT NULL,
        provider_code TEXT,
        detail        TEXT    NOT NULL,
        duration_us   INTEGER NOT NULL
    );
    CREATE INDEX attempts_message ON attempts (message)
    """


def _statements(db: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


def _outbox_v3(db: sqlite3.Connection) -> None:
    """Schema version 3: the outbox as the dispatcher needs it.

    Existing messages keep their state, but ``failed`` is now ``dead``; each takes its
    ``key`` and ``urgent`` from its body. Messages queued twice under one key (before
    keys were unique) keep the first; a later copy still pending is made ``dead`` with
    a detail saying why, so that it is not sent twice (``--retry-dead`` would send it).
    """
    _statements(db, _V3_COLUMNS)
    first: dict[str, int] = {}
    changes = []
    for message_id, body, old_state, old_detail in db.execute(
        "SELECT id, body, state, detail FROM outbox ORDER BY id"
    ).fetchall():
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            doc = None
        doc = doc if isinstance(doc, dict) else {}
        key = doc.get("key") if isinstance(doc.get("key"), str) else None
        state = DEAD if old_state == "failed" else old_state
        detail = old_detail
        if key is not None:
            if key in first:
                if state == PENDING:
                    state = DEAD
                    detail = (
                        f"not sent: a copy of outbox message {first[key]} (the same key), "
                        "queued before the outbox held one message per key"
                    )
                key = None
            else:
                first[key] = message_id
        changes.append((key, int(doc.get("urgent") is True), state, detail, message_id))
    db.executemany(
        "UPDATE outbox SET key = ?, urgent = ?, state = ?, detail = ? WHERE id = ?", changes
    )
    _statements(db, _V3_TABLES)


MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (
    # 1: records, their subject index, the outbox; records are append-only.
    """
    CREATE TABLE records (
        seq      INTEGER PRIMARY KEY,
        kind     TEXT    NOT NULL,
        actor    TEXT    NOT NULL,
        ts       INTEGER NOT NULL,
        subjects TEXT    NOT NULL,
        body     BLOB    NOT NULL,
        hash     TEXT    NOT NULL
    );
    CREATE INDEX records_kind_ts ON records (kind, ts);
    CREATE INDEX records_ts ON records (ts);
    CREATE TABLE subjects (
        subject TEXT    NOT NULL,
        seq     INTEGER NOT NULL,
        PRIMARY KEY (subject, seq)
    ) WITHOUT ROWID;
    CREATE TABLE outbox (
        id         INTEGER PRIMARY KEY,
        seq        INTEGER NOT NULL,
        channel    TEXT    NOT NULL,
        recipient  TEXT    NOT NULL,
        body       BLOB    NOT NULL,
        state      TEXT    NOT NULL,
        attempts   INTEGER NOT NULL,
        next_ts    INTEGER NOT NULL,
        created_ts INTEGER NOT NULL,
        detail     TEXT    NOT NULL
    );
    CREATE INDEX outbox_state ON outbox (state, next_ts);
    CREATE TRIGGER records_no_update BEFORE UPDATE ON records
        BEGIN SELECT RAISE(ABORT, 'dualduty records are append-only'); END;
    CREATE TRIGGER records_no_delete BEFORE DELETE ON records
        BEGIN SELECT RAISE(ABORT, 'dualduty records are append-only'); END;
    """,
    # 2: the subject index (what reads by subject use) is append-only too.
    """
    CREATE TRIGGER subjects_no_update BEFORE UPDATE ON subjects
        BEGIN SELECT RAISE(ABORT, 'dualduty records are append-only'); END;
    CREATE TRIGGER subjects_no_delete BEFORE DELETE ON subjects
        BEGIN SELECT RAISE(ABORT, 'dualduty records are append-only'); END;
    """,
    # 3: the dispatcher's outbox: idempotency keys, claims (leases), digests, the
    # provider's code, and the attempts log (see _outbox_v3).
    _outbox_v3,
)

#: The schema version this dualduty writes.
SCHEMA_VERSION = len(MIGRATIONS)
#: The oldest schema version a read-only open reads as it is (without migrating).
OLDEST_READABLE = 1
#: The schema version from which the outbox has the dispatcher's columns and the
#: attempts log (older files opened read-only show their messages with the defaults).
_OUTBOX_VERSION = 3

_MESSAGE_COLUMNS = (
    "id, seq, channel, recipient, body, state, attempts, next_ts, created_ts, detail, "
    "key, urgent, claimed_until, provider_code, delivered_ts, digest"
)
_OLD_MESSAGE_COLUMNS = (
    "id, seq, channel, recipient, body, state, attempts, next_ts, created_ts, detail"
)
_INSERT_MESSAGE = (
    "INSERT INTO outbox (seq, channel, recipient, body, state, attempts, next_ts, created_ts, "
    "detail, key, urgent, claimed_until, provider_code, delivered_ts, digest) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING"
)

# A file opened `immutable` is read without locks; it must not change meanwhile. Its
# modification time is what shows a change, so it must lie in the past by more than the
# file system's clock granularity (a few milliseconds) when the store is opened.
_SETTLED_NS = 50_000_000

_COLUMNS = "r.seq, r.kind, r.actor, r.ts, r.subjects, r.body, r.hash"


def path_of(url: str) -> Path:
    """The file of a ``sqlite:///`` URL."""
    if not url.startswith("sqlite:///") or url == "sqlite:///":
        raise StoreError(
            f"not a SQLite store URL: {url!r} (expected sqlite:///relative/path.db "
            "or sqlite:////absolute/path.db)"
        )
    return Path(url.removeprefix("sqlite:///"))


def _row(r: tuple[int, str, str, int, str, bytes, str]) -> Row:
    # (tuple.__new__(Row, …) builds a row ~0.2 µs faster, which reading 20,000 entries
    # does not show: not worth the obscurity)
    return Row(r[0], r[1], r[2], r[3], tuple(r[4].split(_SEP)) if r[4] else (), r[5], r[6])


class _SqliteWriter:
    def __init__(self, db: sqlite3.Connection, url: str) -> None:
        self.db = db
        self.url = url

    def head(self) -> tuple[int, str]:
        last = self.db.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        return (last[0], last[1]) if last else (0, GENESIS)

    def insert(self, rows: Sequence[Row], messages: Sequence[MessageRow]) -> None:
        try:
            self._insert(rows, messages)
        except sqlite3.Error as exc:  # the transaction is rolled back by writing()
            raise StoreError(f"store {self.url}: cannot write: {exc}") from exc

    def readdress(self, changes: Sequence[tuple[int, str, bytes]]) -> list[bool]:
        # The write transaction (BEGIN IMMEDIATE) keeps every claim out until it ends.
        try:
            return [
                self.db.execute(
                    "UPDATE outbox SET recipient = ?, body = ? "
                    "WHERE id = ? AND state = 'pending' AND digest IS NULL",
                    (recipient, body, id_),
                ).rowcount
                == 1
                for id_, recipient, body in changes
            ]
        except sqlite3.Error as exc:  # the transaction is rolled back by writing()
            raise StoreError(f"store {self.url}: cannot write: {exc}") from exc

    def _insert(self, rows: Sequence[Row], messages: Sequence[MessageRow]) -> None:
        db = self.db
        db.executemany(
            "INSERT INTO records (seq, kind, actor, ts, subjects, body, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(r[0], r[1], r[2], r[3], _SEP.join(r[4]), r[5], r[6]) for r in rows],
        )
        db.executemany(
            "INSERT INTO subjects (subject, seq) VALUES (?, ?)",
            [(s, r[0]) for r in rows for s in r[4]],
        )
        if messages:
            db.executemany(_INSERT_MESSAGE, [m[1:] for m in messages])


class SqliteBackend:
    """A store in one SQLite file.

    :param url: ``sqlite:///path``.
    :param readonly: open without writing (``dualduty verify`` does); the file must exist.
        A file of an older schema (from version :data:`OLDEST_READABLE` on) is read as it
        is, not migrated, and no ``-wal`` or ``-shm`` file is left beside it (see the module).
    :param timeout: seconds a writer waits for another to finish.
    """

    #: How the file is open: ``"write"``; read-only ``"wal"`` (through the ``-wal`` file
    #: a writer has open), ``"query_only"`` (a connection that could write, set not to)
    #: or ``"immutable"`` (no locks, checked for changes).
    access: str

    def __init__(self, url: str, *, readonly: bool = False, timeout: float = 30.0) -> None:
        self.url = url
        self.readonly = readonly
        path = path_of(url)
        self.path = path
        self._fingerprint: tuple[int, int, int, int] | None = None
        self.schema = SCHEMA_VERSION
        """The schema version of the file as it is read (older when read-only)."""
        self._relaxed = False  # synchronous = NORMAL, for the outbox's bookkeeping
        where = f"store {url}"
        if not path.parent.is_dir():
            raise StoreError(f"{where}: the directory {str(path.parent)!r} does not exist")
        if path.is_dir():
            raise StoreError(f"{where}: {str(path)!r} is a directory; name a file in it")
        exists = path.exists()
        if readonly and not exists:
            raise StoreError(f"{where}: no such file")
        if exists and not readonly and not os.access(path, os.W_OK):
            raise StoreError(f"{where}: the file is read-only")
        if not exists and not os.access(path.parent, os.W_OK):
            raise StoreError(f"{where}: cannot create a file in {str(path.parent)!r} (read-only)")
        try:
            self.db = self._connect(readonly, timeout)
        except sqlite3.Error as exc:
            raise StoreError(f"{where}: cannot open: {exc}") from None
        try:
            self._prepare(where, readonly, timeout)
            self._check_unchanged()
        except BaseException:
            self.db.close()
            if not exists:
                with contextlib.suppress(OSError):
                    for suffix in ("", "-wal", "-shm", "-journal"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
            raise

    def _connect(self, readonly: bool, timeout: float) -> sqlite3.Connection:
        path = self.path
        if not readonly:
            self.access = "write"
            return sqlite3.connect(path, isolation_level=None, timeout=timeout)
        if any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal")):
            # a writer has the store open (or was cut off): read what it committed
            self.access = "wal"
            return sqlite3.connect(
                _uri(path, "mode=ro"), uri=True, isolation_level=None, timeout=timeout
            )
        if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
            # A reader like any other, so a writer may start meanwhile; the last
            # connection to close removes the -wal and -shm files SQLite creates.
            self.access = "query_only"
            db = sqlite3.connect(path, isolation_level=None, timeout=timeout)
            db.execute("PRAGMA query_only = ON")
            return db
        # Nothing to create the -wal and -shm files with, or no right to: read the file
        # alone, which holds every committed entry now, and check it stays as it is.
        self.access = "immutable"
        self._fingerprint = self._settled()
        return sqlite3.connect(
            _uri(path, "immutable=1"), uri=True, isolation_level=None, timeout=timeout
        )

    def _stat(self) -> tuple[int, int, int, int]:
        st = os.stat(self.path)
        return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns

    def _settled(self) -> tuple[int, int, int, int]:
        """The file's identity, size and times, once its last change is clearly past."""
        found = self._stat()
        age = time.time_ns() - found[2]
        if 0 <= age < _SETTLED_NS:  # a change now could get the same modification time
            time.sleep((_SETTLED_NS - age) / 1e9)
            found = self._stat()
        return found

    def _check_unchanged(self) -> None:
        """Fail if the file opened ``immutable`` changed since (a writer checkpointed)."""
        if self._fingerprint is None:
            return
        try:
            changed = self._stat() != self._fingerprint
        except OSError as exc:
            raise StoreError(f"store {self.url}: the file is gone: {exc}") from None
        if changed:
            raise StoreError(
                f"store {self.url}: the file changed while it was read: a writer has "
                "opened it since. It is read without locks, as this process may not "
                "write the file or its directory; open it again to read it"
            )

    def _prepare(self, where: str, readonly: bool, timeout: float) -> None:
        db = self.db
        try:
            db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            if code == _SQLITE_NOTADB:
                raise StoreError(f"{where}: not a SQLite database ({exc})") from None
            hint = ""
            if code in (_SQLITE_READONLY, _SQLITE_CANTOPEN):
                name = self.path.name
                hint = (
                    f"; SQLite needs to create {name}-wal and {name}-shm beside the file, "
                    f"so the directory {str(self.path.parent)!r} must be writable"
                )
            raise StoreError(f"{where}: cannot read the file ({exc}){hint}") from None
        if tables and app_id != APPLICATION_ID:
            raise StoreError(f"{where}: a SQLite database, but not a dualduty store")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{where}: written by a newer dualduty (schema version {version}; this "
                f"dualduty knows up to {SCHEMA_VERSION}). Upgrade dualduty to open it."
            )
        if readonly:
            self.schema = version
            # An older schema is read as it is: verifying must not need the right to write.
            if version < OLDEST_READABLE:
                raise StoreError(
                    f"{where}: not a store yet (schema version {version}); "
                    "open it once for writing to create one"
                )
            return
        if db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise StoreError(f"{where}: cannot switch the file to write-ahead logging")
        db.execute("PRAGMA synchronous = FULL")
        if version < SCHEMA_VERSION:
            self._migrate(where)

    def _migrate(self, where: str) -> None:
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            version = db.execute("PRAGMA user_version").fetchone()[0]  # another may have won
            for step in MIGRATIONS[version:]:
                if callable(step):
                    step(db)
                else:
                    _statements(db, step)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"{where}: cannot create or migrate the schema: {exc}") from None

    @contextlib.contextmanager
    def writing(self, *, relaxed: bool = False) -> Iterator[_SqliteWriter]:
        """A write transaction, committed with ``synchronous = FULL`` (durable), or as it
        is set when *relaxed* (the outbox's bookkeeping, see :meth:`settle`)."""
        db = self.db
        if self.readonly:
            raise StoreError(f"store {self.url}: opened read-only; cannot write")
        if self.db.in_transaction:  # (not `db.`: mypy would take it as False below)
            raise StoreError(
                f"store {self.url}: a transaction is already open on this connection "
                "(transactions do not nest)"
            )
        try:
            if self._relaxed and not relaxed:  # back to durable commits
                db.execute("PRAGMA synchronous = FULL")
                self._relaxed = False
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"store {self.url}: cannot start writing: {exc}") from None
        try:
            yield _SqliteWriter(db, self.url)
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        try:
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"store {self.url}: commit failed: {exc}") from None

    def select(self, query: Query) -> Iterator[Row]:
        where = ["r.seq > ?"]
        params: list[object] = [query.after_seq]
        if query.kind is not None:
            where.append("r.kind = ?")
            params.append(query.kind)
        if query.since_ts is not None:
            where.append("r.ts >= ?")
            params.append(query.since_ts)
        if query.until_ts is not None:
            where.append("r.ts < ?")
            params.append(query.until_ts)
        if query.subject is not None:
            sql = (
                f"SELECT {_COLUMNS} FROM subjects s JOIN records r ON r.seq = s.seq "
                f"WHERE s.subject = ? AND s.seq > ? AND {' AND '.join(where)} ORDER BY s.seq"
            )
            params = [query.subject, query.after_seq, *params]
        else:
            sql = f"SELECT {_COLUMNS} FROM records r WHERE {' AND '.join(where)} ORDER BY r.seq"
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        rows = map(_row, self.db.execute(sql, params))
        return rows if self._fingerprint is None else self._checked(rows)

    def _checked(self, rows: Iterator[Row]) -> Iterator[Row]:
        """*rows*, then a check that the file opened ``immutable`` did not change meanwhile."""
        try:
            yield from rows
        except sqlite3.DatabaseError:
            self._check_unchanged()  # a changed file explains it
            raise
        self._check_unchanged()

    def count(self) -> int:
        last = self.db.execute("SELECT max(seq) FROM records").fetchone()[0]
        self._check_unchanged()
        return int(last or 0)

    def check_index(self, last: int) -> tuple[int, str] | None:
        """The first entry up to *last* whose rows in the subject index differ from it.

        The optional part of :class:`~dualduty.storage.StoreBackend` that
        :meth:`Store.verify() <dualduty.storage.Store.verify>` calls. The entries' subjects
        and the index, grouped by entry, are read in ``seq`` order in one read transaction
        and compared side by side; then index rows for no entry at all are looked for.
        """
        db = self.db
        own = not db.in_transaction
        if own:
            db.execute("BEGIN")  # one snapshot for all three queries
        try:
            entries = db.execute(
                "SELECT seq, subjects FROM records WHERE seq <= ? ORDER BY seq", (last,)
            )
            index = db.execute(
                "SELECT seq, count(*), group_concat(subject, char(31)) FROM subjects "
                "WHERE seq <= ? GROUP BY seq ORDER BY seq",
                (last,),
            )
            found = _index_difference(entries, index)
            if found is None:
                stray = db.execute(
                    "SELECT s.seq FROM subjects s WHERE s.seq > ? AND NOT EXISTS "
                    "(SELECT 1 FROM records r WHERE r.seq = s.seq) ORDER BY s.seq LIMIT 1",
                    (last,),
                ).fetchone()
                if stray is not None:
                    found = index_stray(stray[0], last + 1)
        finally:
            if own and db.in_transaction:
                db.execute("COMMIT")
        self._check_unchanged()
        return found

    # -- the outbox -------------------------------------------------------------------

    @contextlib.contextmanager
    def _outbox_tx(self, *, bookkeeping: bool = False) -> Iterator[sqlite3.Connection]:
        """A write transaction for the outbox; SQLite's errors become StoreErrors.

        *bookkeeping*: the dispatcher's claims and outcomes, committed with ``synchronous
        = NORMAL`` (see :meth:`settle`); everything else keeps ``FULL``.
        """
        db = self.db
        try:
            if bookkeeping and not self._relaxed and not db.in_transaction and not self.readonly:
                db.execute("PRAGMA synchronous = NORMAL")
                self._relaxed = True
            with self.writing(relaxed=bookkeeping):
                yield db
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.url}: cannot write the outbox: {exc}") from exc

    def messages(self, state: str | None = None, limit: int | None = None) -> list[MessageRow]:
        if self.schema < _OUTBOX_VERSION:
            found = self._old_messages(state, limit)
        else:
            sql = f"SELECT {_MESSAGE_COLUMNS} FROM outbox"
            params: list[object] = []
            if state in STATES:  # written out, so that a partial index on it is used
                sql += f" WHERE state = '{state}'"
            elif state is not None:
                sql += " WHERE state = ?"
                params.append(state)
            sql += " ORDER BY id"
            if limit is not None:
                sql += " LIMIT ?"
                params.append(limit)
            found = [_message(m) for m in self.db.execute(sql, params)]
        self._check_unchanged()
        return found

    def _old_messages(self, state: str | None, limit: int | None) -> list[MessageRow]:
        """The messages of a file of an older schema, opened read-only, as they read now."""
        rows = self.db.execute(f"SELECT {_OLD_MESSAGE_COLUMNS} FROM outbox ORDER BY id")
        found = []
        for r in rows:
            m = MessageRow(*r)
            if m.state == "failed":
                m = m._replace(state=DEAD)
            if state is None or m.state == state:
                found.append(m)
        return found if limit is None else found[:limit]

    def outbox_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        if self.schema < _OUTBOX_VERSION:
            for m in self._old_messages(None, None):
                counts[m.state] = counts.get(m.state, 0) + 1
        else:
            for state, n in self.db.execute("SELECT state, count(*) FROM outbox GROUP BY state"):
                counts[state] = n
        self._check_unchanged()
        return counts

    def enqueue(self, messages: Sequence[MessageRow]) -> list[int | None]:
        ids: list[int | None] = []
        with self._outbox_tx() as db:
            for m in messages:
                cur = db.execute(_INSERT_MESSAGE, m[1:])
                ids.append(cur.lastrowid if cur.rowcount == 1 else None)
        return ids

    def claim(self, now_ts: int, until_ts: int, limit: int) -> list[MessageRow]:
        if limit <= 0:
            return []
        with self._outbox_tx(bookkeeping=True) as db:
            due = [
                _message(m)
                for m in db.execute(
                    f"SELECT {_MESSAGE_COLUMNS} FROM outbox WHERE state = 'pending' "
                    "AND next_ts <= ? ORDER BY urgent DESC, next_ts, id LIMIT ?",
                    (now_ts, limit),
                )
            ]
            due += [
                _message(m)
                for m in db.execute(
                    f"SELECT {_MESSAGE_COLUMNS} FROM outbox WHERE state = 'claimed' "
                    "AND claimed_until <= ? AND (digest IS NULL OR digest = id) "
                    "ORDER BY urgent DESC, next_ts, id LIMIT ?",
                    (now_ts, limit),
                )
            ]
            due.sort(key=lambda m: (not m.urgent, m.next_ts, m.id))
            claimed = [m._replace(state=CLAIMED, claimed_until=until_ts) for m in due[:limit]]
            db.executemany(
                "UPDATE outbox SET state = 'claimed', claimed_until = ? WHERE id = ?",
                [(until_ts, m.id) for m in claimed],
            )
        return claimed

    def settle(self, settlements: Sequence[Settlement]) -> list[bool]:
        """Record outcomes (see :meth:`StoreBackend.settle`).

        Claims, outcomes and digests are committed in write-ahead-log mode with
        ``synchronous = NORMAL``: durable when the process dies (killed, crashed), not
        synced to the disk at each commit. A power cut or a crash of the operating system
        may then undo the last ones before the next sync (any commit with ``FULL``, a
        record's, syncs all before it): a message would be claimed and sent again — never
        lost, since queuing one is committed with ``FULL``. A sync per outcome would cap
        a dispatcher at a few hundred messages a second on most disks.
        """
        done = []
        with self._outbox_tx(bookkeeping=True) as db:
            attempts = [
                (s.id, s.attempt, s.ts, s.outcome, s.provider_code, s.detail, s.duration_us)
                for s in settlements
                if s.outcome != "release"
            ]
            db.executemany(
                "INSERT INTO attempts (message, n, ts, outcome, provider_code, detail, "
                "duration_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
                attempts,
            )
            for s in settlements:
                done.append(self._settle(db, s))
        return done

    @staticmethod
    def _settle(db: sqlite3.Connection, s: Settlement) -> bool:
        held = "state = 'claimed' AND claimed_until = ?"
        if s.outcome == "delivered":
            cur = db.execute(
                "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, "
                "delivered_ts = ?, provider_code = ?, detail = ?, claimed_until = 0 "
                "WHERE id = ? AND state != 'delivered'",
                (s.ts, s.provider_code, s.detail, s.id),
            )
        elif s.outcome == "retry":
            cur = db.execute(
                "UPDATE outbox SET state = 'pending', attempts = attempts + 1, next_ts = ?, "
                f"provider_code = ?, detail = ?, claimed_until = 0 WHERE id = ? AND {held}",
                (s.next_ts, s.provider_code, s.detail, s.id, s.claim),
            )
        elif s.outcome == "dead":
            cur = db.execute(
                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, "
                f"provider_code = ?, detail = ?, claimed_until = 0 WHERE id = ? AND {held}",
                (s.provider_code, s.detail, s.id, s.claim),
            )
        elif s.outcome == "release":
            cur = db.execute(
                "UPDATE outbox SET state = 'pending', next_ts = ?, claimed_until = 0 "
                f"WHERE id = ? AND {held}",
                (s.next_ts, s.id, s.claim),
            )
        else:
            raise ValueError(f"unknown outcome {s.outcome!r}")
        if cur.rowcount != 1:
            return False
        if s.outcome == "delivered":  # the messages it carries, if it is a digest
            db.execute(
                "UPDATE outbox SET state = 'delivered', delivered_ts = ?, provider_code = ?, "
                "detail = ? WHERE digest = ? AND id != ?",
                (s.ts, s.provider_code, f"delivered in digest {s.id}", s.id, s.id),
            )
        elif s.outcome == "dead":
            db.execute(
                "UPDATE outbox SET state = 'dead', provider_code = ?, detail = ? "
                "WHERE digest = ? AND id != ?",
                (
                    s.provider_code,
                    f"carried by digest {s.id}, which is dead: {s.detail}",
                    s.id,
                    s.id,
                ),
            )
        return True

    def merge(self, ids: Sequence[int], claim: int, digest: MessageRow) -> int | None:
        unique = sorted(set(ids))
        if not unique:
            return None
        with self._outbox_tx(bookkeeping=True) as db:
            for message_id in unique:
                held = db.execute(
                    "SELECT 1 FROM outbox WHERE id = ? AND state = 'claimed' "
                    "AND claimed_until = ? AND digest IS NULL",
                    (message_id, claim),
                ).fetchone()
                if held is None:
                    return None
            row = digest._replace(state=CLAIMED, claimed_until=claim, digest=None)
            cur = db.execute(_INSERT_MESSAGE, row[1:])
            if cur.rowcount != 1:
                return None
            new = cur.lastrowid
            assert new is not None
            db.execute("UPDATE outbox SET digest = ? WHERE id = ?", (new, new))
            db.executemany(
                "UPDATE outbox SET digest = ?, claimed_until = 0 WHERE id = ?",
                [(new, i) for i in unique],
            )
        return new

    def requeue_dead(self, now_ts: int, ids: Sequence[int] | None = None) -> int:
        changed = 0
        with self._outbox_tx() as db:
            if ids is None:
                dead = db.execute("SELECT id, digest FROM outbox WHERE state = 'dead'").fetchall()
            else:
                dead = [
                    r
                    for i in sorted(set(ids))
                    for r in db.execute(
                        "SELECT id, digest FROM outbox WHERE id = ? AND state = 'dead'", (i,)
                    )
                ]
            for target in sorted({d if d is not None else i for i, d in dead}):
                cur = db.execute(
                    "UPDATE outbox SET state = 'pending', next_ts = ?, attempts = 0, "
                    "claimed_until = 0 WHERE id = ? AND state = 'dead'",
                    (now_ts, target),
                )
                if cur.rowcount != 1:
                    continue
                changed += 1
                cur = db.execute(
                    "UPDATE outbox SET state = 'claimed', claimed_until = 0 "
                    "WHERE digest = ? AND id != ? AND state = 'dead'",
                    (target, target),
                )
                changed += cur.rowcount
        return changed

    def attempts(
        self,
        message: int | None = None,
        *,
        channel: str | None = None,
        since_ts: int | None = None,
    ) -> list[AttemptRow]:
        if self.schema < _OUTBOX_VERSION:
            return []
        where = ["1"]
        params: list[object] = []
        if message is not None:
            where.append("a.message = ?")
            params.append(message)
        if since_ts is not None:
            where.append("a.ts >= ?")
            params.append(since_ts)
        source = "attempts a"
        if channel is not None:
            source += " JOIN outbox o ON o.id = a.message"
            where.append("o.channel = ?")
            params.append(channel)
        found = [
            AttemptRow(*r)
            for r in self.db.execute(
                "SELECT a.message, a.n, a.ts, a.outcome, a.provider_code, a.detail, "
                f"a.duration_us FROM {source} WHERE {' AND '.join(where)} ORDER BY a.rowid",
                params,
            )
        ]
        self._check_unchanged()
        return found

    def update_message(
        self, message_id: int, *, state: str, attempts: int, next_ts: int, detail: str
    ) -> None:
        with self.writing():
            cur = self.db.execute(
                "UPDATE outbox SET state = ?, attempts = ?, next_ts = ?, detail = ?, "
                "claimed_until = 0 WHERE id = ?",
                (state, attempts, next_ts, detail, message_id),
            )
            if cur.rowcount != 1:
                raise KeyError(f"no outbox message {message_id}")

    def close(self) -> None:
        self.db.close()


def _message(r: Any) -> MessageRow:
    """A row of ``SELECT {_MESSAGE_COLUMNS}`` as a message."""
    return MessageRow._make((*r[:11], bool(r[11]), *r[12:]))


def _uri(path: Path, option: str) -> str:
    """The ``file:`` URI of *path* with one query *option* (``mode=ro``)."""
    return f"file:{quote(str(path))}?{option}"


def _index_difference(
    entries: Iterable[tuple[int, str]], index: Iterable[tuple[Any, int, str]]
) -> tuple[int, str] | None:
    """The first entry whose index rows differ from its subjects, merging both by ``seq``.

    *entries* are ``(seq, subjects joined by \\x1f)``, *index* is ``(seq, how many rows,
    their subjects joined by \\x1f)`` for each seq in the index; both in ``seq`` order.
    """
    groups = iter(index)
    no_more: tuple[Any, int, str] = (None, 0, "")
    at, rows, indexed = next(groups, no_more)
    seq = 0
    for seq, subjects in entries:
        if at is not None and at < seq:  # index rows between entries: for none of them
            return index_stray(at, seq)
        if at != seq:
            found = index_differs(seq, subjects.split(_SEP), ()) if subjects else None
            if found is not None:  # not in the index at all
                return seq, found
            continue
        # the usual case, quickly: the same text, as many rows as subjects
        if indexed != subjects or not subjects or rows != subjects.count(_SEP) + 1:
            listed = indexed.split(_SEP)
            if len(listed) != rows:  # a row that holds several subjects
                return seq, f"entry {seq}: its subject index differs from its content " + (
                    "(index altered: a row names several subjects)"
                )
            found = index_differs(seq, subjects.split(_SEP) if subjects else (), listed)
            if found is not None:
                return seq, found
        at, rows, indexed = next(groups, no_more)
    if at is not None:  # index rows after the last entry
        return index_stray(at, seq + 1)
    return None
