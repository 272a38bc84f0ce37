"""The plugin manager: built-ins through the hooks, entry points, environment switches.

Entry-point loading is tested for real: each test that needs it writes a throwaway
distribution (a ``*.dist-info`` directory and a module) into ``tmp_path`` and runs
``dualduty plugins --format json`` in a fresh interpreter with it on ``PYTHONPATH``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

import dualduty
from dualduty import _builtin
from dualduty._builtin import RECORD_KINDS as BUILTIN_KINDS
from dualduty.calendars import HolidayProvider, HolidayYear, Term, TermProvider
from dualduty.hookspecs import AppendedContext, StoreRequest
from dualduty.notify import Channel, DeliveryResult, OutboxMessage
from dualduty.notify.channels import ConsoleChannel
from dualduty.plugins import (
    BUILTIN,
    Hooks,
    PluginInfo,
    hookimpl,
    hooks,
    make_plugin_manager,
    plugin_manager,
    requested_but_missing,
)
from dualduty.records import Entry, Note, Record
from dualduty.records.hazards import HAZARD_KINDS
from dualduty.scoring import (
    AssessmentDraft,
    GradeBand,
    ScoreItem,
    ScoringContext,
    ScoringRule,
    Veto,
)
from dualduty.storage import AppendObserverError, StoreBackend, StoreError, open_store
from dualduty.storage.memory import MemoryBackend
from dualduty.storage.sqlite import SqliteBackend

BUILTIN_HOOKS = [
    "dualduty_open_store",
    "dualduty_register_calendars",
    "dualduty_register_channel_types",
    "dualduty_register_channels",
    "dualduty_register_package_solvers",
    "dualduty_register_record_kinds",
]
AT = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def manager(*plugins: tuple[str, object]) -> Hooks:
    """A manager with the built-in plugin and *plugins* (name, plugin), no entry points."""
    pm = make_plugin_manager(entry_points=False)
    for name, plugin in plugins:
        pm.register(plugin, name=name)
    return Hooks(pm)


def note(text: str = "消防通道畅通") -> Record:
    return Record.of(Note(text), actor="wang", at=AT, subjects=["school:s1"])


# -- the built-in plugin ---------------------------------------------------------------


def test_builtin_plugin_is_registered_through_the_hooks(tmp_path: Path) -> None:
    h = manager()
    assert h.pm.get_plugin(BUILTIN) is _builtin
    for hook in BUILTIN_HOOKS:
        callers = getattr(h.pm.hook, hook).get_hookimpls()
        assert [impl.plugin_name for impl in callers] == [BUILTIN]

    memory = h.open_store("memory:")
    assert isinstance(memory, MemoryBackend)
    sqlite = h.open_store(f"sqlite:///{tmp_path / 'records.db'}")
    assert isinstance(sqlite, SqliteBackend)
    sqlite.close()
    assert h.open_store("postgresql://db/records") is None

    channels = h.channels()
    assert list(channels) == ["console"]
    assert isinstance(channels["console"], ConsoleChannel)
    assert h.record_kinds() == list(BUILTIN_KINDS)
    assert BUILTIN_KINDS[: 1 + len(HAZARD_KINDS)] == (Note, *HAZARD_KINDS)
    assert h.plugins() == [PluginInfo(BUILTIN, dualduty.__version__, tuple(BUILTIN_HOOKS))]


def test_console_channel_logs_and_reports_delivery(caplog: pytest.LogCaptureFixture) -> None:
    console = manager().channels()["console"]
    message = OutboxMessage("console", "zhao", "重大隐患", "实验室危化品超量存放", urgent=True)
    with caplog.at_level("WARNING", logger="dualduty.notify.console"):
        result = console.deliver(message)
    assert result == DeliveryResult(True, False, None, "logged")
    assert "[急] console → zhao: 重大隐患" in caplog.text
    assert "实验室危化品超量存放" in caplog.text


def test_process_wide_manager_is_made_once() -> None:
    assert plugin_manager() is plugin_manager()
    assert hooks().pm is plugin_manager()
    # the test suite never loads installed plugins (tests/conftest.py)
    assert os.environ["DUALDUTY_LOAD_PLUGINS"] == ""
    assert [p.name for p in hooks().plugins()] == [BUILTIN]


# -- DUALDUTY_DISABLED_PLUGINS ---------------------------------------------------------------


def test_disabling_the_builtin_plugin_leaves_no_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALDUTY_DISABLED_PLUGINS", f" other , {BUILTIN} ")
    h = manager()
    assert h.pm.is_blocked(BUILTIN)
    assert h.plugins() == []
    assert h.channels() == {}
    assert h.record_kinds() == []
    with pytest.raises(StoreError, match=r"no storage plugin opens 'memory' URLs \(memory:\)"):
        open_store("memory:", hooks=h)


def test_disabling_blocks_a_third_party_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALDUTY_DISABLED_PLUGINS", "loud")
    h = manager(("loud", LoudConsole()))
    assert [p.name for p in h.plugins()] == [BUILTIN]
    assert isinstance(h.channels()["console"], ConsoleChannel)


# -- entry points, for real ----------------------------------------------------------------

ECHO_PLUGIN = """
from dualduty.notify import DeliveryResult
from dualduty.plugins import hookimpl


