"""OrgGraph answers domain questions with model objects; networkx stays private."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import attrs
import pytest

from dualduty import (
    BusinessArea,
    ChainBasis,
    ChainLevel,
    Duty,
    InCharge,
    Organisation,
    OrgGraph,
    Package,
    Person,
    Post,
    Role,
    School,
    SchoolLevel,
    Unit,
    UnitKind,
    UnknownId,
)


def small_org(**changes: object) -> Organisation:
    """A bureau with a leader, two deputies, two sections, an office and three schools."""
    people = tuple(
        Person(f"p{i}", name)
        for i, name in enumerate(["局长甲", "副局乙", "副局丙", "科长丁", "干部戊", "科长己"])
    )
    leading = Unit(
        "lg",
        "领导小组",
        UnitKind.LEADING_GROUP,
        head_post="chief",
        posts=(
            Post("chief", "局长", Role.LEADER, holder="p0"),
            Post("dep-a", "副局长", Role.DEPUTY, holder="p1"),
            Post("dep-b", "副局长", Role.DEPUTY, holder="p2"),
        ),
    )
    safety = Unit(
        "safety",
        "法规安全科",
        UnitKind.SECTION,
        head_post="safety-head",
        posts=(
            Post("safety-head", "法规安全科科长", Role.SECTION_HEAD, holder="p3"),
            Post("safety-staff", "干部", Role.STAFF, holder="p4"),
        ),
        areas=(BusinessArea("safety-mgmt", "安全管理"),),
        duties=(
            Duty(
                "safety.1",
                "组织安全检查",
                "二(四).法规安全科.1",
                area="safety-mgmt",
                hazards={"fire", "food"},
            ),
        ),
    )
    planning = Unit(
        "planning",
        "规划科",
        UnitKind.SECTION,
        posts=(
            Post("planning-head", "规划科科长", Role.SECTION_HEAD, holder="p5"),
            Post("planning-staff", "干部", Role.STAFF),  # vacant
        ),
        areas=(BusinessArea("buildings", "校舍"), BusinessArea("works", "基建")),
        duties=(
            Duty(
                "planning.1",
                "校舍安全年检",
                "二(四).规划科.1",
                area="buildings",
                hazards={"buildings"},
            ),
            Duty(
                "planning.2",
                "建筑施工督查",
                "二(四).规划科.2",
                area="buildings",
                hazards={"construction", "fire"},
            ),
        ),
    )
    office = Unit("office", "领导小组办公室", UnitKind.OFFICE, seated_in="safety", parent="lg")
    schools = tuple(School(f"s{i}", f"第{i}小学", SchoolLevel.PRIMARY) for i in range(1, 4))
    values: dict[str, object] = {
        "id": "bureau",
        "name": "区教育局",
        "people": people,
        "units": (leading, office, safety, planning),
        "in_charge": (
            InCharge("dep-a", ("safety",)),
            InCharge("dep-b", ("planning",), end=dt.date(2026, 6, 30)),
        ),
        "schools": schools,
        "packages": (
            Package("pkg-a", "dep-a", schools=("s1", "s2")),
            Package("pkg-b", "chief", schools=("s3",)),
            Package("pkg-safety", "safety", schools=("s1", "s3"), staff=("safety-staff",)),
            Package("pkg-planning", "planning", schools=("s2",), start=dt.date(2026, 3, 1)),
        ),
    }
    values.update(changes)
    return Organisation.validated(**values)


@pytest.fixture
def graph() -> OrgGraph:
    return OrgGraph(small_org())


def test_heads_and_units(graph: OrgGraph) -> None:
    assert graph.head_of("safety").id == "safety-head"  # type: ignore[union-attr]
    # planning has no head_post: its only section head is found by role
    assert graph.head_of("planning").id == "planning-head"  # type: ignore[union-attr]
    # the office has no post of its own: its seat's head directs it (clause 一)
    assert graph.head_of("office").id == "safety-head"  # type: ignore[union-attr]
    assert graph.unit_of("dep-a").id == "lg"
    assert graph.leader().id == "chief"  # type: ignore[union-attr]
    assert graph.leading_group().id == "lg"  # type: ignore[union-attr]
    assert [u.id for u in graph.sections()] == ["safety", "planning"]


def test_people(graph: OrgGraph) -> None:
    assert graph.holder_of("chief").name == "局长甲"  # type: ignore[union-attr]
    assert graph.holder_of("planning-staff") is None
    assert [p.id for p in graph.posts_of("p3")] == ["safety-head"]


def test_in_charge(graph: OrgGraph) -> None:
    assert [p.id for p in graph.in_charge_of("safety")] == ["dep-a"]
    assert [u.id for u in graph.units_in_charge("dep-b")] == ["planning"]
    assert graph.in_charge_of("lg") == ()


def test_packages(graph: OrgGraph) -> None:
    assert [p.id for p in graph.packages_of("s1")] == ["pkg-a", "pkg-safety"]
    assert [p.id for p in graph.leaders_for("s3")] == ["chief"]
    assert [u.id for u in graph.sections_for("s2")] == ["planning"]
    assert graph.targets_of("safety") == ("s1", "s3")
    assert graph.targets_of("safety-staff") == ("s1", "s3")
    assert graph.targets_of("dep-a") == ("s1", "s2")
    assert graph.targets_of("dep-b") == ()


def test_dated_view_drops_what_is_not_in_force() -> None:
    before = OrgGraph(small_org(), on=dt.date(2026, 2, 1))
    after = OrgGraph(small_org(), on=dt.date(2026, 7, 1))
    # pkg-planning starts on 1 March
    assert before.sections_for("s2") == ()
    assert [u.id for u in after.sections_for("s2")] == ["planning"]
    # dep-b is in charge of planning until 30 June
    assert [p.id for p in before.in_charge_of("planning")] == ["dep-b"]
    assert after.in_charge_of("planning") == ()


def test_duties(graph: OrgGraph) -> None:
    assert [d.id for d in graph.duties_covering("planning", "buildings")] == [
        "planning.1",
        "planning.2",
    ]
    assert graph.duties_covering("planning", "works") == ()
    assert [u.id for u in graph.owners_of("fire")] == ["safety", "planning"]
    assert graph.owners_of("drowning") == ()
    with pytest.raises(UnknownId, match="no business area 'nope'"):
        graph.duties_covering("planning", "nope")


def test_chain_of_a_section_package(graph: OrgGraph) -> None:
    (leader_chain, section_chain) = graph.chains("s1")
    assert leader_chain.basis is ChainBasis.LEADER_PACKAGE
    assert [link.post.id for link in leader_chain.links] == ["dep-a", "chief"]
    assert leader_chain.complete
    assert section_chain.basis is ChainBasis.SECTION_PACKAGE
    assert section_chain.unit is not None
    assert section_chain.unit.id == "safety"
    assert [(link.level, link.post.id) for link in section_chain.links] == [
        (ChainLevel.STAFF, "safety-staff"),
        (ChainLevel.SECTION_HEAD, "safety-head"),
        (ChainLevel.IN_CHARGE, "dep-a"),
        (ChainLevel.LEADER, "chief"),
    ]
    assert section_chain.links[0].person is not None
    assert section_chain.links[0].person.name == "干部戊"
    assert all(link.clause for link in section_chain.links)
    assert section_chain.complete


def test_chain_of_the_leaders_own_package(graph: OrgGraph) -> None:
    leader_chain = graph.chains("s3")[0]
    assert [link.level for link in leader_chain.links] == [ChainLevel.LEADER]
    # the leader holds it himself: he is the whole chain, and it is complete
    assert leader_chain.missing == ()
    assert leader_chain.complete


def test_a_vacant_leader_post_leaves_a_package_chain_incomplete() -> None:
    org = small_org()
    leading = org.units[0]
    vacant = attrs.evolve(
        leading, posts=(attrs.evolve(leading.posts[0], holder=None), *leading.posts[1:])
    )
    graph = OrgGraph(attrs.evolve(org, units=(vacant, *org.units[1:])))
    chain = graph.chains("s3")[0]
    assert chain.basis is ChainBasis.LEADER_PACKAGE
    assert chain.missing == (ChainLevel.LEADER,)
    (deputy_chain, _) = graph.chains("s1")
    assert deputy_chain.missing == (ChainLevel.LEADER,)


def test_business_line_chains_name_the_duties(graph: OrgGraph) -> None:
    chains = graph.chains("s2", "construction")
    business = [c for c in chains if c.basis is ChainBasis.BUSINESS_LINE]
    assert len(business) == 1
    (chain,) = business
    assert chain.unit is not None
    assert chain.unit.id == "planning"
    assert [d.id for d in chain.duties] == ["planning.2"]
    # planning's staff post is vacant: the chain says so
    assert chain.levels[0] is ChainLevel.STAFF
    assert chain.missing == (ChainLevel.STAFF,)
    assert not chain.complete


def test_unknown_ids_are_clear_errors(graph: OrgGraph) -> None:
    with pytest.raises(UnknownId, match="no school or place 'zz'"):
        graph.chains("zz")
    with pytest.raises(UnknownId, match="no hazard domain 'nope'"):
        graph.chains("s1", "nope")
    with pytest.raises(KeyError):  # UnknownId is also a KeyError
        graph.unit("nope")
    with pytest.raises(UnknownId, match="no post or unit"):
        graph.targets_of("nobody")


def test_to_networkx(graph: OrgGraph) -> None:
    g = graph.to_networkx()
    assert g.nodes["safety"]["type"] == "unit"
    rels = {(u, v, d["rel"]) for u, v, d in g.edges(data=True)}
    assert ("dep-a", "safety", "in_charge_of") in rels
    assert ("safety-staff", "s1", "visits") in rels
    assert ("p0", "chief", "holds") in rels
    assert ("safety-head", "office", "heads") in rels


def test_import_does_not_load_networkx() -> None:
    code = (
        "import sys, dualduty\n"
        "g = dualduty.OrgGraph(dualduty.Organisation('x', 'x'))\n"
        "assert g.leader() is None\n"
        "print('networkx' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
