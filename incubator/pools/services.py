"""Expert pool (专家库) services — see the interface in incubator/pools/models.py.

Who may do what (the pool is city-wide):
- staff of any scope and admins see the whole pool (list, detail, import template);
- they add experts (one by one or by import); district staff add experts of their own district only
  and edit only experts of their district; city staff and admins edit every expert;
- only city staff and admins change an expert's status (suspend / remove / reinstate);
- an expert sees only their own record (``pools.me``) and declares relations and unavailable dates
  for themselves; staff who may edit the expert do the same on the detail page; only staff delete a
  declared relation (an expert ends it with an end date instead, so no conflict silently disappears);
- applicants, finance and evaluators see nothing of the pool.

Services take model objects and keyword arguments, flush, never commit; failures raise
``PoolError`` subclasses carrying a Chinese message, an HTTP status and (optionally) a form field.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from incubator.accounts.models import Role, User
from incubator.accounts.normalize import normalize_email, normalize_mobile, single_line
from incubator.core import audit, states
from incubator.core.search import like_pattern
from incubator.extensions import db
from incubator.orgs.models import Organization, ServiceField
from incubator.pools.models import (
    Expert,
    ExpertField,
    ExpertRelation,
    ExpertStatus,
    ExpertUnavailability,
    RelationKind,
)
from incubator.review import conflicts

from incubator.core.ids import MAX_ID, as_id  # noqa: E402,F401
PER_PAGE = 20
MAX_REVIEWS_LIMIT = 100


# --- errors -------------------------------------------------------------------------------------


class PoolError(Exception):
    status = 409
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class DuplicateExpert(PoolError):
    status = 409


class InvalidValue(PoolError):
    status = 422


class NotPermitted(PoolError):
    status = 403


# --- permissions --------------------------------------------------------------------------------


def _is_staff_like(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in (Role.STAFF, Role.ADMIN)


def can_view_pool(user) -> bool:
    """The list, the detail pages and the import template: staff of any scope and admins."""
    return _is_staff_like(user)


def can_add(user) -> bool:
    return _is_staff_like(user)


def can_change_status(user) -> bool:
    """Suspend, remove, reinstate: city staff and admins only."""
    return _is_staff_like(user) and (user.role == Role.ADMIN or user.district_id is None)


def can_edit(expert: Expert, user) -> bool:
    """Profile, relations, unavailable dates: city staff and admins; district staff for their district."""
    if not _is_staff_like(user):
        return False
    if user.role == Role.ADMIN or user.district_id is None:
        return True
    return expert.district_id is not None and expert.district_id == user.district_id


def is_self(expert: Expert, user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.EXPERT and expert.user_id == user.id


def can_view(expert: Expert, user) -> bool:
    return can_view_pool(user) or is_self(expert, user)


def can_declare(expert: Expert, user) -> bool:
    """Declare relations (回避申报) and unavailable dates: the expert themselves or staff who edit them."""
    return is_self(expert, user) or can_edit(expert, user)


def can_delete_relation(expert: Expert, user) -> bool:
    return can_edit(expert, user)


def allowed_district(user) -> int | None:
    """The one district a district staff member may put experts in (None: any)."""
    if user.role == Role.STAFF and user.district_id is not None:
        return user.district_id
    return None


# --- reading ------------------------------------------------------------------------------------


def _loaded():
    return (selectinload(Expert.fields), selectinload(Expert.relations), selectinload(Expert.unavailable))


def active_experts() -> list[Expert]:
    """Experts in the pool (在库), with fields, relations and unavailable dates loaded; by id."""
    return list(
        db.session.scalars(
            db.select(Expert).options(*_loaded()).where(Expert.status == ExpertStatus.ACTIVE).order_by(Expert.id)
        )
    )


def expert_for_user(user) -> Expert | None:
    if not getattr(user, "is_authenticated", False) or getattr(user, "id", None) is None:
        return None
    return db.session.scalar(
        db.select(Expert).options(*_loaded(), joinedload(Expert.district), joinedload(Expert.employer_org))
        .where(Expert.user_id == user.id)
    )




def load_for_detail(expert_id: int) -> Expert | None:
    if not as_id(expert_id):
        return None
    return db.session.scalar(
        db.select(Expert)
        .options(*_loaded(), joinedload(Expert.district), joinedload(Expert.employer_org), joinedload(Expert.user),
                 selectinload(Expert.relations).joinedload(ExpertRelation.org))
        .where(Expert.id == expert_id)
    )


def conflict_profile(expert: Expert) -> dict:
    """Plain data for conflict detection: ``incubator.review.conflicts.Expert(**conflict_profile(e))``.

    Keys: id, employer_org_id, employer_uscc, email_domain, relations (a tuple of
    ``conflicts.Relation``; a relation naming both a registered organisation and a USCC gives one
    Relation for each key; a free-text relation without USCC cannot match and gives none).
    """
    relations: list[conflicts.Relation] = []
    for rel in expert.relations:
        for key in (rel.org_id, rel.org_uscc or None):
            if key is not None:
                relations.append(conflicts.Relation(org=key, kind=str(rel.kind.value), start=rel.start_on, end=rel.end_on))
    return {
        "id": expert.id,
        "employer_org_id": expert.employer_org_id,
        "employer_uscc": expert.employer_uscc or None,
        "email_domain": expert.email_domain or None,
        "relations": tuple(relations),
    }


def conflict_expert(expert: Expert) -> conflicts.Expert:
    return conflicts.Expert(**conflict_profile(expert))


# --- the list -----------------------------------------------------------------------------------

SORTS = {
    "new": ("最近加入", lambda: [Expert.created_at.desc(), Expert.id.desc()]),
    "name": ("姓名", lambda: [Expert.name.asc(), Expert.id.asc()]),
    "employer": ("工作单位", lambda: [Expert.employer.asc(), Expert.id.asc()]),
}


@dataclass
class ExpertFilters:
    """The list's filters, built from the query string (bad values are dropped)."""

    q: str = ""
    service_field: ServiceField | None = None
    status: ExpertStatus | None = None
    district_id: int | None = None
    title: str = ""
    sort: str = "new"

    @classmethod
    def from_args(cls, args) -> "ExpertFilters":
        return cls(
            q=single_line(args.get("q") or "")[:100],
            service_field=ServiceField.parse(args.get("field")),
            status=ExpertStatus.parse(args.get("status")),
            district_id=as_id(args.get("district")),
            title=single_line(args.get("title") or "")[:50],
            sort=args.get("sort") if args.get("sort") in SORTS else "new",
        )

    @property
    def active(self) -> bool:
        return any([self.q, self.service_field, self.status, self.district_id, self.title])


