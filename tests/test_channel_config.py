"""Channels from a district file's settings (make_channels), the console channel, the
settings reader, and the conformance kit itself: the how-to's SMS example passes it, and a
channel that fakes deliveries fails it."""

from __future__ import annotations

import logging
import re
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from dualduty.notify import (
    Channel,
    ChannelConfigError,
    ChannelType,
    DeliveryResult,
    OutboxMessage,
    RateLimit,
)
from dualduty.notify.channels import (
    CONSOLE_LOGGER,
    ChannelSettings,
    ConsoleChannel,
    ConsoleChannelType,
    builtin_channel_types,
    make_channels,
)
from dualduty.notify.email import EmailChannel
from dualduty.notify.webhook import WebhookChannel
from dualduty.plugins import Hooks, hookimpl, make_plugin_manager

pytest_plugins = ["pytester"]

DOCS = Path(__file__).parent.parent / "docs"
SECRET = "cfg-secret-Wq83"


class BuiltinTypes:
    """Registers the built-in channel types, as dualduty's own plugin does."""

    @hookimpl
    def dualduty_register_channel_types(self, register: Callable[[ChannelType], None]) -> None:
        for channel_type in builtin_channel_types():
            register(channel_type)


@pytest.fixture
def hooks() -> Hooks:
    pm = make_plugin_manager(entry_points=False)
    pm.register(BuiltinTypes(), name="test.channel-types")
    return Hooks(pm)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CFG_SECRET", SECRET)
    monkeypatch.delenv("CFG_MISSING", raising=False)


def problems(error: pytest.ExceptionInfo[ChannelConfigError]) -> list[str]:
    return [line.strip() for line in str(error.value).splitlines()]


# -- making channels ---------------------------------------------------------------------------


def test_one_channel_per_table_and_the_registered_ones(hooks: Hooks, secret_env: None) -> None:
    channels = make_channels(
        {
            "office-mail": {
                "type": "email",
                "host": "smtp.example.cn",
                "sender": "安全办 <safety@example.cn>",
                "username": "safety",
                "password": "env:CFG_SECRET",
            },
            "oa": {"type": "webhook", "url": "https://oa.example.cn/h", "secret": "env:CFG_SECRET"},
            "duty-log": {"type": "console", "level": "info"},
        },
        hooks=hooks,
    )
    assert sorted(channels) == ["console", "duty-log", "oa", "office-mail"]
    assert isinstance(channels["office-mail"], EmailChannel)
    assert isinstance(channels["oa"], WebhookChannel)
    assert isinstance(channels["duty-log"], ConsoleChannel)
    for name, channel in channels.items():
        assert channel.name == name
        assert isinstance(channel, Channel)
        assert SECRET not in repr(channel)


def test_no_tables_gives_the_registered_channels(hooks: Hooks) -> None:
    assert sorted(make_channels({}, hooks=hooks)) == ["console"]


def test_a_table_replaces_a_registered_channel_of_its_name(hooks: Hooks) -> None:
    channels = make_channels(
        {"console": {"type": "console", "logger": "district.duty"}}, hooks=hooks
    )
    console = channels["console"]
    assert isinstance(console, ConsoleChannel)
    assert console.logger.name == "district.duty"


def test_every_problem_of_every_table_is_reported(hooks: Hooks, secret_env: None) -> None:
    with pytest.raises(ChannelConfigError) as info:
        make_channels(
            {
                "mail": {
                    "type": "email",
                    "security": "tls",
                    "sender": "安全办 <safety@example.cn>",
                },
                "oa": {
                    "type": "webhook",
                    "url": "https://oa.example.cn/h",
                    "secret": "env:CFG_MISSING",
                },
                "literal": {"type": "webhook", "url": "https://oa.example.cn/h", "secret": SECRET},
                "sms": {"type": "sms", "url": "https://sms.example.cn"},
                "untyped": {"url": "https://x.example.cn"},
                "odd": "email",  # type: ignore[dict-item]  # what a file may hold
                "fine": {"type": "console"},
            },
            hooks=hooks,
        )
    assert problems(info) == [
        "7 problems in the channel settings:",
        "notify.channels.mail.host: missing; the SMTP server's name",
        "notify.channels.mail.security: 'tls' is not one of 'starttls', 'ssl', 'none'",
        "notify.channels.oa.secret: the environment variable CFG_MISSING is not set",
        "notify.channels.literal.secret: expected 'env:NAME' or 'file:PATH' naming where the "
        "secret is kept; secrets are not written into district files",
        "notify.channels.sms.type: unknown channel type 'sms' (known: console, email, webhook)",
        "notify.channels.untyped.type: missing; the channel type (one of: console, email, webhook)",
        "notify.channels.odd: expected a table of settings, got str",
    ]
    assert SECRET not in str(info.value)


