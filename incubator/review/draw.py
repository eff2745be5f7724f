"""The auditable panel draw on the database (抽取): commit, draw, reveal, replace, replay.

Step 1 ``commit_seed(round_, by=…)``: a fresh random seed is made and its SHA-256 (the commitment)
        is published with the time, BEFORE anything is drawn. The seed itself is kept in the row but
        never shown until step 2 reveals it.
Step 2 ``run_draw(round_, by=…)``: conflicts are recomputed for every (entry, active expert) pair,
        the inputs are gathered as plain data — each entry's service field, each available expert's
        fields and load min(L, the expert's own maximum), the conflicts — and
        ``assignment.solve(…, seed)`` runs. The canonical inputs, their digest, the result and its
        digest and the solver's signature are stored, the assignments created, and the seed revealed:
        anyone can check sha256(seed) == commitment and replay the draw. When some application cannot
        get k experts, nothing is drawn and ``DrawRefused`` lists those applications (never relaxed);
        the commitment stays, so the same seed is used once the pool is fixed.
Replacement ``replace(assignment, by=…)``: an expert declared a conflict; one expert is drawn for that
        application with ``derive_seed(round seed, "replace-<assignment id>")`` among the remaining
        eligible experts (no conflict, not already on that application, load left), stored as a Draw
        linked to the round's initial draw.
Replay ``verify_round(round_)``: every revealed draw is recomputed from its stored inputs and seed
        (``draw_audit.replay``), replacement seeds re-derived, and the assignments in the database
        compared with the stored result. ``flask --app incubator review replay ROUND_ID`` prints it.

Timing (DOMAIN.md "Experts", national procurement practice): experts are drawn no earlier than
``REVIEW_DRAW_WORKDAYS_BEFORE`` (2) working days before the review — the round's review date, or the
day of its deadline when none is set. ``REVIEW_DRAW_TOO_EARLY`` = "refuse" (default) or "warn".
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from incubator.applications.models import Application
from incubator.core import audit
from incubator.core.states import transition
from incubator.core.workdays import UnknownCalendarYear, add_workdays
from incubator.db import to_local, today_local, utcnow
from incubator.extensions import db
from incubator.review import draw_audit
from incubator.review.assignment import InfeasibleDraw, solve
from incubator.review.models import (
    Assignment,
    AssignmentStatus,
    Conflict,
    ConflictSource,
    Draw,
    DrawPurpose,
    DrawStatus,
    ReviewRound,
    RoundStatus,
)
from incubator.review.services import (
    ReviewError,
    active_counts,
    compute_conflicts,
    conflict_pairs,
    detect_conflicts,
    entry_applications,
    expert_load,
    rubric_problem,
    setting,
    unavailable_in_review,
)

# DOMAIN.md "Experts": drawn no earlier than 2 working days before the review (government procurement).
DEFAULT_WORKDAYS_BEFORE = 2


class DrawRefused(ReviewError):
    """The draw did not run. ``applications``: the applications that cannot get k experts (if that is why)."""

    status_code = 409

    def __init__(self, message: str, applications: list[Application] | None = None, missing: dict | None = None):
        super().__init__(message)
        self.applications = applications or []
        self.missing = missing or {}


@dataclass
class TimingCheck:
    review_day: date | None
    earliest: date | None
    message: str | None
    refuse: bool


def draw_timing(round_: ReviewRound, today: date | None = None) -> TimingCheck:
    """Whether today is too early to draw for this round (see module docstring)."""
    today = today or today_local()
    n = int(setting("REVIEW_DRAW_WORKDAYS_BEFORE", DEFAULT_WORKDAYS_BEFORE))
    refuse_mode = str(setting("REVIEW_DRAW_TOO_EARLY", "refuse")) != "warn"
    review_day = round_.review_date or (to_local(round_.deadline).date() if round_.deadline else None)
    if review_day is None:
        return TimingCheck(None, None, None, False)
    if round_.deadline is not None and round_.deadline <= utcnow():
        return TimingCheck(review_day, None, "评分截止时间已过，请先修改截止时间再抽取。", True)
    if n <= 0:
        return TimingCheck(review_day, None, None, False)
    try:
        earliest = add_workdays(review_day, -n)
    except UnknownCalendarYear as exc:
        return TimingCheck(review_day, None, f"无法判断抽取时间是否符合规定：{exc}", refuse_mode)
    if today < earliest:
        msg = (f"评审日期为{_cn(review_day)}，按规定专家应在评审前 {n} 个工作日内抽取，"
               f"最早可于{_cn(earliest)}抽取。")
        return TimingCheck(review_day, earliest, msg, refuse_mode)
    return TimingCheck(review_day, earliest, None, False)


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def pending_draw(round_: ReviewRound) -> Draw | None:
    """The round's initial draw whose seed is committed but not yet used."""
    d = round_.initial_draw
    return d if d is not None and d.status == DrawStatus.COMMITTED else None


