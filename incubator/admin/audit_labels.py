"""The audit log in Chinese: one table for what every action means, what every before/after key
is called, and how a stored value reads (enum labels, money, dates, names instead of ids).

Every action the code can write has a label here: the literal ``audit.record("…")`` calls and
``"<model>.<status>"`` of every ``TRANSITIONS`` table (``incubator.core.states.transition``).
``tests/admin/test_audit_labels.py`` walks the source and fails for an action without a label.
An action that is not here (an old row, say) shows as it is stored.

Values are stored as JSON (``core.audit._plain``: Decimal → "12.50", date → ISO, enum → value), so
reading them needs to know the field: an enum column of the object's model gives its labels, a
few keys are named explicitly (``ENUM_KEYS``), money keys are formatted ¥12,345.67, ``*_on`` keys
are dates and ``*_at`` keys datetimes (stored UTC, shown in Beijing time), and reference keys
(``district_id``, ``org_id``, ``call_id``, ``file_id`` …) are shown by name. Names are looked up
once per page, one query per kind of object (``NAME_SOURCES``), whatever the number of rows.
"""
from __future__ import annotations

import importlib
import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# --------------------------------------------------------------------------- actions

ACTION_LABELS: dict[str, str] = {
    # accounts (core.audit rows written by incubator/accounts, incubator/pools, incubator/orgs)
    "login": "登录",
    "logout": "退出登录",
    "password_changed": "修改密码",
    "password_reset": "重置密码",
    "password_reset_requested": "申请重置密码",
    "invitation_accepted": "接受邀请并设置密码",
    "set_password_link_sent": "发送设置密码链接",
    "email_changed": "修改登录邮箱",
    "mobile_changed": "修改手机号",
    "2fa_enrolled": "启用两步验证",
    "2fa_reset": "重置两步验证",
    "2fa_recovery_code_used": "使用恢复码登录",
    "2fa_recovery_codes_regenerated": "重新生成恢复码",
    "user_created": "创建用户",
    "user.created": "注册组织管理员账号",
    "user_disabled": "停用账号",
    "user_enabled": "启用账号",
    "role_changed": "修改角色",
    "member_invited": "邀请组织成员",
    "member_removed": "移除组织成员",
    "expert_account_created": "创建专家账号",
    # registry (社会组织)
    "org.registered": "组织注册",
    "org.resubmitted": "修改后重新提交认证材料",
    "org.contact_updated": "修改组织联系信息",
    "org.annual_report": "登记年报结论",
    "org.rating": "登记等级评估",
    "org.credit_added": "列入信用记录",
    "org.credit_corrected": "登记整改（信用记录）",
    "org.credit_removed": "移出信用记录",
    "organization.pending": "组织重新提交认证",
    "organization.verified": "组织认证通过",
    "organization.rejected": "组织认证驳回",
    # calls (申报通知)
    "call.create": "创建申报通知",
    "call.update": "修改申报通知",
    "call.publish": "发布申报通知",
    "call.unpublish": "撤回发布申报通知",
    "call.archive": "归档申报通知",
    "call.document_add": "上传通知附件",
    "call.document_remove": "删除通知附件",
    # applications (申报书) and screening (资格审查)
    "application.start": "创建申报书",
    "application.version": "提交申报书版本",
    "application.attachment_add": "上传申报附件",
    "application.attachment_remove": "删除申报附件",
    "application.screening": "资格审查决定",
    "application.submitted": "申报书已提交",
    "application.returned": "申报书退回修改",
    "application.resubmitted": "申报书重新提交",
    "application.passed": "资格审查通过",
    "application.rejected": "资格审查未通过",
    "application.withdrawn": "申报书撤回",
    "application.proposed": "列入拟资助名单",
    "application.publicized": "进入资助公示",
    "application.funded": "确定资助",
    "application.cancelled": "取消资助",
    # expert pool (专家库)
    "expert.created": "新增专家",
    "expert.updated": "修改专家信息",
    "expert.imported": "批量导入专家",
    "expert.relation_declared": "登记利害关系",
    "expert.relation_deleted": "删除利害关系",
    "expert.unavailable_added": "登记不可参评时段",
    "expert.unavailable_deleted": "删除不可参评时段",
    "expert.rate": "评价专家表现",
    "expert.active": "专家恢复在库",
    "expert.suspended": "暂停专家",
    "expert.removed": "专家出库",
    # review (评审): rounds, conflicts, the draw, assignments, scores, ranking
    "review_round.create": "创建评审轮次",
    "review_round.update": "修改评审轮次",
    "review_round.criteria": "修改评分细则",
    "review_round.entries_add": "加入评审申报书",
    "review_round.entry_remove": "移出评审申报书",
    "review_round.conflicts": "检测回避关系",
    "reviewround.drawn": "评审轮次完成专家抽取",
    "reviewround.scoring": "评审轮次开始评分",
    "reviewround.closed": "评审轮次结束",
    "review_draw.commit": "专家抽取：公布种子承诺",
    "review_draw.reveal": "专家抽取：公开结果",
    "review_draw.refused": "专家抽取未成功（专家不足）",
    "review_draw.replacement": "替换抽取专家",
    "review_draw.replacement_refused": "替换抽取未成功",
    "review_assignment.manual": "手工分配评审专家",
    "assignment.confirmed": "专家确认无利害关系",
    "assignment.declined": "专家申报回避",
    "assignment.replaced": "评审专家被替换",
    "score.submit": "提交评分明细",
    "score.reopen": "退回评分",
    "score.submitted": "评分已提交",
    "score.reopened": "评分已退回修改",
    "ranking.promote": "晋级下一轮评审",
    # roadshow (路演)
    "roadshow.create": "安排路演",
    "roadshow.reorder": "调整路演顺序",
    "roadshowsession.live": "路演开始",
    "roadshowsession.ended": "路演结束",
    "contestant.presenting": "项目开始路演",
    "contestant.finished": "项目完成路演",
    # funding list, publicity (公示), objections (异议)
    "funding_list.propose": "拟定拟资助名单",
    "funding_list.amounts": "调整拟资助金额",
    "funding_list.approve": "审定拟资助名单（金额）",
    "fundinglist.draft": "拟资助名单退回拟定",
    "fundinglist.approved": "拟资助名单已审定",
    "fundinglist.publicizing": "拟资助名单公示中",
    "fundinglist.final": "拟资助名单结果确定",
    "funding.cancel": "取消资助（金额清零）",
    "publicity.start": "开始公示",
    "publicity.finalize": "公示期满确定结果",
    "publicity.final": "公示结束",
    "objection.file": "提出异议",
    "objection.upheld": "异议成立",
    "objection.not_upheld": "异议不成立",
    # files, working days
    "file.upload": "上传文件",
    "file.generate": "生成文件",
    "workday.override_add": "新增工作日调整",
    "workday.override_delete": "删除工作日调整",
    "workday.year_define": "确认年度工作日历",
    "workday.year_undefine": "取消年度工作日历确认",
    # projects (立项, tranches, payments)
    "project.launched": "项目立项",
    "project.contracted": "项目已签约",
    "project.in_progress": "项目执行中",
    "project.closed": "项目结项",
    "project.terminated": "项目终止",
    "project.condition_met": "拨付条件达成",
    "project.tranche_schedule": "设定分期拨付计划",
    "tranche.requestable": "分期款可申请",
    "tranche.requested": "已申请拨付",
    "tranche.approved_by_staff": "拨付经办审核通过",
    "tranche.paid": "分期款已拨付",
    "tranche.stopped": "分期款停止拨付",
    "payment.requested": "提交拨付申请",
    "payment.staff_approved": "拨付申请经办审核通过",
    "payment.paid": "财务确认拨付",
    "paymentrequest.staff_approved": "拨付申请状态：经办已审核",
    "paymentrequest.paid": "拨付申请状态：已支付",
}

