"""Responsibility pledges (责任状): what a section pledges for a year, ready to sign.

Each year the leading group and every section sign a responsibility pledge, and the
year-end assessment checks that it was signed and kept (根据学校安全稳定工作年终考核、责任状
完成等情况，兑现奖惩, 二(一).3). :func:`pledge_document` drafts a section's pledge from
what dualduty already holds:

1. **its duties** (安全职责): the section's own numbered duties of 二(四), each with its
   clause, and the duties common to every section (二(三));
2. **its targets** (工作目标), each with the clause and the rule it comes from
   (:class:`~dualduty.Rules`, :class:`~dualduty.records.HazardRules`): the dedicated
   inspections of its packaged schools (packaged schools × ``inspections_per_school_per_quarter``
   a quarter, 三.2), the topic studies (``topic_studies_per_quarter`` a quarter, 二(三).1),
   the four quarterly written reports to the leading group's office (三.2), the
   coordination meetings (三.3), hazards reported, planned and closed within their time
   limits (三.2), school safety in the section's annual targets and the activities it
   hosts (二(三).2), staff safety training (二(三).4), and incidents at its packaged
   schools (三.4);
3. **the assessment that will apply** (考核): the rubric's items for a section with
   their points and how each is scored, the vetoes (一票否决), the grades and the
   excellent-section award (三.4) — the rubric given, else the one the year will be
   assessed by (:func:`~dualduty.scoring.engine.rubric_for`: a plugin's, else the plan's);
4. **signature lines** for the section head and the leading-group post in charge of the
   section (分管领导; the leader when no post is in charge), names filled from the
   organisation.

Given the record, the pledge is drafted from the organisation with the changes the
record holds (:func:`~dualduty.reports.cards.year_organisation`): the section's packages
quarter by quarter as they were or will be in force (a package moved to the section
mid-year counts from the quarters it is the section's), and the signatories as they hold
their posts on *now*'s date within the year.

Signing is then a record (:meth:`Meetings.sign <dualduty.records.Meetings.sign>`,
``dualduty record pledge``), which the assessment checks (``pledge_unsigned``).
:func:`pledge_markdown`, :func:`pledge_html` and :func:`pledge_docx` render the pledge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from dualduty.model.enums import SECTION_KINDS
from dualduty.model.org import Duty, Post, Unit
from dualduty.model.schedule import DeadlineKind

from . import _docx
from ._docx import Block, Bullets, DocumentError, Heading, Para, Signatures, Table, date_zh

if TYPE_CHECKING:
    from dualduty.model import Organisation, Schedule
    from dualduty.model.org import Package
    from dualduty.scoring.rubric import Item, Rubric
    from dualduty.storage.store import Store

__all__ = [
    "DocumentError",
    "PledgeDocument",
    "PledgeItem",
    "PledgeTarget",
    "PledgeVeto",
    "Signatory",
    "pledge_document",
    "pledge_docx",
    "pledge_html",
    "pledge_markdown",
]

_QUARTER_ZH = {1: "一", 2: "二", 3: "三", 4: "四"}

#: What each rubric measure counts, in Chinese, and its unit ("" for a ratio).
_MEASURE_ZH: dict[str, tuple[str, str]] = {
    "visits_done_ratio": ("专门督查按期完成率", ""),
    "visits_late": ("逾期完成的专门督查", "次"),
    "visits_missed": ("未完成的专门督查", "次"),
    "ad_hoc_visits": ("计划外明查暗访", "次"),
    "unannounced_visits": ("计划外暗访", "次"),
    "topic_studies_ratio": ("专题研究完成率", ""),
    "topic_studies_short": ("少开的专题研究", "次"),
    "coordination_absent": ("本科室无人参加的调度会", "次"),
    "coordination_short": ("少开的调度会（领导小组办公室所在科室）", "次"),
    "summary_short": ("少开的总结表彰会（领导小组办公室所在科室）", "次"),
    "reports_on_time_ratio": ("季度书面报告按时报送率", ""),
    "reports_late": ("逾期报送的季度书面报告", "份"),
    "reports_missing": ("未报送的季度书面报告", "份"),
    "reports_not_on_time": ("逾期或未报送的季度书面报告", "份"),
    "hazards_found": ("发现的隐患", "处"),
    "hazards_closed": ("整改销号的隐患", "处"),
    "hazards_closed_on_time_ratio": ("隐患按期整改销号率", ""),
    "hazards_overdue": ("逾期未整改销号的隐患", "处"),
    "major_hazards_reported_late": ("未立即上报的重大安全隐患", "处"),
    "incidents": ("分包学校发生的安全事故（按等级加权）", "起"),
    "incidents_reported_late": ("迟报、漏报的安全事故", "起"),
    "pledge_unsigned": ("未签订的责任状", "份"),
    "staff_untrained": ("未参加安全教育的工作人员", "人"),
    "annual_targets_missing": ("安全稳定工作未纳入年度工作目标", "项"),
    "activity_findings": ("主办活动安全管理的缺失", "项"),
}
_GRADE_ZH = {"general": "一般", "larger": "较大", "major": "重大", "extraordinary": "特别重大"}


# -- the pledge's parts -------------------------------------------------------------------


@attrs.frozen
class PledgeTarget:
    """A target of the year, with the rule and clause it comes from."""

    id: str
    """``visits``, ``topic_studies``, ``reports``, ``coordination``, ``hazards``,
    ``annual_targets``, ``activities``, ``training``, ``incidents``."""
    text: str
    """The target as the pledge words it (Chinese)."""
    clause: str
    quantity: int | None = None
    """The number for the year, where it is one (inspections, topic studies, reports)."""
    per_quarter: tuple[int, ...] = ()
    """The number for each quarter, first to fourth, where it is one."""


@attrs.frozen
class PledgeItem:
    """An assessment item that will apply to the section (from the rubric)."""

    id: str
    category: str
    category_name: str
    name: str
    clause: str
    max_points: float
    rule: str
    """How its points are given, in Chinese."""
    bonus: bool = False
    """A bonus item (points above the base)."""


@attrs.frozen
class PledgeVeto:
    """A veto (一票否决) that will apply to the section."""

    id: str
    name: str
    clause: str


@attrs.frozen
class Signatory:
    """Who signs: the section head, or the leading-group post in charge."""

    role: str
    """In Chinese: 科室负责人, 分管领导, 组长."""
    post: Post | None
    """The post (``None``: the section has no head post)."""
    person: str | None
    """Who holds it (``None``: vacant)."""
    name: str | None
    """Their name (``None``: vacant)."""

    @property
    def printed(self) -> str:
        """What the signature line prints: the post's title and the holder's name."""
        if self.post is None:
            return "（未设岗位）"
        return f"{self.post.title} {self.name or '（空缺）'}"


@attrs.frozen
class PledgeDocument:
    """A section's responsibility pledge for a year (责任状); render it with
    :func:`pledge_markdown`, :func:`pledge_html` or :func:`pledge_docx`."""

    org_id: str
    org_name: str
    year: int
    section: Unit
    duties: tuple[Duty, ...]
    """The section's own duties (二(四)), in order."""
    common: tuple[Duty, ...]
    """The duties common to its kind of unit (二(三))."""
    schools: tuple[tuple[str, str], ...]
    """Its packaged schools in force in the year: (id, name)."""
    targets: tuple[PledgeTarget, ...]
    items: tuple[PledgeItem, ...]
    vetoes: tuple[PledgeVeto, ...]
    rubric: str
    """The rubric's id."""
    rubric_name: str
    total: float
    bonus_cap: float | None
    bands: tuple[tuple[str, float], ...]
    """The grade bands, highest first: (name, lowest total)."""
    award: str
    """The award and who may win it, in Chinese."""
    head: Signatory
    counterparts: tuple[Signatory, ...]
    """The posts in charge of the section (分管领导), or the leader when none is."""

    @property
    def title(self) -> str:
        """``规划科2026年度学校安全稳定工作责任状``."""
        return f"{self.section.name}{self.year}年度学校安全稳定工作责任状"

    def target(self, target_id: str) -> PledgeTarget:
        """One target by id.

        :raises KeyError: if the pledge has no such target.
        """
        for t in self.targets:
            if t.id == target_id:
                return t
        raise KeyError(target_id)

    def blocks(self) -> tuple[Block, ...]:
        """The pledge as blocks, which every rendering follows."""
        s = self.section
        heads = "、".join(c.printed for c in self.counterparts) or "—"
        out: list[Block] = [
            Heading(1, f"{self.year}年度学校安全稳定工作责任状"),
            Bullets(
                [
                    f"责任单位：{s.name}（{s.id}）",
                    f"科室负责人：{self.head.printed}",
                    f"分管领导：{heads}",
                    f"责任期限：{self.year}年1月1日至{self.year}年12月31日",
                ]
            ),
            Para(
                f"为落实学校安全稳定工作“一岗双责”，坚持管业务必须管安全，{self.org_name}学校安全稳定"
                f"工作领导小组与{s.name}签订本责任状。{s.name}对本科室业务系统内和分包学校的安全"
                "稳定工作负责，科室负责人负总责（二(三).1）。"
            ),
            Heading(2, "一、安全职责"),
        ]
        if self.duties:
            out.append(
                Table(
                    ("序号", "职责", "条款"),
                    [(str(n), d.text, d.clause) for n, d in enumerate(self.duties, 1)],
                    (True, False, False),
                )
            )
        else:
            out.append(Para("组织文件未列明本科室的专项职责。"))
        if self.common:
            out.append(Heading(3, "各科室共同职责"))
            out.append(
                Table(
                    ("序号", "职责", "条款"),
                    [(str(n), d.text, d.clause) for n, d in enumerate(self.common, 1)],
                    (True, False, False),
                )
            )
        out.append(Heading(2, "二、工作目标"))
        out.append(Bullets([f"{t.text}（{t.clause}）" for t in self.targets]))
        visits = next((t for t in self.targets if t.id == "visits"), None)
        if visits is not None and self.schools:
            out.append(Heading(3, "分包学校及专门督查次数"))
            out.append(
                Table(
                    ("学校", "编号"),
                    [(name, sid) for sid, name in self.schools],
                )
            )
            out.append(
                Table(
                    ("季度", "专门督查（次）"),
                    [
                        *(
                            (f"第{_QUARTER_ZH[q]}季度", str(n))
                            for q, n in enumerate(visits.per_quarter, 1)
                        ),
                        ("全年", str(visits.quantity or 0)),
                    ],
                    (False, True),
                )
            )
        out.append(Heading(2, "三、考核"))
        cap = f"，加分合计不超过{_pts(self.bonus_cap)}分" if self.bonus_cap is not None else ""
        out.append(
            Para(
                f"年终依照《{self.rubric_name}》对本科室进行考核（三.4）：基础分满分"
                f"{_pts(self.total)}分{cap}。考核项目如下。"
            )
        )
        out.append(
            Table(
                ("类别", "考核项目", "分值", "计分办法", "条款"),
                [
                    (
                        i.category_name,
                        i.name + ("（加分）" if i.bonus and "加分" not in i.name else ""),
                        _pts(i.max_points),
                        i.rule,
                        i.clause,
                    )
                    for i in self.items
                ],
                (False, False, True, False, False),
            )
        )
        if self.vetoes:
            out.append(Para("有下列情形之一的，实行一票否决："))
            out.append(Bullets([f"{v.name}（{v.clause}）" for v in self.vetoes]))
        bands = []
        for n, (name, low) in enumerate(self.bands):
            if low > 0 or n == 0:
                bands.append(f"{name}（{_pts(low)}分及以上）")
            else:
                bands.append(f"{name}（{_pts(self.bands[n - 1][1])}分以下）")
        out.append(Para(f"考核等次：{'，'.join(bands)}。{self.award}"))
        out.append(Heading(2, "四、附则"))
        out.append(
            Para(
                "本责任状自签订之日起生效，至责任期限届满止。本责任状一式两份，双方各执一份；"
                "签订情况登记在工作记录中，作为年终考核和兑现奖惩的依据（二(一).3）。"
            )
        )
        lines = [(c.role, c.printed) for c in self.counterparts]
        lines.append(("科室负责人", self.head.printed))
        out.append(Signatures(lines))
        return tuple(out)


