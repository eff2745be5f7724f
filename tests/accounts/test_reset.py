"""Password reset and invitation links (SECURITY.md 6.4)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from incubator.accounts import services
from incubator.accounts.models import PasswordToken, Role, User
from incubator.db import utcnow
from tests.accounts.helpers import STRONG, is_logged_in, link_from, post_login, token_path
from tests.factories import PASSWORD, make_user

SAME_ANSWER = "如果该邮箱已注册"


def _request(client, email):
    return client.post("/password/forgot", data={"email": email}, follow_redirects=True)


def test_same_answer_for_known_and_unknown_email(client, db, outbox):
    make_user(email="li@example.cn")
    db.session.commit()
    known = _request(client, "li@example.cn")
    unknown = _request(client, "nobody@example.cn")
    assert known.status_code == unknown.status_code == 200
    assert SAME_ANSWER in known.get_data(as_text=True) and SAME_ANSWER in unknown.get_data(as_text=True)
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert [m[0] for m in outbox] == ["li@example.cn"]


def test_disabled_account_gets_no_mail(client, db, outbox):
    make_user(email="off@example.cn", active=False)
    db.session.commit()
    assert SAME_ANSWER in _request(client, "off@example.cn").get_data(as_text=True)
    assert outbox == []


def test_link_built_from_base_url_not_host_header(app, client, db, outbox, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://shzz.example.gov.cn")
    make_user(email="li@example.cn")
    db.session.commit()
    client.post("/password/forgot", data={"email": "li@example.cn"}, headers={"Host": "evil.example.com"},
                environ_base={"HTTP_X_FORWARDED_HOST": "evil.example.com"})
    link = link_from(outbox.last("li@example.cn")[2])
    assert link.startswith("https://shzz.example.gov.cn/password/reset/")
    assert "evil" not in outbox.last("li@example.cn")[2]


def test_token_stored_hashed_and_expires_within_15_minutes(client, db, outbox):
    make_user(email="li@example.cn")
    db.session.commit()
    _request(client, "li@example.cn")
    link = link_from(outbox.last("li@example.cn")[2])
    raw = link.rsplit("/", 1)[1]
    row = db.session.scalar(db.select(PasswordToken))
    assert raw not in row.token_hash and len(row.token_hash) == 64
    assert timedelta(minutes=14) < row.expires_at - utcnow() <= timedelta(minutes=15)


def test_reset_lifetime_is_capped(app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MINUTES", 600)
    with app.app_context():
        assert services.reset_lifetime() == timedelta(minutes=15)


def test_reset_sets_password_ends_sessions_and_is_single_use(app, db, outbox):
    user = make_user(email="li@example.cn")
    db.session.commit()
    elsewhere = app.test_client()
    post_login(elsewhere, "li@example.cn", PASSWORD)
    c = app.test_client()
    _request(c, "li@example.cn")
    path = token_path(link_from(outbox.last("li@example.cn")[2]))
    assert c.get(path).status_code == 200  # looking does not spend it
    r = c.post(path, data={"password": STRONG, "confirm": STRONG})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert not is_logged_in(elsewhere)
    assert post_login(c, "li@example.cn", STRONG).status_code == 302
    assert post_login(app.test_client(), "li@example.cn", PASSWORD).status_code == 422
    again = app.test_client()
    assert again.get(path).status_code == 404
    r = again.post(path, data={"password": "另一个很长的新密码呀", "confirm": "另一个很长的新密码呀"})
    assert r.status_code == 404 and "链接无效" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).session_version >= 1


def test_expired_token_refused(client, db, outbox):
    make_user(email="li@example.cn")
    db.session.commit()
    _request(client, "li@example.cn")
    path = token_path(link_from(outbox.last("li@example.cn")[2]))
    db.session.execute(db.update(PasswordToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(path).status_code == 404
    assert client.post(path, data={"password": STRONG, "confirm": STRONG}).status_code == 404


def test_a_new_reset_spends_older_links(client, db, outbox):
    make_user(email="li@example.cn")
    db.session.commit()
    _request(client, "li@example.cn")
    first = token_path(link_from(outbox.last("li@example.cn")[2]))
    _request(client, "li@example.cn")
    second = token_path(link_from(outbox.last("li@example.cn")[2]))
    assert client.post(second, data={"password": STRONG, "confirm": STRONG}).status_code == 302
    assert client.get(first).status_code == 404


@pytest.mark.parametrize("token", ["abc", "x" * 500, "' OR 1=1--", "%00", "0"])
def test_garbage_tokens(client, db, token):
    assert client.get(f"/password/reset/{token}").status_code == 404


@pytest.mark.parametrize(
    "password, message",
    [("short", "至少需要 8 个字符"), ("x" * 1000, "最多 128 个字符"), ("password123", "常见"), ("abc\x00defghij", "空字符")],
)
def test_weak_new_password_refused_and_token_kept(client, db, outbox, password, message):
    make_user(email="li@example.cn")
    db.session.commit()
    _request(client, "li@example.cn")
    path = token_path(link_from(outbox.last("li@example.cn")[2]))
    r = client.post(path, data={"password": password, "confirm": password})
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert client.post(path, data={"password": STRONG, "confirm": STRONG}).status_code == 302


def test_staff_need_twelve_characters_on_reset(client, db, outbox):
    make_user(Role.STAFF, email="s@example.cn")
    db.session.commit()
    _request(client, "s@example.cn")
    path = token_path(link_from(outbox.last("s@example.cn")[2]))
    r = client.post(path, data={"password": "ten chars!", "confirm": "ten chars!"})
    assert r.status_code == 422 and "至少需要 12 个字符" in r.get_data(as_text=True)


def test_mismatched_confirmation(client, db, outbox):
    make_user(email="li@example.cn")
    db.session.commit()
    _request(client, "li@example.cn")
    path = token_path(link_from(outbox.last("li@example.cn")[2]))
    r = client.post(path, data={"password": STRONG, "confirm": STRONG + "x"})
    assert r.status_code == 422 and "两次输入的密码不一致" in r.get_data(as_text=True)


def test_reset_form_ignores_extra_fields(client, db, outbox):
    user = make_user(email="li@example.cn")
    db.session.commit()
    _request(client, "li@example.cn")
    path = token_path(link_from(outbox.last("li@example.cn")[2]))
    client.post(path, data={"password": STRONG, "confirm": STRONG, "role": "admin", "is_admin": "1",
                            "email": "evil@example.cn", "user_id": "1"})
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.role == Role.APPLICANT and fresh.email == "li@example.cn"


def test_forgot_form_bad_inputs(client, db, outbox):
    for bad in ["not-an-email", "' OR 1=1--", "<script>alert(1)</script>@x.cn", "a\x00@x.cn", ""]:
        r = client.post("/password/forgot", data={"email": bad})
        assert r.status_code == 422
        assert "<script>alert(1)</script>" not in r.get_data(as_text=True)
    assert outbox == []


def test_real_mail_queue_is_used(client, db):
    """Without the test double: the message lands in the outgoing mail table."""
    from incubator.core.mail import OutgoingMail

    make_user(email="li@example.cn")
    db.session.commit()
    _request(client, "li@example.cn")
    mail = db.session.scalar(db.select(OutgoingMail).where(OutgoingMail.to == "li@example.cn"))
    assert mail is not None and "/password/reset/" in mail.body and "15 分钟" in mail.body
