"""Demo review: a written-review round on this year's (or last year's) micro-venture call with passed
applications, drawn from the demo expert pool, scoring open, some scores submitted, one expert who
declared a conflict and was replaced, and the demo expert (李教授) with a task to confirm and one in draft.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from incubator.accounts.models import Role, User
from incubator.applications.models import Application, ApplicationStatus
from incubator.calls.models import Call, CallKind
from incubator.db import from_local
from incubator.extensions import db
from incubator.review import draw, services
from incubator.review.models import AssignmentStatus, ReviewRound, RoundKind

DEMO_EXPERT_LOGIN = "zhuanjia@demo.ly.gov.cn"


def _pick_call(today: date) -> Call | None:
    rows = db.session.execute(
        db.select(Call, db.func.count(Application.id))
        .join(Application, Application.call_id == Call.id)
        .where(Call.kind == CallKind.MICRO_VENTURE, Call.year.in_((today.year, today.year - 1)),
               Application.status == ApplicationStatus.PASSED)
        .group_by(Call.id)
        .order_by(db.func.count(Application.id).desc(), Call.year.desc(), Call.id)
    ).all()
    return rows[0][0] if rows else None


def seed_review(today: date) -> ReviewRound | None:
    """Build the demo round (the caller commits). None when there is no pool or no passed application."""
    from incubator.pools.services import active_experts, expert_for_user

    experts = active_experts()
    call = _pick_call(today)
    staff = db.session.scalar(db.select(User).where(User.role == Role.STAFF, User.district_id.is_(None)).order_by(User.id))
    if not experts or call is None or staff is None:
        return None
    rnd = random.Random(20261202)
    deadline = from_local(datetime.combine(today + timedelta(days=5), time(17, 0)))
    round_ = services.create_round(call, by=staff, settings=services.RoundSettings(
        name="书面评审", kind=RoundKind.WRITTEN, reviewers_per_application=3, max_load=5, blind=True,
        deadline=deadline, promotion_top_n=2))
    services.set_default_criteria(round_, by=staff)
    services.add_entries(round_, services.candidate_applications(round_), by=staff)
    draw.commit_seed(round_, by=staff)
    draw.run_draw(round_, by=staff, today=today, check_timing=False)
    services.open_scoring(round_, by=staff)

    demo_user = db.session.scalar(db.select(User).where(User.email == DEMO_EXPERT_LOGIN))
    demo_expert = expert_for_user(demo_user) if demo_user is not None else None
    if demo_expert is not None:
        for app in services.entry_applications(round_):
            mine = [a for a in round_.assignments if a.expert_id == demo_expert.id and a.application_id == app.id]
            if not mine:
                try:
                    services.manual_assign(round_, app, demo_expert, by=staff, today=today)
                except services.ReviewError:
                    continue
    assignments = [a for a in round_.assignments if a.status in (AssignmentStatus.ASSIGNED, AssignmentStatus.MANUAL)]
    others = [a for a in assignments if demo_expert is None or a.expert_id != demo_expert.id]
    declined = False
    for i, a in enumerate(others):
        user = a.expert.user
        if not declined and i == 1:
            services.declare_conflict(a, by=user, reason="近三年曾为该机构提供项目督导服务", today=today)
            declined = True
            continue
        services.confirm_no_conflict(a, by=user)
        if i % 3 == 2:
            continue  # confirmed, not scored yet
        points = {c.id: rnd.randint(c.max_points * 6 // 10, c.max_points) for c in round_.criteria}
        services.save_score(a, by=user, points=points, comments=rnd.choice([
            "需求调研扎实，服务对象明确；预算测算依据可再细化。",
            "项目设计合理，团队有相关服务经验，建议加强成效评估指标。",
            "创新性一般，但可操作性强，社区基础较好。",
        ]), submit=True)
    if demo_expert is not None:
        mine = [a for a in round_.assignments if a.expert_id == demo_expert.id and a.needs_declaration]
        if len(mine) > 1:
            first = mine[0]
            services.confirm_no_conflict(first, by=demo_user)
            points = {c.id: c.max_points * 8 // 10 for c in round_.criteria[:3]}
            services.save_score(first, by=demo_user, points=points, comments="（草稿）", submit=False)
    db.session.flush()
    return round_
