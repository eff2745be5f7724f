"""Review services: rounds and rubric, entries, conflicts, manual assignment, declarations, scoring.

Services take model objects and typed keyword arguments, change data, ``flush()`` and never commit.
They raise ``ReviewError`` (Chinese ``message``, HTTP ``status_code`` 409 or 422) that views turn into
a flash and a 4xx. The panel draw itself (seed commitment, solve, reveal, replacement, replay) lives in
``incubator.review.draw``.

Permissions:
  ``may_manage(user)``                 staff and admins (what district staff may touch is
                                       ``round_.can_manage(user)``: their own district's calls only);
  ``expert_assignment(user, id)``      the assignment, only when ``user`` is its expert (else None → 404);
  ``can_read_application(user, a)``    the assigned expert, after confirming no conflict, and never while a
                                       conflict (auto or declared) is recorded for the pair.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import func
from sqlalchemy.orm import joinedload, selectinload

from incubator.accounts.models import Role
from incubator.applications.models import Application, ApplicationStatus
from incubator.calls.models import BudgetCategory, Call, FieldKind
from incubator.core import audit
from incubator.core.states import InvalidTransition, transition
from incubator.db import to_local, today_local, utcnow
from incubator.extensions import db
from incubator.orgs.models import ServiceField
from incubator.review import conflicts as conflict_rules
from incubator.review import scoring
from incubator.review.models import (
    Aggregation,
    Assignment,
    AssignmentStatus,
    Conflict,
    ConflictSource,
    Criterion,
    Promotion,
    ReviewRound,
    RoundEntry,
    RoundKind,
    RoundStatus,
    Score,
    ScoreItem,
    ScoreStatus,
)

MAX_REASON_LENGTH = 1000
MAX_COMMENTS_LENGTH = 5000


class ReviewError(Exception):
    status_code = 409

    def __init__(self, message: str, status_code: int | None = None):
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        super().__init__(message)


class AssignmentConflict(ReviewError):
    """The expert has a conflict with the application (stored, declared, or found now)."""


class InvalidInput(ReviewError):
    status_code = 422


class ScoreLocked(ReviewError):
    status_code = 409

    def __init__(self, message: str = "评分已提交并锁定，不能再修改。如确需修改，请联系工作人员退回。"):
        super().__init__(message)


def setting(name: str, default):
    """A review setting: the app config, then the environment, then the default."""
    if has_app_context() and name in current_app.config:
        return current_app.config[name]
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return type(default)(raw) if not isinstance(default, bool) else raw == "1"


# --------------------------------------------------------------------------- permissions


def may_manage(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in (Role.STAFF, Role.ADMIN)


def is_expert(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.EXPERT


def expert_of(user):
    from incubator.pools.services import expert_for_user

    if not is_expert(user):
        return None
    return expert_for_user(user)


def expert_assignment(user, assignment_id: int) -> Assignment | None:
    """The assignment when ``user`` is its expert and the round is open to experts; else None (→ 404)."""
    expert = expert_of(user)
    if expert is None:
        return None
    a = db.session.scalar(
        db.select(Assignment)
        .options(joinedload(Assignment.round).joinedload(ReviewRound.call), joinedload(Assignment.application))
        .where(Assignment.id == assignment_id, Assignment.expert_id == expert.id)
    )
    if a is None or a.round.status not in (RoundStatus.SCORING, RoundStatus.CLOSED):
        return None
    return a


def has_conflict(round_id: int, application_id: int, expert_id: int) -> bool:
    return bool(
        db.session.scalar(
            db.select(func.count(Conflict.id)).where(
                Conflict.round_id == round_id, Conflict.application_id == application_id, Conflict.expert_id == expert_id
            )
        )
    )


def can_read_application(user, assignment: Assignment) -> bool:
    """Only the assigned expert who confirmed no conflict, and only while no conflict is recorded."""
    expert = expert_of(user)
    return (
        expert is not None
        and assignment.expert_id == expert.id
        and assignment.status == AssignmentStatus.CONFIRMED
        and assignment.round.status in (RoundStatus.SCORING, RoundStatus.CLOSED)
        and not has_conflict(assignment.round_id, assignment.application_id, assignment.expert_id)
    )


# --------------------------------------------------------------------------- rounds


def visible_rounds(user) -> list[ReviewRound]:
    """Rounds of the calls the user manages (district staff: their district's calls), newest first."""
    stmt = (
        db.select(ReviewRound)
        .join(ReviewRound.call)
        .options(joinedload(ReviewRound.call).joinedload(Call.district), selectinload(ReviewRound.entries))
        .order_by(Call.year.desc(), Call.id.desc(), ReviewRound.sequence)
    )
    if not (user.is_admin or user.is_city_staff):
        stmt = stmt.where(Call.district_id == user.district_id)
    return list(db.session.scalars(stmt))


def manageable_calls(user) -> list[Call]:
    """Published calls in the user's scope (a round belongs to a call)."""
    stmt = db.select(Call).where(Call.published_at.is_not(None)).order_by(Call.year.desc(), Call.id.desc())
    if not (user.is_admin or user.is_city_staff):
        stmt = stmt.where(Call.district_id == user.district_id)
    return list(db.session.scalars(stmt))


@dataclass
class RoundSettings:
    name: str
    kind: RoundKind = RoundKind.WRITTEN
    reviewers_per_application: int = 3
    max_load: int = 10
    blind: bool = True
    review_date: date | None = None
    deadline: datetime | None = None  # naive UTC
    aggregation: Aggregation = Aggregation.TRIMMED
    trim_from: int = 5
    promotion: Promotion = Promotion.TOP_N
    promotion_top_n: int | None = None
    promotion_min_score: Decimal | None = None
    exclude_earlier_reviewers: bool = False


def _check_settings(s: RoundSettings) -> None:
    if not (s.name or "").strip():
        raise InvalidInput("请填写轮次名称")
    if s.reviewers_per_application < 1:
        raise InvalidInput("每份申请的评审专家人数至少为 1")
    if s.max_load < 1:
        raise InvalidInput("每位专家最多评审份数至少为 1")
    if s.deadline is None:
        raise InvalidInput("请填写评分截止时间")
    if s.trim_from < 3:
        raise InvalidInput("去掉最高最低分的起始人数至少为 3")
    if s.promotion == Promotion.TOP_N and s.promotion_top_n is not None and s.promotion_top_n < 1:
        raise InvalidInput("晋级名额至少为 1")


def create_round(call: Call, *, by, settings: RoundSettings) -> ReviewRound:
    _check_settings(settings)
    last = db.session.scalar(db.select(func.max(ReviewRound.sequence)).where(ReviewRound.call_id == call.id)) or 0
    round_ = ReviewRound(call=call, sequence=last + 1, created_by_id=getattr(by, "id", None), status=RoundStatus.SETUP)
    _apply(round_, settings)
    db.session.add(round_)
    db.session.flush()
    audit.record("review_round.create", round_, after=_settings_dict(round_), actor=by)
    return round_


def _apply(round_: ReviewRound, s: RoundSettings) -> None:
    round_.name = s.name.strip()[:100]
    round_.kind = s.kind
    round_.reviewers_per_application = s.reviewers_per_application
    round_.max_load = s.max_load
    round_.blind = s.blind
    round_.review_date = s.review_date
    round_.deadline = s.deadline
    round_.aggregation = s.aggregation
    round_.trim_from = s.trim_from
    round_.promotion = s.promotion
    round_.promotion_top_n = s.promotion_top_n
    round_.promotion_min_score = s.promotion_min_score
    round_.exclude_earlier_reviewers = s.exclude_earlier_reviewers


def _settings_dict(r: ReviewRound) -> dict:
    return {
        "name": r.name, "kind": r.kind, "k": r.reviewers_per_application, "max_load": r.max_load, "blind": r.blind,
        "review_date": r.review_date, "deadline": r.deadline, "aggregation": r.aggregation, "trim_from": r.trim_from,
        "promotion": r.promotion, "top_n": r.promotion_top_n, "min_score": r.promotion_min_score,
        "exclude_earlier_reviewers": r.exclude_earlier_reviewers,
    }


def update_round(round_: ReviewRound, *, by, settings: RoundSettings) -> None:
    """Change the settings. Panel size, load, blind mode and the earlier-round rule only before the draw."""
    _check_settings(settings)
    before = _settings_dict(round_)
    if round_.status != RoundStatus.SETUP:
        frozen = ("reviewers_per_application", "max_load", "blind", "exclude_earlier_reviewers", "kind")
        if any(getattr(round_, f) != getattr(settings, f) for f in frozen):
            raise ReviewError("专家已抽取：评审方式、每份申请专家人数、专家评审上限、匿名评审和前轮回避设置不能再修改。")
    _apply(round_, settings)
    db.session.flush()
    audit.record("review_round.update", round_, before=before, after=_settings_dict(round_), actor=by)


def open_scoring(round_: ReviewRound, *, by) -> int:
    """drawn → scoring: the experts see their assignments and are notified. Returns how many were told."""
    from incubator.notifications.services import notify_many

    try:
        transition(round_, RoundStatus.SCORING, by=by, note="开始评分")
    except InvalidTransition as exc:
        raise ReviewError("只有已抽取专家的轮次才能开始评分。") from exc
    experts = {a.expert for a in round_.assignments if a.is_active}
    users = [e.user for e in sorted(experts, key=lambda e: e.id)]
    notify_many(
        users, f"评审任务：{round_.call.title} {round_.title}",
        f"您有新的评审任务，请在{_deadline_text(round_)}前完成评分。打开任务时请先确认与申报单位无利害关系。",
        "/expert/",
    )
    return len(users)


def close_round(round_: ReviewRound, *, by) -> None:
    try:
        transition(round_, RoundStatus.CLOSED, by=by, note="评分结束")
    except InvalidTransition as exc:
        raise ReviewError("只有评分中的轮次才能结束。") from exc


def reopen_round(round_: ReviewRound, *, by, reason: str) -> None:
    reason = _clean(reason)
    if not reason:
        raise InvalidInput("请填写重新开放评分的原因")
    try:
        transition(round_, RoundStatus.SCORING, by=by, note=reason)
    except InvalidTransition as exc:
        raise ReviewError("只有已结束的轮次才能重新开放评分。") from exc


def _deadline_text(round_: ReviewRound) -> str:
    d = to_local(round_.deadline)
    return f"{d.year}年{d.month}月{d.day}日 {d:%H:%M}"


def _clean(text: str | None, limit: int = MAX_REASON_LENGTH) -> str:
    return (text or "").replace("\x00", "").strip()[:limit]


# --------------------------------------------------------------------------- rubric

# The usual city rubric (DOMAIN.md "Review criteria"): maxima add up to 100, max points = weight.
DEFAULT_CRITERIA: list[tuple[str, str, int]] = [
    ("需求的广泛性与紧迫性", "服务对象需求是否真实、普遍、迫切，需求分析是否有调研依据。", 20),
    ("公益性与目标", "项目是否以公益为目的，总目标与具体目标是否清晰、可衡量。", 15),
    ("创新性与示范性", "服务内容或方式是否有创新，是否具有推广和示范价值。", 15),
    ("方案可行性", "实施计划与进度是否合理，风险及应对是否充分，成效是否可持续、可复制。", 25),
    ("预算合理性", "预算是否精准，科目与测算依据是否合理，资金使用是否符合规定。", 10),
    ("团队专业能力", "团队构成、专业资质与投入时间是否足以完成项目。", 15),
]


@dataclass
class CriterionInput:
    name: str
    description: str
    max_points: int
    weight: Decimal


def set_criteria(round_: ReviewRound, rows: Sequence[CriterionInput], *, by) -> None:
    """Replace the rubric (only before the draw). Weights must add up to 100."""
    if round_.status != RoundStatus.SETUP:
        raise ReviewError("专家已抽取，评分细则不能再修改。")
    rubric = [scoring.Criterion(key=str(i), max_points=Decimal(r.max_points), weight=Decimal(r.weight), label=r.name)
              for i, r in enumerate(rows)]
    names = [r.name.strip() for r in rows]
    if any(not n for n in names):
        raise InvalidInput("每个评分项都要填写名称")
    if len(set(names)) != len(names):
        raise InvalidInput("评分项名称不能重复")
    try:
        scoring.validate_criteria(rubric)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    before = [(c.name, c.max_points, str(c.weight)) for c in round_.criteria]
    round_.criteria.clear()
    db.session.flush()
    for i, r in enumerate(rows):
        round_.criteria.append(Criterion(position=i, name=r.name.strip()[:100], description=_clean(r.description, 1000),
                                         max_points=int(r.max_points), weight=Decimal(r.weight)))
    db.session.flush()
    audit.record("review_round.criteria", round_, before=before,
                 after=[(c.name, c.max_points, str(c.weight)) for c in round_.criteria], actor=by)


def set_default_criteria(round_: ReviewRound, *, by) -> None:
    set_criteria(round_, [CriterionInput(n, d, p, Decimal(p)) for n, d, p in DEFAULT_CRITERIA], by=by)


def rubric_problem(round_: ReviewRound) -> str | None:
    if not round_.criteria:
        return "尚未设置评分细则"
    try:
        scoring.validate_criteria(round_.rubric())
    except ValueError as exc:
        return str(exc)
    return None


# --------------------------------------------------------------------------- entries


def candidate_applications(round_: ReviewRound) -> list[Application]:
    """What may enter the round: the first round takes the call's passed (资格审查通过) applications;
    a later round the entries of the round before it (the ranking decides which of them go on)."""
    if round_.sequence <= 1:
        stmt = db.select(Application).where(Application.call_id == round_.call_id,
                                            Application.status == ApplicationStatus.PASSED)
    else:
        prev = db.select(ReviewRound.id).where(ReviewRound.call_id == round_.call_id,
                                              ReviewRound.sequence == round_.sequence - 1).scalar_subquery()
        stmt = db.select(Application).join(RoundEntry, RoundEntry.application_id == Application.id).where(
            RoundEntry.round_id == prev)
    return list(db.session.scalars(stmt.options(joinedload(Application.org)).order_by(Application.number, Application.id)))


def add_entries(round_: ReviewRound, applications: Iterable[Application], *, by) -> int:
    """Add applications to the round (before the draw); returns how many were new."""
    if round_.status != RoundStatus.SETUP:
        raise ReviewError("专家已抽取，不能再增减参评申请。")
    allowed = {a.id for a in candidate_applications(round_)}
    have = {e.application_id for e in round_.entries}
    added = 0
    for app in applications:
        if app.id not in allowed:
            raise ReviewError(f"申请 {app.number or app.id} 不能进入本轮评审（须为本通知资格审查通过或上一轮的申请）。")
        if app.id in have:
            continue
        round_.entries.append(RoundEntry(application_id=app.id, added_by_id=getattr(by, "id", None)))
        have.add(app.id)
        added += 1
    db.session.flush()
    if added:
        audit.record("review_round.entries_add", round_, after={"count": added}, actor=by)
    return added


def remove_entry(round_: ReviewRound, entry: RoundEntry, *, by) -> None:
    if round_.status != RoundStatus.SETUP:
        raise ReviewError("专家已抽取，不能再增减参评申请。")
    app_id = entry.application_id
    round_.entries.remove(entry)
    db.session.flush()
    audit.record("review_round.entry_remove", round_, before={"application_id": app_id}, actor=by)


def entry_applications(round_: ReviewRound) -> list[Application]:
    return list(
        db.session.scalars(
            db.select(Application)
            .join(RoundEntry, RoundEntry.application_id == Application.id)
            .options(joinedload(Application.org))
            .where(RoundEntry.round_id == round_.id)
            .order_by(Application.number, Application.id)
        )
    )


# --------------------------------------------------------------------------- conflicts


def _applicants(round_: ReviewRound, apps: list[Application]) -> list[conflict_rules.Applicant]:
    from incubator.accounts.models import User

    org_ids = {a.org_id for a in apps}
    member_emails: dict[int, list[str]] = {}
    if org_ids:
        for org_id, email in db.session.execute(
                db.select(User.org_id, User.email).where(User.org_id.in_(org_ids))):
            member_emails.setdefault(org_id, []).append(email)
    earlier: dict[int, set[int]] = {}
    if round_.exclude_earlier_reviewers and apps:
        rows = db.session.execute(
            db.select(Assignment.application_id, Assignment.expert_id)
            .join(ReviewRound, ReviewRound.id == Assignment.round_id)
            .where(ReviewRound.call_id == round_.call_id, ReviewRound.sequence < round_.sequence,
                   Assignment.status.in_(Assignment.ACTIVE), Assignment.application_id.in_([a.id for a in apps]))
        )
        for app_id, expert_id in rows:
            earlier.setdefault(app_id, set()).add(expert_id)
    out = []
    for a in apps:
        domains = [a.org.contact_email or ""] + member_emails.get(a.org_id, [])
        out.append(conflict_rules.Applicant(
            id=a.id, org_id=a.org_id, uscc=a.org.uscc, email_domains=tuple(d for d in domains if d),
            earlier_reviewers=tuple(sorted(earlier.get(a.id, ()))),
        ))
    return out


def detect_conflicts(round_: ReviewRound, apps: list[Application], experts: list, *, on: date | None = None):
    """{(application id, expert id): [reasons]} by the rules of incubator.review.conflicts."""
    from incubator.pools.services import conflict_profile

    return conflict_rules.detect(
        _applicants(round_, apps),
        [conflict_rules.Expert(**conflict_profile(e)) for e in experts],
        on=on or today_local(),
        earlier_rounds=round_.exclude_earlier_reviewers,
    )


def compute_conflicts(round_: ReviewRound, *, by, on: date | None = None) -> int:
    """Recompute the automatic conflicts of every (entry, active expert) pair; declared ones stay.

    Returns the number of conflicted pairs now stored.
    """
    from incubator.pools.services import active_experts

    apps = entry_applications(round_)
    experts = active_experts()
    found = detect_conflicts(round_, apps, experts, on=on)
    stored = {(c.application_id, c.expert_id): c for c in db.session.scalars(
        db.select(Conflict).where(Conflict.round_id == round_.id))}
    for pair, c in stored.items():
        if c.source == ConflictSource.AUTO and pair not in found:
            db.session.delete(c)
    for (app_id, expert_id), reasons in found.items():
        c = stored.get((app_id, expert_id))
        if c is None:
            db.session.add(Conflict(round_id=round_.id, application_id=app_id, expert_id=expert_id,
                                    source=ConflictSource.AUTO, reasons=list(reasons),
                                    created_by_id=getattr(by, "id", None)))
        elif c.source == ConflictSource.AUTO:
            c.reasons = list(reasons)
        else:  # declared: keep the declaration, add what the rules found
            c.reasons = sorted(set(c.reasons or []) | set(reasons))
    db.session.flush()
    total = db.session.scalar(db.select(func.count(Conflict.id)).where(Conflict.round_id == round_.id)) or 0
    audit.record("review_round.conflicts", round_, after={"conflicts": total, "experts": len(experts),
                                                           "applications": len(apps)}, actor=by)
    return total


def conflict_pairs(round_: ReviewRound) -> set[tuple[int, int]]:
    return {(a, e) for a, e in db.session.execute(
        db.select(Conflict.application_id, Conflict.expert_id).where(Conflict.round_id == round_.id))}


def round_conflicts(round_: ReviewRound) -> list[Conflict]:
    return list(db.session.scalars(
        db.select(Conflict)
        .options(joinedload(Conflict.application).joinedload(Application.org), joinedload(Conflict.expert))
        .where(Conflict.round_id == round_.id)
        .order_by(Conflict.application_id, Conflict.expert_id)
    ))


# --------------------------------------------------------------------------- assignments


def expert_load(round_: ReviewRound, expert) -> int:
    """Most applications this expert may take in this round: min(L, the expert's own maximum)."""
    return max(0, min(round_.max_load, expert.max_reviews_per_round or 0))


def active_counts(round_: ReviewRound) -> dict[int, int]:
    """expert id → active assignments in the round."""
    return dict(db.session.execute(
        db.select(Assignment.expert_id, func.count(Assignment.id))
        .where(Assignment.round_id == round_.id, Assignment.status.in_(Assignment.ACTIVE))
        .group_by(Assignment.expert_id)
    ).all())


def panel_counts(round_: ReviewRound) -> dict[int, int]:
    """application id → active assignments (its panel so far)."""
    return dict(db.session.execute(
        db.select(Assignment.application_id, func.count(Assignment.id))
        .where(Assignment.round_id == round_.id, Assignment.status.in_(Assignment.ACTIVE))
        .group_by(Assignment.application_id)
    ).all())


def unavailable_in_review(expert, round_: ReviewRound, today: date | None = None) -> bool:
    """The expert declared unavailability on a day of the review (from the review date, or today, to the deadline)."""
    start = round_.review_date or (today or today_local())
    end = to_local(round_.deadline).date() if round_.deadline else start
    if end < start:
        end = start
    return any(u.start_on <= end and u.end_on >= start for u in expert.unavailable)


def manual_assign(round_: ReviewRound, application: Application, expert, *, by, today: date | None = None) -> Assignment:
    """Staff assign an expert by hand. Conflicts (stored, or found now), inactive or unavailable experts,
    a full load and a duplicate are refused with the reason."""
    if round_.status not in (RoundStatus.DRAWN, RoundStatus.SCORING):
        raise ReviewError("请先完成随机抽取，再手工分配专家。")
    if application.id not in {e.application_id for e in round_.entries}:
        raise ReviewError("该申请不在本轮评审中。")
    if not expert.is_active:
        raise ReviewError(f"专家 {expert.name} 当前不在库（{expert.status.label}），不能分配。")
    stored = db.session.scalar(db.select(Conflict).where(
        Conflict.round_id == round_.id, Conflict.application_id == application.id, Conflict.expert_id == expert.id))
    if stored is not None:
        raise AssignmentConflict(f"专家 {expert.name} 与该申请存在回避情形：{stored.reason_text or '已申报回避'}。不能分配。")
    found = detect_conflicts(round_, [application], [expert], on=today)
    if found:
        reasons = found[(application.id, expert.id)]
        db.session.add(Conflict(round_id=round_.id, application_id=application.id, expert_id=expert.id,
                                source=ConflictSource.AUTO, reasons=list(reasons), created_by_id=getattr(by, "id", None)))
        db.session.flush()
        raise AssignmentConflict(f"专家 {expert.name} 与该申请存在回避情形：{'；'.join(reasons)}。不能分配。")
    existing = db.session.scalar(db.select(Assignment).where(
        Assignment.round_id == round_.id, Assignment.application_id == application.id, Assignment.expert_id == expert.id))
    if existing is not None:
        raise ReviewError(f"专家 {expert.name} 已分配过该申请（{existing.status.label}）。")
    if unavailable_in_review(expert, round_, today):
        raise ReviewError(f"专家 {expert.name} 在评审期间已申报不可参加评审。")
    load = expert_load(round_, expert)
    if active_counts(round_).get(expert.id, 0) >= load:
        raise ReviewError(f"专家 {expert.name} 本轮已达评审上限（{load} 份）。")
    from incubator.review.draw import mark_replaced_by_manual

    a = Assignment(round=round_, application_id=application.id, expert_id=expert.id,
                   status=AssignmentStatus.MANUAL, created_by_id=getattr(by, "id", None))
    db.session.add(a)
    db.session.flush()
    mark_replaced_by_manual(round_, application, a, by=by)
    audit.record("review_assignment.manual", a, after={"application": application.number, "expert": expert.name},
                 actor=by)
    if round_.status == RoundStatus.SCORING:
        _tell_expert(a)
    return a


def _tell_expert(a: Assignment) -> None:
    from incubator.notifications.services import notify

    round_ = a.round
    notify(a.expert.user, f"新的评审任务：{round_.call.title} {round_.title}",
           f"请在{_deadline_text(round_)}前完成评分。打开任务时请先确认与申报单位无利害关系。", f"/expert/assignments/{a.id}")


def confirm_no_conflict(assignment: Assignment, *, by) -> None:
    if has_conflict(assignment.round_id, assignment.application_id, assignment.expert_id):
        raise ReviewError("系统已识别您与该申请存在回避情形，不能评审。请申报回避。")
    try:
        transition(assignment, AssignmentStatus.CONFIRMED, by=by, note="确认与申报单位无利害关系")
    except InvalidTransition as exc:
        raise ReviewError("该任务已确认或已申报回避。") from exc
    assignment.confirmed_at = utcnow()
    db.session.flush()


def declare_conflict(assignment: Assignment, *, by, reason: str, today: date | None = None):
    """The expert declares a conflict: the assignment is declined, the conflict stored, and a replacement
    drawn with the derived seed. Returns the new Assignment, or None when no eligible expert is left
    (staff are told and assign by hand)."""
    from incubator.review import draw as draw_service

    reason = _clean(reason)
    if not reason:
        raise InvalidInput("请说明回避的原因")
    if assignment.score is not None and assignment.score.status == ScoreStatus.SUBMITTED:
        raise ReviewError("评分已提交，不能再申报回避。")
    try:
        transition(assignment, AssignmentStatus.DECLINED, by=by, note=reason)
    except InvalidTransition as exc:
        raise ReviewError("该任务已确认无利害关系或已申报回避。") from exc
    assignment.declined_at = utcnow()
    assignment.decline_reason = reason
    c = db.session.scalar(db.select(Conflict).where(
        Conflict.round_id == assignment.round_id, Conflict.application_id == assignment.application_id,
        Conflict.expert_id == assignment.expert_id))
    text = f"专家申报：{reason}"
    if c is None:
        db.session.add(Conflict(round_id=assignment.round_id, application_id=assignment.application_id,
                                expert_id=assignment.expert_id, source=ConflictSource.DECLARED, reasons=[text],
                                created_by_id=getattr(by, "id", None)))
    else:
        c.source = ConflictSource.DECLARED
        c.reasons = sorted(set(c.reasons or []) | {text})
    db.session.flush()
    return draw_service.replace(assignment, by=by, today=today)


# --------------------------------------------------------------------------- scores


def score_of(assignment: Assignment) -> Score | None:
    return assignment.score


def check_points(round_: ReviewRound, points: dict[int, int | None], *, complete: bool) -> dict[int, str]:
    """Errors by criterion id (Chinese); blanks are errors only when ``complete``."""
    errors: dict[int, str] = {}
    known = {c.id: c for c in round_.criteria}
    for cid in points:
        if cid not in known:
            errors[cid] = "未知评分项"
    for c in round_.criteria:
        v = points.get(c.id)
        if v is None:
            if complete:
                errors[c.id] = f"请为“{c.name}”评分（0–{c.max_points} 的整数）"
            continue
        if isinstance(v, bool) or not isinstance(v, int):
            errors[c.id] = f"“{c.name}”须为整数"
        elif v < 0:
            errors[c.id] = f"“{c.name}”不能为负数"
        elif v > c.max_points:
            errors[c.id] = f"“{c.name}”不能超过满分 {c.max_points} 分"
    return errors


def save_score(assignment: Assignment, *, by, points: dict[int, int | None], comments: str, submit: bool) -> Score:
    """Save the expert's draft, or submit it (every criterion scored; locks the score)."""
    round_ = assignment.round
    if assignment.status != AssignmentStatus.CONFIRMED:
        raise ReviewError("请先确认与申报单位无利害关系。")
    if has_conflict(round_.id, assignment.application_id, assignment.expert_id):
        raise ReviewError("您与该申请存在回避情形，不能评分。")
    if round_.status != RoundStatus.SCORING:
        raise ReviewError("本轮评分未开放或已结束。")
    score = assignment.score
    if score is not None and score.locked:
        raise ScoreLocked()
    errors = check_points(round_, points, complete=submit)
    if errors:
        raise InvalidInput("；".join(errors.values()))
    if score is None:
        score = Score(assignment=assignment, round_id=round_.id, application_id=assignment.application_id,
                      expert_id=assignment.expert_id, status=ScoreStatus.DRAFT)
        db.session.add(score)
    score.comments = _clean(comments, MAX_COMMENTS_LENGTH)
    current = {i.criterion_id: i for i in score.items}
    for c in round_.criteria:
        v = points.get(c.id)
        item = current.get(c.id)
        if v is None:
            if item is not None:
                score.items.remove(item)
        elif item is None:
            score.items.append(ScoreItem(criterion_id=c.id, points=v))
        else:
            item.points = v
    score.updated_at = utcnow()  # bumps the version even when only items changed
    db.session.flush()
    if submit:
        score.total = scoring.weighted_total({str(k): v for k, v in points.items() if v is not None}, round_.rubric())
        score.submitted_at = utcnow()
        transition(score, ScoreStatus.SUBMITTED, by=by, note=f"提交评分，加权总分 {score.total}")
        audit.record("score.submit", score, after={"total": score.total, "items": {
            c.name: points.get(c.id) for c in round_.criteria}, "comments": score.comments}, actor=by)
    return score


def reopen_score(score: Score, *, by, reason: str) -> None:
    """Staff reopen a submitted score with a reason (audited); the expert is told."""
    from incubator.notifications.services import notify

    reason = _clean(reason)
    if not reason:
        raise InvalidInput("请填写退回修改的原因")
    if score.assignment.round.status != RoundStatus.SCORING:
        raise ReviewError("只有评分中的轮次才能退回评分，请先重新开放评分。")
    try:
        transition(score, ScoreStatus.REOPENED, by=by, note=reason)
    except InvalidTransition as exc:
        raise ReviewError("只有已提交的评分才能退回修改。") from exc
    score.reopen_reason = reason
    score.reopened_at = utcnow()
    score.reopened_by_id = getattr(by, "id", None)
    db.session.flush()
    audit.record("score.reopen", score, before={"total": score.total}, note=reason, actor=by)
    a = score.assignment
    notify(a.expert.user, "评分已退回修改", f"工作人员退回了您对 {a.application.number} 的评分，原因：{reason}",
           f"/expert/assignments/{a.id}")


# --------------------------------------------------------------------------- queries for pages


def expert_queue(expert) -> list[Assignment]:
    """The expert's assignments in rounds open to experts, most urgent first (one query)."""
    return list(db.session.scalars(
        db.select(Assignment)
        .join(ReviewRound, ReviewRound.id == Assignment.round_id)
        .options(joinedload(Assignment.round).joinedload(ReviewRound.call), joinedload(Assignment.application),
                 selectinload(Assignment.score))
        .where(Assignment.expert_id == expert.id,
               ReviewRound.status.in_((RoundStatus.SCORING, RoundStatus.CLOSED)))
        .order_by(ReviewRound.status.desc(), ReviewRound.deadline, Assignment.id)
    ))


def count_waiting_for_expert(user) -> int:
    """Nav count: the expert's open assignments without a submitted score."""
    expert = expert_of(user)
    if expert is None:
        return 0
    return int(db.session.scalar(
        db.select(func.count(Assignment.id))
        .join(ReviewRound, ReviewRound.id == Assignment.round_id)
        .outerjoin(Score, Score.assignment_id == Assignment.id)
        .where(Assignment.expert_id == expert.id, ReviewRound.status == RoundStatus.SCORING,
               Assignment.status.in_(Assignment.ACTIVE),
               (Score.id.is_(None)) | (Score.status != ScoreStatus.SUBMITTED))
    ) or 0)


def round_assignments(round_: ReviewRound) -> list[Assignment]:
    return list(db.session.scalars(
        db.select(Assignment)
        .options(joinedload(Assignment.application), joinedload(Assignment.expert), selectinload(Assignment.score))
        .where(Assignment.round_id == round_.id)
        .order_by(Assignment.application_id, Assignment.id)
    ))


def progress(round_: ReviewRound) -> dict[str, int]:
    rows = round_assignments(round_)
    active = [a for a in rows if a.is_active]
    return {
        "entries": len(round_.entries),
        "assignments": len(active),
        "confirmed": sum(a.status == AssignmentStatus.CONFIRMED for a in active),
        "submitted": sum(a.score is not None and a.score.status == ScoreStatus.SUBMITTED for a in active),
        "declined": sum(a.status in (AssignmentStatus.DECLINED, AssignmentStatus.REPLACED) for a in rows),
        "short": sum(1 for n in _short_panels(round_, active).values() if n > 0),
    }


def _short_panels(round_: ReviewRound, active: list[Assignment]) -> dict[int, int]:
    have: dict[int, int] = {}
    for a in active:
        have[a.application_id] = have.get(a.application_id, 0) + 1
    return {e.application_id: max(0, round_.reviewers_per_application - have.get(e.application_id, 0))
            for e in round_.entries}


def short_panels(round_: ReviewRound) -> dict[int, int]:
    return {k: v for k, v in _short_panels(round_, [a for a in round_assignments(round_) if a.is_active]).items() if v}


# --------------------------------------------------------------------------- what the expert reads


def _money(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except Exception:  # noqa: BLE001 - a malformed snapshot value shows as blank
        return None


def _plain_number(value) -> str:
    """'30.00' → '30', '2.50' → '2.5' (quantities)."""
    if value in (None, ""):
        return ""
    text = str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _label(enum_cls, value) -> str:
    return enum_cls(value).label if value in enum_cls._value2member_map_ else (value or "—")


@dataclass(frozen=True)
class ReviewAttachment:
    index: int
    label: str  # the call's attachment type (登记证书副本 …): not identifying
    name: str  # the original file name, or 附件N.ext when blind
    file_id: int


def attachment_list(application: Application, *, blind: bool) -> list[ReviewAttachment]:
    """The submitted version's attachments, numbered; blind: neutral names (附件1.pdf) instead of file names."""
    version = application.latest_version
    data = (version.data if version is not None else None) or {}
    call = application.call
    labels = {f"type:{t.id}": t.name for t in call.attachment_types}
    labels.update({f"field:{f.id}": f.label for f in call.fields})
    out = []
    for i, a in enumerate([a for a in data.get("attachments") or [] if isinstance(a, dict) and a.get("file_id")], 1):
        name = a.get("name") or "附件"
        if blind:
            ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            name = f"附件{i}" + (f".{ext}" if ext.isalnum() and len(ext) <= 5 else "")
        out.append(ReviewAttachment(index=i, label=labels.get(a.get("slot"), "附件"), name=name, file_id=int(a["file_id"])))
    return out


def review_intro(application: Application, *, blind: bool) -> dict[str, Any]:
    """What an expert sees before confirming no conflict: number, title, field; the organisation unless blind."""
    return {
        "number": application.number,
        "title": application.display_title,
        "field_label": application.field.label if application.field is not None else "—",
        "org_name": None if blind else application.org.name,
    }


def review_view(application: Application, *, blind: bool) -> dict[str, Any]:
    """The application as an expert reads it: the submitted version, never the bank account or contacts.

    Blind: no organisation name, no people's names, no attachment file names — the values are left out of
    this view model, not merely hidden in HTML.
    """
    version = application.latest_version
    data = (version.data if version is not None else None) or {}
    basic = dict(data.get("basic") or {})
    basic["field_label"] = _label(ServiceField, basic.get("field")) if basic.get("field") else "—"
    basic["period_start"] = _day(basic.get("period_start"))
    basic["period_end"] = _day(basic.get("period_end"))
    budget, by_category = [], {}
    for b in data.get("budget") or []:
        amount = _money(b.get("amount"))
        category = _label(BudgetCategory, b.get("category")) if b.get("category") else "—"
        if amount is not None:
            by_category[category] = by_category.get(category, Decimal("0")) + amount
        budget.append({
            "category_label": category, "item": b.get("item") or "", "unit": b.get("unit") or "",
            "unit_price": _money(b.get("unit_price")), "quantity": _plain_number(b.get("quantity")), "amount": amount,
            "source_label": {"grant": "申请资助", "matching": "配套资金"}.get(b.get("source") or "", "—"),
            "note": b.get("note") or "",
        })
    totals = {k: _money(v) for k, v in (data.get("totals") or {}).items()}
    team = []
    for i, m in enumerate(data.get("team") or [], 1):
        team.append({
            "name": f"成员{i}" if blind else (m.get("name") or ""),
            "education": m.get("education") or "", "major": m.get("major") or "", "role": m.get("role") or "",
            "qualification": m.get("qualification") or "", "insured": m.get("insured"),
            "time_on_project": m.get("time_on_project") or "",
        })
    call = application.call
    extra = [(f.label, (data.get("extra") or {}).get(str(f.id)) or "") for f in call.fields if f.kind != FieldKind.FILE]
    return {
        "number": application.number,
        "blind": blind,
        "org_name": None if blind else (data.get("org_name") or application.org.name),
        "basic": basic,
        "need": data.get("need") or {},
        "goals": data.get("goals") or {},
        "plan": [{"start": _day(r.get("start")), "end": _day(r.get("end")), "content": r.get("content") or "",
                  "output": r.get("output") or ""} for r in data.get("plan") or []],
        "team": team,
        "budget": budget,
        "categories": list(by_category.items()),
        "totals": totals,
        "extra": extra,
        "attachments": attachment_list(application, blind=blind),
    }


# --------------------------------------------------------------------------- demo helpers


def countdown(deadline: datetime, now: datetime | None = None) -> str:
    """'还剩 3 天 4 小时' / '已截止'."""
    left = deadline - (now or utcnow())
    if left <= timedelta(0):
        return "已截止"
    days, rest = divmod(int(left.total_seconds()), 86400)
    hours = rest // 3600
    if days:
        return f"还剩 {days} 天 {hours} 小时"
    return f"还剩 {hours} 小时 {rest % 3600 // 60} 分"


# --------------------------------------------------------------------------- the expert's record (pool page)


def expert_history(expert) -> dict[str, Any] | None:
    """Rounds, reviews, on-time rate and average deviation from the panel (for the expert pool's page).

    on-time: submitted no later than the round's deadline, among assignments whose deadline has passed or
    whose score is in; deviation: the expert's weighted total minus the panel's mean of submitted totals for
    the same application, averaged (positive = more lenient than the panel). None without any assignment.
    """
    rows = list(db.session.scalars(
        db.select(Assignment)
        .options(joinedload(Assignment.round).joinedload(ReviewRound.call), selectinload(Assignment.score))
        .where(Assignment.expert_id == expert.id)
        .order_by(Assignment.round_id, Assignment.id)
    ))
    if not rows:
        return None
    now = utcnow()
    pairs = {(a.round_id, a.application_id) for a in rows}
    panel: dict[tuple[int, int], list[Decimal]] = {}
    if pairs:
        for round_id, app_id, total in db.session.execute(
                db.select(Score.round_id, Score.application_id, Score.total)
                .where(Score.status == ScoreStatus.SUBMITTED, Score.round_id.in_({p[0] for p in pairs}),
                       Score.application_id.in_({p[1] for p in pairs}))):
            if total is not None:
                panel.setdefault((round_id, app_id), []).append(Decimal(total))
    per_round: dict[int, dict[str, Any]] = {}
    due = on_time = 0
    deviations: list[Decimal] = []
    for a in rows:
        r = per_round.setdefault(a.round_id, {"round": a.round, "assigned": 0, "declined": 0, "submitted": 0,
                                              "on_time": 0})
        if a.status in (AssignmentStatus.DECLINED, AssignmentStatus.REPLACED):
            r["declined"] += 1
            continue
        r["assigned"] += 1
        s = a.score
        submitted = s is not None and s.status == ScoreStatus.SUBMITTED
        if submitted:
            r["submitted"] += 1
        if submitted or a.round.deadline <= now:
            due += 1
            if submitted and s.submitted_at is not None and s.submitted_at <= a.round.deadline:
                on_time += 1
                r["on_time"] += 1
        if submitted and s.total is not None:
            totals = panel.get((a.round_id, a.application_id), [])
            if len(totals) > 1:
                deviations.append(Decimal(s.total) - sum(totals) / len(totals))
    return {
        "rounds": list(per_round.values()),
        "round_count": len(per_round),
        "reviews": sum(r["submitted"] for r in per_round.values()),
        "on_time_rate": (Decimal(on_time * 100) / due).quantize(Decimal("0.1")) if due else None,
        "deviation": scoring.round_half_up(sum(deviations) / len(deviations)) if deviations else None,
    }
