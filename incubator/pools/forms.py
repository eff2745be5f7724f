"""Forms of the expert pool. Only the declared fields are ever read (no mass assignment)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from incubator.accounts.normalize import is_mobile, normalize_email, normalize_mobile, single_line, strip_invisible
from incubator.core.forms import StrictIntegerField
from incubator.orgs import uscc as uscc_mod
from incubator.orgs.forms import ChineseDateField, ChoiceField, MultiCheckboxField, NoControlCharsForm, opts
from incubator.orgs.models import ServiceField
from incubator.pools.models import RelationKind

EARLIEST = date(1949, 1, 1)
LATEST = date(2100, 12, 31)


def _line(value):
    """One line: no invisible or control characters (CR/LF), single spaces; Chinese punctuation kept."""
    if not isinstance(value, str):
        return value
    value = re.sub(r"[\x00-\x1f\x7f]", " ", strip_invisible(value))
    return " ".join(value.split())


def _code(value):
    return single_line(value).upper() if isinstance(value, str) else value


def _email(value):
    return normalize_email(value) if isinstance(value, str) else value


def _mobile(value):
    return normalize_mobile(value) if isinstance(value, str) else value


def _text(value):
    if not isinstance(value, str):
        return value
    return strip_invisible(value).replace("\r\n", "\n").replace("\r", "\n").strip()


class SelectField(ChoiceField):
    """A choice with a Chinese message; named so that ``ui.field`` renders it as a styled <select>.

    With ``coerce=int`` (ids): blank is 0, and anything but a plausible id is refused.
    """

    def process_formdata(self, valuelist):
        if self.coerce is int and valuelist:
            raw = unicodedata.normalize("NFKC", valuelist[0] or "").strip()
            if raw == "":
                self.data = 0
                return
            if not re.fullmatch(r"[0-9]{1,10}", raw) or int(raw) > 2**31 - 1:
                self.data = None
                raise ValueError("请从列表中选择")
            self.data = int(raw)
            return
        super().process_formdata(valuelist)


def _date_range(form, field):
    if field.data and not EARLIEST <= field.data <= LATEST:
        raise ValidationError("日期应在1949年至2100年之间")


class ExpertForm(NoControlCharsForm):
    name = StringField("姓名", filters=[_line], validators=[DataRequired("请填写姓名"), Length(max=50, message="姓名最多50个字")])
    mobile = StringField("手机号", filters=[_mobile], validators=[DataRequired("请填写手机号"), Length(max=20, message="手机号格式不正确")],
                         render_kw={"inputmode": "numeric", "autocomplete": "off"})
    email = StringField("邮箱（登录账号）", filters=[_email],
                        validators=[DataRequired("请填写邮箱"), Length(max=254, message="邮箱过长"),
                                    Email("邮箱格式不正确", check_deliverability=False, granular_message=False)],
                        description="专家用该邮箱登录；保存后系统发送设置密码的链接")
    title = StringField("职称", filters=[_line], validators=[Optional(), Length(max=50, message="职称最多50个字")],
                        description="例如：教授、高级社会工作师、注册会计师")
    employer = StringField("工作单位", filters=[_line], validators=[DataRequired("请填写工作单位"), Length(max=100, message="工作单位最多100个字")],
                           description="退休人员可填写“某某大学（退休）”")
    employer_uscc = StringField("单位统一社会信用代码", filters=[_code], validators=[Optional(), Length(max=40, message="统一社会信用代码应为18位")],
                                description="选填；本平台已登记的组织会自动关联，用于回避")
    fields = MultiCheckboxField("专业领域", choices=opts(ServiceField.choices()), validators=[DataRequired("请至少选择一个专业领域")])
    district = SelectField("所在区", coerce=int, default=0)
    max_reviews_per_round = StrictIntegerField("每轮最多评审数", [InputRequired("请填写每轮最多评审数")], default=10,
                                               min_value=1, max_value=100)
    bio = TextAreaField("专业简介", filters=[_text], validators=[Optional(), Length(max=2000, message="简介最多2000个字")],
                        render_kw={"rows": 3})
    notes = TextAreaField("内部备注", filters=[_text], validators=[Optional(), Length(max=2000, message="备注最多2000个字")],
                          render_kw={"rows": 2}, description="仅工作人员可见")

    def set_district_choices(self, districts, *, only: int | None = None) -> None:
        pairs = [(d.id, d.name) for d in districts if only is None or d.id == only]
        self.district.choices = opts(([] if only else [(0, "（不限）")]) + pairs)

    def validate_mobile(self, field):
        if field.data and not is_mobile(field.data):
            raise ValidationError("请填写11位中国大陆手机号")

    def validate_employer_uscc(self, field):
        if field.data:
            try:
                field.data = uscc_mod.validate(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None


class StatusForm(NoControlCharsForm):
    action = SelectField("操作", choices=opts([("suspend", "暂停"), ("remove", "出库"), ("reinstate", "恢复在库")]))
    reason = TextAreaField("原因", filters=[_text], validators=[DataRequired("请填写原因"), Length(max=500, message="原因最多500个字")],
                           render_kw={"rows": 2})


class RelationForm(NoControlCharsForm):
    org_id = HiddenField()
    org_name = StringField("组织名称", filters=[_line], validators=[Optional(), Length(max=100, message="组织名称最多100个字")],
                           description="输入名称或统一社会信用代码，从平台名录中选择；名录中没有的请直接填写全称")
    org_uscc = StringField("统一社会信用代码", filters=[_code], validators=[Optional(), Length(max=40, message="统一社会信用代码应为18位")])
    kind = SelectField("关系类型", choices=opts([("", "请选择")] + RelationKind.choices()), validators=[DataRequired("请选择关系类型")])
    start_on = ChineseDateField("开始日期", validators=[Optional(), _date_range])
    end_on = ChineseDateField("结束日期", validators=[Optional(), _date_range], description="仍在持续的请留空")
    note = StringField("说明", filters=[_line], validators=[Optional(), Length(max=300, message="说明最多300个字")])

    def validate_org_id(self, field):
        raw = (field.data or "").strip()
        if raw and (not raw.isdigit() or len(raw) > 10 or not 0 < int(raw) <= 2**31 - 1):
            raise ValidationError("所选组织无效，请重新选择")
        field.data = int(raw) if raw else None

    def validate_org_uscc(self, field):
        if field.data:
            try:
                field.data = uscc_mod.validate(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None

    def validate_end_on(self, field):
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError("结束日期不能早于开始日期")

    def validate_org_name(self, field):
        if not field.data and not (self.org_id.data or "").strip() and not self.org_uscc.data:
            raise ValidationError("请从名录中选择组织，或填写组织名称")


class UnavailableForm(NoControlCharsForm):
    start_on = ChineseDateField("开始日期", validators=[InputRequired("请填写开始日期"), _date_range])
    end_on = ChineseDateField("结束日期", validators=[InputRequired("请填写结束日期"), _date_range])
    note = StringField("说明", filters=[_line], validators=[Optional(), Length(max=200, message="说明最多200个字")],
                       description="例如：出差、学术会议")

    def validate_end_on(self, field):
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError("结束日期不能早于开始日期")


class ImportForm(NoControlCharsForm):
    file = FileField("专家名单（.xlsx）")


class EmptyForm(NoControlCharsForm):
    """Only the CSRF token (delete buttons, resend invitation)."""
