"""The working-day admin page: list by year, add, refuse bad input, delete, declare a year."""
from __future__ import annotations

import datetime as dt

import pytest

from incubator.accounts.models import Role
from incubator.core.audit import AuditLog
from incubator.core.workdays import CalendarYear, WorkdayOverride, add_workdays
from tests.conftest import login_as
from tests.factories import make_user


@pytest.fixture()
def admin_client(client, db):
    admin = make_user(Role.ADMIN)
    db.session.commit()  # views roll back on refused input: the admin must outlive that
    login_as(client, admin)
    client.admin = admin
    return client


def test_page_for_a_package_year(admin_client):
    html = admin_client.get("/system/workdays?year=2026").get_data(as_text=True)
    assert "内置官方安排" in html and "2026年日历" in html
    assert 'class="cal-adjusted' in html  # e.g. Saturday 10月10日
    assert "本年度没有单日调整" in html


def test_page_for_an_unknown_year(admin_client):
    html = admin_client.get("/system/workdays?year=2027").get_data(as_text=True)
    assert "尚未录入" in html and "确认本年度已录入完毕" in html and "cal-unknown" in html


@pytest.mark.parametrize("year", ["abc", "0001", "99999", "-1", ""])
def test_bad_year_falls_back_to_this_year(admin_client, year):
    assert admin_client.get(f"/system/workdays?year={year}").status_code == 200


def test_add_and_delete_an_override(admin_client, db):
    r = admin_client.post("/system/workdays?year=2027", data={"day": "2027-02-06", "kind": "workday", "note": "春节调休上班"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/system/workdays?year=2027")
    row = db.session.scalar(db.select(WorkdayOverride))
    assert row.date == dt.date(2027, 2, 6) and row.is_workday and row.note == "春节调休上班"
    assert row.created_by_id == admin_client.admin.id
    html = admin_client.get("/system/workdays?year=2027").get_data(as_text=True)
    assert "2027年2月6日" in html and "调休上班" in html
    r = admin_client.post(f"/system/workdays/{row.id}/delete")
    assert r.status_code == 302
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkdayOverride)) == 0
    actions = db.session.scalars(db.select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["workday.override_add", "workday.override_delete"]


@pytest.mark.parametrize(
    "data,message",
    [
        ({"day": "2026-02-30", "kind": "workday", "note": "x"}, "日期"),
        ({"day": "0001-01-01", "kind": "workday", "note": "x"}, "2000年至2100年"),
        ({"day": "2027-01-01", "kind": "maybe", "note": "x"}, "不是有效的选择"),
        ({"day": "2027-01-01", "kind": "workday", "note": ""}, "请填写说明"),
        ({"day": "2027-01-01", "kind": "workday", "note": "a\r\nb"}, "一行"),
        ({"day": "2027-01-01", "kind": "workday", "note": "长" * 201}, "200"),
    ],
)
def test_bad_input_is_422_and_keeps_what_was_typed(admin_client, db, data, message):
    r = admin_client.post("/system/workdays?year=2027", data=data)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert message in html
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkdayOverride)) == 0


def test_duplicate_date_is_422(admin_client, db):
    admin_client.post("/system/workdays?year=2027", data={"day": "2027-01-01", "kind": "holiday", "note": "元旦"})
    r = admin_client.post("/system/workdays?year=2027", data={"day": "2027-01-01", "kind": "workday", "note": "重复"})
    assert r.status_code == 422 and "已有调整记录" in r.get_data(as_text=True)


def test_mass_assignment_is_ignored(admin_client, db):
    admin_client.post("/system/workdays", data={"day": "2027-01-01", "kind": "holiday", "note": "元旦",
                                                "created_by_id": "999", "id": "77", "is_workday": "1"})
    row = db.session.scalar(db.select(WorkdayOverride))
    assert row.id != 77 and row.created_by_id == admin_client.admin.id and row.is_workday is False


def test_declaring_a_year_makes_it_computable(admin_client, db):
    r = admin_client.post("/system/workdays/years/2027/define")
    assert r.status_code == 302
    assert db.session.get(CalendarYear, 2027).defined_by_id == admin_client.admin.id
    assert add_workdays(dt.date(2027, 3, 5), 1) == dt.date(2027, 3, 8)
    assert "管理员已确认录入" in admin_client.get("/system/workdays?year=2027").get_data(as_text=True)
    r = admin_client.post("/system/workdays/years/2027/undefine")
    assert r.status_code == 302 and db.session.get(CalendarYear, 2027) is None


def test_declaring_a_package_year_is_refused(admin_client, db):
    r = admin_client.post("/system/workdays/years/2026/define")
    assert r.status_code == 409 and "无需确认" in r.get_data(as_text=True)
    assert admin_client.post("/system/workdays/years/2030/undefine").status_code == 404
    assert admin_client.post("/system/workdays/424242/delete").status_code == 404
