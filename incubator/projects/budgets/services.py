"""Services of a project's budget: approval, adjustments, expenses and the figures of the budget page.

They take model objects and typed keyword arguments, change data, flush and never commit. Refusals
raise ``BudgetError`` (Chinese message); a user without the right raises ``NotAllowed``; a step in the
wrong state raises ``incubator.core.states.InvalidTransition``.

Cross-area interface: ``verified_total(project)`` (verified expenses) and ``spent_total(project)``
(every recorded expense that was not returned), both exact Decimals summed as integer 分 in SQL.

Rules kept here:
- The budget is approved once by staff (from the application's lines, or lines staff enter for a
  purchase); its grant lines sum exactly to the project amount; the call's category caps hold.
- A line's recorded spending (expenses not returned) never exceeds its approved amount. The only way
  to spend more on a line is an applied adjustment that moves money to it from a line of the same
  funding source (grant ↔ grant, matching ↔ matching), never below what that line has spent.
- An adjustment above LARGE_ADJUSTMENT_SHARE of its source line needs city staff after district staff.
- Finance and organisations never change approved amounts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Integer, case, func, select, type_coerce

from incubator.applications.models import FundingSource
from incubator.calls.models import BudgetCategory, CallBudgetCap
from incubator.core import audit
from incubator.core.files import save_upload
from incubator.core.states import transition
from incubator.db import CENT, from_fen, today_local, utcnow
from incubator.extensions import db
from incubator.projects.budgets.models import (
    SPENT_STATUSES,
    WAITING_STATUSES,
    AdjustmentStatus,
    BudgetAdjustment,
    BudgetLine,
    Expense,
    ExpenseReceipt,
    ExpenseStatus,
)
from incubator.projects.models import ProjectStatus

# A move of more than this share (%) of the source line's approved amount needs city approval as well.
# DOMAIN.md has no national figure; 10 % is the common local rule (issue 5: "default 10% of a line").
LARGE_ADJUSTMENT_SHARE = Decimal("10")
RECEIPT_TYPES = ("pdf", "jpg", "jpeg", "png")
MAX_RECEIPTS = 10
MAX_TEXT = 2000
MAX_ITEM = 200
OPEN_STATUSES = (ProjectStatus.LAUNCHED, ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS)
ZERO = Decimal("0.00")


class BudgetError(Exception):
    """A refused change; the message is Chinese and shown to the user."""


class NotAllowed(BudgetError):
    pass


def money(value: Decimal) -> str:
    return f"¥{value:,.2f}"


# ---------------------------------------------------------------- totals (cross-area interface)

def _fen(column):
    """The Money column as its raw integer 分, so that SQL sums stay integer."""
    return type_coerce(column, Integer)


def _sum(project, statuses, source=None) -> Decimal:
    query = (select(func.coalesce(func.sum(_fen(Expense.amount)), 0))
             .where(Expense.project_id == project.id, Expense.status.in_(statuses)))
    if source is not None:
        query = query.join(BudgetLine, BudgetLine.id == Expense.line_id).where(BudgetLine.source == source)
    return from_fen(int(db.session.execute(query).scalar_one()))


def verified_total(project, source=None) -> Decimal:
    """Sum of the project's verified (已核实) expenses; of one FundingSource's lines when ``source`` is given
    (exit settles the grant against grant-line spending only: matching funds are the organisation's own)."""
    return _sum(project, (ExpenseStatus.VERIFIED,), source)


def spent_total(project, source=None) -> Decimal:
    """Sum of the project's recorded expenses that were not returned (待核实, 已重新提交, 已核实)."""
    return _sum(project, SPENT_STATUSES, source)


# ---------------------------------------------------------------- permissions

def can_manage(project, user) -> bool:
    """Staff of the project's district (city staff: every project)."""
    return project.can_manage(user)


def can_record(project, user) -> bool:
    """Members of the project's organisation, while the project runs."""
    return project.org.is_member(user) and project.status in OPEN_STATUSES


def is_city_staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and bool(getattr(user, "is_city_staff", False))


def _require_manager(project, by) -> None:
    if not can_manage(project, by):
        raise NotAllowed("只有项目所在辖区的民政工作人员可以办理")


def _require_member(project, by) -> None:
    if not project.org.is_member(by):
        raise NotAllowed("只有承接项目的组织可以办理")


def _require_open(project) -> None:
    if project.status not in OPEN_STATUSES:
        raise BudgetError(f"项目{project.status.label}，预算与支出不能再变更")


# ---------------------------------------------------------------- input checks

def _amount(value, *, what: str = "金额", positive: bool = True) -> Decimal:
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int)):
        raise BudgetError(f"{what}必须是精确的数值")
    value = Decimal(value)
    if not value.is_finite():
        raise BudgetError(f"{what}格式不正确")
    if value != value.quantize(CENT):
        raise BudgetError(f"{what}最多保留两位小数（精确到分）")
    if value < 0 or (positive and value == 0):
        raise BudgetError(f"{what}必须大于0" if positive else f"{what}不能为负数")
    if value > Decimal("9999999999.99"):
        raise BudgetError(f"{what}数值过大")
    return value.quantize(CENT)


