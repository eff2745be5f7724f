"""Chinese audit-log labels of the evaluations area, merged into incubator/admin/audit_labels.py."""
from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    "indicator_template.created": "新建绩效评价指标体系",
    "indicator_template.updated": "修改绩效评价指标体系",
    "indicator_template.deleted": "删除绩效评价指标体系",
    "evaluation.assigned": "安排绩效评价及评价人",
    "evaluation.scores_saved": "保存绩效评价评分",
    "evaluation.confirmed": "确认绩效评价结果",
    "evaluation.report_generated": "生成绩效评价报告",
    "performanceevaluation.submitted": "绩效评价状态：已提交待确认",
    "performanceevaluation.confirmed": "绩效评价状态：已确认",
    "performanceevaluation.returned": "绩效评价状态：退回评价人",
    "performanceevaluation.cancelled": "绩效评价状态：已撤销安排",
}
OBJECT_LABELS: dict[str, str] = {
    "IndicatorTemplate": "绩效评价指标体系",
    "PerformanceEvaluation": "绩效评价",
}
FIELD_LABELS: dict[str, str] = {
    "indicators": "指标数",
    "stage": "评价阶段",
    "template": "指标体系",
    "evaluator_id": "评价人",
    "scored": "已评分指标数",
    "of": "指标总数",
    "changed": "修改项数",
    "bonus": "加分",
    "deduction": "扣分",
}
