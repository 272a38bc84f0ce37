"""Inline SVG charts for the year report (:mod:`dualduty.reports.html`), drawn in Python.

Every function returns one ``<svg>`` element as text, for inline use in an HTML page
(which gives it the SVG namespace, so no ``xmlns`` is written): sizes in pixels with a
``viewBox``, so the chart scales with the page; every text escaped; no scripts, no
external references, no ids. Colours and fonts come from the
report's stylesheet through class names where they can, so the charts print as the page
does.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import html
from collections.abc import Mapping, Sequence

import attrs

__all__ = [
    "CATEGORY_COLOURS",
    "Bar",
    "CalendarDay",
    "ChartNode",
    "Stage",
    "category_bars",
    "funnel",
    "heat_legend",
    "heat_levels",
    "horizontal_bars",
    "month_grid",
    "org_chart",
]

#: The fonts of every chart (Chinese first, then what a machine without them has).
FONT = (
    "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',"
    "'WenQuanYi Zen Hei',sans-serif"
)
_WEEKDAYS = "一二三四五六日"
#: The colours of the assessment's categories, in the rubric's order.
CATEGORY_COLOURS = ("#2e75b6", "#e67e22", "#27ae60", "#8e44ad", "#16a085")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    """A coordinate as short text: ``12``, ``12.5``."""
    return f"{round(value, 1):g}"


def _svg(width: float, height: float, label: str, body: Sequence[str], css: str = "") -> str:
    cls = f"chart {css}".strip()
    return (
        f'<svg class="{_e(cls)}" role="img" '
        f'width="{_n(width)}" height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'aria-label="{_e(label)}" font-family="{_e(FONT)}">'
        f"<title>{_e(label)}</title>" + "".join(body) + "</svg>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: float = 12,
    anchor: str = "start",
    fill: str = "#222",
    weight: str = "normal",
) -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" '
        f'fill="{fill}"{bold}>{_e(text)}</text>'
    )


def _width(text: str, size: float = 12) -> float:
    """About how wide *text* is in pixels (a CJK character one em, others 0.6)."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.6 for ch in text) * size


def _fit(text: str, width: float, size: float = 12) -> str:
    """*text* cut with an ellipsis to about *width* pixels (a CJK character ≈ one em)."""
    room = width / size
    used = 0.0
    for i, ch in enumerate(text):
        used += 1.0 if ord(ch) > 0x2E7F else 0.6
        if used > room:
            return text[: max(i - 1, 1)] + "…"
    return text


# -- the organisation ---------------------------------------------------------------------------


@attrs.frozen
class ChartNode:
    """A box of the organisation chart.

    :param key: what edges name it by.
    :param label: its first line (a post's title and holder, a section's name).
    :param note: its second, smaller line (a role, the schools it packages).
    :param warn: drawn in the warning colour (a section no one is in charge of).
    """

    key: str
    label: str
    note: str = ""
    warn: bool = False
    dashed: bool = False


def org_chart(
    root: ChartNode,
    middle: Sequence[tuple[ChartNode, Sequence[ChartNode]]],
    *,
    label: str,
) -> str:
    """A left-to-right layered chart: *root* (the leader), the *middle* column (deputies and
    members; the office), each with its group of leaves (the sections it is in charge of).

    The layout is computed here: leaves are stacked in order, each middle node centred on
    its group, the root centred on the middle column; edges are cubic curves.
    """
    row, gap, top = 30.0, 12.0, 16.0
    h = row - 6
    x0, w0 = 8.0, 170.0
    x1, w1 = 214.0, 250.0
    x2, w2 = 508.0, 236.0
    width = x2 + w2 + 8
    # the layout: leaves stacked in order, each middle node centred on its group
    layout: list[tuple[ChartNode, float, list[tuple[ChartNode, float]]]] = []
    y = top
    for node, leaves in middle:
        first = y
        placed = []
        for leaf in leaves:
            placed.append((leaf, y))
            y += row
        if not leaves:
            y += row
        layout.append((node, first + (max(len(leaves), 1) * row - 6) / 2, placed))
        y += gap
    height = max(y - gap + top, top * 2 + row)
    centres = [centre for _node, centre, _placed in layout]
    root_y = (centres[0] + centres[-1]) / 2 if centres else height / 2
    edges: list[str] = []
    boxes: list[str] = []
    for node, centre, placed in layout:
        edges.append(_curve(x0 + w0, root_y, x1, centre, node.dashed))
        boxes.append(_box(x1, centre - h / 2, w1, h, node))
        for leaf, top_y in placed:
            edges.append(_curve(x1 + w1, centre, x2, top_y + h / 2, node.dashed))
            boxes.append(_box(x2, top_y, w2, h, leaf))
    boxes.append(_box(x0, root_y - (row + 4) / 2, w0, row + 4, root, strong=True))
    return _svg(width, height, label, [*edges, *boxes], "org")


