"""The organisation under 一岗双责: units, posts, people, duties, schools and packages.

All classes are frozen attrs classes; collections are tuples or frozensets. Field
validators check each value on its own; cross-references (a package naming a school
that exists, an office seated in a real section, …) are checked by
:meth:`Organisation.problems` and :meth:`Organisation.validated`, which report every
problem at once with its path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import attrs

from dualduty.errors import InvalidOrganisation, Problem

from ._checks import (
    check_date,
    check_id,
    check_ids,
    check_non_negative,
    check_optional,
    check_text,
)
from .enums import (
    ActivityVerb,
    DutyKind,
    Facility,
    OrgKind,
    Ownership,
    PlaceKind,
    RiskLevel,
    Role,
    SchoolLevel,
    UnitKind,
)
from .hazards import HazardDomain
from .notify import NotifySettings
from .rules import Rules

__all__ = [
    "Blackout",
    "BusinessArea",
    "Duty",
    "InCharge",
    "Organisation",
    "Package",
    "Person",
    "Place",
    "Post",
    "School",
    "Term",
    "Unit",
]

_opt_id = check_optional(check_id)
_opt_text = check_optional(check_text)
_opt_date = check_optional(check_date)


def _frozen_ids(value: Any) -> frozenset[str]:
    return frozenset(value)


def _frozen(value: Any) -> frozenset[Any]:
    # A typed converter: with ``converter=frozenset`` mypy rejects ``activities={...}``.
    return frozenset(value)


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value)


def _instances(cls: type) -> Any:
    return attrs.validators.deep_iterable(attrs.validators.instance_of(cls))


def _not_before_start(inst: Any, _attribute: attrs.Attribute[Any], end: dt.date) -> None:
    # Runs after every field is set; the message names the field, which a file's
    # loader turns into the path (``blackouts[1].end``).
    if end < inst.start:
        raise ValueError(f"end: ends {end.isoformat()}, before it starts {inst.start.isoformat()}")


@attrs.frozen
class Person:
    """Someone who holds a post (干部). Personal data stays minimal on purpose."""

    id: str = attrs.field(validator=check_id)
    name: str = attrs.field(validator=check_text)
    """Display name, usually Chinese (``"王建国"``)."""
    phone: str | None = attrs.field(default=None, validator=_opt_text)
    email: str | None = attrs.field(default=None, validator=_opt_text)


@attrs.frozen
class Post:
    """A position (岗位) in a unit. Under 一岗双责 every post carries business *and* safety duties.

    ``holder`` is the id of the :class:`Person` holding it, ``None`` when vacant.
    """

    id: str = attrs.field(validator=check_id)
    title: str = attrs.field(validator=check_text)
    """Display title, e.g. ``"局长"`` or ``"规划科科长"``."""
    role: Role = attrs.field(validator=attrs.validators.instance_of(Role))
    holder: str | None = attrs.field(default=None, validator=_opt_id)
    since: dt.date | None = attrs.field(default=None, validator=_opt_date)
    """Since when the post has been as it is, if known: held by its holder, or vacant
    (``holder`` ``None``; the organisation in force on a date sets it from the record)."""


@attrs.frozen
class BusinessArea:
    """A line of business (业务) a unit runs, e.g. school buildings (校舍) or exams (考试)."""

    id: str = attrs.field(validator=check_id)
    name: str = attrs.field(validator=check_text)
    """The Chinese label."""
    name_en: str | None = attrs.field(default=None, validator=_opt_text)


@attrs.frozen
class Duty:
    """A duty (职责) with its text from the plan and the clause it comes from.

    A duty belongs to the unit that lists it (or, for :attr:`Organisation.common_duties`,
    to every unit of the kinds in ``applies_to``). ``role`` narrows it to the posts of
    that role in the unit (组长, 副组长, 成员 in clause 二(二)).
    """

    id: str = attrs.field(validator=check_id)
    text: str = attrs.field(validator=check_text)
    """The duty as the plan words it (Chinese)."""
    clause: str = attrs.field(validator=check_text)
    """Reference into the plan, such as ``"二(四).规划科.1"`` or ``"二(三).2"``."""
    kind: DutyKind = attrs.field(
        default=DutyKind.SAFETY, validator=attrs.validators.instance_of(DutyKind)
    )
    area: str | None = attrs.field(default=None, validator=_opt_id)
    """The business area (of the owning unit) this duty belongs to."""
    hazards: frozenset[str] = attrs.field(
        default=frozenset(), converter=_frozen_ids, validator=check_ids
    )
    """Hazard domain ids this duty answers for."""
    activities: frozenset[ActivityVerb] = attrs.field(
        default=frozenset(),
        converter=_frozen,
        validator=attrs.validators.deep_iterable(attrs.validators.instance_of(ActivityVerb)),
    )
    role: Role | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(Role))
    )
    applies_to: frozenset[UnitKind] = attrs.field(
        default=frozenset(),
        converter=_frozen,
        validator=attrs.validators.deep_iterable(attrs.validators.instance_of(UnitKind)),
    )
    """For common duties only: the kinds of unit the duty applies to."""

    @property
    def is_safety(self) -> bool:
        """Whether this is a safety duty."""
        return self.kind is DutyKind.SAFETY


@attrs.frozen
class Unit:
    """A unit of the organisation: the leading group, its office, a section, a centre, ….

    ``parent`` nests units (a grade group inside a school's teaching office);
    ``seated_in`` is where an office sits (the leading group's office is seated in
    法规安全科, clause 一); ``head_post`` is the post that heads the unit. An office's
    head may be a post of the unit it is seated in (兼任: the section chief directs the
    office).
    """

    id: str = attrs.field(validator=check_id)
    name: str = attrs.field(validator=check_text)
    """The Chinese name, e.g. ``"规划科"``."""
    kind: UnitKind = attrs.field(validator=attrs.validators.instance_of(UnitKind))
    name_en: str | None = attrs.field(default=None, validator=_opt_text)
    parent: str | None = attrs.field(default=None, validator=_opt_id)
    seated_in: str | None = attrs.field(default=None, validator=_opt_id)
    head_post: str | None = attrs.field(default=None, validator=_opt_id)
    clause: str | None = attrs.field(default=None, validator=_opt_text)
    """Where the plan establishes or lists this unit."""
    posts: tuple[Post, ...] = attrs.field(default=(), converter=_tuple, validator=_instances(Post))
    areas: tuple[BusinessArea, ...] = attrs.field(
        default=(), converter=_tuple, validator=_instances(BusinessArea)
    )
    duties: tuple[Duty, ...] = attrs.field(default=(), converter=_tuple, validator=_instances(Duty))


@attrs.frozen
class InCharge:
    """分管: a leading-group post is in charge of these units (clause 二(二))."""

    post: str = attrs.field(validator=check_id)
    """The post in charge (a deputy or member of the leading group)."""
    units: tuple[str, ...] = attrs.field(converter=_tuple, validator=check_ids)
    start: dt.date | None = attrs.field(default=None, validator=_opt_date)
    end: dt.date | None = attrs.field(default=None, validator=_opt_date)


@attrs.frozen
class School:
    """A school supervised by a bureau."""

    id: str = attrs.field(validator=check_id)
    name: str = attrs.field(validator=check_text)
    level: SchoolLevel = attrs.field(validator=attrs.validators.instance_of(SchoolLevel))
    ownership: Ownership = attrs.field(
        default=Ownership.PUBLIC, validator=attrs.validators.instance_of(Ownership)
    )
    students: int = attrs.field(default=0, validator=check_non_negative)
    township: str | None = attrs.field(default=None, validator=_opt_text)
    """The township or street (乡镇 / 街道) the school is in."""
    risk: RiskLevel = attrs.field(
        default=RiskLevel.MEDIUM, validator=attrs.validators.instance_of(RiskLevel)
    )
    facilities: frozenset[Facility] = attrs.field(
        default=frozenset(),
        converter=_frozen,
        validator=attrs.validators.deep_iterable(attrs.validators.instance_of(Facility)),
    )


@attrs.frozen
class Place:
    """Something a school's own plan packages: a grade, a class, an area of the campus."""

    id: str = attrs.field(validator=check_id)
    name: str = attrs.field(validator=check_text)
    kind: PlaceKind = attrs.field(validator=attrs.validators.instance_of(PlaceKind))
    parent: str | None = attrs.field(default=None, validator=_opt_id)
    """The place this one is part of (a class's grade)."""


@attrs.frozen
class Package:
    """分包: a holder answers for a set of schools (a bureau) or places (a school).

    The holder is a post of the leading group or a section-like unit (section, centre,
    grade group); a unit holder may name the ``staff`` posts of that unit who do the
    visits.
    """

    id: str = attrs.field(validator=check_id)
    holder: str = attrs.field(validator=check_id)
    """A leading-group post id or a unit id."""
    schools: tuple[str, ...] = attrs.field(default=(), converter=_tuple, validator=check_ids)
    places: tuple[str, ...] = attrs.field(default=(), converter=_tuple, validator=check_ids)
    staff: tuple[str, ...] = attrs.field(default=(), converter=_tuple, validator=check_ids)
    start: dt.date | None = attrs.field(default=None, validator=_opt_date)
    end: dt.date | None = attrs.field(default=None, validator=_opt_date)

    @property
    def targets(self) -> tuple[str, ...]:
        """The schools and places of this package."""
        return self.schools + self.places


@attrs.frozen
class Term:
    """A school term (学期) or a vacation (寒假, 暑假), for term-time rules (三.2).

    Dedicated inspections fall in term time when the organisation's rules say so
    (:attr:`Rules.inspections_in_term_only <dualduty.Rules.inspections_in_term_only>`).
    Also importable from ``dualduty.calendars``.

    >>> import datetime as dt
    >>> from dualduty.calendars import Term
    >>> Term("2026年春季学期", dt.date(2026, 3, 2), dt.date(2026, 7, 10)).vacation
    False
    """

    name: str = attrs.field(validator=check_text)
    """What it is called, such as ``"2026年春季学期"`` or ``"暑假"``."""
    start: dt.date = attrs.field(validator=check_date)
    """The first day."""
    end: dt.date = attrs.field(validator=[check_date, _not_before_start])
    """The last day (inclusive)."""
    vacation: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    """Whether it is a vacation (寒暑假) rather than a term."""


@attrs.frozen
class Blackout:
    """Days no dedicated inspection may fall on: exam weeks, large events, ….

    Also importable from ``dualduty.calendars``.

    >>> import datetime as dt
    >>> from dualduty.calendars import Blackout
    >>> dt.date(2026, 6, 25) in Blackout("中考", dt.date(2026, 6, 24), dt.date(2026, 6, 26))
    True
    """

    name: str = attrs.field(validator=check_text)
    """What it is, such as ``"中考"`` or ``"运动会"``."""
    start: dt.date = attrs.field(validator=check_date)
    """The first day."""
    end: dt.date = attrs.field(validator=[check_date, _not_before_start])
    """The last day (inclusive; the same as :attr:`start` for one day)."""

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


@attrs.frozen
class Organisation:
    """A bureau or a school under 一岗双责, with everything its plan fixes.

    Build one in Python, load one with :func:`dualduty.load`, or take the reference
    organisation with :func:`dualduty.reference_organisation`. Constructing the class
    checks each value; :meth:`validated` also checks every cross-reference.
    """

    id: str = attrs.field(validator=check_id)
    name: str = attrs.field(validator=check_text)
    kind: OrgKind = attrs.field(
        default=OrgKind.BUREAU, validator=attrs.validators.instance_of(OrgKind)
    )
    timezone: str = attrs.field(default="Asia/Shanghai", validator=check_text)
    as_of: dt.date | None = attrs.field(default=None, validator=_opt_date)
    """The date the organisation is described at, if stated."""
    rules: Rules = attrs.field(factory=Rules, validator=attrs.validators.instance_of(Rules))
    hazard_domains: tuple[HazardDomain, ...] = attrs.field(
        default=(), converter=_tuple, validator=_instances(HazardDomain)
    )
    """Hazard domains added to the built-in ones."""
    people: tuple[Person, ...] = attrs.field(
        default=(), converter=_tuple, validator=_instances(Person)
    )
    units: tuple[Unit, ...] = attrs.field(default=(), converter=_tuple, validator=_instances(Unit))
    common_duties: tuple[Duty, ...] = attrs.field(
        default=(), converter=_tuple, validator=_instances(Duty)
    )
    """Duties every unit of the kinds in each duty's ``applies_to`` carries (clause 二(三))."""
    in_charge: tuple[InCharge, ...] = attrs.field(
        default=(), converter=_tuple, validator=_instances(InCharge)
    )
    schools: tuple[School, ...] = attrs.field(
        default=(), converter=_tuple, validator=_instances(School)
    )
    places: tuple[Place, ...] = attrs.field(
        default=(), converter=_tuple, validator=_instances(Place)
    )
    packages: tuple[Package, ...] = attrs.field(
        default=(), converter=_tuple, validator=_instances(Package)
    )
    terms: tuple[Term, ...] = attrs.field(default=(), converter=_tuple, validator=_instances(Term))
    """School terms and vacations (学期, 寒暑假)."""
    blackouts: tuple[Blackout, ...] = attrs.field(
        default=(), converter=_tuple, validator=_instances(Blackout)
    )
    """Days no dedicated inspection may fall on (exam weeks, large events)."""
    holidays: tuple[str, ...] = attrs.field(default=(), converter=_tuple, validator=_instances(str))
    """Holiday files (statutory holidays and 调休 make-up working days) for years dualduty
    does not ship, as paths relative to the organisation file. The model keeps them as
    written; :func:`dualduty.calendars.calendar_for` reads them."""
    notify: NotifySettings = attrs.field(
        factory=NotifySettings, validator=attrs.validators.instance_of(NotifySettings)
    )
    """Who is told what, through which channel (the ``[notify]`` table): routes, channels,
    contacts and templates; by default the plan's routes through ``console``
    (:mod:`dualduty.model.notify`)."""

    # -- named constructors -------------------------------------------------

    @classmethod
    def validated(cls, *args: Any, **kwargs: Any) -> Organisation:
        """Build an organisation and check every cross-reference.

        :raises dualduty.InvalidOrganisation: listing every problem with its path.
        """
        org = cls(*args, **kwargs)
        org.check()
        return org

    # -- checks ---------------------------------------------------------------

    def problems(self) -> list[Problem]:
        """Every cross-reference problem, in document order (empty when valid)."""
        from .validate import find_problems

        return find_problems(self)

    def check(self, source: str | None = None) -> None:
        """Raise :class:`~dualduty.InvalidOrganisation` if :meth:`problems` finds any."""
        found = self.problems()
        if found:
            raise InvalidOrganisation(found, source)

    # -- plain look-ups -------------------------------------------------------

    def iter_posts(self) -> Iterator[tuple[Unit, Post]]:
        """Every post with the unit it belongs to."""
        for unit in self.units:
            for post in unit.posts:
                yield unit, post

    def duties_of(self, unit: Unit) -> tuple[Duty, ...]:
        """The unit's own duties followed by the common duties that apply to its kind."""
        common = tuple(d for d in self.common_duties if unit.kind in d.applies_to)
        return unit.duties + common

    def all_duties(self) -> Iterator[tuple[Unit | None, Duty]]:
        """Every duty as listed: each unit's own duties, then the common duties (unit ``None``)."""
        for unit in self.units:
            for duty in unit.duties:
                yield unit, duty
        for duty in self.common_duties:
            yield None, duty

    def hazard_domain_registry(self) -> dict[str, HazardDomain]:
        """The built-in hazard domains plus this organisation's own, by id."""
        from .hazards import BUILTIN_HAZARD_DOMAINS

        registry = dict(BUILTIN_HAZARD_DOMAINS)
        registry.update((d.id, d) for d in self.hazard_domains)
        return registry
