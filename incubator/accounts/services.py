"""Accounts: authentication, passwords, second factor, reset links, organisation members, users.

Services take model objects and typed keyword arguments, change data and ``flush()``; the caller
commits. Failures raise ``AccountError`` subclasses carrying a Chinese message and an HTTP status.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from incubator.accounts import two_factor
from incubator.accounts.models import LoginFailure, PasswordToken, Role, TokenPurpose, User
from incubator.accounts.normalize import normalize_email, normalize_identifier, normalize_mobile, single_line
from incubator.accounts.passwords import check_password_policy, dummy_verify, hash_password, verify_password
from incubator.core import audit
from incubator.db import utcnow
from incubator.extensions import db

BAD_CREDENTIALS = "账号或密码错误"
RESET_PATH = "/password/reset/{token}"
# SECURITY.md 6.4: reset links live at most 15 minutes; invitations may live longer.
MAX_RESET_MINUTES = 15
DEFAULT_INVITE_HOURS = 72
MAX_DB_INT = 2**31 - 1


# --- errors -------------------------------------------------------------------------------------


class AccountError(Exception):
    status = 422
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class BadCredentials(AccountError):
    def __init__(self):
        super().__init__(BAD_CREDENTIALS)


class AccountLocked(AccountError):
    status = 429


class AccountDisabled(AccountError):
    status = 403


class WrongPassword(AccountError):
    field = "current_password"

    def __init__(self):
        super().__init__("当前密码不正确")


class WeakPassword(AccountError):
    field = "password"

    def __init__(self, messages: list[str]):
        super().__init__("；".join(messages))
        self.messages = messages


class DuplicateIdentifier(AccountError):
    status = 409


class NotAllowed(AccountError):
    status = 409


class InvalidToken(AccountError):
    status = 404

    def __init__(self):
        super().__init__("链接无效、已使用或已过期，请重新申请。")


class InvalidCode(AccountError):
    field = "code"

    def __init__(self, message: str = "验证码不正确或已使用，请输入验证器上的最新验证码。"):
        super().__init__(message)


# --- helpers ------------------------------------------------------------------------------------


def _cfg(name: str, default):
    return current_app.config.get(name, default)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _send_mail(to: str, subject: str, body: str) -> None:
    # Imported at call time: the mail module belongs to core and may be swapped in tests.
    from incubator.core import mail

    mail.queue_mail(to, subject, body)


def _unusable_password_hash() -> str:
    """A hash nobody knows the password of (invited users set theirs through the link)."""
    return hash_password(secrets.token_urlsafe(32))


def _end_sessions(user: User) -> None:
    user.session_version = (user.session_version or 0) + 1


def get_user(user_id: int) -> User | None:
    if user_id <= 0 or user_id > MAX_DB_INT:
        return None
    return db.session.get(User, user_id)


def find_user_by_identifier(identifier: str | None) -> User | None:
    kind, value = normalize_identifier(identifier)
    if not value or len(value) > 254:
        return None
    column = User.email if kind == "email" else User.mobile
    return db.session.scalar(db.select(User).where(column == value))


# --- failed attempts (per account and client address) -------------------------------------------


def account_key(user: User | None, identifier: str | None = None) -> str:
    if user is not None:
        return f"user:{user.id}"
    return "id:" + normalize_identifier(identifier)[1][:254]


def is_locked(key: str, ip: str | None) -> bool:
    since = utcnow() - timedelta(minutes=_cfg("LOGIN_LOCK_MINUTES", 15))
    count = db.session.scalar(
        db.select(db.func.count(LoginFailure.id)).where(
            LoginFailure.account_key == key, LoginFailure.ip == (ip or ""), LoginFailure.at >= since
        )
    )
    return (count or 0) >= _cfg("LOGIN_FAILURES_PER_ACCOUNT", 5)


def record_failure(key: str, ip: str | None) -> None:
    cutoff = utcnow() - timedelta(minutes=_cfg("LOGIN_LOCK_MINUTES", 15))
    db.session.execute(db.delete(LoginFailure).where(LoginFailure.account_key == key, LoginFailure.at < cutoff))
    db.session.add(LoginFailure(account_key=key, ip=(ip or "")[:64]))
    db.session.flush()


def clear_failures(key: str, ip: str | None = None) -> None:
    stmt = db.delete(LoginFailure).where(LoginFailure.account_key == key)
    if ip is not None:
        stmt = stmt.where(LoginFailure.ip == ip)
    db.session.execute(stmt)


def locked_message() -> str:
    return f"登录失败次数过多，请 {_cfg('LOGIN_LOCK_MINUTES', 15)} 分钟后再试，或通过“忘记密码”重置。"


# --- login --------------------------------------------------------------------------------------


def authenticate(*, identifier: str, password: str, ip: str | None) -> User:
    """The user whose e-mail or mobile and password match; raises BadCredentials (same message for
    an unknown account and a wrong password), AccountLocked or AccountDisabled."""
    user = find_user_by_identifier(identifier)
    key = account_key(user, identifier)
    if is_locked(key, ip):
        raise AccountLocked(locked_message())
    if user is None:
        dummy_verify(password)
        record_failure(key, ip)
        raise BadCredentials()
    if not verify_password(user.password_hash, password):
        record_failure(key, ip)
        raise BadCredentials()
    if not user.active:
        raise AccountDisabled("该账号已停用，请联系管理员。")
    return user


LOGIN_METHODS = {
    "password": "密码",
    "totp": "密码 + 验证码",
    "recovery_code": "密码 + 恢复码",
    "totp_enrolment": "密码 + 绑定验证器",
}


def record_login(user: User, *, ip: str | None, method: str = "password") -> None:
    user.last_login_at = utcnow()
    clear_failures(account_key(user), ip or "")
    audit.record("login", user, actor=user, note=f"方式：{LOGIN_METHODS.get(method, method)}")
    db.session.flush()


def record_logout(user: User) -> None:
    """Logout ends every session of the user, on every device."""
    _end_sessions(user)
    audit.record("logout", user, actor=user)
    db.session.flush()


def second_factor_locked(user: User, ip: str | None) -> bool:
    return is_locked(account_key(user), ip)


def check_second_factor(user: User, code: str | None, *, ip: str | None) -> str:
    """Accept a fresh TOTP code or an unused recovery code; returns "totp" or "recovery"."""
    key = account_key(user)
    if is_locked(key, ip):
        raise AccountLocked(locked_message())
    if two_factor.verify_totp(user, code):
        return "totp"
    if two_factor.use_recovery_code(user, code):
        audit.record("2fa_recovery_code_used", user, actor=user,
                     note=f"剩余 {two_factor.unused_recovery_codes(user)} 个恢复码")
        return "recovery"
    record_failure(key, ip)
    raise InvalidCode("验证码或恢复码不正确，或已使用过。")


def enroll_two_factor(user: User, *, secret: str, code: str | None) -> list[str]:
    """Confirm enrolment with a code from the new secret; returns 10 recovery codes (shown once)."""
    counter = two_factor.match_totp(secret, code, last_counter=None)
    if counter is None:
        raise InvalidCode()
    user.totp_secret = secret
    user.totp_enabled = True
    user.totp_last_counter = counter
    db.session.flush()
    codes = two_factor.new_recovery_codes(user)
    audit.record("2fa_enrolled", user, actor=user)
    db.session.flush()
    return codes


def verify_current_password(user: User, password: str | None, *, ip: str | None) -> None:
    """Re-authentication before a sensitive change; wrong guesses count like failed logins."""
    key = account_key(user)
    if is_locked(key, ip):
        raise AccountLocked(locked_message())
    if not verify_password(user.password_hash, password):
        record_failure(key, ip)
        raise WrongPassword()


def regenerate_recovery_codes(user: User, *, current_password: str, ip: str | None = None) -> list[str]:
    verify_current_password(user, current_password, ip=ip)
    if not user.has_usable_second_factor:
        raise NotAllowed("尚未启用两步验证，无法生成恢复码。")
    codes = two_factor.new_recovery_codes(user)
    audit.record("2fa_recovery_codes_regenerated", user, actor=user)
    db.session.flush()
    return codes


# --- passwords ----------------------------------------------------------------------------------


def set_password(user: User, new_password: str, *, action: str, actor: User | None = None) -> None:
    """Set a password that passes the policy and end every existing session."""
    problems = check_password_policy(new_password, user.role)
    if problems:
        raise WeakPassword(problems)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    _end_sessions(user)
    audit.record(action, user, actor=actor or user)
    db.session.flush()


def change_password(user: User, *, current_password: str, new_password: str, ip: str | None = None) -> None:
    verify_current_password(user, current_password, ip=ip)
    set_password(user, new_password, action="password_changed")
    _send_mail(user.email, "您的登录密码已修改",
               f"{user.name}：\n\n您的账号密码已于 {_now_text()} 修改，其他设备上的登录已全部退出。"
               "\n如非本人操作，请立即通过“忘记密码”重置并联系管理员。")


def change_email(user: User, *, current_password: str, new_email: str, ip: str | None = None) -> None:
    verify_current_password(user, current_password, ip=ip)
    new_email = normalize_email(new_email)
    old_email = user.email
    if new_email == old_email:
        raise AccountError("新邮箱与当前邮箱相同。", field="email")
    _ensure_unique(email=new_email, exclude=user)
    user.email = new_email
    audit.record("email_changed", user, actor=user, before={"email": old_email}, after={"email": new_email})
    db.session.flush()
    _send_mail(old_email, "您的登录邮箱已修改",
               f"{user.name}：\n\n您的登录邮箱已于 {_now_text()} 改为 {new_email}。\n如非本人操作，请立即联系管理员。")


def _now_text() -> str:
    from incubator.web import format_datetime

    return format_datetime(utcnow())


# --- reset and invitation links -----------------------------------------------------------------


def issue_token(user: User, *, purpose: TokenPurpose, lifetime: timedelta) -> str:
    raw = secrets.token_urlsafe(32)
    db.session.add(
        PasswordToken(user_id=user.id, purpose=purpose, token_hash=_hash_token(raw), expires_at=utcnow() + lifetime)
    )
    db.session.flush()
    return raw


def reset_lifetime() -> timedelta:
    return timedelta(minutes=min(int(_cfg("PASSWORD_RESET_MINUTES", MAX_RESET_MINUTES)), MAX_RESET_MINUTES))


def invite_lifetime() -> timedelta:
    return timedelta(hours=int(_cfg("INVITE_TOKEN_HOURS", DEFAULT_INVITE_HOURS)))


def _link(base_url: str, raw: str) -> str:
    return base_url.rstrip("/") + RESET_PATH.format(token=raw)


def request_password_reset(*, email: str, base_url: str) -> None:
    """Mail a reset link if an active account has this e-mail; the caller answers the same either way."""
    user = db.session.scalar(db.select(User).where(User.email == normalize_email(email)))
    if user is None or not user.active:
        return
    raw = issue_token(user, purpose=TokenPurpose.RESET, lifetime=reset_lifetime())
    minutes = int(reset_lifetime().total_seconds() // 60)
    _send_mail(user.email, "重置登录密码",
               f"{user.name}：\n\n请在 {minutes} 分钟内打开以下链接重置密码（只能使用一次）：\n{_link(base_url, raw)}\n\n"
               "如果不是您本人申请，请忽略本邮件，您的密码不会改变。")
    audit.record("password_reset_requested", user, actor=None)
    db.session.flush()


def valid_token(raw: str | None) -> PasswordToken:
    if not raw or len(raw) > 100:
        raise InvalidToken()
    token = db.session.scalar(
        db.select(PasswordToken).options(joinedload(PasswordToken.user)).where(PasswordToken.token_hash == _hash_token(raw))
    )
    if token is None or token.used_at is not None or token.expires_at <= utcnow() or not token.user.active:
        raise InvalidToken()
    return token


def reset_password_with_token(*, token: str, new_password: str) -> User:
    """Use a reset or invitation link once: set the password, end all sessions, spend the link."""
    row = valid_token(token)
    user = row.user
    problems = check_password_policy(new_password, user.role)
    if problems:
        raise WeakPassword(problems)
    spent = db.session.execute(
        db.update(PasswordToken)
        .where(PasswordToken.user_id == user.id, PasswordToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount < 1:  # a parallel request used it first
        raise InvalidToken()
    db.session.expire(row)
    action = "invitation_accepted" if row.purpose == TokenPurpose.INVITE else "password_reset"
    set_password(user, new_password, action=action)
    clear_failures(account_key(user))
    db.session.flush()
    return user


# --- users --------------------------------------------------------------------------------------


def _ensure_unique(*, email: str | None = None, mobile: str | None = None, exclude: User | None = None) -> None:
    if email:
        stmt = db.select(User.id).where(User.email == email)
        if exclude is not None:
            stmt = stmt.where(User.id != exclude.id)
        if db.session.scalar(stmt) is not None:
            raise DuplicateIdentifier("该邮箱已被其他账号使用。", field="email")
    if mobile:
        stmt = db.select(User.id).where(User.mobile == mobile)
        if exclude is not None:
            stmt = stmt.where(User.id != exclude.id)
        if db.session.scalar(stmt) is not None:
            raise DuplicateIdentifier("该手机号已被其他账号使用。", field="mobile")


def _scope(user: User) -> dict:
    return {
        "role": user.role.value if user.role else None,
        "district_id": user.district_id,
        "org_id": user.org_id,
        "is_org_admin": bool(user.is_org_admin),
    }


def _normalise_scope(role: Role, district_id: int | None, org_id: int | None, is_org_admin: bool):
    """Keep the invariants: only staff have a district, only applicants an organisation."""
    if role != Role.STAFF:
        district_id = None
    if role != Role.APPLICANT:
        org_id, is_org_admin = None, False
    elif org_id is None:
        raise AccountError("社会组织用户必须属于一个组织。", field="org_id")
    return district_id, org_id, is_org_admin


def create_user(
    *,
    name: str,
    email: str,
    mobile: str | None,
    role: Role,
    district_id: int | None = None,
    org_id: int | None = None,
    is_org_admin: bool = False,
    actor: User | None,
    base_url: str,
    action: str = "user_created",
) -> User:
    """Create an account without a known password and mail a single-use "set your password" link."""
    email, mobile = normalize_email(email), (normalize_mobile(mobile) or None) if mobile else None
    district_id, org_id, is_org_admin = _normalise_scope(role, district_id, org_id, is_org_admin)
    _ensure_unique(email=email, mobile=mobile)
    user = User(
        name=single_line(name), email=email, mobile=mobile, role=role, district_id=district_id, org_id=org_id,
        is_org_admin=is_org_admin, active=True, password_hash=_unusable_password_hash(), session_version=0,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError as exc:  # a parallel request took the e-mail or mobile first
        raise DuplicateIdentifier("该邮箱或手机号已被其他账号使用。", field="email") from exc
    audit.record(action, user, actor=actor, after=_scope(user) | {"email": user.email})
    send_set_password_link(user, base_url=base_url, actor=actor, record=False)
    db.session.flush()
    return user


def send_set_password_link(user: User, *, base_url: str, actor: User | None, record: bool = True) -> None:
    raw = issue_token(user, purpose=TokenPurpose.INVITE, lifetime=invite_lifetime())
    hours = int(invite_lifetime().total_seconds() // 3600)
    platform = _cfg("CITY_NAME", "") + _cfg("PLATFORM_NAME", "")
    _send_mail(user.email, f"{platform}：请设置登录密码",
               f"{user.name}：\n\n已为您开通{platform}账号（{user.role.label}），登录账号为本邮箱。\n"
               f"请在 {hours} 小时内打开以下链接设置密码（只能使用一次）：\n{_link(base_url, raw)}\n")
    if record:
        audit.record("set_password_link_sent", user, actor=actor)
    db.session.flush()


def _active_admins_except(user: User) -> int:
    return db.session.scalar(
        db.select(db.func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    ) or 0


def update_user(
    admin: User, user: User, *, role: Role, district_id: int | None, org_id: int | None, is_org_admin: bool
) -> bool:
    """Change a user's role and scope; audited with before/after. Returns whether anything changed."""
    district_id, org_id, is_org_admin = _normalise_scope(role, district_id, org_id, is_org_admin)
    before = _scope(user)
    if user.role == Role.ADMIN and role != Role.ADMIN and _active_admins_except(user) == 0:
        raise NotAllowed("不能取消最后一位系统管理员的角色。")
    user.role, user.district_id, user.org_id, user.is_org_admin = role, district_id, org_id, is_org_admin
    after = _scope(user)
    if before == after:
        return False
    _end_sessions(user)  # new rights (or fewer) take effect at the next login
    audit.record("role_changed", user, actor=admin, before=before, after=after)
    db.session.flush()
    return True


