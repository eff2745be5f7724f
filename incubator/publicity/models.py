"""Results and 公示: the funding list (拟资助名单), its publicity, objections (异议) and the final result.

Interface for other domains (projects build on FUNDED applications)
===================================================================

``FundingList`` (table funding_list): one per call. id, call_id (unique), round_id (the review round it was
  drawn up from; its experts are published), status (FundingListStatus via transition: draft 拟定中 →
  approved 已审定 → publicizing 公示中 → final 结果已确定; approved → draft to revise), total (Money, set
  at approval), approved_at, approved_by_id, version_id (optimistic locking).
  Relationships: call, round, items (ordered by position), publicity (one or None).
  ``can_manage(user)`` = call.can_manage(user).

``FundingItem`` (table funding_item): list_id, application_id (unique: an application is on one list),
  position (its place in the ranking), score (official score when proposed), amount (Money | None until
  staff set it; > 0 when set), added_at, added_by_id, cancelled_at, cancel_reason.
  ``active`` is False once the grant was cancelled (upheld objection).

``Publicity`` (table publicity): list_id (unique), call_id, title, notice, contact, starts_on, ends_on
  (= add_workdays(starts_on, workdays): objections are taken through ends_on; finalising is possible from
  the next day), workdays, status (PublicityStatus: open 公示中 → final 已结束), started_at/by,
  finalized_at/by (None by: the CLI).

``Objection`` (table objection): publicity_id, item_id (the project it is about, or None for the whole
  list), reference (unique acknowledgement number, e.g. YY20261009-7K3Q9X), name, phone, email, content,
  status (ObjectionStatus via transition: open 待答复 → upheld 成立 | not_upheld 不成立), answer,
  answered_at, answered_by_id, created_at, ip. Filed by anyone (no account).

Application statuses (incubator.applications.models): passed → proposed (on the list) → publicized
(公示 started) → funded (finalised) | cancelled (upheld objection); proposed → passed (taken off a draft list).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.enums import LabeledEnum
from incubator.db import Base, Money, TimestampMixin, enum_type, utcnow


class FundingListStatus(LabeledEnum):
    DRAFT = ("draft", "拟定中")
    APPROVED = ("approved", "已审定")
    PUBLICIZING = ("publicizing", "公示中")
    FINAL = ("final", "结果已确定")


LIST_TONES = {"draft": "secondary", "approved": "info", "publicizing": "primary", "final": "success"}


class PublicityStatus(LabeledEnum):
    OPEN = ("open", "公示中")
    FINAL = ("final", "公示结束，结果已确定")


PUBLICITY_TONES = {"open": "primary", "final": "success"}


class ObjectionStatus(LabeledEnum):
    OPEN = ("open", "待答复")
    UPHELD = ("upheld", "成立")
    NOT_UPHELD = ("not_upheld", "不成立")


OBJECTION_TONES = {"open": "warning", "upheld": "danger", "not_upheld": "secondary"}


class FundingList(TimestampMixin, Base):
    __tablename__ = "funding_list"
    __table_args__ = (CheckConstraint("total IS NULL OR total >= 0", name="total_nonneg"),)

    TRANSITIONS: ClassVar[dict] = {
        FundingListStatus.DRAFT: {FundingListStatus.APPROVED},
        FundingListStatus.APPROVED: {FundingListStatus.DRAFT, FundingListStatus.PUBLICIZING},
        FundingListStatus.PUBLICIZING: {FundingListStatus.FINAL},
        FundingListStatus.FINAL: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="RESTRICT"), unique=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("review_round.id", ondelete="SET NULL"), index=True)
    status: Mapped[FundingListStatus] = mapped_column(enum_type(FundingListStatus), default=FundingListStatus.DRAFT,
                                                      index=True)
    total: Mapped[Decimal | None] = mapped_column(Money)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    call = relationship("Call")
    round = relationship("ReviewRound")
    approved_by = relationship("User")
    items: Mapped[list["FundingItem"]] = relationship(
        back_populates="funding_list", cascade="all, delete-orphan", order_by="FundingItem.position"
    )
    publicity: Mapped["Publicity | None"] = relationship(back_populates="funding_list", uselist=False)

    def can_manage(self, user) -> bool:
        return self.call is not None and self.call.can_manage(user)

    @property
    def active_items(self) -> list["FundingItem"]:
        return [i for i in self.items if i.active]

    @property
    def proposed_total(self) -> Decimal:
        return sum((i.amount for i in self.active_items if i.amount is not None), Decimal("0.00"))


class FundingItem(Base):
    __tablename__ = "funding_item"
    __table_args__ = (
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_pos"),
        UniqueConstraint("application_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("funding_list.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    funding_list: Mapped[FundingList] = relationship(back_populates="items")
    application = relationship("Application")

    @property
    def active(self) -> bool:
        return self.cancelled_at is None


class Publicity(TimestampMixin, Base):
    __tablename__ = "publicity"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("workdays >= 1", name="workdays_pos"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("funding_list.id", ondelete="RESTRICT"), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    notice: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    workdays: Mapped[int] = mapped_column(Integer, default=5)
    status: Mapped[PublicityStatus] = mapped_column(enum_type(PublicityStatus), default=PublicityStatus.OPEN, index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime)
    finalized_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    TRANSITIONS: ClassVar[dict] = {PublicityStatus.OPEN: {PublicityStatus.FINAL}, PublicityStatus.FINAL: set()}

    funding_list: Mapped[FundingList] = relationship(back_populates="publicity")
    call = relationship("Call")
    started_by = relationship("User", foreign_keys=[started_by_id])
    finalized_by = relationship("User", foreign_keys=[finalized_by_id])
    objections: Mapped[list["Objection"]] = relationship(back_populates="publicity", order_by="Objection.id")

    def can_manage(self, user) -> bool:
        return self.call is not None and self.call.can_manage(user)

    def accepts_objections(self, today: date) -> bool:
        return self.status == PublicityStatus.OPEN and self.starts_on <= today <= self.ends_on

    def has_ended(self, today: date) -> bool:
        return today > self.ends_on


class Objection(Base):
    __tablename__ = "objection"

    TRANSITIONS: ClassVar[dict] = {
        ObjectionStatus.OPEN: {ObjectionStatus.UPHELD, ObjectionStatus.NOT_UPHELD},
        ObjectionStatus.UPHELD: set(),
        ObjectionStatus.NOT_UPHELD: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    publicity_id: Mapped[int] = mapped_column(ForeignKey("publicity.id", ondelete="RESTRICT"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("funding_item.id", ondelete="SET NULL"), index=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[ObjectionStatus] = mapped_column(enum_type(ObjectionStatus), default=ObjectionStatus.OPEN,
                                                    index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))

    publicity: Mapped[Publicity] = relationship(back_populates="objections")
    item = relationship("FundingItem")
    answered_by = relationship("User")

    @property
    def is_open(self) -> bool:
        return self.status == ObjectionStatus.OPEN
