"""A district's school list from a spreadsheet: read, write, put into the district file, CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import attrs
import openpyxl
import pytest

import dualduty
from dualduty.cli import main
from dualduty.errors import InvalidOrganisation
from dualduty.io import (
    InvalidSchoolsFile,
    read_schools,
    school_changes,
    schools_to_csv,
    with_schools,
    write_schools,
)
from dualduty.model import Facility, Organisation, Ownership, RiskLevel, School, SchoolLevel

HEADER = ["学校编号", "学校名称", "学段", "办学性质", "学生数", "乡镇", "风险等级", "设施"]


@pytest.fixture(scope="module")
def org() -> Organisation:
    return dualduty.reference_organisation(schools=12)


def write_csv(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "学校"
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def district(tmp_path: Path, org: Organisation) -> Path:
    path = tmp_path / "bureau.toml"
    dualduty.dump(org, path)
    return path


# -- reading and writing -----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_gives_the_same_schools(
    tmp_path: Path, org: Organisation, suffix: str
) -> None:
    path = tmp_path / f"学校名单{suffix}"
    write_schools(org.schools, path)
    assert read_schools(path) == org.schools


def test_the_csv_template_is_utf8_with_a_bom_and_chinese_labels(
    tmp_path: Path, org: Organisation
) -> None:
    path = tmp_path / "学校名单.csv"
    write_schools(org.schools[:2], path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig") == schools_to_csv(org.schools[:2])
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == HEADER
    assert rows[1] == [
        "s0001", "区第一高级中学", "普通高中", "公办", "1836", "城关镇", "中",
        "食堂、寄宿、实验室危险化学品",
    ]  # fmt: skip
    assert rows[2] == ["s0002", "星星幼儿园", "幼儿园", "民办", "448", "东城街道", "中", ""]


def test_a_filled_in_excel_sheet_is_read_with_labels_english_values_and_defaults(
    tmp_path: Path,
) -> None:
    path = write_xlsx(
        tmp_path / "schools.xlsx",
        [
            ["s0201", "城关第二小学", "小学", "民办", 860, "城关镇", "高", "食堂、校车"],
            ["s0202", "实验幼儿园", "kindergarten", None, None, None, None, None],
            [None] * 8,  # an empty row Excel kept
            [1001, " 九中 ", "初中", "public", "120", "", "low", "canteen, boarding"],
        ],
    )
    assert read_schools(path) == (
        School(
            "s0201", "城关第二小学", SchoolLevel.PRIMARY, Ownership.PRIVATE, 860, "城关镇",
            RiskLevel.HIGH, {Facility.CANTEEN, Facility.SCHOOL_BUS},
        ),
        School("s0202", "实验幼儿园", SchoolLevel.KINDERGARTEN),
        School(
            "1001", "九中", SchoolLevel.JUNIOR, students=120, risk=RiskLevel.LOW,
            facilities={Facility.CANTEEN, Facility.BOARDING},
        ),
    )  # fmt: skip


def test_english_field_names_are_headers_too_and_other_columns_are_ignored(
    tmp_path: Path,
) -> None:
    path = write_csv(
        tmp_path / "schools.csv",
        [["s0301", "13800000000", "城南中学", "senior"]],
        header=["id", "联系电话", "name", "level"],
    )
    assert read_schools(path) == (School("s0301", "城南中学", SchoolLevel.SENIOR),)


def test_a_file_with_two_bad_rows_gives_nothing_and_names_both(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "schools.xlsx",
        [
            ["s0401", "第一小学", "小学"],
            ["s0402", "第二小学", "小学x", "公办", -5],
            ["s0403", "第三小学", "小学"],
            ["S 404", None, "小学", "国营", "many", None, "极高", "食堂、马场"],
        ],
    )
    with pytest.raises(InvalidSchoolsFile) as caught:
        read_schools(path)
    problems = [str(p) for p in caught.value.problems]
    assert problems[0] == (
        "row 3, column 学段: '小学x' is not a school level (幼儿园、小学、初级中学、普通高中、"
        "九年一贯制学校、中等职业学校、特殊教育学校、成人学校、培训机构; or kindergarten, "
        "primary, junior, senior, nine_year, vocational, special, adult, training)"
    )
    assert problems[1] == "row 3, column 学生数: -5 is not a number of students (0 or more)"
    assert [p.split(":")[0] for p in problems[2:]] == [
        "row 5, column 学校编号",
        "row 5, column 学校名称",
        "row 5, column 办学性质",
        "row 5, column 风险等级",
        "row 5, column 学生数",
        "row 5, column 设施",
    ]
    assert "'马场' is not a facility" in problems[-1]
    message = str(caught.value)
    assert message.startswith(f"{path}: 8 problems found")


def test_an_id_in_two_rows_is_refused_with_both_rows(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "schools.csv",
        [["s1", "甲小学", "小学"], ["s2", "乙", "小学"], ["s1", "丙", "小学"]],
    )
    with pytest.raises(InvalidSchoolsFile, match=r"row 4, column 学校编号: s1 is also in row 2"):
        read_schools(path)


def test_a_missing_or_doubled_column_is_named_in_the_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [["s1", "甲"]], header=["学校编号", "学校名称"])
    with pytest.raises(InvalidSchoolsFile, match=r"row 1: missing column 学段"):
        read_schools(path)
    path = write_csv(
        tmp_path / "b.csv", [["s1", "甲", "小学", "x"]], ["id", "name", "学段", "level"]
    )
    with pytest.raises(InvalidSchoolsFile, match=r"row 1: the column 学段 appears twice"):
        read_schools(path)


def test_a_gbk_csv_from_chinese_excel_is_read(tmp_path: Path) -> None:
    path = tmp_path / "schools.csv"
    path.write_bytes("学校编号,学校名称,学段\r\ns1,城关小学,小学\r\n".encode("gbk"))
    assert read_schools(path) == (School("s1", "城关小学", SchoolLevel.PRIMARY),)


def test_other_suffixes_and_broken_workbooks_are_refused(tmp_path: Path) -> None:
    with pytest.raises(dualduty.DualdutyError, match=r"a \.csv or \.xlsx file"):
        read_schools(tmp_path / "schools.xls")
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    with pytest.raises(InvalidSchoolsFile, match="not an Excel workbook"):
        read_schools(tmp_path / "bad.xlsx")


# -- into an organisation ------------------------------------------------------------------


def test_with_schools_updates_by_id_in_place_and_adds_the_rest(org: Organisation) -> None:
    bigger = attrs.evolve(org.schools[1], students=org.schools[1].students + 100)
    new = School("s0901", "新建小学", SchoolLevel.PRIMARY)
    merged = with_schools(org, [new, bigger])
    assert merged.schools == (org.schools[0], bigger, *org.schools[2:], new)
    assert merged.packages == org.packages
    changes = school_changes(org, merged)
    assert changes.added == ("s0901",)
    assert changes.updated == (("s0002", ("students",)),)
    assert changes.removed == ()
    assert str(changes) == "1 added, 1 updated, 11 unchanged"


def test_replace_refuses_to_drop_a_school_a_package_names(org: Organisation) -> None:
    kept = org.schools[:-1]
    gone = org.schools[-1]
    holders = [p.id for p in org.packages if gone.id in p.schools]
    assert holders
    with pytest.raises(InvalidOrganisation) as caught:
        with_schools(org, kept, replace=True)
    (problem,) = caught.value.problems
    assert problem.path.startswith("packages[")
    packages = ", ".join(repr(p) for p in holders)
    assert problem.message == (
        f"school {gone.id!r} ({gone.name}) is not in the new list, but packages {packages} "
        "still name it: take it out of the packages or re-plan them first"
    )


def test_replace_removes_an_unpackaged_school(org: Organisation) -> None:
    extra = with_schools(org, [School("s0901", "新建小学", SchoolLevel.PRIMARY)])
    back = with_schools(extra, org.schools, replace=True)
    assert back == org
    assert school_changes(extra, back).removed == ("s0901",)


def test_an_id_given_twice_is_refused(org: Organisation) -> None:
    school = School("s0901", "新建小学", SchoolLevel.PRIMARY)
    with pytest.raises(InvalidOrganisation, match="given twice"):
        with_schools(org, [school, school])


# -- the command line --------------------------------------------------------------------


def test_cli_export_then_import_changes_nothing(
    tmp_path: Path, org: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    into = district(tmp_path, org)
    before = into.read_bytes()
    sheet = tmp_path / "学校名单.xlsx"
    assert main(["schools", "export", str(into), "-o", str(sheet)]) == 0
    assert main(["schools", "import", str(sheet), "--into", str(into)]) == 0
    out = capsys.readouterr().out
    assert "0 added, 0 updated, 12 unchanged" in out
    assert "left as it was" in out
    assert into.read_bytes() == before


def test_cli_import_adds_and_updates_and_dry_run_writes_nothing(
    tmp_path: Path, org: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    into = district(tmp_path, org)
    before = into.read_bytes()
    first = org.schools[0]
    sheet = tmp_path / "new.csv"
    write_schools([attrs.evolve(first, students=1600)], sheet)
    with sheet.open("a", encoding="utf-8", newline="") as f:
        csv.writer(f).writerow(
            ["s0901", "城关第二小学", "小学", "民办", 860, "城关镇", "高", "食堂、校车"]
        )
    argv = ["schools", "import", str(sheet), "--into", str(into)]
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "1 added, 1 updated, 11 unchanged" in out
    assert "added    s0901 城关第二小学" in out
    assert f"updated  {first.id} {first.name}: students\n" in out
    assert "not written" in out
    assert into.read_bytes() == before

    assert main(argv) == 0
    loaded = dualduty.load(into)
    assert loaded.schools[0].students == 1600
    assert loaded.schools[-1].id == "s0901"
    assert loaded.packages == org.packages


def test_cli_bad_rows_exit_2_with_every_problem_and_nothing_written(
    tmp_path: Path, org: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    into = district(tmp_path, org)
    before = into.read_bytes()
    sheet = write_xlsx(
        tmp_path / "new.xlsx",
        [["s0901", "甲", "小学x"], ["s0902", "乙", "小学"], ["s0903", "丙", "小学", "国营"]],
    )
    assert main(["schools", "import", str(sheet), "--into", str(into)]) == 2
    err = capsys.readouterr().err
    assert "2 problems found" in err
    assert "row 2, column 学段: '小学x' is not a school level" in err
    assert "row 4, column 办学性质: '国营' is not an ownership" in err
    assert into.read_bytes() == before


def test_cli_replace_refuses_a_removed_school_still_packaged(
    tmp_path: Path, org: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    into = district(tmp_path, org)
    before = into.read_bytes()
    sheet = tmp_path / "fewer.csv"
    write_schools(org.schools[:-1], sheet)
    assert main(["schools", "import", str(sheet), "--into", str(into), "--replace"]) == 2
    err = capsys.readouterr().err
    gone = org.schools[-1]
    assert f"school {gone.id!r} ({gone.name}) is not in the new list" in err
    assert "1 problem found" in err
    assert "packages 'pkg-" in err
    assert into.read_bytes() == before
    # Without --replace the same list only confirms what is there.
    assert main(["schools", "import", str(sheet), "--into", str(into)]) == 0
    assert into.read_bytes() == before


def test_cli_export_to_an_unknown_suffix_exits_2(
    tmp_path: Path, org: Organisation, capsys: pytest.CaptureFixture[str]
) -> None:
    into = district(tmp_path, org)
    assert main(["schools", "export", str(into), "-o", str(tmp_path / "s.ods")]) == 2
    assert "a .csv or .xlsx file" in capsys.readouterr().err
    assert not (tmp_path / "s.ods").exists()