def _pts(value: float) -> str:
    return f"{value:g}"


# -- rendering ------------------------------------------------------------------------------


def pledge_markdown(pledge: PledgeDocument) -> str:
    """The pledge as Markdown."""
    return _docx.markdown(pledge.blocks())


def pledge_html(pledge: PledgeDocument) -> str:
    """The pledge as one HTML document a word processor opens."""
    return _docx.html(pledge.blocks(), pledge.title)


def pledge_docx(pledge: PledgeDocument) -> bytes:
    """The pledge as a Word document (.docx), to print and sign.

    :raises ~dualduty.reports._docx.MissingDocx: without python-docx
        (``pip install 'dualduty[docx]'``).
    """
    return _docx.docx(pledge.blocks(), pledge.title)


# -- drafting -------------------------------------------------------------------------------


def pledge_document(
    org: Organisation,
    section_id: str,
    year: int,
    *,
    rubric: Rubric | None = None,
    schedule: Schedule | None = None,
    store: Store | None = None,
    now: dt.datetime | None = None,
) -> PledgeDocument:
    """Draft a section's responsibility pledge for *year* (责任状).

    :param org: the organisation as the district file describes it (without a record:
        as in force when the pledge is signed).
    :param section_id: the section (a section-like unit: section, centre, grade group).
    :param rubric: the rubric the year will be assessed by (default:
        :func:`~dualduty.scoring.engine.rubric_for`: a plugin's, else the plan's).
    :param schedule: the year's schedule; when given, the inspections of each quarter
        are its visits of the section and the reports' due days its deadlines. Without
        it the inspections are the packaged schools in force in each quarter times
        ``rules.inspections_per_school_per_quarter`` (in proportion to the days in force
        for a package that starts or ends within a quarter, rounded half up, as the
        planner counts them), and the reports fall due at each quarter's end.
    :param store: the record: the changes to the organisation it holds are laid over
        *org* (:func:`~dualduty.reports.cards.year_organisation`).
    :param now: with a record, the time the pledge is drafted as of (default: now, in
        the organisation's zone): the signatories hold their posts on its date within
        the year.
    :raises DocumentError: if the unit is unknown or no section, the schedule is for
        another year, or *now* has no time zone.
    """
    from dualduty.calendars import quarter_bounds
    from dualduty.graph import OrgGraph
    from dualduty.records.hazards import HazardRules

    from .cards import year_organisation

    org = year_organisation(org, store, year, now=now)
    graph = OrgGraph(org)
    try:
        section = graph.unit(section_id)
    except KeyError:
        raise DocumentError(f"no unit {section_id!r} in organisation {org.id!r}") from None
    if section.kind not in SECTION_KINDS:
        raise DocumentError(
            f"{section_id} ({section.name}) is a {section.kind.value}: responsibility pledges "
            "are drafted for sections and centres (二(三))"
        )
    if schedule is not None and schedule.year != year:
        raise DocumentError(f"the schedule is for {schedule.year}, not {year}")
    if rubric is None:
        from dualduty.scoring.engine import rubric_for

        rubric = rubric_for(org, year)
    rules = org.rules
    names = {s.id: s.name for s in org.schools}
    names.update((p.id, p.name) for p in org.places)

    # -- packaged schools and the inspections they take, quarter by quarter --------------
    packages = [p for p in org.packages if p.holder == section.id]
    in_year = _in_force(packages, dt.date(year, 1, 1), dt.date(year, 12, 31))
    schools = tuple((t, names.get(t, t)) for t in in_year)
    per = rules.inspections_per_school_per_quarter
    planned: list[int] = []
    for q in (1, 2, 3, 4):
        covered = schedule is not None and schedule.quarter in (None, q)
        if covered:
            assert schedule is not None
            planned.append(
                sum(1 for v in schedule.visits if v.holder == section.id and v.quarter == q)
            )
        else:
            planned.append(_due(packages, *quarter_bounds(year, q), per))
    visits_total = sum(planned)
    basis = "按年度督查安排" if schedule is not None else f"分包学校每所每季度专门督查{per}次"
    if schools:
        visits_text = (
            f"对分包学校{len(schools)}所开展专门督查（明查暗访相结合），{basis}，全年不少于"
            f"{visits_total}次（第一至四季度分别为{'、'.join(str(n) for n in planned)}次）"
        )
    else:
        visits_text = (
            f"本年度无分包学校；承担分包任务的，对所包学校每所每季度开展专门督查{per}次"
            "（明查暗访相结合）"
        )
    targets = [PledgeTarget("visits", visits_text, "三.2", visits_total, tuple(planned))]
    studies = rules.topic_studies_per_quarter
    targets.append(
        PledgeTarget(
            "topic_studies",
            f"每季度专题研究学校安全稳定工作{studies}次以上，全年不少于{studies * 4}次，"
            "将学校安全稳定工作列入科室总体工作的议事日程",
            "二(三).1",
            studies * 4,
            (studies,) * 4,
        )
    )
    office = _office_name(org)
    dues = []
    if schedule is not None:
        dues = sorted(
            (d.quarter or 0, d.due)
            for d in schedule.deadlines
            if d.kind is DeadlineKind.QUARTER_REPORT and d.unit == section.id
        )
    if dues:
        when = "、".join(f"第{_QUARTER_ZH.get(q, str(q))}季度{date_zh(day)}" for q, day in dues)
        due_text = f"报送期限分别为{when}"
    elif rules.report_due_working_days_before_end:
        due_text = f"于每季度最后一个工作日前{rules.report_due_working_days_before_end}个工作日报送"
    else:
        due_text = "于每季度末报送"
    targets.append(
        PledgeTarget(
            "reports",
            f"每季度末将分包学校安全稳定工作督查情况书面报{office}，全年4份，{due_text}",
            "三.2",
            4,
            (1, 1, 1, 1),
        )
    )
    meetings = rules.coordination_meetings_per_quarter
    if meetings:
        targets.append(
            PledgeTarget(
                "coordination",
                f"按时参加每季度机关各科室学校安全稳定工作调度会（每季度{meetings}次）",
                "三.3",
                meetings * 4,
                (meetings,) * 4,
            )
        )
    hz = HazardRules.of(rules)
    report = "立即" if hz.major_report_hours == 0 else f"在{hz.major_report_hours}小时内"
    targets.append(
        PledgeTarget(
            "hazards",
            f"及时发现问题、消除隐患：一般隐患自发现之日起{hz.general_close_days}日内整改销号；"
            f"重大安全隐患{report}上报{office}并提出整改措施建议，{hz.major_plan_days}日内"
            f"制定整改方案，{hz.major_close_days}日内整改销号",
            "三.2",
        )
    )
    targets.append(
        PledgeTarget(
            "annual_targets",
            "把学校安全稳定工作和业务工作结合在一起，纳入本科室年度工作目标，做到同部署、"
            "同检查、同考核、同奖惩",
            "二(三).2",
        )
    )
    targets.append(
        PledgeTarget(
            "activities",
            "本科室主办的涉及师生参加的大型活动，按照“谁主办谁负责”的原则，做好活动审批、指导、"
            "监督和活动安全预案落实",
            "二(三).2",
        )
    )
    targets.append(
        PledgeTarget(
            "training",
            "组织本科室工作人员学习学校安全相关法律、法规和文件，全员参加安全教育",
            "二(三).4",
        )
    )
    targets.append(
        PledgeTarget(
            "incidents",
            "分包学校不发生安全责任事故；发生安全稳定问题的，按规定及时报告，不迟报、漏报、"
            "瞒报，积极参与和配合调查处置",
            "三.4",
        )
    )

    # -- the assessment ----------------------------------------------------------------------
    from dualduty.scoring.rubric import Assessee

    categories = {c.id: c.name for c in rubric.categories}
    items = tuple(
        PledgeItem(
            i.id,
            i.category,
            categories.get(i.category, i.category),
            i.name,
            i.clause,
            i.max_points,
            _rule(i),
            not i.base,
        )
        for i in rubric.items_for(Assessee.SECTION)
    )
    vetoes = tuple(PledgeVeto(v.id, v.name, v.clause) for v in rubric.vetoes_for(Assessee.SECTION))
    award = rubric.award
    if award.top is not None:
        places = f"{award.top}个"
    else:
        places = f"参评科室的{_pts(round((award.share or 0) * 100, 2))}%（至少1个）"
    award_text = (
        f"考核结果作为年度机关{award.name}评选的重要依据（{award.clause}）：名额为{places}，"
        f"须达到“{award.minimum_grade}”等次且未被一票否决。"
    )

    # -- who signs ---------------------------------------------------------------------------
    def signatory(role: str, post: Post | None) -> Signatory:
        if post is None:
            return Signatory(role, None, None, None)
        person = graph.holder_of(post.id)
        return Signatory(role, post, post.holder, person.name if person is not None else None)

    head = signatory("科室负责人", graph.head_of(section.id))
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    in_charge: dict[str, None] = {}
    for edge in org.in_charge:
        if section.id in edge.units and _overlaps(edge.start, edge.end, first, last):
            in_charge[edge.post] = None
    counterparts = []
    for post_id in in_charge:
        try:
            counterparts.append(signatory("分管领导", graph.post(post_id)))
        except KeyError:
            continue
    if not counterparts:
        leader = graph.leader()
        if leader is not None:
            counterparts.append(signatory("组长", leader))
    own = section.duties
    return PledgeDocument(
        org_id=org.id,
        org_name=org.name,
        year=year,
        section=section,
        duties=own,
        common=tuple(d for d in org.duties_of(section) if d not in own),
        schools=schools,
        targets=tuple(targets),
        items=items,
        vetoes=vetoes,
        rubric=rubric.id,
        rubric_name=rubric.name,
        total=rubric.total,
        bonus_cap=rubric.bonus_cap,
        bands=tuple((b.name, b.minimum) for b in rubric.bands),
        award=award_text,
        head=head,
        counterparts=tuple(counterparts),
    )


