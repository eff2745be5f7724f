"""The shared money parser (incubator.core.forms): every bad amount of SECURITY.md, exactly."""
from __future__ import annotations

from decimal import Decimal

import pytest

from incubator.core.forms import InputRejected, parse_decimal, parse_local_datetime, parse_money


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0", Decimal("0.00")),
        ("12345.67", Decimal("12345.67")),
        ("１２３", Decimal("123.00")),  # full-width digits normalised
        ("１２３．４５", Decimal("123.45")),
        ("1,000.00", Decimal("1000.00")),  # correct grouping accepted
        ("12,345,678.9", Decimal("12345678.90")),
        ("¥5", Decimal("5.00")),
        ("￥1,234.50", Decimal("1234.50")),
        (" 88 ", Decimal("88.00")),
        ("100元", Decimal("100.00")),
        ("-0", Decimal("0.00")),
        ("9999999999.99", Decimal("9999999999.99")),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_good_amounts(text, expected):
    value = parse_money(text)
    assert value == expected
    if value is not None:
        assert value.as_tuple().exponent == -2  # always exactly 分


@pytest.mark.parametrize(
    "text, message",
    [
        ("NaN", "金额格式不正确"),
        ("nan", "金额格式不正确"),
        ("Infinity", "金额格式不正确"),
        ("-Infinity", "金额格式不正确"),
        ("1e309", "金额格式不正确"),
        ("1E3", "金额格式不正确"),
        ("-0.01", "金额不能为负数"),
        ("0.001", "金额最多保留两位小数（精确到分）"),
        ("12345678901234567890", "金额数值过大"),
        ("10000000000", "金额不能超过9,999,999,999.99元"),
        ("1,00", "千分位逗号位置不正确"),
        ("1,0000.00", "千分位逗号位置不正确"),
        ("12.", "金额格式不正确"),
        ("0x10", "金额格式不正确"),
        ("1 000", None),  # spaces inside are dropped: accepted as 1000
        ("1_000", "金额格式不正确"),
        ("١٢٣", "金额格式不正确"),  # other scripts' digits are refused, not guessed
        ("1\x00", "非法字符"),
        ("=1+1", "金额格式不正确"),
    ],
)
def test_bad_amounts(text, message):
    if message is None:
        try:
            value = parse_money(text)
        except InputRejected:
            return
        assert value == Decimal("1000.00")
        return
    with pytest.raises(InputRejected) as exc:
        parse_money(text)
    assert message in str(exc.value)


def test_integer_and_percent_parsing():
    assert parse_decimal("60", places=2, max_value=Decimal("100"), what="比例", unit="%") == Decimal("60.00")
    assert parse_decimal("60%", places=2, max_value=Decimal("100"), what="比例", unit="%") == Decimal("60.00")
    with pytest.raises(InputRejected, match="比例不能超过100%"):
        parse_decimal("100.01", places=2, max_value=Decimal("100"), what="比例", unit="%")
    with pytest.raises(InputRejected, match="人数必须是整数"):
        parse_decimal("5.5", places=0, what="人数")


@pytest.mark.parametrize(
    "text, message",
    [
        ("2026-02-30T09:00", "2026年2月30日不存在"),
        ("2026-13-01T09:00", "不存在"),
        ("0001-01-01T00:00", "年份应在2000年至2100年之间"),
        ("9999-01-01T00:00", "年份应在2000年至2100年之间"),
        ("2026-03-01", "格式不正确"),
        ("2026-03-01T25:00", "不存在"),
        ("<script>", "格式不正确"),
    ],
)
def test_bad_datetimes(text, message):
    with pytest.raises(InputRejected) as exc:
        parse_local_datetime(text, what="截止时间")
    assert message in str(exc.value)
    assert str(exc.value).startswith("截止时间")


def test_datetime_is_beijing_time_stored_as_utc():
    from datetime import datetime

    assert parse_local_datetime("2026-03-01T09:00") == datetime(2026, 3, 1, 1, 0)
    assert parse_local_datetime("2026-03-01 00:30") == datetime(2026, 2, 28, 16, 30)
    assert parse_local_datetime("２０２６-03-01T09:00") == datetime(2026, 3, 1, 1, 0)
