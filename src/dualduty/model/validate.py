"""Cross-reference checks of an :class:`~dualduty.model.Organisation` (no I/O).

Each check yields a :class:`~dualduty.errors.Problem` whose path is written the way a
district file is nested, so a problem found here points into the file it came from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import attrs

from dualduty.errors import Problem

from .enums import LEADING_ROLES, SECTION_KINDS, UnitKind
from .notify import (
    CHANNEL_CONTACT,
    COMMON_FIELDS,
    EVENT_KINDS,
    ROLES,
    STRUCTURAL_ROLES,
    Route,
    template_problems,
)
from .org import Blackout, Duty, Organisation, Term, Unit

__all__ = ["DATE_MAX", "DATE_MIN", "find_problems"]

#: The earliest date a file may hold.
DATE_MIN = dt.date(1970, 1, 1)
#: The latest date a file may hold.
DATE_MAX = dt.date(2099, 12, 31)


def _a(word: str) -> str:
    """The word with its indefinite article, for messages ("an office", "a section")."""
    word = word.replace("_", " ")
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _span(span: Term | Blackout) -> str:
    return f"{span.start.isoformat()} to {span.end.isoformat()}"


def find_problems(org: Organisation, broken: Iterable[str] = ()) -> list[Problem]:
    """Every cross-reference problem of *org*, in document order.

    *broken* names ids whose definitions failed to load; references to them are not
    reported again (the failed definition already was).
    """
    return sorted(_Checker(org, frozenset(broken)).run(), key=_position)


_FIELD_ORDER = {name: i for i, name in enumerate(attrs.fields_dict(Organisation))}


def _position(problem: Problem) -> tuple[int, int]:
    """Where a problem sits: its top-level key in model order, then the item's index."""
    head, _, rest = problem.path.split(".", 1)[0].partition("[")
    index = rest.partition("]")[0]
    return _FIELD_ORDER.get(head, -1), int(index) if index.isdigit() else -1


