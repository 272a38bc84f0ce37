"""What every recording service shares: who is who, and one transaction per command.

A service (:class:`~dualduty.records.Hazards`, :class:`~dualduty.records.Inspections`, …)
is a facet of one :class:`Recorder`; facets built from the same recorder share its
:class:`Desk`, so :meth:`Recorder.batch` can put the commands of several facets in one
transaction. Every command reads what it needs *inside* its write transaction (so two
writers cannot both apply the same transition), checks who may act, and appends.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import attrs

from dualduty.errors import DualdutyError
from dualduty.model.enums import UnitKind

from .base import Entry, Record

if TYPE_CHECKING:
    from dualduty.graph import OrgGraph
    from dualduty.model.org import Organisation
    from dualduty.notify.routing import Event, Router
    from dualduty.storage.store import OutboxMessage, Store, Transaction

__all__ = ["Desk", "InvalidTransition", "PermissionDenied", "Writing"]


class PermissionDenied(DualdutyError):
    """The acting person's posts do not allow the command. Nothing was written."""


class InvalidTransition(DualdutyError):
    """The command does not fit what the record already says. Nothing was written."""


#: A clock: returns the current time, aware.
Clock = Callable[[], dt.datetime]


@attrs.define
class Writing:
    """The open transaction of a command (or of a batch of them) and what it appended.

    Reads through :meth:`read` see the committed entries and, after them, the records
    this transaction appended so far.
    """

    store: Store
    tx: Transaction
    pending: dict[str, list[tuple[int, Record]]] = attrs.field(factory=dict)
    """This transaction's records by subject, each with the seq it will have."""

    @property
    def next_seq(self) -> int:
        """The ``seq`` the next appended record will get."""
        rows = self.tx.rows
        return (rows[-1].seq if rows else self.tx.start[0]) + 1

    def appended(self) -> list[tuple[int, Record]]:
        """This transaction's records so far, in order, each with the seq it will have."""
        return list(enumerate(self.tx.records, start=self.tx.start[0] + 1))

    def read(self, subject: str, kind: str | None = None, *, after: int = 0) -> list[Record]:
        """Records about *subject* (of *kind*) after seq *after*: committed first, then
        this transaction's."""
        out = [e.record for e in self.store.read(subject=subject, kind=kind, after=after)]
        out.extend(
            r
            for seq, r in self.pending.get(subject, ())
            if seq > after and (kind is None or r.kind == kind)
        )
        return out

    def exists(self, subject: str) -> bool:
        """Whether any record (committed or pending) is about *subject*."""
        if subject in self.pending:
            return True
        return next(iter(self.store.read(subject=subject, limit=1)), None) is not None

    def append(self, record: Record, messages: Sequence[OutboxMessage] = ()) -> Entry:
        """Append *record* and enqueue *messages* caused by it."""
        entry = self.tx.append(record)
        for message in messages:
            self.tx.enqueue(message, cause=entry)
        for subject in record.subjects:
            self.pending.setdefault(subject, []).append((entry.seq, record))
        return entry


