"""All the duty cards of an organisation, as Markdown and as Word (issue 11).

For each organisation size (``--sizes``; default the reference organisation with 300
schools) it times, the median of ``--repeat`` runs each from scratch:

- ``duty_cards(org, year)``: every post holder's card (一岗双责责任清单), the year's
  schedule planned inside (``plan_schedule``, which is most of it) — and, beside it, the
  cards from a schedule already planned;
- every card rendered as Markdown (``card_markdown``);
- every card rendered as Word (``card_docx``: the slim template, the body written as
  WordprocessingML);
- the total: the cards with their schedule, Markdown and Word, which is what
  ``dualduty card --all`` does twice over (once per format);
- the same, cold, in a fresh process: from ``import dualduty`` on, the holiday calendar
  read, the reference organisation built, python-docx imported and its template made —
  what one run of the command pays (the warm medians above leave those out, as they are
  paid once per process).

The practical limit beside the Word writer: python-docx writing the same blocks through
its own API (``Document.add_paragraph``, ``add_table``, ``cell.text``), measured once,
without ``--no-reference``.

Goal (issue 11): all the duty cards of the reference organisation with 300 schools, in
Markdown and Word, < 5 s.

Run from the repository root::

    .venv/bin/python benchmarks/bench_cards.py
    .venv/bin/python benchmarks/bench_cards.py --sizes 120 300 1000 --repeat 5 --no-reference
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from timing import median_seconds, sig, verdict

import dualduty
from dualduty.calendars import calendar_for
from dualduty.planning import plan_schedule
from dualduty.reports import _docx
from dualduty.reports.cards import DutyCard, card_docx, card_markdown, duty_cards

YEAR = 2026
GOAL_SCHOOLS = 300
GOAL_SECONDS = 5.0


def python_docx_api(card: DutyCard) -> bytes:
    """The card written through python-docx's own API: the practical limit beside it."""
    import docx

    document = docx.Document()
    for block in card.blocks():
        if isinstance(block, _docx.Heading):
            document.add_heading(block.text, 0 if block.level == 1 else block.level - 1)
        elif isinstance(block, _docx.Para):
            document.add_paragraph(block.text)
        elif isinstance(block, _docx.Bullets):
            for item in block.items:
                document.add_paragraph(item, style="List Bullet")
        elif isinstance(block, _docx.Table):
            table = document.add_table(rows=1, cols=len(block.header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, block.header, strict=True):
                cell.text = text
            for row in block.rows:
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = text
        else:
            for who, name in block.lines:
                document.add_paragraph(f"{who}（签字）：________（{name}）")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


COLD = """
import time
start = time.perf_counter()
import dualduty
from dualduty.reports.cards import card_docx, card_markdown, duty_cards
org = dualduty.reference_organisation(schools={schools})
cards = duty_cards(org, {year})
md = [card_markdown(c) for c in cards]
word = [card_docx(c) for c in cards]
print(time.perf_counter() - start)
"""


def cold(schools: int) -> float:
    """Seconds for everything once in a fresh process, imports included."""
    script = COLD.format(schools=schools, year=YEAR)
    done = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    )
    return float(done.stdout.strip())


def measure(schools: int, repeat: int, reference: bool) -> tuple[str, ...]:
    """One row of the table."""
    org = dualduty.reference_organisation(schools=schools)
    schedule = plan_schedule(org, calendar_for(org, [YEAR]), YEAR)
    cards = duty_cards(org, YEAR, schedule=schedule)
    visits = sum(len(c.visits) for c in cards)
    _docx._template()  # python-docx imported and the template made, once per process
    t_planned = median_seconds(lambda: duty_cards(org, YEAR), repeat)
    t_cards = median_seconds(lambda: duty_cards(org, YEAR, schedule=schedule), repeat)
    t_md = median_seconds(lambda: [card_markdown(c) for c in cards], repeat)
    t_docx = median_seconds(lambda: [card_docx(c) for c in cards], repeat)
    size = sum(len(card_docx(c)) for c in cards)
    total = t_planned + t_md + t_docx
    t_cold = min(cold(schools) for _ in range(repeat))
    worst = max(total, t_cold)
    goal = (
        f"< {GOAL_SECONDS:g} s: {verdict(worst < GOAL_SECONDS)}" if schools == GOAL_SCHOOLS else ""
    )
    ref = "-"
    if reference:
        start = time.perf_counter()
        for card in cards:
            python_docx_api(card)
        ref = sig(time.perf_counter() - start)
    return (
        f"{schools:,} schools, {len(cards)} cards, {visits:,} visits",
        sig(t_planned),
        sig(t_cards),
        sig(t_md),
        sig(t_docx),
        f"{size / 1024:,.0f} KiB",
        sig(total),
        sig(t_cold),
        goal,
        ref,
    )


def table(rows: Sequence[tuple[str, ...]]) -> None:
    head = (
        "organisation",
        "cards+schedule (s)",
        "cards only (s)",
        "markdown (s)",
        "word (s)",
        "word size",
        "total (s)",
        "cold (s)",
        "goal",
        "python-docx API (s)",
    )
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    for n, row in enumerate((head, *rows)):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("-" * (sum(widths) + 2 * (len(widths) - 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[GOAL_SCHOOLS], help="schools")
    parser.add_argument("--repeat", type=int, default=3, help="runs to take the median of (3)")
    parser.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="skip python-docx's own API on the same cards (slow)",
    )
    args = parser.parse_args()
    began = time.perf_counter()
    rows = []
    for schools in args.sizes:
        print(f"{schools:,} schools …", flush=True)
        rows.append(measure(schools, args.repeat, args.reference))
    print()
    table(rows)
    print(
        "total: cards with their schedule planned + Markdown + Word (every post holder's "
        "card, no record read), warm; cold: the same once in a fresh process, imports and "
        "calendar included (the best of --repeat). The goal is judged on the larger."
    )
    print(f"whole run {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
