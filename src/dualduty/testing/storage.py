"""The conformance kit for storage backends: what every store must do, as pytest tests.

A storage plugin runs the kit in its own test suite by subclassing
:class:`StoreConformance` and naming a fresh store for each test::

    # tests/test_conformance.py of a storage plugin
    import pytest
    from dualduty.testing import StoreConformance


    class TestMyStore(StoreConformance):
        plugin_modules = ("my_store_plugin",)  # registered in the writers' processes too

        @pytest.fixture
        def store_url(self, my_database) -> str:
            return my_database.fresh_url()  # an empty store, reachable from other processes

        def tamper(self, url: str, seq: int) -> None:  # optional
            my_database.execute("UPDATE records SET body = body || ' ' WHERE seq = %s", seq)

        def tamper_index(self, url: str, seq: int) -> None:  # optional
            my_database.execute("DELETE FROM subjects WHERE seq = %s LIMIT 1", seq)

Every ``test_*`` method of the class then runs against the backend. The kit checks
that every registered record kind round-trips, that reads filter by kind, subject,
period and position, that transactions (outbox included) are all or nothing, that
writers in two processes lose nothing and keep the chain valid, that the chain verifies
and that an edited entry is named (and an entry left out of the subject index, for a
backend that checks its index), that the outbox is written with its record, that
observer failures are reported after the commit, and that a store opened again sees the
same data.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import multiprocessing
import queue
import threading
import time
import traceback
import zoneinfo
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import attrs
import pytest

from dualduty.records.base import RECORD_KINDS, Entry, Note, Record, person, place, school, unit
from dualduty.storage import (
    GENESIS,
    AppendObserverError,
    OutboxItem,
    OutboxMessage,
    Settlement,
    Store,
    StoreError,
    open_store,
)

__all__ = ["PROBE_KIND", "Probe", "StoreConformance"]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
_EIGHT_HOURS = dt.timedelta(hours=8)

#: The kind name under which :class:`Probe` is registered while a kit test runs.
PROBE_KIND = "dualduty-conformance-probe"


@attrs.frozen
class Probe:
    """A record kind that exists only while a kit test uses it: awkward content to store.

    It is registered in :data:`dualduty.records.RECORD_KINDS` for the duration of a test
    and removed after, so that reads by kind have two kinds to tell apart.
    """

    text: str
    number: int
    ratio: float
    flag: bool
    day: dt.date | None = None
    tags: tuple[str, ...] = ()

    @classmethod
    def examples(cls) -> Sequence[Probe]:
        """Text that tests a backend's handling of bytes: quotes, escapes, CJK, emoji, NUL."""
        return (
            cls("plain", 0, 0.0, False),
            cls(
                '引号 "quoted" \\ back\\slash\n換行\ttab 🚒 \x00 nul',
                2**53 + 1,
                0.1,
                True,
                dt.date(2024, 2, 29),
                ("一岗双责", "", "  spaced  "),
            ),
            cls("negative", -(2**62), -1.5e-300, True, None, ("x",)),
        )


def _register_probe() -> None:
    Probe.__record_kind__ = PROBE_KIND  # type: ignore[attr-defined]  # as record_kind() does
    RECORD_KINDS[PROBE_KIND] = Probe


def _unregister_probe() -> None:
    RECORD_KINDS.pop(PROBE_KIND, None)


#: A date and time in Asia/Shanghai: ``_at(2024, 9, 1, 8, 30)``.
_at = functools.partial(dt.datetime, tzinfo=SHANGHAI)


def _record(
    data: object,
    at: dt.datetime,
    subjects: Sequence[str] = (),
    actor: str = "kit.actor",
) -> Record:
    kind = getattr(type(data), "__record_kind__", "")
    return Record(kind, actor, at, data, tuple(subjects))


def _texts(entries: Iterator[Entry] | Sequence[Entry]) -> list[str]:
    return [e.record.data.text for e in entries]


