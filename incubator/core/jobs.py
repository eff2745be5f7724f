"""Background jobs: a ``Job`` row per piece of work, queued in RQ only after the transaction commits.

Two ways in:

* ``start_job(func, *args, title=..., user=...)`` — work a user starts and watches (a PDF, an
  export). ``func(job, *args)`` runs in the worker; it may call ``report_progress`` and
  ``attach_result``. The user follows it at ``system.job``.
* ``enqueue_after_commit(func, *args)`` — plain background work (``func(*args)``), e.g. mail
  delivery; also recorded as a (system) ``Job`` row so that it survives a Redis outage.

Both write the row in the caller's transaction (``flush``, never commit) and push the work to
Redis from the session's ``after_commit`` event, so nothing is queued when the transaction rolls
back. Arguments are stored in the row (JSON: ids and strings), not only in Redis: if Redis is down
at commit time the row stays ``queued``, the web keeps working and tells the user, and
``requeue_waiting()`` (worker start-up, every maintenance round of the worker, and
``flask --app incubator jobs requeue``) pushes it again once Redis is back.

The worker runs ``run_job(job_id)``: fresh app context, loads the row, skips it unless it is
``queued`` (idempotent; an atomic UPDATE claims it, so two workers never run one job), marks it
running, calls the function, then commits the function's changes together with ``finished``. A
failure is recorded (Chinese message, technical error) and re-raised so RQ's ``Retry`` can run it
again; between attempts the row is ``queued`` again.

Job functions must be module-level functions, take ids (reload what they need) and be safe to run
twice. In tests, ``REDIS_URL = "fakeredis://"`` gives an in-process Redis; run the queue with
``work_burst()`` (an RQ ``SimpleWorker`` in burst mode). ``JOBS_SYNC = True`` runs jobs inline right
after the commit (demos without Redis).
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import traceback
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import current_app, flash, g, has_app_context, has_request_context
from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, event, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from incubator.core.enums import LabeledEnum
from incubator.db import Base, enum_type, utcnow
from incubator.extensions import db

log = logging.getLogger(__name__)

REDIS_DOWN_NOTICE = "任务已排队，将在队列服务恢复后执行。"
RQ_ID_PREFIX = "incubator-job-"
# After this many starts without finishing (crashed workers), a job is failed instead of requeued.
MAX_STARTS = 6


class JobStatus(LabeledEnum):
    QUEUED = ("queued", "排队中")
    RUNNING = ("running", "进行中")
    FINISHED = ("finished", "已完成")
    FAILED = ("failed", "失败")


STATUS_TONES = {"queued": "secondary", "running": "primary", "finished": "success", "failed": "danger"}


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint("attempts >= 0", name="attempts_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus), default=JobStatus.QUEUED, index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(String(500))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    result_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # What to run: "module:function" and its JSON arguments, so the row alone can requeue it.
    func: Mapped[str] = mapped_column(String(200))
    args: Mapped[list] = mapped_column(JSON, default=list)
    passes_job: Mapped[bool] = mapped_column(Boolean, default=True)  # func(job, *args) or func(*args)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User")
    result_file = relationship("StoredFile")

    def can_view(self, user) -> bool:
        """The person who started the job, or an admin."""
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        return bool(getattr(user, "is_admin", False)) or (self.user_id is not None and self.user_id == user.id)

    @property
    def is_done(self) -> bool:
        return self.status in (JobStatus.FINISHED, JobStatus.FAILED)

    @property
    def is_system(self) -> bool:
        return not self.passes_job

    @property
    def rq_id(self) -> str:
        return f"{RQ_ID_PREFIX}{self.id}"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


# --- Redis and the queue -----------------------------------------------------------------------


def get_redis():
    """The app's Redis client (short timeouts: the web must not hang when Redis is down)."""
    app = current_app
    conn = app.extensions.get("incubator_redis")
    if conn is None:
        url = app.config["REDIS_URL"]
        if url.startswith("fakeredis://"):
            import fakeredis

            conn = fakeredis.FakeRedis()
        else:
            from redis import Redis

            conn = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5, health_check_interval=30)
        app.extensions["incubator_redis"] = conn
    return conn


def get_queue(connection=None):
    from rq import Queue

    return Queue(current_app.config["RQ_QUEUE"], connection=connection or get_redis())


def _retry_intervals() -> list[int]:
    raw = current_app.config.get("JOB_RETRY_INTERVALS", "10,60,300")
    if isinstance(raw, str):
        return [int(x) for x in raw.split(",") if x.strip()]
    return [int(x) for x in raw]


