"""Accountability cases (问责): opened, investigated, decided, closed (立案、调查、处理).

法规安全科 "负责对学校安全责任事故有关人员违规违纪行为的立案、调查、处理工作" (二(四)): a
case is opened against one or more persons, investigated, decided with an outcome for
each person (:class:`Outcome`), and closed. Three layers, each usable alone:

- the record kinds (:class:`CaseOpened`, :class:`CaseInvestigated`, :class:`CaseDecided`,
  :class:`CaseClosed`), registered when this module is imported;
- a pure state machine: :func:`step` applies one record to a :class:`CaseState` and
  :meth:`CaseState.fold` folds a case's records;
- the service :class:`Accountability`: only the leading group's office or its members
  act, never on a case against themselves.

States: ``opened → investigating → decided → closed``; an investigation may add findings
more than once before the decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs

from dualduty.model._checks import check_id, check_ids, check_text
from dualduty.model.enums import UnitKind

from ._fields import opt_id
from .base import Record, person, record_kind
from .service import InvalidTransition, PermissionDenied

if TYPE_CHECKING:
    from dualduty.model.org import Organisation
    from dualduty.storage.store import Store

    from .service import Desk, Writing

__all__ = [
    "KINDS",
    "Accountability",
    "CaseClosed",
    "CaseDecided",
    "CaseInvestigated",
    "CaseOpened",
    "CaseState",
    "CaseStatus",
    "Decision",
    "Outcome",
    "case",
    "fold_cases",
    "step",
]


def _persons(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):  # one id would otherwise become its characters
        return (value,)
    return tuple(dict.fromkeys(value))


def _not_empty(_inst: object, a: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    if not value:
        raise ValueError(f"{a.name}: at least one is needed")


class Outcome(StrEnum):
    """What a case decides for a person (处理结果), from the mildest."""

    NO_FAULT = "no_fault"
    """不予追责: not held to account."""
    CRITICISM = "criticism"
    """批评教育: criticism and education."""
    CIRCULATED_CRITICISM = "circulated_criticism"
    """通报批评: criticism circulated in the system."""
    ADMONISHMENT = "admonishment"
    """诫勉: admonishment."""
    ORGANISATIONAL = "organisational"
    """组织处理: organisational handling (suspension, transfer, removal from post)."""
    SANCTION = "sanction"
    """党纪政务处分: a Party or administrative disciplinary sanction."""
    JUDICIAL = "judicial"
    """移送司法机关: transferred to the judicial authorities."""

    @property
    def zh(self) -> str:
        """The Chinese name."""
        return _OUTCOME_ZH[self]

    @property
    def accountable(self) -> bool:
        """Whether the person is held to account (anything but :attr:`NO_FAULT`)."""
        return self is not Outcome.NO_FAULT


_OUTCOME_ZH = {
    Outcome.NO_FAULT: "不予追责",
    Outcome.CRITICISM: "批评教育",
    Outcome.CIRCULATED_CRITICISM: "通报批评",
    Outcome.ADMONISHMENT: "诫勉",
    Outcome.ORGANISATIONAL: "组织处理",
    Outcome.SANCTION: "党纪政务处分",
    Outcome.JUDICIAL: "移送司法机关",
}


class CaseStatus(StrEnum):
    """Where a case is."""

    OPENED = "opened"
    """立案."""
    INVESTIGATING = "investigating"
    """调查: findings recorded, no decision yet."""
    DECIDED = "decided"
    """处理: an outcome for each person."""
    CLOSED = "closed"
    """结案."""


# -- record kinds ---------------------------------------------------------------------


@record_kind("case-opened")
@attrs.frozen
class CaseOpened:
    """A case opened (立案) against persons; the record's actor opened it.

    :param case: its id.
    :param persons: whom it concerns (person ids).
    :param reason: why it was opened.
    :param hazard: the hazard it arises from, if any.
    :param incident: the incident it arises from, if any.
    :param activity: the activity it arises from, if any.
    """

    case: str = attrs.field(validator=check_id)
    persons: tuple[str, ...] = attrs.field(converter=_persons, validator=[check_ids, _not_empty])
    reason: str = attrs.field(validator=check_text)
    hazard: str | None = attrs.field(default=None, validator=opt_id)
    incident: str | None = attrs.field(default=None, validator=opt_id)
    activity: str | None = attrs.field(default=None, validator=opt_id)

    @classmethod
    def examples(cls) -> Sequence[CaseOpened]:
        """Instances the conformance kit round-trips."""
        return (
            cls("cs-00001", ("p011",), "重大隐患逾期未整改", hazard="hz-00001"),
            cls("cs-00002", ("p061", "p062"), "运动会未落实安全预案", activity="ac-00001"),
        )


@record_kind("case-investigated")
@attrs.frozen
class CaseInvestigated:
    """Findings of the investigation (调查); recorded again to add more."""

    case: str = attrs.field(validator=check_id)
    findings: str = attrs.field(validator=check_text)

    @classmethod
    def examples(cls) -> Sequence[CaseInvestigated]:
        """Instances the conformance kit round-trips."""
        return (cls("cs-00001", "经调查，整改方案未按期落实"),)


@attrs.frozen
class Decision:
    """The outcome of a case for one person."""

    person: str = attrs.field(validator=check_id)
    outcome: Outcome = attrs.field(converter=Outcome)
    note: str = ""


def _decisions(value: Iterable[Decision]) -> tuple[Decision, ...]:
    return tuple(value)


@record_kind("case-decided")
@attrs.frozen
class CaseDecided:
    """The decision (处理决定): an outcome for each person of the case."""

    case: str = attrs.field(validator=check_id)
    decisions: tuple[Decision, ...] = attrs.field(converter=_decisions, validator=_not_empty)
    summary: str = ""

    @classmethod
    def examples(cls) -> Sequence[CaseDecided]:
        """Instances the conformance kit round-trips."""
        return (
            cls("cs-00001", (Decision("p011", Outcome.CIRCULATED_CRITICISM, "全系统通报"),)),
            cls(
                "cs-00002",
                (Decision("p061", "admonishment"), Decision("p062", "no_fault")),
                "主办科室负责人负主要责任",
            ),
        )


@record_kind("case-closed")
@attrs.frozen
class CaseClosed:
    """The case is closed (结案)."""

    case: str = attrs.field(validator=check_id)
    notes: str = ""

    @classmethod
    def examples(cls) -> Sequence[CaseClosed]:
        """Instances the conformance kit round-trips."""
        return (cls("cs-00001", "处理决定已执行"),)


KINDS: tuple[type[Any], ...] = (CaseOpened, CaseInvestigated, CaseDecided, CaseClosed)
"""The record kinds of accountability cases, in the order of a case's life."""


