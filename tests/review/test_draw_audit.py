"""Seed commitment, canonical digests, derived seeds and replay."""
from __future__ import annotations

import json
import re

from incubator.review import draw_audit as audit
from incubator.review.assignment import solve

APPS = {3: {"养老"}, 1: {"助残", "养老"}, 2: set()}
EXPERTS = {20: ({"养老"}, 2), 10: ({"助残"}, 2), 30: (set(), 2), 40: ({"养老", "环保"}, 1)}
CONFLICTS = {(1, 20), (3, 10)}


def test_solver_signature_names_the_algorithm_and_ortools():
    assert re.fullmatch(r"incubator\.review\.assignment mcf-\d+; ortools \d+\.\d+\.\d+", audit.solver_signature())


def test_stored_draws_stay_replayable():
    """A fixed instance and seed give this panel. If a change alters it, stored draws no longer replay:
    bump assignment.ALGORITHM (and keep the old code for replays) before updating these expectations."""
    fields = ["养老", "助残", "儿童"]
    apps = {a: {fields[a % 3]} for a in range(1, 13)}
    experts = {100 + e: ({fields[e % 3]}, 4) for e in range(12)}
    assert solve(apps, experts, 3, {(1, 100), (2, 101)}, "golden") == {
        1: [101, 104, 107], 2: [105, 108, 111], 3: [103, 106, 109], 4: [104, 107, 110], 5: [102, 105, 108],
        6: [100, 103, 106], 7: [101, 104, 110], 8: [102, 108, 111], 9: [100, 106, 109], 10: [101, 107, 110],
        11: [102, 105, 111], 12: [100, 103, 109]}
    assert solve(APPS, EXPERTS, 2, CONFLICTS, "golden") == {1: [10, 30], 2: [10, 20], 3: [20, 40]}


def test_new_seed_is_32_random_bytes_in_hex():
    a, b = audit.new_seed(), audit.new_seed()
    assert re.fullmatch(r"[0-9a-f]{64}", a) and a != b


def test_commitment_is_sha256_of_the_seed_text():
    assert audit.commitment("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_inputs_digest_ignores_order_and_sees_every_change():
    base = audit.inputs_digest(APPS, EXPERTS, 2, CONFLICTS)
    reordered = audit.inputs_digest(dict(sorted(APPS.items())), dict(reversed(list(EXPERTS.items()))), 2,
                                    list(reversed(sorted(CONFLICTS))))
    assert base == reordered
    assert re.fullmatch(r"[0-9a-f]{64}", base)
    changes = [
        ({**APPS, 2: {"环保"}}, EXPERTS, 2, CONFLICTS),
        (APPS, {**EXPERTS, 30: (set(), 3)}, 2, CONFLICTS),
        (APPS, {**EXPERTS, 30: ({"儿童"}, 2)}, 2, CONFLICTS),
        (APPS, EXPERTS, 3, CONFLICTS),
        (APPS, EXPERTS, 2, CONFLICTS | {(2, 30)}),
        ({**APPS, 4: set()}, EXPERTS, 2, CONFLICTS),
    ]
    assert len({audit.inputs_digest(*c) for c in changes} | {base}) == len(changes) + 1


def test_canonical_inputs_round_trip_through_json():
    stored = audit.inputs_json(APPS, EXPERTS, 2, CONFLICTS)
    assert json.loads(stored)["conflicts"] == [[1, 20], [3, 10]]
    assert "养老" in stored  # UTF-8, not \\u escapes
    assert audit.load_inputs(stored) == (
        {1: {"助残", "养老"}, 2: set(), 3: {"养老"}},
        {10: ({"助残"}, 2), 20: ({"养老"}, 2), 30: (set(), 2), 40: ({"养老", "环保"}, 1)},
        2, CONFLICTS)


def test_result_digest_is_canonical():
    assert audit.result_digest({2: [30, 10], 1: [40, 10]}) == audit.result_digest({1: [10, 40], 2: [10, 30]})
    assert audit.result_digest({1: [10, 40], 2: [10, 30]}) != audit.result_digest({1: [10, 30], 2: [10, 40]})


def test_derived_seeds_are_stable_distinct_and_hidden_without_the_seed():
    seed = "a" * 64
    assert audit.derive_seed(seed, "replace:1") == audit.derive_seed(seed, "replace:1")
    assert len({audit.derive_seed(seed, "replace:1"), audit.derive_seed(seed, "replace:2"),
                audit.derive_seed("b" * 64, "replace:1"), seed}) == 4


def draw(seed):
    result = solve(APPS, EXPERTS, 2, CONFLICTS, seed)
    return audit.inputs_json(APPS, EXPERTS, 2, CONFLICTS), audit.result_digest(result)


def test_replay_matches_for_the_same_seed_and_not_for_another():
    seed = audit.new_seed()
    stored, digest = draw(seed)
    assert audit.replay(stored, seed, digest)
    assert audit.replay(json.loads(stored), seed, digest, stored_commitment=audit.commitment(seed),
                        stored_inputs_digest=audit.inputs_digest(APPS, EXPERTS, 2, CONFLICTS))
    others = [s for s in (audit.derive_seed(seed, str(i)) for i in range(20)) if draw(s)[1] != digest]
    assert others, "some other seed must give another panel on this instance"
    assert not audit.replay(stored, others[0], digest)


def test_replay_refuses_tampering():
    seed = "0" * 64
    stored, digest = draw(seed)
    assert not audit.replay(stored, seed, "f" * 64)
    assert not audit.replay(stored, seed, digest, stored_commitment=audit.commitment("1" * 64))
    assert not audit.replay(stored, seed, digest, stored_inputs_digest=audit.inputs_digest(APPS, EXPERTS, 1, CONFLICTS))
    tampered = json.loads(stored)
    tampered["conflicts"].append([2, solve(APPS, EXPERTS, 2, CONFLICTS, seed)[2][0]])  # a pair the draw used
    assert not audit.replay(tampered, seed, digest)
    impossible = json.loads(stored)
    impossible["k"] = 5  # more experts than the pool: the draw is refused, so no match
    assert not audit.replay(impossible, seed, digest)


def test_replacement_draw_with_a_derived_seed_excludes_the_declined_expert():
    seed = "c" * 64
    first = solve(APPS, EXPERTS, 2, CONFLICTS, seed)
    app, declined = 3, first[3][0]
    again = solve(APPS, EXPERTS, 2, CONFLICTS | {(app, declined)}, audit.derive_seed(seed, f"replace:{app}:{declined}"))
    assert declined not in again[app]
