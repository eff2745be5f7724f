"""Services of funded projects: 立项, the tranche schedule, conditions and payments.

They take model objects and typed keyword arguments, change data, flush and never commit. Refusals
raise ``ProjectError`` (Chinese message); a user without the right raises ``NotAllowed``.

Read-only helpers of the hub's pages (constant query count, scoped to the user: an organisation's
members its own projects, district staff their district, city staff / admins / finance all):
``project_query(user, q=, status=, kind=, year=, district_id=, org_id=)``, ``project_years(user)``,
``supplier_query(user, q)`` (verified organisations in scope), ``to_launch_query(user)`` (funded
applications without a project), ``payment_query(user, state="waiting"|"requested"|"paid", q=, district_id=)``,
counts for the navigation (``count_payments``, ``count_payments_to_approve``, ``count_payments_to_pay``,
``count_to_launch``, ``count_staff_waiting``, ``count_own_projects``), ``default_plan(project)`` (the call's tranche plan, else
50/30/20), ``launch_defaults(application)``, ``granted_amount(application)``, ``payment_due(tranche)`` and
the staff desk provider ``desk_items(user)`` (拨付审核 / 财务拨付 / 待立项).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from incubator.applications.models import Application, ApplicationStatus
from incubator.applications.numbering import next_number
from incubator.core import audit
from incubator.core.search import like_pattern
from incubator.core.states import transition
from incubator.db import today_local, utcnow
from incubator.extensions import db
from incubator.projects.models import (
    PaymentRequest,
    PaymentStatus,
    Project,
    ProjectKind,
    ProjectStatus,
    Tranche,
    TrancheCondition,
    TrancheStatus,
)
from incubator.projects.tranches import check_shares, split_tranches

NUMBER_PREFIX = "XM"
MAX_YEARS = 3  # 财政部令第102号: never more than 3 years
TEXT_FIELDS = ("purchasing_department", "service_content", "quantity", "quality_standard", "prior_assessment")


class ProjectError(Exception):
    """A refused change; the message is Chinese and shown to the user."""


class NotAllowed(ProjectError):
    pass


# ---------------------------------------------------------------- 立项

def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


def term_years_needed(term_start: date, term_end: date) -> int:
    """1, 2 or 3: the smallest number of whole years the (inclusive) term fits in; 4 = over three years."""
    for years in range(1, MAX_YEARS + 1):
        if term_end < add_years(term_start, years):
            return years
    return MAX_YEARS + 1


def check_term(term_start: date, term_end: date, term_reason: str | None) -> str | None:
    if term_start is None or term_end is None:
        raise ProjectError("请填写服务期限的起止日期")
    if term_end < term_start:
        raise ProjectError("服务期限的结束日期不能早于开始日期")
    years = term_years_needed(term_start, term_end)
    if years > MAX_YEARS:
        raise ProjectError("服务期限不得超过3年（政府购买服务管理办法）")
    reason = (term_reason or "").strip() or None
    if years > 1 and reason is None:
        raise ProjectError("服务期限超过1年的，须说明理由（服务内容稳定且预算有保障）")
    return reason


def _check_amount(amount) -> Decimal:
    if isinstance(amount, float) or not isinstance(amount, (Decimal, int)) or isinstance(amount, bool):
        raise ProjectError("金额必须是精确的数值")
    amount = Decimal(amount)
    if not amount.is_finite() or amount <= 0:
        raise ProjectError("立项金额必须大于0")
    if amount != amount.quantize(Decimal("0.01")):
        raise ProjectError("金额最多保留两位小数（精确到分）")
    return amount


def _require_manager(org, by) -> None:
    from incubator.accounts.models import Role

    if not (getattr(by, "is_authenticated", False) and by.role == Role.STAFF and by.sees_district(org.district_id)):
        raise NotAllowed("只有该组织所在辖区的民政工作人员可以办理")


def _new_project(*, org, by, kind: ProjectKind, title: str, amount, term_start: date, term_end: date,
                 term_reason: str | None, budget_line: str | None, budget_year: int | None, call=None,
                 application=None, **fields) -> Project:
    unknown = set(fields) - set(TEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown project fields: {sorted(unknown)}")
    _require_manager(org, by)
    amount = _check_amount(amount)
    reason = check_term(term_start, term_end, term_reason)
    title = (title or "").strip()
    if not title:
        raise ProjectError("请填写项目名称")
    if not (budget_line or "").strip() or not budget_year:
        raise ProjectError("请填写已批复的预算来源（预算项目及年度）：预算未批复不得立项")
    project = Project(
        number=next_number(NUMBER_PREFIX, today_local().year),
        kind=kind, org_id=org.id, org=org, call_id=getattr(call, "id", None),
        application_id=getattr(application, "id", None), title=title, amount=amount,
        term_start=term_start, term_end=term_end, term_reason=reason,
        budget_line=budget_line.strip(), budget_year=int(budget_year),
        status=ProjectStatus.LAUNCHED, launched_by_id=by.id,
        **{k: (v or "").strip() for k, v in fields.items()},
    )
    db.session.add(project)
    db.session.flush()
    audit.record("project.launched", project, after={"number": project.number, "amount": amount,
                                                     "org_id": org.id, "kind": kind}, actor=by)
    db.session.flush()
    return project


def project_for_application(application: Application) -> Project | None:
    return db.session.scalar(select(Project).where(Project.application_id == application.id))


def launch_from_application(application: Application, *, by, amount: Decimal | None = None, term_start: date,
                            term_end: date, term_reason: str | None = None, budget_line: str | None = None,
                            budget_year: int | None = None, title: str | None = None, **fields) -> Project:
    """立项 of a funded (已确定资助) application; amount defaults to, and may not exceed, the approved grant."""
    from incubator.publicity.models import FundingItem

    if application.status != ApplicationStatus.FUNDED:
        raise ProjectError(f"只有已确定资助的申报项目才能立项（当前状态：{application.status.label}）")
    if project_for_application(application) is not None:
        raise ProjectError("该申报项目已立项，同一项目不重复资助")
    item = db.session.scalar(select(FundingItem).where(FundingItem.application_id == application.id))
    granted = item.amount if item is not None and item.active else None
    if amount is None:
        amount = granted
        if amount is None:
            raise ProjectError("请填写立项金额")
    elif granted is not None and not isinstance(amount, float) and Decimal(amount) > granted:
        raise ProjectError(f"立项金额不能超过确定的资助金额（{granted}元）")
    return _new_project(org=application.org, by=by, kind=ProjectKind.GRANT, title=title or application.title,
                        amount=amount, term_start=term_start, term_end=term_end, term_reason=term_reason,
                        budget_line=budget_line, budget_year=budget_year, call=application.call,
                        application=application, **fields)


def launch_purchase(org, *, by, title: str, amount: Decimal, term_start: date, term_end: date,
                    term_reason: str | None = None, budget_line: str | None = None, budget_year: int | None = None,
                    call=None, **fields) -> Project:
    """立项 of a purchase of service (政府购买服务) with a chosen supplier (承接主体)."""
    records = org.active_credit_records(today_local())
    if records:
        raise ProjectError(f"承接主体处于{records[0].kind.label}（{records[0].reason}），不得承接政府购买服务")
    return _new_project(org=org, by=by, kind=ProjectKind.PURCHASE, title=title, amount=amount,
                        term_start=term_start, term_end=term_end, term_reason=term_reason, budget_line=budget_line,
                        budget_year=budget_year, call=call, **fields)


# ---------------------------------------------------------------- tranches

def set_tranche_schedule(project: Project, shares: list[Decimal], conditions: list[TrancheCondition], *,
                         by) -> list[Tranche]:
    """Replace the schedule (only while no tranche has been requested): amounts from split_tranches."""
    _require_manager(project.org, by)
    if project.status in (ProjectStatus.CLOSED, ProjectStatus.TERMINATED):
        raise ProjectError("项目已结项或终止，不能调整拨付计划")
    if len(shares) != len(conditions):
        raise ProjectError("每一期都须设置拨付条件")
    try:
        shares = check_shares(shares)
        amounts = split_tranches(project.amount, shares)
    except ValueError as exc:
        raise ProjectError(str(exc)) from exc
    conditions = [TrancheCondition(c) for c in conditions]
    old = list(project.tranches)
    if any(t.status not in (TrancheStatus.PENDING, TrancheStatus.REQUESTABLE) for t in old):
        raise ProjectError("已有分期申请或拨付，不能再调整拨付计划")
    before = [{"share": t.share, "amount": t.amount, "condition": t.condition} for t in old]
    for t in old:
        project.tranches.remove(t)
        db.session.delete(t)
    db.session.flush()
    for i, (share, amount, condition) in enumerate(zip(shares, amounts, conditions), start=1):
        status = TrancheStatus.REQUESTABLE if project.condition_met(condition) else TrancheStatus.PENDING
        project.tranches.append(Tranche(sequence=i, share=share, amount=amount, condition=condition, status=status))
    db.session.flush()
    audit.record("project.tranche_schedule", project, before=before or None,
                 after=[{"share": t.share, "amount": t.amount, "condition": t.condition} for t in project.tranches],
                 actor=by)
    db.session.flush()
    return list(project.tranches)


def mark_condition_met(project: Project, condition: TrancheCondition, *, by, on: date | None = None) -> list[Tranche]:
    """Record that a condition is met (签约 / 中期评估合格 / 结项验收); its pending tranches become requestable.

    Signing moves a launched project to 已签约. A tranche stopped by a failed mid-term stays stopped.
    """
    _require_manager(project.org, by)
    condition = TrancheCondition(condition)
    if project.status in (ProjectStatus.CLOSED, ProjectStatus.TERMINATED):
        raise ProjectError("项目已结项或终止")
    if project.condition_met(condition):
        raise ProjectError(f"拨付条件“{condition.label}”已满足，无需重复登记")
    if condition == TrancheCondition.ON_MIDTERM_PASS and project.midterm_failed_on is not None:
        raise ProjectError("中期评估不合格的项目不能再登记为中期评估合格")
    on = on or today_local()
    setattr(project, Project.CONDITION_FIELDS[condition], on)
    audit.record("project.condition_met", project, after={"condition": condition, "on": on}, actor=by)
    if condition == TrancheCondition.ON_SIGNING and project.status == ProjectStatus.LAUNCHED:
        transition(project, ProjectStatus.CONTRACTED, by=by, note="合同已签订")
    opened = []
    for t in project.tranches:
        if t.condition == condition and t.status == TrancheStatus.PENDING:
            transition(t, TrancheStatus.REQUESTABLE, by=by, note=condition.label)
            opened.append(t)
    db.session.flush()
    return opened


def stop_next_tranche(project: Project, *, by, reason: str) -> Tranche | None:
    """A 不合格 mid-term (or a breach): the next unpaid tranche is stopped and can no longer be requested."""
    _require_manager(project.org, by)
    reason = (reason or "").strip()
    if not reason:
        raise ProjectError("请填写停止拨付的理由")
    for t in project.tranches:
        if t.status in (TrancheStatus.PENDING, TrancheStatus.REQUESTABLE):
            t.stop_reason = reason
            transition(t, TrancheStatus.STOPPED, by=by, note=reason)
            audit.record("tranche.stopped", t, before={"amount": t.amount}, note=reason, actor=by)
            db.session.flush()
            return t
        if t.status != TrancheStatus.PAID and t.status != TrancheStatus.STOPPED:
            raise ProjectError(f"第{t.sequence}期拨付正在办理中，不能停止")
    return None


def record_midterm_failed(project: Project, *, by, on: date | None = None) -> Tranche | None:
    """中期评估不合格: remembered on the project, and the next tranche is stopped.

    "The next tranche" is the one that waits for the mid-term (条件：中期评估合格后): it can never be met
    now, whether or not the signing tranche is still being paid. A schedule without such a tranche stops
    the next unpaid one instead (stop_next_tranche). Returns the stopped tranche, or None.
    """
    _require_manager(project.org, by)
    if project.midterm_passed_on is not None:
        raise ProjectError("该项目已登记中期评估合格")
    if project.midterm_failed_on is not None:
        raise ProjectError("该项目已登记中期评估不合格")
    reason = "中期评估不合格，停止拨付下一期资金"
    waiting = [t for t in project.tranches if t.condition == TrancheCondition.ON_MIDTERM_PASS
               and t.status in (TrancheStatus.PENDING, TrancheStatus.REQUESTABLE)]
    project.midterm_failed_on = on or today_local()
    if not waiting:
        return stop_next_tranche(project, by=by, reason=reason)
    for t in waiting:
        t.stop_reason = reason
        transition(t, TrancheStatus.STOPPED, by=by, note=reason)
        audit.record("tranche.stopped", t, before={"amount": t.amount}, note=reason, actor=by)
    db.session.flush()
    return waiting[0]


# ---------------------------------------------------------------- payments

def request_payment(tranche: Tranche, *, by) -> PaymentRequest:
    """The organisation (or its staff) asks for a tranche whose condition is met."""
    project = tranche.project
    if not (project.org.is_member(by) or project.can_manage(by)):
        raise NotAllowed("只有项目承接组织或辖区民政工作人员可以申请拨付")
    if tranche.status == TrancheStatus.STOPPED:
        raise ProjectError(f"第{tranche.sequence}期拨付已停止：{tranche.stop_reason or ''}".rstrip("："))
    if tranche.payment is not None or tranche.status not in (TrancheStatus.PENDING, TrancheStatus.REQUESTABLE):
        raise ProjectError(f"第{tranche.sequence}期已申请拨付，不能重复申请")
    if not project.condition_met(tranche.condition) or tranche.status != TrancheStatus.REQUESTABLE:
        raise ProjectError(f"第{tranche.sequence}期的拨付条件（{tranche.condition.label}）尚未满足，不能申请拨付")
    if project.status in (ProjectStatus.CLOSED, ProjectStatus.TERMINATED):
        raise ProjectError("项目已结项或终止，不能申请拨付")
    req = PaymentRequest(tranche=tranche, amount=tranche.amount, status=PaymentStatus.REQUESTED,
                         requested_by_id=by.id, requested_at=utcnow())
    db.session.add(req)
    db.session.flush()
    transition(tranche, TrancheStatus.REQUESTED, by=by)
    audit.record("payment.requested", req, after={"tranche_id": tranche.id, "amount": tranche.amount}, actor=by)
    db.session.flush()
    return req


def approve_by_staff(request: PaymentRequest, *, by) -> PaymentRequest:
    tranche = request.tranche
    if not tranche.project.can_manage(by):
        raise NotAllowed("只有项目所在辖区的民政工作人员可以审核拨付申请")
    if request.status != PaymentStatus.REQUESTED:
        raise ProjectError("该拨付申请不在待业务审核状态")
    request.staff_approved_by_id = by.id
    request.staff_approved_at = utcnow()
    transition(request, PaymentStatus.STAFF_APPROVED, by=by)
    transition(tranche, TrancheStatus.APPROVED_BY_STAFF, by=by)
    audit.record("payment.staff_approved", request, after={"amount": request.amount}, actor=by)
    db.session.flush()
    return request


def approve_by_finance(request: PaymentRequest, *, by, paid_on: date, voucher_no: str) -> PaymentRequest:
    """Finance pays: the request row is locked (SELECT … FOR UPDATE) and re-read, so it is paid once."""
    from incubator.accounts.models import Role

    if not (getattr(by, "is_authenticated", False) and by.role == Role.FINANCE):
        raise NotAllowed("只有财务人员可以审核拨付")
    voucher_no = (voucher_no or "").strip()
    if not voucher_no:
        raise ProjectError("请填写付款凭证号")
    if paid_on is None:
        raise ProjectError("请填写拨付日期")
    if paid_on > today_local():
        raise ProjectError("拨付日期不能晚于今天")
    locked = db.session.execute(
        select(PaymentRequest).where(PaymentRequest.id == request.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if locked.status != PaymentStatus.STAFF_APPROVED:
        if locked.status == PaymentStatus.PAID:
            raise ProjectError("该拨付申请已拨付，不能重复拨付")
        raise ProjectError("该拨付申请尚未通过业务审核")
    tranche = db.session.execute(
        select(Tranche).where(Tranche.id == locked.tranche_id).execution_options(populate_existing=True)
    ).scalar_one()
    locked.finance_approved_by_id = by.id
    locked.finance_approved_at = utcnow()
    locked.paid_on = paid_on
    locked.voucher_no = voucher_no
    transition(locked, PaymentStatus.PAID, by=by, note=f"凭证号 {voucher_no}")
    tranche.paid_on = paid_on
    tranche.voucher_no = voucher_no
    transition(tranche, TrancheStatus.PAID, by=by, note=f"凭证号 {voucher_no}")
    audit.record("payment.paid", locked, after={"amount": locked.amount, "paid_on": paid_on, "voucher_no": voucher_no,
                                                "project_id": tranche.project_id, "tranche": tranche.sequence},
                 actor=by)
    project = tranche.project
    if project.status == ProjectStatus.CONTRACTED:
        transition(project, ProjectStatus.IN_PROGRESS, by=by, note="首期资金已拨付")
    db.session.flush()
    return locked


def close_project(project: Project, *, by, note: str | None = None) -> Project:
    _require_manager(project.org, by)
    transition(project, ProjectStatus.CLOSED, by=by, note=note)
    return project


def terminate_project(project: Project, *, by, reason: str) -> Project:
    """已终止: every tranche not yet in payment is stopped (exit, settlement and refund come later)."""
    _require_manager(project.org, by)
    reason = (reason or "").strip()
    if not reason:
        raise ProjectError("请填写终止理由")
    transition(project, ProjectStatus.TERMINATED, by=by, note=reason)
    for t in project.tranches:
        if t.status in (TrancheStatus.PENDING, TrancheStatus.REQUESTABLE):
            t.stop_reason = reason
            transition(t, TrancheStatus.STOPPED, by=by, note=reason)
    db.session.flush()
    return project


# ---------------------------------------------------------------- defaults, lists and queues (the hub's pages)

def default_plan(project: Project) -> list[tuple[Decimal, TrancheCondition]]:
    """The tranche plan a new schedule starts from: the call's (Call.tranche_plan_rows), else 50/30/20."""
    from incubator.calls.models import DEFAULT_TRANCHE_PLAN

    if project.call is not None:
        rows = project.call.tranche_plan_rows
    else:
        rows = [(Decimal(s), c) for s, c in DEFAULT_TRANCHE_PLAN]
    return [(Decimal(share), TrancheCondition(condition)) for share, condition in rows]


