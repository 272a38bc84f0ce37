"""Issue 8's reliability checks of the dispatcher, with real loopback HTTP servers standing
in for the providers and real SQLite files.

(a) a receiver down for a while (a closed port), then back: every notification is
    delivered exactly once after it returns;
(b) a dispatcher process killed with SIGKILL in the middle of a batch, then another
    started after its lease: nothing is lost, and a message reaches the receiver twice
    only if it was accepted but not yet recorded when the process died;
(c) 500 notifications to one robot taking 20 a minute: it never gets more;
(d) a provider answering HTTP 200 with an error code: recorded dead, never delivered;
(e) two dispatcher processes on one SQLite file: each message delivered once.

Time is a clock the test moves, except in the process tests, where a lease that ran out
is simulated by starting the next dispatcher with its clock moved on.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dualduty.notify import DeliveryResult, RateLimit
from dualduty.notify.dispatch import Dispatcher
from dualduty.notify.webhook import WebhookChannel
from dualduty.storage import OutboxMessage, open_store

WORKER = Path(__file__).parent / "dispatch_worker.py"


class Clock:
    """A clock the test moves; ``sleep`` moves it too."""

    def __init__(self, now: float | None = None) -> None:
        # after every message's creation: messages are created at the wall clock's time,
        # and a suite may run for minutes before a test makes its clock
        self.now = time.time() + 60 if now is None else now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Request:
    """What the receiver got: when (by its clock), the idempotency key, the JSON body."""

    def __init__(self, at: float, key: str | None, body: dict[str, Any]) -> None:
        self.at, self.key, self.body = at, key, body


class Receiver:
    """A loopback HTTP server standing in for a provider (a robot, an OA system).

    Every request is recorded before it is answered. *answer* gives the status and JSON
    body for a request (default: ``200 {"errcode": 0, "errmsg": "ok"}``). With
    *block_after*, requests after that many are recorded and then held without an answer
    until :meth:`unblock`. With *limit* (count, seconds) it behaves like a robot that
    takes no more: a request beyond it is answered ``429`` with ``errcode`` 130101 and
    counted in :attr:`refused`.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        clock: Callable[[], float] = time.time,
        answer: Callable[[Request], tuple[int, dict[str, Any]]] | None = None,
        block_after: int | None = None,
        limit: tuple[int, float] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.port = port
        self.clock = clock
        self.answer = answer or (lambda request: (200, {"errcode": 0, "errmsg": "ok"}))
        self.block_after = block_after
        self.limit = limit
        self.delay = delay
        self.requests: list[Request] = []
        self.refused = 0
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/robot/send"

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                request = Request(
                    receiver.clock(), self.headers.get("Idempotency-Key"), json.loads(data)
                )
                status, body = receiver.record(request)
                if receiver.delay:
                    time.sleep(receiver.delay)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if status == 429:
                    self.send_header("Retry-After", "60")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a connection whose dispatcher was killed

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.unblock()
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    def record(self, request: Request) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(request)
            n = len(self.requests)
            refused = False
            if self.limit is not None:
                count, seconds = self.limit
                taken = [r for r in self.requests[:-1] if r.at > request.at - seconds]
                taken = [r for r in taken if not getattr(r, "refused", False)]
                if len(taken) >= count:
                    request.refused = True  # type: ignore[attr-defined]
                    self.refused += 1
                    refused = True
        if refused:
            return 429, {"errcode": 130101, "errmsg": "send too fast"}
        if self.block_after is not None and n > self.block_after:
            self.released.wait(120)
        return self.answer(request)

    def unblock(self) -> None:
        self.block_after = None
        self.released.set()

    def keys(self) -> collections.Counter[str | None]:
        with self.lock:
            return collections.Counter(r.key for r in self.requests)

    def count(self) -> int:
        with self.lock:
            return len(self.requests)


