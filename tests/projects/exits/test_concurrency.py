"""On PostgreSQL: ten finance officers record refunds of one settlement at once; it is never overpaid."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from incubator.accounts.models import Role
from incubator.db import today_local
from incubator.extensions import db as _db
from incubator.projects.exits import services
from incubator.projects.exits.models import RefundReceipt, Settlement, SettlementStatus
from tests.conftest import IS_POSTGRES
from tests.factories import make_user
from tests.race import race
from tests.projects.exits.helpers import in_progress, stored_receipt, verified_expense


@pytest.mark.postgres
@pytest.mark.skipif(not IS_POSTGRES, reason="real row locks need PostgreSQL (TEST_DATABASE_URL)")
def test_ten_parallel_refunds_never_overpay(app, db):
    project, staff, _ = in_progress("100000.00")
    verified_expense(project, "30000.00")
    services.terminate(project, reason_kind="breach", detail="违约", by=staff)  # 20,000.00 due
    settlement_id = services.settlement_of(project).id
    finance_ids = [make_user(Role.FINANCE).id for _ in range(10)]
    db.session.commit()

    def record(finance, n: int):
        settlement = _db.session.get(Settlement, settlement_id)
        f = stored_receipt(finance)
        return lambda: services.record_refund(settlement, amount=Decimal("3000.00"), received_on=today_local(),
                                              voucher_no=f"TK-{n}", file=f, by=finance)

    outcomes = race(app, finance_ids, record, expected=(services.ExitError,))
    assert outcomes.count("ok") == 6, outcomes
    assert set(outcomes) - {"ok"} == {"退款金额超过尚未退回的金额（2,000.00元）"}, outcomes
    db.session.expire_all()
    s = db.session.get(Settlement, settlement_id)
    assert s.received_total == Decimal("18000.00") and s.status == SettlementStatus.REFUND_DUE
    assert db.session.scalar(select(func.count()).select_from(RefundReceipt)) == 6


@pytest.mark.postgres
@pytest.mark.skipif(not IS_POSTGRES, reason="real row locks need PostgreSQL (TEST_DATABASE_URL)")
@pytest.mark.parametrize("rounds", range(3))
def test_termination_racing_a_finance_approval_settles_what_was_paid(app, db, rounds):
    from incubator.accounts.models import User
    from incubator.projects import services as project_services
    from incubator.projects.models import PaymentRequest, Project, ProjectStatus, TrancheCondition

    project, staff, finance = in_progress("100000.00")
    project_services.mark_condition_met(project, TrancheCondition.ON_MIDTERM_PASS, by=staff)
    req = project_services.request_payment(project.tranches[1], by=staff)
    project_services.approve_by_staff(req, by=staff)
    db.session.commit()
    ids = dict(project=project.id, staff=staff.id, finance=finance.id, req=req.id)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def pay() -> None:
        with app.app_context():
            try:
                request = _db.session.get(PaymentRequest, ids["req"])
                by = _db.session.get(User, ids["finance"])
                barrier.wait(timeout=10)
                project_services.approve_by_finance(request, by=by, paid_on=today_local(), voucher_no="PZ-RACE")
                _db.session.commit()
                outcomes["pay"] = "paid"
            except BaseException as exc:  # noqa: BLE001
                _db.session.rollback()
                outcomes["pay"] = f"{type(exc).__name__}: {exc}"
            finally:
                _db.session.remove()

    def terminate() -> None:
        with app.app_context():
            try:
                p = _db.session.get(Project, ids["project"])
                by = _db.session.get(User, ids["staff"])
                barrier.wait(timeout=10)
                services.terminate(p, reason_kind="breach", detail="违约", by=by)
                _db.session.commit()
                outcomes["terminate"] = "terminated"
            except services.ExitConflict as exc:
                _db.session.rollback()
                outcomes["terminate"] = "refused: " + str(exc)
            except BaseException as exc:  # noqa: BLE001
                _db.session.rollback()
                outcomes["terminate"] = f"{type(exc).__name__}: {exc}"
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=pay), threading.Thread(target=terminate)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes["pay"] == "paid", outcomes
    db.session.expire_all()
    p = db.session.get(Project, ids["project"])
    if outcomes["terminate"] == "terminated":
        assert p.status == ProjectStatus.TERMINATED
        assert services.settlement_of(p).paid_total == p.paid_total == Decimal("80000.00")
    else:
        assert outcomes["terminate"].startswith("refused: 第2期拨付正在办理中"), outcomes
        assert p.status == ProjectStatus.IN_PROGRESS and services.settlement_of(p) is None
