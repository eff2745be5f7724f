"""The demo's funded projects (incubator/demo.py ``_seed_projects`` over every area's demo seed):
one running, one exited with a refund and a debarment, one purchase waiting for its signature."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from incubator.accounts.models import Role, User
from incubator.db import today_local
from incubator.orgs.eligibility import check_eligibility
from incubator.projects.demo import seed_projects
from incubator.projects.models import Project, ProjectKind, ProjectStatus, TrancheCondition, TrancheStatus


def _projects(db):
    return {p.kind.value + ("" if p.kind == ProjectKind.PURCHASE else f"-{p.org.name}"): p
            for p in db.session.scalars(select(Project).order_by(Project.id))}


def test_the_demo_brings_projects_through_every_area(app, db):
    from incubator.demo import load_demo_data
    from incubator.projects import services
    from incubator.projects.contracts.models import ContractStatus
    from incubator.projects.contracts.services import contract_in_force, current_contract
    from incubator.projects.exits.models import SettlementStatus
    from incubator.projects.exits.services import settlement_of, termination_of

    load_demo_data()
    db.session.commit()
    projects = list(db.session.scalars(select(Project).order_by(Project.id)))
    assert len(projects) == 3
    running, exited, purchase = projects
    for p in projects:
        assert [t.share for t in p.tranches] == [Decimal(50), Decimal(30), Decimal(20)]
        assert [t.condition for t in p.tranches] == [TrancheCondition.ON_SIGNING, TrancheCondition.ON_MIDTERM_PASS,
                                                     TrancheCondition.ON_FINAL_ACCEPTANCE]
        assert sum(t.amount for t in p.tranches) == p.amount

    assert running.kind == ProjectKind.GRANT and running.status == ProjectStatus.IN_PROGRESS
    assert running.amount == services.granted_amount(running.application)
    assert contract_in_force(running) is not None and contract_in_force(running).published_at is not None
    assert [t.status for t in running.tranches] == [TrancheStatus.PAID, TrancheStatus.REQUESTABLE,
                                                    TrancheStatus.PENDING]

    from incubator.projects.evaluations.models import EvaluationGrade, EvaluationStage
    from incubator.projects.evaluations.services import latest_grade

    assert latest_grade(running, EvaluationStage.MIDTERM) != EvaluationGrade.FAIL
    assert latest_grade(exited, EvaluationStage.MIDTERM) == EvaluationGrade.FAIL
    assert exited.midterm_failed_on is not None and exited.tranches[1].status == TrancheStatus.STOPPED
    assert exited.status == ProjectStatus.TERMINATED
    settlement = settlement_of(exited)
    assert settlement.status == SettlementStatus.REFUND_DUE and settlement.refund_due > 0
    assert termination_of(exited).debar
    verdict = check_eligibility(exited.org, on=today_local())
    assert not verdict.ok and any("禁入期" in r for r in verdict.reasons)

    assert purchase.kind == ProjectKind.PURCHASE and purchase.amount == Decimal("120000.00")
    assert purchase.status == ProjectStatus.LAUNCHED
    assert current_contract(purchase).status == ContractStatus.GENERATED

    staff = db.session.scalar(db.select(User).where(User.role == Role.STAFF, User.district_id.is_(None)))
    assert services.count_to_launch(staff) >= 1  # one funded application is left for the desk's 待立项
    # the nav's single-statement count agrees with its parts
    assert services.count_staff_waiting(staff) == services.count_payments_to_approve(staff) + services.count_to_launch(staff)
    again = seed_projects(today_local(), staff)  # running it again launches no application twice
    launched = {p.application_id for p in projects if p.application_id}
    assert all(p.application_id not in launched for p in again.values())
