"""Working-day calendars: the shipped holidays against chinese-calendar, holiday files,
the organisation's terms, blackouts and holiday files, provider precedence, properties."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import chinese_calendar
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualduty
import dualduty.io
from dualduty import InvalidOrganisation, Organisation
from dualduty.calendars import (
    Blackout,
    BuiltinHolidays,
    CalendarError,
    HolidayProvider,
    HolidayYear,
    InvalidHolidays,
    MissingHolidays,
    StaticHolidays,
    Term,
    TermProvider,
    WorkCalendar,
    calendar_for,
    load_holidays,
    loads_holidays,
)
from dualduty.model import Rules
from dualduty.plugins import Hooks, hookimpl
from dualduty.testing import PluginRegistrar

DATA = Path(__file__).parent / "data"
DOCS = Path(__file__).parent.parent / "docs"
EXAMPLE_2027 = DOCS / "how-to" / "holidays-2027.toml"
SHIPPED = Path(dualduty.__file__).parent / "calendars" / "data"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_holidays", DATA / "make_holidays.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_holidays = _generator()
REFERENCE_YEARS: list[int] = make_holidays.years()
NAMES: dict[str, str] = make_holidays.NAMES


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def days_of(year: int) -> list[dt.date]:
    first = dt.date(year, 1, 1)
    return [first + dt.timedelta(days=i) for i in range((dt.date(year + 1, 1, 1) - first).days)]


@pytest.fixture(scope="module")
def org() -> Organisation:
    return dualduty.reference_organisation(schools=2)


@pytest.fixture(scope="module")
def builtin(org: Organisation, hooks: Hooks) -> WorkCalendar:
    """Every shipped year, from the built-in plugin alone."""
    return calendar_for(org, REFERENCE_YEARS, hooks=hooks)


@pytest.fixture(scope="module")
def hooks() -> Hooks:
    from dualduty.plugins import make_plugin_manager

    return Hooks(make_plugin_manager(entry_points=False))


# -- the shipped data -------------------------------------------------------------------


def test_dualduty_ships_every_year_chinese_calendar_holds() -> None:
    assert list(range(2004, 2027)) == REFERENCE_YEARS
    assert BuiltinHolidays().years() == tuple(REFERENCE_YEARS)
    assert sorted(int(p.stem.removeprefix("holidays-")) for p in SHIPPED.glob("*.toml")) == (
        REFERENCE_YEARS
    )


@pytest.mark.parametrize("year", REFERENCE_YEARS)
def test_shipped_year_agrees_with_chinese_calendar_day_by_day(
    builtin: WorkCalendar, year: int
) -> None:
    for day in days_of(year):
        working = builtin.is_working_day(day)
        assert working == chinese_calendar.is_workday(day), day
        assert (not working) == chinese_calendar.is_holiday(day), day
        _, name = chinese_calendar.get_holiday_detail(day)
        assert builtin.holiday_name(day) == (NAMES[name] if name else None), day


@pytest.mark.parametrize("year", REFERENCE_YEARS)
def test_shipped_files_are_what_the_generator_writes(year: int) -> None:
    shipped = (SHIPPED / f"holidays-{year}.toml").read_text(encoding="utf-8")
    assert shipped == make_holidays.render(year)


def test_chinese_calendar_does_not_know_2027_and_neither_does_dualduty(
    org: Organisation, hooks: Hooks
) -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(d("2027-01-04"))
    assert BuiltinHolidays().holidays(2027) is None
    with pytest.raises(MissingHolidays) as caught:
        calendar_for(org, [2026, 2027], hooks=hooks)
    error = caught.value
    assert error.year == 2027
    assert error.known == tuple(REFERENCE_YEARS)
    message = str(error)
    assert "no statutory holiday data for 2027 (holiday data is loaded for 2004–2026)" in message
    assert "--holidays FILE" in message
    assert 'holidays = ["holidays-2027.toml"]' in message
    assert "Holiday files" in message
    assert "dualduty_register_calendars" in message


def test_missing_holidays_names_the_years_that_are_known() -> None:
    error = MissingHolidays(2027, [2028, *range(2004, 2027), 2030, 2031])
    assert error.known == (*range(2004, 2027), 2028, 2030, 2031)
    assert "(holiday data is loaded for 2004–2026, 2028, 2030, 2031)" in str(error)
    assert "holiday data is loaded" not in str(MissingHolidays(2027))


def test_2026(org: Organisation, hooks: Hooks) -> None:
    cal = calendar_for(org, 2026, hooks=hooks)
    assert cal.years == (2026,)
    assert not cal.is_working_day(d("2026-10-01"))
    assert cal.holiday_name(d("2026-10-01")) == "国庆节"
    assert cal.holiday_name(d("2026-09-25")) == "中秋节"
    # every make-up working day (调休上班) of 2026 falls on a weekend and is worked
    makeup = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    for text in makeup:
        assert d(text).weekday() >= 5
        assert cal.is_working_day(d(text)), text
    assert cal.holiday_name(d("2026-02-14")) == "春节"
    # an ordinary weekend is not; an ordinary weekday is
    assert not cal.is_working_day(d("2026-03-07"))
    assert not cal.is_working_day(d("2026-03-08"))
    assert cal.is_working_day(d("2026-03-09"))
    assert cal.holiday_name(d("2026-03-09")) is None
    assert cal.last_working_day(d("2026-09-01"), d("2026-09-30")) == d("2026-09-30")
    with pytest.raises(CalendarError, match="no working day from 2026-10-01 to 2026-10-07"):
        cal.last_working_day(d("2026-10-01"), d("2026-10-07"))
    assert len(cal.working_days(d("2026-10-01"), d("2026-10-10"))) == 3  # 8th, 9th, 10th


def test_dates_are_pendulum_dates(org: Organisation, hooks: Hooks) -> None:
    cal = calendar_for(org, 2026, hooks=hooks)
    days = cal.working_days(d("2026-01-01"), d("2026-01-31"))
    assert days[0] == d("2026-01-04")
    assert all(isinstance(day, pendulum.Date) for day in days)
    assert isinstance(cal.last_working_day(d("2026-12-01"), d("2026-12-31")), pendulum.Date)


def test_a_date_and_time_is_taken_on_its_day_in_the_calendars_zone(
    org: Organisation, hooks: Hooks
) -> None:
    cal = calendar_for(org, 2026, hooks=hooks)
    # 17:00 UTC on 30 September is 01:00 on 1 October in Shanghai
    late = dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)
    assert not cal.is_working_day(late)
    assert cal.is_working_day(dt.datetime(2026, 9, 30, 17, 0))  # naive: its own day
    assert cal.is_working_day(pendulum.datetime(2026, 9, 30, 9, tz="Asia/Shanghai"))
    with pytest.raises(TypeError, match="expected a date"):
        cal.is_working_day("2026-10-01")  # type: ignore[arg-type]


def test_the_shipped_data_is_read_lazily() -> None:
    code = (
        "import sys\n"
        "from dualduty.plugins import Hooks, make_plugin_manager\n"
        "providers = Hooks(make_plugin_manager(entry_points=False)).calendars()\n"
        "from dualduty.calendars import _shipped, _shipped_years\n"
        "print([p.name for p in providers], _shipped.cache_info().currsize,\n"
        "      _shipped_years.cache_info().currsize, 'dualduty.calendars._files' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['dualduty'] 0 0 False"


# -- holiday files ------------------------------------------------------------------------


def test_the_documented_2027_example_loads(org: Organisation, hooks: Hooks) -> None:
    (year,) = load_holidays(EXAMPLE_2027)
    assert year.year == 2027
    assert year.source == f"example only, not official ({EXAMPLE_2027})"
    cal = calendar_for(org, [2026, 2027], holidays=[EXAMPLE_2027], hooks=hooks)
    assert cal.years == (2026, 2027)
    assert not cal.is_working_day(d("2027-10-01"))
    assert cal.is_working_day(d("2027-10-09"))  # a Saturday worked (调休)
    assert cal.holiday_name(d("2027-02-06")) == "春节"
    assert not cal.is_working_day(d("2026-10-01"))  # 2026 still from the shipped data


def test_a_2027_file_named_by_the_district_file(tmp_path: Path, hooks: Hooks) -> None:
    (tmp_path / "calendars").mkdir()
    shutil.copy(EXAMPLE_2027, tmp_path / "calendars" / "holidays-2027.toml")
    district = tmp_path / "district.toml"
    district.write_text(
        'id = "demo"\nname = "示范区教育体育局"\nholidays = ["calendars/holidays-2027.toml"]\n',
        encoding="utf-8",
    )
    org = dualduty.load(district)
    assert org.holidays == ("calendars/holidays-2027.toml",)
    cal = calendar_for(org, 2027, hooks=hooks, base_dir=tmp_path)
    assert not cal.is_working_day(d("2027-10-01"))
    # relative to the current directory when no base_dir is given
    with pytest.raises(InvalidHolidays) as caught:
        calendar_for(org, 2027, hooks=hooks, base_dir=tmp_path / "elsewhere")
    assert "cannot read the holiday file" in str(caught.value)
    assert str(tmp_path / "elsewhere" / "calendars" / "holidays-2027.toml") in str(caught.value)


def test_a_json_holiday_file(tmp_path: Path) -> None:
    path = tmp_path / "holidays-2027.json"
    data = {
        "years": [
            {"year": 2027, "holidays": [{"name": "元旦", "days_off": ["2027-01-01"]}]},
        ]
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    (year,) = load_holidays(path)
    assert year.days_off == {d("2027-01-01")}
    assert year.workdays == frozenset()
    assert year.names == ((d("2027-01-01"), "元旦"),)


BAD = """\
format = 2
colour = "red"

