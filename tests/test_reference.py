"""The reference organisation is the plan's bureau: every unit, duty and clause checked."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

import dualduty
from dualduty.io import dumps, loads
from dualduty.model import (
    BUILTIN_HAZARD_DOMAINS,
    SECTION_KINDS,
    DutyKind,
    Facility,
    Organisation,
    Ownership,
    Role,
    SchoolLevel,
    Unit,
    UnitKind,
)
from dualduty.reference import (
    SECTION_COUNT,
    SECTION_DUTY_COUNT,
    clause_text,
    plan_text,
    reference_organisation,
)
from dualduty.reference._roster import IN_CHARGE, TOWNSHIPS, chinese_number

# The units of 二(四) as the plan lists them; the test reads them from the plan too.
PLAN_UNITS = re.compile(r"^(?P<name>[^：\s]+)：", re.M)


@pytest.fixture(scope="module")
def org() -> Organisation:
    return reference_organisation()


def sections(org: Organisation) -> list[Unit]:
    return [u for u in org.units if u.kind in (UnitKind.SECTION, UnitKind.CENTRE)]


def unit_named(org: Organisation, name: str) -> Unit:
    (unit,) = [u for u in org.units if u.name == name]
    return unit


def leading_group(org: Organisation) -> Unit:
    (unit,) = [u for u in org.units if u.kind is UnitKind.LEADING_GROUP]
    return unit


def norm(text: str) -> str:
    return "".join(text.split())


def plan_unit_names() -> list[str]:
    """The unit names of clause 二(四), read from the plan's own lines."""
    part = plan_text().split("（四）", 1)[1].split("三、", 1)[0]
    return [m["name"] for m in PLAN_UNITS.finditer(part)]


# -- the plan ---------------------------------------------------------------------------


def test_plan_text_is_the_shipped_file_without_its_summary_line() -> None:
    shipped = resources.files("dualduty.reference").joinpath("plan.zh.txt").read_text("utf-8")
    first, rest = shipped.split("\n", 1)
    assert first.rstrip().endswith("...")  # the truncated summary
    assert plan_text() == rest
    assert plan_text().startswith("学校安全稳定工作一岗双责实施方案\n")
    assert "四、" not in plan_text()
    assert "三、工作制度" in plan_text()


def test_the_plan_lists_23_units_with_65_numbered_duties() -> None:
    names = plan_unit_names()
    assert len(names) == SECTION_COUNT == 23
    total = 0
    for name in names:
        n = 1
        while True:
            try:
                clause_text(f"二(四).{name}.{n + 1}")
            except KeyError:
                break
            n += 1
        total += n
    assert total == SECTION_DUTY_COUNT == 65


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("二(一).2", "研究解决学校安全稳定工作中的重大问题，并组织、协调学校重大安全事故"),
        ("二(二).组长", "负责全区学校安全稳定工作"),
        ("二(三).1", "每季度专题研究学校安全稳定工作两次以上"),
        ("二(四).规划科.2", "负责全区学校建筑及建筑施工安全的督导、检查工作"),
        ("二(四).电大工作站.1", "负责成人进修报名、考试等安全稳定工作"),
        ("三.2", "每季度对所包学校进行两次专门督查"),
        ("三.3", "每季度要召开机关各科室学校安全稳定工作调度会"),
    ],
)
def test_clause_text_finds_items(ref: str, expected: str) -> None:
    assert expected in clause_text(ref)


def test_items_lose_their_number_and_ending_punctuation() -> None:
    assert clause_text("二(四).规划科.2") == "负责全区学校建筑及建筑施工安全的督导、检查工作"
    assert clause_text("二(二).成员") == "负责分包学校和分管科室承担安全稳定工作的督导、检查"
    for ref in ("二(一).1", "二(三).4", "三.4", "二(四).资助中心.1", "二(四).法规安全科.6"):
        text = clause_text(ref)
        assert not re.match(r"\d+\.", text), ref
        assert text[-1] not in "；。", ref


