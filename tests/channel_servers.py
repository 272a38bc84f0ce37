"""Real servers on loopback standing in for providers: an SMTP server (aiosmtpd) and a
threaded HTTP/1.1 webhook receiver. Both implement :class:`dualduty.testing.Receiver`.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import http.server
import json
import socket
import ssl
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import attrs

from dualduty.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from dualduty.testing.channels import Received

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (as of now)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


@attrs.frozen
class Tls:
    """A certificate authority of the test's own making and a server certificate it signed
    for ``127.0.0.1`` and ``localhost``."""

    server: ssl.SSLContext
    """A server-side context holding the certificate."""
    ca_file: Path
    """The authority's certificate (PEM), for a channel's ``ca_file``."""


def make_tls(directory: Path) -> Tls:
    """A fresh :class:`Tls`, its CA certificate written into *directory*."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert(LOOPBACK, "localhost")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server)
    ca_file = directory / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Tls(server, ca_file)


class Silent:
    """A port that takes connections and never says a word (a hung provider)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(8)  # connections wait in the backlog; nothing ever answers
        self.port: int = self.sock.getsockname()[1]

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.sock.close()


# -- SMTP --------------------------------------------------------------------------------------


@attrs.frozen
class Mail:
    """A mail as the SMTP server got it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: email.message.EmailMessage
    raw: bytes


class SmtpReceiver:
    """An aiosmtpd server on loopback that records mail and refuses on demand.

    :param security: ``"none"``, ``"starttls"`` (required before MAIL) or ``"ssl"``.
    :param tls: the server's TLS context (``starttls`` and ``ssl``).
    :param users: logins it accepts (login → password); when given, a login is required.
    """

    def __init__(
        self,
        *,
        security: str = "none",
        tls: ssl.SSLContext | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        self.security = security
        self.tls = tls
        self.users = users
        self.port = free_port()
        self.mails: list[Mail] = []
        self.logins: list[str] = []
        self.failed_logins = 0
        self.connections = 0
        self._replies: deque[str] = deque()
        self._refusal: str | None = None
        self._lock = threading.Lock()
        self._controller: Any = None

    # -- running -------------------------------------------------------------------------------

    def start(self) -> Self:
        from aiosmtpd.controller import Controller

        kwargs: dict[str, Any] = {}
        if self.security == "ssl":
            kwargs["ssl_context"] = self.tls
        elif self.security == "starttls":
            kwargs.update(tls_context=self.tls, require_starttls=True)
        if self.users is not None:
            # aiosmtpd knows of TLS begun with STARTTLS only: over implicit TLS ("ssl") it
            # offers AUTH when told TLS is not required, and then cannot require a login
            # without warning about it
            required = self.security != "ssl"
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=required,
                auth_require_tls=required,
            )

        class _Controller(Controller):
            """Keeps the sessions, to close their connections when it stops."""

            sessions: list[Any]

            def factory(self) -> Any:
                session = super().factory()  # type: ignore[no-untyped-call]
                self.sessions.append(session)
                return session

        self._controller = _Controller(
            _SmtpHandler(self),
            hostname=LOOPBACK,
            port=self.port,
            server_hostname="mx.test",
            **kwargs,
        )
        self._controller.sessions = []
        self._controller.start()
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is None:
            return
        # aiosmtpd leaves TLS connections open when it stops: abort every connection in
        # the server's loop first, as a crashed server would
        done = threading.Event()

        def abort() -> None:
            for session in controller.sessions:
                if session.transport is not None:
                    session.transport.abort()
            done.set()

        controller.loop.call_soon_threadsafe(abort)
        done.wait(5)
        controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the Receiver protocol -----------------------------------------------------------------

    def received(self) -> list[Received]:
        with self._lock:
            mails = list(self.mails)
        out = []
        for mail in mails:
            body = mail.message.get_content().replace("\r\n", "\n")
            body = body.removesuffix("\n")  # the line break that ends every mail body
            out.append(Received(mail.rcpt_tos[0], str(mail.message["Subject"]), body))
        return out

    def refuse(self, *, permanent: bool) -> None:
        self._refusal = (
            "550 5.1.1 <{}>: mailbox unavailable" if permanent else "451 4.3.0 try again later"
        )

    def accept(self) -> None:
        self._refusal = None

    def go_down(self) -> None:
        self.stop()

    def come_back(self) -> None:
        self.start()

    # -- scripted replies ----------------------------------------------------------------------

    def reply_to_rcpt(self, *replies: str) -> None:
        """Answer the next RCPT commands with *replies* (``"421 4.7.0 busy"``), in order."""
        self._replies.extend(replies)

    def _rcpt_reply(self, address: str) -> str | None:
        if self._replies:
            return self._replies.popleft()
        if self._refusal is not None:
            return self._refusal.format(address)
        return None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword) and self.users is not None:
            login = auth_data.login.decode()
            if self.users.get(login) == auth_data.password.decode():
                self.logins.append(login)
                return AuthResult(success=True)
        self.failed_logins += 1
        return AuthResult(success=False, handled=False)

    def _record(self, envelope: Any) -> None:
        raw: bytes = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        with self._lock:
            self.mails.append(Mail(envelope.mail_from, tuple(envelope.rcpt_tos), message, raw))


