"""dualduty's channel conformance kit (dualduty.testing.channels) against each robot.

The kit's receiver is the provider's stand-in robot behind a small adapter: a group
robot posts to its group whoever the message is for, so the adapter reports the group
as the recipient, and splits a text message's content back into its title (the first
line) and text. The robots here do not throttle (the kit sends twenty in a row, faster
than a Feishu robot's five a second): the limits have their own tests.

WeCom runs in text mode only: a WeCom Markdown message has no title of its own (the
Markdown body carries its heading), which the kit's urgent-Markdown test looks for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar

import pytest
from dualduty_im import RobotChannel
from dualduty_im.testing import RobotServer

from dualduty.testing.channels import ChannelConformance, Received

from .conftest import DINGTALK, FEISHU, PREFIX, WECOM, Provider

GROUP = "safety-office-group"


class RobotReceiver:
    """A stand-in robot as the kit's :class:`dualduty.testing.channels.Receiver`."""

    def __init__(self, robot: RobotServer, provider: Provider) -> None:
        self.robot = robot
        self.provider = provider

    def received(self) -> list[Received]:
        arrived = []
        for message in self.robot.received:
            if message.title is not None:  # a Markdown message or card: title apart
                title, text = message.title, message.content
            else:  # text: the title, a line break, the text
                title, _, text = message.content.partition("\n")
            arrived.append(Received(GROUP, title, text))
        return arrived

    def refuse(self, *, permanent: bool) -> None:
        if permanent:  # as when the robot was removed from the group
            self.robot.refuse(code=self.provider.unknown_credential_code, message="gone")
        else:
            self.robot.refuse(code=self.provider.throttle_code, message="too fast")

    def accept(self) -> None:
        self.robot.accept()

    def go_down(self) -> None:
        self.robot.down()

    def come_back(self) -> None:
        self.robot.up()


class RobotConformance(ChannelConformance):
    """The kit for one provider and message type (set in subclasses)."""

    provider: ClassVar[Provider]
    msgtype: ClassVar[str] = "text"

    @pytest.fixture
    def robot(self) -> Iterator[RobotServer]:
        with self.provider.make_robot(limits=()) as robot:
            yield robot

    @pytest.fixture
    def receiver(self, robot: RobotServer) -> RobotReceiver:
        return RobotReceiver(robot, self.provider)

    @pytest.fixture
    def channel(
        self, robot: RobotServer, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[RobotChannel]:
        for name, value in robot.environ(PREFIX).items():
            monkeypatch.setenv(name, value)
        settings = robot.settings(PREFIX, msgtype=self.msgtype)
        with self.provider.channel_type().create("office-robot", settings) as channel:
            yield channel

    @pytest.fixture
    def secrets(self, robot: RobotServer) -> Sequence[str]:
        return [s for s in (robot.credential, robot.secret) if s is not None]

    @pytest.fixture
    def recipient(self) -> str:
        return GROUP


class TestDingTalk(RobotConformance):
    provider = DINGTALK


class TestDingTalkMarkdown(RobotConformance):
    provider = DINGTALK
    msgtype = "markdown"


class TestWeCom(RobotConformance):
    provider = WECOM


class TestFeishu(RobotConformance):
    provider = FEISHU


class TestFeishuMarkdown(RobotConformance):
    provider = FEISHU
    msgtype = "markdown"
