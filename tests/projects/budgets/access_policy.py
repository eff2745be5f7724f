"""Who may reach each budget route (tests/test_access.py walks these).

The project belongs to org_a (district A). Everyone who sees the project reads its budget, expenses and
receipts: org_a's members, district-A and city staff, finance and admins. Only org_a's members record
expenses and ask for adjustments; only district-A and city staff approve, revise, move, verify and return.
Finance and admins get 403 on every budget-changing route; org_b, district-B staff, experts and
evaluators get 404 (the project's existence is not revealed); anonymous users the login page.
"""
import io

from tests.access import DENY, OK, Rule

VIEWERS = {"applicant_a": OK, "staff_a": OK, "staff_city": OK, "finance": OK, "admin": OK}
MANAGERS = {"staff_a": OK, "staff_city": OK}
MEMBERS = {"applicant_a": OK}


def _launched(w):
    from tests.projects.helpers import launch

    w.project = launch(w.org_a, by=w.staff_a)


def _budget(w):
    from datetime import date
    from decimal import Decimal

    from incubator.projects.budgets import services
    from tests.projects.budgets.helpers import PURCHASE_LINES, receipt

    _launched(w)
    w.lines = services.approve_budget(w.project, PURCHASE_LINES, by=w.staff_a)
    w.expense = services.record_expense(w.project, line=w.lines[0], amount=Decimal("100.00"), spent_on=date(2026, 4, 1),
                                        description="活动物料", payee="某超市", receipts=[receipt()], by=w.applicant_a)
    w.receipt = w.expense.receipts[0]
    w.adjustment = services.request_adjustment(w.project, from_line=w.lines[0], to_line=w.lines[2],
                                               amount=Decimal("1000.00"), reason="物料增加", by=w.applicant_a)


def _returned(w):
    from incubator.projects.budgets import services

    _budget(w)
    services.return_expense(w.expense, by=w.staff_a, reason="票据不清")


def _pdf():
    from tests.applications.helpers import PDF_BYTES

    return (io.BytesIO(PDF_BYTES), "发票.pdf")


def _approve_data(w):
    return {"rows-0-category": "activity", "rows-0-item": "活动", "rows-0-amount": "100000.00", "rows-0-source": "grant"}


def _expense_data(w):
    return {"line": str(w.lines[1].id), "amount": "10.00", "spent_on": "2026-04-02", "payee": "某印刷厂",
            "description": "印刷", "receipts": _pdf()}


def _move_data(w):
    return {"from_line": str(w.lines[0].id), "to_line": str(w.lines[1].id), "amount": "10.00", "reason": "调整"}


RULES = [
    Rule("budgets.project_budget", "GET", lambda w: f"/projects/{w.project.id}/budget", allow=VIEWERS, setup=_launched),
    Rule("budgets.project_budget", "GET", lambda w: f"/projects/{w.project.id}/budget?status=waiting&line=abc",
         allow=VIEWERS, setup=_budget),
    Rule("budgets.project_budget", "GET", lambda w: "/projects/99999999999/budget", allow={}, others=DENY),
    Rule("budgets.approve_budget", "GET", lambda w: f"/projects/{w.project.id}/budget/approve", allow=MANAGERS,
         setup=_launched),
    Rule("budgets.approve_budget", "POST", lambda w: f"/projects/{w.project.id}/budget/approve", allow=MANAGERS,
         setup=_launched, data=_approve_data),
    Rule("budgets.revise_line", "GET", lambda w: f"/projects/{w.project.id}/budget/lines/{w.lines[3].id}",
         allow=MANAGERS, setup=_budget),
    Rule("budgets.revise_line", "POST", lambda w: f"/projects/{w.project.id}/budget/lines/{w.lines[3].id}",
         allow=MANAGERS, setup=_budget, data=lambda w: {"item": "宣传", "approved": "5100", "reason": "自筹增加"}),
    Rule("budgets.add_line", "GET", lambda w: f"/projects/{w.project.id}/budget/lines/new", allow=MANAGERS, setup=_budget),
    Rule("budgets.add_line", "POST", lambda w: f"/projects/{w.project.id}/budget/lines/new", allow=MANAGERS,
         setup=_budget, data=lambda w: {"category": "training", "item": "培训", "source": "grant", "reason": "新增"}),
    Rule("budgets.staff_move", "GET", lambda w: f"/projects/{w.project.id}/budget/move", allow=MANAGERS, setup=_budget),
    Rule("budgets.staff_move", "POST", lambda w: f"/projects/{w.project.id}/budget/move", allow=MANAGERS,
         setup=_budget, data=_move_data),
    Rule("budgets.request_adjustment", "GET", lambda w: f"/projects/{w.project.id}/budget/adjustments/new",
         allow=MEMBERS, setup=_budget),
    Rule("budgets.request_adjustment", "POST", lambda w: f"/projects/{w.project.id}/budget/adjustments/new",
         allow=MEMBERS, setup=_budget, data=_move_data),
    Rule("budgets.approve_adjustment", "POST",
         lambda w: f"/projects/{w.project.id}/budget/adjustments/{w.adjustment.id}/approve", allow=MANAGERS,
         setup=_budget),
    Rule("budgets.reject_adjustment", "POST",
         lambda w: f"/projects/{w.project.id}/budget/adjustments/{w.adjustment.id}/reject", allow=MANAGERS,
         setup=_budget, data=lambda w: {"reason": "依据不足"}),
    Rule("budgets.new_expense", "GET", lambda w: f"/projects/{w.project.id}/expenses/new", allow=MEMBERS, setup=_budget),
    Rule("budgets.new_expense", "POST", lambda w: f"/projects/{w.project.id}/expenses/new", allow=MEMBERS,
         setup=_budget, data=_expense_data),
    Rule("budgets.expense_detail", "GET", lambda w: f"/projects/{w.project.id}/expenses/{w.expense.id}",
         allow=VIEWERS, setup=_budget),
    Rule("budgets.expense_detail", "GET", lambda w: f"/projects/{w.project.id}/expenses/99999999999", allow={}, others=DENY,
         setup=_budget),
    Rule("budgets.expense_detail", "POST", lambda w: f"/projects/{w.project.id}/expenses/{w.expense.id}",
         allow=MEMBERS, setup=_returned, data=_expense_data),
    Rule("budgets.verify_expense", "POST", lambda w: f"/projects/{w.project.id}/expenses/{w.expense.id}/verify",
         allow=MANAGERS, setup=_budget),
    Rule("budgets.return_expense", "POST", lambda w: f"/projects/{w.project.id}/expenses/{w.expense.id}/return",
         allow=MANAGERS, setup=_budget, data=lambda w: {"reason": "票据不清"}),
    Rule("budgets.receipt", "GET", lambda w: f"/projects/{w.project.id}/receipts/{w.receipt.id}", allow=VIEWERS,
         setup=_budget),
    Rule("budgets.receipt", "GET", lambda w: f"/projects/{w.project.id}/receipts/0", allow={}, setup=_budget),
]
