"""The schedule generator and validator (issue 5): acceptance on the reference bureau, the
validator's findings one by one, and the generator's guarantees as properties."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import chinese_calendar
import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

import dualduty
import dualduty.planning.schedule as schedule_module
from dualduty.calendars import (
    Blackout,
    HolidayYear,
    MissingHolidays,
    Term,
    WorkCalendar,
    calendar_for,
)
from dualduty.io import read_schedule_csv, schedule_from_json, schedule_to_json, write_schedule_csv
from dualduty.model import (
    Deadline,
    Meeting,
    MeetingKind,
    Organisation,
    Package,
    Post,
    Role,
    Rules,
    Schedule,
    School,
    SchoolLevel,
    Unit,
    UnitKind,
    Visit,
)
from dualduty.planning import (
    COORDINATION_AT,
    SUMMARY_WORKING_DAYS_BEFORE_YEAR_END,
    PlanningError,
    ScheduleError,
    ScheduleInfeasible,
    Shortfall,
    check_schedule,
    plan_packages,
    plan_schedule,
)

YEAR = 2026
QUARTERS = {
    1: (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
    2: (dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
    3: (dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
    4: (dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
}
#: Exam weeks and a sports day: no dedicated inspection may fall on them.
BLACKOUTS = (
    Blackout("中考", dt.date(2026, 6, 24), dt.date(2026, 6, 26)),
    Blackout("高考", dt.date(2026, 6, 7), dt.date(2026, 6, 9)),
    Blackout("运动会", dt.date(2026, 10, 20), dt.date(2026, 10, 20)),
)
#: School terms and vacations around 2026.
TERMS = (
    Term("2025年秋季学期", dt.date(2025, 9, 1), dt.date(2026, 1, 23)),
    Term("寒假", dt.date(2026, 1, 24), dt.date(2026, 3, 1), vacation=True),
    Term("2026年春季学期", dt.date(2026, 3, 2), dt.date(2026, 7, 10)),
    Term("暑假", dt.date(2026, 7, 11), dt.date(2026, 8, 31), vacation=True),
    Term("2026年秋季学期", dt.date(2026, 9, 1), dt.date(2027, 1, 22)),
)


# -- the calendar, from chinese-calendar (the test reference for holiday data) ----------


def _days(year: int) -> list[dt.date]:
    first = dt.date(year, 1, 1)
    return [first + dt.timedelta(days=i) for i in range((dt.date(year, 12, 31) - first).days + 1)]


@cache
def holiday_year(year: int = YEAR) -> HolidayYear:
    """The statutory holidays of *year* as chinese-calendar knows them."""
    off: list[dt.date] = []
    work: list[dt.date] = []
    names: list[tuple[dt.date, str]] = []
    for day in _days(year):
        working = chinese_calendar.is_workday(day)
        if day.weekday() < 5 and not working:
            off.append(day)
            _on, name = chinese_calendar.get_holiday_detail(day)
            if name:
                names.append((day, str(name)))
        elif day.weekday() >= 5 and working:
            work.append(day)
    return HolidayYear(year, off, work, tuple(names), source="chinese_calendar")


def calendar(**kwargs: Any) -> WorkCalendar:
    return WorkCalendar([holiday_year()], **kwargs)


def is_workday(day: dt.date) -> bool:
    return bool(chinese_calendar.is_workday(day))


def last_working_day(q: int) -> dt.date:
    start, end = QUARTERS[q]
    return max(d for d in _days(YEAR) if start <= d <= end and is_workday(d))


# -- the reference bureau ----------------------------------------------------------------


@pytest.fixture(scope="module")
def reference() -> tuple[Organisation, WorkCalendar, Schedule]:
    org = dualduty.reference_organisation(schools=300)
    cal = calendar(blackouts=BLACKOUTS)
    return org, cal, plan_schedule(org, cal, YEAR)


def _pairs_in_force(org: Organisation) -> set[tuple[str, str]]:
    return {(p.holder, s) for p in org.packages for s in p.schools}


def test_reference_every_package_has_two_visits_each_quarter(
    reference: tuple[Organisation, WorkCalendar, Schedule],
) -> None:
    org, _cal, schedule = reference
    counts = Counter((v.holder, v.school, v.quarter) for v in schedule.visits)
    pairs = _pairs_in_force(org)
    assert len(pairs) == 600
    assert {(h, s, q) for h, s in pairs for q in (1, 2, 3, 4)} == set(counts)
    assert set(counts.values()) == {2}
    assert len(schedule.visits) == 4800


def test_reference_visits_on_working_days_outside_blackouts(
    reference: tuple[Organisation, WorkCalendar, Schedule],
) -> None:
    _org, _cal, schedule = reference
    for visit in schedule.visits:
        day = visit.date
        assert is_workday(day), visit  # the reference: chinese-calendar itself
        assert (day.month - 1) // 3 + 1 == visit.quarter
        assert not any(b.start <= day <= b.end for b in BLACKOUTS), visit
    weekend = {v.date for v in schedule.visits if v.date.weekday() >= 5}
    assert weekend  # 调休 make-up days are used, and only those
    assert weekend <= set(holiday_year().workdays)
    assert dt.date(2026, 10, 1) not in {v.date for v in schedule.visits}


def test_reference_visits_spread_and_staffed(
    reference: tuple[Organisation, WorkCalendar, Schedule],
) -> None:
    org, _cal, schedule = reference
    rules = org.rules
    by_pair: dict[tuple[str, str, int], list[dt.date]] = defaultdict(list)
    per_day: Counter[tuple[str, dt.date]] = Counter()
    staff = {p.holder: set(p.staff) for p in org.packages if p.staff}
    for v in schedule.visits:
        by_pair[v.holder, v.school, v.quarter].append(v.date)
        for post in v.inspectors:
            per_day[post, v.date] += 1
        assert v.inspectors == (v.holder,) or set(v.inspectors) <= staff[v.holder]
    gaps = [(max(d) - min(d)).days for d in by_pair.values()]
    assert min(gaps) >= rules.min_days_between_visits
    assert sum(gaps) / len(gaps) > 30  # spread through the quarter, not just apart
    assert max(per_day.values()) <= rules.visits_per_inspector_per_day
    # half unannounced, exactly, for every holder and quarter
    for (holder, q), n in Counter((v.holder, v.quarter) for v in schedule.visits).items():
        hidden = sum(
            1 for v in schedule.visits if v.holder == holder and v.quarter == q and not v.announced
        )
        assert hidden * 2 == n


def test_reference_meetings_and_deadlines(
    reference: tuple[Organisation, WorkCalendar, Schedule],
) -> None:
    org, _cal, schedule = reference
    sections = {u.id for u in org.units if u.kind in (UnitKind.SECTION, UnitKind.CENTRE)}
    assert len(sections) == 23
    topics = Counter(
        (m.unit, m.quarter) for m in schedule.meetings if m.kind is MeetingKind.TOPIC_STUDY
    )
    assert {(u, q) for u in sections for q in (1, 2, 3, 4)} == set(topics)
    assert min(topics.values()) >= 2
    for meeting in schedule.meetings:
        assert is_workday(meeting.date), meeting
    reports = {(d.unit, d.quarter): d for d in schedule.deadlines}
    assert set(reports) == {(u, q) for u in sections for q in (1, 2, 3, 4)}
    for (_unit, q), deadline in reports.items():
        assert q is not None
        assert deadline.due == last_working_day(q)
        assert deadline.to == "safety-office"  # the leading group's office (三.2)
    coordination = [m for m in schedule.meetings if m.kind is MeetingKind.COORDINATION]
    assert [m.quarter for m in coordination] == [1, 2, 3, 4]
    assert {m.unit for m in coordination} == {"safety-office"}
    (summary,) = [m for m in schedule.meetings if m.kind is MeetingKind.SUMMARY]
    assert summary.unit == "leading-group"
    assert summary.date == dt.date(2026, 12, 24)
    assert SUMMARY_WORKING_DAYS_BEFORE_YEAR_END == 5
    assert 0 < COORDINATION_AT < 1


def test_reference_check_is_empty(reference: tuple[Organisation, WorkCalendar, Schedule]) -> None:
    org, cal, schedule = reference
    assert check_schedule(schedule, org, cal) == []


def test_reference_national_day_visit_is_found(
    reference: tuple[Organisation, WorkCalendar, Schedule],
) -> None:
    org, cal, schedule = reference
    visits = list(schedule.visits)
    i = next(i for i, v in enumerate(visits) if v.quarter == 4)
    visits[i] = attrs.evolve(visits[i], date=dt.date(2026, 10, 1))
    found = check_schedule(attrs.evolve(schedule, visits=visits), org, cal)
    assert [(v.kind, v.subject, v.clause) for v in found] == [("holiday", visits[i].id, "三.2")]
    assert "2026-10-01" in found[0].message
    assert "National Day" in found[0].message


def test_reference_deleted_visit_is_found(
    reference: tuple[Organisation, WorkCalendar, Schedule],
) -> None:
    org, cal, schedule = reference
    gone = schedule.visits[100]
    visits = [v for v in schedule.visits if v is not gone]
    found = check_schedule(attrs.evolve(schedule, visits=visits), org, cal)
    assert len(found) == 1
    (v,) = found
    assert v.kind == "missing_visit"
    assert v.clause == "三.2"
    package = next(p for p in org.packages if p.holder == gone.holder and gone.school in p.schools)
    assert v.subject == package.id
    assert gone.school in v.message
    assert f"{YEAR} Q{gone.quarter}" in v.message


def test_reference_is_fast_enough_for_a_test(
    reference: tuple[Organisation, WorkCalendar, Schedule],
) -> None:
    """Ids are stable: a visit keeps its id (so calendar apps update, not duplicate)."""
    org, cal, schedule = reference
    again = plan_schedule(org, cal, YEAR, seed=7)
    assert {v.id for v in again.visits} == {v.id for v in schedule.visits}
    assert again.visits != schedule.visits  # another seed: other days and flags
    assert re.fullmatch(r"v\.2026q[1-4]\.[a-z0-9-]+\.s\d{4}\.[12]", schedule.visits[0].id)


def test_generated_visits_are_what_the_validated_constructor_builds(
    reference: tuple[Organisation, WorkCalendar, Schedule],
) -> None:
    """The generator builds its visits without the model's validators (they are valid by
    construction); the validated constructor accepts each and builds an equal visit."""
    _org, _cal, schedule = reference
    assert schedule_module._new_visit is not Visit  # the fast path is in use
    for v in schedule.visits[::7]:
        again = Visit(*attrs.astuple(v, recurse=False))
        assert again == v
        assert hash(again) == hash(v)
        assert repr(again) == repr(v)


def test_the_shipped_calendar_gives_the_same_schedule(
    reference: tuple[Organisation, WorkCalendar, Schedule],
) -> None:
    """dualduty's own 2026 holidays (calendar_for) and chinese-calendar's agree."""
    org, _cal, schedule = reference
    shipped = calendar_for(org, YEAR)
    shipped = attrs.evolve(shipped, blackouts=BLACKOUTS)
    assert plan_schedule(org, shipped, YEAR) == schedule
    assert check_schedule(schedule, org, shipped) == []


def test_exported_and_read_back(
    reference: tuple[Organisation, WorkCalendar, Schedule], tmp_path: Path
) -> None:
    """A generated schedule goes through the CSV and JSON exports unchanged."""
    org, cal, schedule = reference
    write_schedule_csv(schedule, tmp_path / "schedule.csv", org)
    back = read_schedule_csv(tmp_path / "schedule.csv")
    assert back == schedule
    assert check_schedule(back, org, cal) == []
    assert schedule_from_json(schedule_to_json(schedule)) == schedule


# -- one quarter, determinism, inputs --------------------------------------------------


def test_one_quarter(reference: tuple[Organisation, WorkCalendar, Schedule]) -> None:
    org, cal, schedule = reference
    q3 = plan_schedule(org, cal, YEAR, quarter=3)
    assert q3.quarter == 3
    assert q3.visits == tuple(v for v in schedule.visits if v.quarter == 3)
    assert {m.kind for m in q3.meetings} == {MeetingKind.TOPIC_STUDY, MeetingKind.COORDINATION}
    assert check_schedule(q3, org, cal) == []
    q4 = plan_schedule(org, cal, YEAR, quarter=4)
    assert MeetingKind.SUMMARY in {m.kind for m in q4.meetings}
    assert check_schedule(q4, org, cal) == []
    with pytest.raises(ValueError, match="quarter must be 1 to 4"):
        plan_schedule(org, cal, YEAR, quarter=5)


def _shuffled(org: Organisation, rng: random.Random) -> Organisation:
    def mix(items: Sequence[Any]) -> list[Any]:
        out = list(items)
        rng.shuffle(out)
        return out

    packages = [attrs.evolve(p, schools=mix(p.schools)) for p in mix(org.packages)]
    return attrs.evolve(org, units=mix(org.units), schools=mix(org.schools), packages=packages)


def test_deterministic_and_order_independent() -> None:
    org = dualduty.reference_organisation(schools=60)
    cal = calendar()
    first = plan_schedule(org, cal, YEAR, seed=3)
    assert plan_schedule(org, cal, YEAR, seed=3) == first
    assert plan_schedule(_shuffled(org, random.Random(1)), cal, YEAR, seed=3) == first
    assert plan_schedule(org, cal, YEAR, seed=4) != first


def test_missing_holidays_is_the_calendar_error() -> None:
    org = dualduty.reference_organisation(schools=10)
    with pytest.raises(MissingHolidays, match="2027"):
        plan_schedule(org, calendar(), 2027)
    schedule = plan_schedule(org, calendar(), YEAR, quarter=1)
    with pytest.raises(MissingHolidays, match="2027"):
        check_schedule(attrs.evolve(schedule, year=2027), org, calendar())


def test_inspectors_follow_the_package_plan() -> None:
    plan = plan_packages(dualduty.reference_organisation(schools=60))
    org = plan.organisation
    schedule = plan_schedule(org, calendar(), YEAR, inspectors=plan.inspectors)
    sections = {p.holder for p in org.packages if p.staff}
    for visit in schedule.visits:
        if visit.holder in sections:
            assert visit.inspectors == (plan.inspectors[visit.school],)
    assert check_schedule(schedule, org, calendar()) == []


def test_term_time_only() -> None:
    org = dualduty.reference_organisation(schools=60)
    rules = attrs.evolve(org.rules, inspections_in_term_only=True)
    cal = calendar(terms=TERMS)
    schedule = plan_schedule(org, cal, YEAR, rules=rules)
    vacations = [t for t in TERMS if t.vacation]
    assert not any(t.start <= v.date <= t.end for v in schedule.visits for t in vacations)
    assert check_schedule(schedule, org, cal, rules=rules) == []
    # the same schedule breaks the rule of a calendar whose summer is a vacation all along
    lazy = calendar(
        terms=(*TERMS, Term("延长暑假", dt.date(2026, 9, 1), dt.date(2026, 9, 30), True))
    )
    found = {v.kind for v in check_schedule(schedule, org, lazy, rules=rules)}
    assert "out_of_term" not in found  # terms win over vacations on the same day
    with pytest.raises(ScheduleError, match="knows no terms"):
        plan_schedule(org, calendar(), YEAR, rules=rules)


def test_packages_in_force_part_of_a_quarter() -> None:
    org = dualduty.reference_organisation(schools=12)
    mid = dt.date(2026, 8, 15)
    packages = []
    for p in org.packages:
        if p.holder == "deputy-1":
            packages.append(attrs.evolve(p, end=mid))
            packages.append(
                attrs.evolve(
                    p, id="pkg-lg-deputy-2-new", holder="deputy-2", start=mid + dt.timedelta(days=1)
                )
            )
        else:
            packages.append(p)
    org = attrs.evolve(org, packages=packages)
    schedule = plan_schedule(org, calendar(), YEAR)
    counts = Counter((v.holder, v.school, v.quarter) for v in schedule.visits)
    moved = next(p for p in packages if p.id == "pkg-lg-deputy-2-new").schools
    for school in moved:
        assert counts["deputy-1", school, 2] == 2
        assert counts["deputy-1", school, 3] == 1  # 46 of 92 days: one of two, rounded half up
        assert counts["deputy-2", school, 3] == 1
        assert counts["deputy-1", school, 4] == 0
        assert counts["deputy-2", school, 4] == 2
    for v in schedule.visits:
        if v.holder == "deputy-1" and v.school in moved:
            assert v.date <= mid
    assert check_schedule(schedule, org, calendar()) == []


def test_joint_visits() -> None:
    org = dualduty.reference_organisation(schools=60)
    org = attrs.evolve(org, rules=attrs.evolve(org.rules, joint_visits=True))
    cal = calendar()
    schedule = plan_schedule(org, cal, YEAR)
    joint = [v for v in schedule.visits if v.joint is not None]
    assert len(joint) > len(schedule.visits) // 8
    index = {(v.holder, v.school, v.date): v for v in schedule.visits}
    leaders = {p.holder for p in org.packages if not p.staff}
    for v in joint:
        assert v.joint is not None
        partner = index[v.joint, v.school, v.date]
        assert partner.joint == v.holder
        assert partner.announced == v.announced
        assert (v.holder in leaders) != (partner.holder in leaders)
    assert check_schedule(schedule, org, cal) == []
    # the same schedule where the rules allow no joint visits
    plain = attrs.evolve(org, rules=attrs.evolve(org.rules, joint_visits=False))
    kinds = {v.kind for v in check_schedule(schedule, plain, cal)}
    assert kinds == {"joint_not_allowed"}


def test_long_ids_are_hashed_and_stable() -> None:
    long = "a" * 60
    org = _org(leads=1, sections=1, staff=1, schools=2, lead_id=long, section_id="s" + "b" * 49)
    schedule = plan_schedule(org, calendar(), YEAR, quarter=1)
    ids = (
        {v.id for v in schedule.visits}
        | {m.id for m in schedule.meetings}
        | {d.id for d in schedule.deadlines}
    )
    assert all(len(i) <= 64 for i in ids)
    assert len(ids) == len(schedule.visits) + len(schedule.meetings) + len(schedule.deadlines)
    assert plan_schedule(org, calendar(), YEAR, quarter=1, seed=5).visits[0].id in ids


def test_ids_stay_valid_with_ten_visits_a_quarter() -> None:
    """``v.2026q1.<holder>.<school>.`` is 63 characters here: visit 10 would make 65."""
    rules = Rules(inspections_per_school_per_quarter=10, min_days_between_visits=0)
    org = _org(leads=1, sections=1, staff=1, schools=1, rules=rules, lead_id="l" * 47)
    schedule = plan_schedule(org, calendar(), YEAR, quarter=2)
    ids = [v.id for v in schedule.visits]
    assert len(ids) == len(set(ids)) == 20
    for v in schedule.visits:
        assert Visit(*attrs.astuple(v, recurse=False)) == v  # the validators accept it
    assert plan_schedule(org, calendar(), YEAR, quarter=2, seed=1).visits[0].id in ids


def test_unknown_package_targets_are_errors() -> None:
    org = _org(leads=1, sections=1, staff=1, schools=2)
    bad = attrs.evolve(org, packages=[*org.packages, Package("pkg-x", "nobody", ["s00"])])
    with pytest.raises(ScheduleError, match="nobody"):
        plan_schedule(bad, calendar(), YEAR)
    bad = attrs.evolve(org, packages=[*org.packages, Package("pkg-y", "lead-0", ["s99"])])
    with pytest.raises(ScheduleError, match="s99"):
        plan_schedule(bad, calendar(), YEAR)
    assert issubclass(ScheduleInfeasible, ScheduleError)
    assert issubclass(ScheduleError, PlanningError)
    assert issubclass(ScheduleError, dualduty.DualdutyError)


# -- infeasible inputs, explained ----------------------------------------------------------


def test_infeasible_is_explained_with_halls_condition() -> None:
    """12 visits need 12 slots; the quarter leaves the leader 11 inspection days."""
    org = _org(leads=1, sections=1, staff=2, schools=6, rules=Rules(visits_per_inspector_per_day=1))
    q3 = [
        d for d in _days(YEAR) if dt.date(2026, 7, 1) <= d <= dt.date(2026, 9, 30) and is_workday(d)
    ]
    keep = set(q3[:: len(q3) // 11][:11])  # 11 days, spread through the quarter
    blackouts = [Blackout("封闭", d, d) for d in q3 if d not in keep]
    cal = calendar(blackouts=blackouts)
    with pytest.raises(ScheduleInfeasible) as caught:
        plan_schedule(org, cal, YEAR, quarter=3)
    error = caught.value
    (short,) = error.shortfalls
    assert isinstance(short, Shortfall)
    assert (short.holder, short.year, short.quarter) == ("lead-0", YEAR, 3)
    assert short.unscheduled == 1
    assert short.visits - short.slots == short.unscheduled
    assert short.inspectors == ("lead-0",)
    assert short.start >= dt.date(2026, 7, 1)
    assert short.end <= dt.date(2026, 9, 30)
    text = str(error)
    said = (
        r"\b(\d+) visits need \1 slots, only \d+ on \d+ inspection days "
        r"from 2026-07-\d\d to 2026-0[789]-\d\d for holder lead-0 in 2026 Q3"
    )
    assert re.search(said, text), text
    assert "at least 1 visit cannot be scheduled" in text
    # the sections have staff enough: only the leader falls short
    assert "sec-0" not in text


def test_infeasible_lists_every_short_holder_and_no_inspector() -> None:
    org = _org(
        leads=2, sections=1, staff=0, schools=40, rules=Rules(visits_per_inspector_per_day=1)
    )
    unit = next(u for u in org.units if u.id == "sec-0")
    org = attrs.evolve(
        org,
        units=[attrs.evolve(u, posts=(), head_post=None) if u is unit else u for u in org.units],
    )
    with pytest.raises(ScheduleInfeasible) as caught:
        plan_schedule(org, calendar(), YEAR, quarter=1)
    holders = {(s.holder, s.quarter) for s in caught.value.shortfalls}
    assert ("sec-0", 1) in holders
    nobody = next(s for s in caught.value.shortfalls if s.holder == "sec-0")
    assert nobody.slots == 0
    assert nobody.note is not None
    assert "nobody" in nobody.note


def test_a_gap_that_cannot_fit_is_explained() -> None:
    org = _org(
        leads=1,
        sections=1,
        staff=1,
        schools=1,
        rules=Rules(min_days_between_visits=80, inspections_per_school_per_quarter=3),
    )
    with pytest.raises(ScheduleInfeasible, match="at least 80 days apart do not fit"):
        plan_schedule(org, calendar(), YEAR, quarter=2)


def test_tight_capacity_placed_by_the_flow_or_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tight capacity (one visit a day, a few free days): where the greedy pass leaves
    visits over, the min-cost flow places them all when any schedule can (valid
    schedules), or explains why none can (a true shortfall)."""
    repaired: list[int] = []
    flow = schedule_module._QuarterPlanner._flow

    def counted(self: Any, *args: Any) -> Any:
        result = flow(self, *args)
        if result is not None:
            repaired.append(self.seed)
        return result

    monkeypatch.setattr(schedule_module._QuarterPlanner, "_flow", counted)
    solved = 0
    for trial in range(200):
        rng = random.Random(trial)
        n = rng.randint(2, 10)
        rules = Rules(
            visits_per_inspector_per_day=1,
            min_days_between_visits=rng.randint(0, 25),
            inspections_per_school_per_quarter=rng.randint(1, 3),
        )
        org = _org(leads=1, sections=1, staff=rng.randint(1, 2), schools=n, rules=rules)
        q1 = [d for d in _days(YEAR) if d.month <= 3 and is_workday(d)]
        free = rules.inspections_per_school_per_quarter * n + rng.randint(-1, 3)
        keep = set(rng.sample(q1, min(len(q1), free)))
        cal = calendar(blackouts=[Blackout("封闭", d, d) for d in q1 if d not in keep])
        got = _attempt(org, cal, quarter=1, seed=trial)
        if isinstance(got, ScheduleInfeasible):
            for s in got.shortfalls:
                assert s.visits > s.slots
                assert s.visits - s.slots == s.unscheduled
            continue
        assert isinstance(got, Schedule)
        solved += 1
        assert check_schedule(got, org, cal) == []
    assert solved > 20
    assert repaired  # the greedy pass fell short and the flow placed everything


