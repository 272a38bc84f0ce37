"""The balanced assignment behind school packages: weighted min-cost flow, rounding, repair.

An :class:`AssignmentProblem` asks for every :class:`Item` (a school) to go to exactly
one :class:`Holder` (a leading-group post, or a section). :func:`solve_assignment`
solves it in five steps:

1. **Candidates.** Each item is linked to its few sensible holders: the holders that own
   its type, last year's holder, the holders whose territory (townships) covers its
   township or a neighbouring one, and a few seeded random ones that keep the graph well
   connected (below :data:`DENSE_BELOW` holders, every holder). Items with the same
   candidates and costs are interchangeable; they are merged into one flow source.
2. **Weighted min-cost flow with a load window.** Each holder may take at most
   ``ceil(lower bound × share × (1 + ε))`` of weight (ε = 0 first, widened only if no
   flow fits); the flow minimises the affinity cost, weight by weight.
3. **Rounding.** The few flow sources split between holders are dealt out school by
   school, heaviest first, each to the holder with the most room left on its arc.
4. **Bottleneck repair and polish.** Deterministically, while a move of one school (or
   a swap of two) lowers the most loaded holder's load without raising another to it,
   make the cheapest such move. Schools keep last year's holder unless the plan is over
   the balance goal. Then the polish makes schools cheaper without raising the peak:
   moves, swaps and short ejection chains (a school moves to a cheaper, full holder,
   which gives schools away until it fits): they undo what rounding and the repair paid
   that the final peak does not need.
5. **Quality.** The count-balanced min-cost-flow optimum of the same costs (every
   holder within one school of its even share of the count, over all allowed holders)
   is solved exactly and reported beside the plan's affinity cost.

Everything is sorted by id first, so the result does not depend on input order; the
only randomness (the extra candidates) comes from ``seed``.
"""

from __future__ import annotations

import math
import os
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Protocol

import attrs

from dualduty.errors import DualdutyError

from ._flow import FlowProblem, NetworkXSolver, PackageSolver, deficits

__all__ = [
    "DENSE_BELOW",
    "AffinityCosts",
    "Assignment",
    "AssignmentProblem",
    "AssignmentQuality",
    "Holder",
    "InfeasiblePlan",
    "Item",
    "PlanningError",
    "ShortSet",
    "solve_assignment",
    "solve_many",
]

#: Problems with fewer holders than this link every item to every allowed holder.
DENSE_BELOW: Final = 12
#: Extra seeded random candidates per township, on top of the sensible ones.
FILLERS: Final = 2
#: Load windows tried in turn (ε over the lower bound); ``None``: the hard limits only.
WINDOWS: Final[tuple[float | None, ...]] = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, None)
#: The default balance goal: max load / lower bound at or under this keeps last year's
#: holders; above it, the repair may move them.
BALANCE_GOAL: Final = 1.03
#: The bottleneck repair adds affinity cost for balance only while max load / lower
#: bound is above ``1 + REPAIR_TOLERANCE``; below it, only moves that cost nothing.
REPAIR_TOLERANCE: Final = 0.02
#: ... and only until it has added this share of the flow's affinity cost.
REPAIR_BUDGET: Final = 0.02
#: Steps of search for a whole-school placement under hard limits before giving up.
PACKING_BUDGET: Final = 200_000
#: Sweeps of the polish over every holder's items, at most.
POLISH_SWEEPS: Final = 4
#: Moves an ejection chain may add after its first one.
CHAIN_DEPTH: Final = 2

_Sig = tuple[int, int, int]
"""An item's signature: its candidate row, weight and last year's holder (-1: none)."""
_Step = tuple[_Sig, int, int]
"""A move of one item of a signature from one holder to another."""
_Exits = tuple[list[tuple[int, _Sig, int]], int]


class PlanningError(DualdutyError):
    """A package problem is malformed: an unknown school or holder, a duplicate id, …."""


@attrs.frozen
class ShortSet:
    """Schools that cannot all be placed, and the only holders they may go to.

    With ``kind == "cut"`` (from a minimum cut) they need more than those holders can
    take: ``weight > capacity``; ``holders`` is empty when the schools may go to no
    holder at all. With ``kind == "packing"`` the capacity would do if schools could be
    split, but no way to place them whole fits (``reasons`` says whether that was proved
    by exhaustive search or not found within the search budget).
    """

    schools: tuple[str, ...]
    holders: tuple[str, ...]
    weight: int
    capacity: int
    reasons: tuple[str, ...] = ()
    """Why these schools are restricted: pins and exclusions."""
    kind: str = "cut"

    def explain(self) -> str:
        """The set in one sentence."""
        schools = _listing(self.schools)
        what = "school" if len(self.schools) == 1 else "schools"
        if self.kind == "packing":
            text = (
                f"{what} {schools} of total weight {self.weight} can only go to "
                f"{_listing(self.holders)}, whose capacity is {self.capacity}, but no way to "
                "place them whole fits those capacities"
            )
        elif not self.holders:
            text = f"{what} {schools} (total weight {self.weight}) can go to no holder"
        else:
            text = (
                f"{what} {schools} of total weight {self.weight} can only go to "
                f"{_listing(self.holders)}, whose capacity is {self.capacity} < {self.weight}"
            )
        return text + (f" ({'; '.join(self.reasons)})" if self.reasons else "")