def launch_defaults(application: Application) -> dict:
    """Prefill of the 立项 form from a funded application and its approved grant."""
    from incubator.publicity.models import FundingItem

    item = db.session.scalar(select(FundingItem).where(FundingItem.application_id == application.id))
    amount = item.amount if item is not None and item.active else application.grant_requested
    call = application.call
    start = application.period_start or today_local()
    end = application.period_end or (add_years(start, 1) - timedelta(days=1))
    lines = [line for line in (application.summary, application.service_communities) if line]
    return {
        "title": application.title,
        "amount": amount,
        "term_start": start,
        "term_end": end,
        "purchasing_department": call.district.name + "民政局" if call.district is not None else "市民政局",
        "service_content": "\n".join(lines),
        "quantity": f"直接受益{application.beneficiaries_count}人" if application.beneficiaries_count else "",
        # budget_line is left blank on purpose: staff name the approved budget line themselves
        # (预算未批复不得立项), it is not derived from the call.
        "budget_year": call.year,
    }


def granted_amount(application: Application) -> Decimal | None:
    from incubator.publicity.models import FundingItem

    item = db.session.scalar(select(FundingItem).where(FundingItem.application_id == application.id))
    return item.amount if item is not None and item.active else None


def _scope(stmt, user, org_column=None):
    """Restrict a statement joined to Organization to what ``user`` may see (None = nothing)."""
    from incubator.accounts.models import Role
    from incubator.orgs.models import Organization

    if not getattr(user, "is_authenticated", False):
        return None
    if user.role == Role.APPLICANT:
        return stmt.where(Organization.id == user.org_id) if user.org_id else None
    if user.role == Role.FINANCE or user.role == Role.ADMIN or getattr(user, "is_city_staff", False):
        return stmt
    if user.role == Role.STAFF:
        return stmt.where(Organization.district_id == user.district_id)
    return None