def test_whole_clauses_keep_their_heading() -> None:
    assert clause_text("一").startswith("一、组织机构\n")
    assert "办公室主任由法规安全科科长兼任" in clause_text("一")
    assert clause_text("二(四).规划科").startswith("规划科：1.负责校舍安全年检")
    assert clause_text("二(四)").startswith("（四）各职能科室岗位职责\n法规安全科：")
    assert clause_text("二(三)").count("\n") == 4
    assert clause_text("三").startswith("三、工作制度\n1.实行分包学校制度")
    assert clause_text("二").startswith("二、工作职责\n（一）领导小组职责")
    assert "三、" not in clause_text("二")


def test_full_width_brackets_and_spaces_are_accepted() -> None:
    assert clause_text("二（四）.规划科.1") == clause_text("二(四).规划科.1")
    assert clause_text(" 二(二). 副组长 ") == clause_text("二(二).副组长")


def test_unknown_clause_is_a_key_error_naming_the_units() -> None:
    with pytest.raises(KeyError, match="不存在科") as exc:
        clause_text("二(四).不存在科.1")
    assert "法规安全科" in str(exc.value)  # the message lists the units there are
    with pytest.raises(KeyError, match=r"规划科 has 4 numbered duties"):
        clause_text("二(四).规划科.5")
    with pytest.raises(KeyError, match="did you mean 规划科"):
        clause_text("二(四).规划课")
    with pytest.raises(KeyError, match="references look like"):
        clause_text("四")
    with pytest.raises(KeyError):
        clause_text("二(二).组员")


# -- units ------------------------------------------------------------------------------


def test_the_reference_organisation_is_valid(org: Organisation) -> None:
    assert org.problems() == []
    assert org.id == "reference-bureau"
    assert org.name == "区教育体育局"
    assert org.kind.value == "bureau"


def test_25_units_of_which_23_sections_and_centres(org: Organisation) -> None:
    assert len(org.units) == 25
    kinds = Counter(u.kind for u in org.units)
    assert kinds[UnitKind.LEADING_GROUP] == 1
    assert kinds[UnitKind.OFFICE] == 1
    assert kinds[UnitKind.SECTION] + kinds[UnitKind.CENTRE] == 23
    assert [u.id for u in org.units[:2]] == ["leading-group", "safety-office"]
    assert {u.kind for u in org.units[2:]} <= SECTION_KINDS


def test_every_unit_line_of_the_plan_is_a_unit_in_plan_order(org: Organisation) -> None:
    assert [u.name for u in sections(org)] == plan_unit_names()
    for unit in sections(org):
        assert unit.clause == f"二(四).{unit.name}"
        assert clause_text(unit.clause).startswith(f"{unit.name}：")


def test_centres_are_the_stations_and_centres_and_the_teaching_research_office(
    org: Organisation,
) -> None:
    centres = {u.name for u in org.units if u.kind is UnitKind.CENTRE}
    assert centres == {"电大工作站", "仪器站", "教研室", "后勤中心", "青少年活动中心", "资助中心"}


def test_unit_ids_are_slugs_and_names_english(org: Organisation) -> None:
    ids = [u.id for u in org.units]
    assert len(set(ids)) == len(ids)
    assert unit_named(org, "法规安全科").id == "regulation-safety"
    assert unit_named(org, "办公室").id == "general-office"
    for unit in org.units:
        assert unit.name_en, unit.id
        assert unit.name_en.isascii(), unit.id


def test_each_section_has_a_head_and_two_staff(org: Organisation) -> None:
    for unit in sections(org):
        roles = [p.role for p in unit.posts]
        assert roles == [Role.SECTION_HEAD, Role.STAFF, Role.STAFF], unit.id
        head = unit.posts[0]
        assert unit.head_post == head.id
        assert head.title.startswith(unit.name), head.title


def test_the_leading_group(org: Organisation) -> None:
    group = leading_group(org)
    assert group.clause == "一"
    roles = Counter(p.role for p in group.posts)
    assert roles == {Role.LEADER: 1, Role.DEPUTY: 3, Role.MEMBER: 2}
    leader = next(p for p in group.posts if p.role is Role.LEADER)
    assert group.head_post == leader.id
    assert leader.title == "局长"
    assert all(p.title == "副局长" for p in group.posts if p.role is Role.DEPUTY)


