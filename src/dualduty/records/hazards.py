"""Hazards as a closed loop (隐患排查治理): found, registered, rectified, re-inspected, closed.

Three layers, each usable alone:

- the record kinds (:class:`HazardFound`, :class:`HazardRegistered`,
  :class:`RectificationPlanned`, :class:`RectificationClaimed`, :class:`Reinspected`,
  :class:`HazardClosed`, :class:`HazardEscalated`), registered when this module is imported;
- a pure state machine: :func:`step` applies one record to a :class:`HazardState` and
  :meth:`HazardState.fold` folds a hazard's records, with deadlines from
  :class:`HazardRules` and :meth:`HazardState.overdue` computed from a clock;
- the service :class:`Hazards`, whose commands check who may act, validate the transition
  and append in one transaction, with the outbox notifications of every major hazard and
  every escalation routed (:mod:`dualduty.notify.routing`: events ``major-hazard`` and
  ``hazard-escalated``) in the same transaction.

States: ``found → registered → rectifying → rectified → accepted → closed``; a rejected
re-inspection goes back to ``rectifying``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs

from dualduty.model._checks import check_id, check_text
from dualduty.model.enums import Role, UnitKind

from ._fields import non_negative, opt_id, positive, strings, texts
from .base import Record, record_kind
from .service import InvalidTransition, PermissionDenied

if TYPE_CHECKING:
    from dualduty.graph import OrgGraph
    from dualduty.model.org import Organisation, Post, Unit
    from dualduty.model.rules import Rules
    from dualduty.notify.routing import Event
    from dualduty.storage.store import OutboxMessage, Store

    from .service import Desk, Writing

__all__ = [
    "HazardClosed",
    "HazardEscalated",
    "HazardFound",
    "HazardRegistered",
    "HazardRules",
    "HazardState",
    "HazardStatus",
    "Hazards",
    "InvalidTransition",
    "PermissionDenied",
    "RectificationClaimed",
    "RectificationPlanned",
    "RectificationReassigned",
    "Reinspected",
    "Severity",
    "escalation_chain",
    "fold_hazards",
    "hazard",
    "step",
]


class Severity(StrEnum):
    """How grave a hazard is."""

    GENERAL = "general"
    """一般隐患."""
    MAJOR = "major"
    """重大隐患: reported at once, planned, listed for supervision (挂牌督办)."""


class HazardStatus(StrEnum):
    """Where a hazard is in its closed loop."""

    FOUND = "found"
    REGISTERED = "registered"
    RECTIFYING = "rectifying"
    RECTIFIED = "rectified"
    """The rectification is claimed done and awaits re-inspection."""
    ACCEPTED = "accepted"
    """Re-inspected and accepted; awaits closing (销号)."""
    CLOSED = "closed"


# -- record kinds ---------------------------------------------------------------------


@record_kind("hazard-found")
@attrs.frozen
class HazardFound:
    """A hazard found at a school (发现隐患); the record's actor found it."""

    hazard: str = attrs.field(validator=check_id)
    school: str = attrs.field(validator=check_id)
    severity: Severity = attrs.field(converter=Severity)
    description: str = attrs.field(validator=check_text)
    inspection: str | None = attrs.field(default=None, validator=opt_id)
    """The inspection that found it, if any."""
    reported: bool = True
    """Whether the office was told when it was recorded (the service's urgent outbox
    message does); ``False`` (a ledger import, say): the office learned of it only when
    registering it, which is when a major hazard counts as reported."""

    @classmethod
    def examples(cls) -> Sequence[HazardFound]:
        """Instances the conformance kit round-trips."""
        return (
            cls("hz-00001", "s0001", Severity.MAJOR, "教学楼外墙瓷砖脱落"),
            cls("hz-00002", "s0002", Severity.GENERAL, "消防通道堆放杂物", inspection="in-1"),
        )


