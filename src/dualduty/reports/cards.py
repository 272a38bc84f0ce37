"""Duty cards (一岗双责责任清单): what one person answers for in a year.

一岗双责 is personal: every cadre, from the bureau chief to each staff member, must know
their own business duties and the safety duties that come with them (管业务必管安全). A
:class:`DutyCard` gathers, for one person and one year, from the organisation, the year's
schedule and (when given) the record:

1. **their posts** (岗位), each with the duties it carries — the duties of its unit that
   apply to its role — laid out as each line of business (业务, the unit's
   :class:`~dualduty.model.BusinessArea`\\ s and its business duties) beside the safety
   duties that come with it (二(四)), paired by business area. What does not pair is
   listed as it is: a line of business with no safety duty, a business duty tied to no
   area, and the safety duties tied to no line of business (the leading group's duties,
   the common duties of 二(三)). A post that heads another unit too (the section chief
   directing the leading group's office, 兼任, clause 一) shows that unit as well;
2. **the sections they are in charge of** (分管, 二(二)), for deputies and members;
3. **their packaged schools** (分包学校, 三.1): a leading-group post's own package, a
   section head's section's packages, the packages a staff member visits for;
4. **the year's dedicated inspections they make** (专门督查, 三.2) — the schedule's visits
   naming one of their posts as inspector — and **the meetings they attend**: their
   section's topic studies (专题研究, 二(三).1), and, for the leading group, the office
   and every section head, the coordination meetings (调度会, 三.3) and the summary
   meeting (总结表彰会, 二(一).3) — the attendees the reminders address;
5. **the open hazards they answer for** (隐患), as the record stands at *now*: those whose
   rectification plan names them responsible (before a plan: the head of the school's
   section, the first rung of :func:`~dualduty.records.hazards.escalation_chain`), and
   those escalated to a post they hold (督办, every level reached so far).

:func:`duty_card` makes one card; :func:`duty_cards` all the cards of a unit or of the
whole organisation, from one schedule and one reading of the record.
:func:`card_markdown`, :func:`card_html` and :func:`card_docx` render a card (the same
blocks each way; Word through the optional extra ``docx``). The organisation is an
argument throughout, so a card can be made of the organisation as in force on any day.

Given the record, a card is made of the organisation as it stands with the changes the
record holds (:class:`~dualduty.records.Timeline`, :func:`year_organisation`): the posts
the person holds on *now*'s date (within the year: the year's last day once it is over,
its first before it begins), and every version of the year's packages and in-charge
edges with its dates, so that a package moved mid-year is on the card of its holder
before the move and of its holder after, each with its dates; the schedule is planned
from that organisation, so that its visits after the move are the new holder's; and a
post held for part of the year (taken up during it, or passed on later in it as the
record already says) counts the visits of that part only.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from dualduty.model.enums import LEADING_ROLES, DutyKind, SchoolLevel, UnitKind
from dualduty.model.org import BusinessArea, Duty, Person, Post, Unit
from dualduty.model.schedule import MeetingKind
from dualduty.records.hazards import Severity

from . import _docx
from ._docx import (
    Block,
    Bullets,
    DocumentError,
    Heading,
    MissingDocx,
    Para,
    Signatures,
    Table,
    date_zh,
)

if TYPE_CHECKING:
    from dualduty.graph import OrgGraph
    from dualduty.model import Organisation, Schedule
    from dualduty.model.org import Package
    from dualduty.model.schedule import Meeting, Visit
    from dualduty.records.hazards import HazardState
    from dualduty.storage.store import Store

__all__ = [
    "CardHazard",
    "CardMeeting",
    "CardPost",
    "CardSchool",
    "CardSection",
    "CardVisit",
    "DocumentError",
    "DutyCard",
    "DutyPair",
    "MissingDocx",
    "card_docx",
    "card_html",
    "card_markdown",
    "duty_card",
    "duty_cards",
    "year_organisation",
]

_QUARTER_ZH = {1: "一", 2: "二", 3: "三", 4: "四"}
_MEETING_ZH = {
    MeetingKind.TOPIC_STUDY: "专题研究学校安全稳定工作",
    MeetingKind.COORDINATION: "学校安全稳定工作调度会",
    MeetingKind.SUMMARY: "学校安全稳定工作总结表彰会",
}
_MEETING_CLAUSE = {
    MeetingKind.TOPIC_STUDY: "二(三).1",
    MeetingKind.COORDINATION: "三.3",
    MeetingKind.SUMMARY: "二(一).3",
}
_LEVEL_ZH = {
    SchoolLevel.KINDERGARTEN: "幼儿园",
    SchoolLevel.PRIMARY: "小学",
    SchoolLevel.JUNIOR: "初中",
    SchoolLevel.SENIOR: "高中",
    SchoolLevel.NINE_YEAR: "九年一贯制",
    SchoolLevel.VOCATIONAL: "中职",
    SchoolLevel.SPECIAL: "特教",
    SchoolLevel.ADULT: "成人学校",
    SchoolLevel.TRAINING: "培训机构",
}
_STATUS_ZH = {
    "found": "待登记",
    "registered": "已登记",
    "rectifying": "整改中",
    "rectified": "待复查",
    "accepted": "待销号",
    "closed": "已销号",
}
_MISSED_ZH = {
    "report": "未及时上报",
    "plan": "未按期制定整改方案",
    "time-limit": "超过整改时限",
    "close": "未按期销号",
}


# -- the card's lines -----------------------------------------------------------------------


@attrs.frozen
class DutyPair:
    """A line of business beside the safety duties that come with it (管业务必管安全).

    ``area`` is the unit's business area; ``None`` for business duties tied to none.
    """

    area: BusinessArea | None
    business: tuple[Duty, ...] = ()
    """The business duties (业务职责) of the area, if the organisation lists any."""
    safety: tuple[Duty, ...] = ()
    """The safety duties (安全职责) that come with it."""

    @property
    def paired(self) -> bool:
        """Whether both sides are there: a line of business and a safety duty for it."""
        return bool(self.safety) and (self.area is not None or bool(self.business))


@attrs.frozen
class CardPost:
    """One post the person holds and the duties it carries in one unit."""

    post: Post
    unit: Unit
    """The unit whose duties are listed: the post's own, or one it heads (``acting``)."""
    pairs: tuple[DutyPair, ...]
    """Each business area of the unit with its duties, in the unit's order; then the
    business duties tied to no area."""
    general: tuple[Duty, ...]
    """The safety duties tied to no line of business: the leading group's and its roles'
    (二(一), 二(二)), the common duties of the unit's kind (二(三))."""
    acting: bool = False
    """The post heads this unit without belonging to it (兼任: the section chief who
    directs the leading group's office, clause 一)."""
    until: dt.date | None = None
    """With a record: the last day the person holds the post, when the record already
    says it passes to someone else (or falls vacant) later in the year."""

    @property
    def unpaired(self) -> tuple[DutyPair, ...]:
        """The pairs missing a side: a line of business with no safety duty, a business
        duty tied to no area."""
        return tuple(p for p in self.pairs if not p.paired)

    @property
    def duties(self) -> tuple[Duty, ...]:
        """Every duty of the post in this unit, business and safety."""
        out: list[Duty] = []
        for pair in self.pairs:
            out.extend(pair.business)
            out.extend(pair.safety)
        out.extend(self.general)
        return tuple(out)


