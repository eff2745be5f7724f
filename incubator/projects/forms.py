"""Forms of the projects hub: 立项 (from a funded application, or a purchase of service), the tranche
schedule (also used by a call's tranche plan), payment steps and the list filters.

Money and shares are parsed exactly (MoneyField / PercentField: Decimal, never float); every text field
refuses NUL bytes; titles are one line. Each form returns typed values for the service (``launch_kwargs``,
``plan``), never the request.
"""
from __future__ import annotations

from decimal import Decimal

from wtforms import DateField, FieldList, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from incubator.calls.models import DEFAULT_TRANCHE_PLAN
from incubator.core.forms import ChineseForm, ChineseSubForm, MoneyField, PercentField, StrictIntegerField, select_choices
from incubator.projects.models import TrancheCondition

MAX_TRANCHES = 6
TEXT_MAX = 5000

# The default tranche plan of a call: 50/30/20 (incubator.calls.models.DEFAULT_TRANCHE_PLAN).
DEFAULT_PLAN: tuple[tuple[Decimal, TrancheCondition], ...] = tuple(
    (Decimal(share), TrancheCondition(condition)) for share, condition in DEFAULT_TRANCHE_PLAN)


def _no_nul(form, field):
    if field.data and isinstance(field.data, str) and "\x00" in field.data:
        raise ValidationError("内容包含非法字符")


def _single_line(form, field):
    if field.data and isinstance(field.data, str) and ("\r" in field.data or "\n" in field.data):
        raise ValidationError("请不要在此处换行")


class _Date(DateField):
    """A date whose wrong input gets a Chinese message (2026-02-30, year 0001, junk)."""

    def process_formdata(self, valuelist):
        if not valuelist or not (valuelist[0] or "").strip():
            self.data = None
            return
        text = valuelist[0].strip()
        try:
            super().process_formdata([text])
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text}不是有效的日期，请按“2026-03-01”填写") from None
        if self.data is not None and not 2000 <= self.data.year <= 2100:
            self.data = None
            raise ValueError(f"{self.label.text}的年份应在2000年至2100年之间")


# ------------------------------------------------------------------ tranche rows (project schedule and call plan)


class TrancheRowForm(ChineseSubForm):
    share = PercentField("比例（%）", [Optional()], min_value=Decimal("0.01"), what="拨付比例")
    condition = SelectField("拨付条件", choices=select_choices([("", "—请选择—")] + TrancheCondition.choices()),
                            validators=[Optional()])

    def is_blank(self) -> bool:
        return (self.share.data is None and not (self.share.raw_data or [""])[0].strip()
                and not self.condition.data)


def plan_rows_default() -> list[dict]:
    return [{"share": s, "condition": c.value} for s, c in DEFAULT_PLAN]


class PlanMixin:
    """A FieldList ``rows`` of TrancheRowForm; ``validate_plan`` checks rows and the 100 % sum."""

    def validate_plan(self, *, required: bool) -> bool:
        from incubator.projects.tranches import check_shares

        ok = True
        shares: list[Decimal] = []
        filled = [e.form for e in self.rows.entries if not e.form.is_blank()]
        for f in filled:
            if f.share.errors:
                ok = False
                continue
            if f.share.data is None:
                f.share.errors.append("请填写该期比例")
                ok = False
            else:
                shares.append(f.share.data)
            if not f.condition.data:
                f.condition.errors.append("请选择该期的拨付条件")
                ok = False
        if not filled:
            if required:
                self.rows.errors.append("请至少设置一期拨付")  # type: ignore[attr-defined]
                return False
            return ok
        if ok:
            try:
                check_shares(shares)
            except ValueError as exc:
                self.plan_error = str(exc)
                return False
        return ok

    def plan(self) -> list[tuple[Decimal, TrancheCondition]]:
        return [(e.form.share.data, TrancheCondition(e.form.condition.data))
                for e in self.rows.entries if not e.form.is_blank()]

    def pad_rows(self) -> None:
        while len(self.rows.entries) < MAX_TRANCHES:
            self.rows.append_entry()


class ScheduleForm(PlanMixin, ChineseForm):
    rows = FieldList(FormField(TrancheRowForm), min_entries=MAX_TRANCHES, max_entries=MAX_TRANCHES)
    plan_error: str | None = None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self.validate_plan(required=True) and ok


# ------------------------------------------------------------------ 立项


