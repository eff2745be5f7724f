"""结项与退出: closing a project, terminating it, the settlement, refund receipts and debarment.

``close(project, *, by, note=None) -> Settlement``
    结项 by staff of the project's district, only when the final evaluation passed
    (``project.final_accepted_on``) and every tranche is paid or stopped; every unmet condition is named
    at once (``CloseRefused.reasons``). Computes the settlement and calls
    ``incubator.projects.services.close_project``.
``terminate(project, *, reason_kind, detail, debar=None, debar_years=None, override_reason=None, by)``
    终止 by staff of the project's district: ``incubator.projects.services.terminate_project`` (unpaid
    tranches stop), the settlement, and — when debarred — a 禁入期 credit record
    (``incubator.orgs.services.add_credit_record``) from today for ``debar_years`` years, which
    ``incubator.orgs.eligibility.check_eligibility`` enforces on every call (start and submit of an
    application). ``debar=None`` takes the reason's default (``DEBAR_BY_DEFAULT``); departing from it
    needs ``override_reason``. Refused while a tranche payment is in progress (requested or approved by
    staff, not yet paid): a payment finance completes after the settlement would make it wrong.
``record_refund(settlement, *, amount, received_on, voucher_no, file, by) -> RefundReceipt``
    Finance records money returned to the treasury (documented choice: the finance section confirms that
    money was received, as it confirms that money was paid; staff and the organisation see the receipts).
    A partial refund keeps the settlement 待退款; the last one makes it 已退回; more than what is
    outstanding is refused. The settlement row is locked (SELECT … FOR UPDATE): two finance users
    recording at once cannot overpay.
``compute_settlement(project) -> (paid, verified, refund_due)``: refund_due = max(paid − verified, 0), exact.
``desk_items(user)``: refunds outstanding (staff of the district, finance) and projects ready to close.

Services flush and never commit; refusals raise ``ExitError`` (Chinese message), a user without the right
``NotAllowed`` (both are ``incubator.projects.services.ProjectError``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Integer, and_, exists, false, func, or_, select, type_coerce
from sqlalchemy.orm import contains_eager, selectinload

from incubator.core import audit
from incubator.core.states import transition
from incubator.db import today_local, utcnow
from incubator.extensions import db
from incubator.projects.exits.models import (
    DEBAR_BY_DEFAULT,
    MAX_DEBAR_YEARS,
    MIN_DEBAR_YEARS,
    ExitReason,
    RefundReceipt,
    Settlement,
    SettlementKind,
    SettlementStatus,
    Termination,
)
from incubator.projects.models import Project, ProjectStatus, Tranche, TrancheStatus
from incubator.projects.services import NotAllowed, ProjectError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_DETAIL = 2000
MAX_VOUCHER = 60
IN_PAYMENT = (TrancheStatus.REQUESTED, TrancheStatus.APPROVED_BY_STAFF)
DONE = (TrancheStatus.PAID, TrancheStatus.STOPPED)
RECEIPT_EXTENSIONS = ("pdf", "jpg", "jpeg", "png")


class ExitError(ProjectError):
    """A refused close, termination or refund (bad input: 422); the message is Chinese."""

    status_code = 422


class ExitConflict(ExitError):
    """Refused because of the state of things (already closed, payment in progress, nothing to refund): 409."""

    status_code = 409


class CloseRefused(ExitConflict):
    def __init__(self, reasons: list[str]):
        self.reasons = list(reasons)
        super().__init__("不能结项：" + "；".join(self.reasons))


# ---------------------------------------------------------------- rules

def default_debar(reason_kind) -> bool:
    return DEBAR_BY_DEFAULT[ExitReason(reason_kind)]


def default_debar_years() -> int:
    """3 years by default (Zhongshan practice); the ORG_DEBARMENT_MONTHS setting of incubator.orgs.rules."""
    from incubator.orgs.models import CreditKind
    from incubator.orgs.rules import CREDIT_RULES

    months = CREDIT_RULES[CreditKind.DEBARMENT].months() or 36
    return min(max(months // 12, MIN_DEBAR_YEARS), MAX_DEBAR_YEARS)


def debar_end(start_on: date, years: int) -> date:
    from incubator.orgs.rules import add_months

    return add_months(start_on, 12 * years)


def _verified_total(project: Project) -> Decimal:
    """Verified spending on the grant's lines: the organisation's matching funds never offset a refund."""
    from incubator.applications.models import FundingSource
    from incubator.projects.budgets.services import verified_total

    return verified_total(project, FundingSource.GRANT)


def refund_due_of(paid: Decimal, verified: Decimal) -> Decimal:
    """max(paid − verified, 0), exact to the 分 (Decimal, never float)."""
    for value in (paid, verified):
        if isinstance(value, float) or not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise ExitError("结算金额必须是非负的精确数值")
    due = paid - verified
    return max(due, ZERO).quantize(CENT)


def compute_settlement(project: Project) -> tuple[Decimal, Decimal, Decimal]:
    """(paid, verified, refund_due) as they stand now."""
    paid = Decimal(project.paid_total).quantize(CENT)
    verified = Decimal(_verified_total(project)).quantize(CENT)
    return paid, verified, refund_due_of(paid, verified)


def settlement_of(project: Project) -> Settlement | None:
    return db.session.scalar(select(Settlement).where(Settlement.project_id == project.id))


def termination_of(project: Project) -> Termination | None:
    return db.session.scalar(select(Termination).where(Termination.project_id == project.id))


def _require_manager(project: Project, by) -> None:
    if not project.can_manage(by):
        raise NotAllowed("只有项目所在辖区的民政工作人员可以办理结项或终止")


def _require_open(project: Project) -> None:
    if project.status == ProjectStatus.CLOSED:
        raise ExitConflict("项目已结项")
    if project.status == ProjectStatus.TERMINATED:
        raise ExitConflict("项目已终止")
    if settlement_of(project) is not None:
        raise ExitConflict("该项目已办理结算")


def _lock_tranches(project: Project) -> None:
    """Lock and re-read the project's tranches (PostgreSQL: SELECT … FOR UPDATE).

    A finance approval under way updates its tranche row, so this waits for it to commit and then sees the
    tranche paid; a finance approval that comes after waits for this transaction, and finds the project closed
    or terminated only if no tranche was in payment (termination refuses that)."""
    db.session.execute(select(Tranche).where(Tranche.project_id == project.id).with_for_update()
                       .execution_options(populate_existing=True)).scalars().all()


def _settle(project: Project, *, kind: SettlementKind, by) -> Settlement:
    paid, verified, due = compute_settlement(project)
    status = SettlementStatus.REFUND_DUE if due > 0 else SettlementStatus.SETTLED
    row = Settlement(project_id=project.id, project=project, kind=kind, paid_total=paid, verified_total=verified,
                     refund_due=due, received_total=ZERO, status=status, settled_by_id=by.id, settled_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record("exit.settled", row, after={"project_id": project.id, "kind": kind, "paid_total": paid,
                                             "verified_total": verified, "refund_due": due, "status": status},
                 actor=by)
    return row


# ---------------------------------------------------------------- 结项

def close_problems(project: Project) -> list[str]:
    """Every reason the project cannot close now (empty: it can)."""
    problems: list[str] = []
    if project.status == ProjectStatus.CLOSED:
        return ["项目已结项"]
    if project.status == ProjectStatus.TERMINATED:
        return ["项目已终止"]
    if project.status != ProjectStatus.IN_PROGRESS:
        problems.append(f"项目尚未进入执行阶段（当前状态：{project.status.label}）")
    if project.final_accepted_on is None:
        problems.append("结项评估尚未通过（未登记结项验收）")
    if not project.tranches:
        problems.append("项目没有拨付计划")
    for t in project.tranches:
        if t.status not in DONE:
            problems.append(f"第{t.sequence}期（{t.condition.label}，{t.amount:,.2f}元）尚未拨付（当前：{t.status.label}）")
    return problems


def close(project: Project, *, by, note: str | None = None) -> Settlement:
    _require_manager(project, by)
    _lock_tranches(project)
    problems = close_problems(project)
    if problems:
        raise CloseRefused(problems)
    if settlement_of(project) is not None:
        raise ExitConflict("该项目已办理结算")
    note = (note or "").strip()[:MAX_DETAIL] or None
    settlement = _settle(project, kind=SettlementKind.CLOSE, by=by)
    from incubator.projects.services import close_project

    close_project(project, by=by, note=note or "结项验收通过，资金已结算")
    audit.record("exit.closed", project, after={"settlement_id": settlement.id, "refund_due": settlement.refund_due},
                 note=note, actor=by)
    db.session.flush()
    return settlement


# ---------------------------------------------------------------- 终止

def _check_years(debar_years) -> int:
    if debar_years is None:
        return default_debar_years()
    if isinstance(debar_years, bool) or not isinstance(debar_years, int):
        raise ExitError("禁入年限必须是整数")
    if not MIN_DEBAR_YEARS <= debar_years <= MAX_DEBAR_YEARS:
        raise ExitError(f"禁入年限应为{MIN_DEBAR_YEARS}至{MAX_DEBAR_YEARS}年")
    return debar_years


@dataclass(frozen=True)
class TerminationPreview:
    """What a termination would do now (shown beside the form, before the confirmation)."""

    stopped: list  # tranches that would stop
    stopped_total: Decimal
    in_payment: list  # tranches whose payment is in progress (termination refused until done)
    paid: Decimal
    verified: Decimal
    refund_due: Decimal
    debar_years: int
    debar_until: date


def preview_termination(project: Project) -> TerminationPreview:
    stopped = [t for t in project.tranches if t.status in (TrancheStatus.PENDING, TrancheStatus.REQUESTABLE)]
    paid, verified, due = compute_settlement(project)
    years = default_debar_years()
    return TerminationPreview(stopped=stopped, stopped_total=sum((t.amount for t in stopped), ZERO),
                              in_payment=[t for t in project.tranches if t.status in IN_PAYMENT], paid=paid,
                              verified=verified, refund_due=due, debar_years=years,
                              debar_until=debar_end(today_local(), years))


def terminate(project: Project, *, reason_kind, detail: str, debar: bool | None = None, debar_years: int | None = None,
              override_reason: str | None = None, by) -> Termination:
    from incubator.orgs.models import CreditKind
    from incubator.orgs.services import add_credit_record
    from incubator.projects.services import terminate_project

    _require_manager(project, by)
    _require_open(project)
    _lock_tranches(project)
    try:
        reason = ExitReason(reason_kind)
    except ValueError:
        raise ExitError("请选择终止原因") from None
    detail = (detail or "").strip()
    if not detail:
        raise ExitError("请填写终止的事实与依据")
    if len(detail) > MAX_DETAIL:
        raise ExitError(f"终止说明不能超过{MAX_DETAIL}字")
    busy = [t for t in project.tranches if t.status in IN_PAYMENT]
    if busy:
        names = "、".join(f"第{t.sequence}期" for t in busy)
        raise ExitConflict(f"{names}拨付正在办理中（已申请，财务尚未拨付），请办结后再终止项目")
    if debar is not None and not isinstance(debar, bool):
        raise ExitError("请选择是否禁入")
    default = default_debar(reason)
    chosen = default if debar is None else debar
    override = (override_reason or "").strip() or None
    if chosen != default and override is None:
        what = "不予禁入" if default else "予以禁入"
        raise ExitError(f"终止原因为“{reason.label}”时默认{'禁入' if default else '不禁入'}；{what}须填写理由")
    if override is not None and len(override) > MAX_DETAIL:
        raise ExitError(f"理由不能超过{MAX_DETAIL}字")
    years = _check_years(debar_years) if chosen else None
    if not chosen and debar_years is not None:
        _check_years(debar_years)  # a bad number is refused even when unused

    today = today_local()
    terminate_project(project, by=by, reason=f"{reason.label}：{detail}")
    settlement = _settle(project, kind=SettlementKind.EXIT, by=by)
    record = None
    until = None
    if chosen:
        until = debar_end(today, years)
        record = add_credit_record(
            project.org, by=by, kind=CreditKind.DEBARMENT,
            reason=f"项目{project.number}《{project.title}》因{reason.label}终止：{detail}",
            source=f"项目终止决定（{project.number}）；中山市公益创投实施办法（违约者3年内不得申报）"[:200],
            start_on=today, end_on=until,
        )
    row = Termination(project_id=project.id, project=project, reason_kind=reason, detail=detail, decided_by_id=by.id,
                      decided_at=utcnow(), debar=chosen, debar_years=years, debar_until=until,
                      debar_override=override if chosen != default else None,
                      credit_record_id=record.id if record is not None else None)
    db.session.add(row)
    db.session.flush()
    audit.record("exit.terminated", project,
                 after={"termination_id": row.id, "reason_kind": reason, "debar": chosen, "debar_years": years,
                        "debar_until": until, "credit_record_id": row.credit_record_id,
                        "settlement_id": settlement.id, "refund_due": settlement.refund_due},
                 note=override, actor=by)
    db.session.flush()
    return row


# ---------------------------------------------------------------- refunds

def _is_finance(user) -> bool:
    from incubator.accounts.models import Role

    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.FINANCE


def can_record_refund(user) -> bool:
    return _is_finance(user)


def _check_amount(amount) -> Decimal:
    if isinstance(amount, (float, bool)) or not isinstance(amount, (Decimal, int)):
        raise ExitError("金额必须是精确的数值")
    amount = Decimal(amount)
    if not amount.is_finite():
        raise ExitError("金额格式不正确")
    if amount != amount.quantize(CENT):
        raise ExitError("金额最多保留两位小数（精确到分）")
    if amount <= 0:
        raise ExitError("退款金额必须大于0")
    return amount.quantize(CENT)


def record_refund(settlement: Settlement, *, amount, received_on: date, voucher_no: str, file, by) -> RefundReceipt:
    if not _is_finance(by):
        raise NotAllowed("只有财务人员可以登记退款到账")
    amount = _check_amount(amount)
    voucher_no = (voucher_no or "").strip()
    if not voucher_no:
        raise ExitError("请填写退款凭证号")
    if len(voucher_no) > MAX_VOUCHER:
        raise ExitError(f"凭证号不能超过{MAX_VOUCHER}个字符")
    if received_on is None:
        raise ExitError("请填写到账日期")
    if received_on > today_local():
        raise ExitError("到账日期不能晚于今天")
    if file is None:
        raise ExitError("请上传退款凭证（银行回单）")
    locked = db.session.execute(
        select(Settlement).where(Settlement.id == settlement.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if received_on < locked.settled_at.date():
        raise ExitError("到账日期不能早于结算日期")
    if locked.status == SettlementStatus.SETTLED:
        raise ExitConflict("该项目结算无应退资金，无需登记退款")
    if locked.status == SettlementStatus.REFUNDED:
        raise ExitConflict("应退资金已全部退回")
    if any(r.voucher_no == voucher_no for r in locked.receipts):
        raise ExitError(f"凭证号 {voucher_no} 已登记过")
    outstanding = locked.outstanding
    if amount > outstanding:
        raise ExitError(f"退款金额超过尚未退回的金额（{outstanding:,.2f}元）")
    receipt = RefundReceipt(settlement=locked, amount=amount, received_on=received_on, voucher_no=voucher_no,
                            file_id=file.id, recorded_by_id=by.id, recorded_at=utcnow())
    db.session.add(receipt)
    db.session.flush()
    before = {"received_total": locked.received_total}
    locked.received_total = locked.received_total + amount
    if locked.received_total == locked.refund_due:  # the total and the status change in one UPDATE
        transition(locked, SettlementStatus.REFUNDED, by=by, note=f"凭证号 {voucher_no}")
    audit.record("exit.refund_received", locked, before=before,
                 after={"receipt_id": receipt.id, "amount": amount, "received_on": received_on,
                        "voucher_no": voucher_no, "received_total": locked.received_total,
                        "project_id": locked.project_id}, actor=by)
    db.session.flush()
    return receipt


# ---------------------------------------------------------------- lists and the desk

def _district_filter(stmt, user):
    """Staff see their district's projects (city staff and admins: all); finance sees every district."""
    from incubator.accounts.models import Role
    from incubator.orgs.models import Organization

    if user.role in (Role.ADMIN, Role.FINANCE) or getattr(user, "is_city_staff", False):
        return stmt
    if user.role == Role.STAFF:
        return stmt.where(Organization.district_id == user.district_id)
    return stmt.where(false())


