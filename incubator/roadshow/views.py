"""Roadshow pages. Staff (/staff/roadshow): sessions, the order on stage, start/finish marks, the live board
(static/js/roadshow.js polls its JSON every 2.5 s). Judges (/roadshow/judge): their own sessions only, a
phone-sized scoring page per finished contestant.

Thin views: load (404), check permission (403 wrong role; 404 out of scope or not on the panel), parse,
one service call, commit, flash, redirect; refused input re-renders with 422, the wrong state answers 409.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from incubator.db import today_local
from incubator.extensions import db
from incubator.roadshow import services
from incubator.roadshow.models import CONTESTANT_TONES, SESSION_TONES, Contestant

bp = Blueprint("roadshow", __name__)

MAX_POINTS_TEXT = 6


# --------------------------------------------------------------------------- staff


def _require_staff() -> None:
    if not services.may_manage(current_user):
        abort(403)


def _load_session(session_id: int):
    _require_staff()
    s = services.load_session(session_id)
    if s is None or not s.can_manage(current_user):
        abort(404)
    return s


def _load_contestant(contestant_id: int) -> Contestant:
    _require_staff()
    c = db.session.get(Contestant, contestant_id)
    if c is None or not c.session.can_manage(current_user):
        abort(404)
    return c


@bp.get("/staff/roadshow/")
@login_required
def index():
    _require_staff()
    return render_template("roadshow/index.html", sessions=services.visible_sessions(current_user),
                           rounds=services.rounds_without_session(current_user), tones=SESSION_TONES)


def _render_new(rounds, form, errors, status=200):
    return render_template("roadshow/new.html", rounds=rounds, form=form, errors=errors), status


@bp.route("/staff/roadshow/sessions/new", methods=["GET", "POST"])
@login_required
def new_session():
    _require_staff()
    rounds = services.rounds_without_session(current_user)
    if request.method == "GET":
        wanted = request.args.get("round", "")
        r = next((x for x in rounds if str(x.id) == wanted), rounds[0] if rounds else None)
        form = {"round_id": str(r.id) if r else "", "title": f"{r.call.title}路演" if r else "",
                "held_on": (r.review_date or today_local()).isoformat() if r else today_local().isoformat(), "venue": ""}
        return _render_new(rounds, form, {})
    f = request.form
    form = {k: (f.get(k) or "")[:200] for k in ("round_id", "title", "held_on", "venue")}
    errors = {}
    r = next((x for x in rounds if str(x.id) == form["round_id"].strip()), None)
    if r is None:
        errors["round_id"] = "请选择评审方式为“路演”且尚未安排路演的轮次"
    if not form["title"].strip() or "\x00" in form["title"]:
        errors["title"] = "请填写路演名称"
    try:
        held_on = date.fromisoformat(form["held_on"].strip())
        if not 2000 <= held_on.year <= 2100:
            raise ValueError
    except ValueError:
        errors["held_on"] = "请填写正确的路演日期"
    if "\x00" in form["venue"]:
        errors["venue"] = "包含非法字符"
    if errors:
        return _render_new(rounds, form, errors, 422)
    try:
        s = services.create_session(r, by=current_user, title=form["title"], held_on=held_on, venue=form["venue"])
    except services.RoadshowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return _render_new(rounds, form, {}, exc.status_code)
    db.session.commit()
    flash(f"已安排路演：{s.title}，共 {len(s.contestants)} 个项目。可调整出场顺序，路演当天点击“开始路演”。", "success")
    return redirect(url_for("roadshow.session_detail", session_id=s.id))


@bp.get("/staff/roadshow/sessions/<int:session_id>")
@login_required
def session_detail(session_id: int):
    s = _load_session(session_id)
    return render_template("roadshow/session.html", s=s, round=s.round, judges=services.panel(s), tones=SESSION_TONES,
                           contestant_tones=CONTESTANT_TONES, board=services.board(s))


@bp.post("/staff/roadshow/sessions/<int:session_id>/<any(open, end):action>")
@login_required
def session_action(session_id: int, action: str):
    s = _load_session(session_id)
    target = url_for("roadshow.session_detail", session_id=s.id)
    try:
        if action == "open":
            services.open_session(s, by=current_user)
            message = "路演开始。每个项目路演结束后点击“完成路演”，评委即可在手机上评分。"
        else:
            services.end_session(s, by=current_user)
            message = "路演已结束。请在评审轮次中结束评分后查看排名。"
    except services.RoadshowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(target)
    db.session.commit()
    flash(message, "success")
    return redirect(target)


@bp.post("/staff/roadshow/contestants/<int:contestant_id>/<any(start, finish, up, down):action>")
@login_required
def contestant_action(contestant_id: int, action: str):
    c = _load_contestant(contestant_id)
    target = url_for("roadshow.session_detail", session_id=c.session_id)
    number = c.application.number
    try:
        if action == "start":
            services.mark_started(c, by=current_user)
            message = f"{number} 开始路演。"
        elif action == "finish":
            services.mark_finished(c, by=current_user)
            message = f"{number} 已完成路演，评委可以评分。"
        else:
            services.move(c, step=-1 if action == "up" else 1, by=current_user)
            message = "已调整出场顺序。"
    except services.RoadshowError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(target)
    db.session.commit()
    flash(message, "success")
    return redirect(target)


@bp.get("/staff/roadshow/sessions/<int:session_id>/board")
@login_required
def board(session_id: int):
    s = _load_session(session_id)
    return render_template("roadshow/board.html", s=s, data=services.board(s))


@bp.get("/staff/roadshow/sessions/<int:session_id>/board.json")
@login_required
def board_json(session_id: int):
    s = _load_session(session_id)
    response = jsonify(services.board(s))
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- judges (experts of the panel)


def _judge():
    if not services.is_expert(current_user):
        abort(403)
    expert = services.expert_of(current_user)
    if expert is None:
        abort(404)
    return expert


def _judge_session(session_id: int):
    expert = _judge()
    s = services.load_session(session_id)
    if s is None or not services.is_judge(s, expert):
        abort(404)
    return s, expert


@bp.get("/roadshow/judge/")
@login_required
def judge_index():
    if not services.is_expert(current_user):
        abort(403)
    expert = services.expert_of(current_user)
    return render_template("roadshow/judge_index.html", sessions=services.judge_sessions(expert), tones=SESSION_TONES)


@bp.get("/roadshow/judge/sessions/<int:session_id>")
@login_required
def judge_session(session_id: int):
    s, expert = _judge_session(session_id)
    return render_template("roadshow/judge_session.html", s=s, items=services.judge_items(s, expert), tones=SESSION_TONES,
                           state=services.judge_state(s, expert))


@bp.get("/roadshow/judge/sessions/<int:session_id>/state.json")
@login_required
def judge_state(session_id: int):
    s, expert = _judge_session(session_id)
    response = jsonify(services.judge_state(s, expert))
    response.headers["Cache-Control"] = "no-store"
    return response


def _render_score(s, item, *, raw=None, errors=None, confirm=False, status=200):
    score = item.score
    if raw is None:
        current = score.points_by_criterion() if score is not None else {}
        raw = {c.id: "" if current.get(c.id) is None else str(current[c.id]) for c in s.round.criteria}
    return render_template("roadshow/judge_score.html", s=s, item=item, c=item.contestant, round=s.round,
                           criteria=s.round.criteria, raw=raw, errors=errors or {}, confirm=confirm,
                           score=score), status


def _judge_item(session_id: int, contestant_id: int):
    s, expert = _judge_session(session_id)
    item = services.judge_item(s, expert, contestant_id)
    if item is None:
        abort(404)
    return s, item


@bp.get("/roadshow/judge/sessions/<int:session_id>/contestants/<int:contestant_id>")
@login_required
def judge_score(session_id: int, contestant_id: int):
    s, item = _judge_item(session_id, contestant_id)
    if item.assignment is None:
        abort(403)
    return _render_score(s, item)


@bp.post("/roadshow/judge/sessions/<int:session_id>/contestants/<int:contestant_id>")
@login_required
def judge_submit(session_id: int, contestant_id: int):
    s, item = _judge_item(session_id, contestant_id)
    if item.assignment is None:
        abort(403)
    raw, points, errors = {}, {}, {}
    for c in s.round.criteria:
        text = (request.form.get(f"points-{c.id}") or "").strip()
        raw[c.id] = text[:MAX_POINTS_TEXT + 2]
        if text == "":
            points[c.id] = None
            errors[c.id] = f"请为“{c.name}”评分"
        elif text.isdigit() and text.isascii() and len(text) <= MAX_POINTS_TEXT:
            points[c.id] = int(text)
            if points[c.id] > c.max_points:
                errors[c.id] = f"不能超过满分 {c.max_points} 分"
        else:
            points[c.id] = None
            errors[c.id] = f"须为 0–{c.max_points} 的整数"
    confirm = request.form.get("confirm_no_conflict") == "1"
    if errors:
        flash("评分未提交：请按提示修改标红的项目。", "warning")
        return _render_score(s, item, raw=raw, errors=errors, confirm=confirm, status=422)
    try:
        score = services.score_contestant(item, by=current_user, points=points, confirm_no_conflict=confirm)
        db.session.commit()
    except services.RoadshowError as exc:
        db.session.rollback()
        flash(exc.message, "warning" if exc.status_code == 422 else "danger")
        s, item = _judge_item(session_id, contestant_id)
        return _render_score(s, item, raw=raw, confirm=confirm, status=exc.status_code)
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        flash("评分已在另一窗口中提交，请刷新后查看。", "danger")
        s, item = _judge_item(session_id, contestant_id)
        return _render_score(s, item, status=409)
    flash(f"已提交对 {item.contestant.application.number} 的评分：{score.total} 分。", "success")
    return redirect(url_for("roadshow.judge_session", session_id=s.id))

