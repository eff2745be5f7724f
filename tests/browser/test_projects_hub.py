"""The projects hub in a browser: a district staff member launches a purchase of service, sets its
tranche schedule, sees the tranches; the first tranche is requested, approved and paid by finance; the
list, overview, tranches, finance queue and desk render without console or CSP errors."""
from __future__ import annotations

import pytest

from incubator.accounts.models import Role
from incubator.db import today_local
from incubator.projects import services
from incubator.projects.models import Project, TrancheCondition
from tests.browser.conftest import assert_no_console_errors, console_log, login, screenshot
from tests.factories import make_district, make_user
from tests.projects.helpers import funded_application, make_org

pytestmark = pytest.mark.browser


def test_launch_a_purchase_set_the_schedule_and_pay_the_first_tranche(db, live_server, page):
    from playwright.sync_api import expect

    district = make_district(name="西工区", code="410303")
    org = make_org(district=district, name="西工区阳光社工服务中心")
    staff = make_user(Role.STAFF, district=district, name="王科长")
    finance = make_user(Role.FINANCE, name="财务李会计")
    funded_application(org, district=district)  # a 待立项 item on the list and the desk
    db.session.commit()
    page.on("dialog", lambda d: d.accept())

    login(page, staff)
    page.goto("/staff/projects/")
    expect(page.get_by_test_id("to-launch")).to_be_visible()
    page.get_by_test_id("new-purchase").click()
    page.locator("#q").fill("阳光")
    page.get_by_test_id("supplier-search").locator("button").click()
    page.locator("#org_id").select_option(label=page.locator("#org_id option").nth(1).inner_text())
    page.locator("#title").fill("社区居家养老上门服务")
    page.locator("#purchasing_department").fill("洛阳市西工区民政局")
    page.locator("#service_content").fill("为独居、空巢老人提供助餐、助洁、探访服务")
    page.locator("#quantity").fill("服务老人200名")
    page.locator("#term_start").fill("2026-03-01")
    page.locator("#term_end").fill("2029-02-28")  # three years: a reason is needed
    page.locator("#amount").fill("120000.00")
    page.locator("#budget_line").fill("2026年政府购买社会服务专项资金")
    page.get_by_test_id("launch-submit").click()
    expect(page.locator(".alert")).to_contain_text("须说明理由")
    expect(page.locator("#amount")).to_have_value("120000.00")  # the input is kept
    console_log(page).errors.clear()  # the refused form answered 422, as it should
    screenshot(page, "projects_hub_new_purchase_refused")
    page.locator("#term_reason").fill("服务内容稳定，预算有保障")
    page.get_by_test_id("launch-submit").click()
    expect(page.get_by_test_id("project-facts")).to_contain_text("社区居家养老上门服务")
    expect(page.get_by_test_id("tranche-summary")).to_contain_text("¥60,000.00")
    screenshot(page, "projects_hub_detail")

    page.get_by_role("link", name="分期拨付").first.click()
    expect(page.get_by_test_id("tranche-table")).to_contain_text("拨付条件“签约后”尚未满足")
    form = page.get_by_test_id("schedule-form")
    form.locator('input[name="rows-0-share"]').fill("60")
    form.locator('input[name="rows-1-share"]').fill("30")  # 60 + 30 + 20 = 110
    form.get_by_role("button", name="保存拨付计划").click()
    expect(page.locator(".alert-danger").first).to_contain_text("之和必须等于100%")
    form = page.get_by_test_id("schedule-form")
    expect(form.locator('input[name="rows-0-share"]')).to_have_value("60")  # kept
    console_log(page).errors.clear()  # 422
    form.locator('input[name="rows-2-share"]').fill("10")
    form.get_by_role("button", name="保存拨付计划").click()
    expect(page.locator(".alert-success")).to_contain_text("已保存拨付计划")
    expect(page.get_by_test_id("tranche-1")).to_contain_text("¥72,000.00")

    # the contract area records the signing; here through the service
    db.session.expire_all()
    project = db.session.scalar(db.select(Project))
    services.mark_condition_met(project, TrancheCondition.ON_SIGNING, by=db.session.get(type(staff), staff.id),
                                on=today_local())
    db.session.commit()
    page.reload()
    page.get_by_test_id("tranche-1").get_by_role("button", name="申请拨付").click()
    expect(page.locator(".alert-success")).to_contain_text("已申请第1期拨付")
    page.get_by_test_id("tranche-1").get_by_role("button", name="审核通过，转财务").click()
    expect(page.locator(".alert-success")).to_contain_text("已转财务拨付")
    screenshot(page, "projects_hub_tranches_staff")
    page.goto("/staff/projects/")
    screenshot(page, "projects_hub_list")
    page.goto("/staff/desk")
    expect(page.locator("body")).to_contain_text("待立项")
    screenshot(page, "projects_hub_desk_staff")
    assert_no_console_errors(page)

    page.context.clear_cookies()
    login(page, finance)
    page.goto("/finance/payments")
    expect(page.get_by_test_id("payment-table")).to_contain_text(project.number)
    screenshot(page, "projects_hub_finance_queue")
    pay = page.get_by_test_id("payment-table").locator("form.pay-form").first
    pay.locator('input[name$="voucher_no"]').fill("PZ-2026-0001")
    pay.get_by_role("button", name="确认拨付").click()
    expect(page.locator(".alert-success")).to_contain_text("凭证号 PZ-2026-0001")
    expect(page.locator("body")).to_contain_text("没有待拨付的申请")
    page.goto(f"/projects/{project.id}/tranches")
    expect(page.get_by_test_id("tranche-1")).to_contain_text("PZ-2026-0001")
    expect(page.get_by_test_id("paid-total")).to_contain_text("¥72,000.00")
    screenshot(page, "projects_hub_tranches_paid")
    page.goto("/staff/desk")
    screenshot(page, "projects_hub_desk_finance")
    assert_no_console_errors(page)
