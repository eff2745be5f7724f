"""The tabs of a project's pages (templates/projects/_layout.html), one per area of the project.

Each entry is (endpoint, label); the endpoint takes ``project_id``. A tab whose endpoint the app does
not serve is left out, so an area can be added without touching the others.
"""
from __future__ import annotations

from flask import current_app, url_for

TABS: tuple[tuple[str, str], ...] = (
    ("projects.detail", "概况"),
    ("contracts.project_contract", "合同"),
    ("budgets.project_budget", "预算与支出"),
    ("projects.tranches", "分期拨付"),
    ("reports.project_reports", "进度报告"),
    ("evaluations.project_evaluations", "绩效评价"),
    ("exits.project_exit", "结项与退出"),
)


def project_tabs(project) -> list[tuple[str, str, str]]:
    """[(endpoint, label, url)] of the tabs this app serves."""
    served = current_app.view_functions
    return [(ep, label, url_for(ep, project_id=project.id)) for ep, label in TABS if ep in served]
