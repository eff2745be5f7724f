"""Forms of the registry. Every field says what is wrong in Chinese; nothing outside the declared
fields is ever read (no mass assignment)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    SelectChoice,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from incubator.accounts.normalize import (
    is_mobile,
    normalize_email,
    normalize_mobile,
    normalize_text,
    single_line,
    strip_invisible,
)
from incubator.core.forms import ChineseForm, StrictIntegerField
from incubator.core.forms import MultiCheckboxField as CoreMultiCheckboxField
from incubator.db import today_local
from incubator.orgs import uscc as uscc_mod
from incubator.orgs.models import AnnualReportResult, CreditKind, OrgType, ServiceField

EARLIEST_FOUNDING = date(1949, 1, 1)
# Landline: optional 0-prefixed area code (3–4 digits), 7–8 digit number, optional extension.
LANDLINE_RE = re.compile(r"^(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?$")
_CONTROL_EXCEPT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# ---------------------------------------------------------------- field helpers


def opts(pairs, optgroup: str | None = None) -> list[SelectChoice]:
    """Choices as SelectChoice objects (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(str(value), label, optgroup=optgroup) for value, label in pairs]



def _line(value):
    """Filter for one-line text: no invisible or control characters (CR/LF), single spaces.

    No NFKC here: it would turn Chinese full-width punctuation (，（）) into ASCII.
    """
    if not isinstance(value, str):
        return value
    value = re.sub(r"[\x00-\x1f\x7f]", " ", strip_invisible(value))
    return " ".join(value.split())


def _code(value):
    """Filter for codes and numbers people type with an IME: NFKC (full-width → ASCII) as well."""
    return single_line(value) if isinstance(value, str) else value


def _email(value):
    return normalize_email(value) if isinstance(value, str) else value


def _text(value):
    """Filter for multi-line text: no invisible characters, trimmed, newlines kept as \\n."""
    if not isinstance(value, str):
        return value
    return strip_invisible(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _upper_code(value):
    return uscc_mod.normalise(value) if isinstance(value, str) else value


class ChineseDateField(DateField):
    """DateField that refuses impossible dates (2026-02-30) with a Chinese message."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        raw = unicodedata.normalize("NFKC", valuelist[0]).strip()
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw)
        if not m:
            self.data = None
            raise ValueError("日期格式应为 年-月-日，例如 2020-05-01")
        try:
            self.data = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            self.data = None
            raise ValueError("日期不存在，请检查月份和日期") from None


class ChoiceField(SelectField):
    """SelectField with a Chinese message for a value that is not among the choices."""

    def pre_validate(self, form):
        if not self.validate_choice:
            return
        values = {str(v) for v, *_ in self.iter_choices()}
        if self.data is None or str(self.data) not in values:
            raise ValidationError("请从列表中选择")


class RadioChoiceField(RadioField):
    def pre_validate(self, form):
        if str(self.data) not in {str(v) for v, *_ in self.iter_choices()}:
            raise ValidationError("请从选项中选择")


class RegionField(SelectField):
    """An id chosen from a (possibly grouped) list; the form checks that it belongs to its parent."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce", int)
        kwargs["validate_choice"] = False
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = 0
            return
        raw = unicodedata.normalize("NFKC", valuelist[0]).strip()
        if not re.fullmatch(r"\d{1,10}", raw) or int(raw) > 2**31 - 1:
            self.data = 0
            raise ValueError("选项无效，请重新选择")
        self.data = int(raw)


class MultiCheckboxField(CoreMultiCheckboxField):
    def pre_validate(self, form):
        allowed = {str(v) for v, *_ in self.iter_choices()}
        if any(str(v) not in allowed for v in self.data or []):
            raise ValidationError("包含无效的选项")


class NoControlCharsForm(ChineseForm):
    """Refuses NUL and other control characters in any field (SECURITY.md bad input 12)."""

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for f in self:
            raw = getattr(f, "raw_data", None) or []
            if any(isinstance(v, str) and _CONTROL_EXCEPT_NEWLINES.search(v) for v in raw):
                f.errors = [*f.errors, "含有不允许的控制字符"]
                ok = False
        return ok


def required(message: str):
    return DataRequired(message=message)


# ---------------------------------------------------------------- registration


def normalised_phone(value: str) -> str:
    """A mobile number in its 11 digits; a landline as typed without spaces or brackets."""
    mobile = normalize_mobile(value)
    if is_mobile(mobile):
        return mobile
    return re.sub(r"[\s()（）]", "", normalize_text(value))