def free_port() -> int:
    """A port nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def notice(n: int, *, recipient: str | None = None, channel: str = "hook") -> OutboxMessage:
    """Notification *n*, with its own key (and by default its own recipient)."""
    return OutboxMessage(
        channel,
        recipient or f"person:p{n:04d}",
        f"隐患整改提醒 {n}",
        f"第{n}号隐患整改期限将至，请及时处理。",
        key=f"hazard-due:{n}:person:p{n:04d}:{channel}:2026-09",
    )


def run_worker(url: str, receiver: Receiver, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), "--db", url, "--url", receiver.url, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DUALDUTY_LOAD_PLUGINS": ""},
    )


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.01)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'outbox.db'}"


# -- (a) the receiver is down for a while --------------------------------------------------------


def test_a_receiver_down_then_back_gets_everything_once(db: str) -> None:
    port = free_port()
    clock = Clock()
    count = 40
    with open_store(db) as store:
        assert store.enqueue(*(notice(n) for n in range(count))) == count
        channel = WebhookChannel("hook", f"http://127.0.0.1:{port}/robot/send", timeout=5)
        dispatcher = Dispatcher(
            store, {"hook": channel}, clock=clock, sleep=clock.sleep, rng=random.Random(3)
        )
        for round_ in range(3):  # down: three attempts each, the clock past every retry
            report = dispatcher.run_once()
            assert (report.claimed, report.retried, report.delivered) == (count, count, 0), round_
            clock.advance(3600)
        for item in store.outbox(state=None):
            assert (item.state, item.attempts) == ("pending", 3)
            assert item.detail == f"http://127.0.0.1:{port}: connection refused"
        with Receiver(port=port, clock=clock) as receiver:  # back
            for _ in range(10):
                if not store.outbox_counts()["pending"]:
                    break
                dispatcher.run_once()
                clock.advance(3600)
            channel.close()
            keys = receiver.keys()
        assert store.outbox_counts() == {"pending": 0, "claimed": 0, "delivered": count, "dead": 0}
        assert keys == collections.Counter(notice(n).key for n in range(count))  # once each
        for item in store.outbox(state=None):
            assert [a.outcome for a in store.attempts(item.id)] == ["retry"] * 3 + ["delivered"]


# -- (b) a dispatcher killed in the middle of a batch ---------------------------------------------


@pytest.mark.parametrize("commit_every", [1, 4])
def test_a_killed_dispatcher_loses_nothing(db: str, commit_every: int) -> None:
    count, answered = 60, 25
    with open_store(db) as store:
        store.enqueue(*(notice(n) for n in range(count)))
    with Receiver(block_after=answered) as receiver:
        first = run_worker(db, receiver, "--lease", "30", "--commit-every", str(commit_every))
        try:
            # the receiver answered `answered` requests and holds the next one
            wait_for(lambda: receiver.count() > answered, "the worker's requests")
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=30)  # (and close its pipes)
        finally:
            if first.poll() is None:
                first.kill()
                first.communicate()
        assert first.returncode == -signal.SIGKILL
        seen_before = set(receiver.keys())
        with open_store(db) as store:
            recorded = {i.message.key for i in store.outbox(state="delivered")}
            assert store.outbox_counts()["claimed"] == count - len(recorded)  # held by the dead
        in_flight = seen_before - recorded  # received, not yet recorded as delivered
        assert 1 <= len(in_flight) <= commit_every
        assert len(recorded) >= answered - commit_every + 1

        # a dispatcher started after the lease ran out (its clock 31 s on) delivers the rest
        receiver.unblock()
        second = run_worker(db, receiver, "--lease", "30", "--offset", "31")
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        assert out.splitlines()[-1] == "done"
        seen = receiver.keys()
    with open_store(db) as store:
        assert store.outbox_counts() == {"pending": 0, "claimed": 0, "delivered": count, "dead": 0}
    assert set(seen) == {notice(n).key for n in range(count)}  # nothing lost
    twice = {key for key, n in seen.items() if n > 1}
    assert max(seen.values()) <= 2
    assert twice <= in_flight  # only what was in flight when it died, found by its key
    assert len(twice) <= len(in_flight) <= commit_every


# -- (c) a robot's rate limit ----------------------------------------------------------------------


def test_500_notifications_keep_a_robots_rate_limit(db: str) -> None:
    clock = Clock()
    count = 500
    with Receiver(clock=clock, limit=(20, 60)) as robot, open_store(db) as store:
        store.enqueue(*(notice(n) for n in range(count)))
        channel = WebhookChannel("hook", robot.url, rate_limits=(RateLimit(20, 60),))
        dispatcher = Dispatcher(
            store, {"hook": channel}, clock=clock, sleep=clock.sleep, digest=None
        )
        runs = 0
        while store.outbox_counts()["delivered"] < count:
            runs += 1
            assert runs < 2000, "the dispatcher stopped making progress"
            dispatcher.run_once()
            clock.advance(5)
        channel.close()
        times = sorted(r.at for r in robot.requests)
        keys = robot.keys()
        assert robot.refused == 0  # the robot never had to refuse one
        assert store.outbox_counts()["dead"] == 0
        assert all(a.outcome == "delivered" for a in store.attempts())
    assert len(times) == count
    assert keys == collections.Counter(notice(n).key for n in range(count))
    assert all(b - a >= 60 for a, b in zip(times, times[20:], strict=False))
    # and no slower than the limit allows: 25 minutes for 500, give or take a run
    assert times[-1] - times[0] <= (count / 20 - 1) * 60 + 10


def test_a_burst_to_one_robot_recipient_becomes_digests_within_the_limit(db: str) -> None:
    """The same burst for one recipient: digests carry it, still within the limit."""
    clock = Clock()
    with Receiver(clock=clock, limit=(20, 60)) as robot, open_store(db) as store:
        store.enqueue(*(notice(n, recipient="group:office") for n in range(500)))
        channel = WebhookChannel("hook", robot.url, rate_limits=(RateLimit(20, 60),))
        dispatcher = Dispatcher(store, {"hook": channel}, clock=clock, sleep=clock.sleep)
        while store.outbox_counts()["pending"] or store.outbox_counts()["claimed"]:
            dispatcher.run_once()
            clock.advance(5)
        channel.close()
        digests = [r for r in robot.requests if r.body["title"].startswith("汇总：")]
        assert robot.refused == 0
        assert len(digests) == len(robot.requests) == 3  # 200 + 200 + 100
        assert sum(int(r.body["title"].split("：")[1].split()[0]) for r in digests) == 500
        carried = [i for i in store.outbox(state="delivered") if not i.is_digest]
        assert len(carried) == 500
        assert all(i.digest is not None for i in carried)


# -- (d) HTTP 200 with an error code ------------------------------------------------------------


class RobotChannel:
    """A robot channel as the IM plugins write them: the HTTP answer is always 200, the
    JSON ``errcode`` says what happened (0: sent; 130101: too fast; anything else: the
    robot refused it)."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        host_port, path = self.url.removeprefix("http://").split("/", 1)
        host, port = host_port.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            body = json.dumps({"msgtype": "text", "text": {"content": message.text}})
            conn.request("POST", "/" + path, body.encode(), {"Content-Type": "application/json"})
            response = conn.getresponse()
            answer = json.loads(response.read())
        except OSError as exc:
            return DeliveryResult.retry(f"unreachable: {type(exc).__name__}")
        finally:
            conn.close()
        code = str(answer.get("errcode"))
        if code == "0":
            return DeliveryResult.ok(code, answer.get("errmsg", ""))
        if code == "130101":
            return DeliveryResult.retry(answer.get("errmsg", ""), code, retry_after=60)
        return DeliveryResult.failed(answer.get("errmsg", ""), code)


