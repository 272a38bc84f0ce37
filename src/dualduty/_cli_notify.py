"""``dualduty notify``: deliver the outbox (the dispatcher, :mod:`dualduty.notify.dispatch`).

``dualduty notify --db URL [--org FILE] [--once | --watch [--poll S]] [--limit N]
[--retry-dead [ID ...]] [--status] [--format text|json]``

- ``--once`` (the default): deliver what is due now, then exit — for cron;
- ``--watch``: keep delivering until interrupted (Ctrl-C, SIGTERM) — for a service;
- ``--retry-dead``: queue the dead letters (all, or those IDs) again first;
- ``--status``: how many messages are in each state, and the dead ones with why; alone,
  it only reads the store.

The channels are the ones plugins register and, with ``--org``, the district file's
``[notify.channels.*]`` tables. Exit 0 (dead letters are reported, not an error), 2 on
bad input: a store that cannot be opened, a bad district file or channel settings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import signal
import sys
import threading
import zoneinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator, Mapping

    from .notify import Channel
    from .notify.dispatch import Dispatcher, DispatchReport
    from .plugins import Hooks
    from .storage import OutboxItem, Store

__all__ = ["add_notify_parser", "run_notify"]

EXIT_OK = 0


def add_notify_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``notify`` sub-command to *sub*."""
    from ._cli_args import aware_time

    parser: argparse.ArgumentParser = sub.add_parser(
        "notify",
        help="deliver the outbox: retries, rate limits, digests, dead letters",
        description="Deliver the notifications waiting in a store's outbox through their "
        "channels: claim what is due (urgent first), deliver, record every attempt; retry "
        "failures with backoff, keep each channel's rate limits, merge bursts into digests, "
        "and set aside what cannot be delivered as dead letters. Exit 0, or 2 on bad input.",
    )
    parser.add_argument(
        "--db", required=True, metavar="URL", help="the store: sqlite:///path.db, …"
    )
    parser.add_argument(
        "--org",
        metavar="FILE",
        help="a district file whose [notify.channels.*] tables add channels",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--once", action="store_true", help="deliver what is due now, then exit (the default)"
    )
    mode.add_argument(
        "--watch", action="store_true", help="keep delivering until interrupted (SIGINT, SIGTERM)"
    )
    parser.add_argument(
        "--poll",
        type=_seconds,
        default=1.0,
        metavar="SECONDS",
        help="with --watch: how long to wait when nothing is due (1)",
    )
    parser.add_argument(
        "--limit",
        type=_positive,
        metavar="N",
        help="claim at most N messages (--once: in all; --watch: per run; default 200 a run)",
    )
    parser.add_argument(
        "--retry-dead",
        type=_positive,
        nargs="*",
        metavar="ID",
        help="first queue the dead letters again (all, or those ids), with fresh attempts",
    )
    parser.add_argument(
        "--remind",
        action="store_true",
        help="first queue the reminders that fell due (needs --org; the year's schedule is "
        "planned from it unless --schedule is given): rectifications due, overdue hazards, "
        "tomorrow's visits and meetings, quarterly reports due; each is queued once",
    )
    parser.add_argument(
        "--schedule", metavar="FILE", help="with --remind: the year's schedule (.csv, .xlsx, .json)"
    )
    parser.add_argument(
        "--holidays",
        metavar="FILE",
        action="append",
        default=[],
        help="with --remind: a holiday file, for a year dualduty ships none for",
    )
    parser.add_argument(
        "--now",
        type=aware_time,
        metavar="TIME",
        help="with --remind --once: remind as of this time, ISO 8601 with an offset",
    )
    parser.add_argument(
        "--status",
        action="store_true",
        help="print how many messages are in each state and the dead letters",
    )
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (text)"
    )
    return parser


def _seconds(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text}")
    return value


