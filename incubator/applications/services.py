"""Applications: start, save drafts, submit, withdraw, attachments, what happens next.

Services take model objects and typed arguments, change data, ``flush()`` and never commit.
Domain errors carry a Chinese message (``str(exc)``) and an HTTP status for the view.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import current_app, has_request_context, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import object_session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from incubator.applications.checks import CheckContext, Problem, check_submission
from incubator.applications.forms import FIELD_LABELS, DraftInput
from incubator.applications.models import (
    SECTION_LABELS,
    Application,
    ApplicationAttachment,
    ApplicationBudgetLine,
    ApplicationPlanRow,
    ApplicationStatus,
    ApplicationTeamMember,
    ApplicationVersion,
    FundingSource,
    line_amount,
)
from incubator.applications.numbering import allocate_number
from incubator.calls.models import BudgetCategory, Call, FieldKind
from incubator.core import audit
from incubator.core.states import history, transition
from incubator.db import to_local, utcnow
from incubator.extensions import db
from incubator.orgs.models import Organization, ServiceField

DEFAULT_ATTACHMENT_TYPES = ["pdf", "docx", "xlsx", "jpg", "png"]
# Statuses that do not count towards the per-organisation limit.
NOT_COUNTED = (ApplicationStatus.WITHDRAWN,)


class ApplicationError(Exception):
    status_code = 409

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class CannotStart(ApplicationError):
    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("无法开始申报：" + "；".join(reasons))


class NotEditable(ApplicationError):
    pass


class EditConflict(ApplicationError):
    def __init__(self, message: str | None = None):
        super().__init__(message or "此申报书已在其他页面或设备上保存过。为避免覆盖，本次内容未保存，请刷新页面后再修改。")


class SubmissionRefused(ApplicationError):
    status_code = 422

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"申报书还有 {len(problems)} 处问题，请修改后再提交")


class CannotWithdraw(ApplicationError):
    pass


class AttachmentRefused(ApplicationError):
    status_code = 422


# --------------------------------------------------------------------------- counting


def count_for_call(call: Call) -> int:
    """Applications submitted to this call (drafts and withdrawn ones not counted)."""
    return counts_for_calls([call.id]).get(call.id, 0)


def counts_for_calls(call_ids: Iterable[int]) -> dict[int, int]:
    ids = list(call_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Application.call_id, func.count(Application.id))
        .where(
            Application.call_id.in_(ids),
            Application.submitted_at.is_not(None),
            Application.status != ApplicationStatus.WITHDRAWN,
        )
        .group_by(Application.call_id)
    ).all()
    return {call_id: int(n) for call_id, n in rows}


def active_count(org: Organization, call: Call, *, exclude_id: int | None = None, submitted_only: bool = False) -> int:
    stmt = select(func.count(Application.id)).where(
        Application.org_id == org.id, Application.call_id == call.id, Application.status.not_in(NOT_COUNTED)
    )
    if submitted_only:
        stmt = stmt.where(Application.status != ApplicationStatus.DRAFT)
    if exclude_id is not None:
        stmt = stmt.where(Application.id != exclude_id)
    return int(db.session.scalar(stmt) or 0)


def _eligibility_reasons(call: Call, org: Organization, now: datetime) -> list[str]:
    from incubator.calls.services import eligibility_for

    return list(eligibility_for(call, org, now=now).reasons)


def _path(endpoint: str, **values) -> str:
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


# --------------------------------------------------------------------------- start


def start_application(call: Call, *, org: Organization | None, by, now: datetime | None = None) -> Application:
    """A new draft for ``call``; refuses with every reason at once (``CannotStart``)."""
    now = now or utcnow()
    if org is None:
        raise CannotStart(["您的账号未关联社会组织，请先登记本组织信息"])
    reasons: list[str] = []
    if not call.is_open(now):
        reasons.append(f"本批次当前状态为“{call.status_at(now).label}”，不在申报期内")
    reasons.extend(_eligibility_reasons(call, org, now))
    taken = active_count(org, call)
    if taken >= call.max_applications_per_org:
        reasons.append(
            f"本组织在本批次已有{taken}份申报书（含草稿），已达上限（每个组织最多{call.max_applications_per_org}份；已撤回的不计）"
        )
    if reasons:
        raise CannotStart(list(dict.fromkeys(reasons)))
    app = Application(
        org=org,
        call=call,
        created_by_id=by.id,
        status=ApplicationStatus.DRAFT,
        bank_account_name=org.name,
        last_saved_at=now,
    )
    db.session.add(app)
    db.session.flush()
    audit.record("application.start", app, after={"call_id": call.id, "org_id": org.id}, actor=by)
    return app


# --------------------------------------------------------------------------- saving


def _sync_rows(existing: list, inputs: list, factory, assign) -> None:
    for i, data in enumerate(inputs):
        if i < len(existing):
            obj = existing[i]
        else:
            obj = factory()
            existing.append(obj)
        obj.position = i
        assign(obj, data)
    del existing[len(inputs):]


def _assign_plan(row: ApplicationPlanRow, d) -> None:
    row.start_on, row.end_on, row.content, row.output = d.start_on, d.end_on, d.content, d.output


def _assign_team(m: ApplicationTeamMember, d) -> None:
    for attr in ("name", "education", "major", "role", "qualification", "insured", "time_on_project"):
        setattr(m, attr, getattr(d, attr))


def _assign_budget(line: ApplicationBudgetLine, d) -> None:
    line.category, line.item, line.unit, line.note = d.category, d.item, d.unit, d.note
    line.unit_price, line.quantity, line.source = d.unit_price, d.quantity, d.source
    line.amount = line_amount(d.unit_price, d.quantity)


def recompute_totals(app: Application) -> None:
    """grant + matching = total, each line's amount = price × qty (rounded to 分): exact Decimals."""
    grant = matching = Decimal("0.00")
    for line in app.budget_lines:
        line.amount = line_amount(line.unit_price, line.quantity)
        if line.amount is None:
            continue
        if line.source == FundingSource.MATCHING:
            matching += line.amount
        else:
            grant += line.amount
    app.grant_requested, app.matching_amount, app.total_budget = grant, matching, grant + matching