class _SmtpHandler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.receiver.connections += 1
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self.receiver._rcpt_reply(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.receiver._record(envelope)
        return "250 2.0.0 Message accepted for delivery"


# -- webhooks ----------------------------------------------------------------------------------


@attrs.frozen
class Request:
    """A request as the webhook receiver got it."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@attrs.frozen
class Answer:
    """A scripted answer: status, headers, body."""

    status: int
    headers: dict[str, str] = attrs.field(factory=dict)
    body: bytes = b'{"ok": false}'


class WebhookReceiver:
    """A threaded HTTP/1.1 server on loopback taking dualduty's webhook POSTs.

    It keeps connections alive, checks the signature when it knows the secret (a bad one
    gets 401 and is not accepted), records every request, and answers 200 unless told
    otherwise (:meth:`answer`, :meth:`refuse`, :meth:`go_down`).

    :param secret: the signing secret to check signatures with.
    :param tls: a server TLS context, to serve HTTPS.
    :param record: keep every request (off for throughput measurements).
    """

    def __init__(
        self, *, secret: str | None = None, tls: ssl.SSLContext | None = None, record: bool = True
    ) -> None:
        self.secret = secret
        self.tls = tls
        self.record = record
        self.port = free_port()
        self.requests: list[Request] = []
        self.accepted: list[Request] = []
        self.bad_signatures = 0
        self.count = 0
        self.connections = 0
        self._answers: deque[Answer] = deque()
        self._refusal: Answer | None = None
        self._lock = threading.Lock()
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{LOOPBACK}:{self.port}/hooks/dualduty?district=demo"

    # -- running -------------------------------------------------------------------------------

    def start(self) -> Self:
        server = _HttpServer((LOOPBACK, self.port), _HttpHandler)
        server.receiver = self
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()  # closes the listening socket; then the kept-alive ones:
        server.close_connections()
        server.join()
        assert self._thread is not None
        self._thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the Receiver protocol -----------------------------------------------------------------

    def received(self) -> list[Received]:
        with self._lock:
            accepted = list(self.accepted)
        out = []
        for request in accepted:
            data = request.json()
            out.append(Received(data["recipient"], data["title"], data["text"]))
        return out

    def refuse(self, *, permanent: bool) -> None:
        self._refusal = (
            Answer(422, body=b'{"error": "unknown recipient"}')
            if permanent
            else Answer(503, {"Retry-After": "2"}, b'{"error": "busy"}')
        )

    def accept(self) -> None:
        self._refusal = None

    def go_down(self) -> None:
        self.stop()

    def come_back(self) -> None:
        self.start()

    # -- scripted answers ----------------------------------------------------------------------

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests with *answers*, in order."""
        self._answers.extend(answers)

    def _handle(self, request: Request) -> Answer:
        with self._lock:
            self.count += 1
            if self.record:
                self.requests.append(request)
            if self.secret is not None and not self._signed(request):
                self.bad_signatures += 1
                return Answer(401, body=b'{"error": "bad signature"}')
            if self._answers:
                return self._answers.popleft()
            if self._refusal is not None:
                return self._refusal
            if self.record:
                self.accepted.append(request)
            return Answer(200, body=b'{"ok": true}')

    def _signed(self, request: Request) -> bool:
        assert self.secret is not None
        timestamp = request.headers.get(TIMESTAMP_HEADER.lower(), "")
        signature = request.headers.get(SIGNATURE_HEADER.lower(), "")
        return verify_signature(self.secret, timestamp, request.body, signature, max_age=300)


class _HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = False  # joined when the server closes
    allow_reuse_address = True
    receiver: WebhookReceiver

    def __init__(self, address: tuple[str, int], handler: type[_HttpHandler]) -> None:
        self.open: set[socket.socket] = set()
        self.open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.open_lock:
            self.open.add(request)
        self.receiver.connections += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.open_lock:
            self.open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.open_lock:
            sockets = list(self.open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def join(self) -> None:
        # ThreadingMixIn.server_close joins the handler threads; here after the
        # kept-alive connections are shut, so that the threads can end
        threads = getattr(self, "_threads", None)
        if threads is not None:
            threads.join()

    def server_close(self) -> None:
        http.server.HTTPServer.server_close(self)  # not the join: connections are open yet

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a connection closed under a handler (go_down) is expected


class _HttpHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HttpServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.server.receiver._handle(Request(self.path, headers, body))
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def received_titles(receiver: SmtpReceiver | WebhookReceiver) -> Sequence[str]:
    return [r.title for r in receiver.received()]