def test_the_office_is_seated_in_the_regulation_section_and_headed_by_its_chief(
    org: Organisation,
) -> None:
    (office,) = [u for u in org.units if u.kind is UnitKind.OFFICE]
    seat = unit_named(org, "法规安全科")
    assert office.id == "safety-office"
    assert office.seated_in == seat.id
    assert office.head_post == seat.head_post
    chief = next(p for p in seat.posts if p.id == office.head_post)
    assert chief.role is Role.SECTION_HEAD
    assert chief.title == "法规安全科科长"
    assert office.parent == leading_group(org).id
    assert office.posts == ()
    assert office.clause == "一"
    assert "办公室设在教育体育局法规安全科" in clause_text(office.clause)


def test_the_general_office_is_a_section_not_the_leading_groups_office(
    org: Organisation,
) -> None:
    general = unit_named(org, "办公室")
    (office,) = [u for u in org.units if u.kind is UnitKind.OFFICE]
    assert general.kind is UnitKind.SECTION
    assert general.id != office.id
    assert general.seated_in is None
    assert general.clause == "二(四).办公室"
    assert len(general.duties) == 4


# -- duties -----------------------------------------------------------------------------


def all_duties(org: Organisation) -> Iterator[tuple[Unit | None, dualduty.Duty]]:
    yield from org.all_duties()


def test_65_section_duties_numbered_as_in_the_plan(org: Organisation) -> None:
    owned = [d for u in sections(org) for d in u.duties]
    assert len(owned) == SECTION_DUTY_COUNT == 65
    for unit in sections(org):
        assert [d.clause for d in unit.duties] == [
            f"二(四).{unit.name}.{n}" for n in range(1, len(unit.duties) + 1)
        ]
        assert [d.id for d in unit.duties] == [
            f"{unit.id}.{n}" for n in range(1, len(unit.duties) + 1)
        ]
        with pytest.raises(KeyError):
            clause_text(f"二(四).{unit.name}.{len(unit.duties) + 1}")
    assert all(d.kind is DutyKind.SAFETY for d in owned)


def test_leading_group_role_and_common_duties(org: Organisation) -> None:
    group = leading_group(org)
    assert [d.clause for d in group.duties] == [
        "二(一).1",
        "二(一).2",
        "二(一).3",
        "二(二).组长",
        "二(二).副组长",
        "二(二).成员",
    ]
    roles = [None, None, None, Role.LEADER, Role.DEPUTY, Role.MEMBER]
    assert [d.role for d in group.duties] == roles
    assert [d.clause for d in org.common_duties] == ["二(三).1", "二(三).2", "二(三).3", "二(三).4"]
    for duty in org.common_duties:
        assert duty.applies_to == {UnitKind.SECTION, UnitKind.CENTRE}
    (office,) = [u for u in org.units if u.kind is UnitKind.OFFICE]
    assert office.duties == ()
    total = sum(len(u.duties) for u in org.units) + len(org.common_duties)
    assert total == 65 + 3 + 3 + 4


def test_every_duty_text_is_the_plans_text_of_its_clause(org: Organisation) -> None:
    seen = 0
    for _unit, duty in all_duties(org):
        text = clause_text(duty.clause)
        assert norm(duty.text) in norm(text), duty.id
        assert duty.text == text, duty.id  # an item's text exactly
        seen += 1
    assert seen == 75


def test_every_duty_is_found_in_the_plan_itself(org: Organisation) -> None:
    plan = norm(plan_text())
    for _unit, duty in all_duties(org):
        assert norm(duty.text) in plan, duty.id


def test_duty_ids_are_unique_slugs(org: Organisation) -> None:
    ids = [d.id for _u, d in all_duties(org)]
    assert len(set(ids)) == len(ids) == 75
    assert {"lg.1", "role.leader", "common.1", "regulation-safety.1"} <= set(ids)


