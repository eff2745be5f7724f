"""Pages of the project's reports area.

Project tab (``/projects/<id>/reports``): the schedule with status pills, due dates and overdue badges;
staff of the district generate / regenerate it; the organisation submits a report (text, figures, photos,
sign-in sheets); staff open a submission with its files and accept it or return it with a reason.
Files download only after the project permission check. Staff list (``/staff/reports``): every report
item of their district's projects, filtered and paginated.

Thin views: load (404), check permission (403 / 404 out of scope), parse, one service call, commit, flash,
redirect; a refused form re-renders with 422 and keeps the input (409 for the wrong state).
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from incubator.accounts.models import Role
from incubator.core.files import UploadRejected, human_size, send_stored
from incubator.core.ids import as_id
from incubator.db import today_local
from incubator.extensions import db
from incubator.orgs.models import Organization
from incubator.projects.access import load_project
from incubator.projects.models import Project
from incubator.projects.reports import services
from incubator.projects.reports.forms import AcceptForm, ReturnForm, ScheduleForm, SubmitForm
from incubator.projects.reports.models import (
    REPORT_TONES,
    ProgressReport,
    ProgressReportFile,
    ReportKind,
    ReportSchedule,
    ReportStatus,
)

bp = Blueprint("reports", __name__)

PER_PAGE = 20
TAB = "reports.project_reports"


def _item_of(project: Project, item_id: int) -> ReportSchedule:
    item = db.session.get(ReportSchedule, item_id)
    if item is None or item.project_id != project.id:
        abort(404)
    return item


def _closed(project: Project) -> bool:
    return project.status in services.CLOSED


# --------------------------------------------------------------------------- the tab


def _render_tab(project: Project, *, schedule_form=None, status: int = 200):
    items = services.schedule(project)
    today = today_local()
    is_member = project.org.is_member(current_user)
    can_manage = project.can_manage(current_user)
    summary = {
        "total": len(items),
        "accepted": sum(i.status == ReportStatus.ACCEPTED for i in items),
        "waiting": sum(i.status == ReportStatus.SUBMITTED for i in items),
        "overdue": services.overdue_count(project, on=today),
    }
    frequency = next((i.frequency for i in items if i.frequency), None)
    form = schedule_form or ScheduleForm(frequency=frequency.value if frequency else None)
    return render_template(
        "projects/reports/project_reports.html", project=project, active_tab=TAB, page_title="进度报告",
        items=items, today=today, tones=REPORT_TONES, is_member=is_member, can_manage=can_manage,
        summary=summary, schedule_form=form, frequency=frequency, closed=_closed(project),
        ReportStatus=ReportStatus,
    ), status


@bp.get("/projects/<int:project_id>/reports")
@login_required
def project_reports(project_id: int):
    return _render_tab(load_project(project_id))


@bp.post("/projects/<int:project_id>/reports/schedule")
@login_required
def generate_schedule(project_id: int):
    project = load_project(project_id, need="manage")
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _render_tab(project, schedule_form=form, status=422)
    try:
        items = services.generate_schedule(project, form.frequency.data, by=current_user)
    except services.ReportError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return _render_tab(load_project(project_id, need="manage"), schedule_form=form, status=409)
    db.session.commit()
    flash(f"报告计划已生成，共{len(items)}项", "success")
    return redirect(url_for(TAB, project_id=project.id))


# --------------------------------------------------------------------------- submission


def _render_submit(project, item, form, status: int = 200):
    return render_template(
        "projects/reports/submit.html", project=project, active_tab=TAB, page_title="提交报告", item=item,
        form=form, today=today_local(), tones=REPORT_TONES,
    ), status


@bp.route("/projects/<int:project_id>/reports/<int:item_id>/submit", methods=["GET", "POST"])
@login_required
def submit_report(project_id: int, item_id: int):
    project = load_project(project_id, need="member")
    item = _item_of(project, item_id)
    if item.status not in (ReportStatus.DUE, ReportStatus.RETURNED) or project.status.value == "terminated":
        if request.method == "POST":
            flash(f"该报告当前状态为“{item.status.label}”，不能提交", "danger")
            return _render_submit(project, item, SubmitForm(), status=409)
        return redirect(url_for("reports.report_detail", project_id=project.id, item_id=item.id))
    if item.period_start > today_local():
        flash(f"{item.title}的报告期尚未开始，不能提交", "warning")
        return redirect(url_for(TAB, project_id=project.id))
    form = SubmitForm()
    if request.method == "GET":
        if item.latest is not None:  # a returned report: start from the last version
            form.text.data = item.latest.text
            form.people_served.data = item.latest.people_served
            form.activities_held.data = item.latest.activities_held
        return _render_submit(project, item, form)
    if not form.validate_on_submit():
        return _render_submit(project, item, form, status=422)
    try:
        report = services.submit_report(
            item, by=current_user, text=form.text.data, people_served=form.people_served.data,
            activities_held=form.activities_held.data, photos=request.files.getlist("photos"),
            sign_in_sheets=request.files.getlist("sign_in_sheets"), others=request.files.getlist("others"))
    except UploadRejected as exc:
        db.session.rollback()
        flash(f"附件未通过检查：{exc}", "danger")
        return _render_submit(load_project(project_id, need="member"), db.session.get(ReportSchedule, item_id),
                              form, status=422)
    except services.ReportError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return _render_submit(load_project(project_id, need="member"), db.session.get(ReportSchedule, item_id),
                              form, status=422)
    db.session.commit()
    flash(f"{item.title}已提交（第{report.version}版），等待民政部门审核"
          + ("。本报告已逾期提交" if report.late else ""), "success")
    return redirect(url_for("reports.report_detail", project_id=project.id, item_id=item.id))


# --------------------------------------------------------------------------- a submission and its review


def _render_detail(project, item, *, return_form=None, status: int = 200):
    reports = list(db.session.scalars(
        select(ProgressReport).where(ProgressReport.schedule_id == item.id)
        .options(selectinload(ProgressReport.files).selectinload(ProgressReportFile.file),
                 selectinload(ProgressReport.submitted_by), selectinload(ProgressReport.reviewed_by))
        .order_by(ProgressReport.version.desc())))
    return render_template(
        "projects/reports/detail.html", project=project, active_tab=TAB, page_title=item.title, item=item,
        reports=reports, today=today_local(), tones=REPORT_TONES, can_manage=project.can_manage(current_user),
        is_member=project.org.is_member(current_user), return_form=return_form or ReturnForm(),
        accept_form=AcceptForm(), ReportStatus=ReportStatus, closed=_closed(project), human_size=human_size,
    ), status


@bp.get("/projects/<int:project_id>/reports/<int:item_id>")
@login_required
def report_detail(project_id: int, item_id: int):
    project = load_project(project_id)
    return _render_detail(project, _item_of(project, item_id))


@bp.post("/projects/<int:project_id>/reports/<int:item_id>/accept")
@login_required
def accept_report(project_id: int, item_id: int):
    project = load_project(project_id, need="manage")
    item = _item_of(project, item_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        return _render_detail(project, item, status=422)
    try:
        services.accept_report(item, by=current_user)
    except services.ReportError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        project = load_project(project_id, need="manage")
        return _render_detail(project, _item_of(project, item_id), status=409)
    db.session.commit()
    flash(f"{item.title}已审核通过", "success")
    return redirect(url_for("reports.report_detail", project_id=project.id, item_id=item.id))


@bp.post("/projects/<int:project_id>/reports/<int:item_id>/return")
@login_required
def return_report(project_id: int, item_id: int):
    project = load_project(project_id, need="manage")
    item = _item_of(project, item_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        return _render_detail(project, item, return_form=form, status=422)
    try:
        services.return_report(item, by=current_user, reason=form.reason.data)
    except services.ReportError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        project = load_project(project_id, need="manage")
        return _render_detail(project, _item_of(project, item_id), return_form=form, status=409)
    db.session.commit()
    flash(f"{item.title}已退回修改，组织将收到退回理由", "success")
    return redirect(url_for("reports.report_detail", project_id=project.id, item_id=item.id))


@bp.get("/projects/<int:project_id>/reports/files/<int:link_id>")
@login_required
def report_file(project_id: int, link_id: int):
    project = load_project(project_id)
    link = db.session.get(ProgressReportFile, link_id)
    if link is None or link.report.schedule.project_id != project.id:
        abort(404)
    return send_stored(link.file, inline=False)


# --------------------------------------------------------------------------- the staff list


STATE_FILTERS = {
    "open_overdue": "逾期未交",
    "due_soon": "7天内到期",
    "waiting": "待审核",
    "returned": "已退回",
    "late": "逾期提交",
    "accepted": "已通过",
    "due": "待提交",
}


@bp.get("/staff/reports")
@login_required
def staff_reports():
    if current_user.role not in (Role.STAFF, Role.ADMIN):
        abort(403)
    city = current_user.role == Role.ADMIN or current_user.is_city_staff
    today = today_local()
    filters = {
        "q": (request.args.get("q") or "").strip()[:100],
        "state": request.args.get("state") if request.args.get("state") in STATE_FILTERS else "",
        "kind": request.args.get("kind") if request.args.get("kind") in {k.value for k in ReportKind} else "",
        "district": as_id(request.args.get("district")) if city else None,
    }
    stmt = services.scoped_items(current_user)
    if filters["q"]:
        like = "%" + filters["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Project.number.ilike(like, escape="\\"), Project.title.ilike(like, escape="\\"),
                              Organization.name.ilike(like, escape="\\")))
    if filters["kind"]:
        stmt = stmt.where(ReportSchedule.kind == ReportKind(filters["kind"]))
    if filters["district"]:
        stmt = stmt.where(Organization.district_id == filters["district"])
    state = filters["state"]
    if state == "open_overdue":
        stmt = stmt.where(ReportSchedule.status == ReportStatus.DUE, ReportSchedule.due_on < today)
    elif state == "due_soon":
        stmt = stmt.where(ReportSchedule.status == ReportStatus.DUE, ReportSchedule.due_on >= today,
                          ReportSchedule.due_on <= today + timedelta(days=7))
    elif state == "waiting":
        stmt = stmt.where(ReportSchedule.status == ReportStatus.SUBMITTED)
    elif state == "returned":
        stmt = stmt.where(ReportSchedule.status == ReportStatus.RETURNED)
    elif state == "late":
        stmt = stmt.where(ReportSchedule.submitted_late.is_(True))
    elif state == "accepted":
        stmt = stmt.where(ReportSchedule.status == ReportStatus.ACCEPTED)
    elif state == "due":
        stmt = stmt.where(ReportSchedule.status == ReportStatus.DUE)
    stmt = stmt.options(selectinload(ReportSchedule.project).selectinload(Project.org)).order_by(
        ReportSchedule.due_on, ReportSchedule.id)
    page = db.paginate(stmt, page=as_id(request.args.get("page")) or 1, per_page=PER_PAGE, error_out=False)
    base = services.scoped_items(current_user).with_only_columns(func.count(ReportSchedule.id))
    counts = {
        "open_overdue": db.session.scalar(base.where(ReportSchedule.status == ReportStatus.DUE,
                                                     ReportSchedule.due_on < today)),
        "waiting": db.session.scalar(base.where(ReportSchedule.status == ReportStatus.SUBMITTED)),
    }
    districts = []
    if city:
        from incubator.regions.models import District

        districts = list(db.session.scalars(select(District).order_by(District.code)))
    return render_template(
        "projects/reports/staff_index.html", page=page, items=page.items, filters=filters, today=today,
        tones=REPORT_TONES, state_filters=STATE_FILTERS, kinds=ReportKind, counts=counts, city=city,
        districts=districts, ReportStatus=ReportStatus,
    )
