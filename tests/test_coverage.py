"""Coverage analysis: every gap of 一岗双责 found, explained, with its clause."""

from __future__ import annotations

import attrs
import pytest

import dualduty
from dualduty.coverage import (
    Coverage,
    CoverageReport,
    GapKind,
    Severity,
    analyse,
    domains_of,
)
from dualduty.model import (
    Facility,
    InCharge,
    Organisation,
    Ownership,
    Package,
    School,
    SchoolLevel,
    Unit,
)


@pytest.fixture(scope="module")
def ref() -> Organisation:
    return dualduty.reference_organisation(schools=60)


def unit_index(org: Organisation, unit_id: str) -> int:
    return next(i for i, u in enumerate(org.units) if u.id == unit_id)


def replace_unit(org: Organisation, unit: Unit) -> Organisation:
    units = list(org.units)
    units[unit_index(org, unit.id)] = unit
    return attrs.evolve(org, units=tuple(units))


def kinds(report: CoverageReport, severity: Severity = Severity.ERROR) -> list[GapKind]:
    return [g.kind for g in report.gaps if g.severity is severity]


def test_the_reference_organisation_has_no_error(ref: Organisation) -> None:
    report = analyse(ref)
    assert report.ok
    assert report.errors == ()
    for size in (0, 1, 300):
        assert analyse(dualduty.reference_organisation(schools=size)).ok


def test_a_business_area_without_a_safety_duty(ref: Organisation) -> None:
    planning = ref.units[unit_index(ref, "planning")]
    area = planning.duties[0].area
    kept = tuple(d for d in planning.duties if d.area != area)
    report = analyse(replace_unit(ref, attrs.evolve(planning, duties=kept)))
    gaps = report.of_kind(GapKind.UNCOVERED_AREA)
    assert [(g.subject, g.clause, g.severity) for g in gaps] == [
        ("unit:planning", "二(三).2", Severity.ERROR)
    ]
    assert f"({area})" in gaps[0].message


def test_a_section_without_a_head(ref: Organisation) -> None:
    planning = ref.units[unit_index(ref, "planning")]
    headless = attrs.evolve(
        planning,
        head_post=None,
        posts=tuple(p for p in planning.posts if p.id != planning.head_post),
    )
    report = analyse(replace_unit(ref, headless))
    (gap,) = report.of_kind(GapKind.NO_HEAD)
    assert (gap.subject, gap.clause) == ("unit:planning", "二(三).1")
    # the missing head is reported once, as the root cause, not again for every chain
    assert [g.kind for g in report.errors] == [GapKind.NO_HEAD]


def test_a_head_post_that_is_not_a_section_head(ref: Organisation) -> None:
    planning = ref.units[unit_index(ref, "planning")]
    staff = next(p for p in planning.posts if p.role is dualduty.Role.STAFF)
    report = analyse(replace_unit(ref, attrs.evolve(planning, head_post=staff.id)))
    (gap,) = report.of_kind(GapKind.HEAD_NOT_SECTION_HEAD)
    assert gap.severity is Severity.WARNING
    assert staff.id in gap.message


def test_a_section_nobody_is_in_charge_of(ref: Organisation) -> None:
    edges = tuple(
        attrs.evolve(e, units=tuple(u for u in e.units if u != "audit")) for e in ref.in_charge
    )
    report = analyse(attrs.evolve(ref, in_charge=edges))
    gaps = report.of_kind(GapKind.NOT_IN_CHARGE)
    assert [(g.subject, g.clause) for g in gaps] == [("unit:audit", "二(二)")]
    assert "审计科" in gaps[0].message


def test_a_school_without_packages(ref: Organisation) -> None:
    school = ref.schools[0].id
    packages = tuple(
        attrs.evolve(p, schools=tuple(s for s in p.schools if s != school)) for p in ref.packages
    )
    report = analyse(attrs.evolve(ref, packages=tuple(p for p in packages if p.targets)))
    assert [(g.kind, g.subject, g.clause) for g in report.errors] == [
        (GapKind.NO_LEADER_PACKAGE, f"school:{school}", "三.1"),
        (GapKind.NO_SECTION_PACKAGE, f"school:{school}", "三.1"),
    ]


def test_a_school_packaged_twice(ref: Organisation) -> None:
    school = ref.schools[0].id
    holder = next(
        p.holder
        for p in ref.packages
        if school not in p.schools and p.holder in {u.id for u in ref.units}
    )
    extra = Package("pkg-extra", holder, schools=(school,))
    report = analyse(attrs.evolve(ref, packages=(*ref.packages, extra)))
    (gap,) = report.of_kind(GapKind.PACKAGED_TWICE)
    assert gap.severity is Severity.WARNING
    assert gap.subject == f"school:{school}"
    assert holder in gap.message
    assert report.ok


def test_a_hazard_no_section_owns(ref: Organisation) -> None:
    units = tuple(
        attrs.evolve(
            u,
            duties=tuple(attrs.evolve(d, hazards=d.hazards - {"lab_chemicals"}) for d in u.duties),
        )
        for u in ref.units
    )
    report = analyse(attrs.evolve(ref, units=units))
    (gap,) = report.of_kind(GapKind.UNOWNED_DOMAIN)
    assert (gap.subject, gap.clause) == ("domain:lab_chemicals", "二(四)")
    with_labs = {s.id for s in ref.schools if Facility.LAB_CHEMICALS in s.facilities}
    assert set(gap.schools) == with_labs
    assert with_labs


