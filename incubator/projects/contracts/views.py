"""Pages of the project's contracts area.

Project tab (``/projects/<id>/contract``): the steps (生成 → 乙方签章 → 甲方盖章·生效 → 公开), the signing and
publication deadlines with warning / overdue badges, the actions of the user's role (staff of the district:
generate, regenerate before the organisation signs, countersign, publish, amend; members of the
organisation: upload the signed scan), every version with its files (downloads after the project check).
Staff template editor (``/staff/contract-templates``): staff and admins edit the numbered clauses.
Public (``/contracts``): published contract summaries, searchable and paginated; no personal data, no scans.

Thin views: load (404), check permission (403 / 404 out of scope), parse, one service call, commit, flash,
redirect; a refused form re-renders with 422 and keeps the input (409 for the wrong state).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from incubator.core.files import send_stored
from incubator.core.forms import select_choices
from incubator.core.ids import as_id
from incubator.db import today_local
from incubator.extensions import db
from incubator.projects.access import load_project
from incubator.projects.contracts import services
from incubator.projects.contracts.clauses import PLACEHOLDERS
from incubator.projects.contracts.forms import (
    AmendForm,
    ConfirmForm,
    CountersignForm,
    GenerateForm,
    NewTemplateForm,
    OrgSignedForm,
    ReturnForm,
    TemplateForm,
)
from incubator.projects.contracts.models import CONTRACT_TONES, Contract, ContractStatus, ContractTemplate
from incubator.projects.models import Project, ProjectKind

bp = Blueprint("contracts", __name__)

TAB = "contracts.project_contract"
PER_PAGE = 20
STALE = "该合同刚被他人修改，请刷新页面后重试。"
FILES = {"pdf": ("pdf_file", "合同文本"), "org-signed": ("org_signed_file", "乙方签章件"),
         "countersigned": ("countersigned_file", "双方签章件")}


def _contract_of(project: Project, contract_id: int) -> Contract:
    contract = db.session.get(Contract, contract_id)
    if contract is None or contract.project_id != project.id:
        abort(404)
    return contract


def _steps(current: Contract | None) -> list[tuple[str, str]]:
    """[(label, state)] with state done / current / todo."""
    labels = ["生成合同", "乙方签章", "甲方盖章·生效", "公开摘要"]
    if current is None:
        reached = 0
    else:
        reached = {ContractStatus.GENERATED: 1, ContractStatus.ORG_SIGNED: 2}.get(current.status, 3)
        if reached == 3 and current.published_at is not None:
            reached = 4
    return [(label, "done" if i < reached else "current" if i == reached else "todo") for i, label in enumerate(labels)]


def _url(endpoint: str, **kw) -> str | None:
    return url_for(endpoint, **kw) if endpoint in current_app.view_functions else None


def _render_tab(project: Project, *, amend_form=None, countersign_form=None, org_form=None, return_form=None,
                status: int = 200):
    if project.org.is_member(current_user):
        back_link = ("我的项目", _url("projects.my_projects"))
    else:
        back_link = ("项目管理", _url("projects.staff_index"))
    contracts = services.contracts_of(project)
    current = contracts[0] if contracts else None
    in_force = next((c for c in contracts if c.status == ContractStatus.IN_FORCE), None)
    can_manage = project.can_manage(current_user)
    is_member = project.org.is_member(current_user)
    generate_form = GenerateForm()
    templates = services.templates_for(project.kind) if can_manage else []
    generate_form.template_id.choices = select_choices([("", "默认模板")] + [(t.id, t.name) for t in templates])
    return render_template(
        "projects/contracts/tab.html", project=project, active_tab=TAB, page_title="合同",
        contracts=contracts, current=current, in_force=in_force, can_manage=can_manage, is_member=is_member,
        steps=_steps(current), deadlines=services.deadlines(project, current), tones=CONTRACT_TONES,
        generate_form=generate_form, amend_form=amend_form or AmendForm(), confirm_form=ConfirmForm(),
        countersign_form=countersign_form or CountersignForm(data={"signed_on": today_local()}),
        org_form=org_form or OrgSignedForm(), return_form=return_form or ReturnForm(), ContractStatus=ContractStatus, files=FILES,
        active=project.status.value not in ("closed", "terminated"), today=today_local(), back_link=back_link,
        project_url=_url("projects.detail", project_id=project.id),
    ), status


def _refused(project: Project, exc: services.ContractError, **forms):
    db.session.rollback()
    if exc.status_code == 403:
        abort(403)
    flash(exc.message, "danger")
    project = db.session.get(Project, project.id)
    return _render_tab(project, status=exc.status_code, **forms)


def _stale(project_id: int):
    db.session.rollback()
    flash(STALE, "warning")
    return redirect(url_for(TAB, project_id=project_id), 303)


def _apply(project: Project, action, done, **forms):
    """Run one service call and commit; a refusal re-renders the tab keeping ``forms``, a stale row redirects.
    ``done`` is the success message, or a function of the action's result that makes it."""
    try:
        result = action()
        db.session.commit()
    except services.ContractError as exc:
        return _refused(project, exc, **forms)
    except StaleDataError:
        return _stale(project.id)
    flash(done(result) if callable(done) else done, "success")
    return redirect(url_for(TAB, project_id=project.id), 303)


