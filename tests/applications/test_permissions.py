"""Another organisation can neither read, edit, autosave, submit, withdraw nor download — by any URL."""
from __future__ import annotations

import pytest

from incubator.accounts.models import Role
from incubator.applications import services
from incubator.applications.models import Application, ApplicationStatus
from incubator.core.files import save_generated
from incubator.extensions import db as _db
from tests.applications.helpers import (
    PDF_BYTES,
    add_attachment_type,
    form_data,
    make_application,
    make_call,
    make_member,
    make_org,
    pdf_upload,
)
from tests.conftest import login_as
from tests.factories import make_district, make_user


@pytest.fixture()
def setting(db):
    """Org A (district A) with a draft carrying an attachment and a submitted application with a PDF."""
    district_a, district_b = make_district(), make_district()
    call = make_call()
    kind = add_attachment_type(call)
    org_a, org_b = make_org(district=district_a), make_org(district=district_b)
    member_a, member_b = make_member(org_a), make_member(org_b)
    draft = make_application(call, org_a, by=member_a)
    att = services.add_attachment(draft, slot=f"type:{kind.id}", upload=pdf_upload(), by=member_a)
    sub = make_application(call, org_a, by=member_a)
    services.add_attachment(sub, slot=f"type:{kind.id}", upload=pdf_upload(), by=member_a)
    services.submit(sub, by=member_a)
    sub.versions[0].pdf_file_id = save_generated(PDF_BYTES, filename="申报书.pdf", content_type="application/pdf").id
    _db.session.commit()
    return dict(call=call, org_a=org_a, member_a=member_a, member_b=member_b, draft=draft, att=att, sub=sub,
                district_a=district_a, district_b=district_b)


def _urls(s):
    d, sub, att = s["draft"], s["sub"], s["att"]
    return [
        ("GET", f"/applications/{d.id}"),
        ("GET", f"/applications/{d.id}/edit"),
        ("POST", f"/applications/{d.id}/edit"),
        ("POST", f"/applications/{d.id}/autosave"),
        ("POST", f"/applications/{d.id}/submit"),
        ("POST", f"/applications/{d.id}/attachments"),
        ("POST", f"/applications/{d.id}/attachments/{att.id}/delete"),
        ("GET", f"/applications/{d.id}/files/{att.file_id}"),
        ("GET", f"/applications/{sub.id}"),
        ("GET", f"/applications/{sub.id}/receipt"),
        ("POST", f"/applications/{sub.id}/withdraw"),
        ("GET", f"/applications/{sub.id}/pdf"),
        ("GET", f"/applications/{sub.id}/files/{sub.versions[0].pdf_file_id}"),
        ("GET", f"/applications/{sub.id}/files/{sub.attachments[0].file_id}"),
        ("POST", f"/applications/{sub.id}/versions/1/pdf"),
    ]


def test_another_organisation_is_refused_everywhere(client, setting):
    login_as(client, setting["member_b"])
    for method, url in _urls(setting):
        r = client.open(url, method=method, data=form_data(status="draft"))
        assert r.status_code in (403, 404), (method, url, r.status_code)
    _db.session.expire_all()
    draft = _db.session.get(Application, setting["draft"].id)
    sub = _db.session.get(Application, setting["sub"].id)
    assert draft.title == "“银龄互助”社区居家养老服务项目" and len(draft.attachments) == 1
    assert draft.status == ApplicationStatus.DRAFT and sub.status == ApplicationStatus.SUBMITTED


@pytest.mark.parametrize("bad", ["0", "-1", "99999999999", "abc", "1.5", "%00"])
def test_odd_ids_are_404_never_500(client, setting, bad):
    login_as(client, setting["member_a"])
    sub = setting["sub"]
    for method, url in [
        ("GET", f"/applications/{bad}"), ("GET", f"/applications/{bad}/edit"), ("POST", f"/applications/{bad}/edit"),
        ("POST", f"/applications/{bad}/autosave"), ("POST", f"/applications/{bad}/submit"),
        ("POST", f"/applications/{bad}/withdraw"), ("GET", f"/applications/{bad}/receipt"),
        ("GET", f"/applications/{bad}/pdf"), ("GET", f"/applications/{sub.id}/files/{bad}"),
        ("POST", f"/applications/{sub.id}/attachments/{bad}/delete"), ("POST", f"/calls/{bad}/apply"),
        ("POST", f"/applications/{sub.id}/versions/{bad}/pdf"),
    ]:
        r = client.open(url, method=method)
        # 404, or 405 where no route matches the odd id at all (ids beyond INTEGER never route)
        assert r.status_code in (404, 405), (method, url, r.status_code)


def test_a_file_of_one_application_is_not_served_through_another(client, setting):
    login_as(client, setting["member_a"])
    r = client.get(f"/applications/{setting['sub'].id}/files/{setting['att'].file_id}")
    assert r.status_code == 404
    r = client.get(f"/applications/{setting['draft'].id}/files/{setting['att'].file_id}")
    assert r.status_code == 200 and r.data == PDF_BYTES
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_staff_read_submitted_applications_of_their_district_only(client, setting):
    sub, draft = setting["sub"], setting["draft"]
    staff_a = make_user(Role.STAFF, district=setting["district_a"])
    staff_b = make_user(Role.STAFF, district=setting["district_b"])
    city = make_user(Role.STAFF)
    expert = make_user(Role.EXPERT)
    _db.session.commit()
    assert sub.can_view(staff_a) and sub.can_view(city) and not sub.can_view(staff_b) and not sub.can_view(expert)
    assert not draft.can_view(staff_a) and not draft.can_view(city)  # drafts are private
    assert not sub.can_edit(staff_a) and not sub.can_edit(setting["member_a"])  # submitted: nobody edits
    assert draft.can_edit(setting["member_a"]) and not draft.can_edit(setting["member_b"])
    login_as(client, staff_a)
    assert client.get(f"/applications/{sub.id}").status_code == 200
    assert client.get(f"/applications/{sub.id}/pdf").status_code == 200
    assert client.post(f"/applications/{sub.id}/withdraw").status_code == 403
    assert client.get(f"/applications/{draft.id}").status_code == 403
    login_as(client, staff_b)
    assert client.get(f"/applications/{sub.id}").status_code == 403
    assert client.get(f"/applications/{sub.id}/pdf").status_code == 403


def test_a_former_member_loses_access(client, setting):
    member = setting["member_a"]
    member.org_id = None
    _db.session.commit()
    login_as(client, member)
    assert client.get(f"/applications/{setting['draft'].id}").status_code == 403


def test_mine_lists_only_the_own_organisation(client, setting):
    org_b_app = make_application(setting["call"], make_org(), by=None)
    _db.session.commit()
    login_as(client, setting["member_a"])
    page = client.get("/applications/mine").text
    assert page.count("/applications/") >= 2
    assert f"/applications/{org_b_app.id}\"" not in page
