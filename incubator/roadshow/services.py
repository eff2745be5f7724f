"""Roadshow services: sessions, the order on stage, start/finish marks, judges' scores and the live board.

Judges score through ``incubator.review.services`` (confirm_no_conflict, save_score): the same criteria
checks, conflict rule and lock (a submitted score is final unless staff reopen it with a reason). Services
flush and never commit; they raise ``RoadshowError`` (Chinese ``message``, ``status_code``).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import joinedload, selectinload

from incubator.applications.models import Application
from incubator.calls.models import Call
from incubator.core import audit
from incubator.core.states import InvalidTransition, transition
from incubator.db import to_local, utcnow
from incubator.extensions import db
from incubator.review import scoring
from incubator.review import services as review_services
from incubator.review.models import (
    Assignment,
    Conflict,
    ReviewRound,
    RoundEntry,
    RoundKind,
    RoundStatus,
    Score,
    ScoreStatus,
)
from incubator.roadshow.models import Contestant, ContestantStatus, RoadshowSession, SessionStatus


class RoadshowError(Exception):
    status_code = 409

    def __init__(self, message: str, status_code: int | None = None):
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        super().__init__(message)


class InvalidInput(RoadshowError):
    status_code = 422


may_manage = review_services.may_manage
is_expert = review_services.is_expert
expert_of = review_services.expert_of


# --------------------------------------------------------------------------- staff: sessions


def _scoped(stmt, user):
    if not (user.is_admin or user.is_city_staff):
        stmt = stmt.where(Call.district_id == user.district_id)
    return stmt


def visible_sessions(user) -> list[RoadshowSession]:
    stmt = (db.select(RoadshowSession).join(ReviewRound, ReviewRound.id == RoadshowSession.round_id)
            .join(Call, Call.id == ReviewRound.call_id)
            .options(joinedload(RoadshowSession.round).joinedload(ReviewRound.call),
                     selectinload(RoadshowSession.contestants))
            .order_by(RoadshowSession.held_on.desc(), RoadshowSession.id.desc()))
    return list(db.session.scalars(_scoped(stmt, user)))


def rounds_without_session(user) -> list[ReviewRound]:
    """Roadshow rounds in the user's scope that have no session yet."""
    taken = db.select(RoadshowSession.round_id)
    stmt = (db.select(ReviewRound).join(Call, Call.id == ReviewRound.call_id)
            .options(joinedload(ReviewRound.call))
            .where(ReviewRound.kind == RoundKind.ROADSHOW, ReviewRound.id.not_in(taken))
            .order_by(Call.year.desc(), ReviewRound.id.desc()))
    return list(db.session.scalars(_scoped(stmt, user)))


def _entries(round_: ReviewRound) -> list[Application]:
    return list(db.session.scalars(
        db.select(Application).join(RoundEntry, RoundEntry.application_id == Application.id)
        .where(RoundEntry.round_id == round_.id).order_by(Application.number, Application.id)))


def create_session(round_: ReviewRound, *, by, title: str, held_on: date, venue: str) -> RoadshowSession:
    if round_.kind != RoundKind.ROADSHOW:
        raise RoadshowError("只有评审方式为“路演”的轮次才能安排路演。")
    if db.session.scalar(db.select(RoadshowSession.id).where(RoadshowSession.round_id == round_.id)):
        raise RoadshowError("该轮次已安排路演。")
    title = (title or "").replace("\x00", "").strip()[:200]
    if not title:
        raise InvalidInput("请填写路演名称")
    apps = _entries(round_)
    if not apps:
        raise RoadshowError("该轮次还没有参评申请，请先在评审轮次中加入申请。")
    s = RoadshowSession(round_id=round_.id, title=title, held_on=held_on,
                        venue=(venue or "").replace("\x00", "").strip()[:200], status=SessionStatus.PLANNED,
                        created_by_id=getattr(by, "id", None))
    s.round = round_
    s.contestants = [Contestant(application_id=a.id, position=i, status=ContestantStatus.WAITING)
                     for i, a in enumerate(apps, 1)]
    db.session.add(s)
    db.session.flush()
    audit.record("roadshow.create", s, after={"round": round_.id, "held_on": held_on, "venue": s.venue,
                                              "contestants": [a.number for a in apps]}, actor=by)
    return s


