from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ColumnElement,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    false,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.enums import LabeledEnum
from incubator.db import Base, Money, TimestampMixin, enum_type, utcnow


class CallKind(LabeledEnum):
    MICRO_VENTURE = ("micro_venture", "公益微创投")
    PURCHASE = ("purchase", "政府购买服务")
    INCUBATION = ("incubation", "孵化入驻")


# Application numbers: PREFIX-YEAR-NNNN, e.g. WCT-2026-0001 (issue #3).
NUMBER_PREFIX = {CallKind.MICRO_VENTURE: "WCT", CallKind.PURCHASE: "GM", CallKind.INCUBATION: "FH"}


class CallStatus(LabeledEnum):
    """Derived from the dates, never stored (DESIGN: a call's state comes from its dates)."""

    DRAFT = ("draft", "草稿")
    PUBLISHED = ("published", "已发布（未开始）")
    OPEN = ("open", "申报中")
    CLOSED = ("closed", "已截止")
    ARCHIVED = ("archived", "已归档")


class BudgetCategory(LabeledEnum):
    """预算科目 (DOMAIN.md: categories seen in real city budgets)."""

    ACTIVITY = ("activity", "服务活动费")
    PERSONNEL = ("personnel", "人员及志愿者补贴")
    EXPERT = ("expert", "专家咨询费")
    TRAINING = ("training", "培训费")
    MEETING = ("meeting", "会议费")
    PUBLICITY = ("publicity", "宣传费")
    MATERIALS = ("materials", "物料费")
    TRANSPORT = ("transport", "交通费")
    PRINTING = ("printing", "印刷费")
    TAX = ("tax", "税费")
    MANAGEMENT = ("management", "管理费")
    OTHER = ("other", "其他")


class FieldKind(LabeledEnum):
    TEXT = ("text", "单行文本")
    TEXTAREA = ("textarea", "多行文本")
    NUMBER = ("number", "数字")
    DATE = ("date", "日期")
    CHOICE = ("choice", "单选")
    FILE = ("file", "文件")


# Staged disbursement (分期拨付) of the call's projects: (share %, condition) per tranche. No national
# number exists (DOMAIN.md); 50/30/20 on signing / mid-term pass / final acceptance is common local
# practice. The condition values are incubator.projects.models.TrancheCondition's.
DEFAULT_TRANCHE_PLAN: tuple[tuple[str, str], ...] = (
    ("50", "on_signing"), ("30", "on_midterm_pass"), ("20", "on_final_acceptance"),
)


