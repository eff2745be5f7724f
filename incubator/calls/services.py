"""Calls for proposals (申报通知): create, edit, publish, unpublish, archive, documents, lists, eligibility.

Services take model objects and typed keyword arguments, change data, flush and never commit.
They raise :class:`CallError` subclasses whose message is the Chinese text a view flashes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from incubator.accounts.models import Role, User
from incubator.calls.models import (
    BudgetCategory,
    Call,
    CallAttachmentType,
    CallBudgetCap,
    CallDocument,
    CallField,
    CallKind,
    CallStatus,
    FieldKind,
)
from incubator.core import audit
from incubator.core.search import like_pattern
from incubator.db import to_local, utcnow
from incubator.extensions import db
from incubator.orgs.models import Organization, OrgType, ServiceField

# File types staff may publish with a notice (guidelines, templates) and applicants may be asked for.
DOCUMENT_EXTENSIONS = ("pdf", "docx", "xlsx")
ATTACHMENT_EXTENSIONS = ("pdf", "docx", "xlsx", "jpg", "png")
DEFAULT_ATTACHMENT_EXTENSIONS = ["pdf", "docx", "xlsx", "jpg", "png"]


# ------------------------------------------------------------------ errors


class CallError(Exception):
    """A refused change; ``str(exc)`` is the Chinese message. ``status`` is the HTTP answer."""

    status = 409

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class CallConflict(CallError):
    """Optimistic lock: someone else saved the call since this editor was opened."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or "保存失败：在您编辑期间，其他工作人员已修改并保存了这份申报通知。为避免覆盖对方的修改，"
            "本次内容未保存。请刷新页面查看最新内容后重新修改。"
        )


class CallInvalid(CallError):
    status = 422


# ------------------------------------------------------------------ input rows


@dataclass
class CapRow:
    category: BudgetCategory
    max_share: Decimal


@dataclass
class FieldRow:
    label: str
    kind: FieldKind
    required: bool = False
    help_text: str | None = None
    choices: list[str] = field(default_factory=list)
    row_id: int | None = None  # an existing CallField of this call, kept so answers stay attached


@dataclass
class AttachmentTypeRow:
    name: str
    required: bool = True
    allowed_extensions: list[str] = field(default_factory=lambda: list(DEFAULT_ATTACHMENT_EXTENSIONS))
    row_id: int | None = None


@dataclass
class CallData:
    """Everything staff set on a call (typed; never a request or a form)."""

    kind: CallKind
    year: int
    title: str
    notice: str
    district_id: int | None
    opens_at: datetime  # naive UTC
    closes_at: datetime  # naive UTC
    fund_pool: Decimal
    grant_max: Decimal
    grant_min: Decimal = Decimal("0")
    max_grant_share: Decimal = Decimal("60")
    max_applications_per_org: int = 2
    allowed_org_types: list[OrgType] = field(default_factory=list)
    min_years_since_founding: int = 0
    require_annual_report_pass: bool = True
    district_orgs_only: bool = False
    grade_preference_note: str | None = None
    themes: list[ServiceField] = field(default_factory=list)
    caps: list[CapRow] = field(default_factory=list)
    fields: list[FieldRow] = field(default_factory=list)
    attachment_types: list[AttachmentTypeRow] = field(default_factory=list)
    # [(share %, TrancheCondition value)] — the projects' staged disbursement; [] = DEFAULT_TRANCHE_PLAN.
    tranche_plan: list[tuple[Decimal, str]] = field(default_factory=list)


# ------------------------------------------------------------------ create and edit


def _check_data(data: CallData, *, by: User) -> None:
    if not by.sees_district(data.district_id) or by.role not in (Role.STAFF, Role.ADMIN):
        raise CallError("区级工作人员只能发布和管理本区的申报通知")
    if data.closes_at <= data.opens_at:
        raise CallInvalid("截止时间必须晚于开始时间")
    if data.grant_max < data.grant_min:
        raise CallInvalid("单个项目资助上限不能低于资助下限")
    if data.grant_max > data.fund_pool:
        raise CallInvalid("单个项目资助上限不能超过资金池总额")
    if data.district_orgs_only and data.district_id is None:
        raise CallInvalid("市级通知不能设置“仅限本区组织申报”")
    categories = [c.category for c in data.caps]
    if len(categories) != len(set(categories)):
        raise CallInvalid("同一预算科目只能设置一个比例上限")
    for row in data.fields:
        if row.kind == FieldKind.CHOICE and len(row.choices) < 2:
            raise CallInvalid(f"自定义字段“{row.label}”是单选题，至少需要两个选项")
    if data.tranche_plan:
        from incubator.projects.models import TrancheCondition
        from incubator.projects.tranches import check_shares

        try:
            check_shares([share for share, _ in data.tranche_plan])
            [TrancheCondition(condition) for _, condition in data.tranche_plan]
        except ValueError as exc:
            raise CallInvalid(f"分期拨付计划：{exc}") from exc


