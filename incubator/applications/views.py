"""Application pages for organisations: start, edit (save, autosave), submit, receipt, withdraw,
attachments and PDF downloads, the list of the organisation's applications and the detail page.

Every view loads the application (404), checks ``can_view``/``can_edit`` (403), parses the form,
calls one service, commits, flashes and redirects.
"""
from __future__ import annotations

from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from incubator.accounts.models import Role
from incubator.applications import services
from incubator.applications.checks import group_problems
from incubator.applications.forms import DraftRefused, parse_draft
from incubator.applications.models import (
    SECTIONS,
    STATUS_TONES,
    Application,
    ApplicationAttachment,
    ApplicationVersion,
    FundingSource,
    line_amount,
)
from incubator.calls.models import BudgetCategory, Call, FieldKind
from incubator.core.forms import InputRejected, parse_decimal, parse_money
from incubator.core.states import history
from incubator.db import to_local, utcnow
from incubator.extensions import db
from incubator.orgs.models import ServiceField

bp = Blueprint("applications", __name__)

from incubator.core.ids import MAX_ID  # noqa: E402
BLANK_ROWS = 2  # empty rows under each table (the no-JS way to add rows)
TOO_LARGE = "填写的内容过长（超过系统允许的大小），本次未保存。请精简较长的文字或分次填写后再保存。"


# --------------------------------------------------------------------------- helpers


@bp.app_template_filter("app_pct")
def _app_pct(value) -> str:
    """A share in percent without trailing zeros: 60.00 → 60, 12.50 → 12.5."""
    from incubator.applications.checks import _pct

    return "" if value is None else _pct(Decimal(value))


def _load(app_id: int, *, for_edit: bool = False) -> Application:
    if app_id > MAX_ID:
        abort(404)
    app = db.session.get(Application, app_id)
    if app is None:
        abort(404)
    if not app.can_view(current_user):
        abort(403)
    if for_edit and not app.is_member(current_user):
        abort(403)
    return app


def _is_applicant() -> bool:
    return current_user.is_authenticated and current_user.role == Role.APPLICANT


def _wants_json() -> bool:
    return request.endpoint == "applications.autosave"


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    if _wants_json():
        return jsonify(ok=False, error=TOO_LARGE), 413
    return render_template("errors/error.html", code=413, title="内容过长", detail=TOO_LARGE), 413


def _date_iso(d) -> str:
    return d.isoformat() if d else ""


def _num(d: Decimal | None) -> str:
    return "" if d is None else f"{d:f}"


def values_from_app(app: Application) -> tuple[dict, dict]:
    """(values, errors) for the editor from the stored application; untyped inputs shown as typed."""
    v: dict = {
        "title": app.title,
        "field": app.field.value if app.field else "",
        "service_communities": app.service_communities,
        "beneficiaries_description": app.beneficiaries_description,
        "beneficiaries_count": "" if app.beneficiaries_count is None else str(app.beneficiaries_count),
        "period_start": _date_iso(app.period_start),
        "period_end": _date_iso(app.period_end),
        "supervisor": app.supervisor,
        "requester": app.requester,
        "summary": app.summary,
        "need_analysis": app.need_analysis,
        "overall_goal": app.overall_goal,
        "sub_goals": "\n".join(app.sub_goals or []),
        "risks": app.risks,
        "bank_account_name": app.bank_account_name,
        "bank_name": app.bank_name,
        "bank_account_number": app.bank_account_number,
        "plan": [
            {"start": _date_iso(r.start_on), "end": _date_iso(r.end_on), "content": r.content, "output": r.output}
            for r in app.plan_rows
        ],
        "team": [
            {
                "name": m.name, "education": m.education, "major": m.major, "role": m.role,
                "qualification": m.qualification, "time_on_project": m.time_on_project,
                "insured": {True: "yes", False: "no"}.get(m.insured, ""),
            }
            for m in app.team_members
        ],
        "budget": [
            {
                "category": b.category.value if b.category else "", "item": b.item, "unit": b.unit,
                "unit_price": _num(b.unit_price), "quantity": _num(b.quantity),
                "source": b.source.value if b.source else "grant", "note": b.note,
            }
            for b in app.budget_lines
        ],
    }
    for key, value in (app.extra_values or {}).items():
        v[f"extra-{key}"] = value
    errors: dict = {}
    for name, item in (app.raw_inputs or {}).items():
        value = item.get("value", "") if isinstance(item, dict) else str(item)
        errors[name] = item.get("error", "格式不正确") if isinstance(item, dict) else "格式不正确"
        parts = name.split("-")
        if len(parts) == 3 and parts[0] in ("plan", "team", "budget") and parts[1].isdigit():
            rows = v[parts[0]]
            idx = int(parts[1])
            if idx < len(rows):
                rows[idx][parts[2]] = value
        else:
            v[name] = value
    return v, errors


