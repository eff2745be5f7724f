"""社会组织信息登记表: a background job renders Chinese text into a stored PDF."""
from __future__ import annotations

import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest

from incubator.accounts.models import Role
from incubator.core.files import read_bytes
from incubator.core.jobs import Job, JobStatus, start_job
from incubator.orgs.jobs import render_profile_pdf
from incubator.orgs.models import CreditKind
from tests.conftest import login_as
from tests.factories import make_district, make_org, make_user
from tests.orgs.helpers import make_credit, make_rating, make_report


def pdf_text(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.pdf"
        path.write_bytes(data)
        out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    return "".join(out.split())  # table cells wrap: compare without whitespace


@pytest.fixture()
def org(db):
    district = make_district(name="洛龙区", code="410311")
    org = make_org(district=district, name="洛阳市洛龙区阳光社会工作服务中心", legal_rep="张伟", intro="<script>alert(1)</script>服务老人")
    make_report(org, 2025)
    make_rating(org, grade=4, awarded_on=date(2024, 6, 1))
    make_credit(org, kind=CreditKind.ABNORMAL_LIST, start_on=date(2025, 1, 6), end_on=date(2025, 7, 6), removed_on=date(2025, 3, 10))
    db.session.commit()
    return org


def test_job_function_renders_chinese_and_attaches_the_file(db, org):
    staff = make_user(Role.STAFF)
    job = start_job(render_profile_pdf, org.id, title="登记表", user=staff)
    db.session.commit()
    render_profile_pdf(job, org.id)
    db.session.commit()
    assert job.progress == 100 and job.result_file_id
    data = read_bytes(job.result_file)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    for expected in ["社会组织信息登记表", "洛阳市洛龙区阳光社会工作服务中心", "统一社会信用代码", org.uscc, "张伟",
                     "2025年度", "合格", "4A", "活动异常名录", "已移出", "第1页", "<script>alert(1)</script>服务老人"]:
        assert expected in text, expected
    assert job.result_file.original_name.endswith(".pdf") and job.result_file.content_type == "application/pdf"
    # Safe to run twice: a job that has its file keeps it.
    first = job.result_file_id
    render_profile_pdf(job, org.id)
    assert job.result_file_id == first


def test_route_starts_the_job_and_redirects_to_its_page(app, client, db, org):
    staff = make_user(Role.STAFF, district=org.district)
    db.session.commit()
    login_as(client, staff)
    app.config["JOBS_SYNC"] = True
    try:
        r = client.post(f"/orgs/{org.id}/profile-pdf")
    finally:
        app.config["JOBS_SYNC"] = False
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    db.session.expire_all()
    job = db.session.scalar(db.select(Job))
    assert job.user_id == staff.id and job.kind == "org_profile_pdf"
    assert job.status == JobStatus.FINISHED, job.error
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200 and "洛阳市洛龙区阳光社会工作服务中心" in pdf_text(download.get_data())
    download.close()


def test_member_may_request_own_profile_but_not_another(client, db, org):
    member = make_user(Role.APPLICANT, org=org, is_org_admin=False)
    other = make_org(district=org.district)
    db.session.commit()
    login_as(client, member)
    assert client.post(f"/orgs/{org.id}/profile-pdf").status_code == 302
    assert client.post(f"/orgs/{other.id}/profile-pdf").status_code == 404
    assert db.session.scalar(db.select(db.func.count(Job.id))) == 1
