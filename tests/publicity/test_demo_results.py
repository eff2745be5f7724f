"""The demo's ranking, roadshow and 公示 data: every stage present and consistent."""
from __future__ import annotations

from incubator.applications.models import Application, ApplicationStatus
from incubator.demo import load_demo_data
from incubator.publicity.models import FundingList, FundingListStatus, ObjectionStatus, Publicity, PublicityStatus
from incubator.review import ranking
from incubator.review.models import ReviewRound, RoundKind, RoundStatus
from incubator.roadshow.models import ContestantStatus, RoadshowSession, SessionStatus
from incubator.roadshow.services import board


def test_demo_seeds_ranking_roadshow_and_publicity(app, db):
    load_demo_data()
    db.session.commit()
    statuses = {a.status for a in db.session.scalars(db.select(Application))}
    assert {ApplicationStatus.PROPOSED, ApplicationStatus.PUBLICIZED, ApplicationStatus.FUNDED,
            ApplicationStatus.CANCELLED} <= statuses
    # a 公示 in progress with one unanswered objection, and a finished one
    pubs = {p.status: p for p in db.session.scalars(db.select(Publicity))}
    running, final = pubs[PublicityStatus.OPEN], pubs[PublicityStatus.FINAL]
    assert [o.status for o in running.objections] == [ObjectionStatus.OPEN]
    assert [o.status for o in final.objections] == [ObjectionStatus.UPHELD]
    assert final.funding_list.status == FundingListStatus.FINAL
    assert {i.application.status for i in final.funding_list.items} == {ApplicationStatus.FUNDED, ApplicationStatus.CANCELLED}
    draft = db.session.scalar(db.select(FundingList).where(FundingList.status == FundingListStatus.DRAFT))
    assert draft is not None and {i.application.status for i in draft.items} == {ApplicationStatus.PROPOSED}
    # a roadshow under way: finished contestants scored, the live board ranks them
    s = db.session.scalar(db.select(RoadshowSession))
    assert s.status == SessionStatus.LIVE and s.round.kind == RoundKind.ROADSHOW
    assert [c.status for c in s.contestants][:4] == [ContestantStatus.FINISHED] * 3 + [ContestantStatus.PRESENTING]
    data = board(s)
    assert len(data["judges"]) == 5 and len(data["ranking"]) == 3
    done = data["contestants"][:2]
    assert all(c["submitted"] == c["panel"] >= 4 for c in done)  # the demo expert is recused where conflicted
    assert all(c["trimmed"] == (c["panel"] >= 5) for c in done) and any(c["trimmed"] for c in done)
    # the written round it came from is ranked, with the top 5 promoted and a disagreement flagged
    first = db.session.scalar(db.select(ReviewRound).where(ReviewRound.call_id == s.round.call_id,
                                                           ReviewRound.sequence == 1))
    result = ranking.round_ranking(first)
    assert first.status == RoundStatus.CLOSED and result.complete
    assert sum(r.in_next_round for r in result.rows) == 5
    assert any(r.disagreement for r in result.rows)
