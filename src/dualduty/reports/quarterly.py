"""A section's quarterly written report (书面报告, 三.2), drafted from the record.

各科室每季度末要对分包学校安全稳定工作督查情况书面报局学校安全稳定工作领导小组办公室: at each
quarter's end every section reports in writing to the leading group's office on its
supervision of its packaged schools. :func:`draft_quarterly` drafts that report from the
record through the compliance view (:func:`~dualduty.records.compliance.compliance`):

1. the dedicated inspections of the section's packaged schools, due against done (per
   school), the visits not done in time, and the ad hoc inspections;
2. the hazards of those schools found, rectified and closed (销号), still open and overdue
   at the quarter's end, each with its id;
3. the section's topic studies (专题研究, 二(三).1) against the quota;
4. incidents and 5. activities: the records of kinds ``incident-…`` and ``activity-…``
   about the section (``unit:<id>``) in the quarter: what each is called, where, and how
   it stands (an incident's class, grade, responsibility and reporting flags; an
   activity's findings), folded from its whole history.

:meth:`QuarterlyReport.markdown` gives it as Markdown, :meth:`QuarterlyReport.html` as
one HTML document a word processor opens (simple bordered tables, inline styles, no
scripts). Both render the same blocks, so they carry the same figures, and both are
deterministic: the same record and the same *now* give the same bytes.
:meth:`QuarterlyReport.submit` hands the Markdown in as the report's text
(:class:`~dualduty.records.submissions.Reports`), stamped with its time.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from dualduty.calendars import quarter_bounds
from dualduty.errors import DualdutyError
from dualduty.model.enums import SECTION_KINDS
from dualduty.records.compliance import (
    Compliance,
    ComplianceError,
    HazardTally,
    InspectionRef,
    MeetingTally,
    QuotaStatus,
    ReportOutcome,
    VisitOutcome,
    VisitStatus,
    VisitTally,
    compliance,
)
from dualduty.records.hazards import Severity
from dualduty.records.kinds import MeetingHeld

if TYPE_CHECKING:
    from dualduty.model.org import Organisation
    from dualduty.model.schedule import Schedule
    from dualduty.records.base import Entry, Record
    from dualduty.records.submissions import Reports, SubmittedReport
    from dualduty.storage.store import Store

__all__ = [
    "HazardLine",
    "MeetingLine",
    "QuarterlyReport",
    "RecordItem",
    "ReportError",
    "SchoolLine",
    "draft_quarterly",
    "parse_quarter",
]

_QUARTER_ZH = {1: "一", 2: "二", 3: "三", 4: "四"}
_VISIT_ZH = {
    VisitStatus.DONE: "按期完成",
    VisitStatus.LATE: "逾期完成",
    VisitStatus.MISSED: "未完成",
    VisitStatus.PENDING: "待完成",
}
_QUOTA_ZH = {QuotaStatus.MET: "达标", QuotaStatus.SHORT: "未达标", QuotaStatus.PENDING: "进行中"}
_SEVERITY_ZH = {Severity.GENERAL: "一般", Severity.MAJOR: "重大"}
#: The data fields a generic incident or activity record may name itself by, in order.
_TITLE_FIELDS = ("title", "name", "topic", "description", "summary", "text", "notes")


class ReportError(DualdutyError):
    """A report cannot be drafted from what was given (an unknown section, a bad quarter)."""


def parse_quarter(text: str) -> tuple[int, int]:
    """The year and quarter of ``"2026Q3"`` (also ``2026q3``, ``2026-Q3``).

    >>> from dualduty.reports import parse_quarter
    >>> parse_quarter("2026Q3")
    (2026, 3)

    :raises ReportError: if *text* is no such quarter.
    """
    found = re.fullmatch(r"\s*(\d{4})\s*-?\s*[Qq]\s*([1-4])\s*", text)
    if found is None:
        raise ReportError(f"{text!r} is not a quarter such as 2026Q3")
    return int(found.group(1)), int(found.group(2))


# -- the report's lines ---------------------------------------------------------------------


@attrs.frozen
class SchoolLine:
    """The section's dedicated inspections of one packaged school in the quarter."""

    school: str
    name: str
    due: int
    done: int
    late: int
    missed: int
    pending: int
    ad_hoc: int
    inspections: tuple[str, ...]
    """The inspections counted: of the visits carried out, then ad hoc."""


