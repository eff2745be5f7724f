"""The public site's reads: the 社会组织名录 (directory) and the funded projects (资助项目).

Interface
=========
``DirectoryFilters.from_args(args)`` / ``directory_page(filters, page)`` → (Pagination of Organization,
  {org_id: DirectoryEntry}): verified organisations only (never pending or rejected), searched by name or
  code, filtered by district, service field and type, ordered by name. Each ``DirectoryEntry`` holds the
  organisation's current 等级评估 rating, its active credit markers and its latest final 绩效评价.
``public_org(org_id)`` → a verified Organization or None (unknown, pending, rejected).
``org_entry(org)`` → its DirectoryEntry; ``public_projects_of(org)`` → [ProjectRow] of its funded projects.
``ProjectFilters.from_args(args)`` / ``project_page(filters, page)`` → (Pagination of Project,
  {project_id: PerformanceEvaluation}): projects contracted, in progress, closed or terminated
  (PUBLIC_STATUSES) of verified organisations, with their final grades.
``public_project(project_id)`` → such a Project or None; ``published_contract(project)`` → its latest
  published contract (contracts.public_detail) or None.
``project_record(org)`` → [ProjectRow] of every project of the organisation, any status, newest first,
  with the final grade: the staff organisation record's "承接项目与绩效评价" card.

Every list loads in a constant number of queries per page: the page itself, its count, one query per
related collection (selectinload), and one query for the final grades of all rows (``final_grades``).

What the public sees (民政部令第60号 makes credit lists public): name, type, USCC or filing number,
district, founding date, service fields, introduction, rating, credit markers (kind, since, decision
number; a debarment as 禁入期 with its end date) and funded projects. Never the legal representative's
or contact person's phone and e-mail, addresses of persons, bank accounts, members or internal notes
(rejection reasons, removal notes, credit reasons written by staff).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from incubator.core.ids import as_id
from incubator.core.search import like_pattern
from incubator.db import today_local
from incubator.extensions import db
from incubator.orgs.models import CreditKind, CreditRecord, Organization, OrgField, OrgType, Rating, ServiceField, Verification
from incubator.projects.evaluations.models import PerformanceEvaluation
from incubator.projects.evaluations.services import final_grades, latest_final_by_org
from incubator.projects.models import Project, ProjectKind, ProjectStatus

PER_PAGE = 20
MAX_QUERY = 50
# What the public sees of funded projects: from signing on (a launched project has no contract yet).
PUBLIC_STATUSES = (ProjectStatus.CONTRACTED, ProjectStatus.IN_PROGRESS, ProjectStatus.CLOSED,
                   ProjectStatus.TERMINATED)


def _clean_query(raw: str | None) -> str:
    return " ".join((raw or "").split())[:MAX_QUERY]


# ------------------------------------------------------------------ the directory


@dataclass
class CreditMarker:
    """One active credit-list entry as the public sees it (no staff-written reason)."""

    kind: CreditKind
    since: date
    until: date | None
    source: str

    @property
    def text(self) -> str:
        from incubator.web import format_date

        if self.kind == CreditKind.DEBARMENT:
            return f"禁入期至{format_date(self.until)}" if self.until else "禁入期"
        return f"列入{self.kind.label}"


@dataclass
class DirectoryEntry:
    rating: Rating | None = None
    credit: list[CreditMarker] = field(default_factory=list)
    final: tuple[Project, PerformanceEvaluation] | None = None


def credit_markers(org: Organization, day: date) -> list[CreditMarker]:
    return [CreditMarker(kind=c.kind, since=c.start_on, until=c.end_on, source=c.source)
            for c in sorted(org.active_credit_records(day), key=lambda c: (c.start_on, c.id or 0))]


@dataclass
class DirectoryFilters:
    q: str = ""
    district_id: int | None = None
    org_type: OrgType | None = None
    service_field: ServiceField | None = None

    @classmethod
    def from_args(cls, args) -> "DirectoryFilters":
        return cls(q=_clean_query(args.get("q")), district_id=as_id(args.get("district")),
                   org_type=OrgType.parse(args.get("type")),
                   service_field=ServiceField.parse(args.get("field")))

    @property
    def active(self) -> bool:
        return any([self.q, self.district_id, self.org_type, self.service_field])


def directory_query(filters: DirectoryFilters):
    stmt = select(Organization).where(Organization.status == Verification.VERIFIED)
    if filters.q:
        pattern = like_pattern(filters.q)
        stmt = stmt.where(or_(Organization.name.ilike(pattern, escape="\\"),
                              Organization.uscc.like(like_pattern(filters.q.upper()), escape="\\"),
                              Organization.filing_number.ilike(pattern, escape="\\")))
    if filters.district_id:
        stmt = stmt.where(Organization.district_id == filters.district_id)
    if filters.org_type:
        stmt = stmt.where(Organization.org_type == filters.org_type)
    if filters.service_field:
        stmt = stmt.where(exists().where(OrgField.org_id == Organization.id, OrgField.field == filters.service_field))
    return stmt.order_by(Organization.name.asc(), Organization.id.asc())


def _entries(orgs: list[Organization], day: date) -> dict[int, DirectoryEntry]:
    finals = latest_final_by_org(o.id for o in orgs)
    return {o.id: DirectoryEntry(rating=o.current_rating(day), credit=credit_markers(o, day), final=finals.get(o.id))
            for o in orgs}


def directory_page(filters: DirectoryFilters, page: int = 1, per_page: int = PER_PAGE, *, day: date | None = None):
    """(Pagination, {org_id: DirectoryEntry}); six queries whatever the page holds."""
    day = day or today_local()
    stmt = directory_query(filters).options(
        selectinload(Organization.district), selectinload(Organization.field_rows),
        selectinload(Organization.ratings), selectinload(Organization.credit_records))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    return pagination, _entries(list(pagination.items), day)


def public_org(org_id) -> Organization | None:
    if as_id(org_id) is None:
        return None
    return db.session.scalar(
        select(Organization).where(Organization.id == org_id, Organization.status == Verification.VERIFIED)
        .options(selectinload(Organization.district), selectinload(Organization.street),
                 selectinload(Organization.host_org), selectinload(Organization.ratings),
                 selectinload(Organization.credit_records)))


def org_entry(org: Organization, *, day: date | None = None) -> DirectoryEntry:
    return _entries([org], day or today_local())[org.id]


def district_options():
    from incubator.regions.models import District

    return list(db.session.scalars(select(District).order_by(District.code)))


# ------------------------------------------------------------------ funded projects


@dataclass
class ProjectRow:
    project: Project
    final: PerformanceEvaluation | None


def _rows(projects: list[Project]) -> list[ProjectRow]:
    grades = final_grades(p.id for p in projects)
    return [ProjectRow(project=p, final=grades.get(p.id)) for p in projects]


def project_record(org: Organization) -> list[ProjectRow]:
    """Every project of ``org`` (any status), newest first, with its final grade: two queries."""
    projects = list(db.session.scalars(select(Project).where(Project.org_id == org.id)
                                       .order_by(Project.launched_at.desc(), Project.id.desc())))
    return _rows(projects)


def public_projects_of(org: Organization) -> list[ProjectRow]:
    """The organisation's funded projects the public sees, newest first, with their final grades."""
    projects = list(db.session.scalars(select(Project).where(Project.org_id == org.id,
                                                             Project.status.in_(PUBLIC_STATUSES))
                                       .order_by(Project.term_start.desc(), Project.id.desc())))
    return _rows(projects)


