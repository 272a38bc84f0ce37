"""The year-end assessment's rubric as data (考核细则, clause 三.4).

At year end the leading group assesses every section on system implementation (制度落实),
hazard identification and remediation (隐患排查治理) and incidents at its packaged schools
(分包学校事故发生); the result is the main basis of the excellent-section award
(优秀科室, 三.4) and of rewards and penalties (兑现奖惩, 二(一).3). How many points each
of these is worth, what costs a point, what vetoes a section outright (一票否决) and where
the grades lie differ from district to district, so the rubric is data: a TOML (or JSON,
YAML) file read by :func:`load_rubric`, checked whole, every problem reported with its
path (``items[3].max_points: expected a number >= 0, got -5``) in one
:class:`InvalidRubric`.

A :class:`Rubric` holds

- :class:`Category`\\ s (the three of 三.4 in the default);
- :class:`Item`\\ s: each takes one :class:`Measure` of a unit's year (a ratio such as the
  share of due inspections done, or a count such as late reports) and turns it into
  points by its :class:`Mode`: ``ratio`` (``max_points × ratio``), ``deduct``
  (``max_points − per × count``, never below ``floor``) or ``bonus``
  (``per × count``, at most ``max_points``, above the base) — :meth:`Item.points`;
- :class:`VetoRule`\\ s (一票否决) of a :class:`VetoKind`;
- grade bands (:class:`~dualduty.scoring.GradeBand`, defaults 优秀 >= 90, 良好 >= 80,
  合格 >= 60, 不合格 below) and the :class:`Award`.

Who is assessed is an :class:`Assessee`: a section (科室, and the centres assessed like
one) or a leading-group member on their packages. The arithmetic from measured values to
a total and a grade is defined here (:meth:`Item.points`, :meth:`Rubric.total_of`,
:meth:`Rubric.grade_of`, :meth:`Award.places`); measuring each value from the compliance
view and the records is the assessment engine's. :func:`default_rubric` is the rubric
dualduty ships, built from the plan's clauses; ``docs/reference/rubric.md`` explains it
item by item.

This module imports no records and no file converters until a file is read, so that
building a rubric in Python stays light.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import attrs

from dualduty.errors import InvalidFile, Problem
from dualduty.model._checks import is_id

from . import GradeBand

if TYPE_CHECKING:
    import cattrs

    from dualduty.model.rules import AssessmentCategory

__all__ = [
    "DEFAULT_BANDS",
    "INCIDENT_GRADES",
    "POINTS_DECIMALS",
    "RUBRIC_FORMAT_VERSION",
    "Assessee",
    "Award",
    "Category",
    "InvalidRubric",
    "Item",
    "Measure",
    "MeasureParam",
    "Mode",
    "PartError",
    "Rubric",
    "VetoKind",
    "VetoRule",
    "default_rubric",
    "dump_rubric",
    "dumps_rubric",
    "load_rubric",
    "loads_rubric",
    "round_points",
    "rubric_from_data",
    "rubric_to_data",
]

#: The version of the rubric file format this dualduty reads and writes (the top-level
#: ``format`` key; a file without it is read as this version).
RUBRIC_FORMAT_VERSION = 1

#: The incident grades (事件等级) by their values, from the least grave: the keys of the
#: ``incidents`` measure's weights and the values of a veto's ``grade``. They are those of
#: :class:`dualduty.records.Grade`; kept here as text so that a rubric needs no records.
INCIDENT_GRADES: tuple[str, ...] = ("general", "larger", "major", "extraordinary")


#: Points are rounded to this many decimal places (half up), each item's and the total.
POINTS_DECIMALS = 2

_TOLERANCE = 1e-9
_DEFAULT_FILE = "default_rubric.toml"


def round_points(value: float) -> float:
    """*value* rounded half up to :data:`POINTS_DECIMALS` places, as a person would round it.

    The decimal the float prints as is rounded (not its binary value), so ``2.675`` gives
    ``2.68`` and a sum of rounded points shows no binary noise.

    >>> from dualduty.scoring.rubric import round_points
    >>> round_points(15 * 7 / 9), round_points(2.675), round_points(0.1 + 0.2)
    (11.67, 2.68, 0.3)
    """
    quantum = Decimal(1).scaleb(-POINTS_DECIMALS)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


# -- vocabularies -------------------------------------------------------------------------


class Assessee(StrEnum):
    """Who a rubric item or veto assesses."""

    SECTION = "section"
    """A section (科室) or a centre assessed like one (the section-like unit kinds,
    ``dualduty.model.enums.SECTION_KINDS``): what clause 三.4 assesses and the
    excellent-section award goes to. Its figures are the compliance view's
    :class:`~dualduty.records.compliance.SectionRow` (the schools packaged to it) and the
    records of its own meetings, reports, pledges, trainings and activities."""
    MEMBER = "member"
    """A leading-group member (领导小组成员, a post of the leading group) on the schools
    packaged to their post (二(二), 三.1): the compliance view's
    :class:`~dualduty.records.compliance.HolderRow` of kind ``post``. Members are assessed
    with the items whose measure applies to them; they win no award."""


class Mode(StrEnum):
    """How an item turns its measured value into points (:meth:`Item.points`)."""

    RATIO = "ratio"
    """``max_points × ratio``: full points when everything due was done. Takes a ratio
    measure (a value from 0 to 1)."""
    DEDUCT = "deduct"
    """``max_points − per × count``, never below ``floor`` (扣分, 扣完为止): full points
    without a shortfall, ``per`` off for each. Takes a count measure."""
    BONUS = "bonus"
    """``per × count``, at most ``max_points`` (加分): points above the base, which the
    rubric's ``bonus_cap`` bounds all together. Takes a count measure."""


@attrs.frozen
class MeasureParam:
    """A parameter of a measure, set per item or veto under ``params`` (``params.late = 2``).

    :param name: its key.
    :param default: the value when the item does not set it.
    :param minimum: the least value allowed.
    :param maximum: the greatest value allowed (``None``: no bound).
    :param doc: what it does.
    """

    name: str
    default: float
    minimum: float = 0.0
    maximum: float | None = None
    doc: str = ""


_EMPTY = MeasureParam(
    "empty", 1.0, 0.0, 1.0, "the ratio when nothing was due (default 1: nothing due, nothing short)"
)


def _late_weight(what: str) -> MeasureParam:
    return MeasureParam(
        "late_weight", 0.0, 0.0, 1.0, f"how much a {what} counts towards the ratio (0 to 1)"
    )


_MAJOR_WEIGHT = MeasureParam("major_weight", 1.0, 0.0, None, "how many a major hazard counts as")


@attrs.frozen
class _Spec:
    ratio: bool
    assessees: frozenset[Assessee]
    clause: str
    params: tuple[MeasureParam, ...] = ()


_BOTH = frozenset(Assessee)
_SECTION = frozenset({Assessee.SECTION})