def project_query(user, *, q: str = "", status: str = "", kind: str = "", year: int | None = None,
                  district_id: int | None = None, org_id: int | None = None):
    """The projects ``user`` may see, filtered; newest first (None when the user sees none)."""
    from sqlalchemy import or_
    from sqlalchemy.orm import selectinload

    from incubator.orgs.models import Organization

    stmt = select(Project).join(Organization, Project.org_id == Organization.id)
    stmt = _scope(stmt, user)
    if stmt is None:
        return None
    q = (q or "").strip()[:100]
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(or_(Project.number.ilike(pattern, escape="\\"), Project.title.ilike(pattern, escape="\\"),
                              Organization.name.ilike(pattern, escape="\\")))
    if status in {m.value for m in ProjectStatus}:
        stmt = stmt.where(Project.status == ProjectStatus(status))
    if kind in {m.value for m in ProjectKind}:
        stmt = stmt.where(Project.kind == ProjectKind(kind))
    if year:
        stmt = stmt.where(Project.budget_year == year)
    if district_id:
        stmt = stmt.where(Organization.district_id == district_id)
    if org_id:
        stmt = stmt.where(Project.org_id == org_id)
    return stmt.options(selectinload(Project.org).selectinload(Organization.district),
                        selectinload(Project.tranches)).order_by(Project.launched_at.desc(), Project.id.desc())