# -- the validator, finding by finding ----------------------------------------------------


@pytest.fixture(scope="module")
def small() -> tuple[Organisation, WorkCalendar, Schedule]:
    org = _org(leads=2, sections=2, staff=2, schools=8)
    cal = calendar(blackouts=BLACKOUTS)
    return org, cal, plan_schedule(org, cal, YEAR)


def _first(schedule: Schedule, **match: Any) -> int:
    return next(
        i
        for i, v in enumerate(schedule.visits)
        if all(getattr(v, k) == x for k, x in match.items())
    )


def _edit_visit(schedule: Schedule, i: int, **changes: Any) -> Schedule:
    visits = list(schedule.visits)
    visits[i] = attrs.evolve(visits[i], **changes)
    return attrs.evolve(schedule, visits=visits)


def _too_close(s: Schedule) -> Schedule:
    i = _first(s, holder="lead-0", quarter=2)
    first = s.visits[i]
    j = next(
        j
        for j, v in enumerate(s.visits)
        if j != i and (v.holder, v.school, v.quarter) == (first.holder, first.school, 2)
    )
    day = first.date + dt.timedelta(days=1)
    while not is_workday(day) or any(b.start <= day <= b.end for b in BLACKOUTS):
        day += dt.timedelta(days=1)
    return _edit_visit(s, j, date=day)


