"""Services of the reports area: the report schedule, submission, review, overdue reports, the desk.

They take model objects and typed keyword arguments, flush and never commit. Refusals raise
``ReportError`` (Chinese message); a user without the right raises ``NotAllowed``.

Schedule (``generate_schedule``) — choices [design], constants below:
* Progress reports (进度报告) cover calendar months (``monthly``) or calendar quarters (``quarterly``)
  clipped to the project term; a first period shorter than ``MIN_FIRST_PERIOD_DAYS`` is merged into
  the next one (15 days monthly, 45 days quarterly). The period that ends on the last day of the term gets no progress report: the final
  report covers it. Each is due ``PROGRESS_DUE_DAYS`` (10) days after its period end (many cities ask
  for the month's report by the 10th of the next month).
* The mid-term report (中期报告) is due on the midpoint of the term
  (term_start + (term_end − term_start) // 2), so it is there before the mid-term evaluation.
* The final report (结项报告) is due ``FINAL_DUE_DAYS`` (15) days after the term end.
* Regenerating replaces only items nobody has submitted (status 待提交, no version); a submitted
  item is kept, and new progress periods that end on or before the last kept progress period are
  not generated again (the new plan continues after it). A kept mid-term or final report is not
  duplicated.

Overdue (the definition other areas rely on, e.g. the evaluation):
  an item is **overdue on day D** when its due date is before D and it was not submitted by its due
  date — either nothing has been submitted yet, or the first submission came later than the due date
  (``submitted_late``). A late submission therefore stays overdue for the evaluation; a report
  submitted on time and later returned is not overdue (its resubmission is tracked by its status).
  ``overdue_reports(project, on)`` lists them, ``overdue_count(project, on)`` counts them.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from incubator.core import audit
from incubator.core.states import transition
from incubator.db import today_local, utcnow
from incubator.extensions import db
from incubator.projects.models import Project, ProjectStatus
from incubator.projects.reports.models import (
    ProgressReport,
    ProgressReportFile,
    ReportDecision,
    ReportFileKind,
    ReportFrequency,
    ReportKind,
    ReportSchedule,
    ReportStatus,
)

PROGRESS_DUE_DAYS = 10  # [design] the month's / quarter's report by the 10th day after the period
FINAL_DUE_DAYS = 15  # [design] the final report within 15 days of the term end
# [design] a first period shorter than about half a period is merged into the next
MIN_FIRST_PERIOD_DAYS = {"monthly": 15, "quarterly": 45}
MAX_FIGURE = 10_000_000  # people served / activities held above this are typing errors
MAX_TEXT = 20_000
MAX_REASON = 2_000
MAX_FILES = 20
REPORT_EXTENSIONS = {"pdf", "jpg", "jpeg", "png", "docx", "xlsx"}
PHOTO_EXTENSIONS = {"jpg", "jpeg", "png"}
CLOSED = (ProjectStatus.CLOSED, ProjectStatus.TERMINATED)


class ReportError(Exception):
    """A refused change; the message is Chinese and shown to the user."""


class NotAllowed(ReportError):
    pass


# ---------------------------------------------------------------- schedule

@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str


def _month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def _quarter_end(day: date) -> date:
    month = (day.month - 1) // 3 * 3 + 3
    return _month_end(date(day.year, month, 1))


def _label(start: date, end: date, frequency: ReportFrequency) -> str:
    if frequency == ReportFrequency.MONTHLY:
        one = lambda d: f"{d.year}年{d.month}月"  # noqa: E731
        if (start.year, start.month) == (end.year, end.month):
            return one(start)
        if start.year == end.year:
            return f"{start.year}年{start.month}月–{end.month}月"
        return f"{one(start)}–{one(end)}"
    q = lambda d: (d.month - 1) // 3 + 1  # noqa: E731
    if (start.year, q(start)) == (end.year, q(end)):
        return f"{start.year}年第{q(start)}季度"
    if start.year == end.year:
        return f"{start.year}年第{q(start)}–{q(end)}季度"
    return f"{start.year}年第{q(start)}季度–{end.year}年第{q(end)}季度"


def progress_periods(term_start: date, term_end: date, frequency) -> list[Period]:
    """The progress-report periods of a term (calendar months or quarters, clipped; see the module doc)."""
    frequency = ReportFrequency(frequency)
    step = _month_end if frequency == ReportFrequency.MONTHLY else _quarter_end
    bounds: list[tuple[date, date]] = []
    start = term_start
    while start <= term_end:
        end = min(step(start), term_end)
        bounds.append((start, end))
        start = end + timedelta(days=1)
    if len(bounds) > 1 and (bounds[0][1] - bounds[0][0]).days + 1 < MIN_FIRST_PERIOD_DAYS[frequency.value]:
        bounds[0:2] = [(bounds[0][0], bounds[1][1])]
    # The period ending with the term is covered by the final report.
    bounds = [b for b in bounds if b[1] < term_end]
    return [Period(s, e, _label(s, e, frequency)) for s, e in bounds]


def midterm_day(project: Project) -> date:
    return project.term_start + timedelta(days=(project.term_end - project.term_start).days // 2)


def planned_items(project: Project, frequency) -> list[ReportSchedule]:
    """Unsaved items of the full plan for the project's term, ordered by due date."""
    frequency = ReportFrequency(frequency)
    items = [ReportSchedule(kind=ReportKind.PROGRESS, frequency=frequency, period_label=p.label,
                            period_start=p.start, period_end=p.end,
                            due_on=p.end + timedelta(days=PROGRESS_DUE_DAYS))
             for p in progress_periods(project.term_start, project.term_end, frequency)]
    mid = midterm_day(project)
    items.append(ReportSchedule(kind=ReportKind.MIDTERM, period_label="中期", period_start=project.term_start,
                                period_end=mid, due_on=mid))
    items.append(ReportSchedule(kind=ReportKind.FINAL, period_label="结项", period_start=project.term_start,
                                period_end=project.term_end,
                                due_on=project.term_end + timedelta(days=FINAL_DUE_DAYS)))
    return sorted(items, key=lambda i: (i.due_on, i.period_end))


