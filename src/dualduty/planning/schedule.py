"""The inspection, meeting and report schedule (clauses 二(一).3, 二(三).1, 三.2, 三.3).

:func:`plan_schedule` turns an organisation, its packages and rules and a
:class:`~dualduty.calendars.WorkCalendar` into a :class:`~dualduty.model.Schedule` for a
year or a quarter: the dedicated inspections of every packaged school (专门督查, announced
and unannounced — 明查暗访), each section's topic-study sessions (专题研究), the quarterly
coordination meeting (调度会), each section's quarter-end written report (书面报告) and the
annual summary and commendation meeting (总结表彰会议). :func:`check_schedule` checks any
schedule — one generated, edited by hand or imported — against the rules and the calendar
and lists every :class:`~dualduty.model.Violation`.

How visits are placed. For each quarter and each package holder, every (holder, school)
pair owes ``inspections_per_school_per_quarter`` visits. The quarter's inspection days
(working days, 调休 make-up days included, outside blackouts, in term when term-only) are
cut into one *window* per visit, around target days spread evenly through the quarter and
staggered between the holder's schools; between a school's consecutive windows lies a band
of ``min_days_between_visits`` days, so any choice of days keeps the visits apart. A
greedy pass (earliest window end first, nearest free day to the target) books each visit
against a capacity of ``visits_per_inspector_per_day`` per inspector and day. Where it
leaves a visit over, a min-cost flow over that holder's quarter (networkx, imported then)
finds the fewest visits that must be left over; if that is not zero, a set of visits that
needs more slots than its windows offer (Hall's condition) is the explanation
(:class:`ScheduleInfeasible`).

Every choice depends only on the holder's own schools, the calendar, the rules and the
seed: adding or removing a school changes only the visits of that school's holders (with
``joint_visits`` also those of the sections visiting jointly with its leading-group holder).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any, Final, cast

import attrs

from dualduty.calendars import WorkCalendar
from dualduty.model import (
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingKind,
    Organisation,
    Rules,
    Schedule,
    School,
    Violation,
    Visit,
)

from ._schedule_facts import (
    ID_MAX,
    OrgFacts,
    Pair,
    QuarterDays,
    ScheduleError,
    digest,
    key32,
    short_id,
    term_only,
)
from ._schedule_flow import assign_slots, deficient_set
from .packages import default_weight

__all__ = [
    "COORDINATION_AT",
    "SUMMARY_WORKING_DAYS_BEFORE_YEAR_END",
    "ScheduleError",
    "ScheduleInfeasible",
    "Shortfall",
    "check_schedule",
    "plan_schedule",
]

#: The summary and commendation meeting (二(一).3) falls this many working days before the
#: year's last working day: a week before the year ends, when the year-end assessment
#: (三.4) it commends is in (2026: Thursday 24 December). A second one, if the rules ask
#: for two, falls as many working days before the first, and so on.
SUMMARY_WORKING_DAYS_BEFORE_YEAR_END: Final = 5

#: Where in the quarter the coordination meeting (三.3) falls: this far through the
#: quarter's working days (about the middle of its last month), when the quarter's
#: inspections can be analysed and the next quarter's work laid out. With several
#: meetings a quarter, the same point of each equal part of it.
COORDINATION_AT: Final = 0.75

_SCALE: Final = 1 << 32


# -- errors ----------------------------------------------------------------------------


@attrs.frozen
class Shortfall:
    """Visits of one holder in one quarter that no schedule can place: why, in numbers.

    ``visits`` visits need a slot each, but the (inspector, day) slots their windows offer
    — ``days`` inspection days from ``start`` to ``end``, for ``inspectors``, each making at
    most ``per_day`` visits a day — number only ``slots``. At least ``unscheduled`` of the
    holder's visits in the quarter cannot be scheduled (the minimum, from a min-cost flow).
    """

    holder: str
    """The package holder: a leading-group post id or a unit id."""
    year: int
    quarter: int
    visits: int
    """How many visits the deficient set holds."""
    slots: int
    """How many visits the slots they may take allow."""
    unscheduled: int
    """The fewest of the holder's visits that must be left over in the quarter."""
    start: dt.date
    """The first day any of those visits may take."""
    end: dt.date
    """The last day any of those visits may take."""
    days: int
    """Inspection days those visits may take."""
    inspectors: tuple[str, ...]
    """The posts who may make them."""
    per_day: int
    """Visits an inspector makes at most in a day (``visits_per_inspector_per_day``)."""
    note: str | None = None
    """Anything else that explains it (a gap that does not fit, no inspector)."""

    def explain(self) -> str:
        """One sentence: ``12 visits need 12 slots, only 11 … for holder X``."""
        who = ", ".join(self.inspectors) or "nobody"
        text = (
            f"{self.visits} visit{_s(self.visits)} need{'' if self.visits != 1 else 's'} "
            f"{self.visits} slot{_s(self.visits)}, only {self.slots} on {self.days} "
            f"inspection day{_s(self.days)} from {self.start.isoformat()} to "
            f"{self.end.isoformat()} for holder {self.holder} in {self.year} Q{self.quarter} "
            f"(inspectors: {who}; at most {self.per_day} visit{_s(self.per_day)} a day each); "
            f"at least {self.unscheduled} visit{_s(self.unscheduled)} cannot be scheduled"
        )
        return f"{text}; {self.note}" if self.note else text


