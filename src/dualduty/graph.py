"""OrgGraph: typed questions about an organisation, answered with model objects.

The graph is built once from an :class:`~dualduty.model.Organisation` (optionally as
in force on a date) and answers in built-in types and model objects. networkx is not
needed for any of it; :meth:`OrgGraph.to_networkx` imports it on demand for notebooks.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

import attrs

from .errors import DualdutyError
from .model import (
    SECTION_KINDS,
    Duty,
    DutyKind,
    Organisation,
    Package,
    Person,
    Post,
    Role,
    School,
    Unit,
    UnitKind,
)

if TYPE_CHECKING:
    import networkx

_T = TypeVar("_T")

__all__ = ["ChainBasis", "ChainLevel", "ChainLink", "OrgGraph", "ResponsibilityChain", "UnknownId"]


class UnknownId(DualdutyError, KeyError):
    """An id that names nothing of the kind asked for in this organisation."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ChainLevel(StrEnum):
    """A rung of the chain of responsibility, from the bottom up."""

    STAFF = "staff"
    """机关干部: the staff who visit the school."""
    SECTION_HEAD = "section_head"
    """科室负责人: answers for the section's safety work as a whole (二(三).1)."""
    IN_CHARGE = "in_charge"
    """分管领导: the deputy or member in charge of the section, or holding the package (二(二))."""
    LEADER = "leader"
    """组长: answers for all school safety (二(二))."""


class ChainBasis(StrEnum):
    """Why a chain of responsibility reaches a school."""

    SECTION_PACKAGE = "section_package"
    """The section holds the school's package (三.1)."""
    LEADER_PACKAGE = "leader_package"
    """A leading-group post holds the school's package (三.1)."""
    BUSINESS_LINE = "business_line"
    """The section's business covers the hazard domain: 管业务必管安全 (二(四))."""


@attrs.frozen
class ChainLink:
    """One rung of a chain: a post, its unit and holder, and why it is on the chain."""

    level: ChainLevel
    post: Post
    unit: Unit
    person: Person | None
    """Who holds the post (``None`` when vacant)."""
    reason: str
    clause: str
    """The clause of the plan that puts this post on the chain."""


@attrs.frozen
class ResponsibilityChain:
    """Who answers for a school (and a hazard domain), from the staff up to the leader."""

    school: str
    domain: str | None
    basis: ChainBasis
    unit: Unit | None
    """The section on the chain (``None`` for a leading-group package)."""
    links: tuple[ChainLink, ...]
    """Bottom up: staff, section head, the post in charge, the leader."""
    package: Package | None = None
    duties: tuple[Duty, ...] = ()
    """For a business-line chain, the section's duties that name the domain."""

    @property
    def levels(self) -> tuple[ChainLevel, ...]:
        """The levels present on the chain, bottom up."""
        return tuple(link.level for link in self.links)

    @property
    def missing(self) -> tuple[ChainLevel, ...]:
        """The levels the chain should have but does not (a vacancy counts as missing)."""
        if self.basis is ChainBasis.LEADER_PACKAGE:
            # the leader may hold a package himself; then he is the whole chain
            held_by_leader = self.package is not None and any(
                link.level is ChainLevel.LEADER and link.post.id == self.package.holder
                for link in self.links
            )
            wanted: tuple[ChainLevel, ...] = (
                (ChainLevel.LEADER,)
                if held_by_leader
                else (ChainLevel.IN_CHARGE, ChainLevel.LEADER)
            )
        else:
            wanted = tuple(ChainLevel)
        filled = {link.level for link in self.links if link.person is not None}
        return tuple(level for level in wanted if level not in filled)

    @property
    def complete(self) -> bool:
        """Whether every level is present and held by someone."""
        return not self.missing


def _in_force(start: dt.date | None, end: dt.date | None, on: dt.date | None) -> bool:
    if on is None:
        return True
    return (start is None or start <= on) and (end is None or on <= end)