def schedule(project: Project) -> list[ReportSchedule]:
    return list(db.session.scalars(
        select(ReportSchedule).where(ReportSchedule.project_id == project.id)
        .options(selectinload(ReportSchedule.reports))
        .order_by(ReportSchedule.due_on, ReportSchedule.period_end, ReportSchedule.id)))


def _require_manager(project: Project, by) -> None:
    if not project.can_manage(by):
        raise NotAllowed("只有项目所在辖区的民政工作人员可以办理")


def generate_schedule(project: Project, frequency: str = "monthly", *, by) -> list[ReportSchedule]:
    """(Re)generate the report schedule from the project term; only unsubmitted items are replaced."""
    _require_manager(project, by)
    try:
        frequency = ReportFrequency(frequency)
    except ValueError:
        raise ReportError("请选择进度报告的频率（按月或按季度）") from None
    if project.status in CLOSED:
        raise ReportError("项目已结项或终止，不能调整报告计划")
    existing = schedule(project)
    removable = [i for i in existing if i.status == ReportStatus.DUE and not i.reports]
    kept = [i for i in existing if i not in removable]
    for item in removable:
        db.session.delete(item)
    db.session.flush()
    last_kept_progress = max((i.period_end for i in kept if i.kind == ReportKind.PROGRESS), default=None)
    kept_kinds = {i.kind for i in kept}
    added = []
    for item in planned_items(project, frequency):
        if item.kind == ReportKind.PROGRESS:
            if last_kept_progress is not None and item.period_end <= last_kept_progress:
                continue
        elif item.kind in kept_kinds:
            continue
        item.project_id = project.id
        item.status = ReportStatus.DUE
        db.session.add(item)
        added.append(item)
    db.session.flush()
    audit.record("report_schedule.generated", project,
                 before={"items": len(existing), "replaced": len(removable)},
                 after={"frequency": frequency, "items": len(kept) + len(added), "added": len(added)}, actor=by)
    db.session.flush()
    return schedule(project)


# ---------------------------------------------------------------- submission and review

