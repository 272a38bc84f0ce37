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

__all__ = [
    "RECORD_KINDS",
    "Entry",
    "Note",
    "Record",
    "RecordData",
    "kind_of",
    "person",
    "place",
    "record_kind",
    "school",
    "unit",
]
