"""Hypothesis strategies for model objects.

:func:`organisations` draws whole organisations that pass ``org.problems() == []``:
a leading group (sometimes), sections, centres and grade groups with posts, business
areas and duties (hazards, activities, roles), an office seated in a section and headed
by its own or its seat's post, nested "other" units, common duties, in-charge edges,
schools, places, packages held by leading-group posts or by sections with staff, dates
and non-default :class:`Rules`; school terms and vacations (no two terms, and no two
vacations, overlapping), blackouts and holiday file paths. Every id in one organisation
is distinct.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from hypothesis import strategies as st

from dualduty.calendars import Blackout, Term
from dualduty.model import (
    BUILTIN_HAZARD_DOMAINS,
    DATE_MAX,
    DATE_MIN,
    SECTION_KINDS,
    ActivityVerb,
    AssessmentCategory,
    BusinessArea,
    Duty,
    DutyKind,
    Facility,
    HazardDomain,
    InCharge,
    Organisation,
    OrgKind,
    Ownership,
    Package,
    Person,
    Place,
    PlaceKind,
    Post,
    ReportDue,
    RiskLevel,
    Role,
    Rules,
    School,
    SchoolLevel,
    Unit,
    UnitKind,
)

T = TypeVar("T")

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"

#: Valid ids (ASCII slugs: ``[a-z0-9]``, then ``[a-z0-9_.-]``, ending alphanumeric), short.
ids: st.SearchStrategy[str] = st.sampled_from(_ALNUM) | st.tuples(
    st.sampled_from(_ALNUM), st.text(_ALNUM + "_.-", max_size=10), st.sampled_from(_ALNUM)
).map("".join)

#: Display text: any non-blank text. U+0085 (NEL) is left out: YAML reads it back as a
#: line break (a limit of the format, not of dualduty's model).
texts: st.SearchStrategy[str] = st.text(
    st.characters(codec="utf-8", exclude_characters="\x85"),  # utf-8: no lone surrogates
    min_size=1,
    max_size=12,
).filter(lambda s: bool(s.strip()))

#: Dates a district file may hold.
dates: st.SearchStrategy[dt.date] = st.dates(DATE_MIN, DATE_MAX)

TIMEZONES = ("Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "UTC")


def optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


_optional_texts = optional(texts)
_optional_dates = optional(dates)


def _sorted_pair(
    pair: tuple[dt.date | None, dt.date | None],
) -> tuple[dt.date | None, dt.date | None]:
    start, end = pair
    if start is not None and end is not None and end < start:
        return end, start
    return start, end


#: An optional start and end, in order.
spans: st.SearchStrategy[tuple[dt.date | None, dt.date | None]] = st.tuples(
    optional(dates), optional(dates)
).map(_sorted_pair)

assessment_categories: st.SearchStrategy[tuple[AssessmentCategory, ...]] = st.lists(
    st.builds(AssessmentCategory, id=ids, name=texts, name_en=texts, clause=texts),
    min_size=1,
    max_size=3,
    unique_by=lambda c: c.id,
).map(tuple)

#: Rules, mostly not the plan's defaults.
rules: st.SearchStrategy[Rules] = st.builds(
    Rules,
    topic_studies_per_quarter=st.integers(0, 6),
    inspections_per_school_per_quarter=st.integers(0, 6),
    report_due=st.just(ReportDue.QUARTER_END),
    coordination_meetings_per_quarter=st.integers(0, 3),
    major_hazard_report_hours=st.integers(0, 72),
    summary_meetings_per_year=st.integers(0, 2),
    assessment_categories=assessment_categories,
) | st.just(Rules())


def _subset(
    draw: st.DrawFn, items: Sequence[T], *, min_size: int = 0, max_size: int = 3
) -> list[T]:
    if not items:
        return []
    return draw(st.lists(st.sampled_from(items), min_size=min_size, max_size=max_size, unique=True))


@st.composite
def organisations(draw: st.DrawFn, kind: OrgKind | None = None) -> Organisation:
    """A valid organisation (``org.problems() == []``); *kind* fixes its :class:`OrgKind`."""
    used: set[str] = set()

    def fresh() -> str:
        new = draw(ids)
        while new in used:  # still a valid id; cheaper than filtering
            new += "0"
        used.add(new)
        return new

    def maybe_text() -> str | None:
        return draw(_optional_texts)

    def maybe_date() -> dt.date | None:
        return draw(_optional_dates)

    def pick(items: Sequence[T]) -> T | None:
        """One of *items* or None (drawn as an index: cheaper than a new strategy)."""
        index = draw(st.integers(-1, len(items) - 1))
        return None if index < 0 else items[index]

    def many(make: Callable[[], T], most: int, least: int = 0) -> list[T]:
        return [make() for _ in range(draw(st.integers(least, most)))]

    hazard_domains = many(lambda: HazardDomain(fresh(), draw(texts), draw(texts)), 2)
    hazard_ids = sorted(BUILTIN_HAZARD_DOMAINS) + [h.id for h in hazard_domains]
    people = many(lambda: Person(fresh(), draw(texts), phone=maybe_text(), email=maybe_text()), 4)
    person_ids = [p.id for p in people]

    def post(role: Role) -> Post:
        return Post(fresh(), draw(texts), role, holder=pick(person_ids), since=maybe_date())

    def duties(areas: Sequence[BusinessArea], posts: Sequence[Post]) -> list[Duty]:
        roles = sorted({p.role for p in posts})
        return many(
            lambda: Duty(
                fresh(),
                draw(texts),
                draw(texts),
                kind=draw(st.sampled_from(DutyKind)),
                area=pick([a.id for a in areas]),
                hazards=frozenset(_subset(draw, hazard_ids)),
                activities=draw(st.frozensets(st.sampled_from(ActivityVerb), max_size=3)),
                role=pick(roles),
            ),
            2,
        )

    units: list[Unit] = []
    lg_posts: list[Post] = []
    if draw(st.booleans()):
        roles = draw(st.lists(st.sampled_from([Role.DEPUTY, Role.MEMBER]), max_size=3))
        if draw(st.booleans()):
            roles.insert(0, Role.LEADER)
        lg_posts = [post(role) for role in roles]
        units.append(
            Unit(
                fresh(),
                draw(texts),
                UnitKind.LEADING_GROUP,
                head_post=pick([p.id for p in lg_posts]),
                posts=lg_posts,
                duties=duties([], lg_posts),
            )
        )

    sections: list[Unit] = []
    for _ in range(draw(st.integers(0, 3))):
        section_kind = draw(st.sampled_from(sorted(SECTION_KINDS)))
        posts = [
            post(draw(st.sampled_from([Role.SECTION_HEAD, Role.STAFF])))
            for _ in range(draw(st.integers(0, 3)))
        ]
        areas = many(lambda: BusinessArea(fresh(), draw(texts), maybe_text()), 2)
        sections.append(
            Unit(
                fresh(),
                draw(texts),
                section_kind,
                name_en=maybe_text(),
                parent=pick([s.id for s in sections]),  # an earlier section: no cycles
                head_post=pick([p.id for p in posts]),
                clause=maybe_text(),
                posts=posts,
                areas=areas,
                duties=duties(areas, posts),
            )
        )
    units.extend(sections)

    if len(sections) > 0 and draw(st.booleans()):
        seat = draw(st.sampled_from(sections))
        own = [post(Role.STAFF) for _ in range(draw(st.integers(0, 1)))]
        units.append(
            Unit(
                fresh(),
                draw(texts),
                UnitKind.OFFICE,
                seated_in=seat.id,
                head_post=pick([p.id for p in [*own, *seat.posts]]),
                posts=own,
            )
        )
    for _ in range(draw(st.integers(0, 2))):
        units.append(Unit(fresh(), draw(texts), UnitKind.OTHER, parent=pick([u.id for u in units])))
    units = list(draw(st.permutations(units)))

    unit_kinds = st.frozensets(st.sampled_from(UnitKind), min_size=1, max_size=3)
    common_duties = many(
        lambda: Duty(
            fresh(),
            draw(texts),
            draw(texts),
            hazards=frozenset(_subset(draw, hazard_ids)),
            activities=draw(st.frozensets(st.sampled_from(ActivityVerb), max_size=2)),
            applies_to=draw(unit_kinds),
        ),
        2,
    )

    section_ids = [s.id for s in sections]
    in_charge: list[InCharge] = []
    for _ in range(draw(st.integers(0, 2)) if lg_posts else 0):
        start, end = draw(spans)
        in_charge.append(
            InCharge(
                draw(st.sampled_from([p.id for p in lg_posts])),
                _subset(draw, section_ids),
                start=start,
                end=end,
            )
        )

    schools = many(
        lambda: School(
            fresh(),
            draw(texts),
            draw(st.sampled_from(SchoolLevel)),
            ownership=draw(st.sampled_from(Ownership)),
            students=draw(st.integers(0, 5000)),
            township=maybe_text(),
            risk=draw(st.sampled_from(RiskLevel)),
            facilities=draw(st.frozensets(st.sampled_from(Facility), max_size=3)),
        ),
        3,
    )
    places: list[Place] = []
    for _ in range(draw(st.integers(0, 4))):
        places.append(
            Place(
                fresh(),
                draw(texts),
                draw(st.sampled_from(PlaceKind)),
                parent=pick([p.id for p in places]),
            )
        )

    school_ids = [s.id for s in schools]
    place_ids = [p.id for p in places]
    holders: list[tuple[str, list[str]]] = [(p.id, []) for p in lg_posts]
    holders += [(s.id, [p.id for p in s.posts]) for s in sections]
    packages: list[Package] = []
    for _ in range(draw(st.integers(0, 3)) if holders and (schools or places) else 0):
        holder, staff = draw(st.sampled_from(holders))
        targets_schools = _subset(draw, school_ids, min_size=0 if place_ids else 1)
        targets_places = _subset(draw, place_ids, min_size=0 if targets_schools else 1)
        start, end = draw(spans)
        packages.append(
            Package(
                fresh(),
                holder,
                schools=targets_schools,
                places=targets_places,
                staff=_subset(draw, staff),
                start=start,
                end=end,
            )
        )

    terms: list[Term] = []
    for vacation in (False, True):
        # sorted distinct dates, taken in pairs: spans of one kind that never overlap
        bounds = draw(st.lists(dates, max_size=4, unique=True).map(sorted))
        terms += [
            Term(draw(texts), start, end, vacation=vacation)
            for start, end in zip(bounds[::2], bounds[1::2], strict=False)
        ]
    terms = list(draw(st.permutations(terms)))
    blackouts = [
        Blackout(draw(texts), *sorted(draw(st.tuples(dates, dates))))
        for _ in range(draw(st.integers(0, 2)))
    ]
    holidays = draw(st.lists(texts, max_size=2, unique=True))

    return Organisation(
        fresh(),
        draw(texts),
        kind=kind if kind is not None else draw(st.sampled_from(OrgKind)),
        timezone=draw(st.sampled_from(TIMEZONES)),
        as_of=maybe_date(),
        rules=draw(rules),
        hazard_domains=hazard_domains,
        people=people,
        units=units,
        common_duties=common_duties,
        in_charge=in_charge,
        schools=schools,
        places=places,
        packages=packages,
        terms=terms,
        blackouts=blackouts,
        holidays=holidays,
    )
