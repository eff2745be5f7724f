"""The hub's demo: projects launched from the demo's funded applications and a purchase, 50/30/20."""
from __future__ import annotations

from decimal import Decimal

from incubator.accounts.models import Role, User
from incubator.db import today_local
from incubator.projects.demo import seed_projects
from incubator.projects.models import ProjectKind, TrancheCondition, TrancheStatus


def test_seed_projects_after_the_publicity_demo(app, db):
    from incubator.demo import load_demo_data
    from incubator.projects import services

    load_demo_data()
    staff = db.session.scalar(db.select(User).where(User.role == Role.STAFF, User.district_id.is_(None)))
    made = seed_projects(today_local(), staff)
    db.session.commit()
    assert {"grant", "purchase"} <= set(made)
    grant, purchase = made["grant"], made["purchase"]
    assert grant.kind == ProjectKind.GRANT and grant.application is not None
    assert grant.amount == services.granted_amount(grant.application)
    assert purchase.kind == ProjectKind.PURCHASE and purchase.amount == Decimal("120000.00")
    for p in made.values():
        assert [t.share for t in p.tranches] == [Decimal(50), Decimal(30), Decimal(20)]
        assert [t.condition for t in p.tranches] == [TrancheCondition.ON_SIGNING, TrancheCondition.ON_MIDTERM_PASS,
                                                     TrancheCondition.ON_FINAL_ACCEPTANCE]
        assert sum(t.amount for t in p.tranches) == p.amount
        assert all(t.status == TrancheStatus.PENDING for t in p.tranches)
    # one funded application is left for the desk's 待立项
    assert services.count_to_launch(staff) >= 1
    # running it again launches no application twice
    again = seed_projects(today_local(), staff)
    assert all(p.application_id not in {m.application_id for m in made.values()} or p.application_id is None
               for p in again.values())
