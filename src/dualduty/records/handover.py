"""Handover (交接): one person's posts and open work passed to a successor, in one transaction.

When a cadre leaves a post, 一岗双责 must not leave a gap: the successor takes over the
post's business *and* its safety duties. :func:`handover` records, in one transaction,

- the posts changing hands (a :class:`~dualduty.records.PostAssigned` for each, effective
  on the handover's date; with them go the packages the posts hold or visit and the
  sections they are in charge of, which follow the post);
- the open hazards whose rectification plan names the predecessor responsible
  (整改责任人), handed to the successor (:class:`~dualduty.records.RectificationReassigned`);
- the predecessor's pending notifications, re-addressed to the successor on the same
  channel when the predecessor holds no post afterwards
  (:meth:`Transaction.readdress() <dualduty.storage.Transaction.readdress>`);
- a :class:`HandoverRecorded` entry: the handover list (交接清单) itself, naming
  everything that moved;

and returns the :class:`HandoverList`, which also names what follows the posts without a
record of its own (packages, their open hazards, the upcoming visits of the posts) and
what did not move and why. History stays as it was: every earlier record keeps its
actor, and the organisation before the date is unchanged (:class:`~dualduty.records.Timeline`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from dualduty.model._checks import check_id, check_ids

from ._fields import date_only, strings
from .base import Record, person, record_kind
from .hazards import HazardStatus, fold_hazards
from .timeline import Change, PersonJoined, PostAssigned, Timeline, TimelineError

if TYPE_CHECKING:
    from dualduty.model.org import Organisation, Package
    from dualduty.model.schedule import Schedule
    from dualduty.notify.routing import Router

    from .recorder import Recorder
    from .service import Writing

__all__ = ["HandoverItem", "HandoverList", "HandoverRecorded", "handover"]


def _ints(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


@record_kind("handover")
@attrs.frozen
class HandoverRecorded:
    """A handover (交接) as recorded: who handed what to whom, effective when.

    :param predecessor: who handed over (移交人).
    :param successor: who took over (接收人).
    :param effective: the first day the successor holds the posts.
    :param posts: the posts handed over.
    :param hazards: the hazards whose rectification the successor now answers for.
    :param messages: the outbox messages re-addressed to the successor.
    :param items: the handover list, one line per item (交接清单), in Chinese.
    """

    predecessor: str = attrs.field(validator=check_id)
    successor: str = attrs.field(validator=check_id)
    effective: dt.date = attrs.field(validator=date_only)
    posts: tuple[str, ...] = attrs.field(converter=strings, validator=check_ids)
    hazards: tuple[str, ...] = attrs.field(default=(), converter=strings, validator=check_ids)
    messages: tuple[int, ...] = attrs.field(default=(), converter=_ints)
    items: tuple[str, ...] = attrs.field(default=(), converter=strings)
    reason: str = "交接"

    @classmethod
    def examples(cls) -> Sequence[HandoverRecorded]:
        """Instances the conformance kit round-trips."""
        return (
            cls(
                "p010",
                "p090",
                dt.date(2026, 7, 15),
                ("general-office.head",),
                ("hz-00003",),
                (12, 13),
                ("岗位：办公室主任（general-office.head）",),
            ),
        )


#: The sections of the handover list, in order, with their Chinese headings.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("post", "岗位"),
    ("in_charge", "分管科室"),
    ("package", "分包学校"),
    ("hazard", "未销号隐患"),
    ("visit", "待开展督查"),
    ("message", "待发通知"),
)


@attrs.frozen
class HandoverItem:
    """One line of the handover list.

    :param kind: ``post``, ``in_charge``, ``package``, ``hazard``, ``visit`` or ``message``.
    :param id: what it is (a post, unit, package, hazard or visit id; a message's id).
    :param text: the line, in Chinese.
    :param moved: whether it is the successor's now (by a record of this handover, or
        because it follows a post that moved); ``False``: it stays, ``note`` says why.
    :param seq: the record of this handover that moved it (``None``: it follows a post,
        or did not move).
    :param note: why it did not move, or how it moved.
    """

    kind: str
    id: str
    text: str
    moved: bool = True
    seq: int | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The item as JSON-ready data."""
        return {
            "kind": self.kind,
            "id": self.id,
            "text": self.text,
            "moved": self.moved,
            "seq": self.seq,
            "note": self.note,
        }


