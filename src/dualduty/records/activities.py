"""Activities with teachers and students: the host is responsible (谁主办谁负责, 二(三).2).

"对于涉及师生参加的大型活动，按照'谁主办谁负责'的原则，做好活动审批、指导、监督、活动
安全预案落实等工作": the unit hosting an activity answers for its approval (审批), its
safety plan (安全预案) and its supervision on the day (监督). Three layers, each usable alone:

- the record kinds (:class:`ActivityRegistered`, :class:`ActivityApproved`,
  :class:`SafetyPlanFiled`, :class:`SafetyPlanApproved`, :class:`ActivitySupervised`,
  :class:`ActivityCancelled`), registered when this module is imported;
- a pure fold: :func:`step` applies one record to an :class:`ActivityState`,
  :meth:`ActivityState.fold` folds an activity's records, and
  :meth:`ActivityState.findings` says what is missing on a given day;
- the service :class:`Activities`, whose commands check who may act, validate the record
  against the activity's state and append in one transaction.

An activity with at least :attr:`ActivityRules.large_scale_participants` participants
(1,000 by default) is a large-scale event (大型活动): it needs the approval of the leader
or of the deputy in charge of the host, and someone must supervise it on the day.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs

from dualduty.model._checks import check_date, check_id, check_ids, check_text
from dualduty.model.enums import UnitKind

from ._fields import opt_id, opt_text, positive, strings, texts
from .base import Record, record_kind
from .service import InvalidTransition, PermissionDenied

if TYPE_CHECKING:
    from dualduty.model.org import Organisation
    from dualduty.storage.store import Store

    from .service import Desk, Writing

__all__ = [
    "KINDS",
    "Activities",
    "ActivityApproved",
    "ActivityCancelled",
    "ActivityFinding",
    "ActivityGap",
    "ActivityRegistered",
    "ActivityRules",
    "ActivityState",
    "ActivitySupervised",
    "Approver",
    "SafetyPlanApproved",
    "SafetyPlanFiled",
    "activity",
    "fold_activities",
    "step",
]


# -- record kinds ---------------------------------------------------------------------


@record_kind("activity-registered")
@attrs.frozen
class ActivityRegistered:
    """An activity with teachers and students entered by its host unit (主办单位).

    :param activity: its id.
    :param host: the unit hosting it, which answers for its safety (谁主办谁负责).
    :param title: what it is (a sports meet, a study tour, a contest).
    :param date: the day it takes place.
    :param participants: how many teachers and students take part; from
        :attr:`ActivityRules.large_scale_participants` on it is a large-scale event.
    :param school: the school it takes place at or draws on, if one.
    :param venue: where it takes place, if not a school (a stadium, a park).
    """

    activity: str = attrs.field(validator=check_id)
    host: str = attrs.field(validator=check_id)
    title: str = attrs.field(validator=check_text)
    date: dt.date = attrs.field(validator=check_date)
    participants: int = attrs.field(validator=positive)
    school: str | None = attrs.field(default=None, validator=opt_id)
    venue: str | None = attrs.field(default=None, validator=opt_text)

    @classmethod
    def examples(cls) -> Sequence[ActivityRegistered]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "ac-00001",
                "sports",
                "全区中小学生田径运动会",
                dt.date(2026, 10, 20),
                2400,
                venue="区体育中心",
            ),
            cls("ac-00002", "moral-education", "秋季研学活动", dt.date(2026, 9, 25), 300, "s0001"),
        )


@record_kind("activity-approved")
@attrs.frozen
class ActivityApproved:
    """The activity is approved (活动审批); the record's actor approved it."""

    activity: str = attrs.field(validator=check_id)
    notes: str = ""

    @classmethod
    def examples(cls) -> Sequence[ActivityApproved]:
        """Instances the conformance kit round-trips."""
        return (cls("ac-00001", "同意举办，严格落实安全预案"), cls("ac-00002"))


