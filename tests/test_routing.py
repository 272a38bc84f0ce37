"""Routing: the plan's default routes, a district file's ``[notify]`` table, addresses,
fallbacks, templates and plugin routes — against real stores and real district files."""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path
from typing import Any

import attrs
import pytest

import dualduty
from dualduty.cli import main
from dualduty.errors import InvalidOrganisation
from dualduty.io import dumps
from dualduty.model import ChannelTable, NotifySettings, Route, TemplateText
from dualduty.model.notify import COMMON_FIELDS, DEFAULT_ROUTES, EVENT_KINDS, effective_routes
from dualduty.notify.routing import (
    Event,
    Router,
    idempotency_key,
    plugin_routes,
    route,
)
from dualduty.notify.templates import DEFAULT_TEMPLATES, TemplateError, Templates, fields_of
from dualduty.plugins import Hooks, hookimpl, make_plugin_manager
from dualduty.records import HazardRules, Hazards, IncidentRules, Incidents
from dualduty.records.submissions import Reports
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=ZONE)
ORG = dualduty.reference_organisation(schools=3)

# In the reference organisation s0002 (南关街道第一初级中学) is packaged to the general
# office (head p010, staff p011/p012), which deputy-3 (p004) is in charge of; the leading
# group's office sits in 法规安全科 (head p007, staff p008/p009); the leader is p001.
SCHOOL = "s0002"
SECTION_HEAD, SECTION_STAFF = "p010", "p011"
OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"
DEPUTY_IN_CHARGE, LEADER = "p004", "p001"


def outbox(store: Store) -> list[tuple[str, str, bool, int]]:
    return [
        (i.message.channel, i.message.recipient, i.message.urgent, i.cause)
        for i in store.outbox(state=None)
    ]


def with_emails(org: dualduty.Organisation, without: tuple[str, ...] = ()) -> dualduty.Organisation:
    """*org* with an email address for everyone but *without*."""
    people = [
        p if p.id in without else attrs.evolve(p, email=f"{p.id}@edu.example.cn")
        for p in org.people
    ]
    return attrs.evolve(org, people=people)


NOTIFY_TOML = """
[notify.channels.office-mail]
type = "email"
host = "smtp.example.cn"
port = 465
sender = "区教体局安全办 <safety@edu.example.cn>"
password = "env:SAFETY_MAIL_PASSWORD"

[[notify.routes]]
event = "incident"
channels = ["office-mail"]
"""


def district_file(tmp_path: Path, org: dualduty.Organisation, notify: str) -> Path:
    path = tmp_path / "district.toml"
    path.write_text(dumps(org, "toml") + notify, encoding="utf-8")
    return path


# -- the plan's defaults ---------------------------------------------------------------------


def test_a_major_hazard_goes_at_once_to_the_office_head_the_deputy_and_the_leader(
    tmp_path: Path,
) -> None:
    with open_store(f"sqlite:///{tmp_path / 'r.db'}") as store:
        hz = Hazards(store, ORG)
        state = hz.find(SCHOOL, "major", "教学楼外墙瓷砖大面积空鼓", actor=SECTION_STAFF, at=T0)
        # 三.2 重大隐患立即上报: one transaction, three urgent messages, caused by seq 1
        assert outbox(store) == [
            ("console", OFFICE_HEAD, True, 1),
            ("console", DEPUTY_IN_CHARGE, True, 1),
            ("console", LEADER, True, 1),
        ]
        items = store.outbox(state=None)
        assert [i.message.key for i in items] == [
            f"major-hazard:{state.id}:major-hazard:{p}:console:#1"
            for p in (OFFICE_HEAD, DEPUTY_IN_CHARGE, LEADER)
        ]
        message = items[0].message
        assert message.title == f"重大隐患 {state.id}：南关街道第一初级中学"
        assert "教学楼外墙瓷砖大面积空鼓" in message.text
        assert "汪建军" in message.text  # who found it, by name
        assert "三.2" in message.text
        assert message.markdown is not None
        assert message.markdown.startswith(f"### 重大隐患 {state.id}")
        # a general hazard tells nobody at once
        hz.find(SCHOOL, "general", "消防通道堆放杂物", actor=SECTION_STAFF, at=T0)
        assert len(store.outbox(state=None)) == 3


