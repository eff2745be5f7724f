"""The demo review round: drawn from the demo pool, replayable, scores in every state, a replacement."""
from __future__ import annotations

from incubator.demo import load_demo_data
from incubator.review.draw import verify_round
from incubator.review.models import AssignmentStatus, DrawPurpose, ReviewRound, RoundStatus, ScoreStatus


def test_demo_round(app, db):
    load_demo_data()
    db.session.commit()
    rounds = list(db.session.scalars(db.select(ReviewRound)))
    # the ranking/公示 demo adds rounds of its own; the review demo is the one with a replacement draw
    mine = [r for r in rounds if any(d.purpose == DrawPurpose.REPLACEMENT for d in r.draws)]
    assert len(mine) == 1
    r = mine[0]
    for other in rounds:
        if other.draws:
            assert all(c.ok for c in verify_round(other)), other.name
    assert r.status == RoundStatus.SCORING and r.blind and r.entries
    assert all(c.ok for c in verify_round(r)), [c.problems for c in verify_round(r)]
    assert {d.purpose for d in r.draws} == {DrawPurpose.INITIAL, DrawPurpose.REPLACEMENT}
    statuses = {a.status for a in r.assignments}
    assert {AssignmentStatus.CONFIRMED, AssignmentStatus.REPLACED} <= statuses
    scores = [a.score for a in r.assignments if a.score is not None]
    assert {s.status for s in scores} == {ScoreStatus.SUBMITTED, ScoreStatus.DRAFT}
    demo_expert = [a for a in r.assignments if a.expert.user.email == "zhuanjia@demo.ly.gov.cn"]
    assert demo_expert and any(a.needs_declaration for a in demo_expert)
    result = app.test_cli_runner().invoke(args=["review", "replay", str(r.id)])
    assert result.exit_code == 0, result.output