def values_from_form(formdata) -> dict:
    """What the user just posted, to show again when it could not be saved."""
    from incubator.applications.forms import _ROW_NAME

    v: dict = {k: formdata.get(k, "") for k in formdata.keys() if not _ROW_NAME.match(k)}
    for section in ("plan", "team", "budget"):
        by_index: dict[int, dict] = {}
        for k in formdata.keys():
            m = _ROW_NAME.match(k)
            if m and m.group(1) == section:
                by_index.setdefault(int(m.group(2)), {})[m.group(3)] = formdata.get(k, "")
        v[section] = [by_index[i] for i in sorted(by_index)]
    return v


def budget_preview(rows: list[dict]) -> tuple[list[str], dict]:
    """Amount per row and totals, computed exactly from the shown values (for the first paint)."""
    amounts, grant, matching = [], Decimal("0"), Decimal("0")
    for r in rows:
        try:
            price = parse_money(r.get("unit_price", ""))
            qty = parse_decimal(r.get("quantity", ""), places=2, min_value=Decimal("0.01"))
        except InputRejected:
            price = qty = None
        amount = line_amount(price, qty)
        amounts.append("" if amount is None else f"{amount:,.2f}")
        if amount is not None:
            if r.get("source") == FundingSource.MATCHING.value:
                matching += amount
            else:
                grant += amount
    return amounts, {"grant": grant, "matching": matching, "total": grant + matching}


def _render_editor(app: Application, *, values=None, errors=None, problems=None, messages=None, status=200):
    if values is None:
        values, stored_errors = values_from_app(app)
        errors = {**stored_errors, **(errors or {})}
    amounts, totals = budget_preview(values.get("budget", []))
    call = app.call
    slots = services.slots_for(call)
    attached = {a.slot: a for a in app.attachments}
    return (
        render_template(
            "applications/edit.html",
            app=app,
            call=call,
            v=values,
            errors=errors or {},
            problems=group_problems(problems) if problems else [],
            problem_count=len(problems or []),
            messages=messages or [],
            amounts=amounts,
            totals=totals,
            slots=slots,
            attached=attached,
            sections=SECTIONS,
            blank_rows=BLANK_ROWS,
            service_fields=list(ServiceField),
            categories=list(BudgetCategory),
            sources=list(FundingSource),
            extra_fields=[f for f in call.fields if f.kind != FieldKind.FILE],
            caps={c.category.value: c.max_share for c in call.budget_caps},
            return_reasons=app.return_reasons or {},
            status_tones=STATUS_TONES,
            next_step=services.next_step(app),
            can_withdraw=app.can_withdraw(current_user),
        ),
        status,
    )


# --------------------------------------------------------------------------- start and list


@bp.post("/calls/<int:call_id>/apply")
@login_required
def start(call_id: int):
    if not _is_applicant():
        abort(403)
    if call_id > MAX_ID:
        abort(404)
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    try:
        app = services.start_application(call, org=current_user.org, by=current_user)
    except services.CannotStart as exc:
        db.session.rollback()
        flash("无法开始申报：", "danger")
        for reason in exc.reasons:
            flash(reason, "danger")
        back = "calls.for_org" if "calls.for_org" in current_app.view_functions else "applications.mine"
        return redirect(url_for(back))
    db.session.commit()
    flash("已创建申报书草稿。填写过程中系统会自动保存。", "success")
    return redirect(url_for("applications.edit", app_id=app.id))


@bp.get("/applications/mine")
@login_required
def mine():
    if not _is_applicant():
        abort(403)
    org = current_user.org
    apps = services.applications_of_org(org) if org is not None else []
    now = utcnow()
    return render_template(
        "applications/mine.html",
        apps=apps,
        next_steps={a.id: services.next_step(a, now=now) for a in apps},
        status_tones=STATUS_TONES,
        has_calls_page="calls.for_org" in current_app.view_functions,
    )


def _history_rows(app: Application) -> list[dict]:
    """Status history for people: the status label, the actor's name (no e-mail), the note."""
    from incubator.applications.models import ApplicationStatus

    rows = []
    for h in history(app):
        try:
            label = ApplicationStatus(h.to_status).label
        except ValueError:
            label = h.to_status
        actor = (h.by_label or "").split(" <", 1)[0]
        rows.append({"at": h.at, "label": label, "actor": actor, "note": h.note})
    return rows


