"""Written reports drafted from the record: the last layer (files → model → planning →
records → assessment → reports).

:mod:`dualduty.reports.quarterly` drafts a section's quarterly written report
(书面报告, 三.2) as Markdown and as an HTML document a word processor opens.
"""

from __future__ import annotations

from .quarterly import (
    HazardLine,
    MeetingLine,
    QuarterlyReport,
    RecordItem,
    ReportError,
    SchoolLine,
    draft_quarterly,
    parse_quarter,
)

__all__ = [
    "HazardLine",
    "MeetingLine",
    "QuarterlyReport",
    "RecordItem",
    "ReportError",
    "SchoolLine",
    "draft_quarterly",
    "parse_quarter",
]
