"""The account security page: change password and e-mail with re-authentication (ASVS 7.5.1)."""
from __future__ import annotations

import pytest

from incubator.accounts.models import Role, User
from incubator.core.audit import AuditLog
from tests.accounts.helpers import STRONG, is_logged_in, post_login
from tests.conftest import login_as
from tests.factories import PASSWORD, make_district, make_org, make_user


def _change_password(client, current, new, confirm=None, **extra):
    data = {"current_password": current, "password": new, "confirm": new if confirm is None else confirm, **extra}
    return client.post("/account/security/password", data=data)


def test_security_page_for_every_role(client, db):
    for role in Role:
        user = make_user(role)
        db.session.commit()
        c = client.application.test_client()
        login_as(c, user)
        r = c.get("/account/security")
        assert r.status_code == 200 and "修改密码" in r.get_data(as_text=True)


def test_change_password_needs_current_password(client, db, outbox):
    user = make_user(email="li@example.cn")
    db.session.commit()
    login_as(client, user)
    r = _change_password(client, "wrong password", STRONG)
    assert r.status_code == 422 and "当前密码不正确" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).session_version == 0


def test_change_password_keeps_this_session_and_ends_others(app, db, outbox):
    make_user(email="li@example.cn")
    db.session.commit()
    mine, other = app.test_client(), app.test_client()
    post_login(mine, "li@example.cn", PASSWORD)
    post_login(other, "li@example.cn", PASSWORD)
    r = _change_password(mine, PASSWORD, STRONG)
    assert r.status_code == 302
    assert is_logged_in(mine)
    assert not is_logged_in(other)
    assert post_login(app.test_client(), "li@example.cn", STRONG).status_code == 302
    assert outbox.last("li@example.cn")[1] == "您的登录密码已修改"
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "password_changed"))


@pytest.mark.parametrize(
    "new, message",
    [("short", "至少需要 8 个字符"), ("密" * 1000, "最多 128 个字符"), ("iloveyou", "常见"), ("nul\x00nul\x00nul", "空字符")],
)
def test_change_password_policy(client, db, outbox, new, message):
    user = make_user()
    db.session.commit()
    login_as(client, user)
    r = _change_password(client, PASSWORD, new)
    assert r.status_code == 422 and message in r.get_data(as_text=True)


def test_change_password_emoji(client, db, outbox):
    user = make_user(email="li@example.cn")
    db.session.commit()
    login_as(client, user)
    assert _change_password(client, PASSWORD, "🐼🐼熊猫宝宝🎋🎋").status_code == 302
    assert post_login(client.application.test_client(), "li@example.cn", "🐼🐼熊猫宝宝🎋🎋").status_code == 302


def test_extra_fields_change_nothing(client, db, outbox):
    district = make_district()
    org = make_org()
    user = make_user(email="li@example.cn", org=org)
    db.session.commit()
    login_as(client, user)
    extra = {"role": "admin", "is_admin": "1", "district_id": str(district.id), "org_id": "999", "is_org_admin": "1",
             "active": "1", "session_version": "0", "totp_enabled": "1"}
    _change_password(client, PASSWORD, STRONG, **extra)
    client.post("/account/security/email", data={"email": "new@example.cn", "current_password": STRONG, **extra})
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.role == Role.APPLICANT and fresh.district_id is None and fresh.org_id == org.id
    assert not fresh.is_org_admin and not fresh.totp_enabled
    assert fresh.email == "new@example.cn"


def test_change_email_needs_current_password_and_notifies_old_address(client, db, outbox):
    user = make_user(email="old@example.cn")
    db.session.commit()
    login_as(client, user)
    r = client.post("/account/security/email", data={"email": "new@example.cn", "current_password": "nope nope"})
    assert r.status_code == 422 and "当前密码不正确" in r.get_data(as_text=True)
    r = client.post("/account/security/email", data={"email": " NEW@Example.cn ", "current_password": PASSWORD})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "new@example.cn"
    assert outbox.last("old@example.cn")[1] == "您的登录邮箱已修改"
    row = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "email_changed"))
    assert row.before == {"email": "old@example.cn"} and row.after == {"email": "new@example.cn"}


@pytest.mark.parametrize("variant", ["taken@example.cn", "TAKEN@example.cn", "ｔａｋｅｎ@example.cn", "tak\u200ben@example.cn"])
def test_change_email_to_a_taken_address(client, db, outbox, variant):
    make_user(email="taken@example.cn")
    user = make_user(email="me@example.cn")
    db.session.commit()
    login_as(client, user)
    r = client.post("/account/security/email", data={"email": variant, "current_password": PASSWORD})
    assert r.status_code == 422 and "已被其他账号使用" in r.get_data(as_text=True)


@pytest.mark.parametrize("bad", ["not-an-email", "<script>alert(1)</script>", "a@b.cn\r\nBcc: x@y.cn", "x" * 300 + "@a.cn"])
def test_change_email_bad_inputs(client, db, outbox, bad):
    user = make_user(email="me@example.cn")
    db.session.commit()
    login_as(client, user)
    r = client.post("/account/security/email", data={"email": bad, "current_password": PASSWORD})
    assert r.status_code == 422
    assert "<script>alert(1)</script>" not in r.get_data(as_text=True)


def test_wrong_current_passwords_count_as_failures(client, db, outbox):
    user = make_user()
    db.session.commit()
    login_as(client, user)
    for _ in range(5):
        assert _change_password(client, "wrong password", STRONG).status_code == 422
    r = _change_password(client, PASSWORD, STRONG)
    assert r.status_code == 429 and "登录失败次数过多" in r.get_data(as_text=True)


def test_security_requires_login(client, db):
    r = client.get("/account/security")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = client.post("/account/security/password", data={})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
