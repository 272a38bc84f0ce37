"""The ``postgresql://`` backend: dualduty's store in a PostgreSQL database, via psycopg 3.

The schema (version 4) keeps the SQLite backend's semantics: ``records`` (append-only:
triggers refuse ``UPDATE``, ``DELETE`` and ``TRUNCATE``), the subject index
``subject_runs`` (the same), the ``outbox`` with unique idempotency keys, leases and
digests, and the ``attempts`` log. The version is kept in ``dualduty_schema``; an older
store is migrated forward when opened for writing (:data:`MIGRATIONS`, under an
advisory lock, in one transaction) and read as it is when opened read-only; a
database of a newer dualduty is refused.

The subject index holds *runs*: one row per subject and write transaction, with the
``seq`` of every entry of that transaction naming the subject (at most
:data:`RUN_LENGTH` of them a row), in order, and the last of them as the key. A
transaction of 50,000 entries naming three of 2,501 subjects each adds some 2,750
index rows rather than 150,000 (schema version 3 kept one row per subject and entry):
that is what lets a bulk load keep pace with ``COPY`` on a server with its default
settings. Reads by subject take the runs of that subject after the position asked
for, in key order, and fetch their entries by primary key;
:meth:`PostgresBackend.check_index` compares the runs with the entries.

Writers serialise on one row: every write transaction starts with ``SELECT … FOR
UPDATE`` on ``writer_lock``, then reads the chain's head from ``records``; in ``READ
COMMITTED`` that read sees what the writer before committed. Dispatchers claim with
``FOR UPDATE SKIP LOCKED``, so several claim at once without waiting on each other and
never both take a message. Large transactions are written with ``COPY`` (binary).

Connections come from a pool (psycopg_pool): each operation borrows one, so one
backend may be used from several threads, and a connection broken by a server restart
is replaced on the next use. A write transaction keeps its connection until it ends;
reads in the same thread meanwhile use it too, and see what it wrote.

The URL is libpq's (``postgresql://user@host:port/database?sslmode=require``). The
password belongs in ``PGPASSWORD`` or ``~/.pgpass``; one given in the URL is used, but
never shown: :attr:`PostgresBackend.url` and every error leave it out.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from dualduty.storage import (
    AttemptRow,
    MessageRow,
    Query,
    Row,
    Settlement,
    StoreError,
)
from dualduty.storage.base import (
    CLAIMED,
    GENESIS,
    STATES,
    index_differs,
    index_stray,
)

__all__ = [
    "COPY_FROM",
    "MIGRATIONS",
    "OLDEST_READABLE",
    "RUN_LENGTH",
    "SCHEMA_VERSION",
    "PostgresBackend",
    "safe_url",
]

#: Transactions with at least this many rows are written with ``COPY``.
COPY_FROM: Final = 64
#: The most entries one row (a run) of the subject index holds: a transaction naming a
#: subject more often than this gets several runs for it. 200 positions keep a row
#: under PostgreSQL's threshold for compressing and moving values out of line (TOAST,
#: about 2 kB), which would cost a bulk load more than the extra rows do.
RUN_LENGTH: Final = 200
#: Reads by subject fetch the entries of up to this many positions (of whole runs) at a
#: time.
_CHUNK: Final = 8192
#: Reads of at most this many rows are fetched at once; larger ones stream from a
#: server-side cursor.
_FETCH_ALL: Final = 10_000
_ITERSIZE: Final = 5_000
#: Serialises creating or migrating the schema (``pg_advisory_xact_lock``): "DDTY".
_SCHEMA_LOCK: Final = 0x44445459

_SCHEMA_V3 = """
CREATE TABLE dualduty_schema (
    version integer NOT NULL
);
CREATE TABLE writer_lock (
    id integer PRIMARY KEY CHECK (id = 1)
);
INSERT INTO writer_lock VALUES (1);
CREATE TABLE records (
    seq      bigint PRIMARY KEY,
    kind     text   NOT NULL,
    actor    text   NOT NULL,
    ts       bigint NOT NULL,
    subjects text[] NOT NULL,
    body     bytea  NOT NULL,
    hash     text   NOT NULL
);
CREATE INDEX records_kind_ts ON records (kind, ts);
CREATE INDEX records_ts ON records (ts);
CREATE TABLE subjects (
    subject text   NOT NULL,
    seq     bigint NOT NULL,
    PRIMARY KEY (subject, seq)
);
CREATE FUNCTION dualduty_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'dualduty records are append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION dualduty_append_only();
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON records
    FOR EACH STATEMENT EXECUTE FUNCTION dualduty_append_only();
CREATE TRIGGER subjects_append_only BEFORE UPDATE OR DELETE ON subjects
    FOR EACH ROW EXECUTE FUNCTION dualduty_append_only();
CREATE TRIGGER subjects_no_truncate BEFORE TRUNCATE ON subjects
    FOR EACH STATEMENT EXECUTE FUNCTION dualduty_append_only();
