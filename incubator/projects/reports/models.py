"""Tables of the project's reports area: the report schedule and the submitted reports.

``ReportSchedule`` (table report_schedule): one item the organisation owes — project_id, kind
  (ReportKind: progress 进度报告 / midterm 中期报告 / final 结项报告), frequency (monthly/quarterly for
  progress items, None otherwise), period_label (e.g. "2026年3月", "2026年第2季度", "中期"),
  period_start / period_end (the period it covers), due_on, status (ReportStatus via transition:
  due 待提交 → submitted 待审核 → accepted 已通过 | returned 已退回 → submitted …),
  first_submitted_on (local date of the first submission; never changes afterwards),
  submitted_late (the first submission came after due_on: it stays overdue for the evaluation),
  accepted_on, reminder_sent_at (last reminder mail), version_id (optimistic locking).
  Relationships: project, reports (every submitted version, oldest first); ``latest`` property.
  ``is_overdue(on)``: see incubator.projects.reports.services (the definition lives there).

``ProgressReport`` (table progress_report): one submitted version — schedule_id, version (1, 2, …;
  unique per item), text, people_served, activities_held (integers ≥ 0), submitted_by_id,
  submitted_at, submitted_on (local date), late (submitted after the due date), decision (None /
  accepted / returned), reviewed_by_id, reviewed_at, return_reason. Versions are never edited by the
  organisation after submission: a returned report is answered by a new version.

``ProgressReportFile`` (table progress_report_file): report_id, file_id → stored_file, kind
  (ReportFileKind: photo 活动照片 / sign_in 签到表 / other 其他材料).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.enums import LabeledEnum
from incubator.db import Base, TimestampMixin, enum_type, utcnow


class ReportKind(LabeledEnum):
    PROGRESS = ("progress", "进度报告")
    MIDTERM = ("midterm", "中期报告")
    FINAL = ("final", "结项报告")


class ReportFrequency(LabeledEnum):
    MONTHLY = ("monthly", "按月")
    QUARTERLY = ("quarterly", "按季度")


class ReportStatus(LabeledEnum):
    DUE = ("due", "待提交")
    SUBMITTED = ("submitted", "待审核")
    ACCEPTED = ("accepted", "已通过")
    RETURNED = ("returned", "已退回")


REPORT_TONES = {"due": "secondary", "submitted": "warning", "accepted": "success", "returned": "danger"}


class ReportDecision(LabeledEnum):
    ACCEPTED = ("accepted", "通过")
    RETURNED = ("returned", "退回修改")


class ReportFileKind(LabeledEnum):
    PHOTO = ("photo", "活动照片")
    SIGN_IN = ("sign_in", "签到表")
    OTHER = ("other", "其他材料")


class ReportSchedule(TimestampMixin, Base):
    __tablename__ = "report_schedule"
    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint("first_submitted_on IS NOT NULL OR status = 'due'", name="submitted_has_date"),
    )

    TRANSITIONS: ClassVar[dict] = {
        ReportStatus.DUE: {ReportStatus.SUBMITTED},
        ReportStatus.SUBMITTED: {ReportStatus.ACCEPTED, ReportStatus.RETURNED},
        ReportStatus.RETURNED: {ReportStatus.SUBMITTED},
        ReportStatus.ACCEPTED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[ReportKind] = mapped_column(enum_type(ReportKind), index=True)
    frequency: Mapped[ReportFrequency | None] = mapped_column(enum_type(ReportFrequency))
    period_label: Mapped[str] = mapped_column(String(60))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[ReportStatus] = mapped_column(enum_type(ReportStatus), default=ReportStatus.DUE, index=True)
    first_submitted_on: Mapped[date | None] = mapped_column(Date)
    submitted_late: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    project = relationship("Project")
    reports: Mapped[list["ProgressReport"]] = relationship(back_populates="schedule",
                                                           order_by="ProgressReport.version")

    @property
    def latest(self) -> "ProgressReport | None":
        return self.reports[-1] if self.reports else None

    @property
    def title(self) -> str:
        if self.kind == ReportKind.PROGRESS:
            return f"{self.period_label}{self.kind.label}"
        return self.kind.label

    def is_overdue(self, on: date) -> bool:
        """Overdue on day ``on``: due date passed and not submitted by the due date (see services)."""
        return self.due_on < on and (self.first_submitted_on is None or self.first_submitted_on > self.due_on)

    def is_open_overdue(self, on: date) -> bool:
        """Overdue and still waiting for the organisation (never submitted)."""
        return self.status == ReportStatus.DUE and self.due_on < on


class ProgressReport(TimestampMixin, Base):
    __tablename__ = "progress_report"
    __table_args__ = (
        CheckConstraint("people_served >= 0", name="people_nonneg"),
        CheckConstraint("activities_held >= 0", name="activities_nonneg"),
        CheckConstraint("version >= 1", name="version_pos"),
        CheckConstraint("decision IS NULL OR reviewed_at IS NOT NULL", name="decision_reviewed"),
        CheckConstraint("decision IS NULL OR decision <> 'returned' OR return_reason IS NOT NULL",
                        name="returned_has_reason"),
        UniqueConstraint("schedule_id", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("report_schedule.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    people_served: Mapped[int] = mapped_column(Integer)
    activities_held: Mapped[int] = mapped_column(Integer)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_on: Mapped[date] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    decision: Mapped[ReportDecision | None] = mapped_column(enum_type(ReportDecision))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)

    schedule: Mapped[ReportSchedule] = relationship(back_populates="reports")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    files: Mapped[list["ProgressReportFile"]] = relationship(back_populates="report",
                                                             order_by="ProgressReportFile.id")


class ProgressReportFile(Base):
    __tablename__ = "progress_report_file"
    __table_args__ = (UniqueConstraint("report_id", "file_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_report.id", ondelete="RESTRICT"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[ReportFileKind] = mapped_column(enum_type(ReportFileKind))

    report: Mapped[ProgressReport] = relationship(back_populates="files")
    file = relationship("StoredFile")
