"""结项与退出 services: close, terminate (each reason, default debarment), settlement arithmetic, refunds."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.db import today_local
from incubator.orgs.eligibility import check_eligibility
from incubator.orgs.models import CreditKind, CreditRecord
from incubator.orgs.rules import add_months
from incubator.projects import services as project_services
from incubator.projects.exits import services
from incubator.projects.exits.models import ExitReason, SettlementKind, SettlementStatus, Termination
from incubator.projects.models import ProjectStatus, TrancheCondition, TrancheStatus
from tests.factories import make_district, make_user
from tests.projects.exits.helpers import fully_paid, in_progress, pay, stored_receipt, verified_expense
from tests.projects.helpers import scheduled

TODAY = today_local()


def actions():
    from incubator.extensions import db

    return [a.action for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]


# ---------------------------------------------------------------- 结项

def test_close_when_final_accepted_and_every_tranche_paid(db):
    project, staff, _ = fully_paid("100000.00")
    verified_expense(project, "100000.00")
    settlement = services.close(project, by=staff, note="结项验收通过")
    assert project.status == ProjectStatus.CLOSED
    assert settlement.kind == SettlementKind.CLOSE
    assert (settlement.paid_total, settlement.verified_total, settlement.refund_due) == (
        Decimal("100000.00"), Decimal("100000.00"), Decimal("0.00"))
    assert settlement.status == SettlementStatus.SETTLED
    assert {"exit.settled", "exit.closed", "project.closed"} <= set(actions())
    assert services.termination_of(project) is None


def test_close_with_unverified_spending_leaves_a_refund_due(db):
    project, staff, _ = fully_paid("100000.00")
    verified_expense(project, "87654.32")
    settlement = services.close(project, by=staff)
    assert settlement.refund_due == Decimal("12345.68")
    assert settlement.status == SettlementStatus.REFUND_DUE


def test_close_with_a_stopped_tranche_is_allowed(db):
    project, staff, finance = in_progress()
    project_services.stop_next_tranche(project, by=staff, reason="服务数量未达标，扣减第二期")
    services_mark = project_services.mark_condition_met
    services_mark(project, TrancheCondition.ON_FINAL_ACCEPTANCE, by=staff)
    pay(project.tranches[2], staff, finance)
    settlement = services.close(project, by=staff)
    assert settlement.paid_total == Decimal("70000.00")
    assert settlement.refund_due == Decimal("70000.00")  # nothing verified


def test_close_refused_names_every_reason(db):
    project, staff, _ = in_progress()
    with pytest.raises(services.CloseRefused) as exc:
        services.close(project, by=staff)
    reasons = exc.value.reasons
    assert "结项评估尚未通过（未登记结项验收）" in reasons
    assert any(r.startswith("第2期") and "尚未拨付" in r for r in reasons)
    assert any(r.startswith("第3期") for r in reasons)
    assert project.status == ProjectStatus.IN_PROGRESS
    assert services.settlement_of(project) is None


def test_close_refused_when_only_the_last_tranche_is_unpaid(db):
    project, staff, finance = in_progress()
    project_services.mark_condition_met(project, TrancheCondition.ON_MIDTERM_PASS, by=staff)
    pay(project.tranches[1], staff, finance)
    project_services.mark_condition_met(project, TrancheCondition.ON_FINAL_ACCEPTANCE, by=staff)
    with pytest.raises(services.CloseRefused, match="第3期"):
        services.close(project, by=staff)


def test_close_refused_before_work_starts_and_twice(db):
    project, staff = scheduled()
    with pytest.raises(services.CloseRefused, match="尚未进入执行阶段"):
        services.close(project, by=staff)
    project, staff, _ = fully_paid()
    services.close(project, by=staff)
    with pytest.raises(services.ExitConflict, match="已结项"):
        services.close(project, by=staff)
    with pytest.raises(services.ExitConflict, match="已结项"):
        services.terminate(project, reason_kind="breach", detail="x", by=staff)


def test_only_district_staff_close_or_terminate(db):
    project, staff, finance = fully_paid()
    other = make_user(Role.STAFF, district=make_district())
    for user in (finance, other, make_user(Role.ADMIN)):
        with pytest.raises(services.NotAllowed):
            services.close(project, by=user)
        with pytest.raises(services.NotAllowed):
            services.terminate(project, reason_kind="breach", detail="违约", by=user)
    city = make_user(Role.STAFF)
    services.close(project, by=city)


# ---------------------------------------------------------------- 终止

@pytest.mark.parametrize("reason,debarred", [
    (ExitReason.BREACH, True),
    (ExitReason.FAILED_EVALUATION, True),
    (ExitReason.ORG_REQUEST, False),
    (ExitReason.FORCE_MAJEURE, False),
])
def test_terminate_each_reason_with_its_default_debarment(db, reason, debarred):
    project, staff, _ = in_progress("100000.00")
    verified_expense(project, "30000.00")
    t = services.terminate(project, reason_kind=reason.value, detail="经核实，情况属实。", by=staff)
    assert project.status == ProjectStatus.TERMINATED
    assert [tr.status for tr in project.tranches] == [TrancheStatus.PAID, TrancheStatus.STOPPED, TrancheStatus.STOPPED]
    s = services.settlement_of(project)
    assert s.kind == SettlementKind.EXIT
    assert (s.paid_total, s.verified_total, s.refund_due) == (Decimal("50000.00"), Decimal("30000.00"),
                                                              Decimal("20000.00"))
    assert s.status == SettlementStatus.REFUND_DUE
    assert t.reason_kind == reason and t.debar is debarred and t.decided_by_id == staff.id
    records = [c for c in project.org.credit_records if c.kind == CreditKind.DEBARMENT]
    if debarred:
        assert t.debar_years == 3
        assert t.debar_until == add_months(TODAY, 36)
        assert len(records) == 1 and records[0].id == t.credit_record_id
        assert records[0].start_on == TODAY and records[0].end_on == t.debar_until
        assert project.number in records[0].reason and reason.label in records[0].reason
        assert not check_eligibility(project.org).ok
    else:
        assert t.debar_years is None and t.debar_until is None and t.credit_record_id is None
        assert records == []
    assert {"exit.terminated", "exit.settled", "project.terminated"} <= set(actions())


def test_debarment_can_be_overridden_with_a_reason_only(db):
    project, staff, _ = in_progress()
    with pytest.raises(services.ExitError, match="不予禁入须填写理由"):
        services.terminate(project, reason_kind="breach", detail="违约", debar=False, by=staff)
    with pytest.raises(services.ExitError, match="予以禁入须填写理由"):
        services.terminate(project, reason_kind="org_request", detail="申请退出", debar=True, by=staff)
    assert project.status == ProjectStatus.IN_PROGRESS
    t = services.terminate(project, reason_kind="breach", detail="轻微违约，已整改", debar=False,
                           override_reason="已主动整改并退回资金", by=staff)
    assert t.debar is False and t.debar_override == "已主动整改并退回资金"
    assert check_eligibility(project.org).ok


def test_org_request_debarred_on_purpose_for_five_years(db):
    project, staff, _ = in_progress()
    t = services.terminate(project, reason_kind="org_request", detail="中途退出，未按约交接服务对象", debar=True,
                           debar_years=5, override_reason="擅自中止服务，造成不良影响", by=staff)
    assert t.debar and t.debar_years == 5 and t.debar_until == add_months(TODAY, 60)


@pytest.mark.parametrize("years", [0, 11, 100, -1])
def test_debar_years_out_of_range_are_refused(db, years):
    project, staff, _ = in_progress()
    with pytest.raises(services.ExitError, match="禁入年限应为1至10年"):
        services.terminate(project, reason_kind="breach", detail="违约", debar_years=years, by=staff)
    assert project.status == ProjectStatus.IN_PROGRESS
    assert db.session.scalar(select(Termination)) is None


@pytest.mark.parametrize("years", [2.5, "3", True])
def test_debar_years_must_be_an_integer(db, years):
    project, staff, _ = in_progress()
    with pytest.raises(services.ExitError, match="禁入年限必须是整数"):
        services.terminate(project, reason_kind="breach", detail="违约", debar_years=years, by=staff)


def test_terminate_bad_inputs(db):
    project, staff, _ = in_progress()
    with pytest.raises(services.ExitError, match="请选择终止原因"):
        services.terminate(project, reason_kind="whim", detail="x", by=staff)
    with pytest.raises(services.ExitError, match="请填写终止的事实"):
        services.terminate(project, reason_kind="breach", detail="   ", by=staff)
    with pytest.raises(services.ExitError, match="不能超过2000字"):
        services.terminate(project, reason_kind="breach", detail="违" * 2001, by=staff)
    assert project.status == ProjectStatus.IN_PROGRESS


def test_terminate_before_any_payment_settles_at_zero(db):
    project, staff = scheduled()
    t = services.terminate(project, reason_kind="force_majeure", detail="疫情防控，服务无法开展", by=staff)
    s = services.settlement_of(project)
    assert (s.paid_total, s.refund_due, s.status) == (Decimal("0.00"), Decimal("0.00"), SettlementStatus.SETTLED)
    assert all(tr.status == TrancheStatus.STOPPED for tr in project.tranches)
    assert t.debar is False


def test_terminate_refused_while_a_payment_is_in_progress(db):
    project, staff, finance = in_progress()
    project_services.mark_condition_met(project, TrancheCondition.ON_MIDTERM_PASS, by=staff)
    project_services.request_payment(project.tranches[1], by=staff)
    with pytest.raises(services.ExitConflict, match="第2期拨付正在办理中"):
        services.terminate(project, reason_kind="breach", detail="违约", by=staff)
    assert project.status == ProjectStatus.IN_PROGRESS


def test_terminate_twice_is_refused(db):
    project, staff, _ = in_progress()
    services.terminate(project, reason_kind="breach", detail="违约", by=staff)
    with pytest.raises(services.ExitConflict, match="已终止"):
        services.terminate(project, reason_kind="breach", detail="违约", by=staff)
    assert db.session.scalar(select(CreditRecord.id).where(CreditRecord.kind == CreditKind.DEBARMENT)) is not None
    assert len(list(db.session.scalars(select(CreditRecord)))) == 1


def test_verified_above_paid_refunds_nothing(db):
    project, staff, _ = in_progress("100000.00")
    verified_expense(project, "60000.00")  # e.g. spending not yet reimbursed by a later tranche
    services.terminate(project, reason_kind="org_request", detail="承接主体申请退出", by=staff)
    s = services.settlement_of(project)
    assert s.refund_due == Decimal("0.00") and s.status == SettlementStatus.SETTLED


# ---------------------------------------------------------------- settlement arithmetic

CENTS = st.integers(min_value=0, max_value=999_999_999_99)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paid=CENTS, verified=CENTS)
def test_refund_due_is_paid_minus_verified_never_negative(paid, verified):
    p, v = Decimal(paid) / 100, Decimal(verified) / 100
    due = services.refund_due_of(p, v)
    assert due == max(p - v, Decimal(0))
    assert due >= 0
    assert due == due.quantize(Decimal("0.01"))
    assert isinstance(due, Decimal)
    assert int(due * 100) == max(paid - verified, 0)  # exact to the 分


@pytest.mark.parametrize("bad", [1.5, Decimal("NaN"), Decimal("Infinity"), Decimal("-0.01"), "10"])
def test_refund_due_refuses_inexact_or_negative_inputs(bad):
    with pytest.raises(services.ExitError):
        services.refund_due_of(bad, Decimal("0.00"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(verified_cents=st.integers(min_value=1, max_value=10_000_000))
def test_settlement_in_the_database_is_exact_to_the_fen(db, verified_cents):
    from incubator.extensions import db as _db

    project, staff, _ = in_progress("100000.01")  # first tranche 50000.00 (the last absorbs rounding)
    verified_expense(project, Decimal(verified_cents) / 100)
    services.terminate(project, reason_kind="force_majeure", detail="不可抗力", by=staff)
    _db.session.expire_all()
    s = services.settlement_of(project)
    assert s.refund_due == max(s.paid_total - s.verified_total, Decimal("0.00"))
    assert s.refund_due == max(Decimal("50000.00") - Decimal(verified_cents) / 100, Decimal(0))
    _db.session.rollback()


# ---------------------------------------------------------------- refunds

def _terminated_with_refund(amount_verified="30000.00"):
    project, staff, finance = in_progress("100000.00")
    verified_expense(project, amount_verified)
    services.terminate(project, reason_kind="failed_evaluation", detail="中期评估不合格", by=staff)
    return services.settlement_of(project), staff, finance


def test_partial_then_full_refund(db):
    s, staff, finance = _terminated_with_refund()  # 20000.00 due
    services.record_refund(s, amount=Decimal("12000.00"), received_on=TODAY, voucher_no="TK-001",
                           file=stored_receipt(finance), by=finance)
    assert s.status == SettlementStatus.REFUND_DUE
    assert s.received_total == Decimal("12000.00") and s.outstanding == Decimal("8000.00")
    services.record_refund(s, amount=Decimal("8000.00"), received_on=TODAY, voucher_no="TK-002",
                           file=stored_receipt(finance), by=finance)
    assert s.status == SettlementStatus.REFUNDED and s.outstanding == Decimal("0.00")
    assert [r.voucher_no for r in s.receipts] == ["TK-001", "TK-002"]
    assert actions().count("exit.refund_received") == 2
    assert "settlement.refunded" in actions()
    with pytest.raises(services.ExitConflict, match="已全部退回"):
        services.record_refund(s, amount=Decimal("0.01"), received_on=TODAY, voucher_no="TK-003",
                               file=stored_receipt(finance), by=finance)


def test_full_refund_at_once(db):
    s, staff, finance = _terminated_with_refund("0.01")  # 49999.99 due
    assert s.refund_due == Decimal("49999.99")
    services.record_refund(s, amount=Decimal("49999.99"), received_on=TODAY, voucher_no="TK-9",
                           file=stored_receipt(finance), by=finance)
    assert s.status == SettlementStatus.REFUNDED


def test_overpayment_is_refused(db):
    s, staff, finance = _terminated_with_refund()
    with pytest.raises(services.ExitError, match="超过尚未退回的金额（20,000.00元）"):
        services.record_refund(s, amount=Decimal("20000.01"), received_on=TODAY, voucher_no="TK-1",
                               file=stored_receipt(finance), by=finance)
    services.record_refund(s, amount=Decimal("15000.00"), received_on=TODAY, voucher_no="TK-1",
                           file=stored_receipt(finance), by=finance)
    with pytest.raises(services.ExitError, match="超过尚未退回的金额（5,000.00元）"):
        services.record_refund(s, amount=Decimal("5000.01"), received_on=TODAY, voucher_no="TK-2",
                               file=stored_receipt(finance), by=finance)
    assert s.received_total == Decimal("15000.00")


@pytest.mark.parametrize("amount,message", [
    (Decimal("-0.01"), "必须大于0"), (Decimal("0"), "必须大于0"), (Decimal("0.001"), "两位小数"),
    (1.5, "精确的数值"), ("100", "精确的数值"), (Decimal("NaN"), "格式不正确"), (True, "精确的数值"),
])
def test_refund_amount_bad_inputs(db, amount, message):
    s, staff, finance = _terminated_with_refund()
    with pytest.raises(services.ExitError, match=message):
        services.record_refund(s, amount=amount, received_on=TODAY, voucher_no="TK-1",
                               file=stored_receipt(finance), by=finance)
    assert s.received_total == Decimal("0.00")


def test_refund_other_refusals(db):
    s, staff, finance = _terminated_with_refund()
    f = stored_receipt(finance)
    kw = dict(amount=Decimal("100.00"), received_on=TODAY, voucher_no="TK-1", file=f)
    for user in (staff, make_user(Role.ADMIN)):
        with pytest.raises(services.NotAllowed, match="只有财务人员"):
            services.record_refund(s, by=user, **kw)
    with pytest.raises(services.ExitError, match="不能晚于今天"):
        services.record_refund(s, by=finance, **(kw | {"received_on": TODAY + timedelta(days=1)}))
    with pytest.raises(services.ExitError, match="请填写退款凭证号"):
        services.record_refund(s, by=finance, **(kw | {"voucher_no": "  "}))
    with pytest.raises(services.ExitError, match="请上传退款凭证"):
        services.record_refund(s, by=finance, **(kw | {"file": None}))
    services.record_refund(s, by=finance, **kw)
    with pytest.raises(services.ExitError, match="已登记过"):
        services.record_refund(s, by=finance, **kw)


def test_no_refund_when_settled(db):
    project, staff, finance = fully_paid()
    verified_expense(project, "100000.00")
    s = services.close(project, by=staff)
    with pytest.raises(services.ExitConflict, match="无需登记退款"):
        services.record_refund(s, amount=Decimal("1.00"), received_on=TODAY, voucher_no="TK-1",
                               file=stored_receipt(finance), by=finance)


# ---------------------------------------------------------------- desk

def test_desk_items_refunds_and_ready_to_close(app, db):
    ready, staff, finance = fully_paid()
    verified_expense(ready, "100000.00")
    s, staff2, _ = _terminated_with_refund()  # another organisation in another district
    assert s.project.org.district_id != staff.district_id
    with app.test_request_context():
        items = services.desk_items(staff)
        assert [(i.area, i.url) for i in items] == [("项目结项", f"/projects/{ready.id}/exit")]
        assert [i.area for i in services.desk_items(staff2)] == ["应退资金催收"]
        city = services.desk_items(make_user(Role.STAFF))  # city staff see both
        assert any(s.project.number in i.title and "待退回 ¥20,000.00" in i.title for i in city)
        assert any(ready.number in i.title and i.area == "项目结项" for i in city)
        assert [i.area for i in services.desk_items(finance)] == ["退款到账登记"]
        assert services.desk_items(make_user(Role.STAFF, district=make_district())) == []
        assert services.desk_items(make_user(Role.EVALUATOR)) == []
        assert services.desk_items(make_user(Role.APPLICANT, org=s.project.org)) == []
    services.record_refund(s, amount=Decimal("20000.00"), received_on=TODAY, voucher_no="TK-1",
                           file=stored_receipt(finance), by=finance)
    services.close(ready, by=staff)
    with app.test_request_context():
        assert services.desk_items(make_user(Role.STAFF)) == []
        assert services.desk_items(finance) == []


def test_outstanding_totals_are_exact_and_scoped(db):
    s1, staff1, finance = _terminated_with_refund("0.01")
    s2, staff2, _ = _terminated_with_refund("29999.99")
    assert services.outstanding_totals(finance) == (2, Decimal("49999.99") + Decimal("20000.01"))
    count, total = services.outstanding_totals(staff1)
    assert count == 1 and total == Decimal("49999.99")


# ---------------------------------------------------------------- demo

def test_seed_failed_terminates_with_refund_and_debarment(db):
    from incubator.projects.exits.demo import seed_failed

    project, staff, finance = in_progress("80000.00")
    verified_expense(project, "12500.50")
    t = seed_failed(project, staff=staff, finance=finance, partial_refund=Decimal("10000.00"))
    assert project.status == ProjectStatus.TERMINATED and project.midterm_failed_on == TODAY
    assert t.reason_kind == ExitReason.FAILED_EVALUATION and t.debar and t.credit_record_id
    s = services.settlement_of(project)
    assert s.refund_due == Decimal("27499.50") and s.outstanding == Decimal("17499.50")
    assert s.status == SettlementStatus.REFUND_DUE
    assert not check_eligibility(project.org).ok
    assert seed_failed(project, staff=staff, finance=finance) is t  # twice: unchanged
