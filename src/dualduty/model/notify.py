"""Who is told what, through which channel: notification routes as data (no I/O).

A district file's ``[notify]`` table holds an organisation's :class:`NotifySettings`:

- ``[[notify.routes]]``: :class:`Route`\\ s, each sending one *event kind* (a major hazard
  found, an incident, a visit due tomorrow, …) to people named by *roles* (the office's
  head, the deputy in charge of the school's sections, …) through *channels*;
- ``[notify.channels.<name>]``: :class:`ChannelTable`\\ s, the channels a route may name
  (an email server, a DingTalk robot), kept as data — channel plugins make the channels;
- ``[notify.contacts.<person>]``: :class:`Contact`\\ s, a person's address on a channel
  when it is not the one the model holds (a robot's @-mention by phone, another mailbox);
- ``[notify.templates.<id>]``: :class:`TemplateText`\\ s replacing the Chinese texts
  messages are rendered from.

With no ``[notify]`` table the :data:`DEFAULT_ROUTES` apply, each from a clause of the plan,
through the ``console`` channel, so nothing needs configuring to start. A route in the
file *replaces* the default routes of its event kind; what it leaves out (who, how early)
it takes from them. :mod:`dualduty.notify.routing` resolves routes into messages.
"""

from __future__ import annotations

import datetime as dt
import string
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from ._checks import check_id, check_ids, check_optional, check_text

__all__ = [
    "CHANNEL_CONTACT",
    "COMMON_FIELDS",
    "DEFAULT_ROUTES",
    "EVENT_KINDS",
    "PARTY_ROLES",
    "ROLES",
    "STRUCTURAL_ROLES",
    "ChannelTable",
    "Contact",
    "EventKind",
    "NotifySettings",
    "Route",
    "TemplateText",
    "effective_routes",
    "template_problems",
]


# -- the vocabulary --------------------------------------------------------------------------


@attrs.frozen
class EventKind:
    """Something that may be notified: its label, its clause, what its templates may say.

    :param name: the kind as routes name it (``major-hazard``).
    :param label: the Chinese label (``重大隐患``).
    :param clause: the clause of the plan that asks for the notification.
    :param fields: the template fields an event of this kind supplies, beside
        :data:`COMMON_FIELDS`.
    :param parties: the roles only an event of this kind can fill (the hazard's
        responsible person, a visit's inspectors), beside :data:`STRUCTURAL_ROLES`.
    :param reminder: whether it is a time-driven reminder (:mod:`dualduty.notify.reminders`)
        rather than caused by a record.
    """

    name: str = attrs.field(validator=check_id)
    label: str = attrs.field(validator=check_text)
    clause: str = attrs.field(validator=check_text)
    fields: tuple[str, ...]
    parties: tuple[str, ...] = ()
    reminder: bool = False


#: Fields every template may use, whatever the event: the organisation's name, the person
#: the message goes to, the event kind's label and clause, when it happened, and
#: ``urgent`` (``【紧急】`` for an urgent message, else empty).
COMMON_FIELDS: tuple[str, ...] = ("org_name", "recipient_name", "label", "clause", "at", "urgent")

_HAZARD = ("hazard", "school", "school_name", "level", "description")

