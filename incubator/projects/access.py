"""Loading a project for a request, shared by every projects blueprint (hub, budget, contract, reports,
evaluations, exit).

``load_project(project_id, need=...)``: 404 when the project does not exist or the user may not see it
(another organisation's, another district's: its existence is not revealed); 403 when the user sees it
but lacks the right ``need`` names:
  "view"   org members, staff of its district (city staff: all), admins, finance
  "manage" staff of its district (city staff: all)
  "pay"    finance
  "member" a member of the project's organisation (it files expenses, uploads its signed copy, reports)
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from incubator.extensions import db
from incubator.projects.models import Project

NEEDS = {
    "view": lambda p, u: True,
    "manage": lambda p, u: p.can_manage(u),
    "pay": lambda p, u: p.can_pay(u),
    "member": lambda p, u: p.org.is_member(u),
}


def load_project(project_id: int, need: str = "view") -> Project:
    project = db.session.get(Project, project_id)
    if project is None or not project.can_view(current_user):
        abort(404)
    if not NEEDS[need](project, current_user):
        abort(403)
    return project