@record_kind("activity-plan-filed")
@attrs.frozen
class SafetyPlanFiled:
    """The host files the activity's safety plan (活动安全预案); filing again revises it.

    :param summary: the plan in a sentence or two.
    :param measures: its safety measures (安全措施).
    :param emergency_plan: whether it includes an emergency plan (应急预案): evacuation,
        first aid, who calls whom.
    """

    activity: str = attrs.field(validator=check_id)
    summary: str = attrs.field(validator=check_text)
    measures: tuple[str, ...] = attrs.field(default=(), converter=strings, validator=texts)
    emergency_plan: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))

    @classmethod
    def examples(cls) -> Sequence[SafetyPlanFiled]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "ac-00001",
                "运动会安全工作方案",
                ("分区域安排安保人员", "设立医疗救护点", "入场安检"),
                emergency_plan=True,
            ),
            cls("ac-00002", "研学活动安全预案"),
        )


@record_kind("activity-plan-approved")
@attrs.frozen
class SafetyPlanApproved:
    """The filed safety plan is approved; the record's actor approved it."""

    activity: str = attrs.field(validator=check_id)
    notes: str = ""

    @classmethod
    def examples(cls) -> Sequence[SafetyPlanApproved]:
        """Instances the conformance kit round-trips."""
        return (cls("ac-00001", "预案可行"), cls("ac-00002"))


@record_kind("activity-supervised")
@attrs.frozen
class ActivitySupervised:
    """Someone supervised the activity on the day (现场监督).

    :param supervisors: who was there (person ids); the record's actor recorded it.
    :param notes: what they saw.
    """

    activity: str = attrs.field(validator=check_id)
    supervisors: tuple[str, ...] = attrs.field(converter=strings, validator=check_ids)
    notes: str = ""

    @classmethod
    def examples(cls) -> Sequence[ActivitySupervised]:
        """Instances the conformance kit round-trips."""
        return (cls("ac-00001", ("p061", "p004"), "安保到位，秩序良好"),)


@record_kind("activity-cancelled")
@attrs.frozen
class ActivityCancelled:
    """The activity will not take place; a cancelled activity has no findings."""

    activity: str = attrs.field(validator=check_id)
    reason: str = attrs.field(validator=check_text)

    @classmethod
    def examples(cls) -> Sequence[ActivityCancelled]:
        """Instances the conformance kit round-trips."""
        return (cls("ac-00002", "天气原因取消"),)


KINDS: tuple[type[Any], ...] = (
    ActivityRegistered,
    ActivityApproved,
    SafetyPlanFiled,
    SafetyPlanApproved,
    ActivitySupervised,
    ActivityCancelled,
)
"""The record kinds of activities, in the order of an activity's life."""


# -- rules ----------------------------------------------------------------------------


class Approver(StrEnum):
    """Who may approve, or supervise, an activity: levels relative to its host unit."""

    HOST_HEAD = "host_head"
    """主办科室负责人: the head of the host unit."""
    IN_CHARGE = "in_charge"
    """分管领导: a leading-group post in charge of the host unit."""
    LEADER = "leader"
    """组长: the leader of the leading group."""
    OFFICE = "office"
    """领导小组办公室: the leading group's office (its head and its seat's staff)."""


def _approvers(value: Iterable[Approver | str]) -> frozenset[Approver]:
    if isinstance(value, str):  # one level would otherwise become its characters
        value = (value,)
    return frozenset(Approver(v) for v in value)


def _not_empty(_inst: object, a: attrs.Attribute[Any], value: frozenset[Approver]) -> None:
    if not value:
        raise ValueError(f"{a.name}: at least one level is needed")


