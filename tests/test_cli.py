"""The ``dualduty`` command: exit codes, output formats, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

import dualduty
import dualduty.coverage
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
    assert [g for g in report["gaps"] if g["severity"] == "error"] == []
    assert all(
        set(g) == {"kind", "severity", "subject", "clause", "message"} for g in report["gaps"]
    )
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


# -- dualduty verify -------------------------------------------------------------------------


def make_store(path: Path, n: int = 5) -> list[str]:
    """A SQLite store of *n* notes at *path*; return the entries' hashes."""
    import datetime as dt

    from dualduty.records import Note, Record
    from dualduty.storage import open_store

    at = dt.datetime(2025, 6, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with open_store(f"sqlite:///{path}") as store:
        entries = store.append(
            *(Record.of(Note(f"第{i}次检查"), actor="zhao", at=at) for i in range(1, n + 1))
        )
    return [e.hash for e in entries]


def tamper(path: Path, sql: str, *params: object) -> None:
    """Change the SQLite file behind dualduty's back (its append-only triggers dropped)."""
    import sqlite3

    db = sqlite3.connect(path)
    with db:
        db.execute("DROP TRIGGER IF EXISTS records_no_update")
        db.execute("DROP TRIGGER IF EXISTS records_no_delete")
        db.execute(sql, params)
    db.close()


def test_verify_an_intact_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "records.db"
    hashes = make_store(db)
    url = f"sqlite:///{db}"
    assert main(["verify", "--db", url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{url} is intact: 5 entries checked",
        f"  head  {hashes[-1]}",
    ]
    assert main(["verify", "--db", url, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "url": url,
        "intact": True,
        "checked": 5,
        "total": 5,
        "head": hashes[-1],
        "first_bad": None,
        "reason": None,
    }


def test_verify_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    make_store(db)
    before = db.read_bytes()
    done = run_cli("verify", "--db", f"sqlite:///{db}")
    assert done.returncode == 0, done.stderr
    assert db.read_bytes() == before


def test_verify_names_the_first_edited_entry(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    hashes = make_store(db)
    tamper(
        db, "UPDATE records SET body = CAST(replace(body, '第3次', '第9次') AS BLOB) WHERE seq = 3"
    )
    url = f"sqlite:///{db}"
    done = run_cli("verify", "--db", url)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines() == [
        f"{url} is NOT INTACT: entry 3 of 5 does not match",
        "  why   entry 3: its content does not match its hash (altered after writing)",
        f"  good  entries 1 to 2 (head {hashes[1]})",
    ]
    done = run_cli("verify", "--db", url, "--format", "json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert (report["intact"], report["checked"], report["first_bad"]) == (False, 2, 3)


def test_verify_fails_closed_on_content_it_cannot_read(tmp_path: Path) -> None:
    """An edit that stores text where bytes belong is reported, not a traceback."""
    db = tmp_path / "records.db"
    make_store(db)
    tamper(db, "UPDATE records SET body = replace(body, '第3次', '第9次') WHERE seq = 3")
    done = run_cli("verify", "--db", f"sqlite:///{db}")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith(f"sqlite:///{db} is NOT INTACT: ")


def test_verify_detects_a_rehashed_edit_at_the_next_entry(tmp_path: Path) -> None:
    """An editor who recomputes the hash of the entry they changed breaks the link after it."""
    import hashlib
    import sqlite3

    db = tmp_path / "records.db"
    make_store(db)
    conn = sqlite3.connect(db)
    (body,) = conn.execute("SELECT body FROM records WHERE seq = 1").fetchone()
    conn.close()
    forged = bytes(body).replace("第1次".encode(), "第7次".encode())
    digest = hashlib.sha256(forged).hexdigest()
    tamper(db, "UPDATE records SET body = ?, hash = ? WHERE seq = 1", forged, digest)
    done = run_cli("verify", "--db", f"sqlite:///{db}", "--format", "json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["first_bad"] == 2
    assert report["checked"] == 1
    assert report["head"] == digest
    assert report["reason"] == "entry 2: does not follow the entry before (chain broken)"


def test_verify_cannot_see_a_cut_off_tail_but_the_head_moves(tmp_path: Path) -> None:
    """Deleting the last entries leaves a valid chain; only a published head shows it."""
    db = tmp_path / "records.db"
    hashes = make_store(db)
    tamper(db, "DELETE FROM records WHERE seq > 3")
    done = run_cli("verify", "--db", f"sqlite:///{db}", "--format", "json")
    assert done.returncode == 0
    report = json.loads(done.stdout)
    assert (report["checked"], report["head"]) == (3, hashes[2])
    assert report["head"] != hashes[-1]


def test_verify_a_damaged_file(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    make_store(db, 3000)
    with db.open("r+b") as f:  # overwrite pages in the middle of the file
        f.seek(db.stat().st_size // 2)
        f.write(b"\xff" * 8192)
    done = run_cli("verify", "--db", f"sqlite:///{db}")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "is NOT INTACT: the store cannot be read to its end: DatabaseError: " in done.stdout


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgres://db/records", "no storage plugin opens 'postgres' URLs"),
        ("sqlite:///{tmp}/missing.db", "store sqlite:///{tmp}/missing.db: no such file"),
        ("sqlite:///{tmp}/no/dir.db", "the directory '{tmp}/no' does not exist"),
        ("sqlite:///{tmp}/text.db", "not a SQLite database"),
        ("sqlite://records.db", "not a SQLite store URL"),
    ],
)
def test_verify_a_store_that_cannot_be_opened_exits_2(
    tmp_path: Path, url: str, message: str
) -> None:
    (tmp_path / "text.db").write_text("not a database, just text " * 100, encoding="utf-8")
    done = run_cli("verify", "--db", url.format(tmp=tmp_path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("dualduty: ")
    assert message.format(tmp=tmp_path) in done.stderr
    assert not (tmp_path / "missing.db").exists()


def test_verify_needs_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["verify"])
    assert exc.value.code == 2
    assert "--db" in capsys.readouterr().err


# -- dualduty plugins --------------------------------------------------------------------------


def test_plugins_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"dualduty.builtin {dualduty.__version__}",
        "  dualduty_open_store",
        "  dualduty_register_calendars",
        "  dualduty_register_channel_types",
        "  dualduty_register_channels",
        "  dualduty_register_package_solvers",
        "  dualduty_register_record_kinds",
    ]


def test_version_stays_free_of_imports() -> None:
    code = (
        "import sys\nfrom dualduty.cli import main\nmain(['--version'])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('dualduty.', 'pluggy', 'argparse'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "['dualduty._version', 'dualduty.cli']"


def _without(org: dualduty.Organisation, change: str) -> dualduty.Organisation:
    import attrs

    if change == "duty":  # planning's duty on its buildings area goes
        units = tuple(
            attrs.evolve(u, duties=tuple(d for d in u.duties if d.id != "planning.1"))
            if u.id == "planning"
            else u
            for u in org.units
        )
        return attrs.evolve(org, units=units)
    if change == "package":
        return attrs.evolve(org, packages=tuple(p for p in org.packages if p.id != "pkg-audit"))
    edges = tuple(
        attrs.evolve(e, units=tuple(u for u in e.units if u != "audit")) for e in org.in_charge
    )
    return attrs.evolve(org, in_charge=edges)


@pytest.mark.parametrize(
    ("change", "kind", "clause"),
    [
        ("duty", "uncovered_area", "二(三).2"),
        ("package", "no_section_package", "三.1"),
        ("in_charge", "not_in_charge", "二(二)"),
    ],
)
def test_check_reports_exactly_the_gap_and_exits_1(
    tmp_path: Path, change: str, kind: str, clause: str
) -> None:
    org = dualduty.reference_organisation(schools=300)
    path = tmp_path / "org.toml"
    dualduty.dump(_without(org, change), path)
    done = run_cli("check", str(path), "--format", "json")
    assert done.returncode == 1, done.stderr
    errors = [g for g in json.loads(done.stdout)["gaps"] if g["severity"] == "error"]
    assert errors
    assert {(g["kind"], g["clause"]) for g in errors} == {(kind, clause)}
    text = run_cli("check", str(path))
    assert text.returncode == 1
    assert f"[{clause}]" in text.stdout


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path: Path) -> None:
    # 3,000 schools without packages: 6,000 gap lines, far more than a pipe buffer holds
    org = dualduty.reference_organisation(schools=3000)
    path = tmp_path / "unpackaged.toml"
    dualduty.dump(attrs.evolve(org, packages=()), path)
    with subprocess.Popen(
        [sys.executable, "-m", "dualduty", "check", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        assert b"unpackaged.toml: valid" in proc.stdout.read(200)
        proc.stdout.close()  # like `dualduty check unpackaged.toml | head -c 200`
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 141
    assert err == ""


def check_json(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, str]]]:
    capsys.readouterr()
    status = main(["check", str(path), "--format", "json"])
    gaps: list[dict[str, str]] = json.loads(capsys.readouterr().out)["gaps"]
    return status, gaps


@pytest.mark.parametrize("schools", [120, 300])
def test_packages_then_check(
    schools: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org = dualduty.reference_organisation(schools=schools, seed=3)
    unpackaged = tmp_path / "unpackaged.toml"
    dualduty.dump(attrs.evolve(org, packages=()), unpackaged)
    status, gaps = check_json(unpackaged, capsys)
    assert status == 1
    assert {g["kind"] for g in gaps} == {"no_leader_package", "no_section_package"}
    planned = tmp_path / "planned.json"
    assert main(["packages", str(unpackaged), "-o", str(planned)]) == 0
    status, gaps = check_json(planned, capsys)
    assert status == 0
    if schools == 120:
        assert gaps == []  # nothing left at all
    else:
        # 300 schools x 2 visits a quarter over 6 leading-group posts is 100 visits each,
        # above the capacity of 60 whatever the plan: the only warnings left say so
        assert {g["kind"] for g in gaps} == {"over_capacity"}
        assert gaps
        assert {g["subject"] for g in gaps} <= {
            f"post:{p.id}" for u in org.units if u.kind.value == "leading_group" for p in u.posts
        }


def test_packages_into_a_missing_directory_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bureau.toml"
    assert main(["reference", "--schools", "20", "-o", str(path)]) == 0
    capsys.readouterr()
    target = tmp_path / "missing" / "planned.toml"
    assert main(["packages", str(path), "-o", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("dualduty: cannot write")
    assert str(target) in captured.err
    assert not target.parent.exists()
