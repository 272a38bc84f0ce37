"""The year report (``dualduty report year``): one self-contained HTML file.

Most tests render the hand-built year of ``scoring_year.py`` and read the page back with
the standard library's HTML parser: every section is there, and its figures are those
of the model it shows (the assessment's ranking and totals, the hazards' states, the
compliance view, the packages), escaped, with no external reference, the same bytes
every time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest

import dualduty
import scoring_year as sy
from dualduty.calendars import calendar_for
from dualduty.cli import main
from dualduty.errors import DualdutyError
from dualduty.io import dump, write_schedule_json
from dualduty.model.enums import SECTION_KINDS
from dualduty.planning import default_weight, plan_schedule
from dualduty.plugins import Hooks, make_plugin_manager
from dualduty.records.compliance import compliance
from dualduty.records.hazards import HazardStatus, fold_hazards
from dualduty.reports.html import ReportError, write_year_report, year_report_html
from dualduty.scoring.engine import assess
from dualduty.storage import Store, open_store

SECTIONS = [
    "一、组织与责任体系",
    "二、责任覆盖",
    "三、分包学校均衡",
    "四、年度督查与会议日历",
    "五、隐患排查治理",
    "六、制度落实情况",
    "七、年终考核排名",
]
MARKUP = '<script>alert("x")</script>'


def hooks() -> Hooks:
    """The built-in plugin only."""
    return Hooks(make_plugin_manager(entry_points=False))


def holder_name(holder: str) -> str:
    """A package holder as the report names it: ``局长 孟爱华``, ``法规安全科``."""
    posts = {p.id: p for _u, p in sy.ORG.iter_posts()}
    if holder in posts:
        people = {p.id: p.name for p in sy.ORG.people}
        return f"{posts[holder].title} {people[posts[holder].holder or '']}"
    return next(u.name for u in sy.ORG.units if u.id == holder)


def render(store: Store, org: dualduty.Organisation = sy.ORG, **options: Any) -> str:
    options.setdefault("schedule", sy.SCHEDULE)
    return year_report_html(store, org, 2026, now=sy.NOW, hooks=hooks(), **options)


# -- reading the page back ---------------------------------------------------------------------


@attrs.define
class Node:
    tag: str
    attrib: dict[str, str]
    children: list[Node] = attrs.field(factory=list)
    parts: list[str] = attrs.field(factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def all(self, tag: str, **having: str) -> list[Node]:
        """Every node below of this tag whose attributes include *having* (``_`` for ``-``)."""
        found = []
        for child in self.children:
            wanted = {k.replace("_", "-"): v for k, v in having.items()}
            if child.tag == tag and all(child.attrib.get(k) == v for k, v in wanted.items()):
                found.append(child)
            found.extend(child.all(tag, **having))
        return found

    def with_attr(self, tag: str, name: str) -> list[Node]:
        return [n for n in self.all(tag) if name in n.attrib]


_VOID = {"meta", "br", "img", "input", "link", "hr"}


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        for node in self.stack[1:]:
            node.parts.append(data)


def parse(text: str) -> Node:
    tree = _Tree()
    tree.feed(text)
    tree.close()
    return tree.root


def cells(row: Node) -> list[str]:
    return [c.text for c in row.children if c.tag in ("td", "th")]


# -- the sections and their figures ------------------------------------------------------------


@pytest.fixture
def year(store: Store) -> Store:
    sy.build(store)
    return store


def test_every_section_is_there(year: Store) -> None:
    page = parse(render(year))
    headings = [h.text for h in page.all("h2")]
    assert [next(s for s in SECTIONS if t.startswith(s)) for t in headings] == SECTIONS
    title = page.all("title")[0].text
    assert title == "区教育体育局2026年度学校安全稳定工作“一岗双责”落实情况报告"
    meta = page.all("dl", **{"class": "meta"})[0].text
    assert "2027-01-10 09:00 (+0800)" in meta  # the given now, nothing else
    assert [a.attrib["href"] for a in page.all("a")] == [
        f"#{h.attrib['id']}" for h in page.all("h2")
    ]


def test_the_ranking_is_the_assessment(year: Store) -> None:
    result = assess(year, sy.ORG, 2026, schedule=sy.SCHEDULE, now=sy.NOW, hooks=hooks())
    page = parse(render(year))
    rows = page.with_attr("tr", "data-unit")
    assert [r.attrib["data-unit"] for r in rows] == [a.unit for a in result.ranking]
    assert [float(r.attrib["data-total"]) for r in rows] == [a.total for a in result.ranking]
    assert [int(r.attrib["data-rank"]) for r in rows] == [a.rank for a in result.ranking]
    # the best is the excellent section, the general office is vetoed
    assert rows[0].attrib["data-unit"] == sy.MORAL == result.excellent[0]
    assert "★" in cells(rows[0])[-1]
    office = next(r for r in rows if r.attrib["data-unit"] == sy.UNIT)
    assert "bad" in office.attrib["class"]
    assert result.assessment(sy.UNIT).vetoes[0].reason in cells(office)[-2]
    # one <details> per section, every item with points / max and its reason
    details = page.all("details")
    assert [d.attrib["data-unit"] for d in details] == [a.unit for a in result.ranking]
    moral = details[0]
    items = result.assessment(sy.MORAL).items
    lines = [cells(r) for r in moral.all("tbody")[0].all("tr")]
    assert [line[1] for line in lines] == [i.name for i in items]
    assert [line[3] for line in lines] == [f"{i.points:g} / {i.max_points:g}" for i in items]
    assert [line[4] for line in lines] == [i.reason for i in items]
    assert moral.all("summary")[0].text.startswith(f"1. 政教科：{result.ranking[0].total:g}分")


def test_the_hazard_funnel_and_the_overdue_list(year: Store) -> None:
    states = fold_hazards(year, until=sy.NOW)
    page = parse(render(year))
    funnel = {
        g.attrib["data-stage"]: int(g.attrib["data-count"])
        for g in page.with_attr("g", "data-stage")
    }
    status = Counter(s.status for s in states)
    assert funnel == {
        "found": len(states),
        "registered": len(states) - status[HazardStatus.FOUND],
        "planned": sum(1 for s in states if s.plan is not None),
        "rectified": sum(1 for s in states if s.claimed_by is not None),
        "closed": status[HazardStatus.CLOSED],
        "overdue": sum(1 for s in states if s.overdue(sy.NOW)),
    }
    assert funnel == {  # by hand: five hazards, the major one left without a plan
        "found": 5,
        "registered": 5,
        "planned": 4,
        "rectified": 4,
        "closed": 4,
        "overdue": 1,
    }
    overdue = [s for s in states if s.overdue(sy.NOW)]
    rows = page.with_attr("tr", "data-hazard")
    assert [r.attrib["data-hazard"] for r in rows] == [s.id for s in overdue]
    line = cells(rows[0])
    assert line[1:5] == ["南关街道第一初级中学", "重大", "教学楼外墙开裂", "2026年11月1日"]
    assert line[5] == "2027年1月30日"  # 90 days for a major hazard
    assert line[7] == "未按期制定整改方案"


def test_the_compliance_table_is_the_view(year: Store) -> None:
    view = compliance(year, sy.ORG, sy.SCHEDULE, now=sy.NOW)
    page = parse(render(year))
    rows = page.with_attr("tr", "data-section")
    assert len(rows) == len(view.sections)
    for row in view.sections:
        quarter = "year" if row.quarter is None else str(row.quarter)
        (tr,) = [
            r
            for r in rows
            if r.attrib["data-section"] == row.section and r.attrib["data-quarter"] == quarter
        ]
        figures = [c.text for c in tr.children if c.tag == "td"]
        v, h = row.visits.counts(), row.hazards.counts()
        reports = Counter(r.status.value for r in row.reports)
        assert figures[1:7] == [
            str(v[k]) for k in ("due", "done", "late", "missed", "pending", "ad_hoc")
        ]
        assert figures[7:9] == [str(row.topic_studies.required), str(len(row.topic_studies.held))]
        assert figures[10:14] == [
            str(reports[k]) for k in ("on_time", "late", "missing", "pending")
        ]
        assert figures[14:] == [str(h[k]) for k in ("found", "major", "closed", "open", "overdue")]
    (office,) = [
        r
        for r in rows
        if r.attrib["data-section"] == sy.UNIT and r.attrib["data-quarter"] == "year"
    ]
    figures = [c.text for c in office.children if c.tag == "td"]
    e = sy.EXPECTED
    assert figures[1:5] == [
        str(int(e[k])) for k in ("visits_due", "visits_done", "visits_late", "visits_missed")
    ]
    assert figures[8] == str(int(e["topic_studies_held"]))


def test_the_calendar_counts_the_days(year: Store) -> None:
    page = parse(render(year))
    days = page.with_attr("g", "data-date")
    assert len(days) == 365
    assert [d.attrib["data-date"] for d in days][:2] == ["2026-01-01", "2026-01-02"]
    # inspections carried out in 2026: the office's six and its ad hoc one, 政教科's seven
    assert sum(int(d.attrib["data-inspections"]) for d in days) == 6 + 1 + 7
    # meetings held in 2026: topic studies 7 + 8, coordination meetings 3
    assert sum(int(d.attrib["data-meetings"]) for d in days) == 7 + 8 + 3
    by_day = {d.attrib["data-date"]: d for d in days}
    assert "法定节假日：国庆节" in by_day["2026-10-01"].all("title")[0].text
    cal = calendar_for(sy.ORG, [2026])
    makeup = next(
        d for d in (dt.date(2026, 1, 1) + dt.timedelta(n) for n in range(365))
        if d.weekday() >= 5 and cal.is_working_day(d)
    )  # fmt: skip
    assert "调休上班" in by_day[makeup.isoformat()].all("title")[0].text
    ad_hoc = by_day["2026-05-15"]
    assert ad_hoc.attrib["data-inspections"] == "1"


def test_the_graph_the_coverage_and_the_balance(year: Store) -> None:
    page = parse(render(year))
    graph = dualduty.OrgGraph(sy.ORG)
    nodes = {g.attrib["data-key"] for g in page.with_attr("g", "data-key")}
    group = graph.leading_group()
    assert group is not None
    assert {p.id for p in group.posts} <= nodes
    assert {u.id for u in graph.sections()} <= nodes
    assert "safety-office" in nodes  # the leading group's office
    # schools × holders: each school row marks its two holders
    matrix = page.all("table", **{"class": "matrix"})[0]
    header = [c.text for c in matrix.all("thead")[0].all("th")]
    for row in matrix.all("tbody")[0].all("tr"):
        line = cells(row)
        school = next(s for s in sy.ORG.schools if s.name == line[0])
        marked = {header[i] for i, c in enumerate(line) if c == "●"}
        assert marked == {holder_name(p.holder) for p in graph.packages_of(school.id)}
    # package balance: each holder's load is the sum of its schools' weights
    weights = {s.id: default_weight(s) for s in sy.ORG.schools}
    bars = {
        b.attrib["data-label"]: float(b.attrib["data-value"])
        for b in page.with_attr("g", "data-value")
    }
    assert bars == {
        holder_name(p.holder): sum(weights[s] for s in p.schools) for p in sy.ORG.packages
    }
    assert "未发现责任缺口" in page.all("section")[2].text


# -- escaping, references, determinism ---------------------------------------------------------


def test_text_is_escaped(store: Store) -> None:
    schools = list(sy.ORG.schools)
    schools[1] = attrs.evolve(schools[1], name=f"{MARKUP}中学", township='"><b>镇')
    org = attrs.evolve(sy.ORG, schools=tuple(schools), name=f"{MARKUP}局")
    r = sy.build(store)
    r.hazards.find(sy.SCHOOL, "major", f"{MARKUP}外墙", actor=sy.STAFF, at=sy.at(2026, 12, 1))
    text = render(store, org)
    assert "<script" not in text
    assert "<b>" not in text
    assert text.count("&lt;script&gt;") >= 5  # title, header, matrix, overdue list, graph
    page = parse(text)
    assert page.all("script") == []
    assert page.all("b") == []
    assert f"{MARKUP}外墙" in [cells(r)[3] for r in page.with_attr("tr", "data-hazard")]
    assert page.all("title")[0].text.startswith(f"{MARKUP}局")


def test_self_contained_and_deterministic(year: Store, tmp_path: Path) -> None:
    text = render(year)
    assert "http://" not in text
    assert "https://" not in text
    assert not re.search(r"\b(src|srcset|xlink:href)=", text)
    assert not re.search(r"\bhref=\"(?!#)", text)  # links only within the page
    assert "@import" not in text
    assert "url(" not in text
    assert render(year) == text  # the same record and now: the same bytes
    # … and the same from a SQLite store with the same records
    with open_store(f"sqlite:///{tmp_path / 'year.db'}") as other:
        sy.build(other)
        assert render(other) == text


def test_a_large_organisation_is_summarised(store: Store) -> None:
    org = dualduty.reference_organisation(schools=120)
    schedule = plan_schedule(org, calendar_for(org, [2026]), 2026)
    text = year_report_html(store, org, 2026, now=sy.NOW, schedule=schedule, hooks=hooks())
    page = parse(text)
    matrix = page.all("table", **{"class": "matrix"})[0]
    header = [c.text for c in matrix.all("thead")[0].all("th")]
    assert header[:2] == ["乡镇", "学校"]
    rows = [cells(r) for r in matrix.all("tbody")[0].all("tr")]
    assert sum(int(r[1]) for r in rows) == 120
    assert sorted(r[0] for r in rows) == sorted({s.township or "" for s in org.schools})
    assert len(page.with_attr("tr", "data-unit")) == len(
        [u for u in org.units if u.kind in SECTION_KINDS]
    )


def test_errors(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="year"):
        year_report_html(store, sy.ORG, 1900, now=sy.NOW, schedule=sy.SCHEDULE, hooks=hooks())
    with pytest.raises(ReportError, match="time zone"):
        year_report_html(store, sy.ORG, 2026, now=dt.datetime(2027, 1, 10), hooks=hooks())
    other = plan_schedule(sy.ORG, calendar_for(sy.ORG, [2025]), 2025)
    with pytest.raises(DualdutyError, match="2025"):
        render(store, schedule=other)
    with pytest.raises(DualdutyError, match="holiday"):  # 2031: no holidays to plan with
        year_report_html(store, sy.ORG, 2031, now=sy.NOW, hooks=hooks())
    target = tmp_path / "missing" / "report.html"
    with pytest.raises(DualdutyError):
        write_year_report(
            target, store, sy.ORG, 2026, now=sy.NOW, schedule=sy.SCHEDULE, hooks=hooks()
        )
    assert not target.parent.exists()


def test_write_year_report(year: Store, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text("old")
    text = write_year_report(
        path, year, sy.ORG, 2026, now=sy.NOW, schedule=sy.SCHEDULE, hooks=hooks()
    )
    assert path.read_text("utf-8") == text == render(year)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


# -- the command ---------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """A district file, a schedule file and a SQLite store holding the hand-built year."""
    org, schedule, db = tmp_path / "org.toml", tmp_path / "schedule.json", tmp_path / "year.db"
    dump(sy.ORG, org)
    write_schedule_json(sy.SCHEDULE, schedule)
    with open_store(f"sqlite:///{db}") as store:
        sy.build(store)
    return {"org": str(org), "schedule": str(schedule), "db": f"sqlite:///{db}"}


def test_the_command_writes_the_report(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, again, planned = (tmp_path / f"{n}.html" for n in ("report", "again", "planned"))
    store = ["--db", files["db"], "--org", files["org"], "--year", "2026"]
    now = ["--now", sy.NOW.isoformat()]
    schedule = ["--schedule", files["schedule"]]
    assert main(["report", "year", *store, "--html", str(out), *schedule, *now]) == 0
    assert str(out) in capsys.readouterr().err
    with open_store(files["db"], readonly=True) as opened:
        assert out.read_text("utf-8") == render(opened)
    # the kind may be left out: `dualduty report --year 2026 --html FILE …`
    assert main(["report", *store, "--html", str(again), *schedule, *now]) == 0
    assert again.read_bytes() == out.read_bytes()
    # without --schedule the schedule is planned from the file, as it was for the year
    assert main(["report", "year", *store, "--html", str(planned), *now]) == 0
    assert planned.read_bytes() == out.read_bytes()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--org": "missing.toml"}, "missing.toml"),
        ({"--db": "sqlite:///nowhere/none.db"}, "none.db"),
        ({"--year": "2031"}, "2026"),  # a schedule of 2026 for 2031
        ({"--rubric": "missing-rubric.toml"}, "missing-rubric.toml"),
    ],
)
def test_the_command_on_bad_input(
    files: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    message: str,
) -> None:
    out = tmp_path / "report.html"
    options = {
        "--db": files["db"],
        "--org": files["org"],
        "--year": "2026",
        "--html": str(out),
        "--schedule": files["schedule"],
        "--now": sy.NOW.isoformat(),
    }
    for key, value in change.items():
        options[key] = value if "/" in value or key == "--year" else str(tmp_path / value)
    args = [x for kv in options.items() for x in kv]
    assert main(["report", "year", *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("dualduty: ")
    assert message in err
    assert not out.exists()


def test_the_command_needs_a_time_zone(files: dict[str, str], tmp_path: Path) -> None:
    args = ["report", "year", "--db", files["db"], "--org", files["org"], "--year", "2026"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--html", str(tmp_path / "r.html"), "--now", "2027-01-10T09:00"])
    assert exit_.value.code == 2
