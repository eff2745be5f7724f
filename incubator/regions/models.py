from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.db import Base


class District(Base):
    """区 (or county). ``code`` is the GB/T 2260 six-digit division code."""

    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    streets: Mapped[list["Street"]] = relationship(back_populates="district", order_by="Street.id")


class Street(Base):
    """街道 / 镇."""

    __tablename__ = "street"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    district: Mapped[District] = relationship(back_populates="streets")
    communities: Mapped[list["Community"]] = relationship(back_populates="street", order_by="Community.id")


class Community(Base):
    """社区 / 村."""

    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("street.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    street: Mapped[Street] = relationship(back_populates="communities")
