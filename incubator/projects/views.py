"""Pages of funded projects: lists, 立项, the project overview, tranches and payments, the staff desk.

Thin views: load (404 — another district's or organisation's project is never revealed), check the right
(403), parse (WTForms), one service call, commit, flash, redirect. A refused form re-renders with 422 and
keeps what the user typed; a step in the wrong state answers 409 with a Chinese message.

Routes (endpoint — who):
  /staff/projects/                     staff_index             staff (district: own district), admins, finance (read)
  /my/projects                         my_projects             members of an organisation (its projects only)
  /staff/applications/<id>/launch      launch_from_application staff of the application's district
  /staff/projects/new                  new_purchase            staff (suppliers: verified organisations in scope)
  /projects/<id>                       detail                  whoever may view the project
  /projects/<id>/tranches              tranches                whoever may view; actions by right
  /projects/<id>/tranches/schedule     set_schedule            staff managing the project
  /projects/<id>/tranches/<t>/request  request_payment         the organisation's members, managing staff
  /projects/<id>/payments/<r>/approve  staff_approve_payment   staff managing the project
  /projects/<id>/payments/<r>/pay      finance_pay             finance
  /finance/payments                    finance_queue           finance, admins (read)
  /staff/desk                          desk                    staff, finance, admins
"""
from __future__ import annotations

from collections import OrderedDict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from incubator.accounts.models import Role
from incubator.core.ids import as_id
from incubator.core.states import InvalidTransition, history
from incubator.db import today_local
from incubator.extensions import db
from incubator.projects import services
from incubator.projects.access import load_project
from incubator.projects.forms import ConfirmForm, LaunchForm, PayForm, PurchaseForm, ScheduleForm, first_error
from incubator.projects.models import (
    PROJECT_TONES,
    TRANCHE_TONES,
    PaymentRequest,
    PaymentStatus,
    Project,
    ProjectKind,
    ProjectStatus,
    Tranche,
    TrancheCondition,
    TrancheStatus,
)

bp = Blueprint("projects", __name__)

PER_PAGE = 20
PAYMENT_TONES = {"requested": "warning", "staff_approved": "primary", "paid": "success"}


@bp.app_context_processor
def _project_layout():
    from incubator.projects.tabs import project_tabs

    return {"project_tabs": project_tabs, "project_tones": PROJECT_TONES,
            "tranche_condition_label": _condition_label, "project_of_application": _project_of_application}


def _condition_label(value) -> str:
    try:
        return TrancheCondition(str(getattr(value, "value", value))).label
    except ValueError:
        return str(value)


def _project_of_application(application):
    """For the staff application page: the project of a funded application, or None (立项 button)."""
    if application is None or getattr(application, "id", None) is None:
        return None
    return services.project_for_application(application)


# --------------------------------------------------------------------------- helpers


def _require(*roles: Role) -> None:
    if not current_user.is_authenticated or current_user.role not in roles:
        abort(403)


def _districts():
    from incubator.regions.models import District

    return list(db.session.scalars(db.select(District).order_by(District.code)))


def _arg_int(name: str) -> int | None:
    return as_id(request.args.get(name))


def _year_arg() -> int | None:
    value = as_id(request.args.get("year"))
    return value if value and 2000 <= value <= 2100 else None


def _conflict(message: str, project_id: int):
    db.session.rollback()
    flash(message, "danger")
    return _render_tranches(load_project(project_id), status=409)


# --------------------------------------------------------------------------- lists


