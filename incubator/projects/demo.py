"""Demo projects of the hub: ``seed_projects(today, staff)``.

Run after the 公示 demo (incubator.publicity.demo.seed_review_results): the 2025 call's 公示 is final and
its remaining grants are funded (已确定资助). This launches, through the real services:

* "grant" — 立项 of the first funded application (its approved grant), 50/30/20 from the call's plan;
* "grant_2" — 立项 of a second funded application, when there is one;
* "purchase" — a purchase of service (政府购买服务) from a verified organisation of another district:
  社区居家养老服务, ¥120,000.00, one year, 50/30/20.

Each has its tranche schedule and nothing more: the other areas (contracts, budgets, reports, evaluations,
exit) bring them further with their own demo ``seed(...)``. At least one funded application is left
without a project, so the desk shows a 待立项 item. Returns {name: Project}; the caller commits. Safe to
call on a database without funded applications (it then launches the purchase only).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from incubator.applications.models import Application, ApplicationStatus
from incubator.extensions import db
from incubator.orgs.models import Organization, Verification
from incubator.projects import services
from incubator.projects.models import Project


def _term(start: date) -> tuple[date, date]:
    return start, services.add_years(start, 1) - timedelta(days=1)


def _schedule(project: Project, staff) -> None:
    plan = services.default_plan(project)
    services.set_tranche_schedule(project, [s for s, _ in plan], [c for _, c in plan], by=staff)


def seed_projects(today: date, staff, *, funded_to_launch: int = 2) -> dict[str, Project]:
    """Launch up to ``funded_to_launch`` funded applications (keeping one for the desk) and one purchase."""
    made: dict[str, Project] = {}
    funded = list(db.session.scalars(
        select(Application).outerjoin(Project, Project.application_id == Application.id)
        .where(Application.status == ApplicationStatus.FUNDED, Project.id.is_(None))
        .order_by(Application.number)))
    # keep one funded application un-launched when there are several (the desk's 待立项)
    launchable = funded[:min(funded_to_launch, max(len(funded) - 1, 1))] if funded else []
    for i, application in enumerate(launchable):
        call = application.call
        start, end = _term(today - timedelta(days=200 - 10 * i))  # past its mid-point: reports due, a mid-term held
        project = services.launch_from_application(
            application, by=staff, term_start=start, term_end=end,
            budget_line=f"{call.year}年度社会组织公益创投专项资金", budget_year=call.year,
            purchasing_department="洛阳市民政局",
            service_content=application.summary or application.title,
            quantity=f"直接受益{application.beneficiaries_count}人" if application.beneficiaries_count else "按申报书执行",
            quality_standard="服务对象满意度不低于90%；按期提交进度报告",
            prior_assessment="项目需求明确、实施方案可行、预算测算合理，同意立项。",
        )
        _schedule(project, staff)
        made["grant" if i == 0 else f"grant_{i + 1}"] = project

    used = {p.org_id for p in made.values()}
    suppliers = [o for o in db.session.scalars(
        select(Organization).where(Organization.status == Verification.VERIFIED).order_by(Organization.id))
        if o.id not in used and not o.active_credit_records(today)]
    if suppliers:
        start, end = _term(today - timedelta(days=5))
        project = services.launch_purchase(
            suppliers[-1], by=staff, title="社区居家养老上门服务", amount=Decimal("120000.00"),
            term_start=start, term_end=end, budget_line=f"{today.year}年度政府购买社会服务专项资金",
            budget_year=today.year, purchasing_department="洛阳市民政局",
            service_content="为辖区60周岁以上独居、空巢老人提供助餐、助洁、探访和健康讲座服务。",
            quantity="服务老人200名；上门探访每人每月不少于2次；健康讲座12场",
            quality_standard="服务对象满意度不低于90%；服务记录完整可查",
            prior_assessment="列入政府购买服务指导性目录，预算已批复；事前绩效评估结论：必要、可行。",
        )
        _schedule(project, staff)
        made["purchase"] = project
    db.session.flush()
    return made
