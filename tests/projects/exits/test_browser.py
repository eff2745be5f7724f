"""Browser: staff terminate a failed project through the tab (confirmation dialog), finance records a partial
refund with its bank receipt, the organisation reads its settlement; screenshots of each state."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from incubator.extensions import db as _db
from tests.browser.conftest import browser, live_server, login, page, screenshot  # noqa: F401
from tests.projects.exits.helpers import PDF_BYTES, in_progress, verified_expense
from tests.projects.helpers import make_member

pytestmark = pytest.mark.browser


def test_terminate_refund_and_read_only_view(db, live_server, page, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    from incubator.projects.exits.models import Settlement, SettlementStatus

    project, staff, finance = in_progress("100000.00")
    verified_expense(project, "31234.56")
    member = make_member(project.org)
    _db.session.commit()

    login(page, staff)
    page.goto(f"/projects/{project.id}/exit")
    expect(page.get_by_test_id("consequences")).to_contain_text("¥18,765.44")
    screenshot(page, "exits_staff_open")
    page.select_option("#reason_kind", "failed_evaluation")
    page.fill("#detail", "中期评估综合得分52分，结论为不合格；经整改仍未达到合同约定的服务数量。")
    page.check("#confirm")
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.accept()))
    with page.expect_navigation():
        page.get_by_role("button", name="终止项目").click()
    assert messages and "此操作不可撤销" in messages[0] and "3年内不得申报" in messages[0]
    expect(page.get_by_test_id("debarment")).to_contain_text("禁入期")
    expect(page.get_by_test_id("refund-due")).to_have_text("¥18,765.44")
    screenshot(page, "exits_staff_terminated")

    page.context.clear_cookies()
    login(page, finance)
    page.goto(f"/projects/{project.id}/exit")
    receipt = tmp_path / "退款回单.pdf"
    receipt.write_bytes(PDF_BYTES)
    page.fill("#amount", "10000.00")
    page.fill("#voucher_no", "TK-2026-0001")
    page.set_input_files("#file", str(receipt))
    with page.expect_navigation():
        page.get_by_role("button", name="登记到账").click()
    expect(page.get_by_test_id("outstanding")).to_have_text("¥8,765.44")
    screenshot(page, "exits_finance_partial_refund")
    page.goto("/staff/exits")
    expect(page.get_by_test_id("exit-table")).to_contain_text(project.number)
    screenshot(page, "exits_staff_list")

    page.context.clear_cookies()
    login(page, member)
    page.goto(f"/projects/{project.id}/exit")
    expect(page.get_by_test_id("refund-notice")).to_contain_text("¥8,765.44")
    assert page.locator("[data-testid=exit-page] form").count() == 0
    screenshot(page, "exits_org_read_only")

    _db.session.expire_all()
    s = _db.session.query(Settlement).one()
    assert s.status == SettlementStatus.REFUND_DUE and s.received_total == Decimal("10000.00")
    assert Path(screenshot(page, "exits_org_read_only")).exists()


def test_staff_close_a_project(db, live_server, page):  # noqa: F811
    from playwright.sync_api import expect

    from tests.projects.exits.helpers import fully_paid

    project, staff, _ = fully_paid("60000.00")
    verified_expense(project, "59000.00")
    _db.session.commit()
    login(page, staff)
    page.goto(f"/projects/{project.id}/exit")
    expect(page.get_by_test_id("close-ready")).to_be_visible()
    page.fill("#note", "结项验收合格，服务目标全部完成。")
    page.check("#confirm_close")
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="办理结项").click()
    expect(page.get_by_test_id("settlement")).to_contain_text("资金结算（结项）")
    expect(page.get_by_test_id("refund-due")).to_have_text("¥1,000.00")
    screenshot(page, "exits_staff_closed")
