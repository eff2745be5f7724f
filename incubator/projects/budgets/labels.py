"""Chinese audit-log labels of the budgets area, merged into incubator/admin/audit_labels.py."""
from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    "budget.approved": "核定项目预算",
    "budget.moved": "预算科目间调剂生效",
    "budget_line.revised": "工作人员修改预算科目",
    "budget_line.added": "增设预算科目",
    "budget_adjustment.requested": "申请预算调整",
    "budget_adjustment.by_staff": "工作人员发起预算调剂",
    "budgetadjustment.staff_approved": "预算调整业务审核通过（待市级审核）",
    "budgetadjustment.applied": "预算调整已生效",
    "budgetadjustment.rejected": "预算调整被驳回",
    "expense.recorded": "登记项目支出",
    "expense.corrected": "修改被退回的支出",
    "expense.resubmitted": "支出重新提交",
    "expense.verified": "支出核实通过",
    "expense.returned": "支出被退回",
}
OBJECT_LABELS: dict[str, str] = {
    "BudgetLine": "预算科目",
    "BudgetAdjustment": "预算调整",
    "Expense": "项目支出",
    "ExpenseReceipt": "支出票据",
}
FIELD_LABELS: dict[str, str] = {
    "from_line": "调出科目",
    "to_line": "调入科目",
    "requires_city": "须市级审核",
    "lines": "预算科目",
    "grant": "资助资金",
    "matching": "配套资金",
    "item": "支出内容",
    "approved": "核定金额",
    "line": "预算科目",
    "spent_on": "支出日期",
    "payee": "收款单位（人）",
    "receipts": "票据数",
    "receipts_added": "新增票据数",
    "description": "支出事由",
    "from": "调出科目金额",
    "to": "调入科目金额",
}
