"""The storage conformance kit, run for the built-in backends, and the kit's own behaviour."""

from __future__ import annotations

import contextlib
import sqlite3
import textwrap
import time
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path

import pytest

from dualduty.plugins import Hooks, hookimpl, plugin_manager
from dualduty.records import RECORD_KINDS
from dualduty.storage import (
    MessageRow,
    OutboxMessage,
    Query,
    Row,
    Store,
    StoreBackend,
    StoreError,
    open_store,
)
from dualduty.storage.memory import MemoryBackend, _MemoryWriter
from dualduty.storage.sqlite import path_of
from dualduty.testing import PROBE_KIND, PluginRegistrar, StoreConformance
from dualduty.testing.storage import _register_probe, _unregister_probe

pytest_plugins = ["pytester"]


class TestMemoryStore(StoreConformance):
    """``memory:``: one backend per test, reused by every ``open`` in it."""

    multiprocess = False

    backend: MemoryBackend | None = None

    @pytest.fixture
    def store_url(self) -> str:
        return "memory:"

    def open(self, url: str) -> Store:
        if self.backend is None:
            self.backend = MemoryBackend(url)
        return Store(self.backend)

    def tamper(self, url: str, seq: int) -> None:
        assert self.backend is not None
        rows = self.backend.rows
        row = rows[seq - 1]
        rows[seq - 1] = row._replace(body=row.body.replace(b'"actor":"', b'"actor":"x', 1))

    def tamper_index(self, url: str, seq: int) -> None:
        assert self.backend is not None
        subject = self.backend.rows[seq - 1].subjects[0]
        self.backend.by_subject[subject].remove(seq)


class TestSqliteStore(StoreConformance):
    """``sqlite:///path``: a new file per test."""

    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'records.db'}"

    def tamper(self, url: str, seq: int) -> None:
        with sqlite3.connect(path_of(url)) as db:
            db.execute("DROP TRIGGER records_no_update")
            (body,) = db.execute("SELECT body FROM records WHERE seq = ?", (seq,)).fetchone()
            altered = body.replace(b'"actor":"', b'"actor":"x', 1)
            cur = db.execute("UPDATE records SET body = ? WHERE seq = ?", (altered, seq))
            assert cur.rowcount == 1

    def tamper_index(self, url: str, seq: int) -> None:
        with sqlite3.connect(path_of(url)) as db:
            db.execute("DROP TRIGGER subjects_no_delete")
            cur = db.execute(
                "DELETE FROM subjects WHERE seq = ? AND subject = "
                "(SELECT min(subject) FROM subjects WHERE seq = ?)",
                (seq, seq),
            )
            assert cur.rowcount == 1


# -- the kit fails a backend that is wrong ----------------------------------------------------


class _IgnoresUntil(MemoryBackend):
    """A broken backend: its period reads forget the upper bound."""

    def select(self, query: Query) -> object:  # type: ignore[override]
        import attrs

        return super().select(attrs.evolve(query, until_ts=None))


class _LosesOutbox(MemoryBackend):
    """A broken backend: it writes the records of a transaction but not its messages."""

    @contextlib.contextmanager
    def writing(self) -> Iterator[_MemoryWriter]:
        with super().writing() as writer:
            yield writer
            writer.messages.clear()


class _Unserialised(MemoryBackend):
    """A broken backend: writers are not serialised (and slow to read the head)."""

    @contextlib.contextmanager
    def writing(self) -> Iterator[_MemoryWriter]:
        writer = _SlowHead(self)
        yield writer
        self.rows.extend(writer.rows)
        for row in writer.rows:
            for subject in row.subjects:
                self.by_subject[subject].append(row.seq)


class _SlowHead(_MemoryWriter):
    def head(self) -> tuple[int, str]:
        found = super().head()
        time.sleep(0.001)
        return found


class _Kit(StoreConformance):
    backend_class: type[MemoryBackend] = MemoryBackend

    def __init__(self) -> None:
        self.backend = self.backend_class()

    def open(self, url: str) -> Store:
        return Store(self.backend)


