"""The installed plugin registers its channel types through its entry point.

These tests need the plugin installed (``pip install -e .``): some start a fresh
interpreter, as a user's command would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata

import dualduty_im as plugin
import pytest
from dualduty_im import DingTalkChannel, FeishuChannel, WeComChannel

from dualduty.notify import ChannelConfigError, ChannelType
from dualduty.notify.channels import make_channels
from dualduty.plugins import Hooks, make_plugin_manager

NAME = "im"


def run(code: str, load: str | None, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DUALDUTY_")}
    if load is not None:
        environ["DUALDUTY_LOAD_PLUGINS"] = load
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=environ
    )


def test_the_distribution_declares_the_entry_points() -> None:
    dist = metadata.distribution("dualduty-im")  # fails if not installed
    (entry_point,) = [ep for ep in dist.entry_points if ep.group == "dualduty"]
    assert (entry_point.name, entry_point.value) == (NAME, "dualduty_im")
    assert entry_point.load() is plugin
    assert dist.version == plugin.__version__
    (fixtures,) = [ep for ep in dist.entry_points if ep.group == "pytest11"]
    assert fixtures.value == "dualduty_im.testing.fixtures"


def test_registered_types_make_channels() -> None:
    pm = make_plugin_manager(entry_points=False)
    pm.register(plugin, name=NAME)
    types = Hooks(pm).channel_types()
    assert {"dingtalk", "wecom", "feishu"} <= set(types)
    for name in ("dingtalk", "wecom", "feishu"):
        assert isinstance(types[name], ChannelType)
        assert types[name].name == name


def test_make_channels_from_district_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFICE_ROBOT_TOKEN", "t-123456")
    monkeypatch.setenv("BUREAU_WECOM_KEY", "k-123456")
    monkeypatch.setenv("OFFICE_FEISHU_HOOK", "h-123456")
    pm = make_plugin_manager(entry_points=False)
    pm.register(plugin, name=NAME)
    channels = make_channels(
        {
            "office-robot": {"type": "dingtalk", "token": "env:OFFICE_ROBOT_TOKEN"},
            "bureau-wecom": {"type": "wecom", "key": "env:BUREAU_WECOM_KEY"},
            "office-feishu": {"type": "feishu", "hook": "env:OFFICE_FEISHU_HOOK"},
        },
        hooks=Hooks(pm),
    )
    assert isinstance(channels["office-robot"], DingTalkChannel)
    assert isinstance(channels["bureau-wecom"], WeComChannel)
    assert isinstance(channels["office-feishu"], FeishuChannel)
    for channel in channels.values():
        close = getattr(channel, "close", None)
        if close is not None:
            close()


def test_make_channels_reports_every_table(monkeypatch: pytest.MonkeyPatch) -> None:
    pm = make_plugin_manager(entry_points=False)
    pm.register(plugin, name=NAME)
    with pytest.raises(ChannelConfigError) as caught:
        make_channels(
            {
                "office-robot": {"type": "dingtalk", "token": "t-literal-token"},
                "bureau-wecom": {"type": "wecom"},
            },
            hooks=Hooks(pm),
        )
    message = str(caught.value)
    assert "notify.channels.office-robot.token: expected 'env:NAME' or 'file:PATH'" in message
    assert "notify.channels.bureau-wecom.key: missing" in message
    assert "t-literal-token" not in message


LOADED = """
from dualduty.plugins import hooks
print(sorted(hooks().channel_types()))
"""


def test_loaded_by_name_its_types_are_there() -> None:
    done = run(LOADED, load=NAME)
    assert done.returncode == 0, done.stderr
    assert {"dingtalk", "wecom", "feishu"} <= set(json.loads(done.stdout.replace("'", '"')))


def test_not_named_its_types_are_not() -> None:
    done = run(LOADED, load="")
    assert done.returncode == 0, done.stderr
    assert not {"dingtalk", "wecom", "feishu"} & set(json.loads(done.stdout.replace("'", '"')))


def test_listed_by_dualduty_plugins() -> None:
    done = run(
        "import sys; sys.argv = ['dualduty', 'plugins', '--format', 'json']; "
        "from dualduty.cli import run; run()",
        load=NAME,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {
        "name": NAME,
        "version": plugin.__version__,
        "hooks": ["dualduty_register_channel_types"],
    } in rows


def test_importing_the_plugin_stays_light() -> None:
    """Loading the plugin imports neither the HTTP client nor the stand-in servers."""
    done = run(
        "import sys, dualduty_im; "
        "print(sorted(m for m in ('http.client', 'http.server', 'ssl', 'dualduty_im.testing') "
        "if m in sys.modules))",
        load="",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
