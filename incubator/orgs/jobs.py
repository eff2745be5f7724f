"""Background jobs of the registry: the 社会组织信息登记表 PDF, the Excel export of many organisations."""
from __future__ import annotations

from incubator.db import today_local, utcnow
from incubator.extensions import db
from incubator.web import format_date, format_datetime


def profile_context(org, day) -> dict:
    """Plain values for templates/pdf/org_profile.html (the PDF template never touches models)."""
    rating = org.current_rating(day)
    return {
        "org": {
            "name": org.name,
            "type": org.org_type.label,
            "is_filed": org.is_filed,
            "code_label": "备案编号" if org.is_filed else "统一社会信用代码",
            "code": org.identifier,
            "host": org.host_org.name if org.host_org else "",
            "district": org.district.name if org.district else "",
            "street": org.street.name if org.street else "",
            "community": org.community.name if org.community else "",
            "address": org.address,
            "founded_on": format_date(org.founded_on),
            "registration_authority": org.registration_authority or "",
            "legal_rep": org.legal_rep,
            "contact_name": org.contact_name,
            "contact_phone": org.contact_phone,
            "contact_email": org.contact_email or "",
            "fields": "、".join(f.label for f in org.fields),
            "staff_count": org.staff_count,
            "social_worker_count": org.social_worker_count,
            "party": ("已建立" + (f"（{org.party_org_note}）" if org.party_org_note else "")) if org.has_party_org else "未建立",
            "intro": org.intro or "",
            "status": org.status.label,
            "verified_at": format_datetime(org.verified_at) if org.verified_at else "",
            "rating": rating.label if rating else "无有效等级",
            "rating_until": format_date(rating.expires_on) if rating else "",
        },
        "annual_reports": [
            {"year": r.year, "result": r.result.label, "note": r.note or ""}
            for r in sorted(org.annual_reports, key=lambda r: r.year, reverse=True)
        ],
        "ratings": [
            {"grade": r.label, "awarded_on": format_date(r.awarded_on), "expires_on": format_date(r.expires_on), "source": r.source or ""}
            for r in sorted(org.ratings, key=lambda r: r.awarded_on, reverse=True)
        ],
        "credit_records": [
            {
                "kind": c.kind.label,
                "reason": c.reason,
                "source": c.source,
                "start_on": format_date(c.start_on),
                "end_on": format_date(c.end_on),
                "removed_on": format_date(c.removed_on) if c.removed_on else "",
                "state": c.state_on(day),
            }
            for c in sorted(org.credit_records, key=lambda c: c.start_on, reverse=True)
        ],
        "generated_at": utcnow(),
        "document_title": "社会组织信息登记表",
    }


def render_profile_pdf(job, org_id: int) -> None:
    """Render, store and attach the profile PDF; safe to run twice (a finished job keeps its file)."""
    from incubator.core.files import save_generated
    from incubator.core.jobs import attach_result, report_progress
    from incubator.core.pdf import render_pdf
    from incubator.orgs.services import load_for_detail

    if getattr(job, "result_file_id", None):
        return
    report_progress(job, 10, "读取组织信息")
    org = load_for_detail(org_id)
    if org is None:
        raise LookupError(f"组织 #{org_id} 不存在")
    context = profile_context(org, today_local())
    report_progress(job, 40, "排版生成PDF")
    data = render_pdf("pdf/org_profile.html", **context)
    report_progress(job, 80, "保存文件")
    stored = save_generated(
        data,
        filename=f"社会组织信息登记表-{org.name}.pdf",
        content_type="application/pdf",
        by=getattr(job, "user", None),
    )
    attach_result(job, stored)
    report_progress(job, 100, "已完成")
    db.session.flush()


class ExportRefused(Exception):
    """The user who started the export may no longer see the registry (disabled, or role changed)."""


def export_registry(job, user_id: int, args: dict, on: str) -> None:
    """Build, store and attach the registry export under ``args`` (the list's query string) as
    ``user_id`` sees it on day ``on`` (district staff: their district); safe to run twice."""
    from datetime import date

    from incubator.accounts.models import Role, User
    from incubator.core.excel import XLSX_MIME, build_xlsx
    from incubator.core.files import save_generated
    from incubator.core.jobs import attach_result, report_progress
    from incubator.orgs import services

    if getattr(job, "result_file_id", None):
        return
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.role not in (Role.STAFF, Role.ADMIN):
        raise ExportRefused("您已无权导出社会组织名录")
    filters = services.OrgFilters.from_args(args)
    filters.on = date.fromisoformat(on)
    report_progress(job, 10, "读取组织信息并生成表格")
    # The rows stream from an open cursor: no commit (report_progress) until the workbook is done.
    data = build_xlsx(services.EXPORT_HEADERS, services.export_rows(user, filters))
    report_progress(job, 85, "保存文件")
    stored = save_generated(data, filename=f"社会组织名录-{filters.on:%Y%m%d}.xlsx", content_type=XLSX_MIME, by=user)
    attach_result(job, stored)
    report_progress(job, 100, "已完成，可以下载")
    db.session.flush()
