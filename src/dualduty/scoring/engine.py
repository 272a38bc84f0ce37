"""The year-end assessment engine (年终考核, clause 三.4): scores, vetoes, grades, ranking, award.

:func:`assess` assesses every section (科室) — and, with the same machinery, every
leading-group member (领导小组成员) on the schools packaged to their post — for a year, by
a :class:`~dualduty.scoring.rubric.Rubric` (default: the plan's,
:func:`~dualduty.scoring.rubric.default_rubric`) and the local rules plugins add through
the scoring hooks (:mod:`dualduty.hookspecs`):

1. the compliance view of the year (:func:`~dualduty.records.compliance.compliance`) and
   the figures of every unit (:func:`~dualduty.scoring.facts.year_facts`), each record
   kind read once;
2. each rubric item that assesses the unit: its measure taken with the item's parameters,
   turned into points (:meth:`~dualduty.scoring.rubric.Item.points`) — an
   :class:`ItemScore` with the ids and record ``seq``\\ s that earned or cost the points
   and a one-line reason in Chinese and English;
3. each rubric veto (一票否决) the unit incurred — a :class:`VetoHit`;
4. the plugins' :class:`~dualduty.scoring.ScoringRule`\\ s
   (:func:`~dualduty.hookspecs.dualduty_register_scoring_rules`), then their adjustments
   (:func:`~dualduty.hookspecs.dualduty_adjust_assessment`), which see everything so far:
   their :class:`~dualduty.scoring.ScoreItem`\\ s become :class:`ItemScore`\\ s
   (``max_points`` 0, ``value`` ``None``) and their :class:`~dualduty.scoring.Veto`\\ es
   :class:`VetoHit`\\ s;
5. the total (:meth:`~dualduty.scoring.rubric.Rubric.total_of` of the rubric's items, plus
   the plugins' points), the grade by the rubric's bands or a plugin's
   (:func:`~dualduty.hookspecs.dualduty_grade_bands`), lowered by the vetoes;
6. the ranking of the sections and the excellent-section award (优秀科室).

**Ranking** (:data:`TIE_BREAK`): the total, highest first; then fewer vetoes; then the
points of each rubric category in the rubric's order (制度落实 first in the default),
highest first; then the unit id. The order is strict, so a rank is a position (1, 2, …).

**Award**: :meth:`Award.places <dualduty.scoring.rubric.Award.places>` places among the
sections assessed, taken in the order of the ranking by the eligible sections — never a
vetoed one, never one graded below the award's ``minimum_grade``; places nobody eligible
is left for stay empty. Members are assessed but neither ranked nor awarded.

Nothing here writes; the same store, organisation, rubric, schedule, ``now`` and plugins
give the same result.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from dualduty.errors import DualdutyError

from . import GradeBand, ScoreItem, ScoringContext, ScoringRule, Veto
from .facts import UnitFacts, year_facts
from .rubric import (
    INCIDENT_GRADES,
    Assessee,
    Item,
    Mode,
    Rubric,
    VetoKind,
    VetoRule,
    default_rubric,
    round_points,
)

if TYPE_CHECKING:
    from dualduty.model import Organisation, Schedule
    from dualduty.plugins import Hooks
    from dualduty.records.hazards import HazardRules
    from dualduty.storage.store import Store

    from .facts import IncidentFact, Measured

__all__ = [
    "TIE_BREAK",
    "Assessment",
    "AssessmentError",
    "Basis",
    "ItemScore",
    "VetoHit",
    "YearAssessment",
    "assess",
    "explain",
    "rubric_for",
]

#: How the ranking orders sections, key by key (see the module).
TIE_BREAK: tuple[str, ...] = (
    "total, highest first",
    "fewer vetoes",
    "the points of each rubric category, in the rubric's order, highest first",
    "unit id",
)


class AssessmentError(DualdutyError):
    """The assessment cannot be made as asked: a unit that is no section, or a plugin's
    rule, adjustment or grade bands that do not fit."""


# -- results ------------------------------------------------------------------------------


@attrs.frozen
class ItemScore:
    """One line of an assessment: a rubric item's (or a plugin's) points, and why.

    :param rule: the rubric item's id, or the ``rule`` of a plugin's
        :class:`~dualduty.scoring.ScoreItem`.
    :param category: the category it counts in.
    :param clause: the clause of the plan behind it (``""`` when a plugin gave none).
    :param points: the points it gives (a deduction item gives what is left of its
        ``max_points``; a plugin's item may be negative).
    :param max_points: the item's ``max_points`` (for a bonus item, the most it gives);
        0 for a plugin's item, which is a deduction or a bonus above the rubric.
    :param value: the measured figure the points come from (``None`` for a plugin's).
    :param evidence: the ids of what earned or cost the points (visits, reports, hazards,
        incidents, meetings, people, …); empty for a plugin's item, which cites records by
        ``seq`` only.
    :param seqs: the ``seq`` of the records behind them.
    :param reason: one line in Chinese: the item, the figure, the arithmetic.
    :param reason_en: the same in English (a plugin's explanation serves as both).
    :param name: the item's Chinese label (a plugin's item: its rule).
    :param plugin: whether a plugin gave it (a scoring rule or an adjustment).
    """

    rule: str
    category: str
    clause: str
    points: float
    max_points: float
    value: float | None
    evidence: tuple[str, ...]
    seqs: tuple[int, ...]
    reason: str
    reason_en: str
    name: str = ""
    plugin: bool = False

    def to_json(self) -> dict[str, Any]:
        """The item as JSON data (``rule``, ``clause``, ``points``, ``max_points``,
        ``evidence``, ``reason`` and the rest of its fields)."""
        return {
            "rule": self.rule,
            "name": self.name,
            "category": self.category,
            "clause": self.clause,
            "points": self.points,
            "max_points": self.max_points,
            "value": self.value,
            "evidence": list(self.evidence),
            "seqs": list(self.seqs),
            "reason": self.reason,
            "reason_en": self.reason_en,
            "plugin": self.plugin,
        }


@attrs.frozen
class VetoHit:
    """一票否决 incurred: which veto, on what, and why.

    :param rule: the rubric veto's id, or the ``rule`` of a plugin's
        :class:`~dualduty.scoring.Veto`.
    :param reason: one line in Chinese.
    :param reason_en: the same in English (a plugin's reason serves as both).
    :param evidence: the ids it rests on (incidents, …).
    :param seqs: the ``seq`` of the records behind them.
    :param demote_to: the grade band it lowers the grade to (``None``: the lowest).
    :param plugin: whether a plugin gave it.
    """

    rule: str
    reason: str
    reason_en: str
    evidence: tuple[str, ...] = ()
    seqs: tuple[int, ...] = ()
    demote_to: str | None = None
    plugin: bool = False

    def to_json(self) -> dict[str, Any]:
        """The veto as JSON data."""
        return {
            "rule": self.rule,
            "reason": self.reason,
            "reason_en": self.reason_en,
            "evidence": list(self.evidence),
            "seqs": list(self.seqs),
            "demote_to": self.demote_to,
            "plugin": self.plugin,
        }


@attrs.frozen
class Assessment:
    """One unit's assessment for the year.

    :param unit: the section's id; for a member, the post's id.
    :param name: the section's name; for a member, the post's title and holder.
    :param assessee: ``section`` or ``member``.
    :param items: the rubric's items that assess it, in the rubric's order, then the
        plugins' items.
    :param vetoes: the vetoes it incurred (the rubric's, then the plugins').
    :param total: its total (rounded to two decimals).
    :param grade: the name of its grade band, lowered by its vetoes.
    :param vetoed: whether it incurred a veto.
    :param rank: its place in the ranking (1 the best); ``None`` for a member.
    :param eligible: whether it may win the award: a section not vetoed and graded at
        least the award's minimum grade.
    :param excellent: whether it won the award (优秀科室).
    """

    unit: str
    name: str
    assessee: Assessee
    items: tuple[ItemScore, ...]
    vetoes: tuple[VetoHit, ...]
    total: float
    grade: str
    vetoed: bool
    rank: int | None = None
    eligible: bool = False
    excellent: bool = False

    def item(self, rule: str) -> ItemScore:
        """The item of this rule.

        :raises KeyError: if there is none.
        """
        for item in self.items:
            if item.rule == rule:
                return item
        raise KeyError(f"no item {rule!r} in the assessment of {self.unit!r}")

    def category_points(self) -> dict[str, float]:
        """The points of each category (rubric items and plugins' items together)."""
        out: dict[str, float] = {}
        for item in self.items:
            out[item.category] = out.get(item.category, 0.0) + item.points
        return {c: round_points(p) for c, p in out.items()}

    def to_json(self) -> dict[str, Any]:
        """The assessment as JSON data: ``unit``, ``score``, ``grade``, ``veto`` (whether
        vetoed), ``rank``, ``items``, and ``name``, ``assessee``, ``vetoes``,
        ``eligible``, ``excellent``."""
        return {
            "unit": self.unit,
            "name": self.name,
            "assessee": self.assessee.value,
            "score": self.total,
            "grade": self.grade,
            "veto": self.vetoed,
            "vetoes": [v.to_json() for v in self.vetoes],
            "rank": self.rank,
            "eligible": self.eligible,
            "excellent": self.excellent,
            "items": [i.to_json() for i in self.items],
        }


@attrs.frozen(eq=False)
class Basis:
    """What an assessment was made from: kept with it so that publishing can record it.

    :param rubric: the rubric.
    :param org: the organisation.
    :param schedule: the schedule given, or ``None`` when it was planned from the
        organisation's rules and calendar.
    :param plugins: the plugins that took part, as ``name`` or ``name==version``.
    """

    rubric: Rubric
    org: Organisation
    schedule: Schedule | None
    plugins: tuple[str, ...]


@attrs.frozen
class YearAssessment:
    """The assessment of a year: every section ranked, the award, the members.

    :param year: the year assessed.
    :param now: the time it was made as of (records from then on are left out).
    :param rubric: the rubric's id.
    :param ranking: the sections' assessments, best first (:data:`TIE_BREAK`).
    :param excellent: the ids of the sections awarded 优秀科室, in ranking order.
    :param members: the leading-group members' assessments (when asked for), in the
        order of the leading group's posts.
    :param places: how many places the award had (:meth:`~dualduty.scoring.rubric.Award.places`).
    :param head: the ``seq`` of the store's last record when it was made: records appended
        later (a late report, say) were not seen.
    :param basis: what it was made from (the rubric, organisation, schedule and plugins),
        which :func:`~dualduty.scoring.publish.publish` records; ``None`` for an assessment
        read back from JSON.
    """

    year: int
    now: dt.datetime
    rubric: str
    ranking: tuple[Assessment, ...]
    excellent: tuple[str, ...]
    members: tuple[Assessment, ...] = ()
    places: int = 0
    head: int = 0
    basis: Basis | None = attrs.field(default=None, eq=False, repr=False)

    def assessment(self, unit_id: str) -> Assessment:
        """The assessment of a section (or of a member, by post id).

        :raises KeyError: if it was not assessed.
        """
        for a in (*self.ranking, *self.members):
            if a.unit == unit_id:
                return a
        raise KeyError(f"{unit_id!r} was not assessed for {self.year}")

    def to_json(self) -> dict[str, Any]:
        """The year as JSON data: ``{"year", "now", "rubric", "head", "places", "ranking": [...],
        "excellent": [...], "members": [...]}`` (each assessment by
        :meth:`Assessment.to_json`)."""
        return {
            "year": self.year,
            "now": self.now.isoformat(),
            "rubric": self.rubric,
            "head": self.head,
            "places": self.places,
            "ranking": [a.to_json() for a in self.ranking],
            "excellent": list(self.excellent),
            "members": [a.to_json() for a in self.members],
        }


# -- the engine ---------------------------------------------------------------------------


def assess(
    store: Store,
    org: Organisation,
    year: int,
    *,
    rubric: Rubric | None = None,
    schedule: Schedule | None = None,
    now: dt.datetime | None = None,
    units: Iterable[str] | None = None,
    members: bool = False,
    hazard_rules: HazardRules | None = None,
    hooks: Hooks | None = None,
) -> YearAssessment:
    """Assess every section (or *units*) for *year*: items, vetoes, totals, grades, the
    ranking and the excellent-section award (三.4).

    :param store: the record.
    :param org: the organisation.
    :param year: the year assessed.
    :param rubric: the rubric (default: :func:`rubric_for`: a plugin's
        (:func:`~dualduty.hookspecs.dualduty_rubric`), else the plan's).
    :param schedule: the year's schedule (default: planned with the organisation's
        calendar, as :func:`~dualduty.records.compliance.compliance` does).
    :param now: the time the assessment is made as of, with a time zone (default: now,
        in the organisation's zone); records from it on are left out.
    :param units: the sections to assess (default: every section); the award's places are
        counted among them.
    :param members: also assess the leading-group members holding packages.
    :param hazard_rules: the hazard deadlines (default: from the organisation's rules).
    :param hooks: the plugins whose scoring rules, adjustments and grade bands take part
        (default: the installed ones, :func:`dualduty.plugins.hooks`).
    :raises AssessmentError: for a unit that is no section, or a plugin's output that does
        not fit.
    :raises ~dualduty.records.compliance.ComplianceError: if the schedule is for another
        year, or *now* has no time zone.
    """
    from dualduty.records.compliance import compliance

    if hooks is None:
        from dualduty.plugins import hooks as default_hooks

        hooks = default_hooks()
    if rubric is None:
        rubric = rubric_for(org, year, hooks=hooks)
    if now is None:
        now = dt.datetime.now(zoneinfo.ZoneInfo(org.timezone))
    from dualduty.records.timeline import in_time

    # the organisation with its recorded changes: each event is charged to whoever held
    # the school's package that day; the posts as held at the end of the year (or now)
    org = in_time(org, store, min(now.date(), dt.date(year, 12, 31)))
    chosen = None if units is None else _sections(org, units)
    head = store.head()[0]
    view = compliance(store, org, schedule, now=now, year=year, hazard_rules=hazard_rules)
    facts = year_facts(view, store, org, units=chosen, members=members, hazard_rules=hazard_rules)
    scorer = _Scorer(rubric, hooks, org, store, year, now=view.now)
    sections = sorted((scorer.assess(f) for f in facts.sections.values()), key=scorer.order)
    places = rubric.award.places(len(sections))
    excellent: list[str] = []
    for a in sections:
        if len(excellent) < places and a.eligible:
            excellent.append(a.unit)
    ranking = tuple(
        attrs.evolve(a, rank=n, excellent=a.unit in excellent)
        for n, a in enumerate(sections, start=1)
    )
    return YearAssessment(
        year=year,
        now=view.now,
        rubric=rubric.id,
        ranking=ranking,
        excellent=tuple(excellent),
        members=tuple(scorer.assess(f) for f in facts.members.values()),
        places=places,
        head=head,
        basis=Basis(rubric, org, schedule, _plugin_names(hooks)),
    )


#: The hooks through which a plugin takes part in an assessment.
SCORING_HOOKS = frozenset(
    {
        "dualduty_rubric",
        "dualduty_register_scoring_rules",
        "dualduty_adjust_assessment",
        "dualduty_grade_bands",
    }
)


def _plugin_names(hooks: Hooks) -> tuple[str, ...]:
    """The plugins implementing a scoring hook, ``name==version`` where it is known."""
    return tuple(
        p.name if p.version is None else f"{p.name}=={p.version}"
        for p in hooks.plugins()
        if SCORING_HOOKS.intersection(p.hooks)
    )


def rubric_for(org: Organisation, year: int, *, hooks: Hooks | None = None) -> Rubric:
    """The rubric *org*'s *year* is assessed by when none is given: the first plugin's
    (:func:`~dualduty.hookspecs.dualduty_rubric`), else the plan's
    (:func:`~dualduty.scoring.rubric.default_rubric`).

    :raises AssessmentError: if a plugin gives something that is no rubric.
    """
    if hooks is None:
        from dualduty.plugins import hooks as default_hooks

        hooks = default_hooks()
    given = hooks.rubric(org, year)
    if given is None:
        return default_rubric()
    if not isinstance(given, Rubric):
        raise AssessmentError(
            f"a plugin's rubric (dualduty_rubric) is {type(given).__name__}; "
            "expected dualduty.scoring.Rubric"
        )
    return given


def _sections(org: Organisation, units: Iterable[str]) -> list[str]:
    from dualduty.model.enums import SECTION_KINDS

    known = {u.id for u in org.units if u.kind in SECTION_KINDS}
    chosen = list(dict.fromkeys(units))
    wrong = [u for u in chosen if u not in known]
    if wrong:
        raise AssessmentError(
            f"cannot assess {', '.join(repr(u) for u in wrong)}: no section of {org.id!r} "
            "(sections and centres are assessed; leading-group members with members=True)"
        )
    return chosen


def _pts(value: float) -> str:
    """Points as a person writes them: ``11.25``, ``8``."""
    return f"{round_points(value):g}"


def _num(value: float) -> str:
    """A measured value: ``3``, ``2.5``, ``0.3333``."""
    return (
        f"{value:.4f}".rstrip("0").rstrip(".") if not float(value).is_integer() else str(int(value))
    )


def _arithmetic(item: Item, value: float, points: float) -> tuple[str, str]:
    """How *value* became *points* by the item's mode: (Chinese, English)."""
    top, got = _pts(item.max_points), _pts(points)
    if item.mode is Mode.RATIO:
        return f"{top}×{_num(value)}={got}分", f"{top} × {_num(value)} = {got}"
    per = item.per or 0.0
    raw = per * value
    if item.mode is Mode.DEDUCT:
        if value == 0:
            return f"不扣分，得{got}分", f"nothing deducted: {got}"
        if item.max_points - raw < item.floor:
            floor = _pts(item.floor)
            zh = "扣完为止" if item.floor == 0 else f"不低于{floor}分"
            return (
                f"扣{_pts(per)}×{_num(value)}={_pts(raw)}分，{zh}，得{got}分",
                f"{top} − {_pts(per)} × {_num(value)}, not below {floor}: {got}",
            )
        return (
            f"扣{_pts(per)}×{_num(value)}={_pts(raw)}分，得{got}分",
            f"{top} − {_pts(per)} × {_num(value)} = {got}",
        )
    if value == 0:
        return "无加分", "no bonus: 0"
    if raw > item.max_points:
        return (
            f"加{_pts(per)}×{_num(value)}，至多{top}分，得{got}分",
            f"{_pts(per)} × {_num(value)}, at most {top}: {got}",
        )
    return f"加{_pts(per)}×{_num(value)}={got}分", f"{_pts(per)} × {_num(value)} = {got}"


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Scorer:
    """One assessment run: the rubric, the plugins and what every unit shares."""

    def __init__(
        self,
        rubric: Rubric,
        hooks: Hooks,
        org: Organisation,
        store: Store,
        year: int,
        *,
        now: dt.datetime,
    ) -> None:
        self.rubric = rubric
        self.hooks = hooks
        self.org = org
        self.store = store
        self.year = year
        self.now = now
        self.rules: list[ScoringRule] = hooks.scoring_rules()
        self.categories = tuple(c.id for c in rubric.categories)

    # -- one unit --------------------------------------------------------------------------

    def assess(self, facts: UnitFacts) -> Assessment:
        who = facts.assessee
        rubric = self.rubric
        items: list[ItemScore] = []
        points: dict[str, float] = {}
        for item in rubric.items_for(who):
            measured = facts.measure(item.measure, item.parameters)
            got = item.points(measured.value)
            points[item.id] = got
            items.append(self.item_score(item, measured, got))
        vetoes = [hit for v in rubric.vetoes_for(who) if (hit := self.veto(v, facts)) is not None]

        context = ScoringContext(self.org, facts.unit, self.year, self.store, self.now, who.value)
        draft: list[ScoreItem | Veto] = [
            ScoreItem(i.rule, i.category, i.points, i.reason, i.seqs, i.clause) for i in items
        ]
        draft.extend(Veto(v.rule, v.reason, v.seqs) for v in vetoes)
        produced: list[ScoreItem | Veto] = []
        for rule in self.rules:
            produced.extend(self.checked(rule.score(context), f"scoring rule {rule.id!r}"))
        adjusted = self.checked(
            self.hooks.adjust_assessment(context, [*draft, *produced]),
            "an adjustment (dualduty_adjust_assessment)",
        )
        extra = 0.0
        for out in (*produced, *adjusted):
            if isinstance(out, ScoreItem):
                extra += out.points
                items.append(self.plugin_item(out))
            else:
                vetoes.append(
                    VetoHit(out.rule, out.reason, out.reason, (), tuple(out.evidence), plugin=True)
                )

        total = round_points(rubric.total_of(points, who) + round_points(extra))
        bands = self.bands(context)
        grade = self.grade(bands, total, vetoes)
        eligible = who is Assessee.SECTION and not vetoes and self.reaches_award(bands, grade)
        return Assessment(
            unit=facts.unit,
            name=facts.name,
            assessee=who,
            items=tuple(items),
            vetoes=tuple(vetoes),
            total=total,
            grade=grade.name,
            vetoed=bool(vetoes),
            eligible=eligible,
        )

    def item_score(self, item: Item, measured: Measured, points: float) -> ItemScore:
        zh, en = _arithmetic(item, measured.value, points)
        return ItemScore(
            rule=item.id,
            category=item.category,
            clause=item.clause,
            points=points,
            max_points=item.max_points,
            value=measured.value,
            evidence=measured.evidence,
            seqs=measured.seqs,
            reason=f"{item.name}：{measured.detail_zh}；{zh}",
            reason_en=f"{item.name_en}: {measured.detail}; {en}",
            name=item.name,
        )

    @staticmethod
    def plugin_item(out: ScoreItem) -> ItemScore:
        points = round_points(out.points)
        return ItemScore(
            rule=out.rule,
            category=out.category,
            clause=out.clause or "",
            points=points,
            max_points=0.0,
            value=None,
            evidence=(),
            seqs=tuple(out.evidence),
            reason=out.explanation,
            reason_en=out.explanation,
            name=out.rule,
            plugin=True,
        )

    @staticmethod
    def checked(found: Iterable[object], source: str) -> list[ScoreItem | Veto]:
        """A plugin's output, each a ScoreItem with finite points or a Veto."""
        out: list[ScoreItem | Veto] = []
        for thing in found:
            if isinstance(thing, ScoreItem):
                if not _finite(thing.points):
                    raise AssessmentError(
                        f"{source} gave item {thing.rule!r} the points {thing.points!r}; "
                        "expected a finite number"
                    )
                out.append(thing)
            elif isinstance(thing, Veto):
                out.append(thing)
            else:
                raise AssessmentError(
                    f"{source} gave {thing!r}; expected dualduty.scoring.ScoreItem or Veto"
                )
        return out

    # -- vetoes ----------------------------------------------------------------------------

    def veto(self, rule: VetoRule, facts: UnitFacts) -> VetoHit | None:
        if rule.kind is VetoKind.MEASURE:
            if rule.measure is None or rule.at_least is None:  # pragma: no cover - checked
                return None
            measured = facts.measure(rule.measure, rule.parameters)
            if not rule.reached(measured.value):
                return None
            least = _num(rule.at_least)
            return VetoHit(
                rule.id,
                f"一票否决：{rule.name}：{measured.detail_zh}（达到{least}）",
                f"veto: {rule.name_en}: {measured.detail} (at least {least})",
                measured.evidence,
                measured.seqs,
                rule.demote_to,
            )
        hits = [i for i in facts.incidents if self.vetoes(rule, i)]
        if not hits:
            return None
        return VetoHit(
            rule.id,
            f"一票否决：{rule.name}：{'；'.join(i.label_zh for i in hits)}",
            f"veto: {rule.name_en}: {'; '.join(i.label for i in hits)}",
            tuple(i.incident for i in hits),
            tuple(sorted({s for i in hits for s in i.seqs})),
            rule.demote_to,
        )

    @staticmethod
    def vetoes(rule: VetoRule, incident: IncidentFact) -> bool:
        """Whether an incident at the unit's packaged schools vetoes by *rule*."""
        if rule.kind is VetoKind.RESPONSIBILITY_DEATH:
            return bool(incident.responsible) and incident.deaths > 0
        if rule.kind is VetoKind.CONCEALED_INCIDENT:
            return incident.concealed
        if rule.kind is VetoKind.FATAL_INCIDENT:
            return incident.deaths > 0
        if rule.kind is VetoKind.INCIDENT_GRADE:
            grade = rule.grade or INCIDENT_GRADES[0]
            graver = INCIDENT_GRADES.index(incident.grade) >= INCIDENT_GRADES.index(grade)
            return graver and (not rule.responsible_only or bool(incident.responsible))
        return False  # pragma: no cover - every kind is handled above

    # -- grades and order ------------------------------------------------------------------

    def bands(self, context: ScoringContext) -> tuple[GradeBand, ...]:
        """The rubric's bands, or a plugin's (checked)."""
        given = self.hooks.grade_bands(context)
        if given is None:
            return self.rubric.bands
        bands = tuple(given) if isinstance(given, Sequence) else ()
        what = "the grade bands a plugin gave (dualduty_grade_bands)"
        if not bands or not all(isinstance(b, GradeBand) for b in bands):
            raise AssessmentError(f"{what}: expected a list of GradeBand, got {given!r}")
        names = [b.name for b in bands]
        if len(set(names)) != len(names):
            raise AssessmentError(f"{what}: a band name is given twice ({', '.join(names)})")
        minimums = [b.minimum for b in bands]
        if not all(_finite(m) for m in minimums) or any(
            a <= b for a, b in itertools.pairwise(minimums)
        ):
            raise AssessmentError(
                f"{what}: list the bands from the highest down, each minimum a number below "
                f"the one before ({', '.join(f'{b.name} >= {b.minimum}' for b in bands)})"
            )
        if self.rubric.award.minimum_grade not in names:
            raise AssessmentError(
                f"{what}: the award's minimum grade {self.rubric.award.minimum_grade!r} is "
                f"not among them ({', '.join(names)})"
            )
        return bands

    @staticmethod
    def grade(bands: Sequence[GradeBand], total: float, vetoes: Sequence[VetoHit]) -> GradeBand:
        """The highest band *total* reaches (the lowest for anything below), lowered by each
        veto to its ``demote_to`` band (the lowest when it names none or one not given)."""
        names = [b.name for b in bands]
        lowest = len(bands) - 1
        rank = next((i for i, b in enumerate(bands) if total >= b.minimum - 1e-9), lowest)
        for hit in vetoes:
            target = names.index(hit.demote_to) if hit.demote_to in names else lowest
            rank = max(rank, target)
        return bands[rank]

    def reaches_award(self, bands: Sequence[GradeBand], grade: GradeBand) -> bool:
        names = [b.name for b in bands]
        return names.index(grade.name) <= names.index(self.rubric.award.minimum_grade)

    def order(self, a: Assessment) -> tuple[Any, ...]:
        """The ranking key (:data:`TIE_BREAK`)."""
        points = a.category_points()
        return (
            -a.total,
            len(a.vetoes),
            *(-points.get(c, 0.0) for c in self.categories),
            a.unit,
        )


def explain(assessment: Assessment, *, english: bool = False) -> str:
    """An assessment in words, one line an item (for a reader or a log).

    >>> from dualduty.scoring.engine import Assessment, ItemScore
    >>> from dualduty.scoring.rubric import Assessee
    >>> item = ItemScore("pledge", "system_implementation", "二(一).3", 4.0, 4.0, 0.0, (), (),
    ...                  "签订安全稳定责任状：应签责任状1份，未签0份；不扣分，得4分",
    ...                  "responsibility pledge signed: 0 of 1 unsigned; nothing deducted: 4")
    >>> a = Assessment("audit", "审计科", Assessee.SECTION, (item,), (), 4.0, "不合格", False)
    >>> print(explain(a, english=True))
    audit 审计科: 4 (不合格)
      [二(一).3] pledge 4/4: responsibility pledge signed: 0 of 1 unsigned; nothing deducted: 4
    """
    head = f"{assessment.unit} {assessment.name}: {_pts(assessment.total)} ({assessment.grade})"
    lines = [head + (", vetoed" if assessment.vetoed else "")]
    for i in assessment.items:
        reason = i.reason_en if english else i.reason
        clause = f"[{i.clause}] " if i.clause else ""
        lines.append(f"  {clause}{i.rule} {_pts(i.points)}/{_pts(i.max_points)}: {reason}")
    for v in assessment.vetoes:
        lines.append(f"  VETO {v.rule}: {v.reason_en if english else v.reason}")
    return "\n".join(lines)
