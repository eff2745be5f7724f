"""Who may reach each roadshow route (tests/test_access.py walks these).

Staff pages: staff and admins; the session belongs to a district-A call, so district B staff get 404.
Judge pages: experts only (others 403). A session is reachable only by the experts on its panel
(expert_assigned and expert_conflict sit on it; expert_unassigned gets 404). The contestant for which
expert_conflict has a recorded conflict stays closed to them (403), its page and its score post alike.
"""
from tests.access import DENY, OK, Rule

STAFF = {"staff_a": OK, "staff_b": OK, "staff_city": OK, "admin": OK}
STAFF_A = {"staff_a": OK, "staff_city": OK, "admin": OK}
EXPERTS = {"expert_assigned": OK, "expert_unassigned": OK, "expert_conflict": OK}
PANEL = {"expert_assigned": OK, "expert_conflict": OK}
ASSIGNED = {"expert_assigned": OK}


def _live(w):
    from incubator.review.models import Conflict, ConflictSource
    from incubator.extensions import db
    from incubator.roadshow import services
    from tests.roadshow.helpers import roadshow_world

    rw = roadshow_world(district=w.district_a, staff=w.staff_a, n_apps=2, n_judges=3,
                        judge_users=[w.expert_assigned, w.expert_conflict])
    w.session, w.contestants, w.round = rw.session, rw.contestants, rw.round
    w.judge_conflict = rw.judges[1]
    db.session.add(Conflict(round_id=rw.round.id, application_id=rw.apps[0].id, expert_id=w.judge_conflict.id,
                            source=ConflictSource.AUTO, reasons=["现任职于申报单位"]))
    services.mark_finished(rw.contestants[0], by=w.staff_a)


def _s(w, tail=""):
    return f"/staff/roadshow/sessions/{w.session.id}{tail}"


def _j(w, tail=""):
    return f"/roadshow/judge/sessions/{w.session.id}{tail}"


def _score_form(w):
    data = {f"points-{c.id}": "20" for c in w.round.criteria}
    data.update({"confirm_no_conflict": "1", "status": "submitted", "total": "100", "expert_id": "1"})
    return data


RULES = [
    Rule("roadshow.index", "GET", lambda w: "/staff/roadshow/", allow=STAFF, setup=_live),
    Rule("roadshow.new_session", "GET", lambda w: "/staff/roadshow/sessions/new", allow=STAFF, setup=_live),
    Rule("roadshow.new_session", "POST", lambda w: "/staff/roadshow/sessions/new", allow=STAFF, setup=_live,
         data=lambda w: {"round_id": str(w.round.id), "title": "再来一场", "held_on": "2026-12-05"}),
    Rule("roadshow.session_detail", "GET", lambda w: _s(w), allow=STAFF_A, setup=_live),
    Rule("roadshow.session_detail", "GET", lambda w: "/staff/roadshow/sessions/99999999999", allow={}, others=DENY),
    Rule("roadshow.session_action", "POST", lambda w: _s(w, "/end"), allow=STAFF_A, setup=_live),
    Rule("roadshow.contestant_action", "POST", lambda w: f"/staff/roadshow/contestants/{w.contestants[1].id}/finish",
         allow=STAFF_A, setup=_live),
    Rule("roadshow.board", "GET", lambda w: _s(w, "/board"), allow=STAFF_A, setup=_live),
    Rule("roadshow.board_json", "GET", lambda w: _s(w, "/board.json"), allow=STAFF_A, setup=_live),
    Rule("roadshow.judge_index", "GET", lambda w: "/roadshow/judge/", allow=EXPERTS, setup=_live),
    Rule("roadshow.judge_index", "GET", lambda w: "/roadshow/judge/", allow=EXPERTS),  # experts not in the pool
    Rule("roadshow.judge_session", "GET", lambda w: _j(w), allow=PANEL, setup=_live),
    Rule("roadshow.judge_state", "GET", lambda w: _j(w, "/state.json"), allow=PANEL, setup=_live),
    Rule("roadshow.judge_score", "GET", lambda w: _j(w, f"/contestants/{w.contestants[0].id}"), allow=ASSIGNED,
         setup=_live),
    Rule("roadshow.judge_score", "GET", lambda w: _j(w, "/contestants/99999999999"), allow={}, others=DENY,
         setup=_live),
    Rule("roadshow.judge_submit", "POST", lambda w: _j(w, f"/contestants/{w.contestants[0].id}"), allow=ASSIGNED,
         setup=_live, data=_score_form),
]
