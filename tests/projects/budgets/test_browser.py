"""Browser: the organisation records an expense with a receipt and asks for an adjustment; staff verify and
return expenses and approve the adjustment; screenshots of the budget page with data."""
from __future__ import annotations

import pytest

from incubator.extensions import db as _db
from tests.applications.helpers import PDF_BYTES
from tests.browser.conftest import browser, live_server, login, page, screenshot  # noqa: F401
from tests.projects.budgets import helpers
from tests.projects.budgets.helpers import budgeted, spend

pytestmark = pytest.mark.browser


def test_expense_adjustment_and_verification(db, live_server, page, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    from incubator.projects.budgets import services

    project, staff, member, lines = budgeted()
    services.verify_expense(spend(project, lines[0], "12500.00", member), by=staff)
    spend(project, lines[1], "3200.00", member)
    _db.session.commit()

    login(page, member)
    page.goto(f"/projects/{project.id}/budget")
    page.get_by_role("link", name="登记支出").click()
    receipt = tmp_path / "发票.pdf"
    receipt.write_bytes(PDF_BYTES)
    page.select_option("#line", str(lines[2].id))
    page.fill("#amount", "1,280.50")
    page.fill("#spent_on", "2026-04-02")
    page.fill("#payee", "洛阳市某某印刷厂")
    page.fill("#description", "宣传折页印刷500份")
    page.set_input_files("#receipts", str(receipt))
    with page.expect_navigation():
        page.get_by_role("button", name="提交").click()
    expect(page.get_by_test_id("expense-facts")).to_contain_text("¥1,280.50")
    page.goto(f"/projects/{project.id}/budget/adjustments/new")
    page.select_option("#from_line", str(lines[0].id))
    page.select_option("#to_line", str(lines[2].id))
    page.fill("#amount", "8000")
    page.fill("#reason", "服务人数增加，物料不足")
    with page.expect_navigation():
        page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_test_id("adjustments")).to_contain_text("待业务审核")
    screenshot(page, "budgets_org_budget")

    page.context.clear_cookies()
    login(page, staff)
    page.goto(f"/projects/{project.id}/budget?status=waiting")
    expect(page.get_by_test_id("expense-row")).to_have_count(2)
    row = page.get_by_test_id("expense-row").filter(has_text="宣传折页")
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        row.get_by_role("button", name="核实").click()
    row = page.get_by_test_id("expense-row").first
    row.get_by_placeholder("退回原因").fill("票据抬头不符")
    with page.expect_navigation():
        row.get_by_role("button", name="退回").click()
    page.goto(f"/projects/{project.id}/budget")
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.get_by_test_id("adjustment-row").get_by_role("button", name="同意并报市级审核").click()
    expect(page.get_by_test_id("adjustments")).to_contain_text("待市级审核")
    expect(page.get_by_test_id("total-rate")).to_contain_text("13.12%")
    screenshot(page, "budgets_staff_budget")
