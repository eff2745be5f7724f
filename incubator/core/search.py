"""Free-text search in list pages: a LIKE pattern that matches the user's text literally.

``like_pattern("50%_off")`` → ``"%50\\%\\_off%"``; use it with ``column.ilike(pattern, escape=LIKE_ESCAPE)``
so that % and _ typed by a user are not wildcards (SECURITY.md: search input is data, never syntax).
"""
from __future__ import annotations

LIKE_ESCAPE = "\\"


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
