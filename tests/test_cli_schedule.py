"""``dualduty schedule``: plan, check, export; the exit codes and the JSON shape."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import dualduty
from dualduty.cli import main

DOCS = Path(__file__).parent.parent / "docs" / "how-to"


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bureau") / "bureau.toml"
    dualduty.dump(dualduty.reference_organisation(schools=60), path)
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    status = main(["schedule", *args, "--format", "json"])
    out = capsys.readouterr().out
    return status, json.loads(out) if out else {}


def test_plans_a_year_without_violations(bureau: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = run_json(capsys, str(bureau), "--year", "2026")
    assert status == 0
    assert report["violations"] == []
    visits = report["visits"]
    assert isinstance(visits, list)
    # every package: 2 visits a quarter at each of its schools
    org = dualduty.load(bureau)
    pairs = sum(len(p.schools) for p in org.packages)
    assert len(visits) == pairs * 2 * 4
    first = visits[0]
    assert list(first)[:7] == ["id", "school", "holder", "date", "inspectors", "announced", "joint"]
    meeting = report["meetings"][0]  # type: ignore[index]
    assert list(meeting)[:4] == ["id", "kind", "unit", "date"]
    deadline = report["deadlines"][0]  # type: ignore[index]
    assert list(deadline)[:4] == ["id", "kind", "unit", "due"]


def test_one_quarter(bureau: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = run_json(capsys, str(bureau), "--year", "2026", "--quarter", "3")
    assert status == 0
    dates = [v["date"] for v in report["visits"]]  # type: ignore[attr-defined]
    assert dates
    assert min(dates) >= "2026-07-01"
    assert max(dates) <= "2026-09-30"


def test_a_year_without_holiday_data_exits_2_saying_how_to_supply_it(
    bureau: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schedule", str(bureau), "--year", "2027"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no statutory holiday data for 2027" in captured.err
    assert "--holidays FILE" in captured.err
    assert "Traceback" not in captured.err


def test_with_a_holiday_file_2027_works(bureau: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = run_json(
        capsys, str(bureau), "--year", "2027", "--holidays", str(DOCS / "holidays-2027.toml")
    )
    assert status == 0
    assert report["year"] == 2027
    assert report["violations"] == []
    dates = {v["date"] for v in report["visits"]}  # type: ignore[attr-defined]
    assert "2027-10-01" not in dates  # 国庆节 in the example file


def test_check_finds_a_moved_and_a_deleted_visit(
    bureau: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planned = tmp_path / "planned.csv"
    assert main(["schedule", str(bureau), "--year", "2026", "--csv", str(planned)]) == 0
    with planned.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    day, kind = header.index("日期"), header.index("类型")
    visits = [r for r in body if r[kind] == "专门督查"]
    moved = next(r for r in visits if r[day] < "2026-04-01")
    moved[day] = "2026-10-01"  # 国庆节
    deleted = next(r for r in visits if r is not moved and r[day] < "2026-04-01")
    body.remove(deleted)
    edited = tmp_path / "edited.csv"
    with edited.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([header, *body])
    status, report = run_json(capsys, str(bureau), "--year", "2026", "--check", str(edited))
    assert status == 1
    violations = report["violations"]
    assert isinstance(violations, list)
    kinds = {(v["kind"], v["subject"]) for v in violations}
    assert ("holiday", moved[0]) in kinds
    assert any(v["kind"] == "missing_visit" and deleted[4] in v["message"] for v in violations)


def test_ics_export_and_text_output(
    bureau: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from icalendar import Calendar

    out = tmp_path / "ics"
    args = ["schedule", str(bureau), "--year", "2026", "--quarter", "1", "--ics", str(out)]
    stamp = ["--stamp", "2026-01-01T08:00:00+08:00"]
    assert main([*args, *stamp]) == 0
    text = capsys.readouterr().out
    assert "violations: 0" in text
    assert "written:" in text
    files = sorted(out.glob("*.ics"))
    assert files
    first = {p.name: p.read_bytes() for p in files}
    for data in first.values():
        Calendar.from_ical(data)
    assert main([*args, *stamp]) == 0
    assert {p.name: p.read_bytes() for p in sorted(out.glob("*.ics"))} == first


@pytest.mark.parametrize("bad", [["--quarter", "5"], ["--year", "1900"], ["--stamp", "noon"]])
def test_bad_arguments_exit_2(bureau: Path, bad: list[str]) -> None:
    args = ["schedule", str(bureau), "--year", "2026", *bad]
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2


def test_check_of_a_file_of_unknown_format(
    bureau: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = tmp_path / "schedule.txt"
    odd.write_text("x", encoding="utf-8")
    assert main(["schedule", str(bureau), "--year", "2026", "--check", str(odd)]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