def expert_list_query(user, filters: ExpertFilters):
    query = db.select(Expert)
    if not can_view_pool(user):
        return query.where(False)
    if filters.q:
        pattern = like_pattern(filters.q)
        mobile = normalize_mobile(filters.q)
        clauses = [Expert.name.ilike(pattern, escape="\\"), Expert.employer.ilike(pattern, escape="\\")]
        if mobile.isdigit():
            clauses.append(Expert.mobile.like(like_pattern(mobile), escape="\\"))
        query = query.where(or_(*clauses))
    if filters.service_field:
        query = query.where(exists().where(ExpertField.expert_id == Expert.id, ExpertField.field == filters.service_field))
    if filters.status:
        query = query.where(Expert.status == filters.status)
    if filters.district_id:
        query = query.where(Expert.district_id == filters.district_id)
    if filters.title:
        query = query.where(Expert.title.ilike(like_pattern(filters.title), escape="\\"))
    return query.order_by(*SORTS[filters.sort][1]())


def expert_page(user, filters: ExpertFilters, page: int = 1, per_page: int = PER_PAGE):
    query = expert_list_query(user, filters).options(selectinload(Expert.fields), selectinload(Expert.district))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def status_counts(user) -> dict[str, int]:
    if not can_view_pool(user):
        return {}
    rows = db.session.execute(db.select(Expert.status, db.func.count(Expert.id)).group_by(Expert.status))
    return {str(status.value if hasattr(status, "value") else status): n for status, n in rows}