@bp.get("/projects/<int:project_id>/contract")
@login_required
def project_contract(project_id: int):
    return _render_tab(load_project(project_id, "view"))


@bp.post("/projects/<int:project_id>/contract/generate")
@login_required
def generate(project_id: int):
    project = load_project(project_id, "manage")
    form = GenerateForm()
    if not form.validate():
        abort(400)
    template = None
    raw = form.template_id.data
    if raw:
        template = db.session.get(ContractTemplate, as_id(raw) or 0)
        if template is None:
            flash("所选合同模板不存在", "danger")
            return _render_tab(project, status=422)
    return _apply(project, lambda: services.generate(project, by=current_user, template=template),
                  lambda contract: f"合同 {contract.number} 已生成，正在排版PDF，稍后即可下载。")


@bp.post("/projects/<int:project_id>/contract/amend")
@login_required
def amend(project_id: int):
    project = load_project(project_id, "manage")
    form = AmendForm()
    if not form.validate():
        flash("请填写变更原因", "danger")
        return _render_tab(project, amend_form=form, status=422)
    in_force = services.contract_in_force(project)
    if in_force is None:
        flash("没有已生效的合同，不能办理变更", "danger")
        return _render_tab(project, amend_form=form, status=409)
    return _apply(project, lambda: services.amend(in_force, by=current_user, reason=form.reason.data),
                  lambda contract: f"已发起合同变更（第{contract.version}版），请按原流程签订。", amend_form=form)


@bp.post("/projects/<int:project_id>/contract/<int:contract_id>/org-signed")
@login_required
def upload_org_signed(project_id: int, contract_id: int):
    project = load_project(project_id, "member")
    contract = _contract_of(project, contract_id)
    form = OrgSignedForm()
    if not form.validate():
        return _render_tab(project, org_form=form, status=422)
    return _apply(project, lambda: services.upload_org_signed(contract, request.files.get("file"), by=current_user),
                  "签章合同已上传，等待民政部门盖章会签。", org_form=form)


@bp.post("/projects/<int:project_id>/contract/<int:contract_id>/return")
@login_required
def return_org_signed(project_id: int, contract_id: int):
    project = load_project(project_id, "manage")
    contract = _contract_of(project, contract_id)
    form = ReturnForm()
    if not form.validate():
        return _render_tab(project, return_form=form, status=422)
    return _apply(project, lambda: services.return_org_signed(contract, by=current_user, reason=form.reason.data),
                  "已退回承接组织重新签章上传。", return_form=form)


@bp.post("/projects/<int:project_id>/contract/<int:contract_id>/countersign")
@login_required
def countersign(project_id: int, contract_id: int):
    project = load_project(project_id, "manage")
    contract = _contract_of(project, contract_id)
    form = CountersignForm()
    if not form.validate():
        return _render_tab(project, countersign_form=form, status=422)
    return _apply(project, lambda: services.countersign(contract, request.files.get("file"), by=current_user,
                                                        signed_on=form.signed_on.data),
                  "合同已生效。请在签订后2个工作日内公开合同摘要。", countersign_form=form)


@bp.post("/projects/<int:project_id>/contract/<int:contract_id>/publish")
@login_required
def publish(project_id: int, contract_id: int):
    project = load_project(project_id, "manage")
    contract = _contract_of(project, contract_id)
    if not ConfirmForm().validate():
        abort(400)
    return _apply(project, lambda: services.publish(contract, by=current_user),
                  "合同摘要已在门户网站公开。")


