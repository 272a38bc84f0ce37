"""DingTalk (钉钉), WeCom (企业微信) and Feishu/Lark (飞书) group robots for dualduty.

Installed, the plugin (entry point ``im``) registers three channel types through the
``dualduty_register_channel_types`` hook, so a district file can name robots::

    [notify.channels.office-robot]
    type = "dingtalk"
    token = "env:OFFICE_ROBOT_TOKEN"     # the webhook's access_token
    secret = "env:OFFICE_ROBOT_SECRET"   # the robot's 加签 secret, if it signs

    [notify.channels.bureau-wecom]
    type = "wecom"
    key = "env:BUREAU_WECOM_KEY"         # the webhook's key

    [notify.channels.office-feishu]
    type = "feishu"
    hook = "env:OFFICE_FEISHU_HOOK"      # the id at the end of the webhook address
    secret = "env:OFFICE_FEISHU_SECRET"  # the robot's 签名校验 secret, if it signs

Every channel reports a message as delivered only when the robot's answer says so
(:mod:`dualduty_im.channels`); the signatures are in :mod:`dualduty_im.signing`; stand-in
robot servers to test a configuration against are in :mod:`dualduty_im.testing`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dualduty.plugins import hookimpl

from .channels import (
    DingTalkChannel,
    DingTalkType,
    FeishuChannel,
    FeishuType,
    RobotChannel,
    RobotType,
    WeComChannel,
    WeComType,
)
from .signing import dingtalk_sign, feishu_sign

if TYPE_CHECKING:
    from dualduty.notify import ChannelType

__all__ = [
    "DingTalkChannel",
    "DingTalkType",
    "FeishuChannel",
    "FeishuType",
    "RobotChannel",
    "RobotType",
    "WeComChannel",
    "WeComType",
    "channel_types",
    "dingtalk_sign",
    "feishu_sign",
]

__version__ = "0.1.0"


def channel_types() -> tuple[RobotType, ...]:
    """The channel types this plugin registers: ``dingtalk``, ``wecom``, ``feishu``."""
    return (DingTalkType(), WeComType(), FeishuType())


@hookimpl
def dualduty_register_channel_types(register: Callable[[ChannelType], None]) -> None:
    """The ``dingtalk``, ``wecom`` and ``feishu`` channel types."""
    for channel_type in channel_types():
        register(channel_type)
