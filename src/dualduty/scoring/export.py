"""The year-end assessment as an Excel workbook (年终考核结果表), for the leading group.

:func:`assessment_to_xlsx` gives the workbook in memory; :func:`write_assessment_xlsx`
writes it atomically (the file is complete or left as it was). Sheets, Chinese headers:

- ``排名`` (ranking): rank, unit, name, total, grade, vetoed, excellent (优秀科室), and the
  points of each category;
- ``明细`` (items): one row per item of every unit assessed — the rule, its clause, the
  points and maximum, the measured value, the reason (Chinese and English) and the ids
  and record ``seq``\\ s of the evidence;
- ``否决`` (vetoes): each veto with its reason and evidence;
- ``成员`` (members): the leading-group members' totals, when they were assessed.

Needs the ``excel`` extra (openpyxl).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Assessment, ItemScore, YearAssessment

__all__ = ["assessment_to_xlsx", "write_assessment_xlsx"]

_RANKING = ("名次", "单位编号", "单位", "总分", "等次", "一票否决", "优秀科室")
_ITEMS = (
    "单位编号", "单位", "细则", "细则名称", "类别", "条款", "得分", "满分", "测量值",
    "说明", "说明（英文）", "依据", "记录序号", "本地规则",
)  # fmt: skip
_VETOES = ("单位编号", "单位", "否决项", "说明", "说明（英文）", "依据", "记录序号")
_MEMBERS = ("岗位", "成员", "总分", "等次", "一票否决")


def _joined(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values)


def _item_row(a: Assessment, i: ItemScore) -> list[Any]:
    return [
        a.unit, a.name, i.rule, i.name, i.category, i.clause, i.points, i.max_points,
        i.value, i.reason, i.reason_en, _joined(i.evidence), _joined(i.seqs),
        "是" if i.plugin else "",
    ]  # fmt: skip


def assessment_to_xlsx(result: YearAssessment) -> bytes:
    """*result* as an Excel workbook (.xlsx), in memory.

    :raises dualduty.DualdutyError: if openpyxl is not installed.
    """
    from dualduty.io._schedule._table import _need_openpyxl

    _need_openpyxl("writing")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    categories = sorted({i.category for a in result.ranking for i in a.items})
    wb = Workbook()
    bold = Font(bold=True)

    def sheet(
        title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], first: bool
    ) -> None:
        ws: Any = wb.active if first else wb.create_sheet()
        ws.title = title
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = bold
        ws.freeze_panes = "A2"
        for row in rows:
            ws.append(list(row))
        ws.auto_filter.ref = ws.dimensions

    def ranking(a: Assessment) -> list[Any]:
        points = a.category_points()
        return [
            a.rank, a.unit, a.name, a.total, a.grade, "是" if a.vetoed else "",
            "是" if a.excellent else "", *(points.get(c, 0.0) for c in categories),
        ]  # fmt: skip

    everyone = (*result.ranking, *result.members)
    sheet("排名", (*_RANKING, *categories), (ranking(a) for a in result.ranking), True)
    sheet(
        "明细",
        _ITEMS,
        (_item_row(a, i) for a in everyone for i in a.items),
        False,
    )
    sheet(
        "否决",
        _VETOES,
        (
            [a.unit, a.name, v.rule, v.reason, v.reason_en, _joined(v.evidence), _joined(v.seqs)]
            for a in everyone
            for v in a.vetoes
        ),
        False,
    )
    if result.members:
        sheet(
            "成员",
            _MEMBERS,
            ([a.unit, a.name, a.total, a.grade, "是" if a.vetoed else ""] for a in result.members),
            False,
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write_assessment_xlsx(result: YearAssessment, path: str | os.PathLike[str]) -> None:
    """Write :func:`assessment_to_xlsx` of *result* to *path* atomically.

    :raises dualduty.DualdutyError: if openpyxl is not installed or the file cannot be
        written.
    """
    from dualduty.io._schedule._common import write_file

    write_file(path, assessment_to_xlsx(result))
