"""The application editor in Chromium: rows, live totals, autosave, reload, an expired session,
the submission problems, the receipt. Set APPLICATION_SCREENSHOTS=/dir to keep screenshots."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from incubator.applications.models import Application, ApplicationStatus
from tests.applications.helpers import PDF_BYTES, add_attachment_type, make_call, make_member, make_org
from tests.browser.conftest import (  # noqa: F401 - fixtures used by pytest
    assert_no_console_errors,
    browser,
    console_log,
    live_server,
    login,
    page,
)

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("APPLICATION_SCREENSHOTS")


def shot(page, name: str) -> None:  # noqa: F811 - the fixture is imported for pytest
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture()
def fast_autosave(live_server):  # noqa: F811
    live_server.app.config["APPLICATION_AUTOSAVE_MS"] = 1500
    yield
    live_server.app.config.pop("APPLICATION_AUTOSAVE_MS", None)


def expected_failure(page, path: str) -> None:
    """Forget the console's report of a 4xx the test caused on purpose (only that one)."""
    log = console_log(page)
    assert any(path in e for e in log.errors), log.errors
    log.errors[:] = [e for e in log.errors if path not in e]


def saved(page) -> None:
    """Wait until the editor has autosaved everything typed so far."""
    page.wait_for_selector("#app-editor[data-dirty='0']", state="attached", timeout=10_000)


def _fresh(db, app_id: int) -> Application:
    db.session.expire_all()
    return db.session.get(Application, app_id)


def test_fill_autosave_reload_expire_submit(db, live_server, page, fast_autosave, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    call = make_call(title="2026年洛阳市公益微创投大赛项目申报通知")
    add_attachment_type(call, name="登记证书副本")
    org = make_org(name="洛阳市洛龙区阳光社会工作服务中心")
    member = make_member(org, name="周主任")
    db.session.commit()
    login(page, member)

    # Start from the organisation's list of calls.
    page.goto("/org/calls")
    with page.expect_navigation():
        page.get_by_role("button", name="开始申报").first.click()
    assert "/edit" in page.url
    app_id = int(page.url.split("/")[-2])

    page.fill("#f-title", "“银龄互助”社区居家养老服务项目")
    page.select_option("#f-field", "elderly")
    # Budget: three rows, one added with the button; 0.1 × 3 shows exactly 0.30.
    page.select_option("select[name='budget-0-category']", "activity")
    page.fill("input[name='budget-0-item']", "矿泉水")
    page.fill("input[name='budget-0-unit_price']", "0.1")
    page.fill("input[name='budget-0-quantity']", "3")
    expect(page.locator("[data-budget-row]").nth(0).locator("[data-budget=amount]")).to_have_text("0.30")
    page.fill("input[name='budget-1-item']", "社区探访活动")
    page.select_option("select[name='budget-1-category']", "activity")
    page.fill("input[name='budget-1-unit_price']", "1,200")
    page.fill("input[name='budget-1-quantity']", "３０")
    page.click("[data-add-row=budget]")
    rows = page.locator("[data-budget-row]")
    assert rows.count() == 3
    last = rows.nth(2)
    last.locator("[data-budget=category]").select_option("personnel")
    last.locator("input[name$='-item']").fill("项目社工补贴")
    last.locator("[data-budget=price]").fill("1500")
    last.locator("[data-budget=qty]").fill("12")
    last.locator("[data-budget=source]").select_option("matching")
    expect(page.locator("[data-total=grant]")).to_have_text("¥36,000.30")
    expect(page.locator("[data-total=matching]")).to_have_text("¥18,000.00")
    expect(page.locator("[data-total=total]")).to_have_text("¥54,000.30")
    expect(page.locator("[data-budget-row]").nth(1).locator("[data-budget=amount]")).to_have_text("36,000.00")
    expect(page.locator("[data-grant-share]")).to_have_text("占总预算 66.67%，超过上限")
    saved(page)
    expect(page.get_by_test_id("save-status")).to_contain_text("已自动保存于")
    page.locator("#sec-budget").scroll_into_view_if_needed()
    shot(page, "01-editor-budget")

    app = _fresh(db, app_id)
    assert app.title == "“银龄互助”社区居家养老服务项目"
    assert [str(b.amount) for b in app.budget_lines] == ["0.30", "36000.00", "18000.00"]
    assert str(app.total_budget) == "54000.30"

    # Reload: nothing is lost.
    page.reload()
    assert page.input_value("#f-title") == "“银龄互助”社区居家养老服务项目"
    expect(page.locator("[data-total=total]")).to_have_text("¥54,000.30")

    # The session expires while typing: the script keeps the form locally and says so.
    page.context.clear_cookies()
    page.fill("#f-need_analysis", "辖区老龄化率达23%，独居老人缺少日常照应。")
    expect(page.get_by_test_id("save-status")).to_contain_text("登录已过期", timeout=10_000)
    assert not _fresh(db, app_id).need_analysis
    expected_failure(page, "/autosave")  # the refused autosave (no session, no CSRF token)
    login(page, member)
    page.goto(f"/applications/{app_id}/edit")
    expect(page.locator("#restore-notice")).to_contain_text("已恢复您在")
    assert page.input_value("#f-need_analysis") == "辖区老龄化率达23%，独居老人缺少日常照应。"
    saved(page)
    assert _fresh(db, app_id).need_analysis == "辖区老龄化率达23%，独居老人缺少日常照应。"

    # Submitting now lists every problem at once, grouped by section.
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.get_by_test_id("submit-application").click()
    problems = page.get_by_test_id("submission-problems")
    expect(problems).to_contain_text("请填写服务社区")
    expect(problems).to_contain_text("请至少填写一名项目团队成员")
    expect(problems).to_contain_text("请上传附件“登记证书副本”")
    expect(problems).to_contain_text("申请资助金额¥36,000.30超过项目总预算¥54,000.30的60%")
    shot(page, "02-submission-problems")
    expected_failure(page, "/submit")  # answered 422 on purpose

    # Complete it, upload the attachment, submit.
    fill = {
        "#f-service_communities": "开元路街道翠云社区", "#f-beneficiaries_description": "独居、空巢老人",
        "#f-beneficiaries_count": "300", "#f-period_start": "2026-07-01", "#f-period_end": "2027-06-30",
        "#f-supervisor": "开元路街道办事处", "#f-requester": "翠云社区居委会", "#f-overall_goal": "建立互助养老网络",
        "#f-sub_goals": "组建志愿者队伍50人", "#f-bank_name": "中国银行洛阳分行", "#f-bank_account_number": "621700001234567",
        "input[name='plan-0-start']": "2026-07-01", "input[name='plan-0-end']": "2026-08-31",
        "textarea[name='plan-0-content']": "需求调研", "textarea[name='plan-0-output']": "调研报告1份",
        "input[name='team-0-name']": "周敏", "input[name='team-0-role']": "项目负责人",
        "input[name='budget-3-item']": "宣传物料（自筹）", "input[name='budget-3-unit_price']": "6001",
        "input[name='budget-3-quantity']": "1",
    }
    for selector, value in fill.items():
        page.fill(selector, value)
    page.select_option("select[name='budget-3-category']", "materials")
    page.select_option("select[name='budget-3-source']", "matching")
    pdf = tmp_path / "登记证书.pdf"
    pdf.write_bytes(PDF_BYTES)
    upload = page.locator("form[data-upload-form]").first
    upload.locator("input[type=file]").set_input_files(str(pdf))
    with page.expect_navigation():
        upload.locator("button[type=submit]").click()  # saves the form first, then uploads
    expect(page.locator("#sec-attachments")).to_contain_text("登记证书.pdf")
    assert page.input_value("#f-bank_account_number") == "621700001234567"
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.get_by_test_id("submit-application").click()
    expect(page.get_by_test_id("receipt-number")).to_have_text("WCT-2026-0001")
    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_contain_text("洛阳市洛龙区阳光社会工作服务中心")
    expect(receipt).to_contain_text("¥36,000.30")
    expect(receipt).to_contain_text("已提交，等待资格审查")
    shot(page, "03-receipt")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('incubator.app.'))") == []
    app = _fresh(db, app_id)
    assert app.status == ApplicationStatus.SUBMITTED and app.total_budget == app.grant_requested + app.matching_amount
    assert db.session.scalars(select(Application)).all() == [app]

    page.goto("/applications/mine")
    expect(page.get_by_test_id(f"next-step-{app_id}")).to_have_text("已提交，等待资格审查")
    expect(page.get_by_test_id("notification-unread")).to_have_text("1")
    shot(page, "04-mine")
    assert_no_console_errors(page)


