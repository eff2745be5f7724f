"""Admin user management: list, search, filters, create, role changes, disable, reset 2FA."""
from __future__ import annotations

import pytest

from incubator.accounts import two_factor
from incubator.accounts.models import RecoveryCode, Role, User
from incubator.core.audit import AuditLog
from tests.accounts.helpers import STAFF_PASSWORD, enrolled, is_logged_in, link_from, post_login, token_path
from tests.conftest import login_as
from tests.factories import PASSWORD, make_district, make_org, make_user


@pytest.fixture()
def admin_client(client, db):
    admin = make_user(Role.ADMIN, email="root@example.cn", name="管理员")
    db.session.commit()
    login_as(client, admin)
    client.admin = admin
    return client


def test_users_list_search_filters_and_pagination(admin_client, db):
    d1, d2 = make_district(name="涧西区"), make_district(name="西工区")
    make_user(Role.STAFF, name="张涧西", email="zhang@example.cn", district=d1, mobile="13800000001")
    make_user(Role.STAFF, name="李市级", email="li@example.cn")
    make_user(Role.STAFF, name="王西工", email="wang@example.cn", district=d2, active=False)
    make_user(Role.EXPERT, name="赵专家", email="zhao@example.cn")
    for i in range(25):
        make_user(Role.APPLICANT, name=f"申报人{i:02d}", email=f"app{i}@example.cn")
    db.session.commit()
    c = admin_client

    def names(**args):
        html = c.get("/admin/users", query_string=args).get_data(as_text=True)
        return html

    page1 = names()
    assert 'data-testid="user-count">30<' in page1 and "下一页" in page1
    assert "申报人24" in page1 and "申报人00" not in page1  # newest first, 20 per page
    assert "申报人00" in names(page=2)
    assert "张涧西" in names(q="涧西") and "李市级" not in names(q="涧西")
    assert "张涧西" in names(q="ZHANG@") and "张涧西" in names(q="13800000001")
    only_staff = names(role="staff")
    assert "张涧西" in only_staff and "赵专家" not in only_staff
    assert "张涧西" in names(district=str(d1.id)) and "王西工" not in names(district=str(d1.id))
    city = names(district="city")
    assert "李市级" in city and "张涧西" not in city
    disabled = names(active="0")
    assert "王西工" in disabled and "张涧西" not in disabled


@pytest.mark.parametrize(
    "args",
    [{"q": "' OR 1=1--"}, {"q": "%"}, {"q": "_"}, {"role": "' OR 1=1--"}, {"district": "abc"}, {"district": "-1"},
     {"district": "99999999999"}, {"active": "yes"}, {"page": "abc"}, {"page": "-1"}, {"page": "99999999999"},
     {"q": "<script>alert(1)</script>"}, {"q": "x" * 5000}],
)
def test_users_list_bad_filters(admin_client, db, args):
    make_user(Role.EXPERT, name="赵专家")
    db.session.commit()
    r = admin_client.get("/admin/users", query_string=args)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    if args.get("q") in ("' OR 1=1--", "%", "_"):
        assert "赵专家" not in html  # no injection, wildcards escaped


def test_users_list_query_count_is_constant(admin_client, db):
    from sqlalchemy import event

    from incubator.extensions import db as _db

    def count_queries(n):
        for i in range(n):
            org = make_org()
            make_user(Role.APPLICANT, org=org)
            make_user(Role.STAFF, district=make_district())
        db.session.commit()
        seen = []
        listener = lambda *a: seen.append(1)  # noqa: E731
        event.listen(_db.engine, "before_cursor_execute", listener)
        try:
            assert admin_client.get("/admin/users").status_code == 200
        finally:
            event.remove(_db.engine, "before_cursor_execute", listener)
        return len(seen)

    few = count_queries(2)
    many = count_queries(8)
    assert many == few


