"""Schedule exports: iCalendar per person, unit and school; CSV, Excel, JSON; reading back."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

import icalendar
import openpyxl
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dualduty
from dualduty import DualdutyError
from dualduty.io import (
    COLUMNS,
    InvalidScheduleFile,
    read_schedule_csv,
    read_schedule_json,
    read_schedule_xlsx,
    schedule_from_csv,
    schedule_from_json,
    schedule_from_xlsx,
    schedule_to_csv,
    schedule_to_ics,
    schedule_to_json,
    schedule_to_xlsx,
    write_schedule_csv,
    write_schedule_ics,
    write_schedule_json,
    write_schedule_xlsx,
)
from dualduty.io._schedule import _common
from dualduty.io._schedule._ics import escape_text, fold
from dualduty.model import (
    DATE_MAX,
    DATE_MIN,
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingKind,
    Organisation,
    Schedule,
    Violation,
    Visit,
)
from strategies import ids, optional, texts

STAMP = pendulum.datetime(2026, 1, 5, 9, 30, tz="Asia/Shanghai")
ORG = dualduty.reference_organisation(schools=3)


def _schedule(
    year: int,
    quarter: int | None = None,
    *,
    visits: Iterable[Visit] = (),
    meetings: Iterable[Meeting] = (),
    deadlines: Iterable[Deadline] = (),
) -> Schedule:
    # Schedule's collection fields convert with ``tuple``, which mypy cannot type.
    items: Any = (tuple(visits), tuple(meetings), tuple(deadlines))
    return Schedule(year, quarter, *items)


def _d(month: int, day: int) -> dt.date:
    return pendulum.date(2026, month, day)


# The reference bureau with 3 schools: p002 holds deputy-1; 法规安全科 (regulation-safety) is
# headed by p007 with staff p008 and p009; its head also directs the leading group's office.
SCHEDULE = _schedule(
    2026,
    visits=[
        Visit(
            "v-1",
            "s0001",
            "regulation-safety",
            _d(3, 10),
            1,
            ("regulation-safety.staff-1", "regulation-safety.staff-2"),
        ),
        Visit(
            "v-2",
            "s0001",
            "deputy-1",
            _d(3, 10),
            1,
            ("deputy-1",),
            announced=False,
            joint="regulation-safety",
        ),
        Visit("v-3", "s0002", "deputy-1", _d(5, 20), 2, ("deputy-1",)),
    ],
    meetings=[
        Meeting("m-1", MeetingKind.TOPIC_STUDY, "regulation-safety", _d(2, 5), quarter=1),
        Meeting("m-2", MeetingKind.COORDINATION, "leading-group", _d(3, 20), 1, "第一季度调度会"),
        Meeting("m-3", MeetingKind.SUMMARY, "leading-group", _d(12, 28)),
    ],
    deadlines=[
        Deadline(
            "d-1", DeadlineKind.QUARTER_REPORT, "regulation-safety", _d(3, 31), 1, "safety-office"
        ),
    ],
)


def _events(data: bytes) -> dict[str, icalendar.Event]:
    """The events of a calendar, by UID (the file must parse)."""
    cal = icalendar.Calendar.from_ical(data)
    return {str(e["UID"]): cast(icalendar.Event, e) for e in cal.walk("VEVENT")}


def _uid(kind: str, item_id: str) -> str:
    return f"{kind}-{item_id}@reference-bureau.dualduty"


# -- iCalendar ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ics() -> dict[str, bytes]:
    return schedule_to_ics(SCHEDULE, ORG, stamp=STAMP, schools=True)


def test_ics_one_file_per_person_unit_and_school(ics: dict[str, bytes]) -> None:
    expected = (
        [f"person-{p.id}.ics" for p in ORG.people]
        + [f"unit-{u.id}.ics" for u in ORG.units]
        + [f"school-{s.id}.ics" for s in ORG.schools]
    )
    assert list(ics) == expected
    for data in ics.values():
        cal = icalendar.Calendar.from_ical(data)
        assert cal["VERSION"] == "2.0"
        assert cal["X-WR-TIMEZONE"] == "Asia/Shanghai"
        assert all(len(line) <= 75 for line in data.split(b"\r\n"))
        assert data.endswith(b"END:VCALENDAR\r\n")
        assert b"\n" not in data.replace(b"\r\n", b"")


def test_ics_people_see_their_visits_meetings_and_deadlines(ics: dict[str, bytes]) -> None:
    def uids(person: str) -> set[str]:
        return set(_events(ics[f"person-{person}.ics"]))

    visit_1, visit_2, visit_3 = (_uid("visit", f"v-{i}") for i in (1, 2, 3))
    topic, coordination, summary = (_uid("meeting", f"m-{i}") for i in (1, 2, 3))
    report = _uid("deadline", "d-1")
    # staff of 法规安全科: the visit they go on, their section's topic study
    assert uids("p008") == uids("p009") == {visit_1, topic}
    # its head: the section's meeting and the report the head answers for
    assert uids("p007") == {topic, report}
    # deputy-1 holds two visits and sits in the leading group
    assert uids("p002") == {visit_2, visit_3, coordination, summary}
    assert uids("p001") == {coordination, summary}
    assert uids("p010") == set()  # 办公室主任: nothing on this schedule


def test_ics_units_see_what_they_hold_attend_and_owe(ics: dict[str, bytes]) -> None:
    def uids(unit: str) -> set[str]:
        return set(_events(ics[f"unit-{unit}.ics"]))

    assert uids("regulation-safety") == {
        _uid("visit", "v-1"),
        _uid("meeting", "m-1"),
        _uid("deadline", "d-1"),
    }
    assert uids("leading-group") == {
        _uid("visit", "v-2"),
        _uid("visit", "v-3"),
        _uid("meeting", "m-2"),
        _uid("meeting", "m-3"),
    }
    assert uids("general-office") == set()


def test_ics_unannounced_visits_are_private_and_never_school_facing(
    ics: dict[str, bytes],
) -> None:
    secret = _uid("visit", "v-2")
    school_files = {name: data for name, data in ics.items() if name.startswith("school-")}
    for data in school_files.values():
        assert secret not in _events(data)
        assert b"v-2" not in data
        assert "暗访".encode() not in data
    assert set(_events(school_files["school-s0001.ics"])) == {_uid("visit", "v-1")}
    assert set(_events(school_files["school-s0002.ics"])) == {_uid("visit", "v-3")}
    seen = 0
    for name, data in ics.items():
        events = _events(data)
        for uid, event in events.items():
            assert (event.get("CLASS") == "PRIVATE") == (uid == secret), (name, uid)
        seen += secret in events
    assert seen == 2  # deputy-1's holder (p002) and the leading group


def test_ics_events_are_all_day_with_chinese_text(ics: dict[str, bytes]) -> None:
    events = _events(ics["unit-regulation-safety.ics"])
    visit = events[_uid("visit", "v-1")]
    assert visit.decoded("DTSTART") == dt.date(2026, 3, 10)
    assert type(visit.decoded("DTSTART")) is dt.date  # all day: VALUE=DATE
    assert visit.decoded("DTEND") == dt.date(2026, 3, 11)
    assert visit.decoded("DTSTAMP") == dt.datetime(2026, 1, 5, 1, 30, tzinfo=dt.UTC)
    assert str(visit["SUMMARY"]) == "专门督查：西城街道第一小学（法规安全科）"
    assert str(visit["LOCATION"]) == "西城街道第一小学"
    assert str(visit["DESCRIPTION"]).splitlines()[:4] == [
        "学校：西城街道第一小学",
        "包保人：法规安全科",
        "督查人员：法规安全科科员 崔志刚、法规安全科科员 周刚",
        "方式：明查",
    ]
    assert "RRULE" not in visit
    assert str(events[_uid("meeting", "m-1")]["SUMMARY"]) == "学校安全专题研究（法规安全科）"
    report = events[_uid("deadline", "d-1")]
    assert str(report["SUMMARY"]) == "第1季度书面报告截止（法规安全科）"
    assert "报送：学校安全稳定工作领导小组办公室" in str(report["DESCRIPTION"])
    assert report["TRANSP"] == "TRANSPARENT"
    secret = _events(ics["person-p002.ics"])[_uid("visit", "v-2")]
    assert str(secret["SUMMARY"]) == "专门督查（暗访）：西城街道第一小学（副局长 史芳）"
    assert "联合督查：法规安全科" in str(secret["DESCRIPTION"])
    titled = _events(ics["person-p001.ics"])[_uid("meeting", "m-2")]
    assert str(titled["SUMMARY"]) == "第一季度调度会（学校安全稳定工作领导小组）"


def test_ics_exports_are_deterministic_and_uids_stable(ics: dict[str, bytes]) -> None:
    again = schedule_to_ics(SCHEDULE, ORG, stamp=STAMP, schools=True)
    assert again == ics  # byte for byte
    later = schedule_to_ics(SCHEDULE, ORG, stamp=STAMP.add(days=30), schools=True)
    for name, data in ics.items():
        assert set(_events(later[name])) == set(_events(data))
        changed = set(data.splitlines()) ^ set(later[name].splitlines())
        assert all(line.startswith(b"DTSTAMP:") for line in changed)
    # the order of the schedule's items does not change the files
    shuffled = _schedule(
        2026,
        visits=SCHEDULE.visits[::-1],
        meetings=SCHEDULE.meetings[::-1],
        deadlines=SCHEDULE.deadlines,
    )
    assert schedule_to_ics(shuffled, ORG, stamp=STAMP, schools=True) == ics


def test_ics_selects_audiences_and_time_zone() -> None:
    only_units = schedule_to_ics(SCHEDULE, ORG, stamp=STAMP, people=False)
    assert all(name.startswith("unit-") for name in only_units)
    other = schedule_to_ics(SCHEDULE, ORG, stamp=STAMP, units=False, timezone="Asia/Urumqi")
    cal = icalendar.Calendar.from_ical(other["person-p001.ics"])
    assert cal["X-WR-TIMEZONE"] == "Asia/Urumqi"
    assert str(cal["X-WR-CALNAME"]) == "孟爱华：2026年学校安全工作日程"


def test_ics_refuses_what_would_break_a_calendar() -> None:
    with pytest.raises(DualdutyError, match="stamp must be a date and time with a time zone"):
        schedule_to_ics(SCHEDULE, ORG, stamp=dt.datetime(2026, 1, 5))
    with pytest.raises(DualdutyError, match="unknown time zone 'Mars/Olympus'"):
        schedule_to_ics(SCHEDULE, ORG, stamp=STAMP, timezone="Mars/Olympus")
    twice = _schedule(2026, visits=[SCHEDULE.visits[0], SCHEDULE.visits[0]])
    with pytest.raises(DualdutyError, match="two visits with the id 'v-1'"):
        schedule_to_ics(twice, ORG, stamp=STAMP)


def test_ics_names_what_the_organisation_does_not_know() -> None:
    stranger = _schedule(2026, visits=[Visit("v-9", "s9999", "nobody", _d(4, 1), 2, ("ghost",))])
    files = schedule_to_ics(stranger, ORG, stamp=STAMP, schools=True)
    assert all(_events(data) == {} for data in files.values())  # nobody's calendar
    org = dualduty.reference_organisation(schools=3)
    lone = Organisation("lone", "孤校", people=(), units=(), schools=org.schools[:1])
    school = schedule_to_ics(
        _schedule(2026, visits=[Visit("v-9", "s0001", "nobody", _d(4, 1), 2, ("ghost",))]),
        lone,
        stamp=STAMP,
        schools=True,
    )["school-s0001.ics"]
    event = _events(school)["visit-v-9@lone.dualduty"]
    assert str(event["SUMMARY"]) == "专门督查：西城街道第一小学（nobody）"
    assert "督查人员：ghost" in str(event["DESCRIPTION"])


@given(st.text(st.characters(codec="utf-8"), max_size=200))
def test_ics_text_is_escaped_and_folded_as_icalendar_reads_it(text: str) -> None:
    line = fold(f"SUMMARY:{escape_text(text)}")
    assert line.endswith(b"\r\n")
    assert all(len(part) <= 75 for part in line.split(b"\r\n"))
    event = icalendar.Event.from_ical(b"BEGIN:VEVENT\r\n" + line + b"END:VEVENT\r\n")
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    expected = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", normalised)
    assert str(event["SUMMARY"]) == expected


def test_ics_escape_matches_icalendar() -> None:
    for text in ["a,b;c\\d", "行一\n行二", "plain", "\\n is not a newline", "尾,"]:
        assert escape_text(text) == icalendar.vText(text).to_ical().decode()


def test_ics_fold_keeps_escapes_and_characters_whole() -> None:
    # 74 octets of ASCII then an escape: the backslash must not end a line
    line = "X" * 74 + "\\n" + "中" * 30
    folded = fold(line)
    parts = folded.split(b"\r\n ")
    assert parts[0] == b"X" * 74
    assert parts[1].startswith(b"\\n")
    for part in parts:
        part.decode("utf-8")  # no character split
    assert folded.replace(b"\r\n ", b"").removesuffix(b"\r\n").decode() == line


def test_write_ics_into_a_new_directory(tmp_path: Path) -> None:
    target = tmp_path / "calendars"
    names = write_schedule_ics(SCHEDULE, ORG, target, stamp=STAMP, schools=True)
    files = schedule_to_ics(SCHEDULE, ORG, stamp=STAMP, schools=True)
    assert names == list(files)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calendars"]  # nothing left behind


def test_write_ics_into_an_existing_directory_replaces_only_its_files(tmp_path: Path) -> None:
    target = tmp_path / "calendars"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    (target / "person-p001.ics").write_bytes(b"old")
    os.chmod(target / "person-p001.ics", 0o640)
    write_schedule_ics(SCHEDULE, ORG, target, stamp=STAMP)
    assert (target / "notes.txt").read_text(encoding="utf-8") == "mine"
    new = (target / "person-p001.ics").read_bytes()
    assert new == schedule_to_ics(SCHEDULE, ORG, stamp=STAMP)["person-p001.ics"]
    assert (target / "person-p001.ics").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calendars"]


def test_write_ics_failing_midway_leaves_the_directory_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "calendars"
    target.mkdir()
    (target / "person-p001.ics").write_bytes(b"old")
    real = _common._create
    calls = 0

    def flaky(path: Path, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise OSError(28, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(_common, "_create", flaky)
    with pytest.raises(DualdutyError, match=r"cannot write .*calendars: No space left on device"):
        write_schedule_ics(SCHEDULE, ORG, target, stamp=STAMP)
    assert [p.name for p in target.iterdir()] == ["person-p001.ics"]
    assert (target / "person-p001.ics").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calendars"]
    calls = 0
    with pytest.raises(DualdutyError, match=r"cannot write .*new: No space left on device"):
        write_schedule_ics(SCHEDULE, ORG, tmp_path / "new", stamp=STAMP)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calendars"]


def test_write_ics_onto_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("", encoding="utf-8")
    with pytest.raises(DualdutyError, match="not a directory"):
        write_schedule_ics(SCHEDULE, ORG, tmp_path / "x", stamp=STAMP)


# -- hypothesis strategies of schedules ----------------------------------------------------

dates = st.dates(DATE_MIN, DATE_MAX)
quarters = st.integers(1, 4)
#: Titles an Excel cell holds as they are: no control characters but tab and line feed.
excel_texts = texts.filter(lambda s: re.search(r"[\x00-\x08\x0b-\x1f]", s) is None)


def visits() -> st.SearchStrategy[Visit]:
    return st.builds(
        Visit,
        id=ids,
        school=ids,
        holder=ids,
        date=dates,
        quarter=quarters,
        inspectors=st.lists(ids, max_size=3).map(tuple),
        announced=st.booleans(),
        joint=optional(ids),
    )


def meetings(titles: st.SearchStrategy[str]) -> st.SearchStrategy[Meeting]:
    return st.builds(
        Meeting,
        id=ids,
        kind=st.sampled_from(MeetingKind),
        unit=ids,
        date=dates,
        quarter=optional(st.integers(-1, 5)),
        title=optional(titles),
    )


deadlines = st.builds(
    Deadline,
    id=ids,
    kind=st.sampled_from(DeadlineKind),
    unit=ids,
    due=dates,
    quarter=optional(quarters),
    to=optional(ids),
)


def schedules(titles: st.SearchStrategy[str] = texts) -> st.SearchStrategy[Schedule]:
    return st.builds(
        Schedule,
        year=st.integers(1970, 2099),
        quarter=optional(quarters),
        visits=st.lists(visits(), max_size=5),
        meetings=st.lists(meetings(titles), max_size=4),
        deadlines=st.lists(deadlines, max_size=3),
    )


# -- CSV -----------------------------------------------------------------------------------


def test_csv_layout(tmp_path: Path) -> None:
    path = tmp_path / "schedule.csv"
    write_schedule_csv(SCHEDULE, path, ORG)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == COLUMNS
    assert rows[0][:4] == ["编号", "类型", "日期", "季度"]
    by_id = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]}
    assert by_id["v-1"] == {
        **dict.fromkeys(COLUMNS, ""),
        "编号": "v-1",
        "类型": "专门督查",
        "日期": "2026-03-10",
        "季度": "1",
        "学校": "s0001",
        "学校名称": "西城街道第一小学",
        "包保人": "regulation-safety",
        "包保人名称": "法规安全科",
        "督查人员": "regulation-safety.staff-1、regulation-safety.staff-2",
        "督查人员名称": "法规安全科科员 崔志刚、法规安全科科员 周刚",
        "明查/暗访": "明查",
    }
    assert by_id["v-2"]["明查/暗访"] == "暗访"
    assert by_id["v-2"]["联合名称"] == "法规安全科"
    assert by_id["m-3"]["类型"] == "总结表彰会"
    assert by_id["m-3"]["季度"] == ""
    assert by_id["d-1"]["报送名称"] == "学校安全稳定工作领导小组办公室"
    assert raw.count(b"\r\n") == 1 + 7
    assert read_schedule_csv(path) == SCHEDULE  # the year from the earliest date


def test_csv_without_organisation_leaves_names_empty() -> None:
    rows = list(csv.DictReader(io.StringIO(schedule_to_csv(SCHEDULE), newline="")))
    assert all(row[c] == "" for row in rows for c in COLUMNS if c.endswith("名称"))
    assert schedule_from_csv(schedule_to_csv(SCHEDULE)) == SCHEDULE


@settings(max_examples=150, deadline=None)
@given(schedules())
def test_csv_round_trip(schedule: Schedule) -> None:
    text = schedule_to_csv(schedule, ORG)
    assert schedule_from_csv(text, year=schedule.year, quarter=schedule.quarter) == schedule


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(schedules())
def test_csv_file_round_trip(tmp_path: Path, schedule: Schedule) -> None:
    path = tmp_path / "schedule.csv"
    write_schedule_csv(schedule, path)
    assert read_schedule_csv(path, year=schedule.year, quarter=schedule.quarter) == schedule


def _csv(*rows: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


VISIT_ROW = {
    "编号": "v-1",
    "类型": "专门督查",
    "日期": "2026-03-10",
    "季度": "1",
    "学校": "s0001",
    "包保人": "deputy-1",
    "督查人员": "deputy-1",
    "明查/暗访": "明查",
}


def test_csv_bad_date_names_the_file_row_and_column(tmp_path: Path) -> None:
    rows = [{**VISIT_ROW, "编号": f"v-{i}"} for i in range(5)]
    rows.append({**VISIT_ROW, "编号": "v-bad", "日期": "2026-02-30"})
    path = tmp_path / "schedule.csv"
    path.write_text(_csv(*rows), encoding="utf-8-sig")
    with pytest.raises(InvalidScheduleFile) as caught:
        read_schedule_csv(path)
    assert str(caught.value) == f"{path}: row 7, 日期: '2026-02-30' is not a date"
    assert caught.value.source == str(path)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"日期": "10.3.2026"}, "row 2, 日期: '10.3.2026' is not a date (write YYYY-MM-DD)"),
        ({"日期": ""}, "row 2, 日期: empty: a value is required"),
        ({"季度": "第一"}, "row 2, 季度: '第一' is not a whole number"),
        ({"季度": "5"}, "row 2, 季度: must be 1 to 4, got 5"),
        ({"学校": "西城一小"}, "row 2, 学校: '西城一小' is not a valid id"),
        ({"督查人员": "deputy-1、张 三"}, "row 2, 督查人员: '张' is not a valid id"),
        ({"明查/暗访": "突击"}, "row 2, 明查/暗访: '突击' is not 明查 or 暗访"),
        ({"明查/暗访": ""}, "row 2, 明查/暗访: empty: write 明查 (announced) or 暗访"),
        ({"类型": "检查"}, "row 2, 类型: '检查' is not one of: 专门督查、专题研究、调度会"),
        ({"类型": ""}, "row 2, 类型: empty: a value is required"),
        ({"单位": "general-office"}, "row 2, 单位: must be empty in a 专门督查 row"),
        ({"包保人": ""}, "row 2, 包保人: empty: a value is required"),
    ],
)
def test_csv_bad_cells(change: dict[str, str], problem: str) -> None:
    with pytest.raises(InvalidScheduleFile) as caught:
        schedule_from_csv(_csv({**VISIT_ROW, **change}), source="s.csv")
    assert str(caught.value).startswith(f"s.csv: {problem}")
    assert len(caught.value.problems) == 1


def test_csv_reports_every_problem_and_returns_nothing() -> None:
    text = _csv(
        VISIT_ROW,
        {**VISIT_ROW, "日期": "2026-13-01"},
        {"编号": "m-1", "类型": "调度会", "日期": "2026-03-20", "学校": "s0001"},
        {"编号": "d-1", "类型": "季度书面报告", "日期": "2026-03-31"},
    )
    with pytest.raises(InvalidScheduleFile) as caught:
        schedule_from_csv(text, source="s.csv")
    assert [str(p) for p in caught.value.problems] == [
        "row 3, 日期: '2026-13-01' is not a date",
        "row 4, 学校: must be empty in a 调度会 row",
        "row 4, 单位: empty: a value is required",
        "row 5, 单位: empty: a value is required",
    ]
    assert str(caught.value).splitlines() == [
        "s.csv: 4 problems found",
        "  s.csv: row 3, 日期: '2026-13-01' is not a date",
        "  s.csv: row 4, 学校: must be empty in a 调度会 row",
        "  s.csv: row 4, 单位: empty: a value is required",
        "  s.csv: row 5, 单位: empty: a value is required",
    ]


def test_csv_many_problems_are_counted_in_the_message() -> None:
    text = _csv(*[{**VISIT_ROW, "日期": "x"} for _ in range(30)])
    with pytest.raises(InvalidScheduleFile) as caught:
        schedule_from_csv(text, source="s.csv")
    assert len(caught.value.problems) == 30
    assert str(caught.value).splitlines()[-1] == "  … and 10 more"


def test_csv_header_problems() -> None:
    with pytest.raises(InvalidScheduleFile, match=r"s.csv: row 1: missing columns 日期, 学校"):
        schedule_from_csv("编号,类型,季度\n", source="s.csv")
    with pytest.raises(InvalidScheduleFile, match="no header row"):
        schedule_from_csv("", source="s.csv")
    with pytest.raises(InvalidScheduleFile, match="the column 编号 appears twice"):
        schedule_from_csv(",".join([*COLUMNS, "编号"]) + "\n", source="s.csv")
    with pytest.raises(InvalidScheduleFile, match=r"the schedule is empty.*give the year"):
        schedule_from_csv(",".join(COLUMNS) + "\n", source="s.csv")
    assert schedule_from_csv(",".join(COLUMNS) + "\n", year=2026) == _schedule(2026)


def test_csv_reads_what_excel_saves_after_editing(tmp_path: Path) -> None:
    # columns in another order, an extra column, dates as Excel shows them, inspectors
    # separated by commas, English types, empty rows, GB18030 instead of UTF-8
    columns = ["备注", *reversed(COLUMNS)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerow(
        {
            **VISIT_ROW,
            "日期": "2026/3/9",
            "督查人员": "deputy-1, deputy-2",
            "类型": "visit",
            "备注": "雨天",
        }
    )
    writer.writerow({})
    writer.writerow({"编号": "m-1", "类型": "topic_study", "日期": "2026-3-5", "单位": "x"})
    path = tmp_path / "edited.csv"
    path.write_bytes(out.getvalue().encode("gb18030"))
    schedule = read_schedule_csv(path, quarter=1)
    assert schedule == _schedule(
        2026,
        1,
        visits=[Visit("v-1", "s0001", "deputy-1", _d(3, 9), 1, ("deputy-1", "deputy-2"))],
        meetings=[Meeting("m-1", MeetingKind.TOPIC_STUDY, "x", _d(3, 5))],
    )


def test_csv_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidScheduleFile, match=r"missing.csv: cannot read the file"):
        read_schedule_csv(tmp_path / "missing.csv")


# -- Excel ---------------------------------------------------------------------------------


def test_xlsx_layout(tmp_path: Path) -> None:
    path = tmp_path / "schedule.xlsx"
    write_schedule_xlsx(SCHEDULE, path, ORG)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["日程"]
    ws = wb["日程"]
    assert [c.value for c in ws[1]] == list(COLUMNS)
    assert ws.freeze_panes == "A2"
    assert ws[1][0].font.bold
    assert ws.auto_filter.ref == "A1:R8"
    date = ws["C2"]
    assert date.is_date
    assert date.number_format == "yyyy-mm-dd"
    assert date.value == dt.datetime(2026, 3, 10)
    assert ws["D2"].value == 1
    assert ws["F2"].value == "西城街道第一小学"
    assert read_schedule_xlsx(path) == SCHEDULE


def test_xlsx_text_that_looks_like_a_formula_stays_text() -> None:
    meeting = Meeting("m-1", MeetingKind.COORDINATION, "lg", _d(3, 20), 1, "=SUM(A1:A2)")
    data = schedule_to_xlsx(_schedule(2026, meetings=[meeting]))
    ws = openpyxl.load_workbook(io.BytesIO(data))["日程"]
    assert ws["P2"].data_type == "s"
    assert schedule_from_xlsx(data) == _schedule(2026, meetings=[meeting])


def test_xlsx_refuses_a_title_excel_cannot_hold() -> None:
    meeting = Meeting("m-1", MeetingKind.COORDINATION, "lg", _d(3, 20), 1, "调度\x07会")
    with pytest.raises(DualdutyError, match="meeting 'm-1': its title cannot be written to Excel"):
        schedule_to_xlsx(_schedule(2026, meetings=[meeting]))


@settings(max_examples=40, deadline=None)
@given(schedules(excel_texts))
def test_xlsx_round_trip(schedule: Schedule) -> None:
    data = schedule_to_xlsx(schedule, ORG)
    assert schedule_from_xlsx(data, year=schedule.year, quarter=schedule.quarter) == schedule


def _workbook(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "日程"
    ws.append(list(COLUMNS))
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _visit_cells(**change: Any) -> list[Any]:
    row: dict[str, Any] = {**VISIT_ROW, **change}
    return [row.get(c) for c in COLUMNS]


def test_xlsx_reads_cells_as_people_type_them(tmp_path: Path) -> None:
    data = _workbook(
        [
            _visit_cells(日期=dt.date(2026, 3, 10), 季度=1.0, 学校=2026),
            [None] * len(COLUMNS),
            _visit_cells(编号="v-2", 日期="2026/3/11"),
        ]
    )
    schedule = schedule_from_xlsx(data, source="s.xlsx")
    assert [(v.date, v.quarter, v.school) for v in schedule.visits] == [
        (dt.date(2026, 3, 10), 1, "2026"),
        (dt.date(2026, 3, 11), 1, "s0001"),
    ]


def test_xlsx_bad_cells_name_the_row_and_column(tmp_path: Path) -> None:
    data = _workbook(
        [
            _visit_cells(),
            _visit_cells(日期=dt.datetime(2026, 3, 10, 14, 30)),
            _visit_cells(**{"季度": 1.5, "明查/暗访": None}),
        ]
    )
    path = tmp_path / "schedule.xlsx"
    path.write_bytes(data)
    with pytest.raises(InvalidScheduleFile) as caught:
        read_schedule_xlsx(path)
    assert [str(p) for p in caught.value.problems] == [
        "row 3, 日期: '2026-03-10 14:30:00' is not a date (it has a time of day)",
        "row 4, 明查/暗访: empty: write 明查 (announced) or 暗访 (unannounced)",
        "row 4, 季度: 1.5 is not a whole number",
    ]


def test_xlsx_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "schedule.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(
        InvalidScheduleFile, match=r"schedule.xlsx: not an Excel workbook \(.xlsx\)"
    ):
        read_schedule_xlsx(path)


def test_xlsx_reads_the_first_sheet_when_none_is_named_schedule() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(schedule_to_xlsx(SCHEDULE)))
    wb["日程"].title = "Sheet1"
    out = io.BytesIO()
    wb.save(out)
    assert schedule_from_xlsx(out.getvalue()) == SCHEDULE


def test_xlsx_without_openpyxl_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = schedule_to_xlsx(SCHEDULE)
    for name in [m for m in sys.modules if m == "openpyxl" or m.startswith("openpyxl.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl now fails
    path = tmp_path / "schedule.xlsx"
    install = r"needs openpyxl, which is not installed: pip install 'dualduty\[excel\]'"
    with pytest.raises(DualdutyError, match=f"writing Excel files {install}"):
        write_schedule_xlsx(SCHEDULE, path)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DualdutyError, match=f"reading Excel files {install}"):
        schedule_from_xlsx(data)
    # the other formats do not need it
    assert schedule_from_csv(schedule_to_csv(SCHEDULE)) == SCHEDULE


# -- JSON ----------------------------------------------------------------------------------


def test_json_shape() -> None:
    violation = Violation("weekend", "v-1", "三.2", "2026-03-08 is a Sunday")
    data = schedule_to_json(SCHEDULE, [violation])
    assert list(data) == ["year", "quarter", "visits", "meetings", "deadlines", "violations"]
    # the keys `dualduty schedule --format json` promises come first, in this order
    assert list(data["visits"][1])[:7] == [
        "id",
        "school",
        "holder",
        "date",
        "inspectors",
        "announced",
        "joint",
    ]
    assert data["visits"][1] == {
        "id": "v-2",
        "school": "s0001",
        "holder": "deputy-1",
        "date": "2026-03-10",
        "inspectors": ["deputy-1"],
        "announced": False,
        "joint": "regulation-safety",
        "quarter": 1,
    }
    assert list(data["meetings"][0])[:4] == ["id", "kind", "unit", "date"]
    assert data["meetings"][2] == {
        "id": "m-3",
        "kind": "summary",
        "unit": "leading-group",
        "date": "2026-12-28",
        "quarter": None,
        "title": None,
    }
    assert data["deadlines"] == [
        {
            "id": "d-1",
            "kind": "quarter_report",
            "unit": "regulation-safety",
            "due": "2026-03-31",
            "quarter": 1,
            "to": "safety-office",
        }
    ]
    assert data["violations"] == [
        {"kind": "weekend", "subject": "v-1", "clause": "三.2", "message": "2026-03-08 is a Sunday"}
    ]
    assert schedule_to_json(SCHEDULE)["violations"] == []
    assert json.loads(json.dumps(data)) == data  # plain JSON data
    assert schedule_from_json(data) == SCHEDULE


@settings(max_examples=150, deadline=None)
@given(schedules())
def test_json_round_trip(schedule: Schedule) -> None:
    data = json.loads(json.dumps(schedule_to_json(schedule)))
    assert schedule_from_json(data) == schedule


def test_json_reads_the_bare_shape() -> None:
    data = {
        "visits": [
            {
                "id": "v-1",
                "school": "s0001",
                "holder": "deputy-1",
                "date": "2026-05-20",
                "inspectors": ["deputy-1"],
                "announced": True,
                "joint": None,
            }
        ],
        "meetings": [{"id": "m-1", "kind": "coordination", "unit": "lg", "date": "2026-03-20"}],
        "deadlines": [{"id": "d-1", "kind": "quarter_report", "unit": "x", "due": "2026-03-31"}],
        "violations": [],
    }
    assert schedule_from_json(data) == _schedule(
        2026,
        visits=[Visit("v-1", "s0001", "deputy-1", _d(5, 20), 2, ("deputy-1",))],
        meetings=[Meeting("m-1", MeetingKind.COORDINATION, "lg", _d(3, 20))],
        deadlines=[Deadline("d-1", DeadlineKind.QUARTER_REPORT, "x", _d(3, 31))],
    )
    assert schedule_from_json(data, year=2030, quarter=2).year == 2030


def test_json_problems_have_paths() -> None:
    data = schedule_to_json(SCHEDULE)
    data["visits"][0]["date"] = "2026-02-30"
    data["visits"][1]["announced"] = "no"
    data["visits"][2]["inspectors"] = "deputy-1"
    data["meetings"][0]["kind"] = "party"
    data["deadlines"][0]["extra"] = 1
    data["year"] = "2026"
    data["colour"] = "red"
    with pytest.raises(InvalidScheduleFile) as caught:
        schedule_from_json(data, source="s.json")
    assert [str(p) for p in caught.value.problems] == [
        "colour: unknown key 'colour'",
        "visits[0].date: expected a date as YYYY-MM-DD, got '2026-02-30'",
        "visits[1].announced: expected true or false, got str 'no'",
        "visits[2].inspectors: expected a list, got str 'deputy-1'",
        "meetings[0].kind: 'party' is not one of: 'topic_study', 'coordination', 'summary'",
        "deadlines[0].extra: unknown key 'extra'",
        "year: expected a whole number, got str '2026'",
    ]
    with pytest.raises(InvalidScheduleFile, match=r"s.json: visits: expected a list, got dict"):
        schedule_from_json({"visits": {}}, source="s.json")
    with pytest.raises(InvalidScheduleFile, match="expected an object of keys at the top"):
        schedule_from_json([], source="s.json")


def test_json_files(tmp_path: Path) -> None:
    path = tmp_path / "schedule.json"
    violation = Violation("weekend", "v-1", "三.2", "周日")
    write_schedule_json(SCHEDULE, path, [violation])
    text = path.read_text(encoding="utf-8")
    assert "周日" in text  # not \u escapes
    assert json.loads(text) == schedule_to_json(SCHEDULE, [violation])
    assert read_schedule_json(path) == SCHEDULE
    path.write_text("{", encoding="utf-8")
    with pytest.raises(InvalidScheduleFile, match=r"schedule.json: not valid JSON"):
        read_schedule_json(path)
    path.write_bytes(b'{"visits": "\xff"}')
    with pytest.raises(InvalidScheduleFile, match="not UTF-8 text"):
        read_schedule_json(path)


# -- atomic writes -------------------------------------------------------------------------

WRITERS: dict[str, Callable[[Path], None]] = {
    "csv": lambda path: write_schedule_csv(SCHEDULE, path, ORG),
    "xlsx": lambda path: write_schedule_xlsx(SCHEDULE, path, ORG),
    "json": lambda path: write_schedule_json(SCHEDULE, path),
}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_writers_replace_a_file_whole_or_not_at_all(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / f"schedule.{fmt}"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    real = _common._create

    def half(tmp: Path, data: bytes) -> int:
        os.close(real(tmp, data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_common, "_create", half)
    with pytest.raises(DualdutyError, match=f"cannot write .*schedule.{fmt}: No space left"):
        WRITERS[fmt](path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    monkeypatch.setattr(_common, "_create", real)
    WRITERS[fmt](path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_writing_into_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DualdutyError, match=r"cannot write .*schedule.csv: No such file"):
        write_schedule_csv(SCHEDULE, tmp_path / "nowhere" / "schedule.csv")


def test_everything_in_one_calendar_for_the_office() -> None:
    files = schedule_to_ics(SCHEDULE, ORG, stamp=STAMP, people=False, units=False, everything=True)
    assert list(files) == ["schedule.ics"]
    cal = icalendar.Calendar.from_ical(files["schedule.ics"])
    uids = {str(e["UID"]) for e in cal.walk("VEVENT")}
    expected = (
        {f"visit-{v.id}@{ORG.id}.dualduty" for v in SCHEDULE.visits}
        | {f"meeting-{m.id}@{ORG.id}.dualduty" for m in SCHEDULE.meetings}
        | {f"deadline-{d.id}@{ORG.id}.dualduty" for d in SCHEDULE.deadlines}
    )
    assert uids == expected