def test_the_default_routes_name_every_event_kind_once() -> None:
    assert sorted(r.event for r in DEFAULT_ROUTES) == sorted(EVENT_KINDS)
    assert all(r.channels == ("console",) for r in DEFAULT_ROUTES)
    assert [r.rule for r in effective_routes()] == [r.event for r in DEFAULT_ROUTES]


def test_an_incident_goes_to_the_office_with_its_initial_report_deadline(store: Store) -> None:
    incidents = Incidents(store, ORG)
    incidents.record(
        SCHOOL, "accident", "学生课间摔伤", occurred=T0, serious_injuries=1,
        actor=SECTION_STAFF, at=T0 + dt.timedelta(minutes=5),
    )  # fmt: skip
    (item,) = store.outbox()
    assert (item.message.recipient, item.message.urgent) == (OFFICE_HEAD, False)
    assert "初报时限：2026-09-01 10:00" in item.message.text  # 60 minutes for 一般


def test_a_quarter_report_tells_the_office(store: Store) -> None:
    reports = Reports(store, ORG)
    done = reports.submit(
        "general-office", 2026, 3, actor=SECTION_HEAD, title="办公室第三季度报告", text="正文",
        at=T0,
    )  # fmt: skip
    (item,) = store.outbox()
    assert item.message.recipient == OFFICE_HEAD
    assert item.message.title == "季度报告报送：办公室第三季度报告"
    assert done.id in item.message.text
    assert "马伟" in item.message.text


# -- a district file's [notify] table ----------------------------------------------------------


def test_a_district_file_routes_incidents_to_email_with_addresses(
    tmp_path: Path, store: Store
) -> None:
    org = dualduty.load(district_file(tmp_path, with_emails(ORG), NOTIFY_TOML))
    assert org.notify.channel_tables() == {
        "office-mail": {
            "type": "email",
            "host": "smtp.example.cn",
            "port": 465,
            "sender": "区教体局安全办 <safety@edu.example.cn>",
            "password": "env:SAFETY_MAIL_PASSWORD",
        }
    }
    Incidents(store, org).record(
        SCHOOL, "accident", "实验室起火", occurred=T0, deaths=3, actor=SECTION_STAFF, at=T0
    )
    # the incident route goes by email now; 较大 also reaches the leader (default route)
    assert outbox(store) == [
        ("office-mail", "赵波 <p007@edu.example.cn>", True, 1),
        ("console", LEADER, True, 1),
    ]
    # other event kinds keep their default routes
    Hazards(store, org).find(SCHOOL, "major", "外墙空鼓", actor=SECTION_STAFF, at=T0)
    assert [c for c, *_ in outbox(store)[2:]] == ["console"] * 3


def test_a_person_without_an_email_address_gets_it_through_the_fallback(
    tmp_path: Path, store: Store
) -> None:
    """Never dropped: the message goes through ``console`` (the default fallback), to the
    person id, its text starting with a note saying why."""
    org = dualduty.load(district_file(tmp_path, with_emails(ORG, (OFFICE_HEAD,)), NOTIFY_TOML))
    Incidents(store, org).record(
        SCHOOL, "accident", "学生摔伤", occurred=T0, serious_injuries=1, actor=SECTION_STAFF, at=T0
    )
    (item,) = store.outbox()
    assert (item.message.channel, item.message.recipient) == ("console", OFFICE_HEAD)
    assert item.message.text.startswith(
        "（赵波未登记邮箱，本消息未经 office-mail 发出，改经 console 送达。）\n"
    )
    assert item.message.key == f"incident:ic-00001:incident:{OFFICE_HEAD}:console:#1"


