"""Publishing the year-end assessment (公布考核结果, clause 三.4) and re-assessing it.

A published assessment is a record in the store (:class:`AssessmentPublished`, kind
``assessment-published``): the whole result as canonical JSON with its SHA-256, the time
it was made as of, the last record it saw (``head``), and what it was made from — the
rubric itself, digests of the organisation and of the schedule, the scoring plugins.
Like every record it is frozen and hash-chained (``dualduty verify`` checks it).

Nothing is overwritten. Assessing the year again later (a section's late report was
filed, a hazard's rectification record came in, the district changed a weight) and
publishing appends a new record that names the one it supersedes and carries the
:class:`Changes` between them: for each unit whose result moved, each item whose points
moved, and **why**:

- ``late_record``: a record the earlier assessment did not see (appended after its
  ``head``) though it is dated before its ``now`` — filed late;
- ``new_record``: a record dated after the earlier ``now`` (the later assessment is made
  as of a later time);
- ``rule_changed`` / ``rule_added`` / ``rule_removed``: the rubric's item (its points,
  mode, measure or parameters) differs, or the item is new or gone;
- ``plugin``: an item a plugin gave (its rule or the plugins changed);
- ``organisation`` / ``schedule``: the organisation or the schedule differ (a package
  moved, a visit re-planned), when nothing above explains the change.

Publishing what was already published (same result, same basis) appends nothing and
returns the earlier publication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from dualduty.model._checks import check_id
from dualduty.records.base import Record, record_kind

if TYPE_CHECKING:
    from dualduty.model import Organisation, Schedule
    from dualduty.storage.store import Store

    from .engine import Assessment, YearAssessment
    from .rubric import Rubric

__all__ = [
    "AssessmentPublished",
    "Changes",
    "ItemChange",
    "Publication",
    "UnitChange",
    "compare",
    "publications",
    "publish",
]

#: Why an item's points moved (see the module).
CAUSES: tuple[str, ...] = (
    "late_record",
    "new_record",
    "rule_changed",
    "rule_added",
    "rule_removed",
    "plugin",
    "organisation",
    "schedule",
)

_CAUSE_ZH = {
    "late_record": "补录记录",
    "new_record": "新增记录",
    "rule_changed": "细则调整",
    "rule_added": "新增细则",
    "rule_removed": "删除细则",
    "plugin": "本地规则",
    "organisation": "组织信息变更",
    "schedule": "计划变更",
}


def _year(_inst: object, a: attrs.Attribute[Any], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1900 <= value <= 9999:
        raise ValueError(f"{a.name}: expected a year, got {value!r}")


def _aware(_inst: object, a: attrs.Attribute[Any], value: str) -> None:
    try:
        ok = dt.datetime.fromisoformat(value).utcoffset() is not None
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{a.name}: expected a date and time with its offset, got {value!r}")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(value: Any) -> bytes:
    """*value* as canonical JSON (sorted keys, compact, UTF-8): what digests are taken of."""
    return orjson.dumps(value, default=_iso, option=orjson.OPT_SORT_KEYS)


def _iso(value: Any) -> str:
    """Dates of subclasses orjson leaves alone (pendulum's), as ISO 8601."""
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__qualname__} is not JSON serializable")


# -- the record -------------------------------------------------------------------------


