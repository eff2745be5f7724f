"""Calls for proposals: the staff editor and list, the public pages, the organisation's open calls."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from incubator.accounts.models import Role
from incubator.calls import services
from incubator.calls.forms import CITY, CallForm, ConfirmForm, DocumentForm, form_data_from_call
from incubator.calls.models import Call, CallDocument, CallKind, CallStatus
from incubator.db import utcnow
from incubator.extensions import db
from incubator.orgs.models import ServiceField
from incubator.regions.models import District

bp = Blueprint("calls", __name__)

STATUS_TONES = {"draft": "secondary", "published": "info", "open": "success", "closed": "warning", "archived": "dark"}


@bp.app_template_global("latest_open_calls")
def _latest_open_calls(limit: int = 5):
    """For the home page's 通知公告 card."""
    return services.latest_open_calls(limit)


from incubator.core.ids import MAX_ID  # noqa: E402


@bp.before_request
def _ids_in_range():
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            abort(404)


@bp.record_once
def _call_globals(state) -> None:
    # A Jinja global (not a context variable) so imported macros see it too.
    state.app.jinja_env.globals["call_status_tones"] = STATUS_TONES


@bp.app_template_filter("call_pct")
def _call_pct(value) -> str:
    """Decimal('60.00') → '60%', Decimal('12.50') → '12.5%'."""
    if value is None:
        return "—"
    text = f"{Decimal(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


@bp.app_template_global("call_theme")
def _call_theme(value: str) -> str:
    try:
        return ServiceField(value).label
    except ValueError:
        return value


# ------------------------------------------------------------------ helpers


def _require_staff() -> None:
    if not current_user.is_authenticated:
        abort(401)
    if current_user.role not in (Role.STAFF, Role.ADMIN):
        abort(403)


def _managed_call(call_id: int) -> Call:
    _require_staff()
    call = db.session.get(Call, call_id)
    if call is None or not call.can_manage(current_user):
        abort(404)  # another district's call: as if it did not exist
    return call


def _scope_choices(user) -> list[tuple[str, str]]:
    districts = db.session.scalars(db.select(District).order_by(District.code)).all()
    if user.role == Role.ADMIN or user.is_city_staff:
        return [(CITY, "全市（市级通知）")] + [(str(d.id), d.name) for d in districts]
    return [(str(d.id), d.name) for d in districts if d.id == user.district_id]


def _int_arg(name: str, lo: int = 1, hi: int = 10**6) -> int | None:
    value = (request.args.get(name) or "").strip()
    if value.isdigit() and len(value) < 8 and lo <= int(value) <= hi:
        return int(value)
    return None


def _enum_arg(name: str, enum):
    value = request.args.get(name) or ""
    return enum(value) if value in {m.value for m in enum} else None


def _count_errors(errors) -> int:
    if isinstance(errors, dict):
        return sum(_count_errors(v) for v in errors.values())
    if isinstance(errors, (list, tuple)):
        return sum(_count_errors(v) if isinstance(v, (dict, list, tuple)) else 1 for v in errors)
    return 1 if errors else 0


def _editor(form: CallForm, call: Call | None, status: int = 200):
    error_count = _count_errors(form.errors)
    form.ensure_blank_rows()
    return (
        render_template(
            "calls/edit.html",
            form=form,
            call=call,
            error_count=error_count,
            page_title="编辑申报通知" if call else "新建申报通知",
            now=utcnow(),
        ),
        status,
    )


# ------------------------------------------------------------------ staff: list


@bp.get("/staff/calls")
@login_required
def index():
    _require_staff()
    now = utcnow()
    filters = services.StaffFilters(
        kind=_enum_arg("kind", CallKind),
        status=_enum_arg("status", CallStatus),
        scope=(request.args.get("scope") or "").strip()[:12] or None,
        year=_int_arg("year", 2000, 2100),
        q=(request.args.get("q") or "").strip()[:100] or None,
    )
    page = services.staff_call_page(current_user, filters, page=_int_arg("page") or 1, now=now)
    counts = services.staff_status_counts(current_user, filters, now=now)
    apps = services.application_counts(list(page.items))
    return render_template(
        "calls/index.html",
        page=page,
        filters=filters,
        counts=counts,
        total=sum(counts.values()),
        apps=apps,
        now=now,
        years=services.staff_years(current_user),
        scope_choices=_scope_choices(current_user),
        kinds=list(CallKind),
        statuses=list(CallStatus),
        page_title="申报通知管理",
        breadcrumbs=[("申报通知管理", None)],
    )


