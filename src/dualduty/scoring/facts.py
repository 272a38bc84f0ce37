"""What the year-end assessment measures, per section and per member, from the record (三.4).

:func:`year_facts` reads the compliance view of a year and the records it does not cover
(incidents, pledges, trainings, activities, coordination meetings' attendance, the notes
that put safety into a section's annual targets) once, and gives every section (科室) —
and, when asked, every leading-group member (领导小组成员) on the schools packaged to
their post — a :class:`UnitFacts`: the figures a rubric's items are measured from, each
(:class:`Measured`) with the ids and record ``seq``\\ s that evidence it and the figure
in words, in Chinese and English. :func:`unit_facts` gives the sections' alone.

Every :class:`~dualduty.scoring.rubric.Measure` is a figure of the same name, taken with
the measure's default parameters; :meth:`UnitFacts.measure` takes it with an item's own
(a late report counting 1 and a missing one 2, a major hazard counting 5, incidents
weighted by grade). The figures in :data:`FIGURES` beyond the measures are the counts the
measures are made of. No scoring here: what a figure is worth is the rubric's business
(:func:`~dualduty.scoring.engine.assess`).

Everything is as the record stands at the view's ``now``: records from ``now`` on are left
out, and what is still pending then (a quarter or a due day not over) is left out of both
sides of a ratio and is no shortfall.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from dualduty.calendars import quarter_bounds
from dualduty.model.enums import Role, UnitKind
from dualduty.model.schedule import MeetingKind
from dualduty.records.compliance import (
    Compliance,
    HazardOutcome,
    HazardTally,
    QuotaStatus,
    ReportOutcome,
    ReportStatus,
    VisitStatus,
    VisitTally,
)
from dualduty.records.hazards import HazardRules

from .rubric import INCIDENT_GRADES, Assessee, Measure

if TYPE_CHECKING:
    from dualduty.model.org import Organisation, Package, Post, Unit
    from dualduty.records.base import Entry
    from dualduty.storage.store import Store

__all__ = [
    "FIGURES",
    "MEMBER_FIGURES",
    "IncidentFact",
    "Measured",
    "UnitFacts",
    "YearFacts",
    "unit_facts",
    "year_facts",
]


@attrs.frozen
class Measured:
    """One figure of a unit, with what evidences it.

    :param value: the figure (a count, possibly weighted, or a ratio between 0 and 1).
    :param ids: the ids of the things counted (visits, hazards, reports, incidents, …).
    :param seqs: the ``seq`` of the records behind them.
    :param detail: the figure in words (English), e.g. ``"6 of 8 dedicated inspections
        done within their quarter, 1 late, 1 missed"``.
    :param detail_zh: the same in Chinese (``"应督查8次，按期6次，逾期1次，未督查1次"``).
    :param shortfall: for a ratio, the ids of what was due and not counted in full (the
        visits missed or late, the reports missing, the hazards overdue).
    """

    value: float
    ids: tuple[str, ...] = ()
    seqs: tuple[int, ...] = ()
    detail: str = ""
    detail_zh: str = ""
    shortfall: tuple[str, ...] = ()

    @property
    def evidence(self) -> tuple[str, ...]:
        """The ids of what earned the figure, then of what fell short, each once."""
        return tuple(dict.fromkeys((*self.ids, *self.shortfall)))


@attrs.frozen
class IncidentFact:
    """An incident at one of the unit's packaged schools, as the assessment sees it."""

    incident: str
    school: str
    grade: str
    """``general``, ``larger``, ``major`` or ``extraordinary``."""
    responsible: bool | None
    """Whether responsibility was found (``None``: not determined)."""
    deaths: int
    concealed: bool
    """Flagged concealed (瞒报) at ``now``."""
    seqs: tuple[int, ...]
    """Its records, in order."""
    occurred_on: dt.date | None = None
    """The day it occurred (in the organisation's zone)."""
    reported_late: bool = False
    """Flagged late (迟报) or omitted (漏报) at ``now``."""

    @property
    def label_zh(self) -> str:
        """The incident in a few Chinese words: ``"ic-00032（s0002，一般，责任事故，死亡1人）"``."""
        parts = [self.school, _GRADE_ZH.get(self.grade, self.grade)]
        if self.responsible:
            parts.append("责任事故")
        if self.deaths:
            parts.append(f"死亡{self.deaths}人")
        if self.concealed:
            parts.append("瞒报")
        return f"{self.incident}（{'，'.join(parts)}）"

    @property
    def label(self) -> str:
        """The incident in a few English words: ``"ic-00032 (s0002, general, responsible,
        1 death)"``."""
        parts = [self.school, self.grade]
        if self.responsible:
            parts.append("responsible")
        if self.deaths:
            parts.append(f"{self.deaths} death{'s' if self.deaths != 1 else ''}")
        if self.concealed:
            parts.append("concealed")
        return f"{self.incident} ({', '.join(parts)})"


_GRADE_ZH = {"general": "一般", "larger": "较大", "major": "重大", "extraordinary": "特别重大"}


