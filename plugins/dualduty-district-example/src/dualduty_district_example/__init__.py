"""An example district plugin: local rules for the year-end assessment (年终考核, 三.4).

A district scores its sections a little differently from the plan's default rubric. This
plugin shows the three kinds of change, each where it belongs:

- **weights** are data: :func:`district_rubric` is the default rubric with the district's
  :data:`WEIGHTS` (dedicated inspections 专门督查 worth 20 points instead of 15, hazards
  rectified on time 隐患按期整改销号 15 instead of 20; the total stays 100), which the
  plugin gives through ``dualduty_rubric`` whenever no rubric is named (so installing
  the plugin is enough); a rubric passed to :func:`dualduty.scoring.assess` or given with
  ``dualduty assess --rubric`` still wins;
- **a bonus** is a scoring rule (``dualduty_register_scoring_rules``):
  :class:`UnannouncedVisitBonus` gives a point for each unannounced ad hoc inspection
  (暗访, 三.2) of the section's packaged schools, at most three;
- **a veto** is a scoring rule too: :class:`OpenMajorHazardVeto` fails a section one of
  whose packaged schools still has a major hazard (重大安全隐患) open at the year's end
  (一票否决).

The weights and the rules take part whenever the plugin is registered (installed and
loaded through its entry point ``district_example``).
:mod:`dualduty_district_example.demo` records a small year on which the three changes
are easy to check by hand.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Mapping

import attrs

from dualduty.model import Organisation
from dualduty.plugins import hookimpl
from dualduty.records import InspectionRecorded
from dualduty.records.hazards import HazardFound, HazardRules, HazardState, fold_hazards
from dualduty.scoring import Rubric, ScoreItem, ScoringContext, ScoringRule, Veto, default_rubric

__all__ = [
    "PREFIX",
    "WEIGHTS",
    "OpenMajorHazardVeto",
    "UnannouncedVisitBonus",
    "district_rubric",
    "packaged_schools",
]

__version__ = "0.1.0"

#: The prefix of every name this plugin gives (rules, the rubric's id).
PREFIX = "district_example"

#: The district's weights: rubric item id to its ``max_points``. Each category's maximum
#: moves by what its items gained or lost, so the total stays 100.
WEIGHTS: Mapping[str, float] = {"visits": 20.0, "hazards_rectified": 15.0}


def district_rubric(base: Rubric | None = None) -> Rubric:
    """*base* (default: :func:`dualduty.scoring.default_rubric`) with :data:`WEIGHTS`.

    Only the items' ``max_points`` change, and their categories' maximums with them;
    everything else (deductions, vetoes, bands, the award) is the base's. The rubric
    checks itself, so a weight that breaks it raises
    :class:`dualduty.scoring.InvalidRubric`.

    :raises KeyError: if *base* has no item of a weight's id.
    """
    base = default_rubric() if base is None else base
    shift: dict[str, float] = {}
    for item_id, weight in WEIGHTS.items():
        item = base.item(item_id)
        if item.base:
            shift[item.category] = shift.get(item.category, 0.0) + weight - item.max_points
    items = [
        attrs.evolve(i, max_points=WEIGHTS[i.id]) if i.id in WEIGHTS else i for i in base.items
    ]
    categories = [
        attrs.evolve(c, max_points=c.max_points + shift[c.id])
        if c.max_points is not None and c.id in shift
        else c
        for c in base.categories
    ]
    return attrs.evolve(
        base,
        id=PREFIX,
        name=f"{base.name}（示例区）",
        name_en=f"{base.name_en} (example district)",
        categories=categories,
        items=items,
    )


def packaged_schools(org: Organisation, holder: str, year: int) -> frozenset[str]:
    """The schools packaged to *holder* (a section, or a leading-group post) on some day of
    *year* (分包学校, 三.1)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return frozenset(
        school
        for p in org.packages
        if p.holder == holder
        and (p.start is None or p.start <= last)
        and (p.end is None or p.end >= first)
        for school in p.schools
    )


@attrs.frozen
class _Index:
    """What the rules need of a year's records, read once for every unit assessed."""

    unannounced: dict[str, list[tuple[str, int]]]
    """Holder -> (school, seq) of its unannounced ad hoc inspections in the year."""
    open_major: list[HazardState]
    """The major hazards still open when the year ends, in the order found."""
    found: dict[str, int]
    """Hazard id -> the seq of the record of its finding."""


#: The last few indexes, by store, its head, the year and the time assessed as of: an
#: assessment asks every rule once per unit, and the records do not change meanwhile.
_INDEXES: dict[tuple[object, ...], _Index] = {}


