"""The exact fallback of the schedule generator: visits → slots as a min-cost flow.

Private to :mod:`dualduty.planning.schedule`. Each visit may take one slot — an
(inspector, day) with a capacity — among those its window allows, at a cost (distance
from its target day, plus a penalty for an inspector other than the preferred one). The
flow schedules as many visits as any assignment can (a bypass arc per visit costs more
than every real arc together), then at the least cost. Where visits are left over, the
alternating paths from them give a set of visits that needs more slots than it can reach
(Hall's condition, in its deficiency form): the explanation.

networkx is imported here, when a flow is solved, not when dualduty.planning is imported.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["assign_slots", "deficient_set"]

#: arcs[v] lists (slot, cost) pairs; caps[s] is slot s's capacity.
Arcs = Sequence[Sequence[tuple[int, int]]]


def assign_slots(arcs: Arcs, caps: Sequence[int]) -> list[int]:
    """The slot of each visit (``-1``: unscheduled): fewest unscheduled, then least cost."""
    import networkx as nx

    n = len(arcs)
    if n == 0:
        return []
    top = max((c for row in arcs for _s, c in row), default=0)
    bypass = (top + 1) * (n + 1)  # dearer than any assignment of every visit
    sink = n + len(caps)
    graph = nx.DiGraph()
    graph.add_nodes_from((v, {"demand": -1}) for v in range(n))
    graph.add_node(sink, demand=n)
    used: set[int] = set()
    for v, row in enumerate(arcs):
        for slot, cost in row:
            graph.add_edge(v, n + slot, capacity=1, weight=int(cost))
            used.add(slot)
        graph.add_edge(v, sink, capacity=1, weight=bypass)
    for slot in used:
        graph.add_edge(n + slot, sink, capacity=int(caps[slot]), weight=0)
    _cost, flow = nx.network_simplex(graph)
    out = [-1] * n
    for v in range(n):
        for node, amount in flow[v].items():
            if amount and node != sink:
                out[v] = node - n
                break
    return out


def deficient_set(arcs: Arcs, assign: Sequence[int]) -> tuple[list[int], list[int]]:
    """Visits reachable from the unscheduled ones by alternating paths, and their slots.

    After :func:`assign_slots`, every slot reached is full (else a visit more could be
    scheduled), so these visits need more slots than they can reach, by exactly the
    number of unscheduled visits among them: a witness that no schedule does better.
    """
    holders: dict[int, list[int]] = {}
    for v, slot in enumerate(assign):
        if slot >= 0:
            holders.setdefault(slot, []).append(v)
    todo = [v for v, slot in enumerate(assign) if slot < 0]
    seen_v = set(todo)
    seen_s: set[int] = set()
    while todo:
        v = todo.pop()
        for slot, _cost in arcs[v]:
            if slot in seen_s:
                continue
            seen_s.add(slot)
            for w in holders.get(slot, ()):
                if w not in seen_v:
                    seen_v.add(w)
                    todo.append(w)
    return sorted(seen_v), sorted(seen_s)
