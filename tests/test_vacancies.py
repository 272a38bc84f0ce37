"""Vacancies as dated coverage gaps (issue 11): a post left vacant uncovers schools and
hazard domains from the day it is vacated until the day before it is filled, and the
coverage analysis of the organisation in force on a day in between shows the gap."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualduty
from dualduty.cli import main
from dualduty.coverage import CoverageReport, GapKind, analyse
from dualduty.model import SECTION_KINDS, DutyKind, Organisation
from dualduty.records import PostAssigned, Recorder, Timeline, Vacancy, vacancies
from dualduty.records.timeline import Change
from dualduty.storage import Store, open_store

ZONE = dt.timezone(dt.timedelta(hours=8))
ORG = dualduty.reference_organisation(schools=60)
GRAPH = dualduty.OrgGraph(ORG)
LEADER = "p001"  # 局长: may record organisation changes
YEAR_START, YEAR_END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def day(month: int, d: int) -> dt.date:
    return dt.date(2026, month, d)


def packaged(holder: str, org: Organisation = ORG) -> set[str]:
    """The schools of the packages a unit or post holds in the file."""
    return {s for p in org.packages if p.holder == holder for s in p.schools}


def owned_only_by(units: set[str], org: Organisation = ORG) -> set[str]:
    """The hazard domains whose owning sections (by their own safety duties) are all in
    *units*: counted straight from the duties, not through the chains."""
    owners: dict[str, set[str]] = {}
    for unit in org.units:
        if unit.kind in SECTION_KINDS:
            for duty in unit.duties:
                if duty.kind is DutyKind.SAFETY:
                    for domain in duty.hazards:
                        owners.setdefault(domain, set()).add(unit.id)
    return {d for d, who in owners.items() if who <= units}


def in_charge_units(post: str) -> set[str]:
    return {u for edge in ORG.in_charge if edge.post == post for u in edge.units}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'records.db'}") as store:
        yield store


def recorder(store: Store, org: Organisation = ORG) -> Recorder:
    return Recorder(store, org, clock=lambda: dt.datetime(2026, 3, 1, 9, tzinfo=ZONE))


def gaps_about(report: CoverageReport, post: str) -> list[dualduty.coverage.Gap]:
    return [g for g in report.of_kind(GapKind.BROKEN_CHAIN) if g.subject == f"post:{post}"]


def coverage_on(line: Timeline, on: dt.date) -> CoverageReport:
    return analyse(line.as_of(on), on=on)


# -- a section head ------------------------------------------------------------------------


@pytest.fixture
def head_vacated(db: Store) -> tuple[Store, int, int]:
    """规划科科长 leaves on 15 July; a successor joins and takes the post on 1 September."""
    changes = recorder(db).org_changes
    left = changes.assign("planning.head", None, day(7, 15), actor=LEADER, reason="调离")
    changes.join("p090", "钱立新", day(9, 1), actor=LEADER, reason="调入")
    filled = changes.assign("planning.head", "p090", day(9, 1), actor=LEADER, reason="任命")
    return db, left.seq, filled.seq


def test_a_section_head_vacancy_is_one_dated_gap(head_vacated: tuple[Store, int, int]) -> None:
    store, left, filled = head_vacated
    line = Timeline.from_store(ORG, store)
    (gap,) = vacancies(line, YEAR_START, YEAR_END)
    assert (gap.post, gap.unit, gap.title) == ("planning.head", "planning", "规划科科长")
    assert (gap.start, gap.end) == (day(7, 15), day(8, 31))
    assert (gap.seq, gap.filled_by, gap.previous) == (left, filled, "p034")
    # the section's packaged schools, and the domains only 规划科 owns
    assert set(gap.schools) == packaged("planning") != set()
    assert set(gap.domains) == owned_only_by({"planning"}) != set()
    assert gap.uncovers
    assert [gap.covers(d) for d in (day(7, 14), day(7, 15), day(8, 31), day(9, 1))] == [
        False,
        True,
        True,
        False,
    ]


def test_the_gap_is_found_by_any_period_that_overlaps_it(
    head_vacated: tuple[Store, int, int],
) -> None:
    store, _, _ = head_vacated
    line = Timeline.from_store(ORG, store)
    (whole,) = vacancies(line, YEAR_START, YEAR_END)
    assert vacancies(line, YEAR_START, day(7, 14)) == ()
    assert vacancies(line, day(9, 1), YEAR_END) == ()
    # a period inside the vacancy: the vacancy keeps its own dates and records
    for start, end in ((day(8, 1), day(8, 10)), (day(7, 15), day(7, 15)), (day(8, 31), YEAR_END)):
        assert vacancies(line, start, end) == (whole,)
    with pytest.raises(ValueError, match="before it starts"):
        vacancies(line, day(8, 1), day(7, 1))


def test_coverage_shows_the_gap_in_the_period_and_not_before_or_after(
    head_vacated: tuple[Store, int, int],
) -> None:
    store, _, _ = head_vacated
    line = Timeline.from_store(ORG, store)
    (vacancy,) = vacancies(line, YEAR_START, YEAR_END)
    for on in (day(7, 14), day(9, 1), day(12, 31)):
        report = coverage_on(line, on)
        assert report.ok, on
        assert gaps_about(report, "planning.head") == []
    for on in (day(7, 15), day(8, 1), day(8, 31)):
        report = coverage_on(line, on)
        (gap,) = report.errors
        assert gaps_about(report, "planning.head") == [gap]
        assert gap.clause == "二(三).1"
        # the gap says since when, and covers every school the vacancy names
        assert gap.since == day(7, 15)
        assert "is vacant since 2026-07-15" in gap.message
        assert gap.to_json()["since"] == "2026-07-15"
        assert set(vacancy.schools) <= set(gap.schools)


def test_a_post_vacated_twice_is_one_vacancy_from_the_first_record(db: Store) -> None:
    changes = recorder(db).org_changes
    first = changes.assign("planning.head", None, day(7, 15), actor=LEADER, reason="调离")
    changes.assign("planning.head", None, day(8, 1), actor=LEADER, reason="补记")
    line = Timeline.from_store(ORG, db)
    (gap,) = vacancies(line, YEAR_START, YEAR_END)
    assert (gap.start, gap.end, gap.seq, gap.filled_by) == (day(7, 15), None, first.seq, None)
    # asked from a day after both records, the vacancy still starts with the first
    assert vacancies(line, day(9, 1), YEAR_END) == (gap,)
    assert coverage_on(line, day(9, 1)).errors[0].since == day(7, 15)


def test_vacated_filled_and_vacated_again_is_two_vacancies(db: Store) -> None:
    changes = recorder(db).org_changes
    a = changes.assign("finance.head", None, day(3, 1), actor=LEADER)
    b = changes.assign("finance.head", "p038", day(4, 1), actor=LEADER, reason="代理")
    c = changes.assign("finance.head", None, day(6, 1), actor=LEADER)
    line = Timeline.from_store(ORG, db)
    first, second = vacancies(line, YEAR_START, YEAR_END)
    assert (first.start, first.end, first.seq, first.filled_by) == (
        day(3, 1),
        day(3, 31),
        a.seq,
        b.seq,
    )
    assert (second.start, second.end, second.seq, second.previous) == (
        day(6, 1),
        None,
        c.seq,
        "p038",
    )
    assert first.previous == "p037"
    assert vacancies(line, day(4, 1), day(5, 31)) == ()


def test_a_school_another_section_answers_for_is_not_uncovered(db: Store) -> None:
    """三.1: a school is uncovered on the sections' side only when no section package of it
    has a complete chain; coverage still names the broken chain's every school."""
    school = sorted(packaged("planning"))[0]
    changes = recorder(db).org_changes
    changes.set_package(
        "pkg-extra", "finance", day(6, 1), schools=[school], staff=["finance.staff-1"], actor=LEADER
    )
    changes.assign("planning.head", None, day(7, 15), actor=LEADER)
    line = Timeline.from_store(ORG, db)
    (gap,) = vacancies(line, YEAR_START, YEAR_END)
    assert set(gap.schools) == packaged("planning") - {school}
    (broken,) = gaps_about(coverage_on(line, day(8, 1)), "planning.head")
    assert school in broken.schools


