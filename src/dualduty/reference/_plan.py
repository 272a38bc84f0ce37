"""Parse the reference plan (``plan.zh.txt``) into clause references and their texts.

The plan is read from the package data, never copied into Python: every duty text of
the reference organisation is checked against what this module finds in the plan.

Reference syntax (see :func:`dualduty.reference.clause_text`):

- ``一``, ``二``, ``三``: a whole top-level clause, heading included;
- ``二(一)`` .. ``二(四)``: a whole sub-clause, heading included;
- ``二(一).1`` .. ``二(一).3``, ``二(三).1`` .. ``二(三).4``, ``三.1`` .. ``三.4``:
  a numbered item;
- ``二(二).组长``, ``二(二).副组长``, ``二(二).成员``: a role's duty;
- ``二(四).<unit>``: the whole line of a unit (``二(四).规划科``);
- ``二(四).<unit>.<n>``: the unit's n-th numbered duty (``.1`` for a unit whose single
  duty is not numbered).

A whole clause is given as the plan writes it (lines joined with newlines). An item
(numbered, role or unit duty) is given without its number or label and without the
punctuation that ends it (``；`` or ``。``), which is exactly how the reference
organisation words its duties.
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from importlib import resources

__all__ = [
    "Plan",
    "normalise_ref",
    "plan",
    "raw_text",
]

_TOP = re.compile(r"^(?P<num>[一二三四五六七八九十]+)、")
_SUB = re.compile(r"^（(?P<num>[一二三四五六七八九十]+)）")
_ITEM = re.compile(r"^(?P<num>\d+)\.")
_LABEL = re.compile(r"^(?P<label>[^：:，。；]{1,20})：")
# An item inside a unit's line starts after "；" or "。" (or at the start) with "<n>.".
_INLINE_ITEM = re.compile(r"(?:^|(?<=[；。]))(?P<num>\d+)\.")
_END = "；。"


def raw_text() -> str:
    """The shipped file as it is, truncated summary line included."""
    return resources.files(__package__).joinpath("plan.zh.txt").read_text(encoding="utf-8")


def normalise_ref(ref: str) -> str:
    """A clause reference in canonical form: ASCII brackets and dots, no spaces."""
    table = str.maketrans({"（": "(", "）": ")", "．": ".", "。": "."})
    return "".join(ref.translate(table).split())


def _strip_item(text: str) -> str:
    return text.strip().rstrip(_END).strip()


class Plan:
    """The parsed plan: every clause reference with its text, in plan order."""

    def __init__(self, text: str) -> None:
        lines = text.split("\n")
        #: The plan without the truncated summary line (line 1 of the file).
        self.text = "\n".join(lines[1:])
        self.clauses: dict[str, str] = {}
        #: The units of clause 二(四), in plan order.
        self.units: list[str] = []
        #: How many numbered duties each unit of 二(四) has (1 for an unnumbered one).
        self.unit_duty_counts: dict[str, int] = {}
        self._parse([line.strip() for line in lines[1:]])

    def _parse(self, lines: list[str]) -> None:
        top: str | None = None
        sub: str | None = None
        # Lines that make up each whole clause (top-level and sub-clause).
        blocks: dict[str, list[str]] = {}
        for line in lines:
            if not line:
                continue
            m_top = _TOP.match(line)
            m_sub = _SUB.match(line)
            if m_top:
                top, sub = m_top["num"], None
                blocks[top] = [line]
                self._add(top, "")  # filled in below, so that it keeps its place
                continue
            if top is None:  # the title and the preamble
                continue
            blocks[top].append(line)
            if m_sub:
                sub = f"{top}({m_sub['num']})"
                blocks[sub] = [line]
                self._add(sub, "")
                continue
            if sub is not None:
                blocks[sub].append(line)
            self._item(sub or top, line)
        for ref, block in blocks.items():
            self.clauses[ref] = "\n".join(block)

    def _add(self, ref: str, text: str) -> None:
        if ref in self.clauses:
            raise ValueError(f"the plan has clause {ref!r} twice")
        self.clauses[ref] = text

    def _item(self, parent: str, line: str) -> None:
        m_item = _ITEM.match(line)
        if m_item:
            self._add(f"{parent}.{m_item['num']}", _strip_item(line[m_item.end() :]))
            return
        m_label = _LABEL.match(line)
        if m_label is None:
            if parent in ("二(二)", "二(四)"):
                raise ValueError(f"cannot read plan line in {parent}: {line[:30]!r}")
            return  # running text of a whole clause (clause 一)
        label, body = m_label["label"], line[m_label.end() :]
        if parent == "二(二)":
            self._add(f"{parent}.{label}", _strip_item(body))
        elif parent == "二(四)":
            self._unit_line(label, line, body)
        else:
            raise ValueError(f"unexpected labelled line in {parent}: {line[:30]!r}")

    def _unit_line(self, unit: str, line: str, body: str) -> None:
        self._add(f"二(四).{unit}", line)
        self.units.append(unit)
        starts = list(_INLINE_ITEM.finditer(body))
        if not starts or starts[0].start() != 0:
            # A single unnumbered duty.
            self._add(f"二(四).{unit}.1", _strip_item(body))
            self.unit_duty_counts[unit] = 1
            return
        for k, m in enumerate(starts):
            if int(m["num"]) != k + 1:
                raise ValueError(f"{unit}: duty {m['num']} where {k + 1} was expected")
            end = starts[k + 1].start() if k + 1 < len(starts) else len(body)
            self._add(f"二(四).{unit}.{k + 1}", _strip_item(body[m.end() : end]))
        self.unit_duty_counts[unit] = len(starts)

    def text_of(self, ref: str) -> str:
        """The text of a clause reference; :exc:`KeyError` with a hint when unknown."""
        key = normalise_ref(ref)
        try:
            return self.clauses[key]
        except KeyError:
            raise KeyError(self._unknown(ref, key)) from None

    def _unknown(self, ref: str, key: str) -> str:
        message = f"unknown clause reference {ref!r}"
        head, _, rest = key.partition(".")
        if head == "二(四)" and rest:
            unit, _, num = rest.partition(".")
            if unit not in self.unit_duty_counts:
                close = difflib.get_close_matches(unit, self.units, n=3, cutoff=0.3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                return (
                    f"{message}: clause 二(四) has no unit {unit!r}{hint} "
                    f"(units: {'、'.join(self.units)})"
                )
            n = self.unit_duty_counts[unit]
            return (
                f"{message}: {unit} has {n} numbered dut{'y' if n == 1 else 'ies'} "
                f"(二(四).{unit}.1 to 二(四).{unit}.{n})"
                if num
                else message
            )
        close = difflib.get_close_matches(key, list(self.clauses), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return (
            f"{message}{hint} (references look like 一, 二(一).1, 二(二).副组长, 二(三).2, "
            "二(四).规划科, 二(四).规划科.1, 三.2)"
        )


@cache
def plan() -> Plan:
    """The parsed reference plan (read once)."""
    return Plan(raw_text())
