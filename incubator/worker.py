"""The background worker: ``flask --app incubator worker`` (and ``flask --app incubator jobs requeue``).

The app is built once (by the Flask CLI) and every job runs in a fresh app context of it.

Worker class — measured with ``benchmarks/worker_classes.py`` (self-test PDF jobs through a real
Redis, ``SELFTEST_STEP_SECONDS=0``) on this 2-core machine while other test suites ran (load ~6):

* ``simple`` (default): RQ's ``SimpleWorker``, no fork per job: 2.1–2.5 s per job.
* ``fork``: RQ's forking ``Worker``: 2.3–2.4 s per job.

No measurable difference here, because this command imports WeasyPrint *before* the work loop, so a
forked work horse inherits it instead of re-importing it (STACK.md's ~1.2 s per job applies to a
forking worker whose parent never imported WeasyPrint, e.g. a plain ``rq worker``). The forking worker buys crash isolation; the
simple one keeps font, template and connection caches warm and has no fork-safety traps
(inherited database connections, fontconfig state).

We run ``simple``: our jobs are short, idempotent Python that commits its own progress; a job that
kills the process is recovered by ``requeue_waiting`` when the worker (restarted by systemd or the
container runtime) starts again. Job timeouts still work (SIGALRM in the main thread).
Scale by starting more worker processes (on any machine); exactly one of them runs RQ's scheduler
(RQ takes a lock), which runs retries with intervals and ``enqueue_in``/``enqueue_at`` work.
"""
from __future__ import annotations

import logging
import os

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker, Worker

log = logging.getLogger("incubator.worker")


class _Maintenance:
    """Every maintenance round (WORKER_MAINTENANCE_SECONDS) also requeues jobs that Redis lost."""

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        if not current_app.config.get("JOBS_AUTO_REQUEUE", True):
            return
        from incubator.core.jobs import requeue_waiting

        try:
            with current_app.app_context():
                requeue_waiting(min_age_seconds=30)
        except Exception:  # noqa: BLE001 - never let recovery kill the worker
            log.exception("requeue_waiting failed")


class IncubatorSimpleWorker(_Maintenance, SimpleWorker):
    pass


class IncubatorForkWorker(_Maintenance, Worker):
    pass


WORKER_CLASSES = {"simple": IncubatorSimpleWorker, "fork": IncubatorForkWorker}


def worker_connection():
    """A Redis connection for the worker: no short socket timeout (it blocks on BLPOP)."""
    url = current_app.config["REDIS_URL"]
    if url.startswith("fakeredis://"):
        from incubator.core.jobs import get_redis

        return get_redis()
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)


def build_worker(worker_class: str | None = None, *, name: str | None = None):
    cfg = current_app.config
    cls = WORKER_CLASSES[worker_class or cfg.get("WORKER_CLASS", "simple")]
    from incubator.core.jobs import get_queue

    conn = worker_connection()
    interval = int(cfg.get("WORKER_MAINTENANCE_SECONDS", 60))
    return cls(
        [get_queue(conn)],
        connection=conn,
        name=name,
        maintenance_interval=interval,
        # The worker blocks on Redis for worker_ttl - 15 s between maintenance rounds; this also
        # bounds how long a dead worker is still reported alive by /healthz.
        worker_ttl=interval + 15,
    )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
@click.option("--worker-class", type=click.Choice(sorted(WORKER_CLASSES)), default=None,
              help="simple (default, no fork per job) or fork (RQ's forking Worker).")
@click.option("--scheduler/--no-scheduler", default=True, help="Also run RQ's scheduler (retries, enqueue_in).")
@click.option("--name", default=None, help="Worker name shown by `rq info`.")
@with_appcontext
def worker_command(burst: bool, worker_class: str | None, scheduler: bool, name: str | None) -> None:
    """Start a background worker for the incubator queue."""
    from incubator.core import pdf  # noqa: F401 - fail now if the PDF stack is broken (harfbuzz-subset)
    from incubator.core.jobs import requeue_waiting

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = build_worker(worker_class, name=name)
    try:
        n = requeue_waiting()
        if n:
            click.echo(f"requeued {n} job(s) that were waiting in the database")
    except Exception as exc:  # noqa: BLE001 - Redis down: the worker itself will wait for it
        click.echo(f"could not requeue waiting jobs yet: {exc}", err=True)
    click.echo(f"worker {type(worker).__name__} pid {os.getpid()} on queue {current_app.config['RQ_QUEUE']}")
    worker.work(burst=burst, with_scheduler=scheduler, logging_level="INFO")


@click.group("jobs")
def jobs_group() -> None:
    """Background-job maintenance."""


@jobs_group.command("requeue")
@with_appcontext
def requeue_command() -> None:
    """Queue again every unfinished job that Redis does not hold (e.g. after Redis was down)."""
    from incubator.core.jobs import requeue_waiting

    try:
        n = requeue_waiting()
    except Exception as exc:  # noqa: BLE001
        raise click.ClickException(f"队列服务不可用：{exc}") from exc
    click.echo(f"requeued {n} job(s)")


def init_app(app) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_group)