def test_what_is_uncovered_is_read_day_by_day(db: Store) -> None:
    """A school packaged to the section during the vacancy is uncovered from then on."""
    school = sorted(packaged("finance"))[0]
    changes = recorder(db).org_changes
    changes.assign("planning.head", None, day(7, 15), actor=LEADER)
    moved = next(p for p in ORG.packages if p.holder == "finance")
    changes.set_package(
        moved.id,
        "planning",
        day(8, 1),
        schools=moved.schools,
        staff=["planning.staff-1"],
        actor=LEADER,
    )
    line = Timeline.from_store(ORG, db)
    (before,) = vacancies(line, YEAR_START, day(7, 31))
    (during,) = vacancies(line, YEAR_START, day(8, 1))
    assert school not in before.schools
    assert set(during.schools) == packaged("planning") | set(moved.schools)


# -- staff posts ----------------------------------------------------------------------------


def test_a_staff_vacancy_uncovers_nothing_while_the_other_staff_remain(db: Store) -> None:
    changes = recorder(db).org_changes
    one = changes.assign("planning.staff-1", None, day(5, 1), actor=LEADER)
    two = changes.assign("planning.staff-2", None, day(6, 1), actor=LEADER)
    line = Timeline.from_store(ORG, db)
    (alone,) = vacancies(line, YEAR_START, day(5, 31))
    assert (alone.post, alone.start, alone.seq) == ("planning.staff-1", day(5, 1), one.seq)
    assert (alone.schools, alone.domains, alone.uncovers) == ((), (), False)
    assert coverage_on(line, day(5, 15)).ok
    # with both staff posts vacant the package has no inspector and the section no staff
    first, second = vacancies(line, YEAR_START, YEAR_END)
    assert (first.post, second.post, second.seq) == (
        "planning.staff-1",
        "planning.staff-2",
        two.seq,
    )
    for gap in (first, second):
        assert set(gap.schools) == packaged("planning")
        assert set(gap.domains) == owned_only_by({"planning"})
    (broken,) = coverage_on(line, day(6, 1)).errors
    assert broken.clause == "三.1"
    assert "are vacant since 2026-06-01" in broken.message
    assert broken.since == day(6, 1)  # the link broke when the last of them fell vacant