def title_options() -> list[str]:
    """The titles in use, for the filter (a handful of distinct values)."""
    return [t for t in db.session.scalars(db.select(Expert.title).where(Expert.title.is_not(None)).distinct().order_by(Expert.title)) if t]


def count_active() -> int:
    return db.session.scalar(db.select(db.func.count(Expert.id)).where(Expert.status == ExpertStatus.ACTIVE)) or 0


# --- organisations (employer matching and the relation picker) -----------------------------------


def org_by_uscc(code: str | None) -> Organization | None:
    """The registered organisation with this USCC (any verification state), if any."""
    if not code:
        return None
    from incubator.orgs import services as orgs_services

    return orgs_services.find_host(code.upper())  # a plain lookup by USCC


def search_orgs(q: str, limit: int = 10) -> list[Organization]:
    """Registry organisations whose name or USCC contains ``q`` (for declaring a relation)."""
    q = single_line(q)[:100]
    if len(q) < 2:
        return []
    pattern = like_pattern(q)
    return list(
        db.session.scalars(
            db.select(Organization)
            .where(or_(Organization.name.ilike(pattern, escape="\\"), Organization.uscc.like(like_pattern(q.upper()), escape="\\")))
            .order_by(Organization.name)
            .limit(limit)
        )
    )


def get_org(org_id: int | None) -> Organization | None:
    return db.session.get(Organization, org_id) if as_id(org_id) else None


# --- creating and editing -----------------------------------------------------------------------


@dataclass
class ExpertDetails:
    name: str
    mobile: str
    email: str
    employer: str
    title: str | None = None
    employer_uscc: str | None = None
    fields: list[ServiceField] = field(default_factory=list)
    district_id: int | None = None
    max_reviews_per_round: int = 10
    bio: str | None = None
    notes: str | None = None

    def normalised(self) -> "ExpertDetails":
        return ExpertDetails(
            name=single_line(self.name), mobile=normalize_mobile(self.mobile), email=normalize_email(self.email),
            employer=single_line(self.employer), title=single_line(self.title) or None,
            employer_uscc=(single_line(self.employer_uscc).upper() or None) if self.employer_uscc else None,
            fields=list(dict.fromkeys(self.fields)), district_id=self.district_id,
            max_reviews_per_round=self.max_reviews_per_round, bio=self.bio or None, notes=self.notes or None,
        )


def _snapshot(expert: Expert) -> dict:
    return {
        "name": expert.name, "mobile": expert.mobile, "email": expert.email, "title": expert.title,
        "employer": expert.employer, "employer_uscc": expert.employer_uscc, "employer_org_id": expert.employer_org_id,
        "district_id": expert.district_id, "max_reviews_per_round": expert.max_reviews_per_round,
        "fields": sorted(f.value for f in expert.field_values),
    }


def identity_problems(*, email: str, mobile: str, exclude: Expert | None = None) -> list[PoolError]:
    """Why this e-mail / mobile cannot be used for an expert (already in the pool, or another account's)."""
    problems: list[PoolError] = []
    for column, value, label, fname in ((Expert.email, email, "邮箱", "email"), (Expert.mobile, mobile, "手机号", "mobile")):
        stmt = db.select(Expert).where(column == value)
        if exclude is not None:
            stmt = stmt.where(Expert.id != exclude.id)
        other = db.session.scalar(stmt)
        if other is not None:
            problems.append(DuplicateExpert(f"该{label}已在专家库中（{other.name}）", field=fname))
    if problems:
        return problems
    user = _account_for(email=email, mobile=mobile, exclude=exclude)
    if isinstance(user, PoolError):
        problems.append(user)
    return problems


