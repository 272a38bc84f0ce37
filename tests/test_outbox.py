"""The outbox as the dispatcher needs it: schema version 3 of the SQLite store and its
migration, and the Store's outbox methods at their edges.

The behaviour every backend shares (keys, claims, leases, outcomes, digests, dead
letters, two claimers at once) is in the conformance kit, run for both built-in
backends in test_store_conformance.py.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import attrs
import orjson
import pytest

from dualduty.records import Note, Record
from dualduty.records.base import school
from dualduty.storage import OutboxMessage, Settlement, Store, StoreError, open_store
from dualduty.storage import sqlite as sqlite_module
from dualduty.storage.sqlite import APPLICATION_ID, SCHEMA_VERSION, SqliteBackend

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2024, 9, 2, 8, 0, tzinfo=SHANGHAI)


def note(text: str) -> Record:
    return Record("note", "office.zhao", T0, Note(text), (school("s1"),))


def body(
    title: str, *, urgent: bool = False, key: str | None = None, with_key: bool = True
) -> bytes:
    doc: dict[str, object] = {
        "channel": "console",
        "recipient": "person:zhao",
        "title": title,
        "text": f"{title}的正文",
        "markdown": None,
        "urgent": urgent,
    }
    if with_key:  # bodies written before OutboxMessage had a key have no "key"
        doc["key"] = key
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def old_store(path: Path, version: int) -> None:
    """A store as a dualduty of schema *version* (1 or 2) wrote it: one record and
    outbox rows in every old state, two of them under one key."""
    db = sqlite3.connect(path)
    try:
        for step in sqlite_module.MIGRATIONS[:version]:
            assert isinstance(step, str)
            for statement in step.split(";\n"):
                if statement.strip():
                    db.execute(statement)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {version}")
        db.commit()
    finally:
        db.close()
    with open_store(f"sqlite:///{path}", readonly=True) as probe:  # (not migrated)
        assert isinstance(probe.backend, SqliteBackend)
        assert probe.backend.schema == version
    db = sqlite3.connect(path)
    try:
        ts = 1_725_235_200_000_000
        zhao, li = ("console", "person:zhao"), ("console", "person:li")
        rows = [  # id, seq, channel, recipient, body, state, attempts, next_ts, created, detail
            (1, 1, *zhao, body("重大隐患", urgent=True, key="k1"), "pending", 0, ts, ts, ""),
            (2, 0, *zhao, body("被拒", key="k2"), "failed", 1, ts, ts, "bad token"),
            (3, 0, *zhao, body("老消息", with_key=False), "delivered", 1, ts, ts, "ok"),
            (4, 0, *zhao, body("重复", key="k1"), "pending", 0, ts, ts, ""),
            (5, 0, *zhao, body("已送的重复", key="k2"), "delivered", 1, ts, ts, "ok"),
            (6, 0, *li, body("普通"), "pending", 0, ts + 1, ts, ""),
        ]
        db.executemany("INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.commit()
    finally:
        db.close()


def schema(path: Path) -> tuple[int, set[str], set[str]]:
    """The file's schema version, its outbox columns and its index names."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        columns = {r[1] for r in db.execute("PRAGMA table_info(outbox)")}
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        db.close()
    return version, columns, indexes


OLD_COLUMNS = {
    "id",
    "seq",
    "channel",
    "recipient",
    "body",
    "state",
    "attempts",
    "next_ts",
    "created_ts",
    "detail",
}
NEW_COLUMNS = {"key", "urgent", "claimed_until", "provider_code", "delivered_ts", "digest"}


def test_schema_version() -> None:
    assert SCHEMA_VERSION == 3


