from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.enums import LabeledEnum
from incubator.db import Base, TimestampMixin, enum_type


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
