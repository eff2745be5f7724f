"""The acceptance journey of issue 3 (接受申请) in real Chromium against the real app.

1. A member of a verified, eligible organisation in 西工区 opens the open call from 可申报的通知 (the
   countdown runs), starts an application and fills every section: basic information, need analysis,
   activity plan rows, team rows, budget lines in four categories (unit price × quantity, grant and
   matching sources, live totals), the call's extra fields, and uploads a real PDF for the required
   attachment type. After autosave says 已自动保存 the page is reloaded and every typed value is
   checked. Submitting too early lists every problem in Chinese (the goals are missing, the grant is
   above the call's 60 % share, personnel costs above their 30 % cap); the member fixes them and
   submits: number WCT-2026-0001, the receipt, and the receipt's PDF rendered by a REAL worker
   (pdftotext: title, organisation, budget total).
   西工区 staff (TOTP) search the number in 资格审查, open it and return it for revision with a reason
   on the budget and a deadline. The member sees the bell count, 退回修改 with the reason and the
   deadline, edits the budget and resubmits. Staff see version 2 with the difference highlighted and
   pass it; the member sees 资格审查通过 and every step in the history.
2. Staff of another district (涧西区) cannot find the application (search shows nothing, the tab
   counts are zero) nor open it (direct URL → the Chinese 404 page; its files too).

Every page is checked for console errors, CSP violations and uncaught exceptions; screenshots of each
step go to /tmp/intake/ (INTAKE_SCREENSHOT_DIR) for a person to look at.
"""
from __future__ import annotations

import os
import re
import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from incubator.applications.models import Application, ApplicationStatus
from incubator.calls.models import BudgetCategory, FieldKind
from incubator.db import today_local
from tests.applications.helpers import add_attachment_type, add_extra_field, make_call, make_member, make_org
from tests.browser.conftest import assert_no_console_errors, console_log, login
from tests.browser.test_foundation_journeys import (  # noqa: F401 - real_worker is a fixture
    luoyang,
    nav_link,
    other_page,
    real_worker,
    staff_of,
)

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("INTAKE_SCREENSHOT_DIR", "/tmp/intake"))
CALL_TITLE = "2026年洛阳市公益微创投大赛项目申报通知"
ORG_NAME = "洛阳市西工区春晴社会工作服务中心"
TITLE = "“银龄守望”春晴路社区独居老人探访服务项目"
RETURN_REASON = "宣传物料费用未说明测算依据，请在测算说明中列明数量和单价，并核减不必要的支出。"


# --- helpers ------------------------------------------------------------------------------------


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def expected_status(page, path: str, status: int) -> None:
    """Forget the console's report of the 4xx answer the test caused on purpose (only that one)."""
    log = console_log(page)
    marker = f"status of {status}"
    kept = [e for e in log.errors if not (marker in e and path in e)]
    assert len(kept) < len(log.errors), f"expected a {status} answer for {path}: {log.errors}"
    log.errors[:] = kept


def saved(page) -> None:
    """Wait until autosave has stored everything typed so far and said so."""
    page.wait_for_selector("#app-editor[data-dirty='0']", state="attached", timeout=15_000)
    expect(page.get_by_test_id("save-status")).to_contain_text("已自动保存于")


def real_pdf(path: Path) -> Path:
    """A genuine one-page PDF (WeasyPrint), as a scanner or a word processor would make."""
    from weasyprint import HTML

    HTML(string="<html><body><h1>登记证书</h1><p>洛阳市西工区春晴社会工作服务中心</p></body></html>").write_pdf(path)
    return path


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def fresh(db, app_id: int) -> Application:
    db.session.expire_all()
    return db.session.get(Application, app_id)


