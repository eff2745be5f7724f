"""The notification centre: the list, mark one read (and follow its link), mark all read."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from incubator.extensions import db
from incubator.notifications import services
from incubator.notifications.models import Notification

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

from incubator.core.ids import MAX_ID  # noqa: E402


@bp.app_context_processor
def _bell():
    # A function, so the count query runs only on pages that show the bell.
    return {"notification_unread_count": lambda: services.unread_count(current_user)}


@bp.get("/")
@login_required
def index():
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and len(page) < 7 else 1
    unread_only = request.args.get("unread") == "1"
    notifications = services.page_for(current_user, page=page, unread_only=unread_only)
    return render_template(
        "notifications/index.html",
        page=notifications,
        unread_only=unread_only,
        unread=services.unread_count(current_user),
    )


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    if notification_id > MAX_ID:
        abort(404)
    n = db.session.get(Notification, notification_id)
    if n is None:
        abort(404)
    if n.user_id != current_user.id:
        abort(403)
    services.mark_read(n)
    db.session.commit()
    return redirect(services.safe_link(n.link) or url_for("notifications.index"))


@bp.post("/read-all")
@login_required
def read_all():
    count = services.mark_all_read(current_user)
    db.session.commit()
    flash(f"已将 {count} 条通知标记为已读。" if count else "没有未读通知。", "success")
    return redirect(url_for("notifications.index"))
