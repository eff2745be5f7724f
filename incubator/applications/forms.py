"""Parsing the application editor's form into typed values (``DraftInput``).

Drafts are saved even when incomplete or wrong (validation is for submission): a value that
cannot be stored typed (an amount ``1e309``, a date ``2026-02-30``) is kept as the user typed
it in ``DraftInput.raw`` with its Chinese message, and the editor shows it again next to its
field. Only dangerous input refuses the whole save (``DraftRefused``): NUL bytes and text longer
than a field can hold.

Form names: flat fields by their column name (``title``, ``period_start``…); table rows as
``plan-<i>-<col>``, ``team-<i>-<col>``, ``budget-<i>-<col>``; the call's extra fields as
``extra-<call_field.id>``; ``sub_goals`` is one goal per line; ``version_id`` for optimistic locking.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from decimal import Decimal

from incubator.applications.models import FundingSource
from incubator.calls.models import BudgetCategory, FieldKind
from incubator.core.forms import InputRejected, parse_decimal, parse_money
from incubator.orgs.models import ServiceField

# Longest text a field may hold. Long texts are generous (a need analysis of ~20,000 字 is
# already a small book); anything above is refused with a message, never cut silently.
LONG_TEXT = 20_000
SHORT = {
    "title": 200,
    "supervisor": 200,
    "requester": 200,
    "bank_account_name": 100,
    "bank_name": 100,
    "bank_account_number": 40,
}
LONG_FIELDS = (
    "service_communities",
    "beneficiaries_description",
    "summary",
    "need_analysis",
    "overall_goal",
    "risks",
    "sub_goals",
)
FIELD_LABELS = {
    "title": "项目名称",
    "field": "服务领域",
    "service_communities": "服务社区",
    "beneficiaries_description": "受益对象",
    "beneficiaries_count": "直接受益人数",
    "period_start": "项目开始日期",
    "period_end": "项目结束日期",
    "supervisor": "监管方（街道/社区）",
    "requester": "需求方",
    "summary": "项目摘要",
    "need_analysis": "需求分析",
    "overall_goal": "总目标",
    "sub_goals": "具体目标",
    "risks": "风险及应对",
    "bank_account_name": "户名",
    "bank_name": "开户行",
    "bank_account_number": "账号",
}
PLAN_COLS = {"start": ("开始日期", 0), "end": ("结束日期", 0), "content": ("活动内容", LONG_TEXT), "output": ("预期产出", LONG_TEXT)}
TEAM_COLS = {
    "name": ("姓名", 50),
    "education": ("学历", 50),
    "major": ("专业", 100),
    "role": ("项目角色", 100),
    "qualification": ("社工资格", 100),
    "insured": ("是否缴纳社保", 10),
    "time_on_project": ("投入时间", 100),
}
BUDGET_COLS = {
    "category": ("预算科目", 30),
    "item": ("支出项目", 200),
    "unit": ("单位", 20),
    "unit_price": ("单价", 0),
    "quantity": ("数量", 0),
    "source": ("资金来源", 30),
    "note": ("测算说明", LONG_TEXT),
}
ROW_COLS = {"plan": PLAN_COLS, "team": TEAM_COLS, "budget": BUDGET_COLS}
ROW_LABELS = {"plan": "实施计划", "team": "项目团队", "budget": "预算明细"}
MAX_ROWS = 200
EXTRA_TEXT = 5_000
MIN_YEAR, MAX_YEAR = 2000, 2100
# A unit price above 1亿 or a quantity above 100万 is a typing error in a project budget; with
# MAX_ROWS lines the total stays far below the BIGINT 分 limit (200 × 10^16 分 < 9.2 × 10^18).
PRICE_MAX = Decimal("100000000")
QUANTITY_MAX = Decimal("1000000")

_ROW_NAME = re.compile(r"^(plan|team|budget)-(\d{1,4})-([a-z_]+)$")
_EXTRA_NAME = re.compile(r"^extra-(\d{1,9})$")


class DraftRefused(ValueError):
    """The draft cannot be stored at all; ``messages`` are Chinese sentences for the user."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("；".join(messages))


@dataclass
class PlanRowInput:
    start_on: date | None = None
    end_on: date | None = None
    content: str = ""
    output: str = ""


@dataclass
class TeamMemberInput:
    name: str = ""
    education: str = ""
    major: str = ""
    role: str = ""
    qualification: str = ""
    insured: bool | None = None
    time_on_project: str = ""


@dataclass
class BudgetLineInput:
    category: BudgetCategory | None = None
    item: str = ""
    unit: str = ""
    unit_price: Decimal | None = None
    quantity: Decimal | None = None
    source: FundingSource = FundingSource.GRANT
    note: str = ""