def _account_for(*, email: str, mobile: str, exclude: Expert | None = None) -> User | None | PoolError:
    """The login account to link: none yet (None), an unlinked expert account, or why it cannot be."""
    by_email = db.session.scalar(db.select(User).where(User.email == email))
    by_mobile = db.session.scalar(db.select(User).where(User.mobile == mobile)) if mobile else None
    own = exclude.user_id if exclude is not None else None
    if by_email is not None and by_email.id != own and by_email.role != Role.EXPERT:
        return DuplicateExpert(f"该邮箱已被其他账号使用（{by_email.role.label}），不能作为专家登录账号", field="email")
    if by_mobile is not None and by_mobile.id != own and by_mobile.role != Role.EXPERT:
        return DuplicateExpert(f"该手机号已被其他账号使用（{by_mobile.role.label}），不能作为专家登录账号", field="mobile")
    if by_email is not None and by_mobile is not None and by_email.id != by_mobile.id:
        return DuplicateExpert("该邮箱和手机号分属两个不同的账号，请核对", field="mobile")
    user = by_email or by_mobile
    if user is not None and user.id != own:
        linked = db.session.scalar(db.select(Expert.id).where(Expert.user_id == user.id))
        if linked is not None:
            return DuplicateExpert("该账号已关联其他专家", field="email")
    return user


def _check_details(d: ExpertDetails, *, by) -> None:
    if d.employer_uscc:
        from incubator.orgs import uscc as uscc_mod

        try:
            uscc_mod.validate(d.employer_uscc)
        except ValueError as exc:
            raise InvalidValue(str(exc), field="employer_uscc") from exc
    if not d.fields:
        raise InvalidValue("请至少选择一个专业领域", field="fields")
    if not 1 <= int(d.max_reviews_per_round) <= MAX_REVIEWS_LIMIT:
        raise InvalidValue(f"每轮最多评审数应为1至{MAX_REVIEWS_LIMIT}", field="max_reviews_per_round")
    own = allowed_district(by)
    if own is not None and d.district_id != own:
        raise NotPermitted("区级工作人员只能添加或修改本区的专家", field="district")


def _apply(expert: Expert, d: ExpertDetails) -> None:
    expert.name, expert.mobile, expert.email = d.name, d.mobile, d.email
    expert.title, expert.employer, expert.employer_uscc = d.title, d.employer, d.employer_uscc
    org = org_by_uscc(d.employer_uscc)
    expert.employer_org_id = org.id if org is not None else None
    expert.district_id = d.district_id
    expert.max_reviews_per_round = int(d.max_reviews_per_round)
    expert.bio, expert.notes = d.bio, d.notes
    wanted = set(d.fields)
    expert.fields = [row for row in expert.fields if row.field in wanted]
    have = {row.field for row in expert.fields}
    order = list(ServiceField)
    for f in sorted(wanted - have, key=order.index):
        expert.fields.append(ExpertField(field=f))


def _new_expert_user(d: ExpertDetails, *, by, base_url: str, password_hash: str | None = None) -> User:
    """Create the expert's login account and mail the set-password invitation (accounts' mechanism)."""
    from incubator.accounts import services as accounts

    if password_hash is None:
        return accounts.create_user(name=d.name, email=d.email, mobile=d.mobile, role=Role.EXPERT, actor=by,
                                    base_url=base_url, action="expert_account_created")
    # Bulk import: one unusable hash (of a random secret nobody keeps) for every new account,
    # instead of one slow hash per row; each account still sets its own password by its link.
    user = User(name=d.name, email=d.email, mobile=d.mobile, role=Role.EXPERT, active=True,
                password_hash=password_hash, session_version=0)
    db.session.add(user)
    db.session.flush()
    audit.record("expert_account_created", user, actor=by, after={"role": Role.EXPERT.value, "email": user.email})
    accounts.send_set_password_link(user, base_url=base_url, actor=by, record=False)
    return user


def create_expert(*, by, details: ExpertDetails, base_url: str, password_hash: str | None = None) -> Expert:
    """Add an expert to the pool (在库), creating or linking their login account (role expert).

    A new account gets a single-use set-password link by e-mail; an existing expert account that
    is not yet linked is linked and sent a fresh link.
    """
    if not can_add(by):
        raise NotPermitted("无权添加专家")
    d = details.normalised()
    _check_details(d, by=by)
    problems = identity_problems(email=d.email, mobile=d.mobile)
    if problems:
        raise problems[0]
    user = _account_for(email=d.email, mobile=d.mobile)
    if user is None:
        user = _new_expert_user(d, by=by, base_url=base_url, password_hash=password_hash)
    else:
        from incubator.accounts import services as accounts

        user.name = d.name
        if not user.mobile:
            user.mobile = d.mobile
        accounts.send_set_password_link(user, base_url=base_url, actor=by)
    expert = Expert(user_id=user.id, status=ExpertStatus.ACTIVE)
    _apply(expert, d)
    try:
        with db.session.begin_nested():
            db.session.add(expert)
            db.session.flush()
    except IntegrityError as exc:  # a parallel request added the same person first
        raise DuplicateExpert("该专家已在专家库中（手机号或邮箱重复）", field="mobile") from exc
    audit.record("expert.created", expert, actor=by, after=_snapshot(expert))
    db.session.flush()
    return expert


