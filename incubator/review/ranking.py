"""Ranking of a review round (排名), promotion, the score table, the 评分汇总表 PDF and expert ratings.

The numbers come from the pure functions of ``incubator.review.scoring``; this module reads the
database (a constant number of queries per page) and writes promotion and ratings.

``round_ranking(round_) -> Ranking``
    Per application: every assigned expert's weighted total (only SUBMITTED scores count), the official
    score by the round's rule (trimmed mean from ``trim_from`` scores, else the mean; 2 decimals), the
    calibrated score (``scoring.calibrated_scores`` across the round, per field; advice only), the
    spread, the population standard deviation and the strong-disagreement flag, completeness (submitted
    / assigned), the position by ``scoring.rank`` (tie-breaks in ``Ranking.tie_breaks``), whether the
    round's promotion rule suggests it, and where it went (next round, funding list).
``promote(round_, application_ids, to_round=, by=)``
    The next round's entries become exactly these applications (suggestion adjusted by hand).
``score_table(ranking)``    headers and rows of the Excel export (numbers stay numbers).
``score_sheet_context(round_)`` / ``render_score_sheet(job, round_id)``
    The 评分汇总表: one section per panel (the set of experts who reviewed the same applications)
    with every expert's per-criterion points, totals, the official score and the experts' signature lines.
``rate_experts(round_, rows, by=)``   timeliness and quality 1–5 per expert of a closed round (audited).
``expert_history(expert, user)`` / ``experts_overview(user)``
    Rounds, reviews, on-time rate (submitted by the round's deadline), average absolute deviation from the
    panel's official score, and the ratings — over the rounds the user may manage.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy.orm import joinedload, selectinload

from incubator.applications.models import Application, ApplicationStatus
from incubator.calls.models import Call
from incubator.core import audit
from incubator.extensions import db
from incubator.review import scoring
from incubator.review.models import (
    Aggregation,
    Assignment,
    Promotion,
    ReviewRound,
    RoundEntry,
    RoundStatus,
    Score,
    ScoreStatus,
)
from incubator.review.ranking_models import RATING_LABELS, ExpertRating
from incubator.review.services import InvalidInput, ReviewError

FUNDING_STATUSES = frozenset({ApplicationStatus.PROPOSED, ApplicationStatus.PUBLICIZED,
                              ApplicationStatus.FUNDED, ApplicationStatus.CANCELLED})
NO_FIELD = "未填写领域"


# --------------------------------------------------------------------------- the ranking


@dataclass
class Mark:
    """One assigned expert's mark on one application."""

    expert_id: int
    name: str
    title: str
    status: str  # submitted / draft / reopened / pending (no score yet)
    total: Decimal | None  # only when submitted
    calibrated: Decimal | None = None
    points: dict[int, int] = field(default_factory=dict)  # criterion id → points (submitted only)
    submitted_at: datetime | None = None
    on_time: bool | None = None
    dropped: bool = False  # left out by the trimmed mean (one of the highest / lowest)

    @property
    def status_label(self) -> str:
        return {"submitted": "已提交", "draft": "草稿", "reopened": "已退回修改"}.get(self.status, "未评分")


@dataclass
class Row:
    application: Application
    marks: list[Mark]
    assigned: int
    submitted: int
    official: Decimal | None
    calibrated: Decimal | None
    kept: list[Decimal]
    spread: Decimal | None
    std: Decimal | None
    disagreement: bool
    position: int | None = None
    suggested: bool = False
    in_next_round: bool = False

    @property
    def totals(self) -> list[Decimal]:
        return [m.total for m in self.marks if m.total is not None]

    @property
    def complete(self) -> bool:
        return self.assigned > 0 and self.submitted == self.assigned

    @property
    def on_funding_list(self) -> bool:
        return self.application.status in FUNDING_STATUSES

    @property
    def dropped(self) -> list[Decimal]:
        """The totals the trimmed mean left out (the kept ones removed once each)."""
        rest = sorted(self.totals)
        for k in self.kept:
            rest.remove(k)
        return rest


