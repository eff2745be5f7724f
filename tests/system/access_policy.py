"""Access policy of the system pages (jobs, developer outbox, working-day calendar).

The outbox is declared for ENV_NAME=test (admins only). In development anyone may open it (demo
reset links) and in any other environment it does not exist: tests/system/test_outbox.py checks both.
"""
from __future__ import annotations

import datetime as dt

from tests.access import DENY, LOGIN, OK, Rule

ANYONE_LOGGED_IN = {"anonymous": LOGIN}


def _job_of_applicant_a(w) -> None:
    from incubator.core.files import save_generated
    from incubator.core.jobs import Job, JobStatus
    from incubator.extensions import db

    sf = save_generated(b"%PDF-1.4\n%%EOF\n", filename="报告.pdf", content_type="application/pdf", by=w.applicant_a)
    job = Job(kind="selftest", title="系统自检报告", status=JobStatus.FINISHED, progress=100, message="已完成",
              user_id=w.applicant_a.id, result_file_id=sf.id, func="incubator.system.jobs:selftest_report", args=[],
              passes_job=True, retries=0, attempts=1)
    db.session.add(job)
    db.session.flush()
    w.job = job


def _override(w) -> None:
    from incubator.core.workdays import WorkdayOverride
    from incubator.extensions import db

    w.override = WorkdayOverride(date=dt.date(2030, 1, 2), is_workday=False, note="测试")
    db.session.add(w.override)
    db.session.flush()


def _defined_year(w) -> None:
    from incubator.core.workdays import CalendarYear
    from incubator.extensions import db

    db.session.add(CalendarYear(year=2031, note="测试"))
    db.session.flush()


OWNER_AND_ADMIN = {"applicant_a": OK, "admin": OK}

RULES = [
    Rule("system.jobs", "GET", lambda w: "/jobs", others=OK, allow=ANYONE_LOGGED_IN),
    Rule("system.selftest", "POST", lambda w: "/jobs/selftest", others=OK, allow=ANYONE_LOGGED_IN),
    Rule("system.job", "GET", lambda w: f"/jobs/{w.job.id}", allow=OWNER_AND_ADMIN, setup=_job_of_applicant_a),
    Rule("system.job_status", "GET", lambda w: f"/jobs/{w.job.id}/status", allow=OWNER_AND_ADMIN, setup=_job_of_applicant_a),
    Rule("system.job_download", "GET", lambda w: f"/jobs/{w.job.id}/download", allow=OWNER_AND_ADMIN, setup=_job_of_applicant_a),
    Rule("system.outbox", "GET", lambda w: "/dev/outbox", allow={"admin": OK}),
    Rule("system.workdays", "GET", lambda w: "/system/workdays?year=2030", allow={"admin": OK}),
    Rule("system.workday_add", "POST", lambda w: "/system/workdays?year=2030", allow={"admin": OK},
         data=lambda w: {"day": "2030-02-02", "kind": "workday", "note": "春节调休上班"}),
    Rule("system.workday_delete", "POST", lambda w: f"/system/workdays/{w.override.id}/delete", allow={"admin": OK}, setup=_override),
    Rule("system.workday_year_define", "POST", lambda w: "/system/workdays/years/2032/define", allow={"admin": OK}),
    Rule("system.workday_year_undefine", "POST", lambda w: "/system/workdays/years/2031/undefine", allow={"admin": OK},
         setup=_defined_year),
]