OBJECT_LABELS: dict[str, str] = {
    "Project": "项目",
    "Tranche": "分期拨付",
    "PaymentRequest": "拨付申请",
    "User": "用户",
    "Organization": "社会组织",
    "CreditRecord": "信用记录",
    "Call": "申报通知",
    "Application": "申报书",
    "Job": "后台任务",
    "StoredFile": "文件",
    "WorkdayOverride": "工作日调整",
    "CalendarYear": "工作日历年度",
    "Expert": "专家",
    "ExpertRating": "专家评价",
    "ReviewRound": "评审轮次",
    "Draw": "专家抽取",
    "Assignment": "评审分配",
    "Score": "评分",
    "RoadshowSession": "路演",
    "Contestant": "路演项目",
    "FundingList": "拟资助名单",
    "FundingItem": "资助项目",
    "Publicity": "公示",
    "Objection": "异议",
}


# Each project area keeps its own labels beside its code (incubator/projects/<area>/labels.py).
PROJECT_AREA_LABELS = ("budgets", "contracts", "reports", "evaluations", "exits")
for _area in PROJECT_AREA_LABELS:
    _labels = importlib.import_module(f"incubator.projects.{_area}.labels")
    ACTION_LABELS.update(_labels.ACTION_LABELS)
    OBJECT_LABELS.update(_labels.OBJECT_LABELS)