def _overlaps(start: dt.date | None, end: dt.date | None, first: dt.date, last: dt.date) -> bool:
    return (start is None or start <= last) and (end is None or first <= end)


def _in_force(packages: Sequence[Package], first: dt.date, last: dt.date) -> tuple[str, ...]:
    """The targets of the packages in force for any day from *first* to *last*."""
    seen: dict[str, None] = {}
    for package in packages:
        if _overlaps(package.start, package.end, first, last):
            seen.update(dict.fromkeys(package.targets))
    return tuple(seen)


def _due(packages: Sequence[Package], first: dt.date, last: dt.date, per: int) -> int:
    """The dedicated inspections *packages* owe in the quarter from *first* to *last*, as
    the schedule planner counts them: *per* for a school packaged the whole quarter,
    otherwise *per* in proportion to the days it is packaged, rounded half up (a package
    moved mid-quarter leaves one of two visits to each holder)."""
    length = (last - first).days + 1
    days: dict[str, set[int]] = {}
    for package in packages:
        start = max(package.start or first, first)
        end = min(package.end or last, last)
        if start > end:
            continue
        span = range(start.toordinal(), end.toordinal() + 1)
        for target in package.targets:
            days.setdefault(target, set()).update(span)
    total = 0
    for covered in days.values():
        n = len(covered)
        total += per if n >= length else (2 * per * n + length) // (2 * length)
    return total