def test_a_staff_post_alone_in_its_package_uncovers_the_package(db: Store) -> None:
    """The package names only staff-1: its vacancy leaves the schools without an inspector
    (the section's business still has staff-2, so no domain is uncovered)."""
    package = next(p for p in ORG.packages if p.holder == "planning")
    changes = recorder(db).org_changes
    changes.set_package(
        package.id,
        "planning",
        day(4, 1),
        schools=package.schools,
        staff=["planning.staff-1"],
        actor=LEADER,
    )
    changes.assign("planning.staff-1", None, day(5, 1), actor=LEADER)
    line = Timeline.from_store(ORG, db)
    (gap,) = vacancies(line, YEAR_START, YEAR_END)
    assert (set(gap.schools), gap.domains) == (set(package.schools), ())
    (broken,) = gaps_about(coverage_on(line, day(5, 1)), "planning.staff-1")
    assert broken.since == day(5, 1)


# -- the file and the leading group ---------------------------------------------------------


def vacant_in_file(post: str) -> Organisation:
    units = tuple(
        attrs.evolve(
            u, posts=tuple(attrs.evolve(p, holder=None) if p.id == post else p for p in u.posts)
        )
        for u in ORG.units
    )
    return attrs.evolve(ORG, units=units)


def test_a_post_vacant_in_the_file(db: Store) -> None:
    org = vacant_in_file("finance.head")
    (gap,) = vacancies(Timeline(org), YEAR_START, YEAR_END)
    assert (gap.post, gap.start, gap.end, gap.seq, gap.filled_by, gap.previous) == (
        "finance.head",
        None,
        None,
        None,
        None,
        None,
    )
    assert set(gap.schools) == packaged("finance")
    assert set(gap.domains) == owned_only_by({"finance"})  # 财务 is shared: none
    report = coverage_on(Timeline(org), day(3, 1))
    assert [g.since for g in gaps_about(report, "finance.head")] == [None]
    # filled by a record: the vacancy ends the day before
    filled = recorder(db, org).org_changes.assign("finance.head", "p038", day(3, 1), actor=LEADER)
    (gap,) = vacancies(Timeline.from_store(org, db), YEAR_START, YEAR_END)
    assert (gap.start, gap.end, gap.filled_by) == (None, day(2, 28), filled.seq)
    assert vacancies(Timeline.from_store(org, db), day(3, 1), YEAR_END) == ()


