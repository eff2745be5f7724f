"""Factories of the budget tests: projects with an approved budget, members, receipts."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from werkzeug.datastructures import FileStorage

from incubator.applications.models import FundingSource
from incubator.calls.models import BudgetCategory
from incubator.projects import services as project_services
from incubator.projects.budgets import services
from incubator.projects.budgets.services import LineInput
from tests.applications.helpers import PDF_BYTES
from tests.projects.helpers import END, START, funded_application, launch, make_member, staff_for

D = Decimal
SPENT_ON = date(2026, 4, 1)
def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format="PNG")
    return out.getvalue()


PNG_BYTES = _png()

PURCHASE_LINES = [
    LineInput(BudgetCategory.ACTIVITY, "社区助餐服务", D("50000.00")),
    LineInput(BudgetCategory.PERSONNEL, "服务人员补贴", D("20000.00")),
    LineInput(BudgetCategory.MATERIALS, "服务物料", D("30000.00")),
    LineInput(BudgetCategory.PUBLICITY, "宣传（自筹）", D("5000.00"), FundingSource.MATCHING),
]


def receipt(name: str = "发票.pdf", data: bytes = PDF_BYTES) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


def budgeted(org=None, *, rows=None, amount: str = "100000.00", **kw):
    """A purchase project of ¥100,000 with an approved budget; returns (project, staff, member, lines)."""
    project = launch(org, amount=amount, **kw)
    staff = kw.get("by") or staff_for(project.org)
    member = make_member(project.org)
    lines = services.approve_budget(project, rows or PURCHASE_LINES, by=staff)
    return project, staff, member, lines


def grant_project(**kw):
    """A grant project from a funded application (grant 36,000 + matching 24,000); (project, staff, member)."""
    application = funded_application(**kw)
    staff = staff_for(application.org)
    project = project_services.launch_from_application(application, by=staff, term_start=START, term_end=END,
                                                       budget_line="公益创投专项", budget_year=2026)
    return project, staff, make_member(application.org)


def spend(project, line, amount: str, member, *, n: int = 1):
    return services.record_expense(project, line=line, amount=D(amount), spent_on=SPENT_ON, description="开展活动",
                                   payee="洛阳市某某超市", receipts=[receipt() for _ in range(n)], by=member)