class OrgGraph:
    """Typed queries over an organisation.

    :param org: the organisation.
    :param on: if given, only packages and in-charge edges in force on that date count.

    >>> import dualduty
    >>> g = dualduty.OrgGraph(dualduty.reference_organisation(schools=10))
    >>> g.head_of("safety-office").title
    '法规安全科科长'
    """

    def __init__(self, org: Organisation, *, on: dt.date | None = None) -> None:
        self.org = org
        self.on = on
        self._units = {u.id: u for u in org.units}
        self._posts: dict[str, Post] = {}
        self._post_unit: dict[str, Unit] = {}
        for unit, post in org.iter_posts():
            self._posts[post.id] = post
            self._post_unit[post.id] = unit
        self._people = {p.id: p for p in org.people}
        self._schools = {s.id: s for s in org.schools}
        self._places = {p.id: p for p in org.places}
        self._posts_of_person: dict[str, list[Post]] = defaultdict(list)
        for post in self._posts.values():
            if post.holder is not None:
                self._posts_of_person[post.holder].append(post)

        self._in_charge_of: dict[str, list[Post]] = defaultdict(list)
        self._units_in_charge: dict[str, list[Unit]] = defaultdict(list)
        for edge in org.in_charge:
            if not _in_force(edge.start, edge.end, on) or edge.post not in self._posts:
                continue
            for uid in edge.units:
                if uid in self._units:
                    self._in_charge_of[uid].append(self._posts[edge.post])
                    self._units_in_charge[edge.post].append(self._units[uid])

        self._packages = tuple(p for p in org.packages if _in_force(p.start, p.end, on))
        self._packages_of: dict[str, list[Package]] = defaultdict(list)
        self._packages_held: dict[str, list[Package]] = defaultdict(list)
        for package in self._packages:
            for target in package.targets:
                self._packages_of[target].append(package)
            self._packages_held[package.holder].append(package)
            for staff in package.staff:
                self._packages_held[staff].append(package)

        self._domain_owners: dict[str, list[tuple[Unit, Duty]]] = defaultdict(list)
        for unit in org.units:
            if unit.kind not in SECTION_KINDS:  # the leading group's duties span every domain
                continue
            for duty in unit.duties:
                if duty.kind is DutyKind.SAFETY:
                    for domain in sorted(duty.hazards):
                        self._domain_owners[domain].append((unit, duty))

    # -- look-ups ---------------------------------------------------------------

    def unit(self, unit_id: str) -> Unit:
        """The unit with this id."""
        return self._get(self._units, unit_id, "unit")

    def post(self, post_id: str) -> Post:
        """The post with this id."""
        return self._get(self._posts, post_id, "post")

    def person(self, person_id: str) -> Person:
        """The person with this id."""
        return self._get(self._people, person_id, "person")

    def school(self, school_id: str) -> School:
        """The school with this id."""
        return self._get(self._schools, school_id, "school")

    @staticmethod
    def _get(table: dict[str, _T], key: str, what: str) -> _T:
        try:
            return table[key]
        except KeyError:
            raise UnknownId(f"no {what} {key!r} in this organisation") from None

    def _target(self, target: str) -> None:
        if target not in self._schools and target not in self._places:
            raise UnknownId(f"no school or place {target!r} in this organisation")

    # -- people and posts ---------------------------------------------------------

    def leading_group(self) -> Unit | None:
        """The leading group (领导小组), if the organisation has one."""
        return next((u for u in self.org.units if u.kind is UnitKind.LEADING_GROUP), None)

    def leader(self) -> Post | None:
        """The leader's post (组长)."""
        group = self.leading_group()
        if group is None:
            return None
        return next((p for p in group.posts if p.role is Role.LEADER), None)

    def office_members(self) -> frozenset[str]:
        """The people acting for the leading group's office (领导小组办公室): the holder of
        its head post and the holders of the posts of the office and of its seat."""
        people: set[str] = set()
        for office in (u for u in self.org.units if u.kind is UnitKind.OFFICE):
            head = self.head_of(office.id)
            if head is not None and head.holder is not None:
                people.add(head.holder)
            units = [office]
            if office.seated_in is not None:
                units.append(self.unit(office.seated_in))
            people.update(p.holder for u in units for p in u.posts if p.holder is not None)
        return frozenset(people)

    def office_heads(self) -> frozenset[str]:
        """Who a report to the office goes to: the holder of its head post (every member
        of the office, :meth:`office_members`, when the post is vacant or missing)."""
        heads = set()
        for office in (u for u in self.org.units if u.kind is UnitKind.OFFICE):
            head = self.head_of(office.id)
            if head is not None and head.holder is not None:
                heads.add(head.holder)
        return frozenset(heads) or self.office_members()

    def unit_of(self, post_id: str) -> Unit:
        """The unit a post belongs to."""
        self.post(post_id)
        return self._post_unit[post_id]

    def holder_of(self, post_id: str) -> Person | None:
        """Who holds a post (``None`` when vacant)."""
        holder = self.post(post_id).holder
        return None if holder is None else self._people.get(holder)

    def posts_of(self, person_id: str) -> tuple[Post, ...]:
        """Every post a person holds (兼任 means more than one)."""
        self.person(person_id)
        return tuple(self._posts_of_person.get(person_id, ()))

    def head_of(self, unit_id: str) -> Post | None:
        """The post heading a unit: its ``head_post``, else its only section-head or leader post.

        An office without a head post of its own is headed by its seat's head (clause 一).
        """
        unit = self.unit(unit_id)
        if unit.head_post is not None:
            return self._posts.get(unit.head_post)
        heads = [p for p in unit.posts if p.role in (Role.SECTION_HEAD, Role.LEADER)]
        if len(heads) == 1:
            return heads[0]
        if unit.kind is UnitKind.OFFICE and unit.seated_in in self._units:
            return self.head_of(unit.seated_in)
        return None

    def in_charge_of(self, unit_id: str) -> tuple[Post, ...]:
        """The leading-group posts in charge of a unit (分管)."""
        self.unit(unit_id)
        return tuple(self._in_charge_of.get(unit_id, ()))

    def units_in_charge(self, post_id: str) -> tuple[Unit, ...]:
        """The units a leading-group post is in charge of."""
        self.post(post_id)
        return tuple(self._units_in_charge.get(post_id, ()))

    def sections(self) -> tuple[Unit, ...]:
        """The section-like units (sections, centres, grade groups)."""
        return tuple(u for u in self.org.units if u.kind in SECTION_KINDS)

    # -- packages -------------------------------------------------------------------

    def packages_of(self, target: str) -> tuple[Package, ...]:
        """The packages that include a school or place."""
        self._target(target)
        return tuple(self._packages_of.get(target, ()))

    def leaders_for(self, target: str) -> tuple[Post, ...]:
        """The leading-group posts holding a package of this school or place."""
        return tuple(
            self._posts[p.holder] for p in self.packages_of(target) if p.holder in self._posts
        )

    def sections_for(self, target: str) -> tuple[Unit, ...]:
        """The units holding a package of this school or place."""
        return tuple(
            self._units[p.holder] for p in self.packages_of(target) if p.holder in self._units
        )

    def targets_of(self, holder: str) -> tuple[str, ...]:
        """The schools and places packaged to a post or unit (to a staff post: those it visits)."""
        if holder not in self._posts and holder not in self._units:
            raise UnknownId(f"no post or unit {holder!r} in this organisation")
        seen: dict[str, None] = {}
        for package in self._packages_held.get(holder, ()):
            seen.update(dict.fromkeys(package.targets))
        return tuple(seen)

    # -- duties ----------------------------------------------------------------------

    def duties_of(self, unit_id: str) -> tuple[Duty, ...]:
        """A unit's own duties followed by the common duties of its kind."""
        return self.org.duties_of(self.unit(unit_id))

    def duties_covering(self, unit_id: str, area: str) -> tuple[Duty, ...]:
        """The safety duties of a unit that cover one of its business areas (管业务必管安全)."""
        unit = self.unit(unit_id)
        if all(a.id != area for a in unit.areas):
            raise UnknownId(f"unit {unit_id!r} has no business area {area!r}")
        return tuple(d for d in unit.duties if d.area == area and d.kind is DutyKind.SAFETY)

    def owners_of(self, domain: str) -> tuple[Unit, ...]:
        """The sections (and centres, grade groups) whose own safety duties name a hazard domain.

        The leading group's duties span every domain and are not a line of business.
        """
        if domain not in self.org.hazard_domain_registry():
            raise UnknownId(f"no hazard domain {domain!r}")
        owners: dict[str, Unit] = {}
        for unit, _duty in self._domain_owners.get(domain, ()):
            owners.setdefault(unit.id, unit)
        return tuple(owners.values())

    # -- chains of responsibility -----------------------------------------------------

    def chains(self, target: str, domain: str | None = None) -> tuple[ResponsibilityChain, ...]:
        """Every chain of responsibility that reaches a school (or place), bottom up.

        One chain per package of the target (三.1), and, when *domain* is given, one per
        section whose own safety duties name that domain (二(四), 管业务必管安全).
        """
        self._target(target)
        if domain is not None and domain not in self.org.hazard_domain_registry():
            raise UnknownId(f"no hazard domain {domain!r}")
        out: list[ResponsibilityChain] = []
        for package in self._packages_of.get(target, ()):
            if package.holder in self._units:
                unit = self._units[package.holder]
                if package.staff:
                    staff = [self._posts[s] for s in package.staff if s in self._posts]
                    reason = "named in the package"
                else:  # no one named: the section's staff share the package
                    staff = [p for p in unit.posts if p.role is Role.STAFF]
                    reason = "staff of the section holding the package"
                links = self._section_links(unit, staff, reason, "三.1")
                out.append(
                    ResponsibilityChain(
                        target, domain, ChainBasis.SECTION_PACKAGE, unit, links, package
                    )
                )
            elif package.holder in self._posts:
                post = self._posts[package.holder]
                held = []
                if post.role is not Role.LEADER:
                    held.append(self._link(ChainLevel.IN_CHARGE, post, "holds the package", "三.1"))
                held.extend(self._leader_links())
                out.append(
                    ResponsibilityChain(
                        target, domain, ChainBasis.LEADER_PACKAGE, None, tuple(held), package
                    )
                )
        if domain is not None:
            by_unit: dict[str, list[Duty]] = defaultdict(list)
            for unit, duty in self._domain_owners.get(domain, ()):
                by_unit[unit.id].append(duty)
            for uid, duties in by_unit.items():
                unit = self._units[uid]
                staff = [p for p in unit.posts if p.role is Role.STAFF]
                clause = duties[0].clause
                links = self._section_links(unit, staff, "works in the section", clause)
                out.append(
                    ResponsibilityChain(
                        target,
                        domain,
                        ChainBasis.BUSINESS_LINE,
                        unit,
                        links,
                        duties=tuple(duties),
                    )
                )
        return tuple(out)

    def _link(self, level: ChainLevel, post: Post, reason: str, clause: str) -> ChainLink:
        person = self._people.get(post.holder) if post.holder is not None else None
        return ChainLink(level, post, self._post_unit[post.id], person, reason, clause)

    def _leader_links(self) -> list[ChainLink]:
        leader = self.leader()
        if leader is None:
            return []
        return [self._link(ChainLevel.LEADER, leader, "leads all school safety", "二(二).组长")]

    def _section_links(
        self, unit: Unit, staff: Iterable[Post], staff_reason: str, staff_clause: str
    ) -> tuple[ChainLink, ...]:
        links = [self._link(ChainLevel.STAFF, p, staff_reason, staff_clause) for p in staff]
        head = self.head_of(unit.id)
        if head is not None:
            links.append(
                self._link(
                    ChainLevel.SECTION_HEAD,
                    head,
                    "answers for the section's safety work",
                    "二(三).1",
                )
            )
        for post in self._in_charge_of.get(unit.id, ()):
            links.append(
                self._link(ChainLevel.IN_CHARGE, post, f"in charge of {unit.name}", "二(二)")
            )
        links.extend(self._leader_links())
        return tuple(links)

    # -- notebooks -------------------------------------------------------------------

    def to_networkx(self) -> networkx.MultiDiGraph:
        """The organisation as a networkx MultiDiGraph (imports networkx on first call).

        Nodes are ids with a ``type`` attribute (``unit``, ``post``, ``person``, ``school``,
        ``place``, ``duty``); edges carry a ``rel`` attribute: ``belongs_to`` (post → unit),
        ``holds`` (person → post), ``heads`` (post → unit), ``seated_in`` (office → unit),
        ``parent`` (unit → unit), ``in_charge_of`` (post → unit), ``packages`` (holder →
        school/place), ``visits`` (staff post → school/place), ``owns`` (unit → duty).
        """
        import networkx as nx

        g = nx.MultiDiGraph()
        for unit in self.org.units:
            g.add_node(unit.id, type="unit", kind=unit.kind.value, name=unit.name)
            if unit.parent:
                g.add_edge(unit.id, unit.parent, rel="parent")
            if unit.seated_in:
                g.add_edge(unit.id, unit.seated_in, rel="seated_in")
            for duty in unit.duties:
                g.add_node(duty.id, type="duty", clause=duty.clause, kind=duty.kind.value)
                g.add_edge(unit.id, duty.id, rel="owns")
        for pid, post in self._posts.items():
            g.add_node(pid, type="post", role=post.role.value, title=post.title)
            g.add_edge(pid, self._post_unit[pid].id, rel="belongs_to")
            if post.holder is not None:
                g.add_edge(post.holder, pid, rel="holds")
        for unit in self.org.units:
            head = self.head_of(unit.id)
            if head is not None:
                g.add_edge(head.id, unit.id, rel="heads")
        for person in self.org.people:
            g.add_node(person.id, type="person", name=person.name)
        for school in self.org.schools:
            g.add_node(school.id, type="school", name=school.name, level=school.level.value)
        for place in self.org.places:
            g.add_node(place.id, type="place", name=place.name, kind=place.kind.value)
        for uid, posts in self._in_charge_of.items():
            for post in posts:
                g.add_edge(post.id, uid, rel="in_charge_of")
        for package in self._packages:
            for target in package.targets:
                g.add_edge(package.holder, target, rel="packages", package=package.id)
                for staff in package.staff:
                    g.add_edge(staff, target, rel="visits", package=package.id)
        return g