@attrs.frozen
class ActivityRules:
    """Who approves and supervises activities, and from what size an event is large-scale.

    Override any of them: ``ActivityRules(large_scale_participants=500)``,
    ``ActivityRules(large_scale_approvers={"leader"})``.
    """

    # The levels' defaults are given as names, which the converter turns into Approvers
    # (mypy checks a default against the field's type, not the converter's argument).
    large_scale_participants: int = attrs.field(default=1000, validator=positive)
    """From this many participants an activity is a large-scale event (大型活动)."""
    approvers: frozenset[Approver] = attrs.field(
        default=("host_head", "in_charge"),  # type: ignore[arg-type]  # converted
        converter=_approvers,
        validator=_not_empty,
    )
    """Who approves an activity, and its safety plan, below the large-scale size."""
    large_scale_approvers: frozenset[Approver] = attrs.field(
        default=("leader", "in_charge"),  # type: ignore[arg-type]  # converted
        converter=_approvers,
        validator=_not_empty,
    )
    """Who approves a large-scale event, and its safety plan."""
    supervisors: frozenset[Approver] = attrs.field(
        default=("host_head", "in_charge", "office"),  # type: ignore[arg-type]  # converted
        converter=_approvers,
        validator=_not_empty,
    )
    """Who may record the supervision of an activity on its day."""
    large_scale_emergency_plan: bool = attrs.field(
        default=True, validator=attrs.validators.instance_of(bool)
    )
    """A large-scale event's safety plan must include an emergency plan (应急预案)."""

    def large_scale(self, participants: int) -> bool:
        """Whether an activity of this many participants is a large-scale event."""
        return participants >= self.large_scale_participants


# -- state ----------------------------------------------------------------------------


class ActivityGap(StrEnum):
    """What an activity lacks (see :meth:`ActivityState.findings`)."""

    NO_SAFETY_PLAN = "no_safety_plan"
    """No safety plan approved by its date (二(三).2: 活动安全预案落实)."""
    NOT_APPROVED = "not_approved"
    """A large-scale event not approved by its date (二(三).2: 活动审批)."""
    NOT_SUPERVISED = "not_supervised"
    """A large-scale event nobody supervised on its day (二(三).2: 监督)."""


@attrs.frozen
class ActivityFinding:
    """One thing an activity lacks, and why.

    :param activity: the activity's id.
    :param host: its host unit, which answers for it.
    :param gap: what is lacking.
    :param clause: the clause of the plan that asks for it.
    :param message: the reason in words.
    """

    activity: str
    host: str
    gap: ActivityGap
    clause: str
    message: str


def _local_date(at: dt.datetime, zone: str | None) -> dt.date:
    return (at if zone is None else at.astimezone(zoneinfo.ZoneInfo(zone))).date()


