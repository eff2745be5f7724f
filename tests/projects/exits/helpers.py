"""Factories of the exits tests: projects in progress with tranches paid, verified expenses."""
from __future__ import annotations

import io
from decimal import Decimal

from werkzeug.datastructures import FileStorage

from incubator.accounts.models import Role
from incubator.db import today_local
from incubator.extensions import db
from incubator.projects import services
from incubator.projects.models import TrancheCondition
from tests.factories import make_user
from tests.projects.helpers import scheduled

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pay(tranche, staff, finance, voucher=None):
    req = services.request_payment(tranche, by=staff)
    services.approve_by_staff(req, by=staff)
    return services.approve_by_finance(req, by=finance, paid_on=today_local(),
                                       voucher_no=voucher or f"PZ-{tranche.project_id}-{tranche.sequence}")


def in_progress(amount: str = "100000.00", *, finance=None, **kw):
    """A signed project with its first tranche (50%) paid; returns (project, staff, finance)."""
    project, staff = scheduled(amount, **kw)
    finance = finance or make_user(Role.FINANCE)
    services.mark_condition_met(project, TrancheCondition.ON_SIGNING, by=staff)
    pay(project.tranches[0], staff, finance)
    return project, staff, finance


def fully_paid(amount: str = "100000.00", **kw):
    """Mid-term passed, final accepted, every tranche paid: ready to close. (project, staff, finance)."""
    project, staff, finance = in_progress(amount, **kw)
    services.mark_condition_met(project, TrancheCondition.ON_MIDTERM_PASS, by=staff)
    pay(project.tranches[1], staff, finance)
    services.mark_condition_met(project, TrancheCondition.ON_FINAL_ACCEPTANCE, by=staff)
    pay(project.tranches[2], staff, finance)
    return project, staff, finance


def verified_expense(project, amount: str | Decimal, *, by=None):
    """A verified expense of ``amount`` on a (new) grant budget line (rows written directly)."""
    from incubator.applications.models import FundingSource
    from incubator.calls.models import BudgetCategory
    from incubator.projects.budgets.models import BudgetLine, Expense, ExpenseStatus

    line = BudgetLine(project_id=project.id, position=99, category=BudgetCategory.ACTIVITY, item="社区活动",
                      approved=project.amount, source=FundingSource.GRANT, note="")
    db.session.add(line)
    db.session.flush()
    exp = Expense(project_id=project.id, line_id=line.id, amount=Decimal(amount), spent_on=today_local(),
                  description="活动物料", payee="某商店", status=ExpenseStatus.VERIFIED)
    db.session.add(exp)
    db.session.flush()
    return exp


def receipt_upload(name: str = "回单.pdf", data: bytes = PDF_BYTES) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


def stored_receipt(by):
    from incubator.core.files import save_upload

    return save_upload(receipt_upload(), allowed=("pdf",), by=by)