class LaunchForm(ChineseForm):
    """The fields of 立项 (issue 5, item 1) shared by both kinds of launch."""

    title = StringField("项目名称", [InputRequired(message="请填写项目名称"),
                                    Length(max=200, message="项目名称不能超过200个字"), _single_line, _no_nul])
    purchasing_department = StringField("购买主体（主管部门）", [InputRequired(message="请填写购买主体"),
                                                         Length(max=200, message="不能超过200个字"), _single_line, _no_nul])
    service_content = TextAreaField("服务内容", [InputRequired(message="请填写服务内容"),
                                             Length(max=TEXT_MAX, message=f"不能超过{TEXT_MAX}个字"), _no_nul],
                                    render_kw={"rows": 4})
    quantity = TextAreaField("服务数量", [Optional(), Length(max=TEXT_MAX, message=f"不能超过{TEXT_MAX}个字"), _no_nul],
                             description="例如：服务老人200名，开展活动24场", render_kw={"rows": 2})
    quality_standard = TextAreaField("质量标准", [Optional(), Length(max=TEXT_MAX, message=f"不能超过{TEXT_MAX}个字"),
                                              _no_nul], description="例如：服务对象满意度不低于90%", render_kw={"rows": 2})
    term_start = _Date("服务期限开始", [InputRequired(message="请填写服务期限开始日期")])
    term_end = _Date("服务期限结束", [InputRequired(message="请填写服务期限结束日期")])
    term_reason = TextAreaField("期限超过1年的理由", [Optional(), Length(max=2000, message="不能超过2000个字"), _no_nul],
                                description="服务期限一般不超过1年；服务内容稳定、预算有保障的，最长3年，须说明理由。",
                                render_kw={"rows": 2})
    amount = MoneyField("立项金额（元）", [InputRequired(message="请填写立项金额")], min_value=Decimal("0.01"),
                        what="立项金额")
    budget_line = StringField("预算来源（已批复的预算项目）", [InputRequired(message="预算未批复不得立项：请填写预算项目"),
                                                  Length(max=200, message="不能超过200个字"), _single_line, _no_nul],
                              description="例如：2026年社区公益服务专项资金")
    budget_year = StrictIntegerField("预算年度", [InputRequired(message="请填写预算年度")], min_value=2000, max_value=2100)
    prior_assessment = TextAreaField("事前绩效评估意见", [Optional(), Length(max=TEXT_MAX, message=f"不能超过{TEXT_MAX}个字"),
                                                   _no_nul], render_kw={"rows": 3})

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.term_start.data and self.term_end.data and self.term_end.data < self.term_start.data:
            self.term_end.errors.append("结束日期不能早于开始日期")
            ok = False
        return ok

    def launch_kwargs(self) -> dict:
        return dict(
            title=self.title.data.strip(), amount=self.amount.data, term_start=self.term_start.data,
            term_end=self.term_end.data, term_reason=self.term_reason.data, budget_line=self.budget_line.data,
            budget_year=self.budget_year.data, purchasing_department=self.purchasing_department.data,
            service_content=self.service_content.data, quantity=self.quantity.data,
            quality_standard=self.quality_standard.data, prior_assessment=self.prior_assessment.data,
        )


class PurchaseForm(LaunchForm):
    """立项 of a purchase of service: the supplier (承接主体) is chosen among verified organisations."""

    org_id = SelectField("承接主体", [InputRequired(message="请选择承接主体")], choices=[])


# ------------------------------------------------------------------ payments


class ConfirmForm(ChineseForm):
    """Only the CSRF token: request and staff approval."""


class PayForm(ChineseForm):
    paid_on = _Date("拨付日期", [InputRequired(message="请填写拨付日期")])
    voucher_no = StringField("付款凭证号", [InputRequired(message="请填写付款凭证号"),
                                        Length(max=60, message="凭证号不能超过60个字符"), _single_line, _no_nul])

    def validate(self, extra_validators=None) -> bool:
        from incubator.db import today_local

        ok = super().validate(extra_validators)
        if self.paid_on.data and self.paid_on.data > today_local():
            self.paid_on.errors.append("拨付日期不能晚于今天")
            ok = False
        return ok


def first_error(form) -> str:
    for errors in form.errors.values():
        for e in errors if isinstance(errors, list) else [errors]:
            if isinstance(e, str):
                return e
            if isinstance(e, dict):
                for v in e.values():
                    if v:
                        return v[0]
    return getattr(form, "plan_error", None) or "请检查填写的内容"


__all__ = ["DEFAULT_PLAN", "TrancheRowForm", "ScheduleForm", "LaunchForm", "PurchaseForm", "PayForm", "ConfirmForm"]
