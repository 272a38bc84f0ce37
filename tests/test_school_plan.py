"""The second example organisation: a school's own 一岗双责 plan (tests/data/school.toml).

A school's plan has the bureau's shape (leading group, office, sections, in-charge
edges, packages), but it adds grade groups and head teachers, and packages grades,
classes and campus areas instead of schools. These tests check that the model holds
such a plan and that the file says what a school's plan must say.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dualduty import InvalidOrganisation, Organisation
from dualduty.io import dumps, from_data, load, loads, to_data
from dualduty.io._converters import Format
from dualduty.model import (
    SECTION_KINDS,
    DutyKind,
    OrgKind,
    PlaceKind,
    Role,
    Unit,
    UnitKind,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def school(request: pytest.FixtureRequest) -> Organisation:
    path = Path(request.path).parent / "data" / "school.toml"
    return load(path)


def unit(org: Organisation, unit_id: str) -> Unit:
    (found,) = [u for u in org.units if u.id == unit_id]
    return found


def by_kind(org: Organisation, kind: UnitKind) -> list[Unit]:
    return [u for u in org.units if u.kind is kind]


def test_it_loads_valid(school: Organisation) -> None:
    assert school.problems() == []
    assert school.kind is OrgKind.SCHOOL
    assert school.name == "红星中学"
    assert school.as_of is not None
    assert school.as_of.isoformat() == "2024-09-01"


def test_the_leading_group(school: Organisation) -> None:
    (lg,) = by_kind(school, UnitKind.LEADING_GROUP)
    roles = {p.title: p.role for p in lg.posts}
    assert roles == {
        "校长": Role.LEADER,
        "副校长（分管教学）": Role.DEPUTY,
        "副校长（分管后勤安全）": Role.DEPUTY,
        "党支部书记": Role.MEMBER,
    }
    assert lg.head_post == "principal"
    people = {p.id: p.name for p in school.people}
    assert {people[p.holder] for p in lg.posts if p.holder} == {"刘志强", "陈红", "周斌", "孙丽"}


def test_the_office_is_seated_in_the_student_affairs_office(school: Organisation) -> None:
    (office,) = by_kind(school, UnitKind.OFFICE)
    seat = unit(school, office.seated_in or "")
    assert seat.name == "政教处"
    assert seat.kind is UnitKind.SECTION
    # 政教处主任兼任办公室主任: the office is headed by its seat's head
    assert office.head_post == seat.head_post == "zhengjiao.head"


def test_sections_and_grade_groups(school: Organisation) -> None:
    assert [u.name for u in by_kind(school, UnitKind.SECTION)] == ["政教处", "教务处", "总务处"]
    grade_groups = by_kind(school, UnitKind.GRADE_GROUP)
    assert [u.name for u in grade_groups] == ["七年级组", "八年级组", "九年级组"]
    for group in grade_groups:
        assert group.parent == "jiaowu"  # grade groups sit under 教务处
        head = [p for p in group.posts if p.role is Role.SECTION_HEAD]
        teachers = [p for p in group.posts if p.role is Role.STAFF]
        assert [p.id for p in head] == [group.head_post]
        assert len(teachers) == 2
        assert all(t.title.endswith("班主任") for t in teachers)


def test_it_packages_places_not_schools(school: Organisation) -> None:
    assert school.schools == ()
    assert school.packages
    for package in school.packages:
        assert package.schools == ()
        assert package.places
    places = {p.id: p for p in school.places}
    kinds = {places[t].kind for package in school.packages for t in package.targets}
    assert kinds == {PlaceKind.GRADE, PlaceKind.CLASS, PlaceKind.AREA}


def test_grades_classes_and_areas(school: Organisation) -> None:
    places = {p.id: p for p in school.places}
    grades = [p for p in school.places if p.kind is PlaceKind.GRADE]
    classes = [p for p in school.places if p.kind is PlaceKind.CLASS]
    areas = [p for p in school.places if p.kind is PlaceKind.AREA]
    assert [g.name for g in grades] == ["七年级", "八年级", "九年级"]
    assert len(classes) == 6
    for c in classes:
        assert c.parent is not None
        assert places[c.parent].kind is PlaceKind.GRADE
        assert c.name.startswith(places[c.parent].name[0])  # 七(1)班 is in 七年级
    assert {a.name for a in areas} == {"食堂", "实验楼", "操场", "学生宿舍", "校门"}
    assert all(p.parent is None for p in grades + areas)


def test_every_place_is_packaged(school: Organisation) -> None:
    packaged = {t for package in school.packages for t in package.targets}
    assert packaged == {p.id for p in school.places}


def test_leading_group_posts_hold_packages_without_staff(school: Organisation) -> None:
    (lg,) = by_kind(school, UnitKind.LEADING_GROUP)
    lg_posts = {p.id for p in lg.posts}
    held = [p for p in school.packages if p.holder in lg_posts]
    assert {p.holder for p in held} == {"vp-teaching", "vp-logistics", "secretary"}
    assert all(p.staff == () for p in held)
    assert all(p.start is not None and p.end is not None for p in held)


def test_grade_groups_hold_their_own_classes_with_the_head_teachers(
    school: Organisation,
) -> None:
    places = {p.id: p for p in school.places}
    for group in by_kind(school, UnitKind.GRADE_GROUP):
        (package,) = [p for p in school.packages if p.holder == group.id]
        grade = {places[t].parent for t in package.places}
        assert len(grade) == 1  # one grade's classes
        assert all(places[t].kind is PlaceKind.CLASS for t in package.places)
        teachers = {p.id for p in group.posts if p.role is Role.STAFF}
        assert set(package.staff) == teachers


def test_section_packages_name_staff_of_the_section(school: Organisation) -> None:
    for section in by_kind(school, UnitKind.SECTION):
        (package,) = [p for p in school.packages if p.holder == section.id]
        assert package.staff
        assert set(package.staff) <= {p.id for p in section.posts}
        assert all(
            next(p for p in school.places if p.id == t).kind is PlaceKind.AREA
            for t in package.places
        )


def test_every_section_and_grade_group_is_in_a_deputys_charge(school: Organisation) -> None:
    posts = {p.id: p for _, p in school.iter_posts()}
    charged = [u for edge in school.in_charge for u in edge.units]
    section_like = [u.id for u in school.units if u.kind in SECTION_KINDS]
    assert sorted(charged) == sorted(section_like)  # each exactly once
    assert {posts[edge.post].role for edge in school.in_charge} == {Role.DEPUTY}


def test_duties(school: Organisation) -> None:
    for owner, duty in school.all_duties():
        assert CJK.search(duty.text), duty.id
        assert duty.clause.startswith("学校方案."), duty.id
        assert duty.kind is DutyKind.SAFETY
        if owner is not None and owner.kind is UnitKind.SECTION:
            assert duty.area is not None, duty.id  # a section's duty is tied to its business
    # every section and grade group answers for safety in its own line and in common
    for u in school.units:
        if u.kind in SECTION_KINDS:
            duties = school.duties_of(u)
            assert any(d.id == "common.1" for d in duties), u.id
            assert len(duties) >= 3, u.id


def test_grade_groups_carry_the_common_grade_duties(school: Organisation) -> None:
    grade9 = unit(school, "grade9-group")
    assert [d.id for d in school.duties_of(grade9)] == [
        "grade9.1",
        "common.1",
        "common.2",
        "common.3",
        "common.4",
    ]
    # 班主任 duties are narrowed to the staff posts (the head teachers)
    (head_teachers,) = [d for d in school.duties_of(grade9) if d.id == "common.4"]
    assert head_teachers.role is Role.STAFF
    zongwu = unit(school, "zongwu")
    assert [d.id for d in school.duties_of(zongwu)][-2:] == ["common.1", "common.2"]


def test_the_schools_own_hazard_domains(school: Organisation) -> None:
    registry = school.hazard_domain_registry()
    assert registry["dormitory"].name == "宿舍管理安全"
    assert registry["mental_health"].name == "学生心理健康"
    assert "fire" in registry
    used = {h for _, d in school.all_duties() for h in d.hazards}
    assert {"dormitory", "mental_health", "food", "lab_chemicals", "fire"} <= used


def test_the_schools_own_numbers(school: Organisation) -> None:
    assert school.rules.topic_studies_per_quarter == 3
    assert school.rules.inspections_per_school_per_quarter == 3
    assert school.rules.coordination_meetings_per_quarter == 1  # the plan's default


@pytest.mark.parametrize("fmt", ["toml", "json", "yaml"])
def test_it_round_trips(school: Organisation, fmt: Format) -> None:
    assert loads(dumps(school, fmt), fmt) == school
    assert from_data(to_data(school, fmt), fmt) == school


def test_the_rules_apply_to_a_school_as_to_a_bureau(school: Organisation) -> None:
    # A head teacher of 八年级组 named as staff of 七年级组's package is caught.
    data: dict[str, Any] = to_data(school, "json")
    (index,) = [i for i, p in enumerate(data["packages"]) if p["id"] == "pk.grade7"]
    data["packages"][index]["staff"] = ["class7-1.teacher", "class8-1.teacher"]
    with pytest.raises(InvalidOrganisation) as info:
        from_data(data, source="school.json")
    assert [(p.path, p.message) for p in info.value.problems] == [
        (
            f"packages[{index}].staff[1]",
            "post 'class8-1.teacher' is in 'grade8-group', not in the holder 'grade7-group'",
        )
    ]
