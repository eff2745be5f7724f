"""Submission checks: every rule, every problem at once, each in Chinese, grouped by section.

Pure functions over an application, its call and a ``CheckContext`` (what needs the database —
eligibility, how many other applications the organisation has — is looked up by the caller).
``check_submission(app, call, ctx)`` returns a list of ``Problem(section, message)``;
``group_problems`` orders them by ``SECTIONS`` for display.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

from incubator.applications.models import SECTION_LABELS, SECTIONS, ApplicationStatus, line_amount
from incubator.calls.models import FieldKind
from incubator.db import CENT, to_local
from incubator.web import format_money


@dataclass(frozen=True)
class Problem:
    section: str
    message: str


@dataclass
class CheckContext:
    now: datetime  # naive UTC, server time
    today: date  # local (Beijing) date
    eligibility_reasons: list[str] = field(default_factory=list)
    other_active_count: int = 0  # the org's other submitted, not withdrawn applications to this call


Rule = Callable[[object, object, CheckContext], Iterable[Problem]]


def _pct(value: Decimal) -> str:
    """60.00 → '60', 12.50 → '12.5'."""
    text = f"{value.quantize(CENT):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _cn_datetime(utc: datetime) -> str:
    local = to_local(utc)
    return f"{_cn_date(local)} {local:%H:%M}"


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --------------------------------------------------------------------------- per section


def check_basic(app, call, ctx) -> Iterable[Problem]:
    p = lambda m: Problem("basic", m)  # noqa: E731
    raw = app.raw_inputs or {}
    if _blank(app.title):
        yield p("请填写项目名称")
    if app.field is None:
        yield p("请选择服务领域")
    elif call.themes and app.field.value not in call.themes:
        from incubator.orgs.models import ServiceField

        themes = "、".join(ServiceField(t).label for t in call.themes if t in ServiceField._value2member_map_)
        yield p(f"服务领域“{app.field.label}”不在本批次支持的领域（{themes}）内")
    if _blank(app.service_communities):
        yield p("请填写服务社区")
    if _blank(app.beneficiaries_description):
        yield p("请填写受益对象")
    if "beneficiaries_count" not in raw:
        if app.beneficiaries_count is None:
            yield p("请填写直接受益人数")
        elif app.beneficiaries_count <= 0:
            yield p("直接受益人数应为正整数")
    for name, label in (("period_start", "项目开始日期"), ("period_end", "项目结束日期")):
        if name not in raw and getattr(app, name) is None:
            yield p(f"请填写{label}")
    if app.period_start and app.period_end and app.period_end <= app.period_start:
        yield p("项目结束日期应晚于开始日期")
    if _blank(app.supervisor):
        yield p("请填写监管方（街道/社区）")
    if _blank(app.requester):
        yield p("请填写需求方")


def check_need(app, call, ctx) -> Iterable[Problem]:
    if _blank(app.need_analysis):
        yield Problem("need", "请填写需求分析")


def check_goals(app, call, ctx) -> Iterable[Problem]:
    if _blank(app.overall_goal):
        yield Problem("goals", "请填写总目标")
    if not app.sub_goals:
        yield Problem("goals", "请至少填写一项具体目标")


def check_plan(app, call, ctx) -> Iterable[Problem]:
    raw = app.raw_inputs or {}
    if not app.plan_rows:
        yield Problem("plan", "请至少填写一行实施计划")
    for i, row in enumerate(app.plan_rows):
        n = i + 1
        if _blank(row.content):
            yield Problem("plan", f"实施计划第{n}行：请填写活动内容")
        if _blank(row.output):
            yield Problem("plan", f"实施计划第{n}行：请填写预期产出")
        missing = [label for col, attr, label in (("start", "start_on", "开始日期"), ("end", "end_on", "结束日期"))
                   if getattr(row, attr) is None and f"plan-{i}-{col}" not in raw]
        if missing:
            yield Problem("plan", f"实施计划第{n}行：请填写{'和'.join(missing)}")
        if row.start_on and row.end_on:
            if row.end_on < row.start_on:
                yield Problem("plan", f"实施计划第{n}行：结束日期早于开始日期")
            elif app.period_start and app.period_end and (
                row.start_on < app.period_start or row.end_on > app.period_end
            ):
                yield Problem(
                    "plan",
                    f"实施计划第{n}行：活动日期超出项目周期（{_cn_date(app.period_start)}至{_cn_date(app.period_end)}）",
                )


def check_team(app, call, ctx) -> Iterable[Problem]:
    if not app.team_members:
        yield Problem("team", "请至少填写一名项目团队成员")
    for i, m in enumerate(app.team_members):
        if _blank(m.name):
            yield Problem("team", f"项目团队第{i + 1}行：请填写姓名")
        if _blank(m.role):
            yield Problem("team", f"项目团队第{i + 1}行：请填写项目角色")


def check_budget_lines(app, call, ctx) -> Iterable[Problem]:
    raw = app.raw_inputs or {}
    if not app.budget_lines:
        yield Problem("budget", "请至少填写一行预算明细")
    for i, line in enumerate(app.budget_lines):
        n = i + 1
        if line.category is None:
            yield Problem("budget", f"预算明细第{n}行：请选择预算科目")
        if _blank(line.item):
            yield Problem("budget", f"预算明细第{n}行：请填写支出项目")
        if line.unit_price is None and f"budget-{i}-unit_price" not in raw:
            yield Problem("budget", f"预算明细第{n}行：请填写单价")
        if line.quantity is None and f"budget-{i}-quantity" not in raw:
            yield Problem("budget", f"预算明细第{n}行：请填写数量")


def _totals_consistent(app) -> bool:
    grant = matching = Decimal("0")
    for line in app.budget_lines:
        expected = line_amount(line.unit_price, line.quantity)
        if line.amount != expected:
            return False
        if line.amount is None:
            continue
        if line.source.value == "matching":
            matching += line.amount
        else:
            grant += line.amount
    return (
        grant == (app.grant_requested or 0)
        and matching == (app.matching_amount or 0)
        and (app.grant_requested or 0) + (app.matching_amount or 0) == (app.total_budget or 0)
    )


def check_budget_totals(app, call, ctx) -> Iterable[Problem]:
    if not _totals_consistent(app):
        yield Problem("budget", "预算合计与明细不一致（资助＋配套＝总预算，金额＝单价×数量），请重新保存草稿后再提交")


def check_grant_limits(app, call, ctx) -> Iterable[Problem]:
    if not app.budget_lines:
        return
    grant = app.grant_requested or Decimal("0")
    total = app.total_budget or Decimal("0")
    if grant <= 0:
        yield Problem("budget", "申请资助金额为¥0.00：请将至少一行预算的资金来源设为“申请资助”")
        return
    if grant < call.grant_min:
        yield Problem("budget", f"申请资助金额{format_money(grant)}低于本批次最低资助额{format_money(call.grant_min)}")
    if grant > call.grant_max:
        yield Problem("budget", f"申请资助金额{format_money(grant)}超过本批次最高资助额{format_money(call.grant_max)}")
    share = Decimal(call.max_grant_share)
    if total > 0 and grant * 100 > total * share:
        limit = (total * share / 100).quantize(CENT, rounding=ROUND_DOWN)
        yield Problem(
            "budget",
            f"申请资助金额{format_money(grant)}超过项目总预算{format_money(total)}的{_pct(share)}%"
            f"（最多{format_money(limit)}），其余部分须由配套资金承担",
        )


def check_category_caps(app, call, ctx) -> Iterable[Problem]:
    total = app.total_budget or Decimal("0")
    if total <= 0:
        return
    sums = app.budget_by_category()
    for cap in call.budget_caps:
        spent = sums.get(cap.category, Decimal("0"))
        share = Decimal(cap.max_share)
        if spent * 100 > total * share:
            actual = (spent * 100 / total).quantize(CENT)
            yield Problem(
                "budget",
                f"“{cap.category.label}”合计{format_money(spent)}，占总预算的{_pct(actual)}%，"
                f"超过本批次上限{_pct(share)}%",
            )


def _extra_value_problem(f, value: str) -> str | None:
    from incubator.applications.forms import parse_date_text
    from incubator.core.forms import InputRejected, parse_decimal

    if f.kind == FieldKind.NUMBER:
        try:
            parse_decimal(value, places=4, min_value=None, what=f"“{f.label}”", max_integer_digits=15)
        except InputRejected as exc:
            return str(exc)
    elif f.kind == FieldKind.DATE:
        try:
            parse_date_text(value, f"“{f.label}”")
        except InputRejected as exc:
            return str(exc)
    elif f.kind == FieldKind.CHOICE and value not in (f.choices or []):
        return f"“{f.label}”的选项无效，请重新选择"
    return None


def check_extra_fields(app, call, ctx) -> Iterable[Problem]:
    values = app.extra_values or {}
    slots = {a.slot for a in app.attachments}
    for f in call.fields:
        if f.kind == FieldKind.FILE:
            if f.required and f"field:{f.id}" not in slots:
                yield Problem("extra", f"请上传“{f.label}”")
            continue
        value = values.get(str(f.id), "")
        if _blank(value):
            if f.required:
                yield Problem("extra", f"请填写“{f.label}”")
            continue
        problem = _extra_value_problem(f, value)
        if problem:
            yield Problem("extra", problem)


def check_attachments(app, call, ctx) -> Iterable[Problem]:
    slots = {a.slot for a in app.attachments}
    for t in call.attachment_types:
        if t.required and f"type:{t.id}" not in slots:
            yield Problem("attachments", f"请上传附件“{t.name}”")


_ACCOUNT = re.compile(r"^\d{8,30}$")


def check_bank(app, call, ctx) -> Iterable[Problem]:
    if _blank(app.bank_account_name):
        yield Problem("bank", "请填写收款账户户名")
    if _blank(app.bank_name):
        yield Problem("bank", "请填写开户行")
    if _blank(app.bank_account_number):
        yield Problem("bank", "请填写收款账号")
    elif not _ACCOUNT.match(re.sub(r"[\s-]", "", app.bank_account_number)):
        yield Problem("bank", "收款账号应为8至30位数字")


def check_raw_inputs(app, call, ctx) -> Iterable[Problem]:
    """Values saved as typed text because they were not valid (amounts, dates, numbers)."""
    for name, item in sorted((app.raw_inputs or {}).items()):
        section = "basic"
        if name.startswith("budget-"):
            section = "budget"
        elif name.startswith("plan-"):
            section = "plan"
        value = item.get("value", "") if isinstance(item, dict) else str(item)
        error = item.get("error", "格式不正确") if isinstance(item, dict) else "格式不正确"
        yield Problem(section, f"{error}（当前填写：“{value}”）")


def check_deadline(app, call, ctx) -> Iterable[Problem]:
    if app.status == ApplicationStatus.RETURNED:
        if app.revision_deadline is not None and ctx.today > app.revision_deadline:
            yield Problem("general", f"修改期限（{_cn_date(app.revision_deadline)}）已过，无法重新提交")
        return
    if ctx.now >= call.closes_at:
        yield Problem("general", f"本批次申报已于{_cn_datetime(call.closes_at)}截止，无法提交")
    elif ctx.now < call.opens_at:
        yield Problem("general", f"本批次申报将于{_cn_datetime(call.opens_at)}开始，尚不能提交")


def check_eligibility(app, call, ctx) -> Iterable[Problem]:
    for reason in ctx.eligibility_reasons:
        yield Problem("general", f"组织不符合申报条件：{reason}")


def check_application_count(app, call, ctx) -> Iterable[Problem]:
    if app.status == ApplicationStatus.DRAFT and ctx.other_active_count >= call.max_applications_per_org:
        yield Problem(
            "general",
            f"本组织在本批次已提交{ctx.other_active_count}份申报书，已达上限（每个组织最多{call.max_applications_per_org}份）",
        )


RULES: list[Rule] = [
    check_deadline,
    check_eligibility,
    check_application_count,
    check_basic,
    check_need,
    check_goals,
    check_plan,
    check_team,
    check_budget_lines,
    check_raw_inputs,
    check_budget_totals,
    check_grant_limits,
    check_category_caps,
    check_extra_fields,
    check_attachments,
    check_bank,
]


def check_submission(app, call, ctx: CheckContext) -> list[Problem]:
    problems: list[Problem] = []
    for rule in RULES:
        problems.extend(rule(app, call, ctx))
    return problems


def group_problems(problems: list[Problem]) -> list[tuple[str, str, list[str]]]:
    """[(section key, section label, [messages])] in form order, only sections with problems."""
    out = []
    ordered = [s for s in SECTIONS if s[0] == "general"] + [s for s in SECTIONS if s[0] != "general"]
    for key, label in ordered:
        messages = [p.message for p in problems if p.section == key]
        if messages:
            out.append((key, label, messages))
    return out


__all__ = ["CheckContext", "Problem", "RULES", "SECTION_LABELS", "check_submission", "group_problems"]