def test_kit_catches_a_backend_ignoring_the_period() -> None:
    kit = type("K", (_Kit,), {"backend_class": _IgnoresUntil})()
    store = kit.open("memory:")
    kinds_before = dict(RECORD_KINDS)

    _register_probe()
    try:
        with pytest.raises(AssertionError):
            kit.test_read_by_period(store, PROBE_KIND)
    finally:
        _unregister_probe()
    assert kinds_before == RECORD_KINDS


def test_kit_catches_a_backend_losing_the_outbox() -> None:
    kit = type("K", (_Kit,), {"backend_class": _LosesOutbox})()
    with pytest.raises(AssertionError):
        kit.test_outbox_written_with_its_record(kit.open("memory:"))


def test_kit_catches_unserialised_writers() -> None:
    kit = type("K", (_Kit,), {"backend_class": _Unserialised, "concurrent_records": 60})()
    with pytest.raises(AssertionError):
        kit.test_concurrent_writers(kit.open("memory:"), "memory:", "threads")


def test_kit_passes_the_real_memory_backend_directly() -> None:
    """The checks above fail because of the broken backends, not because of the kit."""
    kit = _Kit()
    _register_probe()
    try:
        kit.test_read_by_period(kit.open("memory:"), PROBE_KIND)
    finally:
        _unregister_probe()
    kit = _Kit()
    kit.test_outbox_written_with_its_record(kit.open("memory:"))
    kit = _Kit()
    kit.test_concurrent_writers(kit.open("memory:"), "memory:", "threads")


def test_tampering_not_applicable_without_a_hook() -> None:
    kit = _Kit()
    with pytest.raises(pytest.skip.Exception, match=r"not applicable: _Kit does not define tamper"):
        kit.test_tampering_detected(kit.open("memory:"), "memory:")
    with pytest.raises(
        pytest.skip.Exception, match=r"not applicable: _Kit does not define tamper_index"
    ):
        kit.test_index_tampering_detected(kit.open("memory:"), "memory:")


class _UncheckedIndex(MemoryBackend):
    """A broken backend: it says it checks its index, but finds nothing wrong."""

    def check_index(self, last: int) -> None:
        return None


def test_kit_catches_a_backend_not_checking_its_index() -> None:
    class Kit(_Kit):
        backend_class = _UncheckedIndex

        def tamper_index(self, url: str, seq: int) -> None:
            self.backend.by_subject["school:s1"].remove(seq)

    kit = Kit()
    with pytest.raises(AssertionError, match="verify did not notice entry 3 was altered"):
        kit.test_index_tampering_detected(kit.open("memory:"), "memory:")
    kit = type("K", (Kit,), {"backend_class": MemoryBackend})()
    kit.test_index_tampering_detected(kit.open("memory:"), "memory:")


