"""Review rounds (评审轮次), rubric, conflicts, the auditable panel draw, assignments and scores.

Interface for other domains (ranking, roadshow, 公示 build on these tables)
=========================================================================

``ReviewRound`` (table review_round): one round of a call.
  id, call_id → call, sequence (1, 2, … unique per call), name, kind (RoundKind: written 书面评审 /
  roadshow 路演), reviewers_per_application (k), max_load (L: most applications per expert in this round;
  an expert's own Expert.max_reviews_per_round caps it further), blind (bool: experts never see the
  organisation, people, bank, contacts or attachment names), review_date (date | None: first day of the
  review, e.g. the roadshow day; the draw may not be earlier than 2 working days before it — setting
  REVIEW_DRAW_WORKDAYS_BEFORE), deadline (naive UTC: scores due), aggregation (Aggregation: trimmed /
  mean), trim_from (int, default 5: trimming applies from this many scores), promotion (Promotion:
  top_n / min_score), promotion_top_n (int | None), promotion_min_score (Decimal | None),
  exclude_earlier_reviewers (bool: experts who reviewed the application in an earlier round of the call
  are conflicted), status (RoundStatus, via transition: setup → drawn → scoring → closed; closed →
  scoring to reopen), created_by_id, created_at, updated_at.
  Relationships: call, criteria (ordered by position), entries, draws, assignments, conflicts.
  Properties/methods: ``aggregation_rule`` (incubator.review.scoring.AggregationRule),
  ``rubric()`` (list[scoring.Criterion], keys = str(criterion.id)), ``criteria_total`` (Decimal),
  ``can_manage(user)`` (= call.can_manage: staff in scope and admins), ``district_id``,
  ``panel_warning`` (Chinese text when k is even or < 3, else None), ``initial_draw``.

``Criterion``: round_id, position, name, description, max_points (int > 0), weight (Decimal > 0; the
  points it is worth in the 100-point total; the weights of a round add up to 100 — checked by
  services before the draw). ``as_rubric()`` → scoring.Criterion.

``RoundEntry``: round_id, application_id (unique together), added_at, added_by_id — the
  applications in the round (the first round takes the call's passed 资格审查通过 applications).
  Relationships: round, application.

``Draw``: one random draw (initial, or a replacement for one declined assignment).
  round_id, purpose (DrawPurpose: initial / replacement), parent_id (the round's initial draw for a
  replacement), replaces_assignment_id, label (derive_seed label, "replace-<assignment id>"),
  commitment (SHA-256 hex of the seed, published BEFORE the draw), seed (hex; stored from step 1 but
  SHOWN only once revealed_at is set), status (DrawStatus: committed / revealed), inputs (canonical JSON
  text from draw_audit.inputs_json), inputs_digest, result (canonical JSON text of the assignment,
  [[app, [experts…]], …]), result_digest, solver_signature, committed_at/by, drawn_at, revealed_at/by.
  ``public_seed`` is the seed when revealed, else None.

``Conflict`` (回避): round_id, application_id, expert_id (unique together), source (ConflictSource:
  auto 系统识别 / declared 专家申报), reasons (list[str], Chinese), created_at, created_by_id.
  A conflicted (application, expert) is never assigned nor allowed to score.

``Assignment``: round_id, application_id, expert_id (unique together), draw_id (None for manual),
  replaces_id (the declined assignment this one replaces), status (AssignmentStatus via transition:
  assigned 已分配 / manual 手工分配 → confirmed 已确认无利害关系 | declined 已申报回避;
  declined → replaced 已替换), confirmed_at, declined_at, decline_reason, created_at, created_by_id.
  ``ACTIVE`` = {assigned, manual, confirmed}: the assignment counts toward the panel.
  Relationships: round, application, expert (pools.Expert), draw, score (one-to-one, may be None).

``Score``: assignment_id (unique), round_id, application_id, expert_id (denormalised; unique
  (expert_id, application_id, round_id) in the database), status (ScoreStatus via transition:
  draft 草稿 → submitted 已提交 → reopened 已退回修改 → submitted), comments, total (Decimal | None:
  weighted total by scoring.weighted_total, set at submission), submitted_at, reopen_reason,
  reopened_at, reopened_by_id, version_id (optimistic locking). ``locked`` (property) is True when
  submitted. items: ScoreItem (criterion_id, points int ≥ 0; unique per score).
  For ranking use only submitted scores: ``Score.status == ScoreStatus.SUBMITTED``.

``ReminderLog``: (assignment_id, day) unique — one reminder per assignment per local day.
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


class RoundKind(LabeledEnum):
    WRITTEN = ("written", "书面评审")
    ROADSHOW = ("roadshow", "路演")


class RoundStatus(LabeledEnum):
    SETUP = ("setup", "设置中")
    DRAWN = ("drawn", "已抽取专家")
    SCORING = ("scoring", "评分中")
    CLOSED = ("closed", "已结束")


ROUND_STATUS_TONES = {"setup": "secondary", "drawn": "info", "scoring": "primary", "closed": "success"}


class Aggregation(LabeledEnum):
    TRIMMED = ("trimmed", "去掉一个最高分和一个最低分后取平均（不足 5 人时取平均）")
    MEAN = ("mean", "算术平均")


class Promotion(LabeledEnum):
    TOP_N = ("top_n", "排名前 N 名")
    MIN_SCORE = ("min_score", "得分不低于 X 分")


class DrawPurpose(LabeledEnum):
    INITIAL = ("initial", "首次抽取")
    REPLACEMENT = ("replacement", "回避替换")


class DrawStatus(LabeledEnum):
    COMMITTED = ("committed", "已公布种子哈希")
    REVEALED = ("revealed", "已抽取并公开种子")


class ConflictSource(LabeledEnum):
    AUTO = ("auto", "系统识别")
    DECLARED = ("declared", "专家申报")


class AssignmentStatus(LabeledEnum):
    ASSIGNED = ("assigned", "已分配")
    CONFIRMED = ("confirmed", "已确认无利害关系")
    DECLINED = ("declined", "已申报回避")
    REPLACED = ("replaced", "已替换")
    MANUAL = ("manual", "手工分配")


ASSIGNMENT_TONES = {
    "assigned": "info",
    "manual": "info",
    "confirmed": "success",
    "declined": "warning",
    "replaced": "secondary",
}


class ScoreStatus(LabeledEnum):
    DRAFT = ("draft", "草稿")
    SUBMITTED = ("submitted", "已提交")
    REOPENED = ("reopened", "已退回修改")


SCORE_TONES = {"draft": "secondary", "submitted": "success", "reopened": "warning"}


class ReviewRound(TimestampMixin, Base):
    __tablename__ = "review_round"
    __table_args__ = (
        UniqueConstraint("call_id", "sequence"),
        CheckConstraint("sequence >= 1", name="sequence_pos"),
        CheckConstraint("reviewers_per_application >= 1", name="k_pos"),
        CheckConstraint("max_load >= 1", name="max_load_pos"),
        CheckConstraint("trim_from >= 3", name="trim_from_min"),
        CheckConstraint("promotion_top_n IS NULL OR promotion_top_n >= 1", name="top_n_pos"),
        CheckConstraint(
            "promotion_min_score IS NULL OR (promotion_min_score >= 0 AND promotion_min_score <= 100)",
            name="min_score_range",
        ),
    )

    TRANSITIONS: ClassVar[dict] = {
        RoundStatus.SETUP: {RoundStatus.DRAWN},
        RoundStatus.DRAWN: {RoundStatus.SCORING},
        RoundStatus.SCORING: {RoundStatus.CLOSED},
        RoundStatus.CLOSED: {RoundStatus.SCORING},
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="RESTRICT"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[RoundKind] = mapped_column(enum_type(RoundKind), default=RoundKind.WRITTEN)
    # Panels: an odd number, at least 3 (DOMAIN.md "Experts", government procurement practice).
    reviewers_per_application: Mapped[int] = mapped_column(Integer, default=3)
    max_load: Mapped[int] = mapped_column(Integer, default=10)
    blind: Mapped[bool] = mapped_column(Boolean, default=True)
    review_date: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    aggregation: Mapped[Aggregation] = mapped_column(enum_type(Aggregation), default=Aggregation.TRIMMED)
    trim_from: Mapped[int] = mapped_column(Integer, default=5)  # DOMAIN.md: trimming from 5 scores
    promotion: Mapped[Promotion] = mapped_column(enum_type(Promotion), default=Promotion.TOP_N)
    promotion_top_n: Mapped[int | None] = mapped_column(Integer)
    promotion_min_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    exclude_earlier_reviewers: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[RoundStatus] = mapped_column(enum_type(RoundStatus), default=RoundStatus.SETUP, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    call = relationship("Call")
    created_by = relationship("User")
    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="Criterion.position"
    )
    entries: Mapped[list["RoundEntry"]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="RoundEntry.id"
    )
    draws: Mapped[list["Draw"]] = relationship(back_populates="round", order_by="Draw.id")
    assignments: Mapped[list["Assignment"]] = relationship(back_populates="round", order_by="Assignment.id")
    conflicts: Mapped[list["Conflict"]] = relationship(back_populates="round", order_by="Conflict.id")

    @property
    def district_id(self) -> int | None:
        return self.call.district_id if self.call is not None else None

    def can_manage(self, user) -> bool:
        return self.call is not None and self.call.can_manage(user)

    @property
    def title(self) -> str:
        return f"第{self.sequence}轮 {self.name}"

    @property
    def aggregation_rule(self):
        from incubator.review.scoring import MEAN, AggregationRule

        if self.aggregation == Aggregation.MEAN:
            return MEAN
        return AggregationRule(trim_from=self.trim_from, drop_each=1)

    def rubric(self) -> list:
        return [c.as_rubric() for c in self.criteria]

    @property
    def criteria_total(self) -> Decimal:
        return sum((Decimal(c.weight) for c in self.criteria), Decimal("0"))

    @property
    def panel_warning(self) -> str | None:
        k = self.reviewers_per_application or 0
        if k < 3:
            return f"每份申请 {k} 名专家少于 3 名：评审专家应为不少于 3 人的单数。"
        if k % 2 == 0:
            return f"每份申请 {k} 名专家为双数：评审专家应为不少于 3 人的单数。"
        return None

    @property
    def initial_draw(self) -> "Draw | None":
        for d in self.draws:
            if d.purpose == DrawPurpose.INITIAL:
                return d
        return None

    @property
    def promotion_label(self) -> str:
        if self.promotion == Promotion.TOP_N:
            return f"排名前 {self.promotion_top_n} 名晋级" if self.promotion_top_n else "排名前 N 名（未设置）"
        if self.promotion_min_score is not None:
            return f"得分不低于 {self.promotion_min_score} 分晋级"
        return "得分不低于 X 分（未设置）"


class Criterion(Base):
    __tablename__ = "review_criterion"
    __table_args__ = (
        CheckConstraint("max_points > 0", name="max_points_pos"),
        CheckConstraint("weight > 0", name="weight_pos"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    max_points: Mapped[int] = mapped_column(Integer)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))

    round: Mapped[ReviewRound] = relationship(back_populates="criteria")

    def as_rubric(self):
        from incubator.review.scoring import Criterion as RubricCriterion

        return RubricCriterion(key=str(self.id), max_points=Decimal(self.max_points),
                               weight=Decimal(self.weight), label=self.name)


class RoundEntry(Base):
    __tablename__ = "review_round_entry"
    __table_args__ = (UniqueConstraint("round_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="RESTRICT"), index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    round: Mapped[ReviewRound] = relationship(back_populates="entries")
    application = relationship("Application")


class Draw(Base):
    __tablename__ = "review_draw"
    __table_args__ = (
        CheckConstraint("status = 'committed' OR (seed IS NOT NULL AND result_digest IS NOT NULL)",
                        name="revealed_complete"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="RESTRICT"), index=True)
    purpose: Mapped[DrawPurpose] = mapped_column(enum_type(DrawPurpose), default=DrawPurpose.INITIAL)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("review_draw.id", ondelete="SET NULL"), index=True)
    # the declined assignment a replacement draw serves (no foreign key: the two tables refer to each other)
    replaces_assignment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    label: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[DrawStatus] = mapped_column(enum_type(DrawStatus), default=DrawStatus.COMMITTED)
    commitment: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str | None] = mapped_column(String(64))  # shown only once revealed
    inputs: Mapped[str | None] = mapped_column(Text)  # canonical JSON (draw_audit.inputs_json)
    inputs_digest: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(Text)  # canonical JSON [[app, [experts…]], …]
    result_digest: Mapped[str | None] = mapped_column(String(64))
    solver_signature: Mapped[str | None] = mapped_column(String(200))
    committed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    committed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    drawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    revealed_at: Mapped[datetime | None] = mapped_column(DateTime)
    revealed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    round: Mapped[ReviewRound] = relationship(back_populates="draws")
    parent = relationship("Draw", remote_side=[id])
    committed_by = relationship("User", foreign_keys=[committed_by_id])
    revealed_by = relationship("User", foreign_keys=[revealed_by_id])

    @property
    def is_revealed(self) -> bool:
        return self.status == DrawStatus.REVEALED and self.revealed_at is not None

    @property
    def public_seed(self) -> str | None:
        return self.seed if self.is_revealed else None


class Conflict(Base):
    __tablename__ = "review_conflict"
    __table_args__ = (UniqueConstraint("round_id", "application_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="RESTRICT"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="RESTRICT"), index=True)
    source: Mapped[ConflictSource] = mapped_column(enum_type(ConflictSource), default=ConflictSource.AUTO)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    round: Mapped[ReviewRound] = relationship(back_populates="conflicts")
    application = relationship("Application")
    expert = relationship("Expert")

    @property
    def reason_text(self) -> str:
        return "；".join(self.reasons or [])


class Assignment(Base):
    __tablename__ = "review_assignment"
    __table_args__ = (UniqueConstraint("round_id", "application_id", "expert_id"),)

    TRANSITIONS: ClassVar[dict] = {
        AssignmentStatus.ASSIGNED: {AssignmentStatus.CONFIRMED, AssignmentStatus.DECLINED},
        AssignmentStatus.MANUAL: {AssignmentStatus.CONFIRMED, AssignmentStatus.DECLINED},
        AssignmentStatus.CONFIRMED: set(),
        AssignmentStatus.DECLINED: {AssignmentStatus.REPLACED},
        AssignmentStatus.REPLACED: set(),
    }
    ACTIVE: ClassVar[frozenset] = frozenset(
        {AssignmentStatus.ASSIGNED, AssignmentStatus.MANUAL, AssignmentStatus.CONFIRMED}
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="RESTRICT"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="RESTRICT"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="RESTRICT"), index=True)
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("review_draw.id", ondelete="RESTRICT"), index=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("review_assignment.id", ondelete="SET NULL"))
    status: Mapped[AssignmentStatus] = mapped_column(
        enum_type(AssignmentStatus), default=AssignmentStatus.ASSIGNED, index=True
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    declined_at: Mapped[datetime | None] = mapped_column(DateTime)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    round: Mapped[ReviewRound] = relationship(back_populates="assignments")
    application = relationship("Application")
    expert = relationship("Expert")
    draw = relationship("Draw", foreign_keys=[draw_id])
    replaces = relationship("Assignment", remote_side=[id], foreign_keys=[replaces_id])
    score: Mapped["Score | None"] = relationship(back_populates="assignment", uselist=False)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def needs_declaration(self) -> bool:
        """The expert must first confirm no conflict or declare one."""
        return self.status in (AssignmentStatus.ASSIGNED, AssignmentStatus.MANUAL)

    @property
    def is_confirmed(self) -> bool:
        return self.status == AssignmentStatus.CONFIRMED


class Score(TimestampMixin, Base):
    __tablename__ = "review_score"
    __table_args__ = (
        UniqueConstraint("expert_id", "application_id", "round_id"),
        CheckConstraint("total IS NULL OR (total >= 0 AND total <= 100)", name="total_range"),
    )

    TRANSITIONS: ClassVar[dict] = {
        ScoreStatus.DRAFT: {ScoreStatus.SUBMITTED},
        ScoreStatus.SUBMITTED: {ScoreStatus.REOPENED},
        ScoreStatus.REOPENED: {ScoreStatus.SUBMITTED},
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("review_assignment.id", ondelete="RESTRICT"), unique=True
    )
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="RESTRICT"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="RESTRICT"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="RESTRICT"), index=True)
    status: Mapped[ScoreStatus] = mapped_column(enum_type(ScoreStatus), default=ScoreStatus.DRAFT, index=True)
    comments: Mapped[str] = mapped_column(Text, default="")
    total: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime)
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version_id}

    assignment: Mapped[Assignment] = relationship(back_populates="score")
    items: Mapped[list["ScoreItem"]] = relationship(
        back_populates="score", cascade="all, delete-orphan", order_by="ScoreItem.criterion_id"
    )
    reopened_by = relationship("User")

    @property
    def locked(self) -> bool:
        return self.status == ScoreStatus.SUBMITTED

    def points_by_criterion(self) -> dict[int, int]:
        return {i.criterion_id: i.points for i in self.items}


class ScoreItem(Base):
    __tablename__ = "review_score_item"
    __table_args__ = (
        UniqueConstraint("score_id", "criterion_id"),
        CheckConstraint("points >= 0", name="points_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("review_score.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("review_criterion.id", ondelete="RESTRICT"), index=True)
    points: Mapped[int] = mapped_column(Integer)

    score: Mapped[Score] = relationship(back_populates="items")
    criterion = relationship("Criterion")


class ReminderLog(Base):
    """One reminder per assignment per local day (the reminder job is idempotent)."""

    __tablename__ = "review_reminder_log"
    __table_args__ = (UniqueConstraint("assignment_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignment.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
