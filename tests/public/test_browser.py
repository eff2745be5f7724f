"""The public directory and funded projects in a browser, on the demo city plus two graded projects:
the pages render without console or CSP errors, on a desktop and on a phone; screenshots under
screenshots/public-*.png. Staff see the 承接项目与绩效评价 card on the organisation record."""
from __future__ import annotations

import pytest

from incubator.accounts.models import Role
from incubator.db import today_local
from incubator.orgs.models import Organization, Verification
from incubator.projects.models import ProjectStatus
from tests.browser.conftest import assert_no_console_errors, browser, console_log, live_server, login, page, screenshot  # noqa: F401
from tests.factories import make_user
from tests.public.helpers import funded

pytestmark = pytest.mark.browser


def _demo_with_grades(db):
    from incubator.demo import load_demo_data

    load_demo_data()
    day = today_local()
    clean = [o for o in db.session.scalars(db.select(Organization).order_by(Organization.id))
             if o.status == Verification.VERIFIED and not o.active_credit_records(day)]
    staff = make_user(Role.STAFF, district=clean[0].district, name="王科长")
    closed = funded(clean[0], by=staff, status=ProjectStatus.CLOSED, final=93, title="“银龄食堂”社区助餐服务项目",
                    amount="180000.00")
    funded(clean[1], status=ProjectStatus.CLOSED, final=84, title="四点半课堂青少年托管项目", amount="96000.00",
           budget_year=2025)
    db.session.commit()
    return clean[0], closed, staff


def test_public_pages(db, live_server, page):  # noqa: F811
    from playwright.sync_api import expect

    org, project, staff = _demo_with_grades(db)
    page.goto("/")
    page.get_by_role("link", name="社会组织名录").first.click()
    expect(page.get_by_role("heading", name="社会组织名录")).to_be_visible()
    expect(page.get_by_test_id("directory")).to_contain_text(org.name)
    expect(page.get_by_test_id("directory")).to_contain_text("禁入期至")
    assert_no_console_errors(page)
    screenshot(page, "public-directory")

    page.locator("#field").select_option("elderly")
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert "field=elderly" in page.url

    page.goto(f"/directory/{org.id}")
    expect(page.get_by_test_id("org-projects")).to_contain_text(project.title)
    expect(page.get_by_test_id("org-projects")).to_contain_text("优秀")
    assert org.contact_phone not in page.content()
    screenshot(page, "public-org-detail")

    page.goto("/funded-projects")
    expect(page.get_by_test_id("funded-projects")).to_contain_text(project.number)
    assert_no_console_errors(page)
    screenshot(page, "public-funded-projects")
    page.get_by_role("link", name=project.title).click()
    expect(page.get_by_test_id("project-grades")).to_contain_text("优秀")
    screenshot(page, "public-project-detail")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/directory")
    expect(page.get_by_test_id("directory-cards")).to_be_visible()
    screenshot(page, "public-directory-phone")
    page.goto("/funded-projects")
    expect(page.get_by_test_id("project-cards")).to_be_visible()
    screenshot(page, "public-funded-projects-phone")

    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, staff)
    page.goto(f"/orgs/{org.id}")
    card = page.get_by_test_id("org-project-record")
    expect(card).to_contain_text(project.number)
    expect(card).to_contain_text("优秀")
    assert_no_console_errors(page)
    page.locator("#projects").scroll_into_view_if_needed()
    screenshot(page, "public-staff-org-record")
    card.get_by_role("link", name=project.title).click()
    assert page.url.endswith(f"/projects/{project.id}")