def test_kit_as_a_third_party_runs_it(pytester: pytest.Pytester) -> None:
    """A plugin's suite: a backend from a plugin registered with the fixture, no tamper hook."""
    pytester.makepyfile(
        test_third_party=textwrap.dedent(
            """
            import pytest
            from dualduty.plugins import hookimpl
            from dualduty.storage import open_store
            from dualduty.storage.memory import MemoryBackend
            from dualduty.testing import StoreConformance

            SHARED = {}

            class DistrictStore:
                @hookimpl
                def dualduty_open_store(self, request):
                    if request.url.startswith("district-mem:"):
                        return SHARED.setdefault(request.url, MemoryBackend(request.url))
                    return None

            class TestDistrictStore(StoreConformance):
                multiprocess = False

                @pytest.fixture
                def store_url(self, request, dualduty_plugin):
                    dualduty_plugin(DistrictStore())
                    return f"district-mem:{request.node.name}"
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    assert outcomes["skipped"] == 2
    result.stdout.fnmatch_lines(
        [
            "*not applicable: TestDistrictStore does not define tamper(url, seq)*",
            "*not applicable: TestDistrictStore does not define tamper_index(url, seq)*",
        ],
        consecutive=False,
    )
    # threads only: no processes variant of the concurrency test for a one-process store
    result.stdout.no_fnmatch_line("*processes*")
    names = [r.nodeid for r in result.reprec.getreports("pytest_runtest_logreport")]  # type: ignore[attr-defined]
    assert any("test_concurrent_writers[threads]" in n for n in names)
    assert not any("processes" in n for n in names)
    assert PROBE_KIND not in RECORD_KINDS
    assert not any(type(p).__name__ == "DistrictStore" for p in plugin_manager().get_plugins())


# -- the pytest plugin -------------------------------------------------------------------------


def test_pytest_plugin_is_an_entry_point(pytestconfig: pytest.Config) -> None:
    eps = metadata.entry_points(group="pytest11")
    (ep,) = [ep for ep in eps if ep.name == "dualduty"]
    assert ep.value == "dualduty.testing.plugin"
    assert pytestconfig.pluginmanager.has_plugin("dualduty")


class _SchemeStore:
    """A storage plugin for ``kit-test:`` URLs."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    @hookimpl
    def dualduty_open_store(self, request: object) -> StoreBackend | None:
        url: str = request.url  # type: ignore[attr-defined]
        if not url.startswith("kit-test:"):
            return None
        self.opened.append(url)
        return MemoryBackend(url)


def test_dualduty_plugin_registers_for_the_test(dualduty_plugin: PluginRegistrar) -> None:

    plugin = _SchemeStore()
    name = dualduty_plugin(plugin, name="kit-test-store")
    assert name == "kit-test-store"
    assert plugin_manager().get_plugin("kit-test-store") is plugin
    with open_store("kit-test:one") as store:
        assert store.url == "kit-test:one"
    assert plugin.opened == ["kit-test:one"]
    with pytest.raises(ValueError, match="already registered"):
        dualduty_plugin(plugin, name="kit-test-store")


def test_dualduty_plugin_unregisters_after_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_inner=textwrap.dedent(
            """
            from dualduty.plugins import hookimpl
            from dualduty.storage import open_store
            from dualduty.storage.memory import MemoryBackend

            class Store:
                @hookimpl
                def dualduty_open_store(self, request):
                    return MemoryBackend(request.url) if request.url == "inner:" else None

            def test_registered(dualduty_plugin):
                dualduty_plugin(Store(), name="inner-store")
                assert open_store("inner:").url == "inner:"

            def test_failing_still_unregisters(dualduty_plugin):
                dualduty_plugin(Store(), name="inner-store")
                raise AssertionError("deliberate")
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    assert plugin_manager().get_plugin("inner-store") is None

    with pytest.raises(StoreError, match="'inner'"):
        open_store("inner:")


def test_dualduty_hooks_is_fresh(dualduty_hooks: Hooks) -> None:

    assert dualduty_hooks.pm is not plugin_manager()
    assert [p.name for p in dualduty_hooks.plugins()] == ["dualduty.builtin"]
    plugin = _SchemeStore()
    dualduty_hooks.pm.register(plugin)
    with open_store("kit-test:two", hooks=dualduty_hooks) as store:
        assert isinstance(store.backend, MemoryBackend)
    assert plugin.opened == ["kit-test:two"]
    assert not plugin_manager().is_registered(plugin)


class _WriterWithoutReaddress:
    """A writer of a backend that implements only the required methods."""

    def __init__(self, writer: _MemoryWriter) -> None:
        self._writer = writer

    def head(self) -> tuple[int, str]:
        return self._writer.head()

    def insert(self, rows: Sequence[Row], messages: Sequence[MessageRow]) -> None:
        self._writer.insert(rows, messages)


class _BackendWithoutReaddress(MemoryBackend):
    @contextlib.contextmanager
    def writing(self) -> Iterator[_WriterWithoutReaddress]:  # type: ignore[override]  # a writer without readdress
        with super().writing() as writer:
            yield _WriterWithoutReaddress(writer)


def test_readdress_needs_a_backend_that_can() -> None:
    """A backend whose writer has no ``readdress`` refuses it with a clear error, and the
    transaction writes nothing."""
    store = Store(_BackendWithoutReaddress("memory:plain"))
    store.enqueue(OutboxMessage("console", "p010", "提醒", "到期", key="k"))
    (item,) = store.outbox()
    moved = OutboxMessage("console", "p090", "提醒", "到期", key="k")

    def readdress() -> None:
        with store.transaction() as tx:
            tx.readdress(item, moved)

    with pytest.raises(StoreError, match="cannot re-address outbox messages"):
        readdress()
    assert [i.message.recipient for i in store.outbox()] == ["p010"]
