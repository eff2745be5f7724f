"""Factories of the roadshow tests: a roadshow round with a panel that is assigned every contestant."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from incubator.accounts.models import Role
from incubator.db import utcnow
from incubator.extensions import db
from incubator.review import services as review_services
from incubator.review.models import Assignment, AssignmentStatus, RoundKind, RoundStatus
from incubator.roadshow import services
from tests.applications.helpers import make_call, make_org
from tests.factories import make_user
from tests.ranking.helpers import experts, passed_app
from tests.review.factories import make_round


def roadshow_world(*, n_apps: int = 3, n_judges: int = 5, district=None, confirmed: bool = True, staff=None,
                   judge_users=None, first_number: int = 1, open_: bool = True) -> SimpleNamespace:
    w = SimpleNamespace()
    w.staff = staff or make_user(Role.STAFF, district=district)
    w.call = make_call(district=district)
    org = make_org(district=district)
    w.apps = [passed_app(org, w.call, number=f"WCT-2026-{first_number + i:04d}") for i in range(n_apps)]
    judge_users = list(judge_users or [])
    from tests.review.factories import make_expert

    w.judges = [make_expert(u) for u in judge_users] + experts(n_judges - len(judge_users))
    w.round = make_round(w.call, by=w.staff, kind=RoundKind.ROADSHOW, name="复审路演", k=n_judges)
    review_services.add_entries(w.round, w.apps, by=w.staff)
    w.round.status = RoundStatus.SCORING
    for app in w.apps:
        for e in w.judges:
            db.session.add(Assignment(round=w.round, application_id=app.id, expert_id=e.id,
                                      status=AssignmentStatus.CONFIRMED if confirmed else AssignmentStatus.MANUAL,
                                      confirmed_at=utcnow() if confirmed else None))
    db.session.flush()
    w.session = services.create_session(w.round, by=w.staff, title="2026年公益创投复审路演", held_on=date(2026, 12, 5),
                                        venue="洛阳市社会组织孵化基地路演厅")
    if open_:
        services.open_session(w.session, by=w.staff)
    w.contestants = list(w.session.contestants)
    db.session.flush()
    return w


def judge_scores(w, contestant, totals, *, by_judges=None):
    """The judges (first len(totals)) score ``contestant`` with these totals (split 30/40/30)."""
    from tests.ranking.helpers import split_points

    criteria = list(w.round.criteria)
    judges = by_judges or w.judges
    for e, total in zip(judges, totals):
        item = services.judge_item(w.session, e, contestant.id)
        points = {c.id: p for c, p in zip(criteria, split_points(total))}
        services.score_contestant(item, by=e.user, points=points, confirm_no_conflict=True)
    db.session.flush()
