"""The ``email`` channel against a real SMTP server (aiosmtpd) on loopback: plain, STARTTLS
and implicit TLS with a certificate made for the test, logins, refusals and outages."""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from channel_servers import LOOPBACK, Silent, SmtpReceiver, Tls, free_port, make_tls
from dualduty.notify import Channel, ChannelConfigError, OutboxMessage, RateLimit, Secret
from dualduty.notify.email import EmailChannel, EmailChannelType
from dualduty.testing.channels import ChannelConformance, Received

PASSWORD = "mail-pw-7Qx9"  # the test's secret: it must never show
SENDER = "区教体局安全办 <safety@example.cn>"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


def channel_for(
    server: SmtpReceiver, tls: Tls | None = None, *, password: str | None = PASSWORD, **kw: object
) -> EmailChannel:
    secret = Secret(password, "env:MAIL_PASSWORD") if password is not None else None
    options: dict[str, object] = {
        "port": server.port,
        "security": server.security,
        "sender": SENDER,
        "username": "safety" if server.users else None,
        "password": secret if server.users else None,
        "ca_file": tls.ca_file if tls is not None else None,
        "timeout": 5.0,
    }
    options.update(kw)
    return EmailChannel("office-mail", LOOPBACK, **options)  # type: ignore[arg-type]


def message(
    recipient: str = "zhao@example.cn",
    title: str = "重大安全隐患",
    text: str = "第一中学实验楼消防通道堵塞。",
    **kw: object,
) -> OutboxMessage:
    return OutboxMessage("office-mail", recipient, title, text, **kw)  # type: ignore[arg-type]


@pytest.fixture
def plain() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as server:
        yield server


@pytest.fixture
def plain_channel(plain: SmtpReceiver) -> Iterator[EmailChannel]:
    channel = channel_for(plain)
    yield channel
    channel.close()


# -- the conformance kit -----------------------------------------------------------------------


class TestEmailStartTls(ChannelConformance):
    """STARTTLS with a login, as a district's mail server would be set up."""

    @pytest.fixture
    def receiver(self, tls: Tls) -> Iterator[SmtpReceiver]:
        with SmtpReceiver(security="starttls", tls=tls.server, users={"safety": PASSWORD}) as r:
            yield r

    @pytest.fixture
    def channel(self, receiver: SmtpReceiver, tls: Tls) -> Iterator[EmailChannel]:
        channel = channel_for(receiver, tls)
        yield channel
        channel.close()

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [PASSWORD]


class TestEmailSsl(TestEmailStartTls):
    """TLS from the first byte (port 465 style), with a login."""

    @pytest.fixture
    def receiver(self, tls: Tls) -> Iterator[SmtpReceiver]:
        with SmtpReceiver(security="ssl", tls=tls.server, users={"safety": PASSWORD}) as r:
            yield r


class TestEmailPlain(ChannelConformance):
    """No TLS and no login: a relay on the same machine."""

    @pytest.fixture
    def receiver(self) -> Iterator[SmtpReceiver]:
        with SmtpReceiver() as r:
            yield r

    @pytest.fixture
    def channel(self, receiver: SmtpReceiver) -> Iterator[EmailChannel]:
        channel = channel_for(receiver)
        yield channel
        channel.close()


# -- TLS and logins ----------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_delivers_after_a_login(tls: Tls, security: str) -> None:
    users = {"safety": PASSWORD}
    with SmtpReceiver(security=security, tls=tls.server, users=users) as server:
        channel = channel_for(server, tls)
        try:
            result = channel.deliver(message())
        finally:
            channel.close()
    assert result.delivered, result
    assert result.provider_code == "250"
    assert server.logins == ["safety"]
    assert server.received() == [
        Received("zhao@example.cn", "重大安全隐患", "第一中学实验楼消防通道堵塞。")
    ]


def test_starttls_uses_the_default_port_587() -> None:
    assert channel_for(SmtpReceiver(), port=None, security="starttls").port == 587
    assert channel_for(SmtpReceiver(), port=None, security="ssl").port == 465
    assert channel_for(SmtpReceiver(), port=None, security="none", password=None).port == 25


