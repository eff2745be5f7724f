"""Helpers for the accounts and admin tests (shared factories stay in tests/factories.py)."""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pyotp

from incubator import create_app
from incubator.accounts import two_factor
from incubator.accounts.models import Role, User
from incubator.accounts.passwords import hash_password
from incubator.extensions import db, limiter
from tests.conftest import test_config
from tests.factories import make_user

STRONG = "春眠不觉晓处处闻啼鸟"  # 10 characters: fine for applicants, too short for staff
STAFF_PASSWORD = "夜来风雨声花落知多少呀呀"  # 12 characters


def user_with_password(role: Role = Role.APPLICANT, password: str = "correct horse battery staple", **kw) -> User:
    """A user whose hash uses the production scheme (scrypt) for ``password``."""
    return make_user(role, password_hash=hash_password(password), **kw)


def enrolled(user: User) -> str:
    """Give a two-factor user a TOTP secret; returns it."""
    user.totp_secret = two_factor.new_secret()
    user.totp_enabled = True
    db.session.flush()
    return user.totp_secret


def totp_now(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).generate_otp(two_factor.current_counter() + offset)


def post_login(client, identifier: str, password: str, next_url: str | None = None, **kw):
    data = {"identifier": identifier, "password": password}
    url = "/login" + (f"?next={next_url}" if next_url is not None else "")
    return client.post(url, data=data, **kw)


def is_logged_in(client) -> bool:
    """The security page answers 200 only to a logged-in session."""
    return client.get("/account/security").status_code == 200


def link_from(body: str) -> str:
    match = re.search(r"https?://\S+/password/reset/(\S+)", body)
    assert match, body
    return match.group(0)


def token_path(link: str) -> str:
    return link[link.index("/password/reset/"):]


@contextmanager
def separate_app(tmp: Path, **overrides):
    """A second app (its own SQLite file) for settings the shared app does not use: CSRF on,
    rate limits on, short sessions. The global limiter is put back as it was afterwards.

    No app context is held while the test's requests run (a held context would share ``g``, and
    with it Flask-WTF's cached CSRF token, between requests): use ``with app.app_context()`` to
    set up data."""
    was_enabled = limiter.enabled
    cfg = test_config(tmp, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'separate.db'}", **overrides)
    app = create_app(cfg)
    try:
        with app.app_context():
            db.create_all()
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
        limiter.enabled = was_enabled
