"""Forms of the accounts pages. Only the declared fields are ever read (no mass assignment)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from incubator.accounts.models import Role
from incubator.accounts.normalize import is_mobile, normalize_email, normalize_mobile, normalize_text, single_line


class BaseForm(FlaskForm):
    """WTForms' own Chinese messages, and no NUL byte in any field (SECURITY.md bad input 12)."""

    class Meta:
        locales = ("zh",)

        def get_translations(self, form):
            return DefaultMeta.get_translations(self, form)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators=extra_validators)
        for field in self:
            raw = [v for v in (getattr(field, "raw_data", None) or []) if isinstance(v, str)]
            if any("\x00" in v for v in raw) or (isinstance(field.data, str) and "\x00" in field.data):
                field.errors = [*field.errors, "不能包含空字符（NUL）。"]
                ok = False
        return ok


def _strip(value):
    return normalize_text(value) if isinstance(value, str) else value


def _email(value):
    return normalize_email(value) if isinstance(value, str) else value


def _mobile(value):
    return (normalize_mobile(value) or None) if isinstance(value, str) else value


def _name(value):
    return single_line(value) if isinstance(value, str) else value


def _valid_mobile(form, field):
    if field.data and not is_mobile(field.data):
        raise ValidationError("请输入 11 位手机号码。")


def optional_int(value):
    if value in (None, "", "None"):
        return None
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.isdigit() or len(text) > 9:
        raise ValueError("不是有效的编号")
    return int(text)


EMAIL = [DataRequired("请输入邮箱。"), Length(max=254, message="邮箱过长。"),
         Email(message="邮箱格式不正确。", check_deliverability=False, granular_message=False)]
NEW_PASSWORD = [DataRequired("请输入新密码。")]


class LoginForm(BaseForm):
    identifier = StringField("邮箱或手机号", [DataRequired("请输入邮箱或手机号。"), Length(max=254, message="账号过长。")],
                             filters=[_strip])
    password = PasswordField("密码", [DataRequired("请输入密码。")])
    next = HiddenField()


class SecondFactorForm(BaseForm):
    code = StringField("验证码", [DataRequired("请输入验证码。"), Length(max=20, message="验证码格式不正确。")],
                       filters=[_strip])


class ForgotPasswordForm(BaseForm):
    email = StringField("注册邮箱", EMAIL, filters=[_email])


class SetPasswordForm(BaseForm):
    password = PasswordField("新密码", NEW_PASSWORD)
    confirm = PasswordField("再次输入新密码", [DataRequired("请再次输入新密码。"),
                                               EqualTo("password", message="两次输入的密码不一致。")])


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField("当前密码", [DataRequired("请输入当前密码。")])


class ChangeEmailForm(BaseForm):
    email = StringField("新邮箱", EMAIL, filters=[_email])
    current_password = PasswordField("当前密码", [DataRequired("请输入当前密码。")])


class ConfirmPasswordForm(BaseForm):
    current_password = PasswordField("当前密码", [DataRequired("请输入当前密码。")])


class InviteMemberForm(BaseForm):
    name = StringField("姓名", [DataRequired("请输入姓名。"), Length(max=50, message="姓名最多 50 个字。")],
                       filters=[_name])
    email = StringField("邮箱", EMAIL, filters=[_email])
    mobile = StringField("手机号", [Optional(), Length(max=20), _valid_mobile], filters=[_mobile])


CHOICE_MESSAGES = {"invalid_choice_message": "请从列表中选择。", "invalid_value_message": "选项无效。"}


def _choices(pairs, blank: str | None = None) -> list[SelectChoice]:
    head = [SelectChoice("", blank)] if blank is not None else []
    return head + [SelectChoice(str(value), label) for value, label in pairs]


class UserScopeForm(BaseForm):
    role = SelectField("角色", choices=_choices(Role.choices()), validators=[DataRequired("请选择角色。")],
                       **CHOICE_MESSAGES)
    district_id = SelectField("所属区（工作人员）", coerce=optional_int, choices=[], **CHOICE_MESSAGES,
                              description="仅对民政工作人员有效；选“市级”表示可查看全市。")
    org_id = SelectField("所属组织（社会组织用户）", coerce=optional_int, choices=[], **CHOICE_MESSAGES)
    is_org_admin = BooleanField("本组织管理员")

    def set_choices(self, districts: list[tuple[int, str]], orgs: list[tuple[int, str]]) -> None:
        self.district_id.choices = _choices(districts, "市级（全市）")
        self.org_id.choices = _choices(orgs, "—")


class UserCreateForm(UserScopeForm):
    name = StringField("姓名", [DataRequired("请输入姓名。"), Length(max=50, message="姓名最多 50 个字。")],
                       filters=[_name])
    email = StringField("邮箱（登录账号）", EMAIL, filters=[_email])
    mobile = StringField("手机号", [Optional(), Length(max=20), _valid_mobile], filters=[_mobile])


class UserEditForm(UserScopeForm):
    pass


class ConfirmForm(BaseForm):
    """A bare POST with its CSRF token (disable, enable, reset 2FA, remove member)."""

