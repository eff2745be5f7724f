"""Report reminders (报告提醒): a job that mails the organisation's members about reports due soon or overdue.

An item is reminded when it is still 待提交 (nothing submitted yet), its project is not closed or
terminated, its due date is at most ``REMIND_DAYS_BEFORE`` (3) days away or already passed, and it got no
reminder in the last ``REMIND_INTERVAL_DAYS`` (7) days [design: a weekly nudge while overdue].

Idempotent: each item is claimed with one atomic UPDATE of ``reminder_sent_at`` (only if it is still
unreminded within the interval) before anything is queued, so running the job twice — or two workers at
once — sends one reminder per item per interval. Queued by ``flask --app incubator reports remind``
(a scheduler / cron, once a day).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from incubator.core import audit
from incubator.core.jobs import Job, enqueue_after_commit
from incubator.db import today_local, utcnow
from incubator.extensions import db
from incubator.projects.models import Project, ProjectStatus
from incubator.projects.reports.models import ReportSchedule, ReportStatus

REMIND_DAYS_BEFORE = 3  # [design] three days before the due date
REMIND_INTERVAL_DAYS = 7  # [design] then once a week while overdue


def queue_reminders() -> Job:
    """Queue the reminder job for after the commit."""
    return enqueue_after_commit(send_report_reminders, retries=2, title="报告提醒", kind="report_remind")


def items_to_remind(today: date) -> list[ReportSchedule]:
    cutoff = utcnow() - timedelta(days=REMIND_INTERVAL_DAYS)
    return list(db.session.scalars(
        select(ReportSchedule).join(Project, Project.id == ReportSchedule.project_id)
        .where(ReportSchedule.status == ReportStatus.DUE,
               ReportSchedule.due_on <= today + timedelta(days=REMIND_DAYS_BEFORE),
               Project.status.notin_((ProjectStatus.CLOSED, ProjectStatus.TERMINATED)),
               or_(ReportSchedule.reminder_sent_at.is_(None), ReportSchedule.reminder_sent_at < cutoff))
        .options(selectinload(ReportSchedule.project).selectinload(Project.org))
        .order_by(ReportSchedule.due_on, ReportSchedule.id)))


def _claim(item: ReportSchedule) -> bool:
    """Set reminder_sent_at only if nobody else has within the interval; True when this run won."""
    now = utcnow()
    cutoff = now - timedelta(days=REMIND_INTERVAL_DAYS)
    result = db.session.execute(
        update(ReportSchedule)
        .where(ReportSchedule.id == item.id,
               or_(ReportSchedule.reminder_sent_at.is_(None), ReportSchedule.reminder_sent_at < cutoff))
        .values(reminder_sent_at=now, version_id=ReportSchedule.version_id + 1)
        .execution_options(synchronize_session=False))
    db.session.refresh(item)
    return result.rowcount == 1


def send_report_reminders(today_iso: str | None = None) -> int:
    """The job: one reminder (mail + notification to each active member) per item. Returns how many items."""
    from incubator.core.mail import InvalidMail, queue_mail
    from incubator.notifications.services import notify_many

    today = date.fromisoformat(today_iso) if today_iso else today_local()
    reminded = 0
    for item in items_to_remind(today):
        if not _claim(item):
            continue
        project = item.project
        members = [u for u in project.org.members if u.active]
        days = (item.due_on - today).days
        when = (f"已逾期{-days}天" if days < 0 else "今天到期" if days == 0 else f"还有{days}天到期")
        title = f"报告提醒：{project.number} {item.title}{when}"
        body = (f"您好：项目“{project.title}”（{project.number}）的{item.title}应于"
                f"{item.due_on.year}年{item.due_on.month}月{item.due_on.day}日前提交，{when}。"
                "请登录平台填写并提交报告。")
        notify_many(members, title, body, f"/projects/{project.id}/reports")
        for user in members:
            try:
                queue_mail(user.email, title, body)
            except InvalidMail:
                pass
        audit.record("report_schedule.reminded", item, after={"recipients": len(members), "due_on": item.due_on},
                     actor=None)
        reminded += 1
    db.session.flush()
    return reminded
