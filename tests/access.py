"""The access policy harness: every route × method × role has an expected outcome.

Each domain lists its routes in ``tests/<domain>/access_policy.py`` as ``RULES = [Rule(...)]``;
``tests/test_access.py`` gathers them, fails for any route of ``app.url_map`` without a rule, and
requests every rule as every role of the World.

Outcomes:
  OK     the role gets through (any status < 500 except 401/403/404 and a redirect to the login page)
  DENY   403 or 404
  LOGIN  a redirect to the login page (anonymous on a login-only route)
Roles not named in ``allow`` expect DENY, and anonymous expects LOGIN, unless ``public=True``
(everyone OK) or ``others=`` says otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

from incubator.accounts.models import Role

OK, DENY, LOGIN = "OK", "DENY", "LOGIN"

ROLES = (
    "anonymous",
    "applicant_a",  # member (org admin) of org_a, district A
    "applicant_b",  # member (org admin) of org_b, district B
    "expert_assigned",
    "expert_unassigned",
    "expert_conflict",
    "staff_a",  # district A staff
    "staff_b",  # district B staff
    "staff_city",
    "finance",
    "evaluator",
    "admin",
)


@dataclass
class Rule:
    endpoint: str
    method: str
    url: Callable[[SimpleNamespace], str]
    allow: dict[str, str] = field(default_factory=dict)
    public: bool = False
    others: str | None = None  # outcome for roles not in allow (default DENY, anonymous LOGIN)
    data: Callable[[SimpleNamespace], dict] | None = None  # form data for POST
    setup: Callable[[SimpleNamespace], None] | None = None  # extra objects this rule needs

    def expected(self, role: str) -> str:
        if role in self.allow:
            return self.allow[role]
        if self.public:
            return OK
        if self.others is not None:
            return self.others
        return LOGIN if role == "anonymous" else DENY


def build_world() -> SimpleNamespace:
    """Two districts, an organisation in each, and one user per role of ROLES."""
    from tests.factories import make_district, make_org, make_user

    w = SimpleNamespace()
    w.district_a = make_district(name="甲区", code="410302")
    w.district_b = make_district(name="乙区", code="410303")
    w.org_a = make_org(district=w.district_a, name="甲区阳光社工服务中心")
    w.org_b = make_org(district=w.district_b, name="乙区夕阳红养老服务中心")
    w.users = {
        "applicant_a": make_user(Role.APPLICANT, org=w.org_a, is_org_admin=True),
        "applicant_b": make_user(Role.APPLICANT, org=w.org_b, is_org_admin=True),
        "expert_assigned": make_user(Role.EXPERT),
        "expert_unassigned": make_user(Role.EXPERT),
        "expert_conflict": make_user(Role.EXPERT),
        "staff_a": make_user(Role.STAFF, district=w.district_a),
        "staff_b": make_user(Role.STAFF, district=w.district_b),
        "staff_city": make_user(Role.STAFF),
        "finance": make_user(Role.FINANCE),
        "evaluator": make_user(Role.EVALUATOR),
        "admin": make_user(Role.ADMIN),
    }
    for name, user in w.users.items():
        setattr(w, name, user)
    return w
