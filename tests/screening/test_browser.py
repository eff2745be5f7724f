"""Browser journey of 资格审查: the list with filters and the batch bar, batch pass with its confirmation,
and the decision page of a resubmitted application with its version diff (screenshots under screenshots/)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from incubator.applications import services as app_services
from incubator.applications.forms import parse_draft
from incubator.applications.models import Application, ApplicationStatus
from incubator.db import today_local
from incubator.orgs.models import CreditKind, CreditRecord, Verification
from incubator.screening import services as screening
from tests.browser.conftest import assert_no_console_errors, browser, live_server, login, page, screenshot  # noqa: F401
from tests.screening.helpers import form_data, make_call, make_org, make_submitted

pytestmark = pytest.mark.browser
S = ApplicationStatus


def _seed(db, w):
    """A queue like a district sees on a Monday: clean ones, flagged ones, one resubmitted with changes."""
    today = today_local()
    w.call_b = make_call(title="2026年洛阳市政府购买社区养老服务项目")
    rows = [
        ("洛阳市老城区邻里互助服务中心", "老城区独居老人关爱行动", "elderly"),
        ("洛阳市涧西区青禾社会工作服务中心", "青禾青少年成长营", "youth"),
        ("洛阳市西工区康乐助残服务社", "康乐残疾人居家康复训练", "disability"),
        ("洛阳市瀍河区益童成长服务中心", "益童社区托育驿站", "childcare"),
        ("洛阳市洛龙区银发志愿者协会", "银发志愿者互助养老", "elderly"),
    ]
    w.clean = []
    for i, (name, title, field) in enumerate(rows):
        org = make_org(district=w.district_a, name=name)
        app = make_submitted(org, w.call if i % 2 else w.call_b, title=f"{title}项目", field=field, minutes_ago=60 * (i + 1),
                             **{"budget-0-unit_price": str(1000 + 40 * i)})
        w.clean.append(app)
    listed = make_org(district=w.district_a, name="洛阳市西工区彩虹社区服务中心")
    db.session.add(CreditRecord(org_id=listed.id, kind=CreditKind.ABNORMAL_LIST, reason="未按时报送2025年度年报",
                                source="洛民〔2026〕12号", start_on=today - timedelta(days=20)))
    w.flagged = make_submitted(listed, w.call, title="彩虹社区儿童课后服务项目", field="childcare", minutes_ago=30)
    pending_org = make_org(district=w.district_a, name="洛阳市老城区新苗公益服务社", status=Verification.PENDING)
    make_submitted(pending_org, w.call_b, title="新苗社区环保宣传项目", field="environment", minutes_ago=20)
    make_submitted(w.org_a, w.call, by=w.member_a, status=S.PASSED, title="已通过的社区治理项目", field="community_governance")

    # resubmitted with changes, through the applications domain's real submission
    member = w.member_a
    app = app_services.start_application(w.call, org=w.org_a, by=member)
    app_services.save_draft(app, draft=parse_draft(MultiDict(form_data(w.call, bank_account_name=w.org_a.name)), w.call), by=member)
    app_services.submit(app, by=member)
    screening.return_for_revision(app, by=w.staff_a, reasons={"basic": "项目名称过于宽泛，请写明服务社区。",
                                                              "budget": "宣传物料费用未说明测算依据。"},
                                  deadline=today + timedelta(days=7))
    revised = form_data(w.call, bank_account_name=w.org_a.name, title="“银龄互助”翠云社区独居老人探访项目",
                        **{"budget-2-unit_price": "8000", "budget-2-note": "海报200张×15元、折页2000份×2.5元"})
    app_services.submit(app, by=member, draft=parse_draft(MultiDict(revised), w.call))
    w.resubmitted = app
    db.session.commit()


def test_staff_screen_in_the_browser(db, live_server, page, two_districts):
    w = two_districts
    _seed(db, w)
    login(page, w.staff_a)
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)

    page.goto("/staff/applications/")
    page.wait_for_load_state("networkidle")
    table = page.get_by_test_id("screening-table")
    # the work queue: 5 clean, 1 on a credit list, 1 of an unverified organisation, 1 resubmitted (not the passed one)
    assert table.locator("tbody tr").count() == 8
    assert page.get_by_test_id("screening-count").inner_text() == "8"
    # filters: only the 公益微创投 call, sorted by grant
    # each select submits its form: wait for that navigation, or the next change lands on the old page
    with page.expect_navigation():
        page.select_option("#call", str(w.call.id))
    page.wait_for_load_state("networkidle")
    with page.expect_navigation():
        page.select_option("#sort", "grant_desc")
    page.wait_for_load_state("networkidle")
    assert f"call={w.call.id}" in page.url and "sort=grant_desc" in page.url
    rows = table.locator("tbody tr")
    count = rows.count()
    assert count >= 3
    # the flagged row cannot be selected; select two clean ones
    flagged_box = page.locator(f'tr[data-app-id="{w.flagged.id}"] input[data-row-check]')
    assert flagged_box.is_disabled()
    for app in (w.clean[1], w.clean[3]):  # two clean applications of this call
        page.locator(f'tr[data-app-id="{app.id}"] input[data-row-check]').check()
    assert page.locator("[data-selected-count]").inner_text() == "2"
    shot = screenshot(page, "screening-list")
    print(f"\nscreenshot: {shot}")

    with page.expect_navigation():
        page.locator("[data-batch-submit]").click()
    assert dialogs and "确定通过所选 2 份申报书" in dialogs[-1]
    assert "已批量通过 2 份申报书" in page.locator("body").inner_text()
    assert f"call={w.call.id}" in page.url  # back to the same filters

    page.goto(f"/staff/applications/{w.resubmitted.id}")
    page.wait_for_load_state("networkidle")
    diff = page.get_by_test_id("version-diff")
    assert "修改对比：第1版 → 第2版" in diff.inner_text()
    assert "翠云社区独居老人探访项目" in diff.inner_text()
    page.locator("#tab-return").click()
    page.locator("#pane-return").wait_for(state="visible")
    shot = screenshot(page, "screening-detail-diff")
    print(f"screenshot: {shot}")
    # decide: pass, with the confirmation
    page.locator("#tab-pass").click()
    with page.expect_navigation():
        page.get_by_test_id("pass-form").locator("button[type=submit]").click()
    assert "通过资格审查" in dialogs[-1]
    assert "已通过资格审查" in page.locator("body").inner_text()
    db.session.expire_all()
    assert db.session.get(Application, w.resubmitted.id).status == S.PASSED
    assert_no_console_errors(page)
