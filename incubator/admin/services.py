"""Queries of the system administration pages (the audit log viewer)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from incubator.accounts.normalize import single_line
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


# --- reading audit rows -------------------------------------------------------------------------

OBJECT_LABELS = {
    "User": "用户",
    "Organization": "社会组织",
    "CreditRecord": "信用记录",
    "Call": "申报通知",
    "Application": "申报书",
    "Job": "后台任务",
    "StoredFile": "文件",
    "WorkdayOverride": "工作日调整",
    "CalendarYear": "工作日历年度",
}
# Keys of before/after that the account pages write; others are shown as they are stored.
CHANGE_LABELS = {
    "role": "角色",
    "district_id": "所属区",
    "org_id": "所属组织",
    "is_org_admin": "组织管理员",
    "email": "邮箱",
    "active": "账号启用",
}


def audit_names(rows) -> dict[tuple[str, int], str]:
    """Names of the users, districts and organisations that a page of audit rows refers to, in
    at most three queries whatever the number of rows: {("User", 7): "孙磊", ("district_id", 3): "涧西区"}."""
    from incubator.accounts.models import User
    from incubator.orgs.models import Organization
    from incubator.regions.models import District

    wanted: dict[str, set[int]] = {"User": set(), "district_id": set(), "org_id": set()}
    for row in rows:
        if row.object_type == "User" and row.object_id:
            wanted["User"].add(row.object_id)
        for side in (row.before, row.after):
            if isinstance(side, dict):
                for key in ("district_id", "org_id"):
                    if isinstance(side.get(key), int):
                        wanted[key].add(side[key])
    names: dict[tuple[str, int], str] = {}
    for key, model in (("User", User), ("district_id", District), ("org_id", Organization)):
        ids = [i for i in wanted[key] if 0 < i <= MAX_DB_INT]
        if ids:
            for id_, name in db.session.execute(db.select(model.id, model.name).where(model.id.in_(ids))):
                names[(key, id_)] = name
    return names


def _change_value(key: str, value, names: dict) -> str:
    import json

    from incubator.accounts.models import Role

    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "role" and value in Role._value2member_map_:
        return Role(value).label
    if key in ("district_id", "org_id") and isinstance(value, int):
        return names.get((key, value), f"#{value}")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def describe_change(row, names: dict) -> list[tuple[str, str | None, str | None]]:
    """(label, before, after) per key of the row's before/after; for a change with both sides only
    the keys whose value changed. A side that is absent is None."""
    before = row.before if isinstance(row.before, dict) else None
    after = row.after if isinstance(row.after, dict) else None
    if before is None and after is None:
        if row.before is None and row.after is None:
            return []
        return [("", _change_value("", row.before, names) if row.before is not None else None,
                 _change_value("", row.after, names) if row.after is not None else None)]
    keys = list(dict.fromkeys([*(before or {}), *(after or {})]))
    if before is not None and after is not None:
        keys = [k for k in keys if before.get(k) != after.get(k)]
    return [
        (
            CHANGE_LABELS.get(key, key),
            _change_value(key, before.get(key), names) if before is not None else None,
            _change_value(key, after.get(key), names) if after is not None else None,
        )
        for key in keys
    ]
