"""Shared fixtures.

The schema is created once per session; each test starts from empty tables (TRUNCATE on
PostgreSQL, DELETE on SQLite). Set TEST_DATABASE_URL to run the suite on PostgreSQL (or on a
fixed SQLite file: sqlite:////path/test.db). `make test` sets TEST_DATABASE_URL, TEST_UPLOAD_DIR and
TEST_REDIS_URL, and starts a real RQ worker with DATABASE_URL/UPLOAD_DIR/REDIS_URL set to the same values.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from incubator import create_app
from incubator.extensions import db as _db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
IS_POSTGRES = bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))


def test_config(tmp: Path, **overrides) -> dict:
    cfg = {
        "ENV_NAME": "test",
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp / 'test.db'}",
        # make test sets TEST_UPLOAD_DIR (and TEST_DATABASE_URL) for the suite and the real worker alike.
        "UPLOAD_DIR": os.environ.get("TEST_UPLOAD_DIR") or str(tmp / "uploads"),
        "INSTANCE_DIR": str(tmp / "instance"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # Jobs go to an in-process fakeredis; run them with the `run_jobs` fixture (RQ SimpleWorker).
        "REDIS_URL": "fakeredis://",
        "JOB_RETRY_INTERVALS": "0",
        "SELFTEST_STEP_SECONDS": 0,
        "SERVER_NAME": None,
    }
    cfg.update(overrides)
    return cfg


@pytest.fixture(scope="session")
def _tmpdir():
    with tempfile.TemporaryDirectory(prefix="incubator-test-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def app(_tmpdir):
    app = create_app(test_config(_tmpdir))
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


def _empty_tables() -> None:
    _db.session.remove()
    tables = list(reversed(_db.metadata.sorted_tables))
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(t.delete())


@pytest.fixture()
def db(app):
    """An app context with empty tables; use db.session as the services do."""
    with app.app_context():
        _empty_tables()
        yield _db
        _db.session.rollback()
        _db.session.remove()


@pytest.fixture()
def client(app, db):
    return app.test_client()


def login_as(client, user) -> None:
    """Log a user in directly (the login flow itself is tested in tests/accounts)."""
    from flask_login.utils import _create_identifier

    from incubator.db import utcnow

    # Flask-Login's "strong" session protection binds the session to the client's address and agent.
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        sess["_id"] = identifier
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["2fa_ok"] = True
        sess["login_at"] = utcnow().isoformat()


@pytest.fixture()
def run_jobs(app, db):
    """Returns run(): commit, run every queued job now (RQ SimpleWorker on fakeredis), expire the session.

    The queue is emptied before and after each test. Failing jobs are recorded on their Job row.
    """
    from incubator.core import jobs

    conn = jobs.get_redis()
    conn.flushall()

    def run() -> bool:
        _db.session.commit()
        worked = jobs.work_burst()
        _db.session.expire_all()
        return worked

    yield run
    conn.flushall()