# -- state ----------------------------------------------------------------------------


@attrs.frozen
class CaseState:
    """A case as its records say it is (folded, no I/O)."""

    id: str
    persons: tuple[str, ...]
    reason: str
    status: CaseStatus
    opened_at: dt.datetime
    opened_by: str
    hazard: str | None = None
    incident: str | None = None
    activity: str | None = None
    findings: tuple[str, ...] = ()
    """The investigation's findings, in the order recorded."""
    investigators: tuple[str, ...] = ()
    """Who recorded findings."""
    decisions: tuple[Decision, ...] = ()
    decided_at: dt.datetime | None = None
    decided_by: str | None = None
    closed_at: dt.datetime | None = None

    @property
    def open(self) -> bool:
        """Whether the case is not closed yet."""
        return self.status is not CaseStatus.CLOSED

    def outcome_of(self, person_id: str) -> Outcome | None:
        """The outcome decided for *person_id* (``None``: not decided, or not in the case)."""
        return next((d.outcome for d in self.decisions if d.person == person_id), None)

    @classmethod
    def fold(cls, records: Iterable[Record]) -> CaseState | None:
        """Fold a case's records, oldest first (``None`` if there are none).

        :raises InvalidTransition: if the records do not follow the case's course.
        """
        state: CaseState | None = None
        for record in records:
            state = step(state, record)
        return state


#: What each record kind may follow.
_ALLOWED: dict[type[Any], frozenset[CaseStatus]] = {
    CaseInvestigated: frozenset({CaseStatus.OPENED, CaseStatus.INVESTIGATING}),
    CaseDecided: frozenset({CaseStatus.INVESTIGATING}),
    CaseClosed: frozenset({CaseStatus.DECIDED}),
}


