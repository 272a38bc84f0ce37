"""Issue 6's acceptance, on one SQLite store through the :class:`Recorder`.

One quarter of a section's work (the general office, 办公室, and its school s0002 in the
reference organisation): a scheduled inspection whose finding is a major hazard walked
to closure (a rejected rectification, escalations to the deputy in charge and to the
leader, the outbox rows each step made), refused actions that write nothing, an incident
reported late, an activity without a safety plan, the quarterly report drafted from the
record, an Excel ledger with two bad rows, and ``dualduty verify`` on the result.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

import dualduty
from dualduty.calendars import calendar_for
from dualduty.cli import main
from dualduty.planning import plan_schedule
from dualduty.records import (
    FlagKind,
    HazardStatus,
    InvalidLedger,
    PermissionDenied,
    Recorder,
    export_hazard_ledger,
    import_hazard_ledger,
)
from dualduty.reports import draft_quarterly
from dualduty.storage import open_store
from dualduty.storage.store import Store

ZONE = dt.timezone(dt.timedelta(hours=8))
ORG = dualduty.reference_organisation(schools=3)
SCHEDULE = plan_schedule(ORG, calendar_for(ORG, [2026]), 2026)
SCHOOL, SECTION = "s0002", "general-office"
STAFF, STAFF_2, HEAD = "p011", "p012", "p010"  # the general office's people
OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"  # the leading group's office (法规安全科)
DEPUTY, LEADER, OUTSIDER = "p004", "p001", "p014"


def at(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=ZONE)


def written(store: Store) -> tuple[int, int]:
    return len(store), len(store.outbox(state=None))


def test_a_quarter_of_a_section_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    with open_store(url) as store:
        r = Recorder(store, ORG, schedule=SCHEDULE)
        (visit, second) = [
            v for v in SCHEDULE.visits if (v.school, v.holder, v.quarter) == (SCHOOL, SECTION, 3)
        ]

        t0 = dt.datetime.combine(visit.date, dt.time(16), ZONE)  # 2026-07-23

        def day(n: int) -> dt.datetime:
            return t0 + dt.timedelta(days=n)

        # A scheduled inspection finds a major hazard: reported to the office at once.
        done = r.inspections.record(
            SCHOOL, actor=STAFF, holder=SECTION, date=visit.date, visit=visit.id,
            inspectors=[STAFF, STAFF_2], findings=[("教学楼外墙瓷砖大面积空鼓", "major")],
            at=t0,
        )  # fmt: skip
        hid = done.findings[0].hazard
        assert hid is not None
        outbox = [(i.message.recipient, i.message.urgent, i.cause) for i in store.outbox()]
        assert outbox == [  # caused by the hazard's entry, seq 1
            (OFFICE_HEAD, True, 1),
            (DEPUTY, True, 1),
            (LEADER, True, 1),
        ]

        # Refused actions write nothing: another section's person, self-verification.
        before = written(store)
        with pytest.raises(PermissionDenied, match="may not record hazards at school s0002"):
            r.hazards.find(SCHOOL, "general", "x", actor=OUTSIDER, at=day(1))
        assert written(store) == before

        r.hazards.register(hid, actor=OFFICE_STAFF, at=t0 + dt.timedelta(hours=1))
        # No plan within 20 days: escalated to the deputy in charge, with a message.
        (esc,) = r.hazards.escalate_overdue(day(21), actor=OFFICE_HEAD)
        assert esc.escalation_level == 1
        assert store.outbox(state=None)[-1].message.recipient == DEPUTY
        r.hazards.plan(
            hid, actor=HEAD, measures=["拆除空鼓瓷砖"], responsible=HEAD,
            time_limit=dt.date(2026, 9, 15), funds_yuan=120_000, safeguards=["设置警戒区"],
            at=day(22),
        )  # fmt: skip
        r.hazards.claim(hid, actor=STAFF, at=day(40))
        before = written(store)
        with pytest.raises(PermissionDenied, match="separation of duties"):
            r.hazards.reinspect(hid, actor=STAFF, accepted=True, at=day(41))
        assert written(store) == before
        assert r.hazards.reinspect(hid, actor=STAFF_2, accepted=False, at=day(41)).rejections
        # Still open after 90 days: escalated to the leader.
        (esc,) = r.hazards.escalate_overdue(day(91), actor=OFFICE_HEAD)
        assert esc.escalation_level == 2
        assert store.outbox(state=None)[-1].message.recipient == LEADER
        r.hazards.claim(hid, actor=STAFF, at=day(92))
        r.hazards.reinspect(hid, actor=OFFICE_STAFF, accepted=True, at=day(93))
        assert r.hazards.close(hid, actor=OFFICE_HEAD, at=day(94)).status is (HazardStatus.CLOSED)
        assert [i.message.recipient for i in store.outbox(state=None)] == [
            OFFICE_HEAD,  # the finding: at once
            DEPUTY,
            LEADER,
            DEPUTY,  # the escalations
            LEADER,
        ]

        # An incident whose initial report came two hours after it: flagged late.
        incident = r.incidents.record(
            SCHOOL, "accident", "学生课间摔伤", occurred=at(9, 10, 10), serious_injuries=1,
            actor=STAFF, at=at(9, 10, 10),
        )  # fmt: skip
        state = r.incidents.report(
            incident.id, "initial", text="初报", actor=STAFF, at=at(9, 10, 12)
        )
        assert FlagKind.LATE in state.flagged(at(9, 10, 12))

        # An activity held without an approved safety plan: a finding on its date.
        activity = r.activities.register(
            SECTION, "秋季教职工运动会", dt.date(2026, 9, 18), 300, actor=STAFF, at=at(9, 1)
        )
        findings = r.activities.state(activity.id).findings(dt.date(2026, 9, 18))
        assert [f.gap.value for f in findings] == ["no_safety_plan"]
        assert findings[0].clause == "二(三).2"

        r.meetings.held(
            "topic_study", SECTION, dt.date(2026, 7, 8), "研究暑期学校安全",
            actor=HEAD, attendees=[HEAD, STAFF, STAFF_2], at=at(7, 8, 17),
        )  # fmt: skip

        # The quarterly report matches the record.
        report = draft_quarterly(store, ORG, SECTION, 2026, 3, schedule=SCHEDULE, now=at(10, 1))
        figures = report.figures()
        assert (figures["visits_due"], figures["visits_done"], figures["visits_missed"]) == (
            2,
            1,
            1,
        )
        assert (figures["hazards_found"], figures["hazards_major"]) == (1, 1)
        assert (figures["hazards_open"], figures["hazards_overdue"]) == (1, 1)
        assert (figures["topic_studies_held"], figures["incidents"], figures["activities"]) == (
            1,
            1,
            1,
        )
        text = report.markdown()
        assert hid in text
        assert done.inspection in text
        assert second.id in text  # the visit not carried out is named
        assert incident.id in text
        assert activity.id in text

        # An Excel ledger with two bad rows imports nothing and names both rows.
        ledger = tmp_path / "隐患台账.xlsx"
        r.hazards.find(SCHOOL, "general", "楼梯扶手松动", actor=STAFF, at=day(95))
        assert export_hazard_ledger(store, ORG, ledger, as_of=day(96)) == 2
        book = openpyxl.load_workbook(ledger)
        sheet = book.active
        assert sheet is not None
        header = [c.value for c in sheet[1]]
        sheet.cell(2, header.index("隐患等级") + 1, "严重")
        sheet.cell(3, header.index("学校编号") + 1, "s9999")
        book.save(ledger)
    with open_store(f"sqlite:///{tmp_path / 'imported.db'}") as other:
        with pytest.raises(InvalidLedger) as exc:
            import_hazard_ledger(other, ORG, ledger, actor=OFFICE_STAFF)
        message = str(exc.value)
        assert "row 2, column 隐患等级" in message
        assert "row 3, column 学校编号" in message
        assert len(other) == 0

    assert main(["verify", "--db", url]) == 0