def _office_name(org: Organisation) -> str:
    from dualduty.model.enums import UnitKind

    office = next((u for u in org.units if u.kind is UnitKind.OFFICE), None)
    return office.name if office is not None else "学校安全稳定工作领导小组办公室"


def _rule(item: Item) -> str:
    """How an item's points are given, in Chinese."""
    what, unit = _MEASURE_ZH.get(item.measure.value, (item.measure.value, "项"))
    params = item.parameters
    mode = item.mode.value
    if mode == "ratio":
        text = f"按{what}计分（{_pts(item.max_points)}分×{what}）"
        late = params.get("late_weight", 0.0)
        if late:
            text += f"，逾期完成的按{_pts(late)}计"
        return text
    per = _pts(item.per or 0)
    if mode == "deduct":
        text = f"{what}每{unit or '项'}扣{per}分，扣完为止"
        if item.floor:
            text = f"{what}每{unit or '项'}扣{per}分，最低{_pts(item.floor)}分"
    else:
        text = f"{what}每{unit or '项'}加{per}分，最多加{_pts(item.max_points)}分"
    measure = item.measure.value
    if measure == "reports_not_on_time" and (params.get("late") != 1 or params.get("missing") != 1):
        text += f"（逾期报送1份计{_pts(params['late'])}份，未报送1份计{_pts(params['missing'])}份）"
    elif measure == "incidents":
        weights = "、".join(f"{_GRADE_ZH[g]}{_pts(params[g])}" for g in _GRADE_ZH if g in params)
        text += f"（按等级计：{weights}；责任事故×{_pts(params.get('responsible', 1))}）"
    elif measure.startswith("hazards") and params.get("major_weight", 1) != 1:
        text += f"（重大隐患1处计{_pts(params['major_weight'])}处）"
    return text