def _overbook(s: Schedule) -> Schedule:
    lead = [i for i, v in enumerate(s.visits) if v.holder == "lead-0" and v.quarter == 1]
    day = s.visits[lead[0]].date
    visits = list(s.visits)
    for i in lead[:3]:
        visits[i] = attrs.evolve(visits[i], date=day)
    return attrs.evolve(s, visits=visits)


EDITS: dict[str, Callable[[Schedule], Schedule]] = {
    "weekend": lambda s: _edit_visit(s, _first(s, quarter=1), date=dt.date(2026, 1, 10)),
    "blackout": lambda s: _edit_visit(s, _first(s, quarter=2), date=dt.date(2026, 6, 25)),
    "wrong_quarter": lambda s: _edit_visit(s, _first(s, quarter=1), quarter=2),
    "unknown_school": lambda s: _edit_visit(s, 0, school="s99"),
    "unknown_holder": lambda s: _edit_visit(s, 0, holder="ghost"),
    "not_packaged": lambda s: _edit_visit(s, _first(s, holder="lead-0"), holder="lead-1"),
    "inspector_not_staff": lambda s: _edit_visit(
        s, _first(s, holder="sec-0"), inspectors=["sec-1.staff-1"]
    ),
    "no_inspector": lambda s: _edit_visit(s, 0, inspectors=[]),
    "joint_not_allowed": lambda s: _edit_visit(s, 0, joint="sec-0"),
    "duplicate_id": lambda s: _edit_visit(s, 1, id=s.visits[0].id),
    "too_close": _too_close,
    "inspector_overbooked": _overbook,
    "unannounced_share": lambda s: attrs.evolve(
        s, visits=[attrs.evolve(v, announced=True) if v.holder == "lead-0" else v for v in s.visits]
    ),
    "missing_topic_study": lambda s: attrs.evolve(
        s,
        meetings=[
            m
            for m in s.meetings
            if not (
                m.unit == "sec-1"
                and m.quarter == 2
                and m.kind is MeetingKind.TOPIC_STUDY
                and m.id.endswith(".1")
            )
        ],
    ),
    "missing_coordination": lambda s: attrs.evolve(
        s,
        meetings=[
            m for m in s.meetings if not (m.kind is MeetingKind.COORDINATION and m.quarter == 3)
        ],
    ),
    "missing_summary": lambda s: attrs.evolve(
        s, meetings=[m for m in s.meetings if m.kind is not MeetingKind.SUMMARY]
    ),
    "missing_report": lambda s: attrs.evolve(s, deadlines=s.deadlines[1:]),
    "report_late": lambda s: attrs.evolve(
        s, deadlines=[attrs.evolve(s.deadlines[0], due=dt.date(2026, 4, 1)), *s.deadlines[1:]]
    ),
    "report_recipient": lambda s: attrs.evolve(
        s, deadlines=[attrs.evolve(s.deadlines[0], to="sec-1"), *s.deadlines[1:]]
    ),
    "unknown_unit": lambda s: attrs.evolve(
        s,
        meetings=[
            *s.meetings,
            Meeting("m.extra", MeetingKind.TOPIC_STUDY, "nowhere", dt.date(2026, 5, 6), 2),
        ],
    ),
    "holiday": lambda s: attrs.evolve(
        s,
        meetings=[
            *s.meetings,
            Meeting("m.extra", MeetingKind.TOPIC_STUDY, "sec-0", dt.date(2026, 5, 1), 2),
        ],
    ),
}


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_the_validator_finds(kind: str, small: tuple[Organisation, WorkCalendar, Schedule]) -> None:
    org, cal, schedule = small
    assert check_schedule(schedule, org, cal) == []
    found = check_schedule(EDITS[kind](schedule), org, cal)
    assert kind in {v.kind for v in found}, found
    for v in found:
        assert v.clause in {"三.1", "三.2", "三.3", "二(三).1", "二(一).3"}
        assert v.message