def _index(context: ScoringContext) -> _Index:
    store, year, org = context.store, context.year, context.org
    key = (id(store), store.url, store.head(), year, context.now, org.id)
    cached = _INDEXES.get(key)
    if cached is not None:
        return cached
    unannounced: dict[str, list[tuple[str, int]]] = {}
    for entry in store.read(kind="inspection"):
        data = entry.record.data
        if (
            isinstance(data, InspectionRecorded)
            and data.visit is None
            and data.announced is False
            and data.date.year == year
        ):
            unannounced.setdefault(data.holder, []).append((data.school, entry.seq))
    year_end = dt.datetime(year + 1, 1, 1, tzinfo=zoneinfo.ZoneInfo(org.timezone))
    open_major = [
        h
        for h in fold_hazards(store, HazardRules.of(org.rules), until=year_end)
        if h.major and h.open
    ]
    found = {
        entry.record.data.hazard: entry.seq
        for entry in store.read(kind="hazard-found", until=year_end)
        if isinstance(entry.record.data, HazardFound)
    }
    index = _Index(unannounced, open_major, found)
    if len(_INDEXES) >= 4:
        _INDEXES.pop(next(iter(_INDEXES)))
    _INDEXES[key] = index
    return index


@attrs.frozen
class UnannouncedVisitBonus:
    """加分: a bonus for each unannounced ad hoc inspection (暗访, 三.2 不定期明查暗访) of the
    unit's packaged schools made in the year, by the unit: an
    :class:`~dualduty.records.InspectionRecorded` with no scheduled ``visit``, ``announced``
    false, ``holder`` the unit, its ``date`` in the year.

    :param per_visit: the points for each.
    :param most: the most it gives.
    """

    per_visit: float = 1.0
    most: float = 3.0
    category: str = "system_implementation"

    @property
    def id(self) -> str:
        """``district_example.unannounced_visits``."""
        return f"{PREFIX}.unannounced_visits"

    def score(self, context: ScoringContext) -> Iterable[ScoreItem | Veto]:
        """One item when the unit made any, else none."""
        if context.store is None:
            return []
        schools = packaged_schools(context.org, context.unit, context.year)
        index = _index(context)
        seqs = [seq for school, seq in index.unannounced.get(context.unit, ()) if school in schools]
        if not seqs:
            return []
        points = min(self.most, self.per_visit * len(seqs))
        return [
            ScoreItem(
                self.id,
                self.category,
                points,
                f"本区加分：不打招呼暗访{len(seqs)}次，每次加{self.per_visit:g}分，"
                f"至多{self.most:g}分，加{points:g}分 / district bonus: {len(seqs)} "
                f"unannounced inspection(s), {points:g} points",
                evidence=tuple(seqs),
                clause="三.2",
            )
        ]


@attrs.frozen
class OpenMajorHazardVeto:
    """一票否决: a major hazard (重大安全隐患) at one of the unit's packaged schools still open
    (not closed, 未销号) when the year ends, whenever it was found (三.2: 消除隐患).

    The hazards are folded from the records up to the first moment of the next year in
    the organisation's time zone, so a hazard closed after New Year still vetoes.
    """

    @property
    def id(self) -> str:
        """``district_example.major_hazard_open``."""
        return f"{PREFIX}.major_hazard_open"

    def score(self, context: ScoringContext) -> Iterable[ScoreItem | Veto]:
        """A veto naming the open major hazards, or nothing."""
        if context.store is None:
            return []
        schools = packaged_schools(context.org, context.unit, context.year)
        index = _index(context)
        open_major = [h for h in index.open_major if h.school in schools]
        if not open_major:
            return []
        found = sorted(index.found[h.id] for h in open_major)
        listed = "、".join(f"{h.id}（{h.school}，{h.description}）" for h in open_major)
        return [
            Veto(
                self.id,
                f"一票否决：分包学校重大安全隐患年底未销号：{listed} / veto: major hazard(s) "
                f"at a packaged school still open at the end of {context.year}",
                evidence=tuple(found),
            )
        ]


@hookimpl
def dualduty_rubric(org: Organisation, year: int) -> Rubric | None:
    """The district's weights (:func:`district_rubric`), whatever the organisation and year."""
    return district_rubric()


@hookimpl
def dualduty_register_scoring_rules(register: Callable[[ScoringRule], None]) -> None:
    """The district's bonus and veto."""
    register(UnannouncedVisitBonus())
    register(OpenMajorHazardVeto())
