"""Forms of the exits area: close (结项), terminate (终止) and the refund receipt (退款到账)."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from incubator.core.forms import MoneyField, StrictIntegerField, select_choices
from incubator.orgs.forms import ChineseDateField, ChoiceField, NoControlCharsForm
from incubator.projects.exits.models import MAX_DEBAR_YEARS, MIN_DEBAR_YEARS, ExitReason
from incubator.projects.exits.services import MAX_DETAIL, MAX_VOUCHER


class SelectField(ChoiceField):
    """A choice list with the Chinese message of ChoiceField, drawn as a select (ui.field looks at the type)."""


DEBAR_CHOICES = (("default", "按终止原因的默认做法"), ("yes", "予以禁入"), ("no", "不予禁入"))


class CloseForm(NoControlCharsForm):
    note = TextAreaField("结项说明", validators=[Optional(), Length(max=MAX_DETAIL, message=f"不能超过{MAX_DETAIL}字")])
    confirm_close = BooleanField("我已核对结算金额，确认办理结项", validators=[DataRequired(message="请勾选确认")])


class TerminateForm(NoControlCharsForm):
    reason_kind = SelectField("终止原因", choices=select_choices([("", "请选择"), *ExitReason.choices()]),
                              validators=[InputRequired(message="请选择终止原因")])
    detail = TextAreaField("事实与依据", validators=[DataRequired(message="请填写终止的事实与依据"),
                                                Length(max=MAX_DETAIL, message=f"不能超过{MAX_DETAIL}字")])
    debar = SelectField("禁入", choices=select_choices(DEBAR_CHOICES), default="default")
    debar_years = StrictIntegerField("禁入年限（年）", validators=[Optional()], min_value=MIN_DEBAR_YEARS,
                                     max_value=MAX_DEBAR_YEARS)
    override_reason = TextAreaField("不按默认做法的理由", validators=[Optional(), Length(max=MAX_DETAIL,
                                                                                  message=f"不能超过{MAX_DETAIL}字")])
    confirm = BooleanField("我已知悉上述后果，确认终止该项目", validators=[DataRequired(message="请勾选确认")])

    def debar_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.debar.data)


class RefundForm(NoControlCharsForm):
    amount = MoneyField("到账金额（元）", [InputRequired(message="请填写到账金额")], min_value=Decimal("0.01"))
    received_on = ChineseDateField("到账日期", validators=[InputRequired(message="请填写到账日期")])
    voucher_no = StringField("凭证号", validators=[DataRequired(message="请填写凭证号"),
                                                Length(max=MAX_VOUCHER, message=f"不能超过{MAX_VOUCHER}个字符")])
    file = FileField("银行回单（PDF或图片）")
