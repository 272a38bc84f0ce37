"""The quarterly coordination meeting pack (调度会材料, clause 三.3).

每季度要召开机关各科室学校安全稳定工作调度会: every quarter the leading group's office
convenes all sections to go over school safety. :func:`meeting_pack` drafts the papers
for that meeting from the record — a district-wide summary of the quarter across
sections, as it stands at *now* (the meeting falls late in the quarter, so what is not
over yet is *pending*):

1. **system implementation** (制度落实): per section and per leading-group member, the
   dedicated inspections due, done, late, missed and pending (三.2), the topic studies
   held against the quota (二(三).1), the quarter's written report (三.2) — all from the
   compliance view (:func:`~dualduty.records.compliance.compliance`); and whether the
   quarter's coordination meeting has been held;
2. **hazards** (隐患排查治理): found, closed, open and overdue in the quarter, district
   wide (each hazard once), and every overdue hazard with the deadlines it missed, its
   school's sections, the person answering for its rectification and how far up its
   chain it was escalated;
3. **incidents** (事故): those that occurred in the quarter, with class, grade,
   responsibility and reporting flags (迟报、漏报、瞒报);
4. **reports not on time**: the quarterly reports of the quarter and the one before that
   came in late or not at all;
5. **coverage gaps** (:func:`~dualduty.coverage.analyse`, the packages and in-charge
   edges in force at the quarter's end);
6. **changes of responsibility** (责任变更): the changes to the organisation the record
   holds that take effect within the quarter (:class:`~dualduty.records.Timeline`:
   posts filled and vacated, packages set, moved and ended, in-charge edges reshuffled,
   people joined), each with its date and its record's ``seq``, and what the
   organisation itself dates within the quarter — a post's holder since, a package's or
   an in-charge edge's start and end. When neither the record nor the organisation
   dates anything the pack says that changes cannot be told, rather than that there
   were none;
7. a **proposed agenda** (议程) derived from the findings: overdue hazards first, then
   the quarter's report, incidents, shortfalls, late reports, coverage gaps, changes of
   responsibility, and the next quarter's work.

:func:`pack_markdown`, :func:`pack_html` and :func:`pack_docx` render the pack.

The pack is drafted from the organisation with the record's changes laid over it
(:meth:`~dualduty.records.Timeline.dated`): the schedule is planned from it (a package
moved mid-quarter gives its later visits to its new holder), the posts and their holders
are those in force at the quarter's end (or at *now*, if earlier), and each hazard and
incident names the sections that held its school's package on its day.
:func:`describe_changes` words every recorded change, as the pack and ``dualduty org
history`` print it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING

import attrs

from dualduty.model.schedule import MeetingKind

from . import _docx
from ._docx import Block, Bullets, DocumentError, Heading, Para, Table, date_zh

if TYPE_CHECKING:
    from dualduty.graph import OrgGraph
    from dualduty.model import Organisation, Schedule
    from dualduty.records.compliance import Compliance, HolderRow, SectionRow
    from dualduty.records.timeline import Change, Timeline
    from dualduty.storage.store import Store

__all__ = [
    "AgendaItem",
    "DocumentError",
    "MeetingPack",
    "PackChange",
    "PackGap",
    "PackHazard",
    "PackIncident",
    "PackReport",
    "PackRow",
    "describe_changes",
    "meeting_pack",
    "pack_docx",
    "pack_html",
    "pack_markdown",
]

_QUARTER_ZH = {1: "一", 2: "二", 3: "三", 4: "四"}
_QUOTA_ZH = {"met": "达标", "short": "未达标", "pending": "进行中"}
_REPORT_ZH = {"on_time": "按时报送", "late": "逾期报送", "missing": "未报送", "pending": "未到期"}
_MISSED_ZH = {
    "report": "未及时上报",
    "plan": "未按期制定整改方案",
    "time-limit": "超过整改时限",
    "close": "未按期销号",
}


# -- the pack's lines ---------------------------------------------------------------------


@attrs.frozen
class PackRow:
    """A section's (or a leading-group member's) quarter, from the compliance view."""

    holder: str
    """The unit id (a section) or the post id (a member)."""
    name: str
    member: bool
    """A leading-group member (on their packages), not a section."""
    schools: int
    """Its packaged schools at the quarter's end."""
    due: int
    done: int
    late: int
    missed: int
    pending: int
    ad_hoc: int
    hazards_found: int
    hazards_closed: int
    hazards_open: int
    hazards_overdue: int
    topic_required: int | None = None
    """Sections only: the topic studies required in the quarter."""
    topic_held: int | None = None
    topic_status: str | None = None
    """``met``, ``short`` or ``pending`` (:class:`~dualduty.records.compliance.QuotaStatus`)."""
    report: str | None = None
    """The quarter's report: ``on_time``, ``late``, ``missing`` or ``pending``
    (:class:`~dualduty.records.compliance.ReportStatus`); ``None``: none was due."""