def commit_seed(round_: ReviewRound, *, by) -> Draw:
    """Step 1: publish the SHA-256 of a fresh seed (before the draw)."""
    if round_.status != RoundStatus.SETUP:
        raise ReviewError("本轮专家已抽取。")
    if round_.initial_draw is not None:
        raise ReviewError("本轮已生成随机种子，请直接执行抽取。")
    seed = draw_audit.new_seed()
    d = Draw(round=round_, purpose=DrawPurpose.INITIAL, status=DrawStatus.COMMITTED, seed=seed,
             commitment=draw_audit.commitment(seed), committed_at=utcnow(), committed_by_id=getattr(by, "id", None))
    db.session.add(d)
    db.session.flush()
    audit.record("review_draw.commit", d, after={"commitment": d.commitment}, actor=by)
    return d


def _plain_inputs(round_: ReviewRound, apps: list[Application], experts: list, *, today: date,
                  loads: dict[int, int] | None = None):
    applications = {a.id: ({a.field.value} if a.field is not None else set()) for a in apps}
    pool = {}
    for e in experts:
        if unavailable_in_review(e, round_, today):
            continue
        load = loads[e.id] if loads is not None else expert_load(round_, e)
        if load > 0:
            pool[e.id] = ({f.value for f in e.field_values}, load)
    return applications, pool


def run_draw(round_: ReviewRound, *, by, today: date | None = None, check_timing: bool = True) -> Draw:
    """Step 2: draw the panels with the committed seed, store everything, create assignments, reveal."""
    from incubator.pools.services import active_experts

    today = today or today_local()
    if round_.status != RoundStatus.SETUP:
        raise DrawRefused("本轮专家已抽取。")
    d = pending_draw(round_)
    if d is None:
        raise DrawRefused("请先生成随机种子（第一步），公布其哈希值后再执行抽取。")
    problem = rubric_problem(round_)
    if problem:
        raise DrawRefused(f"评分细则不完整：{problem}。")
    apps = entry_applications(round_)
    if not apps:
        raise DrawRefused("本轮还没有参评申请。")
    if check_timing:
        timing = draw_timing(round_, today)
        if timing.refuse:
            raise DrawRefused(timing.message or "当前不能抽取。")
    compute_conflicts(round_, by=by, on=today)
    experts = active_experts()
    applications, pool = _plain_inputs(round_, apps, experts, today=today)
    conflicts = conflict_pairs(round_)
    k = round_.reviewers_per_application
    try:
        result = solve(applications, pool, k, conflicts, d.seed)
    except InfeasibleDraw as exc:
        by_id = {a.id: a for a in apps}
        short = [by_id[i] for i in exc.applications if i in by_id]
        numbers = "、".join(f"{a.number}（缺 {exc.missing.get(a.id, 0)} 名）" for a in short[:30])
        more = f"等 {len(short)} 份" if len(short) > 30 else ""
        audit.record("review_draw.refused", d, after={"applications": exc.applications, "missing": exc.missing},
                     actor=by)
        raise DrawRefused(
            f"以下申请无法分配到 {k} 名无回避、可参加的评审专家，抽取未执行（规则不会被放宽）：{numbers}{more}。"
            "请补充专家库中该领域的专家、调整专家评审上限或每份申请的专家人数后重试。",
            applications=short, missing=exc.missing,
        ) from exc
    now = utcnow()
    d.inputs = draw_audit.inputs_json(applications, pool, k, conflicts)
    d.inputs_digest = draw_audit.inputs_digest(applications, pool, k, conflicts)
    d.result = json.dumps(draw_audit.canonical_result(result), separators=(",", ":"))
    d.result_digest = draw_audit.result_digest(result)
    d.solver_signature = draw_audit.solver_signature()
    d.drawn_at = now
    for app_id, chosen in sorted(result.items()):
        for expert_id in chosen:
            db.session.add(Assignment(round=round_, application_id=app_id, expert_id=expert_id, draw_id=d.id,
                                      status=AssignmentStatus.ASSIGNED, created_by_id=getattr(by, "id", None)))
    d.status = DrawStatus.REVEALED
    d.revealed_at = now
    d.revealed_by_id = getattr(by, "id", None)
    db.session.flush()
    audit.record("review_draw.reveal", d, after={
        "commitment": d.commitment, "seed": d.seed, "inputs_digest": d.inputs_digest,
        "result_digest": d.result_digest, "solver": d.solver_signature,
        "applications": len(applications), "experts": len(pool), "conflicts": len(conflicts),
    }, actor=by)
    transition(round_, RoundStatus.DRAWN, by=by, note=f"随机抽取专家，种子哈希 {d.commitment}")
    return d


