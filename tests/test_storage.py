"""The Store façade and the built-in backends, beyond the conformance kit.

Records and their validation, the canonical body and the chain, what ``verify`` names
for each kind of tampering, the SQLite file (pragmas, schema versions, migrations,
refusals) and store URLs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import sqlite3
import time
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import attrs
import pendulum
import pytest

from dualduty.cli import main
from dualduty.errors import DualdutyError
from dualduty.hookspecs import AppendedContext
from dualduty.plugins import BUILTIN, Hooks, hookimpl, make_plugin_manager
from dualduty.records import RECORD_KINDS, Note, Record, kind_of, record_kind
from dualduty.records.base import Entry, school, unit
from dualduty.storage import (
    GENESIS,
    AppendObserverError,
    AttemptRow,
    MessageRow,
    OutboxMessage,
    Query,
    Row,
    Settlement,
    Store,
    StoreBackend,
    StoreError,
    Writer,
    open_store,
)
from dualduty.storage import sqlite as sqlite_module
from dualduty.storage.memory import MemoryBackend
from dualduty.storage.sqlite import APPLICATION_ID, SCHEMA_VERSION, SqliteBackend

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2024, 9, 1, 8, 30, tzinfo=SHANGHAI)


def note(text: str, *subjects: str, at: dt.datetime = AT, actor: str = "zhao") -> Record:
    return Record("note", actor, at, Note(text), subjects)


def files_in(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


# -- records ------------------------------------------------------------------------------


class TestRecord:
    def test_of_takes_the_kind_from_the_data(self) -> None:
        record = Record.of(Note("巡查"), actor="zhao", at=AT, subjects=[school("s1")])
        assert (record.kind, record.actor, record.at, record.subjects) == (
            "note",
            "zhao",
            AT,
            ("school:s1",),
        )

    def test_of_defaults_to_now_in_shanghai(self) -> None:
        before = dt.datetime.now(dt.UTC)
        record = Record.of(Note("现在"), actor="zhao")
        assert before <= record.at <= dt.datetime.now(dt.UTC)
        assert record.at.utcoffset() == dt.timedelta(hours=8)

    def test_subjects_are_unique_in_first_order(self) -> None:
        record = note("x", unit("planning"), school("s1"), unit("planning"), school("s1"))
        assert record.subjects == ("unit:planning", "school:s1")

    @pytest.mark.parametrize(
        "subject",
        ["school", "school:", ":s1", "city:s1", "school:S1", "school:a b", "school:s1\x1f2"],
    )
    def test_subject_format(self, subject: str) -> None:
        with pytest.raises(ValueError, match="'<type>:<id>'") as info:
            note("x", subject)
        assert repr(subject) in str(info.value)

    def test_subjects_must_be_a_list_not_text(self) -> None:
        with pytest.raises(TypeError, match="expected a list of subjects, got the text"):
            Record("note", "zhao", AT, Note("x"), "school:s1")

    def test_subjects_must_be_text(self) -> None:
        with pytest.raises(ValueError, match="'<type>:<id>'"):
            Record("note", "zhao", AT, Note("x"), (42,))  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "at", [dt.datetime(2024, 9, 1, 8, 30), dt.date(2024, 9, 1), "2024-09-01T08:30+08:00"]
    )
    def test_at_must_be_an_aware_datetime(self, at: object) -> None:
        with pytest.raises(ValueError, match=r"at: .* must be a date and time with a time zone"):
            Record("note", "zhao", at, Note("x"))  # type: ignore[arg-type]

    def test_pendulum_datetimes_are_accepted(self) -> None:
        at = pendulum.datetime(2024, 9, 1, 8, 30, tz="Asia/Shanghai")
        assert Record("note", "zhao", at, Note("x")).at == AT

    def test_unknown_kind(self) -> None:
        with pytest.raises(ValueError, match=r"kind: 'no-such-kind' is not a registered .*note"):
            Record("no-such-kind", "zhao", AT, Note("x"))

    def test_data_must_be_of_its_kind(self) -> None:
        @attrs.frozen
        class Other:
            text: str

        with pytest.raises(ValueError, match=r"kind 'note' holds a Note, not a .*Other"):
            Record("note", "zhao", AT, Other("x"))

    def test_of_unregistered_data(self) -> None:
        @attrs.frozen
        class Unregistered:
            text: str

        with pytest.raises(TypeError, match="not a registered record kind"):
            Record.of(Unregistered("x"), actor="zhao")

    def test_actor_is_an_id(self) -> None:
        with pytest.raises(ValueError, match="actor: 'Zhao Min' is not a valid id"):
            Record("note", "Zhao Min", AT, Note("x"))


class TestRecordKind:
    def test_registers_and_unregisters(self) -> None:
        @attrs.frozen
        class Drill:
            name: str

        try:
            assert record_kind("test-drill")(Drill) is Drill
            assert RECORD_KINDS["test-drill"] is Drill
            assert kind_of(Drill("fire")) == "test-drill"
            assert record_kind("test-drill")(Drill) is Drill  # again: no harm
            Record("test-drill", "zhao", AT, Drill("fire"))
        finally:
            RECORD_KINDS.pop("test-drill", None)

    def test_name_taken_by_another_class(self) -> None:
        @attrs.frozen
        class Impostor:
            text: str

        with pytest.raises(ValueError, match="record kind 'note' is already Note"):
            record_kind("note")(Impostor)
        assert RECORD_KINDS["note"] is Note

    def test_not_attrs(self) -> None:
        class Plain:
            pass

        with pytest.raises(TypeError, match="Plain is not an attrs class"):
            record_kind("test-plain")(Plain)
        assert "test-plain" not in RECORD_KINDS

    def test_subclass_is_not_its_parents_kind(self) -> None:
        @attrs.frozen
        class LongNote(Note):
            pages: int = 1

        with pytest.raises(TypeError, match="LongNote is not a registered record kind"):
            kind_of(LongNote("x"))


# -- the backends under test ----------------------------------------------------------------


class Backend:
    """A store over one backend, with the means to rewrite its rows behind its back."""

    def __init__(self, name: str, tmp_path: Path) -> None:
        self.name = name
        self.url = "memory:" if name == "memory" else f"sqlite:///{tmp_path / 'records.db'}"
        self.memory = MemoryBackend() if name == "memory" else None

    def open(self) -> Store:
        return Store(self.memory) if self.memory is not None else open_store(self.url)

    def rows(self) -> list[Row]:
        with self.open() as store:
            return list(store.backend.select(Query()))

    def rewrite(self, change: Callable[[list[Row]], list[Row]]) -> None:
        """Replace the stored rows by ``change(rows)``, as someone editing the storage."""
        rows = change(self.rows())
        if self.memory is not None:
            self.memory.rows[:] = rows
            return
        path = sqlite_module.path_of(self.url)
        with sqlite3.connect(path) as db:
            db.execute("DROP TRIGGER records_no_update")
            db.execute("DROP TRIGGER records_no_delete")
            db.execute("DELETE FROM records")
            db.executemany(
                "INSERT INTO records (seq, kind, actor, ts, subjects, body, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.seq, r.kind, r.actor, r.ts, "\x1f".join(r.subjects), r.body, r.hash)
                    for r in rows
                ],
            )
        db.close()


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return Backend(request.param, tmp_path)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    with backend.open() as store:
        yield store


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'records.db'}"


# -- the canonical body and the chain -------------------------------------------------------


def test_rows_are_canonical_json_chained_by_sha256(backend: Backend) -> None:
    with backend.open() as store:
        entries = store.append(
            note("消防通道堵塞", school("s1"), at=dt.datetime(2024, 9, 1, 0, 30, tzinfo=dt.UTC)),
            note("已整改", school("s1"), unit("planning")),
        )
    rows = backend.rows()
    prev = GENESIS
    for row, entry in zip(rows, entries, strict=True):
        assert row.hash == hashlib.sha256(row.body).hexdigest() == entry.hash
        doc = json.loads(row.body)
        assert row.body == json.dumps(
            doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
        assert (doc["seq"], doc["prev"], doc["kind"], doc["actor"]) == (
            row.seq,
            prev,
            "note",
            "zhao",
        )
        assert doc["subjects"] == list(entry.record.subjects)
        assert entry.prev == prev
        prev = row.hash
    first = json.loads(rows[0].body)
    assert first["at"] == "2024-09-01T08:30:00+08:00"  # UTC in, Shanghai out
    assert first["data"] == {"text": "消防通道堵塞"}
    assert "消防通道堵塞".encode() in rows[0].body  # unescaped UTF-8
    assert rows[0].ts == int(dt.datetime(2024, 9, 1, 0, 30, tzinfo=dt.UTC).timestamp()) * 10**6


def test_entries_link_across_transactions(store: Store) -> None:
    first = store.append(note("a"), note("b"))
    with store.transaction() as tx:
        third = tx.append(note("c"))
        assert tx.start == (2, first[1].hash)
    assert [first[0].prev, first[1].prev, third.prev] == [GENESIS, first[0].hash, first[1].hash]
    assert store.head() == (3, third.hash)
    assert store.verify().head == third.hash


# -- verify names the first bad entry ------------------------------------------------------


def _edit_body(row: Row) -> Row:
    return row._replace(body=row.body.replace("整改".encode(), "通过".encode()))


def _rehash(row: Row) -> Row:
    return row._replace(hash=hashlib.sha256(row.body).hexdigest())


def _swap(rows: list[Row], i: int) -> list[Row]:
    rows = list(rows)
    a, b = rows[i], rows[i + 1]
    rows[i], rows[i + 1] = b._replace(seq=a.seq), a._replace(seq=b.seq)
    return rows


TAMPERING: dict[str, tuple[Callable[[list[Row]], list[Row]], int, str]] = {
    "edit body": (
        lambda rows: [_edit_body(r) if r.seq == 4 else r for r in rows],
        4,
        "entry 4: its content does not match its hash",
    ),
    "edit hash": (
        lambda rows: [r._replace(hash="f" * 64) if r.seq == 4 else r for r in rows],
        4,
        "entry 4: its content does not match its hash",
    ),
    "edit body and hash": (
        lambda rows: [_rehash(_edit_body(r)) if r.seq == 4 else r for r in rows],
        5,  # entry 4 is consistent in itself; entry 5 no longer follows it
        "entry 5: does not follow the entry before (chain broken)",
    ),
    "delete a row": (
        lambda rows: [r for r in rows if r.seq != 4],
        4,
        "entry 5: expected entry 4 next",
    ),
    "reorder": (lambda rows: _swap(rows, 3), 4, "entry 4: "),
    "change kind column": (
        lambda rows: [r._replace(kind="hazard") if r.seq == 4 else r for r in rows],
        4,
        "entry 4: its indexed columns differ from its content",
    ),
    "change actor column": (
        lambda rows: [r._replace(actor="wang") if r.seq == 4 else r for r in rows],
        4,
        "entry 4: its indexed columns differ",
    ),
    "change time column": (
        lambda rows: [r._replace(ts=r.ts + 86_400_000_000) if r.seq == 4 else r for r in rows],
        4,
        "entry 4: its indexed columns differ",
    ),
    "change subjects column": (
        lambda rows: [r._replace(subjects=("school:s9",)) if r.seq == 4 else r for r in rows],
        4,
        "entry 4: its indexed columns differ",
    ),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_verify_names_the_first_bad_entry(backend: Backend, how: str) -> None:
    change, first_bad, reason = TAMPERING[how]
    with backend.open() as store:
        entries = store.append(
            *(note(f"整改 {i}", school("s1"), at=AT + dt.timedelta(days=i)) for i in range(6))
        )
        assert store.verify().ok
    backend.rewrite(change)
    with backend.open() as store:
        check = store.verify()
    assert not check.ok
    assert check.first_bad == first_bad
    assert check.checked == first_bad - 1
    assert check.reason is not None
    assert check.reason.startswith(reason), check.reason
    # the head is the last good entry as stored (for "edit body and hash": the edited one)
    stored = {row.seq: row.hash for row in backend.rows()}
    assert check.head == stored[first_bad - 1]
    assert check.head == entries[first_bad - 2].hash or how == "edit body and hash"


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "Asia/Kathmandu"])
def test_verify_checks_times_at_the_ends_of_the_calendar(backend: Backend, zone: str) -> None:
    """The time column must be the instant of the stored text to the microsecond, also
    for offsets in seconds (Shanghai's local mean time before 1901) and at the ends."""
    times = [
        dt.datetime(1, 1, 2, tzinfo=dt.UTC),
        dt.datetime(1900, 6, 1, 12, 0, 0, 1, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 31, 1, 30, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 30, 23, 59, 59, 999_999, tzinfo=dt.UTC),
    ]
    url = backend.url
    memory = backend.memory
    with Store(memory, timezone=zone) if memory else open_store(url, timezone=zone) as store:
        store.append(*(note(f"n{i}", at=at) for i, at in enumerate(times)))
        assert store.verify().ok
    backend.rewrite(lambda rows: [r._replace(ts=r.ts + 1) if r.seq == 2 else r for r in rows])
    with backend.open() as store:
        check = store.verify()
    assert (check.first_bad, check.reason) == (
        2,
        "entry 2: its indexed columns differ from its content",
    )


def test_a_cut_off_tail_shows_in_the_head(backend: Backend) -> None:
    """Deleting the last entries leaves a valid chain: only a published head reveals it."""
    with backend.open() as store:
        store.append(*(note(f"n{i}") for i in range(5)))
        published = store.verify().head
    backend.rewrite(lambda rows: rows[:3])
    with backend.open() as store:
        check = store.verify()
    assert (check.ok, check.checked, check.total) == (True, 3, 3)
    assert check.head != published


def test_sqlite_records_are_append_only(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store:
        store.append(note("a", school("s1")), note("b", school("s1"), unit("planning")))
    path = sqlite_module.path_of(sqlite_url)
    with sqlite3.connect(path) as db:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE records SET actor = 'wang' WHERE seq = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM records WHERE seq = 2")
        # the subject index behind reads by subject, too
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE subjects SET subject = 'school:s2' WHERE seq = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE subjects SET seq = 1 WHERE seq = 2 AND subject = 'unit:planning'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM subjects WHERE seq = 2")
    db.close()
    with open_store(sqlite_url) as store:
        assert store.verify().ok
        assert [e.record.actor for e in store.read()] == ["zhao", "zhao"]
        assert [e.seq for e in store.read(subject=school("s1"))] == [1, 2]
        assert [e.seq for e in store.read(subject=unit("planning"))] == [2]


# -- verify checks the subject index too ----------------------------------------------------


def index_store(url: str) -> list[Entry]:
    """100 entries: every tenth concerns nothing, the others a school, the even ones a
    section too. Entry 42 concerns school:s2 and unit:planning; entry 43 school:s3."""
    records = []
    for i in range(1, 101):
        subjects = [school(f"s{i % 5}")] + ([unit("planning")] if i % 2 == 0 else [])
        at = AT + dt.timedelta(hours=i)
        records.append(note(f"巡查 {i}", *([] if i % 10 == 0 else subjects), at=at))
    with open_store(url) as store:
        return store.append(*records)


def alter(url: str, sql: str) -> None:
    """Run *sql* on the file with its append-only guards dropped, as an editor could."""
    db = sqlite3.connect(sqlite_module.path_of(url))
    try:
        guards = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
        db.executescript("".join(f"DROP TRIGGER {name};\n" for name in guards) + sql)
    finally:
        db.close()


DIFFERS = "entry 42: its subject index differs from its content (index altered: "

INDEX_TAMPERING: dict[str, tuple[str, str]] = {
    "a row deleted": (
        "DELETE FROM subjects WHERE seq = 42 AND subject = 'unit:planning'",
        DIFFERS + "missing unit:planning)",
    ),
    "every row of the entry deleted": (
        "DELETE FROM subjects WHERE seq = 42",
        DIFFERS + "missing school:s2, unit:planning)",
    ),
    "a row added": (
        "INSERT INTO subjects (subject, seq) VALUES ('school:s9', 42)",
        DIFFERS + "extra school:s9)",
    ),
    "a row changed": (
        "UPDATE subjects SET subject = 'school:s9' WHERE seq = 42 AND subject = 'school:s2'",
        DIFFERS + "missing school:s2; extra school:s9)",
    ),
    "a row moved to the next entry": (
        "UPDATE subjects SET seq = 43 WHERE seq = 42 AND subject = 'school:s2'",
        DIFFERS + "missing school:s2)",
    ),
    "a row moved from the next entry": (
        "UPDATE subjects SET seq = 42 WHERE seq = 43",
        DIFFERS + "extra school:s3)",
    ),
    "two rows made one": (
        "DELETE FROM subjects WHERE seq = 42; INSERT INTO subjects (subject, seq) "
        "VALUES ('school:s2' || char(31) || 'unit:planning', 42)",
        DIFFERS + "a row names several subjects)",
    ),
}


@pytest.mark.parametrize("how", list(INDEX_TAMPERING))
def test_verify_checks_the_subject_index(sqlite_url: str, how: str) -> None:
    """Reads by subject use the index: an edit there is named like an edited entry."""
    sql, reason = INDEX_TAMPERING[how]
    entries = index_store(sqlite_url)
    alter(sqlite_url, sql)
    with open_store(sqlite_url, readonly=True) as store:  # as `dualduty verify` opens it
        check = store.verify()
    assert (check.ok, check.first_bad, check.checked, check.total) == (False, 42, 41, 100)
    assert check.reason == reason
    assert check.head == entries[40].hash  # the entries before it are good


def test_an_altered_index_misleads_reads_until_verify_names_it(sqlite_url: str) -> None:
    index_store(sqlite_url)
    with open_store(sqlite_url) as store:
        planning = [e.seq for e in store.read(subject=unit("planning"))]
    assert 42 in planning
    alter(sqlite_url, "DELETE FROM subjects WHERE seq = 42 AND subject = 'unit:planning'")
    with open_store(sqlite_url) as store:
        assert [e.seq for e in store.read(subject=unit("planning"))] == [
            seq for seq in planning if seq != 42
        ]
        assert store.verify().first_bad == 42


@pytest.mark.parametrize(
    ("seq", "first_bad", "checked", "reason"),
    [
        (
            "40",  # an entry that concerns nothing
            40,
            39,
            "entry 40: its subject index differs from its content (index altered: extra school:s1)",
        ),
        (
            "142",  # past the last entry
            142,
            100,
            "entry 142: the subject index has rows for it, but the store holds no such entry "
            "(index altered)",
        ),
        (
            "0",
            1,
            0,
            "the subject index has rows for an entry 0, which cannot be (index altered)",
        ),
        (
            "'x'",
            101,
            100,
            "the subject index has rows for an entry 'x', which cannot be (index altered)",
        ),
    ],
)
def test_verify_names_index_rows_for_no_such_entry(
    sqlite_url: str, seq: str, first_bad: int, checked: int, reason: str
) -> None:
    entries = index_store(sqlite_url)
    alter(sqlite_url, f"INSERT INTO subjects (subject, seq) VALUES ('school:s1', {seq})")
    with open_store(sqlite_url, readonly=True) as store:
        check = store.verify()
    assert (check.ok, check.first_bad, check.checked, check.total) == (
        False,
        first_bad,
        checked,
        100,
    )
    assert check.reason == reason
    assert check.head == (entries[checked - 1].hash if checked else GENESIS)


def _edit_entry(url: str, seq: int) -> None:
    path = sqlite_module.path_of(url)
    with sqlite3.connect(path) as db:
        (body,) = db.execute("SELECT body FROM records WHERE seq = ?", (seq,)).fetchone()
    db.close()
    altered = body.replace("巡查".encode(), "检查".encode())
    alter(url, f"UPDATE records SET body = x'{altered.hex()}' WHERE seq = {seq}")


@pytest.mark.parametrize(
    ("edited", "first_bad", "reason"),
    [
        (30, 30, "entry 30: its content does not match its hash (altered after writing)"),
        (50, 42, DIFFERS + "missing unit:planning)"),
    ],
)
def test_verify_names_the_earlier_of_a_bad_entry_and_a_bad_index(
    sqlite_url: str, edited: int, first_bad: int, reason: str
) -> None:
    entries = index_store(sqlite_url)
    alter(sqlite_url, "DELETE FROM subjects WHERE seq = 42 AND subject = 'unit:planning'")
    _edit_entry(sqlite_url, edited)
    with open_store(sqlite_url) as store:
        check = store.verify()
    assert (check.first_bad, check.checked, check.reason) == (first_bad, first_bad - 1, reason)
    assert check.head == entries[first_bad - 2].hash


def test_memory_store_checks_its_index_too() -> None:
    backend = MemoryBackend()
    with Store(backend) as store:
        store.append(note("a", school("s1")), note("b", school("s1"), unit("planning")))
        assert store.verify().ok
        backend.by_subject["school:s1"].remove(2)
        check = store.verify()
    assert (check.first_bad, check.checked) == (2, 1)
    assert check.reason == (
        "entry 2: its subject index differs from its content (index altered: missing school:s1)"
    )


class Minimal:
    """A backend with only what StoreBackend requires: no ``check_index``."""

    def __init__(self, inner: MemoryBackend) -> None:
        self.inner = inner
        self.url = inner.url

    def writing(self) -> contextlib.AbstractContextManager[Writer]:
        return self.inner.writing()

    def select(self, query: Query) -> Iterator[Row]:
        return self.inner.select(query)

    def count(self) -> int:
        return self.inner.count()

    def messages(self, state: str | None = None, limit: int | None = None) -> list[MessageRow]:
        return self.inner.messages(state, limit)

    def update_message(
        self, message_id: int, *, state: str, attempts: int, next_ts: int, detail: str
    ) -> None:
        self.inner.update_message(
            message_id, state=state, attempts=attempts, next_ts=next_ts, detail=detail
        )

    # the outbox methods the dispatcher added to the protocol
    def outbox_counts(self) -> dict[str, int]:
        return self.inner.outbox_counts()

    def enqueue(self, messages: Sequence[MessageRow]) -> list[int | None]:
        return self.inner.enqueue(messages)

    def claim(self, now_ts: int, until_ts: int, limit: int) -> list[MessageRow]:
        return self.inner.claim(now_ts, until_ts, limit)

    def settle(self, settlements: Sequence[Settlement]) -> list[bool]:
        return self.inner.settle(settlements)

    def merge(self, ids: Sequence[int], claim: int, digest: MessageRow) -> int | None:
        return self.inner.merge(ids, claim, digest)

    def requeue_dead(self, now_ts: int, ids: Sequence[int] | None = None) -> int:
        return self.inner.requeue_dead(now_ts, ids)

    def attempts(
        self, message: int | None = None, *, channel: str | None = None, since_ts: int | None = None
    ) -> list[AttemptRow]:
        return self.inner.attempts(message, channel=channel, since_ts=since_ts)

    def close(self) -> None:
        self.inner.close()


def test_check_index_is_optional() -> None:
    """A backend without it verifies its chain; what it cannot check is left unchecked."""
    inner = MemoryBackend()
    minimal = Minimal(inner)
    assert isinstance(minimal, StoreBackend)
    assert not hasattr(minimal, "check_index")
    with Store(minimal) as store:
        store.append(note("a", school("s1")), note("b", school("s1")))
        inner.by_subject["school:s1"].remove(2)
        check = store.verify()
        assert (check.ok, check.checked) == (True, 2)
    assert Store(inner).verify().first_bad == 2


# -- reading --------------------------------------------------------------------------------


def test_get_missing(store: Store) -> None:
    store.append(note("a"))
    for seq in (0, -1, 2):
        with pytest.raises(KeyError, match=f"no entry {seq} in"):
            store.get(seq)


def test_read_filters_combined(store: Store) -> None:
    day = dt.timedelta(days=1)
    store.append(
        note("a", school("s1"), at=AT),
        note("b", school("s1"), unit("planning"), at=AT + day),
        note("c", school("s2"), at=AT + day),
        note("d", school("s1"), at=AT + 2 * day),
        note("e", school("s1"), at=AT + 3 * day),
    )

    def texts(**query: object) -> list[str]:
        return [e.record.data.text for e in store.read(**query)]  # type: ignore[arg-type]

    assert texts(subject=school("s1"), since=dt.date(2024, 9, 2)) == ["b", "d", "e"]
    assert texts(subject=school("s1"), since=dt.date(2024, 9, 2), until=dt.date(2024, 9, 4)) == [
        "b",
        "d",
    ]
    assert texts(subject=school("s1"), after=2, limit=1) == ["d"]
    assert texts(kind="note", subject=unit("planning"), until=AT + day) == []
    assert texts(kind="note", subject=unit("planning"), until=AT + day + dt.timedelta(0, 0, 1)) == [
        "b"
    ]
    assert texts(since=AT + day, until=AT + day) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"after": -1}, "after must be a seq >= 0"),
        ({"limit": -1}, "limit must be >= 0"),
        ({"since": dt.datetime(2024, 9, 1)}, "has no time zone"),
        ({"until": dt.datetime(2024, 9, 1)}, "has no time zone"),
    ],
)
def test_read_refuses_bad_arguments(store: Store, query: dict[str, object], message: str) -> None:
    store.append(note("a"), note("b"))
    with pytest.raises(ValueError, match=message):
        list(store.read(**query))  # type: ignore[arg-type]


