from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.enums import LabeledEnum
from incubator.db import Base, TimestampMixin, enum_type

if TYPE_CHECKING:  # pragma: no cover
    from incubator.accounts.models import User


class OrgType(LabeledEnum):
    SOCIAL_GROUP = ("social_group", "社会团体")
    SOCIAL_SERVICE_ORG = ("social_service_org", "民办非企业单位（社会服务机构）")
    FOUNDATION = ("foundation", "基金会")
    FILED_COMMUNITY_ORG = ("filed_community_org", "备案类社区社会组织")


class ServiceField(LabeledEnum):
    ELDERLY = ("elderly", "养老")
    CHILDCARE = ("childcare", "托育")
    DISABILITY = ("disability", "助残")
    YOUTH = ("youth", "青少年")
    EMPLOYMENT = ("employment", "就业")
    HEALTH = ("health", "医疗健康")
    CULTURE_SPORTS = ("culture_sports", "文化体育")
    COMMUNITY_GOVERNANCE = ("community_governance", "社区治理")
    RELIEF = ("relief", "济困救助")
    ENVIRONMENT = ("environment", "环保")
    OTHER = ("other", "其他")


class Verification(LabeledEnum):
    PENDING = ("pending", "待认证")
    VERIFIED = ("verified", "已认证")
    REJECTED = ("rejected", "已驳回")