def valid_phone(value: str) -> bool:
    return is_mobile(value) or bool(LANDLINE_RE.match(value))


class OrgDetailsForm(NoControlCharsForm):
    """The organisation's part of registration and of resubmission after a rejection."""

    name = StringField("组织名称", filters=[_line], validators=[required("请填写组织名称"), Length(2, 100, "组织名称应为2至100个字符")])
    org_type = ChoiceField("组织类型", choices=opts([("", "请选择")] + OrgType.choices()), validators=[required("请选择组织类型")])
    uscc = StringField("统一社会信用代码", filters=[_upper_code], validators=[Length(max=40, message="统一社会信用代码应为18位")],
                       description="18位，登记证书上的代码；字母不区分大小写")
    filing_number = StringField("备案编号", filters=[_code], validators=[Length(max=40, message="备案编号最多40个字符")],
                                description="街道（乡镇）备案时取得的编号")
    host_uscc = StringField("挂靠/业务指导单位统一社会信用代码", filters=[_upper_code], validators=[Length(max=40, message="统一社会信用代码应为18位")],
                            description="已在本平台认证的社会组织（备案类社区社会组织必填）")
    district = RegionField("所在区")
    street = RegionField("街道（乡镇）")
    community = RegionField("社区（村）")
    address = StringField("办公地址", filters=[_line], validators=[required("请填写办公地址"), Length(max=200, message="办公地址最多200个字符")])
    founded_on = ChineseDateField("成立（登记）日期", validators=[InputRequired("请填写成立日期")])
    registration_authority = StringField("登记管理机关", filters=[_line], validators=[Optional(), Length(max=100, message="最多100个字符")],
                                         description="例如：洛阳市民政局；备案类填写备案的街道办事处")
    legal_rep = StringField("法定代表人（负责人）", filters=[_line], validators=[required("请填写法定代表人（负责人）"), Length(max=50, message="最多50个字符")])
    contact_name = StringField("联系人", filters=[_line], validators=[required("请填写联系人"), Length(max=50, message="最多50个字符")])
    contact_phone = StringField("联系电话", filters=[_code], validators=[required("请填写联系电话"), Length(max=30, message="电话号码过长")],
                                description="手机号或座机（如 0379-63912345）")
    contact_email = StringField("联系邮箱", filters=[_email], validators=[Optional(), Length(max=254, message="邮箱过长"), Email("邮箱格式不正确")])
    fields = MultiCheckboxField("服务领域", choices=opts(ServiceField.choices()), validators=[required("请至少选择一个服务领域")])
    staff_count = StrictIntegerField("专职工作人员数", [InputRequired("请填写专职工作人员数")], default=0, min_value=0, max_value=100000)
    social_worker_count = StrictIntegerField("其中持证社会工作者数", [InputRequired("请填写持证社会工作者数")], default=0,
                                             min_value=0, max_value=100000)
    has_party_org = RadioChoiceField("是否建立党组织", choices=opts([("0", "否"), ("1", "是")]), default="0", validators=[InputRequired("请选择是否建立党组织")])
    party_org_note = StringField("党组织情况说明", filters=[_line], validators=[Optional(), Length(max=200, message="最多200个字符")],
                                 description="如：独立党支部／联合党支部，党员人数")
    intro = TextAreaField("组织简介", filters=[_text], validators=[Optional(), Length(max=2000, message="简介最多2000个字")])

    # Filled by validation for the view to read.
    uscc_category: str | None = None
    uscc_warning: str | None = None

    def set_region_choices(self, districts) -> None:
        """Districts, and streets/communities grouped by their parent (works without JavaScript)."""
        self.district.choices = opts([(0, "请选择区")] + [(d.id, d.name) for d in districts])
        self.street.choices = opts([(0, "请选择街道（乡镇）")])
        self.community.choices = opts([(0, "（不属于具体社区）")])
        for d in districts:
            self.street.choices += opts([(s.id, s.name) for s in d.streets], optgroup=d.name)
            for s in d.streets:
                self.community.choices += opts([(c.id, c.name) for c in s.communities], optgroup=f"{d.name} · {s.name}")
        self._districts = {d.id: d for d in districts}

    # -- cross-field rules --
    def validate_uscc(self, field):
        if self.org_type.data == OrgType.FILED_COMMUNITY_ORG.value:
            field.data = None  # a filed organisation has no code: whatever was typed is ignored
            return
        if not field.data:
            raise ValidationError("请填写统一社会信用代码")
        try:
            field.data = uscc_mod.validate_civil_affairs(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        self.uscc_category = uscc_mod.civil_affairs_category(field.data)
        self.uscc_warning = uscc_mod.org_code_warning(field.data)
        expected = {"1": OrgType.SOCIAL_GROUP, "2": OrgType.SOCIAL_SERVICE_ORG, "3": OrgType.FOUNDATION}.get(field.data[1])
        if expected is not None and self.org_type.data and self.org_type.data != expected.value:
            chosen = OrgType(self.org_type.data).label if self.org_type.data in OrgType._value2member_map_ else self.org_type.data
            raise ValidationError(f"代码第2位“{field.data[1]}”表示{expected.label}，与所选组织类型“{chosen}”不一致")

    def validate_filing_number(self, field):
        if self.org_type.data != OrgType.FILED_COMMUNITY_ORG.value:
            field.data = None
            return
        if not field.data:
            raise ValidationError("备案类社区社会组织请填写备案编号")

    def validate_host_uscc(self, field):
        if self.org_type.data != OrgType.FILED_COMMUNITY_ORG.value:
            field.data = None
            return
        if not field.data:
            raise ValidationError("请填写挂靠（业务指导）单位的统一社会信用代码")
        try:
            field.data = uscc_mod.validate(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_district(self, field):
        if not field.data or field.data not in getattr(self, "_districts", {}):
            raise ValidationError("请选择所在区")

    def validate_street(self, field):
        district = getattr(self, "_districts", {}).get(self.district.data)
        if not field.data:
            if district is not None and not district.streets:
                return  # a district whose streets are not entered yet: the street stays empty
            raise ValidationError("请选择街道（乡镇）")
        if district is None or field.data not in {s.id for s in district.streets}:
            raise ValidationError("所选街道不属于所选的区")

    def validate_community(self, field):
        if not field.data:
            return
        district = getattr(self, "_districts", {}).get(self.district.data)
        street = next((s for s in district.streets if s.id == self.street.data), None) if district else None
        if street is None or field.data not in {c.id for c in street.communities}:
            raise ValidationError("所选社区不属于所选的街道")

    def validate_founded_on(self, field):
        if field.data is None:
            return
        if field.data > today_local():
            raise ValidationError("成立日期不能晚于今天")
        if field.data < EARLIEST_FOUNDING:
            raise ValidationError("成立日期不能早于1949年")

    def validate_contact_phone(self, field):
        field.data = normalised_phone(field.data or "")
        if not valid_phone(field.data):
            raise ValidationError("请填写正确的手机号或座机号码（如 13903790001 或 0379-63912345）")

    def validate_contact_email(self, field):
        if field.data:
            field.data = normalize_email(field.data)

    def validate_social_worker_count(self, field):
        if field.data is not None and self.staff_count.data is not None and field.data > self.staff_count.data:
            raise ValidationError("持证社会工作者数不能多于专职工作人员数")

    def validate_party_org_note(self, field):
        if self.has_party_org.data != "1":
            field.data = field.data or None


class RegistrationForm(OrgDetailsForm):
    """Organisation + its first member (who becomes its org admin)."""

    member_name = StringField("姓名", filters=[_line], validators=[required("请填写姓名"), Length(max=50, message="姓名最多50个字符")])
    member_email = StringField("登录邮箱", filters=[_email], validators=[required("请填写邮箱"), Length(max=254, message="邮箱过长"), Email("邮箱格式不正确")])
    member_mobile = StringField("手机号", filters=[_code], validators=[required("请填写手机号"), Length(max=20, message="手机号格式不正确")])
    password = PasswordField("密码", validators=[InputRequired("请设置密码")])
    password_confirm = PasswordField("确认密码", validators=[InputRequired("请再次输入密码")])

    def validate_member_email(self, field):
        field.data = normalize_email(field.data)

    def validate_member_mobile(self, field):
        field.data = normalize_mobile(field.data)
        if not is_mobile(field.data):
            raise ValidationError("请填写11位手机号码")

    def validate_password(self, field):
        from incubator.accounts.models import Role
        from incubator.accounts.passwords import check_password_policy

        problems = check_password_policy(field.data or "", Role.APPLICANT)
        if problems:
            raise ValidationError("；".join(problems))

    def validate_password_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError("两次输入的密码不一致")


class ContactForm(NoControlCharsForm):
    """What the org admin may change on a verified (or pending) organisation."""

    version = HiddenField()
    address = OrgDetailsForm.address
    contact_name = OrgDetailsForm.contact_name
    contact_phone = OrgDetailsForm.contact_phone
    contact_email = OrgDetailsForm.contact_email
    fields = OrgDetailsForm.fields
    staff_count = OrgDetailsForm.staff_count
    social_worker_count = OrgDetailsForm.social_worker_count
    has_party_org = OrgDetailsForm.has_party_org
    party_org_note = OrgDetailsForm.party_org_note
    intro = OrgDetailsForm.intro

    validate_contact_phone = OrgDetailsForm.validate_contact_phone
    validate_contact_email = OrgDetailsForm.validate_contact_email
    validate_social_worker_count = OrgDetailsForm.validate_social_worker_count


class ResubmitForm(OrgDetailsForm):
    version = HiddenField()


# ---------------------------------------------------------------- staff actions


class RejectForm(NoControlCharsForm):
    reason = TextAreaField("驳回原因", filters=[_text], validators=[required("请填写驳回原因，组织将看到此说明"), Length(max=1000, message="最多1000个字")])


class VerifyForm(NoControlCharsForm):
    note = StringField("认证意见", filters=[_line], validators=[Optional(), Length(max=200, message="最多200个字符")])


class AnnualReportForm(NoControlCharsForm):
    year = StrictIntegerField("年度", [InputRequired("请填写年度")], min_value=None, max_value=None)
    result = ChoiceField("年报（年检）结论", choices=opts([("", "请选择")] + AnnualReportResult.choices()), validators=[required("请选择结论")])
    note = StringField("说明", filters=[_line], validators=[Optional(), Length(max=200, message="最多200个字符")])

    def validate_year(self, field):
        if field.data is None:
            return
        last = today_local().year - 1
        if not 1949 <= field.data <= last:
            raise ValidationError(f"年度应在1949至{last}之间（年报于次年3月31日前报送）")


class RatingForm(NoControlCharsForm):
    grade = ChoiceField("评估等级", choices=opts([("", "请选择")] + [(str(g), f"{g}A") for g in range(5, 0, -1)]), validators=[required("请选择评估等级")])
    awarded_on = ChineseDateField("评定日期", validators=[InputRequired("请填写评定日期")])
    expires_on = ChineseDateField("有效期至", validators=[Optional()], description="留空则按评定日期起5年（民政部令第39号）")
    source = StringField("评估文件", filters=[_line], validators=[Optional(), Length(max=200, message="最多200个字符")])

    def validate_awarded_on(self, field):
        if field.data and field.data > today_local():
            raise ValidationError("评定日期不能晚于今天")
        if field.data and field.data < EARLIEST_FOUNDING:
            raise ValidationError("评定日期不能早于1949年")

    def validate_expires_on(self, field):
        if field.data and self.awarded_on.data and field.data < self.awarded_on.data:
            raise ValidationError("有效期不能早于评定日期")


class CreditRecordForm(NoControlCharsForm):
    kind = ChoiceField("类型", choices=opts([("", "请选择")] + CreditKind.choices()), validators=[required("请选择类型")])
    reason = TextAreaField("列入原因", filters=[_text], validators=[required("请填写列入原因"), Length(max=1000, message="最多1000个字")])
    source = StringField("决定文书（文号）", filters=[_line], validators=[required("请填写决定文书或文号"), Length(max=200, message="最多200个字符")])
    start_on = ChineseDateField("列入日期", validators=[InputRequired("请填写列入日期")])
    end_on = ChineseDateField("届满日期", validators=[Optional()],
                              description="留空按规则计算：活动异常名录6个月、严重违法失信名单2年、禁入期3年")

    def validate_start_on(self, field):
        if field.data and field.data < EARLIEST_FOUNDING:
            raise ValidationError("列入日期不能早于1949年")

    def validate_end_on(self, field):
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError("届满日期不能早于列入日期")


class CorrectionForm(NoControlCharsForm):
    corrected_on = ChineseDateField("整改完成日期", validators=[InputRequired("请填写整改完成日期")])

    def validate_corrected_on(self, field):
        if field.data and field.data > today_local():
            raise ValidationError("整改日期不能晚于今天")


class RemovalForm(NoControlCharsForm):
    removed_on = ChineseDateField("移出日期", validators=[InputRequired("请填写移出日期")])
    note = StringField("移出原因", filters=[_line], validators=[required("请填写移出原因"), Length(max=200, message="最多200个字符")])

    def validate_removed_on(self, field):
        if field.data and field.data > today_local():
            raise ValidationError("移出日期不能晚于今天")


class PdfForm(FlaskForm):
    """Only the CSRF token."""