def test_every_business_area_is_covered_by_a_safety_duty_of_its_unit(org: Organisation) -> None:
    for unit in sections(org):
        assert unit.areas, unit.id
        covered = {d.area for d in unit.duties if d.kind is DutyKind.SAFETY}
        for area in unit.areas:
            assert area.id in covered, f"{unit.id}: {area.id}"
            assert area.name
            assert area.name_en
        assert None not in covered, unit.id
        assert covered <= {a.id for a in unit.areas}


def test_hazards_and_activities(org: Organisation) -> None:
    answered: set[str] = set()
    for _unit, duty in all_duties(org):
        assert duty.hazards, duty.id
        assert duty.hazards <= set(BUILTIN_HAZARD_DOMAINS), duty.id
        assert duty.activities, duty.id
        answered |= duty.hazards
    assert answered == set(BUILTIN_HAZARD_DOMAINS)  # every built-in domain has an owner
    duty = next(d for d in unit_named(org, "仪器站").duties if d.id.endswith(".2"))
    assert duty.hazards == {"lab_chemicals"}
    duty = unit_named(org, "规划科").duties[0]
    assert "buildings" in duty.hazards


# -- people and 分管 ----------------------------------------------------------------------


def test_one_person_per_post(org: Organisation) -> None:
    posts = [p for _u, p in org.iter_posts()]
    assert len(posts) == 6 + 23 * 3
    assert len(org.people) == len(posts)
    holders = [p.holder for p in posts]
    assert None not in holders
    assert sorted(h for h in holders if h is not None) == sorted(p.id for p in org.people)
    names = [p.name for p in org.people]
    assert len(set(names)) == len(names)
    assert all(2 <= len(n) <= 4 for n in names)
    assert org.people[0].id == "p001"


def test_people_do_not_depend_on_schools_or_seed(org: Organisation) -> None:
    other = reference_organisation(schools=3, seed=99)
    assert other.people == org.people
    assert other.units == org.units
    assert other.in_charge == org.in_charge


def test_every_section_is_in_charge_of_exactly_one_leading_post(org: Organisation) -> None:
    group = leading_group(org)
    roles = {p.id: p.role for p in group.posts}
    charge = Counter(uid for edge in org.in_charge for uid in edge.units)
    assert set(charge) == {u.id for u in sections(org)}
    assert set(charge.values()) == {1}
    for edge in org.in_charge:
        assert roles[edge.post] in (Role.DEPUTY, Role.MEMBER)
    leader = next(p.id for p in group.posts if p.role is Role.LEADER)
    assert leader not in {e.post for e in org.in_charge}
    carried = {e.post: len(e.units) for e in org.in_charge}
    deputies = [carried[p] for p, r in roles.items() if r is Role.DEPUTY]
    members = [carried[p] for p, r in roles.items() if r is Role.MEMBER]
    assert len(deputies) == 3
    assert len(members) == 2
    assert min(deputies) > max(members)
    assert {uid for uids in IN_CHARGE.values() for uid in uids} == set(charge)


# -- schools and packages ---------------------------------------------------------------


def test_deterministic(org: Organisation) -> None:
    assert reference_organisation() == org
    assert reference_organisation(schools=50, seed=7) == reference_organisation(50, 7)
    assert reference_organisation(50, 7).schools != reference_organisation(50, 8).schools


def test_round_trips_through_district_files() -> None:
    org = reference_organisation(schools=40, seed=2)
    assert loads(dumps(org), "toml") == org
    assert loads(dumps(org, "json"), "json") == org


@pytest.mark.parametrize("count", [0, 1, 7, 500])
def test_sizes_are_valid(count: int) -> None:
    org = reference_organisation(schools=count)
    assert org.problems() == []
    assert len(org.schools) == count
    assert all(p.schools for p in org.packages)
    lg = [p for p in org.packages if p.id.startswith("pkg-lg-")]
    assert len(lg) == min(count, 6)
    assert len(org.packages) - len(lg) == min(count, 23)


def packages_by_school(org: Organisation) -> tuple[Counter[str], Counter[str]]:
    group = {p.id for p in leading_group(org).posts}
    section_ids = {u.id for u in sections(org)}
    lg: Counter[str] = Counter()
    sec: Counter[str] = Counter()
    for package in org.packages:
        if package.holder in group:
            lg.update(package.schools)
        else:
            assert package.holder in section_ids
            sec.update(package.schools)
    return lg, sec