def _listing(ids: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


class InfeasiblePlan(PlanningError):
    """No plan meets the pins, exclusions and hard capacities; says which schools and holders.

    :ivar short: the sets of schools that cannot all be placed, from a minimum cut.
    :ivar explanation: one sentence per problem (what ``str()`` shows, line by line).
    """

    short: tuple[ShortSet, ...]
    explanation: tuple[str, ...]

    def __init__(self, problem: str, short: Iterable[ShortSet], extra: Iterable[str] = ()) -> None:
        self.short = tuple(short)
        self.explanation = tuple(s.explain() for s in self.short) + tuple(extra)
        lines = [f"{problem}: no plan fits", *(f"  {line}" for line in self.explanation)]
        super().__init__("\n".join(lines))


def _positive(_inst: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{attribute.name}: must be a number > 0, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{attribute.name}: must be finite, got {value!r}")


def _whole(minimum: int) -> Any:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(
                f"{attribute.name}: expected a whole number >= {minimum}, got {value!r}"
            )

    return check


def _name(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name}: expected a non-empty string, got {value!r}")


def _ids(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen
class Holder:
    """Who may take items: a leading-group post or a section.

    :param share: the holder's share of the load, relative to the others (a section's
        staff count; the leader less than a deputy). Loads are balanced per unit of share.
    :param limit: a hard capacity, in weight: the holder never carries more.
    """

    id: str = attrs.field(validator=_name)
    share: float = attrs.field(default=1.0, validator=_positive)
    limit: int | None = attrs.field(default=None, validator=attrs.validators.optional(_whole(0)))


@attrs.frozen
class Item:
    """An item to assign (a school), with its load and what it has affinity with.

    :param weight: the load the item brings (1 or more; see
        :func:`~dualduty.planning.default_weight`).
    :param group: its township: holders whose other items are in the same township
        cost less.
    :param owners: holders that own its type (the private-education section for a
        private school): any other holder costs more.
    :param previous: last year's holder: any other holder costs more.
    """

    id: str = attrs.field(validator=_name)
    weight: int = attrs.field(default=1, validator=_whole(1))
    group: str | None = None
    owners: frozenset[str] = attrs.field(default=frozenset(), converter=_ids)
    previous: str | None = None


@attrs.frozen
class AffinityCosts:
    """What each unmet affinity costs, per unit of weight (integers, 0 or more).

    The defaults put stability first: last year's holder (``keep``) outweighs the type
    owner and the township together, so a school keeps its holder unless balance needs
    the move; among new placements the type owner comes before the township.
    """

    township: int = attrs.field(default=1, validator=_whole(0))
    """The holder has no other school in the item's township (its territory)."""
    owner: int = attrs.field(default=2, validator=_whole(0))
    """The item has type owners and this holder is not one of them."""
    keep: int = attrs.field(default=4, validator=_whole(0))
    """The item had another holder last year."""


def _pairs(value: Iterable[tuple[str, str]] | Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(a), str(b)) for a, b in items))


def _items(value: Iterable[Item]) -> tuple[Item, ...]:
    return tuple(value)


def _holders(value: Iterable[Holder]) -> tuple[Holder, ...]:
    return tuple(value)


@attrs.frozen
class AssignmentProblem:
    """Items to spread over holders, with pins, exclusions and affinity costs.

    :param pins: ``(item, holder)`` pairs (or a mapping) that must hold.
    :param exclusions: ``(item, holder)`` pairs that must not.
    :param name: what the problem is, for messages (``"sections"``).
    """

    items: tuple[Item, ...] = attrs.field(converter=_items)
    holders: tuple[Holder, ...] = attrs.field(converter=_holders)
    pins: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    exclusions: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    costs: AffinityCosts = attrs.field(factory=AffinityCosts)
    name: str = "packages"


@attrs.frozen
class AssignmentQuality:
    """How good an assignment is. Loads are compared per unit of share.

    The lower bound is what no plan can beat: the even share of the total weight, or the
    heaviest item on the largest share it may go to, or a holder's pinned load
    (``max(total weight / holders, heaviest item)`` when every share is 1).
    """

    max_load_over_lower_bound: float
    """The most loaded holder's load over the lower bound (1.0 is ideal)."""
    lower_bound: float
    """The lower bound, in weight per unit of share."""
    affinity_cost: int
    """The plan's affinity cost: the sum of each item's cost at its holder."""
    affinity_optimum: int
    """The optimum of the count-balanced min-cost flow with the same costs."""
    kept_share: float | None
    """The share of items with a previous holder that kept it (``None``: none had one)."""
    weighted_affinity_cost: int
    """The plan's affinity cost weighted by item weight."""
    flow_optimum: int
    """The weighted min-cost flow's optimum before rounding (same units as above)."""
    window: float | None
    """The load window ε the flow used (``None``: only hard limits)."""
    rounded: int
    """Items the flow split between holders, rounded heaviest first."""
    moves: int
    """Moves and swaps made by the bottleneck repair."""
    solver: str

    def to_json(self) -> dict[str, Any]:
        """The four headline figures, as ``dualduty packages --format json`` prints them."""
        return headline_json(self)


class _Headline(Protocol):  # read-only, so frozen attrs classes match
    @property
    def max_load_over_lower_bound(self) -> float: ...
    @property
    def affinity_cost(self) -> int: ...
    @property
    def affinity_optimum(self) -> int: ...
    @property
    def kept_share(self) -> float | None: ...


def headline_json(q: _Headline) -> dict[str, Any]:
    """The four headline figures of a plan's quality, rounded as the CLI prints them."""
    return {
        "max_load_over_lower_bound": round(q.max_load_over_lower_bound, 4),
        "affinity_cost": q.affinity_cost,
        "affinity_optimum": q.affinity_optimum,
        "kept_share": None if q.kept_share is None else round(q.kept_share, 4),
    }


@attrs.frozen
class Assignment:
    """The solved problem: each item's holder, each holder's load, quality and notes."""

    name: str
    """The problem's name (``"sections"``)."""
    holder_of: Mapping[str, str]
    """Item id → holder id, for every item, in item id order."""
    loads: Mapping[str, int]
    """Holder id → total weight, for every holder (0 when it has none), in id order."""
    quality: AssignmentQuality
    """How good the assignment is."""
    notes: tuple[str, ...]
    """Why the plan looks the way it does: windows, rounding, moves from last year."""

    def items_of(self, holder: str) -> tuple[str, ...]:
        """The items a holder got, in id order."""
        return tuple(i for i, h in self.holder_of.items() if h == holder)


def solve_assignment(
    problem: AssignmentProblem,
    *,
    solver: PackageSolver | None = None,
    seed: int = 0,
    balance_goal: float = BALANCE_GOAL,
) -> Assignment:
    """Assign every item of *problem* to one holder, balanced, with the least affinity cost.

    :param solver: the min-cost-flow solver (default: :class:`~dualduty.planning.NetworkXSolver`).
    :param seed: seeds the extra random candidates; the same seed gives the same plan.
    :param balance_goal: at or under this max load / lower bound, items keep last year's
        holder; above it the repair may move them.
    :raises InfeasiblePlan: when pins, exclusions and hard limits leave no plan, naming
        the schools and holders involved.
    :raises PlanningError: for an unknown or duplicate id.
    """
    if balance_goal < 1:
        raise ValueError(f"balance_goal must be 1 or more, got {balance_goal}")
    return _Planner(problem, solver or NetworkXSolver(), seed, balance_goal).run()


def _solve_one(args: tuple[AssignmentProblem, PackageSolver | None, int, float]) -> Assignment:
    problem, solver, seed, goal = args
    return solve_assignment(problem, solver=solver, seed=seed, balance_goal=goal)


def solve_many(
    problems: Sequence[AssignmentProblem],
    *,
    solver: PackageSolver | None = None,
    seed: int = 0,
    balance_goal: float = BALANCE_GOAL,
    workers: int | None = None,
) -> list[Assignment]:
    """Solve independent problems (districts, or a bureau's two kinds of package) in parallel.

    Results come back in the order of *problems* and are the same as solving each one on
    its own: each problem is solved whole, by one process.

    :param workers: processes to use (default: the number of CPUs; 1 solves in this
        process).
    """
    jobs = [(p, solver, seed, balance_goal) for p in problems]
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(jobs) <= 1:
        return [_solve_one(job) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, len(jobs) // (workers * 8))
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(_solve_one, jobs, chunksize=chunk))


# -- the planner ---------------------------------------------------------------------------


class _Planner:
    def __init__(
        self, problem: AssignmentProblem, solver: PackageSolver, seed: int, goal: float
    ) -> None:
        self.problem = problem
        self.solver = solver
        self.seed = seed
        self.goal = goal
        self.notes: list[str] = []

    # -- indexing and checks -----------------------------------------------------------------

    def index(self) -> None:
        p = self.problem
        items = sorted(p.items, key=lambda it: it.id)
        holders = sorted(p.holders, key=lambda h: h.id)
        for kind, seq in (("item", items), ("holder", holders)):
            ids = [x.id for x in seq]
            dupes = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) < len(ids) else []
            if dupes:
                raise PlanningError(f"{p.name}: duplicate {kind} ids: {', '.join(dupes)}")
        self.items = items
        self.holders = holders
        self.n, self.m = len(items), len(holders)
        self.item_at = {it.id: i for i, it in enumerate(items)}
        self.holder_at = {h.id: j for j, h in enumerate(holders)}
        self.w = [it.weight for it in items]
        self.share = [h.share for h in holders]
        self.limit = [h.limit for h in holders]
        self.total = sum(self.w)

        self.pin: dict[int, int] = {}
        conflicts: list[str] = []
        for item_id, holder_id in p.pins:
            i, j = self._item(item_id, "pin"), self._holder(holder_id, "pin")
            if self.pin.get(i, j) != j:
                conflicts.append(
                    f"school {item_id} is pinned to both {holders[self.pin[i]].id} and {holder_id}"
                )
            self.pin.setdefault(i, j)
        self.excluded: dict[int, set[int]] = defaultdict(set)
        for item_id, holder_id in p.exclusions:
            self.excluded[self._item(item_id, "exclusion")].add(
                self._holder(holder_id, "exclusion")
            )
        for i, j in self.pin.items():
            if j in self.excluded.get(i, ()):
                conflicts.append(
                    f"school {items[i].id} is pinned to {holders[j].id} and excluded from it"
                )
        if conflicts:
            raise InfeasiblePlan(p.name, (), conflicts)
        self.prev: list[int | None] = [self.holder_at.get(it.previous or "") for it in items]
        self.owners: list[frozenset[int]] = [
            frozenset(self.holder_at[o] for o in it.owners if o in self.holder_at) for it in items
        ]

    def _item(self, item_id: str, what: str) -> int:
        if item_id not in self.item_at:
            raise PlanningError(f"{self.problem.name}: {what} names unknown school {item_id!r}")
        return self.item_at[item_id]

    def _holder(self, holder_id: str, what: str) -> int:
        if holder_id not in self.holder_at:
            raise PlanningError(f"{self.problem.name}: {what} names unknown holder {holder_id!r}")
        return self.holder_at[holder_id]

    def allowed(self) -> None:
        """Every holder an item may go to (pins and exclusions only); fail if none fits."""
        everyone = tuple(range(self.m))  # one shared tuple for the unrestricted items
        self.ok: list[tuple[int, ...]] = []
        for i in range(self.n):
            if i in self.pin:
                self.ok.append((self.pin[i],))
            elif i in self.excluded:
                banned = self.excluded[i]
                self.ok.append(tuple(j for j in everyone if j not in banned))
            else:
                self.ok.append(everyone)
        # merge items with the same allowed holders, then look for a short set (min cut)
        rows: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, row in enumerate(self.ok):
            rows[row].append(i)
        keys = sorted(rows)
        supplies = [sum(self.w[i] for i in rows[k]) for k in keys]
        short = deficits(supplies, keys, self.limit)
        if short:
            found = []
            for d in short:
                members = sorted(i for c in d.sources for i in rows[keys[c]])
                found.append(
                    ShortSet(
                        tuple(self.items[i].id for i in members),
                        tuple(self.holders[j].id for j in d.holders),
                        d.load,
                        d.capacity,
                        self._reasons(members),
                    )
                )
            raise InfeasiblePlan(self.problem.name, found)

    def _reasons(self, members: Sequence[int]) -> tuple[str, ...]:
        out: list[str] = []
        pinned = [i for i in members if i in self.pin]
        if pinned:
            out.append(
                "pinned: "
                + _listing([f"{self.items[i].id}→{self.holders[self.pin[i]].id}" for i in pinned])
            )
        excluded = [i for i in members if i not in self.pin and self.excluded.get(i)]
        nowhere = [self.items[i].id for i in excluded if not self.ok[i]]
        if nowhere:
            out.append("excluded from every holder: " + _listing(nowhere))
        elsewhere = [self.items[i].id for i in excluded if self.ok[i]]
        if elsewhere:
            out.append("excluded from the other holders: " + _listing(elsewhere))
        if not self.m:
            out.append("there are no holders")
        return tuple(out)

    # -- territories and candidates ----------------------------------------------------------

    def territories(self) -> None:
        """Each holder's home townships, and each item's (pseudo-)township for candidates."""
        # items without a township get pseudo-townships by id, so the candidate graph
        # stays a chain of neighbourhoods; they pay no township cost
        loose = [i for i in range(self.n) if self.items[i].group is None]
        parts = max(1, self.m // 2)
        self.place: list[str] = [it.group or "" for it in self.items]
        for rank, i in enumerate(loose):
            self.place[i] = f"\x00{rank * parts // len(loose):06d}"
        places = sorted(set(self.place))
        self.places = places
        self.place_rank = {g: k for k, g in enumerate(places)}
        weight_of: dict[str, int] = defaultdict(int)
        for i in range(self.n):
            weight_of[self.place[i]] += self.w[i]

        home: list[set[str]] = [set() for _ in range(self.m)]
        for i, j in enumerate(self.prev):
            if j is not None:
                home[j].add(self.place[i])
        # the others are laid along the townships, each over a span the size of its spare
        # share (its fair share less what its owned items are expected to take)
        fair = [self.total * s / sum(self.share) for s in self.share] if self.m else []
        owned = [0.0] * self.m
        for i in range(self.n):
            for j in self.owners[i]:
                owned[j] += self.w[i] / len(self.owners[i])
        spare = [max(0.0, fair[j] - owned[j]) for j in range(self.m)]
        layout = [j for j in range(self.m) if not home[j] and spare[j] > 0]
        if layout:
            scale = self.total / sum(spare[j] for j in layout)
            bounds: list[tuple[float, float, str]] = []
            start = 0.0
            for g in places:
                bounds.append((start, start + weight_of[g], g))
                start += weight_of[g]
            at = 0.0
            for j in layout:
                lo, hi = at, at + spare[j] * scale
                at = hi
                for a, b, g in bounds:
                    if min(b, hi) - max(a, lo) > 1e-9 or (a == b and lo <= a < hi):
                        home[j].add(g)
        self.home = home
        self.covering: dict[str, list[int]] = defaultdict(list)
        for j in range(self.m):
            for g in sorted(home[j]):
                self.covering[g].append(j)

    def cost(self, i: int, j: int) -> int:
        """What item *i* costs at holder *j*: its unmet affinities."""
        it = self.items[i]
        return self._cost(self.owners[i], it.group, self.prev[i], j)

    def _cost(self, owners: frozenset[int], group: str | None, prev: int | None, j: int) -> int:
        c = self.problem.costs
        total = 0
        if owners and j not in owners:
            total += c.owner
        if group is not None and j not in owners and group not in self.home[j]:
            total += c.township
        if prev is not None and prev != j:
            total += c.keep
        return total

    def candidates(self, *, dense: bool, fit: bool = True) -> list[dict[int, int]]:
        """Item → {holder: cost}: every allowed holder, or the few sensible ones.

        With *fit*, an item never goes to a holder whose even share of the load is
        smaller than the item itself (a school too heavy for a small section goes to a
        larger one); the lower bound guarantees some allowed holder is large enough.
        Items alike share one row (the same dict).
        """
        out: list[dict[int, int]] = []
        fillers: dict[str, list[int]] = {}
        fitted: dict[tuple[tuple[int, ...], int], tuple[int, ...]] = {}
        rows: dict[tuple[Any, ...], dict[int, int]] = {}
        for i in range(self.n):
            allowed = self.ok[i]
            if fit and i not in self.pin:
                w = self.w[i]
                key = (allowed, w)
                if key not in fitted:
                    able = tuple(j for j in allowed if (b := self.limit[j]) is None or w <= b)
                    able = able or allowed
                    big = tuple(j for j in able if w <= self.lb * self.share[j] + 1e-9)
                    fitted[key] = big or able
                allowed = fitted[key]
            it = self.items[i]
            g = self.place[i]
            row_key = (allowed, g, it.group, self.owners[i], self.prev[i])
            row = rows.get(row_key)
            if row is None:
                if dense or self.m < DENSE_BELOW or len(allowed) <= DENSE_BELOW:
                    chosen: Iterable[int] = allowed
                else:
                    if g not in fillers:
                        rng = random.Random(f"{self.seed}:{self.problem.name}:{g}")
                        fillers[g] = rng.sample(range(self.m), min(FILLERS, self.m))
                    k = self.place_rank[g]
                    near = set(self.owners[i]) | set(fillers[g]) | set(self.covering[g])
                    for other in (k - 1, k + 1):
                        if 0 <= other < len(self.places):
                            near.update(self.covering[self.places[other]])
                    before = self.prev[i]
                    if before is not None:
                        near.add(before)
                    chosen = sorted(near.intersection(allowed)) or allowed
                owners, prev = self.owners[i], self.prev[i]
                row = {j: self._cost(owners, it.group, prev, j) for j in chosen}
                rows[row_key] = row
            out.append(row)
        return out

    # -- flows ---------------------------------------------------------------------------------

    def classes(
        self, cand: list[dict[int, int]], *, by_weight: bool
    ) -> tuple[list[tuple[tuple[int, int], ...]], list[list[int]]]:
        """Items with the same candidate costs (and weight) merged: the flow's sources."""
        found: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        seen: dict[int, tuple[tuple[int, int], ...]] = {}  # rows shared between items
        for i, row in enumerate(cand):
            key = seen.get(id(row))
            if key is None:
                key = seen[id(row)] = tuple(sorted(row.items()))
            found[(key, self.w[i]) if by_weight else (key,)].append(i)
        keys = sorted(found)
        return [k[0] for k in keys], [found[k] for k in keys]

    def lower_bound(self) -> float:
        pinned: dict[int, int] = defaultdict(int)
        for i, j in self.pin.items():
            pinned[j] += self.w[i]
        self.pinned = pinned
        if not self.total:
            return 0.0
        bound = self.total / sum(self.share)
        largest: dict[tuple[tuple[int, ...], int], float] = {}
        for i in range(self.n):
            key = (self.ok[i], self.w[i])
            if key not in largest:
                w = self.w[i]
                able = [j for j in self.ok[i] if (b := self.limit[j]) is None or w <= b]
                largest[key] = max(self.share[j] for j in able or self.ok[i])
            bound = max(bound, self.w[i] / largest[key])
        for j, load in pinned.items():
            bound = max(bound, load / self.share[j])
        return bound

    def windows(self, eps: float | None) -> list[int]:
        upper: list[int] = []
        for j in range(self.m):
            if eps is None:
                hi = self.total
            else:
                hi = max(
                    math.ceil(self.lb * self.share[j] * (1 + eps)),
                    self.pinned.get(j, 0),
                    self.keep_load[j],
                )
            limit = self.limit[j]
            upper.append(min(hi, limit) if limit is not None else hi)
        return upper

    def weighted_flow(self) -> None:
        """Solve the weighted flow in the narrowest window that fits; sparse first."""
        for dense, fit in ((False, True), (True, True), (True, False)):
            cand = self.candidates(dense=dense, fit=fit)
            rows, groups = self.classes(cand, by_weight=False)
            # last year's load each holder may keep, up to the balance goal
            self.keep_load = [0] * self.m
            for i, j in enumerate(self.prev):
                if j is not None and j in cand[i] and self.pin.get(i, j) == j:
                    self.keep_load[j] += self.w[i]
            for j in range(self.m):
                self.keep_load[j] = min(
                    self.keep_load[j], math.floor(self.lb * self.share[j] * self.goal)
                )
            supplies = [sum(self.w[i] for i in g) for g in groups]
            arcs = [(c, j, cost) for c, row in enumerate(rows) for j, cost in row]
            for eps in WINDOWS:
                upper = self.windows(eps)
                problem = FlowProblem(
                    supplies,
                    [0] * self.m,
                    upper,
                    [a[0] for a in arcs],
                    [a[1] for a in arcs],
                    [a[2] for a in arcs],
                )
                solution = self.solver.solve(problem)
                if solution is None:
                    continue
                self.cand, self.groups, self.eps = cand, groups, eps
                self.flow_cost = solution.cost
                self.flow: list[dict[int, int]] = [{} for _ in groups]
                for (c, j, _cost), f in zip(arcs, solution.flows, strict=True):
                    if f:
                        self.flow[c][j] = f
                # an item's signature: what makes it interchangeable with another
                row_ids = {row: r for r, row in enumerate(sorted(set(rows)))}
                self.rows = [dict(row) for row in sorted(row_ids)]
                self.sig: list[tuple[int, int, int]] = [(0, 0, 0)] * self.n
                for row, group in zip(rows, groups, strict=True):
                    for i in group:
                        prev = self.prev[i]
                        self.sig[i] = (row_ids[row], self.w[i], -1 if prev is None else prev)
                if dense or eps:
                    why = "every allowed holder" if dense else "the sparse candidates"
                    self.notes.append(
                        f"the flow over {why} needed a load window of "
                        + ("the hard limits only" if eps is None else f"{eps:.0%}")
                        + " over the lower bound"
                    )
                return
        raise InfeasiblePlan(  # the hard-limit check passed, so this is a solver fault
            self.problem.name, (), [f"solver {self.solver.name} found no flow"]
        )

    def round(self) -> None:
        """Whole items from the flow.

        A source the flow sends to one holder goes there whole. The items of split
        sources, grouped by weight, are placed by a second flow over the same arcs whose
        holders take exactly what the first flow gave them; on each of its arcs the flow
        is a number of whole items plus a remainder. The whole items go where it sends
        them (in id order); the few left over are dealt out heaviest first, each to the
        holder (among those its group was sent to) with the most remainder left.
        """
        self.holder_of = [-1] * self.n
        self.load = [0] * self.m
        room = [0] * self.m
        split: list[tuple[int, list[int]]] = []  # (class, items of one weight)
        for c, group in enumerate(self.groups):
            flow = self.flow[c]
            if len(flow) == 1:
                (j,) = flow
                for i in group:
                    self.holder_of[i] = j
                    self.load[j] += self.w[i]
                continue
            for j, f in flow.items():
                room[j] += f
            by_weight: dict[int, list[int]] = defaultdict(list)
            for i in sorted(group):
                by_weight[self.w[i]].append(i)
            split.extend((c, by_weight[w]) for w in sorted(by_weight))
        parts: list[dict[int, int]] = []
        if split:
            arcs = [
                (k, j, self.rows[self.sig[items[0]][0]][j])
                for k, (c, items) in enumerate(split)
                for j in sorted(self.flow[c])
            ]
            solution = self.solver.solve(
                FlowProblem(
                    [self.w[items[0]] * len(items) for _c, items in split],
                    [0] * self.m,
                    room,
                    [a[0] for a in arcs],
                    [a[1] for a in arcs],
                    [a[2] for a in arcs],
                )
            )
            parts = [{} for _ in split]
            if solution is None:  # cannot happen: the first flow is a solution
                raise InfeasiblePlan(
                    self.problem.name, (), [f"solver {self.solver.name} failed to round"]
                )
            for (k, j, _cost), f in zip(arcs, solution.flows, strict=True):
                if f:
                    parts[k][j] = f
        room = [0] * self.m
        left: list[tuple[int, dict[int, int]]] = []
        for (_c, items), part in zip(split, parts, strict=True):
            w = self.w[items[0]]
            at = 0
            for j in sorted(part):
                whole = part[j] // w
                for i in items[at : at + whole]:
                    self.holder_of[i] = j
                    self.load[j] += w
                at += whole
                room[j] += part[j] - whole * w
            left.extend((i, part) for i in items[at:])
        self.rounded = len(left)
        for i, part in sorted(left, key=lambda ip: (-self.w[ip[0]], ip[0])):
            w = self.w[i]
            j = max(part, key=lambda j: ((room[j] - w) / self.share[j], room[j], -j))
            room[j] -= w
            self.holder_of[i] = j
            self.load[j] += w
        # movable items of each holder, by signature
        self.bucket: list[dict[tuple[int, int, int], set[int]]] = [{} for _ in range(self.m)]
        self.exits: dict[int, _Exits] = {}  # holder -> how its items may leave it
        self.cheapest: dict[int, list[tuple[int, int]]] = {}  # row -> (cost, holder), sorted
        self.shifts = 0  # items moved so far
        self.touched = [0] * self.m  # ... when each holder last changed
        self.polished = -1  # ... when the polish last ended
        for i, j in enumerate(self.holder_of):
            if i not in self.pin:
                self.bucket[j].setdefault(self.sig[i], set()).add(i)

    # -- repair --------------------------------------------------------------------------------

    def repair(self) -> None:
        """Lower the bottleneck, one move or swap at a time, until nothing helps.

        Each step takes the most loaded holder (one over its hard limit first) and looks
        at moving one of its items to another candidate holder, or swapping it for a
        lighter item there, such that neither ends as loaded as the bottleneck was. Free
        steps (no added affinity cost) come first, the one leaving the lowest peak;
        then, while the plan is more than :data:`REPAIR_TOLERANCE` over the lower bound,
        the step with the least affinity cost per unit of load taken off the bottleneck.
        Items keep last year's holder unless the plan is over the balance goal.
        Interchangeable items (same candidates, costs, weight and last year's holder)
        are tried once per holder.
        """
        share, load, limit, rows, bucket = self.share, self.load, self.limit, self.rows, self.bucket
        cap = self.moves + 50 * (self.m + 1) + 4 * self.n
        budget = self.flow_cost * (1 + REPAIR_BUDGET)

        def over_limit() -> list[int]:
            return [j for j in range(self.m) if (b := limit[j]) is not None and load[j] > b]

        while self.moves < cap:
            over = over_limit()
            top = max(over or range(self.m), key=lambda j: (load[j] / share[j], -j))
            cur = load[top] / share[top]
            if not over and cur <= self.lb * (1 + 1e-12):
                break
            free = bool(over) or cur > self.lb * self.goal + 1e-9
            # above the balance goal, balance is paid for whatever it costs; between the
            # tolerance and the goal, only within the budget
            above = free
            pay = above or (cur > self.lb * (1 + REPAIR_TOLERANCE) + 1e-9 and self.spent < budget)
            best: tuple[Any, ...] | None = None
            cost_of_best = 0
            for si in sorted(bucket[top]):
                r, wi, pi = si
                if not free and pi == top:
                    continue
                row = rows[r]
                here = row.get(top, 0)
                for j, c in row.items():
                    if j == top:
                        continue
                    b = limit[j]
                    room = (b if b is not None else load[j] + wi) - load[j]
                    steps: list[tuple[tuple[int, int, int] | None, int, int]] = []
                    if wi <= room and (over or (load[j] + wi) / share[j] < cur):
                        steps.append((None, load[j] + wi, wi * (c - here)))
                    # a lighter item of j in exchange: j's load must stay under cur
                    least = load[j] + wi - (math.inf if over else cur * share[j])
                    for other in bucket[j]:
                        rt, wt, pt = other
                        if wt >= wi or wt <= least or wi - wt > room:
                            continue
                        if not free and pt == j:
                            continue
                        row_t = rows[rt]
                        if top not in row_t or j not in row_t:  # packing may leave an item
                            continue  # off its candidates; its cost there is not in the row
                        delta = wi * (c - here) + wt * (row_t[top] - row_t[j])
                        steps.append((other, load[j] - wt + wi, delta))
                    for st, after, delta in steps:
                        if delta > 0 and not (above or (pay and self.spent + delta <= budget)):
                            continue
                        mine = load[top] - wi + (st[1] if st is not None else 0)
                        peak = max(after / share[j], mine / share[top])
                        tie = (si, j, st or (-1, -1, -1))
                        key: tuple[Any, ...] = (
                            (0, peak, delta, *tie)
                            if delta <= 0
                            else (1, delta / max(cur - peak, 1e-9), peak, *tie)
                        )
                        if best is None or key < best:
                            best, cost_of_best = key, delta
            if best is None:
                break
            si, j, st = best[-3:]
            self.spent += cost_of_best
            self._step(si, top, j, None if st[0] < 0 else st)

    def polish(self) -> None:
        """Cheaper holders for items, keeping every load under the peak.

        Each item that could be cheaper elsewhere tries, in turn: the cheapest move to a
        cheaper holder with room; the cheapest swap with an item there; and, when that
        holder is full, an ejection chain: the holder gives items away (one to a holder
        with room, or two, or one to a holder that in turn gives one away) until it fits
        again. Every prefix of a chain must cost less than nothing, which keeps the search
        short; a chain can undo a costly step of the repair together with the small move
        that makes room for it. Chains are searched for every item in the first sweep;
        in later sweeps, only for items whose holder or a cheaper one has changed.
        """
        if self.shifts == self.polished:  # nothing moved since the last polish
            return
        share, load, limit, bucket = self.share, self.load, self.limit, self.bucket
        peak = max(load[j] / share[j] for j in range(self.m))
        cap = []  # the most each holder may carry: the peak, or its hard limit
        for j in range(self.m):
            most = math.floor((peak + 1e-9) * share[j])
            b = limit[j]
            cap.append(most if b is None else min(most, b))
        # (signature, holder) -> self.shifts when nothing cheaper was found for it
        failed: dict[tuple[_Sig, int], int] = {}
        touched, rows = self.touched, self.rows

        def stale(si: _Sig, h: int) -> bool:
            """Whether to search chains from *si* at *h*: not yet in this polish, or its
            holder or a cheaper one has changed since."""
            at = failed.get((si, h))
            if at is None or touched[h] > at:
                return True
            row = rows[si[0]]
            now = row.get(h, 0)
            return any(touched[j] > at for j, c in row.items() if c < now)

        for _sweep in range(POLISH_SWEEPS):
            changed = False
            for h in range(self.m):
                for si in sorted(bucket[h]):
                    while si in bucket[h] and failed.get((si, h)) != self.shifts:
                        found = self._cheaper(si, h, cap, chains=stale(si, h))
                        if found is None:
                            failed[(si, h)] = self.shifts  # the same, until something moves
                            break
                        delta, steps = found
                        self.spent += delta
                        for sig, src, dst in steps:
                            self._move(min(bucket[src][sig]), src, dst)
                        self.moves += 1
                        changed = True
            if not changed:
                break
        self.polished = self.shifts

    def _exits(self, o: int) -> _Exits:
        """How holder *o*'s items may leave it (cost change, signature, holder), cheapest
        first, and the heaviest of them."""
        found = self.exits.get(o)
        if found is None:
            every: list[tuple[int, _Sig, int]] = []
            for sig in self.bucket[o]:
                row = self.rows[sig[0]]
                if o not in row:  # packed off its candidates: its cost here is not in the row
                    continue
                here, w = row[o], sig[1]
                every.extend((w * (c - here), sig, d) for d, c in row.items() if d != o)
            every.sort()
            found = self.exits[o] = (every, max((e[1][1] for e in every), default=0))
        return found

    def _cheaper(
        self, si: _Sig, h: int, cap: list[int], *, chains: bool
    ) -> tuple[int, list[_Step]] | None:
        """The cheapest move, else swap, else the first ejection chain, for an item of *si*."""
        load, rows, bucket = self.load, self.rows, self.bucket
        r, wi, _pi = si
        row = rows[r]
        now = row.get(h, 0)
        if not now:  # at no cost (or packed off its row), nothing is cheaper
            return None
        best: tuple[Any, ...] | None = None
        for j, c in row.items():
            if c < now and load[j] + wi <= cap[j]:
                key: tuple[Any, ...] = (wi * (c - now), j, (-1, -1, -1))
                if best is None or key < best:
                    best = key
        if best is None:
            for j, c in row.items():
                if c >= now:
                    continue
                for st in bucket[j]:
                    rt, wt, _pt = st
                    row_t = rows[rt]
                    if h not in row_t or j not in row_t:  # off its row after packing:
                        continue  # its cost there is unknown
                    delta = wi * (c - now) + wt * (row_t[h] - row_t[j])
                    if delta < 0 and load[j] - wt + wi <= cap[j] and load[h] - wi + wt <= cap[h]:
                        key = (delta, j, st)
                        if best is None or key < best:
                            best = key
        if best is not None:
            delta, j, st = best
            return delta, [(si, h, j)] if st[0] < 0 else [(si, h, j), (st, j, h)]
        return self._chain(si, h, cap) if chains else None

    def _chain(self, si: _Sig, h: int, cap: list[int]) -> tuple[int, list[_Step]] | None:
        """An ejection chain: an item of *si* moves from *h* to a cheaper, full holder, which
        then gives items away (at most :data:`CHAIN_DEPTH` more moves) until it fits.

        Every prefix of the chain must cost less than nothing (the gain criterion), and
        of the chains that hand the same weight to the same holder only the cheapest is
        followed further: a dearer one has less to spend on what follows.
        """
        load, bucket = self.load, self.bucket
        row = self.rows[si[0]]
        wi, now = si[1], row[h]
        room = [cap[j] - load[j] for j in range(self.m)]  # what the chain leaves free
        taken: dict[tuple[int, _Sig], int] = defaultdict(int)  # items it takes from one
        path: list[_Step] = []

        def step(sig: _Sig, src: int, dst: int) -> None:
            taken[(src, sig)] += 1
            room[src] += sig[1]
            room[dst] -= sig[1]
            path.append((sig, src, dst))

        def undo() -> None:
            sig, src, dst = path.pop()
            taken[(src, sig)] -= 1
            room[src] -= sig[1]
            room[dst] += sig[1]

        def last(o: int, excess: int, cum: int) -> int | None:
            """The cheapest single item of *o* that takes its excess to a holder with room."""
            if excess > max(room):
                return None
            for delta, sig, d in self._exits(o)[0]:
                total = cum + delta
                if total >= 0:
                    return None
                if excess <= sig[1] <= room[d] and taken[(o, sig)] < len(bucket[o][sig]):
                    step(sig, o, d)
                    return total
            return None

        def eject(o: int, excess: int, cum: int, depth: int) -> int | None:
            """Take *excess* off holder *o* with at most *depth* moves, keeping the cost < 0."""
            if depth == 1:
                return last(o, excess, cum)
            tried: set[tuple[int, int]] = set()
            every, heaviest = self._exits(o)
            widest = max(room)  # the most room any holder has: what a last move may fill
            for delta, sig, d in every:
                total = cum + delta
                if total >= 0:
                    return None
                wt, space = sig[1], room[d]
                if wt < excess and wt > space:  # o gives more: then wt must fit d
                    continue
                if depth == 2:  # the next move is the last: one item must take the rest
                    if wt < excess:  # ... of o's excess, to a holder with room
                        if excess - wt > min(widest, heaviest):
                            continue
                    elif wt > space:  # ... of what d now carries over its room
                        need = wt - space
                        if (need > widest and need > wt - excess) or need > self._exits(d)[1]:
                            continue
                if (d, wt) in tried:
                    continue
                if taken[(o, sig)] >= len(bucket[o][sig]):
                    continue
                step(sig, o, d)
                if excess <= wt <= space:
                    return total
                tried.add((d, wt))
                if wt >= excess:
                    done = eject(d, wt - space, total, depth - 1)
                else:
                    done = eject(o, excess - wt, total, depth - 1)
                if done is not None:
                    return done
                undo()
            return None

        order = self.cheapest.get(si[0])
        if order is None:
            order = self.cheapest[si[0]] = sorted((c, j) for j, c in row.items())
        for c, j in order:
            if c >= now:
                break
            step(si, h, j)
            total = eject(j, -room[j], wi * (c - now), CHAIN_DEPTH)
            if total is not None:
                return total, path
            undo()
        return None

    def pack(self) -> None:
        """Whole schools under the hard limits, by search, when rounding and repair left one over.

        Only items that may go to limited holders alone can make packing fail; they are
        searched heaviest first, component by component (items linked by shared
        holders), for a placement that fits, within :data:`PACKING_BUDGET` steps. Items
        that may also go to an unlimited holder then move there if their holder is full.
        """
        limit, w = self.limit, self.w
        constrained = [i for i in range(self.n) if all(limit[j] is not None for j in self.ok[i])]
        parent = {("i", i): ("i", i) for i in constrained}

        def find(x: tuple[str, int]) -> tuple[str, int]:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        for i in constrained:
            for j in self.ok[i]:
                parent[find(("i", i))] = find(("h", j))
        parts: dict[tuple[str, int], list[int]] = defaultdict(list)
        for i in constrained:
            parts[find(("i", i))].append(i)
        place: dict[int, int] = {}
        failed: list[ShortSet] = []
        for key in sorted(parts, key=lambda k: min(parts[k])):
            items = sorted(parts[key], key=lambda i: (-w[i], i))
            holders = sorted({j for i in items for j in self.ok[i]})
            room = {j: limit[j] or 0 for j in holders}
            found, steps = self._search(items, room)
            if found is not None:
                place.update(found)
                continue
            weight = sum(w[i] for i in items)
            reason = (
                "proved by exhaustive search"
                if steps < PACKING_BUDGET
                else f"none found in {PACKING_BUDGET} steps of search"
            )
            failed.append(
                ShortSet(
                    tuple(self.items[i].id for i in sorted(items)),
                    tuple(self.holders[j].id for j in holders),
                    weight,
                    sum(room.values()),
                    (reason, *self._reasons(items)),
                    "packing",
                )
            )
        if failed:
            raise InfeasiblePlan(self.problem.name, failed)
        for i, j in place.items():
            if self.holder_of[i] != j and i not in self.pin:
                self._move(i, self.holder_of[i], j)
        load = self.load
        for i in range(self.n):
            j = self.holder_of[i]
            b = limit[j]
            if i in place or b is None or load[j] <= b:
                continue
            free = [k for k in self.ok[i] if limit[k] is None]
            target = min(free, key=lambda k: (load[k] / self.share[k], k))
            self._move(i, j, target)

    def _search(self, items: list[int], room: dict[int, int]) -> tuple[dict[int, int] | None, int]:
        """A placement of *items* (heaviest first) within *room*, and the steps it took."""
        w, ok = self.w, self.ok
        suffix = [0] * (len(items) + 1)
        for k in range(len(items) - 1, -1, -1):
            suffix[k] = suffix[k + 1] + w[items[k]]
        chosen: dict[int, int] = {}
        steps = 0

        def go(k: int) -> bool:
            nonlocal steps
            if k == len(items):
                return True
            steps += 1
            if steps >= PACKING_BUDGET or suffix[k] > sum(room.values()):
                return False
            i = items[k]
            order = sorted(ok[i], key=lambda j: (j != self.holder_of[i], -room[j], j))
            for j in order:
                if room[j] < w[i]:
                    continue
                room[j] -= w[i]
                chosen[i] = j
                if go(k + 1):
                    return True
                room[j] += w[i]
                del chosen[i]
            return False

        return (dict(chosen) if go(0) else None), steps

    def _step(
        self,
        si: tuple[int, int, int],
        src: int,
        dst: int,
        st: tuple[int, int, int] | None,
    ) -> None:
        """Move the first item of signature *si* from *src* to *dst* (and one of *st* back)."""
        self._move(min(self.bucket[src][si]), src, dst)
        if st is not None:
            self._move(min(self.bucket[dst][st]), dst, src)
        self.moves += 1

    def _move(self, i: int, src: int, dst: int) -> None:
        sig = self.sig[i]
        group = self.bucket[src][sig]
        group.discard(i)
        if not group:
            del self.bucket[src][sig]
        self.bucket[dst].setdefault(sig, set()).add(i)
        self.exits.pop(src, None)
        self.exits.pop(dst, None)
        self.shifts += 1
        self.touched[src] = self.touched[dst] = self.shifts
        self.load[src] -= self.w[i]
        self.load[dst] += self.w[i]
        self.holder_of[i] = dst

    # -- the count-balanced optimum -------------------------------------------------------------

    def count_optimum(self) -> int:
        """The exact optimum of the count-balanced min-cost flow over every allowed holder."""
        cand = self.candidates(dense=True, fit=False)
        keys, members = self.classes(cand, by_weight=False)
        supplies = [len(ms) for ms in members]
        arcs = [(c, j, cost) for c, key in enumerate(keys) for j, cost in key]
        pinned: dict[int, int] = defaultdict(int)
        for j in self.pin.values():
            pinned[j] += 1
        total_share = sum(self.share)
        for eps in (0.0, 0.05, 0.2, None):
            lower, upper = [], []
            for j in range(self.m):
                even = self.n * self.share[j] / total_share
                if eps is None:
                    lower.append(0)
                    upper.append(self.n)
                else:
                    hi = max(math.ceil(even * (1 + eps) - 1e-9), pinned[j])
                    upper.append(hi)
                    lower.append(min(hi, max(0, math.floor(even * (1 - eps) + 1e-9))))
            problem = FlowProblem(
                supplies,
                lower,
                upper,
                [a[0] for a in arcs],
                [a[1] for a in arcs],
                [a[2] for a in arcs],
            )
            solution = self.solver.solve(problem)
            if solution is not None:
                if eps:
                    self.notes.append(
                        "the count-balanced optimum needed counts within "
                        f"{eps:.0%} of the even share"
                    )
                elif eps is None:
                    self.notes.append("the count-balanced optimum ignores balance (pins forbid it)")
                return solution.cost
        return 0  # unreachable: the unbounded problem always has a solution

    # -- the whole run -------------------------------------------------------------------------

    def run(self) -> Assignment:
        self.index()
        self.allowed()
        name = self.problem.name
        if not self.n:
            return Assignment(
                name,
                {},
                {h.id: 0 for h in self.holders},
                AssignmentQuality(1.0, 0.0, 0, 0, None, 0, 0, 0.0, 0, 0, self.solver.name),
                (f"{name}: nothing to assign",),
            )
        self.territories()
        self.lb = self.lower_bound()
        self.weighted_flow()
        self.round()
        self.spent = sum(self.w[i] * self.cand[i][j] for i, j in enumerate(self.holder_of))
        self.moves = 0
        for _round in range(3):  # what polishing saves, the repair may spend on balance
            before = self.moves
            self.repair()
            if any(b is not None and self.load[j] > b for j, b in enumerate(self.limit)):
                self.pack()
                continue
            self.polish()
            if self.moves == before:
                break
        optimum = self.count_optimum()

        ids = [it.id for it in self.items]
        hids = [h.id for h in self.holders]
        holder_of = {ids[i]: hids[j] for i, j in enumerate(self.holder_of)}
        paid = [
            row[j] if j in row else self.cost(i, j)
            for i, (row, j) in enumerate(zip(self.cand, self.holder_of, strict=True))
        ]
        affinity = sum(paid)
        weighted = sum(w * c for w, c in zip(self.w, paid, strict=True))
        with_prev = [i for i in range(self.n) if self.prev[i] is not None]
        kept = (
            sum(self.prev[i] == self.holder_of[i] for i in with_prev) / len(with_prev)
            if with_prev
            else None
        )
        peak = max(self.load[j] / self.share[j] for j in range(self.m))
        ratio = peak / self.lb if self.lb else 1.0
        quality = AssignmentQuality(
            max_load_over_lower_bound=ratio,
            lower_bound=self.lb,
            affinity_cost=affinity,
            affinity_optimum=optimum,
            kept_share=kept,
            weighted_affinity_cost=weighted,
            flow_optimum=self.flow_cost,
            window=self.eps,
            rounded=self.rounded,
            moves=self.moves,
            solver=self.solver.name,
        )
        notes = [
            f"{name}: {self.n} schools of total weight {self.total} over {self.m} holders; "
            f"lower bound {self.lb:.1f} per unit of share; max load / lower bound {ratio:.3f}",
            f"{name}: affinity cost {affinity} (count-balanced optimum {optimum}); "
            f"{self.rounded} schools split by the flow were rounded heaviest first and the "
            f"bottleneck repair made {self.moves} moves",
            *self.notes,
        ]
        if affinity < optimum:
            notes.append(
                f"{name}: the plan costs less than the count-balanced optimum: balancing "
                "weight rather than school counts lets more schools stay where they fit best"
            )
        notes.extend(self.changes())
        return Assignment(
            name,
            holder_of,
            {hids[j]: self.load[j] for j in range(self.m)},
            quality,
            tuple(notes),
        )

    def changes(self) -> list[str]:
        """A note for every item that left last year's holder, saying why."""
        out: list[str] = []
        for i in range(self.n):
            before, now = self.prev[i], self.holder_of[i]
            if before is None or before == now:
                continue
            item, old, new = self.items[i].id, self.holders[before].id, self.holders[now].id
            if i in self.pin:
                why = "pinned"
            elif before not in self.ok[i]:
                why = f"excluded from {old}"
            else:
                fair = self.lb * self.share[before] * self.goal
                why = f"balance: {old} would carry more than {fair:.0f}, the balance goal"
            out.append(f"{self.problem.name}: school {item} moves from {old} to {new} ({why})")
        previous_ids = {it.previous for it in self.items if it.previous}
        gone = sorted(previous_ids - set(self.holder_at))
        if gone:
            out.append(
                f"{self.problem.name}: last year's holders {_listing(gone)} are gone; "
                "their schools were placed afresh"
            )
        return out