@attrs.frozen
class UnitFacts:
    """The figures of one section, or of one leading-group member, for a year (see the
    module)."""

    unit: str
    """The unit id (a section); for a member, the post id."""
    name: str
    """The unit's name; for a member, the post's title and its holder's name."""
    year: int
    measures: Mapping[str, Measured]
    """Figure name -> the figure (names listed in :data:`FIGURES`, for a member in
    :data:`MEMBER_FIGURES`); a measure's figure is taken with its default parameters."""
    incidents: tuple[IncidentFact, ...]
    """Incidents in the year at its packaged schools."""
    assessee: Assessee = Assessee.SECTION
    """Who it is: a section or a member."""

    def __getitem__(self, name: str) -> Measured:
        return self.measures[name]

    def measure(
        self, measure: Measure | str, params: Mapping[str, float] | None = None
    ) -> Measured:
        """The value of *measure* for this unit, with *params* (the measure's parameters;
        those not given keep their defaults), as an item or a veto takes it: the engine
        scores ``facts.measure(item.measure, item.parameters)``.

        :raises KeyError: if the measure cannot be taken of this assessee (a topic study
            of a member).
        """
        m = Measure(measure)
        if self.assessee not in m.assessees:
            raise KeyError(f"measure {m.value!r} cannot be taken of a {self.assessee.value}")
        values = {**m.defaults, **(params or {})}
        return _measure(m, values, self.measures, self.incidents)


@attrs.frozen
class YearFacts:
    """The figures of every section (and member) for a year: what :func:`year_facts` gives."""

    year: int
    now: dt.datetime
    sections: Mapping[str, UnitFacts]
    """Section id -> its figures, in the organisation's order of units."""
    members: Mapping[str, UnitFacts]
    """Leading-group post id -> its figures (empty unless asked for)."""


#: The figures :func:`unit_facts` gives every section, and what each counts. Every
#: :class:`~dualduty.scoring.rubric.Measure` is one of them (with its default parameters).
FIGURES: dict[str, str] = {
    "visits_due": "dedicated inspections (专门督查) of its packages scheduled in the year (三.2), "
    "pending ones included",
    "visits_pending": "of those, not done yet and their quarter not over",
    "visits_done": "of those, done within their quarter",
    "visits_late": "of those, done after their quarter",
    "visits_missed": "of those, not done by the end of their quarter",
    "visits_done_ratio": "visits_done / (visits_done + visits_late + visits_missed) "
    "(1 when none was due); a late one counts late_weight",
    "ad_hoc_visits": "ad hoc inspections (不定期明查暗访) of its packaged schools in the year",
    "unannounced_visits": "of those, unannounced (暗访)",
    "topic_studies_required": "topic studies (专题研究) required in the quarters that are over "
    "(二(三).1)",
    "topic_studies_held": "topic studies held, at most the quota each quarter, in those quarters",
    "topic_studies_ratio": "topic_studies_held / topic_studies_required (1 when none was due)",
    "topic_studies_short": "topic studies short of the quota, summed over the quarters over",
    "coordination_held": "coordination meetings (调度会, 三.3) held in the year",
    "coordination_absent": "of those, the ones nobody of the section attended",
    "coordination_short": "for the section seating the leading group's office: coordination "
    "meetings short of the quota in the quarters over; 0 for the others",
    "summary_short": "for the office's seat: summary meetings (总结表彰会, 二(一).3) short once "
    "the year is over; 0 for the others",
    "reports_due": "quarterly written reports (书面报告, 三.2) due by now",
    "reports_on_time": "of those, submitted on time",
    "reports_late": "of those, submitted late",
    "reports_missing": "of those, not submitted",
    "reports_on_time_ratio": "reports_on_time / reports_due (1 when none was due)",
    "reports_not_on_time": "reports_late × late + reports_missing × missing (1 and 1)",
    "hazards_found": "hazards found at its packaged schools in the year (major_weight 1)",
    "major_hazards_found": "of those, major (重大隐患)",
    "hazards_closed": "hazards of its packaged schools closed (销号) in the year",
    "major_hazards_closed": "of those, major",
    "hazards_closed_on_time": "of those, closed within their deadline (HazardRules)",
    "hazards_closed_late": "of those, closed after their deadline",
    "hazards_overdue": "hazards of its packaged schools open and overdue at the year's end "
    "(or now)",
    "major_hazards_overdue": "of those, major",
    "hazards_closed_on_time_ratio": "hazards_closed_on_time / (hazards_closed + "
    "hazards_overdue) (1 when none was due); one closed late counts late_weight",
    "major_hazards_reported_late": "major hazards found in the year the office learned of late "
    "(三.2)",
    "incidents": "incidents at its packaged schools in the year, weighted by grade (一般 1, "
    "较大 2, 重大 and 特别重大 4) and doubled for a responsibility incident (三.4)",
    "incidents_occurred": "those incidents, counted",
    "responsibility_incidents": "of those, with responsibility found (责任事故)",
    "responsibility_deaths": "deaths in incidents with responsibility found",
    "concealed_incidents": "incidents flagged concealed (瞒报)",
    "incidents_reported_late": "incidents flagged late (迟报) or omitted (漏报)",
    "pledge_unsigned": "its held posts that sign a responsibility pledge (责任状, 二(一).3) "
    "with no pledge signed for the year",
    "staff_untrained": "its people with no safety training in the year (二(三).4)",
    "annual_targets_missing": "1 unless its annual targets for the year include school safety "
    "(纳入年度工作目标, 二(三).2), else 0",
    "activity_findings": "what the activities it hosted in the year lack (二(三).2)",
}