class Measure(StrEnum):
    """What can be measured of a unit's year: the vocabulary of a rubric item.

    Each value is taken for one unit (an :class:`Assessee`) and one year, as the record
    stands when the assessment is made (``now``): what is still *pending* then (a quarter
    or a deadline not yet over) is left out of both sides of a ratio and counts as no
    shortfall. Ratios run from 0 to 1; counts are whole numbers unless weighted by the
    item's ``params``. "Its packaged schools" are the schools packaged to the section, or
    to the member's post, by the packages in force on the day in question (分包学校, 三.1).
    """

    # -- dedicated inspections (专门督查, 三.2) --------------------------------------------

    VISITS_DONE_RATIO = "visits_done_ratio"
    """The scheduled dedicated inspections of its packaged schools carried out within
    their quarter, over those due (scheduled, done or not, their quarter over): the
    compliance view's year row, ``len(visits.done) / (len(visits.due) −
    len(visits.pending))``. A late one (carried out after its quarter) counts
    ``late_weight``."""
    VISITS_LATE = "visits_late"
    """The scheduled dedicated inspections carried out after their quarter
    (``visits.late``)."""
    VISITS_MISSED = "visits_missed"
    """The scheduled dedicated inspections not carried out, their quarter over
    (``visits.missed``)."""
    AD_HOC_VISITS = "ad_hoc_visits"
    """Inspections of its packaged schools beyond the schedule (不定期明查暗访, 三.2): the
    compliance view's ad hoc inspections (``visits.ad_hoc``)."""
    UNANNOUNCED_VISITS = "unannounced_visits"
    """The ad hoc inspections among them made unannounced (暗访): ``announced`` false on
    the :class:`~dualduty.records.InspectionRecorded`. Meant for bonuses."""

    # -- topic studies (专题研究, 二(三).1) ----------------------------------------------

    TOPIC_STUDIES_RATIO = "topic_studies_ratio"
    """The section's topic studies of school safety held, over those required, in the
    quarters that are over: per quarter ``min(held, required)`` from the compliance view's
    quarter rows (``topic_studies.held``, ``topic_studies.required``), summed, over the
    sum of ``required``. Sections only."""
    TOPIC_STUDIES_SHORT = "topic_studies_short"
    """The topic studies the section is short, summed over the quarters that are over:
    ``required − held`` of each quarter whose status is ``short``. A quarter's surplus
    does not make up for another's shortfall. Sections only."""

    # -- meetings (调度会 三.3, 总结表彰会 二(一).3) ----------------------------------------

    COORDINATION_ABSENT = "coordination_absent"
    """The coordination meetings of all sections (调度会, 三.3) held in the year that no
    member of the section attended: :class:`~dualduty.records.MeetingHeld` records of kind
    ``coordination`` none of whose ``attendees`` holds a post of the unit. Sections only."""
    COORDINATION_SHORT = "coordination_short"
    """For the section seating the leading group's office (法规安全科 in the plan, which
    convenes them): the coordination meetings short of
    ``rules.coordination_meetings_per_quarter``, summed over the quarters that are over
    (the compliance view's ``coordination``). 0 for every other section. Sections only."""
    SUMMARY_SHORT = "summary_short"
    """For the section seating the leading group's office: the summary and commendation
    meetings (总结表彰会, 二(一).3) short of ``rules.summary_meetings_per_year`` once the
    year is over (the compliance view's ``summary``). 0 for every other section. Sections
    only."""

    # -- quarterly reports (书面报告, 三.2) ----------------------------------------------

    REPORTS_ON_TIME_RATIO = "reports_on_time_ratio"
    """The section's quarterly written reports submitted on time, over those due (the
    compliance view's year row ``reports``: on time, late or missing; pending left out).
    A late one counts ``late_weight``. Sections only."""
    REPORTS_LATE = "reports_late"
    """The quarterly reports submitted after their due day. Sections only."""
    REPORTS_MISSING = "reports_missing"
    """The quarterly reports not submitted, their due day past. Sections only."""
    REPORTS_NOT_ON_TIME = "reports_not_on_time"
    """Late and missing quarterly reports together, weighted: ``late × params.late +
    missing × params.missing``. Sections only."""

    # -- hazards (隐患排查治理, 三.2, 三.4) ----------------------------------------------

    HAZARDS_FOUND = "hazards_found"
    """The hazards found at its packaged schools in the year (the compliance view's year
    row ``hazards.found``), a major one counting ``major_weight``."""
    HAZARDS_CLOSED = "hazards_closed"
    """The hazards at its packaged schools closed (销号) in the year, whenever found
    (``hazards.closed``), a major one counting ``major_weight``."""
    HAZARDS_CLOSED_ON_TIME_RATIO = "hazards_closed_on_time_ratio"
    """Of the hazards at its packaged schools that were due for rectification — closed in
    the year, or open and overdue at its end (or at ``now``) — those closed by their
    closing deadline (:class:`~dualduty.records.HazardRules`: ``general_close_days`` or
    ``major_close_days`` after being found). One closed after its deadline counts
    ``late_weight``; hazards open and not yet overdue are left out."""
    HAZARDS_OVERDUE = "hazards_overdue"
    """The hazards at its packaged schools open and overdue at the year's end (or at
    ``now``): ``hazards.overdue``, a major one counting ``major_weight``."""
    MAJOR_HAZARDS_REPORTED_LATE = "major_hazards_reported_late"
    """The major hazards (重大安全隐患) found at its packaged schools in the year that did
    not reach the leading group's office at once (应立即上报, 三.2): those whose
    :attr:`~dualduty.records.compliance.HazardOutcome.missed` includes ``"report"`` (reported
    after ``rules.major_hazard_report_hours``, or not yet)."""

    # -- incidents (分包学校事故发生, 三.4) ----------------------------------------------

    INCIDENTS = "incidents"
    """The incidents at its packaged schools that occurred in the year, weighted: each
    counts the weight of its grade (``params.general``, ``larger``, ``major``,
    ``extraordinary``; :attr:`~dualduty.records.IncidentState.grade`), times
    ``params.responsible`` when it was found a responsibility incident (责任事故,
    :attr:`~dualduty.records.IncidentState.responsible`)."""
    INCIDENTS_REPORTED_LATE = "incidents_reported_late"
    """The incidents at its packaged schools that occurred in the year flagged late (迟报)
    or omitted (漏报) at ``now`` (:meth:`~dualduty.records.IncidentState.flagged`).
    Concealment (瞒报) is a veto (:attr:`VetoKind.CONCEALED_INCIDENT`)."""

    # -- pledges, training, targets, activities ----------------------------------------------

    PLEDGE_UNSIGNED = "pledge_unsigned"
    """Responsibility pledges (责任状, 二(一).3) not signed for the year: for a section, its
    held posts whose role signs one (``dualduty.records.meetings.PLEDGE_ROLES``:
    the section head) with no :class:`~dualduty.records.PledgeSigned` of their holder for that
    post and year; for a member, 1 if their post's role signs one (a deputy or a member,
    not the leader) and they signed none for it, else 0."""
    STAFF_UNTRAINED = "staff_untrained"
    """The section's people (the holders of its posts) who took part in no staff safety
    training in the year (安全教育, 二(三).4): in no
    :class:`~dualduty.records.TrainingHeld`'s ``trainees`` dated in the year. Sections
    only."""
    ANNUAL_TARGETS_MISSING = "annual_targets_missing"
    """1 unless the section put on record that school safety is in its annual work
    targets (纳入年度工作目标, 同部署同检查同考核同奖惩, 二(三).2), else 0: the latest
    :class:`~dualduty.records.TargetsSet` of the section for the year, recorded before
    ``now``, has at least one school-safety target (``safety``). Sections only."""
    ACTIVITY_FINDINGS = "activity_findings"
    """What the activities the section hosted in the year lack (谁主办谁负责, 二(三).2): the
    :meth:`~dualduty.records.ActivityState.findings` at ``now`` of the activities it hosts
    (no safety plan, not approved, not supervised) dated in the year. Sections only."""

    @property
    def ratio(self) -> bool:
        """Whether the value is a ratio from 0 to 1 (else a count from 0 up)."""
        return _SPECS[self].ratio

    @property
    def assessees(self) -> frozenset[Assessee]:
        """Who the measure can be taken of."""
        return _SPECS[self].assessees

    @property
    def clause(self) -> str:
        """The clause of the plan it measures."""
        return _SPECS[self].clause

    @property
    def params(self) -> Mapping[str, MeasureParam]:
        """The parameters it takes, by name."""
        return {p.name: p for p in _SPECS[self].params}

    @property
    def defaults(self) -> Mapping[str, float]:
        """Its parameters' defaults, by name."""
        return {p.name: p.default for p in _SPECS[self].params}


_GRADE_WEIGHTS = (
    MeasureParam("general", 1.0, doc="the weight of a general incident (一般)"),
    MeasureParam("larger", 2.0, doc="the weight of a larger incident (较大)"),
    MeasureParam("major", 4.0, doc="the weight of a major incident (重大)"),
    MeasureParam("extraordinary", 4.0, doc="the weight of an extraordinary incident (特别重大)"),
    MeasureParam("responsible", 2.0, doc="the multiplier of a responsibility incident (责任事故)"),
)