def test_create_staff_user_mails_invitation_and_audits(admin_client, db, outbox):
    district = make_district(name="老城区")
    db.session.commit()
    r = admin_client.post("/admin/users/new", data={
        "name": "周工作", "email": "Zhou@Example.cn", "mobile": "13700137000", "role": "staff",
        "district_id": str(district.id), "org_id": "", "is_admin": "1", "active": "0", "session_version": "5",
    })
    assert r.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "zhou@example.cn"))
    assert user.role == Role.STAFF and user.district_id == district.id and user.active and user.session_version == 0
    row = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "user_created"))
    assert row.after["role"] == "staff" and row.after["district_id"] == district.id
    path = token_path(link_from(outbox.last("zhou@example.cn")[2]))
    c = admin_client.application.test_client()
    assert c.post(path, data={"password": "short pass 1", "confirm": "short pass 1"}).status_code == 302
    r = post_login(c, "zhou@example.cn", "short pass 1")
    assert r.headers["Location"] == "/login/setup-2fa"  # staff must enrol TOTP at first login


def test_create_city_staff_and_other_roles(admin_client, db, outbox):
    r = admin_client.post("/admin/users/new", data={"name": "市局", "email": "city@example.cn", "role": "staff",
                                                     "district_id": ""})
    assert r.status_code == 302
    assert db.session.scalar(db.select(User).where(User.email == "city@example.cn")).is_city_staff
    district = make_district()
    db.session.commit()
    r = admin_client.post("/admin/users/new", data={"name": "财务", "email": "fin@example.cn", "role": "finance",
                                                     "district_id": str(district.id)})
    assert r.status_code == 302
    fin = db.session.scalar(db.select(User).where(User.email == "fin@example.cn"))
    assert fin.role == Role.FINANCE and fin.district_id is None  # only staff carry a district


def test_create_applicant_needs_an_organisation(admin_client, db, outbox):
    r = admin_client.post("/admin/users/new", data={"name": "甲", "email": "a@example.cn", "role": "applicant"})
    assert r.status_code == 422 and "必须属于一个组织" in r.get_data(as_text=True)
    org = make_org()
    db.session.commit()
    r = admin_client.post("/admin/users/new", data={"name": "甲", "email": "a@example.cn", "role": "applicant",
                                                     "org_id": str(org.id), "is_org_admin": "y"})
    assert r.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "a@example.cn"))
    assert user.org_id == org.id and user.is_org_admin


@pytest.mark.parametrize(
    "data, message",
    [({"role": "superuser"}, "请从列表中选择"), ({"district_id": "abc"}, "选项无效"), ({"district_id": "999999"}, "请从列表中选择"),
     ({"email": "root@example.cn"}, "已被其他账号使用"), ({"email": "ROOT@example.cn "}, "已被其他账号使用"),
     ({"email": "bad"}, "邮箱格式不正确"), ({"name": "x\x00y"}, "空字符"), ({"mobile": "1380013800"}, "11 位手机号码")],
)
def test_create_user_bad_inputs(admin_client, db, outbox, data, message):
    base = {"name": "测试", "email": "t@example.cn", "role": "expert", "district_id": ""}
    r = admin_client.post("/admin/users/new", data={**base, **data})
    assert r.status_code in (409, 422) and message in r.get_data(as_text=True)
    assert 'value="测试"' in r.get_data(as_text=True) or "name" in data  # keeps what was typed


def test_role_change_audited_with_before_and_after_and_ends_sessions(admin_client, db):
    d1 = make_district()
    user = make_user(Role.EXPERT, email="e@example.cn")
    db.session.commit()
    theirs = admin_client.application.test_client()
    post_login(theirs, "e@example.cn", PASSWORD)
    assert is_logged_in(theirs)
    r = admin_client.post(f"/admin/users/{user.id}", data={"role": "staff", "district_id": str(d1.id)})
    assert r.status_code == 302
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.role == Role.STAFF and fresh.district_id == d1.id
    row = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "role_changed"))
    assert row.before["role"] == "expert" and row.after["role"] == "staff" and row.after["district_id"] == d1.id
    assert row.actor_id == admin_client.admin.id
    assert not is_logged_in(theirs)