@record_kind("assessment-published")
@attrs.frozen
class AssessmentPublished:
    """A year-end assessment as published; the record's actor published it.

    :param year: the year assessed.
    :param now: the time it was made as of, ISO 8601 with its offset.
    :param head: the ``seq`` of the last record it saw.
    :param rubric: the rubric's id.
    :param rubric_text: the rubric itself, as a TOML rubric file.
    :param organisation: the SHA-256 of the organisation (its canonical JSON).
    :param schedule: the SHA-256 of the schedule given, or ``""`` when it was planned from
        the organisation.
    :param plugins: the scoring plugins that took part (``name==version``).
    :param result: the assessment as canonical JSON
        (:meth:`~dualduty.scoring.YearAssessment.to_json`).
    :param digest: the SHA-256 of ``result``.
    :param supersedes: the ``seq`` of the publication this one replaces (0: the first).
    :param changes: what changed since that one, as canonical JSON
        (:meth:`Changes.to_json`); ``""`` for the first.
    """

    year: int = attrs.field(validator=_year)
    now: str = attrs.field(validator=_aware)
    head: int
    rubric: str = attrs.field(validator=check_id)
    rubric_text: str
    organisation: str
    schedule: str
    plugins: tuple[str, ...]
    result: str
    digest: str = attrs.field()
    supersedes: int = 0
    changes: str = ""

    @digest.validator
    def _check_digest(self, _a: attrs.Attribute[str], value: str) -> None:
        if _digest(self.result.encode("utf-8")) != value:
            raise ValueError("digest: not the SHA-256 of the result")

    @classmethod
    def examples(cls) -> Sequence[AssessmentPublished]:
        """Instances the conformance kit round-trips."""
        result = '{"excellent":["planning"],"ranking":[],"year":2026}'
        return (
            cls(
                2026,
                "2027-01-10T09:00:00+08:00",
                812,
                "plan-default",
                'id = "plan-default"\n',
                "0" * 64,
                "",
                ("district_example==0.1",),
                result,
                _digest(result.encode()),
            ),
            cls(
                2026,
                "2027-01-20T09:00:00+08:00",
                840,
                "plan-default",
                'id = "plan-default"\n',
                "0" * 64,
                "f" * 64,
                (),
                result,
                _digest(result.encode()),
                supersedes=813,
                changes='{"units":[]}',
            ),
        )


#: The record kinds this module registers.
KINDS: tuple[type[Any], ...] = (AssessmentPublished,)


def subject(year: int) -> str:
    """The subject of the publications of *year* (``"assessment:2026"``)."""
    return f"assessment:{year}"


@attrs.frozen
class Publication:
    """A published assessment read back from the store.

    :param seq: its record's ``seq``.
    :param actor: who published it.
    :param at: when.
    :param data: the record.
    """

    seq: int
    actor: str
    at: dt.datetime
    data: AssessmentPublished

    @property
    def result(self) -> YearAssessment:
        """The assessment as published."""
        return year_from_json(orjson.loads(self.data.result))

    @property
    def changes(self) -> Changes | None:
        """What changed since the publication it supersedes (``None`` for the first)."""
        if not self.data.changes:
            return None
        return Changes.from_json(orjson.loads(self.data.changes))

    def rubric(self) -> Rubric:
        """The rubric it was made by."""
        from .rubric import loads_rubric

        return loads_rubric(self.data.rubric_text, source=f"the rubric of publication {self.seq}")


def publications(store: Store, year: int | None = None) -> list[Publication]:
    """The published assessments (of *year*), oldest first."""
    found = store.read(kind="assessment-published", subject=None if year is None else subject(year))
    return [Publication(e.seq, e.record.actor, e.record.at, e.record.data) for e in found]


# -- reading a result back --------------------------------------------------------------


def year_from_json(data: dict[str, Any]) -> YearAssessment:
    """A :class:`~dualduty.scoring.YearAssessment` from its JSON data (``to_json``)."""
    from .engine import Assessment, ItemScore, VetoHit, YearAssessment
    from .rubric import Assessee

    def item(d: dict[str, Any]) -> ItemScore:
        return ItemScore(
            d["rule"], d["category"], d["clause"], d["points"], d["max_points"], d["value"],
            tuple(d["evidence"]), tuple(d["seqs"]), d["reason"], d["reason_en"], d["name"],
            d["plugin"],
        )  # fmt: skip

    def veto(d: dict[str, Any]) -> VetoHit:
        return VetoHit(
            d["rule"], d["reason"], d["reason_en"], tuple(d["evidence"]), tuple(d["seqs"]),
            d.get("demote_to"), d["plugin"],
        )  # fmt: skip

    def one(d: dict[str, Any]) -> Assessment:
        return Assessment(
            d["unit"], d["name"], Assessee(d["assessee"]), tuple(item(i) for i in d["items"]),
            tuple(veto(v) for v in d["vetoes"]), d["score"], d["grade"], d["veto"], d["rank"],
            d["eligible"], d["excellent"],
        )  # fmt: skip

    return YearAssessment(
        year=data["year"],
        now=dt.datetime.fromisoformat(data["now"]),
        rubric=data["rubric"],
        ranking=tuple(one(a) for a in data["ranking"]),
        excellent=tuple(data["excellent"]),
        members=tuple(one(a) for a in data.get("members", ())),
        places=data.get("places", 0),
        head=data.get("head", 0),
    )


