"""Several processes at once: appenders serialise on the chain, dispatchers share the outbox."""

from __future__ import annotations

import collections
import multiprocessing
import queue
from pathlib import Path
from typing import Any

from dualduty.records.base import person
from dualduty.storage import OutboxMessage, open_store
from dualduty.testing._worker import append_notes, note_text

from ._procs import PLUGINS, dispatch

APPENDERS = 4
EACH = 400
#: transaction sizes: single records, small batches, and one large enough for COPY
BATCHES = (1, 7, 3, 120)


def test_four_processes_append_concurrently(pg_url: str) -> None:
    """Four processes appending at once lose nothing; the chain is whole and in order."""
    ctx = multiprocessing.get_context("spawn")
    start: Any = ctx.Barrier(APPENDERS)
    errors: Any = ctx.Queue()
    actors = [f"writer.{i}" for i in range(APPENDERS)]
    with open_store(pg_url):  # the schema exists before they race
        pass
    workers = [
        ctx.Process(
            target=append_notes,
            args=(pg_url, actor),
            kwargs={
                "count": EACH,
                "batches": BATCHES,
                "plugin_modules": PLUGINS,
                "start": start,
                "errors": errors,
            },
        )
        for actor in actors
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=180)
    failures = []
    while True:
        try:
            failures.append(errors.get(timeout=0.1))
        except queue.Empty:
            break
    assert not failures, "\n".join(failures)
    assert [w.exitcode for w in workers] == [0] * APPENDERS

    with open_store(pg_url, readonly=True) as store:
        total = APPENDERS * EACH
        assert len(store) == total
        check = store.verify()
        assert (check.ok, check.checked, check.total) == (True, total, total), check.reason
        assert [e.seq for e in store.read()] == list(range(1, total + 1))
        for actor in actors:
            texts = [e.record.data.text for e in store.read(subject=person(actor))]
            assert texts == [note_text(actor, i) for i in range(EACH)], actor


def test_two_dispatchers_deliver_each_message_once(pg_url: str, tmp_path: Path) -> None:
    """Two dispatchers (processes, each its own store) share one outbox: every message is
    delivered, none twice."""
    count = 300
    with open_store(pg_url) as store:
        queued = store.enqueue(
            *(
                OutboxMessage("file", f"person:p{i % 9}", "通知", f"m{i}", key=f"k{i}")
                for i in range(count)
            )
        )
        assert queued == count
    sink = tmp_path / "delivered.txt"
    ctx = multiprocessing.get_context("spawn")
    start: Any = ctx.Barrier(2)
    results: Any = ctx.Queue()
    names = ("dispatcher.a", "dispatcher.b")
    workers = [
        ctx.Process(
            target=dispatch,
            args=(pg_url, str(sink), who),
            kwargs={"start": start, "results": results},
        )
        for who in names
    ]
    for w in workers:
        w.start()
    got = dict(results.get(timeout=180) for _ in names)
    for w in workers:
        w.join(timeout=30)
    failures = [f"{who}: {r}" for who, r in got.items() if isinstance(r, str)]
    assert not failures, "\n".join(failures)

    lines = sink.read_text().splitlines()
    keys = collections.Counter(line.split("\t")[0] for line in lines)
    twice = [k for k, n in keys.items() if n > 1]
    assert not twice, f"delivered more than once: {twice}"
    assert set(keys) == {f"k{i}" for i in range(count)}
    by = collections.Counter(line.split("\t")[1] for line in lines)
    assert sum(got.values()) == count
    assert dict(by) == {who: n for who, n in got.items() if n}
    with open_store(pg_url) as store:
        assert store.outbox_counts() == {"pending": 0, "claimed": 0, "delivered": count, "dead": 0}
        assert len(store.attempts()) == count
