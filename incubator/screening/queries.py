"""The staff list of applications (资格审查): filters, eligibility flags, scope, counts, export rows.

Scope: staff and admins only; district staff (``user.district_id`` set) see only applications of
organisations registered in their district — in lists, counts, searches, exports and batch actions.
Drafts are never listed (``submitted_at IS NULL``): they are the organisation's own business.

Eligibility flags (有资格问题) are computed twice, on purpose:

* in SQL (``flag_clause``) so the list can be filtered and counted on the whole table;
* in Python per shown row (``row_flags``) from the organisation's stored records, with the
  reasons of ``calls.services.eligibility_for`` (the authority, also used by batch pass).

Both read the same stored facts (verification, credit records, annual reports, type, founding
date, district, and the call's rules); tests keep them in step.

The list page runs a constant number of queries whatever the page size: a count, the rows (with
the organisation and its district joined), and one ``selectinload`` query per related collection.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime

from sqlalchemy import BindParameter, and_, bindparam, exists, false, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, defer, joinedload, raiseload, selectinload, subqueryload

from incubator.applications.models import (
    SCREENABLE,
    Application,
    ApplicationStatus,
    ApplicationVersion,
)
from incubator.calls.models import Call
from incubator.core.search import like_pattern
from incubator.db import to_local, today_local
from incubator.extensions import db
from incubator.orgs.models import (
    AnnualReport,
    AnnualReportResult,
    CreditRecord,
    Organization,
    OrgType,
    ServiceField,
    Verification,
)
from incubator.regions.models import District

PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 20
from incubator.core.ids import MAX_ID  # noqa: E402

# Status filter: "pending" (待审查 = SCREENABLE) is the default work queue; "all" shows every
# submitted application; otherwise one status. Drafts are never listed.
STATUS_FILTERS: dict[str, str] = {
    "pending": "待审查",
    "all": "全部状态",
    **{s.value: s.label for s in ApplicationStatus if s != ApplicationStatus.DRAFT},
}

# Eligibility flags: key → label (a pill on the row, a filter option).
FLAG_LABELS: dict[str, str] = {
    "unverified": "组织未认证",
    "credit": "信用名单/禁入期",
    "annual": "年报问题",
    "call_rules": "不符合批次条件",
}
FLAG_FILTERS: dict[str, str] = {"any": "有资格问题", "none": "无资格问题", **FLAG_LABELS}

# Sort key → (label, ORDER BY builder). Every order ends with the id so pages never overlap.
SORTS: dict[str, tuple[str, object]] = {
    "submitted_desc": ("提交时间（新→旧）", lambda: (Application.last_submitted_at.desc(), Application.id.desc())),
    "submitted_asc": ("提交时间（旧→新）", lambda: (Application.last_submitted_at.asc(), Application.id.asc())),
    "number": ("申报编号", lambda: (Application.number.asc(), Application.id.asc())),
    "grant_desc": ("申请资助额（高→低）", lambda: (Application.grant_requested.desc(), Application.id.desc())),
    "grant_asc": ("申请资助额（低→高）", lambda: (Application.grant_requested.asc(), Application.id.asc())),
    "org": ("申报组织名称", lambda: (Organization.name.asc(), Application.id.asc())),
}
DEFAULT_SORT = "submitted_asc"  # a work queue: the longest waiting first


def _int_arg(value: str | None) -> int | None:
    value = (value or "").strip()
    if value.isdigit() and len(value) < 11:
        number = int(value)
        return number if 0 < number <= MAX_ID else None
    return None


@dataclass
class ListFilters:
    """What the staff list shows; built from the query string (unknown or bad values are dropped)."""

    q: str = ""
    call_id: int | None = None
    status: str = "pending"
    district_id: int | None = None
    service_field: ServiceField | None = None
    flag: str | None = None
    sort: str = DEFAULT_SORT
    per_page: int = DEFAULT_PAGE_SIZE
    on: date = dc_field(default_factory=today_local)

    @classmethod
    def from_args(cls, args) -> "ListFilters":
        status = args.get("status") or "pending"
        field_value = args.get("field") or ""
        per_page = _int_arg(args.get("per_page"))
        return cls(
            q=" ".join((args.get("q") or "").replace("\x00", "").split())[:100],
            call_id=_int_arg(args.get("call")),
            status=status if status in STATUS_FILTERS else "pending",
            district_id=_int_arg(args.get("district")),
            service_field=ServiceField(field_value) if field_value in ServiceField._value2member_map_ else None,
            flag=args.get("flag") if args.get("flag") in FLAG_FILTERS else None,
            sort=args.get("sort") if args.get("sort") in SORTS else DEFAULT_SORT,
            per_page=per_page if per_page in PAGE_SIZES else DEFAULT_PAGE_SIZE,
        )

    @property
    def active(self) -> bool:
        """Anything narrower than the default work queue."""
        return bool(self.q or self.call_id or self.status != "pending" or self.district_id or self.service_field or self.flag)

    def args(self, **overrides) -> dict:
        """The query-string arguments that reproduce these filters (for links and the export)."""
        out = {
            "q": self.q,
            "call": self.call_id,
            "status": self.status if self.status != "pending" else None,
            "district": self.district_id,
            "field": self.service_field.value if self.service_field else None,
            "flag": self.flag,
            "sort": self.sort if self.sort != DEFAULT_SORT else None,
            "per_page": self.per_page if self.per_page != DEFAULT_PAGE_SIZE else None,
        }
        out.update(overrides)
        return {k: v for k, v in out.items() if v not in (None, "")}


# --------------------------------------------------------------------------- scope


def may_screen(user) -> bool:
    """Staff (city or district) and admins."""
    from incubator.accounts.models import Role

    return bool(getattr(user, "is_authenticated", False)) and user.role in (Role.STAFF, Role.ADMIN) and bool(user.active)


def scope_clause(user):
    """WHERE clause limiting applications to what ``user`` may screen (needs Organization joined)."""
    from incubator.accounts.models import Role

    if not may_screen(user):
        return false()
    base = Application.submitted_at.is_not(None)
    if user.role == Role.ADMIN or user.district_id is None:
        return base
    return and_(base, Organization.district_id == user.district_id)


# --------------------------------------------------------------------------- eligibility flags (SQL)


def _years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 February falls back to the 28th)."""
    year = day.year - years
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def _due_report_year(on: date) -> int:
    from incubator.orgs.eligibility import last_due_report_year

    return last_due_report_year(on)


