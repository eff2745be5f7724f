"""Conflict-free reviewer assignment (评审专家分配) as a seeded min-cost flow.

`solve(applications, experts, k, conflicts, seed)` is a pure function over plain data (no Flask,
no database) and an interface that outside checks rely on: keep its signature and behaviour.

Hard rules (never relaxed):
  * every application gets exactly `k` distinct experts;
  * no expert gets more applications than its maximum load;
  * no (application, expert) pair in `conflicts` is used.
When no assignment keeps them, `InfeasibleDraw` is raised; its `applications` attribute lists the
applications a maximum flow leaves short (always including every application with fewer than `k`
eligible experts). Nothing is relaxed silently.

Soft goals, as costs of a min-cost flow (OR-Tools `SimpleMinCostFlow`):
  source → application (supply k) → expert (capacity 1 per pair) → sink (convex cost per load)
  * field match: an arc costs `MISMATCH_COST × (share of the application's fields the expert lacks)`,
    so an expert covering every field costs 0 and one covering none costs `MISMATCH_COST`
    (applications without fields are indifferent);
  * randomness: every arc gets a random cost in [0, RANDOM_SPAN) derived from a hash of
    (seed, application id, expert id) — BLAKE2b keys per id mixed by a splitmix64 finaliser —
    so the draw depends on the seed and the data only, never on dict or set iteration order;
  * load balance: an expert's j-th assignment costs `(j − 1) × LOAD_STEP` (marginal costs grow,
    so the total cost is convex in the load and the flow spreads work evenly).
  With RANDOM_SPAN = LOAD_STEP, chance never outweighs more than about one unit of imbalance;
  with MISMATCH_COST = 10 × LOAD_STEP a matching expert is preferred until it carries about ten
  more reviews than the others.

Scale: candidate arcs are pruned per application to the `PRUNE_BEST` cheapest eligible experts plus
`PRUNE_RANDOM` more picked by the random cost alone (so a popular field does not lock every candidate
onto the same few experts). Applications with fewer eligible experts keep them all. If the pruned graph
cannot carry the full flow, a plain maximum flow over every eligible pair decides: if it carries
everything, the min-cost flow is solved on every eligible pair; otherwise the draw is refused with the
applications that maximum flow leaves short. 10,000 applications × 500 experts × k = 3 takes about a
second of CPU (benchmarks/assignment.py).
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from ortools.graph.python import max_flow as _ortools_max_flow
from ortools.graph.python import min_cost_flow as _min_cost_flow

# Changing any constant below, the random costs or the graph changes the draws: bump ALGORITHM so that
# stored draws record which version made them (draw_audit.solver_signature) and old ones can be replayed
# with the version that made them.
ALGORITHM = "mcf-1"
RANDOM_BITS = 8
RANDOM_SPAN = 1 << RANDOM_BITS  # random cost per arc in [0, 256)
LOAD_STEP = RANDOM_SPAN  # marginal cost of each further assignment on one expert
MISMATCH_COST = 10 * LOAD_STEP  # an expert with none of the application's fields
PRUNE_BEST = 24  # candidates per application by total arc cost ...
PRUNE_RANDOM = 8  # ... plus this many by random cost alone

_UNUSABLE = np.int64(1) << 62  # marks ineligible pairs in cost matrices


class InfeasibleDraw(Exception):
    """No assignment keeps the hard rules.

    applications: ids left short by a maximum flow (sorted), always including every application with
        fewer than k eligible experts (non-conflicted, load > 0). Where several applications compete for
        too few experts, which of them the maximum flow leaves short is arbitrary but reproducible (the
        graph is built in id order); all others were fully served by that flow, so without the listed
        applications the draw is feasible.
    missing: application id → how many experts it lacks in that maximum flow.
    competing: ids of every application competing for the exhausted experts (the source side of the
        minimum cut): serving any of them needs capacity that is not there. A superset of `applications`.
    experts: ids of the experts whose load is exhausted by that competition (sorted).
    shortfall: total number of missing assignments.
    """

    def __init__(self, applications: Iterable[int], *, missing: Mapping[int, int] | None = None,
                 competing: Iterable[int] = (), experts: Iterable[int] = ()):
        self.applications = sorted(applications)
        self.missing = dict(missing or {})
        self.competing = sorted(set(competing) | set(self.applications))
        self.experts = sorted(experts)
        self.shortfall = sum(self.missing.values())
        shown = "、".join(str(a) for a in self.applications[:20])
        more = f"等 {len(self.applications)} 份" if len(self.applications) > 20 else ""
        super().__init__(f"以下申请无法分配到足够的无回避评审专家，抽取已停止：{shown}{more}")


def _as_bytes(seed: Any) -> bytes:
    if isinstance(seed, bytes):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (str, int)):
        raise TypeError("seed must be str, int or bytes")
    return str(seed).encode("utf-8")


def _id_keys(seed: bytes, tag: bytes, ids: list[int]) -> np.ndarray:
    key = _seed_key(seed)
    keys = np.empty(len(ids), dtype=np.uint64)
    for i, ident in enumerate(ids):
        digest = hashlib.blake2b(b"%s|%d" % (tag, ident), digest_size=8, key=key).digest()
        keys[i] = int.from_bytes(digest, "little")
    return keys


_SEED_KEYS: dict[bytes, bytes] = {}


def _seed_key(seed: bytes) -> bytes:
    key = _SEED_KEYS.get(seed)
    if key is None:
        key = hashlib.blake2b(seed, digest_size=32, person=b"review-draw").digest()
        if len(_SEED_KEYS) > 64:
            _SEED_KEYS.clear()
        _SEED_KEYS[seed] = key
    return key


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, element-wise on uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = z ^ (z >> np.uint64(30))
        z = z * np.uint64(0xBF58476D1CE4E5B9)
        z = z ^ (z >> np.uint64(27))
        z = z * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z


def random_costs(seed: Any, app_ids: list[int], expert_ids: list[int]) -> np.ndarray:
    """Matrix (apps × experts) of random arc costs in [0, RANDOM_SPAN), from (seed, app id, expert id)."""
    s = _as_bytes(seed)
    a = _id_keys(s, b"a", app_ids)
    e = _mix(_id_keys(s, b"e", expert_ids))
    z = _mix(a[:, None] ^ e[None, :])
    return (z >> np.uint64(64 - RANDOM_BITS)).astype(np.int64)


def _field_costs(app_fields: list[frozenset], expert_fields: list[frozenset]) -> np.ndarray:
    """Matrix (apps × experts): MISMATCH_COST × share of the application's fields the expert lacks."""
    n, m = len(app_fields), len(expert_fields)
    groups: dict[frozenset, int] = {}
    row_group = np.array([groups.setdefault(f, len(groups)) for f in app_fields], dtype=np.int64)
    unique = list(groups)  # distinct field sets of applications: few, whatever the number of applications
    per_group = np.zeros((len(unique), m), dtype=np.int64)
    for g, fields in enumerate(unique):
        if fields:
            lacking = np.array([len(fields - ef) for ef in expert_fields], dtype=np.int64)
            per_group[g] = MISMATCH_COST * lacking // len(fields)
    return per_group[row_group] if n else np.zeros((0, m), dtype=np.int64)


