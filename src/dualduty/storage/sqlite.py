"""The ``sqlite:///path`` backend: one file, WAL, durable commits, serialised writers.

URLs follow SQLAlchemy's convention: ``sqlite:///records.db`` is relative to the working
directory, ``sqlite:////var/lib/dualduty/records.db`` (four slashes) is absolute.
The schema is versioned (``PRAGMA user_version``) and migrated forward on open; a file
from a newer dualduty is refused rather than guessed at.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from .base import GENESIS, MessageRow, Query, Row, StoreError

__all__ = ["SCHEMA_VERSION", "SqliteBackend", "path_of"]

#: 'DDTY': marks a SQLite file as a dualduty store.
APPLICATION_ID = 0x44445459

# SQLite's primary result codes
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26

_SEP = "\x1f"  # joins subjects in the records table (ids never contain it)

MIGRATIONS: tuple[str, ...] = (
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
)

#: The schema version this dualduty writes.
SCHEMA_VERSION = len(MIGRATIONS)

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
            db.executemany(
                "INSERT INTO outbox (seq, channel, recipient, body, state, attempts, next_ts, "
                "created_ts, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [m[1:] for m in messages],
            )


class SqliteBackend:
    """A store in one SQLite file.

    :param url: ``sqlite:///path``.
    :param readonly: open without writing (``dualduty verify`` does); the file must exist.
    :param timeout: seconds a writer waits for another to finish.
    """

    def __init__(self, url: str, *, readonly: bool = False, timeout: float = 30.0) -> None:
        self.url = url
        self.readonly = readonly
        path = path_of(url)
        self.path = path
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
            if readonly:
                self.db = sqlite3.connect(
                    f"file:{path}?mode=ro", uri=True, isolation_level=None, timeout=timeout
                )
            else:
                self.db = sqlite3.connect(path, isolation_level=None, timeout=timeout)
        except sqlite3.Error as exc:
            raise StoreError(f"{where}: cannot open: {exc}") from None
        try:
            self._prepare(where, readonly, timeout)
        except BaseException:
            self.db.close()
            if not exists:
                with contextlib.suppress(OSError):
                    for suffix in ("", "-wal", "-shm", "-journal"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
            raise

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
            if version < SCHEMA_VERSION:
                raise StoreError(
                    f"{where}: schema version {version} needs migrating to {SCHEMA_VERSION}; "
                    "open it once for writing"
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
                for statement in step.split(";\n"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StoreError(f"{where}: cannot create or migrate the schema: {exc}") from None

    @contextlib.contextmanager
    def writing(self) -> Iterator[_SqliteWriter]:
        db = self.db
        if self.readonly:
            raise StoreError(f"store {self.url}: opened read-only; cannot write")
        if self.db.in_transaction:  # (not `db.`: mypy would take it as False below)
            raise StoreError(
                f"store {self.url}: a transaction is already open on this connection "
                "(transactions do not nest)"
            )
        try:
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
        for r in self.db.execute(sql, params):
            yield _row(r)

    def count(self) -> int:
        last = self.db.execute("SELECT max(seq) FROM records").fetchone()[0]
        return int(last or 0)

    def messages(self, state: str | None = None, limit: int | None = None) -> list[MessageRow]:
        sql = "SELECT * FROM outbox"
        params: list[object] = []
        if state is not None:
            sql += " WHERE state = ?"
            params.append(state)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [MessageRow(*m) for m in self.db.execute(sql, params)]

    def update_message(
        self, message_id: int, *, state: str, attempts: int, next_ts: int, detail: str
    ) -> None:
        with self.writing():
            cur = self.db.execute(
                "UPDATE outbox SET state = ?, attempts = ?, next_ts = ?, detail = ? WHERE id = ?",
                (state, attempts, next_ts, detail, message_id),
            )
            if cur.rowcount != 1:
                raise KeyError(f"no outbox message {message_id}")

    def close(self) -> None:
        self.db.close()
