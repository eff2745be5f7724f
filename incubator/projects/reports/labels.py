"""Chinese audit-log labels of the reports area, merged into incubator/admin/audit_labels.py."""
from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    "report_schedule.generated": "生成报告计划",
    "reportschedule.due": "报告待提交",
    "reportschedule.submitted": "报告已提交",
    "reportschedule.accepted": "报告审核通过",
    "reportschedule.returned": "报告退回修改",
    "progress_report.submitted": "提交进度报告",
    "progress_report.accepted": "进度报告通过",
    "progress_report.returned": "退回进度报告",
    "report_schedule.reminded": "发送报告提醒",
}
OBJECT_LABELS: dict[str, str] = {
    "ReportSchedule": "报告计划事项",
    "ProgressReport": "进度报告",
    "ProgressReportFile": "报告附件",
}
FIELD_LABELS: dict[str, str] = {
    "frequency": "报告频率",
    "replaced": "替换事项数",
    "added": "新增事项数",
    "schedule_id": "报告事项",
    "people_served": "服务人次",
    "activities_held": "开展活动次数",
    "files": "附件数",
    "late": "逾期提交",
    "recipients": "收件人数",
}
