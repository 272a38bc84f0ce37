"""Duty cards (一岗双责责任清单, issue 11 item 3): what one person answers for in a year."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import docx
import pytest

import dualduty
import scoring_year as year_data
from dualduty.calendars import calendar_for
from dualduty.cli import main
from dualduty.io import from_data
from dualduty.model import Duty, DutyKind, Organisation, Role, Schedule
from dualduty.planning import plan_schedule
from dualduty.records import Recorder
from dualduty.reports import _docx
from dualduty.reports._docx import DocumentError, MissingDocx
from dualduty.reports.cards import (
    DutyCard,
    card_docx,
    card_html,
    card_markdown,
    duty_card,
    duty_cards,
    year_organisation,
)
from dualduty.storage import open_store
from dualduty.storage.store import Store

ORG = dualduty.reference_organisation(schools=30)
SCHEDULE = plan_schedule(ORG, calendar_for(ORG, [2026]), 2026)
NOW = dt.datetime(2026, 3, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def posts_of(org: Organisation, person: str) -> set[str]:
    return {p.id for _u, p in org.iter_posts() if p.holder == person}


def a_reference_deputy(org: Organisation) -> tuple[str, str]:
    """(post id, person id) of the first deputy the organisation puts in charge of sections."""
    roles = {p.id: p for _u, p in org.iter_posts()}
    edge = next(e for e in org.in_charge if roles[e.post].role is Role.DEPUTY)
    holder = roles[edge.post].holder
    assert holder is not None
    return edge.post, holder


def docx_text(path: Path) -> str:
    """Every paragraph and table cell of a Word file, as python-docx reads it."""
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


# -- what a card holds ------------------------------------------------------------------------


def test_a_reference_deputy_card_lists_exactly_their_sections_schools_and_visits() -> None:
    post, person = a_reference_deputy(ORG)
    card = duty_card(ORG, person, 2026, schedule=SCHEDULE)

    sections = [u for e in ORG.in_charge if e.post == post for u in e.units]
    schools = {s for p in ORG.packages if p.holder == post for s in p.schools}
    visits = sorted(
        (v for v in SCHEDULE.visits if post in v.inspectors), key=lambda v: (v.date, v.id)
    )
    assert sections
    assert schools
    assert visits
    assert [s.unit.id for s in card.sections] == sections
    assert {s.school for s in card.schools} == schools
    assert [v.visit for v in card.visits] == [v.id for v in visits]
    assert {v.post for v in card.visits} == {post}
    assert card.figures()["visits"] == len(visits) == len(schools) * 2 * 4
    # a deputy's duties: the leading group's and the deputy's own (二(一), 二(二).副组长)
    clauses = [d.clause for p in card.posts for d in p.general]
    assert clauses == ["二(一).1", "二(一).2", "二(一).3", "二(二).副组长"]


def test_the_section_head_of_a_deputy_section_is_named_on_the_deputy_card() -> None:
    post, person = a_reference_deputy(ORG)
    card = duty_card(ORG, person, 2026, schedule=SCHEDULE)
    graph = dualduty.OrgGraph(ORG)
    for line in card.sections:
        head = graph.head_of(line.unit.id)
        assert head is not None
        assert line.head == head
        holder = graph.holder_of(head.id)
        assert holder is not None
        assert line.head_name == holder.name
        assert line.post == post


def test_a_section_card_pairs_each_line_of_business_with_its_safety_duties() -> None:
    head = next(p for p in ORG.units if p.id == "planning").posts[0]
    assert head.holder is not None
    card = duty_card(ORG, head.holder, 2026, schedule=SCHEDULE)
    [entry] = card.posts
    assert entry.unit.id == "planning"
    assert not entry.acting
    assert [(p.area.id if p.area else None, [d.id for d in p.safety]) for p in entry.pairs] == [
        ("school-buildings", ["planning.1"]),
        ("construction", ["planning.2", "planning.3", "planning.4"]),
    ]
    assert entry.unpaired == ()
    assert [d.clause for d in entry.general] == ["二(三).1", "二(三).2", "二(三).3", "二(三).4"]
    # the head answers for the section's packages; its staff make the visits
    section_schools = {s for p in ORG.packages if p.holder == "planning" for s in p.schools}
    assert {s.school for s in card.schools} == section_schools
    assert card.visits == ()
    text = card_markdown(card)
    for duty in next(u for u in ORG.units if u.id == "planning").duties:
        assert duty.text in text


def test_unpaired_business_is_listed_as_it_is(district_data: dict[str, Any]) -> None:
    planning = district_data["units"][3]
    planning["areas"].append({"id": "exams", "name": "考试招生"})
    planning["duties"].append(
        {
            "id": "planning.b1",
            "text": "负责校舍建设规划。",
            "clause": "本地.规划科.1",
            "kind": "business",
            "area": "buildings",
        }
    )
    planning["duties"].append(
        {
            "id": "planning.b2",
            "text": "负责学区划分。",
            "clause": "本地.规划科.2",
            "kind": "business",
        }
    )
    planning["posts"][0]["holder"] = "zhao2"
    district_data["people"].append({"id": "zhao2", "name": "赵二"})
    org = from_data(district_data)
    schedule = plan_schedule(org, calendar_for(org, [2026]), 2026)
    card = duty_card(org, "zhao2", 2026, schedule=schedule)
    [entry] = card.posts
    by_area = {p.area.id if p.area else None: p for p in entry.pairs}
    assert [d.id for d in by_area["buildings"].business] == ["planning.b1"]
    assert [d.id for d in by_area["buildings"].safety] == ["planning.1"]
    assert by_area["buildings"].paired
    assert not by_area["exams"].paired  # a line of business with no safety duty
    assert [d.id for d in by_area[None].business] == ["planning.b2"]
    assert {id(p) for p in entry.unpaired} == {id(by_area["exams"]), id(by_area[None])}
    text = card_markdown(card)
    assert "考试招生 | （无对应的安全职责）" in text
    assert "未配对：考试招生、负责学区划分。" in text
    assert card.figures()["unpaired"] == 2


def test_meetings_are_those_each_person_attends() -> None:
    graph = dualduty.OrgGraph(ORG)
    planning = graph.unit("planning")
    head, staff = planning.posts[0], planning.posts[1]
    assert head.holder is not None
    assert staff.holder is not None
    topic = {
        m.id for m in SCHEDULE.meetings if m.kind.value == "topic_study" and m.unit == "planning"
    }
    plenary = {m.id for m in SCHEDULE.meetings if m.kind.value != "topic_study"}
    assert len(topic) == 8
    assert len(plenary) == 5
    head_card = duty_card(ORG, head.holder, 2026, schedule=SCHEDULE)
    staff_card = duty_card(ORG, staff.holder, 2026, schedule=SCHEDULE)
    assert {m.meeting for m in head_card.meetings} == topic | plenary
    assert {m.meeting for m in staff_card.meetings} == topic
    # staff make the section's visits, each school by one of them
    mine = {v.id for v in SCHEDULE.visits if staff.id in v.inspectors}
    assert {v.visit for v in staff_card.visits} == mine
    assert mine
    deputy_card = duty_card(ORG, a_reference_deputy(ORG)[1], 2026, schedule=SCHEDULE)
    assert {m.meeting for m in deputy_card.meetings} == plenary


def test_the_office_head_card_shows_the_office_it_directs() -> None:
    card = duty_card(ORG, "p007", 2026, schedule=SCHEDULE)
    assert [(p.unit.id, p.acting) for p in card.posts] == [
        ("regulation-safety", False),
        ("safety-office", True),
    ]
    text = card_markdown(card)
    assert "法规安全科 法规安全科科长（兼任学校安全稳定工作领导小组办公室负责人）" in text
    assert {m.why for m in card.meetings if m.kind.value != "topic_study"} == {
        "领导小组办公室负责人"
    }


def test_cards_of_a_unit_and_of_everyone() -> None:
    cards = duty_cards(ORG, 2026, unit="planning", schedule=SCHEDULE)
    planning = next(u for u in ORG.units if u.id == "planning")
    assert [c.person.id for c in cards] == [p.holder for p in planning.posts]
    office = duty_cards(ORG, 2026, unit="safety-office", schedule=SCHEDULE)
    assert [c.person.id for c in office] == ["p007"]  # its head, a post of its seat
    everyone = duty_cards(ORG, 2026, schedule=SCHEDULE)
    holders = list(dict.fromkeys(p.holder for _u, p in ORG.iter_posts() if p.holder))
    assert [c.person.id for c in everyone] == holders
    with pytest.raises(DocumentError, match="no unit 'nowhere'"):
        duty_cards(ORG, 2026, unit="nowhere", schedule=SCHEDULE)


def test_unknown_person_and_a_schedule_of_another_year_are_refused() -> None:
    with pytest.raises(
        DocumentError, match="no person 'nobody' in organisation 'reference-bureau'"
    ):
        duty_card(ORG, "nobody", 2026, schedule=SCHEDULE)
    with pytest.raises(DocumentError, match="the schedule is for 2026, not 2027"):
        duty_card(ORG, "p001", 2027, schedule=SCHEDULE)


def test_the_schedule_is_planned_when_none_is_given() -> None:
    planned = duty_card(ORG, "p002", 2026)
    given = duty_card(ORG, "p002", 2026, schedule=SCHEDULE)
    assert planned == given


def test_a_package_of_part_of_the_year_is_on_the_card_with_its_dates() -> None:
    post, person = a_reference_deputy(ORG)
    packages = [
        attrs.evolve(p, start=dt.date(2026, 7, 1)) if p.holder == post else p for p in ORG.packages
    ]
    org = attrs.evolve(ORG, packages=packages)
    card = duty_card(org, person, 2026, schedule=SCHEDULE)
    assert card.schools
    assert all(s.start == dt.date(2026, 7, 1) for s in card.schools)
    assert "2026年7月1日起" in card_markdown(card)
    gone = [
        attrs.evolve(p, end=dt.date(2025, 12, 31)) if p.holder == post else p for p in ORG.packages
    ]
    assert (
        duty_card(attrs.evolve(ORG, packages=gone), person, 2026, schedule=SCHEDULE).schools == ()
    )


# -- hazards ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def year_store() -> Iterator[Store]:
    """The hand-built year of ``tests/scoring_year.py`` (the reference organisation, 3 schools)."""
    with open_store("memory:") as store:
        year_data.build(store)
        yield store


def test_without_a_record_the_card_says_no_hazards_were_read() -> None:
    card = duty_card(ORG, "p002", 2026, schedule=SCHEDULE)
    assert card.hazards is None
    assert "生成本清单时未提供工作记录，未列出隐患。" in card_markdown(card)


def test_open_hazards_the_person_answers_for(year_store: Store) -> None:
    org, schedule = year_data.ORG, year_data.SCHEDULE
    card = duty_card(
        org, year_data.HEAD, 2026, schedule=schedule, store=year_store, now=year_data.NOW
    )
    assert card.hazards is not None
    # the major hazard at s0002 has no plan yet: the head of its section answers for it
    [line] = card.hazards
    assert line.school == year_data.SCHOOL
    assert line.severity.value == "major"
    assert line.why == "科室负责人（尚无整改方案）"
    assert line.missed == ("plan",)
    assert line.overdue
    assert line.description in card_markdown(card)
    assert card.as_of == dt.date(2027, 1, 10)
    # the staff answer for nothing open (the closed hazards' plans named the head)
    staff = duty_card(
        org, year_data.STAFF, 2026, schedule=schedule, store=year_store, now=year_data.NOW
    )
    assert staff.hazards == ()
    assert "截至2027年1月10日，无本人负责或督办的未销号隐患。" in card_markdown(staff)
    # as of before it was found, nobody answers for it
    early = dt.datetime(2026, 10, 1, tzinfo=year_data.ZONE)
    assert (
        duty_card(org, year_data.HEAD, 2026, schedule=schedule, store=year_store, now=early).hazards
        == ()
    )


def test_an_escalated_hazard_is_on_the_card_of_the_post_it_reached(tmp_path: Path) -> None:
    org, schedule = year_data.ORG, year_data.SCHEDULE
    with open_store(f"sqlite:///{tmp_path / 'year.db'}") as store:
        recorder: Recorder = year_data.build(store)
        escalated = recorder.hazards.escalate_overdue(year_data.NOW, actor=year_data.OFFICE_HEAD)
        assert len(escalated) == 1
        graph = dualduty.OrgGraph(org)
        [deputy_post] = graph.in_charge_of(year_data.UNIT)
        assert deputy_post.holder is not None
        later = year_data.NOW + dt.timedelta(hours=1)
        card = duty_card(org, deputy_post.holder, 2026, schedule=schedule, store=store, now=later)
    assert card.hazards is not None
    [line] = card.hazards
    assert line.hazard == escalated[0].id
    assert line.why == f"督办（第1级：{deputy_post.title}）"


# -- rendering --------------------------------------------------------------------------------


def test_a_docx_card_opens_with_python_docx_and_holds_the_name_and_duties(tmp_path: Path) -> None:
    head = next(u for u in ORG.units if u.id == "planning").posts[0]
    assert head.holder is not None
    card = duty_card(ORG, head.holder, 2026, schedule=SCHEDULE)
    path = tmp_path / "card.docx"
    path.write_bytes(card_docx(card))
    text = docx_text(path)
    assert card.person.name in text
    for entry in card.posts:
        for duty in entry.duties:
            assert duty.text in text
    document = docx.Document(str(path))
    assert document.core_properties.title == card.title
    assert document.paragraphs[0].style is not None
    assert document.paragraphs[0].style.name == "Title"
    assert len(document.tables) == len([b for b in card.blocks() if isinstance(b, _docx.Table)])


def test_the_same_card_gives_the_same_bytes() -> None:
    card = duty_card(ORG, "p002", 2026, schedule=SCHEDULE)
    assert card_docx(card) == card_docx(card)
    assert card_html(card) == card_html(card)


def _evil_org() -> tuple[Organisation, Schedule]:
    people = [
        attrs.evolve(p, name="<script>alert(1)</script>*王*|五") if p.id == "p002" else p
        for p in ORG.people
    ]
    schools = [
        attrs.evolve(s, name="A|B <b>学校</b> & 1. _x_") if s.id == "s0006" else s
        for s in ORG.schools
    ]
    org = attrs.evolve(ORG, people=people, schools=schools)
    return org, plan_schedule(org, calendar_for(org, [2026]), 2026)


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_names_are_escaped_in_markdown_and_html(tmp_path: Path) -> None:
    org, schedule = _evil_org()
    card = duty_card(org, "p002", 2026, schedule=schedule)
    assert any(s.school == "s0006" for s in card.schools)
    html = card_html(card)
    assert "<script>" not in html
    assert "<b>学校</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;*王*|五" in html
    assert "A|B &lt;b&gt;学校&lt;/b&gt; &amp; 1. _x_" in html
    md = card_markdown(card)
    assert "\\<script\\>alert(1)\\</script\\>\\*王\\*\\|五" in md
    rows = [line for line in md.splitlines() if "s0006" in line]
    assert rows
    for row in rows:  # the school's name does not split its table row
        header = next(
            line
            for line in reversed(md[: md.index(row)].splitlines())
            if line.startswith("| ") and "---" not in line and "s0006" not in line
        )
        assert unescaped_pipes(row) == unescaped_pipes(header)
    path = tmp_path / "evil.docx"
    path.write_bytes(card_docx(card))
    assert "<script>alert(1)</script>*王*|五" in docx_text(path)


def test_text_xml_cannot_hold_is_dropped_from_word(tmp_path: Path) -> None:
    people = [attrs.evolve(p, name="王\x07五") if p.id == "p002" else p for p in ORG.people]
    card = duty_card(attrs.evolve(ORG, people=people), "p002", 2026, schedule=SCHEDULE)
    path = tmp_path / "card.docx"
    path.write_bytes(card_docx(card))
    assert "王五" in docx_text(path)


def test_word_without_python_docx_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    card = duty_card(ORG, "p002", 2026, schedule=SCHEDULE)
    _docx._template.cache_clear()
    monkeypatch.setitem(__import__("sys").modules, "docx", None)
    try:
        with pytest.raises(MissingDocx, match=r"pip install 'dualduty\[docx\]'"):
            card_docx(card)
    finally:
        monkeypatch.undo()
        _docx._template.cache_clear()
    assert card_docx(card)  # back again


def test_business_duties_of_the_leading_group_are_paired_too() -> None:
    group = next(u for u in ORG.units if u.kind.value == "leading_group")
    business = Duty("lg.b1", "统筹全区教育事业发展。", "本地.1", kind=DutyKind.BUSINESS)
    org = attrs.evolve(
        ORG,
        units=[
            attrs.evolve(u, duties=(*u.duties, business)) if u is group else u for u in ORG.units
        ],
    )
    card: DutyCard = duty_card(org, "p001", 2026, schedule=SCHEDULE)
    [entry] = card.posts
    assert [(p.area, [d.id for d in p.business]) for p in entry.unpaired] == [(None, ["lg.b1"])]


# -- the command ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cards")
    org_file = folder / "bureau.toml"
    dualduty.dump(year_data.ORG, org_file)
    db = folder / "records.db"
    with open_store(f"sqlite:///{db}") as store:
        year_data.build(store)
    return {"org": str(org_file), "db": f"sqlite:///{db}", "dir": str(folder)}


def test_card_command_prints_one_card(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["card", "--org", files["org"], "--person", "p010", "--year", "2026"])
    out, err = capsys.readouterr()
    assert status == 0
    assert err == ""
    name = next(p.name for p in year_data.ORG.people if p.id == "p010")
    assert out.startswith(f"# {name} 学校安全稳定工作“一岗双责”责任清单（2026年）")
    assert "生成本清单时未提供工作记录" in out


def test_card_command_reads_the_record(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "card",
        "--org",
        files["org"],
        "--db",
        files["db"],
        "--person",
        "p010",
        "--year",
        "2026",
    ]
    status = main([*args, "--now", "2027-01-10T09:00:00+08:00", "--format", "html"])
    out, _ = capsys.readouterr()
    assert status == 0
    assert out.startswith("<!DOCTYPE html>")
    assert "教学楼外墙开裂" in out


def test_card_command_refuses_an_unknown_person(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["card", "--org", files["org"], "--person", "nobody", "--year", "2026"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err == "dualduty: no person 'nobody' in organisation 'reference-bureau'\n"
    status = main(["card", "--org", files["org"], "--unit", "nowhere", "--year", "2026"])
    assert status == 2
    assert "no unit 'nowhere'" in capsys.readouterr().err


def test_card_command_writes_word_files_for_everyone(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "cards"
    args = ["card", "--org", files["org"], "--all", "--year", "2026", "--format", "docx"]
    status = main([*args, "-o", str(out_dir)])
    _, err = capsys.readouterr()
    assert status == 0
    holders = list(dict.fromkeys(p.holder for _u, p in year_data.ORG.iter_posts() if p.holder))
    written = sorted(out_dir.iterdir())
    assert [p.name for p in written] == sorted(f"card-{h}-2026.docx" for h in holders)
    assert f"{len(holders)} duty card(s) written to {out_dir}" in err
    name = next(p.name for p in year_data.ORG.people if p.id == holders[0])
    assert name in docx_text(out_dir / f"card-{holders[0]}-2026.docx")


def test_card_command_writes_one_word_file_by_its_suffix(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p013.docx"
    status = main(
        ["card", "--org", files["org"], "--person", "p013", "--year", "2026", "-o", str(path)]
    )
    out, err = capsys.readouterr()
    assert status == 0
    assert out == ""
    assert err.startswith(f"{path}: ")
    assert "政教科" in docx_text(path)


def test_card_command_writes_a_unit_into_a_directory(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "card",
            "--org",
            files["org"],
            "--unit",
            "general-office",
            "--year",
            "2026",
            "-o",
            str(tmp_path),
        ]
    )
    capsys.readouterr()
    assert status == 0
    assert sorted(p.name for p in tmp_path.glob("*.md")) == [
        "card-p010-2026.md",
        "card-p011-2026.md",
        "card-p012-2026.md",
    ]
    not_a_dir = tmp_path / "card-p010-2026.md"
    status = main(
        [
            "card",
            "--org",
            files["org"],
            "--unit",
            "general-office",
            "--year",
            "2026",
            "-o",
            str(not_a_dir),
        ]
    )
    assert status == 2
    assert "not a directory" in capsys.readouterr().err


def test_now_needs_a_time_zone(year_store: Store) -> None:
    with pytest.raises(DocumentError, match="must be a date and time with a time zone"):
        duty_card(
            ORG, "p002", 2026, schedule=SCHEDULE, store=year_store, now=dt.datetime(2026, 5, 1)
        )


# -- as of a date: the record's changes to the organisation -------------------------------------

SMALL = year_data.ORG  # the reference organisation with three schools
ZONE = year_data.ZONE
END = dt.datetime(2026, 12, 31, 18, tzinfo=ZONE)
JUNE = dt.datetime(2026, 6, 15, 9, tzinfo=ZONE)


@pytest.fixture(scope="module")
def moved_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A record of changes: 办公室's package of s0002 goes to 政教科 on 30 June, and
    政教科's first staff post passes from p014 to a newcomer, p090, on 1 July."""
    path = tmp_path_factory.mktemp("moved") / "records.db"
    with open_store(f"sqlite:///{path}") as store:
        changes = Recorder(store, SMALL).org_changes
        at = dt.datetime(2026, 6, 20, 9, tzinfo=ZONE)
        changes.set_package(
            "pkg-general-office", "moral-education", dt.date(2026, 6, 30), actor="p001",
            schools=["s0002"], reason="分包调整", at=at,
        )  # fmt: skip
        changes.join("p090", "钱立新", dt.date(2026, 7, 1), actor="p001", at=at)
        changes.assign("moral-education.staff-1", "p090", dt.date(2026, 7, 1), actor="p001", at=at)
        yield store


