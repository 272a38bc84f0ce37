"""The model on its own: field validators, Rules, look-ups, validation, immutability."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualduty import DualdutyError, InvalidOrganisation, Problem
from dualduty.model import (
    BUILTIN_HAZARD_DOMAINS,
    LEADING_ROLES,
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
    clause_of,
)
from strategies import ids, organisations

# -- ids -------------------------------------------------------------------------------------------

GOOD_IDS = ["a", "0", "no1", "safety.head", "class7-1", "pk_2024", "a" * 64, "x.y-z_0"]
BAD_IDS = [
    "",
    "A",
    "Safety",
    "-a",
    "a-",
    ".a",
    "a_",
    "a b",
    "a/b",
    "规划科",
    "a" * 65,
    "a\n",
]


@pytest.mark.parametrize("good", GOOD_IDS)
def test_valid_ids(good: str) -> None:
    assert Person(good, "张三").id == good
    assert Package("p", good, schools=[good]).holder == good


@pytest.mark.parametrize("bad", BAD_IDS)
def test_invalid_ids(bad: str) -> None:
    with pytest.raises(ValueError, match=r"^id: .* is not a valid id \(lower-case ASCII"):
        Person(bad, "张三")
    with pytest.raises(ValueError, match=r"^holder: .* is not a valid id"):
        Package("p", bad, schools=["s"])
    # ids inside collections and optional references are checked too
    with pytest.raises(ValueError, match=r"^schools: .* is not a valid id"):
        Package("p", "h", schools=["s", bad])
    with pytest.raises(ValueError, match=r"^hazards: .* is not a valid id"):
        Duty("d", "职责", "二(三).1", hazards={bad})
    with pytest.raises(ValueError, match=r"^parent: .* is not a valid id"):
        Unit("u", "科", UnitKind.SECTION, parent=bad)


@given(ids)
def test_drawn_ids_are_valid(value: str) -> None:
    assert Person(value, "张三").id == value


@pytest.mark.parametrize("value", [None, 5, b"abc"])
def test_an_id_must_be_text(value: Any) -> None:
    with pytest.raises(ValueError, match="is not a valid id"):
        Person(value, "张三")


# -- text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", " ", "\t\n", "\u3000", None, 5])
def test_text_must_be_non_blank(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"^name: must be non-empty text$"):
        Person("p", bad)
    with pytest.raises(ValueError, match=r"^text: must be non-empty text$"):
        Duty("d", bad, "二(三).1")
    with pytest.raises(ValueError, match=r"^phone: must be non-empty text$"):
        Person("p", "张三", phone=bad if bad is not None else "")


def test_optional_text_may_be_none() -> None:
    person = Person("p", "张三")
    assert person.phone is None
    assert person.email is None
    assert Unit("u", "规划科", UnitKind.SECTION).name_en is None


# -- enums -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda v: Post("p", "局长", v),
        lambda v: Unit("u", "规划科", v),
        lambda v: School("s", "一中", v),
        lambda v: School("s", "一中", SchoolLevel.JUNIOR, ownership=v),
        lambda v: School("s", "一中", SchoolLevel.JUNIOR, risk=v),
        lambda v: Place("p", "七年级", v),
        lambda v: Duty("d", "职责", "二(三).1", kind=v),
        lambda v: Duty("d", "职责", "二(三).1", role=v),
        lambda v: Organisation("o", "某区", kind=v),
    ],
    ids=[
        "role",
        "unit-kind",
        "level",
        "ownership",
        "risk",
        "place-kind",
        "duty-kind",
        "duty-role",
        "org-kind",
    ],
)
def test_enum_fields_take_members_not_strings(build: Any) -> None:
    with pytest.raises(TypeError, match="must be <enum"):
        build("leader")


@pytest.mark.parametrize(
    "build",
    [
        lambda v: Duty("d", "职责", "二(三).1", activities={v}),
        lambda v: Duty("d", "职责", "二(三).1", applies_to={v}),
        lambda v: School("s", "一中", SchoolLevel.JUNIOR, facilities={v}),
    ],
    ids=["activities", "applies-to", "facilities"],
)
def test_enum_sets_take_members_not_strings(build: Any) -> None:
    with pytest.raises(TypeError, match="must be <enum"):
        build("canteen")


def test_enum_values_are_the_file_words() -> None:
    assert [m.value for m in Role] == ["leader", "deputy", "member", "section_head", "staff"]
    assert {Role.LEADER, Role.DEPUTY, Role.MEMBER} == LEADING_ROLES
    assert {UnitKind.SECTION, UnitKind.CENTRE, UnitKind.GRADE_GROUP} == SECTION_KINDS
    assert UnitKind("grade_group") is UnitKind.GRADE_GROUP
    assert OrgKind("school") is OrgKind.SCHOOL
    assert {m.value for m in PlaceKind} == {"grade", "class", "area"}
    assert len(SchoolLevel) == 9
    assert Ownership.PRIVATE.value == "private"
    assert RiskLevel.HIGH.value == "high"
    assert Facility.SCHOOL_BUS.value == "school_bus"
    assert ActivityVerb.INVESTIGATE.value == "investigate"


# -- numbers and dates -----------------------------------------------------------------------------


def test_students() -> None:
    assert School("s", "一中", SchoolLevel.JUNIOR).students == 0
    assert School("s", "一中", SchoolLevel.JUNIOR, students=2400).students == 2400
    with pytest.raises(ValueError, match=r"^students: must be >= 0, got -1$"):
        School("s", "一中", SchoolLevel.JUNIOR, students=-1)


@pytest.mark.parametrize("bad", [True, "100", 1.5, None])
def test_students_must_be_a_whole_number(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"^students: expected a whole number"):
        School("s", "一中", SchoolLevel.JUNIOR, students=bad)


@pytest.mark.parametrize(
    "build",
    [
        lambda v: Organisation("o", "某区", as_of=v),
        lambda v: Post("p", "局长", Role.LEADER, since=v),
        lambda v: InCharge("p", ["u"], start=v),
        lambda v: InCharge("p", ["u"], end=v),
        lambda v: Package("k", "h", schools=["s"], start=v),
        lambda v: Package("k", "h", schools=["s"], end=v),
    ],
    ids=["as_of", "since", "in-charge-start", "in-charge-end", "package-start", "package-end"],
)
def test_date_fields_take_dates_only(build: Any) -> None:
    assert build(None) is not None
    assert build(dt.date(2024, 9, 1)) is not None
    assert build(pendulum.date(2024, 9, 1)) is not None
    for bad in (
        "2024-09-01",
        dt.datetime(2024, 9, 1, 8, 0),
        pendulum.datetime(2024, 9, 1),
        20240901,
    ):
        with pytest.raises(ValueError, match="expected a date, got"):
            build(bad)


# -- collections -----------------------------------------------------------------------------------


def test_collections_become_tuples_and_frozensets() -> None:
    duty = Duty(
        "d",
        "职责",
        "二(三).1",
        hazards=["fire", "food", "fire"],
        activities=[ActivityVerb.INSPECT],
        applies_to=[UnitKind.SECTION],
    )
    assert duty.hazards == frozenset({"fire", "food"})
    assert isinstance(duty.activities, frozenset)
    assert isinstance(duty.applies_to, frozenset)
    unit = Unit("u", "规划科", UnitKind.SECTION, posts=[Post("p", "科长", Role.SECTION_HEAD)])
    assert isinstance(unit.posts, tuple)
    package = Package("k", "h", schools=["a", "b"], places=["c"])
    assert package.schools == ("a", "b")
    assert package.targets == ("a", "b", "c")
    org = Organisation("o", "某区", units=[unit], people=iter([Person("p", "张三")]))
    assert isinstance(org.units, tuple)
    assert isinstance(org.people, tuple)


def test_collections_hold_the_right_class() -> None:
    with pytest.raises(TypeError):
        Unit("u", "规划科", UnitKind.SECTION, posts=[Person("p", "张三")])
    with pytest.raises(TypeError):
        Organisation("o", "某区", schools=[{"id": "s"}])


def test_duty_kinds() -> None:
    assert Duty("d", "职责", "二(三).1").kind is DutyKind.SAFETY
    assert Duty("d", "职责", "二(三).1").is_safety
    assert not Duty("d", "职责", "二(三).1", kind=DutyKind.BUSINESS).is_safety


# -- Rules -----------------------------------------------------------------------------------------


def test_rules_defaults_are_the_plans() -> None:
    rules = Rules()
    assert rules.topic_studies_per_quarter == 2  # 二(三).1 每季度专题研究…两次以上
    assert rules.inspections_per_school_per_quarter == 2  # 三.2 每季度…两次专门督查
    assert rules.report_due is ReportDue.QUARTER_END  # 三.2 每季度末…书面报告
    assert rules.coordination_meetings_per_quarter == 1  # 三.3 每季度…调度会
    assert rules.major_hazard_report_hours == 0  # 三.2 重大安全隐患…立即上报
    assert rules.summary_meetings_per_year == 1  # 二(一).3 每年…总结表彰会议
    assert [(c.id, c.name, c.clause) for c in rules.assessment_categories] == [
        ("system_implementation", "制度落实", "三.4"),
        ("hazard_remediation", "隐患排查治理", "三.4"),
        ("package_incidents", "分包学校事故发生", "三.4"),
    ]


def test_every_rule_has_a_clause() -> None:
    fields = attrs.fields(Rules)
    assert len(fields) == 13
    for field in fields:
        clause = clause_of(field.name)
        assert clause == field.metadata["clause"]
        assert clause[0] in "一二三", field.name  # a clause of the plan
    assert clause_of("topic_studies_per_quarter") == "二(三).1"
    assert clause_of("inspections_per_school_per_quarter") == "三.2"
    assert clause_of("report_due") == "三.2"
    assert clause_of("coordination_meetings_per_quarter") == "三.3"
    assert clause_of("major_hazard_report_hours") == "三.2"
    assert clause_of("summary_meetings_per_year") == "二(一).3"
    assert clause_of("assessment_categories") == "三.4"


def test_clause_of_an_unknown_rule() -> None:
    with pytest.raises(KeyError, match="no rule named 'inspections'"):
        clause_of("inspections")


def test_rules_can_be_overridden() -> None:
    rules = Rules(inspections_per_school_per_quarter=4, major_hazard_report_hours=2)
    assert rules.inspections_per_school_per_quarter == 4
    assert rules.topic_studies_per_quarter == 2
    assert Rules(report_due="quarter_end").report_due is ReportDue.QUARTER_END
    one = (AssessmentCategory("safety", "安全", "safety"),)
    assert Rules(assessment_categories=list(one)).assessment_categories == one


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"topic_studies_per_quarter": -1}, "must be >= 0"),
        ({"inspections_per_school_per_quarter": "2"}, "must be <class 'int'>"),
        ({"major_hazard_report_hours": 1.5}, "must be <class 'int'>"),
        ({"report_due": "monthly"}, "is not a valid ReportDue"),
        ({"assessment_categories": ()}, "at least one category is needed"),
        (
            {
                "assessment_categories": (
                    AssessmentCategory("a", "甲", "a"),
                    AssessmentCategory("a", "乙", "b"),
                )
            },
            "category ids must be unique",
        ),
    ],
)
def test_rules_reject(kwargs: dict[str, Any], error: str) -> None:
    with pytest.raises((ValueError, TypeError), match=error):
        Rules(**kwargs)


# -- look-ups --------------------------------------------------------------------------------------


def _duty(id_: str, **kwargs: Any) -> Duty:
    return Duty(id_, "职责", "二(三).1", **kwargs)


@pytest.fixture
def org() -> Organisation:
    return Organisation(
        "o",
        "某区",
        hazard_domains=[
            HazardDomain("heat", "防暑降温", "heat illness"),
            HazardDomain("fire", "消防（本区）", "fire (local)"),
        ],
        units=[
            Unit(
                "lg",
                "领导小组",
                UnitKind.LEADING_GROUP,
                posts=[Post("chief", "局长", Role.LEADER)],
                duties=[_duty("lg.1")],
            ),
            Unit(
                "plan",
                "规划科",
                UnitKind.SECTION,
                posts=[Post("plan.head", "科长", Role.SECTION_HEAD)],
                areas=[BusinessArea("buildings", "校舍")],
                duties=[_duty("plan.1", area="buildings"), _duty("plan.2")],
            ),
            Unit("centre", "资助中心", UnitKind.CENTRE),
            Unit("g7", "七年级组", UnitKind.GRADE_GROUP, parent="plan"),
        ],
        common_duties=[
            _duty("c.sections", applies_to={UnitKind.SECTION, UnitKind.CENTRE}),
            _duty("c.all", applies_to=set(UnitKind)),
            _duty("c.grades", applies_to={UnitKind.GRADE_GROUP}),
        ],
    )


def test_duties_of_applies_common_duties_by_unit_kind(org: Organisation) -> None:
    def duties(unit_id: str) -> list[str]:
        (unit,) = [u for u in org.units if u.id == unit_id]
        return [d.id for d in org.duties_of(unit)]

    assert duties("lg") == ["lg.1", "c.all"]
    assert duties("plan") == ["plan.1", "plan.2", "c.sections", "c.all"]
    assert duties("centre") == ["c.sections", "c.all"]
    assert duties("g7") == ["c.all", "c.grades"]
    # a unit that is not in the organisation gets the common duties of its kind
    assert [d.id for d in org.duties_of(Unit("x", "办公室", UnitKind.OFFICE))] == ["c.all"]


def test_all_duties_and_posts(org: Organisation) -> None:
    listed = [(u.id if u else None, d.id) for u, d in org.all_duties()]
    assert listed == [
        ("lg", "lg.1"),
        ("plan", "plan.1"),
        ("plan", "plan.2"),
        (None, "c.sections"),
        (None, "c.all"),
        (None, "c.grades"),
    ]
    assert [(u.id, p.id) for u, p in org.iter_posts()] == [("lg", "chief"), ("plan", "plan.head")]


def test_hazard_domain_registry(org: Organisation) -> None:
    registry = org.hazard_domain_registry()
    assert set(registry) == set(BUILTIN_HAZARD_DOMAINS) | {"heat"}
    assert registry["heat"].name == "防暑降温"
    assert registry["fire"].name == "消防（本区）"  # the organisation's own label wins
    assert registry["food"] is BUILTIN_HAZARD_DOMAINS["food"]
    # the built-in registry is not changed
    assert BUILTIN_HAZARD_DOMAINS["fire"].name == "消防安全"
    assert "heat" not in BUILTIN_HAZARD_DOMAINS
    assert Organisation("x", "某区").hazard_domain_registry() == BUILTIN_HAZARD_DOMAINS


def test_builtin_hazard_domains_cover_the_plan() -> None:
    for domain in (
        "fire", "food", "buildings", "construction", "traffic", "lab_chemicals", "network",
        "infectious_disease", "exams", "large_activities", "finance_assets", "personnel",
        "petitions",
    ):  # fmt: skip
        assert domain in BUILTIN_HAZARD_DOMAINS
    for key, builtin in BUILTIN_HAZARD_DOMAINS.items():
        assert builtin.id == key


# -- validation ------------------------------------------------------------------------------------


def test_validated_returns_a_valid_organisation(org: Organisation) -> None:
    args = attrs.asdict(org, recurse=False)
    assert Organisation.validated(**args) == org


def test_validated_raises_with_every_problem() -> None:
    with pytest.raises(InvalidOrganisation) as info:
        Organisation.validated(
            "o",
            "某区",
            people=[Person("p", "张三"), Person("p", "李四")],
            units=[
                Unit("a", "甲科", UnitKind.SECTION, parent="ghost"),
                Unit(
                    "b", "乙科", UnitKind.SECTION, posts=[Post("x", "科长", Role.DEPUTY, "nobody")]
                ),
            ],
            packages=[Package("k", "a", schools=["s"])],
        )
    error = info.value
    assert isinstance(error, DualdutyError)
    assert error.source is None
    assert error.problems == (
        Problem("people[1].id", "duplicate person id 'p' (first at people[0])"),
        Problem("units[0].parent", "unknown unit 'ghost'"),
        Problem("units[1].posts[0].holder", "unknown person 'nobody'"),
        Problem("units[1].posts[0].role", "deputy posts belong in the leading group, not in 'b'"),
        Problem("packages[0].schools[0]", "unknown school 's'"),
    )
    lines = str(error).splitlines()
    assert lines[0] == "organisation: 5 problems found"
    assert lines[2] == "  organisation: units[0].parent: unknown unit 'ghost'"


def test_validated_checks_values_first() -> None:
    with pytest.raises(ValueError, match="is not a valid id"):
        Organisation.validated("O", "某区")


def test_check_names_the_source() -> None:
    org = Organisation("o", "某区", units=[Unit("a", "甲科", UnitKind.SECTION, parent="a")])
    assert org.problems() == [Problem("units[0].parent", "units form a cycle: a -> a")]
    with pytest.raises(InvalidOrganisation) as info:
        org.check("plan.toml")
    assert info.value.source == "plan.toml"
    assert str(info.value) == (
        "plan.toml: 1 problem found\n  plan.toml: units[0].parent: units form a cycle: a -> a"
    )
    Organisation("o", "某区").check()  # nothing to report, nothing raised


def test_problem_text() -> None:
    assert str(Problem("units[3].duties[2].area", "unknown business area 'exam'")) == (
        "units[3].duties[2].area: unknown business area 'exam'"
    )
    assert str(Problem("", "not valid TOML")) == "not valid TOML"
    assert sorted([Problem("b", "x"), Problem("a", "y")])[0].path == "a"


def test_an_empty_organisation_is_valid() -> None:
    org = Organisation("o", "某区")
    assert org.problems() == []
    assert org.kind is OrgKind.BUREAU
    assert org.timezone == "Asia/Shanghai"
    assert org.rules == Rules()


# -- immutability ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        (Person("p", "张三"), "name"),
        (Post("p", "局长", Role.LEADER), "holder"),
        (Unit("u", "规划科", UnitKind.SECTION), "posts"),
        (Duty("d", "职责", "二(三).1"), "hazards"),
        (School("s", "一中", SchoolLevel.JUNIOR), "students"),
        (Package("k", "h", schools=["s"]), "schools"),
        (Place("p", "七年级", PlaceKind.GRADE), "parent"),
        (InCharge("p", ["u"]), "units"),
        (BusinessArea("a", "校舍"), "name"),
        (HazardDomain("h", "防暑", "heat"), "name"),
        (Rules(), "topic_studies_per_quarter"),
        (Organisation("o", "某区"), "units"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else v,
)
def test_model_objects_are_frozen_and_slotted(obj: Any, field: str) -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(obj, field, None)
    with pytest.raises((AttributeError, TypeError)):
        obj.extra = 1  # slots: no new attributes
    assert not hasattr(obj, "__dict__")
    assert hash(obj) == hash(attrs.evolve(obj))
    assert obj == attrs.evolve(obj)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(organisations(), st.data())
def test_organisations_are_hashable_values(org: Organisation, data: st.DataObject) -> None:
    copy = attrs.evolve(org)
    assert copy == org
    assert hash(copy) == hash(org)
    assert len({org, copy}) == 1
    renamed = attrs.evolve(org, name=data.draw(st.text(min_size=1).filter(str.strip)))
    assert (renamed == org) == (renamed.name == org.name)