def test_the_fallback_channel_and_contacts_are_the_districts(tmp_path: Path) -> None:
    notify = NOTIFY_TOML + (
        '\n[notify]\nfallback = "duty-robot"\n'
        '[notify.channels.duty-robot]\ntype = "webhook"\nurl = "https://hooks.example.cn/x"\n'
        f'[notify.contacts.{LEADER}]\noffice-mail = "director@gov.example.cn"\n'
        '[[notify.routes]]\nevent = "incident-grave"\nchannels = ["office-mail"]\n'
    )
    org = dualduty.load(district_file(tmp_path, ORG, notify))
    assert org.notify.fallback == "duty-robot"
    router = Router(org)
    event = Event(
        "incident-grave", "ic-1", T0, school=SCHOOL, cause=9, urgent=True,
        data=dict.fromkeys(EVENT_KINDS["incident-grave"].fields, "x"),
    )  # fmt: skip
    (message,) = router.route(event)
    assert (message.channel, message.recipient) == ("office-mail", "director@gov.example.cn")
    event = attrs.evolve(event, kind="incident")
    event = attrs.evolve(event, data=dict.fromkeys(EVENT_KINDS["incident"].fields, "x"))
    (message,) = router.route(event)  # the office head has no address: the robot
    assert (message.channel, message.recipient) == ("duty-robot", OFFICE_HEAD)


def test_a_route_overrides_recipients_urgency_and_template(store: Store) -> None:
    settings = NotifySettings(
        routes=[
            Route(
                "major-hazard",
                roles=["office", "section-heads"],
                people=["p005"],
                urgent=False,
                template="major-short",
            )
        ],
        templates=[TemplateText("major-short", "隐患 $hazard", "${school_name}：$description")],
    )
    org = attrs.evolve(ORG, notify=settings)
    assert org.problems() == []
    Hazards(store, org).find(SCHOOL, "major", "外墙空鼓", actor=SECTION_STAFF, at=T0)
    items = store.outbox(state=None)
    assert [(i.message.recipient, i.message.urgent) for i in items] == [
        ("p007", False),
        ("p008", False),
        ("p009", False),
        (SECTION_HEAD, False),
        ("p005", False),
    ]
    assert items[0].message.title == "隐患 hz-00001"
    assert items[0].message.text == "南关街道第一初级中学：外墙空鼓"
    assert items[0].message.markdown is None


def test_a_vacant_post_is_not_a_silent_drop(store: Store) -> None:
    """Escalated to a vacant post: the office's head learns of it instead, and why."""
    units = [
        attrs.evolve(
            u,
            posts=[attrs.evolve(p, holder=None) if p.id == "deputy-3" else p for p in u.posts],
        )
        for u in ORG.units
    ]
    org = attrs.evolve(ORG, units=units)
    hz = Hazards(store, org)
    state = hz.find(SCHOOL, "general", "配电箱未上锁", actor=SECTION_STAFF, at=T0)
    (esc,) = hz.escalate_overdue(T0 + dt.timedelta(days=31), actor=OFFICE_HEAD)
    assert esc.escalation_level == 1
    (item,) = store.outbox(state=None)
    assert item.message.recipient == OFFICE_HEAD
    assert item.message.text.startswith("（本消息原定发送给 escalation，均无人在岗")
    assert item.message.key == f"hazard-escalated:{state.id}:hazard-escalated:p007:console:#2"


def test_the_old_channel_setting_still_wins(store: Store) -> None:
    hz = Hazards(store, ORG, HazardRules(channel="office-robot"))
    hz.find(SCHOOL, "major", "外墙空鼓", actor=SECTION_STAFF, at=T0)
    assert {c for c, *_ in outbox(store)} == {"office-robot"}
    Incidents(store, ORG, IncidentRules.of(ORG, channel="pager")).record(
        SCHOOL, "accident", "摔伤", occurred=T0, actor=SECTION_STAFF, at=T0
    )
    assert outbox(store)[-1][0] == "pager"