def _curve(xa: float, ya: float, xb: float, yb: float, dashed: bool) -> str:
    """A cubic curve from (xa, ya) to (xb, yb), level at both ends."""
    mid = (xa + xb) / 2
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<path d="M{_n(xa)} {_n(ya)} C{_n(mid)} {_n(ya)}, {_n(mid)} {_n(yb)}, '
        f'{_n(xb)} {_n(yb)}" fill="none" stroke="#9aa5b1" stroke-width="1.2"{dash}/>'
    )


def _box(x: float, y: float, w: float, h: float, node: ChartNode, *, strong: bool = False) -> str:
    fill = "#fdecea" if node.warn else ("#1f4e79" if strong else "#eef3f8")
    stroke = "#c0392b" if node.warn else "#1f4e79"
    colour = "#fff" if strong else "#1b2733"
    dash = ' stroke-dasharray="4 3"' if node.dashed else ""
    parts = [
        f'<g class="node" data-key="{_e(node.key)}">',
        f"<title>{_e(node.label + ('：' + node.note if node.note else ''))}</title>",
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="4" '
        f'fill="{fill}" stroke="{stroke}"{dash}/>',
    ]
    if node.note:
        note_w = min(_width(node.note, 11) + 12, w * 0.45)
        label_w = w - note_w - 6
        parts.append(
            _text(x + 6, y + h / 2 + 4, _fit(node.label, label_w), fill=colour, weight="bold")
        )
        parts.append(
            _text(
                x + w - 6,
                y + h / 2 + 4,
                _fit(node.note, note_w - 8, 11),
                size=11,
                anchor="end",
                fill="#dfe8f1" if strong else "#52606d",
            )
        )
    else:
        parts.append(_text(x + 6, y + h / 2 + 4, _fit(node.label, w - 12), fill=colour))
    parts.append("</g>")
    return "".join(parts)


# -- bars ---------------------------------------------------------------------------------------


@attrs.frozen
class Bar:
    """One bar: its label, its value and the text shown after it."""

    label: str
    value: float
    text: str
    warn: bool = False


def horizontal_bars(bars: Sequence[Bar], *, label: str, mean: float | None = None) -> str:
    """Horizontal bars, one row each, scaled to the largest; a dashed line at *mean*."""
    row, left, room, right = 22.0, 178.0, 380.0, 120.0
    width = left + room + right
    height = row * max(len(bars), 1) + 26
    top = 6.0
    biggest = max((b.value for b in bars), default=0.0) or 1.0
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = top + i * row
        w = room * max(bar.value, 0.0) / biggest
        colour = "#c0392b" if bar.warn else "#2e75b6"
        body.append(
            f'<g class="bar" data-label="{_e(bar.label)}" data-value="{_e(_n(bar.value))}">'
            f"<title>{_e(bar.label)}：{_e(bar.text)}</title>"
            + _text(left - 6, y + 15, _fit(bar.label, left - 12), anchor="end")
            + f'<rect x="{_n(left)}" y="{_n(y + 3)}" width="{_n(max(w, 0.5))}" '
            f'height="{_n(row - 7)}" fill="{colour}" rx="2"/>'
            + _text(left + w + 6, y + 15, bar.text, size=11, fill="#52606d")
            + "</g>"
        )
    if mean is not None and bars:
        x = left + room * mean / biggest
        bottom = top + row * len(bars)
        body.append(
            f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(bottom)}" '
            'stroke="#e67e22" stroke-width="1.5" stroke-dasharray="5 3"/>'
        )
        body.append(
            _text(x, bottom + 14, f"平均 {mean:.1f}", size=11, anchor="middle", fill="#e67e22")
        )
    return _svg(width, height, label, body, "bars")


@attrs.frozen
class Stage:
    """A stage of the hazard funnel."""

    key: str
    label: str
    count: int


