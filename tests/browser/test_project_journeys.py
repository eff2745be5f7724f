"""THE acceptance browser test of issue 5 (政府购买服务 and funded projects), two journeys in Chromium.

1. One project from 立项 to 结项. District staff launch it from a funded application (the call's plan
   gives 50/30/20); staff generate the contract, whose PDF a real RQ worker renders (the page polls the
   job), download it and read it with ``pdftotext``; the organisation uploads its signed scan, staff upload
   the countersigned copy (合同已生效); the organisation requests tranche 1, staff approve, finance pays it
   (date and voucher); staff generate the report schedule, the organisation submits a report with figures
   and a photo, staff accept it; staff approve the budget, the organisation records an expense with a
   receipt, staff verify it; the mid-term appears on the staff desk, is assigned to a third-party
   evaluator, scored 合格 and confirmed → tranche 2 requested, approved, paid; the final evaluation (on the
   desk once the term is over) is scored and confirmed → tranche 3 paid; staff close the project: 已结项
   with its settlement.
2. A project that fails its mid-term: contract in force, tranche 1 paid, an expense verified for less than
   was paid, the mid-term scored 不合格 and confirmed → tranche 2 已停止 and not requestable; staff terminate
   it (评估不合格) with a 3-year debarment → the settlement shows the refund due; finance records the bank
   receipt of the refund; the organisation's member opens a new call and tries to apply → refused, with
   the 禁入期 reason on the page.

Every person works in their own browser (own cookies) and stays logged in; every page is checked for
console errors, CSP violations and uncaught exceptions. Only what is not part of the acceptance is set up
through factories: users, the funded application, the open call, the indicator templates. Screenshots of
the key steps go to screenshots/project-journey-*.png.
"""
from __future__ import annotations

import contextlib
import re
import subprocess
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from incubator.accounts.models import Role
from incubator.db import today_local
from incubator.extensions import db as _db
from incubator.orgs.models import CreditKind, CreditRecord
from incubator.projects.evaluations import demo as evaluation_demo
from incubator.projects.exits.models import Settlement, SettlementStatus
from incubator.projects.models import Project, ProjectStatus, TrancheStatus
from tests.applications.helpers import PDF_BYTES, make_call
from tests.browser.conftest import (  # noqa: F401 - fixtures used by pytest
    assert_no_console_errors,
    browser,
    live_server,
    login,
    page,
    screenshot,
)
from tests.browser.test_foundation_journeys import other_page, real_worker  # noqa: F401 - real_worker is a fixture
from tests.core.helpers import png
from tests.factories import make_district, make_user
from tests.projects.helpers import funded_application, make_member, make_org

pytestmark = pytest.mark.browser

AMOUNT = "36000.00"  # the grant on the final funding list; the call's plan: 50/30/20
TRANCHES = ["¥18,000.00", "¥10,800.00", "¥7,200.00"]
PDF_TIMEOUT_MS = 90_000  # the worker process renders the contract (WeasyPrint, Chinese fonts)


# --- helpers --------------------------------------------------------------------------------------


def shot(tab, name: str) -> None:
    screenshot(tab, f"project-journey-{name}")


def flash(tab):
    return tab.locator(".alert-success").first


def click_and_wait(tab, target) -> None:
    """A click that loads a new page (a form post, a link)."""
    with tab.expect_navigation():
        target.click()


def open_tab(tab, label: str) -> None:
    """One of the project's tabs (概况, 合同, 预算与支出, 分期拨付, 进度报告, 绩效评价, 结项与退出)."""
    click_and_wait(tab, tab.locator("ul.project-tabs a.nav-link", has_text=label))
    expect(tab.locator("ul.project-tabs a.nav-link.active")).to_have_text(label)


def open_project(tab, project: Project, label: str | None = None) -> None:
    tab.goto(f"/projects/{project.id}")
    expect(tab.locator(".project-head")).to_contain_text(project.number)
    if label:
        open_tab(tab, label)


def header(tab):
    return tab.locator(".project-head")


