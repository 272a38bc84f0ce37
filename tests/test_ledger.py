"""Ledgers (台账): the hazard and inspection ledgers to and from CSV and Excel."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dualduty
from dualduty.errors import DualdutyError
from dualduty.records import (
    Hazards,
    HazardStatus,
    Inspections,
    InvalidTransition,
    Note,
    PermissionDenied,
    Record,
)
from dualduty.records.ledger import (
    HAZARD_LEDGER_COLUMNS,
    INSPECTION_LEDGER_COLUMNS,
    InvalidLedger,
    Ledger,
    LedgerImported,
    export_hazard_ledger,
    export_inspection_ledger,
    export_ledger,
    import_hazard_ledger,
    import_inspection_ledger,
    import_ledger,
)
from dualduty.storage import open_store
from dualduty.storage.store import Store
from strategies import texts

ZONE = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=ZONE)
AS_OF = T0 + dt.timedelta(days=120)
ORG = dualduty.reference_organisation(schools=3)

# In the reference organisation s0002 is packaged to the general office (section head
# p010, staff p011/p012) and to deputy-1 (p002); the leading group's office sits in
# 法规安全科: its head p007 and staff p008. p014 is another section's staff.
SCHOOL = "s0002"
SECTION_HEAD, SECTION_STAFF, SECTION_STAFF_2 = "p010", "p011", "p012"
OFFICE_HEAD, OFFICE_STAFF = "p007", "p008"
OUTSIDER = "p014"
BOM = b"\xef\xbb\xbf"


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


def walk(hz: Hazards) -> str:
    """A major hazard round the whole loop: found, registered, escalated (no plan in
    time), planned, claimed, rejected, re-planned, escalated again, claimed, accepted,
    closed. Returns its id."""
    hid = hz.find(SCHOOL, "major", "教学楼外墙瓷砖大面积空鼓", actor=SECTION_STAFF, at=T0).id
    hz.register(hid, actor=OFFICE_STAFF, at=T0 + dt.timedelta(hours=1))
    hz.escalate_overdue(T0 + days(21), actor=OFFICE_HEAD)
    hz.plan(
        hid,
        actor=SECTION_HEAD,
        measures=["拆除空鼓瓷砖", "外墙重新施工"],
        responsible=SECTION_HEAD,
        time_limit=(T0 + days(60)).date(),
        funds_yuan=120_000,
        safeguards=["设置警戒区", "学生绕行"],
        at=T0 + days(23),
    )
    hz.claim(hid, actor=SECTION_STAFF, at=T0 + days(40))
    hz.reinspect(
        hid, actor=SECTION_STAFF_2, accepted=False, notes="仍有空鼓\n东侧未处理", at=T0 + days(42)
    )
    hz.plan(
        hid,
        actor=SECTION_HEAD,
        measures=["东侧返工"],
        responsible=SECTION_STAFF_2,
        time_limit=(T0 + days(80)).date(),
        safeguards=["继续设置警戒区"],
        at=T0 + days(43),
    )
    hz.escalate_overdue(T0 + days(91), actor=OFFICE_HEAD)
    hz.claim(hid, actor=SECTION_STAFF, text="东侧已返工", at=T0 + days(95))
    hz.reinspect(hid, actor=OFFICE_STAFF, accepted=True, at=T0 + days(96))
    hz.close(hid, actor=OFFICE_HEAD, notes="复查合格，予以销号", at=T0 + days(97))
    return hid


def history(store: Store) -> Hazards:
    """Three hazards: the whole loop, a general one registered and open, one just found."""
    hz = Hazards(store, ORG)
    walk(hz)
    general = hz.find(SCHOOL, "general", "消防通道堆放杂物", actor=SECTION_STAFF, at=T0 + days(2))
    hz.register(general.id, actor=OFFICE_STAFF, at=T0 + days(3))
    hz.find("s0002", "general", "楼梯扶手松动", actor="p002", at=T0 + days(110))
    return hz


def records(store: Store) -> list[Record]:
    return [e.record for e in store.read()]


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def write_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(BOM + out.getvalue().encode())


# -- the acceptance test -------------------------------------------------------------------


def test_excel_ledger_with_two_bad_rows_imports_nothing_and_names_both(tmp_path: Path) -> None:
    """Issue 6, item 9: an Excel ledger with two bad rows imports nothing, names both rows."""
    with open_store("memory:") as source:
        history(source)
        path = tmp_path / "hazards.xlsx"
        assert export_hazard_ledger(source, ORG, path, as_of=AS_OF) == 3
    wb = openpyxl.load_workbook(path)
    ws = wb["隐患台账"]
    column = {cell.value: cell.column for cell in ws[1] if cell.column is not None}
    ws.cell(3, column["隐患等级"]).value = "严重"
    ws.cell(4, column["发现人"]).value = "nobody"
    wb.save(path)

    with open_store(f"sqlite:///{tmp_path / 'r.db'}") as target:
        target.append(Record.of(Note("台账导入前已有的记录"), actor=OFFICE_HEAD, at=T0))
        with pytest.raises(InvalidLedger) as info:
            import_hazard_ledger(target, ORG, path, actor=OFFICE_HEAD)
        assert len(target) == 1
        assert target.outbox(state=None) == []

    error = info.value
    assert error.source == str(path)
    assert [p.path for p in error.problems] == ["row 3, column 隐患等级", "row 4, column 发现人"]
    message = str(error)
    assert f"{path}: row 3, column 隐患等级: expected 一般 or 重大, got '严重'" in message
    assert f"{path}: row 4, column 发现人: no person 'nobody' in the organisation" in message
    assert isinstance(error, DualdutyError)


# -- round trips -----------------------------------------------------------------------------


def test_csv_round_trip_is_byte_for_byte(tmp_path: Path, store: Store) -> None:
    hz = history(store)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    assert export_hazard_ledger(store, ORG, first, as_of=AS_OF) == 3

    with open_store(f"sqlite:///{tmp_path / 'r.db'}") as target:
        summary = import_hazard_ledger(target, ORG, first, actor=OFFICE_HEAD, at=AS_OF)
        hazard_records = [r for r in records(store) if r.kind.startswith("hazard-")]
        assert summary.added == ("hz-00001", "hz-00012", "hz-00014")
        assert (summary.extended, summary.unchanged, summary.behind) == ((), (), ())
        assert summary.records == len(hazard_records)
        assert len(target) == len(hazard_records) + 1
        assert export_hazard_ledger(target, ORG, second, as_of=AS_OF) == 3
        assert Hazards(target, ORG).all() == hz.all()
        # Each hazard's records are the service's: people, times, data and subjects.
        imported = records(target)[:-1]
        for hid in summary.added:
            assert [r for r in imported if r.data.hazard == hid] == [
                r for r in hazard_records if r.data.hazard == hid
            ]
        # Who imported it, from which file: the last record, by the importer.
        last = records(target)[-1]
        assert (last.kind, last.actor, last.at) == ("ledger-imported", OFFICE_HEAD, AS_OF)
        assert last.data == LedgerImported(
            Ledger.HAZARDS, "first.csv", 3, len(hazard_records), summary.added, ()
        )
        assert target.verify().ok
    assert second.read_bytes() == first.read_bytes()


def test_xlsx_round_trip_keeps_every_cell(tmp_path: Path, store: Store) -> None:
    hz = history(store)
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    export_hazard_ledger(store, ORG, first, as_of=AS_OF)
    with open_store("memory:") as target:
        import_hazard_ledger(target, ORG, first, actor=OFFICE_STAFF)
        export_hazard_ledger(target, ORG, second, as_of=AS_OF)
        assert Hazards(target, ORG).all() == hz.all()

    def cells(path: Path) -> list[tuple[Any, ...]]:
        wb = openpyxl.load_workbook(path)
        return [tuple(c.value for c in row) for row in wb["隐患台账"].iter_rows()]

    assert cells(second) == cells(first)
    ws = openpyxl.load_workbook(first)["隐患台账"]
    assert ws.freeze_panes == "A2"
    assert tuple(c.value for c in ws[1]) == HAZARD_LEDGER_COLUMNS
    assert all(c.font.bold for c in ws[1])
    assert ws.column_dimensions["E"].width == 30  # 隐患描述
    # Dates are date cells, funds a number, a time its text with the offset.
    row = {h: c.value for h, c in zip(HAZARD_LEDGER_COLUMNS, ws[2], strict=True)}
    assert row["整改时限"] == dt.datetime(2026, 10, 31)
    assert row["整改资金(元)"] == 120_000
    assert row["发现时间"] == "2026-09-01 09:00:00+08:00"


def test_csv_has_bom_chinese_headers_names_and_computed_columns(
    tmp_path: Path, store: Store
) -> None:
    hz = history(store)
    path = tmp_path / "hazards.csv"
    export_hazard_ledger(store, ORG, path, as_of=AS_OF)
    raw = path.read_bytes()
    assert raw.startswith(BOM)
    assert raw[3:].decode().split("\r\n")[0] == ",".join(HAZARD_LEDGER_COLUMNS)
    rows = csv_rows(path)
    closed, open_general, just_found = rows
    assert closed["学校名称"] == ORG.schools[1].name
    assert closed["发现人姓名"] == "汪建军"
    assert (closed["隐患等级"], closed["挂牌督办"], closed["当前状态"]) == ("重大", "是", "已销号")
    assert closed["整改措施"] == "拆除空鼓瓷砖\n外墙重新施工"
    assert closed["整改与复查记录"].splitlines() == [
        "2026-10-11 09:00:00+08:00 p011 整改完成",
        "2026-10-13 09:00:00+08:00 p012 复查不合格：仍有空鼓\\n东侧未处理",
        "2026-10-14 09:00:00+08:00 p010 修订整改方案 责任人 p012 时限 2026-11-20 资金 0",
        "  整改措施：东侧返工",
        "  临时防范措施：继续设置警戒区",
        "2026-12-05 09:00:00+08:00 p011 整改完成：东侧已返工",
        "2026-12-06 09:00:00+08:00 p008 复查合格",
    ]
    assert closed["督办记录"].splitlines() == [
        "2026-09-22 09:00:00+08:00 p007 督办 第1级 deputy-3：逾期：未按期制定整改方案",
        "2026-12-01 09:00:00+08:00 p007 督办 第2级 director：逾期：超过整改时限、未按期销号",
    ]
    # Overdue as of AS_OF: the general hazard (30 days to close) is, the fresh one not.
    state = hz.state(open_general["隐患编号"])
    assert (open_general["逾期"], open_general["已错过的期限"]) == ("是", "未按期销号")
    assert state.overdue(AS_OF)
    assert (just_found["逾期"], just_found["当前状态"]) == ("否", "已发现")
    assert {r["核算时间"] for r in rows} == {"2026-12-30 09:00:00+08:00"}


def test_reimport_changes_nothing(tmp_path: Path, store: Store) -> None:
    history(store)
    path = tmp_path / "hazards.csv"
    export_hazard_ledger(store, ORG, path, as_of=AS_OF)
    before = len(store)
    summary = import_hazard_ledger(store, ORG, path, actor=OFFICE_HEAD)
    assert summary.unchanged == ("hz-00001", "hz-00012", "hz-00014")
    assert (summary.added, summary.extended, summary.records) == ((), (), 0)
    assert len(store) == before  # not even a ledger-imported record


def test_rows_are_ordered_by_id_naturally(tmp_path: Path, store: Store) -> None:
    hz = Hazards(store, ORG)
    for hid in ("hz-10", "hz-9", "a-1"):
        hz.find(SCHOOL, "general", "电线裸露", actor=SECTION_STAFF, hazard_id=hid, at=T0)
    path = tmp_path / "hazards.csv"
    export_hazard_ledger(store, ORG, path, as_of=AS_OF)
    assert [r["隐患编号"] for r in csv_rows(path)] == ["a-1", "hz-9", "hz-10"]


# -- keyed by id: extension, behind, contradiction ----------------------------------------------


def test_a_later_ledger_extends_a_stored_hazard(tmp_path: Path, store: Store) -> None:
    hz = Hazards(store, ORG)
    hid = walk(hz)
    full = tmp_path / "full.csv"
    export_hazard_ledger(store, ORG, full, as_of=AS_OF)
    everything = records(store)
    with open_store("memory:") as target:
        target.append(*everything[:5])  # found, registered, escalated, planned, claimed
        summary = import_hazard_ledger(target, ORG, full, actor=OFFICE_HEAD)
        assert (summary.added, summary.extended, summary.behind) == ((), (hid,), ())
        assert summary.records == len(everything) - 5
        again = tmp_path / "again.csv"
        export_hazard_ledger(target, ORG, again, as_of=AS_OF)
        assert Hazards(target, ORG).state(hid) == hz.state(hid)
    assert again.read_bytes() == full.read_bytes()


def test_an_older_ledger_is_behind_and_adds_nothing(tmp_path: Path, store: Store) -> None:
    hid = walk(Hazards(store, ORG))
    old = tmp_path / "old.csv"
    with open_store("memory:") as earlier:
        earlier.append(*records(store)[:6])
        export_hazard_ledger(earlier, ORG, old, as_of=AS_OF)
    before = len(store)
    summary = import_hazard_ledger(store, ORG, old, actor=OFFICE_HEAD)
    assert (summary.behind, summary.unchanged, summary.records) == ((hid,), (), 0)
    assert len(store) == before


def test_a_contradicting_row_is_bad_and_named_by_column(tmp_path: Path, store: Store) -> None:
    hz = Hazards(store, ORG)
    hid = walk(hz)
    path = tmp_path / "hazards.csv"
    export_hazard_ledger(store, ORG, path, as_of=AS_OF)
    with open_store("memory:") as target:
        other = Hazards(target, ORG)
        other.find(SCHOOL, "major", "外墙瓷砖空鼓", actor=SECTION_STAFF, hazard_id=hid, at=T0)
        other.register(hid, actor=OFFICE_HEAD, at=T0 + dt.timedelta(hours=1))
        before = len(target)
        with pytest.raises(InvalidLedger) as info:
            import_hazard_ledger(target, ORG, path, actor=OFFICE_HEAD)
        assert len(target) == before
    assert [(p.path, p.message) for p in info.value.problems] == [
        (
            "row 2, column 隐患描述",
            "contradicts the store, which holds '外墙瓷砖空鼓', not '教学楼外墙瓷砖大面积空鼓'",
        ),
        ("row 2, column 登记人", "contradicts the store, which holds 'p007', not 'p008'"),
    ]


def test_a_contradicting_line_is_named_by_its_line(tmp_path: Path, store: Store) -> None:
    hid = walk(Hazards(store, ORG))
    path = tmp_path / "hazards.csv"
    export_hazard_ledger(store, ORG, path, as_of=AS_OF)
    rows = csv_rows(path)
    rows[0]["整改与复查记录"] = rows[0]["整改与复查记录"].replace(
        "p012 复查不合格", "p010 复查不合格"
    )
    write_csv(path, rows, HAZARD_LEDGER_COLUMNS)
    before = len(store)
    with pytest.raises(InvalidLedger) as info:
        import_hazard_ledger(store, ORG, path, actor=OFFICE_HEAD)
    assert len(store) == before
    (problem, *_) = info.value.problems
    assert problem.path == "row 2, column 整改与复查记录, line 2"
    assert problem.message == "contradicts the store, which holds 'p012', not 'p010'"
    assert hid in path.read_text(encoding="utf-8-sig")


# -- who may import ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "match"),
    [(SECTION_HEAD, "p010 .* may not import ledgers"), ("nobody", "no person 'nobody'")],
)
def test_only_the_office_imports(tmp_path: Path, store: Store, actor: str, match: str) -> None:
    history(store)
    path = tmp_path / "hazards.csv"
    export_hazard_ledger(store, ORG, path, as_of=AS_OF)
    with open_store("memory:") as target:
        for importer in (import_hazard_ledger, import_inspection_ledger):
            with pytest.raises(PermissionDenied, match=match):
                importer(target, ORG, path, actor=actor)
        assert len(target) == 0


# -- what an import checks ----------------------------------------------------------------------

#: A hazard row as a district's own Excel ledger might hold it: days without times, no
#: names, nothing said about whether the office was told at once.
LEGACY = {
    "隐患编号": "2026-001",
    "学校编号": SCHOOL,
    "隐患等级": "重大隐患",
    "隐患描述": "围墙倾斜",
    "发现时间": "2026/9/1",
    "发现人": SECTION_STAFF,
    "所属检查": "",
    "即时上报": "",
    "登记时间": "2026/9/3",
    "登记人": OFFICE_STAFF,
    "挂牌督办": "是",
}
DATA_COLUMNS = (*LEGACY, "整改措施", "临时防范措施", "整改责任人", "整改时限", "整改资金(元)")
DATA_COLUMNS += (
    "方案时间",
    "方案人",
    "整改与复查记录",
    "督办记录",
    "销号时间",
    "销号人",
    "销号说明",
)


def legacy(path: Path, *rows: dict[str, str], extra: tuple[str, ...] = ()) -> Path:
    """A CSV ledger with the data columns only (and *extra*)."""
    columns = (*DATA_COLUMNS, *extra)
    write_csv(path, [{c: row.get(c, "") for c in columns} for row in rows], columns)
    return path


def test_a_districts_own_ledger_imports(tmp_path: Path, store: Store) -> None:
    path = legacy(tmp_path / "old.csv", {**LEGACY, "备注": "旧台账"}, extra=("备注",))
    summary = import_hazard_ledger(store, ORG, path, actor=OFFICE_HEAD)
    assert (summary.added, summary.ignored_columns) == (("2026-001",), ("备注",))
    state = Hazards(store, ORG).state("2026-001")
    shanghai = dt.datetime(2026, 9, 1, tzinfo=ZONE)
    assert (state.status, state.found_at, state.listed) == (HazardStatus.REGISTERED, shanghai, True)
    # No proof the office was told at once: it learned of the hazard when registering it,
    # two days late for a major hazard (三.2: report at once).
    assert state.reported_at == shanghai + days(2)
    assert state.reported_late
    assert "ignored columns: 备注" in str(summary)


def test_a_gb18030_csv_is_read(tmp_path: Path, store: Store) -> None:
    path = legacy(tmp_path / "old.csv", LEGACY)
    path.write_bytes(path.read_bytes()[3:].decode().encode("gb18030"))
    assert import_hazard_ledger(store, ORG, path, actor=OFFICE_HEAD).added == ("2026-001",)


def test_every_bad_cell_and_line_is_reported(tmp_path: Path, store: Store) -> None:
    rows = [
        {**LEGACY, "学校编号": "s9999", "发现时间": "九月一日", "挂牌督办": "可能"},
        {**LEGACY, "隐患编号": "2026-002", "登记人": ""},
        {
            **LEGACY,
            "隐患编号": "2026-003",
            "整改与复查记录": "2026-09-04 p011 整改完成\n2026-09-05 p012 验收\n昨天 p011 整改完成",
            "督办记录": "2026-09-02 p007 督办 第1级 no-such-post",
        },
        {**LEGACY, "隐患编号": "2026-001"},
        {**LEGACY, "隐患编号": "2026-005", "登记时间": "2026-08-31 12:00", "当前状态": "整改中"},
        {**LEGACY, "隐患编号": "2026-006", "整改责任人": SECTION_HEAD, "整改时限": "2026-10-01"},
    ]
    path = legacy(tmp_path / "bad.csv", *rows, extra=("当前状态",))
    with pytest.raises(InvalidLedger) as info:
        import_hazard_ledger(store, ORG, path, actor=OFFICE_HEAD)
    assert len(store) == 0
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("row 2, column 学校编号", "no school 's9999' in the organisation"),
        (
            "row 2, column 发现时间",
            "'九月一日' is not a date and time (write YYYY-MM-DD HH:MM:SS+08:00)",
        ),
        ("row 2, column 挂牌督办", "expected 是 or 否, got '可能'"),
        ("row 3, column 登记人", "empty: required when 登记时间 is filled"),
        (
            "row 4, column 整改与复查记录, line 2",
            "unknown action '验收' (expected one of 整改完成、复查合格、复查不合格、修订整改方案)",
        ),
        (
            "row 4, column 整改与复查记录, line 3",
            "expected '<time> <person id> <action>…', got '昨天 p011 整改完成'",
        ),
        ("row 4, column 督办记录, line 1", "no post 'no-such-post' in the organisation"),
        ("row 5, column 隐患编号", "2026-001 is also in row 2"),
        (
            "row 6, column 登记时间",
            "2026-08-31 12:00:00+08:00 is before 2026-09-01 00:00:00+08:00 (the 发现 before it)",
        ),
        (
            "row 6, column 当前状态",
            "整改中 does not fit the row, whose records make the hazard 已登记",
        ),
        ("row 7, column 方案时间", "empty: required when 整改责任人 is filled"),
        ("row 7, column 方案人", "empty: required when 整改责任人 is filled"),
    ]
    assert str(info.value).startswith(f"{path}: 12 problems found\n")


def test_a_row_must_follow_the_loop(tmp_path: Path, store: Store) -> None:
    claimed = {**LEGACY, "整改与复查记录": "2026-09-04 09:00 p011 整改完成"}
    unplanned_major = {
        **LEGACY,
        "隐患编号": "2026-002",
        "整改责任人": SECTION_HEAD,
        "整改时限": "2026-10-01",
        "方案时间": "2026-09-04 10:00",
        "方案人": SECTION_HEAD,
        "整改措施": "加固",
    }
    path = legacy(tmp_path / "loop.csv", claimed, unplanned_major)
    with pytest.raises(InvalidLedger) as info:
        import_hazard_ledger(store, ORG, path, actor=OFFICE_HEAD)
    assert [(p.path, p.message) for p in info.value.problems] == [
        (
            "row 2, column 整改与复查记录, line 1",
            "does not fit the hazard's loop: hazard '2026-001' is registered: "
            "cannot apply 'hazard-claimed'",
        ),
        (
            "row 3, column 方案时间",
            "does not fit the hazard's loop: hazard '2026-002' is major: its plan needs "
            "measures and interim safeguards",
        ),
    ]
    assert len(store) == 0


def test_missing_columns_and_unknown_suffix(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "short.csv"
    path.write_bytes(BOM + "隐患编号,学校编号\r\nhz-1,s0001\r\n".encode())
    with pytest.raises(
        InvalidLedger, match=r"short.csv: row 1: missing columns 隐患等级, 隐患描述"
    ):
        import_hazard_ledger(store, ORG, path, actor=OFFICE_HEAD)
    with pytest.raises(DualdutyError, match=r"a ledger is a .csv or .xlsx file, not .txt"):
        export_hazard_ledger(store, ORG, tmp_path / "hazards.txt")
    with pytest.raises(InvalidLedger, match="cannot read the file"):
        import_hazard_ledger(store, ORG, tmp_path / "missing.csv", actor=OFFICE_HEAD)


def test_an_empty_ledger_is_a_template(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "template.xlsx"
    assert export_hazard_ledger(store, ORG, path) == 0
    summary = import_hazard_ledger(store, ORG, path, actor=OFFICE_HEAD)
    assert (summary.rows, summary.records, len(store)) == (0, 0, 0)


def test_text_excel_cannot_hold_is_refused_csv_keeps_it(tmp_path: Path, store: Store) -> None:
    hz = Hazards(store, ORG)
    hid = hz.find(SCHOOL, "general", "电线\r\n裸露\x07", actor=SECTION_STAFF, at=T0).id
    with pytest.raises(DualdutyError, match=r"隐患编号 hz-00001, column 隐患描述: cannot be"):
        export_hazard_ledger(store, ORG, tmp_path / "hazards.xlsx")
    assert not (tmp_path / "hazards.xlsx").exists()
    path = tmp_path / "hazards.csv"
    export_hazard_ledger(store, ORG, path, as_of=AS_OF)
    with open_store("memory:") as target:
        import_hazard_ledger(target, ORG, path, actor=OFFICE_HEAD)
        assert Hazards(target, ORG).state(hid).description == "电线\r\n裸露\x07"


def test_the_import_joins_an_open_batch(tmp_path: Path, store: Store) -> None:
    """Inside a batch, a refused import undoes the batch's other commands too."""
    path = legacy(tmp_path / "bad.csv", {**LEGACY, "隐患等级": "严重"})
    hz = Hazards(store, ORG)

    def find_and_import() -> None:
        with hz.desk.batch():
            hz.find(SCHOOL, "general", "电线裸露", actor=SECTION_STAFF, at=T0)
            import_hazard_ledger(store, ORG, path, actor=OFFICE_HEAD, desk=hz.desk)

    with pytest.raises(InvalidLedger):
        find_and_import()
    assert len(store) == 0