def snapshot(call: Call) -> dict[str, Any]:
    """Every setting of a call as plain values (audit before/after)."""
    return {
        "kind": call.kind,
        "year": call.year,
        "title": call.title,
        "notice_length": len(call.notice or ""),
        "district_id": call.district_id,
        "opens_at": call.opens_at,
        "closes_at": call.closes_at,
        "published_at": call.published_at,
        "archived_at": call.archived_at,
        "fund_pool": call.fund_pool,
        "grant_min": call.grant_min,
        "grant_max": call.grant_max,
        "max_grant_share": call.max_grant_share,
        "max_applications_per_org": call.max_applications_per_org,
        "allowed_org_types": list(call.allowed_org_types or []),
        "min_years_since_founding": call.min_years_since_founding,
        "require_annual_report_pass": call.require_annual_report_pass,
        "district_orgs_only": call.district_orgs_only,
        "grade_preference_note": call.grade_preference_note,
        "themes": list(call.themes or []),
        "caps": {c.category.value: str(c.max_share) for c in call.budget_caps},
        "fields": [[f.id, f.label, f.kind.value, f.required, list(f.choices or [])] for f in call.fields],
        "attachment_types": [[a.id, a.name, a.required, list(a.allowed_extensions or [])] for a in call.attachment_types],
        "tranche_plan": [list(row) for row in call.tranche_plan or []],
    }


def _apply(call: Call, data: CallData) -> None:
    call.kind = data.kind
    call.year = data.year
    call.title = data.title.strip()
    call.notice = data.notice
    call.district_id = data.district_id
    call.opens_at = data.opens_at
    call.closes_at = data.closes_at
    call.fund_pool = data.fund_pool
    call.grant_min = data.grant_min
    call.grant_max = data.grant_max
    call.max_grant_share = data.max_grant_share
    call.max_applications_per_org = data.max_applications_per_org
    call.allowed_org_types = sorted({t.value for t in data.allowed_org_types})
    call.min_years_since_founding = data.min_years_since_founding
    call.require_annual_report_pass = data.require_annual_report_pass
    call.district_orgs_only = data.district_orgs_only
    call.grade_preference_note = (data.grade_preference_note or "").strip() or None
    call.themes = [t.value for t in ServiceField if t in set(data.themes)]
    call.tranche_plan = [[str(share), str(getattr(condition, "value", condition))] for share, condition in data.tranche_plan]

    # Caps: update in place by category (a delete and re-insert of one category would trip the
    # unique constraint inside one flush).
    existing = {c.category: c for c in call.budget_caps}
    wanted = {row.category: row for row in data.caps}
    for category, cap in existing.items():
        if category not in wanted:
            call.budget_caps.remove(cap)
    for category, row in wanted.items():
        if category in existing:
            existing[category].max_share = row.max_share
        else:
            call.budget_caps.append(CallBudgetCap(category=category, max_share=row.max_share))

    # Extra fields and attachment types keep their ids when edited, so what applicants already
    # entered stays attached to them; rows not sent any more are removed.
    by_id = {f.id: f for f in call.fields}
    kept: list[CallField] = []
    for position, row in enumerate(data.fields):
        f = by_id.pop(row.row_id, None) if row.row_id else None
        if f is None:
            f = CallField()
        f.position, f.label, f.kind, f.required = position, row.label.strip(), row.kind, row.required
        f.help_text = (row.help_text or "").strip() or None
        f.choices = list(row.choices) if row.kind == FieldKind.CHOICE else []
        kept.append(f)
    call.fields = kept

    by_id_a = {a.id: a for a in call.attachment_types}
    kept_a: list[CallAttachmentType] = []
    for position, row in enumerate(data.attachment_types):
        a = by_id_a.pop(row.row_id, None) if row.row_id else None
        if a is None:
            a = CallAttachmentType()
        a.position, a.name, a.required = position, row.name.strip(), row.required
        a.allowed_extensions = [e for e in ATTACHMENT_EXTENSIONS if e in set(row.allowed_extensions)] or list(
            DEFAULT_ATTACHMENT_EXTENSIONS
        )
        kept_a.append(a)
    call.attachment_types = kept_a