def may_list(user) -> bool:
    from incubator.accounts.models import Role

    return bool(getattr(user, "is_authenticated", False)) and user.role in (Role.STAFF, Role.ADMIN, Role.FINANCE)


STATUS_FILTERS = {
    "outstanding": "待退款",
    "refunded": "已退回",
    "settled": "已结清（无应退）",
    "all": "全部",
}


def settlements_query(user, *, status: str = "outstanding", kind: str = "", reason: str = "", q: str = ""):
    """Settlements this user may see, newest first, with project, organisation and termination loaded."""
    from incubator.orgs.models import Organization

    stmt = (
        select(Settlement)
        .join(Settlement.project)
        .join(Project.org)
        .outerjoin(Termination, Termination.project_id == Project.id)
        .options(contains_eager(Settlement.project).contains_eager(Project.org))
    )
    stmt = _district_filter(stmt, user)
    if status == "outstanding":
        stmt = stmt.where(Settlement.status == SettlementStatus.REFUND_DUE)
    elif status in ("refunded", "settled"):
        stmt = stmt.where(Settlement.status == SettlementStatus(status))
    if kind in {k.value for k in SettlementKind}:
        stmt = stmt.where(Settlement.kind == SettlementKind(kind))
    if reason in {r.value for r in ExitReason}:
        stmt = stmt.where(Termination.reason_kind == ExitReason(reason))
    q = (q or "").strip()[:100]
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Project.number.ilike(like, escape="\\"), Project.title.ilike(like, escape="\\"),
                              Organization.name.ilike(like, escape="\\")))
    return stmt.order_by(Settlement.settled_at.desc(), Settlement.id.desc())