def _credit_clause(on: date):
    return exists().where(
        CreditRecord.org_id == Organization.id,
        CreditRecord.start_on <= on,
        or_(CreditRecord.removed_on.is_(None), CreditRecord.removed_on > on),
        or_(CreditRecord.end_on.is_(None), CreditRecord.end_on >= on),
    )


def _annual_clause(on: date):
    """Latest report before this year 不合格, or the due report missing when the call requires it."""
    later = aliased(AnnualReport)
    latest_failed = exists().where(
        AnnualReport.org_id == Organization.id,
        AnnualReport.year < on.year,
        AnnualReport.result == AnnualReportResult.FAIL,
        # later.org_id == AnnualReport.org_id, not Organization.id: Organization would not be
        # correlated two levels down and the clause would read "any organisation has a later report".
        ~exists().where(later.org_id == AnnualReport.org_id, later.year > AnnualReport.year, later.year < on.year),
    )
    due = _due_report_year(on)
    missing = and_(
        Application.call_id.in_(select(Call.id).where(Call.require_annual_report_pass.is_(True))),
        Organization.founded_on < date(due, 1, 1),
        ~exists().where(AnnualReport.org_id == Organization.id, AnnualReport.year == due),
    )
    return and_(Organization.org_type != OrgType.FILED_COMMUNITY_ORG, or_(latest_failed, missing))


def _call_rules_clause(on: date, calls: list[Call]):
    """Per call with its own rules: type not accepted, founded too recently, outside the district."""
    parts = []
    for call in calls:
        broken = []
        types = [OrgType(v) for v in (call.allowed_org_types or []) if v in OrgType._value2member_map_]
        if types:
            broken.append(Organization.org_type.not_in(types))
        if call.min_years_since_founding:
            broken.append(Organization.founded_on > _years_before(on, call.min_years_since_founding))
        if call.district_orgs_only and call.district_id:
            broken.append(Organization.district_id != call.district_id)
        if broken:
            parts.append(and_(Application.call_id == call.id, or_(*broken)))
    return or_(*parts) if parts else false()