CREATE TABLE outbox (
    id            bigint  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    seq           bigint  NOT NULL,
    channel       text    NOT NULL,
    recipient     text    NOT NULL,
    body          bytea   NOT NULL,
    state         text    NOT NULL,
    attempts      integer NOT NULL,
    next_ts       bigint  NOT NULL,
    created_ts    bigint  NOT NULL,
    detail        text    NOT NULL,
    key           text    UNIQUE,
    urgent        boolean NOT NULL DEFAULT false,
    claimed_until bigint  NOT NULL DEFAULT 0,
    provider_code text,
    delivered_ts  bigint,
    digest        bigint
);
CREATE INDEX outbox_due ON outbox (urgent DESC, next_ts, id) WHERE state = 'pending';
CREATE INDEX outbox_lease ON outbox (claimed_until) WHERE state = 'claimed';
CREATE INDEX outbox_dead ON outbox (id) WHERE state = 'dead';
CREATE INDEX outbox_digest ON outbox (digest) WHERE digest IS NOT NULL;
CREATE TABLE attempts (
    id            bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message       bigint  NOT NULL,
    n             integer NOT NULL,
    ts            bigint  NOT NULL,
    outcome       text    NOT NULL,
    provider_code text,
    detail        text    NOT NULL,
    duration_us   bigint  NOT NULL
);
CREATE INDEX attempts_message ON attempts (message);
"""

# Version 4: the subject index in runs (see the module). The rows of version 3's
# `subjects` are converted in the migration's transaction: each subject's positions, in
# order, in runs of at most RUN_LENGTH; then the old table goes, so that a process of an
# older dualduty-postgres still running fails on it (and writes nothing) rather than
# fill an index nobody reads.
_SUBJECT_RUNS_V4 = f"""
CREATE TABLE subject_runs (
    subject text     NOT NULL,
    last    bigint   NOT NULL,
    seqs    bigint[] NOT NULL,
    PRIMARY KEY (subject, last)
);
CREATE TRIGGER subject_runs_append_only BEFORE UPDATE OR DELETE ON subject_runs
    FOR EACH ROW EXECUTE FUNCTION dualduty_append_only();
CREATE TRIGGER subject_runs_no_truncate BEFORE TRUNCATE ON subject_runs
    FOR EACH STATEMENT EXECUTE FUNCTION dualduty_append_only();
INSERT INTO subject_runs (subject, last, seqs)
SELECT subject, max(seq), array_agg(seq ORDER BY seq)
FROM (
    SELECT subject, seq,
           (row_number() OVER (PARTITION BY subject ORDER BY seq) - 1) / {RUN_LENGTH} AS run
    FROM subjects
) numbered
GROUP BY subject, run
ORDER BY subject, run;
DROP TABLE subjects;
"""

#: The steps that bring a database to each schema version, by the version they reach.
#: Versions 1 and 2 (SQLite's first outbox and subject index) never existed here: a new
#: database is created at version 3 and migrated to the current one at once.
MIGRATIONS: Final[dict[int, str]] = {3: _SCHEMA_V3, 4: _SUBJECT_RUNS_V4}
#: The schema version this plugin writes.
SCHEMA_VERSION: Final = max(MIGRATIONS)
#: The oldest schema version a read-only open reads as it is (without migrating), as
#: the SQLite backend reads its older files: ``dualduty verify`` needs no right to write.
OLDEST_READABLE: Final = min(MIGRATIONS)
#: The schema version from which the subject index is held in runs.
_RUNS_VERSION: Final = 4

_TABLES = ("records", "subjects", "subject_runs", "outbox", "attempts", "writer_lock")
_MESSAGE_COLUMNS = (
    "id, seq, channel, recipient, body, state, attempts, next_ts, created_ts, detail, "
    "key, urgent, claimed_until, provider_code, delivered_ts, digest"
)
_INSERT_MESSAGE = (
    "INSERT INTO outbox (seq, channel, recipient, body, state, attempts, next_ts, created_ts, "
    "detail, key, urgent, claimed_until, provider_code, delivered_ts, digest) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (key) DO NOTHING"
)
_ROW_COLUMNS = "r.seq, r.kind, r.actor, r.ts, r.subjects, r.body, r.hash"
_CURSORS = itertools.count(1)
_RECORD_TYPES = ("int8", "text", "text", "int8", "text[]", "bytea", "text")
_RUN_TYPES = ("text", "int8", "int8[]")
# The subject index by entry, its subjects sorted: the positions up to `last`, and any
# of an entry the store does not hold.
_INDEX_BY_ENTRY = """
    SELECT i.seq, array_agg(s.subject ORDER BY s.subject) AS subs
    FROM subject_runs s CROSS JOIN LATERAL unnest(s.seqs) AS i(seq)
    WHERE i.seq <= %(last)s OR NOT EXISTS (SELECT 1 FROM records r WHERE r.seq = i.seq)
    GROUP BY i.seq
"""
# A run that breaks what reads by subject rely on: a position after its key, or one not
# after the key of the subject's run before. Its first such position, the subject, the
# run's key and the key before.
_BAD_RUN = """
    SELECT coalesce(m.past, m.lo), z.subject, z.last, z.before
    FROM (
        SELECT subject, last, seqs, lag(last) OVER (PARTITION BY subject ORDER BY last) AS before
        FROM subject_runs
    ) z
    CROSS JOIN LATERAL (
        SELECT min(x) AS lo, min(x) FILTER (WHERE x > z.last) AS past FROM unnest(z.seqs) AS x
    ) m
    WHERE m.past IS NOT NULL OR m.lo <= z.before
    ORDER BY 1
    LIMIT 1
