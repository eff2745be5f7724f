"""The Excel export of the screening list: streamed rows say what the list says, a constant number
of queries, and above EXPORT_SYNC_MAX_ROWS a background job with the same scope and filters."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from incubator.accounts.models import Role
from incubator.core.files import read_bytes
from incubator.core.jobs import Job, JobStatus
from incubator.screening import queries
from tests.conftest import login_as
from tests.screening.helpers import bulk_submitted, make_call, make_submitted
from tests.screening.test_list import _flag_cases

LIST = "/staff/applications/"
EXPORT = LIST + "export"


def _sheet(data: bytes) -> list[tuple]:
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0] == tuple(queries.EXPORT_HEADERS)
    return rows[1:]


@pytest.fixture()
def limit(app):
    """EXPORT_SYNC_MAX_ROWS = 3 for the test."""
    saved = app.config["EXPORT_SYNC_MAX_ROWS"]
    app.config["EXPORT_SYNC_MAX_ROWS"] = 3
    yield 3
    app.config["EXPORT_SYNC_MAX_ROWS"] = saved


def test_default_limit_is_5000(app):
    from incubator.config import load_config

    assert load_config()["EXPORT_SYNC_MAX_ROWS"] == 5000


# --------------------------------------------------------------------------- rows


def test_export_reasons_are_the_list_flags(db, two_districts):
    """Every problem case: the export's 资格问题 column equals the reasons the list shows."""
    w = two_districts
    cases = _flag_cases(db, w)
    rows = {r[0]: r for r in queries.export_rows(w.admin, queries.ListFilters(status="all"))}
    assert set(rows) == {app.number for app in cases.values()}
    for name, app in cases.items():
        flags = queries.row_flags(app)
        assert rows[app.number][14] == ("；".join(flags.reasons) if flags.reasons else "无"), name
        assert (rows[app.number][14] == "无") == name.startswith("clean"), name
    assert "本批次仅限甲区的社会组织申报" in rows[cases["call_rules_district"].number][14]
    assert "已被列入活动异常名录" in rows[cases["credit"].number][14]


def test_a_failed_latest_report_is_flagged_when_others_reported_later(db, two_districts):
    """Regression: the SQL 年报问题 flag once read "no organisation at all has a later report" (the
    innermost subquery did not correlate to the organisation), so it missed a failed 2024 report as
    soon as any other organisation had filed 2025. The list filter and the export agree now."""
    from incubator.orgs.models import AnnualReport, AnnualReportResult
    from tests.factories import make_org as bare_org

    w = two_districts
    on = queries.ListFilters().on
    failed = bare_org(district=w.district_a, founded_on=w.org_a.founded_on)
    db.session.add(AnnualReport(org_id=failed.id, year=on.year - 2, result=AnnualReportResult.FAIL))
    lenient = make_call(title="不要求年报", require_annual_report_pass=False)  # a missing report only warns
    app = make_submitted(failed, lenient)
    make_submitted(w.org_a, w.call, by=w.member_a)  # org A filed the later year(s)
    db.session.commit()
    assert "annual" in queries.row_flags(app).keys
    filters = queries.ListFilters(status="all", flag="annual")
    assert [a.id for a in queries.list_page(w.admin, filters, 1).items] == [app.id]
    rows = {r[0]: r[14] for r in queries.export_rows(w.admin, queries.ListFilters(status="all"))}
    assert rows[app.number] == f"最近一次年报（{on.year - 2}年度）结论为不合格"


def test_export_rows_are_typed_and_ordered_like_the_list(db, two_districts):
    from datetime import datetime
    from decimal import Decimal

    w = two_districts
    apps = [make_submitted(w.org_a, w.call, by=w.member_a, minutes_ago=m) for m in (30, 10, 20)]
    db.session.commit()
    filters = queries.ListFilters(status="all", sort="submitted_desc")
    rows = list(queries.export_rows(w.admin, filters))
    listed = queries.list_page(w.admin, filters, 1).items
    assert [r[0] for r in rows] == [a.number for a in listed] == [apps[1].number, apps[2].number, apps[0].number]
    row = rows[0]
    assert row[3] == w.org_a.uscc and row[4] == "甲区"
    assert isinstance(row[7], Decimal) and isinstance(row[10], datetime) and row[12] == "已提交" and row[13] == 1