@attrs.frozen
class HandoverList:
    """The handover list (交接清单): everything that passed to the successor, and what stayed.

    :param seq: the :class:`HandoverRecorded` entry (``None`` for a dry run).
    """

    predecessor: str
    predecessor_name: str
    successor: str
    successor_name: str
    effective: dt.date
    items: tuple[HandoverItem, ...]
    seq: int | None = None
    seqs: tuple[int, ...] = ()
    """Every entry the handover appended, in order."""

    def of(self, kind: str) -> tuple[HandoverItem, ...]:
        """The items of one kind."""
        return tuple(i for i in self.items if i.kind == kind)

    @property
    def moved(self) -> tuple[HandoverItem, ...]:
        """What passed to the successor."""
        return tuple(i for i in self.items if i.moved)

    @property
    def stayed(self) -> tuple[HandoverItem, ...]:
        """What did not, each with why."""
        return tuple(i for i in self.items if not i.moved)

    def to_dict(self) -> dict[str, Any]:
        """The list as JSON-ready data."""
        return {
            "predecessor": {"id": self.predecessor, "name": self.predecessor_name},
            "successor": {"id": self.successor, "name": self.successor_name},
            "effective": self.effective.isoformat(),
            "seq": self.seq,
            "seqs": list(self.seqs),
            "items": [i.to_dict() for i in self.items],
        }

    def to_text(self) -> str:
        """The list as printed (Chinese, one section per kind, numbered)."""
        lines = [
            "交接清单",
            f"移交人：{self.predecessor_name}（{self.predecessor}）"
            f"　接收人：{self.successor_name}（{self.successor}）"
            f"　生效日期：{self.effective.isoformat()}"
            + ("" if self.seq is None else f"　记录 #{self.seq}"),
        ]
        for n, (kind, heading) in enumerate(SECTIONS, start=1):
            items = self.of(kind)
            lines.append(f"{_NUMERALS[n]}、{heading}（{len(items)}）")
            if not items:
                lines.append("  （无）")
            for item in items:
                mark = "" if item.moved else "［未转］"
                seq = "" if item.seq is None else f"（记录 #{item.seq}）"
                note = f"：{item.note}" if item.note else ""
                lines.append(f"  - {mark}{item.text}{seq}{note}")
        moved, stayed = len(self.moved), len(self.stayed)
        lines.append(f"合计：移交 {moved} 项" + (f"，未转 {stayed} 项" if stayed else ""))
        return "\n".join(lines) + "\n"


_NUMERALS = "〇一二三四五六七八九十"