"""
_INDEX_BY_ENTRY_V3 = """
    SELECT seq, array_agg(subject ORDER BY subject) AS subs
    FROM subjects s
    WHERE s.seq <= %(last)s OR NOT EXISTS (SELECT 1 FROM records r WHERE r.seq = s.seq)
    GROUP BY seq
"""


def safe_url(url: str) -> str:
    """*url* without its password (in the user part or as a ``password`` parameter)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hosts = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}@{hosts}" if user else hosts
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, v) for k, v in pairs if k.lower() != "password"], safe="/:,")
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        return "postgresql://(an unparsable URL)"


def _passwords(url: str) -> list[str]:
    """Every spelling of a password in *url*, to keep out of messages."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        if ":" in userinfo:
            found.append(userinfo.split(":", 1)[1])
        found += [v for k, v in parse_qsl(parts.query) if k.lower() == "password"]
        found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k == "password"]
    except ValueError:
        pass
    spelled = set(found) | {unquote(p) for p in found}
    return sorted((p for p in spelled if p), key=len, reverse=True)


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _row(r: Any) -> Row:
    return Row(r[0], r[1], r[2], r[3], tuple(r[4]), r[5], r[6])


def _message(r: Any) -> MessageRow:
    return MessageRow._make(r)


class _Writer:
    """The open write transaction (see :class:`dualduty.storage.Writer`)."""

    def __init__(self, backend: PostgresBackend, conn: psycopg.Connection[Any]) -> None:
        self.backend = backend
        self.conn = conn
        self._head: tuple[int, str] | None = None

    def head(self) -> tuple[int, str]:
        if self._head is None:
            with self.backend._errors("read the head of the chain"):
                last = self.conn.execute(
                    "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1"
                ).fetchone()
            self._head = (last[0], last[1]) if last else (0, GENESIS)
        return self._head

    def insert(self, rows: Sequence[Row], messages: Sequence[MessageRow]) -> None:
        with self.backend._errors("write"):
            self._insert(rows, messages)

    def readdress(self, changes: Sequence[tuple[int, str, bytes]]) -> list[bool]:
        """Re-address pending outbox messages in this transaction (see
        :class:`dualduty.storage.base.Writer`).

        Each change is one ``UPDATE … WHERE state = 'pending' AND digest IS NULL``: the
        row it changes stays locked until the transaction ends, so a dispatcher's
        ``FOR UPDATE SKIP LOCKED`` passes over it, and one it does not change (claimed,
        delivered, dead, carried by a digest, or no such message) is reported so.
        """
        done: list[bool] = []
        with self.backend._errors("re-address outbox messages"):
            for message_id, recipient, body in changes:
                found = self.conn.execute(
                    "UPDATE outbox SET recipient = %s, body = %s "
                    "WHERE id = %s AND state = 'pending' AND digest IS NULL RETURNING id",
                    (recipient, body, message_id),
                ).fetchone()
                done.append(found is not None)
        return done

    def _insert(self, rows: Sequence[Row], messages: Sequence[MessageRow]) -> None:
        conn = self.conn
        with conn.cursor() as cur:
            if len(rows) >= COPY_FROM:
                with cur.copy(
                    "COPY records (seq, kind, actor, ts, subjects, body, hash) "
                    "FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(list(_RECORD_TYPES))
                    for r in rows:
                        copy.write_row((r[0], r[1], r[2], r[3], list(r[4]), r[5], r[6]))
                with cur.copy(
                    "COPY subject_runs (subject, last, seqs) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(list(_RUN_TYPES))
                    for run in _runs(rows):
                        copy.write_row(run)
            elif rows:
                cur.executemany(
                    "INSERT INTO records (seq, kind, actor, ts, subjects, body, hash) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [(r[0], r[1], r[2], r[3], list(r[4]), r[5], r[6]) for r in rows],
                )
                runs = _runs(rows)
                if runs:
                    cur.executemany(
                        "INSERT INTO subject_runs (subject, last, seqs) VALUES (%s, %s, %s)",
                        runs,
                    )
            if messages:
                cur.executemany(_INSERT_MESSAGE, [m[1:] for m in messages])


def _fetch_growing(cursor: psycopg.ServerCursor[Any]) -> Iterator[Any]:
    """The rows of a server-side *cursor*: a few first (a short read of a subject with
    long runs unpacks little), then more at a time."""
    size = 4
    while rows := cursor.fetchmany(size):
        yield from rows
        size = min(size * 4, _ITERSIZE)


def _runs(rows: Sequence[Row]) -> list[tuple[str, int, list[int]]]:
    """The subject index's rows for *rows* (one transaction's, in ``seq`` order): for
    each subject, the positions of the entries naming it, in runs of at most
    :data:`RUN_LENGTH`, each keyed by its last position; sorted by subject, so that the
    index's B-tree is filled in its own order."""
    by_subject: dict[str, list[int]] = {}
    for r in rows:
        seq = r[0]
        for subject in r[4]:
            found = by_subject.get(subject)
            if found is None:
                by_subject[subject] = [seq]
            else:
                found.append(seq)
    runs = []
    for subject in sorted(by_subject):
        seqs = by_subject[subject]
        for start in range(0, len(seqs), RUN_LENGTH):
            part = seqs[start : start + RUN_LENGTH]
            runs.append((subject, part[-1], part))
    return runs