@record_kind("hazard-registered")
@attrs.frozen
class HazardRegistered:
    """The office entered the hazard in the ledger (登记); a major one is listed (挂牌督办)."""

    hazard: str = attrs.field(validator=check_id)
    listed: bool = False
    """Listed for supervision (挂牌督办)."""

    @classmethod
    def examples(cls) -> Sequence[HazardRegistered]:
        """Instances the conformance kit round-trips."""
        return (cls("hz-00001", listed=True), cls("hz-00002"))


@record_kind("hazard-planned")
@attrs.frozen
class RectificationPlanned:
    """A rectification plan (整改方案): the five 落实 of a major hazard."""

    hazard: str = attrs.field(validator=check_id)
    measures: tuple[str, ...] = attrs.field(converter=strings, validator=texts)
    responsible: str = attrs.field(validator=check_id)
    """The person answering for the rectification."""
    time_limit: dt.date = attrs.field(validator=attrs.validators.instance_of(dt.date))
    funds_yuan: int = attrs.field(default=0, validator=non_negative)
    safeguards: tuple[str, ...] = attrs.field(default=(), converter=strings, validator=texts)
    """Interim safeguards (临时防范措施) until the hazard is gone."""

    @classmethod
    def examples(cls) -> Sequence[RectificationPlanned]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "hz-00001",
                ("拆除松动瓷砖", "重新铺贴"),
                "p010",
                dt.date(2026, 10, 1),
                funds_yuan=50_000,
                safeguards=("设置警戒线",),
            ),
        )


@record_kind("hazard-claimed")
@attrs.frozen
class RectificationClaimed:
    """The rectification is reported done (整改完成); the record's actor claims it."""

    hazard: str = attrs.field(validator=check_id)
    text: str = attrs.field(default="整改完成", validator=check_text)

    @classmethod
    def examples(cls) -> Sequence[RectificationClaimed]:
        """Instances the conformance kit round-trips."""
        return (cls("hz-00001"), cls("hz-00002", "杂物已清理"))


@record_kind("hazard-reinspected")
@attrs.frozen
class Reinspected:
    """A re-inspection (复查) of a claimed rectification: accepted or sent back."""

    hazard: str = attrs.field(validator=check_id)
    accepted: bool = attrs.field(validator=attrs.validators.instance_of(bool))
    notes: str = ""

    @classmethod
    def examples(cls) -> Sequence[Reinspected]:
        """Instances the conformance kit round-trips."""
        return (cls("hz-00001", False, "仍有空鼓"), cls("hz-00001", True))


@record_kind("hazard-closed")
@attrs.frozen
class HazardClosed:
    """The hazard is closed (销号)."""

    hazard: str = attrs.field(validator=check_id)
    notes: str = ""

    @classmethod
    def examples(cls) -> Sequence[HazardClosed]:
        """Instances the conformance kit round-trips."""
        return (cls("hz-00001", "复查合格，予以销号"),)


@record_kind("hazard-escalated")
@attrs.frozen
class HazardEscalated:
    """An overdue hazard reported one level up the chain (section head → deputy → leader)."""

    hazard: str = attrs.field(validator=check_id)
    post: str = attrs.field(validator=check_id)
    """The post it was escalated to."""
    level: int = attrs.field(validator=non_negative)
    """Its place in :func:`escalation_chain` (1: the deputy in charge, 2: the leader)."""
    reason: str = "逾期未整改"

    @classmethod
    def examples(cls) -> Sequence[HazardEscalated]:
        """Instances the conformance kit round-trips."""
        return (cls("hz-00001", "deputy-3", 1), cls("hz-00001", "director", 2, "逾期未销号"))


@record_kind("hazard-reassigned")
@attrs.frozen
class RectificationReassigned:
    """The rectification plan's responsible person (整改责任人) handed to someone else, as
    when they leave their post (交接); the plan is otherwise unchanged."""

    hazard: str = attrs.field(validator=check_id)
    responsible: str = attrs.field(validator=check_id)
    """Who answers for the rectification from now on."""
    reason: str = "交接"

    @classmethod
    def examples(cls) -> Sequence[RectificationReassigned]:
        """Instances the conformance kit round-trips."""
        return (cls("hz-00001", "p090"),)


