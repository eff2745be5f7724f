"""Services of contracts: templates, generating the PDF, signing, countersigning, publication, amendments.

They take model objects and typed keyword arguments, flush and never commit. Refusals raise
``ContractError`` (Chinese message; ``status_code`` 409 for the wrong state, 422 for bad input, 403 for a
user without the right).

Flow: ``generate`` (staff; version 1, or the open version again while the organisation has not signed)
→ ``upload_org_signed`` (a member of the organisation: its signed and stamped scan) → ``countersign``
(staff: the copy both parties stamped, and the signing day; the contract comes into force, the project's
「签约后」 tranches open through ``mark_condition_met``) → ``publish`` (staff: the summary goes on the
public site; due 2 working days after signing). ``amend`` starts a new version linked to the contract in
force; when it comes into force the old one is superseded. A contract in force is never regenerated.

Deadlines (政府购买服务管理办法, 政府采购 rules; settings in comments): signing is due ``SIGNING_DAYS``
after the result (a grant project: the day its funding list's 公示 was finalised; otherwise, and for
purchases, the launch day; an amendment: the day it was started), warned ``WARN_DAYS`` before;
publication is due ``PUBLISH_WORKDAYS`` working days after signing.

The PDF renders as a background job (``jobs.render_contract_job``): a three-page contract took 0.6–1.4 s
warm on this 2-core machine under the load of a normal day (measured; the font subsetting alone ~0.2 s),
more than the half second a request may spend. ``attach_pdf`` renders at once (the job, the demo).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from incubator.core import audit
from incubator.core.states import transition
from incubator.core.workdays import UnknownCalendarYear, add_workdays
from incubator.db import to_local, today_local, utcnow
from incubator.extensions import db
from incubator.projects.contracts.clauses import (
    DEFAULT_CLAUSES,
    DEFAULT_TITLES,
    PLACEHOLDERS,
    clause_blocks,
    rmb_upper,
    unknown_placeholders,
)
from incubator.projects.contracts.models import Contract, ContractStatus, ContractTemplate
from incubator.projects.models import Project, ProjectKind, ProjectStatus, TrancheCondition

SIGNING_DAYS = 30  # 政府购买服务管理办法 / 政府采购: sign within 30 days of the award notice
WARN_DAYS = 7  # [design] warn a week before the signing deadline
PUBLISH_WORKDAYS = 2  # 政府采购: publish the contract within 2 working days of signing
SCAN_EXTENSIONS = {"pdf", "jpg", "jpeg", "png"}
SCAN_MAX_BYTES = 20 * 1024 * 1024  # app setting CONTRACT_SCAN_MAX_BYTES
MAX_CLAUSES = 40
MAX_CLAUSE_CHARS = 4000
MAX_REASON_CHARS = 2000
PDF_TEMPLATE = "pdf/contract.html"


class ContractError(Exception):
    """A refused change; ``message`` is Chinese and shown to the user."""

    def __init__(self, message: str, status_code: int = 409):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def _fail(message: str, status_code: int = 409):
    raise ContractError(message, status_code)


# ---------------------------------------------------------------- permissions

def may_edit_templates(user) -> bool:
    from incubator.accounts.models import Role

    return bool(getattr(user, "is_authenticated", False)) and user.role in (Role.STAFF, Role.ADMIN)


def _require_manager(project: Project, by) -> None:
    if not project.can_manage(by):
        _fail("只有该项目所在辖区的民政工作人员可以办理合同", 403)


def _require_member(project: Project, by) -> None:
    if not project.org.is_member(by):
        _fail("只有承接组织的成员可以上传签章合同", 403)


def _require_active(project: Project) -> None:
    if project.status in (ProjectStatus.CLOSED, ProjectStatus.TERMINATED):
        _fail(f"项目{project.status.label}，不能再办理合同")


# ---------------------------------------------------------------- templates

def default_template(kind: ProjectKind, *, by=None) -> ContractTemplate:
    """The default template of ``kind``; created from the built-in clauses the first time it is needed."""
    kind = ProjectKind(kind)
    row = db.session.scalar(select(ContractTemplate).where(ContractTemplate.kind == kind,
                                                           ContractTemplate.is_default.is_(True))
                            .order_by(ContractTemplate.id))
    if row is None:
        row = ContractTemplate(name=f"{DEFAULT_TITLES[kind.value]}（默认）", kind=kind,
                               title=DEFAULT_TITLES[kind.value], clauses=[dict(c) for c in DEFAULT_CLAUSES[kind.value]],
                               is_default=True, updated_by_id=getattr(by, "id", None))
        db.session.add(row)
        db.session.flush()
        audit.record("contract_template.created", row, after={"name": row.name, "kind": kind}, actor=by)
    return row


def templates_for(kind: ProjectKind) -> list[ContractTemplate]:
    return list(db.session.scalars(select(ContractTemplate).where(ContractTemplate.kind == ProjectKind(kind))
                                   .order_by(ContractTemplate.is_default.desc(), ContractTemplate.name)))


def create_template(kind: ProjectKind, *, name: str, by) -> ContractTemplate:
    """A new template of ``kind``, starting from the built-in clauses."""
    if not may_edit_templates(by):
        _fail("只有民政工作人员或管理员可以编辑合同模板", 403)
    kind = ProjectKind(kind)
    name = (name or "").strip()[:100] or f"{DEFAULT_TITLES[kind.value]}（新模板）"
    has_default = db.session.scalar(select(func.count()).select_from(ContractTemplate)
                                    .where(ContractTemplate.kind == kind, ContractTemplate.is_default.is_(True)))
    row = ContractTemplate(name=name, kind=kind, title=DEFAULT_TITLES[kind.value],
                           clauses=[dict(c) for c in DEFAULT_CLAUSES[kind.value]], is_default=not has_default,
                           updated_by_id=by.id)
    db.session.add(row)
    db.session.flush()
    audit.record("contract_template.created", row, after={"name": row.name, "kind": kind}, actor=by)
    return row


def check_clauses(rows: list[tuple[str, str]]) -> tuple[list[dict[str, str]], dict[int, str]]:
    """Clean (heading, body) rows: blank rows dropped; returns (clauses, {row index: error})."""
    clauses: list[dict[str, str]] = []
    errors: dict[int, str] = {}
    for i, (heading, body) in enumerate(rows):
        heading = (heading or "").strip()
        body = (body or "").replace("\r\n", "\n").replace("\x00", "").strip()
        if not heading and not body:
            continue
        if not heading:
            errors[i] = "请填写条款标题"
        elif len(heading) > 40:
            errors[i] = "条款标题不超过40字"
        elif not body:
            errors[i] = "请填写条款内容"
        elif len(body) > MAX_CLAUSE_CHARS:
            errors[i] = f"条款内容不超过{MAX_CLAUSE_CHARS}字"
        else:
            unknown = unknown_placeholders(body) + unknown_placeholders(heading)
            if unknown:
                errors[i] = "未知的占位符：" + "、".join("{{" + u + "}}" for u in dict.fromkeys(unknown))
        clauses.append({"heading": heading, "body": body})
    if not clauses and not errors:
        errors[-1] = "合同至少需要一条条款"
    if len(clauses) > MAX_CLAUSES:
        errors[-1] = f"条款不超过{MAX_CLAUSES}条"
    return clauses, errors


def update_template(template: ContractTemplate, *, name: str, title: str, clauses: list[dict[str, str]],
                    is_default: bool, by) -> ContractTemplate:
    """Save a template's name, title and clauses (already checked with ``check_clauses``)."""
    if not may_edit_templates(by):
        _fail("只有民政工作人员或管理员可以编辑合同模板", 403)
    name, title = (name or "").strip(), (title or "").strip()
    if not name or not title:
        _fail("请填写模板名称和合同标题", 422)
    _, errors = check_clauses([(c["heading"], c["body"]) for c in clauses])
    if errors:
        _fail(next(iter(errors.values())), 422)
    before = {"name": template.name, "title": template.title, "clauses": len(template.clauses or []),
              "is_default": template.is_default}
    template.name, template.title = name[:100], title[:100]
    template.clauses = [dict(c) for c in clauses]
    if is_default and not template.is_default:
        for other in templates_for(template.kind):
            if other.id != template.id and other.is_default:
                other.is_default = False
    if is_default:
        template.is_default = True
    template.updated_by_id = by.id
    db.session.flush()
    audit.record("contract_template.updated", template, before=before,
                 after={"name": template.name, "title": template.title, "clauses": len(template.clauses),
                        "is_default": template.is_default}, actor=by)
    return template