def _flush_or_conflict() -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise EditConflict() from exc


def save_draft(app: Application, *, draft: DraftInput, by, now: datetime | None = None) -> Application:
    """Store what the organisation filled in, complete or not. Typed values that could not be
    parsed are kept as typed in ``raw_inputs`` (so nothing is lost)."""
    if not app.is_editable:
        raise NotEditable(f"申报书当前状态为“{app.status.label}”，不能修改")
    if draft.version_id is not None and draft.version_id != app.version_id:
        raise EditConflict()
    try:
        apply_draft(app, draft)
        app.last_saved_at = now or utcnow()
        db.session.flush()
    except StaleDataError as exc:  # saved meanwhile by another request (another tab, a beacon)
        raise EditConflict() from exc
    return app


def apply_draft(app: Application, draft: DraftInput) -> None:
    """Copy the parsed form onto the application (no flush): sections, rows, totals."""
    session = object_session(app)
    if session is None:  # a transient application (pure checks, previews)
        _apply_draft(app, draft)
        return
    with session.no_autoflush:  # no half-applied flush while rows load (a 409, never a 500)
        _apply_draft(app, draft)


def _apply_draft(app: Application, draft: DraftInput) -> None:
    for name in (
        "title", "field", "service_communities", "beneficiaries_description", "beneficiaries_count",
        "period_start", "period_end", "supervisor", "requester", "summary", "need_analysis",
        "overall_goal", "risks", "bank_account_name", "bank_name", "bank_account_number",
    ):
        setattr(app, name, getattr(draft, name))
    app.sub_goals = list(draft.sub_goals)
    app.extra_values = dict(draft.extra)
    app.raw_inputs = dict(draft.raw)
    _sync_rows(app.plan_rows, draft.plan, ApplicationPlanRow, _assign_plan)
    _sync_rows(app.team_members, draft.team, ApplicationTeamMember, _assign_team)
    _sync_rows(app.budget_lines, draft.budget, ApplicationBudgetLine, _assign_budget)
    recompute_totals(app)


# --------------------------------------------------------------------------- submission


def submission_problems(app: Application, *, now: datetime | None = None) -> list[Problem]:
    now = now or utcnow()
    call = app.call
    ctx = CheckContext(
        now=now,
        today=to_local(now).date(),
        eligibility_reasons=_eligibility_reasons(call, app.org, now),
        other_active_count=active_count(app.org, call, exclude_id=app.id, submitted_only=True),
    )
    return check_submission(app, call, ctx)


