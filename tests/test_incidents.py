"""Incidents: grades, report deadlines, late / omitted / concealed flags, permissions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dualduty
from dualduty.errors import DualdutyError
from dualduty.records import RECORD_KINDS, InvalidTransition, PermissionDenied, Record, school
from dualduty.records.incidents import (
    KINDS,
    CameToLight,
    Figures,
    FlagKind,
    Grade,
    IncidentClass,
    IncidentRecorded,
    IncidentReported,
    IncidentRules,
    Incidents,
    IncidentState,
    ReportStage,
    ResponsibilityDetermined,
    step,
)
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=ZONE)  # when the incidents occur
ORG = dualduty.reference_organisation(schools=3)

# In the reference organisation s0002 is packaged to the general office (head p010, staff
# p011/p012) and to deputy-1 (p002). The leading group's office sits in 法规安全科: head
# p007, staff p008. p001 is the leader (局长); p005 a leading-group member (纪检组长).
SCHOOL = "s0002"
SECTION_HEAD, SECTION_STAFF = "p010", "p011"
OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"
PACKAGE_DEPUTY, LEADER, MEMBER = "p002", "p001", "p005"
OUTSIDER = "p014"  # 德育科 staff: another section's school


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture
def incidents(store: Store) -> Incidents:
    return Incidents(store, ORG)


def snapshot(store: Store) -> tuple[int, int]:
    return len(store), len(store.outbox(state=None))


def record(
    incidents: Incidents,
    *,
    deaths: int = 0,
    after: dt.timedelta | None = None,
    actor: str = SECTION_STAFF,
    came_to_light: str = "reported",
    discovered_by: str = "",
    incident_id: str | None = None,
) -> IncidentState:
    """An accident at s0002 occurring at T0, recorded *after* later (10 minutes)."""
    return incidents.record(
        SCHOOL,
        "accident",
        "课间楼梯拥挤踩踏",
        occurred=T0,
        actor=actor,
        deaths=deaths,
        came_to_light=came_to_light,
        discovered_by=discovered_by,
        incident_id=incident_id,
        at=T0 + (minutes(10) if after is None else after),
    )


def kinds_of(state: IncidentState, now: dt.datetime) -> list[tuple[FlagKind, ReportStage | None]]:
    return [(f.kind, f.stage) for f in state.flags(now)]


class TestKinds:
    def test_registered_on_import(self) -> None:
        for cls in KINDS:
            assert RECORD_KINDS[cls.__record_kind__] is cls

    def test_examples_round_trip(self, store: Store) -> None:
        records = [
            Record.of(example, actor="p007", at=T0, subjects=[school("s0001")])
            for cls in KINDS
            for example in cls.examples()
        ]
        store.append(*records)
        assert [e.record for e in store.read()] == records

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("occurred_time", "24:00", "HH:MM"),
            ("occurred_time", "9:00", "HH:MM"),
            ("category", "flood", "'flood'"),
            ("grade", "huge", "'huge'"),
            ("came_to_light", "rumoured", "'rumoured'"),
        ],
    )
    def test_fields_are_checked(self, field: str, value: str, message: str) -> None:
        changes: dict[str, Any] = {field: value}
        with pytest.raises(ValueError, match=message):
            attrs.evolve(IncidentRecorded.examples()[0], **changes)

    def test_figures_are_whole_and_not_negative(self) -> None:
        with pytest.raises(ValueError, match="deaths"):
            Figures(deaths=-1)
        with pytest.raises(ValueError, match="loss_yuan"):
            Figures(loss_yuan=1.5)  # type: ignore[arg-type]  # the wrong type on purpose

    def test_a_finding_is_yes_or_no(self) -> None:
        with pytest.raises(ValueError, match="responsible"):
            ResponsibilityDetermined("ic-1", "yes")  # type: ignore[arg-type]  # on purpose

    def test_seven_classes_with_their_chinese_labels(self) -> None:
        labels = {c.value: c.label for c in IncidentClass}
        assert labels == {
            "social_safety": "社会安全",
            "accident": "事故灾难",
            "public_health": "公共卫生",
            "natural_disaster": "自然灾害",
            "network_security": "网络安全",
            "exam_safety": "考试安全",
            "public_opinion": "舆情",
        }

    def test_grades_are_ordered_by_gravity(self) -> None:
        # Alphabetically "extraordinary" < "general" < "larger" < "major".
        assert sorted(Grade, reverse=True) == [
            Grade.EXTRAORDINARY,
            Grade.MAJOR,
            Grade.LARGER,
            Grade.GENERAL,
        ]
        assert [g.label for g in Grade] == ["一般", "较大", "重大", "特别重大"]
        assert Grade.MAJOR > "larger"
        assert Grade.GENERAL <= Grade.GENERAL < Grade.EXTRAORDINARY
        assert max(Grade.LARGER, Grade.GENERAL) is Grade.LARGER
        with pytest.raises(ValueError, match="'huge'"):
            assert Grade.MAJOR < "huge"


class TestGrades:
    @pytest.mark.parametrize(
        ("figures", "grade"),
        [
            (Figures(), Grade.GENERAL),
            (Figures(2, 9, 9_999_999), Grade.GENERAL),
            (Figures(deaths=3), Grade.LARGER),
            (Figures(serious_injuries=10), Grade.LARGER),
            (Figures(loss_yuan=10_000_000), Grade.LARGER),
            (Figures(9, 49, 49_999_999), Grade.LARGER),
            (Figures(deaths=10), Grade.MAJOR),
            (Figures(serious_injuries=50), Grade.MAJOR),
            (Figures(loss_yuan=50_000_000), Grade.MAJOR),
            (Figures(29, 99, 99_999_999), Grade.MAJOR),
            (Figures(deaths=30), Grade.EXTRAORDINARY),
            (Figures(serious_injuries=100), Grade.EXTRAORDINARY),
            (Figures(loss_yuan=100_000_000), Grade.EXTRAORDINARY),
            (Figures(deaths=2, serious_injuries=100), Grade.EXTRAORDINARY),
        ],
    )
    def test_state_council_thresholds(self, figures: Figures, grade: Grade) -> None:
        """493号令 第三条: 以上 includes the number itself; any one figure decides."""
        rules = IncidentRules()
        assert rules.grade(figures) is grade
        assert rules.grade_of(figures.deaths, figures.serious_injuries, figures.loss_yuan) is grade

    def test_custom_thresholds_keep_the_other_grades(self) -> None:
        rules = IncidentRules(thresholds={"larger": Figures(1, 5, 1_000_000)})
        assert rules.grade_of(deaths=1) is Grade.LARGER
        assert rules.grade_of(serious_injuries=4) is Grade.GENERAL
        assert rules.grade_of(deaths=10) is Grade.MAJOR
        assert IncidentRules().grade_of(deaths=1) is Grade.GENERAL

    def test_assessed_grade_counts_when_higher(self) -> None:
        rules = IncidentRules()
        assert rules.grade(Figures(), Grade.LARGER) is Grade.LARGER
        assert rules.grade(Figures(deaths=10), Grade.LARGER) is Grade.MAJOR

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"thresholds": {"major": Figures(2, 50, 50_000_000)}}, r"thresholds\[major\]"),
            ({"thresholds": {"general": Figures(1, 1, 1)}}, "'general' is not one of"),
            ({"thresholds": {"larger": Figures(0, 10, 1)}}, r"\.deaths: must be >= 1"),
            ({"initial_minutes": {"larger": 0}}, r"initial_minutes\[larger\]"),
            ({"initial_minutes": {"worst": 5}}, "'worst' is not one of"),
            ({"follow_up_hours": {"general": -1}}, r"follow_up_hours\[general\]"),
            ({"final_days": 0}, "final_days"),
            ({"timezone": "Mars/Base"}, "not a time zone"),
        ],
    )
    def test_rules_are_checked(self, changes: dict[str, object], message: str) -> None:
        with pytest.raises((ValueError, TypeError), match=message):
            IncidentRules(**changes)  # type: ignore[arg-type]  # bad values on purpose

    def test_rules_hash_and_compare(self) -> None:
        assert IncidentRules(final_days=15) == IncidentRules(final_days=15)
        assert IncidentRules(initial_minutes={"general": 90}) != IncidentRules()
        assert hash(IncidentRules()) == hash(IncidentRules())


_COUNT = st.integers(1, 200)
_LOSS = st.integers(1, 300_000_000)


@st.composite
def grading_rules(draw: st.DrawFn) -> IncidentRules:
    """Rules with random thresholds that do not fall as grades rise."""
    columns = [sorted(draw(st.lists(s, min_size=3, max_size=3))) for s in (_COUNT, _COUNT, _LOSS)]
    grades = (Grade.LARGER, Grade.MAJOR, Grade.EXTRAORDINARY)
    thresholds = {g: Figures(*(column[i] for column in columns)) for i, g in enumerate(grades)}
    return IncidentRules(thresholds=thresholds)


_FIGURES = st.builds(Figures, st.integers(0, 250), st.integers(0, 250), st.integers(0, 4 * 10**8))


@given(grading_rules(), _FIGURES, _FIGURES)
def test_grade_is_monotone(rules: IncidentRules, a: Figures, b: Figures) -> None:
    """More casualties or loss never give a lower grade; a grade is reached exactly when
    one figure reaches its threshold."""
    low = Figures(*(min(x, y) for x, y in zip(attrs.astuple(a), attrs.astuple(b), strict=True)))
    assert rules.grade(low) <= rules.grade(a)
    assert rules.grade(low) <= rules.grade(b)
    for grade, threshold in rules.thresholds.items():
        assert (rules.grade(a) >= grade) == a.reaches(threshold)


class TestDeadlines:
    def test_general_initial_within_an_hour(self, incidents: Incidents) -> None:
        state = record(incidents)
        assert state.grade is Grade.GENERAL
        assert state.deadlines() == {
            ReportStage.INITIAL: T0 + hours(1),
            ReportStage.FINAL: T0 + days(30),
        }

    def test_initial_two_hours_after_is_late(self, incidents: Incidents) -> None:
        """Issue 6 acceptance: an incident reported late is flagged late."""
        state = record(incidents)
        state = incidents.report(
            state.id, "initial", text="两名学生受伤", actor=SECTION_STAFF, at=T0 + hours(2)
        )
        (flag,) = state.flags(T0 + hours(3))
        assert (flag.kind, flag.stage) == (FlagKind.LATE, ReportStage.INITIAL)
        assert "60 min after it was due by 2026-09-01 10:00" in flag.reason

    def test_initial_at_fifty_minutes_is_in_time(self, incidents: Incidents) -> None:
        state = record(incidents)
        state = incidents.report(
            state.id, "initial", text="两名学生受伤", actor=SECTION_STAFF, at=T0 + minutes(50)
        )
        assert state.flags(T0 + days(1)) == ()

    @pytest.mark.parametrize(("after", "late"), [(30, False), (40, True)])
    def test_larger_initial_within_thirty_minutes(
        self, incidents: Incidents, after: int, late: bool
    ) -> None:
        state = record(incidents, deaths=3)
        assert state.grade is Grade.LARGER
        state = incidents.report(
            state.id, "initial", text="三名学生死亡", actor=SECTION_STAFF, at=T0 + minutes(after)
        )
        assert (FlagKind.LATE in state.flagged(T0 + hours(1))) is late

    def test_omitted_follow_up_and_final(self, incidents: Incidents) -> None:
        state = record(incidents, deaths=3)
        state = incidents.report(
            state.id, "initial", text="三名学生死亡", actor=SECTION_STAFF, at=T0 + minutes(20)
        )
        assert state.flags(T0 + hours(24)) == ()
        assert kinds_of(state, T0 + hours(25)) == [(FlagKind.OMITTED, ReportStage.FOLLOW_UP)]
        assert kinds_of(state, T0 + days(31)) == [
            (FlagKind.OMITTED, ReportStage.FOLLOW_UP),
            (FlagKind.OMITTED, ReportStage.FINAL),
        ]
        # Made late, the follow-up is late rather than omitted.
        state = incidents.report(
            state.id, "follow_up", text="善后处置中", actor=SECTION_STAFF, at=T0 + hours(30)
        )
        assert kinds_of(state, T0 + days(2)) == [(FlagKind.LATE, ReportStage.FOLLOW_UP)]
        # As the record stood before the follow-up was made, it was omitted.
        assert kinds_of(state, T0 + hours(29)) == [(FlagKind.OMITTED, ReportStage.FOLLOW_UP)]

    def test_general_needs_no_follow_up(self, incidents: Incidents) -> None:
        state = record(incidents)
        state = incidents.report(
            state.id, "initial", text="一名学生受伤", actor=SECTION_STAFF, at=T0 + minutes(20)
        )
        assert ReportStage.FOLLOW_UP not in state.deadlines()
        assert state.flags(T0 + days(29)) == ()
        assert kinds_of(state, T0 + days(31)) == [(FlagKind.OMITTED, ReportStage.FINAL)]

    def test_a_timely_final_answers_for_the_follow_up(self, incidents: Incidents) -> None:
        state = record(incidents, deaths=3)
        incidents.report(
            state.id, "initial", text="三名学生死亡", actor=SECTION_STAFF, at=T0 + minutes(20)
        )
        state = incidents.report(
            state.id, "final", text="处置完毕", actor=SECTION_STAFF, at=T0 + hours(20)
        )
        assert state.reported_at(ReportStage.FOLLOW_UP) == T0 + hours(20)
        assert state.flags(T0 + days(60)) == ()

    def test_deadlines_are_configurable(self, store: Store) -> None:
        rules = IncidentRules.of(
            ORG, initial_minutes={"general": 180}, follow_up_hours={"general": 12}, final_days=10
        )
        incidents = Incidents(store, ORG, rules)
        state = record(incidents)
        assert state.deadlines() == {
            ReportStage.INITIAL: T0 + hours(3),
            ReportStage.FOLLOW_UP: T0 + hours(12),
            ReportStage.FINAL: T0 + days(10),
        }
        state = incidents.report(
            state.id, "initial", text="一名学生受伤", actor=SECTION_STAFF, at=T0 + hours(2)
        )
        assert kinds_of(state, T0 + days(11)) == [
            (FlagKind.OMITTED, ReportStage.FOLLOW_UP),
            (FlagKind.OMITTED, ReportStage.FINAL),
        ]

    def test_a_raised_grade_tightens_the_earlier_deadlines(self, incidents: Incidents) -> None:
        state = record(incidents)
        incidents.report(
            state.id, "initial", text="两名学生受伤", actor=SECTION_STAFF, at=T0 + minutes(45)
        )
        state = incidents.report(
            state.id, "follow_up", text="三人死亡", actor=SECTION_STAFF, deaths=3, at=T0 + hours(5)
        )
        assert state.grade is Grade.LARGER
        assert (FlagKind.LATE, ReportStage.INITIAL) in kinds_of(state, T0 + hours(6))


class TestConcealed:
    def test_discovered_after_the_deadline(self, incidents: Incidents) -> None:
        state = record(
            incidents,
            actor=OFFICE_STAFF,
            after=hours(3),
            came_to_light="discovered",
            discovered_by="网络媒体",
        )
        # The school's report after the discovery does not undo it.
        state = incidents.report(
            state.id, "initial", text="补报", actor=SECTION_STAFF, at=T0 + hours(4)
        )
        flags = {f.kind: f for f in state.flags(T0 + hours(5))}
        assert set(flags) == {FlagKind.CONCEALED, FlagKind.LATE}
        assert "came to light by 网络媒体 at 2026-09-01 12:00" in flags[FlagKind.CONCEALED].reason

    def test_discovered_within_the_deadline_is_not_concealed(self, incidents: Incidents) -> None:
        state = record(incidents, actor=OFFICE_STAFF, after=minutes(20), came_to_light="discovered")
        state = incidents.report(
            state.id, "initial", text="已报", actor=SECTION_STAFF, at=T0 + minutes(40)
        )
        assert state.flags(T0 + hours(2)) == ()

    def test_understated_below_the_final_grade(self, incidents: Incidents) -> None:
        state = record(incidents)
        incidents.report(
            state.id, "initial", text="两名学生受伤", actor=SECTION_STAFF, at=T0 + minutes(20)
        )
        incidents.report(
            state.id, "follow_up", text="伤者稳定", actor=SECTION_STAFF, at=T0 + hours(5)
        )
        state = incidents.report(
            state.id, "final", text="三人死亡", actor=SECTION_STAFF, deaths=3, at=T0 + days(3)
        )
        concealed = [f for f in state.flags(T0 + days(3)) if f.kind is FlagKind.CONCEALED]
        assert [f.stage for f in concealed] == [ReportStage.INITIAL, ReportStage.FOLLOW_UP]
        assert "(一般), below the final grade 较大" in concealed[0].reason
        # Before the final report the grade was not final: nothing concealed yet.
        assert FlagKind.CONCEALED not in state.flagged(T0 + days(2))

    def test_the_investigation_settles_concealment(self, incidents: Incidents) -> None:
        state = record(incidents)
        incidents.report(
            state.id, "initial", text="两名学生受伤", actor=SECTION_STAFF, at=T0 + minutes(20)
        )
        incidents.report(
            state.id, "final", text="伤者不治", actor=SECTION_STAFF, deaths=3, at=T0 + days(3)
        )
        state = incidents.determine(
            state.id,
            responsible=True,
            concealed=False,
            text="伤者送医后死亡，初报时尚未死亡",
            actor=OFFICE_HEAD,
            at=T0 + days(20),
        )
        assert FlagKind.CONCEALED not in state.flagged(T0 + days(30))
        assert FlagKind.CONCEALED in state.flagged(T0 + days(19))  # before the finding
        state = incidents.determine(
            state.id,
            responsible=True,
            concealed=True,
            text="学校隐瞒死亡人数",
            actor=MEMBER,
            at=T0 + days(40),
        )
        (flag,) = [f for f in state.flags(T0 + days(41)) if f.kind is FlagKind.CONCEALED]
        assert flag.reason.endswith("学校隐瞒死亡人数")


class TestPermissions:
    @pytest.mark.parametrize("actor", [SECTION_STAFF, SECTION_HEAD, PACKAGE_DEPUTY, OFFICE_STAFF])
    def test_the_schools_side_and_the_office_record(self, incidents: Incidents, actor: str) -> None:
        assert record(incidents, actor=actor).recorded_by == actor

    def test_outsider_may_not_record_or_report(self, incidents: Incidents, store: Store) -> None:
        with pytest.raises(PermissionDenied, match=f"{OUTSIDER} .*school {SCHOOL}"):
            record(incidents, actor=OUTSIDER)
        assert snapshot(store) == (0, 0)
        state = record(incidents)
        before = snapshot(store)
        with pytest.raises(PermissionDenied, match=OUTSIDER):
            incidents.report(state.id, "initial", text="x", actor=OUTSIDER, at=T0 + hours(1))
        assert snapshot(store) == before

    @pytest.mark.parametrize(
        ("actor", "allowed"),
        [(SECTION_STAFF, False), (PACKAGE_DEPUTY, True), (MEMBER, True), (OFFICE_STAFF, True)],
    )
    def test_discovered_by_the_office_or_leading_group(
        self, incidents: Incidents, store: Store, actor: str, allowed: bool
    ) -> None:
        if allowed:
            state = record(incidents, actor=actor, came_to_light="discovered")
            assert state.came_to_light is CameToLight.DISCOVERED
            return
        with pytest.raises(PermissionDenied, match="discovered incident"):
            record(incidents, actor=actor, came_to_light="discovered")
        assert snapshot(store) == (0, 0)

    @pytest.mark.parametrize(
        ("actor", "allowed"),
        [
            (SECTION_HEAD, False),
            (SECTION_STAFF, False),
            (OUTSIDER, False),
            (OFFICE_HEAD, True),
            (MEMBER, True),
            (LEADER, True),
        ],
    )
    def test_responsibility_by_the_office_or_leading_group(
        self, incidents: Incidents, store: Store, actor: str, allowed: bool
    ) -> None:
        state = record(incidents)
        assert state.responsible is None
        before = snapshot(store)
        if allowed:
            state = incidents.determine(state.id, responsible=False, actor=actor, at=T0 + days(5))
            assert state.responsible is False
            assert state.determined_by == actor
            return
        with pytest.raises(PermissionDenied, match="determine responsibility"):
            incidents.determine(state.id, responsible=True, actor=actor, at=T0 + days(5))
        assert snapshot(store) == before


class TestRefusals:
    def test_what_does_not_fit_writes_nothing(self, incidents: Incidents, store: Store) -> None:
        state = record(incidents)
        incidents.report(state.id, "initial", text="初报", actor=SECTION_STAFF, at=T0 + hours(1))
        before = snapshot(store)
        with pytest.raises(InvalidTransition, match="initial report"):
            incidents.report(state.id, "initial", text="再报", actor=SECTION_STAFF)
        with pytest.raises(InvalidTransition, match="no incident 'ic-99999'"):
            incidents.report("ic-99999", "initial", text="x", actor=SECTION_STAFF)
        with pytest.raises(InvalidTransition, match="already exists"):
            record(incidents, incident_id=state.id)
        with pytest.raises(InvalidTransition, match="no post 'nobody'"):
            incidents.determine(state.id, responsible=True, posts=["nobody"], actor=OFFICE_HEAD)
        with pytest.raises(InvalidTransition, match="occurred 2026-09-01 09:00 but was recorded"):
            record(incidents, after=minutes(-5))
        with pytest.raises(InvalidTransition, match="time zone"):
            incidents.record(
                SCHOOL, "accident", "x", occurred=dt.datetime(2026, 9, 1), actor=SECTION_STAFF
            )
        with pytest.raises(DualdutyError, match="no school"):
            incidents.record("s9999", "accident", "x", occurred=T0, actor=SECTION_STAFF)
        incidents.report(state.id, "final", text="终报", actor=SECTION_STAFF, at=T0 + days(2))
        before = snapshot(store)
        with pytest.raises(InvalidTransition, match="no report follows it"):
            incidents.report(state.id, "follow_up", text="续报", actor=SECTION_STAFF)
        assert snapshot(store) == before

    def test_no_report_before_the_incident(self) -> None:
        recorded = Record.of(
            IncidentRecorded("ic-1", SCHOOL, "accident", "x", T0.date(), "09:00"),
            actor=SECTION_STAFF,
            at=T0,
        )
        state = step(None, recorded)
        early = Record.of(
            IncidentReported("ic-1", "initial", Figures(), "x"),
            actor=SECTION_STAFF,
            at=T0 - minutes(1),
        )
        with pytest.raises(InvalidTransition, match="before the incident occurred"):
            step(state, early)
        other = Record.of(
            IncidentReported("ic-2", "initial", Figures(), "x"), actor=SECTION_STAFF, at=T0
        )
        with pytest.raises(InvalidTransition, match="'ic-2' applied to 'ic-1'"):
            step(state, other)

    def test_rules_in_another_zone_are_refused(self, store: Store) -> None:
        org = attrs.evolve(ORG, timezone="Asia/Urumqi")
        with pytest.raises(DualdutyError, match=r"IncidentRules\.of"):
            Incidents(store, org, IncidentRules())
        incidents = Incidents(store, org, IncidentRules.of(org, final_days=10))
        state = record(incidents)  # 09:00 at +08:00 is 07:00 in Urumqi (+06:00)
        assert (state.occurred_at, state.occurred_at.hour) == (T0, 7)


class TestNotices:
    def test_general_goes_to_the_office(self, incidents: Incidents, store: Store) -> None:
        record(incidents)
        (item,) = store.outbox()
        assert (item.cause, item.message.recipient, item.message.urgent) == (1, OFFICE_HEAD, False)
        assert item.message.title.startswith("一般事件 ic-00001：")

    def test_larger_is_urgent_and_goes_to_the_leader(
        self, incidents: Incidents, store: Store
    ) -> None:
        record(incidents, deaths=3)
        got = [(i.cause, i.message.recipient, i.message.urgent) for i in store.outbox()]
        assert got == [(1, OFFICE_HEAD, True), (1, LEADER, True)]

    def test_a_report_raising_the_grade_alerts_the_leader(
        self, incidents: Incidents, store: Store
    ) -> None:
        state = record(incidents)
        incidents.report(state.id, "initial", text="受伤", actor=SECTION_STAFF, at=T0 + hours(1))
        incidents.report(
            state.id, "follow_up", text="死亡", deaths=3, actor=SECTION_STAFF, at=T0 + hours(3)
        )
        incidents.report(state.id, "final", text="终报", actor=SECTION_STAFF, at=T0 + days(3))
        got = [(i.cause, i.message.recipient, i.message.urgent) for i in store.outbox()]
        assert got == [
            (1, OFFICE_HEAD, False),
            (2, OFFICE_HEAD, False),
            (3, OFFICE_HEAD, True),
            (3, LEADER, True),
            (4, OFFICE_HEAD, True),
        ]
        assert "由一般升为较大" in store.outbox()[2].message.title


class TestReading:
    def test_figures_and_assessed_grade_carry_forward(self, incidents: Incidents) -> None:
        state = incidents.record(
            SCHOOL,
            "public_opinion",
            "家长网上发布食堂视频",
            occurred=T0,
            actor=OFFICE_STAFF,
            came_to_light="discovered",
            grade="larger",
            serious_injuries=1,
            at=T0 + minutes(10),
        )
        assert state.grade is Grade.LARGER
        state = incidents.report(
            state.id, "initial", text="已回应", actor=SECTION_STAFF, at=T0 + minutes(20)
        )
        (report,) = state.reports
        assert (report.figures, report.assessed, report.grade) == (
            Figures(serious_injuries=1),
            Grade.LARGER,
            Grade.LARGER,
        )
        state = incidents.report(
            state.id, "final", text="舆情平息", grade="general", actor=SECTION_STAFF,
            at=T0 + days(2),
        )  # fmt: skip
        assert state.grade is Grade.GENERAL

    def test_readers_by_year_and_school(self, incidents: Incidents) -> None:
        new_year = dt.datetime(2026, 1, 1, 0, 30, tzinfo=ZONE)
        eve = incidents.record(
            SCHOOL,
            "accident",
            "跨年夜烟花引燃",
            occurred=new_year - hours(1),
            actor=SECTION_STAFF,
            at=new_year,
        )
        first = incidents.record(
            SCHOOL, "accident", "元旦滑倒", occurred=new_year, actor=SECTION_STAFF, at=new_year
        )
        other = incidents.record(
            "s0001", "natural_disaster", "暴雨积水", occurred=T0, actor=OFFICE_STAFF, at=T0
        )
        assert [s.id for s in incidents.all()] == [eve.id, first.id, other.id]
        assert [s.id for s in incidents.all(year=2025)] == [eve.id]
        assert [s.id for s in incidents.of_school(SCHOOL, year=2026)] == [first.id]
        assert [s.id for s in incidents.of_school("s0001")] == [other.id]
        assert incidents.state(first.id) == first
        with pytest.raises(InvalidTransition, match="no incident 'ic-99999'"):
            incidents.state("ic-99999")


def test_incident_walk_on_sqlite(tmp_path: Path) -> None:
    """Record, three reports, a finding; subjects indexed; the chain verifies; reopened equal."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    with open_store(url) as store:
        incidents = Incidents(store, ORG)
        state = record(incidents, after=minutes(15))
        incidents.report(
            state.id, "initial", text="两名学生受伤送医", actor=SECTION_STAFF, at=T0 + minutes(40)
        )
        incidents.report(
            state.id,
            "follow_up",
            text="一名学生经抢救无效死亡",
            deaths=1,
            serious_injuries=1,
            actor=SECTION_HEAD,
            at=T0 + hours(6),
        )
        incidents.report(
            state.id,
            "final",
            text="善后完毕",
            loss_yuan=86_000,
            actor=SECTION_HEAD,
            at=T0 + days(12),
        )
        state = incidents.determine(
            state.id,
            responsible=True,
            persons=["王某（校长）"],
            posts=["general-office.head"],
            text="课间值守不到位",
            actor=OFFICE_HEAD,
            at=T0 + days(20),
        )
        assert (state.grade, state.responsible, state.fatal) == (Grade.GENERAL, True, True)
        assert state.figures == Figures(1, 1, 86_000)
        assert state.flags(T0 + days(60)) == ()
        (entry,) = store.read(subject="post:general-office.head")
        assert entry.record.subjects == (
            f"incident:{state.id}",
            f"school:{SCHOOL}",
            "unit:general-office",
            "post:general-office.head",
        )
        assert [e.record.kind for e in store.read(subject="unit:general-office")] == [
            "incident-recorded",
            "incident-reported",
            "incident-reported",
            "incident-reported",
            "incident-determined",
        ]
        verification = store.verify()
        assert verification.ok
        assert verification.checked == 5
    with open_store(url) as store:
        again = Incidents(store, ORG)
        assert again.state(state.id) == state
        assert again.all(year=2026) == [state]
