"""The ``webhook`` channel against a real threaded HTTP/1.1 server on loopback: the body,
its signature as a receiver checks it, what each answer means, kept-alive connections."""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from channel_servers import LOOPBACK, Answer, Silent, Tls, WebhookReceiver, free_port, make_tls
from dualduty.notify import Channel, ChannelConfigError, OutboxMessage, RateLimit, Secret
from dualduty.notify.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannel,
    WebhookChannelType,
    sign,
    verify_signature,
)
from dualduty.testing.channels import ChannelConformance, Received

SECRET = "hook-secret-Zr41"  # the test's signing secret: it must never show


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


def message(
    recipient: str = "zhao",
    title: str = "重大安全隐患",
    text: str = "第一中学实验楼消防通道堵塞。",
    **kw: object,
) -> OutboxMessage:
    return OutboxMessage("oa", recipient, title, text, **kw)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret=SECRET) as s:
        yield s


@pytest.fixture
def channel(server: WebhookReceiver) -> Iterator[WebhookChannel]:
    c = WebhookChannel("oa", server.url, secret=Secret(SECRET, "env:OA_SECRET"), timeout=5.0)
    yield c
    c.close()


# -- the conformance kit -----------------------------------------------------------------------


class TestSignedWebhook(ChannelConformance):
    """Signed, with a limit on the text: the receiver checks every signature."""

    @pytest.fixture
    def receiver(self) -> Iterator[WebhookReceiver]:
        with WebhookReceiver(secret=SECRET) as r:
            yield r

    @pytest.fixture
    def channel(self, receiver: WebhookReceiver) -> Iterator[WebhookChannel]:
        c = WebhookChannel(
            "oa",
            receiver.url,
            secret=Secret(SECRET, "env:OA_SECRET"),
            max_bytes=2048,
            rate_limits=(RateLimit(20, 60),),
        )
        yield c
        c.close()

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [SECRET]

    @pytest.fixture
    def recipient(self) -> str:
        return "zhao"


class TestHttpsWebhook(ChannelConformance):
    """HTTPS with a certificate made for the test; unsigned, no limit on the text."""

    @pytest.fixture
    def receiver(self, tls: Tls) -> Iterator[WebhookReceiver]:
        with WebhookReceiver(tls=tls.server) as r:
            yield r

    @pytest.fixture
    def channel(self, receiver: WebhookReceiver, tls: Tls) -> Iterator[WebhookChannel]:
        c = WebhookChannel("oa", receiver.url, ca_file=tls.ca_file)
        yield c
        c.close()


# -- the body and its signature ----------------------------------------------------------------


def test_body_headers_and_signature(server: WebhookReceiver, channel: WebhookChannel) -> None:
    before = int(time.time())
    result = channel.deliver(
        message(markdown="**重大**", urgent=True, key="hazard:h1|major|zhao|oa|2025-03-14")
    )
    assert result.delivered, result
    assert result.provider_code == "200"
    (request,) = server.requests
    assert request.path == "/hooks/dualduty?district=demo"
    assert request.json() == {
        "channel": "oa",
        "recipient": "zhao",
        "title": "重大安全隐患",
        "text": "第一中学实验楼消防通道堵塞。",
        "markdown": "**重大**",
        "urgent": True,
        "key": "hazard:h1|major|zhao|oa|2025-03-14",
    }
    assert "重大安全隐患".encode() in request.body  # UTF-8, not \\u escapes
    headers = request.headers
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["idempotency-key"] == "hazard:h1|major|zhao|oa|2025-03-14"
    timestamp = headers[TIMESTAMP_HEADER.lower()]
    assert before <= int(timestamp) <= int(time.time())
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert headers[SIGNATURE_HEADER.lower()] == f"sha256={expected.hexdigest()}"
    assert server.bad_signatures == 0


def test_unsigned_without_a_secret_and_no_key_header_without_a_key() -> None:
    with WebhookReceiver() as server:
        channel = WebhookChannel("oa", server.url)
        assert channel.deliver(message()).delivered
        channel.close()
    headers = server.requests[0].headers
    assert TIMESTAMP_HEADER.lower() not in headers
    assert SIGNATURE_HEADER.lower() not in headers
    assert "idempotency-key" not in headers
    assert server.requests[0].json()["key"] is None


