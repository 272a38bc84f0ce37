"""Year-end assessment (年终考核, clause 三.4): the types scoring plugins exchange.

This module fixes what the scoring hooks pass around, so that a district's local rules
can be written against a stable interface; the rubric — what is scored, how, the
vetoes, the grade bands and the award — is data (:mod:`dualduty.scoring.rubric`), and
:mod:`dualduty.scoring.facts` gives the figures each section is measured by.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from dualduty.model._checks import check_text

if TYPE_CHECKING:
    from dualduty.model import Organisation

__all__ = [
    "DEFAULT_BANDS",
    "FIGURES",
    "MEMBER_FIGURES",
    "TIE_BREAK",
    "Assessee",
    "Assessment",
    "AssessmentDraft",
    "AssessmentError",
    "Award",
    "Category",
    "GradeBand",
    "IncidentFact",
    "InvalidRubric",
    "Item",
    "ItemScore",
    "Measure",
    "Measured",
    "Mode",
    "Rubric",
    "ScoreItem",
    "ScoringContext",
    "ScoringRule",
    "UnitFacts",
    "Veto",
    "VetoHit",
    "VetoKind",
    "VetoRule",
    "YearAssessment",
    "YearFacts",
    "assess",
    "default_rubric",
    "dump_rubric",
    "dumps_rubric",
    "explain",
    "load_rubric",
    "loads_rubric",
    "rubric_for",
    "unit_facts",
    "year_facts",
]


@attrs.frozen
class ScoringContext:
    """What a scoring rule may look at. Fields may be added; rules should not construct it.

    :param org: the organisation assessed.
    :param unit: the id of the unit (section) assessed; for a leading-group member
        assessed on their packages, the id of their post.
    :param year: the year assessed.
    :param store: the store holding the year's records (a :class:`~dualduty.storage.Store`).
    :param now: the time the assessment is made as of (records from then on do not
        count); ``None`` when a rule is called outside an assessment.
    :param assessee: ``"section"`` or ``"member"`` (a leading-group member on their
        packages).
    """

    org: Organisation
    unit: str
    year: int
    store: Any = None
    now: dt.datetime | None = None
    assessee: str = "section"


@attrs.frozen
class ScoreItem:
    """One line of an assessment: points for or against a unit, and why.

    :param rule: id of the rule that produced it.
    :param category: the assessment category (``system_implementation``, …).
    :param points: positive for credit, negative for a deduction.
    :param explanation: why, in words a section head can check.
    :param evidence: ``seq`` of the records it rests on.
    :param clause: the clause of the plan behind it.
    """

    rule: str = attrs.field(validator=check_text)
    category: str = attrs.field(validator=check_text)
    points: float
    explanation: str
    evidence: tuple[int, ...] = ()
    clause: str | None = None


@attrs.frozen
class Veto:
    """一票否决: a finding that fails the unit whatever its points."""

    rule: str = attrs.field(validator=check_text)
    reason: str = attrs.field(validator=check_text)
    evidence: tuple[int, ...] = ()


@attrs.frozen
class GradeBand:
    """A grade and the lowest total that earns it (优秀 >= 90, …)."""

    name: str = attrs.field(validator=check_text)
    minimum: float


@runtime_checkable
class ScoringRule(Protocol):
    """A rule that scores a unit for the year. Register it through the scoring hook."""

    @property
    def id(self) -> str:
        """A stable id, shown on every item the rule produces.

        Read-only, so that a frozen attrs class with an ``id`` field is a rule too.
        """
        ...

    def score(self, context: ScoringContext) -> Iterable[ScoreItem | Veto]:
        """The items (and vetoes) this rule finds for the unit in *context*."""


@attrs.frozen
class AssessmentDraft:
    """A unit's assessment once every rule has scored it: what
    :func:`~dualduty.hookspecs.dualduty_adjust_assessment` is shown.

    :param context: the unit, year, organisation and store being assessed.
    :param items: the items and vetoes the rules produced, in order.
    """

    context: ScoringContext
    items: tuple[ScoreItem | Veto, ...]


# The rubric builds on GradeBand above: imported last (a top import would be circular).
from .rubric import (  # noqa: E402  # after GradeBand, which rubric.py imports from here
    DEFAULT_BANDS,
    Assessee,
    Award,
    Category,
    InvalidRubric,
    Item,
    Measure,
    Mode,
    Rubric,
    VetoKind,
    VetoRule,
    default_rubric,
    dump_rubric,
    dumps_rubric,
    load_rubric,
    loads_rubric,
)

# The engine and the figures read the compliance view and the records: loaded when first
# used, so that importing the scoring types (what plugins do) stays light.
_LAZY = {
    **dict.fromkeys(
        [
            "TIE_BREAK",
            "Assessment",
            "AssessmentError",
            "ItemScore",
            "VetoHit",
            "YearAssessment",
            "assess",
            "explain",
            "rubric_for",
        ],
        "engine",
    ),
    **dict.fromkeys(
        [
            "FIGURES",
            "MEMBER_FIGURES",
            "IncidentFact",
            "Measured",
            "UnitFacts",
            "YearFacts",
            "unit_facts",
            "year_facts",
        ],
        "facts",
    ),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