def test_one_problem_is_one_line(hooks: Hooks) -> None:
    with pytest.raises(ChannelConfigError) as info:
        make_channels({"x": {"type": 3}}, hooks=hooks)
    assert str(info.value) == (
        "notify.channels.x.type: unknown channel type 3 (known: console, email, webhook)"
    )


def test_secrets_are_read_when_the_channels_are_made(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing variable stops the start; one removed later changes nothing."""
    table = {"oa": {"type": "webhook", "url": "https://oa.example.cn/h", "secret": "env:CFG_S"}}
    monkeypatch.delenv("CFG_S", raising=False)
    with pytest.raises(ChannelConfigError, match="CFG_S is not set"):
        make_channels(table, hooks=hooks)
    monkeypatch.setenv("CFG_S", SECRET)
    channel = make_channels(table, hooks=hooks)["oa"]
    monkeypatch.delenv("CFG_S")
    assert isinstance(channel, WebhookChannel)
    assert channel._secret is not None
    assert channel._secret.reveal() == SECRET


class Broken:
    """Channel types with bugs: one raises, one names its channel wrongly, one makes no
    channel at all."""

    @hookimpl
    def dualduty_register_channel_types(self, register: Callable[[ChannelType], None]) -> None:
        register(_Type("raises", lambda name: int("x")))
        register(_Type("misnames", lambda name: ConsoleChannel("other")))
        register(_Type("nothing", lambda name: object()))


class _Type:
    def __init__(self, name: str, make: Callable[[str], Any]) -> None:
        self.name = name
        self._make = make

    def create(self, name: str, settings: Mapping[str, Any]) -> Channel:
        made: Channel = self._make(name)
        return made


def test_a_broken_channel_type_is_reported_with_the_others(hooks: Hooks) -> None:
    hooks.pm.register(Broken(), name="broken")
    with pytest.raises(ChannelConfigError) as info:
        make_channels(
            {"a": {"type": "raises"}, "b": {"type": "misnames"}, "c": {"type": "nothing"}},
            hooks=hooks,
        )
    assert problems(info) == [
        "3 problems in the channel settings:",
        "notify.channels.a: the channel type 'raises' failed to make the channel: ValueError: "
        "invalid literal for int() with base 10: 'x'",
        "notify.channels.b: the channel type 'misnames' made ConsoleChannel named 'other', not "
        "a channel named 'b'",
        "notify.channels.c: the channel type 'nothing' made object named None, not a channel "
        "named 'c'",
    ]


def test_a_plugins_error_without_a_path_gets_the_tables(hooks: Hooks) -> None:
    class Strict:
        @hookimpl
        def dualduty_register_channel_types(self, register: Callable[[ChannelType], None]) -> None:
            def refuse(name: str) -> Channel:
                raise ChannelConfigError("the gateway wants a sign name\nand a template id")

            register(_Type("strict", refuse))

    hooks.pm.register(Strict(), name="strict")
    with pytest.raises(ChannelConfigError) as info:
        make_channels({"s": {"type": "strict"}, "t": {"type": "nope"}}, hooks=hooks)
    assert problems(info) == [
        "3 problems in the channel settings:",
        "notify.channels.s: the gateway wants a sign name",
        "notify.channels.s: and a template id",
        "notify.channels.t.type: unknown channel type 'nope' (known: console, email, strict, "
        "webhook)",
    ]


def test_plugin_types_replace_built_in_ones(hooks: Hooks) -> None:
    class MyConsole:
        name = "console"

        def create(self, name: str, settings: Mapping[str, Any]) -> Channel:
            return ConsoleChannel(name, logger="mine")

    class Plugin:
        @hookimpl
        def dualduty_register_channel_types(self, register: Callable[[ChannelType], None]) -> None:
            register(MyConsole())

    hooks.pm.register(Plugin(), name="mine")
    channel = make_channels({"log": {"type": "console"}}, hooks=hooks)["log"]
    assert isinstance(channel, ConsoleChannel)
    assert channel.logger.name == "mine"


def test_builtin_types() -> None:
    types = builtin_channel_types()
    assert [t.name for t in types] == ["console", "email", "webhook"]
    assert all(isinstance(t, ChannelType) for t in types)


# -- the console channel -----------------------------------------------------------------------


def test_console_logs_each_message(caplog: pytest.LogCaptureFixture) -> None:
    channel = ConsoleChannelType().create("duty-log", {"level": "info"})
    with caplog.at_level(logging.INFO, logger=CONSOLE_LOGGER):
        result = channel.deliver(
            OutboxMessage("duty-log", "zhao", "重大隐患", "消防通道堵塞", urgent=True)
        )
        channel.deliver(OutboxMessage("duty-log", "li", "提醒", "明天督查"))
    assert result == DeliveryResult.ok(detail="logged")
    assert [r.levelno for r in caplog.records] == [logging.INFO, logging.INFO]
    assert caplog.records[0].getMessage() == "[急] duty-log → zhao: 重大隐患\n消防通道堵塞"
    assert caplog.records[1].getMessage() == "duty-log → li: 提醒\n明天督查"


def test_console_defaults_match_the_built_in_channel(caplog: pytest.LogCaptureFixture) -> None:
    channel = ConsoleChannel()
    assert channel.name == "console"
    assert isinstance(channel, Channel)
    assert channel.rate_limits == ()
    assert channel.max_bytes is None
    with caplog.at_level(logging.WARNING, logger=CONSOLE_LOGGER):
        channel.deliver(OutboxMessage("console", "zhao", "重大隐患", "text", urgent=True))
    assert "[急] console → zhao: 重大隐患" in caplog.text
    assert caplog.records[0].levelno == logging.WARNING
    assert repr(channel) == "ConsoleChannel('console', logger='dualduty.notify.console')"


def test_console_settings_are_checked() -> None:
    with pytest.raises(ChannelConfigError) as info:
        ConsoleChannelType().create("log", {"level": "loud", "logger": "", "colour": True})
    assert problems(info) == [
        "notify.channels.log.logger: expected non-empty text, got ''",
        "notify.channels.log.level: 'loud' is not one of 'debug', 'info', 'warning'",
        "notify.channels.log.colour: unknown setting (known: level, logger, type)",
    ]


# -- the settings reader -----------------------------------------------------------------------


def test_settings_reader_checks_types(tmp_path: Path) -> None:
    existing = tmp_path / "ca.pem"
    existing.write_text("x", encoding="utf-8")
    s = ChannelSettings(
        "c",
        {
            "port": True,
            "retries": 0,
            "big": 70000,
            "timeout": float("inf"),
            "flag": "yes",
            "ca": str(existing),
            "missing_ca": str(tmp_path / "nope.pem"),
            "limits": [{"count": 20, "seconds": 60}, {"count": 1.5, "seconds": 1}, "x"],
            "one_limit": {"count": 5, "seconds": 1},
        },
    )
    assert s.integer("port", 25) == 25
    assert s.integer("retries", 3) == 3
    assert s.integer("big", None, maximum=65535) is None
    assert s.number("timeout", 10.0) == 10.0
    assert s.boolean("flag", False) is False
    assert s.boolean("absent", True) is True
    assert s.file("ca") == str(existing)
    assert s.file("missing_ca") is None
    assert s.rate_limits("limits") == (RateLimit(20, 60),)
    assert s.rate_limits("one_limit") == (RateLimit(5, 1),)
    assert s.rate_limits() == ()
    with pytest.raises(ChannelConfigError) as info:
        s.done()
    assert problems(info) == [
        "notify.channels.c.port: expected a whole number, got True",
        "notify.channels.c.retries: expected a number at least 1, got 0",
        "notify.channels.c.big: expected a number between 1 and 65535, got 70000",
        "notify.channels.c.timeout: expected a positive number, got inf",
        "notify.channels.c.flag: expected true or false, got 'yes'",
        f"notify.channels.c.missing_ca: no such file: {tmp_path / 'nope.pem'}",
        "notify.channels.c.limits[1]: expected {count = <whole number > 0>, seconds = <number > "
        "0>}, got {'count': 1.5, 'seconds': 1}",
        "notify.channels.c.limits[2]: expected {count = <whole number > 0>, seconds = <number > "
        "0>}, got 'x'",
    ]


def test_settings_reader_shortens_long_values() -> None:
    s = ChannelSettings("c", {"level": "x" * 200})
    s.choice("level", ("a", "b"), "a")
    assert s.problems == [
        f"notify.channels.c.level: {('x' * 200)!r:.57}... is not one of 'a', 'b'",
    ]


def test_settings_reader_secret_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text(f"  {SECRET}\n", encoding="utf-8")
    s = ChannelSettings("c", {"key": f"file:{path}", "empty": f"file:{tmp_path / 'none'}"})
    secret = s.secret("key")
    assert secret is not None
    assert secret.reveal() == SECRET
    assert s.secret("empty") is None
    assert s.secret("absent") is None
    assert s.secret("required", required=True, what="the key") is None
    assert s.problems[0].startswith(
        f"notify.channels.c.empty: cannot read the secret file {tmp_path}"
    )
    assert s.problems[1] == "notify.channels.c.required: missing; the key"


# -- the conformance kit -----------------------------------------------------------------------


def _code_blocks(page: Path) -> dict[str, str]:
    """The ``{code-block}`` blocks of a MyST page, by caption."""
    text = page.read_text(encoding="utf-8")
    pattern = re.compile(r"```\{code-block\} python\n:caption: (\S+)\n\n(.*?)```", re.DOTALL)
    return dict(pattern.findall(text))


@pytest.fixture
def sms_example(pytester: pytest.Pytester) -> pytest.Pytester:
    blocks = _code_blocks(DOCS / "how-to" / "write-a-channel.md")
    assert sorted(blocks) == ["src/dualduty_sms/__init__.py", "tests/test_sms.py"]
    pytester.makepyfile(dualduty_sms=blocks["src/dualduty_sms/__init__.py"])
    pytester.makepyfile(test_sms=blocks["tests/test_sms.py"])
    pytester.syspathinsert()
    return pytester


def test_the_how_to_example_passes_the_kit(sms_example: pytest.Pytester) -> None:
    result = sms_example.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=10)


def test_the_how_to_shows_the_example_s_settings_error(
    sms_example: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    sms = importlib.import_module("dualduty_sms")
    hooks = Hooks(make_plugin_manager(entry_points=False))
    hooks.pm.register(sms)
    with pytest.raises(ChannelConfigError) as info:
        make_channels({"duty-sms": {"type": "sms", "key": "k-123456"}}, hooks=hooks)
    page = (DOCS / "how-to" / "write-a-channel.md").read_text(encoding="utf-8")
    shown = page.split("```text\n", 1)[1].split("```", 1)[0]
    assert shown == f"dualduty.notify.ChannelConfigError: {info.value}\n"
    assert "k-123456" not in str(info.value)


def test_the_kit_catches_a_channel_that_fakes_deliveries(pytester: pytest.Pytester) -> None:
    """A channel that believes every HTTP 200 (the fault of a popular library) fails."""
    pytester.makepyfile(
        test_liar=textwrap.dedent(
            """
            import pytest
            from dualduty.notify import DeliveryResult
            from dualduty.testing.channels import ChannelConformance, Received


            class Box:
                def __init__(self):
                    self.got, self.mode = [], "accept"

                def received(self):
                    return list(self.got)

                def refuse(self, *, permanent):
                    self.mode = "refuse"

                def accept(self):
                    self.mode = "accept"

                def go_down(self):
                    self.mode = "down"

                def come_back(self):
                    self.mode = "accept"


            class Liar:
                name = "liar"

                def __init__(self, box):
                    self.box = box

                def deliver(self, message):
                    if self.box.mode == "down":
                        raise ConnectionRefusedError(111, "refused")
                    if self.box.mode == "accept":
                        got = Received(message.recipient, message.title, message.text)
                        self.box.got.append(got)
                    return DeliveryResult.ok("200")  # HTTP 200, whatever the body said


            class TestLiar(ChannelConformance):
                @pytest.fixture
                def receiver(self):
                    return Box()

                @pytest.fixture
                def channel(self, receiver):
                    return Liar(receiver)
            """
        )
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, failed=5)
    result.stdout.fnmatch_lines(
        [
            "E * a refused message reported delivered: DeliveryResult(delivered=True*",
            "E *.deliver raised ConnectionRefusedError: *; a channel reports a provider's *",
        ],
        consecutive=False,
    )


def test_the_kit_asks_for_its_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_empty="""
        from dualduty.testing.channels import ChannelConformance

        class TestNothing(ChannelConformance):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "test_is_a_channel")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*TestNothing must define a `channel` fixture*"])
