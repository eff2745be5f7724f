"""Row ids from user input (URL parts, query strings, form values).

Primary keys are INTEGER: a larger number cannot be a row, and PostgreSQL refuses to compare it,
so it must be treated as "not found" before it reaches a query (SECURITY.md bad input 9).
"""
from __future__ import annotations

MAX_ID = 2**31 - 1


def as_id(value) -> int | None:
    """A plausible row id, or None for anything else (0, -1, 99999999999, abc, blanks)."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