def test_head(store: Store) -> None:
    assert store.head() == (0, GENESIS)
    entries = store.append(note("a"), note("b"))
    assert store.head() == (2, entries[1].hash)
    assert len(store) == 2


def test_unknown_kind_in_the_store(store: Store) -> None:
    """Entries of a kind no installed plugin knows still verify; reading them says why."""

    @attrs.frozen
    class Drill:
        name: str

    record_kind("test-vanished")(Drill)
    try:
        store.append(Record.of(Drill("fire"), actor="zhao", at=AT), note("a"))
    finally:
        RECORD_KINDS.pop("test-vanished")
    assert store.verify().ok
    assert [e.record.data.text for e in store.read(kind="note")] == ["a"]
    with pytest.raises(KeyError, match="entry 1: unknown record kind 'test-vanished'"):
        store.get(1)


# -- transactions ---------------------------------------------------------------------------


def test_transactions_do_not_nest(store: Store) -> None:
    """A nested transaction is refused at once (the memory store used to wait for ever)."""
    with store.transaction() as tx:
        tx.append(note("outer"))
        started = time.monotonic()
        with pytest.raises(StoreError, match="transactions do not nest"):
            store.append(note("inner"))
        assert time.monotonic() - started < 1
    assert [e.record.data.text for e in store.read()] == ["outer"]