@dataclass
class Ranking:
    round: ReviewRound
    rows: list[Row]
    tie_breaks: str
    rule_text: str
    promotion_text: str
    next_round: ReviewRound | None
    experts: list  # pool Experts of the round's active assignments, by name

    @property
    def assigned(self) -> int:
        return sum(r.assigned for r in self.rows)

    @property
    def submitted(self) -> int:
        return sum(r.submitted for r in self.rows)

    @property
    def complete(self) -> bool:
        return bool(self.rows) and all(r.complete for r in self.rows)

    @property
    def suggested_ids(self) -> set[int]:
        return {r.application.id for r in self.rows if r.suggested}

    @property
    def max_panel(self) -> int:
        return max((len(r.marks) for r in self.rows), default=0)


def rule_text(round_: ReviewRound) -> str:
    if round_.aggregation == Aggregation.MEAN:
        return "正式得分：各专家加权总分的算术平均，保留两位小数（四舍五入）；保留全部原始评分。"
    return (f"正式得分：评分专家达到 {round_.trim_from} 人时去掉一个最高分和一个最低分后取平均，"
            f"不足 {round_.trim_from} 人时取算术平均，保留两位小数（四舍五入）；保留全部原始评分。")


def next_round_of(round_: ReviewRound) -> ReviewRound | None:
    return db.session.scalar(db.select(ReviewRound).where(
        ReviewRound.call_id == round_.call_id, ReviewRound.sequence == round_.sequence + 1))


def _round_assignments(round_ids: Sequence[int]) -> list[Assignment]:
    return list(db.session.scalars(
        db.select(Assignment)
        .options(joinedload(Assignment.expert), selectinload(Assignment.score).selectinload(Score.items))
        .where(Assignment.round_id.in_(round_ids), Assignment.status.in_(Assignment.ACTIVE))
        .order_by(Assignment.application_id, Assignment.id)
    ))


def _field_of(app: Application) -> str:
    return app.field.value if app.field is not None else NO_FIELD


def round_ranking(round_: ReviewRound) -> Ranking:
    """The ranking page's numbers (see the module docstring). Five queries whatever the size."""
    apps = list(db.session.scalars(
        db.select(Application)
        .join(RoundEntry, RoundEntry.application_id == Application.id)
        .options(joinedload(Application.org))
        .where(RoundEntry.round_id == round_.id)
        .order_by(Application.number, Application.id)
    ))
    assignments = _round_assignments([round_.id])
    by_app: dict[int, list[Assignment]] = defaultdict(list)
    for a in assignments:
        by_app[a.application_id].append(a)

    field_of = {a.id: _field_of(a) for a in apps}
    reviews = []
    for a in assignments:
        s = a.score
        if s is not None and s.status == ScoreStatus.SUBMITTED and s.total is not None and a.application_id in field_of:
            reviews.append(scoring.Review(application=a.application_id, expert=a.expert_id,
                                          field=field_of[a.application_id], total=s.total))
    per_review = scoring.calibrated_reviews(reviews)
    per_app = scoring.calibrated_scores(reviews)
    rule = round_.aggregation_rule

    rows: list[Row] = []
    for app in apps:
        marks = []
        for a in sorted(by_app.get(app.id, []), key=lambda x: (x.expert.name, x.expert_id)):
            s = a.score
            submitted = s is not None and s.status == ScoreStatus.SUBMITTED and s.total is not None
            status = "pending" if s is None else s.status.value
            marks.append(Mark(
                expert_id=a.expert_id, name=a.expert.name, title=a.expert.title or "", status=status,
                total=s.total if submitted else None,
                calibrated=per_review.get((app.id, a.expert_id)) if submitted else None,
                points=s.points_by_criterion() if submitted else {},
                submitted_at=s.submitted_at if submitted else None,
                on_time=(s.submitted_at <= round_.deadline) if submitted and s.submitted_at else None,
            ))
        totals = [m.total for m in marks if m.total is not None]
        _flag_dropped(marks, totals, rule)
        rows.append(Row(
            application=app, marks=marks, assigned=len(marks), submitted=len(totals),
            official=scoring.official_score(totals, rule) if totals else None,
            calibrated=per_app.get(app.id),
            kept=scoring.kept_scores(totals, rule) if totals else [],
            spread=scoring.spread(totals) if len(totals) > 1 else None,
            std=scoring.std_dev(totals) if len(totals) > 1 else None,
            disagreement=scoring.strong_disagreement(totals),
        ))

    by_id = {r.application.id: r for r in rows}
    ranked = scoring.rank([scoring.RankEntry(application=r.application.id, number=r.application.number or "",
                                             official=r.official, calibrated=r.calibrated, n_scores=r.submitted)
                           for r in rows])
    ordered = []
    for position, entry in ranked:
        row = by_id[entry.application]
        row.position = position if row.official is not None else None
        ordered.append(row)
    _suggest(round_, ordered)

    nxt = next_round_of(round_)
    if nxt is not None:
        promoted = set(db.session.scalars(db.select(RoundEntry.application_id).where(RoundEntry.round_id == nxt.id)))
        for row in ordered:
            row.in_next_round = row.application.id in promoted
    experts = sorted({a.expert for a in assignments}, key=lambda e: (e.name, e.id))
    return Ranking(round=round_, rows=ordered, tie_breaks=scoring.describe_tie_breaks(), rule_text=rule_text(round_),
                   promotion_text=round_.promotion_label, next_round=nxt, experts=experts)