# ---------------------------------------------------------------- deadlines

def result_days(projects: list[Project]) -> dict[int, date]:
    """{project id: the day of the result the signing deadline counts from} in one query (see the module
    docstring): a grant project's funding-list 公示 finalised day, else the launch day."""
    from incubator.publicity.models import FundingItem, FundingList, Publicity

    app_ids = [p.application_id for p in projects if p.kind == ProjectKind.GRANT and p.application_id is not None]
    finalized: dict[int, date] = {}
    if app_ids:
        rows = db.session.execute(
            select(FundingItem.application_id, Publicity.finalized_at)
            .join(FundingList, FundingList.id == FundingItem.list_id)
            .join(Publicity, Publicity.list_id == FundingList.id)
            .where(FundingItem.application_id.in_(app_ids), Publicity.finalized_at.is_not(None)))
        finalized = {app_id: to_local(at).date() for app_id, at in rows}
    out = {}
    for p in projects:
        day = finalized.get(p.application_id) if p.kind == ProjectKind.GRANT else None
        out[p.id] = day or (to_local(p.launched_at).date() if p.launched_at else today_local())
    return out


def result_day(project: Project) -> date:
    return result_days([project])[project.id]


def signing_due_on(project: Project) -> date:
    return result_day(project) + timedelta(days=SIGNING_DAYS)


