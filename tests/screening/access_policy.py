"""Who may reach each screening route (tests/test_access.py walks these).

Staff and admins only. Org A (district A) owns the submitted application: district A staff, city
staff and admins reach it; district B staff get 404 on its direct URLs and see none of its rows;
organisation members, experts, finance and evaluators get 403 everywhere; anonymous users are sent
to the login page.
"""
from tests.access import DENY, OK, Rule

SCREENERS = {"staff_a": OK, "staff_b": OK, "staff_city": OK, "admin": OK}
SCREENERS_A = {"staff_a": OK, "staff_city": OK, "admin": OK}


def _submitted_a(w):
    """A call and a submitted application of org A (built from the applications models directly)."""
    from tests.screening.helpers import make_call, make_submitted

    w.call = make_call()
    w.app_a = make_submitted(w.org_a, w.call, by=w.applicant_a)


def _return_form(w):
    from datetime import timedelta

    from incubator.db import today_local

    return {"reason_budget": "人员费用超出上限，请调整。", "deadline": (today_local() + timedelta(days=7)).isoformat(),
            "status": "passed", "org_id": str(w.org_b.id)}


RULES = [
    Rule("screening.index", "GET", lambda w: "/staff/applications/", allow=SCREENERS, setup=_submitted_a),
    Rule("screening.index", "GET", lambda w: "/staff/applications/?q=%27+OR+1%3D1--&status=all&per_page=100",
         allow=SCREENERS, setup=_submitted_a),
    Rule("screening.export", "GET", lambda w: "/staff/applications/export?status=all", allow=SCREENERS, setup=_submitted_a),
    Rule("screening.export_job", "POST", lambda w: "/staff/applications/export", allow=SCREENERS, setup=_submitted_a,
         data=lambda w: {"status": "all", "district": str(w.district_b.id)}),
    Rule("screening.batch_pass", "POST", lambda w: "/staff/applications/batch-pass", allow=SCREENERS, setup=_submitted_a,
         data=lambda w: {"ids": [str(w.app_a.id)]}),
    Rule("screening.detail", "GET", lambda w: f"/staff/applications/{w.app_a.id}", allow=SCREENERS_A, setup=_submitted_a),
    # beyond PostgreSQL INTEGER: 404 for everyone, before the login check (the app's int converter)
    Rule("screening.detail", "GET", lambda w: "/staff/applications/99999999999", allow={}, others=DENY, setup=_submitted_a),
    Rule("screening.decide_pass", "POST", lambda w: f"/staff/applications/{w.app_a.id}/pass", allow=SCREENERS_A,
         setup=_submitted_a),
    Rule("screening.decide_return", "POST", lambda w: f"/staff/applications/{w.app_a.id}/return", allow=SCREENERS_A,
         setup=_submitted_a, data=_return_form),
    Rule("screening.decide_reject", "POST", lambda w: f"/staff/applications/{w.app_a.id}/reject", allow=SCREENERS_A,
         setup=_submitted_a, data=lambda w: {"reason": "不符合申报条件。"}),
]
