"""The audit log viewer: filters, pagination, escaping."""
from __future__ import annotations

import re
from datetime import datetime
from html import unescape

import pytest

from incubator.accounts.models import Role
from incubator.core import audit
from incubator.db import from_local
from tests.conftest import login_as
from tests.factories import make_user


@pytest.fixture()
def admin_client(client, db):
    admin = make_user(Role.ADMIN, name="管理员甲")
    db.session.commit()
    login_as(client, admin)
    client.admin = admin
    return client


def _row(action, obj=None, actor=None, at=None, **kw):
    row = audit.record(action, obj, actor=actor, **kw)
    if at is not None:
        row.at = at
    return row


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_filters(admin_client, db):
    alice = make_user(Role.STAFF, name="爱丽丝")
    bob = make_user(Role.FINANCE, name="鲍勃")
    _row("login", alice, actor=alice, at=from_local(datetime(2026, 3, 1, 9, 0)))
    _row("role_changed", bob, actor=admin_client.admin, before={"role": "expert"}, after={"role": "finance"},
         at=from_local(datetime(2026, 3, 2, 23, 30)))
    _row("login", bob, actor=bob, at=from_local(datetime(2026, 3, 5, 8, 0)))
    db.session.commit()
    c = admin_client

    def get(**args):
        r = c.get("/admin/audit", query_string=args)
        assert r.status_code == 200
        return r.get_data(as_text=True)

    html = get(action="role_changed")
    # Readable in Chinese: the object by its name, the change as labels, not raw JSON or enum values.
    assert "修改角色" in html and "角色：评审专家 → 财务人员" in _text(html) and "用户 鲍勃" in html
    assert '"role"' not in unescape(html)
    assert html.count("<tr>") == 2  # header + one row
    assert get(actor="爱丽丝").count("<tr>") == 2
    assert get(actor=str(bob.id)).count("<tr>") == 2
    assert get(object_type="User", object_id=str(bob.id)).count("<tr>") == 3
    # Beijing dates, inclusive: 2 March 23:30 Beijing is 2 March 15:30 UTC.
    assert get(date_from="2026-03-02", date_to="2026-03-02").count("<tr>") == 2
    assert get(date_from="2026-03-02").count("<tr>") == 3
    assert get(date_to="2026-03-01").count("<tr>") == 2


@pytest.mark.parametrize(
    "args",
    [{"date_from": "2026-02-30"}, {"date_from": "0001-01-01"}, {"date_to": "abc"}, {"actor": "' OR 1=1--"},
     {"action": "<script>alert(1)</script>"}, {"object_id": "-1"}, {"object_id": "99999999999"}, {"page": "x"}],
)
def test_bad_filters(admin_client, db, args):
    _row("login", admin_client.admin, actor=admin_client.admin)
    db.session.commit()
    r = admin_client.get("/admin/audit", query_string=args)
    assert r.status_code == 200 and "<script>alert(1)</script>" not in r.get_data(as_text=True)


def test_pagination(admin_client, db):
    for i in range(120):
        _row("login", admin_client.admin, actor=admin_client.admin, note=f"第{i}次")
    db.session.commit()
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "共 120 条" in html and html.count("<tr>") == 51
    assert admin_client.get("/admin/audit?page=3").get_data(as_text=True).count("<tr>") == 21


def test_scope_change_names_district_and_organisation(admin_client, db):
    from tests.factories import make_district, make_org

    district = make_district(name="涧西区")
    org = make_org(name="洛阳市春晴社工服务中心")
    carol = make_user(Role.APPLICANT, name="卡罗尔", org_id=org.id)
    _row("role_changed", carol, actor=admin_client.admin,
         before={"role": "staff", "district_id": district.id, "org_id": None, "is_org_admin": False},
         after={"role": "applicant", "district_id": None, "org_id": org.id, "is_org_admin": True})
    db.session.commit()
    text = _text(admin_client.get("/admin/audit").get_data(as_text=True))
    assert "角色：民政工作人员 → 社会组织用户" in text
    assert "所属区：涧西区 → —" in text and "所属组织：— → 洛阳市春晴社工服务中心" in text
    assert "组织管理员：否 → 是" in text


def test_values_escaped(admin_client, db):
    _row("login", admin_client.admin, actor=admin_client.admin, note="<img src=x onerror=alert(1)>",
         after={"name": "<script>alert(1)</script>"})
    db.session.commit()
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "<img src=x" not in html and "<script>alert(1)</script>" not in html


def test_rows_of_deleted_actors_still_shown(admin_client, db):
    ghost = make_user(Role.EXPERT, name="已删除的专家")
    _row("login", ghost, actor=ghost)
    db.session.commit()
    ghost_id = ghost.id
    from incubator.accounts.models import User

    db.session.execute(db.delete(User).where(User.id == ghost_id))
    db.session.commit()
    assert "已删除的专家" in admin_client.get("/admin/audit").get_data(as_text=True)
