"""Expert pool (专家库): experts, their fields, unavailable dates and declared relations (回避申报).

Interface (other domains — review rounds, draw, scoring — code against these names; keep them stable):

``Expert`` (table ``expert``)
    id, user_id (FK user_account, unique: the expert logs in as Role.EXPERT), name, mobile (unique,
    normalised 11 digits), email (unique, lower-cased), title (职称), employer (name), employer_uscc
    (nullable, upper-cased, valid by incubator.orgs.uscc), employer_org_id (FK organization, nullable:
    set automatically when employer_uscc is a registered organisation's), district_id (nullable),
    max_reviews_per_round (int ≥ 1, default 10), status (ExpertStatus), status_reason, bio, notes,
    created_at, updated_at.
    Relationships: ``user``, ``employer_org``, ``district``,
    ``fields`` → list[ExpertField] (one row per ServiceField; filter lists in SQL by joining it),
    ``unavailable`` → list[ExpertUnavailability] (ordered by start_on),
    ``relations`` → list[ExpertRelation] (ordered by start_on).
    Properties / methods: ``field_values`` → set[ServiceField]; ``email_domain`` → "example.edu.cn";
    ``is_active``; ``available_on(day)`` → False if any unavailability covers the day;
    ``TRANSITIONS`` for ``incubator.core.states.transition`` (statuses change only through
    ``incubator.pools.services.change_status``).

``ExpertStatus``: ACTIVE "active" 在库, SUSPENDED "suspended" 暂停, REMOVED "removed" 出库.
    active → suspended | removed; suspended → active | removed; removed → active (reinstate).

``ExpertField`` (table ``expert_field``): id, expert_id, field (ServiceField); unique (expert_id, field).

``ExpertUnavailability`` (table ``expert_unavailability``): id, expert_id, start_on, end_on (≥ start_on,
    inclusive), note; ``covers(day)``.

``RelationKind``: employed 任职/雇佣, director 理事/董事, supervisor 监事, controller 实际控制人,
    advisor 顾问, relative 近亲属任职, mentoring 辅导/导师关系, joint_project 合作项目, other 其他利害关系
    (the values are exactly incubator.review.conflicts.RELATION_KINDS).

``ExpertRelation`` (table ``expert_relation``): id, expert_id, org_id (FK organization, nullable),
    org_uscc (nullable, upper-cased), org_name, kind (RelationKind), start_on (nullable), end_on
    (nullable = ongoing), note, created_at; relationship ``org``.

Services (incubator/pools/services.py): ``active_experts() -> list[Expert]`` (status active, with
fields, relations and unavailable loaded), ``expert_for_user(user) -> Expert | None``,
``conflict_profile(expert) -> incubator.review.conflicts.Expert`` (plain data for ``detect``).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from incubator.accounts.normalize import normalize_email, normalize_mobile, normalize_text, single_line
from incubator.core.enums import LabeledEnum
from incubator.db import Base, TimestampMixin, enum_type, utcnow
from incubator.orgs.models import ServiceField

if TYPE_CHECKING:  # pragma: no cover
    from incubator.accounts.models import User


class ExpertStatus(LabeledEnum):
    ACTIVE = ("active", "在库")
    SUSPENDED = ("suspended", "暂停")
    REMOVED = ("removed", "出库")


class RelationKind(LabeledEnum):
    EMPLOYED = ("employed", "任职/雇佣")
    DIRECTOR = ("director", "理事/董事")
    SUPERVISOR = ("supervisor", "监事")
    CONTROLLER = ("controller", "实际控制人")
    ADVISOR = ("advisor", "顾问")
    RELATIVE = ("relative", "近亲属任职")
    MENTORING = ("mentoring", "辅导/导师关系")
    JOINT_PROJECT = ("joint_project", "合作项目")
    OTHER = ("other", "其他利害关系")


class Expert(TimestampMixin, Base):
    __tablename__ = "expert"
    __table_args__ = (CheckConstraint("max_reviews_per_round >= 1", name="max_reviews_positive"),)

    TRANSITIONS: ClassVar[dict] = {
        ExpertStatus.ACTIVE: {ExpertStatus.SUSPENDED, ExpertStatus.REMOVED},
        ExpertStatus.SUSPENDED: {ExpertStatus.ACTIVE, ExpertStatus.REMOVED},
        ExpertStatus.REMOVED: {ExpertStatus.ACTIVE},
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), unique=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    mobile: Mapped[str] = mapped_column(String(20), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    title: Mapped[str | None] = mapped_column(String(50))
    employer: Mapped[str | None] = mapped_column(String(100), index=True)
    employer_uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    employer_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id", ondelete="RESTRICT"), index=True)
    max_reviews_per_round: Mapped[int] = mapped_column(Integer, default=10)
    status: Mapped[ExpertStatus] = mapped_column(enum_type(ExpertStatus), default=ExpertStatus.ACTIVE, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    bio: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)  # staff-only remarks

    user: Mapped["User"] = relationship(foreign_keys=[user_id])
    employer_org = relationship("Organization", foreign_keys=[employer_org_id])
    district = relationship("District")
    fields: Mapped[list["ExpertField"]] = relationship(
        cascade="all, delete-orphan", back_populates="expert", order_by="ExpertField.id"
    )
    unavailable: Mapped[list["ExpertUnavailability"]] = relationship(
        cascade="all, delete-orphan", back_populates="expert",
        order_by=lambda: (ExpertUnavailability.start_on, ExpertUnavailability.id),
    )
    relations: Mapped[list["ExpertRelation"]] = relationship(
        cascade="all, delete-orphan", back_populates="expert",
        order_by=lambda: (ExpertRelation.start_on, ExpertRelation.id),
    )

    @validates("email")
    def _normalize_email(self, _key, value):
        return normalize_email(value) if value is not None else None

    @validates("mobile")
    def _normalize_mobile(self, _key, value):
        return normalize_mobile(value) if value is not None else None

    @validates("name", "title", "employer")
    def _normalize_line(self, _key, value):
        return single_line(value) if value is not None else None

    @validates("employer_uscc")
    def _normalize_uscc(self, _key, value):
        if value is None:
            return None
        return normalize_text(value).upper() or None

    @property
    def field_values(self) -> set[ServiceField]:
        return {row.field for row in self.fields}

    @property
    def sorted_fields(self) -> list[ServiceField]:
        """In the catalogue's order (养老, 托育, …), for display."""
        order = list(ServiceField)
        return sorted(self.field_values, key=order.index)

    @property
    def email_domain(self) -> str:
        return (self.email or "").rsplit("@", 1)[-1].strip().lower() if "@" in (self.email or "") else ""

    @property
    def is_active(self) -> bool:
        return self.status == ExpertStatus.ACTIVE

    def available_on(self, day: date) -> bool:
        return not any(u.covers(day) for u in self.unavailable)

    @property
    def audit_label(self) -> str:
        return f"专家 {self.name}"