def action_label(action: str | None) -> str:
    """The Chinese label of an action; an unknown action shows as it is stored."""
    return ACTION_LABELS.get(action or "", action or "")


def object_label(object_type: str | None) -> str:
    return OBJECT_LABELS.get(object_type or "", object_type or "")


# --------------------------------------------------------------------------- keys of before/after

FIELD_LABELS: dict[str, str] = {
    "status": "状态", "role": "角色", "district_id": "所属区", "street_id": "街道（乡镇）", "community_id": "社区（村）",
    "org_id": "所属组织", "is_org_admin": "组织管理员", "email": "邮箱", "mobile": "手机号", "active": "账号启用",
    "rejoined": "重新加入", "name": "名称", "title": "标题", "org_type": "组织类型", "uscc": "统一社会信用代码",
    "filing_number": "备案编号", "address": "地址", "founded_on": "成立日期", "registration_authority": "登记管理机关",
    "legal_rep": "法定代表人", "contact_name": "联系人", "contact_phone": "联系电话", "contact_email": "联系邮箱",
    "staff_count": "专职人员数", "social_worker_count": "持证社工数", "has_party_org": "建立党组织",
    "party_org_note": "党组织说明", "intro": "简介", "fields": "服务领域", "year": "年度", "result": "结论",
    "note": "备注", "grade": "等级", "awarded_on": "评定日期", "expires_on": "有效期至", "source": "依据",
    "record_id": "记录编号", "kind": "类别", "reason": "原因", "start_on": "开始日期", "end_on": "结束日期",
    "corrected_on": "整改日期", "removed_on": "移出日期", "call_id": "申报批次", "version": "版本",
    "grant_requested": "申请资助", "matching_amount": "配套资金", "total_budget": "项目总预算", "slot": "附件类别",
    "file_id": "文件", "document_id": "通知附件", "decision": "审查结论", "reasons": "退回原因",
    "revision_deadline": "修改期限", "batch": "批量操作", "notice_length": "通知正文字数", "opens_at": "开始申报",
    "closes_at": "截止申报", "published_at": "发布时间", "archived_at": "归档时间", "fund_pool": "资金总额",
    "grant_min": "单项资助下限", "grant_max": "单项资助上限", "max_grant_share": "资助占预算上限",
    "max_applications_per_org": "每个组织限报", "allowed_org_types": "可申报组织类型", "tranche_plan": "分期拨付计划",
    "min_years_since_founding": "成立年限要求", "require_annual_report_pass": "要求年报合格",
    "district_orgs_only": "仅限本区组织", "themes": "申报方向", "demo": "演示数据", "size": "大小",
    "sha256": "SHA-256", "content_type": "文件类型", "date": "日期", "is_workday": "工作日",
    "amount": "金额", "application": "申报书", "application_id": "申报书", "applications": "申报书",
    "total": "合计", "items": "明细", "starts_on": "公示开始", "ends_on": "公示结束", "workdays": "工作日数",
    "funded": "获资助项目数", "round": "评审轮次", "to_round": "晋级至", "count": "数量", "conflicts": "回避关系数",
    "experts": "专家数", "commitment": "种子承诺值", "seed": "随机种子", "inputs_digest": "输入摘要",
    "result_digest": "结果摘要", "solver": "求解器", "label": "替换标识", "expert_id": "专家", "expert": "专家",
    "missing": "缺少专家", "timeliness": "及时性", "quality": "评审质量", "comments": "评语", "k": "每份评审专家数",
    "max_load": "每位专家上限", "blind": "匿名评审", "review_date": "评审日期", "deadline": "截止日期",
    "aggregation": "汇总方式", "trim_from": "去掉最高最低分（人数起）", "promotion": "晋级方式", "top_n": "晋级前N名",
    "min_score": "晋级最低分", "exclude_earlier_reviewers": "回避前轮专家", "held_on": "路演日期", "venue": "地点",
    "contestants": "路演项目", "reference": "异议编号", "publicity": "公示", "employer": "工作单位",
    "employer_uscc": "工作单位统一社会信用代码", "employer_org_id": "工作单位（平台组织）",
    "max_reviews_per_round": "每轮评审上限", "relation_id": "关系编号", "org": "组织", "id": "编号", "file": "文件",
}
for _area in PROJECT_AREA_LABELS:
    FIELD_LABELS.update(importlib.import_module(f"incubator.projects.{_area}.labels").FIELD_LABELS)
