"""Ranking numbers on database rows, against hand-computed values (DOMAIN.md "Experts")."""
from __future__ import annotations

from decimal import Decimal

import pytest

from incubator.review import ranking
from incubator.review.models import Aggregation, Promotion, RoundStatus
from tests.applications.helpers import make_call, make_org
from tests.ranking.helpers import experts, passed_app, scored_round


@pytest.fixture()
def call(db):
    return make_call()


def _rows(r):
    return {row.application.number: row for row in ranking.round_ranking(r).rows}


def test_three_experts_plain_mean_five_trimmed_raw_scores_kept(call):
    org = make_org()
    a3 = passed_app(org, call, number="WCT-2026-0001")
    a5 = passed_app(org, call, number="WCT-2026-0002")
    e = experts(5)
    r = scored_round(call, [
        (a3, [(e[0], 80), (e[1], 85), (e[2], 91)]),
        (a5, [(e[0], 70), (e[1], 88), (e[2], 90), (e[3], 92), (e[4], 99)]),
    ])
    rows = _rows(r)
    three, five = rows["WCT-2026-0001"], rows["WCT-2026-0002"]
    # 3 scores: plain mean (80 + 85 + 91) / 3 = 85.333… → 85.33
    assert three.official == Decimal("85.33")
    assert three.kept == [Decimal(80), Decimal(85), Decimal(91)] and not any(m.dropped for m in three.marks)
    # 5 scores: drop 70 and 99, (88 + 90 + 92) / 3 = 90.00 (the plain mean would be 87.80)
    assert five.official == Decimal("90.00")
    assert sorted(m.total for m in five.marks) == [70, 88, 90, 92, 99]  # every raw score kept
    assert sorted(m.total for m in five.marks if m.dropped) == [70, 99]
    assert five.spread == Decimal("29.00") and five.disagreement  # range ≥ 20
    assert three.spread == Decimal("11.00") and not three.disagreement
    assert (three.submitted, three.assigned, five.submitted) == (3, 3, 5)


def test_mean_rule_never_trims(call):
    app = passed_app(make_org(), call)
    e = experts(5)
    r = scored_round(call, [(app, [(x, t) for x, t in zip(e, (70, 88, 90, 92, 99))])], aggregation=Aggregation.MEAN)
    assert ranking.round_ranking(r).rows[0].official == Decimal("87.80")


def test_only_submitted_scores_count_and_completeness(call):
    app = passed_app(make_org(), call)
    e = experts(5)
    r = scored_round(call, [(app, [(e[0], 60), (e[1], 70), (e[2], 80), (e[3], "draft"), (e[4], None)])],
                     status=RoundStatus.SCORING)
    result = ranking.round_ranking(r)
    row = result.rows[0]
    assert (row.submitted, row.assigned) == (3, 5)
    assert row.official == Decimal("70.00")  # drafts and missing scores do not count; 3 < 5: no trimming
    assert not row.complete and not result.complete
    assert (result.submitted, result.assigned) == (3, 5)
    assert {m.status for m in row.marks} == {"submitted", "draft", "pending"}


def test_calibration_and_tie_breaks_hand_computed(call):
    org = make_org()
    A = passed_app(org, call, number="WCT-2026-0001", field="elderly")
    B = passed_app(org, call, number="WCT-2026-0002", field="elderly")
    C = passed_app(org, call, number="WCT-2026-0003", field="health")
    D = passed_app(org, call, number="WCT-2026-0004", field="health")
    E = passed_app(org, call, number="WCT-2026-12", field="youth")
    F = passed_app(org, call, number="WCT-2026-100", field="youth")
    e1, e2, e3, e4 = experts(4)
    r = scored_round(call, [
        (A, [(e1, 90), (e2, 80)]), (B, [(e1, 70), (e2, 80)]),
        (C, [(e1, 90), (e2, 70), (e3, 80)]), (D, [(e1, 70), (e2, 90)]),
        (E, [(e4, 75)]), (F, [(e4, 75)]),
    ])
    result = ranking.round_ranking(r)
    rows = {row.application.number: row for row in result.rows}
    # elderly: all totals 90 70 80 80 → μ 80, σ √50; e1 μ 80 σ 10 → z ±1; e2 σ 0 → z 0.
    # A = mean(80 + √50, 80) = 83.5355… → 83.54; B = mean(80 − √50, 80) = 76.4644… → 76.46
    assert rows["WCT-2026-0001"].calibrated == Decimal("83.54")
    assert rows["WCT-2026-0002"].calibrated == Decimal("76.46")
    assert {m.name: m.calibrated for m in rows["WCT-2026-0001"].marks}[e1.name] == Decimal("87.07")
    # health: C and D tie on the official (80) and the calibrated score (80): C has 3 scores, D 2
    assert rows["WCT-2026-0003"].calibrated == rows["WCT-2026-0004"].calibrated == Decimal("80.00")
    order = [row.application.number for row in result.rows]
    # A 85; C, D 80 (more experts first); B 75 with calibrated 76.46 before E/F 75 (75.00);
    # E and F equal on everything but the number: WCT-2026-12 before WCT-2026-100 (digits as numbers)
    assert order == ["WCT-2026-0001", "WCT-2026-0003", "WCT-2026-0004", "WCT-2026-0002", "WCT-2026-12", "WCT-2026-100"]
    assert [row.position for row in result.rows] == [1, 2, 3, 4, 5, 6]
    assert result.tie_breaks == "排序：正式得分高者在前；相同时依次比较：校准分高者在前，评分专家人数多者在前，申报编号小者在前。"


def test_unscored_application_ranks_last_without_position(call):
    org = make_org()
    a, b = passed_app(org, call), passed_app(org, call)
    e = experts(1)
    r = scored_round(call, [(a, [(e[0], None)]), (b, [(e[0], 60)])])
    rows = ranking.round_ranking(r).rows
    assert [row.application.id for row in rows] == [b.id, a.id]
    assert rows[1].position is None and rows[1].official is None


def test_promotion_suggestion_top_n_keeps_ties_and_min_score(call):
    org = make_org()
    apps = [passed_app(org, call) for _ in range(4)]
    e = experts(1)
    plan = [(app, [(e[0], t)]) for app, t in zip(apps, (90, 80, 80, 70))]
    r = scored_round(call, plan, promotion=Promotion.TOP_N, promotion_top_n=2)
    result = ranking.round_ranking(r)
    # 80 and 80 tie on everything except the number, so positions are 1, 2, 3, 4: top 2 are 90 and the
    # first 80 by number
    assert [row.suggested for row in result.rows] == [True, True, False, False]
    r.promotion, r.promotion_min_score = Promotion.MIN_SCORE, Decimal("80")
    assert {row.application.id for row in ranking.round_ranking(r).rows if row.suggested} == {a.id for a in apps[:3]}


def test_query_count_does_not_grow_with_rows(app, db):
    from sqlalchemy import event

    org = make_org()
    e = experts(3)

    def count_for(n):
        c = make_call()
        rr = scored_round(c, [(passed_app(org, c), [(x, 80) for x in e]) for _ in range(n)])
        db.session.expire_all()
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            ranking.round_ranking(db.session.get(type(rr), rr.id))
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    assert count_for(2) == count_for(6)
