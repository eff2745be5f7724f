"""The self-test PDF job against the REAL Redis and a REAL worker process.

Needs ``TEST_REDIS_URL`` (``make test`` starts a throwaway redis-server and a worker on the same
database and upload folder). Without a worker on the queue, the test starts its own
``flask --app incubator worker`` for the test's database. Skipped when TEST_REDIS_URL is not set.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from incubator.accounts.models import Role
from incubator.core import jobs
from incubator.core.jobs import Job, JobStatus
from tests.conftest import login_as
from tests.factories import make_user

REDIS_URL = os.environ.get("TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set: this test needs a real Redis and RQ worker "
                                             "(`make test` starts both)"),
]


@pytest.fixture()
def real_queue(app, db, monkeypatch, tmp_path):
    from rq import Worker

    saved = app.extensions.pop("incubator_redis", None)
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    conn = jobs.get_redis()
    conn.ping()
    process = None
    if not Worker.all(queue=jobs.get_queue()):
        env = {
            **os.environ,
            "INCUBATOR_ENV": "test",
            "SECRET_KEY": "integration-test",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_DIR": app.config["UPLOAD_DIR"],
            "INSTANCE_DIR": str(tmp_path / "worker-instance"),
            "REDIS_URL": REDIS_URL,
            "RQ_QUEUE": app.config["RQ_QUEUE"],
            "SELFTEST_STEP_SECONDS": "0.3",
        }
        log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "incubator", "worker", "--name", f"pytest-{uuid.uuid4().hex[:8]}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not Worker.all(queue=jobs.get_queue()):
            assert process.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.2)
    yield conn
    if process is not None:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    app.extensions.pop("incubator_redis", None)
    if saved is not None:
        app.extensions["incubator_redis"] = saved


def _wait_done(client, db, job_id: int, timeout: float = 90) -> list[int]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()  # see what the worker committed
        data = client.get(f"/jobs/{job_id}/status").get_json()
        seen.append(data["progress"])
        if data["done"]:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not done after {timeout} s: {seen[-5:]}")


def _pdf_text(data: bytes, tmp_path) -> str:
    f = tmp_path / "report.pdf"
    f.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(f), "-"], capture_output=True, text=True, check=True).stdout


def test_selftest_pdf_through_redis_and_a_worker_process(app, client, db, real_queue, tmp_path):
    user = make_user(Role.STAFF)
    db.session.commit()
    login_as(client, user)
    r = client.post("/jobs/selftest")
    assert r.status_code == 302
    job_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    progress = _wait_done(client, db, job_id)
    db.session.rollback()
    job = db.session.get(Job, job_id)
    assert job.status == JobStatus.FINISHED, job.error
    assert progress == sorted(progress)  # never goes backwards
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "已完成" in html and f'href="/jobs/{job_id}/download"' in html
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    text = _pdf_text(download.data, tmp_path)
    assert "系统自检报告" in text
    rows = {line.split()[1]: line for line in text.splitlines() if line.split()[:1] in (["1"], ["2"], ["3"], ["4"], ["5"])}
    for check in ("数据库", "队列服务（Redis）", "后台任务进程", "中文字体", "PDF"):
        assert check in rows and "正常" in rows[check], (check, text)  # the worker saw Redis and itself


def test_redis_down_then_requeue_command(app, client, db, real_queue, monkeypatch, tmp_path):
    user = make_user(Role.APPLICANT)
    db.session.commit()
    login_as(client, user)
    # Redis is unreachable when the user starts the job: the page still works and says so.
    real = app.extensions.pop("incubator_redis")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    r = client.post("/jobs/selftest", follow_redirects=True)
    assert r.status_code == 200 and "任务已排队，将在队列服务恢复后执行" in r.get_data(as_text=True)
    db.session.rollback()
    job = db.session.scalar(db.select(Job).where(Job.user_id == user.id))
    assert job.status == JobStatus.QUEUED
    # Redis is back: `flask --app incubator jobs requeue` queues it and the worker runs it.
    app.extensions["incubator_redis"] = real
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    result = app.test_cli_runner().invoke(args=["jobs", "requeue"])
    assert result.exit_code == 0 and "requeued 1 job(s)" in result.output, result.output
    _wait_done(client, db, job.id)
    db.session.rollback()
    assert db.session.get(Job, job.id).status == JobStatus.FINISHED