def test_a_key_beyond_ascii_is_percent_encoded(
    server: WebhookReceiver, channel: WebhookChannel
) -> None:
    assert channel.deliver(message(key="隐患:h1")).delivered
    assert server.requests[0].headers["idempotency-key"] == "%E9%9A%90%E6%82%A3%3Ah1"
    assert server.requests[0].json()["key"] == "隐患:h1"


def test_a_wrong_secret_is_refused_by_the_receiver(server: WebhookReceiver) -> None:
    channel = WebhookChannel("oa", server.url, secret=Secret("not-the-secret", "env:X"))
    result = channel.deliver(message())
    channel.close()
    assert not result.delivered
    assert not result.retryable
    assert result.provider_code == "401"
    assert server.bad_signatures == 1
    assert server.received() == []


def test_signature_fixed_vector() -> None:
    """A vector computed independently:
    ``printf '1700000000.{"title":"重大"}' | openssl dgst -sha256 -hmac s3cret``."""
    body = '{"title":"重大"}'.encode()
    expected = "sha256=a862b6271fe6c4ad48ef2a026a0aeea54a7a4ea252b2c5bef66e4ac56f890aae"
    assert sign("s3cret", "1700000000", body) == expected
    assert verify_signature("s3cret", "1700000000", body, expected)


def test_verify_signature_refuses_what_it_should() -> None:
    body = b'{"title":"test"}'
    good = sign(SECRET, "1700000000", body)
    assert verify_signature(SECRET, "1700000000", body, good)
    assert verify_signature(SECRET, "1700000000", body, f" {good} ")
    assert not verify_signature(SECRET, "1700000001", body, good)  # another time
    assert not verify_signature(SECRET, "1700000000", body + b" ", good)  # another body
    assert not verify_signature("other", "1700000000", body, good)  # another secret
    assert not verify_signature(SECRET, "1700000000", body, good.upper())
    assert not verify_signature(SECRET, "1700000000", body, "sha256=签名")  # not ASCII
    assert not verify_signature(SECRET, "1700000000", body, "")
    # replays: too old or from the future
    assert verify_signature(SECRET, "1700000000", body, good, max_age=300, now=1700000299)
    assert not verify_signature(SECRET, "1700000000", body, good, max_age=300, now=1700000301)
    assert not verify_signature(SECRET, "1700000000", body, good, max_age=300, now=1699999000)
    bad_time = sign(SECRET, "soon", body)
    assert not verify_signature(SECRET, "soon", body, bad_time, max_age=300)


# -- what the receiver answers -----------------------------------------------------------------


def test_answers_and_what_they_mean(server: WebhookReceiver, channel: WebhookChannel) -> None:
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    server.answer(
        Answer(202, body=b""),
        Answer(429, {"Retry-After": "30"}, b'{"error": "slow down"}'),
        Answer(429, {"Retry-After": in_a_minute}),
        Answer(503, {"Retry-After": "soon"}),
        Answer(500, body=b'{"error": "database down"}'),
        Answer(408),
        Answer(404, body=b'{"error": "no such hook"}'),
        Answer(400),
        Answer(301, {"Location": "http://elsewhere.test/"}),
    )
    results = [channel.deliver(message()) for _ in range(9)]
    summary = [(r.delivered, r.retryable, r.provider_code) for r in results]
    assert summary == [
        (True, False, "202"),
        (False, True, "429"),
        (False, True, "429"),
        (False, True, "503"),
        (False, True, "500"),
        (False, True, "408"),
        (False, False, "404"),
        (False, False, "400"),
        (False, False, "301"),
    ]
    assert results[1].retry_after == 30.0
    assert results[1].detail == (
        f'http://{LOOPBACK}:{server.port}: HTTP 429 Too Many Requests: {{"error": "slow down"}}'
    )
    assert results[2].retry_after is not None
    assert 50 <= results[2].retry_after <= 61
    assert results[3].retry_after is None  # not a number of seconds or a date
    assert results[4].retry_after is None
    assert "database down" in results[4].detail
    assert results[6].detail.endswith('HTTP 404 Not Found: {"error": "no such hook"}')
    assert server.connections == 1  # every answer kept the connection
    assert channel.deliver(message()).delivered