# -- the inspection ledger ---------------------------------------------------------------------


FINDINGS = (
    ("消防通道堆放杂物", "general"),
    "【一般】性问题已当场纠正\n台账齐全",  # a remark that looks like a finding's mark
    ("配电房门未上锁", "major"),
)
INSPECTED_AT = dt.datetime(2026, 9, 15, 17, 30, 5, 250_000, tzinfo=ZONE)


def inspect(store: Store) -> list[Record]:
    """Two inspections by the service: a scheduled one with findings, an ad hoc one."""
    inspections = Inspections(store, ORG)
    inspections.record(
        SCHOOL,
        actor=SECTION_STAFF,
        holder="general-office",
        date=INSPECTED_AT.date(),
        inspectors=[SECTION_STAFF, SECTION_STAFF_2],
        visit="v.2026q3.general-office.s0002.1",
        findings=FINDINGS,
        summary="开学安全专项督查",
        inspection_id="in-2",
        at=INSPECTED_AT,
    )
    inspections.record(
        SCHOOL,
        actor="p002",
        holder="deputy-1",
        date=INSPECTED_AT.date(),
        announced=False,
        inspection_id="in-10",
        at=INSPECTED_AT + days(1),
    )
    return [e.record for e in store.read(kind="inspection")]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_inspection_ledger_round_trip(tmp_path: Path, store: Store, suffix: str) -> None:
    recorded = inspect(store)
    first, second = tmp_path / f"first{suffix}", tmp_path / f"second{suffix}"
    assert export_inspection_ledger(store, ORG, first) == 2
    with open_store("memory:") as target:
        summary = import_inspection_ledger(target, ORG, first, actor=OFFICE_STAFF, at=AS_OF)
        assert (summary.added, summary.records) == (("in-2", "in-10"), 2)
        # The service's records: the same data, people, times and subjects.
        assert records(target)[:2] == recorded
        assert export_inspection_ledger(target, ORG, second) == 2
        again = import_inspection_ledger(target, ORG, first, actor=OFFICE_STAFF)
        assert (again.unchanged, again.records) == (("in-2", "in-10"), 0)
    if suffix == ".csv":
        assert second.read_bytes() == first.read_bytes()
        row = csv_rows(first)[0]
        assert tuple(row) == INSPECTION_LEDGER_COLUMNS
        assert row["发现问题"].splitlines() == [
            "【一般 hz-00001】消防通道堆放杂物",
            "【备注】【一般】性问题已当场纠正\\n台账齐全",
            "【重大 hz-00002】配电房门未上锁",
        ]
        assert (row["方式"], row["检查人员姓名"], row["记录时间"]) == (
            "明查",
            "汪建军、梁永红",
            "2026-09-15 17:30:05.250000+08:00",
        )
    else:
        values = [
            [tuple(c.value for c in r) for r in openpyxl.load_workbook(p)["督查台账"].iter_rows()]
            for p in (first, second)
        ]
        assert values[0] == values[1]