@bp.get("/staff/projects/")
@login_required
def staff_index():
    _require(Role.STAFF, Role.ADMIN, Role.FINANCE)
    city = current_user.role != Role.STAFF or current_user.is_city_staff
    filters = {
        "q": (request.args.get("q") or "")[:100],
        "status": request.args.get("status") or "",
        "kind": request.args.get("kind") or "",
        "year": _year_arg(),
        "district_id": _arg_int("district") if city else None,
    }
    stmt = services.project_query(current_user, **filters)
    page = db.paginate(stmt, page=as_id(request.args.get("page")) or 1, per_page=PER_PAGE, error_out=False)
    to_launch = (db.session.scalars(services.to_launch_query(current_user).limit(10)).all()
                 if current_user.role == Role.STAFF else [])
    return render_template(
        "projects/staff_index.html", page=page, projects=page.items, filters=filters, city=city,
        districts=_districts() if city else [], years=services.project_years(current_user),
        statuses=ProjectStatus, kinds=ProjectKind, to_launch=to_launch,
        to_launch_count=services.count_to_launch(current_user),
        can_launch=current_user.role == Role.STAFF, tranche_tones=TRANCHE_TONES,
    )


@bp.get("/my/projects")
@login_required
def my_projects():
    _require(Role.APPLICANT)
    if not current_user.org_id:
        abort(403)
    stmt = services.project_query(current_user, q=(request.args.get("q") or "")[:100],
                                  status=request.args.get("status") or "")
    page = db.paginate(stmt, page=as_id(request.args.get("page")) or 1, per_page=PER_PAGE, error_out=False)
    return render_template("projects/my_projects.html", page=page, projects=page.items, statuses=ProjectStatus,
                           filters={"q": request.args.get("q") or "", "status": request.args.get("status") or ""},
                           tranche_tones=TRANCHE_TONES)


# --------------------------------------------------------------------------- 立项


def _load_funded_application(app_id: int):
    from incubator.applications.models import Application

    _require(Role.STAFF)
    application = db.session.get(Application, app_id)
    if application is None or not current_user.sees_district(application.org.district_id):
        abort(404)
    return application


def _render_launch(form, application, status: int = 200):
    return render_template("projects/launch.html", form=form, application=application,
                           granted=services.granted_amount(application),
                           existing=services.project_for_application(application)), status


@bp.route("/staff/applications/<int:app_id>/launch", methods=["GET", "POST"])
@login_required
def launch_from_application(app_id: int):
    application = _load_funded_application(app_id)
    existing = services.project_for_application(application)
    if existing is not None:
        flash(f"该申报项目已立项（{existing.number}），同一项目不重复立项。", "info")
        return redirect(url_for("projects.detail", project_id=existing.id))
    if request.method == "GET":
        form = LaunchForm(data=services.launch_defaults(application))
        return _render_launch(form, application)
    form = LaunchForm()
    if not form.validate():
        flash("未能立项：请按提示修改标红的内容。", "warning")
        return _render_launch(form, application, 422)
    return _launch(lambda: services.launch_from_application(application, by=current_user, **form.launch_kwargs()),
                   form, lambda: _render_launch(form, application, 422),
                   "已立项：{number}。已按申报通知的分期拨付计划生成拨付计划，可在“分期拨付”中调整。")


def _launch(launch, form, rerender, done: str):
    """立项 through ``launch()``, then the default tranche schedule, commit and go to the project; a refusal
    marks the field it names and re-renders the form (422) with what was typed."""
    try:
        project = launch()
    except services.NotAllowed as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        abort(403)
    except services.ProjectError as exc:
        db.session.rollback()
        flash(f"未能立项：{exc}", "warning")
        _mark_field(form, str(exc))
        return rerender()
    _apply_default_schedule(project)
    db.session.commit()
    flash(done.format(number=project.number), "success")
    return redirect(url_for("projects.detail", project_id=project.id))


def _apply_default_schedule(project) -> None:
    plan = services.default_plan(project)
    try:
        with db.session.begin_nested():
            services.set_tranche_schedule(project, [s for s, _ in plan], [c for _, c in plan], by=current_user)
    except services.ProjectError:  # a call plan that no longer adds up: staff set it on the tranches tab
        pass


# A refusal of the service shown next to the field it is about (the flash says it too).
_ERROR_FIELDS = (("理由", "term_reason"), ("服务期限", "term_end"), ("预算", "budget_line"), ("金额", "amount"),
                 ("项目名称", "title"), ("承接主体", "org_id"))


def _mark_field(form, message: str) -> None:
    for word, name in _ERROR_FIELDS:
        field = getattr(form, name, None)
        if word in message and field is not None:
            field.errors = [*field.errors, message]
            return