def terminations_for(project_ids: list[int]) -> dict[int, Termination]:
    if not project_ids:
        return {}
    rows = db.session.scalars(select(Termination).where(Termination.project_id.in_(project_ids)))
    return {t.project_id: t for t in rows}


def outstanding_totals(user) -> tuple[int, Decimal]:
    """(count, sum) of refunds still outstanding that this user sees."""
    from incubator.orgs.models import Organization

    owed = type_coerce(Settlement.refund_due, Integer) - type_coerce(Settlement.received_total, Integer)
    stmt = (select(func.count(Settlement.id), func.coalesce(func.sum(owed), 0))
            .join(Settlement.project).join(Project.org)
            .where(Settlement.status == SettlementStatus.REFUND_DUE))
    count, total = db.session.execute(_district_filter(stmt, user)).one()
    from incubator.db import from_fen

    return int(count or 0), from_fen(int(total or 0))


def ready_to_close(user) -> list[Project]:
    """In-progress projects of the user's district with final acceptance and every tranche paid or stopped."""
    from incubator.accounts.models import Role
    from incubator.orgs.models import Organization

    if not (getattr(user, "is_authenticated", False) and user.role == Role.STAFF):
        return []
    unfinished = exists().where(and_(Tranche.project_id == Project.id, Tranche.status.not_in(DONE)))
    any_tranche = exists().where(Tranche.project_id == Project.id)
    stmt = (select(Project).join(Project.org).options(contains_eager(Project.org))
            .where(Project.status == ProjectStatus.IN_PROGRESS, Project.final_accepted_on.is_not(None),
                   any_tranche, ~unfinished)
            .order_by(Project.final_accepted_on, Project.id))
    return list(db.session.scalars(_district_filter(stmt, user)))


