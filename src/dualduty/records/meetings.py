"""Meetings held, responsibility pledges signed and staff trained (二(一).3, 二(三), 三.3).

- Meetings (:class:`~dualduty.records.kinds.MeetingHeld`): a section's topic studies of
  school safety (专题研究, at least twice a quarter, 二(三).1), the quarterly coordination
  meeting of all sections (调度会, 三.3) and the annual summary and commendation meeting
  (总结表彰会, 二(一).3), each with who attended; a meeting may carry out one on the
  schedule (:class:`~dualduty.model.schedule.Meeting`).
- Responsibility pledges (责任状, :class:`PledgeSigned`): each year a post holder signs
  one with the post above (a section head with the leader, say); the year-end assessment
  weighs whether it was kept (二(一).3: 根据…年终考核、责任状完成等情况，兑现奖惩).
- Staff safety training (安全教育, :class:`TrainingHeld`, 二(三).4: 加强工作人员的安全教育).
- A section's annual work targets with school safety among them (年度工作目标,
  :class:`TargetsSet`, 二(三).2: 纳入年度工作目标).

The service :class:`Meetings` checks who may record each, and appends in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from dualduty.model._checks import check_date, check_id, check_ids, check_text
from dualduty.model.enums import Role, UnitKind
from dualduty.model.schedule import MeetingKind, quarter_of

from ._fields import strings
from .base import Record, person, record_kind
from .base import unit as unit_subject
from .kinds import MeetingHeld
from .service import InvalidTransition

if TYPE_CHECKING:
    from dualduty.model.org import Organisation, Post
    from dualduty.model.schedule import Meeting, Schedule
    from dualduty.storage.store import Store

    from .service import Desk, Writing

__all__ = [
    "KINDS",
    "Meetings",
    "PledgeSigned",
    "TargetsSet",
    "TrainingHeld",
    "meeting",
]

#: Roles that sign a responsibility pledge each year unless told otherwise.
PLEDGE_ROLES: tuple[Role, ...] = (Role.DEPUTY, Role.MEMBER, Role.SECTION_HEAD)


def _year(_inst: object, a: attrs.Attribute[Any], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1900 <= value <= 9999:
        raise ValueError(f"{a.name}: expected a year, got {value!r}")


def _texts(_inst: object, a: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    for n, text in enumerate(value):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{a.name}[{n}]: expected a non-empty text, got {text!r}")


def _hours(_inst: object, a: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1000:
        raise ValueError(f"{a.name}: expected hours > 0, got {value!r}")


# -- record kinds ---------------------------------------------------------------------


@record_kind("pledge-signed")
@attrs.frozen
class PledgeSigned:
    """A responsibility pledge (责任状) signed for a year; the record's actor is the signer.

    :param year: the year it covers.
    :param person: who signed it.
    :param post: the post they signed it for.
    :param counterpart: the post they signed it with (the leader, the deputy in charge).
    :param date: the day it was signed.
    :param text: its targets, in words, if recorded.
    """

    year: int = attrs.field(validator=_year)
    person: str = attrs.field(validator=check_id)
    post: str = attrs.field(validator=check_id)
    counterpart: str = attrs.field(validator=check_id)
    date: dt.date = attrs.field(validator=check_date)
    text: str = ""

    @classmethod
    def examples(cls) -> Sequence[PledgeSigned]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                2026,
                "p010",
                "general-office.head",
                "director",
                dt.date(2026, 2, 10),
                "全年分包学校无重大安全责任事故",
            ),
            cls(2026, "p004", "deputy-3", "director", dt.date(2026, 2, 10)),
        )


@record_kind("training-held")
@attrs.frozen
class TrainingHeld:
    """A safety training of staff (安全教育培训, 二(三).4): laws, rules and documents studied.

    :param training: its id.
    :param unit: the unit that held it.
    :param date: the day it was held.
    :param topic: what was studied.
    :param hours: how long, in hours.
    :param trainees: who took part (person ids).
    """

    training: str = attrs.field(validator=check_id)
    unit: str = attrs.field(validator=check_id)
    date: dt.date = attrs.field(validator=check_date)
    topic: str = attrs.field(validator=check_text)
    hours: float = attrs.field(converter=float, validator=_hours)
    trainees: tuple[str, ...] = attrs.field(converter=strings, validator=check_ids)

    @classmethod
    def examples(cls) -> Sequence[TrainingHeld]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "tr-00001",
                "general-office",
                dt.date(2026, 3, 18),
                "学习《中小学幼儿园安全管理办法》",
                2.5,
                ("p010", "p011", "p012"),
            ),
        )


@record_kind("targets-set")
@attrs.frozen
class TargetsSet:
    """A section's annual work targets (年度工作目标) for a year, school safety among them.

    Clause 二(三).2 asks each section to put school safety into its annual work targets
    (纳入年度工作目标, 同部署、同检查、同考核、同奖惩); the year-end assessment looks for
    this record (:attr:`~dualduty.scoring.Measure.ANNUAL_TARGETS_MISSING`). Setting the
    targets again for the same year replaces the earlier ones (the latest record counts).

    :param unit: the section.
    :param year: the year the targets are for.
    :param date: the day they were set.
    :param safety: the targets about school safety, in words (none: safety is not
        among them).
    :param targets: the section's other targets, in words, if recorded.
    """

    unit: str = attrs.field(validator=check_id)
    year: int = attrs.field(validator=_year)
    date: dt.date = attrs.field(validator=check_date)
    safety: tuple[str, ...] = attrs.field(converter=strings, validator=_texts)
    targets: tuple[str, ...] = attrs.field(default=(), converter=strings, validator=_texts)

    @classmethod
    def examples(cls) -> Sequence[TargetsSet]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "planning",
                2026,
                dt.date(2026, 1, 20),
                ("分包学校全年无较大以上安全责任事故", "校舍安全隐患整改率100%"),
                ("完成学校布局规划调整",),
            ),
            cls("audit", 2026, dt.date(2026, 2, 3), ()),
        )


KINDS: tuple[type[Any], ...] = (PledgeSigned, TrainingHeld, TargetsSet)
"""The record kinds this module registers (meetings are :class:`~.kinds.MeetingHeld`)."""


# -- the service ------------------------------------------------------------------------


def meeting(id_: str) -> str:
    """The subject string of a meeting (``"meeting:mt-00001"``)."""
    return f"meeting:{id_}"


_LEADING_KINDS = (UnitKind.LEADING_GROUP, UnitKind.OFFICE)


class Meetings:
    """Meetings held, pledges signed and trainings held, over a store.

    :param store: where the records go.
    :param org: the organisation whose posts decide who may do what.
    :param desk: share the desk of a recorder (its batches and clock) instead of making one.
    :param schedule: the year's schedule; when given, a meeting that names the scheduled
        meeting it carries out must match it (kind, unit, year and quarter).

    Who may do what:

    - *held*: the people of the unit holding it; a coordination or summary meeting (held
      by the leading group or its office): the leading group's members or the office;
    - *sign*: the holder of the post, for themselves;
    - *train*: the people of the unit holding the training, or the office.
    """

    def __init__(
        self,
        store: Store,
        org: Organisation,
        *,
        desk: Desk | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        from .service import Desk

        self.desk = desk if desk is not None else Desk(store, org)
        self.store = store
        self.org = org
        self.graph = self.desk.graph
        self.schedule = schedule
        self._scheduled: dict[str, Meeting] = (
            {} if schedule is None else {m.id: m for m in schedule.meetings}
        )

    # -- who ---------------------------------------------------------------------------

    def members(self, unit_id: str) -> frozenset[str]:
        """Who acts for a unit: its people; for the leading group or its office, the
        leading group's members and the office."""
        if self.graph.unit(unit_id).kind in _LEADING_KINDS:
            return self.desk.leading_members() | self.desk.office_members()
        return self.desk.unit_members(unit_id)

    def _persons(self, people: Iterable[str], what: str) -> tuple[str, ...]:
        out = tuple(dict.fromkeys(strings(people)))
        if not out:
            raise InvalidTransition(f"{what}: name at least one person")
        for person_id in out:
            self.desk.require_person(person_id, what)
        return out

    # -- meetings ----------------------------------------------------------------------

    def held(
        self,
        kind: MeetingKind | str,
        unit: str,
        date: dt.date,
        topic: str,
        *,
        actor: str,
        attendees: Iterable[str],
        scheduled: str | None = None,
        minutes: str = "",
        meeting_id: str | None = None,
        at: dt.datetime | None = None,
    ) -> MeetingHeld:
        """Record a meeting held, with who attended; *scheduled* names the scheduled
        meeting it carries out (each is carried out once).

        :raises PermissionDenied: if *actor* may not record the unit's meetings.
        :raises InvalidTransition: if the meeting does not fit its unit or the schedule.
        """
        from .service import new_id

        unit_id, kind = unit, MeetingKind(kind)
        holder = self.graph.unit(unit_id)
        if kind is not MeetingKind.TOPIC_STUDY and holder.kind not in _LEADING_KINDS:
            raise InvalidTransition(
                f"a {kind.value} meeting is held by the leading group or its office, "
                f"not by {holder.name} ({unit_id})"
            )
        self.desk.require(actor, self.members(unit_id), f"record meetings of {unit_id}")
        people = self._persons(attendees, f"the attendees of a meeting of {unit_id}")
        if scheduled is not None:
            self._check_scheduled(scheduled, kind, unit_id, date)
        with self.desk.writing() as w:
            subjects = [unit_subject(unit_id), *(person(p) for p in people)]
            if scheduled is not None:
                done = [
                    r.data
                    for r in w.read(meeting(scheduled), kind="meeting-held")
                    if r.data.scheduled == scheduled
                ]
                if done:
                    raise InvalidTransition(
                        f"scheduled meeting {scheduled!r} was already held "
                        f"(meeting {done[0].meeting} on {done[0].date})"
                    )
                subjects.insert(0, meeting(scheduled))
            data = MeetingHeld(
                new_id(w, "mt", meeting_id, "meeting"),
                kind,
                unit_id,
                date,
                topic,
                people,
                scheduled,
                minutes,
            )
            subjects.insert(0, meeting(data.meeting))
            w.append(Record.of(data, actor=actor, at=self.desk.now(at), subjects=subjects))
        return data

    def _check_scheduled(
        self, scheduled: str, kind: MeetingKind, unit_id: str, date: dt.date
    ) -> None:
        if self.schedule is None:
            return
        planned = self._scheduled.get(scheduled)
        if planned is None:
            year = self.schedule.year
            raise InvalidTransition(f"no meeting {scheduled!r} in the {year} schedule")
        if (planned.kind, planned.unit) != (kind, unit_id):
            raise InvalidTransition(
                f"scheduled meeting {scheduled!r} is a {planned.kind.value} meeting of "
                f"{planned.unit}, not a {kind.value} meeting of {unit_id}"
            )
        when = planned.date.year, planned.quarter
        if date.year != when[0] or (when[1] is not None and quarter_of(date) != when[1]):
            period = f"{when[0]}" if when[1] is None else f"{when[0]} Q{when[1]}"
            raise InvalidTransition(
                f"scheduled meeting {scheduled!r} falls in {period}: it cannot be carried "
                f"out on {date}"
            )

    def all(
        self,
        *,
        year: int | None = None,
        quarter: int | None = None,
        unit: str | None = None,
        kind: MeetingKind | str | None = None,
    ) -> list[MeetingHeld]:
        """The meetings held, in the order recorded, filtered by the year and quarter of
        their dates, the unit that held them and their kind."""
        kind = None if kind is None else MeetingKind(kind)
        subject = None if unit is None else f"unit:{unit}"
        out = []
        for entry in self.store.read(kind="meeting-held", subject=subject):
            data: MeetingHeld = entry.record.data
            if (
                (year is None or data.date.year == year)
                and (quarter is None or quarter_of(data.date) == quarter)
                and (unit is None or data.unit == unit)
                and (kind is None or data.kind is kind)
            ):
                out.append(data)
        return out

    # -- pledges -----------------------------------------------------------------------

    def sign(
        self,
        year: int,
        post: str,
        counterpart: str,
        *,
        actor: str,
        date: dt.date | None = None,
        text: str = "",
        at: dt.datetime | None = None,
    ) -> PledgeSigned:
        """The holder of *post* signs the year's responsibility pledge with *counterpart*.

        One pledge per person, post and year. It is signed in the year or the one before.

        :raises PermissionDenied: if *actor* does not hold *post*.
        :raises InvalidTransition: if already signed, or the counterpart does not fit.
        """
        signed = self.graph.post(post)
        other = self.graph.post(counterpart)
        when = self.desk.now(at)
        day = date if date is not None else when.astimezone(self.desk.zone).date()
        data = PledgeSigned(year, actor, post, counterpart, day, text)
        holder = () if signed.holder is None else (signed.holder,)
        self.desk.require(actor, holder, f"sign the pledge of post {post} (its holder does)")
        if counterpart == post or other.holder == actor:
            raise InvalidTransition(f"{actor} cannot sign the pledge of {post} with themselves")
        if day.year not in (year - 1, year):
            raise InvalidTransition(f"the pledge for {year} cannot be signed on {day}")
        with self.desk.writing() as w:
            for record in w.read(person(actor), kind="pledge-signed"):
                if (record.data.year, record.data.post) == (year, post):
                    raise InvalidTransition(
                        f"{actor} already signed the {year} pledge of {post} on {record.data.date}"
                    )
            subjects = [person(actor), f"post:{post}", f"post:{counterpart}"]
            subjects.append(unit_subject(self.graph.unit_of(post).id))
            w.append(Record.of(data, actor=actor, at=when, subjects=subjects))
        return data

    def pledges(self, year: int) -> list[PledgeSigned]:
        """The pledges signed for *year*, in the order signed."""
        return [
            e.record.data
            for e in self.store.read(kind="pledge-signed")
            if e.record.data.year == year
        ]

    def unsigned(self, year: int, roles: Iterable[Role | str] = PLEDGE_ROLES) -> list[Post]:
        """The held posts of *roles* whose holder signed no pledge for them for *year*."""
        wanted = {Role(r) for r in roles}
        done = {(p.person, p.post) for p in self.pledges(year)}
        return [
            post
            for u in self.org.units
            for post in u.posts
            if post.role in wanted and post.holder is not None
            if (post.holder, post.id) not in done
        ]

    # -- training ----------------------------------------------------------------------

    def train(
        self,
        unit: str,
        date: dt.date,
        topic: str,
        *,
        actor: str,
        hours: float,
        trainees: Iterable[str],
        training_id: str | None = None,
        at: dt.datetime | None = None,
    ) -> TrainingHeld:
        """Record a safety training held by a unit (二(三).4), with who took part.

        :raises PermissionDenied: unless *actor* is of the unit or the office.
        """
        unit_id = unit
        allowed = self.members(unit_id) | self.desk.office_members()
        self.desk.require(actor, allowed, f"record trainings of {unit_id}")
        people = self._persons(trainees, f"the trainees of a training of {unit_id}")
        with self.desk.writing() as w:
            data = TrainingHeld(
                self._training_id(w, training_id), unit_id, date, topic, hours, people
            )
            subjects = [unit_subject(unit_id), *(person(p) for p in people)]
            w.append(Record.of(data, actor=actor, at=self.desk.now(at), subjects=subjects))
        return data

    def _training_id(self, w: Writing, given: str | None) -> str:
        """*given*, checked to be new; or ``tr-<seq>`` from the seq its record will get.

        Trainings are no subject type of their own, so ids are checked against the
        trainings recorded (read through the kind index).
        """
        taken = {e.record.data.training for e in self.store.read(kind="training-held")}
        taken.update(r.data.training for r in w.tx.records if isinstance(r.data, TrainingHeld))
        if given is not None:
            if given in taken:
                raise InvalidTransition(f"training {given!r} already exists in the record")
            return given
        base = f"tr-{w.next_seq:05d}"
        candidate, n = base, 1
        while candidate in taken:  # someone chose it by hand
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    # -- annual targets ----------------------------------------------------------------

    def set_targets(
        self,
        unit: str,
        year: int,
        *,
        actor: str,
        safety: Iterable[str],
        targets: Iterable[str] = (),
        date: dt.date | None = None,
        at: dt.datetime | None = None,
    ) -> TargetsSet:
        """Put a section's annual work targets on record, with its school-safety targets
        (纳入年度工作目标, 二(三).2); a later call for the same year replaces them.

        :raises PermissionDenied: unless *actor* is of the unit or the office.
        :raises InvalidTransition: if the unit is no section, or the targets are set on a
            day outside *year* and the year before.
        """
        from dualduty.model.enums import SECTION_KINDS

        unit_id = unit
        if self.graph.unit(unit_id).kind not in SECTION_KINDS:
            raise InvalidTransition(f"{unit_id} is no section: annual targets are a section's")
        allowed = self.members(unit_id) | self.desk.office_members()
        self.desk.require(actor, allowed, f"set the annual targets of {unit_id}")
        when = self.desk.now(at)
        day = date if date is not None else when.astimezone(self.desk.zone).date()
        if day.year not in (year - 1, year):
            raise InvalidTransition(f"the {year} targets of {unit_id} cannot be set on {day}")
        data = TargetsSet(unit_id, year, day, tuple(safety), tuple(targets))
        with self.desk.writing() as w:
            w.append(Record.of(data, actor=actor, at=when, subjects=[unit_subject(unit_id)]))
        return data

    def targets(self, year: int, unit: str | None = None) -> dict[str, TargetsSet]:
        """The annual targets in force for *year*, by section (the latest set of each)."""
        subject = None if unit is None else unit_subject(unit)
        out: dict[str, TargetsSet] = {}
        for entry in self.store.read(kind="targets-set", subject=subject):
            data: TargetsSet = entry.record.data
            if data.year == year and (unit is None or data.unit == unit):
                out[data.unit] = data
        return out

    def trainings(self, year: int | None = None, unit: str | None = None) -> list[TrainingHeld]:
        """The trainings held (in *year*, by *unit*), in the order recorded."""
        subject = None if unit is None else f"unit:{unit}"
        return [
            e.record.data
            for e in self.store.read(kind="training-held", subject=subject)
            if (year is None or e.record.data.date.year == year)
            and (unit is None or e.record.data.unit == unit)
        ]

    def training_hours(self, person_id: str, year: int) -> float:
        """How many hours of safety training *person_id* took part in during *year*."""
        return sum(
            float(e.record.data.hours)
            for e in self.store.read(kind="training-held", subject=person(person_id))
            if e.record.data.date.year == year and person_id in e.record.data.trainees
        )

    def trained(self, person_id: str, year: int) -> bool:
        """Whether *person_id* took part in a safety training during *year*."""
        return self.training_hours(person_id, year) > 0