@attrs.frozen
class CardSection:
    """A unit the person is in charge of (分管, 二(二))."""

    unit: Unit
    post: str
    """The person's leading-group post that is in charge of it."""
    head: Post | None
    head_name: str | None
    """Who holds the unit's head post (``None``: vacant or no head post)."""
    start: dt.date | None = None
    end: dt.date | None = None


@attrs.frozen
class CardSchool:
    """A school (or, in a school's own plan, a place) packaged to the person (三.1)."""

    school: str
    name: str
    level: str
    """The level in Chinese (小学, 初中, …); empty for a place."""
    township: str
    package: str
    holder: str
    """The package's holder: the person's post, or their section."""
    holder_name: str
    basis: str
    """Why it is on the card, in Chinese (领导小组成员分包, 本科室分包, 参与督查)."""
    start: dt.date | None = None
    end: dt.date | None = None


@attrs.frozen
class CardVisit:
    """A dedicated inspection of the year the person makes (专门督查, 三.2)."""

    visit: str
    school: str
    school_name: str
    date: dt.date
    quarter: int
    holder: str
    holder_name: str
    post: str
    """The person's post named as inspector."""
    announced: bool
    """``False``: unannounced (暗访)."""
    joint: str | None = None
    """The other holder inspecting with this one that day, if any."""


@attrs.frozen
class CardMeeting:
    """A meeting of the year the person attends."""

    meeting: str
    kind: MeetingKind
    unit: str
    unit_name: str
    date: dt.date
    quarter: int | None
    title: str
    why: str
    """Why they attend, in Chinese (本科室专题研究, 领导小组成员, 科室负责人, 领导小组办公室)."""


@attrs.frozen
class CardHazard:
    """An open hazard the person answers for, as the record stands at the card's *now*."""

    hazard: str
    school: str
    school_name: str
    severity: Severity
    description: str
    found_on: dt.date
    status: str
    """Where it is in its loop (:class:`~dualduty.records.HazardStatus` value)."""
    why: str
    """Why it is theirs, in Chinese: 整改责任人, 科室负责人（尚无整改方案）, 督办（第N级）."""
    time_limit: dt.date | None
    """The rectification plan's time limit, if planned."""
    missed: tuple[str, ...] = ()
    """The deadlines it has missed (:meth:`~dualduty.records.HazardState.missed`)."""

    @property
    def overdue(self) -> bool:
        """Whether it has missed a deadline."""
        return bool(self.missed)


