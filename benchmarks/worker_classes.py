"""Worker class benchmark: N self-test PDF jobs through a real Redis, simple vs forking worker.

    .venv/bin/python benchmarks/worker_classes.py [N]   (needs redis-server on PATH)

Prints seconds per job for each class and the ratio fork / simple (same process, same machine).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(n: int = 20) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        env = {**os.environ, "INCUBATOR_ENV": "test", "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{tmp / 'b.db'}",
               "UPLOAD_DIR": str(tmp / "uploads"), "INSTANCE_DIR": str(tmp / "instance"),
               "REDIS_URL": f"redis://127.0.0.1:{port}/0", "SELFTEST_STEP_SECONDS": "0", "JOB_RETRIES": "0"}
        os.environ.update(env)
        from incubator import create_app
        from incubator.accounts.models import Role, User
        from incubator.core.jobs import Job, JobStatus, start_job
        from incubator.extensions import db
        from incubator.system.jobs import selftest_report

        app = create_app()
        with app.app_context():
            db.create_all()
            user = User(email="bench@example.cn", name="基准", password_hash="x", role=Role.ADMIN)
            db.session.add(user)
            db.session.commit()
            results = {}
            for cls in ("simple", "fork"):
                for _ in range(n):
                    start_job(selftest_report, title="系统自检报告", user=user, kind="selftest")
                db.session.commit()
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-m", "flask", "--app", "incubator", "worker", "--burst", "--no-scheduler",
                                "--worker-class", cls], cwd=ROOT, env=env, check=True, capture_output=True)
                elapsed = time.perf_counter() - t0
                db.session.expire_all()
                done = db.session.scalar(db.select(db.func.count()).select_from(Job).where(Job.status == JobStatus.FINISHED))
                results[cls] = elapsed
                print(f"{cls:6s}: {n} jobs in {elapsed:5.1f} s = {elapsed / n:.2f} s/job (finished so far: {done})")
            print(f"ratio fork/simple: {results['fork'] / results['simple']:.1f}x (includes one worker start-up each)")
    finally:
        redis.terminate()
        redis.wait()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
