"""Form fields every domain needs: exact money, percentages, Beijing date-times, multi-checkboxes.

Money (SECURITY.md, bad inputs #4) is parsed from text with ``Decimal``, never ``float``:

    >>> parse_money("1,000.00")
    Decimal('1000.00')
    >>> parse_money("１２３")          # full-width digits are normalised (NFKC)
    Decimal('123.00')

and refuses ``NaN``, ``Infinity``, ``1e309``, negative amounts, fractions of a 分 (``0.001``),
badly grouped thousands (``1,00``) and amounts above ``max_value``, each with a Chinese message.

``MoneyField(label, validators=[InputRequired()|Optional()], min_value=0, max_value=…)`` gives
``field.data`` as a ``Decimal`` quantised to 0.01 (or None when blank) and, on an error, shows the
text the user typed. Use ``InputRequired`` (not ``DataRequired``: 0 is a valid amount).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from decimal import Decimal, InvalidOperation

from wtforms import Field, SelectMultipleField, widgets
from wtforms.widgets import TextInput

from incubator.db import from_local, to_local

CENT = Decimal("0.01")
# 9,999,999,999.99 (just under 100亿): far above any grant, far below the BIGINT 分 limit.
MONEY_MAX = Decimal("9999999999.99")

_PLAIN = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")  # ASCII digits only (\d would accept ١٢٣)
_GROUPED = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?$")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


class InputRejected(ValueError):
    """A typed value that cannot be accepted; ``str(exc)`` is the Chinese message for the user."""


def _normalise_number_text(text: str) -> str:
    # NFKC turns full-width digits, '，' and '．' into ASCII; ideographic space into a space.
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    return text.strip().replace(" ", "")


def parse_decimal(
    text: str | None,
    *,
    places: int = 2,
    min_value: Decimal | None = Decimal("0"),
    max_value: Decimal | None = None,
    what: str = "金额",
    unit: str = "",
    allow_grouping: bool = True,
    max_integer_digits: int = 12,
) -> Decimal | None:
    """Exact decimal from user text; None for blank. Raises InputRejected with a Chinese message."""
    if text is None:
        return None
    if "\x00" in text:
        raise InputRejected(f"{what}包含非法字符")
    s = _normalise_number_text(text)
    if s == "":
        return None
    if s[0] in "¥$":
        s = s[1:]
    if s.endswith("元") and unit == "元":
        s = s[:-1]
    if s.endswith("%") and unit == "%":
        s = s[:-1]
    negative = s.startswith("-")
    if s[:1] in "+-":
        s = s[1:]
    if "," in s:
        if not allow_grouping:
            raise InputRejected(f"{what}请不要使用逗号")
        if not _GROUPED.match(s):
            raise InputRejected(f"{what}的千分位逗号位置不正确，请直接填写数字，例如 1000.00")
        s = s.replace(",", "")
    if not _PLAIN.match(s):
        raise InputRejected(f"{what}格式不正确，请填写数字，例如 12345.67")
    integer_part, _, fraction = s.partition(".")
    if len(integer_part.lstrip("0")) > max_integer_digits:
        limit = f"，不能超过{_plain(max_value, unit)}{unit}" if max_value is not None else ""
        raise InputRejected(f"{what}数值过大{limit}")
    if len(fraction) > places:
        if unit == "元":
            raise InputRejected(f"{what}最多保留两位小数（精确到分）")
        raise InputRejected(f"{what}最多保留{places}位小数" if places else f"{what}必须是整数")
    try:
        value = Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above already refused it
        raise InputRejected(f"{what}格式不正确") from exc
    if negative and value != 0:
        value = -value
    value = value.quantize(Decimal(1).scaleb(-places)) if places else value.quantize(Decimal(1))
    if min_value is not None and value < min_value:
        if min_value == 0:
            raise InputRejected(f"{what}不能为负数")
        raise InputRejected(f"{what}不能小于{_plain(min_value, unit)}{unit}")
    if max_value is not None and value > max_value:
        raise InputRejected(f"{what}不能超过{_plain(max_value, unit)}{unit}")
    return value


def _plain(value: Decimal, unit: str = "元") -> str:
    """9,999,999,999.99 for money; 2000 or 12.5 for years, counts and percentages."""
    if unit == "元":
        return f"{value:,.2f}" if value != value.to_integral_value() else f"{value:,.0f}"
    return f"{value.normalize():f}" if value != value.to_integral_value() else f"{value:.0f}"


def parse_money(
    text: str | None, *, min_value: Decimal | None = Decimal("0"), max_value: Decimal | None = MONEY_MAX, what: str = "金额"
) -> Decimal | None:
    """Yuan from user text, exact to the 分 (see module docstring); None for blank."""
    return parse_decimal(text, places=2, min_value=min_value, max_value=max_value, what=what, unit="元")


class _DecimalTextField(Field):
    """A text input parsed by ``parse_decimal``; keeps the raw text when it is refused."""

    widget = TextInput()
    places = 2
    unit = ""

    def __init__(self, label=None, validators=None, *, min_value=Decimal("0"), max_value=None, what=None, **kw):
        super().__init__(label, validators, **kw)
        self.min_value = None if min_value is None else Decimal(min_value)
        self.max_value = None if max_value is None else Decimal(max_value)
        self.what = what

    def _what(self) -> str:
        return self.what or (self.label.text if self.label else "金额")

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        self.data = self._parse(valuelist[0])  # InputRejected is a ValueError: WTForms shows it

    def _parse(self, text: str) -> Decimal | None:
        return parse_decimal(
            text, places=self.places, min_value=self.min_value, max_value=self.max_value, what=self._what(), unit=self.unit
        )

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{self.data:.{self.places}f}"


class MoneyField(_DecimalTextField):
    """Yuan, exact to the 分: ``data`` is a Decimal quantised to 0.01, or None when blank.

    ``MoneyField("资助上限", [InputRequired()], min_value=0, max_value=MONEY_MAX)``. The input is
    rendered as ``<input type="text" inputmode="decimal">``; the shown value is the typed text when
    it was refused (the form keeps what the user typed), else ``12345.67``.
    """

    unit = "元"

    def __init__(self, label=None, validators=None, *, min_value=Decimal("0"), max_value=MONEY_MAX, **kw):
        kw.setdefault("render_kw", {})
        kw["render_kw"].setdefault("inputmode", "decimal")
        kw["render_kw"].setdefault("autocomplete", "off")
        super().__init__(label, validators, min_value=min_value, max_value=max_value, **kw)

    def _what(self) -> str:
        return self.what or (self.label.text if self.label and self.label.text else "金额")


class PercentField(_DecimalTextField):
    """A share in percent (0–100 by default, 2 decimals): ``data`` is a Decimal, e.g. Decimal('60.00')."""

    unit = "%"

    def __init__(self, label=None, validators=None, *, min_value=Decimal("0"), max_value=Decimal("100"), **kw):
        kw.setdefault("render_kw", {})
        kw["render_kw"].setdefault("inputmode", "decimal")
        super().__init__(label, validators, min_value=min_value, max_value=max_value, **kw)


class StrictIntegerField(_DecimalTextField):
    """A whole number with a Chinese message for '5.5', 'abc', full-width digits normalised."""

    places = 0

    def __init__(self, label=None, validators=None, *, min_value=0, max_value=None, **kw):
        kw.setdefault("render_kw", {})
        kw["render_kw"].setdefault("inputmode", "numeric")
        super().__init__(label, validators, min_value=min_value, max_value=max_value, **kw)

    def _parse(self, text: str):
        value = parse_decimal(
            text, places=0, min_value=self.min_value, max_value=self.max_value, what=self._what(),
            allow_grouping=False, max_integer_digits=9,
        )
        return None if value is None else int(value)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


# ---------------------------------------------------------------- date-times in Beijing time

MIN_YEAR, MAX_YEAR = 2000, 2100
_DT = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$")


def parse_local_datetime(text: str | None, *, what: str = "时间") -> datetime | None:
    """'2026-03-01T09:00' (Beijing time, as a datetime-local input sends it) → naive UTC; None if blank.

    Refuses dates that do not exist (2026-02-30), years outside 2000–2100 (e.g. 0001), and junk,
    each with a Chinese message.
    """
    if text is None:
        return None
    s = " ".join(unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).replace("\x00", "").split())
    if not s:
        return None
    m = _DT.match(s)
    if not m:
        raise InputRejected(f"{what}格式不正确，请按“2026-03-01 09:00”填写")
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in m.groups())
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InputRejected(f"{what}的年份应在{MIN_YEAR}年至{MAX_YEAR}年之间")
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise InputRejected(f"{what}不是有效的日期（{year}年{month}月{day}日不存在）") from exc
    return from_local(local)


class BeijingDateTimeField(Field):
    """``<input type="datetime-local">`` typed in Beijing time; ``data`` is naive UTC (as stored)."""

    widget = widgets.DateTimeLocalInput()

    def __init__(self, label=None, validators=None, *, what=None, **kw):
        super().__init__(label, validators, **kw)
        self.what = what

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        self.data = parse_local_datetime(valuelist[0], what=self.what or self.label.text)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return to_local(self.data).strftime("%Y-%m-%dT%H:%M")


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (``ui.field`` renders it as a row of check boxes)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


# ---------------------------------------------------------------- forms with Chinese messages

from flask_wtf import FlaskForm  # noqa: E402
from wtforms import Form as _PlainForm  # noqa: E402
from wtforms.i18n import get_translations as _wtforms_translations  # noqa: E402


class _ChineseMeta:
    """WTForms' own messages ('This field is required.', 'Not a valid choice.') in Chinese.

    Flask-WTF would use Flask-Babel, which this project does not install; WTForms ships a
    Simplified Chinese catalogue that we use directly.
    """

    locales = ("zh",)

    def get_translations(self, form):
        return _wtforms_translations(self.locales)


class ChineseForm(FlaskForm):
    """A FlaskForm (CSRF) whose built-in validation messages are Chinese."""

    class Meta(_ChineseMeta):
        pass


class ChineseSubForm(_PlainForm):
    """For rows inside ``FieldList(FormField(...))``: no CSRF of its own, Chinese messages."""

    class Meta(_ChineseMeta):
        pass


def select_choices(pairs) -> list:
    """``[(value, label), …]`` → ``SelectChoice`` objects (tuples are deprecated in WTForms 3.3)."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(str(value), label) for value, label in pairs]
