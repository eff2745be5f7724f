"""Organisation members: the org admin invites and removes; members see their own organisation."""
from __future__ import annotations

import pytest

from incubator.accounts.models import Role, User
from incubator.core.audit import AuditLog
from tests.accounts.helpers import STRONG, is_logged_in, link_from, post_login, token_path
from tests.conftest import login_as
from tests.factories import PASSWORD, make_district, make_org, make_user


@pytest.fixture()
def org_world(db):
    org, other = make_org(), make_org()
    admin = make_user(Role.APPLICANT, email="boss@example.cn", org=org, is_org_admin=True)
    member = make_user(Role.APPLICANT, email="m@example.cn", org=org)
    stranger = make_user(Role.APPLICANT, email="x@example.cn", org=other, is_org_admin=True)
    db.session.commit()
    return org, other, admin, member, stranger


def _invite(client, **data):
    base = {"name": "王五", "email": "wang@example.cn", "mobile": "13900139000"}
    return client.post("/org/members/invite", data={**base, **data})


def test_member_sees_own_org_only(client, db, org_world):
    org, other, admin, member, stranger = org_world
    login_as(client, member)
    html = client.get("/org/members").get_data(as_text=True)
    assert "boss@example.cn" in html and "m@example.cn" in html and "x@example.cn" not in html
    assert "邀请成员" not in html  # not an org admin


def test_invite_creates_applicant_and_mails_single_use_link(app, client, db, outbox, org_world):
    org, other, admin, member, stranger = org_world
    login_as(client, admin)
    r = _invite(client, name="王五\r\n[admin]", email=" Wang@Example.cn ")
    assert r.status_code == 302
    invited = db.session.scalar(db.select(User).where(User.email == "wang@example.cn"))
    assert invited.role == Role.APPLICANT and invited.org_id == org.id and not invited.is_org_admin
    assert invited.name == "王五 [admin]" and invited.mobile == "13900139000"
    body = outbox.last("wang@example.cn")[2]
    assert "72 小时" in body
    path = token_path(link_from(body))
    c = app.test_client()
    assert "设置登录密码" in c.get(path).get_data(as_text=True)
    assert c.post(path, data={"password": STRONG, "confirm": STRONG}).status_code == 302
    assert c.get(path).status_code == 404  # single use
    assert post_login(c, "13900139000", STRONG).status_code == 302
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "member_invited"))
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "invitation_accepted"))


def test_invite_cannot_choose_role_org_or_admin_flag(client, db, outbox, org_world):
    org, other, admin, member, stranger = org_world
    district = make_district()
    db.session.commit()
    login_as(client, admin)
    _invite(client, role="admin", is_admin="1", org_id=str(other.id), district_id=str(district.id), is_org_admin="1",
            active="0")
    invited = db.session.scalar(db.select(User).where(User.email == "wang@example.cn"))
    assert invited.role == Role.APPLICANT and invited.org_id == org.id
    assert not invited.is_org_admin and invited.district_id is None and invited.active


@pytest.mark.parametrize("variant", ["m@example.cn", "M@EXAMPLE.CN", " m@example.cn", "ｍ@example.cn", "m\u200b@example.cn"])
def test_invite_existing_email_refused(client, db, outbox, org_world, variant):
    org, other, admin, member, stranger = org_world
    login_as(client, admin)
    r = _invite(client, email=variant)
    assert r.status_code == 422 and "已被其他账号使用" in r.get_data(as_text=True)
    assert outbox == []


@pytest.mark.parametrize(
    "data, message",
    [({"name": ""}, "请输入姓名"), ({"email": "nope"}, "邮箱格式不正确"), ({"mobile": "12345"}, "11 位手机号码"),
     ({"name": "张" * 51}, "最多 50 个字"), ({"name": "a\x00b"}, "空字符")],
)
def test_invite_bad_inputs(client, db, outbox, org_world, data, message):
    org, other, admin, member, stranger = org_world
    login_as(client, admin)
    r = _invite(client, **data)
    assert r.status_code == 422 and message in r.get_data(as_text=True)


def test_invite_escapes_script(client, db, outbox, org_world):
    org, other, admin, member, stranger = org_world
    login_as(client, admin)
    _invite(client, name="<script>alert(1)</script>")
    html = client.get("/org/members").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_only_org_admin_invites_and_removes(client, db, outbox, org_world):
    org, other, admin, member, stranger = org_world
    login_as(client, member)
    assert _invite(client).status_code == 403
    assert client.post(f"/org/members/{admin.id}/remove").status_code == 403


def test_remove_member_ends_sessions(app, db, outbox, org_world):
    org, other, admin, member, stranger = org_world
    theirs = app.test_client()
    post_login(theirs, "m@example.cn", PASSWORD)
    assert is_logged_in(theirs)
    c = app.test_client()
    login_as(c, admin)
    r = c.post(f"/org/members/{member.id}/remove")
    assert r.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, member.id).active
    assert not is_logged_in(theirs)
    assert post_login(app.test_client(), "m@example.cn", PASSWORD).status_code == 422
    row = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "member_removed"))
    assert row.object_id == member.id and row.actor_id == admin.id


def test_cannot_remove_self_or_the_last_org_admin(client, db, org_world):
    org, other, admin, member, stranger = org_world
    login_as(client, admin)
    r = client.post(f"/org/members/{admin.id}/remove")
    assert r.status_code == 409 and "不能移除自己" in r.get_data(as_text=True)
    assert db.session.get(User, admin.id).active


def test_last_org_admin_rule_in_service(db, org_world):
    from incubator.accounts import services

    org, other, admin, member, stranger = org_world
    second = make_user(Role.APPLICANT, org=org, is_org_admin=True)
    services.remove_member(second, admin)  # another admin remains (second)
    assert not admin.active
    with pytest.raises(services.NotAllowed):
        services.remove_member(second, second)


@pytest.mark.parametrize("target", ["0", "-1", "99999999999", "abc"])
def test_remove_bad_ids(client, db, org_world, target):
    org, other, admin, member, stranger = org_world
    login_as(client, admin)
    assert client.post(f"/org/members/{target}/remove").status_code == 404


def test_remove_member_of_another_org_is_404(client, db, org_world):
    org, other, admin, member, stranger = org_world
    login_as(client, admin)
    assert client.post(f"/org/members/{stranger.id}/remove").status_code == 404
    assert db.session.get(User, stranger.id).active


def test_removed_member_can_be_invited_again(client, db, outbox, org_world):
    org, other, admin, member, stranger = org_world
    login_as(client, admin)
    client.post(f"/org/members/{member.id}/remove")
    r = _invite(client, email="m@example.cn", name="重新加入", mobile="")
    assert r.status_code == 302
    db.session.expire_all()
    back = db.session.get(User, member.id)
    assert back.active and back.name == "重新加入"
    assert post_login(client.application.test_client(), "m@example.cn", PASSWORD).status_code == 422  # old password gone


def test_non_applicants_have_no_members_page(client, db):
    for role in (Role.STAFF, Role.EXPERT, Role.ADMIN):
        user = make_user(role)
        db.session.commit()
        c = client.application.test_client()
        login_as(c, user)
        assert c.get("/org/members").status_code == 403