def set_active(admin: User, user: User, *, active: bool) -> None:
    if user.active == active:
        return
    if not active:
        if user.id == admin.id:
            raise NotAllowed("不能停用自己的账号。")
        if user.role == Role.ADMIN and _active_admins_except(user) == 0:
            raise NotAllowed("不能停用最后一位系统管理员。")
        _end_sessions(user)
    user.active = active
    audit.record("user_enabled" if active else "user_disabled", user, actor=admin,
                 before={"active": not active}, after={"active": active})
    db.session.flush()


def reset_two_factor(admin: User, user: User) -> None:
    """Forget the user's authenticator and recovery codes: they enrol again at their next login."""
    from incubator.accounts.models import RecoveryCode

    user.totp_secret = None
    user.totp_enabled = False
    user.totp_last_counter = None
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    _end_sessions(user)
    audit.record("2fa_reset", user, actor=admin)
    db.session.flush()


def search_users(*, q: str = "", role: str = "", district: str = "", active: str = "", page: int = 1, per_page: int = 20):
    """The admin's user list: search by name, e-mail or mobile; filter by role, district, state."""
    stmt = db.select(User).options(joinedload(User.district), joinedload(User.org)).order_by(User.id.desc())
    q = single_line(q)[:100]
    if q:
        stmt = stmt.where(
            db.or_(
                User.name.icontains(q, autoescape=True),
                User.email.icontains(q.lower(), autoescape=True),
                User.mobile.icontains(normalize_mobile(q) or q, autoescape=True),
            )
        )
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(role))
    if district == "city":
        stmt = stmt.where(User.role == Role.STAFF, User.district_id.is_(None))
    elif district.isdigit() and int(district) <= MAX_DB_INT:
        stmt = stmt.where(User.district_id == int(district))
    if active in ("1", "0"):
        stmt = stmt.where(User.active.is_(active == "1"))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)


