"""Roadshow (路演): a live session of a review round of kind roadshow.

Interface
=========
``RoadshowSession`` (table roadshow_session): round_id (unique → review_round, kind roadshow), title, held_on
  (date), venue, status (SessionStatus via transition: planned 未开始 → live 进行中 → ended 已结束; ended → live
  to reopen), opened_at, ended_at, created_by_id. The panel is the round's experts with an active assignment;
  judges score through the round's Assignment/Score rows (incubator.review.services.save_score: the same
  validation and lock rules as written scores).
  Relationships: round, contestants (ordered by position). ``can_manage(user)`` = round.can_manage(user).

``Contestant`` (table roadshow_contestant): session_id, application_id (unique per session), position (1, 2,
  … the order on stage), status (ContestantStatus via transition: waiting 待路演 → presenting 路演中 →
  finished 已完成路演; waiting → finished directly), started_at, finished_at. Judges score a contestant
  once it is finished.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.core.enums import LabeledEnum
from incubator.db import Base, TimestampMixin, enum_type


class SessionStatus(LabeledEnum):
    PLANNED = ("planned", "未开始")
    LIVE = ("live", "进行中")
    ENDED = ("ended", "已结束")


SESSION_TONES = {"planned": "secondary", "live": "danger", "ended": "success"}


class ContestantStatus(LabeledEnum):
    WAITING = ("waiting", "待路演")
    PRESENTING = ("presenting", "路演中")
    FINISHED = ("finished", "已完成路演")


CONTESTANT_TONES = {"waiting": "secondary", "presenting": "warning", "finished": "success"}


class RoadshowSession(TimestampMixin, Base):
    __tablename__ = "roadshow_session"

    TRANSITIONS: ClassVar[dict] = {
        SessionStatus.PLANNED: {SessionStatus.LIVE},
        SessionStatus.LIVE: {SessionStatus.ENDED},
        SessionStatus.ENDED: {SessionStatus.LIVE},
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="RESTRICT"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[SessionStatus] = mapped_column(enum_type(SessionStatus), default=SessionStatus.PLANNED, index=True)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    round = relationship("ReviewRound")
    contestants: Mapped[list["Contestant"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Contestant.position"
    )

    def can_manage(self, user) -> bool:
        return self.round is not None and self.round.can_manage(user)

    @property
    def is_live(self) -> bool:
        return self.status == SessionStatus.LIVE


class Contestant(Base):
    __tablename__ = "roadshow_contestant"
    __table_args__ = (
        UniqueConstraint("session_id", "application_id"),
        CheckConstraint("position >= 1", name="position_pos"),
    )

    TRANSITIONS: ClassVar[dict] = {
        ContestantStatus.WAITING: {ContestantStatus.PRESENTING, ContestantStatus.FINISHED},
        ContestantStatus.PRESENTING: {ContestantStatus.FINISHED},
        ContestantStatus.FINISHED: set(),
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("roadshow_session.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[ContestantStatus] = mapped_column(enum_type(ContestantStatus), default=ContestantStatus.WAITING)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    session: Mapped[RoadshowSession] = relationship(back_populates="contestants")
    application = relationship("Application")

    @property
    def is_finished(self) -> bool:
        return self.status == ContestantStatus.FINISHED