@attrs.frozen
class ActivityState:
    """An activity as its records say it is (folded, no I/O).

    Dates of approvals and supervision are the local dates of their records' times.
    """

    id: str
    host: str
    title: str
    date: dt.date
    participants: int
    registered_by: str
    registered_at: dt.datetime
    rules: ActivityRules
    school: str | None = None
    venue: str | None = None
    approved_by: str | None = None
    approved_on: dt.date | None = None
    plan: SafetyPlanFiled | None = None
    """The safety plan as last filed."""
    plan_filed_by: str | None = None
    plan_filed_on: dt.date | None = None
    plan_approved_by: str | None = None
    """Who approved the plan as last filed (``None``: not approved yet)."""
    plan_approved_on: dt.date | None = None
    supervisors: tuple[str, ...] = ()
    supervised_on: dt.date | None = None
    cancelled: bool = False
    cancel_reason: str | None = None

    @property
    def large_scale(self) -> bool:
        """Whether it is a large-scale event (大型活动)."""
        return self.rules.large_scale(self.participants)

    @property
    def approved(self) -> bool:
        """Whether the activity itself is approved."""
        return self.approved_by is not None

    @property
    def plan_approved(self) -> bool:
        """Whether its safety plan, as last filed, is approved."""
        return self.plan_approved_by is not None

    @property
    def supervised(self) -> bool:
        """Whether anyone supervised it."""
        return bool(self.supervisors)

    def findings(self, today: dt.date) -> tuple[ActivityFinding, ...]:
        """What the activity lacks on *today*; nothing before its date, nor once cancelled.

        - every activity: a safety plan approved on or before its date;
        - a large-scale event: approval on or before its date, and (after its date)
          someone who supervised it.
        """
        if isinstance(today, dt.datetime) or not isinstance(today, dt.date):
            raise TypeError(f"today: expected a date, got {today!r}")
        if self.cancelled or today < self.date:
            return ()
        out = []
        due = self.date.isoformat()
        approved_on = self.plan_approved_on
        if approved_on is None or approved_on > self.date:
            if self.plan is None:
                why = "no safety plan (安全预案) was filed"
            elif approved_on is None:
                why = f"its safety plan filed on {self.plan_filed_on} is not approved"
            else:
                why = f"its safety plan was approved on {approved_on}, after the activity"
            out.append(self._finding(ActivityGap.NO_SAFETY_PLAN, f"{why} (due by {due})"))
        if self.large_scale:
            size = f"a large-scale event of {self.participants} participants"
            if self.approved_on is None or self.approved_on > self.date:
                late = "" if self.approved_on is None else f" (approved on {self.approved_on})"
                out.append(
                    self._finding(ActivityGap.NOT_APPROVED, f"{size} not approved by {due}{late}")
                )
            if today > self.date and not self.supervised:
                out.append(
                    self._finding(ActivityGap.NOT_SUPERVISED, f"{size}: nobody supervised it")
                )
        return tuple(out)

    def _finding(self, gap: ActivityGap, why: str) -> ActivityFinding:
        return ActivityFinding(self.id, self.host, gap, "二(三).2", f"{self.title}: {why}")

    @classmethod
    def fold(
        cls,
        records: Iterable[Record],
        rules: ActivityRules | None = None,
        *,
        zone: str | None = None,
    ) -> ActivityState | None:
        """Fold an activity's records, oldest first (``None`` if there are none).

        :param zone: the time zone whose dates count (``"Asia/Shanghai"``; default: the
            zone of each record's time).
        :raises InvalidTransition: if the records do not fit one another.
        """
        state: ActivityState | None = None
        for record in records:
            state = step(state, record, rules, zone=zone)
        return state


def step(
    state: ActivityState | None,
    record: Record,
    rules: ActivityRules | None = None,
    *,
    zone: str | None = None,
) -> ActivityState:
    """The state after *record*; pure.

    :raises InvalidTransition: if *record* does not fit *state*.
    """
    data = record.data
    on = _local_date(record.at, zone)
    if isinstance(data, ActivityRegistered):
        if state is not None:
            raise InvalidTransition(f"activity {data.activity!r} is already registered")
        return ActivityState(
            id=data.activity,
            host=data.host,
            title=data.title,
            date=data.date,
            participants=data.participants,
            registered_by=record.actor,
            registered_at=record.at,
            rules=rules or ActivityRules(),
            school=data.school,
            venue=data.venue,
        )
    activity_id = getattr(data, "activity", None)
    if state is None:
        raise InvalidTransition(f"no activity {activity_id!r} has been registered")
    if type(data) not in KINDS:
        raise InvalidTransition(f"{record.kind!r} is not an activity record")
    if activity_id != state.id:
        raise InvalidTransition(f"a record of activity {activity_id!r} applied to {state.id!r}")
    if state.cancelled:
        raise InvalidTransition(f"activity {state.id!r} is cancelled: cannot apply {record.kind!r}")
    evolve = attrs.evolve
    if isinstance(data, ActivityApproved):
        if state.approved:
            raise InvalidTransition(f"activity {state.id!r} is already approved")
        return evolve(state, approved_by=record.actor, approved_on=on)
    if isinstance(data, SafetyPlanFiled):
        if state.plan_approved and on > state.date:
            raise InvalidTransition(
                f"the safety plan of {state.id!r} was approved and the activity took place "
                f"on {state.date}: it can no longer be revised"
            )
        if state.large_scale and state.rules.large_scale_emergency_plan and not data.emergency_plan:
            raise InvalidTransition(
                f"activity {state.id!r} is a large-scale event: its safety plan needs an "
                "emergency plan (应急预案)"
            )
        return evolve(
            state,
            plan=data,
            plan_filed_by=record.actor,
            plan_filed_on=on,
            plan_approved_by=None,
            plan_approved_on=None,
        )
    if isinstance(data, SafetyPlanApproved):
        if state.plan is None:
            raise InvalidTransition(f"activity {state.id!r} has no safety plan to approve")
        if state.plan_approved:
            raise InvalidTransition(f"the safety plan of {state.id!r} is already approved")
        return evolve(state, plan_approved_by=record.actor, plan_approved_on=on)
    if isinstance(data, ActivitySupervised):
        if on < state.date:
            raise InvalidTransition(
                f"activity {state.id!r} takes place on {state.date}: it cannot be "
                f"supervised on {on}"
            )
        supervisors = tuple(dict.fromkeys((*state.supervisors, *data.supervisors)))
        first = state.supervised_on if state.supervised_on is not None else on
        return evolve(state, supervisors=supervisors, supervised_on=first)
    assert isinstance(data, ActivityCancelled)
    if state.supervised:
        raise InvalidTransition(f"activity {state.id!r} took place: it cannot be cancelled")
    return evolve(state, cancelled=True, cancel_reason=data.reason)