def step(state: CaseState | None, record: Record) -> CaseState:
    """The state after *record*; pure.

    :raises InvalidTransition: if *record* does not fit *state*.
    """
    data = record.data
    if isinstance(data, CaseOpened):
        if state is not None:
            raise InvalidTransition(f"case {data.case!r} is already open")
        return CaseState(
            id=data.case,
            persons=data.persons,
            reason=data.reason,
            status=CaseStatus.OPENED,
            opened_at=record.at,
            opened_by=record.actor,
            hazard=data.hazard,
            incident=data.incident,
            activity=data.activity,
        )
    case_id = getattr(data, "case", None)
    if state is None:
        raise InvalidTransition(f"no case {case_id!r} has been opened")
    allowed = _ALLOWED.get(type(data))
    if allowed is None:
        raise InvalidTransition(f"{record.kind!r} is not a case record")
    if case_id != state.id:
        raise InvalidTransition(f"a record of case {case_id!r} applied to {state.id!r}")
    if state.status not in allowed:
        raise InvalidTransition(
            f"case {state.id!r} is {state.status.value}: cannot apply {record.kind!r}"
        )
    evolve = attrs.evolve
    if isinstance(data, CaseInvestigated):
        return evolve(
            state,
            status=CaseStatus.INVESTIGATING,
            findings=(*state.findings, data.findings),
            investigators=tuple(dict.fromkeys((*state.investigators, record.actor))),
        )
    if isinstance(data, CaseDecided):
        decided = [d.person for d in data.decisions]
        if len(set(decided)) != len(decided):
            raise InvalidTransition(f"case {state.id!r}: one outcome per person")
        missing = [p for p in state.persons if p not in decided]
        extra = [p for p in decided if p not in state.persons]
        if missing or extra:
            why = []
            if missing:
                why.append(f"no outcome for {', '.join(missing)}")
            if extra:
                why.append(f"{', '.join(extra)} not in the case")
            raise InvalidTransition(f"case {state.id!r}: {'; '.join(why)}")
        order = {p: i for i, p in enumerate(state.persons)}
        decisions = tuple(sorted(data.decisions, key=lambda d: order[d.person]))
        return evolve(
            state,
            status=CaseStatus.DECIDED,
            decisions=decisions,
            decided_at=record.at,
            decided_by=record.actor,
        )
    assert isinstance(data, CaseClosed)
    return evolve(state, status=CaseStatus.CLOSED, closed_at=record.at)


def fold_cases(store: Store) -> list[CaseState]:
    """Every case's state from the store's case records, in the order opened.

    Reads only the case kinds, each through the store's kind index.
    """
    by_id: dict[str, list[tuple[int, Record]]] = {}
    for kind in KINDS:
        for entry in store.read(kind=kind.__record_kind__):
            by_id.setdefault(entry.record.data.case, []).append((entry.seq, entry.record))
    states = []
    for pairs in sorted(by_id.values(), key=lambda rs: min(seq for seq, _ in rs)):
        pairs.sort(key=lambda sr: sr[0])
        state = CaseState.fold(r for _, r in pairs)
        if state is not None:
            states.append(state)
    return states


# -- the service ------------------------------------------------------------------------


def case(id_: str) -> str:
    """The subject string of a case (``"case:cs-00001"``)."""
    return f"case:{id_}"