# -- what changed -----------------------------------------------------------------------


@attrs.frozen
class ItemChange:
    """An item whose points (or evidence) moved between two assessments of a unit.

    :param rule: the item.
    :param before: its points before (``None``: it was not there).
    :param after: its points now (``None``: it is gone).
    :param value_before: the measured value before.
    :param value_after: the measured value now.
    :param added: the ``seq`` of the records it cites now and did not before.
    :param dropped: the ``seq`` of the records it cited before and does not now.
    :param late: of ``added``, those appended after the earlier assessment though dated
        before its ``now`` (filed late).
    :param causes: why (see :data:`CAUSES`), most telling first.
    """

    rule: str
    before: float | None
    after: float | None
    value_before: float | None
    value_after: float | None
    added: tuple[int, ...] = ()
    dropped: tuple[int, ...] = ()
    late: tuple[int, ...] = ()
    causes: tuple[str, ...] = ()

    @property
    def delta(self) -> float:
        """The points gained (negative: lost)."""
        return round((self.after or 0.0) - (self.before or 0.0), 2)

    def reason(self, *, english: bool = False) -> str:
        """One line: the item, the points before and after, and why."""
        before = "-" if self.before is None else f"{self.before:g}"
        after = "-" if self.after is None else f"{self.after:g}"
        if english:
            why = ", ".join(c.replace("_", " ") for c in self.causes) or "unexplained"
            late = f"; filed late: {_seqs(self.late)}" if self.late else ""
            return f"{self.rule}: {before} → {after} ({why}{late})"
        why = "、".join(_CAUSE_ZH[c] for c in self.causes) or "原因不明"
        late = f"；补录：{_seqs(self.late)}" if self.late else ""
        return f"{self.rule}：{before}分 → {after}分（{why}{late}）"

    def to_json(self) -> dict[str, Any]:
        """The change as JSON data."""
        return attrs.asdict(self, recurse=False, value_serializer=_listed)