def clean_figure(value, label: str) -> int:
    """A non-negative whole number up to MAX_FIGURE; anything else is refused."""
    if isinstance(value, bool) or value is None:
        raise ReportError(f"请填写{label}")
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            raise ReportError(f"{label}须为不小于0的整数")
        value = int(text)
    if not isinstance(value, int):
        raise ReportError(f"{label}须为不小于0的整数")
    if value < 0:
        raise ReportError(f"{label}不能为负数")
    if value > MAX_FIGURE:
        raise ReportError(f"{label}不能超过{MAX_FIGURE:,}")
    return value


def submit_report(item: ReportSchedule, *, by, text: str, people_served, activities_held,
                  photos=(), sign_in_sheets=(), others=(), on: date | None = None) -> ProgressReport:
    """The organisation submits (or resubmits after a return) a version of a report, with files.

    ``photos`` / ``sign_in_sheets`` / ``others`` are uploaded files (werkzeug FileStorage) stored with
    ``save_upload``; a refused file raises ``UploadRejected`` and the caller rolls back (nothing stays).
    """
    from incubator.core.files import save_upload

    project = item.project
    if not project.org.is_member(by):
        raise NotAllowed("只有项目承接组织的成员可以提交报告")
    if project.status == ProjectStatus.TERMINATED:
        raise ReportError("项目已终止，不能再提交报告")
    if item.status not in (ReportStatus.DUE, ReportStatus.RETURNED):
        raise ReportError(f"该报告当前状态为“{item.status.label}”，不能提交")
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise ReportError("请填写报告正文")
    if len(text) > MAX_TEXT:
        raise ReportError(f"报告正文不能超过{MAX_TEXT}字")
    people = clean_figure(people_served, "服务人次")
    activities = clean_figure(activities_held, "开展活动次数")
    on = on or today_local()
    if on < item.period_start:
        raise ReportError("报告期尚未开始，不能提交")
    uploads = [(f, ReportFileKind.PHOTO) for f in photos if f] + \
              [(f, ReportFileKind.SIGN_IN) for f in sign_in_sheets if f] + \
              [(f, ReportFileKind.OTHER) for f in others if f]
    uploads = [(f, k) for f, k in uploads if getattr(f, "filename", None)]
    if len(uploads) > MAX_FILES:
        raise ReportError(f"每次最多上传{MAX_FILES}个文件")
    late = on > item.due_on
    report = ProgressReport(schedule=item, version=len(item.reports) + 1, text=text, people_served=people,
                            activities_held=activities, submitted_by_id=by.id, submitted_at=utcnow(),
                            submitted_on=on, late=late)
    db.session.add(report)
    db.session.flush()
    for upload, kind in uploads:
        allowed = PHOTO_EXTENSIONS if kind == ReportFileKind.PHOTO else REPORT_EXTENSIONS
        stored = save_upload(upload, allowed=allowed, by=by)
        db.session.flush()
        report.files.append(ProgressReportFile(file_id=stored.id, kind=kind))
    if item.first_submitted_on is None:
        item.first_submitted_on = on
        item.submitted_late = late
    transition(item, ReportStatus.SUBMITTED, by=by, note=f"第{report.version}版" + ("（逾期提交）" if late else ""))
    audit.record("progress_report.submitted", report,
                 after={"schedule_id": item.id, "version": report.version, "people_served": people,
                        "activities_held": activities, "files": len(uploads), "late": late}, actor=by)
    db.session.flush()
    return report


def accept_report(item: ReportSchedule, *, by, on: date | None = None) -> ProgressReport:
    _require_manager(item.project, by)
    if item.status != ReportStatus.SUBMITTED or item.latest is None:
        raise ReportError(f"该报告当前状态为“{item.status.label}”，不能审核")
    report = item.latest
    report.decision = ReportDecision.ACCEPTED
    report.reviewed_by_id = by.id
    report.reviewed_at = utcnow()
    item.accepted_on = on or today_local()
    transition(item, ReportStatus.ACCEPTED, by=by)
    audit.record("progress_report.accepted", report, after={"schedule_id": item.id, "version": report.version},
                 actor=by)
    db.session.flush()
    return report


