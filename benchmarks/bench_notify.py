"""The outbox dispatcher's throughput to a local webhook (issue 8).

For each size (``--sizes``; default 5,000 and 20,000 notifications) a seeded generator
queues that many notifications — Chinese titles and texts of a few hundred bytes, to
500 recipients, one in fifty urgent — in a fresh SQLite store (``Store.enqueue``, in
batches of 1,000; timed apart). A ``Dispatcher`` then delivers them through the
``webhook`` channel (``WebhookChannel``: JSON POSTs over one kept-open HTTP/1.1
connection) to a local threaded HTTP server, without rate limits, until the outbox has
nothing due. Every delivery is a claimed row, an HTTP round trip and a durable commit of
its outcome with its line in the attempts log (``commit_every=1``, the default, which
keeps the duplicate window at one message); ``--commit-every`` shows the cost of that.
Digests are off, so that each message is one request.

The practical limit, measured in the same run against the same server, in turns with
the dispatcher's runs: plain ``http.client`` POSTs of the same bodies over one kept-open
connection, without a store.

The server runs in a process of its own (so it does not share the benchmark's
interpreter lock), answers ``200 {"ok": true}`` and counts what it received: the run
checks it received every message exactly once. Goal: >= 1,000 messages a second.
The median of ``--repeat`` runs is reported. Files go to a temporary directory (or
``--dir``), removed unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import multiprocessing
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("DUALDUTY_LOAD_PLUGINS", "")

from timing import print_table, sig, verdict, workdir

from dualduty.notify.dispatch import Dispatcher
from dualduty.notify.webhook import WebhookChannel
from dualduty.storage import OutboxMessage, open_store

GOAL_PER_SECOND = 1_000.0
SIZES = (5_000, 20_000)
CHANNEL = "oa-hook"

TITLES = (
    "重大安全隐患立即上报",
    "隐患整改即将到期",
    "隐患整改已逾期",
    "明日督查安排",
    "季度书面报告即将截止",
    "安全工作调度会通知",
    "事故续报期限提醒",
)
PHRASES = (
    "第一中学教学楼外墙瓷砖空鼓脱落，",
    "请于三日内完成整改并上报复查结果。",
    "实验小学食堂留样记录不全，",
    "按照一岗双责要求，分管领导须督促落实。",
    "明日上午九时赴分包学校开展专项督查，",
    "请各科室于季度末前提交书面报告。",
    "消防通道堆放杂物，已责令立即清理。",
)


# -- the receiving server ------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # answer at once (no 40 ms delayed-ACK stalls)
    counts: Any = None  # key -> times received (a dict in the server process)
    answer = b'{"ok": true}'

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        key = self.headers.get("Idempotency-Key") or body.decode("utf-8", "replace")
        with self.server.lock:  # type: ignore[attr-defined]
            self.counts[key] = self.counts.get(key, 0) + 1
        self._send(200, self.answer)

    def do_GET(self) -> None:  # /stats: how many requests, how many keys more than once
        with self.server.lock:  # type: ignore[attr-defined]
            total = sum(self.counts.values())
            repeated = sum(1 for n in self.counts.values() if n > 1)
            distinct = len(self.counts)
            if self.path == "/reset":
                self.counts.clear()
        self._send(200, f"{total} {distinct} {repeated}".encode())

    def _send(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(port: Any, ready: Any) -> None:
    import threading

    _Receiver.counts = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    port.value = server.server_address[1]
    ready.set()
    server.serve_forever()


@contextlib.contextmanager
def receiver() -> Iterator[int]:
    """A receiving server in its own process; yields its port."""
    ctx = multiprocessing.get_context("spawn")
    port: Any = ctx.Value("i", 0)
    ready: Any = ctx.Event()
    process = ctx.Process(target=_serve, args=(port, ready), daemon=True)
    process.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the receiving server did not start")
        yield int(port.value)
    finally:
        process.terminate()
        process.join(10)


def stats(port: int, reset: bool = False) -> tuple[int, int, int]:
    """(requests, distinct keys, keys received more than once) since the last reset."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/reset" if reset else "/stats")
        total, distinct, repeated = conn.getresponse().read().split()
    finally:
        conn.close()
    return int(total), int(distinct), int(repeated)


# -- the measures -----------------------------------------------------------------------------


