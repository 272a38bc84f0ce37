"""A dispatcher in a process of its own, for the reliability tests to run, race and kill.

    python tests/dispatch_worker.py --db sqlite:////tmp/outbox.db \\
        --url http://127.0.0.1:8080/hook [--lease 30] [--offset 0] [--batch 200] \\
        [--commit-every 1] [--wait-for PATH]

Delivers the outbox through one ``webhook`` channel named ``hook`` until nothing is due,
printing ``claimed <n> delivered <m>`` after each run and ``done`` at the end, then exits
0. ``--offset`` moves its clock (seconds added to the time): a dispatcher started
"after" a lease ran out without the test waiting for it. ``--wait-for`` waits until
that file exists before starting, so that two workers start together.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DUALDUTY_LOAD_PLUGINS", "")

from dualduty.notify.dispatch import Dispatcher
from dualduty.notify.webhook import WebhookChannel
from dualduty.storage import open_store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--offset", type=float, default=0.0)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--commit-every", type=int, default=1)
    parser.add_argument("--wait-for", type=Path)
    args = parser.parse_args()

    if args.wait_for is not None:
        deadline = time.monotonic() + 60
        while not args.wait_for.exists():
            if time.monotonic() > deadline:
                print(f"{args.wait_for} never appeared", file=sys.stderr)
                return 1
            time.sleep(0.005)
    offset = args.offset
    channel = WebhookChannel("hook", args.url, timeout=60)
    with open_store(args.db) as store:
        dispatcher = Dispatcher(
            store,
            {"hook": channel},
            clock=lambda: time.time() + offset,
            lease=args.lease,
            batch=args.batch,
            commit_every=args.commit_every,
            digest=None,
        )
        while True:
            report = dispatcher.run_once()
            print(f"claimed {report.claimed} delivered {report.delivered}", flush=True)
            if not report.claimed:
                break
    channel.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
