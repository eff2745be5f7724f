"""The applicant's own organisation page and contact editing by its org admin."""
from __future__ import annotations

from datetime import date

import pytest

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.orgs.models import AnnualReportResult, CreditKind, Organization, ServiceField, Verification
from tests.conftest import login_as
from tests.factories import make_org, make_user
from tests.orgs.helpers import make_credit, make_rating, make_report


def contact(**kw):
    data = {"address": "洛阳市洛龙区开元大道1号", "contact_name": "王芳", "contact_phone": "0379-63912345",
            "contact_email": "wang@example.cn", "fields": ["health", "elderly"], "staff_count": "8",
            "social_worker_count": "2", "has_party_org": "0", "party_org_note": "", "intro": "新简介"}
    data.update(kw)
    return data


@pytest.fixture()
def member(db):
    org = make_org(founded_on=date(2015, 1, 1))
    admin = make_user(Role.APPLICANT, org=org, is_org_admin=True)
    plain = make_user(Role.APPLICANT, org=org, is_org_admin=False)
    db.session.commit()
    return org, admin, plain


@pytest.mark.parametrize("status,expected", [
    (Verification.PENDING, "民政工作人员正在核对"),
    (Verification.VERIFIED, "当前状态：已认证"),
    (Verification.REJECTED, "驳回原因"),
])
def test_mine_says_what_happens_next(client, db, member, status, expected):
    org, admin, _ = member
    org.status = status
    org.rejection_reason = "代码与证书不符" if status == Verification.REJECTED else None
    db.session.commit()
    login_as(client, admin)
    html = client.get("/orgs/mine").get_data(as_text=True)
    assert expected in html
    if status == Verification.REJECTED:
        assert "代码与证书不符" in html and "/orgs/mine/resubmit" in html


def test_mine_shows_records_and_eligibility(client, db, member):
    org, admin, _ = member
    make_report(org, 2025, AnnualReportResult.FAIL)
    make_rating(org, grade=3, awarded_on=date(2024, 1, 1))
    make_credit(org, kind=CreditKind.ABNORMAL_LIST, start_on=date(2026, 1, 1), end_on=date(2099, 1, 1))
    db.session.commit()
    login_as(client, admin)
    html = client.get("/orgs/mine").get_data(as_text=True)
    for text in ["不合格", "3A", "活动异常名录", "目前不能申报项目", "2025年度）结论为不合格"]:
        assert text in html, text
    assert "登记年报结论" not in html  # staff forms are not shown to members


def test_staff_have_no_mine_page(client, db, member):
    login_as(client, make_user(Role.STAFF))
    assert client.get("/orgs/mine").status_code == 403


def test_org_admin_edits_contact_details(client, db, member):
    org, admin, _ = member
    login_as(client, admin)
    form = client.get("/orgs/mine/edit")
    assert form.status_code == 200 and org.contact_name in form.get_data(as_text=True)
    r = client.post("/orgs/mine/edit", data=contact(version=str(org.version_id), name="改名", uscc="91310110666007217T",
                                                    status="rejected", district_id="999"))
    assert r.status_code == 302
    db.session.refresh(org)
    assert (org.contact_name, org.contact_phone, org.staff_count) == ("王芳", "0379-63912345", 8)
    assert sorted(f.value for f in org.fields) == ["elderly", "health"]
    assert org.name != "改名" and org.status == Verification.VERIFIED and org.uscc != "91310110666007217T"
    audit = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "org.contact_updated"))
    assert audit.before["contact_name"] == "李四" and audit.after["contact_name"] == "王芳"


def test_plain_member_cannot_edit(client, db, member):
    _org, _admin, plain = member
    login_as(client, plain)
    assert client.get("/orgs/mine").status_code == 200
    assert client.get("/orgs/mine/edit").status_code == 403
    assert client.post("/orgs/mine/edit", data=contact()).status_code == 403


def test_contact_validation_keeps_input(client, db, member):
    org, admin, _ = member
    login_as(client, admin)
    r = client.post("/orgs/mine/edit", data=contact(contact_phone="123", social_worker_count="99", contact_name="赵六"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "正确的手机号或座机" in html and "不能多于专职工作人员数" in html and "赵六" in html


def test_stale_version_is_a_conflict(client, db, member):
    org, admin, _ = member
    login_as(client, admin)
    old = org.version_id
    org.contact_name = "别人刚改过"
    db.session.commit()
    r = client.post("/orgs/mine/edit", data=contact(version=str(old)))
    assert r.status_code == 409 and "已被他人修改" in r.get_data(as_text=True)
    db.session.refresh(org)
    assert org.contact_name == "别人刚改过"


def test_member_detail_url_redirects_to_mine_and_other_org_is_404(client, db, member):
    org, admin, _ = member
    other = make_org()
    db.session.commit()
    login_as(client, admin)
    r = client.get(f"/orgs/{org.id}")
    assert r.status_code == 302 and r.headers["Location"].endswith("/orgs/mine")
    for bad in (other.id, 0, 99999999999):
        assert client.get(f"/orgs/{bad}").status_code == 404
    for bad in ("-1", "abc"):
        assert client.get(f"/orgs/{bad}").status_code == 404
    assert ServiceField  # imported for the contact data above
    assert db.session.get(Organization, org.id) is not None
