"""No secret ever shows: not in a channel's repr, a result's detail, an error or a log.

The secrets are the robot's credential (token, key, hook id), its signing secret, and
the signatures made from them (each lets anyone post for an hour).
"""

from __future__ import annotations

import logging
from urllib.parse import quote, unquote_plus

import pytest
from dualduty_im.signing import dingtalk_sign, feishu_sign
from dualduty_im.testing import ManualClock, RobotServer

from dualduty.notify import DeliveryResult

from .conftest import DINGTALK, PREFIX, T0, Connect, Provider, message


def secrets_of(robot: RobotServer, clock: ManualClock) -> list[str]:
    """The robot's secrets, and the signatures of the test's seconds, as sent and decoded."""
    values = [robot.credential]
    if robot.secret is not None:
        values.append(robot.secret)
        for moment in (T0, clock()):
            quoted = dingtalk_sign(int(moment * 1000), robot.secret)
            values += [quoted, unquote_plus(quoted), feishu_sign(int(moment), robot.secret)]
    return values + [quote(v, safe="") for v in values]


def test_nothing_secret_shows(
    provider: Provider,
    robot: RobotServer,
    connect: Connect,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    results: list[DeliveryResult] = []
    with caplog.at_level(logging.DEBUG):
        channel = connect()
        results.append(channel.deliver(message()))  # delivered
        robot.fail_next(code=provider.unknown_credential_code, message="refused")
        results.append(channel.deliver(message()))
        robot.fail_next(code=provider.throttle_code, message="throttled")
        results.append(channel.deliver(message()))
        # a robot (or a proxy) that echoes the credential, the secret and a signature
        sign = (
            dingtalk_sign(int(clock() * 1000), robot.secret)
            if provider is DINGTALK and robot.secret
            else feishu_sign(int(clock()), robot.secret)
            if robot.secret
            else ""
        )
        echo = f"bad token {robot.credential} secret {robot.secret} sign {sign}"
        robot.fail_next(code=provider.unknown_credential_code, message=echo)
        results.append(channel.deliver(message()))
        robot.fail_next(status=500)
        results.append(channel.deliver(message()))
        robot.down()
        results.append(channel.deliver(message()))
        robot.up()
        if provider.signature_code is not None:
            wrong = connect(env={f"{PREFIX}_SECRET": "SECsomething-else-entirely"})
            results.append(wrong.deliver(message(key="k")))
            results.append(wrong.deliver(message(key="k")))
            shown_wrong = [repr(wrong), str(wrong)]
        else:
            shown_wrong = []
    assert results[0].delivered
    assert "***" in results[3].detail, "the echoed secrets are blotted out"
    shown = [repr(channel), str(channel), *shown_wrong, caplog.text]
    shown += [repr(r) for r in results]
    for secret in secrets_of(robot, clock):
        for text in shown:
            assert secret not in text, f"a secret shows in {text[:300]!r}"
    assert "env:OFFICE_ROBOT_" in repr(channel), "where the secrets come from may show"


def test_the_log_names_the_channel_and_the_outcome(
    robot: RobotServer, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="dualduty_im"):
        connect().deliver(message())
        robot.fail_next(status=503)
        connect().deliver(message())
    lines = [r.getMessage() for r in caplog.records if r.name == "dualduty_im"]
    assert len(lines) == 2
    assert "'office-robot': delivered (code 0)" in lines[0]
    assert "'office-robot': retry (code None): HTTP 503" in lines[1]
