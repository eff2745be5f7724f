"""Who may reach each reports route (tests/test_access.py walks these).

The project belongs to district A's organisation. Viewing (the tab, a report, its files): its members,
district A and city staff, finance (read-only) and admins; district B staff, the other organisation,
experts and evaluators get 404. Generating the schedule and reviewing: district A and city staff (others
403/404). Submitting: members of the organisation only. The staff list: staff and admins.
"""
from __future__ import annotations

from datetime import timedelta

from tests.access import DENY, LOGIN, OK, Rule

VIEW = {"applicant_a": OK, "staff_a": OK, "staff_city": OK, "finance": OK, "admin": OK}
MANAGE = {"staff_a": OK, "staff_city": OK}
MEMBER = {"applicant_a": OK}
STAFF = {"staff_a": OK, "staff_b": OK, "staff_city": OK, "admin": OK}


def _project(w):
    from incubator.db import today_local
    from incubator.projects.reports import services
    from tests.core.helpers import png, upload
    from tests.projects.helpers import launch

    today = today_local()
    w.project = launch(w.org_a, by=w.staff_a, term_start=today - timedelta(days=60),
                       term_end=today + timedelta(days=300))
    services.generate_schedule(w.project, "monthly", by=w.staff_a)
    items = services.schedule(w.project)
    w.submitted, w.due = items[0], items[1]
    report = services.submit_report(w.submitted, by=w.applicant_a, text="本月服务老人", people_served=10,
                                    activities_held=2, photos=[upload(png(), "活动.png")])
    w.file_link = report.files[0]


RULES = [
    Rule("reports.project_reports", "GET", lambda w: f"/projects/{w.project.id}/reports", allow=VIEW, setup=_project),
    Rule("reports.project_reports", "GET", lambda w: "/projects/99999999999/reports", allow={}, others=DENY),
    Rule("reports.generate_schedule", "POST", lambda w: f"/projects/{w.project.id}/reports/schedule", allow=MANAGE,
         setup=_project, data=lambda w: {"frequency": "quarterly"}),
    Rule("reports.submit_report", "GET", lambda w: f"/projects/{w.project.id}/reports/{w.due.id}/submit",
         allow=MEMBER, setup=_project),
    Rule("reports.submit_report", "POST", lambda w: f"/projects/{w.project.id}/reports/{w.due.id}/submit",
         allow=MEMBER, setup=_project,
         data=lambda w: {"text": "四月服务", "people_served": "20", "activities_held": "3", "status": "accepted"}),
    Rule("reports.report_detail", "GET", lambda w: f"/projects/{w.project.id}/reports/{w.submitted.id}",
         allow=VIEW, setup=_project),
    Rule("reports.report_detail", "GET", lambda w: f"/projects/{w.project.id}/reports/0", allow={"anonymous": LOGIN}, others=DENY,
         setup=_project),
    Rule("reports.accept_report", "POST", lambda w: f"/projects/{w.project.id}/reports/{w.submitted.id}/accept",
         allow=MANAGE, setup=_project),
    Rule("reports.return_report", "POST", lambda w: f"/projects/{w.project.id}/reports/{w.submitted.id}/return",
         allow=MANAGE, setup=_project, data=lambda w: {"reason": "缺少签到表"}),
    Rule("reports.report_file", "GET", lambda w: f"/projects/{w.project.id}/reports/files/{w.file_link.id}",
         allow=VIEW, setup=_project),
    Rule("reports.staff_reports", "GET", lambda w: "/staff/reports", allow=STAFF, setup=_project),
    Rule("reports.staff_reports", "GET", lambda w: "/staff/reports?state=open_overdue&q=%27+OR+1%3D1--&page=-1",
         allow=STAFF, setup=_project),
]