def dated_schedule(store: Store, now: dt.datetime) -> Schedule:
    """The schedule planned from the organisation with the record's changes."""
    org = year_organisation(SMALL, store, 2026, now=now)
    return plan_schedule(org, calendar_for(org, [2026]), 2026)


def test_a_package_moved_mid_year_is_on_both_sections_cards_with_its_dates(
    moved_store: Store,
) -> None:
    schedule = dated_schedule(moved_store, END)
    new_head = duty_card(SMALL, year_data.MORAL_HEAD, 2026, store=moved_store, now=END)
    assert [(s.school, s.holder, s.start, s.end) for s in new_head.schools] == [
        ("s0002", "moral-education", dt.date(2026, 6, 30), None),
        ("s0003", "moral-education", None, None),
    ]
    assert "2026年6月30日起" in card_markdown(new_head)
    old_head = duty_card(SMALL, year_data.HEAD, 2026, store=moved_store, now=END)
    assert [(s.school, s.holder, s.start, s.end) for s in old_head.schools] == [
        ("s0002", "general-office", None, dt.date(2026, 6, 29)),
    ]
    assert "至2026年6月29日" in card_markdown(old_head)
    # the visits of s0002 follow the package: 办公室's until the move, 政教科's after
    moral_visits = [
        v for p in ("p090", "p015") for v in duty_card(
            SMALL, p, 2026, store=moved_store, now=END
        ).visits if v.school == "s0002"
    ]  # fmt: skip
    assert {v.quarter for v in moral_visits} == {3, 4}
    assert {v.holder for v in moral_visits} == {"moral-education"}
    assert len(moral_visits) == 4
    office_visits = duty_card(SMALL, year_data.STAFF_2, 2026, store=moved_store, now=END).visits
    expected = [v.id for v in schedule.visits if "general-office.staff-2" in v.inspectors]
    assert [v.visit for v in office_visits] == expected
    assert {v.quarter for v in office_visits} <= {1, 2}
    # the same organisation without the record: 办公室 holds s0002 all year
    assert [s.school for s in duty_card(SMALL, year_data.MORAL_HEAD, 2026).schools] == ["s0003"]


