"""Record kinds that several services and views read: inspections, meetings, reports.

Defined apart from the services that write them so that the compliance view, the
quarterly report and the ledgers can read them without importing those services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from dualduty.model._checks import check_id, check_ids, check_text
from dualduty.model.schedule import MeetingKind

from ._fields import date_only, opt_id, strings
from .base import record_kind
from .hazards import Severity

__all__ = ["Finding", "InspectionRecorded", "MeetingHeld", "ReportSubmitted"]


def _quarter(_inst: object, a: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4
    ):
        raise ValueError(f"{a.name}: expected a quarter 1-4, got {value!r}")


def _findings(value: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(value)


@attrs.frozen
class Finding:
    """What an inspection found (检查发现的问题).

    :param text: the finding in words.
    :param severity: ``None`` for a remark that is no hazard; otherwise the severity of
        the hazard it opened.
    :param hazard: the id of the hazard it opened (set by the service).
    """

    text: str = attrs.field(validator=check_text)
    severity: Severity | None = attrs.field(
        default=None, converter=attrs.converters.optional(Severity)
    )
    hazard: str | None = attrs.field(default=None, validator=opt_id)


@record_kind("inspection")
@attrs.frozen
class InspectionRecorded:
    """An inspection made at a school (督查): a scheduled visit, or ad hoc.

    :param inspection: its id.
    :param school: the school inspected.
    :param holder: the package holder it counts for (a leading-group post id or a
        section's unit id), as in :class:`~dualduty.model.schedule.Visit`.
    :param date: the day of the inspection.
    :param inspectors: the people who went (person ids).
    :param visit: the id of the scheduled :class:`~dualduty.model.schedule.Visit` it
        carries out; ``None`` for an ad hoc inspection.
    :param announced: ``False`` for an unannounced visit (暗访).
    :param findings: what it found; a finding with a severity opened a hazard.
    """

    inspection: str = attrs.field(validator=check_id)
    school: str = attrs.field(validator=check_id)
    holder: str = attrs.field(validator=check_id)
    date: dt.date = attrs.field(validator=date_only)
    inspectors: tuple[str, ...] = attrs.field(converter=strings, validator=check_ids)
    visit: str | None = attrs.field(default=None, validator=opt_id)
    announced: bool = True
    findings: tuple[Finding, ...] = attrs.field(default=(), converter=_findings)
    summary: str = ""

    @property
    def ad_hoc(self) -> bool:
        """Whether it carries out no scheduled visit."""
        return self.visit is None

    @classmethod
    def examples(cls) -> Sequence[InspectionRecorded]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "in-00001",
                "s0001",
                "general-office",
                dt.date(2026, 9, 15),
                ("p011", "p012"),
                visit="v.2026q3.general-office.s0001.1",
                findings=(
                    Finding("消防通道堆放杂物", Severity.GENERAL, "hz-00002"),
                    Finding("值班记录完整"),
                ),
                summary="开学安全专项督查",
            ),
            cls("in-00002", "s0002", "deputy-1", dt.date(2026, 10, 9), ("p002",), announced=False),
        )


@record_kind("meeting-held")
@attrs.frozen
class MeetingHeld:
    """A meeting that took place: a topic study, a coordination meeting, the annual meeting.

    :param meeting: its id.
    :param kind: a topic study (专题研究, 二(三).1), a coordination meeting (调度会, 三.3) or
        the annual summary meeting (总结表彰会, 二(一).3).
    :param unit: the unit that held it (the section; the leading group or its office).
    :param date: the day it was held.
    :param topic: what it was about.
    :param attendees: who attended (person ids).
    :param scheduled: the id of the scheduled :class:`~dualduty.model.schedule.Meeting`
        it carries out, if any.
    :param minutes: the minutes (纪要), if any.
    """

    meeting: str = attrs.field(validator=check_id)
    kind: MeetingKind = attrs.field(converter=MeetingKind)
    unit: str = attrs.field(validator=check_id)
    date: dt.date = attrs.field(validator=date_only)
    topic: str = attrs.field(validator=check_text)
    attendees: tuple[str, ...] = attrs.field(default=(), converter=strings, validator=check_ids)
    scheduled: str | None = attrs.field(default=None, validator=opt_id)
    minutes: str = ""

    @classmethod
    def examples(cls) -> Sequence[MeetingHeld]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "mt-00001",
                MeetingKind.TOPIC_STUDY,
                "general-office",
                dt.date(2026, 9, 3),
                "研究秋季开学学校安全工作",
                ("p010", "p011", "p012"),
                minutes="明确分包学校督查分工",
            ),
            cls("mt-00002", "coordination", "leading-group", dt.date(2026, 9, 25), "三季度调度会"),
        )


@record_kind("report-submitted")
@attrs.frozen
class ReportSubmitted:
    """A section's written quarterly report handed to the office (三.2: 每季度末书面报告).

    :param report: its id.
    :param unit: the section reporting.
    :param year: the year reported on.
    :param quarter: the quarter reported on (1-4).
    :param title: its title.
    :param text: the report as submitted (Markdown).
    :param deadline: the id of the :class:`~dualduty.model.schedule.Deadline` it meets.
    """

    report: str = attrs.field(validator=check_id)
    unit: str = attrs.field(validator=check_id)
    year: int = attrs.field(validator=attrs.validators.instance_of(int))
    quarter: int = attrs.field(validator=_quarter)
    title: str = attrs.field(validator=check_text)
    text: str = attrs.field(validator=check_text)
    deadline: str | None = attrs.field(default=None, validator=opt_id)

    @classmethod
    def examples(cls) -> Sequence[ReportSubmitted]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "rp-00001",
                "general-office",
                2026,
                3,
                "办公室2026年第三季度学校安全工作报告",
                "# 办公室2026年第三季度学校安全工作报告\n\n本季度督查分包学校6次。",
                deadline="d.2026q3.report.general-office",
            ),
        )


KINDS: tuple[type[Any], ...] = (InspectionRecorded, MeetingHeld, ReportSubmitted)
