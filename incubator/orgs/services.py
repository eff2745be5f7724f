"""The registry's services: registration, verification, records, lists, exports, PDFs.

Services take model objects and typed keyword arguments, change data, flush and never commit;
they raise the domain errors below, which views turn into a Chinese message and a 4xx.
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from incubator.core import audit, states
from incubator.db import today_local, utcnow
from incubator.extensions import db
from incubator.orgs.models import (
    AnnualReport,
    AnnualReportResult,
    CreditKind,
    CreditRecord,
    OrgField,
    Organization,
    OrgType,
    Rating,
    ServiceField,
    Verification,
)
from incubator.orgs.rules import CREDIT_RULES, abnormal_removal_due, rating_default_expiry

from incubator.core.ids import MAX_ID, as_id  # noqa: E402,F401
from incubator.core.search import like_pattern




# ------------------------------------------------------------------ domain errors


class RegistryError(Exception):
    """Base of the registry's domain errors; ``str(exc)`` is a Chinese message."""

    status = 409


class DuplicateValue(RegistryError):
    """A unique value (USCC, name, filing number, e-mail, mobile) is already registered."""

    status = 422

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(message)


class InvalidHost(RegistryError):
    status = 422

    def __init__(self, message: str):
        self.field = "host_uscc"
        super().__init__(message)


class ConcurrentEdit(RegistryError):
    def __init__(self):
        super().__init__("该组织信息已被他人修改，请刷新页面后重新编辑")


class RecordConflict(RegistryError):
    pass


# ------------------------------------------------------------------ typed inputs


@dataclass
class OrgDetails:
    name: str
    org_type: OrgType
    uscc: str | None
    filing_number: str | None
    host_uscc: str | None
    district_id: int
    street_id: int | None
    community_id: int | None
    address: str
    founded_on: date
    registration_authority: str | None
    legal_rep: str
    contact_name: str
    contact_phone: str
    contact_email: str | None
    fields: list[ServiceField]
    staff_count: int
    social_worker_count: int
    has_party_org: bool
    party_org_note: str | None
    intro: str | None


@dataclass
class ContactDetails:
    address: str
    contact_name: str
    contact_phone: str
    contact_email: str | None
    fields: list[ServiceField]
    staff_count: int
    social_worker_count: int
    has_party_org: bool
    party_org_note: str | None
    intro: str | None


@dataclass
class MemberDetails:
    name: str
    email: str
    mobile: str
    password: str


# Fields written from OrgDetails; nothing else (status, district scope of users …) is ever taken from input.
_ORG_COLUMNS = (
    "name", "org_type", "uscc", "filing_number", "district_id", "street_id", "community_id", "address",
    "founded_on", "registration_authority", "legal_rep", "contact_name", "contact_phone", "contact_email",
    "staff_count", "social_worker_count", "has_party_org", "party_org_note", "intro",
)
_CONTACT_COLUMNS = (
    "address", "contact_name", "contact_phone", "contact_email", "staff_count", "social_worker_count",
    "has_party_org", "party_org_note", "intro",
)


def _snapshot(org: Organization, columns=_ORG_COLUMNS) -> dict:
    data = {c: getattr(org, c) for c in columns}
    data["fields"] = sorted(f.value for f in org.fields)
    return data


# ------------------------------------------------------------------ registration


def find_duplicates(details: OrgDetails, member: MemberDetails | None = None, *, exclude_org_id: int | None = None) -> list[DuplicateValue]:
    """Every unique value already taken, each as the error its form field shows."""
    from incubator.accounts.models import User

    found: list[DuplicateValue] = []

    def taken(column, value) -> bool:
        if value is None:
            return False
        q = select(Organization.id).where(column == value)
        if exclude_org_id is not None:
            q = q.where(Organization.id != exclude_org_id)
        return db.session.scalar(q.limit(1)) is not None

    if taken(Organization.name, details.name):
        found.append(DuplicateValue("name", "该组织名称已注册。如是本组织，请联系组织管理员添加您为成员"))
    if taken(Organization.uscc, details.uscc):
        found.append(DuplicateValue("uscc", "该统一社会信用代码已注册。如是本组织，请联系组织管理员添加您为成员"))
    if taken(Organization.filing_number, details.filing_number):
        found.append(DuplicateValue("filing_number", "该备案编号已注册"))
    if member is not None:
        if db.session.scalar(select(User.id).where(func.lower(User.email) == member.email.lower()).limit(1)):
            found.append(DuplicateValue("member_email", "该邮箱已注册，请直接登录或使用其他邮箱"))
        if db.session.scalar(select(User.id).where(User.mobile == member.mobile).limit(1)):
            found.append(DuplicateValue("member_mobile", "该手机号已注册，请直接登录或使用其他手机号"))
    return found


