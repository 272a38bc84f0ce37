"""``dualduty demo``: the main job from the reference organisation to the year report."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualduty.cli import main
from dualduty.storage import open_store

FILES = ("dualduty.db", "organisation.toml", "schedule.csv", "schedule.ics", "report.html")


def demo(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> str:
    capsys.readouterr()
    assert main(["demo", "--out", str(out), "--schools", "40", *args]) == 0
    return capsys.readouterr().out


def test_the_demo_runs_to_its_ranking_and_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = demo(capsys, tmp_path / "d")
    for name in (*FILES, "notifications.log"):
        assert (tmp_path / "d" / name).stat().st_size > 0, name
    assert "excellent sections (优秀科室):" in out
    assert "★ 优秀科室" in out
    assert "year report written" in out
    assert "2 changes of responsibility (责任变更 2 项)" in out
    with open_store(f"sqlite:///{tmp_path / 'd' / 'dualduty.db'}", readonly=True) as store:
        assert store.verify().ok
        kinds = {e.record.kind for e in store.read()}
        assert {"inspection", "hazard-closed", "incident-recorded", "assessment-published"} <= kinds
        # the mid-year reorganisation: a package moved, a head's post handed to a newcomer
        assert {"package-changed", "person-joined", "post-assigned"} <= kinds
        assert store.outbox(state="pending") == []  # every notification was delivered
    log = (tmp_path / "d" / "notifications.log").read_text("utf-8")
    assert "重大隐患" in log or "事故" in log
    html = (tmp_path / "d" / "report.html").read_text("utf-8")
    assert "<svg" in html
    assert "http://" not in html
    assert not list((tmp_path / "d").glob(".*.tmp"))  # nothing half-written left


def test_the_same_seed_gives_the_same_year_and_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    demo(capsys, tmp_path / "a", "--seed", "2")
    demo(capsys, tmp_path / "b", "--seed", "2")
    heads = []
    for run in ("a", "b"):
        with open_store(f"sqlite:///{tmp_path / run / 'dualduty.db'}", readonly=True) as s:
            heads.append(s.head())
    assert heads[0] == heads[1]
    for name in ("report.html", "schedule.csv", "organisation.toml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_running_again_replaces_its_own_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    demo(capsys, tmp_path / "d")
    demo(capsys, tmp_path / "d")
    with open_store(f"sqlite:///{tmp_path / 'd' / 'dualduty.db'}", readonly=True) as store:
        assert sum(1 for _ in store.read(kind="assessment-published")) == 1


def test_a_store_given_by_url_must_be_empty(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    demo(capsys, tmp_path / "d", "--db", url)
    assert main(["demo", "--out", str(tmp_path / "e"), "--schools", "40", "--db", url]) == 2
    err = capsys.readouterr().err
    assert "needs an empty store" in err
    assert "Traceback" not in err


def test_the_demo_without_the_reorganisation(tmp_path: Path) -> None:
    from dualduty.demo import run_demo
    from dualduty.records.timeline import CHANGE_KINDS

    lines: list[str] = []
    result = run_demo(tmp_path / "d", schools=12, say=lines.append, reorganise=False)
    assert result.changes == 0
    assert not [line for line in lines if "changes of responsibility" in line]
    with open_store(result.db, readonly=True) as store:
        assert not [e for e in store.read() if e.record.kind in CHANGE_KINDS]