def publish_due(signed_on: date) -> date:
    try:
        return add_workdays(signed_on, PUBLISH_WORKDAYS)
    except UnknownCalendarYear as exc:
        raise ContractError(str(exc), 409) from exc


@dataclass(frozen=True)
class Deadline:
    label: str
    due: date | None
    state: str  # "done", "ok", "soon", "overdue"
    note: str = ""
    done_on: date | None = None

    @property
    def tone(self) -> str:
        return {"done": "success", "ok": "secondary", "soon": "warning", "overdue": "danger"}[self.state]


def deadline(label: str, due: date | None, *, done_on: date | None = None, today: date | None = None,
             warn_days: int = WARN_DAYS) -> Deadline:
    today = today or today_local()
    if done_on is not None:
        late = due is not None and done_on > due
        return Deadline(label, due, "done", f"已于{done_on.year}年{done_on.month}月{done_on.day}日办理"
                        + (f"（逾期{(done_on - due).days}天）" if late else ""), done_on)
    if due is None:
        return Deadline(label, None, "ok", "")
    days = (due - today).days
    if days < 0:
        return Deadline(label, due, "overdue", f"已逾期{-days}天")
    if days <= warn_days:
        return Deadline(label, due, "soon", "今天到期" if days == 0 else f"还剩{days}天")
    return Deadline(label, due, "ok", f"还剩{days}天")


def deadlines(project: Project, contract: Contract | None, *, today: date | None = None) -> list[Deadline]:
    """Signing and publication deadlines of the project's current contract (or of the contract to come)."""
    today = today or today_local()
    if contract is None:
        if project.status != ProjectStatus.LAUNCHED:
            return []
        return [deadline("合同签订期限", signing_due_on(project), today=today)]
    out = [deadline("合同签订期限", contract.due_on, done_on=contract.signed_on, today=today)]
    if contract.signed_on is not None:
        published = to_local(contract.published_at).date() if contract.published_at else None
        out.append(deadline("合同摘要公开期限", contract.publish_due_on, done_on=published, today=today, warn_days=2))
    return out


# ---------------------------------------------------------------- reading

def contracts_of(project: Project) -> list[Contract]:
    """Every version, newest first."""
    return list(db.session.scalars(select(Contract).where(Contract.project_id == project.id)
                                   .order_by(Contract.version.desc())))


