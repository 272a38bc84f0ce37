"""``dualduty record …``: actions through the command line, their JSON and their refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dualduty
from dualduty.cli import main
from dualduty.storage import open_store


@pytest.fixture
def env(tmp_path: Path) -> list[str]:
    org = tmp_path / "bureau.toml"
    dualduty.dump(dualduty.reference_organisation(schools=3), org)
    return ["--db", f"sqlite:///{tmp_path / 'records.db'}", "--org", str(org)]


def record(
    capsys: pytest.CaptureFixture[str], env: list[str], *args: str
) -> tuple[int, dict[str, object], str]:
    capsys.readouterr()
    status = main(["record", *args, *env, "--format", "json"])
    captured = capsys.readouterr()
    return status, json.loads(captured.out) if captured.out else {}, captured.err


def count(env: list[str]) -> tuple[int, int]:
    with open_store(env[1], readonly=True) as store:
        return len(store), len(store.outbox(state=None))


def test_a_major_hazard_from_finding_to_closure(
    capsys: pytest.CaptureFixture[str], env: list[str]
) -> None:
    at = "2026-09-01T09:00:00+08:00"
    status, out, _ = record(
        capsys, env, "hazard", "s0002", "外墙瓷砖空鼓", "--severity", "major",
        "--actor", "p011", "--at", at,
    )  # fmt: skip
    assert status == 0
    assert out["status"] == "found"
    assert out["found_at"] == at
    hid = str(out["hazard"])
    assert count(env) == (1, 3)  # the urgent messages (office head, deputy, leader) went with it

    steps = [
        ("register", hid, "--actor", "p008", "--at", "2026-09-01T10:00:00+08:00"),
        ("plan", hid, "--actor", "p010", "--measure", "拆除空鼓瓷砖", "--responsible", "p010",
         "--time-limit", "2026-10-15", "--funds", "120000", "--safeguard", "设置警戒区",
         "--at", "2026-09-03T09:00:00+08:00"),
        ("rectify", hid, "--actor", "p011", "--at", "2026-10-01T09:00:00+08:00"),
        ("accept", hid, "--reject", "--notes", "仍有空鼓", "--actor", "p012",
         "--at", "2026-10-02T09:00:00+08:00"),
        ("rectify", hid, "--actor", "p011", "--at", "2026-10-10T09:00:00+08:00"),
        ("accept", hid, "--actor", "p008", "--at", "2026-10-11T09:00:00+08:00"),
        ("close", hid, "--actor", "p007", "--at", "2026-10-12T09:00:00+08:00"),
    ]  # fmt: skip
    statuses = []
    for args in steps:
        status, out, err = record(capsys, env, *args)
        assert status == 0, err
        statuses.append(out["status"])
    assert statuses == [
        "registered", "rectifying", "rectified", "rectifying", "rectified", "accepted", "closed",
    ]  # fmt: skip
    assert out["rejections"] == 1
    assert out["plan"] == {
        "measures": ["拆除空鼓瓷砖"],
        "responsible": "p010",
        "time_limit": "2026-10-15",
        "funds_yuan": 120000,
        "safeguards": ["设置警戒区"],
    }
    capsys.readouterr()
    assert main(["verify", "--db", env[1]]) == 0


def test_a_refused_action_exits_2_without_a_traceback_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], env: list[str]
) -> None:
    record(capsys, env, "hazard", "s0002", "楼梯扶手松动", "--actor", "p011")
    before = count(env)
    # p014 works in another section: s0002 is not theirs.
    status, out, err = record(capsys, env, "hazard", "s0002", "x", "--actor", "p014")
    assert (status, out) == (2, {})
    assert err.startswith("dualduty: p014 (")
    assert "may not record hazards at school s0002" in err
    assert count(env) == before
    assert "Traceback" not in err
    # Self-verification: the claimer may not accept their own rectification.
    hid = "hz-00001"
    record(capsys, env, "register", hid, "--actor", "p008")
    record(capsys, env, "plan", hid, "--actor", "p010", "--measure", "加固", "--responsible",
           "p010", "--time-limit", "2026-12-31")  # fmt: skip
    record(capsys, env, "rectify", hid, "--actor", "p011")
    before = count(env)
    status, _, err = record(capsys, env, "accept", hid, "--actor", "p011")
    assert status == 2
    assert "separation of duties" in err
    assert count(env) == before


def test_an_unknown_school_or_a_bad_time_is_bad_input(
    capsys: pytest.CaptureFixture[str], env: list[str]
) -> None:
    status, _, err = record(capsys, env, "hazard", "s9999", "x", "--actor", "p011")
    assert status == 2
    assert "s9999" in err
    with pytest.raises(SystemExit) as exc:
        main(["record", "hazard", "s0002", "x", *env, "--actor", "p011", "--at", "2026-09-01"])
    assert exc.value.code == 2
    assert "give a time zone offset" in capsys.readouterr().err


def test_escalate_reports_what_climbed(capsys: pytest.CaptureFixture[str], env: list[str]) -> None:
    record(capsys, env, "hazard", "s0002", "围墙开裂", "--severity", "major", "--actor", "p011",
           "--at", "2026-09-01T09:00:00+08:00")  # fmt: skip
    status, out, _ = record(
        capsys, env, "escalate", "--actor", "p007", "--at", "2026-09-25T09:00:00+08:00"
    )
    assert status == 0
    assert out["escalated"] == [{"hazard": "hz-00001", "level": 1, "missed": ["plan"]}]


def test_an_inspection_with_findings_opens_hazards(
    capsys: pytest.CaptureFixture[str], env: list[str]
) -> None:
    status, out, err = record(
        capsys, env, "inspection", "s0002", "--holder", "general-office", "--date", "2026-09-15",
        "--inspector", "p011", "--inspector", "p012", "--unannounced",
        "--finding", "消防通道堵塞=general", "--finding", "值班记录完整=good",
        "--actor", "p011", "--at", "2026-09-15T16:00:00+08:00",
    )  # fmt: skip
    assert status == 0, err
    assert out["announced"] is False
    assert out["inspectors"] == ["p011", "p012"]
    hazards = out["hazards"]
    assert isinstance(hazards, list)
    (hid,) = hazards
    assert out["findings"] == [
        {"text": "消防通道堵塞", "severity": "general", "hazard": hid},
        {"text": "值班记录完整=good", "severity": None, "hazard": None},
    ]
    status, hazard, _ = record(capsys, env, "register", str(hid), "--actor", "p008")
    assert status == 0
    assert hazard["school"] == "s0002"
    assert count(env) == (3, 0)  # hazard, inspection, registration; no urgent message


def test_an_activity_without_an_approved_safety_plan_is_flagged(
    capsys: pytest.CaptureFixture[str], env: list[str]
) -> None:
    status, out, err = record(
        capsys, env, "activity", "general-office", "秋季运动会", "--date", "2026-10-20",
        "--participants", "1200", "--actor", "p011", "--at", "2026-09-01T09:00:00+08:00",
    )  # fmt: skip
    assert status == 0, err
    assert out["large_scale"] is True
    assert out["findings"] == []  # nothing is due before its date
    aid = str(out["activity"])
    status, out, _ = record(
        capsys, env, "activity-plan", aid, "运动会安全预案", "--emergency-plan",
        "--actor", "p011", "--at", "2026-10-21T09:00:00+08:00",
    )  # fmt: skip
    assert status == 0
    gaps = [f["gap"] for f in out["findings"]]  # type: ignore[attr-defined]
    assert "no_safety_plan" in gaps
    assert "not_approved" in gaps
    assert {f["clause"] for f in out["findings"]} == {"二(三).2"}  # type: ignore[attr-defined]


def test_a_meeting_held_names_its_attendees(
    capsys: pytest.CaptureFixture[str], env: list[str]
) -> None:
    status, out, err = record(
        capsys, env, "meeting", "topic_study", "general-office", "研究开学安全",
        "--date", "2026-09-03", "--attendee", "p010", "--attendee", "p011", "--actor", "p010",
    )  # fmt: skip
    assert status == 0, err
    assert (out["kind"], out["unit"], out["attendees"]) == (
        "topic_study", "general-office", ["p010", "p011"],
    )  # fmt: skip
    status, _, err = record(
        capsys, env, "meeting", "topic_study", "general-office", "x", "--date", "2026-09-04",
        "--attendee", "p010", "--actor", "p014",
    )  # fmt: skip
    assert status == 2
    assert "p014" in err


def test_an_incident_reported_late_is_flagged_late(
    capsys: pytest.CaptureFixture[str], env: list[str]
) -> None:
    status, out, err = record(
        capsys, env, "incident", "s0002", "accident", "学生课间摔伤",
        "--occurred", "2026-09-10T10:00:00+08:00", "--injuries", "1",
        "--actor", "p011", "--at", "2026-09-10T10:20:00+08:00",
    )  # fmt: skip
    assert status == 0, err
    assert (out["grade"], out["flags"]) == ("general", [])
    status, out, _ = record(
        capsys, env, "incident-report", str(out["incident"]), "initial", "--text", "初报",
        "--actor", "p011", "--at", "2026-09-10T12:00:00+08:00",
    )  # fmt: skip
    assert status == 0
    flags = out["flags"]
    assert isinstance(flags, list)
    assert [(f["kind"], f["stage"]) for f in flags] == [("late", "initial")]
    assert out["deadlines"] == {
        "initial": "2026-09-10T11:00:00+08:00",
        "final": "2026-10-10T10:00:00+08:00",
    }


def test_a_ledger_round_trip_and_a_bad_ledger_through_the_command_line(
    capsys: pytest.CaptureFixture[str], env: list[str], tmp_path: Path
) -> None:
    import csv

    record(capsys, env, "hazard", "s0002", "外墙瓷砖空鼓", "--severity", "major",
           "--actor", "p011", "--at", "2026-09-01T09:00:00+08:00")  # fmt: skip
    record(capsys, env, "hazard", "s0002", "楼梯扶手松动", "--actor", "p011",
           "--at", "2026-09-02T09:00:00+08:00")  # fmt: skip
    ledger = tmp_path / "隐患台账.csv"
    capsys.readouterr()
    as_of = ["--as-of", "2026-10-01T00:00:00+08:00"]  # the computed columns' time
    assert main(["ledger", "export", "hazards", *env, "-o", str(ledger), *as_of]) == 0
    other = ["--db", f"sqlite:///{tmp_path / 'other.db'}", env[2], env[3]]
    capsys.readouterr()
    args = ["ledger", "import", "hazards", str(ledger), *other, "--actor", "p008"]
    assert main([*args, "--format", "json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["added"], done["records"]) == (["hz-00001", "hz-00002"], 2)
    again = tmp_path / "again.csv"
    assert main(["ledger", "export", "hazards", *other, "-o", str(again), *as_of]) == 0
    assert again.read_bytes() == ledger.read_bytes()

    # Two bad rows: nothing is written, both rows and columns are named.
    with ledger.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    rows[1][header.index("隐患等级")] = "严重"
    rows[2][header.index("发现人")] = "p999"
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    fresh = ["--db", f"sqlite:///{tmp_path / 'fresh.db'}", env[2], env[3]]
    capsys.readouterr()
    assert main(["ledger", "import", "hazards", str(bad), *fresh, "--actor", "p008"]) == 2
    err = capsys.readouterr().err
    assert "row 2, column 隐患等级" in err
    assert "row 3, column 发现人" in err
    assert "Traceback" not in err
    with open_store(fresh[1], readonly=True) as store:
        assert len(store) == 0


def test_the_quarterly_report_is_drafted_from_the_record_and_submitted(
    capsys: pytest.CaptureFixture[str], env: list[str], tmp_path: Path
) -> None:
    record(capsys, env, "inspection", "s0002", "--holder", "general-office",
           "--date", "2026-08-20", "--finding", "消防通道堵塞=general", "--actor", "p011",
           "--at", "2026-08-20T16:00:00+08:00")  # fmt: skip
    now = ["--now", "2026-10-05T00:00:00+08:00"]
    base = ["report", "quarter", *env, "--unit", "general-office", "--quarter", "2026Q3", *now]
    capsys.readouterr()
    assert main([*base, "--format", "json"]) == 0
    figures = json.loads(capsys.readouterr().out)["figures"]
    assert figures["visits_due"] == 2
    assert figures["visits_done"] == 0
    assert figures["hazards_found"] == 1
    html = tmp_path / "q3.html"
    assert main([*base, "-o", str(html)]) == 0
    text = html.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "hz-00001" in text
    assert "<script" not in text
    # Submitting is a record with its time: five days after the due date, it is late.
    assert main([*base, "--submit"]) == 2
    assert "--submit needs --actor" in capsys.readouterr().err
    assert main([*base, "--submit", "--actor", "p010"]) == 0
    assert "submitted as" in capsys.readouterr().err
    later = ["--now", "2026-10-06T00:00:00+08:00"]  # the view leaves out records from now on
    assert main(["compliance", *env, "--year", "2026", *later, "--format", "json"]) == 0
    (row,) = [
        r for r in json.loads(capsys.readouterr().out)["sections"]
        if r["section"] == "general-office"
    ]  # fmt: skip
    assert row["reports"]["late"] == 1
    assert row["hazards"]["overdue"] == 1
    assert main(["verify", "--db", env[1]]) == 0


def test_assess_ranks_the_sections_and_explains_one(
    capsys: pytest.CaptureFixture[str], env: list[str], tmp_path: Path
) -> None:
    record(capsys, env, "hazard", "s0002", "楼梯扶手松动", "--actor", "p011",
           "--at", "2026-03-02T09:00:00+08:00")  # fmt: skip
    now = ["--now", "2027-01-10T00:00:00+08:00"]
    capsys.readouterr()
    assert main(["assess", *env[:4], "--year", "2026", *now, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["year"] == 2026
    ranking = report["ranking"]
    assert [r["rank"] for r in ranking] == list(range(1, len(ranking) + 1))
    assert set(report["excellent"]) <= {r["unit"] for r in ranking}
    first = ranking[0]["items"][0]
    assert {"rule", "clause", "points", "max_points", "evidence", "reason"} <= set(first)
    args = ["assess", *env[:4], "--year", "2026", *now, "--explain", "general-office"]
    assert main([*args, "--format", "json"]) == 0
    (office,) = json.loads(capsys.readouterr().out)["ranking"]
    hazards = next(i for i in office["items"] if i["rule"] == "hazards_rectified")
    assert hazards["evidence"] == ["hz-00001"]  # found in March, never closed: overdue
    assert hazards["points"] < hazards["max_points"]
    # A bad rubric: every problem with its path, exit 2, no traceback.
    bad = tmp_path / "rubric.toml"
    bad.write_text('id = "x"\nname = "局规则"\n[[items]]\nid = "visits"\nmax_points = -5\n')
    assert main(["assess", *env[:4], "--year", "2026", "--rubric", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "items[0].max_points" in err
    assert "categories: required field missing" in err
    assert "Traceback" not in err


def test_assess_publishes_and_shows_what_a_late_record_changed(
    capsys: pytest.CaptureFixture[str], env: list[str], tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    record(capsys, env, "hazard", "s0002", "楼梯扶手松动", "--actor", "p011",
           "--at", "2026-03-02T09:00:00+08:00")  # fmt: skip
    now = ["--now", "2027-01-10T00:00:00+08:00"]
    args = ["assess", *env[:4], "--year", "2026", *now]
    assert main([*args, "--publish"]) == 2
    assert "--publish needs --actor" in capsys.readouterr().err
    size = count(env)
    assert main([*args, "--publish", "--actor", "p011"]) == 2  # section staff may not
    assert "PermissionDenied" not in capsys.readouterr().err
    assert count(env) == size
    xlsx = tmp_path / "考核.xlsx"
    assert main([*args, "--publish", "--actor", "p007", "--xlsx", str(xlsx)]) == 0
    out = capsys.readouterr().out
    assert "published as record #" in out
    book = load_workbook(xlsx, read_only=True)
    assert book.sheetnames[:3] == ["排名", "明细", "否决"]
    rows = list(book["排名"].iter_rows(values_only=True))
    assert rows[0][:5] == ("名次", "单位编号", "单位", "总分", "等次")
    assert [r[0] for r in rows[1:]] == list(range(1, len(rows)))
    # The general office's 2026 targets, set in February, entered only now: filed late.
    status, _, _ = record(
        capsys, env, "targets", "general-office", "--year", "2026", "--actor", "p010",
        "--safety", "分包学校安全稳定工作与业务同部署、同检查、同考核、同奖惩",
        "--date", "2026-02-20", "--at", "2026-02-20T09:00:00+08:00",
    )  # fmt: skip
    assert status == 0
    assert main([*args, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    changes = report["changes"]
    (unit,) = changes["units"]
    (item,) = unit["items"]
    assert (unit["unit"], item["rule"], item["causes"]) == (
        "general-office",
        "annual_targets",
        ["late_record"],
    )
    assert item["after"] - item["before"] == 3  # 3 − 3 × 1 = 0 → 3
    assert changes["late"] == item["late"]
    assert len(item["late"]) == 1
    assert main([*args, "--publish", "--actor", "p007"]) == 0
    out = capsys.readouterr().out
    assert "annual_targets: 0 → 3 (late record; filed late: #" in out
    assert "published as record #" in out
    assert main([*args, "--publish", "--actor", "p007"]) == 0
    assert "unchanged since publication #" in capsys.readouterr().out
    assert main(["verify", "--db", env[1]]) == 0