def add_attachment_for(app, member, folder: Path) -> int:
    """Upload the required attachment through the service; returns the stored file's id."""
    import io

    from werkzeug.datastructures import FileStorage

    from incubator.applications import services

    data = real_pdf(folder / "登记证书副本.pdf").read_bytes()
    slot = services.slots_for(app.call)[0].key
    att = services.add_attachment(
        app, slot=slot, upload=FileStorage(io.BytesIO(data), filename="登记证书副本.pdf", content_type="application/pdf"),
        by=member,
    )
    return att.file_id


@pytest.fixture()
def fast_autosave(live_server):
    live_server.app.config["APPLICATION_AUTOSAVE_MS"] = 1500
    yield
    live_server.app.config.pop("APPLICATION_AUTOSAVE_MS", None)


@pytest.fixture()
def intake(db):
    """西工区 with an eligible organisation and its member, 涧西区 with its own staff, an open city call
    with caps (personnel ≤ 30 %, management ≤ 10 %), three extra fields and a required attachment."""
    district, street, community = luoyang(db)
    from incubator.regions.models import District

    other = db.session.scalar(db.select(District).where(District.name == "涧西区"))
    call = make_call(title=CALL_TITLE, caps={BudgetCategory.PERSONNEL: Decimal("30"), BudgetCategory.MANAGEMENT: Decimal("10")})
    extra_text = add_extra_field(call, label="项目实施社区", kind=FieldKind.TEXT, required=True)
    extra_choice = add_extra_field(call, label="服务对象类别", kind=FieldKind.CHOICE, required=True,
                                   choices=["老年人", "儿童", "残疾人"])
    extra_number = add_extra_field(call, label="志愿者人数", kind=FieldKind.NUMBER, required=False)
    add_attachment_type(call, name="登记证书副本", required=True, allowed=("pdf", "jpg"))
    org = make_org(name=ORG_NAME, district=district, street=street, community=community)
    member = make_member(org, name="赵敏", is_org_admin=True)
    staff = staff_of(district, name="李娜")
    staff_elsewhere = staff_of(other, name="周强")
    db.session.commit()
    return dict(call=call, org=org, member=member, staff=staff, staff_elsewhere=staff_elsewhere,
                extra_text=extra_text, extra_choice=extra_choice, extra_number=extra_number)


BASIC = {
    "#f-title": TITLE,
    "#f-beneficiaries_count": "320",
    "#f-period_start": "2027-01-01",
    "#f-period_end": "2027-12-31",
    "#f-supervisor": "西工区金谷园街道办事处",
    "#f-requester": "春晴路社区居民委员会",
    "#f-service_communities": "西工区金谷园街道春晴路社区、金谷园路社区",
    "#f-beneficiaries_description": "辖区内70岁以上独居、空巢老人，由社区网格员摸排确定。",
    "#f-summary": "组建低龄老人志愿队，为高龄独居老人提供每周探访和紧急联络服务。",
    "#f-need_analysis": "春晴路社区60岁以上老人占28%，其中独居老人146人，缺少日常照应和紧急联络渠道。",
    "#f-risks": "志愿者流失：建立积分激励机制。",
    "#f-bank_account_name": ORG_NAME,
    "#f-bank_name": "中国银行洛阳西工支行",
    "#f-bank_account_number": "6217 8500 0012 3456",
}
GOALS = {
    "#f-overall_goal": "建立覆盖春晴路社区全部独居老人的互助探访网络。",
    "#f-sub_goals": "组建志愿者队伍40人\n开展上门探访2400人次",
}
PLAN = {
    "input[name='plan-0-start']": "2027-01-01", "input[name='plan-0-end']": "2027-02-28",
    "textarea[name='plan-0-content']": "入户需求调研与志愿者招募", "textarea[name='plan-0-output']": "需求评估报告1份、志愿者40人",
    "input[name='plan-1-start']": "2027-03-01", "input[name='plan-1-end']": "2027-12-31",
    "textarea[name='plan-1-content']": "每周上门探访与紧急联络", "textarea[name='plan-1-output']": "探访2400人次",
}
TEAM = {
    "input[name='team-0-name']": "赵敏", "input[name='team-0-education']": "本科", "input[name='team-0-major']": "社会工作",
    "input[name='team-0-role']": "项目负责人", "input[name='team-0-qualification']": "中级社工师",
    "input[name='team-0-time_on_project']": "每周30小时",
    "input[name='team-1-name']": "王磊", "input[name='team-1-education']": "大专", "input[name='team-1-major']": "护理",
    "input[name='team-1-role']": "探访督导", "input[name='team-1-time_on_project']": "每周20小时",
}
# category, item, unit, unit price, quantity, source, note — grant ¥60,000 of ¥67,000 (89.55 %) and
# personnel ¥24,000 (35.82 %): both above the call's limits on purpose.
BUDGET = [
    ("activity", "上门探访活动", "次", "15", "2400", "grant", "交通及慰问品"),
    ("personnel", "项目社工补贴", "月", "2,000", "12", "grant", "1名社工12个月"),
    ("materials", "宣传物料", "批", "4000", "1", "matching", ""),
    ("management", "项目管理费", "项", "3000", "1", "matching", "财务及行政"),
]