@attrs.frozen
class HazardLine:
    """A hazard of the section's schools found, closed or open in the quarter."""

    hazard: str
    school: str
    school_name: str
    severity: Severity
    description: str
    found_on: dt.date
    closed_on: dt.date | None
    """The day it was closed, if by the report's *now*."""
    found_in_quarter: bool
    closed_in_quarter: bool
    open_at_end: bool
    """Open at the quarter's end (or at *now*, if earlier)."""
    overdue_at_end: bool

    @property
    def standing(self) -> str:
        """Where it stood at the quarter's end, in words (已销号, 整改中, 逾期未销号)."""
        if not self.open_at_end:
            return "已销号"
        return "逾期未销号" if self.overdue_at_end else "整改中"


@attrs.frozen
class MeetingLine:
    """A topic study the section held in the quarter."""

    meeting: str
    date: dt.date
    topic: str
    seq: int


@attrs.frozen
class RecordItem:
    """An incident or an activity about the section with records in the quarter."""

    id: str
    title: str
    """What it is called (the first of its records' ``title``, ``name``, ``topic``,
    ``description``, ``summary``, ``text`` or ``notes`` fields; its id if none)."""
    school: str | None
    """The school it concerns, if one."""
    school_name: str | None
    first_on: dt.date
    """The day of its first record."""
    kinds: tuple[str, ...]
    """The kinds of its records in the quarter, in order."""
    seqs: tuple[int, ...]
    """The ``seq`` of those records."""
    standing: str = ""
    """How it stands as of the report, in Chinese: an incident's class and grade and any
    reporting flag (迟报, 漏报, 瞒报); an activity's findings (二(三).2) or that its safety
    plan was approved."""


# -- the report ------------------------------------------------------------------------------