def create_call(*, by: User, data: CallData) -> Call:
    _check_data(data, by=by)
    call = Call(created_by_id=by.id)
    _apply(call, data)
    db.session.add(call)
    db.session.flush()
    audit.record("call.create", call, after=snapshot(call), actor=by)
    db.session.flush()
    return call


# Changing these on a published call would change what applicants already relied on.
LOCKED_WHEN_PUBLISHED = ("kind", "year", "district_id")


def update_call(call: Call, *, by: User, data: CallData, expected_version: int | None) -> Call:
    """Save staff's edits. ``expected_version`` is the version the editor was opened at."""
    if not call.can_manage(by):
        raise CallError("您没有管理这份申报通知的权限")
    if call.archived_at is not None:
        raise CallError("已归档的申报通知不能再修改")
    if expected_version is not None and expected_version != call.version_id:
        raise CallConflict()
    _check_data(data, by=by)
    if call.published_at is not None:
        changed = [name for name in LOCKED_WHEN_PUBLISHED if getattr(call, name) != getattr(data, name)]
        if changed:
            raise CallInvalid("已发布的通知不能修改类型、年度和发布范围；如需修改，请先撤回发布")
        now = utcnow()
        if data.closes_at != call.closes_at and data.closes_at <= now:
            raise CallInvalid("已发布的通知不能把截止时间改到当前时间之前")
    before = snapshot(call)
    _apply(call, data)
    call.updated_at = utcnow()  # the call row itself changes, so its version moves even if only rows did
    _flush_or_conflict()
    audit.record("call.update", call, before=before, after=snapshot(call), actor=by)
    db.session.flush()
    return call


def _flush_or_conflict() -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:  # saved by someone else between our read and our write
        raise CallConflict() from exc


# ------------------------------------------------------------------ lifecycle


def application_count(call: Call) -> int:
    """Applications made to this call (0 until the applications domain exists)."""
    try:
        from incubator.applications.services import count_for_call  # type: ignore[import-not-found]
    except ImportError:
        return 0
    return int(count_for_call(call))


def application_counts(calls: list[Call]) -> dict[int, int]:
    """Applications per call for a page of calls, without one query per row when possible."""
    if not calls:
        return {}
    try:
        from incubator.applications import services as app_services  # type: ignore[import-not-found]
    except ImportError:
        return {c.id: 0 for c in calls}
    bulk = getattr(app_services, "counts_for_calls", None)
    if bulk is not None:
        counts = bulk([c.id for c in calls])
        return {c.id: int(counts.get(c.id, 0)) for c in calls}
    return {c.id: int(app_services.count_for_call(c)) for c in calls}


def publish(call: Call, *, by: User, now: datetime | None = None) -> Call:
    now = now or utcnow()
    if not call.can_manage(by):
        raise CallError("您没有管理这份申报通知的权限")
    if call.archived_at is not None:
        raise CallError("已归档的申报通知不能发布")
    if call.published_at is not None:
        raise CallError("这份申报通知已经发布")
    if call.closes_at <= now:
        raise CallInvalid("截止时间已过，不能发布。请先把截止时间改到将来，再发布")
    if not (call.notice or "").strip():
        raise CallInvalid("通知正文为空，不能发布")
    before = {"published_at": None}
    call.published_at = now
    _flush_or_conflict()
    audit.record("call.publish", call, before=before, after={"published_at": now}, actor=by)
    db.session.flush()
    return call