@pytest.mark.parametrize("version", [1, 2])
def test_an_old_store_is_read_as_it_is_when_read_only(tmp_path: Path, version: int) -> None:
    path = tmp_path / "records.db"
    old_store(path, version)
    with open_store(f"sqlite:///{path}", readonly=True) as store:
        items = store.outbox(state=None)
        assert [(i.id, i.state) for i in items] == [
            (1, "pending"),
            (2, "dead"),  # 'failed' reads as 'dead'
            (3, "delivered"),
            (4, "pending"),
            (5, "delivered"),
            (6, "pending"),
        ]
        assert [i.id for i in store.outbox(state="failed")] == [2]
        assert store.outbox_counts() == {"pending": 3, "claimed": 0, "delivered": 2, "dead": 1}
        assert store.attempts() == []
        assert items[0].message.urgent
        assert items[2].message.key is None
        with pytest.raises(StoreError, match="opened read-only"):
            store.enqueue(OutboxMessage("console", "zhao", "t", "x"))
        with pytest.raises(StoreError, match="opened read-only"):
            store.claim(1, lease=60)
    assert schema(path)[:2] == (version, OLD_COLUMNS)
    assert [p.name for p in tmp_path.iterdir()] == ["records.db"]


@pytest.mark.parametrize("version", [1, 2])
def test_an_old_store_is_migrated_when_opened_for_writing(tmp_path: Path, version: int) -> None:
    path = tmp_path / "records.db"
    old_store(path, version)
    url = f"sqlite:///{path}"
    with open_store(url) as store:
        items = {i.id: i for i in store.outbox(state=None)}
        assert [(i, items[i].state) for i in sorted(items)] == [
            (1, "pending"),
            (2, "dead"),
            (3, "delivered"),
            (4, "dead"),  # a pending copy of message 1's key: set aside, not sent twice
            (5, "delivered"),
            (6, "pending"),
        ]
        assert items[4].detail == (
            "not sent: a copy of outbox message 1 (the same key), queued before the outbox "
            "held one message per key"
        )
        assert items[2].detail == "bad token"
        assert [items[i].message.key for i in sorted(items)] == ["k1", "k2", None, "k1", "k2", None]
        # the keys now hold: neither k1 nor k2 is queued again, in any state
        assert store.enqueue(OutboxMessage("console", "zhao", "t", "x", key="k1")) == 0
        assert store.enqueue(OutboxMessage("console", "zhao", "t", "x", key="k2")) == 0
        # urgent first, from the old bodies
        claimed = store.claim(10, lease=60, now=T0 + dt.timedelta(days=1))
        assert [i.id for i in claimed] == [1, 6]
        assert store.requeue_dead([4]) == 1
        assert store.verify().ok
    version_now, columns, indexes = schema(path)
    assert (version_now, columns) == (3, OLD_COLUMNS | NEW_COLUMNS)
    assert {"outbox_due", "outbox_lease", "outbox_dead", "outbox_key", "outbox_digest"} <= indexes
    assert "outbox_state" not in indexes
    assert "attempts_message" in indexes


