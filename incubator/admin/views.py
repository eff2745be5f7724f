"""System administration (role admin only): users and roles, the audit log."""
from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from incubator.accounts import services as accounts
from incubator.accounts.forms import ConfirmForm, UserCreateForm, UserEditForm
from incubator.accounts.models import Role
from incubator.admin import services
from incubator.admin.audit_labels import action_label
from incubator.core.audit import AuditLog
from incubator.extensions import db, login_manager
from incubator.regions.services import district_choices

bp = Blueprint("admin", __name__, url_prefix="/admin")

@bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role != Role.ADMIN:
        abort(403)
    return None


@bp.app_template_filter("audit_action")
def audit_action_label(action: str) -> str:
    """The Chinese label of an audit action (incubator/admin/audit_labels.py); unknown ones as stored."""
    return action_label(action)


@bp.app_template_filter("audit_json")
def audit_json(value) -> str:
    """Before/after values as readable JSON text (autoescaped by the template, never marked safe)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _page() -> int:
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), 100_000)


def _user_or_404(user_id: int):
    user = accounts.get_user(user_id)
    if user is None:
        abort(404)
    return user


def _scope_form(form):
    form.set_choices(district_choices(), services.organization_choices())
    return form


# --- users --------------------------------------------------------------------------------------


@bp.get("/users")
def users():
    args = request.args
    filters = {k: args.get(k, "")[:100] for k in ("q", "role", "district", "active")}
    page = accounts.search_users(**filters, page=_page())
    return render_template(
        "admin/users.html", page=page, filters=filters, roles=Role.choices(), districts=district_choices()
    )


@bp.route("/users/new", methods=["GET", "POST"])
def create_user():
    form = _scope_form(UserCreateForm())
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                user = accounts.create_user(
                    name=form.name.data, email=form.email.data, mobile=form.mobile.data, role=Role(form.role.data),
                    district_id=form.district_id.data, org_id=form.org_id.data, is_org_admin=form.is_org_admin.data,
                    actor=current_user, base_url=current_app.config["BASE_URL"],
                )
            except accounts.AccountError as exc:
                db.session.rollback()
                field = exc.field if exc.field in ("email", "mobile", "org_id") else "email"
                getattr(form, field).errors = [exc.message]
            else:
                db.session.commit()
                flash(f"已创建用户 {user.name}，设置密码的链接已发送到 {user.email}。", "success")
                return redirect(url_for("admin.edit_user", user_id=user.id))
        return render_template("admin/user_form.html", form=form, user=None), 422
    return render_template("admin/user_form.html", form=form, user=None)


def _edit_page(user, form, status: int = 200):
    history = db.session.scalars(
        db.select(AuditLog)
        .where(AuditLog.object_type == "User", AuditLog.object_id == user.id)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(15)
    ).all()
    return render_template(
        "admin/user_form.html", form=form, user=user, history=history, confirm_form=ConfirmForm()
    ), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = _user_or_404(user_id)
    form = _scope_form(UserEditForm(obj=user if request.method == "GET" else None))
    if request.method == "GET":
        form.role.data = user.role.value
        return _edit_page(user, form)
    if not form.validate_on_submit():
        return _edit_page(user, form, 422)
    try:
        changed = accounts.update_user(
            current_user, user, role=Role(form.role.data), district_id=form.district_id.data,
            org_id=form.org_id.data, is_org_admin=form.is_org_admin.data,
        )
    except accounts.AccountError as exc:
        db.session.rollback()
        field = exc.field if exc.field in ("org_id",) else "role"
        getattr(form, field).errors = [exc.message]
        return _edit_page(user, form, exc.status)
    db.session.commit()
    flash("角色与范围已保存，该用户需重新登录。" if changed else "没有需要保存的修改。", "success" if changed else "info")
    return redirect(url_for("admin.edit_user", user_id=user.id))


def _user_action(user_id: int, action, done: str):
    user = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action(user)
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _edit_page(user, _scope_form(UserEditForm(formdata=None, obj=user)), exc.status)
    db.session.commit()
    flash(done.format(name=user.name), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/disable")
def disable_user(user_id: int):
    return _user_action(
        user_id, lambda u: accounts.set_active(current_user, u, active=False), "已停用 {name} 的账号，其登录已全部失效。"
    )


@bp.post("/users/<int:user_id>/enable")
def enable_user(user_id: int):
    return _user_action(user_id, lambda u: accounts.set_active(current_user, u, active=True), "已启用 {name} 的账号。")


@bp.post("/users/<int:user_id>/reset-2fa")
def reset_two_factor(user_id: int):
    return _user_action(
        user_id, lambda u: accounts.reset_two_factor(current_user, u), "已重置 {name} 的两步验证，下次登录时需重新绑定。"
    )


@bp.post("/users/<int:user_id>/send-password-link")
def send_password_link(user_id: int):
    def _send(u):
        if not u.active:
            raise accounts.NotAllowed("账号已停用，请先启用。")
        accounts.send_set_password_link(u, base_url=current_app.config["BASE_URL"], actor=current_user)

    return _user_action(user_id, _send, "设置密码的链接已发送给 {name}。")


# --- audit log ----------------------------------------------------------------------------------


@bp.get("/audit")
def audit_log():
    args = request.args
    filters = {k: args.get(k, "")[:100] for k in ("action", "actor", "object_type", "object_id", "date_from", "date_to")}
    page = services.search_audit(
        action=filters["action"], actor=filters["actor"], object_type=filters["object_type"],
        object_id=filters["object_id"], date_from=services.parse_date(filters["date_from"]),
        date_to=services.parse_date(filters["date_to"]), page=_page(),
    )
    return render_template(
        "admin/audit_log.html", page=page, filters=filters, actions=services.audit_actions(),
        object_types=services.audit_object_types(), object_labels=services.OBJECT_LABELS,
        names=services.audit_names(page.items), describe_change=services.describe_change,
    )
