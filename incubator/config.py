"""Settings, read only from the environment (DESIGN: configuration only from the environment)."""
from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-do-not-use-in-production"


class InsecureConfig(RuntimeError):
    pass


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


GRADE_NAMES = ("excellent", "good", "pass", "fail")  # 优秀 良好 合格 不合格 (incubator.projects.evaluations)


def grade_bands(raw: str | None) -> list[list[str]] | None:
    """EVALUATION_GRADE_BANDS "excellent:90,good:80,pass:60" → [["excellent", "90"], …]; empty → None (the
    national bands of 财预〔2020〕10号). A wrong value stops start-up with the reason, never a guess."""
    if not (raw or "").strip():
        return None
    bands: dict[str, str] = {}
    for part in raw.split(","):
        name, _, minimum = (x.strip() for x in part.partition(":"))
        try:
            value = Decimal(minimum)
        except InvalidOperation:
            value = Decimal(-1)
        if name not in GRADE_NAMES or name in bands or not (0 <= value <= 100):
            raise ValueError(f"EVALUATION_GRADE_BANDS: '{part.strip()}' is not grade:minimum "
                             f"(grades {', '.join(GRADE_NAMES)}, each once, minimum 0–100)")
        bands[name] = str(value)
    if "pass" not in bands:
        raise ValueError("EVALUATION_GRADE_BANDS must name the pass mark (pass:60)")
    bands.setdefault("fail", "0")
    return [[name, minimum] for name, minimum in bands.items()]


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config dict: environment first, then explicit overrides (tests)."""
    env = _env("INCUBATOR_ENV", "development")
    instance = Path(_env("INSTANCE_DIR", str(ROOT / "instance")))
    cfg: dict = {
        "ENV_NAME": env,
        "SECRET_KEY": _env("SECRET_KEY", DEV_SECRET),
        "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL", f"sqlite:///{instance / 'incubator.db'}"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": _env("REDIS_URL", "redis://127.0.0.1:6390/0"),
        "RQ_QUEUE": _env("RQ_QUEUE", "incubator"),
        "UPLOAD_DIR": _env("UPLOAD_DIR", str(instance / "uploads")),
        "INSTANCE_DIR": str(instance),
        # 20 MiB per upload; Werkzeug answers 413 above it.
        "MAX_CONTENT_LENGTH": int(_env("MAX_CONTENT_LENGTH", str(20 * 1024 * 1024))),
        "MAX_FORM_PARTS": 1000,
        "BASE_URL": _env("BASE_URL", "http://127.0.0.1:5000"),
        "MAIL_FROM": _env("MAIL_FROM", "noreply@incubator.local"),
        # Mail transport: "outbox" keeps mail in the database (dev/test, shown at /dev/outbox).
        "MAIL_TRANSPORT": _env("MAIL_TRANSPORT", "outbox"),
        "SMTP_URL": _env("SMTP_URL"),
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=int(_env("SESSION_IDLE_MINUTES", "30"))),
        "SESSION_ABSOLUTE_HOURS": int(_env("SESSION_ABSOLUTE_HOURS", "12")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env not in ("development", "test"),
        "REMEMBER_COOKIE_DURATION": timedelta(days=0),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "BOOTSTRAP_SERVE_LOCAL": True,
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": True,
        "LOGIN_LIMIT_PER_IP": _env("LOGIN_LIMIT_PER_IP", "30 per 5 minutes"),
        # Failed attempts per account before it must wait; counted per (account, ip) so one
        # attacker cannot lock a real user out from everywhere (SECURITY.md 6.3.1).
        "LOGIN_FAILURES_PER_ACCOUNT": int(_env("LOGIN_FAILURES_PER_ACCOUNT", "5")),
        "LOGIN_LOCK_MINUTES": int(_env("LOGIN_LOCK_MINUTES", "15")),
        "TOTP_ISSUER": _env("TOTP_ISSUER", "洛阳市社会组织孵化平台"),
        "PLATFORM_NAME": _env("PLATFORM_NAME", "社会组织孵化与资助管理平台"),
        "CITY_NAME": _env("CITY_NAME", "洛阳市"),
        "JOBS_SYNC": _env("JOBS_SYNC", "0") == "1",
        # --- core mechanisms (files, jobs, worker, mail) ---
        "STORAGE_BACKEND": _env("STORAGE_BACKEND", "local"),
        "UPLOAD_ZIP_MAX_UNCOMPRESSED": int(_env("UPLOAD_ZIP_MAX_UNCOMPRESSED", str(100 * 1024 * 1024))),
        "UPLOAD_ZIP_MAX_MEMBERS": int(_env("UPLOAD_ZIP_MAX_MEMBERS", "2000")),
        "UPLOAD_ZIP_MAX_RATIO": int(_env("UPLOAD_ZIP_MAX_RATIO", "200")),
        "JOB_TIMEOUT": int(_env("JOB_TIMEOUT", "600")),
        "JOB_RETRIES": int(_env("JOB_RETRIES", "2")),
        "JOB_RETRY_INTERVALS": _env("JOB_RETRY_INTERVALS", "10,60,300"),
        "MAIL_RETRIES": int(_env("MAIL_RETRIES", "3")),
        # "simple": one process runs jobs one after another (no fork per job); "fork": RQ's Worker.
        "WORKER_CLASS": _env("WORKER_CLASS", "simple"),
        "WORKER_MAINTENANCE_SECONDS": int(_env("WORKER_MAINTENANCE_SECONDS", "60")),
        # Each maintenance round the worker requeues jobs Redis lost. Off under test: the suite's
        # fakeredis jobs live in the same database as the real test worker and must stay put.
        "JOBS_AUTO_REQUEUE": _env("JOBS_AUTO_REQUEUE", "0" if env == "test" else "1") == "1",
        "SELFTEST_STEP_SECONDS": float(_env("SELFTEST_STEP_SECONDS", "0.6")),
        # Excel exports above this many rows are built by a background job (benchmarks/excel_export.py:
        # 20,000 rows take several seconds even in openpyxl's write-only mode).
        "EXPORT_SYNC_MAX_ROWS": int(_env("EXPORT_SYNC_MAX_ROWS", "5000")),
        # 绩效评价 grade bands; empty: 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60 (财预〔2020〕10号)
        "EVALUATION_GRADE_BANDS": grade_bands(_env("EVALUATION_GRADE_BANDS", "")),
        "PREFERRED_URL_SCHEME": "http",
    }
    if overrides:
        cfg.update(overrides)
    if cfg["ENV_NAME"] not in ("development", "test") and cfg["SECRET_KEY"] in (DEV_SECRET, None, ""):
        raise InsecureConfig("SECRET_KEY must be set in the environment outside development and test")
    return cfg