def test_a_failed_migration_leaves_the_old_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "records.db"
    old_store(path, 2)

    def broken(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE outbox ADD COLUMN key TEXT")
        db.execute("CREATE INDEX outbox_state ON outbox (state)")  # exists: fails

    monkeypatch.setattr(sqlite_module, "MIGRATIONS", (*sqlite_module.MIGRATIONS[:2], broken))
    with pytest.raises(StoreError, match="cannot create or migrate the schema: index outbox_state"):
        open_store(f"sqlite:///{path}")
    assert schema(path)[:2] == (2, OLD_COLUMNS)
    monkeypatch.undo()
    with open_store(f"sqlite:///{path}") as store:
        assert len(store.outbox(state=None)) == 6
    assert schema(path)[:2] == (3, OLD_COLUMNS | NEW_COLUMNS)


def test_a_new_store_has_the_whole_schema(tmp_path: Path) -> None:
    path = tmp_path / "records.db"
    with open_store(f"sqlite:///{path}") as store:
        with store.transaction() as tx:
            entry = tx.append(note("隐患"))
            tx.enqueue(OutboxMessage("console", "zhao", "t", "x", key="k"), cause=entry)
            tx.enqueue(OutboxMessage("console", "zhao", "t", "again", key="k"), cause=entry)
        assert [(i.cause, i.message.text) for i in store.outbox()] == [(1, "x")]
    assert schema(path)[:2] == (3, OLD_COLUMNS | NEW_COLUMNS)


# -- the Store's outbox methods at their edges ----------------------------------------------


def test_states_are_checked(store: Store) -> None:
    store.enqueue(OutboxMessage("console", "zhao", "t", "x"))
    (item,) = store.outbox()
    with pytest.raises(ValueError, match="unknown outbox state 'sent'"):
        store.outbox(state="sent")
    with pytest.raises(ValueError, match="unknown outbox state 'claimed'"):
        store.mark(item, state="claimed")
    assert item.claim == 0
    assert not item.is_digest


def test_merge_needs_one_claim(store: Store) -> None:
    store.enqueue(*(OutboxMessage("console", "zhao", "t", f"m{n}", key=f"m{n}") for n in range(3)))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    a, b = store.claim(2, lease=60, now=later)
    (c,) = store.claim(1, lease=60, now=later + dt.timedelta(seconds=1))
    summary = OutboxMessage("console", "zhao", "汇总", "…")
    assert store.merge([a, c], summary) is None  # two claims
    assert store.merge([attrs.evolve(a, claimed_until=None)], summary) is None  # no claim
    with pytest.raises(ValueError, match="at least one item"):
        store.merge([], summary)
    digest = store.merge([a, b], summary)
    assert digest is not None
    assert digest.is_digest
    assert store.merge([a], summary) is None  # already carried
    assert store.merge([c], summary) is not None


def test_settle_refuses_unknown_outcomes_and_ids(store: Store) -> None:
    store.enqueue(OutboxMessage("console", "zhao", "t", "x"))
    with pytest.raises(ValueError, match="unknown outcome 'lost'"):
        store.settle([Settlement(1, 0, "lost", 0)])
    assert store.settle([Settlement(99, 0, "delivered", 0, attempt=1)]) == [False]
    assert store.settle([Settlement(1, 0, "retry", 0, 5, attempt=1)]) == [False]  # not claimed


def test_a_closed_store_refuses_the_outbox(store: Store) -> None:
    store.close()
    message = OutboxMessage("console", "zhao", "t", "x")
    for use in (
        lambda: store.enqueue(message),
        lambda: store.claim(1, lease=60),
        lambda: store.settle([]),
        store.requeue_dead,
        store.outbox_counts,
        store.attempts,
    ):
        with pytest.raises(StoreError, match="is closed"):
            use()


def test_store_methods_inside_a_transaction_are_refused(tmp_path: Path) -> None:
    """The outbox methods write in transactions of their own, which do not nest."""
    with open_store(f"sqlite:///{tmp_path / 'records.db'}") as store:
        store.enqueue(OutboxMessage("console", "zhao", "t", "x", key="k"))
        (item,) = store.claim(1, lease=60, now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
        with store.transaction():
            for use in (
                lambda: store.claim(1, lease=60),
                lambda: store.settle([Settlement(item.id, item.claim, "release", 0, 0)]),
                store.requeue_dead,
                lambda: store.merge([item], OutboxMessage("console", "zhao", "t", "x")),
            ):
                with pytest.raises(StoreError, match="do not nest"):
                    use()
        assert store.outbox(state="claimed") == [item]


def test_records_are_committed_durably_after_the_outbox_bookkeeping(tmp_path: Path) -> None:
    """Claims and outcomes are committed with synchronous = NORMAL; a record, and a
    message queued, with FULL whatever came before."""
    with open_store(f"sqlite:///{tmp_path / 'records.db'}") as store:
        backend = store.backend
        assert isinstance(backend, SqliteBackend)

        def sync() -> int:
            return int(backend.db.execute("PRAGMA synchronous").fetchone()[0])

        seen: list[int] = []
        store.observe(lambda entries: seen.append(sync()))  # right after the commit
        assert sync() == 2  # FULL
        store.enqueue(OutboxMessage("console", "zhao", "t", "x", key="k"))
        assert sync() == 2
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        (item,) = store.claim(1, lease=60, now=later)
        assert sync() == 1  # NORMAL
        store.settle([Settlement(item.id, item.claim, "retry", 0, 0, 1)])
        assert sync() == 1
        store.append(note("a"))
        assert seen == [2]
        store.claim(1, lease=60, now=later)
        store.enqueue(OutboxMessage("console", "zhao", "t", "y", key="j"))
        assert sync() == 2
