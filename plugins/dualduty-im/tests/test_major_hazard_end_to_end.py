"""Issue 8's acceptance: a major hazard found at a school reaches a real SMTP server and a
(stand-in) DingTalk robot, through the district file's routes, the outbox and the
dispatcher — the office head, the deputy in charge and the leader, at once (三.2)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dualduty_im
import pytest
from aiosmtpd.controller import Controller
from dualduty_im.testing import DingTalkRobot, RobotServer

import dualduty
from dualduty.notify.channels import make_channels
from dualduty.notify.dispatch import Dispatcher
from dualduty.plugins import Hooks, make_plugin_manager
from dualduty.records import Recorder
from dualduty.storage import open_store

ZONE = dt.timezone(dt.timedelta(hours=8))
OFFICE_HEAD, DEPUTY, LEADER = "p007", "p004", "p001"


class Inbox:
    """An aiosmtpd handler keeping every message that arrives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def district_file(tmp_path: Path, smtp_port: int, robot: RobotServer) -> Path:
    org = dualduty.reference_organisation(schools=3)
    path = tmp_path / "bureau.toml"
    dualduty.dump(org, path)
    settings = robot.settings("OFFICE_ROBOT")
    robot_table = "\n".join(f'{k} = "{v}"' for k, v in settings.items())
    path.write_text(
        path.read_text("utf-8")
        + f"""
[notify.channels.mail]
type = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "区教体局安全办 <safety@edu.example.cn>"

[notify.channels.office-robot]
type = "dingtalk"
{robot_table}

[[notify.routes]]
event = "major-hazard"
channels = ["mail", "office-robot"]

[notify.contacts.{OFFICE_HEAD}]
mail = "office@edu.example.cn"

[notify.contacts.{DEPUTY}]
mail = "deputy@edu.example.cn"

[notify.contacts.{LEADER}]
mail = "director@edu.example.cn"
""",
        "utf-8",
    )
    return path


def test_a_major_hazard_reaches_the_mail_server_and_the_robot(
    tmp_path: Path, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp
    with DingTalkRobot("dt-token-1", "SECdt-secret-1") as robot:
        for name, value in robot.environ("OFFICE_ROBOT").items():
            monkeypatch.setenv(name, value)
        org = dualduty.load(district_file(tmp_path, port, robot))
        pm = make_plugin_manager(entry_points=False)
        pm.register(dualduty_im, name="im")
        hooks = Hooks(pm)
        channels = make_channels(org.notify.channel_tables(), hooks=hooks)
        assert {"mail", "office-robot"} <= set(channels)
        with open_store(f"sqlite:///{tmp_path / 'records.db'}") as store:
            found = dt.datetime(2026, 9, 1, 9, tzinfo=ZONE)
            hazard = Recorder(store, org).hazards.find(
                "s0002", "major", "教学楼外墙瓷砖空鼓", actor="p011", at=found
            )
            queued = store.outbox()
            assert {(m.message.channel, m.message.urgent) for m in queued} == {
                ("mail", True),
                ("office-robot", True),
            }
            try:
                report = Dispatcher(store, channels).run_once()
            finally:
                for channel in channels.values():
                    close = getattr(channel, "close", None)
                    if close is not None:
                        close()
            assert report.delivered == len(queued) == 6
            assert store.outbox(state="pending") == []
    # the mail server: one mail to each of the three, about the hazard
    to = sorted(rcpt for rcpts, _ in inbox.messages for rcpt in rcpts)
    assert to == ["deputy@edu.example.cn", "director@edu.example.cn", "office@edu.example.cn"]
    for _, message in inbox.messages:
        assert hazard.id in str(message["Subject"]) + message.get_content()
        assert "重大" in str(message["Subject"])
    # the robot: three messages accepted (HTTP 200, errcode 0), each naming the hazard
    assert len(robot.received) == 3
    assert all(hazard.id in r.content for r in robot.received)