def _supplier_choices(q: str, selected: str | None):
    from incubator.orgs.models import Organization

    orgs = list(db.session.scalars(services.supplier_query(current_user, q).limit(200)))
    chosen = as_id(selected)
    if chosen and all(o.id != chosen for o in orgs):
        org = db.session.scalar(services.supplier_query(current_user).where(Organization.id == chosen))
        if org is not None:
            orgs.insert(0, org)
    label = (lambda o: f"{o.name}（{o.district.name if o.district else ''}，{o.uscc or o.filing_number or ''}）")
    return [("", "—请选择承接主体—")] + [(str(o.id), label(o)) for o in orgs], len(orgs)


def _render_purchase(form, q: str, status: int = 200):
    from incubator.core.forms import select_choices

    choices, found = _supplier_choices(q, form.org_id.data)
    form.org_id.choices = select_choices(choices)
    return render_template("projects/new_purchase.html", form=form, q=q, found=found), status


@bp.route("/staff/projects/new", methods=["GET", "POST"])
@login_required
def new_purchase():
    from incubator.core.forms import select_choices
    from incubator.orgs.models import Organization

    _require(Role.STAFF)
    q = (request.args.get("q") or "")[:100]
    if request.method == "GET":
        year = today_local().year
        form = PurchaseForm(data={"budget_year": year, "org_id": request.args.get("org") or ""})
        return _render_purchase(form, q)
    form = PurchaseForm()
    choices, _ = _supplier_choices("", request.form.get("org_id"))
    form.org_id.choices = select_choices(choices)
    if not form.validate():
        flash("未能立项：请按提示修改标红的内容。", "warning")
        return _render_purchase(form, q, 422)
    org = db.session.scalar(services.supplier_query(current_user).where(Organization.id == as_id(form.org_id.data)))
    if org is None:
        form.org_id.errors.append("请选择本辖区已认证的社会组织作为承接主体")
        return _render_purchase(form, q, 422)
    return _launch(lambda: services.launch_purchase(org, by=current_user, **form.launch_kwargs()),
                   form, lambda: _render_purchase(form, q, 422),
                   "已立项：{number}（政府购买服务）。已按默认计划生成分期拨付，可在“分期拨付”中调整。")


# --------------------------------------------------------------------------- overview


def _history_rows(obj) -> list[dict]:
    rows = []
    for h in history(obj):
        try:
            label = ProjectStatus(h.to_status).label
        except ValueError:
            label = h.to_status
        rows.append({"at": h.at, "label": label, "actor": (h.by_label or "").split(" <", 1)[0], "note": h.note})
    return rows


@bp.get("/projects/<int:project_id>")
@login_required
def detail(project_id: int):
    project = load_project(project_id)
    tranches = list(project.tranches)
    return render_template(
        "projects/detail.html", project=project, active_tab="projects.detail", page_title="概况",
        history=_history_rows(project), tranches=tranches, tranche_tones=TRANCHE_TONES,
        scheduled_total=sum((t.amount for t in tranches), project.amount * 0),
        requested_total=sum((t.amount for t in tranches if t.status in (TrancheStatus.REQUESTED,
                                                                         TrancheStatus.APPROVED_BY_STAFF)),
                            project.amount * 0),
        can_manage=project.can_manage(current_user),
    )


# --------------------------------------------------------------------------- tranches and payments


def _tranche_rows(project) -> list[dict]:
    rows = []
    manage = project.can_manage(current_user)
    member = project.org.is_member(current_user)
    closed = project.status in (ProjectStatus.CLOSED, ProjectStatus.TERMINATED)
    for t in project.tranches:
        req = t.payment
        why = None
        if t.status == TrancheStatus.PENDING:
            why = f"拨付条件“{t.condition.label}”尚未满足"
        elif t.status == TrancheStatus.STOPPED:
            why = f"已停止：{t.stop_reason}" if t.stop_reason else "已停止拨付"
        rows.append({
            "t": t, "req": req, "why": why, "met_on": getattr(project, Project.CONDITION_FIELDS[t.condition]),
            "can_request": (manage or member) and t.status == TrancheStatus.REQUESTABLE and req is None and not closed,
            "can_approve": manage and req is not None and req.status == PaymentStatus.REQUESTED,
            "can_pay": project.can_pay(current_user) and req is not None and req.status == PaymentStatus.STAFF_APPROVED,
        })
    return rows


