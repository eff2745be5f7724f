"""The review journey in Chromium: staff build a round, publish the seed hash, draw (the seed shown
after and checked in the browser), open scoring; an expert confirms, meets a score error, submits; a
second expert declares a conflict and is replaced. Screenshots go to REVIEW_SCREENSHOTS (if set)."""
from __future__ import annotations

import hashlib
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from incubator.accounts.models import Role
from incubator.db import to_local, utcnow
from incubator.extensions import db as _db
from incubator.review.models import Assignment, AssignmentStatus, ReviewRound, Score, ScoreStatus
from tests.applications.helpers import make_call, make_org
from tests.browser.conftest import (  # noqa: F401 - fixtures used by pytest
    assert_no_console_errors,
    browser,
    console_log,
    live_server,
    login,
    page,
)
from tests.factories import make_district, make_user
from tests.review.factories import add_attachment, make_expert, make_passed

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("REVIEW_SCREENSHOTS")


def shot(page, name: str) -> None:  # noqa: F811
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _logout(page):  # noqa: F811
    page.context.clear_cookies()


def test_round_draw_score_and_replacement(db, live_server, page):  # noqa: F811
    district = make_district(name="西工区", code="410303")
    staff = make_user(Role.STAFF, district=district, name="刘科长")
    call = make_call(district=district, title="2026年西工区公益微创投大赛项目申报通知")
    titles = ["“银龄互助”社区居家养老服务项目", "“护苗”托育家庭科学育儿指导项目", "“邻里议事厅”社区协商治理项目"]
    apps = []
    for i, title in enumerate(titles):
        org = make_org(district=district, name=f"洛阳市西工区测试服务中心{i + 1}", contact_email=f"office@xg{i}.org.cn")
        app = make_passed(org, call, title=title)
        apps.append(app)
    add_attachment(apps[0], name="西工区测试服务中心1-登记证书.pdf")
    for name in ("李明", "王芳", "张伟", "刘洋", "陈静"):
        make_expert(name=name)
    db.session.commit()
    page.on("dialog", lambda d: d.accept())

    # --- staff: a round, entries, the two-step draw, scoring opened
    login(page, staff)
    page.goto("/staff/review/rounds/new")
    page.locator('input[name="name"]').fill("书面评审")
    deadline = to_local(utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.locator('input[name="deadline"]').fill(deadline)
    page.locator('input[name="promotion_top_n"]').fill("2")
    with page.expect_navigation():
        page.locator('[data-testid="round-form"] button[type="submit"]').click()
    expect(page.locator(".alert-success")).to_contain_text("已创建评审轮次")
    with page.expect_navigation():
        page.get_by_test_id("import-entries").click()
    expect(page.get_by_test_id("entries")).to_contain_text(apps[2].number)
    page.get_by_role("link", name="随机抽取").first.click()
    expect(page.get_by_test_id("step-commit")).to_contain_text("生成随机种子")
    with page.expect_navigation():
        page.get_by_role("button", name="生成随机种子").click()
    commitment = page.get_by_test_id("commitment").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", commitment)
    expect(page.get_by_test_id("seed")).to_have_count(0)
    expect(page.get_by_test_id("commitment-time")).to_contain_text("公布时间")
    shot(page, "1-draw-commitment")
    with page.expect_navigation():
        page.get_by_role("button", name="执行抽取").click()
    seed = page.get_by_test_id("seed").inner_text().strip()
    assert hashlib.sha256(seed.encode()).hexdigest() == commitment
    assert page.get_by_test_id("commitment").inner_text().strip() == commitment
    expect(page.get_by_test_id("verify")).to_contain_text("本浏览器已独立核对：一致")
    shot(page, "2-draw-seed-revealed")
    round_id = _db.session.scalar(_db.select(ReviewRound.id))
    page.goto(f"/staff/review/rounds/{round_id}")
    with page.expect_navigation():
        page.get_by_role("button", name="开始评分并通知专家").click()
    expect(page.locator(".alert-success")).to_contain_text("已开始评分")
    shot(page, "5-round-detail")
    page.goto(f"/staff/review/rounds/{round_id}/assignments")
    expect(page.get_by_test_id("panels")).to_contain_text(apps[0].number)
    shot(page, "6-assignments")
    page.goto(f"/staff/review/rounds/{round_id}/criteria")
    expect(page.locator("[data-weight-total]")).to_have_text("100 分")
    shot(page, "7-criteria")
    assert_no_console_errors(page)

    # --- an expert on the first application: declaration, a bad score, then a good one
    panel = list(_db.session.scalars(_db.select(Assignment).where(Assignment.application_id == apps[0].id)
                                     .order_by(Assignment.id)))
    first, second = panel[0], panel[1]
    _logout(page)
    login(page, first.expert.user)
    page.goto("/expert/")
    expect(page.get_by_test_id("queue")).to_contain_text(apps[0].number)
    expect(page.get_by_test_id("countdown").first).to_contain_text("还剩")
    shot(page, "3-expert-queue")
    page.goto(f"/expert/assignments/{first.id}")
    expect(page.get_by_test_id("declaration")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="确认无利害关系").click()
    expect(page.get_by_test_id("score-panel")).to_be_visible()
    body = page.locator("main").inner_text()
    assert "洛阳市西工区测试服务中心1" not in body and "周敏" not in body
    expect(page.get_by_test_id("attachments")).to_contain_text("附件1.pdf")
    inputs = page.locator("[data-points]")
    for i in range(inputs.count()):
        inputs.nth(i).fill("10")
    inputs.nth(0).fill("5.5")
    page.locator('textarea[name="comments"]').fill("需求调研扎实。")
    with page.expect_navigation():
        page.get_by_role("button", name="提交评分").click()
    expect(page.get_by_test_id("score-error")).to_contain_text("必须是整数")
    expect(inputs.nth(0)).to_have_value("5.5")
    log = console_log(page)
    log.errors[:] = [e for e in log.errors if "422" not in e]
    shot(page, "4-score-blind-error")
    inputs.nth(0).fill("20")
    expect(page.locator("[data-total-preview]")).not_to_have_text("—")
    with page.expect_navigation():
        page.get_by_role("button", name="提交评分").click()
    expect(page.locator(".alert-success")).to_contain_text("评分已提交")
    _db.session.expire_all()
    score = _db.session.scalar(_db.select(Score).where(Score.assignment_id == first.id))
    assert score.status == ScoreStatus.SUBMITTED and score.total is not None
    assert_no_console_errors(page)

    # --- a second expert declares a conflict: replaced by a drawn expert
    _logout(page)
    login(page, second.expert.user)
    page.goto(f"/expert/assignments/{second.id}")
    page.locator('textarea[name="reason"]').fill("近三年曾任该机构顾问")
    with page.expect_navigation():
        page.get_by_role("button", name="申报回避").click()
    expect(page.locator(".alert-success")).to_contain_text("已申报回避")
    shot(page, "8-after-declaration")
    _db.session.expire_all()
    declined = _db.session.get(Assignment, second.id)
    assert declined.status == AssignmentStatus.REPLACED
    new = _db.session.scalar(_db.select(Assignment).where(Assignment.replaces_id == second.id))
    assert new is not None and new.expert_id not in {a.expert_id for a in panel}
    assert_no_console_errors(page)
