"""The ``webhook`` channel: each notification POSTed as JSON to a URL, signed if wanted.

::

    [notify.channels.oa-system]
    type = "webhook"
    url = "https://oa.example.cn/hooks/dualduty"
    secret = "env:OA_HOOK_SECRET"     # optional: sign the body

The body is one JSON object (UTF-8)::

    {"channel": "oa-system", "recipient": "zhao", "title": "重大安全隐患",
     "text": "…", "markdown": null, "urgent": true, "key": "…"}

With a secret, two headers let the receiver check that the body is dualduty's and
unchanged: ``X-Dualduty-Timestamp`` (Unix seconds) and ``X-Dualduty-Signature``
(``sha256=`` and the hex HMAC-SHA256, keyed with the secret, of the timestamp, a dot and
the body); :func:`verify_signature` checks them. ``Idempotency-Key`` carries the
message's key, the same for every try of one notification.

A ``2xx`` answer is a delivery; ``408``, ``429`` and ``5xx`` are tried again (after the
``Retry-After`` the receiver asked for); any other answer is a failure that another try
will not fix; a receiver that cannot be reached is tried again. One HTTP/1.1 connection
is kept open and reused.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from dualduty._version import __version__

from . import ChannelConfigError, DeliveryResult, OutboxMessage, RateLimit, Secret, fit_bytes
from .channels import ChannelSettings, _scrub, _stale

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookChannel",
    "WebhookChannelType",
    "sign",
    "verify_signature",
]

#: The header holding the body's signature, ``sha256=<hex>``.
SIGNATURE_HEADER = "X-Dualduty-Signature"
#: The header holding the time of signing, in Unix seconds.
TIMESTAMP_HEADER = "X-Dualduty-Timestamp"

# What the answers mean: these are worth another try, every other non-2xx is not.
_RETRY_STATUSES = frozenset({408, 425, 429})
# The most of a receiver's answer quoted in a delivery's detail.
_SNIPPET = 200


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature of *body* sent at *timestamp*: ``sha256=`` and the hex HMAC-SHA256,
    keyed with *secret* (UTF-8), of ``f"{timestamp}."`` followed by the body.

    >>> from dualduty.notify.webhook import sign
    >>> sign("s3cret", "1700000000", '{"title":"重大"}'.encode())
    'sha256=a862b6271fe6c4ad48ef2a026a0aeea54a7a4ea252b2c5bef66e4ac56f890aae'
    """
    mac = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.".encode() + body, digestmod=hashlib.sha256
    )
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    max_age: float | None = None,
    now: float | None = None,
) -> bool:
    """Whether *signature* (the ``X-Dualduty-Signature`` header) signs *body* sent at
    *timestamp* (the ``X-Dualduty-Timestamp`` header) with *secret*. For receivers.

    Compared in constant time. Give *max_age* (seconds) to refuse old or future
    timestamps as well, so that a recorded request cannot be replayed later.

    >>> from dualduty.notify.webhook import sign, verify_signature
    >>> body = b'{"title":"test"}'
    >>> verify_signature("s3cret", "1700000000", body, sign("s3cret", "1700000000", body))
    True
    >>> verify_signature("s3cret", "1700000000", body + b" ", sign("s3cret", "1700000000", body))
    False
    >>> sig = sign("s3cret", "1700000000", body)
    >>> verify_signature("s3cret", "1700000000", body, sig, max_age=300, now=1700000400)
    False

    :param now: the current Unix time (default: the clock's).
    """
    expected = sign(secret, timestamp, body).encode("ascii")
    if not hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace")):
        return False
    if max_age is not None:
        try:
            sent = int(timestamp)
        except ValueError:
            return False
        if abs((time.time() if now is None else now) - sent) > max_age:
            return False
    return True