# --- organisation members -----------------------------------------------------------------------


def org_members(org_id: int) -> list[User]:
    return list(
        db.session.scalars(
            db.select(User).where(User.org_id == org_id).order_by(User.active.desc(), User.is_org_admin.desc(), User.id)
        )
    )


def can_manage_members(user: User) -> bool:
    return bool(user.role == Role.APPLICANT and user.org_id and user.is_org_admin and user.active)


def invite_member(org_admin: User, *, name: str, email: str, mobile: str | None, base_url: str) -> User:
    """Add a member to the org admin's organisation and mail them a set-password link."""
    if not can_manage_members(org_admin):
        raise NotAllowed("只有本组织的管理员可以邀请成员。")
    email_n = normalize_email(email)
    existing = db.session.scalar(db.select(User).where(User.email == email_n))
    if existing is not None and existing.org_id == org_admin.org_id and not existing.active \
            and existing.role == Role.APPLICANT:
        # A removed member invited again: reactivate with a fresh link, never with the old password.
        _ensure_unique(mobile=normalize_mobile(mobile) if mobile else None, exclude=existing)
        existing.active = True
        existing.name = single_line(name)
        existing.password_hash = _unusable_password_hash()
        _end_sessions(existing)
        audit.record("member_invited", existing, actor=org_admin, after={"org_id": existing.org_id, "rejoined": True})
        send_set_password_link(existing, base_url=base_url, actor=org_admin, record=False)
        return existing
    return create_user(
        name=name, email=email, mobile=mobile, role=Role.APPLICANT, org_id=org_admin.org_id,
        is_org_admin=False, actor=org_admin, base_url=base_url, action="member_invited",
    )


