"""Property tests: random sequences of expenses, returns, resubmissions, verifications and adjustments never
leave a line with recorded spending above its approved amount; approved amounts change only through applied
adjustments; every total is exact to the 分 (checked against a plain Python model of the rules)."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incubator.accounts.models import Role
from incubator.applications.models import FundingSource
from incubator.core.states import InvalidTransition
from incubator.projects.budgets import services
from incubator.projects.budgets.models import AdjustmentStatus, ExpenseStatus
from incubator.projects.budgets.services import BudgetError, NotAllowed
from tests.factories import make_user
from tests.projects.budgets.helpers import SPENT_ON, budgeted, receipt

D = Decimal
fen = st.integers(min_value=1, max_value=3_000_000).map(lambda n: D(n) / 100)  # ¥0.01 … ¥30,000.00
ops = st.lists(st.one_of(
    st.tuples(st.just("spend"), st.integers(0, 3), fen),
    st.tuples(st.just("return"), st.integers(0, 30)),
    st.tuples(st.just("resubmit"), st.integers(0, 30), fen),
    st.tuples(st.just("verify"), st.integers(0, 30)),
    st.tuples(st.just("request"), st.integers(0, 3), st.integers(0, 3), fen),
    st.tuples(st.just("approve"), st.integers(0, 10), st.booleans()),
    st.tuples(st.just("reject"), st.integers(0, 10)),
), min_size=1, max_size=25)


def _check(project, lines, model_approved, model_expenses):
    figures = services.figures(project)
    by_line = {row.line.id: row for row in figures.rows}
    for line in lines:
        row = by_line[line.id]
        assert row.spent <= row.approved, f"{line.label}: spent {row.spent} > approved {row.approved}"
        assert row.approved == model_approved[line.id]
        spent = sum((a for (l, a, s) in model_expenses.values() if l == line.id and s != "returned"), D("0"))
        verified = sum((a for (l, a, s) in model_expenses.values() if l == line.id and s == "verified"), D("0"))
        assert (row.spent, row.verified) == (spent, verified)
    assert services.spent_total(project) == sum((a for (_, a, s) in model_expenses.values() if s != "returned"), D("0"))
    assert services.verified_total(project) == sum((a for (_, a, s) in model_expenses.values() if s == "verified"), D("0"))
    assert figures.by_source[FundingSource.GRANT].approved == project.amount  # moves keep the grant total
    assert figures.total.approved == D("105000.00")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops)
def test_no_line_is_ever_overspent(db, steps):
    project, staff, member, lines = budgeted()
    city = make_user(Role.STAFF)
    approved = {line.id: line.approved for line in lines}
    expenses: dict[int, tuple[int, Decimal, str]] = {}  # id → (line id, amount, status)
    objects, adjustments = [], []

    def spent(line_id, excluding=None):
        return sum((a for i, (l, a, s) in expenses.items() if l == line_id and s != "returned" and i != excluding),
                   D("0"))

    for step in steps:
        kind = step[0]
        if kind == "spend":
            line, amount = lines[step[1]], step[2]
            ok = amount <= approved[line.id] - spent(line.id)
            try:
                e = services.record_expense(project, line=line, amount=amount, spent_on=SPENT_ON, description="活动",
                                            payee="某单位", receipts=[receipt()], by=member)
            except BudgetError as exc:
                assert not ok and "剩余可用金额" in str(exc) and line.label in str(exc)
            else:
                assert ok
                expenses[e.id] = (line.id, amount, "submitted")
                objects.append(e)
        elif kind in ("return", "verify", "resubmit") and objects:
            e = objects[step[1] % len(objects)]
            line_id, amount, status = expenses[e.id]
            try:
                if kind == "return":
                    services.return_expense(e, by=staff, reason="票据不清")
                    expenses[e.id] = (line_id, amount, "returned")
                elif kind == "verify":
                    services.verify_expense(e, by=staff)
                    expenses[e.id] = (line_id, amount, "verified")
                else:
                    new = step[2]
                    ok = status == "returned" and new <= approved[line_id] - spent(line_id, excluding=e.id)
                    try:
                        services.resubmit_expense(e, by=member, amount=new)
                    except BudgetError:
                        assert not ok
                    else:
                        assert ok
                        expenses[e.id] = (line_id, new, "resubmitted")
            except InvalidTransition:
                assert (kind in ("return", "verify") and status in ("verified", "returned")) or kind == "resubmit"
        elif kind == "request":
            a, b, amount = lines[step[1]], lines[step[2]], step[3]
            try:
                adj = services.request_adjustment(project, from_line=a, to_line=b, amount=amount, reason="调剂", by=member)
            except BudgetError:
                ok = a.id != b.id and a.source == b.source and amount <= approved[a.id] - spent(a.id)
                assert not ok
            else:
                adjustments.append(adj)
        elif kind == "approve" and adjustments:
            adj = adjustments[step[1] % len(adjustments)]
            before = adj.status
            try:
                services.approve_adjustment(adj, by=city if step[2] else staff)
            except (BudgetError, InvalidTransition):
                pass  # already decided, or no longer possible (money spent meanwhile), or needs the city
            if adj.status == AdjustmentStatus.APPLIED and before != AdjustmentStatus.APPLIED:
                approved[adj.from_line_id] -= adj.amount
                approved[adj.to_line_id] += adj.amount
        elif kind == "reject" and adjustments:
            adj = adjustments[step[1] % len(adjustments)]
            try:
                services.reject_adjustment(adj, by=city, reason="依据不足")
            except InvalidTransition:
                assert adj.status in (AdjustmentStatus.APPLIED, AdjustmentStatus.REJECTED)
        _check(project, lines, approved, expenses)
    statuses = {e.status for e in objects}
    assert statuses <= set(ExpenseStatus)