def current_contract(project: Project) -> Contract | None:
    """The latest version (an open amendment when one is under way)."""
    return db.session.scalar(select(Contract).where(Contract.project_id == project.id)
                             .order_by(Contract.version.desc()).limit(1))


def contract_in_force(project: Project) -> Contract | None:
    return db.session.scalar(select(Contract).where(Contract.project_id == project.id,
                                                    Contract.status == ContractStatus.IN_FORCE))


# ---------------------------------------------------------------- the document

def _plain_money(value: Decimal) -> str:
    return f"¥{Decimal(value).quantize(Decimal('0.01')):,.2f}"


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def placeholder_values(project: Project, number: str) -> dict[str, str]:
    cfg = current_app.config
    org = project.org
    tranche_text = "；".join(
        f"第{t.sequence}期{t.condition.label}拨付{t.share.normalize():f}%，计{_plain_money(t.amount)}"
        for t in project.tranches)
    return {
        "项目名称": project.title,
        "项目编号": project.number,
        "合同编号": number,
        "甲方": project.purchasing_department or f"{cfg['CITY_NAME']}民政局",
        "乙方": org.name,
        "乙方统一社会信用代码": org.uscc or org.filing_number or "",
        "乙方法定代表人": org.legal_rep or "",
        "乙方地址": org.address or "",
        "服务内容": project.service_content or "",
        "服务数量": project.quantity or "",
        "服务质量": project.quality_standard or "",
        "服务期限": f"{_cn(project.term_start)}至{_cn(project.term_end)}",
        "开始日期": _cn(project.term_start),
        "结束日期": _cn(project.term_end),
        "合同金额": _plain_money(project.amount),
        "合同金额大写": rmb_upper(project.amount),
        "预算来源": f"{project.budget_year}年度{project.budget_line}",
        "分期拨付计划": tranche_text,
        "城市": cfg["CITY_NAME"],
        "平台名称": f"{cfg['CITY_NAME']}{cfg['PLATFORM_NAME']}",
    }


def build_content(project: Project, template: ContractTemplate, *, number: str, version: int,
                  parent: Contract | None = None, reason: str | None = None) -> dict:
    """Everything the document says, as plain JSON values (the snapshot a contract keeps)."""
    values = placeholder_values(project, number)
    org = project.org
    return {
        "title": template.title,
        "number": number,
        "version": version,
        "kind": project.kind.value,
        "project": {"number": project.number, "title": project.title},
        "party_a": {"name": values["甲方"]},
        "party_b": {"name": org.name, "code": values["乙方统一社会信用代码"], "legal_rep": values["乙方法定代表人"],
                    "address": values["乙方地址"]},
        "service_content": project.service_content or "",
        "quantity": project.quantity or "",
        "quality_standard": project.quality_standard or "",
        "term_start": project.term_start.isoformat(),
        "term_end": project.term_end.isoformat(),
        "amount": str(Decimal(project.amount).quantize(Decimal("0.01"))),
        "amount_upper": values["合同金额大写"],
        "budget": values["预算来源"],
        "tranches": [{"sequence": t.sequence, "share": f"{t.share.normalize():f}",
                      "amount": str(Decimal(t.amount).quantize(Decimal("0.01"))), "condition": t.condition.label}
                     for t in project.tranches],
        "clauses": [{"heading": c["heading"], "blocks": clause_blocks(c["body"], values)}
                    for c in (template.clauses or [])],
        "amends": ({"number": parent.number, "version": parent.version,
                    "signed_on": parent.signed_on.isoformat() if parent.signed_on else None}
                   if parent is not None else None),
        "amendment_reason": reason,
    }


