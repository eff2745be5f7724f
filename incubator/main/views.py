from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import login_required
from sqlalchemy import text

from incubator.extensions import db

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    """The public portal's front page."""
    return render_template("main/home.html")


@bp.get("/dashboard")
@login_required
def dashboard():
    return render_template("main/dashboard.html")


@bp.get("/healthz")
def healthz():
    """Database, Redis and worker state, for load balancers and operators."""
    report: dict = {}
    try:
        db.session.execute(text("SELECT 1"))
        report["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means 'down'
        db.session.rollback()
        report["database"] = f"down: {type(exc).__name__}"
    from incubator.core.jobs import queue_health

    report.update(queue_health())
    healthy = report["database"] == "ok"
    return jsonify(report), (200 if healthy else 503)


