"""Forms of the budget pages: approval rows, staff revision and moves, expenses, adjustments, decisions."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf.file import MultipleFileField
from wtforms import FieldList, FormField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from incubator.applications.models import FundingSource
from incubator.calls.models import BudgetCategory
from incubator.core.forms import ChineseSubForm, MoneyField, select_choices
from incubator.orgs.forms import ChineseDateField, ChoiceField, NoControlCharsForm

CATEGORY_CHOICES = [("", "请选择")] + [(c.value, c.label) for c in BudgetCategory]
SOURCE_CHOICES = [(s.value, s.label) for s in FundingSource]
CENT = Decimal("0.01")


def _required(what: str):
    return InputRequired(message=f"请填写{what}")


class LineRowForm(ChineseSubForm):
    category = ChoiceField("预算科目", choices=select_choices(CATEGORY_CHOICES), validate_choice=False)
    item = StringField("支出内容", validators=[Optional(), Length(max=200, message="支出内容不能超过200字")])
    amount = MoneyField("核定金额", validators=[Optional()], what="核定金额")
    source = ChoiceField("资金来源", choices=select_choices(SOURCE_CHOICES))
    note = StringField("测算说明", validators=[Optional(), Length(max=2000)])

    @property
    def is_blank(self) -> bool:
        return not (self.category.data or (self.item.data or "").strip() or self.amount.raw_data and
                    (self.amount.raw_data[0] or "").strip())


class ApproveBudgetForm(NoControlCharsForm):
    rows = FieldList(FormField(LineRowForm), min_entries=1, max_entries=60)
    note = TextAreaField("核定说明", validators=[Optional(), Length(max=2000)])


class ReviseLineForm(NoControlCharsForm):
    item = StringField("支出内容", validators=[_required("支出内容"), Length(max=200)])
    note = TextAreaField("测算说明", validators=[Optional(), Length(max=2000)])
    approved = MoneyField("核定金额", validators=[Optional()], what="核定金额",
                          description="仅配套资金科目可直接修改金额；资助资金请通过科目间调剂调整")
    reason = TextAreaField("修改理由", validators=[_required("修改理由"), Length(max=2000)])


class AddLineForm(NoControlCharsForm):
    category = ChoiceField("预算科目", choices=select_choices(CATEGORY_CHOICES[1:]))
    item = StringField("支出内容", validators=[_required("支出内容"), Length(max=200)])
    source = ChoiceField("资金来源", choices=select_choices(SOURCE_CHOICES))
    note = StringField("测算说明", validators=[Optional(), Length(max=2000)])
    reason = TextAreaField("增设理由", validators=[_required("增设理由"), Length(max=2000)])


class MoveForm(NoControlCharsForm):
    """A move between two lines: the organisation's request, or staff's direct move."""

    from_line = ChoiceField("调出科目", coerce=str)
    to_line = ChoiceField("调入科目", coerce=str)
    amount = MoneyField("调剂金额", validators=[_required("调剂金额")], min_value=CENT, what="调剂金额")
    reason = TextAreaField("调剂理由", validators=[_required("调剂理由"), Length(max=2000)])


class ExpenseForm(NoControlCharsForm):
    line = ChoiceField("预算科目", coerce=str)
    amount = MoneyField("支出金额", validators=[_required("支出金额")], min_value=CENT, what="支出金额")
    spent_on = ChineseDateField("支出日期", validators=[InputRequired(message="请填写支出日期")])
    payee = StringField("收款单位（人）", validators=[_required("收款单位（人）"), Length(max=200)])
    description = TextAreaField("支出事由", validators=[_required("支出事由"), Length(max=2000)])
    receipts = MultipleFileField("票据", description="发票、收据或签收单：PDF、JPG 或 PNG，可多选，至少一张")


class ReasonForm(NoControlCharsForm):
    reason = TextAreaField("理由", validators=[_required("理由"), Length(max=2000)])


class ConfirmForm(NoControlCharsForm):
    """An action without fields (CSRF only)."""