#: The figures a leading-group member has: those of the measures that can be taken of a
#: member, and the counts they are made of.
MEMBER_FIGURES: tuple[str, ...] = (
    "visits_due",
    "visits_pending",
    "visits_done",
    "visits_late",
    "visits_missed",
    "visits_done_ratio",
    "ad_hoc_visits",
    "unannounced_visits",
    "hazards_found",
    "major_hazards_found",
    "hazards_closed",
    "major_hazards_closed",
    "hazards_closed_on_time",
    "hazards_closed_late",
    "hazards_overdue",
    "major_hazards_overdue",
    "hazards_closed_on_time_ratio",
    "major_hazards_reported_late",
    "incidents",
    "incidents_occurred",
    "responsibility_incidents",
    "responsibility_deaths",
    "concealed_incidents",
    "incidents_reported_late",
    "pledge_unsigned",
)


def _n(value: float) -> str:
    """A number as a person writes it: ``3``, ``2.5``, ``0.3333``."""
    return f"{value:.4g}" if not float(value).is_integer() else str(int(value))


def _pl(count: float, noun: str, plural: str | None = None) -> str:
    """``"1 hazard"``, ``"2 hazards"``: a count and its noun."""
    return f"{_n(count)} {noun if count == 1 else plural or noun + 's'}"


def _ratio(part: float, whole: int, empty: float) -> float:
    return empty if whole == 0 else part / whole


def _seqs(*groups: Iterable[int | None]) -> tuple[int, ...]:
    return tuple(sorted({s for g in groups for s in g if s is not None}))


# -- measures with parameters -------------------------------------------------------------


def _measure(
    m: Measure,
    p: Mapping[str, float],
    f: Mapping[str, Measured],
    incidents: Sequence[IncidentFact],
) -> Measured:
    """*m* with the parameters *p*, from the unit's counts *f* and incidents."""
    if m is Measure.VISITS_DONE_RATIO:
        done, late, missed = f["visits_done"], f["visits_late"], f["visits_missed"]
        due = done.value + late.value + missed.value
        return _weighted_ratio(
            done,
            late,
            missed,
            p,
            detail=f"{_n(done.value)} of {_n(due)} dedicated inspections done within their "
            f"quarter, {_n(late.value)} late, {_n(missed.value)} missed",
            detail_zh=f"应督查{_n(due)}次，按期{_n(done.value)}次，逾期{_n(late.value)}次，"
            f"未督查{_n(missed.value)}次",
        )
    if m is Measure.REPORTS_ON_TIME_RATIO:
        on, late, missing = f["reports_on_time"], f["reports_late"], f["reports_missing"]
        due = on.value + late.value + missing.value
        return _weighted_ratio(
            on,
            late,
            missing,
            p,
            detail=f"{_n(on.value)} of {_n(due)} quarterly reports on time, "
            f"{_n(late.value)} late, {_n(missing.value)} missing",
            detail_zh=f"应报{_n(due)}份，按时{_n(on.value)}份，逾期{_n(late.value)}份，"
            f"未报{_n(missing.value)}份",
        )
    if m is Measure.HAZARDS_CLOSED_ON_TIME_RATIO:
        on, late, overdue = (
            f["hazards_closed_on_time"],
            f["hazards_closed_late"],
            f["hazards_overdue"],
        )
        due = on.value + late.value + overdue.value
        return _weighted_ratio(
            on,
            late,
            overdue,
            p,
            detail=f"{_n(on.value)} of {_n(due)} hazards due for rectification closed on time, "
            f"{_n(late.value)} closed late, {_n(overdue.value)} overdue",
            detail_zh=f"应整改隐患{_n(due)}处，按期销号{_n(on.value)}处，"
            f"逾期销号{_n(late.value)}处，逾期未整改{_n(overdue.value)}处",
        )
    if m is Measure.TOPIC_STUDIES_RATIO:
        held, required = f["topic_studies_held"], f["topic_studies_required"]
        return attrs.evolve(
            held,
            value=_ratio(held.value, int(required.value), p["empty"]),
            detail=f"{_n(held.value)} of {_n(required.value)} topic studies held in the "
            "quarters over",
            detail_zh=f"已结束季度应专题研究{_n(required.value)}次，计入{_n(held.value)}次",
        )
    if m is Measure.REPORTS_NOT_ON_TIME:
        late, missing = f["reports_late"], f["reports_missing"]
        value = late.value * p["late"] + missing.value * p["missing"]
        return Measured(
            value,
            tuple(dict.fromkeys((*late.ids, *missing.ids))),
            _seqs(late.seqs),
            f"{_n(late.value)} late × {_n(p['late'])} + {_n(missing.value)} missing × "
            f"{_n(p['missing'])} = {_n(value)} quarterly reports not on time",
            f"逾期报送{_n(late.value)}份×{_n(p['late'])}，未报送{_n(missing.value)}份×"
            f"{_n(p['missing'])}，计{_n(value)}",
        )
    if m in _HAZARD_COUNTS:
        name, major_name, en, zh = _HAZARD_COUNTS[m]
        all_, major = f[name], f[major_name]
        weight = p["major_weight"]
        value = all_.value + (weight - 1) * major.value
        extra_en = f", a major one counting {_n(weight)}" if weight != 1 else ""
        extra_zh = f"，重大隐患每处计{_n(weight)}" if weight != 1 else ""
        return attrs.evolve(
            all_,
            value=value,
            detail=f"{_pl(all_.value, 'hazard')} {en} ({_n(major.value)} major{extra_en}): "
            f"{_n(value)}",
            detail_zh=f"{zh}{_n(all_.value)}处（重大{_n(major.value)}处{extra_zh}），计{_n(value)}",
        )
    if m is Measure.INCIDENTS:
        return _incidents(incidents, p)
    return f[m.value]


