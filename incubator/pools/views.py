"""专家库: staff list, add/edit, import, status, detail; the expert's own page (回避申报, 不可评审日期).

Permissions are the functions of ``incubator.pools.services`` (see its docstring): staff of any
scope see the whole pool; district staff add and edit experts of their district only; only city
staff and admins change a status; an expert sees only themselves.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from incubator.accounts.models import Role
from incubator.core import states
from incubator.core.files import UploadRejected
from incubator.db import today_local
from incubator.extensions import db
from incubator.orgs.models import ServiceField
from incubator.pools import forms, importer, services
from incubator.pools.models import Expert, ExpertRelation, ExpertStatus, ExpertUnavailability, RelationKind
from incubator.regions import services as regions

bp = Blueprint("pools", __name__, url_prefix="/pools")

STATUS_TONES = {"active": "success", "suspended": "warning", "removed": "secondary"}
ACTION_DONE = {"suspend": "暂停", "remove": "出库", "reinstate": "恢复在库"}


# ------------------------------------------------------------------ helpers


def _require_pool_viewer():
    if not services.can_view_pool(current_user):
        abort(403)


def _expert_or_404(expert_id: int) -> Expert:
    expert = services.load_for_detail(expert_id)
    if expert is None:
        abort(404)
    return expert


def _base_url() -> str:
    return current_app.config["BASE_URL"]


def _details(form: forms.ExpertForm) -> services.ExpertDetails:
    return services.ExpertDetails(
        name=form.name.data, mobile=form.mobile.data, email=form.email.data, employer=form.employer.data,
        title=form.title.data or None, employer_uscc=form.employer_uscc.data or None,
        fields=[ServiceField(f) for f in form.fields.data], district_id=form.district.data or None,
        max_reviews_per_round=form.max_reviews_per_round.data, bio=form.bio.data or None, notes=form.notes.data or None,
    )


def _field_error(form, name: str | None, message: str) -> None:
    field = getattr(form, name, None) if name else None
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        flash(message, "danger")


def _expert_form(formdata=..., **kw) -> forms.ExpertForm:
    form = forms.ExpertForm(**kw) if formdata is ... else forms.ExpertForm(formdata=formdata, **kw)
    form.set_district_choices(regions.districts(), only=services.allowed_district(current_user))
    return form


def _back(expert: Expert, anchor: str = "") -> str:
    if services.is_self(expert, current_user):
        return url_for("pools.me") + anchor
    return url_for("pools.detail", expert_id=expert.id) + anchor


# ------------------------------------------------------------------ list


@bp.get("/experts")
@login_required
def index():
    _require_pool_viewer()
    filters = services.ExpertFilters.from_args(request.args)
    page_no = request.args.get("page", "1")
    page = services.expert_page(current_user, filters, page=int(page_no) if page_no.isdigit() and len(page_no) < 7 else 1)
    return render_template(
        "pools/index.html", page=page, filters=filters, districts=regions.districts(), sorts=services.SORTS,
        service_fields=ServiceField.choices(), statuses=ExpertStatus.choices(), titles=services.title_options(),
        counts=services.status_counts(current_user), status_tones=STATUS_TONES, can_add=services.can_add(current_user),
    )


# ------------------------------------------------------------------ add and edit


@bp.route("/experts/new", methods=["GET", "POST"])
@login_required
def create():
    if not services.can_add(current_user):
        abort(403)
    form = _expert_form() if request.method == "POST" else _expert_form(
        formdata=None, district=services.allowed_district(current_user) or 0)
    if request.method == "POST":
        if form.validate():
            try:
                expert = services.create_expert(by=current_user, details=_details(form), base_url=_base_url())
                db.session.commit()
            except services.PoolError as exc:
                db.session.rollback()
                _field_error(form, exc.field, exc.message)
                return render_template("pools/form.html", form=form, expert=None), exc.status if exc.status != 409 else 422
            flash(f"已将“{expert.name}”加入专家库，设置密码的链接已发送至 {expert.email}", "success")
            return redirect(url_for("pools.detail", expert_id=expert.id))
        return render_template("pools/form.html", form=form, expert=None), 422
    return render_template("pools/form.html", form=form, expert=None)


@bp.route("/experts/<int:expert_id>/edit", methods=["GET", "POST"])
@login_required
def edit(expert_id: int):
    _require_pool_viewer()
    expert = _expert_or_404(expert_id)
    if not services.can_edit(expert, current_user):
        abort(403)
    if request.method == "POST":
        form = _expert_form()
        if form.validate():
            try:
                changed = services.update_expert(expert, by=current_user, details=_details(form))
                db.session.commit()
            except services.PoolError as exc:
                db.session.rollback()
                _field_error(form, exc.field, exc.message)
                return render_template("pools/form.html", form=form, expert=expert), 422
            flash("已保存专家信息" if changed else "没有需要保存的修改", "success" if changed else "info")
            return redirect(url_for("pools.detail", expert_id=expert.id))
        return render_template("pools/form.html", form=form, expert=expert), 422
    form = _expert_form(
        formdata=None, name=expert.name, mobile=expert.mobile, email=expert.email, title=expert.title,
        employer=expert.employer, employer_uscc=expert.employer_uscc, fields=[f.value for f in expert.sorted_fields],
        district=expert.district_id or 0, max_reviews_per_round=expert.max_reviews_per_round, bio=expert.bio,
        notes=expert.notes,
    )
    return render_template("pools/form.html", form=form, expert=expert)


# ------------------------------------------------------------------ detail and status


def _render_detail(expert: Expert, status: int = 200, **forms_):
    ctx = dict(
        expert=expert,
        today=today_local(),
        history=states.history(expert),
        status_tones=STATUS_TONES,
        can_edit=services.can_edit(expert, current_user),
        can_change_status=services.can_change_status(current_user),
        can_delete_relation=services.can_delete_relation(expert, current_user),
        status_form=forms_.get("status_form") or forms.StatusForm(formdata=None),
        relation_form=forms_.get("relation_form") or forms.RelationForm(formdata=None),
        unavailable_form=forms_.get("unavailable_form") or forms.UnavailableForm(formdata=None),
        empty_form=forms.EmptyForm(formdata=None),
        open_form=forms_.get("open_form"),
        allowed_actions=[a for a, to in services.STATUS_ACTIONS.items() if to in Expert.TRANSITIONS.get(expert.status, set())],
        review_history=_review_history(expert),
    )
    return render_template("pools/detail.html", **ctx), status


def _review_history(expert: Expert):
    """Rounds, reviews, on-time rate and deviation — filled in by the review domain when it exists."""
    try:
        from incubator.review import services as review_services  # type: ignore[attr-defined]
    except ImportError:
        return None
    fn = getattr(review_services, "expert_history", None)
    return fn(expert) if fn is not None else None


@bp.get("/experts/<int:expert_id>")
@login_required
def detail(expert_id: int):
    expert = _expert_or_404(expert_id)
    if services.is_self(expert, current_user):
        return redirect(url_for("pools.me"))
    if not services.can_view(expert, current_user):
        abort(404 if current_user.role == Role.EXPERT else 403)
    return _render_detail(expert)


@bp.post("/experts/<int:expert_id>/status")
@login_required
def change_status(expert_id: int):
    _require_pool_viewer()
    expert = _expert_or_404(expert_id)
    if not services.can_change_status(current_user):
        abort(403)
    form = forms.StatusForm()
    if not form.validate():
        return _render_detail(expert, 422, status_form=form, open_form=request.form.get("action"))
    to = services.STATUS_ACTIONS[form.action.data]
    try:
        services.change_status(expert, by=current_user, to=to, reason=form.reason.data)
        db.session.commit()
    except (states.InvalidTransition, services.PoolError) as exc:
        db.session.rollback()
        flash(getattr(exc, "message", None) or str(exc), "danger")
        return _render_detail(services.load_for_detail(expert_id), 409)
    flash(f"“{expert.name}”已{ACTION_DONE[form.action.data]}", "success")
    return redirect(url_for("pools.detail", expert_id=expert.id))


@bp.post("/experts/<int:expert_id>/invite")
@login_required
def resend_invitation(expert_id: int):
    _require_pool_viewer()
    expert = _expert_or_404(expert_id)
    if not services.can_edit(expert, current_user):
        abort(403)
    if not forms.EmptyForm().validate():
        abort(400)
    try:
        services.resend_invitation(expert, by=current_user, base_url=_base_url())
        db.session.commit()
    except services.PoolError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("pools.detail", expert_id=expert.id)), 303
    flash(f"已重新发送设置密码的链接至 {expert.email}", "success")
    return redirect(url_for("pools.detail", expert_id=expert.id))


# ------------------------------------------------------------------ relations and unavailable dates


def _declarable(expert_id: int) -> Expert:
    expert = _expert_or_404(expert_id)
    if not services.can_declare(expert, current_user):
        abort(404 if current_user.role == Role.EXPERT else 403)
    return expert


def _render_declare(expert: Expert, status: int, **forms_):
    if services.is_self(expert, current_user):
        return _render_me(expert, status, **forms_)
    return _render_detail(expert, status, **forms_)


@bp.post("/experts/<int:expert_id>/relations")
@login_required
def add_relation(expert_id: int):
    expert = _declarable(expert_id)
    form = forms.RelationForm()
    if not form.validate():
        return _render_declare(expert, 422, relation_form=form, open_form="relation")
    try:
        rel = services.add_relation(
            expert, by=current_user, kind=RelationKind(form.kind.data), org_id=form.org_id.data,
            org_name=form.org_name.data, org_uscc=form.org_uscc.data or None, start_on=form.start_on.data,
            end_on=form.end_on.data, note=form.note.data,
        )
        db.session.commit()
    except services.PoolError as exc:
        db.session.rollback()
        expert = services.load_for_detail(expert_id)
        _field_error(form, exc.field, exc.message)
        return _render_declare(expert, exc.status if exc.status != 409 else 422, relation_form=form, open_form="relation")
    flash(f"已申报：{rel.org_name}（{rel.kind.label}）", "success")
    return redirect(_back(expert, "#relations"))


def _own_row(model, row_id: int, expert: Expert):
    """The expert's row, None when it no longer exists (deleted already: a second click is harmless);
    another expert's row is 404."""
    row = db.session.get(model, row_id) if services.as_id(row_id) else None
    if row is not None and row.expert_id != expert.id:
        abort(404)
    return row