# ------------------------------------------------------------------ staff: create and edit


@bp.route("/staff/calls/new", methods=["GET", "POST"])
@login_required
def create():
    _require_staff()
    form = CallForm(scope_choices=_scope_choices(current_user))
    if request.method == "GET":
        form.year.data = utcnow().year
        if len(form.scope.choices) == 1:
            form.scope.data = form.scope.choices[0].value
        form.attachment_types.append_entry({"name": "社会组织登记证书（或备案证明）副本", "required": True, "allowed_extensions": ["pdf", "jpg", "png"]})
        return _editor(form, None)
    if not form.validate():
        return _editor(form, None, 422)
    try:
        call = services.create_call(by=current_user, data=form.to_data())
    except services.CallError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _editor(form, None, exc.status if exc.status != 409 else 422)
    db.session.commit()
    _flash_time_warnings(call)
    flash("申报通知已保存为草稿。检查无误后请点击“发布”。", "success")
    return redirect(url_for("calls.show", call_id=call.id))


@bp.route("/staff/calls/<int:call_id>/edit", methods=["GET", "POST"])
@login_required
def edit(call_id: int):
    call = _managed_call(call_id)
    if call.archived_at is not None:
        flash("已归档的申报通知不能再修改。", "warning")
        return redirect(url_for("calls.show", call_id=call.id))
    if request.method == "GET":
        form = CallForm(data=form_data_from_call(call), scope_choices=_scope_choices(current_user))
        return _editor(form, call)
    form = CallForm(scope_choices=_scope_choices(current_user))
    if not form.validate():
        return _editor(form, call, 422)
    version = form.version_id.data or ""
    try:
        services.update_call(
            call, by=current_user, data=form.to_data(), expected_version=int(version) if version.isdigit() and len(version) < 10 else -1
        )
        db.session.commit()
    except services.CallError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        call = _managed_call(call_id)
        return _editor(form, call, exc.status)
    _flash_time_warnings(call)
    flash("申报通知已保存。", "success")
    return redirect(url_for("calls.show", call_id=call.id))


def _flash_time_warnings(call: Call) -> None:
    now = utcnow()
    if call.published_at is None and call.closes_at <= now:
        flash("提醒：截止时间早于当前时间，这份通知在修改截止时间之前不能发布。", "warning")
    elif call.published_at is None and call.opens_at <= now:
        flash("提醒：开始时间早于当前时间，发布后将立即开始接受申报。", "warning")


# ------------------------------------------------------------------ staff: one call


@bp.get("/staff/calls/<int:call_id>")
@login_required
def show(call_id: int):
    call = _managed_call(call_id)
    now = utcnow()
    return render_template(
        "calls/show.html",
        call=call,
        now=now,
        status=call.status_at(now),
        apps=services.application_count(call),
        rules=services.rules_text(call),
        countdown=services.countdown(call, now),
        doc_form=DocumentForm(),
        confirm=ConfirmForm(),
        page_title=call.title,
        breadcrumbs=[("申报通知管理", url_for("calls.index")), (call.title, None)],
    )


def _lifecycle(call_id: int, action, done: str):
    call = _managed_call(call_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        action(call, by=current_user)
        db.session.commit()
    except services.CallError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("calls.show", call_id=call_id), 303)
    flash(done, "success")
    return redirect(url_for("calls.show", call_id=call_id), 303)


@bp.post("/staff/calls/<int:call_id>/publish")
@login_required
def publish(call_id: int):
    return _lifecycle(call_id, services.publish, "申报通知已发布，公众网站和社会组织端即刻可见。")


@bp.post("/staff/calls/<int:call_id>/unpublish")
@login_required
def unpublish(call_id: int):
    return _lifecycle(call_id, services.unpublish, "已撤回发布，通知恢复为草稿。")


@bp.post("/staff/calls/<int:call_id>/archive")
@login_required
def archive(call_id: int):
    return _lifecycle(call_id, services.archive, "申报通知已归档。")


