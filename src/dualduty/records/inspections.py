"""Inspections of packaged schools (督导检查, clause 三.2), and the hazards they open.

A package holder — a leading-group member or a section (三.1: 分包学校) — records each
inspection of a school it holds: a scheduled dedicated inspection (专门督查, twice a
quarter) that carries out a :class:`~dualduty.model.schedule.Visit`, or an ad hoc one
(不定期), announced or not (明查暗访). Every finding with a severity opens a hazard in the
same transaction (消除隐患), and a major one is reported to the office at once
(立即上报), so an inspection and what it found are written together or not at all.

The record kinds (:class:`~dualduty.records.kinds.InspectionRecorded` and its
:class:`~dualduty.records.kinds.Finding`\\ s) live in :mod:`dualduty.records.kinds`, so
that views can read inspections without this service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import attrs

from dualduty.model.schedule import quarter_of

from .base import Entry, Record, school, unit
from .hazards import HazardRules, Hazards, Severity
from .kinds import Finding, InspectionRecorded
from .service import InvalidTransition, new_id

if TYPE_CHECKING:
    from dualduty.model.org import Organisation, Package
    from dualduty.model.schedule import Schedule, Visit
    from dualduty.storage.store import Store

    from .service import Desk, Writing

__all__ = ["FindingLike", "Inspections", "done_visits", "inspection"]

#: What :meth:`Inspections.record` takes as a finding: a
#: :class:`~dualduty.records.kinds.Finding`, a
#: ``(text, severity or None)`` pair, or the text of a remark that is no hazard.
FindingLike = Finding | tuple[str, Severity | str | None] | str

KIND = InspectionRecorded.__record_kind__  # type: ignore[attr-defined]  # set by record_kind


def inspection(id_: str) -> str:
    """The subject string of an inspection (``"inspection:in-00001"``)."""
    return f"inspection:{id_}"


def visit(id_: str) -> str:
    """The subject string of a scheduled visit (``"visit:v.2026q3.general-office.s0002.1"``)."""
    return f"visit:{id_}"


def inspection_subjects(desk: Desk, data: InspectionRecorded) -> list[str]:
    """The subjects of an inspection's record: the inspection, the school and its
    packaged sections, the holder it counts for (``post:`` or ``unit:``) and the visit it
    carries out, if any."""
    try:
        desk.graph.post(data.holder)
    except KeyError:  # UnknownId: a unit holds the package
        holder = unit(data.holder)
    else:
        holder = f"post:{data.holder}"
    subjects = [inspection(data.inspection), *desk.school_subjects(data.school), holder]
    if data.visit is not None:
        subjects.append(visit(data.visit))
    return list(dict.fromkeys(subjects))


def _inspections(entries: Iterable[Entry]) -> Iterator[InspectionRecorded]:
    for entry in entries:
        data = entry.record.data
        if isinstance(data, InspectionRecorded):
            yield data


def done_visits(store: Store, *, year: int | None = None) -> dict[str, InspectionRecorded]:
    """Scheduled visits carried out: visit id -> the (first) inspection that carried it out.

    Reads the inspection records through the store's kind index; with *year*, only
    inspections made (by their ``date``) in that year count. Ad hoc inspections carry
    out no visit and are left out.
    """
    done: dict[str, InspectionRecorded] = {}
    for data in _inspections(store.read(kind=KIND)):
        if data.visit is None or (year is not None and data.date.year != year):
            continue
        done.setdefault(data.visit, data)
    return done


def _finding(item: FindingLike) -> Finding:
    if isinstance(item, Finding):
        if item.hazard is not None:
            raise InvalidTransition(
                f"finding {item.text!r} already names hazard {item.hazard!r}: the inspection "
                "opens the hazard of each finding with a severity and sets its id"
            )
        return item
    if isinstance(item, str):
        return Finding(item)
    if isinstance(item, tuple) and len(item) == 2:
        text, severity = item
        return Finding(text, None if severity is None else Severity(severity))
    raise TypeError(
        f"findings: expected a Finding, a (text, severity or None) pair or a text, got {item!r}"
    )


class Inspections:
    """Inspections of packaged schools over a store (督导检查, 三.2).

    :param store: where the records go.
    :param org: the organisation whose packages and posts decide who may record what.
    :param rules: deadlines of the hazards the findings open, used to make *hazards*
        when none is given (default: from the organisation's rules).
    :param desk: share the desk of a :class:`~dualduty.records.Recorder` (its batches and
        clock) instead of making one (default: *hazards*' desk, if given).
    :param schedule: the year's schedule; when given, an inspection naming a visit must
        carry out one of its visits, of the same school and holder.
    :param hazards: the hazard service that opens the findings' hazards; it must share
        this service's desk (default: one made from the desk).

    Who may record an inspection for a package of a school: the person holding the
    holder post (a leading-group member), the holders of the package's staff posts, the
    members of the holder unit (a section), and the leading group's office.
    """

    def __init__(
        self,
        store: Store,
        org: Organisation,
        rules: HazardRules | None = None,
        *,
        desk: Desk | None = None,
        schedule: Schedule | None = None,
        hazards: Hazards | None = None,
    ) -> None:
        from .service import Desk

        if desk is None:
            desk = hazards.desk if hazards is not None else Desk(store, org)
        if hazards is None:
            hazards = Hazards(store, org, rules, desk=desk)
        elif hazards.desk is not desk:
            raise ValueError("hazards: the hazard service must share the inspections' desk")
        elif rules is not None and rules != hazards.rules:
            raise ValueError("rules: the given hazard service has other rules")
        self.desk = desk
        self.store = store
        self.org = org
        self.hazards = hazards
        self.graph = desk.graph
        self.schedule = schedule
        self._visits: dict[str, Visit] | None = (
            None if schedule is None else {v.id: v for v in schedule.visits}
        )

    # -- who ---------------------------------------------------------------------------

    def _packages(self, school_id: str, holder: str) -> list[Package]:
        self.graph.school(school_id)  # an unknown school is named as such
        packages = [p for p in self.graph.packages_of(school_id) if p.holder == holder]
        if not packages:
            holders = ", ".join(p.holder for p in self.graph.packages_of(school_id)) or "nobody"
            raise InvalidTransition(
                f"{holder!r} holds no package of school {school_id} (held by: {holders})"
            )
        return packages

    def recorders(self, school_id: str, holder: str) -> frozenset[str]:
        """Who may record an inspection of the school for *holder*'s package.

        :raises InvalidTransition: if *holder* holds no package of the school.
        """
        people = set(self.desk.office_members())
        for package in self._packages(school_id, holder):
            try:
                post_holder = self.graph.post(package.holder).holder
            except KeyError:  # UnknownId: a unit holds the package: its members answer for it
                people.update(self.desk.unit_members(package.holder))
            else:
                if post_holder is not None:
                    people.add(post_holder)
            for staff in package.staff:
                staff_holder = self.graph.post(staff).holder
                if staff_holder is not None:
                    people.add(staff_holder)
        return frozenset(people)

    # -- reading -----------------------------------------------------------------------

    def get(self, inspection_id: str) -> InspectionRecorded:
        """The inspection with this id (an indexed read).

        :raises InvalidTransition: if no such inspection was recorded.
        """
        entries = self.store.read(subject=inspection(inspection_id), kind=KIND, limit=1)
        found = next(_inspections(entries), None)
        if found is None:
            raise InvalidTransition(f"no inspection {inspection_id!r} has been recorded")
        return found

    def of_school(self, school_id: str) -> list[InspectionRecorded]:
        """The inspections of a school, in record order (an indexed read)."""
        return list(_inspections(self.store.read(subject=school(school_id), kind=KIND)))

    def all(
        self, *, year: int | None = None, quarter: int | None = None
    ) -> list[InspectionRecorded]:
        """Every inspection, in record order; with *year* and *quarter* (1-4), only those
        made (by their ``date``) in that year and quarter."""
        if quarter is not None and quarter not in (1, 2, 3, 4):
            raise ValueError(f"quarter: expected 1-4, got {quarter!r}")
        return [
            data
            for data in _inspections(self.store.read(kind=KIND))
            if (year is None or data.date.year == year)
            and (quarter is None or quarter_of(data.date) == quarter)
        ]

    # -- writing -----------------------------------------------------------------------

    def _visit(self, w: Writing, visit_id: str, school_id: str, holder: str) -> Visit | None:
        """The scheduled visit (``None`` without a schedule); refuse one carried out already."""
        scheduled = None
        if self._visits is not None:
            scheduled = self._visits.get(visit_id)
            if scheduled is None:
                raise InvalidTransition(f"visit {visit_id!r} is not in the schedule")
            if (scheduled.school, scheduled.holder) != (school_id, holder):
                raise InvalidTransition(
                    f"visit {visit_id!r} is {scheduled.holder}'s visit of school "
                    f"{scheduled.school}, not {holder}'s of {school_id}"
                )
        # The inspection that carried a visit out names it as a subject (an indexed read).
        for record in w.read(visit(visit_id), kind=KIND):
            if record.data.visit == visit_id:
                raise InvalidTransition(
                    f"visit {visit_id!r} was already carried out by inspection "
                    f"{record.data.inspection!r} on {record.data.date.isoformat()}"
                )
        return scheduled

    def record(
        self,
        school_id: str,
        *,
        actor: str,
        holder: str,
        date: dt.date,
        inspectors: Iterable[str] | None = None,
        visit: str | None = None,
        announced: bool | None = None,
        findings: Iterable[FindingLike] = (),
        summary: str = "",
        inspection_id: str | None = None,
        at: dt.datetime | None = None,
    ) -> InspectionRecorded:
        """Record an inspection of a school for *holder*'s package (三.2).

        :param school_id: the school inspected.
        :param actor: who records it: see the class for who may.
        :param holder: the package holder it counts for (a leading-group post id or a
            section's unit id); it must hold a package of the school.
        :param date: the day of the inspection (not after the day it is recorded).
        :param inspectors: the people who went (default: the actor alone).
        :param visit: the scheduled visit it carries out (``None``: ad hoc); a visit is
            carried out once.
        :param announced: ``False`` for an unannounced visit (暗访); default: the
            scheduled visit's own flag, else announced.
        :param findings: :class:`Finding`\\ s, ``(text, severity or None)`` pairs or
            texts; each with a severity opens a hazard (found by the actor, at *at*)
            whose id the stored finding carries.
        :param summary: a summary in words.
        :param inspection_id: its id (default: ``in-<seq>``).
        :param at: when it is recorded (default: the desk's clock).
        :returns: the inspection as recorded.
        :raises PermissionDenied: if the actor may not record it (or open its hazards).
        :raises InvalidTransition: if it does not fit the organisation, the schedule or
            the record. A refused inspection writes nothing, not even its hazards.
        """
        if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
            raise ValueError(f"date: expected a date, got {date!r}")
        items = [_finding(item) for item in findings]
        if isinstance(inspectors, str):  # one id would otherwise become its characters
            inspectors = (inspectors,)
        people = tuple(dict.fromkeys((actor,) if inspectors is None else inspectors))
        when = self.desk.now(at)
        if when.utcoffset() is None:
            raise ValueError(f"at: {when!r} must be a date and time with a time zone")
        with self.desk.writing() as w:
            allowed = self.recorders(school_id, holder)
            self.desk.require(
                actor, allowed, f"record inspections of school {school_id} for {holder}"
            )
            if not people:
                raise InvalidTransition("an inspection needs at least one inspector")
            for person_id in people:
                self.desk.require_person(person_id, "the inspectors")
            if date > when.astimezone(self.desk.zone).date():
                raise InvalidTransition(
                    f"an inspection on {date.isoformat()} cannot be recorded before that day "
                    f"(recorded at {when.isoformat()})"
                )
            scheduled = None if visit is None else self._visit(w, visit, school_id, holder)
            if announced is None:
                announced = True if scheduled is None else scheduled.announced
            # Everything is checked (the data validated) before the first append, so that
            # a refusal leaves nothing behind even inside a batch that carries on.
            data = InspectionRecorded(
                new_id(w, "in", inspection_id, "inspection"),
                school_id,
                holder,
                date,
                people,
                visit,
                announced,
                items,
                summary,
            )
            opened = []
            for item in items:
                if item.severity is None:
                    opened.append(item)
                    continue
                state = self.hazards.find_in(
                    w,
                    school_id,
                    item.severity,
                    item.text,
                    actor=actor,
                    inspection=data.inspection,
                    at=when,
                )
                opened.append(attrs.evolve(item, hazard=state.id))
            data = attrs.evolve(data, findings=opened)
            subjects = inspection_subjects(self.desk, data)
            w.append(Record.of(data, actor=actor, at=when, subjects=subjects))
        return data
