"""XLSX exports: formula injection neutralised (SECURITY.md bad input 3), money numeric, Chinese file names."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from incubator.core.enums import LabeledEnum
from incubator.core.excel import build_xlsx, safe_cell, xlsx_response

PAYLOADS = ['=HYPERLINK("http://x","点击")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\t=1+1", "\r=1+1", "=1+1"]


class Color(LabeledEnum):
    RED = ("red", "红色")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payloads_are_neutralised(payload):
    assert safe_cell(payload) == "'" + payload


def test_plain_values_keep_their_type():
    assert safe_cell("张三") == "张三"
    assert safe_cell(Decimal("12345.67")) == Decimal("12345.67")
    assert safe_cell(-5) == -5  # a negative number is a number, not text
    assert safe_cell(dt.date(2026, 12, 1)) == dt.date(2026, 12, 1)
    assert safe_cell(None) is None
    assert safe_cell(True) == "是"
    assert safe_cell(Color.RED) == "红色"
    assert safe_cell("a\x00b\x07c") == "abc"


def test_workbook_cells(app):
    rows = [
        ["=HYPERLINK(\"http://x\",\"点击\")", Decimal("12345.67"), 3, dt.date(2026, 12, 1), "@SUM(1)"],
        ["+cmd|' /C calc'!A0", Decimal("0.10"), -1, dt.datetime(2026, 12, 1, 9, 30), "普通文字"],
    ]
    wb = load_workbook(io.BytesIO(build_xlsx(["名称", "金额", "数量", "日期", "备注"], rows)))
    ws = wb.active
    assert [c.value for c in ws[1]] == ["名称", "金额", "数量", "日期", "备注"]
    assert all(c.font.bold for c in ws[1])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula"
    assert ws["A2"].value == "'=HYPERLINK(\"http://x\",\"点击\")"
    assert ws["E2"].value == "'@SUM(1)"
    assert ws["B2"].data_type == "n" and ws["B2"].value == 12345.67 and ws["B2"].number_format == "#,##0.00"
    assert ws["B3"].value == 0.1
    assert ws["C3"].value == -1
    assert ws["D2"].is_date and ws["D2"].number_format == "yyyy-mm-dd"
    assert ws["D3"].is_date
    assert ws.column_dimensions["A"].width > ws.column_dimensions["C"].width
    assert ws.freeze_panes == "A2"


def test_xlsx_response(app):
    with app.test_request_context("/"):
        response = xlsx_response("项目清单 2026", ["项目"], [["社区养老"]])
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    cd = response.headers["Content-Disposition"]
    assert cd.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("项目清单 2026.xlsx", safe="") in cd
    assert 'filename="' in cd and cd.split('filename="')[1].split('"')[0].isascii()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    wb = load_workbook(io.BytesIO(response.get_data()))
    assert wb.active["A2"].value == "社区养老"


def test_header_injection_in_filename(app):
    with app.test_request_context("/"):
        response = xlsx_response("a\r\nSet-Cookie: x=1", ["h"], [])
    assert "\n" not in response.headers["Content-Disposition"]
