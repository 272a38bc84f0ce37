"""Incidents at schools (学校安全事故和突发事件): graded, reported in stages, judged.

The plan gives the leading group the handling of major incidents (二(一).2), the
regulations and safety section the first-hour information and the follow-up
(二(四).法规安全科.3), every section a part in the investigation (二(三).3), and the year-end
assessment a look at the incidents at each section's packaged schools (三.4). This module
keeps what that needs, in three layers, each usable alone:

- the record kinds (:class:`IncidentRecorded`, :class:`IncidentReported`,
  :class:`ResponsibilityDetermined`), registered when this module is imported;
- a pure fold: :meth:`IncidentState.fold` folds an incident's records into its class,
  grade, reports and responsibility, with report deadlines from :class:`IncidentRules`
  and the late (迟报), omitted (漏报) and concealed (瞒报) flags of
  :meth:`IncidentState.flags` computed from the record and a clock;
- the service :class:`Incidents`, whose commands check who may act and append in one
  transaction, with an outbox notification to the office (and, from 较大 up, urgently and to
  the leader as well).

The grade (等级) follows the State Council's thresholds for accidents (《生产安全事故报告和
调查处理条例》, 国务院令第493号, 第三条), which districts apply to school incidents; the
thresholds and every report deadline are configurable.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from dualduty.errors import DualdutyError
from dualduty.model._checks import check_date, check_id, check_non_negative, check_text

from ._fields import positive, strings, texts
from .base import Record, record_kind
from .service import InvalidTransition

if TYPE_CHECKING:
    from dualduty.model.org import Organisation
    from dualduty.notify.routing import Event
    from dualduty.storage.store import OutboxMessage, Store

    from .service import Desk, Writing

__all__ = [
    "KINDS",
    "CameToLight",
    "Figures",
    "Flag",
    "FlagKind",
    "Grade",
    "IncidentClass",
    "IncidentRecorded",
    "IncidentReport",
    "IncidentReported",
    "IncidentRules",
    "IncidentState",
    "Incidents",
    "ReportStage",
    "ResponsibilityDetermined",
    "fold_incidents",
    "incident",
]


# -- vocabularies ------------------------------------------------------------------------


class IncidentClass(StrEnum):
    """What kind of incident it is (事件类别), as education emergency plans divide them."""

    SOCIAL_SAFETY = "social_safety"
    """社会安全: violence, campus intrusion, mass incidents, student bullying, …."""
    ACCIDENT = "accident"
    """事故灾难: fire, building collapse, traffic, drowning, crowd crush, …."""
    PUBLIC_HEALTH = "public_health"
    """公共卫生: infectious disease, food poisoning, …."""
    NATURAL_DISASTER = "natural_disaster"
    """自然灾害: flood, earthquake, geological hazard, extreme weather, …."""
    NETWORK_SECURITY = "network_security"
    """网络安全: attacks, data leaks, harmful information on school systems."""
    EXAM_SAFETY = "exam_safety"
    """考试安全: leaked papers, cheating rings, incidents at exam sites."""
    PUBLIC_OPINION = "public_opinion"
    """舆情: public opinion about a school spreading online or in the media."""

    @property
    def label(self) -> str:
        """The Chinese label (``"事故灾难"``)."""
        return _CLASS_LABELS[self]


_CLASS_LABELS = {
    IncidentClass.SOCIAL_SAFETY: "社会安全",
    IncidentClass.ACCIDENT: "事故灾难",
    IncidentClass.PUBLIC_HEALTH: "公共卫生",
    IncidentClass.NATURAL_DISASTER: "自然灾害",
    IncidentClass.NETWORK_SECURITY: "网络安全",
    IncidentClass.EXAM_SAFETY: "考试安全",
    IncidentClass.PUBLIC_OPINION: "舆情",
}


class Grade(StrEnum):
    """How grave an incident is (事件等级), ordered: ``Grade.GENERAL < Grade.LARGER``.

    Grades compare by gravity, not alphabetically; a grade also compares with its value
    as text (``grade >= "larger"``).
    """

    GENERAL = "general"
    """一般 (IV级)."""
    LARGER = "larger"
    """较大 (III级)."""
    MAJOR = "major"
    """重大 (II级)."""
    EXTRAORDINARY = "extraordinary"
    """特别重大 (I级)."""

    @property
    def rank(self) -> int:
        """0 for 一般 up to 3 for 特别重大."""
        return _GRADE_RANKS[self]

    @property
    def label(self) -> str:
        """The Chinese label (``"较大"``)."""
        return _GRADE_LABELS[self]

    def __lt__(self, other: str) -> bool:
        return self.rank < Grade(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Grade(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Grade(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Grade(other).rank


_GRADE_RANKS = {grade: rank for rank, grade in enumerate(Grade)}
_GRADE_LABELS = {
    Grade.GENERAL: "一般",
    Grade.LARGER: "较大",
    Grade.MAJOR: "重大",
    Grade.EXTRAORDINARY: "特别重大",
}


class CameToLight(StrEnum):
    """How the bureau learned of an incident."""

    REPORTED = "reported"
    """报告: the school's side (the school, its packaged section or package holder) told
    the bureau."""
    DISCOVERED = "discovered"
    """发现: others brought it to light (the media, a superior's notice, the public)."""


class ReportStage(StrEnum):
    """The stages of an incident's reports, in order."""

    INITIAL = "initial"
    """初报: the first report, within the hour (30 minutes from 较大 up, by default)."""
    FOLLOW_UP = "follow_up"
    """续报: what has changed since, as handling goes on."""
    FINAL = "final"
    """终报: the closing report with the final figures; no report follows it."""

    @property
    def label(self) -> str:
        """The Chinese label (``"初报"``)."""
        return _STAGE_LABELS[self]


_STAGE_LABELS = {
    ReportStage.INITIAL: "初报",
    ReportStage.FOLLOW_UP: "续报",
    ReportStage.FINAL: "终报",
}
_STAGES = tuple(ReportStage)


class FlagKind(StrEnum):
    """What is wrong with how an incident was reported."""

    LATE = "late"
    """迟报: a report made after its deadline."""
    OMITTED = "omitted"
    """漏报: a required report not made, and its deadline passed."""
    CONCEALED = "concealed"
    """瞒报: others brought the incident to light after the school should have reported it,
    or a report understated it below its final grade, or the investigation found it
    concealed."""

    @property
    def label(self) -> str:
        """The Chinese label (``"迟报"``)."""
        return _FLAG_LABELS[self]


_FLAG_LABELS = {FlagKind.LATE: "迟报", FlagKind.OMITTED: "漏报", FlagKind.CONCEALED: "瞒报"}


# -- validators --------------------------------------------------------------------------


def _bool(_inst: object, a: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{a.name}: expected true or false, got {value!r}")


def _opt_grade(value: Grade | str | None) -> Grade | None:
    return None if value is None else Grade(value)


_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")


def _hhmm(_inst: object, a: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or _HHMM.fullmatch(value) is None:
        raise ValueError(
            f"{a.name}: expected a time of day as 'HH:MM' (00:00-23:59), got {value!r}"
        )


def _ids(inst: object, a: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for item in value:
        check_id(inst, a, item)


def _opt_bool(_inst: object, a: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{a.name}: expected true, false or nothing, got {value!r}")


# -- figures -----------------------------------------------------------------------------


@attrs.frozen
class Figures:
    """An incident's casualties and loss (伤亡和损失), as known at some report.

    Also the shape of a grade's threshold in :class:`IncidentRules`: a grade is reached
    when any one figure reaches the threshold's.
    """

    deaths: int = attrs.field(default=0, validator=check_non_negative)
    """死亡人数."""
    serious_injuries: int = attrs.field(default=0, validator=check_non_negative)
    """重伤人数 (including acute poisoning, as 493号令 counts them)."""
    loss_yuan: int = attrs.field(default=0, validator=check_non_negative)
    """直接经济损失, in yuan."""

    def reaches(self, threshold: Figures) -> bool:
        """Whether any figure reaches *threshold*'s (以上 includes the number itself)."""
        return (
            self.deaths >= threshold.deaths
            or self.serious_injuries >= threshold.serious_injuries
            or self.loss_yuan >= threshold.loss_yuan
        )

    def __str__(self) -> str:
        return (
            f"{self.deaths} dead, {self.serious_injuries} seriously injured, {self.loss_yuan} yuan"
        )


# -- record kinds --------------------------------------------------------------------------


@record_kind("incident-recorded")
@attrs.frozen
class IncidentRecorded:
    """An incident at a school entered in the record (登记); the record's actor entered it.

    Recording is not reporting: the school's reports are :class:`IncidentReported` records
    (the first of them usually straight after, in the same batch).

    :param incident: its id.
    :param school: the school it happened at.
    :param category: its :class:`IncidentClass`.
    :param title: what happened, in a line.
    :param occurred_on: the day it happened (local date in :attr:`IncidentRules.timezone`).
    :param occurred_time: the time of day it happened, ``"HH:MM"`` (local).
    :param figures: casualties and loss as known when it was recorded.
    :param came_to_light: reported by the school's side, or discovered by others.
    :param discovered_by: who brought a discovered incident to light (媒体曝光, 上级通报,
        群众举报, …).
    :param description: more detail.
    :param grade: a grade assessed beside the figures, for incidents the figures do not
        grade (a public-health event, 舆情, an exam leak); the incident is graded the higher
        of this and its figures' grade.
    """

    incident: str = attrs.field(validator=check_id)
    school: str = attrs.field(validator=check_id)
    category: IncidentClass = attrs.field(converter=IncidentClass)
    title: str = attrs.field(validator=check_text)
    occurred_on: dt.date = attrs.field(validator=check_date)
    occurred_time: str = attrs.field(validator=_hhmm)
    figures: Figures = attrs.field(factory=Figures, validator=attrs.validators.instance_of(Figures))
    came_to_light: CameToLight = attrs.field(default=CameToLight.REPORTED, converter=CameToLight)
    discovered_by: str = ""
    description: str = ""
    grade: Grade | None = attrs.field(default=None, converter=_opt_grade)

    @classmethod
    def examples(cls) -> Sequence[IncidentRecorded]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "ic-00001",
                "s0001",
                IncidentClass.ACCIDENT,
                "学生课间在楼梯拥挤踩踏",
                dt.date(2026, 9, 1),
                "10:05",
                Figures(serious_injuries=2),
                description="二楼楼梯口，下课时段",
            ),
            cls(
                "ic-00002",
                "s0002",
                "public_opinion",
                "家长在网上发布食堂饭菜质量问题视频",
                dt.date(2026, 10, 9),
                "21:40",
                came_to_light="discovered",
                discovered_by="网络媒体",
                grade="larger",
            ),
        )


@record_kind("incident-reported")
@attrs.frozen
class IncidentReported:
    """A report on an incident by the school's side (初报, 续报 or 终报).

    :param incident: the incident's id.
    :param stage: which report it is.
    :param figures: casualties and loss as known at this report (the final report's are
        the incident's final figures).
    :param text: the report.
    :param grade: a grade assessed beside the figures (see :class:`IncidentRecorded`).
    """

    incident: str = attrs.field(validator=check_id)
    stage: ReportStage = attrs.field(converter=ReportStage)
    figures: Figures = attrs.field(validator=attrs.validators.instance_of(Figures))
    text: str = attrs.field(validator=check_text)
    grade: Grade | None = attrs.field(default=None, converter=_opt_grade)

    @classmethod
    def examples(cls) -> Sequence[IncidentReported]:
        """Instances the conformance kit round-trips."""
        return (
            cls("ic-00001", ReportStage.INITIAL, Figures(serious_injuries=2), "两名学生受伤送医"),
            cls(
                "ic-00001",
                "final",
                Figures(deaths=1, serious_injuries=1, loss_yuan=86_000),
                "一名学生经抢救无效死亡",
            ),
            cls("ic-00002", "follow_up", Figures(), "已约谈家长并公开回应", grade="larger"),
        )


@record_kind("incident-determined")
@attrs.frozen
class ResponsibilityDetermined:
    """The investigation's finding on responsibility (责任认定); a later one supersedes it.

    :param incident: the incident's id.
    :param responsible: whether it is a responsibility incident (责任事故): someone failed
        a duty.
    :param persons: who is held responsible, by name or person id (the school's principal
        is no person of the bureau's organisation).
    :param posts: the organisation's posts held responsible (post ids), if any.
    :param text: the finding.
    :param concealed: whether the investigation found the incident concealed (瞒报);
        ``None`` leaves it to the computed flag, ``False`` clears it (the casualties rose
        after the reports, say), ``True`` sets it.
    """

    incident: str = attrs.field(validator=check_id)
    responsible: bool = attrs.field(validator=_bool)
    persons: tuple[str, ...] = attrs.field(default=(), converter=strings, validator=texts)
    posts: tuple[str, ...] = attrs.field(default=(), converter=strings, validator=_ids)
    text: str = ""
    concealed: bool | None = attrs.field(default=None, validator=_opt_bool)

    @classmethod
    def examples(cls) -> Sequence[ResponsibilityDetermined]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "ic-00001",
                True,
                ("王某（校长）",),
                ("general-office.head",),
                "课间值守不到位，楼梯口无人疏导",
            ),
            cls("ic-00002", False, text="系家长误解，食堂无过错", concealed=False),
        )


KINDS: tuple[type[Any], ...] = (IncidentRecorded, IncidentReported, ResponsibilityDetermined)
"""The incident record kinds."""


# -- rules -----------------------------------------------------------------------------------

#: 国务院令第493号 第三条: 特别重大 30人以上死亡、100人以上重伤或1亿元以上直接经济损失;
#: 重大 10人、50人、5000万元; 较大 3人、10人、1000万元 (以上 includes the number itself).
DEFAULT_THRESHOLDS: Mapping[Grade, Figures] = types.MappingProxyType(
    {
        Grade.LARGER: Figures(3, 10, 10_000_000),
        Grade.MAJOR: Figures(10, 50, 50_000_000),
        Grade.EXTRAORDINARY: Figures(30, 100, 100_000_000),
    }
)
DEFAULT_INITIAL_MINUTES: Mapping[Grade, int] = types.MappingProxyType(
    {Grade.GENERAL: 60, Grade.LARGER: 30, Grade.MAJOR: 30, Grade.EXTRAORDINARY: 30}
)
DEFAULT_FOLLOW_UP_HOURS: Mapping[Grade, int | None] = types.MappingProxyType(
    {Grade.GENERAL: None, Grade.LARGER: 24, Grade.MAJOR: 24, Grade.EXTRAORDINARY: 24}
)


_V = TypeVar("_V")


def _merge(defaults: Mapping[Grade, _V], value: Mapping[Any, _V], what: str) -> Mapping[Grade, _V]:
    """The defaults with *value*'s grades replaced, read-only, in grade order."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what}: expected a mapping of grades, got {value!r}")
    merged = dict(defaults)
    for key, item in value.items():
        grade = next((g for g in defaults if g == key), None)
        if grade is None:
            known = ", ".join(g.value for g in defaults)
            raise ValueError(f"{what}: {key!r} is not one of the grades {known}")
        merged[grade] = item
    return types.MappingProxyType(dict(sorted(merged.items(), key=lambda kv: kv[0].rank)))


def _thresholds(value: Mapping[Any, Figures]) -> Mapping[Grade, Figures]:
    return _merge(DEFAULT_THRESHOLDS, value, "thresholds")


def _initial_minutes(value: Mapping[Any, int]) -> Mapping[Grade, int]:
    return _merge(DEFAULT_INITIAL_MINUTES, value, "initial_minutes")


def _follow_up_hours(value: Mapping[Any, int | None]) -> Mapping[Grade, int | None]:
    return _merge(DEFAULT_FOLLOW_UP_HOURS, value, "follow_up_hours")


def _check_thresholds(
    _inst: object, a: attrs.Attribute[Any], value: Mapping[Grade, Figures]
) -> None:
    before: Figures | None = None
    for grade, threshold in value.items():
        if not isinstance(threshold, Figures):
            raise ValueError(f"{a.name}[{grade.value}]: expected Figures, got {threshold!r}")
        for name in ("deaths", "serious_injuries", "loss_yuan"):
            figure = getattr(threshold, name)
            if figure < 1:
                raise ValueError(f"{a.name}[{grade.value}].{name}: must be >= 1, got {figure}")
            if before is not None and figure < getattr(before, name):
                raise ValueError(
                    f"{a.name}[{grade.value}].{name}: {figure} is below the grade under it "
                    f"({getattr(before, name)}); thresholds must not fall as grades rise"
                )
        before = threshold


def _check_minutes(_inst: object, a: attrs.Attribute[Any], value: Mapping[Grade, int]) -> None:
    for grade, minutes in value.items():
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
            raise ValueError(
                f"{a.name}[{grade.value}]: expected a whole number >= 1, got {minutes!r}"
            )


def _check_hours(_inst: object, a: attrs.Attribute[Any], value: Mapping[Grade, int | None]) -> None:
    for grade, hours in value.items():
        if hours is not None and (
            not isinstance(hours, int) or isinstance(hours, bool) or hours < 1
        ):
            raise ValueError(
                f"{a.name}[{grade.value}]: expected a whole number >= 1 or None (no follow-up "
                f"required), got {hours!r}"
            )


def _check_zone(_inst: object, a: attrs.Attribute[Any], value: object) -> None:
    try:
        zoneinfo.ZoneInfo(value)  # type: ignore[arg-type]  # checked right here
    except (TypeError, ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ValueError(f"{a.name}: {value!r} is not a time zone (e.g. 'Asia/Shanghai')") from None


@attrs.frozen
class IncidentRules:
    """How incidents are graded and when their reports are due. Every default is overridable.

    Per-grade settings take a mapping of the grades to change; the others keep their
    defaults: ``IncidentRules(initial_minutes={"general": 120})``.
    """

    thresholds: Mapping[Grade, Figures] = attrs.field(
        factory=dict,
        converter=_thresholds,
        validator=_check_thresholds,
        hash=False,
    )
    """The least figures of 较大, 重大 and 特别重大: an incident is of the highest grade whose
    threshold any one of its figures reaches, else 一般. Defaults: 《生产安全事故报告和调查处理
    条例》 (国务院令第493号) 第三条 — 特别重大 30 deaths, 100 serious injuries or 100,000,000 yuan
    direct loss; 重大 10, 50, 50,000,000; 较大 3, 10, 10,000,000 (以上 includes the number)."""
    initial_minutes: Mapping[Grade, int] = attrs.field(
        factory=dict,
        converter=_initial_minutes,
        validator=_check_minutes,
        hash=False,
    )
    """Minutes from occurrence to the initial report (初报), by grade. Defaults: 60 for 一般
    (493号令 第九条: a unit's head reports within 1 hour), 30 from 较大 up (common practice of
    education departments' emergency information rules: 较大及以上 30 minutes)."""
    follow_up_hours: Mapping[Grade, int | None] = attrs.field(
        factory=dict,
        converter=_follow_up_hours,
        validator=_check_hours,
        hash=False,
    )
    """Hours from occurrence to the first follow-up report (续报), by grade; ``None``: no
    follow-up required. Defaults: 24 from 较大 up (common practice: 续报 within a day while
    handling goes on), none for 一般. A final report made in time also answers for it."""
    final_days: int = attrs.field(default=30, validator=positive)
    """Days from occurrence to the final report (终报). Default 30: 493号令 第十三条 counts
    changes in the casualties within 30 days of the incident."""
    urgent_from: Grade = attrs.field(default=Grade.LARGER, converter=Grade)
    """From this grade up an incident's messages are urgent and also go to the leader."""
    timezone: str = attrs.field(default="Asia/Shanghai", validator=_check_zone)
    """The zone an incident's local date and time of occurrence are read in (the
    organisation's; :meth:`of` sets it)."""
    channel: str | None = attrs.field(default=None, validator=attrs.validators.optional(check_text))
    """Send every incident notification through this channel instead of the channels of
    the routes in force (``None``: the routes', :mod:`dualduty.notify.routing`). Kept from
    before routing; route incidents in the district file's ``[notify]`` table instead."""

    @classmethod
    def of(cls, org: Organisation, **changes: Any) -> IncidentRules:
        """The defaults in *org*'s time zone, with *changes*."""
        return cls(**{"timezone": org.timezone, **changes})

    def grade_of(self, deaths: int = 0, serious_injuries: int = 0, loss_yuan: int = 0) -> Grade:
        """The grade the figures reach (a higher figure never gives a lower grade).

        >>> from dualduty.records import IncidentRules
        >>> IncidentRules().grade_of(deaths=3).label
        '较大'
        """
        return self.grade(Figures(deaths, serious_injuries, loss_yuan))

    def grade(self, figures: Figures, assessed: Grade | None = None) -> Grade:
        """The grade of *figures*, or *assessed* if that is higher."""
        reached = Grade.GENERAL
        for grade, threshold in self.thresholds.items():
            if figures.reaches(threshold) and grade > reached:
                reached = grade
        return reached if assessed is None or assessed <= reached else assessed

    def due(
        self, stage: ReportStage | str, grade: Grade | str, occurred: dt.datetime
    ) -> dt.datetime | None:
        """When the *stage* report of an incident of *grade* is due (``None``: not required)."""
        stage, grade = ReportStage(stage), Grade(grade)
        if stage is ReportStage.INITIAL:
            return occurred + dt.timedelta(minutes=self.initial_minutes[grade])
        if stage is ReportStage.FOLLOW_UP:
            hours = self.follow_up_hours[grade]
            return None if hours is None else occurred + dt.timedelta(hours=hours)
        return occurred + dt.timedelta(days=self.final_days)


# -- state -----------------------------------------------------------------------------------


@attrs.frozen
class IncidentReport:
    """A report as folded into an incident's state."""

    stage: ReportStage
    at: dt.datetime
    actor: str
    figures: Figures
    grade: Grade
    """The grade the report's figures (and assessed grade) give."""
    assessed: Grade | None
    text: str


@attrs.frozen
class Flag:
    """Something wrong with how an incident was reported, and why."""

    kind: FlagKind
    reason: str
    stage: ReportStage | None = None
    """The report it concerns, if one."""


def _when(at: dt.datetime, zone: dt.tzinfo | None) -> str:
    """*at* as local ``YYYY-MM-DD HH:MM`` in *zone*."""
    return (at if zone is None else at.astimezone(zone)).strftime("%Y-%m-%d %H:%M")


def _span(delta: dt.timedelta) -> str:
    """A lateness in words: minutes up to two hours, then hours up to three days, then days."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 72 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


@attrs.frozen
class IncidentState:
    """An incident as its records say it is (folded, no I/O)."""

    id: str
    school: str
    category: IncidentClass
    title: str
    description: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    recorded_by: str
    came_to_light: CameToLight
    discovered_by: str
    rules: IncidentRules = attrs.field(repr=False)
    recorded_figures: Figures
    """The figures when it was recorded."""
    recorded_assessed: Grade | None = None
    reports: tuple[IncidentReport, ...] = ()
    """The reports made, in the order recorded."""
    responsibility: ResponsibilityDetermined | None = None
    """The latest finding on responsibility (``None``: not determined yet)."""
    determined_at: dt.datetime | None = None
    determined_by: str | None = None

    # -- what it is ------------------------------------------------------------------------

    @property
    def figures(self) -> Figures:
        """The latest figures: the final report's when made."""
        return self.reports[-1].figures if self.reports else self.recorded_figures

    @property
    def grade(self) -> Grade:
        """The grade from the latest figures (the final report's when made)."""
        if self.reports:
            return self.reports[-1].grade
        return self.rules.grade(self.recorded_figures, self.recorded_assessed)

    @property
    def final(self) -> IncidentReport | None:
        """The final report, if made."""
        last = self.reports[-1] if self.reports else None
        return last if last is not None and last.stage is ReportStage.FINAL else None

    @property
    def responsible(self) -> bool | None:
        """Whether it is a responsibility incident (``None``: not determined yet)."""
        return None if self.responsibility is None else self.responsibility.responsible

    @property
    def fatal(self) -> bool:
        """Whether anyone died (by the latest figures)."""
        return self.figures.deaths > 0

    @property
    def year(self) -> int:
        """The year it occurred in (local)."""
        return self.occurred_at.year

    # -- reports and deadlines -------------------------------------------------------------

    def deadlines(self) -> dict[ReportStage, dt.datetime]:
        """When each required report is due, by the incident's grade as the record stands.

        If later figures raise the grade, the tighter deadlines apply to the earlier reports
        too: understating an incident gains no time.
        """
        out = {}
        for stage in _STAGES:
            due = self.rules.due(stage, self.grade, self.occurred_at)
            if due is not None:
                out[stage] = due
        return out

    def reported_at(self, stage: ReportStage | str) -> dt.datetime | None:
        """When *stage* was answered: its first report, or an earlier later-stage report.

        A final report made before a follow-up was due answers for the follow-up as well.
        """
        rank = _STAGES.index(ReportStage(stage))
        times = [r.at for r in self.reports if _STAGES.index(r.stage) >= rank]
        return min(times) if times else None

    def as_of(self, now: dt.datetime) -> IncidentState:
        """The incident as the record stood at *now*: later reports and findings left out."""
        reports = tuple(r for r in self.reports if r.at <= now)
        if self.determined_at is not None and self.determined_at > now:
            return attrs.evolve(
                self, reports=reports, responsibility=None, determined_at=None, determined_by=None
            )
        return attrs.evolve(self, reports=reports)

    # -- flags -----------------------------------------------------------------------------

    def flags(self, now: dt.datetime) -> tuple[Flag, ...]:
        """What is wrong with the reporting, as the record stood at *now*, each with why.

        - late (迟报): a required report made after its deadline;
        - omitted (漏报): a required report not made, its deadline past at *now*;
        - concealed (瞒报): the incident came to light by discovery after the initial report
          was due, with no report from the school's side; or, once the final report is
          made, an earlier report gave figures of a lower grade than the final; or the
          investigation found it concealed. A finding of ``concealed=False`` clears the
          computed concealment (the casualties rose after the reports, say).
        """
        state = self.as_of(now)
        zone = state.occurred_at.tzinfo
        out: list[Flag] = []
        for stage, due in state.deadlines().items():
            made = state.reported_at(stage)
            name = f"the {stage.value.replace('_', '-')} report ({stage.label})"
            if made is None:
                if now > due:
                    out.append(
                        Flag(
                            FlagKind.OMITTED,
                            f"{name} was due by {_when(due, zone)} and has not been made "
                            f"({FlagKind.OMITTED.label})",
                            stage,
                        )
                    )
            elif made > due:
                out.append(
                    Flag(
                        FlagKind.LATE,
                        f"{name} was made {_when(made, zone)}, {_span(made - due)} after "
                        f"it was due by {_when(due, zone)} ({FlagKind.LATE.label})",
                        stage,
                    )
                )
        out.extend(state._concealment(zone))
        return tuple(out)

    def flagged(self, now: dt.datetime) -> frozenset[FlagKind]:
        """The kinds of :meth:`flags` at *now*."""
        return frozenset(f.kind for f in self.flags(now))

    def _concealment(self, zone: dt.tzinfo | None) -> list[Flag]:
        finding = self.responsibility
        if finding is not None and finding.concealed is not None:
            if not finding.concealed:
                return []
            return [
                Flag(
                    FlagKind.CONCEALED,
                    f"the investigation found the incident concealed ({FlagKind.CONCEALED.label})"
                    + (f": {finding.text}" if finding.text else ""),
                )
            ]
        out = []
        initial_due = self.deadlines()[ReportStage.INITIAL]
        if self.came_to_light is CameToLight.DISCOVERED and self.recorded_at > initial_due:
            by = f" by {self.discovered_by}" if self.discovered_by else ""
            out.append(
                Flag(
                    FlagKind.CONCEALED,
                    f"it came to light{by} at {_when(self.recorded_at, zone)}, after the initial "
                    f"report was due by {_when(initial_due, zone)}, with no report from the "
                    f"school's side ({FlagKind.CONCEALED.label})",
                )
            )
        final = self.final
        if final is not None:
            for report in self.reports[:-1]:
                if report.grade < final.grade:
                    out.append(
                        Flag(
                            FlagKind.CONCEALED,
                            f"the {report.stage.value.replace('_', '-')} report "
                            f"({report.stage.label}) of {_when(report.at, zone)} gave "
                            f"{report.figures} ({report.grade.label}), below the final grade "
                            f"{final.grade.label} ({FlagKind.CONCEALED.label})",
                            report.stage,
                        )
                    )
        return out

    # -- folding ---------------------------------------------------------------------------

    @classmethod
    def fold(
        cls, records: Iterable[Record], rules: IncidentRules | None = None
    ) -> IncidentState | None:
        """Fold an incident's records, oldest first (``None`` if there are none).

        :raises InvalidTransition: if the records do not fit together.
        """
        state: IncidentState | None = None
        for record in records:
            state = step(state, record, rules)
        return state


def _occurred_at(data: IncidentRecorded, rules: IncidentRules) -> dt.datetime:
    """When the incident occurred, aware, read in ``rules.timezone``."""
    hours, minutes = (int(part) for part in data.occurred_time.split(":"))
    return dt.datetime.combine(
        data.occurred_on, dt.time(hours, minutes), tzinfo=zoneinfo.ZoneInfo(rules.timezone)
    )


def step(
    state: IncidentState | None, record: Record, rules: IncidentRules | None = None
) -> IncidentState:
    """The state after *record*; pure.

    :raises InvalidTransition: if *record* does not fit *state*.
    """
    data = record.data
    rules = rules or (state.rules if state is not None else IncidentRules())
    if isinstance(data, IncidentRecorded):
        if state is not None:
            raise InvalidTransition(f"incident {data.incident!r} was already recorded")
        occurred = _occurred_at(data, rules)
        if occurred > record.at:
            raise InvalidTransition(
                f"incident {data.incident!r}: it occurred {_when(occurred, occurred.tzinfo)} "
                f"but was recorded {_when(record.at, occurred.tzinfo)}"
            )
        return IncidentState(
            id=data.incident,
            school=data.school,
            category=data.category,
            title=data.title,
            description=data.description,
            occurred_at=occurred,
            recorded_at=record.at,
            recorded_by=record.actor,
            came_to_light=data.came_to_light,
            discovered_by=data.discovered_by,
            rules=rules,
            recorded_figures=data.figures,
            recorded_assessed=data.grade,
        )
    incident_id = getattr(data, "incident", None)
    if state is None:
        raise InvalidTransition(f"no incident {incident_id!r} has been recorded")
    if incident_id != state.id:
        raise InvalidTransition(f"a record of incident {incident_id!r} applied to {state.id!r}")
    if isinstance(data, IncidentReported):
        if state.final is not None:
            raise InvalidTransition(
                f"incident {state.id!r}: the final report (终报) was made; no report follows it"
            )
        if data.stage is ReportStage.INITIAL and state.reports:
            raise InvalidTransition(f"incident {state.id!r}: the initial report (初报) was made")
        if record.at < state.occurred_at:
            raise InvalidTransition(
                f"incident {state.id!r}: a report cannot be made before the incident occurred"
            )
        report = IncidentReport(
            data.stage,
            record.at,
            record.actor,
            data.figures,
            rules.grade(data.figures, data.grade),
            data.grade,
            data.text,
        )
        return attrs.evolve(state, reports=(*state.reports, report))
    if isinstance(data, ResponsibilityDetermined):
        return attrs.evolve(
            state, responsibility=data, determined_at=record.at, determined_by=record.actor
        )
    raise InvalidTransition(f"{record.kind!r} is not an incident record")


def fold_incidents(
    store: Store,
    rules: IncidentRules | None = None,
    *,
    until: dt.datetime | None = None,
    pending: Sequence[Record] = (),
) -> list[IncidentState]:
    """Every incident's state from the store's incident records (as of *until*, exclusive).

    Reads only the incident kinds, each through the store's kind index; *pending* adds the
    records of an open transaction, in the order appended. Incidents come in the order
    recorded.
    """
    by_id: dict[str, list[tuple[int, Record]]] = {}
    for kind in KINDS:
        for entry in store.read(kind=kind.__record_kind__, until=until):
            by_id.setdefault(entry.record.data.incident, []).append((entry.seq, entry.record))
    extra = 1 << 62  # after every committed entry, in the order appended
    for record in pending:
        if type(record.data) in KINDS:
            by_id.setdefault(record.data.incident, []).append((extra, record))
            extra += 1
    return _fold_groups(by_id.values(), rules)


def _fold_groups(
    groups: Iterable[list[tuple[int, Record]]], rules: IncidentRules | None
) -> list[IncidentState]:
    states = []
    for pairs in sorted(groups, key=lambda rs: min(seq for seq, _ in rs)):
        pairs.sort(key=lambda sr: sr[0])
        state = IncidentState.fold((r for _, r in pairs), rules)
        if state is not None:
            states.append(state)
    return states


# -- the service -----------------------------------------------------------------------------


def incident(id_: str) -> str:
    """The subject string of an incident (``"incident:ic-00001"``)."""
    return f"incident:{id_}"


class Incidents:
    """Incidents over a store: every command checks who may act, validates and appends at once.

    :param store: where the records go.
    :param org: the organisation whose posts decide who may do what.
    :param rules: grades and deadlines (when ``None``: :meth:`IncidentRules.of` the
        organisation); their time zone must be the organisation's.
    :param desk: share the desk of a recorder (its batches and clock) instead of making one.

    Who may do what:

    - *record* an incident the school's side reported, and *report* on any incident: the
      school's finders (its packaged sections' people and package holders) and the office;
    - *record* a discovered incident, and *determine* responsibility: the office and the
      leading group's members.

    Subjects: ``incident:<id>`` first, then the school and its packaged sections (and the
    posts a finding holds responsible), so each is an indexed read.
    """

    def __init__(
        self,
        store: Store,
        org: Organisation,
        rules: IncidentRules | None = None,
        *,
        desk: Desk | None = None,
    ) -> None:
        from .service import Desk

        rules = rules or IncidentRules.of(org)
        if rules.timezone != org.timezone:
            raise DualdutyError(
                f"incident rules read times in {rules.timezone!r} but the organisation is in "
                f"{org.timezone!r}; build them with IncidentRules.of(org, ...)"
            )
        self.desk = desk if desk is not None else Desk(store, org)
        self.store = store
        self.org = org
        self.rules = rules
        self.graph = self.desk.graph
        self._zone = zoneinfo.ZoneInfo(rules.timezone)

    # -- who ---------------------------------------------------------------------------

    def leading_members(self) -> frozenset[str]:
        """The people holding the leading group's posts (组长, 副组长, 成员)."""
        return self.desk.leading_members()

    def reporters(self, school_id: str) -> frozenset[str]:
        """Who may record a reported incident at the school, and report on its incidents."""
        return self.desk.finders(school_id) | self.desk.office_members()

    def judges(self) -> frozenset[str]:
        """Who may record a discovered incident and determine responsibility."""
        return self.desk.office_members() | self.leading_members()

    # -- reading -----------------------------------------------------------------------

    def state(self, incident_id: str) -> IncidentState:
        """The incident's state, folded from its records (an indexed read).

        :raises InvalidTransition: if no such incident was recorded.
        """
        records = [e.record for e in self.store.read(subject=incident(incident_id))]
        return self._require(IncidentState.fold(records, self.rules), incident_id)

    def all(self, *, year: int | None = None) -> list[IncidentState]:
        """Every incident (that occurred in *year*, if given), in the order recorded."""
        states = fold_incidents(self.store, self.rules)
        return states if year is None else [s for s in states if s.year == year]

    def of_school(self, school_id: str, *, year: int | None = None) -> list[IncidentState]:
        """The incidents at a school (that occurred in *year*), in the order recorded."""
        from .base import school

        by_id: dict[str, list[tuple[int, Record]]] = {}
        for entry in self.store.read(subject=school(school_id)):
            if type(entry.record.data) in KINDS:
                by_id.setdefault(entry.record.data.incident, []).append((entry.seq, entry.record))
        states = _fold_groups(by_id.values(), self.rules)
        return states if year is None else [s for s in states if s.year == year]

    @staticmethod
    def _require(state: IncidentState | None, incident_id: str) -> IncidentState:
        if state is None:
            raise InvalidTransition(f"no incident {incident_id!r} has been recorded")
        return state

    # -- writing -----------------------------------------------------------------------

    def record(
        self,
        school_id: str,
        category: IncidentClass | str,
        title: str,
        *,
        occurred: dt.datetime,
        actor: str,
        deaths: int = 0,
        serious_injuries: int = 0,
        loss_yuan: int = 0,
        came_to_light: CameToLight | str = CameToLight.REPORTED,
        discovered_by: str = "",
        description: str = "",
        grade: Grade | str | None = None,
        incident_id: str | None = None,
        at: dt.datetime | None = None,
    ) -> IncidentState:
        """Record an incident at a school; the office is told in the same transaction.

        :param occurred: when it happened, a date and time with a time zone (kept to the
            minute, in the organisation's zone).
        :param came_to_light: ``"reported"`` by the school's side, or ``"discovered"`` by
            others (then say who in *discovered_by*; only the office or the leading group
            records a discovered incident).
        :param grade: a grade assessed beside the figures (see :class:`IncidentRecorded`).
        :raises PermissionDenied: if *actor* may not record it.
        :raises InvalidTransition: if it occurred after *at*, or the id is taken.
        """
        from .service import new_id

        if occurred.utcoffset() is None:
            raise InvalidTransition(
                f"occurred: {occurred!r} must be a date and time with a time zone"
            )
        self.graph.school(school_id)  # an unknown school is refused before anything else
        how = CameToLight(came_to_light)
        if how is CameToLight.DISCOVERED:
            allowed, what = self.judges(), "record a discovered incident (the office does)"
        else:
            allowed, what = self.reporters(school_id), f"record incidents at school {school_id}"
        self.desk.require(actor, allowed, what)
        local = occurred.astimezone(self._zone)
        with self.desk.writing() as w:
            data = IncidentRecorded(
                new_id(w, "ic", incident_id, "incident"),
                school_id,
                IncidentClass(category),
                title,
                local.date(),
                local.strftime("%H:%M"),
                Figures(deaths, serious_injuries, loss_yuan),
                how,
                discovered_by,
                description,
                _opt_grade(grade),
            )
            record = Record.of(
                data,
                actor=actor,
                at=self.desk.now(at),
                subjects=[incident(data.incident), *self.desk.school_subjects(school_id)],
            )
            state = step(None, record, self.rules)
            found = f"（{discovered_by or '他人'}发现）" if how is CameToLight.DISCOVERED else ""
            initial = self.rules.due(ReportStage.INITIAL, state.grade, state.occurred_at)
            assert initial is not None  # an initial report is always due
            fields = {
                "category": state.category.label,
                "recorder": self.graph.person(actor).name,
                "found": found,
                "initial_due": _when(initial, self._zone),
            }
            grave = state.grade >= self.rules.urgent_from
            events = [self._event("incident", state, w, fields)]
            if grave:  # 较大 and up: the leader too
                events.append(self._event("incident-grave", state, w, {"raised": ""}))
            w.append(record, self._route(events))
        return state

    def report(
        self,
        incident_id: str,
        stage: ReportStage | str,
        *,
        text: str,
        actor: str,
        deaths: int | None = None,
        serious_injuries: int | None = None,
        loss_yuan: int | None = None,
        grade: Grade | str | None = None,
        at: dt.datetime | None = None,
    ) -> IncidentState:
        """Record the school's *stage* report on an incident, with the figures as now known.

        A figure (or the assessed *grade*) not given is the latest on record. The office is
        told; a report that raises the grade to ``rules.urgent_from`` or above also alerts
        the leader, urgently.

        :raises PermissionDenied: if *actor* may not report on the school's incidents.
        :raises InvalidTransition: if the stage does not fit (a second initial report, a
            report after the final one, a report before the incident occurred).
        """
        stage_ = ReportStage(stage)
        with self.desk.writing() as w:
            state = self._fold(w, incident_id)
            self.desk.require(
                actor, self.reporters(state.school), f"report on incidents at school {state.school}"
            )
            last = state.figures
            figures = Figures(
                last.deaths if deaths is None else deaths,
                last.serious_injuries if serious_injuries is None else serious_injuries,
                last.loss_yuan if loss_yuan is None else loss_yuan,
            )
            assessed = _opt_grade(grade)
            if assessed is None:
                assessed = state.reports[-1].assessed if state.reports else state.recorded_assessed
            data = IncidentReported(incident_id, stage_, figures, text, assessed)
            record = Record.of(
                data, actor=actor, at=self.desk.now(at), subjects=self._subjects(state)
            )
            new = step(state, record, self.rules)
            raised = new.grade > state.grade and new.grade >= self.rules.urgent_from
            change = f"，由{state.grade.label}升为{new.grade.label}" if raised else ""
            fields = {"stage": stage_.label, "text": text.rstrip("。"), "raised": change}
            events = [self._event("incident-report", new, w, fields)]
            if raised:  # raised to 较大 or above: the leader too
                events.append(self._event("incident-grave", new, w, {"raised": change}))
            w.append(record, self._route(events))
        return new

    def determine(
        self,
        incident_id: str,
        *,
        responsible: bool,
        actor: str,
        persons: Iterable[str] = (),
        posts: Iterable[str] = (),
        text: str = "",
        concealed: bool | None = None,
        at: dt.datetime | None = None,
    ) -> IncidentState:
        """Record the finding on responsibility (责任认定); a later finding supersedes it.

        :param posts: the organisation's posts held responsible (their ``post:`` subjects
            are indexed).
        :param concealed: the investigation's word on concealment (see
            :class:`ResponsibilityDetermined`).
        :raises PermissionDenied: unless *actor* is of the office or the leading group.
        :raises InvalidTransition: if a post is not the organisation's.
        """
        posts = tuple(posts)
        for post_id in posts:
            try:
                self.graph.post(post_id)
            except KeyError:
                raise InvalidTransition(
                    f"the finding on {incident_id}: no post {post_id!r} in this organisation"
                ) from None
        data = ResponsibilityDetermined(
            incident_id, responsible, tuple(persons), posts, text, concealed
        )
        with self.desk.writing() as w:
            state = self._fold(w, incident_id)
            self.desk.require(
                actor,
                self.judges(),
                "determine responsibility (the office or the leading group does)",
            )
            subjects = [*self._subjects(state), *(f"post:{p}" for p in posts)]
            record = Record.of(data, actor=actor, at=self.desk.now(at), subjects=subjects)
            new = step(state, record, self.rules)
            w.append(record)
        return new

    # -- helpers -------------------------------------------------------------------------

    def _fold(self, writing: Writing, incident_id: str) -> IncidentState:
        state = IncidentState.fold(writing.read(incident(incident_id)), self.rules)
        return self._require(state, incident_id)

    def _subjects(self, state: IncidentState) -> list[str]:
        return [incident(state.id), *self.desk.school_subjects(state.school)]

    def _event(self, kind: str, state: IncidentState, w: Writing, fields: dict[str, str]) -> Event:
        """An event about *state* (as the record *w* appends next makes it)."""
        from dualduty.notify.routing import Event

        data = {
            "incident": state.id,
            "school": state.school,
            "school_name": self.graph.school(state.school).name,
            "grade": state.grade.label,
            "title": state.title,
            "occurred_at": _when(state.occurred_at, self._zone),
            "figures": _figures_zh(state.figures),
            **fields,
        }
        return Event(
            kind,
            state.id,
            state.occurred_at,
            school=state.school,
            cause=w.next_seq,
            urgent=state.grade >= self.rules.urgent_from,
            data=data,
        )

    def _route(self, events: Iterable[Event]) -> list[OutboxMessage]:
        """The messages of *events*, in order; from 较大 up they are urgent."""
        return [m for e in events for m in self.desk.route(e, channel=self.rules.channel)]


def _figures_zh(figures: Figures) -> str:
    return (
        f"死亡{figures.deaths}人、重伤{figures.serious_injuries}人、"
        f"直接经济损失{figures.loss_yuan}元"
    )