def _text(value: str | None, *, what: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise BudgetError(f"请填写{what}")
    if len(text) > limit:
        raise BudgetError(f"{what}不能超过{limit}字")
    return text


# ---------------------------------------------------------------- lines and figures

def lines(project) -> list[BudgetLine]:
    return list(db.session.scalars(
        select(BudgetLine).where(BudgetLine.project_id == project.id).order_by(BudgetLine.position, BudgetLine.id)))


def is_approved(project) -> bool:
    return db.session.scalar(select(func.count(BudgetLine.id)).where(BudgetLine.project_id == project.id)) > 0


def execution_rate(verified: Decimal, approved: Decimal) -> Decimal | None:
    """Verified ÷ approved as a percentage with two decimals; None when nothing is approved."""
    if not approved:
        return None
    return (verified * 100 / approved).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class LineFigures:
    line: BudgetLine | None
    approved: Decimal = ZERO
    spent: Decimal = ZERO
    verified: Decimal = ZERO
    waiting: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.approved - self.spent

    @property
    def rate(self) -> Decimal | None:
        return execution_rate(self.verified, self.approved)


@dataclass
class BudgetFigures:
    rows: list[LineFigures] = field(default_factory=list)
    total: LineFigures = field(default_factory=lambda: LineFigures(None))
    by_source: dict[FundingSource, LineFigures] = field(default_factory=dict)


def _line_sums(project) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """{line id: (spent, verified, waiting)} in one grouped query, integer 分 in SQL."""
    fen = _fen(Expense.amount)
    rows = db.session.execute(
        select(
            Expense.line_id,
            func.coalesce(func.sum(case((Expense.status.in_(SPENT_STATUSES), fen), else_=0)), 0),
            func.coalesce(func.sum(case((Expense.status == ExpenseStatus.VERIFIED, fen), else_=0)), 0),
            func.coalesce(func.sum(case((Expense.status.in_(WAITING_STATUSES), fen), else_=0)), 0),
        ).where(Expense.project_id == project.id).group_by(Expense.line_id)
    ).all()
    return {r[0]: (from_fen(int(r[1])), from_fen(int(r[2])), from_fen(int(r[3]))) for r in rows}


def line_spent(line: BudgetLine, *, excluding: Expense | None = None) -> Decimal:
    query = select(func.coalesce(func.sum(_fen(Expense.amount)), 0)).where(
        Expense.line_id == line.id, Expense.status.in_(SPENT_STATUSES))
    if excluding is not None and excluding.id is not None:
        query = query.where(Expense.id != excluding.id)
    return from_fen(int(db.session.execute(query).scalar_one()))


def figures(project) -> BudgetFigures:
    """Per line: approved, spent (recorded, not returned), verified, remaining, execution rate; totals."""
    sums = _line_sums(project)
    out = BudgetFigures()
    for line in lines(project):
        spent, verified, waiting = sums.get(line.id, (ZERO, ZERO, ZERO))
        row = LineFigures(line, line.approved, spent, verified, waiting)
        out.rows.append(row)
        for agg in (out.total, out.by_source.setdefault(line.source, LineFigures(None))):
            agg.approved += row.approved
            agg.spent += row.spent
            agg.verified += row.verified
            agg.waiting += row.waiting
    return out


# ---------------------------------------------------------------- category caps of the call

def _caps(project) -> list[CallBudgetCap]:
    if project.call_id is None:
        return []
    return list(db.session.scalars(select(CallBudgetCap).where(CallBudgetCap.call_id == project.call_id)))


def check_caps(project, amounts: list[tuple[BudgetCategory, Decimal]]) -> None:
    """Each capped category's share of the whole budget (grant + matching) stays within the call's cap."""
    total = sum((a for _, a in amounts), ZERO)
    if total <= 0:
        return
    sums: dict[BudgetCategory, Decimal] = {}
    for category, amount in amounts:
        sums[category] = sums.get(category, ZERO) + amount
    for cap in _caps(project):
        spent = sums.get(cap.category, ZERO)
        share = Decimal(cap.max_share)
        if spent * 100 > total * share:
            actual = (spent * 100 / total).quantize(CENT)
            raise BudgetError(f"“{cap.category.label}”合计{money(spent)}，占总预算的{actual.normalize():f}%，"
                              f"超过本批次上限{share.normalize():f}%")


# ---------------------------------------------------------------- approval (核定预算)

@dataclass
class LineInput:
    category: BudgetCategory
    item: str
    amount: Decimal
    source: FundingSource = FundingSource.GRANT
    note: str = ""


def proposed_lines(project) -> list[LineInput]:
    """The application's budget rows (complete ones), as the starting point of the approval form."""
    application = project.application
    if application is None:
        return []
    out = []
    for row in sorted(application.budget_lines, key=lambda r: (r.position, r.id)):
        if row.amount is None or not (row.item or "").strip():
            continue
        out.append(LineInput(category=row.category or BudgetCategory.OTHER, item=row.item.strip()[:MAX_ITEM],
                             amount=row.amount, source=row.source or FundingSource.GRANT, note=(row.note or "")[:MAX_TEXT]))
    return out


def approve_budget(project, rows: list[LineInput], *, by, note: str | None = None) -> list[BudgetLine]:
    """核定预算, once: the grant lines sum exactly to the project amount and the call's caps hold."""
    _require_manager(project, by)
    _require_open(project)
    if is_approved(project):
        raise BudgetError("预算已核定，不能重复核定；如需变更，请通过预算调整办理")
    if not rows:
        raise BudgetError("请至少填写一个预算科目")
    clean: list[LineInput] = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row.category, BudgetCategory):
            raise BudgetError(f"第{n}行：请选择预算科目")
        if not isinstance(row.source, FundingSource):
            raise BudgetError(f"第{n}行：请选择资金来源")
        try:
            amount = _amount(row.amount, what=f"第{n}行金额", positive=False)
            item = _text(row.item, what=f"第{n}行的支出内容", limit=MAX_ITEM)
            line_note = _text(row.note, what=f"第{n}行的测算说明", required=False)
        except BudgetError:
            raise
        clean.append(LineInput(row.category, item, amount, row.source, line_note))
    grant = sum((r.amount for r in clean if r.source == FundingSource.GRANT), ZERO)
    if grant != project.amount:
        raise BudgetError(f"资助资金部分合计{money(grant)}，须等于立项金额{money(project.amount)}"
                          f"（相差{money(abs(project.amount - grant))}）")
    check_caps(project, [(r.category, r.amount) for r in clean])
    created = []
    for position, row in enumerate(clean, start=1):
        line = BudgetLine(project_id=project.id, position=position, category=row.category, item=row.item,
                          approved=row.amount, source=row.source, note=row.note)
        db.session.add(line)
        created.append(line)
    db.session.flush()
    total = sum((r.amount for r in clean), ZERO)
    audit.record("budget.approved", project, after={
        "total": total, "grant": grant, "matching": total - grant,
        "lines": [{"category": r.category, "item": r.item, "amount": r.amount, "source": r.source} for r in clean],
    }, note=_text(note, what="备注", required=False) or None, actor=by)
    db.session.flush()
    return created