def _render_tranches(project, *, schedule_form=None, pay_forms=None, status: int = 200):
    manage = project.can_manage(current_user)
    editable = manage and project.status not in (ProjectStatus.CLOSED, ProjectStatus.TERMINATED) and all(
        t.status in (TrancheStatus.PENDING, TrancheStatus.REQUESTABLE) for t in project.tranches)
    if schedule_form is None and editable:
        rows = ([{"share": t.share, "condition": t.condition.value} for t in project.tranches]
                or [{"share": s, "condition": c.value} for s, c in services.default_plan(project)])
        schedule_form = ScheduleForm(formdata=None, data={"rows": rows})
        schedule_form.pad_rows()
    rows = _tranche_rows(project)
    pay_forms = pay_forms or {}
    for row in rows:
        if row["can_pay"] and row["req"].id not in pay_forms:
            pay_forms[row["req"].id] = PayForm(formdata=None, data={"paid_on": today_local()},
                                               prefix=f"pay{row['req'].id}")
    return render_template(
        "projects/tranches.html", project=project, active_tab="projects.tranches", page_title="分期拨付",
        rows=rows, tranche_tones=TRANCHE_TONES, payment_tones=PAYMENT_TONES, schedule_form=schedule_form,
        editable=editable, pay_forms=pay_forms, confirm_form=ConfirmForm(), can_manage=manage,
        default_plan=services.default_plan(project), total=sum((t.amount for t in project.tranches), project.amount * 0),
    ), status


@bp.get("/projects/<int:project_id>/tranches")
@login_required
def tranches(project_id: int):
    return _render_tranches(load_project(project_id))


@bp.post("/projects/<int:project_id>/tranches/schedule")
@login_required
def set_schedule(project_id: int):
    project = load_project(project_id, need="manage")
    form = ScheduleForm()
    if not form.validate():
        form.pad_rows()
        flash(f"拨付计划未保存：{form.plan_error or first_error(form)}", "warning")
        return _render_tranches(project, schedule_form=form, status=422)
    plan = form.plan()
    try:
        services.set_tranche_schedule(project, [s for s, _ in plan], [c for _, c in plan], by=current_user)
        db.session.commit()
    except (services.ProjectError, StaleDataError, InvalidTransition) as exc:
        message = str(exc) if isinstance(exc, services.ProjectError) else "拨付计划已被他人修改，请刷新后重试"
        return _conflict(f"拨付计划未保存：{message}", project_id)
    flash(f"已保存拨付计划：共{len(plan)}期，合计 ¥{project.amount:,.2f}。", "success")
    return redirect(url_for("projects.tranches", project_id=project.id))


def _tranche_of(project, tranche_id: int) -> Tranche:
    tranche = db.session.get(Tranche, tranche_id)
    if tranche is None or tranche.project_id != project.id:
        abort(404)
    return tranche


def _payment_of(project, request_id: int) -> PaymentRequest:
    req = db.session.get(PaymentRequest, request_id)
    if req is None or req.tranche.project_id != project.id:
        abort(404)
    return req


ALREADY_HANDLED = "该拨付申请已被他人处理，请刷新后查看"


def _payment_step(project_id: int, action, stale: str):
    """Run one payment service call and commit. None when done; else the response: 403 for a user without
    the right, 409 with the refusal (or ``stale`` when someone else moved the row first)."""
    try:
        action()
        db.session.commit()
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except (services.ProjectError, StaleDataError, InvalidTransition) as exc:
        return _conflict(str(exc) if isinstance(exc, services.ProjectError) else stale, project_id)
    return None


