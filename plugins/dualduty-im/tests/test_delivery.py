"""Delivery to each provider's stand-in robot: what arrives, and what each answer means.

The motivating bug: a popular library reports DingTalk and WeCom messages as sent when
the robot answered HTTP 200 with an error code. Here a message counts as delivered only
when the robot's code is 0, and every refusal is checked against what the stand-in
recorded as accepted (nothing).
"""

from __future__ import annotations

import pytest
from dualduty_im.signing import feishu_sign
from dualduty_im.testing import ManualClock, RobotServer

from dualduty.notify import DeliveryResult

from .conftest import DINGTALK, FEISHU, PREFIX, SIGNING, T0, WECOM, Connect, Provider, message

TITLE = "重大隐患 H-0001：第一中学"
TEXT = "实验楼一楼消防通道被杂物堵塞，按实施方案三.2立即上报领导小组办公室。"
MARKDOWN = "### 重大隐患 H-0001\n\n- 学校：第一中学\n- 隐患：消防通道堵塞\n\n> 立即上报"


def bare(body: object) -> object:
    """A Feishu body without its signature fields (checked on their own)."""
    assert isinstance(body, dict)
    return {k: v for k, v in body.items() if k not in ("timestamp", "sign")}


# -- what arrives -----------------------------------------------------------------------


def test_text_message_arrives_exactly(
    provider: Provider, robot: RobotServer, connect: Connect
) -> None:
    result = connect().deliver(message(TITLE, TEXT))
    assert result == DeliveryResult.ok("0", result.detail)
    (arrived,) = robot.received
    assert (arrived.msgtype, arrived.content, arrived.title) == ("text", f"{TITLE}\n{TEXT}", None)
    expected = {
        DINGTALK: {"msgtype": "text", "text": {"content": f"{TITLE}\n{TEXT}"}},
        WECOM: {"msgtype": "text", "text": {"content": f"{TITLE}\n{TEXT}"}},
        FEISHU: {"msg_type": "text", "content": {"text": f"{TITLE}\n{TEXT}"}},
    }[provider]
    assert bare(arrived.body) == expected


@pytest.mark.parametrize("provider", [FEISHU], ids=["feishu"])
def test_feishu_signature_is_in_the_body(robot: RobotServer, connect: Connect) -> None:
    """Feishu: ``timestamp`` (a string, seconds) and ``sign`` in the JSON body."""
    assert connect().deliver(message()).delivered
    body = robot.received[0].body
    assert body["timestamp"] == str(int(T0))
    assert body["sign"] == feishu_sign(int(T0), "feishu-test-secret")


def test_markdown_message_arrives_exactly(
    provider: Provider, robot: RobotServer, connect: Connect
) -> None:
    channel = connect(msgtype="markdown")
    assert channel.deliver(message(TITLE, TEXT, markdown=MARKDOWN)).delivered
    (arrived,) = robot.received
    expected = {
        DINGTALK: {"msgtype": "markdown", "markdown": {"title": TITLE, "text": MARKDOWN}},
        WECOM: {"msgtype": "markdown", "markdown": {"content": MARKDOWN}},
        FEISHU: {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": TITLE}},
                "elements": [{"tag": "markdown", "content": MARKDOWN}],
            },
        },
    }[provider]
    assert bare(arrived.body) == expected
    assert arrived.content == MARKDOWN


def test_markdown_channel_sends_text_without_a_markdown_body(
    robot: RobotServer, connect: Connect
) -> None:
    assert connect(msgtype="markdown").deliver(message(TITLE, TEXT)).delivered
    assert robot.received[0].msgtype == "text"
    assert robot.received[0].content == f"{TITLE}\n{TEXT}"


def test_text_channel_sends_text_even_with_a_markdown_body(
    robot: RobotServer, connect: Connect
) -> None:
    assert connect().deliver(message(TITLE, TEXT, markdown=MARKDOWN)).delivered
    assert robot.received[0].msgtype == "text"
    assert robot.received[0].content == f"{TITLE}\n{TEXT}"


def test_a_title_alone(robot: RobotServer, connect: Connect) -> None:
    assert connect().deliver(message("值班提醒", "")).delivered
    assert robot.received[0].content == "值班提醒"


def test_one_connection_for_many_messages(robot: RobotServer, connect: Connect) -> None:
    channel = connect()
    for i in range(5):
        assert channel.deliver(message(f"提醒 {i}")).delivered
    assert robot.connections == 1
    assert [r.content.split("\n")[0] for r in robot.received] == [f"提醒 {i}" for i in range(5)]


# -- refusals: HTTP 200 with an error code -------------------------------------------------

