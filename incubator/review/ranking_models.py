"""Expert ratings after a round (专家评价): timeliness and quality, 1–5, with a note.

``ExpertRating`` (table review_expert_rating): round_id, expert_id (unique together), timeliness (1–5),
quality (1–5), note, rated_by_id, created_at, updated_at. Written only by
``incubator.review.ranking.rate_expert`` (audited); read by the expert history page.
Low ratings lead to removal from the pool (DOMAIN.md "Experts", Zhejiang practice): the history page
shows them beside the on-time rate and the average deviation from the panel.
"""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.db import Base, TimestampMixin

RATING_LABELS = {1: "差", 2: "较差", 3: "一般", 4: "良好", 5: "优秀"}


class ExpertRating(TimestampMixin, Base):
    __tablename__ = "review_expert_rating"
    __table_args__ = (
        UniqueConstraint("round_id", "expert_id"),
        CheckConstraint("timeliness BETWEEN 1 AND 5", name="timeliness_range"),
        CheckConstraint("quality BETWEEN 1 AND 5", name="quality_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id", ondelete="RESTRICT"), index=True)
    timeliness: Mapped[int] = mapped_column(Integer)
    quality: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    rated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    round = relationship("ReviewRound")
    expert = relationship("Expert")
    rated_by = relationship("User")