def test_inspection_rows_are_checked(tmp_path: Path, store: Store) -> None:
    inspect(store)
    path = tmp_path / "inspections.csv"
    export_inspection_ledger(store, ORG, path)
    row, _ = csv_rows(path)
    changed = {**row, "小结": "复查"}
    unknown = {**row, "检查编号": "in-3", "包保责任方": "nobody", "检查人员": "p011、ghost"}
    manner = {**row, "检查编号": "in-4", "方式": "突击", "发现问题": "【重大】 ", "检查人员": ""}
    early = {**row, "检查编号": "in-5", "记录时间": "2026-09-14 18:00"}
    write_csv(path, [changed, unknown, manner, early], INSPECTION_LEDGER_COLUMNS)
    before = len(store)
    with pytest.raises(InvalidLedger) as info:
        import_inspection_ledger(store, ORG, path, actor=OFFICE_HEAD)
    assert len(store) == before
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("row 2, column 小结", "contradicts the store, which holds '开学安全专项督查', not '复查'"),
        ("row 3, column 包保责任方", "no post or unit 'nobody' in the organisation"),
        ("row 3, column 检查人员", "no person 'ghost' in the organisation"),
        ("row 4, column 方式", "expected 明查 or 暗访, got '突击'"),
        ("row 4, column 检查人员", "empty: a value is required"),
        ("row 4, column 发现问题, line 1", "text: must be non-empty text"),
        ("row 5, column 检查日期", "2026-09-15 is after the inspection was recorded (记录时间)"),
    ]


