"""A schedule as iCalendar (RFC 5545) files: one per person, per unit, and per school.

Every item is an all-day ``VEVENT`` (``DTSTART;VALUE=DATE``): the schedule fixes days,
not hours, and an all-day event stays on its day in every time zone. Each event is
serialized once and shared by every file it appears in; the text is escaped and folded
here (a fast path checked against the ``icalendar`` package in the tests: building the
events with it costs about 0.3 ms each, several seconds for a year of a large
district).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zoneinfo
from collections.abc import Iterable
from functools import cache
from typing import NamedTuple

from dualduty.errors import DualdutyError
from dualduty.model import Organisation
from dualduty.model.schedule import Deadline, DeadlineKind, Meeting, MeetingKind, Schedule, Visit

from ._common import ANNOUNCED_LABELS, DEADLINE_LABELS, VISIT_LABEL, Names, write_directory

__all__ = ["PRODID", "schedule_to_ics", "write_schedule_ics"]

#: The ``PRODID`` of every calendar dualduty writes.
PRODID = "-//dualduty//dualduty schedule//ZH"

#: What a meeting is called in a calendar, when it has no title of its own.
_MEETING_NAMES: dict[MeetingKind, str] = {
    MeetingKind.TOPIC_STUDY: "学校安全专题研究",
    MeetingKind.COORDINATION: "学校安全工作调度会",
    MeetingKind.SUMMARY: "学校安全工作总结表彰会",
}
#: The clause of the plan each kind of item comes from.
_MEETING_CLAUSES: dict[MeetingKind, str] = {
    MeetingKind.TOPIC_STUDY: "二(三).1",
    MeetingKind.COORDINATION: "三.3",
    MeetingKind.SUMMARY: "二(一).3",
}
_VISIT_CLAUSE = "三.2"
_DEADLINE_CLAUSE = "三.2"

#: What TEXT escapes (``\\``, ``;``, ``,``, line breaks) or drops (control characters).
_SPECIAL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\\;,]")
# Control characters other than the tab and the line break have no place in iCalendar
# text (RFC 5545 3.3.11); a carriage return is read as a line break.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LIMIT = 75  # octets in a content line, not counting the line break (RFC 5545 3.1)


def escape_text(value: str) -> str:
    """*value* as an iCalendar TEXT value: ``\\``, ``;``, ``,`` and line breaks escaped."""
    if _SPECIAL.search(value) is None:  # most text: nothing to do
        return value
    value = _CONTROLS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> bytes:
    """One content line as UTF-8, folded at 75 octets (RFC 5545 3.1), with its CRLF.

    A fold never splits a UTF-8 sequence, nor a backslash escape (some clients do not
    join ``\\`` and ``n`` across a fold).
    """
    raw = line.encode("utf-8")
    if len(raw) <= _LIMIT:
        return raw + b"\r\n"
    parts: list[bytes] = []
    start, limit = 0, _LIMIT
    while len(raw) - start > limit:
        end = start + limit
        while raw[end] & 0xC0 == 0x80:  # a continuation byte: back to the character's start
            end -= 1
        slashes = 0
        while end - 1 - slashes > start and raw[end - 1 - slashes] == 0x5C:
            slashes += 1
        if slashes % 2:  # the last backslash begins an escape: keep it with what it escapes
            end -= 1
        parts.append(raw[start:end])
        start, limit = end, _LIMIT - 1  # a continuation line begins with a space
    parts.append(raw[start:])
    return b"\r\n ".join(parts) + b"\r\n"


@cache
def _day(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


@cache
def _next_day(day: dt.date) -> dt.date | None:
    return None if day == dt.date.max else dt.date.fromordinal(day.toordinal() + 1)


def _utc(stamp: dt.datetime) -> str:
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise DualdutyError(
            f"stamp must be a date and time with a time zone, got {stamp.isoformat()!r} "
            "(for example pendulum.now() or datetime.now(timezone.utc))"
        )
    return f"{stamp.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


class _Event(NamedTuple):
    key: tuple[dt.date, int, str]  # the order in a file: by day, then kind, then id
    text: bytes


@cache
def _days(day: dt.date) -> bytes:
    """The ``DTSTART`` and ``DTEND`` lines of an all-day event on *day*."""
    after = _next_day(day)
    end = "DURATION:P1D" if after is None else f"DTEND;VALUE=DATE:{_day(after)}"
    return f"DTSTART;VALUE=DATE:{_day(day)}\r\n{end}\r\n".encode()


def _event(
    uid: str,
    stamp: bytes,
    day: dt.date,
    summary: str,
    description: Iterable[str],
    *,
    location: str | None = None,
    private: bool = False,
    busy: bool = True,
) -> bytes:
    """One ``VEVENT``; *stamp* is its ``DTSTAMP`` line, the same for every event."""
    parts = [
        b"BEGIN:VEVENT\r\n",
        fold(f"UID:{escape_text(uid)}"),
        stamp,
        _days(day),
        fold(f"SUMMARY:{escape_text(summary)}"),
        fold(f"DESCRIPTION:{escape_text(chr(10).join(description))}"),
    ]
    if location is not None:
        parts.append(fold(f"LOCATION:{escape_text(location)}"))
    if private:
        parts.append(b"CLASS:PRIVATE\r\n")
    parts.append(b"TRANSP:OPAQUE\r\n" if busy else b"TRANSP:TRANSPARENT\r\n")
    parts.append(b"END:VEVENT\r\n")
    return b"".join(parts)


class _Calendars:
    """The events of a schedule and who sees which."""

    def __init__(self, schedule: Schedule, org: Organisation, stamp: str) -> None:
        self.schedule = schedule
        self.org = org
        self.names = Names(org)
        self.stamp = fold(f"DTSTAMP:{stamp}")
        self.period = (
            f"{schedule.year}年"
            if schedule.quarter is None
            else f"{schedule.year}年第{schedule.quarter}季度"
        )
        self._seen: set[str] = set()

    def _uid(self, kind: str, item_id: str) -> str:
        uid = f"{kind}-{item_id}@{self.org.id}.dualduty"
        if uid in self._seen:
            raise DualdutyError(
                f"the schedule has two {kind}s with the id {item_id!r}: a calendar entry's "
                "UID comes from the id, so ids must be unique"
            )
        self._seen.add(uid)
        return uid

    def _quarter(self, quarter: int | None) -> list[str]:
        return [] if quarter is None else [f"季度：{self.schedule.year}年第{quarter}季度"]

    def visit(self, v: Visit) -> _Event:
        n = self.names
        school, holder = n.school(v.school), n.holder(v.holder)
        way = ANNOUNCED_LABELS[v.announced]
        head = VISIT_LABEL if v.announced else f"{VISIT_LABEL}（{way}）"
        description = [
            f"学校：{school}",
            f"包保人：{holder}",
            f"督查人员：{n.posts_of(v.inspectors) or '（未指定）'}",
            f"方式：{way}" + ("" if v.announced else "（不对学校公开）"),
        ]
        if v.joint is not None:
            description.append(f"联合督查：{n.holder(v.joint)}")
        description += self._quarter(v.quarter)
        description += [f"依据：方案{_VISIT_CLAUSE}", f"编号：{v.id}"]
        text = _event(
            self._uid("visit", v.id),
            self.stamp,
            v.date,
            f"{head}：{school}（{holder}）",
            description,
            location=school,
            private=not v.announced,
        )
        return _Event((v.date, 0, v.id), text)

    def meeting(self, m: Meeting) -> _Event:
        unit = self.names.unit(m.unit)
        name = m.title or _MEETING_NAMES[m.kind]
        description = [f"单位：{unit}", *self._quarter(m.quarter)]
        description += [f"依据：方案{_MEETING_CLAUSES[m.kind]}", f"编号：{m.id}"]
        text = _event(
            self._uid("meeting", m.id), self.stamp, m.date, f"{name}（{unit}）", description
        )
        return _Event((m.date, 1, m.id), text)

    def deadline(self, d: Deadline) -> _Event:
        unit = self.names.unit(d.unit)
        what = DEADLINE_LABELS[d.kind]
        if d.kind is DeadlineKind.QUARTER_REPORT and d.quarter is not None:
            what = f"第{d.quarter}季度书面报告"
        description = [f"单位：{unit}"]
        if d.to is not None:
            description.append(f"报送：{self.names.unit(d.to)}")
        description += self._quarter(d.quarter)
        description += [f"依据：方案{_DEADLINE_CLAUSE}", f"编号：{d.id}"]
        text = _event(
            self._uid("deadline", d.id),
            self.stamp,
            d.due,
            f"{what}截止（{unit}）",
            description,
            busy=False,
        )
        return _Event((d.due, 2, d.id), text)

    def calendar(self, name: str, timezone: str, events: Iterable[_Event]) -> bytes:
        head = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            f"PRODID:{PRODID}",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            f"X-WR-CALNAME:{escape_text(name)}",
            f"X-WR-TIMEZONE:{timezone}",
        ]
        body = [e.text for e in sorted(events)]
        return b"".join([*(fold(line) for line in head), *body, b"END:VCALENDAR\r\n"])


def schedule_to_ics(
    schedule: Schedule,
    org: Organisation,
    *,
    stamp: dt.datetime,
    people: bool = True,
    units: bool = True,
    schools: bool = False,
    everything: bool = False,
    timezone: str | None = None,
) -> dict[str, bytes]:
    """The schedule as iCalendar files, in memory: file name -> content.

    - ``person-<id>.ics`` for every person of *org*: the visits where one of their posts
      is the holder or an inspector, the meetings of the units they hold a post in or
      head, the deadlines of the units they head;
    - ``unit-<id>.ics`` for every unit: the visits it holds or its posts hold or go on,
      its meetings and its deadlines;
    - ``school-<id>.ics`` for every school (with *schools*): the announced visits to it
      and nothing else, for the school to see. Unannounced visits (暗访) are left out of
      these files; everywhere else they are marked ``CLASS:PRIVATE``;
    - ``schedule.ics`` (with *everything*): every visit, meeting and deadline of the
      schedule in one calendar, for the office.

    Every item is an all-day event with a stable ``UID`` from its id
    (``visit-<id>@<org id>.dualduty``), so importing a new export updates the entries
    instead of duplicating them. The output depends only on the arguments: two exports
    with the same *stamp* are byte for byte the same.

    :param stamp: the ``DTSTAMP`` of every event, a date and time with a time zone
        (written in UTC): usually the time of the export, so that calendar apps see
        which copy of an entry is newer.
    :param timezone: the calendar's time zone (``X-WR-TIMEZONE``); by default the
        organisation's (``Asia/Shanghai``).
    :raises dualduty.DualdutyError: when *stamp* has no time zone, *timezone* is
        unknown, or two items of one kind share an id (their UIDs would clash).
    """
    zone = org.timezone if timezone is None else timezone
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DualdutyError(f"unknown time zone {zone!r}") from None
    cals = _Calendars(schedule, org, _utc(stamp))
    visits = [(v, cals.visit(v)) for v in schedule.visits]
    meetings = [(m, cals.meeting(m)) for m in schedule.meetings]
    deadlines = [(d, cals.deadline(d)) for d in schedule.deadlines]

    post_unit = {post.id: unit.id for unit, post in org.iter_posts()}
    post_person = {post.id: post.holder for _, post in org.iter_posts() if post.holder}
    unit_ids = {u.id for u in org.units}
    files: dict[str, bytes] = {}
    period = cals.period

    if everything:
        events = [e for _, e in (*visits, *meetings, *deadlines)]
        files["schedule.ics"] = cals.calendar(f"{org.name}：{period}学校安全工作日程", zone, events)

    if people:
        by_person: dict[str, list[_Event]] = {p.id: [] for p in org.people}
        members: dict[str, set[str]] = {}  # unit -> the people who hold a post in it or head it
        for post_id, unit_id in post_unit.items():
            if post_id in post_person:
                members.setdefault(unit_id, set()).add(post_person[post_id])
        head: dict[str, str] = {}  # unit -> the person holding its head post
        for u in org.units:
            if u.head_post is not None and u.head_post in post_person:
                head[u.id] = post_person[u.head_post]
                members.setdefault(u.id, set()).add(head[u.id])
        for v, event in visits:
            who = {post_person[p] for p in (v.holder, *v.inspectors) if p in post_person}
            for person in who:
                by_person.setdefault(person, []).append(event)
        for m, event in meetings:
            for person in members.get(m.unit, ()):
                by_person.setdefault(person, []).append(event)
        for d, event in deadlines:
            if d.unit in head:
                by_person.setdefault(head[d.unit], []).append(event)
        for p in org.people:
            name = f"{p.name}：{period}学校安全工作日程"
            files[f"person-{p.id}.ics"] = cals.calendar(name, zone, by_person[p.id])

    if units:
        by_unit: dict[str, list[_Event]] = {u.id: [] for u in org.units}
        for v, event in visits:
            found = {post_unit[p] for p in (v.holder, *v.inspectors) if p in post_unit}
            if v.holder in unit_ids:
                found.add(v.holder)
            for unit_id in found:
                by_unit[unit_id].append(event)
        for m, event in meetings:
            if m.unit in by_unit:
                by_unit[m.unit].append(event)
        for d, event in deadlines:
            if d.unit in by_unit:
                by_unit[d.unit].append(event)
        for u in org.units:
            name = f"{u.name}：{period}学校安全工作日程"
            files[f"unit-{u.id}.ics"] = cals.calendar(name, zone, by_unit[u.id])

    if schools:
        by_school: dict[str, list[_Event]] = {s.id: [] for s in org.schools}
        for v, event in visits:
            if v.announced and v.school in by_school:  # never an unannounced visit
                by_school[v.school].append(event)
        for s in org.schools:
            name = f"{s.name}：{period}专门督查安排"
            files[f"school-{s.id}.ics"] = cals.calendar(name, zone, by_school[s.id])
    return files


def write_schedule_ics(
    schedule: Schedule,
    org: Organisation,
    directory: str | os.PathLike[str],
    *,
    stamp: dt.datetime,
    people: bool = True,
    units: bool = True,
    schools: bool = False,
    timezone: str | None = None,
) -> list[str]:
    """Write :func:`schedule_to_ics`'s files into *directory*; nothing half-written.

    Every file is written and flushed in a temporary directory next to *directory*
    first, so an error leaves *directory* as it was. A new *directory* is then renamed
    into place at once; in an existing one each file replaces the file of the same name
    with an atomic rename, and other files (of people no longer in the organisation, or
    anyone else's) are left alone.

    :returns: the names of the files written (``person-p001.ics`` …): people, then units,
        then schools, each in the order of the organisation.
    :raises dualduty.DualdutyError: as :func:`schedule_to_ics` does, or when the files
        cannot be written.
    """
    files = schedule_to_ics(
        schedule,
        org,
        stamp=stamp,
        people=people,
        units=units,
        schools=schools,
        timezone=timezone,
    )
    write_directory(directory, files)
    return list(files)
