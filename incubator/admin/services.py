"""Queries of the system administration pages (the audit log viewer)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from incubator.accounts.normalize import single_line
# How audit rows read (labels, values, names) lives in audit_labels; the views take it from here.
from incubator.admin.audit_labels import OBJECT_LABELS, describe_change  # noqa: F401
from incubator.admin.audit_labels import load_names as audit_names  # noqa: F401
from incubator.core.audit import AuditLog
from incubator.db import from_local
from incubator.extensions import db

MAX_DB_INT = 2**31 - 1


def parse_date(value: str | None) -> date | None:
    """YYYY-MM-DD from a filter box; anything else (2026-02-30, 0001-01-01, junk) is ignored."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
    return day if day.year >= 2000 else None


def audit_actions() -> list[str]:
    return list(db.session.scalars(db.select(AuditLog.action).distinct().order_by(AuditLog.action)))


def audit_object_types() -> list[str]:
    return list(
        db.session.scalars(
            db.select(AuditLog.object_type).where(AuditLog.object_type.is_not(None)).distinct().order_by(AuditLog.object_type)
        )
    )


def search_audit(
    *,
    action: str = "",
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    per_page: int = 50,
):
    """Newest first. ``actor`` matches the actor's id (digits) or part of their label; dates are
    Beijing dates, inclusive."""
    stmt = db.select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    action = single_line(action)[:80]
    if action:
        stmt = stmt.where(AuditLog.action == action)
    actor = single_line(actor)[:100]
    if actor:
        if actor.isdigit() and int(actor) <= MAX_DB_INT:
            stmt = stmt.where(AuditLog.actor_id == int(actor))
        else:
            stmt = stmt.where(AuditLog.actor_label.icontains(actor, autoescape=True))
    object_type = single_line(object_type)[:60]
    if object_type:
        stmt = stmt.where(AuditLog.object_type == object_type)
    if object_id.isdigit() and int(object_id) <= MAX_DB_INT:
        stmt = stmt.where(AuditLog.object_id == int(object_id))
    if date_from:
        stmt = stmt.where(AuditLog.at >= from_local(datetime.combine(date_from, time.min)))
    if date_to:
        stmt = stmt.where(AuditLog.at < from_local(datetime.combine(date_to + timedelta(days=1), time.min)))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=200)


def organization_choices() -> list[tuple[int, str]]:
    """Organisations for the user form's select (id, name). Read-only look-up of the orgs table."""
    from incubator.orgs.models import Organization

    return [tuple(row) for row in db.session.execute(db.select(Organization.id, Organization.name).order_by(Organization.name))]
