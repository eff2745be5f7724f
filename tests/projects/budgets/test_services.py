"""Budget services: approval, staff revisions, adjustments (staff / city), expenses and their refusals."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from incubator.accounts.models import Role
from incubator.applications.models import FundingSource
from incubator.calls.models import BudgetCategory
from incubator.core.audit import AuditLog
from incubator.core.files import StoredFile, UploadRejected
from incubator.core.states import InvalidTransition
from incubator.db import today_local
from incubator.extensions import db as _db
from incubator.projects.budgets import services
from incubator.projects.budgets.models import AdjustmentStatus, BudgetLine, Expense, ExpenseStatus
from incubator.projects.budgets.services import BudgetError, LineInput, NotAllowed
from incubator.projects.models import ProjectStatus
from tests.factories import make_user
from tests.projects.budgets.helpers import (
    PNG_BYTES, PURCHASE_LINES, SPENT_ON, budgeted, grant_project, receipt, spend,
)
from tests.projects.helpers import launch, make_member, staff_for

D = Decimal


def _count(model):
    return _db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- approval

def test_approve_from_the_application_keeps_its_lines(db):
    project, staff, _ = grant_project()
    assert services.proposed_lines(project)
    lines = services.approve_from_application(project, by=staff)
    assert [(l.category, l.approved, l.source) for l in lines] == [
        (BudgetCategory.ACTIVITY, D("36000.00"), FundingSource.GRANT),
        (BudgetCategory.PERSONNEL, D("18000.00"), FundingSource.MATCHING),
        (BudgetCategory.MATERIALS, D("6000.00"), FundingSource.MATCHING),
    ]
    f = services.figures(project)
    assert f.total.approved == D("60000.00") and f.by_source[FundingSource.GRANT].approved == project.amount
    with pytest.raises(BudgetError, match="已核定"):
        services.approve_from_application(project, by=staff)
    assert _db.session.scalar(select(AuditLog).where(AuditLog.action == "budget.approved")) is not None


def test_approval_refuses_a_grant_part_unequal_to_the_project_amount(db):
    project = launch(amount="99999.99")
    staff = staff_for(project.org)
    with pytest.raises(BudgetError, match="须等于立项金额"):
        services.approve_budget(project, PURCHASE_LINES, by=staff)
    assert not services.is_approved(project)


def test_approval_keeps_the_call_caps(db):
    project, staff, _ = grant_project()
    rows = services.proposed_lines(project)
    rows[1].amount = D("18000.01")  # personnel above 30 % of the total
    with pytest.raises(BudgetError, match="人员及志愿者补贴.*超过本批次上限30%"):
        services.approve_budget(project, rows, by=staff)


@pytest.mark.parametrize("amount, message", [
    (D("-1.00"), "不能为负数"), (D("0.001"), "精确到分"), (1.5, "精确的数值"), (D("NaN"), "格式不正确"),
])
def test_approval_refuses_bad_amounts(db, amount, message):
    project = launch()
    rows = [LineInput(BudgetCategory.ACTIVITY, "活动", amount)]
    with pytest.raises(BudgetError, match=message):
        services.approve_budget(project, rows, by=staff_for(project.org))


def test_only_staff_in_scope_approve(db):
    project = launch()
    for user in (make_user(Role.FINANCE), make_member(project.org), make_user(Role.ADMIN)):
        with pytest.raises(NotAllowed):
            services.approve_budget(project, PURCHASE_LINES, by=user)
    from tests.factories import make_district
    other = make_user(Role.STAFF, district=make_district(name="乙区", code="410399"))
    with pytest.raises(NotAllowed):
        services.approve_budget(project, PURCHASE_LINES, by=other)


# ---------------------------------------------------------------- expenses

def test_expense_needs_a_receipt_and_room_on_the_line(db):
    project, staff, member, lines = budgeted()
    with pytest.raises(BudgetError, match="至少一张票据"):
        services.record_expense(project, line=lines[0], amount=D("10"), spent_on=SPENT_ON, description="x",
                                payee="y", receipts=[], by=member)
    spend(project, lines[0], "49999.99", member)
    with pytest.raises(BudgetError, match="“服务活动费·社区助餐服务”剩余可用金额为¥0.01"):
        spend(project, lines[0], "0.02", member)
    spend(project, lines[0], "0.01", member)
    assert services.spent_total(project) == D("50000.00")
    assert services.verified_total(project) == D("0.00")


def test_expense_refusals(db):
    project, staff, member, lines = budgeted()
    for amount, message in [(D("0"), "必须大于0"), (D("-0.01"), "必须大于0"), (D("1.005"), "精确到分"), (2.5, "精确的数值")]:
        with pytest.raises(BudgetError, match=message):
            services.record_expense(project, line=lines[0], amount=amount, spent_on=SPENT_ON, description="x",
                                    payee="y", receipts=[receipt()], by=member)
    with pytest.raises(BudgetError, match="不能晚于今天"):
        services.record_expense(project, line=lines[0], amount=D("1"), spent_on=today_local() + timedelta(days=1),
                                description="x", payee="y", receipts=[receipt()], by=member)
    with pytest.raises(NotAllowed):
        services.record_expense(project, line=lines[0], amount=D("1"), spent_on=SPENT_ON, description="x",
                                payee="y", receipts=[receipt()], by=staff)
    other_project, _, _, other_lines = budgeted()
    with pytest.raises(BudgetError, match="本项目的预算科目"):
        services.record_expense(project, line=other_lines[0], amount=D("1"), spent_on=SPENT_ON, description="x",
                                payee="y", receipts=[receipt()], by=member)
    assert _count(Expense) == 0


def test_a_fake_receipt_changes_nothing(db):
    project, staff, member, lines = budgeted()
    files_before = _count(StoredFile)
    with pytest.raises(UploadRejected):
        services.record_expense(project, line=lines[0], amount=D("10"), spent_on=SPENT_ON, description="x", payee="y",
                                receipts=[receipt("发票.pdf", b"<html><script>alert(1)</script></html>")], by=member)
    _db.session.rollback()
    assert _count(Expense) == 0 and _count(StoredFile) == files_before


def test_png_receipts_are_accepted(db):
    project, staff, member, lines = budgeted()
    e = services.record_expense(project, line=lines[1], amount=D("10"), spent_on=SPENT_ON, description="x", payee="y",
                                receipts=[receipt("签收单.png", PNG_BYTES), receipt()], by=member)
    assert len(e.receipts) == 2


def test_verify_return_resubmit(db):
    project, staff, member, lines = budgeted()
    e = spend(project, lines[0], "1000.00", member)
    with pytest.raises(BudgetError, match="请填写退回原因"):
        services.return_expense(e, by=staff, reason=" ")
    services.return_expense(e, by=staff, reason="发票抬头不符")
    assert e.status == ExpenseStatus.RETURNED and e.return_reason == "发票抬头不符"
    assert services.spent_total(project) == D("0.00")
    with pytest.raises(InvalidTransition):
        services.verify_expense(e, by=staff)
    services.resubmit_expense(e, by=member, amount=D("900.00"), receipts=[receipt("新发票.pdf")])
    assert e.status == ExpenseStatus.RESUBMITTED and len(e.receipts) == 2 and e.amount == D("900.00")
    assert services.spent_total(project) == D("900.00")
    with pytest.raises(InvalidTransition):
        services.resubmit_expense(e, by=member)
    with pytest.raises(NotAllowed):
        services.verify_expense(e, by=member)
    services.verify_expense(e, by=staff)
    assert e.status == ExpenseStatus.VERIFIED and e.verified_by_id == staff.id
    assert services.verified_total(project) == D("900.00")
    with pytest.raises(InvalidTransition):
        services.return_expense(e, by=staff, reason="再退")
    row = services.figures(project).rows[0]
    assert (row.approved, row.spent, row.verified, row.remaining, row.rate) == (
        D("50000.00"), D("900.00"), D("900.00"), D("49100.00"), D("1.80"))


def test_resubmission_cannot_overspend(db):
    project, staff, member, lines = budgeted()
    e = spend(project, lines[1], "15000.00", member)
    services.return_expense(e, by=staff, reason="票据不全")
    spend(project, lines[1], "10000.00", member)
    with pytest.raises(BudgetError, match="剩余可用金额为¥10,000.00"):
        services.resubmit_expense(e, by=member)
    services.resubmit_expense(e, by=member, amount=D("10000.00"))
    assert services.figures(project).rows[1].remaining == D("0.00")


def test_finance_cannot_touch_expenses(db):
    project, staff, member, lines = budgeted()
    e = spend(project, lines[0], "10.00", member)
    finance = make_user(Role.FINANCE)
    with pytest.raises(NotAllowed):
        services.verify_expense(e, by=finance)
    with pytest.raises(NotAllowed):
        services.revise_line(lines[3], by=finance, reason="x", approved=D("1"))


def test_closed_project_takes_no_expense(db):
    project, staff, member, lines = budgeted()
    project.status = ProjectStatus.TERMINATED
    with pytest.raises(BudgetError, match="已终止"):
        spend(project, lines[0], "1.00", member)


# ---------------------------------------------------------------- adjustments

def test_small_adjustment_applied_by_district_staff(db):
    project, staff, member, lines = budgeted()
    adj = services.request_adjustment(project, from_line=lines[0], to_line=lines[2], amount=D("5000.00"),
                                      reason="物料涨价", by=member)
    assert not adj.requires_city and adj.status == AdjustmentStatus.REQUESTED
    services.approve_adjustment(adj, by=staff)
    assert adj.status == AdjustmentStatus.APPLIED
    assert (lines[0].approved, lines[2].approved) == (D("45000.00"), D("35000.00"))
    with pytest.raises(InvalidTransition):
        services.approve_adjustment(adj, by=staff)


def test_large_adjustment_needs_city_staff(db):
    project, staff, member, lines = budgeted()
    adj = services.request_adjustment(project, from_line=lines[0], to_line=lines[2], amount=D("5000.01"),
                                      reason="物料涨价", by=member)
    assert adj.requires_city
    services.approve_adjustment(adj, by=staff)
    assert adj.status == AdjustmentStatus.STAFF_APPROVED and lines[0].approved == D("50000.00")
    with pytest.raises(NotAllowed, match="市级"):
        services.approve_adjustment(adj, by=staff)
    with pytest.raises(NotAllowed):
        services.reject_adjustment(adj, by=staff, reason="不同意")
    city = make_user(Role.STAFF)
    services.approve_adjustment(adj, by=city)
    assert adj.status == AdjustmentStatus.APPLIED and adj.city_approved_by_id == city.id
    assert lines[2].approved == D("35000.01")


def test_city_staff_approve_a_large_one_at_once(db):
    project, staff, member, lines = budgeted()
    adj = services.request_adjustment(project, from_line=lines[0], to_line=lines[2], amount=D("20000.00"),
                                      reason="调整", by=member)
    services.approve_adjustment(adj, by=make_user(Role.STAFF))
    assert adj.status == AdjustmentStatus.APPLIED


def test_adjustment_refusals(db):
    project, staff, member, lines = budgeted()
    spend(project, lines[0], "48000.00", member)
    with pytest.raises(BudgetError, match="可调出金额为¥2,000.00"):
        services.request_adjustment(project, from_line=lines[0], to_line=lines[2], amount=D("2000.01"), reason="x",
                                    by=member)
    with pytest.raises(BudgetError, match="不能相互调剂"):
        services.request_adjustment(project, from_line=lines[2], to_line=lines[3], amount=D("1"), reason="x", by=member)
    with pytest.raises(BudgetError, match="不能相同"):
        services.request_adjustment(project, from_line=lines[2], to_line=lines[2], amount=D("1"), reason="x", by=member)
    with pytest.raises(BudgetError, match="超过本批次上限") if project.call_id else pytest.raises(BudgetError, match="请填写调剂理由"):
        services.request_adjustment(project, from_line=lines[2], to_line=lines[1], amount=D("1"), reason="", by=member)
    with pytest.raises(NotAllowed):
        services.request_adjustment(project, from_line=lines[2], to_line=lines[1], amount=D("1"), reason="x",
                                    by=make_user(Role.FINANCE))


def test_adjustment_keeps_the_call_caps(db):
    project, staff, member = grant_project()
    lines = services.approve_from_application(project, by=staff)
    with pytest.raises(BudgetError, match="超过本批次上限30%"):
        services.request_adjustment(project, from_line=lines[2], to_line=lines[1], amount=D("0.01"), reason="补贴",
                                    by=member)


def test_a_pending_adjustment_is_checked_again_when_applied(db):
    project, staff, member, lines = budgeted()
    adj = services.request_adjustment(project, from_line=lines[0], to_line=lines[2], amount=D("5000.00"),
                                      reason="x", by=member)
    spend(project, lines[0], "46000.00", member)
    with pytest.raises(BudgetError, match="可调出金额为¥4,000.00"):
        services.approve_adjustment(adj, by=staff)
    services.reject_adjustment(adj, by=staff, reason="额度不足")
    assert adj.status == AdjustmentStatus.REJECTED and lines[0].approved == D("50000.00")


def test_staff_move_and_revision(db):
    project, staff, member, lines = budgeted()
    adj = services.staff_move(project, from_line=lines[0], to_line=lines[1], amount=D("1000.00"), reason="经核实调整",
                              by=staff)
    assert adj.status == AdjustmentStatus.APPLIED and lines[1].approved == D("21000.00")
    with pytest.raises(BudgetError, match="科目间调剂"):
        services.revise_line(lines[0], by=staff, reason="x", approved=D("1"))
    with pytest.raises(BudgetError, match="请填写调整理由"):
        services.revise_line(lines[0], by=staff, reason="", item="新名称")
    services.revise_line(lines[0], by=staff, reason="名称更准确", item="社区老年助餐")
    assert lines[0].item == "社区老年助餐"
    spend(project, lines[3], "3000.00", member)
    with pytest.raises(BudgetError, match="不能低于"):
        services.revise_line(lines[3], by=staff, reason="自筹减少", approved=D("2999.99"))
    services.revise_line(lines[3], by=staff, reason="自筹减少", approved=D("3000.00"))
    new = services.add_line(project, by=staff, category=BudgetCategory.TRAINING, item="志愿者培训",
                            source=FundingSource.GRANT, reason="新增培训")
    assert new.approved == D("0.00")
    with pytest.raises(BudgetError, match="剩余可用金额为¥0.00"):
        spend(project, new, "1.00", member)


def test_desk_items(app, db):
    project, staff, member, lines = budgeted()
    ctx = app.test_request_context()
    ctx.push()
    spend(project, lines[0], "10.00", member)
    adj = services.request_adjustment(project, from_line=lines[0], to_line=lines[2], amount=D("20000.00"),
                                      reason="x", by=member)
    items = services.desk_items(staff)
    assert [i.area for i in items] == ["支出核实", "预算调整"]
    assert services.desk_items(make_user(Role.FINANCE)) == []
    assert services.desk_items(member) == []
    services.approve_adjustment(adj, by=staff)
    assert [i.area for i in services.desk_items(staff)] == ["支出核实"]
    assert [i.area for i in services.desk_items(make_user(Role.STAFF))] == ["支出核实", "预算调整"]
    assert items[0].url.startswith(f"/projects/{project.id}/budget")
    from incubator.projects.services import terminate_project

    terminate_project(project, by=staff, reason="承接主体申请退出")  # nothing left to act on
    assert services.desk_items(staff) == []
    ctx.pop()