def test_receiver_down_then_back(server: WebhookReceiver, channel: WebhookChannel) -> None:
    assert channel.deliver(message(title="一")).delivered
    server.go_down()
    down = channel.deliver(message(title="二"))
    assert (down.delivered, down.retryable) == (False, True)
    assert down.detail == f"http://{LOOPBACK}:{server.port}: connection refused"
    server.come_back()
    assert channel.deliver(message(title="二")).delivered
    assert [r.title for r in server.received()] == ["一", "二"]


def test_nothing_listening_is_retryable() -> None:
    channel = WebhookChannel("oa", f"http://{LOOPBACK}:{free_port()}/hook")
    result = channel.deliver(message())
    channel.close()
    assert (result.delivered, result.retryable, result.provider_code) == (False, True, None)
    assert result.detail.endswith("connection refused")


def test_a_silent_receiver_times_out() -> None:
    with Silent() as silent:
        channel = WebhookChannel("oa", f"http://{LOOPBACK}:{silent.port}/hook", timeout=0.2)
        result = channel.deliver(message())
        channel.close()
    assert (result.delivered, result.retryable) == (False, True)
    assert result.detail == f"http://{LOOPBACK}:{silent.port}: no answer within 0.2 s"


def test_untrusted_certificate_is_retryable(tls: Tls) -> None:
    with WebhookReceiver(tls=tls.server) as server:
        channel = WebhookChannel("oa", server.url)  # without the test's CA
        result = channel.deliver(message())
        channel.close()
    assert (result.delivered, result.retryable) == (False, True)
    assert "TLS certificate not trusted" in result.detail
    assert server.count == 0


# -- connections -------------------------------------------------------------------------------


def test_a_thousand_messages_over_one_connection() -> None:
    """HTTP/1.1 keep-alive: the dispatcher's throughput rests on reusing the connection."""
    with WebhookReceiver(secret=SECRET, record=False) as server:
        channel = WebhookChannel("oa", server.url, secret=Secret(SECRET, "env:OA_SECRET"))
        results = [channel.deliver(message(key=f"k{i}")) for i in range(1000)]
        channel.close()
    assert all(r.delivered for r in results)
    assert server.count == 1000
    assert server.bad_signatures == 0
    assert server.connections == 1


def test_a_receiver_that_closes_each_connection(
    server: WebhookReceiver, channel: WebhookChannel
) -> None:
    server.answer(*[Answer(200, {"Connection": "close"}, b"{}") for _ in range(3)])
    assert all(channel.deliver(message()).delivered for _ in range(3))
    assert server.connections == 3


def test_a_connection_closed_while_idle_is_replaced(
    server: WebhookReceiver, channel: WebhookChannel
) -> None:
    assert channel.deliver(message(title="一")).delivered
    assert server._server is not None
    server._server.close_connections()  # the receiver drops idle connections
    assert channel.deliver(message(title="二")).delivered
    assert [r.title for r in server.received()] == ["一", "二"]
    assert server.connections == 2


def test_threads_take_turns_on_the_connection(
    server: WebhookReceiver, channel: WebhookChannel
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: channel.deliver(message(title=f"t{i}")), range(200)))
    assert all(r.delivered for r in results)
    assert sorted(r.title for r in server.received()) == sorted(f"t{i}" for i in range(200))


def test_max_bytes_cuts_text_and_markdown(server: WebhookReceiver) -> None:
    channel = WebhookChannel("oa", server.url, secret=Secret(SECRET, "env:S"), max_bytes=20)
    assert channel.deliver(
        message(text="一岗双责管业务必管安全", markdown="**一岗双责**管业务")
    ).delivered
    channel.close()
    body = server.requests[0].json()
    assert body["text"] == "一岗双责管…"
    assert len(body["text"].encode()) <= 20
    assert body["markdown"] == "**一岗双责**…"


# -- settings and secrets ----------------------------------------------------------------------


def test_repr_shows_neither_secret_nor_path() -> None:
    channel = WebhookChannel(
        "oa", "https://oa.example.cn/hooks/T0KEN123?key=abc", secret=Secret(SECRET, "env:S")
    )
    assert repr(channel) == "WebhookChannel('oa', 'https://oa.example.cn:443', signed)"
    assert str(channel) == repr(channel)
    assert SECRET not in repr(vars(channel))
    assert isinstance(channel, Channel)


