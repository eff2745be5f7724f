"""资格审查 pages for staff and admins: the list, the export, batch pass, one application, decisions.

Every view checks the role (403 for anyone but staff and admins), loads the application within
the user's scope (another district's looks like 404), validates the form, calls one service,
commits, flashes and redirects. A failed form re-renders with 422; a decision the state no
longer allows, or one that lost a race, re-renders with 409 and says why.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from incubator.applications.models import (
    SCREENABLE,
    SECTIONS,
    STATUS_TONES,
    Application,
    ApplicationStatus,
    FundingSource,
)
from incubator.calls.models import BudgetCategory, FieldKind
from incubator.core.states import history
from incubator.db import today_local
from incubator.extensions import db
from incubator.orgs.models import ServiceField
from incubator.screening import forms, queries, services

bp = Blueprint("screening", __name__, url_prefix="/staff/applications")


# --------------------------------------------------------------------------- helpers


def _require_screener() -> None:
    if not queries.may_screen(current_user):
        abort(403)


def _load(app_id: int) -> Application:
    _require_screener()
    app = queries.load_for_screening(app_id)
    if app is None or not services.can_screen(app, current_user):
        abort(404)
    return app


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 7 else 1


def _districts():
    from incubator.regions.models import District

    if current_user.district_id is not None and not current_user.is_admin:
        return []  # district staff see their own district only: no menu
    return list(db.session.scalars(db.select(District).order_by(District.code)))


def _list_url(query: str | None) -> str:
    """Back to the list with the filters it had (only our own query string is accepted)."""
    posted = MultiDict(parse_qsl((query or "")[:2000], keep_blank_values=True))
    args = queries.ListFilters.from_args(posted).args()
    page = (posted.get("page") or "").strip()
    if page.isdigit() and len(page) < 7:
        args["page"] = page
    return url_for("screening.index") + ("?" + urlencode(args) if args else "")


# --------------------------------------------------------------------------- the list


@bp.get("/")
@login_required
def index():
    _require_screener()
    filters = queries.ListFilters.from_args(request.args)
    calls = queries.visible_calls()
    page = queries.list_page(current_user, filters, _page_arg(), calls=calls)
    flags = queries.flags_for(page.items, filters.on)
    return render_template(
        "screening/index.html",
        page=page,
        rows=[(app, flags[app.id]) for app in page.items],
        detail_prefix=url_for("screening.index"),  # + id = the detail page (one url_for, not one per row)
        filters=filters,
        calls=calls,
        districts=_districts(),
        service_fields=ServiceField.choices(),
        status_filters=queries.STATUS_FILTERS,
        status_tabs=queries.STATUS_TABS,
        flag_filters=queries.FLAG_FILTERS,
        sorts=queries.SORTS,
        page_sizes=queries.PAGE_SIZES,
        status_tones=STATUS_TONES,
        screenable=SCREENABLE,
        batch_form=forms.BatchForm(),
        export_form=forms.ExportForm(),
        export_limit=_export_limit(),
        back=urlencode(dict(filters.args(), page=page.page)),
    )


def _export_limit() -> int:
    return int(current_app.config.get("EXPORT_SYNC_MAX_ROWS", 5000))


@bp.get("/export")
@login_required
def export():
    """The Excel file at once, up to EXPORT_SYNC_MAX_ROWS rows; above, a page that offers the
    background export (a POST: starting a job changes state, a GET never does)."""
    from incubator.core.excel import xlsx_response

    _require_screener()
    filters = queries.ListFilters.from_args(request.args)
    calls = queries.visible_calls()
    total = queries.export_count(current_user, filters, calls=calls)
    if total > _export_limit():
        return render_template(
            "screening/export_job.html", filters=filters, total=total, limit=_export_limit(), form=forms.ExportForm()
        )
    rows = queries.export_rows(current_user, filters, calls=calls)
    return xlsx_response(f"资格审查-申报书清单-{filters.on:%Y%m%d}.xlsx", queries.EXPORT_HEADERS, rows)


@bp.post("/export")
@login_required
def export_job():
    """Start the export of the list under the posted filters as a background job; show the job."""
    _require_screener()
    form = forms.ExportForm()
    if not form.validate():
        flash("页面已过期，请刷新后重试。", "danger")
        return redirect(url_for("screening.index"))
    filters = queries.ListFilters.from_args(request.form)
    total = queries.export_count(current_user, filters)
    job = services.request_export(filters, by=current_user, rows=total)
    db.session.commit()
    flash(f"正在后台生成Excel（{total:,}条），完成后可在本页下载。", "info")
    return redirect(url_for("system.job", job_id=job.id))


@bp.post("/batch-pass")
@login_required
def batch_pass():
    _require_screener()
    form = forms.BatchForm()
    back = _list_url(request.form.get("back"))
    if not form.validate():
        flash("页面已过期，请刷新后重试。", "danger")
        return redirect(back)
    ids = forms.parse_ids(request.form.getlist("ids"))
    try:
        result = services.batch_pass(ids, by=current_user)
    except services.ScreeningError as exc:
        db.session.rollback()
        flash(exc.message, "warning" if exc.status_code == 422 else "danger")
        return redirect(back)
    db.session.commit()
    if result.passed:
        numbers = "、".join(a.number for a in result.passed[:10]) + ("等" if len(result.passed) > 10 else "")
        flash(f"已批量通过 {len(result.passed)} 份申报书（{numbers}），已通知申报单位。", "success")
    for app, reason in result.refused:
        flash(f"未处理 {app.number}“{app.title}”：{reason}。", "warning")
    if result.unknown:
        flash(f"另有 {result.unknown} 项不存在或不在您的审查范围内，未处理。", "warning")
    if not result.passed and not result.refused and not result.unknown:
        flash("没有可处理的申报书。", "warning")
    return redirect(back)


# --------------------------------------------------------------------------- one application


def _money(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _label(enum_cls, value) -> str:
    return enum_cls(value).label if value in enum_cls._value2member_map_ else (value or "—")


def snapshot_view(data: dict, app: Application) -> dict:
    """A submitted version's snapshot with typed values and Chinese labels, for the template."""
    call = app.call
    basic = dict(data.get("basic") or {})
    basic["field_label"] = _label(ServiceField, basic.get("field")) if basic.get("field") else "—"
    basic["period_start"] = _day(basic.get("period_start"))
    basic["period_end"] = _day(basic.get("period_end"))
    budget = []
    by_category: dict[str, Decimal] = {}
    for b in data.get("budget") or []:
        amount = _money(b.get("amount"))
        category = _label(BudgetCategory, b.get("category")) if b.get("category") else "—"
        if amount is not None:
            by_category[category] = by_category.get(category, Decimal("0")) + amount
        budget.append(
            {
                **b,
                "category_label": category,
                "source_label": _label(FundingSource, b.get("source")),
                "unit_price": _money(b.get("unit_price")),
                "amount": amount,
            }
        )
    totals = {k: _money(v) for k, v in (data.get("totals") or {}).items()}
    total = totals.get("total_budget") or Decimal("0")
    caps = {cap.category.label: cap.max_share for cap in call.budget_caps}
    categories = [
        {
            "label": label,
            "amount": amount,
            "share": (amount * 100 / total).quantize(Decimal("0.1")) if total else None,
            "cap": caps.get(label),
        }
        for label, amount in by_category.items()
    ]
    grant_share = ((totals.get("grant_requested") or Decimal("0")) * 100 / total).quantize(Decimal("0.1")) if total else None
    labels = {f"type:{t.id}": t.name for t in call.attachment_types}
    labels.update({f"field:{f.id}": f.label for f in call.fields})
    extra = [
        (f.label, (data.get("extra") or {}).get(str(f.id)) or "")
        for f in call.fields
        if f.kind != FieldKind.FILE
    ]
    attachments = [
        {"label": labels.get(a.get("slot"), "附件"), "name": a.get("name") or "附件", "file_id": a.get("file_id")}
        for a in data.get("attachments") or []
        if isinstance(a, dict)
    ]
    return {
        "basic": basic,
        "need": data.get("need") or {},
        "goals": data.get("goals") or {},
        "plan": [{**r, "start": _day(r.get("start")), "end": _day(r.get("end"))} for r in data.get("plan") or []],
        "team": data.get("team") or [],
        "budget": budget,
        "categories": categories,
        "totals": totals,
        "grant_share": grant_share,
        "extra": extra,
        "attachments": attachments,
        "bank": data.get("bank") or {},
    }