class Accountability:
    """Accountability cases over a store (立案、调查、处理).

    :param store: where the records go.
    :param org: the organisation whose posts decide who may do what.
    :param desk: share the desk of a recorder (its batches and clock) instead of making one.

    Only the leading group's office (its head and its seat's staff, 法规安全科) and the
    leading group's members open, investigate, decide and close cases; a person a case
    is against may not act on it.
    """

    def __init__(self, store: Store, org: Organisation, *, desk: Desk | None = None) -> None:
        from .service import Desk

        self.desk = desk if desk is not None else Desk(store, org)
        self.store = store
        self.org = org
        self.graph = self.desk.graph

    # -- who ---------------------------------------------------------------------------

    def handlers(self) -> frozenset[str]:
        """Who may act on cases: the office and the leading group's members."""
        leading = frozenset(
            p.holder
            for u in self.org.units
            if u.kind is UnitKind.LEADING_GROUP
            for p in u.posts
            if p.holder is not None
        )
        return leading | self.desk.office_members()

    def _require(self, actor: str, persons: Iterable[str], what: str) -> None:
        self.desk.require(actor, self.handlers(), f"{what} (the office or the leading group does)")
        if actor in persons:
            raise PermissionDenied(f"{actor} is a person of the case and may not {what}")

    # -- reading -----------------------------------------------------------------------

    def _fold(self, records: Iterable[Record], case_id: str) -> CaseState:
        state = CaseState.fold(r for r in records if type(r.data) in KINDS)
        if state is None:
            raise InvalidTransition(f"no case {case_id!r} has been opened")
        return state

    def state(self, case_id: str) -> CaseState:
        """The case's state, folded from its records (an indexed read).

        :raises InvalidTransition: if no such case was opened.
        """
        return self._fold((e.record for e in self.store.read(subject=case(case_id))), case_id)

    def all(self, *, year: int | None = None, person: str | None = None) -> list[CaseState]:
        """Every case's state (opened in *year*, against *person*), in the order opened."""
        return [
            s
            for s in fold_cases(self.store)
            if (year is None or s.opened_at.astimezone(self.desk.zone).year == year)
            and (person is None or person in s.persons)
        ]

    # -- writing -----------------------------------------------------------------------

    def _command(
        self, w: Writing, state: CaseState | None, data: object, actor: str, at: dt.datetime | None
    ) -> CaseState:
        record = Record.of(data, actor=actor, at=self.desk.now(at))
        new = step(state, record)
        subjects = [case(new.id), *(person(p) for p in new.persons)]
        w.append(attrs.evolve(record, subjects=subjects))
        return new

    def open(
        self,
        persons: Iterable[str],
        reason: str,
        *,
        actor: str,
        hazard: str | None = None,
        incident: str | None = None,
        activity: str | None = None,
        case_id: str | None = None,
        at: dt.datetime | None = None,
    ) -> CaseState:
        """Open a case (立案) against *persons*, arising from a hazard, incident or activity.

        :raises InvalidTransition: if a person is not of the organisation, or the hazard,
            incident or activity named is not in the record.
        """
        from .service import new_id

        people = _persons(persons)
        self._require(actor, people, "open accountability cases")
        if not people:
            raise InvalidTransition("a case is opened against at least one person")
        for person_id in people:
            self.desk.require_person(person_id, "a case")
        with self.desk.writing() as w:
            for kind, id_ in (("hazard", hazard), ("incident", incident), ("activity", activity)):
                if id_ is not None and not w.exists(f"{kind}:{id_}"):
                    raise InvalidTransition(f"a case: no {kind} {id_!r} in the record")
            data = CaseOpened(
                new_id(w, "cs", case_id, "case"), people, reason, hazard, incident, activity
            )
            return self._command(w, None, data, actor, at)

    def investigate(
        self, case_id: str, findings: str, *, actor: str, at: dt.datetime | None = None
    ) -> CaseState:
        """Record findings of the investigation (调查)."""
        with self.desk.writing() as w:
            state = self._fold(w.read(case(case_id)), case_id)
            self._require(actor, state.persons, f"investigate case {case_id}")
            return self._command(w, state, CaseInvestigated(case_id, findings), actor, at)

    def decide(
        self,
        case_id: str,
        outcomes: Mapping[str, Outcome | str] | Iterable[Decision],
        *,
        actor: str,
        summary: str = "",
        at: dt.datetime | None = None,
    ) -> CaseState:
        """Decide the case (处理): an outcome for each of its persons.

        :param outcomes: person id → :class:`Outcome`, or :class:`Decision`\\ s (with notes).
        """
        if isinstance(outcomes, Mapping):
            decisions = tuple(Decision(p, o) for p, o in outcomes.items())
        else:
            decisions = tuple(outcomes)
        with self.desk.writing() as w:
            state = self._fold(w.read(case(case_id)), case_id)
            self._require(actor, state.persons, f"decide case {case_id}")
            if not decisions:
                missing = ", ".join(state.persons)
                raise InvalidTransition(f"case {case_id!r}: no outcome for {missing}")
            data = CaseDecided(case_id, decisions, summary)
            return self._command(w, state, data, actor, at)

    def close(
        self, case_id: str, *, actor: str, notes: str = "", at: dt.datetime | None = None
    ) -> CaseState:
        """Close (结案) a decided case."""
        with self.desk.writing() as w:
            state = self._fold(w.read(case(case_id)), case_id)
            self._require(actor, state.persons, f"close case {case_id}")
            return self._command(w, state, CaseClosed(case_id, notes), actor, at)
