"""StrEnum with a Chinese label per member, for states and choices shown to users."""
from __future__ import annotations

from enum import StrEnum


class LabeledEnum(StrEnum):
    """``MEMBER = ("value", "中文")``: compares and stores as the value, shows as the label."""

    def __new__(cls, value: str, label: str = ""):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label or value
        return obj

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def parse(cls, value):
        """The member whose value is ``value`` (a query-string filter), or None for anything else."""
        return cls(value) if isinstance(value, str) and value in cls._value2member_map_ else None
