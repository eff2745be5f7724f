"""Indexes the screening list needs on the applications domain's table (no tables of its own).

The staff list filters on status and "submitted at least once" (``submitted_at IS NOT NULL``),
scopes district staff through the organisation, counts per status, and sorts by the last
submission time or by the grant requested. Without these indexes every page sorts and counts the
whole table (≈ 20–150 ms at 20,000 applications on SQLite); with them the database walks an index
and stops after one page, and counts read only index entries (≈ 0.1–3 ms, see
benchmarks/staff_list.py). They are chosen to work without planner statistics (a SQLite file
that never ran ANALYZE).
"""
from __future__ import annotations

from sqlalchemy import Index

from incubator.applications.models import Application

# The work queue and the counts per status (covering: no table reads).
Index(
    "ix_application_screening_status",
    Application.status, Application.last_submitted_at, Application.submitted_at,
)
# District staff: from the district's organisations to their applications (covering).
Index(
    "ix_application_screening_org",
    Application.org_id, Application.status, Application.last_submitted_at, Application.submitted_at,
)
# Sorts of the list: the database reads one page in index order instead of sorting every row.
Index("ix_application_last_submitted_at", Application.last_submitted_at)
Index("ix_application_grant_requested", Application.grant_requested)
