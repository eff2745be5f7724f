"""Submission and review of reports: every transition and refusal, figures, versions kept, reminders."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.core.mail import OutgoingMail
from incubator.core.states import InvalidTransition, transition
from incubator.db import today_local, utcnow
from incubator.projects import services as project_services
from incubator.projects.reports import services
from incubator.projects.reports.models import ProgressReport, ReportDecision, ReportKind, ReportSchedule, ReportStatus
from incubator.projects.reports.services import ReportError
from tests.factories import make_district, make_user
from tests.projects.reports.helpers import first_item, project_with_schedule

D = date
OK = dict(text="本月开展助餐服务", people_served=120, activities_held=4)


def _submit(item, member, on=D(2026, 4, 5), **kw):
    return services.submit_report(item, by=member, on=on, **{**OK, **kw})


# one table-driven test of the state machine
@pytest.mark.parametrize("start, to, allowed", [
    (ReportStatus.DUE, ReportStatus.SUBMITTED, True),
    (ReportStatus.DUE, ReportStatus.ACCEPTED, False),
    (ReportStatus.DUE, ReportStatus.RETURNED, False),
    (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED, True),
    (ReportStatus.SUBMITTED, ReportStatus.RETURNED, True),
    (ReportStatus.SUBMITTED, ReportStatus.DUE, False),
    (ReportStatus.RETURNED, ReportStatus.SUBMITTED, True),
    (ReportStatus.RETURNED, ReportStatus.ACCEPTED, False),
    (ReportStatus.ACCEPTED, ReportStatus.SUBMITTED, False),
    (ReportStatus.ACCEPTED, ReportStatus.RETURNED, False),
])
def test_transition_table(db, start, to, allowed):
    project, staff, _ = project_with_schedule()
    item = first_item(project)
    item.status = start
    item.first_submitted_on = D(2026, 4, 1)
    db.session.flush()
    if allowed:
        transition(item, to, by=staff)
        assert item.status == to
    else:
        with pytest.raises(InvalidTransition):
            transition(item, to, by=staff)


def test_submit_accept(db):
    project, staff, member = project_with_schedule()
    item = first_item(project)
    report = _submit(item, member)
    assert item.status == ReportStatus.SUBMITTED and report.version == 1 and report.late is False
    assert (item.first_submitted_on, item.submitted_late) == (D(2026, 4, 5), False)
    services.accept_report(item, by=staff)
    assert item.status == ReportStatus.ACCEPTED and report.decision == ReportDecision.ACCEPTED
    assert report.reviewed_by_id == staff.id and item.accepted_on == today_local()
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"progress_report.submitted", "progress_report.accepted", "reportschedule.submitted",
            "reportschedule.accepted"} <= actions
    with pytest.raises(ReportError, match="不能提交"):
        _submit(item, member)
    with pytest.raises(ReportError, match="不能审核"):
        services.accept_report(item, by=staff)
    with pytest.raises(ReportError, match="不能退回"):
        services.return_report(item, by=staff, reason="再看看")


def test_return_and_resubmit_keeps_every_version(db):
    project, staff, member = project_with_schedule()
    item = first_item(project)
    _submit(item, member)
    with pytest.raises(ReportError, match="退回理由"):
        services.return_report(item, by=staff, reason="   ")
    services.return_report(item, by=staff, reason="缺少签到表")
    assert item.status == ReportStatus.RETURNED and item.latest.return_reason == "缺少签到表"
    with pytest.raises(ReportError, match="不能审核"):
        services.accept_report(item, by=staff)
    _submit(item, member, on=D(2026, 4, 20), text="补充了签到表", people_served=130)
    assert item.status == ReportStatus.SUBMITTED
    versions = db.session.scalars(select(ProgressReport).where(ProgressReport.schedule_id == item.id)
                                  .order_by(ProgressReport.version)).all()
    assert [(v.version, v.text, v.people_served, v.decision) for v in versions] == [
        (1, OK["text"], 120, ReportDecision.RETURNED), (2, "补充了签到表", 130, None)]
    assert versions[1].late is True  # after the 4/10 due date…
    assert item.submitted_late is False  # …but the first submission was on time
    services.accept_report(item, by=staff)
    assert item.status == ReportStatus.ACCEPTED


def test_only_org_members_submit(db):
    project, staff, member = project_with_schedule()
    item = first_item(project)
    other_org_member = make_user(Role.APPLICANT, org=None)
    for user in (staff, make_user(Role.FINANCE), make_user(Role.EVALUATOR), make_user(Role.ADMIN), other_org_member):
        with pytest.raises(services.NotAllowed):
            _submit(item, user)
    assert item.status == ReportStatus.DUE and not item.reports


def test_only_district_staff_review(db):
    project, staff, member = project_with_schedule()
    item = first_item(project)
    _submit(item, member)
    other = make_user(Role.STAFF, district=make_district(name="乙区", code="410388"))
    for user in (member, other, make_user(Role.FINANCE), make_user(Role.EVALUATOR)):
        with pytest.raises(services.NotAllowed):
            services.accept_report(item, by=user)
        with pytest.raises(services.NotAllowed):
            services.return_report(item, by=user, reason="x")
    city = make_user(Role.STAFF)
    services.accept_report(item, by=city)


@pytest.mark.parametrize("field, value, message", [
    ("people_served", -1, "不能为负数"),
    ("people_served", "-1", "整数"),
    ("people_served", "1.5", "整数"),
    ("people_served", "１２３", "整数"),
    ("people_served", "1e309", "整数"),
    ("people_served", "NaN", "整数"),
    ("people_served", 10_000_001, "不能超过"),
    ("people_served", "9" * 20, "不能超过"),
    ("activities_held", None, "请填写"),
    ("activities_held", True, "请填写"),
    ("activities_held", 2.0, "整数"),
    ("text", "   ", "正文"),
    ("text", "字" * 20_001, "不能超过"),
])
def test_bad_figures_and_text_are_refused(db, field, value, message):
    project, staff, member = project_with_schedule()
    item = first_item(project)
    with pytest.raises(ReportError, match=message):
        _submit(item, member, **{field: value})
    assert item.status == ReportStatus.DUE


def test_zero_is_a_valid_figure(db):
    project, staff, member = project_with_schedule()
    report = _submit(first_item(project), member, people_served=0, activities_held="0")
    assert (report.people_served, report.activities_held) == (0, 0)


def test_not_before_the_period_nor_on_a_terminated_project(db):
    project, staff, member = project_with_schedule()
    item = first_item(project)
    with pytest.raises(ReportError, match="尚未开始"):
        _submit(item, member, on=D(2026, 2, 27))
    project_services.terminate_project(project, by=staff, reason="违约")
    with pytest.raises(ReportError, match="已终止"):
        _submit(item, member)


def test_database_refuses_negative_figures(db):
    from sqlalchemy.exc import IntegrityError

    project, staff, member = project_with_schedule()
    report = _submit(first_item(project), member)
    report.people_served = -5
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# ---------------------------------------------------------------- desk

def test_desk_items(db):
    from flask import current_app

    today = today_local()
    project, staff, member = project_with_schedule(term_start=today + timedelta(days=1),
                                                   term_end=today + timedelta(days=300))
    items = services.schedule(project)
    # make the first item overdue (due three days ago) and the second submitted
    items[0].due_on = today - timedelta(days=3)
    services.submit_report(items[1], by=member, on=items[1].period_start, **OK)
    with current_app.test_request_context():
        desk = services.desk_items(staff)
        other = services.desk_items(make_user(Role.STAFF, district=make_district(name="乙区", code="410377")))
        assert services.desk_items(member) == [] and services.desk_items(make_user(Role.FINANCE)) == []
    overdue = [d for d in desk if d.overdue]
    assert any("逾期未交" in d.title and d.note == "逾期3天" for d in overdue)
    assert any("待审核" in d.title and not d.overdue for d in desk)
    assert all(d.area == "进度报告" for d in desk)
    assert other == []


# ---------------------------------------------------------------- reminders

def test_reminder_job_mails_members_once(db, run_jobs):
    from incubator.projects.reports.jobs import queue_reminders

    today = today_local()
    project, staff, member = project_with_schedule(term_start=today + timedelta(days=1),
                                                   term_end=today + timedelta(days=300))
    second = make_user(Role.APPLICANT, org=project.org)
    items = services.schedule(project)
    items[0].due_on = today - timedelta(days=2)  # overdue
    items[1].due_on = today + timedelta(days=3)  # due within 3 days
    items[2].due_on = today + timedelta(days=4)  # not yet
    db.session.flush()
    queue_reminders()
    run_jobs()
    mails = db.session.scalars(select(OutgoingMail)).all()
    assert sorted(m.to for m in mails) == sorted([member.email, second.email] * 2)
    assert any("已逾期2天" in m.subject for m in mails) and any("还有3天到期" in m.subject for m in mails)
    assert db.session.get(ReportSchedule, items[0].id).reminder_sent_at is not None
    assert db.session.get(ReportSchedule, items[2].id).reminder_sent_at is None
    # run twice: nothing new
    queue_reminders()
    run_jobs()
    assert db.session.scalar(select(func.count(OutgoingMail.id))) == 4
    # a week later the overdue item is reminded again
    db.session.get(ReportSchedule, items[0].id).reminder_sent_at = utcnow() - timedelta(days=8)
    queue_reminders()
    run_jobs()
    assert db.session.scalar(select(func.count(OutgoingMail.id))) == 6


def test_reminders_skip_submitted_items_and_closed_projects(db, run_jobs):
    from incubator.projects.reports.jobs import send_report_reminders

    today = today_local()
    project, staff, member = project_with_schedule(term_start=today + timedelta(days=1),
                                                   term_end=today + timedelta(days=300))
    items = services.schedule(project)
    items[0].due_on = today - timedelta(days=2)
    services.submit_report(items[0], by=member, on=items[0].period_start, **OK)
    assert send_report_reminders(today.isoformat()) == 0
    project_services.terminate_project(project, by=staff, reason="违约")
    items[1].due_on = today
    db.session.flush()
    assert send_report_reminders(today.isoformat()) == 0


def test_cli_queues_the_job(app, db):
    from incubator.core.jobs import Job

    result = app.test_cli_runner().invoke(args=["reports", "remind"])
    assert result.exit_code == 0, result.output
    assert "报告提醒" in result.output or "reminder job queued" in result.output
    assert db.session.scalar(select(Job).where(Job.kind == "report_remind")) is not None