# -- the card ---------------------------------------------------------------------------------


@attrs.frozen
class DutyCard:
    """One person's duty card for a year (一岗双责责任清单); render it with
    :func:`card_markdown`, :func:`card_html` or :func:`card_docx`."""

    org_id: str
    org_name: str
    year: int
    person: Person
    posts: tuple[CardPost, ...]
    """Their posts with their duties (an acting head's other unit as one more entry)."""
    sections: tuple[CardSection, ...]
    """The units they are in charge of (分管)."""
    schools: tuple[CardSchool, ...]
    """Their packaged schools (分包学校)."""
    visits: tuple[CardVisit, ...]
    """The year's dedicated inspections they make, by date."""
    meetings: tuple[CardMeeting, ...]
    """The year's meetings they attend, by date."""
    hazards: tuple[CardHazard, ...] | None
    """The open hazards they answer for; ``None`` when no record was given."""
    as_of: dt.date | None = None
    """The day the hazards were read as of (``None`` without a record)."""
    held_on: dt.date | None = None
    """With a record: the day the posts on the card are held as of (*now*'s date within
    the year); ``None``: the posts as the organisation given says."""

    @property
    def title(self) -> str:
        """``王建国 学校安全稳定工作“一岗双责”责任清单（2026年）``."""
        return f"{self.person.name} 学校安全稳定工作“一岗双责”责任清单（{self.year}年）"

    def figures(self) -> dict[str, int]:
        """The card's counts by name."""
        duties = [d for p in self.posts for d in p.duties]
        return {
            "posts": len({p.post.id for p in self.posts}),
            "duties": len(duties),
            "safety_duties": sum(1 for d in duties if d.kind is DutyKind.SAFETY),
            "unpaired": sum(len(p.unpaired) for p in self.posts),
            "sections": len(self.sections),
            "schools": len({s.school for s in self.schools}),
            "visits": len(self.visits),
            "unannounced": sum(1 for v in self.visits if not v.announced),
            "meetings": len(self.meetings),
            "hazards": len(self.hazards or ()),
            "hazards_overdue": sum(1 for h in self.hazards or () if h.overdue),
        }

    def blocks(self) -> tuple[Block, ...]:
        """The card as blocks, which every rendering follows."""
        out: list[Block] = [Heading(1, self.title)]
        held_parts: list[str] = []
        for p in self.posts:
            if p.acting:
                if held_parts:
                    held_parts[-1] += f"（兼任{p.unit.name}负责人）"
                continue
            held_parts.append(f"{p.unit.name} {p.post.title}")
        held = "；".join(held_parts)
        facts = [
            f"单位：{self.org_name}",
            f"姓名：{self.person.name}（{self.person.id}）",
            f"岗位：{held or '未担任岗位'}"
            + (f"（截至{date_zh(self.held_on)}）" if self.held_on is not None else ""),
            f"年度：{self.year}年",
        ]
        out.append(Bullets(facts))
        out.append(
            Para(
                "根据学校安全稳定工作“一岗双责”实施方案，管业务必须管安全。本人在履行下列业务职责的同时，"
                "承担与之相应的安全职责。"
            )
        )
        out.extend(self._duty_blocks())
        out.extend(self._section_blocks())
        out.extend(self._school_blocks())
        out.extend(self._visit_blocks())
        out.extend(self._meeting_blocks())
        out.extend(self._hazard_blocks())
        out.append(Para("本清单依据组织文件、年度工作安排和工作记录自动生成。"))
        out.append(Signatures([("本人", self.person.name)]))
        return tuple(out)

    def _duty_blocks(self) -> list[Block]:
        out: list[Block] = [Heading(2, "一、岗位职责（业务职责与安全职责）")]
        if not self.posts:
            out.append(Para("本人未担任岗位，无岗位职责。"))
            return out
        for entry in self.posts:
            if entry.acting:
                head = f"{entry.unit.name}（以{entry.post.title}兼任负责人）"
            else:
                head = f"{entry.unit.name} {entry.post.title}"
            if entry.post.since is not None or entry.until is not None:
                head += f"（{_span(entry.post.since, entry.until)}）"
            out.append(Heading(3, head))
            if entry.acting:
                basis = f"（{entry.unit.clause}）" if entry.unit.clause else ""
                out.append(Para(f"本人以{entry.post.title}兼任{entry.unit.name}负责人{basis}。"))
            rows: list[tuple[str, str, str]] = []
            for pair in entry.pairs:
                line = pair.area.name if pair.area is not None else "（未归入业务领域）"
                if pair.business:
                    line += "：" + "；".join(d.text for d in pair.business)
                if not pair.safety:
                    clauses = "、".join(d.clause for d in pair.business) or "—"
                    rows.append((line, "（无对应的安全职责）", clauses))
                    continue
                for n, duty in enumerate(pair.safety):
                    rows.append((line if n == 0 else "", duty.text, duty.clause))
            if rows:
                out.append(Table(("业务工作", "安全职责", "条款"), rows))
            if entry.general:
                out.append(Para("不限于某一业务的安全职责："))
                out.append(Table(("安全职责", "条款"), [(d.text, d.clause) for d in entry.general]))
            if not rows and not entry.general:
                out.append(Para(f"组织文件未单列{entry.unit.name}的职责。"))
            unpaired = entry.unpaired
            if unpaired:
                names = "、".join(
                    p.area.name if p.area is not None else "、".join(d.text for d in p.business)
                    for p in unpaired
                )
                out.append(
                    Para(
                        f"未配对：{names}，组织文件未列明相应的安全职责"
                        "（管业务必管安全，二(三).2），请予补充。"
                    )
                )
        return out

    def _section_blocks(self) -> list[Block]:
        out: list[Block] = [Heading(2, "二、分管科室")]
        if not self.sections:
            out.append(Para("本人无分管科室。"))
            return out
        out.append(
            Para(
                f"本人分管科室（单位）{len(self.sections)}个，负责分管科室承担安全稳定工作的"
                "督导、检查（二(二)）。分管其业务，即须督导其安全。"
            )
        )
        out.append(
            Table(
                ("科室（单位）", "业务领域", "科室负责人", "分管期间"),
                [
                    (
                        s.unit.name,
                        "、".join(a.name for a in s.unit.areas) or "—",
                        f"{s.head_name or '（空缺）'}" + (f"（{s.head.title}）" if s.head else ""),
                        _span(s.start, s.end),
                    )
                    for s in self.sections
                ],
            )
        )
        return out

    def _school_blocks(self) -> list[Block]:
        out: list[Block] = [Heading(2, "三、分包学校")]
        if not self.schools:
            out.append(Para("本人无分包学校。"))
            return out
        count = len({s.school for s in self.schools})
        out.append(Para(f"本人分包（参与督查）学校{count}所（三.1）。"))
        out.append(
            Table(
                ("学校", "类别", "乡镇（街道）", "分包单位", "依据", "期间"),
                [
                    (
                        f"{s.name}（{s.school}）",
                        s.level or "—",
                        s.township or "—",
                        s.holder_name,
                        s.basis,
                        _span(s.start, s.end),
                    )
                    for s in self.schools
                ],
            )
        )
        return out

    def _visit_blocks(self) -> list[Block]:
        out: list[Block] = [Heading(2, f"四、{self.year}年专门督查安排")]
        if not self.visits:
            out.append(Para("本年度日程中没有由本人执行的专门督查。"))
            return out
        per = [sum(1 for v in self.visits if v.quarter == q) for q in (1, 2, 3, 4)]
        hidden = sum(1 for v in self.visits if not v.announced)
        out.append(
            Para(
                f"本人全年执行专门督查{len(self.visits)}次（第一至四季度分别为"
                f"{'、'.join(str(n) for n in per)}次），其中暗访{hidden}次（三.2）。"
                "暗访日期仅供本人掌握，不得事先告知学校。"
            )
        )
        out.append(
            Table(
                ("日期", "季度", "学校", "分包单位", "方式"),
                [
                    (
                        date_zh(v.date),
                        f"第{_QUARTER_ZH[v.quarter]}季度",
                        f"{v.school_name}（{v.school}）",
                        v.holder_name,
                        ("明查" if v.announced else "暗访") + ("（联合督查）" if v.joint else ""),
                    )
                    for v in self.visits
                ],
            )
        )
        return out

    def _meeting_blocks(self) -> list[Block]:
        out: list[Block] = [Heading(2, f"五、{self.year}年会议安排")]
        if not self.meetings:
            out.append(Para("本年度日程中没有本人应参加的学校安全稳定工作会议。"))
            return out
        out.append(
            Table(
                ("日期", "会议", "召集单位", "参加缘由", "条款"),
                [
                    (date_zh(m.date), m.title, m.unit_name, m.why, _MEETING_CLAUSE[m.kind])
                    for m in self.meetings
                ],
            )
        )
        return out

    def _hazard_blocks(self) -> list[Block]:
        out: list[Block] = [Heading(2, "六、负责整改督办的未销号隐患")]
        if self.hazards is None:
            out.append(Para("生成本清单时未提供工作记录，未列出隐患。"))
            return out
        when = date_zh(self.as_of) if self.as_of is not None else "生成时"
        if not self.hazards:
            out.append(Para(f"截至{when}，无本人负责或督办的未销号隐患。"))
            return out
        overdue = sum(1 for h in self.hazards if h.overdue)
        out.append(
            Para(
                f"截至{when}，本人负责或督办的未销号隐患{len(self.hazards)}处，其中逾期{overdue}处。"
            )
        )
        out.append(
            Table(
                (
                    "隐患编号",
                    "学校",
                    "等级",
                    "隐患描述",
                    "发现日期",
                    "整改时限",
                    "状态",
                    "负责缘由",
                ),
                [
                    (
                        h.hazard,
                        f"{h.school_name}（{h.school}）",
                        "重大" if h.severity.value == "major" else "一般",
                        h.description,
                        date_zh(h.found_on),
                        date_zh(h.time_limit) if h.time_limit is not None else "—",
                        _STATUS_ZH.get(h.status, h.status)
                        + (
                            "（逾期：" + "、".join(_MISSED_ZH.get(m, m) for m in h.missed) + "）"
                            if h.missed
                            else ""
                        ),
                        h.why,
                    )
                    for h in self.hazards
                ],
            )
        )
        return out