def find_host(host_uscc: str | None) -> Organization | None:
    """The registered, verified organisation hosting a filed community organisation."""
    if not host_uscc:
        return None
    return db.session.scalar(select(Organization).where(Organization.uscc == host_uscc))


def _check_host(details: OrgDetails, *, self_id: int | None = None) -> Organization | None:
    if details.org_type != OrgType.FILED_COMMUNITY_ORG:
        return None
    host = find_host(details.host_uscc)
    if host is None:
        raise InvalidHost("未找到该统一社会信用代码对应的组织，挂靠单位须先在本平台注册并通过认证")
    if host.id == self_id or host.org_type == OrgType.FILED_COMMUNITY_ORG:
        raise InvalidHost("挂靠单位须为依法登记的社会组织")
    if not host.is_verified:
        raise InvalidHost(f"挂靠单位“{host.name}”尚未通过认证")
    return host


def _apply_details(org: Organization, details: OrgDetails, host: Organization | None) -> None:
    for column in _ORG_COLUMNS:
        setattr(org, column, getattr(details, column))
    if details.org_type == OrgType.FILED_COMMUNITY_ORG:
        org.uscc = None
    else:
        org.filing_number = None
    org.host_org = host
    _set_fields(org, details.fields)


def _set_fields(org: Organization, fields: list[ServiceField]) -> None:
    wanted = list(dict.fromkeys(ServiceField(f) for f in fields))
    current = {row.field: row for row in org.field_rows}
    org.field_rows = [current.get(f) or OrgField(field=f) for f in wanted]


