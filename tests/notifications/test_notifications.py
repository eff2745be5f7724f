"""The notification centre: notify(), the bell's unread count, reading, links that stay on the site."""
from __future__ import annotations

import pytest

from incubator.extensions import db as _db
from incubator.notifications.models import Notification
from incubator.notifications.services import mark_all_read, notify, notify_many, safe_link, unread_count
from tests.conftest import login_as
from tests.factories import make_user


def test_notify_and_count(db):
    user, other = make_user(), make_user()
    notify(user, "申报书已提交：WCT-2026-0001", "正文", "/applications/1")
    notify(user, "第二条")
    notify(other, "别人的")
    assert unread_count(user) == 2 and unread_count(other) == 1
    assert notify(None, "无人") is None
    assert len(notify_many([user, user, other], "群发")) == 2
    assert mark_all_read(user) == 3 and unread_count(user) == 0


@pytest.mark.parametrize("link, kept", [
    ("/applications/3", True), ("/notifications/?unread=1", True),
    ("//evil.example/x", False), ("/\\evil.example", False), ("https://evil.example", False),
    ("javascript:alert(1)", False), ("data:text/html,x", False), ("/a\r\nSet-Cookie: x", False), ("", False),
])
def test_only_links_inside_the_site_are_kept(link, kept):
    assert (safe_link(link) == link) is kept


def test_titles_are_one_line(db):
    n = notify(make_user(), "标题\r\n伪造的第二行", "正文\n可以多行")
    assert n.title == "标题 伪造的第二行" and n.body == "正文\n可以多行"


def test_the_bell_shows_the_unread_count(client, db):
    user = make_user()
    for i in range(3):
        notify(user, f"通知{i}")
    _db.session.commit()
    login_as(client, user)
    page = client.get("/notifications/").text
    assert 'data-testid="notification-unread">3<' in page
    assert "通知0" in page and "通知2" in page


def test_reading_marks_read_and_follows_the_link(client, db):
    user = make_user()
    n = notify(user, "申报书已提交", link="/applications/mine")
    _db.session.commit()
    login_as(client, user)
    r = client.post(f"/notifications/{n.id}/read")
    assert r.status_code == 302 and r.headers["Location"] == "/applications/mine"
    assert _db.session.get(Notification, n.id).read_at is not None
    assert "notification-unread" not in client.get("/notifications/").text


def test_another_users_notification_is_refused(client, db):
    owner, other = make_user(), make_user()
    n = notify(owner, "私人")
    _db.session.commit()
    login_as(client, other)
    assert client.post(f"/notifications/{n.id}/read").status_code == 403
    assert client.post("/notifications/0/read").status_code == 404
    assert client.post("/notifications/99999999999/read").status_code == 404
    assert "私人" not in client.get("/notifications/").text
    assert _db.session.get(Notification, n.id).read_at is None


def test_read_all(client, db):
    user = make_user()
    notify(user, "一")
    notify(user, "二")
    _db.session.commit()
    login_as(client, user)
    r = client.post("/notifications/read-all", follow_redirects=True)
    assert "已将 2 条通知标记为已读" in r.text
    assert unread_count(user) == 0


def test_markup_in_notifications_is_escaped(client, db):
    user = make_user()
    notify(user, "<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
    _db.session.commit()
    login_as(client, user)
    page = client.get("/notifications/").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page
