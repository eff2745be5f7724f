"""Roadshow: sessions and order, start/finish marks, judges' scores (the written-score rules), the live board."""
from __future__ import annotations

from decimal import Decimal

import pytest

from incubator.accounts.models import Role
from incubator.review.models import AssignmentStatus, Conflict, ConflictSource, RoundKind, RoundStatus, ScoreStatus
from incubator.roadshow import services
from incubator.roadshow.models import ContestantStatus, SessionStatus
from tests.conftest import login_as
from tests.factories import make_user
from tests.ranking.helpers import split_points
from tests.roadshow.helpers import judge_scores, roadshow_world


def test_session_takes_the_rounds_entries_in_number_order_and_reorders(db):
    w = roadshow_world(open_=False)
    assert [c.application.number for c in w.session.contestants] == ["WCT-2026-0001", "WCT-2026-0002", "WCT-2026-0003"]
    assert [c.position for c in w.session.contestants] == [1, 2, 3]
    services.move(w.contestants[2], step=-1, by=w.staff)
    assert [c.application.number for c in w.session.contestants] == ["WCT-2026-0001", "WCT-2026-0003", "WCT-2026-0002"]
    assert len(services.panel(w.session)) == 5


def test_only_roadshow_rounds_and_one_session_each(db):
    w = roadshow_world(open_=False)
    with pytest.raises(services.RoadshowError, match="已安排路演"):
        services.create_session(w.round, by=w.staff, title="又一场", held_on=w.session.held_on, venue="")
    from tests.review.factories import make_round

    written = make_round(w.call, by=w.staff, kind=RoundKind.WRITTEN)
    with pytest.raises(services.RoadshowError, match="评审方式为“路演”"):
        services.create_session(written, by=w.staff, title="书面", held_on=w.session.held_on, venue="")


def test_open_needs_the_round_scoring(db):
    w = roadshow_world(open_=False)
    w.round.status = RoundStatus.DRAWN
    with pytest.raises(services.RoadshowError, match="开始评分"):
        services.open_session(w.session, by=w.staff)
    w.round.status = RoundStatus.SCORING
    services.open_session(w.session, by=w.staff)
    assert w.session.status == SessionStatus.LIVE


def test_judges_score_only_finished_contestants_and_scores_lock(db):
    w = roadshow_world()
    c = w.contestants[0]
    judge = w.judges[0]
    item = services.judge_item(w.session, judge, c.id)
    points = {cr.id: p for cr, p in zip(w.round.criteria, split_points(80))}
    with pytest.raises(services.RoadshowError, match="尚未完成路演"):
        services.score_contestant(item, by=judge.user, points=points)
    services.mark_started(c, by=w.staff)
    services.mark_finished(c, by=w.staff)
    assert c.status == ContestantStatus.FINISHED and c.finished_at is not None
    score = services.score_contestant(item, by=judge.user, points=points)
    assert score.status == ScoreStatus.SUBMITTED and score.total == Decimal("80.00")
    with pytest.raises(services.RoadshowError, match="已提交并锁定"):
        services.score_contestant(services.judge_item(w.session, judge, c.id), by=judge.user, points=points)
    with pytest.raises(services.RoadshowError, match="已完成路演"):
        services.mark_finished(c, by=w.staff)


