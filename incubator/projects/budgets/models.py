"""Tables of the project's budgets area: 预算科目 (BudgetLine), 预算调整 (BudgetAdjustment), 支出 (Expense).

Interface
=========
``BudgetLine`` (table budget_line): project_id, position, category (incubator.calls.models.BudgetCategory),
  item, approved (Money: the approved amount of the line), source (FundingSource: grant 申请资助 /
  matching 配套资金), note, version_id. The grant lines of an approved budget sum exactly to
  ``project.amount``; ``approved`` changes only through the services (approval, an applied adjustment,
  a staff revision with a reason), never below what is recorded as spent on the line.

``BudgetAdjustment`` (table budget_adjustment): project_id, from_line_id, to_line_id, amount (> 0), reason,
  requires_city (the moved amount exceeds LARGE_ADJUSTMENT_SHARE % of the source line), status
  (AdjustmentStatus via transition: requested 待业务审核 → applied 已调整 (small) or → staff_approved
  待市级审核 → applied (large, city staff); requested / staff_approved → rejected 已驳回),
  requested_by/at, staff_approved_by/at, city_approved_by/at, rejected_by/at, reject_reason, version_id.

``Expense`` (table expense): project_id, line_id, amount (> 0), spent_on, description, payee, status
  (ExpenseStatus via transition: submitted 待核实 → verified 已核实 | returned 已退回;
  returned → resubmitted 已重新提交 → verified | returned), submitted_by/at, verified_by/at,
  returned_by/at, return_reason, version_id. ``receipts``: ExpenseReceipt rows (expense_id, file_id →
  stored_file) — at least one per expense. ``counts_as_spent`` (every status but returned).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.applications.models import FundingSource
from incubator.calls.models import BudgetCategory
from incubator.core.enums import LabeledEnum
from incubator.db import Base, Money, TimestampMixin, enum_type, utcnow


class AdjustmentStatus(LabeledEnum):
    REQUESTED = ("requested", "待业务审核")
    STAFF_APPROVED = ("staff_approved", "待市级审核")
    APPLIED = ("applied", "已调整")
    REJECTED = ("rejected", "已驳回")


ADJUSTMENT_TONES = {"requested": "warning", "staff_approved": "info", "applied": "success", "rejected": "danger"}


class ExpenseStatus(LabeledEnum):
    SUBMITTED = ("submitted", "待核实")
    RESUBMITTED = ("resubmitted", "已重新提交")
    VERIFIED = ("verified", "已核实")
    RETURNED = ("returned", "已退回")


EXPENSE_TONES = {"submitted": "warning", "resubmitted": "warning", "verified": "success", "returned": "danger"}
SPENT_STATUSES = (ExpenseStatus.SUBMITTED, ExpenseStatus.RESUBMITTED, ExpenseStatus.VERIFIED)
WAITING_STATUSES = (ExpenseStatus.SUBMITTED, ExpenseStatus.RESUBMITTED)


class BudgetLine(TimestampMixin, Base):
    __tablename__ = "budget_line"
    __table_args__ = (CheckConstraint("approved >= 0", name="approved_nonneg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[BudgetCategory] = mapped_column(enum_type(BudgetCategory))
    item: Mapped[str] = mapped_column(String(200))
    approved: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[FundingSource] = mapped_column(enum_type(FundingSource), default=FundingSource.GRANT)
    note: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    project = relationship("Project")

    @property
    def label(self) -> str:
        return f"{self.category.label}·{self.item}"


class BudgetAdjustment(TimestampMixin, Base):
    __tablename__ = "budget_adjustment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_pos"),
        CheckConstraint("from_line_id <> to_line_id", name="distinct_lines"),
        CheckConstraint("status <> 'rejected' OR reject_reason IS NOT NULL", name="rejected_has_reason"),
    )

    TRANSITIONS: ClassVar[dict] = {
        AdjustmentStatus.REQUESTED: {AdjustmentStatus.APPLIED, AdjustmentStatus.STAFF_APPROVED,
                                     AdjustmentStatus.REJECTED},
        AdjustmentStatus.STAFF_APPROVED: {AdjustmentStatus.APPLIED, AdjustmentStatus.REJECTED},
        AdjustmentStatus.APPLIED: set(),
        AdjustmentStatus.REJECTED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    from_line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id", ondelete="RESTRICT"))
    to_line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(Text)
    requires_city: Mapped[bool] = mapped_column(default=False)
    status: Mapped[AdjustmentStatus] = mapped_column(enum_type(AdjustmentStatus), default=AdjustmentStatus.REQUESTED,
                                                     index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    staff_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    staff_approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    city_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    city_approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    project = relationship("Project")
    from_line: Mapped[BudgetLine] = relationship(foreign_keys=[from_line_id])
    to_line: Mapped[BudgetLine] = relationship(foreign_keys=[to_line_id])
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    staff_approved_by = relationship("User", foreign_keys=[staff_approved_by_id])
    city_approved_by = relationship("User", foreign_keys=[city_approved_by_id])
    rejected_by = relationship("User", foreign_keys=[rejected_by_id])


class Expense(TimestampMixin, Base):
    __tablename__ = "expense"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_pos"),
        CheckConstraint("status <> 'returned' OR return_reason IS NOT NULL", name="returned_has_reason"),
    )

    TRANSITIONS: ClassVar[dict] = {
        ExpenseStatus.SUBMITTED: {ExpenseStatus.VERIFIED, ExpenseStatus.RETURNED},
        ExpenseStatus.RESUBMITTED: {ExpenseStatus.VERIFIED, ExpenseStatus.RETURNED},
        ExpenseStatus.RETURNED: {ExpenseStatus.RESUBMITTED},
        ExpenseStatus.VERIFIED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    spent_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    payee: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[ExpenseStatus] = mapped_column(enum_type(ExpenseStatus), default=ExpenseStatus.SUBMITTED,
                                                  index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    project = relationship("Project")
    line: Mapped[BudgetLine] = relationship()
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    verified_by = relationship("User", foreign_keys=[verified_by_id])
    returned_by = relationship("User", foreign_keys=[returned_by_id])
    receipts: Mapped[list["ExpenseReceipt"]] = relationship(back_populates="expense", order_by="ExpenseReceipt.id",
                                                            cascade="all, delete-orphan")

    @property
    def counts_as_spent(self) -> bool:
        return self.status in SPENT_STATUSES


class ExpenseReceipt(Base):
    """One uploaded receipt (发票、收据、签收单) of an expense."""

    __tablename__ = "expense_receipt"
    __table_args__ = (UniqueConstraint("expense_id", "file_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("expense.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    expense: Mapped[Expense] = relationship(back_populates="receipts")
    file = relationship("StoredFile")
