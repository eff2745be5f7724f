"""The 系统自检报告 job: checks the platform's moving parts and renders the result as a PDF.

It exercises every shared mechanism a real document job uses (database, queue, fonts, PDF
rendering, storage, progress reporting) so an operator can prove a deployment end to end.
"""
from __future__ import annotations

import shutil
import subprocess
import time

from flask import current_app
from sqlalchemy import text

from incubator.db import today_local, utcnow
from incubator.extensions import db


def _pause() -> None:
    seconds = float(current_app.config.get("SELFTEST_STEP_SECONDS", 0) or 0)
    if seconds > 0:
        time.sleep(seconds)


def _cjk_fonts() -> list[str]:
    if not shutil.which("fc-list"):
        return []
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=10, check=False).stdout
    names = {name.strip() for line in out.splitlines() for name in line.split(",")}
    return sorted(n for n in names if n in ("Noto Sans CJK SC", "Noto Serif CJK SC"))


def selftest_report(job) -> None:
    """Render the self-test PDF and attach it to ``job``; safe to run twice."""
    from incubator.core import workdays
    from incubator.core.files import save_generated
    from incubator.core.jobs import attach_result, queue_health, report_progress
    from incubator.core.pdf import render_pdf

    if job.result_file_id:
        return
    checks: list[dict] = []

    report_progress(job, 5, "检查数据库连接")
    db.session.execute(text("SELECT 1"))
    checks.append({"name": "数据库", "ok": True, "detail": f"连接正常（{db.engine.dialect.name}）"})
    _pause()

    report_progress(job, 25, "检查队列服务")
    health = queue_health()
    checks.append({"name": "队列服务（Redis）", "ok": health.get("redis") == "ok",
                   "detail": "连接正常" if health.get("redis") == "ok" else "无法连接"})
    checks.append({"name": "后台任务进程", "ok": health.get("worker") == "ok",
                   "detail": f"在线 {health.get('workers', 0)} 个" if health.get("worker") == "ok" else "未检测到"})
    _pause()

    report_progress(job, 45, "检查中文字体与排版组件")
    fonts = _cjk_fonts()
    checks.append({"name": "中文字体", "ok": len(fonts) == 2, "detail": "、".join(fonts) or "未找到 Noto CJK 字体"})
    checks.append({"name": "PDF 字体子集化（HarfBuzz）", "ok": True, "detail": "可用"})
    _pause()

    report_progress(job, 60, "检查工作日历")
    first, last = workdays.package_years()
    today = today_local()
    try:
        due = workdays.add_workdays(today, 5)
        checks.append({"name": "工作日历", "ok": True,
                       "detail": f"内置 {first}—{last} 年；今天起第 5 个工作日为 {due.year}年{due.month}月{due.day}日"})
    except workdays.UnknownCalendarYear as exc:
        checks.append({"name": "工作日历", "ok": False, "detail": str(exc)})
    _pause()

    report_progress(job, 75, "生成PDF文档")
    data = render_pdf(
        "pdf/selftest.html",
        title="系统自检报告",
        doc_number=f"自检〔{today.year}〕{job.id}号",
        checks=checks,
        requested_by=job.user.name if job.user else "系统",
        job_id=job.id,
        generated_at=utcnow(),
        today=today,
    )
    _pause()

    report_progress(job, 90, "保存文件")
    stored = save_generated(data, filename=f"系统自检报告-{today:%Y%m%d}-{job.id}.pdf",
                            content_type="application/pdf", by=job.user)
    attach_result(job, stored)
    report_progress(job, 100, "已完成，可以下载报告")