def unpublish(call: Call, *, by: User) -> Call:
    if not call.can_manage(by):
        raise CallError("您没有管理这份申报通知的权限")
    if call.archived_at is not None:
        raise CallError("已归档的申报通知不能撤回")
    if call.published_at is None:
        raise CallError("这份申报通知尚未发布")
    count = application_count(call)
    if count:
        raise CallError(f"已有{count}份申报书，不能撤回发布")
    before = {"published_at": call.published_at}
    call.published_at = None
    _flush_or_conflict()
    audit.record("call.unpublish", call, before=before, after={"published_at": None}, actor=by)
    db.session.flush()
    return call


def archive(call: Call, *, by: User, now: datetime | None = None) -> Call:
    now = now or utcnow()
    if not call.can_manage(by):
        raise CallError("您没有管理这份申报通知的权限")
    status = call.status_at(now)
    if status == CallStatus.ARCHIVED:
        raise CallError("这份申报通知已经归档")
    if status in (CallStatus.PUBLISHED, CallStatus.OPEN):
        raise CallError("申报期内（或即将开始）的通知不能归档；请在截止后归档，或先撤回发布")
    call.archived_at = now
    _flush_or_conflict()
    audit.record("call.archive", call, before={"status": status}, after={"status": CallStatus.ARCHIVED}, actor=by)
    db.session.flush()
    return call


# ------------------------------------------------------------------ documents


def add_document(call: Call, *, by: User, title: str, upload) -> CallDocument:
    """Attach a guideline or template to the notice (``upload`` is a werkzeug FileStorage)."""
    from incubator.core.files import save_upload

    if not call.can_manage(by):
        raise CallError("您没有管理这份申报通知的权限")
    if call.archived_at is not None:
        raise CallError("已归档的申报通知不能再上传文件")
    stored = save_upload(upload, allowed=DOCUMENT_EXTENSIONS, by=by)
    title = (title or "").strip() or (stored.original_name if hasattr(stored, "original_name") else "附件")
    doc = CallDocument(call=call, file=stored, file_id=stored.id, title=title[:200])
    db.session.add(doc)
    db.session.flush()
    audit.record("call.document_add", call, after={"document_id": doc.id, "file_id": stored.id, "title": doc.title}, actor=by)
    db.session.flush()
    return doc


def remove_document(call: Call, document: CallDocument, *, by: User) -> None:
    if not call.can_manage(by) or document.call_id != call.id:
        raise CallError("您没有管理这份申报通知的权限")
    if call.archived_at is not None:
        raise CallError("已归档的申报通知不能再修改附件")
    audit.record(
        "call.document_remove", call, before={"document_id": document.id, "file_id": document.file_id, "title": document.title},
        actor=by,
    )
    call.documents.remove(document)
    db.session.flush()


# ------------------------------------------------------------------ lists


def scoped_calls(user: User):
    """SELECT of the calls this staff member manages (zero rows for anyone else)."""
    stmt = select(Call)
    if user.role == Role.ADMIN or user.is_city_staff:
        return stmt
    if user.role == Role.STAFF and user.district_id is not None:
        return stmt.where(Call.district_id == user.district_id)
    return stmt.where(Call.id.is_(None))


@dataclass
class StaffFilters:
    kind: CallKind | None = None
    status: CallStatus | None = None
    scope: str | None = None  # "city" or a district id as text
    year: int | None = None
    q: str | None = None


def _filtered(user: User, filters: StaffFilters, now: datetime, *, with_status: bool = True):
    stmt = scoped_calls(user)
    if filters.kind is not None:
        stmt = stmt.where(Call.kind == filters.kind)
    if filters.year is not None:
        stmt = stmt.where(Call.year == filters.year)
    if filters.scope == "city":
        stmt = stmt.where(Call.district_id.is_(None))
    elif filters.scope and filters.scope.isdigit():
        stmt = stmt.where(Call.district_id == int(filters.scope))
    if filters.q:
        q = filters.q.strip()[:100]
        conditions = [Call.title.ilike(like_pattern(q), escape="\\")]
        if q.isdigit() and len(q) < 10:
            conditions.append(Call.id == int(q))
        stmt = stmt.where(or_(*conditions))
    if with_status and filters.status is not None:
        stmt = stmt.where(Call.status_clause(filters.status, now))
    return stmt


def staff_call_page(user: User, filters: StaffFilters, *, page: int = 1, per_page: int = 20, now: datetime | None = None):
    now = now or utcnow()
    stmt = (
        _filtered(user, filters, now)
        .options(joinedload(Call.district))
        .order_by(Call.year.desc(), Call.opens_at.desc(), Call.id.desc())
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)


