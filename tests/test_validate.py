"""Every rule an organisation or a district file can break, with the path it is reported at.

Each case starts from the valid ``district_data`` fixture, breaks one rule and checks
the exact list of problem paths and a distinctive part of each message. Cross-reference
cases also check that :meth:`Organisation.problems` reports the same problems when the
organisation is built in Python, so the loader adds nothing and hides nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from dualduty import InvalidOrganisation, Organisation, Problem
from dualduty.io import from_data, load, loads
from dualduty.io._converters import Format, converter

Data = dict[str, Any]
Change = Callable[[Data], None]

_TOKEN = re.compile(r"([a-z_]+)|\[(\d+)\]")


def _walk(data: Data, path: str) -> tuple[Any, Any]:
    """The container holding the last step of *path* (``units[3].parent``) and that step."""
    steps: list[str | int] = [name if name else int(index) for name, index in _TOKEN.findall(path)]
    node: Any = data
    for step in steps[:-1]:
        node = node[step]
    return node, steps[-1]


def put(path: str, value: Any) -> Change:
    """Set the value at *path*."""

    def change(data: Data) -> None:
        node, key = _walk(data, path)
        node[key] = value

    return change


def drop(path: str) -> Change:
    """Remove the key at *path*."""

    def change(data: Data) -> None:
        node, key = _walk(data, path)
        del node[key]

    return change


def add(path: str, item: Any) -> Change:
    """Append *item* to the list at *path*."""

    def change(data: Data) -> None:
        node, key = _walk(data, path)
        node[key].append(item)

    return change


def problems_of(data: Data, fmt: Format = "json") -> list[Problem]:
    """The problems the loader reports for *data* (empty when it loads)."""
    try:
        from_data(data, fmt, source="district.json")
    except InvalidOrganisation as exc:
        if exc.source != "district.json":
            raise AssertionError(f"the error names {exc.source!r}, not the source") from exc
        return list(exc.problems)
    return []


class Case(NamedTuple):
    id: str
    changes: tuple[Change, ...]
    expected: tuple[tuple[str, str], ...]
    """(path, distinctive part of the message) for every problem, in document order."""


def case(name: str, *changes: Change, expect: list[tuple[str, str]]) -> Case:
    return Case(name, changes, tuple(expect))


def _check(found: list[Problem], expected: tuple[tuple[str, str], ...]) -> None:
    assert [p.path for p in found] == [path for path, _ in expected], found
    for problem, (_, fragment) in zip(found, expected, strict=True):
        assert fragment in problem.message, problem


def test_the_fixture_is_valid(district_data: Data) -> None:
    org = from_data(district_data)
    assert org.problems() == []
    assert [u.id for u in org.units] == ["lg", "office", "safety", "planning"]


# -- cross-reference rules (model/validate.py) ---------------------------------------------

SECTION = {"id": "extra", "name": "审计科", "kind": "section"}

RULES = [
    # duplicate ids
    case(
        "duplicate-person",
        add("people", {"id": "wang", "name": "王二"}),
        expect=[("people[3].id", "duplicate person id 'wang' (first at people[0])")],
    ),
    case(
        "duplicate-unit",
        add("units", {"id": "planning", "name": "规划科", "kind": "section"}),
        expect=[("units[4].id", "duplicate unit id 'planning' (first at units[3])")],
    ),
    case(
        "duplicate-post-in-one-unit",
        add("units[2].posts", {"id": "safety.staff", "title": "干部", "role": "staff"}),
        expect=[
            (
                "units[2].posts[2].id",
                "duplicate post id 'safety.staff' (first at units[2].posts[1])",
            )
        ],
    ),
    case(
        "post-in-two-units",
        add("units[3].posts", {"id": "safety.staff", "title": "干部", "role": "staff"}),
        expect=[
            (
                "units[3].posts[2].id",
                "post 'safety.staff' is in two units: 'safety' (units[2].posts[1]) and 'planning'",
            )
        ],
    ),
    case(
        "post-id-is-a-unit-id",
        add("units[3].posts", {"id": "safety", "title": "干部", "role": "staff"}),
        expect=[
            (
                "units[3].posts[2].id",
                "post id 'safety' is also the id of a unit (units[2])",
            )
        ],
    ),
    case(
        "duplicate-duty-across-units",
        add("units[3].duties", {"id": "safety.1", "text": "重复", "clause": "二(四).规划科.2"}),
        expect=[
            ("units[3].duties[1].id", "duplicate duty id 'safety.1' (first at units[2].duties[0])")
        ],
    ),
    case(
        "duplicate-duty-unit-and-common",
        add(
            "common_duties",
            {"id": "planning.1", "text": "重复", "clause": "二(三).2", "applies_to": ["section"]},
        ),
        expect=[
            ("common_duties[1].id", "duplicate duty id 'planning.1' (first at units[3].duties[0])")
        ],
    ),
    case(
        "duplicate-school",
        add("schools", {"id": "no1", "name": "另一所第一中学", "level": "senior"}),
        expect=[("schools[2].id", "duplicate school id 'no1' (first at schools[0])")],
    ),
    case(
        "duplicate-place",
        add("places", {"id": "grade7", "name": "七年级", "kind": "grade"}),
        expect=[("places[2].id", "duplicate place id 'grade7' (first at places[0])")],
    ),
    case(
        "duplicate-package",
        add("packages", {"id": "pk.deputy1", "holder": "member1", "schools": ["shiyan"]}),
        expect=[("packages[2].id", "duplicate package id 'pk.deputy1' (first at packages[0])")],
    ),
    case(
        "duplicate-hazard-domain",
        add("hazard_domains", {"id": "heat", "name": "高温", "name_en": "heat"}),
        expect=[
            (
                "hazard_domains[1].id",
                "duplicate hazard domain id 'heat' (first at hazard_domains[0])",
            )
        ],
    ),
    case(
        "duplicate-business-area-in-a-unit",
        add("units[2].areas", {"id": "law", "name": "法治"}),
        expect=[
            (
                "units[2].areas[1].id",
                "duplicate business area id 'law' (first at units[2].areas[0])",
            )
        ],
    ),
    # unknown references
    case(
        "unknown-post-holder",
        put("units[0].posts[2].holder", "nobody"),
        expect=[("units[0].posts[2].holder", "unknown person 'nobody'")],
    ),
    case(
        "unknown-unit-parent",
        put("units[3].parent", "nowhere"),
        expect=[("units[3].parent", "unknown unit 'nowhere'")],
    ),
    case(
        "unknown-seat",
        put("units[1].seated_in", "nowhere"),
        expect=[("units[1].seated_in", "unknown unit 'nowhere'")],
    ),
    case(
        "unknown-head-post",
        put("units[2].head_post", "ghost"),
        expect=[("units[2].head_post", "unknown post 'ghost'")],
    ),
    case(
        "unknown-duty-area",
        put("units[2].duties[0].area", "exam"),
        expect=[
            (
                "units[2].duties[0].area",
                "unknown business area 'exam' of unit 'safety' (it has: law)",
            )
        ],
    ),
    case(
        "unknown-duty-area-unit-without-areas",
        drop("units[2].areas"),
        expect=[("units[2].duties[0].area", "unknown business area 'law' of unit 'safety'")],
    ),
    case(
        "unknown-duty-hazard",
        put("units[3].duties[0].hazards", ["buildings", "volcano"]),
        expect=[("units[3].duties[0].hazards", "unknown hazard domain 'volcano'")],
    ),
    case(
        "unknown-common-duty-hazard",
        put("common_duties[0].hazards", ["meteor"]),
        expect=[("common_duties[0].hazards", "unknown hazard domain 'meteor'")],
    ),
    case(
        "unknown-in-charge-post",
        put("in_charge[0].post", "ghost"),
        expect=[("in_charge[0].post", "unknown post 'ghost'")],
    ),
    case(
        "unknown-in-charge-unit",
        put("in_charge[0].units", ["safety", "ghost"]),
        expect=[("in_charge[0].units[1]", "unknown unit 'ghost'")],
    ),
    case(
        "unknown-package-holder",
        put("packages[0].holder", "ghost"),
        expect=[("packages[0].holder", "unknown holder 'ghost' (no such post or unit)")],
    ),
    case(
        "unknown-package-school",
        put("packages[0].schools", ["no1", "ghost"]),
        expect=[("packages[0].schools[1]", "unknown school 'ghost'")],
    ),
    case(
        "unknown-package-place",
        put("packages[0].places", ["grade7", "grade9"]),
        expect=[("packages[0].places[1]", "unknown place 'grade9'")],
    ),
    case(
        "unknown-package-staff",
        put("packages[1].staff", ["planning.staff", "ghost"]),
        expect=[("packages[1].staff[1]", "unknown post 'ghost'")],
    ),
    case(
        "unknown-place-parent",
        put("places[1].parent", "grade9"),
        expect=[("places[1].parent", "unknown place 'grade9'")],
    ),
    # the office, its seat and head
    case(
        "office-without-seat",
        drop("units[1].seated_in"),
        expect=[("units[1].seated_in", "office 'office' has no seat")],
    ),
    case(
        "seat-on-a-non-office",
        put("units[3].seated_in", "safety"),
        expect=[("units[3].seated_in", "only an office has a seat, not a section")],
    ),
    case(
        "office-seated-in-a-non-section",
        put("units[1].seated_in", "lg"),
        expect=[
            (
                "units[1].seated_in",
                "an office is seated in a section or centre, not a leading group",
            )
        ],
    ),
    case(
        "head-post-from-another-unit",
        put("units[3].head_post", "safety.head"),
        expect=[
            (
                "units[3].head_post",
                "'safety.head' is a post of 'safety'; a unit is headed by its own post",
            )
        ],
    ),
    case(
        "office-headed-by-a-third-unit",
        put("units[1].head_post", "planning.head"),
        expect=[
            (
                "units[1].head_post",
                "'planning.head' is a post of 'planning'; a unit is headed by its own or its "
                "seat's post",
            )
        ],
    ),
    # packages
    case(
        "package-held-by-the-office",
        put("packages[1].holder", "office"),
        put("packages[1].staff", []),
        expect=[
            (
                "packages[1].holder",
                "'office' is an office; a package is held by a leading-group post",
            )
        ],
    ),
    case(
        "package-held-by-the-leading-group",
        put("packages[1].holder", "lg"),
        put("packages[1].staff", []),
        expect=[("packages[1].holder", "'lg' is a leading group")],
    ),
    case(
        "package-held-by-a-section-post",
        put("packages[0].holder", "planning.staff"),
        expect=[
            (
                "packages[0].holder",
                "post 'planning.staff' is in 'planning', not in the leading group; a section's "
                "package names the section as holder and the post under staff",
            )
        ],
    ),
    case(
        "staff-on-a-post-held-package",
        put("packages[0].staff", ["safety.staff"]),
        expect=[("packages[0].staff", "only a unit holder names staff")],
    ),
    case(
        "package-without-targets",
        put("packages[0].schools", []),
        expect=[("packages[0]", "package 'pk.deputy1' has no schools or places")],
    ),
    case(
        "staff-from-another-unit",
        put("packages[1].staff", ["safety.staff"]),
        expect=[
            (
                "packages[1].staff[0]",
                "post 'safety.staff' is in 'safety', not in the holder 'planning'",
            )
        ],
    ),
    # in charge
    case(
        "in-charge-post-outside-the-leading-group",
        put("in_charge[0].post", "planning.head"),
        expect=[
            (
                "in_charge[0].post",
                "post 'planning.head' is in 'planning'; only leading-group posts are in charge of "
                "units",
            )
        ],
    ),
    case(
        "in-charge-of-a-non-section",
        put("in_charge[0].units", ["safety", "office"]),
        expect=[
            (
                "in_charge[0].units[1]",
                "'office' is an office; a post is in charge of sections, centres or grade groups",
            )
        ],
    ),
    # cycles
    case(
        "unit-cycle",
        put("units[2].parent", "planning"),
        put("units[3].parent", "safety"),
        expect=[("units[2].parent", "units form a cycle: safety -> planning -> safety")],
    ),
    case(
        "unit-is-its-own-parent",
        put("units[3].parent", "planning"),
        expect=[("units[3].parent", "units form a cycle: planning -> planning")],
    ),
    case(
        "unit-cycle-of-three-reported-once",
        put("units[1].parent", "planning"),
        put("units[2].parent", "office"),
        put("units[3].parent", "safety"),
        expect=[("units[1].parent", "units form a cycle: office -> planning -> safety -> office")],
    ),
    case(
        "place-cycle",
        put("places[0].parent", "class7-1"),
        expect=[("places[0].parent", "places form a cycle: grade7 -> class7-1 -> grade7")],
    ),
    # dates
    case(
        "as-of-before-1970",
        put("as_of", "1969-12-31"),
        expect=[("as_of", "date 1969-12-31 is out of range (1970-01-01 to 2099-12-31)")],
    ),
    case(
        "post-since-after-2099",
        put("units[0].posts[0].since", "2100-01-01"),
        expect=[("units[0].posts[0].since", "date 2100-01-01 is out of range")],
    ),
    case(
        "in-charge-start-out-of-range",
        put("in_charge[0].start", "1900-09-01"),
        expect=[("in_charge[0].start", "date 1900-09-01 is out of range")],
    ),
    case(
        "package-end-out-of-range",
        put("packages[0].end", "2100-07-01"),
        expect=[("packages[0].end", "date 2100-07-01 is out of range")],
    ),
    case(
        "package-ends-before-it-starts",
        put("packages[0].start", "2024-09-01"),
        put("packages[0].end", "2024-08-31"),
        expect=[("packages[0].end", "ends 2024-08-31, before it starts 2024-09-01")],
    ),
    case(
        "in-charge-ends-before-it-starts",
        put("in_charge[0].start", "2025-01-01"),
        put("in_charge[0].end", "2024-12-31"),
        expect=[("in_charge[0].end", "ends 2024-12-31, before it starts 2025-01-01")],
    ),
    # the leading group and roles
    case(
        "second-leading-group",
        add("units", {"id": "lg2", "name": "第二领导小组", "kind": "leading_group"}),
        expect=[
            ("units[4].kind", "a second leading group 'lg2'; the organisation already has 'lg'")
        ],
    ),
    case(
        "two-leaders",
        put("units[0].posts[1].role", "leader"),
        expect=[("units[0].posts", "the leading group has 2 leaders: ['chief', 'deputy1']")],
    ),
    case(
        "leading-role-outside-the-leading-group",
        put("units[2].posts[1].role", "deputy"),
        expect=[
            ("units[2].posts[1].role", "deputy posts belong in the leading group, not in 'safety'")
        ],
    ),
    case(
        "non-leading-role-in-the-leading-group",
        put("units[0].posts[2].role", "staff"),
        expect=[
            (
                "units[0].posts[2].role",
                "a leading-group post is a leader, deputy or member, not staff",
            )
        ],
    ),
    # duties
    case(
        "applies-to-on-a-unit-duty",
        put("units[2].duties[0].applies_to", ["section"]),
        expect=[("units[2].duties[0].applies_to", "applies_to is only for common duties")],
    ),
    case(
        "common-duty-without-applies-to",
        drop("common_duties[0].applies_to"),
        expect=[
            ("common_duties[0].applies_to", "a common duty must name the unit kinds it applies to")
        ],
    ),
    case(
        "common-duty-with-an-area",
        put("common_duties[0].area", "law"),
        expect=[("common_duties[0].area", "a common duty has no business area of its own")],
    ),
    case(
        "duty-role-without-such-a-post",
        put("units[2].duties[0].role", "deputy"),
        expect=[("units[2].duties[0].role", "unit 'safety' has no deputy post")],
    ),
]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule(rule: Case, district_data: Data) -> None:
    for change in rule.changes:
        change(district_data)
    found = problems_of(district_data)
    _check(found, rule.expected)
    # The same organisation built in Python (no loader) reports the same problems.
    org = converter("json").structure(district_data, Organisation)
    assert org.problems() == found
    with pytest.raises(InvalidOrganisation) as info:
        org.check()
    assert list(info.value.problems) == found
    assert info.value.source is None


ALLOWED = [
    case("office-headed-by-its-seats-post", expect=[]),  # the fixture as it is
    case(
        "office-headed-by-its-own-post",
        put(
            "units[1].posts", [{"id": "office.head", "title": "办公室主任", "role": "section_head"}]
        ),
        put("units[1].head_post", "office.head"),
        expect=[],
    ),
    case(
        "the-same-area-id-in-two-units",
        add("units[3].areas", {"id": "law", "name": "依法行政"}),
        expect=[],
    ),
    case(
        "an-organisation-hazard-domain",
        put("units[2].duties[0].hazards", ["heat", "fire"]),
        expect=[],
    ),
    case("a-package-of-places", put("packages[0].places", ["class7-1"]), expect=[]),
    case(
        "a-package-held-by-a-member",
        add("packages", {"id": "pk.member1", "holder": "member1", "schools": ["shiyan"]}),
        expect=[],
    ),
    case(
        "a-section-package-without-staff",
        drop("packages[1].staff"),
        expect=[],
    ),
    case(
        "a-duty-role-the-unit-has",
        put("units[2].duties[0].role", "staff"),
        expect=[],
    ),
    case(
        "dates-on-the-boundaries",
        put("as_of", "1970-01-01"),
        put("packages[0].start", "1970-01-01"),
        put("packages[0].end", "2099-12-31"),
        put("in_charge[0].start", "2024-01-01"),
        put("in_charge[0].end", "2024-01-01"),
        expect=[],
    ),
    case(
        "in-charge-of-a-centre-and-a-grade-group",
        add("units", {"id": "zizhu", "name": "学生资助管理中心", "kind": "centre"}),
        add("units", {"id": "g7", "name": "七年级组", "kind": "grade_group", "parent": "planning"}),
        put("in_charge[0].units", ["zizhu", "g7"]),
        expect=[],
    ),
    case(
        "no-leading-group-at-all",
        put("units", [SECTION]),
        put("in_charge", []),
        put("packages", []),
        expect=[],
    ),
]


@pytest.mark.parametrize("rule", ALLOWED, ids=[r.id for r in ALLOWED])
def test_allowed(rule: Case, district_data: Data) -> None:
    for change in rule.changes:
        change(district_data)
    assert problems_of(district_data) == []


def test_an_unknown_seat_does_not_also_blame_the_head_post(district_data: Data) -> None:
    # The office is headed by 法规安全科's head; with the seat wrong, only the seat is reported.
    for seat in ("nowhere", "lg"):
        district_data["units"][1]["seated_in"] = seat
        assert [p.path for p in problems_of(district_data)] == ["units[1].seated_in"]


def test_problems_come_in_document_order(district_data: Data) -> None:
    put("packages[1].schools", ["ghost"])(district_data)
    put("units[3].parent", "nowhere")(district_data)
    put("people[2].id", "wang")(district_data)
    put("units[0].posts[2].holder", "nobody")(district_data)
    found = problems_of(district_data)
    assert [p.path for p in found] == [
        "people[2].id",
        "units[0].posts[2].holder",
        "units[2].posts[0].holder",  # held by 'zhao', whose id was changed
        "units[3].parent",
        "packages[1].schools[0]",
    ]


# -- the loader's own rules (io/files.py, io/_converters.py) --------------------------------

SHAPE = [
    case(
        "unknown-top-level-key",
        put("schoolz", []),
        expect=[("schoolz", "unknown key 'schoolz'")],
    ),
    case(
        "unknown-nested-key",
        put("units[2].posts[0].phone", "12345"),
        expect=[("units[2].posts[0].phone", "unknown key 'phone'")],
    ),
    case(
        "two-unknown-nested-keys",
        put("schools[1].principal", "张校长"),
        put("schools[1].address", "人民路1号"),
        expect=[
            ("schools[1].address", "unknown key 'address'"),
            ("schools[1].principal", "unknown key 'principal'"),
        ],
    ),
    case(
        "unknown-key-in-rules",
        put("rules", {"inspections_per_quarter": 3}),
        expect=[("rules.inspections_per_quarter", "unknown key 'inspections_per_quarter'")],
    ),
    case(
        "missing-required-field",
        drop("schools[1].level"),
        expect=[("schools[1].level", "required field missing")],
    ),
    case(
        "missing-organisation-id",
        drop("id"),
        expect=[("id", "required field missing")],
    ),
    case(
        "missing-organisation-name",
        drop("name"),
        expect=[("name", "required field missing")],
    ),
    case(
        "int-for-text",
        put("schools[1].name", 3),
        expect=[("schools[1].name", "expected text, got int 3")],
    ),
    case(
        "int-for-text-at-the-top",
        put("name", 2024),
        expect=[("name", "expected text, got int 2024")],
    ),
    case(
        "text-for-int",
        put("schools[0].students", "1200"),
        expect=[("schools[0].students", "expected a whole number, got str '1200'")],
    ),
    case(
        "bool-for-int",
        put("schools[0].students", True),
        expect=[("schools[0].students", "expected a whole number, got bool True")],
    ),
    case(
        "float-for-int",
        put("rules", {"inspections_per_school_per_quarter": 2.5}),
        expect=[
            ("rules.inspections_per_school_per_quarter", "expected a whole number, got float 2.5")
        ],
    ),
    case(
        "text-for-a-list",
        put("packages[0].schools", "no1"),
        expect=[("packages[0].schools", "expected a list, got str 'no1'")],
    ),
    case(
        "text-for-a-set",
        put("units[2].duties[0].hazards", "fire"),
        expect=[("units[2].duties[0].hazards", "expected a list, got str 'fire'")],
    ),
    case(
        "text-for-a-table",
        put("units[2].posts[1]", "safety.staff"),
        # 法规安全科 fails to load as a whole; what names it is not blamed as well
        expect=[("units[2].posts[1]", "expected a table of keys, got str 'safety.staff'")],
    ),
    case(
        "a-table-for-a-list",
        put("schools", {"id": "no1"}),
        expect=[
            ("schools", "expected a list, got dict"),
            # 'no1' is excused (it is in the broken value), 'shiyan' is nowhere
            ("packages[1].schools[0]", "unknown school 'shiyan'"),
        ],
    ),
    case(
        "bad-enum",
        put("schools[1].level", "college"),
        expect=[
            (
                "schools[1].level",
                "'college' is not one of: 'kindergarten', 'primary', "
                "'junior', 'senior', 'nine_year', 'vocational', 'special', 'adult', 'training'",
            )
        ],
    ),
    case(
        "bad-enum-in-a-set",
        put("units[2].duties[0].activities", ["inspect", "patrol"]),
        expect=[("units[2].duties[0].activities[1]", "'patrol' is not one of: 'plan', 'coord")],
    ),
    case(
        "bad-role",
        put("units[3].posts[1].role", "clerk"),
        expect=[("units[3].posts[1].role", "'clerk' is not one of: 'leader'")],
    ),
    case(
        "bad-id-slug",
        put("people[1].id", "Li Weidong"),
        expect=[
            (
                "people[1].id",
                "'Li Weidong' is not a valid id (lower-case ASCII letters, digits, '_', '-', '.'",
            ),
            # nobody has the id 'li' any more
            ("units[0].posts[1].holder", "unknown person 'li'"),
        ],
    ),
    case(
        "bad-id-slug-in-a-reference",
        put("in_charge[0].units", ["safety", "Planning"]),
        expect=[("in_charge[0].units", "'Planning' is not a valid id")],
    ),
    case(
        "bad-organisation-id",
        put("id", "示范区"),
        expect=[("id", "'示范区' is not a valid id")],
    ),
    case(
        "blank-text",
        put("people[0].name", "   "),
        expect=[("people[0].name", "must be non-empty text")],
    ),
    case(
        "negative-students",
        put("schools[0].students", -5),
        expect=[("schools[0].students", "must be >= 0, got -5")],
    ),
    case(
        "negative-rule",
        put("rules", {"topic_studies_per_quarter": -1}),
        expect=[("rules.topic_studies_per_quarter", "must be >= 0")],
    ),
    case(
        "no-assessment-categories",
        put("rules", {"assessment_categories": []}),
        expect=[("rules.assessment_categories", "at least one category is needed")],
    ),
    case(
        "bad-date-string",
        put("packages[0].start", "2024-02-30"),
        expect=[("packages[0].start", "expected a date as YYYY-MM-DD, got '2024-02-30'")],
    ),
    case(
        "date-in-another-layout",
        put("as_of", "2024/09/01"),
        expect=[("as_of", "expected a date as YYYY-MM-DD, got '2024/09/01'")],
    ),
    case(
        "iso-week-date",
        put("as_of", "2024-W36-1"),
        expect=[("as_of", "expected a date as YYYY-MM-DD, got '2024-W36-1'")],
    ),
    case(
        "basic-iso-date",
        put("as_of", "20240901"),
        expect=[("as_of", "expected a date as YYYY-MM-DD, got '20240901'")],
    ),
    case(
        "number-for-a-date",
        put("units[0].posts[0].since", 20240901),
        expect=[("units[0].posts[0].since", "expected a date as YYYY-MM-DD, got 20240901")],
    ),
    case(
        "bad-timezone",
        put("timezone", "Asia/Beijing"),
        expect=[("timezone", "unknown time zone 'Asia/Beijing'")],
    ),
    case(
        "unsupported-format-version",
        put("format", 2),
        expect=[("format", "file format 2 is not supported; this dualduty reads format 1")],
    ),
    case(
        "format-version-as-text",
        put("format", "1"),
        expect=[("format", "file format '1' is not supported")],
    ),
]


@pytest.mark.parametrize("rule", SHAPE, ids=[r.id for r in SHAPE])
def test_file_rule(rule: Case, district_data: Data) -> None:
    for change in rule.changes:
        change(district_data)
    _check(problems_of(district_data), rule.expected)


def test_format_1_is_accepted(district_data: Data) -> None:
    district_data["format"] = 1
    assert problems_of(district_data) == []


def test_a_bad_date_in_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "district.json"
    path.write_text(json.dumps({"id": "x", "name": "某区", "as_of": "2024-9-1"}), encoding="utf-8")
    with pytest.raises(InvalidOrganisation) as info:
        load(path)
    assert info.value.problems == (
        Problem("as_of", "expected a date as YYYY-MM-DD, got '2024-9-1'"),
    )
    assert info.value.source == str(path)


def test_a_date_and_time_is_not_a_date() -> None:
    text = "id = 'x'\nname = '某区'\nas_of = 2024-09-01T08:00:00\n"
    with pytest.raises(InvalidOrganisation) as info:
        loads(text, "toml")
    assert info.value.problems == (
        Problem("as_of", "expected a date, got a date and time 2024-09-01T08:00:00"),
    )


@pytest.mark.parametrize(
    ("fmt", "text", "line"),
    [
        ("toml", "id = 'x'\nname = \n", "line 2"),
        ("toml", "id = 'x'\n[[units]\n", "line 2"),
        ("json", '{"id": "x",\n "name": "某区",}', "line 2"),
        ("json", '{"id": "x"', "line 1"),
        ("yaml", "id: x\nname: [某区\n", "line 2"),
        ("yaml", "id: x\n  name: y\n", "line 2"),
    ],
    ids=["toml-value", "toml-table", "json-comma", "json-eof", "yaml-flow", "yaml-indent"],
)
def test_syntax_errors(fmt: Format, text: str, line: str) -> None:
    with pytest.raises(InvalidOrganisation) as info:
        loads(text, fmt, source=f"bad.{fmt}")
    (problem,) = info.value.problems
    assert problem.path == ""
    assert problem.message.startswith(f"not valid {fmt.upper()}: ")
    assert line in problem.message  # the parser's position is passed on
    assert info.value.source == f"bad.{fmt}"
    assert str(info.value).startswith(f"bad.{fmt}: 1 problem found")


@pytest.mark.parametrize(
    ("fmt", "text", "got"),
    [("yaml", "- id: x\n", "list"), ("yaml", "", "NoneType"), ("json", '"x"', "str")],
)
def test_the_top_must_be_a_table(fmt: Format, text: str, got: str) -> None:
    with pytest.raises(InvalidOrganisation) as info:
        loads(text, fmt)
    assert info.value.problems == (Problem("", f"expected a table of keys at the top, got {got}"),)


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    raw = "id = 'x'\nname = '示范区教育体育局'\n".encode("gbk")
    path.write_bytes(raw)
    with pytest.raises(UnicodeDecodeError) as bad:
        raw.decode("utf-8")
    with pytest.raises(InvalidOrganisation) as info:
        load(path)
    (problem,) = info.value.problems
    assert problem.path == ""
    assert problem.message == f"not UTF-8 text (byte {bad.value.start}): save the file as UTF-8"
    assert info.value.source == str(path)


def test_a_utf8_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "x", "name": "某区"}).encode())
    assert load(path).name == "某区"


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(InvalidOrganisation) as info:
        load(path)
    assert info.value.problems == (Problem("", "cannot read the file: No such file or directory"),)
    assert info.value.source == str(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", ["org.txt", "org", "org.tom"])
def test_an_unknown_suffix(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("id = 'x'\nname = '某区'\n", encoding="utf-8")
    with pytest.raises(InvalidOrganisation) as info:
        load(path)
    (problem,) = info.value.problems
    assert "cannot tell the format from the suffix" in problem.message
    assert "use .toml, .json, .yaml or .yml, or name the format" in problem.message
    assert info.value.source == str(path)
    # naming the format reads it anyway
    assert load(path, "toml").id == "x"


# -- all or nothing -----------------------------------------------------------------------------


def test_three_mistakes_in_one_file(data_dir: Path) -> None:
    path = data_dir / "three_mistakes.toml"
    with pytest.raises(InvalidOrganisation) as info:
        load(path)
    error = info.value
    assert error.source == str(path)
    assert [(p.path, p.message) for p in error.problems] == [
        ("units[2].duties[0].area", "unknown business area 'exam' of unit 'safety' (it has: law)"),
        (
            "schools[1].level",
            "'middle' is not one of: 'kindergarten', 'primary', "
            "'junior', 'senior', 'nine_year', 'vocational', 'special', 'adult', 'training'",
        ),
        ("packages[0].schools[1]", "unknown school 'no9'"),
    ]
    lines = str(error).splitlines()
    assert lines[0] == f"{path}: 3 problems found"
    assert lines[1:] == [f"  {path}: {p}" for p in error.problems]


def test_the_three_mistakes_file_is_otherwise_the_fixture(
    data_dir: Path, district_data: Data
) -> None:
    # Guards the test above: fixing the three mistakes leaves a valid organisation.
    import tomllib

    data = tomllib.loads((data_dir / "three_mistakes.toml").read_text(encoding="utf-8"))
    data["units"][2]["duties"][0]["area"] = "law"
    data["schools"][1]["level"] = "primary"
    data["packages"][0]["schools"] = ["no1"]
    assert problems_of(data, "toml") == []
    assert from_data(data, "toml") == from_data(district_data)


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        # a school that failed to load is not reported again as unknown by its package
        (put("schools[0].level", "college"), "schools[0].level"),
        # a unit that failed to load: the in-charge edge, the package holder, its staff
        # post, the office's seat and head post all name it or its posts
        (put("units[2].kind", "department"), "units[2].kind"),
        (put("units[3].posts", 5), "units[3].posts"),
        # a person that failed to load is not reported again as an unknown holder
        (put("people[2].name", 5), "people[2].name"),
        # a whole top-level list in the wrong shape
        (lambda data: data.update(units={"all": data["units"]}), "units"),
    ],
    ids=["school", "unit", "posts", "person", "units-not-a-list"],
)
def test_references_to_broken_items_are_not_reported_twice(
    district_data: Data, change: Change, reported: str
) -> None:
    change(district_data)
    assert [p.path for p in problems_of(district_data)] == [reported]


def test_every_problem_of_every_item_is_listed(district_data: Data) -> None:
    # Problems in two items of one list, and two in one item, all come out.
    put("schools[0].name", 1)(district_data)
    put("schools[0].risk", "extreme")(district_data)
    put("schools[1].students", -1)(district_data)
    put("schools[1].facilities", ["canteen", "pool"])(district_data)
    paths = [p.path for p in problems_of(district_data)]
    assert paths == [
        "schools[0].name",
        "schools[0].risk",
        "schools[1].facilities[1]",
        # the value check (students >= 0) runs only once every field could be read
    ]
    put("schools[1].facilities", ["canteen"])(district_data)
    paths = [p.path for p in problems_of(district_data)]
    assert paths == ["schools[0].name", "schools[0].risk", "schools[1].students"]
