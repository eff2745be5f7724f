"""资格审查 decisions: pass, return for revision, reject, and batch pass.

Services take model objects and typed keyword arguments, change data, ``flush()`` and never commit.
Every decision goes through ``incubator.core.states.transition`` (status history + audit), checks
the optimistic-lock version the deciding page was rendered with (a second staff member deciding at
the same time gets ``DecisionConflict``, never a second decision), and tells the organisation's
members in the notification centre and by e-mail what happens next.

Errors carry a Chinese message (``str(exc)``) and the HTTP status the view answers with.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app, has_request_context, url_for
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from incubator.applications.models import SCREENABLE, SECTION_LABELS, SECTIONS, Application, ApplicationStatus
from incubator.core import audit
from incubator.core.states import transition
from incubator.db import today_local
from incubator.extensions import db
from incubator.screening.queries import flags_for, may_screen, visible_ids

DEFAULT_REVISION_WORKDAYS = 5  # [design] 5 working days to revise, as the 公示 and correction periods
MAX_REVISION_DAYS = 366  # a deadline more than a year ahead is a typing mistake
MAX_REASON_LENGTH = 2000
MAX_BATCH = 100  # the largest page size

DECISION_VERBS = {
    ApplicationStatus.PASSED: "通过资格审查",
    ApplicationStatus.RETURNED: "退回修改",
    ApplicationStatus.REJECTED: "作出不通过决定",
}


class ScreeningError(Exception):
    status_code = 409

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class NotScreenable(ScreeningError):
    """The application is not waiting for a decision (already decided, returned, withdrawn …)."""


class DecisionConflict(ScreeningError):
    """Someone else changed the application since the page was opened."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or "此申报书在您打开页面后已被其他工作人员处理或被申报单位修改，本次决定未保存。请查看最新状态后再决定。"
        )


class DecisionRefused(ScreeningError):
    """Bad input that got past the form (services check again)."""

    status_code = 422


# --------------------------------------------------------------------------- permissions


def can_screen(app: Application, user) -> bool:
    """Staff in scope and admins, on applications submitted at least once."""
    return may_screen(user) and app.submitted_at is not None and user.sees_district(app.org.district_id)


def default_revision_deadline(today: date | None = None) -> date:
    """5 working days from today (China's calendar); 7 calendar days if the year is not defined yet."""
    from incubator.core.workdays import UnknownCalendarYear, add_workdays

    today = today or today_local()
    try:
        return add_workdays(today, DEFAULT_REVISION_WORKDAYS)
    except UnknownCalendarYear:
        return today + timedelta(days=7)


# --------------------------------------------------------------------------- decisions


def _check(app: Application, to: ApplicationStatus, *, by, version: int | None) -> None:
    if not can_screen(app, by):
        raise ScreeningError("您无权审查此申报书")
    if version is not None and version != app.version_id:
        raise DecisionConflict()
    if app.status not in SCREENABLE or to not in app.TRANSITIONS.get(app.status, set()):
        raise NotScreenable(
            f"申报书当前状态为“{app.status.label}”，不能{DECISION_VERBS[to]}。"
            "只有“已提交”或“已重新提交”的申报书可以进行资格审查。"
        )


def _move(app: Application, to: ApplicationStatus, *, by, note: str) -> None:
    try:
        transition(app, to, by=by, note=note)
    except StaleDataError as exc:  # another request changed the row between our read and our write
        raise DecisionConflict() from exc


def _clean(text: str | None, limit: int = MAX_REASON_LENGTH) -> str:
    return (text or "").replace("\x00", "").replace("\r\n", "\n").strip()[:limit]


def pass_application(app: Application, *, by, note: str | None = None, version: int | None = None) -> None:
    _check(app, ApplicationStatus.PASSED, by=by, version=version)
    note = _clean(note)
    _move(app, ApplicationStatus.PASSED, by=by, note=note)  # the history shows the status label already
    audit.record("application.screening", app, after={"decision": "passed", "note": note}, actor=by)
    _tell(app, ApplicationStatus.PASSED, note=note)


def return_for_revision(
    app: Application,
    *,
    by,
    reasons: dict[str, str],
    deadline: date,
    version: int | None = None,
    today: date | None = None,
) -> None:
    """Back to the organisation with a reason per section and a last day to resubmit."""
    _check(app, ApplicationStatus.RETURNED, by=by, version=version)
    today = today or today_local()
    cleaned = {key: _clean(reasons.get(key)) for key, _label in SECTIONS if _clean(reasons.get(key))}
    unknown = set(reasons) - set(SECTION_LABELS)
    if unknown:
        raise DecisionRefused("退回意见只能针对申报书的各个部分填写")
    if not cleaned:
        raise DecisionRefused("请至少针对一个部分填写退回修改的意见")
    if deadline < today:
        raise DecisionRefused("修改期限不能早于今天")
    if deadline > today + timedelta(days=MAX_REVISION_DAYS):
        raise DecisionRefused("修改期限不能超过一年")
    app.return_reasons = cleaned
    app.revision_deadline = deadline
    summary = "；".join(f"{SECTION_LABELS[k]}：{v}" for k, v in cleaned.items())
    _move(app, ApplicationStatus.RETURNED, by=by, note=f"修改期限{_cn(deadline)}。{summary}")
    audit.record(
        "application.screening",
        app,
        after={"decision": "returned", "reasons": cleaned, "revision_deadline": deadline},
        actor=by,
    )
    _tell(app, ApplicationStatus.RETURNED)