def test_texts_are_cut_to_the_channels_limit() -> None:
    settings = NotifySettings(
        routes=[Route("major-hazard", channels=["robot"])],
        channels=[ChannelTable("robot", "wecom", {"max_bytes": 120})],
    )
    org = attrs.evolve(ORG, notify=settings)
    long = "实验室危化品超量存放且无专人管理" * 20
    data = dict.fromkeys(EVENT_KINDS["major-hazard"].fields, "x") | {"description": long}
    event = Event("major-hazard", "hz-1", T0, school=SCHOOL, data=data, urgent=True)
    messages = Router(org).route(event)
    assert len(messages) == 3
    for m in messages:
        assert len(m.text.encode("utf-8")) <= 120
        assert m.text.endswith("…")
        assert m.markdown is not None
        assert len(m.markdown.encode("utf-8")) <= 120
    # a limit the caller knows from the channel itself wins over none
    messages = Router(ORG, limits={"console": 60}).route(event)
    assert all(len(m.text.encode()) <= 60 for m in messages)


# -- events, keys, templates -------------------------------------------------------------------


def test_keys_are_stable_and_long_ones_hashed() -> None:
    parts = {"rule": "visit-due", "person": "p1", "channel": "console", "period": "2026-09-07"}
    assert idempotency_key("visit-due", "v1", **parts) == (
        "visit-due:v1:visit-due:p1:console:2026-09-07"
    )
    long = idempotency_key("x" * 100, "y" * 100, **parts)
    assert len(long) == 161
    assert long == idempotency_key("x" * 100, "y" * 100, **parts)
    assert long != idempotency_key("x" * 100, "y" * 100, **(parts | {"period": "2026-09-08"}))


def test_an_event_without_its_fields_is_refused() -> None:
    event = Event("major-hazard", "hz-1", T0, school=SCHOOL, data={"hazard": "hz-1"})
    with pytest.raises(TemplateError, match="lacks the field"):
        route(event, ORG)


def test_a_plugins_event_kind_without_a_template_says_its_title_and_text() -> None:
    extra = [Route("district.drill", roles=["leader"])]
    event = Event("district.drill", "d1", T0, data={"title": "消防演练", "text": "周五演练"})
    (message,) = route(event, ORG, extra_routes=extra)
    assert (message.recipient, message.title, message.text) == (LEADER, "消防演练", "周五演练")


def sample(kind: str) -> dict[str, str]:
    return {f: f"〈{f}〉" for f in (*EVENT_KINDS[kind].fields, *COMMON_FIELDS)}


@pytest.mark.parametrize("kind", sorted(EVENT_KINDS))
def test_every_built_in_template_renders_with_its_kinds_fields(kind: str) -> None:
    template = DEFAULT_TEMPLATES[kind]
    used: set[str] = set()
    for part in (template.title, template.text, template.markdown):
        assert part is not None
        used.update(string.Template(part).get_identifiers())
    assert used <= set(fields_of(kind)), used - set(fields_of(kind))
    rendered = Templates().render(kind, sample(kind))
    for text in (rendered.title, rendered.text, rendered.markdown):
        assert text is not None
        assert "$" not in text
    every = f"{rendered.title}{rendered.text}{rendered.markdown}"
    for field in used:
        assert f"〈{field}〉" in every
    assert len(rendered.title) < 60


def test_a_route_of_a_plugin_comes_through_the_hook() -> None:
    class DrillPlugin:
        @hookimpl
        def dualduty_notification_routes(self, org: Any) -> list[Route]:
            return [Route("major-hazard", roles=["leading-group"], channels=["console"])]

    pm = make_plugin_manager(entry_points=False)
    pm.register(DrillPlugin(), name="drills")
    extra = plugin_routes(ORG, Hooks(pm))
    assert [r.roles for r in extra] == [("leading-group",)]
    router = Router(ORG, extra_routes=extra)
    assert [r.rule for r in router.routes_for("major-hazard")] == [
        "major-hazard",
        "major-hazard.2",
    ]
    event = Event(
        "major-hazard", "hz-1", T0, school=SCHOOL, urgent=True,
        data=dict.fromkeys(EVENT_KINDS["major-hazard"].fields, "x"),
    )  # fmt: skip
    people = [m.recipient for m in router.route(event)]
    # the defaults first, then every member of the leading group by the plugin's rule
    assert people[:3] == [OFFICE_HEAD, DEPUTY_IN_CHARGE, LEADER]
    assert people[3:] == ["p001", "p002", "p003", "p004", "p005", "p006"]
    assert plugin_routes(ORG, Hooks(make_plugin_manager(entry_points=False))) == ()


