"""What the PostgreSQL backend adds to the kit: errors without passwords, the schema,
read-only opens, append-only tables, a server restart, and the command line."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import time
import zoneinfo
from pathlib import Path

import attrs
import psycopg
import pytest
from dualduty_postgres.backend import SCHEMA_VERSION, PostgresBackend, safe_url

from dualduty.cli import main
from dualduty.records.base import Note, Record, school, unit
from dualduty.storage import OutboxItem, OutboxMessage, Store, StoreError, open_store

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
    """The plugin creates schema version 4; a newer one is refused, read-only too."""
    with open_store(pg_url):
        pass
    with server.admin(database) as conn:
        assert conn.execute("SELECT version FROM dualduty_schema").fetchall() == [(SCHEMA_VERSION,)]
        assert SCHEMA_VERSION == 4
        conn.execute("UPDATE dualduty_schema SET version = 5")
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer dualduty"):
            open_store(pg_url, readonly=readonly)


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
            "DELETE FROM subject_runs",
            "UPDATE subject_runs SET subject = 'x'",
            "TRUNCATE subject_runs",
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


def test_reads_by_subject_agree_with_the_memory_store(pg_url: str) -> None:
    """Reads by subject (the runs, fetched a few hundred to a few thousand positions at a
    time) give what the memory store gives, with every filter, position and limit."""
    sizes = (1, 2, 70, 1, 500, 3, 1200, 64, 1)  # single rows, small batches and COPY
    records = [
        Record(
            "note",
            "kit.actor",
            AT + dt.timedelta(hours=i),
            Note(f"n{i}"),
            (school(f"s{i % 3}"), unit("planning")) if i % 5 else (school("s9"),),
        )
        for i in range(sum(sizes))
    ]
    with open_store(pg_url) as store, open_store("memory:") as reference:
        done = 0
        for size in sizes:
            store.extend(records[done : done + size])
            reference.extend(records[done : done + size])
            done += size
        day = dt.timedelta(days=1)
        for subject, kind, (since, until), after, limit in itertools.product(
            (school("s0"), school("s9"), unit("planning"), school("s5")),
            (None, "note", "meeting-held"),
            ((None, None), (AT + 10 * day, AT + 40 * day)),
            (0, 1, 73, 1500),
            (None, 0, 1, 250, 20_000),
        ):
            got, want = (
                [
                    e.seq
                    for e in source.read(
                        subject=subject,
                        kind=kind,
                        since=since,
                        until=until,
                        after=after,
                        limit=limit,
                    )
                ]
                for source in (store, reference)
            )
            assert got == want, (subject, kind, since, until, after, limit)


def test_verify_finds_a_run_keyed_before_its_entries(server: Server, database: str) -> None:
    """A run of the subject index whose key is not its last position would hide entries
    from reads by subject after the key: verify names the first one."""
    url = server.url_for(database)
    with open_store(url) as store:
        store.extend(_note(f"n{i}") for i in range(100))  # one run of school:s1, 1 … 100
        store.extend(_note(f"m{i}") for i in range(100))  # another, 101 … 200
        assert store.verify().ok
    with server.admin(database) as conn:
        conn.execute("ALTER TABLE subject_runs DISABLE TRIGGER subject_runs_append_only")
        conn.execute("UPDATE subject_runs SET last = 150 WHERE last = 200")
    with open_store(url, readonly=True) as store:
        assert [e.seq for e in store.read(subject=school("s1"), after=160)] == []
        check = store.verify()
    assert (check.ok, check.first_bad) == (False, 151)
    assert "keyed by entry 150, before it" in str(check.reason)
    with server.admin(database) as conn:  # runs that overlap: reads could go out of order
        conn.execute("UPDATE subject_runs SET last = 200 WHERE last = 150")
        conn.execute("UPDATE subject_runs SET last = 120, seqs = seqs[1:20] WHERE last = 100")
        conn.execute("UPDATE subject_runs SET seqs = seqs[1:1] || 101 || seqs WHERE last = 200")
    with open_store(url, readonly=True) as store:
        check = store.verify()
    assert check.first_bad == 21  # entries 21 … 100 lost their index rows
    assert "missing school:s1" in str(check.reason)


# -- re-addressing pending outbox messages (the writer's optional readdress) --------------


def _moved(store: Store, item: OutboxItem) -> tuple[int, str, bytes]:
    """The change sending *item* to person:qian instead, as the Store gives it."""
    message = attrs.evolve(item.message, recipient="person:qian", text=f"{item.message.text}→钱")
    return item.id, message.recipient, store.codec.message_body(message)


def test_readdress_pending_not_claimed_and_rolled_back(pg_url: str) -> None:
    with open_store(pg_url) as store:
        store.enqueue(*(_message(i) for i in range(3)))
        a, b, c = store.outbox()
        (claimed,) = store.claim(1, lease=60)
        assert claimed.id == a.id
        backend = store.backend
        assert isinstance(backend, PostgresBackend)
        with backend.writing() as writer:
            changes = [_moved(store, b), _moved(store, a), (10**9, "person:qian", b"{}")]
            assert writer.readdress(changes) == [True, False, False]

        def readdress_then_fail() -> None:
            with backend.writing() as writer:
                assert writer.readdress([_moved(store, c)]) == [True]
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError, match="rolled back"):
            readdress_then_fail()
        by_id = {i.id: i for i in store.outbox(state=None)}
        assert by_id[b.id].message.recipient == "person:qian"
        assert by_id[b.id].message.text == "m1→钱"
        assert (by_id[b.id].state, by_id[b.id].message.key) == ("pending", "r1")
        assert by_id[a.id].message == a.message
        assert by_id[a.id].state == "claimed"
        assert by_id[c.id].message == c.message
        with backend.writing() as writer:  # nothing to do is nothing done
            assert writer.readdress([]) == []


def test_a_readdressed_message_is_not_claimed_until_the_transaction_ends(pg_url: str) -> None:
    """The answer is final: while the transaction that re-addressed a message is open, a
    dispatcher (another store, another connection) passes over it; then it gets the new
    recipient."""
    with open_store(pg_url) as store, open_store(pg_url) as dispatcher:
        store.enqueue(_message(0), _message(1))
        m0, m1 = store.outbox()
        backend = store.backend
        assert isinstance(backend, PostgresBackend)
        with backend.writing() as writer:
            assert writer.readdress([_moved(store, m0)]) == [True]
            assert [i.id for i in dispatcher.claim(5, lease=60)] == [m1.id]
        (claimed,) = dispatcher.claim(5, lease=60)
        assert (claimed.id, claimed.message.recipient) == (m0.id, "person:qian")


def test_readdress_waits_for_a_claim_under_way_and_says_no(server: Server, pg_url: str) -> None:
    """A dispatcher that has locked a message to claim it, but not yet committed: the
    re-addressing waits for it and then finds the message claimed."""
    with open_store(pg_url) as store:
        store.enqueue(_message(0))
        (m,) = store.outbox()
        backend = store.backend
        assert isinstance(backend, PostgresBackend)
        result: list[list[bool]] = []
        with psycopg.connect(pg_url) as claimer:  # a claim as the backend makes it
            claimer.execute(
                "SELECT id FROM outbox WHERE state = 'pending' FOR UPDATE SKIP LOCKED"
            ).fetchall()
            claimer.execute(
                "UPDATE outbox SET state = 'claimed', claimed_until = 1 WHERE id = %s", (m.id,)
            )

            def readdress() -> None:
                with backend.writing() as writer:
                    result.append(writer.readdress([_moved(store, m)]))

            worker = threading.Thread(target=readdress)
            worker.start()
            with server.admin() as admin:  # until the re-addressing waits on the lock
                waiting = False
                for _ in range(6000):
                    found = admin.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE 'UPDATE outbox SET recipient%%'"
                    ).fetchone()
                    if found and found[0]:
                        waiting = True
                        break
                    time.sleep(0.01)
                assert waiting, "the re-addressing never waited for the claim"
            claimer.commit()
        worker.join(timeout=60)
        assert result == [[False]]
        (item,) = store.outbox(state="claimed")
        assert item.message == m.message


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
