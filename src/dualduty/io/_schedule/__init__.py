"""Schedule exports: iCalendar per person, unit and school; CSV and Excel; JSON.

Re-exported from :mod:`dualduty.io`; see :doc:`/how-to/export-the-schedule` and the
"Schedule exports" section of :doc:`/reference/file-format`.
"""

from __future__ import annotations

from ._common import InvalidScheduleFile
from ._ics import schedule_to_ics, write_schedule_ics
from ._json import read_schedule_json, schedule_from_json, schedule_to_json, write_schedule_json
from ._table import (
    COLUMNS,
    read_schedule_csv,
    read_schedule_xlsx,
    schedule_from_csv,
    schedule_from_xlsx,
    schedule_to_csv,
    schedule_to_xlsx,
    write_schedule_csv,
    write_schedule_xlsx,
)

__all__ = [
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
