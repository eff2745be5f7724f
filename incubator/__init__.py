"""社会组织孵化与资助管理平台 — application factory."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from incubator.config import ROOT, load_config


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(Path(load_config(config)["INSTANCE_DIR"])),
    )
    app.config.update(load_config(config))
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)

    from werkzeug.middleware.proxy_fix import ProxyFix

    if app.config.get("TRUST_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]

    # Every <int:...> in a URL is a database id: beyond PostgreSQL's INTEGER it is "not found",
    # never a database error (SECURITY.md bad input 9: 99999999999).
    from werkzeug.exceptions import NotFound
    from werkzeug.routing import IntegerConverter

    class DatabaseId(IntegerConverter):
        # Raising NotFound (not ValidationError) answers 404 for every method: a rejected value
        # would otherwise make Werkzeug answer 405 where a GET and a POST rule share the path.
        def to_python(self, value: str) -> int:
            number = super().to_python(value)
            if number > 2**31 - 1:
                raise NotFound()
            return number

    app.url_map.converters["int"] = DatabaseId

    _init_extensions(app)
    _register_models()
    _register_blueprints(app)

    from incubator import web

    web.init_app(app)

    from incubator import cli

    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from incubator.extensions import bootstrap, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        @event.listens_for(Engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            if type(dbapi_connection).__module__.startswith("sqlite3"):
                cur = dbapi_connection.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=5000")
                cur.close()


def _register_models() -> None:
    """Import every models module so metadata is complete (migrations, create_all)."""
    from incubator import models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    # Explicit list (DESIGN): every blueprint the app serves is named here.
    from incubator.accounts.views import bp as accounts_bp
    from incubator.admin.views import bp as admin_bp
    from incubator.applications.views import bp as applications_bp
    from incubator.calls.views import bp as calls_bp
    from incubator.main.views import bp as main_bp
    from incubator.notifications.views import bp as notifications_bp
    from incubator.orgs.views import bp as orgs_bp
    from incubator.screening.views import bp as screening_bp
    from incubator.system.views import bp as system_bp

    for bp in (main_bp, accounts_bp, admin_bp, orgs_bp, system_bp, calls_bp):
        app.register_blueprint(bp)
    for bp in (applications_bp, notifications_bp):
        app.register_blueprint(bp)
    app.register_blueprint(screening_bp)
    from incubator.pools.views import bp as pools_bp

    app.register_blueprint(pools_bp)
    from incubator.review.views import bp as review_bp

    app.register_blueprint(review_bp)
    from incubator.publicity.views import bp as publicity_bp
    from incubator.review.ranking_views import bp as ranking_bp
    from incubator.roadshow.views import bp as roadshow_bp

    for bp in (ranking_bp, roadshow_bp, publicity_bp):
        app.register_blueprint(bp)
    from incubator.projects.budgets.views import bp as budgets_bp
    from incubator.projects.contracts.views import bp as contracts_bp
    from incubator.projects.evaluations.views import bp as evaluations_bp
    from incubator.projects.exits.views import bp as exits_bp
    from incubator.projects.reports.views import bp as reports_bp
    from incubator.projects.views import bp as projects_bp

    for bp in (projects_bp, budgets_bp, contracts_bp, reports_bp, evaluations_bp, exits_bp):
        app.register_blueprint(bp)
    from incubator.public.views import bp as public_bp

    app.register_blueprint(public_bp)