@bp.post("/projects/<int:project_id>/tranches/<int:tranche_id>/request")
@login_required
def request_payment(project_id: int, tranche_id: int):
    project = load_project(project_id)
    if not (project.org.is_member(current_user) or project.can_manage(current_user)):
        abort(403)
    tranche = _tranche_of(project, tranche_id)
    if not ConfirmForm().validate():
        abort(400)
    refused = _payment_step(project_id, lambda: services.request_payment(tranche, by=current_user),
                            "该期拨付状态已变化，请刷新后重试")
    if refused is not None:
        return refused
    flash(f"已申请第{tranche.sequence}期拨付（¥{tranche.amount:,.2f}），等待业务科室审核。", "success")
    return redirect(url_for("projects.tranches", project_id=project.id))


@bp.post("/projects/<int:project_id>/payments/<int:request_id>/approve")
@login_required
def staff_approve_payment(project_id: int, request_id: int):
    project = load_project(project_id, need="manage")
    req = _payment_of(project, request_id)
    if not ConfirmForm().validate():
        abort(400)
    refused = _payment_step(project_id, lambda: services.approve_by_staff(req, by=current_user), ALREADY_HANDLED)
    if refused is not None:
        return refused
    flash(f"已审核第{req.tranche.sequence}期拨付申请，已转财务拨付。", "success")
    return redirect(url_for("projects.tranches", project_id=project.id))


@bp.post("/projects/<int:project_id>/payments/<int:request_id>/pay")
@login_required
def finance_pay(project_id: int, request_id: int):
    project = load_project(project_id, need="pay")
    req = _payment_of(project, request_id)
    form = PayForm(prefix=f"pay{req.id}")
    if not form.validate():
        flash(f"未拨付：{first_error(form)}", "warning")
        return _render_tranches(project, pay_forms={req.id: form}, status=422)
    refused = _payment_step(project_id, lambda: services.approve_by_finance(
        req, by=current_user, paid_on=form.paid_on.data, voucher_no=form.voucher_no.data), ALREADY_HANDLED)
    if refused is not None:
        return refused
    flash(f"已拨付第{req.tranche.sequence}期 ¥{req.amount:,.2f}（凭证号 {req.voucher_no}）。", "success")
    if request.form.get("back") == "queue":
        return redirect(url_for("projects.finance_queue"))
    return redirect(url_for("projects.tranches", project_id=project.id))


# --------------------------------------------------------------------------- finance and the desk


@bp.get("/finance/payments")
@login_required
def finance_queue():
    _require(Role.FINANCE, Role.ADMIN)
    state = request.args.get("state") if request.args.get("state") in ("waiting", "paid") else "waiting"
    filters = {"q": (request.args.get("q") or "")[:100], "district_id": _arg_int("district")}
    stmt = services.payment_query(current_user, state=state, **filters)
    page = db.paginate(stmt, page=as_id(request.args.get("page")) or 1, per_page=PER_PAGE, error_out=False)
    waiting = services.count_payments(current_user, "waiting")
    pay_forms = {}
    if state == "waiting" and current_user.role == Role.FINANCE:
        pay_forms = {r.id: PayForm(formdata=None, data={"paid_on": today_local()}, prefix=f"pay{r.id}")
                     for r in page.items}
    return render_template("projects/finance_queue.html", page=page, payments=page.items, state=state,
                           filters=filters, districts=_districts(), waiting=waiting, payment_tones=PAYMENT_TONES,
                           today=today_local(), pay_forms=pay_forms)


@bp.get("/staff/desk")
@login_required
def desk():
    from incubator.projects.desk import collect

    _require(Role.STAFF, Role.FINANCE, Role.ADMIN)
    items = collect(current_user)
    groups: OrderedDict[str, list] = OrderedDict()
    for item in items:
        groups.setdefault(item.area, []).append(item)
    # groups with overdue items first, then by size
    ordered = sorted(groups.items(), key=lambda kv: (not any(i.overdue for i in kv[1]), -len(kv[1])))
    return render_template("projects/desk.html", groups=ordered, total=len(items),
                           overdue=sum(1 for i in items if i.overdue), today=today_local())
