"""``notify(user, title, body, link)``: an in-app message in the user's notification centre.

Call it from any domain's services (inside the caller's transaction; the caller commits). ``link``
is a path inside this site such as ``/applications/12`` — anything else (``//evil.com``,
``javascript:…``, ``https://…``) is dropped, so a notification can never send a user elsewhere.
"""
from __future__ import annotations

import re

from sqlalchemy import func, select, update

from incubator.db import utcnow
from incubator.extensions import db
from incubator.notifications.models import Notification

_SAFE_LINK = re.compile(r"^/(?![/\\])[^\s\x00-\x1f\\]*$")


def safe_link(link: str | None) -> str | None:
    if not link or len(link) > 500 or not _SAFE_LINK.match(link):
        return None
    return link


def _one_line(text: str, limit: int) -> str:
    return " ".join((text or "").replace("\x00", "").split())[:limit]


def notify(user, title: str, body: str = "", link: str | None = None) -> Notification | None:
    """Add a notification for ``user`` (skipped for None or a user without an id)."""
    if user is None or getattr(user, "id", None) is None:
        return None
    n = Notification(
        user_id=user.id,
        title=_one_line(title, 200) or "通知",
        body=(body or "").replace("\x00", "")[:5000],
        link=safe_link(link),
        created_at=utcnow(),
    )
    db.session.add(n)
    db.session.flush()
    return n


def notify_many(users, title: str, body: str = "", link: str | None = None) -> list[Notification]:
    seen: set[int] = set()
    out = []
    for user in users:
        if user is None or user.id in seen:
            continue
        seen.add(user.id)
        n = notify(user, title, body, link)
        if n is not None:
            out.append(n)
    return out


def unread_count(user) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return int(
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def page_for(user, *, page: int = 1, per_page: int = 20, unread_only: bool = False):
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(user) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return int(result.rowcount or 0)