def sync_contestants(s: RoadshowSession) -> int:
    """Append the round's entries that are not contestants yet (in number order); returns how many."""
    have = {c.application_id for c in s.contestants}
    last = max((c.position for c in s.contestants), default=0)
    added = 0
    for app in _entries(s.round):
        if app.id not in have:
            last += 1
            s.contestants.append(Contestant(application_id=app.id, position=last, status=ContestantStatus.WAITING))
            added += 1
    db.session.flush()
    return added


def move(contestant: Contestant, *, step: int, by) -> None:
    """Swap a waiting contestant with its neighbour in the order (step −1 up, +1 down)."""
    s = contestant.session
    if s.status == SessionStatus.ENDED:
        raise RoadshowError("路演已结束，不能再调整顺序。")
    order = list(s.contestants)
    i = order.index(contestant)
    j = i + (1 if step > 0 else -1)
    if j < 0 or j >= len(order):
        return
    other = order[j]
    if contestant.status != ContestantStatus.WAITING or other.status != ContestantStatus.WAITING:
        raise RoadshowError("已上场的项目不能再调整顺序。")
    contestant.position, other.position = other.position, contestant.position
    s.contestants.sort(key=lambda c: c.position)
    db.session.flush()
    audit.record("roadshow.reorder", s, after=[c.application_id for c in s.contestants], actor=by)


def open_session(s: RoadshowSession, *, by) -> None:
    if s.round.status != RoundStatus.SCORING:
        raise RoadshowError("请先在评审轮次中完成专家抽取并开始评分，再开始路演。")
    try:
        transition(s, SessionStatus.LIVE, by=by, note="开始路演")
    except InvalidTransition as exc:
        raise RoadshowError("路演已在进行中。") from exc
    s.opened_at = s.opened_at or utcnow()
    sync_contestants(s)


def end_session(s: RoadshowSession, *, by) -> None:
    try:
        transition(s, SessionStatus.ENDED, by=by, note="路演结束")
    except InvalidTransition as exc:
        raise RoadshowError("只有进行中的路演才能结束。") from exc
    s.ended_at = utcnow()
    db.session.flush()


def mark_started(c: Contestant, *, by) -> None:
    if not c.session.is_live:
        raise RoadshowError("路演尚未开始或已结束。")
    try:
        transition(c, ContestantStatus.PRESENTING, by=by, note="开始路演")
    except InvalidTransition as exc:
        raise RoadshowError("该项目已上场。") from exc
    c.started_at = utcnow()
    db.session.flush()


def mark_finished(c: Contestant, *, by) -> None:
    """The contestant has finished: the judges may score it now."""
    if not c.session.is_live:
        raise RoadshowError("路演尚未开始或已结束。")
    try:
        transition(c, ContestantStatus.FINISHED, by=by, note="完成路演，评委开始评分")
    except InvalidTransition as exc:
        raise RoadshowError("该项目已完成路演。") from exc
    c.finished_at = utcnow()
    c.started_at = c.started_at or c.finished_at
    db.session.flush()


def load_session(session_id: int) -> RoadshowSession | None:
    return db.session.scalar(
        db.select(RoadshowSession)
        .options(joinedload(RoadshowSession.round).joinedload(ReviewRound.call),
                 selectinload(RoadshowSession.contestants).joinedload(Contestant.application)
                 .joinedload(Application.org))
        .where(RoadshowSession.id == session_id))


# --------------------------------------------------------------------------- the panel and the scores


