"""Public pages show published calls only, with a countdown; the organisation sees its open calls."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from incubator.accounts.models import Role
from incubator.calls import services
from incubator.db import utcnow
from incubator.extensions import db as _db
from incubator.orgs.models import AnnualReport, AnnualReportResult, OrgType
from tests.calls.helpers import make_call, pdf_upload
from tests.conftest import login_as
from tests.factories import make_org, make_user


@pytest.fixture()
def calls(db, districts):
    now = utcnow()
    c = {
        "open": make_call(title="开放中的公益微创投通知"),
        "upcoming": make_call(title="即将开始的购买服务通知", opens_at=now + timedelta(days=3), closes_at=now + timedelta(days=20)),
        "closed": make_call(title="已截止的通知", opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=2)),
        "draft": make_call(title="尚未发布的草稿通知", published=False),
        "scheduled": make_call(title="定时发布的通知", published_at=now + timedelta(days=1)),
        "archived": make_call(title="已归档的旧通知", opens_at=now - timedelta(days=400), closes_at=now - timedelta(days=370),
                              archived_at=now - timedelta(days=300), published_at=now - timedelta(days=410)),
        "district_b": make_call(title="乙区专属养老通知", district=districts[1], district_orgs_only=True),
    }
    _db.session.commit()
    return c


@pytest.mark.parametrize(
    "seconds, text",
    [(3 * 86400 + 5 * 3600 + 59, "3天5小时0分59秒"), (5 * 3600 + 12 * 60 + 8, "5小时12分08秒"), (68, "1分08秒"), (-5, "0分00秒")],
)
def test_format_remaining(seconds, text):
    assert services.format_remaining(seconds) == text


def test_public_list_shows_published_calls_only(client, calls):
    body = client.get("/calls").get_data(as_text=True)
    for key in ("open", "upcoming", "closed", "district_b"):
        assert calls[key].title in body
    for key in ("draft", "scheduled", "archived"):
        assert calls[key].title not in body
    # open calls first, with a server-rendered countdown that works without JavaScript
    assert body.index("开放中的公益微创投通知") < body.index("即将开始的购买服务通知") < body.index("已截止的通知")
    assert "距截止还剩 9天23小时" in body or "距截止还剩 10天0小时" in body
    assert "距开始还有 " in body
    assert 'data-countdown-target="' in body and "js/calls.js" in body
    body = client.get("/calls?status=closed").get_data(as_text=True)
    assert "已截止的通知" in body and "开放中的公益微创投通知" not in body
    assert client.get("/calls?status=draft").status_code == 200
    assert "尚未发布的草稿通知" not in client.get("/calls?status=draft").get_data(as_text=True)


def test_public_detail(client, calls):
    call = calls["open"]
    call.notice = "第一段<script>alert(1)</script>\n第二段 <img src=x onerror=alert(1)>"
    call.grade_preference_note = "3A及以上优先"
    _db.session.commit()
    r = client.get(f"/calls/{call.id}")
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "第一段&lt;script&gt;alert(1)&lt;/script&gt;\n第二段 &lt;img" in body  # plain text, breaks kept
    assert "<script>alert(1)" not in body
    assert "¥1,000,000.00" in body and "¥10,000.00 – ¥100,000.00" in body
    assert "资助≤预算的60%" in body and "其余40%为配套资金" in body
    assert "申报条件" in body and "每个组织在本批次最多申报2个项目" in body
    assert "不作为申报门槛" in body
    assert "距截止还剩" in body
    for key in ("draft", "scheduled"):
        assert client.get(f"/calls/{calls[key].id}").status_code == 404
    assert client.get(f"/calls/{calls['archived'].id}").status_code == 200  # old links keep working
    for bad in ("0", "-1", "99999999999", "abc"):
        assert client.get(f"/calls/{bad}").status_code == 404


def test_documents_download_only_for_published_calls(client, calls, staff):
    doc = services.add_document(calls["open"], by=staff, title="申报指南", upload=pdf_upload())
    draft_doc = services.add_document(calls["draft"], by=staff, title="内部草稿", upload=pdf_upload("草稿.pdf"))
    _db.session.commit()
    body = client.get(f"/calls/{calls['open'].id}").get_data(as_text=True)
    assert "申报指南" in body
    r = client.get(f"/calls/{calls['open'].id}/documents/{doc.id}")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert "attachment" in r.headers["Content-Disposition"] or r.mimetype == "application/pdf"
    r.close()
    assert client.get(f"/calls/{calls['draft'].id}/documents/{draft_doc.id}").status_code == 404
    # a published call's URL with a draft's document id
    assert client.get(f"/calls/{calls['open'].id}/documents/{draft_doc.id}").status_code == 404
    from incubator.core.audit import AuditLog

    assert _db.session.scalar(_db.select(AuditLog).where(AuditLog.action == "call.document_add", AuditLog.object_id == calls["open"].id))


def test_staff_upload_refuses_bad_files(client, calls, staff):
    import io

    _db.session.commit()  # the staff user must survive the view's rollback of the refused upload
    login_as(client, staff)
    call = calls["draft"]
    r = client.post(f"/staff/calls/{call.id}/documents", data={"title": "假PDF", "file": (io.BytesIO(b"<html><script>x</script></html>"), "guide.pdf")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "上传失败" in r.get_data(as_text=True)
    assert call.documents == []
    r = client.post(f"/staff/calls/{call.id}/documents", data={"title": "", "file": (io.BytesIO(pdf_upload().stream.read()), "../../etc/passwd.pdf")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "文件已上传" in r.get_data(as_text=True)
    _db.session.expire_all()
    (doc,) = call.documents
    assert doc.title == "passwd.pdf" and doc.file.original_name == "passwd.pdf"


def test_home_page_lists_open_calls(client, calls):
    body = client.get("/").get_data(as_text=True)
    assert "开放中的公益微创投通知" in body and "即将开始的购买服务通知" in body
    assert "尚未发布的草稿通知" not in body and "已截止的通知" not in body
    assert 'href="/calls"' in body  # portal navigation


def _eligible_org(district):
    org = make_org(district=district, org_type=OrgType.SOCIAL_SERVICE_ORG)
    _db.session.add(AnnualReport(org=org, year=utcnow().year - 1, result=AnnualReportResult.PASS))
    _db.session.add(AnnualReport(org=org, year=utcnow().year - 2, result=AnnualReportResult.PASS))
    return org


def test_organisation_sees_its_open_calls_with_eligibility(client, calls, districts):
    org = _eligible_org(districts[0])
    calls["upcoming"].allowed_org_types = ["foundation"]
    user = make_user(Role.APPLICANT, org=org)
    _db.session.commit()
    login_as(client, user)
    r = client.get("/org/calls")
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "开放中的公益微创投通知" in body and "即将开始的购买服务通知" in body
    for key in ("closed", "draft", "scheduled", "archived", "district_b"):
        assert calls[key].title not in body
    assert "符合申报条件" in body
    assert "本批次只接受基金会申报" in body  # the upcoming call's reason
    assert "距截止还剩" in body and "距开始还有" in body
    # the start button (applications.start) for the open, eligible call only
    assert f'action="/calls/{calls["open"].id}/apply"' in body
    assert f'action="/calls/{calls["upcoming"].id}/apply"' not in body


def test_organisation_of_district_b_sees_its_district_call(client, calls, districts):
    org = _eligible_org(districts[1])
    user = make_user(Role.APPLICANT, org=org)
    _db.session.commit()
    login_as(client, user)
    body = client.get("/org/calls").get_data(as_text=True)
    assert "乙区专属养老通知" in body


def test_org_list_query_count_does_not_grow(client, calls, districts):
    from sqlalchemy import event

    org = _eligible_org(districts[0])
    user = make_user(Role.APPLICANT, org=org)
    _db.session.commit()
    login_as(client, user)

    def count():
        _db.session.commit()
        _db.session.expire_all()  # every run starts from the same cold session
        n = [0]

        def before(*a, **k):
            n[0] += 1

        event.listen(_db.engine, "before_cursor_execute", before)
        try:
            assert client.get("/org/calls").status_code == 200
        finally:
            event.remove(_db.engine, "before_cursor_execute", before)
        return n[0]

    few = count()
    for _ in range(8):
        make_call()
    assert count() == few


def test_staff_and_others_cannot_use_the_org_page(client, staff):
    login_as(client, staff)
    assert client.get("/org/calls").status_code == 403
