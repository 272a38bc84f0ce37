"""The robots through dualduty's outbox dispatcher (dualduty.notify.dispatch).

500 notifications to one robot: the dispatcher keeps the channel's ``rate_limits``, the
stand-in never throttles, every notification arrives once. The dispatcher, the channel
and the robot share a :class:`ManualClock`; the dispatcher's ``sleep`` moves it, and the
test moves it to the next due message between runs, so no real minutes pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from dualduty_im.testing import ManualClock, RobotServer

from dualduty.notify import OutboxMessage
from dualduty.notify.dispatch import DigestPolicy, Dispatcher
from dualduty.storage import Store, open_store

from .conftest import DINGTALK, FEISHU, Connect, Provider


@pytest.fixture
def clock() -> ManualClock:
    """Now: the store dates what it enqueues by the real clock."""
    return ManualClock()


@pytest.fixture
def store() -> Iterator[Store]:
    with open_store("memory:") as store:
        yield store


def at(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def drain(dispatcher: Dispatcher, store: Store, clock: ManualClock) -> int:
    """Run the dispatcher until nothing is pending; the number of runs."""
    runs = 0
    while store.outbox("pending"):
        runs += 1
        assert runs < 1000, "the dispatcher makes no progress"
        if not dispatcher.run_once().claimed:
            due = min(item.next_attempt.timestamp() for item in store.outbox("pending"))
            clock.advance(max(due - clock(), 0.001))
    return runs


def test_500_notifications_through_the_dispatcher(
    provider: Provider, robot: RobotServer, connect: Connect, clock: ManualClock, store: Store
) -> None:
    channel = connect()
    messages = [
        OutboxMessage("office-robot", f"p{i % 7}", f"第{i:03d}条提醒", "明天督查", key=f"r:{i}")
        for i in range(500)
    ]
    assert store.enqueue(*messages, due=at(clock())) == 500
    start = clock()
    dispatcher = Dispatcher(
        store, {"office-robot": channel}, clock=clock, sleep=clock.advance, digest=None
    )
    drain(dispatcher, store, clock)
    assert store.outbox_counts()["delivered"] == 500
    assert [a.code for a in robot.answers] == [0] * 500, "the robot never throttled"
    titles = sorted(r.content.split("\n")[0] for r in robot.received)
    assert titles == [f"第{i:03d}条提醒" for i in range(500)], "each arrived once"
    # as fast as the limits allow: the last at 24:00 (20 a minute), or at 4:19 (Feishu)
    assert clock() - start == pytest.approx(259.0 if provider is FEISHU else 1440.0, abs=1.0)


@pytest.mark.parametrize("provider", [DINGTALK], ids=["dingtalk"])
def test_a_throttled_robot_is_retried_after_its_lock_out(
    robot: RobotServer, connect: Connect, clock: ManualClock, store: Store
) -> None:
    """A robot that throttles anyway (another system posts through it too): the message
    waits out DingTalk's 10 minutes and is then delivered, once."""
    robot.fail_next(code=130101, message="send too fast, exceed 20 times per minute")
    store.enqueue(OutboxMessage("office-robot", "office", "重大隐患", "立即上报", key="h:1"))
    dispatcher = Dispatcher(store, {"office-robot": connect()}, clock=clock, sleep=clock.advance)
    start = clock()
    drain(dispatcher, store, clock)
    assert [a.code for a in robot.answers] == [130101, 0]
    assert robot.answers[1].at - start >= 600
    assert len(robot.received) == 1


@pytest.mark.parametrize("provider", [DINGTALK], ids=["dingtalk"])
def test_a_refused_message_is_dead_not_delivered(
    robot: RobotServer, connect: Connect, clock: ManualClock, store: Store
) -> None:
    """HTTP 200 with DingTalk's "token is not exist": dead, with the code; never sent."""
    robot.refuse(code=300005, message="token is not exist")
    store.enqueue(OutboxMessage("office-robot", "office", "重大隐患", "立即上报", key="h:1"))
    dispatcher = Dispatcher(store, {"office-robot": connect()}, clock=clock, sleep=clock.advance)
    drain(dispatcher, store, clock)
    (dead,) = store.outbox("dead")
    assert dead.provider_code == "300005"
    assert "token" in dead.detail
    assert store.outbox("delivered") == []
    assert robot.received == []


@pytest.mark.parametrize("provider", [DINGTALK], ids=["dingtalk"])
def test_a_burst_arrives_as_one_digest(
    robot: RobotServer, connect: Connect, clock: ManualClock, store: Store
) -> None:
    store.enqueue(
        *(
            OutboxMessage("office-robot", "office", f"提醒{i}", f"第{i}条", key=f"d:{i}")
            for i in range(8)
        ),
        due=at(clock()),
    )
    dispatcher = Dispatcher(
        store, {"office-robot": connect()}, clock=clock, sleep=clock.advance, digest=DigestPolicy()
    )
    drain(dispatcher, store, clock)
    (digest,) = robot.received
    assert digest.content.startswith("汇总：8 条通知\n1. 提醒0\n第0条")
    assert store.outbox_counts()["delivered"] >= 8