def flag_clauses(on: date, calls: list[Call]) -> dict[str, object]:
    return {
        "unverified": Organization.status != Verification.VERIFIED,
        "credit": _credit_clause(on),
        "annual": _annual_clause(on),
        "call_rules": _call_rules_clause(on, calls),
    }


def flag_clause(flag: str, on: date, calls: list[Call]):
    clauses = flag_clauses(on, calls)
    if flag == "any":
        return or_(*clauses.values())
    if flag == "none":
        return ~or_(*clauses.values())
    return clauses[flag]


# --------------------------------------------------------------------------- eligibility flags (Python)


@dataclass
class RowFlags:
    """What the row shows: flag keys (bars), the Chinese reasons, and soft warnings."""

    keys: list[str]
    reasons: list[str]
    warnings: list[str]

    @property
    def ok(self) -> bool:
        return not self.keys and not self.reasons

    @property
    def labels(self) -> list[tuple[str, str]]:
        return [(k, FLAG_LABELS[k]) for k in self.keys]


@dataclass(frozen=True)
class _CallRules:
    """A call's own conditions, read once per page rather than once per row."""

    org_types: frozenset[str]
    min_years: int
    district_id: int | None
    requires_report: bool

    @classmethod
    def of(cls, call: Call) -> "_CallRules":
        return cls(
            org_types=frozenset(call.allowed_org_types or []),
            min_years=call.min_years_since_founding or 0,
            district_id=call.district_id if call.district_orgs_only else None,
            requires_report=bool(call.require_annual_report_pass),
        )


def _flag_keys(org: Organization, rules: _CallRules, on: date, due: int) -> tuple[list[str], bool]:
    """(flag keys, soft warning?) from the loaded records — the same facts ``flag_clauses`` reads."""
    keys = []
    if org.status != Verification.VERIFIED:
        keys.append("unverified")
    if any(c.active_on(on) for c in org.credit_records):
        keys.append("credit")
    soft = False
    if org.org_type != OrgType.FILED_COMMUNITY_ORG:
        earlier = [r for r in org.annual_reports if r.year < on.year]
        latest = max(earlier, key=lambda r: r.year) if earlier else None
        missing = org.founded_on.year < due and not any(r.year == due for r in org.annual_reports)
        if (latest is not None and latest.result == AnnualReportResult.FAIL) or (missing and rules.requires_report):
            keys.append("annual")
        soft = missing and not rules.requires_report
    if (
        (rules.org_types and org.org_type.value not in rules.org_types)
        or (rules.min_years and _whole_years(org.founded_on, on) < rules.min_years)
        or (rules.district_id is not None and org.district_id != rules.district_id)
    ):
        keys.append("call_rules")
    return keys, soft


def flags_for(apps, on: date | None = None) -> dict[int, RowFlags]:
    """Flags of many applications (a page, an export, a batch) from loaded rows, without queries.

    The Chinese reasons come from ``calls.services.eligibility_for`` (the authority), asked only
    for rows that have a flag or a warning: a clean row needs no sentence.
    """
    from incubator.calls.services import eligibility_for

    on = on or today_local()
    due = _due_report_year(on)
    now = _noon_utc(on)
    rules: dict[int, _CallRules] = {}
    out: dict[int, RowFlags] = {}
    for app in apps:
        call_rules = rules.get(app.call_id)
        if call_rules is None:
            call_rules = rules[app.call_id] = _CallRules.of(app.call)
        keys, soft = _flag_keys(app.org, call_rules, on, due)
        if keys or soft:
            result = eligibility_for(app.call, app.org, now=now)
            out[app.id] = RowFlags(keys=keys, reasons=list(result.reasons), warnings=list(result.warnings))
        else:
            out[app.id] = RowFlags(keys=[], reasons=[], warnings=[])
    return out


def row_flags(app: Application, on: date | None = None) -> RowFlags:
    """The flags of one application from loaded rows (no query when the list's options were used)."""
    return flags_for([app], on)[app.id]


def _whole_years(start: date, end: date) -> int:
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def _noon_utc(day: date) -> datetime:
    """A moment inside local ``day`` (eligibility_for takes a UTC datetime)."""
    from incubator.db import from_local

    return from_local(datetime(day.year, day.month, day.day, 12, 0))