@bp.get("/applications/<int:app_id>")
@login_required
def detail(app_id: int):
    app = _load(app_id)
    return render_template(
        "applications/detail.html",
        app=app,
        call=app.call,
        history=_history_rows(app),
        status_tones=STATUS_TONES,
        next_step=services.next_step(app),
        can_edit=app.can_edit(current_user),
        can_withdraw=app.can_withdraw(current_user),
        slots=services.slots_for(app.call),
        attached={a.slot: a for a in app.attachments},
        extra_fields=[f for f in app.call.fields if f.kind != FieldKind.FILE],
        sections=dict(SECTIONS),
    )


# --------------------------------------------------------------------------- editing


@bp.get("/applications/<int:app_id>/edit")
@login_required
def edit(app_id: int):
    app = _load(app_id, for_edit=True)
    if not app.is_editable:
        flash(f"申报书当前状态为“{app.status.label}”，不能修改。", "warning")
        return redirect(url_for("applications.detail", app_id=app.id))
    return _render_editor(app)


@bp.post("/applications/<int:app_id>/edit")
@login_required
def save(app_id: int):
    app = _load(app_id, for_edit=True)
    try:
        draft = parse_draft(request.form, app.call)
        services.save_draft(app, draft=draft, by=current_user)
    except DraftRefused as exc:
        db.session.rollback()
        return _render_editor(app, values=values_from_form(request.form), messages=exc.messages, status=422)
    except services.EditConflict as exc:
        db.session.rollback()
        return _render_editor(app, values=values_from_form(request.form), messages=[exc.message], status=409)
    except services.NotEditable as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("applications.detail", app_id=app.id))
    db.session.commit()
    if app.raw_inputs:
        flash(f"草稿已保存。有 {len(app.raw_inputs)} 处填写格式有误（已按原样保留），提交前请修改。", "warning")
    else:
        flash("草稿已保存。", "success")
    anchor = request.form.get("section", "")
    target = url_for("applications.edit", app_id=app.id)
    if anchor in dict(SECTIONS):
        target += f"#sec-{anchor}"
    return redirect(target)


@bp.post("/applications/<int:app_id>/autosave")
def autosave(app_id: int):
    """The editor's JavaScript posts the whole form here; answers JSON (never a redirect)."""
    if not current_user.is_authenticated:
        return jsonify(ok=False, error="登录已过期，请重新登录。未保存的内容已暂存在本机浏览器中。", login=True), 401
    if app_id > MAX_ID:
        abort(404)
    app = db.session.get(Application, app_id)
    if app is None:
        abort(404)
    if not app.is_member(current_user):
        abort(403)
    try:
        draft = parse_draft(request.form, app.call)
        services.save_draft(app, draft=draft, by=current_user)
    except DraftRefused as exc:
        db.session.rollback()
        return jsonify(ok=False, error="；".join(exc.messages)), 422
    except services.ApplicationError as exc:
        db.session.rollback()
        return jsonify(ok=False, error=exc.message, conflict=isinstance(exc, services.EditConflict)), 409
    db.session.commit()
    saved = to_local(app.last_saved_at)
    return jsonify(
        ok=True,
        saved_at=f"{saved:%H:%M}",
        version_id=app.version_id,
        errors={k: v.get("error", "") for k, v in (app.raw_inputs or {}).items() if isinstance(v, dict)},
        totals={
            "grant": f"{app.grant_requested:.2f}",
            "matching": f"{app.matching_amount:.2f}",
            "total": f"{app.total_budget:.2f}",
        },
    )


@bp.post("/applications/<int:app_id>/submit")
@login_required
def submit(app_id: int):
    app = _load(app_id, for_edit=True)
    if not app.is_editable:
        flash(f"申报书当前状态为“{app.status.label}”，不能提交。", "warning")
        return redirect(url_for("applications.detail", app_id=app.id))
    draft = None
    if request.form.get("editor") == "1":
        try:
            draft = parse_draft(request.form, app.call)
        except DraftRefused as exc:
            return _render_editor(app, values=values_from_form(request.form), messages=exc.messages, status=422)
    try:
        version = services.submit(app, by=current_user, draft=draft)
    except services.SubmissionRefused as exc:
        db.session.commit()  # the draft is saved; only the submission is refused
        return _render_editor(app, problems=exc.problems, status=422)
    except services.EditConflict as exc:
        db.session.rollback()
        values = values_from_form(request.form) if draft is not None else None
        return _render_editor(app, values=values, messages=[exc.message], status=409)
    except services.NotEditable as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("applications.detail", app_id=app.id))
    db.session.commit()
    verb = "重新提交" if version.number > 1 else "提交"
    flash(f"申报书已{verb}，申报编号 {app.number}。", "success")
    return redirect(url_for("applications.receipt", app_id=app.id))


