"""Quarterly written reports (三.2): submitting them, and drafting them from the record."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import attrs
import pytest

import dualduty
from dualduty.calendars import calendar_for
from dualduty.errors import DualdutyError
from dualduty.planning import plan_schedule
from dualduty.records import Hazards, InvalidTransition, PermissionDenied, Record
from dualduty.records.activities import ActivityRegistered
from dualduty.records.compliance import ReportStatus, VisitStatus, compliance
from dualduty.records.incidents import IncidentRecorded
from dualduty.records.kinds import InspectionRecorded, MeetingHeld, ReportSubmitted
from dualduty.records.submissions import Reports, SubmittedReport, report
from dualduty.reports import QuarterlyReport, ReportError, draft_quarterly, parse_quarter
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
ORG = dualduty.reference_organisation(schools=3)
SCHEDULE = plan_schedule(ORG, calendar_for(ORG, [2026]), 2026)

# s0002 is packaged to the general office (办公室: head p010, staff p011/p012) and to
# deputy-1 (p002); s0003 to moral-education (政教科: head p013, staff p014). The leading
# group's office sits in 法规安全科 (head p007, staff p008/p009).
SECTION, SCHOOL = "general-office", "s0002"
HEAD, STAFF, STAFF_2 = "p010", "p011", "p012"
OFFICE_HEAD, OFFICE_STAFF, OFFICE_STAFF_2 = "p007", "p008", "p009"
OUTSIDER = "p014"
NOW = dt.datetime(2026, 10, 8, 9, 0, tzinfo=ZONE)


def at(month: int, day: int, hour: int = 16) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=ZONE)


def snapshot(store: Store) -> tuple[int, int]:
    return len(store), len(store.outbox(state=None))


# -- submitting ---------------------------------------------------------------------------


class TestSubmissions:
    def submit(
        self,
        reports: Reports,
        *,
        actor: str = HEAD,
        title: str = "办公室2026年第三季度学校安全工作报告",
        when: dt.datetime | None = None,
        revision: bool = False,
        report_id: str | None = None,
    ) -> SubmittedReport:
        return reports.submit(
            SECTION,
            2026,
            3,
            actor=actor,
            title=title,
            text="# 报告\n\n正文",
            at=when or at(9, 30),
            revision=revision,
            report_id=report_id,
        )

    def test_submit_is_a_record_with_its_time_and_a_message(self, store: Store) -> None:
        reports = Reports(store, ORG)
        sub = reports.submit(
            SECTION,
            2026,
            3,
            actor=STAFF,
            title="办公室2026年第三季度学校安全工作报告",
            text="# 报告",
            deadline="d.2026q3.report.general-office",
            at=at(9, 30),
        )
        (entry,) = store.read()
        assert (sub.id, sub.seq, sub.actor, sub.at, sub.revision) == (
            "rp-00001",
            entry.seq,
            STAFF,
            at(9, 30),
            0,
        )
        assert entry.record.data == ReportSubmitted(
            "rp-00001",
            SECTION,
            2026,
            3,
            "办公室2026年第三季度学校安全工作报告",
            "# 报告",
            "d.2026q3.report.general-office",
        )
        assert entry.record.subjects == (report("rp-00001"), f"unit:{SECTION}")
        (item,) = store.outbox()
        assert (item.message.recipient, item.message.urgent, item.cause) == (
            OFFICE_HEAD,
            False,
            entry.seq,
        )
        assert "rp-00001" in item.message.text

    def test_who_may_submit(self, store: Store) -> None:
        reports = Reports(store, ORG)
        assert reports.submitters(SECTION) == {HEAD, STAFF, STAFF_2}
        assert reports.submitters("safety-office") == {OFFICE_HEAD, OFFICE_STAFF, OFFICE_STAFF_2}
        for actor in (OUTSIDER, "p002", "nobody"):
            with pytest.raises(PermissionDenied):
                self.submit(reports, actor=actor)
        with pytest.raises(InvalidTransition, match="leading_group"):
            reports.submit("leading-group", 2026, 3, actor="p001", title="t", text="x")
        with pytest.raises(InvalidTransition, match="no unit 'nowhere'"):
            reports.submit("nowhere", 2026, 3, actor=HEAD, title="t", text="x")
        assert snapshot(store) == (0, 0)
        office = reports.submit(
            "safety-office", 2026, 3, actor=OFFICE_STAFF, title="t", text="x", at=at(9, 30)
        )
        assert office.data.unit == "safety-office"

    def test_one_report_a_quarter_unless_revised(self, store: Store) -> None:
        reports = Reports(store, ORG)
        with pytest.raises(InvalidTransition, match="no report for 2026 Q3 to revise"):
            self.submit(reports, revision=True)
        first = self.submit(reports)
        before = snapshot(store)
        with pytest.raises(InvalidTransition, match=r"already submitted .*revision=True"):
            self.submit(reports, when=at(10, 2))
        assert snapshot(store) == before
        revised = reports.submit(
            SECTION, 2026, 3, actor=HEAD, title="修订", text="修订稿", revision=True, at=at(10, 3)
        )
        assert revised.revision == 1
        assert [s.id for s in reports.submissions(SECTION, 2026, 3)] == [
            first.id,
            revised.id,
        ]
        assert reports.latest(SECTION, 2026, 3) == revised
        assert reports.latest(SECTION, 2026, 2) is None
        # another quarter is another report
        q2 = reports.submit(SECTION, 2026, 2, actor=HEAD, title="二季度", text="x", at=at(7, 1))
        assert q2.revision == 0
        assert [s.id for s in reports.all(2026)] == ["rp-00001", "rp-00002", "rp-00003"]
        assert [s.id for s in reports.all(quarter=2)] == ["rp-00003"]
        assert [s.id for s in reports.submissions(SECTION)] == ["rp-00001", "rp-00002", "rp-00003"]

    def test_refusals_write_nothing(self, store: Store) -> None:
        reports = Reports(store, ORG)
        with pytest.raises(InvalidTransition, match="quarter must be 1 to 4"):
            reports.submit(SECTION, 2026, 5, actor=HEAD, title="t", text="x", at=at(9, 30))
        with pytest.raises(InvalidTransition, match="year must be"):
            reports.submit(SECTION, 26, 3, actor=HEAD, title="t", text="x", at=at(9, 30))
        with pytest.raises(InvalidTransition, match="before the quarter begins"):
            reports.submit(SECTION, 2026, 4, actor=HEAD, title="t", text="x", at=at(9, 30))
        with pytest.raises(InvalidTransition, match="title: must be non-empty"):
            self.submit(reports, title="  ")
        self.submit(reports)
        with pytest.raises(InvalidTransition, match="already exists"):
            self.submit(reports, report_id="rp-00001", revision=True)
        assert snapshot(store) == (1, 1)
        assert issubclass(InvalidTransition, DualdutyError)

    def test_a_late_report_is_visible(self, store: Store) -> None:
        reports = Reports(store, ORG)
        self.submit(reports, when=at(10, 9, 9))
        view = compliance(store, ORG, SCHEDULE, now=at(10, 10))
        (outcome,) = view.section(SECTION, 3).reports
        assert (outcome.status, outcome.submitted_on, outcome.due) == (
            ReportStatus.LATE,
            dt.date(2026, 10, 9),
            dt.date(2026, 9, 30),
        )
        assert (
            compliance(store, ORG, SCHEDULE, now=at(10, 9, 8)).section(SECTION, 3).reports[0].status
            is ReportStatus.MISSING
        )


# -- drafting -------------------------------------------------------------------------------


def q3_visits(holder: str = SECTION) -> tuple[str, str]:
    first, second = (v.id for v in SCHEDULE.visits if v.holder == holder and v.quarter == 3)
    return first, second


def planned(visit_id: str) -> dt.date:
    return next(v.date for v in SCHEDULE.visits if v.id == visit_id)


def inspect(
    store: Store, inspection: str, day: dt.date, *, visit: str | None, holder: str = SECTION
) -> None:
    actor = STAFF if holder == SECTION else "p002"
    data = InspectionRecorded(inspection, SCHOOL, holder, day, (actor,), visit=visit)
    when = dt.datetime(day.year, day.month, day.day, 17, tzinfo=ZONE)
    subjects = [f"inspection:{inspection}", f"school:{SCHOOL}", f"unit:{holder}"]
    store.append(Record.of(data, actor=actor, at=when, subjects=subjects))


def hazard(
    hazards: Hazards,
    found: dt.datetime,
    *,
    closed: dt.datetime | None = None,
    severity: str = "general",
    school_id: str = SCHOOL,
    description: str = "消防通道堆放杂物",
) -> str:
    finder = STAFF if school_id == SCHOOL else OUTSIDER
    hid = hazards.find(school_id, severity, description, actor=finder, at=found).id
    if closed is not None:
        hazards.register(hid, actor=OFFICE_STAFF, at=found + dt.timedelta(hours=2))
        hazards.plan(
            hid,
            actor=OFFICE_STAFF,
            measures=["整改"],
            responsible=OFFICE_STAFF,
            time_limit=closed.date(),
            safeguards=["警戒"],
            at=found + dt.timedelta(hours=3),
        )
        hazards.claim(hid, actor=OFFICE_STAFF, at=closed - dt.timedelta(hours=3))
        hazards.reinspect(
            hid, actor=OFFICE_STAFF_2, accepted=True, at=closed - dt.timedelta(hours=2)
        )
        hazards.close(hid, actor=OFFICE_HEAD, at=closed)
    return hid


def meeting(store: Store, meeting_id: str, unit_id: str, day: dt.date, topic: str) -> None:
    data = MeetingHeld(meeting_id, "topic_study", unit_id, day, topic)
    when = dt.datetime(day.year, day.month, day.day, 10, tzinfo=ZONE)
    store.append(
        Record.of(data, actor=HEAD, at=when, subjects=[f"meeting:{meeting_id}", f"unit:{unit_id}"])
    )


class Facts(NamedTuple):
    """What was recorded of the quarter, for the report to say."""

    visits: tuple[str, str]
    closed_in_q3: str
    overdue: str
    from_q2: str
    major: str
    elsewhere: str
    title: str


def the_quarter(store: Store) -> Facts:
    """The general office's third quarter of 2026, recorded; what the report must say."""
    v1, v2 = q3_visits()
    inspect(store, "in-q3-1", planned(v1), visit=v1)
    inspect(store, "in-q3-2", dt.date(2026, 10, 5), visit=v2)  # after the quarter: late
    inspect(store, "in-q3-3", dt.date(2026, 8, 3), visit=None)  # ad hoc
    d1, _ = q3_visits("deputy-1")
    inspect(store, "in-q3-4", planned(d1), visit=d1, holder="deputy-1")  # not the section's
    hazards = Hazards(store, ORG)
    closed_in_q3 = hazard(hazards, at(7, 10, 9), closed=at(8, 1, 9))
    overdue = hazard(hazards, at(8, 20, 9), description="灭火器过期|<b>未更换</b> & *注意*")
    from_q2 = hazard(hazards, at(6, 20, 9), closed=at(7, 15, 9))
    major = hazard(hazards, at(9, 25, 9), severity="major", description="外墙瓷砖空鼓")
    elsewhere = hazard(hazards, at(8, 1, 9), school_id="s0003")
    meeting(store, "mt-q3-1", SECTION, dt.date(2026, 7, 8), "研究秋季开学安全工作")
    meeting(store, "mt-q3-2", SECTION, dt.date(2026, 9, 3), "研究校园食品安全")
    meeting(store, "mt-q2-1", SECTION, dt.date(2026, 6, 3), "研究防溺水")
    meeting(store, "mt-other", "moral-education", dt.date(2026, 8, 3), "政教科专题研究")
    incident = attrs.evolve(
        IncidentRecorded.examples()[0],
        incident="ic-q3",
        school=SCHOOL,
        occurred_on=dt.date(2026, 9, 1),
    )
    store.append(
        Record.of(
            incident,
            actor=STAFF,
            at=at(9, 1, 11),
            subjects=["incident:ic-q3", f"school:{SCHOOL}", f"unit:{SECTION}"],
        )
    )
    earlier = attrs.evolve(incident, incident="ic-q2", occurred_on=dt.date(2026, 5, 1))
    store.append(
        Record.of(
            earlier,
            actor=STAFF,
            at=at(5, 1, 11),
            subjects=["incident:ic-q2", f"school:{SCHOOL}", f"unit:{SECTION}"],
        )
    )
    activity = attrs.evolve(
        ActivityRegistered.examples()[0],
        activity="ac-q3",
        host=SECTION,
        date=dt.date(2026, 9, 20),
    )
    store.append(
        Record.of(
            activity, actor=HEAD, at=at(9, 2, 11), subjects=["activity:ac-q3", f"unit:{SECTION}"]
        )
    )
    other = attrs.evolve(activity, activity="ac-other", host="moral-education")
    store.append(
        Record.of(
            other,
            actor="p013",
            at=at(9, 2, 12),
            subjects=["activity:ac-other", "unit:moral-education"],
        )
    )
    return Facts((v1, v2), closed_in_q3, overdue, from_q2, major, elsewhere, incident.title)


