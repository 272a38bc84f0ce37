"""Responsibility coverage: does anything fall between posts? (管业务必管安全)

:func:`analyse` checks an organisation against the invariants of 一岗双责 and returns a
:class:`CoverageReport` of :class:`Gap`\\ s, each with a severity, the subject it is
about, the clause of the plan it rests on and a message saying why:

- every business area of a unit is covered by a safety duty of that unit (二(三).2);
- every section has a head post, held by a section head (二(三).1), and is in the charge
  of a leading-group post (二(二));
- every school (or, in a school's own plan, every place) has a leading-group package
  holder and a section package holder, once each (三.1);
- every hazard domain present in the schools has a section whose duties own it (二(四));
- every chain of responsibility (staff, section head, post in charge, leader) is
  complete, no post on it vacant (二(二), 二(三).1);
- no inspector carries more visits than a configurable capacity (三.2), and no single
  staff member is a single point of failure for a package.

The analysis is linear in schools and packages: chains are checked once per holder,
not once per school.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs

from dualduty.graph import ChainBasis, ChainLevel, OrgGraph, ResponsibilityChain
from dualduty.model import (
    SECTION_KINDS,
    DutyKind,
    Facility,
    Organisation,
    OrgKind,
    Ownership,
    Role,
    School,
    SchoolLevel,
    UnitKind,
)

if TYPE_CHECKING:
    import pandas

__all__ = [
    "DEFAULT_CAPACITY",
    "Coverage",
    "CoverageReport",
    "Gap",
    "GapKind",
    "Severity",
    "analyse",
    "domains_of",
]

#: Dedicated inspection visits one inspector can make in a quarter, by default: about
#: one every working day. Not in the plan; pass ``capacity`` to change it.
DEFAULT_CAPACITY = 60


class Severity(StrEnum):
    """How serious a gap is."""

    ERROR = "error"
    """The plan is broken here: ``dualduty check`` exits 1."""
    WARNING = "warning"
    """A risk worth a look; the plan still holds."""


class GapKind(StrEnum):
    """What kind of gap a :class:`Gap` is."""

    NO_LEADING_GROUP = "no_leading_group"
    """The organisation has no leading group or no leader (一)."""
    UNCOVERED_AREA = "uncovered_area"
    """A unit runs a line of business with no safety duty for it (二(三).2)."""
    NO_HEAD = "no_head"
    """A section has no head post (二(三).1)."""
    HEAD_NOT_SECTION_HEAD = "head_not_section_head"
    """A section's head post does not carry the section head's role (二(三).1)."""
    NOT_IN_CHARGE = "not_in_charge"
    """No leading-group post is in charge of a section (二(二))."""
    NO_LEADER_PACKAGE = "no_leader_package"
    """A school has no leading-group package holder (三.1)."""
    NO_SECTION_PACKAGE = "no_section_package"
    """A school has no section package holder (三.1)."""
    PACKAGED_TWICE = "packaged_twice"
    """A school is packaged twice by the same kind of holder (三.1)."""
    UNOWNED_DOMAIN = "unowned_domain"
    """A hazard present in the schools is owned by no section's duty (二(四))."""
    BROKEN_CHAIN = "broken_chain"
    """A chain of responsibility has a missing or vacant link (二(二), 二(三).1)."""
    SINGLE_POINT = "single_point_of_failure"
    """One person's absence would leave schools without an inspector (三.2)."""
    OVER_CAPACITY = "over_capacity"
    """An inspector's package needs more visits a quarter than the capacity (三.2)."""


