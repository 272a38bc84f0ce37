"""A year of a bureau's work, simulated through dualduty's public API (the demo's year).

:func:`simulate_year` plays a seeded year against the year's schedule, in date order, into
a store, every command through the services of one :class:`~dualduty.records.Recorder` —
which check who may act, as they do for their users:

- dedicated inspections (专门督查) for most scheduled visits: most on the planned day, some
  moved within the quarter, some after it (late), some never (missed); ad hoc inspections
  beside them, half of them unannounced (暗访);
- the hazards they find (a few major ones), through their closed loop: registered,
  planned, rectified — most on time, some late, a few sent back at re-inspection — and
  closed; a few left open;
- incidents at schools with their reports (some late) and the finding on responsibility;
- activities the sections host (谁主办谁负责), most with an approved safety plan and
  supervised, some without;
- topic studies, coordination meetings and the summary meeting, most as scheduled;
- the sections' quarterly reports, most on time, some late, a few missing;
- the year's responsibility pledges (责任状), annual targets and staff training;
- with ``reorganise=True`` (the demo's year), a mid-year reorganisation recorded through
  :attr:`Recorder.org_changes <dualduty.records.Recorder.org_changes>` on 30 June
  (:func:`reorganisation`): one section's package (分包学校) moves to another section, and
  one section head's post is handed to a newcomer, who signs the pledge for it. From that
  day on the successors act: the new section inspects the school and takes over its open
  hazards, the new head plans, reports and signs. Plan the schedule from
  :func:`reorganised` so that the visits follow the package.

Commands are grouped into one transaction per day (or per *per_transaction* commands);
the reorganisation is a transaction of its own, first thing on its day. The simulated
recorder's clock is the simulated time, so the organisation in force on each day decides
who may act. The same organisation, schedule and seed give the same records. The
benchmarks use it too (``benchmarks/bench_records.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import itertools
import random
import zoneinfo
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from dualduty.graph import OrgGraph
from dualduty.model import MeetingKind, Visit
from dualduty.model.enums import SECTION_KINDS, Role
from dualduty.records import Recorder, Severity
from dualduty.records.timeline import (
    Change,
    ChangeData,
    PackageChanged,
    PersonJoined,
    PostAssigned,
    Timeline,
)

if TYPE_CHECKING:
    from dualduty.model import Organisation, Schedule
    from dualduty.records import Activities, Incidents, Meetings
    from dualduty.storage import Store

__all__ = ["YearSimulation", "reorganisation", "reorganised", "simulate_year"]

FINDINGS = (
    "消防通道堆放杂物",
    "灭火器过期未更换",
    "食堂留样记录不全",
    "宿舍私拉电线",
    "实验室危化品台账不清",
    "围墙局部开裂",
    "监控探头损坏",
    "校车安全带缺失",
    "楼梯扶手松动",
    "应急照明失效",
)
MAJOR_FINDINGS = (
    "教学楼外墙瓷砖空鼓脱落",
    "配电房线路老化存在火灾隐患",
    "校舍屋面渗漏危及结构",
)
TOPICS = (
    "研究本季度学校安全稳定工作",
    "部署分包学校专项督查",
    "研究校园食品安全",
    "研究防溺水工作",
)
INCIDENTS = (
    ("accident", "学生课间在楼梯间摔倒骨折"),
    ("public_health", "学生食堂就餐后多人腹痛"),
    ("social_safety", "校外人员在校门口寻衅滋事"),
    ("accident", "体育课上学生扭伤送医"),
)
ACTIVITIES = ("秋季运动会", "科技节展演", "研学实践活动", "校园艺术节", "教师技能大赛")
#: The newcomer who takes over a section head's post in the reorganisation.
NEWCOMER = "钱立新"


def _reorganisation_day(year: int) -> dt.date:
    return dt.date(year, 6, 30)


def reorganisation(org: Organisation, year: int) -> tuple[ChangeData, ...]:
    """The changes of responsibility the simulated year records on 30 June of *year* when
    it reorganises (:class:`YearSimulation` with ``reorganise=True``), in this order:

    1. the first section (in the organisation's order, leaving out the office's seat,
       whose people act for the office) holding a package hands it to the next section
       holding one, with that section's staff (:class:`~dualduty.records.PackageChanged`);
    2. a newcomer joins (:class:`~dualduty.records.PersonJoined`) and
    3. takes over the head's post of the section after those two
       (:class:`~dualduty.records.PostAssigned`); the head before leaves.

    Fewer sections holding packages give fewer changes (none for fewer than two).

    >>> import dualduty
    >>> from dualduty.simulate import reorganisation
    >>> moved, joined, assigned = reorganisation(dualduty.reference_organisation(schools=12), 2026)
    >>> moved.package, moved.holder, moved.effective.isoformat()
    ('pkg-general-office', 'moral-education', '2026-06-30')
    >>> joined.name, assigned.post, assigned.holder == joined.person
    ('钱立新', 'basic-education.head', True)
    """
    day = _reorganisation_day(year)
    graph = OrgGraph(org)
    office = graph.office_members()
    holding = [
        u
        for u in graph.sections()
        if graph.targets_of(u.id)
        and not any(p.holder in office for p in u.posts if p.holder is not None)
    ]
    if len(holding) < 2:
        return ()
    giver, taker = holding[0], holding[1]
    package = next(p for p in org.packages if p.holder == giver.id)
    staff = tuple(p.id for p in taker.posts if p.role is Role.STAFF and p.holder is not None)
    changes: list[ChangeData] = [
        PackageChanged(
            package.id,
            taker.id,
            day,
            schools=package.schools,
            places=package.places,
            staff=staff,
            reason="分包调整",
        )
    ]
    head = graph.head_of(holding[2].id) if len(holding) > 2 else None
    if head is not None and head.holder is not None:
        known = {p.id for p in org.people}
        n = len(org.people) + 1
        while f"p{n:03d}" in known:
            n += 1
        newcomer = f"p{n:03d}"
        changes.append(PersonJoined(newcomer, NEWCOMER, day, reason="调入"))
        changes.append(PostAssigned(head.id, newcomer, day, reason="岗位交接"))
    return tuple(changes)


def reorganised(org: Organisation, year: int) -> Organisation:
    """*org* dated with :func:`reorganisation`'s changes (:meth:`Timeline.dated
    <dualduty.records.Timeline.dated>`): the organisation to plan the simulated year's
    schedule from, so that the moved package's visits fall to the section holding it on
    their day."""
    leader = OrgGraph(org).leader()
    actor = leader.holder if leader is not None and leader.holder is not None else "simulation"
    at = dt.datetime(year, 6, 30, 7, 30, tzinfo=zoneinfo.ZoneInfo(org.timezone))
    changes = [Change(n, actor, at, d) for n, d in enumerate(reorganisation(org, year), 1)]
    return Timeline(org, changes).dated()


class YearSimulation:
    """A seeded year of one organisation's work, played through the services into a store.

    :param org: the organisation (as its district file describes it).
    :param schedule: its schedule for the year played (with ``reorganise``, planned from
        :func:`reorganised`).
    :param seed: the seed; two runs with the same seed append the same records.
    :param reorganise: record :func:`reorganisation`'s changes on 30 June.
    """

    def __init__(
        self, org: Organisation, schedule: Schedule, seed: int = 0, *, reorganise: bool = False
    ) -> None:
        self.org = org
        self.schedule = schedule
        self.rng = random.Random(seed)
        self.zone = zoneinfo.ZoneInfo(org.timezone)
        self.start = OrgGraph(org)
        """The organisation at the start of the year, as a graph."""
        self.year = schedule.year
        self.year_end = dt.datetime(self.year + 1, 1, 1, tzinfo=self.zone)
        self.reorganise = reorganise
        self.changes = 0
        """How many changes of responsibility were recorded (a package moved, a post
        handed over)."""
        self._recorder: Recorder | None = None
        self._reorganised = False
        self._now = dt.datetime(self.year, 1, 1, tzinfo=self.zone)
        self._heap: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self._n = itertools.count()
        self.commands = 0
        self.transactions = 0
        self.day_ends: list[int] = []
        """The ``seq`` after each transaction (to replay the same transactions)."""

    # the recorder and the organisation in force --------------------------------------------

    @property
    def recorder(self) -> Recorder:
        """The recorder playing the year (made by :meth:`play`)."""
        if self._recorder is None:
            raise RuntimeError("the year is not being played")
        return self._recorder

    def clock(self) -> dt.datetime:
        """The simulated time: the time of the command being played."""
        return self._now

    @property
    def graph(self) -> OrgGraph:
        """The organisation in force at the simulated time (the recorder's), as a graph."""
        return self.start if self._recorder is None else self._recorder.desk.graph

    # people --------------------------------------------------------------------------------

    def acting(self, person_id: str, school: str | None = None) -> str:
        """Who does now what *person_id* was to do (for *school*), once the organisation has
        changed: *person_id* while they may, else their post's holder now, else (their
        section gave the school's package up) the one in the same place in the section
        holding it now. Before any change: *person_id*."""
        if not self._reorganised:
            return person_id
        graph, desk = self.graph, self.recorder.desk
        allowed = desk.office_members() | (desk.finders(school) if school is not None else set())
        if graph.posts_of(person_id) and (school is None or person_id in allowed):
            return person_id
        posts = self.start.posts_of(person_id)
        if not posts:
            return person_id
        post = posts[0]
        now = graph.post(post.id).holder
        if now is not None and (school is None or now in allowed):
            return now
        if school is None:
            return person_id
        head, staff = self.section_people(school)
        if post.role is not Role.STAFF:
            return head
        unit = self.start.unit_of(post.id)
        same = [p.id for p in unit.posts if p.role is Role.STAFF]
        return staff[same.index(post.id) % len(staff)]

    def person(self, post_id: str) -> str:
        """The holder of a post."""
        holder = self.graph.post(post_id).holder
        assert holder is not None, post_id
        return holder

    def section_people(self, school_id: str) -> tuple[str, list[str]]:
        """The head and the staff of the school's first section."""
        unit = self.graph.sections_for(school_id)[0]
        head = self.graph.head_of(unit.id)
        assert head is not None
        assert head.holder is not None
        staff = [p.holder for p in unit.posts if p.holder is not None and p.id != head.id]
        return head.holder, staff or [head.holder]

    # scheduling events ---------------------------------------------------------------------

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)

    def later(self, when: dt.datetime, days: int, hour: int) -> dt.datetime:
        day = (when + dt.timedelta(days=days)).date()
        return self.at(day, hour, self.rng.randrange(60))

    def push(self, when: dt.datetime, action: Callable[[], None]) -> None:
        if when < self.year_end:
            heapq.heappush(self._heap, (when, next(self._n), action))

    def plan_events(self, recorder: Recorder) -> None:
        """Put the year's first events on the heap (follow-ups are pushed as they happen).

        The commands take the recorder's services when they run: a change of the
        organisation gives the recorder new ones."""
        self._recorder = recorder
        rng = self.rng
        for visit in self.schedule.visits:
            r = rng.random()
            if r < 0.06:
                continue  # missed
            day = visit.date
            if r < 0.09:  # moved within its quarter, or after it (late)
                day = day + dt.timedelta(days=rng.randrange(3, 25))
            when = self.at(day, 9 + rng.randrange(8), rng.randrange(60))
            self.push(when, self.inspection(visit, when))
        for school in self.org.schools:  # ad hoc inspections: about one a school in two years
            if rng.random() < 0.5:
                packages = self.graph.packages_of(school.id)
                package = rng.choice(packages)
                day = dt.date(self.year, 1, 1) + dt.timedelta(days=rng.randrange(365))
                when = self.at(day, 14, rng.randrange(60))
                doers = package.staff or (package.holder,)
                adhoc = Visit(
                    "adhoc",
                    school.id,
                    package.holder,
                    day,
                    (day.month - 1) // 3 + 1,
                    doers,
                    announced=rng.random() < 0.5,
                )
                self.push(when, self.inspection(adhoc, when, ad_hoc=True))
        for meeting in self.schedule.meetings:
            if rng.random() < 0.05 and meeting.kind is MeetingKind.TOPIC_STUDY:
                continue  # not held
            when = self.at(meeting.date, 15, rng.randrange(60))
            self.push(when, self.meeting(meeting.id, meeting.kind, meeting.unit, when))
        self.plan_duties(recorder.meetings)
        self.plan_incidents(recorder.incidents)
        self.plan_activities(recorder.activities)
        for deadline in self.schedule.deadlines:
            r = rng.random()
            if r < 0.04:
                continue  # missing
            shift = -rng.randrange(0, 4) if r < 0.88 else rng.randrange(1, 15)
            when = self.at(deadline.due + dt.timedelta(days=shift), 16, rng.randrange(60))
            self.push(when, self.report(deadline.unit, deadline.quarter or 1, when))
        if self.reorganise:
            self.plan_reorganisation()

    def plan_reorganisation(self) -> None:
        """:func:`reorganisation`'s changes, recorded by the leader first thing on 30 June
        (a transaction of its own); the newcomer signs the pledge for the post two days on."""
        changes = reorganisation(self.org, self.year)
        if not changes:
            return
        leader = self.start.leader()
        assert leader is not None
        assert leader.holder is not None
        day = _reorganisation_day(self.year)
        when = self.at(day, 7, 30)
        actor = leader.holder

        def run() -> None:
            org_changes = self.recorder.org_changes
            for data in changes:
                org_changes.record(data, actor=actor, at=when)
                self.commands += 1
            self.changes += sum(1 for d in changes if not isinstance(d, PersonJoined))
            self._reorganised = True

        run.alone = True  # type: ignore[attr-defined]  # play() runs it in its own transaction
        self.push(when, run)
        for data in changes:
            if isinstance(data, PostAssigned) and data.holder is not None:
                signed = self.at(day + dt.timedelta(days=2), 10)
                self.push(signed, self.pledge(data.post, leader.id, data.holder, signed))

    def plan_duties(self, meetings: Meetings) -> None:
        """The year's pledges (95% signed in January or February), each section's annual
        targets (90% with school safety, set in January) and one safety training per
        section in spring (90% held; each person takes part with a chance of 90%)."""
        rng = self.rng
        leader = self.graph.leader()
        assert leader is not None
        for post in meetings.unsigned(self.year):
            if rng.random() < 0.95 and post.id != leader.id and post.holder is not None:
                day = dt.date(self.year, 1 + rng.randrange(2), 1 + rng.randrange(28))
                when = self.at(day, 10, rng.randrange(60))
                self.push(when, self.pledge(post.id, leader.id, post.holder, when))
        for unit in self.org.units:
            if unit.kind not in SECTION_KINDS:
                continue
            people = sorted({p.holder for p in unit.posts if p.holder is not None})
            if not people:
                continue
            if rng.random() < 0.9:
                when = self.at(dt.date(self.year, 1, 10 + rng.randrange(20)), 11, rng.randrange(60))
                self.push(when, self.targets(unit.id, people[0], when))
            if rng.random() < 0.9:
                day = dt.date(self.year, 3 + rng.randrange(3), 1 + rng.randrange(28))
                came = [p for p in people if rng.random() < 0.9] or people[:1]
                when = self.at(day, 14, rng.randrange(60))
                self.push(when, self.training(unit.id, people[0], came, when))

    def plan_incidents(self, incidents: Incidents) -> None:
        """About one incident per 80 schools (at least one): recorded by the school's
        section, the initial report most often within the hour, a few hours late now and
        then, a final report a week on, and the office's finding on responsibility."""
        rng = self.rng
        schools = sorted(s.id for s in self.org.schools)
        for n in range(max(1, len(schools) // 80)):
            school = rng.choice(schools)
            day = dt.date(self.year, 1, 1) + dt.timedelta(days=rng.randrange(20, 340))
            when = self.at(day, 8 + rng.randrange(9), rng.randrange(60))
            category, title = INCIDENTS[n % len(INCIDENTS)]
            self.push(when, self.incident(school, category, title, when))

    def plan_activities(self, activities: Activities) -> None:
        """Some sections host an activity (谁主办谁负责, 二(三).2): most file a safety plan
        that someone else approves, are approved and supervised on the day; some do not."""
        rng = self.rng
        for unit in self.org.units:
            if unit.kind not in SECTION_KINDS or not activities.host_members(unit.id):
                continue
            if rng.random() < 0.35:
                day = dt.date(self.year, 3 + rng.randrange(9), 1 + rng.randrange(28))
                participants = rng.choice((80, 200, 450, 1200))
                when = self.at(day - dt.timedelta(days=20), 10, rng.randrange(60))
                title = rng.choice(ACTIVITIES)
                self.push(
                    when,
                    self.activity(unit.id, title, day=day, participants=participants, when=when),
                )

    # the commands ----------------------------------------------------------------------------

    def incident(
        self, school: str, category: str, title: str, when: dt.datetime
    ) -> Callable[[], None]:
        def run() -> None:
            rng = self.rng
            incidents = self.recorder.incidents
            reporter = sorted(incidents.reporters(school))[0]
            state = incidents.record(
                school, category, title, occurred=when, actor=reporter,
                serious_injuries=1 if category == "accident" else 0,
                at=when + dt.timedelta(minutes=10),
            )  # fmt: skip
            self.commands += 1
            late = rng.random() < 0.2
            first = when + dt.timedelta(hours=3 if late else 0, minutes=40)
            final = self.later(when, 7, 10)
            judged = self.later(when, 12, 15)
            judge = sorted(incidents.judges())[0]
            responsible = rng.random() < 0.3
            head = self.graph.head_of(self.graph.sections_for(school)[0].id)
            posts = [head.id] if responsible and head is not None else []

            def report(stage: str, at: dt.datetime, text: str) -> Callable[[], None]:
                def go() -> None:
                    self.recorder.incidents.report(
                        state.id, stage, text=text, actor=self.acting(reporter, school), at=at
                    )
                    self.commands += 1

                return go

            def determine() -> None:
                self.recorder.incidents.determine(
                    state.id, responsible=responsible, actor=judge, posts=posts,
                    text="经调查认定" + ("存在管理责任" if responsible else "不存在管理责任"),
                    at=judged,
                )  # fmt: skip
                self.commands += 1

            self.push(first, report("initial", first, f"初报：{title}，已妥善处置"))
            self.push(final, report("final", final, f"终报：{title}，善后工作完成"))
            self.push(judged, determine)

        return run

    def activity(
        self,
        host: str,
        title: str,
        *,
        day: dt.date,
        participants: int,
        when: dt.datetime,
    ) -> Callable[[], None]:
        def run() -> None:
            rng = self.rng
            activities = self.recorder.activities
            members = sorted(activities.host_members(host))
            filer = members[0]
            state = activities.register(
                host, title, day, participants, actor=filer, venue="学校操场", at=when
            )
            self.commands += 1
            if rng.random() < 0.25:
                return  # no safety plan, never approved: a finding at year end
            approvers = sorted(activities.approvers(host, participants) - {filer})
            if not approvers:
                return
            approver = approvers[0]
            filed = self.later(when, 3, 10)
            approved = self.later(when, 6, 11)
            held = self.at(day, 9)

            def file_plan() -> None:
                self.recorder.activities.file_plan(
                    state.id, "活动安全预案：分区管理、专人值守、应急疏散",
                    actor=self.acting(filer), measures=["划定安全区域", "配备医护人员"],
                    emergency_plan=True, at=filed,
                )  # fmt: skip
                self.commands += 1

            def approve() -> None:
                activities = self.recorder.activities
                by = self.acting(approver)
                activities.approve_plan(state.id, actor=by, at=approved)
                activities.approve(state.id, actor=by, at=approved)
                self.commands += 2

            def supervise() -> None:
                activities = self.recorder.activities
                supervisors = sorted(activities.people(host, activities.rules.supervisors))
                if supervisors:
                    activities.supervise(state.id, actor=supervisors[0], at=held)
                    self.commands += 1

            self.push(filed, file_plan)
            self.push(approved, approve)
            self.push(held, supervise)

        return run

    def pledge(
        self, post: str, counterpart: str, holder: str, when: dt.datetime
    ) -> Callable[[], None]:
        def run() -> None:
            self.recorder.meetings.sign(
                self.year, post, counterpart, actor=holder, date=when.date(), at=when
            )
            self.commands += 1

        return run

    def targets(self, unit: str, actor: str, when: dt.datetime) -> Callable[[], None]:
        def run() -> None:
            safety = ["分包学校安全稳定工作与业务工作同部署、同检查、同考核、同奖惩"]
            self.recorder.meetings.set_targets(
                unit, self.year, actor=actor, safety=safety, date=when.date(), at=when
            )
            self.commands += 1

        return run

    def training(
        self, unit: str, actor: str, people: list[str], when: dt.datetime
    ) -> Callable[[], None]:
        def run() -> None:
            self.recorder.meetings.train(
                unit, when.date(), "学习校园安全法规", actor=actor, hours=2, trainees=people,
                at=when,
            )  # fmt: skip
            self.commands += 1

        return run

    def inspection(
        self,
        visit: Visit,
        when: dt.datetime,
        *,
        ad_hoc: bool = False,
    ) -> Callable[[], None]:
        planned = visit

        def run() -> None:
            rng = self.rng
            inspections = self.recorder.inspections
            visit = self.in_force(planned, ad_hoc=ad_hoc)
            if visit is None:
                return  # its section gave the school's package up before the day: missed
            inspectors = tuple(dict.fromkeys(self.person(p) for p in visit.inspectors))
            findings: list[tuple[str, Severity | None]] = []
            r = rng.random()
            major = r < 0.006
            if r < 0.19:
                text = rng.choice(MAJOR_FINDINGS if major else FINDINGS)
                findings.append((text, Severity.MAJOR if major else Severity.GENERAL))
            elif r < 0.45:
                findings.append(("安全台账齐全，值班记录完整", None))
            done = inspections.record(
                visit.school,
                actor=inspectors[0],
                holder=visit.holder,
                date=when.date(),
                inspectors=inspectors,
                visit=None if ad_hoc else visit.id,
                announced=visit.announced,
                findings=findings,
                summary="分包学校专门督查" if not ad_hoc else "随机督查",
                at=when,
            )
            for finding in done.findings:
                if finding.hazard is not None:
                    self.hazard_loop(finding.hazard, visit.school, major, when)
            self.commands += 1

        return run

    def in_force(self, visit: Visit, *, ad_hoc: bool = False) -> Visit | None:
        """*visit* as the organisation in force now has it: ``None`` when its holder no
        longer holds a package of the school; an ad hoc visit goes to its package's holder
        now. Before any change: *visit*."""
        if not self._reorganised:
            return visit
        packages = self.graph.packages_of(visit.school)
        if any(p.holder == visit.holder for p in packages):
            return visit
        if not ad_hoc:
            return None
        now = next((p for p in packages if visit.holder in (p.holder, *p.staff)), None)
        if now is None:
            return None
        return attrs.evolve(visit, holder=now.holder, inspectors=now.staff or (now.holder,))

    def hazard_loop(self, hazard_id: str, school: str, major: bool, found: dt.datetime) -> None:
        rng = self.rng
        hazards = self.recorder.inspections.hazards
        head, staff = self.section_people(school)
        office = sorted(hazards.office_members())
        office_heads = sorted(hazards.desk.office_heads())
        registrar = next(p for p in office if p not in office_heads)

        def cmd(command: str, **kw: Any) -> Callable[[], None]:
            def run() -> None:
                fn: Callable[..., Any] = getattr(self.recorder.inspections.hazards, command)
                if "actor" in kw:
                    kw["actor"] = self.acting(kw["actor"], school)
                if "responsible" in kw:
                    kw["responsible"] = self.acting(kw["responsible"], school)
                fn(hazard_id, **kw)
                self.commands += 1

            return run

        registered = self.later(found, 1, 9)
        self.push(registered, cmd("register", actor=registrar, at=registered))
        planned = self.later(registered, 2, 10)
        limit = (found + dt.timedelta(days=60 if major else 20)).date()
        measures = ["限期整改", "专人负责"]
        safeguards = ["设置警戒区", "加强巡查"] if major else []
        self.push(
            planned,
            cmd(
                "plan",
                actor=head,
                measures=measures,
                responsible=head,
                time_limit=limit,
                safeguards=safeguards,
                at=planned,
            ),
        )
        r = rng.random()
        if r < 0.05:
            return  # left open
        base = rng.randrange(30, 80) if major else rng.randrange(5, 25)
        if r < 0.15:
            base += rng.randrange(20, 50)  # closed after its deadline
        claimer = rng.choice(staff)
        reinspector = next(p for p in reversed(office) if p not in (claimer, *office_heads))
        claimed = self.later(planned, base, 11)
        self.push(claimed, cmd("claim", actor=claimer, at=claimed))
        checked = self.later(claimed, 2, 10)
        if rng.random() < 0.05:  # sent back once
            self.push(
                checked,
                cmd(
                    "reinspect",
                    actor=reinspector,
                    accepted=False,
                    notes="整改不到位",
                    at=checked,
                ),
            )
            claimed = self.later(checked, 7, 11)
            self.push(claimed, cmd("claim", actor=claimer, at=claimed))
            checked = self.later(claimed, 2, 10)
        self.push(checked, cmd("reinspect", actor=reinspector, accepted=True, at=checked))
        closed = self.later(checked, 1, 15)
        self.push(closed, cmd("close", actor=office_heads[0], notes="复查合格", at=closed))

    def meeting(
        self,
        scheduled: str,
        kind: MeetingKind,
        unit: str,
        when: dt.datetime,
    ) -> Callable[[], None]:
        def run() -> None:
            meetings = self.recorder.meetings
            desk = meetings.desk
            if kind is MeetingKind.TOPIC_STUDY:
                attendees = sorted(desk.unit_members(unit))
            else:
                attendees = sorted(desk.office_members())
            meetings.held(
                kind,
                unit,
                when.date(),
                self.rng.choice(TOPICS),
                actor=attendees[0],
                attendees=attendees,
                scheduled=scheduled,
                at=when,
            )
            self.commands += 1

        return run

    def report(self, unit: str, quarter: int, when: dt.datetime) -> Callable[[], None]:
        def run() -> None:
            head = self.graph.head_of(unit)
            assert head is not None
            assert head.holder is not None
            name = self.graph.unit(unit).name
            title = f"{name}{self.year}年第{quarter}季度学校安全工作报告"
            self.recorder.reports.submit(
                unit,
                self.year,
                quarter,
                actor=head.holder,
                title=title,
                text=f"# {title}\n\n本季度分包学校督查情况良好。",
                at=when,
            )
            self.commands += 1

        return run

    # playing the year ------------------------------------------------------------------------

    def play(
        self,
        store: Store,
        per_transaction: int = 1_000,
        progress: Callable[[dt.date], None] | None = None,
    ) -> None:
        """Append the year to *store*: one transaction per day, or per *per_transaction*
        commands; *progress* is told each day as it begins. The recorder's clock is the
        simulated time."""
        recorder = Recorder(store, self.org, schedule=self.schedule, clock=self.clock)
        self.plan_events(recorder)
        desk = recorder.desk
        day: dt.date | None = None
        in_tx = 0
        batch = False
        with contextlib.ExitStack() as stack:
            while self._heap:
                when, _, action = heapq.heappop(self._heap)
                self._now = when
                alone = getattr(action, "alone", False)
                if alone or not batch or when.date() != day or in_tx >= per_transaction:
                    stack.close()  # commits the batch before
                    batch = False
                    self._committed(store)
                    if progress is not None and when.date() != day:
                        progress(when.date())
                    day, in_tx = when.date(), 0
                if alone:  # in a transaction of its own, committed before what follows
                    action()
                    self._committed(store)
                    continue
                if not batch:
                    stack.enter_context(desk.batch())
                    batch = True
                action()
                in_tx += 1
        self._committed(store)

    def _committed(self, store: Store) -> None:
        seq = store.head()[0]
        if seq and (not self.day_ends or self.day_ends[-1] != seq):
            self.day_ends.append(seq)
            self.transactions += 1


def simulate_year(
    store: Store,
    org: Organisation,
    schedule: Schedule,
    *,
    seed: int = 0,
    per_transaction: int = 1_000,
    progress: Callable[[dt.date], None] | None = None,
    reorganise: bool = False,
) -> YearSimulation:
    """Play a seeded year of *org*'s work against *schedule* into *store* (see the module);
    *progress* is told each simulated day as it begins.

    :param reorganise: record :func:`reorganisation`'s changes of responsibility on 30 June
        (plan *schedule* from :func:`reorganised` then).
    :returns: the simulation, with ``commands`` (how many service calls),
        ``transactions`` and ``changes`` (changes of responsibility recorded).
    """
    simulation = YearSimulation(org, schedule, seed=seed, reorganise=reorganise)
    simulation.play(store, per_transaction=per_transaction, progress=progress)
    return simulation
