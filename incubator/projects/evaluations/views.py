"""Pages of 绩效评价.

Project pages (tab “绩效评价”, /projects/<id>/evaluations…): staff of the district assign an evaluator,
confirm or return what was submitted; the assigned evaluator scores (and sees this project's evaluation
pages, nothing else of it); the organisation sees confirmed results; finance and admins read.
Staff pages: the indicator templates (/staff/indicator-templates) and the suppliers' annual assessment
(/staff/assessments). The evaluator's own list: /evaluator/evaluations.

Thin views: load (404), check permission (403 wrong role, 404 out of scope), parse, one service call,
commit, flash, redirect; a refused form re-renders with 422 (409 for the wrong state) and keeps the input.
"""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm.exc import StaleDataError

from incubator.accounts.models import User
from incubator.core.files import send_stored
from incubator.core.forms import select_choices
from incubator.db import today_local
from incubator.extensions import db
from incubator.projects.access import load_project
from incubator.projects.evaluations import forms, services
from incubator.projects.evaluations.models import (
    EVALUATION_TONES,
    GRADE_TONES,
    SCORING_STATUSES,
    EvaluationStage,
    EvaluationStatus,
    IndicatorTemplate,
    PerformanceEvaluation,
    band_text,
)
from incubator.projects.models import Project

bp = Blueprint("evaluations", __name__)

TAB = "evaluations.project_evaluations"
PER_PAGE = 50


class ListPage(Pagination):
    """One page of a list already worked out in memory (rows=…), for the ui.pagination macro."""

    def _query_items(self):
        rows = self._query_args["rows"]
        start = (self.page - 1) * self.per_page
        return rows[start:start + self.per_page]

    def _query_count(self):
        return len(self._query_args["rows"])


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


def _paged(rows: list) -> ListPage:
    return ListPage(page=_page_arg(), per_page=PER_PAGE, max_per_page=None, error_out=False, rows=rows)


# --------------------------------------------------------------------------- loading


def _assigned_here(project: Project) -> bool:
    return (services.may_evaluate(current_user) and project.id in services.assigned_projects(current_user))


def _load(project_id: int) -> Project:
    """The project for its evaluation pages: whoever may view it, or an evaluator assigned to it."""
    project = db.session.get(Project, project_id)
    if project is not None and not project.can_view(current_user) and _assigned_here(project):
        return project
    return load_project(project_id)  # 404 when missing or not visible


def _load_evaluation(project_id: int, evaluation_id: int) -> tuple[Project, PerformanceEvaluation]:
    project = _load(project_id)
    ev = db.session.get(PerformanceEvaluation, evaluation_id)
    if ev is None or ev.project_id != project.id or not ev.visible_to(current_user):
        abort(404)
    return project, ev


def _evaluator_tabs(project):
    """An assigned evaluator who cannot otherwise see the project gets only this tab."""
    return [(TAB, "绩效评价", url_for(TAB, project_id=project.id))]


def _render(template: str, project: Project, *, status: int = 200, **context):
    extra = {} if project.can_view(current_user) else {"project_tabs": _evaluator_tabs}
    return render_template(template, project=project, active_tab=TAB, evaluation_tones=EVALUATION_TONES,
                           grade_tones=GRADE_TONES, bands=band_text(), **extra, **context), status


def _refused(exc: services.EvaluationError, back: str):
    db.session.rollback()
    if exc.status == 403:
        abort(403)
    flash(exc.message, "danger")
    return redirect(back)


# --------------------------------------------------------------------------- the project tab


def _assign_form(project: Project, formdata=None) -> forms.AssignForm:
    form = forms.AssignForm(formdata=formdata)
    form.template_id.choices = select_choices([(t.id, f"{t.name}（{t.stages_label}）") for t in services.templates_for()])
    if formdata is None:  # offer the stage still to be arranged
        taken = {ev.stage for ev in services.project_evaluations(project) if ev.status != EvaluationStatus.CANCELLED}
        form.stage.data = next((s.value for s in EvaluationStage if s not in taken), EvaluationStage.FINAL.value)
        # preselect a template made for that stage (one made for it alone first), not the first by name
        fitting = services.templates_for(EvaluationStage(form.stage.data))
        own = [t for t in fitting if not all(t.fits(s) for s in EvaluationStage)]
        if own or fitting:
            form.template_id.data = (own or fitting)[0].id
    form.evaluator_id.choices = select_choices([(u.id, f"{u.name}（{u.role.label}）") for u in services.eligible_evaluators(project)])
    return form


