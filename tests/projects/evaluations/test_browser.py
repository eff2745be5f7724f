"""绩效评价 in a browser: the evaluator scores a mid-term (the estimate follows the typing, a bad score is
kept and marked), submits; district staff confirm it and the mid-term tranche becomes requestable; the
template editor, the evaluator's list and the annual assessment render without console or CSP errors."""
from __future__ import annotations

import re

import pytest

from incubator.accounts.models import Role
from incubator.projects.evaluations import demo, services
from incubator.projects.evaluations.models import EvaluationStage
from incubator.projects.models import TrancheStatus
from tests.browser.conftest import assert_no_console_errors, browser, console_log, live_server, login, page, screenshot  # noqa: F401
from tests.factories import make_district, make_user
from tests.projects.helpers import make_org, scheduled

pytestmark = pytest.mark.browser


def test_score_submit_confirm(db, live_server, page):  # noqa: F811
    from playwright.sync_api import expect

    district = make_district(name="西工区", code="410303")
    org = make_org(district=district, name="西工区阳光社工服务中心")
    staff = make_user(Role.STAFF, district=district, name="王科长")
    evaluator = make_user(Role.EVALUATOR, name="洛阳益民社会工作评估中心")
    project, _ = scheduled(org=org, by=staff)
    general, midterm = demo.seed_templates(by=staff)
    ev = services.assign_evaluation(project, stage=EvaluationStage.MIDTERM, template=midterm, evaluator=evaluator,
                                    by=staff)
    db.session.commit()
    page.on("dialog", lambda d: d.accept())

    login(page, evaluator)
    page.goto("/evaluator/evaluations")
    expect(page.get_by_test_id("my-evaluations")).to_contain_text(project.number)
    screenshot(page, "evaluations-mine")
    page.get_by_role("link", name="评分").first.click()
    expect(page.get_by_test_id("score-table")).to_contain_text("计划活动完成率")
    for leaf in ev.leaves:
        page.locator(f'input[name="score-{leaf["code"]}"]').fill(f"{leaf['max_points'] * 8 / 10:.2f}")
    page.locator('input[name="score-1.1.1"]').fill("11")  # above its 10 points
    expect(page.locator("[data-live-total]")).to_have_text("82.00")  # the estimate counts a score at most at its full marks
    page.locator("#summary").fill("项目按计划推进，服务对象反馈良好。")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-danger")).to_contain_text("计划活动完成率")
    expect(page.locator('input[name="score-1.1.1"]')).to_have_value("11")
    expect(page.locator('input[name="score-1.1.1"]')).to_have_class(re.compile("is-invalid"))
    screenshot(page, "evaluations-score-error")
    console_log(page).errors.clear()  # the refused form answered 422, as it should
    page.locator('input[name="score-1.1.1"]').fill("8")
    expect(page.locator("[data-live-total]")).to_have_text("80.00")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_test_id("total")).to_have_text("80.00")
    assert_no_console_errors(page)

    page.context.clear_cookies()
    login(page, staff)
    page.goto(f"/projects/{project.id}/evaluations/{ev.id}")
    expect(page.get_by_test_id("review-actions")).to_be_visible()
    screenshot(page, "evaluations-detail-submitted")
    page.get_by_role("button", name="确认评价结果").click()
    expect(page.locator(".alert-success")).to_contain_text("良好")
    page.goto(f"/projects/{project.id}/evaluations")
    expect(page.get_by_test_id("result-1")).to_contain_text("良好")
    screenshot(page, "evaluations-project-tab")
    db.session.expire_all()
    assert project.tranches[1].status == TrancheStatus.REQUESTABLE

    page.goto("/staff/indicator-templates")
    expect(page.get_by_test_id("templates")).to_contain_text(demo.GENERAL)
    screenshot(page, "evaluations-templates")
    page.get_by_role("link", name="编辑").first.click()
    expect(page.get_by_test_id("tree-editor")).to_be_visible()
    screenshot(page, "evaluations-template-edit")
    page.goto("/staff/assessments")
    expect(page.get_by_test_id("assessments")).to_contain_text(org.name)
    screenshot(page, "evaluations-assessments")
    assert_no_console_errors(page)
