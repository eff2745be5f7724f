"""Migrations: upgrade from empty, downgrade to base, upgrade again, and the models match the
migrations (no pending autogenerate diff). On SQLite always; on PostgreSQL when TEST_DATABASE_URL
points there (in a scratch database of its own, so the suite's schema is left alone)."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from incubator import create_app
from incubator.config import ROOT
from incubator.extensions import db as _db
from tests.conftest import IS_POSTGRES, TEST_DATABASE_URL
from tests.conftest import test_config as make_test_config

MIGRATIONS = ROOT / "migrations"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """The URL of a database with nothing in it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    if not IS_POSTGRES:
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://… (make test does)")
    with scratch_postgres_database() as url:
        yield url


class scratch_postgres_database:
    """CREATE DATABASE on the server of TEST_DATABASE_URL; dropped on exit."""

    def __enter__(self) -> str:
        server = make_url(TEST_DATABASE_URL)
        self.name = f"incubator_scratch_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        return server.set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()


def _alembic_config(app):
    config = app.extensions["migrate"].migrate.get_config(str(MIGRATIONS))
    config.attributes["configure_logger"] = False  # leave pytest's logging alone
    return config


def _pending_diff() -> list:
    with _db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, _db.metadata)


def _tables() -> set[str]:
    return set(inspect(_db.engine).get_table_names())


def test_upgrade_downgrade_upgrade_and_no_pending_diff(empty_database_url, tmp_path):
    app = create_app(make_test_config(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url))
    model_tables = set(_db.metadata.tables)
    with app.app_context():
        config = _alembic_config(app)
        try:
            assert _tables() == set()

            command.upgrade(config, "head")
            assert _tables() == model_tables | {"alembic_version"}
            diff = _pending_diff()
            assert diff == [], f"models and migrations differ; run `make migration MSG=...`: {diff}"

            command.downgrade(config, "base")
            assert _tables() == {"alembic_version"}

            command.upgrade(config, "head")
            assert _tables() == model_tables | {"alembic_version"}
            assert _pending_diff() == []
        finally:
            _db.session.remove()
            _db.engine.dispose()


def test_one_head_and_date_prefixed_file_names():
    script = ScriptDirectory(str(MIGRATIONS))
    assert len(script.get_heads()) == 1, "two migration branches: merge them (flask db merge heads)"
    files = sorted(Path(MIGRATIONS, "versions").glob("*.py"))
    assert files, "no migration yet: make initial-migration"
    for f in files:
        assert re.fullmatch(r"20\d{6}_[0-9a-f]{12}_\w+\.py", f.name), f.name