def money(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def reload_project(project_id: int) -> Project:
    _db.session.expire_all()
    return _db.session.get(Project, project_id)


@contextlib.contextmanager
def person(browser, live_server, user):  # noqa: F811
    """A second person at their own browser, logged in through the real form (dialogs accepted)."""
    with other_page(browser, live_server) as tab:
        tab.on("dialog", lambda d: d.accept())
        login(tab, user)
        yield tab


def pdftotext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


# --- the steps, each as the person who does it does it --------------------------------------------


def launch_from_application(staff, application, *, budget_line: str) -> Project:
    """Staff: the 待立项 list on the projects page → 立项 form (prefilled from the application) → 确认立项."""
    today = today_local()
    staff.goto("/staff/projects/")
    to_launch = staff.get_by_test_id("to-launch")
    expect(to_launch).to_contain_text(application.number)
    click_and_wait(staff, to_launch.locator("li", has_text=application.number).get_by_role("link", name="立项"))
    expect(staff.get_by_test_id("launch-form")).to_be_visible()
    expect(staff.locator("#title")).to_have_value(application.title)
    expect(staff.locator("#amount")).to_have_value(re.compile(r"^36,?000(\.00)?$"))
    # The project runs one year from today; the approved budget line is named by staff.
    staff.locator("#term_start").fill(today.isoformat())
    staff.locator("#term_end").fill((today.replace(year=today.year + 1) - timedelta(days=1)).isoformat())
    staff.locator("#quality_standard").fill("服务对象满意度不低于90%")
    staff.locator("#budget_line").fill(budget_line)
    staff.locator("#prior_assessment").fill("项目需求真实、实施方案可行、绩效目标合理，同意立项。")
    click_and_wait(staff, staff.get_by_test_id("launch-submit"))
    expect(flash(staff)).to_contain_text("已立项：XM-")
    expect(flash(staff)).to_contain_text("已按申报通知的分期拨付计划生成拨付计划")
    expect(staff.get_by_test_id("project-facts")).to_contain_text(application.title)
    expect(header(staff)).to_contain_text("已立项")
    project = _db.session.scalar(select(Project).where(Project.application_id == application.id))
    assert project is not None and project.status == ProjectStatus.LAUNCHED
    return project


def check_schedule_50_30_20(staff, project) -> None:
    open_project(staff, project, "分期拨付")
    table = staff.get_by_test_id("tranche-table")
    for seq, (share, amount, condition) in enumerate(
            zip(("50%", "30%", "20%"), TRANCHES, ("签约后", "中期评估合格后", "结项验收后")), start=1):
        row = staff.get_by_test_id(f"tranche-{seq}")
        expect(row).to_contain_text(f"第{seq}期")
        expect(row).to_contain_text(share)
        expect(row).to_contain_text(amount)
        expect(row).to_contain_text(condition)
        expect(row).to_contain_text("待条件满足")
    expect(table.locator("tfoot")).to_contain_text("¥36,000.00")
    _db.session.expire_all()
    assert [t.amount for t in project.tranches] == [Decimal("18000.00"), Decimal("10800.00"), Decimal("7200.00")]


def generate_and_download_contract(staff, project, tmp_path, *, name: str) -> str:
    """Staff: 合同 tab → 生成合同 → the job page until the worker is done → download the PDF (pdftotext)."""
    open_project(staff, project, "合同")
    card = staff.get_by_test_id("generate-card")
    expect(card).to_contain_text("生成合同")
    click_and_wait(staff, card.get_by_role("button", name="生成合同"))
    expect(flash(staff)).to_contain_text("已生成，正在排版PDF")
    pending = staff.get_by_test_id("pdf-pending")
    expect(pending).to_contain_text("合同PDF正在生成")
    # The RQ worker (another process) renders it; the job page polls until it is done.
    click_and_wait(staff, pending.get_by_role("link", name="查看进度"))
    expect(staff.get_by_test_id("job-status")).to_have_text("已完成", timeout=PDF_TIMEOUT_MS)
    open_project(staff, project, "合同")
    current = staff.get_by_test_id("current-contract")
    expect(current).to_contain_text("待乙方签章")
    expect(staff.get_by_test_id("pdf-pending")).to_have_count(0)
    link = current.get_by_role("link", name="下载合同文本")
    href = link.get_attribute("href")
    # The PDF is served inline (Chromium's viewer); fetch it with this browser's session, as "save as" does.
    response = staff.request.get(href)
    assert response.ok and response.headers["content-type"].startswith("application/pdf"), response.headers
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(response.body())
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                    str(screenshot(staff, f"project-journey-{name}-tab").with_name(f"project-journey-{name}-pdf"))],
                   check=True)
    return pdftotext(pdf)