def replace(assignment: Assignment, *, by, today: date | None = None) -> Assignment | None:
    """Draw one replacement for a declined assignment; None (staff told) when nobody eligible is left."""
    from incubator.notifications.services import notify_many
    from incubator.pools.services import active_experts
    from incubator.review.services import _tell_expert

    round_ = assignment.round
    parent = round_.initial_draw
    if parent is None or not parent.is_revealed:
        raise ReviewError("本轮尚未完成首次抽取。")
    today = today or today_local()
    application = assignment.application
    experts = active_experts()
    # conflicts of this application found now (the pool may have changed since the draw) are stored too
    found = detect_conflicts(round_, [application], experts, on=today)
    stored = conflict_pairs(round_)
    for (app_id, expert_id), reasons in found.items():
        if (app_id, expert_id) not in stored:
            db.session.add(Conflict(round_id=round_.id, application_id=app_id, expert_id=expert_id,
                                    source=ConflictSource.AUTO, reasons=list(reasons),
                                    created_by_id=getattr(by, "id", None)))
    db.session.flush()
    used = active_counts(round_)
    loads = {e.id: expert_load(round_, e) - used.get(e.id, 0) for e in experts}
    applications, pool = _plain_inputs(round_, [application], experts, today=today, loads=loads)
    already = set(db.session.scalars(db.select(Assignment.expert_id).where(
        Assignment.round_id == round_.id, Assignment.application_id == application.id)))
    conflicts = {(a, e) for a, e in conflict_pairs(round_) if a == application.id}
    conflicts |= {(application.id, e) for e in already}
    label = f"replace-{assignment.id}"
    seed = draw_audit.derive_seed(parent.seed, label)
    try:
        result = solve(applications, pool, 1, conflicts, seed)
    except InfeasibleDraw:
        audit.record("review_draw.replacement_refused", assignment, after={"label": label}, actor=by)
        from incubator.accounts.models import Role, User

        staff = db.session.scalars(db.select(User).where(User.role.in_((Role.STAFF, Role.ADMIN)), User.active.is_(True)))
        notify_many([u for u in staff if u.sees_district(round_.call.district_id)],
                    f"需手工补充评审专家：{application.number}",
                    f"{round_.call.title} {round_.title}：一名专家申报回避，专家库中已没有可替换的专家，请手工分配。",
                    f"/staff/review/rounds/{round_.id}/assignments")
        return None
    now = utcnow()
    d = Draw(round=round_, purpose=DrawPurpose.REPLACEMENT, parent_id=parent.id,
             replaces_assignment_id=assignment.id, label=label, status=DrawStatus.REVEALED, seed=seed,
             commitment=draw_audit.commitment(seed), committed_at=now, committed_by_id=getattr(by, "id", None),
             inputs=draw_audit.inputs_json(applications, pool, 1, conflicts),
             inputs_digest=draw_audit.inputs_digest(applications, pool, 1, conflicts),
             result=json.dumps(draw_audit.canonical_result(result), separators=(",", ":")),
             result_digest=draw_audit.result_digest(result), solver_signature=draw_audit.solver_signature(),
             drawn_at=now, revealed_at=now, revealed_by_id=getattr(by, "id", None))
    db.session.add(d)
    db.session.flush()
    new = Assignment(round=round_, application_id=application.id, expert_id=result[application.id][0],
                     draw_id=d.id, replaces_id=assignment.id, status=AssignmentStatus.ASSIGNED,
                     created_by_id=getattr(by, "id", None))
    db.session.add(new)
    db.session.flush()
    transition(assignment, AssignmentStatus.REPLACED, by=by, note=f"替换抽取（派生种子 {label}）")
    audit.record("review_draw.replacement", d, after={"label": label, "seed": seed, "expert_id": new.expert_id,
                                                      "result_digest": d.result_digest}, actor=by)
    if round_.status == RoundStatus.SCORING:
        _tell_expert(new)
    return new


