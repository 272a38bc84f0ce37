"""Write dualduty's built-in holiday files from the chinese-calendar package.

    python tests/data/make_holidays.py [DIRECTORY]

writes ``holidays-YYYY.toml`` for every year chinese-calendar holds (2004–2026 in
1.11.0) into DIRECTORY (default: ``src/dualduty/calendars/data``). The files are in the
holiday file format users write for the years dualduty does not ship ("Holiday files"
in docs/reference/file-format.md). tests/test_calendars.py checks that the shipped files
are what this script writes and, day by day, that they agree with chinese-calendar.

chinese-calendar is a test dependency only: dualduty reads the files, never the package.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import defaultdict
from pathlib import Path

#: chinese-calendar's holiday names -> the names the State Council's notices use.
NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
SOURCE = "国务院办公厅部分节假日安排 (the State Council's holiday arrangements)"
#: Days of one holiday further apart than this start a new entry (元旦 in January and,
#: for the next year's New Year, on 31 December).
GAP = dt.timedelta(days=40)
WIDTH = 100
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "src" / "dualduty" / "calendars" / "data"


def years() -> list[int]:
    """The years chinese-calendar holds."""
    from chinese_calendar import constants

    return sorted({day.year for day in constants.holidays})


def _groups(year: int) -> list[tuple[str, list[dt.date], list[dt.date]]]:
    """``(name, days off, make-up working days)`` per holiday of *year*, in date order."""
    from chinese_calendar import constants

    by_name: dict[str, list[tuple[dt.date, bool]]] = defaultdict(list)
    for table, working in ((constants.holidays, False), (constants.workdays, True)):
        for day, name in table.items():
            if day.year == year:
                by_name[NAMES[name]].append((day, working))
    groups = []
    for name, days in by_name.items():
        days.sort()
        run: list[tuple[dt.date, bool]] = []
        for day, working in days:
            if run and day - run[-1][0] > GAP:
                groups.append((name, run))
                run = []
            run.append((day, working))
        groups.append((name, run))
    groups.sort(key=lambda g: g[1][0][0])
    return [(name, [d for d, w in run if not w], [d for d, w in run if w]) for name, run in groups]


def _array(key: str, days: list[dt.date]) -> str:
    line = f"{key} = [{', '.join(d.isoformat() for d in days)}]"
    if len(line) <= WIDTH:
        return line
    rows = [", ".join(d.isoformat() for d in days[i : i + 7]) for i in range(0, len(days), 7)]
    return f"{key} = [\n" + "".join(f"    {row},\n" for row in rows) + "]"


def render(year: int) -> str:
    """The text of the holiday file of *year*."""
    from importlib.metadata import version

    reference = f"chinese-calendar {version('chinese-calendar')}"
    out = [
        f"# China's statutory holidays (法定节假日) and make-up working days (调休上班) of {year}.",
        '# A dualduty holiday file, format 1: see "Holiday files" in the file-format reference.',
        f"# Written by tests/data/make_holidays.py from {reference};",
        "# tests/test_calendars.py checks it day by day against that package.",
        "format = 1",
        "",
        "[[years]]",
        f"year = {year}",
        f'source = "{SOURCE}"',
    ]
    for name, days_off, workdays in _groups(year):
        out += ["", "[[years.holidays]]", f'name = "{name}"']
        if days_off:
            out.append(_array("days_off", days_off))
        if workdays:
            out.append(_array("workdays", workdays))
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else DEFAULT_DIR
    target.mkdir(parents=True, exist_ok=True)
    for year in years():
        path = target / f"holidays-{year}.toml"
        path.write_text(render(year), encoding="utf-8", newline="\n")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