def assert_contract_text(text: str, project: Project) -> None:
    flat = "".join(text.split())
    for words in ("公益创投项目资助协议", "第一条服务内容", "第二条服务期限", "第三条服务数量", "第四条服务质量",
                  "第五条", "第六条资金结算方式", "第七条甲方权利义务", "第八条乙方权利义务", "第九条违约责任",
                  "甲方（盖章）", "乙方（盖章）"):
        assert words in flat, f"{words!r} missing from the contract PDF:\n{text}"
    assert "人民币叁万陆仟元整（¥36,000.00）" in flat, text
    for amount in TRANCHES:
        assert amount in flat, f"{amount} missing from the tranche table:\n{text}"
    for condition in ("签约后", "中期评估合格后", "结项验收后"):
        assert condition in flat, condition
    assert project.org.name in flat and project.title in flat


def sign_contract(staff, org, project, tmp_path) -> None:
    """The organisation uploads its signed and stamped scan; staff upload the countersigned copy."""
    scan = tmp_path / "签章合同.pdf"
    scan.write_bytes(PDF_BYTES)
    open_project(org, project, "合同")
    form = org.get_by_test_id("org-signed-form")
    expect(form).to_contain_text("上传签章合同")
    form.locator("input[type=file]").set_input_files(str(scan))
    click_and_wait(org, form.get_by_role("button", name="上传"))
    expect(flash(org)).to_contain_text("签章合同已上传，等待民政部门盖章会签")
    expect(org.get_by_test_id("current-contract")).to_contain_text("乙方已签章，待甲方盖章")

    both = tmp_path / "双方签章合同.pdf"
    both.write_bytes(PDF_BYTES)
    staff.reload()
    form = staff.get_by_test_id("countersign-form")
    expect(form).to_contain_text("甲方盖章会签")
    form.locator("input[type=file]").set_input_files(str(both))
    form.locator("input[name=signed_on]").fill(today_local().isoformat())
    click_and_wait(staff, form.get_by_role("button", name="确认会签，合同生效"))
    expect(flash(staff)).to_contain_text("合同已生效")
    expect(staff.get_by_test_id("current-contract")).to_contain_text("已生效")
    expect(header(staff)).to_contain_text("已签约")


def pay_tranche(seq: int, *, requester, staff, finance, project, voucher: str) -> None:
    """The requester (the organisation) asks for tranche ``seq``; staff approve; finance pays (date + voucher)."""
    amount = TRANCHES[seq - 1]
    open_project(requester, project, "分期拨付")
    row = requester.get_by_test_id(f"tranche-{seq}")
    expect(row).to_contain_text("可申请")
    click_and_wait(requester, row.get_by_role("button", name="申请拨付"))
    expect(flash(requester)).to_contain_text(f"已申请第{seq}期拨付（{amount}），等待业务科室审核")
    expect(requester.get_by_test_id(f"tranche-{seq}")).to_contain_text("已申请拨付")

    open_project(staff, project, "分期拨付")
    row = staff.get_by_test_id(f"tranche-{seq}")
    expect(row).to_contain_text("待业务审核")
    click_and_wait(staff, row.get_by_role("button", name="审核通过，转财务"))
    expect(flash(staff)).to_contain_text(f"已审核第{seq}期拨付申请，已转财务拨付")

    finance.goto("/finance/payments")
    table = finance.get_by_test_id("payment-table")
    expect(table).to_contain_text(project.number)
    form = table.locator("form.pay-form").first
    form.locator('input[name$="paid_on"]').fill(today_local().isoformat())
    form.locator('input[name$="voucher_no"]').fill(voucher)
    click_and_wait(finance, form.get_by_role("button", name="确认拨付"))
    expect(flash(finance)).to_contain_text(f"已拨付第{seq}期 {amount}（凭证号 {voucher}）")
    open_project(finance, project, "分期拨付")
    row = finance.get_by_test_id(f"tranche-{seq}")
    expect(row).to_contain_text("已拨付")
    expect(row).to_contain_text(voucher)