def _push(job_id: int, retries: int) -> None:
    """Put one Job on the RQ queue (raises redis errors)."""
    from rq import Retry

    cfg = current_app.config
    get_queue().enqueue(
        "incubator.core.jobs.run_job",
        job_id,
        job_id=f"{RQ_ID_PREFIX}{job_id}",
        description=f"incubator job #{job_id}",
        job_timeout=int(cfg.get("JOB_TIMEOUT", 600)),
        result_ttl=int(cfg.get("JOB_RESULT_TTL", 3600)),
        failure_ttl=int(cfg.get("JOB_FAILURE_TTL", 7 * 24 * 3600)),
        retry=Retry(max=retries, interval=_retry_intervals()) if retries > 0 else None,
    )


# --- creating jobs -----------------------------------------------------------------------------


def _func_path(func: Callable) -> str:
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
    if not module or "<" in qualname or "." in qualname:
        raise TypeError(f"job functions must be module-level functions, not {func!r}")
    if _resolve(f"{module}:{qualname}") is not func:
        raise TypeError(f"{module}:{qualname} does not import back to the same function")
    return f"{module}:{qualname}"


def _resolve(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _json_args(args: tuple) -> list:
    try:
        return json.loads(json.dumps(list(args)))
    except TypeError as exc:
        raise TypeError("job arguments must be JSON values (ids, strings, numbers)") from exc


def _create(func: Callable, args: tuple, *, title: str, user, kind: str | None, retries: int, passes_job: bool) -> Job:
    job = Job(
        kind=(kind or func.__name__)[:60],
        title=title[:200],
        status=JobStatus.QUEUED,
        progress=0,
        message="排队中，等待后台服务执行",
        user_id=getattr(user, "id", None),
        func=_func_path(func),
        args=_json_args(args),
        passes_job=passes_job,
        retries=max(int(retries), 0),
        attempts=0,
    )
    db.session.add(job)
    db.session.flush()
    # Only users who started a job of their own are told about a Redis outage; background work
    # (mail) stays silent, e.g. so a password-reset page answers alike for known and unknown e-mails.
    db.session.info.setdefault("incubator_pending_jobs", []).append((job.id, job.retries, passes_job))
    return job


def start_job(func: Callable, *args, title: str, user, kind: str | None = None, retries: int | None = None) -> Job:
    """Create a user-visible Job running ``func(job, *args)``; queued once the caller commits."""
    if retries is None:
        retries = int(current_app.config.get("JOB_RETRIES", 2))
    return _create(func, args, title=title, user=user, kind=kind, retries=retries, passes_job=True)


def enqueue_after_commit(func: Callable, *args, retries: int = 0, title: str | None = None, kind: str | None = None) -> Job:
    """Run ``func(*args)`` in the worker once the current transaction commits (never if it rolls back)."""
    return _create(func, args, title=title or f"后台任务：{func.__name__}", user=None, kind=kind,
                   retries=retries, passes_job=False)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop("incubator_pending_jobs", None)
    if not pending or not has_app_context():
        return
    if current_app.config.get("JOBS_SYNC"):
        for job_id, _retries, _notify in pending:
            _run_inline(job_id)
        return
    failed = notify = False
    for job_id, retries, tell_user in pending:
        if failed:  # one timeout per commit is enough: the rest wait in the database too
            notify = notify or tell_user
            log.warning("job %s stays queued in the database: Redis is unreachable", job_id)
            continue
        try:
            _push(job_id, retries)
        except Exception as exc:  # noqa: BLE001 - redis down, refused, timed out…
            failed = True
            notify = notify or tell_user
            log.warning("job %s stays queued in the database: cannot reach Redis (%s)", job_id, exc)
    if notify and has_request_context() and not g.get("_jobs_notice_flashed"):
        g._jobs_notice_flashed = True
        flash(REDIS_DOWN_NOTICE, "warning")


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop("incubator_pending_jobs", None)


def _run_inline(job_id: int) -> None:
    # A new app context has its own session, separate from the one that just committed.
    with current_app.app_context():
        try:
            _execute(job_id)
        except Exception:  # noqa: BLE001 - recorded on the Job row already
            log.exception("inline job %s failed", job_id)


# --- running jobs ------------------------------------------------------------------------------

_worker_app = None


def _app():
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:  # a plain `rq worker`: build the app once per process
        from incubator import create_app

        _worker_app = create_app()
    return _worker_app


_pool_pid = os.getpid()


def _fresh_pool_after_fork() -> None:
    """A forked work horse must not share the parent's database connections."""
    global _pool_pid
    if os.getpid() != _pool_pid:
        db.engine.dispose(close=False)
        _pool_pid = os.getpid()


def run_job(job_id: int) -> None:
    """The RQ entry point for every job."""
    with _app().app_context():
        _fresh_pool_after_fork()
        _execute(job_id)


def _user_message(exc: BaseException) -> str:
    text = str(exc).strip()
    if text and not text.isascii():  # domain errors carry Chinese messages meant for users
        return f"任务失败：{text}"[:500]
    return "任务执行失败，请稍后重试或联系管理员。"


def _execute(job_id: int) -> None:
    job = db.session.get(Job, job_id)
    if job is None:
        log.info("job %s: no such row (rolled back or deleted), skipped", job_id)
        return
    if job.status != JobStatus.QUEUED:
        log.info("job %s: %s already, skipped", job_id, job.status.value)
        return
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, started_at=utcnow(), finished_at=None,
                attempts=Job.attempts + 1, message="正在执行…")
    ).rowcount
    db.session.commit()
    if not claimed:
        return
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    try:
        func = _resolve(job.func)
        if job.passes_job:
            func(job, *job.args)
        else:
            func(*job.args)
        job.status = JobStatus.FINISHED
        job.progress = 100
        job.finished_at = utcnow()
        if not job.message or job.message == "正在执行…":
            job.message = "已完成"
        job.error = None
        db.session.commit()
    except Exception as exc:  # SystemExit/KeyboardInterrupt leave it running: requeue_waiting takes it
        db.session.rollback()
        _record_failure(job_id, exc)
        raise


