"""Roadshow in the browser: a judge scores on a phone (390 × 844) and the live board picks it up by polling."""
from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from incubator.accounts.models import Role
from incubator.extensions import db as _db
from incubator.roadshow import services
from tests.browser.conftest import assert_no_console_errors, browser, live_server, login, page  # noqa: F401
from tests.factories import make_user
from tests.roadshow.helpers import judge_scores, roadshow_world

pytestmark = pytest.mark.browser


def test_judge_scores_on_a_phone_and_the_board_updates(db, live_server, browser, page):  # noqa: F811
    staff = make_user(Role.STAFF, totp_secret=pyotp.random_base32(), totp_enabled=True)
    judge_user = make_user(Role.EXPERT)
    w = roadshow_world(n_apps=2, n_judges=5, staff=staff, judge_users=[judge_user], confirmed=False)
    first = w.contestants[0]
    services.mark_finished(first, by=staff)
    judge_scores(w, first, [70, 80, 90, 95], by_judges=w.judges[1:])
    db.session.commit()

    # the staff's live board
    login(page, staff)
    page.goto(f"/staff/roadshow/sessions/{w.session.id}/board")
    board = page.get_by_test_id("board-scores")
    expect(board.locator("tbody tr").first.locator("td.official")).to_have_text("83.75")  # 4 judges: the mean

    # the judge, on a phone
    phone = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    judge = phone.new_page()
    try:
        login(judge, judge_user)
        judge.goto(f"/roadshow/judge/sessions/{w.session.id}")
        item = judge.get_by_test_id("judge-items").locator("li").first
        expect(item).to_contain_text("待评分")
        assert judge.evaluate("document.documentElement.scrollWidth") <= 390
        item.locator("a").click()
        form = judge.get_by_test_id("judge-form")
        inputs = form.locator("input.points")
        for i, value in enumerate(["30", "40", "15"]):
            inputs.nth(i).fill(value)
        assert judge.evaluate("document.documentElement.scrollWidth") <= 390
        box = form.locator("button[type=submit]").bounding_box()
        assert box and box["width"] > 300  # a thumb-sized button across the screen
        judge.once("dialog", lambda d: d.accept())
        form.locator("button[type=submit]").click()
        expect(judge.locator(".alert-warning")).to_contain_text("无利害关系")  # the declaration comes first
        form = judge.get_by_test_id("judge-form")
        form.locator("#confirm_no_conflict").check()
        judge.once("dialog", lambda d: d.accept())
        form.locator("button[type=submit]").click()
        expect(judge.locator(".alert-success")).to_contain_text("85.00")
        expect(judge.get_by_test_id("judge-items").locator("li").first).to_contain_text("已评分")
    finally:
        phone.close()

    # the board polls: 5 judges now → drop 70 and 95, (80 + 85 + 90) / 3 = 85.00
    expect(board.locator("tbody tr").first.locator("td.official")).to_have_text("85.00", timeout=10_000)
    expect(page.get_by_test_id("board-ranking").locator("li").first).to_contain_text("85.00")
    assert_no_console_errors(page)
    _db.session.rollback()
