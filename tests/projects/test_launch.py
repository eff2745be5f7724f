"""立项: from a funded application (once) or as a purchase of service; term and budget rules."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from incubator.accounts.models import Role
from incubator.applications.models import ApplicationStatus
from incubator.core.audit import AuditLog
from incubator.db import today_local
from incubator.orgs.models import CreditKind, CreditRecord
from incubator.projects import services
from incubator.projects.models import Project, ProjectKind, ProjectStatus
from tests.factories import make_district, make_user
from tests.projects.helpers import END, START, funded_application, launch, make_org, staff_for

BUDGET = dict(budget_line="公益创投专项资金", budget_year=2026)


def test_a_funded_application_becomes_a_project_with_its_approved_grant(db):
    app = funded_application(amount="36000.00")
    staff = staff_for(app.org)
    project = services.launch_from_application(app, by=staff, term_start=START, term_end=END, **BUDGET,
                                               purchasing_department="洛阳市民政局")
    assert project.number == f"XM-{today_local().year}-0001"
    assert project.kind == ProjectKind.GRANT
    assert (project.org_id, project.call_id, project.application_id) == (app.org_id, app.call_id, app.id)
    assert project.amount == Decimal("36000.00")
    assert project.title == app.title
    assert project.status == ProjectStatus.LAUNCHED
    assert project.purchasing_department == "洛阳市民政局"
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "project.launched"))
    assert row.object_id == project.id and row.after["amount"] == "36000.00" and row.actor_id == staff.id


def test_numbers_are_consecutive(db):
    numbers = [launch().number for _ in range(3)]
    year = numbers[0].split("-")[1]
    assert numbers == [f"XM-{year}-0001", f"XM-{year}-0002", f"XM-{year}-0003"]


def test_a_project_is_not_funded_twice(db):
    app = funded_application()
    staff = staff_for(app.org)
    services.launch_from_application(app, by=staff, term_start=START, term_end=END, **BUDGET)
    with pytest.raises(services.ProjectError, match="已立项，同一项目不重复资助"):
        services.launch_from_application(app, by=staff, term_start=START, term_end=END, **BUDGET)
    assert db.session.scalar(select(Project.id).where(Project.application_id == app.id)) is not None
    assert len(db.session.scalars(select(Project)).all()) == 1


@pytest.mark.parametrize("status", [ApplicationStatus.PASSED, ApplicationStatus.PROPOSED,
                                    ApplicationStatus.PUBLICIZED, ApplicationStatus.CANCELLED,
                                    ApplicationStatus.SUBMITTED])
def test_only_funded_applications_are_launched(db, status):
    app = funded_application(status=status)
    with pytest.raises(services.ProjectError, match="只有已确定资助的申报项目才能立项"):
        services.launch_from_application(app, by=staff_for(app.org), term_start=START, term_end=END, **BUDGET)
    assert db.session.scalars(select(Project)).all() == []


def test_the_amount_may_not_exceed_the_approved_grant(db):
    app = funded_application(amount="36000.00")
    staff = staff_for(app.org)
    with pytest.raises(services.ProjectError, match="不能超过确定的资助金额"):
        services.launch_from_application(app, by=staff, amount=Decimal("36000.01"), term_start=START,
                                         term_end=END, **BUDGET)
    p = services.launch_from_application(app, by=staff, amount=Decimal("30000.00"), term_start=START,
                                         term_end=END, **BUDGET)
    assert p.amount == Decimal("30000.00")


@pytest.mark.parametrize("end, reason, ok", [
    (date(2027, 2, 28), None, True),          # exactly one year (inclusive)
    (date(2026, 3, 1), None, True),           # one day
    (date(2027, 3, 1), None, False),          # one year and one day: needs a reason
    (date(2027, 3, 1), "服务稳定，预算有保障", True),
    (date(2029, 2, 28), "服务稳定，预算有保障", True),  # exactly three years
    (date(2029, 3, 1), "服务稳定，预算有保障", False),  # more than three years: never
    (date(2031, 1, 1), "理由", False),
    (date(2026, 2, 28), None, False),         # ends before it starts
])
def test_term_rules(db, end, reason, ok):
    if ok:
        p = launch(term_start=START, term_end=end, term_reason=reason)
        assert p.term_end == end and p.term_reason == reason
    else:
        with pytest.raises(services.ProjectError) as exc:
            launch(term_start=START, term_end=end, term_reason=reason)
        assert any(w in str(exc.value) for w in ("须说明理由", "不得超过3年", "不能早于"))


def test_a_blank_reason_is_no_reason(db):
    with pytest.raises(services.ProjectError, match="超过1年的，须说明理由"):
        launch(term_end=date(2028, 2, 1), term_reason="   ")


def test_no_launch_without_an_approved_budget_source(db):
    with pytest.raises(services.ProjectError, match="预算未批复不得立项"):
        launch(budget_line="")
    with pytest.raises(services.ProjectError, match="预算未批复不得立项"):
        launch(budget_year=None)


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1.00"), Decimal("1.001"), 1000.0])
def test_amount_must_be_positive_exact(db, amount):
    org = make_org()
    with pytest.raises(services.ProjectError):
        services.launch_purchase(org, by=staff_for(org), title="项目", amount=amount, term_start=START,
                                 term_end=END, **BUDGET)


def test_a_debarred_supplier_is_refused(db):
    org = make_org()
    db.session.add(CreditRecord(org_id=org.id, kind=CreditKind.DEBARMENT, reason="违反资助协议",
                                source="洛民〔2025〕1号", start_on=date(2025, 1, 1), end_on=date(2099, 1, 1)))
    db.session.flush()
    db.session.refresh(org)
    with pytest.raises(services.ProjectError, match="禁入期"):
        launch(org)


def test_only_staff_of_the_district_launch(db):
    org = make_org()
    for user in (make_user(Role.STAFF, district=make_district()), make_user(Role.FINANCE),
                 make_user(Role.ADMIN), make_user(Role.APPLICANT, org=org), make_user(Role.EVALUATOR)):
        with pytest.raises(services.NotAllowed):
            launch(org, by=user)
    assert launch(org, by=make_user(Role.STAFF)).org_id == org.id  # city staff
    assert launch(org, by=staff_for(org)).org_id == org.id


def test_money_is_stored_as_integer_fen(db):
    p = launch(amount="1234567.89")
    db.session.flush()
    assert db.session.execute(text("SELECT amount FROM project WHERE id = :id"), {"id": p.id}).scalar_one() == 123456789