def test_a_deputy_vacancy_until_the_portfolio_is_reshuffled(db: Store) -> None:
    """副局长 deputy-2 retires on 1 April; on 1 May deputy-3 takes over the sections and
    the package: from then on the vacancy uncovers nothing."""
    units = in_charge_units("deputy-2")
    changes = recorder(db).org_changes
    retired = changes.assign("deputy-2", None, day(4, 1), actor=LEADER, reason="退休")
    changes.set_in_charge(
        "deputy-3", [*in_charge_units("deputy-3"), *units], day(5, 1), actor=LEADER
    )
    changes.set_in_charge("deputy-2", [], day(5, 1), actor=LEADER)
    package = next(p for p in ORG.packages if p.holder == "deputy-2")
    changes.set_package(package.id, "deputy-3", day(5, 1), schools=package.schools, actor=LEADER)
    line = Timeline.from_store(ORG, db)
    (april,) = vacancies(line, YEAR_START, day(4, 30))
    expected = packaged("deputy-2") | {s for u in units for s in packaged(u)}
    assert (april.post, april.unit, april.start, april.seq) == (
        "deputy-2",
        "leading-group",
        day(4, 1),
        retired.seq,
    )
    assert set(april.schools) == expected
    assert set(april.domains) == owned_only_by(units)
    (later,) = vacancies(line, day(5, 1), YEAR_END)
    assert (later.start, later.end, later.uncovers) == (day(4, 1), None, False)
    assert gaps_about(coverage_on(line, day(4, 15)), "deputy-2")
    assert coverage_on(line, day(5, 1)).ok


def test_the_leaders_vacancy_uncovers_everything(db: Store) -> None:
    recorder(db).org_changes.assign("director", None, day(10, 1), actor=LEADER, reason="调离")
    (gap,) = vacancies(Timeline.from_store(ORG, db), YEAR_START, YEAR_END)
    assert set(gap.schools) == {s.id for s in ORG.schools}
    assert set(gap.domains) == owned_only_by({u.id for u in ORG.units})
    (broken,) = coverage_on(Timeline.from_store(ORG, db), day(10, 1)).errors
    assert (broken.subject, broken.since, len(broken.schools)) == (
        "post:director",
        day(10, 1),
        len(ORG.schools),
    )


def test_a_schools_own_plan_names_the_places_it_uncovers(data_dir: Path) -> None:
    """A school's plan packages classes and areas: a grade head's vacancy uncovers the
    grade group's classes; the lab keeper, alone in 教务处's package, the lab building."""
    org = dualduty.load(data_dir / "school.toml")
    at = dt.datetime(2025, 2, 20, 9, tzinfo=ZONE)
    changes = [
        Change(1, "liu", at, PostAssigned("grade8.head", None, dt.date(2025, 3, 1))),
        Change(2, "liu", at, PostAssigned("jiaowu.lab", None, dt.date(2025, 4, 1))),
    ]
    line = Timeline(org, changes)
    head, lab = vacancies(line, dt.date(2025, 1, 1), dt.date(2025, 6, 30))

    def places(holder: str) -> set[str]:
        return {p for pk in org.packages if pk.holder == holder for p in pk.places}

    assert (head.post, head.start, set(head.schools)) == (
        "grade8.head",
        dt.date(2025, 3, 1),
        places("grade8-group"),
    )
    assert set(head.domains) == owned_only_by({"grade8-group"}, org)
    assert (lab.post, lab.start, set(lab.schools)) == (
        "jiaowu.lab",
        dt.date(2025, 4, 1),
        places("jiaowu"),
    )
    assert set(lab.domains) == owned_only_by({"jiaowu"}, org)
    day = dt.date(2025, 4, 1)
    assert {g.subject for g in coverage_on(line, day).of_kind(GapKind.BROKEN_CHAIN)} == {
        "post:grade8.head",
        "post:jiaowu.lab",
    }


def test_vacancy_json(head_vacated: tuple[Store, int, int]) -> None:
    store, left, filled = head_vacated
    (gap,) = vacancies(Timeline.from_store(ORG, store), YEAR_START, YEAR_END)
    assert gap.to_json() == {
        "post": "planning.head",
        "unit": "planning",
        "title": "规划科科长",
        "from": "2026-07-15",
        "until": "2026-08-31",
        "schools": sorted(packaged("planning")),
        "domains": sorted(owned_only_by({"planning"})),
        "seq": left,
        "filled_by": filled,
        "previous": "p034",
    }
    assert json.loads(json.dumps(gap.to_json())) == gap.to_json()


# -- the dates, against the organisation read day by day -----------------------------------