def _span(start: dt.date | None, end: dt.date | None) -> str:
    if start is None and end is None:
        return "全年"
    if end is None:
        return f"{date_zh(start)}起" if start is not None else "全年"
    if start is None:
        return f"至{date_zh(end)}"
    return f"{date_zh(start)}至{date_zh(end)}"


# -- rendering -----------------------------------------------------------------------------


def card_markdown(card: DutyCard) -> str:
    """The card as Markdown."""
    return _docx.markdown(card.blocks())


def card_html(card: DutyCard) -> str:
    """The card as one HTML document a word processor opens."""
    return _docx.html(card.blocks(), card.title)


def card_docx(card: DutyCard) -> bytes:
    """The card as a Word document (.docx), to print and sign.

    :raises ~dualduty.reports._docx.MissingDocx: without python-docx
        (``pip install 'dualduty[docx]'``).
    """
    return _docx.docx(card.blocks(), card.title)


# -- making cards ------------------------------------------------------------------------------


def duty_card(
    org: Organisation,
    person_id: str,
    year: int,
    *,
    schedule: Schedule | None = None,
    store: Store | None = None,
    now: dt.datetime | None = None,
) -> DutyCard:
    """The duty card of one person for *year*.

    :param org: the organisation as the district file describes it (or as in force when
        the card is made, without a record).
    :param person_id: the person's id.
    :param schedule: the year's schedule (default: planned with the organisation's
        calendar, :func:`~dualduty.planning.plan_schedule`, from the organisation with
        the record's changes).
    :param store: the record: the changes to the organisation it holds are laid over
        *org* (:func:`year_organisation`), and the card lists the open hazards the
        person answers for; without it the card says none were read.
    :param now: the time the record is read as of (default: now, in the organisation's
        zone); the posts are those held on its date within the year.
    :raises DocumentError: for an unknown person, a schedule of another year, or a *now*
        without a time zone.
    """
    return _Cards(org, year, schedule, store, now).card(person_id)