def _render_tab(project: Project, *, form=None, status: int = 200):
    manager = project.can_manage(current_user)
    evaluations = [ev for ev in services.project_evaluations(project) if ev.visible_to(current_user)]
    return _render(
        "projects/evaluations/project.html", project, status=status, page_title="绩效评价",
        evaluations=evaluations, manager=manager, form=form if form is not None else (_assign_form(project) if manager else None),
        midterm=services.latest_grade(project, EvaluationStage.MIDTERM),
        final=services.latest_grade(project, EvaluationStage.FINAL),
        overdue=services.overdue_reports_count(project) if manager else None, current_total=services.current_total,
    )


@bp.get("/projects/<int:project_id>/evaluations")
@login_required
def project_evaluations(project_id: int):
    return _render_tab(_load(project_id))


@bp.post("/projects/<int:project_id>/evaluations")
@login_required
def assign(project_id: int):
    project = load_project(project_id, need="manage")
    form = _assign_form(project, request.form)
    if not form.validate():
        flash("请检查评价安排中标出的项目", "danger")
        return _render_tab(project, form=form, status=422)
    try:
        ev = services.assign_evaluation(
            project, stage=EvaluationStage(form.stage.data), template=db.session.get(IndicatorTemplate, form.template_id.data),
            evaluator=db.session.get(User, form.evaluator_id.data),
            due_on=form.due_on.data, by=current_user)
    except services.EvaluationError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(exc.message, "danger")
        return _render_tab(load_project(project_id, need="manage"), form=form, status=exc.status)
    db.session.commit()
    flash(f"已安排{ev.stage.label}，评价人：{ev.evaluator.name}", "success")
    return redirect(url_for(TAB, project_id=project.id))


# --------------------------------------------------------------------------- one evaluation


def _tree_rows(ev: PerformanceEvaluation) -> list[dict]:
    scores = ev.score_map
    rows = []
    for n in ev.nodes:
        s = scores.get(n["code"])
        if n["leaf"]:
            points = s.points if s else None
        else:
            prefix = n["code"] + "."
            points = sum((x.points for c, x in scores.items() if c.startswith(prefix)), services.ZERO) if scores else None
        rows.append({**n, "points": points, "comment": s.comment if s else ""})
    return rows


@bp.get("/projects/<int:project_id>/evaluations/<int:evaluation_id>")
@login_required
def detail(project_id: int, evaluation_id: int):
    project, ev = _load_evaluation(project_id, evaluation_id)
    return _render("projects/evaluations/detail.html", project, page_title=ev.stage.label, ev=ev, rows=_tree_rows(ev),
                   manager=project.can_manage(current_user), total=services.current_total(ev),
                   reason_form=forms.ReasonForm(), empty_form=forms.EmptyForm())


def _render_score(project, ev, *, form, typed=None, errors=None, status=200):
    return _render("projects/evaluations/score.html", project, status=status, page_title=f"{ev.stage.label}评分",
                   ev=ev, rows=_tree_rows(ev), form=form, typed=typed or {}, errors=errors or {},
                   total=services.current_total(ev), overdue_count=services.overdue_reports_count(project),
                   overdue_points=services.overdue_deduction_for(ev, services.overdue_reports_count(project)),
                   bonus_cap=ev.snapshot.get("bonus_cap", "0"))


@bp.route("/projects/<int:project_id>/evaluations/<int:evaluation_id>/score", methods=["GET", "POST"])
@login_required
def score(project_id: int, evaluation_id: int):
    project, ev = _load_evaluation(project_id, evaluation_id)
    if not ev.is_evaluator(current_user):
        abort(403)
    if ev.status not in SCORING_STATUSES:
        if request.method == "GET":
            return redirect(url_for("evaluations.detail", project_id=project.id, evaluation_id=ev.id))
        flash(f"该评价{ev.status.label}，不能再修改评分", "danger")
        return _render_score(project, ev, form=forms.ScoreForm(formdata=None, obj=ev), status=409)
    if request.method == "GET":
        return _render_score(project, ev, form=forms.ScoreForm(obj=ev))
    form = forms.ScoreForm()
    form.validate()
    data, typed = forms.score_input(form, request.form, ev.leaves)
    action = request.form.get("action", "save")
    try:
        services.save_scores(ev, data, by=current_user)
        if action == "submit":
            services.submit_evaluation(ev, by=current_user)
        db.session.commit()
    except services.EvaluationError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(exc.message, "danger")
        project, ev = _load_evaluation(project_id, evaluation_id)
        return _render_score(project, ev, form=form, typed=typed, errors=exc.errors, status=exc.status)
    except StaleDataError:
        db.session.rollback()
        flash("评分已在别处修改，请刷新页面后重试", "danger")
        return redirect(url_for("evaluations.score", project_id=project_id, evaluation_id=evaluation_id))
    if action == "submit":
        flash(f"已提交{ev.stage.label}：总分 {ev.total}，{ev.grade.label}。等待民政工作人员确认。", "success")
        return redirect(url_for("evaluations.detail", project_id=project.id, evaluation_id=ev.id))
    flash("评分已保存", "success")
    return redirect(url_for("evaluations.score", project_id=project.id, evaluation_id=ev.id))


