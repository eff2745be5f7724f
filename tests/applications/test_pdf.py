"""The application PDF, made by the background job: Chinese text, totals, escaping, idempotence."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from incubator.applications import services
from incubator.applications.models import Application
from incubator.core.files import read_bytes
from incubator.core.jobs import Job, JobStatus
from incubator.extensions import db as _db
from tests.applications.helpers import add_extra_field, make_application, make_call, make_member, make_org
from tests.conftest import login_as

XSS = "<script>alert(1)</script>"


def pdftotext(data: bytes, mode: str = "-layout") -> str:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "a.pdf"
        path.write_bytes(data)
        return subprocess.run(["pdftotext", mode, str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture()
def submitted(db, run_jobs):
    call = make_call()
    add_extra_field(call, label="项目实施社区")
    org = make_org(name="洛阳市洛龙区阳光社会工作服务中心")
    member = make_member(org)
    app = make_application(call, org, by=member, **{
        "extra-" + str(call.fields[0].id): "翠云社区",
        "risks": XSS,
        "budget-2-note": '<img src=x onerror=alert(1)>',
    })
    version = services.submit(app, by=member)
    run_jobs()
    return _db.session.get(Application, app.id), member, version.id


def test_the_job_makes_a_pdf_with_the_title_org_and_total(submitted):
    app, _, _ = submitted
    version = app.versions[0]
    job = _db.session.get(Job, version.pdf_job_id)
    assert job.status == JobStatus.FINISHED and job.result_file_id == version.pdf_file_id
    data = read_bytes(version.pdf_file)
    assert data.startswith(b"%PDF")
    text = pdftotext(data)
    squeezed = "".join(text.split())
    assert "“银龄互助”社区居家养老服务项目" in squeezed
    assert "洛阳市洛龙区阳光社会工作服务中心" in squeezed
    assert "¥60,000.00" in text and "¥36,000.00" in text and "¥24,000.00" in text
    assert "WCT-2026-0001" in text
    for heading in ("项目基本信息", "需求分析", "项目目标", "实施计划", "项目团队", "项目预算", "补充信息", "收款账户"):
        assert heading in squeezed
    assert "翠云社区" in squeezed
    assert "法定代表人" in squeezed and "盖章" in squeezed and "社区（村）意见" in squeezed
    assert "第1页/共" in squeezed


def test_markup_appears_as_literal_text_in_the_pdf(submitted):
    app, _, _ = submitted
    text = pdftotext(read_bytes(app.versions[0].pdf_file), "-raw")  # table cells in reading order
    squeezed = "".join(text.split())
    assert "<script>alert(1)</script>" in squeezed
    assert "<imgsrc=xonerror=alert(1)>" in squeezed


def test_the_pdf_job_is_idempotent(submitted, run_jobs):
    from incubator.applications.jobs import render_application_pdf
    from incubator.core.jobs import start_job

    app, member, version_id = submitted
    first = app.versions[0].pdf_file_id
    job = start_job(render_application_pdf, version_id, title="again", user=member)
    run_jobs()
    job = _db.session.get(Job, job.id)
    assert job.status == JobStatus.FINISHED and job.result_file_id == first
    assert _db.session.get(Application, app.id).versions[0].pdf_file_id == first


def test_members_download_the_pdf_from_the_receipt(client, submitted):
    app, member, _ = submitted
    login_as(client, member)
    page = client.get(f"/applications/{app.id}/receipt").text
    link = f"/applications/{app.id}/files/{app.versions[0].pdf_file_id}"
    assert link in page and "下载申报书PDF" in page
    r = client.get(link)
    assert r.status_code == 200 and r.data.startswith(b"%PDF") and r.mimetype == "application/pdf"
    assert client.get(f"/applications/{app.id}/pdf").data == r.data


def test_receipt_while_the_pdf_is_being_made(client, db):
    org = make_org()
    member = make_member(org)
    app = make_application(make_call(), org, by=member)
    services.submit(app, by=member)
    _db.session.commit()
    login_as(client, member)
    page = client.get(f"/applications/{app.id}/receipt").text
    assert "正在后台生成" in page
    r = client.get(f"/applications/{app.id}/pdf")
    assert r.status_code == 302 and r.headers["Location"].endswith("/receipt")
