"""The simulated year (dualduty.simulate): deterministic, through the services, every kind."""

from __future__ import annotations

from collections import Counter

import pytest

import dualduty
from dualduty.calendars import calendar_for
from dualduty.planning import plan_schedule
from dualduty.simulate import simulate_year
from dualduty.storage import open_store

ORG = dualduty.reference_organisation(schools=40)
SCHEDULE = plan_schedule(ORG, calendar_for(ORG, [2026]), 2026)


def play(seed: int) -> list[tuple[str, str, str, str]]:
    with open_store("memory:") as store:
        simulation = simulate_year(store, ORG, SCHEDULE, seed=seed)
        assert store.verify().ok
        assert simulation.commands <= len(store)
        return [
            (e.record.kind, e.record.actor, e.record.at.isoformat(), e.hash) for e in store.read()
        ]


def test_the_same_seed_gives_the_same_records_and_another_seed_others() -> None:
    first = play(3)
    assert play(3) == first
    assert play(4) != first


@pytest.mark.parametrize(
    "kind",
    [
        "inspection", "hazard-found", "hazard-closed", "incident-recorded",
        "incident-determined", "activity-registered", "activity-supervised", "meeting-held",
        "report-submitted", "pledge-signed", "targets-set", "training-held",
    ],
)  # fmt: skip
def test_the_year_has_every_kind_of_work(kind: str) -> None:
    kinds = Counter(k for k, *_ in play(3))
    assert kinds[kind] > 0


def test_a_year_has_visits_done_late_and_missed() -> None:
    import datetime as dt
    import zoneinfo

    from dualduty.records.compliance import VisitStatus, compliance

    end = dt.datetime(2027, 1, 10, tzinfo=zoneinfo.ZoneInfo(ORG.timezone))
    with open_store("memory:") as store:
        simulate_year(store, ORG, SCHEDULE, seed=3)
        view = compliance(store, ORG, SCHEDULE, now=end)
    statuses = Counter(v.status for v in view.visits)
    assert statuses[VisitStatus.DONE] > statuses[VisitStatus.MISSED] > 0
    assert statuses[VisitStatus.LATE] > 0