def return_report(item: ReportSchedule, *, by, reason: str) -> ProgressReport:
    _require_manager(item.project, by)
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise ReportError("请填写退回理由")
    if len(reason) > MAX_REASON:
        raise ReportError(f"退回理由不能超过{MAX_REASON}字")
    if item.status != ReportStatus.SUBMITTED or item.latest is None:
        raise ReportError(f"该报告当前状态为“{item.status.label}”，不能退回")
    report = item.latest
    report.decision = ReportDecision.RETURNED
    report.reviewed_by_id = by.id
    report.reviewed_at = utcnow()
    report.return_reason = reason
    transition(item, ReportStatus.RETURNED, by=by, note=reason)
    audit.record("progress_report.returned", report, after={"schedule_id": item.id, "version": report.version},
                 note=reason, actor=by)
    db.session.flush()
    return report


# ---------------------------------------------------------------- overdue (interface for evaluations)

def _overdue_clause(on: date):
    return and_(ReportSchedule.due_on < on,
                or_(ReportSchedule.first_submitted_on.is_(None),
                    ReportSchedule.first_submitted_on > ReportSchedule.due_on))


def overdue_reports(project: Project, on: date | None = None) -> list[ReportSchedule]:
    """Items of ``project`` overdue on day ``on`` (default today): see the module docstring."""
    on = on or today_local()
    return list(db.session.scalars(
        select(ReportSchedule).where(ReportSchedule.project_id == project.id, _overdue_clause(on))
        .order_by(ReportSchedule.due_on, ReportSchedule.id)))


def overdue_count(project: Project, on: date | None = None) -> int:
    on = on or today_local()
    return int(db.session.scalar(
        select(func.count(ReportSchedule.id)).where(ReportSchedule.project_id == project.id, _overdue_clause(on)))
        or 0)


# ---------------------------------------------------------------- staff lists and desk

def scoped_items(user):
    """A select of report items of projects the staff user manages (city staff and admins: all)."""
    from incubator.orgs.models import Organization

    stmt = (select(ReportSchedule).join(Project, Project.id == ReportSchedule.project_id)
            .join(Organization, Organization.id == Project.org_id))
    if not (user.is_admin or user.is_city_staff):
        stmt = stmt.where(Organization.district_id == user.district_id)
    return stmt


def desk_items(user) -> list:
    """Reports waiting for the staff user's review, and reports overdue, in their district."""
    from flask import url_for

    from incubator.accounts.models import Role
    from incubator.projects.desk import DeskItem

    if not (getattr(user, "is_authenticated", False) and user.role == Role.STAFF):
        return []
    today = today_local()
    stmt = (scoped_items(user)
            .where(Project.status.notin_(CLOSED),
                   or_(ReportSchedule.status == ReportStatus.SUBMITTED,
                       and_(ReportSchedule.status == ReportStatus.DUE, ReportSchedule.due_on < today)))
            .options(selectinload(ReportSchedule.project), selectinload(ReportSchedule.reports))
            .order_by(ReportSchedule.due_on, ReportSchedule.id))
    items = []
    for item in db.session.scalars(stmt):
        p = item.project
        url = url_for("reports.report_detail", project_id=p.id, item_id=item.id)
        if item.status == ReportStatus.SUBMITTED:
            submitted = item.latest.submitted_on if item.latest else None
            items.append(DeskItem(area="进度报告", title=f"{p.number} {p.title}：{item.title}待审核", url=url,
                                  due=submitted, note=f"{submitted.month}月{submitted.day}日提交" if submitted else ""))
        else:
            days = (today - item.due_on).days
            items.append(DeskItem(area="进度报告", title=f"{p.number} {p.title}：{item.title}逾期未交", url=url,
                                  due=item.due_on, overdue=True, note=f"逾期{days}天"))
    return items


__all__ = [
    "ReportError", "NotAllowed", "progress_periods", "planned_items", "generate_schedule", "schedule",
    "submit_report", "accept_report", "return_report", "overdue_reports", "overdue_count", "desk_items",
    "PROGRESS_DUE_DAYS", "FINAL_DUE_DAYS",
]