def test_type_makes_a_channel_from_settings(
    monkeypatch: pytest.MonkeyPatch, server: WebhookReceiver
) -> None:
    monkeypatch.setenv("OA_SECRET", SECRET)
    monkeypatch.setenv("OA_URL", server.url)
    channel = WebhookChannelType().create(
        "oa",
        {
            "url": "env:OA_URL",
            "secret": "env:OA_SECRET",
            "timeout": 3,
            "max_bytes": 4096,
            "rate_limits": [{"count": 100, "seconds": 60}, {"count": 5, "seconds": 1}],
        },
    )
    monkeypatch.delenv("OA_SECRET")  # read when the channel was made
    assert channel.deliver(message()).delivered
    channel.close()
    assert server.bad_signatures == 0
    assert channel.rate_limits == (RateLimit(100, 60), RateLimit(5, 1))
    assert (channel.max_bytes, channel.timeout) == (4096, 3.0)
    assert repr(channel) == f"WebhookChannel('oa', 'http://{LOOPBACK}:{server.port}', signed)"


def test_settings_problems_are_all_reported(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    with caplog.at_level(logging.DEBUG), pytest.raises(ChannelConfigError) as info:
        WebhookChannelType().create(
            "oa",
            {
                "url": "ftp://oa.example.cn/",
                "secret": "env:NO_SUCH_SECRET",
                "max_bytes": 8,
                "rate_limits": [{"count": 0, "seconds": 60}],
                "headers": {"X": "y"},
            },
        )
    assert str(info.value).splitlines() == [
        "notify.channels.oa.url: expected an http:// or https:// URL",
        "notify.channels.oa.secret: the environment variable NO_SUCH_SECRET is not set",
        "notify.channels.oa.max_bytes: expected a number at least 16, got 8",
        "notify.channels.oa.rate_limits[0]: expected {count = <whole number > 0>, "
        "seconds = <number > 0>}, got {'count': 0, 'seconds': 60}",
        "notify.channels.oa.headers: unknown setting (known: ca_file, max_bytes, rate_limits, "
        "secret, timeout, type, url)",
    ]


def test_a_literal_secret_is_refused_and_not_shown() -> None:
    with pytest.raises(ChannelConfigError) as info:
        WebhookChannelType().create("oa", {"url": "https://oa.example.cn/h", "secret": SECRET})
    assert str(info.value).startswith("notify.channels.oa.secret: expected 'env:NAME'")
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("oa.example.cn/hook", "expected an http:// or https:// URL"),
        ("https://user:pw@oa.example.cn/", "a user name or password in the URL is not supported"),
        ("https://oa.example.cn:99999/", "the URL's port is no number between 0 and 65535"),
        ("http:///hook", "the URL names no host"),
    ],
)
def test_bad_urls(url: str, problem: str) -> None:
    with pytest.raises(ChannelConfigError) as info:
        WebhookChannel("oa", url)
    assert str(info.value) == f"notify.channels.oa.url: {problem}"
    assert "pw" not in str(info.value)


def test_a_url_from_a_file_is_never_shown(tmp_path: Path) -> None:
    token_file = tmp_path / "url"
    token_file.write_text("https://hooks.example.cn/services/T0KEN-42\n", encoding="utf-8")
    channel = WebhookChannelType().create("oa", {"url": f"file:{token_file}"})
    assert "T0KEN" not in repr(channel)
    assert channel.origin == "https://hooks.example.cn:443"
    wrong = WebhookChannelType()
    with pytest.raises(ChannelConfigError) as info:
        wrong.create("oa", {"url": "file:" + str(tmp_path / "missing")})
    assert str(info.value).startswith("notify.channels.oa.url: cannot read the secret file")


def test_the_body_is_compact_json(channel: WebhookChannel) -> None:
    body = channel.body(message(text="a\nb"))
    assert json.loads(body)["text"] == "a\nb"
    assert b": " not in body
    assert body.startswith(b'{"channel":"oa","recipient":"zhao"')


def test_received_records_only_accepted(server: WebhookReceiver, channel: WebhookChannel) -> None:
    server.refuse(permanent=False)
    assert channel.deliver(message()).retryable
    server.accept()
    assert channel.deliver(message()).delivered
    assert server.received() == [Received("zhao", "重大安全隐患", "第一中学实验楼消防通道堵塞。")]