def test_board_ordering_and_trimmed_mean(db):
    w = roadshow_world(n_apps=3, n_judges=5)
    first, second, third = w.contestants
    for c in (first, second):
        services.mark_finished(c, by=w.staff)
    judge_scores(w, first, [70, 80, 85, 90, 99])   # 5 judges: drop 70 and 99 → (80 + 85 + 90) / 3 = 85.00
    judge_scores(w, second, [88, 90, 92])           # 3 of 5 so far: plain mean = 90.00
    b = services.board(w.session)
    assert [c["number"] for c in b["contestants"]] == ["WCT-2026-0001", "WCT-2026-0002", "WCT-2026-0003"]
    rows = {c["number"]: c for c in b["contestants"]}
    one, two, three = rows["WCT-2026-0001"], rows["WCT-2026-0002"], rows["WCT-2026-0003"]
    assert one["official"] == "85.00" and one["trimmed"] and (one["submitted"], one["panel"]) == (5, 5)
    assert sorted(v for v in one["scores"]) == ["70.00", "80.00", "85.00", "90.00", "99.00"]
    assert two["official"] == "90.00" and not two["trimmed"] and two["scores"].count(None) == 2
    assert three["official"] is None and three["status"] == "waiting" and three["rank"] is None
    assert [r["number"] for r in b["ranking"]] == ["WCT-2026-0002", "WCT-2026-0001"]
    assert (two["rank"], one["rank"]) == (1, 2)
    assert b["judges"] == ["评委1", "评委2", "评委3", "评委4", "评委5"]
    # the remaining two judges score the second: 70 and 99 → drop both, still 90.00 — and now complete
    judge_scores(w, second, [70, 99], by_judges=w.judges[3:])
    b = services.board(w.session)
    assert {r["number"]: (r["official"], r["complete"]) for r in b["ranking"]}["WCT-2026-0002"] == ("90.00", True)


def test_judge_pages_over_http(client, db):
    w = roadshow_world(confirmed=False)
    c = w.contestants[0]
    judge = w.judges[0]
    db.session.commit()
    login_as(client, judge.user)
    assert w.session.title in client.get("/roadshow/judge/").get_data(as_text=True)
    page = client.get(f"/roadshow/judge/sessions/{w.session.id}").get_data(as_text=True)
    assert "WCT-2026-0001" in page and "待路演" in page
    url = f"/roadshow/judge/sessions/{w.session.id}/contestants/{c.id}"
    good = {f"points-{cr.id}": str(p) for cr, p in zip(w.round.criteria, split_points(77))}
    resp = client.post(url, data=good)
    assert resp.status_code == 409 and "尚未完成路演" in resp.get_data(as_text=True)
    services.mark_finished(c, by=w.staff)
    db.session.commit()
    ids = [cr.id for cr in w.round.criteria]
    for bad, message in [("-1", "须为 0–30 的整数"), ("31", "不能超过满分 30 分"), ("5.5", "须为 0–30 的整数"),
                         ("", "请为“需求分析”评分"), ("１０", "须为 0–30 的整数")]:
        resp = client.post(url, data=dict(good, **{f"points-{ids[0]}": bad}))
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), bad
    resp = client.post(url, data=good)  # no declaration ticked
    assert resp.status_code == 422 and "无利害关系" in resp.get_data(as_text=True)
    resp = client.post(url, data=dict(good, confirm_no_conflict="1", status="submitted", total="100"))
    assert resp.status_code == 302
    db.session.expire_all()
    a = next(x for x in w.round.assignments if x.expert_id == judge.id and x.application_id == c.application_id)
    assert a.status == AssignmentStatus.CONFIRMED and a.score.total == Decimal("77.00")
    resp = client.post(url, data=dict(good, confirm_no_conflict="1"))
    assert resp.status_code == 409 and "已提交并锁定" in resp.get_data(as_text=True)
    state = client.get(f"/roadshow/judge/sessions/{w.session.id}/state.json").get_json()
    assert f"{c.id}:scored" in state["version"] and state["to_score"] == 0


