"""School packages (分包学校, clause 三.1) planned for an organisation.

:func:`plan_packages` gives every school exactly one leading-group holder and exactly one
section holder, balanced by load, with the most affinity and the fewest changes from
last year, and returns the organisation with its fresh packages, the quality of the plan
and why it looks the way it does. It builds two :class:`AssignmentProblem`\\ s (see
:func:`package_problems`) and solves them with :func:`solve_assignment`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs

from dualduty.model import (
    LEADING_ROLES,
    Organisation,
    Package,
    Post,
    RiskLevel,
    Role,
    School,
    SchoolLevel,
    Unit,
    UnitKind,
)

from ._assign import (
    BALANCE_GOAL,
    AffinityCosts,
    Assignment,
    AssignmentProblem,
    Holder,
    Item,
    PlanningError,
    headline_json,
    solve_many,
)
from ._flow import PackageSolver

__all__ = [
    "DEFAULT_AFFINITIES",
    "LEADER_SHARE",
    "LEADING_GROUP",
    "SECTIONS",
    "PackagePlan",
    "PlanQuality",
    "default_weight",
    "package_problems",
    "package_solver",
    "plan_packages",
]

#: The name of the leading-group problem (its holders are leading-group posts).
LEADING_GROUP: Final = "leading_group"
#: The name of the section problem (its holders are sections and centres).
SECTIONS: Final = "sections"

#: The leader's (组长's) share of the load, against 1 for a deputy or member: the
#: leader answers for everything and packages fewer schools himself.
LEADER_SHARE: Final = 0.5

#: Which section owns which kind of school, by the reference plan (二(四)): the
#: private-education section (民教科) supervises private schools, kindergartens and
#: training institutions; the vocational and adult education section (成职教科)
#: vocational and adult schools. Keys are :class:`~dualduty.SchoolLevel` values and
#: :class:`~dualduty.Ownership` values; values are unit ids. Pass your own mapping as
#: ``affinities=`` for another organisation.
DEFAULT_AFFINITIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "private": "private-education",
        "kindergarten": "private-education",
        "training": "private-education",
        "vocational": "vocational-adult",
        "adult": "vocational-adult",
    }
)

_LEVEL_EXTRA: Final[Mapping[SchoolLevel, int]] = MappingProxyType(
    {
        SchoolLevel.KINDERGARTEN: 2,
        SchoolLevel.PRIMARY: 0,
        SchoolLevel.JUNIOR: 1,
        SchoolLevel.SENIOR: 2,
        SchoolLevel.NINE_YEAR: 1,
        SchoolLevel.VOCATIONAL: 3,
        SchoolLevel.SPECIAL: 3,
        SchoolLevel.ADULT: 0,
        SchoolLevel.TRAINING: 0,
    }
)
_RISK_QUARTERS: Final[Mapping[RiskLevel, int]] = MappingProxyType(
    {RiskLevel.LOW: 4, RiskLevel.MEDIUM: 5, RiskLevel.HIGH: 7}
)


def default_weight(school: School) -> int:
    """The load a school brings to whoever packages it: a whole number, 1 or more.

    ``(4 + ⌈students / 250⌉ + level extra) × risk factor``, rounded down, where the level
    extra is 2 for kindergartens (young children) and senior schools (boarding, exams), 3
    for vocational schools (workshops, internships) and special schools (vulnerable
    pupils), 1 for junior and nine-year schools, 0 otherwise; the risk factor is 1 for
    low, 1.25 for medium and 1.75 for high risk. A visit has a fixed part (4); larger
    campuses take longer.

    >>> from dualduty import School, SchoolLevel, RiskLevel
    >>> from dualduty.planning import default_weight
    >>> default_weight(School("s1", "城关镇第一小学", SchoolLevel.PRIMARY, students=1200))
    11
    >>> default_weight(
    ...     School("k1", "阳光幼儿园", SchoolLevel.KINDERGARTEN, students=150, risk=RiskLevel.HIGH)
    ... )
    12
    """
    base = 4 + math.ceil(school.students / 250) + _LEVEL_EXTRA.get(school.level, 0)
    return max(1, base * _RISK_QUARTERS.get(school.risk, 4) // 4)


# -- results ---------------------------------------------------------------------------------


@attrs.frozen
class PlanQuality:
    """The quality of a whole plan: both kinds of package together.

    ``max_load_over_lower_bound`` is the worse of the two problems'; the affinity costs
    and optima are summed; ``kept_share`` counts (school, kind of holder) pairs that had
    a holder last year (``None`` without a previous plan).
    """

    max_load_over_lower_bound: float
    affinity_cost: int
    affinity_optimum: int
    kept_share: float | None

    def to_json(self) -> dict[str, Any]:
        """The figures as ``dualduty packages --format json`` prints them."""
        return headline_json(self)


@attrs.frozen
class PackagePlan:
    """A plan of school packages: the new organisation, its quality and the reasons."""

    organisation: Organisation
    """The organisation with fresh packages, one per holder with schools
    (``pkg-lg-<post>`` and ``pkg-<unit>``, a section's naming its staff posts); packages
    of places are kept."""
    leading_group: Assignment
    """The assignment of schools to leading-group posts."""
    sections: Assignment
    """The assignment of schools to sections and centres."""
    quality: PlanQuality
    """The quality of the whole plan."""
    inspectors: Mapping[str, str]
    """School → the staff post of its section that makes the visits: a section's schools
    spread over its staff, heaviest first, balanced by weight."""
    explanation: tuple[str, ...]
    """Why the plan looks the way it does, one sentence each."""

    def to_json(self) -> dict[str, Any]:
        """``{"quality": …, "problems": {kind: quality}, "explanation": […]}``."""
        return {
            "quality": self.quality.to_json(),
            "problems": {
                a.name: {
                    **a.quality.to_json(),
                    "lower_bound": round(a.quality.lower_bound, 3),
                    "weighted_affinity_cost": a.quality.weighted_affinity_cost,
                    "flow_optimum": a.quality.flow_optimum,
                    "holders": len(a.loads),
                    "solver": a.quality.solver,
                }
                for a in (self.leading_group, self.sections)
            },
            "explanation": list(self.explanation),
        }


# -- from the organisation to the problems ------------------------------------------------------


def _held(posts: Iterable[Post], anyone: bool) -> list[Post]:
    return [p for p in posts if anyone or p.holder is not None]


def _holders(
    org: Organisation,
    leader_share: float,
    shares: Mapping[str, float],
    limits: Mapping[str, int],
    notes: list[str],
) -> tuple[list[Holder], list[Holder], dict[str, Unit]]:
    """The holders of both problems: held leading-group posts, and staffed sections."""
    # a file that names nobody plans over the posts as they stand
    anyone = not any(p.holder for _u, p in org.iter_posts())
    if anyone and any(True for _ in org.iter_posts()):
        notes.append("no post is held by anyone: planning over every post as if filled")
    leading: list[Holder] = []
    sections: list[Holder] = []
    section_units: dict[str, Unit] = {}
    for unit in org.units:
        if unit.kind is UnitKind.LEADING_GROUP:
            for post in unit.posts:
                if post.role not in LEADING_ROLES:
                    continue
                if post.holder is None and not anyone:
                    notes.append(
                        f"leading group: {post.title} ({post.id}) is vacant and gets no schools"
                    )
                    continue
                share = leader_share if post.role is Role.LEADER else 1.0
                leading.append(Holder(post.id, shares.get(post.id, share), limits.get(post.id)))
        elif unit.kind in (UnitKind.SECTION, UnitKind.CENTRE):
            staff = _held((p for p in unit.posts if p.role is Role.STAFF), anyone)
            held = _held(unit.posts, anyone)
            if not held:
                notes.append(
                    f"sections: {unit.name} ({unit.id}) has no one in post and gets no schools"
                )
                continue
            share = float(len(staff) or 1)
            sections.append(Holder(unit.id, shares.get(unit.id, share), limits.get(unit.id)))
            section_units[unit.id] = unit
    return leading, sections, section_units


def _previous_holders(previous: Organisation | None) -> tuple[dict[str, str], dict[str, str]]:
    """School → last year's leading-group holder, and → last year's section holder.

    A holder that no longer exists is passed on all the same: the planner drops it with a
    note. A school in two packages of one kind keeps the first by package id.
    """
    if previous is None:
        return {}, {}
    prev_units = {u.id for u in previous.units}
    leading: dict[str, str] = {}
    section: dict[str, str] = {}
    for package in sorted(previous.packages, key=lambda p: p.id):
        target = section if package.holder in prev_units else leading
        for school in package.schools:
            target.setdefault(school, package.holder)
    return leading, section


def _split_pairs(
    pairs: Iterable[tuple[str, str]], leading: set[str], sections: set[str], what: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    lead: list[tuple[str, str]] = []
    sect: list[tuple[str, str]] = []
    for school, holder in pairs:
        if holder in leading:
            lead.append((school, holder))
        elif holder in sections:
            sect.append((school, holder))
        else:
            raise PlanningError(
                f"{what} ({school}, {holder}): {holder!r} is neither a leading-group post nor a "
                "section that can hold packages"
            )
    return lead, sect


def package_problems(
    org: Organisation,
    *,
    previous: Organisation | None = None,
    pins: Iterable[tuple[str, str]] = (),
    exclusions: Iterable[tuple[str, str]] = (),
    weight: Callable[[School], int] = default_weight,
    affinities: Mapping[str, str] = DEFAULT_AFFINITIES,
    leader_share: float = LEADER_SHARE,
    shares: Mapping[str, float] | None = None,
    limits: Mapping[str, int] | None = None,
    costs: AffinityCosts | None = None,
    notes: list[str] | None = None,
) -> tuple[AssignmentProblem, AssignmentProblem]:
    """The leading-group and the section problem of *org*, as :func:`plan_packages` builds them.

    Holders are the leading group's held posts (the leader with *leader_share*, the
    others 1) and every section and centre with someone in post (share: its staff
    posts, at least 1); *shares* and *limits* (hard capacities in weight) override per
    holder id. Schools weigh :func:`default_weight` (or *weight*), sit in their township,
    are owned by the sections *affinities* gives for their level and ownership, and had
    the holders of *previous*'s packages.
    """
    notes = [] if notes is None else notes
    shares = shares or {}
    limits = limits or {}
    leading, sections, _units = _holders(org, leader_share, shares, limits, notes)
    lead_ids = {h.id for h in leading}
    sect_ids = {h.id for h in sections}
    unknown = sorted(set(affinities.values()) - sect_ids)
    for unit_id in unknown:
        keys = ", ".join(sorted(k for k, v in affinities.items() if v == unit_id))
        notes.append(
            f"sections: affinity of {keys} with {unit_id!r} ignored: no such section holds "
            "packages here"
        )
    prev_lead, prev_sect = _previous_holders(previous)
    lead_items: list[Item] = []
    sect_items: list[Item] = []
    for school in org.schools:
        w = weight(school)
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise PlanningError(f"weight of school {school.id}: expected an int >= 1, got {w!r}")
        owners = {
            affinities[key]
            for key in (school.level.value, school.ownership.value)
            if key in affinities and affinities[key] in sect_ids
        }
        lead_items.append(Item(school.id, w, school.township, (), prev_lead.get(school.id)))
        sect_items.append(Item(school.id, w, school.township, owners, prev_sect.get(school.id)))
    pin_l, pin_s = _split_pairs(pins, lead_ids, sect_ids, "pin")
    ex_l, ex_s = _split_pairs(exclusions, lead_ids, sect_ids, "exclusion")
    costs = costs or AffinityCosts()
    return (
        AssignmentProblem(lead_items, leading, pin_l, ex_l, costs, LEADING_GROUP),
        AssignmentProblem(sect_items, sections, pin_s, ex_s, costs, SECTIONS),
    )


def _spread(schools: Iterable[str], weight: Mapping[str, int], staff: list[str]) -> dict[str, str]:
    """School → staff post: heaviest school first to the least loaded staff (ties by id)."""
    load = dict.fromkeys(staff, 0)
    out: dict[str, str] = {}
    for school in sorted(schools, key=lambda s: (-weight[s], s)):
        post = min(staff, key=lambda p: (load[p], p))
        load[post] += weight[school]
        out[school] = post
    return out


def package_solver(name: str) -> PackageSolver:
    """The package solver a plugin registered under *name* (``"networkx"`` is built in).

    >>> from dualduty.planning import package_solver
    >>> package_solver("networkx").name
    'networkx'

    :raises PlanningError: when no plugin registers a solver of that name; the message
        lists the names that are registered.
    """
    from dualduty.plugins import hooks

    solvers = hooks().package_solvers()
    if name not in solvers:
        known = ", ".join(sorted(solvers)) or "none"
        raise PlanningError(
            f"no package solver named {name!r} (registered: {known}); a solver comes from "
            "a plugin, such as dualduty-ortools for 'ortools'"
        )
    return solvers[name]


def plan_packages(
    org: Organisation,
    *,
    previous: Organisation | None = None,
    pins: Iterable[tuple[str, str]] = (),
    exclusions: Iterable[tuple[str, str]] = (),
    solver: PackageSolver | str | None = None,
    seed: int = 0,
    weight: Callable[[School], int] = default_weight,
    affinities: Mapping[str, str] = DEFAULT_AFFINITIES,
    leader_share: float = LEADER_SHARE,
    shares: Mapping[str, float] | None = None,
    limits: Mapping[str, int] | None = None,
    costs: AffinityCosts | None = None,
    balance_goal: float = BALANCE_GOAL,
    start: dt.date | None = None,
    workers: int | None = 1,
) -> PackagePlan:
    """Plan the school packages of *org*: one leading-group and one section holder per school.

    Loads are balanced per unit of share (the leader carries *leader_share* of a
    deputy's load; a section as many shares as it has staff); among balanced plans the
    one with the least affinity cost is taken: a school goes to the section that owns
    its type (*affinities*), to a holder whose other schools are in its township, and
    keeps last year's holder (*previous*'s packages) unless balance is over
    *balance_goal*. Pins always hold; exclusions never happen; no holder goes over its
    hard limit (*limits*, in weight).

    >>> import dualduty
    >>> from dualduty.planning import plan_packages
    >>> plan = plan_packages(dualduty.reference_organisation(schools=60))
    >>> plan.quality.max_load_over_lower_bound < 1.1
    True
    >>> again = plan_packages(plan.organisation, previous=plan.organisation)
    >>> again.quality.kept_share
    1.0

    :param pins: ``(school, holder)`` pairs that must hold; the holder is a post id or
        a unit id, which says which kind of package is pinned.
    :param exclusions: ``(school, holder)`` pairs that must not.
    :param solver: the min-cost-flow solver: a :class:`PackageSolver`, or the name of one
        a plugin registers (:func:`~dualduty.hookspecs.dualduty_register_package_solvers`;
        ``"networkx"`` is built in). Default: the built-in networkx solver.
    :param seed: seeds the few random candidate holders; the same seed, the same plan.
    :param weight: a school's load (default :func:`default_weight`).
    :param shares: holder id → share of the load, overriding the defaults.
    :param start: the date the new packages start (``Package.start``).
    :param workers: processes for the two problems (``None``: one per CPU).
    :raises InfeasiblePlan: when no plan meets the pins, exclusions and limits; its
        explanation names the schools and holders involved.
    :raises PlanningError: for a pin or exclusion naming an unknown school or holder.
    """
    if isinstance(solver, str):
        solver = package_solver(solver)
    notes: list[str] = []
    lead_problem, sect_problem = package_problems(
        org,
        previous=previous,
        pins=pins,
        exclusions=exclusions,
        weight=weight,
        affinities=affinities,
        leader_share=leader_share,
        shares=shares,
        limits=limits,
        costs=costs,
        notes=notes,
    )
    lead, sect = solve_many(
        [lead_problem, sect_problem],
        solver=solver,
        seed=seed,
        balance_goal=balance_goal,
        workers=workers,
    )
    weights = {it.id: it.weight for it in sect_problem.items}
    units = {u.id: u for u in org.units}
    packages: list[Package] = [p for p in org.packages if not p.schools]
    taken = {p.id for p in packages}

    def fresh(stem: str) -> str:
        pid, k = stem, 2
        while pid in taken:
            pid, k = f"{stem}-{k}", k + 1
        taken.add(pid)
        return pid

    inspectors: dict[str, str] = {}
    for holder in sorted(lead.loads):
        schools = lead.items_of(holder)
        if schools:
            packages.append(Package(fresh(f"pkg-lg-{holder}"), holder, schools, start=start))
    anyone = not any(p.holder for _u, p in org.iter_posts())
    for holder in sorted(sect.loads):
        schools = sect.items_of(holder)
        if not schools:
            continue
        unit = units[holder]
        staff = [p.id for p in unit.posts if p.role is Role.STAFF and (anyone or p.holder)]
        packages.append(Package(fresh(f"pkg-{holder}"), holder, schools, staff=staff, start=start))
        doers = staff or ([unit.head_post] if unit.head_post else [])
        if doers:
            inspectors.update(_spread(schools, weights, doers))
    new_org = attrs.evolve(org, packages=packages)

    pairs = [(a, it) for a, p in ((lead, lead_problem), (sect, sect_problem)) for it in p.items]
    with_prev = [(a, it) for a, it in pairs if it.previous and it.previous in a.loads]
    kept = (
        sum(a.holder_of[it.id] == it.previous for a, it in with_prev) / len(with_prev)
        if with_prev
        else None
    )
    quality = PlanQuality(
        max(lead.quality.max_load_over_lower_bound, sect.quality.max_load_over_lower_bound),
        lead.quality.affinity_cost + sect.quality.affinity_cost,
        lead.quality.affinity_optimum + sect.quality.affinity_optimum,
        kept,
    )
    notes.extend(_affinity_notes(sect_problem, sect))
    explanation = (*notes, *lead.notes, *sect.notes)
    return PackagePlan(new_org, lead, sect, quality, MappingProxyType(inspectors), explanation)


def _affinity_notes(problem: AssignmentProblem, result: Assignment) -> list[str]:
    """How many schools each owning section got of the schools it owns, and why not all."""
    owned: dict[str, list[str]] = defaultdict(list)
    for item in problem.items:
        for owner in item.owners:
            owned[owner].append(item.id)
    out: list[str] = []
    for owner in sorted(owned):
        got = sum(result.holder_of[s] == owner for s in owned[owner])
        total = len(owned[owner])
        line = f"sections: {owner} owns the type of {total} schools and packages {got} of them"
        kept = sum(
            result.holder_of[it.id] != owner and result.holder_of[it.id] == it.previous
            for it in problem.items
            if owner in it.owners
        )
        rest = total - got - kept
        if kept:
            line += f"; {kept} keep last year's holder"
        if rest:
            line += (
                f"; {rest} go elsewhere because its load ({result.loads[owner]}) is at its "
                "share of the whole"
            )
        out.append(line)
    return out
