"""Forms of the contracts area: generate, amend, the signed scans, publish, templates."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from incubator.core.forms import select_choices
from incubator.orgs.forms import ChineseDateField, ChoiceField, NoControlCharsForm
from incubator.projects.contracts.services import MAX_REASON_CHARS
from incubator.projects.models import ProjectKind


class GenerateForm(NoControlCharsForm):
    template_id = ChoiceField("合同模板", choices=[], validators=[Optional()], validate_choice=False)


class AmendForm(NoControlCharsForm):
    reason = TextAreaField("变更原因", validators=[DataRequired(message="请填写变更原因"),
                                               Length(max=MAX_REASON_CHARS, message=f"不能超过{MAX_REASON_CHARS}字")],
                           description="如：服务数量调整、服务期限延长、拨付计划调整；须先在项目中修改相应内容")


class OrgSignedForm(NoControlCharsForm):
    file = FileField("签章合同扫描件", description="PDF、JPG 或 PNG；须有法定代表人或授权代表签字并加盖公章")


class ReturnForm(NoControlCharsForm):
    reason = TextAreaField("退回原因", validators=[DataRequired(message="请填写退回原因"),
                                               Length(max=MAX_REASON_CHARS, message=f"不能超过{MAX_REASON_CHARS}字")],
                           description="如：缺少法定代表人签字、未加盖公章、上传的不是本版合同")


class CountersignForm(NoControlCharsForm):
    file = FileField("双方签章合同", description="PDF、JPG 或 PNG：甲乙双方均已签字盖章的合同")
    signed_on = ChineseDateField("签订日期", validators=[InputRequired(message="请填写签订日期")])


class ConfirmForm(NoControlCharsForm):
    pass


class NewTemplateForm(NoControlCharsForm):
    kind = ChoiceField("适用项目类型", choices=select_choices(ProjectKind.choices()))
    name = StringField("模板名称", validators=[Optional(), Length(max=100, message="不能超过100字")])


class TemplateForm(NoControlCharsForm):
    """Name, title and default flag; the clauses come as parallel lists ``heading`` / ``body``."""

    name = StringField("模板名称", validators=[DataRequired(message="请填写模板名称"), Length(max=100)])
    title = StringField("合同标题", validators=[DataRequired(message="请填写合同标题"), Length(max=100)],
                        description="如：政府购买服务合同、公益创投项目资助协议")
    is_default = BooleanField("设为该类项目的默认模板")
