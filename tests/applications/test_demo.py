"""The demo seeds applications in every state, each with a consistent history."""
from __future__ import annotations

from sqlalchemy import select

from incubator.accounts.models import Role
from incubator.applications.demo import seed_applications
from incubator.applications.models import Application, ApplicationStatus
from incubator.calls.demo import seed_calls
from incubator.core.states import history
from incubator.db import today_local
from tests.applications.helpers import make_member, make_org
from tests.factories import make_district, make_user


def test_every_state_is_seeded(db):
    district = make_district(code="410311", name="洛龙区")
    staff = make_user(Role.STAFF)
    calls = seed_calls(today_local(), staff)
    orgs = [make_org(district=district) for _ in range(5)]
    for org in orgs:
        make_member(org)
    apps = seed_applications(calls, orgs, today_local())
    db.session.commit()
    # the later stages (拟资助 … 取消资助) are seeded by the publicity demo, see tests/test_demo.py
    later = {ApplicationStatus.PROPOSED, ApplicationStatus.PUBLICIZED, ApplicationStatus.FUNDED, ApplicationStatus.CANCELLED}
    assert {a.status for a in apps} == set(ApplicationStatus) - later
    for app in db.session.scalars(select(Application)):
        if app.status == ApplicationStatus.DRAFT:
            assert app.number is None and not app.versions
            continue
        assert app.number and app.versions and app.versions[0].data["basic"]["title"] == app.title
        assert history(app)[0].to_status == "submitted"
        assert app.grant_requested + app.matching_amount == app.total_budget
    resubmitted = db.session.scalar(select(Application).where(Application.status == ApplicationStatus.RESUBMITTED))
    assert [v.number for v in resubmitted.versions] == [1, 2]
    returned = db.session.scalar(select(Application).where(Application.status == ApplicationStatus.RETURNED))
    assert returned.revision_deadline > today_local() and returned.return_reasons
    from incubator.notifications.models import Notification

    titles = set(db.session.scalars(select(Notification.title)))
    assert f"申报书被退回修改：{returned.number}" in titles
