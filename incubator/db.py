"""Declarative base, naming convention, timestamps and the Money type."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import BigInteger, DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Every DateTime column holds naive UTC; convert at the edges with to_local/from_local."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


BEIJING = timezone(timedelta(hours=8))


def to_local(value: datetime) -> datetime:
    """Naive UTC → naive Beijing time, for display and for deciding 'today'."""
    return value.replace(tzinfo=timezone.utc).astimezone(BEIJING).replace(tzinfo=None)


def from_local(value: datetime) -> datetime:
    """Naive Beijing time (what a user typed) → naive UTC for storage."""
    return value.replace(tzinfo=BEIJING).astimezone(timezone.utc).replace(tzinfo=None)


def today_local() -> date:
    return to_local(utcnow()).date()


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, server_default=func.now()
    )


CENT = Decimal("0.01")


class MoneyError(ValueError):
    pass


def to_fen(amount: Decimal | int | str) -> int:
    """Exact yuan → integer 分. Refuses floats, NaN, infinities and fractions of a 分."""
    if isinstance(amount, float):
        raise MoneyError("金额不能使用浮点数")
    try:
        value = Decimal(amount) if not isinstance(amount, Decimal) else amount
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError("金额格式不正确") from exc
    if not value.is_finite():
        raise MoneyError("金额格式不正确")
    if value != value.quantize(CENT):
        raise MoneyError("金额最多保留两位小数（精确到分）")
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


class Money(TypeDecorator):
    """Integer 分 in the database, Decimal yuan in Python (DESIGN: money is exact)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return to_fen(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return from_fen(int(value))


def enum_type(enum_cls, length: int = 30):
    """Store a StrEnum by its value as VARCHAR (portable across SQLite and PostgreSQL)."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
