"""结项与退出: the termination of a project, its settlement (paid vs verified spending), refunds and debarment.

Interface for other domains (staff desk, public directory, dashboard)
=====================================================================

``Termination`` (table project_termination): one per project (project_id unique). reason_kind
  (ExitReason: breach 违约 / failed_evaluation 评估不合格 / org_request 承接主体申请 / force_majeure
  不可抗力), detail (the facts, shown to the organisation), decided_by_id, decided_at, debar (bool),
  debar_years (1–10 when debar, else None), debar_until (last day of the debarment, inclusive),
  debar_override (the reason staff gave for departing from the default of ``DEBAR_BY_DEFAULT``),
  credit_record_id → credit_record (the 禁入期 entry that incubator.orgs.eligibility enforces).

``Settlement`` (table project_settlement): one per project (project_id unique), written when a project
  closes (kind close 结项) or is terminated (kind exit 退出). paid_total (tranches paid), verified_total
  (expenses verified by staff, incubator.projects.budgets.services.verified_total), refund_due =
  max(paid_total − verified_total, 0), received_total (sum of its refund receipts), status
  (SettlementStatus: settled 已结清 (nothing to refund) | refund_due 待退款 → refunded 已退回, via
  transition), settled_by_id, settled_at, version_id. ``outstanding`` = refund_due − received_total.
  Relationships: project, receipts (ordered by received_on, id).

``RefundReceipt`` (table refund_receipt): settlement_id, amount (> 0), received_on, voucher_no (unique per
  settlement), file_id → stored_file (the bank receipt), recorded_by_id (finance), recorded_at.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.enums import LabeledEnum
from incubator.db import Base, Money, TimestampMixin, enum_type, utcnow


class ExitReason(LabeledEnum):
    BREACH = ("breach", "违约")
    FAILED_EVALUATION = ("failed_evaluation", "评估不合格")
    ORG_REQUEST = ("org_request", "承接主体申请")
    FORCE_MAJEURE = ("force_majeure", "不可抗力")


# Whether a reason debars the organisation unless staff decide otherwise (with a recorded reason).
# Zhongshan 公益创投 practice: an organisation that breaks its agreement is barred for 3 years; a project
# stopped for a failed evaluation counts as not delivering what was agreed. Leaving at the organisation's
# own request, or because of force majeure, is not a fault and does not debar by default.  [local]
DEBAR_BY_DEFAULT: dict[ExitReason, bool] = {
    ExitReason.BREACH: True,
    ExitReason.FAILED_EVALUATION: True,
    ExitReason.ORG_REQUEST: False,
    ExitReason.FORCE_MAJEURE: False,
}

MIN_DEBAR_YEARS, MAX_DEBAR_YEARS = 1, 10  # [design] a debarment is a decision of whole years, at most ten


class SettlementKind(LabeledEnum):
    CLOSE = ("close", "结项")
    EXIT = ("exit", "退出")


class SettlementStatus(LabeledEnum):
    SETTLED = ("settled", "已结清")
    REFUND_DUE = ("refund_due", "待退款")
    REFUNDED = ("refunded", "已退回")


SETTLEMENT_TONES = {"settled": "success", "refund_due": "warning", "refunded": "success"}
REASON_TONES = {"breach": "danger", "failed_evaluation": "danger", "org_request": "secondary",
                "force_majeure": "secondary"}


class Termination(TimestampMixin, Base):
    __tablename__ = "project_termination"
    __table_args__ = (
        UniqueConstraint("project_id"),
        CheckConstraint("debar_years IS NULL OR (debar_years >= 1 AND debar_years <= 10)", name="debar_years_range"),
        CheckConstraint("(debar AND debar_years IS NOT NULL AND debar_until IS NOT NULL) "
                        "OR (NOT debar AND debar_years IS NULL AND debar_until IS NULL)", name="debar_complete"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    reason_kind: Mapped[ExitReason] = mapped_column(enum_type(ExitReason), index=True)
    detail: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    debar: Mapped[bool] = mapped_column(Boolean, default=False)
    debar_years: Mapped[int | None] = mapped_column(Integer)
    debar_until: Mapped[date | None] = mapped_column(Date)
    debar_override: Mapped[str | None] = mapped_column(Text)
    credit_record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_record.id", ondelete="RESTRICT"))

    project = relationship("Project")
    decided_by = relationship("User")
    credit_record = relationship("CreditRecord")


class Settlement(TimestampMixin, Base):
    __tablename__ = "project_settlement"
    __table_args__ = (
        UniqueConstraint("project_id"),
        CheckConstraint("paid_total >= 0 AND verified_total >= 0 AND refund_due >= 0 AND received_total >= 0",
                        name="amounts_nonneg"),
        CheckConstraint("received_total <= refund_due", name="no_overpayment"),
        CheckConstraint("(status = 'settled' AND refund_due = 0) "
                        "OR (status = 'refund_due' AND refund_due > 0 AND received_total < refund_due) "
                        "OR (status = 'refunded' AND refund_due > 0 AND received_total = refund_due)",
                        name="status_matches_amounts"),
    )

    TRANSITIONS: ClassVar[dict] = {
        SettlementStatus.SETTLED: set(),
        SettlementStatus.REFUND_DUE: {SettlementStatus.REFUNDED},
        SettlementStatus.REFUNDED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"))
    kind: Mapped[SettlementKind] = mapped_column(enum_type(SettlementKind), index=True)
    paid_total: Mapped[Decimal] = mapped_column(Money)
    verified_total: Mapped[Decimal] = mapped_column(Money)
    refund_due: Mapped[Decimal] = mapped_column(Money)
    received_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    status: Mapped[SettlementStatus] = mapped_column(enum_type(SettlementStatus), index=True)
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    settled_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    project = relationship("Project")
    settled_by = relationship("User")
    receipts: Mapped[list["RefundReceipt"]] = relationship(
        back_populates="settlement", order_by="(RefundReceipt.received_on, RefundReceipt.id)")

    @property
    def outstanding(self) -> Decimal:
        return self.refund_due - self.received_total


class RefundReceipt(TimestampMixin, Base):
    __tablename__ = "refund_receipt"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_pos"),
        UniqueConstraint("settlement_id", "voucher_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("project_settlement.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[date] = mapped_column(Date)
    voucher_no: Mapped[str] = mapped_column(String(60))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    settlement: Mapped[Settlement] = relationship(back_populates="receipts")
    file = relationship("StoredFile")
    recorded_by = relationship("User")
