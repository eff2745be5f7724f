"""THE acceptance browser test of issue 4 (筛选评估), one journey in Chromium.

A closed call with three passed applications of different organisations and a pool of six active experts
(one of them a declared adviser of the first applicant). City staff (TOTP) build a written round with a
rubric of 100, detect conflicts, publish the seed's SHA-256, draw (seed revealed, checked here with
hashlib), open scoring. Each assigned expert logs in; one declares a conflict and is replaced by another
expert; all confirm and score. Staff close the round, rank, propose and approve the funding list, start
the 公示. An anonymous visitor reads the 公示 and files an objection (reference number); staff answer it
(不成立); the 公示 period is moved into the past in the database; staff finalise; the organisation member
sees the final result. Screenshots go to /tmp/review-journey/ (REVIEW_JOURNEY_SHOTS overrides).
"""
from __future__ import annotations

import hashlib
import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from incubator.accounts.models import Role
from incubator.applications.models import Application, ApplicationStatus
from incubator.db import to_local, today_local, utcnow
from incubator.extensions import db as _db
from incubator.publicity.models import FundingList, Objection, ObjectionStatus, Publicity, PublicityStatus
from incubator.review.models import Assignment, AssignmentStatus, ReviewRound, RoundStatus, Score, ScoreStatus
from tests.applications.helpers import make_call, make_org
from tests.browser.conftest import (  # noqa: F401 - fixtures used by pytest
    _CSP_LISTENER,
    TIMEOUT_MS,
    ConsoleLog,
    _logs,
    assert_no_console_errors,
    browser,
    live_server,
    login,
    page,
)
from tests.factories import make_district, make_user
from tests.review.factories import make_expert, make_passed, relate
from tests.screening.helpers import make_member

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("REVIEW_JOURNEY_SHOTS", "/tmp/review-journey"))

# Points per criterion (需求分析 30 / 方案可行性 40 / 团队能力 30) given to each application by every expert:
# totals 91, 81, 70 — the ranking must come out in this order.
POINTS = [(28, 36, 27), (25, 32, 24), (20, 28, 22)]
AMOUNTS = ["30000.00", "25000.00", "20000.00"]