@pytest.mark.parametrize("count", [7, 120, 1000])
def test_each_school_has_one_leading_and_one_section_package(count: int) -> None:
    org = reference_organisation(schools=count, seed=1)
    lg, sec = packages_by_school(org)
    ids = {s.id for s in org.schools}
    assert set(lg) == ids == set(sec)
    assert set(lg.values()) == {1} == set(sec.values())


def test_packages_are_balanced_named_and_staffed(org: Organisation) -> None:
    group = leading_group(org)
    units = {u.id: u for u in sections(org)}
    lg = [p for p in org.packages if p.holder in {q.id for q in group.posts}]
    sec = [p for p in org.packages if p.holder in units]
    assert len(lg) == 6
    assert len(sec) == 23
    assert {len(p.schools) for p in lg} == {20}
    sizes = [len(p.schools) for p in sec]
    assert max(sizes) - min(sizes) <= 1
    for package in lg:
        assert package.id == f"pkg-lg-{package.holder}"
        assert package.staff == ()
    for package in sec:
        assert package.id == f"pkg-{package.holder}"
        staff = [p.id for p in units[package.holder].posts if p.role is Role.STAFF]
        assert list(package.staff) == staff  # every staff post visits: no lone inspector
        assert len(staff) == 2


def test_packages_cluster_by_township() -> None:
    org = reference_organisation(schools=1200, seed=5)
    town = {s.id: s.township for s in org.schools}
    for package in org.packages:
        towns = {town[s] for s in package.schools}
        # 1200 schools over 12 townships: a run of 200 (or 52) spans few of them (the
        # last runs cover the five small rural townships)
        assert len(towns) <= (5 if package.id.startswith("pkg-lg-") else 3), package.id
    spans = [len({town[s] for s in p.schools}) for p in org.packages]
    assert sum(spans) / len(spans) < 2.5


def test_school_mix() -> None:
    org = reference_organisation(schools=2000, seed=4)
    levels = Counter(s.level for s in org.schools)
    expected = {
        SchoolLevel.KINDERGARTEN: 30,
        SchoolLevel.PRIMARY: 35,
        SchoolLevel.JUNIOR: 12,
        SchoolLevel.NINE_YEAR: 6,
        SchoolLevel.SENIOR: 4,
        SchoolLevel.VOCATIONAL: 3,
        SchoolLevel.SPECIAL: 1,
        SchoolLevel.TRAINING: 6,
        SchoolLevel.ADULT: 1,
    }
    for level, percent in expected.items():
        assert abs(levels[level] / 2000 * 100 - percent / 0.98) < 1, level
    private = Counter(s.level for s in org.schools if s.ownership is Ownership.PRIVATE)
    assert private[SchoolLevel.TRAINING] > levels[SchoolLevel.TRAINING] * 0.75
    assert private[SchoolLevel.KINDERGARTEN] > levels[SchoolLevel.KINDERGARTEN] * 0.35
    assert private[SchoolLevel.SPECIAL] == 0
    assert private[SchoolLevel.PRIMARY] < levels[SchoolLevel.PRIMARY] * 0.15
    lab = {SchoolLevel.JUNIOR, SchoolLevel.SENIOR, SchoolLevel.NINE_YEAR, SchoolLevel.VOCATIONAL}
    for school in org.schools:
        assert (Facility.LAB_CHEMICALS in school.facilities) == (school.level in lab), school
        assert school.students > 0
    facilities = Counter(f for s in org.schools for f in s.facilities)
    for facility in (Facility.CANTEEN, Facility.BOARDING, Facility.SCHOOL_BUS):
        assert facilities[facility] > 100, facility
    for facility in (Facility.CONSTRUCTION, Facility.NEAR_WATER):
        assert 20 < facilities[facility] < 400, facility
    assert {s.township for s in org.schools} == {t for t, _w, _u in TOWNSHIPS}
    assert len(TOWNSHIPS) == 12
    risks = Counter(s.risk.value for s in org.schools)
    assert set(risks) == {"low", "medium", "high"}
    seniors = [s for s in org.schools if s.level is SchoolLevel.SENIOR]
    assert sum(s.students for s in seniors) / len(seniors) > 1000


