"""The auditable panel draw: commit to a seed, draw, reveal, replay.

Protocol (issue 4):
  1. `seed = new_seed()`; publish `commitment(seed)` (SHA-256 of the seed text) BEFORE the draw.
  2. Run `assignment.solve(applications, experts, k, conflicts, seed)`; store `canonical_inputs(...)`
     (or its JSON), `inputs_digest(...)`, `result_digest(result)` and `solver_signature()`; then reveal
     the seed.
  3. Anyone holding the stored inputs and the seed can `replay(...)`: it checks the seed against the
     commitment (when given), the inputs against their digest (when given), recomputes the draw and
     compares its digest with the stored one.

Replacement draws (an expert declares a conflict) use `derive_seed(seed, label)` = HMAC-SHA256 keyed
by the round's seed over a label naming the replacement (e.g. "replace:3" for the third one). Note that
once the round's seed is revealed, derived seeds are predictable; when that matters, commit to a fresh
seed for the replacement the same way as for the round.

Canonical JSON: `{"version": 1, "k": k, "applications": [[id, [fields…]], …], "experts":
[[id, [fields…], load], …], "conflicts": [[app, expert], …]}`, every list sorted, keys sorted,
separators "," and ":", UTF-8 without escapes. The result: `[[app, [experts…]], …]` sorted.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from incubator.review import assignment
from incubator.review.assignment import InfeasibleDraw, solve

FORMAT_VERSION = 1


def solver_signature() -> str:
    """Which code made a draw, to store beside it: a replay is only meaningful with the same one."""
    from importlib.metadata import version

    return f"incubator.review.assignment {assignment.ALGORITHM}; ortools {version('ortools')}"


def new_seed() -> str:
    """A fresh random seed: 32 bytes from `secrets`, as 64 hex characters."""
    return secrets.token_hex(32)


def commitment(seed: str) -> str:
    """SHA-256 (hex) of the seed's UTF-8 text; published before the draw."""
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def derive_seed(seed: str, label: str) -> str:
    """Seed for a follow-up draw (replacement): HMAC-SHA256(key=seed, msg=label), hex."""
    if not label:
        raise ValueError("a derived seed needs a label")
    return hmac.new(seed.encode("utf-8"), label.encode("utf-8"), hashlib.sha256).hexdigest()


def _dumps(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_inputs(applications: Mapping[int, Iterable[str]], experts: Mapping[int, tuple[Iterable[str], int]],
                     k: int, conflicts: Iterable[tuple[int, int]]) -> dict:
    """The draw's inputs as a JSON-ready dict in canonical (sorted) form; store this to replay."""
    return {
        "version": FORMAT_VERSION,
        "k": int(k),
        "applications": [[int(a), sorted(applications[a])] for a in sorted(applications)],
        "experts": [[int(e), sorted(experts[e][0]), int(experts[e][1])] for e in sorted(experts)],
        "conflicts": sorted([int(a), int(e)] for a, e in set(conflicts)),
    }


def inputs_json(applications, experts, k, conflicts) -> str:
    return _dumps(canonical_inputs(applications, experts, k, conflicts)).decode("utf-8")


def inputs_digest(applications, experts, k, conflicts) -> str:
    """SHA-256 (hex) of the canonical JSON of the inputs."""
    return hashlib.sha256(_dumps(canonical_inputs(applications, experts, k, conflicts))).hexdigest()


def load_inputs(stored: Mapping | str | bytes) -> tuple[dict[int, set[str]], dict[int, tuple[set[str], int]], int,
                                                         set[tuple[int, int]]]:
    """Stored canonical inputs (dict or JSON text) → (applications, experts, k, conflicts) for `solve`."""
    data = json.loads(stored) if isinstance(stored, (str, bytes)) else stored
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"unknown draw input format {data.get('version')!r}")
    applications = {int(a): set(fields) for a, fields in data["applications"]}
    experts = {int(e): (set(fields), int(load)) for e, fields, load in data["experts"]}
    conflicts = {(int(a), int(e)) for a, e in data["conflicts"]}
    return applications, experts, int(data["k"]), conflicts


def canonical_result(assignment: Mapping[int, Iterable[int]]) -> list:
    return [[int(a), sorted(int(e) for e in assignment[a])] for a in sorted(assignment)]


def result_digest(assignment: Mapping[int, Iterable[int]]) -> str:
    """SHA-256 (hex) of the canonical JSON of the assignment."""
    return hashlib.sha256(_dumps(canonical_result(assignment))).hexdigest()


def replay(stored_inputs: Mapping | str | bytes, seed: str, stored_result_digest: str, *,
           stored_commitment: str | None = None, stored_inputs_digest: str | None = None) -> bool:
    """True when the draw recomputed from the stored inputs and seed has the stored result digest.

    Also False when the seed does not match `stored_commitment`, the inputs do not match
    `stored_inputs_digest` (both checked only when given), or the draw is now infeasible.
    """
    if stored_commitment is not None and not hmac.compare_digest(commitment(seed), stored_commitment):
        return False
    applications, experts, k, conflicts = load_inputs(stored_inputs)
    if stored_inputs_digest is not None and not hmac.compare_digest(
            inputs_digest(applications, experts, k, conflicts), stored_inputs_digest):
        return False
    try:
        result = solve(applications, experts, k, conflicts, seed)
    except InfeasibleDraw:
        return False
    return hmac.compare_digest(result_digest(result), stored_result_digest)