def test_http_200_with_an_error_code_is_dead_not_delivered(db: str) -> None:
    answers = {
        "ok": [(200, {"errcode": 0, "errmsg": "ok"})],
        "refused": [(200, {"errcode": 310000, "errmsg": "keywords not in content"})],
        "throttled": [
            (200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
            (200, {"errcode": 0, "errmsg": "ok"}),
        ],
    }

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        content = request.body["text"]["content"]
        return answers[content].pop(0)

    clock = Clock()
    with Receiver(answer=answer, clock=clock) as server, open_store(db) as store:
        for text in answers:
            store.enqueue(OutboxMessage("robot", f"group:{text}", "通知", text, key=text))
        dispatcher = Dispatcher(
            store, {"robot": RobotChannel("robot", server.url)}, clock=clock, sleep=clock.sleep
        )
        report = dispatcher.run_once()
        assert [(d.detail, d.outcome, d.provider_code) for d in report.deliveries] == [
            ("ok", "delivered", "0"),
            ("keywords not in content", "dead", "310000"),
            ("send too fast, exceed 20 times per minute", "retry", "130101"),
        ]
        retry_at = report.deliveries[2].next_attempt
        assert retry_at is not None
        assert retry_at.timestamp() >= clock() + 60 - 1e-3  # (to the microsecond)
        clock.advance(86_400)
        assert dispatcher.run_once().delivered == 1  # the throttled one, not the refused
        assert dispatcher.run_once().claimed == 0
        by_key = {i.message.key: i for i in store.outbox(state=None)}
        refused = by_key["refused"]
        assert (refused.state, refused.provider_code, refused.detail, refused.delivered) == (
            "dead",
            "310000",
            "keywords not in content",
            None,
        )
        assert [a.outcome for a in store.attempts(refused.id)] == ["dead"]
        assert by_key["ok"].state == by_key["throttled"].state == "delivered"
        assert len(server.requests) == 4  # the refused one was tried once


# -- (e) two dispatchers on one file ---------------------------------------------------------------


def test_two_dispatcher_processes_deliver_each_message_once(db: str, tmp_path: Path) -> None:
    count = 600
    with open_store(db) as store:
        store.enqueue(*(notice(n) for n in range(count)))
    go = tmp_path / "go"
    with Receiver(delay=0.001) as receiver:
        workers = [
            run_worker(db, receiver, "--batch", "10", "--wait-for", str(go)) for _ in range(2)
        ]
        go.touch()
        outputs = [w.communicate(timeout=300) for w in workers]
        keys = receiver.keys()
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    claimed = [
        sum(int(line.split()[1]) for line in out.splitlines() if line.startswith("claimed"))
        for out, _ in outputs
    ]
    assert sum(claimed) == count
    assert min(claimed) > 0  # both took part
    assert keys == collections.Counter(notice(n).key for n in range(count))  # once each
    with open_store(db) as store:
        assert store.outbox_counts()["delivered"] == count
        log = store.attempts()
    assert len(log) == count
    assert collections.Counter(a.message for a in log).most_common(1)[0][1] == 1
