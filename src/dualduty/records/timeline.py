"""Responsibility over time: changes to the organisation as records, and the organisation
in force on any date.

一岗双责 (one post, dual duty) is personal, and people change posts: a section's package
(分包学校, clause 三.1) moves to another section mid-year, a deputy's portfolio (分管,
clause 二(二)) is reshuffled, a post falls vacant and is filled. Each such change is a
record in the store with the date it takes effect (:class:`PersonJoined`,
:class:`PostAssigned`, :class:`InChargeChanged`, :class:`PackageChanged`,
:class:`PackageEnded`), appended by :class:`OrgChanges` (who changed what, when,
effective from which date) and never edited. Two times are kept apart: the *effective*
date (from when the change holds) and the time it was *recorded* (``Record.at``, the
entry's ``seq``); a change may be recorded before its date or after it (back-dated).

The district file describes the organisation as it was set up; :class:`Timeline` lays
the changes over it in the order of their effective dates (and, on one date, in the
order they were recorded), so that

- :meth:`Timeline.as_of` gives the organisation in force on a date (who held each post,
  which sections each deputy was in charge of, which packages were in force), and
  :meth:`Timeline.snapshot` the same with the records that made it so
  (:attr:`Snapshot.basis`);
- :meth:`Timeline.dated` gives one organisation with every version of every package and
  in-charge edge carrying its dates, which the compliance view, the schedule planner and
  the year-end assessment read to charge each event to whoever answered for the school
  that day (a section is not charged for an incident at a school it took over
  afterwards, clause 三.4); :func:`in_time` is the same for a district file and a store;
- :meth:`Timeline.history` lists the changes about one post, package, unit, person or
  school;
- :func:`~dualduty.records.vacancies.vacancies` lists the dated coverage gaps a vacant
  post leaves.

:doc:`/explanation/responsibility-over-time` explains the design.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import attrs

from dualduty.errors import DualdutyError, Problem
from dualduty.model._checks import check_id, check_ids, check_text
from dualduty.model.org import InCharge, Organisation, Package, Person, Post, Unit

from ._fields import date_only, opt_id, opt_text, strings
from .base import Entry, Record, kind_of, person, record_kind
from .base import school as school_subject
from .base import unit as unit_subject

if TYPE_CHECKING:
    from dualduty.graph import OrgGraph
    from dualduty.storage.store import Store

    from .service import Desk, Writing

__all__ = [
    "CHANGE_KINDS",
    "Before",
    "Change",
    "ChangeData",
    "InChargeChanged",
    "OrgChanges",
    "PackageChanged",
    "PackageEnded",
    "PersonJoined",
    "PostAssigned",
    "Snapshot",
    "Timeline",
    "TimelineError",
    "change_subjects",
    "changes_in",
    "check",
    "in_time",
]

_DAY = dt.timedelta(days=1)


class TimelineError(DualdutyError):
    """A change to the organisation that does not fit it (an unknown post, a person who
    has not joined, a package that is not in force, an organisation left invalid on the
    change's date). Nothing was written."""


def _post_subject(post_id: str) -> str:
    return f"post:{post_id}"


def _package_subject(package_id: str) -> str:
    return f"package:{package_id}"


# -- record kinds -------------------------------------------------------------------------


@record_kind("person-joined")
@attrs.frozen
class PersonJoined:
    """Someone joins the organisation (a successor, a new cadre) from a date.

    A person must have joined (or be in the district file) before a post is given to
    them (:class:`PostAssigned`).

    :param person: their id (new to the organisation).
    :param name: their name (Chinese).
    :param effective: the day they join.
    :param phone: a telephone number, if known.
    :param email: an e-mail address, if known.
    :param reason: why (调入, 新任, …).
    """

    person: str = attrs.field(validator=check_id)
    name: str = attrs.field(validator=check_text)
    effective: dt.date = attrs.field(validator=date_only)
    phone: str | None = attrs.field(default=None, validator=opt_text)
    email: str | None = attrs.field(default=None, validator=opt_text)
    reason: str = ""

    @classmethod
    def examples(cls) -> Sequence[PersonJoined]:
        """Instances the conformance kit round-trips."""
        return (
            cls("p090", "钱立新", dt.date(2026, 7, 1), email="qian@example.org", reason="调入"),
            cls("p091", "孙晓梅", dt.date(2026, 9, 1), phone="0571-8888 0000"),
        )


@record_kind("post-assigned")
@attrs.frozen
class PostAssigned:
    """A post (岗位) gets a new holder, or falls vacant (``holder=None``), from a date.

    :param post: the post.
    :param holder: who holds it from *effective* (a person id), ``None`` for vacant.
    :param effective: the first day it is so.
    :param reason: why (调动, 退休, 交接, …).
    """

    post: str = attrs.field(validator=check_id)
    holder: str | None = attrs.field(validator=opt_id)
    effective: dt.date = attrs.field(validator=date_only)
    reason: str = ""

    @classmethod
    def examples(cls) -> Sequence[PostAssigned]:
        """Instances the conformance kit round-trips."""
        return (
            cls("planning.head", "p090", dt.date(2026, 7, 1), reason="交接"),
            cls("deputy-2", None, dt.date(2026, 9, 1), reason="退休"),
        )


@record_kind("in-charge-changed")
@attrs.frozen
class InChargeChanged:
    """分管 reshuffled (clause 二(二)): from a date a leading-group post is in charge of
    exactly these units (none: of nothing).

    :param post: the leading-group post.
    :param units: the sections (centres, grade groups) it is in charge of from *effective*.
    :param effective: the first day it is so.
    :param reason: why (分工调整, …).
    """

    post: str = attrs.field(validator=check_id)
    units: tuple[str, ...] = attrs.field(converter=strings, validator=check_ids)
    effective: dt.date = attrs.field(validator=date_only)
    reason: str = ""

    @classmethod
    def examples(cls) -> Sequence[InChargeChanged]:
        """Instances the conformance kit round-trips."""
        return (
            cls("deputy-1", ("planning", "finance"), dt.date(2026, 7, 1), reason="分工调整"),
            cls("deputy-3", (), dt.date(2026, 10, 8)),
        )


@record_kind("package-changed")
@attrs.frozen
class PackageChanged:
    """A package (分包, clause 三.1) is set from a date: created, or its holder, schools
    or staff changed. The record holds the whole package as it is from that date.

    :param package: the package's id (a new id creates a package).
    :param holder: a leading-group post id or a section's unit id.
    :param effective: the first day it is so.
    :param schools: its schools from *effective*.
    :param places: its places (a school's own plan: grades, classes, areas).
    :param staff: the holder section's posts who do the visits.
    :param reason: why (分包调整, …).
    """

    package: str = attrs.field(validator=check_id)
    holder: str = attrs.field(validator=check_id)
    effective: dt.date = attrs.field(validator=date_only)
    schools: tuple[str, ...] = attrs.field(default=(), converter=strings, validator=check_ids)
    places: tuple[str, ...] = attrs.field(default=(), converter=strings, validator=check_ids)
    staff: tuple[str, ...] = attrs.field(default=(), converter=strings, validator=check_ids)
    reason: str = ""

    @classmethod
    def examples(cls) -> Sequence[PackageChanged]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "pk-planning",
                "finance",
                dt.date(2026, 6, 30),
                schools=("s0001", "s0002"),
                staff=("finance.staff-1",),
                reason="分包调整",
            ),
            cls("pk-grade-7", "grade-7", dt.date(2026, 9, 1), places=("class-7-1", "class-7-2")),
        )