SMALL = dualduty.reference_organisation(schools=3)
POSTS = ("planning.head", "planning.staff-1", "deputy-1")
PEOPLE = (None, "p034", "p035", "p002", "p090")
FIRST = dt.date(2026, 3, 1)


@st.composite
def assignments(draw: st.DrawFn) -> list[Change]:
    n = draw(st.integers(0, 8))
    at = dt.datetime(2026, 1, 5, 9, tzinfo=ZONE)
    out = []
    for seq in range(1, n + 1):
        post = draw(st.sampled_from(POSTS))
        holder = draw(st.sampled_from(PEOPLE[:-1]))
        effective = FIRST + dt.timedelta(days=draw(st.integers(0, 40)))
        out.append(Change(seq, LEADER, at, PostAssigned(post, holder, effective)))
    return out


@settings(max_examples=60, deadline=None)
@given(assignments(), st.integers(0, 40), st.integers(0, 20))
def test_vacancies_match_the_organisation_day_by_day(
    changes: list[Change], offset: int, length: int
) -> None:
    line = Timeline(SMALL, changes)
    start = FIRST + dt.timedelta(days=offset - 5)
    end = start + dt.timedelta(days=length)
    found = vacancies(line, start, end)
    # every day of the period: the posts vacant that day are exactly those of a vacancy
    d = start
    while d <= end:
        vacant = {p.id for _, p in line.as_of(d).iter_posts() if p.holder is None}
        assert vacant == {v.post for v in found if v.covers(d)}, d
        d += dt.timedelta(days=1)
    by_post: dict[str, list[Vacancy]] = {}
    for v in found:
        by_post.setdefault(v.post, []).append(v)
        # each period is maximal: vacant on its first and last day, held just outside
        for inside, outside in ((v.start, -1), (v.end, 1)):
            if inside is not None:
                held = line.as_of(inside + dt.timedelta(days=outside))
                assert _holder(held, v.post) is not None
                assert _holder(line.as_of(inside), v.post) is None
        # the record that vacated it takes effect on its first day, the one that filled it
        # the day after its last (each the last record about the post that day)
        for seq, effective, holder in ((v.seq, v.start, None), (v.filled_by, v.end, "held")):
            if seq is None:
                continue
            (change,) = [c for c in changes if c.seq == seq]
            assert isinstance(change.data, PostAssigned)
            assert effective is not None
            shift = dt.timedelta(days=0 if holder is None else 1)
            assert change.effective == effective + shift
            assert (change.data.holder is None) == (holder is None)
            same_day = [
                c.seq
                for c in changes
                if c.effective == change.effective
                and isinstance(c.data, PostAssigned)
                and c.data.post == v.post
            ]
            assert change.seq == max(same_day)
    for runs in by_post.values():  # one post's periods do not overlap
        for a, b in itertools.pairwise(runs):
            assert a.end is not None
            assert b.start is not None
            assert a.end < b.start


def _holder(org: Organisation, post: str) -> str | None:
    return next(p.holder for _, p in org.iter_posts() if p.id == post)


# -- the command ------------------------------------------------------------------------------


@pytest.fixture
def district(tmp_path: Path) -> Path:
    path = tmp_path / "bureau.toml"
    dualduty.dump(ORG, path)
    return path


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["check", *args])
    return status, capsys.readouterr().out


