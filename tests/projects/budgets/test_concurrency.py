"""On PostgreSQL: ten members record expenses on one budget line at once; the line is never overspent
(record_expense locks the line row before it checks the room left)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from incubator.extensions import db as _db
from incubator.projects.budgets import services
from incubator.projects.budgets.models import BudgetLine
from tests.conftest import IS_POSTGRES
from tests.projects.budgets.helpers import SPENT_ON, budgeted, receipt
from tests.projects.helpers import make_member
from tests.race import race


@pytest.mark.postgres
@pytest.mark.skipif(not IS_POSTGRES, reason="real row locks need PostgreSQL (TEST_DATABASE_URL)")
def test_ten_parallel_expenses_never_overspend_a_line(app, db):
    project, _staff, member, lines = budgeted()  # line 0: ¥50,000.00
    member_ids = [member.id] + [make_member(project.org).id for _ in range(9)]
    project_id, line_id = project.id, lines[0].id
    db.session.commit()

    def spend(user, n: int):
        from incubator.projects.models import Project

        p, line = _db.session.get(Project, project_id), _db.session.get(BudgetLine, line_id)
        return lambda: services.record_expense(p, line=line, amount=Decimal("8000.00"), spent_on=SPENT_ON,
                                               description=f"活动{n}", payee="某单位", receipts=[receipt()], by=user)

    outcomes = race(app, member_ids, spend, expected=(services.BudgetError,))
    assert outcomes.count("ok") == 6, outcomes  # 6 × 8,000 = 48,000 ≤ 50,000 < 7 × 8,000
    assert all("剩余可用金额" in o for o in outcomes if o != "ok"), outcomes
    db.session.expire_all()
    assert services.spent_total(project) == Decimal("48000.00")
    row = next(r for r in services.figures(project).rows if r.line.id == line_id)
    assert row.spent <= row.approved