@attrs.frozen
class Gap:
    """One finding: what is wrong, about what, why, and which clause says so.

    :param subject: what it is about, as ``"unit:<id>"``, ``"school:<id>"``,
        ``"place:<id>"``, ``"post:<id>"``, ``"person:<id>"``, ``"domain:<id>"`` or
        ``"organisation:<id>"``.
    :param schools: the schools (or places) it affects, when that is not the subject.
    :param since: the first day of the gap, when the organisation says it.
    """

    kind: GapKind
    severity: Severity
    subject: str
    clause: str
    message: str
    schools: tuple[str, ...] = ()
    since: dt.date | None = None
    """The first day of the gap, when the organisation says it: for a chain broken by a
    vacant post, the day the post fell vacant (its :attr:`Post.since
    <dualduty.Post.since>`, which the organisation in force on a date,
    :meth:`Timeline.as_of <dualduty.records.Timeline.as_of>`, takes from the record that
    vacated it); the last of those days when several vacant posts break the link
    together; ``None`` when not known (a post vacant in the district file, another kind
    of gap)."""

    def to_json(self) -> dict[str, str]:
        """The gap as ``dualduty check --format json`` prints it (``since`` as
        ``YYYY-MM-DD``, only when known)."""
        out = {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "subject": self.subject,
            "clause": self.clause,
            "message": self.message,
        }
        if self.since is not None:
            out["since"] = self.since.isoformat()
        return out


