"""Schema version 3 (one subject-index row per subject and entry) to 4 (runs), against a
real server: a version-3 store is written as the plugin wrote it, then read as it is
(read-only), migrated (opened for writing), and checked."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from dualduty_postgres.backend import (
    _INSERT_MESSAGE,
    MIGRATIONS,
    OLDEST_READABLE,
    RUN_LENGTH,
    SCHEMA_VERSION,
    PostgresBackend,
)

from dualduty.records.base import Note, Record, person, school, unit
from dualduty.storage import OutboxMessage, Query, Row, StoreError, open_store

from .conftest import Server

AT = dt.datetime(2024, 9, 1, 8, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
#: Entries of the version-3 store: unit:planning names all, more than one run holds.
COUNT = 3000
SUBJECTS = (unit("planning"), *(school(f"s{i}") for i in range(7)), person("zhao"))


def _records(n: int) -> Iterator[Record]:
    for i in range(n):
        subjects = [unit("planning"), school(f"s{i % 7}")]
        if i % 100 == 0:
            subjects.append(person("zhao"))
        yield Record("note", "kit.actor", AT + dt.timedelta(seconds=i), Note(f"n{i}"), subjects)


def _sealed(n: int) -> tuple[list[Row], list[tuple[Any, ...]]]:
    """*n* records sealed as a Store seals them (in memory), and one outbox message."""
    with open_store("memory:") as mem:
        mem.extend(_records(n))
        mem.enqueue(OutboxMessage("console", "person:zhao", "通知", "请处理", key="m1"))
        rows = list(mem.backend.select(Query()))
        messages = [m[1:] for m in mem.backend.messages()]
    return rows, messages


def _write_v3(conn: psycopg.Connection[tuple[object, ...]], rows: list[Row]) -> None:
    """Append *rows* as schema version 3 did: the subject index one row per subject and
    entry, filled from the records on the server (COPY) or row by row."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT id FROM writer_lock WHERE id = 1 FOR UPDATE")
        if len(rows) >= 64:
            with cur.copy(
                "COPY records (seq, kind, actor, ts, subjects, body, hash) "
                "FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int8", "text", "text", "int8", "text[]", "bytea", "text"])
                for r in rows:
                    copy.write_row((r[0], r[1], r[2], r[3], list(r[4]), r[5], r[6]))
            cur.execute(
                "INSERT INTO subjects (subject, seq) "
                "SELECT unnest(subjects), seq FROM records WHERE seq BETWEEN %s AND %s",
                (rows[0][0], rows[-1][0]),
            )
        else:
            cur.executemany(
                "INSERT INTO records (seq, kind, actor, ts, subjects, body, hash) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(r[0], r[1], r[2], r[3], list(r[4]), r[5], r[6]) for r in rows],
            )
            cur.executemany(
                "INSERT INTO subjects (subject, seq) VALUES (%s, %s)",
                [(s, r[0]) for r in rows for s in r[4]],
            )


@pytest.fixture
def v3_store(server: Server, database: str) -> list[Row]:
    """The test's database as a version-3 store holding the rows returned: created with
    version 3's DDL, then written in transactions of every size version 3 wrote."""
    rows, messages = _sealed(COUNT)
    with psycopg.connect(server.url_for(database), autocommit=True) as conn:
        with conn.transaction():
            conn.execute(MIGRATIONS[3].encode())
            conn.execute("INSERT INTO dualduty_schema (version) VALUES (3)")
        done = 0
        for size in (1, 5, 63, 64, 1000, COUNT):
            part = rows[done : done + size]
            if part:
                _write_v3(conn, part)
            done += len(part)
        assert done == COUNT
        conn.cursor().executemany(_INSERT_MESSAGE, messages)
    return rows


def _version(server: Server, database: str) -> int:
    with server.admin(database) as conn:
        found = conn.execute("SELECT version FROM dualduty_schema").fetchone()
    assert found is not None
    version = found[0]
    assert isinstance(version, int)
    return version


def _tables(server: Server, database: str) -> set[str]:
    with server.admin(database) as conn:
        found = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {str(t[0]) for t in found}


