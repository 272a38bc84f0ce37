"""The ``email`` channel: notifications as mail, sent over SMTP with the standard library.

::

    [notify.channels.office-mail]
    type = "email"
    host = "smtp.example.cn"
    security = "starttls"            # or "ssl" (port 465), or "none" (a local relay)
    sender = "区教体局安全办 <safety@example.cn>"
    username = "safety@example.cn"
    password = "env:SAFETY_MAIL_PASSWORD"

Each message goes to the address in its ``recipient`` (routing turns people into
addresses), with the title as the subject and the plain text as the body (``text/plain``,
UTF-8). A Markdown body is not sent: mail programs show Markdown as its marks, and the
plain text is written to be read as it is. The reply of the server decides the outcome:
``4xx`` is worth another try, ``5xx`` is not; a connection that cannot be made, times out
or fails its TLS handshake is tried again later. One connection is kept open and reused
for the next message, and made again when the server has closed it.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import socket
import ssl
import threading
from collections.abc import Mapping, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from . import ChannelConfigError, DeliveryResult, OutboxMessage, RateLimit, Secret
from .channels import ChannelSettings, _scrub, _stale

__all__ = ["DEFAULT_PORTS", "SECURITY", "EmailChannel", "EmailChannelType"]

#: The ways to secure the connection: STARTTLS on a plain connection, TLS from the first
#: byte, or none (a relay on the same machine or network).
SECURITY = ("starttls", "ssl", "none")

#: The port for each ``security`` when ``port`` is not given.
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class _NoStartTLS(smtplib.SMTPException):
    """The server does not offer STARTTLS although the channel requires it."""


class EmailChannel:
    """Sends notifications as mail through one SMTP server.

    :param name: the channel's name.
    :param host: the SMTP server.
    :param sender: the From address, with a display name if wanted
        (``区教体局安全办 <safety@example.cn>``).
    :param port: the server's port (default: 587 for ``starttls``, 465 for ``ssl``, 25 for
        ``none``).
    :param security: ``"starttls"`` (the default), ``"ssl"`` or ``"none"``. A password is
        only ever sent over TLS.
    :param username: the login name, if the server wants one.
    :param password: the password (a :class:`~dualduty.notify.Secret`); needs *username*.
    :param timeout: seconds to wait for the server at each step.
    :param ca_file: a PEM file of certificate authorities to trust instead of the
        system's (a server with a certificate of its own making).
    :param local_hostname: the name to greet the server with (default: this machine's
        fully qualified name).
    :param rate_limits: limits the dispatcher keeps for this channel.
    :raises ChannelConfigError: if the settings do not fit together.

    The channel is safe to use from several threads: deliveries through one channel take
    turns on its connection. :meth:`close` ends the connection.
    """

    max_bytes: int | None = None

    def __init__(
        self,
        name: str,
        host: str,
        *,
        sender: str,
        port: int | None = None,
        security: str = "starttls",
        username: str | None = None,
        password: Secret | None = None,
        timeout: float = 30.0,
        ca_file: str | os.PathLike[str] | None = None,
        local_hostname: str | None = None,
        rate_limits: Sequence[RateLimit] = (),
    ) -> None:
        problems = _check(
            host=host,
            sender=sender,
            security=security,
            username=username,
            password=password is not None,
        )
        if password is not None and not password.reveal().isascii():
            problems.append(
                ("password", "has characters other than ASCII, which SMTP login cannot send")
            )
        if problems:
            raise ChannelConfigError(
                "\n".join(f"notify.channels.{name}.{key}: {text}" for key, text in problems)
            )
        self.name = name
        self.host = host
        self.security = security
        self.port = port if port is not None else DEFAULT_PORTS[security]
        self.sender = sender
        self.username = username
        self.timeout = timeout
        self.ca_file = Path(ca_file) if ca_file is not None else None
        self.local_hostname = local_hostname
        self.rate_limits: tuple[RateLimit, ...] = tuple(rate_limits)
        self._password = password
        self._from = parseaddr(sender)[1]
        self._domain = self._from.rpartition("@")[2]
        self._smtp: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"EmailChannel({self.name!r}, {self.host!r}, port={self.port}, "
            f"security={self.security!r}, sender={self.sender!r})"
        )

    # -- delivering ----------------------------------------------------------------------------

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        """Send *message* to the address in its ``recipient``; one try, no retries here."""
        address = parseaddr(message.recipient)[1]
        if "@" not in address:
            return DeliveryResult.failed(f"not an email address: {message.recipient!r}")
        try:
            mail = self._compose(message)
        except (ValueError, TypeError) as e:  # a header the mail format cannot carry
            return DeliveryResult.failed(f"cannot compose the mail: {e}")
        with self._lock:
            try:
                smtp = self._connection()
                smtp.send_message(mail, from_addr=self._from, to_addrs=[address])
            except (smtplib.SMTPException, OSError) as e:
                self._drop()
                return self._outcome(e)
        return DeliveryResult.ok("250", f"accepted by {self.host}:{self.port}")

    def close(self) -> None:
        """End the kept-open connection, if any (the next delivery opens another)."""
        with self._lock:
            smtp, self._smtp = self._smtp, None
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()

    def _compose(self, message: OutboxMessage) -> EmailMessage:
        mail = EmailMessage(policy=SMTP_POLICY)
        mail["Subject"] = " ".join(message.title.split())  # no line breaks in a header
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Date"] = formatdate(localtime=True)
        if message.key is not None:
            # the same notification sent twice has the same Message-ID: mail programs
            # show it once
            digest = hashlib.sha256(message.key.encode("utf-8")).hexdigest()[:40]
            mail["Message-ID"] = f"<dualduty.{digest}@{self._domain}>"
        else:
            mail["Message-ID"] = make_msgid("dualduty", domain=self._domain)
        if message.urgent:
            mail["Importance"] = "high"
            mail["X-Priority"] = "1"
        body = message.text or message.markdown or ""
        mail.set_content(body, charset="utf-8", cte=None if body.isascii() else "base64")
        return mail

    def _connection(self) -> smtplib.SMTP:
        """The kept-open connection, or a new one if there is none or the server left."""
        smtp = self._smtp
        if smtp is not None and not _stale(smtp.sock):
            return smtp
        self._drop()
        smtp = self._connect()
        self._smtp = smtp
        return smtp

    def _connect(self) -> smtplib.SMTP:
        context = self._tls_context() if self.security != "none" else None
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=context,
            )
        else:
            smtp = smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        try:
            if self.security == "starttls":
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise _NoStartTLS("the server does not offer STARTTLS")
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username is not None and self._password is not None:
                smtp.login(self.username, self._password.reveal())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        cafile = str(self.ca_file) if self.ca_file is not None else None
        return ssl.create_default_context(cafile=cafile)

    def _drop(self) -> None:
        """Forget the connection after a failure (closed without a goodbye)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    # -- outcomes ------------------------------------------------------------------------------

    def _outcome(self, e: BaseException) -> DeliveryResult:
        where = f"{self.host}:{self.port}"
        if isinstance(e, smtplib.SMTPRecipientsRefused):
            code, reply = next(iter(e.recipients.values()), (0, b""))
            return self._by_code(code, f"recipient refused: {code} {_text(reply)}")
        if isinstance(e, smtplib.SMTPAuthenticationError):
            return self._by_code(
                e.smtp_code,
                f"login of {self.username!r} refused: {e.smtp_code} {_text(e.smtp_error)}",
            )
        if isinstance(e, smtplib.SMTPSenderRefused):
            return self._by_code(
                e.smtp_code, f"sender {e.sender} refused: {e.smtp_code} {_text(e.smtp_error)}"
            )
        if isinstance(e, smtplib.SMTPResponseException):
            return self._by_code(e.smtp_code, f"{e.smtp_code} {_text(e.smtp_error)}")
        if isinstance(e, _NoStartTLS):
            return DeliveryResult.retry(f"{where}: {e}; the mail is not sent unencrypted")
        if isinstance(e, smtplib.SMTPNotSupportedError):
            return DeliveryResult.failed(f"{where}: {_scrub(str(e), self._password)}")
        if isinstance(e, smtplib.SMTPServerDisconnected):
            # smtplib reports a time-out or a reset while reading a reply as a disconnection
            cause = e.__cause__ or e.__context__
            if isinstance(cause, OSError):
                return self._outcome(cause)
            return DeliveryResult.retry(f"{where} closed the connection")
        if isinstance(e, ssl.SSLCertVerificationError):
            return DeliveryResult.retry(f"{where}: TLS certificate not trusted: {e.verify_message}")
        if isinstance(e, ssl.SSLError):
            return DeliveryResult.retry(f"{where}: TLS failed: {e.reason or type(e).__name__}")
        if isinstance(e, TimeoutError | socket.timeout):
            return DeliveryResult.retry(f"{where}: no answer within {self.timeout:g} s")
        if isinstance(e, ConnectionRefusedError):
            return DeliveryResult.retry(f"{where}: connection refused")
        if isinstance(e, socket.gaierror):
            return DeliveryResult.retry(f"{self.host}: name not resolved ({e.strerror})")
        if isinstance(e, OSError):
            return DeliveryResult.retry(f"{where}: {e.strerror or type(e).__name__}")
        return DeliveryResult.retry(f"{where}: {type(e).__name__}")

    def _by_code(self, code: int, detail: str) -> DeliveryResult:
        detail = _scrub(detail, self._password)
        if 500 <= code <= 599:
            return DeliveryResult.failed(detail, str(code))
        return DeliveryResult.retry(detail, str(code) if code else None)


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _check(
    *, host: str | None, sender: str | None, security: str, username: str | None, password: bool
) -> list[tuple[str, str]]:
    """Problems with the settings, as (setting, message); ``None`` is not checked."""
    problems = []
    if host is not None and not host.strip():
        problems.append(("host", "expected the SMTP server's name"))
    if security not in SECURITY:
        listed = ", ".join(repr(s) for s in SECURITY)
        problems.append(("security", f"{security!r} is not one of {listed}"))
    if sender is not None:
        address = parseaddr(sender)[1]
        try:
            Address(addr_spec=address)
            valid = "@" in address
        except (ValueError, IndexError):
            valid = False
        if not valid:
            problems.append(
                ("sender", f"{sender!r} is no address, like '安全办 <safety@example.cn>'")
            )
    if username is not None and not username.isascii():
        problems.append(
            ("username", "has characters other than ASCII, which SMTP login cannot send")
        )
    if password and username is None:
        problems.append(("username", "missing; a password is given, so the login name is needed"))
    if password and security == "none":
        problems.append(
            ("password", "a password is only sent over TLS: set security to 'starttls' or 'ssl'")
        )
    return problems