def test_wrong_password_is_a_failure_with_535(tls: Tls, caplog: pytest.LogCaptureFixture) -> None:
    with SmtpReceiver(security="starttls", tls=tls.server, users={"safety": "another"}) as server:
        channel = channel_for(server, tls)
        with caplog.at_level(logging.DEBUG):
            result = channel.deliver(message())
        channel.close()
    assert not result.delivered
    assert not result.retryable
    assert result.provider_code == "535"
    assert "login of 'safety' refused" in result.detail
    assert server.failed_logins >= 1  # smtplib tries each mechanism the server offers
    assert server.mails == []
    for shown in (result.detail, repr(result), caplog.text, repr(channel), str(channel)):
        assert PASSWORD not in shown


def test_starttls_not_offered_sends_nothing(plain: SmtpReceiver) -> None:
    """A server without STARTTLS (or an attacker who removed it) gets no mail and no
    password; the delivery is tried again later."""
    plain.users = {"safety": PASSWORD}  # a channel set up for a login, sent to a plain server
    channel = channel_for(plain, security="starttls")
    result = channel.deliver(message())
    channel.close()
    assert not result.delivered
    assert result.retryable
    assert "does not offer STARTTLS" in result.detail
    assert plain.mails == []
    assert plain.logins == []


def test_untrusted_certificate_is_retryable(tls: Tls) -> None:
    """Without the test's CA, the server's certificate is not trusted: nothing is sent."""
    with SmtpReceiver(security="ssl", tls=tls.server) as server:
        channel = channel_for(server, None, password=None)
        result = channel.deliver(message())
        channel.close()
    assert not result.delivered
    assert result.retryable
    assert "certificate not trusted" in result.detail
    assert server.mails == []


# -- what the server answers -------------------------------------------------------------------


def test_550_recipient_refused_is_a_failure(
    plain: SmtpReceiver, plain_channel: EmailChannel
) -> None:
    plain.reply_to_rcpt("550 5.1.1 <nobody@example.cn>: mailbox unavailable")
    result = plain_channel.deliver(message("nobody@example.cn"))
    assert not result.delivered
    assert not result.retryable
    assert result.provider_code == "550"
    assert result.detail == "recipient refused: 550 5.1.1 <nobody@example.cn>: mailbox unavailable"
    assert plain.mails == []
    # the next message goes through
    assert plain_channel.deliver(message()).delivered
    assert len(plain.mails) == 1


@pytest.mark.parametrize("reply", ["421 4.7.0 try again later", "451 4.3.0 mailbox busy"])
def test_4xx_is_retryable(plain: SmtpReceiver, plain_channel: EmailChannel, reply: str) -> None:
    plain.reply_to_rcpt(reply)
    result = plain_channel.deliver(message())
    assert not result.delivered
    assert result.retryable
    assert result.provider_code == reply[:3]
    assert plain.mails == []
    retried = plain_channel.deliver(message())
    assert retried.delivered, retried
    assert len(plain.mails) == 1


def test_server_down_is_retryable() -> None:
    channel = EmailChannel(
        "office-mail", LOOPBACK, port=free_port(), security="none", sender=SENDER
    )
    result = channel.deliver(message())
    channel.close()
    assert not result.delivered
    assert result.retryable
    assert result.detail.endswith("connection refused")


def test_silent_server_times_out() -> None:
    with Silent() as silent:
        channel = EmailChannel(
            "office-mail", LOOPBACK, port=silent.port, security="none", sender=SENDER, timeout=0.2
        )
        result = channel.deliver(message())
        channel.close()
    assert not result.delivered
    assert result.retryable
    assert result.detail == f"{LOOPBACK}:{silent.port}: no answer within 0.2 s"


def test_not_an_address_is_a_failure(plain: SmtpReceiver, plain_channel: EmailChannel) -> None:
    result = plain_channel.deliver(message("zhao"))
    assert not result.delivered
    assert not result.retryable
    assert result.detail == "not an email address: 'zhao'"
    assert plain.connections == 0  # refused before any connection


# -- connections -------------------------------------------------------------------------------


