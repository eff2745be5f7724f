"""Property test (issue 5 acceptance): no payment without its condition.

Random sequences of condition records (signing, mid-term pass or fail, final acceptance), payment requests,
staff approvals and finance payments on a 50/30/20 project: a request succeeds exactly when its tranche's
condition is met and the tranche is open; every paid tranche's condition was met before it was requested;
a tranche stopped by a failed mid-term is never paid; nothing is paid twice; paid amounts sum exactly.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incubator.accounts.models import Role
from incubator.projects import services
from incubator.projects.models import PaymentStatus, ProjectStatus, TrancheCondition, TrancheStatus
from incubator.projects.services import ProjectError
from tests.factories import make_user
from tests.projects.helpers import make_member, scheduled

C = TrancheCondition
steps = st.lists(st.one_of(
    st.tuples(st.just("condition"), st.sampled_from(list(C))),
    st.tuples(st.just("midterm_failed")),
    st.tuples(st.just("request"), st.integers(0, 2)),
    st.tuples(st.just("staff"), st.integers(0, 2)),
    st.tuples(st.just("finance"), st.integers(0, 2)),
), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=steps)
def test_no_payment_without_its_condition(db, actions):
    project, staff = scheduled("100000.01")
    member = make_member(project.org)
    finance = make_user(Role.FINANCE)
    met_when_requested: dict[int, bool] = {}
    for action in actions:
        kind = action[0]
        if kind == "condition":
            try:
                services.mark_condition_met(project, action[1], by=staff, on=date(2026, 5, 1))
            except ProjectError:
                pass
        elif kind == "midterm_failed":
            try:
                services.record_midterm_failed(project, by=staff)
            except ProjectError:
                pass
        else:
            tranche = project.tranches[action[1]]
            if kind == "request":
                open_ = (tranche.status == TrancheStatus.REQUESTABLE and project.condition_met(tranche.condition)
                         and project.status not in (ProjectStatus.CLOSED, ProjectStatus.TERMINATED))
                try:
                    services.request_payment(tranche, by=member)
                except ProjectError:
                    assert not open_, f"refused an open tranche {tranche.sequence}"
                else:
                    assert open_, f"requested tranche {tranche.sequence} whose condition is not met"
                    met_when_requested[tranche.id] = project.condition_met(tranche.condition)
            elif kind == "staff" and tranche.payment is not None:
                try:
                    services.approve_by_staff(tranche.payment, by=staff)
                except ProjectError:
                    assert tranche.payment.status != PaymentStatus.REQUESTED
            elif kind == "finance" and tranche.payment is not None:
                try:
                    services.approve_by_finance(tranche.payment, by=finance, paid_on=date(2026, 5, 2),
                                                voucher_no=f"V{tranche.sequence}")
                except ProjectError:
                    assert tranche.payment.status != PaymentStatus.STAFF_APPROVED
        for t in project.tranches:
            if t.status == TrancheStatus.PAID:
                assert met_when_requested.get(t.id) is True
                assert project.condition_met(t.condition)
                assert t.payment.status == PaymentStatus.PAID and t.payment.amount == t.amount
            if t.status == TrancheStatus.STOPPED:
                assert t.payment is None
    paid = [t for t in project.tranches if t.status == TrancheStatus.PAID]
    assert project.paid_total == sum((t.amount for t in paid), Decimal("0.00"))
    assert project.paid_total <= project.amount
    assert project.midterm_failed_on is None or project.midterm_passed_on is None  # one mid-term verdict