@record_kind("package-ended")
@attrs.frozen
class PackageEnded:
    """A package is no longer in force from a date (its schools go to other packages).

    :param package: the package's id.
    :param effective: the first day it is no longer in force.
    :param reason: why (撤并, …).
    """

    package: str = attrs.field(validator=check_id)
    effective: dt.date = attrs.field(validator=date_only)
    reason: str = ""

    @classmethod
    def examples(cls) -> Sequence[PackageEnded]:
        """Instances the conformance kit round-trips."""
        return (cls("pk-planning", dt.date(2026, 12, 31), reason="撤并"),)


#: The data of a change record: one of the five kinds.
ChangeData = PersonJoined | PostAssigned | InChargeChanged | PackageChanged | PackageEnded

#: The record kinds that change the organisation, in the order :class:`Timeline` reads them.
CHANGE_KINDS: tuple[str, ...] = (
    "person-joined",
    "post-assigned",
    "in-charge-changed",
    "package-changed",
    "package-ended",
)


@attrs.frozen
class Change:
    """One change to the organisation as recorded: its entry's ``seq``, who recorded it
    and when (:attr:`at`, recorded time), and what it changes from which date
    (:attr:`effective`, effective time)."""

    seq: int
    """The entry's position in the store: the order of recording."""
    actor: str
    """Who recorded it (a person id)."""
    at: dt.datetime
    """When it was recorded."""
    data: ChangeData
    """What it changes."""

    @property
    def effective(self) -> dt.date:
        """The first day the change is in force."""
        return self.data.effective

    @property
    def kind(self) -> str:
        """Its record kind (``"post-assigned"``, …)."""
        return kind_of(self.data)


# -- the organisation in force on a date ----------------------------------------------------


