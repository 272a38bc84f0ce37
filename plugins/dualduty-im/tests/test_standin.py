"""The stand-in robots on their own, spoken to with plain http.client: they check what
the real robots check and answer as they do (HTTP 200 and the provider's code)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import socket
from typing import Any
from urllib.parse import quote_plus

import pytest
from dualduty_im.testing import DingTalkRobot, FeishuRobot, ManualClock, RobotServer, WeComRobot

from .conftest import T0


def post(
    robot: RobotServer, target: str, body: Any, *, method: str = "POST"
) -> tuple[int, dict[str, Any]]:
    """Send *body* (JSON, or bytes as they are) to *target* on *robot*."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn = http.client.HTTPConnection(robot.host, robot.port, timeout=5)
    try:
        conn.request(method, target, body=data if method == "POST" else None)
        response = conn.getresponse()
        answer: dict[str, Any] = json.loads(response.read())
        return response.status, answer
    finally:
        conn.close()


def dingtalk_target(robot: DingTalkRobot, stamp_ms: int, *, encode: bool = True) -> str:
    assert robot.secret is not None
    mac = hmac.new(robot.secret.encode(), f"{stamp_ms}\n{robot.secret}".encode(), hashlib.sha256)
    sign = base64.b64encode(mac.digest()).decode()
    sign = quote_plus(sign) if encode else sign
    return f"/robot/send?access_token={robot.credential}&timestamp={stamp_ms}&sign={sign}"


TEXT = {"msgtype": "text", "text": {"content": "值班提醒"}}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def dingtalk(clock: ManualClock) -> Any:
    with DingTalkRobot(clock=clock) as robot:
        yield robot


def test_dingtalk_accepts_a_signed_message(dingtalk: DingTalkRobot) -> None:
    status, answer = post(dingtalk, dingtalk_target(dingtalk, int(T0 * 1000)), TEXT)
    assert (status, answer) == (200, {"errcode": 0, "errmsg": "ok"})
    (received,) = dingtalk.received
    assert (received.msgtype, received.content, received.at) == ("text", "值班提醒", T0)


def test_dingtalk_refusals(dingtalk: DingTalkRobot, clock: ManualClock) -> None:
    now = int(T0 * 1000)
    cases = [
        ("/robot/send", TEXT, 40035),
        ("/robot/send?access_token=wrong", TEXT, 300005),
        (f"/robot/send?access_token={dingtalk.credential}", TEXT, 310000),  # unsigned
        (dingtalk_target(dingtalk, now - 3_600_001), TEXT, 310000),  # stale
        (dingtalk_target(dingtalk, now + 3_600_001), TEXT, 310000),  # from the future
        (dingtalk_target(dingtalk, now)[:-4], TEXT, 310000),  # a cut signature
        (dingtalk_target(dingtalk, now), {"msgtype": "link"}, 400105),
        (dingtalk_target(dingtalk, now), {"msgtype": "text"}, 40035),
        (dingtalk_target(dingtalk, now), b"not json", 40035),
        (
            dingtalk_target(dingtalk, now),
            {"msgtype": "text", "text": {"content": "长" * 6700}},
            460101,
        ),
    ]
    for target, body, code in cases:
        status, answer = post(dingtalk, target, body)
        assert (status, answer["errcode"]) == (200, code), target
    assert dingtalk.received == []
    assert [a.code for a in dingtalk.answers] == [code for _, _, code in cases]


def test_dingtalk_sign_must_be_url_encoded(dingtalk: DingTalkRobot) -> None:
    """A ``+`` in the signature sent as is reads as a space: refused, as DingTalk does."""
    for stamp in range(int(T0 * 1000), int(T0 * 1000) + 50):
        target = dingtalk_target(dingtalk, stamp, encode=False)
        if "+" in target:
            break
    else:
        pytest.fail("no signature with a '+' in 50 tries")
    assert post(dingtalk, target, TEXT)[1] == {"errcode": 310000, "errmsg": "sign not match"}


def test_dingtalk_without_a_secret_does_not_check_signatures(clock: ManualClock) -> None:
    with DingTalkRobot(secret=None, clock=clock) as robot:
        _, answer = post(robot, f"/robot/send?access_token={robot.credential}", TEXT)
    assert answer["errcode"] == 0


def test_dingtalk_throttles_then_locks_out_for_ten_minutes(
    dingtalk: DingTalkRobot, clock: ManualClock
) -> None:
    target = dingtalk_target(dingtalk, int(T0 * 1000))
    codes = [post(dingtalk, target, TEXT)[1]["errcode"] for _ in range(21)]
    assert codes == [0] * 20 + [130101]
    clock.advance(300)
    assert post(dingtalk, target, TEXT)[1]["errcode"] == 130101  # still locked out
    clock.advance(301)
    assert post(dingtalk, target, TEXT)[1]["errcode"] == 0
    assert len(dingtalk.received) == 21


def test_wecom_checks_key_type_and_length(clock: ManualClock) -> None:
    with WeComRobot(clock=clock) as robot:
        target = f"/cgi-bin/webhook/send?key={robot.credential}"
        cases = [
            ("/cgi-bin/webhook/send", TEXT, 93000),
            ("/cgi-bin/webhook/send?key=nope", TEXT, 93000),
            (target, {"msgtype": "news"}, 40008),
            (target, {"msgtype": "text", "text": {}}, 44004),
            (target, {"msgtype": "text", "text": {"content": "长" * 683}}, 40058),  # 2,049 B
            (target, {"msgtype": "markdown", "markdown": {"content": "长" * 1366}}, 40058),
            (target, {"msgtype": "text", "text": {"content": "长" * 682}}, 0),  # 2,046 B
            (target, {"msgtype": "markdown", "markdown": {"content": "长" * 1365}}, 0),
        ]
        for where, body, code in cases:
            assert post(robot, where, body)[1]["errcode"] == code, body
        assert [r.msgtype for r in robot.received] == ["text", "markdown"]


