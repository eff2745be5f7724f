"""System pages: my background jobs (admins: all), the developer outbox, working-day overrides."""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from incubator.core import workdays as cal
from incubator.core.files import send_stored
from incubator.core.jobs import STATUS_TONES, Job, JobStatus, queue_health, start_job
from incubator.core.mail import MAIL_TONES, OutgoingMail
from incubator.db import today_local
from incubator.extensions import db, login_manager
from incubator.system.forms import WorkdayOverrideForm

bp = Blueprint("system", __name__)

PER_PAGE = 20


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403)


def _load_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    if not job.can_view(current_user):
        abort(404)  # do not reveal that another user's job exists
    return job


# --- jobs --------------------------------------------------------------------------------------


@bp.get("/jobs")
@login_required
def jobs():
    scope = request.args.get("scope", "mine" if not current_user.is_admin else "all")
    if not current_user.is_admin:
        scope = "mine"
    if scope not in ("mine", "all", "system"):
        scope = "all"
    query = db.select(Job).options(selectinload(Job.user)).order_by(Job.id.desc())
    if scope == "mine":
        query = query.where(Job.user_id == current_user.id)
    elif scope == "all":
        query = query.where(Job.passes_job.is_(True))
    else:
        query = query.where(Job.passes_job.is_(False))
    status = request.args.get("status", "")
    if status in {s.value for s in JobStatus}:
        query = query.where(Job.status == JobStatus(status))
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    return render_template(
        "system/jobs.html",
        page=page,
        scope=scope,
        status=status,
        statuses=JobStatus,
        tones=STATUS_TONES,
        health=queue_health() if current_user.is_admin else None,
    )


@bp.post("/jobs/selftest")
@login_required
def selftest():
    from incubator.system.jobs import selftest_report

    waiting = db.session.scalar(
        db.select(Job).where(
            Job.user_id == current_user.id,
            Job.kind == "selftest",
            Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        )
    )
    if waiting is not None:
        flash("您已有一个系统自检任务尚未完成，请等待其完成。", "warning")
        return redirect(url_for("system.job", job_id=waiting.id))
    job = start_job(selftest_report, title="系统自检报告", user=current_user, kind="selftest")
    db.session.commit()
    flash("已提交系统自检任务，完成后可下载报告。", "success")
    return redirect(url_for("system.job", job_id=job.id))


def job_payload(job: Job) -> dict:
    download = (
        url_for("system.job_download", job_id=job.id)
        if job.status == JobStatus.FINISHED and job.result_file_id
        else None
    )
    return {
        "id": job.id,
        "status": job.status.value,
        "status_label": job.status.label,
        "tone": STATUS_TONES[job.status.value],
        "progress": job.progress,
        "message": job.message or "",
        "done": job.is_done,
        "download_url": download,
        "error": job.error if (job.status == JobStatus.FAILED and current_user.is_admin) else None,
    }


@bp.get("/jobs/<int:job_id>")
@login_required
def job(job_id: int):
    job = _load_job(job_id)
    health = queue_health() if job.status == JobStatus.QUEUED else None
    return render_template("system/job.html", job=job, payload=job_payload(job), tones=STATUS_TONES, health=health)


@bp.get("/jobs/<int:job_id>/status")
@login_required
def job_status(job_id: int):
    job = _load_job(job_id)
    return jsonify(job_payload(job))


@bp.get("/jobs/<int:job_id>/download")
@login_required
def job_download(job_id: int):
    job = _load_job(job_id)
    if job.status != JobStatus.FINISHED or job.result_file is None:
        abort(404)
    return send_stored(job.result_file)


# --- developer outbox --------------------------------------------------------------------------

URL_RE = re.compile(r"(https?://[^\s<>\"'）)]+)")


def _segments(body: str) -> list[tuple[str, bool]]:
    """Split a mail body into (text, is_link) parts so links are clickable without |safe."""
    parts = URL_RE.split(body or "")
    return [(part, i % 2 == 1) for i, part in enumerate(parts) if part]