HAZARD_KINDS: tuple[type[Any], ...] = (
    HazardFound,
    HazardRegistered,
    RectificationPlanned,
    RectificationClaimed,
    Reinspected,
    HazardClosed,
    HazardEscalated,
    RectificationReassigned,
)


# -- rules and state --------------------------------------------------------------------


@attrs.frozen
class HazardRules:
    """Deadlines of the hazard loop, in days from when the hazard was found.

    The defaults follow common practice for 隐患排查治理; override any of them with
    ``attrs.evolve(HazardRules(), general_close_days=15)``.
    """

    general_close_days: int = attrs.field(default=30, validator=positive)
    """A general hazard is closed within this many days."""
    major_plan_days: int = attrs.field(default=20, validator=positive)
    """A major hazard has a rectification plan within this many days."""
    major_close_days: int = attrs.field(default=90, validator=positive)
    """A major hazard is closed within this many days."""
    list_major: bool = True
    """Major hazards are listed for supervision (挂牌督办) when registered."""
    major_report_hours: int = attrs.field(default=0, validator=non_negative)
    """A major hazard reaches the office within this many hours (0: at once, taken as
    within the hour); from :attr:`dualduty.Rules.major_hazard_report_hours` (三.2)."""
    escalate_every_days: int = attrs.field(default=7, validator=positive)
    """An overdue hazard climbs one level of the chain at most this often."""
    channel: str | None = attrs.field(default=None, validator=attrs.validators.optional(check_text))
    """Send every hazard notification through this channel instead of the channels of
    the routes in force (``None``: the routes', :mod:`dualduty.notify.routing`). Kept from
    before routing; route hazards in the district file's ``[notify]`` table instead."""

    @classmethod
    def of(cls, rules: Rules) -> HazardRules:
        """The defaults, with what an organisation's :class:`~dualduty.Rules` set."""
        return cls(major_report_hours=rules.major_hazard_report_hours)


@attrs.frozen
class HazardState:
    """A hazard as its records say it is (folded, no I/O)."""

    id: str
    school: str
    severity: Severity
    description: str
    status: HazardStatus
    found_at: dt.datetime
    found_by: str
    rules: HazardRules
    inspection: str | None = None
    """The inspection that found it, if any."""
    listed: bool = False
    reported_at: dt.datetime | None = None
    """When the office learned of it (``None``: not yet)."""
    plan: RectificationPlanned | None = None
    planned_at: dt.datetime | None = None
    claimed_by: str | None = None
    rejections: int = 0
    escalation_level: int = 0
    """How far up the chain it has been escalated (0: not yet)."""
    escalated_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None

    @property
    def major(self) -> bool:
        """Whether it is a major hazard."""
        return self.severity is Severity.MAJOR

    @property
    def open(self) -> bool:
        """Whether it is not closed yet."""
        return self.status is not HazardStatus.CLOSED

    @property
    def close_by(self) -> dt.datetime:
        """When it must be closed by."""
        days = self.rules.major_close_days if self.major else self.rules.general_close_days
        return self.found_at + dt.timedelta(days=days)

    @property
    def report_by(self) -> dt.datetime | None:
        """When a major hazard must have reached the office by (``None``: general)."""
        if not self.major:
            return None
        return self.found_at + dt.timedelta(hours=max(self.rules.major_report_hours, 1))

    @property
    def reported_late(self) -> bool:
        """Whether a major hazard reached the office after :attr:`report_by`."""
        by = self.report_by
        return by is not None and self.reported_at is not None and self.reported_at > by

    @property
    def plan_by(self) -> dt.datetime | None:
        """When a major hazard must have its rectification plan by (``None``: general)."""
        return self.found_at + dt.timedelta(days=self.rules.major_plan_days) if self.major else None

    def missed(self, now: dt.datetime) -> tuple[str, ...]:
        """The deadlines missed at *now*: ``"report"``, ``"plan"``, ``"time-limit"``, ``"close"``.

        ``"report"`` (a major hazard the office learned of late, or not yet when it
        should have) stays missed once missed, even after closing; the others are
        missed only while the hazard is open.
        """
        out = []
        report_by = self.report_by
        if report_by is not None:
            reported = self.reported_at
            if (reported is not None and reported > report_by) or (
                reported is None and now > report_by
            ):
                out.append("report")
        if not self.open:
            return tuple(out)
        plan_by = self.plan_by
        if plan_by is not None and self.plan is None and now > plan_by:
            out.append("plan")
        limit = self.plan.time_limit if self.plan is not None else None
        in_work = self.status in (HazardStatus.REGISTERED, HazardStatus.RECTIFYING)
        if limit is not None and in_work and now.date() > limit:
            out.append("time-limit")
        if now > self.close_by:
            out.append("close")
        return tuple(out)

    def overdue(self, now: dt.datetime) -> bool:
        """Whether the hazard is open and has missed a deadline at *now*."""
        return self.open and bool(self.missed(now))

    @classmethod
    def fold(
        cls, records: Iterable[Record], rules: HazardRules | None = None
    ) -> HazardState | None:
        """Fold a hazard's records, oldest first (``None`` if there are none).

        :raises InvalidTransition: if the records do not follow the loop.
        """
        state: HazardState | None = None
        for record in records:
            state = step(state, record, rules)
        return state