class WebhookChannel:
    """POSTs each notification as JSON to *url*, over one kept-open HTTP/1.1 connection.

    :param name: the channel's name.
    :param url: an ``http://`` or ``https://`` URL, or a :class:`~dualduty.notify.Secret`
        holding one (a URL with a token in it). Only its scheme, host and port are ever
        shown.
    :param secret: the signing secret; without it the body is sent unsigned.
    :param timeout: seconds to wait for the receiver at each step.
    :param rate_limits: limits the dispatcher keeps for this channel.
    :param max_bytes: the most UTF-8 bytes of ``text`` (and of ``markdown``) the receiver
        takes; longer ones are cut with :func:`~dualduty.notify.fit_bytes`.
    :param ca_file: a PEM file of certificate authorities to trust instead of the system's.
    :raises ChannelConfigError: if the URL is not one.

    The channel is safe to use from several threads: deliveries through one channel take
    turns on its connection. :meth:`close` ends the connection.
    """

    def __init__(
        self,
        name: str,
        url: str | Secret,
        *,
        secret: Secret | None = None,
        timeout: float = 10.0,
        rate_limits: Sequence[RateLimit] = (),
        max_bytes: int | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> None:
        text = url.reveal() if isinstance(url, Secret) else url
        try:
            scheme, host, port, target = _parse_url(text)
        except ValueError as e:
            raise ChannelConfigError(f"notify.channels.{name}.url: {e}") from None
        if max_bytes is not None and max_bytes < 16:
            raise ChannelConfigError(
                f"notify.channels.{name}.max_bytes: expected at least 16, got {max_bytes}"
            )
        self.name = name
        self.origin = f"{scheme}://{host}:{port}"
        """Where the messages go, without the URL's path (which may hold a token)."""
        self.timeout = timeout
        self.rate_limits: tuple[RateLimit, ...] = tuple(rate_limits)
        self.max_bytes = max_bytes
        self.ca_file = Path(ca_file) if ca_file is not None else None
        self._https = scheme == "https"
        self._host = host
        self._port = port
        self._target = target
        self._url = url if isinstance(url, Secret) else None
        self._secret = secret
        self._headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"dualduty/{__version__}",
        }
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        signed = ", signed" if self._secret is not None else ""
        return f"WebhookChannel({self.name!r}, {self.origin!r}{signed})"

    def body(self, message: OutboxMessage) -> bytes:
        """The JSON body sent for *message* (texts cut to ``max_bytes``)."""
        text, markdown = message.text, message.markdown
        if self.max_bytes is not None:
            text = fit_bytes(text, self.max_bytes)
            markdown = fit_bytes(markdown, self.max_bytes) if markdown is not None else None
        return orjson.dumps(
            {
                "channel": message.channel,
                "recipient": message.recipient,
                "title": message.title,
                "text": text,
                "markdown": markdown,
                "urgent": message.urgent,
                "key": message.key,
            }
        )

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        """POST *message*; one try (a kept-open connection the receiver had closed is
        replaced before anything was sent), no retries here."""
        body = self.body(message)
        headers = dict(self._headers)
        if self._secret is not None:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(self._secret.reveal(), timestamp, body)
        if message.key is not None:
            headers["Idempotency-Key"] = _header_value(message.key)
        with self._lock:
            return self._post(body, headers)

    def close(self) -> None:
        """End the kept-open connection, if any (the next delivery opens another)."""
        with self._lock:
            self._drop()

    # -- the connection ------------------------------------------------------------------------

    def _post(self, body: bytes, headers: dict[str, str]) -> DeliveryResult:
        for attempt in range(2):
            conn = self._conn
            reused = conn is not None and not _stale(conn.sock)
            if conn is None or not reused:
                self._drop()
                conn = self._conn = self._connect()
            try:
                conn.request("POST", self._target, body, headers)
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as e:
                self._drop()
                if reused and attempt == 0:
                    continue  # closed by the receiver as we wrote: nothing reached it
                return self._unreached(e)
            except (OSError, http.client.HTTPException) as e:
                self._drop()
                return self._unreached(e)
            try:
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as e:
                self._drop()
                return self._unreached(e)
            if response.will_close:
                self._drop()
            return self._outcome(response, data)
        raise AssertionError("unreachable")  # pragma: no cover

    def _connect(self) -> http.client.HTTPConnection:
        if self._https:
            cafile = str(self.ca_file) if self.ca_file is not None else None
            context = ssl.create_default_context(cafile=cafile)
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout, context=context
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    # -- outcomes ------------------------------------------------------------------------------

    def _outcome(self, response: http.client.HTTPResponse, data: bytes) -> DeliveryResult:
        status = response.status
        code = str(status)
        detail = f"{self.origin}: HTTP {status} {response.reason}".rstrip()
        snippet = " ".join(data[:_SNIPPET].decode("utf-8", "replace").split())
        if snippet:
            detail += f": {snippet}"
        detail = _scrub(detail, self._secret, self._url)
        if 200 <= status <= 299:
            return DeliveryResult.ok(code, detail)
        if status in _RETRY_STATUSES or 500 <= status <= 599:
            wait = _retry_after(response.getheader("Retry-After"))
            return DeliveryResult.retry(detail, code, retry_after=wait)
        return DeliveryResult.failed(detail, code)

    def _unreached(self, e: BaseException) -> DeliveryResult:
        where = self.origin
        if isinstance(e, ssl.SSLCertVerificationError):
            return DeliveryResult.retry(f"{where}: TLS certificate not trusted: {e.verify_message}")
        if isinstance(e, ssl.SSLError):
            return DeliveryResult.retry(f"{where}: TLS failed: {e.reason or type(e).__name__}")
        if isinstance(e, TimeoutError | socket.timeout):
            return DeliveryResult.retry(f"{where}: no answer within {self.timeout:g} s")
        if isinstance(e, ConnectionRefusedError):
            return DeliveryResult.retry(f"{where}: connection refused")
        if isinstance(e, http.client.RemoteDisconnected):
            return DeliveryResult.retry(f"{where}: closed the connection without an answer")
        if isinstance(e, socket.gaierror):
            return DeliveryResult.retry(f"{self._host}: name not resolved ({e.strerror})")
        if isinstance(e, OSError):
            return DeliveryResult.retry(f"{where}: {e.strerror or type(e).__name__}")
        return DeliveryResult.retry(f"{where}: bad HTTP answer ({type(e).__name__})")


