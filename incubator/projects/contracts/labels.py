"""Chinese audit-log labels of the contracts area, merged into incubator/admin/audit_labels.py."""
from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    "contract_template.created": "新建合同模板",
    "contract_template.updated": "修改合同模板",
    "contract.created": "生成合同",
    "contract.regenerated": "重新生成合同",
    "contract.amendment_started": "发起合同变更",
    "contract.org_scan_uploaded": "上传乙方签章合同",
    "contract.countersigned": "上传双方签章合同（会签）",
    "contract.published": "公开合同摘要",
    "contract.scan_returned": "退回乙方签章件",
    # status transitions (Contract.TRANSITIONS)
    "contract.org_signed": "合同：乙方已签章",
    "contract.generated": "合同：退回待乙方重新签章",
    "contract.in_force": "合同：已生效",
    "contract.superseded": "合同：已被变更取代",
}
OBJECT_LABELS: dict[str, str] = {
    "Contract": "合同",
    "ContractTemplate": "合同模板",
}
FIELD_LABELS: dict[str, str] = {
    "number": "合同编号", "due_on": "签订期限", "publish_due_on": "公开期限", "published_on": "公开日期",
    "signed_on": "签订日期", "sha256": "校验码", "template_id": "合同模板", "amends": "变更的合同",
    "clauses": "条款数", "is_default": "默认模板",
}
