"""Weighted totals, the official score, calibration, spread and ranking against hand-computed cases."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from incubator.review import scoring as s
from incubator.review.scoring import Criterion, RankEntry, Review

RUBRIC = [Criterion("need", D(30), D(30), "需求分析"), Criterion("plan", D(20), D(20), "实施方案"),
          Criterion("team", D(50), D(50), "团队能力")]


def test_weighted_total_when_maxima_are_the_weights_is_the_sum():
    s.validate_criteria(RUBRIC)
    assert s.weighted_total({"need": 25, "plan": "15.5", "team": D(40)}, RUBRIC) == D("80.50")


def test_weighted_total_scales_each_criterion_to_its_weight():
    # scored out of 10 each, worth 40 and 60 points: 7/10 × 40 + 8.5/10 × 60 = 28 + 51 = 79
    crit = [Criterion("a", D(10), D(40)), Criterion("b", D(10), D(60))]
    s.validate_criteria(crit)
    assert s.weighted_total({"a": 7, "b": D("8.5")}, crit) == D("79.00")
    # 1/3 × 50 + 1/3 × 50 = 33.333… → 33.33
    thirds = [Criterion("a", D(3), D(50)), Criterion("b", D(3), D(50))]
    assert s.weighted_total({"a": 1, "b": 1}, thirds) == D("33.33")
    # 1/8 × 1 = 0.125 exactly: ROUND_HALF_UP gives 0.13 (banker's rounding would give 0.12)
    half = [Criterion("a", D(8), D(1)), Criterion("b", D(99), D(99))]
    assert s.weighted_total({"a": 1, "b": 0}, half) == D("0.13")


def test_weighted_total_refuses_bad_scores():
    for bad in ({"need": 31, "plan": 0, "team": 0}, {"need": -1, "plan": 0, "team": 0},
                {"need": 1, "plan": 0}, {"need": 1, "plan": 0, "team": 0, "x": 1}):
        with pytest.raises(ValueError):
            s.weighted_total(bad, RUBRIC)
    with pytest.raises(TypeError):
        s.weighted_total({"need": 1.5, "plan": 0, "team": 0}, RUBRIC)


def test_rubric_weights_must_add_up_to_100():
    with pytest.raises(ValueError, match="100"):
        s.validate_criteria([Criterion("a", D(10), D(40)), Criterion("b", D(10), D(50))])
    with pytest.raises(ValueError):
        s.validate_criteria([Criterion("a", D(10), D(100)), Criterion("a", D(10), D(0))])


@pytest.mark.parametrize("totals, expected", [
    (["80", "90", "70", "60", "100"], D("80.00")),  # drop 100 and 60: (80 + 90 + 70) / 3
    (["85.5", "90", "72.25", "60", "99", "88"], D("83.94")),  # drop 99, 60: 335.75 / 4 = 83.9375
    (["90", "90", "80", "70", "70"], D("80.00")),  # one of the equal highest and lowest only
    (["70", "80", "90", "81"], D("80.25")),  # four scores: plain mean
    (["80.01", "80.00"], D("80.01")),  # 80.005 rounds half up
    ([1, 0, 0], D("0.33")),
    ([2, 0, 0], D("0.67")),
    (["77.7"], D("77.70")),
])
def test_official_score_default_rule(totals, expected):
    assert s.official_score(totals) == expected


def test_official_score_keeps_raw_scores_and_other_rules():
    raw = [D("100"), D("60"), D("80"), D("90"), D("70")]
    assert s.official_score(raw) == D("80.00")
    assert raw == [D("100"), D("60"), D("80"), D("90"), D("70")]
    assert s.kept_scores(raw) == [D("70"), D("80"), D("90")]
    assert s.official_score(raw, s.MEAN) == D("80.00")
    assert s.official_score(["100", "60", "80", "90", "71"], s.MEAN) == D("80.20")
    # seven scores, drop two at each end: 71, 80, 90 remain → 241 / 3 = 80.333…
    two_each = s.AggregationRule(trim_from=7, drop_each=2)
    assert s.official_score(["100", "60", "80", "90", "71", "0", "99"], two_each) == D("80.33")
    assert s.official_score([]) is None
    with pytest.raises(ValueError):
        s.AggregationRule(trim_from=2, drop_each=1)


def test_spread_std_and_strong_disagreement():
    assert s.spread(["70", "90", "75"]) == D("20.00")
    assert s.std_dev(["60", "80"]) == D("10.00")  # population: mean 70, deviations ±10
    assert s.std_dev(["1", "2", "3"]) == D("0.82")  # √(2/3) = 0.8165
    assert s.strong_disagreement(["70", "90", "75"])  # range 20 ≥ 20
    assert not s.strong_disagreement(["70", "89.99", "75"])  # range 19.99, std 8.5
    assert not s.strong_disagreement(["70", "90", "75"], range_at_least=25, std_at_least=None)
    # std alone: 60, 60, 78, 78 → mean 69, deviations ±9, std 9 (range 18)
    assert s.strong_disagreement(["60", "60", "78", "78"], range_at_least=19, std_at_least=9)
    assert not s.strong_disagreement(["60", "60", "78", "78"], range_at_least=19, std_at_least=D("9.01"))
    assert not s.strong_disagreement(["90"])
    assert s.spread([]) == D("0.00")


def test_calibration_hand_computed():
    # Field 养老, experts 1 (harsh) and 2 (lenient) each scored A–D.
    #   expert 1: A 70, B 40, C 30, D 0      μ = 35, σ = √((35² + 5² + 5² + 35²)/4) = √625 = 25
    #   expert 2: A 90, B 100, C 100, D 90   μ = 95, σ = 5
    #   all eight: μ_f = 520 / 8 = 65; deviations 5, −25, −35, −65, 25, 35, 35, 25
    #              → Σ² = 25 + 625 + 1225 + 4225 + 625 + 1225 + 1225 + 625 = 9800; σ_f = √1225 = 35
    #   z (expert 1): A 1.4, B 0.2, C −0.2, D −1.4 → 65 + 35z: 114 → clamped 100, 72, 58, 16
    #   z (expert 2): A −1, B 1, C 1, D −1       → 30, 100, 100, 30
    #   per application: A (100 + 30)/2 = 65, B (72 + 100)/2 = 86, C (58 + 100)/2 = 79, D (16 + 30)/2 = 23
    # Field 环保 (independent of 养老): expert 3 scored E 80; expert 4 scored E 60 and F 60.
    #   σ_e = 0 for both → z = 0 → μ_f = 200/3 = 66.67 for every review
    scores = {("A", 1): 70, ("B", 1): 40, ("C", 1): 30, ("D", 1): 0,
              ("A", 2): 90, ("B", 2): 100, ("C", 2): 100, ("D", 2): 90}
    ids = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6}
    reviews = [Review(ids[a], e, "养老", D(v)) for (a, e), v in scores.items()]
    reviews += [Review(5, 3, "环保", D(80)), Review(5, 4, "环保", D(60)), Review(6, 4, "环保", D(60))]
    per_review = s.calibrated_reviews(reviews)
    assert per_review[(1, 1)] == D("100.00")
    assert per_review[(2, 1)] == D("72.00") and per_review[(3, 1)] == D("58.00") and per_review[(4, 1)] == D("16.00")
    assert per_review[(1, 2)] == D("30.00") and per_review[(2, 2)] == D("100.00")
    assert per_review[(5, 3)] == per_review[(5, 4)] == per_review[(6, 4)] == D("66.67")
    assert s.calibrated_scores(reviews) == {1: D("65.00"), 2: D("86.00"), 3: D("79.00"), 4: D("23.00"),
                                            5: D("66.67"), 6: D("66.67")}
    # official (plain mean of two): A 80, B 70, C 65, D 45 — calibration puts B above A, advice only
    assert [s.official_score([scores[(a, 1)], scores[(a, 2)]]) for a in "ABCD"] == [D("80.00"), D("70.00"),
                                                                                   D("65.00"), D("45.00")]
    assert reviews[0].total == D(70)  # raw untouched


def test_calibration_is_identity_for_a_single_expert_field():
    reviews = [Review(1, 7, "儿童", D(90)), Review(2, 7, "儿童", D(70))]
    assert s.calibrated_reviews(reviews) == {(1, 7): D("90.00"), (2, 7): D("70.00")}


def entry(app, number, official, calibrated=None, n=3):
    return RankEntry(app, number, None if official is None else D(official),
                     None if calibrated is None else D(calibrated), n)


def test_rank_with_the_stated_tie_breaks():
    entries = [
        entry(1, "WCT-2026-10", "85", "80", 5),
        entry(2, "WCT-2026-2", "85", "82", 3),   # above 1: calibrated 82 > 80
        entry(3, "WCT-2026-10", "85", "82", 5),  # above 2: five experts scored, not three
        entry(4, "WCT-2026-9", "85", "82", 5),   # above 3: number 9 < 10 (digits compare as numbers)
        entry(5, "WCT-2026-50", "90", None, 1),  # highest official score first, whatever else
        entry(6, "WCT-2026-1", None, "99", 5),   # no official score: last
        entry(7, "WCT-2026-3", "70", None, 5),
        entry(8, "WCT-2026-4", "70", "10", 5),   # a calibrated score beats none
    ]
    ranked = s.rank(entries)
    assert [e.application for _pos, e in ranked] == [5, 4, 3, 2, 1, 8, 7, 6]
    assert [pos for pos, _e in ranked] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert s.describe_tie_breaks() == ("排序：正式得分高者在前；相同时依次比较：校准分高者在前，"
                                       "评分专家人数多者在前，申报编号小者在前。")


def test_full_ties_share_a_position_under_a_shorter_rule():
    ranked = s.rank([entry(1, "A-1", "80"), entry(2, "A-2", "90"), entry(3, "A-3", "80"), entry(4, "A-4", "70")],
                    tie_breaks=("official_desc",))
    assert [(pos, e.application) for pos, e in ranked] == [(1, 2), (2, 1), (2, 3), (4, 4)]
    with pytest.raises(ValueError):
        s.rank([], tie_breaks=("alphabetical",))