def test_the_validator_checks_an_imported_schedule(
    small: tuple[Organisation, WorkCalendar, Schedule],
) -> None:
    """A schedule rebuilt from plain values (as a CSV or JSON import would) checks the same."""
    org, cal, schedule = small
    rebuilt = Schedule(
        schedule.year,
        None,
        [
            Visit(
                v.id,
                v.school,
                v.holder,
                dt.date.fromisoformat(v.date.isoformat()),
                v.quarter,
                list(v.inspectors),
                v.announced,
                v.joint,
            )
            for v in reversed(schedule.visits)
        ],
        [
            Meeting(
                m.id,
                m.kind.value,
                m.unit,
                dt.date.fromisoformat(m.date.isoformat()),
                m.quarter,
                m.title,
            )
            for m in schedule.meetings
        ],
        [
            Deadline(
                d.id,
                d.kind.value,
                d.unit,
                dt.date.fromisoformat(d.due.isoformat()),
                d.quarter,
                d.to,
            )
            for d in schedule.deadlines
        ],
    )
    assert check_schedule(rebuilt, org, cal) == []
    empty = check_schedule(Schedule(YEAR), org, cal)
    kinds = Counter(v.kind for v in empty)
    assert kinds["missing_visit"] == 16 * 4  # 8 schools x 2 holders x 4 quarters
    assert kinds["missing_topic_study"] == 2 * 4
    assert kinds["missing_report"] == 2 * 4
    assert kinds["missing_coordination"] == 4
    assert kinds["missing_summary"] == 1


