"""Making channels from the settings of a district file's ``[notify.channels.<name>]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dualduty_im import DingTalkType, FeishuChannel, FeishuType, RobotType, WeComType

from dualduty.notify import ChannelConfigError, RateLimit

TOKEN = "7d3c0ffee1234567890abcdef"
SECRET = "SEC9f8e7d6c5b4a3210"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOT_TOKEN", TOKEN)
    monkeypatch.setenv("ROBOT_SECRET", SECRET)


def problems(channel_type: RobotType, settings: dict[str, Any]) -> str:
    with pytest.raises(ChannelConfigError) as caught:
        channel_type.create("office-robot", settings)
    message = str(caught.value)
    assert TOKEN not in message
    assert SECRET not in message
    return message


def test_the_smallest_settings_take_the_providers_addresses() -> None:
    dingtalk = DingTalkType().create("a", {"token": "env:ROBOT_TOKEN"})
    wecom = WeComType().create("b", {"key": "env:ROBOT_TOKEN"})
    feishu = FeishuType().create("c", {"hook": "env:ROBOT_TOKEN"})
    assert dingtalk.url.geturl() == "https://oapi.dingtalk.com/robot/send"
    assert wecom.url.geturl() == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    assert feishu.url.geturl() == "https://open.feishu.cn/open-apis/bot/v2/hook/"
    for channel in (dingtalk, wecom, feishu):
        assert channel.secret is None
        assert channel.timeout == 10.0
        assert channel.msgtype == "text"
        assert channel.credential.reveal() == TOKEN
        assert channel.credential.source == "env:ROBOT_TOKEN"
    assert (dingtalk.name, wecom.name, feishu.name) == ("a", "b", "c")


def test_every_setting() -> None:
    channel = DingTalkType().create(
        "office-robot",
        {
            "url": "http://127.0.0.1:8080/robot/send",
            "token": "env:ROBOT_TOKEN",
            "secret": "env:ROBOT_SECRET",
            "timeout": 3,
            "msgtype": "markdown",
        },
    )
    assert channel.url.geturl() == "http://127.0.0.1:8080/robot/send"
    assert channel.secret is not None
    assert channel.secret.reveal() == SECRET
    assert (channel.timeout, channel.msgtype) == (3.0, "markdown")


def test_a_secret_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "wecom.key"
    path.write_text(TOKEN + "\n", encoding="utf-8")
    channel = WeComType().create("bureau", {"key": f"file:{path}"})
    assert channel.credential.reveal() == TOKEN


def test_lark_and_a_hook_address_without_its_slash() -> None:
    lark = FeishuType().create(
        "lark",
        {"hook": "env:ROBOT_TOKEN", "url": "https://open.larksuite.com/open-apis/bot/v2/hook"},
    )
    assert isinstance(lark, FeishuChannel)
    assert lark.url.geturl() == "https://open.larksuite.com/open-apis/bot/v2/hook/"


def test_max_bytes_and_rate_limits() -> None:
    assert DingTalkType().create("a", {"token": "env:ROBOT_TOKEN"}).max_bytes == 20_000
    assert WeComType().create("b", {"key": "env:ROBOT_TOKEN"}).max_bytes == 2048
    markdown = WeComType().create("b", {"key": "env:ROBOT_TOKEN", "msgtype": "markdown"})
    assert markdown.max_bytes == 4096
    feishu = FeishuType().create("c", {"hook": "env:ROBOT_TOKEN"})
    assert feishu.max_bytes == 20_000
    assert feishu.rate_limits == (RateLimit(100, 60), RateLimit(5, 1))


def test_the_credential_is_required() -> None:
    assert problems(DingTalkType(), {}) == (
        "notify.channels.office-robot.token: missing; the access_token of the robot's "
        "webhook address, as 'env:NAME' or 'file:PATH'"
    )
    assert problems(WeComType(), {}).startswith("notify.channels.office-robot.key: missing")
    assert problems(FeishuType(), {}).startswith("notify.channels.office-robot.hook: missing")


def test_a_secret_written_in_the_file_is_refused() -> None:
    message = problems(DingTalkType(), {"token": TOKEN, "secret": SECRET})
    assert "notify.channels.office-robot.token: expected 'env:NAME' or 'file:PATH'" in message
    assert "notify.channels.office-robot.secret: expected 'env:NAME' or 'file:PATH'" in message


def test_an_unset_variable_is_named() -> None:
    message = problems(FeishuType(), {"hook": "env:NO_SUCH_ROBOT_HOOK"})
    assert message == (
        "notify.channels.office-robot.hook: the environment variable NO_SUCH_ROBOT_HOOK is not set"
    )


def test_unknown_settings_are_named() -> None:
    message = problems(DingTalkType(), {"token": "env:ROBOT_TOKEN", "secrte": "env:ROBOT_SECRET"})
    assert message.startswith("notify.channels.office-robot.secrte: unknown setting (known: ")
    # WeCom robots do not sign: a secret is a mistake worth hearing about
    message = problems(WeComType(), {"key": "env:ROBOT_TOKEN", "secret": "env:ROBOT_SECRET"})
    assert message.startswith("notify.channels.office-robot.secret: unknown setting")


@pytest.mark.parametrize(
    ("channel_type", "settings"),
    [
        (
            DingTalkType(),
            {"token": "env:ROBOT_TOKEN", "url": f"https://x.cn/robot/send?access_token={TOKEN}"},
        ),
        (
            WeComType(),
            {"key": "env:ROBOT_TOKEN", "url": f"https://x.cn/cgi-bin/webhook/send?key={TOKEN}"},
        ),
    ],
    ids=["dingtalk", "wecom"],
)
def test_a_webhook_address_with_its_token_is_refused(
    channel_type: RobotType, settings: dict[str, Any]
) -> None:
    """The whole webhook address copied from the group holds the token: refused, and the
    message shows neither the address nor the token."""
    message = problems(channel_type, settings)
    assert message.startswith("notify.channels.office-robot.url: the address must have no query")
    assert "x.cn" not in message


def test_a_feishu_address_with_its_hook_id_is_refused() -> None:
    url = f"https://open.feishu.cn/open-apis/bot/v2/hook/{TOKEN}"
    message = problems(FeishuType(), {"hook": "env:ROBOT_TOKEN", "url": url})
    assert message.startswith("notify.channels.office-robot.url: give the address up to '/hook/'")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://oapi.dingtalk.com/robot/send", "expected an http:// or https:// address"),
        ("https:///robot/send", "expected an http:// or https:// address"),
        (
            "https://user:pw@oapi.dingtalk.com/robot/send",
            "an address with a user name or password is refused",
        ),
        ("https://oapi.dingtalk.com:99999/robot/send", "not a valid address"),
        (42, "expected non-empty text, got 42"),
    ],
)
def test_a_bad_address(url: object, why: str) -> None:
    message = problems(DingTalkType(), {"token": "env:ROBOT_TOKEN", "url": url})
    assert message == f"notify.channels.office-robot.url: {why}"


def test_every_problem_at_once() -> None:
    message = problems(
        FeishuType(),
        {"secret": "plain-text", "timeout": -1, "msgtype": "card", "colour": "red"},
    )
    lines = message.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "notify.channels.office-robot.hook",
        "notify.channels.office-robot.secret",
        "notify.channels.office-robot.timeout",
        "notify.channels.office-robot.msgtype",
        "notify.channels.office-robot.colour",
    ]
    assert "plain-text" not in message
