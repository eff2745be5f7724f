"""Append-only audit log (DESIGN: every status change, score, money movement, role change, upload).

The actor is stored as an id *and* a label without a foreign key, so a row survives the deletion
of its actor. Updates and deletes of audit rows are refused at the ORM level.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, DateTime, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from incubator.db import Base, utcnow
from incubator.extensions import db


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_label: Mapped[str] = mapped_column(String(200), default="系统")
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditLog, "before_update")
def _no_update(mapper, connection, target):  # pragma: no cover - exercised by tests
    raise AuditLogIsAppendOnly("审计日志只能追加，不能修改")


@event.listens_for(AuditLog, "before_delete")
def _no_delete(mapper, connection, target):
    raise AuditLogIsAppendOnly("审计日志只能追加，不能删除")


def _plain(value: Any) -> Any:
    """JSON-safe copy: Decimal → string, dates → ISO, enums → value."""
    return json.loads(json.dumps(value, default=_default, ensure_ascii=False)) if value is not None else None


def _default(o: Any):
    if isinstance(o, Decimal):
        return str(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "value"):
        return o.value
    return str(o)


def _clean_line(text: str | None, limit: int) -> str | None:
    """No CR/LF in single-line fields (log injection), and bounded length."""
    if text is None:
        return None
    return text.replace("\r", " ").replace("\n", " ")[:limit]


def record(
    action: str,
    obj: Any | None = None,
    *,
    before: Any = None,
    after: Any = None,
    note: str | None = None,
    actor: Any | None = None,
) -> AuditLog:
    """Append one audit row in the current transaction (the caller commits)."""
    if actor is None and has_request_context():
        from flask_login import current_user

        actor = current_user if getattr(current_user, "is_authenticated", False) else None
    row = AuditLog(
        actor_id=getattr(actor, "id", None),
        actor_label=_clean_line(getattr(actor, "audit_label", None) or "系统", 200),
        action=_clean_line(action, 80),
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        before=_plain(before),
        after=_plain(after),
        note=note,
        ip=_clean_line(request.remote_addr, 64) if has_request_context() else None,
    )
    db.session.add(row)
    return row