def register_organization(*, details: OrgDetails, member: MemberDetails):
    """Create a pending organisation and its first member (org admin, role applicant)."""
    from incubator.accounts.models import Role, User
    from incubator.accounts.passwords import hash_password

    duplicates = find_duplicates(details, member)
    if duplicates:
        raise duplicates[0]
    host = _check_host(details)
    org = Organization(status=Verification.PENDING, submitted_at=utcnow())
    _apply_details(org, details, host)
    db.session.add(org)
    db.session.flush()
    user = User(
        email=member.email,
        mobile=member.mobile,
        name=member.name,
        password_hash=hash_password(member.password),
        role=Role.APPLICANT,
        org=org,
        is_org_admin=True,
        active=True,
        password_changed_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("org.registered", org, after=_snapshot(org) | {"status": org.status}, actor=user)
    audit.record(
        "user.created", user, after={"role": Role.APPLICANT, "org_id": org.id, "is_org_admin": True, "email": user.email},
        note="社会组织自助注册", actor=user,
    )
    return org, user


# ------------------------------------------------------------------ verification


def verify(org: Organization, *, by, note: str | None = None) -> None:
    states.transition(org, Verification.VERIFIED, by=by, note=note or "认证通过")
    org.verified_at = utcnow()
    org.rejection_reason = None
    db.session.flush()


def reject(org: Organization, *, by, reason: str) -> None:
    if not reason or not reason.strip():
        raise RecordConflict("请填写驳回原因")
    states.transition(org, Verification.REJECTED, by=by, note=reason)
    org.rejection_reason = reason
    db.session.flush()


def resubmit(org: Organization, *, by, details: OrgDetails, version: int | None = None) -> None:
    """A rejected organisation, corrected by its org admin, goes back to the pending queue."""
    if version is not None and version != org.version_id:
        raise ConcurrentEdit()
    if org.status != Verification.REJECTED:
        raise states.InvalidTransition(org, org.status, Verification.PENDING)
    duplicates = find_duplicates(details, exclude_org_id=org.id)
    if duplicates:
        raise duplicates[0]
    host = _check_host(details, self_id=org.id)
    before = _snapshot(org)
    _apply_details(org, details, host)
    org.submitted_at = utcnow()
    org.rejection_reason = None  # the reason stays in the status history
    states.transition(org, Verification.PENDING, by=by, note="修改后重新提交认证")
    audit.record("org.resubmitted", org, before=before, after=_snapshot(org), actor=by)
    db.session.flush()


def update_contact(org: Organization, *, by, contact: ContactDetails, version: int | None = None) -> None:
    if version is not None and version != org.version_id:
        raise ConcurrentEdit()
    before = _snapshot(org, _CONTACT_COLUMNS)
    for column in _CONTACT_COLUMNS:
        setattr(org, column, getattr(contact, column))
    _set_fields(org, contact.fields)
    after = _snapshot(org, _CONTACT_COLUMNS)
    if before != after:
        audit.record("org.contact_updated", org, before=before, after=after, actor=by)
    db.session.flush()


# ------------------------------------------------------------------ staff records


def record_annual_report(org: Organization, *, by, year: int, result: AnnualReportResult, note: str | None = None) -> AnnualReport:
    if any(r.year == year for r in org.annual_reports):
        raise RecordConflict(f"{year}年度的年报结论已登记，每年只能登记一条")
    if year < org.founded_on.year:
        raise RecordConflict(f"年度不能早于成立年份（{org.founded_on.year}年）")
    row = AnnualReport(org=org, year=year, result=AnnualReportResult(result), note=note, recorded_by_id=by.id)
    db.session.add(row)
    db.session.flush()
    audit.record("org.annual_report", org, after={"year": year, "result": row.result, "note": note}, actor=by)
    return row


def record_rating(org: Organization, *, by, grade: int, awarded_on: date, expires_on: date | None = None, source: str | None = None) -> Rating:
    if not 1 <= grade <= 5:
        raise RecordConflict("评估等级应为1A至5A")
    expires_on = expires_on or rating_default_expiry(awarded_on)
    if expires_on < awarded_on:
        raise RecordConflict("有效期不能早于评定日期")
    row = Rating(org=org, grade=grade, awarded_on=awarded_on, expires_on=expires_on, source=source, recorded_by_id=by.id)
    db.session.add(row)
    db.session.flush()
    audit.record("org.rating", org, after={"grade": f"{grade}A", "awarded_on": awarded_on, "expires_on": expires_on, "source": source}, actor=by)
    return row


def add_credit_record(org: Organization, *, by, kind: CreditKind, reason: str, source: str, start_on: date, end_on: date | None = None) -> CreditRecord:
    kind = CreditKind(kind)
    end_on = end_on or CREDIT_RULES[kind].default_end(start_on)
    if end_on is not None and end_on < start_on:
        raise RecordConflict("届满日期不能早于列入日期")
    row = CreditRecord(org=org, kind=kind, reason=reason, source=source, start_on=start_on, end_on=end_on, recorded_by_id=by.id)
    db.session.add(row)
    db.session.flush()
    audit.record("org.credit_added", org, after={"record_id": row.id, "kind": kind, "reason": reason, "source": source,
                                                 "start_on": start_on, "end_on": end_on}, actor=by)
    return row


def record_correction(record: CreditRecord, *, by, corrected_on: date) -> CreditRecord:
    """活动异常名录: the organisation corrected the cause; it leaves the list 5 working days later at most."""
    if record.kind != CreditKind.ABNORMAL_LIST:
        raise RecordConflict("只有活动异常名录可以登记整改")
    if record.removed_on is not None:
        raise RecordConflict("该记录已移出")
    if corrected_on < record.start_on:
        raise RecordConflict("整改日期不能早于列入日期")
    before = {"corrected_on": record.corrected_on, "end_on": record.end_on}
    from incubator.core.workdays import UnknownCalendarYear

    try:
        due = abnormal_removal_due(corrected_on)
    except UnknownCalendarYear as exc:
        raise RecordConflict(str(exc)) from exc
    record.corrected_on = corrected_on
    record.end_on = min(record.end_on, due) if record.end_on else due
    db.session.flush()
    audit.record("org.credit_corrected", record.org, before=before,
                 after={"record_id": record.id, "corrected_on": corrected_on, "end_on": record.end_on}, actor=by)
    return record


def remove_credit_record(record: CreditRecord, *, by, removed_on: date, note: str) -> CreditRecord:
    if record.removed_on is not None:
        raise RecordConflict("该记录已移出")
    if removed_on < record.start_on:
        raise RecordConflict("移出日期不能早于列入日期")
    record.removed_on = removed_on
    record.removal_note = note
    record.removed_by_id = by.id
    db.session.flush()
    audit.record("org.credit_removed", record.org, before={"removed_on": None},
                 after={"record_id": record.id, "kind": record.kind, "removed_on": removed_on}, note=note, actor=by)
    return record


# ------------------------------------------------------------------ lists, counts, exports

PER_PAGE = 20

SORTS = {
    "new": ("最近注册", lambda: [Organization.created_at.desc(), Organization.id.desc()]),
    "old": ("最早注册", lambda: [Organization.created_at.asc(), Organization.id.asc()]),
    "name": ("名称", lambda: [Organization.name.asc(), Organization.id.asc()]),
    "founded": ("成立日期", lambda: [Organization.founded_on.asc(), Organization.id.asc()]),
    "district": ("所在区", lambda: [Organization.district_id.asc(), Organization.name.asc(), Organization.id.asc()]),
}
CREDIT_FILTERS = {
    "clean": "无信用问题",
    "any": "有生效记录",
    CreditKind.ABNORMAL_LIST.value: CreditKind.ABNORMAL_LIST.label,
    CreditKind.SERIOUS_LIST.value: CreditKind.SERIOUS_LIST.label,
    CreditKind.DEBARMENT.value: CreditKind.DEBARMENT.label,
}
GRADE_FILTERS = {"5": "5A", "4": "4A", "3": "3A", "2": "2A", "1": "1A", "none": "无有效等级"}


@dataclass
class OrgFilters:
    """What a staff list is filtered by; built from the query string by the view (bad values dropped)."""

    q: str = ""
    district_id: int | None = None
    org_type: OrgType | None = None
    service_field: ServiceField | None = None
    grade: str | None = None  # "1".."5" or "none"
    credit: str | None = None  # key of CREDIT_FILTERS
    status: Verification | None = None
    sort: str = "new"
    on: date = dc_field(default_factory=today_local)

    @classmethod
    def from_args(cls, args) -> "OrgFilters":
        return cls(
            q=" ".join((args.get("q") or "").split())[:100],
            district_id=as_id(args.get("district")),
            org_type=OrgType.parse(args.get("type")),
            service_field=ServiceField.parse(args.get("field")),
            grade=args.get("grade") if args.get("grade") in GRADE_FILTERS else None,
            credit=args.get("credit") if args.get("credit") in CREDIT_FILTERS else None,
            status=Verification.parse(args.get("status")),
            sort=args.get("sort") if args.get("sort") in SORTS else "new",
        )

    @property
    def active(self) -> bool:
        return any([self.q, self.district_id, self.org_type, self.service_field, self.grade, self.credit, self.status])

    def args(self) -> dict[str, str]:
        """The query-string arguments that reproduce these filters (the export form, the export job)."""
        out = {
            "q": self.q,
            "district": str(self.district_id) if self.district_id else "",
            "type": self.org_type.value if self.org_type else "",
            "field": self.service_field.value if self.service_field else "",
            "grade": self.grade or "",
            "credit": self.credit or "",
            "status": self.status.value if self.status else "",
            "sort": self.sort if self.sort != "new" else "",
        }
        return {k: v for k, v in out.items() if v}


def scoped(query, user):
    """District staff see their district only; city staff and admins all; anyone else nothing."""
    from incubator.accounts.models import Role

    if user.role == Role.ADMIN or (user.role == Role.STAFF and user.district_id is None):
        return query
    if user.role == Role.STAFF:
        return query.where(Organization.district_id == user.district_id)
    return query.where(False)


def _active_credit_clause(day: date, kind: CreditKind | None = None):
    clause = and_(
        CreditRecord.org_id == Organization.id,
        CreditRecord.start_on <= day,
        or_(CreditRecord.removed_on.is_(None), CreditRecord.removed_on > day),
        or_(CreditRecord.end_on.is_(None), CreditRecord.end_on >= day),
    )
    if kind is not None:
        clause = and_(clause, CreditRecord.kind == kind)
    return exists().where(clause)


def _current_grade(day: date):
    """The organisation's current grade as a correlated subquery: the newest rating valid on
    ``day`` (an older, still valid rating does not count) — ``Organization.current_rating`` in SQL."""
    return (
        select(Rating.grade)
        .where(Rating.org_id == Organization.id, Rating.awarded_on <= day, Rating.expires_on >= day)
        .order_by(Rating.awarded_on.desc(), Rating.id.desc())
        .limit(1)
        .correlate(Organization)
        .scalar_subquery()
    )


def org_list_query(user, filters: OrgFilters):
    """The staff list's SELECT (scoped to what ``user`` may see), without loading options."""
    query = scoped(select(Organization), user)
    if filters.q:
        pattern = like_pattern(filters.q)
        code = filters.q.upper()
        query = query.where(
            or_(
                Organization.name.ilike(pattern, escape="\\"),
                Organization.uscc.like(like_pattern(code), escape="\\"),
                Organization.filing_number.ilike(pattern, escape="\\"),
                Organization.legal_rep == filters.q,
            )
        )
    if filters.district_id:
        query = query.where(Organization.district_id == filters.district_id)
    if filters.org_type:
        query = query.where(Organization.org_type == filters.org_type)
    if filters.service_field:
        query = query.where(exists().where(OrgField.org_id == Organization.id, OrgField.field == filters.service_field))
    if filters.status:
        query = query.where(Organization.status == filters.status)
    if filters.grade:
        valid = and_(Rating.org_id == Organization.id, Rating.awarded_on <= filters.on, Rating.expires_on >= filters.on)
        if filters.grade == "none":
            query = query.where(~exists().where(valid))
        else:
            query = query.where(_current_grade(filters.on) == int(filters.grade))
    if filters.credit == "clean":
        query = query.where(~_active_credit_clause(filters.on))
    elif filters.credit == "any":
        query = query.where(_active_credit_clause(filters.on))
    elif filters.credit:
        query = query.where(_active_credit_clause(filters.on, CreditKind(filters.credit)))
    return query.order_by(*SORTS[filters.sort][1]())


def list_options() -> tuple:
    """What a list row shows, loaded in one query per relation (the count never grows with rows)."""
    return (
        selectinload(Organization.district),
        selectinload(Organization.street),
        selectinload(Organization.community),
        selectinload(Organization.field_rows),
        selectinload(Organization.ratings),
        selectinload(Organization.credit_records),
        selectinload(Organization.annual_reports),
    )


def org_page(user, filters: OrgFilters, page: int = 1, per_page: int = PER_PAGE):
    return db.paginate(org_list_query(user, filters).options(*list_options()), page=page, per_page=per_page, error_out=False, count=True)


def pending_orgs(user) -> list[Organization]:
    query = scoped(select(Organization), user).where(Organization.status == Verification.PENDING)
    query = query.options(selectinload(Organization.district), selectinload(Organization.street), selectinload(Organization.field_rows))
    return list(db.session.scalars(query.order_by(Organization.submitted_at.asc(), Organization.id.asc())))


def count_pending_verification(user) -> int:
    """Organisations waiting for verification that ``user`` may verify (nav badge)."""
    from incubator.accounts.models import Role

    if not getattr(user, "is_authenticated", False) or user.role not in (Role.STAFF, Role.ADMIN):
        return 0
    query = scoped(select(func.count(Organization.id)), user).where(Organization.status == Verification.PENDING)
    return db.session.scalar(query) or 0


def load_for_detail(org_id: int) -> Organization | None:
    if as_id(org_id) is None:
        return None
    return db.session.scalar(
        select(Organization)
        .where(Organization.id == org_id)
        .options(
            selectinload(Organization.district),
            selectinload(Organization.street),
            selectinload(Organization.community),
            selectinload(Organization.host_org),
            selectinload(Organization.ratings),
            selectinload(Organization.credit_records),
            selectinload(Organization.annual_reports),
            selectinload(Organization.members),
        )
    )


def credit_summary(org: Organization, day: date) -> list[CreditRecord]:
    return sorted(org.active_credit_records(day), key=lambda c: c.start_on)


EXPORT_HEADERS = [
    "组织名称", "组织类型", "统一社会信用代码/备案编号", "所在区", "街道（乡镇）", "社区（村）", "成立日期",
    "法定代表人（负责人）", "联系人", "联系电话", "服务领域", "专职人员数", "持证社工数", "评估等级",
    "信用状态", "最近年报", "认证状态", "注册时间",
]


def export_rows(user, filters: OrgFilters):
    """One row per organisation for the Excel export: the staff list's scope, filters and order.

    Plain values (the writer neutralises formulas), dates as dates. Rows are read as tuples and
    streamed, never as ORM objects; the service fields, active credit records and latest annual
    report come from one query each over the same filtered ids, the current grade from a
    subquery: four queries whatever the number of organisations.
    """
    from incubator.db import to_local
    from incubator.regions.models import Community, District, Street

    day = filters.on
    listed = org_list_query(user, filters)
    ids = listed.with_only_columns(Organization.id).order_by(None)

    fields: dict[int, list[ServiceField]] = {}
    for org_id, service_field in db.session.execute(
        select(OrgField.org_id, OrgField.field).where(OrgField.org_id.in_(ids))
    ):
        fields.setdefault(org_id, []).append(service_field)
    catalogue = {f: i for i, f in enumerate(ServiceField)}

    credit: dict[int, list[str]] = {}  # active records by start date, as credit_summary
    for org_id, kind in db.session.execute(
        select(CreditRecord.org_id, CreditRecord.kind)
        .where(
            CreditRecord.org_id.in_(ids),
            CreditRecord.start_on <= day,
            or_(CreditRecord.removed_on.is_(None), CreditRecord.removed_on > day),
            or_(CreditRecord.end_on.is_(None), CreditRecord.end_on >= day),
        )
        .order_by(CreditRecord.org_id, CreditRecord.start_on, CreditRecord.id)
    ):
        credit.setdefault(org_id, []).append(kind.label)

    reports: dict[int, tuple[int, AnnualReportResult]] = {}  # latest before this year
    for org_id, year, result in db.session.execute(
        select(AnnualReport.org_id, AnnualReport.year, AnnualReport.result)
        .where(AnnualReport.org_id.in_(ids), AnnualReport.year < day.year)
    ):
        if org_id not in reports or year > reports[org_id][0]:
            reports[org_id] = (year, result)

    district, street, community = aliased(District), aliased(Street), aliased(Community)
    stmt = (
        listed.with_only_columns(
            Organization.id, Organization.name, Organization.org_type, Organization.uscc, Organization.filing_number,
            district.name, street.name, community.name, Organization.founded_on, Organization.legal_rep,
            Organization.contact_name, Organization.contact_phone, Organization.staff_count,
            Organization.social_worker_count, _current_grade(day), Organization.status, Organization.created_at,
        )
        .outerjoin(district, district.id == Organization.district_id)
        .outerjoin(street, street.id == Organization.street_id)
        .outerjoin(community, community.id == Organization.community_id)
        .execution_options(yield_per=2000)
    )
    filed = OrgType.FILED_COMMUNITY_ORG
    for (org_id, name, org_type, uscc, filing_number, district_name, street_name, community_name, founded_on, legal_rep,
         contact_name, contact_phone, staff_count, social_worker_count, grade, status, created_at) in db.session.execute(stmt):
        report = reports.get(org_id)
        yield [
            name,
            org_type.label,
            (filing_number if org_type == filed else uscc) or "",  # Organization.identifier
            district_name or "",
            street_name or "",
            community_name or "",
            founded_on,
            legal_rep,
            contact_name,
            contact_phone,
            "、".join(f.label for f in sorted(fields.get(org_id, ()), key=catalogue.__getitem__)),
            staff_count,
            social_worker_count,
            f"{grade}A" if grade else "",
            "、".join(credit.get(org_id, ())) or "正常",
            f"{report[0]}年度 {report[1].label}" if report else "",
            status.label,
            to_local(created_at) if created_at else None,
        ]


def export_count(user, filters: OrgFilters) -> int:
    """How many organisations the export of these filters holds."""
    listed = org_list_query(user, filters).with_only_columns(func.count(Organization.id)).order_by(None)
    return db.session.scalar(listed) or 0


EXPORT_JOB_KIND = "org_export"


def request_export(filters: OrgFilters, *, by, rows: int):
    """Queue the Excel export of the registry under ``filters`` for ``by`` (the caller commits and
    shows the job); the job applies the user's scope again. While the same export still waits, a
    second request returns the waiting job."""
    from incubator.core.jobs import Job, JobStatus, start_job
    from incubator.orgs.jobs import export_registry

    args, on = filters.args(), filters.on.isoformat()
    waiting = db.session.scalars(
        select(Job).where(
            Job.user_id == by.id, Job.kind == EXPORT_JOB_KIND, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
        )
    )
    for job in waiting:
        if job.args == [by.id, args, on]:
            return job
    return start_job(export_registry, by.id, args, on, title=f"导出社会组织名录（{rows:,}个）", user=by, kind=EXPORT_JOB_KIND)


# ------------------------------------------------------------------ the profile PDF


def request_profile_pdf(org: Organization, *, by):
    """Queue the 社会组织信息登记表 PDF as a background job; the caller commits and shows the job."""
    from incubator.core.jobs import start_job
    from incubator.orgs.jobs import render_profile_pdf

    return start_job(render_profile_pdf, org.id, title=f"社会组织信息登记表：{org.name}", user=by, kind="org_profile_pdf")
