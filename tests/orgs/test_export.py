"""The registry's Excel export: every column from tuples (same values the ORM gave), dates as dates,
and above EXPORT_SYNC_MAX_ROWS a background job with the user's scope."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from incubator.accounts.models import Role
from incubator.core.files import read_bytes
from incubator.core.jobs import Job, JobStatus
from incubator.db import today_local, to_local
from incubator.orgs import services
from incubator.orgs.models import AnnualReportResult, CreditKind, OrgType, ServiceField, Verification
from tests.conftest import login_as
from tests.factories import make_community, make_district, make_org, make_street, make_user
from tests.orgs.helpers import make_credit, make_rating, make_report


def _sheet(data: bytes) -> list[tuple]:
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert list(rows[0]) == services.EXPORT_HEADERS
    return rows[1:]


@pytest.fixture()
def world(db):
    a, b = make_district(name="甲区", code="410302"), make_district(name="乙区", code="410303")
    street = make_street(a, name="翠云路街道")
    community = make_community(street, name="广利社区")
    today = today_local()
    full = make_org(district=a, street=street, community=community, name="甲区阳光社工服务中心", legal_rep="张伟",
                    fields=[ServiceField.YOUTH, ServiceField.ELDERLY], founded_on=date(2016, 5, 20), staff_count=12,
                    social_worker_count=4)
    make_rating(full, grade=3, awarded_on=today - timedelta(days=900))
    make_rating(full, grade=5, awarded_on=today - timedelta(days=30))  # the newer valid one counts
    make_rating(full, grade=4, awarded_on=today - timedelta(days=6 * 366))  # expired
    make_report(full, today.year - 2, AnnualReportResult.PASS)
    make_report(full, today.year - 1, AnnualReportResult.BASIC_PASS)
    make_report(full, today.year, AnnualReportResult.FAIL)  # this year's: not "before this year"
    make_credit(full, kind=CreditKind.SERIOUS_LIST, start_on=today - timedelta(days=5))
    make_credit(full, kind=CreditKind.ABNORMAL_LIST, start_on=today - timedelta(days=50))
    make_credit(full, kind=CreditKind.DEBARMENT, start_on=today - timedelta(days=400), end_on=today - timedelta(days=1))
    host = make_org(district=b, name="乙区枢纽型社会组织", status=Verification.PENDING)
    filed = make_org(district=b, name="乙区广场舞队", org_type=OrgType.FILED_COMMUNITY_ORG, host_org_id=host.id)
    db.session.commit()
    return dict(a=a, b=b, full=full, host=host, filed=filed, staff_a=make_user(Role.STAFF, district=a),
                city=make_user(Role.STAFF), admin=make_user(Role.ADMIN))


def test_row_values_are_what_the_models_say(db, world):
    full, filed, day = world["full"], world["filed"], today_local()
    rows = {r[0]: r for r in services.export_rows(world["city"], services.OrgFilters())}
    assert set(rows) == {"甲区阳光社工服务中心", "乙区枢纽型社会组织", "乙区广场舞队"}
    row = rows[full.name]
    assert row == [
        full.name, full.org_type.label,
        full.uscc, "甲区", "翠云路街道", "广利社区", date(2016, 5, 20), "张伟", full.contact_name, full.contact_phone,
        "、".join(f.label for f in full.fields), 12, 4, full.current_rating(day).label,
        "、".join(c.kind.label for c in services.credit_summary(full, day)),
        f"{day.year - 1}年度 {AnnualReportResult.BASIC_PASS.label}", full.status.label, to_local(full.created_at),
    ]
    assert row[13] == "5A" and row[14] == "活动异常名录、严重违法失信名单"
    assert rows[filed.name][2] == filed.identifier and rows[filed.name][2]  # 备案编号, not a USCC
    assert rows[filed.name][13] == "" and rows[filed.name][14] == "正常" and rows[filed.name][15] == ""


def test_workbook_has_dates_as_dates(db, client, world):
    login_as(client, world["staff_a"])
    rows = _sheet(client.get("/orgs/export").data)
    assert [r[0] for r in rows] == ["甲区阳光社工服务中心"]  # district A only
    assert rows[0][6] == datetime(2016, 5, 20) and isinstance(rows[0][17], datetime)


@pytest.fixture()
def limit(app):
    saved = app.config["EXPORT_SYNC_MAX_ROWS"]
    app.config["EXPORT_SYNC_MAX_ROWS"] = 2
    yield 2
    app.config["EXPORT_SYNC_MAX_ROWS"] = saved


def test_filters_round_trip_through_args():
    filters = services.OrgFilters(q="阳光", district_id=3, org_type=OrgType.FOUNDATION, service_field=ServiceField.YOUTH,
                                  grade="5", credit="any", status=Verification.VERIFIED, sort="name")
    again = services.OrgFilters.from_args(filters.args())
    assert again == services.OrgFilters(**{**filters.__dict__, "on": again.on})
    assert services.OrgFilters().args() == {}


def test_export_count_is_scoped(db, world):
    assert services.export_count(world["staff_a"], services.OrgFilters()) == 1
    assert services.export_count(world["city"], services.OrgFilters()) == 3
    assert services.export_count(world["city"], services.OrgFilters(status=Verification.PENDING)) == 1


def test_above_the_limit_get_offers_a_job_and_post_runs_it_in_scope(db, client, world, limit, run_jobs):
    login_as(client, world["city"])
    at_limit = client.get("/orgs/export?q=乙区")  # 2 rows: at the limit, the file at once
    assert at_limit.status_code == 200 and at_limit.mimetype.endswith("spreadsheetml.sheet")
    assert len(_sheet(at_limit.data)) == 2
    offer = client.get("/orgs/export")
    page = offer.get_data(as_text=True)
    assert offer.mimetype == "text/html" and "共 <strong>3</strong> 个" in page and "在后台生成Excel" in page
    assert db.session.scalar(select(Job)) is None
    assert 'data-testid="export-job-form"' in client.get("/orgs/").get_data(as_text=True)
    response = client.post("/orgs/export", data={"sort": "name"})
    assert response.status_code == 302
    job = db.session.scalar(select(Job))
    assert response.headers["Location"].endswith(f"/jobs/{job.id}") and job.kind == "org_export"
    assert client.post("/orgs/export", data={"sort": "name"}).headers["Location"] == response.headers["Location"]
    run_jobs()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.FINISHED, job.error
    assert [r[0] for r in _sheet(read_bytes(job.result_file))] == ["乙区广场舞队", "乙区枢纽型社会组织", "甲区阳光社工服务中心"]
    # district staff: their district only, whatever they post (B's district filter gives nothing, as the list)
    login_as(client, world["staff_a"])
    for data, expected in (({"district": str(world["b"].id)}, []), ({}, ["甲区阳光社工服务中心"])):
        response = client.post("/orgs/export", data=data)
        run_jobs()
        job = db.session.get(Job, int(response.headers["Location"].rsplit("/", 1)[1]))
        assert job.status == JobStatus.FINISHED and job.user_id == world["staff_a"].id
        assert [r[0] for r in _sheet(read_bytes(job.result_file))] == expected


def test_job_refuses_a_user_who_lost_the_role(db, client, world, limit, run_jobs):
    login_as(client, world["city"])
    client.post("/orgs/export", data={})
    world["city"].role = Role.EVALUATOR
    db.session.commit()
    run_jobs()
    job = db.session.scalar(select(Job))
    assert job.status == JobStatus.FAILED and job.message == "任务失败：您已无权导出社会组织名录"


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.EXPERT, Role.FINANCE, Role.EVALUATOR])
def test_only_staff_may_start_the_job(db, client, world, role):
    user = make_user(role, org=world["full"] if role == Role.APPLICANT else None)
    db.session.commit()
    login_as(client, user)
    assert client.post("/orgs/export", data={}).status_code == 403
    assert db.session.scalar(select(Job)) is None