def _staff_action(project_id: int, evaluation_id: int, action, message, *, reason: bool = False):
    project = load_project(project_id, need="manage")
    _p, ev = _load_evaluation(project_id, evaluation_id)
    back = url_for("evaluations.detail", project_id=project.id, evaluation_id=ev.id)
    form = forms.ReasonForm() if reason else forms.EmptyForm()
    if not form.validate():
        db.session.rollback()
        flash(next(iter(form.errors.values()))[0] if form.errors else "请求无效，请刷新页面后重试", "danger")
        return _render("projects/evaluations/detail.html", project, status=422, page_title=ev.stage.label, ev=ev,
                       rows=_tree_rows(ev), manager=True, total=services.current_total(ev),
                       reason_form=form if reason else forms.ReasonForm(), empty_form=forms.EmptyForm())
    try:
        if reason:
            action(ev, by=current_user, reason=form.reason.data)
        else:
            action(ev, by=current_user)
        db.session.commit()
    except services.EvaluationError as exc:
        return _refused(exc, back)
    except StaleDataError:
        db.session.rollback()
        flash("该评价已被他人处理，请刷新后查看", "danger")
        return redirect(back)
    flash(message(ev), "success")
    return redirect(back)


@bp.post("/projects/<int:project_id>/evaluations/<int:evaluation_id>/confirm")
@login_required
def confirm(project_id: int, evaluation_id: int):
    def said(ev):
        return f"已确认{ev.stage.label}：{ev.total}分，{ev.grade.label}。评价报告正在生成。"

    return _staff_action(project_id, evaluation_id, services.confirm_evaluation, said)


@bp.post("/projects/<int:project_id>/evaluations/<int:evaluation_id>/return")
@login_required
def return_evaluation(project_id: int, evaluation_id: int):
    return _staff_action(project_id, evaluation_id, services.return_evaluation,
                         lambda ev: "已退回评价人修改", reason=True)


@bp.post("/projects/<int:project_id>/evaluations/<int:evaluation_id>/cancel")
@login_required
def cancel(project_id: int, evaluation_id: int):
    return _staff_action(project_id, evaluation_id, services.cancel_evaluation,
                         lambda ev: f"已撤销{ev.stage.label}安排，可重新安排评价人", reason=True)


@bp.post("/projects/<int:project_id>/evaluations/<int:evaluation_id>/report")
@login_required
def regenerate_report(project_id: int, evaluation_id: int):
    def said(ev):
        return "正在生成评价报告，完成后可在本页下载。"

    def make(ev, *, by):
        if ev.report_file_id:
            raise services.EvaluationError("评价报告已生成", status=409)
        services.request_report(ev, by=by)

    return _staff_action(project_id, evaluation_id, make, said)


@bp.get("/projects/<int:project_id>/evaluations/<int:evaluation_id>/report.pdf")
@login_required
def report(project_id: int, evaluation_id: int):
    _project, ev = _load_evaluation(project_id, evaluation_id)
    if ev.report_file is None:
        abort(404)
    return send_stored(ev.report_file)


# --------------------------------------------------------------------------- the evaluator's list


@bp.get("/evaluator/evaluations")
@login_required
def my_evaluations():
    if not services.may_evaluate(current_user):
        abort(403)
    status = request.args.get("status", "")
    status = status if status in {"open", *(s.value for s in EvaluationStatus)} else ""
    return render_template("projects/evaluations/mine.html", page=_paged(services.evaluations_of(current_user, status=status)),
                           status=status, statuses=EvaluationStatus, evaluation_tones=EVALUATION_TONES,
                           grade_tones=GRADE_TONES, scoring=SCORING_STATUSES, today=today_local())


# --------------------------------------------------------------------------- indicator templates


def _require_template_editor() -> None:
    if not services.may_edit_templates(current_user):
        abort(403)


@bp.get("/staff/indicator-templates")
@login_required
def templates():
    _require_template_editor()
    q = (request.args.get("q") or "")[:50]
    active = request.args.get("active", "")
    active = active if active in ("", "0", "1") else ""
    page = services.list_templates(q=q, active=active, page=_page_arg())
    return render_template("projects/evaluations/templates.html", page=page, q=q, active=active)


