"""Responsibility pledges (责任状, issue 11 item 4): a section's pledge, drafted to sign."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import docx
import pytest

import dualduty
from dualduty.calendars import calendar_for
from dualduty.cli import main
from dualduty.model import Rules, Schedule
from dualduty.planning import plan_schedule
from dualduty.records import Recorder
from dualduty.records.hazards import HazardRules
from dualduty.reports._docx import DocumentError
from dualduty.reports.pledges import (
    PledgeDocument,
    pledge_document,
    pledge_docx,
    pledge_html,
    pledge_markdown,
)
from dualduty.scoring.rubric import Assessee, default_rubric, dump_rubric
from dualduty.storage import open_store

ORG = dualduty.reference_organisation()
RUBRIC = default_rubric()


def planning(
    org: dualduty.Organisation = ORG, *, schedule: Schedule | None = None
) -> PledgeDocument:
    return pledge_document(org, "planning", 2026, rubric=RUBRIC, schedule=schedule)


def test_the_pledge_of_planning_lists_its_four_duties() -> None:
    pledge = planning()
    unit = next(u for u in ORG.units if u.id == "planning")
    assert [d.id for d in pledge.duties] == ["planning.1", "planning.2", "planning.3", "planning.4"]
    assert pledge.duties == unit.duties
    assert [d.clause for d in pledge.common] == ["二(三).1", "二(三).2", "二(三).3", "二(三).4"]
    text = pledge_markdown(pledge)
    for n, duty in enumerate(unit.duties, 1):
        assert f"| {n} | {duty.text} | {duty.clause} |" in text


def test_the_targets_of_planning_follow_its_packages_and_the_rules() -> None:
    pledge = planning()
    rules = ORG.rules
    schools = [s for p in ORG.packages if p.holder == "planning" for s in p.schools]
    assert schools
    per_quarter = len(schools) * rules.inspections_per_school_per_quarter
    visits = pledge.target("visits")
    assert visits.per_quarter == (per_quarter,) * 4
    assert visits.quantity == per_quarter * 4
    assert [s for s, _ in pledge.schools] == schools
    assert f"对分包学校{len(schools)}所开展专门督查" in visits.text
    assert f"全年不少于{per_quarter * 4}次" in visits.text
    studies = pledge.target("topic_studies")
    assert studies.quantity == rules.topic_studies_per_quarter * 4
    assert studies.per_quarter == (rules.topic_studies_per_quarter,) * 4
    assert pledge.target("reports").quantity == 4
    assert pledge.target("coordination").quantity == rules.coordination_meetings_per_quarter * 4
    hazard = HazardRules.of(rules)
    text = pledge.target("hazards").text
    assert f"一般隐患自发现之日起{hazard.general_close_days}日内整改销号" in text
    assert f"{hazard.major_plan_days}日内制定整改方案" in text
    assert f"{hazard.major_close_days}日内整改销号" in text
    assert "立即上报" in text
    assert [t.id for t in pledge.targets] == [
        "visits",
        "topic_studies",
        "reports",
        "coordination",
        "hazards",
        "annual_targets",
        "activities",
        "training",
        "incidents",
    ]
    markdown = pledge_markdown(pledge)
    for target in pledge.targets:
        assert f"- {target.text}（{target.clause}）" in markdown


def test_other_rules_give_other_targets() -> None:
    rules = Rules(
        inspections_per_school_per_quarter=3,
        topic_studies_per_quarter=1,
        coordination_meetings_per_quarter=0,
        major_hazard_report_hours=2,
    )
    pledge = planning(attrs.evolve(ORG, rules=rules))
    schools = len([s for p in ORG.packages if p.holder == "planning" for s in p.schools])
    assert pledge.target("visits").quantity == schools * 3 * 4
    assert pledge.target("topic_studies").quantity == 4
    assert "coordination" not in {t.id for t in pledge.targets}
    assert "在2小时内上报" in pledge.target("hazards").text


def test_a_package_of_half_the_year_counts_in_its_quarters() -> None:
    packages = [
        attrs.evolve(p, start=dt.date(2026, 7, 1)) if p.holder == "planning" else p
        for p in ORG.packages
    ]
    pledge = planning(attrs.evolve(ORG, packages=packages))
    schools = len([s for p in ORG.packages if p.holder == "planning" for s in p.schools])
    assert pledge.target("visits").per_quarter == (0, 0, schools * 2, schools * 2)


def test_with_a_schedule_the_visits_and_due_days_are_the_schedule_s() -> None:
    schedule = plan_schedule(ORG, calendar_for(ORG, [2026]), 2026)
    pledge = planning(schedule=schedule)
    planned = tuple(
        sum(1 for v in schedule.visits if v.holder == "planning" and v.quarter == q)
        for q in (1, 2, 3, 4)
    )
    assert pledge.target("visits").per_quarter == planned
    due = sorted(d.due for d in schedule.deadlines if d.unit == "planning")
    text = pledge.target("reports").text
    for day in due:
        assert f"{day.year}年{day.month}月{day.day}日" in text
    with pytest.raises(DocumentError, match="the schedule is for 2026, not 2027"):
        pledge_document(ORG, "planning", 2027, rubric=RUBRIC, schedule=schedule)


def test_the_assessment_items_and_vetoes_are_the_rubric_s() -> None:
    pledge = planning()
    items = RUBRIC.items_for(Assessee.SECTION)
    assert [(i.id, i.max_points, i.clause) for i in pledge.items] == [
        (i.id, i.max_points, i.clause) for i in items
    ]
    assert [v.id for v in pledge.vetoes] == [v.id for v in RUBRIC.vetoes_for(Assessee.SECTION)]
    by_id = {i.id: i for i in pledge.items}
    assert by_id["topic_studies"].rule == "少开的专题研究每次扣2分，扣完为止"
    assert by_id["hazards_closed_bonus"].bonus
    text = pledge_markdown(pledge)
    assert "分包学校发生有人员死亡的安全责任事故（三.4）" in text
    assert "基础分满分100分，加分合计不超过5分" in text
    assert "优秀（90分及以上），良好（80分及以上），合格（60分及以上），不合格（60分以下）" in text


def test_signature_lines_name_the_head_and_the_deputy_in_charge() -> None:
    pledge = planning()
    graph = dualduty.OrgGraph(ORG)
    head = graph.head_of("planning")
    [deputy] = graph.in_charge_of("planning")
    assert head is not None
    head_holder, deputy_holder = graph.holder_of(head.id), graph.holder_of(deputy.id)
    assert head_holder is not None
    assert deputy_holder is not None
    assert pledge.head.post == head
    assert pledge.head.name == head_holder.name
    assert [(c.role, c.post) for c in pledge.counterparts] == [("分管领导", deputy)]
    text = pledge_markdown(pledge)
    assert "- 分管领导（签字）：\\_" in text
    assert f"（{deputy.title} {deputy_holder.name}）" in text
    assert f"（{head.title} {head_holder.name}）" in text


def test_without_a_post_in_charge_the_leader_signs() -> None:
    org = attrs.evolve(
        ORG,
        in_charge=[
            attrs.evolve(e, units=[u for u in e.units if u != "planning"]) for e in ORG.in_charge
        ],
    )
    pledge = planning(org)
    leader = dualduty.OrgGraph(ORG).leader()
    assert [(c.role, c.post) for c in pledge.counterparts] == [("组长", leader)]


def test_a_vacant_head_is_printed_as_vacant() -> None:
    units = [
        attrs.evolve(
            u,
            posts=[attrs.evolve(p, holder=None) if p.id == "planning.head" else p for p in u.posts],
        )
        for u in ORG.units
    ]
    pledge = planning(attrs.evolve(ORG, units=units))
    assert pledge.head.name is None
    assert "科室负责人：规划科科长 （空缺）" in pledge_markdown(pledge)


def test_only_sections_pledge() -> None:
    with pytest.raises(DocumentError, match="no unit 'nowhere'"):
        pledge_document(ORG, "nowhere", 2026, rubric=RUBRIC)
    with pytest.raises(DocumentError, match="leading_group: responsibility pledges"):
        pledge_document(ORG, "leading-group", 2026, rubric=RUBRIC)


def test_signing_the_pledge_is_a_record_the_assessment_reads() -> None:
    pledge = planning()
    assert pledge.head.post is not None
    assert pledge.head.person is not None
    [counterpart] = pledge.counterparts
    assert counterpart.post is not None
    with open_store("memory:") as store:
        recorder = Recorder(store, ORG)
        signed = recorder.meetings.sign(
            2026,
            pledge.head.post.id,
            counterpart.post.id,
            actor=pledge.head.person,
            text=pledge.target("visits").text,
            at=dt.datetime(2026, 1, 8, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        )
        assert signed.person == pledge.head.person
        unsigned = {p.id for p in recorder.meetings.unsigned(2026)}
    assert "planning.head" not in unsigned
    assert "finance.head" in unsigned


def test_the_pledge_renders_to_word_and_html(tmp_path: Path) -> None:
    pledge = planning()
    path = tmp_path / "pledge.docx"
    path.write_bytes(pledge_docx(pledge))
    document = docx.Document(str(path))
    text = "\n".join(
        [p.text for p in document.paragraphs]
        + [c.text for t in document.tables for r in t.rows for c in r.cells]
    )
    for duty in pledge.duties:
        assert duty.text in text
    assert pledge.head.name is not None
    assert pledge.head.name in text
    html = pledge_html(pledge)
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>规划科2026年度学校安全稳定工作责任状</title>" in html


# -- the command ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def org_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("pledges") / "bureau.toml"
    dualduty.dump(ORG, path)
    return str(path)


def test_pledge_doc_command(org_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["pledge-doc", "--org", org_file, "--section", "planning", "--year", "2026"])
    out, err = capsys.readouterr()
    assert status == 0
    assert err == ""
    assert out == pledge_markdown(planning())


def test_pledge_doc_command_refuses_an_unknown_section(
    org_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["pledge-doc", "--org", org_file, "--section", "nowhere", "--year", "2026"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err == "dualduty: no unit 'nowhere' in organisation 'reference-bureau'\n"
    assert "Traceback" not in err


def test_pledge_doc_command_writes_every_section_with_a_rubric_file(
    org_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rubric_file = tmp_path / "rubric.toml"
    dump_rubric(RUBRIC, rubric_file)
    out_dir = tmp_path / "pledges"
    args = [
        "pledge-doc",
        "--org",
        org_file,
        "--all",
        "--year",
        "2026",
        "--rubric",
        str(rubric_file),
    ]
    status = main([*args, "--format", "docx", "-o", str(out_dir)])
    _, err = capsys.readouterr()
    assert status == 0
    sections = [u.id for u in dualduty.OrgGraph(ORG).sections()]
    assert len(sections) == 23
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        f"pledge-{s}-2026.docx" for s in sections
    )
    assert "23 pledge(s) written" in err
    document = docx.Document(str(out_dir / "pledge-planning-2026.docx"))
    assert document.core_properties.title == "规划科2026年度学校安全稳定工作责任状"


def test_a_section_without_schools_pledges_the_rule_not_zero_visits() -> None:
    small = dualduty.reference_organisation(schools=3)
    assert not [p for p in small.packages if p.holder == "planning"]
    pledge = pledge_document(small, "planning", 2026, rubric=RUBRIC)
    visits = pledge.target("visits")
    assert visits.quantity == 0
    assert visits.text.startswith(
        "本年度无分包学校；承担分包任务的，对所包学校每所每季度开展专门督查2次"
    )
    assert "分包学校及专门督查次数" not in pledge_markdown(pledge)


def test_a_package_moved_mid_quarter_counts_in_proportion_to_its_days() -> None:
    # from 15 August: 47 of Q3's 92 days, so one of the two visits (rounded half up)
    packages = [
        attrs.evolve(p, start=dt.date(2026, 8, 15)) if p.holder == "planning" else p
        for p in ORG.packages
    ]
    pledge = planning(attrs.evolve(ORG, packages=packages))
    schools = len([s for p in ORG.packages if p.holder == "planning" for s in p.schools])
    assert pledge.target("visits").per_quarter == (0, 0, schools, schools * 2)
    org = attrs.evolve(ORG, packages=packages)
    schedule = plan_schedule(org, calendar_for(org, [2026]), 2026)
    planned = tuple(
        sum(1 for v in schedule.visits if v.holder == "planning" and v.quarter == q)
        for q in (1, 2, 3, 4)
    )
    assert pledge.target("visits").per_quarter == planned  # as the planner counts them


# -- with the record's changes to the organisation ------------------------------------------------

SMALL = dualduty.reference_organisation(schools=3)
ZONE = dt.timezone(dt.timedelta(hours=8))
END = dt.datetime(2026, 12, 31, 18, tzinfo=ZONE)
JANUARY = dt.datetime(2026, 1, 5, 9, tzinfo=ZONE)


@pytest.fixture(scope="module")
def moved_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """办公室's package of s0002 goes to 政教科 on 30 June; 政教科's head post passes to a
    newcomer, p090, on 1 July."""
    url = f"sqlite:///{tmp_path_factory.mktemp('moved') / 'records.db'}"
    at = dt.datetime(2026, 6, 20, 9, tzinfo=ZONE)
    with open_store(url) as store:
        changes = Recorder(store, SMALL, clock=lambda: at).org_changes
        changes.set_package(
            "pkg-general-office", "moral-education", dt.date(2026, 6, 30), actor="p001",
            schools=["s0002"], reason="分包调整", at=at,
        )  # fmt: skip
        changes.join("p090", "钱立新", dt.date(2026, 7, 1), actor="p001", at=at)
        changes.assign("moral-education.head", "p090", dt.date(2026, 7, 1), actor="p001", at=at)
    return url


def test_with_the_record_the_targets_follow_a_package_moved_mid_year(moved_db: str) -> None:
    with open_store(moved_db, readonly=True) as store:
        office = pledge_document(SMALL, "general-office", 2026, rubric=RUBRIC, store=store, now=END)
        moral = pledge_document(SMALL, "moral-education", 2026, rubric=RUBRIC, store=store, now=END)
        signed_in_january = pledge_document(
            SMALL, "moral-education", 2026, rubric=RUBRIC, store=store, now=JANUARY
        )
    # 30 June is one day of Q2: no visit of s0002 for 政教科 then
    assert office.target("visits").per_quarter == (2, 2, 0, 0)
    assert moral.target("visits").per_quarter == (2, 2, 4, 4)
    assert [s for s, _ in office.schools] == ["s0002"]
    assert [s for s, _ in moral.schools] == ["s0002", "s0003"]
    assert (moral.head.person, moral.head.name) == ("p090", "钱立新")
    head = next(p for _u, p in SMALL.iter_posts() if p.id == "moral-education.head")
    assert signed_in_january.head.person == head.holder
    # without the record: the district file's packages, all year
    plain = pledge_document(SMALL, "moral-education", 2026, rubric=RUBRIC)
    assert plain.target("visits").per_quarter == (2, 2, 2, 2)


def test_pledge_doc_command_reads_the_record(
    moved_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org_file = tmp_path / "bureau.toml"
    dualduty.dump(SMALL, org_file)
    args = ["pledge-doc", "--org", str(org_file), "--section", "moral-education", "--year", "2026"]
    status = main([*args, "--db", moved_db, "--now", END.isoformat()])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    assert "第一至四季度分别为2、2、4、4次" in out
    assert "- 科室负责人：政教科科长 钱立新" in out
    status = main(args)
    out, _ = capsys.readouterr()
    assert status == 0
    assert "第一至四季度分别为2、2、2、2次" in out
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    status = main([*args, "--db", missing])
    _, err = capsys.readouterr()
    assert status == 2
    assert err == f"dualduty: store {missing}: no such file\n"