@bp.post("/experts/<int:expert_id>/relations/<int:relation_id>/delete")
@login_required
def delete_relation(expert_id: int, relation_id: int):
    expert = _declarable(expert_id)
    if not services.can_delete_relation(expert, current_user):
        abort(403)
    if not forms.EmptyForm().validate():
        abort(400)
    rel = _own_row(ExpertRelation, relation_id, expert)
    if rel is None:
        flash("该关系已删除", "info")
        return redirect(_back(expert, "#relations"))
    name = rel.org_name
    services.delete_relation(rel, by=current_user)
    db.session.commit()
    flash(f"已删除申报的关系：{name}", "success")
    return redirect(_back(expert, "#relations"))


@bp.post("/experts/<int:expert_id>/unavailable")
@login_required
def add_unavailable(expert_id: int):
    expert = _declarable(expert_id)
    form = forms.UnavailableForm()
    if not form.validate():
        return _render_declare(expert, 422, unavailable_form=form, open_form="unavailable")
    try:
        row = services.add_unavailability(expert, by=current_user, start_on=form.start_on.data, end_on=form.end_on.data,
                                          note=form.note.data, today=today_local())
        db.session.commit()
    except services.PoolError as exc:
        db.session.rollback()
        expert = services.load_for_detail(expert_id)
        _field_error(form, exc.field, exc.message)
        return _render_declare(expert, 422, unavailable_form=form, open_form="unavailable")
    flash(f"已登记不可评审日期：{row.start_on:%Y-%m-%d} 至 {row.end_on:%Y-%m-%d}", "success")
    return redirect(_back(expert, "#unavailable"))


