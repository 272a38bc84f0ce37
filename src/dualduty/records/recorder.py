"""One entry point to every recording service, sharing one desk (and its batches)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from .accountability import Accountability
from .activities import Activities, ActivityRules
from .hazards import HazardRules, Hazards
from .incidents import IncidentRules, Incidents
from .inspections import Inspections
from .meetings import Meetings
from .service import Clock, Desk
from .submissions import Reports
from .timeline import OrgChanges

if TYPE_CHECKING:
    from dualduty.model.org import Organisation
    from dualduty.model.schedule import Schedule
    from dualduty.records.compliance import Compliance
    from dualduty.storage.store import Store

__all__ = ["Recorder"]

_F = TypeVar("_F")


class Recorder:
    """The records layer's service: every command names who acts, is checked, and is
    appended in one transaction (clause 三.2: 台账 that can be audited).

    :param store: where the records go.
    :param org: the organisation whose posts decide who may do what.
    :param schedule: the year's schedule, to check that inspections and meetings carry
        out scheduled visits and meetings (optional).
    :param hazard_rules: the hazard loop's deadlines (default: from ``org.rules``).
    :param activity_rules: who approves activities, what makes one large-scale.
    :param incident_rules: incident grades and report deadlines (default: from ``org``).
    :param clock: the current time when a command gives no ``at`` (default: now).

    Its facets share one :class:`~dualduty.records.Desk`, so :meth:`batch` can put
    commands of several facets in one transaction.
    """

    def __init__(
        self,
        store: Store,
        org: Organisation,
        *,
        schedule: Schedule | None = None,
        hazard_rules: HazardRules | None = None,
        activity_rules: ActivityRules | None = None,
        incident_rules: IncidentRules | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.org = org
        self.schedule = schedule
        self.desk = Desk(store, org, clock=clock)
        self._facets: dict[str, Any] = {}
        self.desk.on_refresh.append(self._drop_facets)
        self._hazard_rules = hazard_rules
        self._activity_rules = activity_rules
        self._incident_rules = incident_rules

    def now(self) -> dt.datetime:
        """The recorder's clock."""
        return self.desk.now()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Commands inside the block share one transaction: all are written, or none."""
        with self.desk.batch():
            yield

    def _drop_facets(self) -> None:
        # the facets hold the organisation in force before the change: built anew on use
        self._facets.clear()

    def _facet(self, name: str, make: Callable[[], _F]) -> _F:
        """The facet *name*, made on first use and again once the organisation in force
        changed (a change recorded, or the clock's day past a change's effective date)."""
        self.desk.follow_clock()
        found = self._facets.get(name)
        if found is None:
            found = self._facets[name] = make()
        return found

    @cached_property
    def org_changes(self) -> OrgChanges:
        """Changes to the organisation, effective from a date (posts, 分管, packages)."""
        return OrgChanges(self.desk)

    @property
    def hazards(self) -> Hazards:
        """The hazard loop (隐患排查治理)."""
        return self._facet(
            "hazards",
            lambda: Hazards(self.store, self.desk.org, self._hazard_rules, desk=self.desk),
        )

    @property
    def inspections(self) -> Inspections:
        """Inspections of packaged schools, scheduled or ad hoc (三.2)."""
        return self._facet(
            "inspections",
            lambda: Inspections(
                self.store,
                self.desk.org,
                self._hazard_rules,
                desk=self.desk,
                schedule=self.schedule,
                hazards=self.hazards,
            ),
        )

    @property
    def incidents(self) -> Incidents:
        """Incidents at schools, their reports and responsibility (三.4)."""
        return self._facet(
            "incidents",
            lambda: Incidents(self.store, self.desk.org, self._incident_rules, desk=self.desk),
        )

    @property
    def activities(self) -> Activities:
        """Activities and their safety (谁主办谁负责, 二(三).2)."""
        return self._facet(
            "activities",
            lambda: Activities(self.store, self.desk.org, self._activity_rules, desk=self.desk),
        )

    @property
    def meetings(self) -> Meetings:
        """Meetings held, responsibility pledges and staff training (二(三).1, 二(三).4)."""
        return self._facet(
            "meetings",
            lambda: Meetings(self.store, self.desk.org, desk=self.desk, schedule=self.schedule),
        )

    @property
    def accountability(self) -> Accountability:
        """Accountability cases (问责: 立案、调查、处理)."""
        return self._facet(
            "accountability", lambda: Accountability(self.store, self.desk.org, desk=self.desk)
        )

    @property
    def reports(self) -> Reports:
        """Quarterly written reports handed to the office (三.2)."""
        return self._facet("reports", lambda: Reports(self.store, self.desk.org, desk=self.desk))

    def compliance(self, *, year: int | None = None, now: dt.datetime | None = None) -> Compliance:
        """What was due and what was done (see :func:`dualduty.records.compliance.compliance`),
        against this recorder's schedule (planned for *year* when it has none)."""
        from .compliance import compliance

        return compliance(
            self.store,
            self.org,
            self.schedule,
            now=self.desk.now(now),
            year=year,
            hazard_rules=self._hazard_rules,
        )
