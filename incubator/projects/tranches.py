"""Splitting a contract amount into tranches (分期拨付), exactly to the 分.

``split_tranches(total, shares)``: ``shares`` are percentages (Decimal or int, > 0, at most two
decimals) that sum to exactly 100. Every tranche but the last is its share of ``total`` rounded DOWN
to the 分; the last tranche absorbs the rounding, so the amounts always sum exactly to ``total``, each
is ≥ 0 and each is within 0.01 × (number of tranches) of its nominal share.
"""
from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from incubator.db import CENT

HUNDRED = Decimal(100)


def _decimal(value, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise ValueError(f"{what}必须是精确的数值（不能使用浮点数）")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{what}格式不正确")
    return value


def check_shares(shares: list) -> list[Decimal]:
    """The shares as Decimals, or a Chinese ValueError (empty, ≤ 0, > 2 decimals, sum ≠ 100)."""
    if not shares:
        raise ValueError("至少需要设置一期拨付")
    out = [_decimal(s, "拨付比例") for s in shares]
    for s in out:
        if s <= 0:
            raise ValueError("每期拨付比例必须大于0")
        if s != s.quantize(CENT):
            raise ValueError("拨付比例最多保留两位小数")
    if sum(out, Decimal(0)) != HUNDRED:
        raise ValueError(f"各期拨付比例之和必须等于100%（当前为{sum(out, Decimal(0))}%）")
    return out


def split_tranches(total: Decimal, shares: list[Decimal]) -> list[Decimal]:
    amount = _decimal(total, "金额")
    if amount < 0:
        raise ValueError("金额不能为负数")
    if amount != amount.quantize(CENT):
        raise ValueError("金额最多保留两位小数（精确到分）")
    parts = check_shares(shares)
    amounts = [(amount * s / HUNDRED).quantize(CENT, rounding=ROUND_DOWN) for s in parts[:-1]]
    amounts.append((amount - sum(amounts, Decimal(0))).quantize(CENT))
    return amounts
