"""Review pages. Staff (/staff/review): rounds, rubric, entries, conflicts, the draw, assignments and
scores of the calls in their scope. Experts (/expert): their queue, the declaration, the (blinded)
application, attachments and the scoring form.

Every view: load (404), check permission (403 for a wrong role, 404 for an object out of scope or not
assigned), validate, call one service, commit, flash, redirect. A failed form re-renders with 422 and
keeps the input; a refused action in the wrong state answers 409.
"""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from incubator.applications.models import STATUS_TONES as APP_TONES
from incubator.db import today_local, utcnow
from incubator.extensions import db
from incubator.review import access
from incubator.review import draw as draw_service
from incubator.review import forms, services
from incubator.review.models import (
    ASSIGNMENT_TONES,
    ROUND_STATUS_TONES,
    SCORE_TONES,
    Draw,
    DrawStatus,
    ReviewRound,
    RoundEntry,
    RoundStatus,
    Score,
)

bp = Blueprint("review", __name__)

from incubator.core.ids import MAX_ID  # noqa: E402


# --------------------------------------------------------------------------- helpers




def _refused(exc: services.ReviewError, target: str):
    db.session.rollback()
    flash(exc.message, "warning" if exc.status_code == 422 else "danger")
    return redirect(target)


def _call_choices(round_=None) -> list[tuple[str, str]]:
    calls = services.manageable_calls(current_user)
    if round_ is not None and round_.call not in calls:
        calls.append(round_.call)
    return [(str(c.id), f"{c.title}（{c.scope_label}）") for c in calls]


def _common(r: ReviewRound) -> dict:
    return {"round": r, "call": r.call, "round_tones": ROUND_STATUS_TONES}


# --------------------------------------------------------------------------- staff: rounds


@bp.get("/staff/review/")
@login_required
def index():
    access.require_staff()
    rounds = services.visible_rounds(current_user)
    return render_template("review/index.html", rounds=rounds, round_tones=ROUND_STATUS_TONES,
                           can_create=bool(services.manageable_calls(current_user)))


def _render_round_form(form, r=None, status=200):
    return render_template("review/round_form.html", form=form, round=r, call=r.call if r else None), status


@bp.route("/staff/review/rounds/new", methods=["GET", "POST"])
@login_required
def new_round():
    access.require_staff()
    choices = _call_choices()
    if not choices:
        flash("您的管辖范围内还没有已发布的申报通知。", "warning")
        return redirect(url_for("review.index"))
    if request.method == "GET":
        form = forms.RoundForm(formdata=None, call_choices=choices, creating=True)
        wanted = request.args.get("call", "")
        if wanted in {c for c, _ in choices}:
            form.call_id.data = wanted
        form.blind.data = True
        form.reviewers_per_application.data = 3
        form.max_load.data = 10
        form.trim_from.data = 5
        return _render_round_form(form)
    form = forms.RoundForm(call_choices=choices, creating=True)
    if not form.validate():
        return _render_round_form(form, status=422)
    from incubator.calls.models import Call

    call = db.session.get(Call, int(form.call_id.data))
    if call is None or not call.can_manage(current_user):
        abort(404)
    try:
        r = services.create_round(call, by=current_user, settings=form.settings())
        services.set_default_criteria(r, by=current_user)
    except services.ReviewError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return _render_round_form(form, status=exc.status_code)
    db.session.commit()
    flash(f"已创建评审轮次：{r.title}。已预置常用评分细则，可在“评分细则”中修改。", "success")
    if r.panel_warning:
        flash(r.panel_warning, "warning")
    return redirect(url_for("review.round_detail", round_id=r.id))


@bp.get("/staff/review/rounds/<int:round_id>")
@login_required
def round_detail(round_id: int):
    r = access.load_round(round_id)
    timing = draw_service.draw_timing(r) if r.status == RoundStatus.SETUP else None
    return render_template(
        "review/round_detail.html", **_common(r), tab="overview",
        progress=services.progress(r), rubric_problem=services.rubric_problem(r), timing=timing,
        candidates=len(services.candidate_applications(r)) if r.status == RoundStatus.SETUP else 0,
        entries=services.entry_applications(r), app_tones=APP_TONES,
        reason_form=forms.ReasonForm(formdata=None), confirm_form=forms.ConfirmForm(formdata=None),
    )