def _count(engine):
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    return statements, lambda: event.remove(engine, "before_cursor_execute", before)


def test_export_query_count_does_not_grow_with_rows(db, two_districts):
    w = two_districts
    cases = _flag_cases(db, w)  # flagged rows: the reasons path runs
    assert cases
    counts = []
    for extra in (2, 60):
        bulk_submitted(w.org_a, w.call, extra)
        bulk_submitted(w.org_b, w.call, extra)
        db.session.commit()
        db.session.expire_all()
        admin = db.session.get(type(w.admin), w.admin.id)
        statements, stop = _count(db.engine)
        try:
            rows = list(queries.export_rows(admin, queries.ListFilters(status="all")))
        finally:
            stop()
        counts.append(len(statements))
    assert len(rows) > 120
    # published calls, flagged pairs, their organisations, credit records, annual reports, calls, rows
    assert counts == [7, 7], counts


def test_export_without_any_flag_runs_two_queries(db, two_districts):
    w = two_districts
    bulk_submitted(w.org_a, w.call, 5)
    db.session.commit()
    calls = queries.visible_calls()
    w.admin.role  # noqa: B018 - loaded before counting
    statements, stop = _count(db.engine)
    try:
        rows = list(queries.export_rows(w.admin, queries.ListFilters(status="all"), calls=calls))
    finally:
        stop()
    assert len(rows) == 5 and all(r[14] == "无" for r in rows)
    assert len(statements) == 2  # the flagged pairs (none), the rows


# --------------------------------------------------------------------------- at or below the limit: the file at once


def test_at_the_limit_the_file_comes_at_once(db, client, two_districts, limit):
    w = two_districts
    bulk_submitted(w.org_a, w.call, 3)
    bulk_submitted(w.org_b, w.call, 5)
    db.session.commit()
    login_as(client, w.staff_a)  # district A: 3 rows, at the limit
    response = client.get(EXPORT + "?status=all")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert len(_sheet(response.data)) == 3
    assert db.session.scalar(select(Job)) is None
    page = client.get(LIST + "?status=all").get_data(as_text=True)
    assert 'data-testid="export-job-form"' not in page and "导出Excel（3条）" in page


# --------------------------------------------------------------------------- above the limit: a background job


def test_above_the_limit_get_offers_the_job_and_changes_nothing(db, client, two_districts, limit):
    w = two_districts
    bulk_submitted(w.org_a, w.call, 4)
    db.session.commit()
    login_as(client, w.staff_city)
    response = client.get(EXPORT + "?status=all&q=批量")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "符合当前筛选条件的申报书共 <strong>4</strong> 条" in page and "在后台生成Excel" in page
    assert 'name="q" value="批量"' in page and 'name="status" value="all"' in page
    assert db.session.scalar(select(Job)) is None  # a GET never starts anything
    listing = client.get(LIST + "?status=all").get_data(as_text=True)
    assert 'data-testid="export-job-form"' in listing and "导出Excel（4条，后台生成）" in listing


