"""The contract in a browser: district staff generate it, the organisation uploads its signed scan, staff
countersign and publish; the tab, the member's view and the public pages render without console or CSP
errors (screenshots under screenshots/)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from incubator.db import today_local
from incubator.projects.contracts import services
from incubator.projects.contracts.models import Contract, ContractStatus
from tests.browser.conftest import assert_no_console_errors, browser, live_server, login, page, screenshot  # noqa: F401
from tests.browser.test_foundation_journeys import other_page
from tests.projects.contracts.helpers import PDF_BYTES, contract_world

pytestmark = pytest.mark.browser


def test_generate_sign_countersign_publish_in_the_browser(db, live_server, page, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    project, staff, member = contract_world()
    db.session.commit()
    scan = tmp_path / "签章合同.pdf"
    scan.write_bytes(PDF_BYTES)
    page.on("dialog", lambda d: d.accept())
    tab = f"/projects/{project.id}/contract"

    login(page, staff)
    page.goto(tab)
    expect(page.get_by_test_id("generate-card")).to_be_visible()
    with page.expect_navigation():
        page.get_by_test_id("generate-card").locator("button[type=submit]").click()
    expect(page.get_by_test_id("pdf-pending")).to_be_visible()
    db.session.expire_all()
    contract = db.session.scalar(select(Contract).where(Contract.project_id == project.id))
    services.attach_pdf(contract)  # what the worker does
    db.session.commit()

    with other_page(browser, live_server) as org_page:
        org_page.on("dialog", lambda d: d.accept())
        login(org_page, member)
        org_page.goto(tab)
        form = org_page.get_by_test_id("org-signed-form")
        form.locator("input[type=file]").set_input_files(str(scan))
        screenshot(org_page, "contracts-tab-member")
        with org_page.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(org_page.locator(".alert-success")).to_contain_text("签章合同已上传")
        assert_no_console_errors(org_page)

    page.goto(tab)
    form = page.get_by_test_id("countersign-form")
    form.locator("input[type=file]").set_input_files(str(scan))
    form.locator("input[name=signed_on]").fill(today_local().isoformat())
    screenshot(page, "contracts-tab-countersign")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("合同已生效")
    with page.expect_navigation():
        page.get_by_test_id("publish-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("amend-card")).to_be_visible()
    screenshot(page, "contracts-tab-staff")
    assert_no_console_errors(page)
    db.session.expire_all()
    contract = db.session.get(Contract, contract.id)
    assert contract.status == ContractStatus.IN_FORCE and contract.published_at is not None

    page.goto("/contracts")
    expect(page.get_by_test_id("public-contracts")).to_contain_text(project.title)
    screenshot(page, "contracts-public-index")
    page.get_by_role("link", name=project.title).click()
    expect(page.get_by_test_id("contract-summary")).to_contain_text("¥100,000.00")
    screenshot(page, "contracts-public-detail")
    page.goto(f"/staff/contract-templates/{contract.template_id}")
    screenshot(page, "contracts-template-editor")
    assert_no_console_errors(page)
