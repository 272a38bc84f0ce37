"""Stand-in robot servers: local HTTP servers that behave like the providers' robots.

Each is a threaded :mod:`http.server` on loopback that answers like the real robot for
the things a channel must get right:

- it checks the credential (DingTalk's ``access_token``, WeCom's ``key``, Feishu's hook
  id) and, when given a signing secret, the signature and the timestamp's freshness
  (within an hour of its clock), computing the signature itself;
- it refuses the way the provider does: **HTTP 200 with the provider's error JSON**;
- it throttles: 20 messages a minute per robot for DingTalk and WeCom (DingTalk then
  refuses everything for 10 minutes), 100 a minute and 5 a second for Feishu, counted
  over a sliding window of accepted messages, and answers the provider's throttle code;
- it checks the message's shape and size and, when given keywords, that the content
  holds one;
- it records every message it accepted (:attr:`RobotServer.received`) and every answer
  it gave (:attr:`RobotServer.answers`), so a test asserts exactly what arrived;
- it can be told to answer the next requests with an error (:meth:`RobotServer.fail_next`),
  or all of them until told otherwise (:meth:`RobotServer.refuse`), or to be down
  (:meth:`RobotServer.down`: connections refused, open ones cut) and back
  (:meth:`RobotServer.up`, on the same port).

Give a :class:`ManualClock` to test time without waiting: the robot's throttle window and
timestamp check read it, and so do channels made with ``DingTalkType(clock=clock)``.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, cast
from urllib.parse import parse_qs, unquote, urlsplit

import attrs

from dualduty.notify import RateLimit

__all__ = [
    "Answer",
    "DingTalkRobot",
    "FeishuRobot",
    "ManualClock",
    "Received",
    "RobotServer",
    "WeComRobot",
]

#: How far (seconds) a signed request's timestamp may be from the robot's clock.
FRESHNESS = 3600.0


class ManualClock:
    """A clock that moves only when told (seconds since the epoch, like :func:`time.time`).

    >>> clock = ManualClock(1_700_000_000.0)
    >>> clock.advance(2.5)
    >>> clock()
    1700000002.5
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock *seconds* forward."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += seconds

    def __repr__(self) -> str:
        return f"ManualClock({self():.3f})"


@attrs.frozen
class Received:
    """A message the stand-in robot accepted.

    :param msgtype: the provider's message type (``text``, ``markdown``; Feishu: ``text``
        or ``interactive`` for a card).
    :param content: the text, or the Markdown of a Markdown message or card.
    :param title: a Markdown message's title (DingTalk) or a card's header (Feishu).
    :param body: the whole JSON body as it arrived.
    :param at: the robot's clock when it arrived.
    """

    msgtype: str
    content: str
    title: str | None
    body: Mapping[str, Any] = attrs.field(repr=False)
    at: float


@attrs.frozen
class Answer:
    """One answer the stand-in robot gave: HTTP status and the provider's code (``None``
    when the answer carried none)."""

    status: int
    code: int | None
    at: float


@attrs.frozen
class _Failure:
    """An answer a test asked for (:meth:`RobotServer.fail_next`, :meth:`RobotServer.refuse`)."""

    status: int
    code: int | None
    message: str
    body: bytes | None
    retry_after: float | None
    delay: float


class _Refusal(Exception):
    """The robot refuses the request with *code* and *message* (HTTP 200)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # joined on close, so that nothing outlives a test
    block_on_close = True
    allow_reuse_address = True  # back up on the same port at once

    def __init__(self, address: tuple[str, int], robot: RobotServer) -> None:
        self.robot = robot
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.closing = False
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away, or a connection cut by :meth:`RobotServer.down`."""

    def cut_connections(self) -> None:
        """Cut every open connection, and any a handler is still setting up."""
        with self.connections_lock:
            self.closing = True
            connections = list(self.connections)
        for connection in connections:
            _cut(connection)

    def add(self, connection: socket.socket) -> None:
        with self.connections_lock:
            self.connections.add(connection)
            closing = self.closing
        if closing:  # accepted just before the server went down: cut it too
            _cut(connection)


