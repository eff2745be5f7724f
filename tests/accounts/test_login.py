"""Login, logout, sessions (SECURITY.md "Sessions and login"; bad inputs 1, 6, 11, 12, 13)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from incubator.accounts.models import LoginFailure, Role, User
from incubator.core.audit import AuditLog
from incubator.db import utcnow
from tests.accounts.helpers import is_logged_in, post_login, user_with_password
from tests.factories import PASSWORD, make_org, make_user

BAD = "账号或密码错误"


def test_login_page_is_chinese(client):
    r = client.get("/login")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "登录工作台" in html and 'autocomplete="current-password"' in html


def test_login_with_email_sets_session_and_audits(client, db):
    user = make_user(email="li@example.cn")
    db.session.commit()
    r = post_login(client, "li@example.cn", PASSWORD)
    assert r.status_code == 302 and r.headers["Location"] == "/dashboard"
    assert is_logged_in(client)
    with client.session_transaction() as sess:
        assert sess["_user_id"] == f"{user.id}:0"
        assert "login_at" in sess
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "login", AuditLog.object_id == user.id))


@pytest.mark.parametrize("typed", ["LI@Example.CN", "  li@example.cn  ", "ｌｉ＠ｅｘａｍｐｌｅ．ｃｎ", "li\u200b@example.cn"])
def test_login_identifier_is_normalised(client, db, typed):
    make_user(email="li@example.cn")
    db.session.commit()
    assert post_login(client, typed, PASSWORD).status_code == 302


@pytest.mark.parametrize("typed", ["13800138000", "138 0013 8000", "+86 13800138000", "１３８００１３８０００"])
def test_login_with_mobile(client, db, typed):
    make_user(mobile="13800138000")
    db.session.commit()
    assert post_login(client, typed, PASSWORD).status_code == 302


def test_same_message_for_unknown_user_and_wrong_password(client, db):
    make_user(email="known@example.cn")
    db.session.commit()
    unknown = post_login(client, "nobody@example.cn", PASSWORD)
    wrong = post_login(client, "known@example.cn", "wrong password!")
    assert unknown.status_code == wrong.status_code == 422
    assert BAD in unknown.get_data(as_text=True) and BAD in wrong.get_data(as_text=True)
    strip = lambda r: r.get_data(as_text=True).replace("nobody@example.cn", "X").replace("known@example.cn", "X")  # noqa: E731
    # Apart from the typed identifier and the CSRF token the pages are the same.
    assert strip(unknown).split('name="csrf_token"')[0] == strip(wrong).split('name="csrf_token"')[0]
    assert not is_logged_in(client)


def test_typed_identifier_kept_password_not(client, db):
    r = post_login(client, "nobody@example.cn", "secret-value-123")
    html = r.get_data(as_text=True)
    assert 'value="nobody@example.cn"' in html and "secret-value-123" not in html


def test_disabled_account_cannot_log_in(client, db):
    make_user(email="off@example.cn", active=False)
    db.session.commit()
    r = post_login(client, "off@example.cn", PASSWORD)
    assert r.status_code == 422 and "已停用" in r.get_data(as_text=True)
    assert not is_logged_in(client)
    # Without the right password nothing says the account exists.
    r = post_login(client, "off@example.cn", "wrong password!")
    assert BAD in r.get_data(as_text=True) and "已停用" not in r.get_data(as_text=True)


@pytest.mark.parametrize(
    "password",
    ["x" * 1000, "密码" * 500, "\x00", "abc\x00def", "' OR 1=1--", "<script>alert(1)</script>"],
)
def test_bad_passwords_fail_cleanly(client, db, password):
    make_user(email="li@example.cn")
    db.session.commit()
    r = post_login(client, "li@example.cn", password)
    assert r.status_code == 422
    assert not is_logged_in(client)


@pytest.mark.parametrize(
    "identifier",
    ["' OR 1=1--", "admin'--", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a\x00@example.cn",
     "a" * 300 + "@example.cn", "张三\r\n登录成功", "🔥@🔥.cn"],
)
def test_bad_identifiers_fail_cleanly(client, db, identifier):
    make_user(email="li@example.cn")
    db.session.commit()
    r = post_login(client, identifier, PASSWORD)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert db.session.scalar(db.select(db.func.count(AuditLog.id)).where(AuditLog.action == "login")) == 0


def test_nul_byte_in_identifier_gets_a_clear_message(client, db):
    r = post_login(client, "a\x00@example.cn", PASSWORD)
    assert r.status_code == 422 and "空字符" in r.get_data(as_text=True)


def test_chinese_and_emoji_password_login(client, db):
    user_with_password(email="cn@example.cn", password="我的密码🔐很安全哦")
    db.session.commit()
    assert post_login(client, "cn@example.cn", "我的密码🔐很安全哦").status_code == 302


def test_huge_text_field_and_too_many_fields_are_refused(client, db):
    r = client.post("/login", data={"identifier": "x" * (10 * 1024 * 1024), "password": "x"})
    assert r.status_code in (413, 422)
    fields = {f"f{i}": "1" for i in range(2000)}
    assert client.post("/login", data=fields).status_code in (413, 422)
    # Multipart bodies stop at MAX_FORM_PARTS.
    assert client.post("/login", data=fields, content_type="multipart/form-data").status_code == 413


# --- new session, logout and revocation --------------------------------------------------------


def test_login_starts_a_new_session(client, db):
    make_user(email="li@example.cn")
    db.session.commit()
    with client.session_transaction() as sess:
        sess["planted"] = "attacker-chosen"
    post_login(client, "li@example.cn", PASSWORD)
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_logout_is_post_only_and_ends_every_session(app, db):
    user = make_user(email="li@example.cn")
    db.session.commit()
    a, b = app.test_client(), app.test_client()
    post_login(a, "li@example.cn", PASSWORD)
    post_login(b, "li@example.cn", PASSWORD)
    assert is_logged_in(a) and is_logged_in(b)
    assert a.get("/logout").status_code == 405  # a GET never changes state
    assert is_logged_in(a)
    r = a.post("/logout")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert not is_logged_in(a)
    assert not is_logged_in(b)  # the other browser with the old cookie is out too
    db.session.expire_all()
    assert db.session.get(User, user.id).session_version == 1


def test_stale_cookie_is_refused_after_logout(app, db):
    make_user(email="li@example.cn")
    db.session.commit()
    a = app.test_client()
    post_login(a, "li@example.cn", PASSWORD)
    old_cookie = a.get_cookie("session").value
    a.post("/logout")
    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    assert not is_logged_in(replay)


def test_absolute_timeout(client, db):
    make_user(email="li@example.cn")
    db.session.commit()
    post_login(client, "li@example.cn", PASSWORD)
    with client.session_transaction() as sess:
        sess["login_at"] = (utcnow() - timedelta(hours=13)).isoformat()
    r = client.get("/account/security")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_session_cookie_flags(client, db):
    make_user(email="li@example.cn")
    db.session.commit()
    r = post_login(client, "li@example.cn", PASSWORD)
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_outside_development(monkeypatch):
    from incubator.config import load_config

    monkeypatch.setenv("INCUBATOR_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-environment")
    cfg = load_config()
    assert cfg["SESSION_COOKIE_SECURE"] is True and cfg["SESSION_COOKIE_HTTPONLY"] is True
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_logged_in_user_visiting_login_goes_to_dashboard(client, db):
    make_user(email="li@example.cn")
    db.session.commit()
    post_login(client, "li@example.cn", PASSWORD)
    r = client.get("/login")
    assert r.status_code == 302 and r.headers["Location"] == "/dashboard"


# --- next= ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["//evil.com", "/\\evil.com", "https:evil.com", "https://evil.com/x", "http://localhost/x", "javascript:alert(1)",
     "/\r\nSet-Cookie:x=1", "\\\\evil.com", "/\t/evil.com", "evil.com", "////evil.com", "data:text/html,x"],
)
def test_no_open_redirect_after_login(client, db, target):
    make_user(email="li@example.cn")
    db.session.commit()
    from urllib.parse import quote

    r = post_login(client, "li@example.cn", PASSWORD, next_url=quote(target, safe=""))
    assert r.status_code == 302
    assert r.headers["Location"] == "/dashboard"


def test_next_to_a_local_page_is_followed(client, db):
    make_user(email="li@example.cn")
    db.session.commit()
    r = post_login(client, "li@example.cn", PASSWORD, next_url="/account/security%3Ftab%3D1")
    assert r.headers["Location"] == "/account/security?tab=1"


def test_login_required_page_round_trip(client, db):
    make_user(email="li@example.cn")
    db.session.commit()
    r = client.get("/account/security")
    assert r.status_code == 302 and "next=" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'value="/account/security"' in page
    r = client.post("/login", data={"identifier": "li@example.cn", "password": PASSWORD, "next": "/account/security"})
    assert r.headers["Location"] == "/account/security"


def test_safe_next_url_unit():
    from incubator.accounts.views import safe_next_url

    assert safe_next_url("/orgs/1?x=2#y") == "/orgs/1?x=2#y"
    for bad in ("//evil.com", "/\\evil.com", "https:evil.com", "http://evil.com", "", None, "/x\r\nLocation: y"):
        assert safe_next_url(bad) is None


# --- per-account limit ------------------------------------------------------------------------


def _from(client, ip):
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_account_locked_per_address_without_locking_the_real_user_out(app, db):
    make_user(email="li@example.cn")
    db.session.commit()
    attacker = _from(app.test_client(), "203.0.113.9")
    for _ in range(5):
        assert post_login(attacker, "li@example.cn", "guess guess").status_code == 422
    r = post_login(attacker, "li@example.cn", PASSWORD)  # even the right password now waits
    assert r.status_code == 429 and "登录失败次数过多" in r.get_data(as_text=True)
    assert not is_logged_in(attacker)
    owner = _from(app.test_client(), "198.51.100.7")
    assert post_login(owner, "li@example.cn", PASSWORD).status_code == 302
    assert db.session.scalar(db.select(db.func.count(LoginFailure.id))) == 5


def test_lock_counts_email_and_mobile_as_one_account(app, db):
    make_user(email="li@example.cn", mobile="13800138000")
    db.session.commit()
    c = _from(app.test_client(), "203.0.113.9")
    for ident in ["li@example.cn", "13800138000"] * 3:
        post_login(c, ident, "guess guess")
    assert post_login(c, "13800138000", PASSWORD).status_code == 429


def test_unknown_accounts_lock_the_same_way(app, db):
    c = _from(app.test_client(), "203.0.113.9")
    for _ in range(5):
        assert post_login(c, "ghost@example.cn", "guess guess").status_code == 422
    assert post_login(c, "ghost@example.cn", "guess guess").status_code == 429


def test_lock_expires(app, db):
    make_user(email="li@example.cn")
    db.session.commit()
    c = _from(app.test_client(), "203.0.113.9")
    for _ in range(5):
        post_login(c, "li@example.cn", "guess guess")
    db.session.execute(db.update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    assert post_login(c, "li@example.cn", PASSWORD).status_code == 302
    assert db.session.scalar(db.select(db.func.count(LoginFailure.id))) == 0  # cleared on success


def test_success_clears_failures(app, db):
    make_user(email="li@example.cn")
    db.session.commit()
    c = _from(app.test_client(), "203.0.113.9")
    for _ in range(4):
        post_login(c, "li@example.cn", "guess guess")
    assert post_login(c, "li@example.cn", PASSWORD).status_code == 302
    c.post("/logout")
    for _ in range(4):
        post_login(c, "li@example.cn", "guess guess")
    assert post_login(c, "li@example.cn", PASSWORD).status_code == 302


def test_applicant_lands_logged_in_with_org(client, db):
    org = make_org()
    make_user(Role.APPLICANT, email="li@example.cn", org=org)
    db.session.commit()
    post_login(client, "li@example.cn", PASSWORD)
    assert org.name in client.get("/account/security").get_data(as_text=True)