class StoreConformance:
    """Base class of a storage backend's conformance tests; subclass it in your tests.

    Provide a ``store_url`` fixture returning the URL of a new, empty store for each
    test; everything else has a default:

    ``open(url)``
        returns a :class:`~dualduty.storage.Store` for *url*; by default
        :func:`dualduty.storage.open_store`. Called several times in a test (to check that a
        store opened again sees the same data), so for the same URL it must open the
        same data. The built-in ``memory:`` suite overrides it to reuse one backend.
    ``tamper(url, seq)``
        changes the stored entry *seq* behind the store's back, as someone with access
        to the storage might (alter its content, keep its hash). Optional: without it,
        the tampering test is skipped as not applicable, since the kit cannot reach into
        your storage itself.
    ``tamper_index(url, seq)``
        removes one of entry *seq*'s rows from the backend's index of entries by
        subject, behind the store's back. Optional, for a backend that implements
        ``check_index`` (see :class:`~dualduty.storage.StoreBackend`): without it, the
        index tampering test is skipped as not applicable.
    ``multiprocess``
        ``True`` (the default) when the URL reaches the same store from another process.
        Concurrent writers are then tested in two processes (``spawn``) as well as in two
        threads; a backend that lives in one process (like ``memory:``) sets ``False``
        and is tested with threads only.
    ``plugin_modules``
        modules to register as plugins in the writer processes, for a backend not
        installed through the ``dualduty`` entry point there (processes are spawned
        fresh: they see installed plugins, not ones a test registered).
    ``concurrent_records``, ``concurrent_messages``
        how many records each concurrent writer appends (300), and how many outbox
        messages two concurrent dispatchers claim between them (240).

    A subclass that defines ``pytest_generate_tests`` must call the kit's.
    """

    multiprocess: ClassVar[bool] = True
    plugin_modules: ClassVar[tuple[str, ...]] = ()
    #: How many records each concurrent writer appends.
    concurrent_records: ClassVar[int] = 300
    #: How many messages two concurrent dispatchers claim between them.
    concurrent_messages: ClassVar[int] = 240

    # -- what a backend provides -------------------------------------------------------

    @pytest.fixture
    def store_url(self) -> str:
        """The URL of a new, empty store. Override this fixture."""
        pytest.fail(
            f"{type(self).__name__} must define a `store_url` fixture returning the URL "
            "of a new, empty store (see dualduty.testing.StoreConformance)"
        )

    def open(self, url: str) -> Store:
        """Open the store at *url* (the same data each time within a test)."""
        return open_store(url)

    def tamper(self, url: str, seq: int) -> None:
        """Alter entry *seq* in the storage behind *url* without updating its hash."""
        raise NotImplementedError

    def tamper_index(self, url: str, seq: int) -> None:
        """Remove one of entry *seq*'s rows from the subject index behind *url*."""
        raise NotImplementedError

    # -- the kit's own fixtures ----------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run the concurrent writers and claimers with threads, and with processes if
        possible."""
        if "writers" in metafunc.fixturenames:
            kinds = ["threads", "processes"] if self.multiprocess else ["threads"]
            metafunc.parametrize("writers", kinds)

    @pytest.fixture
    def store(self, store_url: str) -> Iterator[Store]:
        """The store under test, opened with :meth:`open` and closed after."""
        store = self.open(store_url)
        try:
            yield store
        finally:
            store.close()

    @pytest.fixture
    def probe_kind(self) -> Iterator[str]:
        """Register :class:`Probe` as a record kind for one test."""
        _register_probe()
        try:
            yield PROBE_KIND
        finally:
            _unregister_probe()

    # -- round trips ---------------------------------------------------------------------

    def test_round_trip_every_record_kind(self, store: Store, probe_kind: str) -> None:
        """Every example of every registered kind comes back equal, field by field."""
        times = [
            _at(2024, 3, 31, 23, 59, 59, 999_999),
            dt.datetime(2024, 3, 31, 16, 0, tzinfo=dt.UTC),  # 00:00 on 1 April in Shanghai
            dt.datetime(2024, 7, 1, 9, 30, 15, 123_456, tzinfo=dt.timezone(-_EIGHT_HOURS)),
        ]
        appended: list[Entry] = []
        kinds = sorted(RECORD_KINDS)
        for kind in kinds:
            cls = RECORD_KINDS[kind]
            examples = getattr(cls, "examples", None)
            assert callable(examples), (
                f"record kind {kind!r} ({cls.__module__}.{cls.__qualname__}) has no "
                "examples() classmethod for the conformance kit to round-trip"
            )
            found = list(examples())
            assert found, f"record kind {kind!r}: examples() returned nothing"
            for i, data in enumerate(found):
                subjects = (school("s0001"), unit("planning"), person(f"p{i}"), place("lab-2"))
                record = Record(kind, f"actor.{i}", times[i % len(times)], data, subjects)
                (entry,) = store.append(record)
                appended.append(entry)

        assert len(store) == len(appended)
        for entry in appended:
            got = store.get(entry.seq)
            assert got == entry, f"entry {entry.seq} ({entry.record.kind}) changed in the store"
            assert type(got.record.data) is type(entry.record.data)
            assert attrs.asdict(got.record.data) == attrs.asdict(entry.record.data)
            assert got.record.subjects == entry.record.subjects
            at = got.record.at
            assert at == entry.record.at  # the same instant, to the microsecond
            assert at.utcoffset() == _EIGHT_HOURS, f"entry {entry.seq}: {at} not in +08:00"
            assert getattr(at.tzinfo, "key", None) == "Asia/Shanghai"
        assert list(store.read()) == appended
        for kind in kinds:
            assert list(store.read(kind=kind)) == [e for e in appended if e.record.kind == kind]

    def test_times_read_back_in_shanghai(self, store: Store) -> None:
        """A time given in any zone is kept as the same instant, shown in Asia/Shanghai."""
        utc = dt.datetime(2024, 3, 31, 16, 0, 0, 1, tzinfo=dt.UTC)
        (entry,) = store.append(_record(Note("零点"), utc))
        at = store.get(entry.seq).record.at
        assert (at.year, at.month, at.day, at.hour, at.microsecond) == (2024, 4, 1, 0, 1)
        assert at.utcoffset() == _EIGHT_HOURS
        assert at == utc

    def test_chain_links_entries(self, store: Store) -> None:
        """Each entry names the hash of the one before, across transactions."""
        entries = store.append(*(_record(Note(f"n{i}"), _at(2024, 9, 1)) for i in range(3)))
        with store.transaction() as tx:
            entries.append(tx.append(_record(Note("n3"), _at(2024, 9, 2))))
        assert [e.seq for e in entries] == [1, 2, 3, 4]
        assert entries[0].prev == GENESIS
        for before, after in itertools.pairwise(entries):
            assert after.prev == before.hash
        assert len({e.hash for e in entries}) == 4
        assert all(len(e.hash) == 64 and int(e.hash, 16) >= 0 for e in entries)
        assert list(store.read()) == entries
        assert store.head() == (4, entries[-1].hash)

    def test_extend_appends_in_order(self, store: Store) -> None:
        """``extend`` writes a large batch in one transaction, in order."""
        records = [
            _record(Note(f"n{i}"), _at(2024, 9, 1) + dt.timedelta(minutes=i), [school(f"s{i % 7}")])
            for i in range(1000)
        ]
        assert store.extend(records) == 1000
        assert len(store) == 1000
        entries = list(store.read())
        assert [e.seq for e in entries] == list(range(1, 1001))
        assert [e.record for e in entries] == records
        assert _texts(store.read(subject=school("s3"))) == [f"n{i}" for i in range(3, 1000, 7)]

    def test_empty_store(self, store: Store) -> None:
        """A new store holds nothing, verifies, and has the genesis head."""
        assert len(store) == 0
        assert list(store.read()) == []
        assert store.head() == (0, GENESIS)
        assert store.outbox(state=None) == []
        check = store.verify()
        assert (check.ok, check.checked, check.total, check.head) == (True, 0, 0, GENESIS)
        with pytest.raises(KeyError):
            store.get(1)

    # -- reading -------------------------------------------------------------------------

    def _populate(self, store: Store) -> list[Entry]:
        """Forty records: two kinds, overlapping subjects, times across day boundaries."""
        base = _at(2024, 3, 30, 22, 0)
        records = []
        for i in range(40):
            data: object = (
                Note(f"n{i}", topic="t") if i % 3 else Probe(f"p{i}", i, i / 4, bool(i % 2))
            )
            subjects = [school(f"s{i % 4}")]
            if i % 5 == 0:
                subjects.append(unit("planning"))
            if i % 2 == 0:
                subjects.append(person(f"p{i % 6}"))
            records.append(_record(data, base + dt.timedelta(hours=i), subjects))
        # exact boundaries: the first microsecond of 1 April and the last of 31 March
        records.append(_record(Note("midnight"), _at(2024, 4, 1), [school("s1")]))
        records.append(_record(Note("last"), _at(2024, 3, 31, 23, 59, 59, 999_999), [school("s1")]))
        entries: list[Entry] = []
        for start in range(0, len(records), 7):  # several transactions
            entries.extend(store.append(*records[start : start + 7]))
        return entries

    def test_read_by_kind(self, store: Store, probe_kind: str) -> None:
        """``read(kind=…)`` returns the entries of that kind only, in order."""
        entries = self._populate(store)
        notes = [e for e in entries if e.record.kind == "note"]
        probes = [e for e in entries if e.record.kind == probe_kind]
        assert notes
        assert probes
        assert list(store.read(kind="note")) == notes
        assert list(store.read(kind=probe_kind)) == probes
        assert list(store.read(kind="no-such-kind")) == []

    def test_read_by_subject(self, store: Store, probe_kind: str) -> None:
        """``read(subject=…)`` returns the entries about that subject, in order."""
        entries = self._populate(store)
        subjects = {s for e in entries for s in e.record.subjects}
        assert len(subjects) > 6
        for subject in sorted(subjects):
            expected = [e for e in entries if subject in e.record.subjects]
            assert list(store.read(subject=subject)) == expected, subject
        assert list(store.read(subject=school("nowhere"))) == []

    def test_read_by_period(self, store: Store, probe_kind: str) -> None:
        """``read(since=…, until=…)`` is the half-open period ``[since, until)``."""
        entries = self._populate(store)
        april = list(store.read(since=dt.date(2024, 4, 1), until=dt.date(2024, 4, 2)))
        assert april == [e for e in entries if _at(2024, 4, 1) <= e.record.at < _at(2024, 4, 2)]
        assert "midnight" in _texts(april)
        assert "last" not in _texts(april)
        march = _texts(store.read(until=dt.date(2024, 4, 1)))
        assert "last" in march
        assert "midnight" not in march
        # an instant in another zone means the same instant
        since = dt.datetime(2024, 3, 31, 16, 0, tzinfo=dt.UTC)
        assert list(store.read(since=since)) == [e for e in entries if e.record.at >= since]
        assert list(store.read(since=_at(2024, 5, 1))) == []

    def test_read_by_position(self, store: Store, probe_kind: str) -> None:
        """``get(seq)``, and ``read(after=…, limit=…)`` counting only matching entries."""
        entries = self._populate(store)
        n = len(entries)
        for entry in (entries[0], entries[17], entries[-1]):
            assert store.get(entry.seq) == entry
        for missing in (0, n + 1, n + 100):
            with pytest.raises(KeyError):
                store.get(missing)
        assert list(store.read(after=10, limit=3)) == entries[10:13]
        assert list(store.read(after=n)) == []
        assert list(store.read(limit=0)) == []
        notes = [e for e in entries if e.record.kind == "note"]
        after = notes[4].seq
        assert (
            list(store.read(kind="note", after=after, limit=2))
            == [e for e in notes if e.seq > after][:2]
        )
        assert store.head() == (n, entries[-1].hash)

    def test_read_filters_combined(self, store: Store, probe_kind: str) -> None:
        """Every combination of filters returns what filtering the whole record would."""
        entries = self._populate(store)
        kinds = (None, "note", probe_kind)
        subjects = (None, school("s1"), unit("planning"), person("p2"))
        periods = (
            (None, None),
            (dt.date(2024, 3, 31), None),
            (None, _at(2024, 3, 31, 12)),
            (_at(2024, 3, 31, 2), dt.date(2024, 4, 1)),
        )
        for kind in kinds:
            for subject in subjects:
                for since, until in periods:
                    for after, limit in ((0, None), (5, None), (3, 4), (0, 1)):
                        got = list(
                            store.read(
                                kind=kind,
                                subject=subject,
                                since=since,
                                until=until,
                                after=after,
                                limit=limit,
                            )
                        )
                        lo = None if since is None else _instant(since)
                        hi = None if until is None else _instant(until)
                        want = [
                            e
                            for e in entries
                            if (kind is None or e.record.kind == kind)
                            and (subject is None or subject in e.record.subjects)
                            and (lo is None or e.record.at >= lo)
                            and (hi is None or e.record.at < hi)
                            and e.seq > after
                        ]
                        want = want if limit is None else want[:limit]
                        where = f"{kind=} {subject=} [{since}, {until}) {after=} {limit=}"
                        assert got == want, where

    # -- transactions --------------------------------------------------------------------

    def test_rollback_on_error(self, store: Store) -> None:
        """An exception in a transaction leaves nothing behind: no record, no message."""
        (first,) = store.append(_record(Note("kept"), _at(2024, 9, 1)))
        before = (len(store), store.head(), store.outbox(state=None))

        class Boom(Exception):
            pass

        def fail() -> None:
            with store.transaction() as tx:
                entry = tx.append(_record(Note("lost"), _at(2024, 9, 2), [school("s1")]))
                tx.enqueue(_message("lost"), cause=entry)
                tx.extend([_record(Note("lost too"), _at(2024, 9, 3))])
                raise Boom

        with pytest.raises(Boom):
            fail()
        assert (len(store), store.head(), store.outbox(state=None)) == before
        assert list(store.read()) == [first]
        assert list(store.read(subject=school("s1"))) == []
        assert store.verify().ok

        # the next transaction continues the chain where the committed one left it
        (second,) = store.append(_record(Note("next"), _at(2024, 9, 4)))
        assert (second.seq, second.prev) == (2, first.hash)
        assert store.verify().ok

    def test_rollback_on_interrupt_and_bad_record(self, store: Store) -> None:
        """Ctrl-C or a bad record in the middle of a transaction also writes nothing."""

        def interrupted() -> None:
            with store.transaction() as tx:
                tx.append(_record(Note("lost"), _at(2024, 9, 1)))
                tx.enqueue(_message("lost"))
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            interrupted()
        records: list[Any] = [_record(Note("lost"), _at(2024, 9, 1)), "not a record"]
        with pytest.raises(TypeError):
            store.extend(records)
        with pytest.raises(TypeError):
            store.append(_record(Note("lost"), _at(2024, 9, 1)), "not a record")  # type: ignore[arg-type]
        assert len(store) == 0
        assert store.outbox(state=None) == []
        assert store.head() == (0, GENESIS)
        assert store.append(_record(Note("first"), _at(2024, 9, 2)))[0].seq == 1

    def test_empty_transaction_writes_nothing(self, store: Store) -> None:
        """A transaction with nothing in it commits nothing."""
        with store.transaction():
            pass
        assert len(store) == 0
        assert store.head() == (0, GENESIS)

    def test_uncommitted_entries_are_invisible(self, store: Store, store_url: str) -> None:
        """Until a transaction commits, other readers see neither its records nor messages."""
        store.append(_record(Note("before"), _at(2024, 9, 1)))
        with store.transaction() as tx:
            entry = tx.append(_record(Note("pending"), _at(2024, 9, 2)))
            tx.enqueue(_message("pending"), cause=entry)
            other = self.open(store_url)
            try:
                assert _texts(other.read()) == ["before"]
                assert other.outbox(state=None) == []
            finally:
                other.close()
        assert _texts(store.read()) == ["before", "pending"]

    def test_closed_transaction_refuses_more(self, store: Store) -> None:
        """What is appended to a transaction after it ended is refused, not silently lost."""
        with store.transaction() as tx:
            tx.append(_record(Note("in"), _at(2024, 9, 1)))
        with pytest.raises(StoreError, match="transaction has ended"):
            tx.append(_record(Note("late"), _at(2024, 9, 1)))
        with pytest.raises(StoreError, match="transaction has ended"):
            tx.enqueue(_message("late"))
        assert _texts(store.read()) == ["in"]

    # -- the outbox ----------------------------------------------------------------------

    def test_outbox_written_with_its_record(self, store: Store) -> None:
        """Messages are stored in the transaction of the record that caused them."""
        before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
        urgent = OutboxMessage("console", "person:zhao", "重大隐患", "立即上报", "**急**", True)
        with store.transaction() as tx:
            first = tx.append(_record(Note("隐患"), _at(2024, 9, 1), [school("s1")]))
            tx.enqueue(urgent, cause=first)
            second = tx.append(_record(Note("另一条"), _at(2024, 9, 1)))
            tx.enqueue(_message("follows the last record"))
        with store.transaction() as tx:
            tx.enqueue(_message("no record"))
        after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)

        items = store.outbox()
        assert [(i.cause, i.message) for i in items] == [
            (first.seq, urgent),
            (second.seq, _message("follows the last record")),
            (0, _message("no record")),
        ]
        assert len({i.id for i in items}) == 3
        for item in items:
            assert (item.state, item.attempts, item.detail) == ("pending", 0, "")
            assert before <= item.created <= after
            assert item.created.utcoffset() == _EIGHT_HOURS
            assert item.next_attempt == item.created
        assert store.outbox(limit=2) == items[:2]
        assert store.outbox(state="delivered") == []

    def test_outbox_mark(self, store: Store) -> None:
        """Delivery outcomes recorded by hand: state, attempts, detail and the next try."""
        with store.transaction() as tx:
            for text in ("a", "b", "c", "d"):
                tx.enqueue(_message(text))
        a, b, c, d = store.outbox()
        store.mark(a, state="delivered", detail="ok 200")
        retry = _at(2030, 1, 1, 8, 0)
        store.mark(b, state="pending", detail="timeout", retry_at=retry)
        store.mark(c, state="dead", detail="invalid recipient")
        store.mark(d, state="failed", detail="refused")  # the old name of 'dead'

        assert [i.message.text for i in store.outbox()] == ["b"]
        (b2,) = store.outbox()
        assert (b2.attempts, b2.detail, b2.next_attempt) == (1, "timeout", retry)
        store.mark(b2, state="delivered")
        by_id = {i.id: i for i in store.outbox(state=None)}
        assert [(by_id[i.id].state, by_id[i.id].attempts) for i in (a, b, c, d)] == [
            ("delivered", 1),
            ("delivered", 2),
            ("dead", 1),
            ("dead", 1),
        ]
        assert by_id[a.id].detail == "ok 200"
        assert [i.id for i in store.outbox(state="dead")] == [c.id, d.id]
        assert [i.id for i in store.outbox(state="failed")] == [c.id, d.id]
        assert store.outbox() == []
        assert store.outbox_counts() == {"pending": 0, "claimed": 0, "delivered": 2, "dead": 2}

    # -- the dispatcher's outbox ----------------------------------------------------------

    def test_outbox_one_message_per_key(self, store: Store) -> None:
        """A key the outbox holds, in any state, is not queued again, in a transaction or
        outside one; messages without a key are never held back."""
        assert store.enqueue() == 0
        assert store.enqueue(_keyed("a", "k1"), _keyed("b", "k2"), _keyed("a2", "k1")) == 2
        assert store.enqueue(_keyed("x", None), _keyed("y", None)) == 2
        with store.transaction() as tx:
            tx.enqueue(_keyed("in tx", "k3"))
            tx.enqueue(_keyed("in tx, twice", "k3"))
            tx.enqueue(_keyed("queued before", "k2"))
        texts = [(i.message.text, i.message.key) for i in store.outbox()]
        assert texts == [("a", "k1"), ("b", "k2"), ("x", None), ("y", None), ("in tx", "k3")]
        # every state: delivered (k1), dead (k2), claimed (k3), pending (k4)
        assert store.enqueue(_keyed("d", "k4")) == 1
        now = _soon()
        by_key = {i.message.key: i for i in store.claim(10, lease=60, now=now)}
        assert store.settle(
            [
                _settled(by_key["k1"], "delivered", now),
                _settled(by_key["k2"], "dead", now),
                _settled(by_key["k4"], "release", now),
            ]
        ) == [True, True, True]
        assert store.enqueue(*(_keyed("again", f"k{n}") for n in (1, 2, 3, 4))) == 0
        with store.transaction() as tx:
            for n in (1, 2, 3, 4):
                tx.enqueue(_keyed("again", f"k{n}"))
        assert len(store.outbox(state=None)) == 6
        assert store.enqueue(_keyed("new", "k5"), _keyed("z", None)) == 2

    def test_enqueue_outside_a_transaction(self, store: Store) -> None:
        """``Store.enqueue`` writes at once, caused by no entry, due now or when given."""
        before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
        later = _at(2031, 1, 1, 8)
        urgent = OutboxMessage(
            "console", "person:zhao", "重大隐患", "立即上报", urgent=True, key="u"
        )
        assert store.enqueue(_keyed("now", "n"), urgent) == 2
        assert store.enqueue(_keyed("later", "l"), due=later) == 1
        now, hot, late = store.outbox()
        assert (now.cause, now.state, now.attempts, now.detail) == (0, "pending", 0, "")
        assert before <= now.created == now.next_attempt
        assert hot.message == urgent
        assert late.next_attempt == later
        assert (now.claimed_until, now.delivered, now.digest, now.provider_code) == (
            None,
            None,
            None,
            None,
        )
        with store.transaction(), pytest.raises(StoreError, match="do not nest"):
            store.enqueue(_keyed("inside", "i"))
        assert len(store.outbox(state=None)) == 3
        with pytest.raises(TypeError, match="expected an OutboxMessage"):
            store.enqueue("hello")  # type: ignore[arg-type]

    def test_claim_order_and_leases(self, store: Store) -> None:
        """Due messages are claimed urgent first, then by when due, then by id; a claim
        holds them for its lease, then they may be claimed again."""
        t = _soon()
        store.enqueue(_keyed("late", "late"), due=t + dt.timedelta(hours=1))
        store.enqueue(_keyed("n1", "n1"), _keyed("n2", "n2"))
        store.enqueue(OutboxMessage("console", "person:zhao", "急", "u1", urgent=True, key="u1"))
        store.enqueue(_keyed("n0", "n0"), due=t - dt.timedelta(hours=1))
        claimed = store.claim(10, lease=60, now=t)
        assert [i.message.text for i in claimed] == ["u1", "n0", "n1", "n2"]
        lease = t + dt.timedelta(seconds=60)
        for item in claimed:
            assert (item.state, item.claimed_until, item.attempts) == ("claimed", lease, 0)
            assert item.claim == int((lease - _EPOCH) / dt.timedelta(microseconds=1))
        assert [i.state for i in store.outbox(state=None)] == ["pending", *["claimed"] * 4]
        assert store.outbox_counts() == {"pending": 1, "claimed": 4, "delivered": 0, "dead": 0}
        assert store.claim(10, lease=60, now=t + dt.timedelta(seconds=59)) == []
        again = store.claim(2, lease=60, now=lease)  # the lease ran out
        assert [i.message.text for i in again] == ["u1", "n0"]
        assert {i.claim for i in again}.isdisjoint({i.claim for i in claimed})
        hour = store.claim(10, lease=60, now=t + dt.timedelta(hours=1))
        assert [i.message.text for i in hour] == ["u1", "n0", "n1", "n2", "late"]
        assert store.claim(0, lease=60, now=t + dt.timedelta(hours=2)) == []
        with pytest.raises(ValueError, match="lease must be > 0"):
            store.claim(1, lease=0, now=t)

    def test_settle_outcomes_and_the_attempts_log(self, store: Store) -> None:
        """Delivered, retry, dead and release change the message as documented; every
        attempt but a release is logged."""
        store.enqueue(*(_keyed(text, text) for text in ("a", "b", "c", "d")))
        t = _soon()
        a, b, c, d = store.claim(4, lease=60, now=t)
        at = t + dt.timedelta(seconds=1)
        retry_at = t + dt.timedelta(seconds=30)
        done = store.settle(
            [
                _settled(a, "delivered", at, code="200", detail="ok", duration_us=12_000),
                _settled(b, "retry", at, next_at=retry_at, code="503", detail="busy"),
                _settled(c, "dead", at, code="40001", detail="bad token"),
                _settled(d, "release", at, next_at=t + dt.timedelta(seconds=10)),
            ]
        )
        assert done == [True] * 4
        by_text = {i.message.text: i for i in store.outbox(state=None)}
        a2, b2, c2, d2 = (by_text[x] for x in "abcd")
        assert (a2.state, a2.attempts, a2.provider_code, a2.detail, a2.delivered) == (
            "delivered",
            1,
            "200",
            "ok",
            at,
        )
        assert a2.claimed_until is None
        assert (b2.state, b2.attempts, b2.next_attempt, b2.provider_code) == (
            "pending",
            1,
            retry_at,
            "503",
        )
        assert (c2.state, c2.attempts, c2.detail, c2.delivered) == ("dead", 1, "bad token", None)
        assert (d2.state, d2.attempts, d2.next_attempt) == (
            "pending",
            0,
            t + dt.timedelta(seconds=10),
        )
        log = store.attempts()
        assert [(x.message, x.n, x.at, x.outcome, x.provider_code, x.detail) for x in log] == [
            (a.id, 1, at, "delivered", "200", "ok"),
            (b.id, 1, at, "retry", "503", "busy"),
            (c.id, 1, at, "dead", "40001", "bad token"),
        ]
        assert log[0].duration == 0.012
        assert store.attempts(b.id) == [log[1]]
        assert store.attempts(channel="console") == log
        assert store.attempts(channel="email") == []
        assert store.attempts(since=at + dt.timedelta(microseconds=1)) == []
        assert store.outbox_counts() == {"pending": 2, "claimed": 0, "delivered": 1, "dead": 1}
        # the retry comes due at its time, its next attempt numbered 2
        assert store.claim(10, lease=60, now=retry_at - dt.timedelta(seconds=1)) == [
            attrs.evolve(d2, state="claimed", claimed_until=retry_at + dt.timedelta(seconds=59))
        ]
        (b3,) = store.claim(10, lease=60, now=retry_at)
        assert (b3.id, b3.attempts) == (b.id, 1)
        assert store.settle([_settled(b3, "delivered", retry_at)]) == [True]
        assert [x.n for x in store.attempts(b.id)] == [1, 2]
        assert store.settle([]) == []
        with pytest.raises(ValueError, match="unknown outcome 'sent'"):
            store.settle([_settled(b3, "sent", retry_at)])

    def test_settle_after_the_claim_ran_out(self, store: Store) -> None:
        """A dispatcher whose claim ran out changes nothing but a delivery: the provider
        took the message, so it is delivered whoever holds it, and the log shows both."""
        store.enqueue(_keyed("a", "a"), _keyed("b", "b"))
        t = _soon()
        first = store.claim(2, lease=60, now=t)
        second = store.claim(2, lease=60, now=t + dt.timedelta(seconds=61))
        assert [i.id for i in second] == [i.id for i in first]
        late = t + dt.timedelta(seconds=62)
        assert store.settle(
            [
                _settled(first[0], "retry", late, next_at=late),
                _settled(first[0], "dead", late),
                _settled(first[0], "release", late, next_at=late),
                _settled(first[1], "delivered", late, detail="first"),
            ]
        ) == [False, False, False, True]
        a, b = store.outbox(state=None)
        assert (a.state, a.claimed_until) == ("claimed", second[0].claimed_until)
        assert (b.state, b.detail) == ("delivered", "first")
        assert store.settle(
            [
                _settled(second[1], "delivered", late, detail="second"),
                _settled(second[0], "retry", late, next_at=late),
            ]
        ) == [False, True]
        assert store.outbox(state=None)[1].detail == "first"
        assert [x.detail for x in store.attempts(b.id)] == ["first", "second"]  # a duplicate
        assert [x.outcome for x in store.attempts(a.id)] == ["retry", "dead", "retry"]

    def test_digest_carries_messages(self, store: Store) -> None:
        """A digest carries claimed messages: they are held by it (no lease of their own)
        and settled with it; a digest claims like any message."""
        store.enqueue(*(_keyed(text, text) for text in ("a", "b", "c", "d")))
        t = _soon()
        a, b, c, d = store.claim(4, lease=60, now=t)
        summary = OutboxMessage("console", "person:zhao", "汇总：3 条通知", "a\nb\nc")
        digest = store.merge([a, b, c], summary)
        assert digest is not None
        assert (digest.state, digest.message, digest.is_digest) == ("claimed", summary, True)
        assert (digest.claimed_until, digest.digest) == (a.claimed_until, digest.id)
        assert digest.id not in (a.id, b.id, c.id, d.id)
        held = {i.id: i for i in store.outbox(state=None)}
        for item in (a, b, c):
            got = held[item.id]
            assert (got.state, got.digest, got.claimed_until) == ("claimed", digest.id, None)
            assert not got.is_digest
        assert held[d.id].digest is None
        assert store.outbox(state=None)[-1] == digest
        # when the lease runs out, the digest and d may be claimed again; a, b, c may not
        later = t + dt.timedelta(seconds=61)
        again = store.claim(10, lease=60, now=later)
        assert sorted(i.id for i in again) == sorted([d.id, digest.id])
        digest2 = next(i for i in again if i.id == digest.id)
        assert store.merge([a, b], summary) is None  # no longer held by that claim
        assert store.settle([_settled(digest2, "delivered", later, code="0")]) == [True]
        done = {i.id: i for i in store.outbox(state=None)}
        for item in (a, b, c):
            got = done[item.id]
            assert (got.state, got.delivered, got.digest, got.attempts) == (
                "delivered",
                later,
                digest.id,
                0,
            )
            assert got.detail == f"delivered in digest {digest.id}"
        assert done[digest.id].attempts == 1
        assert [x.message for x in store.attempts()] == [digest.id]

    def test_dead_digest_and_requeue(self, store: Store) -> None:
        """A dead digest takes what it carries with it; re-queued, it carries them again."""
        store.enqueue(*(_keyed(text, text) for text in ("e", "f", "g")))
        t = _soon()
        e, f, g = store.claim(3, lease=60, now=t)
        digest = store.merge([e, f], OutboxMessage("console", "person:zhao", "汇总", "e f"))
        assert digest is not None
        assert store.settle(
            [
                _settled(digest, "dead", t, code="310000", detail="sign not match"),
                _settled(g, "dead", t, detail="no such user"),
            ]
        ) == [True, True]
        dead = {i.id: i for i in store.outbox(state="dead")}
        assert sorted(dead) == sorted([e.id, f.id, g.id, digest.id])
        assert dead[e.id].detail == f"carried by digest {digest.id}, which is dead: sign not match"
        assert dead[e.id].provider_code == "310000"
        later = t + dt.timedelta(minutes=5)
        assert store.requeue_dead([e.id], now=later) == 3  # the digest, e and f
        states = {i.id: i.state for i in store.outbox(state=None)}
        assert [states[i] for i in (digest.id, e.id, f.id, g.id)] == [
            "pending",
            "claimed",
            "claimed",
            "dead",
        ]
        (again,) = store.claim(10, lease=60, now=later)
        assert (again.id, again.attempts, again.next_attempt) == (digest.id, 0, later)
        assert store.settle([_settled(again, "delivered", later)]) == [True]
        assert {i.id for i in store.outbox(state="delivered")} == {digest.id, e.id, f.id}
        assert store.requeue_dead([e.id], now=later) == 0  # delivered: not dead

    def test_requeue_dead(self, store: Store) -> None:
        """Dead messages, all or some, are pending again, due at once, with no attempts."""
        store.enqueue(*(_keyed(text, text) for text in ("a", "b", "c", "d")))
        t = _soon()
        a, b, c, d = store.claim(4, lease=60, now=t)
        store.settle(
            [
                _settled(a, "dead", t),
                _settled(b, "dead", t),
                _settled(c, "dead", t),
                _settled(d, "delivered", t),
            ]
        )
        later = t + dt.timedelta(hours=1)
        assert store.requeue_dead([b.id, d.id, 999], now=later) == 1
        assert [i.id for i in store.outbox()] == [b.id]
        (b2,) = store.outbox()
        assert (b2.attempts, b2.next_attempt, b2.detail) == (0, later, "")
        assert store.requeue_dead(now=later) == 2
        assert store.outbox_counts() == {"pending": 3, "claimed": 0, "delivered": 1, "dead": 0}
        assert store.requeue_dead(now=later) == 0
        (a2, *_) = store.claim(1, lease=60, now=later)
        store.settle([_settled(a2, "retry", later, next_at=later)])
        assert [x.n for x in store.attempts(a.id)] == [1, 1]  # counted again from 1

    def test_readdress_pending_messages(self, store: Store, store_url: str) -> None:
        """A pending message can be sent to someone else in a transaction (a handover);
        a claimed, delivered or dead one, or one carried by a digest, cannot; a rolled
        back transaction changes nothing; the change is seen after reopening."""
        store.enqueue(*(_keyed(text, text) for text in ("a", "b", "c", "d", "e")))
        t = _soon()
        a, b, c, d, e = store.outbox()
        claimed_a, claimed_b = store.claim(2, lease=60, now=t)
        store.settle([Settlement(b.id, claimed_b.claim, "delivered", _ts(t))])

        def moved(item: OutboxItem) -> OutboxMessage:
            return attrs.evolve(
                item.message, recipient="person:qian", text=f"{item.message.text}→钱"
            )

        with store.transaction() as tx:
            assert tx.readdress(a, moved(a)) is False  # claimed by a dispatcher
            assert tx.readdress(b, moved(b)) is False  # delivered
            assert tx.readdress(c, moved(c)) is True

        def readdress_then_fail() -> None:
            with store.transaction() as tx:
                assert tx.readdress(d, moved(d)) is True
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError, match="rolled back"):
            readdress_then_fail()
        by_id = {i.id: i for i in store.outbox(state=None)}
        assert by_id[c.id].message == moved(c)
        assert (by_id[c.id].state, by_id[c.id].message.key) == ("pending", "c")
        assert claimed_a.id == a.id
        for untouched in (a, b, d, e):
            assert by_id[untouched.id].message == untouched.message
        store.close()
        again = self.open(store_url)
        try:
            assert {i.id: i.message for i in again.outbox(state=None)}[c.id] == moved(c)
        finally:
            again.close()

    def test_outbox_persists(self, store: Store, store_url: str) -> None:
        """A store opened again holds the same outbox, claims and attempts log."""
        store.enqueue(*(_keyed(text, text) for text in ("a", "b", "c")))
        t = _soon()
        a, b, c = store.claim(3, lease=60, now=t)
        store.settle([_settled(a, "retry", t, next_at=t, code="503", detail="busy")])
        outbox, log = store.outbox(state=None), store.attempts()
        store.close()
        again = self.open(store_url)
        try:
            assert again.outbox(state=None) == outbox
            assert again.attempts() == log
            assert again.enqueue(_keyed("b again", "b")) == 0
            assert [i.id for i in again.claim(10, lease=60, now=t)] == [a.id]
            expired = again.claim(10, lease=60, now=t + dt.timedelta(seconds=60))
            assert [i.id for i in expired] == [b.id, c.id, a.id]  # by when they were due
        finally:
            again.close()

    def test_concurrent_claimers(self, store: Store, store_url: str, writers: str) -> None:
        """Two dispatchers claiming from one store at once never claim the same message.

        Parametrised like :meth:`test_concurrent_writers`: threads, and processes when
        :attr:`multiprocess`. Each claims small batches and settles them delivered until
        nothing is due; every message must be claimed and delivered exactly once.
        """
        count = self.concurrent_messages
        store.enqueue(*(_keyed(f"m{i}", f"m{i}") for i in range(count)))
        names = ("dispatcher.a", "dispatcher.b")
        workers: list[Any]
        if writers == "processes":
            ctx = multiprocessing.get_context("spawn")
            start: Any = ctx.Barrier(len(names))
            results: Any = ctx.Queue()
            workers = [
                ctx.Process(
                    target=claim_until_done,
                    args=(store_url, name),
                    kwargs={
                        "plugin_modules": self.plugin_modules,
                        "start": start,
                        "results": results,
                    },
                    name=name,
                )
                for name in names
            ]
        else:
            start = threading.Barrier(len(names))
            results = queue.Queue()
            workers = [
                threading.Thread(
                    target=claim_until_done,
                    args=(store_url, name),
                    kwargs={"start": start, "results": results, "open_store": self.open},
                    name=name,
                )
                for name in names
            ]
        for w in workers:
            w.start()
        claimed: dict[str, list[int]] = {}
        failures = []
        for _ in names:
            try:
                name, got = results.get(timeout=120)
            except queue.Empty:
                failures.append("a claimer did not finish in 120 s")
                break
            if isinstance(got, str):
                failures.append(f"{name}: {got}")
            else:
                claimed[name] = got
        for w in workers:
            w.join(timeout=30)
        assert not failures, "\n".join(failures)
        every = [i for ids in claimed.values() for i in ids]
        assert sorted(every) == sorted(i.id for i in store.outbox(state=None))
        assert len(every) == len(set(every)) == count, "a message was claimed twice"
        assert store.outbox_counts()["delivered"] == count
        log = store.attempts()
        assert sorted(x.message for x in log) == sorted(every)
        for name, ids in claimed.items():
            assert {x.message for x in log if x.detail == name} == set(ids)

    # -- observers -----------------------------------------------------------------------

    def test_observers_see_committed_entries(self, store: Store) -> None:
        """Observers are called once per committed transaction, never for a rolled back one."""
        seen: list[list[Entry]] = []
        store.observe(lambda entries: seen.append(list(entries)))
        entries = store.append(*(_record(Note(f"n{i}"), _at(2024, 9, 1)) for i in range(3)))

        def failing() -> None:
            with store.transaction() as tx:
                tx.append(_record(Note("lost"), _at(2024, 9, 1)))
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            failing()
        with store.transaction():
            pass
        assert seen == [entries]
        assert list(store.read()) == entries

    def test_append_observer_error(self, store: Store) -> None:
        """A failing observer is reported as AppendObserverError, after the commit."""
        seen: list[list[Entry]] = []

        def failing(entries: Sequence[Entry]) -> None:
            raise ConnectionError("provincial system unreachable")

        store.observe(failing)
        store.observe(lambda entries: seen.append(list(entries)))
        records = [_record(Note(f"n{i}"), _at(2024, 9, 1)) for i in range(2)]
        with pytest.raises(AppendObserverError) as info:
            store.append(*records)
        error = info.value
        assert [e.record for e in error.entries] == records
        assert "2 record(s) were committed" in str(error)
        assert "provincial system unreachable" in str(error)
        assert isinstance(error.__cause__, ConnectionError)
        # committed, chained, and the other observer was still told
        assert list(store.read()) == list(error.entries)
        assert seen == [list(error.entries)]
        assert store.verify().ok
        # and the store goes on
        with pytest.raises(AppendObserverError):
            store.append(_record(Note("n2"), _at(2024, 9, 2)))
        assert len(store) == 3

    # -- concurrency ---------------------------------------------------------------------

    def test_concurrent_writers(self, store: Store, store_url: str, writers: str) -> None:
        """Two writers appending at the same time lose nothing and keep the chain valid.

        Parametrised by ``writers``: ``threads`` (each its own store opened from the URL)
        and, when :attr:`multiprocess`, ``processes`` (started with ``spawn``). The store
        is verified repeatedly while they write: a walk must never report a false alarm.
        """
        from ._worker import append_notes, note_text  # not at import: it is also run as a program

        count = self.concurrent_records
        batches = (1, 3, 2, 5)
        actors = ("writer.a", "writer.b")
        store.append(_record(Note("before"), _at(2024, 9, 1)))
        workers: list[Any]
        if writers == "processes":
            ctx = multiprocessing.get_context("spawn")
            start: Any = ctx.Barrier(len(actors))
            errors: Any = ctx.Queue()
            workers = [
                ctx.Process(
                    target=append_notes,
                    args=(store_url, a),
                    kwargs={
                        "count": count,
                        "batches": batches,
                        "plugin_modules": self.plugin_modules,
                        "start": start,
                        "errors": errors,
                    },
                    name=a,
                )
                for a in actors
            ]
        else:
            start = threading.Barrier(len(actors))
            errors = queue.Queue()
            workers = [
                threading.Thread(
                    target=self._thread_writer,
                    args=(store_url, a),
                    kwargs={"count": count, "batches": batches, "start": start, "errors": errors},
                    name=a,
                )
                for a in actors
            ]
        for w in workers:
            w.start()
        checks = 0
        deadline = time.monotonic() + 120
        try:
            while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
                check = store.verify()
                assert check.ok, f"verify while writing: {check.reason}"
                checks += 1
                time.sleep(0.01)
        finally:
            for w in workers:
                w.join(timeout=max(1.0, deadline - time.monotonic()))
        failures = []
        while True:
            try:
                failures.append(errors.get(timeout=0.1))
            except queue.Empty:
                break
        assert not failures, "\n".join(failures)
        assert not any(w.is_alive() for w in workers), "writers did not finish in 120 s"
        if writers == "processes":
            assert [w.exitcode for w in workers] == [0, 0]

        reopened = self.open(store_url)
        try:
            assert len(reopened) == 1 + 2 * count
            check = reopened.verify()
            assert (check.ok, check.checked) == (True, 1 + 2 * count), check.reason
            for actor in actors:
                got = _texts(reopened.read(subject=person(actor)))
                assert got == [note_text(actor, i) for i in range(count)], actor
            seqs = [e.seq for e in reopened.read()]
            assert seqs == list(range(1, 2 + 2 * count))
        finally:
            reopened.close()

    def _thread_writer(
        self,
        url: str,
        actor: str,
        *,
        count: int,
        batches: Sequence[int],
        start: threading.Barrier,
        errors: queue.Queue[str],
    ) -> None:
        from ._worker import append_in_batches

        try:
            store = self.open(url)
            try:
                start.wait(timeout=60)
                append_in_batches(store, actor, count, batches)
            finally:
                store.close()
        except BaseException:
            errors.put(f"writer {actor}: {traceback.format_exc()}")

    # -- verification --------------------------------------------------------------------

    def test_verify_good_store(self, store: Store) -> None:
        """A store written only through the Store verifies, with its head hash."""
        for day in range(1, 6):
            store.append(*(_record(Note(f"d{day}.{i}"), _at(2024, 9, day)) for i in range(day)))
        check = store.verify()
        assert (check.ok, check.checked, check.total, check.first_bad, check.reason) == (
            True,
            15,
            15,
            None,
            None,
        )
        assert check.head == store.head()[1]

    def test_tampering_detected(self, store: Store, store_url: str) -> None:
        """An entry altered in the storage is named by ``verify`` as the first bad one.

        Needs :meth:`tamper`; skipped as not applicable without it.
        """
        if type(self).tamper is StoreConformance.tamper:
            pytest.skip(
                f"not applicable: {type(self).__name__} does not define tamper(url, seq), so "
                "the kit cannot alter a stored entry behind the store's back"
            )
        entries = store.append(*(_record(Note(f"n{i}"), _at(2024, 9, 1)) for i in range(5)))
        assert store.verify().ok
        store.close()
        self.tamper(store_url, 3)
        reopened = self.open(store_url)
        try:
            check = reopened.verify()
            assert not check.ok, "verify did not notice entry 3 was altered"
            assert (check.first_bad, check.checked, check.total) == (3, 2, 5)
            assert check.reason is not None
            assert "entry 3" in check.reason
            assert check.head == entries[1].hash
        finally:
            reopened.close()

    def test_index_tampering_detected(self, store: Store, store_url: str) -> None:
        """An entry left out of the subject index is named by ``verify``.

        Needs :meth:`tamper_index`; skipped as not applicable without it.
        """
        if type(self).tamper_index is StoreConformance.tamper_index:
            pytest.skip(
                f"not applicable: {type(self).__name__} does not define tamper_index(url, "
                "seq), so the kit cannot alter the subject index behind the store's back"
            )
        entries = store.append(
            *(_record(Note(f"n{i}"), _at(2024, 9, 1), [school("s1"), unit("u1")]) for i in range(5))
        )
        assert store.verify().ok
        assert [e.seq for e in store.read(subject=unit("u1"))] == [1, 2, 3, 4, 5]
        store.close()
        self.tamper_index(store_url, 3)
        reopened = self.open(store_url)
        try:
            check = reopened.verify()
            assert not check.ok, "verify did not notice entry 3 was altered in the subject index"
            assert (check.first_bad, check.checked, check.total) == (3, 2, 5)
            assert check.reason is not None
            assert check.reason.startswith("entry 3: its subject index differs")
            assert check.head == entries[1].hash
        finally:
            reopened.close()

    # -- persistence ---------------------------------------------------------------------

    def test_reopened_store_sees_the_same(self, store: Store, store_url: str) -> None:
        """A store opened again holds the same entries and outbox, and continues the chain."""
        with store.transaction() as tx:
            entries = [
                tx.append(_record(Note(f"n{i}"), _at(2024, 9, 1, i), [school("s1")]))
                for i in range(4)
            ]
            tx.enqueue(_message("saved"), cause=entries[1])
        outbox = store.outbox(state=None)
        head = store.head()
        store.close()

        again = self.open(store_url)
        try:
            assert list(again.read()) == entries
            assert again.outbox(state=None) == outbox
            assert again.head() == head
            assert again.verify().ok
            (more,) = again.append(_record(Note("n4"), _at(2024, 9, 2)))
            assert (more.seq, more.prev) == (5, head[1])
        finally:
            again.close()
        third = self.open(store_url)
        try:
            assert [e.seq for e in third.read()] == [1, 2, 3, 4, 5]
            assert third.verify().ok
        finally:
            third.close()


def _message(text: str) -> OutboxMessage:
    return OutboxMessage("console", "person:zhao", "通知", text)


def _keyed(text: str, key: str | None) -> OutboxMessage:
    return OutboxMessage("console", "person:zhao", "通知", text, key=key)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _ts(at: dt.datetime) -> int:
    return (at - _EPOCH) // dt.timedelta(microseconds=1)


def _soon() -> dt.datetime:
    """A time by which everything queued so far is due: a minute from now, to the
    microsecond, in Shanghai."""
    return dt.datetime.now(SHANGHAI).replace(microsecond=0) + dt.timedelta(minutes=1)


def _settled(
    item: OutboxItem,
    outcome: str,
    at: dt.datetime,
    *,
    next_at: dt.datetime | None = None,
    code: str | None = None,
    detail: str = "",
    duration_us: int = 0,
) -> Settlement:
    return Settlement(
        item.id,
        item.claim,
        outcome,
        _ts(at),
        0 if next_at is None else _ts(next_at),
        0 if outcome == "release" else item.attempts + 1,
        code,
        detail,
        duration_us,
    )


def claim_until_done(
    url: str,
    name: str,
    *,
    start: Any,
    results: Any,
    plugin_modules: Sequence[str] = (),
    open_store: Any = None,
    batch: int = 7,
) -> None:
    """Claim *batch* messages at a time from the store at *url* and settle them delivered
    (detail: *name*) until nothing is due; put ``(name, claimed ids)`` on *results*, or
    ``(name, traceback)`` if it failed. :meth:`StoreConformance.test_concurrent_claimers`
    runs two at once, in threads or processes.
    """
    try:
        from dualduty.storage import open_store as default_open

        from ._worker import register_plugins

        register_plugins(plugin_modules)
        store = (open_store or default_open)(url)
        try:
            start.wait(timeout=60)
            ids: list[int] = []
            while True:
                items = store.claim(batch, lease=300)
                if not items:
                    break
                now = _ts(dt.datetime.now(dt.UTC))
                store.settle(
                    [
                        Settlement(i.id, i.claim, "delivered", now, 0, i.attempts + 1, None, name)
                        for i in items
                    ]
                )
                ids.extend(i.id for i in items)
        finally:
            store.close()
        results.put((name, ids))
    except BaseException:
        results.put((name, traceback.format_exc()))


def _instant(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day, tzinfo=SHANGHAI)