@attrs.frozen
class CoverageReport:
    """Every gap found, errors first, then in the order of the checks."""

    org_id: str
    gaps: tuple[Gap, ...]

    @property
    def errors(self) -> tuple[Gap, ...]:
        """The error-level gaps."""
        return tuple(g for g in self.gaps if g.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Gap, ...]:
        """The warning-level gaps."""
        return tuple(g for g in self.gaps if g.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        """Whether there is no error-level gap."""
        return not self.errors

    def of_kind(self, kind: GapKind) -> tuple[Gap, ...]:
        """The gaps of one kind."""
        return tuple(g for g in self.gaps if g.kind is kind)

    def about(self, subject: str) -> tuple[Gap, ...]:
        """The gaps about one subject (``"unit:planning"``) or affecting one school."""
        school = subject.partition(":")[2]
        return tuple(g for g in self.gaps if g.subject == subject or school in g.schools)

    def new_since(self, before: CoverageReport) -> tuple[Gap, ...]:
        """Gaps in this report that *before* did not have (for what-if questions)."""
        old = set(before.gaps)
        return tuple(g for g in self.gaps if g not in old)

    def to_frame(self) -> pandas.DataFrame:
        """The gaps as a pandas DataFrame (needs ``pip install 'dualduty[pandas]'``)."""
        pd = _pandas()
        rows = [{**g.to_json(), "schools": len(g.schools)} for g in self.gaps]
        columns = ["kind", "severity", "subject", "clause", "message", "schools"]
        return pd.DataFrame(rows, columns=columns)


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:
        from dualduty.errors import DualdutyError

        raise DualdutyError(
            "to_frame() and the matrices need pandas: pip install 'dualduty[pandas]'"
        ) from None
    return pd


# -- which hazards a school has ---------------------------------------------------------------

_EVERY_SCHOOL = ("fire", "buildings", "infectious_disease", "public_security", "safety_education")
_K12 = frozenset(
    {
        SchoolLevel.PRIMARY,
        SchoolLevel.JUNIOR,
        SchoolLevel.SENIOR,
        SchoolLevel.NINE_YEAR,
        SchoolLevel.VOCATIONAL,
        SchoolLevel.SPECIAL,
    }
)
_EXAMS = frozenset(
    {SchoolLevel.JUNIOR, SchoolLevel.SENIOR, SchoolLevel.NINE_YEAR, SchoolLevel.VOCATIONAL}
)
_FACILITY_DOMAINS: Mapping[Facility, tuple[str, ...]] = {
    Facility.CANTEEN: ("food",),
    Facility.BOARDING: ("food", "public_security"),
    Facility.SCHOOL_BUS: ("traffic",),
    Facility.LAB_CHEMICALS: ("lab_chemicals",),
    Facility.CONSTRUCTION: ("construction",),
    Facility.SWIMMING_POOL: ("drowning",),
    Facility.NEAR_WATER: ("drowning",),
}


def domains_of(school: School) -> frozenset[str]:
    """The hazard domains a school brings, from its level, ownership and facilities.

    Every school: fire, buildings, infectious disease, public order, safety education;
    primary to vocational and special schools: sports, bullying; junior, senior,
    nine-year and vocational schools: exams; vocational schools: internships; private
    schools: private schools; training institutions: training institutions; facilities:
    canteen and boarding → food, school bus → traffic, laboratory chemicals, construction,
    swimming pool or water nearby → drowning.
    """
    found = set(_EVERY_SCHOOL)
    if school.level in _K12:
        found.update(("sports", "bullying"))
    if school.level in _EXAMS:
        found.add("exams")
    if school.level is SchoolLevel.VOCATIONAL:
        found.add("internships")
    if school.level is SchoolLevel.TRAINING:
        found.add("training_institutions")
    if school.ownership is Ownership.PRIVATE:
        found.add("private_schools")
    for facility in school.facilities:
        found.update(_FACILITY_DOMAINS.get(facility, ()))
    return frozenset(found)


# -- the analysis ---------------------------------------------------------------------------------


def analyse(
    org: Organisation,
    *,
    capacity: int = DEFAULT_CAPACITY,
    on: dt.date | None = None,
    domains: Callable[[School], Iterable[str]] = domains_of,
) -> CoverageReport:
    """Check *org* for responsibility gaps.

    :param capacity: dedicated inspection visits one inspector can make in a quarter.
    :param on: check the packages and in-charge edges in force on this date only.
    :param domains: which hazard domains a school brings (default :func:`domains_of`).
    """
    return Coverage(org, capacity=capacity, on=on, domains=domains).report()


class Coverage:
    """The coverage analysis of one organisation, with what-if questions.

    >>> import dualduty
    >>> from dualduty.coverage import Coverage
    >>> cov = Coverage(dualduty.reference_organisation(schools=30))
    >>> cov.report().ok
    True
    >>> [g.kind.value for g in cov.without(post="regulation-safety.head").errors][:1]
    ['broken_chain']
    """

    def __init__(
        self,
        org: Organisation,
        *,
        capacity: int = DEFAULT_CAPACITY,
        on: dt.date | None = None,
        domains: Callable[[School], Iterable[str]] = domains_of,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.org = org
        self.capacity = capacity
        self.on = on
        self.domains = domains

    def report(self) -> CoverageReport:
        """All gaps of the organisation."""
        return _Analysis(self.org, self.capacity, self.on, self.domains).run()

    def without(self, *, post: str | None = None, person: str | None = None) -> CoverageReport:
        """The report if a post fell vacant, or a person left every post they hold."""
        if post is None and person is None:
            raise TypeError("name a post or a person")
        graph = OrgGraph(self.org)
        vacate: set[str] = set()
        if post is not None:
            graph.post(post)  # raises UnknownId for a typo
            vacate.add(post)
        if person is not None:
            vacate.update(p.id for p in graph.posts_of(person))
        units = tuple(
            attrs.evolve(
                u,
                posts=tuple(
                    attrs.evolve(p, holder=None, since=None) if p.id in vacate else p
                    for p in u.posts
                ),
            )
            for u in self.org.units
        )
        changed = attrs.evolve(self.org, units=units)
        return _Analysis(changed, self.capacity, self.on, self.domains).run()

    def school_holders(self) -> pandas.DataFrame:
        """A schools × holders matrix: 1 where the holder holds a package of the school."""
        pd = _pandas()
        graph = OrgGraph(self.org, on=self.on)
        targets = [s.id for s in self.org.schools] or [p.id for p in self.org.places]
        rows = {t: {p.holder: 1 for p in graph.packages_of(t)} for t in targets}
        return pd.DataFrame.from_dict(rows, orient="index").fillna(0).astype(int)

    def domain_sections(self) -> pandas.DataFrame:
        """A hazard domains × sections matrix: how many of each section's duties name it."""
        pd = _pandas()
        rows: dict[str, dict[str, int]] = defaultdict(dict)
        for unit in self.org.units:
            if unit.kind not in SECTION_KINDS:
                continue
            for duty in unit.duties:
                if duty.kind is DutyKind.SAFETY:
                    for domain in duty.hazards:
                        rows[domain][unit.id] = rows[domain].get(unit.id, 0) + 1
        return pd.DataFrame.from_dict(rows, orient="index").fillna(0).astype(int).sort_index()


_CHAIN_CLAUSE = {
    ChainLevel.STAFF: "三.1",
    ChainLevel.SECTION_HEAD: "二(三).1",
    ChainLevel.IN_CHARGE: "二(二)",
    ChainLevel.LEADER: "二(二).组长",
}


class _Analysis:
    def __init__(
        self,
        org: Organisation,
        capacity: int,
        on: dt.date | None,
        domains: Callable[[School], Iterable[str]],
    ) -> None:
        self.org = org
        self.capacity = capacity
        self.domains = domains
        self.graph = OrgGraph(org, on=on)
        self.gaps: list[Gap] = []
        # (subject, level) -> (cause, what is broken, schools affected, since when)
        self.breaks: dict[
            tuple[str, ChainLevel], tuple[str, list[str], dict[str, None], dt.date | None]
        ] = {}

    def add(
        self,
        kind: GapKind,
        severity: Severity,
        subject: str,
        clause: str,
        message: str,
        *,
        schools: Iterable[str] = (),
        since: dt.date | None = None,
    ) -> None:
        self.gaps.append(Gap(kind, severity, subject, clause, message, tuple(schools), since))

    def run(self) -> CoverageReport:
        self.leadership()
        self.units()
        self.packages()
        self.hazards()
        self.chains()
        self.load()
        order = {Severity.ERROR: 0, Severity.WARNING: 1}
        gaps = sorted(self.gaps, key=lambda g: order[g.severity])  # stable: checks' order kept
        return CoverageReport(self.org.id, tuple(gaps))

    # -- 一: the leading group ------------------------------------------------------------

    def leadership(self) -> None:
        group = self.graph.leading_group()
        subject = f"organisation:{self.org.id}"
        if group is None:
            self.add(
                GapKind.NO_LEADING_GROUP,
                Severity.ERROR,
                subject,
                "一",
                "there is no leading group (领导小组)",
            )
        elif self.graph.leader() is None:
            self.add(
                GapKind.NO_LEADING_GROUP,
                Severity.ERROR,
                f"unit:{group.id}",
                "一",
                f"the leading group {group.name} has no leader (组长) post",
            )

    # -- 二(二), 二(三): sections ----------------------------------------------------------

    def units(self) -> None:
        for unit in self.org.units:
            subject = f"unit:{unit.id}"
            if unit.kind in SECTION_KINDS:
                covered = {d.area for d in unit.duties if d.kind is DutyKind.SAFETY and d.area}
                for area in unit.areas:
                    if area.id not in covered:
                        self.add(
                            GapKind.UNCOVERED_AREA,
                            Severity.ERROR,
                            subject,
                            "二(三).2",
                            f"{unit.name} runs {area.name} ({area.id}) but none of its safety "
                            "duties covers it (管业务必管安全)",
                        )
                head = self.graph.head_of(unit.id)
                if head is None:
                    self.add(
                        GapKind.NO_HEAD,
                        Severity.ERROR,
                        subject,
                        "二(三).1",
                        f"{unit.name} has no head post to answer for its safety work",
                    )
                elif head.role is not Role.SECTION_HEAD:
                    self.add(
                        GapKind.HEAD_NOT_SECTION_HEAD,
                        Severity.WARNING,
                        subject,
                        "二(三).1",
                        f"{unit.name} is headed by {head.title} ({head.id}), a "
                        f"{head.role.value} post, not a section head",
                    )
                # a grade group nested in a section is in the charge of that section's deputy
                nested = unit.kind is UnitKind.GRADE_GROUP and unit.parent is not None
                if not nested and not self.graph.in_charge_of(unit.id):
                    self.add(
                        GapKind.NOT_IN_CHARGE,
                        Severity.ERROR,
                        subject,
                        "二(二)",
                        f"no deputy or member of the leading group is in charge of "
                        f"{unit.name} (分管)",
                    )

    # -- 三.1: packages -------------------------------------------------------------------

    def _targets(self) -> list[tuple[str, str, str]]:
        """(kind, id, name) of what must be packaged: schools, or a school's places."""
        if self.org.kind is OrgKind.BUREAU or self.org.schools:
            return [("school", s.id, s.name) for s in self.org.schools]
        return [("place", p.id, p.name) for p in self.org.places]

    def packages(self) -> None:
        units = {u.id for u in self.org.units}
        parents = {p.id: p.parent for p in self.org.places}
        children: dict[str, list[str]] = defaultdict(list)
        for place in self.org.places:
            if place.parent is not None:
                children[place.parent].append(place.id)

        def direct(target: str) -> tuple[list[str], list[str]]:
            leaders: list[str] = []
            sections: list[str] = []
            for package in self.graph.packages_of(target):
                (sections if package.holder in units else leaders).append(package.holder)
            return leaders, sections

        def covered_below(target: str, which: int) -> bool:
            # a place whose every part (class of a grade, …) is packaged is covered too
            parts = children.get(target, ())
            return bool(parts) and all(
                direct(part)[which] or covered_below(part, which) for part in parts
            )

        for kind, target, name in self._targets():
            leaders, sections = direct(target)
            if kind == "place":  # a place is also covered by its ancestors' packages
                node = parents.get(target)
                while node is not None:
                    up_leaders, up_sections = direct(node)
                    leaders += up_leaders
                    sections += up_sections
                    node = parents.get(node)
            subject = f"{kind}:{target}"
            if not leaders and not (kind == "place" and covered_below(target, 0)):
                self.add(
                    GapKind.NO_LEADER_PACKAGE,
                    Severity.ERROR,
                    subject,
                    "三.1",
                    f"{name} has no leading-group member holding its package (分包)",
                )
            if not sections and not (kind == "place" and covered_below(target, 1)):
                self.add(
                    GapKind.NO_SECTION_PACKAGE,
                    Severity.ERROR,
                    subject,
                    "三.1",
                    f"{name} has no section holding its package (分包)",
                )
            for holders, what in ((leaders, "leading-group members"), (sections, "sections")):
                if len(set(holders)) > 1:
                    self.add(
                        GapKind.PACKAGED_TWICE,
                        Severity.WARNING,
                        subject,
                        "三.1",
                        f"{name} is packaged by {len(set(holders))} {what} "
                        f"({', '.join(sorted(set(holders)))}): who answers for it?",
                    )

    # -- 二(四): hazard domains, and the chains ---------------------------------------------

    def hazards(self) -> None:
        graph = self.graph
        registry = self.org.hazard_domain_registry()
        present: dict[str, list[str]] = defaultdict(list)
        for school in self.org.schools:
            for domain in sorted(self.domains(school)):
                present[domain].append(school.id)
        for domain in sorted(present):
            label = registry[domain].name if domain in registry else domain
            owners = graph.owners_of(domain) if domain in registry else ()
            if not owners:
                self.add(
                    GapKind.UNOWNED_DOMAIN,
                    Severity.ERROR,
                    f"domain:{domain}",
                    "二(四)",
                    f"{len(present[domain])} schools have {label} ({domain}) hazards, but no "
                    "section's safety duty names it",
                    schools=present[domain],
                )
            elif not any(self._complete(self._business_chain(u.id, domain)) for u in owners):
                self._broken(
                    self._business_chain(owners[0].id, domain),
                    f"{label} ({domain})",
                    schools=present[domain],
                )
        # package chains: once per holder, with the schools each one reaches
        reached: dict[str, list[str]] = defaultdict(list)
        sample: dict[str, str] = {}
        for _kind, target, _name in self._targets():
            for package in graph.packages_of(target):
                reached[package.id].append(target)
                sample.setdefault(package.id, target)
        for package in self.org.packages:
            if package.id not in sample:
                continue
            for chain in graph.chains(sample[package.id]):
                if chain.package is not None and chain.package.id == package.id:
                    self._broken(chain, f"package {package.id}", reached[package.id])

    def _business_chain(self, unit_id: str, domain: str) -> ResponsibilityChain | None:
        schools = self.org.schools
        if not schools:
            return None
        for chain in self.graph.chains(schools[0].id, domain):
            unit = chain.unit
            if chain.basis is ChainBasis.BUSINESS_LINE and unit is not None and unit.id == unit_id:
                return chain
        return None

    @staticmethod
    def _complete(chain: ResponsibilityChain | None) -> bool:
        return chain is not None and chain.complete

    def _broken(self, chain: ResponsibilityChain | None, what: str, schools: list[str]) -> None:
        """Note what breaks *chain*; one gap per missing link is written by :meth:`chains`."""
        if chain is None or chain.complete:
            return
        where = chain.unit.name if chain.unit is not None else "the leading group"
        for level in chain.missing:
            vacant = [link.post for link in chain.links if link.level is level]
            since: dt.date | None = None
            if vacant:
                posts = ", ".join(f"{p.title} ({p.id})" for p in vacant)
                key = (f"post:{vacant[0].id}", level)
                # the link broke when the last of its posts fell vacant
                since = max((p.since for p in vacant if p.since is not None), default=None)
                verb = "is" if len(vacant) == 1 else "are"
                cause = f"the {level.value.replace('_', ' ')} post {posts} {verb} vacant"
                if since is not None:
                    cause += f" since {since.isoformat()}"
            elif chain.unit is not None and level in (
                ChainLevel.SECTION_HEAD,
                ChainLevel.IN_CHARGE,
            ):
                continue  # the root cause is its own gap: no_head or not_in_charge
            else:
                subject = f"unit:{chain.unit.id}" if chain.unit is not None else "leading group"
                key = (subject, level)
                cause = f"{where} has no {level.value.replace('_', ' ')} on the chain"
            found = self.breaks.setdefault(key, (cause, [], {}, since))
            found[1].append(what)
            found[2].update(dict.fromkeys(schools))

    def chains(self) -> None:
        """One gap per missing or vacant link, with everything it breaks."""
        for (subject, level), (cause, what, schools, since) in self.breaks.items():
            shown = ", ".join(what[:5]) + (f" and {len(what) - 5} more" if len(what) > 5 else "")
            self.add(
                GapKind.BROKEN_CHAIN,
                Severity.ERROR,
                subject,
                _CHAIN_CLAUSE[level],
                f"{cause}: the chain of responsibility (staff → section head → in charge → "
                f"leader) is broken for {shown}, at {len(schools)} schools",
                schools=schools,
                since=since,
            )

    # -- 三.2: load and single points of failure ----------------------------------------------

    def load(self) -> None:
        rate = self.org.rules.inspections_per_school_per_quarter
        visits: Counter[str] = Counter()
        schools_of: dict[str, list[str]] = defaultdict(list)
        shared: Counter[str] = Counter()
        posts = {p.id: p for _u, p in self.org.iter_posts()}
        units = {u.id: u for u in self.org.units}
        for package in self.org.packages:
            targets = package.targets
            if not targets:
                continue
            if package.holder in posts:
                inspectors: tuple[str, ...] = (package.holder,)
            elif package.staff:
                inspectors = package.staff
            else:  # a section without named staff: its staff posts share the visits
                unit = units.get(package.holder)
                inspectors = tuple(p.id for p in unit.posts if p.role is Role.STAFF) if unit else ()
                if not inspectors and unit is not None and unit.head_post:
                    inspectors = (unit.head_post,)
            for inspector in inspectors:
                visits[inspector] += -(-len(targets) * rate // len(inspectors))  # rounded up
                shared[inspector] = max(shared[inspector], len(inspectors))
                schools_of[inspector].extend(targets)
            if package.holder in units and len(package.staff) == 1:
                (only,) = package.staff
                post = posts.get(only)
                title = post.title if post else only
                self.add(
                    GapKind.SINGLE_POINT,
                    Severity.WARNING,
                    f"post:{only}",
                    "三.2",
                    f"{title} ({only}) is the only inspector named for package {package.id}: "
                    f"if the post falls vacant, {len(targets)} schools lose their inspector",
                    schools=targets,
                )
        for inspector, count in sorted(visits.items()):
            if count > self.capacity:
                post = posts.get(inspector)
                title = post.title if post else inspector
                self.add(
                    GapKind.OVER_CAPACITY,
                    Severity.WARNING,
                    f"post:{inspector}",
                    "三.2",
                    f"{title} ({inspector}) has {count} dedicated inspection visits a quarter "
                    f"to make ({len(schools_of[inspector])} schools × {rate}"
                    + (f", shared by {shared[inspector]}" if shared[inspector] > 1 else "")
                    + f"), above the capacity of {self.capacity}",
                    schools=schools_of[inspector],
                )