def desk_items(user) -> list:
    """Refunds outstanding (staff of the district: to chase; finance: to record) and projects ready to close."""
    from flask import url_for

    from incubator.accounts.models import Role
    from incubator.projects.desk import DeskItem

    if not getattr(user, "is_authenticated", False) or user.role not in (Role.STAFF, Role.FINANCE):
        return []
    items: list[DeskItem] = []
    rows = db.session.scalars(settlements_query(user, status="outstanding")).unique().all()
    area = "退款到账登记" if user.role == Role.FINANCE else "应退资金催收"
    for s in rows:
        p = s.project
        received = f"，已退 ¥{s.received_total:,.2f}" if s.received_total else ""
        items.append(DeskItem(area=area, title=f"{p.number} {p.title}：待退回 ¥{s.outstanding:,.2f}",
                              url=url_for("exits.project_exit", project_id=p.id),
                              note=f"应退 ¥{s.refund_due:,.2f}{received}"))
    for p in ready_to_close(user):
        items.append(DeskItem(area="项目结项", title=f"{p.number} {p.title}：可以结项",
                              url=url_for("exits.project_exit", project_id=p.id), due=None,
                              note=f"结项验收 {p.final_accepted_on.year}年{p.final_accepted_on.month}月"
                                   f"{p.final_accepted_on.day}日"))
    return items


def receipts_with_files(settlement: Settlement) -> list[RefundReceipt]:
    return list(db.session.scalars(
        select(RefundReceipt).where(RefundReceipt.settlement_id == settlement.id)
        .options(selectinload(RefundReceipt.file), selectinload(RefundReceipt.recorded_by))
        .order_by(RefundReceipt.received_on, RefundReceipt.id)))


__all__ = [
    "ExitError", "ExitConflict", "CloseRefused", "NotAllowed", "default_debar", "default_debar_years", "debar_end", "refund_due_of",
    "compute_settlement", "settlement_of", "termination_of", "close_problems", "close", "preview_termination",
    "terminate", "can_record_refund", "record_refund", "settlements_query", "terminations_for", "outstanding_totals",
    "ready_to_close", "desk_items", "may_list", "receipts_with_files", "RECEIPT_EXTENSIONS",
]