def submit(app: Application, *, by, draft: DraftInput | None = None, now: datetime | None = None) -> ApplicationVersion:
    """Save the posted draft (if any), run every check, and submit (or resubmit).

    On problems the draft stays saved and ``SubmissionRefused(problems)`` is raised: the caller
    commits the saved draft and shows the problems. On success: a number (first submission),
    the status change (audited), a version snapshot, the PDF job, mail and notifications.
    """
    now = now or utcnow()
    if not app.can_edit(by):
        raise NotEditable(f"申报书当前状态为“{app.status.label}”，不能提交")
    if draft is not None:
        save_draft(app, draft=draft, by=by, now=now)
    # Serialise submissions of one organisation (the per-organisation limit) on PostgreSQL.
    db.session.execute(select(Organization.id).where(Organization.id == app.org_id).with_for_update())
    problems = submission_problems(app, now=now)
    if problems:
        raise SubmissionRefused(problems)

    resubmission = app.status == ApplicationStatus.RETURNED
    if app.number is None:
        app.number = allocate_number(app.call)
    target = ApplicationStatus.RESUBMITTED if resubmission else ApplicationStatus.SUBMITTED
    app.last_submitted_at = now
    if app.submitted_at is None:
        app.submitted_at = now
    try:
        transition(app, target, by=by, note=f"申报编号 {app.number}")
    except StaleDataError as exc:
        raise EditConflict("此申报书已在其他页面提交或修改，请刷新页面查看最新状态。") from exc
    version = ApplicationVersion(
        application=app,
        number=len(app.versions) + 1,
        status=target,
        data=app.snapshot(),
        submitted_at=now,
        submitted_by_id=by.id,
    )
    db.session.add(version)
    _flush_or_conflict()
    audit.record(
        "application.version",
        app,
        after={"version": version.number, "grant_requested": app.grant_requested, "total_budget": app.total_budget},
        actor=by,
    )
    start_pdf(version, by=by)
    _tell_submitted(app, version, by)
    return version


def start_pdf(version: ApplicationVersion, *, by):
    """Queue the PDF of a submitted version (a Job the user can watch)."""
    from incubator.applications.jobs import render_application_pdf
    from incubator.core.jobs import start_job

    app = version.application
    job = start_job(
        render_application_pdf,
        version.id,
        title=f"生成申报书PDF：{app.number}（第{version.number}版）",
        user=by,
        kind="application_pdf",
    )
    version.pdf_job_id = job.id
    db.session.flush()
    return job


def _tell_submitted(app: Application, version: ApplicationVersion, by) -> None:
    from incubator.core.mail import InvalidMail, queue_mail
    from incubator.notifications.services import notify_many

    verb = "重新提交" if version.number > 1 else "提交"
    link = _path("applications.detail", app_id=app.id)
    title = f"申报书已{verb}：{app.number}"
    when = to_local(version.submitted_at)
    body = (
        f"{app.quoted_title}已于{when.year}年{when.month}月{when.day}日 {when:%H:%M}{verb}，"
        f"申报编号 {app.number}，申请资助 ¥{app.grant_requested:,.2f}，项目总预算 ¥{app.total_budget:,.2f}。"
        f"下一步：{next_step(app)}"
    )
    from incubator.accounts.models import User

    members = db.session.scalars(select(User).where(User.org_id == app.org_id, User.active.is_(True))).all()
    notify_many(members, title, body, link)
    recipients = [by.email]
    if app.org.contact_email:
        recipients.append(app.org.contact_email)
    base = current_app.config.get("BASE_URL", "").rstrip("/")
    for to in dict.fromkeys(r.strip().lower() for r in recipients if r):
        try:
            queue_mail(to, title, f"{body}\n\n查看申报书：{base}{link}\n\n{current_app.config.get('PLATFORM_NAME', '')}")
        except InvalidMail:
            continue


# --------------------------------------------------------------------------- withdraw


def withdraw(app: Application, *, by, now: datetime | None = None, note: str | None = None) -> None:
    now = now or utcnow()
    if not app.is_member(by):
        raise CannotWithdraw("只有本组织成员可以撤回申报书")
    if ApplicationStatus.WITHDRAWN not in app.TRANSITIONS.get(app.status, set()):
        raise CannotWithdraw(f"申报书当前状态为“{app.status.label}”，不能撤回")
    if now >= app.call.closes_at:
        raise CannotWithdraw("本批次申报已截止，不能再撤回申报书")
    app.withdrawn_at = now
    try:
        transition(app, ApplicationStatus.WITHDRAWN, by=by, note=note or "组织主动撤回")
    except StaleDataError as exc:
        raise EditConflict("此申报书刚被修改过，请刷新页面后重试。") from exc


# --------------------------------------------------------------------------- attachments


