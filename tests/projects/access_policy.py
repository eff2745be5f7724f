"""Who may reach each route of the projects hub (tests/test_access.py walks these).

The project belongs to org_a (district A). Its members and district-A / city staff see it; finance sees
every project read-only and pays; district-B staff, org_b, experts and evaluators get 404 (its existence
is not revealed); admins see it but neither launch, schedule nor approve (403).
"""
from datetime import date

from tests.access import DENY, LOGIN, OK, Rule

MANAGERS = {"staff_a": OK, "staff_city": OK}
VIEWERS = {"applicant_a": OK, "staff_a": OK, "staff_city": OK, "finance": OK, "admin": OK}
ALL_STAFF = {"staff_a": OK, "staff_b": OK, "staff_city": OK}


def _project(w):
    from incubator.projects import services
    from tests.projects.helpers import CONDITIONS_532, SHARES_532, launch

    w.project = launch(w.org_a, by=w.staff_a)
    services.set_tranche_schedule(w.project, SHARES_532, CONDITIONS_532, by=w.staff_a)
    w.tranche = w.project.tranches[0]


def _signed(w):
    from incubator.projects import services
    from incubator.projects.models import TrancheCondition

    _project(w)
    services.mark_condition_met(w.project, TrancheCondition.ON_SIGNING, by=w.staff_a, on=date.today())


def _requested(w):
    from incubator.projects import services

    _signed(w)
    w.payment = services.request_payment(w.tranche, by=w.staff_a)


def _approved(w):
    from incubator.projects import services

    _requested(w)
    services.approve_by_staff(w.payment, by=w.staff_a)


def _funded(w):
    from tests.projects.helpers import funded_application

    w.application = funded_application(district=w.district_a)  # world orgs have no annual report


def _launch_form(w):
    return {"title": "社区居家养老服务", "purchasing_department": "洛阳市民政局", "service_content": "助餐、探访",
            "term_start": "2026-03-01", "term_end": "2027-02-28", "amount": "30000.00",
            "budget_line": "社区服务专项资金", "budget_year": "2026", "org_id": str(w.org_a.id),
            "status": "closed", "district_id": str(w.district_b.id)}


def _pay_form(w):
    return {f"pay{w.payment.id}-paid_on": date.today().isoformat(), f"pay{w.payment.id}-voucher_no": "PZ-0001"}


def _schedule_form(w):
    return {"rows-0-share": "70", "rows-0-condition": "on_signing", "rows-1-share": "30",
            "rows-1-condition": "on_final_acceptance"}


RULES = [
    # lists
    Rule("projects.staff_index", "GET", lambda w: "/staff/projects/", setup=_project,
         allow={**ALL_STAFF, "finance": OK, "admin": OK}),
    Rule("projects.staff_index", "GET", lambda w: "/staff/projects/?q=' OR 1=1--&district=99999999999&year=abc",
         allow={**ALL_STAFF, "finance": OK, "admin": OK}),
    Rule("projects.my_projects", "GET", lambda w: "/my/projects", setup=_project,
         allow={"applicant_a": OK, "applicant_b": OK}),
    # 立项
    Rule("projects.launch_from_application", "GET", lambda w: f"/staff/applications/{w.application.id}/launch",
         setup=_funded, allow=MANAGERS),
    Rule("projects.launch_from_application", "GET", lambda w: "/staff/applications/99999999999/launch", allow={}, others=DENY),
    Rule("projects.launch_from_application", "POST", lambda w: f"/staff/applications/{w.application.id}/launch",
         setup=_funded, data=_launch_form, allow=MANAGERS),
    Rule("projects.new_purchase", "GET", lambda w: "/staff/projects/new?q=甲区", allow=ALL_STAFF),
    # district B staff may post, but org_a is not among their suppliers: 422, nothing launched
    Rule("projects.new_purchase", "POST", lambda w: "/staff/projects/new", data=_launch_form, allow=ALL_STAFF),
    # a project's pages
    Rule("projects.detail", "GET", lambda w: f"/projects/{w.project.id}", setup=_project, allow=VIEWERS),
    Rule("projects.detail", "GET", lambda w: "/projects/99999999999", allow={}, others=DENY),
    Rule("projects.tranches", "GET", lambda w: f"/projects/{w.project.id}/tranches", setup=_approved, allow=VIEWERS),
    Rule("projects.tranches", "GET", lambda w: "/projects/0/tranches", allow={"anonymous": LOGIN}),
    Rule("projects.set_schedule", "POST", lambda w: f"/projects/{w.project.id}/tranches/schedule", setup=_project,
         data=_schedule_form, allow=MANAGERS),
    Rule("projects.request_payment", "POST", lambda w: f"/projects/{w.project.id}/tranches/{w.tranche.id}/request",
         setup=_signed, allow={**MANAGERS, "applicant_a": OK}),
    Rule("projects.request_payment", "POST", lambda w: f"/projects/{w.project.id}/tranches/99999999999/request",
         setup=_signed, allow={}, others=DENY),
    Rule("projects.staff_approve_payment", "POST",
         lambda w: f"/projects/{w.project.id}/payments/{w.payment.id}/approve", setup=_requested, allow=MANAGERS),
    Rule("projects.finance_pay", "POST", lambda w: f"/projects/{w.project.id}/payments/{w.payment.id}/pay",
         setup=_approved, data=_pay_form, allow={"finance": OK}),
    # finance and the desk
    Rule("projects.finance_queue", "GET", lambda w: "/finance/payments", setup=_approved,
         allow={"finance": OK, "admin": OK}),
    Rule("projects.finance_queue", "GET", lambda w: "/finance/payments?state=paid&q=%25&district=abc",
         allow={"finance": OK, "admin": OK}),
    Rule("projects.desk", "GET", lambda w: "/staff/desk", setup=_requested,
         allow={**ALL_STAFF, "finance": OK, "admin": OK}),
]
