"""The contract PDF: Chinese clauses, figures, the tranche table and signature blocks (pdftotext), the same
text twice for the same data, and fast enough to render in the request."""
from __future__ import annotations

import subprocess
import time

from incubator.core.files import read_bytes
from incubator.projects.contracts import services
from tests.projects.contracts.helpers import contract_world, generated


def pdftotext(data: bytes, tmp_path, name="c.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_pdf_has_the_clauses_figures_and_signature_blocks(db, tmp_path):
    project, staff, _ = contract_world("100000.00")
    c = generated(project, staff)
    text = pdftotext(read_bytes(c.pdf_file), tmp_path)
    flat = "".join(text.split())
    for words in ("政府购买服务合同", "第一条服务内容", "第二条服务期限", "第三条服务数量", "第四条服务质量",
                  "第五条合同价格", "第六条资金结算方式", "第七条甲方权利义务", "第八条乙方权利义务",
                  "第九条违约责任", "第十条争议解决", "第十一条其他"):
        assert words in flat, words
    assert "为社区老人提供助餐、探访服务" in flat
    assert "服务老人200名" in flat and "满意度≥90%" in flat
    assert "人民币壹拾万元整（¥100,000.00）" in flat
    assert "2026年3月1日至2027年2月28日" in flat
    assert "¥50,000.00" in flat and "¥30,000.00" in flat and "¥20,000.00" in flat
    assert "签约后" in flat and "中期评估合格后" in flat and "结项验收后" in flat
    assert "甲方（盖章）" in flat and "乙方（盖章）" in flat
    assert flat.count("法定代表人或授权代表（签字）") == 2
    assert project.org.name in flat and c.number in flat


def test_same_data_renders_the_same_text_twice(db, tmp_path):
    project, staff, _ = contract_world()
    c = generated(project, staff)
    first = pdftotext(read_bytes(c.pdf_file), tmp_path, "a.pdf")
    again = pdftotext(services.render_contract_pdf(c.content), tmp_path, "b.pdf")
    assert first == again
    sha = c.content_sha256
    services.regenerate(c, by=staff)
    assert c.content_sha256 == sha and c.pdf_file_id is None
    services.attach_pdf(c)
    assert pdftotext(read_bytes(c.pdf_file), tmp_path, "c.pdf") == first


def test_text_from_users_is_escaped_in_the_pdf(db, tmp_path):
    project, staff, _ = contract_world(service_content="<script>alert(1)</script><b>加粗</b>")
    c = generated(project, staff)
    flat = "".join(pdftotext(read_bytes(c.pdf_file), tmp_path).split())
    assert "<script>alert(1)</script><b>加粗</b>" in flat


def test_the_pdf_is_rendered_by_a_job(db, run_jobs, tmp_path):
    from incubator.core.jobs import Job, JobStatus

    project, staff, _ = contract_world()
    c = services.generate(project, by=staff)
    assert c.pdf_file_id is None and c.pdf_job_id is not None
    cid, job_id = c.id, c.pdf_job_id
    run_jobs()
    c = db.session.get(type(c), cid)
    job = db.session.get(Job, job_id)
    assert job.status == JobStatus.FINISHED and job.result_file_id == c.pdf_file_id is not None
    assert "第一条" in pdftotext(read_bytes(c.pdf_file), tmp_path)


def test_a_stale_job_does_nothing(db, run_jobs):
    """Regenerated before the first job ran: the first job finds a newer snapshot and leaves it alone."""
    from incubator.core.jobs import Job, JobStatus
    from incubator.projects.contracts.jobs import render_contract_job

    project, staff, _ = contract_world()
    c = services.generate(project, by=staff)
    first_job = c.pdf_job_id
    project.title = "社区居家养老服务项目（调整）"
    services.regenerate(c, by=staff)
    cid = c.id
    run_jobs()
    c = db.session.get(type(c), cid)
    assert c.pdf_file_id is not None and db.session.get(Job, first_job).status == JobStatus.FINISHED
    # run the job again by hand: idempotent, no second file
    file_id = c.pdf_file_id
    render_contract_job(db.session.get(Job, c.pdf_job_id), c.id, c.content_sha256)
    assert c.pdf_file_id == file_id


def test_render_time(db):
    """Measured to choose job vs request (see the services docstring); printed with -s."""
    project, staff, _ = contract_world()
    c = generated(project, staff)
    t0 = time.perf_counter()
    services.render_contract_pdf(c.content)
    print(f"contract PDF: {(time.perf_counter() - t0) * 1000:.0f} ms")