def test_one_connection_for_many_messages(plain: SmtpReceiver, plain_channel: EmailChannel) -> None:
    for i in range(10):
        assert plain_channel.deliver(message(title=f"提醒 {i}")).delivered
    assert plain.connections == 1
    assert [r.title for r in plain.received()] == [f"提醒 {i}" for i in range(10)]


def test_reconnects_after_the_server_closed_the_connection(
    plain: SmtpReceiver, plain_channel: EmailChannel
) -> None:
    assert plain_channel.deliver(message(title="一")).delivered
    plain.go_down()
    plain.come_back()  # the kept-open connection is gone
    assert plain_channel.deliver(message(title="二")).delivered
    assert [r.title for r in plain.received()] == ["一", "二"]


def test_reconnects_after_a_refusal_closed_the_connection(
    plain: SmtpReceiver, plain_channel: EmailChannel
) -> None:
    plain.reply_to_rcpt("421 4.7.0 closing")  # smtplib closes the connection after a 421
    assert plain_channel.deliver(message()).retryable
    assert plain_channel.deliver(message()).delivered
    assert plain.connections == 2


# -- the mail ----------------------------------------------------------------------------------


def test_the_mail_as_sent(plain: SmtpReceiver, plain_channel: EmailChannel) -> None:
    result = plain_channel.deliver(
        message(
            "赵敏 <zhao@example.cn>",
            title="重大安全隐患\n立即上报",
            text="第一行\n第二行 🚒",
            urgent=True,
            key="hazard:h1|rule:major|zhao|office-mail|2025Q1",
        )
    )
    assert result.delivered, result
    (mail,) = plain.mails
    assert mail.mail_from == "safety@example.cn"
    assert mail.rcpt_tos == ("zhao@example.cn",)
    m = mail.message
    assert str(m["Subject"]) == "重大安全隐患 立即上报"  # one line
    assert b"=?utf-8?" in mail.raw.split(b"\r\n\r\n")[0]  # encoded words: the header is ASCII
    assert m["From"].addresses[0].display_name == "区教体局安全办"
    assert m["To"].addresses[0].display_name == "赵敏"
    assert m["Importance"] == "high"
    assert m["X-Priority"] == "1"
    assert m.get_content_type() == "text/plain"
    assert m.get_content_charset() == "utf-8"
    assert m.get_content() == "第一行\r\n第二行 🚒\r\n"
    assert email.utils.parsedate_to_datetime(m["Date"]) is not None
    # the same notification has the same Message-ID, so mail programs show a repeat once
    assert plain_channel.deliver(
        message("zhao@example.cn", key="hazard:h1|rule:major|zhao|office-mail|2025Q1")
    ).delivered
    assert plain.mails[1].message["Message-ID"] == m["Message-ID"]
    assert m["Message-ID"].endswith("@example.cn>")


def test_markdown_is_not_sent_beside_the_text(
    plain: SmtpReceiver, plain_channel: EmailChannel
) -> None:
    """The plain text is the body; Markdown only stands in when there is no text."""
    assert plain_channel.deliver(message(text="纯文本", markdown="**加粗**")).delivered
    assert plain_channel.deliver(message(text="", markdown="**加粗**")).delivered
    first, second = plain.mails
    assert not first.message.is_multipart()
    assert first.message.get_content() == "纯文本\r\n"
    assert second.message.get_content() == "**加粗**\r\n"


def test_ascii_text_is_not_base64(plain: SmtpReceiver, plain_channel: EmailChannel) -> None:
    assert plain_channel.deliver(message(title="Drill", text="Fire drill at 10:00.")).delivered
    assert b"Fire drill at 10:00." in plain.mails[0].raw


# -- settings and secrets ----------------------------------------------------------------------


def test_repr_shows_no_password() -> None:
    channel = channel_for(SmtpReceiver(users={"safety": PASSWORD}), security="starttls")
    assert repr(channel) == (
        f"EmailChannel('office-mail', '{LOOPBACK}', port={channel.port}, security='starttls', "
        f"sender='{SENDER}')"
    )
    assert PASSWORD not in repr(vars(channel))
    assert isinstance(channel, Channel)


