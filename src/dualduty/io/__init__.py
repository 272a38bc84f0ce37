"""Files: district files (TOML, JSON, YAML) and schedule exports (iCalendar, CSV, Excel, JSON)."""

from __future__ import annotations

from ._schedule import (
    COLUMNS,
    InvalidScheduleFile,
    read_schedule_csv,
    read_schedule_json,
    read_schedule_xlsx,
    schedule_from_csv,
    schedule_from_json,
    schedule_from_xlsx,
    schedule_to_csv,
    schedule_to_ics,
    schedule_to_json,
    schedule_to_xlsx,
    write_schedule_csv,
    write_schedule_ics,
    write_schedule_json,
    write_schedule_xlsx,
)
from ._schools import (
    SCHOOL_COLUMNS,
    InvalidSchoolsFile,
    SchoolChanges,
    read_schools,
    school_changes,
    schools_to_csv,
    schools_to_xlsx,
    with_schools,
    write_schools,
)
from .files import FORMAT_VERSION, dump, dumps, format_for, from_data, load, loads, to_data

__all__ = ["FORMAT_VERSION", "dump", "dumps", "format_for", "from_data", "load", "loads", "to_data"]

# Schedule exports (issue 5): iCalendar, CSV, Excel and JSON.
__all__ += [
    "COLUMNS",
    "InvalidScheduleFile",
    "read_schedule_csv",
    "read_schedule_json",
    "read_schedule_xlsx",
    "schedule_from_csv",
    "schedule_from_json",
    "schedule_from_xlsx",
    "schedule_to_csv",
    "schedule_to_ics",
    "schedule_to_json",
    "schedule_to_xlsx",
    "write_schedule_csv",
    "write_schedule_ics",
    "write_schedule_json",
    "write_schedule_xlsx",
]

# School lists (issue 9): a district's schools from and to CSV and Excel.
__all__ += [
    "SCHOOL_COLUMNS",
    "InvalidSchoolsFile",
    "SchoolChanges",
    "read_schools",
    "school_changes",
    "schools_to_csv",
    "schools_to_xlsx",
    "with_schools",
    "write_schools",
]