_SPECS: dict[Measure, _Spec] = {
    Measure.VISITS_DONE_RATIO: _Spec(True, _BOTH, "三.2", (_EMPTY, _late_weight("late visit"))),
    Measure.VISITS_LATE: _Spec(False, _BOTH, "三.2"),
    Measure.VISITS_MISSED: _Spec(False, _BOTH, "三.2"),
    Measure.AD_HOC_VISITS: _Spec(False, _BOTH, "三.2"),
    Measure.UNANNOUNCED_VISITS: _Spec(False, _BOTH, "三.2"),
    Measure.TOPIC_STUDIES_RATIO: _Spec(True, _SECTION, "二(三).1", (_EMPTY,)),
    Measure.TOPIC_STUDIES_SHORT: _Spec(False, _SECTION, "二(三).1"),
    Measure.COORDINATION_ABSENT: _Spec(False, _SECTION, "三.3"),
    Measure.COORDINATION_SHORT: _Spec(False, _SECTION, "三.3"),
    Measure.SUMMARY_SHORT: _Spec(False, _SECTION, "二(一).3"),
    Measure.REPORTS_ON_TIME_RATIO: _Spec(
        True, _SECTION, "三.2", (_EMPTY, _late_weight("late report"))
    ),
    Measure.REPORTS_LATE: _Spec(False, _SECTION, "三.2"),
    Measure.REPORTS_MISSING: _Spec(False, _SECTION, "三.2"),
    Measure.REPORTS_NOT_ON_TIME: _Spec(
        False,
        _SECTION,
        "三.2",
        (
            MeasureParam("late", 1.0, doc="how many a late report counts as"),
            MeasureParam("missing", 1.0, doc="how many a missing report counts as"),
        ),
    ),
    Measure.HAZARDS_FOUND: _Spec(False, _BOTH, "三.2", (_MAJOR_WEIGHT,)),
    Measure.HAZARDS_CLOSED: _Spec(False, _BOTH, "三.2", (_MAJOR_WEIGHT,)),
    Measure.HAZARDS_CLOSED_ON_TIME_RATIO: _Spec(
        True, _BOTH, "三.2", (_EMPTY, _late_weight("hazard closed late"))
    ),
    Measure.HAZARDS_OVERDUE: _Spec(False, _BOTH, "三.2", (_MAJOR_WEIGHT,)),
    Measure.MAJOR_HAZARDS_REPORTED_LATE: _Spec(False, _BOTH, "三.2"),
    Measure.INCIDENTS: _Spec(False, _BOTH, "三.4", _GRADE_WEIGHTS),
    Measure.INCIDENTS_REPORTED_LATE: _Spec(False, _BOTH, "三.4"),
    Measure.PLEDGE_UNSIGNED: _Spec(False, _BOTH, "二(一).3"),
    Measure.STAFF_UNTRAINED: _Spec(False, _SECTION, "二(三).4"),
    Measure.ANNUAL_TARGETS_MISSING: _Spec(False, _SECTION, "二(三).2"),
    Measure.ACTIVITY_FINDINGS: _Spec(False, _SECTION, "二(三).2"),
}


class VetoKind(StrEnum):
    """What vetoes a unit (一票否决): a finding that fails it whatever its points.

    Incidents are those at its packaged schools that occurred in the year, as the record
    stands when the assessment is made.
    """

    RESPONSIBILITY_DEATH = "responsibility_death"
    """An incident found a responsibility incident (责任事故,
    :attr:`~dualduty.records.IncidentState.responsible`) in which someone died
    (:attr:`~dualduty.records.IncidentState.fatal`). On in the default rubric."""
    CONCEALED_INCIDENT = "concealed_incident"
    """An incident flagged concealed (瞒报, :attr:`~dualduty.records.FlagKind.CONCEALED`).
    On in the default rubric."""
    FATAL_INCIDENT = "fatal_incident"
    """An incident in which someone died, whatever the finding on responsibility."""
    INCIDENT_GRADE = "incident_grade"
    """An incident of at least the veto's ``grade`` (``"larger"`` for 较大 and above); with
    ``responsible_only``, only a responsibility incident."""
    MEASURE = "measure"
    """The veto's ``measure`` reaching ``at_least`` (two missing quarterly reports, a
    major hazard not reported at once, …), with the measure's ``params``."""


# -- checks -------------------------------------------------------------------------------