@attrs.frozen
class PackHazard:
    """An overdue hazard at the quarter's end (or at *now*, if earlier)."""

    hazard: str
    school: str
    school_name: str
    major: bool
    description: str
    found_on: dt.date
    missed: tuple[str, ...]
    """The deadlines it missed at *now* (``report``, ``plan``, ``time-limit``, ``close``)."""
    sections: tuple[str, ...]
    """The names of the sections packaging its school."""
    responsible: str | None
    """Who answers for its rectification (the plan's; before one, the head of the school's
    section), by name."""
    escalation: int = 0
    """How far up its chain it was escalated (0: not yet)."""


@attrs.frozen
class PackIncident:
    """An incident that occurred in the quarter, as it stands at *now*."""

    incident: str
    school: str
    school_name: str
    category: str
    """Its class, in Chinese (事故灾难, …)."""
    grade: str
    """Its grade, in Chinese (一般, 较大, …)."""
    title: str
    occurred_on: dt.date
    responsible: bool | None
    """A responsibility incident (``None``: not determined yet)."""
    flags: tuple[str, ...]
    """Reporting flags at *now*, in Chinese (迟报, 漏报, 瞒报)."""
    sections: tuple[str, ...]
    """The names of the sections packaging its school."""


@attrs.frozen
class PackReport:
    """A quarterly report that came in late, or not at all."""

    unit: str
    name: str
    quarter: int
    due: dt.date
    status: str
    """``late`` or ``missing``."""
    submitted_on: dt.date | None = None


@attrs.frozen
class PackGap:
    """A coverage gap (:class:`~dualduty.coverage.Gap`)."""

    severity: str
    kind: str
    subject: str
    clause: str
    message: str


@attrs.frozen
class PackChange:
    """A change of responsibility within the quarter: recorded (with its ``seq``) or
    dated by the organisation itself."""

    date: dt.date
    """The first day it is in force (for a package or an in-charge edge the organisation
    ends: its last day)."""
    what: str
    """What changed, in Chinese."""
    subject: str
    """``post:<id>``, ``package:<id>``, ``in-charge:<post id>`` or ``person:<id>``."""
    seq: int | None = None
    """The record of the change (``None``: the organisation dates it)."""


@attrs.frozen
class AgendaItem:
    """An item of the proposed agenda (议程), with why it is on it."""

    title: str
    detail: str
    clause: str


# -- the pack ----------------------------------------------------------------------------------


