"""Who may use each route of the expert pool (tests/test_access.py requests every rule as every role).

The pool is city-wide: every staff member sees it and may add experts; district staff edit only the
experts of their district; only city staff and admins change a status; an expert sees only their
own record (their detail URL redirects to their own page); applicants, finance and evaluators get
nothing.
"""
from datetime import timedelta

from tests.access import OK, Rule

ALL_STAFF = {"staff_a": OK, "staff_b": OK, "staff_city": OK, "admin": OK}
STAFF_OF_A = {"staff_a": OK, "staff_city": OK, "admin": OK}
CITY = {"staff_city": OK, "admin": OK}
EXPERTS = {"expert_assigned": OK, "expert_unassigned": OK, "expert_conflict": OK}
SELF = {"expert_assigned": OK}


def _expert(w):
    """An expert of district A whose login is the world's `expert_assigned` user."""
    from tests.pools.helpers import expert_of

    w.expert = expert_of(w.expert_assigned, district_id=w.district_a.id)


def _with_relation(w):
    from tests.pools.helpers import add_relation

    _expert(w)
    w.relation = add_relation(w.expert, w.org_a)


def _with_unavailable(w):
    from incubator.db import today_local
    from tests.pools.helpers import add_unavailable

    _expert(w)
    day = today_local() + timedelta(days=10)
    w.unavailable = add_unavailable(w.expert, day, day + timedelta(days=2))


def _profile(w):
    return {"name": "张明", "mobile": "13903791234", "email": "zhangming@haust.edu.cn", "employer": "河南科技大学",
            "fields": ["elderly"], "district": str(w.district_a.id), "max_reviews_per_round": "8"}


def _future(days):
    from incubator.db import today_local

    return (today_local() + timedelta(days=days)).isoformat()


RULES = [
    Rule("pools.index", "GET", lambda w: "/pools/experts", allow=ALL_STAFF),
    Rule("pools.create", "GET", lambda w: "/pools/experts/new", allow=ALL_STAFF),
    Rule("pools.create", "POST", lambda w: "/pools/experts/new", allow=ALL_STAFF, data=lambda w: {"name": "张明"}),
    Rule("pools.detail", "GET", lambda w: f"/pools/experts/{w.expert.id}", allow={**ALL_STAFF, **SELF}, setup=_expert),
    Rule("pools.edit", "GET", lambda w: f"/pools/experts/{w.expert.id}/edit", allow=STAFF_OF_A, setup=_expert),
    Rule("pools.edit", "POST", lambda w: f"/pools/experts/{w.expert.id}/edit", allow=STAFF_OF_A, setup=_expert,
         data=_profile),
    Rule("pools.change_status", "POST", lambda w: f"/pools/experts/{w.expert.id}/status", allow=CITY, setup=_expert,
         data=lambda w: {"action": "suspend", "reason": "本人申请暂停"}),
    Rule("pools.resend_invitation", "POST", lambda w: f"/pools/experts/{w.expert.id}/invite", allow=STAFF_OF_A,
         setup=_expert),
    Rule("pools.add_relation", "POST", lambda w: f"/pools/experts/{w.expert.id}/relations", allow={**STAFF_OF_A, **SELF},
         setup=_expert, data=lambda w: {"org_name": "洛阳市某某协会", "kind": "advisor"}),
    Rule("pools.delete_relation", "POST", lambda w: f"/pools/experts/{w.expert.id}/relations/{w.relation.id}/delete",
         allow=STAFF_OF_A, setup=_with_relation),
    Rule("pools.add_unavailable", "POST", lambda w: f"/pools/experts/{w.expert.id}/unavailable",
         allow={**STAFF_OF_A, **SELF}, setup=_expert,
         data=lambda w: {"start_on": _future(5), "end_on": _future(6), "note": "出差"}),
    Rule("pools.delete_unavailable", "POST",
         lambda w: f"/pools/experts/{w.expert.id}/unavailable/{w.unavailable.id}/delete",
         allow={**STAFF_OF_A, **SELF}, setup=_with_unavailable),
    Rule("pools.org_search", "GET", lambda w: "/pools/orgs.json?q=阳光", allow={**ALL_STAFF, **EXPERTS}),
    Rule("pools.import_template", "GET", lambda w: "/pools/import/template", allow=ALL_STAFF),
    Rule("pools.import_experts", "GET", lambda w: "/pools/import", allow=ALL_STAFF),
    Rule("pools.import_experts", "POST", lambda w: "/pools/import", allow=ALL_STAFF),
    Rule("pools.me", "GET", lambda w: "/pools/me", allow=EXPERTS),
]