# The same key means something else in some actions: (action or its prefix, key) → label.
ACTION_FIELD_LABELS: dict[tuple[str, str], str] = {
    ("score", "total"): "加权总分",
    ("score", "items"): "各项得分",
    ("funding_list", "total"): "拟资助合计",
    ("funding_list", "items"): "资助金额",
    ("publicity", "total"): "资助合计",
    ("publicity", "items"): "公示项目数",
    ("review_round.conflicts", "applications"): "申报书数",
    ("review_round.conflicts", "experts"): "专家数",
    ("review_draw.refused", "applications"): "申报书",
    ("objection.file", "item"): "异议项目",
    ("review_round", "kind"): "轮次类型",
    ("call", "kind"): "申报类型",
    ("expert.relation_declared", "uscc"): "组织统一社会信用代码",
}

# Enum values by key, where the key is not an enum column of the object's own model.
# "module:Enum"; (action or its prefix, key) first, then the key alone.
ENUM_KEYS: dict[object, str] = {
    "role": "incubator.accounts.models:Role",
    "result": "incubator.orgs.models:AnnualReportResult",
    "fields": "incubator.orgs.models:ServiceField",
    "allowed_org_types": "incubator.orgs.models:OrgType",
    "org_type": "incubator.orgs.models:OrgType",
    ("org", "kind"): "incubator.orgs.models:CreditKind",
    ("expert", "kind"): "incubator.pools.models:RelationKind",
    ("application.screening", "decision"): "incubator.applications.models:ApplicationStatus",
    ("call", "status"): "incubator.calls.models:CallStatus",
    ("call", "kind"): "incubator.calls.models:CallKind",
}
MONEY_KEYS = {"grant_requested", "matching_amount", "total_budget", "fund_pool", "grant_min", "grant_max", "amount"}
ACTION_MONEY_KEYS = {("funding_list", "total"), ("publicity", "total")}
MONEY_MAP_KEYS = {("funding_list", "items")}  # {application number: amount}
MONEY_ACTIONS = {"funding_list.amounts"}  # every value is an amount (keys are application numbers)
DIGEST_KEYS = {"sha256", "commitment", "inputs_digest", "result_digest", "seed"}  # shown shortened
DATE_KEYS = {"date", "deadline", "revision_deadline", "review_date"}
PERCENT_KEYS = {"max_grant_share"}