@attrs.frozen
class MeetingPack:
    """The papers of a quarter's coordination meeting; render it with
    :func:`pack_markdown`, :func:`pack_html` or :func:`pack_docx`."""

    org_id: str
    org_name: str
    year: int
    quarter: int
    as_of: dt.date
    """The day of *now* the pack was drafted as of."""
    meetings: tuple[tuple[str, dt.date, str], ...]
    """The quarter's scheduled coordination meetings: (id, day, convening unit's name)."""
    held: tuple[str, ...]
    """The coordination meetings of the quarter held so far (meeting ids)."""
    sections: tuple[PackRow, ...]
    members: tuple[PackRow, ...]
    hazards: dict[str, int]
    """District-wide, each hazard once: ``found``, ``major``, ``closed``, ``open``,
    ``overdue``."""
    overdue: tuple[PackHazard, ...]
    incidents: tuple[PackIncident, ...]
    reports: tuple[PackReport, ...]
    """Reports of the quarter and the one before not on time (late or missing)."""
    gaps: tuple[PackGap, ...]
    changes: tuple[PackChange, ...]
    """The quarter's changes of responsibility by date: the recorded ones and those the
    organisation dates."""
    changes_known: bool
    """Whether changes can be told: the record holds changes to the organisation (recorded
    by *now*), or the organisation dates anything (a post's ``since``, a package's or an
    in-charge edge's ``start`` or ``end``)."""
    agenda: tuple[AgendaItem, ...]

    @property
    def title(self) -> str:
        """``区教育体育局2026年第三季度学校安全稳定工作调度会材料``."""
        return (
            f"{self.org_name}{self.year}年第{_QUARTER_ZH[self.quarter]}季度"
            "学校安全稳定工作调度会材料"
        )

    def totals(self) -> dict[str, int]:
        """The quarter's dedicated inspections over every holder (sections and members):
        ``due``, ``done``, ``late``, ``missed``, ``pending``, ``ad_hoc``."""
        rows = (*self.sections, *self.members)
        return {
            name: sum(getattr(r, name) for r in rows)
            for name in ("due", "done", "late", "missed", "pending", "ad_hoc")
        }

    def figures(self) -> dict[str, int]:
        """The pack's counts by name."""
        t = self.totals()
        return {
            **{f"visits_{k}": v for k, v in t.items()},
            **{f"hazards_{k}": v for k, v in self.hazards.items()},
            "topic_studies_short": sum(1 for r in self.sections if r.topic_status == "short"),
            "reports_late": sum(1 for r in self.reports if r.status == "late"),
            "reports_missing": sum(1 for r in self.reports if r.status == "missing"),
            "incidents": len(self.incidents),
            "gaps": len(self.gaps),
            "gap_errors": sum(1 for g in self.gaps if g.severity == "error"),
            "changes": len(self.changes),
            "agenda": len(self.agenda),
        }

    # -- blocks ---------------------------------------------------------------------------

    def blocks(self) -> tuple[Block, ...]:
        """The pack as blocks, which every rendering follows."""
        first, last = _quarter(self.year, self.quarter)
        held = "已召开" if self.held else "尚未召开"
        when = "、".join(f"{date_zh(day)}（{unit}）" for _m, day, unit in self.meetings)
        out: list[Block] = [
            Heading(1, self.title),
            Bullets(
                [
                    f"统计期间：{date_zh(first)}至{date_zh(last)}",
                    f"统计截至：{date_zh(self.as_of)}",
                    f"本季度调度会：{when or '日程未安排'}；{held}（三.3）",
                ]
            ),
            Heading(2, "一、建议议程"),
        ]
        out.append(
            Table(
                ("序号", "议题", "情况", "依据"),
                [(str(n), a.title, a.detail, a.clause) for n, a in enumerate(self.agenda, 1)],
                (True, False, False, False),
            )
        )
        out.extend(self._compliance_blocks())
        out.extend(self._hazard_blocks())
        out.extend(self._incident_blocks())
        out.extend(self._report_blocks())
        out.extend(self._gap_blocks())
        out.extend(self._change_blocks())
        out.append(Para("本材料由工作记录自动生成，所列编号均可在记录中查询。"))
        return tuple(out)

    def _compliance_blocks(self) -> list[Block]:
        t = self.totals()
        out: list[Block] = [Heading(2, "二、制度落实情况")]
        out.append(
            Para(
                f"本季度应开展专门督查{t['due']}次，按期完成{t['done']}次，逾期完成{t['late']}次，"
                f"未完成{t['missed']}次，待完成{t['pending']}次；另开展随机督查{t['ad_hoc']}次（三.2）。"
            )
        )
        out.append(Heading(3, "各科室"))
        out.append(
            Table(
                (
                    "科室",
                    "分包学校",
                    "应督查",
                    "按期完成",
                    "逾期",
                    "未完成",
                    "待完成",
                    "随机督查",
                    "专题研究",
                    "季度报告",
                ),
                [
                    (
                        r.name,
                        str(r.schools),
                        str(r.due),
                        str(r.done),
                        str(r.late),
                        str(r.missed),
                        str(r.pending),
                        str(r.ad_hoc),
                        f"{r.topic_held}/{r.topic_required}"
                        f"（{_QUOTA_ZH.get(r.topic_status or '', '—')}）",
                        _REPORT_ZH.get(r.report or "", "—"),
                    )
                    for r in self.sections
                ],
                (False, True, True, True, True, True, True, True, False, False),
            )
        )
        if self.members:
            out.append(Heading(3, "领导小组成员分包学校"))
            out.append(
                Table(
                    (
                        "岗位",
                        "分包学校",
                        "应督查",
                        "按期完成",
                        "逾期",
                        "未完成",
                        "待完成",
                        "随机督查",
                    ),
                    [
                        (
                            r.name,
                            str(r.schools),
                            str(r.due),
                            str(r.done),
                            str(r.late),
                            str(r.missed),
                            str(r.pending),
                            str(r.ad_hoc),
                        )
                        for r in self.members
                    ],
                    (False, True, True, True, True, True, True, True),
                )
            )
        return out

    def _hazard_blocks(self) -> list[Block]:
        h = self.hazards
        out: list[Block] = [Heading(2, "三、隐患排查治理情况")]
        out.append(
            Para(
                f"本季度全区发现隐患{h['found']}处（其中重大隐患{h['major']}处），整改销号"
                f"{h['closed']}处；截至季度末（或统计截至日）尚未销号{h['open']}处，其中逾期"
                f"{h['overdue']}处。"
            )
        )
        rows = [r for r in self.sections if r.hazards_found or r.hazards_open or r.hazards_closed]
        if rows:
            out.append(
                Table(
                    ("科室", "发现", "销号", "未销号", "逾期"),
                    [
                        (
                            r.name,
                            str(r.hazards_found),
                            str(r.hazards_closed),
                            str(r.hazards_open),
                            str(r.hazards_overdue),
                        )
                        for r in rows
                    ],
                    (False, True, True, True, True),
                )
            )
        if self.overdue:
            out.append(Heading(3, "逾期未整改隐患"))
            out.append(
                Table(
                    (
                        "隐患编号",
                        "学校",
                        "等级",
                        "隐患描述",
                        "发现日期",
                        "逾期情形",
                        "分包科室",
                        "整改责任人",
                        "督办",
                    ),
                    [
                        (
                            x.hazard,
                            f"{x.school_name}（{x.school}）",
                            "重大" if x.major else "一般",
                            x.description,
                            date_zh(x.found_on),
                            "、".join(_MISSED_ZH.get(m, m) for m in x.missed) or "—",
                            "、".join(x.sections) or "—",
                            x.responsible or "（未明确）",
                            f"已督办至第{x.escalation}级" if x.escalation else "未督办",
                        )
                        for x in self.overdue
                    ],
                )
            )
        return out

    def _incident_blocks(self) -> list[Block]:
        out: list[Block] = [Heading(2, "四、事故（事件）情况")]
        if not self.incidents:
            out.append(Para("本季度无事故（事件）记录。"))
            return out
        out.append(Para(f"本季度发生事故（事件）{len(self.incidents)}起。"))
        out.append(
            Table(
                (
                    "编号",
                    "名称",
                    "学校",
                    "发生日期",
                    "类别及等级",
                    "责任认定",
                    "报告情况",
                    "分包科室",
                ),
                [
                    (
                        i.incident,
                        i.title,
                        f"{i.school_name}（{i.school}）",
                        date_zh(i.occurred_on),
                        f"{i.category}，{i.grade}",
                        {True: "责任事故", False: "无责任", None: "尚未认定"}[i.responsible],
                        "、".join(i.flags) or "按规定报告",
                        "、".join(i.sections) or "—",
                    )
                    for i in self.incidents
                ],
            )
        )
        return out

    def _report_blocks(self) -> list[Block]:
        out: list[Block] = [Heading(2, "五、季度书面报告报送情况")]
        if not self.reports:
            out.append(Para("本季度及上季度的书面报告均已按时报送（或尚未到期）。"))
            return out
        late = sum(1 for r in self.reports if r.status == "late")
        missing = len(self.reports) - late
        out.append(Para(f"本季度及上季度书面报告逾期报送{late}份，未报送{missing}份（三.2）。"))
        out.append(
            Table(
                ("科室", "季度", "报送期限", "情况", "报送日期"),
                [
                    (
                        r.name,
                        f"第{_QUARTER_ZH[r.quarter]}季度",
                        date_zh(r.due),
                        _REPORT_ZH.get(r.status, r.status),
                        date_zh(r.submitted_on) if r.submitted_on is not None else "—",
                    )
                    for r in self.reports
                ],
            )
        )
        return out

    def _gap_blocks(self) -> list[Block]:
        out: list[Block] = [Heading(2, "六、责任覆盖缺口")]
        if not self.gaps:
            out.append(Para("季度末在岗人员、分包和分管关系下，未发现责任覆盖缺口。"))
            return out
        errors = sum(1 for g in self.gaps if g.severity == "error")
        out.append(
            Para(
                f"发现责任覆盖缺口{len(self.gaps)}项，其中须纠正的{errors}项、"
                f"提示{len(self.gaps) - errors}项。"
            )
        )
        out.append(
            Table(
                ("级别", "对象", "条款", "说明"),
                [
                    ("须纠正" if g.severity == "error" else "提示", g.subject, g.clause, g.message)
                    for g in self.gaps
                ],
            )
        )
        return out

    def _change_blocks(self) -> list[Block]:
        out: list[Block] = [Heading(2, "七、责任变更")]
        if self.changes:
            out.append(
                Table(
                    ("日期", "变更", "对象", "依据"),
                    [
                        (
                            date_zh(c.date),
                            c.what,
                            c.subject,
                            f"记录{c.seq}" if c.seq is not None else "组织文件",
                        )
                        for c in self.changes
                    ],
                )
            )
            out.append(
                Para(
                    "以上依据工作记录中的组织变更记录（注明记录号）和组织文件所载的任职起始日期、"
                    "分包和分管起止日期；既未记录、也未记载日期的变更不在此列。"
                )
            )
        elif self.changes_known:
            out.append(
                Para(
                    "工作记录中的组织变更记录和组织文件所载的任职起始日期、分包和分管起止日期中，"
                    "没有落在本季度的责任变更。"
                )
            )
        else:
            out.append(
                Para(
                    "工作记录中没有组织变更记录，组织文件也未记载任职起始日期和分包、分管起止日期，"
                    "无从判断本季度有无责任变更；请办公室核对后补充（dualduty org）。"
                )
            )
        return out