@dataclass
class DraftInput:
    title: str = ""
    field: ServiceField | None = None
    service_communities: str = ""
    beneficiaries_description: str = ""
    beneficiaries_count: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    supervisor: str = ""
    requester: str = ""
    summary: str = ""
    need_analysis: str = ""
    overall_goal: str = ""
    sub_goals: list[str] = dc_field(default_factory=list)
    risks: str = ""
    plan: list[PlanRowInput] = dc_field(default_factory=list)
    team: list[TeamMemberInput] = dc_field(default_factory=list)
    budget: list[BudgetLineInput] = dc_field(default_factory=list)
    extra: dict[str, str] = dc_field(default_factory=dict)
    bank_account_name: str = ""
    bank_name: str = ""
    bank_account_number: str = ""
    # {form name: {"value": what was typed, "error": Chinese message}} for values kept untyped
    raw: dict[str, dict[str, str]] = dc_field(default_factory=dict)
    version_id: int | None = None


def clean_text(value: str | None, *, multiline: bool) -> str:
    """Unicode NFC, CRLF → LF, no control characters (NUL is refused earlier), trimmed."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    keep = "\n\t" if multiline else ""
    value = "".join(ch for ch in value if ch in keep or unicodedata.category(ch) != "Cc")
    if not multiline:
        value = value.replace("\t", " ")
    return value.strip()


def parse_date_text(text: str, what: str) -> date | None:
    s = unicodedata.normalize("NFKC", text or "").strip()
    if not s:
        return None
    m = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", s)
    if not m:
        raise InputRejected(f"{what}格式不正确，请按“2026-03-01”填写")
    y, mo, d = (int(g) for g in m.groups())
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise InputRejected(f"{what}的年份应在{MIN_YEAR}年至{MAX_YEAR}年之间")
    try:
        return date(y, mo, d)
    except ValueError as exc:
        raise InputRejected(f"{what}不是有效的日期（{y}年{mo}月{d}日不存在）") from exc


def _check_dangerous(formdata) -> None:
    problems: list[str] = []
    for name in formdata.keys():
        for value in formdata.getlist(name):
            if "\x00" in value or "\x00" in name:
                problems.append("填写的内容包含非法字符（NUL），未保存，请删除后重试")
                break
        if problems:
            break
    for name, limit in SHORT.items():
        v = formdata.get(name, "")
        if len(v) > limit:
            problems.append(f"“{FIELD_LABELS[name]}”不能超过{limit}个字（当前{len(v)}个字），未保存，请精简后重试")
    for name in LONG_FIELDS:
        v = formdata.get(name, "")
        if len(v) > LONG_TEXT:
            problems.append(f"“{FIELD_LABELS[name]}”不能超过{LONG_TEXT}个字（当前{len(v)}个字），未保存，请精简后重试")
    for name in formdata.keys():
        m = _ROW_NAME.match(name)
        if m:
            section, _, col = m.groups()
            spec = ROW_COLS[section].get(col)
            limit = (spec[1] or 40) if spec else 0
            v = formdata.get(name, "")
            if spec and len(v) > limit:
                problems.append(f"{ROW_LABELS[section]}中的“{spec[0]}”不能超过{limit}个字，未保存，请精简后重试")
        elif _EXTRA_NAME.match(name) and len(formdata.get(name, "")) > EXTRA_TEXT:
            problems.append(f"补充信息中的内容不能超过{EXTRA_TEXT}个字，未保存，请精简后重试")
    if problems:
        raise DraftRefused(list(dict.fromkeys(problems)))


def _rows(formdata, section: str) -> list[dict[str, str]]:
    """The posted rows of a table in index order, blank rows dropped."""
    by_index: dict[int, dict[str, str]] = {}
    for name in formdata.keys():
        m = _ROW_NAME.match(name)
        if m and m.group(1) == section and m.group(3) in ROW_COLS[section]:
            by_index.setdefault(int(m.group(2)), {})[m.group(3)] = formdata.get(name, "")
    rows = []
    # Columns whose value alone does not make a row "filled in" (selects with a default).
    ignore = {"budget": {"category", "source"}, "team": {"insured"}, "plan": set()}[section]
    for idx in sorted(by_index):
        row = by_index[idx]
        if any(clean_text(v, multiline=False) for k, v in row.items() if k not in ignore):
            rows.append(row)
    if len(rows) > MAX_ROWS:
        raise DraftRefused([f"{ROW_LABELS[section]}最多{MAX_ROWS}行，未保存"])
    return rows


def _choice(enum_cls, value: str):
    try:
        return enum_cls(value) if value else None
    except ValueError:
        return None


def parse_draft(formdata, call) -> DraftInput:
    """The editor's posted fields → ``DraftInput``. Raises ``DraftRefused`` for dangerous input.

    Extra posted names (``status``, ``org_id``, ``number``, ``grant_requested``, ``amount``…)
    are simply never read.
    """
    _check_dangerous(formdata)
    d = DraftInput()

    def text(name: str, multiline: bool = False) -> str:
        return clean_text(formdata.get(name), multiline=multiline)

    def keep(name: str, value: str, exc: Exception) -> None:
        d.raw[name] = {"value": value, "error": str(exc)}

    for name in ("title", "supervisor", "requester", "bank_account_name", "bank_name", "bank_account_number"):
        setattr(d, name, text(name))
    for name in ("service_communities", "beneficiaries_description", "summary", "need_analysis", "overall_goal", "risks"):
        setattr(d, name, text(name, multiline=True))
    d.sub_goals = [g for g in (clean_text(line, multiline=False) for line in text("sub_goals", True).split("\n")) if g]
    d.field = _choice(ServiceField, text("field"))

    raw_count = formdata.get("beneficiaries_count", "")
    try:
        count = parse_decimal(raw_count, places=0, min_value=Decimal(1), max_value=Decimal(100_000_000),
                              what="直接受益人数", allow_grouping=True, max_integer_digits=9)
        d.beneficiaries_count = None if count is None else int(count)
    except InputRejected as exc:
        keep("beneficiaries_count", clean_text(raw_count, multiline=False), exc)
    for name in ("period_start", "period_end"):
        raw = formdata.get(name, "")
        try:
            setattr(d, name, parse_date_text(raw, FIELD_LABELS[name]))
        except InputRejected as exc:
            keep(name, clean_text(raw, multiline=False), exc)

    for i, row in enumerate(_rows(formdata, "plan")):
        r = PlanRowInput(content=clean_text(row.get("content"), multiline=True), output=clean_text(row.get("output"), multiline=True))
        for col, attr in (("start", "start_on"), ("end", "end_on")):
            raw = row.get(col, "")
            try:
                setattr(r, attr, parse_date_text(raw, f"实施计划第{i + 1}行{PLAN_COLS[col][0]}"))
            except InputRejected as exc:
                keep(f"plan-{i}-{col}", clean_text(raw, multiline=False), exc)
        d.plan.append(r)

    for row in _rows(formdata, "team"):
        insured = row.get("insured", "")
        d.team.append(
            TeamMemberInput(
                name=clean_text(row.get("name"), multiline=False),
                education=clean_text(row.get("education"), multiline=False),
                major=clean_text(row.get("major"), multiline=False),
                role=clean_text(row.get("role"), multiline=False),
                qualification=clean_text(row.get("qualification"), multiline=False),
                insured={"yes": True, "no": False}.get(insured),
                time_on_project=clean_text(row.get("time_on_project"), multiline=False),
            )
        )

    for i, row in enumerate(_rows(formdata, "budget")):
        line = BudgetLineInput(
            category=_choice(BudgetCategory, row.get("category", "")),
            item=clean_text(row.get("item"), multiline=False),
            unit=clean_text(row.get("unit"), multiline=False),
            source=_choice(FundingSource, row.get("source", "")) or FundingSource.GRANT,
            note=clean_text(row.get("note"), multiline=True),
        )
        raw_price = row.get("unit_price", "")
        try:
            line.unit_price = parse_money(raw_price, max_value=PRICE_MAX, what=f"预算明细第{i + 1}行单价")
        except InputRejected as exc:
            keep(f"budget-{i}-unit_price", clean_text(raw_price, multiline=False), exc)
        raw_qty = row.get("quantity", "")
        try:
            qty = parse_decimal(raw_qty, places=2, min_value=Decimal("0.01"), max_value=QUANTITY_MAX,
                                what=f"预算明细第{i + 1}行数量", max_integer_digits=7)
            line.quantity = qty
        except InputRejected as exc:
            keep(f"budget-{i}-quantity", clean_text(raw_qty, multiline=False), exc)
        d.budget.append(line)

    for f in call.fields:
        if f.kind == FieldKind.FILE:
            continue
        name = f"extra-{f.id}"
        value = clean_text(formdata.get(name), multiline=f.kind == FieldKind.TEXTAREA)
        if value:
            d.extra[str(f.id)] = value

    version = formdata.get("version_id", "")
    d.version_id = int(version) if version.isdigit() and len(version) < 10 else None
    return d