class _Checker:
    def __init__(self, org: Organisation, broken: frozenset[str]) -> None:
        self.org = org
        self.broken = broken
        self.out: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.out.append(Problem(path, message))

    def unknown(self, path: str, what: str, ref: str) -> None:
        if ref not in self.broken:
            self.add(path, f"unknown {what} {ref!r}")

    def dates(self, path: str, **values: dt.date | None) -> None:
        for name, value in values.items():
            if value is not None and not DATE_MIN <= value <= DATE_MAX:
                self.add(
                    f"{path}.{name}" if path else name,
                    f"date {value.isoformat()} is out of range "
                    f"({DATE_MIN.isoformat()} to {DATE_MAX.isoformat()})",
                )
        start, end = values.get("start"), values.get("end")
        if start is not None and end is not None and end < start:
            self.add(f"{path}.end", f"ends {end.isoformat()}, before it starts {start.isoformat()}")

    def unique(self, path: str, seen: dict[str, str], id_: str, what: str) -> bool:
        if id_ in seen:
            self.add(f"{path}.id", f"duplicate {what} id {id_!r} (first at {seen[id_]})")
            return False
        seen[id_] = path
        return True

    # -- the checks ------------------------------------------------------------

    def run(self) -> list[Problem]:
        org = self.org
        self.dates("", as_of=org.as_of)

        hazards = org.hazard_domain_registry()
        seen_hazards: dict[str, str] = {}
        for i, h in enumerate(org.hazard_domains):
            self.unique(f"hazard_domains[{i}]", seen_hazards, h.id, "hazard domain")

        self.people: dict[str, str] = {}
        for i, person in enumerate(org.people):
            self.unique(f"people[{i}]", self.people, person.id, "person")

        units: dict[str, Unit] = {}
        unit_paths: dict[str, str] = {}
        post_unit: dict[str, Unit] = {}
        post_path: dict[str, str] = {}
        for i, unit in enumerate(org.units):
            if self.unique(f"units[{i}]", unit_paths, unit.id, "unit"):
                units[unit.id] = unit
            for j, post in enumerate(unit.posts):
                path = f"units[{i}].posts[{j}]"
                if post.id in post_unit:
                    other = post_unit[post.id]
                    if other.id != unit.id:
                        self.add(
                            f"{path}.id",
                            f"post {post.id!r} is in two units: {other.id!r} "
                            f"({post_path[post.id]}) and {unit.id!r}",
                        )
                    else:
                        self.add(
                            f"{path}.id",
                            f"duplicate post id {post.id!r} (first at {post_path[post.id]})",
                        )
                    continue
                post_unit[post.id] = unit
                post_path[post.id] = path

        # A package holder is a post or a unit: the two kinds of id must not collide.
        for pid, ppath in post_path.items():
            if pid in unit_paths:
                self.add(
                    f"{ppath}.id",
                    f"post id {pid!r} is also the id of a unit ({unit_paths[pid]}); "
                    "posts and units share one set of ids",
                )

        leading_groups = [u for u in org.units if u.kind is UnitKind.LEADING_GROUP]
        for extra in leading_groups[1:]:
            i = org.units.index(extra)
            self.add(
                f"units[{i}].kind",
                f"a second leading group {extra.id!r}; "
                f"the organisation already has {leading_groups[0].id!r}",
            )

        seen_duties: dict[str, str] = {}
        for i, unit in enumerate(org.units):
            self._unit(i, unit, units, post_unit)
            area_ids: dict[str, str] = {}
            for j, area in enumerate(unit.areas):
                self.unique(f"units[{i}].areas[{j}]", area_ids, area.id, "business area")
            for j, duty in enumerate(unit.duties):
                path = f"units[{i}].duties[{j}]"
                self.unique(path, seen_duties, duty.id, "duty")
                self._duty(path, duty, hazards)
                if duty.area is not None and duty.area not in area_ids:
                    self.add(
                        f"{path}.area",
                        f"unknown business area {duty.area!r} of unit {unit.id!r}"
                        + (f" (it has: {', '.join(sorted(area_ids))})" if area_ids else ""),
                    )
                if duty.applies_to:
                    self.add(
                        f"{path}.applies_to",
                        "applies_to is only for common duties; a unit's duty is its own",
                    )
                if duty.role is not None and not any(p.role is duty.role for p in unit.posts):
                    self.add(f"{path}.role", f"unit {unit.id!r} has no {duty.role.value} post")

        for i, duty in enumerate(org.common_duties):
            path = f"common_duties[{i}]"
            self.unique(path, seen_duties, duty.id, "duty")
            self._duty(path, duty, hazards)
            if not duty.applies_to:
                self.add(
                    f"{path}.applies_to", "a common duty must name the unit kinds it applies to"
                )
            if duty.area is not None:
                self.add(f"{path}.area", "a common duty has no business area of its own")

        self._cycles(units, unit_paths)

        for i, edge in enumerate(org.in_charge):
            path = f"in_charge[{i}]"
            self.dates(path, start=edge.start, end=edge.end)
            self._leading_post(f"{path}.post", edge.post, post_unit, "in charge of units")
            for k, uid in enumerate(edge.units):
                target = units.get(uid)
                if target is None:
                    self.unknown(f"{path}.units[{k}]", "unit", uid)
                elif target.kind not in SECTION_KINDS:
                    self.add(
                        f"{path}.units[{k}]",
                        f"{uid!r} is {_a(target.kind.value)}; a post is in charge of sections, "
                        "centres or grade groups",
                    )

        schools: dict[str, str] = {}
        for i, school in enumerate(org.schools):
            self.unique(f"schools[{i}]", schools, school.id, "school")

        places: dict[str, str] = {}
        for i, place in enumerate(org.places):
            self.unique(f"places[{i}]", places, place.id, "place")
        for i, place in enumerate(org.places):
            if place.parent is not None and place.parent not in places:
                self.unknown(f"places[{i}].parent", "place", place.parent)
        self._place_cycles()

        packages: dict[str, str] = {}
        for i, package in enumerate(org.packages):
            path = f"packages[{i}]"
            self.unique(path, packages, package.id, "package")
            self.dates(path, start=package.start, end=package.end)
            holder_unit = units.get(package.holder)
            holder_post_unit = post_unit.get(package.holder)
            if holder_unit is not None:
                if holder_unit.kind not in SECTION_KINDS:
                    self.add(
                        f"{path}.holder",
                        f"{package.holder!r} is {_a(holder_unit.kind.value)}; a package is held by "
                        "a leading-group post or a section, centre or grade group",
                    )
                for k, staff in enumerate(package.staff):
                    staff_unit = post_unit.get(staff)
                    if staff_unit is None:
                        self.unknown(f"{path}.staff[{k}]", "post", staff)
                    elif staff_unit.id != holder_unit.id:
                        self.add(
                            f"{path}.staff[{k}]",
                            f"post {staff!r} is in {staff_unit.id!r}, not in the holder "
                            f"{holder_unit.id!r}",
                        )
            elif holder_post_unit is not None:
                if holder_post_unit.kind is not UnitKind.LEADING_GROUP:
                    self.add(
                        f"{path}.holder",
                        f"post {package.holder!r} is in {holder_post_unit.id!r}, not in the "
                        "leading group; a section's package names the section as holder and the "
                        "post under staff",
                    )
                if package.staff:
                    self.add(f"{path}.staff", "only a unit holder names staff")
            elif package.holder not in self.broken:
                self.add(
                    f"{path}.holder", f"unknown holder {package.holder!r} (no such post or unit)"
                )
            if not package.targets:
                self.add(path, f"package {package.id!r} has no schools or places")
            for k, sid in enumerate(package.schools):
                if sid not in schools:
                    self.unknown(f"{path}.schools[{k}]", "school", sid)
            for k, pid in enumerate(package.places):
                if pid not in places:
                    self.unknown(f"{path}.places[{k}]", "place", pid)

        self._calendar()
        self._notify()
        return self.out

    def _notify(self) -> None:
        """The ``[notify]`` table."""
        _NotifyChecker(self).run()

    def _calendar(self) -> None:
        """Terms, vacations, blackouts and holiday files."""
        org = self.org
        spans: tuple[tuple[str, tuple[Term | Blackout, ...]], ...] = (
            ("terms", org.terms),
            ("blackouts", org.blackouts),
        )
        for key, items in spans:
            for i, span in enumerate(items):
                self.dates(f"{key}[{i}]", start=span.start, end=span.end)
        # Two terms (or two vacations) on the same day: which one is the day in?
        for kind in (False, True):
            seen: list[tuple[int, Term]] = []
            for i, term in enumerate(org.terms):
                if term.vacation is not kind:
                    continue
                for j, other in seen:
                    if term.start <= other.end and other.start <= term.end:
                        what = "vacation" if kind else "term"
                        self.add(
                            f"terms[{i}]",
                            f"{what} {term.name!r} overlaps {what} {other.name!r} (terms[{j}], "
                            f"{_span(other)})",
                        )
                        break
                seen.append((i, term))
        paths: dict[str, int] = {}
        for i, path in enumerate(org.holidays):
            if not path.strip():
                self.add(f"holidays[{i}]", "must be the path of a holiday file, not blank")
            elif path in paths:
                self.add(
                    f"holidays[{i}]", f"{path!r} is listed twice (first at holidays[{paths[path]}])"
                )
            else:
                paths[path] = i

    def _unit(self, i: int, unit: Unit, units: dict[str, Unit], post_unit: dict[str, Unit]) -> None:
        path = f"units[{i}]"
        for j, post in enumerate(unit.posts):
            ppath = f"{path}.posts[{j}]"
            if post.holder is not None and post.holder not in self.people:
                self.unknown(f"{ppath}.holder", "person", post.holder)
            self.dates(ppath, since=post.since)
            leading = unit.kind is UnitKind.LEADING_GROUP
            if leading and post.role not in LEADING_ROLES:
                self.add(
                    f"{ppath}.role",
                    f"a leading-group post is a leader, deputy or member, not {post.role.value}",
                )
            elif not leading and post.role in LEADING_ROLES:
                self.add(
                    f"{ppath}.role",
                    f"{post.role.value} posts belong in the leading group, not in {unit.id!r}",
                )
        if unit.kind is UnitKind.LEADING_GROUP:
            leaders = [p.id for p in unit.posts if p.role.value == "leader"]
            if len(leaders) > 1:
                self.add(
                    f"{path}.posts", f"the leading group has {len(leaders)} leaders: {leaders}"
                )
        if unit.parent is not None and unit.parent not in units:
            self.unknown(f"{path}.parent", "unit", unit.parent)
        seat = None
        # A seat that is missing or wrong was reported; the head post is not judged by it.
        seat_in_doubt = False
        if unit.kind is UnitKind.OFFICE:
            if unit.seated_in is None:
                self.add(
                    f"{path}.seated_in",
                    f"office {unit.id!r} has no seat: name the section it is seated in",
                )
            else:
                seat = units.get(unit.seated_in)
                if seat is None:
                    self.unknown(f"{path}.seated_in", "unit", unit.seated_in)
                elif seat.kind not in SECTION_KINDS:
                    self.add(
                        f"{path}.seated_in",
                        f"an office is seated in a section or centre, not {_a(seat.kind.value)}",
                    )
            seat_in_doubt = seat is None or seat.kind not in SECTION_KINDS
        elif unit.seated_in is not None:
            self.add(f"{path}.seated_in", f"only an office has a seat, not {_a(unit.kind.value)}")
        if unit.head_post is not None:
            owner = post_unit.get(unit.head_post)
            if owner is None:
                self.unknown(f"{path}.head_post", "post", unit.head_post)
            elif (
                owner.id != unit.id
                and not seat_in_doubt
                and not (seat is not None and owner.id == seat.id)
            ):
                allowed = "its own or its seat's" if unit.kind is UnitKind.OFFICE else "its own"
                self.add(
                    f"{path}.head_post",
                    f"{unit.head_post!r} is a post of {owner.id!r}; a unit is headed by "
                    f"{allowed} post",
                )

    def _duty(self, path: str, duty: Duty, hazards: Mapping[str, object]) -> None:
        for hid in sorted(duty.hazards):
            if hid not in hazards:
                self.add(f"{path}.hazards", f"unknown hazard domain {hid!r}")

    def _leading_post(self, path: str, post_id: str, post_unit: dict[str, Unit], what: str) -> None:
        unit = post_unit.get(post_id)
        if unit is None:
            self.unknown(path, "post", post_id)
        elif unit.kind is not UnitKind.LEADING_GROUP:
            self.add(
                path, f"post {post_id!r} is in {unit.id!r}; only leading-group posts are {what}"
            )

    def _cycles(self, units: dict[str, Unit], unit_paths: dict[str, str]) -> None:
        reported: set[str] = set()
        for start in units.values():
            chain: list[str] = []
            node: Unit | None = start
            while node is not None and node.parent is not None:
                if node.id in chain:
                    cycle = chain[chain.index(node.id) :]
                    if not reported.intersection(cycle):
                        reported.update(cycle)
                        first = min(cycle, key=lambda u: unit_paths[u])
                        self.add(
                            f"{unit_paths[first]}.parent",
                            "units form a cycle: " + " -> ".join([*cycle, cycle[0]]),
                        )
                    break
                chain.append(node.id)
                node = units.get(node.parent)

    def _place_cycles(self) -> None:
        parents = {p.id: p.parent for p in self.org.places}
        index = {p.id: i for i, p in enumerate(self.org.places)}
        reported: set[str] = set()
        for start in parents:
            chain: list[str] = []
            node: str | None = start
            while node is not None:
                if node in chain:
                    cycle = chain[chain.index(node) :]
                    if not reported.intersection(cycle):
                        reported.update(cycle)
                        first = min(cycle, key=index.__getitem__)
                        self.add(
                            f"places[{index[first]}].parent",
                            "places form a cycle: " + " -> ".join([*cycle, cycle[0]]),
                        )
                    break
                chain.append(node)
                node = parents.get(node)