def _check_reads(url: str, rows: list[Row], *, readonly: bool) -> None:
    """Every way of reading by subject gives what the rows say."""
    with open_store(url, readonly=readonly) as store:
        assert len(store) == len(rows)
        for subject in SUBJECTS:
            want = [r.seq for r in rows if subject in r.subjects]
            assert [e.seq for e in store.read(subject=subject)] == want, subject
            after = want[len(want) // 2]
            assert [e.seq for e in store.read(subject=subject, after=after, limit=5)] == [
                s for s in want if s > after
            ][:5]
            assert [e.seq for e in store.read(subject=subject, limit=len(want) + 1)] == want
        planning = [e.record.data.text for e in store.read(subject=unit("planning"), after=2000)]
        assert planning == [f"n{i}" for i in range(2000, COUNT)]
        check = store.verify()
        assert (check.ok, check.checked) == (True, len(rows)), check.reason


def test_readonly_open_reads_version_3_as_it_is(
    server: Server, database: str, v3_store: list[Row]
) -> None:
    """Like the SQLite store's older files: read, verified, and left at version 3."""
    url = server.url_for(database)
    assert OLDEST_READABLE == 3
    backend = PostgresBackend(url, readonly=True)
    try:
        assert backend.schema == 3
    finally:
        backend.close()
    _check_reads(url, v3_store, readonly=True)
    assert _version(server, database) == 3
    assert "subjects" in _tables(server, database)
    assert "subject_runs" not in _tables(server, database)
    with open_store(url, readonly=True) as store:
        assert [m.message.text for m in store.outbox()] == ["请处理"]
        with pytest.raises(StoreError, match="opened read-only"):
            store.append(next(_records(1)))
    # the version-3 index is checked too
    with server.admin(database) as conn:
        conn.execute("ALTER TABLE subjects DISABLE TRIGGER subjects_append_only")
        cur = conn.execute(
            "DELETE FROM subjects WHERE seq = 700 AND subject = %s", (v3_store[699].subjects[1],)
        )
        assert cur.rowcount == 1
    with open_store(url, readonly=True) as store:
        check = store.verify()
    assert (check.ok, check.first_bad) == (False, 700)
    assert f"missing {v3_store[699].subjects[1]}" in str(check.reason)


def test_opening_for_writing_migrates_version_3(
    server: Server, database: str, v3_store: list[Row]
) -> None:
    """Opened for writing, a version-3 store is brought to version 4 in one transaction:
    its index rows become runs, reads and verify agree, and writing goes on."""
    url = server.url_for(database)
    with open_store(url) as store:
        assert store.backend.schema == SCHEMA_VERSION == 4  # type: ignore[attr-defined]
    assert _version(server, database) == 4
    tables = _tables(server, database)
    assert "subject_runs" in tables
    assert "subjects" not in tables
    with server.admin(database) as conn:
        runs = conn.execute(
            "SELECT subject, last, seqs FROM subject_runs ORDER BY subject, last"
        ).fetchall()
    by_subject: dict[str, list[int]] = {}
    for subject, last, seqs in runs:
        assert isinstance(seqs, list)
        assert 0 < len(seqs) <= RUN_LENGTH
        assert seqs == sorted(seqs)
        assert last == seqs[-1]
        by_subject.setdefault(str(subject), []).extend(seqs)
    assert by_subject == {s: [r.seq for r in v3_store if s in r.subjects] for s in SUBJECTS}
    assert sum(1 for r in runs if r[0] == unit("planning")) == -(-COUNT // RUN_LENGTH)
    _check_reads(url, v3_store, readonly=False)
    _check_reads(url, v3_store, readonly=True)

    with open_store(url) as store:  # writing goes on, both paths
        store.append(*_records(3))
        store.extend(_records(100))
        assert len(store) == COUNT + 103
        assert store.verify().ok
        assert [m.message.text for m in store.outbox()] == ["请处理"]
        zhao = [e.seq for e in store.read(subject=person("zhao"))]
        before = [r.seq for r in v3_store if person("zhao") in r.subjects]
        assert zhao == [*before, COUNT + 1, COUNT + 4]


def test_a_failed_migration_changes_nothing(
    server: Server, database: str, v3_store: list[Row]
) -> None:
    """The migration is one transaction: when a step fails, the store stays at version 3."""
    url = server.url_for(database)
    with server.admin(database) as conn:  # a table in the way of version 4's
        conn.execute("CREATE TABLE subject_runs (x int)")
    with pytest.raises(StoreError, match="cannot create or check the schema"):
        open_store(url)
    assert _version(server, database) == 3
    with server.admin(database) as conn:
        conn.execute("DROP TABLE subject_runs")
    _check_reads(url, v3_store, readonly=True)


def test_two_processes_opening_at_once_migrate_once(
    server: Server, database: str, v3_store: list[Row]
) -> None:
    """Two writers opening a version-3 store at once: one migrates (under the advisory
    lock), the other finds version 4 and leaves it."""
    url = server.url_for(database)
    start = threading.Barrier(2)
    opened: list[PostgresBackend] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            start.wait(timeout=30)
            opened.append(PostgresBackend(url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for backend in opened:
        backend.close()
    assert not errors, errors
    assert len(opened) == 2
    assert _version(server, database) == 4
    _check_reads(url, v3_store, readonly=True)
