"""Funded projects (立项) and staged disbursement (分期拨付).

Interface for other domains (contracts, reports, evaluations, exit, staff desk)
==============================================================================

``Project`` (table project): number (unique, e.g. "XM-2026-0001", from the shared counter of
  incubator.applications.numbering with prefix "XM"), kind (ProjectKind: grant 公益创投资助 /
  purchase 政府购买服务), org_id (承接主体) → organization, call_id (nullable) → call,
  application_id (nullable, unique: an application becomes at most one project) → application,
  title, purchasing_department (购买主体/主管部门), service_content, quantity, quality_standard,
  term_start, term_end (inclusive), term_reason (required when the term is over one year; over
  three years is refused, 财政部令第102号), amount (Money: the grant or the contract price),
  budget_line (预算科目/项目), budget_year, prior_assessment (事前绩效评估), status (ProjectStatus via
  transition: launched 已立项 → contracted 已签约 → in_progress 执行中 → closed 已结项; launched /
  contracted / in_progress → terminated 已终止), signed_on / midterm_passed_on / final_accepted_on
  (the dates the tranche conditions were met; None = not yet), midterm_failed_on, launched_by_id,
  version_id (optimistic locking).
  Relationships: org, call, application, tranches (ordered by sequence).
  Permissions: can_view(user) (org members, staff of its district, admins, finance),
  can_manage(user) (staff of its district: launch, schedule, conditions, staff approval),
  can_pay(user) (finance). ``condition_met(condition)``.

``Tranche`` (table tranche): project_id, sequence (1, 2, …; unique per project), share (% Numeric),
  amount (Money), condition (TrancheCondition: on_signing 签约后 / on_midterm_pass 中期评估合格后 /
  on_final_acceptance 结项验收后), status (TrancheStatus via transition: pending 待条件满足 →
  requestable 可申请 → requested 已申请拨付 → approved_by_staff 业务科室已审核 → paid 已拨付;
  pending / requestable → stopped 已停止), paid_on, voucher_no, version_id. ``payment`` (one or None).

``PaymentRequest`` (table payment_request): tranche_id (unique: one payment per tranche), amount,
  status (PaymentStatus via transition: requested 待业务审核 → staff_approved 待财务审核 → paid 已拨付),
  requested_by_id/at, staff_approved_by_id/at, finance_approved_by_id/at, paid_on, voucher_no,
  version_id. The finance step locks the row (SELECT … FOR UPDATE): concurrent approvals pay once.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.enums import LabeledEnum
from incubator.db import Base, Money, TimestampMixin, enum_type, utcnow


class ProjectKind(LabeledEnum):
    GRANT = ("grant", "公益创投资助")
    PURCHASE = ("purchase", "政府购买服务")


class ProjectStatus(LabeledEnum):
    LAUNCHED = ("launched", "已立项")
    CONTRACTED = ("contracted", "已签约")
    IN_PROGRESS = ("in_progress", "执行中")
    CLOSED = ("closed", "已结项")
    TERMINATED = ("terminated", "已终止")


PROJECT_TONES = {"launched": "info", "contracted": "primary", "in_progress": "primary",
                 "closed": "success", "terminated": "danger"}


class TrancheCondition(LabeledEnum):
    ON_SIGNING = ("on_signing", "签约后")
    ON_MIDTERM_PASS = ("on_midterm_pass", "中期评估合格后")
    ON_FINAL_ACCEPTANCE = ("on_final_acceptance", "结项验收后")


class TrancheStatus(LabeledEnum):
    PENDING = ("pending", "待条件满足")
    REQUESTABLE = ("requestable", "可申请")
    REQUESTED = ("requested", "已申请拨付")
    APPROVED_BY_STAFF = ("approved_by_staff", "业务科室已审核")
    PAID = ("paid", "已拨付")
    STOPPED = ("stopped", "已停止")


TRANCHE_TONES = {"pending": "secondary", "requestable": "info", "requested": "warning",
                 "approved_by_staff": "primary", "paid": "success", "stopped": "danger"}


class PaymentStatus(LabeledEnum):
    REQUESTED = ("requested", "待业务审核")
    STAFF_APPROVED = ("staff_approved", "待财务审核")
    PAID = ("paid", "已拨付")


class Project(TimestampMixin, Base):
    __tablename__ = "project"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_nonneg"),
        CheckConstraint("term_end >= term_start", name="term_order"),
        UniqueConstraint("application_id"),
    )

    TRANSITIONS: ClassVar[dict] = {
        ProjectStatus.LAUNCHED: {ProjectStatus.CONTRACTED, ProjectStatus.TERMINATED},
        ProjectStatus.CONTRACTED: {ProjectStatus.IN_PROGRESS, ProjectStatus.TERMINATED},
        ProjectStatus.IN_PROGRESS: {ProjectStatus.CLOSED, ProjectStatus.TERMINATED},
        ProjectStatus.CLOSED: set(),
        ProjectStatus.TERMINATED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[ProjectKind] = mapped_column(enum_type(ProjectKind), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="RESTRICT"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    purchasing_department: Mapped[str] = mapped_column(String(200), default="")
    service_content: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[str] = mapped_column(Text, default="")
    quality_standard: Mapped[str] = mapped_column(Text, default="")
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    term_reason: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Money)
    budget_line: Mapped[str] = mapped_column(String(200))
    budget_year: Mapped[int] = mapped_column(Integer)
    prior_assessment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ProjectStatus] = mapped_column(enum_type(ProjectStatus), default=ProjectStatus.LAUNCHED,
                                                  index=True)
    signed_on: Mapped[date | None] = mapped_column(Date)
    midterm_passed_on: Mapped[date | None] = mapped_column(Date)
    midterm_failed_on: Mapped[date | None] = mapped_column(Date)
    final_accepted_on: Mapped[date | None] = mapped_column(Date)
    launched_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    launched_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    org = relationship("Organization")
    call = relationship("Call")
    application = relationship("Application")
    launched_by = relationship("User")
    tranches: Mapped[list["Tranche"]] = relationship(back_populates="project", order_by="Tranche.sequence")

    CONDITION_FIELDS: ClassVar[dict] = {
        TrancheCondition.ON_SIGNING: "signed_on",
        TrancheCondition.ON_MIDTERM_PASS: "midterm_passed_on",
        TrancheCondition.ON_FINAL_ACCEPTANCE: "final_accepted_on",
    }

    def condition_met(self, condition: TrancheCondition) -> bool:
        return getattr(self, self.CONDITION_FIELDS[condition]) is not None

    # ---- permissions ----
    def can_manage(self, user) -> bool:
        """Staff of the organisation's district (city staff: all) — launch, schedule, staff approval."""
        from incubator.accounts.models import Role

        return (bool(getattr(user, "is_authenticated", False)) and user.role == Role.STAFF
                and user.sees_district(self.org.district_id))

    def can_pay(self, user) -> bool:
        from incubator.accounts.models import Role

        return bool(getattr(user, "is_authenticated", False)) and user.role == Role.FINANCE

    def can_view(self, user) -> bool:
        return self.org.is_managed_by(user) or self.org.is_member(user) or self.can_pay(user)

    @property
    def paid_total(self) -> Decimal:
        return sum((t.amount for t in self.tranches if t.status == TrancheStatus.PAID), Decimal("0.00"))