#: The reminder kinds a lead time applies to, and the one repetition applies to.
_DUE_KINDS = frozenset({"rectification-due", "visit-due", "report-due", "meeting-due"})
_REPEATING = frozenset({"hazard-overdue"})


def _known(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


class _NotifyChecker:
    """The ``[notify]`` table: routes, channels, contacts and templates (paths as in the file)."""

    def __init__(self, checker: _Checker) -> None:
        self.c = checker
        notify = checker.org.notify
        self.notify = notify
        self.channels = {t.name: t.type for t in notify.channels}
        self.channels.setdefault("console", "console")
        self.people = {p.id for p in checker.org.people}
        self.templates = {t.id: t for t in notify.templates}

    def run(self) -> None:
        notify = self.notify
        seen: dict[str, int] = {}
        for i, table in enumerate(notify.channels):
            if table.name in seen:
                self.c.add(
                    f"notify.channels.{table.name}",
                    f"channel {table.name!r} is declared twice",
                )
            seen[table.name] = i
        fallback_type = self.channels.get(notify.fallback)
        if fallback_type is None and notify.fallback in self.c.broken:
            pass
        elif fallback_type is None:
            self.c.add("notify.fallback", self._unknown_channel(notify.fallback))
        elif fallback_type in CHANNEL_CONTACT:
            self.c.add(
                "notify.fallback",
                f"{notify.fallback!r} is an {fallback_type} channel, which needs an address; "
                "the fallback reaches people without one (console, a robot, a webhook)",
            )
        ids: dict[tuple[str, str], int] = {}
        for i, route in enumerate(notify.routes):
            self._route(i, route)
            if route.id is not None:
                key = (route.event, route.id)
                if key in ids:
                    self.c.add(
                        f"notify.routes[{i}].id",
                        f"two {route.event} routes are called {route.id!r} "
                        f"(first at notify.routes[{ids[key]}])",
                    )
                ids.setdefault(key, i)
        for contact in notify.contacts:
            path = f"notify.contacts.{contact.person}"
            if contact.person not in self.people:
                self.c.unknown(path, "person", contact.person)
            if contact.channel not in self.channels and contact.channel not in self.c.broken:
                self.c.add(f"{path}.{contact.channel}", self._unknown_channel(contact.channel))
        for template in notify.templates:
            self._template(template.id)

    def _unknown_channel(self, name: str) -> str:
        return (
            f"unknown channel {name!r}; declare it as [notify.channels.{name}] "
            f"(known: {_known(self.channels)})"
        )

    def _route(self, i: int, route: Route) -> None:
        path = f"notify.routes[{i}]"
        kind = EVENT_KINDS.get(route.event)
        if kind is None and "." not in route.event:
            self.c.add(
                f"{path}.event",
                f"unknown event kind {route.event!r} (one of: {_known(EVENT_KINDS)}; a "
                "plugin's own kinds have a dot in their name)",
            )
        for k, role in enumerate(route.roles):
            if role not in ROLES:
                self.c.add(f"{path}.roles[{k}]", f"unknown role {role!r} (one of: {_known(ROLES)})")
            elif kind is not None and role not in STRUCTURAL_ROLES and role not in kind.parties:
                own = f"; its own: {_known(kind.parties)}" if kind.parties else ""
                self.c.add(
                    f"{path}.roles[{k}]",
                    f"{route.event} events have no {role!r}{own} (any event has: "
                    f"{_known(STRUCTURAL_ROLES)})",
                )
        for k, person in enumerate(route.people):
            if person not in self.people:
                self.c.unknown(f"{path}.people[{k}]", "person", person)
        if not route.channels:
            self.c.add(f"{path}.channels", "name at least one channel")
        for k, name in enumerate(route.channels):
            if name not in self.channels and name not in self.c.broken:
                self.c.add(f"{path}.channels[{k}]", self._unknown_channel(name))
        template = route.template
        if template is not None and template != route.event:
            if template in EVENT_KINDS:
                self.c.add(
                    f"{path}.template",
                    f"{template!r} is the template of {template} events; give this route a "
                    "template of its own under [notify.templates]",
                )
            elif template not in self.templates and template not in self.c.broken:
                self.c.add(
                    f"{path}.template",
                    f"unknown template {template!r}; write it as [notify.templates.{template}]",
                )
        if kind is not None:
            for name in ("lead_days", "working_days"):
                if getattr(route, name) is not None and route.event not in _DUE_KINDS:
                    self.c.add(
                        f"{path}.{name}",
                        f"{name} applies to reminders of something due "
                        f"({_known(_DUE_KINDS)}), not to {route.event}",
                    )
            if route.every_days is not None and route.event not in _REPEATING:
                self.c.add(
                    f"{path}.every_days",
                    f"every_days applies to {_known(_REPEATING)}, not to {route.event}",
                )

    def _template(self, template_id: str) -> None:
        t = self.templates[template_id]
        path = f"notify.templates.{template_id}"
        users = {r.event for r in self.notify.routes if r.template == template_id}
        if template_id in EVENT_KINDS:
            users.add(template_id)
        elif not users:
            self.c.add(
                path,
                f"no route uses template {template_id!r} (a route names it with "
                f"template = {template_id!r}; a built-in template has its event kind's name: "
                f"{_known(EVENT_KINDS)})",
            )
        elif t.title is None or t.text is None:
            self.c.add(path, "a new template needs a title and a text")
        checkable = all(u in EVENT_KINDS for u in users)
        allowed: set[str] | None = None
        if checkable:
            for user in users:
                fields = set(EVENT_KINDS[user].fields)
                allowed = fields if allowed is None else allowed & fields
        allowed = set(COMMON_FIELDS) | (allowed or set())
        for part in ("title", "text", "markdown"):
            text = getattr(t, part)
            if text is None:
                continue
            for problem in template_problems(text, allowed if checkable else ()):
                if not problem.startswith("unknown field"):
                    self.c.add(f"{path}.{part}", problem)
                elif checkable:
                    users_ = " and ".join(sorted(users))
                    self.c.add(
                        f"{path}.{part}", f"{problem} (fields of {users_}: {_known(allowed)})"
                    )
