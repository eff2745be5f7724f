"""End to end: a project terminated with debarment → the organisation's next application is refused with the
禁入期 reason (through the applications' own start and submit services, which call check_eligibility)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from incubator.accounts.models import Role
from incubator.applications import services as app_services
from incubator.applications.models import ApplicationStatus
from incubator.db import today_local
from incubator.orgs.rules import add_months
from incubator.projects import services as project_services
from incubator.projects.exits import services
from incubator.projects.models import TrancheCondition
from tests.applications.helpers import make_application, make_call, make_member, make_org
from tests.factories import make_user
from tests.projects.exits.helpers import pay
from tests.projects.helpers import CONDITIONS_532, SHARES_532, launch, staff_for


def _cn(d):
    return f"{d.year}年{d.month}月{d.day}日"


def _project_of(org):
    staff = staff_for(org)
    project = launch(org, by=staff)
    project_services.set_tranche_schedule(project, SHARES_532, CONDITIONS_532, by=staff)
    project_services.mark_condition_met(project, TrancheCondition.ON_SIGNING, by=staff)
    pay(project.tranches[0], staff, make_user(Role.FINANCE))
    return project, staff


def test_debarred_organisation_cannot_submit_its_next_application(db):
    org = make_org()
    member = make_member(org)
    project, staff = _project_of(org)
    draft = make_application(make_call(), org, by=member)  # started while still eligible
    project_services.record_midterm_failed(project, by=staff)
    t = services.terminate(project, reason_kind="failed_evaluation", detail="中期评估得分52分，结论为不合格",
                           by=staff)
    assert t.debar and t.debar_until == add_months(today_local(), 36)

    with pytest.raises(app_services.SubmissionRefused) as exc:
        app_services.submit(draft, by=member)
    messages = [p.message for p in exc.value.problems]
    debarment = [m for m in messages if "禁入期" in m]
    assert len(debarment) == 1, messages
    message = debarment[0]
    assert message.startswith("组织不符合申报条件：处于禁入期内")
    assert f"{_cn(today_local())}起至{_cn(t.debar_until)}" in message
    assert project.number in message and "评估不合格" in message and "中期评估得分52分" in message
    assert draft.status == ApplicationStatus.DRAFT

    with pytest.raises(app_services.CannotStart) as exc:  # a new draft for another call: refused at once
        app_services.start_application(make_call(), org=org, by=member)
    assert any("处于禁入期内" in r and project.number in r for r in exc.value.reasons)


def test_a_termination_without_debarment_leaves_the_organisation_eligible(db):
    org = make_org()
    member = make_member(org)
    project, staff = _project_of(org)
    draft = make_application(make_call(), org, by=member)
    services.terminate(project, reason_kind="force_majeure", detail="服务场地因地震受损", by=staff)
    app_services.submit(draft, by=member)
    assert draft.status == ApplicationStatus.SUBMITTED


def test_the_debarment_ends_after_its_years(db):
    from incubator.orgs.eligibility import check_eligibility

    org = make_org()
    project, staff = _project_of(org)
    t = services.terminate(project, reason_kind="breach", detail="擅自转包服务", debar_years=1, by=staff)
    assert not check_eligibility(org, on=t.debar_until).ok
    later = check_eligibility(org, on=t.debar_until + timedelta(days=1))
    assert not any("禁入期" in r for r in later.reasons)