def content_hash(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def pdf_context(content: dict) -> dict:
    """Plain values for templates/pdf/contract.html (dates and amounts parsed back from the snapshot)."""
    return {
        "c": content,
        "term_start": date.fromisoformat(content["term_start"]),
        "term_end": date.fromisoformat(content["term_end"]),
        "amount": Decimal(content["amount"]),
        "tranches": [dict(t, amount=Decimal(t["amount"])) for t in content["tranches"]],
        "tranche_total": sum((Decimal(t["amount"]) for t in content["tranches"]), Decimal("0.00")),
        "amends_signed_on": (date.fromisoformat(content["amends"]["signed_on"])
                             if content.get("amends") and content["amends"].get("signed_on") else None),
    }


def render_contract_pdf(content: dict) -> bytes:
    from incubator.core.pdf import render_pdf

    return render_pdf(PDF_TEMPLATE, **pdf_context(content))


def attach_pdf(contract: Contract, *, by=None):
    """Render the snapshot now and attach the PDF (the job calls this; so do the demo and tests)."""
    from incubator.core.files import save_generated

    data = render_contract_pdf(contract.content)
    title = contract.content.get("title") or "合同"
    contract.pdf_file = save_generated(data, filename=f"{contract.number}-{title}.pdf",
                                       content_type="application/pdf", by=by)
    db.session.flush()
    return contract.pdf_file


def _queue_pdf(contract: Contract, *, by) -> None:
    from incubator.core.jobs import start_job
    from incubator.projects.contracts.jobs import render_contract_job

    contract.pdf_file = None
    contract.pdf_file_id = None
    db.session.flush()
    job = start_job(render_contract_job, contract.id, contract.content_sha256, title=f"生成合同文本 {contract.number}",
                    user=by, kind="contract_pdf")
    contract.pdf_job_id = job.id
    db.session.flush()


def _check_ready(project: Project) -> None:
    _require_active(project)
    if not project.tranches:
        _fail("请先设置分期拨付计划：合同须写明资金结算方式", 409)


def _template_for(project: Project, template: ContractTemplate | None, by) -> ContractTemplate:
    if template is None:
        return default_template(project.kind, by=by)
    if template.kind != project.kind:
        _fail(f"所选模板适用于{template.kind.label}项目，与本项目类型不符", 422)
    return template


def generate(project: Project, *, by, template: ContractTemplate | None = None) -> Contract:
    """Version 1, or the open version rendered again (only while the organisation has not signed)."""
    _require_manager(project, by)
    _check_ready(project)
    current = current_contract(project)
    if current is not None:
        if current.status == ContractStatus.GENERATED:
            return regenerate(current, by=by, template=template)
        if current.status == ContractStatus.ORG_SIGNED:
            _fail("承接组织已上传签章合同，不能重新生成")
        _fail("合同已生效，不能重新生成；如需修改合同内容，请办理合同变更")
    template = _template_for(project, template, by)
    number = f"{project.number}-HT1"
    contract = Contract(project_id=project.id, project=project, version=1, template_id=template.id, number=number,
                        status=ContractStatus.GENERATED, due_on=signing_due_on(project),
                        generated_at=utcnow(), generated_by_id=by.id)
    contract.content = build_content(project, template, number=number, version=1)
    contract.content_sha256 = content_hash(contract.content)
    db.session.add(contract)
    db.session.flush()
    _queue_pdf(contract, by=by)
    audit.record("contract.created", contract, after={"number": number, "version": 1, "due_on": contract.due_on,
                                                         "content_sha256": contract.content_sha256}, actor=by)
    return contract


def regenerate(contract: Contract, *, by, template: ContractTemplate | None = None) -> Contract:
    project = contract.project
    _require_manager(project, by)
    if contract.status != ContractStatus.GENERATED:
        _fail("合同已签章或已生效，不能重新生成" + ("；如需修改合同内容，请办理合同变更"
                                                  if contract.status == ContractStatus.IN_FORCE else ""))
    _check_ready(project)
    template = _template_for(project, template or contract.template, by)
    before = {"content_sha256": contract.content_sha256, "template_id": contract.template_id}
    contract.template_id = template.id
    contract.content = build_content(project, template, number=contract.number, version=contract.version,
                                     parent=contract.parent, reason=contract.amendment_reason)
    contract.content_sha256 = content_hash(contract.content)
    contract.generated_at = utcnow()
    contract.generated_by_id = by.id
    _queue_pdf(contract, by=by)
    audit.record("contract.regenerated", contract, before=before,
                 after={"content_sha256": contract.content_sha256, "template_id": template.id}, actor=by)
    return contract


def amend(contract: Contract, *, by, reason: str, template: ContractTemplate | None = None) -> Contract:
    """A new version (变更) of the contract in force, from the project's current data; same flow."""
    project = contract.project
    _require_manager(project, by)
    if contract.status != ContractStatus.IN_FORCE:
        _fail("只有已生效的合同可以办理变更")
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        _fail("请填写变更原因", 422)
    if len(reason) > MAX_REASON_CHARS:
        _fail(f"变更原因不超过{MAX_REASON_CHARS}字", 422)
    _check_ready(project)
    latest = current_contract(project)
    if latest is not None and latest.id != contract.id:
        _fail(f"已有一份变更（第{latest.version}版）正在办理，请先完成签订")
    template = _template_for(project, template or contract.template, by)
    version = contract.version + 1
    number = f"{project.number}-HT{version}"
    new = Contract(project_id=project.id, project=project, version=version, parent_id=contract.id, parent=contract,
                   template_id=template.id, number=number, status=ContractStatus.GENERATED,
                   due_on=today_local() + timedelta(days=SIGNING_DAYS), amendment_reason=reason,
                   generated_at=utcnow(), generated_by_id=by.id)
    new.content = build_content(project, template, number=number, version=version, parent=contract, reason=reason)
    new.content_sha256 = content_hash(new.content)
    db.session.add(new)
    db.session.flush()
    _queue_pdf(new, by=by)
    audit.record("contract.amendment_started", new, after={"number": number, "version": version,
                                                            "amends": contract.number}, note=reason, actor=by)
    return new


# ---------------------------------------------------------------- signing

def _scan_limit() -> int:
    return int(current_app.config.get("CONTRACT_SCAN_MAX_BYTES") or SCAN_MAX_BYTES)


def upload_org_signed(contract: Contract, upload, *, by) -> Contract:
    """The organisation's signed and stamped scan (PDF or image). It may replace it until staff countersign."""
    from incubator.core.files import UploadRejected, save_upload

    project = contract.project
    _require_member(project, by)
    _require_active(project)
    if contract.status not in (ContractStatus.GENERATED, ContractStatus.ORG_SIGNED):
        _fail("合同已生效，不能再上传签章件")
    if contract.pdf_file_id is None:
        _fail("合同文本正在生成，请生成完成后下载、签章再上传")
    try:
        stored = save_upload(upload, allowed=SCAN_EXTENSIONS, by=by, max_bytes=_scan_limit())
    except UploadRejected as exc:
        raise ContractError(f"上传失败：{exc}", 422) from exc
    replaced = contract.org_signed_file_id
    contract.org_signed_file = stored
    contract.org_signed_at = utcnow()
    contract.org_signed_by_id = by.id
    if contract.status == ContractStatus.GENERATED:
        transition(contract, ContractStatus.ORG_SIGNED, by=by, note="承接组织上传签章合同")
    db.session.flush()
    audit.record("contract.org_scan_uploaded", contract, before={"file_id": replaced} if replaced else None,
                 after={"file_id": stored.id, "sha256": stored.sha256}, actor=by)
    return contract


def return_org_signed(contract: Contract, *, by, reason: str) -> Contract:
    """Staff send the scan back (not signed, no seal, wrong version…): the organisation uploads again."""
    project = contract.project
    _require_manager(project, by)
    _require_active(project)
    if contract.status != ContractStatus.ORG_SIGNED:
        _fail("只有待甲方盖章的合同可以退回")
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        _fail("请填写退回原因", 422)
    if len(reason) > MAX_REASON_CHARS:
        _fail(f"退回原因不超过{MAX_REASON_CHARS}字", 422)
    before = {"file_id": contract.org_signed_file_id}
    contract.return_reason = reason
    contract.org_signed_file = None
    contract.org_signed_file_id = None
    contract.org_signed_at = None
    contract.org_signed_by_id = None
    transition(contract, ContractStatus.GENERATED, by=by, note=reason)
    audit.record("contract.scan_returned", contract, before=before, note=reason, actor=by)
    return contract


def countersign(contract: Contract, upload, *, by, signed_on: date) -> Contract:
    """Staff upload the copy both parties stamped: the contract is in force from ``signed_on``."""
    from incubator.core.files import UploadRejected, save_upload
    from incubator.projects import services as project_services

    project = contract.project
    _require_manager(project, by)
    _require_active(project)
    if contract.status != ContractStatus.ORG_SIGNED:
        if contract.status == ContractStatus.GENERATED:
            _fail("承接组织尚未上传签章合同，不能会签")
        _fail("合同已生效，不能重复会签")
    if signed_on is None:
        _fail("请填写签订日期", 422)
    if signed_on > today_local():
        _fail("签订日期不能晚于今天", 422)
    earliest = to_local(contract.generated_at).date()
    if signed_on < earliest:
        _fail(f"签订日期不能早于合同生成日期（{_cn(earliest)}）", 422)
    due = publish_due(signed_on)
    try:
        stored = save_upload(upload, allowed=SCAN_EXTENSIONS, by=by, max_bytes=_scan_limit())
    except UploadRejected as exc:
        raise ContractError(f"上传失败：{exc}", 422) from exc
    contract.countersigned_file = stored
    contract.countersigned_by_id = by.id
    contract.signed_on = signed_on
    contract.publish_due_on = due
    transition(contract, ContractStatus.IN_FORCE, by=by, note=f"签订日期 {_cn(signed_on)}")
    audit.record("contract.countersigned", contract, after={"file_id": stored.id, "signed_on": signed_on,
                                                             "publish_due_on": due}, actor=by)
    parent = contract.parent
    if parent is not None and parent.status == ContractStatus.IN_FORCE:
        parent.superseded_at = utcnow()
        transition(parent, ContractStatus.SUPERSEDED, by=by, note=f"被第{contract.version}版合同（变更）取代")
    if project.signed_on is None:
        try:
            project_services.mark_condition_met(project, TrancheCondition.ON_SIGNING, by=by, on=signed_on)
        except project_services.ProjectError as exc:
            raise ContractError(str(exc)) from exc
    db.session.flush()
    return contract


def publish(contract: Contract, *, by) -> Contract:
    """The summary goes on the public site (/contracts)."""
    _require_manager(contract.project, by)
    if contract.status not in (ContractStatus.IN_FORCE, ContractStatus.SUPERSEDED):
        _fail("合同生效后才能公开")
    if contract.published_at is not None:
        _fail("该合同摘要已公开")
    contract.published_at = utcnow()
    contract.published_by_id = by.id
    db.session.flush()
    published_on = to_local(contract.published_at).date()
    audit.record("contract.published", contract, after={"published_on": published_on,
                                                         "publish_due_on": contract.publish_due_on},
                 note=("逾期公开" if contract.publish_due_on and published_on > contract.publish_due_on else None),
                 actor=by)
    return contract


# ---------------------------------------------------------------- public site

def published_contracts(q: str | None = None, kind: str | None = None):
    """A select of published contracts, newest first; ``q`` searches number, project and parties; ``kind``
    (grant / purchase) filters by the project's kind."""
    from incubator.orgs.models import Organization

    stmt = (select(Contract).join(Project, Project.id == Contract.project_id)
            .where(Contract.published_at.is_not(None)))
    if kind in {k.value for k in ProjectKind}:
        stmt = stmt.where(Project.kind == ProjectKind(kind))
    q = (q or "").strip()[:50]
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = (stmt.join(Organization, Organization.id == Project.org_id)
                .where(Contract.number.ilike(like, escape="\\") | Project.title.ilike(like, escape="\\")
                       | Organization.name.ilike(like, escape="\\")
                       | Project.purchasing_department.ilike(like, escape="\\")))
    return stmt.order_by(Contract.published_at.desc(), Contract.id.desc())


def public_contract(contract_id: int) -> Contract | None:
    contract = db.session.get(Contract, contract_id)
    return contract if contract is not None and contract.published_at is not None else None


def public_summary(contract: Contract) -> dict:
    """What the public page shows: no personal data (no legal representative), no scans."""
    c = contract.content or {}
    return {
        "number": contract.number,
        "title": c.get("title", ""),
        "version": contract.version,
        "is_amendment": contract.is_amendment,
        "amends": (c.get("amends") or {}).get("number"),
        "superseded": contract.status == ContractStatus.SUPERSEDED,
        "project_title": (c.get("project") or {}).get("title", ""),
        "project_number": (c.get("project") or {}).get("number", ""),
        "party_a": (c.get("party_a") or {}).get("name", ""),
        "party_b": (c.get("party_b") or {}).get("name", ""),
        "service_content": c.get("service_content", ""),
        "quantity": c.get("quantity", ""),
        "term_start": date.fromisoformat(c["term_start"]) if c.get("term_start") else None,
        "term_end": date.fromisoformat(c["term_end"]) if c.get("term_end") else None,
        "amount": Decimal(c["amount"]) if c.get("amount") else None,
        "signed_on": contract.signed_on,
        "published_on": to_local(contract.published_at).date() if contract.published_at else None,
    }


# ---------------------------------------------------------------- the staff desk

def desk_items(user) -> list:
    """Contracts to generate, waiting for the organisation's signature, to countersign, to publish
    (staff of the project's district); contracts to sign and upload (members of the organisation)."""
    from flask import url_for

    from incubator.accounts.models import Role
    from incubator.orgs.models import Organization
    from incubator.projects.desk import DeskItem

    if not getattr(user, "is_authenticated", False):
        return []
    is_staff = user.role == Role.STAFF
    if not is_staff and not getattr(user, "org_id", None):
        return []
    stmt = (select(Project).join(Organization, Organization.id == Project.org_id)
            .where(Project.status.in_([ProjectStatus.LAUNCHED, ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS]))
            .options(selectinload(Project.org)))
    if is_staff:
        if not user.sees_district(None):
            stmt = stmt.where(Organization.district_id == user.district_id)
    else:
        stmt = stmt.where(Project.org_id == user.org_id)
    projects = list(db.session.scalars(stmt))
    if not projects:
        return []
    latest: dict[int, Contract] = {}
    for c in db.session.scalars(select(Contract).where(Contract.project_id.in_([p.id for p in projects]))
                                .order_by(Contract.version)):
        latest[c.project_id] = c
    today = today_local()
    results = result_days([p for p in projects if p.id not in latest and p.status == ProjectStatus.LAUNCHED])
    items = []

    def add(area, project, what, due, state):
        dl = deadline("", due, today=today)
        items.append(DeskItem(area=area, title=f"{project.number} {project.title}：{what}",
                              url=url_for("contracts.project_contract", project_id=project.id), due=due,
                              overdue=dl.state == "overdue", note=dl.note))

    for p in projects:
        c = latest.get(p.id)
        if not is_staff:
            if c is not None and c.status == ContractStatus.GENERATED:
                add("合同签订", p, "合同待签章并上传", c.due_on, c.status)
            continue
        if c is None:
            if p.status == ProjectStatus.LAUNCHED:
                add("合同签订", p, "合同待生成", results[p.id] + timedelta(days=SIGNING_DAYS), None)
        elif c.status == ContractStatus.GENERATED:
            add("合同签订", p, f"等待承接组织签章（{c.number}）", c.due_on, c.status)
        elif c.status == ContractStatus.ORG_SIGNED:
            add("合同签订", p, f"乙方已签章，待甲方盖章会签（{c.number}）", c.due_on, c.status)
        elif c.status == ContractStatus.IN_FORCE and c.published_at is None:
            add("合同公开", p, f"合同摘要待公开（{c.number}）", c.publish_due_on, c.status)
    return items


__all__ = [
    "ContractError", "PLACEHOLDERS", "SIGNING_DAYS", "PUBLISH_WORKDAYS", "WARN_DAYS", "default_template",
    "create_template", "update_template", "check_clauses", "templates_for", "result_day", "result_days", "signing_due_on",
    "deadlines", "contracts_of", "current_contract", "contract_in_force", "generate", "regenerate", "amend",
    "upload_org_signed", "return_org_signed", "countersign", "publish", "published_contracts", "public_contract", "public_summary",
    "render_contract_pdf", "attach_pdf", "desk_items", "may_edit_templates",
]