#: The built-in event kinds, by name.
EVENT_KINDS: Mapping[str, EventKind] = types.MappingProxyType(
    {
        k.name: k
        for k in (
            EventKind(
                "major-hazard",
                "重大隐患",
                "三.2",
                (*_HAZARD, "finder", "found_at"),
            ),
            EventKind(
                "hazard-escalated",
                "隐患督办",
                "三.2",
                (*_HAZARD, "reason", "post_title", "escalation_level"),
                parties=("escalation",),
            ),
            EventKind(
                "incident",
                "事件报告",
                "二(四).法规安全科.3",
                (
                    "incident",
                    "school",
                    "school_name",
                    "grade",
                    "category",
                    "title",
                    "occurred_at",
                    "figures",
                    "recorder",
                    "found",
                    "initial_due",
                ),
            ),
            EventKind(
                "incident-report",
                "事件续报",
                "二(四).法规安全科.3",
                (
                    "incident",
                    "school",
                    "school_name",
                    "grade",
                    "title",
                    "stage",
                    "text",
                    "figures",
                    "raised",
                ),
            ),
            EventKind(
                "incident-grave",
                "较大及以上事件",
                "二(一).2",
                (
                    "incident",
                    "school",
                    "school_name",
                    "grade",
                    "title",
                    "occurred_at",
                    "figures",
                    "raised",
                ),
            ),
            EventKind(
                "report-submitted",
                "季度报告报送",
                "三.2",
                ("report", "unit", "unit_name", "year", "quarter", "title", "action", "submitter"),
            ),
            EventKind(
                "rectification-due",
                "整改到期",
                "三.2",
                (*_HAZARD, "time_limit", "days_left", "responsible_name"),
                parties=("responsible",),
                reminder=True,
            ),
            EventKind(
                "hazard-overdue",
                "隐患逾期",
                "三.2",
                (*_HAZARD, "missed", "deadline", "days_over", "responsible_name"),
                parties=("responsible", "escalation"),
                reminder=True,
            ),
            EventKind(
                "visit-due",
                "督查提醒",
                "三.2",
                (
                    "visit",
                    "school",
                    "school_name",
                    "date",
                    "holder_name",
                    "manner",
                    "quarter",
                    "inspectors",
                ),
                parties=("inspectors",),
                reminder=True,
            ),
            EventKind(
                "report-due",
                "季度报告提醒",
                "三.2",
                (
                    "deadline",
                    "unit",
                    "unit_name",
                    "year",
                    "quarter",
                    "due",
                    "working_days_left",
                ),
                reminder=True,
            ),
            EventKind(
                "meeting-due",
                "会议提醒",
                "三.3",
                ("meeting", "meeting_kind", "title", "unit", "unit_name", "date"),
                parties=("attendees",),
                reminder=True,
            ),
        )
    }
)

#: Roles any event can fill from the organisation, with what they mean (Chinese first).
STRUCTURAL_ROLES: Mapping[str, str] = types.MappingProxyType(
    {
        "office-head": "领导小组办公室主任: the head of the leading group's office",
        "office": "领导小组办公室: the office's head and the staff of the section it sits in",
        "leader": "组长: the leader of the leading group (局长)",
        "deputy-in-charge": (
            "分管领导: the leading-group posts in charge of the sections packaging the "
            "event's school (or of the event's unit)"
        ),
        "package-leaders": "包校领导: the leading-group posts holding a package of the school",
        "section-heads": (
            "科室负责人: the heads of the sections packaging the school (or of the event's "
            "unit; every section's head when the event has neither)"
        ),
        "leading-group": "领导小组成员: every member of the leading group",
    }
)

#: Roles an event fills itself (the person responsible for a rectification, …).
PARTY_ROLES: Mapping[str, str] = types.MappingProxyType(
    {
        "responsible": (
            "整改责任人: the person the rectification plan names (before a plan: the head "
            "of the school's section)"
        ),
        "escalation": (
            "督办对象: the holder of the post an overdue hazard was escalated to (for an "
            "overdue reminder: every level reached so far)"
        ),
        "inspectors": "督查人员: the holders of a visit's inspector posts",
        "attendees": (
            "参会人员: a topic study's section; for a coordination or summary meeting the "
            "leading group, the office and every section's head"
        ),
    }
)

#: Every role a route may name.
ROLES: frozenset[str] = frozenset(STRUCTURAL_ROLES) | frozenset(PARTY_ROLES)

#: Which field of :class:`~dualduty.model.Person` a channel *type* addresses people by
#: (other types address them by their person id).
CHANNEL_CONTACT: Mapping[str, str] = types.MappingProxyType({"email": "email", "sms": "phone"})


# -- routes ----------------------------------------------------------------------------------