def update_expert(expert: Expert, *, by, details: ExpertDetails) -> bool:
    """Change the profile; the login account follows the name, e-mail and mobile. Audited."""
    if not can_edit(expert, by):
        raise NotPermitted("无权修改该专家")
    d = details.normalised()
    _check_details(d, by=by)
    problems = identity_problems(email=d.email, mobile=d.mobile, exclude=expert)
    if problems:
        raise problems[0]
    before = _snapshot(expert)
    _apply(expert, d)
    after = _snapshot(expert)
    user = expert.user
    if user is not None:
        if user.email != d.email or user.mobile != d.mobile:
            audit.record("email_changed" if user.email != d.email else "mobile_changed", user, actor=by,
                         before={"email": user.email, "mobile": user.mobile}, after={"email": d.email, "mobile": d.mobile})
        user.name, user.email, user.mobile = d.name, d.email, d.mobile
    if before == after:
        db.session.flush()
        return False
    changed = {k for k in after if before[k] != after[k]}
    audit.record("expert.updated", expert, actor=by, before={k: before[k] for k in changed},
                 after={k: after[k] for k in changed})
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise DuplicateExpert("手机号或邮箱已被其他专家或账号使用", field="mobile") from exc
    return True


def resend_invitation(expert: Expert, *, by, base_url: str) -> None:
    if not can_edit(expert, by):
        raise NotPermitted("无权操作该专家")
    from incubator.accounts import services as accounts

    if not expert.user.active:
        raise PoolError("该专家的登录账号已停用，请联系系统管理员")
    accounts.send_set_password_link(expert.user, base_url=base_url, actor=by)


# --- status -------------------------------------------------------------------------------------

STATUS_ACTIONS = {
    "suspend": ExpertStatus.SUSPENDED,
    "remove": ExpertStatus.REMOVED,
    "reinstate": ExpertStatus.ACTIVE,
}


def change_status(expert: Expert, *, by, to: ExpertStatus, reason: str) -> None:
    """Suspend (暂停), remove (出库) or reinstate (恢复在库) with a reason; history and audit rows."""
    if not can_change_status(by):
        raise NotPermitted("只有市级工作人员或系统管理员可以变更专家状态")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidValue("请填写原因", field="reason")
    states.transition(expert, to, by=by, note=reason)
    expert.status_reason = None if to == ExpertStatus.ACTIVE else reason
    db.session.flush()


# --- declared relations and unavailable dates ---------------------------------------------------


def add_relation(expert: Expert, *, by, kind: RelationKind, org_id: int | None = None, org_name: str | None = None,
                 org_uscc: str | None = None, start_on: date | None = None, end_on: date | None = None,
                 note: str | None = None) -> ExpertRelation:
    """Declare a tie with an organisation (回避申报): chosen from the registry, or by name (+ USCC)."""
    if not can_declare(expert, by):
        raise NotPermitted("无权为该专家申报回避关系")
    if start_on and end_on and end_on < start_on:
        raise InvalidValue("结束日期不能早于开始日期", field="end_on")
    org = get_org(org_id) if org_id else None
    if org_id and org is None:
        raise InvalidValue("所选组织不存在，请重新选择", field="org_id")
    code = (single_line(org_uscc).upper() or None) if org_uscc else None
    if code:
        from incubator.orgs import uscc as uscc_mod

        try:
            code = uscc_mod.validate(code)
        except ValueError as exc:
            raise InvalidValue(str(exc), field="org_uscc") from exc
    if org is None and code:
        org = org_by_uscc(code)
    if org is not None:
        name, code = org.name, org.uscc or code
    else:
        name = single_line(org_name)
        if not name:
            raise InvalidValue("请从名录中选择组织，或填写组织名称", field="org_name")
    rel = ExpertRelation(expert_id=expert.id, org_id=org.id if org is not None else None, org_uscc=code,
                         org_name=name[:100], kind=kind, start_on=start_on, end_on=end_on,
                         note=(note or "").strip()[:300] or None)
    expert.relations.append(rel)
    db.session.flush()
    audit.record("expert.relation_declared", expert, actor=by,
                 after={"relation_id": rel.id, "org": rel.org_name, "org_id": rel.org_id, "uscc": rel.org_uscc,
                        "kind": rel.kind.value, "start_on": start_on, "end_on": end_on})
    db.session.flush()
    return rel


