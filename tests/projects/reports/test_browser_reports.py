"""Browser journey of the reports tab: the organisation submits a report with a photo, staff accept it;
screenshots of the tab, the form, a submission and the staff list (screenshots/reports-*.png)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from incubator.accounts.models import Role
from incubator.db import today_local
from incubator.projects.reports import demo, services
from incubator.projects.reports.models import ReportStatus
from tests.browser.conftest import assert_no_console_errors, browser, console_log, live_server, login, page, screenshot  # noqa: F401
from tests.core.helpers import png
from tests.factories import make_user
from tests.projects.helpers import launch, staff_for

pytestmark = pytest.mark.browser


def test_org_submits_and_staff_accepts(db, live_server, page, tmp_path):  # noqa: F811
    today = today_local()
    project = launch(term_start=today - timedelta(days=200), term_end=today + timedelta(days=160),
                     title="“暖心食堂”社区老年助餐服务项目")
    staff = staff_for(project.org)
    member = make_user(Role.APPLICANT, org=project.org)
    demo.seed(project, staff=staff, org_user=member)
    db.session.commit()
    overdue = services.overdue_reports(project)[-1]

    login(page, member)
    page.goto(f"/projects/{project.id}/reports")
    assert page.get_by_test_id("report-schedule").is_visible()
    assert page.get_by_test_id("overdue-badge").count() >= 1
    screenshot(page, "reports-tab-org")
    page.goto(f"/projects/{project.id}/reports/{overdue.id}/submit")
    page.locator("#text").fill("本月开展助餐服务，送餐上门，服务老人。")
    page.locator("#people_served").fill("-3")
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "不能小于" in page.content() or "不小于" in page.content() or "不能为负" in page.content()
    assert page.locator("#text").input_value() == "本月开展助餐服务，送餐上门，服务老人。"
    console_log(page).errors.clear()  # the expected 422 is logged by the browser
    page.locator("#people_served").fill("150")
    page.locator("#activities_held").fill("5")
    photo = tmp_path / "活动照片.png"
    photo.write_bytes(png((40, 30)))
    page.locator("#photos").set_input_files(str(photo))
    screenshot(page, "reports-submit-form")
    with page.expect_navigation():
        page.locator("form[enctype] button[type=submit]").click()
    assert "已提交" in page.content()
    assert_no_console_errors(page)

    page.context.clear_cookies()
    login(page, staff)
    page.goto(f"/projects/{project.id}/reports/{overdue.id}")
    assert "活动照片.png" in page.content()
    screenshot(page, "reports-detail-staff")
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="审核通过").click()
    assert "审核通过" in page.content()
    db.session.expire_all()
    assert services.schedule(project)[[i.id for i in services.schedule(project)].index(overdue.id)].status \
        == ReportStatus.ACCEPTED
    page.goto(f"/projects/{project.id}/reports")
    screenshot(page, "reports-tab-staff")
    page.goto("/staff/reports")
    assert page.get_by_test_id("report-list").is_visible()
    screenshot(page, "reports-staff-list")
    assert_no_console_errors(page)