@attrs.frozen
class UnitChange:
    """A unit whose assessment moved.

    :param unit: the unit (a section, or a member's post).
    :param score_before: its total before (``None``: not assessed then).
    :param score_after: its total now (``None``: not assessed now).
    :param grade_before: its grade before.
    :param grade_after: its grade now.
    :param rank_before: its rank before.
    :param rank_after: its rank now.
    :param excellent_before: whether it had the award.
    :param excellent_after: whether it has it now.
    :param vetoes_added: vetoes it incurred since.
    :param vetoes_removed: vetoes it no longer incurs.
    :param items: its items that moved.
    """

    unit: str
    score_before: float | None
    score_after: float | None
    grade_before: str | None
    grade_after: str | None
    rank_before: int | None
    rank_after: int | None
    excellent_before: bool
    excellent_after: bool
    vetoes_added: tuple[str, ...] = ()
    vetoes_removed: tuple[str, ...] = ()
    items: tuple[ItemChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The change as JSON data."""
        out = attrs.asdict(self, recurse=False, value_serializer=_listed)
        out["items"] = [i.to_json() for i in self.items]
        return out

    def lines(self, *, english: bool = False) -> list[str]:
        """The change in words: a head line, then one line an item."""
        before = "-" if self.score_before is None else f"{self.score_before:g}"
        after = "-" if self.score_after is None else f"{self.score_after:g}"
        head = f"{self.unit}: {before} → {after}"
        if self.grade_before != self.grade_after:
            head += f", {self.grade_before or '-'} → {self.grade_after or '-'}"
        if self.rank_before != self.rank_after:
            head += f", rank {self.rank_before or '-'} → {self.rank_after or '-'}"
        if self.excellent_before != self.excellent_after:
            head += ", " + ("now excellent" if self.excellent_after else "no longer excellent")
        out = [head]
        out += [f"  veto: {v}" for v in self.vetoes_added]
        out += [f"  veto lifted: {v}" for v in self.vetoes_removed]
        out += [f"  {i.reason(english=english)}" for i in self.items]
        return out


@attrs.frozen
class Changes:
    """What changed between a published assessment and a later one of the same year.

    :param year: the year.
    :param before: the ``seq`` of the earlier publication.
    :param now_before: the time the earlier one was made as of.
    :param now_after: the time the later one is made as of.
    :param rubric_before: the earlier rubric's id.
    :param rubric_after: the later rubric's id.
    :param rules_changed: the ids of the rubric items and vetoes that differ, were added
        or were removed.
    :param plugins_added: scoring plugins taking part now and not before.
    :param plugins_removed: scoring plugins no longer taking part.
    :param organisation: whether the organisation differs.
    :param schedule: whether the schedule differs.
    :param late: the ``seq`` of the records now cited that were filed late (appended after
        the earlier assessment, dated before its ``now``).
    :param excellent_before: the sections awarded before.
    :param excellent_after: the sections awarded now.
    :param units: the units whose assessment moved, in ranking order.
    """

    year: int
    before: int
    now_before: str
    now_after: str
    rubric_before: str
    rubric_after: str
    rules_changed: tuple[str, ...] = ()
    plugins_added: tuple[str, ...] = ()
    plugins_removed: tuple[str, ...] = ()
    organisation: bool = False
    schedule: bool = False
    late: tuple[int, ...] = ()
    excellent_before: tuple[str, ...] = ()
    excellent_after: tuple[str, ...] = ()
    units: tuple[UnitChange, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether nothing in the result moved."""
        return not self.units and self.excellent_before == self.excellent_after

    def unit(self, unit_id: str) -> UnitChange:
        """The change of one unit.

        :raises KeyError: if it did not move.
        """
        for u in self.units:
            if u.unit == unit_id:
                return u
        raise KeyError(f"{unit_id!r} did not change")

    def to_json(self) -> dict[str, Any]:
        """The changes as JSON data."""
        out = attrs.asdict(self, recurse=False, value_serializer=_listed)
        out["units"] = [u.to_json() for u in self.units]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Changes:
        """Changes from their JSON data (:meth:`to_json`)."""
        units = []
        for u in data["units"]:
            items = tuple(ItemChange(**_tupled(i)) for i in u["items"])
            units.append(UnitChange(**{**_tupled(u), "items": items}))
        return cls(**{**_tupled(data), "units": tuple(units)})

    def lines(self, *, english: bool = False) -> list[str]:
        """The changes in words, for a reader or a log."""
        out = [f"changes since publication #{self.before} (as of {self.now_before}):"]
        if self.rubric_before != self.rubric_after:
            out.append(f"  rubric {self.rubric_before} → {self.rubric_after}")
        if self.rules_changed:
            out.append(f"  rules changed: {', '.join(self.rules_changed)}")
        if self.plugins_added or self.plugins_removed:
            out.append(
                f"  plugins: +{', '.join(self.plugins_added) or '-'} "
                f"−{', '.join(self.plugins_removed) or '-'}"
            )
        if self.organisation:
            out.append("  the organisation changed")
        if self.schedule:
            out.append("  the schedule changed")
        if self.late:
            out.append(f"  records filed late: {_seqs(self.late)}")
        if self.excellent_before != self.excellent_after:
            out.append(
                f"  excellent: {', '.join(self.excellent_before) or '-'} → "
                f"{', '.join(self.excellent_after) or '-'}"
            )
        for u in self.units:
            out += ["  " + line for line in u.lines(english=english)]
        if self.empty:
            out.append("  nothing changed")
        return out


def _listed(_inst: object, _a: attrs.Attribute[Any] | None, value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _tupled(data: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


def _seqs(seqs: Iterable[int]) -> str:
    return ", ".join(f"#{s}" for s in seqs)


class _Basis:
    """The digests and rules of one assessment, as a publication records them."""

    def __init__(
        self,
        rubric: Rubric | None,
        organisation: str,
        schedule: str,
        plugins: tuple[str, ...],
    ) -> None:
        self.rubric = rubric
        self.organisation = organisation
        self.schedule = schedule
        self.plugins = plugins

    @classmethod
    def of(cls, result: YearAssessment) -> _Basis:
        basis = result.basis
        if basis is None:
            raise ValueError(
                "this assessment carries no basis (it was read back from JSON): publish the "
                "result of dualduty.scoring.assess"
            )
        return cls(
            basis.rubric,
            organisation_digest(basis.org),
            "" if basis.schedule is None else schedule_digest(basis.schedule),
            basis.plugins,
        )

    @classmethod
    def published(cls, publication: Publication) -> _Basis:
        data = publication.data
        return cls(publication.rubric(), data.organisation, data.schedule, data.plugins)


def organisation_digest(org: Organisation) -> str:
    """The SHA-256 of *org*'s canonical JSON."""
    from dualduty.io._converters import converter

    return _digest(canonical(converter("json").unstructure(org)))


def schedule_digest(schedule: Schedule) -> str:
    """The SHA-256 of *schedule*'s canonical JSON."""
    from dualduty.io._schedule._convert import converter

    return _digest(canonical(converter("json").unstructure(schedule)))


def _rule_definitions(rubric: Rubric | None) -> dict[str, bytes]:
    """Each item's and veto's definition, by id, as comparable bytes; the rubric's
    bands, award, total and caps under ``"(rubric)"``, as they move every unit."""
    from .rubric import rubric_to_data

    if rubric is None:
        return {}
    data = rubric_to_data(rubric, "json")
    out = {d["id"]: canonical(d) for d in (*data["items"], *data["vetoes"])}
    rest = {k: data[k] for k in ("total", "bonus_cap", "categories", "bands", "award") if k in data}
    out["(rubric)"] = canonical(rest)
    return out


def compare(
    before: Publication,
    after: YearAssessment,
    store: Store,
) -> Changes:
    """What changed between the published assessment *before* and *after*, and why.

    :param before: an earlier publication of the same year.
    :param after: a new assessment (:func:`~dualduty.scoring.assess`) of that year.
    :param store: the store both were made from (to tell late records from new ones).
    :raises ValueError: if they are of different years, or *after* carries no basis.
    """
    old = before.result
    if old.year != after.year:
        raise ValueError(f"cannot compare an assessment of {old.year} with one of {after.year}")
    was, now = _Basis.published(before), _Basis.of(after)
    rules_before, rules_after = _rule_definitions(was.rubric), _rule_definitions(now.rubric)
    changed_rules = {
        r
        for r in rules_before.keys() | rules_after.keys()
        if rules_before.get(r) != rules_after.get(r)
    }
    plugins_added = tuple(p for p in now.plugins if p not in was.plugins)
    plugins_removed = tuple(p for p in was.plugins if p not in now.plugins)
    org_changed = was.organisation != now.organisation
    schedule_changed = was.schedule != now.schedule
    kinds = _Classifier(store, old, after.now)
    units: list[UnitChange] = []
    late: set[int] = set()
    earlier = {a.unit: a for a in (*old.ranking, *old.members)}
    later = {a.unit: a for a in (*after.ranking, *after.members)}
    order = [a.unit for a in (*after.ranking, *after.members)]
    order += [u for u in earlier if u not in later]
    for unit_id in order:
        a, b = earlier.get(unit_id), later.get(unit_id)
        change = _unit_change(
            unit_id,
            a,
            b,
            kinds=kinds,
            changed_rules=changed_rules,
            rules_before=rules_before,
            rules_after=rules_after,
            org_changed=org_changed,
            schedule_changed=schedule_changed,
        )
        if change is not None:
            units.append(change)
            late.update(s for i in change.items for s in i.late)
    return Changes(
        year=after.year,
        before=before.seq,
        now_before=old.now.isoformat(),
        now_after=after.now.isoformat(),
        rubric_before=old.rubric,
        rubric_after=after.rubric,
        rules_changed=tuple(sorted(changed_rules)),
        plugins_added=plugins_added,
        plugins_removed=plugins_removed,
        organisation=org_changed,
        schedule=schedule_changed,
        late=tuple(sorted(late)),
        excellent_before=old.excellent,
        excellent_after=after.excellent,
        units=tuple(units),
    )


class _Classifier:
    """Tells which records the earlier assessment did not see: filed late (dated before
    its ``now``) or new (dated from it on), by ``seq`` and by the units they concern."""

    def __init__(self, store: Store, old: YearAssessment, new_now: dt.datetime) -> None:
        self.head = old.head
        self.now = old.now
        self._late: dict[int, bool] = {}
        self._by_unit: dict[str, tuple[list[int], list[int]]] = {}
        for entry in store.read(after=old.head):
            record = entry.record
            if record.kind == "assessment-published" or record.at >= new_now:
                continue
            late = record.at < old.now
            self._late[entry.seq] = late
            for subject_ in record.subjects:
                if subject_.startswith(("unit:", "post:")):
                    pair = self._by_unit.setdefault(subject_.partition(":")[2], ([], []))
                    pair[0 if late else 1].append(entry.seq)

    def late(self, seq: int) -> bool | None:
        """True: appended after the old assessment, dated before its now; False: dated
        after it; None: the old assessment could have seen it."""
        return self._late.get(seq)

    def about(self, unit_id: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The records the old assessment did not see that name *unit_id* (a unit or a
        post) as a subject: (filed late, new)."""
        late, new = self._by_unit.get(unit_id, ([], []))
        return tuple(late), tuple(new)


def _unit_change(
    unit_id: str,
    a: Assessment | None,
    b: Assessment | None,
    *,
    kinds: _Classifier,
    changed_rules: set[str],
    rules_before: dict[str, Any],
    rules_after: dict[str, Any],
    org_changed: bool,
    schedule_changed: bool,
) -> UnitChange | None:
    items_a = {} if a is None else {i.rule: i for i in a.items}
    items_b = {} if b is None else {i.rule: i for i in b.items}
    rules = [*items_b, *(r for r in items_a if r not in items_b)]
    items: list[ItemChange] = []
    for rule in rules:
        x, y = items_a.get(rule), items_b.get(rule)
        if (
            x is not None
            and y is not None
            and (x.points, x.seqs, x.value)
            == (
                y.points,
                y.seqs,
                y.value,
            )
        ):
            continue
        seqs_x = set(() if x is None else x.seqs)
        seqs_y = set(() if y is None else y.seqs)
        added = tuple(sorted(seqs_y - seqs_x))
        dropped = tuple(sorted(seqs_x - seqs_y))
        late = tuple(s for s in added if kinds.late(s) is True)
        fresh = tuple(s for s in added if kinds.late(s) is False)
        causes: list[str] = []
        if late:
            causes.append("late_record")
        if fresh:
            causes.append("new_record")
        if rule in changed_rules:
            if rule not in rules_before:
                causes.append("rule_added")
            elif rule not in rules_after:
                causes.append("rule_removed")
            else:
                causes.append("rule_changed")
        if (x is not None and x.plugin) or (y is not None and y.plugin):
            causes.append("plugin")
        if not causes:
            # The records behind a change are not always cited (a report filed on time
            # costs nothing): the unseen records about the unit explain it.
            late, fresh = kinds.about(unit_id)
            if late:
                causes.append("late_record")
            if fresh:
                causes.append("new_record")
        if not causes:
            if org_changed:
                causes.append("organisation")
            if schedule_changed:
                causes.append("schedule")
        items.append(
            ItemChange(
                rule,
                None if x is None else x.points,
                None if y is None else y.points,
                None if x is None else x.value,
                None if y is None else y.value,
                added,
                dropped,
                late,
                tuple(causes),
            )
        )
    vetoes_a = set() if a is None else {v.rule for v in a.vetoes}
    vetoes_b = set() if b is None else {v.rule for v in b.vetoes}
    same = (
        a is not None
        and b is not None
        and (a.total, a.grade, a.rank, a.excellent) == (b.total, b.grade, b.rank, b.excellent)
    )
    if same and not items and vetoes_a == vetoes_b:
        return None
    return UnitChange(
        unit_id,
        None if a is None else a.total,
        None if b is None else b.total,
        None if a is None else a.grade,
        None if b is None else b.grade,
        None if a is None else a.rank,
        None if b is None else b.rank,
        a is not None and a.excellent,
        b is not None and b.excellent,
        tuple(sorted(vetoes_b - vetoes_a)),
        tuple(sorted(vetoes_a - vetoes_b)),
        tuple(items),
    )


# -- publishing -------------------------------------------------------------------------


def publish(
    store: Store,
    result: YearAssessment,
    *,
    actor: str,
    at: dt.datetime | None = None,
) -> Publication:
    """Publish *result* as a record: frozen, hash-chained, never overwritten.

    The leading group's members or its office publish (the leading group assesses,
    三.4). When the year was published before, the new record names the latest
    publication it supersedes and carries the :class:`Changes` since; when nothing
    moved, it is made as of the same time and from the same basis (rubric, organisation,
    schedule, plugins), nothing is appended and the latest publication is returned.

    :param store: the store *result* was made from.
    :param result: an assessment made by :func:`~dualduty.scoring.assess`.
    :param actor: who publishes (a person id).
    :param at: when (default: now, in the organisation's zone).
    :raises ~dualduty.records.PermissionDenied: unless *actor* is of the leading group or
        the office.
    :raises ValueError: if *result* carries no basis (read back from JSON).
    """
    from dualduty.records.service import Desk

    from .rubric import dumps_rubric

    basis = result.basis
    if basis is None:
        raise ValueError(
            "this assessment carries no basis (it was read back from JSON): publish the "
            "result of dualduty.scoring.assess"
        )
    desk = Desk(store, basis.org)
    desk.require(
        actor,
        desk.leading_members() | desk.office_members(),
        f"publish the {result.year} assessment (the leading group or its office does)",
    )
    text = canonical(result.to_json()).decode("utf-8")
    digest = _digest(text.encode("utf-8"))
    mine = _Basis.of(result)
    earlier = publications(store, result.year)
    changes = None
    if earlier:
        last = earlier[-1]
        same_basis = (last.data.organisation, last.data.schedule, last.data.plugins) == (
            mine.organisation,
            mine.schedule,
            mine.plugins,
        ) and last.data.rubric_text == dumps_rubric(basis.rubric)
        changes = compare(last, result, store)
        if same_basis and changes.empty and last.result.now == result.now:
            return last
    data = AssessmentPublished(
        year=result.year,
        now=result.now.isoformat(),
        head=result.head,
        rubric=result.rubric,
        rubric_text=dumps_rubric(basis.rubric),
        organisation=mine.organisation,
        schedule=mine.schedule,
        plugins=mine.plugins,
        result=text,
        digest=digest,
        supersedes=0 if not earlier else earlier[-1].seq,
        changes="" if changes is None else canonical(changes.to_json()).decode("utf-8"),
    )
    with desk.writing() as w:
        entry = w.append(
            Record.of(data, actor=actor, at=desk.now(at), subjects=[subject(result.year)])
        )
    return Publication(entry.seq, entry.record.actor, entry.record.at, data)