def _cut(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real robots
    disable_nagle_algorithm = True  # headers and answer are written apart: no 40 ms wait
    timeout = 30  # an idle connection is closed after this

    def _server(self) -> _HTTPServer:
        return cast(_HTTPServer, self.server)

    def setup(self) -> None:
        super().setup()
        server = self._server()
        server.add(self.connection)
        server.robot._connected()

    def finish(self) -> None:
        server = self._server()
        with server.connections_lock:
            server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status, answer, headers = self._server().robot.handle(self.path, body)
        self._reply(status, answer, headers)

    def do_GET(self) -> None:
        self._reply(405, b'{"error":"POST only"}', {})

    def _reply(self, status: int, answer: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the robot's answers are in :attr:`RobotServer.answers`."""


class RobotServer:
    """A stand-in robot server of one provider, for one robot. Subclasses: the providers.

    Use it as a context manager (or :meth:`start` and :meth:`stop`); point a channel's
    ``url`` setting at :attr:`url`.

    :param credential: the robot's token, key or hook id.
    :param secret: the robot's signing secret; ``None``: the robot does not sign.
    :param clock: the robot's clock (default :func:`time.time`).
    :param limits: the throttle (default: the provider's).
    :param penalty: seconds the robot refuses everything after a throttle (DingTalk's 10
        minutes by default).
    :param keywords: custom keywords (自定义关键词): when given, the content must hold one.
    :param host: the address to listen on (loopback).
    :param port: the port (0: any free port).
    """

    provider: ClassVar[str]
    base_path: ClassVar[str]
    credential_setting: ClassVar[str]
    """The channel setting that names the credential (``token``, ``key``, ``hook``)."""
    code_field: ClassVar[str] = "errcode"
    message_field: ClassVar[str] = "errmsg"
    default_limits: ClassVar[tuple[RateLimit, ...]]
    default_penalty: ClassVar[float] = 0.0
    throttle_answer: ClassVar[tuple[int, str]]

    def __init__(
        self,
        credential: str,
        secret: str | None,
        *,
        clock: Callable[[], float] = time.time,
        limits: Sequence[RateLimit] | None = None,
        penalty: float | None = None,
        keywords: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.credential = credential
        self.secret = secret
        self.clock = clock
        self.limits = tuple(self.default_limits if limits is None else limits)
        self.penalty = self.default_penalty if penalty is None else penalty
        self.keywords = tuple(keywords)
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._answers: list[Answer] = []
        self._accepted_at: collections.deque[float] = collections.deque()
        self._locked_until = float("-inf")
        self._failures: collections.deque[_Failure] = collections.deque()
        self._refusing: _Failure | None = None
        self._connections = 0
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- running

    @property
    def url(self) -> str:
        """The base address to give a channel as its ``url`` setting."""
        return f"http://{self.host}:{self.port}{self.base_path}"

    @property
    def is_up(self) -> bool:
        """Whether the robot is listening."""
        return self._server is not None

    def start(self) -> RobotServer:
        """Start listening (on :attr:`port`; a free one the first time if it is 0)."""
        self.up()
        return self

    def stop(self) -> None:
        """Stop listening and cut every connection; waits for the server's threads."""
        self.down()

    def up(self) -> None:
        """Listen again on the same port after :meth:`down`."""
        if self._server is not None:
            return
        server = _HTTPServer((self.host, self.port), self)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{self.provider} stand-in robot on port {self.port}",
        )
        self._thread.start()

    def down(self) -> None:
        """Be down: close the listening socket (new connections are refused) and cut the
        open ones, as when the robot's host is unreachable."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.cut_connections()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> RobotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "up" if self.is_up else "down"
        return f"{type(self).__name__}(port={self.port}, {state}, received={len(self.received)})"

    # -- what a test sets and reads

    def fail_next(
        self,
        count: int = 1,
        *,
        code: int | None = None,
        message: str = "",
        status: int = 200,
        body: bytes | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next *count* requests with an error, without looking at them.

        :param code: the provider's error code, answered in its JSON with *message*
            (HTTP 200 and a code is how the real robots refuse);
        :param status: the HTTP status (500 and no code: a failing gateway);
        :param body: the raw answer instead (an HTML page from a proxy);
        :param retry_after: a ``Retry-After`` header, in seconds;
        :param delay: seconds to wait before answering (real seconds: a slow robot).
        """
        failure = self._failure(code, message, status, body, retry_after, delay)
        with self._lock:
            self._failures.extend([failure] * count)

    def refuse(
        self,
        *,
        code: int | None = None,
        message: str = "",
        status: int = 200,
        body: bytes | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer every request from now on as :meth:`fail_next` does, until :meth:`accept`."""
        failure = self._failure(code, message, status, body, retry_after, 0.0)
        with self._lock:
            self._refusing = failure

    def accept(self) -> None:
        """Accept requests again: no refusal, no pending failures."""
        with self._lock:
            self._refusing = None
            self._failures.clear()

    @staticmethod
    def _failure(  # noqa: PLR0917 (private: the public methods take keywords)
        code: int | None,
        message: str,
        status: int,
        body: bytes | None,
        retry_after: float | None,
        delay: float,
    ) -> _Failure:
        if status == 200 and code is None and body is None:
            raise ValueError("an HTTP 200 failure needs the provider's error code or a body")
        return _Failure(status, code, message, body, retry_after, delay)

    @property
    def connections(self) -> int:
        """How many connections clients opened (a channel keeps one open between messages)."""
        with self._lock:
            return self._connections

    def _connected(self) -> None:
        with self._lock:
            self._connections += 1

    @property
    def received(self) -> list[Received]:
        """The messages accepted, in order."""
        with self._lock:
            return list(self._received)

    @property
    def answers(self) -> list[Answer]:
        """Every answer given, in order (accepted, refused, failed on purpose)."""
        with self._lock:
            return list(self._answers)

    def clear(self) -> None:
        """Forget what was received and answered, the throttle, pending failures and a
        refusal."""
        with self._lock:
            self._refusing = None
            self._received.clear()
            self._answers.clear()
            self._accepted_at.clear()
            self._failures.clear()
            self._locked_until = float("-inf")

    def environ(self, prefix: str) -> dict[str, str]:
        """Environment variables holding this robot's secrets (``{prefix}_TOKEN`` …), to
        set before making a channel from :meth:`settings` with the same *prefix*."""
        names = self._secret_names(prefix)
        values = {names[self.credential_setting]: self.credential}
        if self.secret is not None:
            values[names["secret"]] = self.secret
        return values

    def settings(self, prefix: str, **more: Any) -> dict[str, Any]:
        """A channel's settings for this robot, secrets as ``env:`` references to the
        variables :meth:`environ` names; *more* settings added (``msgtype="markdown"``)."""
        names = self._secret_names(prefix)
        settings: dict[str, Any] = {
            "url": self.url,
            self.credential_setting: f"env:{names[self.credential_setting]}",
        }
        if self.secret is not None:
            settings["secret"] = f"env:{names['secret']}"
        settings.update(more)
        return settings

    def _secret_names(self, prefix: str) -> dict[str, str]:
        return {
            self.credential_setting: f"{prefix}_{self.credential_setting.upper()}",
            "secret": f"{prefix}_SECRET",
        }

    # -- answering (in the server's threads)

    def handle(self, target: str, raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        """Answer a POST to *target* (path and query) with *raw* as its body: the HTTP
        status, the answer and extra headers."""
        with self._lock:
            failure = self._failures.popleft() if self._failures else self._refusing
        if failure is not None:
            if failure.delay:
                time.sleep(failure.delay)
            return self._fail(failure)
        now = self.clock()
        with self._lock:
            status, code, answer = self._answer(target, raw, now)
            self._answers.append(Answer(status, code, now))
        return status, answer, {}

    def _fail(self, failure: _Failure) -> tuple[int, bytes, dict[str, str]]:
        headers = {} if failure.retry_after is None else {"Retry-After": f"{failure.retry_after:g}"}
        if failure.body is not None:
            answer = failure.body
        elif failure.code is not None:
            answer = self._refusal(failure.code, failure.message)
        else:
            answer = b'{"error":"stand-in failure"}'
        with self._lock:
            self._answers.append(Answer(failure.status, failure.code, self.clock()))
        return failure.status, answer, headers

    def _answer(self, target: str, raw: bytes, now: float) -> tuple[int, int | None, bytes]:
        parts = urlsplit(target)
        if not parts.path.startswith(self.base_path):
            return 404, None, b'{"error":"not found"}'
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            self._authenticate(parts.path, query, body, now)
            if not isinstance(body, dict):
                raise self._malformed("the body is not a JSON object")
            if self._throttled(now):
                raise _Refusal(*self.throttle_answer)
            received = self._read(body, now)
            if self.keywords and not any(k in received.content for k in self.keywords):
                raise self._no_keyword()
        except _Refusal as refusal:
            return 200, refusal.code, self._refusal(refusal.code, refusal.message)
        self._received.append(received)
        self._accepted_at.append(now)
        return 200, 0, self._accepted()

    def _throttled(self, now: float) -> bool:
        if now < self._locked_until:
            return True
        longest = max((limit.seconds for limit in self.limits), default=0.0)
        while self._accepted_at and self._accepted_at[0] <= now - longest:
            self._accepted_at.popleft()
        for limit in self.limits:
            recent = sum(1 for at in self._accepted_at if at > now - limit.seconds)
            if recent >= limit.count:
                if self.penalty:
                    self._locked_until = now + self.penalty
                return True
        return False

    def _refusal(self, code: int, message: str) -> bytes:
        return _json({self.code_field: code, self.message_field: message})

    def _accepted(self) -> bytes:
        return _json({self.code_field: 0, self.message_field: "ok"})

    # -- what each provider checks

    def _authenticate(self, path: str, query: Mapping[str, str], body: object, now: float) -> None:
        raise NotImplementedError

    def _read(self, body: Mapping[str, Any], now: float) -> Received:
        raise NotImplementedError

    def _malformed(self, why: str) -> _Refusal:
        raise NotImplementedError

    def _no_keyword(self) -> _Refusal:
        raise NotImplementedError


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _hmac_b64(key: str, message: str) -> str:
    digest = hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _same(given: str, expected: str) -> bool:
    """Whether two texts are equal, compared in constant time."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _text(body: Mapping[str, Any], *path: str) -> str | None:
    value: Any = body
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value if isinstance(value, str) and value else None


class DingTalkRobot(RobotServer):
    """A stand-in DingTalk custom robot at ``/robot/send``.

    Refuses: no ``access_token`` (40035); an unknown one (300005 "token is not exist");
    with a secret, a missing or stale timestamp (310000 "invalid timestamp") or a wrong
    signature (310000 "sign not match"); more than 20 accepted messages in 60 s (130101
    "send too fast, exceed 20 times per minute", and again for every request in the next
    10 minutes); a type other than ``text`` and ``markdown`` (400105); a missing field
    (40035); content over 20,000 bytes (460101 in the stand-in); missing keywords
    (310000 "keywords not in content").
    """

    provider = "DingTalk"
    base_path = "/robot/send"
    credential_setting = "token"
    default_limits = (RateLimit(20, 60),)
    default_penalty = 600.0
    throttle_answer = (130101, "send too fast, exceed 20 times per minute")
    MAX_BYTES = 20_000

    def __init__(
        self,
        token: str = "dingtalk-test-token",
        secret: str | None = "SECdingtalk-test-secret",
        **options: Any,
    ) -> None:
        super().__init__(token, secret, **options)

    def _authenticate(self, path: str, query: Mapping[str, str], body: object, now: float) -> None:
        token = query.get("access_token")
        if not token:
            raise _Refusal(40035, "缺少参数 access_token")
        if not _same(token, self.credential):
            raise _Refusal(300005, "token is not exist")
        if self.secret is None:
            return
        stamp, sign = query.get("timestamp", ""), query.get("sign", "")
        if not stamp.isdigit() or abs(int(stamp) - now * 1000) > FRESHNESS * 1000:
            raise _Refusal(310000, "invalid timestamp")
        # the query is URL-decoded already: a sign whose "+" was not encoded reads " " here
        expected = _hmac_b64(self.secret, f"{stamp}\n{self.secret}")
        if not _same(sign, expected):
            raise _Refusal(310000, "sign not match")

    def _read(self, body: Mapping[str, Any], now: float) -> Received:
        msgtype = body.get("msgtype")
        if msgtype == "text":
            content, title = _text(body, "text", "content"), None
            if content is None:
                raise _Refusal(40035, "缺少参数 text.content")
        elif msgtype == "markdown":
            content, title = _text(body, "markdown", "text"), _text(body, "markdown", "title")
            if content is None or title is None:
                raise _Refusal(40035, "缺少参数 markdown.title 或 markdown.text")
        else:
            raise _Refusal(400105, "不支持的消息类型")
        if len(content.encode("utf-8")) > self.MAX_BYTES:
            raise _Refusal(460101, f"message too long, exceed {self.MAX_BYTES} bytes")
        return Received(msgtype, content, title, body, now)

    def _malformed(self, why: str) -> _Refusal:
        return _Refusal(40035, f"缺少参数 json ({why})")

    def _no_keyword(self) -> _Refusal:
        return _Refusal(310000, "keywords not in content")


class WeComRobot(RobotServer):
    """A stand-in WeCom group robot at ``/cgi-bin/webhook/send``.

    Refuses: no or an unknown ``key`` (93000 "invalid webhook url"); more than 20
    accepted messages in 60 s (45009 "api freq out of limit"); a type other than
    ``text`` and ``markdown`` (40008); empty content (44004); text over 2,048 bytes or
    Markdown over 4,096 (40058 "… exceed max length …"). WeCom robots do not sign.
    """

    provider = "WeCom"
    base_path = "/cgi-bin/webhook/send"
    credential_setting = "key"
    default_limits = (RateLimit(20, 60),)
    throttle_answer = (45009, "api freq out of limit")
    LIMITS: ClassVar[Mapping[str, int]] = {"text": 2048, "markdown": 4096}

    def __init__(self, key: str = "wecom-test-key", **options: Any) -> None:
        super().__init__(key, None, **options)

    def _authenticate(self, path: str, query: Mapping[str, str], body: object, now: float) -> None:
        key = query.get("key", "")
        if not key or not _same(key, self.credential):
            raise _Refusal(93000, "invalid webhook url, hint: [stand-in]")

    def _read(self, body: Mapping[str, Any], now: float) -> Received:
        msgtype = body.get("msgtype")
        if msgtype not in self.LIMITS:
            raise _Refusal(40008, "invalid message type")
        assert isinstance(msgtype, str)
        content = _text(body, msgtype, "content")
        if content is None:
            raise _Refusal(44004, "empty content")
        limit = self.LIMITS[msgtype]
        if len(content.encode("utf-8")) > limit:
            raise _Refusal(40058, f"{msgtype}.content exceed max length {limit}")
        return Received(msgtype, content, None, body, now)

    def _malformed(self, why: str) -> _Refusal:
        return _Refusal(40058, f"invalid Request Parameter ({why})")

    def _no_keyword(self) -> _Refusal:  # WeCom robots have no keywords
        return _Refusal(40058, "invalid Request Parameter")


class FeishuRobot(RobotServer):
    """A stand-in Feishu/Lark custom robot at ``/open-apis/bot/v2/hook/<hook id>``.

    Refuses: an unknown hook id (19001 "param invalid: incoming webhook access token
    invalid"); with a secret, a missing, stale or wrong ``timestamp`` and ``sign`` in the
    body (19021 "sign match fail or timestamp is not within one hour from current time");
    more than 100 accepted messages in 60 s or 5 in 1 s (11232 "frequency limited"); a
    body over 20,000 bytes or a malformed message (9499 "Bad Request"); missing keywords
    (19024 "Key Words Not Found"). Understands ``text`` and ``interactive`` cards whose
    first element is ``markdown``.
    """

    provider = "Feishu"
    base_path = "/open-apis/bot/v2/hook/"
    code_field = "code"
    message_field = "msg"
    credential_setting = "hook"
    default_limits = (RateLimit(100, 60), RateLimit(5, 1))
    throttle_answer = (11232, "frequency limited")
    MAX_BODY = 20_000

    def __init__(
        self,
        hook: str = "feishu-test-hook",
        secret: str | None = "feishu-test-secret",
        **options: Any,
    ) -> None:
        super().__init__(hook, secret, **options)

    def handle(self, target: str, raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        if len(raw) > self.MAX_BODY:
            with self._lock:
                self._answers.append(Answer(200, 9499, self.clock()))
            return 200, self._refusal(9499, "Bad Request"), {}
        return super().handle(target, raw)

    def _authenticate(self, path: str, query: Mapping[str, str], body: object, now: float) -> None:
        hook = unquote(path[len(self.base_path) :])
        if not _same(hook, self.credential):
            raise _Refusal(19001, "param invalid: incoming webhook access token invalid")
        if self.secret is None:
            return
        fields = body if isinstance(body, dict) else {}
        stamp, sign = str(fields.get("timestamp", "")), fields.get("sign")
        if (
            not stamp.isdigit()
            or abs(int(stamp) - now) > FRESHNESS
            or not isinstance(sign, str)
            or not _same(sign, _feishu_expected(int(stamp), self.secret))
        ):
            raise _Refusal(
                19021, "sign match fail or timestamp is not within one hour from current time"
            )

    def _read(self, body: Mapping[str, Any], now: float) -> Received:
        msgtype = body.get("msg_type")
        if msgtype == "text":
            content = _text(body, "content", "text")
            if content is None:
                raise self._malformed("content.text")
            return Received("text", content, None, body, now)
        if msgtype == "interactive":
            card = body.get("card")
            elements = card.get("elements") if isinstance(card, Mapping) else None
            first = elements[0] if isinstance(elements, list) and elements else None
            if not isinstance(first, Mapping) or first.get("tag") != "markdown":
                raise self._malformed("card.elements")
            content = _text(first, "content")
            if content is None:
                raise self._malformed("card.elements[0].content")
            title = _text(body, "card", "header", "title", "content")
            return Received("interactive", content, title, body, now)
        raise self._malformed("msg_type")

    def _refusal(self, code: int, message: str) -> bytes:
        return _json({"code": code, "data": {}, "msg": message})

    def _accepted(self) -> bytes:
        return _json(
            {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}
        )

    def _malformed(self, why: str) -> _Refusal:
        return _Refusal(9499, "Bad Request")

    def _no_keyword(self) -> _Refusal:
        return _Refusal(19024, "Key Words Not Found")


def _feishu_expected(stamp: int, secret: str) -> str:
    """Feishu's signature, computed here without :mod:`dualduty_im.signing`."""
    key = f"{stamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")
