"""Who may reach each contract route (tests/test_access.py walks these).

The project belongs to org_a (district A). Its tab and files: the organisation's members, district A and
city staff, admins and finance (read-only); district B staff and the other organisation get 404; experts
and evaluators 404 (the project is invisible to them). Staff actions (generate, amend, countersign,
publish): district A and city staff only (admins and finance 403). The signed scan: members of org_a only.
Templates: staff and admins. Public pages: everyone; an unpublished contract is 404 for everyone.
"""
import io

from tests.access import DENY, LOGIN, OK, Rule

VIEW = {"applicant_a": OK, "staff_a": OK, "staff_city": OK, "admin": OK, "finance": OK}
MANAGE = {"staff_a": OK, "staff_city": OK}
MEMBER = {"applicant_a": OK}
EDITORS = {"staff_a": OK, "staff_b": OK, "staff_city": OK, "admin": OK}
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _project(w):
    from incubator.projects import services as ps
    from tests.projects.helpers import CONDITIONS_532, SHARES_532, launch

    w.project = launch(w.org_a, by=w.staff_a)
    ps.set_tranche_schedule(w.project, SHARES_532, CONDITIONS_532, by=w.staff_a)


def _generated(w):
    from tests.projects.contracts.helpers import generated

    _project(w)
    w.contract = generated(w.project, w.staff_a)


def _org_signed(w):
    from incubator.projects.contracts import services
    from tests.projects.contracts.helpers import upload

    _generated(w)
    services.upload_org_signed(w.contract, upload(), by=w.applicant_a)


def _in_force(w):
    from incubator.db import today_local
    from incubator.projects.contracts import services
    from tests.projects.contracts.helpers import upload

    _org_signed(w)
    services.countersign(w.contract, upload(), by=w.staff_a, signed_on=today_local())


def _published(w):
    from incubator.projects.contracts import services

    _in_force(w)
    services.publish(w.contract, by=w.staff_a)


def _template(w):
    from incubator.projects.contracts import services
    from incubator.projects.models import ProjectKind

    w.template = services.default_template(ProjectKind.PURCHASE)


def _scan(w):
    return {"file": (io.BytesIO(PDF), "签章合同.pdf")}


def _countersign(w):
    from incubator.db import today_local

    return {"file": (io.BytesIO(PDF), "双方签章.pdf"), "signed_on": today_local().isoformat()}


def _template_form(w):
    return {"name": "政府购买服务合同（默认）", "title": "政府购买服务合同", "heading": ["服务内容", "其他"],
            "body": ["乙方提供{{服务内容}}。", "本合同一式四份。"], "status": "x", "is_admin": "1"}


def _url(w, tail=""):
    return f"/projects/{w.project.id}/contract{tail}"


RULES = [
    Rule("contracts.project_contract", "GET", lambda w: _url(w), allow=VIEW, setup=_project),
    Rule("contracts.project_contract", "GET", lambda w: _url(w), allow=VIEW, setup=_org_signed),
    Rule("contracts.project_contract", "GET", lambda w: _url(w), allow=VIEW, setup=_published),
    Rule("contracts.project_contract", "GET", lambda w: "/projects/99999999999/contract", allow={}, others=DENY),
    Rule("contracts.generate", "POST", lambda w: _url(w, "/generate"), allow=MANAGE, setup=_project),
    Rule("contracts.generate", "POST", lambda w: _url(w, "/generate"), allow=MANAGE, setup=_generated),
    Rule("contracts.amend", "POST", lambda w: _url(w, "/amend"), allow=MANAGE, setup=_in_force,
         data=lambda w: {"reason": "服务数量调整"}),
    Rule("contracts.upload_org_signed", "POST", lambda w: _url(w, f"/{w.contract.id}/org-signed"), allow=MEMBER,
         setup=_generated, data=_scan),
    Rule("contracts.return_org_signed", "POST", lambda w: _url(w, f"/{w.contract.id}/return"), allow=MANAGE,
         setup=_org_signed, data=lambda w: {"reason": "未加盖公章"}),
    Rule("contracts.countersign", "POST", lambda w: _url(w, f"/{w.contract.id}/countersign"), allow=MANAGE,
         setup=_org_signed, data=_countersign),
    Rule("contracts.publish", "POST", lambda w: _url(w, f"/{w.contract.id}/publish"), allow=MANAGE,
         setup=_in_force),
    Rule("contracts.download", "GET", lambda w: _url(w, f"/{w.contract.id}/files/pdf"), allow=VIEW,
         setup=_generated),
    Rule("contracts.download", "GET", lambda w: _url(w, f"/{w.contract.id}/files/org-signed"), allow=VIEW,
         setup=_in_force),
    Rule("contracts.download", "GET", lambda w: _url(w, f"/{w.contract.id}/files/countersigned"), allow=VIEW,
         setup=_in_force),
    Rule("contracts.download", "GET", lambda w: _url(w, f"/{w.contract.id}/files/countersigned"), allow={"anonymous": LOGIN},
         setup=_generated, others=DENY),  # no such file yet: 404 for everyone
    Rule("contracts.templates_index", "GET", lambda w: "/staff/contract-templates", allow=EDITORS, setup=_template),
    Rule("contracts.template_new", "POST", lambda w: "/staff/contract-templates/new", allow=EDITORS,
         data=lambda w: {"kind": "grant", "name": "新模板"}),
    Rule("contracts.template_edit", "GET", lambda w: f"/staff/contract-templates/{w.template.id}", allow=EDITORS,
         setup=_template),
    Rule("contracts.template_edit", "POST", lambda w: f"/staff/contract-templates/{w.template.id}", allow=EDITORS,
         setup=_template, data=_template_form),
    Rule("contracts.public_index", "GET", lambda w: "/contracts", public=True, setup=_published),
    Rule("contracts.public_index", "GET", lambda w: "/contracts?q=%27%20OR%201%3D1--&page=abc", public=True),
    Rule("contracts.public_detail", "GET", lambda w: f"/contracts/{w.contract.id}", public=True, setup=_published),
    Rule("contracts.public_detail", "GET", lambda w: f"/contracts/{w.contract.id}", allow={}, others=DENY,
         setup=_in_force),
]