def remove_member(org_admin: User, member: User) -> None:
    """Deactivate a member of the same organisation and end their sessions."""
    if not can_manage_members(org_admin) or member.org_id != org_admin.org_id:
        raise NotAllowed("只能移除本组织的成员。")
    if member.id == org_admin.id:
        raise NotAllowed("不能移除自己。")
    if not member.active:
        raise NotAllowed("该成员已被移除。")
    if member.is_org_admin:
        others = db.session.scalar(
            db.select(db.func.count(User.id)).where(
                User.org_id == member.org_id, User.is_org_admin.is_(True), User.active.is_(True), User.id != member.id
            )
        )
        if not others:
            raise NotAllowed("不能移除本组织最后一位管理员。")
    member.active = False
    _end_sessions(member)
    audit.record("member_removed", member, actor=org_admin, before={"active": True}, after={"active": False})
    db.session.flush()


def create_admin(*, email: str, name: str, password: str, mobile: str | None = None) -> tuple[User, str, list[str]]:
    """An administrator (CLI): password checked by the policy, TOTP enrolled.
    Returns the user, the TOTP secret and the recovery codes."""
    problems = check_password_policy(password, Role.ADMIN)
    if problems:
        raise WeakPassword(problems)
    email_n = normalize_email(email)
    mobile_n = (normalize_mobile(mobile) or None) if mobile else None
    _ensure_unique(email=email_n, mobile=mobile_n)
    secret = two_factor.new_secret()
    user = User(
        name=single_line(name), email=email_n, mobile=mobile_n, role=Role.ADMIN, active=True,
        password_hash=hash_password(password), password_changed_at=utcnow(), session_version=0,
        totp_secret=secret, totp_enabled=True,
    )
    db.session.add(user)
    db.session.flush()
    codes = two_factor.new_recovery_codes(user)
    audit.record("user_created", user, actor=None, after=_scope(user) | {"email": user.email}, note="命令行创建")
    db.session.flush()
    return user, secret, codes