def project_years(user) -> list[int]:
    stmt = project_query(user)
    if stmt is None:
        return []
    sub = stmt.options().order_by(None).with_only_columns(Project.budget_year).distinct()
    return sorted({y for y in db.session.scalars(sub)}, reverse=True)


def supplier_query(user, q: str = ""):
    """Verified organisations in ``user``'s scope, for the supplier (承接主体) of a purchase."""
    from incubator.orgs.models import Organization, Verification

    stmt = select(Organization).where(Organization.status == Verification.VERIFIED)
    stmt = _scope(stmt, user)
    if stmt is None:
        return select(Organization).where(Organization.id == -1)
    q = (q or "").strip()[:100]
    if q:
        from sqlalchemy import or_

        pattern = like_pattern(q)
        stmt = stmt.where(or_(Organization.name.ilike(pattern, escape="\\"), Organization.uscc.ilike(pattern, escape="\\")))
    return stmt.order_by(Organization.name)


def to_launch_query(user):
    """Funded (已确定资助) applications without a project, in the scope of staff ``user``."""
    from incubator.accounts.models import Role
    from incubator.orgs.models import Organization

    if not getattr(user, "is_authenticated", False) or user.role not in (Role.STAFF, Role.ADMIN):
        return None
    stmt = (select(Application).join(Organization, Application.org_id == Organization.id)
            .outerjoin(Project, Project.application_id == Application.id)
            .where(Application.status == ApplicationStatus.FUNDED, Project.id.is_(None)))
    return _scope(stmt, user).order_by(Application.number)


