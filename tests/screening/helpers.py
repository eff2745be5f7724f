"""Factories of the screening tests: submitted applications built directly from the models.

``make_submitted(org, call)`` makes an application as the applications domain leaves it after a
submission (number, status, submitted_at, one ApplicationVersion snapshot) without running the
submission checks, so tests can put applications of any organisation (eligible or not) in the queue.
"""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from werkzeug.datastructures import MultiDict

from incubator.accounts.models import Role
from incubator.applications import services as app_services
from incubator.applications.forms import parse_draft
from incubator.applications.models import Application, ApplicationStatus, ApplicationVersion
from incubator.db import utcnow
from incubator.extensions import db
from tests.applications.helpers import form_data, make_call, make_org  # noqa: F401  (re-exported)
from tests.factories import make_user

_seq = itertools.count(1)


def make_member(org, **kw):
    return make_user(Role.APPLICANT, org=org, is_org_admin=kw.pop("is_org_admin", True), **kw)


def make_submitted(
    org,
    call=None,
    *,
    by=None,
    status: ApplicationStatus = ApplicationStatus.SUBMITTED,
    number: str | None = None,
    complete: bool = True,
    minutes_ago: int = 0,
    **form_overrides,
) -> Application:
    """An application of ``org`` in ``status`` with one submitted version (no checks run)."""
    call = call or make_call()
    by = by or make_member(org)
    app = Application(org=org, call=call, created_by_id=by.id, status=ApplicationStatus.DRAFT)
    db.session.add(app)
    db.session.flush()
    if complete:
        data = form_data(call, bank_account_name=org.name, **form_overrides)
        app_services.save_draft(app, draft=parse_draft(MultiDict(data), call), by=by)
    n = next(_seq)
    app.number = number or f"WCT-2026-{9000 + n}"  # far from the numbers real submissions get
    when = utcnow() - timedelta(minutes=minutes_ago)
    app.submitted_at = app.last_submitted_at = when
    app.status = ApplicationStatus.SUBMITTED
    db.session.flush()
    db.session.add(
        ApplicationVersion(
            application=app, number=1, status=ApplicationStatus.SUBMITTED, data=app.snapshot(), submitted_at=when,
            submitted_by_id=by.id,
        )
    )
    if status != ApplicationStatus.SUBMITTED:
        app.status = status
    db.session.flush()
    return app


def bulk_submitted(org, call, count: int, *, by=None, status=ApplicationStatus.SUBMITTED, grant=Decimal("36000.00")):
    """Many small applications quickly (for page-size and query-count tests)."""
    by = by or make_member(org)
    now = utcnow()
    apps = []
    for i in range(count):
        n = next(_seq)
        app = Application(
            org=org, call=call, created_by_id=by.id, status=status, number=f"BLK-2026-{n:05d}", title=f"批量测试项目{n}",
            submitted_at=now - timedelta(minutes=i), last_submitted_at=now - timedelta(minutes=i),
            grant_requested=grant, matching_amount=Decimal("24000.00"), total_budget=grant + Decimal("24000.00"),
        )
        db.session.add(app)
        apps.append(app)
    db.session.flush()
    for app in apps:
        db.session.add(ApplicationVersion(application=app, number=1, status=ApplicationStatus.SUBMITTED, data={}, submitted_by_id=by.id))
    db.session.flush()
    return apps


def staff(district=None, **kw):
    return make_user(Role.STAFF, district=district, **kw)


def admin(**kw):
    return make_user(Role.ADMIN, **kw)
