"""Tranche schedule, conditions and the payment flow: staff → finance → paid; no payment without its condition."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.core.states import InvalidTransition, history, transition
from incubator.db import today_local
from incubator.projects import services
from incubator.projects.models import (
    PaymentRequest,
    PaymentStatus,
    ProjectStatus,
    Tranche,
    TrancheCondition,
    TrancheStatus,
)
from tests.factories import make_district, make_user
from tests.projects.helpers import CONDITIONS_532, launch, make_member, scheduled, staff_for

C = TrancheCondition
S = TrancheStatus
TODAY = today_local()


def pay(tranche, staff, finance, voucher="PZ-0001"):
    req = services.request_payment(tranche, by=staff)
    services.approve_by_staff(req, by=staff)
    return services.approve_by_finance(req, by=finance, paid_on=TODAY, voucher_no=voucher)


def test_schedule_amounts_sum_to_the_project_amount(db):
    project, _ = scheduled("100000.01", shares=[Decimal("33.33"), Decimal("33.33"), Decimal("33.34")])
    assert [t.amount for t in project.tranches] == [Decimal("33330.00"), Decimal("33330.00"), Decimal("33340.01")]
    assert sum(t.amount for t in project.tranches) == project.amount
    assert [t.sequence for t in project.tranches] == [1, 2, 3]
    assert all(t.status == S.PENDING for t in project.tranches)
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "project.tranche_schedule")) is not None


def test_schedule_refusals(db):
    project = launch()
    staff = staff_for(project.org)
    with pytest.raises(services.ProjectError, match="之和必须等于100%"):
        services.set_tranche_schedule(project, [Decimal(50), Decimal(40)], [C.ON_SIGNING, C.ON_MIDTERM_PASS], by=staff)
    with pytest.raises(services.ProjectError, match="每一期都须设置拨付条件"):
        services.set_tranche_schedule(project, [Decimal(100)], [C.ON_SIGNING, C.ON_MIDTERM_PASS], by=staff)
    with pytest.raises(services.NotAllowed):
        services.set_tranche_schedule(project, [Decimal(100)], [C.ON_SIGNING], by=make_user(Role.FINANCE))
    assert project.tranches == []


def test_a_schedule_can_be_replaced_until_a_tranche_is_requested(db):
    project, staff = scheduled()
    services.set_tranche_schedule(project, [Decimal(60), Decimal(40)], [C.ON_SIGNING, C.ON_FINAL_ACCEPTANCE], by=staff)
    db.session.expire_all()
    assert [(t.sequence, t.amount) for t in project.tranches] == [(1, Decimal("60000.00")), (2, Decimal("40000.00"))]
    services.mark_condition_met(project, C.ON_SIGNING, by=staff)
    services.request_payment(project.tranches[0], by=staff)
    with pytest.raises(services.ProjectError, match="不能再调整拨付计划"):
        services.set_tranche_schedule(project, [Decimal(100)], [C.ON_SIGNING], by=staff)


def test_the_whole_flow_pays_each_tranche_once_its_condition_is_met(db):
    project, staff = scheduled()
    finance = make_user(Role.FINANCE)
    first, second, third = project.tranches
    opened = services.mark_condition_met(project, C.ON_SIGNING, by=staff, on=TODAY - timedelta(days=3))
    assert opened == [first] and first.status == S.REQUESTABLE and second.status == S.PENDING
    assert project.status == ProjectStatus.CONTRACTED and project.signed_on == TODAY - timedelta(days=3)

    req = services.request_payment(first, by=make_member(project.org))
    assert (req.status, first.status, req.amount) == (PaymentStatus.REQUESTED, S.REQUESTED, Decimal("50000.00"))
    services.approve_by_staff(req, by=staff)
    assert (req.status, first.status) == (PaymentStatus.STAFF_APPROVED, S.APPROVED_BY_STAFF)
    services.approve_by_finance(req, by=finance, paid_on=TODAY, voucher_no=" 记-2026-0088 ")
    assert (req.status, first.status) == (PaymentStatus.PAID, S.PAID)
    assert (first.paid_on, first.voucher_no, req.voucher_no) == (TODAY, "记-2026-0088", "记-2026-0088")
    assert req.finance_approved_by_id == finance.id and req.staff_approved_by_id == staff.id
    assert project.status == ProjectStatus.IN_PROGRESS
    assert project.paid_total == Decimal("50000.00")

    with pytest.raises(services.ProjectError, match="中期评估合格后.*尚未满足"):
        services.request_payment(second, by=staff)
    services.mark_condition_met(project, C.ON_MIDTERM_PASS, by=staff)
    pay(second, staff, finance, "PZ-2")
    services.mark_condition_met(project, C.ON_FINAL_ACCEPTANCE, by=staff)
    pay(third, staff, finance, "PZ-3")
    assert project.paid_total == project.amount
    services.close_project(project, by=staff)
    assert project.status == ProjectStatus.CLOSED

    paid = db.session.scalars(select(AuditLog).where(AuditLog.action == "payment.paid").order_by(AuditLog.id)).all()
    assert [r.after["amount"] for r in paid] == ["50000.00", "30000.00", "20000.00"]
    assert [h.to_status for h in history(first)] == ["requestable", "requested", "approved_by_staff", "paid"]


def test_no_payment_without_its_condition(db):
    project, staff = scheduled()
    for t in project.tranches:
        with pytest.raises(services.ProjectError, match="尚未满足，不能申请拨付"):
            services.request_payment(t, by=staff)
    assert db.session.scalars(select(PaymentRequest)).all() == []
    # A tranche forced into 'requestable' without the condition is still refused.
    project.tranches[1].status = S.REQUESTABLE
    with pytest.raises(services.ProjectError, match="中期评估合格后"):
        services.request_payment(project.tranches[1], by=staff)


def test_a_tranche_is_requested_once(db):
    project, staff = scheduled()
    services.mark_condition_met(project, C.ON_SIGNING, by=staff)
    services.request_payment(project.tranches[0], by=staff)
    with pytest.raises(services.ProjectError, match="不能重复申请"):
        services.request_payment(project.tranches[0], by=staff)


def test_a_failed_midterm_stops_the_next_tranche(db):
    project, staff = scheduled()
    finance = make_user(Role.FINANCE)
    services.mark_condition_met(project, C.ON_SIGNING, by=staff)
    pay(project.tranches[0], staff, finance)
    stopped = services.record_midterm_failed(project, by=staff)
    assert stopped is project.tranches[1]
    assert stopped.status == S.STOPPED and "中期评估不合格" in stopped.stop_reason
    assert project.midterm_failed_on == TODAY
    with pytest.raises(services.ProjectError, match="第2期拨付已停止：中期评估不合格"):
        services.request_payment(stopped, by=staff)
    with pytest.raises(services.ProjectError, match="不能再登记为中期评估合格"):
        services.mark_condition_met(project, C.ON_MIDTERM_PASS, by=staff)
    assert project.tranches[2].status == S.PENDING
    assert project.paid_total == Decimal("50000.00")


def test_stop_next_tranche_needs_a_reason_and_refuses_a_tranche_in_payment(db):
    project, staff = scheduled()
    services.mark_condition_met(project, C.ON_SIGNING, by=staff)
    with pytest.raises(services.ProjectError, match="请填写停止拨付的理由"):
        services.stop_next_tranche(project, by=staff, reason=" ")
    services.request_payment(project.tranches[0], by=staff)
    with pytest.raises(services.ProjectError, match="第1期拨付正在办理中"):
        services.stop_next_tranche(project, by=staff, reason="违约")


def test_termination_stops_every_tranche_not_in_payment(db):
    project, staff = scheduled()
    services.terminate_project(project, by=staff, reason="组织申请退出")
    assert project.status == ProjectStatus.TERMINATED
    assert [t.status for t in project.tranches] == [S.STOPPED] * 3
    with pytest.raises(services.ProjectError):
        services.mark_condition_met(project, C.ON_SIGNING, by=staff)


def test_a_condition_is_recorded_once(db):
    project, staff = scheduled()
    services.mark_condition_met(project, C.ON_SIGNING, by=staff)
    with pytest.raises(services.ProjectError, match="无需重复登记"):
        services.mark_condition_met(project, C.ON_SIGNING, by=staff)


def test_a_schedule_set_after_signing_opens_the_signing_tranche(db):
    project = launch()
    staff = staff_for(project.org)
    services.mark_condition_met(project, C.ON_SIGNING, by=staff)
    services.set_tranche_schedule(project, [Decimal(70), Decimal(30)], [C.ON_SIGNING, C.ON_FINAL_ACCEPTANCE], by=staff)
    assert [t.status for t in project.tranches] == [S.REQUESTABLE, S.PENDING]


ALL = list(TrancheStatus)
ALLOWED = {
    (S.PENDING, S.REQUESTABLE), (S.PENDING, S.STOPPED),
    (S.REQUESTABLE, S.REQUESTED), (S.REQUESTABLE, S.STOPPED),
    (S.REQUESTED, S.APPROVED_BY_STAFF), (S.APPROVED_BY_STAFF, S.PAID),
}


@pytest.mark.parametrize("frm", ALL)
@pytest.mark.parametrize("to", ALL)
def test_tranche_transition_table(db, frm, to):
    project, staff = scheduled()
    t = project.tranches[0]
    t.status = frm
    if (frm, to) in ALLOWED:
        transition(t, to, by=staff)
        assert t.status == to
    else:
        with pytest.raises(InvalidTransition, match="不允许的状态变更"):
            transition(t, to, by=staff)
        assert t.status == frm


PS = PaymentStatus
PAYMENT_ALLOWED = {(PS.REQUESTED, PS.STAFF_APPROVED), (PS.STAFF_APPROVED, PS.PAID)}


@pytest.mark.parametrize("frm", list(PaymentStatus))
@pytest.mark.parametrize("to", list(PaymentStatus))
def test_payment_transition_table(frm, to):
    assert (to in PaymentRequest.TRANSITIONS[frm]) == ((frm, to) in PAYMENT_ALLOWED)


P = ProjectStatus
PROJECT_ALLOWED = {(P.LAUNCHED, P.CONTRACTED), (P.CONTRACTED, P.IN_PROGRESS), (P.IN_PROGRESS, P.CLOSED),
                   (P.LAUNCHED, P.TERMINATED), (P.CONTRACTED, P.TERMINATED), (P.IN_PROGRESS, P.TERMINATED)}


@pytest.mark.parametrize("frm", list(ProjectStatus))
@pytest.mark.parametrize("to", list(ProjectStatus))
def test_project_transition_table(frm, to):
    from incubator.projects.models import Project

    assert (to in Project.TRANSITIONS[frm]) == ((frm, to) in PROJECT_ALLOWED)


def test_the_payment_steps_are_in_order(db):
    project, staff = scheduled()
    finance = make_user(Role.FINANCE)
    services.mark_condition_met(project, C.ON_SIGNING, by=staff)
    req = services.request_payment(project.tranches[0], by=staff)
    with pytest.raises(services.ProjectError, match="尚未通过业务审核"):
        services.approve_by_finance(req, by=finance, paid_on=TODAY, voucher_no="PZ-1")
    services.approve_by_staff(req, by=staff)
    with pytest.raises(services.ProjectError, match="不在待业务审核状态"):
        services.approve_by_staff(req, by=staff)
    with pytest.raises(services.ProjectError, match="请填写付款凭证号"):
        services.approve_by_finance(req, by=finance, paid_on=TODAY, voucher_no=" ")
    with pytest.raises(services.ProjectError, match="不能晚于今天"):
        services.approve_by_finance(req, by=finance, paid_on=TODAY + timedelta(days=1), voucher_no="PZ-1")
    services.approve_by_finance(req, by=finance, paid_on=TODAY, voucher_no="PZ-1")
    with pytest.raises(services.ProjectError, match="已拨付，不能重复拨付"):
        services.approve_by_finance(req, by=finance, paid_on=TODAY, voucher_no="PZ-2")
    assert req.voucher_no == "PZ-1"
    assert len(db.session.scalars(select(AuditLog).where(AuditLog.action == "payment.paid")).all()) == 1


def test_finance_pays_and_staff_approve_never_the_other_way(db):
    project, staff = scheduled()
    finance = make_user(Role.FINANCE)
    services.mark_condition_met(project, C.ON_SIGNING, by=staff)
    req = services.request_payment(project.tranches[0], by=staff)
    for user in (finance, make_user(Role.ADMIN), make_member(project.org), make_user(Role.EXPERT)):
        with pytest.raises(services.NotAllowed, match="民政工作人员"):
            services.approve_by_staff(req, by=user)
    services.approve_by_staff(req, by=staff)
    for user in (staff, make_user(Role.STAFF), make_user(Role.ADMIN), make_member(project.org),
                 make_user(Role.EVALUATOR)):
        with pytest.raises(services.NotAllowed, match="只有财务人员"):
            services.approve_by_finance(req, by=user, paid_on=TODAY, voucher_no="PZ-1")
    assert req.status == PaymentStatus.STAFF_APPROVED
    # Finance cannot change the schedule, record conditions or launch.
    with pytest.raises(services.NotAllowed):
        services.set_tranche_schedule(project, [Decimal(100)], [C.ON_SIGNING], by=finance)
    with pytest.raises(services.NotAllowed):
        services.mark_condition_met(project, C.ON_MIDTERM_PASS, by=finance)


def test_district_scoping(db):
    project, staff = scheduled()
    other = make_user(Role.STAFF, district=make_district())
    city = make_user(Role.STAFF)
    stranger = make_member()
    assert project.can_manage(staff) and project.can_manage(city) and not project.can_manage(other)
    assert project.can_view(staff) and not project.can_view(other) and not project.can_view(stranger)
    assert project.can_view(make_member(project.org)) and not project.can_manage(make_member(project.org))
    assert project.can_view(make_user(Role.FINANCE)) and project.can_pay(make_user(Role.FINANCE))
    assert not project.can_pay(staff)
    with pytest.raises(services.NotAllowed):
        services.mark_condition_met(project, C.ON_SIGNING, by=other)
    services.mark_condition_met(project, C.ON_SIGNING, by=staff)
    for user in (other, stranger):
        with pytest.raises(services.NotAllowed):
            services.request_payment(project.tranches[0], by=user)
    req = services.request_payment(project.tranches[0], by=staff)
    with pytest.raises(services.NotAllowed):
        services.approve_by_staff(req, by=other)
    services.approve_by_staff(req, by=city)
    assert req.staff_approved_by_id == city.id


def test_money_is_exact_integer_fen_in_the_database(db):
    project, staff = scheduled("99999.99", shares=[Decimal("33.33"), Decimal("33.33"), Decimal("33.34")],
                               conditions=CONDITIONS_532)
    services.mark_condition_met(project, C.ON_SIGNING, by=staff)
    req = services.request_payment(project.tranches[0], by=staff)
    db.session.flush()
    raw = db.session.execute(text("SELECT sequence, amount FROM tranche WHERE project_id = :p ORDER BY sequence"),
                             {"p": project.id}).all()
    assert [tuple(r) for r in raw] == [(1, 3332999), (2, 3332999), (3, 3334001)]
    assert sum(r[1] for r in raw) == 9999999
    assert db.session.execute(text("SELECT amount FROM payment_request WHERE id = :i"),
                              {"i": req.id}).scalar_one() == 3332999
    assert db.session.execute(text("SELECT amount FROM project WHERE id = :i"), {"i": project.id}).scalar_one() == 9999999


def test_tranche_rows_are_protected_by_constraints(db):
    from sqlalchemy.exc import IntegrityError

    project, _ = scheduled()
    db.session.add(Tranche(project_id=project.id, sequence=1, share=Decimal(10), amount=Decimal(1),
                           condition=C.ON_SIGNING))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_money_rows_cannot_be_deleted_under_a_project(db):
    from sqlalchemy.exc import IntegrityError

    project, _ = scheduled()
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text("DELETE FROM project WHERE id = :i"), {"i": project.id})
        db.session.flush()
    db.session.rollback()



def test_a_failed_midterm_stops_the_midterm_tranche_even_while_the_first_is_in_payment(db):
    """The tranche waiting for the mid-term can never be met; the signing tranche's payment goes on."""
    project, staff = scheduled()
    finance = make_user(Role.FINANCE)
    services.mark_condition_met(project, C.ON_SIGNING, by=staff)
    request = services.request_payment(project.tranches[0], by=staff)
    stopped = services.record_midterm_failed(project, by=staff)
    assert stopped is project.tranches[1] and stopped.status == S.STOPPED
    assert project.tranches[0].status == S.REQUESTED and project.tranches[2].status == S.PENDING
    services.approve_by_staff(request, by=staff)
    services.approve_by_finance(request, by=finance, paid_on=TODAY, voucher_no="V1")
    assert project.tranches[0].status == S.PAID
    with pytest.raises(services.ProjectError, match="已登记中期评估不合格"):
        services.record_midterm_failed(project, by=staff)


def test_a_failed_midterm_without_a_midterm_tranche_stops_the_next_unpaid_one(db):
    project, staff = scheduled(shares=[Decimal(60), Decimal(40)],
                               conditions=[C.ON_SIGNING, C.ON_FINAL_ACCEPTANCE])
    stopped = services.record_midterm_failed(project, by=staff)
    assert stopped is project.tranches[0] and stopped.status == S.STOPPED
