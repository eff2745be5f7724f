"""Pages of funded projects: lists, 立项, the project overview, tranches and payments, the staff desk."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("projects", __name__)


@bp.app_context_processor
def _project_layout():
    from incubator.projects.models import PROJECT_TONES
    from incubator.projects.tabs import project_tabs

    return {"project_tabs": project_tabs, "project_tones": PROJECT_TONES}