class Before(NamedTuple):
    """What stood just before a change (:meth:`Timeline.replay`): the fold's own tables,
    to read, not to keep."""

    people: Mapping[str, Person]
    """Everyone in the organisation, by id."""
    holders: Mapping[str, str | None]
    """Who holds each post (``None``: vacant), by post id."""
    packages: Mapping[str, Package]
    """Every package with its dates (one ended keeps its ``end``), by id."""
    in_charge: Mapping[str, Sequence[InCharge]]
    """Each post's in-charge edges with their dates, by post id."""

    def package_on(self, package_id: str, day: dt.date) -> Package | None:
        """The package as it stands for a change effective on *day*: in force the day
        before, or set earlier that same day (``None``: not in force)."""
        found = self.packages.get(package_id)
        if found is None or not _standing(found.start, found.end, day):
            return None
        return found

    def units_in_charge(self, post_id: str, day: dt.date) -> tuple[str, ...]:
        """The units *post_id* is in charge of for a change effective on *day*."""
        return tuple(
            u
            for e in self.in_charge.get(post_id, ())
            if _standing(e.start, e.end, day)
            for u in e.units
        )


def _standing(start: dt.date | None, end: dt.date | None, day: dt.date) -> bool:
    """In force the day before *day*, or set on *day* itself by an earlier change."""
    return _in_force(start, end, day - _DAY) or (start == day and (end is None or end >= day))


@attrs.frozen
class Snapshot:
    """The organisation in force on one day, and the records that made it so."""

    day: dt.date
    """The day."""
    org: Organisation
    """The organisation in force that day (:meth:`Timeline.as_of`)."""
    basis: Mapping[str, int] = attrs.field(eq=False)
    """For each changed thing (``post:<id>``, ``package:<id>``, ``in_charge:<post id>``,
    ``person:<id>``): the ``seq`` of the record that last changed it by *day*; things the
    record never changed by then are left out (the district file says them)."""

    def graph(self) -> OrgGraph:
        """An :class:`~dualduty.OrgGraph` of the organisation on the day."""
        from dualduty.graph import OrgGraph

        return OrgGraph(self.org, on=self.day)


def _in_force(start: dt.date | None, end: dt.date | None, on: dt.date) -> bool:
    return (start is None or start <= on) and (end is None or on <= end)


class _Made:
    """The model objects folds have made, by what they were made of: every fold over one
    organisation makes the same packages, edges, people and posts from the same changes,
    so each is made (and validated) once (:func:`_made_for`)."""

    def __init__(self, org: Organisation | None = None) -> None:
        self.org = None if org is None else weakref.ref(org)
        self.packages: dict[tuple[PackageChanged, dt.date | None], Package] = {}
        self.closings: dict[tuple[Package, dt.date], Package] = {}
        self.edges: dict[InChargeChanged, InCharge] = {}
        self.endings: dict[tuple[InCharge, dt.date], InCharge] = {}
        self.people: dict[PersonJoined, Person] = {}
        self.posts: dict[tuple[Post, str | None, dt.date | None], Post] = {}

    def package(self, data: PackageChanged, end: dt.date | None) -> Package:
        made = self.packages.get((data, end))
        if made is None:
            made = self.packages[data, end] = Package(
                data.package,
                data.holder,
                data.schools,
                data.places,
                data.staff,
                start=data.effective,
                end=end,
            )
        return made

    def closed(self, package: Package, day: dt.date) -> Package | None:
        """*package* as it stands once it stops on *day* (``None``: it had not started)."""
        if package.start is not None and package.start >= day:
            return None
        if package.end is not None and package.end < day:
            return package
        made = self.closings.get((package, day))
        if made is None:
            made = self.closings[package, day] = attrs.evolve(package, end=day - _DAY)
        return made

    def edge(self, data: InChargeChanged) -> InCharge:
        made = self.edges.get(data)
        if made is None:
            made = self.edges[data] = InCharge(data.post, data.units, start=data.effective)
        return made

    def ended(self, edge: InCharge, day: dt.date) -> InCharge | None:
        """*edge* as it stands once it stops on *day* (``None``: it had not started)."""
        if edge.start is not None and edge.start >= day:
            return None
        if edge.end is not None and edge.end < day:
            return edge
        made = self.endings.get((edge, day))
        if made is None:
            made = self.endings[edge, day] = attrs.evolve(edge, end=day - _DAY)
        return made

    def person(self, data: PersonJoined) -> Person:
        made = self.people.get(data)
        if made is None:
            made = self.people[data] = Person(data.person, data.name, data.phone, data.email)
        return made

    def post(self, post: Post, holder: str | None, since: dt.date | None) -> Post:
        """*post* held by *holder* (vacant: ``None``) since *since* (for a vacant post:
        since when it has been vacant, which coverage gaps report)."""
        made = self.posts.get((post, holder, since))
        if made is None:
            made = self.posts[post, holder, since] = attrs.evolve(post, holder=holder, since=since)
        return made


