"""Tables of the project's evaluations area: 评价指标体系 (IndicatorTemplate, Indicator) and 绩效评价
(PerformanceEvaluation, EvaluationScore).

Interface
=========
``IndicatorTemplate`` (table indicator_template): name (unique), description, for_midterm / for_final
  (which stages it may be used for), active, overdue_deduction (points taken off per overdue report,
  default 2), overdue_deduction_cap (at most this many points in all, default 10), bonus_cap (加分项上限,
  default 5), version_id. ``indicators``: every node, ordered by position. ``leaves``, ``roots``,
  ``stages_label``. The leaf weights sum to exactly 100 (checked by the services on every save).

``Indicator`` (table indicator): template_id, parent_id (None for 一级), level (1 一级 / 2 二级 / 3 三级),
  code ("1", "1.2", "1.2.3": its place in the tree), position, name, max_points (the weight: full marks of
  a leaf; of a parent, the sum of its children), scoring_notes (评分细则).

``PerformanceEvaluation`` (table performance_evaluation): project_id, stage (EvaluationStage: midterm 中期评估 /
  final 结项评估), template_id, template_name and snapshot (a JSON copy of the template's tree when the
  evaluation was assigned: later edits of the template never change it), evaluator_id (the one user who
  scores it: an ``evaluator`` (第三方评估机构), an expert, or district staff), assigned_by_id, assigned_at,
  due_on, status (EvaluationStatus via transition: assigned 待评分 → submitted 待确认 → confirmed 已确认 |
  returned 已退回 → submitted …; assigned / returned → cancelled 已撤销), bonus + bonus_note (加分项),
  deduction + deduction_note (扣分项), overdue_reports and overdue_deduction (逾期报告扣分, worked out from
  the reports area when scores are saved, frozen on submission), summary (评价意见), total (0–100, two
  places) and grade (EvaluationGrade by GRADE_BANDS, set on submission), submitted_at, confirmed_at /
  confirmed_by_id, returned_at / return_reason, report_file_id (the 绩效评价报告 PDF) and report_sha256,
  version_id. ``scores``: EvaluationScore rows. Permissions: ``is_evaluator(user)``,
  ``visible_to(user)`` (see the method).

``EvaluationScore`` (table evaluation_score): evaluation_id, code (a leaf of the snapshot), points
  (0 … the leaf's max_points), comment. One per (evaluation, code).

``GRADE_BANDS``: 优秀 90–100, 良好 80–89.99, 合格 60–79.99, 不合格 below 60 (财预〔2020〕10号; overridable
  with the EVALUATION_GRADE_BANDS setting) and ``grade_for(total)``.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.enums import LabeledEnum
from incubator.db import Base, TimestampMixin, enum_type, utcnow

FULL_MARKS = Decimal("100")
LEVEL_LABELS = {1: "一级指标", 2: "二级指标", 3: "三级指标"}


class EvaluationStage(LabeledEnum):
    MIDTERM = ("midterm", "中期评估")
    FINAL = ("final", "结项评估")


class EvaluationStatus(LabeledEnum):
    ASSIGNED = ("assigned", "待评分")
    SUBMITTED = ("submitted", "待确认")
    CONFIRMED = ("confirmed", "已确认")
    RETURNED = ("returned", "已退回")
    CANCELLED = ("cancelled", "已撤销")


EVALUATION_TONES = {"assigned": "info", "submitted": "warning", "confirmed": "success", "returned": "danger",
                    "cancelled": "secondary"}
OPEN_STATUSES = (EvaluationStatus.ASSIGNED, EvaluationStatus.SUBMITTED, EvaluationStatus.RETURNED)
SCORING_STATUSES = (EvaluationStatus.ASSIGNED, EvaluationStatus.RETURNED)


class EvaluationGrade(LabeledEnum):
    EXCELLENT = ("excellent", "优秀")
    GOOD = ("good", "良好")
    PASS = ("pass", "合格")
    FAIL = ("fail", "不合格")


GRADE_TONES = {"excellent": "success", "good": "primary", "pass": "info", "fail": "danger"}
# Worst last: the order a supplier's annual assessment (考核) takes the worst of its grades by.
GRADE_ORDER = (EvaluationGrade.EXCELLENT, EvaluationGrade.GOOD, EvaluationGrade.PASS, EvaluationGrade.FAIL)

# 财预〔2020〕10号 (项目支出绩效评价管理办法): 优 90–100, 良 80–89, 中 60–79, 差 0–59; project evaluations name
# them 优秀 / 良好 / 合格 / 不合格 (DOMAIN.md, "Grades of evaluation"). A total has two decimals, so 89.99 is
# 良好 and 59.99 不合格. A setting (EVALUATION_GRADE_BANDS: [["excellent", "90"], …]) may replace it.
GRADE_BANDS: tuple[tuple[EvaluationGrade, Decimal], ...] = (
    (EvaluationGrade.EXCELLENT, Decimal("90")),
    (EvaluationGrade.GOOD, Decimal("80")),
    (EvaluationGrade.PASS, Decimal("60")),
    (EvaluationGrade.FAIL, Decimal("0")),
)


def grade_bands() -> tuple[tuple[EvaluationGrade, Decimal], ...]:
    """The bands in force: the EVALUATION_GRADE_BANDS setting when the app has one, else GRADE_BANDS."""
    from flask import current_app, has_app_context

    raw = current_app.config.get("EVALUATION_GRADE_BANDS") if has_app_context() else None
    if not raw:
        return GRADE_BANDS
    bands = tuple(sorted(((EvaluationGrade(g), Decimal(str(m))) for g, m in raw), key=lambda b: b[1], reverse=True))
    return bands


def grade_for(total: Decimal) -> EvaluationGrade:
    for grade, minimum in grade_bands():
        if total >= minimum:
            return grade
    return EvaluationGrade.FAIL


def passes(grade: EvaluationGrade | None) -> bool:
    """合格 or better."""
    return grade is not None and grade != EvaluationGrade.FAIL


def band_text() -> str:
    """"优秀 ≥ 90，良好 80–89.99，合格 60–79.99，不合格 < 60" for pages and the report."""
    bands = grade_bands()
    parts = []
    for i, (grade, minimum) in enumerate(bands):
        if i == 0:
            parts.append(f"{grade.label} ≥ {minimum:g}")
        elif minimum == 0 or i == len(bands) - 1:
            parts.append(f"{grade.label} < {bands[i - 1][1]:g}")
        else:
            parts.append(f"{grade.label} {minimum:g}–{bands[i - 1][1] - Decimal('0.01'):g}")
    return "，".join(parts)


class IndicatorTemplate(TimestampMixin, Base):
    __tablename__ = "indicator_template"
    __table_args__ = (
        CheckConstraint("overdue_deduction >= 0 AND overdue_deduction <= 100", name="overdue_range"),
        CheckConstraint("overdue_deduction_cap >= 0 AND overdue_deduction_cap <= 100", name="overdue_cap_range"),
        CheckConstraint("bonus_cap >= 0 AND bonus_cap <= 100", name="bonus_cap_range"),
        CheckConstraint("for_midterm OR for_final", name="some_stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    for_midterm: Mapped[bool] = mapped_column(Boolean, default=True)
    for_final: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    overdue_deduction: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("2"))
    overdue_deduction_cap: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("10"))
    bonus_cap: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("5"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    indicators: Mapped[list["Indicator"]] = relationship(
        back_populates="template", order_by="Indicator.position", cascade="all, delete-orphan",
        passive_deletes=True)

    @property
    def leaves(self) -> list["Indicator"]:
        parents = {i.parent_id for i in self.indicators}
        return [i for i in self.indicators if i.id not in parents]

    @property
    def stages_label(self) -> str:
        if self.for_midterm and self.for_final:
            return "中期、结项通用"
        return EvaluationStage.MIDTERM.label if self.for_midterm else EvaluationStage.FINAL.label

    def fits(self, stage: EvaluationStage) -> bool:
        return self.for_midterm if stage == EvaluationStage.MIDTERM else self.for_final


class Indicator(Base):
    __tablename__ = "indicator"
    __table_args__ = (
        CheckConstraint("level >= 1 AND level <= 3", name="level_range"),
        CheckConstraint("max_points > 0 AND max_points <= 100", name="points_range"),
        UniqueConstraint("template_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("indicator_template.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    max_points: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    scoring_notes: Mapped[str] = mapped_column(Text, default="")

    template: Mapped[IndicatorTemplate] = relationship(back_populates="indicators")

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


class PerformanceEvaluation(TimestampMixin, Base):
    __tablename__ = "performance_evaluation"
    __table_args__ = (
        CheckConstraint("bonus >= 0 AND bonus <= 100", name="bonus_range"),
        CheckConstraint("deduction >= 0 AND deduction <= 100", name="deduction_range"),
        CheckConstraint("overdue_deduction >= 0 AND overdue_deduction <= 100", name="overdue_range"),
        CheckConstraint("overdue_reports >= 0", name="overdue_reports_nonneg"),
        CheckConstraint("total IS NULL OR (total >= 0 AND total <= 100)", name="total_range"),
        CheckConstraint("status NOT IN ('submitted', 'confirmed') OR (total IS NOT NULL AND grade IS NOT NULL)",
                        name="graded_when_submitted"),
    )

    TRANSITIONS: ClassVar[dict] = {
        EvaluationStatus.ASSIGNED: {EvaluationStatus.SUBMITTED, EvaluationStatus.CANCELLED},
        EvaluationStatus.SUBMITTED: {EvaluationStatus.CONFIRMED, EvaluationStatus.RETURNED},
        EvaluationStatus.RETURNED: {EvaluationStatus.SUBMITTED, EvaluationStatus.CANCELLED},
        EvaluationStatus.CONFIRMED: set(),
        EvaluationStatus.CANCELLED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="RESTRICT"), index=True)
    stage: Mapped[EvaluationStage] = mapped_column(enum_type(EvaluationStage), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("indicator_template.id", ondelete="RESTRICT"))
    template_name: Mapped[str] = mapped_column(String(100))
    snapshot: Mapped[dict] = mapped_column(JSON)
    evaluator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[EvaluationStatus] = mapped_column(enum_type(EvaluationStatus), default=EvaluationStatus.ASSIGNED,
                                                     index=True)
    bonus: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    bonus_note: Mapped[str] = mapped_column(Text, default="")
    deduction: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    deduction_note: Mapped[str] = mapped_column(Text, default="")
    overdue_reports: Mapped[int] = mapped_column(Integer, default=0)
    overdue_deduction: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    summary: Mapped[str] = mapped_column(Text, default="")
    total: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    grade: Mapped[EvaluationGrade | None] = mapped_column(enum_type(EvaluationGrade), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime)
    return_reason: Mapped[str | None] = mapped_column(Text)
    report_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    project = relationship("Project")
    template = relationship(IndicatorTemplate)
    evaluator = relationship("User", foreign_keys=[evaluator_id])
    assigned_by = relationship("User", foreign_keys=[assigned_by_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])
    report_file = relationship("StoredFile")
    scores: Mapped[list["EvaluationScore"]] = relationship(back_populates="evaluation", order_by="EvaluationScore.id",
                                                           cascade="all, delete-orphan")

    # ---- the snapshot ----
    @property
    def nodes(self) -> list[dict]:
        """The snapshot's indicators in order: dicts with code, parent, level, name, max_points (Decimal),
        notes, leaf (bool)."""
        out = []
        for n in (self.snapshot or {}).get("indicators", []):
            out.append({**n, "max_points": Decimal(n["max_points"])})
        return out

    @property
    def leaves(self) -> list[dict]:
        return [n for n in self.nodes if n["leaf"]]

    @property
    def score_map(self) -> dict[str, "EvaluationScore"]:
        return {s.code: s for s in self.scores}

    @property
    def points_total(self) -> Decimal:
        return sum((s.points for s in self.scores), Decimal("0"))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    # ---- permissions ----
    def is_evaluator(self, user) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and self.evaluator_id is not None \
            and user.id == self.evaluator_id

    def visible_to(self, user) -> bool:
        """Who may read it: its evaluator; staff of the district, admins and finance (read-only) once it
        exists; the organisation only once it is confirmed (the result, not work in progress)."""
        if self.is_evaluator(user):
            return True
        project = self.project
        if project.org.is_member(user):
            return self.status == EvaluationStatus.CONFIRMED
        return project.can_view(user) and self.status != EvaluationStatus.CANCELLED or project.can_manage(user)


class EvaluationScore(Base):
    __tablename__ = "evaluation_score"
    __table_args__ = (
        CheckConstraint("points >= 0 AND points <= 100", name="points_range"),
        UniqueConstraint("evaluation_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("performance_evaluation.id", ondelete="CASCADE"),
                                               index=True)
    code: Mapped[str] = mapped_column(String(20))
    points: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    comment: Mapped[str] = mapped_column(Text, default="")

    evaluation: Mapped[PerformanceEvaluation] = relationship(back_populates="scores")