def _assignments(round_id: int) -> list[Assignment]:
    return list(db.session.scalars(
        db.select(Assignment)
        .options(joinedload(Assignment.expert), selectinload(Assignment.score).selectinload(Score.items))
        .where(Assignment.round_id == round_id, Assignment.status.in_(Assignment.ACTIVE))
        .order_by(Assignment.id)))


def panel(s: RoadshowSession, assignments: list[Assignment] | None = None) -> list:
    """The judges: experts with an active assignment in the session's round, by name."""
    rows = assignments if assignments is not None else _assignments(s.round_id)
    return sorted({a.expert for a in rows}, key=lambda e: (e.name, e.id))


def is_judge(s: RoadshowSession, expert) -> bool:
    return expert is not None and bool(db.session.scalar(
        db.select(Assignment.id).where(Assignment.round_id == s.round_id, Assignment.expert_id == expert.id,
                                       Assignment.status.in_(Assignment.ACTIVE)).limit(1)))


def judge_sessions(expert) -> list[RoadshowSession]:
    """The sessions whose panel the expert sits on (nothing else)."""
    if expert is None:
        return []
    rounds = db.select(Assignment.round_id).where(Assignment.expert_id == expert.id,
                                                  Assignment.status.in_(Assignment.ACTIVE))
    return list(db.session.scalars(
        db.select(RoadshowSession).where(RoadshowSession.round_id.in_(rounds))
        .options(joinedload(RoadshowSession.round).joinedload(ReviewRound.call))
        .order_by(RoadshowSession.held_on.desc(), RoadshowSession.id.desc())))


@dataclass
class JudgeItem:
    contestant: Contestant
    assignment: Assignment | None  # None: not assigned (e.g. a conflict) — the judge does not score it
    score: Score | None

    @property
    def state(self) -> str:
        if self.assignment is None:
            return "excluded"
        if self.score is not None and self.score.status == ScoreStatus.SUBMITTED:
            return "scored"
        if self.contestant.is_finished:
            return "to_score"
        return self.contestant.status.value

    @property
    def state_label(self) -> str:
        return {"excluded": "回避/未分配", "scored": "已评分", "to_score": "待评分",
                "waiting": "待路演", "presenting": "路演中"}[self.state]


def judge_items(s: RoadshowSession, expert) -> list[JudgeItem]:
    mine = {a.application_id: a for a in db.session.scalars(
        db.select(Assignment).options(selectinload(Assignment.score))
        .where(Assignment.round_id == s.round_id, Assignment.expert_id == expert.id,
               Assignment.status.in_(Assignment.ACTIVE)))}
    conflicted = {app_id for app_id, in db.session.execute(
        db.select(Conflict.application_id).where(Conflict.round_id == s.round_id, Conflict.expert_id == expert.id))}
    out = []
    for c in s.contestants:
        a = mine.get(c.application_id)
        if c.application_id in conflicted:
            a = None
        out.append(JudgeItem(contestant=c, assignment=a, score=a.score if a is not None else None))
    return out


def judge_item(s: RoadshowSession, expert, contestant_id: int) -> JudgeItem | None:
    return next((i for i in judge_items(s, expert) if i.contestant.id == contestant_id), None)


def score_contestant(item: JudgeItem, *, by, points: dict[int, int | None], comments: str = "",
                     confirm_no_conflict: bool = False) -> Score:
    """A judge scores a finished contestant (submitted at once; locked afterwards)."""
    c, a = item.contestant, item.assignment
    if a is None:
        raise RoadshowError("您不评审该项目（回避或未分配）。", status_code=403)
    if not c.session.is_live:
        raise RoadshowError("路演尚未开始或已结束，不能评分。")
    if not c.is_finished:
        raise RoadshowError("该项目尚未完成路演，完成后即可评分。")
    if a.score is not None and a.score.locked:
        raise RoadshowError(review_services.ScoreLocked().message, 409)
    if a.needs_declaration:
        if not confirm_no_conflict:
            raise InvalidInput("请先勾选“本人与该项目申报单位无利害关系”。")
        try:
            review_services.confirm_no_conflict(a, by=by)
        except review_services.ReviewError as exc:
            raise RoadshowError(exc.message, exc.status_code) from exc
    try:
        return review_services.save_score(a, by=by, points=points, comments=comments, submit=True)
    except review_services.ReviewError as exc:
        raise (InvalidInput if exc.status_code == 422 else RoadshowError)(exc.message, exc.status_code) from exc


