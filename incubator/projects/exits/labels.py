"""Chinese audit-log labels of the exits area, merged into incubator/admin/audit_labels.py."""
from __future__ import annotations

ACTION_LABELS: dict[str, str] = {}
OBJECT_LABELS: dict[str, str] = {}
FIELD_LABELS: dict[str, str] = {}
