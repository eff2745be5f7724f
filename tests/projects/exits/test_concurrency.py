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
    barrier = threading.Barrier(len(finance_ids))
    outcomes: list[str] = []

    def record(finance_id: int, n: int) -> None:
        with app.app_context():
            try:
                from incubator.accounts.models import User

                finance = _db.session.get(User, finance_id)
                settlement = _db.session.get(Settlement, settlement_id)
                f = stored_receipt(finance)
                barrier.wait(timeout=10)
                services.record_refund(settlement, amount=Decimal("3000.00"), received_on=today_local(),
                                       voucher_no=f"TK-{n}", file=f, by=finance)
                _db.session.commit()
                outcomes.append("recorded")
            except services.ExitError as exc:
                _db.session.rollback()
                outcomes.append(str(exc))
            except BaseException as exc:  # noqa: BLE001 - reported below
                _db.session.rollback()
                outcomes.append(f"unexpected {type(exc).__name__}: {exc}")
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=record, args=(f, i)) for i, f in enumerate(finance_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("recorded") == 6, outcomes
    assert set(outcomes) - {"recorded"} == {"退款金额超过尚未退回的金额（2,000.00元）"}, outcomes
    db.session.expire_all()
    s = db.session.get(Settlement, settlement_id)
    assert s.received_total == Decimal("18000.00") and s.status == SettlementStatus.REFUND_DUE
    assert db.session.scalar(select(func.count()).select_from(RefundReceipt)) == 6