def _positive(text: str) -> int:
    import argparse

    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def run_notify(ns: argparse.Namespace) -> int:
    """Run ``dualduty notify`` from parsed arguments; return the exit code."""
    from .plugins import hooks
    from .storage import open_store

    requeue = ns.retry_dead is not None
    deliver = ns.once or ns.watch or not (ns.status or requeue)
    h = hooks()
    channels = _channels(ns.org, h) if deliver else {}
    out: dict[str, Any] = {}
    try:
        with open_store(ns.db, readonly=not (deliver or requeue)) as store:
            if requeue:
                n = store.requeue_dead(ns.retry_dead or None)
                out["requeued"] = n
                if ns.format == "text":
                    print(f"re-queued {n} dead message(s)", flush=True)
            remind = _reminders(ns, store)
            if ns.watch:
                _watch(store, channels, ns, remind)
            elif deliver:
                if remind is not None:
                    out["reminded"] = remind(ns.now)
                    if ns.format == "text":
                        print(f"queued {out['reminded']} reminder(s)", flush=True)
                report = _once(store, channels, ns.limit)
                out["report"] = report.to_json()
                if ns.format == "text":
                    _print_report(report)
                    _print_summary(report)
            if ns.status:
                out["status"] = _status(store)
                if ns.format == "text":
                    _print_status(store.url, out["status"])
    finally:
        _close(channels)
    if ns.format == "json" and out:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    return EXIT_OK


# -- channels -----------------------------------------------------------------------------------


def _channels(org_file: str | None, h: Hooks) -> dict[str, Channel]:
    """The channels to deliver through: those plugins register and, with ``--org``, one
    for each ``[notify.channels.<name>]`` table of the district file.

    The one place the district file's channel tables become channels
    (:func:`dualduty.notify.channels.make_channels`); secrets are read here, so a missing
    one stops the start with a clear error rather than a delivery later.
    """
    if org_file is None:
        return dict(h.channels())
    from .io import load
    from .notify.channels import make_channels

    org = load(org_file)
    return make_channels(org.notify.channel_tables(), hooks=h)


def _close(channels: Mapping[str, Channel]) -> None:
    for channel in channels.values():
        close: Callable[[], object] | None = getattr(channel, "close", None)
        if callable(close):
            close()


# -- delivering ----------------------------------------------------------------------------------


def _dispatcher(store: Store, channels: Mapping[str, Channel], limit: int | None) -> Dispatcher:
    from .notify.dispatch import Dispatcher

    return Dispatcher(store, channels, batch=limit or 200)


def _once(store: Store, channels: Mapping[str, Channel], limit: int | None) -> DispatchReport:
    """Runs until what was due is done (a run claims less than a full batch), or *limit*
    messages were claimed."""
    from .notify.dispatch import DispatchReport

    dispatcher = _dispatcher(store, channels, None)
    total = DispatchReport()
    left = limit
    while True:
        asked = dispatcher.batch if left is None else min(dispatcher.batch, left)
        report = dispatcher.run_once(limit=asked)
        total += report
        if left is not None:
            left -= report.claimed
        if report.claimed < asked or (left is not None and left <= 0):
            return total


def _reminders(ns: argparse.Namespace, store: Store) -> Callable[[dt.datetime | None], int] | None:
    """With ``--remind``: a function that queues the reminders due at a time (default:
    now) and says how many were new."""
    if not ns.remind:
        return None
    from ._cli_reports import _schedule
    from .errors import DualdutyError
    from .io import load
    from .notify.reminders import Reminders

    if ns.org is None:
        raise DualdutyError("--remind needs --org FILE: the district file says who is reminded")
    from .records.timeline import in_time

    org = load(ns.org)
    zone = zoneinfo.ZoneInfo(org.timezone)
    now = ns.now or dt.datetime.now(zone)
    # the organisation with its recorded changes: a successor is reminded, not whoever
    # held the post before; a package moved mid-year plans its visits to the new holder
    org = in_time(org, store, now.astimezone(zone).date())
    reminders = Reminders(store, org, _schedule(ns, org, now.year))

    def remind(now: dt.datetime | None = None) -> int:
        return reminders.enqueue(now or dt.datetime.now(zone))

    return remind


