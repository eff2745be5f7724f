"""Who may reach each 公示 route (tests/test_access.py walks these).

Public pages (the list, a 公示, the objection form and its acknowledgement): everyone, anonymous included.
Staff pages: staff and admins; the funding list belongs to a district-A call, so district B staff get 404;
applicants, experts, finance and evaluators get 403; anonymous users the login page.
"""
from tests.access import DENY, OK, Rule

STAFF = {"staff_a": OK, "staff_b": OK, "staff_city": OK, "admin": OK}
STAFF_A = {"staff_a": OK, "staff_city": OK, "admin": OK}


def _draft(w):
    from tests.publicity.helpers import funding_world

    fw = funding_world(district=w.district_a, staff=w.staff_a, n=1)
    w.list, w.item = fw.list, fw.list.items[0]


def _running(w):
    from incubator.publicity import services
    from tests.publicity.helpers import funding_world, running_publicity

    fw = funding_world(district=w.district_a, staff=w.staff_a, n=2)
    w.list, w.pub = fw.list, running_publicity(fw)
    w.objection = services.file_objection(w.pub, services.clean_objection(
        name="王五", phone="13912345678", email="", content="该项目与已资助项目重复申报，请核实。", item_id=None))


def _objection_form(w):
    return {"name": "李四", "phone": "13912345678", "content": "对拟资助项目有异议：申报材料与实际不符。",
            "item_id": str(w.list.items[0].id), "status": "upheld"}


def _answer_form(w):
    return {"decision": "not_upheld", "answer": "经核实，异议不成立。"}


RULES = [
    Rule("publicity.public_index", "GET", lambda w: "/publicity", public=True, setup=_running),
    Rule("publicity.public_index", "GET", lambda w: "/publicity", public=True),
    Rule("publicity.public_detail", "GET", lambda w: f"/publicity/{w.pub.id}", public=True, setup=_running),
    Rule("publicity.public_detail", "GET", lambda w: "/publicity/99999999999", allow={}, others=DENY),
    Rule("publicity.file_objection", "POST", lambda w: f"/publicity/{w.pub.id}/objections", public=True,
         setup=_running, data=_objection_form),
    Rule("publicity.file_objection", "POST", lambda w: "/publicity/0/objections", allow={}, others=DENY,
         data=lambda w: {"name": "李四"}),
    Rule("publicity.objection_received", "GET", lambda w: f"/publicity/{w.pub.id}/objection-received", public=True,
         setup=_running),
    Rule("publicity.staff_index", "GET", lambda w: "/staff/publicity/", allow=STAFF, setup=_draft),
    Rule("publicity.list_detail", "GET", lambda w: f"/staff/publicity/lists/{w.list.id}", allow=STAFF_A,
         setup=_draft),
    Rule("publicity.list_detail", "GET", lambda w: f"/staff/publicity/lists/{w.list.id}", allow=STAFF_A,
         setup=_running),
    Rule("publicity.list_detail", "GET", lambda w: "/staff/publicity/lists/99999999999", allow={}, others=DENY),
    Rule("publicity.save_amounts", "POST", lambda w: f"/staff/publicity/lists/{w.list.id}/amounts", allow=STAFF_A,
         setup=_draft, data=lambda w: {f"amount-{w.item.id}": "30000.00"}),
    Rule("publicity.list_action", "POST", lambda w: f"/staff/publicity/lists/{w.list.id}/approve", allow=STAFF_A,
         setup=_draft),
    Rule("publicity.list_action", "POST", lambda w: f"/staff/publicity/lists/{w.list.id}/finalize", allow=STAFF_A,
         setup=_running),
    Rule("publicity.objection", "GET", lambda w: f"/staff/publicity/objections/{w.objection.id}", allow=STAFF_A,
         setup=_running),
    Rule("publicity.objection", "POST", lambda w: f"/staff/publicity/objections/{w.objection.id}", allow=STAFF_A,
         setup=_running, data=_answer_form),
]