class Tranche(TimestampMixin, Base):
    __tablename__ = "tranche"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_nonneg"),
        CheckConstraint("share > 0 AND share <= 100", name="share_range"),
        CheckConstraint("sequence >= 1", name="sequence_pos"),
        UniqueConstraint("project_id", "sequence"),
    )

    TRANSITIONS: ClassVar[dict] = {
        TrancheStatus.PENDING: {TrancheStatus.REQUESTABLE, TrancheStatus.STOPPED},
        TrancheStatus.REQUESTABLE: {TrancheStatus.REQUESTED, TrancheStatus.STOPPED},
        TrancheStatus.REQUESTED: {TrancheStatus.APPROVED_BY_STAFF},
        TrancheStatus.APPROVED_BY_STAFF: {TrancheStatus.PAID},
        TrancheStatus.PAID: set(),
        TrancheStatus.STOPPED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    share: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    amount: Mapped[Decimal] = mapped_column(Money)
    condition: Mapped[TrancheCondition] = mapped_column(enum_type(TrancheCondition))
    status: Mapped[TrancheStatus] = mapped_column(enum_type(TrancheStatus), default=TrancheStatus.PENDING,
                                                  index=True)
    paid_on: Mapped[date | None] = mapped_column(Date)
    voucher_no: Mapped[str | None] = mapped_column(String(60))
    stop_reason: Mapped[str | None] = mapped_column(Text)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    project: Mapped[Project] = relationship(back_populates="tranches")
    payment: Mapped["PaymentRequest | None"] = relationship(back_populates="tranche", uselist=False)


class PaymentRequest(TimestampMixin, Base):
    __tablename__ = "payment_request"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_nonneg"),
        CheckConstraint("status <> 'paid' OR (paid_on IS NOT NULL AND voucher_no IS NOT NULL)", name="paid_has_voucher"),
        UniqueConstraint("tranche_id"),
    )

    TRANSITIONS: ClassVar[dict] = {
        PaymentStatus.REQUESTED: {PaymentStatus.STAFF_APPROVED},
        PaymentStatus.STAFF_APPROVED: {PaymentStatus.PAID},
        PaymentStatus.PAID: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    tranche_id: Mapped[int] = mapped_column(ForeignKey("tranche.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[PaymentStatus] = mapped_column(enum_type(PaymentStatus), default=PaymentStatus.REQUESTED,
                                                  index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    staff_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    staff_approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    finance_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    finance_approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    paid_on: Mapped[date | None] = mapped_column(Date)
    voucher_no: Mapped[str | None] = mapped_column(String(60))
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    tranche: Mapped[Tranche] = relationship(back_populates="payment")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    staff_approved_by = relationship("User", foreign_keys=[staff_approved_by_id])
    finance_approved_by = relationship("User", foreign_keys=[finance_approved_by_id])