class Echo:
    name = "{channel}"

    def deliver(self, message):
        return DeliveryResult.ok(detail="echo")


@hookimpl
def dualduty_register_channels(register):
    register(Echo())
"""


def make_distribution(
    site: Path, entry_point: str, module: str, source: str, version: str = "1.0"
) -> None:
    """Write an installed distribution into *site*: a module and its ``.dist-info``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: {version}\n",
        encoding="utf-8",
    )
    (info / "entry_points.txt").write_text(
        f"[dualduty]\n{entry_point} = {module}\n", encoding="utf-8"
    )


def run_dualduty(
    site: Path, *args: str, load: str | None = None, disabled: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m dualduty ARGS`` with *site* on the path; ``None`` leaves a variable unset."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [env.get("PYTHONPATH")])])
    for variable, value in (
        ("DUALDUTY_LOAD_PLUGINS", load),
        ("DUALDUTY_DISABLED_PLUGINS", disabled),
    ):
        env.pop(variable, None)
        if value is not None:
            env[variable] = value
    return subprocess.run(
        [sys.executable, "-m", "dualduty", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def listed(site: Path, *, load: str | None, disabled: str | None = None) -> list[dict[str, Any]]:
    done = run_dualduty(site, "plugins", "--format", "json", load=load, disabled=disabled)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A directory with two installed throwaway plugins: ``echo_one`` and ``echo_two``."""
    site = tmp_path / "site"
    make_distribution(site, "echo_one", "dd_echo_one", ECHO_PLUGIN.format(channel="one"), "1.2.3")
    make_distribution(site, "echo_two", "dd_echo_two", ECHO_PLUGIN.format(channel="two"), "0.4")
    return site


def test_unset_load_plugins_loads_every_installed_plugin(site: Path) -> None:
    rows = listed(site, load=None)
    assert rows[0]["name"] == BUILTIN
    ours = [row for row in rows if row["name"].startswith("echo_")]
    assert ours == [
        {"name": "echo_one", "version": "1.2.3", "hooks": ["dualduty_register_channels"]},
        {"name": "echo_two", "version": "0.4", "hooks": ["dualduty_register_channels"]},
    ]


def test_empty_load_plugins_loads_no_entry_point(site: Path) -> None:
    assert listed(site, load="") == [
        {"name": BUILTIN, "version": dualduty.__version__, "hooks": BUILTIN_HOOKS}
    ]


@pytest.mark.parametrize(
    ("load", "expected"),
    [
        ("echo_two", [BUILTIN, "echo_two"]),
        ("echo_one,echo_two", [BUILTIN, "echo_one", "echo_two"]),
        (" echo_two , echo_one ", [BUILTIN, "echo_one", "echo_two"]),
    ],
)
def test_load_plugins_loads_only_the_named(site: Path, load: str, expected: list[str]) -> None:
    assert [row["name"] for row in listed(site, load=load)] == expected


def test_disabled_wins_over_installed_and_named(site: Path) -> None:
    names = [row["name"] for row in listed(site, load=None, disabled="echo_one")]
    assert "echo_one" not in names
    assert "echo_two" in names
    names = [row["name"] for row in listed(site, load="echo_one", disabled="echo_one")]
    assert names == [BUILTIN]
    assert listed(site, load="echo_one", disabled=f"{BUILTIN},echo_two") == [
        {"name": "echo_one", "version": "1.2.3", "hooks": ["dualduty_register_channels"]}
    ]


def test_text_listing_names_disabled_plugins(site: Path) -> None:
    done = run_dualduty(site, "plugins", load="echo_one", disabled="echo_two")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{BUILTIN} {dualduty.__version__}",
        *(f"  {hook}" for hook in BUILTIN_HOOKS),
        "echo_one 1.2.3",
        "  dualduty_register_channels",
        "disabled by DUALDUTY_DISABLED_PLUGINS: echo_two",
    ]


def test_a_misspelt_plugin_name_is_warned_about(site: Path) -> None:
    done = run_dualduty(site, "plugins", "--format", "json", load="echo_one,echo_three")
    assert done.returncode == 0
    assert [row["name"] for row in json.loads(done.stdout)] == [BUILTIN, "echo_one"]
    assert "DUALDUTY_LOAD_PLUGINS names 'echo_three', but no installed plugin" in done.stderr


def test_requested_but_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALDUTY_LOAD_PLUGINS", f"nowhere,{BUILTIN},blocked")
    monkeypatch.setenv("DUALDUTY_DISABLED_PLUGINS", "blocked")
    assert requested_but_missing(make_plugin_manager()) == ["nowhere"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "import no_such_module_anywhere\n",
            "plugin 'bad' (dd_bad) cannot be loaded: ModuleNotFoundError: "
            "No module named 'no_such_module_anywhere' "
            "(disable it with DUALDUTY_DISABLED_PLUGINS=bad)",
        ),
        (
            """
            from dualduty.plugins import hookimpl

            @hookimpl
            def dualduty_register_channel(register):
                pass
            """,
            "plugin 'bad' implements a hook dualduty does not know: "
            "unknown hook 'dualduty_register_channel'",
        ),
        (
            """
            from dualduty.plugins import hookimpl

            @hookimpl
            def dualduty_open_store(url):
                return None
            """,
            "plugin 'bad' (dd_bad): Plugin 'bad' for hook 'dualduty_open_store'",
        ),
    ],
    ids=["import-error", "unknown-hook", "wrong-parameters"],
)
def test_a_broken_plugin_is_a_clear_error(tmp_path: Path, source: str, message: str) -> None:
    make_distribution(tmp_path, "bad", "dd_bad", source)
    done = run_dualduty(tmp_path, "plugins", load="bad")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"dualduty: {message}")
    # disabling it, as the message says, gets the command working again
    done = run_dualduty(tmp_path, "plugins", load="bad", disabled="bad")
    assert done.returncode == 0, done.stderr


def test_an_optional_unknown_hook_is_allowed(tmp_path: Path) -> None:
    source = """
        from dualduty.plugins import hookimpl

        @hookimpl(optionalhook=True)
        def dualduty_from_a_newer_version(context):
            pass
        """
    make_distribution(tmp_path, "newer", "dd_newer", source, "2.0")
    assert listed(tmp_path, load="newer")[1] == {"name": "newer", "version": "2.0", "hooks": []}


# -- channels -------------------------------------------------------------------------------


class LoudConsole:
    """A channel named like the built-in one."""

    name = "console"

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        return DeliveryResult.ok(provider_code="200", detail=f"shouted {message.title}")

    @hookimpl
    def dualduty_register_channels(self, register: Callable[[Channel], None]) -> None:
        register(self)


class Robot:
    def __init__(self, name: str, tag: str) -> None:
        self.name = name
        self.tag = tag

    def deliver(self, message: OutboxMessage) -> DeliveryResult:
        return DeliveryResult.retry("rate limited", provider_code="45009")


class RobotPlugin:
    def __init__(self, tag: str) -> None:
        self.tag = tag

    @hookimpl
    def dualduty_register_channels(self, register: Callable[[Channel], None]) -> None:
        register(Robot("wecom", self.tag))
        register(Robot(f"robot-{self.tag}", self.tag))


def test_a_plugin_channel_replaces_the_builtin_one_of_the_same_name() -> None:
    loud = LoudConsole()
    channels = manager(("loud", loud)).channels()
    assert channels["console"] is loud
    assert isinstance(loud, Channel)
    message = OutboxMessage("console", "zhao", "季度报告", "请于季末提交书面报告")
    assert channels["console"].deliver(message).detail == "shouted 季度报告"


def test_a_later_plugin_replaces_an_earlier_plugins_channel() -> None:
    channels = manager(("first", RobotPlugin("a")), ("second", RobotPlugin("b"))).channels()
    assert sorted(channels) == ["console", "robot-a", "robot-b", "wecom"]
    wecom = channels["wecom"]
    assert isinstance(wecom, Robot)
    assert wecom.tag == "b"
    result = wecom.deliver(OutboxMessage("wecom", "zhao", "t", "x"))
    assert (result.delivered, result.retryable, result.provider_code) == (False, True, "45009")


# -- storage plugins ------------------------------------------------------------------------


class VaultStorage:
    """A third-party storage plugin that owns ``vault:`` URLs."""

    def __init__(self) -> None:
        self.requests: list[StoreRequest] = []
        self.backends: dict[str, MemoryBackend] = {}

    @hookimpl
    def dualduty_open_store(self, request: StoreRequest) -> StoreBackend | None:
        self.requests.append(request)
        if not request.url.startswith("vault:"):
            return None
        return self.backends.setdefault(request.url, MemoryBackend(url=request.url))


def test_a_storage_plugin_opens_its_own_scheme() -> None:
    vault = VaultStorage()
    h = manager(("vault", vault))
    with open_store("vault:district-7", hooks=h) as store:
        assert store.backend is vault.backends["vault:district-7"]
        assert store.url == "vault:district-7"
        store.append(note("一"), note("二"))
        assert store.verify().ok
    with open_store("vault:district-7", readonly=True, hooks=h) as store:
        assert [e.record.data.text for e in store.read()] == ["一", "二"]
    assert vault.requests == [
        StoreRequest("vault:district-7", readonly=False),
        StoreRequest("vault:district-7", readonly=True),
    ]
    # URLs the plugin does not own still reach the built-in plugin
    with open_store("memory:", hooks=h) as store:
        assert isinstance(store.backend, MemoryBackend)
        assert store.backend is not vault.backends["vault:district-7"]
    assert vault.requests[-1] == StoreRequest("memory:")


def test_a_storage_plugin_can_take_over_a_builtin_scheme() -> None:
    class Shadow:
        @hookimpl
        def dualduty_open_store(self, request: StoreRequest) -> StoreBackend | None:
            return MemoryBackend(url="memory:shadow") if request.url == "memory:" else None

    with open_store("memory:", hooks=manager(("shadow", Shadow()))) as store:
        assert store.url == "memory:shadow"


def test_an_unknown_scheme_names_what_is_built_in() -> None:
    with pytest.raises(StoreError) as err:
        open_store("postgresql://user:s3cret@db/records", hooks=manager())
    text = str(err.value)
    assert "no storage plugin opens 'postgresql' URLs" in text
    assert "s3cret" not in text
    assert "postgresql://user:***@db/records" in text


# -- events ---------------------------------------------------------------------------------


class Forwarder:
    """Forwards every committed entry (to a provincial system, here a list)."""

    def __init__(self, fail: bool = False) -> None:
        self.seen: list[AppendedContext] = []
        self.fail = fail

    @hookimpl
    def dualduty_record_appended(self, context: AppendedContext) -> None:
        self.seen.append(context)
        if self.fail:
            raise ConnectionError("provincial system unreachable")


def test_event_plugins_see_each_committed_transaction_once() -> None:
    forwarder = Forwarder()
    with open_store("memory:", hooks=manager(("forward", forwarder))) as store:
        store.append(note("一"), note("二"))

        def abandon() -> None:
            with store.transaction() as tx:
                tx.append(note("rolled back"))
                raise RuntimeError("abandon")

        with pytest.raises(RuntimeError, match="abandon"):
            abandon()
        store.append(note("三"))
    assert [ctx.store_url for ctx in forwarder.seen] == ["memory:", "memory:"]
    assert [[e.seq for e in ctx.entries] for ctx in forwarder.seen] == [[1, 2], [3]]
    first, second = forwarder.seen[0].entries
    assert second.prev == first.hash
    assert forwarder.seen[1].entries[0].record.data == Note("三")


def test_a_failing_event_plugin_does_not_undo_the_commit() -> None:
    with open_store("memory:", hooks=manager(("forward", Forwarder(fail=True)))) as store:
        with pytest.raises(AppendObserverError, match=r"1 record\(s\) were committed") as err:
            store.append(note())
        assert [e.seq for e in err.value.entries] == [1]
        assert len(store) == 1
        assert store.verify().ok


# -- every method of the typed wrapper -------------------------------------------------------


class Drills:
    """A district's scoring and calendar plugin, for the wrapper's remaining methods."""

    def __init__(self, tag: str, bands: Sequence[GradeBand] | None = None) -> None:
        self.tag = tag
        self.id = f"drills.{tag}"
        self.name = tag
        self.bands = bands

    def score(self, context: ScoringContext) -> list[ScoreItem | Veto]:
        return [ScoreItem(self.id, "system_implementation", 1.0, f"{context.unit} drilled")]

    def holidays(self, year: int) -> HolidayYear | None:
        if year != 2025:
            return None
        return HolidayYear(2025, {dt.date(2025, 10, 1)}, {dt.date(2025, 9, 28)}, source=self.tag)

    def terms(self, year: int) -> Sequence[Term] | None:
        return [Term("秋季学期", dt.date(year, 9, 1), dt.date(year + 1, 1, 20))]

    @hookimpl
    def dualduty_register_scoring_rules(self, register: Callable[[ScoringRule], None]) -> None:
        register(self)

    @hookimpl
    def dualduty_adjust_assessment(
        self, draft: AssessmentDraft
    ) -> Sequence[ScoreItem | Veto] | None:
        if self.tag == "quiet":
            return None
        return [
            ScoreItem(
                f"adjust.{self.tag}",
                "bonus",
                0.5,
                f"{len(draft.items)} items before for {draft.context.unit}",
            ),
            Veto(f"veto.{self.tag}", "重大责任事故"),
        ]

    @hookimpl
    def dualduty_grade_bands(self, context: ScoringContext) -> Sequence[GradeBand] | None:
        return self.bands

    @hookimpl
    def dualduty_register_calendars(
        self, register: Callable[[HolidayProvider | TermProvider], None]
    ) -> None:
        register(self)


@pytest.fixture(scope="module")
def context() -> ScoringContext:
    return ScoringContext(dualduty.reference_organisation(schools=2), "planning", 2025)


def test_wrapper_scoring_methods(context: ScoringContext) -> None:
    bands = (GradeBand("优秀", 95), GradeBand("合格", 60))
    h = manager(("quiet", Drills("quiet", bands)), ("loud", Drills("loud")))
    rules = h.scoring_rules()
    assert [rule.id for rule in rules] == ["drills.loud", "drills.quiet"]
    assert all(isinstance(rule, ScoringRule) for rule in rules)
    items = [item for rule in rules for item in rule.score(context)]
    scored = [item for item in items if isinstance(item, ScoreItem)]
    assert [item.explanation for item in scored] == ["planning drilled", "planning drilled"]
    extra = h.adjust_assessment(context, scored)
    assert extra == [
        ScoreItem("adjust.loud", "bonus", 0.5, "2 items before for planning"),
        Veto("veto.loud", "重大责任事故"),
    ]
    # firstresult: "loud" returns None, so the next plugin's bands win
    assert h.grade_bands(context) == bands
    assert manager(("loud", Drills("loud"))).grade_bands(context) is None
    assert manager().adjust_assessment(context, []) == []
    assert manager().scoring_rules() == []


def test_wrapper_calendars_come_latest_plugin_first() -> None:
    h = manager(("older", Drills("older")), ("newer", Drills("newer")))
    providers = h.calendars()
    # the built-in provider (the shipped holiday data) is asked last
    assert [p.name for p in providers] == ["newer", "older", "dualduty"]
    assert all(
        isinstance(p, HolidayProvider) and isinstance(p, TermProvider) for p in providers[:2]
    )
    first = providers[0]
    assert isinstance(first, Drills)
    year = first.holidays(2025)
    assert year is not None
    assert year.source == "newer"
    assert first.holidays(2024) is None
    assert [p.name for p in manager().calendars()] == ["dualduty"]


def test_wrapper_record_appended_and_record_kinds() -> None:
    forwarder = Forwarder()

    class Kinds:
        @hookimpl
        def dualduty_register_record_kinds(self, register: Callable[[type], None]) -> None:
            register(Term)  # any class: the wrapper only collects what plugins register

    h = manager(("forward", forwarder), ("kinds", Kinds()))
    entry = Entry(1, note(), "0" * 64, "f" * 64)
    h.record_appended("memory:", [entry])
    assert forwarder.seen == [AppendedContext("memory:", (entry,))]
    assert h.record_kinds() == [Term, *BUILTIN_KINDS]


def test_wrapper_lists_plugins_with_versions_and_hooks() -> None:
    h = manager(("vault", VaultStorage()), ("loud", LoudConsole()))
    assert h.plugins() == [
        PluginInfo(BUILTIN, dualduty.__version__, tuple(BUILTIN_HOOKS)),
        PluginInfo("loud", None, ("dualduty_register_channels",)),
        PluginInfo("vault", None, ("dualduty_open_store",)),
    ]
    # a plugin registered under a distribution's name reports that distribution's version
    h = manager(("pluggy", LoudConsole()))
    import pluggy

    assert h.plugins()[1] == PluginInfo(
        "pluggy", pluggy.__version__, ("dualduty_register_channels",)
    )


# -- `dualduty plugins` ---------------------------------------------------------------------


def test_plugins_command_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    from dualduty.cli import main

    assert main(["plugins", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [{"name": BUILTIN, "version": dualduty.__version__, "hooks": BUILTIN_HOOKS}]
    for row in rows:
        assert list(row) == ["name", "version", "hooks"]


@attrs.frozen
class FrozenRule:
    """A rule as a frozen attrs class: its ``id`` is a read-only field."""

    id: str

    def score(self, context: ScoringContext) -> list[ScoreItem | Veto]:
        return [ScoreItem(self.id, "system_implementation", 1.0, f"{context.unit} scored")]


def test_a_frozen_attrs_class_is_a_scoring_rule(context: ScoringContext) -> None:
    rule: ScoringRule = FrozenRule("frozen")  # mypy checks this assignment, too
    assert isinstance(rule, ScoringRule)
    assert [item.rule for item in rule.score(context)] == ["frozen"]