_MADE: dict[int, _Made] = {}


def _made_for(org: Organisation) -> _Made:
    """What folds over *org* have made so far (kept while *org* lives)."""
    made = _MADE.get(id(org))
    if made is None or made.org is None or made.org() is not org:
        made = _MADE[id(org)] = _Made(org)
        weakref.finalize(org, _MADE.pop, id(org), None)
    return made


class _State:
    """The mutable state a fold of changes builds (one per fold: :meth:`Timeline._fold`).

    Packages and in-charge edges keep their dates: a package ended stays with its
    ``end`` (it is not in force after it); in-charge edges are kept with the day they
    stopped, so that :meth:`organisation` without a day has every version of them.
    """

    def __init__(self, org: Organisation, made: _Made | None = None) -> None:
        self.made = _Made() if made is None else made
        self.people: dict[str, Person] = {p.id: p for p in org.people}
        self.joined: dict[str, Change] = {}
        self.holders: dict[str, str | None] = {p.id: p.holder for _, p in org.iter_posts()}
        self.since: dict[str, dt.date] = {}
        self.in_charge: dict[str, list[InCharge]] = {}
        for edge in org.in_charge:
            self.in_charge.setdefault(edge.post, []).append(edge)
        self.packages: dict[str, Package] = {p.id: p for p in org.packages}
        self.basis: dict[str, int] = {}

    def apply(self, change: Change, *, versions: bool = False) -> Package | None:
        """Apply *change*. With *versions* (for :meth:`Timeline.dated`), return the version
        of a package it closed, if it closed one that was in force before its date."""
        data = change.data
        day = data.effective
        made = self.made
        if isinstance(data, PersonJoined):
            self.people[data.person] = made.person(data)
            self.joined[data.person] = change
            self.basis[person(data.person)] = change.seq
        elif isinstance(data, PostAssigned):
            if self.holders.get(data.post, data.post) != data.holder:  # else: held as before
                self.holders[data.post] = data.holder
                self.since[data.post] = day
            self.basis[_post_subject(data.post)] = change.seq
        elif isinstance(data, InChargeChanged):
            ended = (made.ended(e, day) for e in self.in_charge.get(data.post, ()))
            kept = [e for e in ended if e is not None]
            if data.units:
                kept.append(made.edge(data))
            self.in_charge[data.post] = kept
            self.basis[f"in_charge:{data.post}"] = change.seq
        else:
            self.basis[_package_subject(data.package)] = change.seq
            old = self.packages.get(data.package)
            ending = isinstance(data, PackageEnded)
            closed = None if old is None or not (versions or ending) else made.closed(old, day)
            if isinstance(data, PackageChanged):
                # the file may end the package later: that end still holds
                end = None if old is None or old.end is None or old.end < day else old.end
                self.packages[data.package] = made.package(data, end)
            elif closed is not None:
                self.packages[data.package] = closed
            else:  # ended before it began: it is never in force
                self.packages.pop(data.package, None)
            return closed
        return None

    def posts(self, base: Organisation) -> tuple[Unit, ...]:
        """The units of *base* with their posts held as in this state."""
        units = []
        since, holders, made = self.since, self.holders, self.made
        for unit in base.units:
            posts = tuple(
                p if p.id not in since else made.post(p, holders[p.id], since[p.id])
                for p in unit.posts
            )
            units.append(
                unit
                if all(a is b for a, b in zip(posts, unit.posts, strict=True))
                else attrs.evolve(unit, posts=posts)
            )
        return tuple(units)

    def organisation(self, base: Organisation, day: dt.date | None) -> Organisation:
        """*base* as this state has it: on *day* (what is in force then), or with every
        package and in-charge edge it holds (``day=None``)."""
        in_charge = [e for edges in self.in_charge.values() for e in edges]
        packages: Iterable[Package] = self.packages.values()
        if day is not None:
            in_charge = [e for e in in_charge if _in_force(e.start, e.end, day)]
            packages = [p for p in packages if _in_force(p.start, p.end, day)]
        return attrs.evolve(
            base,
            as_of=day,
            people=tuple(self.people.values()),
            units=self.posts(base),
            in_charge=tuple(in_charge),
            packages=tuple(packages),
        )

    def subjects(self, data: ChangeData, org: Organisation) -> tuple[str, ...]:
        """The subjects of *data* applied to this state: what it changes and whom it
        concerns, including what it takes away (the post's holder until then, the
        package's holder and schools until then, the units the post was in charge of)."""
        out = list(change_subjects(data, org))
        day = data.effective
        if isinstance(data, PostAssigned):
            before = self.holders.get(data.post)
            if before is not None and before != data.holder:
                out.append(person(before))
        elif isinstance(data, InChargeChanged):
            for edge in self.in_charge.get(data.post, ()):
                if edge.end is None or edge.end >= day:
                    out.extend(unit_subject(u) for u in edge.units)
        elif isinstance(data, PackageChanged | PackageEnded):
            old = self.packages.get(data.package)
            if old is not None and (old.end is None or old.end >= day):
                out.append(_holder_subject(old.holder, org))
                out.extend(school_subject(s) for s in old.schools)
        return tuple(dict.fromkeys(out))