def _editor_rows(typed: list[dict]) -> list[dict]:
    return typed + [{"code": "", "name": "", "points": "", "notes": ""} for _ in range(forms.BLANK_ROWS)]


def _render_editor(template, form, typed, errors=None, status=200):
    return render_template("projects/evaluations/template_edit.html", template=template, form=form,
                           rows=_editor_rows(typed), errors=errors or {}, max_rows=forms.MAX_ROWS), status


def _rows_of(template: IndicatorTemplate) -> list[dict]:
    return [{"code": r.code, "name": r.name, "points": "" if r.max_points is None else services.points_text(r.max_points),
             "notes": r.notes} for r in services.template_rows(template)]


def _save_template(template: IndicatorTemplate | None):
    form = forms.TemplateForm()
    form.validate()
    rows, row_errors, typed = forms.template_rows(request.form)
    data = forms.template_data(form, rows, row_errors)
    try:
        if template is None:
            template = services.create_template(data, by=current_user)
        else:
            services.update_template(template, data, by=current_user)
        db.session.commit()
    except services.EvaluationError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(exc.message, "danger")
        if template is not None and template.id:
            template = db.session.get(IndicatorTemplate, template.id)
        return _render_editor(template, form, typed, exc.errors, exc.status)
    except StaleDataError:
        db.session.rollback()
        flash("该指标体系已被他人修改，请刷新后重试", "danger")
        return _render_editor(template, form, typed, {}, 409)
    flash(f"已保存指标体系“{template.name}”", "success")
    return redirect(url_for("evaluations.edit_template", template_id=template.id))


@bp.route("/staff/indicator-templates/new", methods=["GET", "POST"])
@login_required
def new_template():
    _require_template_editor()
    if request.method == "POST":
        return _save_template(None)
    form = forms.TemplateForm(data={"for_midterm": True, "for_final": True, "active": True,
                                    "overdue_deduction": Decimal("2"),
                                    "overdue_deduction_cap": Decimal("10"), "bonus_cap": Decimal("5")})
    return _render_editor(None, form, [])


@bp.route("/staff/indicator-templates/<int:template_id>", methods=["GET", "POST"])
@login_required
def edit_template(template_id: int):
    _require_template_editor()
    template = db.session.get(IndicatorTemplate, template_id)
    if template is None:
        abort(404)
    if request.method == "POST":
        return _save_template(template)
    return _render_editor(template, forms.TemplateForm(obj=template), _rows_of(template))


@bp.post("/staff/indicator-templates/<int:template_id>/delete")
@login_required
def delete_template(template_id: int):
    _require_template_editor()
    template = db.session.get(IndicatorTemplate, template_id)
    if template is None:
        abort(404)
    if not forms.EmptyForm().validate():
        abort(400)
    name = template.name
    try:
        services.delete_template(template, by=current_user)
        db.session.commit()
    except services.EvaluationError as exc:
        return _refused(exc, url_for("evaluations.edit_template", template_id=template_id))
    flash(f"已删除指标体系“{name}”", "success")
    return redirect(url_for("evaluations.templates"))


# --------------------------------------------------------------------------- annual assessment (考核)


def _require_assessor() -> None:
    from incubator.accounts.models import Role

    if current_user.role not in (Role.STAFF, Role.ADMIN):
        abort(403)


def _year_arg() -> int:
    raw = (request.args.get("year") or "").strip()
    this = today_local().year
    if raw.isdigit() and len(raw) == 4 and 2000 <= int(raw) <= this + 1:
        return int(raw)
    return this


@bp.get("/staff/assessments")
@login_required
def assessments():
    _require_assessor()
    year = _year_arg()
    q = (request.args.get("q") or "")[:50]
    rows = services.annual_assessment(current_user, year, q=q)
    result = request.args.get("result", "")
    if result == "none":
        rows = [r for r in rows if r.result is None]
    elif result:
        rows = [r for r in rows if r.result is not None and r.result.value == result]
    this = today_local().year
    return render_template("projects/evaluations/assessments.html", page=_paged(rows), year=year, q=q, result=result,
                           years=list(range(this + 1, this - 6, -1)), grade_tones=GRADE_TONES, bands=band_text())


@bp.get("/staff/assessments/export")
@login_required
def assessments_export():
    from incubator.core.excel import xlsx_response

    _require_assessor()
    year = _year_arg()
    rows = services.annual_assessment(current_user, year, q=(request.args.get("q") or "")[:50])
    return xlsx_response(f"承接主体年度考核-{year}.xlsx", services.ASSESSMENT_HEADERS, services.assessment_export_rows(rows))
