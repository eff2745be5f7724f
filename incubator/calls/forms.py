"""Forms of the calls domain: the call editor (with row lists), document upload, list filters."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from incubator.calls.models import BudgetCategory, CallKind, FieldKind
from incubator.calls.services import (
    ATTACHMENT_EXTENSIONS,
    DEFAULT_ATTACHMENT_EXTENSIONS,
    AttachmentTypeRow,
    CallData,
    CapRow,
    FieldRow,
)
from incubator.core.forms import (
    BeijingDateTimeField,
    ChineseForm,
    ChineseSubForm,
    MoneyField,
    MultiCheckboxField,
    PercentField,
    StrictIntegerField,
    select_choices,
)
from incubator.orgs.models import OrgType, ServiceField
from incubator.projects.forms import MAX_TRANCHES, TrancheRowForm, plan_rows_default

MAX_CAP_ROWS = len(BudgetCategory)
MAX_FIELD_ROWS = 40
MAX_ATTACHMENT_ROWS = 30
NOTICE_MAX = 20000
CITY = "city"


def _no_nul(form, field):
    if field.data and ("\x00" in field.data):
        raise ValidationError("内容包含非法字符")


def _single_line(form, field):
    if field.data and ("\r" in field.data or "\n" in field.data):
        raise ValidationError("请不要在此处换行")


class CapForm(ChineseSubForm):
    category = SelectField("预算科目", choices=select_choices([("", "—请选择科目—")] + BudgetCategory.choices()))
    max_share = PercentField("不超过预算总额的（%）", [Optional()], min_value=Decimal("0.01"), what="科目比例上限")

    def is_blank(self) -> bool:
        return not self.category.data and self.max_share.data is None and not (self.max_share.raw_data or [""])[0].strip()


class ExtraFieldForm(ChineseSubForm):
    row_id = HiddenField()
    label = StringField("字段名称", [Optional(), Length(max=100, message="字段名称不能超过100个字"), _single_line, _no_nul])
    kind = SelectField("类型", choices=select_choices(FieldKind.choices()), default=FieldKind.TEXT.value)
    required = BooleanField("必填")
    help_text = StringField("填写说明", [Optional(), Length(max=300, message="填写说明不能超过300个字"), _single_line, _no_nul])
    choices = TextAreaField("选项（每行一个）", [Optional(), Length(max=2000, message="选项内容过长"), _no_nul], render_kw={"rows": 2})

    def is_blank(self) -> bool:
        return not (self.label.data or "").strip() and not (self.help_text.data or "").strip() and not (self.choices.data or "").strip()

    def choice_list(self) -> list[str]:
        seen: list[str] = []
        for line in (self.choices.data or "").splitlines():
            line = line.strip()[:100]
            if line and line not in seen:
                seen.append(line)
        return seen


class AttachmentTypeForm(ChineseSubForm):
    row_id = HiddenField()
    name = StringField("附件名称", [Optional(), Length(max=100, message="附件名称不能超过100个字"), _single_line, _no_nul])
    required = BooleanField("必须上传", default=True)
    allowed_extensions = MultiCheckboxField(
        "允许的文件类型", choices=select_choices([(e, e.upper()) for e in ATTACHMENT_EXTENSIONS]), default=DEFAULT_ATTACHMENT_EXTENSIONS
    )

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip()


class CallForm(ChineseForm):
    # The version the editor was opened at: a save over someone else's newer save is refused.
    version_id = HiddenField()

    kind = SelectField("通知类型", choices=select_choices(CallKind.choices()))
    year = StrictIntegerField("年度", [InputRequired(message="请填写年度")], min_value=2000, max_value=2100)
    title = StringField(
        "通知标题",
        [InputRequired(message="请填写通知标题"), Length(max=200, message="标题不能超过200个字"), _single_line, _no_nul],
    )
    notice = TextAreaField(
        "通知正文",
        [InputRequired(message="请填写通知正文"), Length(max=NOTICE_MAX, message=f"通知正文不能超过{NOTICE_MAX}个字"), _no_nul],
        description="纯文本，换行会按原样显示；不支持 HTML。",
        render_kw={"rows": 12},
    )
    scope = SelectField("发布范围", choices=[])
    opens_at = BeijingDateTimeField("申报开始时间", [InputRequired(message="请填写申报开始时间")], description="北京时间")
    closes_at = BeijingDateTimeField("申报截止时间", [InputRequired(message="请填写申报截止时间")], description="北京时间")

    fund_pool = MoneyField("资金池总额（元）", [InputRequired(message="请填写资金池总额")], what="资金池总额")
    grant_min = MoneyField("单个项目资助下限（元）", [Optional()], what="资助下限")
    grant_max = MoneyField("单个项目资助上限（元）", [InputRequired(message="请填写单个项目资助上限")], what="资助上限")
    # Grant ≤ 60 % of the project budget by default (Guangzhou practice, DOMAIN.md).
    max_grant_share = PercentField(
        "资助金额占项目总预算的最高比例（%）",
        [InputRequired(message="请填写资助比例上限")],
        min_value=Decimal("1"),
        what="资助比例上限",
        default=Decimal("60"),
        description="其余部分为配套资金。默认60%。",
    )
    # At most 2 applications per organisation per call by default (Guangzhou Haizhu practice).
    max_applications_per_org = StrictIntegerField(
        "每个组织最多申报项目数", [InputRequired(message="请填写每个组织最多申报项目数")], min_value=1, max_value=20, default=2
    )

    allowed_org_types = MultiCheckboxField("允许申报的组织类型", choices=select_choices(OrgType.choices()), description="都不勾选表示所有类型均可申报。")
    min_years_since_founding = StrictIntegerField(
        "成立年限不少于（年）", [InputRequired(message="请填写成立年限（不限请填0）")], min_value=0, max_value=50, default=0
    )
    require_annual_report_pass = BooleanField("须已报送上一年度年报且结论为合格或基本合格", default=True)
    district_orgs_only = BooleanField("仅限本区社会组织申报（区级通知）")
    grade_preference_note = StringField(
        "等级评估优先说明",
        [Optional(), Length(max=200, message="不能超过200个字"), _single_line, _no_nul],
        description="例如“3A及以上等级的组织同等条件下优先”。等级只能作为优先参考，不能作为申报门槛（财政部令第102号）。",
    )
    themes = MultiCheckboxField("资助领域", choices=select_choices(ServiceField.choices()))

    caps = FieldList(FormField(CapForm), min_entries=0, max_entries=MAX_CAP_ROWS)
    fields = FieldList(FormField(ExtraFieldForm), min_entries=0, max_entries=MAX_FIELD_ROWS)
    attachment_types = FieldList(FormField(AttachmentTypeForm), min_entries=0, max_entries=MAX_ATTACHMENT_ROWS)
    # 分期拨付计划 of the call's projects (rows left blank are ignored; all blank = the default 50/30/20).
    tranche_plan = FieldList(FormField(TrancheRowForm), min_entries=0, max_entries=MAX_TRANCHES,
                             default=plan_rows_default)
    tranche_plan_error: str | None = None

    def __init__(self, *args, scope_choices: list[tuple[str, str]], **kw):
        super().__init__(*args, **kw)
        self.scope.choices = select_choices(scope_choices)

    def ensure_blank_rows(self) -> None:
        """One empty row at the end of each list, so the editor works without JavaScript."""
        while len(self.tranche_plan.entries) < 4:
            self.tranche_plan.append_entry()
        for name, limit in (("caps", MAX_CAP_ROWS), ("fields", MAX_FIELD_ROWS), ("attachment_types", MAX_ATTACHMENT_ROWS)):
            rows = getattr(self, name)
            while len(rows.entries) >= 2 and rows.entries[-1].form.is_blank() and rows.entries[-2].form.is_blank():
                rows.pop_entry()
            if len(rows) < limit and (not rows.entries or not rows.entries[-1].form.is_blank()):
                rows.append_entry()

    # ---- cross-field checks (each error next to its field) ----
    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.opens_at.data and self.closes_at.data and self.closes_at.data <= self.opens_at.data:
            self.closes_at.errors.append("截止时间必须晚于开始时间")
            ok = False
        gmin = self.grant_min.data or Decimal("0")
        if self.grant_max.data is not None and self.grant_max.data < gmin:
            self.grant_max.errors.append("资助上限不能低于资助下限")
            ok = False
        if self.fund_pool.data is not None and self.grant_max.data is not None and self.grant_max.data > self.fund_pool.data:
            self.grant_max.errors.append("单个项目资助上限不能超过资金池总额")
            ok = False
        if self.grant_max.data is not None and self.grant_max.data <= 0 and not self.grant_max.errors:
            self.grant_max.errors.append("资助上限必须大于0")
            ok = False
        if self.district_orgs_only.data and self.scope.data == CITY:
            self.district_orgs_only.errors.append("市级通知不能设置“仅限本区组织申报”")
            ok = False
        ok = self._validate_rows() and ok
        ok = self._validate_tranche_plan() and ok
        return ok

    def _validate_tranche_plan(self) -> bool:
        from incubator.projects.tranches import check_shares

        ok, shares = True, []
        for entry in self.tranche_plan.entries:
            f = entry.form
            if f.is_blank():
                continue
            if f.share.errors:
                ok = False
            elif f.share.data is None:
                f.share.errors.append("请填写该期比例")
                ok = False
            else:
                shares.append(f.share.data)
            if not f.condition.data:
                f.condition.errors.append("请选择该期的拨付条件")
                ok = False
        if ok and shares:
            try:
                check_shares(shares)
            except ValueError as exc:
                self.tranche_plan_error = str(exc)
                self.tranche_plan.errors.append(str(exc))
                ok = False
        return ok

    def _validate_rows(self) -> bool:
        ok = True
        seen = set()
        for entry in self.caps.entries:
            f = entry.form
            if f.is_blank():
                continue
            if not f.category.data:
                f.category.errors.append("请选择预算科目")
                ok = False
            elif f.category.data in seen:
                f.category.errors.append("该科目已设置过比例上限")
                ok = False
            seen.add(f.category.data)
            if f.max_share.data is None and not f.max_share.errors:
                f.max_share.errors.append("请填写比例上限")
                ok = False
        for entry in self.fields.entries:
            f = entry.form
            if f.is_blank():
                continue
            if not (f.label.data or "").strip():
                f.label.errors.append("请填写字段名称")
                ok = False
            if f.kind.data == FieldKind.CHOICE.value and len(f.choice_list()) < 2:
                f.choices.errors.append("单选题至少需要两个选项，每行一个")
                ok = False
        return ok

    # ---- typed data for the service ----
    def to_data(self) -> CallData:
        return CallData(
            kind=CallKind(self.kind.data),
            year=self.year.data,
            title=self.title.data.strip(),
            notice=self.notice.data.replace("\r\n", "\n"),
            district_id=None if self.scope.data == CITY else int(self.scope.data),
            opens_at=self.opens_at.data,
            closes_at=self.closes_at.data,
            fund_pool=self.fund_pool.data,
            grant_min=self.grant_min.data or Decimal("0"),
            grant_max=self.grant_max.data,
            max_grant_share=self.max_grant_share.data,
            max_applications_per_org=self.max_applications_per_org.data,
            allowed_org_types=[OrgType(v) for v in self.allowed_org_types.data or []],
            min_years_since_founding=self.min_years_since_founding.data,
            require_annual_report_pass=bool(self.require_annual_report_pass.data),
            district_orgs_only=bool(self.district_orgs_only.data) and self.scope.data != CITY,
            grade_preference_note=self.grade_preference_note.data,
            themes=[ServiceField(v) for v in self.themes.data or []],
            caps=[
                CapRow(BudgetCategory(e.form.category.data), e.form.max_share.data)
                for e in self.caps.entries
                if not e.form.is_blank()
            ],
            fields=[
                FieldRow(
                    label=e.form.label.data.strip(),
                    kind=FieldKind(e.form.kind.data),
                    required=bool(e.form.required.data),
                    help_text=e.form.help_text.data,
                    choices=e.form.choice_list(),
                    row_id=_int_or_none(e.form.row_id.data),
                )
                for e in self.fields.entries
                if not e.form.is_blank()
            ],
            attachment_types=[
                AttachmentTypeRow(
                    name=e.form.name.data.strip(),
                    required=bool(e.form.required.data),
                    allowed_extensions=list(e.form.allowed_extensions.data or []),
                    row_id=_int_or_none(e.form.row_id.data),
                )
                for e in self.attachment_types.entries
                if not e.form.is_blank()
            ],
            tranche_plan=[
                (e.form.share.data, e.form.condition.data) for e in self.tranche_plan.entries if not e.form.is_blank()
            ],
        )


def _int_or_none(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def form_data_from_call(call) -> dict:
    """Initial data for the editor from a saved call."""
    return {
        "version_id": str(call.version_id),
        "kind": call.kind.value,
        "year": call.year,
        "title": call.title,
        "notice": call.notice,
        "scope": CITY if call.district_id is None else str(call.district_id),
        "opens_at": call.opens_at,
        "closes_at": call.closes_at,
        "fund_pool": call.fund_pool,
        "grant_min": call.grant_min,
        "grant_max": call.grant_max,
        "max_grant_share": call.max_grant_share,
        "max_applications_per_org": call.max_applications_per_org,
        "allowed_org_types": list(call.allowed_org_types or []),
        "min_years_since_founding": call.min_years_since_founding,
        "require_annual_report_pass": call.require_annual_report_pass,
        "district_orgs_only": call.district_orgs_only,
        "grade_preference_note": call.grade_preference_note or "",
        "themes": list(call.themes or []),
        "caps": [{"category": c.category.value, "max_share": c.max_share} for c in call.budget_caps],
        "fields": [
            {
                "row_id": str(f.id),
                "label": f.label,
                "kind": f.kind.value,
                "required": f.required,
                "help_text": f.help_text or "",
                "choices": "\n".join(f.choices or []),
            }
            for f in call.fields
        ],
        "attachment_types": [
            {"row_id": str(a.id), "name": a.name, "required": a.required, "allowed_extensions": list(a.allowed_extensions or [])}
            for a in call.attachment_types
        ],
        "tranche_plan": [{"share": share, "condition": condition} for share, condition in call.tranche_plan_rows],
    }


class DocumentForm(ChineseForm):
    title = StringField("文件标题", [Optional(), Length(max=200, message="标题不能超过200个字"), _single_line, _no_nul])
    file = FileField("文件")


class ConfirmForm(ChineseForm):
    """Only the CSRF token: publish, unpublish, archive and document removal."""
