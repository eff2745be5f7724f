"""Score reminders (评分提醒): a job that e-mails and notifies experts whose scores are not submitted
``REVIEW_REMIND_DAYS_BEFORE`` days (default 2 [design]) or less before the round's deadline.

Idempotent: a ``ReminderLog`` row per (assignment, local day) is written before anything is sent, under a
unique constraint, so running the job twice in a day — or two workers at once — sends one reminder per
assignment. Queued by ``flask --app incubator review remind`` (a scheduler / cron, once a day) and by the
staff button on a round's page.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from incubator.core.jobs import Job, enqueue_after_commit
from incubator.db import to_local, today_local, utcnow
from incubator.extensions import db
from incubator.review.models import (
    Assignment,
    ReminderLog,
    ReviewRound,
    RoundStatus,
    Score,
    ScoreStatus,
)
from incubator.review.services import setting

DEFAULT_DAYS_BEFORE = 2  # [design] two days before the deadline, then daily until it


def queue_reminders(*, by, round_id: int | None = None) -> Job:
    """Queue the reminder job for after the commit (all rounds in scoring, or one)."""
    args = (round_id,) if round_id is not None else ()
    return enqueue_after_commit(send_reminders, *args, retries=2, title="评分提醒", kind="review_remind")


def due_assignments(today: date, round_id: int | None = None) -> list[Assignment]:
    """Active assignments without a submitted score in rounds whose deadline is within the reminder window."""
    days = int(setting("REVIEW_REMIND_DAYS_BEFORE", DEFAULT_DAYS_BEFORE))
    now = utcnow()
    stmt = (
        db.select(Assignment)
        .join(ReviewRound, ReviewRound.id == Assignment.round_id)
        .outerjoin(Score, Score.assignment_id == Assignment.id)
        .options(joinedload(Assignment.round).joinedload(ReviewRound.call), joinedload(Assignment.expert),
                 joinedload(Assignment.application))
        .where(ReviewRound.status == RoundStatus.SCORING, ReviewRound.deadline > now,
               Assignment.status.in_(Assignment.ACTIVE),
               (Score.id.is_(None)) | (Score.status != ScoreStatus.SUBMITTED))
        .order_by(Assignment.id)
    )
    if round_id is not None:
        stmt = stmt.where(ReviewRound.id == round_id)
    return [a for a in db.session.scalars(stmt) if to_local(a.round.deadline).date() - today <= timedelta(days=days)]


def send_reminders(round_id: int | None = None, today_iso: str | None = None) -> int:
    """The job: one reminder (mail + notification) per due assignment per day. Returns how many were sent."""
    from incubator.core.mail import InvalidMail, queue_mail
    from incubator.notifications.services import notify
    from incubator.review.services import _deadline_text

    today = date.fromisoformat(today_iso) if today_iso else today_local()
    sent = 0
    for a in due_assignments(today, round_id):
        try:
            with db.session.begin_nested():
                db.session.add(ReminderLog(assignment_id=a.id, day=today))
        except IntegrityError:
            continue  # reminded today already
        round_ = a.round
        title = f"评分提醒：{round_.call.title} {round_.title}"
        body = (f"{a.expert.name}您好：您在“{round_.call.title} {round_.title}”中的评审任务"
                f"（申请编号 {a.application.number}）尚未提交评分，截止时间为{_deadline_text(round_)}。"
                "请登录平台完成评分。")
        notify(a.expert.user, title, body, f"/expert/assignments/{a.id}")
        try:
            queue_mail(a.expert.email, title, body)
        except InvalidMail:
            pass
        sent += 1
    db.session.flush()
    return sent