def _watch(
    store: Store,
    channels: Mapping[str, Channel],
    ns: argparse.Namespace,
    remind: Callable[[dt.datetime | None], int] | None = None,
) -> None:
    stop = threading.Event()
    with _stopped_by_signals(stop):
        dispatcher = _dispatcher(store, channels, ns.limit)
        if ns.format == "text":
            print(
                f"watching {store.url} (channels: {', '.join(sorted(channels)) or 'none'}); "
                "Ctrl-C to stop",
                flush=True,
            )

        def show(report: DispatchReport) -> None:
            if ns.format == "json":  # one JSON object a line, as runs happen
                print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
            else:
                _print_report(report)
                sys.stdout.flush()

        with contextlib.suppress(KeyboardInterrupt):
            before = None if remind is None else (lambda: remind(None))
            dispatcher.watch(stop, poll=ns.poll, on_report=show, before_run=before)
    if ns.format == "text":
        print("stopped", flush=True)


@contextlib.contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """Set *stop* on SIGTERM and SIGINT while inside; the previous handlers after."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only
        return

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)


# -- printing ----------------------------------------------------------------------------------


def _print_report(report: DispatchReport) -> None:
    for d in report.deliveries:
        what = f"#{d.id} {d.channel} → {d.recipient}  {d.title}"
        if d.carried:
            what += f" (digest of {len(d.carried)})"
        code = f"[{d.provider_code}] " if d.provider_code else ""
        if d.outcome == "retry" and d.next_attempt is not None:
            why = f"next try {_local(d)}: {code}{d.detail}"
        elif d.outcome == "deferred" and d.next_attempt is not None:
            why = f"until {_local(d)}: {d.detail}"
        else:
            why = f"{code}{d.detail}"
        stale = "" if d.recorded else "  (not recorded: the claim ran out)"
        print(f"{d.outcome:<9} {what}  — {why}{stale}")


def _local(d: Any) -> str:
    return f"{d.next_attempt.astimezone():%Y-%m-%d %H:%M:%S}"


def _print_summary(report: DispatchReport) -> None:
    digests = f", {report.digests} digest(s)" if report.digests else ""
    print(
        f"notify: {report.delivered} delivered, {report.retried} to retry, {report.dead} dead, "
        f"{report.deferred} deferred ({report.claimed} claimed{digests})"
    )


def _status(store: Store) -> dict[str, Any]:
    counts = store.outbox_counts()
    dead = store.outbox(state="dead")
    pending = store.outbox(state="pending")
    due = min((i.next_attempt for i in pending), default=None)
    return {
        "url": store.url,
        "counts": counts,
        "next_due": None if due is None else due.isoformat(),
        "dead": [_dead(i) for i in dead],
    }


def _dead(item: OutboxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "channel": item.message.channel,
        "recipient": item.message.recipient,
        "title": item.message.title,
        "attempts": item.attempts,
        "provider_code": item.provider_code,
        "detail": item.detail,
        "digest": item.digest,
    }


def _print_status(url: str, status: dict[str, Any]) -> None:
    counts = status["counts"]
    shown = ", ".join(f"{n} {state}" for state, n in counts.items())
    print(f"{url} outbox: {shown}")
    if status["next_due"]:
        print(f"  next due  {status['next_due']}")
    if status["dead"]:
        print("dead letters (dualduty notify --retry-dead [ID …] queues them again):")
    for d in _sorted(status["dead"]):
        code = f"[{d['provider_code']}] " if d["provider_code"] else ""
        print(
            f"  #{d['id']} {d['channel']} → {d['recipient']}  {d['title']}  "
            f"(attempts {d['attempts']}) {code}{d['detail']}"
        )


def _sorted(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from sorted(rows, key=lambda r: r["id"])