class Organization(TimestampMixin, Base):
    __tablename__ = "organization"
    __table_args__ = (
        CheckConstraint("staff_count >= 0", name="staff_count_nonneg"),
        CheckConstraint("social_worker_count >= 0", name="social_worker_count_nonneg"),
        # A registered organisation has a USCC; a filed community group has a filing number instead.
        CheckConstraint(
            "(org_type = 'filed_community_org' AND filing_number IS NOT NULL) OR "
            "(org_type <> 'filed_community_org' AND uscc IS NOT NULL)",
            name="uscc_or_filing",
        ),
    )

    TRANSITIONS: ClassVar[dict] = {
        Verification.PENDING: {Verification.VERIFIED, Verification.REJECTED},
        Verification.REJECTED: {Verification.PENDING},  # corrected and submitted again
        Verification.VERIFIED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    org_type: Mapped[OrgType] = mapped_column(enum_type(OrgType))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    filing_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    # NO ACTION rather than RESTRICT: still refuses to delete a host that hosts, but checks at the end
    # of the statement, so deleting a host together with the groups it hosts works (SQLite, tests).
    host_org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="RESTRICT"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id", ondelete="RESTRICT"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id", ondelete="RESTRICT"))
    address: Mapped[str] = mapped_column(String(200))
    founded_on: Mapped[date] = mapped_column(Date)
    registration_authority: Mapped[str | None] = mapped_column(String(100))
    legal_rep: Mapped[str] = mapped_column(String(50))
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    staff_count: Mapped[int] = mapped_column(Integer, default=0)
    social_worker_count: Mapped[int] = mapped_column(Integer, default=0)
    has_party_org: Mapped[bool] = mapped_column(Boolean, default=False)
    party_org_note: Mapped[str | None] = mapped_column(String(200))
    intro: Mapped[str | None] = mapped_column(Text)
    status: Mapped[Verification] = mapped_column(enum_type(Verification), default=Verification.PENDING, index=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column()
    # When the organisation last (re)submitted itself for verification: the pending queue's order.
    submitted_at: Mapped[datetime | None] = mapped_column()
    # Optimistic locking: two staff editing the same record get a conflict, not a silent overwrite.
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    district = relationship("District")
    street = relationship("Street")
    community = relationship("Community")
    host_org = relationship("Organization", remote_side=[id])
    members = relationship("User", back_populates="org", foreign_keys="User.org_id")
    field_rows: Mapped[list["OrgField"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    annual_reports: Mapped[list["AnnualReport"]] = relationship(
        back_populates="org", order_by="AnnualReport.year.desc()"
    )
    ratings: Mapped[list["Rating"]] = relationship(back_populates="org", order_by="Rating.awarded_on.desc()")
    credit_records: Mapped[list["CreditRecord"]] = relationship(
        back_populates="org", order_by="CreditRecord.start_on.desc()"
    )

    @property
    def fields(self) -> list[ServiceField]:
        """In the catalogue's order (养老, 托育, …), whatever order the rows were loaded in."""
        order = list(ServiceField)
        return sorted((row.field for row in self.field_rows), key=order.index)

    @property
    def is_verified(self) -> bool:
        return self.status == Verification.VERIFIED

    @property
    def is_filed(self) -> bool:
        """备案类社区社会组织: not a legal person, carries a filing number and a host organisation."""
        return self.org_type == OrgType.FILED_COMMUNITY_ORG

    @property
    def identifier(self) -> str:
        """统一社会信用代码, or the 备案编号 for a filed community organisation."""
        return (self.filing_number if self.is_filed else self.uscc) or ""

    # ---- permissions (checked in every view, export and download) ----
    def is_member(self, user: "User") -> bool:
        return bool(getattr(user, "is_authenticated", False)) and user.org_id == self.id

    def is_managed_by(self, user: "User") -> bool:
        """Staff (city, or the organisation's own district) and admins: they see and act on it."""
        from incubator.accounts.models import Role

        if not getattr(user, "is_authenticated", False):
            return False
        return user.role in (Role.STAFF, Role.ADMIN) and user.sees_district(self.district_id)

    def can_view(self, user: "User") -> bool:
        return self.is_managed_by(user) or self.is_member(user)

    def can_verify(self, user: "User") -> bool:
        return self.is_managed_by(user)

    def can_record_credit(self, user: "User") -> bool:
        """Annual reports, grades and credit records: staff in scope."""
        return self.is_managed_by(user)

    def can_edit_profile(self, user: "User") -> bool:
        """Contact details and resubmission: the organisation's own org admin."""
        return self.is_member(user) and bool(user.is_org_admin) and bool(user.active)

    # ---- derived state for a given day ----
    def current_rating(self, day: date) -> "Rating | None":
        valid = [r for r in self.ratings if r.awarded_on <= day <= r.expires_on]
        return max(valid, key=lambda r: (r.awarded_on, r.id or 0)) if valid else None

    def active_credit_records(self, day: date) -> list["CreditRecord"]:
        return [c for c in self.credit_records if c.active_on(day)]

    def latest_annual_report(self, before_year: int | None = None) -> "AnnualReport | None":
        rows = [r for r in self.annual_reports if before_year is None or r.year < before_year]
        return max(rows, key=lambda r: r.year) if rows else None


class OrgField(Base):
    """服务领域: one row per (organisation, field), so lists can filter by field in SQL."""

    __tablename__ = "org_field"
    __table_args__ = (UniqueConstraint("org_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    field: Mapped[ServiceField] = mapped_column(enum_type(ServiceField), index=True)


class AnnualReportResult(LabeledEnum):
    PASS = ("pass", "合格")
    BASIC_PASS = ("basic_pass", "基本合格")
    FAIL = ("fail", "不合格")


class AnnualReport(TimestampMixin, Base):
    """年检·年报 result for one year (due by 31 March of the next year)."""

    __tablename__ = "annual_report"
    __table_args__ = (
        UniqueConstraint("org_id", "year"),
        CheckConstraint("year BETWEEN 1949 AND 2200", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    result: Mapped[AnnualReportResult] = mapped_column(enum_type(AnnualReportResult))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    org: Mapped[Organization] = relationship(back_populates="annual_reports")


class Rating(TimestampMixin, Base):
    """等级评估 1A–5A, valid 5 years (民政部令第39号)."""

    __tablename__ = "rating"
    __table_args__ = (
        CheckConstraint("grade BETWEEN 1 AND 5", name="grade_range"),
        CheckConstraint("expires_on >= awarded_on", name="rating_period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    grade: Mapped[int] = mapped_column(Integer)
    awarded_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    source: Mapped[str | None] = mapped_column(String(200))  # assessment decision / certificate number
    org: Mapped[Organization] = relationship(back_populates="ratings")

    def valid_on(self, day: date) -> bool:
        return self.awarded_on <= day <= self.expires_on

    @property
    def label(self) -> str:
        return f"{self.grade}A"


class CreditKind(LabeledEnum):
    ABNORMAL_LIST = ("abnormal_list", "活动异常名录")
    SERIOUS_LIST = ("serious_list", "严重违法失信名单")
    DEBARMENT = ("debarment", "禁入期")


class CreditRecord(TimestampMixin, Base):
    """A credit-list entry or a debarment, with its period and source (民政部令第60号)."""

    __tablename__ = "credit_record"
    __table_args__ = (
        CheckConstraint("end_on IS NULL OR end_on >= start_on", name="period_order"),
        CheckConstraint("removed_on IS NULL OR removed_on >= start_on", name="removal_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[CreditKind] = mapped_column(enum_type(CreditKind), index=True)
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))  # decision document number or authority
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)  # planned or actual removal; None = open
    removed_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # 活动异常名录: the day the organisation corrected what put it on the list (移出 follows within
    # 5 working days, 民政部令第60号); None for other kinds or not yet corrected.
    corrected_on: Mapped[date | None] = mapped_column(Date)
    removal_note: Mapped[str | None] = mapped_column(Text)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    org: Mapped[Organization] = relationship(back_populates="credit_records")

    def active_on(self, day: date) -> bool:
        """On the list that day: started, not yet removed, and ``end_on`` (the last day, inclusive) not past."""
        if self.start_on > day:
            return False
        if self.removed_on is not None and self.removed_on <= day:
            return False
        return self.end_on is None or self.end_on >= day

    def state_on(self, day: date) -> str:
        """A short Chinese word for the record's state that day (shown as a pill)."""
        if self.removed_on is not None and self.removed_on <= day:
            return "已移出"
        if self.start_on > day:
            return "未生效"
        if self.end_on is not None and self.end_on < day:
            return "已届满"
        return "生效中"