def md_texts(markdown: str) -> list[str]:
    """The texts of a Markdown report in order: headings, items, paragraphs, table cells."""
    out: list[str] = []
    for line in markdown.splitlines():
        if not line.strip() or re.fullmatch(r"\|(-+:?\|)+", line):
            continue
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])
            out.extend(re.sub(r"\\(.)", r"\1", c.strip()) for c in cells)
        else:
            text = re.sub(r"^(#+ |- )", "", line)
            out.append(re.sub(r"\\(.)", r"\1", text))
    return out


class _Html(HTMLParser):
    BLOCKS = frozenset({"h1", "h2", "h3", "p", "li", "th", "td"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.texts: list[str] = []
        self.title = ""
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in self.BLOCKS or tag == "title":
            self._open = tag
            if tag != "title":
                self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open == "title":
            self.title += data
        elif self._open is not None:
            self.texts[-1] += data


def parse_html(text: str) -> _Html:
    parser = _Html()
    parser.feed(text)
    parser.close()
    return parser


class TestDraft:
    def test_the_report_matches_the_record(self, store: Store) -> None:
        """Issue 6 acceptance: a quarterly report drafted for a section matches its records."""
        facts = the_quarter(store)
        draft = draft_quarterly(store, ORG, SECTION, 2026, 3, schedule=SCHEDULE, now=NOW)
        _, v2 = facts.visits
        assert draft.title == "办公室2026年第三季度学校安全工作报告"
        assert (draft.deadline, draft.due, draft.to, draft.to_name) == (
            "d.2026q3.report.general-office",
            dt.date(2026, 9, 30),
            "safety-office",
            "学校安全稳定工作领导小组办公室",
        )
        assert draft.figures() == {
            "schools": 1,
            "visits_due": 2,
            "visits_done": 1,
            "visits_late": 1,
            "visits_missed": 0,
            "visits_pending": 0,
            "ad_hoc": 1,
            "hazards_found": 3,
            "hazards_major": 1,
            "hazards_closed": 2,
            "hazards_open": 2,
            "hazards_overdue": 1,
            "topic_studies_required": 2,
            "topic_studies_held": 2,
            "incidents": 1,
            "activities": 1,
        }
        assert draft.packaged == (SCHOOL,)
        (school,) = draft.schools
        assert (school.school, school.due, school.done, school.late, school.inspections) == (
            SCHOOL,
            2,
            1,
            1,
            ("in-q3-1", "in-q3-2", "in-q3-3"),
        )
        (late,) = draft.exceptions
        assert (late.visit, late.status, late.inspection) == (v2, VisitStatus.LATE, "in-q3-2")
        assert [i.inspection for i in draft.ad_hoc] == ["in-q3-3"]
        lines = {line.hazard: line for line in draft.hazard_lines}
        assert set(lines) == {
            facts.closed_in_q3,
            facts.overdue,
            facts.from_q2,
            facts.major,
        }
        assert lines[facts.closed_in_q3].standing == "已销号"
        assert lines[facts.overdue].standing == "逾期未销号"
        assert lines[facts.major].standing == "整改中"
        assert not lines[facts.from_q2].found_in_quarter
        assert lines[facts.from_q2].closed_in_quarter
        assert [(m.meeting, m.topic) for m in draft.meetings] == [
            ("mt-q3-1", "研究秋季开学安全工作"),
            ("mt-q3-2", "研究校园食品安全"),
        ]
        (incident,) = draft.incidents
        assert (incident.id, incident.title, incident.school, incident.kinds) == (
            "ic-q3",
            facts.title,
            SCHOOL,
            ("incident-recorded",),
        )
        # Recorded, never reported: its initial report is omitted (漏报) as of the draft.
        assert incident.standing.endswith("；漏报")
        assert [(a.id, a.standing) for a in draft.activities] == [
            ("ac-q3", "大型活动，安全预案未按期审批、活动未按期审批、无人监督")
        ]
        assert draft.submission is not None
        assert draft.submission.status is ReportStatus.MISSING

        md = draft.markdown()
        assert md.startswith("# 办公室2026年第三季度学校安全工作报告\n")
        assert (
            "本科室分包学校1所，本季度应开展专门督查2次，按期完成1次，逾期完成1次，未完成0次，"
            "待完成0次；另开展随机督查1次。"
        ) in md
        assert (
            "本季度发现隐患3处（其中重大隐患1处），整改销号2处；季度末尚未销号2处，其中逾期1处。"
        ) in md
        assert "实际召开2次（达标）" in md
        for text in ("in-q3-1", "in-q3-2", "in-q3-3", v2, "mt-q3-1", "ic-q3", "ac-q3", "漏报"):
            assert text in md
        for absent in ("in-q3-4", facts.elsewhere, "mt-q2-1", "mt-other", "ic-q2", "ac-other"):
            assert absent not in md

    def test_html_carries_the_same_text(self, store: Store) -> None:
        the_quarter(store)
        draft = draft_quarterly(store, ORG, SECTION, 2026, 3, schedule=SCHEDULE, now=NOW)
        page = draft.html()
        assert page.startswith("<!DOCTYPE html>\n")
        assert '<meta charset="utf-8">' in page
        parsed = parse_html(page)
        assert parsed.title == draft.title
        assert "script" not in parsed.tags
        assert "b" not in parsed.tags  # data is escaped, not markup
        assert "style" not in parsed.tags  # inline styles only
        # schools, visits not done in time, ad hoc, hazards, meetings, incidents, activities
        assert parsed.tags.count("table") == 7
        assert parsed.texts == md_texts(draft.markdown())
        assert "灭火器过期|<b>未更换</b> & *注意*" in parsed.texts

    def test_markdown_tables_keep_their_columns(self, store: Store) -> None:
        the_quarter(store)
        md = draft_quarterly(store, ORG, SECTION, 2026, 3, schedule=SCHEDULE, now=NOW).markdown()
        for block in md.split("\n\n"):
            rows = [r for r in block.splitlines() if r.startswith("|")]
            widths = {len(re.split(r"(?<!\\)\|", r)) for r in rows}
            assert len(widths) <= 1, block

    def test_deterministic_and_the_same_from_sqlite(self, store: Store, tmp_path: Path) -> None:
        the_quarter(store)
        first = draft_quarterly(store, ORG, SECTION, 2026, 3, schedule=SCHEDULE, now=NOW)
        again = draft_quarterly(store, ORG, SECTION, 2026, 3, schedule=SCHEDULE, now=NOW)
        assert first == again
        assert (first.markdown(), first.html()) == (again.markdown(), again.html())
        with open_store(f"sqlite:///{tmp_path / 'r.db'}") as sqlite:
            the_quarter(sqlite)
            other = draft_quarterly(sqlite, ORG, SECTION, 2026, 3, schedule=SCHEDULE, now=NOW)
        assert other.markdown() == first.markdown()
        planned_here = draft_quarterly(store, ORG, SECTION, 2026, 3, now=NOW)
        assert planned_here.markdown() == first.markdown()

    def test_a_quiet_quarter(self, store: Store) -> None:
        draft = draft_quarterly(store, ORG, SECTION, 2026, 3, schedule=SCHEDULE, now=at(8, 1))
        assert draft.figures()["visits_pending"] + draft.figures()["visits_missed"] == 2
        md = draft.markdown()
        assert "本季度无涉及本科室的事故（事件）记录。" in md
        assert "本季度无涉及本科室的活动记录。" in md
        assert "实际召开0次（进行中）" in md
        assert draft.as_of == dt.date(2026, 8, 1)

    def test_submitting_the_draft(self, store: Store) -> None:
        the_quarter(store)
        draft = draft_quarterly(store, ORG, SECTION, 2026, 3, schedule=SCHEDULE, now=NOW)
        reports = Reports(store, ORG)
        sub = draft.submit(reports, actor=HEAD, at=NOW)
        assert (sub.data.title, sub.data.text, sub.data.deadline) == (
            draft.title,
            draft.markdown(),
            "d.2026q3.report.general-office",
        )
        later = dt.datetime(2026, 10, 9, tzinfo=ZONE)
        redrafted = draft_quarterly(store, ORG, SECTION, 2026, 3, schedule=SCHEDULE, now=later)
        assert redrafted.submission is not None
        assert (redrafted.submission.status, redrafted.submission.report) == (
            ReportStatus.LATE,
            sub.id,
        )
        with pytest.raises(InvalidTransition, match="already submitted"):
            redrafted.submit(reports, actor=HEAD, at=later)
        assert redrafted.submit(reports, actor=HEAD, at=later, revision=True).revision == 1

    def test_one_view_for_several_sections(self, store: Store) -> None:
        the_quarter(store)
        view = compliance(store, ORG, SCHEDULE, now=NOW)
        ours = draft_quarterly(store, ORG, SECTION, 2026, 3, view=view)
        theirs = draft_quarterly(store, ORG, "moral-education", 2026, 3, view=view)
        assert (
            ours.markdown()
            == draft_quarterly(store, ORG, SECTION, 2026, 3, schedule=SCHEDULE, now=NOW).markdown()
        )
        name = dualduty.OrgGraph(ORG).unit("moral-education").name  # 政教科
        assert theirs.title == f"{name}2026年第三季度学校安全工作报告"
        assert theirs.figures()["hazards_found"] == 1
        assert [m.meeting for m in theirs.meetings] == ["mt-other"]
        assert [a.id for a in theirs.activities] == ["ac-other"]
        assert isinstance(ours, QuarterlyReport)

    def test_errors(self, store: Store) -> None:
        with pytest.raises(ReportError, match="leading_group"):
            draft_quarterly(store, ORG, "leading-group", 2026, 3, schedule=SCHEDULE, now=NOW)
        with pytest.raises(ReportError, match="no unit 'nowhere'"):
            draft_quarterly(store, ORG, "nowhere", 2026, 3, schedule=SCHEDULE, now=NOW)
        with pytest.raises(ReportError, match="quarter must be 1 to 4"):
            draft_quarterly(store, ORG, SECTION, 2026, 5, schedule=SCHEDULE, now=NOW)
        with pytest.raises(ReportError, match="schedule is for 2026, not 2027"):
            draft_quarterly(store, ORG, SECTION, 2027, 1, schedule=SCHEDULE, now=NOW)
        view = compliance(store, ORG, SCHEDULE, now=NOW)
        with pytest.raises(ReportError, match="view is for 2026"):
            draft_quarterly(store, ORG, SECTION, 2025, 3, view=view)
        q3 = attrs.evolve(
            SCHEDULE, quarter=3, visits=[v for v in SCHEDULE.visits if v.quarter == 3]
        )
        with pytest.raises(ReportError, match="does not cover 2026 Q1"):
            draft_quarterly(store, ORG, SECTION, 2026, 1, schedule=q3, now=NOW)
        with pytest.raises(ReportError, match="not both"):
            draft_quarterly(store, ORG, SECTION, 2026, 3, view=view, now=NOW)
        assert issubclass(ReportError, DualdutyError)


def test_parse_quarter() -> None:
    assert parse_quarter("2026Q3") == (2026, 3)
    assert parse_quarter(" 2026-q1 ") == (2026, 1)
    for bad in ("2026Q5", "Q3", "2026", "26Q3"):
        with pytest.raises(ReportError, match="is not a quarter"):
            parse_quarter(bad)