_HAZARD_COUNTS: dict[Measure, tuple[str, str, str, str]] = {
    Measure.HAZARDS_FOUND: (
        "hazards_found",
        "major_hazards_found",
        "found",
        "发现隐患",
    ),
    Measure.HAZARDS_CLOSED: (
        "hazards_closed",
        "major_hazards_closed",
        "closed",
        "整改销号隐患",
    ),
    Measure.HAZARDS_OVERDUE: (
        "hazards_overdue",
        "major_hazards_overdue",
        "overdue",
        "逾期未整改隐患",
    ),
}


def _weighted_ratio(
    counted: Measured,
    late: Measured,
    short: Measured,
    p: Mapping[str, float],
    *,
    detail: str,
    detail_zh: str,
) -> Measured:
    """``(counted + late_weight × late) / (counted + late + short)``, or ``empty``."""
    weight = p.get("late_weight", 0.0)
    due = int(counted.value + late.value + short.value)
    value = _ratio(counted.value + weight * late.value, due, p["empty"])
    ids = counted.ids + (late.ids if weight > 0 else ())
    shortfall = (late.ids if weight < 1 else ()) + short.ids
    if not due:
        detail += f" (nothing due: the ratio is {_n(p['empty'])})"
        detail_zh += f"（无应完成事项，按{_n(p['empty'])}计）"
    elif weight:
        detail += f" (a late one counting {_n(weight)})"
        detail_zh += f"（逾期每个计{_n(weight)}）"
    return Measured(
        value,
        ids,
        _seqs(counted.seqs, late.seqs, short.seqs),
        detail,
        detail_zh,
        shortfall,
    )


def _incidents(incidents: Sequence[IncidentFact], p: Mapping[str, float]) -> Measured:
    """Incidents weighted by grade, times ``responsible`` for a responsibility incident."""
    value = 0.0
    for i in incidents:
        weight = p.get(i.grade, 1.0)
        value += weight * (p["responsible"] if i.responsible else 1.0)
    by_grade = {g: sum(1 for i in incidents if i.grade == g) for g in INCIDENT_GRADES}
    grades_en = ", ".join(f"{n} {g} × {_n(p[g])}" for g, n in by_grade.items() if n)
    grades_zh = "，".join(f"{_GRADE_ZH[g]}{n}起×{_n(p[g])}" for g, n in by_grade.items() if n)
    responsible = sum(1 for i in incidents if i.responsible)
    if not incidents:
        return Measured(0.0, (), (), "no incident at its packaged schools", "分包学校未发生事故")
    resp_en = (
        f", {_pl(responsible, 'responsibility incident')} × {_n(p['responsible'])}"
        if responsible
        else ""
    )
    resp_zh = f"，责任事故{responsible}起×{_n(p['responsible'])}" if responsible else ""
    return Measured(
        value,
        tuple(i.incident for i in incidents),
        _seqs(*(i.seqs for i in incidents)),
        f"{_pl(len(incidents), 'incident')} at its packaged schools ({grades_en}{resp_en}): "
        f"{_n(value)}",
        f"分包学校发生事故{len(incidents)}起（{grades_zh}{resp_zh}），计{_n(value)}",
    )


# -- reading the year ---------------------------------------------------------------------


def unit_facts(
    view: Compliance,
    store: Store,
    org: Organisation,
    *,
    units: Iterable[str] | None = None,
    hazard_rules: HazardRules | None = None,
) -> dict[str, UnitFacts]:
    """The figures of every section (or of *units*) for the view's year, at its ``now``.

    :param view: the compliance view of the year (:func:`~dualduty.records.compliance.compliance`).
    :param store: the record the view was computed from.
    :param org: the organisation.
    :param units: the sections wanted (default: all; ids that are no section are left out).
    :param hazard_rules: the hazard deadlines (default: from ``org.rules``).
    """
    facts = year_facts(view, store, org, units=units, hazard_rules=hazard_rules)
    return dict(facts.sections)


def year_facts(
    view: Compliance,
    store: Store,
    org: Organisation,
    *,
    units: Iterable[str] | None = None,
    members: bool = False,
    hazard_rules: HazardRules | None = None,
) -> YearFacts:
    """The figures of every section (or of *units*), and of every leading-group member
    holding a package when *members* is true, for the view's year, at its ``now``.

    Each record kind the view does not cover is read once, up to ``now``: incidents,
    pledges, trainings, activities, the year's coordination meetings and notes.

    A member is a post of the leading group (领导小组) that holds a package in the view
    (the compliance view's holder rows of kind ``post``), in the order of the leading
    group's posts.

    :param members: also give the leading-group members' figures.
    :raises ~dualduty.storage.StoreError: if the store is closed.
    """
    return _Year(view, store, org, hazard_rules).facts(units, members)


def _in_force(package: Package, on: dt.date) -> bool:
    return (package.start is None or package.start <= on) and (
        package.end is None or on <= package.end
    )


