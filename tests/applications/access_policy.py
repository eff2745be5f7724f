"""Who may reach each route of the applications domain (tests/test_access.py walks these).

Org A owns every application here. Its members read and edit; staff of district A, city staff and
admins read submitted ones (never drafts); everyone else — org B, district B staff, experts,
finance, evaluators — is denied, by direct URL too.
"""
from tests.access import DENY, OK, Rule

MEMBER_A = {"applicant_a": OK}
APPLICANTS = {"applicant_a": OK, "applicant_b": OK}
READERS_A = {"applicant_a": OK, "staff_a": OK, "staff_city": OK, "admin": OK}


def _apps(w):
    """An open call; org A's complete draft with an attachment, and a submitted one with its PDF."""
    from werkzeug.datastructures import MultiDict

    from incubator.applications import services
    from incubator.applications.forms import parse_draft
    from incubator.applications.models import Application, ApplicationStatus, ApplicationVersion
    from incubator.core.files import save_generated
    from incubator.db import utcnow
    from incubator.extensions import db
    from tests.applications.helpers import PDF_BYTES, add_attachment_type, form_data, make_call, pdf_upload

    w.call = make_call()
    w.upload_type = add_attachment_type(w.call)
    member = w.applicant_a
    w.draft_a = Application(org=w.org_a, call=w.call, created_by_id=member.id, status=ApplicationStatus.DRAFT)
    db.session.add(w.draft_a)
    db.session.flush()
    services.save_draft(w.draft_a, draft=parse_draft(MultiDict(form_data(w.call)), w.call), by=member)
    w.att_a = services.add_attachment(w.draft_a, slot=f"type:{w.upload_type.id}", upload=pdf_upload(), by=member)

    w.sub_a = Application(org=w.org_a, call=w.call, created_by_id=member.id, status=ApplicationStatus.DRAFT)
    db.session.add(w.sub_a)
    db.session.flush()
    services.save_draft(w.sub_a, draft=parse_draft(MultiDict(form_data(w.call)), w.call), by=member)
    w.sub_a.number = "WCT-2026-0001"
    w.sub_a.status = ApplicationStatus.SUBMITTED
    w.sub_a.submitted_at = w.sub_a.last_submitted_at = utcnow()
    w.pdf = save_generated(PDF_BYTES, filename="申报书.pdf", content_type="application/pdf")
    w.version = ApplicationVersion(application=w.sub_a, number=1, status=ApplicationStatus.SUBMITTED,
                                   data=w.sub_a.snapshot(), submitted_by_id=member.id, pdf_file_id=w.pdf.id)
    db.session.add(w.version)
    # A version whose PDF failed: may be generated again.
    w.sub_nopdf = Application(org=w.org_a, call=w.call, created_by_id=member.id, status=ApplicationStatus.SUBMITTED,
                              number="WCT-2026-0002", submitted_at=utcnow())
    db.session.add(w.sub_nopdf)
    db.session.flush()
    db.session.add(ApplicationVersion(application=w.sub_nopdf, number=1, status=ApplicationStatus.SUBMITTED,
                                      data=w.sub_nopdf.snapshot(), submitted_by_id=member.id))
    db.session.flush()


def _form(w):
    from tests.applications.helpers import form_data

    return form_data(w.call, title="<script>alert(1)</script>", status="passed", org_id=str(w.org_b.id))


def _upload(w):
    import io

    from tests.applications.helpers import PDF_BYTES

    return {"slot": f"type:{w.upload_type.id}", "file": (io.BytesIO(PDF_BYTES), "证书.pdf")}


RULES = [
    Rule("applications.start", "POST", lambda w: f"/calls/{w.call.id}/apply", allow=APPLICANTS, setup=_apps),
    Rule("applications.mine", "GET", lambda w: "/applications/mine", allow=APPLICANTS),
    # submitted: org A's members and staff who see district A
    Rule("applications.detail", "GET", lambda w: f"/applications/{w.sub_a.id}", allow=READERS_A, setup=_apps),
    # a draft is the organisation's own business
    Rule("applications.detail", "GET", lambda w: f"/applications/{w.draft_a.id}", allow=MEMBER_A, setup=_apps),
    # an id beyond INTEGER does not even route: 404 for everyone, anonymous included
    Rule("applications.detail", "GET", lambda w: "/applications/99999999999", allow={"anonymous": DENY}, setup=_apps),
    Rule("applications.edit", "GET", lambda w: f"/applications/{w.draft_a.id}/edit", allow=MEMBER_A, setup=_apps),
    Rule("applications.save", "POST", lambda w: f"/applications/{w.draft_a.id}/edit", allow=MEMBER_A, setup=_apps, data=_form),
    # JSON endpoint: an anonymous caller gets 401 (the script keeps the form locally), not a redirect
    Rule("applications.autosave", "POST", lambda w: f"/applications/{w.draft_a.id}/autosave",
         allow={"applicant_a": OK, "anonymous": DENY}, setup=_apps, data=_form),
    Rule("applications.submit", "POST", lambda w: f"/applications/{w.draft_a.id}/submit", allow=MEMBER_A, setup=_apps, data=_form),
    Rule("applications.receipt", "GET", lambda w: f"/applications/{w.sub_a.id}/receipt", allow=READERS_A, setup=_apps),
    Rule("applications.withdraw", "POST", lambda w: f"/applications/{w.sub_a.id}/withdraw", allow=MEMBER_A, setup=_apps),
    Rule("applications.upload", "POST", lambda w: f"/applications/{w.draft_a.id}/attachments", allow=MEMBER_A, setup=_apps, data=_upload),
    Rule("applications.delete_attachment", "POST", lambda w: f"/applications/{w.draft_a.id}/attachments/{w.att_a.id}/delete",
         allow=MEMBER_A, setup=_apps),
    Rule("applications.file", "GET", lambda w: f"/applications/{w.draft_a.id}/files/{w.att_a.file_id}", allow=MEMBER_A, setup=_apps),
    Rule("applications.file", "GET", lambda w: f"/applications/{w.sub_a.id}/files/{w.pdf.id}", allow=READERS_A, setup=_apps),
    # a file id of another application through this application's URL
    Rule("applications.file", "GET", lambda w: f"/applications/{w.sub_a.id}/files/{w.att_a.file_id}", allow={}, setup=_apps),
    Rule("applications.pdf", "GET", lambda w: f"/applications/{w.sub_a.id}/pdf", allow=READERS_A, setup=_apps),
    Rule("applications.make_pdf", "POST", lambda w: f"/applications/{w.sub_nopdf.id}/versions/1/pdf", allow=MEMBER_A, setup=_apps),
]