PUBLIC_STATUS_VALUES = {s.value for s in PUBLIC_STATUSES}


@dataclass
class ProjectFilters:
    q: str = ""
    year: int | None = None
    kind: ProjectKind | None = None
    district_id: int | None = None
    status: ProjectStatus | None = None

    @classmethod
    def from_args(cls, args) -> "ProjectFilters":
        year = as_id(args.get("year"))
        status = args.get("status")
        return cls(q=_clean_query(args.get("q")), year=year if year and 1949 <= year <= 2200 else None,
                   kind=ProjectKind.parse(args.get("kind")), district_id=as_id(args.get("district")),
                   status=ProjectStatus(status) if status in PUBLIC_STATUS_VALUES else None)

    @property
    def active(self) -> bool:
        return any([self.q, self.year, self.kind, self.district_id, self.status])


def _public_projects():
    return (select(Project).join(Organization, Organization.id == Project.org_id)
            .where(Project.status.in_(PUBLIC_STATUSES), Organization.status == Verification.VERIFIED))


def project_query(filters: ProjectFilters):
    stmt = _public_projects()
    if filters.q:
        pattern = like_pattern(filters.q)
        stmt = stmt.where(or_(Project.number.ilike(pattern, escape="\\"), Project.title.ilike(pattern, escape="\\"),
                              Organization.name.ilike(pattern, escape="\\")))
    if filters.year:
        stmt = stmt.where(Project.budget_year == filters.year)
    if filters.kind:
        stmt = stmt.where(Project.kind == filters.kind)
    if filters.district_id:
        stmt = stmt.where(Organization.district_id == filters.district_id)
    if filters.status:
        stmt = stmt.where(Project.status == filters.status)
    return stmt.order_by(Project.budget_year.desc(), Project.number.desc(), Project.id.desc())


def project_page(filters: ProjectFilters, page: int = 1, per_page: int = PER_PAGE):
    """(Pagination, {project_id: final evaluation}); five queries whatever the page holds."""
    stmt = project_query(filters).options(selectinload(Project.org).selectinload(Organization.district))
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    return pagination, final_grades(p.id for p in pagination.items)


def project_years() -> list[int]:
    stmt = _public_projects().with_only_columns(Project.budget_year).distinct()
    return sorted(db.session.scalars(stmt), reverse=True)


def public_project(project_id) -> Project | None:
    if as_id(project_id) is None:
        return None
    return db.session.scalar(
        _public_projects().where(Project.id == project_id)
        .options(selectinload(Project.org).selectinload(Organization.district), selectinload(Project.tranches)))


def published_contract(project: Project):
    """The newest published contract of the project (its summary is on contracts.public_detail), or None."""
    from incubator.projects.contracts import services as contracts

    return next((c for c in contracts.contracts_of(project) if c.is_published), None)

