"""Verification by staff: the state table, the views, rejection and resubmission."""
from __future__ import annotations

import itertools

import pytest

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.core.states import InvalidTransition, StatusHistory, transition
from incubator.orgs import services
from incubator.orgs.models import Organization, Verification
from incubator.orgs.uscc import make_code
from tests.conftest import login_as
from tests.factories import make_district, make_org, make_user
from tests.orgs.helpers import make_region, registration_data

PAIRS = list(itertools.product(Verification, Verification))


@pytest.mark.parametrize("current,target", PAIRS, ids=[f"{a.value}->{b.value}" for a, b in PAIRS])
def test_transition_table(db, current, target):
    staff = make_user(Role.STAFF)
    org = make_org(status=current)
    allowed = target in Organization.TRANSITIONS[current]
    if allowed:
        transition(org, target, by=staff, note="测试")
        assert org.status == target
        row = db.session.scalar(db.select(StatusHistory).where(StatusHistory.object_id == org.id))
        assert (row.from_status, row.to_status, row.by_id) == (current.value, target.value, staff.id)
    else:
        with pytest.raises(InvalidTransition):
            transition(org, target, by=staff)
        assert org.status == current


def test_expected_table():
    assert {(a, b) for a, b in PAIRS if b in Organization.TRANSITIONS[a]} == {
        (Verification.PENDING, Verification.VERIFIED),
        (Verification.PENDING, Verification.REJECTED),
        (Verification.REJECTED, Verification.PENDING),
    }


@pytest.fixture()
def world(db):
    d_a, d_b = make_district(name="甲区", code="410302"), make_district(name="乙区", code="410303")
    org = make_org(district=d_a, status=Verification.PENDING)
    member = make_user(Role.APPLICANT, org=org, is_org_admin=True)
    staff_a = make_user(Role.STAFF, district=d_a)
    staff_b = make_user(Role.STAFF, district=d_b)
    db.session.commit()
    return org, member, staff_a, staff_b


def test_staff_verifies(client, db, world):
    org, _member, staff_a, _ = world
    login_as(client, staff_a)
    r = client.post(f"/orgs/{org.id}/verify", data={"note": "证照齐全"})
    assert r.status_code == 302
    db.session.refresh(org)
    assert org.status == Verification.VERIFIED and org.verified_at is not None
    audit = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "organization.verified"))
    assert audit.actor_id == staff_a.id and audit.note == "证照齐全"


def test_verifying_twice_is_a_conflict(client, db, world):
    org, _member, staff_a, _ = world
    login_as(client, staff_a)
    client.post(f"/orgs/{org.id}/verify")
    r = client.post(f"/orgs/{org.id}/verify")
    assert r.status_code == 409 and "不允许的状态变更" in r.get_data(as_text=True)


def test_reject_needs_a_reason(client, db, world):
    org, _member, staff_a, _ = world
    login_as(client, staff_a)
    r = client.post(f"/orgs/{org.id}/reject", data={"reason": "   "})
    assert r.status_code == 422 and "请填写驳回原因" in r.get_data(as_text=True)
    db.session.refresh(org)
    assert org.status == Verification.PENDING


def test_district_staff_of_another_district_cannot_act(client, db, world):
    org, _member, _staff_a, staff_b = world
    login_as(client, staff_b)
    assert client.post(f"/orgs/{org.id}/verify").status_code == 404
    assert client.post(f"/orgs/{org.id}/reject", data={"reason": "x"}).status_code == 404
    db.session.refresh(org)
    assert org.status == Verification.PENDING


def test_member_cannot_verify_own_org(client, db, world):
    org, member, _staff_a, _ = world
    login_as(client, member)
    assert client.post(f"/orgs/{org.id}/verify").status_code == 403
    db.session.refresh(org)
    assert org.status == Verification.PENDING


def test_rejection_reason_reaches_the_member_who_corrects_and_resubmits(client, db, world):
    org, member, staff_a, _ = world
    login_as(client, staff_a)
    assert client.post(f"/orgs/{org.id}/reject", data={"reason": "登记证书扫描件不清晰，请补充"}).status_code == 302
    db.session.refresh(org)
    assert org.status == Verification.REJECTED and org.rejection_reason == "登记证书扫描件不清晰，请补充"

    member_client = client.application.test_client()
    login_as(member_client, member)
    page = member_client.get("/orgs/mine").get_data(as_text=True)
    assert "已驳回" in page and "登记证书扫描件不清晰，请补充" in page and "修改并重新提交" in page

    form = member_client.get("/orgs/mine/resubmit")
    assert form.status_code == 200 and org.name in form.get_data(as_text=True)

    from tests.factories import make_street

    street = make_street(org.district, name="西关街道")
    db.session.commit()
    data = registration_data(org.district, street, None, name="更正后的组织名称", uscc=make_code("52", "410302", "MJ0000011"),
                             version=str(org.version_id), status="verified")
    r = member_client.post("/orgs/mine/resubmit", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)
    db.session.refresh(org)
    assert org.status == Verification.PENDING and org.name == "更正后的组织名称" and org.rejection_reason is None
    assert org.street_id == street.id
    history = [h.to_status for h in db.session.scalars(db.select(StatusHistory).where(StatusHistory.object_id == org.id).order_by(StatusHistory.id))]
    assert history == ["rejected", "pending"]
    assert services.count_pending_verification(staff_a) == 1


def test_resubmit_is_only_for_rejected_orgs(client, db, world):
    org, member, _staff_a, _ = world
    login_as(client, member)
    r = client.post("/orgs/mine/resubmit", data={"name": "x"})
    assert r.status_code == 302
    db.session.refresh(org)
    assert org.status == Verification.PENDING and org.name != "x"


def test_resubmit_with_errors_keeps_input(client, db, world):
    org, member, staff_a, _ = world
    services.reject(org, by=staff_a, reason="代码有误")
    db.session.commit()
    login_as(client, member)
    r = client.post("/orgs/mine/resubmit", data={"name": "新名称", "uscc": "91310110666007217T", "org_type": "social_service_org"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "新名称" in html and "不是民政部门登记的社会组织代码" in html


def test_pending_orgs_list_and_count(client, db, world):
    org, _member, staff_a, staff_b = world
    assert services.count_pending_verification(staff_a) == 1
    assert services.count_pending_verification(staff_b) == 0
    login_as(client, staff_a)
    html = client.get("/orgs/pending").get_data(as_text=True)
    assert org.name in html


def test_registration_then_verification_end_to_end(client, db):
    district, street, community = make_region()
    staff = make_user(Role.STAFF, district=district)
    db.session.commit()
    assert client.post("/orgs/register", data=registration_data(district, street, community)).status_code == 302
    org = db.session.scalar(db.select(Organization))
    from incubator.orgs.eligibility import check_eligibility

    assert not check_eligibility(org).ok and "尚未通过民政部门认证" in check_eligibility(org).reasons[0]
    login_as(client, staff)
    assert client.post(f"/orgs/{org.id}/verify").status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, org.id).status == Verification.VERIFIED