@dataclass(frozen=True)
class Slot:
    key: str  # "type:<id>" or "field:<id>"
    label: str
    required: bool
    allowed: list[str]
    help_text: str | None = None


def slots_for(call: Call) -> list[Slot]:
    out = [
        Slot(f"type:{t.id}", t.name, t.required, list(t.allowed_extensions or DEFAULT_ATTACHMENT_TYPES))
        for t in call.attachment_types
    ]
    out += [
        Slot(f"field:{f.id}", f.label, f.required, DEFAULT_ATTACHMENT_TYPES, f.help_text)
        for f in call.fields
        if f.kind == FieldKind.FILE
    ]
    return out


def add_attachment(app: Application, *, slot: str, upload, by) -> ApplicationAttachment:
    """Store an upload for one of the call's attachment slots (replacing the slot's earlier file)."""
    from incubator.core.files import UploadRejected, save_upload

    if not app.is_editable:
        raise NotEditable(f"申报书当前状态为“{app.status.label}”，不能修改附件")
    spec = next((s for s in slots_for(app.call) if s.key == slot), None)
    if spec is None:
        raise AttachmentRefused("请选择本批次要求的附件类型")
    try:
        sf = save_upload(upload, allowed=spec.allowed, by=by)
    except UploadRejected as exc:
        raise AttachmentRefused(str(exc)) from exc
    for old in [a for a in app.attachments if a.slot == slot]:
        app.attachments.remove(old)  # the stored file stays: earlier versions may refer to it
    att = ApplicationAttachment(slot=slot, file_id=sf.id, uploaded_by_id=by.id)
    att.file = sf
    app.attachments.append(att)
    db.session.flush()
    audit.record("application.attachment_add", app, after={"slot": slot, "file_id": sf.id, "name": sf.original_name}, actor=by)
    return att


def remove_attachment(app: Application, attachment: ApplicationAttachment, *, by) -> None:
    if not app.is_editable:
        raise NotEditable(f"申报书当前状态为“{app.status.label}”，不能修改附件")
    app.attachments.remove(attachment)
    db.session.flush()
    audit.record("application.attachment_remove", app, before={"slot": attachment.slot, "file_id": attachment.file_id}, actor=by)


def file_ids_of(app: Application) -> set[int]:
    """Every stored file this application shows: current attachments, every version's files and PDFs."""
    ids = {a.file_id for a in app.attachments}
    for v in app.versions:
        if v.pdf_file_id:
            ids.add(v.pdf_file_id)
        for a in (v.data or {}).get("attachments", []):
            if isinstance(a, dict) and isinstance(a.get("file_id"), int):
                ids.add(a["file_id"])
    return ids


# --------------------------------------------------------------------------- lists and next steps


def applications_of_org(org: Organization) -> list[Application]:
    return list(
        db.session.scalars(
            select(Application)
            .where(Application.org_id == org.id)
            .options(selectinload(Application.call), selectinload(Application.versions))
            .order_by(Application.created_at.desc(), Application.id.desc())
        )
    )


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _cn_dt(utc: datetime) -> str:
    local = to_local(utc)
    return f"{_cn(local)} {local:%H:%M}"


def next_step(app: Application, *, now: datetime | None = None) -> str:
    """What happens next, in plain Chinese, for the organisation's list and detail page."""
    now = now or utcnow()
    s = app.status
    if s == ApplicationStatus.DRAFT:
        if now >= app.call.closes_at:
            return "申报已截止，此草稿无法再提交"
        return f"草稿：请在{_cn_dt(app.call.closes_at)}前填写完整并提交"
    if s == ApplicationStatus.SUBMITTED:
        return "已提交，等待资格审查"
    if s == ApplicationStatus.RESUBMITTED:
        return "已重新提交，等待资格审查"
    if s == ApplicationStatus.RETURNED:
        if app.revision_deadline is not None:
            if to_local(now).date() > app.revision_deadline:
                return f"退回修改：修改期限（{_cn(app.revision_deadline)}）已过"
            return f"退回修改：请在{_cn(app.revision_deadline)}前修改后重新提交"
        return "退回修改：请按审查意见修改后重新提交"
    if s == ApplicationStatus.PASSED:
        return "资格审查通过，等待专家评审"
    if s == ApplicationStatus.REJECTED:
        return "未通过资格审查，本批次申报结束"
    if s == ApplicationStatus.WITHDRAWN:
        return "已撤回，不参加本批次评审"
    return s.label


def status_history(app: Application):
    return history(app)


# --------------------------------------------------------------------------- version differences


