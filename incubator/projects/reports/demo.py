"""Demo data of the reports area: ``seed(project, *, staff, org_user, today=None)``.

Brings one demo project's reports to a realistic state through the real services: a monthly schedule
from its term; every report whose due date has passed is submitted two days before it and accepted,
except that the second most recent one was returned once and resubmitted (now waiting for review),
and the most recent one is left unsubmitted, so the project shows one overdue report. A project not yet
started gets only its schedule. The caller commits. Returns the schedule items.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from incubator.db import from_local, today_local
from incubator.projects.reports import services
from incubator.projects.reports.models import ReportKind

TEXTS = {
    ReportKind.PROGRESS: ("本期在社区开展助餐与探访服务，按计划完成入户探访和集体活动；"
                          "志愿者队伍稳定，服务对象满意度较高。\n下一步：扩大送餐覆盖范围，完善服务台账。"),
    ReportKind.MIDTERM: ("项目执行过半：各项服务按合同推进，累计服务人次达到年度目标的52%；"
                         "资金使用符合预算。\n存在问题：部分高龄老人需要上门服务，已调整人手。"),
    ReportKind.FINAL: "项目已按合同完成全部服务内容，各项指标均已达成，详见结项报告附件。",
}


def _at(day: date, hour: int) -> datetime:
    return from_local(datetime.combine(day, time(hour, 0)))


def seed(project, *, staff, org_user, today: date | None = None, frequency: str = "monthly") -> list:
    today = today or today_local()
    items = services.generate_schedule(project, frequency, by=staff)
    past = [i for i in items if i.due_on < today]
    if not past:
        return items
    overdue, rest = past[-1], past[:-1]
    for n, item in enumerate(rest):
        on = max(item.due_on - timedelta(days=2), item.period_start)
        people, activities = 80 + 15 * n, 3 + n % 3
        report = services.submit_report(item, by=org_user, text=TEXTS[item.kind], people_served=people,
                                        activities_held=activities, on=on)
        report.submitted_at = _at(on, 10)
        if item is rest[-1]:  # the latest: returned once, resubmitted, waiting for review
            services.return_report(item, by=staff, reason="请补充活动签到表和活动照片。")
            later = min(on + timedelta(days=3), today)
            again = services.submit_report(item, by=org_user, text=TEXTS[item.kind] + "\n已补充签到表。",
                                           people_served=people, activities_held=activities, on=later)
            again.submitted_at = _at(later, 15)
        else:
            services.accept_report(item, by=staff, on=min(on + timedelta(days=3), today))
    assert services.overdue_count(project, on=today) >= 1 and overdue.first_submitted_on is None
    return items