def _parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path and query) of an http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"}:
        raise ValueError("expected an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a user name or password in the URL is not supported")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the URL's port is no number between 0 and 65535") from None
    if not parts.hostname:
        raise ValueError("the URL names no host")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port or default, target


def _header_value(text: str) -> str:
    """*text* as it can travel in a header: as is if printable ASCII, else percent-encoded."""
    if text.isascii() and text.isprintable():
        return text
    return quote(text, safe="")


def _retry_after(value: str | None) -> float | None:
    """The seconds a ``Retry-After`` header asks for (seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class WebhookChannelType:
    """The ``webhook`` channel type: makes a :class:`WebhookChannel` from a table's settings.

    ``url`` is required (a URL, or ``"env:NAME"``/``"file:PATH"`` for one that holds a
    token); ``secret`` (``"env:NAME"`` or ``"file:PATH"``), ``timeout``, ``max_bytes``,
    ``rate_limits`` and ``ca_file`` are optional (see :class:`WebhookChannel`).
    """

    name = "webhook"

    def create(self, name: str, settings: Mapping[str, Any]) -> WebhookChannel:
        """A :class:`WebhookChannel` called *name*; secrets are read now."""
        s = ChannelSettings(name, settings)
        raw = settings.get("url")
        url: str | Secret | None
        if isinstance(raw, str) and raw.startswith(("env:", "file:")):
            url = s.secret("url")
        else:
            url = s.required("url", "the URL to POST to") or None
        if url is not None:
            try:
                _parse_url(url.reveal() if isinstance(url, Secret) else url)
            except ValueError as e:
                s.problem("url", str(e))
        secret = s.secret("secret")
        timeout = s.number("timeout", 10.0)
        max_bytes = s.integer("max_bytes", None, minimum=16)
        rate_limits = s.rate_limits()
        ca_file = s.file("ca_file")
        s.done()
        assert url is not None  # done() raised if it was missing
        return WebhookChannel(
            name,
            url,
            secret=secret,
            timeout=timeout,
            rate_limits=rate_limits,
            max_bytes=max_bytes,
            ca_file=ca_file,
        )
