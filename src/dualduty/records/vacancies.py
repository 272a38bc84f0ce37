"""Vacant posts as dated coverage gaps: from when, until when, and what they uncover.

A post left vacant (a :class:`~dualduty.records.PostAssigned` with no holder, or vacant in
the district file) is a coverage gap from that date: the chains of responsibility that
run through it (staff → section head → post in charge → leader, clauses 二(二), 二(三).1
and 三.1) lack a link until it is filled. :func:`vacancies` lists each vacant period of
each post with the schools and hazard domains it uncovers, read from the organisation in
force on each day of the period (:meth:`Timeline.as_of
<dualduty.records.Timeline.as_of>`); :func:`dualduty.coverage.analyse` of the
organisation in force on a day of the period reports the same vacancy as a
``broken_chain`` gap, with the day it began (:attr:`dualduty.coverage.Gap.since`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from dualduty.model.enums import SECTION_KINDS, DutyKind
from dualduty.model.org import Organisation, Post

from .timeline import PersonJoined, PostAssigned, Timeline

if TYPE_CHECKING:
    from dualduty.graph import ChainLevel, ChainLink

__all__ = ["Vacancy", "vacancies"]

_DAY = dt.timedelta(days=1)


@attrs.frozen
class Vacancy:
    """One vacant period of a post: a dated coverage gap.

    :param post: the vacant post.
    :param unit: its unit.
    :param title: its title (Chinese).
    :param start: the first day it was vacant: the effective date of the record that
        vacated it (``None``: vacant in the district file and not filled since).
    :param end: the last day it was vacant: the day before the record that filled it
        takes effect (``None``: no record fills it).
    :param schools: the schools (places, in a school's own plan) it uncovers on some day
        of the period asked about (what "uncovered" means: :func:`vacancies`).
    :param domains: the hazard domains it uncovers on some day of the period asked about.
    :param seq: the record that left it vacant (``None``: the district file).
    :param filled_by: the record that filled it (``None``: not filled).
    :param previous: who held it before it fell vacant (``None``: the district file has
        it vacant, or no one is known).
    """

    post: str
    unit: str
    title: str
    start: dt.date | None
    end: dt.date | None
    schools: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    seq: int | None = None
    filled_by: int | None = None
    previous: str | None = None

    @property
    def uncovers(self) -> bool:
        """Whether the vacancy leaves any school or hazard domain without a complete chain."""
        return bool(self.schools or self.domains)

    def covers(self, day: dt.date) -> bool:
        """Whether the post is vacant on *day* in this period."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def to_json(self) -> dict[str, Any]:
        """The vacancy as ``dualduty check --format json`` prints it."""
        return {
            "post": self.post,
            "unit": self.unit,
            "title": self.title,
            "from": None if self.start is None else self.start.isoformat(),
            "until": None if self.end is None else self.end.isoformat(),
            "schools": list(self.schools),
            "domains": list(self.domains),
            "seq": self.seq,
            "filled_by": self.filled_by,
            "previous": self.previous,
        }


@attrs.define
class _Run:
    """A vacant period being followed, day by day."""

    start: dt.date | None
    seq: int | None
    previous: str | None
    schools: set[str] = attrs.field(factory=set)
    domains: set[str] = attrs.field(factory=set)


def vacancies(line: Timeline, start: dt.date, end: dt.date) -> tuple[Vacancy, ...]:
    """Every vacant period of a post that overlaps *start* to *end* (inclusive), with the
    schools and hazard domains it uncovers on the days from *start* to *end*.

    Every post of the organisation counts; a vacancy is listed whether or not it uncovers
    anything (:attr:`Vacancy.uncovers`). A period keeps its own dates where they reach
    outside *start* to *end*: a post vacated before *start* starts on the day the record
    that vacated it takes effect, and one filled by a record effective after *end* ends
    the day before. Records effective on the same day count as the last of them leaves
    the post (vacated and filled again on one day: not vacant). Sorted by first day (the
    district file's vacancies first), then post.

    What a vacancy uncovers follows :attr:`ResponsibilityChain.missing
    <dualduty.ResponsibilityChain.missing>` and the ``broken_chain`` gaps of
    :func:`dualduty.coverage.analyse`, on each day of the period:

    - a vacant post **breaks** a chain of responsibility when it stands on the chain at a
      level no one holds: a vacant staff post breaks its package's chain only when every
      staff post on it is vacant (the others still visit the schools), a vacant deputy
      breaks a section's chain only when no other post in charge of the section is held;
    - a school (a place, in a school's own plan) is **uncovered** when the vacant post
      breaks the chain of one of its packages and no package of the same kind (a
      section's; a leading-group member's: 三.1 asks for one of each) gives the school a
      complete chain meanwhile. The coverage gap of the same vacancy names every school of
      the broken chain, the vacancy only those nobody else answers for;
    - a hazard domain is **uncovered** when the vacant post breaks the business-line
      chain of a section whose own safety duties name the domain (二(四), 管业务必管安全;
      the common duties every section carries are no line of business, as in
      :meth:`OrgGraph.owners_of <dualduty.OrgGraph.owners_of>`) and no section owning the
      domain has a complete chain meanwhile. Every domain a section owns counts, whether
      or not a school brings that hazard today (the coverage analysis reports the domains
      the schools bring).

    So a section head's vacancy uncovers the schools its section packages and the domains
    only that section answers for; a deputy's, the schools of its own package and of the
    sections it alone is in charge of, with their domains; the leader's, every school and
    every domain (the leader is on every chain); a staff post's, nothing while another
    staff post of its package, and of its section, is held. A school whose package moves
    to the section during the vacancy is uncovered from that day.

    >>> import datetime as dt
    >>> import dualduty
    >>> from dualduty.records import PersonJoined, PostAssigned, Timeline, vacancies
    >>> from dualduty.records.timeline import Change
    >>> org = dualduty.reference_organisation(schools=30)
    >>> at = dt.datetime(2026, 7, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    >>> left = PostAssigned("planning.head", None, dt.date(2026, 7, 15), reason="调离")
    >>> joined = PersonJoined("p090", "钱立新", dt.date(2026, 9, 1))
    >>> filled = PostAssigned("planning.head", "p090", dt.date(2026, 9, 1), reason="任职")
    >>> changes = [left, joined, filled]
    >>> line = Timeline(org, [Change(n, "p001", at, c) for n, c in enumerate(changes, 1)])
    >>> (gap,) = vacancies(line, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    >>> gap.post, gap.start.isoformat(), gap.end.isoformat(), gap.seq, gap.filled_by
    ('planning.head', '2026-07-15', '2026-08-31', 1, 3)
    >>> gap.schools, gap.domains, gap.previous
    (('s0017',), ('construction',), 'p034')

    :raises ValueError: if *end* is before *start*.
    """
    if end < start:
        raise ValueError(f"the period ends {end.isoformat()}, before it starts {start.isoformat()}")
    # the days posts, packages or in-charge edges change within the period, and its first
    days = sorted(
        {start}
        | {
            c.effective
            for c in line.changes
            if start < c.effective <= end and not isinstance(c.data, PersonJoined)
        }
    )
    where = {p.id: (u.id, p.title) for u, p in line.org.iter_posts()}
    open_: dict[str, _Run] = {}
    out: list[Vacancy] = []
    holders: dict[str, str | None] = {}
    for i, day in enumerate(days):
        snap = line.snapshot(day)
        found = _uncovered(snap.org, day)
        for post_id in [p for p in open_ if p not in found]:  # filled on this day
            filled = snap.basis.get(f"post:{post_id}")
            out.append(_vacancy(post_id, where, open_.pop(post_id), day - _DAY, filled))
        for post_id, (schools, domains) in found.items():
            if post_id not in open_:
                open_[post_id] = (
                    _run_before(line, post_id, day)
                    if i == 0
                    else _Run(day, snap.basis.get(f"post:{post_id}"), holders.get(post_id))
                )  # vacated on this day, or before the period
            open_[post_id].schools.update(schools)
            open_[post_id].domains.update(domains)
        holders = {p.id: p.holder for _, p in snap.org.iter_posts()}
    for post_id, run in open_.items():
        after = _filled_after(line, post_id, end)
        last = None if after is None else after[0] - _DAY
        out.append(_vacancy(post_id, where, run, last, None if after is None else after[1]))
    return tuple(sorted(out, key=lambda v: (v.start or dt.date.min, v.post)))


def _vacancy(
    post_id: str,
    where: dict[str, tuple[str, str]],
    run: _Run,
    end: dt.date | None,
    filled_by: int | None,
) -> Vacancy:
    unit_id, title = where[post_id]
    return Vacancy(
        post_id,
        unit_id,
        title,
        run.start,
        end,
        tuple(sorted(run.schools)),
        tuple(sorted(run.domains)),
        run.seq,
        filled_by,
        run.previous,
    )


def _run_before(line: Timeline, post_id: str, day: dt.date) -> _Run:
    """The vacant period a post vacant on *day* is in, as it began: the record that
    vacated it (and who held it before), or the district file."""
    holder = next(p.holder for _, p in line.org.iter_posts() if p.id == post_id)
    run = _Run(None, None, None)
    for effective, seq, now in _assignments(line, post_id):
        if effective > day:
            break
        if now is None and holder is not None:
            run = _Run(effective, seq, holder)
        holder = now
    return run


def _filled_after(line: Timeline, post_id: str, day: dt.date) -> tuple[dt.date, int] | None:
    """When and by which record a post vacant on *day* is next filled, if it is."""
    for effective, seq, holder in _assignments(line, post_id):
        if effective > day and holder is not None:
            return effective, seq
    return None


def _assignments(line: Timeline, post_id: str) -> Iterator[tuple[dt.date, int, str | None]]:
    """For each day records assign *post_id*: the day, and the seq and holder of the last
    of them, the one in force at the end of the day (a post vacated and filled again on
    one day was not vacant)."""
    last: tuple[dt.date, int, str | None] | None = None
    for change in line.changes:
        data = change.data
        if isinstance(data, PostAssigned) and data.post == post_id:
            if last is not None and last[0] != data.effective:
                yield last
            last = (data.effective, change.seq, data.holder)
    if last is not None:
        yield last


def _uncovered(org: Organisation, day: dt.date) -> dict[str, tuple[set[str], set[str]]]:
    """Each post vacant in *org* (the organisation in force on *day*) with the schools
    and hazard domains its vacancy uncovers that day."""
    from dualduty.graph import ChainBasis, OrgGraph

    found: dict[str, tuple[set[str], set[str]]] = {
        p.id: (set(), set()) for _, p in org.iter_posts() if p.holder is None
    }
    if not found:
        return found
    graph = OrgGraph(org, on=day)
    # only the chains a vacant post stands on can be broken by one: the leader's (every
    # chain), a leading-group package holder's, and a section's (its staff, its head,
    # the posts in charge of it)
    leader = graph.leader()
    everything = leader is not None and leader.id in found
    touched = {
        unit.id
        for unit in graph.sections()
        if everything
        or any(p.id in found for p in unit.posts)
        or _vacant(graph.head_of(unit.id), found)
        or any(p.id in found for p in graph.in_charge_of(unit.id))
    }
    targets: dict[str, None] = {}
    for package in org.packages:
        if everything or package.holder in touched or package.holder in found:
            targets.update(dict.fromkeys(package.targets))
    # one chain per package: every school of a package shares it
    complete: dict[str, bool] = {}
    breakers: dict[str, set[str]] = {}
    kind: dict[str, ChainBasis] = {}
    for target in targets:
        packages = graph.packages_of(target)
        if all(p.id in complete for p in packages):
            continue
        for chain in graph.chains(target):
            if chain.package is None:  # pragma: no cover - no domain asked: package chains only
                continue
            complete[chain.package.id] = chain.complete
            kind[chain.package.id] = chain.basis
            breakers[chain.package.id] = _breakers(chain.links, chain.missing)
    for target in targets:
        packages = graph.packages_of(target)
        for basis in (ChainBasis.SECTION_PACKAGE, ChainBasis.LEADER_PACKAGE):
            same = [p.id for p in packages if kind[p.id] is basis]
            if same and not any(complete[p] for p in same):
                for package_id in same:
                    for post_id in breakers[package_id]:
                        if post_id in found:
                            found[post_id][0].add(target)
    samples = [s.id for s in org.schools] or [p.id for p in org.places]
    if not samples:  # no school or place: no chain reaches anything
        return found
    for domain in _owned_domains(org):
        if not everything and not any(u.id in touched for u in graph.owners_of(domain)):
            continue
        chains = [
            c for c in graph.chains(samples[0], domain) if c.basis is ChainBasis.BUSINESS_LINE
        ]
        if not any(c.complete for c in chains):
            for chain in chains:
                for post_id in _breakers(chain.links, chain.missing):
                    if post_id in found:
                        found[post_id][1].add(domain)
    return found


def _vacant(post: Post | None, found: Mapping[str, object]) -> bool:
    return post is not None and post.id in found


def _breakers(links: Iterable[ChainLink], missing: Iterable[ChainLevel]) -> set[str]:
    """The posts standing on a chain at a level that no one holds."""
    levels = set(missing)
    return {link.post.id for link in links if link.level in levels and link.person is None}


def _owned_domains(org: Organisation) -> list[str]:
    """The hazard domains some section's own safety duties name (known domains only)."""
    registry = org.hazard_domain_registry()
    owned = {
        domain
        for unit in org.units
        if unit.kind in SECTION_KINDS
        for duty in unit.duties
        if duty.kind is DutyKind.SAFETY
        for domain in duty.hazards
        if domain in registry
    }
    return sorted(owned)
