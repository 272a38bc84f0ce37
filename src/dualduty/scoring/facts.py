"""What the year-end assessment measures, per section, from the record (三.4).

:func:`unit_facts` reads the compliance view of a year and the records it does not
cover (incidents, pledges, training, activities) once, and gives every section a
:class:`UnitFacts`: the figures a rubric's items are measured from, each
(:class:`Measured`) with the ids and record ``seq``\\ s that evidence it. No scoring
here: what a figure is worth is the rubric's business.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import attrs

from dualduty.records.compliance import Compliance, QuotaStatus, ReportStatus, VisitStatus
from dualduty.records.hazards import HazardRules

if TYPE_CHECKING:
    from dualduty.model.org import Organisation
    from dualduty.records.incidents import IncidentState
    from dualduty.storage.store import Store

__all__ = ["IncidentFact", "Measured", "UnitFacts", "unit_facts"]


@attrs.frozen
class Measured:
    """One figure of a unit, with what evidences it.

    :param value: the figure (a count, or a ratio between 0 and 1).
    :param ids: the ids of the things counted (visits, hazards, reports, …).
    :param seqs: the ``seq`` of the records behind them.
    :param detail: the figure in words (English), e.g. ``"44 of 48 visits done"``.
    """

    value: float
    ids: tuple[str, ...] = ()
    seqs: tuple[int, ...] = ()
    detail: str = ""


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
    seqs: tuple[int, ...]


@attrs.frozen
class UnitFacts:
    """The figures of one section for a year (see the module)."""

    unit: str
    name: str
    year: int
    measures: Mapping[str, Measured]
    """Figure name -> the figure (names listed in :data:`FIGURES`)."""
    incidents: tuple[IncidentFact, ...]
    """Incidents in the year at its packaged schools."""

    def __getitem__(self, name: str) -> Measured:
        return self.measures[name]


#: The figures :func:`unit_facts` gives every unit, and what each counts.
FIGURES: dict[str, str] = {
    "visits_due": "dedicated inspections (专门督查) of its packages due in the year (三.2)",
    "visits_done": "of those, done within their quarter",
    "visits_late": "of those, done after their quarter",
    "visits_missed": "of those, not done by the end of their quarter",
    "visits_done_ratio": "visits_done / visits_due (1 when none was due)",
    "unannounced_visits": "unannounced visits (暗访) done, scheduled or ad hoc",
    "ad_hoc_visits": "ad hoc inspections of its packaged schools",
    "topic_studies_short": "topic studies (专题研究) short of the quota, summed over quarters "
    "(二(三).1)",
    "reports_due": "quarterly written reports due (三.2)",
    "reports_on_time": "of those, submitted on time",
    "reports_late": "of those, submitted late",
    "reports_missing": "of those, not submitted by now",
    "reports_on_time_ratio": "reports_on_time / reports_due (1 when none was due)",
    "hazards_found": "hazards found at its packaged schools in the year",
    "hazards_closed_on_time": "of those, closed (销号) within their deadline",
    "hazards_closed_on_time_ratio": "hazards_closed_on_time / hazards_found (1 when none)",
    "hazards_overdue": "hazards of its packaged schools overdue at the year's end (or now)",
    "major_hazards_reported_late": "major hazards (重大隐患) the office learned of late (三.2)",
    "incidents": "incidents at its packaged schools in the year (三.4)",
    "responsibility_incidents": "of those, with responsibility found",
    "responsibility_deaths": "deaths in incidents with responsibility found",
    "concealed_incidents": "incidents concealed (瞒报)",
    "pledge_unsigned": "1 when its head signed no responsibility pledge (责任状) for the year "
    "(二(一).3), else 0",
    "staff_untrained": "its people with no safety training in the year (二(三).4)",
    "activity_findings": "findings of the activities it hosted in the year (二(三).2)",
}


def _ratio(part: int, whole: int) -> float:
    return 1.0 if whole == 0 else part / whole


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
    :param hazard_rules: the hazard deadlines (default: from ``org.rules``).
    """
    from dualduty.graph import OrgGraph
    from dualduty.records.activities import Activities
    from dualduty.records.incidents import IncidentRules, fold_incidents
    from dualduty.records.meetings import Meetings

    graph = OrgGraph(org)
    rules = hazard_rules or HazardRules.of(org.rules)
    zone = zoneinfo.ZoneInfo(org.timezone)
    year, now = view.year, view.now
    year_end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
    until = min(now, year_end)
    wanted = [row.section for row in view.sections if row.quarter is None]
    if units is not None:
        chosen = set(units)
        wanted = [u for u in wanted if u in chosen]

    incidents = [
        i
        for i in fold_incidents(store, IncidentRules.of(org), until=until)
        if i.occurred_at.astimezone(zone).year == year
    ]
    incident_facts = {i.id: _incident_fact(store, i, until) for i in incidents}
    meetings = Meetings(store, org)
    pledged = {(p.person, p.post) for p in meetings.pledges(year)}
    activities = Activities(store, org).all(year=year)
    today = (until - dt.timedelta(microseconds=1)).astimezone(zone).date()

    out = {}
    for unit_id in wanted:
        row = view.section(unit_id)
        unit = graph.unit(unit_id)
        figures: dict[str, Measured] = {}

        outcomes = row.visits.outcomes
        by_status = {
            s: [o for o in outcomes if o.status is s]
            for s in (VisitStatus.DONE, VisitStatus.LATE, VisitStatus.MISSED)
        }
        done, late, missed = (by_status[s] for s in by_status)
        due = len(outcomes)
        figures["visits_due"] = Measured(due, tuple(o.visit for o in outcomes))
        for name, group in (("visits_done", done), ("visits_late", late)):
            figures[name] = Measured(
                len(group),
                tuple(o.visit for o in group),
                tuple(o.seq for o in group if o.seq is not None),
                f"{len(group)} of {due} visits",
            )
        figures["visits_missed"] = Measured(
            len(missed), tuple(o.visit for o in missed), (), f"{len(missed)} of {due} visits"
        )
        figures["visits_done_ratio"] = Measured(
            _ratio(len(done), due),
            tuple(o.visit for o in done),
            tuple(o.seq for o in done if o.seq is not None),
            f"{len(done)} of {due} visits done in their quarter",
        )
        unannounced = [o for o in (*done, *late) if not o.announced]
        extras = row.visits.extras
        unannounced_ad_hoc = [i for i in extras if not i.announced]
        figures["unannounced_visits"] = Measured(
            len(unannounced) + len(unannounced_ad_hoc),
            tuple(o.inspection or o.visit for o in unannounced)
            + tuple(i.inspection for i in unannounced_ad_hoc),
            tuple(o.seq for o in unannounced if o.seq is not None)
            + tuple(i.seq for i in unannounced_ad_hoc),
        )
        figures["ad_hoc_visits"] = Measured(
            len(extras), tuple(i.inspection for i in extras), tuple(i.seq for i in extras)
        )

        short = 0
        held_ids: list[str] = []
        held_seqs: list[int] = []
        for quarter in view.quarters:
            tally = view.section(unit_id, quarter).topic_studies
            if tally.status is not QuotaStatus.PENDING:  # a quarter not over is not short
                short += max(0, tally.required - len(tally.held))
            held_ids.extend(tally.held)
            held_seqs.extend(tally.seqs)
        figures["topic_studies_short"] = Measured(
            short, tuple(held_ids), tuple(held_seqs), f"{short} topic studies short"
        )

        reports = row.reports
        due_reports = [r for r in reports if r.status is not ReportStatus.PENDING]
        groups = {
            "reports_on_time": [r for r in reports if r.status is ReportStatus.ON_TIME],
            "reports_late": [r for r in reports if r.status is ReportStatus.LATE],
            "reports_missing": [r for r in reports if r.status is ReportStatus.MISSING],
        }
        figures["reports_due"] = Measured(len(due_reports), tuple(r.deadline for r in due_reports))
        for name, kept in groups.items():
            figures[name] = Measured(
                len(kept),
                tuple(r.report or r.deadline for r in kept),
                tuple(r.seq for r in kept if r.seq is not None),
                f"{len(kept)} of {len(due_reports)} reports",
            )
        on_time = groups["reports_on_time"]
        figures["reports_on_time_ratio"] = Measured(
            _ratio(len(on_time), len(due_reports)),
            tuple(r.report or r.deadline for r in on_time),
            tuple(r.seq for r in on_time if r.seq is not None),
            f"{len(on_time)} of {len(due_reports)} reports on time",
        )

        mine = [h for h in view.hazards if unit_id in h.holders and h.found_on.year == year]
        in_time = []
        for h in mine:
            days = rules.major_close_days if h.major else rules.general_close_days
            if h.closed_on is not None and h.closed_on <= h.found_on + dt.timedelta(days=days):
                in_time.append(h)
        figures["hazards_found"] = Measured(
            len(mine), tuple(h.hazard for h in mine), tuple(h.found_seq for h in mine)
        )
        figures["hazards_closed_on_time"] = Measured(
            len(in_time),
            tuple(h.hazard for h in in_time),
            tuple(h.closed_seq for h in in_time if h.closed_seq is not None),
        )
        figures["hazards_closed_on_time_ratio"] = Measured(
            _ratio(len(in_time), len(mine)),
            tuple(h.hazard for h in in_time),
            tuple(h.closed_seq for h in in_time if h.closed_seq is not None),
            f"{len(in_time)} of {len(mine)} hazards closed on time",
        )
        overdue = [h for h in view.hazards if unit_id in h.holders and h.open and h.missed]
        figures["hazards_overdue"] = Measured(
            len(overdue), tuple(h.hazard for h in overdue), tuple(h.found_seq for h in overdue)
        )
        late_major = [h for h in mine if h.major and "report" in h.missed]
        figures["major_hazards_reported_late"] = Measured(
            len(late_major),
            tuple(h.hazard for h in late_major),
            tuple(h.found_seq for h in late_major),
        )

        facts = tuple(
            incident_facts[i.id]
            for i in incidents
            if unit_id in {u.id for u in graph.sections_for(i.school)}
        )
        responsible = [f for f in facts if f.responsible]
        concealed = [f for f in facts if f.concealed]
        figures["incidents"] = Measured(len(facts), tuple(f.incident for f in facts), _seqs(facts))
        figures["responsibility_incidents"] = Measured(
            len(responsible), tuple(f.incident for f in responsible), _seqs(responsible)
        )
        deadly = [f for f in responsible if f.deaths]
        figures["responsibility_deaths"] = Measured(
            sum(f.deaths for f in deadly), tuple(f.incident for f in deadly), _seqs(deadly)
        )
        figures["concealed_incidents"] = Measured(
            len(concealed), tuple(f.incident for f in concealed), _seqs(concealed)
        )

        head = graph.head_of(unit_id)
        signed = head is not None and (head.holder, head.id) in pledged
        figures["pledge_unsigned"] = Measured(
            0 if signed or head is None or head.holder is None else 1,
            () if head is None else (head.id,),
        )
        people = sorted({p.holder for p in unit.posts if p.holder is not None})
        untrained = tuple(p for p in people if not meetings.trained(p, year))
        figures["staff_untrained"] = Measured(
            len(untrained), untrained, (), f"{len(untrained)} of {len(people)} people"
        )
        hosted = [a for a in activities if a.host == unit_id]
        findings = [(a.id, f) for a in hosted for f in a.findings(today)]
        figures["activity_findings"] = Measured(
            len(findings), tuple(dict.fromkeys(a for a, _ in findings))
        )

        out[unit_id] = UnitFacts(unit_id, unit.name, year, figures, facts)
    return out


def _seqs(facts: Iterable[IncidentFact]) -> tuple[int, ...]:
    return tuple(s for f in facts for s in f.seqs)


def _incident_fact(store: Store, state: IncidentState, now: dt.datetime) -> IncidentFact:
    from dualduty.records.incidents import FlagKind, incident

    return IncidentFact(
        state.id,
        state.school,
        state.grade.value,
        state.responsible,
        state.figures.deaths,
        FlagKind.CONCEALED in state.flagged(now),
        tuple(e.seq for e in store.read(subject=incident(state.id), until=now)),
    )