# Reference keys → the model whose name shows instead of the id.
REFERENCE_KEYS: dict[object, str] = {
    "district_id": "District", "street_id": "Street", "community_id": "Community", "org_id": "Organization",
    "employer_org_id": "Organization", "call_id": "Call", "file_id": "StoredFile", "document_id": "CallDocument",
    "expert_id": "Expert", "application_id": "Application", "round": "ReviewRound", "to_round": "ReviewRound",
    "publicity": "Publicity", ("expert.rate", "expert"): "Expert",
}
# How each model is named: "module:Class" and the columns joined with a space.
NAME_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "User": ("incubator.accounts.models:User", ("name",)),
    "Organization": ("incubator.orgs.models:Organization", ("name",)),
    "District": ("incubator.regions.models:District", ("name",)),
    "Street": ("incubator.regions.models:Street", ("name",)),
    "Community": ("incubator.regions.models:Community", ("name",)),
    "Call": ("incubator.calls.models:Call", ("title",)),
    "CallDocument": ("incubator.calls.models:CallDocument", ("title",)),
    "Application": ("incubator.applications.models:Application", ("number", "title")),
    "StoredFile": ("incubator.core.files:StoredFile", ("original_name",)),
    "Expert": ("incubator.pools.models:Expert", ("name",)),
    "ReviewRound": ("incubator.review.models:ReviewRound", ("name",)),
    "Publicity": ("incubator.publicity.models:Publicity", ("title",)),
    "RoadshowSession": ("incubator.roadshow.models:RoadshowSession", ("title",)),
    "Objection": ("incubator.publicity.models:Objection", ("reference",)),
}


def _prefix(action: str) -> str:
    return action.split(".", 1)[0]


def _lookup(table: dict, action: str, key: str):
    """(action, key), then (action prefix, key), then key."""
    for k in ((action, key), (_prefix(action), key), key):
        if k in table:
            return table[k]
    return None


def field_label(action: str, key: str) -> str:
    return _lookup(ACTION_FIELD_LABELS, action, key) or FIELD_LABELS.get(key, key)


@lru_cache(maxsize=None)
def resolve(path: str):
    """``"module:Name"`` → the object; None when the module or the name is gone."""
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


@lru_cache(maxsize=None)
def _model(object_type: str):
    from incubator.db import Base

    for mapper in Base.registry.mappers:
        if mapper.class_.__name__ == object_type:
            return mapper.class_
    return None


@lru_cache(maxsize=None)
def _column_enum(object_type: str | None, key: str):
    """The LabeledEnum of ``key`` when it is an enum column of the object's model (``status`` of
    every model with a lifecycle, ``kind``, ``org_type`` …)."""
    from sqlalchemy import Enum as SAEnum

    model = _model(object_type) if object_type else None
    if model is None:
        return None
    column = model.__mapper__.columns.get(key)
    enum_class = getattr(column.type, "enum_class", None) if column is not None and isinstance(column.type, SAEnum) else None
    return enum_class if enum_class is not None and hasattr(enum_class, "_value2member_map_") else None


def _enum_for(action: str, object_type: str | None, key: str):
    path = _lookup(ENUM_KEYS, action, key)
    if path:
        found = resolve(path)
        if found is not None:
            return found
    return _column_enum(object_type, key)


def _enum_label(enum_class, value) -> str | None:
    member = enum_class._value2member_map_.get(value) if isinstance(value, str) else None
    return getattr(member, "label", None) if member is not None else None


# --------------------------------------------------------------------------- values


def _money(value) -> str | None:
    from incubator.web import format_money

    try:
        return format_money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _size(value) -> str:
    if not isinstance(value, int):
        return str(value)
    if value < 1024:
        return f"{value} 字节"
    if value < 1024 * 1024:
        return f"{value / 1024:.1f} KB"
    return f"{value / 1024 / 1024:.1f} MB"


def _when(key: str, value: str) -> str | None:
    from incubator.web import format_date, format_datetime

    try:
        if key.endswith("_at"):
            return format_datetime(datetime.fromisoformat(value))
        if len(value) == 10:
            return format_date(date.fromisoformat(value))
        return format_datetime(datetime.fromisoformat(value))
    except ValueError:
        return None


def _is_date_key(key: str) -> bool:
    return key.endswith(("_on", "_at")) or key in DATE_KEYS


