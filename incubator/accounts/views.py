"""Login (password, then TOTP for staff, finance and admin), logout, password reset, account security
and organisation members."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from incubator.accounts import services
from incubator.accounts import two_factor as totp
from incubator.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmForm,
    ConfirmPasswordForm,
    ForgotPasswordForm,
    InviteMemberForm,
    LoginForm,
    SecondFactorForm,
    SetPasswordForm,
)
from incubator.accounts.models import TokenPurpose, User
from incubator.db import utcnow
from incubator.extensions import db, limiter

bp = Blueprint("accounts", __name__)

PENDING = "pending_2fa"
PENDING_MINUTES = 5
SECOND_FACTOR_TRIES = 5
RATE_LIMITED = "操作过于频繁，请稍后再试。"


def _ip_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_IP"]


def _post_limit():
    return limiter.limit(_ip_limit, methods=["POST"], error_message=RATE_LIMITED)


def safe_next_url(target: str | None) -> str | None:
    """A same-site relative path, or None: refuses //evil.com, /\\evil.com, https:evil.com,
    absolute URLs and anything with control characters (browsers drop tabs and newlines)."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _client_ip() -> str:
    return (request.remote_addr or "")[:64]


def _after_login_url(next_url: str | None) -> str:
    return safe_next_url(next_url) or url_for("main.dashboard")


def _complete_login(user: User, next_url: str | None, *, method: str):
    """A new session for a fully authenticated user (SECURITY.md: new session on login)."""
    services.record_login(user, ip=_client_ip(), method=method)
    db.session.commit()
    session.clear()
    session["2fa_ok"] = bool(user.needs_two_factor)
    session["login_at"] = utcnow().isoformat()
    login_user(user)
    return redirect(_after_login_url(next_url))


