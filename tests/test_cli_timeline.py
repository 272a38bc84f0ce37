"""``dualduty who`` and ``dualduty org …`` (issue 11 item 1): who answered for a school on a
date, and the changes to the organisation recorded from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import dualduty
from dualduty.cli import main
from dualduty.storage import open_store

ORG = dualduty.reference_organisation(schools=3)
LEADER = "p001"  # holds 局长 (director), the leading group's leader
AT = "2026-06-20T09:00:00+08:00"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    org = tmp_path / "bureau.toml"
    dualduty.dump(ORG, org)
    db = f"sqlite:///{tmp_path / 'records.db'}"
    with open_store(db):
        pass  # an empty store: `who` opens it read only
    return {"org": str(org), "db": db, "dir": str(tmp_path)}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def org_change(
    capsys: pytest.CaptureFixture[str], env: dict[str, str], *args: str
) -> dict[str, Any]:
    status, out, err = run(
        capsys, "org", *args, "--db", env["db"], "--org", env["org"], "--format", "json"
    )
    assert (status, err) == (0, "")
    result: dict[str, Any] = json.loads(out)
    return result


def who(capsys: pytest.CaptureFixture[str], env: dict[str, str], *args: str) -> dict[str, Any]:
    status, out, err = run(
        capsys, "who", "--org", env["org"], "--db", env["db"], *args, "--format", "json"
    )
    assert (status, err) == (0, "")
    result: dict[str, Any] = json.loads(out)
    return result


def move_the_package(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> dict[str, Any]:
    """The acceptance scenario's change: 办公室's package of s0002 goes to 政教科 on 30 June."""
    return org_change(
        capsys, env, "package", "--package", "pkg-general-office", "--holder", "moral-education",
        "--schools", "s0002", "--staff", "moral-education.staff-1,moral-education.staff-2",
        "--date", "2026-06-30", "--reason", "分包调整", "--actor", LEADER, "--at", AT,
    )  # fmt: skip


def section_chain(result: dict[str, Any]) -> dict[str, Any]:
    chains: list[dict[str, Any]] = [c for c in result["chains"] if c["basis"] == "section_package"]
    [chain] = chains
    return chain


def entries(env: dict[str, str]) -> int:
    with open_store(env["db"], readonly=True) as store:
        return len(store)


# -- the acceptance scenario ---------------------------------------------------------------------


def test_who_names_the_section_in_force_on_each_date(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    recorded = move_the_package(capsys, env)
    assert recorded["kind"] == "package-changed"
    assert recorded["effective"] == "2026-06-30"
    assert recorded["actor"] == LEADER
    seq = recorded["seq"]

    before = section_chain(who(capsys, env, "--school", "s0002", "--date", "2026-05-10"))
    assert (before["unit"], before["package"]) == ("general-office", "pkg-general-office")
    assert [link["post"] for link in before["links"]] == [
        "general-office.staff-1",
        "general-office.staff-2",
        "general-office.head",
        "deputy-3",
        "director",
    ]
    assert all(m["source"] == "file" for m in before["made_by"])

    after = section_chain(who(capsys, env, "--school", "s0002", "--date", "2026-08-10"))
    assert (after["unit"], after["package"]) == ("moral-education", "pkg-general-office")
    assert [link["level"] for link in after["links"]] == [
        "staff", "staff", "section_head", "in_charge", "leader",
    ]  # fmt: skip
    assert after["links"][3]["post"] == "deputy-1"  # 政教科's deputy in charge
    [by_record] = [m for m in after["made_by"] if m["source"] == "record"]
    assert by_record["subject"] == "package:pkg-general-office"
    assert by_record["seq"] == seq
    assert (by_record["kind"], by_record["effective"], by_record["reason"]) == (
        "package-changed",
        "2026-06-30",
        "分包调整",
    )
    assert (by_record["actor"], by_record["actor_name"], by_record["at"]) == (LEADER, "孟爱华", AT)
    # the day before the move the package is still 办公室's; on the day, 政教科's
    on_29 = section_chain(who(capsys, env, "--school", "s0002", "--date", "2026-06-29"))
    on_30 = section_chain(who(capsys, env, "--school", "s0002", "--date", "2026-06-30"))
    assert (on_29["unit"], on_30["unit"]) == ("general-office", "moral-education")


def test_who_as_text_names_the_record_and_the_district_file(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    seq = move_the_package(capsys, env)["seq"]
    args = ["who", "--org", env["org"], "--db", env["db"], "--school", "s0002"]
    status, out, err = run(capsys, *args, "--date", "2026-08-10")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert (
        lines[0]
        == "南关街道第一初级中学 (s0002) on 2026-08-10: 2 chain(s) of responsibility (责任链)"
    )
    assert "2. section package (科室分包) pkg-general-office: 政教科 (moral-education)" in lines
    head = next(p for _u, p in ORG.iter_posts() if p.id == "moral-education.head")
    name = next(p.name for p in ORG.people if p.id == head.holder)
    row = f"   section_head 科室负责人 政教科科长 (moral-education.head), 政教科: {name}"
    assert f"{row} ({head.holder})" in lines
    assert (
        f"     record {seq} package:pkg-general-office: package-changed, effective 2026-06-30, "
        f"recorded {AT} by {LEADER} 孟爱华 — 分包调整"
    ) in lines
    assert any(line.startswith("     district file (组织文件): post:") for line in lines)
    status, before, _ = run(capsys, *args, "--date", "2026-05-10")
    assert status == 0
    assert "2. section package (科室分包) pkg-general-office: 办公室 (general-office)" in before
    assert "record" not in before


def test_a_vacancy_shows_as_vacant_with_the_record_that_left_it(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    vacated = org_change(
        capsys, env, "vacate", "--post", "general-office.head", "--date", "2026-07-15",
        "--reason", "调离", "--actor", LEADER, "--at", AT,
    )  # fmt: skip
    assert vacated["data"] == {"post": "general-office.head", "holder": None}
    assert vacated["what"].endswith("→ 空缺")
    chain = section_chain(who(capsys, env, "--school", "s0002", "--date", "2026-08-10"))
    head = next(link for link in chain["links"] if link["level"] == "section_head")
    assert (head["post"], head["person"], head["name"], head["vacant"]) == (
        "general-office.head",
        None,
        None,
        True,
    )
    assert chain["complete"] is False
    assert chain["missing"] == ["section_head"]
    made = {m["subject"]: m for m in chain["made_by"]}
    assert made["post:general-office.head"]["seq"] == vacated["seq"]
    assert made["post:general-office.staff-1"] == {
        "subject": "post:general-office.staff-1",
        "source": "file",
    }
    status, out, _ = run(
        capsys, "who", "--org", env["org"], "--db", env["db"], "--school", "s0002",
        "--date", "2026-08-10",
    )  # fmt: skip
    assert status == 0
    assert (
        "   section_head 科室负责人 办公室主任 (general-office.head), 办公室: 空缺 (vacant)" in out
    )
    assert "   incomplete: no holder at section_head" in out
    # before the vacancy the head answered
    earlier = section_chain(who(capsys, env, "--school", "s0002", "--date", "2026-07-14"))
    assert earlier["complete"] is True


def test_a_successor_who_joined_and_a_new_deputy_in_charge_are_on_the_chain(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    joined = org_change(
        capsys, env, "join", "--person", "p090", "--name", "钱立新", "--email",
        "qian@example.org", "--date", "2026-09-01", "--reason", "调入", "--actor", LEADER,
        "--at", AT,
    )  # fmt: skip
    assert joined["data"] == {
        "person": "p090",
        "name": "钱立新",
        "phone": None,
        "email": "qian@example.org",
    }
    assigned = org_change(
        capsys, env, "assign", "--post", "general-office.head", "--person", "p090",
        "--date", "2026-09-01", "--actor", LEADER, "--at", AT,
    )  # fmt: skip
    # 办公室 moves from deputy-3 to deputy-1
    to_deputy_1 = org_change(
        capsys, env, "in-charge", "--post", "deputy-1", "--units",
        "basic-education,moral-education,private-education,teaching-research,admissions,"
        "equipment-station,youth-centre,general-office",
        "--date", "2026-09-01", "--actor", LEADER, "--at", AT,
    )  # fmt: skip
    from_deputy_3 = org_change(
        capsys, env, "in-charge", "--post", "deputy-3", "--units",
        "regulation-safety,planning,finance,logistics-centre,student-aid-centre",
        "--date", "2026-09-01", "--actor", LEADER, "--at", AT,
    )  # fmt: skip
    assert to_deputy_1["data"]["units"][-1] == "general-office"
    chain = section_chain(who(capsys, env, "--school", "s0002", "--date", "2026-09-01"))
    by_level = {link["level"]: link for link in chain["links"]}
    assert (by_level["section_head"]["person"], by_level["section_head"]["name"]) == (
        "p090",
        "钱立新",
    )
    assert by_level["in_charge"]["post"] == "deputy-1"
    made = {m["subject"]: m["seq"] for m in chain["made_by"] if m["source"] == "record"}
    assert made == {
        "post:general-office.head": assigned["seq"],
        "person:p090": joined["seq"],
        "in_charge:deputy-1": to_deputy_1["seq"],
    }
    assert from_deputy_3["seq"] not in made.values()
    # the day before, the file's head and deputy-3
    old = section_chain(who(capsys, env, "--school", "s0002", "--date", "2026-08-31"))
    old_levels = {link["level"]: link["post"] for link in old["links"]}
    assert old_levels["in_charge"] == "deputy-3"
    assert all(m["source"] == "file" for m in old["made_by"])


def test_who_with_a_domain_adds_the_business_lines(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    result = who(capsys, env, "--school", "s0002", "--domain", "fire", "--date", "2026-05-10")
    assert (result["domain"], result["domain_name"]) == ("fire", "消防安全")
    graph = dualduty.OrgGraph(ORG)
    expected = [c.unit.id for c in graph.chains("s0002", "fire") if c.unit is not None]
    assert [c["unit"] for c in result["chains"] if c["unit"] is not None] == expected
    lines = [c for c in result["chains"] if c["basis"] == "business_line"]
    assert lines
    for chain in lines:
        assert chain["package"] is None
        assert chain["duties"]
        assert all(d["clause"].startswith("二(四).") for d in chain["duties"])


def test_who_json_shape(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
    move_the_package(capsys, env)
    result = who(capsys, env, "--school", "s0002", "--date", "2026-08-10")
    assert list(result) == ["school", "school_name", "domain", "domain_name", "date", "chains"]
    assert (result["school"], result["school_name"], result["date"]) == (
        "s0002",
        "南关街道第一初级中学",
        "2026-08-10",
    )
    assert (result["domain"], result["domain_name"]) == (None, None)
    leader, section = result["chains"]
    assert leader["basis"] == "leader_package"
    assert (leader["package"], leader["unit"], leader["unit_name"]) == (
        "pkg-lg-deputy-1",
        None,
        None,
    )
    assert list(section) == [
        "basis", "package", "unit", "unit_name", "duties", "complete", "missing", "links",
        "made_by",
    ]  # fmt: skip
    assert list(section["links"][0]) == [
        "level", "post", "title", "unit", "unit_name", "person", "name", "vacant", "reason",
        "clause",
    ]  # fmt: skip
    record = next(m for m in section["made_by"] if m["source"] == "record")
    assert list(record) == [
        "subject", "source", "seq", "kind", "effective", "actor", "actor_name", "at", "reason",
        "data",
    ]  # fmt: skip
    assert record["data"] == {
        "package": "pkg-general-office",
        "holder": "moral-education",
        "schools": ["s0002"],
        "places": [],
        "staff": ["moral-education.staff-1", "moral-education.staff-2"],
    }


def test_who_without_any_change_reads_the_district_file(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    result = who(capsys, env, "--school", "s0003", "--date", "2026-05-10")
    graph = dualduty.OrgGraph(ORG)
    assert [c["package"] for c in result["chains"]] == [
        c.package.id for c in graph.chains("s0003") if c.package is not None
    ]
    assert all(m["source"] == "file" for c in result["chains"] for m in c["made_by"])


# -- errors ---------------------------------------------------------------------------------------


def test_who_refuses_unknown_schools_and_domains_and_bad_input(
    capsys: pytest.CaptureFixture[str], env: dict[str, str], tmp_path: Path
) -> None:
    move_the_package(capsys, env)
    base = ["who", "--org", env["org"], "--db", env["db"], "--date", "2026-08-10"]
    cases = [
        (
            [*base, "--school", "s9999"],
            "dualduty: no school or place 's9999' in this organisation\n",
        ),
        (
            [*base, "--school", "s0002", "--domain", "weather"],
            "dualduty: no hazard domain 'weather'\n",
        ),
        (
            ["who", "--org", str(tmp_path / "none.toml"), "--db", env["db"], "--school", "s0002",
             "--date", "2026-08-10"],
            None,
        ),
        (
            ["who", "--org", env["org"], "--db", f"sqlite:///{tmp_path / 'none.db'}",
             "--school", "s0002", "--date", "2026-08-10"],
            f"dualduty: store sqlite:///{tmp_path / 'none.db'}: no such file\n",
        ),
    ]  # fmt: skip
    for args, message in cases:
        status, out, err = run(capsys, *args)
        assert status == 2, args
        assert out == ""
        assert "Traceback" not in err
        if message is not None:
            assert err == message
        else:
            assert err.startswith("dualduty: ")
            assert "none.toml" in err
    assert not (tmp_path / "none.db").exists()  # read only: nothing created
    with pytest.raises(SystemExit) as exc:
        main(["who", "--org", env["org"], "--db", env["db"], "--school", "s0002",
              "--date", "2026-13-01"])  # fmt: skip
    assert exc.value.code == 2
    assert "not a date as YYYY-MM-DD: '2026-13-01'" in capsys.readouterr().err


# -- dualduty org ---------------------------------------------------------------------------------


def test_a_change_that_does_not_fit_writes_nothing(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    move_the_package(capsys, env)
    assert entries(env) == 1
    base = ["--db", env["db"], "--org", env["org"], "--date", "2026-09-01", "--at", AT]
    refusals = [
        (
            ["org", "assign", "--post", "general-office.head", "--person", "p090", *base,
             "--actor", LEADER],
            "no person 'p090'",
        ),
        (["org", "vacate", "--post", "nowhere.head", *base, "--actor", LEADER], "'nowhere.head'"),
        (
            ["org", "package", "--package", "pkg-x", "--holder", "moral-education", "--schools",
             "s9999", *base, "--actor", LEADER],
            "s9999",
        ),
        (["org", "end-package", "--package", "pkg-none", *base, "--actor", LEADER], "'pkg-none'"),
        (
            ["org", "join", "--person", "p002", "--name", "史芳", *base, "--actor", LEADER],
            "'p002'",
        ),
        (
            # a section's staff member may not change the organisation
            ["org", "vacate", "--post", "general-office.head", *base, "--actor", "p011"],
            "p011 (办公室干事) may not change the organisation",
        ),
    ]  # fmt: skip
    for args, words in refusals:
        status, out, err = run(capsys, *args)
        assert status == 2, args
        assert out == ""
        assert err.startswith("dualduty: ")
        assert words in err, err
        assert "Traceback" not in err
    assert entries(env) == 1


def test_the_office_may_record_changes_and_the_effective_date_is_required(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    # 法规安全科's staff act for the leading group's office
    done = org_change(
        capsys, env, "vacate", "--post", "planning.staff-2", "--date", "2026-03-01",
        "--actor", "p008", "--at", AT,
    )  # fmt: skip
    assert done["actor"] == "p008"
    with pytest.raises(SystemExit) as exc:
        main(["org", "vacate", "--post", "planning.staff-2", "--db", env["db"], "--org",
              env["org"], "--actor", LEADER])  # fmt: skip
    assert exc.value.code == 2
    assert "--date" in capsys.readouterr().err


def test_in_charge_of_nothing_and_an_ended_package(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    none = org_change(
        capsys, env, "in-charge", "--post", "chief-inspector", "--units", "", "--date",
        "2026-10-01", "--actor", LEADER, "--at", AT,
    )  # fmt: skip
    assert none["data"] == {"post": "chief-inspector", "units": []}
    assert none["what"].endswith("→ 无")
    ended = org_change(
        capsys, env, "end-package", "--package", "pkg-lg-deputy-2", "--date", "2026-10-01",
        "--reason", "撤并", "--actor", LEADER, "--at", AT,
    )  # fmt: skip
    assert ended["kind"] == "package-ended"
    assert "停止" in ended["what"]
    before = who(capsys, env, "--school", "s0003", "--date", "2026-09-30")
    after = who(capsys, env, "--school", "s0003", "--date", "2026-10-01")
    assert [c["package"] for c in before["chains"]] == ["pkg-lg-deputy-2", "pkg-moral-education"]
    assert [c["package"] for c in after["chains"]] == ["pkg-moral-education"]
    org_change(
        capsys, env, "end-package", "--package", "pkg-moral-education", "--date", "2026-11-01",
        "--actor", LEADER, "--at", AT,
    )  # fmt: skip
    assert who(capsys, env, "--school", "s0003", "--date", "2026-11-01")["chains"] == []
    status, out, _ = run(
        capsys, "who", "--org", env["org"], "--db", env["db"], "--school", "s0003",
        "--date", "2026-11-01",
    )  # fmt: skip
    assert status == 0
    assert out.splitlines() == [
        "春苗幼儿园 (s0003) on 2026-11-01: 0 chain(s) of responsibility (责任链)",
        "  nobody: no package of the school is in force that day",
    ]


def test_org_text_output(capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
    status, out, err = run(
        capsys, "org", "package", "--package", "pkg-general-office", "--holder",
        "moral-education", "--schools", "s0002", "--date", "2026-06-30", "--reason", "分包调整",
        "--actor", LEADER, "--at", AT, "--db", env["db"], "--org", env["org"],
    )  # fmt: skip
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == (
        "recorded 1: 分包pkg-general-office（南关街道第一初级中学）：办公室 → 政教科, "
        "effective 2026-06-30"
    )
    assert "  kind             package-changed" in lines
    assert "  reason           分包调整" in lines


def test_history_lists_the_changes_by_effective_date(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    # recorded out of order: the vacancy (effective later) first
    vacated = org_change(
        capsys, env, "vacate", "--post", "general-office.head", "--date", "2026-07-15",
        "--reason", "调离", "--actor", LEADER, "--at", "2026-06-01T09:00:00+08:00",
    )  # fmt: skip
    moved = move_the_package(capsys, env)
    joined = org_change(
        capsys, env, "join", "--person", "p090", "--name", "钱立新", "--date", "2026-09-01",
        "--actor", LEADER, "--at", AT,
    )  # fmt: skip
    status, out, err = run(
        capsys, "org", "history", "--db", env["db"], "--org", env["org"], "--format", "json"
    )
    assert (status, err) == (0, "")
    result = json.loads(out)
    assert result["subject"] is None
    assert [c["seq"] for c in result["changes"]] == [moved["seq"], vacated["seq"], joined["seq"]]
    assert [c["effective"] for c in result["changes"]] == ["2026-06-30", "2026-07-15", "2026-09-01"]
    first = result["changes"][0]
    assert first["what"] == "分包pkg-general-office（南关街道第一初级中学）：办公室 → 政教科"
    assert (first["actor"], first["at"], first["reason"]) == (LEADER, AT, "分包调整")
    head = next(p for _u, p in ORG.iter_posts() if p.id == "general-office.head")
    name = next(p.name for p in ORG.people if p.id == head.holder)
    assert result["changes"][1]["what"] == f"办公室主任（general-office.head）：{name} → 空缺"

    def about(subject: str) -> list[int]:
        status, out, _ = run(
            capsys, "org", "history", "--db", env["db"], "--org", env["org"], "--subject",
            subject, "--format", "json",
        )  # fmt: skip
        assert status == 0
        return [c["seq"] for c in json.loads(out)["changes"]]

    assert about("school:s0002") == [moved["seq"]]
    assert about("package:pkg-general-office") == [moved["seq"]]
    assert about("unit:moral-education") == [moved["seq"]]
    # the package left 办公室, and its head's post fell vacant
    assert about("unit:general-office") == [moved["seq"], vacated["seq"]]
    assert about("post:general-office.head") == [vacated["seq"]]
    assert about("person:p090") == [joined["seq"]]
    assert about("school:s0001") == []

    status, out, _ = run(capsys, "org", "history", "--db", env["db"], "--org", env["org"])
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "3 recorded change(s) to the organisation (责任变更)"
    assert lines[1] == (
        f"  2026-06-30  record {moved['seq']} package-changed: "
        "分包pkg-general-office（南关街道第一初级中学）：办公室 → 政教科"
    )
    assert lines[2] == f"           recorded {AT} by {LEADER} 孟爱华 — 分包调整"


def test_history_refuses_a_bad_subject(
    capsys: pytest.CaptureFixture[str], env: dict[str, str], tmp_path: Path
) -> None:
    move_the_package(capsys, env)
    base = ["org", "history", "--db", env["db"], "--org", env["org"], "--subject"]
    for subject, message in [
        ("s0002", "give post:ID, package:ID, unit:ID, person:ID or school:ID"),
        ("hazard:hz-1", "give post:ID, package:ID, unit:ID, person:ID or school:ID"),
        ("school:s9999", "no school 's9999' in this organisation"),
        ("post:nowhere", "no post 'nowhere' in this organisation"),
        ("person:p999", "no person 'p999' in this organisation"),
        ("package:pkg-none", "no package 'pkg-none' in this organisation"),
    ]:
        status, out, err = run(capsys, *base, subject)
        assert (status, out) == (2, ""), subject
        assert err == f"dualduty: --subject {subject}: {message}\n"
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    status, _, err = run(capsys, "org", "history", "--db", missing, "--org", env["org"])
    assert status == 2
    assert err == f"dualduty: store {missing}: no such file\n"


def test_a_record_entered_late_is_checked_against_the_organisation_of_its_time(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    """After the move, the general office's staff may still enter the hazard they found
    at s0002 in May (``--at`` in May); a hazard found there in August is 政教科's."""
    move_the_package(capsys, env)
    common = ["--db", env["db"], "--org", env["org"], "--format", "json"]
    may = ["record", "hazard", "s0002", "窗户护栏松动", "--actor", "p011", *common]
    status, out, err = run(capsys, *may, "--at", "2026-05-10T10:00:00+08:00")
    assert (status, err) == (0, "")
    assert json.loads(out)["found_by"] == "p011"
    august = ["record", "hazard", "s0002", "楼梯扶手松动", "--actor", "p011", *common]
    status, _, err = run(capsys, *august, "--at", "2026-08-10T10:00:00+08:00")
    assert status == 2
    assert "may not" in err


def test_a_malformed_id_is_refused_naming_it(
    capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> None:
    status, out, err = run(
        capsys, "org", "assign", "--post", "BAD ID", "--person", "p010", "--date", "2026-07-01",
        "--actor", LEADER, "--db", env["db"], "--org", env["org"],
    )  # fmt: skip
    assert (status, out) == (2, "")
    assert err.startswith("dualduty: org assign: post: 'BAD ID' is not a valid id")
    assert entries(env) == 0
