"""The year report in a real browser: headless Chromium opens the file and shows it.

The test starts Debian's ``chromium`` (or the one ``DUALDUTY_CHROMIUM`` names) with
``--headless --no-sandbox --disable-gpu --remote-debugging-port=0``, reads the DevTools
address it prints, and drives it over the Chrome DevTools Protocol through a minimal
WebSocket client written here with the standard library (RFC 6455: the opening
handshake, masked text frames out, unmasked frames in). It loads the report from a
``file://`` URL and checks that no error reached the console (console errors, uncaught
exceptions, log entries of level error), that nothing but the file itself was requested,
that the key sections are shown and that every chart has a box on the page; then it
saves a screenshot of the whole page under the test's temporary directory and prints
its path.

Without Chromium the test fails and says how to install it: it is not skipped.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import scoring_year as sy
from dualduty.model import SECTION_KINDS
from dualduty.plugins import Hooks, make_plugin_manager
from dualduty.reports.html import write_year_report
from dualduty.storage import Store

#: How long the browser may take to start, and to answer one command.
START_SECONDS = 60.0
ANSWER_SECONDS = 60.0

SECTIONS = (
    "一、组织与责任体系",
    "二、责任覆盖",
    "三、分包学校均衡",
    "四、年度督查与会议日历",
    "五、隐患排查治理",
    "六、制度落实情况",
    "七、年终考核排名",
)

#: A hazard's description that is markup: shown as text, it runs nothing.
MARKUP = "<script>console.error('injected')</script><img src=x onerror=alert(1)>"

#: Every section of the reference organisation is assessed and ranked.
SECTION_UNITS = [u.id for u in sy.ORG.units if u.kind in SECTION_KINDS]


def chromium() -> str:
    """The Chromium to run: ``$DUALDUTY_CHROMIUM``, else ``chromium`` on the PATH."""
    named = os.environ.get("DUALDUTY_CHROMIUM")
    found = named or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not Path(found).exists():
        pytest.fail(
            "the browser test needs Chromium: install Debian's package "
            "(`apt-get install -y chromium`) or set DUALDUTY_CHROMIUM to a Chromium binary",
            pytrace=False,
        )
    return found


# -- a minimal WebSocket client (RFC 6455), text frames only -------------------------------------


class WebSocket:
    """A WebSocket client over a plain socket: enough for the DevTools protocol."""

    def __init__(self, url: str, timeout: float = ANSWER_SECONDS) -> None:
        found = re.fullmatch(r"ws://([^/:]+):(\d+)(/.*)", url)
        assert found is not None, url
        host, port, path = found.group(1), int(found.group(2)), found.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the browser closed the connection during the handshake")
            head += chunk
        status, _, rest = head.partition(b"\r\n\r\n")
        if not status.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(f"no WebSocket upgrade: {status[:200]!r}")
        self.buffer = rest

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(b"\x88\x80" + os.urandom(4))  # a masked, empty close frame
        self.sock.close()

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise ConnectionError("the browser closed the connection")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
        elif size < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send(self, text: str) -> None:
        self._frame(0x1, text.encode())

    def recv(self) -> str:
        """The next text message (fragments joined; pings answered)."""
        parts: list[bytes] = []
        while True:
            first, second = self._read(2)
            fin, opcode = first & 0x80, first & 0x0F
            size = second & 0x7F
            if size == 126:
                (size,) = struct.unpack("!H", self._read(2))
            elif size == 127:
                (size,) = struct.unpack("!Q", self._read(8))
            mask = self._read(4) if second & 0x80 else b""
            payload = self._read(size)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("the browser closed the WebSocket")
            if opcode == 0x9:
                self._frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1, 0x2):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode()


# -- the DevTools protocol -----------------------------------------------------------------------


class DevTools:
    """One page of a browser, driven over the DevTools protocol (a flat session)."""

    def __init__(self, url: str) -> None:
        self.ws = WebSocket(url)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command and wait for its answer; events that come first are kept."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            if "method" in answer:
                self.events.append(answer)

    def wait_for(self, method: str, timeout: float = ANSWER_SECONDS) -> dict[str, Any]:
        """The first event *method* (kept or to come)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event["method"] == method:
                    return event
            seen = len(self.events)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            event = json.loads(self.ws.recv())
            if "method" in event:
                self.events.append(event)

    def evaluate(self, expression: str) -> Any:
        answer = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression!r} failed: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def errors(self) -> list[str]:
        """What reached the console as an error so far."""
        out = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(f"console: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                out.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        return out

    def requests(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[str]:
    """A headless Chromium's DevTools WebSocket address; the browser ends with the test."""
    binary = chromium()
    log_path = tmp_path / "chromium.log"
    profile = tmp_path / "profile"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
                f"--user-data-dir={profile}",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,900",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        url = None
        while url is None:
            found = re.search(
                r"DevTools listening on (ws://\S+)", log_path.read_text("utf-8", "replace")
            )
            if found:
                url = found.group(1)
            elif process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"{binary} did not start its DevTools server (exit {process.poll()}): "
                    + log_path.read_text("utf-8", "replace")[-2000:],
                    pytrace=False,
                )
            else:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def hooks() -> Hooks:
    """The built-in plugin only: the report as dualduty alone makes it."""
    return Hooks(make_plugin_manager(entry_points=False))


def test_the_report_renders_in_chromium(browser: str, store: Store, tmp_path: Path) -> None:
    r = sy.build(store)
    # a record whose text is markup: it must show as text and run nothing
    r.hazards.find(sy.SCHOOL, "general", MARKUP, actor=sy.STAFF, at=sy.at(2026, 12, 1))
    page = tmp_path / "report.html"
    write_year_report(page, store, sy.ORG, 2026, now=sy.NOW, schedule=sy.SCHEDULE, hooks=hooks())
    devtools = DevTools(browser)
    try:
        for domain in ("Runtime", "Log", "Page", "Network"):
            devtools.call(f"{domain}.enable")
        devtools.call("Page.navigate", url=page.as_uri())
        devtools.wait_for("Page.loadEventFired")
        headings = devtools.evaluate(
            "Array.from(document.querySelectorAll('h2')).map(h => h.firstChild.textContent)"
        )
        boxes = devtools.evaluate(
            "Array.from(document.querySelectorAll('svg')).map(s => {"
            " const r = s.getBoundingClientRect(); return [r.width, r.height]; })"
        )
        shown = devtools.evaluate(
            "({details: document.querySelectorAll('details').length,"
            " rows: document.querySelectorAll('table.ranking tbody tr').length,"
            " scripts: document.scripts.length,"
            " images: document.images.length,"
            " injected: Array.from(document.querySelectorAll('table.overdue td'))"
            "   .some(td => td.textContent.includes(\"<script>console.error('injected')\")),"
            " width: document.documentElement.scrollWidth,"
            " height: document.documentElement.scrollHeight})"
        )
        devtools.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=min(int(shown["height"]), 16000),
            deviceScaleFactor=1,
            mobile=False,
        )
        shot = devtools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        errors = devtools.errors()
        requests = devtools.requests()
    finally:
        devtools.ws.close()
    png = tmp_path / "report.png"
    png.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {png}")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert errors == []
    assert requests, "the page was not requested"
    assert all(u.startswith(("file:", "data:", "about:")) for u in requests), requests
    assert headings == list(SECTIONS)
    assert len(boxes) > 12 + 5  # twelve months, the graph, bars, funnel, category bars
    assert all(w > 0 and h > 0 for w, h in boxes), boxes
    assert shown["details"] == shown["rows"] == len(SECTION_UNITS)
    assert shown["scripts"] == 0  # the markup stayed text
    assert shown["images"] == 0
    assert shown["injected"]  # … and is shown as written
