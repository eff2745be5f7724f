"""Forms of the screening pages: the three decisions and the batch pass.

Only the fields declared here are read: posted extras (``status``, ``org_id``, ``district_id`` …)
are ignored. Each decision form carries the optimistic-lock ``version`` the page was rendered with.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from wtforms import Field, HiddenField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import DateInput

from incubator.applications.models import SECTIONS
from incubator.core.forms import ChineseForm, InputRejected
from incubator.screening.services import MAX_BATCH, MAX_REASON_LENGTH

MIN_YEAR, MAX_YEAR = 2000, 2100
_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")


def parse_date_text(text: str | None, *, what: str = "日期") -> date | None:
    """'2026-03-01' → date; None when blank. Refuses 2026-02-30, year 0001 and junk in Chinese."""
    if text is None:
        return None
    s = unicodedata.normalize("NFKC", text).replace("\x00", "").strip()
    if not s:
        return None
    m = _DATE.match(s)
    if not m:
        raise InputRejected(f"{what}格式不正确，请按“2026-03-01”填写")
    year, month, day = (int(g) for g in m.groups())
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InputRejected(f"{what}的年份应在{MIN_YEAR}年至{MAX_YEAR}年之间")
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InputRejected(f"{what}不是有效的日期（{year}年{month}月{day}日不存在）") from exc


class LocalDateField(Field):
    """``<input type="date">``; keeps what was typed when it cannot be read."""

    widget = DateInput()

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        try:
            self.data = parse_date_text(valuelist[0], what=self.label.text)
        except InputRejected as exc:
            raise ValueError(str(exc)) from exc

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""


def parse_version(raw: str | None) -> int | None:
    """The optimistic-lock version posted by the page; -1 (always a conflict) when unreadable."""
    raw = (raw or "").strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 10 else -1


class _DecisionForm(ChineseForm):
    version = HiddenField()

    @property
    def posted_version(self) -> int | None:
        return parse_version(self.version.data)


class PassForm(_DecisionForm):
    note = TextAreaField("审查意见（可选）", validators=[Optional(), Length(max=MAX_REASON_LENGTH, message="审查意见不能超过%(max)d个字")])


class RejectForm(_DecisionForm):
    reason = TextAreaField(
        "不通过的理由",
        validators=[
            InputRequired("请填写不通过的理由"),
            Length(max=MAX_REASON_LENGTH, message="理由不能超过%(max)d个字"),
        ],
        description="将通知申报单位，并记入办理记录。",
    )

    def validate_reason(self, field):
        if not (field.data or "").strip():
            raise ValidationError("请填写不通过的理由")


def _reason_field(label: str) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=MAX_REASON_LENGTH, message="意见不能超过%(max)d个字")])


class ReturnForm(_DecisionForm):
    """A reason per section (keys of ``SECTIONS``; at least one) and the revision deadline."""

    deadline = LocalDateField("修改期限", validators=[InputRequired("请填写修改期限")])

    # One per key of SECTIONS, in form order (a test keeps the two in step).
    reason_basic = _reason_field("基本信息")
    reason_need = _reason_field("需求分析")
    reason_goals = _reason_field("项目目标")
    reason_plan = _reason_field("实施计划")
    reason_team = _reason_field("项目团队")
    reason_budget = _reason_field("项目预算")
    reason_extra = _reason_field("补充信息")
    reason_attachments = _reason_field("附件")
    reason_bank = _reason_field("收款账户")
    reason_general = _reason_field("申报条件")

    def __init__(self, *args, today: date | None = None, **kw):
        super().__init__(*args, **kw)
        self.today = today

    def reason_fields(self):
        return [(key, getattr(self, f"reason_{key}")) for key, _label in SECTIONS]

    @property
    def reasons(self) -> dict[str, str]:
        return {key: (f.data or "").strip() for key, f in self.reason_fields() if (f.data or "").strip()}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.reasons:
            self.form_errors.append("请至少针对一个部分填写退回修改的意见")
            ok = False
        if self.deadline.data is not None and self.today is not None:
            if self.deadline.data < self.today:
                self.deadline.errors.append("修改期限不能早于今天")
                ok = False
            elif (self.deadline.data - self.today).days > 366:
                self.deadline.errors.append("修改期限不能超过一年")
                ok = False
        return ok


class BatchForm(ChineseForm):
    """Only the CSRF token: the selected ids are read with ``parse_ids``."""


class ExportForm(ChineseForm):
    """Only the CSRF token: the list's filters travel as hidden fields, read by ``ListFilters.from_args``."""


def parse_ids(values: list[str]) -> list[int]:
    """Selected row ids; junk (``abc``, ``-1``, ``0``, 20 digits) is dropped, at most MAX_BATCH + 1 kept."""
    out = []
    for raw in values[: MAX_BATCH + 1]:
        raw = (raw or "").strip()
        if raw.isdigit() and len(raw) < 11 and 0 < int(raw) <= 2**31 - 1:
            out.append(int(raw))
    return out