def funnel(stages: Sequence[Stage], *, label: str, overdue: int = 0) -> str:
    """The hazard funnel: one centred bar per stage, its width by its count."""
    row, width = 44.0, 700.0
    centre, room = 330.0, 420.0
    height = row * len(stages) + (30 if overdue else 10)
    first = max((s.count for s in stages), default=0) or 1
    body: list[str] = []
    palette = ("#1f4e79", "#2e75b6", "#4a90c8", "#6aaed6", "#2e8b57", "#27ae60")
    for i, stage in enumerate(stages):
        y = 6 + i * row
        w = max(room * stage.count / first, 2.0)
        share = f"{stage.count / first:.0%}" if i else ""
        body.append(
            f'<g class="stage" data-stage="{_e(stage.key)}" data-count="{stage.count}">'
            f"<title>{_e(stage.label)}：{stage.count}</title>"
            f'<rect x="{_n(centre - w / 2)}" y="{_n(y)}" width="{_n(w)}" height="{_n(row - 10)}" '
            f'fill="{palette[i % len(palette)]}" rx="3"/>'
            + _text(8, y + 22, stage.label, size=13)
            + _text(
                centre + room / 2 + 14,
                y + 22,
                f"{stage.count}" + (f"（{share}）" if share else ""),
                size=13,
                weight="bold",
            )
            + "</g>"
        )
    if overdue:
        y = 6 + len(stages) * row
        body.append(
            f'<g class="stage" data-stage="overdue" data-count="{overdue}">'
            + _text(8, y + 14, f"其中逾期未销号：{overdue}", size=13, fill="#c0392b", weight="bold")
            + "</g>"
        )
    return _svg(width, height, label, body, "funnel")


def category_bars(
    parts: Sequence[tuple[str, float, float | None]], *, label: str, scale: float
) -> str:
    """A unit's points per category: one thin bar each, against the category's maximum
    (*parts*: name, points, maximum or ``None``), on a common *scale* of points."""
    row, width = 12.0, 220.0
    height = row * max(len(parts), 1) + 2
    colours = CATEGORY_COLOURS
    body: list[str] = []
    unit = (width - 2) / (scale or 1.0)
    for i, (name, points, top) in enumerate(parts):
        y = 1 + i * row
        if top is not None:
            body.append(
                f'<rect x="1" y="{_n(y)}" width="{_n(top * unit)}" height="{_n(row - 3)}" '
                'fill="#e8edf2" rx="2"/>'
            )
        w = max(points, 0.0) * unit
        shown = f"{points:g}" + (f"/{top:g}" if top is not None else "")
        body.append(
            f'<rect x="1" y="{_n(y)}" width="{_n(max(w, 0.5))}" height="{_n(row - 3)}" '
            f'fill="{colours[i % len(colours)]}" rx="2"><title>{_e(name)}：{_e(shown)}</title>'
            "</rect>"
        )
    return _svg(width, height, label, body, "cats")


# -- the calendar --------------------------------------------------------------------------------


@attrs.frozen
class CalendarDay:
    """What one day of the calendar shows."""

    inspections: int = 0
    planned: int = 0
    meetings: tuple[str, ...] = ()
    """What the meetings held that day were (their kinds and topics, in words)."""
    holiday: str | None = None
    """The statutory holiday the day is a day off or a make-up working day (调休) for."""
    workday: bool | None = None
    """Whether it is a working day (``None``: not known)."""