#: What each record kind may follow.
_ALLOWED: dict[type[Any], frozenset[HazardStatus]] = {
    HazardRegistered: frozenset({HazardStatus.FOUND}),
    RectificationPlanned: frozenset({HazardStatus.REGISTERED, HazardStatus.RECTIFYING}),
    RectificationClaimed: frozenset({HazardStatus.RECTIFYING}),
    Reinspected: frozenset({HazardStatus.RECTIFIED}),
    HazardClosed: frozenset({HazardStatus.ACCEPTED}),
    HazardEscalated: frozenset(set(HazardStatus) - {HazardStatus.CLOSED}),
    RectificationReassigned: frozenset({HazardStatus.RECTIFYING, HazardStatus.RECTIFIED}),
}


def step(
    state: HazardState | None, record: Record, rules: HazardRules | None = None
) -> HazardState:
    """The state after *record*; pure.

    :raises InvalidTransition: if *record* does not fit *state*.
    """
    # The compliance view folds hazards from raw entries for speed with a copy of these
    # transitions (records/compliance.py, _apply); change both together. Its property
    # test (tests/test_compliance.py) compares the two.
    data = record.data
    if isinstance(data, HazardFound):
        if state is not None:
            raise InvalidTransition(f"hazard {data.hazard!r} was already found")
        return HazardState(
            id=data.hazard,
            school=data.school,
            severity=data.severity,
            description=data.description,
            status=HazardStatus.FOUND,
            found_at=record.at,
            found_by=record.actor,
            rules=rules or HazardRules(),
            reported_at=record.at if data.reported else None,
            inspection=data.inspection,
        )
    hazard = getattr(data, "hazard", None)
    if state is None:
        raise InvalidTransition(f"no hazard {hazard!r} has been found")
    if hazard != state.id:
        raise InvalidTransition(f"a record of hazard {hazard!r} applied to {state.id!r}")
    allowed = _ALLOWED.get(type(data))
    if allowed is None:
        raise InvalidTransition(f"{record.kind!r} is not a hazard record")
    if state.status not in allowed:
        raise InvalidTransition(
            f"hazard {state.id!r} is {state.status.value}: cannot apply {record.kind!r}"
        )
    evolve = attrs.evolve
    if isinstance(data, HazardRegistered):
        reported = state.reported_at if state.reported_at is not None else record.at
        return evolve(
            state, status=HazardStatus.REGISTERED, listed=data.listed, reported_at=reported
        )
    if isinstance(data, RectificationPlanned):
        if state.major and (not data.measures or not data.safeguards):
            raise InvalidTransition(
                f"hazard {state.id!r} is major: its plan needs measures and interim safeguards"
            )
        return evolve(state, status=HazardStatus.RECTIFYING, plan=data, planned_at=record.at)
    if isinstance(data, RectificationClaimed):
        return evolve(state, status=HazardStatus.RECTIFIED, claimed_by=record.actor)
    if isinstance(data, Reinspected):
        if data.accepted:
            return evolve(state, status=HazardStatus.ACCEPTED)
        return evolve(state, status=HazardStatus.RECTIFYING, rejections=state.rejections + 1)
    if isinstance(data, HazardClosed):
        return evolve(state, status=HazardStatus.CLOSED, closed_at=record.at)
    if isinstance(data, RectificationReassigned):
        assert state.plan is not None  # a plan comes with both statuses allowed
        return evolve(state, plan=evolve(state.plan, responsible=data.responsible))
    assert isinstance(data, HazardEscalated)
    if data.level != state.escalation_level + 1:
        raise InvalidTransition(
            f"hazard {state.id!r} is at escalation level {state.escalation_level}, "
            f"not {data.level - 1}"
        )
    return evolve(state, escalation_level=data.level, escalated_at=record.at)