def _history_rows(app: Application) -> list[dict]:
    rows = []
    for h in history(app):
        try:
            status = ApplicationStatus(h.to_status)
        except ValueError:
            status = h.to_status
        rows.append({"at": h.at, "status": status, "actor": (h.by_label or "").split(" <", 1)[0], "note": h.note})
    return rows


def _render_detail(app: Application, *, pass_form=None, return_form=None, reject_form=None, active: str = "pass", status: int = 200):
    from incubator.applications.services import diff_snapshots
    from incubator.calls.services import eligibility_for

    versions = app.versions
    raw_v = request.args.get("v", "")
    shown = versions[-1] if versions else None
    if raw_v.isdigit() and len(raw_v) < 6:
        shown = next((v for v in versions if v.number == int(raw_v)), shown)
    diff = None
    if len(versions) >= 2:
        diff = {
            "old": versions[-2],
            "new": versions[-1],
            "rows": diff_snapshots(versions[-2].data, versions[-1].data, call=app.call),
        }
    today = today_local()
    org = app.org
    version_field = str(app.version_id)
    pass_form = pass_form or forms.PassForm(formdata=None, version=version_field)
    reject_form = reject_form or forms.RejectForm(formdata=None, version=version_field)
    if return_form is None:
        return_form = forms.ReturnForm(formdata=None, version=version_field)
        return_form.deadline.data = services.default_revision_deadline(today)
    return (
        render_template(
            "screening/detail.html",
            app=app,
            call=app.call,
            org=org,
            shown=shown,
            view=snapshot_view(shown.data, app) if shown is not None else None,
            diff=diff,
            history=_history_rows(app),
            eligibility=eligibility_for(app.call, org),
            flags=queries.row_flags(app, today),
            rating=org.current_rating(today),
            credit=sorted(org.active_credit_records(today), key=lambda c: c.start_on),
            annual=org.latest_annual_report(),
            can_decide=app.status in SCREENABLE,
            pass_form=pass_form,
            return_form=return_form,
            reject_form=reject_form,
            active=active,
            default_deadline=services.default_revision_deadline(today),
            today_iso=today.isoformat(),
            sections=dict(SECTIONS),
            status_tones=STATUS_TONES,
            flag_labels=queries.FLAG_LABELS,
        ),
        status,
    )


