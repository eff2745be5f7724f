"""Who may reach each review route (tests/test_access.py walks these).

Staff pages: staff and admins; the round belongs to a district-A call, so district A staff, city staff
and admins reach it and district B staff get 404. Expert pages: only experts; an assignment page, its
posts and its attachments only for the expert it is assigned to (expert_assigned); the unassigned expert
and the expert with a conflict get 404, and a conflicted pair stays closed (403/404) even when an
assignment was sneaked in. Applicants, finance and evaluators get 403; anonymous users the login page.
"""
from tests.access import DENY, OK, Rule

STAFF = {"staff_a": OK, "staff_b": OK, "staff_city": OK, "admin": OK}
STAFF_A = {"staff_a": OK, "staff_city": OK, "admin": OK}
EXPERTS = {"expert_assigned": OK, "expert_unassigned": OK, "expert_conflict": OK}
ASSIGNED = {"expert_assigned": OK}


def _scoring(w):
    from tests.review.factories import review_world

    review_world(w)


def _setup(w):
    from incubator.review.models import RoundStatus
    from tests.review.factories import review_world

    review_world(w, status=RoundStatus.SETUP)


def _scored(w):
    from tests.review.factories import review_world

    review_world(w, score=True)


def _round_form(w):
    from datetime import timedelta

    from incubator.db import to_local, utcnow

    return {"call_id": str(w.call.id), "name": "复审", "kind": "written", "reviewers_per_application": "3",
            "max_load": "10", "blind": "y", "deadline": (to_local(utcnow()) + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
            "aggregation": "trimmed", "trim_from": "5", "promotion": "top_n", "promotion_top_n": "10",
            "status": "closed", "district_id": str(w.district_b.id)}


def _criteria_form(w):
    return {"name-0": "需求", "max_points-0": "50", "weight-0": "50", "name-1": "方案", "max_points-1": "50",
            "weight-1": "50"}


def _score_form(w):
    data = {f"points-{c.id}": "10" for c in w.round.criteria}
    data.update({"action": "save", "comments": "方案清晰。", "status": "submitted", "total": "100"})
    return data


def _r(w, tail=""):
    return f"/staff/review/rounds/{w.round.id}{tail}"


def _a(w, tail=""):
    return f"/expert/assignments/{w.assignment.id}{tail}"


RULES = [
    Rule("review.index", "GET", lambda w: "/staff/review/", allow=STAFF, setup=_scoring),
    Rule("review.new_round", "GET", lambda w: "/staff/review/rounds/new", allow=STAFF, setup=_scoring),
    Rule("review.new_round", "POST", lambda w: "/staff/review/rounds/new", allow=STAFF, setup=_scoring,
         data=_round_form),
    Rule("review.round_detail", "GET", lambda w: _r(w), allow=STAFF_A, setup=_scoring),
    Rule("review.round_detail", "GET", lambda w: _r(w), allow=STAFF_A, setup=_setup),
    Rule("review.round_detail", "GET", lambda w: "/staff/review/rounds/99999999999", allow={}, others=DENY,
         setup=_scoring),
    Rule("review.edit_round", "GET", lambda w: _r(w, "/edit"), allow=STAFF_A, setup=_setup),
    Rule("review.edit_round", "POST", lambda w: _r(w, "/edit"), allow=STAFF_A, setup=_setup, data=_round_form),
    Rule("review.criteria", "GET", lambda w: _r(w, "/criteria"), allow=STAFF_A, setup=_setup),
    Rule("review.criteria", "POST", lambda w: _r(w, "/criteria"), allow=STAFF_A, setup=_setup, data=_criteria_form),
    Rule("review.import_entries", "POST", lambda w: _r(w, "/entries/import"), allow=STAFF_A, setup=_setup),
    Rule("review.remove_entry", "POST", lambda w: _r(w, f"/entries/{w.entry.id}/remove"), allow=STAFF_A,
         setup=_setup),
    Rule("review.round_action", "POST", lambda w: _r(w, "/close"), allow=STAFF_A, setup=_scoring),
    Rule("review.remind", "POST", lambda w: _r(w, "/remind"), allow=STAFF_A, setup=_scoring),
    Rule("review.conflicts", "GET", lambda w: _r(w, "/conflicts"), allow=STAFF_A, setup=_setup),
    Rule("review.conflicts", "POST", lambda w: _r(w, "/conflicts"), allow=STAFF_A, setup=_setup),
    Rule("review.draw_page", "GET", lambda w: _r(w, "/draw"), allow=STAFF_A, setup=_scoring),
    Rule("review.draw_commit", "POST", lambda w: _r(w, "/draw/commit"), allow=STAFF_A, setup=_setup),
    Rule("review.draw_run", "POST", lambda w: _r(w, "/draw/run"), allow=STAFF_A, setup=_setup),
    Rule("review.draw_inputs", "GET", lambda w: f"/staff/review/draws/{w.draw.id}/inputs.json", allow=STAFF_A,
         setup=_scoring),
    Rule("review.assignments", "GET", lambda w: _r(w, "/assignments"), allow=STAFF_A, setup=_scoring),
    Rule("review.manual_assign", "POST", lambda w: _r(w, "/assignments"), allow=STAFF_A, setup=_scoring,
         data=lambda w: {"application_id": str(w.app_a.id), "expert_id": str(w.exp_unassigned.id)}),
    Rule("review.reopen_score", "POST", lambda w: f"/staff/review/scores/{w.score.id}/reopen", allow=STAFF_A,
         setup=_scored, data=lambda w: {"reason": "第二项评分与意见不符，请核对。"}),
    # experts
    Rule("review.queue", "GET", lambda w: "/expert/", allow=EXPERTS, setup=_scoring),
    Rule("review.queue", "GET", lambda w: "/expert/", allow=EXPERTS),  # experts not (yet) in the pool
    Rule("review.assignment", "GET", lambda w: _a(w), allow=ASSIGNED, setup=_scoring),
    Rule("review.assignment", "GET", lambda w: "/expert/assignments/99999999999", allow={}, others=DENY,
         setup=_scoring),
    Rule("review.confirm", "POST", lambda w: _a(w, "/confirm"), allow=ASSIGNED, setup=_scoring),
    Rule("review.decline", "POST", lambda w: _a(w, "/decline"), allow=ASSIGNED, setup=_scoring,
         data=lambda w: {"reason": "曾任该机构顾问"}),
    Rule("review.score", "POST", lambda w: _a(w, "/score"), allow=ASSIGNED, setup=_scoring, data=_score_form),
    Rule("review.attachment", "GET", lambda w: _a(w, "/files/1"), allow=ASSIGNED, setup=_scoring),
    # a conflicted pair stays closed even with an assignment: the page shows only the declaration,
    # and the application's attachment is refused to everyone
    Rule("review.attachment", "GET", lambda w: f"/expert/assignments/{w.sneaked.id}/files/1", allow={},
         setup=_scoring),
    Rule("review.score", "POST", lambda w: f"/expert/assignments/{w.sneaked.id}/score", allow={}, setup=_scoring,
         data=_score_form),
]
