"""Report schedule: periods from the term (monthly / quarterly, term edges, leap years), regeneration,
and the overdue definition the evaluation relies on."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from incubator.core.audit import AuditLog
from incubator.projects.reports import services
from incubator.projects.reports.models import ReportKind, ReportStatus
from incubator.projects.reports.services import ReportError, progress_periods
from tests.factories import make_user
from tests.projects.helpers import launch, staff_for
from tests.projects.reports.helpers import first_item, project_with_schedule

D = date


def _p(periods):
    return [(p.start, p.end, p.label) for p in periods]


def test_monthly_periods_are_calendar_months_and_the_last_is_left_to_the_final_report():
    periods = progress_periods(D(2026, 3, 1), D(2027, 2, 28), "monthly")
    assert len(periods) == 11
    assert _p(periods)[0] == (D(2026, 3, 1), D(2026, 3, 31), "2026年3月")
    assert _p(periods)[-1] == (D(2027, 1, 1), D(2027, 1, 31), "2027年1月")


def test_quarterly_periods():
    periods = progress_periods(D(2026, 3, 1), D(2027, 2, 28), "quarterly")
    assert _p(periods) == [
        (D(2026, 3, 1), D(2026, 6, 30), "2026年第1–2季度"),
        (D(2026, 7, 1), D(2026, 9, 30), "2026年第3季度"),
        (D(2026, 10, 1), D(2026, 12, 31), "2026年第4季度"),
    ]


def test_a_short_first_period_is_merged_into_the_next():
    periods = progress_periods(D(2026, 12, 20), D(2027, 6, 30), "monthly")
    assert _p(periods)[0] == (D(2026, 12, 20), D(2027, 1, 31), "2026年12月–2027年1月")
    periods = progress_periods(D(2026, 3, 17), D(2026, 8, 31), "monthly")  # 15 days: not merged
    assert _p(periods)[0] == (D(2026, 3, 17), D(2026, 3, 31), "2026年3月")


def test_leap_year_february_ends_on_the_29th():
    periods = progress_periods(D(2028, 1, 1), D(2028, 12, 31), "monthly")
    assert (D(2028, 2, 1), D(2028, 2, 29), "2028年2月") in _p(periods)
    periods = progress_periods(D(2027, 1, 1), D(2027, 12, 31), "monthly")
    assert (D(2027, 2, 1), D(2027, 2, 28), "2027年2月") in _p(periods)


def test_a_term_within_one_month_has_no_progress_reports():
    assert progress_periods(D(2026, 3, 1), D(2026, 3, 31), "monthly") == []
    assert progress_periods(D(2026, 3, 5), D(2026, 3, 5), "quarterly") == []


def test_term_ending_mid_month_keeps_a_partial_last_period_for_the_final_report():
    periods = progress_periods(D(2026, 3, 1), D(2026, 6, 15), "monthly")
    assert [p.end for p in periods] == [D(2026, 3, 31), D(2026, 4, 30), D(2026, 5, 31)]


def test_unknown_frequency_is_refused(db):
    project = launch()
    with pytest.raises(ReportError, match="频率"):
        services.generate_schedule(project, "weekly", by=staff_for(project.org))


def test_generate_schedule_monthly_with_midterm_and_final(db):
    project, staff, _ = project_with_schedule()
    items = services.schedule(project)
    kinds = [i.kind for i in items]
    assert kinds.count(ReportKind.PROGRESS) == 11
    assert kinds.count(ReportKind.MIDTERM) == 1 and kinds.count(ReportKind.FINAL) == 1
    first = items[0]
    assert (first.period_label, first.due_on, first.status) == ("2026年3月", D(2026, 4, 10), ReportStatus.DUE)
    mid = next(i for i in items if i.kind == ReportKind.MIDTERM)
    assert mid.due_on == D(2026, 3, 1) + timedelta(days=(D(2027, 2, 28) - D(2026, 3, 1)).days // 2)
    final = items[-1]
    assert final.kind == ReportKind.FINAL and final.due_on == D(2027, 3, 15)
    assert [i.due_on for i in items] == sorted(i.due_on for i in items)
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "report_schedule.generated"))


def test_quarterly_schedule(db):
    project, _, _ = project_with_schedule(frequency="quarterly")
    progress = [i for i in services.schedule(project) if i.kind == ReportKind.PROGRESS]
    assert [i.due_on for i in progress] == [D(2026, 7, 10), D(2026, 10, 10), D(2027, 1, 10)]


def test_regeneration_replaces_only_unsubmitted_items(db):
    project, staff, member = project_with_schedule()
    first = first_item(project)
    services.submit_report(first, by=member, text="三月开展助餐服务", people_served=120, activities_held=4,
                           on=D(2026, 4, 5))
    services.generate_schedule(project, "quarterly", by=staff)
    items = services.schedule(project)
    progress = [i for i in items if i.kind == ReportKind.PROGRESS]
    assert progress[0].id == first.id and progress[0].status == ReportStatus.SUBMITTED
    # the quarterly plan continues after the kept March report: Q1–Q2 (ends 6/30) is new, not March again
    assert [i.period_end for i in progress] == [D(2026, 3, 31), D(2026, 6, 30), D(2026, 9, 30), D(2026, 12, 31)]
    assert sum(i.kind == ReportKind.FINAL for i in items) == 1
    assert sum(i.kind == ReportKind.MIDTERM for i in items) == 1


def test_regeneration_does_not_duplicate_a_submitted_midterm(db):
    project, staff, member = project_with_schedule()
    mid = first_item(project, ReportKind.MIDTERM)
    services.submit_report(mid, by=member, text="中期报告", people_served=1, activities_held=1, on=mid.due_on)
    services.generate_schedule(project, "monthly", by=staff)
    assert sum(i.kind == ReportKind.MIDTERM for i in services.schedule(project)) == 1


def test_only_district_staff_generate(db):
    project = launch()
    from incubator.accounts.models import Role
    from tests.factories import make_district

    for user in (make_user(Role.STAFF, district=make_district(name="乙区", code="410399")),
                 make_user(Role.FINANCE), make_user(Role.APPLICANT, org=project.org), make_user(Role.EVALUATOR)):
        with pytest.raises(services.NotAllowed):
            services.generate_schedule(project, "monthly", by=user)


def test_closed_or_terminated_projects_keep_their_schedule(db):
    from incubator.projects import services as project_services

    project, staff, _ = project_with_schedule()
    project_services.terminate_project(project, by=staff, reason="违约")
    with pytest.raises(ReportError, match="结项或终止"):
        services.generate_schedule(project, "monthly", by=staff)


# ---------------------------------------------------------------- overdue

def test_overdue_definition(db):
    project, staff, member = project_with_schedule()
    march, april, may = [i for i in services.schedule(project) if i.kind == ReportKind.PROGRESS][:3]
    # 4/10 is March's due day: not overdue on it, overdue the day after
    assert services.overdue_count(project, on=D(2026, 4, 10)) == 0
    assert [i.id for i in services.overdue_reports(project, on=D(2026, 4, 11))] == [march.id]
    # submitted on time → never overdue, even when returned later
    services.submit_report(march, by=member, text="按时提交", people_served=1, activities_held=1, on=D(2026, 4, 10))
    services.return_report(march, by=staff, reason="缺少签到表")
    assert services.overdue_count(project, on=D(2026, 4, 20)) == 0
    # April submitted late: still overdue for the evaluation, and recorded as submitted_late
    services.submit_report(april, by=member, text="迟交", people_served=1, activities_held=1, on=D(2026, 5, 20))
    assert april.submitted_late is True and april.latest.late is True
    assert [i.id for i in services.overdue_reports(project, on=D(2026, 6, 1))] == [april.id]
    # May not submitted: overdue from 6/11
    assert services.overdue_count(project, on=D(2026, 6, 11)) == 2
    # a resubmission does not change the first-submission date
    services.submit_report(march, by=member, text="补充签到表", people_served=1, activities_held=1, on=D(2026, 6, 1))
    assert march.first_submitted_on == D(2026, 4, 10) and march.submitted_late is False
    assert services.overdue_count(project, on=D(2026, 6, 11)) == 2


def test_overdue_count_defaults_to_today(db):
    project, _, _ = project_with_schedule()
    from incubator.db import today_local

    assert services.overdue_count(project) == services.overdue_count(project, on=today_local())
    assert services.overdue_count(project) == len(services.overdue_reports(project))