@bp.post("/experts/<int:expert_id>/unavailable/<int:row_id>/delete")
@login_required
def delete_unavailable(expert_id: int, row_id: int):
    expert = _declarable(expert_id)
    if not forms.EmptyForm().validate():
        abort(400)
    row = _own_row(ExpertUnavailability, row_id, expert)
    if row is None:
        flash("该时段已删除", "info")
        return redirect(_back(expert, "#unavailable"))
    services.delete_unavailability(row, by=current_user)
    db.session.commit()
    flash("已删除该不可评审时段", "success")
    return redirect(_back(expert, "#unavailable"))


@bp.get("/orgs.json")
@login_required
def org_search():
    """Registry organisations by name or USCC, for declaring a relation (staff and experts)."""
    if not (services.can_view_pool(current_user) or current_user.role == Role.EXPERT):
        abort(403)
    items = [{"id": o.id, "name": o.name, "uscc": o.uscc or ""} for o in services.search_orgs(request.args.get("q", ""))]
    return jsonify({"items": items})


# ------------------------------------------------------------------ import


@bp.get("/import/template")
@login_required
def import_template():
    if not services.can_add(current_user):
        abort(403)
    from incubator.core.excel import content_disposition

    data = importer.template_bytes([d.name for d in regions.districts()])
    response = current_app.response_class(data, mimetype=importer.XLSX_MIME)
    response.headers["Content-Disposition"] = content_disposition("专家导入模板.xlsx")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_experts():
    if not services.can_add(current_user):
        abort(403)
    form = forms.ImportForm()
    if request.method == "GET":
        return render_template("pools/import.html", form=form, errors=None, message=None)
    if not form.validate():
        return render_template("pools/import.html", form=form, errors=None, message="请重新提交"), 422
    try:
        experts = services.import_experts(request.files.get("file"), by=current_user, base_url=_base_url())
        db.session.commit()
    except UploadRejected as exc:
        db.session.rollback()
        return render_template("pools/import.html", form=form, errors=None, message=str(exc)), 422
    except importer.ImportRejected as exc:
        db.session.rollback()
        return render_template("pools/import.html", form=form, errors=exc.errors, message=exc.message), 422
    except (services.PoolError, IntegrityError) as exc:
        db.session.rollback()
        message = getattr(exc, "message", None) or "导入时发现重复的手机号或邮箱，未导入任何专家，请核对后重试"
        return render_template("pools/import.html", form=form, errors=None, message=message), 422
    flash(f"导入成功：共{len(experts)}位专家已加入专家库，设置密码的链接已发送至各自邮箱", "success")
    return redirect(url_for("pools.index", sort="new"))


# ------------------------------------------------------------------ the expert's own page


def _render_me(expert: Expert | None, status: int = 200, **forms_):
    return render_template(
        "pools/me.html", expert=expert, today=today_local(), status_tones=STATUS_TONES,
        relation_form=forms_.get("relation_form") or forms.RelationForm(formdata=None),
        unavailable_form=forms_.get("unavailable_form") or forms.UnavailableForm(formdata=None),
        empty_form=forms.EmptyForm(formdata=None), open_form=forms_.get("open_form"),
    ), status


@bp.get("/me")
@login_required
def me():
    if current_user.role != Role.EXPERT:
        abort(403)
    return _render_me(services.expert_for_user(current_user))