# -- property tests -----------------------------------------------------------------------


def _org(
    *,
    leads: int,
    sections: int,
    staff: int,
    schools: int,
    rules: Rules | None = None,
    lead_of: Sequence[int] | None = None,
    section_of: Sequence[int] | None = None,
    lead_id: str = "lead",
    section_id: str = "sec",
    spans: dict[str, tuple[dt.date | None, dt.date | None]] | None = None,
) -> Organisation:
    """A small bureau: *leads* leading-group posts, *sections* sections of *staff* staff."""
    lead_posts = [
        Post(f"{lead_id}-{i}", "副局长", Role.LEADER if i == 0 else Role.DEPUTY, holder=f"p{i}")
        for i in range(leads)
    ]
    units = [
        Unit("lg", "学校安全稳定工作领导小组", UnitKind.LEADING_GROUP, posts=lead_posts),
        Unit(
            "office",
            "领导小组办公室",
            UnitKind.OFFICE,
            parent="lg",
            seated_in=f"{section_id}-0",
            head_post=f"{section_id}-0.head",
        ),
    ]
    for j in range(sections):
        sid = f"{section_id}-{j}"
        posts = [Post(f"{sid}.head", "科长", Role.SECTION_HEAD, holder=f"h{j}")]
        posts += [
            Post(f"{sid}.staff-{k + 1}", "科员", Role.STAFF, holder=f"s{j}-{k}")
            for k in range(staff)
        ]
        units.append(
            Unit(sid, f"第{j + 1}科", UnitKind.SECTION, head_post=f"{sid}.head", posts=posts)
        )
    school_list = [
        School(f"s{i:02d}", f"第{i}小学", SchoolLevel.PRIMARY, students=100 * (i % 7 + 1))
        for i in range(schools)
    ]
    lead_of = lead_of or [i % leads for i in range(schools)]
    section_of = section_of or [i % sections for i in range(schools)]
    spans = spans or {}
    packages = []
    for i in range(leads):
        mine = [s.id for s, k in zip(school_list, lead_of, strict=True) if k == i]
        if mine:
            start, end = spans.get(f"{lead_id}-{i}", (None, None))
            packages.append(Package(f"pkg-lg-{i}", f"{lead_id}-{i}", mine, start=start, end=end))
    for j in range(sections):
        sid = f"{section_id}-{j}"
        mine = [s.id for s, k in zip(school_list, section_of, strict=True) if k == j]
        if mine:
            start, end = spans.get(sid, (None, None))
            names = [f"{sid}.staff-{k + 1}" for k in range(staff)]
            packages.append(Package(f"pkg-{j}", sid, mine, staff=names, start=start, end=end))
    return Organisation(
        "demo",
        "示范区教育体育局",
        rules=rules or Rules(),
        units=units,
        schools=school_list,
        packages=packages,
    )