def test_ledger_dispatch_for_the_command_line(tmp_path: Path, store: Store) -> None:
    history(store)
    inspect(store)
    with open_store("memory:") as target:
        for ledger in Ledger:
            path = tmp_path / f"{ledger.value}.csv"
            export_ledger(ledger.value, store, ORG, path, as_of=AS_OF)
            summary = import_ledger(ledger, target, ORG, path, actor=OFFICE_HEAD, at=AS_OF)
            assert summary.ledger is ledger
            assert str(summary).startswith(f"{path}: ")
        kinds = [r.kind for r in records(target)]
        assert kinds.count("ledger-imported") == 2
        assert kinds.count("inspection") == 2
    with pytest.raises(ValueError, match="'meetings' is not a valid Ledger"):
        export_ledger("meetings", store, ORG, tmp_path / "m.csv")


# -- any history --------------------------------------------------------------------------------

#: The commands that fit a hazard's status, and who is likely allowed to give them.
FITTING = {
    HazardStatus.FOUND: ["register"],
    HazardStatus.REGISTERED: ["plan"],
    HazardStatus.RECTIFYING: ["plan", "claim"],
    HazardStatus.RECTIFIED: ["accept", "reject"],
    HazardStatus.ACCEPTED: ["close"],
    HazardStatus.CLOSED: [],
}
WHO = {
    "find": [SECTION_STAFF, "p002"],
    "register": [OFFICE_STAFF, OFFICE_HEAD],
    "plan": [SECTION_HEAD, OFFICE_STAFF],
    "claim": [SECTION_STAFF, SECTION_HEAD],
    "accept": [SECTION_STAFF_2, OFFICE_STAFF],
    "reject": [SECTION_STAFF_2, OFFICE_STAFF],
    "close": [OFFICE_HEAD],
    "escalate": [OFFICE_HEAD],
}
PEOPLE = [SECTION_HEAD, SECTION_STAFF, SECTION_STAFF_2, OFFICE_HEAD, OFFICE_STAFF]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(1, 30))
def test_any_history_round_trips_through_csv(data: st.DataObject, length: int) -> None:
    """Random histories with random texts: export, import, export gives the same bytes."""
    with open_store("memory:") as store, tempfile.TemporaryDirectory() as tmp:
        hz = Hazards(store, ORG)
        at = T0
        for _ in range(length):
            states = hz.all()
            state = data.draw(st.sampled_from(states)) if states else None
            fitting = FITTING[state.status] if state is not None else []
            finding = ["find"] if len(states) < 3 else []  # a few hazards, far round the loop
            command = data.draw(st.sampled_from([*fitting, *finding, "escalate"]))
            at += data.draw(st.timedeltas(dt.timedelta(0), days(30)))
            hid = state.id if state is not None else "none"
            try:
                run(hz, data, command, hid, actor=data.draw(st.sampled_from(WHO[command])), at=at)
            except (PermissionDenied, InvalidTransition):
                continue  # a claimer re-inspecting their own work, an escalation too soon
        first, second = Path(tmp, "first.csv"), Path(tmp, "second.csv")
        export_hazard_ledger(store, ORG, first, as_of=at)
        with open_store("memory:") as target:
            import_hazard_ledger(target, ORG, first, actor=OFFICE_HEAD)
            export_hazard_ledger(target, ORG, second, as_of=at)
            assert Hazards(target, ORG).all() == hz.all()
        assert second.read_bytes() == first.read_bytes()


