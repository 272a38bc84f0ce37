"""The record of what happened: typed, append-only entries in a store."""

from __future__ import annotations

from .base import (
    RECORD_KINDS,
    Entry,
    Note,
    Record,
    RecordData,
    kind_of,
    person,
    place,
    record_kind,
    school,
    unit,
)
from .hazards import (
    HazardClosed,
    HazardEscalated,
    HazardFound,
    HazardRegistered,
    HazardRules,
    Hazards,
    HazardState,
    HazardStatus,
    RectificationClaimed,
    RectificationPlanned,
    Reinspected,
    Severity,
    escalation_chain,
    fold_hazards,
    hazard,
)
from .inspections import Inspections, done_visits, inspection
from .kinds import Finding, InspectionRecorded, MeetingHeld, ReportSubmitted
from .recorder import Recorder
from .service import Desk, InvalidTransition, PermissionDenied, Writing

__all__ = [
    "RECORD_KINDS",
    "Desk",
    "Entry",
    "Finding",
    "HazardClosed",
    "HazardEscalated",
    "HazardFound",
    "HazardRegistered",
    "HazardRules",
    "HazardState",
    "HazardStatus",
    "Hazards",
    "InspectionRecorded",
    "Inspections",
    "InvalidTransition",
    "MeetingHeld",
    "Note",
    "PermissionDenied",
    "Record",
    "RecordData",
    "Recorder",
    "RectificationClaimed",
    "RectificationPlanned",
    "Reinspected",
    "ReportSubmitted",
    "Severity",
    "Writing",
    "done_visits",
    "escalation_chain",
    "fold_hazards",
    "hazard",
    "inspection",
    "kind_of",
    "person",
    "place",
    "record_kind",
    "school",
    "unit",
]