class Timeline:
    """The organisation of a district file with the recorded changes laid over it.

    :param org: the organisation as the district file describes it.
    :param changes: the changes, in any order (:meth:`from_store` reads them); they
        apply by effective date, and in the order recorded (``seq``) on the same date:
        a change recorded later but effective earlier (back-dated) applies from its own
        date.

    The changes are not checked here (:meth:`check` and :class:`OrgChanges` check each
    before it is recorded); whatever they are, every question is answered from the
    same fold, so :meth:`as_of`, :meth:`snapshot` and :meth:`dated` always agree.

    >>> import datetime as dt
    >>> import dualduty
    >>> from dualduty.records import PostAssigned, Timeline
    >>> from dualduty.records.timeline import Change
    >>> org = dualduty.reference_organisation(schools=10)
    >>> moved = PostAssigned("planning.head", None, dt.date(2026, 7, 1), reason="调离")
    >>> at = dt.datetime(2026, 6, 20, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    >>> line = Timeline(org, [Change(1, "p001", at, moved)])
    >>> dualduty.OrgGraph(line.as_of(dt.date(2026, 6, 30))).holder_of("planning.head").id
    'p034'
    >>> dualduty.OrgGraph(line.as_of(dt.date(2026, 7, 1))).holder_of("planning.head") is None
    True
    >>> line.snapshot(dt.date(2026, 7, 1)).basis
    {'post:planning.head': 1}
    """

    def __init__(self, org: Organisation, changes: Iterable[Change] = ()) -> None:
        self.org = org
        """The organisation as the district file describes it."""
        self.changes: tuple[Change, ...] = tuple(
            sorted(changes, key=lambda c: (c.effective, c.seq))
        )
        """The changes in the order they apply: by effective date, then by ``seq``."""
        self._days = [c.effective for c in self.changes]
        self._made = _made_for(org)

    @classmethod
    def from_store(cls, org: Organisation, store: Store, *, until: int | None = None) -> Timeline:
        """The organisation's timeline from the changes recorded in *store*.

        :param until: read only entries up to this ``seq`` (the organisation as the
            record stood then).
        """
        return cls(org, changes_in(store, until=until))

    @classmethod
    def in_transaction(cls, org: Organisation, writing: Writing) -> Timeline:
        """The timeline of the changes committed in the writing's store and of those
        appended so far in its open transaction."""
        kinds = set(CHANGE_KINDS)
        pending = [
            Change(seq, r.actor, r.at, r.data) for seq, r in writing.appended() if r.kind in kinds
        ]
        return cls(org, [*changes_in(writing.store), *pending])

    @classmethod
    def of_entries(cls, org: Organisation, entries: Iterable[Entry]) -> Timeline:
        """The timeline of the change records among *entries* (others are skipped)."""
        return cls(org, _changes(entries))

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __repr__(self) -> str:
        return f"<Timeline of {self.org.id!r}: {len(self.changes)} changes>"

    def _fold(self, day: dt.date | None) -> _State:
        """The state after the changes effective by *day* (all of them: ``None``)."""
        state = _State(self.org, self._made)
        n = len(self.changes) if day is None else bisect.bisect_right(self._days, day)
        for change in self.changes[:n]:
            state.apply(change)
        return state

    def snapshot(self, day: dt.date) -> Snapshot:
        """The organisation in force on *day*, with the records that made it so."""
        state = self._fold(day)
        return Snapshot(day, state.organisation(self.org, day), dict(state.basis))

    def as_of(self, day: dt.date) -> Organisation:
        """The organisation in force on *day*: who held each post, the people who had
        joined, the in-charge edges and packages in force that day
        (``Organisation.as_of`` set to *day*)."""
        return self._fold(day).organisation(self.org, day)

    def dated(self, on: dt.date | None = None) -> Organisation:
        """One organisation holding every version of every package and in-charge edge,
        each with the dates it was in force; posts held as on *on* (default: as after
        every change); everyone who ever joined.

        A package's earlier versions get the id ``<id>.until-<last day>``; the version
        in force last keeps its own. On any day, the packages of the dated organisation
        in force that day are those of :meth:`as_of` (up to these ids), and so are the
        in-charge edges. The compliance view, the schedule planner and the year-end
        assessment read packages' dates, so each event is charged to whoever held the
        school's package that day.
        """
        if not self.changes:
            return self.org
        state = _State(self.org, self._made)
        versions: list[Package] = []
        for change in self.changes:
            closed = state.apply(change, versions=True)
            if closed is not None:
                versions.append(attrs.evolve(closed, id=f"{closed.id}.until-{closed.end}"))
                if isinstance(change.data, PackageEnded):
                    state.packages.pop(closed.id)  # its last version is among the versions
        org = state.organisation(self.org, None)
        if on is not None:
            org = attrs.evolve(org, units=self._fold(on).posts(self.org))
        return attrs.evolve(org, packages=(*versions, *org.packages))

    def check(self, data: ChangeData) -> None:
        """Raise :class:`TimelineError` unless *data* fits the organisation on its date.

        A change is checked against the organisation as it stands on its effective date
        with these changes (:meth:`as_of`): the post, the person, the package it names
        must be known then, and the organisation it makes must pass
        :meth:`Organisation.problems <dualduty.Organisation.problems>` (every package
        naming known schools and a holder that is a leading-group post or a section,
        staff of the holder's section, in-charge edges of leading-group posts over
        sections, …). Only the problems the change brings are reported. Changes effective
        later are not examined again: no change can make one effective later invalid
        (units, posts and schools do not change over time, and people only join).

        :raises TimelineError: naming the change and every problem (the package, the
            post, the person by id).
        """
        _check(self, data)

    def replay(self) -> Iterator[tuple[Change, Before]]:
        """Each change in effective order, with what stood just before it (the state the
        fold has reached, the changes before it on the same day included): to say what a
        change changed, from what to what. Each :class:`Before` is valid until the next
        step."""
        state = _State(self.org, self._made)
        for change in self.changes:
            yield change, Before(state.people, state.holders, state.packages, state.in_charge)
            state.apply(change)

    def history(self, subject: str) -> tuple[Change, ...]:
        """The changes about one thing, in effective order: ``post:<id>``,
        ``package:<id>``, ``unit:<id>`` (its posts, the packages it held or holds, the
        posts in charge of it), ``person:<id>`` (their joining, the posts they were given
        or left) or ``school:<id>`` (the packages that took it in or gave it up)."""
        state = _State(self.org, self._made)
        out = []
        for change in self.changes:
            if subject in state.subjects(change.data, self.org):
                out.append(change)
            state.apply(change)
        return tuple(out)