def _flag_dropped(marks: list[Mark], totals: list[Decimal], rule) -> None:
    if not totals:
        return
    rest = sorted(totals)
    for k in scoring.kept_scores(totals, rule):
        rest.remove(k)
    for value in rest:
        mark = next(m for m in marks if m.total == value and not m.dropped)
        mark.dropped = True


def _suggest(round_: ReviewRound, rows: list[Row]) -> None:
    """Mark what the round's promotion rule suggests (top N with ties kept, or official ≥ X)."""
    for row in rows:
        if row.official is None:
            continue
        if round_.promotion == Promotion.TOP_N and round_.promotion_top_n:
            row.suggested = row.position is not None and row.position <= round_.promotion_top_n
        elif round_.promotion == Promotion.MIN_SCORE and round_.promotion_min_score is not None:
            row.suggested = row.official >= Decimal(round_.promotion_min_score)


# --------------------------------------------------------------------------- promotion


def _require_closed(round_: ReviewRound, what: str) -> None:
    if round_.status != RoundStatus.CLOSED:
        raise ReviewError(f"本轮评分结束后才能{what}。请先在轮次页面结束评分。")


def promote(round_: ReviewRound, application_ids: Iterable[int], *, to_round: ReviewRound, by) -> tuple[int, int]:
    """The next round's entries become exactly ``application_ids`` (added and removed while the next round is
    still being set up). Returns (added, removed)."""
    from incubator.review import services

    _require_closed(round_, "确定晋级名单")
    if to_round.call_id != round_.call_id or to_round.sequence != round_.sequence + 1:
        raise ReviewError("只能晋级到本通知的下一轮评审。")
    if to_round.status != RoundStatus.SETUP:
        raise ReviewError(f"{to_round.title}已抽取专家，不能再调整晋级名单。")
    wanted = {int(i) for i in application_ids}
    in_round = {e.application_id for e in round_.entries}
    if not wanted:
        raise InvalidInput("请至少选择一份晋级的申请。")
    if wanted - in_round:
        raise InvalidInput("所选申请不在本轮评审中。")
    apps = list(db.session.scalars(db.select(Application).where(Application.id.in_(wanted))
                                   .order_by(Application.number, Application.id)))
    before = sorted(e.application_id for e in to_round.entries)
    added = services.add_entries(to_round, apps, by=by)
    removed = 0
    for entry in [e for e in to_round.entries if e.application_id not in wanted]:
        services.remove_entry(to_round, entry, by=by)
        removed += 1
    db.session.flush()
    audit.record("ranking.promote", round_, before={"to_round": to_round.id, "applications": before},
                 after={"to_round": to_round.id, "applications": sorted(wanted)}, actor=by)
    return added, removed


