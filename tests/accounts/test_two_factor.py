"""TOTP for staff, finance and admin: enrolment, codes never accepted twice, recovery codes."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pyotp
import pytest

from incubator.accounts import two_factor
from incubator.accounts.models import RecoveryCode, Role, User
from incubator.core.audit import AuditLog
from incubator.db import utcnow
from tests.accounts.helpers import enrolled, is_logged_in, post_login, totp_now
from tests.factories import PASSWORD, make_user


@pytest.mark.parametrize("role", [Role.STAFF, Role.FINANCE, Role.ADMIN])
def test_password_alone_does_not_log_in_two_factor_roles(client, db, role):
    user = make_user(role, email="s@example.cn")
    enrolled(user)
    db.session.commit()
    r = post_login(client, "s@example.cn", PASSWORD)
    assert r.status_code == 302 and r.headers["Location"] == "/login/verify"
    assert not is_logged_in(client)
    with client.session_transaction() as sess:
        assert "_user_id" not in sess and sess["pending_2fa"]["uid"] == user.id


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.EXPERT, Role.EVALUATOR])
def test_other_roles_need_no_second_factor(client, db, role):
    make_user(role, email="a@example.cn")
    db.session.commit()
    assert post_login(client, "a@example.cn", PASSWORD).headers["Location"] == "/dashboard"


def test_totp_login_and_reuse_refused(app, db):
    user = make_user(Role.STAFF, email="s@example.cn")
    secret = enrolled(user)
    db.session.commit()
    c = app.test_client()
    post_login(c, "s@example.cn", PASSWORD, next_url="/account/security")
    code = totp_now(secret)
    r = c.post("/login/verify", data={"code": code})
    assert r.status_code == 302 and r.headers["Location"] == "/account/security"
    assert is_logged_in(c)
    with c.session_transaction() as sess:
        assert sess["2fa_ok"] is True and "pending_2fa" not in sess
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_last_counter is not None
    # The same code, seconds later, in another browser: refused.
    other = app.test_client()
    post_login(other, "s@example.cn", PASSWORD)
    r = other.post("/login/verify", data={"code": code})
    assert r.status_code == 422 and "不正确" in r.get_data(as_text=True)
    assert not is_logged_in(other)


def test_older_code_after_newer_refused(db):
    user = make_user(Role.STAFF)
    secret = enrolled(user)
    totp = pyotp.TOTP(secret)
    now = two_factor.current_counter()
    assert two_factor.verify_totp(user, totp.generate_otp(now))
    assert not two_factor.verify_totp(user, totp.generate_otp(now - 1))  # valid window, but older
    assert not two_factor.verify_totp(user, totp.generate_otp(now))
    assert two_factor.verify_totp(user, totp.generate_otp(now + 1))  # one step of drift ahead
    assert not two_factor.verify_totp(user, totp.generate_otp(now + 2))  # outside the window


def test_wrong_and_malformed_codes(client, db):
    user = make_user(Role.ADMIN, email="a@example.cn")
    enrolled(user)
    db.session.commit()
    post_login(client, "a@example.cn", PASSWORD)
    for bad in ["000000", "12345", "abcdef", "' OR 1=1--", "１２３４５６"]:
        r = client.post("/login/verify", data={"code": bad})
        assert r.status_code in (422, 303)
    assert not is_logged_in(client)


def test_five_wrong_codes_end_the_attempt(client, db):
    user = make_user(Role.ADMIN, email="a@example.cn")
    secret = enrolled(user)
    db.session.commit()
    post_login(client, "a@example.cn", PASSWORD)
    for _ in range(4):
        assert client.post("/login/verify", data={"code": "000000"}).status_code == 422
    r = client.post("/login/verify", data={"code": "000000"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/login")
    r = client.post("/login/verify", data={"code": totp_now(secret)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")  # must start again
    assert not is_logged_in(client)


def test_pending_step_expires(client, db):
    user = make_user(Role.ADMIN, email="a@example.cn")
    secret = enrolled(user)
    db.session.commit()
    post_login(client, "a@example.cn", PASSWORD)
    with client.session_transaction() as sess:
        pending = sess["pending_2fa"]
        pending["exp"] = (utcnow() - timedelta(seconds=1)).isoformat()
        sess["pending_2fa"] = pending
    r = client.post("/login/verify", data={"code": totp_now(secret)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert not is_logged_in(client)


def test_pending_step_expiry_is_about_five_minutes(client, db):
    user = make_user(Role.ADMIN, email="a@example.cn")
    enrolled(user)
    db.session.commit()
    post_login(client, "a@example.cn", PASSWORD)
    with client.session_transaction() as sess:
        left = datetime.fromisoformat(sess["pending_2fa"]["exp"]) - utcnow()
    assert timedelta(minutes=4) < left <= timedelta(minutes=5)


def test_forged_two_factor_flag_does_not_help(app, db):
    """A session with a user id but without 2fa_ok is not logged in for two-factor roles."""
    user = make_user(Role.ADMIN, email="a@example.cn")
    enrolled(user)
    db.session.commit()
    from tests.conftest import login_as

    c = app.test_client()
    login_as(c, user)
    assert is_logged_in(c)
    with c.session_transaction() as sess:
        sess["2fa_ok"] = False
    assert not is_logged_in(c)


def test_enrolment_flow_with_qr_and_recovery_codes(client, db):
    user = make_user(Role.STAFF, email="new@example.cn")
    db.session.commit()
    r = post_login(client, "new@example.cn", PASSWORD)
    assert r.headers["Location"] == "/login/setup-2fa"
    page = client.get("/login/setup-2fa").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in page
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert client.get("/login/setup-2fa").get_data(as_text=True).count(secret) == 1  # stable across reloads
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_secret is None  # a GET writes nothing
    r = client.post("/login/setup-2fa", data={"code": "000000"})
    assert r.status_code == 422 and not is_logged_in(client)
    r = client.post("/login/setup-2fa", data={"code": totp_now(secret)})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", html)
    assert len(codes) == 10 and "只显示这一次" in html
    assert is_logged_in(client)
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.totp_enabled and fresh.totp_secret == secret
    stored = db.session.scalars(db.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not any(c.replace("-", "") in h or c in h for c in codes for h in stored)
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "2fa_enrolled"))


def test_enrolled_user_is_not_offered_enrolment_again(client, db):
    user = make_user(Role.STAFF, email="s@example.cn")
    enrolled(user)
    db.session.commit()
    post_login(client, "s@example.cn", PASSWORD)
    r = client.get("/login/setup-2fa")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/verify")


def test_second_factor_pages_without_password_step(client, db):
    for url in ("/login/verify", "/login/setup-2fa"):
        r = client.get(url)
        assert r.status_code == 302 and r.headers["Location"].endswith("/login")
        r = client.post(url, data={"code": "123456"})
        assert r.status_code == 302 and r.headers["Location"].endswith("/login")


def test_recovery_code_works_once(app, db):
    user = make_user(Role.FINANCE, email="f@example.cn")
    enrolled(user)
    codes = two_factor.new_recovery_codes(user)
    db.session.commit()
    c = app.test_client()
    post_login(c, "f@example.cn", PASSWORD)
    r = c.post("/login/verify", data={"code": codes[0].upper().replace("-", " ")})
    assert r.status_code == 302 and is_logged_in(c)
    c.post("/logout")
    post_login(c, "f@example.cn", PASSWORD)
    r = c.post("/login/verify", data={"code": codes[0]})
    assert r.status_code == 422 and not is_logged_in(c)
    r = c.post("/login/verify", data={"code": codes[1]})
    assert r.status_code == 302
    assert two_factor.unused_recovery_codes(user) == 8
    assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "2fa_recovery_code_used"))


def test_regenerate_recovery_codes_needs_current_password(client, db, outbox):
    user = make_user(Role.ADMIN, email="a@example.cn")
    enrolled(user)
    old = two_factor.new_recovery_codes(user)
    db.session.commit()
    from tests.conftest import login_as

    login_as(client, user)
    r = client.post("/account/security/recovery-codes", data={"current_password": "wrong password"})
    assert r.status_code == 422 and "当前密码不正确" in r.get_data(as_text=True)
    r = client.post("/account/security/recovery-codes", data={"current_password": PASSWORD})
    assert r.status_code == 200
    new = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", r.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert not two_factor.use_recovery_code(user, old[0])
    assert two_factor.use_recovery_code(user, new[0])


def test_recovery_codes_page_not_for_applicants(client, db):
    from tests.conftest import login_as

    user = make_user(Role.APPLICANT)
    db.session.commit()
    login_as(client, user)
    assert client.post("/account/security/recovery-codes", data={"current_password": PASSWORD}).status_code == 404


def test_security_page_shows_two_factor_status(client, db):
    from tests.conftest import login_as

    user = make_user(Role.STAFF)
    enrolled(user)
    two_factor.new_recovery_codes(user)
    db.session.commit()
    login_as(client, user)
    html = client.get("/account/security").get_data(as_text=True)
    assert "已启用" in html and 'data-testid="recovery-left">10<' in html
