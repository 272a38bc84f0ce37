"""The year report: one self-contained HTML file for the leading group (领导小组).

:func:`year_report_html` gathers a year from the record and the organisation and renders
it as one HTML document that a browser opens from a file, with nothing else: the
stylesheet inline, every chart an inline SVG drawn here in Python, no script, no font or
image fetched, no external address. It shows, in Chinese, in this order:

1. the organisation and its responsibility graph (一, 二(二)): the leader, the deputies
   and members of the leading group, the sections each is in charge of (分管), the
   leading group's office, and the posts' packages;
2. responsibility coverage (二(三), 二(四), 三.1; :mod:`dualduty.coverage`): schools ×
   package holders (per township when there are many schools), hazard domains ×
   sections, and every gap with its severity and clause;
3. package balance (三.1): each holder's schools and load
   (:func:`~dualduty.planning.default_weight`);
4. the year's calendar (三.2, 三.3, 二(三).1): inspections carried out and meetings held,
   day by day, statutory holidays marked;
5. hazards (隐患排查治理): the funnel found → registered → planned → rectified → closed,
   and every hazard overdue at *now*;
6. compliance (制度落实; :func:`~dualduty.records.compliance.compliance`): per section and
   quarter, visits due, done, late, missed; topic studies; quarterly reports; hazards;
   and the coordination and summary meetings;
7. the year-end assessment (三.4; :func:`~dualduty.scoring.engine.assess`): the ranking,
   each section's points per category, and every item with its points and reason.

The output is deterministic: the same record, organisation, schedule, rubric, plugins
and *now* give the same bytes (no clock is read when *now* is given). Every text from
the record or the organisation is escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import TYPE_CHECKING

from dualduty.errors import DualdutyError
from dualduty.model.enums import SECTION_KINDS, Role, SchoolLevel, UnitKind

from . import _html_svg as svg
from .quarterly import ReportError

if TYPE_CHECKING:
    from dualduty.calendars import WorkCalendar
    from dualduty.coverage import CoverageReport
    from dualduty.graph import OrgGraph
    from dualduty.model import Organisation, Schedule
    from dualduty.model.org import Package, Post, Unit
    from dualduty.plugins import Hooks
    from dualduty.records.compliance import Compliance, HazardOutcome, SectionRow
    from dualduty.records.hazards import HazardRules
    from dualduty.records.kinds import MeetingHeld
    from dualduty.scoring.engine import Assessment, YearAssessment
    from dualduty.scoring.rubric import Rubric
    from dualduty.storage.store import Store

__all__ = ["ReportError", "write_year_report", "year_report_html"]

#: Up to this many schools (or places), the coverage matrix lists each; above, townships.
MATRIX_SCHOOLS = 40
#: The gaps listed one by one; the rest are counted.
GAPS_SHOWN = 200

_ROLE_ZH = {
    Role.LEADER: "组长",
    Role.DEPUTY: "副组长",
    Role.MEMBER: "成员",
    Role.SECTION_HEAD: "科室负责人",
    Role.STAFF: "工作人员",
}
_LEVEL_ZH = {
    SchoolLevel.KINDERGARTEN: "幼儿园",
    SchoolLevel.PRIMARY: "小学",
    SchoolLevel.JUNIOR: "初级中学",
    SchoolLevel.SENIOR: "高级中学",
    SchoolLevel.NINE_YEAR: "九年一贯制学校",
    SchoolLevel.VOCATIONAL: "职业学校",
    SchoolLevel.SPECIAL: "特殊教育学校",
    SchoolLevel.ADULT: "成人学校",
    SchoolLevel.TRAINING: "培训机构",
}
_PLACE_ZH = {"grade": "年级", "class": "班级", "area": "区域"}
_STATUS_ZH = {
    "found": "已发现待登记",
    "registered": "已登记待制定方案",
    "rectifying": "整改中",
    "rectified": "已整改待复查",
    "accepted": "已验收待销号",
    "closed": "已销号",
}
_MISSED_ZH = {
    "report": "未及时上报",
    "plan": "未按期制定整改方案",
    "time-limit": "超过整改时限",
    "close": "未按期销号",
}
_SEVERITY_ZH = {"general": "一般", "major": "重大"}
_QUOTA_ZH = {"met": "达标", "short": "未达标", "pending": "进行中"}
_MEETING_ZH = {"topic_study": "专题研究", "coordination": "调度会", "summary": "总结表彰会"}
_QUARTER_ZH = {1: "一季度", 2: "二季度", 3: "三季度", 4: "四季度"}
_GAP_SEVERITY_ZH = {"error": "错误", "warning": "警告"}
#: The funnel's stages: a hazard has reached a stage when its status is one of these.
_FUNNEL = (
    ("found", "发现隐患", frozenset(_STATUS_ZH)),
    ("registered", "登记建账", frozenset(_STATUS_ZH) - {"found"}),
    ("planned", "制定整改方案", frozenset({"rectifying", "rectified", "accepted", "closed"})),
    ("rectified", "整改完成", frozenset({"rectified", "accepted", "closed"})),
    ("closed", "复查销号", frozenset({"closed"})),
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _pts(value: float) -> str:
    from dualduty.scoring.rubric import round_points

    return f"{round_points(value):g}"


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


# -- the API ------------------------------------------------------------------------------------


def year_report_html(
    store: Store,
    org: Organisation,
    year: int,
    *,
    now: dt.datetime | None = None,
    schedule: Schedule | None = None,
    rubric: Rubric | None = None,
    hooks: Hooks | None = None,
    calendar: WorkCalendar | None = None,
    hazard_rules: HazardRules | None = None,
) -> str:
    """The year report of *org* for *year*, from the record in *store*, as one HTML document.

    :param store: the record.
    :param org: the organisation.
    :param year: the year reported on.
    :param now: the time the report is made as of, with a time zone (default: now, in the
        organisation's zone); records from it on are left out. Give it for a report that is
        the same every time.
    :param schedule: the year's schedule (default: planned with the organisation's
        calendar, as :func:`~dualduty.records.compliance.compliance` does).
    :param rubric: the assessment rubric (default: :func:`~dualduty.scoring.engine.rubric_for`).
    :param hooks: the plugins taking part in the assessment and the calendar (default: the
        installed ones).
    :param calendar: the working-day calendar that marks holidays in the year's calendar
        and plans a missing *schedule* (default: :func:`~dualduty.calendars.calendar_for`;
        when no holiday data is known for the year and a *schedule* is given, the calendar
        shows weekends only).
    :param hazard_rules: the hazard deadlines (default: from the organisation's rules).
    :raises ReportError: if the year is out of range or *now* has no time zone.
    :raises ~dualduty.errors.DualdutyError: if the schedule is for another year, no
        holiday data is known to plan a missing schedule, the store is closed, or the
        assessment's rubric or plugins do not fit.
    """
    return _Report(
        store,
        org,
        year,
        now=now,
        schedule=schedule,
        rubric=rubric,
        hooks=hooks,
        calendar=calendar,
        hazard_rules=hazard_rules,
    ).render()


def write_year_report(
    path: str | os.PathLike[str],
    store: Store,
    org: Organisation,
    year: int,
    *,
    now: dt.datetime | None = None,
    schedule: Schedule | None = None,
    rubric: Rubric | None = None,
    hooks: Hooks | None = None,
    calendar: WorkCalendar | None = None,
    hazard_rules: HazardRules | None = None,
) -> str:
    """Write the year report (:func:`year_report_html`) to *path* atomically (the file is
    whole or left as it was) and return its text.

    :raises ~dualduty.errors.DualdutyError: as :func:`year_report_html` does, or when the
        file cannot be written.
    """
    from dualduty.io._schedule._common import write_file

    text = year_report_html(
        store,
        org,
        year,
        now=now,
        schedule=schedule,
        rubric=rubric,
        hooks=hooks,
        calendar=calendar,
        hazard_rules=hazard_rules,
    )
    write_file(path, text.encode("utf-8"))
    return text


def _stylesheet() -> str:
    return (resources.files(__package__) / "year_report.css").read_text(encoding="utf-8")


# -- gathering ----------------------------------------------------------------------------------


class _Report:
    """Everything the report shows, gathered once, and its rendering section by section."""

    def __init__(
        self,
        store: Store,
        org: Organisation,
        year: int,
        *,
        now: dt.datetime | None,
        schedule: Schedule | None,
        rubric: Rubric | None,
        hooks: Hooks | None,
        calendar: WorkCalendar | None,
        hazard_rules: HazardRules | None,
    ) -> None:
        from dualduty.coverage import analyse
        from dualduty.graph import OrgGraph
        from dualduty.records.compliance import compliance
        from dualduty.records.hazards import HazardRules
        from dualduty.scoring.engine import assess, rubric_for

        if isinstance(year, bool) or not isinstance(year, int) or not 1970 <= year <= 2099:
            raise ReportError(f"year: expected a year from 1970 to 2099, got {year!r}")
        self.zone = zoneinfo.ZoneInfo(org.timezone)
        if now is None:
            now = dt.datetime.now(self.zone)
        elif now.utcoffset() is None:
            raise ReportError(f"now: {now!r} must be a date and time with a time zone")
        if store.closed:
            from dualduty.storage.base import StoreError

            raise StoreError(f"store {store.url} is closed")
        if hooks is None:
            from dualduty.plugins import hooks as default_hooks

            hooks = default_hooks()
        self.org, self.year, self.now = org, year, now.astimezone(self.zone)
        self.calendar = calendar if calendar is not None else _calendar(org, year, hooks, schedule)
        if schedule is None:
            from dualduty.planning import plan_schedule

            assert self.calendar is not None  # _calendar raises when it cannot plan
            schedule = plan_schedule(org, self.calendar, year)
        self.schedule = schedule
        self.rubric = rubric if rubric is not None else rubric_for(org, year, hooks=hooks)
        self.hazard_rules = hazard_rules or HazardRules.of(org.rules)
        self.view: Compliance = compliance(
            store, org, schedule, now=now, year=year, hazard_rules=hazard_rules
        )
        self.result: YearAssessment = assess(
            store,
            org,
            year,
            rubric=self.rubric,
            schedule=schedule,
            now=now,
            hazard_rules=hazard_rules,
            hooks=hooks,
        )
        self.as_of = self.now.date()
        self.on = min(max(self.as_of, dt.date(year, 1, 1)), dt.date(year, 12, 31))
        self.graph: OrgGraph = OrgGraph(org, on=self.on)
        self.coverage: CoverageReport = analyse(org, on=self.on)
        self.meetings = _meetings_held(store, year, self.now)
        self.posts = {p.id: p for _u, p in org.iter_posts()}
        self.units = {u.id: u for u in org.units}
        self.people = {p.id: p.name for p in org.people}
        self.school_names = {s.id: s.name for s in org.schools}
        self.school_names.update((p.id, p.name) for p in org.places)

    # -- names ------------------------------------------------------------------------------

    @property
    def what(self) -> str:
        """What is packaged: schools (学校), or in a school's own plan its places (场所)."""
        return "学校" if self.org.schools or not self.org.places else "场所"

    @property
    def per(self) -> str:
        """The counter word of :attr:`what`: ``校`` or ``处``."""
        return "校" if self.what == "学校" else "处"

    def holder_name(self, holder: str) -> str:
        """A package holder as people say it: ``副局长 王某`` or ``法规安全科``."""
        post = self.posts.get(holder)
        if post is not None:
            return self.post_name(post)
        unit = self.units.get(holder)
        return unit.name if unit is not None else holder

    def post_name(self, post: Post) -> str:
        person = self.people.get(post.holder or "", "（空缺）")
        return f"{post.title} {person}"

    def school(self, school_id: str) -> str:
        return self.school_names.get(school_id, school_id)

    # -- the document -----------------------------------------------------------------------

    def render(self) -> str:
        from dualduty._version import __version__

        title = f"{self.org.name}{self.year}年度学校安全稳定工作“一岗双责”落实情况报告"
        parts = [
            "<!DOCTYPE html>",
            '<html lang="zh-CN">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="dualduty {_e(__version__)}">',
            f"<title>{_e(title)}</title>",
            f"<style>{_stylesheet()}</style>",
            "</head>",
            "<body>",
            '<header class="top">',
            f"<h1>{_e(title)}</h1>",
            self.meta(),
            "</header>",
            self.nav(),
            "<main>",
            self.summary(),
            *self.organisation(),
            *self.coverage_section(),
            *self.balance(),
            *self.calendar_section(),
            *self.hazards(),
            *self.compliance_section(),
            *self.assessment(),
            "</main>",
            '<footer class="foot">',
            f"<p>本报告由 dualduty {_e(__version__)} 根据记录自动生成（记录截至第"
            f"{self.result.head}条），所列编号均可在记录中查询。</p>",
            "</footer>",
            "</body>",
            "</html>",
        ]
        return "\n".join(parts) + "\n"

    def meta(self) -> str:
        items = [
            ("单位", f"{self.org.name}（{self.org.id}）"),
            ("年度", f"{self.year}年"),
            ("统计截至", f"{self.now:%Y-%m-%d %H:%M} ({self.now:%z})"),
            ("考核细则", f"{self.rubric.name}（{self.rubric.id}）"),
            ("记录", f"共{self.result.head}条"),
        ]
        return (
            '<dl class="meta">'
            + "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in items)
            + "</dl>"
        )

    _SECTIONS = (
        ("org", "一、组织与责任体系"),
        ("coverage", "二、责任覆盖"),
        ("balance", "三、分包学校均衡"),
        ("calendar", "四、年度督查与会议日历"),
        ("hazards", "五、隐患排查治理"),
        ("compliance", "六、制度落实情况"),
        ("assessment", "七、年终考核排名"),
    )

    def nav(self) -> str:
        links = "".join(f'<li><a href="#{key}">{_e(name)}</a></li>' for key, name in self._SECTIONS)
        return f'<nav class="toc" aria-label="目录"><ol>{links}</ol></nav>'

    def heading(self, key: str, clause: str) -> str:
        name = dict(self._SECTIONS)[key]
        return f'<h2 id="{key}">{_e(name)}<span class="clause">{_e(clause)}</span></h2>'

    def summary(self) -> str:
        from dualduty.records.compliance import VisitStatus

        year_rows = [r for r in self.view.sections if r.quarter is None]
        due = len(self.view.visits)
        done = sum(1 for v in self.view.visits if v.status is VisitStatus.DONE)
        hazards = self.view.hazards
        overdue = len(self.overdue())
        excellent = [self.result.assessment(u).name for u in self.result.excellent]
        targets = len(self.org.schools) or len(self.org.places)
        cards = [
            (self.what, f"{targets}", f"科室{len(year_rows)}个"),
            ("专门督查", f"{done}/{due}", f"按期完成率{_pct(done, due)}"),
            (
                "隐患",
                f"{len(hazards)}",
                f"已销号{sum(1 for h in hazards if not h.open)}，逾期{overdue}",
            ),
            (
                "责任缺口",
                f"{len(self.coverage.errors)}",
                f"警告{len(self.coverage.warnings)}",
            ),
            ("优秀科室", f"{len(excellent)}", "、".join(excellent) or "—"),
        ]
        return (
            '<section class="cards" aria-label="概况">'
            + "".join(
                f'<div class="card"><div class="k">{_e(k)}</div><div class="v">{_e(v)}</div>'
                f'<div class="s">{_e(s)}</div></div>'
                for k, v, s in cards
            )
            + "</section>"
        )

    # -- 一: the organisation ----------------------------------------------------------------

    def organisation(self) -> list[str]:
        out = ['<section class="part">', self.heading("org", "一、二(二)")]
        group = self.graph.leading_group()
        leader = self.graph.leader()
        if group is None or leader is None:
            out.append('<p class="bad">本单位未设学校安全稳定工作领导小组或组长（条款一）。</p>')
        out.append(
            "<p>组长对学校安全稳定工作负总责；副组长和成员分管科室，协调、督促分管科室"
            "和所包学校的安全工作；各科室按“管业务必管安全”落实本科室安全职责。"
            "图中实线为分管关系，虚线为领导小组办公室。</p>"
        )
        out.append(f'<figure class="wide">{self.org_chart(group, leader)}</figure>')
        out.extend(self.group_table(group))
        out.append("</section>")
        return out

    def org_chart(self, group: Unit | None, leader: Post | None) -> str:
        root_name = self.post_name(leader) if leader is not None else "（无组长）"
        root = svg.ChartNode(
            leader.id if leader is not None else "-",
            root_name,
            "组长",
            warn=leader is None,
        )
        middle: list[tuple[svg.ChartNode, list[svg.ChartNode]]] = []
        posts = list(group.posts) if group is not None else []
        charged: set[str] = set()
        for post in posts:
            units = self.graph.units_in_charge(post.id)
            if post.role is Role.LEADER and not units:
                continue
            packaged = len(self.graph.targets_of(post.id))
            note = _ROLE_ZH.get(post.role, post.role.value)
            if packaged:
                note += f" · 包{packaged}{self.per}"
            leaves = [self.unit_node(u) for u in units]
            charged.update(u.id for u in units)
            middle.append((svg.ChartNode(post.id, self.post_name(post), note), leaves))
        offices = [u for u in self.org.units if u.kind is UnitKind.OFFICE]
        for office in offices:
            seat = self.units.get(office.seated_in or "")
            note = f"设在{seat.name}" if seat is not None else "办公室"
            middle.append((svg.ChartNode(office.id, office.name, note, dashed=True), []))
        loose = [
            u
            for u in self.graph.sections()
            if u.id not in charged and not (u.kind is UnitKind.GRADE_GROUP and u.parent)
        ]
        if loose:
            middle.append(
                (
                    svg.ChartNode("-", "（无分管领导）", f"{len(loose)}个", warn=True),
                    [self.unit_node(u, warn=True) for u in loose],
                )
            )
        return svg.org_chart(root, middle, label=f"{self.org.name}学校安全责任体系")

    def unit_node(self, unit: Unit, *, warn: bool = False) -> svg.ChartNode:
        packaged = len(self.graph.targets_of(unit.id))
        note = f"包{packaged}{self.per}" if packaged else ""
        return svg.ChartNode(unit.id, unit.name, note, warn=warn)

    def group_table(self, group: Unit | None) -> list[str]:
        if group is None:
            return []
        rows = []
        for post in group.posts:
            units = self.graph.units_in_charge(post.id)
            rows.append(
                (
                    _ROLE_ZH.get(post.role, post.role.value),
                    post.title,
                    self.people.get(post.holder or "", "（空缺）"),
                    "、".join(u.name for u in units) or "—",
                    str(len(self.graph.targets_of(post.id))),
                )
            )
        out = [f"<h3>{_e(group.name)}</h3>"]
        out.append(
            _table(
                ("职务", "岗位", "姓名", "分管科室", "包保学校"), rows, numeric=(4,), css="group"
            )
        )
        for office in (u for u in self.org.units if u.kind is UnitKind.OFFICE):
            seat = self.units.get(office.seated_in or "")
            head = self.graph.head_of(office.id)
            where = f"设在{seat.name}" if seat is not None else "未指定所在科室"
            who = f"，由{self.post_name(head)}负责日常工作" if head is not None else ""
            out.append(f"<p>{_e(office.name)}{_e(where)}{_e(who)}（条款一）。</p>")
        return out

    # -- 二: coverage --------------------------------------------------------------------------

    def targets(self) -> list[tuple[str, str, str, str]]:
        """(id, name, group, level) of what is packaged: schools, or a school's places."""
        if self.org.schools:
            return [
                (
                    s.id,
                    s.name,
                    s.township or "（未填乡镇）",
                    _LEVEL_ZH.get(s.level, s.level.value),
                )
                for s in self.org.schools
            ]
        return [
            (p.id, p.name, _PLACE_ZH.get(p.kind.value, p.kind.value), "") for p in self.org.places
        ]

    def holders(self) -> list[str]:
        """The package holders in force, leading-group posts first (in post order), then units."""
        held = {p.holder for p in self.in_force()}
        posts = [p.id for _u, p in self.org.iter_posts() if p.id in held]
        units = [u.id for u in self.org.units if u.id in held]
        return posts + units

    def in_force(self) -> list[Package]:
        on = self.on
        return [
            p
            for p in self.org.packages
            if (p.start is None or p.start <= on) and (p.end is None or on <= p.end)
        ]

    def coverage_section(self) -> list[str]:
        out = ['<section class="part">', self.heading("coverage", "二(三)、二(四)、三.1")]
        targets = self.targets()
        holders = self.holders()
        held: dict[str, set[str]] = defaultdict(set)  # target -> holders
        for package in self.in_force():
            for target in package.targets:
                held[target].add(package.holder)
        is_post = set(self.posts)
        what = self.what
        leaderless = [t for t, *_ in targets if not any(h in is_post for h in held[t])]
        sectionless = [t for t, *_ in targets if not any(h not in is_post for h in held[t])]
        out.append(
            f"<p>{what}{len(targets)}个，均应有一名领导小组成员和一个科室包保（三.1）。"
            f"缺领导包保{len(leaderless)}个，缺科室包保{len(sectionless)}个；"
            f"责任缺口：错误{len(self.coverage.errors)}项，警告{len(self.coverage.warnings)}项。</p>"
        )
        out.append(f"<h3>{what} × 包保责任人</h3>")
        if len(targets) <= MATRIX_SCHOOLS:
            header = (what, "乡镇/类别", *(self.holder_name(h) for h in holders))
            rows = [
                (name, group, *("●" if h in held[tid] else "" for h in holders))
                for tid, name, group, _level in targets
            ]
            out.append(_matrix(header, rows, css="matrix"))
        else:
            counts: dict[str, Counter[str]] = defaultdict(Counter)
            sizes: Counter[str] = Counter()
            for tid, _name, group, _level in targets:
                sizes[group] += 1
                for h in held[tid]:
                    counts[group][h] += 1
            group = "乡镇" if self.org.schools else "类别"
            header = (group, what, *(self.holder_name(h) for h in holders))
            rows = [
                (group, str(sizes[group]), *(str(counts[group][h] or "") for h in holders))
                for group in sorted(sizes)
            ]
            out.append(f"<p>{what}较多，按{group}汇总：每格为该责任人包保的{what}数。</p>")
            out.append(_matrix(header, rows, css="matrix"))
        out.extend(self.coverage_by(targets, held, is_post, what))
        out.extend(self.domain_matrix())
        out.extend(self.gaps())
        out.append("</section>")
        return out

    def coverage_by(
        self,
        targets: Sequence[tuple[str, str, str, str]],
        held: dict[str, set[str]],
        is_post: set[str],
        what: str,
    ) -> list[str]:
        out: list[str] = []
        group = "乡镇" if self.org.schools else "类别"
        for title, index in ((f"按{group}", 2), ("按学段", 3)):
            if not self.org.schools and index == 3:
                continue
            groups: dict[str, list[int]] = {}
            for target in targets:
                row = groups.setdefault(target[index], [0, 0, 0, 0])
                hs = held[target[0]]
                lead = any(h in is_post for h in hs)
                sect = any(h not in is_post for h in hs)
                row[0] += 1
                row[1] += lead
                row[2] += sect
                row[3] += not (lead and sect)
            rows = [(g, *(str(n) for n in groups[g])) for g in sorted(groups)]
            out.append(f"<h3>{_e(title)}汇总</h3>")
            out.append(
                _table(
                    (title[1:], f"{what}数", "有领导包保", "有科室包保", "缺包保"),
                    rows,
                    numeric=(1, 2, 3, 4),
                    bad={4},
                )
            )
        return out

    def domain_matrix(self) -> list[str]:
        from dualduty.coverage import domains_of
        from dualduty.model import DutyKind

        registry = self.org.hazard_domain_registry()
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        sections: list[Unit] = []
        for unit in self.org.units:
            if unit.kind not in SECTION_KINDS:
                continue
            owned = False
            for duty in unit.duties:
                if duty.kind is DutyKind.SAFETY:
                    for domain in duty.hazards:
                        counts[domain][unit.id] += 1
                        owned = True
            if owned:
                sections.append(unit)
        present: Counter[str] = Counter()
        for school in self.org.schools:
            present.update(domains_of(school))
        domains = [d for d in registry if d in counts or d in present]
        header = ("隐患领域", "涉及学校", *(u.name for u in sections))
        rows: list[tuple[str, ...]] = []
        flags: list[bool] = []
        for domain in domains:
            rows.append(
                (
                    f"{registry[domain].name}（{domain}）",
                    str(present[domain] or ""),
                    *(str(counts[domain][u.id] or "") for u in sections),
                )
            )
            flags.append(bool(present[domain]) and not counts[domain])
        return [
            "<h3>隐患领域 × 科室</h3>",
            "<p>每格为该科室安全职责中涉及该领域的条数；学校存在而无科室负责的领域标红"
            "（二(四)）。</p>",
            _matrix(header, rows, css="matrix domains", bad_rows=flags),
        ]

    def gaps(self) -> list[str]:
        gaps = self.coverage.gaps
        out = [f"<h3>责任缺口（{len(gaps)}项）</h3>"]
        if not gaps:
            out.append("<p>未发现责任缺口。</p>")
            return out
        rows = [
            (
                _GAP_SEVERITY_ZH.get(g.severity.value, g.severity.value),
                g.clause,
                g.subject,
                g.message,
                str(len(g.schools) or ""),
            )
            for g in gaps[:GAPS_SHOWN]
        ]
        out.append(
            _table(
                ("严重程度", "条款", "对象", "说明", "涉及学校"),
                rows,
                numeric=(4,),
                row_css=["bad" if g.severity.value == "error" else "warn" for g in gaps],
                css="gaps",
            )
        )
        if len(gaps) > GAPS_SHOWN:
            out.append(f"<p>另有{len(gaps) - GAPS_SHOWN}项未列出。</p>")
        return out

    # -- 三: package balance ------------------------------------------------------------------

    def balance(self) -> list[str]:
        from dualduty.planning import default_weight

        out = ['<section class="part">', self.heading("balance", "三.1")]
        out.append(
            "<p>每个包保责任人所包学校数和工作量（按学生数、学段和风险等级折算，"
            "见 default_weight）。虚线为同类责任人的平均工作量，偏离平均25%以上的标红。</p>"
        )
        weights = {s.id: default_weight(s) for s in self.org.schools}
        schools: dict[str, dict[str, None]] = defaultdict(dict)
        staff: dict[str, dict[str, None]] = defaultdict(dict)
        for package in self.in_force():
            schools[package.holder].update(dict.fromkeys(package.targets))
            staff[package.holder].update(dict.fromkeys(package.staff))
        holders = self.holders()
        for title, group in (
            ("领导小组成员", [h for h in holders if h in self.posts]),
            ("科室", [h for h in holders if h not in self.posts]),
        ):
            if not group:
                continue
            load = {h: sum(weights.get(t, 1) for t in schools[h]) for h in group}
            mean = sum(load.values()) / len(group)
            bars = []
            rows = []
            row_css = []
            for h in group:
                off = len(group) > 1 and mean > 0 and abs(load[h] - mean) > 0.25 * mean
                text = f"{len(schools[h])}校，工作量{load[h]}"
                bars.append(svg.Bar(self.holder_name(h), load[h], text, warn=off))
                inspectors = "、".join(self.holder_name(p) for p in staff[h]) or "—"
                rows.append(
                    (
                        self.holder_name(h),
                        str(len(schools[h])),
                        str(load[h]),
                        f"{load[h] / mean:.0%}" if mean else "—",
                        inspectors,
                    )
                )
                row_css.append("bad" if off else "")
            out.append(f"<h3>{_e(title)}（{len(group)}）</h3>")
            out.append(
                '<figure class="wide">'
                + svg.horizontal_bars(bars, label=f"{title}包保工作量", mean=mean)
                + "</figure>"
            )
            out.append(
                _table(
                    ("包保责任人", "学校数", "工作量", "相对平均", "督查人员"),
                    rows,
                    numeric=(1, 2, 3),
                    row_css=row_css,
                )
            )
        if not holders:
            out.append('<p class="bad">本年度没有在册的包保安排。</p>')
        out.append("</section>")
        return out

    # -- 四: the calendar ----------------------------------------------------------------------

    def calendar_section(self) -> list[str]:
        year = self.year
        inspections: Counter[dt.date] = Counter()
        for visit in self.view.visits:
            if visit.done_on is not None:
                inspections[visit.done_on] += 1
        for ref in self.view.ad_hoc:
            inspections[ref.date] += 1
        planned: Counter[dt.date] = Counter(v.date for v in self.schedule.visits)
        meetings: dict[dt.date, list[str]] = defaultdict(list)
        for held in self.meetings:
            unit = self.units.get(held.unit)
            who = unit.name if unit is not None else held.unit
            kind = _MEETING_ZH.get(held.kind.value, held.kind.value)
            meetings[held.date].append(f"{who}{kind}：{held.topic}")
        days: dict[dt.date, svg.CalendarDay] = {}
        day = dt.date(year, 1, 1)
        while day.year == year:
            holiday, workday = self.day_kind(day)
            days[day] = svg.CalendarDay(
                inspections=inspections[day],
                planned=planned[day],
                meetings=tuple(meetings.get(day, ())),
                holiday=holiday,
                workday=workday,
            )
            day += dt.timedelta(days=1)
        in_year = [n for d, n in inspections.items() if d.year == year]
        levels = svg.heat_levels(in_year)
        meetings_held = sum(len(v) for d, v in meetings.items() if d.year == year)
        out = ['<section class="part">', self.heading("calendar", "三.2、三.3、二(三).1")]
        out.append(
            f"<p>全年实际开展督查{sum(in_year)}次（含随机督查），计划专门督查"
            f"{len(self.schedule.visits)}次；召开会议{meetings_held}次（专题研究、调度会、总结表彰会）。"
            "颜色越深当天督查越多，橙点为当天召开会议，红框为法定节假日，“班”为调休上班日；"
            "鼠标悬停可见当天详情。</p>"
        )
        if self.calendar is None:
            out.append("<p>未找到本年度法定节假日数据，日历只标出周末。</p>")
        out.append(f'<div class="legend">{svg.heat_legend(levels)}</div>')
        out.append('<div class="months">')
        out.extend(
            f'<figure class="month">{svg.month_grid(year, m, days, levels)}</figure>'
            for m in range(1, 13)
        )
        out.append("</div>")
        rows = []
        for m in range(1, 13):
            done = sum(n for d, n in inspections.items() if d.year == year and d.month == m)
            plan = sum(n for d, n in planned.items() if d.year == year and d.month == m)
            count = sum(len(v) for d, v in meetings.items() if d.year == year and d.month == m)
            rows.append((f"{m}月", str(plan), str(done), str(count)))
        out.append(_table(("月份", "计划督查", "实际督查", "会议"), rows, numeric=(1, 2, 3)))
        out.append("</section>")
        return out

    def day_kind(self, day: dt.date) -> tuple[str | None, bool | None]:
        if self.calendar is None:
            return None, None
        try:
            return self.calendar.holiday_name(day), self.calendar.is_working_day(day)
        except DualdutyError:
            return None, None

    # -- 五: hazards ------------------------------------------------------------------------

    def overdue(self) -> list[HazardOutcome]:
        """The hazards open and past a deadline at *now*, oldest first."""
        found = [h for h in self.view.hazards if h.open and h.missed]
        return sorted(found, key=lambda h: (h.found_on, h.hazard))

    def hazards(self) -> list[str]:
        hazards = self.view.hazards
        out = ['<section class="part">', self.heading("hazards", "三.2、三.4")]
        major = sum(1 for h in hazards if h.major)
        overdue = self.overdue()
        stages = [
            svg.Stage(key, label, sum(1 for h in hazards if h.status.value in reached))
            for key, label, reached in _FUNNEL
        ]
        out.append(
            f"<p>本年度发现或跨年未销号的隐患{len(hazards)}处，其中重大隐患{major}处；"
            f"截至{_date_zh(self.as_of)}已销号{stages[-1].count}处，"
            f"逾期未销号{len(overdue)}处。漏斗每层为已走到该环节的隐患数"
            "（复查未通过退回整改的按整改中计）。</p>"
        )
        out.append(
            '<figure class="wide">'
            + svg.funnel(stages, label="隐患排查治理漏斗", overdue=len(overdue))
            + "</figure>"
        )
        by_status = Counter(h.status.value for h in hazards)
        out.append(
            _table(
                ("当前状态", "隐患数"),
                [(_STATUS_ZH[s], str(by_status[s])) for s in _STATUS_ZH],
                numeric=(1,),
                css="narrow",
            )
        )
        out.append(f"<h3>逾期隐患清单（{len(overdue)}处）</h3>")
        if not overdue:
            out.append("<p>截至统计时点，没有逾期未销号的隐患。</p>")
        else:
            rows = []
            for h in overdue:
                days = (
                    self.hazard_rules.major_close_days
                    if h.major
                    else self.hazard_rules.general_close_days
                )
                rows.append(
                    (
                        h.hazard,
                        self.school(h.school),
                        _SEVERITY_ZH.get(h.severity.value, h.severity.value),
                        h.description,
                        _date_zh(h.found_on),
                        _date_zh(h.found_on + dt.timedelta(days=days)),
                        _STATUS_ZH.get(h.status.value, h.status.value),
                        "、".join(_MISSED_ZH.get(m, m) for m in h.missed),
                        "、".join(self.holder_name(x) for x in h.holders) or "—",
                    )
                )
            out.append(
                _table(
                    (
                        "隐患编号",
                        "学校",
                        "等级",
                        "隐患描述",
                        "发现日期",
                        "应销号日期",
                        "当前状态",
                        "逾期事项",
                        "包保责任人",
                    ),
                    rows,
                    row_css=["bad" if h.major else "" for h in overdue],
                    row_data=[("hazard", h.hazard) for h in overdue],
                    css="overdue",
                )
            )
        out.append("</section>")
        return out

    # -- 六: compliance ------------------------------------------------------------------------

    def compliance_section(self) -> list[str]:
        out = ['<section class="part">', self.heading("compliance", "三.2、三.3、二(三).1")]
        out.append(
            "<p>每个科室每季度：所包学校专门督查（每校每季度两次）应督查、按期完成、逾期完成、"
            "未完成、待完成和随机督查次数；专题研究（每季度至少两次）；季度书面报告；"
            "所包学校隐患。全年行为各季度之和。</p>"
        )
        by_section: dict[str, list[SectionRow]] = defaultdict(list)
        order: list[str] = []
        for row in self.view.sections:
            if row.section not in by_section:
                order.append(row.section)
            by_section[row.section].append(row)
        head = (
            '<table class="compliance"><thead><tr>'
            '<th rowspan="2">科室</th><th rowspan="2">期间</th>'
            '<th colspan="6">专门督查</th><th colspan="3">专题研究</th>'
            '<th colspan="4">季度报告</th><th colspan="5">隐患</th></tr><tr>'
            + "".join(
                f"<th>{h}</th>"
                for h in (
                    "应督查",
                    "按期",
                    "逾期",
                    "未完成",
                    "待完成",
                    "随机",
                    "应开",
                    "实开",
                    "状态",
                    "按时",
                    "逾期",
                    "未报",
                    "未到期",
                    "发现",
                    "重大",
                    "销号",
                    "未销号",
                    "逾期",
                )
            )
            + "</tr></thead>"
        )
        body: list[str] = []
        for section in order:
            rows = sorted(by_section[section], key=lambda r: 5 if r.quarter is None else r.quarter)
            for i, row in enumerate(rows):
                cells = []
                if i == 0:
                    cells.append(f'<th rowspan="{len(rows)}" class="name">{_e(row.name)}</th>')
                period = "全年" if row.quarter is None else _QUARTER_ZH[row.quarter]
                cells.append(f"<td>{period}</td>")
                v = row.visits.counts()
                t = row.topic_studies
                reports = Counter(r.status.value for r in row.reports)
                h = row.hazards.counts()
                figures = [
                    (v["due"], ""),
                    (v["done"], ""),
                    (v["late"], "warn"),
                    (v["missed"], "bad"),
                    (v["pending"], ""),
                    (v["ad_hoc"], ""),
                    (t.required, ""),
                    (len(t.held), ""),
                ]
                cells.extend(
                    f'<td class="num{" " + css if css and n else ""}">{n}</td>'
                    for n, css in figures
                )
                status = t.status.value
                cells.append(
                    f'<td class="{"bad" if status == "short" else ""}">'
                    f"{_e(_QUOTA_ZH.get(status, status))}</td>"
                )
                for n, css in (
                    (reports["on_time"], ""),
                    (reports["late"], "warn"),
                    (reports["missing"], "bad"),
                    (reports["pending"], ""),
                    (h["found"], ""),
                    (h["major"], "warn"),
                    (h["closed"], ""),
                    (h["open"], ""),
                    (h["overdue"], "bad"),
                ):
                    cells.append(f'<td class="num{" " + css if css and n else ""}">{n}</td>')
                css = "year" if row.quarter is None else ""
                body.append(
                    f'<tr class="{css}" data-section="{_e(row.section)}" '
                    f'data-quarter="{row.quarter or "year"}">' + "".join(cells) + "</tr>"
                )
        out.append(
            '<div class="scroll">' + head + "<tbody>" + "".join(body) + "</tbody></table></div>"
        )
        meeting_rows = [
            (
                _QUARTER_ZH.get(m.quarter or 0, "全年"),
                str(m.required),
                str(len(m.held)),
                _QUOTA_ZH.get(m.status.value, m.status.value),
            )
            for m in self.view.coordination
        ]
        s = self.view.summary
        meeting_rows.append(
            ("总结表彰会（全年）", str(s.required), str(len(s.held)), _QUOTA_ZH[s.status.value])
        )
        out.append("<h3>调度会（三.3）与总结表彰会（二(一).3）</h3>")
        out.append(
            _table(
                ("期间", "应开", "实开", "状态"),
                meeting_rows,
                numeric=(1, 2),
                row_css=["bad" if r[3] == "未达标" else "" for r in meeting_rows],
                css="narrow",
            )
        )
        out.append("</section>")
        return out

    # -- 七: the assessment --------------------------------------------------------------------

    def assessment(self) -> list[str]:
        result = self.result
        categories = self.rubric.categories
        out = ['<section class="part">', self.heading("assessment", "三.4")]
        places = f"设{result.places}个名额" if result.places else "未设名额"
        winners = "、".join(result.assessment(u).name for u in result.excellent)
        out.append(
            f"<p>按《{_e(self.rubric.name)}》对{len(result.ranking)}个科室进行年终考核，"
            f"从制度落实、隐患排查治理、分包学校事故发生等方面评分；{self.rubric.award.name}"
            f"{places}，评为：{_e(winners or '无')}。"
            "被一票否决的科室不得评优。</p>"
        )
        scale = max(
            [c.max_points or 0.0 for c in categories]
            + [p for a in result.ranking for p in a.category_points().values()]
            + [1.0]
        )
        head = ["名次", "科室", "总分", "等级"]
        head.extend(c.name for c in categories)
        head.extend(["各类得分", "一票否决", "评优"])
        rows: list[str] = []
        for a in result.ranking:
            points = a.category_points()
            parts = [(c.name, points.get(c.id, 0.0), c.max_points) for c in categories]
            cells = [
                f'<td class="num">{a.rank}</td>',
                f"<td>{_e(a.name)}</td>",
                f'<td class="num total">{_pts(a.total)}</td>',
                f"<td>{_e(a.grade)}</td>",
            ]
            cells.extend(f'<td class="num">{_pts(p)}</td>' for _n, p, _m in parts)
            cells.append(
                "<td>" + svg.category_bars(parts, label=f"{a.name}各类得分", scale=scale) + "</td>"
            )
            veto = "；".join(v.reason for v in a.vetoes)
            cells.append(f'<td class="veto{" bad" if a.vetoed else ""}">{_e(veto or "—")}</td>')
            cells.append(f"<td>{'★ ' + _e(self.rubric.award.name) if a.excellent else ''}</td>")
            css = "excellent" if a.excellent else ("bad" if a.vetoed else "")
            rows.append(
                f'<tr class="{css}" data-unit="{_e(a.unit)}" data-rank="{a.rank}" '
                f'data-total="{_pts(a.total)}">' + "".join(cells) + "</tr>"
            )
        colours = svg.CATEGORY_COLOURS
        out.append(
            '<p class="key">各类得分条形（灰底为该类满分）：'
            + "".join(
                f'<span class="swatch" style="background:{colours[i % len(colours)]}"></span>'
                f"{_e(c.name)}"
                for i, c in enumerate(categories)
            )
            + "</p>"
        )
        out.append(
            '<div class="scroll"><table class="ranking"><thead><tr>'
            + "".join(f"<th>{_e(h)}</th>" for h in head)
            + "</tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table></div>"
        )
        out.append("<h3>各科室得分明细</h3>")
        out.extend(self.breakdown(a) for a in result.ranking)
        out.append("</section>")
        return out

    def breakdown(self, a: Assessment) -> str:
        names = {c.id: c.name for c in self.rubric.categories}
        rows = [
            (
                names.get(i.category, i.category),
                i.name or i.rule,
                i.clause or "—",
                f"{_pts(i.points)} / {_pts(i.max_points)}" if not i.plugin else _pts(i.points),
                i.reason,
                str(len(i.evidence) or len(i.seqs) or ""),
            )
            for i in a.items
        ]
        lost = [i.points < i.max_points for i in a.items]
        table = _table(
            ("类别", "考核项目", "条款", "得分/满分", "说明", "依据数"),
            rows,
            numeric=(3, 5),
            row_css=["warn" if x else "" for x in lost],
            css="items",
        )
        vetoes = "".join(
            f'<p class="bad">{"" if v.reason.startswith("一票否决") else "一票否决："}'
            f"{_e(v.reason)}</p>"
            for v in a.vetoes
        )
        award = f"，★{_e(self.rubric.award.name)}" if a.excellent else ""
        return (
            f'<details class="unit" data-unit="{_e(a.unit)}"><summary>'
            f"{a.rank}. {_e(a.name)}：{_pts(a.total)}分，{_e(a.grade)}"
            f"{'，一票否决' if a.vetoed else ''}{award}"
            f"</summary>{table}{vetoes}</details>"
        )


def _calendar(
    org: Organisation, year: int, hooks: Hooks, schedule: Schedule | None
) -> WorkCalendar | None:
    """The organisation's calendar for *year*; ``None`` when no holidays are known and a
    schedule is given (the report's calendar then shows weekends only)."""
    from dualduty.calendars import CalendarError, calendar_for

    try:
        return calendar_for(org, [year], hooks=hooks)
    except CalendarError:
        if schedule is None:
            raise
        return None


def _meetings_held(store: Store, year: int, now: dt.datetime) -> list[MeetingHeld]:
    from dualduty.records.kinds import MeetingHeld

    kind = str(MeetingHeld.__dict__["__record_kind__"])
    held = [
        e.record.data
        for e in store.read(kind=kind, until=now)
        if isinstance(e.record.data, MeetingHeld) and e.record.data.date.year == year
    ]
    return sorted(held, key=lambda m: (m.date, m.meeting))


# -- tables ----------------------------------------------------------------------------------------


def _table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    bad: set[int] | frozenset[int] = frozenset(),
    row_css: Sequence[str] = (),
    row_data: Sequence[tuple[str, str]] = (),
    css: str = "",
) -> str:
    """A table: escaped cells, numeric columns right-aligned, non-zero cells of *bad*
    columns marked, a class and a ``data-*`` attribute per row when given."""
    nums = set(numeric)
    out = [f'<table class="{_e(css)}"><thead><tr>']
    out.extend(f"<th>{_e(h)}</th>" for h in header)
    out.append("</tr></thead><tbody>")
    for n, row in enumerate(rows):
        cls = row_css[n] if n < len(row_css) else ""
        data = f' data-{row_data[n][0]}="{_e(row_data[n][1])}"' if n < len(row_data) else ""
        out.append(f'<tr class="{cls}"{data}>' if cls or data else "<tr>")
        for i, cell in enumerate(row):
            classes = []
            if i in nums:
                classes.append("num")
            if i in bad and cell not in ("", "0"):
                classes.append("bad")
            attr = f' class="{" ".join(classes)}"' if classes else ""
            out.append(f"<td{attr}>{_e(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return '<div class="scroll">' + "".join(out) + "</div>"


def _matrix(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    css: str,
    bad_rows: Sequence[bool] = (),
) -> str:
    """A matrix: row labels first, then cells; column heads set vertically."""
    out = [f'<div class="scroll"><table class="{_e(css)}"><thead><tr>']
    for i, h in enumerate(header):
        out.append(f"<th>{_e(h)}</th>" if i < 2 else f'<th class="v"><span>{_e(h)}</span></th>')
    out.append("</tr></thead><tbody>")
    for n, row in enumerate(rows):
        flagged = n < len(bad_rows) and bad_rows[n]
        out.append('<tr class="bad">' if flagged else "<tr>")
        for i, cell in enumerate(row):
            if i == 0:
                out.append(f"<th>{_e(cell)}</th>")
            else:
                out.append(f'<td class="{"num" if i == 1 else "c"}">{_e(cell)}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)