@bp.get("/applications/<int:app_id>/receipt")
@login_required
def receipt(app_id: int):
    app = _load(app_id)
    version = app.latest_version
    if version is None:
        flash("申报书尚未提交，没有回执。", "warning")
        return redirect(url_for("applications.detail", app_id=app.id))
    job = None
    if version.pdf_job_id:
        from incubator.core.jobs import Job

        job = db.session.get(Job, version.pdf_job_id)
    return render_template(
        "applications/receipt.html",
        app=app,
        version=version,
        job=job,
        job_url=url_for("system.job", job_id=job.id) if job and "system.job" in current_app.view_functions and job.can_view(current_user) else None,
        status_tones=STATUS_TONES,
        next_step=services.next_step(app),
    )


@bp.post("/applications/<int:app_id>/withdraw")
@login_required
def withdraw(app_id: int):
    app = _load(app_id, for_edit=True)
    try:
        services.withdraw(app, by=current_user)
    except services.ApplicationError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("applications.detail", app_id=app.id))
    db.session.commit()
    flash("申报书已撤回。撤回后不计入本组织的申报数量。", "success")
    return redirect(url_for("applications.detail", app_id=app.id))


# --------------------------------------------------------------------------- files


@bp.post("/applications/<int:app_id>/attachments")
@login_required
def upload(app_id: int):
    app = _load(app_id, for_edit=True)
    try:
        att = services.add_attachment(app, slot=request.form.get("slot", ""), upload=request.files.get("file"), by=current_user)
    except services.ApplicationError as exc:
        db.session.rollback()
        flash(f"上传失败：{exc.message}", "danger")
        return redirect(url_for("applications.edit", app_id=app.id) + "#sec-attachments")
    db.session.commit()
    flash(f"已上传“{att.file.original_name}”。", "success")
    return redirect(url_for("applications.edit", app_id=app.id) + "#sec-attachments")


@bp.post("/applications/<int:app_id>/attachments/<int:attachment_id>/delete")
@login_required
def delete_attachment(app_id: int, attachment_id: int):
    app = _load(app_id, for_edit=True)
    att = db.session.get(ApplicationAttachment, attachment_id) if attachment_id <= MAX_ID else None
    if att is None or att.application_id != app.id:
        abort(404)
    try:
        services.remove_attachment(app, att, by=current_user)
    except services.ApplicationError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("applications.detail", app_id=app.id))
    db.session.commit()
    flash("附件已删除。", "success")
    return redirect(url_for("applications.edit", app_id=app.id) + "#sec-attachments")


@bp.get("/applications/<int:app_id>/files/<int:file_id>")
@login_required
def file(app_id: int, file_id: int):
    """A file of this application (an attachment, of the current or an earlier version, or a PDF)."""
    from incubator.core.files import StoredFile, send_stored

    app = _load(app_id)
    if file_id > MAX_ID or file_id not in services.file_ids_of(app):
        abort(404)
    sf = db.session.get(StoredFile, file_id)
    if sf is None:
        abort(404)
    return send_stored(sf)


@bp.get("/applications/<int:app_id>/pdf")
@login_required
def pdf(app_id: int):
    """The PDF of the latest submitted version."""
    from incubator.core.files import send_stored

    app = _load(app_id)
    version = app.latest_version
    if version is None:
        abort(404)
    if version.pdf_file is None:
        flash("申报书PDF正在生成，请稍后刷新本页下载。", "info")
        return redirect(url_for("applications.receipt", app_id=app.id))
    return send_stored(version.pdf_file)


@bp.post("/applications/<int:app_id>/versions/<int:number>/pdf")
@login_required
def make_pdf(app_id: int, number: int):
    """Generate a version's PDF again when its job failed (the organisation's members)."""
    from incubator.core.jobs import Job

    app = _load(app_id, for_edit=True)
    version = db.session.scalar(
        db.select(ApplicationVersion).where(ApplicationVersion.application_id == app.id, ApplicationVersion.number == number)
    ) if number <= MAX_ID else None
    if version is None:
        abort(404)
    if version.pdf_file_id is not None:
        flash("PDF 已生成，可直接下载。", "info")
        return redirect(url_for("applications.receipt", app_id=app.id))
    job = db.session.get(Job, version.pdf_job_id) if version.pdf_job_id else None
    if job is not None and not job.is_done:
        flash("PDF 正在生成中，请稍候。", "info")
        return redirect(url_for("applications.receipt", app_id=app.id))
    services.start_pdf(version, by=current_user)
    db.session.commit()
    flash("已重新开始生成 PDF。", "success")
    return redirect(url_for("applications.receipt", app_id=app.id))