def duty_cards(
    org: Organisation,
    year: int,
    *,
    unit: str | None = None,
    schedule: Schedule | None = None,
    store: Store | None = None,
    now: dt.datetime | None = None,
) -> tuple[DutyCard, ...]:
    """The duty cards of every person holding a post of *unit* (and its head, when the
    head post is another unit's, as for the leading group's office), or of every person
    holding a post in the organisation when *unit* is ``None``; in the order of the posts.

    The schedule is planned (or checked) once and the record read once for them all.

    :raises DocumentError: for an unknown unit, or a schedule of another year.
    """
    cards = _Cards(org, year, schedule, store, now)
    people: dict[str, None] = {}
    if unit is None:
        for _u, post in cards.org.iter_posts():
            if post.holder is not None:
                people[post.holder] = None
    else:
        try:
            chosen = cards.graph.unit(unit)
        except KeyError:
            raise DocumentError(f"no unit {unit!r} in organisation {org.id!r}") from None
        for post in chosen.posts:
            if post.holder is not None:
                people[post.holder] = None
        head = cards.graph.head_of(chosen.id)
        if head is not None and head.holder is not None:
            people.setdefault(head.holder, None)
    return tuple(cards.card(p) for p in people)


def _overlaps(start: dt.date | None, end: dt.date | None, first: dt.date, last: dt.date) -> bool:
    return (start is None or start <= last) and (end is None or first <= end)


def _year_day(year: int, now: dt.datetime) -> dt.date:
    """*now*'s date, within *year*: its first day before it begins, its last once over."""
    return min(max(now.date(), dt.date(year, 1, 1)), dt.date(year, 12, 31))