class PostgresBackend:
    """A store in a PostgreSQL database.

    :param url: ``postgresql://user@host:port/database`` (or ``postgres://``); any libpq
        connection parameter may follow as a query (``?sslmode=require``).
    :param readonly: open without writing (``dualduty verify`` does): the store must
        exist, and every connection is set ``default_transaction_read_only``.
    :param pool_size: the most connections the backend holds at once.
    :param timeout: seconds to wait for the server when connecting, and for a free
        connection of the pool.
    """

    def __init__(
        self,
        url: str,
        *,
        readonly: bool = False,
        pool_size: int = 4,
        timeout: float = 10.0,
    ) -> None:
        self.url = safe_url(url)
        self.readonly = readonly
        self._secrets = _passwords(url)
        self._local = threading.local()
        self._closed = False
        self.schema = SCHEMA_VERSION
        """The schema version of the database."""
        where = f"store {self.url}"
        conninfo = self._conninfo(url, where)
        params = conninfo_to_dict(conninfo)
        self._target = _describe_target(params)
        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in params:
            kwargs["connect_timeout"] = max(1, round(timeout))
        # One connection first, so that what is wrong (password, database, server) is
        # said clearly rather than as a pool's time-out; it prepares the schema.
        try:
            first = psycopg.connect(conninfo, **kwargs)
        except psycopg.Error as exc:
            raise StoreError(self._connect_error(exc)) from None
        try:
            self._prepare(first, where)
        finally:
            first.close()
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            kwargs=kwargs,
            min_size=1,
            max_size=max(1, pool_size),
            timeout=timeout,
            open=False,
            check=ConnectionPool.check_connection,
            configure=self._configure,
            name=f"dualduty {self.url}",
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
        except PoolTimeout:
            self._pool.close()
            raise StoreError(
                f"{where}: cannot connect to the PostgreSQL server at {self._target} "
                f"within {timeout:g} s"
            ) from None

    def __repr__(self) -> str:
        mode = " readonly" if self.readonly else ""
        return f"<PostgresBackend {self.url}{mode}>"

    # -- connecting ----------------------------------------------------------------------

    def _conninfo(self, url: str, where: str) -> str:
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        try:
            parts = urlsplit(url)
            _ = parts.port  # a port that is not a number
        except ValueError as exc:
            raise StoreError(
                f"{where}: not a valid PostgreSQL URL ({_scrub(str(exc), self._secrets)}); "
                "expected postgresql://user@host:port/database"
            ) from None
        try:
            conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise StoreError(
                f"{where}: not a valid PostgreSQL URL ({_scrub(str(exc), self._secrets)}); "
                "expected postgresql://user@host:port/database"
            ) from None
        return url

    def _connect_error(self, exc: BaseException) -> str:
        where = f"store {self.url}"
        text = _scrub(str(exc).strip(), self._secrets)
        low = text.lower()
        detail = " ".join(text.split())
        if "password authentication failed" in low or "no password supplied" in low:
            return (
                f"{where}: the server at {self._target} refused the user name or "
                "password (give the password in PGPASSWORD or ~/.pgpass; "
                f"the server said: {detail})"
            )
        if "does not exist" in low and "database" in low:
            return (
                f"{where}: the server at {self._target} has no such database "
                f"(create it first, e.g. `createdb`; the server said: {detail})"
            )
        if "role" in low and "does not exist" in low:
            return f"{where}: the server at {self._target} has no such user ({detail})"
        if any(
            s in low
            for s in (
                "connection refused",
                "could not connect",
                "timeout expired",
                "could not translate host name",
                "no route to host",
                "network is unreachable",
                "name or service not known",
            )
        ):
            return (
                f"{where}: cannot reach the PostgreSQL server at {self._target} "
                f"(is it running and listening there? {detail})"
            )
        if "invalid" in low and ("connection option" in low or "uri" in low):
            return f"{where}: not a valid PostgreSQL URL ({detail})"
        return f"{where}: cannot connect to the PostgreSQL server at {self._target}: {detail}"

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        if self.readonly:
            conn.execute("SET default_transaction_read_only = on")

    def _prepare(self, conn: psycopg.Connection[Any], where: str) -> None:
        """Check the schema; create it (or migrate it) when opened for writing."""
        try:
            version = _version(conn)
            if version is None:
                found = [t for t in _TABLES if _exists(conn, t)]
                if found:
                    raise StoreError(
                        f"{where}: the database holds tables named {', '.join(found)} but "
                        "is not a dualduty store (no dualduty_schema table); use an empty "
                        "database or schema"
                    )
            if version is not None and version > SCHEMA_VERSION:
                raise StoreError(
                    f"{where}: written by a newer dualduty (schema version {version}; this "
                    f"plugin knows up to {SCHEMA_VERSION}). Upgrade dualduty-postgres to open it."
                )
            if self.readonly:
                # An older schema is read as it is: verifying must not need the right to
                # write (nor change the store it checks).
                if version is None or version < OLDEST_READABLE:
                    what = "no dualduty schema" if version is None else f"schema version {version}"
                    raise StoreError(
                        f"{where}: not a store yet (the database has {what}); "
                        "open it once for writing to create one"
                    )
                self.schema = version
                return
            if version != SCHEMA_VERSION:
                self._migrate(conn)
        except psycopg.Error as exc:
            detail = _scrub(" ".join(str(exc).split()), self._secrets)
            raise StoreError(f"{where}: cannot create or check the schema: {detail}") from None

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            version = _version(conn) or 0  # another process may have done it meanwhile
            if version and _exists(conn, "writer_lock"):
                # no writer is half-way through a transaction while the tables change
                conn.execute("SELECT id FROM writer_lock WHERE id = 1 FOR UPDATE")
            for target in sorted(MIGRATIONS):
                if target > version:
                    conn.execute(MIGRATIONS[target].encode())
                    version = target
            conn.execute("DELETE FROM dualduty_schema")
            conn.execute("INSERT INTO dualduty_schema (version) VALUES (%s)", (version,))

    def _errors(self, doing: str) -> contextlib.AbstractContextManager[None]:
        return _translate(f"store {self.url}: cannot {doing}", self._secrets, self._target)

    # -- connections and transactions -----------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.url} is closed")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's write transaction's connection, or one from the pool."""
        self._check_open()
        own = getattr(self._local, "conn", None)
        if own is not None:
            yield own
            return
        try:
            cm = self._pool.connection()
            conn = cm.__enter__()
        except PoolTimeout:
            raise StoreError(
                f"store {self.url}: no connection to the PostgreSQL server at "
                f"{self._target} (it is unreachable, or every pooled connection is busy)"
            ) from None
        try:
            yield conn
        except BaseException as exc:
            cm.__exit__(type(exc), exc, exc.__traceback__)
            raise
        cm.__exit__(None, None, None)

    @contextlib.contextmanager
    def writing(self, *, relaxed: bool = False) -> Iterator[_Writer]:
        """A write transaction on a connection of its own, serialised with every writer.

        Committed durably (``synchronous_commit`` as the server has it, ``on`` by
        default), or, when *relaxed* (the outbox's bookkeeping, see :meth:`settle`),
        with ``synchronous_commit = off``.
        """
        self._check_open()
        if self.readonly:
            raise StoreError(f"store {self.url}: opened read-only; cannot write")
        if getattr(self._local, "conn", None) is not None:
            raise StoreError(
                f"store {self.url}: a transaction is already open on this connection "
                "(transactions do not nest)"
            )
        with self._connection() as conn, self._errors("write"):
            tx = conn.transaction()
            with tx:
                if relaxed:
                    conn.execute("SET LOCAL synchronous_commit = off")
                conn.execute("SELECT id FROM writer_lock WHERE id = 1 FOR UPDATE")
                self._local.conn = conn
                try:
                    yield _Writer(self, conn)
                finally:
                    self._local.conn = None

    @contextlib.contextmanager
    def _outbox_tx(self, *, bookkeeping: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """A transaction for the outbox alone: no lock on the chain."""
        self._check_open()
        if self.readonly:
            raise StoreError(f"store {self.url}: opened read-only; cannot write")
        if getattr(self._local, "conn", None) is not None:
            raise StoreError(
                f"store {self.url}: a transaction is already open on this connection "
                "(transactions do not nest)"
            )
        with self._connection() as conn, self._errors("write the outbox"), conn.transaction():
            if bookkeeping:
                conn.execute("SET LOCAL synchronous_commit = off")
            yield conn

    # -- reading ---------------------------------------------------------------------------

    def select(self, query: Query) -> Iterator[Row]:
        where = ["r.seq > %s"]
        params: list[object] = [query.after_seq]
        if query.kind is not None:
            where.append("r.kind = %s")
            params.append(query.kind)
        if query.since_ts is not None:
            where.append("r.ts >= %s")
            params.append(query.since_ts)
        if query.until_ts is not None:
            where.append("r.ts < %s")
            params.append(query.until_ts)
        if query.subject is not None and self.schema >= _RUNS_VERSION:
            rows = self._by_subject(query.subject, query.after_seq, where, params, query.limit)
            if query.limit is not None and query.limit <= _FETCH_ALL:
                return iter(list(rows))
            return rows
        if query.subject is not None:  # version 3, read-only: one index row per entry
            text = (
                f"SELECT {_ROW_COLUMNS} FROM subjects s JOIN records r ON r.seq = s.seq "
                f"WHERE s.subject = %s AND s.seq > %s AND {' AND '.join(where)} ORDER BY s.seq"
            )
            params = [query.subject, query.after_seq, *params]
        else:
            text = (
                f"SELECT {_ROW_COLUMNS} FROM records r WHERE {' AND '.join(where)} ORDER BY r.seq"
            )
        if query.limit is not None:
            text += " LIMIT %s"
            params.append(query.limit)
        if query.limit is not None and query.limit <= _FETCH_ALL:
            with self._connection() as conn, self._errors("read"):
                cur = conn.cursor(binary=True)
                found = cur.execute(text.encode(), params).fetchall()
            return iter([_row(r) for r in found])
        return self._stream(text, params)

    def _by_subject(
        self, subject: str, after: int, where: list[str], params: list[object], limit: int | None
    ) -> Iterator[Row]:
        """The entries naming *subject* after position *after* that match *where*.

        The subject's runs that end after *after* come in order of their key (the
        index's own order); their positions, a few thousand at a time, select the
        entries by primary key, in order. A run holds the positions of one transaction
        (or part of one), so runs of a subject never overlap and each follows the one
        before: what :meth:`check_index` checks. One snapshot throughout.
        """
        left = limit
        if left == 0:
            return
        text = (
            f"SELECT {_ROW_COLUMNS} FROM records r WHERE r.seq = ANY(%s::bigint[]) "
            f"AND {' AND '.join(where)} ORDER BY r.seq LIMIT %s"  # (NULL: no limit)
        ).encode()
        with self._connection() as conn, self._errors("read"):
            own = getattr(self._local, "conn", None) is conn
            with (
                contextlib.nullcontext() if own else conn.transaction(),
                conn.cursor(name=f"dualduty_runs_{next(_CURSORS)}") as runs,
                conn.cursor(binary=True) as cur,
            ):
                if not own:  # the runs and the entries they name in one snapshot
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                runs.execute(
                    "SELECT seqs FROM subject_runs WHERE subject = %s AND last > %s ORDER BY last",
                    (subject, after),
                )
                pending: list[int] = []
                chunk = 256  # a short read fetches few; a long one, more at a time
                for (seqs,) in _fetch_growing(runs):
                    pending += seqs  # (positions up to *after* are left out by *where*)
                    if len(pending) < chunk:
                        continue
                    batch = cur.execute(text, [pending, *params, left]).fetchall()
                    pending = []
                    chunk = min(chunk * 4, _CHUNK)
                    for r in batch:
                        yield _row(r)
                    if left is not None:
                        left -= len(batch)
                        if left <= 0:
                            return
                if pending:
                    for r in cur.execute(text, [pending, *params, left]):
                        yield _row(r)

    def _stream(self, text: str, params: list[object]) -> Iterator[Row]:
        """Rows from a server-side cursor, a few thousand at a time, in one snapshot."""
        with self._connection() as conn, self._errors("read"):
            own = getattr(self._local, "conn", None) is conn
            name = f"dualduty_select_{next(_CURSORS)}"
            with (
                contextlib.nullcontext() if own else conn.transaction(),
                conn.cursor(name=name, binary=True) as cur,
            ):
                cur.itersize = _ITERSIZE
                cur.execute(text.encode(), params)
                for r in cur:
                    yield _row(r)

    def count(self) -> int:
        with self._connection() as conn, self._errors("read"):
            found = conn.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()
        return int(found[0]) if found else 0

    def check_index(self, last: int) -> tuple[int, str] | None:
        """The first entry up to *last* whose rows in the subject index differ from it.

        The optional part of :class:`~dualduty.storage.StoreBackend` that
        :meth:`Store.verify() <dualduty.storage.Store.verify>` calls. In one snapshot:
        one query compares each entry's subjects with the subjects whose runs hold its
        position, both sorted, and finds positions in the index for entries the store
        does not hold; another finds a run holding a position after its key (a read of
        the subject after the key would miss that entry).
        """
        runs = self.schema >= _RUNS_VERSION
        index = _INDEX_BY_ENTRY if runs else _INDEX_BY_ENTRY_V3
        with self._connection() as conn, self._errors("read the subject index"):
            own = getattr(self._local, "conn", None) is conn
            with contextlib.nullcontext() if own else conn.transaction():
                if not own:
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                found = conn.execute(
                    f"""
                    SELECT e.seq, e.subjects, i.seq, i.subs
                    FROM (
                        SELECT seq, subjects, ARRAY(SELECT unnest(subjects) ORDER BY 1) AS subs
                        FROM records WHERE seq <= %(last)s
                    ) e
                    FULL JOIN ({index}) i ON i.seq = e.seq
                    WHERE e.seq IS NULL OR coalesce(i.subs, '{{}}') IS DISTINCT FROM e.subs
                    ORDER BY coalesce(e.seq, i.seq)
                    LIMIT 1
                    """.encode(),
                    {"last": last},
                ).fetchone()
                bad_run = None
                if runs:
                    bad_run = conn.execute(_BAD_RUN).fetchone()
        result: tuple[int, str] | None = None
        if found is not None:
            seq, subjects, stray, indexed = found
            if seq is None:
                result = index_stray(stray, stray if isinstance(stray, int) and stray >= 1 else 1)
            else:
                reason = index_differs(seq, subjects, indexed or ())
                result = None if reason is None else (seq, reason)
        if bad_run is not None:
            at, subject, key, before = bad_run
            at = max(1, at)  # (a position before the first is also a stray, found above)
            shown = subject if subject.isprintable() else repr(subject)
            if at > key:
                why = (
                    f"is keyed by entry {key}, before it, so reads of {shown} after entry "
                    f"{key} miss it"
                )
            else:
                why = (
                    f"follows one keyed by entry {before}, so reads of {shown} may give "
                    "entries out of order"
                )
            reason = (
                f"entry {at}: the subject index's run of {shown} holding it {why} (index altered)"
            )
            if result is None or at < result[0]:
                result = (at, reason)
        return result

    # -- the outbox ------------------------------------------------------------------------

    def messages(self, state: str | None = None, limit: int | None = None) -> list[MessageRow]:
        text = f"SELECT {_MESSAGE_COLUMNS} FROM outbox"
        params: list[object] = []
        if state is not None:
            text += " WHERE state = %s"
            params.append(state)
        text += " ORDER BY id"
        if limit is not None:
            text += " LIMIT %s"
            params.append(limit)
        with self._connection() as conn, self._errors("read the outbox"):
            return [_message(m) for m in conn.execute(text.encode(), params)]

    def outbox_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        with self._connection() as conn, self._errors("read the outbox"):
            for state, n in conn.execute("SELECT state, count(*) FROM outbox GROUP BY state"):
                counts[state] = n
        return counts

    def enqueue(self, messages: Sequence[MessageRow]) -> list[int | None]:
        ids: list[int | None] = []
        with self._outbox_tx() as conn:
            for m in messages:
                got = conn.execute(_INSERT_MESSAGE + " RETURNING id", m[1:]).fetchone()
                ids.append(None if got is None else got[0])
        return ids

    def claim(self, now_ts: int, until_ts: int, limit: int) -> list[MessageRow]:
        """Claim due messages with ``FOR UPDATE SKIP LOCKED``: a message another
        dispatcher is claiming right now is passed over, not waited for."""
        if limit <= 0:
            return []
        with self._outbox_tx(bookkeeping=True) as conn:
            due = conn.execute(
                "SELECT id, urgent, next_ts FROM outbox WHERE state = 'pending' "
                "AND next_ts <= %s ORDER BY urgent DESC, next_ts, id LIMIT %s "
                "FOR UPDATE SKIP LOCKED",
                (now_ts, limit),
            ).fetchall()
            due += conn.execute(
                "SELECT id, urgent, next_ts FROM outbox WHERE state = 'claimed' "
                "AND claimed_until <= %s AND (digest IS NULL OR digest = id) "
                "ORDER BY urgent DESC, next_ts, id LIMIT %s FOR UPDATE SKIP LOCKED",
                (now_ts, limit),
            ).fetchall()
            due.sort(key=lambda m: (not m[1], m[2], m[0]))
            ids = [m[0] for m in due[:limit]]
            if not ids:
                return []
            claimed = [
                _message(m)
                for m in conn.execute(
                    "UPDATE outbox SET state = 'claimed', claimed_until = %s "
                    f"WHERE id = ANY(%s) RETURNING {_MESSAGE_COLUMNS}",
                    (until_ts, ids),
                )
            ]
        claimed.sort(key=lambda m: (not m.urgent, m.next_ts, m.id))
        return claimed

    def settle(self, settlements: Sequence[Settlement]) -> list[bool]:
        """Record outcomes (see :meth:`dualduty.storage.StoreBackend.settle`).

        Like the SQLite backend's ``synchronous = NORMAL`` for the same bookkeeping,
        claims and outcomes are committed with ``synchronous_commit = off``: a crash of
        the server may undo the last of them (a message is then sent again, never
        lost: queuing one is a durable commit).
        """
        for s in settlements:
            if s.outcome not in ("delivered", "retry", "dead", "release"):
                raise ValueError(f"unknown outcome {s.outcome!r}")
        done = []
        with self._outbox_tx(bookkeeping=True) as conn:
            attempts = [
                (s.id, s.attempt, s.ts, s.outcome, s.provider_code, s.detail, s.duration_us)
                for s in settlements
                if s.outcome != "release"
            ]
            if attempts:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO attempts (message, n, ts, outcome, provider_code, detail, "
                        "duration_us) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        attempts,
                    )
            for s in settlements:
                done.append(_settle(conn, s))
        return done

    def merge(self, ids: Sequence[int], claim: int, digest: MessageRow) -> int | None:
        unique = sorted(set(ids))
        if not unique:
            return None
        with self._outbox_tx(bookkeeping=True) as conn:
            held = conn.execute(
                "SELECT id FROM outbox WHERE id = ANY(%s) AND state = 'claimed' "
                "AND claimed_until = %s AND digest IS NULL ORDER BY id FOR UPDATE",
                (unique, claim),
            ).fetchall()
            if len(held) != len(unique):
                return None
            row = digest._replace(state=CLAIMED, claimed_until=claim, digest=None)
            got = conn.execute(_INSERT_MESSAGE + " RETURNING id", row[1:]).fetchone()
            if got is None:
                return None
            new = int(got[0])
            conn.execute("UPDATE outbox SET digest = %s WHERE id = %s", (new, new))
            conn.execute(
                "UPDATE outbox SET digest = %s, claimed_until = 0 WHERE id = ANY(%s)",
                (new, unique),
            )
        return new

    def requeue_dead(self, now_ts: int, ids: Sequence[int] | None = None) -> int:
        changed = 0
        with self._outbox_tx() as conn:
            if ids is None:
                dead = conn.execute(
                    "SELECT id, digest FROM outbox WHERE state = 'dead' FOR UPDATE"
                ).fetchall()
            else:
                dead = conn.execute(
                    "SELECT id, digest FROM outbox WHERE id = ANY(%s) AND state = 'dead' "
                    "FOR UPDATE",
                    (sorted(set(ids)),),
                ).fetchall()
            for target in sorted({d if d is not None else i for i, d in dead}):
                cur = conn.execute(
                    "UPDATE outbox SET state = 'pending', next_ts = %s, attempts = 0, "
                    "claimed_until = 0 WHERE id = %s AND state = 'dead'",
                    (now_ts, target),
                )
                if cur.rowcount != 1:
                    continue
                changed += 1
                cur = conn.execute(
                    "UPDATE outbox SET state = 'claimed', claimed_until = 0 "
                    "WHERE digest = %s AND id != %s AND state = 'dead'",
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
        where = ["true"]
        params: list[object] = []
        if message is not None:
            where.append("a.message = %s")
            params.append(message)
        if since_ts is not None:
            where.append("a.ts >= %s")
            params.append(since_ts)
        source = "attempts a"
        if channel is not None:
            source += " JOIN outbox o ON o.id = a.message"
            where.append("o.channel = %s")
            params.append(channel)
        text = (
            "SELECT a.message, a.n, a.ts, a.outcome, a.provider_code, a.detail, a.duration_us "
            f"FROM {source} WHERE {' AND '.join(where)} ORDER BY a.id"
        )
        with self._connection() as conn, self._errors("read the attempts log"):
            return [AttemptRow(*r) for r in conn.execute(text.encode(), params)]

    def update_message(
        self, message_id: int, *, state: str, attempts: int, next_ts: int, detail: str
    ) -> None:
        with self._outbox_tx() as conn:
            cur = conn.execute(
                "UPDATE outbox SET state = %s, attempts = %s, next_ts = %s, detail = %s, "
                "claimed_until = 0 WHERE id = %s",
                (state, attempts, next_ts, detail, message_id),
            )
            if cur.rowcount != 1:
                raise KeyError(f"no outbox message {message_id}")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.close()


def _settle(conn: psycopg.Connection[Any], s: Settlement) -> bool:
    held = "state = 'claimed' AND claimed_until = %s"
    if s.outcome == "delivered":
        cur = conn.execute(
            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, "
            "delivered_ts = %s, provider_code = %s, detail = %s, claimed_until = 0 "
            "WHERE id = %s AND state != 'delivered'",
            (s.ts, s.provider_code, s.detail, s.id),
        )
    elif s.outcome == "retry":
        cur = conn.execute(
            "UPDATE outbox SET state = 'pending', attempts = attempts + 1, next_ts = %s, "
            "provider_code = %s, detail = %s, claimed_until = 0 WHERE id = %s AND " + held,
            (s.next_ts, s.provider_code, s.detail, s.id, s.claim),
        )
    elif s.outcome == "dead":
        cur = conn.execute(
            "UPDATE outbox SET state = 'dead', attempts = attempts + 1, "
            "provider_code = %s, detail = %s, claimed_until = 0 WHERE id = %s AND " + held,
            (s.provider_code, s.detail, s.id, s.claim),
        )
    else:  # release
        cur = conn.execute(
            "UPDATE outbox SET state = 'pending', next_ts = %s, claimed_until = 0 "
            "WHERE id = %s AND " + held,
            (s.next_ts, s.id, s.claim),
        )
    if cur.rowcount != 1:
        return False
    if s.outcome == "delivered":  # the messages it carries, if it is a digest
        conn.execute(
            "UPDATE outbox SET state = 'delivered', delivered_ts = %s, provider_code = %s, "
            "detail = %s WHERE digest = %s AND id != %s",
            (s.ts, s.provider_code, f"delivered in digest {s.id}", s.id, s.id),
        )
    elif s.outcome == "dead":
        conn.execute(
            "UPDATE outbox SET state = 'dead', provider_code = %s, detail = %s "
            "WHERE digest = %s AND id != %s",
            (s.provider_code, f"carried by digest {s.id}, which is dead: {s.detail}", s.id, s.id),
        )
    return True


def _version(conn: psycopg.Connection[Any]) -> int | None:
    """The schema version, or ``None`` when the database has no dualduty schema."""
    if not _exists(conn, "dualduty_schema"):
        return None
    found = conn.execute("SELECT max(version) FROM dualduty_schema").fetchone()
    return int(found[0]) if found and found[0] is not None else 0


def _exists(conn: psycopg.Connection[Any], table: str) -> bool:
    found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(found and found[0])


def _describe_target(params: dict[str, Any]) -> str:
    """Where the server is and which database, as ``host:port/database`` (no password)."""
    host = params.get("host") or params.get("hostaddr") or "the local socket"
    port = params.get("port") or "5432"
    dbname = params.get("dbname") or params.get("user") or "(the user's database)"
    return f"{host}:{port}, database {dbname!r}"


@contextlib.contextmanager
def _translate(what: str, secrets: Sequence[str], target: str) -> Iterator[None]:
    """psycopg's errors as StoreErrors saying *what* failed; no password in them."""
    try:
        yield
    except psycopg.OperationalError as exc:
        detail = _scrub(" ".join(str(exc).split()), secrets)
        if exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P")):
            raise StoreError(
                f"{what}: lost the connection to the PostgreSQL server at {target} "
                f"({detail}); what was committed is kept, and this transaction was not. "
                "Try again: a new connection is made"
            ) from None
        raise StoreError(f"{what}: {detail}") from None
    except psycopg.Error as exc:
        detail = _scrub(" ".join(str(exc).split()), secrets)
        raise StoreError(f"{what}: {detail}") from None
