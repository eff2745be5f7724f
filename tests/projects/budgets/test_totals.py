"""verified_total / spent_total: exact sums of a project's expenses (cross-area interface)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from incubator.extensions import db as _db
from incubator.projects.budgets.models import BudgetLine, Expense, ExpenseStatus
from incubator.projects.budgets.services import spent_total, verified_total
from incubator.calls.models import BudgetCategory
from tests.projects.helpers import launch


def test_totals_by_status(db):
    project = launch()
    assert verified_total(project) == Decimal("0.00")
    assert spent_total(project) == Decimal("0.00")
    line = BudgetLine(project_id=project.id, category=BudgetCategory.ACTIVITY, item="活动", approved=Decimal("1000"))
    _db.session.add(line)
    _db.session.flush()
    for amount, status in [("0.10", ExpenseStatus.VERIFIED), ("0.20", ExpenseStatus.VERIFIED),
                           ("5.05", ExpenseStatus.SUBMITTED), ("7.00", ExpenseStatus.RESUBMITTED)]:
        _db.session.add(Expense(project_id=project.id, line_id=line.id, amount=Decimal(amount), spent_on=date(2026, 4, 1),
                                description="x", status=status))
    _db.session.add(Expense(project_id=project.id, line_id=line.id, amount=Decimal("100"), spent_on=date(2026, 4, 1),
                            description="x", status=ExpenseStatus.RETURNED, return_reason="票据不清"))
    _db.session.flush()
    assert verified_total(project) == Decimal("0.30")
    assert spent_total(project) == Decimal("12.35")


def test_totals_of_one_funding_source(db):
    """Exit settles the grant against grant-line spending: matching-fund lines are summed apart."""
    from incubator.applications.models import FundingSource

    project = launch()
    grant = BudgetLine(project_id=project.id, category=BudgetCategory.ACTIVITY, item="活动", approved=Decimal("1000"),
                       source=FundingSource.GRANT)
    matching = BudgetLine(project_id=project.id, category=BudgetCategory.ACTIVITY, item="配套", approved=Decimal("500"),
                          source=FundingSource.MATCHING)
    _db.session.add_all([grant, matching])
    _db.session.flush()
    for line, amount in [(grant, "300.10"), (matching, "200.00")]:
        _db.session.add(Expense(project_id=project.id, line_id=line.id, amount=Decimal(amount),
                                spent_on=date(2026, 4, 1), description="x", status=ExpenseStatus.VERIFIED))
    _db.session.flush()
    assert verified_total(project) == Decimal("500.10")
    assert verified_total(project, FundingSource.GRANT) == Decimal("300.10")
    assert verified_total(project, FundingSource.MATCHING) == Decimal("200.00")
    assert spent_total(project, FundingSource.GRANT) == Decimal("300.10")