def fill(page, values: dict) -> None:
    for selector, value in values.items():
        page.fill(selector, value)


def fill_budget_row(page, i: int, row: tuple) -> None:
    category, item, unit, price, qty, source, note = row
    page.select_option(f"select[name='budget-{i}-category']", category)
    page.fill(f"input[name='budget-{i}-item']", item)
    page.fill(f"input[name='budget-{i}-unit']", unit)
    page.fill(f"input[name='budget-{i}-unit_price']", price)
    page.fill(f"input[name='budget-{i}-quantity']", qty)
    page.select_option(f"select[name='budget-{i}-source']", source)
    page.fill(f"textarea[name='budget-{i}-note']", note)


def check_values(page, values: dict) -> None:
    for selector, value in values.items():
        expect(page.locator(selector)).to_have_value(value)


# --- 1. the acceptance journey ------------------------------------------------------------------


def test_intake_apply_submit_return_resubmit_pass(db, live_server, page, browser, real_worker, fast_autosave, intake, tmp_path):
    w = intake
    call, member, staff = w["call"], w["member"], w["staff"]
    extra_text = f"#f-extra-{w['extra_text'].id}"
    extra_choice = f"#f-extra-{w['extra_choice'].id}"
    extra_number = f"#f-extra-{w['extra_number'].id}"

    # The member finds the open call in their list, with its countdown running.
    login(page, member)
    with page.expect_navigation():
        nav_link(page, "可申报的通知").click()
    card = page.locator(".org-call", has_text=CALL_TITLE)
    expect(card).to_have_count(1)
    expect(card.locator("[data-status]")).to_have_text("申报中")
    expect(card.locator("[data-eligible]")).to_contain_text("符合申报条件")
    countdown = card.locator(".countdown")
    expect(countdown).to_be_visible()
    expect(countdown).to_have_text(re.compile(r"^距截止还剩 \d+天\d+小时\d+分\d{2}秒$"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=3000)  # it ticks
    shot(page, "01-member-calls-countdown")
    assert_no_console_errors(page)

    with page.expect_navigation():
        card.get_by_role("button", name="开始申报").click()
    expect(page.locator(".alert-success")).to_contain_text("已创建申报书草稿")
    app_id = int(re.search(r"/applications/(\d+)/edit", page.url).group(1))
    shot(page, "02-editor-new")

    # --- fill the sections (the goals are left for later on purpose)
    fill(page, BASIC)
    page.select_option("#f-field", "elderly")
    fill(page, PLAN)
    fill(page, TEAM)
    page.select_option("select[name='team-0-insured']", "yes")
    page.select_option("select[name='team-1-insured']", "no")
    # Two empty budget rows are there; two more come from the button.
    page.click("[data-add-row=budget]")
    page.click("[data-add-row=budget]")
    expect(page.locator("[data-budget-row]")).to_have_count(4)
    for i, row in enumerate(BUDGET):
        fill_budget_row(page, i, row)
    rows = page.locator("[data-budget-row]")
    expect(rows.nth(0).locator("[data-budget=amount]")).to_have_text("36,000.00")
    expect(rows.nth(1).locator("[data-budget=amount]")).to_have_text("24,000.00")
    expect(page.locator("[data-total=grant]")).to_have_text("¥60,000.00")
    expect(page.locator("[data-total=matching]")).to_have_text("¥7,000.00")
    expect(page.locator("[data-total=total]")).to_have_text("¥67,000.00")
    expect(page.locator("[data-grant-share]")).to_have_text("占总预算 89.55%，超过上限")
    # The call's extra fields.
    page.fill(extra_text, "春晴路社区、金谷园路社区")
    page.select_option(extra_choice, "老年人")
    page.fill(extra_number, "40")
    saved(page)
    page.locator("#sec-budget").scroll_into_view_if_needed()
    shot(page, "03-editor-filled-autosaved")

    # The attachment: a real PDF, uploaded for the required type.
    pdf = real_pdf(tmp_path / "登记证书副本.pdf")
    upload = page.locator("form[data-upload-form]").first
    upload.locator("input[type=file]").set_input_files(str(pdf))
    with page.expect_navigation():
        upload.get_by_role("button", name="上传").click()
    expect(page.locator(".alert-success")).to_contain_text("已上传“登记证书副本.pdf”")
    expect(page.locator("#sec-attachments")).to_contain_text("登记证书副本.pdf")

    # Reload mid-way: every typed value is still there, from the server (nothing restored locally).
    page.fill("#f-risks", BASIC["#f-risks"] + "\n天气原因：改为电话探访。")
    saved(page)
    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#restore-notice")).to_be_hidden()
    check_values(page, {**BASIC, "#f-risks": BASIC["#f-risks"] + "\n天气原因：改为电话探访。"})
    check_values(page, PLAN)
    check_values(page, TEAM)
    expect(page.locator("#f-field")).to_have_value("elderly")
    expect(page.locator("select[name='team-0-insured']")).to_have_value("yes")
    expect(page.locator("select[name='team-1-insured']")).to_have_value("no")
    for i, (category, item, unit, price, qty, source, note) in enumerate(BUDGET):
        expect(page.locator(f"select[name='budget-{i}-category']")).to_have_value(category)
        expect(page.locator(f"input[name='budget-{i}-item']")).to_have_value(item)
        expect(page.locator(f"input[name='budget-{i}-unit']")).to_have_value(unit)
        # Amounts come back as the server stored them (15 → 15.00): the same number.
        shown_price = page.locator(f"input[name='budget-{i}-unit_price']").input_value()
        shown_qty = page.locator(f"input[name='budget-{i}-quantity']").input_value()
        assert Decimal(shown_price) == Decimal(price.replace(",", "")), (i, shown_price)
        assert Decimal(shown_qty) == Decimal(qty), (i, shown_qty)
        expect(page.locator(f"select[name='budget-{i}-source']")).to_have_value(source)
        expect(page.locator(f"textarea[name='budget-{i}-note']")).to_have_value(note)
    expect(page.locator("[data-total=total]")).to_have_text("¥67,000.00")
    expect(page.locator(extra_text)).to_have_value("春晴路社区、金谷园路社区")
    expect(page.locator(extra_choice)).to_have_value("老年人")
    expect(page.locator(extra_number)).to_have_value("40")
    expect(page.locator("#sec-attachments")).to_contain_text("登记证书副本.pdf")
    expect(page.get_by_test_id("save-status")).to_contain_text("上次保存于")
    shot(page, "04-editor-after-reload")
    assert_no_console_errors(page)

    # Too early: every problem at once, in Chinese, grouped by section.
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.get_by_test_id("submit-application").click()
    problems = page.get_by_test_id("submission-problems")
    expect(problems).to_contain_text("未能提交：申报书还有 4 处问题需要修改（草稿已保存）")
    expect(problems).to_contain_text("请填写总目标")
    expect(problems).to_contain_text("请至少填写一项具体目标")
    expect(problems).to_contain_text(
        "申请资助金额¥60,000.00超过项目总预算¥67,000.00的60%（最多¥40,200.00），其余部分须由配套资金承担")
    expect(problems).to_contain_text("“人员及志愿者补贴”合计¥24,000.00，占总预算的35.82%，超过本批次上限30%")
    expect(problems.locator("a[href='#sec-goals']")).to_contain_text("（2）")
    expect(problems.locator("a[href='#sec-budget']")).to_contain_text("（2）")
    shot(page, "05-submission-problems")
    expected_status(page, f"/applications/{app_id}/submit", 422)
    assert fresh(db, app_id).status == ApplicationStatus.DRAFT

    # Fix them: the goals; the social worker is paid from matching funds at a lower rate.
    fill(page, GOALS)
    page.fill("input[name='budget-1-unit_price']", "1500")
    page.select_option("select[name='budget-1-source']", "matching")
    expect(page.locator("[data-total=grant]")).to_have_text("¥36,000.00")
    expect(page.locator("[data-total=matching]")).to_have_text("¥25,000.00")
    expect(page.locator("[data-total=total]")).to_have_text("¥61,000.00")
    expect(page.locator("[data-grant-share]")).to_have_text("占总预算 59.02%")
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.get_by_test_id("submit-application").click()
    expect(page.locator(".alert-success")).to_contain_text("申报书已提交，申报编号 WCT-2026-0001。")
    expect(page.get_by_test_id("receipt-number")).to_have_text("WCT-2026-0001")
    receipt = page.get_by_test_id("receipt")
    for text in (TITLE, ORG_NAME, CALL_TITLE, "¥36,000.00", "¥25,000.00", "¥61,000.00", "已提交，等待资格审查"):
        expect(receipt).to_contain_text(text)
    shot(page, "06-receipt")
    app = fresh(db, app_id)
    assert app.status == ApplicationStatus.SUBMITTED and app.number == "WCT-2026-0001"
    assert app.total_budget == Decimal("61000.00") and app.grant_requested == Decimal("36000.00")

    # The receipt's PDF: a job on the real worker; the member watches it finish, then downloads.
    with page.expect_navigation():
        page.get_by_role("link", name="查看生成进度").click()
    expect(page.get_by_test_id("job-status")).to_have_text("已完成", timeout=120_000)
    # Once done the page reloads itself with the details filled in and says what happened.
    expect(page.locator("[data-role=finished-at]")).to_have_text(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$"))
    expect(page.locator("main")).to_contain_text("申报书PDF已生成，可以下载")
    expect(page.locator("main")).not_to_contain_text("正在生成")
    shot(page, "07-pdf-job-finished")
    page.goto(f"/applications/{app_id}/receipt")
    download_link = page.get_by_role("link", name="下载申报书PDF")
    expect(download_link).to_be_visible()
    shot(page, "08-receipt-pdf-ready")
    with page.expect_download() as info:
        download_link.click()
    pdf_path = tmp_path / "application.pdf"
    info.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf_path), str(SHOTS / "09-application-pdf")],
                   check=True)
    flat = re.sub(r"\s+", "", pdf_text(pdf_path))
    for expected in ("WCT-2026-0001", re.sub(r"\s+", "", TITLE), ORG_NAME, "61,000.00"):
        assert expected in flat, f"{expected!r} missing from the application PDF:\n{flat[:2000]}"
    assert_no_console_errors(page)

    deadline = today_local() + timedelta(days=7)
    deadline_cn = f"{deadline.year}年{deadline.month}月{deadline.day}日"
    with other_page(browser, live_server) as desk:
        # 西工区 staff log in with TOTP and find it by its number.
        login(desk, staff)
        expect(nav_link(desk, "资格审查").locator(".badge")).to_have_text("1")
        with desk.expect_navigation():
            nav_link(desk, "资格审查").click()
        desk.locator("#q").fill("WCT-2026-0001")
        with desk.expect_navigation():
            desk.get_by_role("button", name="筛选").click()
        table = desk.get_by_test_id("screening-table")
        expect(table.locator("tbody tr")).to_have_count(1)
        row = table.locator("tbody tr").first
        for text in ("WCT-2026-0001", TITLE, ORG_NAME, "西工区", "¥36,000.00", "¥61,000.00", "已提交"):
            expect(row).to_contain_text(text)
        shot(desk, "10-staff-search")
        with desk.expect_navigation():
            row.get_by_role("link", name="WCT-2026-0001").click()
        expect(desk.get_by_test_id("summary")).to_contain_text(ORG_NAME)
        expect(desk.get_by_test_id("eligibility")).to_contain_text("符合本批次申报条件")
        expect(desk.get_by_test_id("budget-table")).to_contain_text("¥61,000.00")
        expect(desk.get_by_test_id("attachment-link")).to_have_text("登记证书副本.pdf")
        shot(desk, "11-staff-detail")

        # Return for revision: a reason on the budget and a deadline, confirmed.
        dialogs: list[str] = []

        def accept(dialog):
            dialogs.append(dialog.message)
            dialog.accept()

        desk.on("dialog", accept)
        desk.locator("#tab-return").click()
        pane = desk.locator("#pane-return")
        expect(pane).to_be_visible()
        pane.get_by_label("项目预算").fill(RETURN_REASON)
        pane.get_by_label("修改期限").fill(deadline.isoformat())
        shot(desk, "12-staff-return-form")
        with desk.expect_navigation():
            pane.get_by_role("button", name="退回修改").click()
        assert dialogs[-1] == "确定将 WCT-2026-0001 退回申报单位修改吗？"
        expect(desk.locator(".alert-success, .alert-info, .alert-warning").first).to_contain_text("退回")
        expect(desk.locator(".page-actions .status-pill")).to_have_text("退回修改")
        expect(desk.get_by_test_id("no-decision")).to_contain_text(deadline_cn)
        shot(desk, "13-staff-returned")
        assert_no_console_errors(desk)
        assert fresh(db, app_id).status == ApplicationStatus.RETURNED

        # The member sees the bell, the notification, the status, the reason and the deadline.
        page.goto("/applications/mine")
        expect(page.get_by_test_id("notification-unread")).to_have_text("2")  # submitted, returned
        row = page.get_by_test_id("my-applications").locator("tbody tr", has_text="WCT-2026-0001")
        expect(row.locator(".status-pill")).to_have_text("退回修改")
        expect(page.get_by_test_id(f"next-step-{app_id}")).to_have_text(f"退回修改：请在{deadline_cn}前修改后重新提交")
        shot(page, "14-member-mine-returned")
        with page.expect_navigation():
            page.get_by_test_id("notification-bell").click()
        returned = page.get_by_test_id("notifications").locator(".list-group-item", has_text="申报书退回修改：WCT-2026-0001")
        expect(returned).to_have_count(1)
        expect(returned).to_contain_text("未读")
        expect(returned).to_contain_text(f"项目预算：{RETURN_REASON}")
        expect(returned).to_contain_text(f"请在{deadline_cn}（含当日）前")
        expect(page.get_by_test_id("notifications")).not_to_contain_text("““")  # the title brings its own quotes
        shot(page, "15-member-notifications")
        page.goto(f"/applications/{app_id}")
        expect(page.locator(".page-actions .status-pill")).to_have_text("退回修改")
        expect(page.get_by_test_id("next-step")).to_contain_text(f"退回修改：请在{deadline_cn}前修改后重新提交")
        reasons = page.locator(".card", has=page.locator(".card-header", has_text="审查意见"))
        expect(reasons).to_contain_text(f"项目预算：{RETURN_REASON}")
        expect(reasons).to_contain_text(f"修改期限：{deadline_cn}")
        shot(page, "16-member-detail-returned")

        # Edit the budget and resubmit.
        with page.expect_navigation():
            page.get_by_role("link", name="修改并重新提交").click()
        expect(page.get_by_test_id("return-reasons")).to_contain_text(RETURN_REASON)
        expect(page.get_by_test_id("return-reasons")).to_contain_text(deadline_cn)
        expect(page.locator("#sec-budget .alert-warning")).to_contain_text(RETURN_REASON)
        page.fill("input[name='budget-2-unit_price']", "3500")
        page.fill("textarea[name='budget-2-note']", "海报200张×10元、折页600份×2.5元")
        expect(page.locator("[data-total=total]")).to_have_text("¥60,500.00")
        page.locator("#sec-budget").scroll_into_view_if_needed()
        shot(page, "17-member-revising")
        page.once("dialog", lambda d: d.accept())
        with page.expect_navigation():
            page.get_by_test_id("submit-application").click()
        expect(page.locator(".alert-success")).to_contain_text("申报书已重新提交，申报编号 WCT-2026-0001。")
        expect(page.get_by_test_id("receipt")).to_contain_text("（第2版）")
        expect(page.get_by_test_id("receipt")).to_contain_text("¥60,500.00")
        shot(page, "18-member-resubmitted")
        assert_no_console_errors(page)
        assert fresh(db, app_id).status == ApplicationStatus.RESUBMITTED

        # Staff see version 2 with the difference highlighted, then pass it.
        desk.goto("/staff/applications/")
        row = desk.get_by_test_id("screening-table").locator("tbody tr", has_text="WCT-2026-0001")
        expect(row).to_contain_text("已重新提交")
        expect(row.locator(".version-badge")).to_have_text("第2版")
        with desk.expect_navigation():
            row.get_by_role("link", name="WCT-2026-0001").click()
        diff = desk.get_by_test_id("version-diff")
        expect(diff).to_contain_text("修改对比：第1版 → 第2版")
        expect(diff.locator(".return-recap")).to_contain_text("已修改")
        expect(diff.locator(".return-recap")).to_contain_text(RETURN_REASON)
        # The changed budget line and totals, written as amounts are everywhere (¥ and thousands).
        line = diff.locator("tbody tr", has_text="第3行")
        expect(line.locator("del")).to_have_text("物料费 宣传物料 ¥4,000.00×1批＝¥4,000.00（配套资金）")
        expect(line.locator("ins")).to_have_text("物料费 宣传物料 ¥3,500.00×1批＝¥3,500.00（配套资金）海报200张×10元、折页600份×2.5元")
        total = diff.locator("tbody tr", has_text="总预算")
        expect(total.locator("del")).to_have_text("¥61,000.00")
        expect(total.locator("ins")).to_have_text("¥60,500.00")
        expect(diff.locator("tbody tr")).to_have_count(3)  # the line, 配套资金 and 总预算: nothing else changed
        expect(desk.get_by_test_id("budget-table")).to_contain_text("¥60,500.00")
        shot(desk, "19-staff-diff")
        desk.locator("#tab-pass").click()
        with desk.expect_navigation():
            desk.get_by_test_id("pass-form").get_by_role("button", name="通过资格审查").click()
        assert dialogs[-1] == "确定 WCT-2026-0001 通过资格审查吗？此决定将通知申报单位，不能撤销。"
        expect(desk.locator(".alert-success")).to_contain_text("已通过资格审查")
        shot(desk, "20-staff-passed")
        assert fresh(db, app_id).status == ApplicationStatus.PASSED

    # The member sees 资格审查通过 and every step in the history.
    page.goto(f"/applications/{app_id}")
    expect(page.locator(".page-actions .status-pill")).to_have_text("资格审查通过")
    expect(page.get_by_test_id("next-step")).to_contain_text("资格审查通过，等待专家评审")
    history = page.get_by_test_id("status-history").locator("li")
    steps = [re.sub(r"\s+", " ", t) for t in history.all_inner_texts()]
    labels = ["创建草稿", "已提交", "退回修改", "已重新提交", "资格审查通过"]
    found = [next((i for i, s in enumerate(steps) if label in s), None) for label in labels]
    assert None not in found and found == sorted(found), steps
    expect(page.get_by_test_id("status-history")).to_contain_text(RETURN_REASON)
    expect(page.get_by_test_id("status-history")).to_contain_text("李娜")
    shot(page, "21-member-passed-history")
    page.goto("/applications/mine")
    expect(page.get_by_test_id(f"next-step-{app_id}")).to_have_text("资格审查通过，等待专家评审")
    shot(page, "22-member-mine-passed")
    assert_no_console_errors(page)