# --------------------------------------------------------------------------- the list


def visible_calls() -> list[Call]:
    """Calls for the filter menu (and the per-call flag rules): every published call."""
    return list(
        db.session.scalars(
            select(Call).where(Call.published_at.is_not(None)).order_by(Call.opens_at.desc(), Call.id.desc())
        )
    )


def _where(user, filters: ListFilters, calls: list[Call]) -> list:
    clauses = [scope_clause(user)]
    if filters.status == "pending":
        clauses.append(Application.status.in_(SCREENABLE))
    elif filters.status != "all":
        clauses.append(Application.status == ApplicationStatus(filters.status))
    if filters.call_id:
        clauses.append(Application.call_id == filters.call_id)
    if filters.district_id:
        clauses.append(Organization.district_id == filters.district_id)
    if filters.service_field:
        clauses.append(Application.field == filters.service_field)
    if filters.q:
        pattern = like_pattern(filters.q)
        clauses.append(
            or_(
                Application.number.like(like_pattern(filters.q.upper()), escape="\\"),
                Application.title.like(pattern, escape="\\"),
                Organization.name.like(pattern, escape="\\"),
            )
        )
    if filters.flag:
        clauses.append(flag_clause(filters.flag, filters.on, calls))
    return clauses


def _needs_org(user, filters: ListFilters) -> bool:
    """Whether the WHERE or ORDER BY reads the organisation (else counts skip the join)."""
    from incubator.accounts.models import Role

    district_scoped = user.role == Role.STAFF and user.district_id is not None
    return bool(district_scoped or filters.district_id or filters.q or filters.flag or filters.sort == "org")


def _filtered(stmt, user, filters: ListFilters, calls: list[Call]):
    if _needs_org(user, filters):
        stmt = stmt.join(Application.org)
    return stmt.where(*_where(user, filters, calls))


# Long texts a list row never shows: not loaded (and raising if touched, so a template change
# cannot quietly add a query per row).
_LIST_DEFERRED = (
    "service_communities", "beneficiaries_description", "summary", "need_analysis", "overall_goal",
    "sub_goals", "risks", "extra_values", "raw_inputs", "return_reasons", "bank_account_name", "bank_name",
    "bank_account_number",
)


def list_options() -> tuple:
    """Everything a row shows, in a fixed number of queries whatever the number of rows."""
    return (
        contains_eager(Application.org).options(
            joinedload(Organization.district),
            selectinload(Organization.credit_records),
            selectinload(Organization.annual_reports).load_only(
                AnnualReport.org_id, AnnualReport.year, AnnualReport.result, raiseload=True
            ),
            raiseload(Organization.field_rows),  # selectin by default; a row does not show them
        ),
        selectinload(Application.call).joinedload(Call.district),
        selectinload(Application.versions).load_only(
            ApplicationVersion.id, ApplicationVersion.application_id, ApplicationVersion.number, raiseload=True
        ),
        *(defer(getattr(Application, name), raiseload=True) for name in _LIST_DEFERRED),
    )


def page_query(user, filters: ListFilters, calls: list[Call], *, limit: int, offset: int):
    """One page of rows. The filtering and sorting pick the page's ids in a narrow subquery (the
    database sorts ids, not whole rows); the outer query loads only those rows, in one statement."""
    order = SORTS[filters.sort][1]()
    ids = _filtered(select(Application.id), user, filters, calls).order_by(*order).limit(limit).offset(offset)
    return (
        select(Application)
        .join(Application.org)
        .where(Application.id.in_(ids.scalar_subquery()))
        .options(*list_options())
        .order_by(*order)
    )


def status_counts(user, filters: ListFilters, calls: list[Call]) -> dict[str, int]:
    """Rows per status under the other filters (one GROUP BY), plus "pending" and "all"."""
    from dataclasses import replace

    stmt = _filtered(select(Application.status, func.count()), user, replace(filters, status="all"), calls)
    stmt = stmt.group_by(Application.status)
    counts = {status.value: int(n) for status, n in db.session.execute(stmt)}
    counts["pending"] = sum(counts.get(s.value, 0) for s in SCREENABLE)
    counts["all"] = sum(v for k, v in counts.items() if k != "pending")
    return counts


