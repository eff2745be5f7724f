"""Settings the shared test app turns off: CSRF tokens, per-IP rate limits, the idle timeout."""
from __future__ import annotations

import re
import time
from datetime import timedelta

from incubator.extensions import db
from tests.accounts.helpers import separate_app
from tests.factories import PASSWORD, make_user


def _csrf_from(html: str) -> str:
    match = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', html
    )
    assert match, html[:500]
    return match.group(1)


def test_csrf_enforced_on_login_and_logout(tmp_path):
    with separate_app(tmp_path, WTF_CSRF_ENABLED=True) as app:
        with app.app_context():
            make_user(email="li@example.cn")
            db.session.commit()
        c = app.test_client()
        r = c.post("/login", data={"identifier": "li@example.cn", "password": PASSWORD})
        assert r.status_code == 400 and "请求有误" in r.get_data(as_text=True)
        token = _csrf_from(c.get("/login").get_data(as_text=True))
        r = c.post("/login", data={"identifier": "li@example.cn", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 302 and r.headers["Location"] == "/dashboard"
        assert c.get("/account/security").status_code == 200
        assert c.post("/logout").status_code == 400  # no token: still logged in
        assert c.get("/account/security").status_code == 200
        # The login started a new session, so the pre-login token is no longer the session's token.
        page = c.get("/account/security").get_data(as_text=True)
        assert c.post("/logout", data={"csrf_token": _csrf_from(page)}).status_code == 302
        assert c.get("/account/security").status_code == 302


def test_login_rate_limited_per_ip(tmp_path):
    with separate_app(tmp_path, RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_IP="3 per minute",
                      LOGIN_FAILURES_PER_ACCOUNT=100) as app:
        c = app.test_client()
        for i in range(3):
            r = c.post("/login", data={"identifier": f"u{i}@example.cn", "password": "whatever1"})
            assert r.status_code == 422
        r = c.post("/login", data={"identifier": "u9@example.cn", "password": "whatever1"})
        assert r.status_code == 429
        assert "操作过于频繁" in r.get_data(as_text=True)
        assert c.get("/login").status_code == 200  # only POST is limited
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
        assert other.post("/login", data={"identifier": "u1@example.cn", "password": "x"}).status_code == 422


def test_reset_request_rate_limited_per_ip(tmp_path):
    with separate_app(tmp_path, RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_IP="2 per minute") as app:
        c = app.test_client()
        for _ in range(2):
            assert c.post("/password/forgot", data={"email": "x@example.cn"}).status_code == 302
        assert c.post("/password/forgot", data={"email": "x@example.cn"}).status_code == 429


def test_idle_timeout(tmp_path):
    with separate_app(tmp_path, PERMANENT_SESSION_LIFETIME=timedelta(seconds=1)) as app:
        with app.app_context():
            make_user(email="li@example.cn")
            db.session.commit()
        c = app.test_client()
        c.post("/login", data={"identifier": "li@example.cn", "password": PASSWORD})
        assert c.get("/account/security").status_code == 200
        time.sleep(2.2)
        r = c.get("/account/security")
        assert r.status_code == 302 and "/login" in r.headers["Location"]