# --------------------------------------------------------------------------- the score table (Excel)


def score_table(ranking: Ranking) -> tuple[list[str], list[list]]:
    width = ranking.max_panel
    headers = ["排名", "申报编号", "项目名称", "申报单位", "服务领域", "已提交评分", "已分配专家", "正式得分",
               "校准分（参考）", "分差", "标准差", "意见分歧", "建议晋级"]
    for i in range(1, width + 1):
        headers += [f"专家{i}", f"专家{i}加权总分"]
    rows = []
    for r in ranking.rows:
        app = r.application
        line = [r.position, app.number, app.display_title, app.org.name, app.field.label if app.field else "",
                r.submitted, r.assigned, r.official, r.calibrated, r.spread, r.std,
                "是" if r.disagreement else "否", "是" if r.suggested else "否"]
        for m in r.marks:
            line += [m.name, m.total]
        line += [None, None] * (width - len(r.marks))
        rows.append(line)
    return headers, rows


# --------------------------------------------------------------------------- 评分汇总表 (PDF)


def _fmt(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def score_sheet_context(round_: ReviewRound) -> dict:
    """Plain values for templates/pdf/score_sheet.html: one panel per set of experts."""
    from incubator.db import today_local, utcnow

    ranking = round_ranking(round_)
    criteria = list(round_.criteria)
    panels: dict[tuple[int, ...], dict] = {}
    for row in ranking.rows:
        key = tuple(sorted(m.expert_id for m in row.marks))
        if not key:
            continue
        panel = panels.setdefault(key, {"experts": [], "applications": []})
        if not panel["experts"]:
            panel["experts"] = [{"name": m.name, "title": m.title} for m in row.marks]
        panel["applications"].append({
            "position": row.position or "—",
            "number": row.application.number or "",
            "title": row.application.display_title,
            "org": row.application.org.name,
            "marks": [{
                "name": m.name,
                "points": [str(m.points[c.id]) if c.id in m.points else "—" for c in criteria],
                "total": _fmt(m.total),
                "status": m.status_label,
            } for m in row.marks],
            "official": _fmt(row.official),
            "kept": "、".join(_fmt(k) for k in row.kept),
            "dropped": "、".join(_fmt(k) for k in row.dropped),
            "calibrated": _fmt(row.calibrated),
            "complete": row.complete,
            "submitted": row.submitted,
            "assigned": row.assigned,
        })
    call = round_.call
    return {
        "title": "评分汇总表",
        "subtitle": f"{call.title}　{round_.title}（{round_.kind.label}）",
        "criteria": [{"name": c.name, "max_points": c.max_points, "weight": f"{Decimal(c.weight).normalize():f}"} for c in criteria],
        "panels": [dict(p, index=i) for i, p in enumerate(panels.values(), 1)],
        "rule_text": rule_text(round_),
        "tie_breaks": ranking.tie_breaks,
        "review_date": round_.review_date or today_local(),
        "printed_on": today_local(),
        "generated_at": utcnow(),
        "complete": ranking.complete,
        "submitted": ranking.submitted,
        "assigned": ranking.assigned,
    }


def request_score_sheet(round_: ReviewRound, *, by):
    """Queue the 评分汇总表 PDF (the caller commits and shows the job page)."""
    from incubator.core.jobs import start_job

    return start_job(render_score_sheet, round_.id, by.id, title=f"评分汇总表：{round_.call.title} {round_.title}",
                     user=by, kind="score_sheet_pdf")


class SheetRefused(Exception):
    """The user who asked for the sheet may no longer manage the round."""


def render_score_sheet(job, round_id: int, user_id: int) -> None:
    """The job: render, store and attach the PDF; safe to run twice (a finished job keeps its file)."""
    from incubator.accounts.models import User
    from incubator.core.files import save_generated
    from incubator.core.jobs import attach_result, report_progress
    from incubator.core.pdf import render_pdf

    if getattr(job, "result_file_id", None):
        return
    round_ = db.session.get(ReviewRound, round_id)
    user = db.session.get(User, user_id)
    if round_ is None:
        raise LookupError(f"评审轮次 #{round_id} 不存在")
    if user is None or not round_.can_manage(user):
        raise SheetRefused("您已无权导出该轮次的评分汇总表")
    report_progress(job, 20, "汇总专家评分")
    context = score_sheet_context(round_)
    report_progress(job, 50, "排版生成PDF")
    data = render_pdf("pdf/score_sheet.html", **context)
    report_progress(job, 85, "保存文件")
    stored = save_generated(data, filename=f"评分汇总表-{round_.call.title}-第{round_.sequence}轮.pdf",
                            content_type="application/pdf", by=user)
    attach_result(job, stored)
    report_progress(job, 100, "已完成，可以下载")
    db.session.flush()


# --------------------------------------------------------------------------- expert ratings


@dataclass
class RatingInput:
    expert_id: int
    timeliness: int | None
    quality: int | None
    note: str = ""


def round_ratings(round_: ReviewRound) -> dict[int, ExpertRating]:
    return {r.expert_id: r for r in db.session.scalars(db.select(ExpertRating).where(ExpertRating.round_id == round_.id))}


def rate_experts(round_: ReviewRound, rows: Sequence[RatingInput], *, by) -> int:
    """Store timeliness and quality (1–5) per expert of a closed round; a row with both blank is skipped.
    Returns how many ratings were written. Refuses the whole batch on any bad row."""
    _require_closed(round_, "评价专家")
    in_round = {a.expert_id for a in round_.assignments if a.is_active}
    errors = []
    for r in rows:
        if r.expert_id not in in_round:
            errors.append("所评价的专家不在本轮评审中")
        if (r.timeliness is None) != (r.quality is None):
            errors.append("请同时填写及时性和评审质量")
        for v in (r.timeliness, r.quality):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 5):
                errors.append("评价须为 1–5 的整数")
        if r.note and len(r.note) > 500:
            errors.append("评价说明不能超过 500 字")
    if errors:
        raise InvalidInput("；".join(dict.fromkeys(errors)))
    existing = round_ratings(round_)
    written = 0
    for r in rows:
        if r.timeliness is None:
            continue
        note = (r.note or "").replace("\x00", "").strip()[:500]
        rating = existing.get(r.expert_id)
        before = None if rating is None else {"timeliness": rating.timeliness, "quality": rating.quality,
                                              "note": rating.note}
        if rating is None:
            rating = ExpertRating(round_id=round_.id, expert_id=r.expert_id)
            db.session.add(rating)
        rating.timeliness, rating.quality, rating.note = r.timeliness, r.quality, note
        rating.rated_by_id = getattr(by, "id", None)
        db.session.flush()
        audit.record("expert.rate", rating, before=before,
                     after={"round": round_.id, "expert": r.expert_id, "timeliness": r.timeliness,
                            "quality": r.quality, "note": note}, actor=by)
        written += 1
    return written