def _record_failure(job_id: int, exc: BaseException) -> None:
    from rq import get_current_job

    rq_job = get_current_job()
    will_retry = rq_job is not None and (rq_job.retries_left or 0) > 0
    job = db.session.get(Job, job_id)
    if job is None:  # pragma: no cover - the row vanished meanwhile
        return
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    tb = traceback.format_exc(limit=6)
    job.error = f"{detail}\n\n{tb}"[:8000]
    if will_retry:
        job.status = JobStatus.QUEUED
        job.message = f"第 {job.attempts} 次执行失败，稍后自动重试。"
    else:
        job.status = JobStatus.FAILED
        job.finished_at = utcnow()
        job.message = _user_message(exc)
    db.session.commit()


def report_progress(job: Job, percent: int, message: str) -> None:
    """Show progress to the user who watches the job page (commits the job's session)."""
    job.progress = max(0, min(100, int(percent)))
    job.message = (message or "")[:500]
    db.session.commit()


def attach_result(job: Job, stored_file) -> None:
    """The job's downloadable result (a StoredFile); committed when the job finishes."""
    job.result_file_id = stored_file.id
    db.session.flush()


# --- recovery ----------------------------------------------------------------------------------


def requeue_waiting(*, min_age_seconds: int = 0) -> int:
    """Push again every unfinished Job that Redis does not hold (Redis was down or lost its data).

    Returns how many were queued. Safe to run at any time, from any number of processes: a job
    pushed twice still runs once.
    """
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as RQJob
    from rq.job import JobStatus as RQStatus

    conn = get_redis()
    conn.ping()  # fail early (and loudly) if Redis is still down
    cutoff = utcnow() - timedelta(seconds=min_age_seconds)
    rows = db.session.scalars(
        db.select(Job)
        .where(Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]), Job.created_at <= cutoff)
        .order_by(Job.id)
    ).all()
    alive = {RQStatus.QUEUED, RQStatus.STARTED, RQStatus.SCHEDULED, RQStatus.DEFERRED}
    to_push: list[tuple[int, int]] = []
    for job in rows:
        try:
            state = RQJob.fetch(job.rq_id, connection=conn).get_status(refresh=False)
        except NoSuchJobError:
            state = None
        if state in alive:
            continue
        if job.attempts >= MAX_STARTS:
            job.status = JobStatus.FAILED
            job.finished_at = utcnow()
            job.message = "任务多次中断未能完成，请重新发起或联系管理员。"
            continue
        if job.status == JobStatus.RUNNING:  # its worker died mid-way
            job.status = JobStatus.QUEUED
            job.message = "执行中断，已重新排队"
        to_push.append((job.id, job.retries))
    db.session.commit()
    for job_id, retries in to_push:
        _push(job_id, retries)
    if to_push:
        log.info("requeued %d waiting job(s)", len(to_push))
    return len(to_push)


def queue_health() -> dict[str, Any]:
    """Redis reachable? A worker alive on our queue? (for /healthz and the jobs page)."""
    from rq import Worker

    try:
        conn = get_redis()
        conn.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means 'down'
        return {"redis": "down", "redis_error": type(exc).__name__, "worker": "unknown"}
    try:
        queue = get_queue(conn)
        workers = Worker.all(queue=queue)
        return {"redis": "ok", "worker": "ok" if workers else "down", "workers": len(workers), "queued": queue.count}
    except Exception as exc:  # noqa: BLE001
        return {"redis": "ok", "worker": f"unknown: {type(exc).__name__}"}


def work_burst(**kwargs) -> bool:
    """Run every queued job now in this process (tests, CLI ``--burst``): an RQ SimpleWorker."""
    import signal

    from rq import SimpleWorker

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    worker = SimpleWorker([get_queue()], connection=get_redis(), **kwargs)
    try:
        return worker.work(burst=True, logging_level="WARNING")
    finally:  # RQ installs its own stop handlers; give Ctrl-C back to the caller
        for sig, handler in saved.items():
            signal.signal(sig, handler)
