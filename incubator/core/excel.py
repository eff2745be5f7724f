"""XLSX exports (SECURITY.md: formula injection neutralised, money numeric).

``xlsx_response("项目清单.xlsx", ["项目名称", "金额"], rows)`` — the caller has checked who may
export and which rows they may see. Every cell goes through ``safe_cell``: text starting with
``= + - @ \\t \\r`` gets a leading apostrophe so no spreadsheet treats it as a formula; Decimals and
ints stay numbers (Decimals shown with two decimals), dates stay dates.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import Enum
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Characters Excel cannot store in a cell (XML 1.0 control characters).
_ILLEGAL = {c: None for c in range(32) if c not in (9, 10, 13)}


def safe_cell(value):
    """A value that is safe and typed for a spreadsheet cell."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Enum):
        value = getattr(value, "label", None) or value.value
    if isinstance(value, (int, float, Decimal, dt.date, dt.datetime, dt.time)):
        return value
    text = str(value).translate(_ILLEGAL)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _display_width(value) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    text = str(value)
    longest = max((line for line in text.splitlines() or [""]), key=len)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in longest)  # CJK characters are double width


def build_xlsx(headers: list[str], rows: Iterable[Sequence], *, sheet_title: str = "Sheet1") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title[:31]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF0F4")
    widths = [_display_width(h) for h in headers]
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col, value=safe_cell(header))
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(vertical="center")
    for r, row in enumerate(rows, start=2):
        for col, raw in enumerate(row, start=1):
            value = safe_cell(raw)
            cell = ws.cell(row=r, column=col, value=value)
            if isinstance(value, Decimal):
                cell.number_format = MONEY_FORMAT
            elif isinstance(value, dt.datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
            if col > len(widths):
                widths.append(0)
            widths[col - 1] = max(widths[col - 1], _display_width(value))
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 8), 60)
    ws.freeze_panes = "A2"
    if headers:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(ws.max_row, 1)}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 5987/6266)."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in filename) or "export.xlsx"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def xlsx_response(filename: str, headers: list[str], rows: Iterable[Sequence]) -> Response:
    if not filename.lower().endswith(".xlsx"):
        filename += ".xlsx"
    filename = filename.replace("/", "_").replace("\\", "_").replace("\r", "").replace("\n", "")
    data = build_xlsx(headers, rows)
    response = Response(data, mimetype=XLSX_MIME)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
