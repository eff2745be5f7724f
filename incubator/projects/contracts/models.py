"""Contracts of funded projects (资助协议·服务合同): templates, versions, signing and publication.

Interface for other domains (hub, desk, public site)
====================================================

``ContractTemplate`` (table contract_template): name, kind (ProjectKind: grant / purchase — the
  projects it serves), title (the document's title, e.g. "政府购买服务合同"), clauses (JSON list of
  ``{"heading": "服务内容", "body": "乙方按照…{{服务内容}}…"}``, numbered 第一条… in order; placeholders
  ``{{名称}}`` are filled from the project, see ``services.PLACEHOLDERS``), is_default (the one a new
  contract of that kind uses), updated_by_id, version_id (optimistic locking: two staff editing the same
  template). Staff and admins edit it at /staff/contract-templates without code.

``Contract`` (table contract): project_id, version (1, 2, …; unique per project), parent_id (an amendment
  (变更) points to the contract in force it amends; None for version 1), template_id, number
  ("<project number>-HT<version>"), status (ContractStatus via transition: generated 待乙方签章 →
  org_signed 待甲方盖章 → in_force 已生效 → superseded 已被变更; org_signed → generated when staff return
  a scan that is not properly signed or stamped, with ``return_reason``), content (JSON snapshot of everything
  the document says: parties, rendered clauses, tranche rows, amounts — a contract is rendered from it,
  the public summary is read from it, so later edits of the project or the template never change a
  signed contract), content_sha256, pdf_file_id (the generated PDF; None while its job renders it),
  pdf_job_id (the job rendering it: incubator.projects.contracts.jobs), org_signed_file_id (the
  organisation's signed and stamped scan), countersigned_file_id (the copy both parties stamped),
  generated_at/by, org_signed_at/by, signed_on (the day both parties had signed), countersigned_by_id,
  due_on (signing due: 30 days after the result), publish_due_on (2 working days after signed_on),
  published_at/by, amendment_reason, superseded_at, version_id.
  ``is_open`` (not yet in force), ``is_published``; permissions come from the project
  (project.can_view / can_manage / org.is_member).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.enums import LabeledEnum
from incubator.db import Base, TimestampMixin, enum_type, utcnow
from incubator.projects.models import ProjectKind


class ContractStatus(LabeledEnum):
    GENERATED = ("generated", "待乙方签章")
    ORG_SIGNED = ("org_signed", "乙方已签章，待甲方盖章")
    IN_FORCE = ("in_force", "已生效")
    SUPERSEDED = ("superseded", "已被变更")


CONTRACT_TONES = {"generated": "warning", "org_signed": "info", "in_force": "success", "superseded": "secondary"}


class ContractTemplate(TimestampMixin, Base):
    __tablename__ = "contract_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ProjectKind] = mapped_column(enum_type(ProjectKind), index=True)
    title: Mapped[str] = mapped_column(String(100))
    clauses: Mapped[list] = mapped_column(JSON, default=list)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    updated_by = relationship("User")


class Contract(TimestampMixin, Base):
    __tablename__ = "contract"
    __table_args__ = (
        UniqueConstraint("project_id", "version"),
        CheckConstraint("version >= 1", name="version_pos"),
        CheckConstraint("(parent_id IS NULL) = (version = 1)", name="amendment_has_parent"),
        CheckConstraint("parent_id IS NULL OR amendment_reason IS NOT NULL", name="amendment_has_reason"),
        CheckConstraint("status NOT IN ('org_signed', 'in_force', 'superseded') OR org_signed_file_id IS NOT NULL",
                        name="signed_has_scan"),
        CheckConstraint("status NOT IN ('in_force', 'superseded') OR "
                        "(countersigned_file_id IS NOT NULL AND signed_on IS NOT NULL)", name="in_force_has_copy"),
        CheckConstraint("published_at IS NULL OR status IN ('in_force', 'superseded')", name="published_in_force"),
    )

    TRANSITIONS: ClassVar[dict] = {
        ContractStatus.GENERATED: {ContractStatus.ORG_SIGNED},
        ContractStatus.ORG_SIGNED: {ContractStatus.IN_FORCE, ContractStatus.GENERATED},
        ContractStatus.IN_FORCE: {ContractStatus.SUPERSEDED},
        ContractStatus.SUPERSEDED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # NO ACTION, not RESTRICT: a versions chain may be deleted in one statement (SQLite checks RESTRICT per row)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("contract_template.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[ContractStatus] = mapped_column(enum_type(ContractStatus), default=ContractStatus.GENERATED,
                                                   index=True)
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    content_sha256: Mapped[str] = mapped_column(String(64), default="")
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    pdf_job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    org_signed_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    countersigned_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    org_signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    org_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    signed_on: Mapped[date | None] = mapped_column(Date)
    countersigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    publish_due_on: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    return_reason: Mapped[str | None] = mapped_column(Text)  # the last time staff returned the scan
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    project = relationship("Project")
    parent: Mapped["Contract | None"] = relationship(remote_side="Contract.id")
    template = relationship("ContractTemplate")
    pdf_file = relationship("StoredFile", foreign_keys=[pdf_file_id])
    pdf_job = relationship("Job")
    org_signed_file = relationship("StoredFile", foreign_keys=[org_signed_file_id])
    countersigned_file = relationship("StoredFile", foreign_keys=[countersigned_file_id])
    generated_by = relationship("User", foreign_keys=[generated_by_id])
    org_signed_by = relationship("User", foreign_keys=[org_signed_by_id])
    countersigned_by = relationship("User", foreign_keys=[countersigned_by_id])
    published_by = relationship("User", foreign_keys=[published_by_id])

    @property
    def is_open(self) -> bool:
        """Not yet in force (generated or signed by the organisation only)."""
        return self.status in (ContractStatus.GENERATED, ContractStatus.ORG_SIGNED)

    @property
    def pdf_pending(self) -> bool:
        return self.pdf_file_id is None

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def is_amendment(self) -> bool:
        return self.parent_id is not None