class ValueReader:
    """Reads the values of one audit row: ``reader.value(key, value)`` → Chinese text."""

    def __init__(self, row, names: dict):
        self.action = row.action or ""
        self.object_type = row.object_type
        self.names = names

    def value(self, key: str, value) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool):
            return "是" if value else "否"
        action = self.action
        if action in MONEY_ACTIONS or key in MONEY_KEYS or (_prefix(action), key) in ACTION_MONEY_KEYS:
            money = _money(value) if not isinstance(value, (dict, list)) else None
            if money:
                return money
        if (_prefix(action), key) in MONEY_MAP_KEYS and isinstance(value, dict):
            return "；".join(f"{k}：{_money(v) or v}" for k, v in value.items())
        reference = _lookup(REFERENCE_KEYS, action, key)
        if reference and isinstance(value, int) and not isinstance(value, bool):
            return self.names.get((reference, value), f"#{value}")
        enum_class = _enum_for(action, self.object_type, key)
        if enum_class is not None:
            if isinstance(value, list):
                return "、".join(_enum_label(enum_class, v) or str(v) for v in value) or "—"
            label = _enum_label(enum_class, value)
            if label:
                return label
        if isinstance(value, str):
            if key in DIGEST_KEYS and len(value) > 16:
                return value[:12] + "…"
            if _is_date_key(key):
                return _when(key, value) or value
            if key in PERCENT_KEYS:
                return f"{value}%"
            return value
        if key == "size":
            return _size(value)
        if isinstance(value, dict):
            if key == "reasons":
                from incubator.applications.models import SECTION_LABELS

                return "；".join(f"{SECTION_LABELS.get(k, k)}：{self.value(k, v)}" for k, v in value.items())
            return "；".join(f"{field_label(action, k)}：{self.value(k, v)}" for k, v in value.items())
        if isinstance(value, list):
            if reference:
                return "、".join(self.names.get((reference, v), f"#{v}") if isinstance(v, int) else str(v) for v in value) or "—"
            if all(isinstance(v, (str, int, float)) for v in value):
                return "、".join(str(v) for v in value) or "—"
        if isinstance(value, (int, float)):
            return str(value)
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def describe_change(row, names: dict) -> list[tuple[str, str | None, str | None]]:
    """(label, before, after) per key of the row's before/after; for a change with both sides only
    the keys whose value changed. A side that is absent is None."""
    reader = ValueReader(row, names)
    before = row.before if isinstance(row.before, dict) else None
    after = row.after if isinstance(row.after, dict) else None
    if before is None and after is None:
        if row.before is None and row.after is None:
            return []
        return [("", reader.value("", row.before) if row.before is not None else None,
                 reader.value("", row.after) if row.after is not None else None)]
    keys = list(dict.fromkeys([*(before or {}), *(after or {})]))
    if before is not None and after is not None:
        keys = [k for k in keys if before.get(k) != after.get(k)]
    return [
        (
            field_label(reader.action, key),
            reader.value(key, before.get(key)) if before is not None else None,
            reader.value(key, after.get(key)) if after is not None else None,
        )
        for key in keys
    ]


# --------------------------------------------------------------------------- names, one query per kind


def wanted_names(rows) -> dict[str, set[int]]:
    """Ids a page of rows refers to, by model name: the objects and the reference keys."""
    wanted: dict[str, set[int]] = {}

    def add(model: str | None, value) -> None:
        if model in NAME_SOURCES and isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 2**31 - 1:
            wanted.setdefault(model, set()).add(value)

    for row in rows:
        add(row.object_type, row.object_id)
        action = row.action or ""
        for side in (row.before, row.after):
            if isinstance(side, dict):
                for key, value in side.items():
                    model = _lookup(REFERENCE_KEYS, action, key)
                    if model:
                        for v in value if isinstance(value, list) else [value]:
                            add(model, v)
    return wanted


def load_names(rows) -> dict[tuple[str, int], str]:
    """{("User", 7): "孙磊", ("District", 3): "涧西区", ("Application", 9): "WCT-2026-00009 独居老人关爱"}:
    one query per kind of object the page refers to (at most ``len(NAME_SOURCES)``)."""
    from incubator.extensions import db

    names: dict[tuple[str, int], str] = {}
    for model_name, ids in wanted_names(rows).items():
        path, columns = NAME_SOURCES[model_name]
        model = resolve(path)
        if model is None:
            continue
        cols = [getattr(model, c) for c in columns]
        for id_, *parts in db.session.execute(db.select(model.id, *cols).where(model.id.in_(sorted(ids)))):
            names[(model_name, id_)] = " ".join(str(p) for p in parts if p)
    return names
