"""The typed domain model of 一岗双责: pure frozen attrs classes, no I/O, no plugins."""

from __future__ import annotations

from .enums import (
    LEADING_ROLES,
    SECTION_KINDS,
    ActivityVerb,
    DutyKind,
    Facility,
    OrgKind,
    Ownership,
    PlaceKind,
    RiskLevel,
    Role,
    SchoolLevel,
    UnitKind,
)
from .hazards import BUILTIN_HAZARD_DOMAINS, HazardDomain
from .org import (
    BusinessArea,
    Duty,
    InCharge,
    Organisation,
    Package,
    Person,
    Place,
    Post,
    School,
    Unit,
)
from .rules import AssessmentCategory, ReportDue, Rules, clause_of
from .schedule import (
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingKind,
    Schedule,
    Violation,
    Visit,
)
from .validate import DATE_MAX, DATE_MIN, find_problems

__all__ = [
    "BUILTIN_HAZARD_DOMAINS",
    "DATE_MAX",
    "DATE_MIN",
    "LEADING_ROLES",
    "SECTION_KINDS",
    "ActivityVerb",
    "AssessmentCategory",
    "BusinessArea",
    "Deadline",
    "DeadlineKind",
    "Duty",
    "DutyKind",
    "Facility",
    "HazardDomain",
    "InCharge",
    "Meeting",
    "MeetingKind",
    "OrgKind",
    "Organisation",
    "Ownership",
    "Package",
    "Person",
    "Place",
    "PlaceKind",
    "Post",
    "ReportDue",
    "RiskLevel",
    "Role",
    "Rules",
    "Schedule",
    "School",
    "SchoolLevel",
    "Unit",
    "UnitKind",
    "Violation",
    "Visit",
    "clause_of",
    "find_problems",
]
