"""Background job of 绩效评价: the evaluation report PDF (templates/pdf/evaluation_report.html).

Started by ``services.request_report`` when staff confirm an evaluation (and again on request if it
failed). Measured: a two-page report renders in about 0.2–0.3 s warm but well over a second in a cold
process (WeasyPrint import and font loading), so it is a job, not part of the confirming request.
"""
from __future__ import annotations

from incubator.extensions import db


def render_report_bytes(ev) -> bytes:
    from incubator.core.pdf import render_pdf
    from incubator.projects.evaluations.services import report_context

    return render_pdf("pdf/evaluation_report.html", **report_context(ev))


def render_evaluation_report(job, evaluation_id: int) -> None:
    """Render, store and attach the report; safe to run twice (an evaluation keeps its first report)."""
    from incubator.core.files import StoredFile
    from incubator.core.jobs import attach_result, report_progress
    from incubator.projects.evaluations.models import EvaluationStatus, PerformanceEvaluation
    from incubator.projects.evaluations.services import attach_report

    if getattr(job, "result_file_id", None):
        return
    ev = db.session.get(PerformanceEvaluation, evaluation_id)
    if ev is None:
        raise LookupError(f"绩效评价 #{evaluation_id} 不存在")
    if ev.status != EvaluationStatus.CONFIRMED:
        raise ValueError("评价尚未确认，不能生成评价报告")
    if ev.report_file_id:
        attach_result(job, db.session.get(StoredFile, ev.report_file_id))
        return
    report_progress(job, 30, "排版生成评价报告")
    data = render_report_bytes(ev)
    report_progress(job, 80, "保存文件")
    stored = attach_report(ev, data, by=getattr(job, "user", None))
    attach_result(job, stored)
    report_progress(job, 100, "已完成，可以下载")
    db.session.flush()