@bp.get("/projects/<int:project_id>/contract/<int:contract_id>/files/<kind>")
@login_required
def download(project_id: int, contract_id: int, kind: str):
    project = load_project(project_id, "view")
    contract = _contract_of(project, contract_id)
    if kind not in FILES:
        abort(404)
    stored = getattr(contract, FILES[kind][0])
    if stored is None:
        abort(404)
    return send_stored(stored, inline=kind == "pdf")


# --------------------------------------------------------------------------- templates (staff)


def _require_editor() -> None:
    if not services.may_edit_templates(current_user):
        abort(403)


@bp.get("/staff/contract-templates")
@login_required
def templates_index():
    _require_editor()
    rows = {kind: services.templates_for(kind) for kind in ProjectKind}
    return render_template("projects/contracts/templates_index.html", rows=rows, form=NewTemplateForm(),
                           ProjectKind=ProjectKind)


@bp.post("/staff/contract-templates/new")
@login_required
def template_new():
    _require_editor()
    form = NewTemplateForm()
    if not form.validate():
        flash("请选择适用的项目类型", "danger")
        rows = {kind: services.templates_for(kind) for kind in ProjectKind}
        return render_template("projects/contracts/templates_index.html", rows=rows, form=form,
                               ProjectKind=ProjectKind), 422
    template = services.create_template(ProjectKind(form.kind.data), name=form.name.data or "", by=current_user)
    db.session.commit()
    flash("已按默认条款新建模板，请修改后保存。", "success")
    return redirect(url_for("contracts.template_edit", template_id=template.id), 303)


def _render_editor(template: ContractTemplate, form: TemplateForm, clauses: list[dict], errors: dict, status=200):
    return render_template("projects/contracts/template_edit.html", template=template, form=form,
                           clauses=clauses, errors=errors, placeholders=PLACEHOLDERS, blank_rows=2), status


@bp.route("/staff/contract-templates/<int:template_id>", methods=["GET", "POST"])
@login_required
def template_edit(template_id: int):
    _require_editor()
    template = db.session.get(ContractTemplate, template_id)
    if template is None:
        abort(404)
    if request.method == "GET":
        form = TemplateForm(data={"name": template.name, "title": template.title, "is_default": template.is_default})
        return _render_editor(template, form, list(template.clauses or []), {})
    form = TemplateForm()
    headings, bodies = request.form.getlist("heading"), request.form.getlist("body")
    if len(headings) != len(bodies) or len(headings) > services.MAX_CLAUSES + 10:
        abort(400)
    typed = [{"heading": h[:100], "body": b[:services.MAX_CLAUSE_CHARS + 100]} for h, b in zip(headings, bodies)]
    clauses, errors = services.check_clauses(list(zip(headings, bodies)))
    ok = form.validate()
    if any("\x00" in h or "\x00" in b for h, b in zip(headings, bodies)):
        errors[-1] = "条款含有不允许的控制字符"
    if not ok or errors:
        flash("模板未保存，请修改标红的内容。", "danger")
        return _render_editor(template, form, typed, errors, status=422)
    try:
        services.update_template(template, name=form.name.data, title=form.title.data, clauses=clauses,
                                 is_default=form.is_default.data, by=current_user)
        db.session.commit()
    except services.ContractError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _render_editor(template, form, typed, {}, status=exc.status_code)
    except StaleDataError:
        db.session.rollback()
        flash("该模板刚被他人修改，请刷新后重新编辑。", "warning")
        return redirect(url_for("contracts.template_edit", template_id=template_id), 303)
    flash("合同模板已保存。已生成的合同不受影响，重新生成或新签合同时使用新条款。", "success")
    return redirect(url_for("contracts.template_edit", template_id=template_id), 303)


# --------------------------------------------------------------------------- public


@bp.get("/contracts")
def public_index():
    q = (request.args.get("q") or "").strip()[:50]
    page_no = as_id(request.args.get("page")) or 1
    kind = request.args.get("kind") or ""
    kind = kind if kind in {k.value for k in ProjectKind} else ""
    page = db.paginate(services.published_contracts(q, kind), page=page_no, per_page=PER_PAGE, error_out=False)
    summaries = [(c, services.public_summary(c)) for c in page.items]
    return render_template("projects/contracts/public_index.html", page=page, summaries=summaries, q=q, kind=kind,
                           kinds=ProjectKind)


@bp.get("/contracts/<int:contract_id>")
def public_detail(contract_id: int):
    contract = services.public_contract(contract_id)
    if contract is None:
        abort(404)
    return render_template("projects/contracts/public_detail.html", s=services.public_summary(contract),
                           contract=contract)