def _diff_money(value) -> str:
    """'4000.00' → '¥4,000.00' (as every amount is shown); anything unreadable as it was stored."""
    from incubator.web import format_money

    if value in (None, ""):
        return ""
    try:
        return format_money(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        return str(value)


def _diff_number(value) -> str:
    """'12.00' → '12', '2.50' → '2.5'."""
    if value in (None, ""):
        return ""
    try:
        text = f"{Decimal(str(value)):f}"
    except (ArithmeticError, ValueError):
        return str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _diff_date(value) -> str:
    """'2027-01-01' → '2027年1月1日'."""
    if not value:
        return ""
    try:
        d = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{d.year}年{d.month}月{d.day}日"


def _flatten(snap: dict, field_labels: dict[str, str]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    basic = snap.get("basic", {}) or {}
    for key, value in basic.items():
        if key == "field" and value:
            value = ServiceField(value).label if value in ServiceField._value2member_map_ else value
        elif key in ("period_start", "period_end"):
            value = _diff_date(value)
        out[(SECTION_LABELS["basic"], FIELD_LABELS.get(key, key))] = "" if value is None else str(value)
    for key, value in (snap.get("need", {}) or {}).items():
        out[(SECTION_LABELS["need"], FIELD_LABELS.get(key, key))] = value or ""
    goals = snap.get("goals", {}) or {}
    out[(SECTION_LABELS["goals"], "总目标")] = goals.get("overall_goal") or ""
    out[(SECTION_LABELS["goals"], "具体目标")] = "；".join(goals.get("sub_goals") or [])
    for i, r in enumerate(snap.get("plan", []) or []):
        out[(SECTION_LABELS["plan"], f"第{i + 1}行")] = (
            f"{_diff_date(r.get('start'))}～{_diff_date(r.get('end'))} {r.get('content') or ''}（产出：{r.get('output') or ''}）"
        )
    for i, m in enumerate(snap.get("team", []) or []):
        insured = {True: "是", False: "否"}.get(m.get("insured"), "")
        out[(SECTION_LABELS["team"], f"第{i + 1}行")] = " / ".join(
            str(m.get(k) or "") for k in ("name", "education", "major", "role", "qualification", "time_on_project")
        ) + f" / 社保：{insured}"
    for i, b in enumerate(snap.get("budget", []) or []):
        cat = b.get("category")
        cat = BudgetCategory(cat).label if cat in BudgetCategory._value2member_map_ else (cat or "")
        src = b.get("source")
        src = FundingSource(src).label if src in FundingSource._value2member_map_ else (src or "")
        out[(SECTION_LABELS["budget"], f"第{i + 1}行")] = (
            f"{cat} {b.get('item') or ''} {_diff_money(b.get('unit_price'))}×{_diff_number(b.get('quantity'))}{b.get('unit') or ''}"
            f"＝{_diff_money(b.get('amount'))}（{src}）{b.get('note') or ''}"
        )
    totals = snap.get("totals", {}) or {}
    for key, label in (("grant_requested", "申请资助"), ("matching_amount", "配套资金"), ("total_budget", "总预算")):
        out[(SECTION_LABELS["budget"], label)] = _diff_money(totals.get(key))
    for fid, value in (snap.get("extra", {}) or {}).items():
        out[(SECTION_LABELS["extra"], field_labels.get(str(fid), f"字段{fid}"))] = value or ""
    for a in snap.get("attachments", []) or []:
        out[(SECTION_LABELS["attachments"], field_labels.get(a.get("slot"), a.get("slot") or ""))] = a.get("name") or ""
    for key, value in (snap.get("bank", {}) or {}).items():
        out[(SECTION_LABELS["bank"], FIELD_LABELS.get(key, key))] = value or ""
    return out


def diff_snapshots(old: dict, new: dict, *, call: Call | None = None) -> list[tuple[str, str, str, str]]:
    """Differences between two version snapshots: [(section label, item label, before, after)]."""
    labels: dict[str, str] = {}
    if call is not None:
        for f in call.fields:
            labels[str(f.id)] = f.label
            labels[f"field:{f.id}"] = f.label
        for t in call.attachment_types:
            labels[f"type:{t.id}"] = t.name
    a, b = _flatten(old or {}, labels), _flatten(new or {}, labels)
    keys = list(dict.fromkeys([*a.keys(), *b.keys()]))
    return [(sec, item, a.get((sec, item), ""), b.get((sec, item), "")) for sec, item in keys if a.get((sec, item), "") != b.get((sec, item), "")]