def approve_budget(staff, project) -> None:
    """Staff: 预算与支出 → 核定预算 (the lines come from the application's budget) → 核定."""
    open_project(staff, project, "预算与支出")
    expect(staff.get_by_test_id("budget-page")).to_contain_text("本项目的预算尚未核定")
    click_and_wait(staff, staff.get_by_role("link", name="核定预算"))
    items = staff.get_by_test_id("approve-form").locator('input[name$="-item"]')
    expect(items.nth(0)).to_have_value("社区探访活动")  # the application's budget lines, prefilled
    expect(items.nth(1)).to_have_value("项目社工补贴")
    click_and_wait(staff, staff.get_by_test_id("approve-form").get_by_role("button", name="核定预算"))
    expect(flash(staff)).to_contain_text("预算已核定")
    expect(staff.get_by_test_id("budget-table")).to_contain_text("社区探访活动")


def record_and_verify_expense(org, staff, project, tmp_path, *, amount: str, description: str) -> None:
    """The organisation records an expense on the grant line with its receipt; staff verify it."""
    receipt = tmp_path / "发票.pdf"
    receipt.write_bytes(PDF_BYTES)
    open_project(org, project, "预算与支出")
    click_and_wait(org, org.get_by_role("link", name="登记支出").first)
    line = org.locator("#line option", has_text="社区探访活动").get_attribute("value")
    org.select_option("#line", line)
    org.fill("#amount", amount)
    org.fill("#spent_on", today_local().isoformat())
    org.fill("#payee", "洛阳市西工区惠民文化用品商店")
    org.fill("#description", description)
    org.set_input_files("#receipts", str(receipt))
    click_and_wait(org, org.get_by_test_id("expense-form").get_by_role("button", name="提交"))
    expect(flash(org)).to_contain_text("支出已登记，等待民政工作人员核实")
    shown = money(Decimal(amount.replace(",", "")))
    expect(org.get_by_test_id("expense-facts")).to_contain_text(shown)

    open_project(staff, project, "预算与支出")
    row = staff.get_by_test_id("expense-row").filter(has_text=description)
    expect(row).to_contain_text(shown)
    click_and_wait(staff, row.get_by_role("button", name="核实"))
    expect(flash(staff)).to_contain_text(f"支出{shown}已核实")
    open_tab(staff, "预算与支出")  # the verify answer lists what is still waiting; the whole tab:
    expect(staff.get_by_test_id("expense-row").filter(has_text=description)).to_contain_text("已核实")


def assign_evaluation(staff, project, *, stage: str, template, evaluator) -> None:
    """Staff on the 绩效评价 tab: 安排评价 (stage, indicator system, evaluator, due date)."""
    expect(staff.locator("#assign")).to_contain_text("安排评价")
    staff.select_option("#stage", stage)
    staff.select_option("#template_id", str(template.id))
    staff.select_option("#evaluator_id", str(evaluator.id))
    staff.fill("#due_on", (today_local() + timedelta(days=20)).isoformat())
    click_and_wait(staff, staff.get_by_role("button", name="安排评价"))
    label = "中期评估" if stage == "midterm" else "结项评估"
    expect(flash(staff)).to_contain_text(f"已安排{label}，评价人：{evaluator.name}")


def score_evaluation(evaluator_tab, project, *, share: Decimal, summary: str) -> Decimal:
    """The evaluator: 我的评价 → 评分 → every indicator at ``share`` of its full marks → 提交评价.
    Returns the sum typed (the total, with no bonus, deduction or overdue report)."""
    evaluator_tab.goto("/evaluator/evaluations")
    mine = evaluator_tab.get_by_test_id("my-evaluations")
    expect(mine).to_contain_text(project.number)
    click_and_wait(evaluator_tab, mine.locator("tr", has_text=project.number).get_by_role("link", name="评分"))
    expect(evaluator_tab.get_by_test_id("score-table")).to_be_visible()
    inputs = evaluator_tab.locator("input[data-score]")
    total = Decimal("0")
    for i in range(inputs.count()):
        box = inputs.nth(i)
        points = (Decimal(box.get_attribute("data-max")) * share).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        box.fill(f"{points}")
        total += points
    expect(evaluator_tab.locator("[data-live-total]")).to_have_text(f"{total:.2f}")
    evaluator_tab.locator("#summary").fill(summary)
    click_and_wait(evaluator_tab, evaluator_tab.get_by_role("button", name="提交评价"))
    expect(evaluator_tab.get_by_test_id("total")).to_have_text(f"{total:.2f}")
    return total


