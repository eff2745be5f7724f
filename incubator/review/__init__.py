"""Expert review (筛选评估): the pure computational core.

Plain-data modules with no Flask or database dependency, so that the review blueprint, services and
CLI can be built on them:

- assignment: conflict-free, load-balanced, field-matching panel draw as a seeded min-cost flow
  (`solve`, `InfeasibleDraw`);
- conflicts: 回避 detection by organisation id / USCC, declared relations, e-mail domain, earlier rounds;
- draw_audit: seed commitment, canonical input / result digests, derived seeds, replay;
- scoring: weighted totals, official score (trimmed mean), calibration, spread, ranking.
"""