# --------------------------------------------------------------------------- the live board


def _fmt(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def board(s: RoadshowSession) -> dict:
    """What the live board shows (JSON-safe): each contestant's judges' totals as they complete, the official
    score by the round's rule (drop one highest and one lowest from 5 judges) and the running ranking."""
    round_ = s.round
    assignments = _assignments(s.round_id)
    judges = panel(s, assignments)
    index = {e.id: i for i, e in enumerate(judges)}
    by_app: dict[int, dict[int, Assignment]] = defaultdict(dict)
    for a in assignments:
        by_app[a.application_id][a.expert_id] = a
    rule = round_.aggregation_rule
    contestants, entries = [], []
    for c in s.contestants:
        app = c.application
        mine = by_app.get(app.id, {})
        cells: list[str | None] = ["—"] * len(judges)
        totals = []
        for expert_id, a in mine.items():
            sc = a.score
            if sc is not None and sc.status == ScoreStatus.SUBMITTED and sc.total is not None:
                cells[index[expert_id]] = _fmt(sc.total)
                totals.append(sc.total)
            else:
                cells[index[expert_id]] = None  # assigned, not scored yet
        official = scoring.official_score(totals, rule) if totals else None
        kept = scoring.kept_scores(totals, rule) if totals else []
        row = {
            "id": c.id, "position": c.position, "number": app.number or "", "title": app.display_title,
            "org": None if round_.blind else app.org.name,
            "status": c.status.value, "status_label": c.status.label,
            "scores": cells, "submitted": len(totals), "panel": len(mine),
            "official": _fmt(official), "trimmed": len(kept) < len(totals), "rank": None,
        }
        contestants.append(row)
        if official is not None:
            entries.append(scoring.RankEntry(application=c.id, number=app.number or "", official=official,
                                             n_scores=len(totals)))
    ranks = scoring.rank(entries, ("official_desc", "n_scores_desc", "number_asc"))
    by_id = {r["id"]: r for r in contestants}
    ranking = []
    for position, e in ranks:
        row = by_id[e.application]
        row["rank"] = position
        ranking.append({"rank": position, "number": row["number"], "title": row["title"], "official": row["official"],
                        "submitted": row["submitted"], "panel": row["panel"], "complete": row["submitted"] == row["panel"]})
    now = to_local(utcnow())
    return {
        "session": {"id": s.id, "title": s.title, "status": s.status.value, "status_label": s.status.label,
                    "venue": s.venue, "held_on": f"{s.held_on.year}年{s.held_on.month}月{s.held_on.day}日"},
        "judges": [f"评委{i}" for i in range(1, len(judges) + 1)],
        "rule": (f"评委达到 {round_.trim_from} 人时去掉一个最高分和一个最低分后取平均，不足时取平均；保留两位小数。"
                 if rule.trim_from is not None else "各评委总分的算术平均，保留两位小数。"),
        "tie_breaks": "排序：得分高者在前；相同时依次比较：评分评委多者在前，出场编号小者在前。",
        "contestants": contestants,
        "ranking": ranking,
        "updated_at": f"{now:%H:%M:%S}",
    }


def judge_state(s: RoadshowSession, expert) -> dict:
    """For the judge page's polling: a version that changes when a contestant's state or my score changes."""
    items = judge_items(s, expert)
    return {"status": s.status.value, "version": "|".join(f"{i.contestant.id}:{i.state}" for i in items) + f"|{s.status.value}",
            "to_score": sum(1 for i in items if i.state == "to_score")}
