"""Routing: which event goes to whom, through which channel, how urgently.

An :class:`Event` is something worth telling people: a major hazard found, an incident
recorded, a visit due tomorrow. A :class:`Router` resolves the routes in force for its kind
(:func:`dualduty.model.notify.effective_routes`: the plan's defaults, a district file's
``[notify]`` routes, a plugin's) into :class:`~dualduty.notify.OutboxMessage`\\ s:

- *roles* become people through the organisation graph (the office's head, the deputy in
  charge of the school's sections, the leader, …) or the event's own parties (a visit's
  inspectors, a rectification's responsible person);
- each person is addressed in the channel's terms: a channel of type ``email`` takes
  ``"姓名 <address>"`` from the person's :attr:`~dualduty.model.Person.email` (or a
  ``[notify.contacts]`` entry); other channels take the person id. A person with no
  address for the channel is not dropped: the message goes through the fallback channel
  (``console`` unless ``[notify] fallback`` names another), addressed by person id, its
  text starting with a note that says so;
- a route that finds nobody at all (every post vacant) goes to the office's head, with a
  note naming the roles it was meant for; with no office head either, to the recipient
  ``nobody`` on the fallback channel, so the console shows it;
- the text comes from the route's template (:mod:`dualduty.notify.templates`), cut to the
  channel's byte limit when known;
- each message carries an idempotency key,
  ``<kind>:<subject>:<rule>:<person>:<channel>:<period>`` (hashed past 190 characters),
  so the outbox holds a notification once however often it is routed.

The records services (hazards, incidents, quarterly reports) route their events in the
transaction of the record that causes them; :mod:`dualduty.notify.reminders` routes the
time-driven ones. This module imports the model and the graph only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from dualduty.model.enums import Role
from dualduty.model.notify import (
    CHANNEL_CONTACT,
    EVENT_KINDS,
    STRUCTURAL_ROLES,
    NotifySettings,
    Route,
    effective_routes,
)
from dualduty.storage.store import OutboxMessage

from . import fit_bytes
from .templates import TemplateError, Templates

if TYPE_CHECKING:
    from dualduty.graph import OrgGraph
    from dualduty.model.org import Organisation, Unit
    from dualduty.plugins import Hooks

__all__ = [
    "Event",
    "Roles",
    "Router",
    "idempotency_key",
    "plugin_routes",
    "route",
    "zh_date",
    "zh_time",
]

#: Keys longer than this are shortened with a hash.
MAX_KEY = 190
#: The recipient of a message nobody could be found for.
NOBODY = "nobody"


@attrs.frozen
class Event:
    """Something to tell people about.

    :param kind: the event kind (:data:`dualduty.model.notify.EVENT_KINDS`, or a plugin's).
    :param subject: the id of what it is about (a hazard, an incident, a visit).
    :param at: when it happened (for a reminder: when it was made).
    :param school: the school concerned, if one (decides the deputy in charge, the
        section heads, the package leaders).
    :param unit: the unit concerned, if one (a section's quarter report).
    :param cause: the ``seq`` of the record that caused it, if one.
    :param period: what makes it a new notification of the same subject (a reminder's
        day); empty: the cause's seq does.
    :param urgent: whether it is urgent unless its route says otherwise.
    :param data: the template fields of its kind (text, or values shown as their
        ``str``); kept as given, so do not change it afterwards.
    :param parties: people filling the event's own roles (``inspectors``,
        ``responsible``, ``escalation``, ``attendees``), by person id; kept as given.
    """

    kind: str
    subject: str
    at: dt.datetime
    school: str | None = None
    unit: str | None = None
    cause: int | None = None
    period: str = ""
    urgent: bool = False
    data: Mapping[str, object] = attrs.field(factory=dict, hash=False)
    parties: Mapping[str, Sequence[str]] = attrs.field(factory=dict, hash=False)

    @property
    def period_key(self) -> str:
        """The period part of the idempotency key: ``period``, else ``#<cause>``."""
        if self.period:
            return self.period
        return f"#{self.cause}" if self.cause is not None else ""


def idempotency_key(
    kind: str, subject: str, *, rule: str, person: str, channel: str, period: str
) -> str:
    """The outbox key of one notification: the same event, rule, person, channel and
    period always give the same key (hashed when longer than 190 characters).

    >>> from dualduty.notify.routing import idempotency_key
    >>> idempotency_key("visit-due", "v.2026q3.s0002.1", rule="visit-due", person="p011",
    ...                 channel="console", period="2026-07-23")
    'visit-due:v.2026q3.s0002.1:visit-due:p011:console:2026-07-23'
    """
    key = f"{kind}:{subject}:{rule}:{person}:{channel}:{period}"
    if len(key) <= MAX_KEY:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"{key[:120]}~{digest}"


def zh_date(day: dt.date) -> str:
    """A date as Chinese text.

    >>> import datetime as dt
    >>> from dualduty.notify.routing import zh_date
    >>> zh_date(dt.date(2026, 9, 30))
    '2026年9月30日'
    """
    return f"{day.year}年{day.month}月{day.day}日"


def zh_time(when: dt.datetime, zone: dt.tzinfo | None = None) -> str:
    """A date and time as Chinese text (in *zone*, if given).

    >>> import datetime as dt
    >>> from dualduty.notify.routing import zh_time
    >>> zh_time(dt.datetime(2026, 7, 23, 16, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    '2026年7月23日 16:05'
    """
    if zone is not None:
        when = when.astimezone(zone)
    return f"{when.year}年{when.month}月{when.day}日 {when.hour:02d}:{when.minute:02d}"


class Roles:
    """Who fills each structural role of an organisation, answered from its graph and
    kept for the next question (:data:`dualduty.model.notify.STRUCTURAL_ROLES`).

    :param graph: the organisation graph.
    """

    def __init__(self, graph: OrgGraph) -> None:
        self.graph = graph
        self._fixed: dict[str, tuple[str, ...]] = {}
        self._by_place: dict[tuple[str, str | None, str | None], tuple[str, ...]] = {}

    # -- the office and the leading group --------------------------------------------------

    def office_members(self) -> tuple[str, ...]:
        """The people acting for the leading group's office: its head and its seat's
        staff, sorted (:meth:`~dualduty.OrgGraph.office_members`)."""
        found = self._fixed.get("office")
        if found is None:
            found = self._fixed["office"] = tuple(sorted(self.graph.office_members()))
        return found

    def office_heads(self) -> tuple[str, ...]:
        """Who a report to the office goes to: its head (all its members if it has
        none), sorted."""
        found = self._fixed.get("office-head")
        if found is None:
            found = self._fixed["office-head"] = tuple(sorted(self.graph.office_heads()))
        return found

    def leader(self) -> tuple[str, ...]:
        """The leader (组长), if the post is held."""
        found = self._fixed.get("leader")
        if found is None:
            post = self.graph.leader()
            found = () if post is None or post.holder is None else (post.holder,)
            self._fixed["leader"] = found
        return found

    def leading_group(self) -> tuple[str, ...]:
        """Every member of the leading group, in the order of its posts."""
        found = self._fixed.get("leading-group")
        if found is None:
            group = self.graph.leading_group()
            posts = () if group is None else group.posts
            found = tuple(dict.fromkeys(p.holder for p in posts if p.holder is not None))
            self._fixed["leading-group"] = found
        return found

    # -- by school or unit -----------------------------------------------------------------

    def of(self, role: str, school: str | None = None, unit: str | None = None) -> tuple[str, ...]:
        """The people filling a structural *role* for an event about *school* or *unit*.

        :raises KeyError: for a role that is not structural.
        """
        if role == "office-head":
            return self.office_heads()
        if role == "office":
            return self.office_members()
        if role == "leader":
            return self.leader()
        if role == "leading-group":
            return self.leading_group()
        if role not in STRUCTURAL_ROLES:
            raise KeyError(role)
        key = (role, school, unit)
        found = self._by_place.get(key)
        if found is None:
            found = self._by_place[key] = self._place(role, school, unit)
        return found

    def _place(self, role: str, school: str | None, unit: str | None) -> tuple[str, ...]:
        graph = self.graph
        units: tuple[Unit, ...]
        if unit is not None:
            units = (graph.unit(unit),)
        elif school is not None:
            units = graph.sections_for(school)
        else:
            units = graph.sections()
        if role == "deputy-in-charge":
            if unit is None and school is None:
                group = graph.leading_group()
                posts = tuple(p for p in (group.posts if group else ()) if p.role is Role.DEPUTY)
            else:
                posts = tuple(p for u in units for p in graph.in_charge_of(u.id))
        elif role == "section-heads":
            heads = (graph.head_of(u.id) for u in units)
            posts = tuple(p for p in heads if p is not None)
        else:  # package-leaders
            posts = graph.leaders_for(school) if school is not None else ()
        return tuple(dict.fromkeys(p.holder for p in posts if p.holder is not None))


class Router:
    """Turns events into outbox messages by the routes in force; build one and route many.

    :param org: the organisation (its people, posts and packages; its ``[notify]``).
    :param settings: the ``[notify]`` settings (default: ``org.notify``).
    :param graph: the organisation's graph, if one is at hand (default: built).
    :param extra_routes: routes added to those in force (a plugin's:
        :func:`plugin_routes`).
    :param limits: the most UTF-8 bytes each channel takes in a message, by channel
        name (a channel's ``max_bytes``); a channel table's own ``max_bytes`` setting
        counts too.
    :param roles: share the :class:`Roles` of a records desk.
    """

    def __init__(
        self,
        org: Organisation,
        settings: NotifySettings | None = None,
        *,
        graph: OrgGraph | None = None,
        extra_routes: Sequence[Route] = (),
        limits: Mapping[str, int] | None = None,
        roles: Roles | None = None,
    ) -> None:
        if graph is None:
            from dualduty.graph import OrgGraph

            graph = OrgGraph(org)
        self.org = org
        self.graph = graph
        self.settings = org.notify if settings is None else settings
        self.roles = roles if roles is not None else Roles(graph)
        self.routes = effective_routes(self.settings, extra_routes)
        self._by_kind: dict[str, list[Route]] = {}
        for r in self.routes:
            self._by_kind.setdefault(r.event, []).append(r)
        self.templates = Templates.of(self.settings)
        self.zone = zoneinfo.ZoneInfo(org.timezone)
        self._types = {t.name: t.type for t in self.settings.channels}
        self._types.setdefault("console", "console")
        self._contacts = {(c.person, c.channel): c.address for c in self.settings.contacts}
        self._limits: dict[str, int] = {}
        for t in self.settings.channels:
            limit = t.settings.get("max_bytes")
            if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
                self._limits[t.name] = limit
        self._limits.update(limits or {})
        self._names: dict[str, str] = {}
        # per event kind: its label, clause and fields (checked on every event)
        self._kinds = {
            k.name: (k.label, k.clause, frozenset(k.fields)) for k in EVENT_KINDS.values()
        }
        # channels that reach everyone by person id, with no contact of their own
        contacted = {c.channel for c in self.settings.contacts}
        self._by_id = {
            name
            for name, kind in self._types.items()
            if kind not in CHANNEL_CONTACT and name not in contacted
        }
        self._people: dict[tuple[int, str | None, str | None], tuple[Route, tuple[str, ...]]] = {}
        self._when: tuple[dt.datetime | None, str] = (None, "")
        self._structural: dict[int, bool] = {}
        self._keep: list[Route] = []

    def routes_for(self, kind: str) -> tuple[Route, ...]:
        """The routes in force for an event kind."""
        return tuple(self._by_kind.get(kind, ()))

    # -- who ---------------------------------------------------------------------------------

    def people(self, route: Route, event: Event) -> tuple[str, ...]:
        """The people a route sends *event* to, in the order of its roles, each once."""
        roles = route.roles
        structural = self._structural.get(id(route))
        if structural is None:
            structural = all(role in STRUCTURAL_ROLES for role in roles)
            self._structural[id(route)] = structural
            self._keep.append(route)  # its id stays its own
        if structural:
            cached = self._people.get((id(route), event.school, event.unit))
            if cached is not None and cached[0] is route:
                return cached[1]
        people: dict[str, None] = {}
        for role in roles:
            if role in STRUCTURAL_ROLES:
                people.update(dict.fromkeys(self.roles.of(role, event.school, event.unit)))
            else:
                people.update(dict.fromkeys(event.parties.get(role, ())))
        people.update(dict.fromkeys(route.people))
        found = tuple(people)
        if structural:
            self._people[(id(route), event.school, event.unit)] = (route, found)
        return found

    def name(self, person_id: str) -> str:
        """A person's display name (their id if the organisation has no such person)."""
        name = self._names.get(person_id)
        if name is None:
            try:
                name = self.graph.person(person_id).name
            except KeyError:
                name = person_id
            self._names[person_id] = name
        return name

    def address(self, person_id: str, channel: str) -> tuple[str, str, str]:
        """``(recipient, channel, note)``: how *person_id* is reached through *channel*.

        A ``[notify.contacts]`` entry wins; a channel of type ``email`` (or ``sms``) takes
        the person's email address (phone); other channels the person id. Without an
        address the fallback channel is used, and *note* says so (else it is empty).
        """
        contact = self._contacts.get((person_id, channel))
        if contact is not None:
            return contact, channel, ""
        kind = self._types.get(channel)
        field = CHANNEL_CONTACT.get(kind) if kind is not None else None
        if field is None:
            return person_id, channel, ""
        try:
            person = self.graph.person(person_id)
        except KeyError:
            value = None
        else:
            value = getattr(person, field)
        if value:
            return (f"{person.name} <{value}>" if field == "email" else value), channel, ""
        fallback = self.settings.fallback
        if CHANNEL_CONTACT.get(self._types.get(fallback, "")) is not None:
            fallback = "console"  # a fallback needing an address would fail the same way
        recipient = self._contacts.get((person_id, fallback), person_id)
        what = "邮箱" if field == "email" else "手机号"
        name = self.name(person_id)
        note = f"（{name}未登记{what}，本消息未经 {channel} 发出，改经 {fallback} 送达。）"
        return recipient, fallback, note

    # -- routing -----------------------------------------------------------------------------

    def route(
        self,
        event: Event,
        *,
        channel: str | None = None,
        routes: Sequence[Route] | None = None,
    ) -> list[OutboxMessage]:
        """The messages *event* makes under the routes in force for its kind.

        :param channel: send through this channel instead of the routes' (the old
            ``HazardRules.channel`` setting); recipients and templates stay the routes'.
        :param routes: route through these routes only (a reminder whose lead time only
            one route has reached).
        :raises TemplateError: if the event lacks a field its template uses.
        """
        if routes is None:
            routes = self._by_kind.get(event.kind)
        if not routes:
            return []
        data = event.data
        known = self._kinds.get(event.kind)
        if known is None:
            label, clause = event.kind, ""
        else:
            label, clause, needed = known
            if not data.keys() >= needed:
                missing = sorted(needed - data.keys())
                raise TemplateError(
                    f"a {event.kind} event about {event.subject} lacks the field(s) "
                    f"{', '.join(missing)}"
                )
        when, at = self._when
        if when != event.at:  # reminders of one run share their time
            at = zh_time(event.at, self.zone)
            self._when = (event.at, at)
        fields: dict[str, object] = {
            "org_name": self.org.name,
            "label": label,
            "clause": clause,
            "at": at,
        }
        fields.update(data)
        head = f"{event.kind}:{event.subject}:"
        period = event.period_key
        by_id = self._by_id
        out: list[OutboxMessage] = []
        seen: set[str] = set()
        for r in routes:
            urgent = event.urgent if r.urgent is None else r.urgent
            fields["urgent"] = "【紧急】" if urgent else ""
            template = r.template or event.kind
            people = self.people(r, event)
            lost = ""
            if not people:
                people = self.roles.office_heads() or (NOBODY,)
                meant = "、".join(r.roles) or "—"
                lost = f"（本消息原定发送给 {meant}，均无人在岗，改送领导小组办公室。）"
            names = (channel,) if channel is not None else r.channels
            rule = f"{head}{r.rule}:"
            for person in people:
                fields["recipient_name"] = self.name(person)
                for name in names:
                    if name in by_id:
                        recipient, used, note = person, name, ""
                    elif person == NOBODY:
                        recipient, used, note = NOBODY, self.settings.fallback, ""
                    else:
                        recipient, used, note = self.address(person, name)
                    key = f"{rule}{person}:{used}:{period}"
                    if len(key) > MAX_KEY:
                        key = idempotency_key(
                            event.kind, event.subject, rule=r.rule, person=person, channel=used,
                            period=period,
                        )  # fmt: skip
                    if key in seen:
                        continue
                    seen.add(key)
                    title, text, markdown = self._texts(template, fields, event)
                    note = lost + note
                    limit = self._limits.get(used)
                    if note:
                        text = f"{note}\n{text}"
                        markdown = None if markdown is None else f"{note}\n\n{markdown}"
                    if limit is not None:
                        text = fit_bytes(text, limit)
                        markdown = None if markdown is None else fit_bytes(markdown, limit)
                    out.append(OutboxMessage(used, recipient, title, text, markdown, urgent, key))
        return out

    def _texts(
        self, template: str, fields: Mapping[str, object], event: Event
    ) -> tuple[str, str, str | None]:
        """The title, text and Markdown of a message (not cut to any size)."""
        formats = self.templates.formats(template)
        if formats is None:  # a plugin's event without a template: its title and text
            title = str(event.data.get("title") or event.kind)
            return title, str(event.data.get("text") or title), None
        title, text, markdown = formats
        try:
            return (
                title.format_map(fields),
                text.format_map(fields),
                None if markdown is None else markdown.format_map(fields),
            )
        except KeyError as e:
            raise TemplateError(
                f"template {template!r} uses the field ${e.args[0]}, which a {event.kind} "
                f"event does not supply"
            ) from None


def route(
    event: Event,
    org: Organisation,
    settings: NotifySettings | None = None,
    *,
    extra_routes: Sequence[Route] = (),
) -> list[OutboxMessage]:
    """The messages *event* makes in *org* (under *settings*, default ``org.notify``).

    Builds a :class:`Router` each call; to route many events, build one and call its
    :meth:`~Router.route`.
    """
    return Router(org, settings, extra_routes=extra_routes).route(event)


def plugin_routes(org: Organisation, hooks: Hooks | None = None) -> tuple[Route, ...]:
    """The routes plugins add for *org* (hook
    :func:`~dualduty.hookspecs.dualduty_notification_routes`), in the order they answer.

    :param hooks: the plugins to ask (default: the installed ones).
    :raises TypeError: if a plugin gives something that is no :class:`Route`.
    """
    if hooks is None:
        from dualduty.plugins import hooks as _hooks

        hooks = _hooks()
    found = hooks.notification_routes(org)
    for r in found:
        if not isinstance(r, Route):
            raise TypeError(
                f"a plugin's dualduty_notification_routes gave {type(r).__qualname__}, not a Route"
            )
    return tuple(found)
