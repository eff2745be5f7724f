"""公示 pages. Public (anyone, no account): the list of 公示, a 公示 with its projects, organisations, amounts,
experts and end date, and the objection form (rate-limited, CSRF). Staff (/staff/publicity): funding lists,
amounts and approval, starting the 公示, answering objections, finalising.

Thin views: load (404), check permission (403 wrong role, 404 out of scope), parse, one service call,
commit, flash, redirect; a refused form re-renders with 422 (or 409 for the wrong state) and keeps the input.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from incubator.applications.models import STATUS_TONES as APP_TONES
from incubator.core.forms import InputRejected, parse_money
from incubator.db import today_local
from incubator.extensions import db, limiter
from incubator.publicity import services
from incubator.publicity.models import (
    LIST_TONES,
    OBJECTION_TONES,
    PUBLICITY_TONES,
    FundingItem,
    FundingList,
    Objection,
    ObjectionStatus,
    Publicity,
)

bp = Blueprint("publicity", __name__)

from incubator.core.ids import MAX_ID  # noqa: E402
OBJECTION_RATE = "5 per hour;20 per day"


@bp.app_template_global("open_publicities")
def _open_publicities(limit: int = 5):
    return services.open_publicities(limit)


def _as_id(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 11 and int(raw) <= MAX_ID else None


# --------------------------------------------------------------------------- public


@bp.get("/publicity")
def public_index():
    return render_template("publicity/public_index.html", publicities=services.public_publicities(),
                           today=today_local(), tones=PUBLICITY_TONES)


def _render_public(pub: Publicity, *, form: dict | None = None, errors: dict | None = None, status: int = 200):
    today = today_local()
    return render_template(
        "publicity/public_detail.html", pub=pub, flist=pub.funding_list, today=today,
        experts=services.publicity_experts(pub.funding_list), accepting=pub.accepts_objections(today),
        form=form or {}, errors=errors or {}, tones=PUBLICITY_TONES, max_length=services.MAX_OBJECTION_LENGTH,
    ), status


@bp.get("/publicity/<int:publicity_id>")
def public_detail(publicity_id: int):
    pub = services.load_publicity(publicity_id)
    if pub is None:
        abort(404)
    return _render_public(pub)


@bp.post("/publicity/<int:publicity_id>/objections")
@limiter.limit(OBJECTION_RATE, methods=["POST"])
def file_objection(publicity_id: int):
    pub = services.load_publicity(publicity_id)
    if pub is None:
        abort(404)
    f = request.form
    raw_item = (f.get("item_id") or "").strip()
    item_id = _as_id(raw_item)
    form = {k: (f.get(k) or "")[:services.MAX_OBJECTION_LENGTH + 10] for k in ("name", "phone", "email", "content")}
    form["item_id"] = raw_item[:12]
    data = services.clean_objection(name=f.get("name"), phone=f.get("phone"), email=f.get("email"),
                                    content=f.get("content"), item_id=item_id)
    if raw_item and item_id is None:
        data.errors["item_id"] = "请选择本次公示中的项目"
    try:
        obj = services.file_objection(pub, data, ip=request.remote_addr)
    except services.PublicityError as exc:
        db.session.rollback()
        flash(exc.message, "warning" if exc.status_code == 422 else "danger")
        return _render_public(services.load_publicity(publicity_id), form=form, errors=exc.errors,
                              status=exc.status_code)
    db.session.commit()
    session["objection_ref"] = obj.reference
    return redirect(url_for("publicity.objection_received", publicity_id=pub.id))


@bp.get("/publicity/<int:publicity_id>/objection-received")
def objection_received(publicity_id: int):
    pub = db.session.get(Publicity, publicity_id)
    if pub is None:
        abort(404)
    reference = session.pop("objection_ref", None)
    if not reference:
        return redirect(url_for("publicity.public_detail", publicity_id=pub.id))
    return render_template("publicity/objection_received.html", pub=pub, reference=reference)


# --------------------------------------------------------------------------- staff


def _require_staff() -> None:
    if not services.may_manage(current_user):
        abort(403)


def _load_list(list_id: int) -> FundingList:
    _require_staff()
    flist = db.session.get(FundingList, list_id)
    if flist is None or not flist.can_manage(current_user):
        abort(404)
    return flist


@bp.get("/staff/publicity/")
@login_required
def staff_index():
    _require_staff()
    return render_template("publicity/staff_index.html", lists=services.visible_lists(current_user),
                           list_tones=LIST_TONES, today=today_local())


def _render_list(flist: FundingList, *, typed: dict | None = None, errors: dict | None = None, status: int = 200):
    flist = services.funding_list_for(flist.call)
    problems, whole = services.approval_problems(flist)
    pub = flist.publicity
    today = today_local()
    return render_template(
        "publicity/list_detail.html", flist=flist, call=flist.call, pub=pub, typed=typed or {}, errors=errors or {},
        problems=problems, whole_problem=whole, list_tones=LIST_TONES, app_tones=APP_TONES,
        objection_tones=OBJECTION_TONES, today=today, workdays=services.publicity_workdays(),
        preview_end=_preview_end(today), finalize_problem=services.finalize_problem(pub, today) if pub else None,
    ), status


def _preview_end(start: date) -> date | None:
    try:
        return services.end_date(start)
    except services.PublicityError:
        return None


@bp.get("/staff/publicity/lists/<int:list_id>")
@login_required
def list_detail(list_id: int):
    return _render_list(_load_list(list_id))


@bp.post("/staff/publicity/lists/<int:list_id>/amounts")
@login_required
def save_amounts(list_id: int):
    flist = _load_list(list_id)
    amounts, typed, errors = {}, {}, {}
    for item in flist.items:
        key = f"amount-{item.id}"
        if key not in request.form:
            continue
        text = request.form.get(key, "")
        typed[item.id] = text[:40]
        try:
            amounts[item.id] = parse_money(text, min_value=None, what="拟资助金额")
        except InputRejected as exc:
            errors[item.id] = str(exc)
    if errors:
        flash("金额未保存：请按提示修改标红的金额。", "warning")
        return _render_list(flist, typed=typed, errors=errors, status=422)
    try:
        services.set_amounts(flist, amounts, by=current_user)
    except services.PublicityError as exc:
        db.session.rollback()
        flash(exc.message, "warning" if exc.status_code == 422 else "danger")
        return _render_list(db.session.get(FundingList, list_id), typed=typed, errors=exc.errors,
                            status=exc.status_code)
    db.session.commit()
    flash("已保存拟资助金额。", "success")
    return redirect(url_for("publicity.list_detail", list_id=flist.id))


@bp.post("/staff/publicity/lists/<int:list_id>/<any(approve, withdraw, start, finalize):action>")
@login_required
def list_action(list_id: int, action: str):
    flist = _load_list(list_id)
    try:
        if action == "approve":
            total = services.approve(flist, by=current_user)
            message = f"已审定拟资助名单：{len(flist.active_items)} 个项目，合计 ¥{total:,.2f}。"
        elif action == "withdraw":
            services.withdraw_approval(flist, by=current_user, reason=request.form.get("reason", ""))
            message = "已撤回审定，可以重新调整名单和金额。"
        elif action == "start":
            start = _start_date(request.form.get("starts_on"))
            pub = services.start_publicity(flist, by=current_user, start=start,
                                           contact=request.form.get("contact", ""))
            message = f"已开始公示：{pub.starts_on.year}年{pub.starts_on.month}月{pub.starts_on.day}日至" \
                      f"{pub.ends_on.year}年{pub.ends_on.month}月{pub.ends_on.day}日（{pub.workdays} 个工作日），已在门户网站发布。"
        else:
            if flist.publicity is None:
                raise services.PublicityError("尚未开始公示。")
            n = services.finalize(flist.publicity, by=current_user)
            message = f"公示结果已确定：{n} 个项目确定资助，已通知申报单位。"
    except services.PublicityError as exc:
        db.session.rollback()
        flash(exc.message, "warning" if exc.status_code == 422 else "danger")
        return _render_list(db.session.get(FundingList, list_id), errors=exc.errors, status=exc.status_code)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("publicity.list_detail", list_id=list_id))


def _start_date(raw: str | None) -> date:
    raw = (raw or "").strip()
    if not raw:
        return today_local()
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise services.InvalidInput("公示开始日期格式不正确") from exc
    if day < today_local():
        raise services.InvalidInput("公示开始日期不能早于今天")
    if (day - today_local()).days > 60:
        raise services.InvalidInput("公示开始日期不能晚于 60 天后")
    return day


def _load_objection(objection_id: int) -> Objection:
    _require_staff()
    obj = db.session.get(Objection, objection_id)
    if obj is None or not obj.publicity.can_manage(current_user):
        abort(404)
    return obj


@bp.route("/staff/publicity/objections/<int:objection_id>", methods=["GET", "POST"])
@login_required
def objection(objection_id: int):
    obj = _load_objection(objection_id)
    flist = obj.publicity.funding_list
    if request.method == "GET":
        return render_template("publicity/objection.html", obj=obj, flist=flist, form={}, errors={},
                               tones=OBJECTION_TONES, app_tones=APP_TONES)
    f = request.form
    form = {"decision": (f.get("decision") or "")[:20], "answer": (f.get("answer") or "")[:5000],
            "item_id": (f.get("item_id") or "")[:12]}
    errors = {}
    if form["decision"] not in ("upheld", "not_upheld"):
        errors["decision"] = "请选择处理结论"
    item = None
    if form["item_id"]:
        item_id = _as_id(form["item_id"])
        item = db.session.get(FundingItem, item_id) if item_id else None
        if item is None or item.list_id != flist.id:
            errors["item_id"] = "请选择本次公示中的项目"
    if not errors:
        try:
            services.answer_objection(obj, upheld=form["decision"] == "upheld", answer=form["answer"],
                                      by=current_user, item=item)
        except services.PublicityError as exc:
            db.session.rollback()
            flash(exc.message, "warning" if exc.status_code == 422 else "danger")
            obj = db.session.get(Objection, objection_id)
            return render_template("publicity/objection.html", obj=obj, flist=obj.publicity.funding_list, form=form,
                                   errors={}, tones=OBJECTION_TONES, app_tones=APP_TONES), exc.status_code
        db.session.commit()
        if obj.status == ObjectionStatus.UPHELD:
            flash(f"已答复：异议成立，已取消 {obj.item.application.number} 的拟资助，并通知申报单位。", "success")
        else:
            flash("已答复：异议不成立。", "success")
        return redirect(url_for("publicity.list_detail", list_id=flist.id))
    flash("答复未保存：请按提示修改。", "warning")
    return render_template("publicity/objection.html", obj=obj, flist=flist, form=form, errors=errors,
                           tones=OBJECTION_TONES, app_tones=APP_TONES), 422
