"""Alembic environment, driven by Flask-Migrate: the app's engine and metadata, no URL of its own.

- render_as_batch (SQLite can only ALTER by copying tables) and compare_type come from
  `Migrate(..., render_as_batch=True, compare_type=True)` in incubator/__init__.py;
- constraint names come from the naming convention in incubator/db.py, so they are stable;
- uses `db.engine` / `db.metadata` (Flask-SQLAlchemy 3), not the deprecated `get_engine()`;
- on SQLite, foreign keys are switched off while tables are rebuilt and on again afterwards.
"""
from __future__ import annotations

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# Tests pass attributes["configure_logger"] = False so that running migrations leaves their logging alone.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

_migrate = current_app.extensions["migrate"]
_db = _migrate.db
target_metadata = _db.metadata


def _render_item(type_, obj, autogen_context):
    """Our own column types (incubator.db.Money) are rendered module-qualified: import the module."""
    if type_ == "type" and type(obj).__module__.startswith("incubator."):
        autogen_context.imports.add(f"import {type(obj).__module__}")
    return False  # default rendering


def _configure_args() -> dict:
    args = dict(_migrate.configure_args)
    args.setdefault("compare_type", True)
    args.setdefault("render_item", _render_item)
    return args


def run_migrations_offline() -> None:
    """`flask db upgrade --sql`: print the SQL instead of running it."""
    url = _db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, **_configure_args())
    with context.begin_transaction():
        context.run_migrations()


def _skip_empty_revision(context_, revision, directives) -> None:
    """`flask db migrate` with no model change writes no empty file."""
    if getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")


def run_migrations_online() -> None:
    args = _configure_args()
    args.setdefault("process_revision_directives", _skip_empty_revision)
    with _db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(connection=connection, target_metadata=target_metadata, **args)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
