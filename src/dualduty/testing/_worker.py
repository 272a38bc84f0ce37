"""Writers that run in other processes: the kit's concurrent-writers test and the kill tests.

This module imports nothing of pytest, so a spawned process starts quickly. Run it as
a program to append numbered notes and report each transaction on standard output::

    python -m dualduty.testing._worker sqlite:////tmp/records.db --actor w1 \\
        --total 10000 --batch 100

prints ``begin <k>`` when transaction *k* (from 0) is open and about to be written and
``commit <k>`` once it is durable, so a test can kill the writer in the middle of one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
import traceback
import zoneinfo
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from dualduty.records.base import Note, Record, person

if TYPE_CHECKING:
    from dualduty.storage import Store

__all__ = [
    "append_in_batches",
    "append_notes",
    "note_text",
    "notes",
    "register_plugins",
    "run_writer",
]

_ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
_START = dt.datetime(2024, 9, 1, 8, 0, tzinfo=_ZONE)


def note_text(actor: str, i: int) -> str:
    """The text of note *i* written by *actor*: how a test recognises each record."""
    return f"{actor}#{i}"


def notes(actor: str, first: int, count: int) -> Iterator[Record]:
    """Records *first* … *first + count - 1* of *actor*, each a note about the actor."""
    for i in range(first, first + count):
        yield Record(
            "note",
            actor,
            _START + dt.timedelta(seconds=i),
            Note(note_text(actor, i)),
            (person(actor),),
        )


def register_plugins(modules: Sequence[str]) -> None:
    """Import *modules* and register each with the process-wide plugin manager."""
    if not modules:
        return
    from dualduty.plugins import plugin_manager

    pm = plugin_manager()
    for name in modules:
        module = importlib.import_module(name)
        if not pm.is_registered(module):
            pm.register(module, name=name)


def append_in_batches(store: Store, actor: str, count: int, batches: Sequence[int]) -> None:
    """Append *count* notes of *actor* to *store*, transaction sizes cycling through *batches*."""
    done, k = 0, 0
    while done < count:
        size = min(batches[k % len(batches)], count - done)
        store.append(*notes(actor, done, size))
        done += size
        k += 1


def append_notes(
    url: str,
    actor: str,
    *,
    count: int,
    batches: Sequence[int],
    plugin_modules: Sequence[str],
    start: Any,
    errors: Any,
) -> None:
    """Append *count* notes of *actor* to the store at *url*, in transactions.

    Transaction sizes cycle through *batches*. Meant as the target of a process (or a
    thread): waits on *start* (a barrier) first, and puts a description of any error
    on *errors* (a queue) before raising it.
    """
    try:
        register_plugins(plugin_modules)
        from dualduty.storage import open_store

        with open_store(url) as store:
            start.wait(timeout=60)
            append_in_batches(store, actor, count, batches)
    except BaseException:
        errors.put(f"writer {actor}: {traceback.format_exc()}")
        raise


def run_writer(url: str, actor: str, total: int, batch: int) -> None:
    """Append *total* notes in transactions of *batch*, reporting each on standard output."""
    from dualduty.storage import open_store

    out = sys.stdout
    with open_store(url) as store:
        for k, first in enumerate(range(0, total, batch)):
            with store.transaction() as tx:
                tx.extend(notes(actor, first, min(batch, total - first)))
                out.write(f"begin {k}\n")
                out.flush()
            out.write(f"commit {k}\n")
            out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m dualduty.testing._worker``."""
    parser = argparse.ArgumentParser(prog="python -m dualduty.testing._worker")
    parser.add_argument("url")
    parser.add_argument("--actor", default="writer")
    parser.add_argument("--total", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args(argv)
    run_writer(args.url, args.actor, args.total, args.batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
