"""Long messages are cut to what the robot takes, never inside a character.

The stand-in robots refuse content over the providers' limits (WeCom: 2,048 bytes of
text, 4,096 of Markdown; DingTalk: 20,000 bytes; Feishu: a 20,000-byte body), so a
message that arrives proves the cut was enough.
"""

from __future__ import annotations

import json

import pytest
from dualduty_im.testing import RobotServer

from .conftest import FEISHU, WECOM, Connect, Provider, message

#: Chinese text with a four-byte character, so that a byte cut would fall inside one.
UNIT = "一岗双责，管业务必管安全；重大隐患立即上报。🚒"


def long_text(size: int) -> str:
    return UNIT * (size // len(UNIT.encode()) + 2)


@pytest.mark.parametrize("msgtype", ["text", "markdown"])
def test_long_chinese_text_is_cut_at_a_character(
    provider: Provider, robot: RobotServer, connect: Connect, msgtype: str
) -> None:
    channel = connect(msgtype=msgtype)
    limit = channel.max_bytes
    title = "重大隐患 H-0001：第一中学"
    body = long_text(limit * 2)
    markdown = "### " + body if msgtype == "markdown" else None
    result = channel.deliver(message(title, body, markdown=markdown))
    assert result.delivered, result
    (arrived,) = robot.received
    sent = f"{title}\n{body}" if markdown is None else markdown
    content = arrived.content
    assert content.endswith("…")
    assert sent.startswith(content[:-1]), "only cut, not changed"
    assert len(content.encode("utf-8")) <= limit
    next_char = sent[len(content) - 1]
    if provider is FEISHU:  # the limit is the body's: the JSON around the content counts
        data = json.dumps(arrived.body, ensure_ascii=False, separators=(",", ":")).encode()
        assert len(data) + len(next_char.encode()) > 20_000 >= len(data)
    else:  # cut at the last whole character that fits with the marker
        assert len(content.encode()) + len(next_char.encode()) > limit
    if provider is WECOM:
        assert limit == (4096 if msgtype == "markdown" else 2048)


def test_a_message_that_fits_is_not_cut(robot: RobotServer, connect: Connect) -> None:
    channel = connect()
    text = long_text(channel.max_bytes)[: (channel.max_bytes - 100) // 4]
    assert channel.deliver(message("提醒", text)).delivered
    assert robot.received[0].content == f"提醒\n{text}"


@pytest.mark.parametrize("provider", [FEISHU], ids=["feishu"])
def test_feishu_body_fits_with_its_escapes(robot: RobotServer, connect: Connect) -> None:
    """Line breaks and quotes take two bytes each in the JSON body: the content is cut
    further so that the whole body stays within 20,000 bytes."""
    channel = connect()
    text = '第一行"引号"\n' * 3000  # 17 bytes of text, 20 in JSON, per line
    result = channel.deliver(message("逐行", text))
    assert result.delivered, result
    (arrived,) = robot.received
    body = json.dumps(arrived.body, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(body) <= 20_000
    assert arrived.content.endswith("…")
    assert f"逐行\n{text}".startswith(arrived.content[:-1])
