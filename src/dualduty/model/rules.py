"""The plan's numbers as one typed, overridable policy object (:class:`Rules`).

Every field carries the clause of the reference plan it comes from, in its attrs
metadata (``attrs.fields(Rules).inspections_per_school_per_quarter.metadata["clause"]``),
so code and docs can trace a number back to the plan. An organisation file overrides
any of them under ``[rules]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import attrs

from ._checks import check_id, check_text

__all__ = ["AssessmentCategory", "ReportDue", "Rules", "clause_of"]


class ReportDue(StrEnum):
    """When the sections' written report is due."""

    QUARTER_END = "quarter_end"
    """季度末: on the last day of each quarter (clause 三.2)."""


@attrs.frozen
class AssessmentCategory:
    """A category of the year-end assessment (年终考核, clause 三.4)."""

    id: str = attrs.field(validator=check_id)
    name: str = attrs.field(validator=check_text)
    """The Chinese label."""
    name_en: str = attrs.field(validator=check_text)
    """The English label."""
    clause: str = attrs.field(default="三.4", validator=check_text)
    """The clause of the plan the category comes from."""


DEFAULT_ASSESSMENT_CATEGORIES: tuple[AssessmentCategory, ...] = (
    AssessmentCategory("system_implementation", "制度落实", "system implementation"),
    AssessmentCategory(
        "hazard_remediation", "隐患排查治理", "hazard identification and remediation"
    ),
    AssessmentCategory("package_incidents", "分包学校事故发生", "incidents at packaged schools"),
)


def _at_least(minimum: int) -> Any:
    return attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(minimum))


def _categories(value: Iterable[AssessmentCategory]) -> tuple[AssessmentCategory, ...]:
    # A typed converter: with ``converter=tuple`` mypy rejects a list of categories.
    return tuple(value)


def _unique_categories(
    _inst: object, _a: attrs.Attribute[Any], value: tuple[AssessmentCategory, ...]
) -> None:
    ids = [c.id for c in value]
    if len(set(ids)) != len(ids):
        raise ValueError("assessment_categories: category ids must be unique")
    if not ids:
        raise ValueError("assessment_categories: at least one category is needed")


@attrs.frozen
class Rules:
    """The plan's numbers. Defaults are the reference plan's; override any per organisation.

    >>> Rules().inspections_per_school_per_quarter
    2
    >>> clause_of("topic_studies_per_quarter")
    '二(三).1'
    """

    topic_studies_per_quarter: int = attrs.field(
        default=2, validator=_at_least(0), metadata={"clause": "二(三).1"}
    )
    """每季度专题研究学校安全稳定工作两次以上: each section studies school safety at least this
    many times a quarter."""

    inspections_per_school_per_quarter: int = attrs.field(
        default=2, validator=_at_least(0), metadata={"clause": "三.2"}
    )
    """每季度对所包学校进行两次专门督查: dedicated inspections of each packaged school per
    quarter, by each holder of its packages."""

    report_due: ReportDue = attrs.field(
        default=ReportDue.QUARTER_END,
        converter=ReportDue,
        metadata={"clause": "三.2"},
    )
    """各科室每季度末…书面报…办公室: when each section's written report is due."""

    coordination_meetings_per_quarter: int = attrs.field(
        default=1, validator=_at_least(0), metadata={"clause": "三.3"}
    )
    """每季度要召开…调度会: coordination meetings of all sections per quarter."""

    major_hazard_report_hours: int = attrs.field(
        default=0, validator=_at_least(0), metadata={"clause": "三.2"}
    )
    """重大安全隐患…应立即上报: hours allowed before a major hazard reaches the office;
    0 means at once."""

    summary_meetings_per_year: int = attrs.field(
        default=1, validator=_at_least(0), metadata={"clause": "二(一).3"}
    )
    """每年组织召开…总结表彰会议: summary and commendation meetings per year."""

    inspections_in_term_only: bool = attrs.field(
        default=False, validator=attrs.validators.instance_of(bool), metadata={"clause": "三.2"}
    )
    """Whether dedicated inspections must fall in term time (not in 寒暑假). Not in the
    plan: a local choice."""

    min_days_between_visits: int = attrs.field(
        default=14, validator=_at_least(0), metadata={"clause": "三.2"}
    )
    """Calendar days at least between two dedicated inspections of one school by one
    holder in a quarter, so that they spread through the quarter (across a quarter's end
    the schedule generator keeps about the same spacing, but holds to no minimum). Not in
    the plan: a local choice."""

    unannounced_share: float = attrs.field(
        default=0.5,
        converter=float,
        validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)],
        metadata={"clause": "三.2"},
    )
    """明查暗访: the share of dedicated inspections that are unannounced (暗访). The plan
    asks for both kinds; the share is a local choice."""

    visits_per_inspector_per_day: int = attrs.field(
        default=2, validator=_at_least(1), metadata={"clause": "三.2"}
    )
    """The most dedicated inspections one inspector makes in a day. Not in the plan."""

    joint_visits: bool = attrs.field(
        default=False, validator=attrs.validators.instance_of(bool), metadata={"clause": "三.2"}
    )
    """Whether a leading-group member and the section that hold one school's packages may
    inspect it together, the visit counting for both. Not in the plan: a local choice."""

    report_due_working_days_before_end: int = attrs.field(
        default=0, validator=_at_least(0), metadata={"clause": "三.2"}
    )
    """季度末: the quarter report is due this many working days before the quarter's last
    working day (0: on the last working day)."""

    assessment_categories: tuple[AssessmentCategory, ...] = attrs.field(
        default=DEFAULT_ASSESSMENT_CATEGORIES,
        converter=_categories,
        validator=_unique_categories,
        metadata={"clause": "三.4"},
    )
    """年终考核: the categories the year-end assessment scores."""


def clause_of(rule: str) -> str:
    """The clause of the reference plan a :class:`Rules` field comes from."""
    try:
        field = attrs.fields_dict(Rules)[rule]
    except KeyError:
        raise KeyError(f"no rule named {rule!r}") from None
    return str(field.metadata["clause"])