def fold_activities(
    store: Store,
    rules: ActivityRules | None = None,
    *,
    zone: str | None = None,
    pending: Sequence[Record] = (),
) -> list[ActivityState]:
    """Every activity's state from the store's activity records, in the order registered.

    Reads only the activity kinds, each through the store's kind index. *pending* adds
    the records of an open transaction, not committed yet, in the order appended.
    """
    by_id: dict[str, list[tuple[int, Record]]] = {}
    for kind in KINDS:
        for entry in store.read(kind=kind.__record_kind__):
            by_id.setdefault(entry.record.data.activity, []).append((entry.seq, entry.record))
    extra = 1 << 62  # after every committed entry, in the order they were appended
    for record in pending:
        if type(record.data) in KINDS:
            by_id.setdefault(record.data.activity, []).append((extra, record))
            extra += 1
    states = []
    for pairs in sorted(by_id.values(), key=lambda rs: min(seq for seq, _ in rs)):
        pairs.sort(key=lambda sr: sr[0])
        state = ActivityState.fold((r for _, r in pairs), rules, zone=zone)
        if state is not None:
            states.append(state)
    return states


# -- the service ------------------------------------------------------------------------


def activity(id_: str) -> str:
    """The subject string of an activity (``"activity:ac-00001"``)."""
    return f"activity:{id_}"