@attrs.frozen
class QuarterlyReport:
    """A section's quarterly written report, drafted from the record (三.2)."""

    unit: str
    unit_name: str
    year: int
    quarter: int
    as_of: dt.date
    """The day of *now* the report was drafted as of."""
    to: str | None
    """The unit it goes to (the deadline's; the leading group's office)."""
    to_name: str | None
    deadline: str | None
    """The id of the schedule's deadline it meets."""
    due: dt.date | None
    packaged: tuple[str, ...]
    """The schools packaged to the section (分包学校)."""
    visits: VisitTally
    schools: tuple[SchoolLine, ...]
    """The schools with dedicated inspections due, or ad hoc ones made, in the quarter."""
    exceptions: tuple[VisitOutcome, ...]
    """The visits of the quarter not done within it: late, missed, pending."""
    ad_hoc: tuple[InspectionRef, ...]
    hazards: HazardTally
    hazard_lines: tuple[HazardLine, ...]
    topic_studies: MeetingTally
    meetings: tuple[MeetingLine, ...]
    incidents: tuple[RecordItem, ...]
    activities: tuple[RecordItem, ...]
    submission: ReportOutcome | None
    """Where the report stood in the record when drafted (already submitted, due, …)."""

    @property
    def title(self) -> str:
        """``办公室2026年第三季度学校安全工作报告``."""
        return f"{self.unit_name}{self.year}年第{_QUARTER_ZH[self.quarter]}季度学校安全工作报告"

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        """The first and last day of the quarter."""
        return quarter_bounds(self.year, self.quarter)

    def figures(self) -> dict[str, int]:
        """The report's figures by name (what its text states)."""
        v, h = self.visits, self.hazards
        return {
            "schools": len(self.packaged),
            "visits_due": len(v.due),
            "visits_done": len(v.done),
            "visits_late": len(v.late),
            "visits_missed": len(v.missed),
            "visits_pending": len(v.pending),
            "ad_hoc": len(v.ad_hoc),
            "hazards_found": len(h.found),
            "hazards_major": len(h.major),
            "hazards_closed": len(h.closed),
            "hazards_open": len(h.open),
            "hazards_overdue": len(h.overdue),
            "topic_studies_required": self.topic_studies.required,
            "topic_studies_held": len(self.topic_studies.held),
            "incidents": len(self.incidents),
            "activities": len(self.activities),
        }

    # -- rendering ---------------------------------------------------------------------------

    def markdown(self) -> str:
        """The report as Markdown (GitHub-flavoured tables)."""
        out: list[str] = []
        for block in self._blocks():
            tag = block[0]
            if tag == "h1":
                out.append(f"# {_md_text(block[1])}")
            elif tag == "h2":
                out.append(f"## {_md_text(block[1])}")
            elif tag == "h3":
                out.append(f"### {_md_text(block[1])}")
            elif tag == "p":
                out.append(_md_text(block[1]))
            elif tag == "ul":
                out.append("\n".join(f"- {_md_text(item)}" for item in block[1]))
            else:
                header, rows, numeric = block[1], block[2], block[3]
                lines = [
                    "| " + " | ".join(_md_cell(c) for c in header) + " |",
                    "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
                ]
                lines.extend("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows)
                out.append("\n".join(lines))
        return "\n\n".join(out) + "\n"

    def html(self) -> str:
        """The report as one HTML document for a word processor: UTF-8, bordered tables,
        inline styles only, no scripts."""
        esc = html.escape
        cell = "border: 1px solid #000; padding: 4px 6px; vertical-align: top;"
        out = [
            "<!DOCTYPE html>",
            '<html lang="zh-CN">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{esc(self.title)}</title>",
            "</head>",
            "<body style=\"font-family: SimSun, 'Songti SC', serif; font-size: 12pt; "
            'line-height: 1.6;">',
        ]
        for block in self._blocks():
            tag = block[0]
            if tag == "h1":
                out.append(f'<h1 style="text-align: center; font-size: 18pt;">{esc(block[1])}</h1>')
            elif tag == "h2":
                out.append(f'<h2 style="font-size: 14pt;">{esc(block[1])}</h2>')
            elif tag == "h3":
                out.append(f'<h3 style="font-size: 12pt;">{esc(block[1])}</h3>')
            elif tag == "p":
                out.append(f"<p>{esc(block[1])}</p>")
            elif tag == "ul":
                out.append("<ul>")
                out.extend(f"<li>{esc(item)}</li>" for item in block[1])
                out.append("</ul>")
            else:
                header, rows, numeric = block[1], block[2], block[3]
                out.append(
                    '<table border="1" cellspacing="0" cellpadding="4" '
                    'style="border-collapse: collapse; width: 100%;">'
                )
                out.append(
                    "<tr>"
                    + "".join(f'<th style="{cell} background: #eee;">{esc(c)}</th>' for c in header)
                    + "</tr>"
                )
                for row in rows:
                    out.append(
                        "<tr>"
                        + "".join(
                            f'<td style="{cell}{" text-align: right;" if n else ""}">{esc(c)}</td>'
                            for c, n in zip(row, numeric, strict=True)
                        )
                        + "</tr>"
                    )
                out.append("</table>")
        out.extend(["</body>", "</html>"])
        return "\n".join(out) + "\n"

    def _blocks(self) -> list[tuple[Any, ...]]:
        """The report as blocks: ``("h1"|"h2"|"h3"|"p", text)``, ``("ul", items)``,
        ``("table", header, rows, numeric)``; both renderings follow them."""
        q = _QUARTER_ZH[self.quarter]
        first, last = self.period
        blocks: list[tuple[Any, ...]] = [("h1", self.title)]
        facts = [
            f"报送单位：{self.unit_name}（{self.unit}）",
            f"报送对象：{self.to_name}（{self.to}）" if self.to else "报送对象：领导小组办公室",
            f"报告期间：{_date_zh(first)}至{_date_zh(last)}",
        ]
        if self.due is not None:
            facts.append(f"报送期限：{_date_zh(self.due)}")
        facts.append(f"统计截至：{_date_zh(self.as_of)}")
        blocks.append(("ul", facts))
        blocks.append(
            (
                "p",
                f"根据学校安全稳定工作督导检查制度（三.2），现将本科室{self.year}年第{q}季度"
                "分包学校安全稳定工作督查情况报告如下。",
            )
        )
        blocks.extend(self._inspection_blocks())
        blocks.extend(self._hazard_blocks())
        blocks.extend(self._meeting_blocks())
        blocks.extend(_item_blocks("四、事故（事件）情况", "事故（事件）", self.incidents))
        blocks.extend(_item_blocks("五、大型活动情况", "活动", self.activities))
        blocks.append(("p", "本报告由记录自动生成，所列编号均可在记录中查询。"))
        return blocks

    def _inspection_blocks(self) -> list[tuple[Any, ...]]:
        v = self.visits
        blocks: list[tuple[Any, ...]] = [("h2", "一、分包学校督查情况")]
        blocks.append(
            (
                "p",
                f"本科室分包学校{len(self.packaged)}所，本季度应开展专门督查{len(v.due)}次，"
                f"按期完成{len(v.done)}次，逾期完成{len(v.late)}次，未完成{len(v.missed)}次，"
                f"待完成{len(v.pending)}次；另开展随机督查{len(v.ad_hoc)}次。",
            )
        )
        if self.schools:
            blocks.append(
                (
                    "table",
                    (
                        "学校",
                        "应督查",
                        "按期完成",
                        "逾期完成",
                        "未完成",
                        "待完成",
                        "随机督查",
                        "督查记录",
                    ),
                    tuple(
                        (
                            f"{s.name}（{s.school}）",
                            str(s.due),
                            str(s.done),
                            str(s.late),
                            str(s.missed),
                            str(s.pending),
                            str(s.ad_hoc),
                            _ids(s.inspections),
                        )
                        for s in self.schools
                    ),
                    (False, True, True, True, True, True, True, False),
                )
            )
        if self.exceptions:
            blocks.append(("h3", "未按期完成的督查"))
            blocks.append(
                (
                    "table",
                    ("督查安排", "学校", "计划日期", "情况", "完成日期", "督查记录"),
                    tuple(
                        (
                            e.visit,
                            self._school_name(e.school),
                            _date_zh(e.planned),
                            _VISIT_ZH[e.status],
                            _date_zh(e.done_on) if e.done_on is not None else "—",
                            e.inspection or "—",
                        )
                        for e in self.exceptions
                    ),
                    (False,) * 6,
                )
            )
        if self.ad_hoc:
            blocks.append(("h3", "随机督查"))
            blocks.append(
                (
                    "table",
                    ("日期", "学校", "督查记录", "方式"),
                    tuple(
                        (
                            _date_zh(i.date),
                            self._school_name(i.school),
                            i.inspection,
                            "明查" if i.announced else "暗访",
                        )
                        for i in self.ad_hoc
                    ),
                    (False,) * 4,
                )
            )
        return blocks

    def _hazard_blocks(self) -> list[tuple[Any, ...]]:
        h = self.hazards
        blocks: list[tuple[Any, ...]] = [("h2", "二、隐患排查整改情况")]
        blocks.append(
            (
                "p",
                f"本季度发现隐患{len(h.found)}处（其中重大隐患{len(h.major)}处），"
                f"整改销号{len(h.closed)}处；季度末尚未销号{len(h.open)}处，"
                f"其中逾期{len(h.overdue)}处。",
            )
        )
        if self.hazard_lines:
            blocks.append(
                (
                    "table",
                    ("隐患编号", "学校", "等级", "隐患描述", "发现日期", "销号日期", "季度末状态"),
                    tuple(
                        (
                            line.hazard,
                            line.school_name,
                            _SEVERITY_ZH[line.severity],
                            line.description,
                            _date_zh(line.found_on),
                            _date_zh(line.closed_on) if line.closed_on is not None else "—",
                            line.standing,
                        )
                        for line in self.hazard_lines
                    ),
                    (False,) * 7,
                )
            )
        return blocks

    def _meeting_blocks(self) -> list[tuple[Any, ...]]:
        t = self.topic_studies
        blocks: list[tuple[Any, ...]] = [("h2", "三、专题研究情况")]
        blocks.append(
            (
                "p",
                f"本季度应专题研究学校安全稳定工作{t.required}次以上，实际召开{len(t.held)}次"
                f"（{_QUOTA_ZH[t.status]}）。",
            )
        )
        if self.meetings:
            blocks.append(
                (
                    "table",
                    ("日期", "会议编号", "议题"),
                    tuple((_date_zh(m.date), m.meeting, m.topic) for m in self.meetings),
                    (False,) * 3,
                )
            )
        return blocks

    def _school_name(self, school_id: str) -> str:
        for line in self.schools:
            if line.school == school_id:
                return line.name
        return school_id

    # -- submitting --------------------------------------------------------------------------

    def submit(
        self,
        reports: Reports,
        *,
        actor: str,
        at: dt.datetime | None = None,
        revision: bool = False,
        report_id: str | None = None,
    ) -> SubmittedReport:
        """Submit this draft: its Markdown becomes the report's text (see
        :meth:`Reports.submit <dualduty.records.submissions.Reports.submit>`)."""
        return reports.submit(
            self.unit,
            self.year,
            self.quarter,
            actor=actor,
            title=self.title,
            text=self.markdown(),
            deadline=self.deadline,
            report_id=report_id,
            revision=revision,
            at=at,
        )


# -- drafting -------------------------------------------------------------------------------


def draft_quarterly(
    store: Store,
    org: Organisation,
    unit_id: str,
    year: int,
    quarter: int,
    *,
    schedule: Schedule | None = None,
    now: dt.datetime | None = None,
    view: Compliance | None = None,
) -> QuarterlyReport:
    """Draft a section's written report for a quarter from the record (三.2).

    :param unit_id: the section (a section-like unit: section, centre, grade group).
    :param schedule: the year's schedule (default: planned with the organisation's
        calendar, as :func:`~dualduty.records.compliance.compliance` does).
    :param now: the time the report is drafted as of (default: now, in the organisation's
        zone); records from it on are left out.
    :param view: a compliance view already computed for the year, to draft several
        sections' reports from one view; its schedule and *now* are the report's (give
        neither *schedule* nor *now* with it).
    :raises ReportError: if the unit is no section or the quarter is not 1-4, the
        schedule or view is for another year or does not cover the quarter, or *view*
        comes with a *schedule* or *now*.
    """
    from dualduty.graph import OrgGraph

    if quarter not in (1, 2, 3, 4):
        raise ReportError(f"quarter must be 1 to 4, got {quarter!r}")
    graph = OrgGraph(org)
    try:
        section = graph.unit(unit_id)
    except KeyError:
        raise ReportError(f"no unit {unit_id!r} in this organisation") from None
    if section.kind not in SECTION_KINDS:
        raise ReportError(
            f"{unit_id} ({section.name}) is a {section.kind.value}: quarterly reports are "
            "drafted for sections (三.2)"
        )
    if view is None:
        try:
            view = compliance(store, org, schedule, now=now, year=year)
        except ComplianceError as exc:
            raise ReportError(str(exc)) from None
    elif schedule is not None or now is not None:
        raise ReportError("give a compliance view, or a schedule and now; not both")
    elif view.year != year:
        raise ReportError(f"the compliance view is for {view.year}, not {year}")
    if quarter not in view.quarters:
        raise ReportError(f"the schedule does not cover {year} Q{quarter}")
    zone = zoneinfo.ZoneInfo(org.timezone)
    now = view.now
    row = view.section(unit_id, quarter)
    known_schools = {s.id for s in org.schools}

    def school_name(school_id: str) -> str:
        try:
            return graph.school(school_id).name
        except KeyError:
            return school_id

    schools = tuple(
        SchoolLine(
            r.school,
            school_name(r.school),
            len(r.visits.due),
            len(r.visits.done),
            len(r.visits.late),
            len(r.visits.missed),
            len(r.visits.pending),
            len(r.visits.ad_hoc),
            r.visits.inspections + r.visits.ad_hoc,
        )
        for r in sorted(view.school_rows(holder=unit_id, quarter=quarter), key=lambda r: r.school)
        if r.visits.due or r.visits.ad_hoc
    )
    exceptions = tuple(
        v
        for v in view.visits
        if v.holder == unit_id and v.quarter == quarter and v.status is not VisitStatus.DONE
    )
    ad_hoc = tuple(i for i in view.ad_hoc if i.holder == unit_id and i.quarter == quarter)
    listed = set(row.hazards.found) | set(row.hazards.closed) | set(row.hazards.open)
    first, last = quarter_bounds(year, quarter)
    hazard_lines = tuple(
        HazardLine(
            h.hazard,
            h.school,
            school_name(h.school),
            h.severity,
            h.description,
            h.found_on,
            h.closed_on,
            h.hazard in row.hazards.found,
            h.hazard in row.hazards.closed,
            h.hazard in row.hazards.open,
            h.hazard in row.hazards.overdue,
        )
        for h in view.hazards
        if h.hazard in listed
    )
    meetings = tuple(
        MeetingLine(data.meeting, data.date, data.topic, seq)
        for seq in row.topic_studies.seqs
        if isinstance(data := store.get(seq).record.data, MeetingHeld)
    )
    start = dt.datetime(first.year, first.month, first.day, tzinfo=zone)
    after = last + dt.timedelta(days=1)
    until = min(dt.datetime(after.year, after.month, after.day, tzinfo=zone), now)
    incidents, activities = (
        _items(
            store, unit_id, thing, since=start, until=until, now=now, zone=zone, name=school_name
        )
        for thing in ("incident", "activity")
    )
    deadline = next((r for r in view.reports if r.unit == unit_id and r.quarter == quarter), None)
    to = deadline.to if deadline is not None else None
    to_name = None
    if to is not None:
        try:
            to_name = graph.unit(to).name
        except KeyError:
            to_name = to
    return QuarterlyReport(
        unit=unit_id,
        unit_name=section.name,
        year=year,
        quarter=quarter,
        as_of=now.astimezone(zone).date(),
        to=to,
        to_name=to_name,
        deadline=deadline.deadline if deadline is not None else None,
        due=deadline.due if deadline is not None else None,
        packaged=tuple(t for t in graph.targets_of(unit_id) if t in known_schools),
        visits=row.visits,
        schools=schools,
        exceptions=exceptions,
        ad_hoc=ad_hoc,
        hazards=row.hazards,
        hazard_lines=hazard_lines,
        topic_studies=row.topic_studies,
        meetings=meetings,
        incidents=incidents,
        activities=activities,
        submission=deadline,
    )


def _items(
    store: Store,
    unit_id: str,
    thing: str,
    *,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
    zone: zoneinfo.ZoneInfo,
    name: Callable[[str], str],
) -> tuple[RecordItem, ...]:
    """The incidents (or activities) about a unit with records in ``[since, until)``.

    Reads the records of every registered kind named ``<thing>-…`` about ``unit:<id>``,
    groups them by the ``<thing>`` field of their data (or their ``<thing>:`` subject),
    and names each from its whole history before *now*.
    """
    from dualduty.records.base import RECORD_KINDS

    prefix = f"{thing}-"
    kinds = sorted(k for k in RECORD_KINDS if k.startswith(prefix))
    entries: list[Entry] = []
    for kind in kinds:
        entries.extend(store.read(kind=kind, subject=f"unit:{unit_id}", since=since, until=until))
    entries.sort(key=lambda e: e.seq)
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        key = _thing_id(entry, thing)
        if key is not None:
            groups.setdefault(key, []).append(entry)
    items = []
    for key, found in groups.items():
        history = list(store.read(subject=f"{thing}:{key}", until=now)) or found
        title = next(
            (t for e in history for t in _titles(e.record.data)),
            key,
        )
        school = next(
            (s for e in history if isinstance(s := getattr(e.record.data, "school", None), str)),
            None,
        )
        items.append(
            RecordItem(
                key,
                title,
                school,
                None if school is None else name(school),
                history[0].record.at.astimezone(zone).date(),
                tuple(e.record.kind for e in found),
                tuple(e.seq for e in found),
                _standing(thing, [e.record for e in history], now, zone),
            )
        )
    items.sort(key=lambda i: (i.first_on, i.id))
    return tuple(items)


_GAPS_ZH = {
    "no_safety_plan": "安全预案未按期审批",
    "not_approved": "活动未按期审批",
    "not_supervised": "无人监督",
}


def _standing(thing: str, records: list[Record], now: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """How an incident or an activity stands at *now*, from its whole history (see
    :attr:`RecordItem.standing`); empty when its records do not fold (a plugin's kind)."""
    from dualduty.records.activities import ActivityState
    from dualduty.records.incidents import IncidentRules, IncidentState

    try:
        if thing == "incident":
            incident = IncidentState.fold(records, IncidentRules(timezone=zone.key))
            if incident is None:
                return ""
            flags = sorted({f.kind.label for f in incident.flags(now)})
            parts = [incident.category.label, f"{incident.grade.label}等级"]
            if incident.responsible is not None:
                parts.append("有责任" if incident.responsible else "无责任")
            return "，".join(parts) + ("；" + "、".join(flags) if flags else "")
        activity = ActivityState.fold(records, zone=zone.key)
        if activity is None:
            return ""
        gaps = [_GAPS_ZH[f.gap.value] for f in activity.findings(now.astimezone(zone).date())]
        size = "大型活动，" if activity.large_scale else ""
        if activity.cancelled:
            return size + "已取消"
        if gaps:
            return size + "、".join(gaps)
        return size + ("安全预案已审批" if activity.plan_approved else "安全预案待审批")
    except (DualdutyError, KeyError, TypeError, AttributeError):
        return ""


def _thing_id(entry: Entry, thing: str) -> str | None:
    value = getattr(entry.record.data, thing, None)
    if isinstance(value, str):
        return value
    prefix = f"{thing}:"
    for subject in entry.record.subjects:
        if subject.startswith(prefix):
            return subject[len(prefix) :]
    return None


def _titles(data: object) -> Iterable[str]:
    for name in _TITLE_FIELDS:
        value = getattr(data, name, None)
        if isinstance(value, str) and value.strip():
            yield value.strip()


def _item_blocks(heading: str, what: str, items: Sequence[RecordItem]) -> list[tuple[Any, ...]]:
    blocks: list[tuple[Any, ...]] = [("h2", heading)]
    if not items:
        blocks.append(("p", f"本季度无涉及本科室的{what}记录。"))
        return blocks
    blocks.append(("p", f"本季度涉及本科室的{what}{len(items)}起。"))
    blocks.append(
        (
            "table",
            ("编号", "名称", "学校", "首次记录", "情况"),
            tuple(
                (
                    i.id,
                    i.title,
                    f"{i.school_name}（{i.school}）" if i.school else "—",
                    _date_zh(i.first_on),
                    i.standing or "—",
                )
                for i in items
            ),
            (False,) * 5,
        )
    )
    return blocks


# -- text helpers ---------------------------------------------------------------------------


def _date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _ids(ids: Sequence[str]) -> str:
    return "、".join(ids) if ids else "—"


def _md_text(text: str) -> str:
    """One line of Markdown text: white space collapsed, Markdown's markup characters
    escaped so that data prints as written."""
    text = " ".join(str(text).split())
    return re.sub(r"([\\`*\[\]<>|])", r"\\\1", text)


def _md_cell(text: str) -> str:
    return _md_text(text)