def payment_query(user, *, state: str = "waiting", q: str = "", district_id: int | None = None):
    """Payment requests for the finance queue / staff approval: ``state`` waiting (待财务审核), requested
    (待业务审核) or paid (已拨付, newest first)."""
    from sqlalchemy import or_
    from sqlalchemy.orm import selectinload

    from incubator.orgs.models import Organization

    stmt = (select(PaymentRequest).join(Tranche, PaymentRequest.tranche_id == Tranche.id)
            .join(Project, Tranche.project_id == Project.id).join(Organization, Project.org_id == Organization.id))
    stmt = _scope(stmt, user)
    if stmt is None:
        return None
    wanted = {"waiting": PaymentStatus.STAFF_APPROVED, "requested": PaymentStatus.REQUESTED,
              "paid": PaymentStatus.PAID}.get(state, PaymentStatus.STAFF_APPROVED)
    stmt = stmt.where(PaymentRequest.status == wanted)
    q = (q or "").strip()[:100]
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(or_(Project.number.ilike(pattern, escape="\\"), Project.title.ilike(pattern, escape="\\"),
                              Organization.name.ilike(pattern, escape="\\"),
                              PaymentRequest.voucher_no.ilike(pattern, escape="\\")))
    if district_id:
        stmt = stmt.where(Organization.district_id == district_id)
    order = ((PaymentRequest.paid_on.desc(), PaymentRequest.id.desc()) if wanted == PaymentStatus.PAID
             else (PaymentRequest.staff_approved_at, PaymentRequest.requested_at, PaymentRequest.id))
    return stmt.options(
        selectinload(PaymentRequest.tranche).selectinload(Tranche.project).selectinload(Project.org)
        .selectinload(Organization.district),
        selectinload(PaymentRequest.requested_by), selectinload(PaymentRequest.staff_approved_by),
    ).order_by(*order)