def test_mark_inside_a_transaction_is_refused(store: Store) -> None:
    with store.transaction() as tx:
        tx.enqueue(OutboxMessage("console", "zhao", "t", "x"))
    (item,) = store.outbox()
    with store.transaction(), pytest.raises(StoreError, match="transactions do not nest"):
        store.mark(item, state="delivered")
    assert store.outbox()[0].state == "pending"


def test_mark_checks_state_and_id(store: Store) -> None:
    with store.transaction() as tx:
        tx.enqueue(OutboxMessage("console", "zhao", "t", "x"))
    (item,) = store.outbox()
    with pytest.raises(ValueError, match="unknown outbox state 'sent'"):
        store.mark(item, state="sent")
    with pytest.raises(KeyError, match="no outbox message 99"):
        store.mark(attrs.evolve(item, id=99), state="delivered")
    assert store.outbox() == [item]


def test_outbox_message_validation() -> None:
    with pytest.raises(ValueError, match="channel: must be non-empty text"):
        OutboxMessage("", "zhao", "t", "x")


def test_append_refuses_other_objects(store: Store) -> None:
    with store.transaction() as tx:
        with pytest.raises(TypeError, match="expected a Record, got Note"):
            tx.append(Note("x"))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="expected an OutboxMessage, got str"):
            tx.enqueue("hello")  # type: ignore[arg-type]
    assert len(store) == 0


