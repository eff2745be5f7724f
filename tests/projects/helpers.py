"""Factories of the project tests: funded applications, staff in scope, launched projects."""
from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from incubator.accounts.models import Role
from incubator.applications.models import ApplicationStatus
from incubator.extensions import db
from incubator.projects import services
from incubator.projects.models import TrancheCondition
from incubator.publicity.models import FundingItem, FundingList, FundingListStatus
from tests.applications.helpers import make_application, make_call, make_member, make_org, set_status
from tests.factories import make_user

_seq = itertools.count(1)
START = date(2026, 3, 1)
END = date(2027, 2, 28)  # exactly one year, inclusive
CONDITIONS_532 = [TrancheCondition.ON_SIGNING, TrancheCondition.ON_MIDTERM_PASS, TrancheCondition.ON_FINAL_ACCEPTANCE]
SHARES_532 = [Decimal(50), Decimal(30), Decimal(20)]


def funded_application(org=None, *, district=None, amount: str | None = "36000.00",
                       status: ApplicationStatus = ApplicationStatus.FUNDED):
    """An application of ``org`` with the given (forced) status, on a final funding list with ``amount``."""
    org = org or make_org(district=district)
    call = make_call(district=district)
    app = make_application(call, org)
    set_status(app, status, number=f"WCT-2026-{next(_seq):04d}")
    fl = FundingList(call_id=call.id, status=FundingListStatus.FINAL)
    db.session.add(fl)
    db.session.flush()
    db.session.add(FundingItem(list_id=fl.id, application_id=app.id, position=1,
                               amount=Decimal(amount) if amount else None))
    db.session.flush()
    return app


def staff_for(org, **kw):
    return make_user(Role.STAFF, district=org.district, **kw)


def launch(org=None, *, by=None, amount: str = "100000.00", **kw):
    org = org or make_org()
    by = by or staff_for(org)
    defaults = dict(title="社区居家养老服务项目", amount=Decimal(amount), term_start=START, term_end=END,
                    budget_line="社区服务专项资金", budget_year=2026, purchasing_department="洛阳市民政局",
                    service_content="为社区老人提供助餐、探访服务", quantity="服务老人200名", quality_standard="满意度≥90%")
    defaults.update(kw)
    return services.launch_purchase(org, by=by, **defaults)


def scheduled(amount: str = "100000.00", *, shares=None, conditions=None, **kw):
    """A launched project with a 50/30/20 schedule; returns (project, staff)."""
    project = launch(amount=amount, **kw)
    staff = kw.get("by") or staff_for(project.org)
    services.set_tranche_schedule(project, shares or SHARES_532, conditions or CONDITIONS_532, by=staff)
    return project, staff


__all__ = ["make_member", "make_org", "make_user", "Role"]
