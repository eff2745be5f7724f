"""The developer outbox: admins in test, anyone in development, nobody anywhere else."""
from __future__ import annotations

import pytest

from incubator.accounts.models import Role
from incubator.core.mail import queue_mail
from tests.conftest import login_as
from tests.factories import make_user


def test_admin_sees_mail_newest_first_with_clickable_links(client, db, run_jobs):
    queue_mail("a@example.cn", "第一封", "旧的")
    queue_mail("b@example.cn", "重置密码", "请点击 https://incubator.example.cn/reset/tok123 完成重置。\n<script>alert(1)</script>")
    run_jobs()
    login_as(client, make_user(Role.ADMIN))
    html = client.get("/dev/outbox").get_data(as_text=True)
    assert html.index("重置密码") < html.index("第一封")
    assert '<a href="https://incubator.example.cn/reset/tok123" rel="noopener noreferrer">' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "已发送" in html


def test_javascript_links_are_not_made_clickable(client, db):
    queue_mail("a@example.cn", "x", "javascript:alert(1) data:text/html,x")
    db.session.commit()
    login_as(client, make_user(Role.ADMIN))
    html = client.get("/dev/outbox").get_data(as_text=True)
    assert 'href="javascript' not in html and 'href="data' not in html


def test_in_test_env_non_admins_are_refused(client, db):
    assert client.get("/dev/outbox").status_code == 302  # login first
    login_as(client, make_user(Role.STAFF))
    assert client.get("/dev/outbox").status_code == 403


def test_in_development_anyone_may_look(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "development")
    queue_mail("a@example.cn", "演示邮件", "正文")
    db.session.commit()
    r = client.get("/dev/outbox")
    assert r.status_code == 200 and "演示邮件" in r.get_data(as_text=True)


@pytest.mark.parametrize("env", ["production", "staging"])
def test_elsewhere_it_does_not_exist(app, client, db, monkeypatch, env):
    monkeypatch.setitem(app.config, "ENV_NAME", env)
    login_as(client, make_user(Role.ADMIN))
    assert client.get("/dev/outbox").status_code == 404
