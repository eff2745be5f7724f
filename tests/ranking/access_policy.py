"""Who may reach each ranking route (tests/test_access.py walks these).

Staff and admins only. The round belongs to a district-A call: district A staff, city staff and admins reach
it, district B staff get 404; applicants, experts, finance and evaluators get 403; anonymous users the login
page. Expert histories are pool-wide pages for every staff member (the rounds listed are scoped).
"""
from tests.access import DENY, LOGIN, OK, Rule

STAFF = {"staff_a": OK, "staff_b": OK, "staff_city": OK, "admin": OK}
STAFF_A = {"staff_a": OK, "staff_city": OK, "admin": OK}


def _closed(w):
    from tests.ranking.helpers import world_round

    world_round(w)


def _with_next(w):
    from tests.ranking.helpers import world_round
    from tests.review.factories import make_round

    world_round(w)
    w.next_round = make_round(w.call, by=w.staff_a, name="复审")


def _r(w, tail=""):
    return f"/staff/ranking/rounds/{w.round.id}{tail}"


RULES = [
    Rule("ranking.index", "GET", lambda w: "/staff/ranking/", allow=STAFF, setup=_closed),
    Rule("ranking.round_ranking", "GET", lambda w: _r(w), allow=STAFF_A, setup=_closed),
    Rule("ranking.round_ranking", "GET", lambda w: "/staff/ranking/rounds/99999999999", allow={}, others=DENY,
         setup=_closed),
    Rule("ranking.round_ranking", "GET", lambda w: "/staff/ranking/rounds/0", allow={"anonymous": LOGIN}, others=DENY),
    Rule("ranking.promote", "POST", lambda w: _r(w, "/promote"), allow=STAFF_A, setup=_with_next,
         data=lambda w: {"application_id": str(w.app_a.id)}),
    Rule("ranking.propose", "POST", lambda w: _r(w, "/propose"), allow=STAFF_A, setup=_closed,
         data=lambda w: {"application_id": str(w.app_a.id), "status": "funded", "amount": "1"}),
    Rule("ranking.export", "GET", lambda w: _r(w, "/export.xlsx"), allow=STAFF_A, setup=_closed),
    Rule("ranking.score_sheet", "POST", lambda w: _r(w, "/score-sheet"), allow=STAFF_A, setup=_closed),
    Rule("ranking.ratings", "GET", lambda w: _r(w, "/ratings"), allow=STAFF_A, setup=_closed),
    Rule("ranking.ratings", "POST", lambda w: _r(w, "/ratings"), allow=STAFF_A, setup=_closed,
         data=lambda w: {f"timeliness-{w.exp_assigned.id}": "4", f"quality-{w.exp_assigned.id}": "5",
                         f"note-{w.exp_assigned.id}": "按时提交，意见具体"}),
    Rule("ranking.experts", "GET", lambda w: "/staff/ranking/experts/", allow=STAFF, setup=_closed),
    Rule("ranking.expert_history", "GET", lambda w: f"/staff/ranking/experts/{w.exp_assigned.id}", allow=STAFF,
         setup=_closed),
    Rule("ranking.expert_history", "GET", lambda w: "/staff/ranking/experts/99999999999", allow={}, others=DENY),
]