def confirm_evaluation_from_desk(staff, project, *, stage_label: str, total: Decimal, grade: str) -> None:
    """Staff: the desk lists the submitted evaluation → its page → 确认评价结果."""
    staff.goto("/staff/desk")
    item = staff.get_by_role("link", name=f"{project.number} {project.title}：{stage_label}已提交，待确认")
    expect(item).to_be_visible()
    click_and_wait(staff, item)
    expect(staff.get_by_test_id("review-actions")).to_be_visible()
    expect(staff.get_by_test_id("total")).to_have_text(f"{total:.2f}")
    click_and_wait(staff, staff.get_by_role("button", name="确认评价结果"))
    expect(flash(staff)).to_contain_text(f"已确认{stage_label}：{total:.2f}分，{grade}")


def move_term(project_id: int, *, term_end) -> None:
    """Time passes: the project's term is moved in the database so that it ends on ``term_end`` (one year
    long, as launched). Only the term moves: the report items keep their dates, so none turns overdue."""
    project = reload_project(project_id)
    length = project.term_end - project.term_start
    project.term_end = term_end
    project.term_start = term_end - length
    _db.session.commit()


# --- 1. from 立项 to 结项 -------------------------------------------------------------------------------


def test_one_project_from_launch_to_close(db, browser, live_server, page, real_worker, tmp_path):  # noqa: F811
    district = make_district(name="西工区", code="410303")
    org = make_org(district=district, name="洛阳市西工区银龄互助养老服务中心")
    member = make_member(org, name="赵敏")
    staff_user = make_user(Role.STAFF, district=district, name="王科长")
    finance_user = make_user(Role.FINANCE, name="财务李会计")
    evaluator_user = make_user(Role.EVALUATOR, name="洛阳益民社会工作评估中心")
    application = funded_application(org, district=district, amount=AMOUNT)
    general, midterm = evaluation_demo.seed_templates(by=staff_user)
    db.session.commit()
    staff = page
    staff.on("dialog", lambda d: d.accept())

    with contextlib.ExitStack() as people:
        login(staff, staff_user)
        org_tab = people.enter_context(person(browser, live_server, member))
        finance = people.enter_context(person(browser, live_server, finance_user))
        evaluator = people.enter_context(person(browser, live_server, evaluator_user))

        # --- 立项 from the funded application; the call's plan gives 50/30/20
        project = launch_from_application(staff, application, budget_line="社区公益服务专项资金")
        shot(staff, "01-launched")
        check_schedule_50_30_20(staff, project)
        shot(staff, "02-tranche-plan")

        # --- the contract: generated by the worker, downloaded, signed by both parties
        text = generate_and_download_contract(staff, project, tmp_path, name="03-contract")
        assert_contract_text(text, project)
        sign_contract(staff, org_tab, project, tmp_path)
        # the summary goes on the public site within 2 working days of signing
        click_and_wait(staff, staff.get_by_test_id("publish-form").get_by_role("button", name="公开合同摘要"))
        expect(flash(staff)).to_contain_text("合同摘要已在门户网站公开")
        expect(staff.get_by_test_id("current-contract")).to_contain_text("已公开")
        shot(staff, "04-contract-in-force")
        open_project(org_tab, project, "分期拨付")
        expect(org_tab.get_by_test_id("tranche-1")).to_contain_text("已满足")

        # --- tranche 1: the organisation requests, staff approve, finance pays
        pay_tranche(1, requester=org_tab, staff=staff, finance=finance, project=project, voucher="PZ-2026-1201")
        shot(finance, "05-tranche-1-paid")
        expect(header(finance)).to_contain_text("执行中")

        # --- reports: the schedule, a progress report with figures and a photo, accepted
        open_project(staff, project, "进度报告")
        staff.select_option("#frequency", "quarterly")
        click_and_wait(staff, staff.get_by_test_id("schedule-form").get_by_role("button", name="生成报告计划"))
        expect(flash(staff)).to_contain_text("报告计划已生成")
        expect(staff.get_by_test_id("report-schedule")).to_contain_text("中期报告")
        expect(staff.get_by_test_id("report-schedule")).to_contain_text("结项报告")
        open_project(org_tab, project, "进度报告")
        click_and_wait(org_tab, org_tab.get_by_test_id("submit-link").first)
        org_tab.locator("#text").fill("本期完成需求调研，组建志愿者队伍52人，开展入户探访和助餐服务。")
        org_tab.locator("#people_served").fill("186")
        org_tab.locator("#activities_held").fill("6")
        photo = tmp_path / "探访活动照片.png"
        photo.write_bytes(png((40, 30)))
        org_tab.locator("#photos").set_input_files(str(photo))
        click_and_wait(org_tab, org_tab.get_by_role("button", name="提交报告"))
        expect(flash(org_tab)).to_contain_text("已提交（第1版），等待民政部门审核")
        staff.reload()
        row = staff.get_by_test_id("report-row").filter(has_text="186")
        expect(row).to_contain_text("待审核")
        click_and_wait(staff, row.get_by_role("link", name="审核"))
        expect(staff.locator("body")).to_contain_text("探访活动照片.png")
        click_and_wait(staff, staff.get_by_role("button", name="审核通过"))
        expect(staff.locator("body")).to_contain_text("审核通过")
        open_tab(staff, "进度报告")
        expect(staff.get_by_test_id("report-row").filter(has_text="186")).to_contain_text("已通过")
        expect(staff.get_by_test_id("overdue-count")).to_have_text("0")
        shot(staff, "06-report-accepted")

        # --- budget: approved by staff; an expense with its receipt, verified
        approve_budget(staff, project)
        record_and_verify_expense(org_tab, staff, project, tmp_path, amount="35,200.00",
                                  description="社区探访活动物料及交通费（30场）")
        expect(staff.get_by_test_id("budget-summary")).to_contain_text("¥35,200.00")
        shot(staff, "07-budget-verified")

        # --- the mid-term. Time passes: the term is moved back in the database so its mid-point is
        # behind us, as if half a year had gone by; the staff desk then lists the mid-term to arrange.
        move_term(project.id, term_end=today_local() + timedelta(days=170))
        staff.goto("/staff/desk")
        todo = staff.get_by_role("link", name=f"{project.number} {project.title}：待安排中期评估")
        expect(todo).to_be_visible()
        expect(staff.locator("body")).not_to_contain_text("合同摘要待公开")
        shot(staff, "08-desk-midterm-due")
        click_and_wait(staff, todo)
        assign_evaluation(staff, project, stage="midterm", template=midterm, evaluator=evaluator_user)
        total = score_evaluation(evaluator, project, share=Decimal("0.70"),
                                 summary="项目按计划推进，服务对象反馈良好，过程记录有待加强。")
        expect(flash(evaluator)).to_contain_text(f"已提交中期评估：总分 {total:.2f}，合格")
        shot(evaluator, "09-midterm-scored")
        assert Decimal("60") <= total < Decimal("80")
        confirm_evaluation_from_desk(staff, project, stage_label="中期评估", total=total, grade="合格")
        open_tab(staff, "绩效评价")
        expect(staff.get_by_test_id("result-1")).to_contain_text("合格")
        shot(staff, "10-midterm-confirmed")

        # --- tranche 2, now requestable
        pay_tranche(2, requester=org_tab, staff=staff, finance=finance, project=project, voucher="PZ-2027-0601")

        # --- the final evaluation, on the desk once the term is over (moved to have ended yesterday)
        move_term(project.id, term_end=today_local() - timedelta(days=1))
        staff.goto("/staff/desk")
        todo = staff.get_by_role("link", name=f"{project.number} {project.title}：待安排结项评估")
        expect(todo).to_be_visible()
        click_and_wait(staff, todo)
        assign_evaluation(staff, project, stage="final", template=general, evaluator=evaluator_user)
        total = score_evaluation(evaluator, project, share=Decimal("0.85"),
                                 summary="服务目标全部完成，资金使用规范，服务对象满意度高。")
        expect(flash(evaluator)).to_contain_text(f"已提交结项评估：总分 {total:.2f}，良好")
        confirm_evaluation_from_desk(staff, project, stage_label="结项评估", total=total, grade="良好")

        # --- tranche 3
        pay_tranche(3, requester=org_tab, staff=staff, finance=finance, project=project, voucher="PZ-2027-1201")
        expect(finance.get_by_test_id("paid-total")).to_have_text("¥36,000.00")
        shot(finance, "11-all-tranches-paid")

        # --- 结项
        open_project(staff, project, "结项与退出")
        expect(staff.get_by_test_id("close-ready")).to_contain_text("可以结项")
        staff.fill("#note", "结项评估良好，服务目标全部完成。")
        staff.check("#confirm_close")
        click_and_wait(staff, staff.get_by_role("button", name="办理结项"))
        expect(flash(staff)).to_contain_text("项目已结项。未经核定的支出 800.00 元须退回")
        expect(header(staff)).to_contain_text("已结项")
        settlement = staff.get_by_test_id("settlement")
        expect(settlement).to_contain_text("资金结算（结项）")
        expect(staff.get_by_test_id("paid-total")).to_have_text("¥36,000.00")
        expect(staff.get_by_test_id("verified-total")).to_have_text("¥35,200.00")
        expect(staff.get_by_test_id("refund-due")).to_have_text("¥800.00")
        shot(staff, "12-closed")
        org_tab.goto("/my/projects")
        expect(org_tab.locator("body")).to_contain_text(project.title)
        expect(org_tab.locator("tr", has_text=project.number)).to_contain_text("已结项")
        assert_no_console_errors(staff)

    project = reload_project(project.id)
    assert project.status == ProjectStatus.CLOSED
    assert [t.status for t in project.tranches] == [TrancheStatus.PAID] * 3
    assert [t.voucher_no for t in project.tranches] == ["PZ-2026-1201", "PZ-2027-0601", "PZ-2027-1201"]
    assert project.paid_total == Decimal("36000.00")
    settlement = db.session.scalar(select(Settlement).where(Settlement.project_id == project.id))
    assert settlement.refund_due == Decimal("800.00")