# -- the dated organisation of a store -------------------------------------------------------


@attrs.frozen
class _Laid:
    """What :func:`in_time` made a dated organisation from."""

    base: Organisation
    on: dt.date | None
    seqs: tuple[int, ...]


_LAID: dict[int, _Laid] = {}
_DATED: weakref.WeakValueDictionary[int, Organisation] = weakref.WeakValueDictionary()


def in_time(org: Organisation, store: Store, on: dt.date | None = None) -> Organisation:
    """*org* with the changes recorded in *store* laid over it (:meth:`Timeline.dated`
    with posts as held on *on*), or *org* itself when the store records none.

    The compliance view and the year-end assessment call this, so a caller passes the
    district file's organisation and every event is charged to whoever held the school's
    package on its day. Idempotent: given an organisation this function made, from the
    same changes and for the same *on*, it returns it as it is; from other changes (one
    was recorded since) or for another day, it makes it again from the district file's.
    """
    made = _LAID.get(id(org)) if _DATED.get(id(org)) is org else None
    base = org if made is None else made.base
    changes = changes_in(store)
    if made is not None and made.on == on and made.seqs == tuple(c.seq for c in changes):
        return org
    if not changes:
        return base
    dated = Timeline(base, changes).dated(on)
    key = id(dated)
    _DATED[key] = dated
    _LAID[key] = _Laid(base, on, tuple(c.seq for c in changes))
    weakref.finalize(dated, _LAID.pop, key, None)
    return dated


def _holder_subject(holder: str, org: Organisation) -> str:
    """The subject of a package's holder: its unit, or its post."""
    return unit_subject(holder) if any(u.id == holder for u in org.units) else _post_subject(holder)