class PartError(ValueError):
    """A part of a rubric (a category, an item, a veto, the award) with problems.

    :ivar problems: every problem found, each with its path inside the part
        (``per``, ``params.late``).
    """

    def __init__(self, part: str, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{part}: " + "; ".join(str(p) for p in self.problems))


def _raise_if(part: object, problems: list[Problem]) -> None:
    if problems:
        raise PartError(type(part).__name__, problems)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _show(number: float) -> str:
    """A number as a person writes it: ``5``, ``2.5``."""
    return str(int(number)) if float(number).is_integer() else str(number)


def _number(
    problems: list[Problem],
    path: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
) -> bool:
    """Check a number in range; return whether it is one."""
    bounds = []
    if above is not None:
        bounds.append(f"> {_show(above)}")
    if minimum is not None:
        bounds.append(f">= {_show(minimum)}")
    if maximum is not None:
        bounds.append(f"<= {_show(maximum)}")
    expected = "expected a number" + (" " + " and ".join(bounds) if bounds else "")
    if not _is_number(value):
        problems.append(Problem(path, f"{expected}, got {value!r}"))
        return False
    number = cast(float, value)
    if (
        (above is not None and not number > above)
        or (minimum is not None and number < minimum)
        or (maximum is not None and number > maximum)
    ):
        problems.append(Problem(path, f"{expected}, got {_show(number)}"))
        return False
    return True


def _text(problems: list[Problem], path: str, value: object, *, blank: bool = False) -> None:
    if not isinstance(value, str):
        problems.append(Problem(path, f"expected text, got {value!r}"))
    elif not blank and not value.strip():
        problems.append(Problem(path, "must be non-empty text"))


def _ident(problems: list[Problem], path: str, value: object) -> None:
    if not is_id(value):
        problems.append(
            Problem(
                path,
                f"{value!r} is not a valid id "
                "(lower-case ASCII letters, digits, '_', '-', '.'; 1-64 characters)",
            )
        )


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(repr(m.value) for m in enum)


def _member(problems: list[Problem], path: str, value: object, enum: type[StrEnum]) -> bool:
    if isinstance(value, enum):
        return True
    problems.append(Problem(path, f"{value!r} is not one of: {_choices(enum)}"))
    return False


def _params(problems: list[Problem], path: str, value: object, measure: Measure | None) -> None:
    """Check a measure's parameters (only their shape when the measure is unknown)."""
    if not isinstance(value, Mapping):
        problems.append(Problem(path, f"expected a table of keys, got {value!r}"))
        return
    if measure is None:
        return
    specs = measure.params
    for key, number in value.items():
        spec = specs.get(key) if isinstance(key, str) else None
        if spec is None:
            takes = ", ".join(repr(k) for k in specs) or "none"
            problems.append(
                Problem(
                    f"{path}.{key}",
                    f"unknown parameter {key!r} of measure {measure.value!r} (it takes: {takes})",
                )
            )
            continue
        _number(problems, f"{path}.{key}", number, minimum=spec.minimum, maximum=spec.maximum)


def _assessees(
    problems: list[Problem], path: str, value: object, allowed: frozenset[Assessee], what: str
) -> None:
    if value is None:
        return
    if not isinstance(value, frozenset):
        problems.append(Problem(path, f"expected a list, got {value!r}"))
        return
    if not value:
        problems.append(Problem(path, "must name at least one of: 'section', 'member'"))
    for who in sorted(value, key=str):
        if not isinstance(who, Assessee):
            problems.append(Problem(path, f"{who!r} is not one of: {_choices(Assessee)}"))
        elif who not in allowed:
            can = ", ".join(sorted(a.value for a in allowed))
            problems.append(Problem(path, f"{what} cannot assess a {who.value} (only: {can})"))


# -- converters (values that do not convert are kept for the checks to report) ------------


def _num(value: Any) -> Any:
    return float(value) if _is_number(value) else value


def _opt_num(value: Any) -> Any:
    return None if value is None else _num(value)


def _enum(enum: type[StrEnum], value: Any) -> Any:
    if value is None or isinstance(value, enum):
        return value
    try:
        return enum(value)
    except ValueError:
        return value


def _measure(value: Any) -> Any:
    return _enum(Measure, value)


def _mode(value: Any) -> Any:
    return _enum(Mode, value)


def _veto_kind(value: Any) -> Any:
    return _enum(VetoKind, value)


class _Params(Mapping[str, float]):
    """A measure's parameters as an item or veto sets them: read-only, hashable, picklable."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> float:
        return cast(float, self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._data.items(), key=repr)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and self._data == dict(other.items())

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[type[_Params], tuple[dict[str, Any]]]:
        return (_Params, (self._data,))


def _param_map(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    return _Params({k: _num(v) for k, v in value.items()})


def _who(value: Any) -> Any:
    if value is None or isinstance(value, str | Mapping) or not isinstance(value, Iterable):
        return value
    # an unhashable entry (a table) is kept as its text, for the check to report
    return frozenset(_enum(Assessee, v) if isinstance(v, str) else repr(v) for v in value)


def _tuple(value: Any) -> Any:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return value
    return tuple(value)


# -- the parts ----------------------------------------------------------------------------


@attrs.frozen
class Category:
    """A category of the assessment (the three of 三.4 in the default rubric).

    :param id: its id; items name it as their ``category``.
    :param name: the Chinese label (``制度落实``).
    :param name_en: the English label.
    :param clause: the clause of the plan it comes from.
    :param max_points: when given, the base items of the category (for a section) must
        add up to it; ``None``: not checked.
    :param basis: the plan's words it rests on (依据), for the explanation.
    """

    id: str
    name: str
    name_en: str
    clause: str = "三.4"
    max_points: float | None = attrs.field(default=None, converter=_opt_num)
    basis: str = ""

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        _ident(problems, "id", self.id)
        _text(problems, "name", self.name)
        _text(problems, "name_en", self.name_en)
        _text(problems, "clause", self.clause)
        if self.max_points is not None:
            _number(problems, "max_points", self.max_points, minimum=0)
        _text(problems, "basis", self.basis, blank=True)
        _raise_if(self, problems)


@attrs.frozen
class Item:
    """One line of the rubric: a measure of the unit's year and how it becomes points.

    :param id: its id, shown on every score item it produces.
    :param category: the id of its :class:`Category`.
    :param name: the Chinese label (``专门督查``).
    :param name_en: the English label.
    :param clause: the clause of the plan it comes from (``三.2``).
    :param measure: what is measured (:class:`Measure`).
    :param mode: how the value becomes points (:class:`Mode`); a ratio mode takes a ratio
        measure, deduct and bonus a count.
    :param max_points: the points of a full score (ratio, deduct), or the most a bonus item
        gives.
    :param per: points off (deduct) or on (bonus) for each unit of the measure; required for
        those modes, not given for a ratio.
    :param floor: the least a deduct item gives (扣完为止 at 0, the default); 0 for the
        other modes.
    :param params: the measure's parameters (:attr:`Measure.params`); the others keep their
        defaults.
    :param applies_to: who it assesses; ``None``: everyone its measure can be taken of.
    :param basis: the plan's words it rests on (依据), for the explanation.
    """

    id: str
    category: str
    name: str
    name_en: str
    clause: str
    measure: Measure = attrs.field(converter=_measure)
    mode: Mode = attrs.field(converter=_mode)
    max_points: float = attrs.field(converter=_num)
    per: float | None = attrs.field(default=None, converter=_opt_num)
    floor: float = attrs.field(default=0.0, converter=_num)
    params: Mapping[str, float] = attrs.field(factory=dict, converter=_param_map)
    applies_to: frozenset[Assessee] | None = attrs.field(default=None, converter=_who)
    basis: str = ""

    def __attrs_post_init__(self) -> None:
        _raise_if(self, self._problems())

    def _problems(self) -> list[Problem]:
        p: list[Problem] = []
        _ident(p, "id", self.id)
        _ident(p, "category", self.category)
        _text(p, "name", self.name)
        _text(p, "name_en", self.name_en)
        _text(p, "clause", self.clause)
        measure = self.measure if _member(p, "measure", self.measure, Measure) else None
        mode = self.mode if _member(p, "mode", self.mode, Mode) else None
        has_max = _number(p, "max_points", self.max_points, minimum=0)
        if measure is not None and mode is not None:
            if mode is Mode.RATIO and not measure.ratio:
                p.append(
                    Problem(
                        "mode",
                        f"'ratio' takes a ratio measure; {measure.value!r} is a count "
                        "(use 'deduct' or 'bonus')",
                    )
                )
            elif mode is not Mode.RATIO and measure.ratio:
                p.append(
                    Problem(
                        "mode",
                        f"{mode.value!r} takes a count measure; {measure.value!r} is a ratio "
                        "(use 'ratio')",
                    )
                )
        if mode is Mode.RATIO:
            if self.per is not None:
                p.append(Problem("per", "a ratio item takes no per (it gives max_points × ratio)"))
        elif mode is not None:
            if self.per is None:
                p.append(
                    Problem("per", f"required for a {mode.value} item: the points per unit counted")
                )
            else:
                _number(p, "per", self.per, above=0)
        if _number(p, "floor", self.floor, minimum=0):
            if mode is not None and mode is not Mode.DEDUCT and self.floor != 0:
                p.append(
                    Problem("floor", f"only a deduct item has a floor, not a {mode.value} one")
                )
            elif has_max and self.floor > self.max_points:
                p.append(
                    Problem(
                        "floor",
                        f"{_show(self.floor)} is above max_points {_show(self.max_points)}",
                    )
                )
        _params(p, "params", self.params, measure)
        if measure is not None:
            _assessees(p, "applies_to", self.applies_to, measure.assessees, repr(measure.value))
        _text(p, "basis", self.basis, blank=True)
        return p

    @property
    def base(self) -> bool:
        """Whether it counts in the base (ratio, deduct), not above it (bonus)."""
        return self.mode is not Mode.BONUS

    @property
    def assessees(self) -> frozenset[Assessee]:
        """Who it assesses: ``applies_to``, or everyone its measure can be taken of."""
        return self.applies_to if self.applies_to is not None else self.measure.assessees

    @property
    def parameters(self) -> Mapping[str, float]:
        """Every parameter of its measure: the item's, or the measure's default."""
        return {**self.measure.defaults, **self.params}

    def points(self, value: float) -> float:
        """The points for a measured *value*, rounded (:func:`round_points`).

        - ratio: ``max_points × value`` (*value* from 0 to 1);
        - deduct: ``max(floor, max_points − per × value)``;
        - bonus: ``min(max_points, per × value)``.

        >>> from dualduty.scoring.rubric import Item
        >>> item = Item("reports", "system_implementation", "季度书面报告", "quarterly reports",
        ...             "三.2", "reports_not_on_time", "deduct", 8, per=2)
        >>> item.points(0), item.points(1.5), item.points(10)
        (8.0, 5.0, 0.0)

        :raises ValueError: if *value* is not a number, or is out of range (a ratio outside
            0 to 1, a count below 0).
        """
        if not _is_number(value):
            raise ValueError(f"{self.id}: expected a number, got {value!r}")
        if self.mode is Mode.RATIO:
            if not 0 <= value <= 1:
                raise ValueError(f"{self.id}: a ratio runs from 0 to 1, got {value!r}")
            return round_points(self.max_points * value)
        if value < 0:
            raise ValueError(f"{self.id}: a count is at least 0, got {value!r}")
        per = cast(float, self.per)
        if self.mode is Mode.DEDUCT:
            return round_points(max(self.floor, self.max_points - per * value))
        return round_points(min(self.max_points, per * value))


_VETO_FIELDS = ("grade", "responsible_only", "measure", "at_least", "params")


@attrs.frozen
class VetoRule:
    """一票否决: a finding that fails a unit whatever its points, and bars it from the award.

    :param id: its id.
    :param name: the Chinese label (``发生有人员死亡的安全责任事故``).
    :param name_en: the English label.
    :param clause: the clause of the plan it comes from.
    :param kind: what it looks for (:class:`VetoKind`).
    :param grade: for ``incident_grade``: the least grave grade that vetoes (one of
        :data:`INCIDENT_GRADES`).
    :param responsible_only: for ``incident_grade``: only a responsibility incident vetoes.
    :param measure: for ``measure``: what is measured.
    :param at_least: for ``measure``: the value that vetoes.
    :param params: for ``measure``: the measure's parameters.
    :param demote_to: the grade band a vetoed unit gets (``None``: the lowest), if its
        points would give a higher one.
    :param applies_to: who it assesses; ``None``: everyone (for ``measure``: everyone the
        measure can be taken of).
    :param basis: the plan's words it rests on (依据), for the explanation.
    """

    id: str
    name: str
    name_en: str
    clause: str
    kind: VetoKind = attrs.field(converter=_veto_kind)
    grade: str | None = None
    responsible_only: bool = False
    measure: Measure | None = attrs.field(default=None, converter=_measure)
    at_least: float | None = attrs.field(default=None, converter=_opt_num)
    params: Mapping[str, float] = attrs.field(factory=dict, converter=_param_map)
    demote_to: str | None = None
    applies_to: frozenset[Assessee] | None = attrs.field(default=None, converter=_who)
    basis: str = ""

    def __attrs_post_init__(self) -> None:
        _raise_if(self, self._problems())

    def _problems(self) -> list[Problem]:
        p: list[Problem] = []
        _ident(p, "id", self.id)
        _text(p, "name", self.name)
        _text(p, "name_en", self.name_en)
        _text(p, "clause", self.clause)
        kind = self.kind if _member(p, "kind", self.kind, VetoKind) else None
        if not isinstance(cast(object, self.responsible_only), bool):
            p.append(
                Problem(
                    "responsible_only", f"expected true or false, got {self.responsible_only!r}"
                )
            )
        takes: set[str] = set()
        if kind is VetoKind.INCIDENT_GRADE:
            takes = {"grade", "responsible_only"}
            if self.grade is None:
                p.append(Problem("grade", "required for a veto of kind 'incident_grade'"))
            elif self.grade not in INCIDENT_GRADES:
                grades = ", ".join(repr(g) for g in INCIDENT_GRADES)
                p.append(Problem("grade", f"{self.grade!r} is not one of: {grades}"))
        measure: Measure | None = None
        if kind is VetoKind.MEASURE:
            takes = {"measure", "at_least", "params"}
            if self.measure is None:
                p.append(Problem("measure", "required for a veto of kind 'measure'"))
            elif _member(p, "measure", self.measure, Measure):
                measure = self.measure
            if self.at_least is None:
                p.append(Problem("at_least", "required for a veto of kind 'measure'"))
            else:
                _number(p, "at_least", self.at_least, above=0)
            _params(p, "params", self.params, measure)
        if kind is not None:
            defaults: dict[str, object] = {
                "grade": None,
                "responsible_only": False,
                "measure": None,
                "at_least": None,
            }
            for name in _VETO_FIELDS:
                if name in takes:
                    continue
                value = getattr(self, name)
                unset = not value if name == "params" else value == defaults[name]
                if not unset:
                    p.append(Problem(name, f"a veto of kind {kind.value!r} takes no {name}"))
        if self.demote_to is not None:
            _text(p, "demote_to", self.demote_to)
        allowed = measure.assessees if measure is not None else _BOTH
        _assessees(p, "applies_to", self.applies_to, allowed, "this veto")
        _text(p, "basis", self.basis, blank=True)
        return p

    @property
    def assessees(self) -> frozenset[Assessee]:
        """Who it assesses: ``applies_to``, or everyone it can be taken of."""
        if self.applies_to is not None:
            return self.applies_to
        return self.measure.assessees if self.measure is not None else _BOTH

    @property
    def parameters(self) -> Mapping[str, float]:
        """For ``measure``: every parameter of the measure (the veto's or the default)."""
        if self.measure is None:
            return {}
        return {**self.measure.defaults, **self.params}

    def reached(self, value: float) -> bool:
        """For ``measure``: whether a measured *value* vetoes (``value >= at_least``).

        :raises ValueError: for a veto of another kind.
        """
        if self.kind is not VetoKind.MEASURE or self.at_least is None:
            raise ValueError(
                f"{self.id}: a veto of kind {self.kind.value!r} takes no measured value"
            )
        return value >= self.at_least - _TOLERANCE


@attrs.frozen
class Award:
    """The excellent-section award (优秀科室, 三.4): who of the ranked sections wins it.

    Give ``top`` (how many win) or ``share`` (what share of the sections assessed win), not
    both: :meth:`places` says how many places there are (名额). The best-ranked eligible
    sections take them: a vetoed section never wins, nor one graded below
    ``minimum_grade`` (:meth:`Rubric.eligible`); such a section is passed over and the next
    eligible one takes the place, and places no eligible section is left for stay empty.
    The ranking and its tie-break are the engine's.

    :param name: the Chinese label.
    :param name_en: the English label.
    :param clause: the clause of the plan it comes from.
    :param top: how many sections win it.
    :param share: the share of the sections assessed that win it (0 < share <= 1).
    :param minimum_grade: the name of the lowest grade band that may win it.
    :param basis: the plan's words it rests on (依据), for the explanation.
    """

    minimum_grade: str
    top: int | None = None
    share: float | None = attrs.field(default=None, converter=_opt_num)
    name: str = "优秀科室"
    name_en: str = "excellent section"
    clause: str = "三.4"
    basis: str = ""

    def __attrs_post_init__(self) -> None:
        p: list[Problem] = []
        _text(p, "minimum_grade", self.minimum_grade)
        if self.top is None and self.share is None:
            p.append(Problem("", "give top (how many win) or share (what share of sections win)"))
        elif self.top is not None and self.share is not None:
            p.append(Problem("share", "give top or share, not both"))
        if self.top is not None and (
            isinstance(self.top, bool) or not isinstance(self.top, int) or self.top < 1
        ):
            p.append(Problem("top", f"expected a whole number >= 1, got {self.top!r}"))
        if self.share is not None:
            _number(p, "share", self.share, above=0, maximum=1)
        _text(p, "name", self.name)
        _text(p, "name_en", self.name_en)
        _text(p, "clause", self.clause)
        _text(p, "basis", self.basis, blank=True)
        _raise_if(self, p)

    def places(self, assessed: int) -> int:
        """How many places there are among *assessed* sections.

        ``top`` (at most *assessed*); or ``share × assessed`` rounded down, but at least
        one when any section is assessed.

        >>> from dualduty.scoring.rubric import Award
        >>> Award("优秀", share=0.2).places(23), Award("优秀", top=3).places(2)
        (4, 2)
        """
        if assessed <= 0:
            return 0
        if self.top is not None:
            return min(self.top, assessed)
        # The share's decimal (0.2, not its binary value), so that 0.2 × 10 is 2, not 1.
        share = Decimal(repr(cast(float, self.share)))
        return max(1, int(share * assessed))


#: The default grade bands: 优秀 >= 90, 良好 >= 80, 合格 >= 60, 不合格 below.
DEFAULT_BANDS: tuple[GradeBand, ...] = (
    GradeBand("优秀", 90.0),
    GradeBand("良好", 80.0),
    GradeBand("合格", 60.0),
    GradeBand("不合格", 0.0),
)


# -- the rubric ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Rubric:
    """A year-end assessment rubric (考核细则): categories, items, vetoes, bands, award.

    Built from its parts, a rubric checks them together and raises :class:`InvalidRubric`
    listing every problem with its path: ids unique in each list; every item's category
    one of the rubric's; the base items (ratio and deduct) a section is assessed on adding
    up to ``total``, and those of a category to its ``max_points`` when it gives one; every
    category holding an item; the bands listed from the highest down, strictly, the lowest
    at 0; a veto's ``demote_to`` and the award's ``minimum_grade`` among the bands.

    All fields are keywords.

    :param id: its id.
    :param name: the Chinese title.
    :param name_en: the English title.
    :param description: how the rubric was derived, in words.
    :param total: the points of a full score: what the section's base items add up to.
    :param bonus_cap: the most all bonus items give together (``None``: only each item's
        ``max_points`` bounds them).
    :param categories: the categories.
    :param items: the items, in the order they are shown.
    :param vetoes: the vetoes (一票否决); none unless listed.
    :param bands: the grade bands, highest first (default :data:`DEFAULT_BANDS`).
    :param award: the excellent-section award.
    """

    id: str
    name: str
    name_en: str = ""
    description: str = ""
    total: float = attrs.field(default=100.0, converter=_num)
    bonus_cap: float | None = attrs.field(default=None, converter=_opt_num)
    categories: tuple[Category, ...] = attrs.field(converter=_tuple)
    items: tuple[Item, ...] = attrs.field(converter=_tuple)
    vetoes: tuple[VetoRule, ...] = attrs.field(default=(), converter=_tuple)
    bands: tuple[GradeBand, ...] = attrs.field(default=DEFAULT_BANDS, converter=_tuple)
    award: Award

    def __attrs_post_init__(self) -> None:
        values = {name: getattr(self, name) for name in _SCALARS}
        values["award"] = self.award
        problems: list[Problem] = []
        parts: dict[str, list[tuple[int, Any]]] = {}
        broken: dict[str, frozenset[str]] = {}
        for name in _PARTS:
            value = getattr(self, name)
            if isinstance(value, tuple):
                parts[name] = list(enumerate(value))
            else:
                problems.append(Problem(name, f"expected a list, got {value!r}"))
                broken[name] = frozenset()
        problems.extend(_rubric_problems(values, parts, broken))
        if problems:
            raise InvalidRubric(_in_order(problems), f"rubric {self.id!r}")

    # -- lookups ---------------------------------------------------------------------------

    def category(self, category_id: str) -> Category:
        """The category of this id.

        :raises KeyError: if there is none.
        """
        return _find(self.categories, category_id, "category")

    def item(self, item_id: str) -> Item:
        """The item of this id.

        :raises KeyError: if there is none.
        """
        return _find(self.items, item_id, "item")

    def veto(self, veto_id: str) -> VetoRule:
        """The veto of this id.

        :raises KeyError: if there is none.
        """
        return _find(self.vetoes, veto_id, "veto")

    def band(self, name: str) -> GradeBand:
        """The grade band of this name.

        :raises KeyError: if there is none.
        """
        for band in self.bands:
            if band.name == name:
                return band
        raise KeyError(f"no grade band {name!r} in rubric {self.id!r}")

    def items_for(self, assessee: Assessee | str = Assessee.SECTION) -> tuple[Item, ...]:
        """The items that assess *assessee*, in order."""
        who = Assessee(assessee)
        return tuple(i for i in self.items if who in i.assessees)

    def vetoes_for(self, assessee: Assessee | str = Assessee.SECTION) -> tuple[VetoRule, ...]:
        """The vetoes that apply to *assessee*, in order."""
        who = Assessee(assessee)
        return tuple(v for v in self.vetoes if who in v.assessees)

    def max_points(self, assessee: Assessee | str = Assessee.SECTION) -> float:
        """What the base items that assess *assessee* add up to (``total`` for a section)."""
        return round_points(sum(i.max_points for i in self.items_for(assessee) if i.base))

    # -- arithmetic ------------------------------------------------------------------------

    def total_of(
        self, points: Mapping[str, float], assessee: Assessee | str = Assessee.SECTION
    ) -> float:
        """A unit's total from its points on each item (item id to points).

        ``base × total / max_points(assessee) + min(bonus_cap, bonus)``, rounded: the base
        items' points, scaled to ``total`` when the items that assess *assessee* add up to
        less (a member, assessed on fewer items than a section; a section's scale is 1),
        plus the bonus items' points, capped by ``bonus_cap``. Vetoes do not change the
        total; they change the grade (:meth:`grade_of`).

        :param points: the points of every item that assesses *assessee*, and no others.
        :raises ValueError: if an item is missing or not one of *assessee*'s, or
            *assessee* has no base item.
        """
        who = Assessee(assessee)
        items = self.items_for(who)
        wanted = {i.id for i in items}
        missing = sorted(wanted - set(points))
        extra = sorted(set(points) - wanted)
        if missing or extra:
            raise ValueError(
                f"points for a {who.value}: "
                + "; ".join(
                    part
                    for part in (
                        f"missing {', '.join(missing)}" if missing else "",
                        f"not items assessing a {who.value}: {', '.join(extra)}" if extra else "",
                    )
                    if part
                )
            )
        full = self.max_points(who)
        if full <= 0:
            raise ValueError(f"rubric {self.id!r} has no base item assessing a {who.value}")
        base = sum(points[i.id] for i in items if i.base)
        bonus = sum(points[i.id] for i in items if not i.base)
        if self.bonus_cap is not None:
            bonus = min(self.bonus_cap, bonus)
        scale = self.total / full
        return round_points(round_points(base * scale) + round_points(bonus))

    def grade_of(self, total: float, vetoes: Iterable[str] = ()) -> GradeBand:
        """The grade band of *total*, lowered by the vetoes a unit incurred.

        The highest band whose ``minimum`` the total reaches (the lowest band for anything
        below). Each veto lowers the grade to its ``demote_to`` band, or to the lowest band;
        a veto id not in the rubric (a plugin's) lowers it to the lowest band.

        >>> from dualduty.scoring.rubric import default_rubric
        >>> rubric = default_rubric()
        >>> rubric.grade_of(90).name, rubric.grade_of(89.99).name
        ('优秀', '良好')
        >>> rubric.grade_of(95, ["responsibility_death"]).name
        '不合格'
        """
        rank = len(self.bands) - 1
        for i, band in enumerate(self.bands):
            if total >= band.minimum - _TOLERANCE:
                rank = i
                break
        lowest = len(self.bands) - 1
        for veto_id in vetoes:
            target = lowest
            for rule in self.vetoes:
                if rule.id == veto_id and rule.demote_to is not None:
                    target = self._rank(rule.demote_to)
            rank = max(rank, target)
        return self.bands[rank]

    def eligible(self, grade: str | GradeBand, *, vetoed: bool) -> bool:
        """Whether a unit of *grade* may win the award: not vetoed, and graded at least
        the award's ``minimum_grade``."""
        name = grade.name if isinstance(grade, GradeBand) else grade
        return not vetoed and self._rank(name) <= self._rank(self.award.minimum_grade)

    def _rank(self, band: str) -> int:
        for i, b in enumerate(self.bands):
            if b.name == band:
                return i
        raise KeyError(f"no grade band {band!r} in rubric {self.id!r}")

    def check_categories(self, categories: Iterable[AssessmentCategory]) -> tuple[Problem, ...]:
        """How the rubric's categories differ from an organisation's
        (:attr:`dualduty.Rules.assessment_categories`): a problem for each category of
        either that the other lacks. Empty when they agree."""
        theirs = {c.id for c in categories}
        ours = [c.id for c in self.categories]
        out = [
            Problem(f"categories[{i}].id", f"{cid!r} is not an assessment category of the rules")
            for i, cid in enumerate(ours)
            if cid not in theirs
        ]
        out.extend(
            Problem("categories", f"the rules' assessment category {cid!r} is not in the rubric")
            for cid in sorted(theirs - set(ours))
        )
        return tuple(out)


_P = TypeVar("_P", Category, Item, VetoRule)


def _find(parts: Sequence[_P], part_id: str, what: str) -> _P:
    for part in parts:
        if part.id == part_id:
            return part
    raise KeyError(f"no {what} {part_id!r} in the rubric")


#: The rubric's scalar fields, and its lists of parts, in the order of the file.
_SCALARS = ("id", "name", "name_en", "description", "total", "bonus_cap")
_PARTS = ("categories", "items", "vetoes", "bands")
_PART_TYPES: dict[str, type] = {
    "categories": Category,
    "items": Item,
    "vetoes": VetoRule,
    "bands": GradeBand,
}
_ORDER = {name: i for i, name in enumerate(("format", *_SCALARS, *_PARTS, "award"))}


def _rubric_problems(
    values: Mapping[str, Any],
    parts: Mapping[str, Sequence[tuple[int, Any]]],
    broken: Mapping[str, frozenset[str]],
    refs: Iterable[tuple[str, str]] = (),
) -> list[Problem]:
    """Every problem of a rubric's fields and of its parts together.

    :param values: the scalar fields and the award, those that loaded.
    :param parts: each list's parts that loaded, with their index in the file.
    :param broken: for each field or list that (in part) did not load, the ids its broken
        parts gave (so that references to them are not reported again, and sums are not
        checked).
    :param refs: the references of the parts that did not load: the path and the value of
        each ``category``, ``demote_to`` and ``minimum_grade`` that is text.
    """
    p: list[Problem] = []
    if "id" in values:
        _ident(p, "id", values["id"])
    if "name" in values:
        _text(p, "name", values["name"])
    _text(p, "name_en", values.get("name_en", ""), blank=True)
    _text(p, "description", values.get("description", ""), blank=True)
    total = values.get("total", 100.0)
    total_ok = "total" not in broken and _number(p, "total", total, above=0)
    if values.get("bonus_cap") is not None:
        _number(p, "bonus_cap", values["bonus_cap"], minimum=0)

    for name in _PARTS:
        for i, part in parts.get(name, []):
            if not isinstance(part, _PART_TYPES[name]):
                p.append(
                    Problem(
                        f"{name}[{i}]", f"expected a {_PART_TYPES[name].__name__}, got {part!r}"
                    )
                )
    categories = [(i, c) for i, c in parts.get("categories", []) if isinstance(c, Category)]
    items = [(i, x) for i, x in parts.get("items", []) if isinstance(x, Item)]
    vetoes = [(i, v) for i, v in parts.get("vetoes", []) if isinstance(v, VetoRule)]
    bands = [(i, b) for i, b in parts.get("bands", []) if isinstance(b, GradeBand)]

    for name, found in (("categories", categories), ("items", items), ("vetoes", vetoes)):
        first: dict[str, int] = {}
        for i, part in found:
            if part.id in first:
                p.append(
                    Problem(
                        f"{name}[{i}].id",
                        f"{part.id!r} is given twice (first at {name}[{first[part.id]}])",
                    )
                )
            else:
                first[part.id] = i

    if not categories and "categories" not in broken:
        p.append(Problem("categories", "at least one category is needed"))
    if not items and "items" not in broken:
        p.append(Problem("items", "at least one item is needed"))
    known = {c.id for _, c in categories}
    refs = list(refs)
    category_refs = [(f"items[{i}].category", x.category) for i, x in items]
    category_refs.extend((path, value) for path, value in refs if path.endswith(".category"))
    if "categories" not in broken or broken["categories"]:
        listed = ", ".join(repr(c) for c in sorted(known)) or "none"
        for path, category_id in sorted(category_refs, key=lambda r: _position(r[0])):
            if category_id not in known and category_id not in broken.get("categories", ()):
                p.append(
                    Problem(
                        path, f"no category {category_id!r} in the rubric (categories: {listed})"
                    )
                )

    if "items" not in broken:
        section = [x for _, x in items if x.base and Assessee.SECTION in x.assessees]
        if total_ok and items:
            full = sum(x.max_points for x in section)
            if abs(full - total) > _TOLERANCE:
                p.append(
                    Problem(
                        "items",
                        f"the max_points of the base (ratio and deduct) items assessing a "
                        f"section add up to {_show(round_points(full))}, not the total "
                        f"{_show(total)}",
                    )
                )
        for j, category in categories:
            inside = [x for x in section if x.category == category.id]
            if not any(x.category == category.id for _, x in items):
                p.append(Problem(f"categories[{j}]", f"no item is in category {category.id!r}"))
            elif category.max_points is not None:
                full = sum(x.max_points for x in inside)
                if abs(full - category.max_points) > _TOLERANCE:
                    p.append(
                        Problem(
                            f"categories[{j}].max_points",
                            f"{_show(category.max_points)}, but the max_points of its base "
                            f"items assessing a section add up to {_show(round_points(full))}",
                        )
                    )

    band_names = _band_problems(p, parts.get("bands", []), bands, "bands" in broken)
    if band_names is not None:
        listed = ", ".join(band_names) or "none"
        band_refs = [(f"vetoes[{i}].demote_to", v.demote_to) for i, v in vetoes if v.demote_to]
        award = values.get("award")
        if isinstance(award, Award):
            band_refs.append(("award.minimum_grade", award.minimum_grade))
        band_refs.extend((path, value) for path, value in refs if not path.endswith(".category"))
        for path, name in sorted(band_refs, key=lambda r: _position(r[0])):
            if name not in band_names:
                p.append(Problem(path, f"no grade band {name!r} (bands: {listed})"))
    if "award" in values and not isinstance(values["award"], Award):
        p.append(Problem("award", f"expected an Award, got {values['award']!r}"))
    return p


def _position(path: str) -> tuple[int, int]:
    """Where a path is in the file: its top-level key, then its part's index."""
    head, _, rest = path.split(".", 1)[0].partition("[")
    index = rest.partition("]")[0]
    return _ORDER.get(head, len(_ORDER)), int(index) if index.isdigit() else -1


def _band_problems(
    p: list[Problem],
    raw: Sequence[tuple[int, Any]],
    bands: Sequence[tuple[int, GradeBand]],
    broken: bool,
) -> list[str] | None:
    """Check the bands; their names, or ``None`` when some did not load."""
    if broken:
        return None
    if not raw:
        p.append(Problem("bands", "at least one grade band is needed"))
        return []
    first: dict[str, int] = {}
    before: tuple[int, GradeBand] | None = None
    for i, band in bands:
        if band.name in first:
            p.append(
                Problem(
                    f"bands[{i}].name",
                    f"{band.name!r} is given twice (first at bands[{first[band.name]}])",
                )
            )
        else:
            first[band.name] = i
        if not _number(p, f"bands[{i}].minimum", band.minimum, minimum=0):
            before = None
            continue
        if before is not None and not band.minimum < before[1].minimum:
            p.append(
                Problem(
                    f"bands[{i}].minimum",
                    f"{_show(band.minimum)} is not below {_show(before[1].minimum)} of "
                    f"bands[{before[0]}] ({before[1].name}); list the bands from the highest "
                    "down",
                )
            )
        before = (i, band)
    if bands and _is_number(bands[-1][1].minimum) and bands[-1][1].minimum != 0:
        i, band = bands[-1]
        p.append(
            Problem(
                f"bands[{i}].minimum",
                f"the lowest band must start at 0 (it takes every total below the others), "
                f"not {_show(band.minimum)}",
            )
        )
    return list(dict.fromkeys(b.name for _, b in bands))


# -- the error ----------------------------------------------------------------------------


class InvalidRubric(InvalidFile):
    """A rubric (or the file holding it) with problems; nothing of it was used.

    The message names the file and, for each problem, where it is in the file
    (``items[3].max_points``).

    :ivar problems: every problem found, in the order of the file.
    :ivar source: the file name (or ``rubric '<id>'`` for one built in Python).
    """


# -- files --------------------------------------------------------------------------------

_Format = Literal["toml", "json", "yaml"]
_SUFFIXES: dict[str, _Format] = {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def _plain(value: float) -> float | int:
    # 15.0 is written 15, as a person writes points.
    return int(value) if isinstance(value, float) and value.is_integer() else value


@cache
def _converter(fmt: _Format) -> cattrs.Converter:
    """The file converter of dualduty (``dualduty.io``), writing whole numbers as such."""
    from dualduty.io._converters import converter

    conv = converter(fmt).copy()
    conv.register_unstructure_hook(float, _plain)
    return conv


def _part(cls: type, raw: Any, at: str) -> tuple[Any, list[Problem]]:
    """One part of a rubric file (a category, an item, a veto, a band, the award), built from
    its table, or ``None``; with every problem of it.

    The parts' own checks collect every problem of a part (not only the first), so the
    table is handed to the class as it is: unknown keys and missing fields are reported
    here, the values by the class.
    """
    if not isinstance(raw, Mapping):
        return None, [Problem(at, f"expected a table of keys, got {type(raw).__name__} {raw!r}")]
    fields = attrs.fields_dict(cls)
    problems = [Problem(f"{at}.{key}", f"unknown key {key!r}") for key in raw if key not in fields]
    given = {key: value for key, value in raw.items() if key in fields}
    missing = [
        name
        for name, field in fields.items()
        if field.default is attrs.NOTHING and field.init and name not in given
    ]
    problems.extend(Problem(f"{at}.{name}", "required field missing") for name in missing)
    if cls is GradeBand and "minimum" in given:  # a class of its own, without a converter
        given["minimum"] = _num(given["minimum"])
    try:
        part = cls(**dict.fromkeys(missing), **given)
    except PartError as exc:
        found = list(exc.problems)
    except (TypeError, ValueError) as exc:  # GradeBand's own validator
        from dualduty.io._converters import problems_from

        found = problems_from(exc)
    else:
        return (None if problems else part), problems
    # a missing field is reported once, not again for the None standing in for it
    problems.extend(
        Problem(f"{at}.{q.path}" if q.path else at, q.message)
        for q in found
        if q.path.split(".")[0] not in missing
    )
    return None, problems


def _ids(raw: Any) -> frozenset[str]:
    if isinstance(raw, Mapping):
        for key in ("id", "name"):
            if isinstance(raw.get(key), str):
                return frozenset({raw[key]})
    return frozenset()


def _refs(raw: Any, at: str, keys: Iterable[str]) -> list[tuple[str, str]]:
    """The references a part that did not load makes (to a category, to a band)."""
    if not isinstance(raw, Mapping):
        return []
    return [(f"{at}.{key}", raw[key]) for key in keys if isinstance(raw.get(key), str)]


def _in_order(problems: list[Problem]) -> list[Problem]:
    """Problems in document order: by top-level key as the file format lists them, then
    by part (a stable sort keeps the order the problems of one part were found in)."""

    return sorted(problems, key=lambda p: _position(p.path))


def rubric_from_data(data: Any, *, source: str = "<data>") -> Rubric:
    """Build and check a rubric from parsed file data (dicts, lists, scalars).

    Every part is read on its own, so one broken part does not hide the problems of the
    others; then the parts that loaded are checked together.

    :param source: the name used in error messages.
    :raises InvalidRubric: listing every problem with its path.
    """
    if not isinstance(data, Mapping):
        raise InvalidRubric(
            [Problem("", f"expected a table of keys at the top, got {type(data).__name__}")],
            source,
        )
    problems: list[Problem] = []
    data = dict(data)
    version = data.pop("format", RUBRIC_FORMAT_VERSION)
    if version != RUBRIC_FORMAT_VERSION or isinstance(version, bool):
        problems.append(
            Problem(
                "format",
                f"rubric format {version!r} is not supported; this dualduty reads format "
                f"{RUBRIC_FORMAT_VERSION}",
            )
        )
    values: dict[str, Any] = {}
    parts: dict[str, list[tuple[int, Any]]] = {}
    broken: dict[str, frozenset[str]] = {}
    refs: list[tuple[str, str]] = []
    for key, raw in data.items():
        if key in _SCALARS:
            values[key] = raw
        elif key in _PART_TYPES:
            if not isinstance(raw, list):
                problems.append(Problem(key, f"expected a list, got {type(raw).__name__} {raw!r}"))
                broken[key] = frozenset()
                continue
            parts[key] = []
            for i, item in enumerate(raw):
                part, found = _part(_PART_TYPES[key], item, f"{key}[{i}]")
                problems.extend(found)
                if part is None:
                    broken[key] = broken.get(key, frozenset()) | _ids(item)
                    refs.extend(_refs(item, f"{key}[{i}]", ("category", "demote_to")))
                else:
                    parts[key].append((i, part))
        elif key == "award":
            award, found = _part(Award, raw, "award")
            problems.extend(found)
            if award is None:
                broken["award"] = frozenset()
                refs.extend(_refs(raw, "award", ("minimum_grade",)))
            else:
                values["award"] = award
        else:
            problems.append(Problem(key, f"unknown key {key!r}"))
    for key in ("id", "name", "categories", "items", "award"):
        if key not in data:
            problems.append(Problem(key, "required field missing"))
            broken.setdefault(key, frozenset())
    if "bands" not in data:
        parts["bands"] = list(enumerate(DEFAULT_BANDS))
    problems.extend(_rubric_problems(values, parts, broken, refs))
    if problems:
        raise InvalidRubric(_in_order(problems), source)
    kwargs = {**values, **{k: [x for _, x in v] for k, v in parts.items()}}
    try:
        return Rubric(**kwargs)
    except InvalidRubric as exc:  # pragma: no cover - the checks above are the same
        raise InvalidRubric(exc.problems, source) from None


def _parse(text: str, fmt: _Format, source: str) -> Any:
    import tomllib

    from dualduty.errors import DualdutyError
    from dualduty.io.files import _parse as parse

    try:
        return parse(text, fmt)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InvalidRubric([Problem("", f"not valid {fmt.upper()}: {exc}")], source) from None
    except Exception as exc:  # YAML's errors share no base class with the others
        if isinstance(exc, DualdutyError):  # PyYAML is not installed
            raise
        raise InvalidRubric([Problem("", f"not valid {fmt.upper()}: {exc}")], source) from None


def loads_rubric(text: str, fmt: _Format = "toml", *, source: str = "<string>") -> Rubric:
    """Read a rubric from the text of a rubric file.

    :param fmt: ``"toml"`` (the usual), ``"json"`` or ``"yaml"``.
    :param source: the name used in error messages.
    :raises InvalidRubric: listing every problem with its path.
    """
    if fmt not in ("toml", "json", "yaml"):
        raise ValueError(f"fmt must be 'toml', 'json' or 'yaml', not {fmt!r}")
    return rubric_from_data(_parse(text, fmt, source), source=source)


def load_rubric(path: str | os.PathLike[str], fmt: _Format | None = None) -> Rubric:
    """Read and check a rubric file; the format from the suffix unless *fmt* names it.

    :raises InvalidRubric: naming the file and listing every problem with its path.
    """
    from dualduty.io._text import read_utf8

    source = os.fspath(path)
    if fmt is None:
        suffix = Path(path).suffix.lower()
        if suffix not in _SUFFIXES:
            raise InvalidRubric(
                [
                    Problem(
                        "",
                        f"cannot tell the format from the suffix {suffix!r}; "
                        "use .toml, .json, .yaml or .yml, or name the format",
                    )
                ],
                source,
            )
        fmt = _SUFFIXES[suffix]
    text = read_utf8(path, f"the rubric file {source!r}")
    if isinstance(text, Problem):
        raise InvalidRubric([text], source)
    return loads_rubric(text, fmt, source=source)


def _ordered(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """*data* in the order of *cls*'s fields (names and labels first)."""
    order = ["id", "name", "name_en", "clause"]
    order.extend(a.name for a in attrs.fields(cls) if a.name not in order)
    return {k: data[k] for k in order if k in data}


def rubric_to_data(rubric: Rubric, fmt: _Format = "json") -> dict[str, Any]:
    """The rubric as file data (dicts, lists, scalars), in the order of the file format.

    Optional fields of the parts at their default are left out; the rubric's ``total``,
    ``vetoes`` and ``bands``, and the clause of every category and of the award, are always
    written, so that a copy of the default shows what there is to edit.
    """
    raw = _converter(fmt).unstructure(rubric)
    raw["total"] = _plain(rubric.total)
    raw["vetoes"] = [_converter(fmt).unstructure(v) for v in rubric.vetoes]
    raw["bands"] = [_converter(fmt).unstructure(b) for b in rubric.bands]
    raw["categories"] = [
        _ordered(Category, {**data, "clause": category.clause})
        for data, category in zip(raw["categories"], rubric.categories, strict=True)
    ]
    award = rubric.award
    raw["award"] = _ordered(
        Award,
        {**raw["award"], "name": award.name, "name_en": award.name_en, "clause": award.clause},
    )
    data: dict[str, Any] = {"format": RUBRIC_FORMAT_VERSION}
    data.update(sorted(raw.items(), key=lambda kv: _ORDER[kv[0]]))
    return data


def dumps_rubric(rubric: Rubric, fmt: _Format = "toml") -> str:
    """The text of a rubric file holding *rubric* (copy the default, edit, load)."""
    from dualduty.io.files import data_text

    return data_text(rubric_to_data(rubric, fmt), fmt)


def dump_rubric(rubric: Rubric, path: str | os.PathLike[str], fmt: _Format | None = None) -> None:
    """Write *rubric* to *path* atomically: the file is complete or left as it was.

    :raises dualduty.DualdutyError: when the format cannot be told from the suffix or the
        file cannot be written.
    """
    from dualduty.errors import DualdutyError
    from dualduty.io._schedule._common import write_file

    if fmt is None:
        suffix = Path(path).suffix.lower()
        if suffix not in _SUFFIXES:
            raise DualdutyError(
                f"cannot write {os.fspath(path)}: cannot tell the format from the suffix "
                f"{suffix!r}; use .toml, .json, .yaml or .yml, or name the format"
            )
        fmt = _SUFFIXES[suffix]
    write_file(path, dumps_rubric(rubric, fmt).encode("utf-8"))


@cache
def default_rubric() -> Rubric:
    """The rubric dualduty ships (``dualduty/scoring/default_rubric.toml``), built from the
    plan's clauses: see ``docs/reference/rubric.md`` for how each item was derived.

    >>> from dualduty.scoring.rubric import default_rubric
    >>> rubric = default_rubric()
    >>> [c.name for c in rubric.categories], rubric.total
    (['制度落实', '隐患排查治理', '分包学校事故发生'], 100.0)
    """
    from importlib.resources import files

    text = files(__package__ or "dualduty.scoring").joinpath(_DEFAULT_FILE).read_text("utf-8")
    return loads_rubric(text, "toml", source=f"dualduty/scoring/{_DEFAULT_FILE}")
