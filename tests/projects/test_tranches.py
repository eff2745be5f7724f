"""split_tranches: exact to the 分, the last tranche absorbs the rounding (property tests)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incubator.projects.tranches import split_tranches

D = Decimal


def test_fifty_thirty_twenty():
    assert split_tranches(D("100000.00"), [D(50), D(30), D(20)]) == [D("50000.00"), D("30000.00"), D("20000.00")]


def test_the_last_tranche_absorbs_the_rounding():
    assert split_tranches(D("100.00"), [D("33.33"), D("33.33"), D("33.34")]) == [D("33.33"), D("33.33"), D("33.34")]
    assert split_tranches(D("0.05"), [D(50), D(50)]) == [D("0.02"), D("0.03")]
    assert split_tranches(D("10.01"), [D(30), D(30), D(40)]) == [D("3.00"), D("3.00"), D("4.01")]


def test_one_tranche_and_zero_total():
    assert split_tranches(D("123.45"), [D(100)]) == [D("123.45")]
    assert split_tranches(D("0"), [D(50), D(50)]) == [D("0.00"), D("0.00")]


@pytest.mark.parametrize("total, shares, message", [
    (D("100"), [D(50), D(30)], "之和必须等于100%"),
    (D("100"), [D(50), D(30), D(30)], "之和必须等于100%"),
    (D("100"), [], "至少需要设置一期"),
    (D("100"), [D(0), D(100)], "必须大于0"),
    (D("100"), [D(-10), D(110)], "必须大于0"),
    (D("100"), [D("33.333"), D("66.667")], "最多保留两位小数"),
    (D("100"), [50.0, 50.0], "不能使用浮点数"),
    (100.0, [D(100)], "不能使用浮点数"),
    (D("-0.01"), [D(100)], "不能为负数"),
    (D("NaN"), [D(100)], "格式不正确"),
    (D("Infinity"), [D(100)], "格式不正确"),
    (D("1.005"), [D(100)], "精确到分"),
])
def test_refusals_are_chinese(total, shares, message):
    with pytest.raises(ValueError, match=message):
        split_tranches(total, shares)


totals = st.integers(min_value=1, max_value=999_999_999).map(lambda fen: Decimal(fen) / 100)


@st.composite
def share_lists(draw):
    """1–8 shares of at least 0.01 % (two decimals) that sum to exactly 100."""
    n = draw(st.integers(min_value=1, max_value=8))
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=9_999), min_size=n - 1, max_size=n - 1)))
    points = [0, *cuts, 10_000]
    return [Decimal(b - a) / 100 for a, b in zip(points, points[1:])]


@given(total=totals, shares=share_lists())
def test_amounts_sum_exactly_and_stay_near_their_share(total, shares):
    amounts = split_tranches(total, shares)
    n = len(shares)
    assert len(amounts) == n
    assert sum(amounts) == total
    for amount, share in zip(amounts, shares):
        assert amount >= 0
        assert amount == amount.quantize(Decimal("0.01"))
        assert abs(amount - total * share / 100) <= Decimal("0.01") * n
    # Every tranche but the last is rounded down.
    for amount, share in zip(amounts[:-1], shares[:-1]):
        assert amount <= total * share / 100
