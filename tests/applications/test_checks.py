"""Every submission rule, table-driven, with its Chinese message (pure: no database)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from incubator.applications.checks import CheckContext, check_submission, group_problems
from incubator.applications.forms import parse_draft
from incubator.applications.models import Application, ApplicationAttachment, ApplicationStatus
from incubator.applications.services import apply_draft
from incubator.calls.models import (
    BudgetCategory,
    Call,
    CallAttachmentType,
    CallBudgetCap,
    CallField,
    CallKind,
    FieldKind,
)
from tests.applications.helpers import form_data

pytestmark = pytest.mark.usefixtures("app")  # every model mapped

NOW = datetime(2026, 6, 1, 2, 0)  # naive UTC = 10:00 Beijing
TODAY = date(2026, 6, 1)


def make_call(**kw) -> Call:
    defaults = dict(
        id=7,
        kind=CallKind.MICRO_VENTURE,
        year=2026,
        title="2026年公益微创投",
        opens_at=NOW - timedelta(days=10),
        closes_at=NOW + timedelta(days=10),  # 2026-06-11 10:00 Beijing
        grant_min=Decimal("10000.00"),
        grant_max=Decimal("100000.00"),
        max_grant_share=Decimal("60.00"),
        max_applications_per_org=2,
        themes=[],
    )
    defaults.update(kw)
    call = Call(**defaults)
    call.budget_caps = [CallBudgetCap(category=BudgetCategory.PERSONNEL, max_share=Decimal("30.00"))]
    call.fields = [
        CallField(id=11, label="项目实施社区", kind=FieldKind.TEXT, required=True, choices=[]),
        CallField(id=12, label="志愿者人数", kind=FieldKind.NUMBER, required=False, choices=[]),
        CallField(id=13, label="启动日期", kind=FieldKind.DATE, required=False, choices=[]),
        CallField(id=14, label="服务对象类别", kind=FieldKind.CHOICE, required=False, choices=["老年人", "儿童"]),
        CallField(id=15, label="项目logo", kind=FieldKind.FILE, required=False, choices=[]),
    ]
    call.attachment_types = [CallAttachmentType(id=21, name="登记证书副本", required=True, allowed_extensions=["pdf"])]
    return call


def build(call: Call | None = None, status=ApplicationStatus.DRAFT, **overrides) -> Application:
    call = call or make_call()
    data = form_data(call, **{"extra-11": "翠云社区", **overrides})
    app = Application(status=status, call=call, attachments=[])
    apply_draft(app, parse_draft(MultiDict(data), call))
    app.attachments = [ApplicationAttachment(slot="type:21", file_id=1)]
    return app


def ctx(**kw) -> CheckContext:
    return CheckContext(**{"now": NOW, "today": TODAY, **kw})


def messages(app, call=None, **ctx_kw) -> list[tuple[str, str]]:
    return [(p.section, p.message) for p in check_submission(app, call or app.call, ctx(**ctx_kw))]


def test_the_complete_application_has_no_problem():
    app = build()
    assert app.grant_requested == Decimal("36000.00")
    assert app.total_budget == Decimal("60000.00")
    assert messages(app) == []


# (id, form overrides, expected (section, message))
FORM_CASES = [
    ("title", {"title": ""}, ("basic", "请填写项目名称")),
    ("field", {"field": ""}, ("basic", "请选择服务领域")),
    ("field-unknown", {"field": "astrology"}, ("basic", "请选择服务领域")),
    ("communities", {"service_communities": "  "}, ("basic", "请填写服务社区")),
    ("beneficiaries", {"beneficiaries_description": ""}, ("basic", "请填写受益对象")),
    ("count-missing", {"beneficiaries_count": ""}, ("basic", "请填写直接受益人数")),
    ("count-zero", {"beneficiaries_count": "0"}, ("basic", "直接受益人数不能小于1（当前填写：“0”）")),
    ("count-negative", {"beneficiaries_count": "-5"}, ("basic", "直接受益人数不能小于1（当前填写：“-5”）")),
    ("count-fraction", {"beneficiaries_count": "12.5"}, ("basic", "直接受益人数必须是整数（当前填写：“12.5”）")),
    ("count-text", {"beneficiaries_count": "约三百"}, ("basic", "直接受益人数格式不正确，请填写数字，例如 12345.67（当前填写：“约三百”）")),
    ("start-missing", {"period_start": ""}, ("basic", "请填写项目开始日期")),
    ("end-missing", {"period_end": ""}, ("basic", "请填写项目结束日期")),
    ("end-before-start", {"period_start": "2026-09-01", "period_end": "2026-08-01", "plan-0-start": "", "plan-0-end": ""},
     ("basic", "项目结束日期应晚于开始日期")),
    ("end-equals-start", {"period_end": "2026-07-01", "plan-0-start": "", "plan-0-end": ""}, ("basic", "项目结束日期应晚于开始日期")),
    ("date-not-exist", {"period_start": "2026-02-30"}, ("basic", "项目开始日期不是有效的日期（2026年2月30日不存在）（当前填写：“2026-02-30”）")),
    ("date-year-0001", {"period_end": "0001-01-01"}, ("basic", "项目结束日期的年份应在2000年至2100年之间（当前填写：“0001-01-01”）")),
    ("supervisor", {"supervisor": ""}, ("basic", "请填写监管方（街道/社区）")),
    ("requester", {"requester": ""}, ("basic", "请填写需求方")),
    ("need", {"need_analysis": ""}, ("need", "请填写需求分析")),
    ("goal", {"overall_goal": ""}, ("goals", "请填写总目标")),
    ("sub-goals", {"sub_goals": "\n \n"}, ("goals", "请至少填写一项具体目标")),
    ("plan-none", {"plan-0-start": "", "plan-0-end": "", "plan-0-content": "", "plan-0-output": ""}, ("plan", "请至少填写一行实施计划")),
    ("plan-content", {"plan-0-content": ""}, ("plan", "实施计划第1行：请填写活动内容")),
    ("plan-output", {"plan-0-output": ""}, ("plan", "实施计划第1行：请填写预期产出")),
    ("plan-dates", {"plan-0-start": "", "plan-0-end": ""}, ("plan", "实施计划第1行：请填写开始日期和结束日期")),
    ("plan-order", {"plan-0-start": "2026-08-31", "plan-0-end": "2026-07-01"}, ("plan", "实施计划第1行：结束日期早于开始日期")),
    ("plan-outside", {"plan-0-end": "2027-08-01"}, ("plan", "实施计划第1行：活动日期超出项目周期（2026年7月1日至2027年6月30日）")),
    ("plan-bad-date", {"plan-0-end": "2026-13-01"}, ("plan", "实施计划第1行结束日期不是有效的日期（2026年13月1日不存在）（当前填写：“2026-13-01”）")),
    ("team-none", {"team-0-name": "", "team-0-education": "", "team-0-major": "", "team-0-role": "", "team-0-qualification": "",
                   "team-0-time_on_project": ""}, ("team", "请至少填写一名项目团队成员")),
    ("team-name", {"team-0-name": ""}, ("team", "项目团队第1行：请填写姓名")),
    ("team-role", {"team-0-role": ""}, ("team", "项目团队第1行：请填写项目角色")),
    ("budget-category", {"budget-0-category": ""}, ("budget", "预算明细第1行：请选择预算科目")),
    ("budget-item", {"budget-0-item": ""}, ("budget", "预算明细第1行：请填写支出项目")),
    ("budget-price", {"budget-0-unit_price": ""}, ("budget", "预算明细第1行：请填写单价")),
    ("budget-qty", {"budget-0-quantity": ""}, ("budget", "预算明细第1行：请填写数量")),
    ("budget-price-1e309", {"budget-0-unit_price": "1e309"},
     ("budget", "预算明细第1行单价格式不正确，请填写数字，例如 12345.67（当前填写：“1e309”）")),
    ("budget-price-nan", {"budget-0-unit_price": "NaN"}, ("budget", "预算明细第1行单价格式不正确，请填写数字，例如 12345.67（当前填写：“NaN”）")),
    ("budget-price-negative", {"budget-0-unit_price": "-0.01"}, ("budget", "预算明细第1行单价不能为负数（当前填写：“-0.01”）")),
    ("budget-price-fraction", {"budget-0-unit_price": "0.001"}, ("budget", "预算明细第1行单价最多保留两位小数（精确到分）（当前填写：“0.001”）")),
    ("budget-qty-zero", {"budget-0-quantity": "0"}, ("budget", "预算明细第1行数量不能小于0.01（当前填写：“0”）")),
    ("grant-zero", {"budget-0-source": "matching"}, ("budget", "申请资助金额为¥0.00：请将至少一行预算的资金来源设为“申请资助”")),
    # grant 36,000 of 36,000 + 18,000 + 600 = 54,600 → 65.93 % > 60 %
    ("grant-share", {"budget-2-unit_price": "600"},
     ("budget", "申请资助金额¥36,000.00超过项目总预算¥54,600.00的60%（最多¥32,760.00），其余部分须由配套资金承担")),
    # personnel 18,000 + 1,000 = 19,000 of 61,000 → 31.15 % > 30 %
    ("personnel-cap", {"budget-3-category": "personnel", "budget-3-item": "志愿者补贴", "budget-3-unit_price": "100",
                       "budget-3-quantity": "10", "budget-3-source": "matching"},
     ("budget", "“人员及志愿者补贴”合计¥19,000.00，占总预算的31.15%，超过本批次上限30%")),
    ("extra-required", {"extra-11": ""}, ("extra", "请填写“项目实施社区”")),
    ("extra-number", {"extra-12": "五十"}, ("extra", "“志愿者人数”格式不正确，请填写数字，例如 12345.67")),
    ("extra-date", {"extra-13": "2026-02-30"}, ("extra", "“启动日期”不是有效的日期（2026年2月30日不存在）")),
    ("extra-choice", {"extra-14": "外星人"}, ("extra", "“服务对象类别”的选项无效，请重新选择")),
    ("bank-name", {"bank_account_name": ""}, ("bank", "请填写收款账户户名")),
    ("bank", {"bank_name": ""}, ("bank", "请填写开户行")),
    ("account-missing", {"bank_account_number": ""}, ("bank", "请填写收款账号")),
    ("account-invalid", {"bank_account_number": "62-17abc"}, ("bank", "收款账号应为8至30位数字")),
]


@pytest.mark.parametrize("overrides, expected", [c[1:] for c in FORM_CASES], ids=[c[0] for c in FORM_CASES])
def test_form_rule(overrides, expected):
    got = messages(build(**overrides))
    assert expected in got, got


def test_grant_below_the_minimum():
    call = make_call(grant_min=Decimal("50000.00"))
    assert ("budget", "申请资助金额¥36,000.00低于本批次最低资助额¥50,000.00") in messages(build(call))


def test_grant_above_the_maximum():
    call = make_call(grant_max=Decimal("30000.00"))
    assert ("budget", "申请资助金额¥36,000.00超过本批次最高资助额¥30,000.00") in messages(build(call))


def test_grant_share_exactly_at_the_limit_passes():
    app = build()  # 36,000 / 60,000 = 60 %
    assert all("配套资金" not in m for _, m in messages(app))


def test_category_cap_exactly_at_the_limit_passes():
    app = build()  # personnel 18,000 / 60,000 = 30 %
    assert all("人员及志愿者补贴" not in m for _, m in messages(app))


def test_theme_not_offered_by_the_call():
    call = make_call(themes=["youth", "disability"])
    assert ("basic", "服务领域“养老”不在本批次支持的领域（青少年、助残）内") in messages(build(call))


def test_totals_must_be_consistent():
    app = build()
    app.total_budget = Decimal("60000.01")
    assert ("budget", "预算合计与明细不一致（资助＋配套＝总预算，金额＝单价×数量），请重新保存草稿后再提交") in messages(app)
    app = build()
    app.budget_lines[0].amount = Decimal("1.00")
    assert any(m.startswith("预算合计与明细不一致") for _, m in messages(app))


def test_required_attachment_and_file_field():
    call = make_call()
    call.fields[4].required = True
    app = build(call)
    app.attachments = []
    got = messages(app)
    assert ("attachments", "请上传附件“登记证书副本”") in got
    assert ("extra", "请上传“项目logo”") in got


def test_deadline_passed_by_server_time():
    app = build()
    got = messages(app, now=app.call.closes_at)
    assert ("general", "本批次申报已于2026年6月11日 10:00截止，无法提交") in got


def test_call_not_yet_open():
    call = make_call(opens_at=NOW + timedelta(days=1))
    assert ("general", "本批次申报将于2026年6月2日 10:00开始，尚不能提交") in messages(build(call))


def test_revision_deadline_for_a_returned_application():
    app = build(status=ApplicationStatus.RETURNED)
    app.revision_deadline = date(2026, 5, 31)
    got = messages(app, now=app.call.closes_at + timedelta(days=30))
    assert ("general", "修改期限（2026年5月31日）已过，无法重新提交") in got
    # the call's own deadline does not apply to a resubmission
    assert not any("截止" in m for _, m in got)
    app.revision_deadline = date(2026, 6, 1)
    assert messages(app) == []


def test_eligibility_reasons_are_listed_each():
    got = messages(build(), eligibility_reasons=["已被列入活动异常名录", "最近一次年报（2025年度）结论为不合格"])
    assert ("general", "组织不符合申报条件：已被列入活动异常名录") in got
    assert ("general", "组织不符合申报条件：最近一次年报（2025年度）结论为不合格") in got


def test_application_count_per_organisation():
    assert ("general", "本组织在本批次已提交2份申报书，已达上限（每个组织最多2份）") in messages(build(), other_active_count=2)
    assert messages(build(), other_active_count=1) == []


def test_an_empty_draft_lists_every_problem_at_once_grouped_by_section():
    call = make_call()
    app = Application(status=ApplicationStatus.DRAFT, call=call, attachments=[])
    apply_draft(app, parse_draft(MultiDict({"bank_account_name": ""}), call))
    problems = check_submission(app, call, ctx(now=call.closes_at, eligibility_reasons=["组织尚未通过民政部门认证"]))
    assert len(problems) >= 20
    groups = group_problems(problems)
    assert [g[0] for g in groups] == ["general", "basic", "need", "goals", "plan", "team", "budget", "extra", "attachments", "bank"]
    assert groups[0][1] == "申报条件"
    assert all(m and not m.isascii() for _, _, msgs in groups for m in msgs)