def test_feishu_checks_hook_signature_and_size(clock: ManualClock) -> None:
    with FeishuRobot(clock=clock) as robot:
        assert robot.secret is not None
        stamp = int(T0)
        key = f"{stamp}\n{robot.secret}".encode()
        sign = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        signed = {"timestamp": str(stamp), "sign": sign}
        text = {"msg_type": "text", "content": {"text": "值班提醒"}}
        hook = f"/open-apis/bot/v2/hook/{robot.credential}"
        cases: list[tuple[str, Any, int]] = [
            ("/open-apis/bot/v2/hook/nope", {**signed, **text}, 19001),
            (hook, text, 19021),  # unsigned
            (hook, {**signed, "timestamp": str(stamp - 3601), **text}, 19021),
            (hook, {**signed, "sign": sign[:-2], **text}, 19021),
            (hook, {**signed, "msg_type": "image"}, 9499),
            (hook, {**signed, "msg_type": "text", "content": {"text": "长" * 7000}}, 9499),
            (hook, {**signed, **text, "timestamp": stamp}, 0),  # a number is taken too
            (hook, {**signed, **text}, 0),
        ]
        for where, body, code in cases:
            status, answer = post(robot, where, body)
            assert (status, answer["code"]) == (200, code), body
        assert answer == {
            "StatusCode": 0,
            "StatusMessage": "success",
            "code": 0,
            "data": {},
            "msg": "success",
        }
        # five a second, then 11232; the next second five more
        codes = [post(robot, hook, {**signed, **text})[1]["code"] for _ in range(4)]
        assert codes == [0, 0, 0, 11232]  # two were taken this second already
        clock.advance(1)
        assert post(robot, hook, {**signed, **text})[1]["code"] == 0


def test_fail_next_refuse_and_accept(dingtalk: DingTalkRobot) -> None:
    target = dingtalk_target(dingtalk, int(T0 * 1000))
    dingtalk.fail_next(2, code=-1, message="系统繁忙")
    assert [post(dingtalk, target, TEXT)[1]["errcode"] for _ in range(3)] == [-1, -1, 0]
    dingtalk.refuse(code=400102, message="机器人已停用")
    assert [post(dingtalk, target, TEXT)[1]["errcode"] for _ in range(2)] == [400102] * 2
    dingtalk.accept()
    assert post(dingtalk, target, TEXT)[1]["errcode"] == 0
    assert len(dingtalk.received) == 2
    with pytest.raises(ValueError, match="needs the provider's error code"):
        dingtalk.fail_next()
    dingtalk.clear()
    assert (dingtalk.received, dingtalk.answers) == ([], [])


def test_other_paths_and_methods(dingtalk: DingTalkRobot) -> None:
    assert post(dingtalk, "/elsewhere", TEXT)[0] == 404
    assert post(dingtalk, "/robot/send", TEXT, method="GET")[0] == 405


def test_down_refuses_connections_and_up_listens_on_the_same_port(
    dingtalk: DingTalkRobot,
) -> None:
    port = dingtalk.port
    with socket.create_connection((dingtalk.host, port)) as open_conn:
        dingtalk.down()
        assert not dingtalk.is_up
        # cut: closed, or reset if the server had not taken it from the backlog yet
        with contextlib.suppress(ConnectionResetError):
            assert open_conn.recv(1) == b"", "the open connection was cut"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((dingtalk.host, port)).close()
    dingtalk.up()
    assert (dingtalk.is_up, dingtalk.port) == (True, port)
    target = dingtalk_target(dingtalk, int(T0 * 1000))
    assert post(dingtalk, target, TEXT)[1]["errcode"] == 0
    assert repr(dingtalk) == f"DingTalkRobot(port={port}, up, received=1)"


def test_settings_and_environ_name_the_same_variables(dingtalk: DingTalkRobot) -> None:
    assert dingtalk.settings("OFFICE", msgtype="markdown") == {
        "url": dingtalk.url,
        "token": "env:OFFICE_TOKEN",
        "secret": "env:OFFICE_SECRET",
        "msgtype": "markdown",
    }
    assert dingtalk.environ("OFFICE") == {
        "OFFICE_TOKEN": dingtalk.credential,
        "OFFICE_SECRET": dingtalk.secret,
    }
    with WeComRobot() as wecom:
        assert wecom.settings("BUREAU") == {"url": wecom.url, "key": "env:BUREAU_KEY"}


def test_a_clock_does_not_go_back() -> None:
    clock = ManualClock(T0)
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)
    assert clock() == T0


# -- the pytest fixtures (entry point pytest11, dualduty_im.testing.fixtures) -------------


def test_fixtures(
    dingtalk_robot: DingTalkRobot, wecom_robot: WeComRobot, feishu_robot: FeishuRobot
) -> None:
    for robot in (dingtalk_robot, wecom_robot, feishu_robot):
        assert robot.is_up
        assert robot.url.startswith(f"http://127.0.0.1:{robot.port}/")
    assert dingtalk_robot.secret is not None
    assert wecom_robot.secret is None
    assert feishu_robot.secret is not None
