"""500 messages to one robot keep to its rate limits: the stand-in never throttles them.

No real minutes pass: the robot and the sender share a :class:`ManualClock`, and the
sender moves it forward instead of sleeping. The sender keeps every
:class:`~dualduty.notify.RateLimit` the channel declares with the dispatcher's limiter
(:class:`dualduty.notify.ratelimit.Limiter`: at most ``count`` messages in any
``seconds``), which is what the robots count. test_dispatcher.py sends them through the
dispatcher itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from dualduty_im import RobotChannel
from dualduty_im.testing import ManualClock, RobotServer

from dualduty.notify import RateLimit
from dualduty.notify.ratelimit import Limiter

from .conftest import FEISHU, Connect, Provider, message


class SlidingWindows:
    """The dispatcher's :class:`~dualduty.notify.ratelimit.Limiter`, waiting by moving
    *clock* to when one more message keeps every limit."""

    def __init__(self, limits: Sequence[RateLimit], clock: ManualClock) -> None:
        self.limiter = Limiter(limits)
        self.clock = clock

    def wait(self) -> None:
        now = self.clock()
        self.clock.advance(self.limiter.free_at(now) - now)
        self.limiter.spend(self.clock())


class FullBucket:
    """A token bucket of ``count`` tokens that starts full and refills ``count`` per
    ``seconds`` (the first limit only)."""

    def __init__(self, limit: RateLimit, clock: ManualClock) -> None:
        self.rate = limit.count / limit.seconds
        self.capacity = float(limit.count)
        self.tokens = self.capacity
        self.clock = clock
        self.at = clock()

    def wait(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            self.clock.advance((1 - self.tokens) / self.rate)
            self.at = self.clock()
            self.tokens = 1.0
        self.tokens -= 1


def send_all(channel: RobotChannel, wait: SlidingWindows | FullBucket, count: int) -> int:
    """Send *count* messages through *wait*; the number of refusals."""
    refused = 0
    for i in range(count):
        wait.wait()
        result = channel.deliver(message(f"第{i:03d}条提醒", key=f"reminder:{i}"))
        refused += not result.delivered
    return refused


def test_declared_limits(provider: Provider, connect: Connect) -> None:
    channel = connect()
    expected = (RateLimit(100, 60), RateLimit(5, 1)) if provider is FEISHU else (RateLimit(20, 60),)
    assert tuple(channel.rate_limits) == expected


def test_500_messages_keep_to_the_limits(
    provider: Provider, robot: RobotServer, connect: Connect, clock: ManualClock
) -> None:
    channel = connect()
    start = clock()
    refused = send_all(channel, SlidingWindows(channel.rate_limits, clock), 500)
    assert refused == 0
    assert [a.code for a in robot.answers] == [0] * 500, "the robot never throttled"
    assert [r.content.split("\n")[0] for r in robot.received] == [
        f"第{i:03d}条提醒" for i in range(500)
    ]
    # and no slower than needed: at 20 a minute, 20 at once and each next 20 a minute
    # later (the last at 24:00); Feishu, 100 a minute at 5 a second (the last at 4:19)
    assert clock() - start == pytest.approx(259.0 if provider is FEISHU else 1440.0)


@pytest.mark.parametrize("provider", [FEISHU], ids=["feishu"])
def test_feishu_keeps_both_limits(robot: RobotServer, connect: Connect, clock: ManualClock) -> None:
    """Five a second and a hundred a minute, both: no second holds more than five."""
    channel = connect()
    send_all(channel, SlidingWindows(channel.rate_limits, clock), 120)
    times = [r.at for r in robot.received]
    assert len(times) == 120
    assert max(sum(1 for t in times if s <= t < s + 1) for s in times) == 5
    assert max(sum(1 for t in times if s <= t < s + 60) for s in times) == 100


def test_a_bucket_that_starts_full_is_throttled(
    provider: Provider, robot: RobotServer, connect: Connect, clock: ManualClock
) -> None:
    """A token bucket of ``count`` tokens that starts full lets up to ``2 × count − 1``
    through in the first window: a robot that counts per minute refuses the excess. The
    stand-in counts that way too, so it catches such a rate limiter."""
    channel = connect()
    limit = channel.rate_limits[0]
    refused = send_all(channel, FullBucket(limit, clock), 2 * limit.count)
    assert refused > 0
    assert any(a.code == provider.throttle_code for a in robot.answers)