class Activities:
    """Activities over a store (谁主办谁负责, 二(三).2).

    :param store: where the records go.
    :param org: the organisation whose posts decide who may do what.
    :param rules: who approves and supervises, and the large-scale size (default
        :class:`ActivityRules`).
    :param desk: share the desk of a recorder (its batches and clock) instead of making one.

    Who may do what:

    - *register*, *file_plan*: the people of the host unit (for the leading group's office
      as host: the office's people);
    - *approve*, *approve_plan*: :attr:`ActivityRules.approvers` (the head of the host
      unit or a leading-group member in charge of it), for a large-scale event
      :attr:`ActivityRules.large_scale_approvers` (the leader or a member in charge of
      the host); whoever filed the plan may not approve it (separation of duties);
    - *supervise*: :attr:`ActivityRules.supervisors` (the host's head, a member in
      charge of it, or the office);
    - *cancel*: the host's head and whoever may approve the activity.
    """

    def __init__(
        self,
        store: Store,
        org: Organisation,
        rules: ActivityRules | None = None,
        *,
        desk: Desk | None = None,
    ) -> None:
        from .service import Desk

        self.desk = desk if desk is not None else Desk(store, org)
        self.store = store
        self.org = org
        self.rules = rules or ActivityRules()
        self.graph = self.desk.graph

    # -- who ---------------------------------------------------------------------------

    def host_members(self, host: str) -> frozenset[str]:
        """The people acting for a host unit."""
        kind = self.graph.unit(host).kind
        if kind is UnitKind.OFFICE:
            return self.desk.office_members()
        if kind is UnitKind.LEADING_GROUP:
            return self.desk.leading_members()
        return self.desk.unit_members(host)

    def people(self, host: str, levels: Iterable[Approver]) -> frozenset[str]:
        """The people at *levels* relative to the host unit."""
        graph = self.graph
        unit = graph.unit(host)
        found: set[str] = set()
        for level in levels:
            if level is Approver.HOST_HEAD:
                head = graph.head_of(host)
                if head is not None and head.holder is not None:
                    found.add(head.holder)
            elif level is Approver.IN_CHARGE:
                units = [host]
                if unit.kind is UnitKind.OFFICE and unit.seated_in is not None:
                    units.append(unit.seated_in)  # the office answers to its seat's deputy
                found.update(
                    p.holder for u in units for p in graph.in_charge_of(u) if p.holder is not None
                )
            elif level is Approver.LEADER:
                leader = graph.leader()
                if leader is not None and leader.holder is not None:
                    found.add(leader.holder)
            else:
                found.update(self.desk.office_members())
        return frozenset(found)

    def approvers(self, host: str, participants: int) -> frozenset[str]:
        """Who may approve an activity of *host* with this many participants."""
        large = self.rules.large_scale(participants)
        levels = self.rules.large_scale_approvers if large else self.rules.approvers
        return self.people(host, levels)

    # -- reading -----------------------------------------------------------------------

    def _fold(self, writing: Writing, activity_id: str) -> ActivityState:
        records = [r for r in writing.read(activity(activity_id)) if type(r.data) in KINDS]
        state = ActivityState.fold(records, self.rules, zone=self.org.timezone)
        if state is None:
            raise InvalidTransition(f"no activity {activity_id!r} has been registered")
        return state

    def state(self, activity_id: str) -> ActivityState:
        """The activity's state, folded from its records (an indexed read).

        :raises InvalidTransition: if no such activity was registered.
        """
        records = [
            e.record
            for e in self.store.read(subject=activity(activity_id))
            if type(e.record.data) in KINDS
        ]
        state = ActivityState.fold(records, self.rules, zone=self.org.timezone)
        if state is None:
            raise InvalidTransition(f"no activity {activity_id!r} has been registered")
        return state

    def all(self, *, year: int | None = None) -> list[ActivityState]:
        """Every activity's state (taking place in *year*, if given), in the order registered."""
        states = fold_activities(self.store, self.rules, zone=self.org.timezone)
        return [s for s in states if year is None or s.date.year == year]

    def findings(self, today: dt.date) -> list[ActivityFinding]:
        """What every activity lacks on *today* (see :meth:`ActivityState.findings`)."""
        return [f for state in self.all() for f in state.findings(today)]

    # -- writing -----------------------------------------------------------------------

    def _subjects(self, state: ActivityState) -> list[str]:
        from .base import unit

        subjects = [activity(state.id), unit(state.host)]
        if state.school is not None:
            subjects.extend(self.desk.school_subjects(state.school))
        return subjects

    def _append(
        self, w: Writing, state: ActivityState | None, data: object, actor: str, at: dt.datetime
    ) -> ActivityState:
        record = Record.of(data, actor=actor, at=at)
        new = step(state, record, self.rules, zone=self.org.timezone)
        w.append(attrs.evolve(record, subjects=self._subjects(new)))
        return new

    def register(
        self,
        host: str,
        title: str,
        date: dt.date,
        participants: int,
        *,
        actor: str,
        school: str | None = None,
        venue: str | None = None,
        activity_id: str | None = None,
        at: dt.datetime | None = None,
    ) -> ActivityState:
        """Register an activity the host unit organises; the host's people register it."""
        from .service import new_id

        self.graph.unit(host)
        if school is not None:
            self.graph.school(school)
        with self.desk.writing() as w:
            self.desk.require(actor, self.host_members(host), f"register activities of {host}")
            data = ActivityRegistered(
                new_id(w, "ac", activity_id, "activity"),
                host,
                title,
                date,
                participants,
                school,
                venue,
            )
            return self._append(w, None, data, actor, self.desk.now(at))

    def approve(
        self, activity_id: str, *, actor: str, notes: str = "", at: dt.datetime | None = None
    ) -> ActivityState:
        """Approve the activity (活动审批)."""
        with self.desk.writing() as w:
            state = self._fold(w, activity_id)
            self.desk.require(actor, self._approvers(state), self._what("approve", state))
            return self._append(w, state, ActivityApproved(activity_id, notes), actor, self._at(at))

    def file_plan(
        self,
        activity_id: str,
        summary: str,
        *,
        actor: str,
        measures: Iterable[str] = (),
        emergency_plan: bool = False,
        at: dt.datetime | None = None,
    ) -> ActivityState:
        """File the safety plan (again, to revise it: the revision awaits approval anew)."""
        data = SafetyPlanFiled(activity_id, summary, tuple(measures), emergency_plan)
        with self.desk.writing() as w:
            state = self._fold(w, activity_id)
            what = f"file the safety plan of {activity_id} (its host {state.host} does)"
            self.desk.require(actor, self.host_members(state.host), what)
            return self._append(w, state, data, actor, self._at(at))

    def approve_plan(
        self, activity_id: str, *, actor: str, notes: str = "", at: dt.datetime | None = None
    ) -> ActivityState:
        """Approve the safety plan as last filed; not by whoever filed it."""
        with self.desk.writing() as w:
            state = self._fold(w, activity_id)
            what = self._what("approve the safety plan of", state)
            self.desk.require(actor, self._approvers(state), what)
            if state.plan_filed_by == actor:
                raise PermissionDenied(
                    f"{actor} filed the safety plan of {activity_id} and may not approve it "
                    "(separation of duties)"
                )
            data = SafetyPlanApproved(activity_id, notes)
            return self._append(w, state, data, actor, self._at(at))

    def supervise(
        self,
        activity_id: str,
        *,
        actor: str,
        supervisors: Iterable[str] | None = None,
        notes: str = "",
        at: dt.datetime | None = None,
    ) -> ActivityState:
        """Record who supervised the activity on its day (the actor, unless *supervisors*)."""
        people = (actor,) if supervisors is None else tuple(supervisors)
        if not people:
            raise InvalidTransition(f"the supervision of {activity_id}: name who supervised it")
        for person_id in people:
            self.desk.require_person(person_id, f"the supervision of {activity_id}")
        with self.desk.writing() as w:
            state = self._fold(w, activity_id)
            allowed = self.people(state.host, self.rules.supervisors)
            self.desk.require(actor, allowed, f"record the supervision of {activity_id}")
            data = ActivitySupervised(activity_id, people, notes)
            return self._append(w, state, data, actor, self._at(at))

    def cancel(
        self, activity_id: str, reason: str, *, actor: str, at: dt.datetime | None = None
    ) -> ActivityState:
        """Cancel an activity that has not taken place."""
        with self.desk.writing() as w:
            state = self._fold(w, activity_id)
            allowed = self._approvers(state) | self.people(state.host, (Approver.HOST_HEAD,))
            self.desk.require(actor, allowed, f"cancel {activity_id}")
            data = ActivityCancelled(activity_id, reason)
            return self._append(w, state, data, actor, self._at(at))

    def _at(self, at: dt.datetime | None) -> dt.datetime:
        return self.desk.now(at)

    def _approvers(self, state: ActivityState) -> frozenset[str]:
        return self.approvers(state.host, state.participants)

    def _what(self, verb: str, state: ActivityState) -> str:
        if state.large_scale:
            return f"{verb} {state.id}, a large-scale event of {state.participants} participants"
        return f"{verb} {state.id}"
