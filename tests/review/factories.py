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
    # the pool e-mail is the expert's work address (its own domain: no accidental same-domain conflicts)
    e = Expert(user_id=user.id, name=name or f"专家{n}", mobile=f"139{n:08d}", email=email or f"expert{n}@univ{n}.edu.cn",
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


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def add_attachment(app, name="阳光社工中心-登记证书.pdf"):
    """An uploaded PDF on the application, in its submitted version's snapshot too."""
    from incubator.applications.models import ApplicationAttachment
    from incubator.core.files import save_generated
    from tests.applications.helpers import add_attachment_type

    t = add_attachment_type(app.call, name="登记证书副本", required=False)
    sf = save_generated(PDF_BYTES, filename=name, content_type="application/pdf")
    att = ApplicationAttachment(slot=f"type:{t.id}", file_id=sf.id)
    att.file = sf
    app.attachments.append(att)
    db.session.flush()
    app.versions[-1].data = app.snapshot()
    db.session.flush()
    return sf


def review_world(w, *, status=RoundStatus.SCORING, score: bool = False, blind: bool = True):
    """For the access policy: org A's passed application (with an attachment) in a district-A round;
    pool experts for the three expert users; a confirmed assignment for expert_assigned, a conflict for
    expert_conflict (and a sneaked-in assignment the conflict must still block)."""
    from incubator.review.models import (
        Assignment,
        AssignmentStatus,
        Conflict,
        ConflictSource,
        Draw,
        DrawPurpose,
        DrawStatus,
        Score,
        ScoreItem,
    )
    from tests.applications.helpers import make_call

    w.call = make_call(district=w.district_a)
    w.app_a = make_passed(w.org_a, w.call, by=w.applicant_a)
    w.file_a = add_attachment(w.app_a)
    w.exp_assigned = make_expert(w.expert_assigned, name="评审专家甲")
    w.exp_unassigned = make_expert(w.expert_unassigned, name="评审专家乙")
    w.exp_conflict = make_expert(w.expert_conflict, name="评审专家丙")
    w.round = make_round(w.call, by=w.staff_a, blind=blind)
    services.add_entries(w.round, [w.app_a], by=w.staff_a)
    w.entry = w.round.entries[0]
    w.round.status = status
    if status != RoundStatus.SETUP:
        w.draw = Draw(round=w.round, purpose=DrawPurpose.INITIAL, status=DrawStatus.REVEALED, seed="ab" * 32,
                      commitment="cd" * 32, inputs='{"version":1}', inputs_digest="ef" * 32,
                      result="[]", result_digest="01" * 32, solver_signature="test", revealed_at=utcnow())
        db.session.add(w.draw)
        w.assignment = Assignment(round=w.round, application_id=w.app_a.id, expert_id=w.exp_assigned.id,
                                  status=AssignmentStatus.CONFIRMED, confirmed_at=utcnow())
        w.sneaked = Assignment(round=w.round, application_id=w.app_a.id, expert_id=w.exp_conflict.id,
                               status=AssignmentStatus.CONFIRMED, confirmed_at=utcnow())
        db.session.add_all([w.assignment, w.sneaked])
    db.session.add(Conflict(round_id=w.round.id, application_id=w.app_a.id, expert_id=w.exp_conflict.id,
                            source=ConflictSource.AUTO, reasons=["现任职于申报单位"]))
    db.session.flush()
    if score:
        w.score = Score(assignment=w.assignment, round_id=w.round.id, application_id=w.app_a.id,
                        expert_id=w.exp_assigned.id, status=services.ScoreStatus.SUBMITTED,
                        submitted_at=utcnow(), total=80)
        w.score.items = [ScoreItem(criterion_id=c.id, points=int(c.max_points * 0.8)) for c in w.round.criteria]
        db.session.add(w.score)
        db.session.flush()
    return w