def _count(stmt) -> int:
    if stmt is None:
        return 0
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(stmt.options().order_by(None).subquery())) or 0


def count_payments(user, state: str = "waiting") -> int:
    """How many payment requests of ``state`` (see payment_query) ``user`` sees."""
    return _count(payment_query(user, state=state))


def count_payments_to_approve(user) -> int:
    """Requests waiting for staff approval that ``user`` (staff) may approve."""
    from incubator.accounts.models import Role

    if not getattr(user, "is_authenticated", False) or user.role != Role.STAFF:
        return 0
    return _count(payment_query(user, state="requested"))


def count_payments_to_pay(user) -> int:
    from incubator.accounts.models import Role

    if not getattr(user, "is_authenticated", False) or user.role != Role.FINANCE:
        return 0
    return _count(payment_query(user, state="waiting"))


def count_to_launch(user) -> int:
    from incubator.accounts.models import Role

    if not getattr(user, "is_authenticated", False) or user.role != Role.STAFF:
        return 0
    return _count(to_launch_query(user))


def count_staff_waiting(user) -> int:
    """Payments to approve plus funded applications to launch, in one statement (the nav shows it on every page)."""
    from sqlalchemy import func

    from incubator.accounts.models import Role

    if not getattr(user, "is_authenticated", False) or user.role != Role.STAFF:
        return 0
    parts = [q for q in (payment_query(user, state="requested"), to_launch_query(user)) if q is not None]
    if not parts:
        return 0
    counts = [select(func.count()).select_from(q.order_by(None).subquery()).scalar_subquery() for q in parts]
    return sum(db.session.execute(select(*counts)).one())


