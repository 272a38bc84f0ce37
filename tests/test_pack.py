"""The quarterly coordination meeting pack (调度会材料, 三.3; issue 11 item 5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import attrs
import docx
import pytest

import dualduty
import scoring_year as Y
from dualduty.cli import main
from dualduty.records import Recorder
from dualduty.records.compliance import Compliance, compliance
from dualduty.reports._docx import DocumentError
from dualduty.reports.pack import MeetingPack, meeting_pack, pack_docx, pack_html, pack_markdown
from dualduty.storage import open_store
from dualduty.storage.store import Store


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    """The hand-built year of ``tests/scoring_year.py`` (three sections, every figure known)."""
    with open_store("memory:") as s:
        Y.build(s)
        yield s


@pytest.fixture(scope="module")
def view(store: Store) -> Compliance:
    return compliance(store, Y.ORG, Y.SCHEDULE, now=Y.NOW)


def pack(store: Store, quarter: int, org: dualduty.Organisation = Y.ORG) -> MeetingPack:
    return meeting_pack(store, org, 2026, quarter, schedule=Y.SCHEDULE, now=Y.NOW)


@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
def test_each_section_s_figures_are_the_compliance_view_s(
    store: Store, view: Compliance, quarter: int
) -> None:
    found = pack(store, quarter)
    assert [r.holder for r in found.sections] == [u.id for u in dualduty.OrgGraph(Y.ORG).sections()]
    for row in found.sections:
        expected = view.section(row.holder, quarter)
        counts = expected.visits.counts()
        assert (row.due, row.done, row.late, row.missed, row.pending, row.ad_hoc) == (
            counts["due"],
            counts["done"],
            counts["late"],
            counts["missed"],
            counts["pending"],
            counts["ad_hoc"],
        )
        assert row.topic_held == len(expected.topic_studies.held)
        assert row.topic_required == expected.topic_studies.required
        assert row.topic_status == expected.topic_studies.status.value
        assert row.report == expected.reports[0].status.value
        assert (row.hazards_found, row.hazards_closed, row.hazards_open, row.hazards_overdue) == (
            len(expected.hazards.found),
            len(expected.hazards.closed),
            len(expected.hazards.open),
            len(expected.hazards.overdue),
        )
    members = {r.holder: r for r in found.members}
    for holder in view.holders:
        if holder.kind == "post" and holder.quarter == quarter:
            assert members[holder.holder].due == len(holder.visits.due)
            assert members[holder.holder].done == len(holder.visits.done)


def test_the_fourth_quarter_by_hand(store: Store) -> None:
    q4 = pack(store, 4)
    office = next(r for r in q4.sections if r.holder == Y.UNIT)
    moral = next(r for r in q4.sections if r.holder == Y.MORAL)
    # the general office: Q4's first visit done, its second after the year (late); two
    # topic studies; its Q4 report never came
    assert (office.due, office.done, office.late, office.missed) == (2, 1, 1, 0)
    assert (office.topic_held, office.topic_status, office.report) == (2, "met", "missing")
    assert (moral.due, moral.done, moral.late, moral.report) == (2, 1, 1, "on_time")
    # district-wide hazards: the major one (1 Nov, no plan: overdue) and 政教科's (8 Oct,
    # closed 30 Oct)
    assert q4.hazards == {"found": 2, "major": 1, "closed": 1, "open": 1, "overdue": 1}
    [overdue] = q4.overdue
    assert overdue.school == Y.SCHOOL
    assert overdue.major
    assert overdue.found_on == dt.date(2026, 11, 1)
    assert overdue.missed == ("plan",)
    assert overdue.sections == ("办公室",)
    assert overdue.responsible == dualduty.OrgGraph(Y.ORG).person(Y.HEAD).name
    assert q4.incidents == ()
    assert q4.held == ()  # Q4's coordination meeting was not held
    assert [m[0] for m in q4.meetings] == [
        m.id for m in Y.SCHEDULE.meetings if m.kind.value == "coordination" and m.quarter == 4
    ]


def test_the_agenda_puts_the_overdue_hazard_first(store: Store) -> None:
    q4 = pack(store, 4)
    first = q4.agenda[0]
    assert first.title == "督办逾期未整改隐患"
    assert q4.overdue[0].hazard in first.detail
    assert "（其中重大1处）" in first.detail
    assert q4.agenda[1].title == "通报第四季度学校安全稳定工作情况"
    assert q4.agenda[-1].title == "部署年终考核和下年度工作"
    text = pack_markdown(q4)
    assert f"| 1 | 督办逾期未整改隐患 | 逾期隐患1处（其中重大1处）：{q4.overdue[0].hazard}" in text
    assert "教学楼外墙开裂" in text


def test_the_second_quarter_lists_the_incident_and_the_late_report(store: Store) -> None:
    q2 = pack(store, 2)
    [incident] = q2.incidents
    assert incident.title == "学生坠楼"
    assert incident.responsible is True
    assert incident.flags == ("漏报",)
    assert incident.sections == ("办公室",)
    late = [r for r in q2.reports if r.unit == Y.UNIT]
    assert [(r.quarter, r.status, r.submitted_on) for r in late] == [
        (2, "late", dt.date(2026, 7, 3))
    ]
    assert [a.title for a in q2.agenda][:2] == [
        "通报第二季度学校安全稳定工作情况",
        "通报事故（事件）及调查处置情况",
    ]
    assert "其中1起存在迟报、漏报或瞒报" in q2.agenda[1].detail
    text = pack_markdown(q2)
    assert "| 办公室 | 第二季度 | 2026年6月30日 | 逾期报送 | 2026年7月3日 |" in text


def test_the_third_quarter_s_shortfalls_are_on_the_agenda(store: Store) -> None:
    q3 = pack(store, 3)
    office = next(r for r in q3.sections if r.holder == Y.UNIT)
    assert (office.topic_held, office.topic_status) == (1, "short")
    assert q3.held  # Q3's coordination meeting was held
    titles = {a.title: a for a in q3.agenda}
    assert "办公室" in titles["专题研究未达标情况"].detail
    assert titles["部署第四季度学校安全稳定工作"].detail.startswith(
        f"下季度日程安排专门督查{sum(1 for v in Y.SCHEDULE.visits if v.quarter == 4)}次"
    )
    assert q3.figures()["topic_studies_short"] == sum(
        1 for r in q3.sections if r.topic_status == "short"
    )


def test_changes_of_responsibility_the_organisation_dates(store: Store) -> None:
    q3 = pack(store, 3)
    assert q3.changes == ()
    assert not q3.changes_known
    assert "无从判断本季度有无责任变更" in pack_markdown(q3)
    units = [
        attrs.evolve(
            u,
            posts=[
                attrs.evolve(p, since=dt.date(2026, 8, 3)) if p.id == f"{Y.UNIT}.head" else p
                for p in u.posts
            ],
        )
        for u in Y.ORG.units
    ]
    packages = [
        attrs.evolve(p, end=dt.date(2026, 9, 30)) if p.holder == Y.MORAL else p
        for p in Y.ORG.packages
    ]
    org = attrs.evolve(Y.ORG, units=units, packages=packages)
    dated = pack(store, 3, org)
    head = dualduty.OrgGraph(org).person(Y.HEAD).name
    assert [(c.date, c.subject) for c in dated.changes] == [
        (dt.date(2026, 8, 3), f"post:{Y.UNIT}.head"),
        (dt.date(2026, 9, 30), f"package:pkg-{Y.MORAL}"),
    ]
    assert dated.changes[0].what == f"办公室办公室主任由{head}担任"
    assert dated.changes_known
    assert any(a.title == "通报责任变更及工作交接" for a in dated.agenda)
    later = pack(store, 4, org)
    assert later.changes == ()
    assert later.changes_known
    assert "没有落在本季度的责任变更" in pack_markdown(later)


def test_coverage_gaps_at_the_quarter_s_end(store: Store) -> None:
    units = [
        attrs.evolve(
            u,
            posts=[
                attrs.evolve(p, holder=None) if p.id == f"{Y.MORAL}.head" else p for p in u.posts
            ],
        )
        for u in Y.ORG.units
    ]
    org = attrs.evolve(Y.ORG, units=units)
    found = pack(store, 4, org)
    errors = [g for g in found.gaps if g.severity == "error"]
    assert errors
    assert any(Y.MORAL in g.subject or Y.MORAL in g.message for g in found.gaps)
    assert any(a.title == "研究解决责任覆盖缺口" for a in found.agenda)
    assert pack(store, 4).gaps == ()


def test_a_quarter_out_of_range_or_a_schedule_of_another_year(store: Store) -> None:
    with pytest.raises(DocumentError, match="quarter must be 1 to 4, got 5"):
        meeting_pack(store, Y.ORG, 2026, 5, schedule=Y.SCHEDULE, now=Y.NOW)
    with pytest.raises(DocumentError, match="the schedule is for 2026, not 2025"):
        meeting_pack(store, Y.ORG, 2025, 1, schedule=Y.SCHEDULE, now=Y.NOW)


def test_the_pack_renders_to_word_and_html(store: Store, tmp_path: Path) -> None:
    q4 = pack(store, 4)
    path = tmp_path / "pack.docx"
    path.write_bytes(pack_docx(q4))
    document = docx.Document(str(path))
    assert document.core_properties.title == q4.title
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert q4.overdue[0].hazard in cells
    html = pack_html(q4)
    assert f"<title>{q4.title}</title>" in html
    assert "督办逾期未整改隐患" in html
    assert pack_html(q4) == html


# -- the command ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("pack")
    org_file = folder / "bureau.toml"
    dualduty.dump(Y.ORG, org_file)
    db = folder / "records.db"
    with open_store(f"sqlite:///{db}") as s:
        Y.build(s)
    return ["--db", f"sqlite:///{db}", "--org", str(org_file), "--now", Y.NOW.isoformat()]


def test_pack_command(files: list[str], store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["pack", *files, "--year", "2026", "--quarter", "4"])
    out, err = capsys.readouterr()
    assert status == 0
    assert err == ""
    assert out == pack_markdown(pack(store, 4))


def test_pack_command_writes_word(
    files: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q4.docx"
    status = main(["pack", *files, "--year", "2026", "--quarter", "4", "-o", str(path)])
    _, err = capsys.readouterr()
    assert status == 0
    assert err.startswith(f"{path}: ")
    assert docx.Document(str(path)).paragraphs[0].text.endswith("调度会材料")


def test_pack_command_refuses_bad_input(
    files: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["pack", *files, "--year", "2026", "--quarter", "5"])
    assert exc.value.code == 2
    capsys.readouterr()
    missing = ["--db", f"sqlite:///{tmp_path / 'none.db'}", *files[2:]]
    status = main(["pack", *missing, "--year", "2026", "--quarter", "4"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.startswith("dualduty: ")
    assert "Traceback" not in err


# -- the record's changes of responsibility ---------------------------------------------------

MOVED_ON = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, int, str]]:
    """The hand-built year, then 办公室's package of s0002 moved to 政教科 from 30 June (the
    change recorded on 20 June) and an incident at s0002 on 10 August."""
    path = tmp_path_factory.mktemp("moved") / "records.db"
    with open_store(f"sqlite:///{path}") as s:
        Y.build(s)
        r = Recorder(s, Y.ORG, clock=lambda: Y.at(2026, 8, 10))
        seq = r.org_changes.set_package(
            "pkg-general-office", Y.MORAL, MOVED_ON, actor="p001", schools=[Y.SCHOOL],
            reason="分包调整", at=Y.at(2026, 6, 20, 9),
        ).seq  # fmt: skip
        r.incidents.record(
            Y.SCHOOL, "accident", "学生摔伤", occurred=Y.at(2026, 8, 10, 10),
            actor=Y.OFFICE_HEAD, at=Y.at(2026, 8, 10, 12),
        )  # fmt: skip
        yield s, seq, str(path)


def test_the_quarter_s_recorded_changes_are_listed_with_their_records(
    moved: tuple[Store, int, str],
) -> None:
    store, seq, _ = moved
    q2 = pack(store, 2)
    assert q2.changes_known
    [change] = q2.changes
    assert (change.date, change.subject, change.seq) == (
        MOVED_ON,
        "package:pkg-general-office",
        seq,
    )
    assert change.what == "分包pkg-general-office（南关街道第一初级中学）：办公室 → 政教科"
    text = pack_markdown(q2)
    assert f"| 2026年6月30日 | {change.what} | package:pkg-general-office | 记录{seq} |" in text
    agenda = {a.title: a for a in q2.agenda}
    assert change.what in agenda["通报责任变更及工作交接"].detail
    # Q3 has none, and says so: the record does hold changes
    q3 = pack(store, 3)
    assert q3.changes == ()
    assert q3.changes_known
    assert "没有落在本季度的责任变更" in pack_markdown(q3)
    # drafted before the change was recorded, the pack cannot know it
    early = meeting_pack(store, Y.ORG, 2026, 2, schedule=Y.SCHEDULE, now=Y.at(2026, 6, 19, 9))
    assert early.changes == ()
    assert not early.changes_known


def test_recorded_and_file_dated_changes_are_listed_together(
    moved: tuple[Store, int, str],
) -> None:
    store, seq, _ = moved
    units = [
        attrs.evolve(
            u,
            posts=[
                attrs.evolve(p, since=dt.date(2026, 5, 4)) if p.id == f"{Y.MORAL}.head" else p
                for p in u.posts
            ],
        )
        for u in Y.ORG.units
    ]
    q2 = pack(store, 2, attrs.evolve(Y.ORG, units=units))
    assert [(c.date, c.subject, c.seq) for c in q2.changes] == [
        (dt.date(2026, 5, 4), f"post:{Y.MORAL}.head", None),
        (MOVED_ON, "package:pkg-general-office", seq),
    ]
    assert "| 组织文件 |" in pack_markdown(q2)


def test_events_name_the_sections_that_held_the_school_on_their_day(
    moved: tuple[Store, int, str],
) -> None:
    store, _, _ = moved
    [before] = pack(store, 2).incidents  # 坠楼, in June: 办公室's
    assert (before.school, before.sections) == (Y.SCHOOL, ("办公室",))
    after = [i for i in pack(store, 3).incidents if i.school == Y.SCHOOL]
    assert [(i.title, i.sections) for i in after] == [("学生摔伤", ("政教科",))]
    q4 = pack(store, 4)
    [overdue] = q4.overdue  # found on 1 November: 政教科's by then
    assert overdue.sections == ("政教科",)
    rows = {r.holder: r.schools for r in q4.sections}
    assert (rows[Y.UNIT], rows[Y.MORAL]) == (0, 2)
    assert {r.holder: r.schools for r in pack(store, 1).sections}[Y.UNIT] == 1


def test_pack_command_plans_from_the_changed_organisation(
    moved: tuple[Store, int, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, seq, path = moved
    org_file = tmp_path / "bureau.toml"
    dualduty.dump(Y.ORG, org_file)
    args = ["pack", "--db", f"sqlite:///{path}", "--org", str(org_file)]
    status = main([*args, "--now", Y.NOW.isoformat(), "--year", "2026", "--quarter", "3"])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    # planned from the organisation with the change: Q3's visits of s0002 are 政教科's
    expected = meeting_pack(store, Y.ORG, 2026, 3, now=Y.NOW)
    assert out == pack_markdown(expected)
    moral = next(r for r in expected.sections if r.holder == Y.MORAL)
    office = next(r for r in expected.sections if r.holder == Y.UNIT)
    assert (moral.due, office.due) == (4, 0)
    status = main([*args, "--now", Y.NOW.isoformat(), "--year", "2026", "--quarter", "2"])
    out, _ = capsys.readouterr()
    assert status == 0
    assert f"记录{seq}" in out
