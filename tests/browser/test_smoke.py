"""Smoke tests of the browser harness: the portal in Chinese without console errors, and the real
login form (with TOTP enrolment for a two-factor role)."""
from __future__ import annotations

import pytest

from incubator.accounts.models import Role
from tests.browser.conftest import assert_no_console_errors, console_log, login
from tests.factories import make_user

pytestmark = pytest.mark.browser


def test_home_page_renders_in_chinese_without_console_errors(db, live_server, page):
    response = page.goto("/")
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert live_server.app.config["PLATFORM_NAME"] in page.title()
    assert "社会组织孵化与资助管理平台" in page.locator("body").inner_text()
    # The stylesheets really loaded (a 404 or a CSP block would leave Bootstrap's defaults off).
    font_family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font_family and font_family != "Times New Roman"
    assert_no_console_errors(page)


def test_csp_violations_are_caught(db, live_server, page):
    """The harness must see what the CSP blocks, or the check above could never fail."""
    page.goto("/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = '1'; document.head.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    log = console_log(page)
    assert any("script-src" in entry for entry in log.csp), log.errors
    log.csp.clear()
    log.errors.clear()


def test_staff_logs_in_through_the_form_with_totp(db, live_server, page):
    staff = make_user(Role.STAFF, district_id=None)
    db.session.commit()
    secret = login(page, staff)  # first login: enrolment page, recovery codes, then in
    assert secret
    page.context.clear_cookies()
    db.session.expire_all()
    login(page, staff)  # second login: the TOTP page with the enrolled secret
    assert "/login" not in page.url
    assert_no_console_errors(page)