def count_own_projects(user) -> int:
    from incubator.accounts.models import Role

    if not getattr(user, "is_authenticated", False) or user.role != Role.APPLICANT:
        return 0
    return _count(project_query(user))


FIRST_PAYMENT_WORKDAYS = 15  # first payment within 15 working days of signing (Zhongshan practice, DOMAIN.md)


def payment_due(tranche: Tranche) -> date | None:
    """When a tranche should be paid: the first within 15 working days of signing; later ones: no date."""
    from incubator.core.workdays import add_workdays

    project = tranche.project
    if tranche.sequence != 1 or project.signed_on is None:
        return None
    try:
        return add_workdays(project.signed_on, FIRST_PAYMENT_WORKDAYS)
    except Exception:  # noqa: BLE001 - a calendar year nobody has entered yet: no due date rather than a guess
        return None


def _due_note(due: date | None, today: date) -> tuple[bool, str]:
    if due is None:
        return False, ""
    days = (due - today).days
    if days < 0:
        return True, f"逾期{-days}天"
    return False, "今天到期" if days == 0 else f"还剩{days}天"


def desk_items(user) -> list:
    """The hub's part of the staff desk: payments to approve (staff of the district), payments to pay
    (finance), funded applications waiting for 立项 (staff)."""
    from flask import url_for

    from incubator.accounts.models import Role
    from incubator.projects.desk import DeskItem

    if not getattr(user, "is_authenticated", False):
        return []
    today = today_local()
    items: list = []
    if user.role == Role.STAFF:
        stmt = payment_query(user, state="requested")
        for req in db.session.scalars(stmt) if stmt is not None else []:
            t = req.tranche
            due = payment_due(t)
            overdue, note = _due_note(due, today)
            items.append(DeskItem(area="拨付审核", title=f"{t.project.number} {t.project.title}：第{t.sequence}期拨付申请待审核",
                                  url=url_for("projects.tranches", project_id=t.project_id), due=due, overdue=overdue,
                                  note=note or f"¥{req.amount:,.2f}"))
        stmt = to_launch_query(user)
        for app in db.session.scalars(stmt) if stmt is not None else []:
            items.append(DeskItem(area="待立项", title=f"{app.number} {app.title}：已确定资助，待立项",
                                  url=url_for("projects.launch_from_application", app_id=app.id), note=app.org.name))
    if user.role == Role.FINANCE:
        stmt = payment_query(user, state="waiting")
        for req in db.session.scalars(stmt) if stmt is not None else []:
            t = req.tranche
            due = payment_due(t)
            overdue, note = _due_note(due, today)
            items.append(DeskItem(area="财务拨付", title=f"{t.project.number} {t.project.title}：第{t.sequence}期待拨付",
                                  url=url_for("projects.tranches", project_id=t.project_id), due=due, overdue=overdue,
                                  note=note or f"¥{req.amount:,.2f}"))
    return items


__all__ = [
    "ProjectError", "NotAllowed", "add_years", "check_term", "launch_from_application", "launch_purchase",
    "set_tranche_schedule", "mark_condition_met", "stop_next_tranche", "record_midterm_failed", "request_payment",
    "approve_by_staff", "approve_by_finance", "close_project", "terminate_project", "project_for_application",
    "default_plan", "launch_defaults", "granted_amount", "project_query", "project_years", "supplier_query",
    "to_launch_query", "payment_query", "count_payments", "count_payments_to_approve", "count_payments_to_pay", "count_to_launch", "count_staff_waiting",
    "count_own_projects", "payment_due", "desk_items",
]