# (provider, code, the provider's message, retryable?)
REFUSALS = [
    (DINGTALK, 300005, "token is not exist", False),
    (DINGTALK, 300001, "token is not exist", False),
    (DINGTALK, 400101, "access_token不存在", False),
    (DINGTALK, 400102, "机器人已停用", False),
    (DINGTALK, 310000, "keywords not in content", False),
    (DINGTALK, 310000, "ip 10.0.0.1 not in whitelist", False),
    (DINGTALK, 430101, "含有不安全的外链", False),
    (DINGTALK, 40035, "缺少参数 json", False),
    (DINGTALK, 130101, "send too fast, exceed 20 times per minute", True),
    (DINGTALK, 410100, "发送速度太快而限流", True),
    (DINGTALK, -1, "系统繁忙", True),
    (WECOM, 93000, "invalid webhook url", False),
    (WECOM, 40058, "markdown.content exceed max length 4096", False),
    (WECOM, 40008, "invalid message type", False),
    (WECOM, 45009, "api freq out of limit", True),
    (WECOM, -1, "system busy", True),
    (FEISHU, 19001, "param invalid: incoming webhook access token invalid", False),
    (FEISHU, 19022, "Ip Not Allowed", False),
    (FEISHU, 19024, "Key Words Not Found", False),
    (FEISHU, 19007, "Bot Not Enabled", False),
    (FEISHU, 9499, "Bad Request", False),
    (FEISHU, 11232, "frequency limited psm[lark.oapi.app_platform_runtime]", True),
    (FEISHU, 9499, "too many request", True),
]


@pytest.mark.parametrize(
    ("provider", "refusal"),
    [(p, (code, said, retryable)) for p, code, said, retryable in REFUSALS],
    ids=[f"{p.name}-{code}-{said[:12]}" for p, code, said, _ in REFUSALS],
)
def test_http_200_with_an_error_code_is_never_delivered(
    robot: RobotServer, connect: Connect, refusal: tuple[int, str, bool]
) -> None:
    code, said, retryable = refusal
    robot.fail_next(code=code, message=said)
    result = connect().deliver(message())
    assert not result.delivered
    assert result.retryable is retryable
    assert result.provider_code == str(code)
    assert said.split(maxsplit=1)[0] in result.detail, "the detail quotes the provider"
    assert robot.answers[-1].status == 200
    assert robot.received == []


def test_throttle_code_is_retryable_after_the_providers_wait(
    provider: Provider, robot: RobotServer, connect: Connect
) -> None:
    robot.fail_next(code=provider.throttle_code, message="slow down")
    result = connect().deliver(message())
    assert (result.delivered, result.retryable) == (False, True)
    assert result.retry_after == provider.retry_after
    assert result.provider_code == str(provider.throttle_code)


def test_the_stand_in_throttles_a_burst(
    provider: Provider, robot: RobotServer, connect: Connect, clock: ManualClock
) -> None:
    """Twenty at once (five for Feishu, per second) are taken; the next is throttled and
    reported retryable, not sent. DingTalk then refuses for 10 minutes."""
    channel = connect()
    burst = 5 if provider is FEISHU else 20
    for i in range(burst):
        assert channel.deliver(message(f"第{i}条")).delivered
    result = channel.deliver(message("多一条"))
    assert (result.delivered, result.retryable) == (False, True)
    assert result.provider_code == str(provider.throttle_code)
    assert result.retry_after == provider.retry_after
    assert len(robot.received) == burst
    clock.advance(61)
    later = channel.deliver(message("一分钟后"))
    assert later.delivered is (provider is not DINGTALK)
    if provider is DINGTALK:  # locked out for 10 minutes from the throttle
        clock.advance(600)
        assert channel.deliver(message("十分钟后")).delivered


# -- signatures --------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", SIGNING, ids=[p.name for p in SIGNING])
def test_bad_signature_is_retried_once_then_permanent(
    provider: Provider, robot: RobotServer, connect: Connect
) -> None:
    channel = connect(env={f"{PREFIX}_SECRET": "SECnot-the-robots-secret"})
    first = channel.deliver(message(key="hazard:H-0001:office"))
    assert (first.delivered, first.retryable) == (False, True)
    assert first.provider_code == str(provider.signature_code)
    assert "retried once" in first.detail
    # the dispatcher reads the message back from the outbox: an equal message, same key
    again = channel.deliver(message(key="hazard:H-0001:office"))
    assert (again.delivered, again.retryable) == (False, False)
    assert again.provider_code == str(provider.signature_code)
    assert "permanent" in again.detail
    # another message has its own one retry
    other = channel.deliver(message("另一条", key="hazard:H-0002:office"))
    assert (other.delivered, other.retryable) == (False, True)
    assert robot.received == []


@pytest.mark.parametrize("provider", SIGNING, ids=[p.name for p in SIGNING])
def test_a_clock_off_by_more_than_an_hour_is_a_signature_error(
    provider: Provider, robot: RobotServer, connect: Connect, clock: ManualClock
) -> None:
    """The robot refuses a stale timestamp like a wrong signature; once the clock is right
    the retry gets through (and the message's retry is forgotten)."""
    channel = connect()
    slow = ManualClock(T0 - 3601)
    channel._clock = slow  # this machine's clock, an hour and a second behind
    first = channel.deliver(message(key="k1"))
    assert (first.delivered, first.retryable) == (False, True)
    assert first.provider_code == str(provider.signature_code)
    slow.advance(3600)  # within the hour again
    assert channel.deliver(message(key="k1")).delivered
    assert len(robot.received) == 1