@st.composite
def cases(draw: st.DrawFn, *, joint: bool | None = None) -> tuple[Organisation, WorkCalendar]:
    leads = draw(st.integers(1, 3))
    sections = draw(st.integers(1, 3))
    schools = draw(st.integers(1, 14))
    rules = Rules(
        inspections_per_school_per_quarter=draw(st.integers(0, 3)),
        min_days_between_visits=draw(st.integers(0, 30)),
        visits_per_inspector_per_day=draw(st.integers(1, 3)),
        unannounced_share=draw(st.sampled_from([0.0, 0.25, 0.5, 1 / 3, 1.0])),
        joint_visits=draw(st.booleans()) if joint is None else joint,
        topic_studies_per_quarter=draw(st.integers(0, 4)),
        coordination_meetings_per_quarter=draw(st.integers(0, 2)),
        summary_meetings_per_year=draw(st.integers(0, 2)),
        report_due_working_days_before_end=draw(st.integers(0, 3)),
        inspections_in_term_only=draw(st.booleans()),
    )
    spans: dict[str, tuple[dt.date | None, dt.date | None]] = {}
    days = st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    for holder in [f"lead-{i}" for i in range(leads)] + [f"sec-{j}" for j in range(sections)]:
        if draw(st.integers(0, 4)) == 0:
            a, b = sorted((draw(days), draw(days)))
            spans[holder] = (a, b)
    org = _org(
        leads=leads,
        sections=sections,
        staff=draw(st.integers(1, 3)),
        schools=schools,
        rules=rules,
        lead_of=draw(st.lists(st.integers(0, leads - 1), min_size=schools, max_size=schools)),
        section_of=draw(st.lists(st.integers(0, sections - 1), min_size=schools, max_size=schools)),
        spans=spans,
    )
    blackouts = [
        Blackout(f"b{k}", start, start + dt.timedelta(days=draw(st.integers(0, 20))))
        for k, start in enumerate(draw(st.lists(days, max_size=3)))
    ]
    return org, calendar(blackouts=blackouts, terms=TERMS)