class ExpertField(Base):
    """专业领域: one row per (expert, field), so lists filter by field in SQL."""

    __tablename__ = "expert_field"
    __table_args__ = (UniqueConstraint("expert_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    field: Mapped[ServiceField] = mapped_column(enum_type(ServiceField), index=True)
    expert: Mapped[Expert] = relationship(back_populates="fields")


class ExpertUnavailability(Base):
    """Dates an expert cannot review (both ends inclusive)."""

    __tablename__ = "expert_unavailability"
    __table_args__ = (CheckConstraint("end_on >= start_on", name="period_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())
    expert: Mapped[Expert] = relationship(back_populates="unavailable")

    def covers(self, day: date) -> bool:
        return self.start_on <= day <= self.end_on


class ExpertRelation(Base):
    """A declared tie with an organisation (回避申报): the source of relation conflicts."""

    __tablename__ = "expert_relation"
    __table_args__ = (
        CheckConstraint("end_on IS NULL OR start_on IS NULL OR end_on >= start_on", name="period_order"),
        CheckConstraint("org_id IS NOT NULL OR org_uscc IS NOT NULL OR org_name <> ''", name="names_org"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"), index=True)
    org_uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    org_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[RelationKind] = mapped_column(enum_type(RelationKind))
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)  # None: still going on
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())
    expert: Mapped[Expert] = relationship(back_populates="relations")
    org = relationship("Organization", foreign_keys=[org_id])

    @validates("org_uscc")
    def _normalize_uscc(self, _key, value):
        if value is None:
            return None
        return normalize_text(value).upper() or None

    @validates("org_name")
    def _normalize_name(self, _key, value):
        return single_line(value) if value is not None else None

    def ongoing_on(self, day: date) -> bool:
        return (self.start_on is None or self.start_on <= day) and (self.end_on is None or self.end_on >= day)