@bp.get("/dev/outbox")
def outbox():
    """Mail kept by MAIL_TRANSPORT=outbox. Development: anyone (demos, reset links); test: admins;
    any other environment: does not exist."""
    env = current_app.config.get("ENV_NAME")
    if env not in ("development", "test"):
        abort(404)
    if env != "development":
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        _require_admin()
    page = db.paginate(
        db.select(OutgoingMail).order_by(OutgoingMail.created_at.desc(), OutgoingMail.id.desc()),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("system/outbox.html", page=page, segments=_segments, tones=MAIL_TONES)


# --- working-day calendar ----------------------------------------------------------------------

WEEKDAYS = "一二三四五六日"


def _year_arg() -> int:
    raw = request.args.get("year", "")
    if raw.isdigit() and cal.MIN_YEAR <= int(raw) <= cal.MAX_YEAR:
        return int(raw)
    return today_local().year


def _months(year: int) -> list[dict]:
    """Twelve month grids (weeks of 7 cells, Monday first) for the calendar view."""
    days = cal.year_days(year)
    months = []
    for m in range(1, 13):
        cells = [(d, w, src) for d, w, src in days if d.month == m]
        lead = cells[0][0].weekday()
        grid: list = [None] * lead + [
            {"day": d.day, "date": d, "work": w, "source": src, "holiday": cal.holiday_name(d) if w is False else None}
            for d, w, src in cells
        ]
        while len(grid) % 7:
            grid.append(None)
        months.append({"month": m, "weeks": [grid[i : i + 7] for i in range(0, len(grid), 7)]})
    return months


def _render_workdays(year: int, form: WorkdayOverrideForm, status: int = 200):
    first, last = cal.package_years()
    defined = db.session.get(cal.CalendarYear, year)
    return (
        render_template(
            "system/workdays.html",
            year=year,
            form=form,
            overrides=cal.overrides_in_year(year),
            package_knows=cal.package_knows(year),
            package_range=(first, last),
            defined=defined,
            months=_months(year),
            weekdays=WEEKDAYS,
        ),
        status,
    )


@bp.get("/system/workdays")
@login_required
def workdays():
    _require_admin()
    year = _year_arg()
    form = WorkdayOverrideForm()
    if request.args.get("date"):
        try:
            form.day.data = dt.date.fromisoformat(request.args["date"])
        except ValueError:
            pass
    return _render_workdays(year, form)


@bp.post("/system/workdays")
@login_required
def workday_add():
    _require_admin()
    form = WorkdayOverrideForm()
    year = _year_arg()
    if not form.validate_on_submit():
        return _render_workdays(form.day.data.year if form.day.data else year, form, 422)
    try:
        row = cal.add_override(day=form.day.data, is_workday=form.kind.data == "workday", note=form.note.data, by=current_user)
    except cal.CalendarError as exc:
        db.session.rollback()
        form.day.errors = [*form.day.errors, str(exc)]
        return _render_workdays(form.day.data.year, form, 422)
    db.session.commit()
    flash(f"已添加：{row.date.year}年{row.date.month}月{row.date.day}日 {row.kind_label}。", "success")
    return redirect(url_for("system.workdays", year=row.date.year))


@bp.post("/system/workdays/<int:override_id>/delete")
@login_required
def workday_delete(override_id: int):
    _require_admin()
    row = db.session.get(cal.WorkdayOverride, override_id)
    if row is None:
        abort(404)
    year, label = row.date.year, f"{row.date.year}年{row.date.month}月{row.date.day}日 {row.kind_label}"
    cal.delete_override(row, by=current_user)
    db.session.commit()
    flash(f"已删除调整：{label}。", "success")
    return redirect(url_for("system.workdays", year=year))


@bp.post("/system/workdays/years/<int:year>/define")
@login_required
def workday_year_define(year: int):
    _require_admin()
    try:
        cal.define_year(year, by=current_user)
    except cal.CalendarError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return _render_workdays(year, WorkdayOverrideForm(formdata=None), 409)
    db.session.commit()
    flash(f"已确认{year}年的放假和调休安排录入完毕，该年度可以计算工作日。", "success")
    return redirect(url_for("system.workdays", year=year))


@bp.post("/system/workdays/years/<int:year>/undefine")
@login_required
def workday_year_undefine(year: int):
    _require_admin()
    row = db.session.get(cal.CalendarYear, year)
    if row is None:
        abort(404)
    cal.undefine_year(row, by=current_user)
    db.session.commit()
    flash(f"已撤销{year}年的录入确认，该年度暂不能计算工作日。", "warning")
    return redirect(url_for("system.workdays", year=year))