class EmailChannelType:
    """The ``email`` channel type: makes an :class:`EmailChannel` from a table's settings.

    ``host`` and ``sender`` are required; ``port``, ``security``, ``username``,
    ``password`` (``"env:NAME"`` or ``"file:PATH"``), ``timeout``, ``ca_file``,
    ``local_hostname`` and ``rate_limits`` are optional (see :class:`EmailChannel`).
    """

    name = "email"

    def create(self, name: str, settings: Mapping[str, Any]) -> EmailChannel:
        """An :class:`EmailChannel` called *name*; the password is read now."""
        s = ChannelSettings(name, settings)
        host = s.required("host", "the SMTP server's name")
        sender = s.required("sender", "the From address, like '安全办 <safety@example.cn>'")
        security = s.choice("security", SECURITY, "starttls")
        port = s.integer("port", None, maximum=65535)
        username = s.text("username")
        password = s.secret("password")
        timeout = s.number("timeout", 30.0)
        ca_file = s.file("ca_file")
        local_hostname = s.text("local_hostname")
        rate_limits = s.rate_limits()
        if password is not None and not password.reveal().isascii():
            s.problem("password", "has characters other than ASCII, which SMTP login cannot send")
        for key, text in _check(
            host=host or None,
            sender=sender or None,
            security=security,
            username=username,
            password=settings.get("password") is not None,
        ):
            s.problem(key, text)
        s.done()
        return EmailChannel(
            name,
            host,
            sender=sender,
            port=port,
            security=security,
            username=username,
            password=password,
            timeout=timeout,
            ca_file=ca_file,
            local_hostname=local_hostname,
            rate_limits=rate_limits,
        )
