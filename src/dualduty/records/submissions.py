"""Quarterly written reports handed to the office (书面报告, 三.2).

各科室每季度末要对分包学校安全稳定工作督查情况书面报局学校安全稳定工作领导小组办公室: every
section reports in writing, at each quarter's end, on its supervision of its packaged
schools, to the leading group's office. Submitting one is a
:class:`~dualduty.records.kinds.ReportSubmitted` record stamped with its time, so the
compliance view (:mod:`dualduty.records.compliance`) sees which came late and which never
came. :mod:`dualduty.reports.quarterly` drafts the report from the record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from dualduty.calendars import quarter_bounds
from dualduty.model.enums import SECTION_KINDS, UnitKind

from .base import Entry, Record, unit
from .kinds import ReportSubmitted
from .service import InvalidTransition, new_id

if TYPE_CHECKING:
    from dualduty.model.org import Organisation, Unit
    from dualduty.storage.store import Store

    from .service import Desk

__all__ = ["Reports", "SubmittedReport", "report"]

_KIND = "report-submitted"


def report(id_: str) -> str:
    """The subject string of a written report (``"report:rp-00001"``)."""
    return f"report:{id_}"


@attrs.frozen
class SubmittedReport:
    """A report as the record holds it: what was submitted, by whom, when."""

    data: ReportSubmitted
    seq: int
    """The ``seq`` of its record."""
    actor: str
    """Who submitted it."""
    at: dt.datetime
    """When it was submitted."""
    revision: int
    """0 for the first submission of the unit's report for that quarter, 1 for the first
    revision, and so on."""

    @property
    def id(self) -> str:
        """The report's id."""
        return self.data.report