def test_leaving_the_page_saves_what_was_typed(db, live_server, page):  # noqa: F811
    """No autosave tick yet (20 s): leaving the page sends the form with sendBeacon on pagehide."""
    make_call()
    org = make_org()
    member = make_member(org)
    db.session.commit()
    login(page, member)
    page.goto("/org/calls")
    with page.expect_navigation():
        page.get_by_role("button", name="开始申报").first.click()
    app_id = int(page.url.split("/")[-2])
    page.fill("#f-title", "离开页面前填写的名称")
    page.fill("input[name='budget-0-unit_price']", "１２３")
    page.fill("input[name='budget-0-quantity']", "2")
    page.goto("/applications/mine")
    for _ in range(50):
        if _fresh(db, app_id).title:
            break
        page.wait_for_timeout(100)
    app = _fresh(db, app_id)
    assert app.title == "离开页面前填写的名称"
    assert str(app.budget_lines[0].amount) == "246.00"
    expect_title = page.get_by_role("link", name="离开页面前填写的名称")
    assert expect_title.count() in (0, 1)  # the list may have rendered before the beacon arrived
    page.goto(f"/applications/{app_id}/edit")
    assert page.input_value("#f-title") == "离开页面前填写的名称"
    assert page.locator("#restore-notice").is_hidden()  # the server had it: nothing to restore
    assert_no_console_errors(page)


def test_switching_tabs_saves_and_later_autosaves_do_not_conflict(db, live_server, page, fast_autosave):  # noqa: F811
    from playwright.sync_api import expect

    make_call()
    org = make_org()
    member = make_member(org)
    db.session.commit()
    login(page, member)
    page.goto("/org/calls")
    with page.expect_navigation():
        page.get_by_role("button", name="开始申报").first.click()
    app_id = int(page.url.split("/")[-2])
    page.fill("#f-title", "切换标签页前")
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    saved(page)
    assert _fresh(db, app_id).title == "切换标签页前"
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.fill("#f-title", "回到标签页后")
    saved(page)
    expect(page.get_by_test_id("save-status")).to_contain_text("已自动保存于")
    assert _fresh(db, app_id).title == "回到标签页后"
    assert_no_console_errors(page)
