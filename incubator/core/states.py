"""State machines: one StrEnum per lifecycle, an explicit transition table, one writer.

A model that has a lifecycle declares::

    class Thing(Base):
        TRANSITIONS: ClassVar[dict[Status, set[Status]]] = {...}
        status: Mapped[Status] = ...

and only ``transition(thing, to, by=user, note=...)`` changes ``status``.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from incubator.core import audit
from incubator.db import Base, utcnow
from incubator.extensions import db


class InvalidTransition(Exception):
    def __init__(self, obj: Any, current: str, to: str):
        self.current, self.to = current, to
        super().__init__(f"不允许的状态变更：{label(current)} → {label(to)}")


class StatusHistory(Base):
    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(60), index=True)
    object_id: Mapped[int] = mapped_column(Integer, index=True)
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40))
    by_id: Mapped[int | None] = mapped_column(Integer)
    by_label: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def label(status: Any) -> str:
    return getattr(status, "label", None) or str(getattr(status, "value", status))


def can_transition(obj: Any, to: StrEnum) -> bool:
    return to in obj.TRANSITIONS.get(obj.status, set())


def transition(obj: Any, to: StrEnum, *, by: Any | None, note: str | None = None, field: str = "status") -> None:
    """Move obj to state ``to`` if the table allows it; write history and audit rows; flush."""
    current = getattr(obj, field)
    table = obj.TRANSITIONS
    if to not in table.get(current, set()):
        raise InvalidTransition(obj, current, to)
    setattr(obj, field, to)
    db.session.flush()  # obj gets its id before history refers to it
    db.session.add(
        StatusHistory(
            object_type=type(obj).__name__,
            object_id=obj.id,
            from_status=str(current.value) if current is not None else None,
            to_status=str(to.value),
            by_id=getattr(by, "id", None),
            by_label=getattr(by, "audit_label", None),
            note=note,
        )
    )
    audit.record(f"{type(obj).__name__.lower()}.{to.value}", obj, before={field: current}, after={field: to}, note=note, actor=by)
    db.session.flush()


def history(obj: Any) -> list[StatusHistory]:
    return list(
        db.session.scalars(
            db.select(StatusHistory)
            .where(StatusHistory.object_type == type(obj).__name__, StatusHistory.object_id == obj.id)
            .order_by(StatusHistory.at, StatusHistory.id)
        )
    )