def _now(org: Organisation, now: dt.datetime | None) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(org.timezone)
    if now is not None and now.utcoffset() is None:
        raise DocumentError(f"now: {now!r} must be a date and time with a time zone")
    return (now or dt.datetime.now(zone)).astimezone(zone)


def _passed_on(store: Store, org: Organisation, day: dt.date) -> dict[str, dt.date]:
    """Post id -> the last day its holder on *day* holds it, for the posts the record
    gives to someone else (or leaves vacant) after *day*."""
    from dualduty.records.timeline import PostAssigned, changes_in

    holders = {p.id: p.holder for _u, p in org.iter_posts()}
    later: list[tuple[dt.date, int, PostAssigned]] = []
    for change in changes_in(store):
        if isinstance(change.data, PostAssigned) and change.effective > day:
            later.append((change.effective, change.seq, change.data))
    later.sort(key=lambda item: (item[0], item[1]))
    out: dict[str, dt.date] = {}
    for effective, _seq, data in later:
        if data.post in out or holders.get(data.post) is None:
            continue  # passed on already, or vacant on the day
        if data.holder != holders[data.post]:
            out[data.post] = effective - dt.timedelta(days=1)
    return out


def year_organisation(
    org: Organisation,
    store: Store | None,
    year: int,
    *,
    now: dt.datetime | None = None,
) -> Organisation:
    """The organisation a document of *year* is made of: *org* with the changes recorded
    in *store* laid over it (:func:`~dualduty.records.in_time`).

    It holds every version of every package and in-charge edge, each with the dates it
    was in force (so a package moved mid-year is its old holder's until the move and its
    new holder's from then on), and the posts as held on *now*'s date within the year —
    the year's first day before it begins, its last once it is over. Without a store, or
    when the store records no change, it is *org* itself. Giving the result again (with
    the same store) gives it back unchanged.

    :param org: the organisation as the district file describes it.
    :param store: the record (``None``: *org*).
    :param year: the year of the document.
    :param now: the time the document is made as of (default: now, in the
        organisation's zone).
    :raises DocumentError: if *now* has no time zone.
    """
    if store is None:
        return org
    from dualduty.records.timeline import in_time

    return in_time(org, store, _year_day(year, _now(org, now)))