def change_subjects(data: ChangeData, org: Organisation) -> tuple[str, ...]:
    """The subjects of a change record from the record alone: what it changes and whom
    it concerns (the post and its unit, the new holder, the units now in charge of, the
    package, its holder and its schools). :meth:`Timeline.history` and
    :class:`OrgChanges` add what the change takes away (the holder until then, …)."""
    if isinstance(data, PersonJoined):
        return (person(data.person),)
    if isinstance(data, PostAssigned):
        unit = next((u.id for u, p in org.iter_posts() if p.id == data.post), None)
        out = [_post_subject(data.post)]
        if unit is not None:
            out.append(unit_subject(unit))
        if data.holder is not None:
            out.append(person(data.holder))
        return tuple(out)
    if isinstance(data, InChargeChanged):
        return (_post_subject(data.post), *(unit_subject(u) for u in data.units))
    if isinstance(data, PackageChanged):
        return (
            _package_subject(data.package),
            _holder_subject(data.holder, org),
            *(school_subject(s) for s in data.schools),
        )
    return (_package_subject(data.package),)


#: The changes read from each open store so far, with the last seq read: the record is
#: append-only, so a store is read again only after that seq.
_READ: weakref.WeakKeyDictionary[Store, tuple[int, tuple[Change, ...]]] = (
    weakref.WeakKeyDictionary()
)


def changes_in(store: Store, *, until: int | None = None) -> list[Change]:
    """The organisation changes recorded in *store* (up to seq *until*), by seq.

    Only committed entries are read. What was read of a store is kept (while the store
    object lives) and only the entries appended since are read the next time.
    """
    last, known = _READ.get(store, (0, ()))
    found: list[Entry] = []
    for kind in CHANGE_KINDS:
        found.extend(store.read(kind=kind, after=last))
    if found:
        found.sort(key=lambda e: e.seq)
        known = (*known, *_changes(found))
        _READ[store] = (found[-1].seq, known)
    return [c for c in known if until is None or c.seq <= until]


def _changes(entries: Iterable[Entry]) -> list[Change]:
    kinds = set(CHANGE_KINDS)
    return [
        Change(e.seq, e.record.actor, e.record.at, e.record.data)
        for e in entries
        if e.record.kind in kinds
    ]


# -- checking a change ----------------------------------------------------------------------


def check(line: Timeline, data: ChangeData) -> None:
    """:meth:`Timeline.check`: raise :class:`TimelineError` unless *data* fits the
    organisation of *line* on its date."""
    _check(line, data)


def _check(line: Timeline, data: ChangeData) -> tuple[str, ...]:
    """:meth:`Timeline.check`; return the subjects of the record of *data*."""
    day = data.effective
    state = line._fold(day)
    kind = kind_of(data)
    what = f"{kind} effective {day.isoformat()}"
    posts = {p.id for _, p in line.org.iter_posts()}
    if isinstance(data, PersonJoined):
        everyone = line._fold(None)
        if data.person in everyone.people:
            joined = everyone.joined.get(data.person)
            since = (
                "in the district file"
                if joined is None
                else f"joined {joined.effective.isoformat()}, record {joined.seq}"
            )
            raise TimelineError(f"{what}: person {data.person!r} is already known ({since})")
    elif isinstance(data, PostAssigned):
        if data.post not in posts:
            raise TimelineError(f"{what}: no post {data.post!r} in this organisation")
        if data.holder is not None and data.holder not in state.people:
            later = line._fold(None).joined.get(data.holder)
            why = (
                f"they join only on {later.effective.isoformat()}"
                if later is not None
                else "record that they joined first (person-joined)"
            )
            raise TimelineError(f"{what}: no person {data.holder!r} on that day; {why}")
    elif isinstance(data, InChargeChanged):
        if data.post not in posts:
            raise TimelineError(f"{what}: no post {data.post!r} in this organisation")
    elif isinstance(data, PackageEnded):
        package = state.packages.get(data.package)
        if package is None or not _in_force(package.start, package.end, day):
            raise TimelineError(
                f"{what}: no package {data.package!r} in force on {day.isoformat()}"
            )
    subjects = state.subjects(data, line.org)
    seq = max((c.seq for c in line.changes), default=0) + 1
    state.apply(Change(seq, "check", dt.datetime.combine(day, dt.time(), dt.UTC), data))
    after = state.organisation(line.org, day)
    problems = after.problems()
    if problems:  # those the organisation had before are not the change's
        before = line.as_of(day)
        known = set(_named(before.problems(), before))
        problems = [p for p in _named(problems, after) if p not in known]
    if problems:
        listed = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise TimelineError(f"{what} would leave the organisation invalid: {listed}{more}")
    return subjects


_INDEXED = re.compile(r"^(packages|in_charge|people|units)\[(\d+)\](?:\.posts\[(\d+)\])?(.*)$")


