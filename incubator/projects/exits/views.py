"""Pages of the project's exits area (结项与退出).

/projects/<id>/exit            the tab: settlement, termination and debarment (everyone who sees the project);
                               staff of the district: the close and termination forms; finance: the refund form
/projects/<id>/exit/close      POST, staff of the district
/projects/<id>/exit/terminate  POST, staff of the district
/projects/<id>/exit/refunds    POST, finance (records money returned, with the bank receipt)
/projects/<id>/exit/refunds/<rid>/file   the receipt file, for whoever sees the project
/staff/exits                   settlements (refunds outstanding first) for staff, admins and finance

Thin views: load (404 / 403), parse, one service call, commit, flash, redirect; a refused form re-renders
with 422 (409 for the wrong state) and keeps what the user typed.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from incubator.core.files import UploadRejected, save_upload, send_stored
from incubator.core.ids import MAX_ID
from incubator.core.states import InvalidTransition
from incubator.db import today_local
from incubator.extensions import db
from incubator.projects.access import load_project
from incubator.projects.exits import forms, services
from incubator.projects.exits.models import (
    REASON_TONES,
    SETTLEMENT_TONES,
    ExitReason,
    RefundReceipt,
    SettlementKind,
)

bp = Blueprint("exits", __name__)
PER_PAGE = 20


def _load(project_id: int, need: str = "view"):
    if project_id > MAX_ID:
        abort(404)
    return load_project(project_id, need=need)


def _render(project, *, close_form=None, terminate_form=None, refund_form=None, status: int = 200):
    settlement = services.settlement_of(project)
    termination = services.termination_of(project)
    manage = project.can_manage(current_user)
    ctx = dict(project=project, active_tab="exits.project_exit", page_title="结项与退出", settlement=settlement,
               termination=termination, receipts=services.receipts_with_files(settlement) if settlement else [],
               manage=manage, finance=services.can_record_refund(current_user), today=today_local(),
               settlement_tones=SETTLEMENT_TONES, reason_tones=REASON_TONES,
               debar_defaults=[(r, services.default_debar(r)) for r in ExitReason])
    if settlement is None and manage:
        ctx.update(close_problems=services.close_problems(project), preview=services.preview_termination(project),
                   close_form=close_form or forms.CloseForm(),
                   terminate_form=terminate_form or forms.TerminateForm(
                       debar_years=services.default_debar_years()))
    elif settlement is None:
        ctx.update(figures=services.compute_settlement(project))
    if settlement is not None and ctx["finance"] and settlement.outstanding > 0:
        ctx["refund_form"] = refund_form or forms.RefundForm(amount=settlement.outstanding, received_on=today_local())
    return render_template("projects/exits/project_exit.html", **ctx), status


@bp.get("/projects/<int:project_id>/exit")
@login_required
def project_exit(project_id: int):
    return _render(_load(project_id))


def _refused(project, exc: Exception, **forms_):
    db.session.rollback()
    project = _load(project.id)
    code = getattr(exc, "status_code", 422)
    if isinstance(exc, (InvalidTransition, StaleDataError)):
        code = 409
        exc = services.ExitError("项目状态已变化，请刷新页面后重试")
    flash(str(exc), "danger" if code == 409 else "warning")
    return _render(project, status=code, **forms_)


@bp.post("/projects/<int:project_id>/exit/close")
@login_required
def close(project_id: int):
    project = _load(project_id, "manage")
    form = forms.CloseForm()
    if not form.validate_on_submit():
        return _render(project, close_form=form, status=422)
    try:
        settlement = services.close(project, by=current_user, note=form.note.data)
    except (services.ExitError, InvalidTransition, StaleDataError) as exc:
        return _refused(project, exc, close_form=form)
    db.session.commit()
    if settlement.refund_due > 0:
        flash(f"项目已结项。未经核定的支出 {settlement.refund_due:,.2f} 元须退回。", "success")
    else:
        flash("项目已结项，资金已结清。", "success")
    return redirect(url_for("exits.project_exit", project_id=project.id))


@bp.post("/projects/<int:project_id>/exit/terminate")
@login_required
def terminate(project_id: int):
    project = _load(project_id, "manage")
    form = forms.TerminateForm()
    if not form.validate_on_submit():
        return _render(project, terminate_form=form, status=422)
    try:
        termination = services.terminate(
            project, reason_kind=form.reason_kind.data, detail=form.detail.data, debar=form.debar_value(),
            debar_years=form.debar_years.data, override_reason=form.override_reason.data, by=current_user)
    except (services.ExitError, InvalidTransition, StaleDataError) as exc:
        return _refused(project, exc, terminate_form=form)
    db.session.commit()
    message = f"项目已终止（{termination.reason_kind.label}）。"
    if termination.debar:
        message += f"承接主体自今日起{termination.debar_years}年内不得申报（至{termination.debar_until:%Y年%m月%d日}）。"
    flash(message, "success")
    return redirect(url_for("exits.project_exit", project_id=project.id))


@bp.post("/projects/<int:project_id>/exit/refunds")
@login_required
def record_refund(project_id: int):
    project = _load(project_id)
    if not services.can_record_refund(current_user):
        abort(403)
    settlement = services.settlement_of(project)
    if settlement is None:
        flash("项目尚未结项或终止，没有应退资金", "danger")
        return _render(project, status=409)
    form = forms.RefundForm()
    if not form.validate_on_submit():
        return _render(project, refund_form=form, status=422)
    upload = request.files.get(form.file.name)
    if upload is None or not upload.filename:
        form.file.errors = ["请上传退款凭证（银行回单）"]
        return _render(project, refund_form=form, status=422)
    try:
        stored = save_upload(upload, allowed=services.RECEIPT_EXTENSIONS, by=current_user)
        services.record_refund(settlement, amount=form.amount.data, received_on=form.received_on.data,
                               voucher_no=form.voucher_no.data, file=stored, by=current_user)
    except UploadRejected as exc:
        db.session.rollback()
        form.file.errors = [str(exc)]
        return _render(_load(project_id), refund_form=form, status=422)
    except (services.ExitError, InvalidTransition, StaleDataError) as exc:
        return _refused(project, exc, refund_form=form)
    db.session.commit()
    settlement = services.settlement_of(project)
    if settlement.outstanding > 0:
        flash(f"已登记退款到账，尚有 {settlement.outstanding:,.2f} 元未退回。", "success")
    else:
        flash("已登记退款到账，应退资金已全部退回。", "success")
    return redirect(url_for("exits.project_exit", project_id=project.id))


@bp.get("/projects/<int:project_id>/exit/refunds/<int:receipt_id>/file")
@login_required
def receipt_file(project_id: int, receipt_id: int):
    project = _load(project_id)
    if receipt_id > MAX_ID:
        abort(404)
    receipt = db.session.get(RefundReceipt, receipt_id)
    if receipt is None or receipt.settlement.project_id != project.id:
        abort(404)
    return send_stored(receipt.file)


@bp.get("/staff/exits")
@login_required
def staff_index():
    if not services.may_list(current_user):
        abort(403)
    args = request.args
    status = args.get("status", "outstanding")
    if status not in services.STATUS_FILTERS:
        status = "outstanding"
    kind = args.get("kind", "") if args.get("kind", "") in {k.value for k in SettlementKind} else ""
    reason = args.get("reason", "") if args.get("reason", "") in {r.value for r in ExitReason} else ""
    q = (args.get("q") or "").strip()[:100]
    raw_page = args.get("page", "1")
    page_no = int(raw_page) if raw_page.isdigit() and len(raw_page) < 7 and int(raw_page) > 0 else 1
    stmt = services.settlements_query(current_user, status=status, kind=kind, reason=reason, q=q)
    page = db.paginate(stmt, page=page_no, per_page=PER_PAGE, error_out=False)
    terminations = services.terminations_for([s.project_id for s in page.items])
    count, total = services.outstanding_totals(current_user)
    return render_template(
        "projects/exits/staff_index.html", page=page, terminations=terminations,
        filters={"status": status, "kind": kind, "reason": reason, "q": q},
        active=(status != "outstanding" or kind or reason or q), status_filters=services.STATUS_FILTERS,
        kinds=SettlementKind.choices(), reasons=ExitReason.choices(), outstanding_count=count,
        outstanding_total=total, settlement_tones=SETTLEMENT_TONES, reason_tones=REASON_TONES,
    )