def _s(n: int) -> str:
    return "" if n == 1 else "s"


class ScheduleInfeasible(ScheduleError):
    """No schedule places every visit the rules ask for; one :class:`Shortfall` per holder
    and quarter that falls short.

    :ivar shortfalls: the holders and quarters that fall short, with the numbers.
    """

    shortfalls: tuple[Shortfall, ...]

    def __init__(self, shortfalls: Iterable[Shortfall]) -> None:
        self.shortfalls = tuple(shortfalls)
        n = len(self.shortfalls)
        lines = [
            f"no schedule meets the rules: {n} holder-quarter{_s(n)} "
            f"{'falls' if n == 1 else 'fall'} short"
        ]
        lines.extend(f"  {s.explain()}" for s in self.shortfalls)
        lines.append(
            "  give the holders more inspectors or fewer schools, allow more visits per "
            "inspector a day (rules.visits_per_inspector_per_day), or free blackout days"
        )
        super().__init__("\n".join(lines))


# -- the generator ---------------------------------------------------------------------


def visits_per_day_needed(
    org: Organisation, calendar: WorkCalendar, year: int, *, spare: float = 1.25
) -> int:
    """How many visits an inspector must be allowed a day for *org*'s packages to fit
    *year*: the busiest inspector's visits in a quarter (a package's visits shared by its
    inspectors) over the fewest inspection days of a quarter, with *spare* room, rounded up
    — at least the organisation's ``rules.visits_per_inspector_per_day``.

    A plan of packages balances schools, not days: when a holder's visits outgrow the
    inspection days of a short quarter (the Spring Festival's), allow more a day (``rules``
    in the district file) or give the holder more inspectors.
    """
    import math

    from dualduty.calendars import quarter_bounds

    rules = org.rules
    per_quarter = rules.inspections_per_school_per_quarter
    load: dict[str, float] = {}
    for package in org.packages:
        doers = package.staff or (package.holder,)
        for post in doers:
            load[post] = load.get(post, 0.0) + per_quarter * len(package.schools) / len(doers)
    days = min(len(calendar.inspection_days(*quarter_bounds(year, q))) for q in (1, 2, 3, 4))
    need = math.ceil(spare * max(load.values(), default=0.0) / max(days, 1))
    return max(need, rules.visits_per_inspector_per_day)


