"""Test your robot configuration without posting to a real group.

:mod:`dualduty_im.testing.robots` has stand-in servers for each provider
(:class:`DingTalkRobot`, :class:`WeComRobot`, :class:`FeishuRobot`) that check tokens,
keys, hook ids and signatures, throttle, refuse with the providers' real error codes and
record what they accepted; :class:`ManualClock` lets a test move time by hand. The
pytest fixtures ``dingtalk_robot``, ``wecom_robot`` and ``feishu_robot``
(:mod:`dualduty_im.testing.fixtures`, loaded by pytest when the plugin is installed) give
a started robot per test::

    from dualduty.notify import OutboxMessage
    from dualduty_im import DingTalkType


    def test_the_office_robot(dingtalk_robot, monkeypatch):
        for name, value in dingtalk_robot.environ("OFFICE_ROBOT").items():
            monkeypatch.setenv(name, value)
        settings = dingtalk_robot.settings("OFFICE_ROBOT")  # url, token, secret
        with DingTalkType().create("office-robot", settings) as channel:
            message = OutboxMessage("office-robot", "office", "重大隐患", "立即上报")
            result = channel.deliver(message)
        assert result.delivered
        assert dingtalk_robot.received[0].content == "重大隐患\\n立即上报"
"""

from __future__ import annotations

from .robots import (
    Answer,
    DingTalkRobot,
    FeishuRobot,
    ManualClock,
    Received,
    RobotServer,
    WeComRobot,
)

__all__ = [
    "Answer",
    "DingTalkRobot",
    "FeishuRobot",
    "ManualClock",
    "Received",
    "RobotServer",
    "WeComRobot",
]
