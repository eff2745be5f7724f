"""Who may reach each public directory / funded-project route (tests/test_access.py walks these).

Every page is public: every role, anonymous included, gets it. An unknown, pending or rejected
organisation, a project not yet signed (launched) and ids out of range are 404 for everyone.
"""
from tests.access import DENY, Rule


def _funded(w):
    from incubator.projects.models import ProjectStatus
    from tests.public.helpers import funded

    w.project = funded(w.org_a, by=w.staff_a, status=ProjectStatus.CLOSED, final=92)
    w.launched = funded(w.org_a, by=w.staff_a, status=ProjectStatus.LAUNCHED)


def _pending(w):
    from incubator.orgs.models import Verification
    from tests.factories import make_org

    w.pending = make_org(district=w.district_a, status=Verification.PENDING)


NOBODY = dict(allow={}, others=DENY)

RULES = [
    Rule("public.directory", "GET", lambda w: "/directory", public=True),
    Rule("public.directory", "GET", lambda w: "/directory?q=%27%20OR%201%3D1--&district=abc&type=x&field=y&page=-1",
         public=True, setup=_funded),
    Rule("public.org_detail", "GET", lambda w: f"/directory/{w.org_a.id}", public=True, setup=_funded),
    Rule("public.org_detail", "GET", lambda w: f"/directory/{w.pending.id}", setup=_pending, **NOBODY),
    Rule("public.org_detail", "GET", lambda w: "/directory/99999999999", **NOBODY),
    Rule("public.org_detail", "GET", lambda w: "/directory/0", **NOBODY),
    Rule("public.funded_projects", "GET", lambda w: "/funded-projects", public=True),
    Rule("public.funded_projects", "GET", lambda w: "/funded-projects?year=0001&kind=x&status=launched&page=abc",
         public=True, setup=_funded),
    Rule("public.project_detail", "GET", lambda w: f"/funded-projects/{w.project.id}", public=True, setup=_funded),
    Rule("public.project_detail", "GET", lambda w: f"/funded-projects/{w.launched.id}", setup=_funded, **NOBODY),
    Rule("public.project_detail", "GET", lambda w: "/funded-projects/99999999999", **NOBODY),
]
