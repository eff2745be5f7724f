"""Who may reach each route of the calls domain (tests/test_access.py walks these)."""
from tests.access import OK, Rule

STAFF_A = {"staff_a": OK, "staff_city": OK, "admin": OK}  # a district-A call: staff B never sees it
ALL_STAFF = {"staff_a": OK, "staff_b": OK, "staff_city": OK, "admin": OK}
APPLICANTS = {"applicant_a": OK, "applicant_b": OK}


def _call_a(w):
    """A published, open call of district A with one document, and a draft of district A."""
    from incubator.calls import services
    from tests.calls.helpers import make_call, pdf_upload

    w.call_a = make_call(district=w.district_a, title="甲区2026年政府购买服务项目申报通知")
    w.draft_a = make_call(district=w.district_a, published=False, title="甲区草稿通知")
    w.doc_a = services.add_document(w.call_a, by=w.staff_a, title="申报指南", upload=pdf_upload())
    w.draft_doc_a = services.add_document(w.draft_a, by=w.staff_a, title="草稿附件", upload=pdf_upload())


def _call_form(w):
    from tests.calls.helpers import valid_form

    return valid_form(scope=str(w.district_a.id))


RULES = [
    # staff back office
    Rule("calls.index", "GET", lambda w: "/staff/calls", allow=ALL_STAFF),
    Rule("calls.create", "GET", lambda w: "/staff/calls/new", allow=ALL_STAFF),
    # A district-A call form: staff B's scope choice is refused (422, still "OK" = not denied).
    Rule("calls.create", "POST", lambda w: "/staff/calls/new", allow=ALL_STAFF, data=_call_form),
    Rule("calls.show", "GET", lambda w: f"/staff/calls/{w.call_a.id}", allow=STAFF_A, setup=_call_a),
    Rule("calls.edit", "GET", lambda w: f"/staff/calls/{w.call_a.id}/edit", allow=STAFF_A, setup=_call_a),
    Rule("calls.edit", "POST", lambda w: f"/staff/calls/{w.draft_a.id}/edit", allow=STAFF_A, setup=_call_a, data=_call_form),
    Rule("calls.publish", "POST", lambda w: f"/staff/calls/{w.draft_a.id}/publish", allow=STAFF_A, setup=_call_a),
    Rule("calls.unpublish", "POST", lambda w: f"/staff/calls/{w.call_a.id}/unpublish", allow=STAFF_A, setup=_call_a),
    Rule("calls.archive", "POST", lambda w: f"/staff/calls/{w.draft_a.id}/archive", allow=STAFF_A, setup=_call_a),
    Rule("calls.upload_document", "POST", lambda w: f"/staff/calls/{w.draft_a.id}/documents", allow=STAFF_A, setup=_call_a),
    Rule(
        "calls.delete_document", "POST", lambda w: f"/staff/calls/{w.draft_a.id}/documents/{w.draft_doc_a.id}/delete",
        allow=STAFF_A, setup=_call_a,
    ),
    Rule(
        "calls.staff_document", "GET", lambda w: f"/staff/calls/{w.draft_a.id}/documents/{w.draft_doc_a.id}",
        allow=STAFF_A, setup=_call_a,
    ),
    # public site: published calls only
    Rule("calls.public_index", "GET", lambda w: "/calls", public=True),
    Rule("calls.public_detail", "GET", lambda w: f"/calls/{w.call_a.id}", public=True, setup=_call_a),
    Rule("calls.public_document", "GET", lambda w: f"/calls/{w.call_a.id}/documents/{w.doc_a.id}", public=True, setup=_call_a),
    # organisation side
    Rule("calls.for_org", "GET", lambda w: "/org/calls", allow=APPLICANTS),
]
