"""The ``dualduty`` command: exit codes, output formats, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import dualduty
from dualduty.cli import main

BAD = """\
id = "bureau"
name = "区教育局"

[[units]]
id = "planning"
name = "规划科"
kind = "section"

[[units.areas]]
id = "buildings"
name = "校舍"

[[units.duties]]
id = "planning.1"
text = "校舍安全年检"
clause = "二(四).规划科.1"
area = "exam"

[[schools]]
id = "s1"
name = "第一小学"
level = "primry"

[[packages]]
id = "pkg"
holder = "planning"
schools = ["s2"]
"""


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command line in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "dualduty", *args], capture_output=True, text=True, check=False
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"dualduty {dualduty.__version__}\n"


def test_reference_then_check_json(tmp_path: Path) -> None:
    out = tmp_path / "ref.toml"
    done = run_cli("reference", "-o", str(out))
    assert done.returncode == 0, done.stderr
    done = run_cli("check", str(out), "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["valid"] is True
    assert report["problems"] == []
    assert report["gaps"] == []
    counts = report["counts"]
    assert set(counts) == {
        "units",
        "sections",
        "posts",
        "people",
        "duties",
        "section_duties",
        "schools",
        "packages",
    }
    assert counts["sections"] == 23
    assert counts["section_duties"] == 65
    # 3 leading-group duties, 3 role duties, 4 common duties on top of the 65
    assert counts["duties"] == 65 + 3 + 3 + 4
    assert counts["schools"] == 120


def test_reference_options_and_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ref.json"
    assert main(["reference", "--schools", "7", "--seed", "3", "-o", str(out)]) == 0
    org = dualduty.load(out)
    assert len(org.schools) == 7
    assert org == dualduty.reference_organisation(schools=7, seed=3)
    assert main(["reference", "--schools", "2", "--format", "yaml"]) == 0
    assert "reference-bureau" in capsys.readouterr().out


def test_check_text_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ref.toml"
    assert main(["reference", "--schools", "10", "-o", str(out)]) == 0
    assert main(["check", str(out)]) == 0
    text = capsys.readouterr().out
    assert "valid" in text
    assert "sections and centres: 23" in text
    assert "section duties 65" in text
    assert "safety 75" in text


def test_three_mistakes_exit_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    done = run_cli("check", str(bad))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert "3 problems" in done.stderr
    for path in ("units[0].duties[0].area", "schools[0].level", "packages[0].schools[0]"):
        assert f"{bad}: {path}: " in done.stderr
    assert "unknown business area 'exam'" in done.stderr

    done = run_cli("check", str(bad), "--format", "json")
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["valid"] is False
    assert [p["path"] for p in report["problems"]] == [
        "units[0].duties[0].area",
        "schools[0].level",
        "packages[0].schools[0]",
    ]


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    done = run_cli("check", str(tmp_path / "nope.toml"))
    assert done.returncode == 2
    assert "cannot read the file" in done.stderr
    assert "Traceback" not in done.stderr
    odd = tmp_path / "org.txt"
    odd.write_text("id = 'x'", encoding="utf-8")
    done = run_cli("check", str(odd))
    assert done.returncode == 2
    assert "cannot tell the format" in done.stderr


def test_reference_to_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    done = run_cli("reference", "-o", str(tmp_path / "no" / "such" / "dir.toml"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "cannot write" in done.stderr
    assert not (tmp_path / "no").exists()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["reference", "--schools", "-1"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    capsys.readouterr()
