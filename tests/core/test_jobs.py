"""Jobs: queued only after commit, idempotent, progress, failure and retry, Redis outages."""
from __future__ import annotations

import pytest
from flask import get_flashed_messages

from incubator.accounts.models import Role
from incubator.core import jobs
from incubator.core.files import save_generated
from incubator.core.jobs import Job, JobStatus, attach_result, enqueue_after_commit, report_progress, start_job
from tests.core import jobfuncs
from tests.factories import make_user


@pytest.fixture(autouse=True)
def _reset_calls():
    jobfuncs.reset()
    yield
    jobfuncs.reset()


@pytest.fixture()
def user(db):
    return make_user(Role.APPLICANT)


def queued_count() -> int:
    return jobs.get_queue().count


@pytest.fixture()
def redis_down(app, monkeypatch):
    """Point the app at a closed port (Redis down) until the test ends."""
    saved = app.extensions.pop("incubator_redis", None)
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    yield
    app.extensions.pop("incubator_redis", None)
    if saved is not None:
        app.extensions["incubator_redis"] = saved


def test_queued_only_after_commit(db, run_jobs, user):
    job = start_job(jobfuncs.record_call, 1, "二", title="测试任务", user=user)
    assert job.id and job.status == JobStatus.QUEUED and job.kind == "record_call"
    assert queued_count() == 0  # not before the commit
    db.session.commit()
    assert queued_count() == 1
    run_jobs()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.FINISHED and job.progress == 100
    assert job.started_at and job.finished_at and job.attempts == 1
    assert jobfuncs.CALLS == [("record_call", job.id, 1, "二")]


def test_nothing_is_queued_when_the_transaction_rolls_back(db, run_jobs, user):
    start_job(jobfuncs.record_call, 1, 2, title="测试任务", user=user)
    db.session.rollback()
    db.session.commit()  # a later commit must not queue the rolled-back job either
    assert queued_count() == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 0
    run_jobs()
    assert jobfuncs.CALLS == []


def test_a_job_runs_once_even_if_queued_twice(db, run_jobs, user):
    job = start_job(jobfuncs.record_call, 1, 2, title="测试任务", user=user)
    db.session.commit()
    jobs._push(job.id, 0)  # a duplicate delivery (requeue race, Redis replay…)
    run_jobs()
    assert len(jobfuncs.CALLS) == 1
    # And a finished job run again directly is skipped.
    jobs.run_job(job.id)
    assert len(jobfuncs.CALLS) == 1


def test_missing_job_row_is_skipped(db, run_jobs):
    jobs.run_job(424242)  # rolled back in a savepoint, or deleted: nothing happens


def test_progress_is_committed_while_running(db, run_jobs, user):
    job = start_job(jobfuncs.record_call, 1, 2, title="测试任务", user=user)
    db.session.commit()
    report_progress(job, 150, "x" * 600)
    assert job.progress == 100 and len(job.message) == 500
    report_progress(job, -5, "开始")
    db.session.expire_all()
    assert db.session.get(Job, job.id).progress == 0


def test_attach_result(db, run_jobs, user):
    job = start_job(jobfuncs.record_call, 1, 2, title="测试任务", user=user)
    sf = save_generated(b"%PDF-1.4", filename="r.pdf", content_type="application/pdf")
    attach_result(job, sf)
    db.session.commit()
    assert db.session.get(Job, job.id).result_file.id == sf.id


def test_failure_with_a_chinese_message_is_shown_to_the_user(db, run_jobs, user):
    job = start_job(jobfuncs.fail_in_chinese, title="会失败的任务", user=user, retries=0)
    run_jobs()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.FAILED and job.finished_at
    assert job.message == "任务失败：预算超出上限"
    assert "ValueError: 预算超出上限" in job.error


def test_failure_with_a_technical_message_shows_a_generic_one(db, run_jobs, user):
    job = start_job(jobfuncs.fail_in_english, title="会失败的任务", user=user, retries=0)
    run_jobs()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.FAILED
    assert job.message == "任务执行失败，请稍后重试或联系管理员。"
    assert "0xdeadbeef" not in job.message and "0xdeadbeef" in job.error


def test_rq_retry_runs_a_failed_job_again(db, run_jobs, user):
    jobfuncs.FAIL_TIMES["n"] = 1
    job = start_job(jobfuncs.flaky, title="偶尔失败", user=user, retries=2)
    run_jobs()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.FINISHED
    assert job.attempts == 2 and len(jobfuncs.CALLS) == 2


