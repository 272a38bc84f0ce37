"""The outbox dispatcher (dualduty.notify.dispatch): outcomes, retries, rate limits,
digests, leases, the report, and ``dualduty notify``.

The channels here are small real channels (they keep what they were given and answer as
told); the HTTP channel against real servers is in test_dispatch_reliability.py. Time is
a clock the test moves (no sleeping through backoffs).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from dualduty.cli import main
from dualduty.notify import DeliveryResult, RateLimit, fit_bytes
from dualduty.notify.dispatch import Backoff, Delivery, DigestPolicy, Dispatcher, DispatchReport
from dualduty.notify.ratelimit import Limiter
from dualduty.plugins import hookimpl
from dualduty.storage import OutboxMessage, Store, open_store
from dualduty.testing import PluginRegistrar

START = 1_900_000_000.0  # 2030-03-17: later than any message's creation


class Clock:
    """A clock the test moves; ``sleep`` moves it too."""

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Recording:
    """A channel that keeps every message and answers with the results it is given
    (then ``ok``)."""

    def __init__(
        self,
        name: str = "robot",
        results: list[DeliveryResult | BaseException | object] | None = None,
        *,
        rate_limits: tuple[RateLimit, ...] = (),
        max_bytes: int | None = None,
        clock: Clock | None = None,
        on_deliver: Callable[[OutboxMessage], None] | None = None,
    ) -> None:
        self.name = name
        self.results = list(results or [])
        self.rate_limits = rate_limits
        self.max_bytes = max_bytes
        self.clock = clock
        self.on_deliver = on_deliver
        self.sent: list[OutboxMessage] = []
        self.times: list[float] = []

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        self.sent.append(message)
        if self.clock is not None:
            self.times.append(self.clock())
        if self.on_deliver is not None:
            self.on_deliver(message)
        result = self.results.pop(0) if self.results else DeliveryResult.ok("0", "ok")
        if isinstance(result, BaseException):
            raise result
        return result  # type: ignore[return-value]  # a wrong answer, for one test


def msg(
    text: str,
    recipient: str = "person:zhao",
    *,
    channel: str = "robot",
    urgent: bool = False,
    key: str | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        channel, recipient, f"标题{text}", f"正文{text}", urgent=urgent, key=key or text
    )


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = "memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'outbox.db'}"
    with open_store(url) as s:
        yield s


def dispatcher(store: Store, *channels: Recording, clock: Clock, **options: Any) -> Dispatcher:
    options.setdefault("rng", random.Random(0))
    return Dispatcher(
        store, {c.name: c for c in channels}, clock=clock, sleep=clock.sleep, **options
    )


def states(store: Store) -> dict[str, str]:
    """Message text → state (digests by their title)."""
    return {
        (i.message.title if i.is_digest else i.message.text): i.state
        for i in store.outbox(state=None)
    }


# -- outcomes -----------------------------------------------------------------------------------


def test_delivers_urgent_first_and_records_each_attempt(store: Store) -> None:
    store.enqueue(msg("a"), msg("b", "person:li"), msg("急", urgent=True), msg("c", "person:qian"))
    clock, robot = Clock(), Recording()
    report = dispatcher(store, robot, clock=clock).run_once()
    assert [m.text for m in robot.sent] == ["正文急", "正文a", "正文b", "正文c"]
    assert (report.claimed, report.delivered, report.retried, report.dead) == (4, 4, 0, 0)
    assert [d.outcome for d in report.deliveries] == ["delivered"] * 4
    assert set(states(store).values()) == {"delivered"}
    log = store.attempts()
    assert [(a.n, a.outcome, a.provider_code, a.detail) for a in log] == [
        (1, "delivered", "0", "ok")
    ] * 4
    assert all(a.at == dt.datetime.fromtimestamp(START, dt.UTC) for a in log)
    assert all(a.duration >= 0 for a in log)
    for item in store.outbox(state=None):
        assert item.delivered == dt.datetime.fromtimestamp(START, dt.UTC)
    # nothing left: the next run claims nothing
    assert dispatcher(store, robot, clock=clock).run_once() == DispatchReport()


def test_a_retryable_failure_waits_for_the_backoff_then_is_delivered(store: Store) -> None:
    store.enqueue(msg("a"))
    clock = Clock()
    robot = Recording(
        results=[DeliveryResult.retry("HTTP 503", "503"), DeliveryResult.retry("busy")]
    )
    d = dispatcher(store, robot, clock=clock, backoff=Backoff(jitter="none"))
    (first,) = d.run_once().deliveries
    assert (first.outcome, first.attempt, first.provider_code, first.detail) == (
        "retry",
        1,
        "503",
        "HTTP 503",
    )
    assert first.next_attempt == dt.datetime.fromtimestamp(START + 30, dt.UTC)
    (item,) = store.outbox()
    assert (item.state, item.attempts, item.next_attempt) == ("pending", 1, first.next_attempt)
    clock.advance(29.9)
    assert d.run_once().claimed == 0  # not yet
    clock.advance(0.1)
    (second,) = d.run_once().deliveries
    assert (second.outcome, second.attempt) == ("retry", 2)
    assert second.next_attempt == dt.datetime.fromtimestamp(START + 30 + 60, dt.UTC)
    clock.advance(60)
    (third,) = d.run_once().deliveries
    assert (third.outcome, third.attempt) == ("delivered", 3)
    assert [a.outcome for a in store.attempts()] == ["retry", "retry", "delivered"]
    assert len(robot.sent) == 3


def test_retry_after_is_a_lower_bound(store: Store) -> None:
    store.enqueue(msg("a"), msg("b", "person:li"))
    clock = Clock()
    robot = Recording(
        results=[
            DeliveryResult.retry("throttled", "130101", retry_after=600),
            DeliveryResult.retry("throttled", "130101", retry_after=1),
        ]
    )
    report = dispatcher(store, robot, clock=clock, backoff=Backoff(jitter="none")).run_once()
    waits = [
        (d.next_attempt - dt.datetime.fromtimestamp(START, dt.UTC)).total_seconds()
        for d in report.deliveries
        if d.next_attempt
    ]
    assert waits == [600, 30]


def test_full_jitter_is_seeded_and_within_the_cap(store: Store) -> None:
    for n in range(6):
        store.enqueue(msg(f"m{n}", f"person:p{n}"))
    clock = Clock()
    robot = Recording(results=[DeliveryResult.retry("down")] * 6)
    report = dispatcher(store, robot, clock=clock, rng=random.Random(7)).run_once()
    waits = [
        (d.next_attempt - dt.datetime.fromtimestamp(START, dt.UTC)).total_seconds()
        for d in report.deliveries
        if d.next_attempt
    ]
    assert len(waits) == 6
    assert all(0 <= w <= 30 for w in waits)
    assert len({round(w, 3) for w in waits}) == 6  # spread, not all at once
    rng = random.Random(7)
    assert waits == pytest.approx([Backoff().delay(1, rng) for _ in range(6)], abs=2e-6)


def test_backoff_schedules() -> None:
    rng = random.Random(1)
    none = Backoff(base=10, factor=3, max=500, jitter="none")
    assert [none.delay(n, rng) for n in range(1, 7)] == [10, 30, 90, 270, 500, 500]
    assert Backoff().nominal(10_000) == 3600  # no overflow
    decorrelated = Backoff(jitter="decorrelated")
    for previous in (None, 30.0, 100.0, 5000.0):
        for _ in range(50):
            wait = decorrelated.delay(3, rng, previous)
            assert 30 <= wait <= min(3600, 3 * max(previous or 30, 30))
    with pytest.raises(ValueError, match="max must be >= base"):
        Backoff(base=60, max=30)
    with pytest.raises(ValueError, match="'jitter' must be in"):
        Backoff(jitter="some")


def test_decorrelated_jitter_grows_from_the_previous_wait(store: Store) -> None:
    store.enqueue(msg("a"))
    clock = Clock()
    robot = Recording(results=[DeliveryResult.retry("down")] * 3)
    d = dispatcher(store, robot, clock=clock, backoff=Backoff(jitter="decorrelated"))
    waits = []
    for _ in range(3):
        (delivery,) = d.run_once().deliveries
        assert delivery.next_attempt is not None
        wait = delivery.next_attempt.timestamp() - clock()
        waits.append(wait)
        clock.advance(wait)
    assert 30 <= waits[0] <= 90
    for before, after in itertools.pairwise(waits):
        assert 30 <= after <= 3 * before + 1e-6


def test_a_permanent_failure_is_dead_with_the_providers_code(store: Store) -> None:
    store.enqueue(msg("a"))
    clock = Clock()
    robot = Recording(results=[DeliveryResult.failed("sign not match", "310000")])
    report = dispatcher(store, robot, clock=clock).run_once()
    assert (report.dead, report.delivered) == (1, 0)
    (item,) = store.outbox(state="dead")
    assert (item.provider_code, item.detail, item.attempts, item.delivered) == (
        "310000",
        "sign not match",
        1,
        None,
    )
    clock.advance(86_400)
    assert dispatcher(store, robot, clock=clock).run_once().claimed == 0
    assert len(robot.sent) == 1


def test_too_many_attempts_make_a_message_dead(store: Store) -> None:
    store.enqueue(msg("a"))
    clock = Clock()
    robot = Recording(results=[DeliveryResult.retry("HTTP 502", "502")] * 5)
    d = dispatcher(store, robot, clock=clock, max_attempts=3)
    outcomes = []
    for _ in range(5):
        report = d.run_once()
        outcomes += [(x.outcome, x.attempt) for x in report.deliveries]
        clock.advance(7200)
    assert outcomes == [("retry", 1), ("retry", 2), ("dead", 3)]
    (item,) = store.outbox(state="dead")
    assert item.detail == "gave up after 3 attempts: HTTP 502"
    assert item.provider_code == "502"


def test_a_message_for_no_channel_is_dead(store: Store) -> None:
    store.enqueue(msg("a", channel="pager"))
    clock = Clock()
    report = dispatcher(store, Recording("robot"), Recording("mail"), clock=clock).run_once()
    (d,) = report.deliveries
    assert (d.outcome, d.detail) == (
        "dead",
        "no channel named 'pager' is configured (known: mail, robot)",
    )
    assert [a.outcome for a in store.attempts()] == ["dead"]


def test_a_raising_channel_is_retried_without_its_message(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.enqueue(msg("a"), msg("b", "person:li"))
    clock = Clock()
    secret = "SEC-0123456789abcdef"
    robot = Recording(
        results=[ConnectionResetError(f"https://oapi.example/robot?access_token={secret}"), 42]
    )
    with caplog.at_level(logging.DEBUG, logger="dualduty"):
        report = dispatcher(store, robot, clock=clock).run_once()
    details = [(d.outcome, d.detail) for d in report.deliveries]
    assert details == [
        ("retry", "the channel raised ConnectionResetError"),
        ("retry", "the channel returned int, not a DeliveryResult"),
    ]
    stored = " ".join(f"{i.detail} {i!r}" for i in store.outbox(state=None))
    logged = " ".join(a.detail for a in store.attempts())
    assert secret not in stored + logged + caplog.text


def test_dispatcher_options_are_checked(store: Store) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"max_attempts": 0}, "max_attempts must be >= 1"),
        ({"lease": 0}, "lease must be > 0"),
        ({"batch": 0}, "batch must be >= 1"),
        ({"max_wait": -1}, "max_wait must be >= 0"),
        ({"commit_every": 0}, "commit_every must be >= 1"),
    ]
    for options, message in cases:
        with pytest.raises(ValueError, match=message):
            Dispatcher(store, {}, **options)
    with pytest.raises(ValueError, match="'threshold' must be >= 1"):
        DigestPolicy(threshold=0)
    with pytest.raises(ValueError, match=r"only \{n\} \(how many\) may be filled in"):
        DigestPolicy(title="{count} 条")
    with pytest.raises(ValueError, match="title: must be non-empty"):
        DigestPolicy(title=" ")
    assert DigestPolicy(title="{{汇总}} {n}").title.format(n=3) == "{汇总} 3"


def test_batch_and_limit(store: Store) -> None:
    store.enqueue(*(msg(f"m{n}", f"person:p{n}") for n in range(7)))
    clock, robot = Clock(), Recording()
    d = dispatcher(store, robot, clock=clock, batch=3)
    assert [d.run_once().claimed, d.run_once(limit=1).claimed, d.run_once(limit=0).claimed] == [
        3,
        1,
        0,
    ]
    assert d.run_once().claimed == 3
    assert len(robot.sent) == 7


def test_commit_every_groups_outcomes(store: Store) -> None:
    store.enqueue(*(msg(f"m{n}", f"person:p{n}") for n in range(5)))
    clock = Clock()
    seen: list[int] = []

    def count_delivered(message: OutboxMessage) -> None:
        seen.append(store.outbox_counts()["delivered"])

    robot = Recording(on_deliver=count_delivered)
    report = dispatcher(store, robot, clock=clock, commit_every=2).run_once()
    assert report.delivered == 5
    # while a message is sent, the ones before it are committed in pairs
    assert seen == [0, 0, 2, 2, 4]


# -- rate limits ---------------------------------------------------------------------------------


def windows_respected(times: list[float], count: int, seconds: float) -> bool:
    """No span of *seconds* holds more than *count* of *times*."""
    times = sorted(times)
    return all(b - a >= seconds for a, b in zip(times, times[count:], strict=False))


def test_a_rate_limit_defers_what_would_break_it(store: Store) -> None:
    store.enqueue(*(msg(f"m{n:02d}", f"person:p{n}") for n in range(10)))
    clock = Clock()
    robot = Recording(rate_limits=(RateLimit(3, 60),), clock=clock)
    d = dispatcher(store, robot, clock=clock)
    report = d.run_once()
    assert (report.delivered, report.deferred) == (3, 7)
    slots = [
        d.next_attempt.timestamp() - START
        for d in report.deliveries
        if d.outcome == "deferred" and d.next_attempt is not None
    ]
    assert slots == [60, 60, 60, 120, 120, 120, 180]
    assert len(store.attempts()) == 3  # a deferral is no attempt
    assert {i.attempts for i in store.outbox()} == {0}
    while store.outbox_counts()["pending"]:
        clock.advance(10)
        d.run_once()
    assert len(robot.sent) == 10  # nothing dropped, nothing twice
    assert len({m.text for m in robot.sent}) == 10
    assert windows_respected(robot.times, 3, 60)
    assert robot.times[-1] - START == 180


def test_a_short_wait_is_slept_within_the_run(store: Store) -> None:
    store.enqueue(*(msg(f"m{n}", f"person:p{n}") for n in range(12)))
    clock = Clock()
    feishu = (RateLimit(100, 60), RateLimit(5, 1))
    robot = Recording(rate_limits=feishu, clock=clock)
    report = dispatcher(store, robot, clock=clock).run_once()
    assert (report.delivered, report.deferred) == (12, 0)
    assert clock.slept == [1.0, 1.0]
    assert windows_respected(robot.times, 5, 1)


def test_both_limits_are_kept(store: Store) -> None:
    store.enqueue(*(msg(f"m{n:03d}", f"person:p{n}") for n in range(130)))
    clock = Clock()
    robot = Recording(rate_limits=(RateLimit(100, 60), RateLimit(5, 1)), clock=clock)
    d = dispatcher(store, robot, clock=clock, batch=50)
    while store.outbox_counts()["delivered"] < 130:
        d.run_once()
        clock.advance(0.5)
    assert len(robot.sent) == 130
    assert windows_respected(robot.times, 5, 1)
    assert windows_respected(robot.times, 100, 60)


def test_a_new_dispatcher_counts_the_attempts_already_made(store: Store) -> None:
    """A dispatcher started again does not burst past a limit: the log shows the sends."""
    store.enqueue(*(msg(f"m{n}", f"person:p{n}") for n in range(5)))
    clock = Clock()
    limits = (RateLimit(3, 60),)
    first = Recording(rate_limits=limits, clock=clock)
    assert dispatcher(store, first, clock=clock, batch=2).run_once().delivered == 2
    clock.advance(30)
    again = Recording(rate_limits=limits, clock=clock)
    report = dispatcher(store, again, clock=clock).run_once()
    assert (report.delivered, report.deferred) == (1, 2)
    assert [d.next_attempt.timestamp() - START for d in report.deliveries if d.next_attempt] == [
        60,
        60,
    ]


def test_limiter() -> None:
    limiter = Limiter([RateLimit(2, 10), RateLimit(3, 60)])
    assert repr(limiter) == "Limiter(2/10s, 3/60s)"
    assert repr(Limiter()) == "Limiter(unlimited)"
    assert limiter.free_at(0) == 0
    limiter.spend_all([0, 1])
    assert limiter.free_at(2) == 10
    plan = limiter.copy()
    plan.spend(10)
    assert plan.free_at(10) == 60  # the minute's three are spent
    assert limiter.free_at(10) == 10  # the copy is apart
    limiter.spend(5)  # a time before the last is counted as the last (never backwards)
    assert limiter.free_at(0) == 60


# -- digests ------------------------------------------------------------------------------------


def test_a_burst_for_one_recipient_is_one_digest(store: Store) -> None:
    store.enqueue(
        *(msg(f"z{n}") for n in range(7)),
        msg("urgent", urgent=True),
        msg("l0", "person:li"),
        msg("l1", "person:li"),
    )
    clock = Clock()
    robot = Recording(clock=clock)
    report = dispatcher(store, robot, clock=clock).run_once()
    assert [m.title for m in robot.sent] == ["标题urgent", "汇总：7 条通知", "标题l0", "标题l1"]
    digest_message = robot.sent[1]
    assert digest_message.recipient == "person:zhao"
    assert not digest_message.urgent
    assert digest_message.text.splitlines()[:2] == ["1. 标题z0", "正文z0"]
    for n in range(7):
        assert f"{n + 1}. 标题z{n}\n正文z{n}" in digest_message.text
    assert (report.claimed, report.delivered, report.digests) == (10, 10, 1)
    (digest,) = [d for d in report.deliveries if d.carried]
    items = {i.id: i for i in store.outbox(state=None)}
    assert items[digest.id].is_digest
    assert len(digest.carried) == 7
    for carried in digest.carried:
        assert (items[carried].state, items[carried].digest) == ("delivered", digest.id)
        assert items[carried].detail == f"delivered in digest {digest.id}"
    assert store.outbox_counts() == {"pending": 0, "claimed": 0, "delivered": 11, "dead": 0}


def test_a_digest_is_cut_to_the_channels_size(store: Store) -> None:
    store.enqueue(*(msg(f"第{n}条" * 20) for n in range(8)))
    clock = Clock()
    robot = Recording(max_bytes=300)
    dispatcher(
        store, robot, clock=clock, digest=DigestPolicy(threshold=3, title="共{n}条")
    ).run_once()
    (digest,) = robot.sent
    assert digest.title == "共8条"
    assert len(digest.text.encode()) <= 300
    assert digest.text.endswith("…")
    whole = "\n\n".join(
        f"{k}. {m.title}\n{m.text}"
        for k, m in enumerate((msg(f"第{n}条" * 20) for n in range(8)), 1)
    )
    assert digest.text == fit_bytes(whole, 300)


def test_digests_can_be_turned_off(store: Store) -> None:
    store.enqueue(*(msg(f"z{n}") for n in range(7)))
    robot = Recording()
    report = dispatcher(store, robot, clock=Clock(), digest=None).run_once()
    assert (len(robot.sent), report.digests) == (7, 0)


def test_a_failing_digest_is_retried_and_carries_them_when_delivered(store: Store) -> None:
    store.enqueue(*(msg(f"z{n}") for n in range(6)))
    clock = Clock()
    robot = Recording(results=[DeliveryResult.retry("HTTP 503", "503")])
    d = dispatcher(store, robot, clock=clock, backoff=Backoff(jitter="none"))
    (first,) = d.run_once().deliveries
    assert (first.outcome, len(first.carried)) == ("retry", 6)
    assert store.outbox_counts() == {"pending": 1, "claimed": 6, "delivered": 0, "dead": 0}
    clock.advance(30)
    report = d.run_once()
    (second,) = report.deliveries
    assert (second.id, second.outcome, second.attempt) == (first.id, "delivered", 2)
    assert (second.carried, report.delivered, report.digests) == (first.carried, 6, 1)
    # the digest is claimed again as itself, not merged again or split
    assert [m.title for m in robot.sent] == ["汇总：6 条通知"] * 2
    assert store.outbox_counts() == {"pending": 0, "claimed": 0, "delivered": 7, "dead": 0}


def test_a_dead_digest_and_retry_dead(store: Store) -> None:
    store.enqueue(*(msg(f"z{n}") for n in range(6)))
    clock = Clock()
    robot = Recording(results=[DeliveryResult.failed("robot removed", "300001")])
    d = dispatcher(store, robot, clock=clock)
    assert d.run_once().dead == 6
    assert store.outbox_counts()["dead"] == 7
    assert store.requeue_dead(now=dt.datetime.fromtimestamp(clock(), dt.UTC)) == 7
    report = d.run_once()
    assert (report.delivered, report.digests, len(robot.sent)) == (6, 1, 2)


# -- leases ---------------------------------------------------------------------------------------


def test_a_dead_dispatchers_claim_runs_out(store: Store) -> None:
    """A dispatcher that claimed and died: its messages are delivered once its lease ends."""
    store.enqueue(msg("a"), msg("b", "person:li"))
    clock = Clock()
    assert len(store.claim(10, lease=60, now=dt.datetime.fromtimestamp(START, dt.UTC))) == 2
    robot = Recording()
    d = dispatcher(store, robot, clock=clock)
    assert d.run_once().claimed == 0
    clock.advance(60)
    assert d.run_once().delivered == 2


def test_a_slow_batch_hands_back_what_it_cannot_start_within_half_its_lease(store: Store) -> None:
    store.enqueue(*(msg(f"m{n}", f"person:p{n}") for n in range(4)))
    clock = Clock()
    robot = Recording(on_deliver=lambda m: clock.advance(20))  # each takes 20 s
    d = dispatcher(store, robot, clock=clock, lease=60)
    report = d.run_once()
    assert [x.outcome for x in report.deliveries] == [
        "delivered",
        "delivered",
        "deferred",
        "deferred",
    ]
    assert report.deliveries[-1].detail == "the claim's lease ran short"
    assert store.outbox_counts()["pending"] == 2
    assert d.run_once().delivered == 2
    assert len(robot.sent) == 4


def test_a_delivery_after_the_claim_ran_out_is_recorded_and_reported(store: Store) -> None:
    """Dispatcher A is so slow that its claim runs out and B delivers the same message:
    A's delivery still counts (the provider took it), and the log shows the duplicate."""
    store.enqueue(msg("a"))
    clock = Clock()
    other = Recording("robot")
    b = dispatcher(store, other, clock=clock)
    reports: list[DispatchReport] = []

    def meanwhile(message: OutboxMessage) -> None:
        clock.advance(61)
        reports.append(b.run_once())

    a = dispatcher(store, Recording("robot", on_deliver=meanwhile), clock=clock)
    (late,) = a.run_once().deliveries
    ((first,),) = [r.deliveries for r in reports]
    assert (first.outcome, first.recorded) == ("delivered", True)
    assert (late.outcome, late.recorded) == ("delivered", False)
    assert [x.outcome for x in store.attempts()] == ["delivered", "delivered"]
    assert store.outbox_counts()["delivered"] == 1


