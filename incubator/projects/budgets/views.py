"""Pages of the project's budgets area (tab 预算与支出).

  GET       /projects/<id>/budget                          budget table, adjustments, expenses (filters, pages)
  GET/POST  /projects/<id>/budget/approve                  staff: 核定预算 (from the application, or entered)
  GET/POST  /projects/<id>/budget/lines/<line_id>          staff: revise a line with a reason
  GET/POST  /projects/<id>/budget/lines/new                staff: add a line (nothing approved yet)
  GET/POST  /projects/<id>/budget/move                     staff: move money between lines directly
  GET/POST  /projects/<id>/budget/adjustments/new          organisation: ask for an adjustment
  POST      /projects/<id>/budget/adjustments/<a>/approve  staff (city staff for large ones)
  POST      /projects/<id>/budget/adjustments/<a>/reject   staff, with a reason
  GET/POST  /projects/<id>/expenses/new                    organisation: record an expense with receipts
  GET/POST  /projects/<id>/expenses/<e>                    an expense; organisation: correct and resubmit
  POST      /projects/<id>/expenses/<e>/verify             staff
  POST      /projects/<id>/expenses/<e>/return             staff, with a reason
  GET       /projects/<id>/receipts/<r>                    a receipt, for whoever sees the project

Finance and admins see every page of a project in their view but change nothing (403 on every POST).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from incubator.applications.models import FundingSource
from incubator.calls.models import BudgetCategory
from incubator.core.files import UploadRejected, send_stored
from incubator.core.ids import as_id
from incubator.core.states import InvalidTransition
from incubator.extensions import db
from incubator.projects.access import load_project
from incubator.projects.budgets import forms, services
from incubator.projects.budgets.models import (
    ADJUSTMENT_TONES,
    EXPENSE_TONES,
    WAITING_STATUSES,
    AdjustmentStatus,
    BudgetAdjustment,
    BudgetLine,
    Expense,
    ExpenseStatus,
)
from incubator.projects.budgets.services import BudgetError, LineInput, NotAllowed

bp = Blueprint("budgets", __name__)
PER_PAGE = 20
TAB = "budgets.project_budget"


def _line_or_404(project, line_id: int) -> BudgetLine:
    line = db.session.get(BudgetLine, line_id)
    if line is None or line.project_id != project.id:
        abort(404)
    return line


def _expense_or_404(project, expense_id: int) -> Expense:
    expense = db.session.get(Expense, expense_id)
    if expense is None or expense.project_id != project.id:
        abort(404)
    return expense


def _adjustment_or_404(project, adjustment_id: int) -> BudgetAdjustment:
    adj = db.session.get(BudgetAdjustment, adjustment_id)
    if adj is None or adj.project_id != project.id:
        abort(404)
    return adj


def _line_choices(project, *, placeholder: str = "请选择") -> list[tuple[str, str]]:
    return [("", placeholder)] + [
        (str(line.id), f"{line.category.label}·{line.item}（{line.source.label}，核定{services.money(line.approved)}）")
        for line in services.lines(project)]


def _chosen_line(project, raw) -> BudgetLine | None:
    line_id = as_id(raw)
    line = db.session.get(BudgetLine, line_id) if line_id else None
    return line if line is not None and line.project_id == project.id else None


def _refused(exc: Exception) -> int:
    if isinstance(exc, NotAllowed):
        abort(403)
    db.session.rollback()
    flash(str(exc), "danger")
    return 409 if isinstance(exc, InvalidTransition) else 422


def _context(project, **kw) -> dict:
    return {"project": project, "active_tab": TAB, **kw}


# ---------------------------------------------------------------- the budget page

def _filters(project):
    args = request.args
    line = _chosen_line(project, args.get("line"))
    raw_status = (args.get("status") or "").strip()
    status = None
    if raw_status == "waiting":
        statuses = WAITING_STATUSES
    else:
        status = next((s for s in ExpenseStatus if s.value == raw_status), None)
        statuses = (status,) if status else None
        raw_status = raw_status if status else ""
    return line, raw_status, statuses


def _render_budget(project, *, status: int = 200, return_form=None, reject_form=None, failed_id=None):
    figures = services.figures(project)
    line, raw_status, statuses = _filters(project)
    stmt = services.expenses_query(project, line_id=line.id if line else None)
    if statuses:
        stmt = stmt.where(Expense.status.in_(statuses))
    stmt = stmt.options(selectinload(Expense.line), selectinload(Expense.receipts), selectinload(Expense.submitted_by))
    page_no = as_id(request.args.get("page")) or 1
    page = db.paginate(stmt, page=page_no, per_page=PER_PAGE, error_out=False)
    adjustments = list(db.session.scalars(
        db.select(BudgetAdjustment).where(BudgetAdjustment.project_id == project.id)
        .options(selectinload(BudgetAdjustment.from_line), selectinload(BudgetAdjustment.to_line),
                 selectinload(BudgetAdjustment.requested_by))
        .order_by(BudgetAdjustment.id.desc())))
    manage = services.can_manage(project, current_user)
    return render_template(
        "projects/budgets/budget.html", **_context(project, page_title="预算与支出"),
        figures=figures, approved=bool(figures.rows), page=page, adjustments=adjustments,
        line_filter=line, status_filter=raw_status, line_choices=_line_choices(project, placeholder="全部科目"),
        status_choices=[("", "全部状态"), ("waiting", "待核实（含重新提交）")] + [(s.value, s.label) for s in ExpenseStatus],
        manage=manage, city=services.is_city_staff(current_user), member=services.can_record(project, current_user),
        expense_tones=EXPENSE_TONES, adjustment_tones=ADJUSTMENT_TONES, AdjustmentStatus=AdjustmentStatus,
        ExpenseStatus=ExpenseStatus, share=services.LARGE_ADJUSTMENT_SHARE,
        action_form=forms.ConfirmForm(), return_form=return_form, reject_form=reject_form, failed_id=failed_id,
        FundingSource=FundingSource,
    ), status


@bp.get("/projects/<int:project_id>/budget")
@login_required
def project_budget(project_id: int):
    return _render_budget(load_project(project_id))


# ---------------------------------------------------------------- approval

def _approval_form(project):
    form = forms.ApproveBudgetForm()
    if request.method == "GET":
        proposed = services.proposed_lines(project)
        for row in proposed:
            form.rows.append_entry({"category": row.category.value, "item": row.item, "amount": row.amount,
                                    "source": row.source.value, "note": row.note})
        if proposed:
            form.rows.entries.pop(0)  # the min_entries blank row
        for _ in range(3):
            form.rows.append_entry()
    return form


def _rows(form) -> tuple[list[LineInput], bool]:
    rows, ok = [], True
    for n, sub in enumerate(form.rows.entries, start=1):
        sub = sub.form
        if sub.is_blank:
            continue
        category = next((c for c in BudgetCategory if c.value == sub.category.data), None)
        source = next((s for s in FundingSource if s.value == sub.source.data), None)
        if category is None:
            sub.category.errors = [*sub.category.errors, "请选择预算科目"]
            ok = False
        if sub.amount.data is None and not sub.amount.errors:
            sub.amount.errors = [*sub.amount.errors, "请填写核定金额"]
            ok = False
        if not (sub.item.data or "").strip():
            sub.item.errors = [*sub.item.errors, "请填写支出内容"]
            ok = False
        if ok:
            rows.append(LineInput(category, sub.item.data, sub.amount.data, source, sub.note.data or ""))
    return rows, ok


@bp.route("/projects/<int:project_id>/budget/approve", methods=["GET", "POST"])
@login_required
def approve_budget(project_id: int):
    project = load_project(project_id, need="manage")
    if services.is_approved(project):
        flash("预算已核定；如需变更，请使用科目间调剂或修改科目", "info")
        return redirect(url_for(TAB, project_id=project.id))
    form = _approval_form(project)
    status = 200
    if request.method == "POST":
        valid = form.validate()
        rows, rows_ok = _rows(form)
        if valid and rows_ok:
            try:
                services.approve_budget(project, rows, by=current_user, note=form.note.data)
            except BudgetError as exc:
                status = _refused(exc)
            else:
                db.session.commit()
                flash("预算已核定", "success")
                return redirect(url_for(TAB, project_id=project.id))
        else:
            status = 422
    return render_template("projects/budgets/approve.html", **_context(project, page_title="核定预算"), form=form,
                           from_application=project.application is not None), status


# ---------------------------------------------------------------- staff: revise, add, move

@bp.route("/projects/<int:project_id>/budget/lines/<int:line_id>", methods=["GET", "POST"])
@login_required
def revise_line(project_id: int, line_id: int):
    project = load_project(project_id, need="manage")
    line = _line_or_404(project, line_id)
    form = forms.ReviseLineForm(obj=line if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                services.revise_line(line, by=current_user, reason=form.reason.data, item=form.item.data,
                                     note=form.note.data or "", approved=form.approved.data)
            except BudgetError as exc:
                status = _refused(exc)
            else:
                db.session.commit()
                flash("预算科目已修改", "success")
                return redirect(url_for(TAB, project_id=project.id))
        else:
            status = 422
    return render_template("projects/budgets/line_form.html", **_context(project, page_title="修改预算科目"),
                           form=form, line=line, spent=services.line_spent(line)), status


@bp.route("/projects/<int:project_id>/budget/lines/new", methods=["GET", "POST"])
@login_required
def add_line(project_id: int):
    project = load_project(project_id, need="manage")
    form = forms.AddLineForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                services.add_line(project, by=current_user, category=BudgetCategory(form.category.data),
                                  item=form.item.data, source=FundingSource(form.source.data),
                                  reason=form.reason.data, note=form.note.data or "")
            except BudgetError as exc:
                status = _refused(exc)
            else:
                db.session.commit()
                flash("已增设预算科目；可通过科目间调剂为其安排资金", "success")
                return redirect(url_for(TAB, project_id=project.id))
        else:
            status = 422
    return render_template("projects/budgets/line_form.html", **_context(project, page_title="增设预算科目"),
                           form=form, line=None, spent=None), status


def _move_form(project):
    form = forms.MoveForm()
    choices = _line_choices(project)
    form.from_line.choices = choices
    form.to_line.choices = choices
    return form


def _move(project, *, staff: bool):
    form = _move_form(project)
    status = 200
    if request.method == "POST":
        if form.validate():
            from_line = _chosen_line(project, form.from_line.data)
            to_line = _chosen_line(project, form.to_line.data)
            try:
                if from_line is None or to_line is None:
                    raise BudgetError("请选择本项目的调出科目和调入科目")
                call = services.staff_move if staff else services.request_adjustment
                adj = call(project, from_line=from_line, to_line=to_line, amount=form.amount.data,
                           reason=form.reason.data, by=current_user)
            except BudgetError as exc:
                status = _refused(exc)
            else:
                db.session.commit()
                if adj.status == AdjustmentStatus.APPLIED:
                    flash("调剂已生效", "success")
                elif adj.status == AdjustmentStatus.STAFF_APPROVED:
                    flash("调剂金额较大，已提交市级民政部门审核", "info")
                else:
                    flash("预算调整申请已提交，等待民政工作人员审核"
                          + ("（金额较大，还须市级审核）" if adj.requires_city else ""), "success")
                return redirect(url_for(TAB, project_id=project.id) + f"#adjustment-{adj.id}")
        else:
            status = 422
    return render_template("projects/budgets/move.html",
                           **_context(project, page_title="科目间调剂" if staff else "申请预算调整"),
                           form=form, staff=staff, figures=services.figures(project),
                           share=services.LARGE_ADJUSTMENT_SHARE), status


@bp.route("/projects/<int:project_id>/budget/move", methods=["GET", "POST"])
@login_required
def staff_move(project_id: int):
    project = load_project(project_id, need="manage")
    if not services.is_approved(project):
        abort(404)
    return _move(project, staff=True)


# ---------------------------------------------------------------- adjustments

@bp.route("/projects/<int:project_id>/budget/adjustments/new", methods=["GET", "POST"])
@login_required
def request_adjustment(project_id: int):
    project = load_project(project_id, need="member")
    if not services.is_approved(project):
        abort(404)
    return _move(project, staff=False)


@bp.post("/projects/<int:project_id>/budget/adjustments/<int:adjustment_id>/approve")
@login_required
def approve_adjustment(project_id: int, adjustment_id: int):
    project = load_project(project_id, need="manage")
    adj = _adjustment_or_404(project, adjustment_id)
    if not forms.ConfirmForm().validate():
        abort(400)
    try:
        services.approve_adjustment(adj, by=current_user)
    except (BudgetError, InvalidTransition) as exc:
        return _render_budget(project, status=_refused(exc))
    db.session.commit()
    flash("调剂已生效" if adj.status == AdjustmentStatus.APPLIED else "已审核，等待市级民政部门审核", "success")
    return redirect(url_for(TAB, project_id=project.id) + f"#adjustment-{adj.id}")


@bp.post("/projects/<int:project_id>/budget/adjustments/<int:adjustment_id>/reject")
@login_required
def reject_adjustment(project_id: int, adjustment_id: int):
    project = load_project(project_id, need="manage")
    adj = _adjustment_or_404(project, adjustment_id)
    form = forms.ReasonForm()
    if not form.validate():
        flash("请填写驳回理由", "danger")
        return _render_budget(project, status=422, reject_form=form, failed_id=adj.id)
    try:
        services.reject_adjustment(adj, by=current_user, reason=form.reason.data)
    except (BudgetError, InvalidTransition) as exc:
        return _render_budget(project, status=_refused(exc), reject_form=form, failed_id=adj.id)
    db.session.commit()
    flash("预算调整已驳回", "success")
    return redirect(url_for(TAB, project_id=project.id) + f"#adjustment-{adj.id}")


# ---------------------------------------------------------------- expenses

def _expense_form(project, expense: Expense | None = None):
    form = forms.ExpenseForm(obj=expense if expense is not None and request.method == "GET" else None)
    form.line.choices = _line_choices(project)
    if expense is not None and request.method == "GET":
        form.line.data = str(expense.line_id)
    return form


def _files():
    return [f for f in request.files.getlist("receipts") if f and f.filename]


@bp.route("/projects/<int:project_id>/expenses/new", methods=["GET", "POST"])
@login_required
def new_expense(project_id: int):
    project = load_project(project_id, need="member")
    if not services.is_approved(project):
        flash("预算尚未核定，暂不能登记支出", "warning")
        return redirect(url_for(TAB, project_id=project.id))
    form = _expense_form(project)
    status = 200
    if request.method == "POST":
        if form.validate():
            line = _chosen_line(project, form.line.data)
            try:
                if line is None:
                    raise BudgetError("请选择本项目的预算科目")
                expense = services.record_expense(
                    project, line=line, amount=form.amount.data, spent_on=form.spent_on.data,
                    description=form.description.data, payee=form.payee.data, receipts=_files(), by=current_user)
            except (BudgetError, UploadRejected) as exc:
                status = _refused(exc)
            else:
                db.session.commit()
                flash("支出已登记，等待民政工作人员核实", "success")
                return redirect(url_for("budgets.expense_detail", project_id=project.id, expense_id=expense.id))
        else:
            status = 422
    return render_template("projects/budgets/expense_form.html", **_context(project, page_title="登记支出"),
                           form=form, expense=None, figures=services.figures(project)), status


@bp.route("/projects/<int:project_id>/expenses/<int:expense_id>", methods=["GET", "POST"])
@login_required
def expense_detail(project_id: int, expense_id: int):
    project = load_project(project_id, need="member" if request.method == "POST" else "view")
    expense = _expense_or_404(project, expense_id)
    editable = expense.status == ExpenseStatus.RETURNED and services.can_record(project, current_user)
    form = _expense_form(project, expense) if editable or request.method == "POST" else None
    status = 200
    if request.method == "POST":
        if not editable:
            flash(f"该支出{expense.status.label}，不能修改", "danger")
            status = 409
        elif form.validate():
            line = _chosen_line(project, form.line.data)
            try:
                if line is None:
                    raise BudgetError("请选择本项目的预算科目")
                services.resubmit_expense(expense, by=current_user, line=line, amount=form.amount.data,
                                          spent_on=form.spent_on.data, description=form.description.data,
                                          payee=form.payee.data, receipts=_files())
            except (BudgetError, UploadRejected, InvalidTransition) as exc:
                status = _refused(exc)
                expense = _expense_or_404(project, expense_id)
            else:
                db.session.commit()
                flash("支出已修改并重新提交", "success")
                return redirect(url_for("budgets.expense_detail", project_id=project.id, expense_id=expense.id))
        else:
            status = 422
    return render_template("projects/budgets/expense.html", **_context(project, page_title="支出详情"),
                           expense=expense, form=form, editable=editable, tones=EXPENSE_TONES,
                           manage=services.can_manage(project, current_user), action_form=forms.ConfirmForm(),
                           return_form=forms.ReasonForm(formdata=None), figures=services.figures(project)), status


@bp.post("/projects/<int:project_id>/expenses/<int:expense_id>/verify")
@login_required
def verify_expense(project_id: int, expense_id: int):
    project = load_project(project_id, need="manage")
    expense = _expense_or_404(project, expense_id)
    if not forms.ConfirmForm().validate():
        abort(400)
    try:
        services.verify_expense(expense, by=current_user)
    except (BudgetError, InvalidTransition) as exc:
        return _render_budget(project, status=_refused(exc))
    db.session.commit()
    flash(f"支出{services.money(expense.amount)}已核实", "success")
    return redirect(request.form.get("back") == "detail"
                    and url_for("budgets.expense_detail", project_id=project.id, expense_id=expense.id)
                    or url_for(TAB, project_id=project.id, status="waiting") + "#expenses")


@bp.post("/projects/<int:project_id>/expenses/<int:expense_id>/return")
@login_required
def return_expense(project_id: int, expense_id: int):
    project = load_project(project_id, need="manage")
    expense = _expense_or_404(project, expense_id)
    form = forms.ReasonForm()
    if not form.validate():
        flash("请填写退回原因", "danger")
        return _render_budget(project, status=422, return_form=form, failed_id=expense.id)
    try:
        services.return_expense(expense, by=current_user, reason=form.reason.data)
    except (BudgetError, InvalidTransition) as exc:
        return _render_budget(project, status=_refused(exc), return_form=form, failed_id=expense.id)
    db.session.commit()
    flash("支出已退回，组织可修改后重新提交", "success")
    return redirect(url_for(TAB, project_id=project.id, status="waiting") + "#expenses")


@bp.get("/projects/<int:project_id>/receipts/<int:receipt_id>")
@login_required
def receipt(project_id: int, receipt_id: int):
    project = load_project(project_id)
    row = services.receipt_of(project, receipt_id)
    if row is None:
        abort(404)
    return send_stored(row.file)