def test_a_post_handed_over_is_on_the_successor_s_card_from_that_day(
    moved_store: Store,
) -> None:
    successor = duty_card(SMALL, "p090", 2026, store=moved_store, now=END)
    assert [(p.post.id, p.post.since) for p in successor.posts] == [
        ("moral-education.staff-1", dt.date(2026, 7, 1))
    ]
    assert successor.held_on == dt.date(2026, 12, 31)
    assert successor.visits  # staff-1's visits from 1 July on
    assert all(v.date >= dt.date(2026, 7, 1) for v in successor.visits)
    schedule = dated_schedule(moved_store, END)
    assert [v.visit for v in successor.visits] == [
        v.id
        for v in schedule.visits
        if "moral-education.staff-1" in v.inspectors and v.date >= dt.date(2026, 7, 1)
    ]
    text = card_markdown(successor)
    assert "- 岗位：政教科 政教科科员（截至2026年12月31日）" in text
    assert "### 政教科 政教科科员（2026年7月1日起）" in text
    # the predecessor holds no post at the year's end; in June they held it
    assert duty_card(SMALL, year_data.MORAL_STAFF, 2026, store=moved_store, now=END).posts == ()
    june = duty_card(SMALL, year_data.MORAL_STAFF, 2026, store=moved_store, now=JUNE)
    assert [p.post.id for p in june.posts] == ["moral-education.staff-1"]
    # the record already says they pass it on on 1 July: their visits end the day before
    assert june.posts[0].until == dt.date(2026, 6, 30)
    staff_1 = [v for v in schedule.visits if "moral-education.staff-1" in v.inspectors]
    assert any(v.date > dt.date(2026, 6, 30) for v in staff_1)
    assert [v.visit for v in june.visits] == [
        v.id for v in staff_1 if v.date <= dt.date(2026, 6, 30)
    ]
    assert "### 政教科 政教科科员（至2026年6月30日）" in card_markdown(june)
    assert june.held_on == dt.date(2026, 6, 15)
    # a card made after the year reads the posts on its last day, before it on its first
    after = dt.datetime(2027, 3, 1, 9, tzinfo=ZONE)
    assert duty_card(SMALL, "p090", 2026, store=moved_store, now=after).held_on == dt.date(
        2026, 12, 31
    )
    before = dt.datetime(2025, 11, 1, 9, tzinfo=ZONE)
    early = duty_card(SMALL, year_data.MORAL_STAFF, 2026, store=moved_store, now=before)
    assert early.held_on == dt.date(2026, 1, 1)
    assert [p.post.id for p in early.posts] == ["moral-education.staff-1"]
    # the unit's cards: the holders at the year's end
    people = [c.person.id for c in duty_cards(SMALL, 2026, unit="moral-education",
                                              store=moved_store, now=END)]  # fmt: skip
    assert people == ["p013", "p090", "p015"]
    everyone = {c.person.id for c in duty_cards(SMALL, 2026, store=moved_store, now=END)}
    assert "p090" in everyone
    assert "p014" not in everyone


