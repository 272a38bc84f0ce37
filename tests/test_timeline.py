"""Responsibility over time (dualduty.records.timeline): the change records, the
organisation in force on a date, the dated organisation, history, checks and the service.

The reference organisation with three schools: s0002 is packaged to the general office
(办公室: head p010, staff p011/p012) and to deputy-1 (p002); 政教科 (moral-education:
head p013, staff p014/p015) holds s0003. deputy-3 (p004) is in charge of the general
office, deputy-1 of moral-education. The leading group's office sits in 法规安全科 (head
p007, staff p008/p009); the director is p001.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dualduty
from dualduty.model.enums import SECTION_KINDS, Role, UnitKind
from dualduty.model.org import Organisation
from dualduty.records import (
    RECORD_KINDS,
    Change,
    InChargeChanged,
    PackageChanged,
    PackageEnded,
    PermissionDenied,
    PersonJoined,
    PostAssigned,
    Record,
    Recorder,
    Timeline,
    TimelineError,
    in_time,
    school,
)
from dualduty.records.timeline import CHANGE_KINDS, ChangeData, changes_in
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
ORG = dualduty.reference_organisation(schools=3)
D = dt.date
JUNE_30 = D(2026, 6, 30)
LEADER, OFFICE_HEAD, OFFICE_STAFF = "p001", "p007", "p008"
OFFICE_HEAD_GO, STAFF_GO, STAFF_GO_2 = "p010", "p011", "p012"
MORAL_STAFF = "p014"
MOVE = PackageChanged(
    "pkg-general-office",
    "moral-education",
    JUNE_30,
    schools=("s0002",),
    staff=("moral-education.staff-1", "moral-education.staff-2"),
    reason="分包调整",
)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


RECORDED = D(2026, 6, 1)


def change(seq: int, data: ChangeData, recorded: dt.date = RECORDED) -> Change:
    return Change(seq, LEADER, at(recorded), data)


def holder(org: Organisation, post_id: str) -> str | None:
    return next(p.holder for _, p in org.iter_posts() if p.id == post_id)


def packages_of(org: Organisation, school_id: str) -> dict[str, str]:
    """Package id -> holder, of the packages of *school_id* (all of them: no dates read)."""
    return {p.id: p.holder for p in org.packages if school_id in p.schools}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    """A SQLite store in a file."""
    with open_store(f"sqlite:///{tmp_path / 'timeline.db'}") as store:
        yield store


def recorder(store: Store, day: dt.date, hour: int = 9) -> Recorder:
    """A recorder whose clock says *day* at *hour* (the organisation in force that day)."""
    return Recorder(store, ORG, clock=lambda: at(day, hour))


# -- the record kinds -------------------------------------------------------------------------


def test_every_change_kind_is_registered_with_examples_for_the_conformance_kit() -> None:
    # the storage conformance kit round-trips RECORD_KINDS' examples() in every backend
    for kind in CHANGE_KINDS:
        cls = RECORD_KINDS[kind]
        assert cls.__module__ == "dualduty.records.timeline"
        assert len(cls.examples()) >= 1


@pytest.mark.parametrize("kind", CHANGE_KINDS)
def test_each_change_kind_round_trips_through_a_sqlite_file(tmp_path: Path, kind: str) -> None:
    url = f"sqlite:///{tmp_path / 'kinds.db'}"
    examples = RECORD_KINDS[kind].examples()
    with open_store(url) as store:
        for data in examples:
            store.append(Record.of(data, actor=LEADER, at=at(D(2026, 6, 1))))
    with open_store(url, readonly=True) as store:
        back = [e.record.data for e in store.read(kind=kind)]
        assert back == list(examples)
        assert [c.data for c in changes_in(store)] == list(examples)
        assert {c.kind for c in changes_in(store)} == {kind}


def test_changes_are_read_again_only_from_where_the_last_read_ended(tmp_path: Path) -> None:
    # two store objects on one file: what one appends, the other reads on its next call
    url = f"sqlite:///{tmp_path / 'two.db'}"
    with open_store(url) as mine, open_store(url) as theirs:
        assert changes_in(mine) == []
        theirs.append(Record.of(MOVE, actor=LEADER, at=at(D(2026, 6, 20))))
        assert [c.data for c in changes_in(mine)] == [MOVE]
        # a transaction rolled back leaves nothing behind, not even in what was read
        ended = PackageEnded("pkg-lg-deputy-1", D(2026, 9, 1))

        def undone() -> None:
            with mine.transaction() as tx:
                tx.append(Record.of(ended, actor=LEADER, at=at(D(2026, 8, 1))))
                assert [c.data for c in changes_in(mine)] == [MOVE]  # committed entries only
                raise RuntimeError("undo")

        with pytest.raises(RuntimeError, match="undo"):
            undone()
        joined = PersonJoined("p090", "钱立新", D(2026, 7, 1))
        theirs.append(Record.of(joined, actor=LEADER, at=at(D(2026, 8, 2))))
        assert [(c.seq, c.data) for c in changes_in(mine)] == [(1, MOVE), (2, joined)]
        assert [c.data for c in changes_in(mine, until=1)] == [MOVE]
        assert changes_in(theirs) == changes_in(mine)


def test_change_kinds_refuse_bad_values() -> None:
    with pytest.raises(ValueError, match="effective: expected a date"):
        PostAssigned("planning.head", "p090", at(JUNE_30))  # a date and time is no date
    with pytest.raises(ValueError, match="post"):
        PostAssigned("Planning Head", "p090", JUNE_30)
    # one unit is one unit, not its characters
    assert InChargeChanged("deputy-1", "planning", JUNE_30).units == ("planning",)


# -- as_of: either side of each change ----------------------------------------------------------


def test_a_post_changes_holder_on_its_effective_date() -> None:
    line = Timeline(
        ORG,
        [
            change(1, PersonJoined("p090", "钱立新", D(2026, 6, 15))),
            change(2, PostAssigned("general-office.head", "p090", D(2026, 7, 1), reason="交接")),
        ],
    )
    before, on = line.as_of(D(2026, 6, 30)), line.as_of(D(2026, 7, 1))
    assert holder(before, "general-office.head") == OFFICE_HEAD_GO
    assert holder(on, "general-office.head") == "p090"
    post = next(p for _, p in on.iter_posts() if p.id == "general-office.head")
    assert post.since == D(2026, 7, 1)
    assert (before.as_of, on.as_of) == (D(2026, 6, 30), D(2026, 7, 1))
    assert "p090" not in {p.id for p in line.as_of(D(2026, 6, 14)).people}
    assert "p090" in {p.id for p in line.as_of(D(2026, 6, 15)).people}
    graph = line.snapshot(D(2026, 7, 1)).graph()
    assert [p.id for p in graph.posts_of("p090")] == ["general-office.head"]
    assert graph.posts_of(OFFICE_HEAD_GO) == ()
    assert dualduty.OrgGraph(before).head_of("general-office").holder == OFFICE_HEAD_GO  # type: ignore[union-attr]


def post(org: Organisation, post_id: str) -> tuple[str | None, dt.date | None]:
    """(holder, since) of a post."""
    return next((p.holder, p.since) for _, p in org.iter_posts() if p.id == post_id)


def test_a_post_falls_vacant_and_the_file_is_unchanged() -> None:
    line = Timeline(ORG, [change(1, PostAssigned("general-office.staff-1", None, JUNE_30))])
    assert holder(line.as_of(JUNE_30), "general-office.staff-1") is None
    assert holder(line.as_of(JUNE_30 - dt.timedelta(days=1)), "general-office.staff-1") == STAFF_GO
    assert holder(line.org, "general-office.staff-1") == STAFF_GO  # the district file's stays


def test_since_says_from_when_a_post_is_held_or_vacant() -> None:
    vacated = change(1, PostAssigned("general-office.staff-1", None, JUNE_30))
    again = change(2, PostAssigned("general-office.staff-1", None, D(2026, 8, 1), reason="补记"))
    filled = change(3, PostAssigned("general-office.staff-1", STAFF_GO_2, D(2026, 9, 1)))
    line = Timeline(ORG, [vacated, again, filled])
    assert post(line.as_of(D(2026, 6, 1)), "general-office.staff-1") == (STAFF_GO, None)
    assert post(line.as_of(D(2026, 7, 1)), "general-office.staff-1") == (None, JUNE_30)
    # recorded vacant again: still vacant since the first day
    assert post(line.as_of(D(2026, 8, 15)), "general-office.staff-1") == (None, JUNE_30)
    assert post(line.as_of(D(2026, 9, 1)), "general-office.staff-1") == (STAFF_GO_2, D(2026, 9, 1))
    assert line.snapshot(D(2026, 8, 15)).basis == {"post:general-office.staff-1": 2}


def test_a_package_moves_on_its_effective_date() -> None:
    line = Timeline(ORG, [change(1, MOVE)])
    assert packages_of(line.as_of(D(2026, 6, 29)), "s0002") == {
        "pkg-lg-deputy-1": "deputy-1",
        "pkg-general-office": "general-office",
    }
    on = line.as_of(JUNE_30)
    assert packages_of(on, "s0002") == {
        "pkg-lg-deputy-1": "deputy-1",
        "pkg-general-office": "moral-education",
    }
    graph = dualduty.OrgGraph(on, on=JUNE_30)
    assert [u.id for u in graph.sections_for("s0002")] == ["moral-education"]
    assert set(graph.targets_of("moral-education")) == {"s0002", "s0003"}
    assert graph.targets_of("general-office") == ()


def test_a_package_ended_is_not_in_force_from_its_date() -> None:
    line = Timeline(ORG, [change(1, PackageEnded("pkg-lg-deputy-1", JUNE_30, reason="撤并"))])
    assert "pkg-lg-deputy-1" in packages_of(line.as_of(D(2026, 6, 29)), "s0002")
    assert "pkg-lg-deputy-1" not in packages_of(line.as_of(JUNE_30), "s0002")
    assert "pkg-lg-deputy-1" not in packages_of(line.as_of(D(2027, 3, 1)), "s0002")


def test_in_charge_edges_change_on_their_date() -> None:
    line = Timeline(
        ORG,
        [change(1, InChargeChanged("deputy-3", ("general-office", "planning"), JUNE_30))],
    )
    before = dualduty.OrgGraph(line.as_of(D(2026, 6, 29)))
    after = dualduty.OrgGraph(line.as_of(JUNE_30))
    assert {u.id for u in before.units_in_charge("deputy-3")} == {
        "regulation-safety", "general-office", "planning", "finance", "logistics-centre",
        "student-aid-centre",
    }  # fmt: skip
    assert [u.id for u in after.units_in_charge("deputy-3")] == ["general-office", "planning"]
    assert after.in_charge_of("finance") == ()
    emptied = Timeline(ORG, [change(1, InChargeChanged("deputy-3", (), JUNE_30))])
    assert dualduty.OrgGraph(emptied.as_of(JUNE_30)).units_in_charge("deputy-3") == ()


def test_same_day_changes_apply_in_the_order_recorded() -> None:
    joined = change(1, PersonJoined("p090", "钱立新", D(2026, 6, 1)))
    first = change(2, PostAssigned("general-office.head", "p090", JUNE_30))
    second = change(3, PostAssigned("general-office.head", STAFF_GO, JUNE_30))
    for order in ([joined, first, second], [second, first, joined]):
        line = Timeline(ORG, order)
        assert [c.seq for c in line.changes] == [1, 2, 3]
        assert holder(line.as_of(JUNE_30), "general-office.head") == STAFF_GO
    # set, then ended the same day: not in force
    made = change(1, PackageChanged("pk-new", "planning", JUNE_30, schools=("s0001",)))
    ended = change(2, PackageEnded("pk-new", JUNE_30))
    line = Timeline(ORG, [ended, made])
    assert "pk-new" not in {p.id for p in line.as_of(JUNE_30).packages}
    assert "pk-new" not in {p.id for p in line.dated().packages}
    assert not line.dated().problems()


def test_a_back_dated_change_recorded_later_applies_from_its_own_date() -> None:
    recorded_first = change(
        1, PostAssigned("general-office.staff-1", STAFF_GO_2, D(2026, 9, 1)), D(2026, 8, 20)
    )
    back_dated = change(
        2, PostAssigned("general-office.staff-1", None, D(2026, 7, 1)), D(2026, 8, 25)
    )
    line = Timeline(ORG, [recorded_first, back_dated])
    assert [c.seq for c in line.changes] == [2, 1]  # by effective date
    assert holder(line.as_of(D(2026, 6, 30)), "general-office.staff-1") == STAFF_GO
    assert holder(line.as_of(D(2026, 7, 15)), "general-office.staff-1") is None
    assert holder(line.as_of(D(2026, 9, 1)), "general-office.staff-1") == STAFF_GO_2
    # the record as it stood before the back-dated change (seq 1 only)
    assert holder(Timeline(ORG, [recorded_first]).as_of(D(2026, 7, 15)), "general-office.staff-1")


def test_the_same_back_dated_change_through_the_store(db: Store) -> None:
    r = recorder(db, D(2026, 8, 25))
    r.org_changes.assign("general-office.staff-1", STAFF_GO_2, D(2026, 9, 1), actor=LEADER)
    r.org_changes.assign("general-office.staff-1", None, D(2026, 7, 1), actor=LEADER)
    line = Timeline.from_store(ORG, db)
    assert holder(line.as_of(D(2026, 7, 15)), "general-office.staff-1") is None
    assert holder(line.as_of(D(2026, 9, 1)), "general-office.staff-1") == STAFF_GO_2
    as_recorded = Timeline.from_store(ORG, db, until=1)
    assert holder(as_recorded.as_of(D(2026, 7, 15)), "general-office.staff-1") == STAFF_GO
    assert Timeline.of_entries(ORG, db.read()).changes == line.changes


def test_snapshot_basis_names_the_records_that_made_the_day() -> None:
    line = Timeline(
        ORG,
        [
            change(1, PersonJoined("p090", "钱立新", D(2026, 6, 1))),
            change(2, PostAssigned("general-office.head", "p090", JUNE_30)),
            change(3, MOVE),
            change(4, InChargeChanged("deputy-3", ("planning",), D(2026, 9, 1))),
            change(5, PackageEnded("pkg-lg-deputy-1", D(2026, 10, 1))),
            change(6, PostAssigned("general-office.head", "p099", D(2026, 12, 1))),
        ],
    )
    assert line.snapshot(D(2026, 5, 31)).basis == {}
    assert line.snapshot(JUNE_30).basis == {
        "person:p090": 1,
        "post:general-office.head": 2,
        "package:pkg-general-office": 3,
    }
    snap = line.snapshot(D(2026, 10, 1))
    assert snap.basis == {
        "person:p090": 1,
        "post:general-office.head": 2,
        "package:pkg-general-office": 3,
        "in_charge:deputy-3": 4,
        "package:pkg-lg-deputy-1": 5,
    }
    assert snap.day == D(2026, 10, 1)
    assert snap.org == line.as_of(D(2026, 10, 1))
    assert line.snapshot(D(2026, 12, 1)).basis["post:general-office.head"] == 6


def test_without_changes_the_file_is_the_organisation_on_every_day() -> None:
    line = Timeline(ORG)
    assert not line
    assert len(line) == 0
    day = D(2026, 3, 1)
    assert attrs.evolve(line.as_of(day), as_of=None) == ORG
    assert line.dated() is ORG
    assert line.snapshot(day).basis == {}
    assert line.history("post:general-office.head") == ()


def test_package_dates_in_the_file_are_kept() -> None:
    ending = attrs.evolve(ORG.packages[4], end=D(2026, 12, 31))  # pkg-general-office
    org = attrs.evolve(ORG, packages=(*ORG.packages[:4], ending, *ORG.packages[5:]))
    line = Timeline(org, [change(1, attrs.evolve(MOVE, staff=()))])
    moved = next(p for p in line.as_of(JUNE_30).packages if p.id == "pkg-general-office")
    assert (moved.start, moved.end) == (JUNE_30, D(2026, 12, 31))  # the file's end still holds
    assert "pkg-general-office" not in {p.id for p in line.as_of(D(2027, 1, 1)).packages}
    # ended by the file, then set again later: in force again from then
    ended = attrs.evolve(ORG.packages[4], end=D(2026, 3, 31))
    org = attrs.evolve(ORG, packages=(*ORG.packages[:4], ended, *ORG.packages[5:]))
    again = Timeline(org, [change(1, MOVE)])
    assert "pkg-general-office" not in {p.id for p in again.as_of(D(2026, 5, 1)).packages}
    assert "pkg-general-office" in {p.id for p in again.as_of(D(2026, 8, 1)).packages}
    versions = {p.id: (p.start, p.end) for p in again.dated().packages}
    assert versions["pkg-general-office.until-2026-03-31"] == (None, D(2026, 3, 31))
    assert versions["pkg-general-office"] == (JUNE_30, None)


# -- dated(): every version with its dates -------------------------------------------------------


def test_dated_keeps_each_version_of_a_package_with_its_dates() -> None:
    line = Timeline(
        ORG,
        [
            change(1, MOVE),
            change(2, InChargeChanged("deputy-3", ("planning",), D(2026, 9, 1))),
            change(3, PackageEnded("pkg-lg-deputy-1", D(2026, 10, 1))),
        ],
    )
    dated = line.dated()
    assert not dated.problems()
    versions = {p.id: (p.holder, p.start, p.end) for p in dated.packages if "s0002" in p.schools}
    assert versions == {
        "pkg-general-office.until-2026-06-29": ("general-office", None, D(2026, 6, 29)),
        "pkg-general-office": ("moral-education", JUNE_30, None),
        "pkg-lg-deputy-1.until-2026-09-30": ("deputy-1", None, D(2026, 9, 30)),
    }
    edges = [(e.units, e.start, e.end) for e in dated.in_charge if e.post == "deputy-3"]
    assert edges[0][1:] == (None, D(2026, 8, 31))
    assert edges[1] == (("planning",), D(2026, 9, 1), None)
    graph = dualduty.OrgGraph(dated, on=D(2026, 5, 10))
    assert [u.id for u in graph.sections_for("s0002")] == ["general-office"]
    graph = dualduty.OrgGraph(dated, on=D(2026, 8, 10))
    assert [u.id for u in graph.sections_for("s0002")] == ["moral-education"]


def test_dated_posts_are_held_as_on_the_day_asked() -> None:
    line = Timeline(
        ORG,
        [
            change(1, PersonJoined("p090", "钱立新", D(2026, 6, 1))),
            change(2, PostAssigned("general-office.head", "p090", JUNE_30)),
        ],
    )
    assert holder(line.dated(), "general-office.head") == "p090"
    assert holder(line.dated(D(2026, 6, 1)), "general-office.head") == OFFICE_HEAD_GO
    assert holder(line.dated(D(2026, 7, 1)), "general-office.head") == "p090"
    # posts the record never changed keep what the file says of them, ``since`` included
    since = D(2020, 9, 1)
    units = tuple(
        attrs.evolve(u, posts=tuple(attrs.evolve(p, since=since) for p in u.posts))
        for u in ORG.units
    )
    line = Timeline(attrs.evolve(ORG, units=units), line.changes)
    dated = line.dated(D(2026, 3, 1))
    assert {p.since for _, p in dated.iter_posts()} == {since}
    assert {p.since for _, p in line.dated(D(2026, 7, 1)).iter_posts()} == {since, JUNE_30}
    assert "p090" in {p.id for p in line.dated(D(2026, 3, 1)).people}  # everyone who joined


# The property: for random change sequences, the packages (and in-charge edges) of dated()
# in force on each day of the year are those of as_of(day), up to the version ids.

SMALL = dualduty.reference_organisation(schools=4)
_LEADING = [p.id for u in SMALL.units if u.kind is UnitKind.LEADING_GROUP for p in u.posts]
_SECTIONS = {
    u.id: tuple(p.id for p in u.posts if p.role is Role.STAFF)
    for u in SMALL.units
    if u.kind in SECTION_KINDS
}
_SECTION_IDS = sorted(_SECTIONS)[:6]
_SCHOOLS = [s.id for s in SMALL.schools]
_PACKAGES = ["pkg-lg-deputy-1", "pkg-general-office", "pkg-moral-education", "pk-new"]
_POSTS = ["general-office.head", "general-office.staff-1", "deputy-1", "planning.head"]
_PEOPLE = [p.id for p in SMALL.people][:8]
_YEAR = [D(2026, 1, 1) + dt.timedelta(days=n) for n in range(365)]
_DAYS = st.dates(D(2025, 12, 1), D(2027, 1, 31))


@st.composite
def package_changes(draw: st.DrawFn) -> ChangeData:
    package = draw(st.sampled_from(_PACKAGES))
    day = draw(_DAYS)
    if draw(st.integers(0, 2)) == 0:
        return PackageEnded(package, day)
    schools = draw(st.lists(st.sampled_from(_SCHOOLS), min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        return PackageChanged(package, draw(st.sampled_from(_LEADING)), day, schools=schools)
    section = draw(st.sampled_from(_SECTION_IDS))
    staff = draw(st.lists(st.sampled_from(_SECTIONS[section]), unique=True))
    return PackageChanged(package, section, day, schools=schools, staff=staff)


def other_changes() -> st.SearchStrategy[ChangeData]:
    in_charge = st.builds(
        InChargeChanged,
        st.sampled_from(_LEADING),
        st.lists(st.sampled_from(_SECTION_IDS), max_size=3, unique=True).map(tuple),
        _DAYS,
    )
    posts = st.builds(
        PostAssigned, st.sampled_from(_POSTS), st.none() | st.sampled_from(_PEOPLE), _DAYS
    )
    return in_charge | posts


@st.composite
def change_lists(draw: st.DrawFn) -> list[Change]:
    """Up to 14 changes, recorded in any order (their seqs a permutation)."""
    datas = draw(st.lists(package_changes() | other_changes(), max_size=14))
    seqs = draw(st.permutations(range(1, len(datas) + 1)))
    return [change(s, d) for s, d in zip(seqs, datas, strict=True)]


def _version(package_id: str) -> str:
    return package_id.split(".until-", maxsplit=1)[0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(change_lists())
def test_dated_agrees_with_as_of_on_every_day_of_the_year(changes: list[Change]) -> None:
    line = Timeline(SMALL, changes)
    dated = line.dated()
    assert not dated.problems()
    for p in dated.packages:
        if ".until-" in p.id:
            assert p.end is not None
            assert p.id == f"{_version(p.id)}.until-{p.end.isoformat()}"
    for day in _YEAR:
        org = line.as_of(day)
        got = sorted(
            (_version(p.id), p.holder, p.schools, p.places, p.staff)
            for p in dated.packages
            if (p.start is None or p.start <= day) and (p.end is None or day <= p.end)
        )
        assert got == sorted((p.id, p.holder, p.schools, p.places, p.staff) for p in org.packages)
        edges = sorted(
            (e.post, e.units)
            for e in dated.in_charge
            if (e.start is None or e.start <= day) and (e.end is None or day <= e.end)
        )
        assert edges == sorted((e.post, e.units) for e in org.in_charge)
        if day.day == 1:
            assert line.dated(day).units == org.units


# -- history ------------------------------------------------------------------------------------


def test_history_of_a_post_a_person_a_package_a_unit_and_a_school() -> None:
    joined = change(1, PersonJoined("p090", "钱立新", D(2026, 6, 1)))
    handed = change(2, PostAssigned("general-office.head", "p090", JUNE_30))
    moved = change(3, MOVE)
    reshuffled = change(4, InChargeChanged("deputy-3", ("planning",), D(2026, 9, 1)))
    ended = change(5, PackageEnded("pkg-lg-deputy-1", D(2026, 10, 1)))
    line = Timeline(ORG, [ended, reshuffled, moved, handed, joined])
    assert line.history("post:general-office.head") == (handed,)
    assert line.history("person:p090") == (joined, handed)
    assert line.history(f"person:{OFFICE_HEAD_GO}") == (handed,)  # the post they left
    assert line.history("package:pkg-general-office") == (moved,)
    assert line.history("unit:moral-education") == (moved,)
    # the general office: its head's post, the package it gave up, the deputy no longer over it
    assert line.history("unit:general-office") == (handed, moved, reshuffled)
    assert line.history("unit:planning") == (reshuffled,)
    assert line.history("post:deputy-3") == (reshuffled,)
    assert line.history("school:s0002") == (moved, ended)
    assert line.history("school:s0001") == ()
    assert [c.kind for c in line.changes] == [
        "person-joined", "post-assigned", "package-changed", "in-charge-changed", "package-ended",
    ]  # fmt: skip
    assert repr(line) == "<Timeline of 'reference-bureau': 5 changes>"


# -- in_time --------------------------------------------------------------------------------------


def test_in_time_is_the_file_without_changes_and_idempotent_with_them(db: Store) -> None:
    assert in_time(ORG, db) is ORG
    assert in_time(ORG, db, JUNE_30) is ORG
    r = recorder(db, D(2026, 6, 20))
    r.org_changes.record(MOVE, actor=LEADER)
    dated = in_time(ORG, db, D(2026, 12, 31))
    assert dated == Timeline.from_store(ORG, db).dated(D(2026, 12, 31))
    assert in_time(dated, db, D(2026, 12, 31)) is dated  # already laid over: as it is
    assert len({p.id for p in dated.packages}) == len(dated.packages)
    # a day asked for again, from the dated organisation: made again from the file's
    other = in_time(dated, db, D(2026, 1, 1))
    assert other == Timeline.from_store(ORG, db).dated(D(2026, 1, 1))
    # a change recorded since: made again from the file's, with it
    r.org_changes.join("p090", "钱立新", D(2026, 7, 1), actor=LEADER)
    r.org_changes.assign("general-office.head", "p090", D(2026, 7, 1), actor=LEADER)
    again = in_time(dated, db, D(2026, 12, 31))
    assert again is not dated
    assert holder(again, "general-office.head") == "p090"
    assert again == Timeline.from_store(ORG, db).dated(D(2026, 12, 31))


# -- checks: what a change may not do --------------------------------------------------------------


def refused(line: Timeline, data: ChangeData) -> str:
    with pytest.raises(TimelineError) as caught:
        line.check(data)
    return str(caught.value)


def test_check_refuses_unknown_posts_and_people() -> None:
    line = Timeline(ORG, [change(1, PersonJoined("p090", "钱立新", D(2026, 9, 1)))])
    message = refused(line, PostAssigned("nobody.head", LEADER, JUNE_30))
    assert (
        message == "post-assigned effective 2026-06-30: no post 'nobody.head' in this organisation"
    )
    message = refused(line, PostAssigned("general-office.head", "p404", JUNE_30))
    assert "no person 'p404' on that day" in message
    assert "record that they joined first (person-joined)" in message
    message = refused(line, PostAssigned("general-office.head", "p090", JUNE_30))
    assert "no person 'p090' on that day; they join only on 2026-09-01" in message
    line.check(PostAssigned("general-office.head", "p090", D(2026, 9, 1)))  # from the day on
    message = refused(line, InChargeChanged("deputy-9", ("planning",), JUNE_30))
    assert "no post 'deputy-9'" in message
    message = refused(line, PersonJoined(OFFICE_HEAD_GO, "王五", JUNE_30))
    assert f"person {OFFICE_HEAD_GO!r} is already known (in the district file)" in message
    message = refused(line, PersonJoined("p090", "钱立新", JUNE_30))
    assert "person 'p090' is already known (joined 2026-09-01, record 1)" in message


def test_check_refuses_ending_a_package_not_in_force() -> None:
    line = Timeline(ORG, [change(1, PackageEnded("pkg-lg-deputy-1", JUNE_30))])
    message = refused(line, PackageEnded("pkg-nowhere", JUNE_30))
    assert message == (
        "package-ended effective 2026-06-30: no package 'pkg-nowhere' in force on 2026-06-30"
    )
    assert "no package 'pkg-lg-deputy-1' in force on 2026-08-01" in refused(
        line, PackageEnded("pkg-lg-deputy-1", D(2026, 8, 1))
    )
    line.check(PackageEnded("pkg-lg-deputy-1", D(2026, 5, 1)))  # still in force then


def test_check_refuses_a_change_leaving_the_organisation_invalid() -> None:
    line = Timeline(ORG)
    message = refused(line, attrs.evolve(MOVE, schools=("s0002", "s9999")))
    assert message == (
        "package-changed effective 2026-06-30 would leave the organisation invalid: "
        "package 'pkg-general-office' schools[1]: unknown school 's9999'"
    )
    message = refused(line, attrs.evolve(MOVE, holder="safety-office", staff=()))
    assert "package 'pkg-general-office' holder: 'safety-office' is an office; a package is " in (
        message
    )
    message = refused(line, attrs.evolve(MOVE, holder="general-office.staff-1", staff=()))
    assert "post 'general-office.staff-1' is in 'general-office', not in the leading group" in (
        message
    )
    message = refused(line, attrs.evolve(MOVE, holder="planning"))  # another section's staff
    assert "staff[0]: post 'moral-education.staff-1' is in 'moral-education', not in the " in (
        message
    )
    message = refused(line, attrs.evolve(MOVE, schools=()))
    assert (
        "package 'pkg-general-office': package 'pkg-general-office' has no schools or places"
        in (message)
    )
    message = refused(line, InChargeChanged("deputy-3", ("planning", "safety-office"), JUNE_30))
    assert "in-charge edge of 'deputy-3' units[1]: 'safety-office' is an office" in message
    message = refused(line, InChargeChanged("general-office.head", ("planning",), JUNE_30))
    assert "only leading-group posts are in charge of units" in message


def test_check_reports_only_the_problems_the_change_brings() -> None:
    # an organisation with a problem of its own: a package naming an unknown school
    broken = attrs.evolve(ORG.packages[0], schools=("s0001", "s7777"))
    org = attrs.evolve(ORG, packages=(broken, *ORG.packages[1:]))
    assert org.problems()
    Timeline(org).check(MOVE)  # the move itself is fine
    message = refused(Timeline(org), attrs.evolve(MOVE, schools=("s9999",)))
    assert "s9999" in message
    assert "s7777" not in message


# -- the service ------------------------------------------------------------------------------


def test_who_may_change_the_organisation(db: Store) -> None:
    r = recorder(db, D(2026, 6, 20))
    with pytest.raises(PermissionDenied, match=r"p011 .* may not change the organisation"):
        r.org_changes.record(MOVE, actor=STAFF_GO)
    with pytest.raises(PermissionDenied, match="no person 'p404'"):
        r.org_changes.record(MOVE, actor="p404")
    assert len(db) == 0
    assert {LEADER, "p002", OFFICE_HEAD, OFFICE_STAFF} <= r.org_changes.recorders()
    assert STAFF_GO not in r.org_changes.recorders()
    entry = r.org_changes.record(MOVE, actor=OFFICE_STAFF)
    assert entry.record.kind == "package-changed"
    assert entry.record.at == at(D(2026, 6, 20))  # the desk's clock
    assert r.org_changes.timeline().changes == (Change(1, OFFICE_STAFF, entry.record.at, MOVE),)


def test_a_refused_change_writes_nothing(db: Store) -> None:
    r = recorder(db, D(2026, 6, 20))
    with pytest.raises(TimelineError, match="unknown school 's9999'"):
        r.org_changes.set_package("pk-x", "planning", JUNE_30, schools=["s9999"], actor=LEADER)
    with pytest.raises(TimelineError, match="no person 'p090'"):
        r.org_changes.assign("planning.head", "p090", JUNE_30, actor=LEADER)
    assert len(db) == 0


def test_a_record_names_what_it_changes_and_whom_it_concerns(db: Store) -> None:
    r = recorder(db, D(2026, 6, 20))
    r.org_changes.join("p090", "钱立新", JUNE_30, actor=LEADER, phone="0571-1234")
    entry = r.org_changes.assign("general-office.head", "p090", JUNE_30, actor=LEADER)
    assert entry.record.subjects == (
        "post:general-office.head",
        "unit:general-office",
        "person:p090",
        f"person:{OFFICE_HEAD_GO}",  # the post's holder until then
    )
    moved = r.org_changes.record(MOVE, actor=LEADER)
    assert moved.record.subjects == (
        "package:pkg-general-office",
        "unit:moral-education",
        "school:s0002",
        "unit:general-office",  # the holder until then
    )
    ended = r.org_changes.end_package("pkg-lg-deputy-1", D(2026, 9, 1), actor=LEADER)
    assert ended.record.subjects == ("package:pkg-lg-deputy-1", "post:deputy-1", "school:s0002")
    shuffled = r.org_changes.set_in_charge("deputy-3", ["planning"], D(2026, 9, 1), actor=LEADER)
    assert "unit:general-office" in shuffled.record.subjects
    # read back by subject: the store's index finds what concerns the predecessor
    assert [e.seq for e in db.read(subject=f"person:{OFFICE_HEAD_GO}")] == [entry.seq]
    assert [e.seq for e in db.read(subject=school("s0002"))] == [moved.seq, ended.seq]


def test_a_change_pending_in_the_batch_is_checked_with_it(db: Store) -> None:
    r = recorder(db, D(2026, 6, 20))
    with r.batch():
        r.org_changes.join("p090", "钱立新", JUNE_30, actor=LEADER)
        r.org_changes.assign("general-office.head", "p090", JUNE_30, actor=LEADER)
        with pytest.raises(TimelineError, match="already known"):
            r.org_changes.join("p090", "钱立新", D(2026, 7, 1), actor=LEADER)
    assert [e.record.kind for e in db.read()] == ["person-joined", "post-assigned"]


def test_a_successor_acts_for_the_post_right_after_the_change(db: Store) -> None:
    r = recorder(db, JUNE_30)
    r.org_changes.join("p090", "钱立新", JUNE_30, actor=LEADER)
    r.org_changes.assign("general-office.staff-1", "p090", JUNE_30, actor=LEADER)
    found = r.hazards.find("s0002", "general", "消防通道堆放杂物", actor="p090")
    assert found.found_by == "p090"
    with pytest.raises(PermissionDenied, match="p011 \\(no post\\) may not record hazards"):
        r.hazards.find("s0002", "general", "灭火器过期", actor=STAFF_GO)
    assert r.desk.base_org is ORG
    assert holder(r.desk.org, "general-office.staff-1") == "p090"


def test_a_change_effective_later_does_not_change_who_acts_today(db: Store) -> None:
    r = recorder(db, D(2026, 6, 20))
    r.org_changes.record(MOVE, actor=LEADER)
    assert r.incidents.reporters("s0002") >= {STAFF_GO, STAFF_GO_2}
    assert MORAL_STAFF not in r.incidents.reporters("s0002")
    # the next day's desk, once the move is in force
    later = recorder(db, D(2026, 7, 1))
    assert MORAL_STAFF in later.incidents.reporters("s0002")
    assert STAFF_GO not in later.incidents.reporters("s0002")


def test_a_recorder_follows_its_clock_across_an_effective_date(db: Store) -> None:
    """One long-running recorder: once its clock passes the move's effective date, its
    commands act on the organisation then in force."""
    now = [at(D(2026, 6, 20))]
    r = Recorder(db, ORG, clock=lambda: now[0])
    r.org_changes.record(MOVE, actor=LEADER)
    assert MORAL_STAFF not in r.incidents.reporters("s0002")
    now[0] = at(D(2026, 6, 29))  # another day, still before the move: nothing rebuilt
    desk_org = r.desk.org
    assert STAFF_GO in r.incidents.reporters("s0002")
    assert r.desk.org is desk_org
    now[0] = at(D(2026, 7, 1))
    assert MORAL_STAFF in r.incidents.reporters("s0002")
    assert STAFF_GO not in r.incidents.reporters("s0002")
    with pytest.raises(PermissionDenied):
        r.hazards.find("s0002", "general", "灭火器过期", actor=STAFF_GO)
    r.hazards.find("s0002", "general", "灭火器过期", actor=MORAL_STAFF)
    now[0] = at(D(2026, 6, 25))  # a command back-dated by its clock sees the day's
    assert STAFF_GO in r.incidents.reporters("s0002")


def test_in_a_batch_the_desk_changes_when_the_batch_commits(db: Store) -> None:
    r = recorder(db, JUNE_30)
    with r.batch():
        r.org_changes.join("p090", "钱立新", JUNE_30, actor=LEADER)
        r.org_changes.assign("general-office.staff-1", "p090", JUNE_30, actor=LEADER)
        # not yet: the organisation the batch's commands see is the one before it
        with pytest.raises(PermissionDenied, match="no person 'p090'"):
            r.hazards.find("s0002", "general", "消防通道堆放杂物", actor="p090")
        r.hazards.find("s0002", "general", "灭火器过期", actor=STAFF_GO)
    r.hazards.find("s0002", "general", "消防通道堆放杂物", actor="p090")
    assert [e.record.kind for e in db.read()] == [
        "person-joined", "post-assigned", "hazard-found", "hazard-found",
    ]  # fmt: skip


def test_a_rolled_back_batch_changes_nothing(db: Store) -> None:
    r = recorder(db, JUNE_30)
    before = r.desk.org

    def cut_short() -> None:
        with r.batch():
            r.org_changes.join("p090", "钱立新", JUNE_30, actor=LEADER)
            r.org_changes.assign("general-office.staff-1", "p090", JUNE_30, actor=LEADER)
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        cut_short()
    assert len(db) == 0
    assert r.desk.org is before
    assert not r.desk.stale
    with pytest.raises(PermissionDenied, match="no person 'p090'"):
        r.hazards.find("s0002", "general", "消防通道堆放杂物", actor="p090")
    r.hazards.find("s0002", "general", "消防通道堆放杂物", actor=STAFF_GO)
    assert not Timeline.from_store(ORG, db)
