"""Pytest fixtures: a started stand-in robot per test, stopped after it.

Loaded by pytest automatically when dualduty-im is installed (entry point ``pytest11``
named ``dualduty_im``); or name it in a ``conftest.py``:
``pytest_plugins = ["dualduty_im.testing.fixtures"]``.

``dingtalk_robot``
    a :class:`~dualduty_im.testing.DingTalkRobot` with a token and a signing secret;
``wecom_robot``
    a :class:`~dualduty_im.testing.WeComRobot` with a key;
``feishu_robot``
    a :class:`~dualduty_im.testing.FeishuRobot` with a hook id and a signing secret.

Each keeps real time; for a clock moved by hand, make the robot in the test with
``clock=ManualClock()``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .robots import DingTalkRobot, FeishuRobot, WeComRobot

__all__ = ["dingtalk_robot", "feishu_robot", "wecom_robot"]


@pytest.fixture
def dingtalk_robot() -> Iterator[DingTalkRobot]:
    """A stand-in DingTalk robot (token and signing secret), up for one test."""
    robot = DingTalkRobot()
    robot.start()
    try:
        yield robot
    finally:
        robot.stop()


@pytest.fixture
def wecom_robot() -> Iterator[WeComRobot]:
    """A stand-in WeCom robot (key), up for one test."""
    robot = WeComRobot()
    robot.start()
    try:
        yield robot
    finally:
        robot.stop()


@pytest.fixture
def feishu_robot() -> Iterator[FeishuRobot]:
    """A stand-in Feishu robot (hook id and signing secret), up for one test."""
    robot = FeishuRobot()
    robot.start()
    try:
        yield robot
    finally:
        robot.stop()