# -- observers and the record_appended hook ------------------------------------------------


def test_every_observer_runs_and_every_failure_is_kept(store: Store) -> None:
    calls: list[str] = []

    def failing(name: str) -> Callable[[object], None]:
        def observer(entries: object) -> None:
            calls.append(name)
            raise RuntimeError(f"{name} down")

        return observer

    store.observe(failing("first"))
    store.observe(lambda entries: calls.append("ok"))
    store.observe(failing("second"))
    with pytest.raises(AppendObserverError, match=r"first down \(and 1 more\)") as info:
        store.append(note("a"))
    assert calls == ["first", "ok", "second"]
    assert [str(e) for e in info.value.errors] == ["first down", "second down"]
    assert isinstance(info.value, DualdutyError)
    assert len(store) == 1


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.seen: list[AppendedContext] = []
        self.fail = fail

    @hookimpl
    def dualduty_record_appended(self, context: AppendedContext) -> None:
        self.seen.append(context)
        if self.fail:
            raise ConnectionError("provincial platform unreachable")


def test_open_store_tells_the_event_plugins(dualduty_hooks: Hooks, sqlite_url: str) -> None:
    recorder = Recorder()
    dualduty_hooks.pm.register(recorder)
    with open_store(sqlite_url, hooks=dualduty_hooks) as store:
        entries = store.append(note("a"), note("b"))

        def failing() -> None:
            with store.transaction() as tx:
                tx.append(note("lost"))
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            failing()
    assert recorder.seen == [AppendedContext(sqlite_url, tuple(entries))]