def _due(org: Organisation, q: int) -> dict[tuple[str, str], int]:
    """What each pair owes in quarter *q*: worked out here on its own, from the rules."""
    start, end = QUARTERS[q]
    length = (end - start).days + 1
    n = org.rules.inspections_per_school_per_quarter
    out: dict[tuple[str, str], int] = {}
    for p in org.packages:
        a, b = max(start, p.start or start), min(end, p.end or end)
        if a <= b:
            days = (b - a).days + 1
            for s in p.schools:
                out[p.holder, s] = n if days == length else int(n * days / length + 0.5)
    return out


def _guarantees(org: Organisation, cal: WorkCalendar, schedule: Schedule) -> None:
    rules = org.rules
    terms = [t for t in TERMS if not t.vacation]
    counts = Counter((v.holder, v.school, v.quarter) for v in schedule.visits)
    for q in (1, 2, 3, 4):
        for (holder, school), due in _due(org, q).items():
            assert counts[holder, school, q] == due, (holder, school, q)
    by_pair: dict[tuple[str, str, int], list[Visit]] = defaultdict(list)
    per_day: Counter[tuple[str, dt.date]] = Counter()
    for v in schedule.visits:
        assert cal.is_inspection_day(v.date), v
        assert is_workday(v.date)
        if rules.inspections_in_term_only:
            assert any(t.start <= v.date <= t.end for t in terms), v
        by_pair[v.holder, v.school, v.quarter].append(v)
        for post in v.inspectors:
            per_day[post, v.date] += 1
        if v.holder.startswith("lead"):
            assert v.inspectors == (v.holder,)
        else:
            assert len(v.inspectors) == 1
            assert v.inspectors[0].startswith(v.holder + ".staff-")
    assert not per_day or max(per_day.values()) <= rules.visits_per_inspector_per_day
    for visits in by_pair.values():
        days = sorted(v.date for v in visits)
        for a, b in itertools.pairwise(days):
            assert (b - a).days >= max(1, rules.min_days_between_visits)
    if not rules.joint_visits:
        totals: Counter[tuple[str, int]] = Counter()
        hidden: Counter[tuple[str, int]] = Counter()
        for v in schedule.visits:
            totals[v.holder, v.quarter] += 1
            hidden[v.holder, v.quarter] += not v.announced
        for key, n in totals.items():
            exact = rules.unannounced_share * n
            assert int(exact) <= hidden[key] <= -int(-exact // 1) or abs(hidden[key] - exact) < 1
    assert check_schedule(schedule, org, cal) == []


def _attempt(org: Organisation, cal: WorkCalendar, **kwargs: Any) -> Schedule | ScheduleError:
    """The schedule, or the error that says why there is none."""
    try:
        return plan_schedule(org, cal, YEAR, **kwargs)
    except ScheduleError as error:
        return error


_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(cases(), st.integers(0, 2**16))
def test_property_guarantees_or_an_explanation(
    case: tuple[Organisation, WorkCalendar], seed: int
) -> None:
    org, cal = case
    schedule = _attempt(org, cal, seed=seed)
    event(type(schedule).__name__)
    if isinstance(schedule, ScheduleInfeasible):
        assert schedule.shortfalls
        holders = {p.holder for p in org.packages}
        for s in schedule.shortfalls:
            assert s.holder in holders
            assert s.visits > s.slots >= 0
            assert s.unscheduled == s.visits - s.slots
            assert s.start <= s.end
            assert s.explain() in str(schedule)
        return
    if isinstance(schedule, ScheduleError):  # too few working days for the meetings asked
        assert "working days" in str(schedule)
        return
    _guarantees(org, cal, schedule)
    assert plan_schedule(org, cal, YEAR, seed=seed) == schedule
    assert plan_schedule(_shuffled(org, random.Random(seed)), cal, YEAR, seed=seed) == schedule


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(0, 2**16))
def test_property_the_flow_alone_agrees(case: tuple[Organisation, WorkCalendar], seed: int) -> None:
    """With the greedy pass switched off, the min-cost flow places every holder's visits:
    it succeeds exactly when the greedy-then-flow generator does, with valid schedules, and
    falls short by the same minimum when it does not."""
    org, cal = case
    usual = _attempt(org, cal, seed=seed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(schedule_module, "_nearest", lambda *_args: -1)
        alone = _attempt(org, cal, seed=seed)
    assert type(alone) is type(usual)
    if isinstance(alone, ScheduleInfeasible):
        assert isinstance(usual, ScheduleInfeasible)
        short = {(s.holder, s.quarter): s.unscheduled for s in usual.shortfalls}
        assert {(s.holder, s.quarter): s.unscheduled for s in alone.shortfalls} == short
    elif isinstance(alone, Schedule):
        _guarantees(org, cal, alone)


@_SETTINGS
@given(cases(joint=False), st.integers(0, 2**16), st.data())
def test_property_stable_when_a_school_is_added_or_removed(
    case: tuple[Organisation, WorkCalendar], seed: int, data: st.DataObject
) -> None:
    org, cal = case
    leads = [p for p in org.packages if not p.staff]
    sections = [p for p in org.packages if p.staff]
    assume(leads and sections)
    lead = data.draw(st.sampled_from(leads))
    section = data.draw(st.sampled_from(sections))
    new = School("s-new", "新建小学", SchoolLevel.PRIMARY, students=data.draw(st.integers(0, 3000)))
    grown = attrs.evolve(
        org,
        schools=[*org.schools, new],
        packages=[
            attrs.evolve(p, schools=[*p.schools, new.id]) if p in (lead, section) else p
            for p in org.packages
        ],
    )
    before = _attempt(org, cal, seed=seed)
    after = _attempt(grown, cal, seed=seed)
    assume(isinstance(before, Schedule) and isinstance(after, Schedule))
    assert isinstance(before, Schedule)
    assert isinstance(after, Schedule)
    touched = {lead.holder, section.holder}
    same_before = {v for v in before.visits if v.holder not in touched}
    same_after = {v for v in after.visits if v.holder not in touched}
    assert same_before == same_after
    assert before.meetings == after.meetings
    assert before.deadlines == after.deadlines
    assert {v.school for v in after.visits} - {v.school for v in before.visits} <= {new.id}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 12), st.integers(1, 2), st.integers(0, 40), st.integers(0, 2**16))