def delete_relation(relation: ExpertRelation, *, by) -> None:
    expert = relation.expert
    if not can_delete_relation(expert, by):
        raise NotPermitted("只有工作人员可以删除已申报的关系；如关系已结束，请填写结束日期重新申报")
    audit.record("expert.relation_deleted", expert, actor=by,
                 before={"relation_id": relation.id, "org": relation.org_name, "uscc": relation.org_uscc,
                         "kind": relation.kind.value, "start_on": relation.start_on, "end_on": relation.end_on})
    expert.relations.remove(relation)
    db.session.flush()


def add_unavailability(expert: Expert, *, by, start_on: date, end_on: date, note: str | None = None,
                       today: date | None = None) -> ExpertUnavailability:
    if not can_declare(expert, by):
        raise NotPermitted("无权为该专家登记不可评审日期")
    if end_on < start_on:
        raise InvalidValue("结束日期不能早于开始日期", field="end_on")
    if today is not None and end_on < today:
        raise InvalidValue("该时段已经过去，无需登记", field="end_on")
    if (end_on - start_on).days > 366:
        raise InvalidValue("一次登记的时段不能超过一年；长期无法评审请联系工作人员暂停", field="end_on")
    row = ExpertUnavailability(start_on=start_on, end_on=end_on, note=(note or "").strip()[:200] or None)
    expert.unavailable.append(row)
    db.session.flush()
    audit.record("expert.unavailable_added", expert, actor=by,
                 after={"id": row.id, "start_on": start_on, "end_on": end_on, "note": row.note})
    return row


def delete_unavailability(row: ExpertUnavailability, *, by) -> None:
    expert = row.expert
    if not can_declare(expert, by):
        raise NotPermitted("无权修改该专家的不可评审日期")
    audit.record("expert.unavailable_deleted", expert, actor=by,
                 before={"id": row.id, "start_on": row.start_on, "end_on": row.end_on})
    expert.unavailable.remove(row)
    db.session.flush()


# --- import -------------------------------------------------------------------------------------


def import_experts(file_storage, *, by, base_url: str) -> list[Expert]:
    """Store the upload (xlsx only), check every row, and add every expert — or none.

    Raises ``incubator.core.files.UploadRejected`` for a refused file and
    ``incubator.pools.importer.ImportRejected`` (with every bad row) when any row is bad; the
    caller rolls back either way, so nothing is half-imported.
    """
    from incubator.accounts.passwords import hash_password
    from incubator.core.files import read_bytes, save_upload
    from incubator.pools import importer
    from incubator.regions import services as regions

    if not can_add(by):
        raise NotPermitted("无权导入专家")
    sf = save_upload(file_storage, allowed={"xlsx"}, by=by)
    districts = {d.name: d.id for d in regions.districts()}
    rows = importer.read_rows(read_bytes(sf), districts=districts, own_district=allowed_district(by),
                              own_district_name=by.district.name if allowed_district(by) else None)
    shared_hash = hash_password(secrets.token_urlsafe(32))
    experts = [create_expert(by=by, details=row.details, base_url=base_url, password_hash=shared_hash) for row in rows]
    audit.record("expert.imported", sf, actor=by, after={"count": len(experts), "file": sf.original_name})
    db.session.flush()
    return experts
