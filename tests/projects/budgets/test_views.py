"""Budget pages: happy paths, permissions (finance 403, other org / district 404) and bad inputs."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from incubator.accounts.models import Role
from incubator.core.files import StoredFile
from incubator.extensions import db as _db
from incubator.projects.budgets import services
from incubator.projects.budgets.models import AdjustmentStatus, BudgetLine, Expense, ExpenseStatus
from tests.applications.helpers import PDF_BYTES
from tests.conftest import login_as
from tests.factories import make_district, make_user
from tests.projects.budgets.helpers import budgeted, grant_project, spend
from tests.projects.helpers import launch, make_member, staff_for

D = Decimal


def _count(model):
    return _db.session.scalar(select(func.count()).select_from(model))


def _expense_data(line_obj, **kw):
    data = {"line": str(line_obj.id), "amount": "1280.50", "spent_on": "2026-04-02", "payee": "洛阳市某某印刷厂",
            "description": "宣传折页印刷500份", "receipts": (io.BytesIO(PDF_BYTES), "发票.pdf")}
    data.update(kw)
    return data


def test_staff_approve_the_application_budget(client):
    project, staff, member = grant_project()
    _db.session.commit()
    login_as(client, staff)
    page = client.get(f"/projects/{project.id}/budget/approve")
    assert page.status_code == 200 and "社区探访活动" in page.text
    data = {"rows-0-category": "activity", "rows-0-item": "社区探访活动", "rows-0-amount": "36000.00",
            "rows-0-source": "grant", "rows-1-category": "personnel", "rows-1-item": "项目社工补贴",
            "rows-1-amount": "18000", "rows-1-source": "matching", "rows-2-category": "materials",
            "rows-2-item": "宣传物料", "rows-2-amount": "6000", "rows-2-source": "matching", "rows-3-category": "",
            "rows-3-item": "", "rows-3-amount": "", "rows-3-source": "grant"}
    bad = client.post(f"/projects/{project.id}/budget/approve", data=data | {"rows-0-amount": "36000.001"})
    assert bad.status_code == 422 and "36000.001" in bad.text and "精确到分" in bad.text
    short = client.post(f"/projects/{project.id}/budget/approve", data=data | {"rows-0-amount": "35000"})
    assert short.status_code == 422 and "须等于立项金额" in short.text
    assert _count(BudgetLine) == 0
    caps = client.post(f"/projects/{project.id}/budget/approve", data=data | {"rows-2-amount": "5000"})
    assert caps.status_code == 422 and "超过本批次上限30%" in caps.text
    assert _count(BudgetLine) == 0
    done = client.post(f"/projects/{project.id}/budget/approve", data=data)
    assert done.status_code == 302
    assert _count(BudgetLine) == 3
    page = client.get(f"/projects/{project.id}/budget")
    assert page.status_code == 200 and "¥60,000.00" in page.text
    assert client.get(f"/projects/{project.id}/budget/approve").status_code == 302


def test_the_budget_page_shows_figures_and_rates(client):
    project, staff, member, lines = budgeted()
    e = spend(project, lines[0], "12500.00", member)
    services.verify_expense(e, by=staff)
    spend(project, lines[0], "100.00", member)
    _db.session.commit()
    login_as(client, member)
    page = client.get(f"/projects/{project.id}/budget")
    assert page.status_code == 200
    assert "25.00%" in page.text and "¥12,600.00" in page.text and "¥37,400.00" in page.text
    assert "登记支出" in page.text and 'name="reason"' not in page.text  # no verify / return forms for the org
    waiting = client.get(f"/projects/{project.id}/budget?status=waiting")
    assert waiting.text.count('data-testid="expense-row"') == 1
    by_line = client.get(f"/projects/{project.id}/budget?line={lines[1].id}")
    assert by_line.text.count('data-testid="expense-row"') == 0 and "没有符合条件的支出" in by_line.text
    junk = client.get(f"/projects/{project.id}/budget?line=abc&status=' OR 1=1--&page=99999999999")
    assert junk.status_code == 200


def test_org_records_an_expense_with_a_receipt(client):
    project, staff, member, lines = budgeted()
    _db.session.commit()
    login_as(client, member)
    assert client.get(f"/projects/{project.id}/expenses/new").status_code == 200
    r = client.post(f"/projects/{project.id}/expenses/new", data=_expense_data(lines[2]),
                    content_type="multipart/form-data")
    assert r.status_code == 302
    expense = _db.session.scalar(select(Expense))
    assert expense.amount == D("1280.50") and len(expense.receipts) == 1
    receipt = client.get(f"/projects/{project.id}/receipts/{expense.receipts[0].id}")
    assert receipt.status_code == 200 and receipt.data == PDF_BYTES


@pytest.mark.parametrize("field, value, message", [
    ("amount", "-0.01", "不能小于"), ("amount", "0.001", "精确到分"), ("amount", "NaN", "格式不正确"),
    ("amount", "1e309", "格式不正确"), ("amount", "12345678901234567890", "数值过大"), ("amount", "", "请填写支出金额"),
    ("spent_on", "2026-02-30", ""), ("line", "99999999999", "请从列表中选择"), ("amount", "30000.01", "剩余可用金额为¥30,000.00"),
])
def test_bad_expense_inputs_change_nothing(client, field, value, message):
    project, staff, member, lines = budgeted()
    _db.session.commit()
    login_as(client, member)
    files = _count(StoredFile)
    r = client.post(f"/projects/{project.id}/expenses/new", data=_expense_data(lines[2], **{field: value}),
                    content_type="multipart/form-data")
    assert r.status_code == 422 and message in r.text
    assert _count(Expense) == 0 and _count(StoredFile) == files


@pytest.mark.parametrize("upload", [
    (io.BytesIO(b"<html><script>alert(1)</script></html>"), "发票.pdf"),
    (io.BytesIO(b""), "空.pdf"),
    (io.BytesIO(PDF_BYTES), "发票.exe"),
    None,
])
def test_bad_receipts_change_nothing(client, upload):
    project, staff, member, lines = budgeted()
    _db.session.commit()
    login_as(client, member)
    data = _expense_data(lines[2])
    if upload is None:
        data.pop("receipts")
    else:
        data["receipts"] = upload
    r = client.post(f"/projects/{project.id}/expenses/new", data=data, content_type="multipart/form-data")
    assert r.status_code == 422
    assert _count(Expense) == 0 and _count(StoredFile) == 0


def test_oversized_receipt_is_refused(app, db, monkeypatch):
    """One byte over the upload limit: refused, and nothing is stored (the request-level 413 is core's)."""
    from incubator.core.files import UploadRejected
    from tests.projects.budgets.helpers import receipt

    project, staff, member, lines = budgeted()
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    big = PDF_BYTES + b"0" * (4097 - len(PDF_BYTES))
    with pytest.raises(UploadRejected):
        services.record_expense(project, line=lines[2], amount=D("1"), spent_on=lines[2].created_at.date(),
                                description="x", payee="y", receipts=[receipt(data=big)], by=member)
    _db.session.rollback()
    assert _count(Expense) == 0 and _count(StoredFile) == 0


def test_staff_verify_and_return(client):
    project, staff, member, lines = budgeted()
    a = spend(project, lines[0], "100.00", member)
    b = spend(project, lines[0], "200.00", member)
    _db.session.commit()
    login_as(client, staff)
    assert client.post(f"/projects/{project.id}/expenses/{a.id}/verify").status_code == 302
    again = client.post(f"/projects/{project.id}/expenses/{a.id}/verify")
    assert again.status_code == 409
    no_reason = client.post(f"/projects/{project.id}/expenses/{b.id}/return", data={"reason": " "})
    assert no_reason.status_code == 422
    assert client.post(f"/projects/{project.id}/expenses/{b.id}/return", data={"reason": "票据不清晰"}).status_code == 302
    _db.session.expire_all()
    assert (a.status, b.status) == (ExpenseStatus.VERIFIED, ExpenseStatus.RETURNED)
    login_as(client, member)
    page = client.get(f"/projects/{project.id}/expenses/{b.id}")
    assert "修改后重新提交" in page.text and "票据不清晰" in page.text
    r = client.post(f"/projects/{project.id}/expenses/{b.id}", data=_expense_data(lines[0], amount="150.00"),
                    content_type="multipart/form-data")
    assert r.status_code == 302
    _db.session.expire_all()
    assert b.status == ExpenseStatus.RESUBMITTED and b.amount == D("150.00") and len(b.receipts) == 2
    assert client.post(f"/projects/{project.id}/expenses/{a.id}", data=_expense_data(lines[0]),
                       content_type="multipart/form-data").status_code == 409


def test_adjustment_request_and_approvals(client):
    project, staff, member, lines = budgeted()
    _db.session.commit()
    login_as(client, member)
    data = {"from_line": str(lines[0].id), "to_line": str(lines[2].id), "amount": "8000", "reason": "物料需求增加"}
    assert client.get(f"/projects/{project.id}/budget/adjustments/new").status_code == 200
    bad = client.post(f"/projects/{project.id}/budget/adjustments/new", data=data | {"to_line": str(lines[3].id)})
    assert bad.status_code == 422 and "不能相互调剂" in bad.text
    assert client.post(f"/projects/{project.id}/budget/adjustments/new", data=data).status_code == 302
    adj = services.adjustments(project)[0]
    assert adj.requires_city
    login_as(client, staff)
    assert client.post(f"/projects/{project.id}/budget/adjustments/{adj.id}/approve").status_code == 302
    _db.session.expire_all()
    assert adj.status == AdjustmentStatus.STAFF_APPROVED
    assert client.post(f"/projects/{project.id}/budget/adjustments/{adj.id}/approve").status_code == 403
    city = make_user(Role.STAFF)
    _db.session.commit()
    login_as(client, city)
    page = client.get(f"/projects/{project.id}/budget")
    assert "同意" in page.text
    assert client.post(f"/projects/{project.id}/budget/adjustments/{adj.id}/approve").status_code == 302
    _db.session.expire_all()
    assert adj.status == AdjustmentStatus.APPLIED and lines[2].approved == D("38000.00")


def test_staff_move_revise_and_add(client):
    project, staff, member, lines = budgeted()
    _db.session.commit()
    login_as(client, staff)
    r = client.post(f"/projects/{project.id}/budget/move", data={"from_line": str(lines[0].id), "to_line": str(lines[1].id),
                                                                 "amount": "100", "reason": "核减活动费"})
    assert r.status_code == 302
    r = client.post(f"/projects/{project.id}/budget/lines/{lines[3].id}", data={"item": "宣传", "approved": "6000",
                                                                              "reason": "自筹增加"})
    assert r.status_code == 302
    r = client.post(f"/projects/{project.id}/budget/lines/{lines[3].id}", data={"item": "宣传", "approved": "6000"})
    assert r.status_code == 422
    r = client.post(f"/projects/{project.id}/budget/lines/new", data={"category": "training", "item": "志愿者培训",
                                                                     "source": "grant", "reason": "新增"})
    assert r.status_code == 302
    _db.session.expire_all()
    assert (lines[1].approved, lines[3].approved) == (D("20100.00"), D("6000.00")) and _count(BudgetLine) == 5


def test_finance_sees_but_never_edits(client):
    project, staff, member, lines = budgeted()
    e = spend(project, lines[0], "100.00", member)
    finance = make_user(Role.FINANCE)
    _db.session.commit()
    login_as(client, finance)
    assert client.get(f"/projects/{project.id}/budget").status_code == 200
    assert client.get(f"/projects/{project.id}/receipts/{e.receipts[0].id}").status_code == 200
    for url, data in [
        (f"/projects/{project.id}/budget/approve", {}),
        (f"/projects/{project.id}/budget/lines/{lines[0].id}", {"item": "x", "reason": "x"}),
        (f"/projects/{project.id}/budget/lines/new", {}),
        (f"/projects/{project.id}/budget/move", {}),
        (f"/projects/{project.id}/budget/adjustments/new", {}),
        (f"/projects/{project.id}/expenses/new", {}),
        (f"/projects/{project.id}/expenses/{e.id}", {}),
        (f"/projects/{project.id}/expenses/{e.id}/verify", {}),
        (f"/projects/{project.id}/expenses/{e.id}/return", {"reason": "x"}),
    ]:
        assert client.post(url, data=data).status_code == 403, url


def test_other_org_and_other_district_get_404(client):
    project, staff, member, lines = budgeted()
    e = spend(project, lines[0], "100.00", member)
    other_member = make_member()
    other_staff = make_user(Role.STAFF, district=make_district(name="乙区", code="410399"))
    _db.session.commit()
    for user in (other_member, other_staff):
        login_as(client, user)
        assert client.get(f"/projects/{project.id}/budget").status_code == 404
        assert client.get(f"/projects/{project.id}/receipts/{e.receipts[0].id}").status_code == 404
        assert client.post(f"/projects/{project.id}/expenses/{e.id}/verify").status_code == 404


def test_ids_of_another_project_and_huge_ids(client):
    project, staff, member, lines = budgeted()
    other, _, other_member, other_lines = budgeted()
    e = spend(other, other_lines[0], "100.00", other_member)
    _db.session.commit()
    login_as(client, staff)
    for url in (f"/projects/{project.id}/expenses/{e.id}", f"/projects/{project.id}/receipts/{e.receipts[0].id}",
                f"/projects/{project.id}/expenses/99999999999", "/projects/99999999999/budget",
                f"/projects/{project.id}/budget/lines/{other_lines[0].id}", f"/projects/{project.id}/receipts/0"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/projects/{project.id}/expenses/{e.id}/verify").status_code == 404


def test_mass_assignment_is_ignored(client):
    project, staff, member, lines = budgeted()
    _db.session.commit()
    login_as(client, member)
    r = client.post(f"/projects/{project.id}/expenses/new",
                    data=_expense_data(lines[2], status="verified", project_id="999", verified_by_id=str(staff.id)),
                    content_type="multipart/form-data")
    assert r.status_code == 302
    e = _db.session.scalar(select(Expense))
    assert e.status == ExpenseStatus.SUBMITTED and e.verified_by_id is None and e.project_id == project.id