def plan_schedule(
    org: Organisation,
    calendar: WorkCalendar,
    year: int,
    *,
    quarter: int | None = None,
    seed: int = 0,
    rules: Rules | None = None,
    inspectors: Mapping[str, str] | None = None,
    weight: Callable[[School], int] = default_weight,
) -> Schedule:
    """Plan the dedicated inspections, meetings and report deadlines of *year* (or a quarter).

    For every package in force in a quarter and each of its schools, the holder makes
    ``rules.inspections_per_school_per_quarter`` visits (in proportion to the days in force
    for a package that starts or ends within the quarter, rounded half up) on inspection
    days, spread through the quarter, each school's visits at least
    ``min_days_between_visits`` days apart, a share ``unannounced_share`` of each holder's
    visits unannounced (暗访). A leading-group post visits itself; a section sends one of
    its package's staff posts (or, when the package names none, of its staff posts), each
    school always the same one where capacity allows — its schools are spread over the
    staff by weight as :func:`~dualduty.planning.plan_packages` does, or as *inspectors*
    says (``PackagePlan.inspectors``). Nobody makes more than
    ``visits_per_inspector_per_day`` visits a day, nor any on the day of a meeting they
    attend: the coordination and summary meetings, and their own section's topic studies.
    With ``joint_visits``, a section joins the first visit of the quarter its school's
    leading-group holder makes, when that day suits the section's window and staff; both
    visits record the other holder in
    the visit's ``joint``.

    Every section (sections, centres, grade groups) gets ``topic_studies_per_quarter``
    topic-study sessions a quarter on working days, spread through the quarter (二(三).1),
    and a quarter report deadline (三.2) on the quarter's last working day, less
    ``report_due_working_days_before_end`` working days, sent to the leading group's
    office. The office (else the leading group) holds ``coordination_meetings_per_quarter``
    coordination meetings a quarter (三.3, at :data:`COORDINATION_AT`), and the leading
    group ``summary_meetings_per_year`` summary meetings (二(一).3, see
    :data:`SUMMARY_WORKING_DAYS_BEFORE_YEAR_END`) in a year's or a fourth quarter's schedule.

    The same arguments give the same schedule, in any order of the organisation's lists;
    *seed* changes the staggering and which visits are unannounced. Ids are stable:
    ``v.2026q3.<holder>.<school>.<n>`` for the n-th visit of a school by a holder in a
    quarter, ``m.2026q3.topic.<unit>.<n>``, ``m.2026q3.coordination.<n>``,
    ``m.2026.summary.<n>`` and ``d.2026q3.report.<unit>`` (a stable hash replaces the
    middle of an id longer than 64 characters). Visits are in order of date, then id.

    :param org: the organisation; its packages say who visits which school.
    :param calendar: working days, blackouts and terms; it must know the year's holidays.
    :param year: the year.
    :param quarter: one quarter (1–4) only; ``None`` for the whole year.
    :param seed: varies the staggering of visits and meetings and which visits are
        unannounced; the same seed, the same schedule.
    :param rules: the rules to plan by (default: ``org.rules``).
    :param inspectors: school → the staff post of its section who visits it, for the
        sections' schools (such as ``PackagePlan.inspectors``); a post not among the
        package's staff is ignored.
    :param weight: a school's load when spreading a section's schools over its staff.
    :raises ScheduleInfeasible: when some holder's visits cannot all be placed in some
        quarter; it says which holder, which quarter and how many slots short.
    :raises ScheduleError: for a package naming an unknown holder or school, term-only
        inspections without terms in the calendar, or a quarter with fewer working days
        than meetings.
    :raises dualduty.calendars.MissingHolidays: when the calendar has no holidays for *year*.
    """
    rules = org.rules if rules is None else rules
    quarters = _quarters(quarter)
    only_terms = term_only(calendar, rules)
    if only_terms and not calendar.terms:
        raise ScheduleError(
            "dedicated inspections must fall in term time (inspections_in_term_only), but the "
            "calendar knows no terms: give the organisation's terms and vacations"
        )
    facts = OrgFacts(org)
    facts.prefer(inspectors or {}, {s.id: weight(s) for s in org.schools})
    facts.stagger(seed)
    visits: list[Visit] = []
    meetings: list[Meeting] = []
    deadlines: list[Deadline] = []
    short: list[Shortfall] = []
    for q in quarters:
        qd = QuarterDays(calendar, year, q, only_terms)
        pairs = facts.pairs(qd, rules.inspections_per_school_per_quarter)
        held = _topic_studies(facts, qd, rules, seed) + _coordination(facts, qd, rules)
        if q == 4:
            held += _summaries(facts, qd, rules)
        planner = _QuarterPlanner(facts, qd, rules, seed, short)
        planner.busy(held)
        visits.extend(planner.plan(pairs))
        meetings.extend(held)
        deadlines.extend(_reports(facts, qd, rules))
    if short:
        raise ScheduleInfeasible(short)
    meetings.sort(key=attrgetter("date", "id"))
    deadlines.sort(key=attrgetter("due", "id"))
    # cast: the model's converter=tuple types these parameters with an unbound type
    # variable, which rejects any typed argument under --strict
    return Schedule(year, quarter, cast(Any, visits), cast(Any, meetings), cast(Any, deadlines))


def _quarters(quarter: int | None) -> tuple[int, ...]:
    if quarter is None:
        return (1, 2, 3, 4)
    if isinstance(quarter, bool) or not isinstance(quarter, int) or not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1 to 4 or None, got {quarter!r}")
    return (quarter,)


# -- visits ----------------------------------------------------------------------------


class _Placed:
    """Where one holder's visits of a quarter went: per pair, per visit, (day, inspector)."""

    __slots__ = ("hidden", "joint", "order", "slots")

    def __init__(
        self, slots: list[list[tuple[int, str]]], order: list[tuple[int, str, int]]
    ) -> None:
        self.slots = slots
        #: the pairs in staggering order: (key, school, index)
        self.order = order
        self.joint: dict[tuple[int, int], str] = {}
        #: per pair, a bit mask of its unannounced visits (bit r: the visit of rank r)
        self.hidden: list[int] = [0] * len(slots)


#: (window end, minus window start, target, pair, rank): the greedy's order is earliest end
#: first, then the narrower window (the later start), then the earlier target.
_Item = tuple[int, int, int, int, int]