@bp.post("/staff/calls/<int:call_id>/documents")
@login_required
def upload_document(call_id: int):
    from incubator.core.files import UploadRejected

    call = _managed_call(call_id)
    form = DocumentForm()
    if not form.validate():
        abort(400)
    try:
        services.add_document(call, by=current_user, title=form.title.data or "", upload=request.files.get("file"))
        db.session.commit()
    except UploadRejected as exc:
        db.session.rollback()
        flash(f"上传失败：{exc}", "danger")
        return redirect(url_for("calls.show", call_id=call_id, _anchor="documents"), 303)
    except services.CallError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("calls.show", call_id=call_id), 303)
    flash("文件已上传。", "success")
    return redirect(url_for("calls.show", call_id=call_id, _anchor="documents"), 303)


def _call_document(call: Call, doc_id: int) -> CallDocument:
    doc = db.session.get(CallDocument, doc_id)
    if doc is None or doc.call_id != call.id:
        abort(404)
    return doc


@bp.post("/staff/calls/<int:call_id>/documents/<int:doc_id>/delete")
@login_required
def delete_document(call_id: int, doc_id: int):
    call = _managed_call(call_id)
    doc = db.session.get(CallDocument, doc_id)
    if not ConfirmForm().validate():
        abort(400)
    if doc is None or doc.call_id != call.id:  # already deleted (a second click, another tab)
        flash("该文件已不存在。", "warning")
        return redirect(url_for("calls.show", call_id=call_id, _anchor="documents"), 303)
    try:
        services.remove_document(call, doc, by=current_user)
        db.session.commit()
    except services.CallError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("calls.show", call_id=call_id), 303)
    flash("文件已删除。", "success")
    return redirect(url_for("calls.show", call_id=call_id, _anchor="documents"), 303)


@bp.get("/staff/calls/<int:call_id>/documents/<int:doc_id>")
@login_required
def staff_document(call_id: int, doc_id: int):
    from incubator.core.files import send_stored

    call = _managed_call(call_id)
    doc = _call_document(call, doc_id)
    return send_stored(doc.file)


# ------------------------------------------------------------------ public site


@bp.get("/calls")
def public_index():
    status = _enum_arg("status", CallStatus)
    now = utcnow()
    page = services.public_call_page(status=status if status in services.PUBLIC_STATUSES else None, page=_int_arg("page") or 1, now=now)
    return render_template(
        "calls/public_index.html",
        page=page,
        now=now,
        status=status,
        countdowns={c.id: services.countdown(c, now) for c in page.items},
        public_statuses=services.PUBLIC_STATUSES,
        page_title="申报通知",
    )


@bp.get("/calls/<int:call_id>")
def public_detail(call_id: int):
    now = utcnow()
    call = services.public_call(call_id, now=now)
    if call is None:
        abort(404)
    return render_template(
        "calls/public_detail.html",
        call=call,
        now=now,
        status=call.status_at(now),
        countdown=services.countdown(call, now),
        rules=services.rules_text(call),
        can_apply=_can_start(call, now),
        page_title=call.title,
    )


@bp.get("/calls/<int:call_id>/documents/<int:doc_id>")
def public_document(call_id: int, doc_id: int):
    from incubator.core.files import send_stored

    call = services.public_call(call_id)
    if call is None:
        abort(404)
    doc = _call_document(call, doc_id)
    return send_stored(doc.file)


def _can_start(call: Call, now) -> bool:
    return (
        "applications.start" in current_app.view_functions
        and current_user.is_authenticated
        and current_user.role == Role.APPLICANT
        and current_user.org_id is not None
        and call.is_open(now)
    )


# ------------------------------------------------------------------ organisation side


@bp.get("/org/calls")
@login_required
def for_org():
    if current_user.role != Role.APPLICANT or current_user.org is None:
        abort(403)
    now = utcnow()
    rows = services.calls_for_org(current_user.org, now=now)
    return render_template(
        "calls/for_org.html",
        rows=rows,
        now=now,
        org=current_user.org,
        has_start="applications.start" in current_app.view_functions,
        page_title="可申报的通知",
        breadcrumbs=[("可申报的通知", None)],
    )
