"""The budgets demo seed brings a project to a realistic state and is safe to call twice."""
from __future__ import annotations

from incubator.accounts.models import Role
from incubator.projects.budgets import demo, services
from incubator.projects.budgets.models import AdjustmentStatus, ExpenseStatus
from tests.factories import make_user
from tests.projects.budgets.helpers import grant_project
from tests.projects.helpers import launch, make_member, staff_for


def test_seed_a_purchase_and_a_grant_project(db):
    project = launch(amount="123456.78")
    staff, member = staff_for(project.org), make_member(project.org)
    made = demo.seed(project, staff=staff, org_user=member, city_staff=make_user(Role.STAFF))
    assert [e.status for e in made] == [ExpenseStatus.VERIFIED, ExpenseStatus.VERIFIED, ExpenseStatus.RETURNED,
                                        ExpenseStatus.SUBMITTED]
    assert services.figures(project).total.approved == project.amount
    assert [a.status for a in services.adjustments(project)] == [AdjustmentStatus.REQUESTED]
    assert demo.seed(project, staff=staff, org_user=member) == []
    grant, staff, member = grant_project()
    assert len(demo.seed(grant, staff=staff, org_user=member)) == 4
    assert services.verified_total(grant) > 0