def staff_status_counts(user: User, filters: StaffFilters, *, now: datetime | None = None) -> dict[CallStatus, int]:
    """How many calls of each status match the other filters (one GROUP BY query)."""
    now = now or utcnow()
    expr = Call.status_expr(now)
    stmt = _filtered(user, filters, now, with_status=False).with_only_columns(expr, func.count()).group_by(expr)
    rows = db.session.execute(stmt).all()
    counts = {s: 0 for s in CallStatus}
    for value, n in rows:
        counts[CallStatus(value)] = n
    return counts


def staff_years(user: User) -> list[int]:
    sub = scoped_calls(user).subquery()
    return list(db.session.scalars(select(sub.c.year).distinct().order_by(sub.c.year.desc())))


PUBLIC_STATUSES = (CallStatus.OPEN, CallStatus.PUBLISHED, CallStatus.CLOSED)


def public_call_page(*, status: CallStatus | None = None, page: int = 1, per_page: int = 10, now: datetime | None = None):
    """Published calls for the public site: open first, then upcoming, then closed (no drafts, no archive)."""
    now = now or utcnow()
    statuses = (status,) if status in PUBLIC_STATUSES else PUBLIC_STATUSES
    stmt = (
        select(Call)
        .where(or_(*(Call.status_clause(s, now) for s in statuses)))
        .options(joinedload(Call.district))
        .order_by(
            db.case(
                (Call.status_clause(CallStatus.OPEN, now), 0),
                (Call.status_clause(CallStatus.PUBLISHED, now), 1),
                else_=2,
            ),
            db.case((Call.status_clause(CallStatus.CLOSED, now), Call.closes_at), else_=None).desc(),
            Call.closes_at,
            Call.id.desc(),
        )
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)


