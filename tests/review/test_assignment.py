"""The panel draw: hard rules on random instances, refusals with the right ids, seeds, order, preferences."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from incubator.review import assignment
from incubator.review.assignment import InfeasibleDraw, solve
from tests.review.helpers import assert_hard_rules, max_assignable

FIELDS = ["养老", "助残", "儿童", "社区治理", "环保"]
SETTINGS = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _fields(mask: int) -> set[str]:
    return {f for i, f in enumerate(FIELDS) if mask >> i & 1}


IDS = st.integers(1, 10**6)
MASKS = st.integers(0, 2 ** len(FIELDS) - 1)


@st.composite
def instances(draw, max_apps=12, max_experts=40, max_load=6):
    """Random instances; up to 40 experts so that candidate pruning (above 32) is exercised too."""
    n = draw(st.integers(1, max_apps))
    m = draw(st.integers(1, max_experts))
    app_ids = draw(st.lists(IDS, min_size=n, max_size=n, unique=True))
    exp_ids = draw(st.lists(IDS, min_size=m, max_size=m, unique=True))
    k = draw(st.integers(1, 4))
    app_masks = draw(st.lists(MASKS, min_size=n, max_size=n))
    exp_masks = draw(st.lists(MASKS, min_size=m, max_size=m))
    loads = draw(st.lists(st.integers(0, max_load), min_size=m, max_size=m))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, m - 1)), max_size=n * m // 3))
    applications = {a: _fields(mask) for a, mask in zip(app_ids, app_masks)}
    experts = {e: (_fields(mask), load) for e, mask, load in zip(exp_ids, exp_masks, loads)}
    conflicts = {(app_ids[i], exp_ids[j]) for i, j in pairs}
    seed = draw(st.text(max_size=8))
    return applications, experts, k, conflicts, seed


def eligible(applications, experts, conflicts):
    return {a: [e for e in experts if experts[e][1] > 0 and (a, e) not in conflicts] for a in applications}


@SETTINGS
@given(instances())
def test_every_draw_keeps_the_hard_rules_or_refuses_with_the_short_applications(instance):
    applications, experts, k, conflicts, seed = instance
    need = len(applications) * k
    best = max_assignable(applications, experts, k, conflicts)
    if best == need:
        result = solve(applications, experts, k, conflicts, seed)
        assert_hard_rules(result, applications, experts, k, conflicts)
        return
    with pytest.raises(InfeasibleDraw) as info:
        solve(applications, experts, k, conflicts, seed)
    err = info.value
    assert err.shortfall == need - best  # exactly what a maximum flow cannot place
    assert err.applications == sorted(err.missing) and err.applications
    assert all(1 <= v <= k for v in err.missing.values())
    locally_short = {a for a, es in eligible(applications, experts, conflicts).items() if len(es) < k}
    assert locally_short <= set(err.applications)
    assert set(err.applications) <= set(err.competing) <= set(applications)
    # the others were fully served by that maximum flow: on their own they can be drawn
    rest = {a: f for a, f in applications.items() if a not in err.missing}
    if rest:
        assert_hard_rules(solve(rest, experts, k, conflicts, seed), rest, experts, k, conflicts)


def outcome(applications, experts, k, conflicts, seed):
    try:
        return solve(applications, experts, k, conflicts, seed)
    except InfeasibleDraw as err:
        return ("refused", err.applications, err.missing, err.competing, err.experts)


@SETTINGS
@given(instances(max_load=12), st.randoms(use_true_random=False))
def test_same_inputs_and_seed_give_the_same_draw_whatever_the_order(instance, rnd):
    applications, experts, k, conflicts, seed = instance
    first = outcome(applications, experts, k, conflicts, seed)
    app_items = list(applications.items())
    exp_items = list(experts.items())
    rnd.shuffle(app_items)
    rnd.shuffle(exp_items)
    conflict_list = list(conflicts)
    rnd.shuffle(conflict_list)
    shuffled = outcome({a: set(sorted(f, reverse=True)) for a, f in app_items},
                       {e: (set(f), load) for e, (f, load) in exp_items}, k, conflict_list, seed)
    assert shuffled == first
    if isinstance(first, dict):
        assert list(first) == sorted(applications)


def open_instance(n=30, m=20, load=10):
    applications = {a: set() for a in range(1, n + 1)}
    experts = {100 + e: (set(), load) for e in range(m)}
    return applications, experts


def test_another_seed_gives_another_draw():
    applications, experts = open_instance()
    draws = {seed: solve(applications, experts, 3, set(), seed) for seed in ("a", "b", "c", 1, 2)}
    assert draws["a"] == solve(applications, experts, 3, set(), "a")
    assert len({repr(sorted(d.items())) for d in draws.values()}) == len(draws)
    for d in draws.values():
        assert_hard_rules(d, applications, experts, 3, set())


def test_loads_are_balanced_within_one():
    applications, experts = open_instance(n=25, m=10, load=20)  # 75 reviews over 10 experts: 7 or 8 each
    for seed in ("x", "y", "z"):
        loads = assert_hard_rules(solve(applications, experts, 3, set(), seed), applications, experts, 3, set())
        assert sorted(set(loads.values())) == [7, 8]


def test_matching_fields_are_preferred_over_a_random_draw():
    rnd = random.Random(4)
    applications = {a: {FIELDS[a % 4]} for a in range(1, 61)}
    experts = {100 + e: ({FIELDS[e % 4]}, 30) for e in range(24)}  # 6 experts per field, ample capacity
    conflicts = {(a, rnd.choice(list(experts))) for a in applications}
    result = solve(applications, experts, 3, conflicts, "fields")
    assert_hard_rules(result, applications, experts, 3, conflicts)
    matched = sum(bool(applications[a] & experts[e][0]) for a, es in result.items() for e in es) / 180
    # a uniform draw among each application's eligible experts matches this share on average
    elig = eligible(applications, experts, conflicts)
    baseline = sum(sum(bool(applications[a] & experts[e][0]) for e in es) / len(es) for a, es in elig.items()) / 60
    assert baseline < 0.3
    assert matched == 1.0


def test_partial_field_overlap_ranks_between_full_and_none():
    applications = {1: {"养老", "助残"}}
    experts = {10: ({"养老", "助残"}, 1), 11: ({"养老"}, 1), 12: ({"环保"}, 1)}
    assert solve(applications, experts, 1, set(), "s") == {1: [10]}
    assert solve(applications, experts, 2, set(), "s") == {1: [10, 11]}


def test_an_application_with_too_few_eligible_experts_is_named():
    applications = {a: {"养老"} for a in range(1, 9)}
    experts = {e: ({"养老"}, 10) for e in range(10, 16)}
    experts[16] = ({"养老"}, 0)  # unavailable this round
    conflicts = {(7, e) for e in range(10, 14)}  # 7 keeps 14, 15 (and 16, who has no load)
    with pytest.raises(InfeasibleDraw) as info:
        solve(applications, experts, 3, conflicts, "seed")
    assert info.value.applications == [7]
    assert info.value.missing == {7: 1}
    assert "7" in str(info.value) and "无法分配" in str(info.value)


def test_competition_for_too_few_experts_is_refused_and_located():
    # applications 1–3 may only use experts 10 and 11 (load 2 each): 6 reviews needed, 4 possible;
    # application 4 is served by 12 and 13.
    applications = {a: set() for a in (1, 2, 3, 4)}
    experts = {10: (set(), 2), 11: (set(), 2), 12: (set(), 5), 13: (set(), 5)}
    conflicts = {(a, e) for a in (1, 2, 3) for e in (12, 13)} | {(4, 10), (4, 11)}
    with pytest.raises(InfeasibleDraw) as info:
        solve(applications, experts, 2, conflicts, "seed")
    err = info.value
    assert err.shortfall == 2
    assert set(err.applications) <= {1, 2, 3} and err.applications
    assert err.competing == [1, 2, 3]
    assert err.experts == [10, 11]
    again = solve({a: set() for a in applications if a not in err.applications}, experts, 2, conflicts, "seed")
    assert again[4] == [12, 13]


def test_too_little_capacity_overall_names_everyone_competing():
    applications = {a: set() for a in range(1, 6)}
    experts = {e: (set(), 3) for e in (10, 11, 12)}  # 9 places for 10 reviews
    with pytest.raises(InfeasibleDraw) as info:
        solve(applications, experts, 2, set(), "seed")
    assert info.value.shortfall == 1
    assert len(info.value.applications) == 1
    assert info.value.competing == [1, 2, 3, 4, 5]


def test_when_pruning_loses_feasibility_the_full_graph_is_used(monkeypatch):
    monkeypatch.setattr(assignment, "PRUNE_BEST", 2)
    monkeypatch.setattr(assignment, "PRUNE_RANDOM", 0)
    applications = {1: {"养老"}, 2: {"养老"}, 3: {"养老"}}
    experts = {10: ({"养老"}, 1), 11: ({"养老"}, 1), 12: (set(), 1)}  # the pruned candidates are 10 and 11 only
    result = solve(applications, experts, 1, set(), "seed")
    assert_hard_rules(result, applications, experts, 1, set())
    assert sorted(e for es in result.values() for e in es) == [10, 11, 12]


def test_a_larger_pruned_instance_keeps_the_hard_rules():
    rnd = random.Random(7)
    applications = {a: set(rnd.sample(FIELDS, rnd.randint(1, 2))) for a in range(1, 401)}
    experts = {1000 + e: (set(rnd.sample(FIELDS, rnd.randint(1, 3))), rnd.randint(15, 30)) for e in range(80)}
    conflicts = {(rnd.randint(1, 400), 1000 + rnd.randrange(80)) for _ in range(800)}
    result = solve(applications, experts, 3, conflicts, "big")
    assert_hard_rules(result, applications, experts, 3, conflicts)
    assert result == solve(dict(reversed(applications.items())), experts, 3, list(conflicts), "big")


def test_few_eligible_experts_among_many_never_give_one_expert_twice():
    # 40 experts (candidates are pruned above 32), application 1 may only use 3 of them, all others any;
    # the candidate picks overlap for application 1 and must not turn into parallel arcs
    applications = {a: set() for a in range(1, 21)}
    experts = {e: (set(), 10) for e in range(100, 140)}
    conflicts = {(1, e) for e in range(103, 140)}
    for seed in range(5):
        result = solve(applications, experts, 3, conflicts, seed)
        assert_hard_rules(result, applications, experts, 3, conflicts)
        assert result[1] == [100, 101, 102]


def test_edges():
    assert solve({}, {1: (set(), 3)}, 3, set(), "s") == {}
    assert solve({2: set(), 1: set()}, {}, 0, set(), "s") == {1: [], 2: []}
    assert solve({1: set()}, {5: (set(), 1)}, 1, {(9, 9), (1, 77)}, b"s") == {1: [5]}  # unknown ids ignored
    with pytest.raises(ValueError):
        solve({1: set()}, {5: (set(), 1)}, -1, set(), "s")
    with pytest.raises(InfeasibleDraw) as info:
        solve({1: set(), 2: set()}, {}, 1, set(), "s")
    assert info.value.applications == [1, 2]
    with pytest.raises(TypeError):
        solve({1: set()}, {5: (set(), 1)}, 1, set(), 1.5)
