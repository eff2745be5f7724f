"""Demo data of the budgets area: ``seed(project, *, staff, org_user, city_staff=None)``.

Brings one demo project's budget to a realistic state: the budget approved (from the application's lines when
they fit the project amount, else a split of the amount over typical categories), four expenses with a receipt
each (two verified, one returned with a reason, one waiting), and one adjustment request waiting for staff.
Safe to call twice: a project whose budget is already approved is left as it is. Returns the expenses made.
"""
from __future__ import annotations

import io
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from werkzeug.datastructures import FileStorage

from incubator.applications.models import FundingSource
from incubator.calls.models import BudgetCategory
from incubator.db import today_local
from incubator.projects.budgets import services
from incubator.projects.budgets.services import BudgetError, LineInput

# A minimal valid PDF stands for a scanned invoice.
RECEIPT_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SPLIT = ((BudgetCategory.ACTIVITY, "社区服务活动", Decimal("0.50")),
         (BudgetCategory.PERSONNEL, "项目社工及志愿者补贴", Decimal("0.20")),
         (BudgetCategory.MATERIALS, "服务物料", Decimal("0.20")),
         (BudgetCategory.PUBLICITY, "宣传与印刷", None))  # the last absorbs the rounding


def _split(amount: Decimal) -> list[LineInput]:
    rows, used = [], Decimal("0.00")
    for category, item, share in SPLIT:
        part = (amount * share).quantize(Decimal("0.01"), rounding=ROUND_DOWN) if share else amount - used
        used += part
        rows.append(LineInput(category, item, part, FundingSource.GRANT, "按服务内容测算"))
    return rows


def _receipt(name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(RECEIPT_PDF), filename=name, content_type="application/pdf")


def seed(project, *, staff, org_user, city_staff=None) -> list:
    if services.is_approved(project):
        return []
    try:
        lines = services.approve_from_application(project, by=staff)
    except BudgetError:
        lines = services.approve_budget(project, _split(project.amount), by=staff, note="演示数据")
    grant = [line for line in lines if line.source == FundingSource.GRANT and line.approved > 0]
    first = grant[0]
    second = grant[1] if len(grant) > 1 else next((line for line in lines if line is not first), first)
    today = today_local()
    day = min(today, max(project.term_start, today - timedelta(days=40)))
    plan = [
        (first, Decimal("0.12"), "社区探访活动物料采购", "洛阳市惠民超市", "verify"),
        (first, Decimal("0.08"), "重阳节主题活动场地布置", "洛阳市某某文化传播有限公司", "verify"),
        (second, Decimal("0.10"), "志愿者交通补贴（3月）", "志愿者团队（签收单）", "return"),
        (first, Decimal("0.05"), "活动宣传折页印刷", "洛阳市某某印刷厂", None),
    ]
    made = []
    for n, (line, share, description, payee, decision) in enumerate(plan):
        amount = (line.approved * share).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        if amount <= 0:
            continue
        expense = services.record_expense(project, line=line, amount=amount, spent_on=min(today, day + timedelta(days=7 * n)),
                                          description=description, payee=payee,
                                          receipts=[_receipt(f"发票{n + 1}.pdf")], by=org_user)
        if decision == "verify":
            services.verify_expense(expense, by=staff)
        elif decision == "return":
            services.return_expense(expense, by=staff, reason="签收单缺少志愿者签名，请补充后重新提交")
        made.append(expense)
    if second is not first and second.source == first.source:
        amount = (first.approved * Decimal("0.05")).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        if amount > 0:
            try:
                services.request_adjustment(project, from_line=first, to_line=second, amount=amount,
                                            reason="服务对象增加，志愿者补贴不足，申请从活动费调剂", by=org_user)
            except BudgetError:
                pass  # a call cap would be exceeded: the demo goes without an adjustment
    return made