def messages(n: int, seed: int) -> list[OutboxMessage]:
    """*n* seeded notifications, each with its own idempotency key."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text = "".join(rng.choice(PHRASES) for _ in range(rng.randint(2, 8)))
        out.append(
            OutboxMessage(
                CHANNEL,
                f"person:p{rng.randrange(500):03d}",
                rng.choice(TITLES),
                text,
                urgent=rng.random() < 0.02,
                key=f"bench:{seed}:{i}",
            )
        )
    return out


def dispatching(folder: Path, port: int, n: int, seed: int, commit_every: int) -> dict[str, float]:
    """Queue *n* notifications in a fresh store, then deliver them all; the seconds of each."""
    path = folder / f"outbox-{n}-{seed}-{commit_every}.db"
    batch = messages(n, seed)
    stats(port, reset=True)
    with open_store(f"sqlite:///{path}") as store:
        start = time.perf_counter()
        for i in range(0, n, 1_000):
            store.enqueue(*batch[i : i + 1_000])
        t_enqueue = time.perf_counter() - start
        channel = WebhookChannel(CHANNEL, f"http://127.0.0.1:{port}/hook")
        dispatcher = Dispatcher(store, {CHANNEL: channel}, digest=None, commit_every=commit_every)
        start = time.perf_counter()
        delivered = 0
        while True:
            report = dispatcher.run_once()
            if not report.claimed:
                break
            delivered += report.delivered
        t_dispatch = time.perf_counter() - start
        channel.close()
        counts = store.outbox_counts()
    total, distinct, repeated = stats(port)
    assert delivered == n == counts["delivered"], (delivered, counts)
    assert (total, distinct, repeated) == (n, n, 0), (total, distinct, repeated)
    return {"enqueue": t_enqueue, "dispatch": t_dispatch}


def raw_posts(port: int, n: int, seed: int) -> float:
    """Seconds for plain http.client POSTs of the same bodies, one kept-open connection."""
    channel = WebhookChannel(CHANNEL, f"http://127.0.0.1:{port}/hook")
    bodies = [channel.body(m) for m in messages(n, seed)]
    keys = [f"bench:{seed}:{i}" for i in range(n)]
    stats(port, reset=True)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.perf_counter()
    for body, key in zip(bodies, keys, strict=True):
        conn.request(
            "POST",
            "/hook",
            body,
            {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key},
        )
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    seconds = time.perf_counter() - start
    conn.close()
    assert stats(port) == (n, n, 0)
    return seconds


# -- printing ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="messages")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size, median of")
    parser.add_argument("--seed", type=int, default=0, help="seed of the messages (0)")
    parser.add_argument(
        "--commit-every",
        type=int,
        nargs="+",
        default=[1],
        help="outcomes per commit, each measured (default: 1, the dispatcher's default)",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="where the files go (default: a temporary one)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database files")
    args = parser.parse_args()

    began = time.perf_counter()
    table: list[tuple[str, ...]] = [("measure", "dualduty", "plain POSTs", "ratio", "goal")]
    notes = []
    with workdir(args.dir, args.keep, "bench-notify-") as folder, receiver() as port:
        for n in args.sizes:
            for every in args.commit_every:
                # the reference and dualduty in turns, so that both see the same machine
                raws, runs = [], []
                for r in range(args.repeat):
                    raws.append(raw_posts(port, n, args.seed + r))
                    runs.append(dispatching(folder, port, n, args.seed + r, every))
                t_raw = statistics.median(raws)
                t_dispatch = statistics.median(r["dispatch"] for r in runs)
                t_enqueue = statistics.median(r["enqueue"] for r in runs)
                rate, raw_rate = n / t_dispatch, n / t_raw
                goal = f">= {GOAL_PER_SECOND:,.0f}/s: {verdict(rate >= GOAL_PER_SECOND)}"
                what = f"dispatch {n:,} (commit every {every})"
                table.append(
                    (
                        what,
                        f"{sig(rate)} msg/s",
                        f"{sig(raw_rate)} msg/s",
                        f"{rate / raw_rate:.0%}",
                        goal,
                    )
                )
                notes.append(
                    f"{n:,} messages, commit every {every}: queued in {sig(t_enqueue)} s "
                    f"({sig(n / t_enqueue)} msg/s); delivered in {sig(t_dispatch)} s; "
                    f"plain POSTs {sig(t_raw)} s"
                )
    print_table(table)
    print(
        f"\nSQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    print("ratio: dualduty's rate over the plain POSTs' (the practical limit).")
    for note in notes:
        print(note)
    print(f"whole run {sig(time.perf_counter() - began)} s")


if __name__ == "__main__":
    main()