# The status tabs above the table, in the order of the work.
STATUS_TABS = [
    ("pending", "待审查"),
    (ApplicationStatus.RETURNED.value, "退回修改中"),
    (ApplicationStatus.PASSED.value, "已通过"),
    (ApplicationStatus.REJECTED.value, "未通过"),
    (ApplicationStatus.WITHDRAWN.value, "已撤回"),
    ("all", "全部"),
]


@dataclass
class Page:
    """A page of rows with what the ``pagination`` macro reads."""

    items: list
    page: int
    per_page: int
    total: int
    counts: dict = dc_field(default_factory=dict)  # rows per status tab under the other filters

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(self, *, left_edge=1, left_current=2, right_current=3, right_edge=1):
        last = 0
        for num in range(1, self.pages + 1):
            if (
                num <= left_edge
                or self.page - left_current <= num < self.page + right_current
                or num > self.pages - right_edge
            ):
                if last + 1 != num:
                    yield None
                yield num
                last = num


def list_page(user, filters: ListFilters, page: int = 1, *, calls: list[Call] | None = None) -> Page:
    calls = visible_calls() if calls is None else calls
    counts = status_counts(user, filters, calls)
    total = counts.get(filters.status, 0)
    pages = max(1, -(-total // filters.per_page))
    page = min(max(page, 1), pages)
    items = list(
        db.session.scalars(
            page_query(user, filters, calls, limit=filters.per_page, offset=(page - 1) * filters.per_page)
        ).unique()
    )
    return Page(items=items, page=page, per_page=filters.per_page, total=total, counts=counts)


def count_waiting(user) -> int:
    """Applications waiting for a screening decision that ``user`` may see (nav badge)."""
    if not may_screen(user):
        return 0
    stmt = _filtered(select(func.count()).select_from(Application), user, ListFilters(), [])
    return int(db.session.scalar(stmt) or 0)


def visible_ids(user, ids: list[int]) -> dict[int, Application]:
    """The applications among ``ids`` that ``user`` may screen, loaded for flags (one query set)."""
    if not ids:
        return {}
    stmt = (
        select(Application)
        .join(Application.org)
        .where(scope_clause(user), Application.id.in_(ids))
        .options(
            contains_eager(Application.org).options(
                selectinload(Organization.credit_records), selectinload(Organization.annual_reports)
            ),
            selectinload(Application.call).joinedload(Call.district),
        )
    )
    return {a.id: a for a in db.session.scalars(stmt).unique()}


# --------------------------------------------------------------------------- export


EXPORT_HEADERS = [
    "申报编号", "项目名称", "申报组织", "统一社会信用代码/备案编号", "所在区", "申报批次", "服务领域",
    "申请资助（元）", "配套资金（元）", "项目总预算（元）", "首次提交时间", "最近提交时间", "状态", "版本数",
    "资格问题", "修改期限",
]


def export_count(user, filters: ListFilters, *, calls: list[Call] | None = None) -> int:
    """How many rows the export of these filters holds (one GROUP BY, as the list's tabs)."""
    calls = visible_calls() if calls is None else calls
    return status_counts(user, filters, calls).get(filters.status, 0)


def export_rows(user, filters: ListFilters, *, calls: list[Call] | None = None):
    """Every row of the filtered list (no pagination), as plain typed cells for ``xlsx_response``.

    Same scope, filters and order as the list. The rows are read as plain tuples and streamed
    (``yield_per``), never as ORM objects: 20,000 applications cost one query and no object each.
    The 资格问题 column comes from ``calls.services.eligibility_for`` (the authority) for the
    (organisation, call) pairs that the SQL flags mark, once per pair, with the organisations'
    records loaded in a fixed number of queries. Five queries in all, whatever the number of rows.
    """
    calls = visible_calls() if calls is None else calls
    reasons = _export_reasons(user, filters, calls)
    call = aliased(Call)  # not Call itself: the flag clauses' own ``select(Call.id)`` must not correlate to it
    versions = (
        select(func.count(ApplicationVersion.id))
        .where(ApplicationVersion.application_id == Application.id)
        .correlate(Application)
        .scalar_subquery()
    )
    stmt = (
        select(
            Application.number, Application.title, Organization.name, Organization.org_type, Organization.uscc,
            Organization.filing_number, District.name, call.title, Application.field, Application.grant_requested,
            Application.matching_amount, Application.total_budget, Application.submitted_at,
            Application.last_submitted_at, Application.status, versions, Application.revision_deadline,
            Application.org_id, Application.call_id,
        )
        .select_from(Application)
        .join(Application.org)
        .outerjoin(District, District.id == Organization.district_id)
        .join(call, call.id == Application.call_id)
        .where(*_where(user, filters, calls))
        .order_by(*SORTS[filters.sort][1]())
        .execution_options(yield_per=2000)
    )
    filed = OrgType.FILED_COMMUNITY_ORG
    for (number, title, org_name, org_type, uscc, filing_number, district, call_title, service_field, grant, matching,
         total, submitted_at, last_submitted_at, status, n_versions, deadline, org_id, call_id) in db.session.execute(stmt):
        yield [
            number,
            title,
            org_name,
            (filing_number if org_type == filed else uscc) or "",  # Organization.identifier
            district or "",
            call_title,
            service_field.label if service_field else "",
            grant,
            matching,
            total,
            to_local(submitted_at) if submitted_at else None,
            to_local(last_submitted_at) if last_submitted_at else None,
            status.label,
            n_versions,
            reasons.get((org_id, call_id), "无"),
            deadline,
        ]


def _literal_ids(name: str, ids) -> BindParameter:
    """An IN list of integer ids rendered into the SQL text: no bind-parameter limit (SQLite
    allows 32,766 per statement), and ``subqueryload`` repeats a short list rather than the
    flag query it came from."""
    return bindparam(name, sorted(int(i) for i in ids), expanding=True, literal_execute=True)


def _export_reasons(user, filters: ListFilters, calls: list[Call]) -> dict[tuple[int, int], str]:
    """{(org_id, call_id): "reason；reason"} for the exported pairs with an eligibility flag.

    Five queries: the flagged pairs (SQL flags, as the list's 有资格问题 filter), their
    organisations, credit records and annual reports (``subqueryload``: one query each, not one
    per 500 organisations), and their calls with the call's district.
    """
    from incubator.calls.services import eligibility_for

    pairs_stmt = (
        select(Application.org_id, Application.call_id)
        .join(Application.org)
        .where(*_where(user, filters, calls), flag_clause("any", filters.on, calls))
        .distinct()
    )
    pairs = [tuple(row) for row in db.session.execute(pairs_stmt)]
    if not pairs:
        return {}
    orgs = {
        org.id: org
        for org in db.session.scalars(
            select(Organization)
            .where(Organization.id.in_(_literal_ids("org_ids", {org_id for org_id, _ in pairs})))
            .options(
                subqueryload(Organization.credit_records),
                subqueryload(Organization.annual_reports),
                raiseload(Organization.field_rows),
            )
        )
    }
    call_by_id = {
        c.id: c
        for c in db.session.scalars(
            select(Call)
            .where(Call.id.in_(_literal_ids("call_ids", {call_id for _, call_id in pairs})))
            .options(joinedload(Call.district))
        )
    }
    now = _noon_utc(filters.on)
    out: dict[tuple[int, int], str] = {}
    for org_id, call_id in pairs:
        result = eligibility_for(call_by_id[call_id], orgs[org_id], now=now)
        if result.reasons:
            out[(org_id, call_id)] = "；".join(result.reasons)
    return out


# --------------------------------------------------------------------------- one application


def load_for_screening(app_id: int) -> Application | None:
    """The application with everything the screening page shows (its org's records, the call)."""
    if not 0 < app_id <= MAX_ID:
        return None
    return db.session.scalar(
        select(Application)
        .where(Application.id == app_id)
        .options(
            joinedload(Application.org).options(
                joinedload(Organization.district),
                selectinload(Organization.credit_records),
                selectinload(Organization.annual_reports),
                selectinload(Organization.ratings),
            ),
            joinedload(Application.call).options(
                joinedload(Call.district), selectinload(Call.fields), selectinload(Call.attachment_types)
            ),
            selectinload(Application.versions),
        )
    )