def test_school_ids_and_names() -> None:
    org = reference_organisation(schools=3000, seed=6)
    assert [s.id for s in org.schools[:3]] == ["s0001", "s0002", "s0003"]
    assert org.schools[-1].id == "s3000"
    names = [s.name for s in org.schools]
    assert len(set(names)) == len(names)
    assert "城关镇第一小学" in names
    assert any(n.endswith("幼儿园") and n[0] not in "城东西南河新白桥石柳青马" for n in names)
    for school in org.schools:
        if school.level is SchoolLevel.KINDERGARTEN:
            assert school.name.endswith("幼儿园")
        if school.level is SchoolLevel.PRIMARY and school.ownership is Ownership.PUBLIC:
            assert school.name.startswith(school.township or "?")
            assert school.name.endswith("小学")


def test_large_bureaus_stay_valid_and_balanced() -> None:
    org = reference_organisation(schools=30000, seed=3)
    assert org.problems() == []
    assert len({s.name for s in org.schools}) == 30000
    sizes = Counter(len(p.schools) for p in org.packages)
    assert set(sizes) == {5000, 1304, 1305}


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "一"), (10, "十"), (12, "十二"), (20, "二十"), (105, "一百零五"), (110, "一百一十"),
     (1001, "一千零一"), (10010, "一万零一十"), (23456, "二万三千四百五十六")],
)  # fmt: skip
def test_chinese_numbers(n: int, text: str) -> None:
    assert chinese_number(n) == text


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        reference_organisation(schools=-1)
    with pytest.raises(TypeError, match="schools must be an int"):
        reference_organisation(schools=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seed must be an int"):
        reference_organisation(seed="0")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        reference_organisation(schools=True)


# -- packaging ---------------------------------------------------------------------------


def test_static_bureau_file_loads_on_its_own() -> None:
    text = resources.files("dualduty.reference").joinpath("bureau.toml").read_text("utf-8")
    static = loads(text, "toml", source="bureau.toml")
    assert static.problems() == []
    assert static.people == ()
    assert static.schools == ()
    assert static.packages == ()
    assert static.in_charge == ()
    full = reference_organisation(schools=0)
    assert [u.id for u in static.units] == [u.id for u in full.units]
    assert static.common_duties == full.common_duties


def test_re_exported_from_the_package() -> None:
    assert dualduty.reference_organisation is reference_organisation
    import dualduty.reference as ref

    assert sorted(ref.__all__) == [
        "SECTION_COUNT",
        "SECTION_DUTY_COUNT",
        "clause_text",
        "plan_text",
        "reference_organisation",
    ]


# -- the explanation page describes this organisation ---------------------------------

DOC = Path(__file__).parent.parent / "docs" / "explanation" / "reference-organisation.md"


def table_rows(text: str, header: str) -> list[list[str]]:
    """The body rows of the Markdown table whose header row starts with *header*."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_page_lists_every_unit_as_built(org: Organisation) -> None:
    rows = table_rows(DOC.read_text(encoding="utf-8"), "| id | 名称 |")
    charge = {uid: edge.post for edge in org.in_charge for uid in edge.units}
    expected = [
        [
            f"`{u.id}`",
            u.name,
            u.name_en or "",
            u.kind.value,
            str(len(u.duties)),
            ", ".join(f"`{a.id}`" for a in u.areas),
            f"`{charge[u.id]}`",
        ]
        for u in sections(org)
    ]
    assert rows == expected


def test_the_page_gives_the_in_charge_grouping_as_built(org: Organisation) -> None:
    rows = table_rows(DOC.read_text(encoding="utf-8"), "| post | 分管")
    names = {u.id: u.name for u in org.units}
    found = {row[0].split("`")[1]: set(row[1].split(", ")) for row in rows}
    assert found == {e.post: {names[u] for u in e.units} for e in org.in_charge}