class Reports:
    """Quarterly reports over a store: submit them, read them back.

    :param store: where the records go.
    :param org: the organisation whose posts decide who may submit.
    :param desk: share the desk of other services (their batches and clock) instead of
        making one.
    :param channel: send the message telling the office a report came in through this
        channel instead of the routes' (``None``: the routes in force, event
        ``report-submitted``; :mod:`dualduty.notify.routing`).

    Who may submit a unit's report: the people holding its posts (the section head and
    staff); for the leading group's office, the office's people (its head and its seat's
    staff). A unit submits one report per year and quarter; a second submission is
    refused unless it is marked a revision (``revision=True``), which is recorded beside
    the first, so the time of the first submission — what decides whether the report was
    on time — never changes. Each submission puts the messages of its
    ``report-submitted`` event (by default to the office's head) in the outbox, in the same
    transaction.
    """

    def __init__(
        self,
        store: Store,
        org: Organisation,
        *,
        desk: Desk | None = None,
        channel: str | None = None,
    ) -> None:
        from .service import Desk

        self.desk = desk if desk is not None else Desk(store, org)
        self.store = store
        self.org = org
        self.graph = self.desk.graph
        self.channel = channel

    # -- who ---------------------------------------------------------------------------

    def _unit(self, unit_id: str) -> Unit:
        try:
            found = self.graph.unit(unit_id)
        except KeyError:
            raise InvalidTransition(f"no unit {unit_id!r} in this organisation") from None
        if found.kind not in SECTION_KINDS and found.kind is not UnitKind.OFFICE:
            raise InvalidTransition(
                f"{unit_id} ({found.name}) is a {found.kind.value}: quarterly reports come "
                "from sections and the leading group's office (三.2)"
            )
        return found

    def submitters(self, unit_id: str) -> frozenset[str]:
        """Who may submit the unit's reports."""
        found = self._unit(unit_id)
        if found.kind is UnitKind.OFFICE:
            return self.desk.office_members()
        return self.desk.unit_members(unit_id)

    # -- writing -----------------------------------------------------------------------

    def submit(
        self,
        unit_id: str,
        year: int,
        quarter: int,
        *,
        actor: str,
        title: str,
        text: str,
        deadline: str | None = None,
        report_id: str | None = None,
        revision: bool = False,
        at: dt.datetime | None = None,
    ) -> SubmittedReport:
        """Submit the unit's written report for a quarter (三.2).

        :param deadline: the id of the schedule's
            :class:`~dualduty.model.Deadline` it meets (the planner's are
            ``d.<year>q<quarter>.report.<unit>``).
        :param report_id: its id (default: ``rp-<seq>``).
        :param revision: submit a revision of a report already submitted.
        :param at: when (default: the desk's clock).
        :raises PermissionDenied: if *actor* may not submit for the unit.
        :raises InvalidTransition: if the unit cannot report, the quarter is not one, or
            has not begun at *at*, the report was already submitted (and this is no
            revision) or there is none to revise, or the title or text is blank.
        """
        if not isinstance(quarter, int) or isinstance(quarter, bool) or not 1 <= quarter <= 4:
            raise InvalidTransition(f"quarter must be 1 to 4, got {quarter!r}")
        if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 9999:
            raise InvalidTransition(f"year must be a year such as 2026, got {year!r}")
        found = self._unit(unit_id)
        when = self.desk.now(at)
        begins = quarter_bounds(year, quarter)[0]
        if when.astimezone(self.desk.zone).date() < begins:
            raise InvalidTransition(
                f"the report for {year} Q{quarter} cannot be submitted before the quarter "
                f"begins ({begins.isoformat()})"
            )
        from dualduty.notify.routing import Event

        with self.desk.writing() as w:
            self.desk.require(
                actor, self.submitters(unit_id), f"submit the quarterly report of {unit_id}"
            )
            earlier = [
                r.data
                for r in w.read(unit(unit_id), kind=_KIND)
                if isinstance(r.data, ReportSubmitted)
                and (r.data.unit, r.data.year, r.data.quarter) == (unit_id, year, quarter)
            ]
            if earlier and not revision:
                raise InvalidTransition(
                    f"{unit_id} already submitted its report for {year} Q{quarter} "
                    f"({earlier[0].report}); submit a revision with revision=True"
                )
            if revision and not earlier:
                raise InvalidTransition(
                    f"{unit_id} has no report for {year} Q{quarter} to revise; submit it first"
                )
            report_id = new_id(w, "rp", report_id, "report")
            try:
                data = ReportSubmitted(report_id, unit_id, year, quarter, title, text, deadline)
            except (TypeError, ValueError) as exc:
                raise InvalidTransition(f"report of {unit_id}: {exc}") from None
            record = Record.of(
                data, actor=actor, at=when, subjects=[report(report_id), unit(unit_id)]
            )
            event = Event(
                "report-submitted",
                report_id,
                when,
                unit=unit_id,
                cause=w.next_seq,
                data={
                    "report": report_id,
                    "unit": unit_id,
                    "unit_name": found.name,
                    "year": year,
                    "quarter": quarter,
                    "title": title,
                    "action": "修订" if earlier else "报送",
                    "submitter": self.graph.person(actor).name,
                },
            )
            entry = w.append(record, self.desk.route(event, channel=self.channel))
        return SubmittedReport(data, entry.seq, actor, when, len(earlier))

    # -- reading -----------------------------------------------------------------------

    def submissions(
        self, unit_id: str, year: int | None = None, quarter: int | None = None
    ) -> list[SubmittedReport]:
        """The unit's submissions (of a year, of a quarter), in the order submitted."""
        entries = self.store.read(subject=unit(unit_id), kind=_KIND)
        return [
            r
            for r in _submitted(entries)
            if r.data.unit == unit_id
            and (year is None or r.data.year == year)
            and (quarter is None or r.data.quarter == quarter)
        ]

    def latest(self, unit_id: str, year: int, quarter: int) -> SubmittedReport | None:
        """The unit's latest submission for a quarter (its last revision), if any."""
        found = self.submissions(unit_id, year, quarter)
        return found[-1] if found else None

    def all(self, year: int | None = None, quarter: int | None = None) -> list[SubmittedReport]:
        """Every unit's submissions (of a year, of a quarter), in the order submitted."""
        return [
            r
            for r in _submitted(self.store.read(kind=_KIND))
            if (year is None or r.data.year == year)
            and (quarter is None or r.data.quarter == quarter)
        ]


def _submitted(entries: Iterable[Entry]) -> list[SubmittedReport]:
    """Submissions with their revision numbers, counted per unit, year and quarter."""
    seen: dict[tuple[str, int, int], int] = {}
    out = []
    for entry in entries:
        data = entry.record.data
        if not isinstance(data, ReportSubmitted):
            continue
        key = (data.unit, data.year, data.quarter)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(SubmittedReport(data, entry.seq, entry.record.actor, entry.record.at, n))
    return out