# -- watching -------------------------------------------------------------------------------------


def test_watch_delivers_what_comes_until_stopped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    robot = Recording()
    stop = threading.Event()
    reports: list[DispatchReport] = []
    failed: list[BaseException] = []

    def watch() -> None:  # a store is used in the thread that opened it
        try:
            with open_store(url) as store:
                Dispatcher(store, {"robot": robot}).watch(stop, 0.01, reports.append)
        except BaseException as exc:
            failed.append(exc)

    open_store(url).close()
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with open_store(url) as writer:
            for n in range(3):
                writer.enqueue(msg(f"m{n}", f"person:p{n}"))
                deadline = time.monotonic() + 30
                while len(robot.sent) <= n and time.monotonic() < deadline and not failed:
                    time.sleep(0.01)
    finally:
        stop.set()
        watcher.join(30)
    assert not failed
    assert not watcher.is_alive()
    assert [m.text for m in robot.sent] == ["正文m0", "正文m1", "正文m2"]
    assert sum(r.delivered for r in reports) == 3


# -- the report -----------------------------------------------------------------------------------


def test_report_json() -> None:
    at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    report = DispatchReport(3, (Delivery(7, "robot", "zhao", "t", "retry", 2, "503", "busy", at),))
    report += DispatchReport(
        1, (Delivery(9, "robot", "li", "汇总", "delivered", 1, carried=(1, 2)),)
    )
    data = report.to_json()
    assert {
        k: data[k] for k in ("claimed", "delivered", "retried", "dead", "deferred", "digests")
    } == {
        "claimed": 4,
        "delivered": 2,
        "retried": 1,
        "dead": 0,
        "deferred": 0,
        "digests": 1,
    }
    assert data["deliveries"][0]["next_attempt"] == "2030-01-01T00:00:00+00:00"
    assert json.loads(json.dumps(data)) == data