[[years]]
year = 2027

[[years.holidays]]
name = "元旦"
days_off = [2027-01-01, 2028-01-01, 2027-01-01]
workdays = [2027-01-01, 2027-01-04]

[[years.holidays]]
name = "春节"

[[years.holidays]]
name = ""
days_off = ["2027-13-01"]
extra = true

[[years]]
year = 2027
holidays = []

[[years]]
year = 2100
holidays = "none"

[[years]]
year = 2100

[[years.holidays]]
name = "国庆节"
days_off = [2100-10-01]
"""


def test_a_bad_holiday_file_reports_every_problem_with_its_path() -> None:
    with pytest.raises(InvalidHolidays) as caught:
        loads_holidays(BAD, source="holidays-2027.toml")
    error = caught.value
    assert error.source == "holidays-2027.toml"
    assert [str(p) for p in error.problems] == [
        "format: holiday file format 2 is not supported; this dualduty reads format 1",
        "colour: unknown key 'colour'",
        "years[0].holidays[0].days_off[1]: 2028-01-01 is not in 2027",
        "years[0].holidays[0].days_off[2]: 2027-01-01 is listed twice "
        "(first at years[0].holidays[0].days_off[0])",
        "years[0].holidays[0].workdays[0]: 2027-01-01 is a Friday, a working day anyway; "
        "a make-up working day (调休上班) is a Saturday or Sunday",
        "years[0].holidays[0].workdays[0]: 2027-01-01 is both a day off and a working day "
        "(also at years[0].holidays[0].days_off[0])",
        "years[0].holidays[0].workdays[1]: 2027-01-04 is a Monday, a working day anyway; "
        "a make-up working day (调休上班) is a Saturday or Sunday",
        "years[0].holidays[1]: '春节' lists no days off and no working days",
        "years[0].holidays[2].days_off[0]: expected a date as YYYY-MM-DD, got '2027-13-01'",
        "years[0].holidays[2].extra: unknown key 'extra'",
        "years[1].year: 2027 is given twice (first at years[0])",
        "years[1].holidays: lists no holidays",
        "years[2].year: 2100 is out of range (1970 to 2099)",
        "years[2].holidays: expected a list, got str",
        "years[3].year: 2100 is out of range (1970 to 2099)",
        "years[3].year: 2100 is given twice (first at years[2])",
    ]
    text = str(error)
    assert text.startswith(f"holidays-2027.toml: {len(error.problems)} problems found\n")
    assert "  holidays-2027.toml: years[0].holidays[0].days_off[1]: 2028-01-01 is not in 2027" in (
        text
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("format = 1\n", "years: required field missing"),
        ("years = []\n", "years: lists no years"),
        ("years = 2027\n", "years: expected a list, got int"),
        ("years = [\n", "not valid TOML: "),
        ("[[years]]\nholidays = []\n", "years[0].year: required field missing"),
        ("[[years]]\nyear = '2027'\nholidays = []\n", "years[0].year: expected a whole number"),
    ],
)
def test_holiday_file_structure_problems(text: str, problem: str) -> None:
    with pytest.raises(InvalidHolidays) as caught:
        loads_holidays(text, source="h.toml")
    assert any(str(p).startswith(problem) for p in caught.value.problems), caught.value


def test_a_holiday_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(InvalidHolidays, match="cannot read the holiday file"):
        load_holidays(tmp_path / "holidays-2027.toml")
    with pytest.raises(InvalidHolidays, match=r"cannot tell the format from the suffix '\.txt'"):
        load_holidays(tmp_path / "holidays-2027.txt")
    latin = tmp_path / "latin.toml"
    latin.write_bytes("# 元旦\n".encode("gbk"))
    with pytest.raises(InvalidHolidays, match="not UTF-8 text"):
        load_holidays(latin)


# -- precedence --------------------------------------------------------------------------


def _one_day(year: int, day: str, source: str) -> HolidayYear:
    return HolidayYear(year, [d(day)], names=[(d(day), source)], source=source)


class Province:
    """A plugin supplying 2026 with one extra day off, and terms."""

    name = "province"

    def holidays(self, year: int) -> HolidayYear | None:
        if year != 2026:
            return None
        return _one_day(2026, "2026-03-09", "province")

    def terms(self, year: int) -> Sequence[Term] | None:
        if year != 2026:
            return None
        return [
            Term("2026年春季学期", d("2026-03-02"), d("2026-07-10")),
            Term("暑假", d("2026-07-11"), d("2026-08-31"), vacation=True),
        ]

    @hookimpl
    def dualduty_register_calendars(
        self, register: Callable[[HolidayProvider | TermProvider], None]
    ) -> None:
        register(self)


def test_the_built_in_provider_comes_after_every_plugin(dualduty_hooks: Hooks) -> None:
    assert [p.name for p in dualduty_hooks.calendars()] == ["dualduty"]
    dualduty_hooks.pm.register(Province(), name="province")
    providers = dualduty_hooks.calendars()
    assert [p.name for p in providers] == ["province", "dualduty"]
    assert isinstance(providers[1], BuiltinHolidays)


def test_a_plugin_wins_over_the_built_in_data(org: Organisation, dualduty_hooks: Hooks) -> None:
    dualduty_hooks.pm.register(Province(), name="province")
    cal = calendar_for(org, [2025, 2026], hooks=dualduty_hooks)
    assert cal.holiday_year(2026).source == "province"
    assert not cal.is_working_day(d("2026-03-09"))
    assert cal.is_working_day(d("2026-10-08"))  # the plugin's 2026 replaces the shipped one
    assert cal.holiday_year(2025).source.startswith("国务院办公厅")  # the plugin has no 2025


def test_the_organisations_files_win_over_plugins_and_given_files_over_both(
    tmp_path: Path, org: Organisation, dualduty_hooks: Hooks
) -> None:
    dualduty_hooks.pm.register(Province(), name="province")
    own = tmp_path / "own.toml"
    own.write_text(
        '[[years]]\nyear = 2026\n[[years.holidays]]\nname = "校庆"\ndays_off = [2026-03-10]\n',
        encoding="utf-8",
    )
    with_files = attrs.evolve(org, holidays=["own.toml"])
    cal = calendar_for(with_files, 2026, hooks=dualduty_hooks, base_dir=tmp_path)
    assert cal.holiday_name(d("2026-03-10")) == "校庆"
    assert cal.is_working_day(d("2026-03-09"))
    given = _one_day(2026, "2026-03-11", "given")
    cal = calendar_for(with_files, 2026, holidays=[given], hooks=dualduty_hooks, base_dir=tmp_path)
    assert cal.holiday_year(2026) is given


def test_calendar_for_asks_the_installed_plugins_by_default(
    org: Organisation, dualduty_plugin: PluginRegistrar
) -> None:
    dualduty_plugin(Province(), name="province")
    cal = calendar_for(org, 2026)
    assert cal.holiday_year(2026).source == "province"


def test_a_year_given_twice_by_one_source_is_an_error(org: Organisation, hooks: Hooks) -> None:
    first, second = _one_day(2026, "2026-03-09", "a.toml"), _one_day(2026, "2026-03-10", "b.toml")
    with pytest.raises(CalendarError, match=r"2026 are given twice, in a\.toml and in b\.toml"):
        calendar_for(org, 2026, holidays=[first, second], hooks=hooks)


def test_a_provider_answering_with_another_year_is_an_error(
    org: Organisation, dualduty_hooks: Hooks
) -> None:
    class Confused:
        name = "confused"

        def holidays(self, year: int) -> HolidayYear | None:
            return _one_day(2025, "2025-03-10", "confused")

        @hookimpl
        def dualduty_register_calendars(
            self, register: Callable[[HolidayProvider | TermProvider], None]
        ) -> None:
            register(self)

    dualduty_hooks.pm.register(Confused(), name="confused")
    with pytest.raises(CalendarError, match="'confused' answered the holidays of 2026 with 2025"):
        calendar_for(org, 2026, hooks=dualduty_hooks)


def test_static_holidays() -> None:
    provider = StaticHolidays(load_holidays(EXAMPLE_2027), name="example")
    assert isinstance(provider, HolidayProvider)
    assert provider.years() == (2027,)
    assert provider.holidays(2026) is None
    assert repr(provider) == "StaticHolidays(2027, name='example')"


# -- terms and blackouts ----------------------------------------------------------------

SPRING = Term("2026年春季学期", d("2026-03-02"), d("2026-07-10"))
SUMMER = Term("暑假", d("2026-07-11"), d("2026-08-31"), vacation=True)
AUTUMN = Term("2026年秋季学期", d("2026-09-01"), d("2027-01-22"))


def term_only(org: Organisation, **changes: Any) -> Organisation:
    return attrs.evolve(
        org, rules=attrs.evolve(org.rules, inspections_in_term_only=True), **changes
    )


def test_term_time_only_inspection_days(org: Organisation, hooks: Hooks) -> None:
    cal = calendar_for(term_only(org, terms=[SPRING, SUMMER, AUTUMN]), 2026, hooks=hooks)
    assert cal.term_time_only
    assert cal.term_of(d("2026-07-13")) == SUMMER
    assert cal.term_of(d("2026-02-02")) is None
    for day in ("2026-02-02", "2026-07-13", "2026-08-31"):  # winter break, summer vacation
        assert cal.is_working_day(d(day))
        assert not cal.is_inspection_day(d(day)), day
    assert cal.is_inspection_day(d("2026-03-02"))
    assert cal.is_inspection_day(d("2026-09-01"))
    assert not cal.is_inspection_day(d("2026-10-01"))  # term time, but a holiday
    inspection = cal.inspection_days(d("2026-07-01"), d("2026-09-30"))
    assert inspection[0] == d("2026-07-01")
    assert d("2026-07-10") in inspection
    assert not [x for x in inspection if SUMMER.start <= x <= SUMMER.end]
    # without the rule, vacations are inspection days too
    free = calendar_for(attrs.evolve(org, terms=[SPRING, SUMMER]), 2026, hooks=hooks)
    assert free.is_inspection_day(d("2026-07-13"))


def test_a_term_beats_a_vacation_on_the_same_day() -> None:
    cal = WorkCalendar(
        [HolidayYear(2026, [])],
        terms=[SUMMER, Term("暑期补课", d("2026-07-13"), d("2026-07-17"))],
        term_time_only=True,
    )
    assert cal.term_of(d("2026-07-14")) == Term("暑期补课", d("2026-07-13"), d("2026-07-17"))
    assert cal.is_inspection_day(d("2026-07-14"))
    assert not cal.is_inspection_day(d("2026-07-20"))


def test_term_time_only_without_any_term_is_an_error(org: Organisation, hooks: Hooks) -> None:
    with pytest.raises(CalendarError, match="no school term \\(学期\\) of 2026 is known"):
        calendar_for(term_only(org), 2026, hooks=hooks)
    with pytest.raises(CalendarError, match="of 2026 is known"):
        calendar_for(term_only(org, terms=[SUMMER]), 2026, hooks=hooks)


def test_terms_from_a_plugin_fill_years_the_organisation_has_none_for(
    org: Organisation, dualduty_hooks: Hooks
) -> None:
    dualduty_hooks.pm.register(Province(), name="province")
    cal = calendar_for(term_only(org), 2026, hooks=dualduty_hooks)
    assert [t.name for t in cal.terms] == ["2026年春季学期", "暑假"]
    own = Term("本校春季学期", d("2026-02-24"), d("2026-07-03"))
    cal = calendar_for(term_only(org, terms=[own]), 2026, hooks=dualduty_hooks)
    assert cal.terms == (own,)


def test_blackouts(org: Organisation, hooks: Hooks) -> None:
    exams = Blackout("中考", d("2026-06-24"), d("2026-06-26"))
    sports = Blackout("运动会", d("2026-04-15"), d("2026-04-15"))
    cal = calendar_for(attrs.evolve(org, blackouts=[exams, sports]), 2026, hooks=hooks)
    assert cal.blackout_of(d("2026-06-25")) == exams
    assert cal.blackout_of(d("2026-06-27")) is None
    assert d("2026-04-15") in sports
    assert "2026-04-15" not in sports
    assert cal.is_working_day(d("2026-06-25"))
    assert not cal.is_inspection_day(d("2026-06-25"))
    assert not cal.is_inspection_day(d("2026-04-15"))
    assert cal.is_inspection_day(d("2026-04-16"))
    june = cal.inspection_days(d("2026-06-22"), d("2026-06-30"))
    assert june == tuple(map(d, ["2026-06-22", "2026-06-23", "2026-06-29", "2026-06-30"]))


def test_a_span_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="end: ends 2026-06-23, before it starts 2026-06-24"):
        Blackout("中考", d("2026-06-24"), d("2026-06-23"))
    with pytest.raises(ValueError, match="end: ends"):
        Term("学期", d("2026-06-24"), d("2026-06-23"))


def test_calendar_types_are_the_models() -> None:
    from dualduty.model import org as model

    assert Term is model.Term
    assert Blackout is model.Blackout


# -- the district file --------------------------------------------------------------------


DISTRICT = """\
id = "demo"
name = "示范区教育体育局"
holidays = ["holidays-2027.toml", " ", "holidays-2027.toml"]