class Call(TimestampMixin, Base):
    __tablename__ = "call"
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="close_after_open"),
        CheckConstraint("grant_min >= 0 AND grant_max >= grant_min", name="grant_range"),
        CheckConstraint("fund_pool >= 0", name="fund_pool_nonneg"),
        CheckConstraint("max_grant_share > 0 AND max_grant_share <= 100", name="grant_share_range"),
        CheckConstraint("max_applications_per_org >= 1", name="apps_per_org_min"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("min_years_since_founding >= 0", name="min_years_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CallKind] = mapped_column(enum_type(CallKind), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    notice: Mapped[str] = mapped_column(Text)  # plain text, shown with line breaks (no HTML)
    # Scope: None = city-wide call; else a district's own call (its staff manage it).
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id", ondelete="RESTRICT"), index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)  # None = draft
    opens_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    closes_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    fund_pool: Mapped[Decimal] = mapped_column(Money)
    grant_min: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    grant_max: Mapped[Decimal] = mapped_column(Money)
    # Grant ≤ this % of the project budget; the rest is matching funds (Guangzhou practice: 60).
    max_grant_share: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("60"))
    # At most N applications per organisation per call (Guangzhou Haizhu practice: 2).
    max_applications_per_org: Mapped[int] = mapped_column(Integer, default=2)
    # Eligibility rules read by incubator.orgs.eligibility (grade is never a bar: 102号令).
    allowed_org_types: Mapped[list] = mapped_column(JSON, default=list)  # [] = all types
    min_years_since_founding: Mapped[int] = mapped_column(Integer, default=0)
    require_annual_report_pass: Mapped[bool] = mapped_column(Boolean, default=True)
    district_orgs_only: Mapped[bool] = mapped_column(Boolean, default=False)  # only orgs of the call's district
    grade_preference_note: Mapped[str | None] = mapped_column(String(200))
    themes: Mapped[list] = mapped_column(JSON, default=list)  # ServiceField values
    # [[share, condition], …] of its projects' tranches (see DEFAULT_TRANCHE_PLAN); [] = the default.
    tranche_plan: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    district = relationship("District")
    budget_caps: Mapped[list["CallBudgetCap"]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallBudgetCap.id"
    )
    fields: Mapped[list["CallField"]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallField.position"
    )
    attachment_types: Mapped[list["CallAttachmentType"]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallAttachmentType.position"
    )
    documents: Mapped[list["CallDocument"]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallDocument.id"
    )

    def status_at(self, now: datetime | None = None) -> CallStatus:
        now = now or utcnow()
        if self.archived_at is not None and self.archived_at <= now:
            return CallStatus.ARCHIVED
        if self.published_at is None or self.published_at > now:
            return CallStatus.DRAFT
        if now < self.opens_at:
            return CallStatus.PUBLISHED
        if now < self.closes_at:
            return CallStatus.OPEN
        return CallStatus.CLOSED

    @property
    def status(self) -> CallStatus:
        return self.status_at()

    def is_open(self, now: datetime | None = None) -> bool:
        return self.status_at(now) == CallStatus.OPEN

    @property
    def number_prefix(self) -> str:
        return NUMBER_PREFIX[self.kind]

    # ---- the same derived status, as SQL (lists filter and count in the database) ----
    @classmethod
    def status_clause(cls, status: CallStatus, now: datetime) -> ColumnElement[bool]:
        """WHERE clause true exactly when ``status_at(now) == status`` (kept in step by tests)."""
        archived = and_(cls.archived_at.is_not(None), cls.archived_at <= now)
        live = or_(cls.archived_at.is_(None), cls.archived_at > now)
        published = and_(cls.published_at.is_not(None), cls.published_at <= now)
        if status == CallStatus.ARCHIVED:
            return archived
        if status == CallStatus.DRAFT:
            return and_(live, or_(cls.published_at.is_(None), cls.published_at > now))
        if status == CallStatus.PUBLISHED:
            return and_(live, published, now < cls.opens_at)
        if status == CallStatus.OPEN:
            return and_(live, published, cls.opens_at <= now, now < cls.closes_at)
        if status == CallStatus.CLOSED:
            return and_(live, published, cls.closes_at <= now)
        return false()

    @classmethod
    def status_expr(cls, now: datetime):
        """The status value as a SQL expression (for GROUP BY counts and ordering)."""
        return case(
            *((cls.status_clause(s, now), s.value) for s in CallStatus),
            else_=CallStatus.DRAFT.value,
        )

    def is_public(self, now: datetime | None = None) -> bool:
        """Published (and not withdrawn): the public site shows it, archived ones included."""
        now = now or utcnow()
        return self.published_at is not None and self.published_at <= now

    @property
    def tranche_plan_rows(self) -> list[tuple[Decimal, str]]:
        """[(share %, TrancheCondition value)] of the call's tranche plan (the default when none was set)."""
        rows = self.tranche_plan or DEFAULT_TRANCHE_PLAN
        return [(Decimal(str(share)), str(condition)) for share, condition in rows]

    @property
    def scope_label(self) -> str:
        return self.district.name if self.district_id and self.district is not None else "全市"

    def can_manage(self, user) -> bool:
        """Staff in scope and admins: city staff every call, district staff their district's calls."""
        from incubator.accounts.models import Role

        if not getattr(user, "is_authenticated", False):
            return False
        return user.role in (Role.STAFF, Role.ADMIN) and user.sees_district(self.district_id)


class CallBudgetCap(Base):
    """A category cap, e.g. personnel ≤ 30 % of the project budget (a per-call setting)."""

    __tablename__ = "call_budget_cap"
    __table_args__ = (
        UniqueConstraint("call_id", "category"),
        CheckConstraint("max_share > 0 AND max_share <= 100", name="share_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    category: Mapped[BudgetCategory] = mapped_column(enum_type(BudgetCategory))
    max_share: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    call: Mapped[Call] = relationship(back_populates="budget_caps")


class CallField(Base):
    """An extra form field defined by staff for this call's application form."""

    __tablename__ = "call_field"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(100))
    kind: Mapped[FieldKind] = mapped_column(enum_type(FieldKind))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    help_text: Mapped[str | None] = mapped_column(String(300))
    choices: Mapped[list] = mapped_column(JSON, default=list)  # for CHOICE
    call: Mapped[Call] = relationship(back_populates="fields")


class CallAttachmentType(Base):
    """A kind of attachment applicants upload (e.g. 登记证书, 财务报表), required or not."""

    __tablename__ = "call_attachment_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_extensions: Mapped[list] = mapped_column(JSON, default=lambda: ["pdf", "docx", "xlsx", "jpg", "png"])
    call: Mapped[Call] = relationship(back_populates="attachment_types")


class CallDocument(Base):
    """A file published with the call's notice (guidelines, templates)."""

    __tablename__ = "call_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    call: Mapped[Call] = relationship(back_populates="documents")
    file = relationship("StoredFile")
