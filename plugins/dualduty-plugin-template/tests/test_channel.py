"""The JSON-lines notification channel."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import dualduty_plugin_template as plugin
from dualduty.notify import Channel
from dualduty.plugins import Hooks
from dualduty.storage import OutboxMessage, open_store
from dualduty.testing import PluginRegistrar
from dualduty_plugin_template import OUTBOX_FILE_ENV, JsonLinesChannel, SafetyDrill, Scenario

CHANNEL = JsonLinesChannel.name
HAZARD = OutboxMessage(CHANNEL, "zhao", "重大安全隐患", "实验室危化品超量存放", urgent=True)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_is_a_channel() -> None:
    assert isinstance(JsonLinesChannel(), Channel)
    assert CHANNEL == "district_template.jsonl"


def test_appends_one_json_line_per_message(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    channel = JsonLinesChannel(path)
    first = channel.deliver(HAZARD)
    second = channel.deliver(
        OutboxMessage(CHANNEL, "li", "季度报告", "请于季末提交", markdown="**季末**")
    )
    assert first.delivered
    assert second.delivered
    assert first.detail == f"appended to {path}"
    written = lines(path)
    assert [line["title"] for line in written] == ["重大安全隐患", "季度报告"]
    assert {k: v for k, v in written[0].items() if k != "written_at"} == {
        "channel": CHANNEL,
        "recipient": "zhao",
        "title": "重大安全隐患",
        "text": "实验室危化品超量存放",
        "markdown": None,
        "urgent": True,
    }
    assert written[1]["markdown"] == "**季末**"
    written_at = dt.datetime.fromisoformat(str(written[0]["written_at"]))
    assert abs(dt.datetime.now(dt.UTC) - written_at) < dt.timedelta(minutes=1)
    assert "重大安全隐患" in path.read_text(encoding="utf-8")  # UTF-8, not \\u escapes


def test_file_from_the_environment_or_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(OUTBOX_FILE_ENV, raising=False)
    channel = JsonLinesChannel()
    assert channel.path == Path("dualduty-notifications.jsonl")
    assert channel.deliver(HAZARD).delivered
    assert len(lines(tmp_path / "dualduty-notifications.jsonl")) == 1

    monkeypatch.setenv(OUTBOX_FILE_ENV, str(tmp_path / "elsewhere.jsonl"))
    assert channel.deliver(HAZARD).delivered  # read at each delivery
    assert len(lines(tmp_path / "elsewhere.jsonl")) == 1
    # a path given to the constructor wins over the environment
    assert JsonLinesChannel(tmp_path / "mine.jsonl").path == tmp_path / "mine.jsonl"


def test_a_missing_directory_is_not_worth_retrying(tmp_path: Path) -> None:
    result = JsonLinesChannel(tmp_path / "no" / "such" / "outbox.jsonl").deliver(HAZARD)
    assert (result.delivered, result.retryable, result.provider_code) == (False, False, "ENOENT")
    assert "cannot append to" in result.detail
    assert not (tmp_path / "no").exists()


def test_a_directory_in_the_way_is_not_worth_retrying(tmp_path: Path) -> None:
    result = JsonLinesChannel(tmp_path).deliver(HAZARD)
    assert (result.delivered, result.retryable, result.provider_code) == (False, False, "EISDIR")


def test_registered_channel_replaces_nothing_built_in(dualduty_hooks: Hooks) -> None:
    dualduty_hooks.pm.register(plugin)
    channels = dualduty_hooks.channels()
    assert sorted(channels) == ["console", CHANNEL]
    assert isinstance(channels[CHANNEL], JsonLinesChannel)


def test_delivers_what_the_outbox_holds(
    dualduty_plugin: PluginRegistrar, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole path: a message written with its record, then delivered by the channel."""
    monkeypatch.setenv(OUTBOX_FILE_ENV, str(tmp_path / "outbox.jsonl"))
    dualduty_plugin(plugin)
    from dualduty.plugins import hooks

    channel = hooks().channels()[CHANNEL]
    drill = SafetyDrill(Scenario.FIRE, 800, 420, "疏散超时")
    with open_store(f"sqlite:///{tmp_path / 'records.db'}") as store:
        with store.transaction() as tx:
            entry = tx.append(
                plugin.drill_record(
                    drill, school_id="s0001", unit_id="regulation-safety", actor="zhao"
                )
            )
            tx.enqueue(OutboxMessage(CHANNEL, "zhao", "演练疏散超时", "七分钟"), cause=entry)
        (item,) = store.outbox()
        assert item.cause == entry.seq
        result = channel.deliver(item.message)
        assert result.delivered
        store.mark(item, state="delivered", detail=result.detail)
        assert store.outbox() == []
    assert [line["title"] for line in lines(tmp_path / "outbox.jsonl")] == ["演练疏散超时"]