def _tuple(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("expected a list, got a string")
    return tuple(value)


def _opt_positive(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name}: expected a whole number >= 1, got {value!r}")


def _opt_bool(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{attribute.name}: expected true or false, got {value!r}")


def _texts(_inst: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"{attribute.name}: {item!r} is not a name")


_opt_id = check_optional(check_id)


@attrs.frozen
class Route:
    """Send events of one kind to people, through channels.

    :param event: the event kind (:data:`EVENT_KINDS`; a plugin's own kinds have a dot in
        their name, ``mydistrict.drill``).
    :param roles: who, by role (:data:`ROLES`), in order.
    :param people: who else, by person id.
    :param channels: the channels' names (``console``, or a ``[notify.channels.<name>]``
        table's).
    :param urgent: force the messages urgent (``True``) or not (``False``); ``None``: as
        the event is (a major hazard is, a general incident is not).
    :param template: the template's id (default: the event kind's own).
    :param lead_days: for reminders of something due: how long before it the reminder
        goes (3 days for a rectification, 5 working days for a quarter report).
    :param working_days: whether *lead_days* counts working days of the work
        calendar rather than calendar days.
    :param every_days: for overdue reminders: how often they repeat, in days (default:
        as often as an overdue hazard may climb its escalation chain,
        :attr:`HazardRules.escalate_every_days <dualduty.records.HazardRules.escalate_every_days>`,
        7).
    :param id: the route's name in idempotency keys (default: the event kind, then
        ``<kind>.2``, ``<kind>.3`` for further routes of the same kind). Name routes to keep
        keys stable when routes are reordered.

    In a district file, a route without *roles* and *people* goes to whom the default
    route of its kind sends, and one without *lead_days*, *working_days* or
    *every_days* takes them from it too (:func:`effective_routes`).
    """

    event: str = attrs.field(validator=check_text)
    roles: tuple[str, ...] = attrs.field(default=(), converter=_tuple, validator=_texts)
    people: tuple[str, ...] = attrs.field(default=(), converter=_tuple, validator=check_ids)
    channels: tuple[str, ...] = attrs.field(
        default=("console",), converter=_tuple, validator=_texts
    )
    urgent: bool | None = attrs.field(default=None, validator=_opt_bool)
    template: str | None = attrs.field(default=None, validator=_opt_id)
    lead_days: int | None = attrs.field(default=None, validator=_opt_positive)
    working_days: bool | None = attrs.field(default=None, validator=_opt_bool)
    every_days: int | None = attrs.field(default=None, validator=_opt_positive)
    id: str | None = attrs.field(default=None, validator=_opt_id)

    @property
    def rule(self) -> str:
        """The name idempotency keys use: its ``id``, else the event kind."""
        return self.id or self.event


#: The routes that apply unless a district file routes an event kind itself; each from a
#: clause of the plan (or common practice), all through ``console``.
DEFAULT_ROUTES: tuple[Route, ...] = (
    # 三.2 对于有重大安全隐患问题的，应立即上报…领导小组办公室: the office's head at once;
    # and the deputy in charge (二(二): 分管领导 supervise their sections' schools) and the
    # leader (组长 answers for all school safety), urgently.
    Route("major-hazard", ("office-head", "deputy-in-charge", "leader"), urgent=True),
    # 三.2 消除隐患; an overdue hazard climbs section head → deputy in charge → leader
    # (records.hazards.escalation_chain): the holder of the post it reached.
    Route("hazard-escalated", ("escalation",)),
    # 二(四).法规安全科.3 第一时间内的信息反馈 and 办公室.2 信息报告: the office, with the
    # initial report's deadline (IncidentRules); urgent from 较大 up.
    Route("incident", ("office-head",)),
    Route("incident-report", ("office-head",)),
    # 二(一).2 组织、协调学校重大安全事故的应急救援: the leader, from 较大 up.
    Route("incident-grave", ("leader",)),
    # 三.2 各科室每季度末…书面报…领导小组办公室: the office learns a report came in.
    Route("report-submitted", ("office-head",)),
    # 三.2 消除隐患: the person answering for the rectification, 3 days before its time limit.
    Route("rectification-due", ("responsible",), lead_days=3, working_days=False),
    # Overdue: the responsible person, then every level of the escalation chain reached so
    # far, as often as it may climb the chain (HazardRules.escalate_every_days: weekly).
    Route("hazard-overdue", ("responsible", "escalation")),
    # 三.2 每季度对所包学校进行两次专门督查: the inspectors, the working day before.
    Route("visit-due", ("inspectors",), lead_days=1, working_days=True),
    # 三.2 各科室每季度末要…书面报…: the section's head, 5 working days before it is due.
    Route("report-due", ("section-heads",), lead_days=5, working_days=True),
    # 二(三).1 专题研究, 三.3 调度会, 二(一).3 总结表彰: the attendees, the working day before.
    Route("meeting-due", ("attendees",), lead_days=1, working_days=True),
)


# -- channels, contacts, templates ----------------------------------------------------------


def _freeze(value: Any) -> Any:
    """A setting's value made immutable: tables become read-only mappings, lists tuples."""
    if isinstance(value, Mapping):
        return types.MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    """A frozen setting as plain data again (dicts and lists)."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def _plain(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _plain(v, f"{where}.{k}")
    elif isinstance(value, tuple):
        for n, v in enumerate(value):
            _plain(v, f"{where}[{n}]")
    elif not isinstance(value, str | int | float | bool | dt.date):
        raise ValueError(f"{where}: expected text, a number, true/false, a date, a list or a table")


def _check_settings(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    for k, v in value.items():
        if k == "type":
            raise ValueError(f"{attribute.name}: 'type' is the table's type, not a setting")
        _plain(v, f"{attribute.name}.{k}")


@attrs.frozen
class ChannelTable:
    """A ``[notify.channels.<name>]`` table: a channel of a channel type, with its settings.

    The settings are kept as written (secrets as ``"env:NAME"`` references); the channel
    type reads them when :func:`dualduty.notify.channels.make_channels` makes the channel.

    >>> from dualduty.model import ChannelTable
    >>> t = ChannelTable("office-mail", "email", {"host": "smtp.example.cn", "port": 465})
    >>> t.settings["port"], t.table()
    (465, {'type': 'email', 'host': 'smtp.example.cn', 'port': 465})
    """

    name: str = attrs.field(validator=check_id)
    type: str = attrs.field(validator=check_text)
    settings: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_freeze, validator=_check_settings, hash=False
    )
    """Everything of the table but ``type``: text, numbers, true/false, dates, lists and
    tables of them (read-only)."""

    def table(self) -> dict[str, Any]:
        """The table as plain data, ``type`` first (what ``make_channels`` takes)."""
        return {"type": self.type, **_thaw(self.settings)}


@attrs.frozen
class Contact:
    """A person's address on one channel (``[notify.contacts.<person>]``, channel = address).

    Without one, a channel of type ``email`` takes the person's
    :attr:`~dualduty.model.Person.email`; other channels take the person id.
    """

    person: str = attrs.field(validator=check_id)
    channel: str = attrs.field(validator=check_id)
    address: str = attrs.field(validator=check_text)


_opt_text = check_optional(check_text)


@attrs.frozen
class TemplateText:
    """A message template (``[notify.templates.<id>]``): a title, a plain text and a
    Markdown text, with ``$field`` (or ``${field}``) placeholders (``string.Template``;
    ``$$`` is a dollar sign).

    Overriding a built-in template, a part left out keeps the built-in text; a new
    template (named by a route's ``template``) needs a title and a text.
    """

    id: str = attrs.field(validator=check_id)
    title: str | None = attrs.field(default=None, validator=_opt_text)
    text: str | None = attrs.field(default=None, validator=_opt_text)
    markdown: str | None = attrs.field(default=None, validator=_opt_text)


def _routes(value: Iterable[Route]) -> tuple[Route, ...]:
    return tuple(value)


def _channel_tables(value: Iterable[ChannelTable]) -> tuple[ChannelTable, ...]:
    return tuple(value)


def _contacts(value: Iterable[Contact]) -> tuple[Contact, ...]:
    return tuple(value)


def _templates(value: Iterable[TemplateText]) -> tuple[TemplateText, ...]:
    return tuple(value)


def _instances(cls: type) -> Any:
    return attrs.validators.deep_iterable(attrs.validators.instance_of(cls))


@attrs.frozen
class NotifySettings:
    """An organisation's ``[notify]`` table: routes, channels, contacts and templates.

    The default (empty) settings send what :data:`DEFAULT_ROUTES` say through ``console``.
    Cross-references (a route naming an unknown role, channel or person, a template using
    a field its event has not) are checked with the organisation
    (:meth:`dualduty.Organisation.problems`).
    """

    routes: tuple[Route, ...] = attrs.field(
        default=(), converter=_routes, validator=_instances(Route)
    )
    """Routes replacing the default routes of their event kinds."""
    channels: tuple[ChannelTable, ...] = attrs.field(
        default=(), converter=_channel_tables, validator=_instances(ChannelTable)
    )
    contacts: tuple[Contact, ...] = attrs.field(
        default=(), converter=_contacts, validator=_instances(Contact)
    )
    templates: tuple[TemplateText, ...] = attrs.field(
        default=(), converter=_templates, validator=_instances(TemplateText)
    )
    fallback: str = attrs.field(default="console", validator=check_id)
    """The channel a message goes through instead when its person has no address on the
    channel routed (no email address for ``email``), with a note saying so."""

    def channel_tables(self) -> dict[str, dict[str, Any]]:
        """The channel tables by name, as plain data (for
        :func:`dualduty.notify.channels.make_channels`)."""
        return {t.name: t.table() for t in self.channels}

    def channel_type(self, name: str) -> str | None:
        """The type of the channel *name* (``console`` for the built-in one), or ``None``
        for a channel no table declares (one a plugin registers as it is)."""
        for t in self.channels:
            if t.name == name:
                return t.type
        return "console" if name == "console" else None


def effective_routes(
    settings: NotifySettings | None = None, extra: Sequence[Route] = ()
) -> tuple[Route, ...]:
    """The routes in force: the defaults for every event kind the settings do not route,
    the settings' routes (completed from the defaults), then *extra* (a plugin's), each
    with its ``id`` set.

    >>> from dualduty.model import NotifySettings, Route
    >>> from dualduty.model.notify import effective_routes
    >>> [r.rule for r in effective_routes() if r.event == "major-hazard"]
    ['major-hazard']
    >>> mine = NotifySettings(routes=[Route("incident", channels=["mail"])])
    >>> [(r.roles, r.channels) for r in effective_routes(mine) if r.event == "incident"]
    [(('office-head',), ('mail',))]
    """
    given = settings.routes if settings is not None else ()
    routed = {r.event for r in given}
    defaults: dict[str, Route] = {}
    for r in DEFAULT_ROUTES:
        defaults.setdefault(r.event, r)
    out = [r for r in DEFAULT_ROUTES if r.event not in routed]
    for given_route in (*given, *extra):
        base = defaults.get(given_route.event)
        changes: dict[str, Any] = {}
        if base is not None:
            if not given_route.roles and not given_route.people:
                changes["roles"] = base.roles
                changes["people"] = base.people
            for name in ("lead_days", "working_days", "every_days"):
                if getattr(given_route, name) is None:
                    changes[name] = getattr(base, name)
        out.append(attrs.evolve(given_route, **changes) if changes else given_route)
    named: list[Route] = []
    seen: dict[str, int] = {}
    for r in out:
        if r.id is not None:
            named.append(r)
            continue
        n = seen.get(r.event, 0) + 1
        seen[r.event] = n
        named.append(attrs.evolve(r, id=r.event if n == 1 else f"{r.event}.{n}"))
    return tuple(named)


def template_problems(text: str, allowed: Iterable[str]) -> list[str]:
    """What is wrong with a template text: a ``$`` that starts no placeholder, or a field
    not in *allowed* (empty when nothing is).

    >>> from dualduty.model.notify import template_problems
    >>> template_problems("${school_name}发现$hazard", ["school_name", "hazard"])
    []
    >>> for problem in template_problems("$school 发现 $ 隐患", ["school_name"]):
    ...     print(problem)
    a '$' starts no field (write $$ for a dollar sign)
    unknown field $school
    """
    template = string.Template(text)
    out = []
    if not template.is_valid():
        out.append("a '$' starts no field (write $$ for a dollar sign)")
    known = set(allowed)
    for name in template.get_identifiers():
        if name not in known:
            out.append(f"unknown field ${name}")
    return out