class _Instance:
    """Sorted ids, eligibility and arc costs as numpy arrays."""

    def __init__(self, applications, experts, k, conflicts, seed):
        self.k = k
        self.app_ids = sorted(applications)
        self.expert_ids = sorted(experts)
        n, m = len(self.app_ids), len(self.expert_ids)
        self.n, self.m = n, m
        loads = []
        for e in self.expert_ids:
            _fields, load = experts[e]
            if isinstance(load, bool) or int(load) != load:
                raise TypeError(f"expert {e}: maximum load must be an integer")
            loads.append(max(0, int(load)))
        self.loads = np.array(loads, dtype=np.int64)
        eligible = np.ones((n, m), dtype=bool)
        eligible[:, self.loads == 0] = False
        a_index = {a: i for i, a in enumerate(self.app_ids)}
        e_index = {e: i for i, e in enumerate(self.expert_ids)}
        rows, cols = [], []
        for a, e in conflicts:
            i, j = a_index.get(a), e_index.get(e)
            if i is not None and j is not None:
                rows.append(i)
                cols.append(j)
        if rows:
            eligible[np.array(rows), np.array(cols)] = False
        self.eligible = eligible
        self.random = random_costs(seed, self.app_ids, self.expert_ids)
        self.cost = _field_costs([frozenset(applications[a]) for a in self.app_ids],
                                 [frozenset(experts[e][0]) for e in self.expert_ids]) + self.random

    def full_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = np.nonzero(self.eligible)
        return rows, cols

    def pruned_pairs(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Best PRUNE_BEST by cost plus PRUNE_RANDOM by random cost per application; None if no pruning."""
        keep = PRUNE_BEST + PRUNE_RANDOM
        if self.m <= keep:
            return None
        cost = np.where(self.eligible, self.cost, _UNUSABLE)
        cols = np.argpartition(cost, PRUNE_BEST - 1, axis=1)[:, :PRUNE_BEST]
        del cost
        if PRUNE_RANDOM:
            rnd = np.where(self.eligible, self.random, _UNUSABLE)
            np.put_along_axis(rnd, cols, _UNUSABLE, axis=1)
            extra = np.argpartition(rnd, PRUNE_RANDOM - 1, axis=1)[:, :PRUNE_RANDOM]
            del rnd
            cols = np.concatenate([cols, extra], axis=1)
        # a set, not a list: when an application has fewer eligible experts than candidates, the random
        # pick returns columns the cost pick already holds; they must not become parallel arcs
        chosen = np.zeros_like(self.eligible)
        np.put_along_axis(chosen, cols, True, axis=1)
        chosen &= self.eligible
        return np.nonzero(chosen)


def _load_arcs(inst: _Instance, indegree: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Expert → sink arcs with convex cost: unit arcs at 0, 1, 2 … × LOAD_STEP, then one arc for the rest."""
    cap = np.minimum(inst.loads, indegree)
    active = int(np.count_nonzero(cap))
    if not active:
        empty = np.zeros(0, dtype=np.int64)
        return empty.astype(np.int32), empty.astype(np.int32), empty, empty
    steps = 2 * math.ceil(inst.n * inst.k / active) + 4
    sink = inst.n + inst.m
    tails, caps, costs = [], [], []
    for j in np.nonzero(cap)[0]:
        c = int(cap[j])
        units = min(c, steps)
        tails.extend([inst.n + j] * units)
        caps.extend([1] * units)
        costs.extend(range(0, units * LOAD_STEP, LOAD_STEP))
        if c > units:
            tails.append(inst.n + j)
            caps.append(c - units)
            costs.append(units * LOAD_STEP)
    t = np.array(tails, dtype=np.int32)
    return t, np.full(len(t), sink, dtype=np.int32), np.array(caps, dtype=np.int64), np.array(costs, dtype=np.int64)


def _flow(inst: _Instance, rows: np.ndarray, cols: np.ndarray):
    """Min-cost flow of n × k units over the given pairs; (flow, chosen rows, chosen cols), flow 0 if none."""
    smcf = _min_cost_flow.SimpleMinCostFlow()
    n_pairs = len(rows)
    if n_pairs:
        smcf.add_arcs_with_capacity_and_unit_cost(
            rows.astype(np.int32), (cols + inst.n).astype(np.int32),
            np.ones(n_pairs, dtype=np.int64), inst.cost[rows, cols].astype(np.int64))
    indegree = np.bincount(cols, minlength=inst.m)
    lt, lh, lc, lu = _load_arcs(inst, indegree)
    if len(lt):
        smcf.add_arcs_with_capacity_and_unit_cost(lt, lh, lc, lu)
    sink = inst.n + inst.m
    nodes = np.arange(inst.n + 1, dtype=np.int32)
    nodes[-1] = sink
    supplies = np.full(inst.n + 1, inst.k, dtype=np.int64)
    supplies[-1] = -inst.n * inst.k
    smcf.set_nodes_supplies(nodes, supplies)
    status = smcf.solve()
    if status == smcf.INFEASIBLE:
        return 0, rows[:0], cols[:0]
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    if not n_pairs:
        return 0, rows, cols
    flows = smcf.flows(np.arange(n_pairs, dtype=np.int32))
    chosen = flows > 0
    return int(smcf.maximum_flow()), rows[chosen], cols[chosen]


def _analyse_max_flow(inst: _Instance, rows: np.ndarray, cols: np.ndarray):
    """Plain maximum flow over the given pairs (no costs: fast).

    Returns (total flow, experts per application, applications and experts on the source side of a
    minimum cut). The source side — everything the source still reaches in the residual graph — is the
    same for every maximum flow: the applications competing for exhausted experts, and those experts.
    """
    smf = _ortools_max_flow.SimpleMaxFlow()
    source, sink = inst.n + inst.m, inst.n + inst.m + 1
    apps = np.arange(inst.n, dtype=np.int32)
    smf.add_arcs_with_capacity(np.full(inst.n, source, dtype=np.int32), apps, np.full(inst.n, inst.k, dtype=np.int64))
    if len(rows):
        smf.add_arcs_with_capacity(rows.astype(np.int32), (cols + inst.n).astype(np.int32),
                                   np.ones(len(rows), dtype=np.int64))
    experts = np.arange(inst.m, dtype=np.int32)
    smf.add_arcs_with_capacity(experts + inst.n, np.full(inst.m, sink, dtype=np.int32), inst.loads)
    if smf.solve(source, sink) != smf.OPTIMAL:
        raise RuntimeError("max flow failed")
    got = np.asarray(smf.flows(apps), dtype=np.int64)  # the first n arcs: source → application
    side = np.array(smf.get_source_side_min_cut(), dtype=np.int64)
    app_side = side[side < inst.n]
    exp_side = side[(side >= inst.n) & (side < inst.n + inst.m)] - inst.n
    return (int(smf.optimal_flow()), got, [inst.app_ids[i] for i in sorted(app_side)],
            [inst.expert_ids[j] for j in sorted(exp_side)])


def solve(applications: Mapping[int, Iterable[str]], experts: Mapping[int, tuple[Iterable[str], int]], k: int,
          conflicts: Iterable[tuple[int, int]], seed: Any) -> dict[int, list[int]]:
    """Assign exactly `k` distinct experts to every application (see the module docstring).

    applications: application id → set of field names.
    experts: expert id → (set of field names, maximum load); a load ≤ 0 makes the expert unavailable.
    conflicts: (application id, expert id) pairs that must not be used (unknown ids are ignored).
    seed: str, int or bytes. The same inputs and seed give the same result, whatever the iteration order.
    Returns application id → sorted list of expert ids, for every application.
    Raises InfeasibleDraw when no assignment keeps the hard rules; ValueError for a negative k.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError("k must be a non-negative integer")
    if not applications:
        return {}
    if k == 0:
        return {a: [] for a in sorted(applications)}
    inst = _Instance(applications, experts, k, conflicts, seed)
    need = inst.n * k
    eligible_count = inst.eligible.sum(axis=1)
    locally_short = bool((eligible_count < k).any()) or int(inst.loads.sum()) < need
    if not locally_short:
        pruned = inst.pruned_pairs()
        if pruned is not None:
            total, rows, cols = _flow(inst, *pruned)
            if total == need:
                return _result(inst, rows, cols)
    rows_all, cols_all = inst.full_pairs()
    total, got, competing, exhausted = _analyse_max_flow(inst, rows_all, cols_all)
    if total == need:  # feasible, but not within the pruned candidates: use every eligible pair
        total, rows, cols = _flow(inst, rows_all, cols_all)
        if total == need:
            return _result(inst, rows, cols)
        raise RuntimeError("min-cost flow found less than the maximum flow")
    missing = {inst.app_ids[i]: int(k - got[i]) for i in np.nonzero(got < k)[0]}
    raise InfeasibleDraw(missing, missing=missing, competing=competing, experts=exhausted)


def _result(inst: _Instance, rows: np.ndarray, cols: np.ndarray) -> dict[int, list[int]]:
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    app_ids, expert_ids = inst.app_ids, inst.expert_ids
    result: dict[int, list[int]] = {a: [] for a in app_ids}
    for i, j in zip(rows.tolist(), cols.tolist()):
        result[app_ids[i]].append(expert_ids[j])
    # the hard rules, checked once more before anything leaves
    if not inst.eligible[rows, cols].all() or (np.bincount(cols, minlength=inst.m) > inst.loads).any():
        raise RuntimeError("the flow broke a conflict or a load")
    for a, chosen in result.items():
        if len(chosen) != inst.k or len(set(chosen)) != inst.k:
            raise RuntimeError(f"application {a} got {chosen}")
    return result