def _named(problems: Iterable[Problem], org: Organisation) -> Iterator[Problem]:
    """*problems* with their paths naming things by id (``package 'pk-1' holder``), not by
    their place in an organisation no file holds (``packages[3].holder``)."""
    for problem in problems:
        match = _INDEXED.match(problem.path)
        if match is None:
            yield problem
            continue
        key, i, j, rest = match.group(1), int(match.group(2)), match.group(3), match.group(4)
        if key == "packages":
            where = f"package {org.packages[i].id!r}"
        elif key == "in_charge":
            where = f"in-charge edge of {org.in_charge[i].post!r}"
        elif key == "people":
            where = f"person {org.people[i].id!r}"
        elif j is not None:
            where = f"post {org.units[i].posts[int(j)].id!r}"
        else:
            where = f"unit {org.units[i].id!r}"
        rest = rest.lstrip(".")
        yield Problem(f"{where} {rest}" if rest else where, problem.message)


# -- the service ----------------------------------------------------------------------------


class OrgChanges:
    """Records changes to the organisation (who changed what, when, effective from when).

    The leader, the leading group's members and the people of its office may record
    them (the leading group decides 分管 and 分包, clause 一 and 三.1). Each command
    checks the change (:meth:`Timeline.check`) against the organisation as it would stand on the
    effective date, with the changes recorded before it and those pending in the open
    batch, and appends one record, or nothing.

    Once the transaction commits, the desk reads the organisation again
    (:meth:`~dualduty.records.Desk.refresh`): a successor given a post on or before
    today may act for it at once through the same :class:`~dualduty.records.Recorder`
    (inside a batch: once the batch has committed).

    :param desk: the desk of a :class:`~dualduty.records.Recorder`
        (:attr:`Recorder.org_changes <dualduty.records.Recorder.org_changes>`).
    """

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def timeline(self) -> Timeline:
        """The timeline as recorded now."""
        return Timeline.from_store(self.desk.base_org, self.desk.store)

    def recorders(self) -> frozenset[str]:
        """Who may record a change: the leading group's members and the office's people."""
        return self.desk.leading_members() | self.desk.office_members()

    def record(
        self,
        data: ChangeData,
        *,
        actor: str,
        at: dt.datetime | None = None,
    ) -> Entry:
        """Check and append one change.

        :param data: the change.
        :param actor: who records it (a person id).
        :param at: when it is recorded (default: the desk's clock).
        :raises PermissionDenied: if *actor* may not change the organisation.
        :raises TimelineError: if the change names nothing known or the organisation
            would not be valid on its effective date (every problem listed).
        """
        desk = self.desk
        desk.require(actor, self.recorders(), "change the organisation")
        at = desk.now(at)
        with desk.writing() as writing:
            line = Timeline.in_transaction(desk.base_org, writing)
            subjects = _check(line, data)
            entry = writing.append(Record.of(data, actor=actor, at=at, subjects=subjects))
            desk.stale = True  # the desk reads the organisation again once committed
            return entry

    def assign(
        self,
        post: str,
        holder: str | None,
        effective: dt.date,
        *,
        actor: str,
        reason: str = "",
        at: dt.datetime | None = None,
    ) -> Entry:
        """From *effective*, *holder* holds *post* (``None``: it falls vacant)."""
        return self.record(PostAssigned(post, holder, effective, reason), actor=actor, at=at)

    def join(
        self,
        person_id: str,
        name: str,
        effective: dt.date,
        *,
        actor: str,
        phone: str | None = None,
        email: str | None = None,
        reason: str = "",
        at: dt.datetime | None = None,
    ) -> Entry:
        """A new person joins from *effective*."""
        data = PersonJoined(person_id, name, effective, phone, email, reason)
        return self.record(data, actor=actor, at=at)

    def set_in_charge(
        self,
        post: str,
        units: Sequence[str],
        effective: dt.date,
        *,
        actor: str,
        reason: str = "",
        at: dt.datetime | None = None,
    ) -> Entry:
        """From *effective*, *post* is in charge of exactly *units*."""
        data = InChargeChanged(post, tuple(units), effective, reason)
        return self.record(data, actor=actor, at=at)

    def set_package(
        self,
        package: str,
        holder: str,
        effective: dt.date,
        *,
        actor: str,
        schools: Sequence[str] = (),
        places: Sequence[str] = (),
        staff: Sequence[str] = (),
        reason: str = "",
        at: dt.datetime | None = None,
    ) -> Entry:
        """From *effective*, the package is held by *holder* with these schools, places and
        staff (a new package, or the whole of an existing one as it is from then)."""
        data = PackageChanged(
            package, holder, effective, tuple(schools), tuple(places), tuple(staff), reason
        )
        return self.record(data, actor=actor, at=at)

    def end_package(
        self,
        package: str,
        effective: dt.date,
        *,
        actor: str,
        reason: str = "",
        at: dt.datetime | None = None,
    ) -> Entry:
        """From *effective*, the package is no longer in force."""
        return self.record(PackageEnded(package, effective, reason), actor=actor, at=at)