# --------------------------------------------------------------------------- expert history


@dataclass
class RoundStat:
    round: ReviewRound
    assigned: int = 0
    reviews: int = 0  # submitted scores
    on_time: int = 0
    deviations: list[Fraction] = field(default_factory=list)
    rating: ExpertRating | None = None

    @property
    def on_time_rate(self) -> Decimal | None:
        return scoring.round_half_up(Fraction(self.on_time * 100, self.reviews), 1) if self.reviews else None

    @property
    def avg_deviation(self) -> Decimal | None:
        return scoring.round_half_up(sum(self.deviations, Fraction(0)) / len(self.deviations)) if self.deviations else None


@dataclass
class History:
    expert: object
    rounds: list[RoundStat]

    @property
    def reviews(self) -> int:
        return sum(r.reviews for r in self.rounds)

    @property
    def assigned(self) -> int:
        return sum(r.assigned for r in self.rounds)

    @property
    def on_time_rate(self) -> Decimal | None:
        on_time = sum(r.on_time for r in self.rounds)
        return scoring.round_half_up(Fraction(on_time * 100, self.reviews), 1) if self.reviews else None

    @property
    def avg_deviation(self) -> Decimal | None:
        devs = [d for r in self.rounds for d in r.deviations]
        return scoring.round_half_up(sum(devs, Fraction(0)) / len(devs)) if devs else None

    def _avg(self, attr: str) -> Decimal | None:
        values = [getattr(r.rating, attr) for r in self.rounds if r.rating is not None]
        return scoring.round_half_up(Fraction(sum(values), len(values)), 1) if values else None

    @property
    def avg_timeliness(self) -> Decimal | None:
        return self._avg("timeliness")

    @property
    def avg_quality(self) -> Decimal | None:
        return self._avg("quality")


