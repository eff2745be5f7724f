"""Services of a project's budget: approval, adjustments, expenses and the figures of the budget page.

They take model objects and typed keyword arguments, change data, flush and never commit. Refusals
raise ``BudgetError`` (Chinese message); a user without the right raises ``NotAllowed``.

Cross-area interface: ``verified_total(project)`` (verified expenses) and ``spent_total(project)``
(every recorded expense that was not returned), both exact Decimals summed as integer 分 in SQL.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Integer, func, select, type_coerce

from incubator.db import from_fen
from incubator.extensions import db
from incubator.projects.budgets.models import SPENT_STATUSES, Expense, ExpenseStatus


def _sum(project, statuses) -> Decimal:
    # The Money column is integer 分 in the database: sum the raw integers, convert once.
    raw = db.session.execute(
        select(func.coalesce(func.sum(type_coerce(Expense.amount, Integer)), 0))
        .where(Expense.project_id == project.id, Expense.status.in_(statuses))
    ).scalar_one()
    return from_fen(int(raw))


def verified_total(project) -> Decimal:
    """Sum of the project's verified (已核实) expenses."""
    return _sum(project, (ExpenseStatus.VERIFIED,))


def spent_total(project) -> Decimal:
    """Sum of the project's recorded expenses that were not returned (待核实, 已重新提交, 已核实)."""
    return _sum(project, SPENT_STATUSES)
