"""Factories of the 公示 tests: a closed round, its applications on the funding list, a running 公示."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from incubator.accounts.models import Role
from incubator.db import today_local
from incubator.extensions import db
from incubator.publicity import services
from incubator.publicity.models import Publicity, PublicityStatus
from tests.applications.helpers import make_call, make_member, make_org
from tests.factories import make_user
from tests.ranking.helpers import experts, passed_app, scored_round


def funding_world(*, district=None, n: int = 3, fund_pool: str = "1000000.00", approve: bool = False,
                  staff=None, first_number: int = 1) -> SimpleNamespace:
    w = SimpleNamespace()
    w.call = make_call(district=district, fund_pool=Decimal(fund_pool))
    w.staff = staff or make_user(Role.STAFF, district=district)
    w.orgs = [make_org(district=district, contact_email=f"org{i}@example.org.cn") for i in range(n)]
    w.members = [make_member(o) for o in w.orgs]
    w.apps = [passed_app(o, w.call, number=f"WCT-2026-{first_number + i:04d}") for i, o in enumerate(w.orgs)]
    w.experts = experts(3)
    w.round = scored_round(w.call, [(a, [(x, 90 - 5 * i) for x in w.experts]) for i, a in enumerate(w.apps)],
                           by=w.staff)
    services.propose(w.round, w.apps, by=w.staff,
                     ranks={a.id: (i + 1, Decimal(90 - 5 * i)) for i, a in enumerate(w.apps)})
    w.list = services.funding_list_for(w.call)
    w.items = {i.application_id: i for i in w.list.items}
    if approve:
        services.approve(w.list, by=w.staff)
    db.session.flush()
    return w


def open_publicity(w, *, start: date | None = None, ends: date | None = None) -> Publicity:
    """Approve (if needed) and start the 公示 of ``w.list``; ``ends`` overrides the computed end date
    (tests must not depend on the calendar of the day they run)."""
    if w.list.status.value == "draft":
        services.approve(w.list, by=w.staff)
    start = start or today_local()
    pub = services.start_publicity(w.list, by=w.staff, start=start, workdays=5) if ends is None else None
    if pub is None:
        from incubator.applications.models import ApplicationStatus
        from incubator.core.states import transition
        from incubator.publicity.models import FundingListStatus

        transition(w.list, FundingListStatus.PUBLICIZING, by=w.staff)
        for item in w.list.active_items:
            transition(item.application, ApplicationStatus.PUBLICIZED, by=w.staff)
        pub = Publicity(list_id=w.list.id, call_id=w.call.id, title=services.default_title(w.call),
                        notice=services.default_notice(w.call, 5), starts_on=start, ends_on=ends, workdays=5,
                        status=PublicityStatus.OPEN, started_by_id=w.staff.id)
        db.session.add(pub)
        db.session.flush()
    w.pub = pub
    return pub


def running_publicity(w) -> Publicity:
    """A 公示 that accepts objections today (whatever today is)."""
    return open_publicity(w, start=today_local(), ends=today_local() + timedelta(days=7))


def ended_publicity(w) -> Publicity:
    return open_publicity(w, start=today_local() - timedelta(days=20), ends=today_local() - timedelta(days=1))