def test_type_reads_the_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tls: Tls
) -> None:
    monkeypatch.setenv("SAFETY_MAIL_PASSWORD", PASSWORD)
    with SmtpReceiver(security="starttls", tls=tls.server, users={"safety": PASSWORD}) as server:
        channel = EmailChannelType().create(
            "office-mail",
            {
                "host": LOOPBACK,
                "port": server.port,
                "sender": SENDER,
                "username": "safety",
                "password": "env:SAFETY_MAIL_PASSWORD",
                "ca_file": str(tls.ca_file),
                "rate_limits": [{"count": 30, "seconds": 60}],
            },
        )
        monkeypatch.delenv("SAFETY_MAIL_PASSWORD")  # read when the channel was made
        result = channel.deliver(message())
        channel.close()
    assert result.delivered, result
    assert channel.rate_limits == (RateLimit(30, 60),)
    assert channel.security == "starttls"


def test_type_reads_the_password_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "mail-password"
    secret_file.write_text(PASSWORD + "\n", encoding="utf-8")
    channel = EmailChannelType().create(
        "m", {"host": "smtp.example.cn", "sender": SENDER, "username": "s",
              "password": f"file:{secret_file}"},
    )  # fmt: skip
    assert channel._password is not None
    assert channel._password.reveal() == PASSWORD


def test_settings_problems_are_all_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_PASSWORD", raising=False)
    with pytest.raises(ChannelConfigError) as info:
        EmailChannelType().create(
            "office-mail",
            {
                "security": "tls",
                "port": "587",
                "sender": "safety",
                "username": "safety",
                "password": "env:NO_SUCH_PASSWORD",
                "timeout": -1,
                "pasword": "x",
            },
        )
    assert str(info.value).splitlines() == [
        "notify.channels.office-mail.host: missing; the SMTP server's name",
        "notify.channels.office-mail.security: 'tls' is not one of 'starttls', 'ssl', 'none'",
        "notify.channels.office-mail.port: expected a whole number, got '587'",
        "notify.channels.office-mail.password: the environment variable NO_SUCH_PASSWORD is "
        "not set",
        "notify.channels.office-mail.timeout: expected a positive number, got -1",
        "notify.channels.office-mail.sender: 'safety' is no address, like "
        "'安全办 <safety@example.cn>'",
        "notify.channels.office-mail.pasword: unknown setting (known: ca_file, host, "
        "local_hostname, password, port, rate_limits, security, sender, timeout, type, username)",
    ]


def test_a_literal_password_is_refused_and_not_shown() -> None:
    with pytest.raises(ChannelConfigError) as info:
        EmailChannelType().create(
            "office-mail",
            {"host": "smtp.example.cn", "sender": SENDER, "username": "s", "password": PASSWORD},
        )
    assert str(info.value) == (
        "notify.channels.office-mail.password: expected 'env:NAME' or 'file:PATH' naming where "
        "the secret is kept; secrets are not written into district files"
    )
    assert PASSWORD not in str(info.value)


def test_a_password_needs_tls_and_a_login_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAIL_PW", PASSWORD)
    with pytest.raises(ChannelConfigError) as info:
        EmailChannelType().create(
            "relay",
            {"host": "localhost", "security": "none", "sender": SENDER, "password": "env:MAIL_PW"},
        )
    assert str(info.value).splitlines() == [
        "notify.channels.relay.username: missing; a password is given, so the login name is needed",
        "notify.channels.relay.password: a password is only sent over TLS: set security to "
        "'starttls' or 'ssl'",
    ]
    assert PASSWORD not in str(info.value)


def test_a_non_ascii_password_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAIL_PW", "密码-secret")
    with pytest.raises(ChannelConfigError) as info:
        EmailChannelType().create(
            "m", {"host": "h", "sender": SENDER, "username": "s", "password": "env:MAIL_PW"}
        )
    assert str(info.value) == (
        "notify.channels.m.password: has characters other than ASCII, which SMTP login cannot send"
    )


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ChannelConfigError, match=r"notify\.channels\.m\.security: 'tls' is not"):
        EmailChannel("m", "smtp.example.cn", sender=SENDER, security="tls")
    with pytest.raises(ChannelConfigError, match=r"notify\.channels\.m\.sender: 'nobody' is no"):
        EmailChannel("m", "smtp.example.cn", sender="nobody")
