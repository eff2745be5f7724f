"""Factories of the reports tests: a launched project of district A's organisation with its schedule."""
from __future__ import annotations

from datetime import date

from incubator.accounts.models import Role
from incubator.projects.reports import services
from tests.factories import make_user
from tests.projects.helpers import launch, staff_for


def project_with_schedule(org=None, *, frequency="monthly", **kw):
    """(project, staff, member): a launched project 2026-03-01 … 2027-02-28 with a generated schedule."""
    project = launch(org, **kw)
    staff = kw.get("by") or staff_for(project.org)
    member = make_user(Role.APPLICANT, org=project.org)
    services.generate_schedule(project, frequency, by=staff)
    return project, staff, member


def first_item(project, kind="progress"):
    return next(i for i in services.schedule(project) if i.kind == kind)


D = date