def _quarter(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    from dualduty.calendars import quarter_bounds

    return quarter_bounds(year, quarter)


# -- rendering --------------------------------------------------------------------------------


def pack_markdown(pack: MeetingPack) -> str:
    """The pack as Markdown."""
    return _docx.markdown(pack.blocks())


def pack_html(pack: MeetingPack) -> str:
    """The pack as one HTML document a word processor opens."""
    return _docx.html(pack.blocks(), pack.title)


def pack_docx(pack: MeetingPack) -> bytes:
    """The pack as a Word document (.docx).

    :raises ~dualduty.reports._docx.MissingDocx: without python-docx
        (``pip install 'dualduty[docx]'``).
    """
    return _docx.docx(pack.blocks(), pack.title)


# -- drafting ---------------------------------------------------------------------------------


def meeting_pack(
    store: Store,
    org: Organisation,
    year: int,
    quarter: int,
    *,
    schedule: Schedule | None = None,
    now: dt.datetime | None = None,
) -> MeetingPack:
    """Draft the papers of a quarter's coordination meeting from the record (三.3).

    :param store: the record; the changes to the organisation it holds are laid over
        *org*.
    :param org: the organisation as the district file describes it.
    :param year: the year.
    :param quarter: the quarter, 1 to 4.
    :param schedule: the year's schedule (default: planned with the organisation's
        calendar from the organisation with the record's changes, as
        :func:`~dualduty.records.compliance.compliance` does).
    :param now: the time the pack is drafted as of (default: now, in the organisation's
        zone); records from it on are left out (changes to the organisation recorded
        after it too).
    :raises DocumentError: if the quarter is not 1 to 4, or the schedule is for another
        year or does not cover the quarter.
    """
    from dualduty.coverage import analyse
    from dualduty.graph import OrgGraph
    from dualduty.records.compliance import ComplianceError, compliance
    from dualduty.records.timeline import Timeline

    if quarter not in (1, 2, 3, 4):
        raise DocumentError(f"quarter must be 1 to 4, got {quarter!r}")
    zone = zoneinfo.ZoneInfo(org.timezone)
    if now is None:
        now = dt.datetime.now(zone)
    elif now.utcoffset() is None:
        raise DocumentError(f"now: {now!r} must be a date and time with a time zone")
    first, last = _quarter(year, quarter)
    # the organisation with the record's changes: every package and in-charge version
    # dated, the posts as held at the quarter's end (or now, if earlier)
    day = min(last, now.astimezone(zone).date())
    line = Timeline.from_store(org, store)
    dated = line.dated(day) if line else org
    if schedule is None:
        from dualduty.calendars import calendar_for
        from dualduty.planning import plan_schedule

        schedule = plan_schedule(dated, calendar_for(org, [year]), year)
    elif schedule.year != year:
        raise DocumentError(f"the schedule is for {schedule.year}, not {year}")
    try:
        view = compliance(store, org, schedule, now=now, year=year)
    except ComplianceError as exc:
        raise DocumentError(str(exc)) from None
    if quarter not in view.quarters:
        raise DocumentError(f"the schedule does not cover {year} Q{quarter}")
    graph = OrgGraph(dated, on=day)
    sections_on = _SectionsOn(dated)
    now = view.now
    names = {s.id: s.name for s in org.schools}
    names.update((p.id, p.name) for p in org.places)

    sections = tuple(_section_row(r, graph, last) for r in view.sections if r.quarter == quarter)
    members = tuple(
        _member_row(r, graph, last)
        for r in view.holders
        if r.quarter == quarter and r.kind == "post"
    )
    hazards, overdue = _hazards(
        store,
        org,
        graph=graph,
        sections_on=sections_on,
        view=view,
        quarter=quarter,
        names=names,
        now=now,
    )
    incidents = _incidents(
        store,
        org,
        sections_on=sections_on,
        names=names,
        first=first,
        last=last,
        now=now,
        zone=zone,
    )
    reports = _late_reports(view, graph, quarter)
    coverage = analyse(dated, on=day)
    gaps = tuple(
        PackGap(g.severity.value, g.kind.value, g.subject, g.clause, g.message)
        for g in coverage.gaps
    )
    changes, known = _changes(org, graph, first, last)
    recorded = _recorded_changes(line, first, last, now)
    if any(c.at <= now for c in line.changes):  # the record holds changes by now
        known = True
    changes = tuple(sorted((*recorded, *changes), key=lambda c: (c.date, c.seq or 0, c.subject)))
    tally = next((t for t in view.coordination if t.quarter == quarter), None)
    meetings = tuple(
        (m.id, m.date, _unit_name(graph, m.unit))
        for m in sorted(schedule.meetings, key=lambda m: (m.date, m.id))
        if m.kind is MeetingKind.COORDINATION and m.quarter == quarter
    )
    pack = MeetingPack(
        org_id=org.id,
        org_name=org.name,
        year=year,
        quarter=quarter,
        as_of=now.date(),
        meetings=meetings,
        held=tally.held if tally is not None else (),
        sections=sections,
        members=members,
        hazards=hazards,
        overdue=overdue,
        incidents=incidents,
        reports=reports,
        gaps=gaps,
        changes=changes,
        changes_known=known,
        agenda=(),
    )
    upcoming = sum(1 for v in schedule.visits if v.quarter == quarter + 1)
    return attrs.evolve(pack, agenda=_agenda(pack, quarter, upcoming))


def _unit_name(graph: OrgGraph, unit_id: str) -> str:
    try:
        return graph.unit(unit_id).name
    except KeyError:
        return unit_id


def _schools_at(graph: OrgGraph, holder: str, day: dt.date) -> int:
    seen: set[str] = set()
    for package in graph.org.packages:
        if package.holder != holder:
            continue
        if (package.start is None or package.start <= day) and (
            package.end is None or day <= package.end
        ):
            seen.update(package.targets)
    return len(seen)


def _section_row(row: SectionRow, graph: OrgGraph, last: dt.date) -> PackRow:
    v, h = row.visits.counts(), row.hazards
    report = row.reports[0].status.value if row.reports else None
    return PackRow(
        row.section,
        row.name,
        False,
        _schools_at(graph, row.section, last),
        v["due"],
        v["done"],
        v["late"],
        v["missed"],
        v["pending"],
        v["ad_hoc"],
        len(h.found),
        len(h.closed),
        len(h.open),
        len(h.overdue),
        row.topic_studies.required,
        len(row.topic_studies.held),
        row.topic_studies.status.value,
        report,
    )


def _member_row(row: HolderRow, graph: OrgGraph, last: dt.date) -> PackRow:
    v, h = row.visits.counts(), row.hazards
    try:
        holder = graph.holder_of(row.holder)
    except KeyError:
        holder = None
    name = row.name + (f"（{holder.name}）" if holder is not None else "")
    return PackRow(
        row.holder,
        name,
        True,
        _schools_at(graph, row.holder, last),
        v["due"],
        v["done"],
        v["late"],
        v["missed"],
        v["pending"],
        v["ad_hoc"],
        len(h.found),
        len(h.closed),
        len(h.open),
        len(h.overdue),
    )


class _SectionsOn:
    """The names of the sections holding a school's package on a day (graphs cached)."""

    def __init__(self, org: Organisation) -> None:
        self.org = org
        self._graphs: dict[dt.date, OrgGraph] = {}

    def __call__(self, school: str, day: dt.date) -> tuple[str, ...]:
        from dualduty.graph import OrgGraph

        graph = self._graphs.get(day)
        if graph is None:
            graph = self._graphs[day] = OrgGraph(self.org, on=day)
        try:
            return tuple(u.name for u in graph.sections_for(school))
        except KeyError:  # a school no longer in the organisation
            return ()


def _hazards(
    store: Store,
    org: Organisation,
    *,
    graph: OrgGraph,
    sections_on: _SectionsOn,
    view: Compliance,
    quarter: int,
    names: dict[str, str],
    now: dt.datetime,
) -> tuple[dict[str, int], tuple[PackHazard, ...]]:
    """The district's hazard counts for the quarter (each hazard once) and its overdue ones."""
    from dualduty.records.hazards import HazardRules, escalation_chain, fold_hazards

    first, last = _quarter(view.year, quarter)
    counts = dict.fromkeys(("found", "major", "closed", "open", "overdue"), 0)
    late = []
    for h in view.hazards:
        if first <= h.found_on <= last:
            counts["found"] += 1
            counts["major"] += h.major
        if h.closed_on is not None and first <= h.closed_on <= last:
            counts["closed"] += 1
        if quarter in h.open_at:
            counts["open"] += 1
        if quarter in h.overdue_at:
            counts["overdue"] += 1
            late.append(h)
    if not late:
        return counts, ()
    states = {s.id: s for s in fold_hazards(store, HazardRules.of(org.rules), until=now)}
    out = []
    for h in late:
        state = states.get(h.hazard)
        responsible: str | None = None
        level = 0
        try:
            chain = escalation_chain(graph, h.school)
        except KeyError:
            chain = ()
        if state is not None:
            level = state.escalation_level
            if state.plan is not None:
                responsible = state.plan.responsible
        if responsible is None and chain:
            responsible = chain[0].holder
        person = None
        if responsible is not None:
            try:
                person = graph.person(responsible).name
            except KeyError:
                person = responsible
        sections = sections_on(h.school, h.found_on)
        out.append(
            PackHazard(
                h.hazard,
                h.school,
                names.get(h.school, h.school),
                h.major,
                h.description,
                h.found_on,
                h.missed,
                sections,
                person,
                level,
            )
        )
    out.sort(key=lambda x: (not x.major, x.found_on, x.hazard))
    return counts, tuple(out)


def _incidents(
    store: Store,
    org: Organisation,
    *,
    sections_on: _SectionsOn,
    names: dict[str, str],
    first: dt.date,
    last: dt.date,
    now: dt.datetime,
    zone: zoneinfo.ZoneInfo,
) -> tuple[PackIncident, ...]:
    from dualduty.records.incidents import IncidentRules, fold_incidents

    out = []
    for state in fold_incidents(store, IncidentRules.of(org), until=now):
        day = state.occurred_at.astimezone(zone).date()
        if not first <= day <= last:
            continue
        sections = sections_on(state.school, day)
        out.append(
            PackIncident(
                state.id,
                state.school,
                names.get(state.school, state.school),
                state.category.label,
                state.grade.label,
                state.title,
                day,
                state.responsible,
                tuple(sorted({f.kind.label for f in state.flags(now)})),
                sections,
            )
        )
    out.sort(key=lambda i: (i.occurred_on, i.incident))
    return tuple(out)


def _late_reports(view: Compliance, graph: OrgGraph, quarter: int) -> tuple[PackReport, ...]:
    wanted = {quarter, quarter - 1}
    out = [
        PackReport(
            r.unit,
            _unit_name(graph, r.unit),
            r.quarter,
            r.due,
            r.status.value,
            r.submitted_on,
        )
        for r in view.reports
        if r.quarter in wanted and r.status.value in ("late", "missing")
    ]
    order = {u.id: n for n, u in enumerate(graph.org.units)}
    out.sort(key=lambda r: (-r.quarter, r.status != "missing", order.get(r.unit, len(order))))
    return tuple(out)


def _changes(
    org: Organisation, graph: OrgGraph, first: dt.date, last: dt.date
) -> tuple[tuple[PackChange, ...], bool]:
    """The changes of responsibility the organisation dates within [first, last], and
    whether it dates anything at all."""
    known = False
    out: list[PackChange] = []

    def within(day: dt.date | None) -> bool:
        return day is not None and first <= day <= last

    for unit, post in org.iter_posts():
        if post.since is None:
            continue
        known = True
        if within(post.since):
            holder = graph.holder_of(post.id)
            who = holder.name if holder is not None else "（空缺）"
            out.append(
                PackChange(post.since, f"{unit.name}{post.title}由{who}担任", f"post:{post.id}")
            )
    for edge in org.in_charge:
        if edge.start is None and edge.end is None:
            continue
        known = True
        units = "、".join(_unit_name(graph, u) for u in edge.units)
        title = _post_title(graph, edge.post)
        if within(edge.start):
            assert edge.start is not None
            out.append(PackChange(edge.start, f"{title}开始分管{units}", f"in-charge:{edge.post}"))
        if within(edge.end):
            assert edge.end is not None
            out.append(PackChange(edge.end, f"{title}不再分管{units}", f"in-charge:{edge.post}"))
    for package in org.packages:
        if package.start is None and package.end is None:
            continue
        known = True
        holder_name = _post_title(graph, package.holder)
        schools = "、".join(package.targets[:5]) + ("等" if len(package.targets) > 5 else "")
        n = len(package.targets)
        if within(package.start):
            assert package.start is not None
            out.append(
                PackChange(
                    package.start,
                    f"{holder_name}开始分包{n}所学校（{schools}）",
                    f"package:{package.id}",
                )
            )
        if within(package.end):
            assert package.end is not None
            out.append(
                PackChange(
                    package.end,
                    f"{holder_name}结束分包{n}所学校（{schools}）",
                    f"package:{package.id}",
                )
            )
    out.sort(key=lambda c: (c.date, c.subject))
    return tuple(out), known


def _recorded_changes(
    line: Timeline, first: dt.date, last: dt.date, now: dt.datetime
) -> list[PackChange]:
    """The changes recorded (before *now*) that take effect from *first* to *last*."""
    if not line:
        return []
    texts = describe_changes(line)
    return [
        PackChange(c.effective, texts[c.seq], _change_subject(c), c.seq)
        for c in line.changes
        if first <= c.effective <= last and c.at <= now
    ]


def _change_subject(change: Change) -> str:
    from dualduty.records.timeline import (
        InChargeChanged,
        PackageChanged,
        PackageEnded,
        PersonJoined,
    )

    data = change.data
    if isinstance(data, PersonJoined):
        return f"person:{data.person}"
    if isinstance(data, InChargeChanged):
        return f"in-charge:{data.post}"
    if isinstance(data, PackageChanged | PackageEnded):
        return f"package:{data.package}"
    return f"post:{data.post}"


def describe_changes(line: Timeline) -> dict[int, str]:
    """Every recorded change of *line* in words (Chinese), by its record's ``seq``: what
    it changes, from what to what.

    The changes are read in the order they take effect, so each says what stood the day
    before (a post's holder, a package's holder and schools, the units a post is in
    charge of); a vacant post is 空缺.

    >>> import datetime as dt
    >>> import dualduty
    >>> from dualduty.records import PackageChanged, PersonJoined, PostAssigned, Timeline
    >>> from dualduty.records.timeline import Change
    >>> from dualduty.reports.pack import describe_changes
    >>> org = dualduty.reference_organisation(schools=3)
    >>> at = dt.datetime(2026, 6, 20, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    >>> day = dt.date(2026, 6, 30)
    >>> line = Timeline(org, [
    ...     Change(7, "p001", at, PackageChanged("pkg-general-office", "moral-education", day,
    ...                                          schools=("s0002",))),
    ...     Change(8, "p001", at, PersonJoined("p090", "钱立新", day)),
    ...     Change(9, "p001", at, PostAssigned("general-office.head", "p090", day)),
    ... ])
    >>> for seq, text in describe_changes(line).items():
    ...     print(seq, text)
    7 分包pkg-general-office（南关街道第一初级中学）：办公室 → 政教科
    8 钱立新（p090）加入
    9 办公室主任（general-office.head）：马伟 → 钱立新
    """
    from dualduty.records.timeline import (
        Before,
        InChargeChanged,
        PackageChanged,
        PackageEnded,
        PersonJoined,
    )

    org = line.org
    posts = {p.id: p for _u, p in org.iter_posts()}
    units = {u.id: u.name for u in org.units}
    targets = {s.id: s.name for s in org.schools}
    targets.update((p.id, p.name) for p in org.places)

    def listed(ids: tuple[str, ...], names: dict[str, str]) -> str:
        shown = "、".join(names.get(i, i) for i in ids[:3])
        return (shown + (f"等{len(ids)}个" if len(ids) > 3 else "")) or "无"

    def who(before: Before, person: str | None) -> str:
        found = None if person is None else before.people.get(person)
        return "空缺" if person is None else (person if found is None else found.name)

    def holder_label(before: Before, holder: str) -> str:
        post = posts.get(holder)
        if holder in units or post is None:
            return units.get(holder, holder)
        return f"{post.title}（{who(before, before.holders.get(holder))}）"

    out: dict[int, str] = {}
    for change, before in line.replay():  # in effective order, each with what stood
        data, day = change.data, change.effective
        if isinstance(data, PersonJoined):
            out[change.seq] = f"{data.name}（{data.person}）加入"
        elif isinstance(data, InChargeChanged):
            old = listed(before.units_in_charge(data.post, day), units)
            new = listed(data.units, units)
            out[change.seq] = f"{holder_label(before, data.post)}分管：{old} → {new}"
        elif isinstance(data, PackageChanged):
            was = before.package_on(data.package, day)
            now_targets = data.schools + data.places
            schools = listed(now_targets, targets)
            holder = holder_label(before, data.holder)
            if was is None:
                text = f"分包{data.package}：{holder}分包{schools}"
            elif was.holder != data.holder:
                old = holder_label(before, was.holder)
                text = f"分包{data.package}（{schools}）：{old} → {holder}"
            elif was.targets != now_targets:
                text = f"分包{data.package}（{holder}）：{listed(was.targets, targets)} → {schools}"
            else:
                text = f"分包{data.package}（{holder}，{schools}）：督查人员调整"
            out[change.seq] = text
        elif isinstance(data, PackageEnded):
            was = before.package_on(data.package, day)
            what = (
                f"（{holder_label(before, was.holder)}，{listed(was.targets, targets)}）"
                if was
                else ""
            )
            out[change.seq] = f"分包{data.package}{what}停止"
        else:
            post = posts.get(data.post)
            label = data.post if post is None else f"{post.title}（{data.post}）"
            old = who(before, before.holders.get(data.post))
            out[change.seq] = f"{label}：{old} → {who(before, data.holder)}"
    return out


def _post_title(graph: OrgGraph, holder: str) -> str:
    try:
        post = graph.post(holder)
    except KeyError:
        return _unit_name(graph, holder)
    person = graph.holder_of(post.id)
    return post.title + (f"（{person.name}）" if person is not None else "")


def _agenda(pack: MeetingPack, quarter: int, upcoming: int) -> tuple[AgendaItem, ...]:
    """The proposed agenda: what the findings call for, most urgent first; *upcoming* is
    the next quarter's dedicated inspections on the schedule."""
    items: list[AgendaItem] = []
    if pack.overdue:
        majors = sum(1 for h in pack.overdue if h.major)
        ids = "、".join(h.hazard for h in pack.overdue[:10]) + (
            "等" if len(pack.overdue) > 10 else ""
        )
        items.append(
            AgendaItem(
                "督办逾期未整改隐患",
                f"逾期隐患{len(pack.overdue)}处（其中重大{majors}处）：{ids}；责任科室说明原因，明确整改时限",
                "三.2",
            )
        )
    t = pack.totals()
    h = pack.hazards
    items.append(
        AgendaItem(
            f"通报第{_QUARTER_ZH[quarter]}季度学校安全稳定工作情况",
            f"专门督查应{t['due']}次、按期完成{t['done']}次、未完成{t['missed']}次、待完成"
            f"{t['pending']}次；发现隐患{h['found']}处、销号{h['closed']}处",
            "三.3",
        )
    )
    if pack.incidents:
        flagged = [i for i in pack.incidents if i.flags]
        detail = f"{len(pack.incidents)}起：" + "、".join(
            f"{i.title}（{i.school_name}）" for i in pack.incidents[:5]
        )
        if flagged:
            detail += f"；其中{len(flagged)}起存在迟报、漏报或瞒报"
        items.append(AgendaItem("通报事故（事件）及调查处置情况", detail, "二(一).2、二(三).3"))
    short = [r.name for r in (*pack.sections, *pack.members) if r.missed]
    if short:
        items.append(
            AgendaItem(
                "专门督查未完成情况",
                "未完成专门督查的：" + "、".join(short[:10]) + ("等" if len(short) > 10 else ""),
                "三.2",
            )
        )
    studies = [r.name for r in pack.sections if r.topic_status == "short"]
    if studies:
        items.append(
            AgendaItem(
                "专题研究未达标情况",
                "本季度专题研究未达标的科室："
                + "、".join(studies[:10])
                + ("等" if len(studies) > 10 else ""),
                "二(三).1",
            )
        )
    if pack.reports:
        units = list(dict.fromkeys(r.name for r in pack.reports))
        items.append(
            AgendaItem(
                "季度书面报告逾期、未报送情况",
                f"{len(pack.reports)}份："
                + "、".join(units[:10])
                + ("等" if len(units) > 10 else ""),
                "三.2",
            )
        )
    errors = [g for g in pack.gaps if g.severity == "error"]
    if errors:
        items.append(
            AgendaItem(
                "研究解决责任覆盖缺口",
                f"须纠正的缺口{len(errors)}项："
                + "；".join(g.message for g in errors[:3])
                + ("等" if len(errors) > 3 else ""),
                "二(二)、三.1",
            )
        )
    if pack.changes:
        items.append(
            AgendaItem(
                "通报责任变更及工作交接",
                f"{len(pack.changes)}项："
                + "；".join(c.what for c in pack.changes[:3])
                + ("等" if len(pack.changes) > 3 else ""),
                "三.1",
            )
        )
    if quarter < 4:
        items.append(
            AgendaItem(
                f"部署第{_QUARTER_ZH[quarter + 1]}季度学校安全稳定工作",
                f"下季度日程安排专门督查{upcoming}次；各科室按季度开展专题研究，季度末报送书面报告",
                "三.3",
            )
        )
    else:
        items.append(
            AgendaItem(
                "部署年终考核和下年度工作",
                "年终考核、总结表彰（二(一).3、三.4），下年度签订责任状",
                "三.4",
            )
        )
    return tuple(items)
