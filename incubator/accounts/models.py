from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from incubator.accounts.normalize import normalize_email, normalize_mobile, single_line
from incubator.core.enums import LabeledEnum
from incubator.db import Base, TimestampMixin, enum_type, utcnow


class Role(LabeledEnum):
    APPLICANT = ("applicant", "社会组织用户")
    EXPERT = ("expert", "评审专家")
    STAFF = ("staff", "民政工作人员")
    FINANCE = ("finance", "财务人员")
    EVALUATOR = ("evaluator", "第三方评估机构")
    ADMIN = ("admin", "系统管理员")


# Roles that must use two-factor login (SECURITY.md: TOTP for staff, finance and admin).
TWO_FACTOR_ROLES = frozenset({Role.STAFF, Role.FINANCE, Role.ADMIN})
# Minimum password length by role (SECURITY.md: 8, or 12 for staff and admin).
STRONG_PASSWORD_ROLES = frozenset({Role.STAFF, Role.FINANCE, Role.ADMIN})


class User(UserMixin, TimestampMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint("session_version >= 0", name="session_version_nonneg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role), index=True)
    # staff: None = city scope, else the one district they serve
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id", ondelete="RESTRICT"), index=True)
    # applicant: the organisation they belong to
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    is_org_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped by logout, password change and disable: every older session cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)  # a code is never accepted twice
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    district = relationship("District")
    org = relationship("Organization", foreign_keys=[org_id], back_populates="members")

    # Identifiers are stored normalised, whoever creates the user (forms, CLI, other domains,
    # factories): e-mails differing only in case, spaces, full-width letters or zero-width
    # characters collide on the unique index.
    @validates("email")
    def _normalize_email(self, _key, value):
        return normalize_email(value) if value is not None else None

    @validates("mobile")
    def _normalize_mobile(self, _key, value):
        if value is None:
            return None
        return normalize_mobile(value) or None

    @validates("name")
    def _normalize_name(self, _key, value):
        return single_line(value) if value is not None else None

    # Flask-Login
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return bool(self.active)

    @property
    def audit_label(self) -> str:
        return f"{self.name} <{self.email}> #{self.id}"

    @property
    def needs_two_factor(self) -> bool:
        return self.role in TWO_FACTOR_ROLES

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_city_staff(self) -> bool:
        return self.role == Role.STAFF and self.district_id is None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def sees_district(self, district_id: int | None) -> bool:
        """Staff scope: city staff and admins see every district, district staff only their own."""
        if self.role == Role.ADMIN or self.is_city_staff:
            return True
        return self.role == Role.STAFF and district_id is not None and district_id == self.district_id

    @property
    def role_label(self) -> str:
        return self.role.label if self.role else ""

    @property
    def scope_label(self) -> str:
        """Where a staff member works: their district, or 市级 (city)."""
        if self.role != Role.STAFF:
            return ""
        return self.district.name if self.district is not None else "市级"

    @property
    def has_usable_second_factor(self) -> bool:
        return bool(self.totp_enabled and self.totp_secret)


class LoginFailure(Base):
    """One failed password or second-factor attempt.

    Counted per (account, client address) within LOGIN_LOCK_MINUTES: an attacker from one address
    is stopped after LOGIN_FAILURES_PER_ACCOUNT tries, but cannot lock the real user out from
    their own address (SECURITY.md 6.3.1). ``account_key`` is ``user:<id>`` for a known account
    and ``id:<identifier>`` for an unknown one, so both behave alike (no account enumeration).
    """

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_ip_at", "account_key", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(280))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class RecoveryCode(Base):
    """A one-time second-factor recovery code; only its SHA-256 is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class TokenPurpose(LabeledEnum):
    RESET = ("reset", "重置密码")
    INVITE = ("invite", "设置密码（邀请）")


class PasswordToken(Base):
    """A single-use link token for password reset or invitation; only its SHA-256 is stored."""

    __tablename__ = "password_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_type(TokenPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()