def test_retries_exhausted_means_failed(db, run_jobs, user):
    jobfuncs.FAIL_TIMES["n"] = 5
    job = start_job(jobfuncs.flaky, title="一直失败", user=user, retries=1)
    run_jobs()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.FAILED and job.attempts == 2


def test_enqueue_after_commit_runs_a_plain_function(db, run_jobs):
    row = enqueue_after_commit(jobfuncs.plain_task, 7)
    assert row.passes_job is False and row.user_id is None and row.is_system
    run_jobs()
    assert jobfuncs.CALLS == [("plain_task", 7)]
    assert db.session.get(Job, row.id).status == JobStatus.FINISHED


def test_only_module_level_functions_and_json_arguments(db, user):
    def local(job):
        pass

    with pytest.raises(TypeError):
        start_job(local, title="x", user=user)
    with pytest.raises(TypeError):
        start_job(jobfuncs.record_call, object(), 1, title="x", user=user)


def test_redis_down_keeps_the_job_waiting_and_tells_the_user(app, db, run_jobs, user, redis_down):
    with app.test_request_context("/"):
        job = start_job(jobfuncs.record_call, 1, 2, title="测试任务", user=user)
        db.session.commit()  # Redis is unreachable: the commit still succeeds
        assert get_flashed_messages() == [jobs.REDIS_DOWN_NOTICE]
    assert db.session.get(Job, job.id).status == JobStatus.QUEUED
    assert jobs.queue_health()["redis"] == "down"
    with pytest.raises(Exception):
        jobs.requeue_waiting()  # still down: says so instead of pretending


def test_requeue_waiting_after_redis_returns(app, db, run_jobs, user, monkeypatch):
    fake = jobs.get_redis()
    app.extensions.pop("incubator_redis")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    job = start_job(jobfuncs.record_call, 1, 2, title="测试任务", user=user)
    db.session.commit()
    # Redis is back.
    app.extensions["incubator_redis"] = fake
    assert queued_count() == 0
    assert jobs.requeue_waiting() == 1
    assert jobs.requeue_waiting() == 0  # already in Redis: not pushed twice
    run_jobs()
    assert db.session.get(Job, job.id).status == JobStatus.FINISHED
    assert len(jobfuncs.CALLS) == 1


def test_requeue_picks_up_a_job_whose_worker_died(db, run_jobs, user):
    job = start_job(jobfuncs.record_call, 1, 2, title="测试任务", user=user)
    db.session.commit()
    jobs.get_redis().flushall()  # Redis restarted without persistence…
    job.status = JobStatus.RUNNING  # …while a worker that then died had claimed it
    job.attempts = 1
    db.session.commit()
    assert jobs.requeue_waiting() == 1
    assert db.session.get(Job, job.id).message == "执行中断，已重新排队"
    run_jobs()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.FINISHED and job.attempts == 2


def test_requeue_gives_up_after_many_starts(db, run_jobs, user):
    job = start_job(jobfuncs.record_call, 1, 2, title="测试任务", user=user)
    db.session.commit()
    jobs.get_redis().flushall()
    job.attempts = jobs.MAX_STARTS
    db.session.commit()
    assert jobs.requeue_waiting() == 0
    assert db.session.get(Job, job.id).status == JobStatus.FAILED


def test_jobs_sync_runs_inline_after_commit(app, db, user, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_SYNC", True)
    job = start_job(jobfuncs.record_call, 3, 4, title="同步执行", user=user)
    assert jobfuncs.CALLS == []
    db.session.commit()
    assert jobfuncs.CALLS == [("record_call", job.id, 3, 4)]
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == JobStatus.FINISHED


def test_can_view(db, user):
    from flask_login import AnonymousUserMixin

    other = make_user(Role.APPLICANT)
    admin = make_user(Role.ADMIN)
    job = start_job(jobfuncs.record_call, 1, 2, title="测试任务", user=user)
    assert job.can_view(user) and job.can_view(admin)
    assert not job.can_view(other) and not job.can_view(AnonymousUserMixin()) and not job.can_view(None)
    system = enqueue_after_commit(jobfuncs.plain_task, 1)
    assert system.can_view(admin) and not system.can_view(user)


def test_queue_health(app, db, run_jobs):
    health = jobs.queue_health()
    assert health["redis"] == "ok" and health["worker"] == "down" and health["workers"] == 0


def test_queue_health_when_redis_is_down(app, db, redis_down):
    assert jobs.queue_health() == {"redis": "down", "redis_error": "ConnectionError", "worker": "unknown"}


def test_healthz_reports_queue_state(client):
    body = client.get("/healthz").get_json()
    assert body["database"] == "ok" and body["redis"] == "ok" and body["worker"] in ("ok", "down")