@bp.route("/staff/review/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@login_required
def edit_round(round_id: int):
    r = access.load_round(round_id)
    choices = [(str(r.call_id), r.call.title)]
    if request.method == "GET":
        return _render_round_form(forms.RoundForm(formdata=None, data=forms.round_form_data(r), call_choices=choices,
                                                  creating=False), r)
    form = forms.RoundForm(call_choices=choices, creating=False)
    if not form.validate():
        return _render_round_form(form, r, status=422)
    try:
        services.update_round(r, by=current_user, settings=form.settings())
    except services.ReviewError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return _render_round_form(form, db.session.get(ReviewRound, round_id), status=exc.status_code)
    db.session.commit()
    flash("已保存轮次设置。", "success")
    if r.panel_warning:
        flash(r.panel_warning, "warning")
    return redirect(url_for("review.round_detail", round_id=r.id))


@bp.route("/staff/review/rounds/<int:round_id>/criteria", methods=["GET", "POST"])
@login_required
def criteria(round_id: int):
    r = access.load_round(round_id)
    if request.method == "GET":
        return render_template("review/criteria.html", **_common(r), tab="criteria", rows=forms.criteria_rows(r),
                               errors=[], max_rows=forms.MAX_CRITERIA)
    if r.status != RoundStatus.SETUP:
        flash("专家已抽取，评分细则不能再修改。", "danger")
        return render_template("review/criteria.html", **_common(r), tab="criteria", rows=forms.criteria_rows(r),
                               errors=[], max_rows=forms.MAX_CRITERIA), 409
    if request.form.get("defaults"):
        services.set_default_criteria(r, by=current_user)
        db.session.commit()
        flash("已恢复为常用评分细则。", "success")
        return redirect(url_for("review.criteria", round_id=r.id))
    post = forms.parse_criteria(request.form)
    if not post.errors:
        try:
            services.set_criteria(r, post.parsed, by=current_user)
        except services.ReviewError as exc:
            db.session.rollback()
            post.errors.append(exc.message)
    if post.errors:
        return render_template("review/criteria.html", **_common(db.session.get(ReviewRound, round_id)), tab="criteria",
                               rows=post.rows, errors=post.errors, max_rows=forms.MAX_CRITERIA), 422
    db.session.commit()
    flash("已保存评分细则。", "success")
    return redirect(url_for("review.criteria", round_id=r.id))


@bp.post("/staff/review/rounds/<int:round_id>/entries/import")
@login_required
def import_entries(round_id: int):
    r = access.load_round(round_id)
    target = url_for("review.round_detail", round_id=r.id)
    try:
        added = services.add_entries(r, services.candidate_applications(r), by=current_user)
    except services.ReviewError as exc:
        return _refused(exc, target)
    db.session.commit()
    flash(f"已加入 {added} 份申请。" if added else "没有新的可加入的申请。", "success" if added else "info")
    return redirect(target)


@bp.post("/staff/review/rounds/<int:round_id>/entries/<int:entry_id>/remove")
@login_required
def remove_entry(round_id: int, entry_id: int):
    r = access.load_round(round_id)
    entry = db.session.get(RoundEntry, entry_id)
    target = url_for("review.round_detail", round_id=r.id)
    if entry is None:  # removed already (a second click): nothing to do
        flash("该申请已不在本轮评审中。", "info")
        return redirect(target)
    if entry.round_id != r.id:
        abort(404)
    try:
        services.remove_entry(r, entry, by=current_user)
    except services.ReviewError as exc:
        return _refused(exc, target)
    db.session.commit()
    flash("已移出本轮评审。", "success")
    return redirect(target)


@bp.post("/staff/review/rounds/<int:round_id>/<any(open, close, reopen):action>")
@login_required
def round_action(round_id: int, action: str):
    r = access.load_round(round_id)
    target = url_for("review.round_detail", round_id=r.id)
    try:
        if action == "open":
            n = services.open_scoring(r, by=current_user)
            message = f"已开始评分，已通知 {n} 位专家。"
        elif action == "close":
            services.close_round(r, by=current_user)
            message = "本轮评分已结束。"
        else:
            form = forms.ReasonForm()
            if not form.validate():
                flash("请填写重新开放评分的原因。", "warning")
                return redirect(target)
            services.reopen_round(r, by=current_user, reason=form.reason.data)
            message = "已重新开放评分。"
    except services.ReviewError as exc:
        return _refused(exc, target)
    db.session.commit()
    flash(message, "success")
    return redirect(target)


@bp.post("/staff/review/rounds/<int:round_id>/remind")
@login_required
def remind(round_id: int):
    from incubator.review.jobs import queue_reminders

    r = access.load_round(round_id)
    if r.status != RoundStatus.SCORING:
        flash("只有评分中的轮次才能发送提醒。", "danger")
        return redirect(url_for("review.round_detail", round_id=r.id))
    queue_reminders(by=current_user, round_id=r.id)
    db.session.commit()
    flash("已排队发送评分提醒：截止前尚未提交评分的专家将收到邮件和站内通知（每人每天最多一次）。", "success")
    return redirect(url_for("review.round_detail", round_id=r.id))


# --------------------------------------------------------------------------- staff: conflicts


@bp.route("/staff/review/rounds/<int:round_id>/conflicts", methods=["GET", "POST"])
@login_required
def conflicts(round_id: int):
    r = access.load_round(round_id)
    if request.method == "POST":
        if r.status != RoundStatus.SETUP:
            flash("专家已抽取；新的回避情形会在替换和手工分配时自动识别。", "info")
            return redirect(url_for("review.conflicts", round_id=r.id))
        n = services.compute_conflicts(r, by=current_user)
        db.session.commit()
        flash(f"已完成回避识别：共 {n} 组申请与专家存在回避情形。", "success")
        return redirect(url_for("review.conflicts", round_id=r.id))
    return render_template("review/conflicts.html", **_common(r), tab="conflicts",
                           conflicts=services.round_conflicts(r), confirm_form=forms.ConfirmForm(formdata=None))


# --------------------------------------------------------------------------- staff: the draw


def _render_draw(r: ReviewRound, *, refused=None, status=200):
    from incubator.review.draw_audit import commitment

    draws = list(r.draws)
    initial = r.initial_draw
    seed_ok = bool(initial and initial.public_seed and commitment(initial.public_seed) == initial.commitment)
    return render_template(
        "review/draw.html", **_common(r), tab="draw", initial=r.initial_draw,
        replacements=[d for d in draws if d.parent_id is not None], timing=draw_service.draw_timing(r)
        if r.status == RoundStatus.SETUP else None, rubric_problem=services.rubric_problem(r),
        entries=len(r.entries), refused=refused, confirm_form=forms.ConfirmForm(formdata=None), seed_ok=seed_ok,
    ), status


@bp.get("/staff/review/rounds/<int:round_id>/draw")
@login_required
def draw_page(round_id: int):
    return _render_draw(access.load_round(round_id))


@bp.post("/staff/review/rounds/<int:round_id>/draw/commit")
@login_required
def draw_commit(round_id: int):
    r = access.load_round(round_id)
    target = url_for("review.draw_page", round_id=r.id)
    try:
        d = draw_service.commit_seed(r, by=current_user)
    except services.ReviewError as exc:
        return _refused(exc, target)
    db.session.commit()
    flash(f"已生成随机种子并公布其 SHA-256 哈希值：{d.commitment}。种子将在抽取完成后公开。", "success")
    return redirect(target)


@bp.post("/staff/review/rounds/<int:round_id>/draw/run")
@login_required
def draw_run(round_id: int):
    r = access.load_round(round_id)
    try:
        draw_service.run_draw(r, by=current_user, today=today_local())
    except draw_service.DrawRefused as exc:
        db.session.commit()  # the refusal is audited; the commitment and conflicts stay
        flash(exc.message, "danger")
        return _render_draw(db.session.get(ReviewRound, round_id), refused=exc, status=409)
    except services.ReviewError as exc:
        return _refused(exc, url_for("review.draw_page", round_id=round_id))
    db.session.commit()
    flash(f"抽取完成：{len(r.entries)} 份申请各分配 {r.reviewers_per_application} 名专家。种子已公开，任何人可核对。", "success")
    return redirect(url_for("review.draw_page", round_id=r.id))


@bp.get("/staff/review/draws/<int:draw_id>/inputs.json")
@login_required
def draw_inputs(draw_id: int):
    access.require_staff()
    d = db.session.get(Draw, draw_id)
    if d is None or not d.round.can_manage(current_user) or d.status != DrawStatus.REVEALED or not d.inputs:
        abort(404)
    return send_file(io.BytesIO(d.inputs.encode("utf-8")), mimetype="application/json", as_attachment=True,
                     download_name=f"review-round-{d.round_id}-draw-{d.id}-inputs.json")


# --------------------------------------------------------------------------- staff: assignments, scores


def _render_assignments(r: ReviewRound, form=None, status=200):
    from incubator.pools.services import active_experts

    apps = services.entry_applications(r)
    rows = services.round_assignments(r)
    by_app: dict[int, list] = {}
    for a in rows:
        by_app.setdefault(a.application_id, []).append(a)
    if form is None:
        form = _manual_form(r, apps, formdata=None)
    return render_template(
        "review/assignments.html", **_common(r), tab="assignments", apps=apps, by_app=by_app,
        short=services.short_panels(r) if r.status != RoundStatus.SETUP else {}, form=form,
        experts=active_experts(), assignment_tones=ASSIGNMENT_TONES, score_tones=SCORE_TONES,
        reason_form=forms.ReasonForm(formdata=None), criteria=r.criteria,
    ), status


def _manual_form(r, apps, **kw):
    from incubator.pools.services import active_experts

    return forms.ManualAssignForm(
        applications=[(str(a.id), f"{a.number} {a.display_title}") for a in apps],
        experts=[(str(e.id), f"{e.name}（{'、'.join(f.label for f in e.sorted_fields)}）") for e in active_experts()],
        **kw)


@bp.get("/staff/review/rounds/<int:round_id>/assignments")
@login_required
def assignments(round_id: int):
    return _render_assignments(access.load_round(round_id))


@bp.post("/staff/review/rounds/<int:round_id>/assignments")
@login_required
def manual_assign(round_id: int):
    from incubator.pools.models import Expert

    r = access.load_round(round_id)
    apps = services.entry_applications(r)
    form = _manual_form(r, apps)
    if not form.validate():
        return _render_assignments(r, form, status=422)
    application = next((a for a in apps if str(a.id) == form.application_id.data), None)
    expert = db.session.get(Expert, int(form.expert_id.data))
    if application is None or expert is None:
        abort(404)
    try:
        services.manual_assign(r, application, expert, by=current_user)
    except services.AssignmentConflict as exc:
        db.session.commit()  # the conflict found now is stored (and shown on the conflicts page)
        flash(exc.message, "danger")
        return _render_assignments(db.session.get(ReviewRound, round_id), form, status=409)
    except services.ReviewError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _render_assignments(db.session.get(ReviewRound, round_id), form, status=409)
    db.session.commit()
    flash(f"已将 {application.number} 分配给专家 {expert.name}。", "success")
    return redirect(url_for("review.assignments", round_id=r.id))


@bp.post("/staff/review/scores/<int:score_id>/reopen")
@login_required
def reopen_score(score_id: int):
    access.require_staff()
    score = db.session.get(Score, score_id)
    if score is None or not score.assignment.round.can_manage(current_user):
        abort(404)
    r = score.assignment.round
    target = url_for("review.assignments", round_id=r.id)
    form = forms.ReasonForm()
    if not form.validate():
        flash("退回评分须填写原因。", "warning")
        return _render_assignments(r, status=422)
    try:
        services.reopen_score(score, by=current_user, reason=form.reason.data)
    except services.ReviewError as exc:
        return _refused(exc, target)
    db.session.commit()
    flash(f"已退回专家 {score.assignment.expert.name} 对 {score.assignment.application.number} 的评分，已通知专家。", "success")
    return redirect(target)


# --------------------------------------------------------------------------- experts


def _require_expert() -> None:
    if not services.is_expert(current_user):
        abort(403)


def _load_assignment(assignment_id: int):
    _require_expert()
    a = services.expert_assignment(current_user, assignment_id)
    if a is None:
        abort(404)
    return a


@bp.get("/expert/")
@login_required
def queue():
    _require_expert()
    expert = services.expert_of(current_user)
    rows = services.expert_queue(expert) if expert is not None else []
    now = utcnow()
    return render_template("review/expert_queue.html", expert=expert, rows=rows, now=now,
                           countdown=services.countdown, assignment_tones=ASSIGNMENT_TONES, score_tones=SCORE_TONES,
                           round_tones=ROUND_STATUS_TONES)


def _render_assignment(a, *, post=None, decline_form=None, status=200):
    r = a.round
    readable = services.can_read_application(current_user, a)
    view = services.review_view(a.application, blind=r.blind) if readable else None
    intro = services.review_intro(a.application, blind=r.blind)
    score = a.score
    if post is None:
        current = score.points_by_criterion() if score is not None else {}
        post = forms.ScorePost(action="save", points=current, raw={c.id: "" if current.get(c.id) is None
                                                                    else str(current[c.id]) for c in r.criteria},
                               comments=score.comments if score is not None else "")
    return render_template(
        "review/expert_assignment.html", a=a, round=r, view=view, intro=intro, score=score, post=post,
        decline_form=decline_form or forms.DeclineForm(formdata=None), confirm_form=forms.ConfirmForm(formdata=None),
        can_score=readable and r.status == RoundStatus.SCORING and (score is None or not score.locked),
        countdown=services.countdown(r.deadline), assignment_tones=ASSIGNMENT_TONES, score_tones=SCORE_TONES,
    ), status


@bp.get("/expert/assignments/<int:assignment_id>")
@login_required
def assignment(assignment_id: int):
    return _render_assignment(_load_assignment(assignment_id))


@bp.post("/expert/assignments/<int:assignment_id>/confirm")
@login_required
def confirm(assignment_id: int):
    a = _load_assignment(assignment_id)
    target = url_for("review.assignment", assignment_id=a.id)
    try:
        services.confirm_no_conflict(a, by=current_user)
    except services.ReviewError as exc:
        return _refused(exc, target)
    db.session.commit()
    flash("已确认与申报单位无利害关系，可以查看申请并评分。", "success")
    return redirect(target)


@bp.post("/expert/assignments/<int:assignment_id>/decline")
@login_required
def decline(assignment_id: int):
    a = _load_assignment(assignment_id)
    form = forms.DeclineForm()
    if not form.validate():
        return _render_assignment(a, decline_form=form, status=422)
    try:
        services.declare_conflict(a, by=current_user, reason=form.reason.data)
    except services.ReviewError as exc:
        return _refused(exc, url_for("review.assignment", assignment_id=a.id))
    db.session.commit()
    flash("已申报回避，感谢您的如实申报。系统已为该申请另行抽取专家。", "success")
    return redirect(url_for("review.queue"))


@bp.post("/expert/assignments/<int:assignment_id>/score")
@login_required
def score(assignment_id: int):
    a = _load_assignment(assignment_id)
    if not services.can_read_application(current_user, a):
        abort(403)
    r = a.round
    if a.score is not None and a.score.locked:
        flash("评分已提交并锁定，不能再修改。如确需修改，请联系工作人员退回。", "danger")
        return _render_assignment(a, status=409)
    post = forms.parse_score(request.form, r.criteria)
    if not post.ok:
        flash("评分未保存：请按提示修改标红的项目。", "warning")
        return _render_assignment(a, post=post, status=422)
    try:
        services.save_score(a, by=current_user, points=post.points, comments=post.comments,
                            submit=post.action == "submit")
        db.session.commit()
    except services.ReviewError as exc:
        db.session.rollback()
        flash(exc.message, "danger" if exc.status_code == 409 else "warning")
        return _render_assignment(_load_assignment(assignment_id), post=post, status=exc.status_code)
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        flash("评分已在另一窗口中保存或提交，请刷新后查看。", "danger")
        return _render_assignment(_load_assignment(assignment_id), status=409)
    if post.action == "submit":
        flash(f"评分已提交：加权总分 {a.score.total} 分。提交后不能再修改。", "success")
        return redirect(url_for("review.queue"))
    flash("已保存草稿，可稍后继续评分。", "success")
    return redirect(url_for("review.assignment", assignment_id=a.id))


@bp.get("/expert/assignments/<int:assignment_id>/files/<int:index>")
@login_required
def attachment(assignment_id: int, index: int):
    """An attachment of the assigned application, for the confirmed expert only (blind: neutral name)."""
    from incubator.core.files import StoredFile, read_bytes

    a = _load_assignment(assignment_id)
    if not services.can_read_application(current_user, a):
        abort(403)
    files = services.attachment_list(a.application, blind=a.round.blind)
    item = next((f for f in files if f.index == index), None)
    if item is None:
        abort(404)
    sf = db.session.get(StoredFile, item.file_id)
    if sf is None:
        abort(404)
    content_type = sf.content_type if sf.content_type in ("application/pdf", "image/png", "image/jpeg") else \
        "application/octet-stream"
    response = send_file(io.BytesIO(read_bytes(sf)), mimetype=content_type, as_attachment=True,
                         download_name=item.name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