def escalation_chain(graph: OrgGraph, school_id: str) -> tuple[Post, ...]:
    """Who answers for a school's hazards, bottom up: section head, deputy in charge, leader.

    The section is the first unit holding a package of the school (the office's seat when
    none does); vacant or missing levels are left out, and no post appears twice.
    """
    sections = graph.sections_for(school_id)
    section = sections[0] if sections else _office_seat(graph)
    chain: list[Post] = []
    if section is not None:
        head = graph.head_of(section.id)
        if head is not None:
            chain.append(head)
        chain.extend(p for p in graph.in_charge_of(section.id) if p.role is Role.DEPUTY)
    leader = graph.leader()
    if leader is not None:
        chain.append(leader)
    return tuple(dict.fromkeys(chain))


def _office_seat(graph: OrgGraph) -> Unit | None:
    office = next((u for u in graph.org.units if u.kind is UnitKind.OFFICE), None)
    if office is None or office.seated_in is None:
        return None
    return graph.unit(office.seated_in)


# -- the service ------------------------------------------------------------------------


def hazard(id_: str) -> str:
    """The subject string of a hazard (``"hazard:hz-00001"``)."""
    return f"hazard:{id_}"


class Hazards:
    """The hazard loop over a store: every command checks, validates and appends at once.

    :param store: where the records go.
    :param org: the organisation whose posts decide who may do what.
    :param rules: deadlines (when ``None``: :meth:`HazardRules.of` the organisation's rules).
    :param desk: share the desk of a :class:`~dualduty.records.Recorder` (its batches and
        clock) instead of making one.

    Who may do what:

    - *find*: anyone holding or staffing a package of the school, or in a unit holding
      one, and the office (which organises special inspections, 专项督查);
    - *register* and *escalate_overdue*: the office (its head and its seat's staff);
    - *plan*, *claim*, *reinspect*: the school's packaged sections or the office, but the
      re-inspector must not be who claimed the rectification (separation of duties);
    - *close*: the office; a general hazard also the head of the school's section.

    Each command reads the hazard inside its write transaction, so two writers cannot
    both apply a transition to the same state.
    """

    def __init__(
        self,
        store: Store,
        org: Organisation,
        rules: HazardRules | None = None,
        *,
        desk: Desk | None = None,
    ) -> None:
        from .service import Desk

        self.desk = desk if desk is not None else Desk(store, org)
        self.store = store
        self.org = org
        self.rules = rules or HazardRules.of(org.rules)
        self.graph = self.desk.graph
        # hazard id -> (desk.rollbacks, seq, state): the state its record of that seq made
        self._known: dict[str, tuple[int, int, HazardState]] = {}

    # -- who ---------------------------------------------------------------------------

    def office_members(self) -> frozenset[str]:
        """The people acting for the leading group's office."""
        return self.desk.office_members()

    def section_members(self, school_id: str) -> frozenset[str]:
        """The people of the units holding a package of the school."""
        return self.desk.section_members(school_id)

    def finders(self, school_id: str) -> frozenset[str]:
        """Who may record a hazard found at the school."""
        return self.desk.finders(school_id)

    # -- reading -----------------------------------------------------------------------

    def _fold(self, writing: Writing, hazard_id: str) -> HazardState:
        """The hazard's state inside *writing*: what this service last appended to it,
        with only the records after that read and folded (every record at first)."""
        known = self._known.get(hazard_id)
        if known is not None and known[0] == self.desk.rollbacks:
            _, seq, state = known
            for record in writing.read(hazard(hazard_id), after=seq):
                state = step(state, record, self.rules)
            return state
        found = HazardState.fold(writing.read(hazard(hazard_id)), self.rules)
        if found is None:
            raise InvalidTransition(f"no hazard {hazard_id!r} has been found")
        return found

    def _append(
        self, w: Writing, record: Record, state: HazardState, messages: Sequence[OutboxMessage] = ()
    ) -> None:
        """Append *record*, which makes *state*, and remember that state."""
        entry = w.append(record, messages)
        self._known[state.id] = (self.desk.rollbacks, entry.seq, state)

    def state(self, hazard_id: str) -> HazardState:
        """The hazard's state, folded from its records (an indexed read).

        :raises InvalidTransition: if no such hazard was found.
        """
        records = [e.record for e in self.store.read(subject=hazard(hazard_id))]
        state = HazardState.fold(records, self.rules)
        if state is None:
            raise InvalidTransition(f"no hazard {hazard_id!r} has been found")
        return state

    def all(self, *, until: dt.datetime | None = None) -> list[HazardState]:
        """Every hazard's state (as of *until*, exclusive, if given), in the order found."""
        return fold_hazards(self.store, self.rules, until=until)

    # -- writing -----------------------------------------------------------------------

    def _subjects(self, state: HazardState | str) -> list[str]:
        school_id = state if isinstance(state, str) else state.school
        hazard_id = None if isinstance(state, str) else state.id
        subjects = self.desk.school_subjects(school_id)
        if hazard_id is not None:
            subjects.insert(0, hazard(hazard_id))
        return subjects

    def _event(
        self,
        kind: str,
        state: HazardState,
        w: Writing,
        at: dt.datetime,
        *,
        urgent: bool,
        parties: dict[str, tuple[str, ...]] | None = None,
        **fields: object,
    ) -> Event:
        """An event about *state*, caused by the record *w* appends next."""
        from dualduty.notify.routing import Event

        data = {
            "hazard": state.id,
            "school": state.school,
            "school_name": self.graph.school(state.school).name,
            "level": "重大" if state.major else "一般",
            "description": state.description,
            **fields,
        }
        return Event(
            kind,
            state.id,
            at,
            school=state.school,
            cause=w.next_seq,
            urgent=urgent,
            data=data,
            parties=parties or {},
        )

    def _route(self, event: Event) -> list[OutboxMessage]:
        return self.desk.route(event, channel=self.rules.channel)

    def _command(
        self,
        hazard_id: str,
        actor: str,
        at: dt.datetime | None,
        make: Callable[[HazardState], tuple[frozenset[str], str, object]],
    ) -> HazardState:
        """Read the hazard, ask *make* who may act and what to record, check, append."""
        with self.desk.writing() as w:
            state = self._fold(w, hazard_id)
            allowed, what, data = make(state)
            self.desk.require(actor, allowed, what)
            record = Record.of(
                data, actor=actor, at=self.desk.now(at), subjects=self._subjects(state)
            )
            new = step(state, record, self.rules)
            self._append(w, record, new)
        return new

    def find(
        self,
        school_id: str,
        severity: Severity | str,
        description: str,
        *,
        actor: str,
        hazard_id: str | None = None,
        inspection: str | None = None,
        at: dt.datetime | None = None,
    ) -> HazardState:
        """Record a hazard found at a school; a major one is reported to the office at once."""
        with self.desk.writing() as w:
            return self.find_in(
                w,
                school_id,
                severity,
                description,
                actor=actor,
                hazard_id=hazard_id,
                inspection=inspection,
                at=at,
            )

    def find_in(
        self,
        w: Writing,
        school_id: str,
        severity: Severity | str,
        description: str,
        *,
        actor: str,
        hazard_id: str | None = None,
        inspection: str | None = None,
        at: dt.datetime | None = None,
    ) -> HazardState:
        """:meth:`find` inside an open writing (an inspection's findings use it)."""
        from .service import new_id

        self.graph.school(school_id)  # an unknown school is refused before anything else
        allowed = self.finders(school_id) | self.office_members()
        self.desk.require(actor, allowed, f"record hazards at school {school_id}")
        data = HazardFound(
            new_id(w, "hz", hazard_id, "hazard"),
            school_id,
            Severity(severity),
            description,
            inspection,
        )
        record = Record.of(
            data,
            actor=actor,
            at=self.desk.now(at),
            subjects=[hazard(data.hazard), *self._subjects(school_id)],
        )
        state = step(None, record, self.rules)
        messages = []
        if state.major:  # 三.2: reported at once
            from dualduty.notify.routing import zh_time

            event = self._event(
                "major-hazard",
                state,
                w,
                record.at,
                urgent=True,
                finder=self.graph.person(actor).name,
                found_at=zh_time(record.at, self.desk.zone),
            )
            messages = self._route(event)
        self._append(w, record, state, messages)
        return state

    def register(self, hazard_id: str, *, actor: str, at: dt.datetime | None = None) -> HazardState:
        """The office registers the hazard; a major one is listed for supervision (挂牌督办)."""

        def make(state: HazardState) -> tuple[frozenset[str], str, object]:
            listed = state.major and self.rules.list_major
            what = "register hazards (the office does)"
            return self.office_members(), what, HazardRegistered(hazard_id, listed)

        return self._command(hazard_id, actor, at, make)

    def plan(
        self,
        hazard_id: str,
        *,
        actor: str,
        measures: Iterable[str],
        responsible: str,
        time_limit: dt.date,
        funds_yuan: int = 0,
        safeguards: Iterable[str] = (),
        at: dt.datetime | None = None,
    ) -> HazardState:
        """Record the rectification plan (again, after a rejection, to revise it)."""
        self.desk.require_person(responsible, f"the plan of {hazard_id}")
        data = RectificationPlanned(
            hazard_id, tuple(measures), responsible, time_limit, funds_yuan, tuple(safeguards)
        )

        def make(state: HazardState) -> tuple[frozenset[str], str, object]:
            return self._workers(state.school), f"plan the rectification of {hazard_id}", data

        return self._command(hazard_id, actor, at, make)

    def reassign(
        self,
        hazard_id: str,
        responsible: str,
        *,
        actor: str,
        reason: str = "交接",
        at: dt.datetime | None = None,
    ) -> HazardState:
        """Hand the rectification to another responsible person (the plan stays as it is)."""
        self.desk.require_person(responsible, f"the plan of {hazard_id}")

        def make(state: HazardState) -> tuple[frozenset[str], str, object]:
            allowed = (
                self._workers(state.school) | self.office_members() | self.desk.leading_members()
            )
            data = RectificationReassigned(hazard_id, responsible, reason)
            return allowed, f"hand over the rectification of {hazard_id}", data

        return self._command(hazard_id, actor, at, make)

    def claim(
        self, hazard_id: str, *, actor: str, text: str = "整改完成", at: dt.datetime | None = None
    ) -> HazardState:
        """Report the rectification done; someone else re-inspects it."""

        def make(state: HazardState) -> tuple[frozenset[str], str, object]:
            what = f"claim the rectification of {hazard_id}"
            return self._workers(state.school), what, RectificationClaimed(hazard_id, text)

        return self._command(hazard_id, actor, at, make)

    def reinspect(
        self,
        hazard_id: str,
        *,
        actor: str,
        accepted: bool,
        notes: str = "",
        at: dt.datetime | None = None,
    ) -> HazardState:
        """Re-inspect a claimed rectification: accept it, or send it back to rectifying."""

        def make(state: HazardState) -> tuple[frozenset[str], str, object]:
            self.desk.require(actor, self._workers(state.school), f"re-inspect {hazard_id}")
            if state.claimed_by == actor:
                raise PermissionDenied(
                    f"{actor} claimed the rectification of {hazard_id} and may not "
                    "re-inspect it (separation of duties)"
                )
            data = Reinspected(hazard_id, accepted, notes)
            return self._workers(state.school), f"re-inspect {hazard_id}", data

        return self._command(hazard_id, actor, at, make)

    def close(
        self, hazard_id: str, *, actor: str, notes: str = "", at: dt.datetime | None = None
    ) -> HazardState:
        """Close (销号) an accepted hazard; only the office closes a major one."""

        def make(state: HazardState) -> tuple[frozenset[str], str, object]:
            allowed = set(self.office_members())
            if not state.major:
                for section in self.graph.sections_for(state.school):
                    head = self.graph.head_of(section.id)
                    if head is not None and head.holder is not None:
                        allowed.add(head.holder)
            what = "close a major hazard (the office does)" if state.major else f"close {hazard_id}"
            return frozenset(allowed), what, HazardClosed(hazard_id, notes)

        return self._command(hazard_id, actor, at, make)

    def escalate_overdue(self, now: dt.datetime, *, actor: str) -> list[HazardState]:
        """Escalate every overdue hazard one level up its chain; return those escalated.

        A hazard climbs at most once per ``rules.escalate_every_days``; each escalation
        is a :class:`HazardEscalated` record and the messages of its ``hazard-escalated``
        event (by default to the post's holder; to the office's head, saying so, when the
        post is vacant), all in one transaction.
        """
        self.desk.require(actor, self.office_members(), "escalate hazards (the office does)")
        every = dt.timedelta(days=self.rules.escalate_every_days)
        escalated: list[HazardState] = []
        with self.desk.writing() as w:
            for state in fold_hazards(self.store, self.rules, pending=w.tx.records):
                missed = state.missed(now)
                if not missed or not state.open:
                    continue
                if state.escalated_at is not None and now - state.escalated_at < every:
                    continue
                chain = escalation_chain(self.graph, state.school)
                level = state.escalation_level + 1
                if level >= len(chain):
                    continue
                post = chain[level]
                reason = "逾期：" + "、".join(_MISSED_ZH[m] for m in missed)
                data = HazardEscalated(state.id, post.id, level, reason)
                record = Record.of(data, actor=actor, at=now, subjects=self._subjects(state))
                new = step(state, record, self.rules)
                event = self._event(
                    "hazard-escalated",
                    state,
                    w,
                    now,
                    urgent=state.major,
                    parties={"escalation": () if post.holder is None else (post.holder,)},
                    reason=reason,
                    post_title=post.title,
                    escalation_level=level,
                )
                self._append(w, record, new, self._route(event))
                escalated.append(new)
        return escalated

    def _workers(self, school_id: str) -> frozenset[str]:
        return self.section_members(school_id) | self.office_members()


