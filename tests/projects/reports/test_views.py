"""Report pages: happy paths, refusals (422 keeps the input, 409 wrong state), uploads that change nothing,
permissions (own organisation only, other district 404, finance read-only, evaluator none), XSS escaped,
mass assignment inert, the staff list scoped and filtered with a constant number of queries."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from incubator.accounts.models import Role
from incubator.core.files import StoredFile
from incubator.db import today_local
from incubator.extensions import db as _db
from incubator.projects.reports import services
from incubator.projects.reports.models import ProgressReport, ReportSchedule, ReportStatus
from tests.conftest import login_as
from tests.core.helpers import PDF, jpeg, png
from tests.factories import make_district, make_org, make_user
from tests.projects.helpers import launch, staff_for

XSS = '<script>alert(1)</script><img src=x onerror=alert(1)>'


@pytest.fixture()
def world(db):
    today = today_local()
    project = launch(term_start=today - timedelta(days=75), term_end=today + timedelta(days=280))
    staff = staff_for(project.org)
    member = make_user(Role.APPLICANT, org=project.org)
    services.generate_schedule(project, "monthly", by=staff)
    items = services.schedule(project)
    db.session.commit()
    return type("W", (), dict(project=project, staff=staff, member=member, items=items, today=today))


def _url(w, item=None, suffix=""):
    base = f"/projects/{w.project.id}/reports"
    return base + (f"/{item.id}" if item is not None else "") + suffix


def _form(**kw):
    data = {"text": "本月开展助餐服务，服务老人120人次。", "people_served": "120", "activities_held": "4"}
    data.update(kw)
    return data


def _files(*pairs):
    import io

    return [(io.BytesIO(data), name) for data, name in pairs]


def test_tab_shows_schedule_with_overdue_badges(client, world):
    login_as(client, world.member)
    r = client.get(_url(world))
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "进度报告" in html and "中期报告" in html and "结项报告" in html
    assert 'data-testid="overdue-badge"' in html  # the first months are overdue already
    assert "填写报告" in html and "生成报告计划" not in html
    login_as(client, world.staff)
    html = client.get(_url(world)).get_data(as_text=True)
    assert "重新生成报告计划" in html and "填写报告" not in html


def test_staff_generate_schedule(client, db, world):
    login_as(client, world.staff)
    r = client.post(_url(world, suffix="/schedule"), data={"frequency": "quarterly"})
    assert r.status_code == 302
    assert all(i.frequency in (None, "quarterly") for i in services.schedule(world.project))
    r = client.post(_url(world, suffix="/schedule"), data={"frequency": "weekly"})
    assert r.status_code == 422


def test_submit_with_files_then_accept(client, db, world):
    item = world.items[0]
    login_as(client, world.member)
    assert client.get(_url(world, item, "/submit")).status_code == 200
    data = _form(photos=_files((png(), "活动.png"), (jpeg(), "合影.jpg")),
                 sign_in_sheets=_files((PDF, "签到表.pdf")), status="accepted", schedule_id="999", version="7")
    r = client.post(_url(world, item, "/submit"), data=data, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)
    db.session.expire_all()
    item = db.session.get(ReportSchedule, item.id)
    assert item.status == ReportStatus.SUBMITTED and item.submitted_late is True  # its due date has passed
    report = item.latest
    assert report.version == 1 and [f.kind.value for f in report.files] == ["photo", "photo", "sign_in"]
    html = client.get(_url(world, item)).get_data(as_text=True)
    assert "签到表.pdf" in html and "逾期提交" in html
    link = report.files[2]
    r = client.get(_url(world, suffix=f"/files/{link.id}"))
    assert r.status_code == 200 and r.data == PDF and "attachment" in r.headers["Content-Disposition"]
    r.close()
    # staff accept with a confirmation button
    login_as(client, world.staff)
    html = client.get(_url(world, item)).get_data(as_text=True)
    assert "data-confirm" in html and "审核通过" in html
    assert client.post(_url(world, item, "/accept")).status_code == 302
    db.session.expire_all()
    assert db.session.get(ReportSchedule, item.id).status == ReportStatus.ACCEPTED
    assert client.post(_url(world, item, "/accept")).status_code == 409
    login_as(client, world.member)
    assert client.post(_url(world, item, "/submit"), data=_form()).status_code == 409


def test_return_needs_a_reason_and_the_org_sees_it(client, db, world):
    item = world.items[1]
    services.submit_report(item, by=world.member, text="四月", people_served=1, activities_held=1)
    db.session.commit()
    login_as(client, world.staff)
    r = client.post(_url(world, item, "/return"), data={"reason": "  "})
    assert r.status_code == 422 and "请填写退回理由" in r.get_data(as_text=True)
    r = client.post(_url(world, item, "/return"), data={"reason": "请补充签到表" + XSS})
    assert r.status_code == 302
    login_as(client, world.member)
    html = client.get(_url(world, item, "/submit")).get_data(as_text=True)
    assert "请补充签到表" in html and "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert "四月" in html  # starts from the last version


@pytest.mark.parametrize("field, value", [
    ("people_served", "-1"), ("people_served", "1e309"), ("people_served", "NaN"), ("people_served", "5.5"),
    ("people_served", "9" * 20), ("activities_held", ""), ("activities_held", "abc"), ("text", ""),
    ("text", "字" * 20_001), ("text", "含\x00空字符"),
])
def test_bad_input_is_422_and_keeps_what_was_typed(client, db, world, field, value):
    item = world.items[0]
    login_as(client, world.member)
    data = _form(text=_form()["text"] + "保留")
    data[field] = value
    r = client.post(_url(world, item, "/submit"), data=data, content_type="multipart/form-data")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    if field != "text":
        assert "保留" in html
    db.session.expire_all()
    assert db.session.get(ReportSchedule, item.id).status == ReportStatus.DUE
    assert db.session.scalar(select(func.count(ProgressReport.id))) == 0


@pytest.mark.parametrize("files", [
    {"photos": [(b"<html><script>alert(1)</script></html>", "x.png")]},
    {"photos": [(PDF, "a.pdf")]},  # photos must be images
    {"sign_in_sheets": [(b"", "empty.pdf")]},
    {"sign_in_sheets": [(b"MZ\x90\x00", "a.pdf.exe")]},
    {"photos": [(png(), "ok.png")], "sign_in_sheets": [(b"<svg onload=alert(1)>", "evil.pdf")]},
])
def test_rejected_upload_changes_nothing(client, db, world, files):
    item = world.items[0]
    login_as(client, world.member)
    data = _form()
    for key, pairs in files.items():
        data[key] = _files(*pairs)
    r = client.post(_url(world, item, "/submit"), data=data, content_type="multipart/form-data")
    assert r.status_code == 422
    assert "附件未通过检查" in r.get_data(as_text=True)
    assert "本月开展助餐服务" in r.get_data(as_text=True)  # the text is kept
    db.session.expire_all()
    assert db.session.get(ReportSchedule, item.id).status == ReportStatus.DUE
    assert db.session.scalar(select(func.count(ProgressReport.id))) == 0
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0


def test_xss_in_report_text_is_escaped(client, db, world):
    item = world.items[0]
    services.submit_report(item, by=world.member, text=XSS + "\n第二行", people_served=3, activities_held=1)
    db.session.commit()
    login_as(client, world.staff)
    html = client.get(_url(world, item)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "第二行" in html


def test_permissions(client, db, world):
    item = world.items[0]
    report = services.submit_report(item, by=world.member, text="x", people_served=1, activities_held=1,
                                    photos=_storages((png(), "p.png")))
    db.session.commit()
    link_id = report.files[0].id
    other_org = make_org(district=world.project.org.district)
    outsider = make_user(Role.APPLICANT, org=other_org)
    other_staff = make_user(Role.STAFF, district=make_district(name="乙区", code="410366"))
    finance, evaluator = make_user(Role.FINANCE), make_user(Role.EVALUATOR)
    db.session.commit()
    for user, tab in ((outsider, 404), (other_staff, 404), (evaluator, 404), (finance, 200)):
        login_as(client, user)
        assert client.get(_url(world)).status_code == tab
        assert client.get(_url(world, item)).status_code == tab
        r = client.get(_url(world, suffix=f"/files/{link_id}"))
        assert r.status_code == tab
        r.close()
    # finance reads but does nothing
    login_as(client, finance)
    html = client.get(_url(world, item)).get_data(as_text=True)
    assert "审核通过" not in html and "填写报告" not in html
    assert client.post(_url(world, item, "/accept")).status_code == 403
    assert client.post(_url(world, item, "/return"), data={"reason": "x"}).status_code == 403
    assert client.post(_url(world, suffix="/schedule"), data={"frequency": "monthly"}).status_code == 403
    assert client.post(_url(world, world.items[1], "/submit"), data=_form()).status_code == 403
    # staff cannot submit for the organisation; the organisation cannot accept its own report
    login_as(client, world.staff)
    assert client.post(_url(world, world.items[1], "/submit"), data=_form()).status_code == 403
    login_as(client, world.member)
    assert client.post(_url(world, item, "/accept")).status_code == 403
    # an item of another project under this project's URL: 404
    other = launch(org=world.project.org, by=world.staff)
    services.generate_schedule(other, "monthly", by=world.staff)
    db.session.commit()
    foreign = services.schedule(other)[0]
    assert client.get(_url(world, foreign)).status_code == 404
    assert client.get(f"/projects/{other.id}/reports/files/{link_id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(ReportSchedule, item.id).status == ReportStatus.SUBMITTED


def _storages(*pairs):
    from tests.core.helpers import upload

    return [upload(data, name) for data, name in pairs]


def test_staff_list_scoped_filtered_and_paginated(client, db, world):
    other = launch(org=make_org(district=make_district(name="乙区", code="410355")))
    services.generate_schedule(other, "monthly", by=staff_for(other.org))
    midterm = next(i for i in world.items if i.kind == "midterm")
    services.submit_report(midterm, by=world.member, text="x", people_served=1, activities_held=1)
    db.session.commit()
    login_as(client, world.staff)
    html = client.get("/staff/reports").get_data(as_text=True)
    assert world.project.number in html and other.number not in html
    html = client.get("/staff/reports?state=waiting").get_data(as_text=True)
    assert html.count('data-testid="report-row"') == 1
    html = client.get("/staff/reports?state=open_overdue").get_data(as_text=True)
    assert 'data-testid="overdue-badge"' in html and html.count('data-testid="report-row"') == 1
    html = client.get("/staff/reports?q=%27+OR+1%3D1--&state=bogus&kind=bogus&page=abc").get_data(as_text=True)
    assert "没有符合条件的报告事项" in html
    r = client.get("/staff/reports?page=2")
    assert r.status_code == 200
    login_as(client, make_user(Role.STAFF))  # city staff: both districts
    html = client.get("/staff/reports?kind=final").get_data(as_text=True)
    assert world.project.number in html and other.number in html and html.count('data-testid="report-row"') == 2
    for role in (Role.FINANCE, Role.EVALUATOR, Role.EXPERT):
        login_as(client, make_user(role))
        assert client.get("/staff/reports").status_code == 403
    login_as(client, world.member)
    assert client.get("/staff/reports").status_code == 403


def test_staff_list_query_count_is_constant(client, db, world):
    login_as(client, make_user(Role.STAFF))

    def count_queries(url):
        n = 0

        def before(*a, **k):
            nonlocal n
            n += 1
        event.listen(_db.engine, "before_cursor_execute", before)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(_db.engine, "before_cursor_execute", before)
        return n

    first = count_queries("/staff/reports")
    for _ in range(3):
        p = launch()
        services.generate_schedule(p, "monthly", by=staff_for(p.org))
    db.session.commit()
    assert count_queries("/staff/reports") == first
