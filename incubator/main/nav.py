"""Left navigation by role, with counts of what waits (待审核 12).

Each entry: (label, endpoint, roles, count) where count is None or a function(user) -> int.
Domains add their entries here; counts call the domain's services (never its views).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import url_for
from werkzeug.routing import BuildError

from incubator.accounts.models import Role

ALL_ROLES = frozenset(Role)
STAFF_LIKE = frozenset({Role.STAFF, Role.ADMIN})


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset
    count: Callable | None = None
    section: str = ""


def _pending_orgs(user) -> int:
    from incubator.orgs.services import count_pending_verification

    return count_pending_verification(user)


def _screening_waiting(user) -> int:
    from incubator.screening.queries import count_waiting

    return count_waiting(user)


def _review_waiting(user) -> int:
    from incubator.review.services import count_waiting_for_expert

    return count_waiting_for_expert(user)


def _open_objections(user) -> int:
    from incubator.publicity.services import count_open_objections

    return count_open_objections(user)


def _payments_to_approve(user) -> int:
    from incubator.projects.services import count_staff_waiting

    return count_staff_waiting(user)


def _payments_to_pay(user) -> int:
    from incubator.projects.services import count_payments_to_pay

    return count_payments_to_pay(user)


NAV: list[NavItem] = [
    NavItem("工作台", "main.dashboard", ALL_ROLES, section="常用"),
    NavItem("本组织信息", "orgs.mine", frozenset({Role.APPLICANT}), section="社会组织"),
    NavItem("组织成员", "accounts.members", frozenset({Role.APPLICANT}), section="社会组织"),
    NavItem("社会组织名录", "orgs.index", STAFF_LIKE, section="社会组织"),
    NavItem("待认证组织", "orgs.pending", STAFF_LIKE, count=_pending_orgs, section="社会组织"),
    NavItem("可申报的通知", "calls.for_org", frozenset({Role.APPLICANT}), section="项目申报"),
    NavItem("我的申报", "applications.mine", frozenset({Role.APPLICANT}), section="项目申报"),
    NavItem("申报通知管理", "calls.index", STAFF_LIKE, section="申报与评审"),
    NavItem("资格审查", "screening.index", STAFF_LIKE, count=_screening_waiting, section="申报与评审"),
    NavItem("专家库", "pools.index", STAFF_LIKE, section="申报与评审"),
    NavItem("评审轮次", "review.index", STAFF_LIKE, section="申报与评审"),
    NavItem("评审排名", "ranking.index", STAFF_LIKE, section="申报与评审"),
    NavItem("路演", "roadshow.index", STAFF_LIKE, section="申报与评审"),
    NavItem("结果与公示", "publicity.staff_index", STAFF_LIKE, count=_open_objections, section="申报与评审"),
    NavItem("工作台（待办）", "projects.desk", frozenset({Role.STAFF, Role.FINANCE, Role.ADMIN}),
            section="项目管理"),  # no count: it would run every area's desk provider on every page
    NavItem("项目管理", "projects.staff_index", frozenset({Role.STAFF, Role.ADMIN}), count=_payments_to_approve,
            section="项目管理"),
    NavItem("拨付审核", "projects.finance_queue", frozenset({Role.FINANCE}), count=_payments_to_pay, section="项目管理"),
    NavItem("项目查询", "projects.staff_index", frozenset({Role.FINANCE}), section="项目管理"),
    NavItem("进度报告", "reports.staff_reports", frozenset({Role.STAFF, Role.ADMIN}), section="项目管理"),
    NavItem("结项与退出", "exits.staff_index", frozenset({Role.STAFF, Role.FINANCE, Role.ADMIN}), section="项目管理"),
    NavItem("承接主体年度考核", "evaluations.assessments", STAFF_LIKE, section="项目管理"),
    NavItem("评价指标体系", "evaluations.templates", STAFF_LIKE, section="项目管理"),
    NavItem("合同模板", "contracts.templates_index", STAFF_LIKE, section="项目管理"),
    NavItem("我的项目", "projects.my_projects", frozenset({Role.APPLICANT}), section="项目申报"),
    NavItem("我的评价任务", "evaluations.my_evaluations", frozenset({Role.EVALUATOR, Role.EXPERT}), section="绩效评价"),
    NavItem("我的评审任务", "review.queue", frozenset({Role.EXPERT}), count=_review_waiting, section="评审专家"),
    NavItem("路演评分", "roadshow.judge_index", frozenset({Role.EXPERT}), section="评审专家"),
    NavItem("我的专家信息", "pools.me", frozenset({Role.EXPERT}), section="评审专家"),
    NavItem("后台任务", "system.jobs", ALL_ROLES, section="系统"),
    NavItem("用户与角色", "admin.users", frozenset({Role.ADMIN}), section="系统"),
    NavItem("审计日志", "admin.audit_log", frozenset({Role.ADMIN}), section="系统"),
    NavItem("工作日历调整", "system.workdays", frozenset({Role.ADMIN}), section="系统"),
    NavItem("通知中心", "notifications.index", ALL_ROLES, section="个人"),
    NavItem("账号安全", "accounts.security", ALL_ROLES, section="个人"),
]


def nav_for(user) -> list[dict]:
    items = []
    for item in NAV:
        if user.role not in item.roles:
            continue
        try:
            url = url_for(item.endpoint)
        except BuildError:  # an entry whose view is not registered yet is hidden, not broken
            continue
        items.append(
            {"label": item.label, "url": url, "section": item.section, "count": item.count(user) if item.count else None}
        )
    return items
