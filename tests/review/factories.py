"""Factories of the review tests: experts (pool rows built directly), rounds with a rubric, entries."""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from incubator.accounts.models import Role
from incubator.applications.models import ApplicationStatus
from incubator.db import utcnow
from incubator.extensions import db
from incubator.orgs.models import ServiceField
from incubator.pools.models import Expert, ExpertField, ExpertRelation, ExpertStatus, RelationKind
from incubator.review import services
from incubator.review.models import RoundStatus
from tests.factories import make_user

_seq = itertools.count(1)


def make_expert(user=None, *, fields=(ServiceField.ELDERLY,), max_reviews: int = 10, email: str | None = None,
                employer_uscc: str | None = None, employer_org=None, status=ExpertStatus.ACTIVE, name=None) -> Expert:
    n = next(_seq)
    user = user or make_user(Role.EXPERT, email=email or f"expert{n}@univ{n}.edu.cn")
    e = Expert(user_id=user.id, name=name or f"专家{n}", mobile=f"139{n:08d}", email=email or user.email,
               title="教授", employer=f"洛阳测试大学{n}", employer_uscc=employer_uscc,
               employer_org_id=getattr(employer_org, "id", None), max_reviews_per_round=max_reviews, status=status)
    e.fields = [ExpertField(field=f) for f in fields]
    db.session.add(e)
    db.session.flush()
    return e


def relate(expert: Expert, org, kind=RelationKind.ADVISOR) -> ExpertRelation:
    r = ExpertRelation(expert_id=expert.id, org_id=org.id, org_name=org.name, kind=kind)
    db.session.add(r)
    db.session.flush()
    db.session.refresh(expert)
    return r


def make_passed(org, call, **kw):
    from tests.screening.helpers import make_submitted

    return make_submitted(org, call, status=ApplicationStatus.PASSED, **kw)


def make_round(call, *, by=None, k: int = 3, max_load: int = 10, blind: bool = True, days: int = 1,
               criteria: bool = True, **kw):
    by = by or make_user(Role.STAFF)
    settings = services.RoundSettings(
        name=kw.pop("name", "书面评审"), reviewers_per_application=k, max_load=max_load, blind=blind,
        deadline=kw.pop("deadline", utcnow() + timedelta(days=days)), **kw)
    r = services.create_round(call, by=by, settings=settings)
    if criteria:
        services.set_criteria(r, [
            services.CriterionInput("需求分析", "需求是否真实迫切", 30, Decimal(30)),
            services.CriterionInput("方案可行性", "计划是否可行", 40, Decimal(40)),
            services.CriterionInput("团队能力", "团队是否胜任", 30, Decimal(30)),
        ], by=by)
    return r


def drawn_round(call, apps, experts_or_count=5, *, by=None, k=3, open_scoring=True, **kw):
    """A round with ``apps`` entered, the draw run (timing not checked) and scoring opened."""
    from incubator.review import draw

    by = by or make_user(Role.STAFF)
    experts = experts_or_count if isinstance(experts_or_count, list) else [make_expert() for _ in range(experts_or_count)]
    r = make_round(call, by=by, k=k, **kw)
    services.add_entries(r, apps, by=by)
    draw.commit_seed(r, by=by)
    draw.run_draw(r, by=by, check_timing=False)
    if open_scoring:
        services.open_scoring(r, by=by)
    assert r.status in (RoundStatus.DRAWN, RoundStatus.SCORING)
    return r, experts
