"""What the concurrency tests run in other processes (spawned: importable, no pytest)."""

from __future__ import annotations

import os
import traceback
from typing import Any

from dualduty.notify import DeliveryResult
from dualduty.storage import OutboxMessage

PLUGINS = ("dualduty_postgres",)


class FileChannel:
    """A channel that writes each message's key on a line of a file opened ``O_APPEND``
    (one ``write`` per message, so lines from several processes never mix)."""

    name = "file"

    def __init__(self, path: str, who: str) -> None:
        self.path = path
        self.who = who

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{message.key}\t{self.who}\n".encode())
        finally:
            os.close(fd)
        return DeliveryResult.ok("0", self.who)


def dispatch(url: str, path: str, who: str, *, start: Any, results: Any) -> None:
    """Run a dispatcher over the store at *url* until nothing is due; put
    ``(who, delivered)`` or ``(who, traceback)`` on *results*."""
    try:
        from dualduty.notify.dispatch import Dispatcher
        from dualduty.storage import open_store
        from dualduty.testing._worker import register_plugins

        register_plugins(PLUGINS)
        delivered = 0
        with open_store(url) as store:
            dispatcher = Dispatcher(store, {"file": FileChannel(path, who)}, batch=5, digest=None)
            start.wait(timeout=60)
            while True:
                report = dispatcher.run_once()
                if not report.claimed:
                    break
                delivered += report.delivered
        results.put((who, delivered))
    except BaseException:
        results.put((who, traceback.format_exc()))