def test_check_as_of_a_date_lists_the_gap_and_the_vacancy(
    head_vacated: tuple[Store, int, int],
    district: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, left, filled = head_vacated
    url = f"sqlite:///{tmp_path / 'records.db'}"
    status, out = check(
        capsys, str(district), "--db", url, "--date", "2026-08-01", "--format", "json"
    )
    report = json.loads(out)
    assert status == 1
    assert (report["valid"], report["date"], report["changes"]) == (True, "2026-08-01", 3)
    (gap,) = report["gaps"]
    assert (gap["kind"], gap["subject"], gap["since"]) == (
        "broken_chain",
        "post:planning.head",
        "2026-07-15",
    )
    (vacancy,) = report["vacancies"]
    assert vacancy == vacancies(Timeline.from_store(ORG, store), YEAR_START, day(8, 1))[0].to_json()
    assert (vacancy["from"], vacancy["until"], vacancy["seq"], vacancy["filled_by"]) == (
        "2026-07-15",
        "2026-08-31",
        left,
        filled,
    )
    assert report["counts"]["people"] == len(ORG.people)  # the successor joins in September
    # before and after the vacancy: no gap; after it, the year's vacancy is still listed
    status, out = check(
        capsys, str(district), "--db", url, "--date", "2026-07-14", "--format", "json"
    )
    assert (status, json.loads(out)["gaps"], json.loads(out)["vacancies"]) == (0, [], [])
    status, out = check(
        capsys, str(district), "--db", url, "--date", "2026-09-01", "--format", "json"
    )
    report = json.loads(out)
    assert (status, report["gaps"], report["counts"]["people"]) == (0, [], len(ORG.people) + 1)
    assert [v["post"] for v in report["vacancies"]] == ["planning.head"]
    # the text report
    status, out = check(capsys, str(district), "--db", url, "--date", "2026-08-01")
    assert status == 1
    assert f"in force on 2026-08-01, with the 3 organisation change(s) recorded in {url}" in out
    vacant = "the section head post 规划科科长 (planning.head) is vacant since 2026-07-15"
    assert f"error   [二(三).1] post:planning.head: {vacant}" in out
    assert "vacancies in 2026 up to 2026-08-01: 1" in out
    name = GRAPH.person("p034").name
    made = f"record {left}, left by {name} (p034), filled by record {filled}"
    assert f"planning.head 规划科科长 (planning): 2026-07-15 – 2026-08-31 ({made})" in out
    schools = sorted(packaged("planning"))
    assert f"uncovers {len(schools)} schools: {', '.join(schools)}; " in out


def test_check_with_a_date_and_no_store_reads_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "vacant.toml"
    dualduty.dump(vacant_in_file("finance.head"), path)
    status, out = check(capsys, str(path), "--date", "2026-03-01", "--format", "json")
    report = json.loads(out)
    assert status == 1
    (vacancy,) = report["vacancies"]
    assert (vacancy["post"], vacancy["from"], vacancy["until"], vacancy["seq"]) == (
        "finance.head",
        None,
        None,
        None,
    )
    assert [g["subject"] for g in report["gaps"]] == ["post:finance.head"]
    assert "since" not in report["gaps"][0]
    status, out = check(capsys, str(path), "--date", "2026-03-01")
    title = GRAPH.post("finance.head").title
    assert f"finance.head {title} (finance): the file – still vacant (district file)" in out


def test_check_refuses_records_that_no_longer_fit_the_file(
    db: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record names a school the file has since dropped: exit 2, every problem listed."""
    school = ORG.schools[-1].id
    recorder(db).org_changes.set_package(
        "pkg-extra", "finance", day(6, 1), schools=[school], actor=LEADER
    )
    smaller = attrs.evolve(
        ORG,
        schools=ORG.schools[:-1],
        packages=tuple(
            attrs.evolve(p, schools=tuple(s for s in p.schools if s != school))
            for p in ORG.packages
        ),
    )
    path = tmp_path / "smaller.toml"
    dualduty.dump(smaller, path)
    url = f"sqlite:///{tmp_path / 'records.db'}"
    status, out = check(capsys, str(path), "--db", url, "--date", "2026-06-01", "--format", "json")
    report = json.loads(out)
    assert (status, report["valid"], report["counts"]) == (2, False, None)
    assert any(school in p["message"] for p in report["problems"])
    assert main(["check", str(path), "--db", url, "--date", "2026-06-01"]) == 2
    err = capsys.readouterr().err
    assert "smaller.toml" in err
    assert "in force on 2026-06-01: 1 problem found" in err
    # the day before the record takes effect the organisation is valid
    assert main(["check", str(path), "--db", url, "--date", "2026-05-31"]) == 0


def test_check_with_a_store_and_no_date_is_as_of_today(
    head_vacated: tuple[Store, int, int],
    district: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    before = dt.datetime.now(ZONE).date()
    status, out = check(capsys, str(district), "--db", url, "--format", "json")
    after = dt.datetime.now(ZONE).date()
    report = json.loads(out)
    assert dt.date.fromisoformat(report["date"]) in {before, after}  # Asia/Shanghai's today
    assert report["changes"] == 3
    today = dt.date.fromisoformat(report["date"])
    vacant = day(7, 15) <= today <= day(8, 31)
    assert status == (1 if vacant else 0)


def test_check_names_a_missing_store(
    district: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'nope.db'}"
    assert main(["check", str(district), "--db", url, "--date", "2026-08-01"]) == 2
    assert "nope.db" in capsys.readouterr().err
    assert not (tmp_path / "nope.db").exists()