def heat_levels(counts: Sequence[int]) -> tuple[int, ...]:
    """The upper bounds of the four heat levels above zero for these counts."""
    top = max(counts, default=0)
    if top <= 4:
        return (1, 2, 3, max(top, 4))
    step = -(-top // 4)
    return (step, 2 * step, 3 * step, top)


_HEAT = ("#f4f6f8", "#cfe8d5", "#8fcf9f", "#46a86a", "#1e7b45")


def _heat(count: int, levels: Sequence[int]) -> int:
    """The heat level (0-4) of a day's count: an index into the colours."""
    if count <= 0:
        return 0
    for i, bound in enumerate(levels):
        if count <= bound:
            return i + 1
    return len(_HEAT) - 1


def month_grid(
    year: int,
    month: int,
    days: Mapping[dt.date, CalendarDay],
    levels: Sequence[int],
) -> str:
    """One month as a grid of days (Monday first): the colour counts the inspections carried
    out that day, an orange dot marks a meeting held, a red number a statutory holiday, a
    grey number a weekend or other day off, a small 班 a make-up working day (调休)."""
    cell, head = 22.0, 34.0
    weeks = _calendar.monthcalendar(year, month)
    width = cell * 7 + 2
    height = head + cell * len(weeks) + 2
    body = [
        _text(width / 2, 13, f"{month}月", size=13, anchor="middle", weight="bold"),
    ]
    for i, name in enumerate(_WEEKDAYS):
        body.append(
            _text(1 + i * cell + cell / 2, 29, name, size=10, anchor="middle", fill="#7b8794")
        )
    total = 0
    for r, week in enumerate(weeks):
        for c, number in enumerate(week):
            if not number:
                continue
            day = dt.date(year, month, number)
            info = days.get(day, _EMPTY_DAY)
            total += info.inspections
            x, y = 1 + c * cell, head + r * cell
            weekend = c >= 5
            off = (not info.workday) if info.workday is not None else weekend
            # holiday_name names both a holiday's days off and its make-up working days
            holiday = info.holiday if info.holiday and off else None
            makeup = bool(info.workday) and weekend
            heat = _heat(info.inspections, levels)
            colour = "#c0392b" if holiday else ("#9aa5b1" if off else "#1b2733")
            if heat >= 3 and not holiday:  # light text on the dark greens
                colour = "#e6f4ea" if off else "#fff"
            tip = [f"{year}年{month}月{number}日（星期{_WEEKDAYS[c]}）"]
            if holiday:
                tip.append(f"法定节假日：{holiday}")
            elif makeup:
                tip.append(f"调休上班（{info.holiday}）" if info.holiday else "调休上班")
            tip.append(f"专门督查及随机督查{info.inspections}次")
            if info.planned:
                tip.append(f"计划督查{info.planned}次")
            tip.extend(info.meetings)
            stroke = ' stroke="#c0392b" stroke-width="1.2"' if holiday else ""
            body.append(
                f'<g class="day" data-date="{day.isoformat()}" '
                f'data-inspections="{info.inspections}" data-meetings="{len(info.meetings)}">'
                f"<title>{_e('；'.join(tip))}</title>"
                f'<rect x="{_n(x + 1)}" y="{_n(y + 1)}" width="{_n(cell - 2)}" '
                f'height="{_n(cell - 2)}" rx="3" fill="{_HEAT[heat]}"{stroke}/>'
                + _text(x + cell / 2, y + 15, str(number), size=10, anchor="middle", fill=colour)
            )
            if info.meetings:
                body.append(
                    f'<circle cx="{_n(x + cell - 5)}" cy="{_n(y + 5)}" r="3" fill="#e67e22"/>'
                )
            if makeup:
                body.append(_text(x + 6, y + 9, "班", size=7, anchor="middle", fill="#c0392b"))
            body.append("</g>")
    return _svg(width, height, f"{year}年{month}月：督查{total}次", body, "month")


_EMPTY_DAY = CalendarDay()


def heat_legend(levels: Sequence[int]) -> str:
    """The legend of the calendar's colours."""
    cell = 16.0
    body: list[str] = []
    x = 2.0
    lower = 1
    labels = ["0"]
    for bound in levels:
        labels.append(f"{lower}" if bound == lower else f"{lower}–{bound}")
        lower = bound + 1
    for colour, text in zip(_HEAT, labels, strict=True):
        body.append(
            f'<rect x="{_n(x)}" y="3" width="{_n(cell)}" height="{_n(cell)}" rx="3" '
            f'fill="{colour}" stroke="#d0d7de"/>'
        )
        body.append(_text(x + cell + 4, 15, text, size=11, fill="#52606d"))
        x += cell + 12 + 7 * len(text)
    body.append(f'<circle cx="{_n(x + 6)}" cy="11" r="4" fill="#e67e22"/>')
    body.append(_text(x + 14, 15, "召开会议", size=11, fill="#52606d"))
    x += 80
    body.append(
        f'<rect x="{_n(x)}" y="3" width="{_n(cell)}" height="{_n(cell)}" rx="3" '
        'fill="#f4f6f8" stroke="#c0392b"/>'
    )
    body.append(_text(x + cell + 4, 15, "法定节假日", size=11, fill="#52606d"))
    x += 90
    return _svg(x, 22, "图例：每日督查次数", body, "legend")