# -- dualduty notify -----------------------------------------------------------------------------


class _Pager:
    """A plugin registering one channel."""

    def __init__(self, channel: Recording) -> None:
        self.channel = channel

    @hookimpl
    def dualduty_register_channels(self, register: Callable[[Any], None]) -> None:
        register(self.channel)


@pytest.fixture
def pager(dualduty_plugin: PluginRegistrar) -> Recording:
    channel = Recording("pager")
    dualduty_plugin(_Pager(channel))
    return channel


def test_cli_once_status_and_retry_dead(
    pager: Recording, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    with open_store(url) as store:
        store.enqueue(
            msg("a", channel="pager"),
            msg("急", channel="pager", urgent=True),
            msg("x", channel="fax"),
        )
    assert main(["notify", "--db", url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("delivered #2 pager → person:zhao  标题急")
    assert out[1].startswith("delivered #1 pager → person:zhao  标题a")
    assert out[2].startswith("dead      #3 fax → person:zhao  标题x  — no channel named 'fax'")
    assert out[3] == "notify: 2 delivered, 0 to retry, 1 dead, 0 deferred (3 claimed)"
    assert [m.text for m in pager.sent] == ["正文急", "正文a"]

    assert main(["notify", "--db", url, "--status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{url} outbox: 0 pending, 0 claimed, 2 delivered, 1 dead"
    assert out[1].startswith("dead letters")
    assert out[2].startswith("  #3 fax → person:zhao  标题x  (attempts 1) no channel named 'fax'")

    assert main(["notify", "--db", url, "--retry-dead", "3", "--status", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["requeued"] == 1
    assert data["status"]["counts"] == {"pending": 1, "claimed": 0, "delivered": 2, "dead": 0}
    assert data["status"]["dead"] == []
    assert data["status"]["next_due"] is not None
    assert "report" not in data  # --retry-dead alone does not deliver

    assert main(["notify", "--db", url, "--once", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["report"]["claimed"], data["report"]["dead"]) == (1, 1)


def test_cli_limit(pager: Recording, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    with open_store(url) as store:
        store.enqueue(*(msg(f"m{n}", f"person:p{n}", channel="pager") for n in range(5)))
    assert main(["notify", "--db", url, "--limit", "2", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["report"]["delivered"] == 2
    assert main(["notify", "--db", url, "--once"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("notify: 3 delivered")


def test_cli_status_only_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    with open_store(url) as store:
        store.enqueue(msg("a"))
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["notify", "--db", url, "--status"]) == 0
    assert "1 pending" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == before == ["outbox.db"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "records.db"], "not a store URL: 'records.db'"),
        (["--db", "sqlite:////no/such/dir/x.db"], "the directory '/no/such/dir' does not exist"),
    ],
)
def test_cli_bad_store(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notify", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_cli_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--once", "--watch"], ["--limit", "0"], ["--poll", "-1"], ["--poll", "x"]):
        with pytest.raises(SystemExit) as info:
            main(["notify", "--db", "memory:", *args])
        assert info.value.code == 2
    err = capsys.readouterr().err
    assert "not allowed with argument" in err
    assert "must be >= 1, got 0" in err
    assert "must be > 0 seconds, got -1" in err
    assert "not a number of seconds: 'x'" in err


class _ChannelTypes:
    """A plugin registering the console and webhook channel types."""

    @hookimpl
    def dualduty_register_channel_types(self, register: Callable[[Any], None]) -> None:
        from dualduty.notify.channels import ConsoleChannelType
        from dualduty.notify.webhook import WebhookChannelType

        register(ConsoleChannelType())
        register(WebhookChannelType())


def test_cli_channels_from_the_district_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    district_data: dict[str, Any],
    dualduty_plugin: PluginRegistrar,
) -> None:
    """--org adds the district file's [notify.channels.*]; their problems exit 2."""
    dualduty_plugin(_ChannelTypes())
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps({**district_data, "notify": {"channels": {"duty-log": {"type": "console"}}}}),
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    with open_store(url) as store:
        store.enqueue(msg("a", channel="duty-log"))
    assert main(["notify", "--db", url, "--org", str(good)]) == 0
    assert capsys.readouterr().out.startswith("delivered #1 duty-log")

    bad = tmp_path / "bad.json"
    office = {"type": "webhook", "secret": "plain-secret-123"}
    bad.write_text(
        json.dumps({**district_data, "notify": {"channels": {"office": office}}}),
        encoding="utf-8",
    )
    assert main(["notify", "--db", url, "--org", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "notify.channels.office.url: missing" in err
    assert "notify.channels.office.secret" in err
    assert "plain-secret-123" not in err
    assert "Traceback" not in err


def test_cli_watch_stops_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    with open_store(url) as store:
        store.enqueue(msg("a", channel="console"))
    env = {**os.environ, "DUALDUTY_LOAD_PLUGINS": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "dualduty", "notify", "--db", url, "--watch", "--poll", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith(f"watching {url} (channels: console)")
        assert process.stdout.readline().startswith("delivered #1 console → person:zhao")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out.splitlines()[-1] == "stopped"
    with open_store(url, readonly=True) as store:
        assert store.outbox_counts()["delivered"] == 1


def test_evolve_keeps_reports_frozen() -> None:
    d = Delivery(1, "c", "r", "t", "delivered", 1)
    assert attrs.evolve(d, recorded=False).recorded is False
    assert d.messages == 1
    assert attrs.evolve(d, carried=(1, 2, 3)).messages == 3