class _QuarterPlanner:
    """Places the visits of one quarter, holder by holder."""

    def __init__(
        self, facts: OrgFacts, qd: QuarterDays, rules: Rules, seed: int, short: list[Shortfall]
    ) -> None:
        self.facts = facts
        self.qd = qd
        self.rules = rules
        self.seed = seed
        self.short = short
        self.gap = max(1, rules.min_days_between_visits)
        self.cap = rules.visits_per_inspector_per_day
        #: (a, b, due, position, schools) -> the windows of a pair so placed
        self.windows: dict[tuple[int, int, int, int, int], list[tuple[int, int, int]]] = {}
        #: inspection days (indices) nobody inspects on; a unit's own such days
        self.busy_all: set[int] = set()
        self.busy_unit: dict[str, set[int]] = {}

    def plan(self, pairs: Mapping[str, list[Pair]]) -> list[Visit]:
        """The quarter's visits: leading-group posts first, then units (joint visits pin to
        the posts' days)."""
        holders = sorted(pairs)
        posts = [h for h in holders if self.facts.holder_kind(h) == "post"]
        units = [h for h in holders if self.facts.holder_kind(h) != "post"]
        joint = self.rules.joint_visits
        placed: dict[str, _Placed] = {}
        #: school -> (its first leading-group holder by id, the pair's index there)
        leads: dict[str, tuple[str, int]] = {}
        for holder in posts:
            result = self._place(holder, pairs[holder], None)
            if result is None:
                continue
            placed[holder] = result
            if joint:
                for i, pair in enumerate(pairs[holder]):
                    if pair.due and pair.school not in leads:
                        leads[pair.school] = (holder, i)
        for holder in units:
            pins: dict[int, int] | None = None
            if joint and leads:
                pins = {}
                for i, pair in enumerate(pairs[holder]):
                    lead = leads.get(pair.school)
                    if lead is not None:
                        pins[i] = placed[lead[0]].slots[lead[1]][0][0]
            result = self._place(holder, pairs[holder], pins)
            if result is not None:
                placed[holder] = result
        if joint:
            self._mark_joint(pairs, placed, leads, units)
        for holder in posts + units:
            if holder in placed:
                self._flags(holder, pairs[holder], placed, leads)
        return self._visits(pairs, placed, posts + units)

    # -- one holder --------------------------------------------------------------------

    def _place(self, holder: str, pairs: list[Pair], pins: dict[int, int] | None) -> _Placed | None:
        """Place one holder's visits; ``None`` (and a shortfall noted) if some cannot be."""
        wins, order = self._windows(holder, pairs)
        caps = self._caps(holder, pairs)
        slots: list[list[tuple[int, str]]] = [[(-1, "")] * pair.due for pair in pairs]
        items: list[_Item] = []
        joint: dict[tuple[int, int], str] = {}
        for i, pair_wins in enumerate(wins):
            for rank, (lo, hi, t) in enumerate(pair_wins):
                items.append((hi, -lo, t, i, rank))
        if pins:
            items = self._pin(pairs, wins, pins, caps=caps, slots=slots, joint=joint, items=items)
        items.sort()
        left = False
        for hi, neg_lo, t, i, rank in items:
            lo = -neg_lo
            if lo > hi:
                left = True
                continue
            for post in pairs[i].candidates:
                c = caps[post]
                j = t if c[t] > 0 else _nearest(c, lo, hi, t)
                if j >= 0:
                    c[j] -= 1
                    slots[i][rank] = (j, post)
                    break
            else:
                left = True
        if left:
            flowed = self._flow(holder, pairs, wins)
            if flowed is None:
                return None
            slots, joint = flowed, {}
        result = _Placed(slots, order)
        result.joint = joint
        return result

    def _caps(self, holder: str, pairs: list[Pair]) -> dict[str, list[int]]:
        """Visits each of the holder's inspectors may make on each inspection day: none on
        a day of a meeting they attend (the coordination and summary meetings; a section's
        own topic studies), else ``visits_per_inspector_per_day``."""
        blocked = self.busy_all | self.busy_unit.get(holder, set())
        row = [self.cap] * len(self.qd.days)
        for j in blocked:
            row[j] = 0
        caps: dict[str, list[int]] = {}
        for pair in pairs:
            for post in pair.candidates:
                if post not in caps:
                    caps[post] = row.copy()
        return caps

    def busy(self, meetings: Iterable[Meeting]) -> None:
        """Keep inspectors free on the days of *meetings* (they attend them)."""
        index = {d: j for j, d in enumerate(self.qd.days)}
        for m in meetings:
            j = index.get(m.date)
            if j is None:
                continue
            if m.kind is MeetingKind.TOPIC_STUDY:
                self.busy_unit.setdefault(m.unit, set()).add(j)
            else:
                self.busy_all.add(j)

    def _pin(
        self,
        pairs: list[Pair],
        wins: list[list[tuple[int, int, int]]],
        pins: dict[int, int],
        *,
        caps: dict[str, list[int]],
        slots: list[list[tuple[int, str]]],
        joint: dict[tuple[int, int], str],
        items: list[_Item],
    ) -> list[_Item]:
        """Book the joint visits first: on the leader's day, if a window and a slot allow."""
        taken: set[tuple[int, int]] = set()
        for i in sorted(pins, key=lambda i: key32(self.seed, "joint", pairs[i].school)):
            j = pins[i]
            for rank, (lo, hi, _t) in enumerate(wins[i]):
                if not lo <= j <= hi:
                    continue
                for post in pairs[i].candidates:
                    if caps[post][j] > 0:
                        caps[post][j] -= 1
                        slots[i][rank] = (j, post)
                        joint[i, rank] = ""
                        taken.add((i, rank))
                        break
                break
        return [it for it in items if (it[3], it[4]) not in taken]

    def _windows(
        self, holder: str, pairs: list[Pair]
    ) -> tuple[list[list[tuple[int, int, int]]], list[tuple[int, str, int]]]:
        """Each pair's visit windows ``(lo, hi, target)`` as inspection-day indices, and the
        pairs in staggering order ``(key, school, index)``.

        The holder's schools are staggered in the order of a key of the seed, the holder and
        the school — the same order every quarter, so a school's visits keep about the same
        spacing across quarter ends too.
        """
        ords = self.qd.ords
        gap = self.gap
        keys = sorted([(pair.key, pair.school, i) for i, pair in enumerate(pairs)])
        m = len(pairs)
        out: list[list[tuple[int, int, int]]] = [[] for _ in pairs]
        known = self.windows  # holders with as many schools share their windows
        for pos, (_k, _school, i) in enumerate(keys):
            pair = pairs[i]
            shape = (pair.a, pair.b, pair.due, pos, m)
            wins = known.get(shape)
            if wins is None:
                f = (pos + 0.5) / m
                wins = known[shape] = _pair_windows(ords, pair.a, pair.b, pair.due, f=f, gap=gap)
            out[i] = wins
        return out, keys

    def _flow(
        self, holder: str, pairs: list[Pair], wins: list[list[tuple[int, int, int]]]
    ) -> list[list[tuple[int, str]]] | None:
        """The exact placement by min-cost flow; ``None`` and a shortfall if it falls short."""
        ndays = len(self.qd.days)
        free = self._caps(holder, pairs)
        posts = sorted(free)
        index = {p: k for k, p in enumerate(posts)}
        other = ndays + 1  # a visit by another than the preferred inspector costs more
        arcs: list[list[tuple[int, int]]] = []
        keys: list[tuple[int, int]] = []
        for i, pair in enumerate(pairs):
            for rank, (lo, hi, t) in enumerate(wins[i]):
                row = [
                    (index[post] * ndays + j, abs(j - t) + (other if c else 0))
                    for c, post in enumerate(pair.candidates)
                    for j in range(lo, hi + 1)
                    if free[post][j]
                ]
                arcs.append(row)
                keys.append((i, rank))
        caps = [n for post in posts for n in free[post]]
        assign = assign_slots(arcs, caps)
        missing = sum(1 for s in assign if s < 0)
        if not missing:
            slots: list[list[tuple[int, str]]] = [[(-1, "")] * pair.due for pair in pairs]
            for (i, rank), s in zip(keys, assign, strict=True):
                post_k, j = divmod(s, ndays)
                slots[i][rank] = (j, posts[post_k])
            return slots
        vs, ss = deficient_set(arcs, assign)
        self.short.append(
            self._shortfall(
                holder, pairs, wins, keys=keys, vs=vs, ss=ss, posts=posts, missing=missing
            )
        )
        return None

    def _shortfall(
        self,
        holder: str,
        pairs: list[Pair],
        wins: list[list[tuple[int, int, int]]],
        *,
        keys: list[tuple[int, int]],
        vs: list[int],
        ss: list[int],
        posts: list[str],
        missing: int,
    ) -> Shortfall:
        ndays = len(self.qd.days)
        days = self.qd.days
        starts: list[dt.date] = []
        ends: list[dt.date] = []
        notes: list[str] = []
        for v in vs:
            i, rank = keys[v]
            pair = pairs[i]
            lo, hi, _t = wins[i][rank]
            if lo <= hi:
                starts.append(days[lo])
                ends.append(days[hi])
            else:
                starts.append(pair.start)
                ends.append(pair.end)
                if pair.a >= pair.b:
                    notes.append(
                        f"{pair.school} has no inspection day while its package is in force"
                    )
                else:
                    notes.append(
                        f"{pair.due} visits to {pair.school} at least {self.gap} days apart do not "
                        f"fit between {days[pair.a].isoformat()} and {days[pair.b - 1].isoformat()}"
                    )
        if not posts:
            notes.append("the holder has nobody to make the visits")
        used = sorted({s % ndays for s in ss})
        who = tuple(sorted({posts[s // ndays] for s in ss})) or tuple(posts)
        return Shortfall(
            holder=holder,
            year=self.qd.year,
            quarter=self.qd.quarter,
            visits=len(vs),
            slots=len(ss) * self.cap,
            unscheduled=missing,
            start=min(starts),
            end=max(ends),
            days=len(used),
            inspectors=who,
            per_day=self.cap,
            note="; ".join(dict.fromkeys(notes)) or None,
        )

    # -- after placing ---------------------------------------------------------------

    def _mark_joint(
        self,
        pairs: Mapping[str, list[Pair]],
        placed: dict[str, _Placed],
        leads: Mapping[str, tuple[str, int]],
        units: Sequence[str],
    ) -> None:
        """Name the partner of each joint visit on both sides (one section per school)."""
        for holder in units:
            result = placed.get(holder)
            if result is None:
                continue
            for i, rank in sorted(result.joint):
                lead, k = leads[pairs[holder][i].school]
                partner = placed[lead].joint
                if (k, 0) in partner:  # another section joined first
                    del result.joint[i, rank]
                    continue
                result.joint[i, rank] = lead
                partner[k, 0] = holder

    def _flags(
        self,
        holder: str,
        pairs: list[Pair],
        placed: Mapping[str, _Placed],
        leads: Mapping[str, tuple[str, int]],
    ) -> None:
        """Mark the unannounced visits: the rule's share of the holder's, evenly spread
        over its schools; a section's joint visit follows its leader's."""
        share = self.rules.unannounced_share
        qd = self.qd
        result = placed[holder]
        phase = key32(self.seed, qd.year, qd.quarter, holder) / _SCALE
        shift = 8 + 4 * qd.quarter  # which visit of a school comes first differs by quarter
        # The j-th visit in staggering order is unannounced when floor(j * share + phase)
        # steps up: exactly floor or ceil of share * visits, evenly spread.
        hidden = result.hidden
        j = 0
        before = int(phase)
        for k, _school, i in result.order:
            due = pairs[i].due
            if not due:
                continue
            turn = (k >> shift) % due
            mask = 0
            for r in range(due):
                j += 1
                after = int(j * share + phase)
                if after > before:
                    mask |= 1 << ((r + turn) % due)
                before = after
            hidden[i] = mask
        if not result.joint or self.facts.holder_kind(holder) == "post":
            return
        quota = sum(mask.bit_count() for mask in hidden)
        for i, rank in result.joint:
            lead, k = leads[pairs[i].school]
            if placed[lead].hidden[k] & 1:
                hidden[i] |= 1 << rank
            else:
                hidden[i] &= ~(1 << rank)
        count = sum(mask.bit_count() for mask in hidden)
        for _k, _school, i in result.order:  # back to the holder's share, where it can
            for rank in range(pairs[i].due):
                if count == quota:
                    return
                if (i, rank) in result.joint:
                    continue
                bit = 1 << rank
                if count > quota and hidden[i] & bit:
                    hidden[i] &= ~bit
                    count -= 1
                elif count < quota and not hidden[i] & bit:
                    hidden[i] |= bit
                    count += 1

    def _visits(
        self, pairs: Mapping[str, list[Pair]], placed: Mapping[str, _Placed], order: list[str]
    ) -> list[Visit]:
        """The quarter's visits, in order of date, then id."""
        qd = self.qd
        days = qd.days
        q = qd.quarter
        prefix = f"v.{qd.year}q{q}"
        by_day: list[list[Visit]] = [[] for _ in days]
        new = _new_visit
        teams: dict[str, tuple[str, ...]] = {}
        ranks = [
            str(r + 1) for r in range(max((p.due for ps in pairs.values() for p in ps), default=0))
        ]
        for holder in order:
            result = placed.get(holder)
            if result is None:
                continue
            hidden = result.hidden
            joint = result.joint
            for i, pair in enumerate(pairs[holder]):
                if not pair.due:
                    continue
                school = pair.school
                base = f"{prefix}.{holder}.{school}."
                if len(base) + len(ranks[-1]) > ID_MAX:
                    base = f"{prefix}.{digest((holder, school))}."
                mask = hidden[i]
                for rank, (j, post) in enumerate(result.slots[i]):
                    team = teams.get(post)
                    if team is None:
                        team = teams[post] = (post,)
                    by_day[j].append(
                        new(
                            base + ranks[rank],
                            school,
                            holder,
                            days[j],
                            q,
                            team,
                            not mask >> rank & 1,
                            (joint.get((i, rank)) or None) if joint else None,
                        )
                    )
        out: list[Visit] = []
        by_id = attrgetter("id")
        for bucket in by_day:
            bucket.sort(key=by_id)
            out.extend(bucket)
        return out


def _trusted_visits() -> Callable[
    [str, str, str, dt.date, int, tuple[str, ...], bool, str | None], Visit
]:
    """A constructor of visits known to be valid, which skips the model's validators.

    The generator's visits are valid by construction: their school, holder and inspector
    ids come from the organisation (validated when it was built), their own ids join those
    with digits and dots and are kept within 64 characters, quarters are 1 to 4. The
    validators are three quarters of the cost of building a visit, and a national year has
    millions, so the fields are set directly (the way attrs' own ``__init__`` sets them).
    Should the model's fields change, this falls back to the validated constructor.
    """
    names = ("id", "school", "holder", "date", "quarter", "inspectors", "announced", "joint")
    fields = attrs.fields(Visit)
    slots = getattr(Visit, "__slots__", ())
    if tuple(f.name for f in fields) != names or not set(names) <= set(slots):
        return Visit
    if any(f.converter is not None and f.name != "inspectors" for f in fields):
        return Visit
    set_id, set_school, set_holder, set_date, set_q, set_team, set_announced, set_joint = (
        Visit.__dict__[n].__set__ for n in names
    )
    blank = object.__new__

    def new(  # noqa: PLR0917 -- the signature of Visit
        id: str,
        school: str,
        holder: str,
        date: dt.date,
        quarter: int,
        inspectors: tuple[str, ...],
        announced: bool,
        joint: str | None,
    ) -> Visit:
        visit = blank(Visit)
        set_id(visit, id)
        set_school(visit, school)
        set_holder(visit, holder)
        set_date(visit, date)
        set_q(visit, quarter)
        set_team(visit, inspectors)
        set_announced(visit, announced)
        set_joint(visit, joint)
        return visit

    return new


_new_visit = _trusted_visits()


def _nearest(c: list[int], lo: int, hi: int, t: int) -> int:
    """The free day nearest to *t* in ``[lo, hi]`` (earlier on a tie), or -1."""
    if c[t] > 0:
        return t
    d = 1
    while True:
        left = t - d
        right = t + d
        if left < lo and right > hi:
            return -1
        if left >= lo and c[left] > 0:
            return left
        if right <= hi and c[right] > 0:
            return right
        d += 1


def _pair_windows(
    ords: Sequence[int], a: int, b: int, n: int, *, f: float, gap: int
) -> list[tuple[int, int, int]]:
    """The windows ``(lo, hi, target)`` of *n* visits on inspection days ``[a, b)``.

    Targets sit at ``(k + f) / n`` of the span; the boundary between consecutive windows
    is the midpoint of their targets, less half the gap on either side, so that any two
    days of consecutive windows are at least *gap* days apart. When the targets are too
    close for that, the windows are packed from the start instead; a visit that does not
    fit at all gets an empty window (``lo > hi``).
    """
    span = b - a
    if n <= 1:
        return [(a, b - 1, a + int(f * span))] if n == 1 and span > 0 else [(a, a - 1, a)] * n
    if span <= 0:
        return [(a, a - 1, a)] * n
    step = span / n
    out: list[tuple[int, int, int]] = []
    lo = a
    t = a + int(f * step)
    for k in range(1, n):
        t_next = a + int((k + f) * step)
        hi = bisect_right(ords, (ords[t] + ords[t_next] - gap) >> 1, lo, b) - 1
        if hi < lo:
            return _packed(ords, a, b, n, f=f, gap=gap)
        out.append((lo, hi, t if lo <= t <= hi else (lo if t < lo else hi)))
        lo = bisect_left(ords, ords[hi] + gap, hi + 1, b)
        if lo >= b:
            return _packed(ords, a, b, n, f=f, gap=gap)
        t = t_next
    out.append((lo, b - 1, t if t >= lo else lo))
    return out


def _packed(
    ords: Sequence[int], a: int, b: int, n: int, *, f: float, gap: int
) -> list[tuple[int, int, int]]:
    """Windows packed from the start: the k-th from its earliest day to the latest that
    leaves room for the next; visits that do not fit get empty windows."""
    targets = [a + int((k + f) * (b - a) / n) for k in range(n)]
    earliest = [a]
    while len(earliest) < n:
        nxt = bisect_left(ords, ords[earliest[-1]] + gap, earliest[-1] + 1, b)
        if nxt >= b:
            break
        earliest.append(nxt)
    out: list[tuple[int, int, int]] = []
    for k, lo in enumerate(earliest):
        if k + 1 < len(earliest):
            hi = bisect_right(ords, ords[earliest[k + 1]] - gap, lo, b) - 1
        else:
            hi = b - 1
        out.append((lo, hi, min(max(targets[k], lo), hi)))
    out.extend((b, b - 1, b) for _ in range(n - len(earliest)))
    return out


# -- meetings and deadlines -------------------------------------------------------------


def _need_days(qd: QuarterDays, count: int, what: str) -> None:
    if count > len(qd.work):
        raise ScheduleError(
            f"{qd.label()} has {len(qd.work)} working days, fewer than the {count} {what}"
        )


def _topic_studies(facts: OrgFacts, qd: QuarterDays, rules: Rules, seed: int) -> list[Meeting]:
    k = rules.topic_studies_per_quarter
    if not k or not facts.sections:
        return []
    _need_days(qd, k, "topic-study sessions a section holds")
    work = qd.work
    n = len(work)
    stem = f"m.{qd.year}q{qd.quarter}.topic"
    out: list[Meeting] = []
    for unit in facts.sections:
        f = key32(seed, qd.year, qd.quarter, unit.id, "topic") / _SCALE
        for j in range(k):
            out.append(
                Meeting(
                    short_id(stem, (unit.id,), str(j + 1)),
                    MeetingKind.TOPIC_STUDY,
                    unit.id,
                    work[int((j + f) * n / k)],
                    qd.quarter,
                    f"学校安全稳定工作专题研究（{qd.year}年第{qd.quarter}季度第{j + 1}次）",
                )
            )
    return out


def _coordination(facts: OrgFacts, qd: QuarterDays, rules: Rules) -> list[Meeting]:
    c = rules.coordination_meetings_per_quarter
    if not c:
        return []
    host = facts.coordination_host()
    if host is None:
        raise ScheduleError(
            "the rules ask for a coordination meeting each quarter (三.3), but the "
            "organisation has no leading group or office to hold it"
        )
    _need_days(qd, c, "coordination meetings")
    work = qd.work
    n = len(work)
    return [
        Meeting(
            f"m.{qd.year}q{qd.quarter}.coordination.{j + 1}",
            MeetingKind.COORDINATION,
            host,
            work[min(n - 1, int((j + COORDINATION_AT) * n / c))],
            qd.quarter,
            f"机关各科室学校安全稳定工作调度会（{qd.year}年第{qd.quarter}季度）",
        )
        for j in range(c)
    ]


def report_due(qd: QuarterDays, rules: Rules) -> dt.date:
    """The day each section's quarter report is due (三.2)."""
    back = rules.report_due_working_days_before_end
    _need_days(qd, back + 1, "working days the report is due before the quarter ends, plus one")
    return qd.work[-1 - back]


def _reports(facts: OrgFacts, qd: QuarterDays, rules: Rules) -> list[Deadline]:
    if not facts.sections:
        return []
    due = report_due(qd, rules)
    to = facts.report_recipient()
    stem = f"d.{qd.year}q{qd.quarter}.report"
    return [
        Deadline(
            short_id(stem, (unit.id,)),
            DeadlineKind.QUARTER_REPORT,
            unit.id,
            due,
            qd.quarter,
            to,
        )
        for unit in facts.sections
    ]


def summary_days(q4: QuarterDays, rules: Rules) -> list[dt.date]:
    """The days of the year's summary meetings (二(一).3)."""
    work = q4.work
    return [
        work[max(0, len(work) - 1 - SUMMARY_WORKING_DAYS_BEFORE_YEAR_END * (i + 1))]
        for i in range(rules.summary_meetings_per_year)
    ]


def _summaries(facts: OrgFacts, q4: QuarterDays, rules: Rules) -> list[Meeting]:
    m = rules.summary_meetings_per_year
    if not m:
        return []
    host = facts.summary_host()
    if host is None:
        raise ScheduleError(
            "the rules ask for a summary meeting each year (二(一).3), but the organisation "
            "has no leading group or office to hold it"
        )
    _need_days(q4, 1, "summary meetings")
    return [
        Meeting(
            f"m.{q4.year}.summary.{i + 1}",
            MeetingKind.SUMMARY,
            host,
            day,
            None,
            f"{q4.year}年度学校安全稳定工作总结表彰会议",
        )
        for i, day in enumerate(summary_days(q4, rules))
    ]


# -- the validator ---------------------------------------------------------------------


def check_schedule(
    schedule: Schedule,
    org: Organisation,
    calendar: WorkCalendar,
    *,
    rules: Rules | None = None,
) -> list[Violation]:
    """Every way *schedule* breaks the rules or the calendar; empty when it keeps them all.

    Checks any schedule: one :func:`plan_schedule` made, one edited by hand, one read back
    from a file. It covers the quarters of the schedule (all four for a year). The
    violations, by :class:`~dualduty.model.Violation` ``kind``:

    .. list-table::
       :header-rows: 1

       * - kind
         - clause
         - what is wrong
       * - ``weekend``, ``holiday``
         - 三.2 (visits); the meeting's or report's clause
         - on a weekend that is not a make-up working day (调休), or a statutory holiday
       * - ``blackout``, ``out_of_term``
         - 三.2
         - a visit in a blackout, or out of term when inspections are term-time only
       * - ``wrong_quarter``
         - 三.2
         - an item outside the schedule's year or quarter, or counted for another quarter
       * - ``unknown_school``, ``unknown_holder``, ``unknown_unit``
         - 三.1
         - a visit or meeting naming something the organisation does not have
       * - ``not_packaged``
         - 三.1
         - a visit by a holder whose packages do not hold the school that day
       * - ``missing_visit``
         - 三.2
         - a package with fewer visits to a school in a quarter than the rules ask
       * - ``too_close``
         - 三.2
         - two visits of one school by one holder in a quarter closer than
           ``min_days_between_visits``
       * - ``no_inspector``, ``inspector_not_staff``
         - 三.2
         - a visit with nobody named, or with a post that is not of the holder's staff
       * - ``inspector_overbooked``
         - 三.2
         - more visits for one inspector on one day than ``visits_per_inspector_per_day``
       * - ``unannounced_share``
         - 三.2
         - a holder's unannounced visits in a quarter off the rule's share by more than
           one (and its joint visits)
       * - ``joint_not_allowed``, ``joint_unmatched``
         - 三.2
         - a joint visit the rules do not allow, or whose partner is not there that day
       * - ``duplicate_id``
         - 三.2
         - two items with one id
       * - ``missing_topic_study``
         - 二(三).1
         - a section with fewer topic-study sessions in a quarter than the rules ask
       * - ``missing_coordination``
         - 三.3
         - fewer coordination meetings in a quarter than the rules ask
       * - ``missing_summary``
         - 二(一).3
         - fewer summary meetings in the year than the rules ask (year and Q4 schedules)
       * - ``missing_report``, ``report_late``, ``report_recipient``
         - 三.2
         - a section without its quarter report deadline, one due after the rules' day,
           or one not sent to the leading group's office

    :param rules: the rules to check by (default: ``org.rules``).
    :raises dualduty.calendars.MissingHolidays: when the calendar has no holidays for a
        year the schedule needs.
    """
    from ._schedule_check import check

    return check(schedule, org, calendar, org.rules if rules is None else rules)