# --- 2. another district's staff ------------------------------------------------------------------


def test_staff_of_another_district_cannot_find_or_open_the_application(db, live_server, page, intake, tmp_path):
    from incubator.applications import services
    from tests.applications.helpers import make_application

    w = intake
    extras = {f"extra-{w['extra_text'].id}": "春晴路社区", f"extra-{w['extra_choice'].id}": "老年人"}
    app = make_application(w["call"], w["org"], by=w["member"], title=TITLE, **extras)
    pdf = add_attachment_for(app, w["member"], tmp_path)
    services.submit(app, by=w["member"])
    db.session.commit()
    assert app.number == "WCT-2026-0001"

    login(page, w["staff_elsewhere"])
    expect(nav_link(page, "资格审查").locator(".badge")).to_have_count(0)
    page.goto("/staff/applications/?q=WCT-2026-0001")
    expect(page.get_by_test_id("screening-count")).to_have_text("0")
    expect(page.get_by_test_id("screening-table")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(TITLE)
    for value in ("pending", "all"):
        expect(page.locator(f"[data-status-count={value}]")).to_have_text("0")
    page.goto("/staff/applications/?q=" + ORG_NAME)
    expect(page.get_by_test_id("screening-count")).to_have_text("0")
    shot(page, "30-other-district-search")
    # The export of their whole list ("全部") holds no row of it either.
    page.goto("/staff/applications/?status=all")
    with page.expect_download() as info:
        page.get_by_test_id("export").click()
    xlsx = tmp_path / "export.xlsx"
    info.value.save_as(xlsx)
    from openpyxl import load_workbook

    cells = [str(c.value) for row in load_workbook(xlsx).active.iter_rows() for c in row if c.value is not None]
    assert cells, "the export has at least its header row"
    assert not any("WCT-2026-0001" in c or ORG_NAME in c or "银龄守望" in c for c in cells), cells

    for path in (f"/staff/applications/{app.id}", f"/applications/{app.id}", f"/applications/{app.id}/receipt",
                 f"/applications/{app.id}/files/{pdf}"):
        response = page.goto(path)
        # The screening page answers 404 (it does not even confirm the number exists); the
        # organisation's own pages 403 or 404.
        assert response.status in ((404,) if path.startswith("/staff/") else (403, 404)), (path, response.status)
        error = page.get_by_test_id("error-page")
        expect(error).to_be_visible()
        expect(error.locator("h1")).to_have_text(re.compile(r"[\u4e00-\u9fff]"))
        expect(page.locator("main")).not_to_contain_text(TITLE)
        expected_status(page, path, response.status)
    shot(page, "31-other-district-direct-url")

    # The same pages work for 西工区 staff (the refusal above is about the district, not the URLs).
    page.context.clear_cookies()
    login(page, w["staff"])
    page.goto("/staff/applications/?q=WCT-2026-0001")
    expect(page.get_by_test_id("screening-count")).to_have_text("1")
    assert page.goto(f"/staff/applications/{app.id}").status == 200
    assert_no_console_errors(page)