def approve_from_application(project, *, by) -> list[BudgetLine]:
    rows = proposed_lines(project)
    if not rows:
        raise BudgetError("申报书中没有可用的预算明细，请逐项填写预算")
    return approve_budget(project, rows, by=by)


def _amounts_after(project, changes: dict[int, Decimal]) -> list[tuple[BudgetCategory, Decimal]]:
    return [(line.category, changes.get(line.id, line.approved)) for line in lines(project)]


def _lock(line: BudgetLine) -> BudgetLine:
    """Re-read a line under a row lock (PostgreSQL: SELECT … FOR UPDATE; SQLite serialises writers)."""
    return db.session.execute(
        select(BudgetLine).where(BudgetLine.id == line.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def revise_line(line: BudgetLine, *, by, reason: str, item: str | None = None, note: str | None = None,
                approved: Decimal | None = None) -> BudgetLine:
    """Staff revise one line directly, with a reason (audited). The approved amount of a grant line can only
    change through a move (the grant lines always sum to the project amount); no line drops below its spending."""
    project = line.project
    _require_manager(project, by)
    _require_open(project)
    reason = _text(reason, what="调整理由")
    line = _lock(line)
    before = {"item": line.item, "note": line.note, "approved": line.approved}
    if item is not None:
        line.item = _text(item, what="支出内容", limit=MAX_ITEM)
    if note is not None:
        line.note = _text(note, what="测算说明", required=False)
    if approved is not None:
        approved = _amount(approved, what="核定金额", positive=False)
        if approved != line.approved:
            if line.source == FundingSource.GRANT:
                raise BudgetError("资助资金各科目合计须等于立项金额：请通过“科目间调剂”调整资助资金")
            spent = line_spent(line)
            if approved < spent:
                raise BudgetError(f"“{line.label}”已记录支出{money(spent)}，核定金额不能低于该数")
            check_caps(project, _amounts_after(project, {line.id: approved}))
            line.approved = approved
    after = {"item": line.item, "note": line.note, "approved": line.approved}
    if after == before:
        raise BudgetError("没有需要保存的修改")
    db.session.flush()
    audit.record("budget_line.revised", line, before=before, after=after, note=reason, actor=by)
    db.session.flush()
    return line


def add_line(project, *, by, category: BudgetCategory, item: str, source: FundingSource, reason: str,
             note: str = "") -> BudgetLine:
    """A new line with nothing approved yet; money reaches it through a move."""
    _require_manager(project, by)
    _require_open(project)
    if not is_approved(project):
        raise BudgetError("请先核定预算")
    if not isinstance(category, BudgetCategory) or not isinstance(source, FundingSource):
        raise BudgetError("请选择预算科目和资金来源")
    reason = _text(reason, what="增设理由")
    position = (db.session.scalar(select(func.max(BudgetLine.position)).where(BudgetLine.project_id == project.id)) or 0) + 1
    line = BudgetLine(project_id=project.id, position=position, category=category,
                      item=_text(item, what="支出内容", limit=MAX_ITEM), approved=ZERO, source=source,
                      note=_text(note, what="测算说明", required=False))
    db.session.add(line)
    db.session.flush()
    audit.record("budget_line.added", line, after={"category": category, "item": line.item, "source": source},
                 note=reason, actor=by)
    db.session.flush()
    return line


# ---------------------------------------------------------------- adjustments (预算调整)

def needs_city(amount: Decimal, from_line: BudgetLine) -> bool:
    """More than LARGE_ADJUSTMENT_SHARE % of the source line's approved amount."""
    return amount * 100 > from_line.approved * LARGE_ADJUSTMENT_SHARE


def _check_move(project, from_line: BudgetLine, to_line: BudgetLine, amount: Decimal) -> None:
    if from_line.project_id != project.id or to_line.project_id != project.id:
        raise BudgetError("只能在本项目的预算科目之间调剂")
    if from_line.id == to_line.id:
        raise BudgetError("调出科目和调入科目不能相同")
    if from_line.source != to_line.source:
        raise BudgetError("资助资金与配套资金之间不能相互调剂")
    available = from_line.approved - line_spent(from_line)
    if amount > available:
        raise BudgetError(f"“{from_line.label}”可调出金额为{money(max(available, ZERO))}，调剂金额不能超过该数")
    check_caps(project, _amounts_after(project, {from_line.id: from_line.approved - amount,
                                                 to_line.id: to_line.approved + amount}))


def request_adjustment(project, *, from_line: BudgetLine, to_line: BudgetLine, amount: Decimal, reason: str,
                       by) -> BudgetAdjustment:
    """The organisation asks to move money between two lines of its budget (staff decide)."""
    _require_member(project, by)
    _require_open(project)
    amount = _amount(amount, what="调剂金额")
    reason = _text(reason, what="调剂理由")
    _check_move(project, from_line, to_line, amount)
    adj = BudgetAdjustment(project_id=project.id, from_line_id=from_line.id, to_line_id=to_line.id, amount=amount,
                           reason=reason, requires_city=needs_city(amount, from_line),
                           status=AdjustmentStatus.REQUESTED, requested_by_id=by.id, requested_at=utcnow())
    db.session.add(adj)
    db.session.flush()
    audit.record("budget_adjustment.requested", adj, after={
        "from_line": from_line.label, "to_line": to_line.label, "amount": amount, "requires_city": adj.requires_city,
    }, note=reason, actor=by)
    db.session.flush()
    return adj


def _apply(adj: BudgetAdjustment, *, by) -> None:
    project = adj.project
    from_line, to_line = _lock(adj.from_line), _lock(adj.to_line)
    _check_move(project, from_line, to_line, adj.amount)
    before = {"from": from_line.approved, "to": to_line.approved}
    from_line.approved = from_line.approved - adj.amount
    to_line.approved = to_line.approved + adj.amount
    db.session.flush()
    audit.record("budget.moved", adj, before=before, after={"from": from_line.approved, "to": to_line.approved},
                 note=f"{from_line.label} → {to_line.label}：{money(adj.amount)}", actor=by)
    transition(adj, AdjustmentStatus.APPLIED, by=by)


def approve_adjustment(adj: BudgetAdjustment, *, by) -> BudgetAdjustment:
    """District (or city) staff approve; a large move then waits for city staff, who apply it."""
    project = adj.project
    _require_manager(project, by)
    _require_open(project)
    now = utcnow()
    if adj.status == AdjustmentStatus.REQUESTED:
        adj.staff_approved_by_id, adj.staff_approved_at = by.id, now
        if adj.requires_city and not is_city_staff(by):
            # still a valid move? refuse early rather than pass an impossible one upwards
            _check_move(project, adj.from_line, adj.to_line, adj.amount)
            transition(adj, AdjustmentStatus.STAFF_APPROVED, by=by)
            return adj
        if adj.requires_city:
            adj.city_approved_by_id, adj.city_approved_at = by.id, now
        _apply(adj, by=by)
        return adj
    if adj.status == AdjustmentStatus.STAFF_APPROVED:
        if not is_city_staff(by):
            raise NotAllowed(f"调剂金额超过调出科目核定金额的{LARGE_ADJUSTMENT_SHARE.normalize():f}%，须由市级民政部门审核")
        adj.city_approved_by_id, adj.city_approved_at = by.id, now
        _apply(adj, by=by)
        return adj
    transition(adj, AdjustmentStatus.APPLIED, by=by)  # raises InvalidTransition (applied / rejected)
    return adj


def reject_adjustment(adj: BudgetAdjustment, *, by, reason: str) -> BudgetAdjustment:
    project = adj.project
    _require_manager(project, by)
    if adj.status == AdjustmentStatus.STAFF_APPROVED and not is_city_staff(by):
        raise NotAllowed("该调剂已通过业务审核，待市级民政部门审核")
    reason = _text(reason, what="驳回理由")
    adj.reject_reason = reason
    adj.rejected_by_id, adj.rejected_at = by.id, utcnow()
    transition(adj, AdjustmentStatus.REJECTED, by=by, note=reason)
    return adj


def staff_move(project, *, from_line: BudgetLine, to_line: BudgetLine, amount: Decimal, reason: str,
               by) -> BudgetAdjustment:
    """Staff move money between lines directly, with a reason; a large move still needs city staff."""
    _require_manager(project, by)
    _require_open(project)
    amount = _amount(amount, what="调剂金额")
    reason = _text(reason, what="调剂理由")
    _check_move(project, from_line, to_line, amount)
    adj = BudgetAdjustment(project_id=project.id, project=project, from_line_id=from_line.id, to_line_id=to_line.id,
                           amount=amount, reason=reason, requires_city=needs_city(amount, from_line),
                           status=AdjustmentStatus.REQUESTED, requested_by_id=by.id, requested_at=utcnow())
    db.session.add(adj)
    db.session.flush()
    audit.record("budget_adjustment.by_staff", adj, after={
        "from_line": from_line.label, "to_line": to_line.label, "amount": amount, "requires_city": adj.requires_city,
    }, note=reason, actor=by)
    return approve_adjustment(adj, by=by)


def adjustments(project) -> list[BudgetAdjustment]:
    return list(db.session.scalars(
        select(BudgetAdjustment).where(BudgetAdjustment.project_id == project.id).order_by(BudgetAdjustment.id.desc())))


# ---------------------------------------------------------------- expenses (支出)

def _check_room(line: BudgetLine, amount: Decimal, *, expense: Expense | None = None) -> None:
    spent = line_spent(line, excluding=expense)
    remaining = line.approved - spent
    if amount > remaining:
        raise BudgetError(f"“{line.label}”剩余可用金额为{money(max(remaining, ZERO))}，本笔支出{money(amount)}超出核定预算；"
                          f"如确需超支，请先申请预算调整")


def _spent_on(value, project) -> date:
    if not isinstance(value, date):
        raise BudgetError("请填写支出日期")
    if value > today_local():
        raise BudgetError("支出日期不能晚于今天")
    if value.year < 2000:
        raise BudgetError("支出日期不正确")
    return value


def _store_receipts(expense: Expense, files, *, by) -> list[ExpenseReceipt]:
    rows = []
    for storage in files:
        sf = save_upload(storage, allowed=RECEIPT_TYPES, by=by)  # UploadRejected: nothing is kept
        row = ExpenseReceipt(expense=expense, file_id=sf.id)
        db.session.add(row)
        rows.append(row)
    return rows


def _receipts(files) -> list:
    files = [f for f in (files or []) if f is not None and getattr(f, "filename", None)]
    if len(files) > MAX_RECEIPTS:
        raise BudgetError(f"每笔支出最多上传{MAX_RECEIPTS}个票据")
    return files


def record_expense(project, *, line: BudgetLine, amount: Decimal, spent_on: date, description: str, payee: str,
                   receipts, by) -> Expense:
    """The organisation records an expense against a line, with at least one receipt (PDF/JPG/PNG)."""
    _require_member(project, by)
    _require_open(project)
    if line.project_id != project.id:
        raise BudgetError("请选择本项目的预算科目")
    amount = _amount(amount, what="支出金额")
    spent_on = _spent_on(spent_on, project)
    description = _text(description, what="支出事由")
    payee = _text(payee, what="收款单位（人）", limit=200)
    files = _receipts(receipts)
    if not files:
        raise BudgetError("请上传至少一张票据（发票、收据或签收单，PDF/JPG/PNG）")
    line = _lock(line)
    _check_room(line, amount)
    expense = Expense(project_id=project.id, line_id=line.id, line=line, amount=amount, spent_on=spent_on,
                      description=description, payee=payee, status=ExpenseStatus.SUBMITTED,
                      submitted_by_id=by.id, submitted_at=utcnow())
    db.session.add(expense)
    db.session.flush()
    _store_receipts(expense, files, by=by)
    db.session.flush()
    audit.record("expense.recorded", expense, after={"line": line.label, "amount": amount, "spent_on": spent_on,
                                                     "payee": payee, "receipts": len(files)}, actor=by)
    db.session.flush()
    return expense


def resubmit_expense(expense: Expense, *, by, line: BudgetLine | None = None, amount: Decimal | None = None,
                     spent_on: date | None = None, description: str | None = None, payee: str | None = None,
                     receipts=None) -> Expense:
    """A returned expense, corrected (any field, more receipts), goes back to staff."""
    project = expense.project
    _require_member(project, by)
    _require_open(project)
    if expense.status != ExpenseStatus.RETURNED:
        transition(expense, ExpenseStatus.RESUBMITTED, by=by)  # raises InvalidTransition
    before = {"line": expense.line.label, "amount": expense.amount, "spent_on": expense.spent_on,
              "description": expense.description, "payee": expense.payee}
    target = line or expense.line
    if target.project_id != project.id:
        raise BudgetError("请选择本项目的预算科目")
    new_amount = _amount(amount, what="支出金额") if amount is not None else expense.amount
    new_day = _spent_on(spent_on, project) if spent_on is not None else expense.spent_on
    new_description = _text(description, what="支出事由") if description is not None else expense.description
    new_payee = _text(payee, what="收款单位（人）", limit=200) if payee is not None else expense.payee
    files = _receipts(receipts)
    if len(expense.receipts) + len(files) > MAX_RECEIPTS:
        raise BudgetError(f"每笔支出最多上传{MAX_RECEIPTS}个票据")
    target = _lock(target)
    _check_room(target, new_amount, expense=expense)
    expense.line_id, expense.line = target.id, target
    expense.amount, expense.spent_on = new_amount, new_day
    expense.description, expense.payee = new_description, new_payee
    _store_receipts(expense, files, by=by)
    db.session.flush()
    after = {"line": target.label, "amount": new_amount, "spent_on": new_day, "description": new_description,
             "payee": new_payee}
    audit.record("expense.corrected", expense, before=before, after=after | {"receipts_added": len(files)}, actor=by)
    transition(expense, ExpenseStatus.RESUBMITTED, by=by)
    return expense


def verify_expense(expense: Expense, *, by) -> Expense:
    _require_manager(expense.project, by)
    transition(expense, ExpenseStatus.VERIFIED, by=by)
    expense.verified_by_id, expense.verified_at = by.id, utcnow()
    db.session.flush()
    return expense


def return_expense(expense: Expense, *, by, reason: str) -> Expense:
    _require_manager(expense.project, by)
    reason = _text(reason, what="退回原因")
    if ExpenseStatus.RETURNED not in Expense.TRANSITIONS.get(expense.status, set()):
        transition(expense, ExpenseStatus.RETURNED, by=by)  # raises InvalidTransition
    expense.return_reason = reason
    expense.returned_by_id, expense.returned_at = by.id, utcnow()
    transition(expense, ExpenseStatus.RETURNED, by=by, note=reason)
    return expense


def expenses_query(project, *, line_id: int | None = None, status: ExpenseStatus | None = None):
    query = select(Expense).where(Expense.project_id == project.id)
    if line_id is not None:
        query = query.where(Expense.line_id == line_id)
    if status is not None:
        query = query.where(Expense.status == status)
    return query.order_by(Expense.spent_on.desc(), Expense.id.desc())


def receipt_of(project, receipt_id: int) -> ExpenseReceipt | None:
    row = db.session.get(ExpenseReceipt, receipt_id)
    if row is None or row.expense.project_id != project.id:
        return None
    return row


# ---------------------------------------------------------------- staff desk

def desk_items(user) -> list:
    """Expenses waiting for verification and adjustments waiting for this user (district or city staff)."""
    from incubator.accounts.models import Role
    from incubator.orgs.models import Organization
    from incubator.projects.desk import DeskItem
    from incubator.projects.models import Project

    if not (getattr(user, "is_authenticated", False) and user.role == Role.STAFF):
        return []
    from flask import url_for

    # only running projects: a closed or terminated budget can no longer change (_require_open)
    scope = (select(Project.id).join(Organization, Organization.id == Project.org_id)
             .where(Project.status.in_(OPEN_STATUSES)))
    if not user.is_city_staff:
        scope = scope.where(Organization.district_id == user.district_id)
    items = []
    waiting = db.session.execute(
        select(Project, func.count(Expense.id), func.min(Expense.submitted_at))
        .join(Expense, Expense.project_id == Project.id)
        .where(Expense.status.in_(WAITING_STATUSES), Project.id.in_(scope))
        .group_by(Project.id).order_by(Project.id)
    ).all()
    for project, count, _first in waiting:
        items.append(DeskItem(area="支出核实", title=f"{project.number} {project.title}：{count}笔支出待核实",
                              url=url_for("budgets.project_budget", project_id=project.id, status="waiting") + "#expenses",
                              note=f"{count}笔"))
    stages = [AdjustmentStatus.REQUESTED] + ([AdjustmentStatus.STAFF_APPROVED] if user.is_city_staff else [])
    pending = db.session.execute(
        select(BudgetAdjustment, Project).join(Project, Project.id == BudgetAdjustment.project_id)
        .where(BudgetAdjustment.status.in_(stages), Project.id.in_(scope)).order_by(BudgetAdjustment.id)
    ).all()
    for adj, project in pending:
        stage = "待市级审核" if adj.status == AdjustmentStatus.STAFF_APPROVED else "待审核"
        items.append(DeskItem(area="预算调整", title=f"{project.number} {project.title}：预算调剂{money(adj.amount)}{stage}",
                              url=url_for("budgets.project_budget", project_id=project.id) + f"#adjustment-{adj.id}",
                              note="须市级审核" if adj.requires_city else ""))
    return items