@pytest.mark.parametrize("provider", SIGNING, ids=[p.name for p in SIGNING])
def test_unsigned_requests_to_a_signing_robot_are_refused(
    provider: Provider, robot: RobotServer, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = robot.settings(PREFIX)
    del settings["secret"]
    for name, value in robot.environ(PREFIX).items():
        monkeypatch.setenv(name, value)
    with provider.channel_type(clock=robot.clock).create("office-robot", settings) as channel:
        result = channel.deliver(message())
    assert not result.delivered
    assert result.provider_code == str(provider.signature_code)


# -- credentials ---------------------------------------------------------------------------


def test_unknown_credential_is_permanent(
    provider: Provider, robot: RobotServer, connect: Connect
) -> None:
    credential = f"{PREFIX}_{robot.credential_setting.upper()}"
    result = connect(env={credential: "not-this-robots-credential"}).deliver(message())
    assert (result.delivered, result.retryable) == (False, False)
    assert result.provider_code == str(provider.unknown_credential_code)
    assert robot.received == []


@pytest.mark.parametrize("provider", [DINGTALK, FEISHU], ids=["dingtalk", "feishu"])
def test_missing_keywords_are_permanent(
    provider: Provider, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with provider.make_robot(clock=clock, keywords=["安全"]) as robot:
        for name, value in robot.environ(PREFIX).items():
            monkeypatch.setenv(name, value)
        settings = robot.settings(PREFIX)
        with provider.channel_type(clock=clock).create("office-robot", settings) as channel:
            refused = channel.deliver(message("值班提醒", "明天督查第一中学"))
            accepted = channel.deliver(message("安全提醒", "明天督查第一中学"))
        assert (refused.delivered, refused.retryable) == (False, False)
        assert refused.provider_code == str(provider.keyword_code)
        assert "keywords" in refused.detail
        assert accepted.delivered
        assert [r.content for r in robot.received] == ["安全提醒\n明天督查第一中学"]


# -- outages and HTTP errors ---------------------------------------------------------------


def test_server_down_is_retryable_and_back_it_delivers(
    robot: RobotServer, connect: Connect
) -> None:
    channel = connect()
    assert channel.deliver(message("之前")).delivered  # a connection is open now
    robot.down()
    try:
        for _ in range(2):
            result = channel.deliver(message("宕机中"))
            assert (result.delivered, result.retryable) == (False, True)
            assert result.provider_code is None
            assert "cannot reach" in result.detail
    finally:
        robot.up()
    assert channel.deliver(message("恢复后")).delivered
    assert [r.content.split("\n")[0] for r in robot.received] == ["之前", "恢复后"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_5xx_is_retryable(robot: RobotServer, connect: Connect, status: int) -> None:
    robot.fail_next(status=status)
    channel = connect()
    result = channel.deliver(message())
    assert (result.delivered, result.retryable) == (False, True)
    assert f"HTTP {status}" in result.detail
    assert channel.deliver(message()).delivered


def test_http_429_waits_as_told(robot: RobotServer, connect: Connect) -> None:
    robot.fail_next(status=429, retry_after=42)
    result = connect().deliver(message())
    assert (result.delivered, result.retryable, result.retry_after) == (False, True, 42.0)


def test_http_429_without_retry_after_waits_the_providers_window(
    provider: Provider, robot: RobotServer, connect: Connect
) -> None:
    robot.fail_next(status=429)
    result = connect().deliver(message())
    assert (result.retryable, result.retry_after) == (True, provider.retry_after)


@pytest.mark.parametrize("status", [400, 403, 404])
def test_other_http_4xx_is_permanent(robot: RobotServer, connect: Connect, status: int) -> None:
    robot.fail_next(status=status)
    result = connect().deliver(message())
    assert (result.delivered, result.retryable) == (False, False)


def test_http_200_that_is_not_the_robots_answer_is_not_delivered(
    robot: RobotServer, connect: Connect
) -> None:
    """A proxy's page with HTTP 200: not delivered, retryable."""
    robot.fail_next(body=b"<html><body>gateway</body></html>")
    result = connect().deliver(message())
    assert (result.delivered, result.retryable) == (False, True)
    robot.fail_next(body=b'{"data": {}}')
    result = connect().deliver(message())
    assert (result.delivered, result.retryable) == (False, True)


def test_a_slow_robot_times_out_and_is_retryable(robot: RobotServer, connect: Connect) -> None:
    robot.fail_next(status=500, delay=0.5)
    channel = connect(timeout=0.1)
    result = channel.deliver(message())
    assert (result.delivered, result.retryable) == (False, True)
    assert "did not answer within 0.1 s" in result.detail


def test_deliver_never_raises_on_an_unreachable_host(
    provider: Provider, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    with provider.make_robot(clock=clock) as robot:
        for name, value in robot.environ(PREFIX).items():
            monkeypatch.setenv(name, value)
        settings = robot.settings(PREFIX)
    # the robot is gone for good: nothing listens on its port
    with provider.channel_type(clock=clock).create("office-robot", settings) as channel:
        result = channel.deliver(message())
    assert (result.delivered, result.retryable) == (False, True)