def fold_hazards(
    store: Store,
    rules: HazardRules | None = None,
    *,
    until: dt.datetime | None = None,
    pending: Sequence[Record] = (),
) -> list[HazardState]:
    """Every hazard's state from the store's hazard records (as of *until*, exclusive).

    Reads only the hazard kinds, each through the store's kind index. *pending* adds the
    records of an open transaction, not committed yet, in the order appended.
    """
    by_id: dict[str, list[tuple[int, Record]]] = {}
    for kind in HAZARD_KINDS:
        name = kind.__record_kind__
        for entry in store.read(kind=name, until=until):
            by_id.setdefault(entry.record.data.hazard, []).append((entry.seq, entry.record))
    extra = 1 << 62  # after every committed entry, in the order they were appended
    for record in pending:
        if type(record.data) in HAZARD_KINDS:
            by_id.setdefault(record.data.hazard, []).append((extra, record))
            extra += 1
    found = sorted(by_id.values(), key=lambda rs: min(seq for seq, _ in rs))
    states = []
    for pairs in found:
        pairs.sort(key=lambda sr: sr[0])
        state = HazardState.fold((r for _, r in pairs), rules)
        if state is not None:
            states.append(state)
    return states


_MISSED_ZH = {
    "report": "未及时上报",
    "plan": "未按期制定整改方案",
    "time-limit": "超过整改时限",
    "close": "未按期销号",
}
