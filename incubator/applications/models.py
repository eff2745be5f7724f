"""Applications (申报书): drafts, submission, versions, numbering.

Interface for other domains (screening, review, projects)
=========================================================

``ApplicationStatus`` (LabeledEnum) and ``Application.TRANSITIONS`` — change status ONLY with
``incubator.core.states.transition(app, ApplicationStatus.X, by=user, note=...)``::

    draft 草稿 ──submit──▶ submitted 已提交 ──▶ passed 资格审查通过 / rejected 未通过资格审查
      │                      │  ▲                                   (screening helper)
      │                      ▼  │
      │                  returned 退回修改 ──resubmit──▶ resubmitted 已重新提交 ──▶ returned / passed / rejected
      └──────────────┬───────┴──────────────────────────────┘
                     ▼
               withdrawn 已撤回   (by the organisation, before the call's deadline; see services.withdraw)

  ``SCREENABLE`` = {submitted, resubmitted}: what staff decide on (module constant).
  ``EDITABLE``   = {draft, returned}: what the organisation may edit (module constant).
  ``STATUS_TONES``: pill colours by status value, for ``ui.pill(app.status, STATUS_TONES)``.
  Results (incubator.publicity): passed ──▶ proposed 拟资助 ──▶ publicized 公示中 ──▶ funded 已确定资助
                                    ▲          │                      └──▶ cancelled 取消资助 (upheld 异议)
                                    └──────────┘ (taken off the funding list before the 公示)

``Application`` columns (all section values may be None/empty in a draft):
  id, org_id → organization, call_id → call, created_by_id → user_account,
  number (str | None, unique; e.g. "WCT-2026-0001", set at first submission, never changes),
  status, title, field (ServiceField | None), service_communities (text), beneficiaries_description,
  beneficiaries_count (int | None), period_start / period_end (date | None),
  supervisor (监管方 street/community), requester (需求方), summary, need_analysis, overall_goal,
  sub_goals (list[str]), risks, extra_values (dict[str(call_field_id)] -> str),
  bank_account_name (户名), bank_name (开户行), bank_account_number (账号),
  grant_requested / matching_amount / total_budget (Decimal, recomputed exactly on every save),
  raw_inputs (dict form-name -> text the user typed that could not be stored as a typed value),
  return_reasons (dict section-key -> reason; SET BY SCREENING when returning; keys of SECTIONS),
  revision_deadline (date | None; SET BY SCREENING when returning: last local day to resubmit),
  last_saved_at, submitted_at (first submission), last_submitted_at, withdrawn_at (naive UTC),
  version_id (optimistic locking).
Relationships: org, call, created_by, plan_rows (ApplicationPlanRow), team_members
  (ApplicationTeamMember), budget_lines (ApplicationBudgetLine), attachments (ApplicationAttachment),
  versions (ApplicationVersion, ordered by number).
Methods:
  can_view(user)   members of the owning org; staff (district staff: only orgs of their district)
                   and admins once it has been submitted at least once (drafts are private).
  can_edit(user)   members of the owning org while status is draft or returned.
  can_withdraw(user, now=None)
  is_editable, latest_version, snapshot() -> dict (JSON-safe; what ApplicationVersion.data holds),
  budget_by_category() -> dict[BudgetCategory, Decimal].

``ApplicationVersion``: one row per submission / resubmission:
  application_id, number (1, 2, …), status (submitted | resubmitted), data (= snapshot() JSON),
  submitted_at, submitted_by_id, pdf_file_id → stored_file (None until the PDF job ran), pdf_job_id.
  ``incubator.applications.services.diff_snapshots(old.data, new.data)`` lists the differences
  as (section label, item label, before, after) for the screening page.

Sections (keys used by return_reasons and by the submission checks): ``SECTIONS``.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from incubator.calls.models import BudgetCategory
from incubator.core.enums import LabeledEnum
from incubator.db import CENT, Base, Money, TimestampMixin, enum_type, utcnow
from incubator.orgs.models import ServiceField


class ApplicationStatus(LabeledEnum):
    DRAFT = ("draft", "草稿")
    SUBMITTED = ("submitted", "已提交")
    RETURNED = ("returned", "退回修改")
    RESUBMITTED = ("resubmitted", "已重新提交")
    PASSED = ("passed", "资格审查通过")
    REJECTED = ("rejected", "未通过资格审查")
    WITHDRAWN = ("withdrawn", "已撤回")
    # Results and 公示 (incubator.publicity): the funding list, its publicity and the final result.
    PROPOSED = ("proposed", "拟资助")
    PUBLICIZED = ("publicized", "公示中")
    FUNDED = ("funded", "已确定资助")
    CANCELLED = ("cancelled", "取消资助")


# The organisation edits in these states; staff screen in those.
EDITABLE = frozenset({ApplicationStatus.DRAFT, ApplicationStatus.RETURNED})
SCREENABLE = frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.RESUBMITTED})

# Colours of the status pills (Bootstrap text-bg-*).
STATUS_TONES = {
    "draft": "secondary",
    "submitted": "primary",
    "returned": "warning",
    "resubmitted": "info",
    "passed": "success",
    "rejected": "danger",
    "withdrawn": "dark",
    "proposed": "info",
    "publicized": "primary",
    "funded": "success",
    "cancelled": "danger",
}


class FundingSource(LabeledEnum):
    GRANT = ("grant", "申请资助")
    MATCHING = ("matching", "配套资金")


# Section keys, in form order. Used for tabs, for grouping submission problems and by screening
# (return reasons per section).
SECTIONS: list[tuple[str, str]] = [
    ("basic", "基本信息"),
    ("need", "需求分析"),
    ("goals", "项目目标"),
    ("plan", "实施计划"),
    ("team", "项目团队"),
    ("budget", "项目预算"),
    ("extra", "补充信息"),
    ("attachments", "附件"),
    ("bank", "收款账户"),
    ("general", "申报条件"),
]
SECTION_LABELS = dict(SECTIONS)


class Quantity(TypeDecorator):
    """A quantity with two decimals, stored as integer hundredths (exact on SQLite too)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int((Decimal(value) * 100).to_integral_value(rounding=ROUND_HALF_UP))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(CENT)