class _Cards:
    """What every card of one organisation and year needs, computed once."""

    def __init__(
        self,
        org: Organisation,
        year: int,
        schedule: Schedule | None,
        store: Store | None,
        now: dt.datetime | None,
    ) -> None:
        from dualduty.graph import OrgGraph

        self.now = _now(org, now)
        self.held_on: dt.date | None = None
        self.passed_on: dict[str, dt.date] = {}
        """Post id -> the last day its holder on ``held_on`` holds it (the record says)."""
        if store is not None:
            # the record's changes laid over the file's organisation: the posts as held on
            # now's date within the year, the year's packages and in-charge edges dated
            self.held_on = _year_day(year, self.now)
            org = year_organisation(org, store, year, now=self.now)
            self.passed_on = _passed_on(store, org, self.held_on)
        self.org = org
        self.year = year
        self.graph: OrgGraph = OrgGraph(org, on=self.held_on)
        if schedule is None:
            from dualduty.calendars import calendar_for
            from dualduty.planning import plan_schedule

            schedule = plan_schedule(org, calendar_for(org, [year]), year)
        elif schedule.year != year:
            raise DocumentError(f"the schedule is for {schedule.year}, not {year}")
        self.schedule = schedule
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        self.names = {s.id: s.name for s in org.schools}
        self.names.update((p.id, p.name) for p in org.places)
        self.schools = {s.id: s for s in org.schools}
        self.people = {p.id: p for p in org.people}
        self.posts_of: dict[str, list[tuple[Unit, Post]]] = defaultdict(list)
        for unit, post in org.iter_posts():
            if post.holder is not None:
                self.posts_of[post.holder].append((unit, post))
        self.heads: dict[str, list[Unit]] = defaultdict(list)
        for unit in org.units:
            head = self.graph.head_of(unit.id)
            if head is not None:
                self.heads[head.id].append(unit)
        self.packages = [p for p in org.packages if _overlaps(p.start, p.end, first, last)]
        self.in_charge = [e for e in org.in_charge if _overlaps(e.start, e.end, first, last)]
        self.visits_of: dict[str, list[Visit]] = defaultdict(list)
        for visit in sorted(schedule.visits, key=lambda v: (v.date, v.id)):
            for post_id in dict.fromkeys(visit.inspectors):
                self.visits_of[post_id].append(visit)
        self.topic: dict[str, list[Meeting]] = defaultdict(list)
        self.plenary: list[Meeting] = []
        for meeting in sorted(schedule.meetings, key=lambda m: (m.date, m.id)):
            if meeting.kind is MeetingKind.TOPIC_STUDY:
                self.topic[meeting.unit].append(meeting)
            else:
                self.plenary.append(meeting)
        self.plenary_why = self._plenary_attendees()
        self.hazards: dict[str, list[tuple[HazardState, str]]] | None = None
        if store is not None:
            self.hazards = self._hazards(store)

    # -- who attends the organisation's meetings ------------------------------------------

    def _plenary_attendees(self) -> dict[str, str]:
        """Person id -> why they attend the coordination and summary meetings: the leading
        group, the office (its head and its seat's staff) and every section's head."""
        why: dict[str, str] = {}
        group = self.graph.leading_group()
        for post in group.posts if group is not None else ():
            if post.holder is not None:
                why.setdefault(post.holder, "领导小组成员")
        for office in (u for u in self.org.units if u.kind is UnitKind.OFFICE):
            head = self.graph.head_of(office.id)
            if head is not None and head.holder is not None:
                why.setdefault(head.holder, "领导小组办公室负责人")
            units = [office]
            if office.seated_in is not None:
                units.append(self.graph.unit(office.seated_in))
            for unit in units:
                for post in unit.posts:
                    if post.holder is not None:
                        why.setdefault(post.holder, "领导小组办公室")
        for section in self.graph.sections():
            head = self.graph.head_of(section.id)
            if head is not None and head.holder is not None:
                why.setdefault(head.holder, "科室负责人")
        return why

    # -- hazards ------------------------------------------------------------------------------

    def _hazards(self, store: Store) -> dict[str, list[tuple[HazardState, str]]]:
        """Person id -> the open hazards they answer for, with why."""
        from dualduty.records.hazards import HazardRules, escalation_chain, fold_hazards

        out: dict[str, list[tuple[HazardState, str]]] = defaultdict(list)
        chains: dict[str, tuple[Post, ...]] = {}
        for state in fold_hazards(store, HazardRules.of(self.org.rules), until=self.now):
            if not state.open:
                continue
            chain = chains.get(state.school)
            if chain is None:
                try:
                    chain = escalation_chain(self.graph, state.school)
                except KeyError:  # a school no longer in the organisation
                    chain = ()
                chains[state.school] = chain
            seen: dict[str, str] = {}
            if state.plan is not None:
                seen[state.plan.responsible] = "整改责任人"
            elif chain and chain[0].holder is not None:
                seen[chain[0].holder] = "科室负责人（尚无整改方案）"
            for level, post in enumerate(chain[1 : state.escalation_level + 1], 1):
                if post.holder is not None:
                    reason = f"督办（第{level}级：{post.title}）"
                    seen[post.holder] = (
                        f"{seen[post.holder]}；{reason}" if post.holder in seen else reason
                    )
            for person, why in seen.items():
                out[person].append((state, why))
        return out

    # -- one card -------------------------------------------------------------------------------

    def card(self, person_id: str) -> DutyCard:
        person = self.people.get(person_id)
        if person is None:
            raise DocumentError(f"no person {person_id!r} in organisation {self.org.id!r}")
        held = self.posts_of.get(person_id, [])
        posts: list[CardPost] = []
        for unit, post in held:
            posts.append(self._post(post, unit, acting=False))
            for other in self.heads.get(post.id, ()):
                if other.id != unit.id:
                    posts.append(self._post(post, other, acting=True))
        return DutyCard(
            org_id=self.org.id,
            org_name=self.org.name,
            year=self.year,
            person=person,
            posts=tuple(posts),
            sections=self._sections(held),
            schools=self._schools(held),
            visits=self._visits(held),
            meetings=self._meetings(person_id, held),
            hazards=self._card_hazards(person_id),
            as_of=self.now.date() if self.hazards is not None else None,
            held_on=self.held_on,
        )

    def _post(self, post: Post, unit: Unit, *, acting: bool) -> CardPost:
        duties = [d for d in self.org.duties_of(unit) if d.role is None or d.role is post.role]
        areas = {a.id for a in unit.areas}
        pairs: list[DutyPair] = []
        for area in unit.areas:
            pairs.append(
                DutyPair(
                    area,
                    tuple(d for d in duties if d.area == area.id and d.kind is DutyKind.BUSINESS),
                    tuple(d for d in duties if d.area == area.id and d.kind is DutyKind.SAFETY),
                )
            )
        loose = [d for d in duties if d.area not in areas]
        pairs.extend(DutyPair(None, (d,), ()) for d in loose if d.kind is DutyKind.BUSINESS)
        general = tuple(d for d in loose if d.kind is DutyKind.SAFETY)
        return CardPost(post, unit, tuple(pairs), general, acting, self.passed_on.get(post.id))

    def _sections(self, held: Sequence[tuple[Unit, Post]]) -> tuple[CardSection, ...]:
        mine = {post.id for _u, post in held}
        out: list[CardSection] = []
        seen: set[tuple[str, str]] = set()
        for edge in self.in_charge:
            if edge.post not in mine:
                continue
            for uid in edge.units:
                if (edge.post, uid) in seen:
                    continue
                seen.add((edge.post, uid))
                try:
                    unit = self.graph.unit(uid)
                except KeyError:
                    continue
                head = self.graph.head_of(uid)
                name = None
                if head is not None and head.holder is not None:
                    holder = self.people.get(head.holder)
                    name = holder.name if holder is not None else head.holder
                out.append(CardSection(unit, edge.post, head, name, edge.start, edge.end))
        return tuple(out)

    def _schools(self, held: Sequence[tuple[Unit, Post]]) -> tuple[CardSchool, ...]:
        out: list[CardSchool] = []
        for unit, post in held:
            headed = {u.id for u in self.heads.get(post.id, ())}
            for package in self.packages:
                basis = self._basis(package, unit, post, headed)
                if basis is None:
                    continue
                holder_name = self._holder_name(package.holder)
                for target in package.targets:
                    school = self.schools.get(target)
                    out.append(
                        CardSchool(
                            target,
                            self.names.get(target, target),
                            _LEVEL_ZH.get(school.level, school.level.value) if school else "",
                            (school.township or "") if school else "",
                            package.id,
                            package.holder,
                            holder_name,
                            basis,
                            package.start,
                            package.end,
                        )
                    )
        return tuple(out)

    @staticmethod
    def _basis(package: Package, unit: Unit, post: Post, headed: set[str]) -> str | None:
        """Why *package* is on the card of *post*'s holder, or ``None`` if it is not."""
        if package.holder == post.id:
            return "领导小组成员分包" if post.role in LEADING_ROLES else "本岗位分包"
        if package.holder in headed:
            return "本科室分包（科室负责人）"
        if package.holder == unit.id:
            if post.id in package.staff:
                return "本科室分包，本人参与督查"
            if not package.staff:
                return "本科室分包（未指定督查人员）"
            return None
        if post.id in package.staff:
            return "参与督查"
        return None

    def _holder_name(self, holder: str) -> str:
        try:
            return self.graph.post(holder).title
        except KeyError:
            pass
        try:
            return self.graph.unit(holder).name
        except KeyError:
            return holder

    def _visits(self, held: Sequence[tuple[Unit, Post]]) -> tuple[CardVisit, ...]:
        found: list[CardVisit] = []
        seen: set[str] = set()
        for _unit, post in held:
            until = self.passed_on.get(post.id)
            for v in self.visits_of.get(post.id, ()):
                if v.id in seen:
                    continue
                if (post.since is not None and v.date < post.since) or (
                    until is not None and v.date > until
                ):
                    continue  # made before they took the post up, or after they pass it on
                seen.add(v.id)
                found.append(
                    CardVisit(
                        v.id,
                        v.school,
                        self.names.get(v.school, v.school),
                        v.date,
                        v.quarter,
                        v.holder,
                        self._holder_name(v.holder),
                        post.id,
                        v.announced,
                        v.joint,
                    )
                )
        found.sort(key=lambda c: (c.date, c.visit))
        return tuple(found)

    def _meetings(
        self, person_id: str, held: Sequence[tuple[Unit, Post]]
    ) -> tuple[CardMeeting, ...]:
        out: list[CardMeeting] = []
        units = dict.fromkeys(
            u.id for u, _p in held if u.kind not in (UnitKind.LEADING_GROUP, UnitKind.OFFICE)
        )
        for uid in units:
            for m in self.topic.get(uid, ()):
                out.append(self._meeting(m, "本科室专题研究"))
        why = self.plenary_why.get(person_id)
        if why is not None:
            out.extend(self._meeting(m, why) for m in self.plenary)
        out.sort(key=lambda m: (m.date, m.meeting))
        return tuple(out)

    def _meeting(self, m: Meeting, why: str) -> CardMeeting:
        try:
            unit_name = self.graph.unit(m.unit).name
        except KeyError:
            unit_name = m.unit
        return CardMeeting(
            m.id, m.kind, m.unit, unit_name, m.date, m.quarter, m.title or _MEETING_ZH[m.kind], why
        )

    def _card_hazards(self, person_id: str) -> tuple[CardHazard, ...] | None:
        if self.hazards is None:
            return None
        zone = self.now.tzinfo
        out = []
        for state, why in self.hazards.get(person_id, ()):
            out.append(
                CardHazard(
                    state.id,
                    state.school,
                    self.names.get(state.school, state.school),
                    state.severity,
                    state.description,
                    state.found_at.astimezone(zone).date(),
                    state.status.value,
                    why,
                    state.plan.time_limit if state.plan is not None else None,
                    state.missed(self.now),
                )
            )
        out.sort(key=lambda h: (not h.overdue, h.found_on, h.hazard))
        return tuple(out)