@example(schools=1, per_day=1, days=2, seed=40782)  # the section, not the leader, is short
def test_property_short_capacity_always_raises(
    schools: int, per_day: int, days: int, seed: int
) -> None:
    """One leader, one quarter with *days* inspection days: whenever the visits outnumber
    the slots, the error says so, with a shortfall at least that large."""
    org = _org(
        leads=1,
        sections=1,
        staff=3,
        schools=schools,
        rules=Rules(visits_per_inspector_per_day=per_day, min_days_between_visits=0),
    )
    q2 = [
        d for d in _days(YEAR) if dt.date(2026, 4, 1) <= d <= dt.date(2026, 6, 30) and is_workday(d)
    ]
    keep = set(random.Random(seed).sample(q2, min(days, len(q2))))
    cal = calendar(blackouts=[Blackout("封闭", d, d) for d in q2 if d not in keep])
    need = 2 * schools
    room = per_day * len(keep)
    got = _attempt(org, cal, quarter=2, seed=seed)
    if isinstance(got, ScheduleInfeasible):
        lead = [s for s in got.shortfalls if s.holder == "lead-0"]
        if need > room:
            (short,) = lead
            assert short.unscheduled >= need - room
            assert short.visits - short.slots == short.unscheduled
        elif not lead:
            # The leader fits; the section did not. Each school takes one holder a day (no
            # joint visits), so its four visits need four days; or the section's three
            # inspectors have too few slots for its visits.
            assert got.shortfalls
            assert len(keep) < 4 or need > 3 * per_day * len(keep)
        return
    assert isinstance(got, Schedule)
    assert need <= room
    assert check_schedule(got, org, cal) == []
