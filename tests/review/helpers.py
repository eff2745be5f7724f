"""Independent checks for the review core: hard rules and a tiny max-flow oracle."""
from __future__ import annotations

from collections import deque


def assert_hard_rules(result, applications, experts, k, conflicts):
    assert set(result) == set(applications)
    loads = {e: 0 for e in experts}
    for a, chosen in result.items():
        assert len(chosen) == k, (a, chosen)
        assert len(set(chosen)) == k, (a, chosen)
        assert chosen == sorted(chosen)
        for e in chosen:
            assert e in experts
            assert (a, e) not in conflicts, (a, e)
            loads[e] += 1
    for e, n in loads.items():
        assert n <= max(0, experts[e][1]), (e, n, experts[e][1])
    return loads


def max_assignable(applications, experts, k, conflicts) -> int:
    """Edmonds–Karp on source → app (k) → expert (1) → sink (load); returns the maximum flow."""
    apps, exps = sorted(applications), sorted(experts)
    source, sink = ("s",), ("t",)
    cap: dict = {}
    adj: dict = {}

    def arc(u, v, c):
        cap[(u, v)] = cap.get((u, v), 0) + c
        cap.setdefault((v, u), 0)
        adj.setdefault(u, set()).add(v)
        adj.setdefault(v, set()).add(u)

    for a in apps:
        arc(source, ("a", a), k)
        for e in exps:
            if (a, e) not in conflicts and experts[e][1] > 0:
                arc(("a", a), ("e", e), 1)
    for e in exps:
        if experts[e][1] > 0:
            arc(("e", e), sink, experts[e][1])
    flow = 0
    while True:
        parent = {source: None}
        queue = deque([source])
        while queue and sink not in parent:
            u = queue.popleft()
            for v in adj.get(u, ()):
                if v not in parent and cap[(u, v)] > 0:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            return flow
        path, v = [], sink
        while parent[v] is not None:
            path.append((parent[v], v))
            v = parent[v]
        push = min(cap[p] for p in path)
        for u, v in path:
            cap[(u, v)] -= push
            cap[(v, u)] += push
        flow += push