def handover(
    recorder: Recorder,
    predecessor: str,
    successor: str,
    effective: dt.date,
    *,
    actor: str,
    posts: Iterable[str] | None = None,
    successor_name: str | None = None,
    schedule: Schedule | None = None,
    reason: str = "交接",
    at: dt.datetime | None = None,
    dry_run: bool = False,
) -> HandoverList:
    """Hand *predecessor*'s posts (all, or *posts*) and open work to *successor*.

    Everything is appended in one transaction, or nothing is.

    :param recorder: the records service (its store, organisation and clock).
    :param predecessor: who hands over (a person holding the posts on *effective*).
    :param successor: who takes over: a person of the organisation on *effective*, or a
        new one when *successor_name* is given (recorded as joining that day).
    :param effective: the first day the successor holds the posts; today or earlier by the
        recorder's clock (a change of post in the future is recorded with
        :meth:`OrgChanges.assign() <dualduty.records.OrgChanges.assign>`, and its open
        work handed over on the day).
    :param actor: who records it: the leader, a leading-group member or the office.
    :param posts: only these of the predecessor's posts (default: every one).
    :param schedule: the year's schedule, for the upcoming visits of the posts (default:
        planned for *effective*'s year from the organisation with its changes).
    :param dry_run: compute the list without writing anything.
    :raises TimelineError: for a predecessor holding none of *posts*, an unknown
        successor, a date in the future, or posts that would leave the organisation
        invalid.
    :raises ~dualduty.records.PermissionDenied: if *actor* may not change the organisation.
    """
    desk = recorder.desk
    today = desk.now(at).date()
    if effective > today:
        raise TimelineError(
            f"handover: {effective.isoformat()} is after today ({today.isoformat()}); "
            "record a future change of post with `dualduty org assign`, and hand the open "
            "work over on the day"
        )
    if predecessor == successor:
        raise TimelineError(f"handover: {predecessor!r} cannot hand over to themselves")
    desk.require(actor, desk.leading_members() | desk.office_members(), "record a handover")
    changes = recorder.org_changes
    items: list[HandoverItem] = []
    appended: list[int] = []
    with desk.writing() as writing:
        line = Timeline.in_transaction(desk.base_org, writing)
        before = line.as_of(effective)
        names = {p.id: p.name for p in before.people}
        if predecessor not in names:
            raise TimelineError(f"handover: no person {predecessor!r} on {effective.isoformat()}")
        held = [p.id for _, p in before.iter_posts() if p.holder == predecessor]
        chosen = list(dict.fromkeys(held if posts is None else posts))
        stray = [p for p in chosen if p not in held]
        if stray:
            raise TimelineError(
                f"handover: {names[predecessor]} ({predecessor}) does not hold "
                f"{', '.join(stray)} on {effective.isoformat()} "
                f"(holds: {', '.join(held) or 'none'})"
            )
        if not chosen:
            raise TimelineError(
                f"handover: {names[predecessor]} ({predecessor}) holds no post on "
                f"{effective.isoformat()}: nothing to hand over"
            )
        if successor_name is not None:
            if successor in names:
                raise TimelineError(
                    f"handover: {successor!r} is already {names[successor]}; "
                    "leave out the name to hand over to them"
                )
            joined = PersonJoined(successor, successor_name, effective, reason=reason)
            if not dry_run:
                appended.append(changes.record(joined, actor=actor, at=at).seq)
            names[successor] = successor_name
            line = Timeline(line.org, [*line.changes, _draft(line, joined)])
        elif successor not in names:
            raise TimelineError(
                f"handover: no person {successor!r} on {effective.isoformat()} "
                "(give the successor's name to record that they join)"
            )

        # -- the posts, and what follows them ------------------------------------------------
        titles = {p.id: (u.name, p.title) for u, p in before.iter_posts()}
        for post_id in chosen:
            assigned = PostAssigned(post_id, successor, effective, reason)
            seq = None
            if not dry_run:
                seq = changes.record(assigned, actor=actor, at=at).seq
                appended.append(seq)
            line = Timeline(line.org, [*line.changes, _draft(line, assigned)])
            unit_name, title = titles[post_id]
            items.append(
                HandoverItem("post", post_id, f"{unit_name}　{title}（{post_id}）", seq=seq)
            )
        after = line.as_of(effective)
        items.extend(_in_charge(before, chosen))
        packages = _packages(before, chosen)
        items.extend(_package_item(p, before) for p in packages)

        # -- open hazards ----------------------------------------------------------------------
        schools = {s for p in packages for s in p.schools}
        states = fold_hazards(desk.store, pending=[r for _, r in writing.appended()])
        moved_hazards: list[str] = []
        for state in sorted(states, key=lambda s: s.id):
            if state.status is HazardStatus.CLOSED:
                continue
            text = f"{state.id}　{_school_name(before, state.school)}　{state.description}"
            if state.plan is not None and state.plan.responsible == predecessor:
                seq = None
                if not dry_run:
                    recorder.hazards.reassign(
                        state.id, successor, actor=actor, reason=reason, at=at
                    )
                    seq = writing.next_seq - 1
                    appended.append(seq)
                moved_hazards.append(state.id)
                note = f"整改责任人改为{names[successor]}"
                items.append(HandoverItem("hazard", state.id, text, seq=seq, note=note))
            elif state.school in schools:
                note = "随分包学校转移" + (
                    f"（整改责任人：{_name(names, state.plan.responsible)}）"
                    if state.plan is not None
                    else ""
                )
                items.append(HandoverItem("hazard", state.id, text, note=note))

        # -- upcoming visits -------------------------------------------------------------------
        items.extend(
            _visits(recorder, after, line, posts=chosen, effective=effective, schedule=schedule)
        )

        # -- pending notifications ---------------------------------------------------------------
        still = [p.title for _, p in after.iter_posts() if p.holder == predecessor]
        moved_messages: list[int] = []
        for item in _messages(
            recorder,
            writing,
            after,
            predecessor=predecessor,
            successor=successor,
            names=names,
            still=still,
            dry_run=dry_run,
        ):
            if item.moved:
                moved_messages.append(int(item.id))
            items.append(item)

        record_seq = None
        if not dry_run:
            summary = HandoverRecorded(
                predecessor,
                successor,
                effective,
                tuple(chosen),
                tuple(moved_hazards),
                tuple(moved_messages),
                tuple(_line(i) for i in items),
                reason,
            )
            subjects = [
                person(predecessor),
                person(successor),
                *(f"post:{p}" for p in chosen),
            ]  # not the hazards: their subject reads back their loop's records only
            entry = writing.append(
                Record.of(summary, actor=actor, at=desk.now(at), subjects=subjects)
            )
            record_seq = entry.seq
            appended.append(entry.seq)
    return HandoverList(
        predecessor,
        names[predecessor],
        successor,
        names[successor],
        effective,
        tuple(items),
        record_seq,
        tuple(appended),
    )


def _line(item: HandoverItem) -> str:
    heading = dict(SECTIONS)[item.kind]
    state = "" if item.moved else "［未转］"
    note = f"：{item.note}" if item.note else ""
    return f"{heading}：{state}{item.text}{note}"