# --- 2. a failed mid-term: termination, refund, debarment -------------------------------------------


def test_failed_midterm_terminates_with_refund_and_debarment(db, browser, live_server, page, real_worker, tmp_path):  # noqa: F811
    district = make_district(name="涧西区", code="410305")
    org = make_org(district=district, name="洛阳市涧西区同心社会工作服务中心")
    member = make_member(org, name="孙丽")
    staff_user = make_user(Role.STAFF, district=district, name="陈科长")
    finance_user = make_user(Role.FINANCE, name="财务周会计")
    evaluator_user = make_user(Role.EVALUATOR, name="洛阳明德第三方评估中心")
    application = funded_application(org, district=district, amount=AMOUNT)
    _general, midterm = evaluation_demo.seed_templates(by=staff_user)
    next_call = make_call(district=district, title="2027年涧西区公益创投项目申报通知")
    db.session.commit()
    staff = page
    staff.on("dialog", lambda d: d.accept())

    with contextlib.ExitStack() as people:
        login(staff, staff_user)
        org_tab = people.enter_context(person(browser, live_server, member))
        finance = people.enter_context(person(browser, live_server, finance_user))
        evaluator = people.enter_context(person(browser, live_server, evaluator_user))

        # --- launched, contract in force, tranche 1 paid, an expense verified for less than was paid
        project = launch_from_application(staff, application, budget_line="社区公益服务专项资金")
        text = generate_and_download_contract(staff, project, tmp_path, name="21-contract")
        assert_contract_text(text, project)
        sign_contract(staff, org_tab, project, tmp_path)
        pay_tranche(1, requester=org_tab, staff=staff, finance=finance, project=project, voucher="PZ-2026-1202")
        approve_budget(staff, project)
        record_and_verify_expense(org_tab, staff, project, tmp_path, amount="12,000.00",
                                  description="社区探访活动物料费（10场）")

        # --- the mid-term, scored 不合格 and confirmed
        open_project(staff, project, "绩效评价")
        assign_evaluation(staff, project, stage="midterm", template=midterm, evaluator=evaluator_user)
        total = score_evaluation(evaluator, project, share=Decimal("0.50"),
                                 summary="服务数量严重不足，过程资料缺失，资金使用进度滞后。")
        expect(flash(evaluator)).to_contain_text(f"已提交中期评估：总分 {total:.2f}，不合格")
        assert total < Decimal("60")
        confirm_evaluation_from_desk(staff, project, stage_label="中期评估", total=total, grade="不合格")
        shot(staff, "22-midterm-failed")

        # --- tranche 2 is stopped: shown 已停止, and nobody can request it
        for tab in (org_tab, staff):
            open_project(tab, project, "分期拨付")
            row = tab.get_by_test_id("tranche-2")
            expect(row).to_contain_text("已停止")
            expect(row.get_by_role("button", name="申请拨付")).to_have_count(0)
            expect(tab.get_by_test_id("tranche-3").get_by_role("button", name="申请拨付")).to_have_count(0)
        expect(staff.get_by_test_id("why-2")).to_contain_text("中期评估不合格，停止拨付下一期资金")
        shot(org_tab, "23-tranche-2-stopped")

        # --- termination for the failed evaluation, with a 3-year debarment
        open_project(staff, project, "结项与退出")
        expect(staff.get_by_test_id("consequences")).to_contain_text("¥6,000.00")
        staff.select_option("#reason_kind", "failed_evaluation")
        staff.fill("#detail", f"中期评估得分{total:.2f}分，结论为不合格；服务数量未达到协议约定。")
        staff.select_option("#debar", "yes")
        staff.fill("#debar_years", "3")
        staff.check("#confirm")
        messages: list[str] = []
        staff.once("dialog", lambda d: messages.append(d.message))  # the page-wide handler accepts it
        click_and_wait(staff, staff.get_by_role("button", name="终止项目"))
        assert messages and "此操作不可撤销" in messages[0] and "3年内不得申报" in messages[0], messages
        expect(header(staff)).to_contain_text("已终止")
        expect(staff.get_by_test_id("termination")).to_contain_text("评估不合格")
        expect(staff.get_by_test_id("debarment")).to_contain_text("禁入期")
        expect(staff.get_by_test_id("paid-total")).to_have_text("¥18,000.00")
        expect(staff.get_by_test_id("verified-total")).to_have_text("¥12,000.00")
        expect(staff.get_by_test_id("refund-due")).to_have_text("¥6,000.00")
        shot(staff, "24-terminated")

        # --- finance records the refund with its bank receipt
        receipt = tmp_path / "退款回单.pdf"
        receipt.write_bytes(PDF_BYTES)
        open_project(finance, project, "结项与退出")
        expect(finance.get_by_test_id("refund-form")).to_be_visible()
        finance.fill("#amount", "6000.00")
        finance.fill("#received_on", today_local().isoformat())
        finance.fill("#voucher_no", "TK-2026-0001")
        finance.set_input_files("#file", str(receipt))
        click_and_wait(finance, finance.get_by_role("button", name="登记到账"))
        expect(flash(finance)).to_contain_text("已登记退款到账，应退资金已全部退回")
        expect(finance.get_by_test_id("outstanding")).to_have_text("¥0.00")
        expect(finance.get_by_test_id("receipts")).to_contain_text("TK-2026-0001")
        shot(finance, "25-refund-received")

        # --- the organisation's member opens a new call and tries to apply: refused, with the reason
        org_tab.goto("/calls")
        click_and_wait(org_tab, org_tab.get_by_role("link", name=next_call.title).first)
        click_and_wait(org_tab, org_tab.get_by_role("button", name="开始申报"))
        refusal = org_tab.locator(".alert-danger")
        expect(refusal.first).to_contain_text("无法开始申报")
        expect(org_tab.locator(".alert-danger", has_text="处于禁入期内")).to_be_visible()
        expect(org_tab.locator(".alert-danger", has_text="处于禁入期内")).to_contain_text("评估不合格")
        card = org_tab.locator(".org-call", has_text=next_call.title)
        expect(card.locator("[data-eligible=no]")).to_contain_text("处于禁入期内")
        expect(card.get_by_role("button", name="开始申报")).to_have_count(0)
        shot(org_tab, "26-apply-refused")
        assert_no_console_errors(staff)

    project = reload_project(project.id)
    assert project.status == ProjectStatus.TERMINATED
    assert [t.status for t in project.tranches] == [TrancheStatus.PAID, TrancheStatus.STOPPED, TrancheStatus.STOPPED]
    settlement = db.session.scalar(select(Settlement).where(Settlement.project_id == project.id))
    assert settlement.refund_due == Decimal("6000.00") and settlement.status == SettlementStatus.REFUNDED
    debarment = db.session.scalar(select(CreditRecord).where(CreditRecord.org_id == org.id,
                                                             CreditRecord.kind == CreditKind.DEBARMENT))
    assert debarment is not None and debarment.start_on == today_local()
    assert 3 * 365 - 1 <= (debarment.end_on - debarment.start_on).days <= 3 * 366
    from incubator.applications.models import Application

    assert db.session.scalar(select(Application).where(Application.call_id == next_call.id)) is None