def test_year_organisation_without_changes_is_the_organisation_itself(
    moved_store: Store,
) -> None:
    assert year_organisation(SMALL, None, 2026) is SMALL
    with open_store("memory:") as empty:
        assert year_organisation(SMALL, empty, 2026, now=END) is SMALL
    dated = year_organisation(SMALL, moved_store, 2026, now=END)
    assert dated is not SMALL
    assert year_organisation(dated, moved_store, 2026, now=END) is dated
    assert {p.id for p in dated.packages} >= {
        "pkg-general-office",
        "pkg-general-office.until-2026-06-29",
    }
    with pytest.raises(DocumentError, match="must be a date and time with a time zone"):
        year_organisation(SMALL, moved_store, 2026, now=dt.datetime(2026, 5, 1))


def test_card_command_with_a_record_plans_from_the_changed_organisation(
    moved_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org_file = tmp_path / "bureau.toml"
    dualduty.dump(SMALL, org_file)
    args = ["card", "--org", str(org_file), "--db", moved_store.url, "--year", "2026"]
    status = main([*args, "--person", "p090", "--now", END.isoformat()])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    card = duty_card(
        SMALL, "p090", 2026, schedule=dated_schedule(moved_store, END), store=moved_store, now=END
    )
    assert out == card_markdown(card)
    assert "南关街道第一初级中学（s0002）" in out
    status = main([*args, "--unit", "moral-education", "--now", END.isoformat(),
                   "-o", str(tmp_path / "cards")])  # fmt: skip
    capsys.readouterr()
    assert status == 0
    assert sorted(p.name for p in (tmp_path / "cards").iterdir()) == [
        "card-p013-2026.md",
        "card-p015-2026.md",
        "card-p090-2026.md",
    ]
