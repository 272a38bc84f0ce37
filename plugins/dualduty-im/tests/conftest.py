"""Test set-up of the plugin: tests never auto-load installed plugins; each test makes the
channels it needs from a channel type and a stand-in robot (dualduty_im.testing)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import pytest
from dualduty_im import DingTalkType, FeishuType, RobotChannel, RobotType, WeComType
from dualduty_im.testing import DingTalkRobot, FeishuRobot, ManualClock, RobotServer, WeComRobot

from dualduty.notify import OutboxMessage

# each test registers what it needs; the entry-point tests start a fresh interpreter
# with the variable set as they want
os.environ.setdefault("DUALDUTY_LOAD_PLUGINS", "")

#: The prefix of the environment variables holding the stand-in robots' secrets.
PREFIX = "OFFICE_ROBOT"
#: A fixed start for the clocks tests move by hand (2025-06-15 23:06:40 UTC).
T0 = 1_750_028_800.0


@attrs.frozen
class Provider:
    """One provider as the tests see it: its stand-in, its channel type, its codes."""

    name: str
    robot: type[RobotServer]
    channel_type: type[RobotType]
    throttle_code: int
    retry_after: float
    unknown_credential_code: int
    signature_code: int | None
    """The code of a refused signature (None: the provider does not sign)."""
    signature_message: str
    keyword_code: int | None
    malformed_code: int

    def make_robot(self, **options: Any) -> RobotServer:
        return self.robot(**options)


DINGTALK = Provider(
    "dingtalk",
    DingTalkRobot,
    DingTalkType,
    throttle_code=130101,
    retry_after=600.0,
    unknown_credential_code=300005,
    signature_code=310000,
    signature_message="sign not match",
    keyword_code=310000,
    malformed_code=40035,
)
WECOM = Provider(
    "wecom",
    WeComRobot,
    WeComType,
    throttle_code=45009,
    retry_after=60.0,
    unknown_credential_code=93000,
    signature_code=None,
    signature_message="",
    keyword_code=None,
    malformed_code=40058,
)
FEISHU = Provider(
    "feishu",
    FeishuRobot,
    FeishuType,
    throttle_code=11232,
    retry_after=60.0,
    unknown_credential_code=19001,
    signature_code=19021,
    signature_message="sign match fail or timestamp is not within one hour from current time",
    keyword_code=19024,
    malformed_code=9499,
)
PROVIDERS = (DINGTALK, WECOM, FEISHU)
SIGNING = tuple(p for p in PROVIDERS if p.signature_code is not None)


def message(
    title: str = "重大隐患 H-0001：第一中学",
    text: str = "实验楼一楼消防通道被杂物堵塞，按实施方案三.2立即上报领导小组办公室。",
    *,
    markdown: str | None = None,
    key: str | None = None,
    channel: str = "office-robot",
) -> OutboxMessage:
    """A message for the tests' channel."""
    return OutboxMessage(channel, "office", title, text, markdown, key=key)


@pytest.fixture(params=PROVIDERS, ids=[p.name for p in PROVIDERS])
def provider(request: pytest.FixtureRequest) -> Provider:
    """Each provider in turn."""
    value: Provider = request.param
    return value


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand, shared by the robot and the channel."""
    return ManualClock(T0)


@pytest.fixture
def robot(provider: Provider, clock: ManualClock) -> Iterator[RobotServer]:
    """The provider's stand-in robot, up for the test, on the test's clock."""
    with provider.make_robot(clock=clock) as robot:
        yield robot


Connect = Callable[..., RobotChannel]


@pytest.fixture
def connect(
    provider: Provider, robot: RobotServer, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Connect]:
    """``connect(env=None, **settings)``: a channel to the robot, made by the provider's
    channel type from settings with the secrets in the environment (*env* overrides
    variables, *settings* settings)."""
    made: list[RobotChannel] = []

    def connect(*, env: Mapping[str, str] | None = None, **more: Any) -> RobotChannel:
        for name, value in {**robot.environ(PREFIX), **(env or {})}.items():
            monkeypatch.setenv(name, value)
        channel = provider.channel_type(clock=clock).create(
            "office-robot", robot.settings(PREFIX, **more)
        )
        made.append(channel)
        return channel

    yield connect
    for channel in made:
        channel.close()