def run(hz: Hazards, data: st.DataObject, command: str, hid: str, *, actor: str, at: Any) -> None:
    text = data.draw(texts)
    if command == "find":
        severity = data.draw(st.sampled_from(["general", "major"]))
        inspection = data.draw(st.none() | st.just("in-1"))
        hz.find(SCHOOL, severity, text, actor=actor, inspection=inspection, at=at)
    elif command == "register":
        hz.register(hid, actor=actor, at=at)
    elif command == "plan":
        hz.plan(
            hid,
            actor=actor,
            measures=data.draw(st.lists(texts, min_size=1, max_size=3)),
            responsible=data.draw(st.sampled_from(PEOPLE)),
            time_limit=at.date(),
            funds_yuan=data.draw(st.integers(0, 10**7)),
            safeguards=data.draw(st.lists(texts, min_size=1, max_size=2)),
            at=at,
        )
    elif command == "claim":
        hz.claim(hid, actor=actor, text=data.draw(st.just("整改完成") | texts), at=at)
    elif command in ("accept", "reject"):
        notes = data.draw(st.just("") | st.text(max_size=8))
        hz.reinspect(hid, actor=actor, accepted=command == "accept", notes=notes, at=at)
    elif command == "close":
        hz.close(hid, actor=actor, notes=data.draw(st.text(max_size=8)), at=at)
    else:
        hz.escalate_overdue(at, actor=OFFICE_HEAD)
