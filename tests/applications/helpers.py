"""Factories of the applications domain (plus a complete, valid editor form)."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

from werkzeug.datastructures import FileStorage, MultiDict

from incubator.accounts.models import Role
from incubator.applications import services
from incubator.applications.forms import parse_draft
from incubator.applications.models import Application, ApplicationStatus
from incubator.calls.models import BudgetCategory, CallAttachmentType, CallBudgetCap, CallField, FieldKind
from incubator.db import utcnow
from incubator.extensions import db
from tests.calls.helpers import make_call as _make_call
from tests.factories import make_org as _make_org
from tests.factories import make_user

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_call(**kw):
    """An open city call: grant ¥10,000–¥100,000, ≤ 60 % of the budget, personnel ≤ 30 %."""
    caps = kw.pop("caps", {BudgetCategory.PERSONNEL: Decimal("30")})
    call = _make_call(**kw)
    for category, share in caps.items():
        call.budget_caps.append(CallBudgetCap(category=category, max_share=share))
    db.session.flush()
    return call


def make_org(**kw):
    """A verified organisation with a passed annual report for the last year that was due."""
    from incubator.db import today_local
    from incubator.orgs.eligibility import last_due_report_year
    from incubator.orgs.models import AnnualReport, AnnualReportResult

    org = _make_org(**kw)
    for year in (last_due_report_year(today_local()), last_due_report_year(today_local()) - 1):
        db.session.add(AnnualReport(org_id=org.id, year=year, result=AnnualReportResult.PASS))
    db.session.flush()
    db.session.refresh(org)
    return org


def add_extra_field(call, label="项目实施社区", kind=FieldKind.TEXT, required=True, choices=None) -> CallField:
    f = CallField(label=label, kind=kind, required=required, choices=choices or [], position=len(call.fields))
    call.fields.append(f)
    db.session.flush()
    return f


def add_attachment_type(call, name="登记证书副本", required=True, allowed=("pdf", "jpg")) -> CallAttachmentType:
    t = CallAttachmentType(name=name, required=required, allowed_extensions=list(allowed), position=len(call.attachment_types))
    call.attachment_types.append(t)
    db.session.flush()
    return t


def make_member(org=None, **kw):
    org = org or make_org()
    return make_user(Role.APPLICANT, org=org, **kw)


def form_data(call=None, **overrides) -> dict:
    """A complete, valid editor post: grant 36,000 + matching 24,000 = 60,000 (60 %)."""
    data = {
        "editor": "1",
        "title": "“银龄互助”社区居家养老服务项目",
        "field": "elderly",
        "service_communities": "洛龙区开元路街道翠云社区、龙门社区",
        "beneficiaries_description": "辖区内60岁以上独居、空巢老人",
        "beneficiaries_count": "300",
        "period_start": "2026-07-01",
        "period_end": "2027-06-30",
        "supervisor": "洛龙区开元路街道办事处",
        "requester": "翠云社区居民委员会",
        "summary": "为独居老人提供探访与互助服务。",
        "need_analysis": "辖区老龄化率达23%，独居老人缺少日常照应。",
        "overall_goal": "建立社区互助养老网络。",
        "sub_goals": "组建志愿者队伍50人\n开展探访服务1200人次",
        "risks": "志愿者流失：建立激励机制。",
        "plan-0-start": "2026-07-01",
        "plan-0-end": "2026-08-31",
        "plan-0-content": "需求调研与志愿者招募",
        "plan-0-output": "需求评估报告1份",
        "team-0-name": "周敏",
        "team-0-education": "本科",
        "team-0-major": "社会工作",
        "team-0-role": "项目负责人",
        "team-0-qualification": "中级社工师",
        "team-0-insured": "yes",
        "team-0-time_on_project": "每周30小时",
        "budget-0-category": "activity",
        "budget-0-item": "社区探访活动",
        "budget-0-unit": "场",
        "budget-0-unit_price": "1200",
        "budget-0-quantity": "30",
        "budget-0-source": "grant",
        "budget-0-note": "每场物料及交通",
        "budget-1-category": "personnel",
        "budget-1-item": "项目社工补贴",
        "budget-1-unit": "月",
        "budget-1-unit_price": "1500",
        "budget-1-quantity": "12",
        "budget-1-source": "matching",
        "budget-1-note": "1名社工12个月",
        "budget-2-category": "materials",
        "budget-2-item": "宣传物料",
        "budget-2-unit": "批",
        "budget-2-unit_price": "6000",
        "budget-2-quantity": "1",
        "budget-2-source": "matching",
        "budget-2-note": "",
        "bank_account_name": "洛阳市测试社会服务中心",
        "bank_name": "中国银行洛阳分行",
        "bank_account_number": "6217 0000 1234 5678",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_application(call=None, org=None, *, by=None, complete: bool = True, **overrides) -> Application:
    """A saved draft (complete by default) of ``org`` for ``call``."""
    call = call or make_call()
    org = org or make_org()
    by = by or make_member(org)
    app = services.start_application(call, org=org, by=by)
    if complete:
        data = form_data(call, bank_account_name=org.name, **overrides)
        services.save_draft(app, draft=parse_draft(MultiDict(data), call), by=by)
    db.session.flush()
    return app


def submitted_application(call=None, org=None, *, by=None, now: datetime | None = None, **overrides) -> Application:
    call = call or make_call()
    org = org or make_org()
    by = by or make_member(org)
    app = make_application(call, org, by=by, **overrides)
    services.submit(app, by=by, now=now)
    return app


def pdf_upload(name: str = "登记证书.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(PDF_BYTES), filename=name, content_type="application/pdf")


def set_status(app: Application, status: ApplicationStatus, **fields) -> Application:
    """Force a status in tests of screening-owned states (bypasses the table on purpose)."""
    app.status = status
    for k, v in fields.items():
        setattr(app, k, v)
    db.session.flush()
    return app


def days_from_now(days: int) -> datetime:
    return utcnow() + timedelta(days=days)


TODAY = date.today()