def reject_application(app: Application, *, by, reason: str, version: int | None = None) -> None:
    _check(app, ApplicationStatus.REJECTED, by=by, version=version)
    reason = _clean(reason)
    if not reason:
        raise DecisionRefused("请填写不通过的理由")
    _move(app, ApplicationStatus.REJECTED, by=by, note=f"未通过资格审查：{reason}")
    audit.record("application.screening", app, after={"decision": "rejected", "reason": reason}, actor=by)
    _tell(app, ApplicationStatus.REJECTED, note=reason)


# --------------------------------------------------------------------------- batch pass


@dataclass
class BatchResult:
    passed: list[Application] = field(default_factory=list)
    refused: list[tuple[Application, str]] = field(default_factory=list)
    unknown: int = 0  # ids that do not exist or that the user may not see (never named)


def batch_pass(ids: list[int], *, by) -> BatchResult:
    """Pass every selected application that waits for a decision and has no eligibility flag.

    The others are refused one by one with the reason; ids the user may not see are only counted.
    """
    if not may_screen(by):
        raise ScreeningError("您无权进行资格审查")
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise DecisionRefused("请先勾选要通过的申报书")
    if len(ids) > MAX_BATCH:
        raise DecisionRefused(f"一次最多批量通过{MAX_BATCH}份申报书")
    found = visible_ids(by, ids)
    result = BatchResult(unknown=len([i for i in ids if i not in found]))
    all_flags = flags_for(found.values(), today_local())
    for app_id in ids:
        app = found.get(app_id)
        if app is None:
            continue
        if app.status not in SCREENABLE:
            result.refused.append((app, f"当前状态为“{app.status.label}”，不在待审查状态"))
            continue
        flags = all_flags[app.id]
        if not flags.ok:
            detail = "；".join(flags.reasons) or "、".join(label for _k, label in flags.labels)
            result.refused.append((app, f"有资格问题（{detail}），请逐份审查"))
            continue
        _move(app, ApplicationStatus.PASSED, by=by, note="资格审查通过（批量通过，无资格问题）")
        audit.record("application.screening", app, after={"decision": "passed", "batch": True}, actor=by)
        _tell(app, ApplicationStatus.PASSED)
        result.passed.append(app)
    return result


# --------------------------------------------------------------------------- telling the organisation


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _path(endpoint: str, **values) -> str:
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def message_for(app: Application, decision: ApplicationStatus, note: str | None = None) -> tuple[str, str]:
    """(title, body) of the notification and e-mail: what was decided and what to do next."""
    name = f"{app.quoted_title}（申报编号 {app.number}）"
    if decision == ApplicationStatus.PASSED:
        title = f"资格审查通过：{app.number}"
        body = f"{name}已通过资格审查。"
        if note:
            body += f"\n审查意见：{note}"
        body += "\n下一步：进入专家评审，评审安排将另行通知，请留意平台通知。"
        return title, body
    if decision == ApplicationStatus.RETURNED:
        title = f"申报书退回修改：{app.number}"
        lines = [f"{name}经资格审查需要修改后重新提交。审查意见："]
        for key, reason in (app.return_reasons or {}).items():
            lines.append(f"· {SECTION_LABELS.get(key, key)}：{reason}")
        lines.append(
            f"下一步：请在{_cn(app.revision_deadline)}（含当日）前登录平台，按意见修改申报书后点击“重新提交”。"
            "逾期将无法重新提交。"
        )
        return title, "\n".join(lines)
    title = f"未通过资格审查：{app.number}"
    body = f"{name}未通过资格审查。\n理由：{note or ''}\n本批次申报到此结束。如有疑问，请联系组织本批次申报的民政部门。"
    return title, body


def _tell(app: Application, decision: ApplicationStatus, *, note: str | None = None) -> None:
    from incubator.accounts.models import Role, User
    from incubator.core.mail import InvalidMail, queue_mail
    from incubator.notifications.services import notify_many

    title, body = message_for(app, decision, note)
    link = _path("applications.detail", app_id=app.id)
    members = list(
        db.session.scalars(
            select(User).where(User.org_id == app.org_id, User.role == Role.APPLICANT, User.active.is_(True)).order_by(User.id)
        )
    )
    notify_many(members, title, body, link)
    base = current_app.config.get("BASE_URL", "").rstrip("/")
    platform = current_app.config.get("PLATFORM_NAME", "")
    recipients = [m.email for m in members]
    if app.org.contact_email:
        recipients.append(app.org.contact_email)
    for to in dict.fromkeys(r.strip().lower() for r in recipients if r):
        try:
            queue_mail(to, title, f"{body}\n\n查看申报书：{base}{link}\n\n{platform}")
        except InvalidMail:
            continue


# ------------------------------------------------------------------ the export as a background job

EXPORT_JOB_KIND = "screening_export"


def request_export(filters, *, by, rows: int):
    """Queue the Excel export of the list under ``filters`` for ``by`` (the caller commits and shows
    the job). The job reloads the user and applies the same scope, filters and order as the list;
    a click on a second button while the same export still waits returns the waiting job."""
    from incubator.core.jobs import Job, JobStatus, start_job
    from incubator.screening.jobs import export_applications

    args = {k: str(v) for k, v in filters.args().items()}
    on = filters.on.isoformat()
    waiting = db.session.scalars(
        select(Job).where(
            Job.user_id == by.id, Job.kind == EXPORT_JOB_KIND, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
        )
    )
    for job in waiting:
        if job.args == [by.id, args, on]:
            return job
    return start_job(
        export_applications, by.id, args, on,
        title=f"导出资格审查申报书清单（{rows:,}条）", user=by, kind=EXPORT_JOB_KIND,
    )
