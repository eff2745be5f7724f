"""The application PDF (申报书), made by a background job from a submitted version's snapshot.

``render_application_pdf(job, version_id)`` is idempotent: a version whose PDF exists already is
not rendered again (the same file is attached to the job). The PDF shows exactly what was
submitted (``ApplicationVersion.data``), with every section, the budget table and its totals,
the applicant's pledge and the signature-and-seal block.
"""
from __future__ import annotations

from decimal import Decimal

from incubator.applications.models import ApplicationVersion
from incubator.calls.models import BudgetCategory, FieldKind
from incubator.core.jobs import attach_result, report_progress
from incubator.db import utcnow
from incubator.extensions import db
from incubator.orgs.models import ServiceField
from incubator.web import format_date, format_datetime, format_money


def _d(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(value)


def _plain(value) -> str:
    """A quantity without trailing zeros: '30.00' → '30', '2.50' → '2.5'."""
    if value in (None, ""):
        return "—"
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _date_text(iso: str | None) -> str:
    if not iso:
        return "—"
    from datetime import date

    return format_date(date.fromisoformat(iso))


def _label(enum_cls, value) -> str:
    return enum_cls(value).label if value in enum_cls._value2member_map_ else (value or "—")


def pdf_context(version: ApplicationVersion) -> dict:
    """Plain values for templates/pdf/application.html."""
    app = version.application
    org = app.org
    call = app.call
    data = version.data or {}
    basic = data.get("basic", {}) or {}
    budget_rows = []
    by_category: dict[str, Decimal] = {}
    for b in data.get("budget", []) or []:
        amount = _d(b.get("amount"))
        cat = _label(BudgetCategory, b.get("category"))
        if amount is not None:
            by_category[cat] = by_category.get(cat, Decimal("0")) + amount
        budget_rows.append(
            {
                "category": cat,
                "item": b.get("item") or "",
                "unit": b.get("unit") or "",
                "unit_price": format_money(_d(b.get("unit_price"))),
                "quantity": _plain(b.get("quantity")),
                "amount": format_money(amount),
                "source": {"grant": "资助", "matching": "配套"}.get(b.get("source") or "", "—"),
                "note": b.get("note") or "",
            }
        )
    totals = data.get("totals", {}) or {}
    total = _d(totals.get("total_budget")) or Decimal("0")
    category_rows = [
        (cat, format_money(amount), f"{(amount * 100 / total).quantize(Decimal('0.1'))}%" if total else "—")
        for cat, amount in by_category.items()
    ]
    extra_values = data.get("extra", {}) or {}
    attachment_names = {a.get("slot"): a.get("name") for a in data.get("attachments", []) or []}
    extras = []
    for f in call.fields:
        if f.kind == FieldKind.FILE:
            extras.append((f.label, attachment_names.get(f"field:{f.id}") or "（未上传）"))
        else:
            extras.append((f.label, extra_values.get(str(f.id)) or "—"))
    attachments = [(t.name, attachment_names.get(f"type:{t.id}") or "（未上传）") for t in call.attachment_types]
    bank = data.get("bank", {}) or {}
    return {
        "title": "项目申报书",
        "doc_number": f"申报编号：{app.number}" + (f"（第{version.number}版）" if version.number > 1 else ""),
        "subtitle": call.title,
        "generated_at": utcnow(),
        "number": app.number,
        "version_number": version.number,
        "submitted_at": format_datetime(version.submitted_at),
        "call_title": call.title,
        "project_title": basic.get("title") or "",
        "org": {
            "name": org.name,
            "type": org.org_type.label,
            "code": org.uscc or org.filing_number or "—",
            "legal_rep": org.legal_rep,
            "contact": f"{org.contact_name}　{org.contact_phone}",
            "address": org.address,
            "registration_authority": org.registration_authority or "—",
            "founded_on": format_date(org.founded_on),
        },
        "basic_rows": [
            ("项目名称", basic.get("title") or ""),
            ("服务领域", _label(ServiceField, basic.get("field"))),
            ("服务社区", basic.get("service_communities") or ""),
            ("受益对象", basic.get("beneficiaries_description") or ""),
            ("直接受益人数", f"{basic.get('beneficiaries_count')}人" if basic.get("beneficiaries_count") else "—"),
            ("项目周期", f"{_date_text(basic.get('period_start'))} 至 {_date_text(basic.get('period_end'))}"),
            ("监管方（街道/社区）", basic.get("supervisor") or ""),
            ("需求方", basic.get("requester") or ""),
        ],
        "summary": basic.get("summary") or "",
        "need_analysis": (data.get("need", {}) or {}).get("need_analysis") or "",
        "risks": (data.get("need", {}) or {}).get("risks") or "",
        "overall_goal": (data.get("goals", {}) or {}).get("overall_goal") or "",
        "sub_goals": (data.get("goals", {}) or {}).get("sub_goals") or [],
        "plan": [
            {
                "period": f"{_date_text(r.get('start'))} 至 {_date_text(r.get('end'))}",
                "content": r.get("content") or "",
                "output": r.get("output") or "",
            }
            for r in data.get("plan", []) or []
        ],
        "team": [
            {
                **{k: m.get(k) or "" for k in ("name", "education", "major", "role", "qualification", "time_on_project")},
                "insured": {True: "是", False: "否"}.get(m.get("insured"), "—"),
            }
            for m in data.get("team", []) or []
        ],
        "budget_rows": budget_rows,
        "category_rows": category_rows,
        "grant_requested": format_money(_d(totals.get("grant_requested"))),
        "matching_amount": format_money(_d(totals.get("matching_amount"))),
        "total_budget": format_money(total),
        "extras": extras,
        "attachments": attachments,
        "bank_rows": [
            ("户名", bank.get("bank_account_name") or ""),
            ("开户行", bank.get("bank_name") or ""),
            ("账号", bank.get("bank_account_number") or ""),
        ],
        "signatures": [
            {"role": "申报单位", "name": org.name, "signer": "法定代表人", "seal": True},
            {"role": "社区（村）意见", "name": basic.get("supervisor") or "", "signer": "负责人", "seal": True},
        ],
    }


def render_application_pdf(job, version_id: int) -> None:
    from incubator.core.files import save_generated
    from incubator.core.pdf import render_pdf

    version = db.session.get(ApplicationVersion, version_id)
    if version is None:
        raise LookupError("申报书版本不存在")
    if version.pdf_file_id is not None:  # already made (a second run): attach it again
        attach_result(job, version.pdf_file)
        return
    report_progress(job, 20, "正在生成申报书PDF…")
    version = db.session.get(ApplicationVersion, version_id)
    data = render_pdf("pdf/application.html", **pdf_context(version))
    app = version.application
    suffix = f"-第{version.number}版" if version.number > 1 else ""
    sf = save_generated(data, filename=f"申报书-{app.number}{suffix}.pdf", content_type="application/pdf")
    version.pdf_file_id = sf.id
    attach_result(job, sf)
    job.message = "申报书PDF已生成，可以下载"  # committed with 已完成 (not "正在生成…" on a finished job)
