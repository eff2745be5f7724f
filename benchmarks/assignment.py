"""Panel draw benchmark: 10,000 applications × 500 experts × 3 reviews, with conflicts and fields.

    .venv/bin/python benchmarks/assignment.py [--apps N] [--experts M] [--k K] [--no-baseline]

Builds a seeded instance (20 fields with skewed popularity, loads 60–100, employers, declared
relations and e-mail domains that produce a few thousand conflicts), then reports:
  * conflict detection time (incubator.review.conflicts.detect), budget 1 s;
  * draw time (incubator.review.assignment.solve, pruned candidates), budget 10 s;
  * total time (detection + draw + digests) and peak memory (ru_maxrss), budget 1.5 GB;
  * replay: the draw recomputed from the stored canonical JSON inputs and the seed matches its digest;
  * baseline in the same run: the same min-cost flow on every eligible pair (no pruning), with the ratio;
  * refusal: the same instance with every load capped at 59 (too little capacity) is refused, timed;
  * quality: share of assignments whose expert matches a field of the application, load spread.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from incubator.review import assignment, conflicts, draw_audit  # noqa: E402

FIELDS = [f"领域{i:02d}" for i in range(20)]
DOMAINS_PUBLIC = ["qq.com", "163.com", "126.com", "gmail.com", "foxmail.com", "sina.com"]
DRAW_DAY = date(2026, 6, 1)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def build(n_apps: int, n_experts: int, seed: int = 20260601):
    rnd = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(FIELDS))]  # Zipf-like popularity
    n_orgs = max(1, n_apps * 3 // 5)
    orgs = [(10_000 + i, f"5144{i:014d}", f"org{i}.org.cn") for i in range(n_orgs)]
    apps, applicants = {}, []
    for a in range(1, n_apps + 1):
        org_id, uscc, domain = orgs[rnd.randrange(n_orgs)]
        fields = set(rnd.choices(FIELDS, weights, k=rnd.choice((1, 1, 2))))
        apps[a] = fields
        domains = [domain] if rnd.random() < 0.6 else []
        domains.append(rnd.choice(DOMAINS_PUBLIC))
        applicants.append(conflicts.Applicant(id=a, org_id=org_id, uscc=uscc if rnd.random() < 0.9 else None,
                                              email_domains=domains))
    experts, expert_rows = {}, []
    kinds = conflicts.RELATION_KINDS
    for e in range(1, n_experts + 1):
        fields = set(rnd.choices(FIELDS, weights, k=rnd.choice((1, 2, 3))))
        experts[e] = (fields, rnd.randint(60, 100))
        emp = orgs[rnd.randrange(n_orgs)] if rnd.random() < 0.3 else None
        relations = []
        for _ in range(rnd.randint(0, 6)):
            o = orgs[rnd.randrange(n_orgs)]
            end = None if rnd.random() < 0.5 else date(rnd.randint(2018, 2026), rnd.randint(1, 12), 1)
            relations.append(conflicts.Relation(o[0] if rnd.random() < 0.5 else o[1], rnd.choice(kinds), None, end))
        domain = emp[2] if emp and rnd.random() < 0.5 else rnd.choice(DOMAINS_PUBLIC + ["pku.edu.cn", "gov.cn"])
        expert_rows.append(conflicts.Expert(id=e, employer_org_id=emp[0] if emp else None,
                                            employer_uscc=emp[1] if emp else None, email_domain=domain,
                                            relations=tuple(relations)))
    return apps, experts, applicants, expert_rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=10_000)
    ap.add_argument("--experts", type=int, default=500)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args()

    apps, experts, applicants, expert_rows = build(args.apps, args.experts)
    print(f"instance: {len(apps):,} applications × {len(experts):,} experts × k={args.k}, "
          f"capacity {sum(load for _f, load in experts.values()):,} for {len(apps) * args.k:,} reviews")
    print(f"memory after building the instance: {peak_mb():.0f} MB")

    t0 = time.perf_counter()
    found = conflicts.detect(applicants, expert_rows, on=DRAW_DAY)
    t_conf = time.perf_counter() - t0
    pairs = set(found)
    print(f"conflict detection: {t_conf:.3f} s, {len(pairs):,} conflicted pairs (budget 1 s)")

    seed = draw_audit.new_seed()
    t1, c1 = time.perf_counter(), time.process_time()
    result = assignment.solve(apps, experts, args.k, pairs, seed)
    t_solve, c_solve = time.perf_counter() - t1, time.process_time() - c1
    digest_in = draw_audit.inputs_digest(apps, experts, args.k, pairs)
    digest_out = draw_audit.result_digest(result)
    t_total = time.perf_counter() - t0
    mem = peak_mb()
    print(f"draw (solve): {t_solve:.2f} s wall, {c_solve:.2f} s CPU (budget 10 s)")
    print(f"total (detection + draw + digests): {t_total:.2f} s; "
          f"inputs {digest_in[:12]}…, result {digest_out[:12]}…")
    print(f"peak memory (ru_maxrss): {mem:.0f} MB (budget 1,536 MB)")

    loads = {e: 0 for e in experts}
    matched = 0
    for a, chosen in result.items():
        assert len(set(chosen)) == args.k
        for e in chosen:
            assert (a, e) not in pairs
            loads[e] += 1
            matched += bool(apps[a] & experts[e][0])
    assert all(loads[e] <= experts[e][1] for e in experts)
    total = len(apps) * args.k
    used = [v for v in loads.values()]
    print(f"hard rules hold; field match {matched / total:.1%} of reviews; load min/max {min(used)}/{max(used)}")

    t3 = time.perf_counter()
    stored = draw_audit.inputs_json(apps, experts, args.k, pairs)
    assert draw_audit.replay(stored, seed, digest_out, stored_commitment=draw_audit.commitment(seed),
                             stored_inputs_digest=digest_in)
    print(f"replay from the stored JSON inputs ({len(stored) / 1e6:.1f} MB) matches: {time.perf_counter() - t3:.2f} s")

    if not args.no_baseline:
        t2, c2 = time.perf_counter(), time.process_time()
        inst = assignment._Instance(apps, experts, args.k, pairs, seed)
        placed, rows, cols = assignment._flow(inst, *inst.full_pairs())  # every eligible pair, no pruning
        t_full, c_full = time.perf_counter() - t2, time.process_time() - c2
        assert placed == total
        full = assignment._result(inst, rows, cols)
        full_matched = sum(bool(apps[a] & experts[e][0]) for a, chosen in full.items() for e in chosen)
        print(f"baseline, min-cost flow on every eligible pair (no pruning): {t_full:.2f} s wall, "
              f"{c_full:.2f} s CPU, field match {full_matched / total:.1%}; the pruned draw is "
              f"{t_full / t_solve:.1f}× faster (wall), {c_full / c_solve:.1f}× (CPU); "
              f"peak memory now {peak_mb():.0f} MB")

    short = {e: (fields, min(load, 59)) for e, (fields, load) in experts.items()}  # 29,500 places: refused
    t4, c4 = time.perf_counter(), time.process_time()
    try:
        assignment.solve(apps, short, args.k, pairs, seed)
        raise SystemExit("the capacity-short instance was not refused")
    except assignment.InfeasibleDraw as err:
        print(f"refusal (loads capped at 59): {time.perf_counter() - t4:.2f} s wall, "
              f"{time.process_time() - c4:.2f} s CPU; "
              f"{len(err.applications):,} applications short by {err.shortfall:,} reviews, "
              f"{len(err.competing):,} competing")
    print(f"peak memory at the end: {peak_mb():.0f} MB; "
          f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