def mark_replaced_by_manual(round_: ReviewRound, application: Application, new: Assignment, *, by) -> None:
    """A manual assignment fills the place of a declined one that no draw could replace."""
    old = db.session.scalar(db.select(Assignment).where(
        Assignment.round_id == round_.id, Assignment.application_id == application.id,
        Assignment.status == AssignmentStatus.DECLINED).order_by(Assignment.id))
    if old is not None:
        new.replaces_id = old.id
        transition(old, AssignmentStatus.REPLACED, by=by, note="工作人员手工补充专家")


# --------------------------------------------------------------------------- replay


@dataclass
class DrawCheck:
    draw: Draw
    ok: bool
    problems: list[str] = field(default_factory=list)


def verify_draw(d: Draw) -> DrawCheck:
    problems: list[str] = []
    if not d.is_revealed or not d.seed or not d.inputs or not d.result_digest:
        return DrawCheck(d, False, ["未完成抽取（种子未揭示） / not revealed"])
    if d.purpose == DrawPurpose.REPLACEMENT:
        parent = d.parent
        if parent is None or not parent.seed or draw_audit.derive_seed(parent.seed, d.label or "-") != d.seed:
            problems.append("替换种子不是由本轮种子派生 / replacement seed is not derived from the round seed")
    if draw_audit.commitment(d.seed) != d.commitment:
        problems.append("种子与事先公布的哈希不符 / seed does not match the commitment")
    try:
        stored = draw_audit.load_inputs(d.inputs)
    except (ValueError, KeyError, TypeError) as exc:
        return DrawCheck(d, False, problems + [f"输入数据无法读取 / inputs unreadable: {exc}"])
    if draw_audit.inputs_digest(*stored) != d.inputs_digest:
        problems.append("输入数据与其摘要不符 / inputs do not match their digest")
    if not draw_audit.replay(d.inputs, d.seed, d.result_digest):
        problems.append("重新计算的结果与存储的结果摘要不符 / recomputed result does not match the stored digest")
    try:
        stored_result = json.loads(d.result or "[]")
        if draw_audit.result_digest({int(a): e for a, e in stored_result}) != d.result_digest:
            problems.append("存储的结果与其摘要不符 / stored result does not match its digest")
    except (ValueError, TypeError) as exc:
        return DrawCheck(d, False, problems + [f"存储的结果无法读取 / stored result unreadable: {exc}"])
    if d.solver_signature and d.solver_signature != draw_audit.solver_signature():
        problems.append(f"求解器版本不同 / solver differs: {d.solver_signature} ≠ {draw_audit.solver_signature()}")
    made = {}
    for app_id, expert_id in db.session.execute(
            db.select(Assignment.application_id, Assignment.expert_id).where(Assignment.draw_id == d.id)):
        made.setdefault(app_id, []).append(expert_id)
    if draw_audit.canonical_result(made) != stored_result:
        problems.append("数据库中的分配与抽取结果不符 / assignments in the database differ from the draw")
    return DrawCheck(d, not problems, problems)


def verify_round(round_: ReviewRound) -> list[DrawCheck]:
    return [verify_draw(d) for d in round_.draws if d.status == DrawStatus.REVEALED]