@bp.get("/<int:app_id>")
@login_required
def detail(app_id: int):
    return _render_detail(_load(app_id))


def _decided(app: Application, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("screening.detail", app_id=app.id))


def _refused(app_id: int, exc: services.ScreeningError, *, active: str, form_name: str, form):
    """Roll back and show the page again: 422 keeps the input; 409 shows the current state."""
    db.session.rollback()
    flash(exc.message, "warning" if exc.status_code == 422 else "danger")
    app = _load(app_id)
    if exc.status_code == 422:
        return _render_detail(app, active=active, status=422, **{form_name: form})
    return _render_detail(app, active=active, status=409)


@bp.post("/<int:app_id>/pass")
@login_required
def decide_pass(app_id: int):
    app = _load(app_id)
    form = forms.PassForm()
    if not form.validate():
        return _render_detail(app, pass_form=form, active="pass", status=422)
    try:
        services.pass_application(app, by=current_user, note=form.note.data, version=form.posted_version)
    except services.ScreeningError as exc:
        return _refused(app_id, exc, active="pass", form_name="pass_form", form=form)
    return _decided(app, f"已通过资格审查：{app.number}。已通知申报单位。")


@bp.post("/<int:app_id>/return")
@login_required
def decide_return(app_id: int):
    app = _load(app_id)
    form = forms.ReturnForm(today=today_local())
    if not form.validate():
        return _render_detail(app, return_form=form, active="return", status=422)
    try:
        services.return_for_revision(
            app, by=current_user, reasons=form.reasons, deadline=form.deadline.data, version=form.posted_version
        )
    except services.ScreeningError as exc:
        return _refused(app_id, exc, active="return", form_name="return_form", form=form)
    return _decided(app, f"已退回修改：{app.number}，修改期限{app.revision_deadline.year}年{app.revision_deadline.month}月{app.revision_deadline.day}日。已通知申报单位。")


@bp.post("/<int:app_id>/reject")
@login_required
def decide_reject(app_id: int):
    app = _load(app_id)
    form = forms.RejectForm()
    if not form.validate():
        return _render_detail(app, reject_form=form, active="reject", status=422)
    try:
        services.reject_application(app, by=current_user, reason=form.reason.data, version=form.posted_version)
    except services.ScreeningError as exc:
        return _refused(app_id, exc, active="reject", form_name="reject_form", form=form)
    return _decided(app, f"已作出不通过决定：{app.number}。已通知申报单位。")
