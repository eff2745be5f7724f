"""The 绩效评价报告 PDF: Chinese indicator names, weights, points, total and grade (pdftotext), the same
text twice for the same data, made by a job and kept on the evaluation."""
from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal

import pytest

from incubator.core.files import read_bytes
from incubator.extensions import db as _db
from incubator.projects.evaluations import services
from incubator.projects.evaluations.jobs import render_report_bytes
from incubator.projects.evaluations.models import PerformanceEvaluation
from tests.projects.evaluations.helpers import evaluation_world, score

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def pdf_text(data: bytes, tmp_path, name="r.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def _confirmed(**kw):
    project, staff, evaluator, ev = evaluation_world()
    score(ev, Decimal("78.5"), bonus=Decimal("2"), bonus_note="获区级优秀案例", summary="<b>总体</b>按计划推进。", **kw)
    services.confirm_evaluation(ev, by=staff, report=False)
    return project, staff, evaluator, ev


def test_report_text(db, tmp_path):
    project, staff, evaluator, ev = _confirmed()
    text = pdf_text(render_report_bytes(ev), tmp_path)
    for expected in ("项目中期评估绩效评价报告", project.number, project.title, "项目实施", "活动完成率", "台账管理",
                     "资金使用合规性", "80.50", "合格", "获区级优秀案例", "<b>总体</b>按计划推进。", evaluator.name,
                     "第三方评估机构", "逾期未交报告 0 份", "优秀 ≥ 90"):
        assert expected in text, expected
    # the weights and points of each leaf
    assert "40.00" in text and "18.50" in text and "20.00" in text


def test_same_text_twice(db, tmp_path):
    project, staff, evaluator, ev = _confirmed()
    first = pdf_text(render_report_bytes(ev), tmp_path, "a.pdf")
    _db.session.expire_all()
    second = pdf_text(render_report_bytes(_db.session.get(PerformanceEvaluation, ev.id)), tmp_path, "b.pdf")
    assert first == second


def test_job_stores_the_report_once(db, run_jobs, tmp_path):
    project, staff, evaluator, ev = evaluation_world()
    score(ev, 91)
    services.confirm_evaluation(ev, by=staff)  # queues the job
    run_jobs()
    ev = _db.session.get(PerformanceEvaluation, ev.id)
    assert ev.report_file_id is not None and len(ev.report_sha256) == 64
    text = pdf_text(read_bytes(ev.report_file), tmp_path)
    assert "91.00" in text and "优秀" in text
    first = ev.report_file_id
    services.request_report(ev, by=staff)
    run_jobs()
    assert _db.session.get(PerformanceEvaluation, ev.id).report_file_id == first


def test_report_only_after_confirmation(db):
    project, staff, evaluator, ev = evaluation_world()
    with pytest.raises(services.EvaluationError):
        services.request_report(ev, by=staff)
