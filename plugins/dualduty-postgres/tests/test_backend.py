"""What the PostgreSQL backend adds to the kit: errors without passwords, the schema,
read-only opens, append-only tables, a server restart, and the command line."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path

import psycopg
import pytest
from dualduty_postgres.backend import SCHEMA_VERSION, PostgresBackend, safe_url

from dualduty.cli import main
from dualduty.records.base import Note, Record, school
from dualduty.storage import OutboxMessage, StoreError, open_store

from .conftest import PASSWORD, Server

SECRET = "s3cret-Pa55word"
AT = dt.datetime(2024, 9, 1, 8, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def _note(text: str) -> Record:
    return Record("note", "kit.actor", AT, Note(text), (school("s1"),))


def _open_error(url: str) -> str:
    with pytest.raises(StoreError) as info:
        open_store(url)
    text = str(info.value)
    assert SECRET not in text
    assert SECRET not in repr(info.value)
    assert info.value.__cause__ is None or SECRET not in str(info.value.__cause__)
    return text


# -- errors ---------------------------------------------------------------------------------


def test_wrong_password(server: Server, database: str) -> None:
    text = _open_error(server.url_for(database, password=SECRET))
    assert "refused the user name or password" in text
    assert "PGPASSWORD" in text


def test_missing_database(server: Server) -> None:
    text = _open_error(server.url_for("no_such_db", password=PASSWORD))
    assert "no such database" in text
    assert PASSWORD not in text


def test_unreachable_server(server: Server) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = _open_error(f"postgresql://dualduty:{SECRET}@127.0.0.1:{port}/dualduty")
    assert f"cannot reach the PostgreSQL server at 127.0.0.1:{port}" in text


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://dualduty:{SECRET}@127.0.0.1:notaport/db",
        f"postgresql://dualduty:{SECRET}@127.0.0.1/db?nosuchoption=1",
        f"postgres://dualduty:{SECRET}@[::1/db",
    ],
)
def test_wrong_url(url: str) -> None:
    text = _open_error(url)
    assert "not a valid PostgreSQL URL" in text, text


def test_password_in_the_url_is_never_shown(server: Server, database: str) -> None:
    """A password given in the URL works, but the URL, repr and errors leave it out."""
    with open_store(server.url_for(database, password=PASSWORD)) as store:
        assert PASSWORD not in store.url
        assert PASSWORD not in repr(store)
        assert PASSWORD not in repr(store.backend)
        assert store.url == server.url_for(database)
        store.append(_note("a"))
    assert safe_url(f"postgresql://u:{SECRET}@h/db?password={SECRET}&sslmode=require") == (
        "postgresql://u@h/db?sslmode=require"
    )


def test_postgres_scheme_and_unknown_urls(pg_url: str) -> None:
    with open_store(pg_url.replace("postgresql://", "postgres://", 1)) as store:
        assert store.url.startswith("postgres://")
        assert len(store) == 0


# -- schema, read-only, append-only ----------------------------------------------------------


def test_readonly(server: Server, pg_url: str) -> None:
    with pytest.raises(StoreError, match="not a store yet"):
        open_store(pg_url, readonly=True)
    with open_store(pg_url) as store:
        store.append(_note("a"))
    with open_store(pg_url, readonly=True) as store:
        assert len(store) == 1
        assert store.verify().ok
        with pytest.raises(StoreError, match="opened read-only"):
            store.append(_note("b"))
        with pytest.raises(StoreError, match="opened read-only"):
            store.requeue_dead()


def test_schema_version_and_newer_refused(server: Server, database: str, pg_url: str) -> None:
    """The plugin creates schema version 3 (SQLite's current); a newer one is refused."""
    with open_store(pg_url):
        pass
    with server.admin(database) as conn:
        assert conn.execute("SELECT version FROM dualduty_schema").fetchall() == [(SCHEMA_VERSION,)]
        assert SCHEMA_VERSION == 3
        conn.execute("UPDATE dualduty_schema SET version = 4")
    with pytest.raises(StoreError, match="newer dualduty"):
        open_store(pg_url)


def test_foreign_tables_refused(server: Server, database: str, pg_url: str) -> None:
    with server.admin(database) as conn:
        conn.execute("CREATE TABLE records (x int)")
    with pytest.raises(StoreError, match="not a dualduty store"):
        open_store(pg_url)


def test_records_are_append_only(pg_url: str) -> None:
    with open_store(pg_url) as store:
        store.append(_note("a"))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for statement in (
            "UPDATE records SET kind = 'x'",
            "DELETE FROM records",
            "TRUNCATE records",
            "DELETE FROM subjects",
            "UPDATE subjects SET subject = 'x'",
        ):
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(statement)


def test_reads_in_a_transaction_see_its_writes(pg_url: str) -> None:
    """Like SQLite's one connection: a read inside this thread's transaction sees it."""
    with open_store(pg_url) as store:
        with store.transaction() as tx:
            tx.append(_note("a"))
            tx.extend(_note(f"b{i}") for i in range(100))  # COPY
            assert len(store) == 0  # the Store inserts at the end of the block
        assert len(store) == 101
        assert store.verify().ok


# -- a server restart ----------------------------------------------------------------------


def test_server_restart_in_the_middle_of_a_run(server: Server, pg_url: str) -> None:
    """The server restarts between operations: the store reconnects (or says clearly
    that it lost the connection) and nothing committed is lost."""
    store = open_store(pg_url)
    try:
        store.extend(_note(f"before{i}") for i in range(200))
        store.enqueue(*(_message(i) for i in range(5)))
        server.restart()
        lost = None
        try:
            store.append(_note("after"))
        except StoreError as exc:  # a connection the pool had not checked yet
            lost = str(exc)
            store.append(_note("after"))
        assert lost is None or "lost the connection" in lost, lost
        assert len(store) == 201
        assert store.verify().ok
        server.restart()
    finally:
        store.close()
    with open_store(pg_url) as again:  # a new store continues the chain
        again.append(_note("again"))
        assert len(again) == 202
        assert again.verify().ok
        assert again.outbox_counts()["pending"] == 5


def _message(i: int) -> OutboxMessage:
    return OutboxMessage("console", "person:zhao", "通知", f"m{i}", key=f"r{i}")


# -- the command line ----------------------------------------------------------------------


def test_cli_verify(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with open_store(pg_url) as store:
        store.extend(_note(f"n{i}") for i in range(10))
    assert main(["verify", "--db", pg_url, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["intact"], report["checked"], report["url"]) == (True, 10, pg_url)


def test_cli_demo(pg_url: str, tmp_path: Path) -> None:
    assert main(["demo", "--db", pg_url, "--schools", "20", "--out", str(tmp_path / "out")]) == 0
    assert main(["verify", "--db", pg_url]) == 0
    with open_store(pg_url, readonly=True) as store:
        assert len(store) > 100


def test_backend_repr_and_closing(pg_url: str) -> None:
    backend = PostgresBackend(pg_url)
    assert repr(backend) == f"<PostgresBackend {pg_url}>"
    backend.close()
    backend.close()
    with pytest.raises(StoreError, match="is closed"):
        backend.count()