# --- login and logout ---------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@_post_limit()
def login():
    form = LoginForm()
    next_url = safe_next_url(request.args.get("next") or form.next.data)
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_after_login_url(next_url))
        form.next.data = next_url or ""
        return render_template("accounts/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), 422
    try:
        user = services.authenticate(identifier=form.identifier.data, password=form.password.data, ip=_client_ip())
    except services.AccountError as exc:
        db.session.commit()  # keep the failed attempt
        return render_template("accounts/login.html", form=form, error=exc.message), (
            exc.status if exc.status == 429 else 422
        )
    if user.needs_two_factor:
        session.clear()
        session[PENDING] = {
            "uid": user.id,
            "ver": user.session_version,
            "exp": (utcnow() + timedelta(minutes=PENDING_MINUTES)).isoformat(),
            "next": next_url or "",
            "fails": 0,
        }
        if user.has_usable_second_factor:
            return redirect(url_for("accounts.two_factor"))
        return redirect(url_for("accounts.two_factor_setup"))
    return _complete_login(user, next_url, method="password")


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        services.record_logout(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("您已安全退出。", "info")
    return redirect(url_for("main.home"))


# --- second factor ------------------------------------------------------------------------------


def _pending() -> tuple[User, dict] | None:
    data = session.get(PENDING)
    if not isinstance(data, dict):
        return None
    try:
        expired = utcnow() > datetime.fromisoformat(data["exp"])
        user = services.get_user(int(data["uid"]))
    except (KeyError, TypeError, ValueError):
        expired, user = True, None
    if expired or user is None or not user.active or user.session_version != data.get("ver"):
        session.pop(PENDING, None)
        flash("验证已超时，请重新登录。", "warning")
        return None
    return user, data


def _second_factor_gate():
    """Where to go instead of the second-factor pages, or None to show them."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return None


@bp.route("/login/verify", methods=["GET", "POST"])
@_post_limit()
def two_factor():
    if (gate := _second_factor_gate()) is not None:
        return gate
    pending = _pending()
    if pending is None:
        return redirect(url_for("accounts.login"))
    user, data = pending
    if not user.has_usable_second_factor:
        return redirect(url_for("accounts.two_factor_setup"))
    form = SecondFactorForm()
    if request.method == "GET":
        return render_template("accounts/two_factor.html", form=form)
    if not form.validate_on_submit():
        return render_template("accounts/two_factor.html", form=form), 422
    try:
        method = services.check_second_factor(user, form.code.data, ip=_client_ip())
    except services.AccountError as exc:
        db.session.commit()
        data["fails"] = int(data.get("fails", 0)) + 1
        if exc.status == 429 or data["fails"] >= SECOND_FACTOR_TRIES:
            session.pop(PENDING, None)
            flash("验证码错误次数过多，请重新登录。", "danger")
            return redirect(url_for("accounts.login")), 303
        session[PENDING] = data
        form.code.errors = [exc.message]
        return render_template("accounts/two_factor.html", form=form), 422
    if method == "recovery":
        flash(f"您使用了一个恢复码，还剩 {totp.unused_recovery_codes(user)} 个。可在“账号安全”中重新生成。", "warning")
    return _complete_login(user, data.get("next"), method="totp" if method == "totp" else "recovery_code")


@bp.route("/login/setup-2fa", methods=["GET", "POST"])
@_post_limit()
def two_factor_setup():
    if (gate := _second_factor_gate()) is not None:
        return gate
    pending = _pending()
    if pending is None:
        return redirect(url_for("accounts.login"))
    user, data = pending
    if user.has_usable_second_factor:
        return redirect(url_for("accounts.two_factor"))
    # The candidate secret lives in this (signed) session until a code confirms it: a GET writes
    # nothing to the database.
    if not data.get("secret"):
        data["secret"] = totp.new_secret()
        session[PENDING] = data
    secret = data["secret"]
    form = SecondFactorForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                codes = services.enroll_two_factor(user, secret=secret, code=form.code.data)
            except services.AccountError as exc:
                form.code.errors = [exc.message]
            else:
                response = _complete_login(user, data.get("next"), method="totp_enrolment")
                return render_template(
                    "accounts/recovery_codes.html", codes=codes, continue_url=response.location, first_time=True
                )
        status = 422
    uri = totp.provisioning_uri(secret, user.email, current_app.config["TOTP_ISSUER"])
    return render_template(
        "accounts/two_factor_setup.html", form=form, secret=secret, qr=totp.qr_data_uri(uri), user=user
    ), status


# --- password reset -----------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@_post_limit()
def forgot_password():
    form = ForgotPasswordForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("accounts/forgot_password.html", form=form), 422
        services.request_password_reset(email=form.email.data, base_url=current_app.config["BASE_URL"])
        db.session.commit()
        minutes = int(services.reset_lifetime().total_seconds() // 60)
        flash(f"如果该邮箱已注册，重置链接已发送到该邮箱，请在 {minutes} 分钟内使用。", "info")
        return redirect(url_for("accounts.forgot_password"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route(services.RESET_PATH.replace("{token}", "<token>"), methods=["GET", "POST"])
@_post_limit()
def reset_password(token: str):
    try:
        row = services.valid_token(token)
    except services.InvalidToken as exc:
        return render_template("accounts/link_invalid.html", message=exc.message), 404
    invitation = row.purpose == TokenPurpose.INVITE
    form = SetPasswordForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.reset_password_with_token(token=token, new_password=form.password.data)
            except services.WeakPassword as exc:
                form.password.errors = list(exc.messages)
            except services.InvalidToken as exc:
                db.session.rollback()
                return render_template("accounts/link_invalid.html", message=exc.message), 404
            else:
                db.session.commit()
                if current_user.is_authenticated:
                    logout_user()
                session.clear()
                flash("密码已设置，请使用新密码登录。" if invitation else "密码已重置，请使用新密码登录。", "success")
                return redirect(url_for("accounts.login"))
        return render_template("accounts/reset_password.html", form=form, invitation=invitation, user=row.user), 422
    return render_template("accounts/reset_password.html", form=form, invitation=invitation, user=row.user)


# --- account security ---------------------------------------------------------------------------


def _security_page(status: int = 200, **forms):
    ctx = {
        "password_form": forms.get("password_form") or ChangePasswordForm(formdata=None),
        "email_form": forms.get("email_form") or ChangeEmailForm(formdata=None),
        "codes_form": forms.get("codes_form") or ConfirmPasswordForm(formdata=None),
        "recovery_left": totp.unused_recovery_codes(current_user) if current_user.needs_two_factor else None,
    }
    return render_template("accounts/security.html", **ctx), status


def _relogin_this_session(user: User) -> None:
    """After the session version was bumped: keep this browser logged in, everything else out."""
    keep = {k: session.get(k) for k in ("2fa_ok", "login_at")}
    session.clear()
    session.update({k: v for k, v in keep.items() if v is not None})
    login_user(user)


@bp.get("/account/security")
@login_required
def security():
    return _security_page()


@bp.post("/account/security/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _security_page(422, password_form=form)
    user = current_user._get_current_object()
    try:
        services.change_password(
            user, current_password=form.current_password.data, new_password=form.password.data, ip=_client_ip()
        )
    except services.WeakPassword as exc:
        form.password.errors = list(exc.messages)
        return _security_page(422, password_form=form)
    except services.AccountError as exc:
        db.session.commit()  # keep the failed attempt
        form.current_password.errors = [exc.message]
        return _security_page(exc.status if exc.status == 429 else 422, password_form=form)
    db.session.commit()
    _relogin_this_session(user)
    flash("密码已修改，其他设备上的登录已退出。", "success")
    return redirect(url_for("accounts.security"))


@bp.post("/account/security/email")
@login_required
def change_email():
    form = ChangeEmailForm()
    if not form.validate_on_submit():
        return _security_page(422, email_form=form)
    try:
        services.change_email(
            current_user, current_password=form.current_password.data, new_email=form.email.data, ip=_client_ip()
        )
    except services.AccountError as exc:
        db.session.commit()  # nothing changed but a failed attempt, if any
        field = exc.field if exc.field in ("email", "current_password") else "current_password"
        getattr(form, field).errors = [exc.message]
        return _security_page(exc.status if exc.status == 429 else 422, email_form=form)
    db.session.commit()
    flash("登录邮箱已修改，通知已发送到原邮箱。", "success")
    return redirect(url_for("accounts.security"))


@bp.post("/account/security/recovery-codes")
@login_required
def regenerate_recovery_codes():
    if not current_user.needs_two_factor:
        abort(404)
    form = ConfirmPasswordForm()
    if not form.validate_on_submit():
        return _security_page(422, codes_form=form)
    try:
        codes = services.regenerate_recovery_codes(
            current_user, current_password=form.current_password.data, ip=_client_ip()
        )
    except services.AccountError as exc:
        db.session.commit()  # keep the failed attempt
        form.current_password.errors = [exc.message]
        return _security_page(exc.status if exc.status == 429 else 422, codes_form=form)
    db.session.commit()
    return render_template(
        "accounts/recovery_codes.html", codes=codes, continue_url=url_for("accounts.security"), first_time=False
    )


# --- organisation members -----------------------------------------------------------------------


def _require_member():
    if not (current_user.role.value == "applicant" and current_user.org_id):
        abort(403)


def _members_page(status: int = 200, invite_form: InviteMemberForm | None = None):
    return render_template(
        "accounts/members.html",
        members=services.org_members(current_user.org_id),
        can_manage=services.can_manage_members(current_user),
        invite_form=invite_form or InviteMemberForm(formdata=None),
        confirm_form=ConfirmForm(),
    ), status


@bp.get("/org/members")
@login_required
def members():
    _require_member()
    return _members_page()


@bp.post("/org/members/invite")
@login_required
def invite_member():
    _require_member()
    if not services.can_manage_members(current_user):
        abort(403)
    form = InviteMemberForm()
    if not form.validate_on_submit():
        return _members_page(422, form)
    try:
        member = services.invite_member(
            current_user, name=form.name.data, email=form.email.data, mobile=form.mobile.data,
            base_url=current_app.config["BASE_URL"],
        )
    except services.AccountError as exc:
        db.session.rollback()
        getattr(form, exc.field if exc.field in ("email", "mobile", "name") else "email").errors = [exc.message]
        return _members_page(422, form)
    db.session.commit()
    flash(f"已邀请 {member.name}，设置密码的链接已发送到 {member.email}。", "success")
    return redirect(url_for("accounts.members"))


@bp.post("/org/members/<int:user_id>/remove")
@login_required
def remove_member(user_id: int):
    _require_member()
    if not services.can_manage_members(current_user):
        abort(403)
    member = services.get_user(user_id)
    if member is None or member.org_id != current_user.org_id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.remove_member(current_user, member)
    except services.AccountError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _members_page(exc.status)
    db.session.commit()
    flash(f"已移除成员 {member.name}，其登录已失效。", "success")
    return redirect(url_for("accounts.members"))
