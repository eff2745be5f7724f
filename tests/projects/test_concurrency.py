"""On PostgreSQL: ten finance officers approve the same payment request at once; it is paid once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.db import today_local
from incubator.extensions import db as _db
from incubator.projects import services
from incubator.projects.models import PaymentRequest, PaymentStatus, Tranche, TrancheCondition, TrancheStatus
from tests.conftest import IS_POSTGRES
from tests.factories import make_user
from tests.projects.helpers import scheduled
from tests.race import race


@pytest.mark.postgres
@pytest.mark.skipif(not IS_POSTGRES, reason="real row locks need PostgreSQL (TEST_DATABASE_URL)")
def test_ten_parallel_finance_approvals_pay_once(app, db):
    project, staff = scheduled()
    services.mark_condition_met(project, TrancheCondition.ON_SIGNING, by=staff)
    req = services.request_payment(project.tranches[0], by=staff)
    services.approve_by_staff(req, by=staff)
    finance_ids = [make_user(Role.FINANCE).id for _ in range(10)]
    db.session.commit()
    req_id = req.id

    def approve(finance, n: int):
        request = _db.session.get(PaymentRequest, req_id)
        assert request.status == PaymentStatus.STAFF_APPROVED
        return lambda: services.approve_by_finance(request, by=finance, paid_on=today_local(), voucher_no=f"PZ-{n}")

    outcomes = race(app, finance_ids, approve, expected=(services.ProjectError,))
    assert outcomes.count("ok") == 1, outcomes
    assert sorted(set(outcomes) - {"ok"}) == ["该拨付申请已拨付，不能重复拨付"], outcomes
    db.session.expire_all()
    paid = db.session.get(PaymentRequest, req_id)
    tranche = db.session.get(Tranche, paid.tranche_id)
    assert paid.status == PaymentStatus.PAID and tranche.status == TrancheStatus.PAID
    assert tranche.voucher_no == paid.voucher_no
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "payment.paid")) == 1
