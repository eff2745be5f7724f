"""Ranking pages (/staff/ranking): a round's ranking, promotion to the next round or to the funding list,
the Excel score table, the 评分汇总表 PDF (a background job), expert ratings and expert histories.

Staff and admins only (403 for other roles); a round outside the user's scope answers 404 (district staff
see their district's calls only). Thin views: load, check, parse, one service call, commit, flash, redirect.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func

from incubator.applications.models import STATUS_TONES as APP_TONES
from incubator.core.excel import xlsx_response
from incubator.db import today_local
from incubator.extensions import db
from incubator.review import access
from incubator.review import ranking
from incubator.review import services as review_services
from incubator.review.models import ROUND_STATUS_TONES, Assignment, ReviewRound, Score, ScoreStatus
from incubator.review.ranking_models import RATING_LABELS

bp = Blueprint("ranking", __name__, url_prefix="/staff/ranking")

from incubator.core.ids import MAX_ID  # noqa: E402




def _selected_ids() -> list[int]:
    out = []
    for raw in request.form.getlist("application_id")[:5000]:
        raw = raw.strip()
        if raw.isdigit() and len(raw) < 11 and int(raw) <= MAX_ID:
            out.append(int(raw))
    return out


@bp.get("/")
@login_required
def index():
    access.require_staff()
    rounds = review_services.visible_rounds(current_user)
    ids = [r.id for r in rounds]
    counts = {}
    if ids:
        rows = db.session.execute(
            db.select(Assignment.round_id, func.count(Assignment.id), func.count(Score.id))
            .outerjoin(Score, (Score.assignment_id == Assignment.id) & (Score.status == ScoreStatus.SUBMITTED))
            .where(Assignment.round_id.in_(ids), Assignment.status.in_(Assignment.ACTIVE))
            .group_by(Assignment.round_id)).all()
        counts = {rid: (assigned, submitted) for rid, assigned, submitted in rows}
    return render_template("ranking/index.html", rounds=rounds, counts=counts, round_tones=ROUND_STATUS_TONES)


def _render_round(r: ReviewRound, status: int = 200):
    from incubator.publicity.services import funding_list_for

    result = ranking.round_ranking(r)
    flist = funding_list_for(r.call)
    promoted_any = any(row.in_next_round for row in result.rows)
    proposed_any = any(row.on_funding_list for row in result.rows)
    return render_template(
        "ranking/round.html", round=r, call=r.call, ranking=result, app_tones=APP_TONES, round_tones=ROUND_STATUS_TONES,
        promoted_any=promoted_any, proposed_any=proposed_any, funding_list=flist, criteria=r.criteria,
    ), status


@bp.get("/rounds/<int:round_id>")
@login_required
def round_ranking(round_id: int):
    return _render_round(access.load_round(round_id))


@bp.post("/rounds/<int:round_id>/promote")
@login_required
def promote(round_id: int):
    r = access.load_round(round_id)
    target = url_for("ranking.round_ranking", round_id=r.id)
    nxt = ranking.next_round_of(r)
    if nxt is None:
        flash("本通知没有下一轮评审。请先在“评审轮次”中创建下一轮，或将申请列入拟资助名单。", "warning")
        return redirect(target)
    try:
        added, removed = ranking.promote(r, _selected_ids(), to_round=nxt, by=current_user)
    except review_services.ReviewError as exc:
        db.session.rollback()
        flash(exc.message, "warning" if exc.status_code == 422 else "danger")
        return _render_round(db.session.get(ReviewRound, round_id), status=exc.status_code)
    db.session.commit()
    flash(f"已确定晋级名单：{nxt.title}共 {len(nxt.entries)} 份申请（新增 {added}，移出 {removed}）。", "success")
    return redirect(target)


@bp.post("/rounds/<int:round_id>/propose")
@login_required
def propose(round_id: int):
    from incubator.publicity import services as publicity

    r = access.load_round(round_id)
    ids = set(_selected_ids())
    result = ranking.round_ranking(r)
    rows = [row for row in result.rows if row.application.id in ids]
    if len(rows) != len(ids):
        db.session.rollback()
        flash("所选申请不在本轮评审中。", "warning")
        return _render_round(r, status=422)
    try:
        added, removed = publicity.propose(
            r, [row.application for row in rows], by=current_user,
            ranks={row.application.id: (row.position, row.official) for row in rows})
    except publicity.PublicityError as exc:
        db.session.rollback()
        flash(exc.message, "warning" if exc.status_code == 422 else "danger")
        return _render_round(db.session.get(ReviewRound, round_id), status=exc.status_code)
    db.session.commit()
    flist = publicity.funding_list_for(r.call)
    flash(f"已更新拟资助名单：共 {len(flist.items)} 个项目（新增 {added}，移出 {removed}）。请核定资助金额后审定。", "success")
    return redirect(url_for("publicity.list_detail", list_id=flist.id))


@bp.get("/rounds/<int:round_id>/export.xlsx")
@login_required
def export(round_id: int):
    r = access.load_round(round_id)
    headers, rows = ranking.score_table(ranking.round_ranking(r))
    return xlsx_response(f"评分表-{r.call.title}-第{r.sequence}轮-{today_local():%Y%m%d}.xlsx", headers, rows)


@bp.post("/rounds/<int:round_id>/score-sheet")
@login_required
def score_sheet(round_id: int):
    r = access.load_round(round_id)
    if not r.entries:
        flash("本轮还没有参评申请，无法生成评分汇总表。", "warning")
        return redirect(url_for("ranking.round_ranking", round_id=r.id))
    job = ranking.request_score_sheet(r, by=current_user)
    db.session.commit()
    flash("正在生成《评分汇总表》（每个评审组一页，含专家签字栏），完成后可在本页下载。", "info")
    return redirect(url_for("system.job", job_id=job.id))


# --------------------------------------------------------------------------- expert ratings


def _rating_rows(r: ReviewRound):
    result = ranking.round_ranking(r)
    stats = ranking.histories(current_user, [e.id for e in result.experts])
    out = []
    for e in result.experts:
        h = stats.get(e.id)
        here = next((s for s in h.rounds if s.round.id == r.id), None) if h else None
        out.append({"expert": e, "stat": here})
    return out


def _parse_ratings(r: ReviewRound, experts) -> tuple[list[ranking.RatingInput], dict[int, str], dict]:
    rows, errors, raw = [], {}, {}
    for e in experts:
        t = (request.form.get(f"timeliness-{e.id}") or "").strip()
        q = (request.form.get(f"quality-{e.id}") or "").strip()
        note = request.form.get(f"note-{e.id}") or ""
        raw[e.id] = {"timeliness": t[:5], "quality": q[:5], "note": note[:600]}
        values = []
        for text in (t, q):
            if text == "":
                values.append(None)
            elif text in ("1", "2", "3", "4", "5"):
                values.append(int(text))
            else:
                errors[e.id] = "评价须为 1–5 的整数"
                values.append(None)
        if "\x00" in note:
            errors[e.id] = "评价说明包含非法字符"
        elif len(note.strip()) > 500:
            errors[e.id] = "评价说明不能超过 500 字"
        elif (values[0] is None) != (values[1] is None) and e.id not in errors:
            errors[e.id] = "请同时填写及时性和评审质量"
        rows.append(ranking.RatingInput(expert_id=e.id, timeliness=values[0], quality=values[1], note=note))
    return rows, errors, raw


@bp.route("/rounds/<int:round_id>/ratings", methods=["GET", "POST"])
@login_required
def ratings(round_id: int):
    r = access.load_round(round_id)
    rows = _rating_rows(r)
    existing = ranking.round_ratings(r)
    if request.method == "GET":
        raw = {eid: {"timeliness": str(x.timeliness), "quality": str(x.quality), "note": x.note}
               for eid, x in existing.items()}
        return render_template("ranking/ratings.html", round=r, call=r.call, rows=rows, raw=raw, errors={},
                               labels=RATING_LABELS, round_tones=ROUND_STATUS_TONES)
    parsed, errors, raw = _parse_ratings(r, [row["expert"] for row in rows])
    if not errors:
        try:
            n = ranking.rate_experts(r, parsed, by=current_user)
        except review_services.ReviewError as exc:
            db.session.rollback()
            flash(exc.message, "warning" if exc.status_code == 422 else "danger")
            return render_template("ranking/ratings.html", round=r, call=r.call, rows=rows, raw=raw, errors={},
                                   labels=RATING_LABELS, round_tones=ROUND_STATUS_TONES), exc.status_code
        db.session.commit()
        flash(f"已保存 {n} 位专家的评价。", "success")
        return redirect(url_for("ranking.ratings", round_id=r.id))
    flash("评价未保存：请按提示修改标红的行。", "warning")
    return render_template("ranking/ratings.html", round=r, call=r.call, rows=rows, raw=raw, errors=errors,
                           labels=RATING_LABELS, round_tones=ROUND_STATUS_TONES), 422


@bp.get("/experts/")
@login_required
def experts():
    access.require_staff()
    return render_template("ranking/experts.html", histories=ranking.experts_overview(current_user))


@bp.get("/experts/<int:expert_id>")
@login_required
def expert_history(expert_id: int):
    from incubator.pools.models import Expert

    access.require_staff()
    expert = db.session.get(Expert, expert_id)
    if expert is None:
        abort(404)
    return render_template("ranking/expert.html", history=ranking.expert_history(expert, current_user),
                           labels=RATING_LABELS)