def latest_open_calls(limit: int = 5, *, now: datetime | None = None) -> list[Call]:
    """For the home page's 通知公告: open and upcoming calls, newest first."""
    now = now or utcnow()
    stmt = (
        select(Call)
        .where(or_(Call.status_clause(CallStatus.OPEN, now), Call.status_clause(CallStatus.PUBLISHED, now)))
        .options(joinedload(Call.district))
        .order_by(Call.published_at.desc(), Call.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def public_call(call_id: int, *, now: datetime | None = None) -> Call | None:
    """A call the public may read (published, archived ones included), with what the page shows."""
    now = now or utcnow()
    call = db.session.scalar(
        select(Call)
        .where(Call.id == call_id, Call.published_at.is_not(None), Call.published_at <= now)
        .options(
            joinedload(Call.district),
            selectinload(Call.budget_caps),
            selectinload(Call.documents).joinedload(CallDocument.file),
            selectinload(Call.attachment_types),
        )
    )
    return call


# ------------------------------------------------------------------ eligibility


def eligibility_rules(call: Call):
    """The call's conditions as the registry's ``EligibilityRules``."""
    from incubator.orgs.eligibility import EligibilityRules

    types = frozenset(OrgType(v) for v in (call.allowed_org_types or [])) or None
    districts = frozenset({call.district_id}) if call.district_orgs_only and call.district_id else None
    return EligibilityRules(
        org_types=types,
        min_years_since_founding=call.min_years_since_founding or 0,
        district_ids=districts,
        missing_annual_report_bars=bool(call.require_annual_report_pass),
    )


def eligibility_for(call: Call, org: Organization, *, now: datetime | None = None):
    """May ``org`` apply to ``call``? The registry's rules plus the call's own, every reason in Chinese.

    Returns ``incubator.orgs.eligibility.Eligibility`` (``ok``, ``reasons``, ``warnings``).
    The grade (等级评估) never bars (财政部令第102号); the call's note about it is only a preference.
    """
    from incubator.orgs.eligibility import check_eligibility

    now = now or utcnow()
    on = to_local(now).date()
    result = check_eligibility(org, on=on, rules=eligibility_rules(call))
    reasons = list(result.reasons)
    # The registry says "组织所在区不在本批次申报范围内"; name the district the call is for.
    if call.district_orgs_only and call.district_id and org.district_id != call.district_id:
        district = call.district.name if call.district is not None else "本区"
        generic = "组织所在区不在本批次申报范围内"
        specific = f"本批次仅限{district}的社会组织申报"
        reasons = [specific if r == generic else r for r in reasons]
        if specific not in reasons:
            reasons.append(specific)
    result.reasons[:] = reasons
    result.ok = not reasons
    return result


def rules_text(call: Call) -> list[str]:
    """The call's eligibility rules in plain Chinese, for the public page and the editor preview."""
    lines = []
    if call.district_orgs_only and call.district_id:
        lines.append(f"申报范围：仅限注册（备案）地在{call.scope_label}的社会组织")
    else:
        lines.append("申报范围：全市范围内的社会组织均可申报" if call.district_id is None else f"申报范围：面向全市社会组织（由{call.scope_label}民政部门组织）")
    types = [t.label for t in OrgType if t.value in (call.allowed_org_types or [])]
    lines.append("组织类型：" + ("、".join(types) if types else "社会团体、民办非企业单位（社会服务机构）、基金会、备案类社区社会组织均可"))
    lines.append("须已在本平台完成注册并通过民政部门认证")
    if call.min_years_since_founding:
        lines.append(f"成立（登记或备案）满{call.min_years_since_founding}年")
    if call.require_annual_report_pass:
        lines.append("已报送上一年度年报（年检），且结论为合格或基本合格（备案类社区社会组织除外）")
    else:
        lines.append("最近一次年报（年检）结论不为不合格")
    lines.append("未被列入活动异常名录或严重违法失信名单，且不在禁入期内")
    lines.append(f"每个组织在本批次最多申报{call.max_applications_per_org}个项目")
    if call.grade_preference_note:
        lines.append(f"等级评估：{call.grade_preference_note}（仅作同等条件下的优先参考，不作为申报门槛）")
    return lines


# ------------------------------------------------------------------ organisation side


@dataclass
class OrgCall:
    call: Call
    status: CallStatus
    eligibility: Any
    countdown: "Countdown | None"


def calls_for_org(org: Organization, *, now: datetime | None = None) -> list[OrgCall]:
    """Open and upcoming calls an organisation may look at, each with its eligibility and countdown.

    District-only calls of other districts are left out. Two queries for the calls and the
    organisation's credit data, however many calls there are.
    """
    now = now or utcnow()
    stmt = (
        select(Call)
        .where(or_(Call.status_clause(CallStatus.OPEN, now), Call.status_clause(CallStatus.PUBLISHED, now)))
        .where(or_(Call.district_orgs_only.is_(False), Call.district_id == org.district_id))
        .options(joinedload(Call.district))
        .order_by(Call.closes_at, Call.id)
    )
    calls = list(db.session.scalars(stmt))
    # Load what the eligibility check reads, once.
    db.session.scalars(
        select(Organization)
        .where(Organization.id == org.id)
        .options(selectinload(Organization.annual_reports), selectinload(Organization.credit_records))
    ).all()
    return [OrgCall(c, c.status_at(now), eligibility_for(c, org, now=now), countdown(c, now)) for c in calls]


# ------------------------------------------------------------------ countdown


@dataclass
class Countdown:
    prefix: str  # 距截止还剩 / 距开始还有
    target: datetime  # naive UTC
    text: str  # the whole sentence as the server renders it
    done: str  # what the page says when the target passes

    @property
    def target_iso(self) -> str:
        return self.target.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_remaining(seconds: int) -> str:
    """3天5小时12分08秒 / 5小时12分08秒 / 12分08秒 — the same format static/js/calls.js writes."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时{minutes}分{secs:02d}秒"
    if hours:
        return f"{hours}小时{minutes}分{secs:02d}秒"
    return f"{minutes}分{secs:02d}秒"


def countdown(call: Call, now: datetime | None = None) -> Countdown | None:
    now = now or utcnow()
    status = call.status_at(now)
    if status == CallStatus.OPEN:
        prefix, target, done = "距截止还剩", call.closes_at, "已截止"
    elif status == CallStatus.PUBLISHED:
        prefix, target, done = "距开始还有", call.opens_at, "已开始申报"
    else:
        return None
    return Countdown(prefix, target, f"{prefix} {format_remaining((target - now).total_seconds())}", done)