def test_edit_ignores_extra_fields(admin_client, db):
    user = make_user(Role.EXPERT, email="e@example.cn")
    db.session.commit()
    admin_client.post(f"/admin/users/{user.id}", data={"role": "expert", "email": "evil@example.cn", "active": "0",
                                                       "password_hash": "x", "totp_enabled": "1", "name": "改名"})
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.email == "e@example.cn" and fresh.active and not fresh.totp_enabled and fresh.name != "改名"


def test_last_admin_cannot_be_demoted_or_disabled(admin_client, db):
    me = admin_client.admin
    r = admin_client.post(f"/admin/users/{me.id}", data={"role": "expert"})
    assert r.status_code == 409 and "最后一位系统管理员" in r.get_data(as_text=True)
    r = admin_client.post(f"/admin/users/{me.id}/disable")
    assert r.status_code == 409 and "不能停用自己" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, me.id).role == Role.ADMIN and db.session.get(User, me.id).active


def test_disable_ends_sessions_and_enable_restores_login(admin_client, db):
    user = make_user(Role.EVALUATOR, email="ev@example.cn")
    db.session.commit()
    theirs = admin_client.application.test_client()
    post_login(theirs, "ev@example.cn", PASSWORD)
    assert is_logged_in(theirs)
    assert admin_client.get(f"/admin/users/{user.id}/disable").status_code == 405
    r = admin_client.post(f"/admin/users/{user.id}/disable")
    assert r.status_code == 302
    assert not is_logged_in(theirs)
    assert post_login(theirs, "ev@example.cn", PASSWORD).status_code == 422
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "user_disabled"))
    admin_client.post(f"/admin/users/{user.id}/enable")
    assert post_login(theirs, "ev@example.cn", PASSWORD).status_code == 302


def test_disable_button_asks_for_confirmation(admin_client, db):
    user = make_user(Role.EVALUATOR)
    db.session.commit()
    html = admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert 'data-confirm="确定停用' in html


def test_reset_two_factor(admin_client, db):
    user = make_user(Role.FINANCE, email="f@example.cn")
    enrolled(user)
    two_factor.new_recovery_codes(user)
    db.session.commit()
    r = admin_client.post(f"/admin/users/{user.id}/reset-2fa")
    assert r.status_code == 302
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert not fresh.totp_enabled and fresh.totp_secret is None and fresh.session_version == 1
    assert db.session.scalar(db.select(db.func.count(RecoveryCode.id))) == 0
    c = admin_client.application.test_client()
    assert post_login(c, "f@example.cn", PASSWORD).headers["Location"] == "/login/setup-2fa"
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "2fa_reset"))


def test_send_password_link(admin_client, db, outbox):
    user = make_user(Role.EXPERT, email="ex@example.cn")
    db.session.commit()
    assert admin_client.post(f"/admin/users/{user.id}/send-password-link").status_code == 302
    assert "/password/reset/" in outbox.last("ex@example.cn")[2]


@pytest.mark.parametrize("target", ["0", "-1", "99999999999", "abc"])
def test_bad_user_ids(admin_client, db, target):
    assert admin_client.get(f"/admin/users/{target}").status_code == 404
    assert admin_client.post(f"/admin/users/{target}/disable").status_code == 404


def test_non_admins_get_403(client, db):
    for role in (Role.STAFF, Role.FINANCE, Role.APPLICANT):
        user = make_user(role)
        db.session.commit()
        c = client.application.test_client()
        login_as(c, user)
        assert c.get("/admin/users").status_code == 403
        assert c.post(f"/admin/users/{user.id}", data={"role": "admin"}).status_code == 403
        db.session.expire_all()
        assert db.session.get(User, user.id).role == role


def test_staff_password_policy_via_invitation(admin_client, db, outbox):
    admin_client.post("/admin/users/new", data={"name": "周", "email": "z@example.cn", "role": "admin"})
    path = token_path(link_from(outbox.last("z@example.cn")[2]))
    c = admin_client.application.test_client()
    r = c.post(path, data={"password": "eleven char", "confirm": "eleven char"})
    assert r.status_code == 422 and "至少需要 12 个字符" in r.get_data(as_text=True)
    assert c.post(path, data={"password": STAFF_PASSWORD, "confirm": STAFF_PASSWORD}).status_code == 302