class _Year:
    """The records of a year the compliance view does not hold, read once."""

    def __init__(
        self,
        view: Compliance,
        store: Store,
        org: Organisation,
        hazard_rules: HazardRules | None,
    ) -> None:
        from dualduty.graph import OrgGraph

        self.view = view
        self.store = store
        self.org = org
        self.graph = OrgGraph(org)
        self.rules = hazard_rules or HazardRules.of(org.rules)
        self.zone = zoneinfo.ZoneInfo(org.timezone)
        self.year = year = view.year
        self.now = view.now
        self.today = view.now.astimezone(self.zone).date()
        self.year_start = dt.datetime(year, 1, 1, tzinfo=self.zone)
        self.year_end = dt.datetime(year + 1, 1, 1, tzinfo=self.zone)
        self.hazards = {h.hazard: h for h in view.hazards}
        self.rows = {(r.section, r.quarter): r for r in view.sections}
        self.seats = frozenset(
            u.seated_in for u in org.units if u.kind is UnitKind.OFFICE and u.seated_in
        )
        self.packages: dict[str, list[Package]] = defaultdict(list)
        for package in org.packages:
            for target in package.targets:
                self.packages[target].append(package)
        self.incidents = self._incidents()
        self.pledged = self._pledged()
        self.trained = self._trained()
        self.coordination = self._coordination()
        self.targets = self._targets()
        self.activities = self._activities()

    # -- reading ---------------------------------------------------------------------------

    def _read(self, kind: str, *, since: dt.datetime | None = None) -> Iterable[Entry]:
        return self.store.read(kind=kind, since=since, until=self.now)

    def _incidents(self) -> dict[str, list[IncidentFact]]:
        """Holder (unit or post id) -> the incidents of the year at its packaged schools."""
        from dualduty.records.incidents import (
            KINDS,
            FlagKind,
            IncidentRules,
            IncidentState,
        )

        groups: dict[str, list[Entry]] = defaultdict(list)
        for cls in KINDS:
            for entry in self._read(cls.__record_kind__):
                groups[entry.record.data.incident].append(entry)
        rules = IncidentRules.of(self.org)
        out: dict[str, list[IncidentFact]] = defaultdict(list)
        for entries in sorted(groups.values(), key=lambda es: min(e.seq for e in es)):
            entries.sort(key=lambda e: e.seq)
            state = IncidentState.fold((e.record for e in entries), rules)
            if state is None:
                continue
            occurred = state.occurred_at.astimezone(self.zone).date()
            if occurred.year != self.year:
                continue
            flagged = state.flagged(self.now)
            fact = IncidentFact(
                state.id,
                state.school,
                state.grade.value,
                state.responsible,
                state.figures.deaths,
                FlagKind.CONCEALED in flagged,
                tuple(e.seq for e in entries),
                occurred,
                bool(flagged & {FlagKind.LATE, FlagKind.OMITTED}),
            )
            for holder in self._holders(state.school, occurred):
                out[holder].append(fact)
        return out

    def _holders(self, school: str, on: dt.date) -> tuple[str, ...]:
        """The holders of the school's packages in force on a day."""
        return tuple(
            dict.fromkeys(p.holder for p in self.packages.get(school, ()) if _in_force(p, on))
        )

    def _pledged(self) -> dict[tuple[str, str], int]:
        """(person, post) -> the seq of their pledge for the year."""
        out: dict[tuple[str, str], int] = {}
        for entry in self._read("pledge-signed"):
            data = entry.record.data
            if data.year == self.year:
                out.setdefault((data.person, data.post), entry.seq)
        return out

    def _trained(self) -> dict[str, int]:
        """Person -> the seq of their first safety training in the year."""
        out: dict[str, int] = {}
        for entry in self._read("training-held"):
            data = entry.record.data
            if data.date.year == self.year:
                for person in data.trainees:
                    out.setdefault(person, entry.seq)
        return out

    def _coordination(self) -> list[tuple[str, int, frozenset[str]]]:
        """The coordination meetings held in the year: (meeting id, seq, attendees)."""
        out = []
        for entry in self._read("meeting-held", since=self.year_start):
            data = entry.record.data
            if data.kind is MeetingKind.COORDINATION and data.date.year == self.year:
                out.append((data.meeting, entry.seq, frozenset(data.attendees)))
        return out

    def _targets(self) -> dict[str, list[int]]:
        """Unit id -> the seq of its annual targets for the year in force at ``now`` (the
        latest set), when school safety is among them."""
        latest: dict[str, tuple[int, bool]] = {}
        for entry in self.store.read(kind="targets-set", until=self.now):
            data = entry.record.data
            if data.year == self.year:
                latest[data.unit] = (entry.seq, bool(data.safety))
        return {unit: [seq] for unit, (seq, safety) in latest.items() if safety}

    def _activities(self) -> dict[str, list[tuple[str, int, list[int]]]]:
        """Host unit -> [(activity id, findings, seqs)] of the activities of the year."""
        from dualduty.records.activities import KINDS, ActivityRules, ActivityState

        groups: dict[str, list[Entry]] = defaultdict(list)
        for cls in KINDS:
            for entry in self._read(cls.__record_kind__):
                groups[entry.record.data.activity].append(entry)
        rules = ActivityRules()
        out: dict[str, list[tuple[str, int, list[int]]]] = defaultdict(list)
        for entries in sorted(groups.values(), key=lambda es: min(e.seq for e in es)):
            entries.sort(key=lambda e: e.seq)
            state = ActivityState.fold((e.record for e in entries), rules, zone=self.org.timezone)
            if state is None or state.date.year != self.year:
                continue
            found = len(state.findings(self.today))
            out[state.host].append((state.id, found, [e.seq for e in entries]))
        return out

    # -- figures ---------------------------------------------------------------------------

    def facts(self, units: Iterable[str] | None, members: bool) -> YearFacts:
        wanted = [row.section for row in self.view.sections if row.quarter is None]
        if units is not None:
            chosen = set(units)
            wanted = [u for u in wanted if u in chosen]
        sections = {unit_id: self.section(unit_id) for unit_id in wanted}
        found: dict[str, UnitFacts] = {}
        if members:
            group = self.graph.leading_group()
            holders = {
                row.holder: row
                for row in self.view.holders
                if row.kind == "post" and row.quarter is None
            }
            for post in group.posts if group is not None else ():
                row = holders.get(post.id)
                if row is not None:
                    found[post.id] = self.member(post.id, row.visits, row.hazards)
        return YearFacts(self.year, self.now, sections, found)

    def common(self, holder: str, visits: VisitTally, hazards: HazardTally) -> dict[str, Measured]:
        """The figures of a section and a member alike: visits, hazards, incidents."""
        f: dict[str, Measured] = {}
        f.update(self.visit_figures(visits))
        f.update(self.hazard_figures(hazards))
        incidents = self.incidents.get(holder, [])
        f.update(self.incident_figures(incidents))
        return f

    def section(self, unit_id: str) -> UnitFacts:
        row = self.rows[(unit_id, None)]
        unit = self.graph.unit(unit_id)
        f = self.common(unit_id, row.visits, row.hazards)
        f.update(self.topic_figures(unit_id))
        f.update(self.meeting_figures(unit))
        f.update(self.report_figures(row.reports))
        f.update(self.own_figures(unit))
        incidents = tuple(self.incidents.get(unit_id, ()))
        # every measure with its defaults (the weighted ones from their counts)
        for m in Measure:
            f[m.value] = _measure(m, m.defaults, f, incidents)
        ordered = {name: f[name] for name in FIGURES}
        return UnitFacts(unit_id, unit.name, self.year, ordered, incidents)

    def member(self, post_id: str, visits: VisitTally, hazards: HazardTally) -> UnitFacts:
        post = self.graph.post(post_id)
        person = self.graph.holder_of(post_id)
        name = post.title if person is None else f"{post.title}（{person.name}）"
        f = self.common(post_id, visits, hazards)
        f["pledge_unsigned"] = self.pledge_figure([post])
        incidents = tuple(self.incidents.get(post_id, ()))
        for m in Measure:
            if Assessee.MEMBER in m.assessees:
                f[m.value] = _measure(m, m.defaults, f, incidents)
        ordered = {name: f[name] for name in MEMBER_FIGURES}
        return UnitFacts(post_id, name, self.year, ordered, incidents, Assessee.MEMBER)

    def visit_figures(self, tally: VisitTally) -> dict[str, Measured]:
        outcomes = tally.outcomes
        groups = {s: [o for o in outcomes if o.status is s] for s in VisitStatus}
        done, late, missed = (
            groups[s] for s in (VisitStatus.DONE, VisitStatus.LATE, VisitStatus.MISSED)
        )
        pending = groups[VisitStatus.PENDING]
        due = len(outcomes)
        f = {
            "visits_due": Measured(
                due,
                tuple(o.visit for o in outcomes),
                (),
                f"{_pl(due, 'dedicated inspection')} scheduled",
                f"计划专门督查{due}次",
            ),
            "visits_pending": Measured(
                len(pending),
                tuple(o.visit for o in pending),
                (),
                f"{_pl(len(pending), 'dedicated inspection')} not due yet",
                f"未到期专门督查{len(pending)}次",
            ),
        }
        for name, group, en, zh in (
            ("visits_done", done, "done within their quarter", "按期完成专门督查"),
            ("visits_late", late, "done after their quarter", "逾期完成专门督查"),
            ("visits_missed", missed, "not done, their quarter over", "未完成专门督查"),
        ):
            f[name] = Measured(
                len(group),
                tuple(o.visit for o in group),
                _seqs(o.seq for o in group),
                f"{_pl(len(group), 'dedicated inspection')} {en}",
                f"{zh}{len(group)}次",
            )
        extras = tally.extras
        unannounced = [i for i in extras if not i.announced]
        f["ad_hoc_visits"] = Measured(
            len(extras),
            tuple(i.inspection for i in extras),
            _seqs(i.seq for i in extras),
            _pl(len(extras), "ad hoc inspection"),
            f"计划外督查{len(extras)}次",
        )
        f["unannounced_visits"] = Measured(
            len(unannounced),
            tuple(i.inspection for i in unannounced),
            _seqs(i.seq for i in unannounced),
            _pl(len(unannounced), "unannounced ad hoc inspection"),
            f"计划外暗访{len(unannounced)}次",
        )
        return f

    def hazard_figures(self, tally: HazardTally) -> dict[str, Measured]:
        outcomes = self.hazards
        found = [outcomes[h] for h in tally.found]
        closed = [outcomes[h] for h in tally.closed]
        overdue = [outcomes[h] for h in tally.overdue]
        on_time = [h for h in closed if self.closed_in_time(h)]
        late = [h for h in closed if not self.closed_in_time(h)]
        reported_late = [h for h in found if h.major and "report" in h.missed]

        def closing(hs: Sequence[HazardOutcome]) -> tuple[int, ...]:
            return _seqs(h.closed_seq for h in hs)

        def finding(hs: Sequence[HazardOutcome]) -> tuple[int, ...]:
            return _seqs(h.found_seq for h in hs)

        def ids(hs: Sequence[HazardOutcome]) -> tuple[str, ...]:
            return tuple(h.hazard for h in hs)

        def major(hs: Sequence[HazardOutcome]) -> list[HazardOutcome]:
            return [h for h in hs if h.major]

        def count(hs: Sequence[HazardOutcome], seqs: tuple[int, ...], en: str, zh: str) -> Measured:
            noun, _, rest = en.partition(" hazards")  # "major hazards found": "major", " found"
            words = f"{_pl(len(hs), (noun + ' hazard').strip())}{rest}"
            return Measured(len(hs), ids(hs), seqs, words, f"{zh}{len(hs)}处")

        return {
            "hazards_found": count(found, finding(found), "hazards found", "发现隐患"),
            "major_hazards_found": count(
                major(found), finding(major(found)), "major hazards found", "发现重大隐患"
            ),
            "hazards_closed": count(closed, closing(closed), "hazards closed", "整改销号隐患"),
            "major_hazards_closed": count(
                major(closed), closing(major(closed)), "major hazards closed", "整改销号重大隐患"
            ),
            "hazards_closed_on_time": count(
                on_time, closing(on_time), "hazards closed on time", "按期销号隐患"
            ),
            "hazards_closed_late": count(
                late, closing(late), "hazards closed after their deadline", "逾期销号隐患"
            ),
            "hazards_overdue": count(
                overdue, finding(overdue), "hazards open and overdue", "逾期未整改隐患"
            ),
            "major_hazards_overdue": count(
                major(overdue),
                finding(major(overdue)),
                "major hazards open and overdue",
                "逾期未整改重大隐患",
            ),
            "major_hazards_reported_late": count(
                reported_late,
                finding(reported_late),
                "major hazards not reported at once",
                "重大隐患未立即上报",
            ),
        }

    def closed_in_time(self, h: HazardOutcome) -> bool:
        """Whether a closed hazard was closed by its deadline (HazardRules, 三.2)."""
        days = self.rules.major_close_days if h.major else self.rules.general_close_days
        return h.closed_on is not None and h.closed_on <= h.found_on + dt.timedelta(days=days)

    def incident_figures(self, incidents: Sequence[IncidentFact]) -> dict[str, Measured]:
        def count(group: Sequence[IncidentFact], noun: str, en: str, zh: str) -> Measured:
            return Measured(
                len(group),
                tuple(i.incident for i in group),
                _seqs(*(i.seqs for i in group)),
                f"{_pl(len(group), noun)}{en}",
                f"{zh}{len(group)}起",
            )

        responsible = [i for i in incidents if i.responsible]
        deadly = [i for i in responsible if i.deaths]
        deaths = sum(i.deaths for i in deadly)
        return {
            "incidents_occurred": count(
                incidents, "incident", " at its packaged schools", "分包学校发生事故"
            ),
            "responsibility_incidents": count(
                responsible, "responsibility incident", "", "责任事故"
            ),
            "responsibility_deaths": Measured(
                deaths,
                tuple(i.incident for i in deadly),
                _seqs(*(i.seqs for i in deadly)),
                f"{_pl(deaths, 'death')} in responsibility incidents",
                f"责任事故死亡{deaths}人",
            ),
            "concealed_incidents": count(
                [i for i in incidents if i.concealed], "incident", " concealed", "事故瞒报"
            ),
            "incidents_reported_late": count(
                [i for i in incidents if i.reported_late],
                "incident",
                " reported late or not at all",
                "事故迟报、漏报",
            ),
        }

    def quarter_over(self, quarter: int) -> bool:
        return self.today > quarter_bounds(self.year, quarter)[1]

    def topic_figures(self, unit_id: str) -> dict[str, Measured]:
        short = required = counted = 0
        held_ids: list[str] = []
        held_seqs: list[int] = []
        for quarter in self.view.quarters:
            tally = self.rows[(unit_id, quarter)].topic_studies
            if tally.status is QuotaStatus.SHORT:
                short += max(0, tally.required - len(tally.held))
            if self.quarter_over(quarter):
                required += tally.required
                counted += min(len(tally.held), tally.required)
            held_ids.extend(tally.held)
            held_seqs.extend(tally.seqs)
        ids, seqs = tuple(held_ids), _seqs(held_seqs)
        return {
            "topic_studies_required": Measured(
                required,
                (),
                (),
                f"{_pl(required, 'topic study', 'topic studies')} required in the quarters over",
                f"已结束季度应专题研究{required}次",
            ),
            "topic_studies_held": Measured(
                counted,
                ids,
                seqs,
                f"{_pl(counted, 'topic study', 'topic studies')} held (at most the quota "
                "a quarter)",
                f"专题研究计入{counted}次",
            ),
            "topic_studies_short": Measured(
                short,
                ids,
                seqs,
                f"{_pl(short, 'topic study', 'topic studies')} short of the quota",
                f"专题研究少{short}次",
            ),
        }

    def meeting_figures(self, unit: Unit) -> dict[str, Measured]:
        people = {p.holder for p in unit.posts if p.holder is not None}
        held = self.coordination
        absent = [(m, s) for m, s, attendees in held if not attendees & people]
        f = {
            "coordination_held": Measured(
                len(held),
                tuple(m for m, _, _ in held),
                _seqs(s for _, s, _ in held),
                f"{_pl(len(held), 'coordination meeting')} held",
                f"召开调度会{len(held)}次",
            ),
            "coordination_absent": Measured(
                len(absent),
                tuple(m for m, _ in absent),
                _seqs(s for _, s in absent),
                f"absent from {len(absent)} of {len(held)} coordination meetings",
                f"{len(held)}次调度会中{len(absent)}次无本科室人员参加",
            ),
        }
        seat = unit.id in self.seats
        short = 0
        if seat:
            for tally in self.view.coordination:
                if tally.status is QuotaStatus.SHORT:
                    short += max(0, tally.required - len(tally.held))
        f["coordination_short"] = Measured(
            short,
            (),
            (),
            f"{_pl(short, 'coordination meeting')} short of the quota"
            if seat
            else "does not convene the coordination meetings",
            f"少召开调度会{short}次" if seat else "不负责召开调度会",
        )
        summary = self.view.summary
        missing = (
            max(0, summary.required - len(summary.held))
            if seat and summary.status is QuotaStatus.SHORT
            else 0
        )
        f["summary_short"] = Measured(
            missing,
            summary.held if seat else (),
            summary.seqs if seat else (),
            f"{_pl(missing, 'summary meeting')} short"
            if seat
            else "does not convene the summary meeting",
            f"少召开总结表彰会{missing}次" if seat else "不负责召开总结表彰会",
        )
        return f

    def report_figures(self, reports: Sequence[ReportOutcome]) -> dict[str, Measured]:
        due = [r for r in reports if r.status is not ReportStatus.PENDING]
        f = {
            "reports_due": Measured(
                len(due),
                tuple(r.deadline for r in due),
                (),
                f"{_pl(len(due), 'quarterly report')} due",
                f"应报送季度书面报告{len(due)}份",
            )
        }
        for name, status, en, zh in (
            ("reports_on_time", ReportStatus.ON_TIME, "on time", "按时报送"),
            ("reports_late", ReportStatus.LATE, "late", "逾期报送"),
            ("reports_missing", ReportStatus.MISSING, "missing", "未报送"),
        ):
            kept = [r for r in reports if r.status is status]
            f[name] = Measured(
                len(kept),
                tuple(r.report or r.deadline for r in kept),
                _seqs(r.seq for r in kept),
                f"{len(kept)} of {len(due)} quarterly reports {en}",
                f"{zh}季度书面报告{len(kept)}份",
            )
        return f

    def pledge_figure(self, posts: Iterable[Post]) -> Measured:
        """The held posts of the pledge roles with no pledge signed for the year."""
        from dualduty.records.meetings import PLEDGE_ROLES

        due = [(p.holder, p.id) for p in posts if p.role in PLEDGE_ROLES and p.holder is not None]
        unsigned = [post for holder, post in due if (holder, post) not in self.pledged]
        signed = [self.pledged[key] for key in due if key in self.pledged]
        return Measured(
            len(unsigned),
            tuple(unsigned),
            _seqs(signed),
            f"{len(unsigned)} of {len(due)} responsibility pledges unsigned",
            f"应签责任状{len(due)}份，未签{len(unsigned)}份",
        )

    def own_figures(self, unit: Unit) -> dict[str, Measured]:
        """A section's own figures: its pledges, training, annual targets and activities."""
        people = sorted({p.holder for p in unit.posts if p.holder is not None})
        untrained = tuple(p for p in people if p not in self.trained)
        trained_seqs = _seqs(self.trained[p] for p in people if p in self.trained)
        notes = self.targets.get(unit.id, [])
        hosted = self.activities.get(unit.id, [])
        findings = sum(n for _, n, _ in hosted)
        lacking = [(a, seqs) for a, n, seqs in hosted if n]
        return {
            "pledge_unsigned": self.pledge_figure(
                sorted(unit.posts, key=lambda p: p.role is not Role.SECTION_HEAD)
            ),
            "staff_untrained": Measured(
                len(untrained),
                untrained,
                trained_seqs,
                f"{len(untrained)} of {len(people)} people untrained",
                f"{len(people)}人中{len(untrained)}人未参加安全教育培训",
            ),
            "annual_targets_missing": Measured(
                0 if notes else 1,
                (),
                _seqs(notes),
                "safety is in its annual targets"
                if notes
                else "safety not shown in its annual targets",
                "已将学校安全稳定工作纳入年度工作目标"
                if notes
                else "未见将学校安全稳定工作纳入年度工作目标的记录",
            ),
            "activity_findings": Measured(
                findings,
                tuple(a for a, _ in lacking),
                _seqs(*(s for _, s in lacking)),
                f"{_pl(findings, 'finding')} on the "
                f"{_pl(len(hosted), 'activity', 'activities')} it hosted",
                f"主办活动{len(hosted)}项，存在问题{findings}处",
            ),
        }
