"""The outbox dispatcher: claims due notifications, delivers them through their channels,
and records every attempt.

A notification is written to the outbox in the same transaction as the record that
caused it (or with :meth:`Store.enqueue() <dualduty.storage.Store.enqueue>`), and a
:class:`Dispatcher` delivers it later — ``dualduty notify --once`` from cron, or
``--watch`` as a service. Each run of :meth:`Dispatcher.run_once`:

1. claims up to ``batch`` due messages, urgent first, for a *lease* (``lease`` seconds):
   the claim is committed before anything is sent, so two dispatchers, in any
   processes, never both hold a message; a dispatcher killed mid-batch leaves its
   messages claimed until the lease runs out, when any dispatcher claims them again;
2. merges more than ``digest.threshold`` non-urgent messages for one recipient of one
   channel into one digest message (汇总), which carries them;
3. delivers each through its channel, keeping the channel's rate limits
   (:mod:`dualduty.notify.ratelimit`): a message that would break one waits, within the
   batch if the wait is short, else it goes back to the outbox due when a token is free;
4. records each attempt in the attempts log and settles the message: ``delivered``;
   ``pending`` again at a time the :class:`Backoff` gives (at least the provider's
   ``Retry-After``) when the failure is worth another try; ``dead`` (the dead letters,
   ``dualduty notify --retry-dead`` queues them again) when it is not, after
   ``max_attempts`` attempts, or when no channel has the message's name.

**Idempotency.** The outbox holds one message per idempotency key, in any state, so a
notification is queued once. It is then sent more than once only in one window: after
the provider accepted it and before the commit that records it ``delivered`` — if the
dispatcher dies (or its lease runs out) in between, the message is claimed again and
sent again. With ``commit_every=1`` (the default) that window holds at most one message
per dispatcher; a larger ``commit_every`` commits less often, and the window holds up to
that many. Every delivery is in the attempts log, so a duplicate shows there as a second
``delivered`` attempt; receivers that want exactly once can drop repeats by the key (the
``webhook`` channel sends it as ``Idempotency-Key``).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from dualduty.storage import OutboxItem, OutboxMessage, Settlement, Store

from . import Channel, DeliveryResult, fit_bytes
from .ratelimit import Limiter

__all__ = ["Backoff", "Delivery", "DigestPolicy", "DispatchReport", "Dispatcher"]

_log = logging.getLogger("dualduty.notify.dispatch")

_JITTERS = ("full", "decorrelated", "none")


@attrs.frozen
class Backoff:
    """How long to wait before trying a failed message again: exponential, capped, with
    jitter so that many messages failing together do not come back together.

    The *n*-th retry waits up to ``base * factor ** (n - 1)`` seconds, never more than
    ``max``:

    - ``jitter="full"``: a random time between 0 and that;
    - ``"decorrelated"``: a random time between ``base`` and three times the wait before,
      capped at ``max`` (AWS's "decorrelated jitter");
    - ``"none"``: exactly that.

    >>> import random
    >>> from dualduty.notify.dispatch import Backoff
    >>> rng = random.Random(0)
    >>> [Backoff(jitter="none").delay(n, rng) for n in (1, 2, 3, 8, 20)]
    [30.0, 60.0, 120.0, 3600.0, 3600.0]
    >>> 0 <= Backoff().delay(3, rng) <= 120
    True
    """

    base: float = attrs.field(default=30.0, converter=float, validator=attrs.validators.gt(0))
    """Seconds before the first retry (without jitter)."""
    factor: float = attrs.field(default=2.0, converter=float, validator=attrs.validators.ge(1))
    """How much longer each wait is than the one before."""
    max: float = attrs.field(default=3600.0, converter=float)
    """The longest wait, in seconds."""
    jitter: str = attrs.field(default="full", validator=attrs.validators.in_(_JITTERS))
    """``"full"``, ``"decorrelated"`` or ``"none"``."""

    @max.validator
    def _check_max(self, _: object, value: float) -> None:
        if not value >= self.base:
            raise ValueError(f"max must be >= base ({self.base:g} s), got {value:g}")

    def nominal(self, attempt: int) -> float:
        """The wait after failed attempt *attempt* (from 1) without jitter."""
        steps = max(attempt - 1, 0)
        if self.factor > 1 and steps > math.log(self.max / self.base, self.factor):
            return self.max
        return min(self.max, self.base * self.factor**steps)

    def delay(self, attempt: int, rng: random.Random, previous: float | None = None) -> float:
        """Seconds to wait after failed attempt *attempt* (from 1).

        :param rng: the random numbers for the jitter (seed it for repeatable runs).
        :param previous: for ``"decorrelated"``, the wait before this attempt, if any.
        """
        cap = self.nominal(attempt)
        if self.jitter == "none":
            return cap
        if self.jitter == "full":
            return rng.uniform(0.0, cap)
        before = self.base if previous is None or previous <= 0 else previous
        return min(self.max, rng.uniform(self.base, max(self.base, 3 * before)))


@attrs.frozen
class DigestPolicy:
    """When and how bursts are merged into one digest message (汇总).

    When more than *threshold* non-urgent messages for the same recipient of the same
    channel are claimed at once, they are sent as one message titled *title* (``{n}``:
    how many) whose text is their titles and texts, numbered, cut to the channel's
    ``max_bytes``. Each is then ``delivered`` with the digest's id as its ``digest``.
    Urgent messages are never merged.

    >>> from dualduty.notify.dispatch import DigestPolicy
    >>> DigestPolicy().title.format(n=7)
    '汇总：7 条通知'
    """

    threshold: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    """Merge when more than this many are claimed together."""
    title: str = attrs.field(default="汇总：{n} 条通知")
    """The digest's title; ``{n}`` is replaced by how many it carries."""

    @title.validator
    def _check_title(self, _: object, value: str) -> None:
        try:
            shown = value.format(n=2)
        except (KeyError, IndexError, ValueError):
            raise ValueError(
                f"title {value!r}: only {{n}} (how many) may be filled in; write {{{{ and }}}} "
                "for braces"
            ) from None
        if not shown.strip():
            raise ValueError("title: must be non-empty text")


@attrs.frozen
class Delivery:
    """What became of one claimed message in a run (an entry of :class:`DispatchReport`)."""

    id: int
    """The outbox message's id (a digest's own id for a digest)."""
    channel: str
    recipient: str
    title: str
    outcome: str
    """``delivered``; ``retry`` (pending again at ``next_attempt``); ``dead``; or
    ``deferred``: not tried, back in the outbox until ``next_attempt`` (a rate limit, or
    the claim's lease running short)."""
    attempt: int
    """The attempt's number (0 when deferred)."""
    provider_code: str | None = None
    detail: str = ""
    next_attempt: dt.datetime | None = None
    carried: tuple[int, ...] = ()
    """For a digest: the ids of the messages it carries."""
    recorded: bool = True
    """``False`` when the claim had run out and another dispatcher held the message by
    the time this one recorded the outcome (only a delivery is recorded then)."""

    @property
    def messages(self) -> int:
        """How many queued messages this stands for (a digest: those it carries)."""
        return len(self.carried) or 1

    def to_json(self) -> dict[str, Any]:
        """As JSON data."""
        return {
            "id": self.id,
            "channel": self.channel,
            "recipient": self.recipient,
            "title": self.title,
            "outcome": self.outcome,
            "attempt": self.attempt,
            "provider_code": self.provider_code,
            "detail": self.detail,
            "next_attempt": None if self.next_attempt is None else self.next_attempt.isoformat(),
            "carried": list(self.carried),
            "recorded": self.recorded,
        }


@attrs.frozen
class DispatchReport:
    """What one or more runs of the dispatcher did."""

    claimed: int = 0
    """How many outbox rows were claimed (digests not counted)."""
    deliveries: tuple[Delivery, ...] = ()

    def _count(self, outcome: str) -> int:
        return sum(d.messages for d in self.deliveries if d.outcome == outcome)

    @property
    def delivered(self) -> int:
        """Queued messages delivered (a digest counts the messages it carried)."""
        return self._count("delivered")

    @property
    def retried(self) -> int:
        """Queued messages to be tried again later."""
        return self._count("retry")

    @property
    def dead(self) -> int:
        """Queued messages given up (dead letters)."""
        return self._count("dead")

    @property
    def deferred(self) -> int:
        """Queued messages put back untried (rate limits, a lease running short)."""
        return self._count("deferred")

    @property
    def digests(self) -> int:
        """Digest messages sent or tried."""
        return sum(1 for d in self.deliveries if d.carried)

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(self.claimed + other.claimed, self.deliveries + other.deliveries)

    def to_json(self) -> dict[str, Any]:
        """As JSON data."""
        return {
            "claimed": self.claimed,
            "delivered": self.delivered,
            "retried": self.retried,
            "dead": self.dead,
            "deferred": self.deferred,
            "digests": self.digests,
            "deliveries": [d.to_json() for d in self.deliveries],
        }


class Dispatcher:
    """Delivers the due messages of a store's outbox through channels.

    :param store: the store whose outbox to deliver.
    :param channels: the channels by name (a message goes to the channel its
        ``channel`` names; one no channel has is dead).
    :param clock: the time, in seconds since the epoch (default ``time.time``).
    :param sleep: waits so many seconds (default ``time.sleep``); called for short
        waits on a rate limit. Tests give both a clock of their own.
    :param backoff: the retry schedule.
    :param rng: the random numbers of the backoff's jitter (seed it for repeatable runs).
    :param max_attempts: a message still failing after this many attempts is dead.
    :param lease: seconds a claim holds the claimed messages. Messages not tried when half
        of it has passed go back to the outbox (``deferred``), so that a slow batch never
        outlives its claim; make it well longer than the slowest channel's time-out.
    :param batch: the most messages one run claims.
    :param digest: when to merge bursts into digests; ``None`` never merges.
    :param max_wait: the longest wait, in seconds, for a rate limit within a run; a message
        that would wait longer goes back to the outbox, due when its channel has a token.
    :param commit_every: record outcomes in transactions of this many (see the module's
        note on idempotency: it is also how many messages may be sent twice if the
        dispatcher dies).
    """

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        max_attempts: int = 8,
        lease: float = 60.0,
        batch: int = 200,
        digest: DigestPolicy | None = DigestPolicy(),
        max_wait: float = 1.0,
        commit_every: int = 1,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        if not lease > 0:
            raise ValueError(f"lease must be > 0 seconds, got {lease}")
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        if not max_wait >= 0:
            raise ValueError(f"max_wait must be >= 0 seconds, got {max_wait}")
        if commit_every < 1:
            raise ValueError(f"commit_every must be >= 1, got {commit_every}")
        self.store = store
        self.channels: dict[str, Channel] = dict(channels)
        self.clock: Callable[[], float] = clock or time.time
        self.sleep: Callable[[float], None] = sleep or time.sleep
        self.backoff = backoff or Backoff()
        self.rng = rng or random.Random()
        self.max_attempts = max_attempts
        self.lease = float(lease)
        self.batch = batch
        self.digest = digest
        self.max_wait = float(max_wait)
        self.commit_every = commit_every
        self._limiters: dict[str, Limiter | None] = {}
        # For each channel out of tokens: the sends planned ahead, those of messages put
        # back with a time, so that the next ones put back come after them.
        self._ahead: dict[str, Limiter] = {}

    def __repr__(self) -> str:
        return f"<Dispatcher {self.store.url} channels={sorted(self.channels)}>"

    # -- running ---------------------------------------------------------------------

    def run_once(self, limit: int | None = None) -> DispatchReport:
        """Claim the due messages (at most ``batch``, or *limit*), deliver them and record
        each attempt; return what happened."""
        size = self.batch if limit is None else min(self.batch, limit)
        if size <= 0:
            return DispatchReport()
        now = self.clock()
        items = self.store.claim(size, lease=self.lease, now=_datetime(now))
        if not items:
            return DispatchReport()
        run = _Run(self, now + self.lease / 2)
        plan = self._plan(items)
        for k, (item, carried) in enumerate(plan):
            if self.clock() >= run.deadline:
                for late, late_carried in plan[k:]:
                    run.defer(late, late_carried, self.clock(), "the claim's lease ran short")
                break
            self._deliver(run, item, carried)
        run.flush()
        return DispatchReport(len(items), tuple(run.deliveries))

    def watch(
        self,
        stop: threading.Event,
        poll: float = 1.0,
        on_report: Callable[[DispatchReport], None] | None = None,
        before_run: Callable[[], object] | None = None,
    ) -> None:
        """Run until *stop* is set: a run, then, unless it claimed a full batch, a wait of
        *poll* seconds (cut short when *stop* is set).

        :param on_report: called with the report of every run that claimed something.
        :param before_run: called before every run (``dualduty notify --watch --remind``
            queues the reminders that fell due).
        """
        while not stop.is_set():
            if before_run is not None:
                before_run()
            report = self.run_once()
            if report.claimed and on_report is not None:
                on_report(report)
            if report.claimed < self.batch:
                stop.wait(poll)

    # -- planning a batch --------------------------------------------------------------

    def _plan(self, items: Sequence[OutboxItem]) -> list[tuple[OutboxItem, tuple[int, ...]]]:
        """The claimed *items* in delivery order, bursts merged into digests: urgent
        first, then as claimed; a digest where the first message it carries was."""
        held = self._carried(items)
        plan: list[tuple[OutboxItem, tuple[int, ...]]] = [
            (i, held.get(i.id, ())) for i in items if i.message.urgent
        ]
        rest = [i for i in items if not i.message.urgent]
        policy = self.digest
        groups: dict[tuple[str, str], list[OutboxItem]] = {}
        if policy is not None:
            for item in rest:
                if not item.is_digest and item.message.channel in self.channels:
                    groups.setdefault((item.message.channel, item.message.recipient), []).append(
                        item
                    )
        merged: dict[int, tuple[OutboxItem, tuple[int, ...]]] = {}
        skip: set[int] = set()
        for (name, _), group in groups.items():
            if policy is None or len(group) <= policy.threshold:
                continue
            digest = self.store.merge(group, self._digest_message(group, self.channels[name]))
            if digest is None:  # the claim ran out meanwhile: deliver them one by one
                continue
            merged[group[0].id] = (digest, tuple(i.id for i in group))
            skip.update(i.id for i in group)
        for item in rest:
            if item.id in merged:
                plan.append(merged[item.id])
            elif item.id not in skip:
                plan.append((item, held.get(item.id, ())))
        return plan

    def _carried(self, items: Sequence[OutboxItem]) -> dict[int, tuple[int, ...]]:
        """The messages each claimed digest carries (one claimed before, tried again)."""
        digests = {i.id for i in items if i.is_digest}
        if not digests:
            return {}
        found: dict[int, list[int]] = {}
        for item in self.store.outbox(state="claimed"):
            if item.digest in digests and not item.is_digest:
                found.setdefault(item.digest, []).append(item.id)
        return {digest: tuple(ids) for digest, ids in found.items()}

    def _digest_message(self, group: Sequence[OutboxItem], channel: Channel) -> OutboxMessage:
        assert self.digest is not None
        first = group[0].message
        texts = [f"{k}. {i.message.title}\n{i.message.text}" for k, i in enumerate(group, 1)]
        text = "\n\n".join(texts)
        markdown = None
        if any(i.message.markdown for i in group):
            markdown = "\n\n".join(
                f"**{k}. {i.message.title}**\n\n{i.message.markdown or i.message.text}"
                for k, i in enumerate(group, 1)
            )
        max_bytes = getattr(channel, "max_bytes", None)
        if isinstance(max_bytes, int) and max_bytes >= 16:  # (16: room for a few characters)
            text = fit_bytes(text, max_bytes)
            markdown = fit_bytes(markdown, max_bytes) if markdown is not None else None
        return OutboxMessage(
            first.channel,
            first.recipient,
            self.digest.title.format(n=len(group)),
            text,
            markdown,
        )

    # -- delivering one ----------------------------------------------------------------

    def _limiter(self, name: str, channel: Channel, now: float) -> Limiter | None:
        """The channel's rate limits, counting the attempts the log shows within the
        longest of them (a dispatcher started again does not burst past a limit)."""
        if name in self._limiters:
            return self._limiters[name]
        limits = tuple(getattr(channel, "rate_limits", ()) or ())
        limiter = None
        if limits:
            limiter = Limiter(limits)
            since = _datetime(now - max(limit.seconds for limit in limits))
            limiter.spend_all(
                a.at.timestamp() for a in self.store.attempts(channel=name, since=since)
            )
        self._limiters[name] = limiter
        return limiter

    def _deliver(self, run: _Run, item: OutboxItem, carried: tuple[int, ...]) -> None:
        name = item.message.channel
        channel = self.channels.get(name)
        attempt = item.attempts + 1
        if channel is None:
            known = ", ".join(sorted(self.channels)) or "none"
            detail = f"no channel named {name!r} is configured (known: {known})"
            run.settle(item, carried, "dead", at=self.clock(), attempt=attempt, detail=detail)
            return
        limiter = self._limiter(name, channel, self.clock())
        if limiter is not None:
            now = self.clock()
            free = limiter.free_at(now)
            if free > now:
                if free - now <= self.max_wait and free < run.deadline:
                    run.flush()  # commit what is done before waiting
                    self.sleep(free - now)
                else:
                    run.defer(
                        item, carried, self._slot(name, limiter, free), f"rate limit of {name}"
                    )
                    return
        at = self.clock()
        if limiter is not None:
            limiter.spend(at)
        started = time.perf_counter()
        try:
            result: object = channel.deliver(item.message)
        except Exception as exc:  # a channel's failure, never a secret: only its type
            result = DeliveryResult.retry(f"the channel raised {type(exc).__name__}")
        duration = time.perf_counter() - started
        if not isinstance(result, DeliveryResult):
            result = DeliveryResult.retry(
                f"the channel returned {type(result).__name__}, not a DeliveryResult"
            )
        detail = result.detail
        retry_at = None
        if result.delivered:
            outcome = "delivered"
        elif not result.retryable:
            outcome = "dead"
        elif attempt >= self.max_attempts:
            outcome, detail = "dead", f"gave up after {attempt} attempts: {detail}"
        else:
            outcome = "retry"
            wait = self.backoff.delay(attempt, self.rng, self._previous_wait(item))
            if result.retry_after is not None:
                wait = max(wait, result.retry_after)
            retry_at = at + wait
        run.settle(
            item,
            carried,
            outcome,
            at=at,
            attempt=attempt,
            code=result.provider_code,
            detail=detail,
            duration=duration,
            retry_at=retry_at,
        )

    def _slot(self, name: str, limiter: Limiter, free: float) -> float:
        """When a message put back now may be sent: the first time from *free* on that
        no message put back before has been given."""
        ahead = self._ahead.get(name)
        last = None if ahead is None else ahead.last()
        if ahead is None or last is None or last < free:
            ahead = self._ahead[name] = limiter.copy()
        slot = ahead.free_at(free)
        ahead.spend(slot)
        return slot

    def _previous_wait(self, item: OutboxItem) -> float | None:
        """The wait before this attempt, for decorrelated jitter (from the attempts log)."""
        if self.backoff.jitter != "decorrelated" or item.attempts == 0:
            return None
        log = self.store.attempts(item.id)
        if not log:
            return None
        return (item.next_attempt - log[-1].at).total_seconds()


class _Run:
    """The state of one run: outcomes waiting for their commit, what was reported."""

    def __init__(self, dispatcher: Dispatcher, deadline: float) -> None:
        self.d = dispatcher
        self.deadline = deadline
        self.pending: list[tuple[Settlement, Delivery]] = []
        self.deliveries: list[Delivery] = []

    def settle(
        self,
        item: OutboxItem,
        carried: tuple[int, ...],
        outcome: str,
        *,
        at: float,
        attempt: int,
        code: str | None = None,
        detail: str = "",
        duration: float = 0.0,
        retry_at: float | None = None,
    ) -> None:
        settlement = Settlement(
            item.id,
            item.claim,
            outcome,
            _us(at),
            0 if retry_at is None else _us(retry_at),
            attempt,
            code,
            detail,
            max(0, round(duration * 1_000_000)),
        )
        delivery = Delivery(
            item.id,
            item.message.channel,
            item.message.recipient,
            item.message.title,
            outcome,
            attempt,
            code,
            detail,
            None if retry_at is None else _datetime(retry_at),
            carried,
        )
        self._add(settlement, delivery)

    def defer(self, item: OutboxItem, carried: tuple[int, ...], until: float, why: str) -> None:
        settlement = Settlement(item.id, item.claim, "release", _us(until), _us(until))
        delivery = Delivery(
            item.id,
            item.message.channel,
            item.message.recipient,
            item.message.title,
            "deferred",
            0,
            detail=why,
            next_attempt=_datetime(until),
            carried=carried,
        )
        self._add(settlement, delivery)

    def _add(self, settlement: Settlement, delivery: Delivery) -> None:
        self.pending.append((settlement, delivery))
        if len(self.pending) >= self.d.commit_every:
            self.flush()

    def flush(self) -> None:
        """Commit the outcomes waiting."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        applied = self.d.store.settle([s for s, _ in pending])
        for (_, done), ok in zip(pending, applied, strict=True):
            delivery = done if ok else attrs.evolve(done, recorded=False)
            if not ok:
                _log.warning(
                    "outbox message %d: its claim ran out before the outcome (%s) was "
                    "recorded; another dispatcher holds it",
                    delivery.id,
                    delivery.outcome,
                )
            else:
                _log.info(
                    "outbox message %d → %s %s: %s%s",
                    delivery.id,
                    delivery.channel,
                    delivery.recipient,
                    delivery.outcome,
                    f" ({delivery.detail})" if delivery.detail else "",
                )
            self.deliveries.append(delivery)


def _us(t: float) -> int:
    """Seconds since the epoch as whole microseconds."""
    return round(t * 1_000_000)


def _datetime(t: float) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=_us(t))