def _scoped_rounds(user) -> list[ReviewRound]:
    stmt = db.select(ReviewRound).join(ReviewRound.call).options(joinedload(ReviewRound.call)).order_by(
        ReviewRound.id.desc())
    if not (user.is_admin or user.is_city_staff):
        stmt = stmt.where(Call.district_id == user.district_id)
    return list(db.session.scalars(stmt))


def histories(user, expert_ids: Iterable[int] | None = None) -> dict[int, History]:
    """expert id → History over the rounds ``user`` may manage (four queries)."""
    from incubator.pools.models import Expert

    rounds = {r.id: r for r in _scoped_rounds(user)}
    if not rounds:
        return {}
    wanted = None if expert_ids is None else set(expert_ids)
    rows = db.session.execute(
        db.select(Assignment.round_id, Assignment.application_id, Assignment.expert_id, Score.status, Score.total,
                  Score.submitted_at)
        .outerjoin(Score, Score.assignment_id == Assignment.id)
        .where(Assignment.round_id.in_(rounds), Assignment.status.in_(Assignment.ACTIVE))
    ).all()
    totals: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    for round_id, app_id, _e, status, total, _at in rows:
        if status == ScoreStatus.SUBMITTED and total is not None:
            totals[(round_id, app_id)].append(total)
    official = {k: scoring.official_score(v, rounds[k[0]].aggregation_rule) for k, v in totals.items()}
    stats: dict[int, dict[int, RoundStat]] = defaultdict(dict)
    for round_id, app_id, expert_id, status, total, submitted_at in rows:
        if wanted is not None and expert_id not in wanted:
            continue
        st = stats[expert_id].setdefault(round_id, RoundStat(round=rounds[round_id]))
        st.assigned += 1
        if status == ScoreStatus.SUBMITTED and total is not None:
            st.reviews += 1
            if submitted_at is not None and submitted_at <= rounds[round_id].deadline:
                st.on_time += 1
            st.deviations.append(abs(Fraction(total) - Fraction(official[(round_id, app_id)])))
    rating_stmt = db.select(ExpertRating).where(ExpertRating.round_id.in_(rounds))
    if wanted is not None:
        rating_stmt = rating_stmt.where(ExpertRating.expert_id.in_(wanted))
    for rating in db.session.scalars(rating_stmt):
        st = stats[rating.expert_id].setdefault(rating.round_id, RoundStat(round=rounds[rating.round_id]))
        st.rating = rating
    experts = {e.id: e for e in db.session.scalars(db.select(Expert).where(Expert.id.in_(stats)))} if stats else {}
    return {eid: History(expert=experts[eid], rounds=sorted(per.values(), key=lambda s: -s.round.id))
            for eid, per in stats.items() if eid in experts}


def expert_history(expert, user) -> History:
    return histories(user, [expert.id]).get(expert.id) or History(expert=expert, rounds=[])


def experts_overview(user) -> list[History]:
    return sorted(histories(user).values(), key=lambda h: (h.expert.name, h.expert.id))


__all__ = ["RATING_LABELS", "Ranking", "Row", "Mark", "round_ranking", "promote", "score_table",
           "score_sheet_context", "request_score_sheet", "render_score_sheet", "rate_experts", "RatingInput",
           "round_ratings", "expert_history", "experts_overview", "histories", "next_round_of", "rule_text"]
