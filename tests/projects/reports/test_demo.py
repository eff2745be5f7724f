"""The demo seed brings a project's reports to a realistic state: accepted, one waiting, one overdue."""
from __future__ import annotations

from datetime import timedelta

from incubator.db import today_local
from incubator.projects.reports import demo, services
from incubator.projects.reports.models import ReportStatus
from tests.projects.helpers import launch, make_member, staff_for


def test_seed(db):
    today = today_local()
    project = launch(term_start=today - timedelta(days=200), term_end=today + timedelta(days=160))
    staff = staff_for(project.org)
    member = make_member(project.org)
    items = demo.seed(project, staff=staff, org_user=member)
    statuses = [i.status for i in items]
    assert statuses.count(ReportStatus.SUBMITTED) == 1
    assert statuses.count(ReportStatus.ACCEPTED) >= 3
    assert services.overdue_count(project) == 1
    waiting = next(i for i in items if i.status == ReportStatus.SUBMITTED)
    assert len(waiting.reports) == 2 and waiting.reports[0].return_reason


def test_seed_of_a_project_not_started(db):
    today = today_local()
    project = launch(term_start=today + timedelta(days=10), term_end=today + timedelta(days=300))
    items = demo.seed(project, staff=staff_for(project.org), org_user=None)
    assert items and all(i.status == ReportStatus.DUE for i in items)