def shot(tab, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def flash(tab):
    return tab.locator(".alert-success").first


def other_tab(browser, live_server):  # noqa: F811
    """A second browser context (own cookies) for experts, the anonymous visitor and the member,
    watched for console errors and CSP violations like the ``page`` fixture."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(_CSP_LISTENER)
    tab = context.new_page()
    log = ConsoleLog()
    _logs[id(tab)] = log
    tab.on("console", log.on_console)
    tab.on("pageerror", log.on_page_error)
    tab.on("dialog", lambda d: d.accept())
    return tab, log


def test_review_journey(db, browser, live_server, page):  # noqa: F811
    # --- set-up: a closed call, three passed applications of different organisations, six experts
    district = make_district(name="西工区", code="410303")
    staff = make_user(Role.STAFF, name="刘科长")  # city staff
    call = make_call(district=district, title="2026年西工区公益微创投大赛项目申报通知", fund_pool=Decimal("1000000.00"))
    titles = ["“银龄互助”社区居家养老服务项目", "“护苗”托育家庭科学育儿指导项目", "“邻里议事厅”社区协商治理项目"]
    orgs, members, apps = [], [], []
    for i, title in enumerate(titles):
        org = make_org(district=district, name=f"洛阳市西工区测试服务中心{i + 1}", contact_email=f"office@xg{i}.org.cn")
        member = make_member(org, name=f"机构联系人{i + 1}")
        orgs.append(org)
        members.append(member)
        apps.append(make_passed(org, call, title=title, by=member))
    # the call has closed (applications were submitted while it was open)
    call.opens_at = utcnow() - timedelta(days=30)
    call.closes_at = utcnow() - timedelta(hours=1)
    names = ["李明", "王芳", "张伟", "刘洋", "陈静", "赵磊"]
    experts = [make_expert(name=n) for n in names]
    related = experts[0]
    relate(related, orgs[0])  # 李明 declared he advises the first applicant
    db.session.commit()
    requested = [a.grant_requested for a in apps]
    assert all(Decimal(a) <= r for a, r in zip(AMOUNTS, requested)), requested
    page.on("dialog", lambda d: d.accept())

    # --- staff: the round with its rubric (k = 3)
    login(page, staff)
    page.goto("/staff/review/rounds/new")
    page.locator('select[name="call_id"]').select_option(str(call.id))
    page.locator('input[name="name"]').fill("书面评审")
    page.locator('input[name="reviewers_per_application"]').fill("3")
    page.locator('input[name="max_load"]').fill("3")
    deadline = to_local(utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.locator('input[name="deadline"]').fill(deadline)
    page.locator('input[name="promotion_top_n"]').fill("3")
    with page.expect_navigation():
        page.locator('[data-testid="round-form"] button[type="submit"]').click()
    expect(flash(page)).to_contain_text("已创建评审轮次")
    rnd = _db.session.scalar(_db.select(ReviewRound).where(ReviewRound.call_id == call.id))
    assert rnd.reviewers_per_application == 3

    page.goto(f"/staff/review/rounds/{rnd.id}/criteria")
    rows = page.locator("[data-criteria-form] tbody tr")
    rubric = [("需求分析", "需求是否真实迫切", "30"), ("方案可行性", "计划是否可行、预算是否合理", "40"),
              ("团队能力", "团队是否胜任", "30")]
    for i in range(rows.count()):
        row = rows.nth(i)
        if not row.is_visible():
            continue
        name, desc, pts = rubric[i] if i < len(rubric) else ("", "", "")
        row.locator(f'input[name="name-{i}"]').fill(name)
        row.locator(f'input[name="description-{i}"]').fill(desc)
        row.locator(f'input[name="max_points-{i}"]').fill(pts)
        row.locator(f'input[name="weight-{i}"]').fill(pts)
    expect(page.locator("[data-weight-total]")).to_have_text("100 分")
    with page.expect_navigation():
        page.get_by_role("button", name="保存评分细则").click()
    expect(flash(page)).to_contain_text("已保存评分细则")
    _db.session.expire_all()
    assert [(c.name, c.max_points) for c in rnd.criteria] == [("需求分析", 30), ("方案可行性", 40), ("团队能力", 30)]

    page.goto(f"/staff/review/rounds/{rnd.id}")
    with page.expect_navigation():
        page.get_by_test_id("import-entries").click()
    for a in apps:
        expect(page.get_by_test_id("entries")).to_contain_text(a.number)

    # --- conflicts: the declared relation is found
    page.goto(f"/staff/review/rounds/{rnd.id}/conflicts")
    with page.expect_navigation():
        page.get_by_test_id("recompute").click()
    expect(flash(page)).to_contain_text("已完成回避识别：共 1 组")
    conflicts = page.get_by_test_id("conflicts")
    expect(conflicts).to_contain_text("李明")
    expect(conflicts).to_contain_text(apps[0].number)
    shot(page, "01-conflicts")

    # --- the two-step draw: commitment first (no seed), then the seed, which hashes to the commitment
    page.goto(f"/staff/review/rounds/{rnd.id}")
    page.get_by_role("link", name="随机抽取").first.click()
    expect(page.get_by_test_id("step-commit")).to_contain_text("生成随机种子")
    with page.expect_navigation():
        page.get_by_role("button", name="生成随机种子").click()
    expect(flash(page)).to_contain_text("已生成随机种子并公布其 SHA-256 哈希值")
    commitment = page.get_by_test_id("commitment").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", commitment)
    expect(page.get_by_test_id("seed")).to_have_count(0)
    shot(page, "02-draw-before")
    with page.expect_navigation():
        page.get_by_role("button", name="执行抽取").click()
    expect(flash(page)).to_contain_text("抽取完成：3 份申请各分配 3 名专家")
    seed = page.get_by_test_id("seed").inner_text().strip()
    assert seed and hashlib.sha256(seed.encode()).hexdigest() == commitment
    assert page.get_by_test_id("commitment").inner_text().strip() == commitment
    expect(page.get_by_test_id("verify")).to_contain_text("一致")
    shot(page, "03-draw-after")
    _db.session.expire_all()
    drawn = list(_db.session.scalars(_db.select(Assignment).where(Assignment.round_id == rnd.id)))
    assert len(drawn) == 9 and related.id not in {a.expert_id for a in drawn if a.application_id == apps[0].id}

    page.goto(f"/staff/review/rounds/{rnd.id}")
    with page.expect_navigation():
        page.get_by_role("button", name="开始评分并通知专家").click()
    expect(flash(page)).to_contain_text("已开始评分")
    assert_no_console_errors(page)

    # --- experts: one declares a conflict on the first application and is replaced; all score
    tab, tab_log = other_tab(browser, live_server)
    app_index = {a.id: i for i, a in enumerate(apps)}
    panel0 = sorted((a for a in drawn if a.application_id == apps[0].id), key=lambda a: a.id)
    decliner = panel0[0]
    tab.context.clear_cookies()
    login(tab, decliner.expert.user)
    tab.goto("/expert/")
    expect(tab.get_by_test_id("queue")).to_contain_text(apps[0].number)
    tab.goto(f"/expert/assignments/{decliner.id}")
    expect(tab.get_by_test_id("declaration")).to_be_visible()
    tab.locator('textarea[name="reason"]').fill("近三年曾为该机构提供督导服务")
    with tab.expect_navigation():
        tab.get_by_role("button", name="申报回避").click()
    expect(flash(tab)).to_contain_text("已申报回避")
    expect(flash(tab)).to_contain_text("系统已为该申请另行抽取专家")
    shot(tab, "04-expert-declared")
    _db.session.expire_all()
    replacement = _db.session.scalar(_db.select(Assignment).where(Assignment.replaces_id == decliner.id))
    assert _db.session.get(Assignment, decliner.id).status == AssignmentStatus.REPLACED
    assert replacement is not None and replacement.expert_id != decliner.expert_id
    assert replacement.expert_id not in {a.expert_id for a in panel0}
    assert replacement.expert_id != related.id  # the conflicted expert is never drawn for that application

    page.goto(f"/staff/review/rounds/{rnd.id}/assignments")
    panels = page.get_by_test_id("panels")
    expect(panels).to_contain_text("替换")
    expect(panels).to_contain_text(replacement.expert.name)
    expect(panels).to_contain_text("近三年曾为该机构提供督导服务")
    shot(page, "05-assignments-replacement")

    active = list(_db.session.scalars(
        _db.select(Assignment).where(Assignment.round_id == rnd.id, Assignment.status.in_(Assignment.ACTIVE))
        .order_by(Assignment.expert_id, Assignment.id)))
    assert len(active) == 9
    by_expert: dict[int, list[Assignment]] = {}
    for a in active:
        by_expert.setdefault(a.expert_id, []).append(a)
    for n, (expert_id, items) in enumerate(by_expert.items()):
        tab.context.clear_cookies()
        login(tab, items[0].expert.user)
        tab.goto("/expert/")
        for a in items:
            expect(tab.get_by_test_id("queue")).to_contain_text(a.application.number)
        for a in items:
            tab.goto(f"/expert/assignments/{a.id}")
            with tab.expect_navigation():
                tab.get_by_role("button", name="确认无利害关系").click()
            expect(flash(tab)).to_contain_text("已确认与申报单位无利害关系")
            inputs = tab.locator("[data-points]")
            assert inputs.count() == 3
            for j, pts in enumerate(POINTS[app_index[a.application_id]]):
                inputs.nth(j).fill(str(pts))
            tab.locator('textarea[name="comments"]').fill("项目设计合理，建议加强过程记录。")
            with tab.expect_navigation():
                tab.get_by_role("button", name="提交评分").click()
            expect(flash(tab)).to_contain_text(f"评分已提交：加权总分 {sum(POINTS[app_index[a.application_id]])}")
            if n == 0 and a is items[0]:
                shot(tab, "06-expert-score-submitted")
    _db.session.expire_all()
    scores = list(_db.session.scalars(_db.select(Score).where(Score.round_id == rnd.id)))
    assert len(scores) == 9 and {s.status for s in scores} == {ScoreStatus.SUBMITTED}

    # --- staff: close the round, rank, propose, amounts, approve, start the 公示
    page.goto(f"/staff/review/rounds/{rnd.id}")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("结束评分")).click()
    expect(flash(page)).to_contain_text("本轮评分已结束")
    _db.session.expire_all()
    assert _db.session.get(ReviewRound, rnd.id).status == RoundStatus.CLOSED

    page.goto(f"/staff/ranking/rounds/{rnd.id}")
    ranked = page.get_by_test_id("rank-row")
    expect(ranked).to_have_count(3)
    assert [ranked.nth(i).get_attribute("data-number") for i in range(3)] == [a.number for a in apps]
    officials = [ranked.nth(i).get_by_test_id("official").inner_text().strip() for i in range(3)]
    assert [Decimal(o) for o in officials] == [Decimal(sum(p)) for p in POINTS]
    shot(page, "07-ranking")
    for a in apps:
        page.get_by_role("checkbox", name=f"拟资助 {a.number}").check()
    with page.expect_navigation():
        page.get_by_test_id("propose").click()
    expect(flash(page)).to_contain_text("已更新拟资助名单：共 3 个项目")
    flist = _db.session.scalar(_db.select(FundingList).where(FundingList.call_id == call.id))
    items = {i.application_id: i for i in flist.items}
    for a, amount in zip(apps, AMOUNTS):
        page.locator(f'input[name="amount-{items[a.id].id}"]').fill(amount)
    with page.expect_navigation():
        page.get_by_test_id("save-amounts").click()
    expect(flash(page)).to_contain_text("已保存拟资助金额")
    expect(page.get_by_test_id("total")).to_contain_text("¥75,000.00")
    with page.expect_navigation():
        page.get_by_role("button", name="审定拟资助名单").click()
    expect(flash(page)).to_contain_text("已审定拟资助名单：3 个项目，合计 ¥75,000.00")
    page.locator("#contact").fill("市民政局社会组织管理科 0379-12345678")
    with page.expect_navigation():
        page.get_by_role("button", name="开始公示").click()
    expect(flash(page)).to_contain_text("已开始公示")
    expect(flash(page)).to_contain_text("已在门户网站发布")
    shot(page, "08-funding-list-publicizing")
    pub = _db.session.scalar(_db.select(Publicity).where(Publicity.list_id == flist.id))
    assert pub.status == PublicityStatus.OPEN and pub.starts_on == today_local()
    assert_no_console_errors(page)

    # --- an anonymous visitor reads the 公示 and objects
    tab.context.clear_cookies()
    tab.goto("/publicity")
    with tab.expect_navigation():
        tab.get_by_role("link", name=re.compile(re.escape(pub.title))).first.click()
    items_table = tab.get_by_test_id("items")
    for a, amount in zip(apps, ["¥30,000.00", "¥25,000.00", "¥20,000.00"]):
        expect(items_table).to_contain_text(a.number)
        expect(items_table).to_contain_text(a.org.name)
        expect(items_table).to_contain_text(amount)
    expect(items_table).to_contain_text("拟资助")
    panel_names = {a.expert.name for a in active}
    for name in panel_names:
        expect(tab.get_by_test_id("experts")).to_contain_text(name)
    expect(tab.locator("main")).to_contain_text("提出异议")
    shot(tab, "09-public-publicity")
    tab.locator("#obj-name").fill("王先生")
    tab.locator("#obj-phone").fill("13800138000")
    tab.locator("#obj-item").select_option(str(items[apps[1].id].id))
    tab.locator("#obj-content").fill("该机构去年同类项目执行不到位，请核实其服务能力。")
    with tab.expect_navigation():
        tab.get_by_role("button", name="提交异议").click()
    reference = tab.get_by_test_id("reference").inner_text().strip()
    assert reference
    expect(tab.locator("main")).to_contain_text("异议")
    shot(tab, "10-objection-received")
    obj = _db.session.scalar(_db.select(Objection).where(Objection.reference == reference))
    assert obj is not None and obj.status == ObjectionStatus.OPEN

    # --- staff answer: not upheld
    page.goto(f"/staff/publicity/lists/{flist.id}")
    expect(page.get_by_test_id("objections")).to_contain_text(reference)
    with page.expect_navigation():
        page.get_by_test_id("objections").get_by_role("link", name="答复").first.click()
    expect(page.get_by_test_id("objection-content")).to_contain_text("执行不到位")
    page.locator("#d-no").check()
    page.locator("#answer").fill("经核实，该机构去年项目已按期通过结项评估，异议不成立。")
    with page.expect_navigation():
        page.get_by_role("button", name="提交答复").click()
    expect(flash(page)).to_contain_text("已答复：异议不成立")
    expect(page.get_by_test_id("finalize-problem")).to_contain_text("期满后才能确定结果")

    # --- the 公示 period is over: there is no clock hook, so the dates are moved into the past in the
    # database (what five working days of waiting would do); everything else stays as the UI left it.
    _db.session.expire_all()
    pub = _db.session.get(Publicity, pub.id)
    pub.starts_on = today_local() - timedelta(days=14)
    pub.ends_on = today_local() - timedelta(days=1)
    _db.session.commit()

    page.reload()
    expect(page.get_by_test_id("finalize-problem")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("button", name="确定公示结果").click()
    expect(flash(page)).to_contain_text("公示结果已确定：3 个项目确定资助，已通知申报单位")
    expect(page.locator("main")).to_contain_text("结果已确定")
    shot(page, "11-finalised")
    _db.session.expire_all()
    assert _db.session.get(Publicity, pub.id).status == PublicityStatus.FINAL
    assert {_db.session.get(Application, a.id).status for a in apps} == {ApplicationStatus.FUNDED}
    assert_no_console_errors(page)

    tab.goto(f"/publicity/{pub.id}")
    expect(tab.get_by_test_id("items")).to_contain_text("已确定资助")
    expect(tab.get_by_test_id("objection-closed")).to_contain_text("公示期已结束，结果已确定")

    # --- the organisation member sees the final result
    tab.context.clear_cookies()
    login(tab, members[1])
    tab.goto("/notifications/")
    expect(tab.locator("main")).to_contain_text(f"确定资助：{apps[1].number}")
    shot(tab, "12-member-notification")
    tab.goto(f"/applications/{apps[1].id}")
    expect(tab.locator("main")).to_contain_text("已确定资助")
    shot(tab, "13-member-application")

    problems = tab_log.errors + tab_log.exceptions
    assert not problems, "console errors (second context):\n" + "\n".join(problems)
    assert not tab_log.csp
    _logs.pop(id(tab), None)
    tab.context.close()
