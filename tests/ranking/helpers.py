"""Factories for ranking, roadshow and 公示 tests: rounds with submitted scores built directly.

``scored_round(call, plan, ...)`` — plan: [(application, [(expert, total | None | "draft"), …]), …].
Each pair gets a CONFIRMED assignment; a number becomes a SUBMITTED score whose three criterion points
(maxima 30/40/30, weights equal to maxima) add up to that total; "draft" a draft score; None no score.
"""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from incubator.accounts.models import Role
from incubator.db import utcnow
from incubator.extensions import db
from incubator.review import services
from incubator.review.models import (
    Aggregation,
    Assignment,
    AssignmentStatus,
    RoundKind,
    RoundStatus,
    Score,
    ScoreItem,
    ScoreStatus,
)
from tests.factories import make_user
from tests.review.factories import make_expert, make_passed, make_round

_seq = itertools.count(1)


def split_points(total: int) -> list[int]:
    """Points for the criteria 30/40/30 that add up to ``total`` (0–100)."""
    a = min(30, total)
    b = min(40, total - a)
    c = total - a - b
    assert 0 <= c <= 30, total
    return [a, b, c]


def passed_app(org, call, *, field: str = "elderly", number: str | None = None, grant: str | None = None):
    overrides = {"field": field}
    if grant is not None:  # the grant requested is the sum of the budget lines funded by the grant
        overrides.update({"budget-0-unit_price": grant, "budget-0-quantity": "1"})
    app = make_passed(org, call, number=number, **overrides)
    return app


def add_score(round_, app, expert, total, *, submitted_at=None, status=AssignmentStatus.CONFIRMED):
    a = Assignment(round=round_, application_id=app.id, expert_id=expert.id, status=status,
                   confirmed_at=utcnow() if status == AssignmentStatus.CONFIRMED else None)
    db.session.add(a)
    db.session.flush()
    if total is None:
        return a
    criteria = list(round_.criteria)
    if total == "draft":
        s = Score(assignment=a, round_id=round_.id, application_id=app.id, expert_id=expert.id,
                  status=ScoreStatus.DRAFT)
        s.items = [ScoreItem(criterion_id=criteria[0].id, points=10)]
    else:
        points = split_points(int(total))
        s = Score(assignment=a, round_id=round_.id, application_id=app.id, expert_id=expert.id,
                  status=ScoreStatus.SUBMITTED, total=Decimal(total),
                  submitted_at=submitted_at or (round_.deadline - timedelta(hours=1)))
        s.items = [ScoreItem(criterion_id=c.id, points=p) for c, p in zip(criteria, points)]
    db.session.add(s)
    db.session.flush()
    return a


def scored_round(call, plan, *, by=None, status=RoundStatus.CLOSED, kind=RoundKind.WRITTEN,
                 aggregation=Aggregation.TRIMMED, **kw):
    """A round of ``call`` with the plan's applications entered and scored (no draw: rows made directly)."""
    by = by or make_user(Role.STAFF)
    r = make_round(call, by=by, kind=kind, aggregation=aggregation, **kw)
    services.add_entries(r, [app for app, _ in plan], by=by)
    r.status = status
    db.session.flush()
    for app, marks in plan:
        for expert, total in marks:
            add_score(r, app, expert, total)
    db.session.refresh(r)
    return r


def experts(n: int, **kw) -> list:
    return [make_expert(**kw) for _ in range(n)]


def world_round(w, *, status=RoundStatus.CLOSED, kind=RoundKind.WRITTEN, scored: bool = True):
    """For the access policies: org A's passed application in a district-A round, the three expert users in
    the pool; expert_assigned scored it (85), expert_conflict has a recorded conflict, expert_unassigned
    nothing. Sets w.call, w.app_a, w.round, w.exp_assigned, w.exp_unassigned, w.exp_conflict."""
    from incubator.review.models import Conflict, ConflictSource
    from tests.applications.helpers import make_call

    w.call = make_call(district=w.district_a)
    w.app_a = make_passed(w.org_a, w.call, by=w.applicant_a)
    w.exp_assigned = make_expert(w.expert_assigned, name="评审专家甲")
    w.exp_unassigned = make_expert(w.expert_unassigned, name="评审专家乙")
    w.exp_conflict = make_expert(w.expert_conflict, name="评审专家丙")
    w.round = scored_round(w.call, [(w.app_a, [(w.exp_assigned, 85 if scored else None)])], by=w.staff_a,
                           status=status, kind=kind)
    db.session.add(Conflict(round_id=w.round.id, application_id=w.app_a.id, expert_id=w.exp_conflict.id,
                            source=ConflictSource.AUTO, reasons=["现任职于申报单位"]))
    db.session.flush()
    return w