def test_experts_see_only_their_sessions_and_conflicts_close_a_contestant(client, db):
    w = roadshow_world()
    other = roadshow_world(first_number=11)
    outsider = make_user(Role.EXPERT)
    from tests.review.factories import make_expert

    make_expert(outsider)
    judge = w.judges[1]
    db.session.add(Conflict(round_id=w.round.id, application_id=w.apps[0].id, expert_id=judge.id,
                            source=ConflictSource.DECLARED, reasons=["曾任该机构顾问"]))
    services.mark_finished(w.contestants[0], by=w.staff)
    db.session.commit()
    login_as(client, judge.user)
    listing = client.get("/roadshow/judge/").get_data(as_text=True)
    assert w.session.title in listing and f"/roadshow/judge/sessions/{other.session.id}" not in listing
    assert client.get(f"/roadshow/judge/sessions/{other.session.id}").status_code == 404
    assert client.get(f"/roadshow/judge/sessions/{other.session.id}/contestants/{other.contestants[0].id}").status_code == 404
    page = client.get(f"/roadshow/judge/sessions/{w.session.id}").get_data(as_text=True)
    assert "回避/未分配" in page
    url = f"/roadshow/judge/sessions/{w.session.id}/contestants/{w.contestants[0].id}"
    assert client.get(url).status_code == 403
    good = {f"points-{cr.id}": "10" for cr in w.round.criteria}
    assert client.post(url, data=dict(good, confirm_no_conflict="1")).status_code == 403
    login_as(client, outsider)
    assert client.get(f"/roadshow/judge/sessions/{w.session.id}").status_code == 404
    assert client.get("/roadshow/judge/").status_code == 200
    # staff pages are closed to experts
    assert client.get(f"/staff/roadshow/sessions/{w.session.id}/board.json").status_code == 403


def test_staff_flow_over_http(client, db):
    w = roadshow_world(open_=False)
    db.session.commit()
    login_as(client, w.staff)
    assert client.post(f"/staff/roadshow/sessions/{w.session.id}/open").status_code == 302
    c = w.contestants[1]
    assert client.post(f"/staff/roadshow/contestants/{c.id}/start").status_code == 302
    assert client.post(f"/staff/roadshow/contestants/{c.id}/finish").status_code == 302
    db.session.expire_all()
    assert c.status == ContestantStatus.FINISHED
    data = client.get(f"/staff/roadshow/sessions/{w.session.id}/board.json").get_json()
    assert data["contestants"][1]["status"] == "finished" and data["contestants"][1]["panel"] == 5
    html = client.get(f"/staff/roadshow/sessions/{w.session.id}/board").get_data(as_text=True)
    assert 'data-board-url="/staff/roadshow/sessions/' in html and "js/roadshow.js" in html and "<script>" not in html
    assert client.post(f"/staff/roadshow/sessions/{w.session.id}/end").status_code == 302
    db.session.expire_all()
    assert w.session.status == SessionStatus.ENDED


def test_new_session_form(client, db):
    from datetime import date

    from tests.applications.helpers import make_call, make_org
    from tests.ranking.helpers import passed_app
    from tests.review.factories import make_round
    from incubator.review import services as review_services

    staff = make_user(Role.STAFF)
    call = make_call()
    app = passed_app(make_org(), call)
    r = make_round(call, by=staff, kind=RoundKind.ROADSHOW, name="路演")
    review_services.add_entries(r, [app], by=staff)
    db.session.commit()
    login_as(client, staff)
    assert "路演" in client.get("/staff/roadshow/sessions/new").get_data(as_text=True)
    resp = client.post("/staff/roadshow/sessions/new", data={"round_id": str(r.id), "title": "", "held_on": "2026-02-30"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请填写路演名称" in html and "请填写正确的路演日期" in html
    resp = client.post("/staff/roadshow/sessions/new", data={"round_id": str(r.id), "title": "<b>复审</b>",
                                                             "held_on": date(2026, 12, 5).isoformat(), "venue": "路演厅"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "&lt;b&gt;复审&lt;/b&gt;" in page and "<b>复审</b>" not in page


def test_district_staff_cannot_reach_another_districts_session(client, db):
    from tests.factories import make_district

    da, d_b = make_district(), make_district()
    w = roadshow_world(district=da)
    staff_b = make_user(Role.STAFF, district=d_b)
    db.session.commit()
    login_as(client, staff_b)
    assert client.get(f"/staff/roadshow/sessions/{w.session.id}").status_code == 404
    assert client.get(f"/staff/roadshow/sessions/{w.session.id}/board.json").status_code == 404
    assert client.post(f"/staff/roadshow/contestants/{w.contestants[0].id}/finish").status_code == 404
    assert w.session.title not in client.get("/staff/roadshow/").get_data(as_text=True)
