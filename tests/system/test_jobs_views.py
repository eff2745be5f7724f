"""Job pages: list (mine / admin all), detail with progress, JSON status, download, self-test job."""
from __future__ import annotations

import re
import subprocess

import pytest

from incubator.accounts.models import Role
from incubator.core.files import save_generated
from incubator.core.jobs import Job, JobStatus, enqueue_after_commit, start_job
from tests.conftest import login_as
from tests.core import jobfuncs
from tests.factories import make_user


@pytest.fixture()
def people(db):
    return {"owner": make_user(Role.APPLICANT), "other": make_user(Role.APPLICANT), "admin": make_user(Role.ADMIN)}


def _job(user, **kw) -> Job:
    job = start_job(jobfuncs.record_call, 1, 2, title=kw.pop("title", "测试任务"), user=user)
    for k, v in kw.items():
        setattr(job, k, v)
    return job


def test_list_shows_only_my_jobs(client, db, people):
    _job(people["owner"], title="我的报表")
    _job(people["other"], title="别人的报表")
    db.session.commit()
    login_as(client, people["owner"])
    html = client.get("/jobs").get_data(as_text=True)
    assert "我的报表" in html and "别人的报表" not in html
    assert "排队中" in html and "<progress" in html


def test_admin_sees_all_user_jobs_and_system_jobs_separately(client, db, people):
    _job(people["owner"], title="甲的报表")
    _job(people["other"], title="乙的报表")
    enqueue_after_commit(jobfuncs.plain_task, 1, title="发送邮件")
    db.session.commit()
    login_as(client, people["admin"])
    html = client.get("/jobs").get_data(as_text=True)
    assert "甲的报表" in html and "乙的报表" in html and "发送邮件" not in html
    html = client.get("/jobs?scope=system").get_data(as_text=True)
    assert "发送邮件" in html and "甲的报表" not in html
    # A non-admin asking for everything still gets only their own.
    login_as(client, people["other"])
    html = client.get("/jobs?scope=all").get_data(as_text=True)
    assert "乙的报表" in html and "甲的报表" not in html


def test_list_filters_by_status_and_query_count_is_flat(client, db, people, app):
    from sqlalchemy import event

    for i in range(3):
        _job(people["owner"], title=f"任务{i}", status=JobStatus.FINISHED)
    db.session.commit()
    login_as(client, people["admin"])

    def count_queries(url):
        n = [0]

        def hook(*a, **k):
            n[0] += 1

        db.session.expire_all()  # same starting point for both requests
        event.listen(db.engine, "before_cursor_execute", hook)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", hook)
        return n[0]

    few = count_queries("/jobs")
    for i in range(15):
        _job(make_user(Role.APPLICANT), title=f"更多{i}")
    db.session.commit()
    assert count_queries("/jobs") == few
    html = client.get("/jobs?status=finished").get_data(as_text=True)
    assert "任务0" in html and "更多1" not in html


def test_detail_and_status_json(client, db, people):
    job = _job(people["owner"], progress=40, message="排版生成PDF", status=JobStatus.RUNNING)
    db.session.commit()
    login_as(client, people["owner"])
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "进行中" in html and "排版生成PDF" in html and 'value="40"' in html
    assert "<script>" not in html.split("</main>")[0]  # no inline script (CSP)
    assert re.search(r'<script src="[^"]*/static/js/jobs.js"', html)
    data = client.get(f"/jobs/{job.id}/status").get_json()
    assert data == {"id": job.id, "status": "running", "status_label": "进行中", "tone": "primary", "progress": 40,
                    "message": "排版生成PDF", "done": False, "download_url": None, "error": None}


def test_other_users_get_404(client, db, people):
    job = _job(people["owner"])
    db.session.commit()
    login_as(client, people["other"])
    for url in (f"/jobs/{job.id}", f"/jobs/{job.id}/status", f"/jobs/{job.id}/download", "/jobs/999999", "/jobs/0"):
        assert client.get(url).status_code == 404, url


def test_failed_job_shows_message_and_admin_sees_error(client, db, people):
    job = _job(people["owner"], status=JobStatus.FAILED, message="任务失败：预算超出上限", error="ValueError: 预算超出上限\nTraceback…")
    db.session.commit()
    login_as(client, people["owner"])
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "任务未能完成" in html and "任务失败：预算超出上限" in html and "Traceback" not in html
    assert client.get(f"/jobs/{job.id}/status").get_json()["error"] is None
    login_as(client, people["admin"])
    assert "Traceback" in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Traceback" in client.get(f"/jobs/{job.id}/status").get_json()["error"]


def test_download_only_when_finished_with_a_result(client, db, people):
    job = _job(people["owner"])
    db.session.commit()
    login_as(client, people["owner"])
    assert client.get(f"/jobs/{job.id}/download").status_code == 404
    sf = save_generated(b"%PDF-1.4 result", filename="结果.pdf", content_type="application/pdf")
    job.result_file_id = sf.id
    job.status = JobStatus.FINISHED
    db.session.commit()
    r = client.get(f"/jobs/{job.id}/download")
    assert r.status_code == 200 and r.data == b"%PDF-1.4 result"
    assert r.headers["Content-Disposition"].startswith("attachment") and r.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/jobs/{job.id}/status").get_json()["download_url"] == f"/jobs/{job.id}/download"


def test_queued_job_page_says_when_the_queue_is_unavailable(client, db, people, app, monkeypatch):
    job = _job(people["owner"])
    db.session.commit()
    login_as(client, people["owner"])
    # fakeredis is up but no worker runs: the user is told the job waits.
    assert "任务已排队，将在队列服务恢复后执行" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_selftest_job_end_to_end_with_simple_worker(client, db, people, run_jobs, tmp_path):
    login_as(client, people["owner"])
    r = client.post("/jobs/selftest")
    assert r.status_code == 302
    job = db.session.scalar(db.select(Job).where(Job.kind == "selftest"))
    assert r.headers["Location"].endswith(f"/jobs/{job.id}")
    assert job.title == "系统自检报告" and job.user_id == people["owner"].id
    # A second click while it waits does not start another one.
    r = client.post("/jobs/selftest", follow_redirects=True)
    assert "尚未完成" in r.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 1
    run_jobs()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.FINISHED, job.error
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "已完成" in html and f"/jobs/{job.id}/download" in html
    pdf = client.get(f"/jobs/{job.id}/download").data
    (tmp_path / "r.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "系统自检报告" in text and "数据库" in text