# -- checking the [notify] table ----------------------------------------------------------------

BAD_NOTIFY = """
[notify]
fallback = "office-mail"
colour = "red"

[notify.channels.office-mail]
type = "email"
host = "smtp.example.cn"

[notify.channels.robot]
url = "https://oapi.dingtalk.com/robot/send"

[[notify.routes]]
event = "major-hazard"
roles = ["office-head", "inspectors", "mayor"]
people = ["p999"]
channels = ["office-mail", "sms"]

[[notify.routes]]
event = "visit-due"
urgent = "yes"

[[notify.routes]]
event = "report-due"
lead_days = 0

[[notify.routes]]
event = "incident"
every_days = 2
template = "brief"

[[notify.routes]]
event = "meteor"

[notify.contacts.p404]
robot = "13800000000"

[notify.templates.brief]
title = "$grade事件 $hazard"
text = "费用 $ 100"

[notify.templates.orphan]
title = "x"
text = "y"
"""

BAD_PATHS = [
    ("notify.colour", "unknown key 'colour'"),
    ("notify.routes[1].urgent", "expected true or false, got str 'yes'"),
    ("notify.routes[2].lead_days", "expected a whole number >= 1, got 0"),
    ("notify.channels.robot.type", "required field missing"),
    ("notify.fallback", "'office-mail' is an email channel, which needs an address"),
    ("notify.routes[0].roles[1]", "major-hazard events have no 'inspectors'"),
    ("notify.routes[0].roles[2]", "unknown role 'mayor'"),
    ("notify.routes[0].people[0]", "unknown person 'p999'"),
    ("notify.routes[0].channels[1]", "unknown channel 'sms'"),
    ("notify.routes[3].every_days", "every_days applies to hazard-overdue, not to incident"),
    ("notify.routes[4].event", "unknown event kind 'meteor'"),
    ("notify.contacts.p404", "unknown person 'p404'"),
    ("notify.templates.brief.title", "unknown field $hazard (fields of incident:"),
    ("notify.templates.brief.text", "a '$' starts no field"),
    ("notify.templates.orphan", "no route uses template 'orphan'"),
]


def test_a_bad_notify_table_gives_every_problem_with_its_path(tmp_path: Path) -> None:
    path = district_file(tmp_path, ORG, BAD_NOTIFY)
    with pytest.raises(InvalidOrganisation) as caught:
        dualduty.load(path)
    problems = caught.value.problems
    assert len(problems) == len(BAD_PATHS)
    for want_path, want in BAD_PATHS:
        found = [p for p in problems if p.path == want_path]
        assert found, want_path
        assert want in found[0].message, (want_path, found[0].message)
    # the contact naming the broken robot table is not reported as an unknown channel
    assert all("'robot'" not in p.message for p in problems)


def test_dualduty_check_exits_2_naming_the_notify_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = district_file(tmp_path, ORG, BAD_NOTIFY)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"{len(BAD_PATHS)} problems" in err
    for want_path, _ in BAD_PATHS:
        assert f"{path}: {want_path}: " in err


def test_a_notify_table_round_trips_through_every_format(tmp_path: Path) -> None:
    org = dualduty.load(district_file(tmp_path, with_emails(ORG), NOTIFY_TOML))
    settings = attrs.evolve(
        org.notify,
        routes=[*org.notify.routes, Route("visit-due", ["inspectors", "leader"], lead_days=2)],
        templates=[TemplateText("incident", title="${grade}事件：$school_name")],
    )
    org = attrs.evolve(org, notify=settings)
    assert org.problems() == []
    for fmt in ("toml", "json", "yaml"):
        assert dualduty.io.loads(dumps(org, fmt), fmt) == org
    # no [notify] table is written for the defaults
    assert "notify" not in dumps(ORG, "toml")