[rules]
inspections_in_term_only = true

[[terms]]
name = "2026年春季学期"
start = 2026-03-02
end = 2026-07-10

[[terms]]
name = "暑假"
start = 2026-07-11
end = 2026-08-31
vacation = "yes"

[[terms]]
name = "2026年秋季学期"
start = 2026-09-01
end = 2027-01-22

[[terms]]
name = "秋季学期（重复）"
start = 2026-12-01
end = 2027-01-31

[[blackouts]]
name = "中考"
start = 2026-06-24
end = 2026-06-26

[[blackouts]]
name = "运动会"
start = 2026-04-16
end = 2026-04-15

[[blackouts]]
name = "远期"
start = 2126-04-16
end = 2126-04-17
when = "always"
"""


def test_district_file_calendar_problems_have_paths() -> None:
    with pytest.raises(InvalidOrganisation) as caught:
        dualduty.loads(DISTRICT, source="district.toml")
    assert [str(p) for p in caught.value.problems] == [
        "terms[1].vacation: expected true or false, got str 'yes'",
        "terms[3]: term '秋季学期（重复）' overlaps term '2026年秋季学期' "
        "(terms[2], 2026-09-01 to 2027-01-22)",
        "blackouts[1].end: ends 2026-04-15, before it starts 2026-04-16",
        "blackouts[2].when: unknown key 'when'",
        "holidays[1]: must be the path of a holiday file, not blank",
        "holidays[2]: 'holidays-2027.toml' is listed twice (first at holidays[0])",
    ]


def test_dates_of_terms_and_blackouts_must_be_in_range() -> None:
    org = Organisation(
        "demo",
        "示范区",
        terms=[Term("远期", d("2100-03-01"), d("2100-07-01"))],
        blackouts=[Blackout("远古", d("1969-12-31"), d("1970-01-02"))],
    )
    assert [str(p) for p in org.problems()] == [
        "terms[0].start: date 2100-03-01 is out of range (1970-01-01 to 2099-12-31)",
        "terms[0].end: date 2100-07-01 is out of range (1970-01-01 to 2099-12-31)",
        "blackouts[0].start: date 1969-12-31 is out of range (1970-01-01 to 2099-12-31)",
    ]


def test_calendar_fields_round_trip(tmp_path: Path) -> None:
    org = Organisation(
        "demo",
        "示范区教育体育局",
        rules=Rules(inspections_in_term_only=True),
        terms=[SPRING, SUMMER, AUTUMN],
        blackouts=[Blackout("中考", d("2026-06-24"), d("2026-06-26"))],
        holidays=["holidays-2027.toml"],
    )
    for suffix in (".toml", ".json", ".yaml"):
        path = tmp_path / f"district{suffix}"
        dualduty.dump(org, path)
        assert dualduty.load(path) == org
    data = dualduty.io.to_data(org)
    assert data["holidays"] == ["holidays-2027.toml"]
    assert data["terms"][1] == {
        "name": "暑假",
        "start": "2026-07-11",
        "end": "2026-08-31",
        "vacation": True,
    }
    assert data["blackouts"] == [{"name": "中考", "start": "2026-06-24", "end": "2026-06-26"}]


# -- properties ------------------------------------------------------------------------

YEARS = (2025, 2026, 2027)


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    years = []
    for year in YEARS:
        marked = draw(
            st.dictionaries(
                st.dates(dt.date(year, 1, 1), dt.date(year, 12, 31)),
                st.booleans(),  # True: a make-up working day, False: a day off
                max_size=30,
            )
        )
        years.append(
            HolidayYear(
                year,
                [day for day, working in marked.items() if not working],
                [day for day, working in marked.items() if working],
            )
        )
    spans = st.tuples(
        st.dates(dt.date(2024, 12, 1), dt.date(2028, 1, 31)), st.integers(0, 120)
    ).map(lambda p: (p[0], p[0] + dt.timedelta(days=p[1])))
    terms = [
        Term("学期", start, end, vacation=draw(st.booleans()))
        for start, end in draw(st.lists(spans, max_size=4))
    ]
    blackouts = [Blackout("活动", start, end) for start, end in draw(st.lists(spans, max_size=3))]
    return WorkCalendar(years, terms=terms, blackouts=blackouts, term_time_only=draw(st.booleans()))


ranges = st.tuples(st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)), st.integers(-3, 400)).map(
    lambda p: (p[0], min(p[0] + dt.timedelta(days=p[1]), dt.date(2027, 12, 31)))
)


@settings(max_examples=60, deadline=None)
@given(cal=calendars(), span=ranges)
def test_working_and_inspection_days_agree_with_the_day_by_day_answers(
    cal: WorkCalendar, span: tuple[dt.date, dt.date]
) -> None:
    start, end = span
    every = [start + dt.timedelta(days=i) for i in range(max((end - start).days + 1, 0))]
    working = cal.working_days(start, end)
    inspection = cal.inspection_days(start, end)
    assert list(working) == [x for x in every if cal.is_working_day(x)]
    assert list(inspection) == [x for x in every if cal.is_inspection_day(x)]
    assert set(inspection) <= set(working)
    for day in every:
        hy = cal.holiday_year(day.year)
        expected = day in hy.workdays or (day.weekday() < 5 and day not in hy.days_off)
        assert cal.is_working_day(day) == expected
        if cal.is_inspection_day(day):
            assert cal.blackout_of(day) is None
            term = cal.term_of(day)
            assert not cal.term_time_only or (term is not None and not term.vacation)
    if working:
        assert cal.last_working_day(start, end) == working[-1]
    elif start <= end:
        with pytest.raises(CalendarError, match="no working day"):
            cal.last_working_day(start, end)


@settings(max_examples=20, deadline=None)
@given(cal=calendars(), day=st.dates(dt.date(2028, 1, 1), dt.date(2030, 12, 31)))
def test_a_day_outside_the_calendar_is_missing_holidays(cal: WorkCalendar, day: dt.date) -> None:
    with pytest.raises(MissingHolidays) as caught:
        cal.is_working_day(day)
    assert caught.value.known == YEARS
    with pytest.raises(MissingHolidays):
        cal.working_days(dt.date(2027, 12, 1), day)