class Desk:
    """The organisation, its graph and its store, shared by the facets of a recorder.

    :param store: where records go.
    :param org: the organisation whose posts decide who may do what.
    :param clock: the current time when a command gives no ``at`` (default: now in the
        organisation's time zone).
    :param router: turns the commands' events into outbox messages (default: a
        :class:`~dualduty.notify.routing.Router` of the organisation's ``[notify]`` routes
        and the routes plugins add, made when first needed).
    """

    def __init__(
        self,
        store: Store,
        org: Organisation,
        *,
        clock: Clock | None = None,
        router: Router | None = None,
    ) -> None:
        from dualduty.graph import OrgGraph

        from .timeline import Timeline

        self.store = store
        self.base_org = org
        """The organisation as the district file describes it."""
        self._router = self._given_router = router
        self.zone = zoneinfo.ZoneInfo(org.timezone)
        self.clock: Clock = clock or (lambda: dt.datetime.now(self.zone))
        self.timeline = Timeline.from_store(org, store)
        """The changes to the organisation recorded in the store, laid over the file's."""
        self.day = self.clock().date()
        """The day the organisation in force is taken on (the clock's, when last read)."""
        self.org = self.timeline.as_of(self.day) if self.timeline else org
        """The organisation in force today (by the clock): the file's, with the recorded
        changes in force by today."""
        self.graph: OrgGraph = OrgGraph(self.org)
        self.stale = False
        """Set when an organisation change was appended in the open batch: the desk is
        refreshed when it commits."""
        self.on_refresh: list[Callable[[], None]] = []
        """Called after :meth:`refresh` (a :class:`~dualduty.records.Recorder` drops its
        facets, which hold the old organisation)."""
        self._writing: Writing | None = None
        self.rollbacks = 0
        """How many of this desk's transactions were rolled back (or failed to commit):
        a facet's memory of what it appended is valid only while this stays the same."""
        self._school_subjects: dict[str, tuple[str, ...]] = {}
        self._office: frozenset[str] | None = None
        self._office_heads: frozenset[str] | None = None
        self._sections: dict[str, frozenset[str]] = {}
        self._finders: dict[str, frozenset[str]] = {}

    def refresh(self) -> None:
        """Read the organisation's changes again: the organisation in force today, its
        graph and everything derived from them are rebuilt."""
        from dualduty.graph import OrgGraph

        from .timeline import Timeline

        self.timeline = Timeline.from_store(self.base_org, self.store)
        self.day = self.clock().date()
        self.org = self.timeline.as_of(self.day) if self.timeline else self.base_org
        self.graph = OrgGraph(self.org)
        self._router = self._given_router
        self._school_subjects.clear()
        self._office = self._office_heads = None
        self._sections.clear()
        self._finders.clear()
        self.stale = False
        for callback in self.on_refresh:
            callback()

    def follow_clock(self) -> None:
        """Refresh when the clock's day has passed a recorded change's effective date
        since the organisation was last read (a long-running recorder, a simulation), so
        that commands act on the organisation in force on their day. Not inside an open
        transaction."""
        if not self.timeline or self._writing is not None:
            return
        day = self.clock().date()
        if day == self.day:
            return
        low, high = min(day, self.day), max(day, self.day)
        if any(low < c.effective <= high for c in self.timeline.changes):
            self.refresh()
        else:
            self.day = day

    # -- time ----------------------------------------------------------------------------

    def now(self, at: dt.datetime | None = None) -> dt.datetime:
        """*at*, or the clock's time."""
        return self.clock() if at is None else at

    # -- transactions --------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[Writing]:
        """The open batch's transaction, or a new one committed when the block ends."""
        if self._writing is not None:
            yield self._writing
            return
        try:
            with self.store.transaction() as tx:
                writing = Writing(self.store, tx)
                self._writing = writing
                try:
                    yield writing
                finally:
                    self._writing = None
        except BaseException:
            self.rollbacks += 1  # what the facets remember of this transaction is void
            self.stale = False
            raise
        if self.stale:  # an organisation change was committed
            self.refresh()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Commands inside the block share one transaction: all are written, or none."""
        if self._writing is not None:
            raise DualdutyError("a batch is already open (batches do not nest)")
        with self.writing():
            yield

    # -- who -------------------------------------------------------------------------------

    def office_members(self) -> frozenset[str]:
        """The people acting for the leading group's office: its head and its seat's staff
        (:meth:`~dualduty.OrgGraph.office_members`)."""
        if self._office is None:
            self._office = self.graph.office_members()
        return self._office

    def office_heads(self) -> frozenset[str]:
        """Who a report to the office goes to: its head (all its members if it has none)."""
        if self._office_heads is None:
            self._office_heads = self.graph.office_heads()
        return self._office_heads

    def leading_members(self) -> frozenset[str]:
        """The people holding posts of the leading group (领导小组)."""
        return frozenset(
            p.holder
            for u in self.org.units
            if u.kind is UnitKind.LEADING_GROUP
            for p in u.posts
            if p.holder is not None
        )

    def section_members(self, school_id: str) -> frozenset[str]:
        """The people of the units holding a package of the school."""
        found = self._sections.get(school_id)
        if found is None:
            found = frozenset(
                p.holder
                for u in self.graph.sections_for(school_id)
                for p in u.posts
                if p.holder is not None
            )
            self._sections[school_id] = found
        return found

    def unit_members(self, unit_id: str) -> frozenset[str]:
        """The people holding posts of a unit."""
        return frozenset(p.holder for p in self.graph.unit(unit_id).posts if p.holder is not None)

    def finders(self, school_id: str) -> frozenset[str]:
        """Who answers for a school on the ground: its sections' people and its package
        holders and staff (a leading-group member holding a package, say)."""
        found = self._finders.get(school_id)
        if found is None:
            graph = self.graph
            people = set(self.section_members(school_id))
            for package in graph.packages_of(school_id):
                for post_id in (package.holder, *package.staff):
                    try:
                        holder = graph.post(post_id).holder
                    except KeyError:  # a unit holds the package: its people are counted above
                        continue
                    if holder is not None:
                        people.add(holder)
            found = frozenset(people)
            self._finders[school_id] = found
        return found

    def require(self, actor: str, allowed: Iterable[str], what: str) -> None:
        """Refuse unless *actor* is a person of the organisation among *allowed*.

        :raises PermissionDenied: naming the actor, their posts and what was refused.
        """
        try:
            self.graph.person(actor)
        except KeyError:
            raise PermissionDenied(f"no person {actor!r} in this organisation") from None
        if actor not in allowed:
            posts = ", ".join(p.title for p in self.graph.posts_of(actor)) or "no post"
            raise PermissionDenied(f"{actor} ({posts}) may not {what}")

    def require_person(self, person_id: str, what: str) -> None:
        """Refuse a command naming someone who is not a person of the organisation (nor
        recorded as joining it earlier in the open transaction)."""
        try:
            self.graph.person(person_id)
        except KeyError:
            writing = self._writing
            if writing is not None and any(
                r.kind == "person-joined" for _, r in writing.pending.get(f"person:{person_id}", ())
            ):
                return
            raise InvalidTransition(
                f"{what}: no person {person_id!r} in this organisation"
            ) from None

    def school_subjects(self, school_id: str) -> list[str]:
        """The subjects of a record about a school: the school and its packaged sections."""
        from .base import school, unit

        found = self._school_subjects.get(school_id)
        if found is None:
            sections = self.graph.sections_for(school_id)
            found = (school(school_id), *(unit(u.id) for u in sections))
            self._school_subjects[school_id] = found
        return list(found)

    # -- notifications ---------------------------------------------------------------------

    @property
    def router(self) -> Router:
        """The router the commands' notifications go through."""
        if self._router is None:
            from dualduty.notify.routing import Router, plugin_routes

            self._router = Router(self.org, graph=self.graph, extra_routes=plugin_routes(self.org))
        return self._router

    def route(self, event: Event, *, channel: str | None = None) -> list[OutboxMessage]:
        """The outbox messages of *event* (through *channel* instead of the routes', if
        given), to append with the record that causes it."""
        return self.router.route(event, channel=channel)


def new_id(writing: Writing, prefix: str, given: str | None, subject_type: str) -> str:
    """*given*, checked to be new; or ``<prefix>-<seq>`` from the seq its record will get.

    A seq is unique within a store, so generated ids never collide and need no scan.

    :raises InvalidTransition: if *given* is already taken.
    """
    if given is None:
        base = f"{prefix}-{writing.next_seq:05d}"
        candidate, n = base, 1
        while writing.exists(f"{subject_type}:{candidate}"):  # someone chose it by hand
            n += 1
            candidate = f"{base}-{n}"
        return candidate
    if writing.exists(f"{subject_type}:{given}"):
        raise InvalidTransition(f"{subject_type} {given!r} already exists in the record")
    return given