def test_background_export_has_the_users_scope_and_filters(db, client, two_districts, limit, run_jobs):
    w = two_districts
    mine = bulk_submitted(w.org_a, w.call, 4)
    bulk_submitted(w.org_b, w.call, 6)
    db.session.commit()
    login_as(client, w.staff_a)
    synchronous = client.get(EXPORT + "?status=all")
    assert synchronous.mimetype == "text/html"  # 4 rows > 3: the offer page
    # extra posted fields (district of B, org ids) change nothing: district staff stay in district A
    response = client.post(EXPORT, data={"status": "all", "district": str(w.district_b.id), "org_id": str(w.org_b.id)})
    assert response.status_code == 302
    job = db.session.scalar(select(Job))
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")
    assert job.user_id == w.staff_a.id and job.kind == "screening_export" and job.status == JobStatus.QUEUED
    assert job.title == "导出资格审查申报书清单（0条）"
    run_jobs()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.FINISHED, job.error
    assert job.result_file.original_name.endswith(".xlsx")
    # district filter B is not the user's district: no rows (the list says the same)
    assert _sheet(read_bytes(job.result_file)) == []
    # now without the foreign district: exactly district A's rows, as the list and the synchronous export
    response = client.post(EXPORT, data={"status": "all", "sort": "number"})
    job = db.session.get(Job, int(response.headers["Location"].rsplit("/", 1)[1]))
    run_jobs()
    db.session.refresh(job)
    assert job.status == JobStatus.FINISHED, job.error
    rows = _sheet(read_bytes(job.result_file))
    assert [r[0] for r in rows] == sorted(a.number for a in mine)
    app_config = client.application.config
    app_config["EXPORT_SYNC_MAX_ROWS"] = 1000
    direct = _sheet(client.get(EXPORT + "?status=all&sort=number").data)
    app_config["EXPORT_SYNC_MAX_ROWS"] = limit
    assert rows == direct
    # the starter downloads it from the job page; another staff member cannot
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200 and len(_sheet(download.get_data())) == 4
    download.close()
    login_as(client, w.staff_b)
    assert client.get(f"/jobs/{job.id}/download").status_code == 404
    assert client.get(f"/jobs/{job.id}").status_code == 404


def test_a_second_click_returns_the_waiting_job(db, client, two_districts, limit):
    w = two_districts
    bulk_submitted(w.org_a, w.call, 4)
    db.session.commit()
    login_as(client, w.staff_city)
    first = client.post(EXPORT, data={"status": "all"})
    second = client.post(EXPORT, data={"status": "all"})
    other = client.post(EXPORT, data={"status": "all", "q": "批量"})
    assert first.headers["Location"] == second.headers["Location"] != other.headers["Location"]
    assert len(db.session.scalars(select(Job)).all()) == 2


def test_the_job_refuses_a_user_who_may_no_longer_screen(db, client, two_districts, limit, run_jobs):
    w = two_districts
    bulk_submitted(w.org_a, w.call, 4)
    db.session.commit()
    login_as(client, w.staff_city)
    client.post(EXPORT, data={"status": "all"})
    w.staff_city.role = Role.FINANCE
    db.session.commit()
    run_jobs()
    job = db.session.scalar(select(Job))
    assert job.status == JobStatus.FAILED and job.result_file_id is None
    assert job.message == "任务失败：您已无权导出申报书清单"


def test_job_function_is_safe_to_run_twice(db, two_districts):
    from incubator.core.jobs import start_job
    from incubator.screening.jobs import export_applications

    w = two_districts
    bulk_submitted(w.org_a, w.call, 2)
    job = start_job(export_applications, w.admin.id, {"status": "all"}, "2026-12-01", title="导出", user=w.admin)
    db.session.commit()
    export_applications(job, w.admin.id, {"status": "all"}, "2026-12-01")
    db.session.commit()
    first = job.result_file_id
    assert first and len(_sheet(read_bytes(job.result_file))) == 2
    export_applications(job, w.admin.id, {"status": "all"}, "2026-12-01")
    assert job.result_file_id == first


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.EXPERT, Role.FINANCE, Role.EVALUATOR])
def test_only_screeners_may_start_the_job(db, client, two_districts, role):
    from tests.factories import make_user

    user = make_user(role, org=two_districts.org_a if role == Role.APPLICANT else None)
    db.session.commit()
    login_as(client, user)
    assert client.post(EXPORT, data={"status": "all"}).status_code == 403
    assert db.session.scalar(select(Job)) is None


def test_expired_form_starts_nothing(app, db, client, two_districts):
    login_as(client, two_districts.staff_city)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(EXPORT, data={"status": "all"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400  # CSRFProtect answers before the view
    assert db.session.scalar(select(Job)) is None
