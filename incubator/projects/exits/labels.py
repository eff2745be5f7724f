"""Chinese audit-log labels of the exits area, merged into incubator/admin/audit_labels.py."""
from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    "exit.settled": "项目资金结算",
    "exit.closed": "办理项目结项",
    "exit.terminated": "终止项目（退出）",
    "exit.refund_received": "登记退款到账",
    "settlement.refunded": "应退资金已全部退回",
}
OBJECT_LABELS: dict[str, str] = {
    "Settlement": "项目结算",
    "Termination": "项目终止",
    "RefundReceipt": "退款凭证",
}
FIELD_LABELS: dict[str, str] = {
    "paid_total": "已拨付合计",
    "verified_total": "已核定支出",
    "refund_due": "应退金额",
    "received_total": "已退回合计",
    "reason_kind": "终止原因",
    "debar": "禁入",
    "debar_years": "禁入年限",
    "debar_until": "禁入期至",
    "credit_record_id": "信用记录",
    "termination_id": "终止记录",
    "settlement_id": "结算记录",
    "receipt_id": "退款凭证",
    "received_on": "到账日期",
    "voucher_no": "凭证号",
    "project_id": "项目",
}