def test_a_vacant_post_breaks_every_chain_through_it(ref: Organisation) -> None:
    cov = Coverage(ref)
    report = cov.without(post="planning.head")
    (gap,) = report.errors
    assert gap.kind is GapKind.BROKEN_CHAIN
    assert (gap.subject, gap.clause) == ("post:planning.head", "二(三).1")
    assert "pkg-planning" in gap.message
    assert "(construction)" in gap.message  # planning alone owns construction works
    assert set(gap.schools) >= set(next(p for p in ref.packages if p.holder == "planning").schools)
    assert report.new_since(cov.report()) == (gap,)


def test_a_person_leaving_vacates_every_post_they_hold(ref: Organisation) -> None:
    graph = dualduty.OrgGraph(ref)
    leader = graph.leader()
    assert leader is not None
    assert leader.holder is not None
    report = Coverage(ref).without(person=leader.holder)
    (gap,) = report.errors
    assert (gap.subject, gap.clause) == (f"post:{leader.id}", "二(二).组长")
    assert len(gap.schools) == len(ref.schools)


def test_without_needs_a_post_or_person(ref: Organisation) -> None:
    with pytest.raises(TypeError):
        Coverage(ref).without()
    with pytest.raises(dualduty.UnknownId):
        Coverage(ref).without(post="nobody")


def test_load_against_capacity(ref: Organisation) -> None:
    lenient = analyse(ref, capacity=1000)
    assert lenient.of_kind(GapKind.OVER_CAPACITY) == ()
    strict = analyse(ref, capacity=4)
    over = strict.of_kind(GapKind.OVER_CAPACITY)
    assert over
    assert all(g.severity is Severity.WARNING and g.clause == "三.2" for g in over)
    # the leader's posts carry a whole share of schools each: 2 visits per school
    director = next(g for g in over if g.subject == "post:director")
    assert f"{len(director.schools)} schools × 2" in director.message
    with pytest.raises(ValueError, match="capacity"):
        analyse(ref, capacity=0)


def test_a_lone_inspector_is_a_single_point_of_failure() -> None:
    org = dualduty.reference_organisation(schools=46)  # two schools per section
    assert not analyse(org).of_kind(GapKind.SINGLE_POINT)  # both staff posts visit
    lone = next(p for p in org.packages if p.holder == "planning")
    packages = tuple(attrs.evolve(p, staff=p.staff[:1]) if p is lone else p for p in org.packages)
    report = analyse(attrs.evolve(org, packages=packages))
    (gap,) = report.of_kind(GapKind.SINGLE_POINT)
    assert gap.subject == f"post:{lone.staff[0]}"
    assert gap.severity is Severity.WARNING
    assert gap.schools == lone.schools
    assert report.ok  # a warning, not an error


def test_dated_view(ref: Organisation) -> None:
    import datetime as dt

    start = dt.date(2027, 1, 1)
    packages = tuple(attrs.evolve(p, start=start) for p in ref.packages)
    org = attrs.evolve(ref, packages=packages)
    assert analyse(org, on=dt.date(2027, 3, 1)).ok
    before = analyse(org, on=dt.date(2026, 12, 31))
    assert len(before.of_kind(GapKind.NO_LEADER_PACKAGE)) == len(ref.schools)


def test_domains_of_a_school() -> None:
    kindergarten = School("k", "阳光幼儿园", SchoolLevel.KINDERGARTEN, Ownership.PRIVATE)
    assert "private_schools" in domains_of(kindergarten)
    assert "exams" not in domains_of(kindergarten)
    assert "bullying" not in domains_of(kindergarten)
    vocational = School(
        "v",
        "职业中专",
        SchoolLevel.VOCATIONAL,
        facilities={Facility.SCHOOL_BUS, Facility.LAB_CHEMICALS, Facility.NEAR_WATER},
    )
    assert {"internships", "exams", "traffic", "lab_chemicals", "drowning"} <= domains_of(
        vocational
    )


def test_the_school_plan_example_is_covered(data_dir: object) -> None:
    from pathlib import Path

    org = dualduty.load(Path(str(data_dir)) / "school.toml")
    report = analyse(org)
    assert report.ok, report.errors
    # a grade whose classes are packaged to its grade group is covered through them;
    # an area packaged to nobody is not
    place = next(p for p in org.places if p.id == "playground")
    packages = tuple(
        attrs.evolve(p, places=tuple(x for x in p.places if x != place.id)) for p in org.packages
    )
    broken = analyse(attrs.evolve(org, packages=tuple(p for p in packages if p.targets)))
    assert any(g.subject == f"place:{place.id}" for g in broken.errors)


def test_in_charge_of_a_grade_group_comes_from_its_parent_section() -> None:
    org = dualduty.reference_organisation(schools=0)
    assert isinstance(org.in_charge[0], InCharge)
    assert analyse(org).ok


def test_frames_for_notebooks(ref: Organisation) -> None:
    cov = Coverage(ref)
    report = cov.without(post="planning.head")
    frame = report.to_frame()
    assert list(frame.columns) == ["kind", "severity", "subject", "clause", "message", "schools"]
    assert frame.loc[0, "subject"] == "post:planning.head"
    holders = cov.school_holders()
    assert holders.shape == (len(ref.schools), len({p.holder for p in ref.packages}))
    assert (holders.sum(axis=1) == 2).all()  # one leader and one section per school
    domains = cov.domain_sections()
    assert domains.loc["lab_chemicals"].sum() >= 1
    assert "leading-group" not in domains.columns  # sections only: the group spans all


def test_gap_json_shape(ref: Organisation) -> None:
    (gap,) = Coverage(ref).without(post="planning.head").errors
    assert gap.to_json() == {
        "kind": "broken_chain",
        "severity": "error",
        "subject": "post:planning.head",
        "clause": "二(三).1",
        "message": gap.message,
    }