def line_amount(unit_price: Decimal | None, quantity: Decimal | None) -> Decimal | None:
    """Exact amount of a budget line: unit price × quantity, rounded to 分 (ROUND_HALF_UP)."""
    if unit_price is None or quantity is None:
        return None
    return (unit_price * quantity).quantize(CENT, rounding=ROUND_HALF_UP)


class Application(TimestampMixin, Base):
    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint("grant_requested >= 0", name="grant_nonneg"),
        CheckConstraint("matching_amount >= 0", name="matching_nonneg"),
        CheckConstraint("total_budget >= 0", name="total_nonneg"),
        CheckConstraint("beneficiaries_count IS NULL OR beneficiaries_count > 0", name="beneficiaries_pos"),
        CheckConstraint("status IN ('draft', 'withdrawn') OR number IS NOT NULL", name="number_when_submitted"),
    )

    TRANSITIONS: ClassVar[dict] = {
        ApplicationStatus.DRAFT: {ApplicationStatus.SUBMITTED, ApplicationStatus.WITHDRAWN},
        ApplicationStatus.SUBMITTED: {
            ApplicationStatus.RETURNED,
            ApplicationStatus.PASSED,
            ApplicationStatus.REJECTED,
            ApplicationStatus.WITHDRAWN,
        },
        ApplicationStatus.RETURNED: {ApplicationStatus.RESUBMITTED, ApplicationStatus.WITHDRAWN},
        ApplicationStatus.RESUBMITTED: {
            ApplicationStatus.RETURNED,
            ApplicationStatus.PASSED,
            ApplicationStatus.REJECTED,
            ApplicationStatus.WITHDRAWN,
        },
        # passed → proposed (put on the funding list) → publicized (公示) → funded / cancelled (upheld
        # objection); proposed → passed when staff take it off the list before the 公示 (incubator.publicity).
        ApplicationStatus.PASSED: {ApplicationStatus.PROPOSED},
        ApplicationStatus.REJECTED: set(),
        ApplicationStatus.WITHDRAWN: set(),
        ApplicationStatus.PROPOSED: {ApplicationStatus.PASSED, ApplicationStatus.PUBLICIZED},
        ApplicationStatus.PUBLICIZED: {ApplicationStatus.FUNDED, ApplicationStatus.CANCELLED},
        ApplicationStatus.FUNDED: set(),
        ApplicationStatus.CANCELLED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="RESTRICT"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    number: Mapped[str | None] = mapped_column(String(30), unique=True)
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_type(ApplicationStatus), default=ApplicationStatus.DRAFT, index=True
    )

    # 基本信息
    title: Mapped[str] = mapped_column(String(200), default="")
    field: Mapped[ServiceField | None] = mapped_column(enum_type(ServiceField), index=True)
    service_communities: Mapped[str] = mapped_column(Text, default="")
    beneficiaries_description: Mapped[str] = mapped_column(Text, default="")
    beneficiaries_count: Mapped[int | None] = mapped_column(Integer)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    supervisor: Mapped[str] = mapped_column(String(200), default="")  # 监管方（街道/社区）
    requester: Mapped[str] = mapped_column(String(200), default="")  # 需求方
    summary: Mapped[str] = mapped_column(Text, default="")
    # 需求分析 / 目标 / 风险
    need_analysis: Mapped[str] = mapped_column(Text, default="")
    overall_goal: Mapped[str] = mapped_column(Text, default="")
    sub_goals: Mapped[list] = mapped_column(JSON, default=list)
    risks: Mapped[str] = mapped_column(Text, default="")
    # The call's extra fields: {str(call_field.id): value as text}
    extra_values: Mapped[dict] = mapped_column(JSON, default=dict)
    # 收款账户
    bank_account_name: Mapped[str] = mapped_column(String(100), default="")
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    bank_account_number: Mapped[str] = mapped_column(String(40), default="")
    # Totals, recomputed exactly from the budget lines on every save.
    grant_requested: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    matching_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total_budget: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # What the user typed that could not be stored typed (kept so nothing is lost): {form name: text}
    raw_inputs: Mapped[dict] = mapped_column(JSON, default=dict)
    # Set by screening when returning for revision.
    return_reasons: Mapped[dict] = mapped_column(JSON, default=dict)
    revision_deadline: Mapped[date | None] = mapped_column(Date)

    last_saved_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    last_submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)

    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    org = relationship("Organization")
    call = relationship("Call")
    created_by = relationship("User")
    plan_rows: Mapped[list["ApplicationPlanRow"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationPlanRow.position"
    )
    team_members: Mapped[list["ApplicationTeamMember"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationTeamMember.position"
    )
    budget_lines: Mapped[list["ApplicationBudgetLine"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationBudgetLine.position"
    )
    attachments: Mapped[list["ApplicationAttachment"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationAttachment.id"
    )
    versions: Mapped[list["ApplicationVersion"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationVersion.number"
    )

    # ---- permissions -------------------------------------------------------------------------
    def is_member(self, user) -> bool:
        from incubator.accounts.models import Role

        return (
            getattr(user, "is_authenticated", False)
            and user.role == Role.APPLICANT
            and user.org_id is not None
            and user.org_id == self.org_id
        )

    def can_view(self, user) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        if self.is_member(user):
            return True
        if self.submitted_at is None:  # drafts are the organisation's own business
            return False
        if user.is_admin:
            return True
        if user.is_staff:
            return user.sees_district(self.org.district_id)
        return False

    def can_edit(self, user) -> bool:
        return self.is_member(user) and self.is_editable

    def can_withdraw(self, user, now: datetime | None = None) -> bool:
        return (
            self.is_member(user)
            and ApplicationStatus.WITHDRAWN in self.TRANSITIONS.get(self.status, set())
            and (now or utcnow()) < self.call.closes_at
        )

    # ---- state -------------------------------------------------------------------------------
    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def display_title(self) -> str:
        return self.title or "（未命名申报书）"

    @property
    def quoted_title(self) -> str:
        """The title in “quotes” for running text, unless it has quotes of its own (“银龄互助”社区…项目)."""
        title = self.display_title
        return title if "“" in title or "”" in title else f"“{title}”"

    @property
    def latest_version(self) -> "ApplicationVersion | None":
        return self.versions[-1] if self.versions else None

    def budget_by_category(self) -> dict[BudgetCategory, Decimal]:
        sums: dict[BudgetCategory, Decimal] = {}
        for line in self.budget_lines:
            if line.category is not None and line.amount is not None:
                sums[line.category] = sums.get(line.category, Decimal("0")) + line.amount
        return sums

    def snapshot(self) -> dict[str, Any]:
        """Everything the organisation filled in, JSON-safe (strings for money and dates)."""

        def s(v):
            if v is None:
                return None
            if isinstance(v, Decimal):
                return str(v)
            if isinstance(v, (date, datetime)):
                return v.isoformat()
            if isinstance(v, LabeledEnum):
                return v.value
            return v

        return {
            "number": self.number,
            "call_id": self.call_id,
            "org_id": self.org_id,
            "org_name": self.org.name if self.org is not None else None,
            "basic": {
                "title": self.title,
                "field": s(self.field),
                "service_communities": self.service_communities,
                "beneficiaries_description": self.beneficiaries_description,
                "beneficiaries_count": self.beneficiaries_count,
                "period_start": s(self.period_start),
                "period_end": s(self.period_end),
                "supervisor": self.supervisor,
                "requester": self.requester,
                "summary": self.summary,
            },
            "need": {"need_analysis": self.need_analysis, "risks": self.risks},
            "goals": {"overall_goal": self.overall_goal, "sub_goals": list(self.sub_goals or [])},
            "plan": [
                {"start": s(r.start_on), "end": s(r.end_on), "content": r.content, "output": r.output}
                for r in self.plan_rows
            ],
            "team": [
                {
                    "name": m.name,
                    "education": m.education,
                    "major": m.major,
                    "role": m.role,
                    "qualification": m.qualification,
                    "insured": m.insured,
                    "time_on_project": m.time_on_project,
                }
                for m in self.team_members
            ],
            "budget": [
                {
                    "category": s(b.category),
                    "item": b.item,
                    "unit": b.unit,
                    "unit_price": s(b.unit_price),
                    "quantity": s(b.quantity),
                    "amount": s(b.amount),
                    "source": s(b.source),
                    "note": b.note,
                }
                for b in self.budget_lines
            ],
            "totals": {
                "grant_requested": s(self.grant_requested),
                "matching_amount": s(self.matching_amount),
                "total_budget": s(self.total_budget),
            },
            "extra": dict(self.extra_values or {}),
            "attachments": [
                {
                    "slot": a.slot,
                    "file_id": a.file_id,
                    "name": a.file.original_name if a.file is not None else None,
                }
                for a in self.attachments
            ],
            "bank": {
                "bank_account_name": self.bank_account_name,
                "bank_name": self.bank_name,
                "bank_account_number": self.bank_account_number,
            },
        }


class ApplicationPlanRow(Base):
    """实施计划: one activity row (dates, content, output)."""

    __tablename__ = "application_plan_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    content: Mapped[str] = mapped_column(Text, default="")
    output: Mapped[str] = mapped_column(Text, default="")
    application: Mapped[Application] = relationship(back_populates="plan_rows")


class ApplicationTeamMember(Base):
    """项目团队: one member row."""

    __tablename__ = "application_team_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(50), default="")
    education: Mapped[str] = mapped_column(String(50), default="")
    major: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(100), default="")
    qualification: Mapped[str] = mapped_column(String(100), default="")  # 社工资格
    insured: Mapped[bool | None] = mapped_column()  # 是否缴纳社保
    time_on_project: Mapped[str] = mapped_column(String(100), default="")
    application: Mapped[Application] = relationship(back_populates="team_members")


class ApplicationBudgetLine(Base):
    """预算明细: amount = unit price × quantity, rounded to 分, always computed on the server."""

    __tablename__ = "application_budget_line"
    __table_args__ = (
        CheckConstraint("unit_price IS NULL OR unit_price >= 0", name="price_nonneg"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_pos"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[BudgetCategory | None] = mapped_column(enum_type(BudgetCategory))
    item: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    unit_price: Mapped[Decimal | None] = mapped_column(Money)
    quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    source: Mapped[FundingSource] = mapped_column(enum_type(FundingSource), default=FundingSource.GRANT)
    note: Mapped[str] = mapped_column(Text, default="")
    application: Mapped[Application] = relationship(back_populates="budget_lines")


class ApplicationAttachment(TimestampMixin, Base):
    """An uploaded file for one of the call's attachment types, or for a FILE-kind extra field.

    ``slot`` is "type:<call_attachment_type.id>" or "field:<call_field.id>".
    """

    __tablename__ = "application_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    slot: Mapped[str] = mapped_column(String(40))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    application: Mapped[Application] = relationship(back_populates="attachments")
    file = relationship("StoredFile")


class ApplicationVersion(Base):
    """A snapshot of the application as submitted (each submission and resubmission)."""

    __tablename__ = "application_version"
    __table_args__ = (UniqueConstraint("application_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[ApplicationStatus] = mapped_column(enum_type(ApplicationStatus))
    data: Mapped[dict] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    pdf_job_id: Mapped[int | None] = mapped_column(Integer)
    application: Mapped[Application] = relationship(back_populates="versions")
    submitted_by = relationship("User")
    pdf_file = relationship("StoredFile")


class ApplicationNumberCounter(Base):
    """Last number handed out per (prefix, year); incremented under its row lock."""

    __tablename__ = "application_number_counter"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
