"""Public pages (no login): the 社会组织名录 and the funded projects.

/directory                  verified organisations: search, district / service field / type, pagination
/directory/<org_id>         one verified organisation's public record (404 for unknown or unverified)
/funded-projects            projects from signing on: search, year / kind / district / status, pagination
/funded-projects/<id>       one funded project, with a link to its published contract summary
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from incubator.core.ids import as_id
from incubator.db import today_local
from incubator.orgs.models import CreditKind, OrgType, ServiceField
from incubator.projects.evaluations.models import GRADE_TONES
from incubator.projects.evaluations.services import project_stages
from incubator.projects.models import PROJECT_TONES, ProjectKind
from incubator.public import services

bp = Blueprint("public", __name__)

CREDIT_TONES = {CreditKind.ABNORMAL_LIST.value: "warning", CreditKind.SERIOUS_LIST.value: "danger",
                CreditKind.DEBARMENT.value: "danger"}


def _page_no() -> int:
    return as_id(request.args.get("page")) or 1


@bp.get("/directory")
def directory():
    filters = services.DirectoryFilters.from_args(request.args)
    page, entries = services.directory_page(filters, _page_no())
    return render_template("public/directory.html", page=page, entries=entries, filters=filters,
                           districts=services.district_options(), org_types=OrgType, service_fields=ServiceField,
                           grade_tones=GRADE_TONES, credit_tones=CREDIT_TONES)


@bp.get("/directory/<int:org_id>")
def org_detail(org_id: int):
    org = services.public_org(org_id)
    if org is None:
        abort(404)
    return render_template("public/org_detail.html", org=org, entry=services.org_entry(org),
                           projects=services.public_projects_of(org), today=today_local(),
                           grade_tones=GRADE_TONES, credit_tones=CREDIT_TONES, project_tones=PROJECT_TONES)


@bp.get("/funded-projects")
def funded_projects():
    filters = services.ProjectFilters.from_args(request.args)
    page, grades = services.project_page(filters, _page_no())
    return render_template("public/funded_projects.html", page=page, grades=grades, filters=filters,
                           years=services.project_years(), kinds=ProjectKind, statuses=services.PUBLIC_STATUSES,
                           districts=services.district_options(), grade_tones=GRADE_TONES,
                           project_tones=PROJECT_TONES)


@bp.get("/funded-projects/<int:project_id>")
def project_detail(project_id: int):
    project = services.public_project(project_id)
    if project is None:
        abort(404)
    return render_template("public/project_detail.html", project=project, stages=project_stages(project),
                           contract=services.published_contract(project), grade_tones=GRADE_TONES,
                           project_tones=PROJECT_TONES)
