"""Rate limits the dispatcher keeps for a channel (``channel.rate_limits``).

Each :class:`~dualduty.notify.RateLimit` (*count* per *seconds*) is a bucket of *count*
tokens: sending a message spends one token of every bucket of its channel, and a spent
token comes back *seconds* after it was spent. So no span of *seconds* ever holds more
than *count* messages of the channel — stricter than a bucket refilled at a steady rate,
which lets a full burst be followed at once by more (21 messages within a minute for a
robot that takes 20). DingTalk and WeCom robots: ``RateLimit(20, 60)``; a Feishu robot:
``RateLimit(100, 60)`` and ``RateLimit(5, 1)``, both kept.

>>> from dualduty.notify import RateLimit
>>> from dualduty.notify.ratelimit import Limiter
>>> robot = Limiter([RateLimit(2, 60)])
>>> robot.free_at(0.0)
0.0
>>> robot.spend(0.0)
>>> robot.spend(10.0)
>>> robot.free_at(20.0)  # both tokens spent: the first comes back at 60
60.0
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from . import RateLimit

__all__ = ["Limiter"]


class Limiter:
    """The rate limits of one channel, kept together (times in seconds, any clock).

    :param limits: the channel's limits; none means no limit.
    """

    def __init__(self, limits: Sequence[RateLimit] = ()) -> None:
        self.limits: tuple[RateLimit, ...] = tuple(limits)
        # the times of the last `count` sends, oldest first, for each limit
        self._spent: list[deque[float]] = [deque(maxlen=limit.count) for limit in self.limits]

    def __repr__(self) -> str:
        shown = ", ".join(f"{limit.count}/{limit.seconds:g}s" for limit in self.limits)
        return f"Limiter({shown or 'unlimited'})"

    def free_at(self, now: float) -> float:
        """The earliest time from *now* on at which a message may be sent."""
        at = now
        for limit, spent in zip(self.limits, self._spent, strict=True):
            if len(spent) == limit.count:
                at = max(at, spent[0] + limit.seconds)
        return at

    def spend(self, at: float) -> None:
        """Count a message sent at *at* (never earlier than one counted before)."""
        for spent in self._spent:
            spent.append(max(at, spent[-1]) if spent else at)

    def spend_all(self, times: Iterable[float]) -> None:
        """Count messages sent at *times* (in order): those a log shows, when starting."""
        for at in times:
            self.spend(at)

    def last(self) -> float | None:
        """The time of the last message counted (``None`` before any)."""
        times = [spent[-1] for spent in self._spent if spent]
        return max(times) if times else None

    def copy(self) -> Limiter:
        """An independent copy, to plan ahead with."""
        twin = Limiter(self.limits)
        twin._spent = [deque(spent, maxlen=spent.maxlen) for spent in self._spent]
        return twin