def test_open_store_tells_the_event_plugins_registered_when_it_opened(
    dualduty_hooks: Hooks, sqlite_url: str
) -> None:
    """No event plugin: no observer to run on every commit. One registered later is told
    by the stores opened after it."""
    with open_store(sqlite_url, hooks=dualduty_hooks) as store:
        assert store._observers == []
        late = Recorder()
        dualduty_hooks.pm.register(late)
        store.append(note("a"))
    assert late.seen == []
    with open_store(sqlite_url, hooks=dualduty_hooks) as store:
        assert len(store._observers) == 1
        entries = store.append(note("b"))
    assert late.seen == [AppendedContext(sqlite_url, tuple(entries))]


def test_failing_event_plugin_is_reported_after_commit(dualduty_hooks: Hooks) -> None:
    dualduty_hooks.pm.register(Recorder(fail=True))
    with open_store("memory:", hooks=dualduty_hooks) as store:
        with pytest.raises(AppendObserverError, match="provincial platform unreachable"):
            store.append(note("a"))
        assert len(store) == 1


# -- the SQLite file ------------------------------------------------------------------------


def test_sqlite_pragmas(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store:
        backend = store.backend
        assert isinstance(backend, SqliteBackend)
        db = backend.db

        def pragma(name: str) -> object:
            return db.execute(f"PRAGMA {name}").fetchone()[0]

        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL
        assert pragma("busy_timeout") == 30_000
        assert pragma("application_id") == APPLICATION_ID == 0x44445459
        assert pragma("user_version") == SCHEMA_VERSION
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert {"records", "subjects", "outbox", "records_no_update", "records_no_delete"} <= tables
    backend = SqliteBackend(sqlite_url, timeout=1.5)
    try:
        assert backend.db.execute("PRAGMA busy_timeout").fetchone()[0] == 1500
    finally:
        backend.close()


def test_sqlite_writers_wait_then_give_up(sqlite_url: str) -> None:
    """BEGIN IMMEDIATE: a second writer waits for the busy timeout, then fails clearly."""
    with open_store(sqlite_url) as first:
        other = Store(SqliteBackend(sqlite_url, timeout=0.2))
        try:
            with first.transaction() as tx:
                tx.append(note("first"))
                started = time.monotonic()
                with pytest.raises(StoreError, match="cannot start writing: database is locked"):
                    other.append(note("second"))
                waited = time.monotonic() - started
            assert 0.15 < waited < 5
            other.append(note("second"))  # free again
            assert [e.record.data.text for e in other.read()] == ["first", "second"]
        finally:
            other.close()


def test_sqlite_migrates_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with open_store(f"sqlite:///{path}") as store:
        store.append(note("a"))
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    finally:
        db.close()


def test_sqlite_relative_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///records.db") as store:
        store.append(note("a"))
    assert (tmp_path / "records.db").is_file()


NEXT = """
    CREATE TABLE pledges (id INTEGER PRIMARY KEY, holder TEXT NOT NULL);
    CREATE INDEX pledges_holder ON pledges (holder);
    """


def test_sqlite_migrates_forward(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(sqlite_url) as store:
        entries = store.append(note("a"), note("b"))
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", (*sqlite_module.MIGRATIONS, NEXT))
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with open_store(sqlite_url, readonly=True) as store:  # read as it is, not migrated
        assert list(store.read()) == entries
        assert store.verify().ok
        assert isinstance(store.backend, SqliteBackend)
        assert store.backend.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with open_store(sqlite_url) as store:
        assert list(store.read()) == entries
        assert store.verify().ok
        assert isinstance(store.backend, SqliteBackend)
        db = store.backend.db
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert db.execute("SELECT count(*) FROM pledges").fetchone()[0] == 0
    with open_store(sqlite_url, readonly=True) as store:
        assert list(store.read()) == entries


def v1_store(url: str, monkeypatch: pytest.MonkeyPatch, *records: Record) -> list[Entry]:
    """Write *records* to a new store as a dualduty of schema version 1 did: only the
    first migration, no guard on the subject index."""
    with monkeypatch.context() as m:
        m.setattr(sqlite_module, "MIGRATIONS", sqlite_module.MIGRATIONS[:1])
        m.setattr(sqlite_module, "SCHEMA_VERSION", 1)
        with open_store(url) as store:
            return store.append(*records)


def schema_of(path: Path) -> tuple[int, set[str]]:
    """The file's schema version and the names of its triggers."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    finally:
        db.close()
    return version, names


RECORDS_GUARDS = {"records_no_update", "records_no_delete"}
SUBJECTS_GUARDS = {"subjects_no_update", "subjects_no_delete"}


def test_sqlite_version_1_is_migrated_when_opened_for_writing(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "records.db"
    entries = v1_store(
        sqlite_url, monkeypatch, note("a", school("s1")), note("b", school("s1"), unit("planning"))
    )
    assert schema_of(path) == (1, RECORDS_GUARDS)
    with open_store(sqlite_url) as store:
        assert list(store.read()) == entries
        assert [e.seq for e in store.read(subject=unit("planning"))] == [2]
        check = store.verify()
        assert (check.ok, check.checked, check.head) == (True, 2, entries[-1].hash)
        more = store.append(note("c", school("s1")))
    assert SCHEMA_VERSION == 3  # 3: the dispatcher's outbox (tests/test_outbox.py)
    assert schema_of(path) == (3, RECORDS_GUARDS | SUBJECTS_GUARDS)
    db = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM subjects WHERE seq = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE subjects SET subject = 'school:s2' WHERE seq = 1")
    finally:
        db.close()
    with open_store(sqlite_url, readonly=True) as store:
        assert list(store.read()) == [*entries, *more]
        assert store.verify().ok


def test_sqlite_version_1_is_read_as_it_is_when_read_only(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dualduty verify` must work on a store one may not write to: no migration needed."""
    path = tmp_path / "records.db"
    entries = v1_store(sqlite_url, monkeypatch, *(note(f"n{i}", school("s1")) for i in range(5)))
    before = files_in(tmp_path)
    with open_store(sqlite_url, readonly=True) as store:
        assert list(store.read()) == entries
        assert [e.seq for e in store.read(subject=school("s1"))] == [1, 2, 3, 4, 5]
        check = store.verify()
        assert (check.ok, check.checked, check.head) == (True, 5, entries[-1].hash)
        with pytest.raises(StoreError, match="opened read-only; cannot write"):
            store.append(note("more"))
    assert files_in(tmp_path) == before
    assert schema_of(path) == (1, RECORDS_GUARDS)
    # version 1 left its subject index unguarded: an edit there is still named
    db = sqlite3.connect(path)
    with db:
        db.execute("DELETE FROM subjects WHERE seq = 4")
    db.close()
    with open_store(sqlite_url, readonly=True) as store:
        check = store.verify()
    assert (check.first_bad, check.checked) == (4, 3)
    assert check.reason == (
        "entry 4: its subject index differs from its content (index altered: missing school:s1)"
    )


def test_sqlite_read_only_needs_a_schema(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(StoreError) as info:
        open_store(f"sqlite:///{path}", readonly=True)
    assert str(info.value) == (
        f"store sqlite:///{path}: not a store yet (schema version 0); open it once for "
        "writing to create one"
    )
    assert files_in(tmp_path) == {"empty.db": b""}


# -- a read-only open leaves the directory as it was ----------------------------------------------


def state_of(directory: Path) -> tuple[dict[str, bytes], dict[str, int]]:
    """Every file in *directory* with its content and its modification time."""
    files = files_in(directory)
    return files, {name: (directory / name).stat().st_mtime_ns for name in files}


def test_sqlite_read_only_open_leaves_no_files(sqlite_url: str, tmp_path: Path) -> None:
    """Without a writer, SQLite would leave an empty -wal and a -shm beside the file."""
    with open_store(sqlite_url) as store:
        entries = store.append(*(note(f"n{i}", school("s1")) for i in range(20)))
    before = state_of(tmp_path)
    assert list(before[0]) == ["records.db"]  # the writer removed its -wal and -shm
    time.sleep(0.01)  # a change now would show in the modification time
    with open_store(sqlite_url, readonly=True) as store:
        assert list(store.read()) == entries
        assert store.verify().ok
        assert store.head() == (20, entries[-1].hash)
    assert state_of(tmp_path) == before
    assert main(["verify", "--db", sqlite_url]) == 0
    assert state_of(tmp_path) == before


def test_sqlite_read_only_open_reads_a_writers_log(sqlite_url: str, tmp_path: Path) -> None:
    """While a writer has the store open, what it committed may be in -wal only."""
    writer = open_store(sqlite_url)
    try:
        entries = writer.append(*(note(f"n{i}") for i in range(5)))
        log = tmp_path / "records.db-wal"
        assert log.stat().st_size > 0  # not yet checkpointed into the file
        with open_store(sqlite_url, readonly=True) as store:
            assert isinstance(store.backend, SqliteBackend)
            assert store.backend.access == "wal"
            assert list(store.read()) == entries
            check = store.verify()
            assert (check.ok, check.checked, check.head) == (True, 5, entries[-1].hash)
        assert log.exists()  # the writer's, left to it
        entries += writer.append(note("n5"))
    finally:
        writer.close()
    assert list(files_in(tmp_path)) == ["records.db"]
    with open_store(sqlite_url, readonly=True) as store:
        assert list(store.read()) == entries


def test_sqlite_read_only_open_of_a_path_with_uri_characters(tmp_path: Path) -> None:
    """A read-only open names the file in a URI: '?', '#', '%' and Chinese are escaped."""
    folder = tmp_path / "台账 #1?%20"
    folder.mkdir()
    url = f"sqlite:///{folder / 'records.db'}"
    with open_store(url) as writer:  # open: the reader goes through its -wal, by URI
        entries = writer.append(note("a"), note("b"))
        with open_store(url, readonly=True) as store:
            assert isinstance(store.backend, SqliteBackend)
            assert store.backend.access == "wal"
            assert list(store.read()) == entries
            assert store.verify().ok


def test_sqlite_read_only_open_then_a_writer_starts(sqlite_url: str, tmp_path: Path) -> None:
    """A reader opened while nobody writes takes part in SQLite's locking like any reader."""
    with open_store(sqlite_url) as store:
        entries = store.append(*(note(f"n{i}", school("s1")) for i in range(3)))
    reader = open_store(sqlite_url, readonly=True)
    try:
        assert isinstance(reader.backend, SqliteBackend)
        assert reader.backend.access == "query_only"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.backend.db.execute("DELETE FROM outbox")
        with open_store(sqlite_url) as writer:
            entries += writer.append(note("n3", school("s1")))
            assert reader.verify().ok  # the writer's commit, not yet checkpointed
        assert list(reader.read(subject=school("s1"))) == entries
    finally:
        reader.close()
    # the last to close, the reader checkpointed the writer's log and removed it
    assert list(files_in(tmp_path)) == ["records.db"]
    with open_store(sqlite_url, readonly=True) as store:
        assert list(store.read()) == entries
        assert store.verify().ok


def test_sqlite_refuses_a_newer_schema(sqlite_url: str, tmp_path: Path) -> None:
    with open_store(sqlite_url) as store:
        store.append(note("a"))
    db = sqlite3.connect(tmp_path / "records.db")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = files_in(tmp_path)
    assert list(before) == ["records.db"]
    for readonly in (False, True):
        with pytest.raises(StoreError) as info:
            open_store(sqlite_url, readonly=readonly)
        assert str(info.value) == (
            f"store {sqlite_url}: written by a newer dualduty (schema version "
            f"{SCHEMA_VERSION + 1}; this dualduty knows up to {SCHEMA_VERSION}). "
            "Upgrade dualduty to open it."
        )
        after = files_in(tmp_path)
        assert after["records.db"] == before["records.db"]
        # a read-only connection cannot remove SQLite's shared-memory files; no log is written
        assert after.get("records.db-wal", b"") == b""
        assert set(after) <= {"records.db", "records.db-wal", "records.db-shm"}


def test_sqlite_refuses_another_applications_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE students (id INTEGER PRIMARY KEY)")
    db.close()
    before = files_in(tmp_path)
    with pytest.raises(StoreError, match="a SQLite database, but not a dualduty store"):
        open_store(f"sqlite:///{path}")
    assert files_in(tmp_path) == before


def test_sqlite_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("学校安全工作台账\n" * 100, encoding="utf-8")
    before = files_in(tmp_path)
    with pytest.raises(StoreError, match=r"notes.txt: not a SQLite database \(file is not a"):
        open_store(f"sqlite:///{path}")
    assert files_in(tmp_path) == before


def test_sqlite_missing_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'records.db'}"
    with pytest.raises(StoreError, match=r"the directory '.*missing' does not exist"):
        open_store(url)
    assert list(tmp_path.iterdir()) == []


def test_sqlite_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory; name a file in it"):
        open_store(f"sqlite:///{tmp_path}")
    assert list(tmp_path.iterdir()) == []


def test_sqlite_readonly_needs_the_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"records.db: no such file"):
        open_store(f"sqlite:///{tmp_path / 'records.db'}", readonly=True)
    assert list(tmp_path.iterdir()) == []


def test_sqlite_readonly_store_refuses_writes(sqlite_url: str, tmp_path: Path) -> None:
    with open_store(sqlite_url) as store, store.transaction() as tx:
        entries = [tx.append(note("a"))]
        tx.enqueue(OutboxMessage("console", "zhao", "t", "x"))
    before = (tmp_path / "records.db").read_bytes()
    with open_store(sqlite_url, readonly=True) as store:
        assert list(store.read()) == entries
        assert store.verify().ok
        with pytest.raises(StoreError, match=r"records.db: opened read-only; cannot write"):
            store.append(note("b"))
        (item,) = store.outbox()
        with pytest.raises(StoreError, match="opened read-only"):
            store.mark(item, state="delivered")
    assert (tmp_path / "records.db").read_bytes() == before
    with open_store(sqlite_url) as store:
        assert list(store.read()) == entries
        assert store.outbox() == [item]


def test_sqlite_write_error_rolls_back_and_is_a_store_error(sqlite_url: str) -> None:
    """A failure inside the backend's insert (here a clash in the subject index) writes nothing."""
    with open_store(sqlite_url) as store:
        store.append(note("a", school("s1")))
        assert isinstance(store.backend, SqliteBackend)
        store.backend.db.execute("INSERT INTO subjects (subject, seq) VALUES ('school:s1', 3)")

        def clash() -> None:
            with store.transaction() as tx:
                tx.append(note("b", school("s2")))
                tx.append(note("c", school("s1")))
                tx.enqueue(OutboxMessage("console", "zhao", "t", "x"))

        with pytest.raises(StoreError, match="cannot write: UNIQUE constraint failed"):
            clash()
        assert [e.record.data.text for e in store.read()] == ["a"]
        assert store.outbox(state=None) == []
        assert not store.backend.db.in_transaction
        # the entries are intact; the row put in the index behind the store's back is not
        check = store.verify()
        assert (check.ok, check.checked, check.total, check.first_bad) == (False, 1, 1, 3)
        assert check.reason == (
            "entry 3: the subject index has rows for it, but the store holds no such entry "
            "(index altered)"
        )


def test_sqlite_failed_creation_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = "CREATE TABLE records (seq INTEGER PRIMARY KEY);\n    CREATE TABLE records (x);"
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", (broken,))
    with pytest.raises(StoreError, match="cannot create or migrate the schema: table records"):
        open_store(f"sqlite:///{tmp_path / 'records.db'}")
    assert list(tmp_path.iterdir()) == []


# -- store URLs -----------------------------------------------------------------------------


def test_unknown_scheme() -> None:
    with pytest.raises(StoreError) as info:
        open_store("foo://x")
    assert str(info.value) == (
        "no storage plugin opens 'foo' URLs (foo://x); built in: memory:, sqlite:///path; "
        "see `dualduty plugins` for what is installed"
    )


@pytest.mark.parametrize(("url", "scheme"), [("memory:", "memory"), ("foo://x", "foo")])
def test_unknown_scheme_with_the_builtin_plugin_disabled(
    monkeypatch: pytest.MonkeyPatch, url: str, scheme: str
) -> None:
    monkeypatch.setenv("DUALDUTY_DISABLED_PLUGINS", f" other , {BUILTIN} ")
    h = Hooks(make_plugin_manager(entry_points=False))
    with pytest.raises(StoreError) as info:
        open_store(url, hooks=h)
    assert str(info.value) == (
        f"no storage plugin opens {scheme!r} URLs ({url}); the built-in plugin "
        "'dualduty.builtin' (memory:, sqlite:///path) is disabled by "
        "DUALDUTY_DISABLED_PLUGINS=other,dualduty.builtin; see `dualduty plugins` for what "
        "is installed"
    )


def test_unknown_scheme_without_the_builtin_plugin() -> None:
    import pluggy

    from dualduty import hookspecs

    blocked = make_plugin_manager(entry_points=False)
    blocked.unregister(name=BUILTIN)
    blocked.set_blocked(BUILTIN)
    bare = pluggy.PluginManager("dualduty")
    bare.add_hookspecs(hookspecs)
    for pm, why in [
        (blocked, "is disabled in this plugin manager"),
        (bare, "is not registered with this plugin manager"),
    ]:
        with pytest.raises(StoreError) as info:
            open_store("memory:", hooks=Hooks(pm))
        message = str(info.value)
        assert why in message
        assert "built in:" not in message


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://user:secret@host/db", "postgresql://user:***@host/db"),
        ("postgresql://user:secret@db.example.cn:5432/safety", "user:***@db.example.cn:5432"),
        ("postgresql://user:p@ss:secret@host/db", "postgresql://user:***@host/db"),
        ("postgresql://user:secret@[::1/db", "an unparsable URL"),
    ],
)
def test_a_password_is_never_shown(url: str, shown: str) -> None:
    with pytest.raises(StoreError) as info:
        open_store(url)
    message = str(info.value)
    assert "secret" not in message
    assert shown in message
    assert "'postgresql'" in message


def test_a_bare_path_is_not_a_url() -> None:
    with pytest.raises(StoreError, match=r"not a store URL: 'records.db'; .* sqlite:///records.db"):
        open_store("records.db")


@pytest.mark.parametrize("url", ["sqlite://records.db", "sqlite:///", "sqlite:records.db"])
def test_malformed_sqlite_urls(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=r"not a SQLite store URL.*sqlite:////absolute/path.db"):
        open_store(url)
    assert list(tmp_path.iterdir()) == []


def test_a_closed_store_refuses_use(backend: Backend) -> None:
    store = backend.open()
    store.append(note("a"))
    store.close()
    store.close()  # again: no harm
    assert store.closed
    uses: list[Callable[[], object]] = [
        lambda: store.append(note("b")),
        lambda: list(store.read()),
        lambda: store.get(1),
        lambda: len(store),
        store.head,
        store.verify,
        store.outbox,
    ]
    for use in uses:
        with pytest.raises(StoreError, match=r"^store .* is closed$"):
            use()
    with backend.open() as again:
        assert len(again) == 1


def test_memory_stores_are_separate() -> None:
    with open_store("memory:") as a, open_store("memory:") as b:
        a.append(note("a"))
        assert (len(a), len(b)) == (1, 0)