def _draft(line: Timeline, data: Any) -> Change:
    """A change not yet committed, after every one *line* has."""
    seq = max((c.seq for c in line.changes), default=0) + 1
    return Change(seq, "handover", dt.datetime.now(dt.UTC), data)


def _name(names: dict[str, str], person_id: str) -> str:
    return names.get(person_id, person_id)


def _school_name(org: Organisation, school_id: str) -> str:
    for school in org.schools:
        if school.id == school_id:
            return school.name
    return school_id


def _in_charge(org: Organisation, posts: Sequence[str]) -> list[HandoverItem]:
    units = {u.id: u.name for u in org.units}
    out = []
    for edge in org.in_charge:
        if edge.post in posts:
            for uid in edge.units:
                out.append(
                    HandoverItem(
                        "in_charge", uid, f"{units.get(uid, uid)}（{uid}）", note="随岗位转移"
                    )
                )
    return out


def _packages(org: Organisation, posts: Sequence[str]) -> list[Package]:
    """The packages the posts answer for: held or visited by one of them, or held by a
    section one of them heads."""
    from dualduty.graph import OrgGraph

    graph = OrgGraph(org)
    headed = set()
    for u in org.units:
        head = graph.head_of(u.id)
        if head is not None and head.id in posts:
            headed.add(u.id)
    return [
        p
        for p in org.packages
        if p.holder in posts or p.holder in headed or any(s in posts for s in p.staff)
    ]


def _package_item(package: Package, org: Organisation) -> HandoverItem:
    schools = "、".join(_school_name(org, s) for s in package.schools) or "（无学校）"
    return HandoverItem(
        "package",
        package.id,
        f"{package.id}（{package.holder}）：{schools}",
        note="随岗位转移",
    )


def _visits(
    recorder: Recorder,
    org: Organisation,
    line: Timeline,
    *,
    posts: Sequence[str],
    effective: dt.date,
    schedule: Schedule | None,
) -> list[HandoverItem]:
    """The scheduled visits from *effective* on that the posts make or answer for."""
    from .inspections import done_visits

    if schedule is None:
        from dualduty.calendars import calendar_for
        from dualduty.planning import plan_schedule

        dated = line.dated(effective)
        schedule = plan_schedule(dated, calendar_for(dated, [effective.year]), effective.year)
    headed = {p.holder for p in _packages(org, posts)}
    done = done_visits(recorder.store)
    out = []
    for visit in schedule.visits:
        if visit.date < effective or visit.id in done:
            continue
        if visit.holder in posts or visit.holder in headed or set(visit.inspectors) & set(posts):
            text = f"{visit.date.isoformat()}　{_school_name(org, visit.school)}（{visit.id}）"
            out.append(HandoverItem("visit", visit.id, text, note="随岗位转移"))
    return out


def _messages(
    recorder: Recorder,
    writing: Writing,
    org: Organisation,
    *,
    predecessor: str,
    successor: str,
    names: dict[str, str],
    still: Sequence[str],
    dry_run: bool,
) -> list[HandoverItem]:
    """The predecessor's pending messages, each re-addressed to the successor on the same
    channel when it can be (not while the predecessor still holds a post, nor when the
    successor has no address on the channel, nor once a dispatcher claimed it)."""
    from dualduty.notify.routing import Router

    router: Router = Router(org)
    out: list[HandoverItem] = []
    waiting = recorder.store.outbox(state="pending") + recorder.store.outbox(state="claimed")
    for item in sorted(waiting, key=lambda i: i.id):
        message = item.message
        recipient, channel, _ = router.address(predecessor, message.channel)
        if message.recipient not in (predecessor, recipient if channel == message.channel else ""):
            continue
        text = f"#{item.id}　{message.channel}　{message.title}"

        def line(moved: bool, note: str, item_id: int = item.id, text: str = text) -> HandoverItem:
            return HandoverItem("message", str(item_id), text, moved=moved, note=note)

        if item.state != "pending":
            out.append(line(False, "发送程序已领取，正在发送，未转"))
            continue
        if still:
            out.append(line(False, f"{names[predecessor]}仍任{'、'.join(still)}，通知不转"))
            continue
        new_recipient, new_channel, _ = router.address(successor, message.channel)
        if new_channel != message.channel:
            out.append(line(False, f"{names[successor]}在 {message.channel} 无联系方式，未转"))
            continue
        moved = attrs.evolve(
            message,
            recipient=new_recipient,
            text=f"{message.text}\n（原发{names[predecessor]}，因交接改发{names[successor]}。）",
        )
        ok = True if dry_run else writing.tx.readdress(item, moved)
        out.append(line(ok, f"改发{names[successor]}" if ok else "发送程序已领取，未转"))
    return out
